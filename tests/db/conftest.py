"""Fixtures for the data layer: a fresh Store on a temporary file, and helpers to build rows."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from db.models import NewMention
from db.schema import APPLICATION_ID, MIGRATIONS, statements
from db.store import Store

NOW = 1_767_225_600
SLA = 3600


def nm(remote_id: str, **kw: Any) -> NewMention:
    """A NewMention with defaults, so each test states only what it is about."""
    fields: dict[str, Any] = {
        "channel": "x",
        "author_handle": "@jean",
        "author_name": "Jean Dupont",
        "text": f"message {remote_id}",
        "created_at": NOW,
    }
    fields.update(kw)
    return NewMention(remote_id=remote_id, **fields)


def raw(path: Path) -> sqlite3.Connection:
    """A second, plain connection to the file (another process, as far as SQLite knows)."""
    return sqlite3.connect(path, isolation_level=None)


def build_at_version(path: Path, version: int) -> None:
    """A database as an older Comptoir left it: migrations up to `version` only."""
    conn = raw(path)
    for step in MIGRATIONS:
        if step.version > version:
            break
        for stmt in statements(step.sql):
            conn.execute(stmt)
        conn.execute(f"PRAGMA user_version = {step.version}")
    if version:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    conn.close()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "comptoir.db"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(db_path)
    yield s
    await s.close()
