"""Fixtures shared by the command-line tests."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from console import crash, secrets
from console.logging_setup import PrivateRotatingFileHandler, forget_secrets


@pytest.fixture
def cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private COMPTOIR_HOME, no token variables, and everything `main()` installs process-wide
    (keyring backend, crash hooks, log handlers, secrets to redact) put back afterwards."""
    folder = tmp_path / "home"
    monkeypatch.setenv("COMPTOIR_HOME", str(folder))
    for name in [n for n in os.environ if n.startswith(secrets.ENV_PREFIX)]:
        monkeypatch.delenv(name)
    before = keyring.get_keyring()
    root = logging.getLogger()
    level = root.level
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    monkeypatch.setattr(crash, "_log_dir", None)
    yield folder
    keyring.set_keyring(before)
    for handler in [h for h in root.handlers if isinstance(h, PrivateRotatingFileHandler)]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)
    forget_secrets()
