"""Fixtures for the sync engine: a fresh Store, a frozen clock, helpers to build rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from console.clock import FrozenClock
from db.models import NewMention
from db.store import Store

NOW = 1_767_225_600  # 2026-01-01 00:00:00 UTC
SLA = 3600


def nm(remote_id: str, **kw: Any) -> NewMention:
    fields: dict[str, Any] = {
        "channel": "mastodon",
        "author_handle": "@jean@example.social",
        "author_name": "Jean Dupont",
        "text": f"message {remote_id}",
        "created_at": NOW,
    }
    fields.update(kw)
    return NewMention(remote_id=remote_id, **fields)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "comptoir.db"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(db_path)
    yield s
    await s.close()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)
