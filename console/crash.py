"""Crash reports that never print local variables and never leak secrets.

Textual's default crash screen is a Rich traceback with `show_locals=True`: tokens, passwords and
customer e-mails sitting in local variables would be printed to the terminal (and pasted into bug
reports). Ours writes the standard-library traceback (which has no locals) through the redacting
log handler, and prints one short line naming the log file.

Wiring: `install_crash_handler(log_dir)` at start-up (sys.excepthook, threading.excepthook);
`CrashReportingMixin` before `App` in the app's bases (replaces Textual's `_fatal_error`);
`asyncio_exception_handler` for a bare event loop; `report_crash(exc) -> str` anywhere else.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from console.logging_setup import log_file, redact, setup_logging

LOGGER: Final = logging.getLogger("comptoir.crash")
MESSAGE_CHARS: Final = 160

_log_dir: Path | None = None


def install_crash_handler(log_dir: Path) -> Path:
    """Log crashes to `<log_dir>/comptoir.log` (setting logging up if nobody did) and print a
    short message instead of Python's traceback; returns the log file's path."""
    global _log_dir
    _log_dir = log_dir
    path = log_file() or setup_logging(log_dir)
    sys.excepthook = _excepthook
    threading.excepthook = _thread_excepthook
    return path


def _one_line(text: str) -> str:
    """Printable on a terminal: no control characters (escape sequences), one line, short."""
    flat = "".join(ch if ch.isprintable() else " " for ch in text)
    flat = " ".join(flat.split())
    return flat if len(flat) <= MESSAGE_CHARS else flat[: MESSAGE_CHARS - 1] + "…"


def _ensure_log() -> Path | None:
    path = log_file()
    if path is not None:
        return path
    try:
        if _log_dir is not None:
            return setup_logging(_log_dir)
        from console.paths import log_dir

        return setup_logging(log_dir(create=True))
    except OSError:
        return None


def crash_text(exc: BaseException) -> str:
    """The traceback as the log gets it: standard library format (no locals), chained causes
    included, secrets masked."""
    return redact("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))


def report_crash(exc: BaseException) -> str:
    """Log `exc` with its traceback (no locals, secrets masked); return the short message for
    the user, naming the log file."""
    path = _ensure_log()
    summary = _one_line(redact(f"{type(exc).__name__}: {exc}" if str(exc)
                               else type(exc).__name__))
    if path is not None:
        LOGGER.error("unhandled exception: %s", summary,
                     exc_info=(type(exc), exc, exc.__traceback__))
        for handler in logging.getLogger().handlers:
            handler.flush()
        if path.exists():
            return f"comptoir: unexpected error ({summary}). Details are in {path}"
    # No log file could be written: the (redacted, local-free) traceback goes to stderr.
    print(crash_text(exc), file=sys.stderr)
    return f"comptoir: unexpected error ({summary}); no log file could be written"


def _excepthook(kind: type[BaseException], exc: BaseException,
                tb: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        print("", file=sys.stderr)
        return
    if exc.__traceback__ is None and tb is not None:
        exc = exc.with_traceback(tb)
    print(report_crash(exc), file=sys.stderr)


def _thread_excepthook(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None or issubclass(args.exc_type, SystemExit):
        return
    print(report_crash(args.exc_value), file=sys.stderr)


def asyncio_exception_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """For `loop.set_exception_handler`: errors nobody awaited get logged our way (the default
    handler logs `repr` of the task and future, which may hold arguments)."""
    exc = context.get("exception")
    if isinstance(exc, BaseException):
        print(report_crash(exc), file=sys.stderr)
    else:
        LOGGER.error("asyncio: %s", _one_line(str(context.get("message", "error"))))


class CrashReportingMixin:
    """Put before `App` in the bases: an unhandled exception in the app is logged by
    `report_crash` and the app exits showing only the short message (Textual would print a
    Rich traceback with local variables)."""

    def _fatal_error(self) -> None:
        from rich.text import Text

        error = sys.exc_info()[1] or getattr(self, "_exception", None)
        message = report_crash(error) if error is not None else "comptoir: unexpected error"
        self.bell()  # type: ignore[attr-defined]
        self.panic(Text(message))  # type: ignore[attr-defined]  # Text: never read as markup
