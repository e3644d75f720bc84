"""`comptoir account add` with a keyring that hangs when the token is stored: the command gives up
after the timeout with a one-line error that says why and how to proceed (before the fix it ended
in "unexpected error" through the crash handler), adds no account, and the next command fails at
once instead of stacking up another stuck call."""

from __future__ import annotations

import functools
import io
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from console import accounts_cli, secrets
from console.cli import main
from tests.sync.fakes import HangingKeyring

TIMEOUT = 0.5
TOKEN = "tok-never-asked-4242"


@pytest.fixture
def hanging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HangingKeyring]:
    monkeypatch.setenv("COMPTOIR_HOME", str(tmp_path / "home"))
    monkeypatch.delenv(secrets.env_var("mastodon"), raising=False)
    previous = keyring.get_keyring()
    backend = HangingKeyring()
    keyring.set_keyring(backend)
    # The commands use the 5 s default; a shorter one keeps the test quick.
    monkeypatch.setattr(accounts_cli, "backend_name",
                        functools.partial(secrets.backend_name, timeout=TIMEOUT))
    monkeypatch.setattr(accounts_cli, "set_token",
                        functools.partial(secrets.set_token, timeout=TIMEOUT))
    try:
        yield backend
    finally:
        backend.release.set()
        for thread in secrets._stuck:
            thread.join(timeout=5)
        secrets._stuck.clear()
        keyring.set_keyring(previous)


def test_account_add_gives_up_says_why_and_stores_nothing(
    tmp_path: Path, hanging: HangingKeyring, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = tmp_path / "q.db"
    monkeypatch.setattr(sys, "stdin", io.StringIO(TOKEN + "\n"))
    started = time.monotonic()
    code = main(["account", "add", "mastodon", "--handle", "@c@piaille.fr",
                 "--instance", "https://piaille.fr", "--db", str(db)])
    elapsed = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == 2 and hanging.entered.is_set()
    assert elapsed < TIMEOUT + 2  # it gave up; it did not wait for the keyring
    assert err.startswith("comptoir: error: Cannot use the system keyring: the keyring did not "
                          f"answer within {TIMEOUT:g} s when asked to store a token")
    assert err.count("\n") == 1 and "unexpected error" not in err
    assert "COMPTOIR_TOKEN_MASTODON" in err and TOKEN not in err
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT count(*) FROM accounts").fetchone() == (0,)
    finally:
        conn.close()

    # While the first call is still stuck, the next one fails at once, before asking for a token.
    monkeypatch.setattr(sys, "stdin", io.StringIO(TOKEN + "\n"))
    started = time.monotonic()
    assert main(["account", "add", "mastodon", "--handle", "@c@piaille.fr",
                 "--instance", "https://piaille.fr", "--db", str(db)]) == 2
    assert time.monotonic() - started < TIMEOUT
    err = capsys.readouterr().err
    assert "has still not returned" in err and err.count("\n") == 1
    assert sys.stdin.read() == TOKEN + "\n"
