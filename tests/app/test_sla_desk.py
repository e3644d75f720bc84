"""SLA policies on the desk: the queue's countdown on business hours, the detail pane's SLA
section, breaches recorded by the tick, and the demo's outcomes (Pilot, frozen clock)."""

from __future__ import annotations

import sqlite3
import tomllib
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from textual.pilot import Pilot

from console.app import ComptoirApp
from console.cli import load_demo
from console.clock import FrozenClock
from console.config import AgentConfig, Config, SlaConfig
from console.sla_config import parse_sla_section
from console.sla_planner import install_planner
from db.models import NewMention
from db.store import Store
from widgets.queue_list import QueueList
from widgets.sla_section import SlaSection

from .conftest import NOW

PARIS = ZoneInfo("Europe/Paris")
BUSINESS = """
[sla]
default = "business"
[sla.calendars.paris]
timezone = "Europe/Paris"
hours = { mon-fri = ["09:00-18:00"] }
[[sla.policies]]
name = "business"
calendar = "paris"
first_reply_minutes = 60
"""


def paris(year: int, month: int, day: int, hour: int, minute: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=PARIS).timestamp())


FRIDAY_1730 = paris(2026, 11, 27, 17, 30)


@pytest.fixture
def business_config() -> Config:
    rules = parse_sla_section(tomllib.loads(BUSINESS)["sla"])
    return Config(agent=AgentConfig.from_name("Camille Martin", id="camille"),
                  sla=SlaConfig(rules=rules))


@pytest.fixture
async def business_store(tmp_path: Path, business_config: Config) -> AsyncIterator[Store]:
    store = await Store.open(tmp_path / "business.db")
    install_planner(store, business_config.sla.rules)
    await store.ingest(
        [NewMention("x", "1", "@jean", "Jean Dupont", "Ma box ne marche plus",
                    created_at=FRIDAY_1730)],
        now=FRIDAY_1730,
    )
    try:
        yield store
    finally:
        await store.close()


async def settle(pilot: Pilot[None]) -> None:
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def queue_line(app: ComptoirApp) -> str:
    queue = app.screen.query_one(QueueList)
    return "".join(segment.text for segment in queue.render_line(1))  # line 0 is the heading


async def test_friday_evening_countdown_runs_to_monday_morning(
    business_store: Store, business_config: Config
) -> None:
    clock = FrozenClock(paris(2026, 11, 27, 17, 50))
    app = ComptoirApp(business_store, business_config, clock=clock, heartbeat=None)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        # Due Monday 09:30 (10 business minutes left on Friday, 30 on Monday): the badge shows
        # the wall-clock time to that instant, 2 days 15 h 40 min.
        assert "63:40" in queue_line(app)
        section = app.screen.query_one(SlaSection)
        text = section.render().plain
        assert "business" in text and "63:40 left" in text and "Mon 30 Nov" in text
        # Monday 09:31: one minute late; the tick records the breach without any reply.
        clock.set(paris(2026, 11, 30, 9, 31))
        await app.screen.tick()  # type: ignore[attr-defined]
        await settle(pilot)
        assert "-00:01" in queue_line(app)
        assert "breached" in section.render().plain
        conn = sqlite3.connect(business_store.path)
        try:
            breached = conn.execute(
                "SELECT breached_at FROM sla_outcomes WHERE target = 'first_reply'"
            ).fetchone()[0]
        finally:
            conn.close()
        assert breached == paris(2026, 11, 30, 9, 30)


async def test_snoozed_mention_shows_its_clock_paused(business_store: Store) -> None:
    from db.models import Status

    now = paris(2026, 11, 27, 17, 40)
    await business_store.set_status(1, Status.SNOOZED, actor="camille", now=now,
                                    snooze_until=now + 3 * 86400)
    outcomes = await business_store.sla_outcomes(1)
    text = SlaSection.content_for(outcomes, now + 60, 900).plain
    assert "first reply" in text and "paused since Fri 27 Nov" in text


async def test_demo_records_outcomes_consistent_with_its_replies(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "demo.db")
    try:
        install_planner(store, SlaConfig().rules)
        await load_demo(store, seed=7, now=NOW, first_reply_sla=3600)
    finally:
        await store.close()
    conn = sqlite3.connect(tmp_path / "demo.db")
    try:
        assert conn.execute("SELECT count(*) FROM mentions WHERE sla_policy IS NULL").fetchone() \
            == (0,)
        rows = conn.execute(
            "SELECT m.replied_at, m.status, o.due_at, o.completed_at, o.breached_at "
            "FROM mentions m JOIN sla_outcomes o ON o.mention_id = m.id "
            "WHERE o.target IN ('first_reply', 'next_reply')"
        ).fetchall()
        policies = {r[0] for r in conn.execute("SELECT DISTINCT policy FROM sla_outcomes")}
    finally:
        conn.close()
    assert policies == {"one-hour"}
    replied = [r for r in rows if r[0] is not None]
    waiting = [r for r in rows if r[0] is None and r[1] in ("new", "open")]
    assert replied and waiting
    for replied_at, _status, due, completed, breached in replied:
        assert completed == replied_at
        assert breached == (due if replied_at > due else None)
    # Still waiting: breached exactly when already past due at load time (the demo's red rows).
    assert any(r[4] is not None for r in waiting) and any(r[4] is None for r in waiting)
    for _replied, _status, due, _completed, breached in waiting:
        assert breached == (due if due < NOW else None)
