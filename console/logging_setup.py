"""Log files: rotating, private to the user, and redacted.

`setup_logging(log_dir)` sends the root logger to `<log_dir>/comptoir.log` (rotated at
`max_bytes`, `backups` old files kept, created with mode 0600). Every record that reaches the file
goes through `RedactingFilter`, which masks:
- bearer tokens (`Bearer abc...`) and `Authorization:` header values;
- `access_token=...`, `refresh_token`, `client_secret`, `password`, `app_password`, `api_key`,
  `token`, `secret` as `key=value`, `key: value` or JSON `"key": "value"`;
- app passwords shaped `xxxx-xxxx-xxxx-xxxx` (Bluesky) and JWTs (`eyJ...`);
- every value given to `register_secret` (tokens read from the keyring, typed passwords),
  also in its `repr` and URL-encoded spellings.
The filter renders the message with its arguments and the traceback text before masking, and the
formatter masks the final line again, so nothing reaches the file unmasked.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import threading
from pathlib import Path
from typing import Final
from urllib.parse import quote, quote_plus

LOG_FILENAME: Final = "comptoir.log"
MASK: Final = "[redacted]"
MIN_SECRET_LENGTH: Final = 4  # shorter values would mask ordinary words
FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_KEYS = (
    r"access_token|refresh_token|id_token|client_secret|app_password|password|passwd|api_key|"
    r"apikey|token|secret"
)
_PATTERNS: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    (re.compile(r"(?i)\b(bearer)(\s+)[A-Za-z0-9._~+/=-]+"), rf"\1\2{MASK}"),
    (re.compile(r"(?im)\b(authorization)(\s*[:=][ \t]*)(?![ \t]|bearer\b)[^\r\n]+"),
     rf"\1\2{MASK}"),
    (
        re.compile(rf"(?i)([\"']?\b(?:{_KEYS})\b[\"']?)(\s*[:=]\s*)([\"']?)[^\s&\"',;}}]+"),
        rf"\1\2\3{MASK}",
    ),
    (re.compile(r"(?<![A-Za-z0-9-])[A-Za-z0-9]{4}(?:-[A-Za-z0-9]{4}){3}(?![A-Za-z0-9-])"), MASK),
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"), MASK),
)

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Mask `value` wherever it would be logged or shown in a crash report from now on."""
    if not value or len(value) < MIN_SECRET_LENGTH:
        return
    spellings = {value, repr(value)[1:-1], quote(value, safe=""), quote_plus(value)}
    with _secrets_lock:
        _secrets.update(s for s in spellings if len(s) >= MIN_SECRET_LENGTH)


def forget_secrets() -> None:
    """Drop every registered secret (tests; or after signing out of every account)."""
    with _secrets_lock:
        _secrets.clear()


def redact(text: str) -> str:
    """`text` with every known secret and token-shaped string masked."""
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)  # longest first: no partial leftovers
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Renders a record's message (and traceback) and masks secrets in place. Attach it to a
    handler, so it sees records from every logger that reaches that handler."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            # Stdlib tracebacks never include local variables; Rich/Textual ones do, which is
            # why nothing here uses them.
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class RedactingFormatter(logging.Formatter):
    """Masks the final text too (a handler without the filter, or a format adding fields)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A RotatingFileHandler whose files are created readable by their owner only."""

    def _open(self):  # type: ignore[no-untyped-def]
        # The folder too is made on the first record: `comptoir --help` leaves nothing behind.
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return os.fdopen(fd, self.mode, encoding=self.encoding, errors=self.errors)


def setup_logging(
    log_dir: Path, *, level: int = logging.INFO, max_bytes: int = 1_000_000, backups: int = 5,
    logger: logging.Logger | None = None,
) -> Path:
    """Log to `<log_dir>/comptoir.log` (rotating, redacted); returns the file's path. Calling it
    again replaces the handler it installed before (never two handlers on one file). Nothing is
    created on disk until the first record is written."""
    path = Path(log_dir).expanduser().absolute() / LOG_FILENAME
    target = logger if logger is not None else logging.getLogger()
    for old in [h for h in target.handlers if isinstance(h, PrivateRotatingFileHandler)]:
        target.removeHandler(old)
        old.close()
    handler = PrivateRotatingFileHandler(
        path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8", delay=True
    )
    handler.addFilter(RedactingFilter())
    handler.setFormatter(RedactingFormatter(FORMAT))
    target.addHandler(handler)
    target.setLevel(level)
    return path


def log_file(logger: logging.Logger | None = None) -> Path | None:
    """The file `setup_logging` installed on `logger` (default root), if any."""
    target = logger if logger is not None else logging.getLogger()
    for handler in target.handlers:
        if isinstance(handler, PrivateRotatingFileHandler):
            return Path(handler.baseFilename)
    return None
