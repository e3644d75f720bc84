"""Crash reports and log files: no local variables, no secrets, rotation."""

from __future__ import annotations

import logging
import stat
import sys
import threading
import uuid
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from textual.app import App

from console.crash import (
    CrashReportingMixin,
    asyncio_exception_handler,
    install_crash_handler,
    report_crash,
)
from console.logging_setup import (
    LOG_FILENAME,
    MASK,
    PrivateRotatingFileHandler,
    redact,
    register_secret,
    setup_logging,
)

pytestmark = pytest.mark.usefixtures("restored_hooks")


def secret() -> str:
    return "s3cr3t" + uuid.uuid4().hex


def fail_with_secret_local(token: str, message: str = "the server said no") -> None:
    # Local variables of the failing frame: Rich (and so Textual) tracebacks would show them.
    api_password = token  # noqa: F841
    customer_email = f"jean+{token}@example.com"  # noqa: F841
    raise ValueError(message)


def caught(fn: object, *args: str) -> BaseException:
    try:
        fn(*args)  # type: ignore[operator]
    except BaseException as e:
        return e
    raise AssertionError("no exception")


def test_report_crash_logs_the_traceback_without_locals(tmp_path: Path) -> None:
    local_only = secret()
    registered = secret()
    register_secret(registered)
    path = install_crash_handler(tmp_path / "logs")
    exc = caught(fail_with_secret_local, local_only, f"bad token {registered}")

    message = report_crash(exc)

    assert message.startswith("comptoir: unexpected error (ValueError: bad token")
    assert str(path) in message and "\n" not in message
    logged = path.read_text()
    assert "Traceback (most recent call last)" in logged
    assert "fail_with_secret_local" in logged and 'raise ValueError' in logged
    for text in (message, logged):
        assert local_only not in text and registered not in text
    assert f"bad token {MASK}" in logged


def test_excepthook_prints_one_short_line(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    local_only = secret()
    registered = secret()
    register_secret(registered)
    path = install_crash_handler(tmp_path / "logs")
    assert sys.excepthook is not sys.__excepthook__
    # Outside text with a terminal escape sequence and a newline in the message.
    exc = caught(fail_with_secret_local, local_only, f"\x1b]52;c;evil\x07\n{registered}")

    sys.excepthook(type(exc), exc, exc.__traceback__)

    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err
    assert "\x1b" not in err and "\x07" not in err
    assert local_only not in err and registered not in err
    assert local_only not in path.read_text() and registered not in path.read_text()


def test_thread_and_asyncio_errors_are_reported(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    local_only = secret()
    path = install_crash_handler(tmp_path / "logs")
    thread = threading.Thread(target=fail_with_secret_local, args=(local_only,))
    thread.start()
    thread.join()
    exc = caught(fail_with_secret_local, local_only)
    asyncio_exception_handler(None, {"message": "Task exception was never retrieved",  # type: ignore[arg-type]
                                     "exception": exc})
    asyncio_exception_handler(None, {"message": f"plain\x1b[2J {local_only[:3]}"})  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert err.count("Details are in") == 2 and local_only not in err
    logged = path.read_text()
    assert logged.count("Traceback (most recent call last)") == 2
    assert local_only not in logged and "\x1b" not in logged


class Exploding(CrashReportingMixin, App[None]):
    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def on_mount(self) -> None:
        bearer_token = self.token  # noqa: F841  (a local: Textual's traceback would print it)
        raise RuntimeError("mount failed")


async def test_textual_crash_screen_shows_no_locals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local_only = secret()
    path = install_crash_handler(tmp_path / "logs")
    app = Exploding(local_only)
    with pytest.raises(RuntimeError):
        async with app.run_test():
            pass
    app._print_error_renderables()  # what Textual prints to the terminal on exit
    err = capsys.readouterr()
    shown = err.out + err.err
    assert local_only not in shown and "bearer_token" not in shown
    logged = path.read_text()
    assert "RuntimeError: mount failed" in logged and local_only not in logged


def test_redaction_patterns() -> None:
    cases = {
        "Authorization: Bearer abc.DEF-123_x": "Authorization: Bearer [redacted]",
        "GET /api?access_token=AbC123&x=1": "GET /api?access_token=[redacted]&x=1",
        '{"password": "hunter22", "user": "al"}': '{"password": "[redacted]", "user": "al"}',
        "app password abcd-efgh-ijkl-mnop used": "app password [redacted] used",
        "refresh_token: r-123": "refresh_token: [redacted]",
        "jwt eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl end": "jwt [redacted] end",
        "Authorization: Basic dXNlcjpwYXNz": "Authorization: [redacted]",
    }
    for raw, masked in cases.items():
        assert redact(raw) == masked
    # Not token-shaped: left alone.
    for fine in ("order 1234-5678 late", "550e8400-e29b-41d4-a716-446655440000",
                 "reply in 10 minutes"):
        assert redact(fine) == fine


def test_registered_secrets_in_every_spelling() -> None:
    value = "p@ss w'rd\\" + uuid.uuid4().hex[:6]
    register_secret(value)
    register_secret("abc")  # too short to mask safely: ignored
    for spelling in (value, repr(value)[1:-1], quote(value, safe=""), quote_plus(value)):
        assert redact(f"url?x={spelling}&y=1") == f"url?x={MASK}&y=1"
    assert redact(f"x {value} y") == f"x {MASK} y"
    assert redact(repr(value)) == f"{repr(value)[0]}{MASK}{repr(value)[-1]}"
    assert "abc" in redact("abc")


def test_log_records_are_redacted_and_rotate(tmp_path: Path) -> None:
    token = secret()
    register_secret(token)
    path = setup_logging(tmp_path / "logs", max_bytes=2_000, backups=2)
    assert path == tmp_path / "logs" / LOG_FILENAME
    assert not path.parent.exists()  # folder and file are made by the first record
    log = logging.getLogger("comptoir.sync")
    log.info("signed in with %s", token)
    try:
        raise ConnectionError(f"401 for token={token}")
    except ConnectionError:
        log.exception("sync failed")
    for n in range(200):
        log.warning("retrying request %d with access_token=%s", n, token)
    files = sorted(p.name for p in path.parent.iterdir())
    assert files == [LOG_FILENAME, f"{LOG_FILENAME}.1", f"{LOG_FILENAME}.2"]
    for p in path.parent.iterdir():
        assert p.stat().st_size <= 2_100
        assert token not in p.read_text()
        if sys.platform != "win32":
            assert stat.S_IMODE(p.stat().st_mode) == 0o600
    # Set up twice: still one handler, one file.
    setup_logging(tmp_path / "logs", max_bytes=2_000, backups=2)
    ours = [h for h in logging.getLogger().handlers if isinstance(h, PrivateRotatingFileHandler)]
    assert len(ours) == 1
