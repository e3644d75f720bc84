"""A Comptoir app on a small deterministic demo database, with a frozen clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from console.app import ComptoirApp
from console.cli import load_demo
from console.clock import FrozenClock
from console.config import AgentConfig, Config
from db.store import Store

# 2026-11-26 09:00:00 UTC: a fixed "now" so rows, countdowns and snapshots never move.
NOW = 1_795_683_600
SLA = 3600


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def config() -> Config:
    return Config(agent=AgentConfig.from_name("Camille Martin", id="camille"))


@pytest.fixture
async def demo_store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await Store.open(tmp_path / "demo.db")
    await load_demo(store, seed=7, now=NOW, first_reply_sla=SLA)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def app(demo_store: Store, config: Config, clock: FrozenClock) -> ComptoirApp:
    return ComptoirApp(demo_store, config, clock=clock, heartbeat=None)
