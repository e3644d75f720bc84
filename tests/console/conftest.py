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
def restored_hooks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """What `main()` installs process-wide (crash hooks, log handlers and level, secrets to
    redact) is undone, even when a crash escapes main and keeps the hooks."""
    root = logging.getLogger()
    level = root.level
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    monkeypatch.setattr(crash, "_log_dir", None)
    yield
    for handler in [h for h in root.handlers if isinstance(h, PrivateRotatingFileHandler)]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)
    forget_secrets()


@pytest.fixture
def cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
             restored_hooks: None) -> Iterator[Path]:
    """A private COMPTOIR_HOME, no token variables, the keyring backend put back, and the
    process-wide hooks restored (restored_hooks)."""
    folder = tmp_path / "home"
    monkeypatch.setenv("COMPTOIR_HOME", str(folder))
    for name in [n for n in os.environ if n.startswith(secrets.ENV_PREFIX)]:
        monkeypatch.delenv(name)
    before = keyring.get_keyring()
    yield folder
    keyring.set_keyring(before)
