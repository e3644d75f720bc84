"""SLA policies end to end through the Store: the policy config.toml picks, business-hours deadlines
(weekend, holiday, both DST changes in Europe/Paris), pauses, and the outcomes kept for reports.

Every instant is given: the store is driven with explicit `now` values, as the console's
FrozenClock does; nothing sleeps.
"""

from __future__ import annotations

import sqlite3
import tomllib
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from console.sla_config import parse_sla_section
from console.sla_planner import ConfigPlanner, install_planner
from db.models import NO_DUE, NewCustomer, NewIdentity, NewMention, QueueFilter, Status
from db.sla import SlaOutcome
from db.store import Store

PARIS = ZoneInfo("Europe/Paris")

SLA_TOML = """
[sla]
default = "business"
warn_minutes = 10

[sla.calendars.paris]
timezone = "Europe/Paris"
hours = { mon-fri = ["09:00-18:00"] }
holidays = [2026-12-25]

[sla.calendars.night]
timezone = "Europe/Paris"
hours = { sun = ["01:00-04:00"] }

[[sla.policies]]
name = "business"
calendar = "paris"
first_reply_minutes = 60
next_reply_minutes = 30
resolution_minutes = 480

[[sla.policies]]
name = "round-the-clock"
first_reply_minutes = 120

[[sla.policies]]
name = "night"
calendar = "night"
first_reply_minutes = 210

[[sla.rules]]
policy = "thirty-minutes"
customer_tag = "vip"

[[sla.rules]]
policy = "round-the-clock"
channel = "bluesky"

[[sla.rules]]
policy = "night"
tag = "night"
"""


def paris(year: int, month: int, day: int, hour: int, minute: int = 0) -> int:
    """Epoch seconds of a Paris wall-clock time (first occurrence when repeated)."""
    return int(datetime(year, month, day, hour, minute, tzinfo=PARIS).timestamp())


# Friday 27 November 2026, 17:30 in Paris: half an hour before the weekend closes the desk.
FRIDAY_1730 = paris(2026, 11, 27, 17, 30)


def mention(remote_id: str, created_at: int, **kw: object) -> NewMention:
    fields: dict[str, object] = {
        "channel": "x", "author_handle": "@jean", "author_name": "Jean Dupont",
        "text": f"message {remote_id}",
    }
    fields.update(kw)
    return NewMention(remote_id=remote_id, created_at=created_at, **fields)  # type: ignore[arg-type]


def rules_from_toml(text: str = SLA_TOML):  # type: ignore[no-untyped-def]
    return parse_sla_section(tomllib.loads(text)["sla"])


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "sla.db")
    install_planner(s, rules_from_toml())
    yield s
    await s.close()


async def ingest_one(store: Store, created_at: int, remote_id: str = "1", **kw: object) -> int:
    [mid] = await store.ingest([mention(remote_id, created_at, **kw)], now=created_at)
    return mid


async def outcomes(store: Store, mid: int) -> dict[str, SlaOutcome]:
    return {o.target: o for o in await store.sla_outcomes(mid)}


def policy_of(store: Store, mid: int) -> str | None:
    conn = sqlite3.connect(store.path)
    try:
        return conn.execute("SELECT sla_policy FROM mentions WHERE id = ?", (mid,)).fetchone()[0]
    finally:
        conn.close()


# --- deadlines on business hours -----------------------------------------------------------------


async def test_friday_evening_mention_is_due_monday_morning(store: Store) -> None:
    mid = await ingest_one(store, FRIDAY_1730)
    m = await store.mention(mid)
    assert m is not None
    # 30 minutes on Friday, the weekend closed, 30 minutes on Monday.
    assert m.first_reply_due == paris(2026, 11, 30, 9, 30)
    assert policy_of(store, mid) == "business"
    clocks = await outcomes(store, mid)
    assert set(clocks) == {"first_reply", "resolution"}
    assert clocks["first_reply"].due_at == paris(2026, 11, 30, 9, 30)
    assert clocks["first_reply"].started_at == FRIDAY_1730
    assert clocks["first_reply"].state == "running"
    # 8 business hours: 30 minutes on Friday and 7 h 30 on Monday.
    assert clocks["resolution"].due_at == paris(2026, 11, 30, 16, 30)


async def test_holiday_is_skipped(store: Store) -> None:
    # Thursday 24 December 17:45: 15 minutes that day, Christmas (a Friday) and the weekend
    # closed, 45 minutes on Monday 28.
    mid = await ingest_one(store, paris(2026, 12, 24, 17, 45))
    m = await store.mention(mid)
    assert m is not None and m.first_reply_due == paris(2026, 12, 28, 9, 45)


async def test_spring_forward_weekend_keeps_wall_clock_hours(store: Store) -> None:
    # Last Sunday of March 2026 (29th): Paris moves from UTC+1 to UTC+2 over the weekend.
    created = paris(2026, 3, 27, 17, 0)
    mid = await ingest_one(store, created)
    clocks = await outcomes(store, mid)
    # A target whose last business second ends at closing time is due at closing time.
    assert clocks["first_reply"].due_at == paris(2026, 3, 27, 18, 0)
    # 1 h on Friday, 7 h on Monday: 16:00 local on Monday is 14:00 UTC, not 15:00.
    assert clocks["resolution"].due_at == paris(2026, 3, 30, 16, 0)
    assert clocks["resolution"].due_at - created == 70 * 3600  # 71 h of wall clock, minus DST


async def test_fall_back_night_counts_the_repeated_hour(store: Store) -> None:
    # Last Sunday of October 2026 (25th): 03:00 CEST becomes 02:00 CET, so the night desk's
    # 01:00-04:00 lasts four hours. Opens at 01:00 CEST (23:00 UTC); 3 h 30 later is 02:30 UTC,
    # which reads 03:30 on the (second) wall clock.
    mid = await ingest_one(store, paris(2026, 10, 25, 0, 30), tags=("night",))
    m = await store.mention(mid)
    assert m is not None and policy_of(store, mid) == "night"
    assert m.first_reply_due == int(datetime(2026, 10, 25, 2, 30, tzinfo=ZoneInfo("UTC"))
                                     .timestamp())


async def test_rules_pick_the_policy_by_channel_and_customer_tag(
    store: Store, tmp_path: Path
) -> None:
    sky = await ingest_one(store, FRIDAY_1730, "s", channel="bluesky", author_handle="@a.bsky")
    m = await store.mention(sky)
    assert m is not None and m.first_reply_due == FRIDAY_1730 + 120 * 60
    assert policy_of(store, sky) == "round-the-clock"
    assert set(await outcomes(store, sky)) == {"first_reply"}
    # A customer tagged vip (known before the mention arrives) gets the thirty-minutes preset.
    await store.bulk_load(
        [NewCustomer("Vip", "Vip", (NewIdentity("x", "@vip", "Vip"),), tags=("vip",))], [],
        now=FRIDAY_1730,
    )
    vip = await ingest_one(store, FRIDAY_1730, "v", author_handle="@vip", author_name="Vip")
    m = await store.mention(vip)
    assert m is not None and m.first_reply_due == FRIDAY_1730 + 30 * 60
    assert policy_of(store, vip) == "thirty-minutes"


async def test_queue_puts_the_business_hours_deadline_first(store: Store) -> None:
    monday = paris(2026, 11, 30, 8, 0)
    # Created first, on a 24/7 policy of 2 h: due at 10:30.
    early = await ingest_one(store, paris(2026, 11, 30, 8, 30), "a", channel="bluesky",
                             author_handle="@a.bsky")
    # Created later, on business hours (1 h from the 9:00 opening): due at 10:00, so first.
    late = await ingest_one(store, paris(2026, 11, 30, 8, 45), "b")
    rows = await store.queue_window(QueueFilter())
    assert [r.id for r in rows] == [late, early]
    assert rows[0].sort_due == paris(2026, 11, 30, 10, 0) > monday


# --- pauses ----------------------------------------------------------------------------------


async def test_snooze_stops_the_clock_and_waking_resumes_it(store: Store) -> None:
    created = paris(2026, 11, 27, 16, 30)
    mid = await ingest_one(store, created)
    m = await store.mention(mid)
    assert m is not None and m.first_reply_due == paris(2026, 11, 27, 17, 30)
    # Snoozed after 20 business minutes: 40 are left, whatever happens over the weekend.
    snoozed_at = paris(2026, 11, 27, 16, 50)
    wake = paris(2026, 11, 30, 10, 0)
    await store.set_status(mid, Status.SNOOZED, actor="al", now=snoozed_at, snooze_until=wake)
    clocks = await outcomes(store, mid)
    assert clocks["first_reply"].state == "paused"
    assert clocks["first_reply"].paused_at == snoozed_at
    assert clocks["resolution"].state == "paused"
    assert (await store.mark_breaches(paris(2026, 11, 30, 9, 30))) == 0  # paused: no breach
    assert await store.wake_snoozed(wake) == [mid]
    m = await store.mention(mid)
    assert m is not None and m.first_reply_due == paris(2026, 11, 30, 10, 40)
    row = await store.queue_row(mid)
    assert row is not None and row.sort_due == paris(2026, 11, 30, 10, 40)
    clocks = await outcomes(store, mid)
    assert clocks["first_reply"].state == "running"
    # Resolution: 20 minutes used on Friday, 7 h 40 left from Monday 10:00.
    assert clocks["resolution"].due_at == paris(2026, 11, 30, 17, 40)


async def test_pending_pauses_resolution_and_reopen_resumes_it(store: Store) -> None:
    created = paris(2026, 11, 30, 9, 0)  # Monday
    mid = await ingest_one(store, created)
    await store.queue_reply(mid, "Bonjour", author="al", now=paris(2026, 11, 30, 9, 45))
    clocks = await outcomes(store, mid)
    assert clocks["first_reply"].state == "met"
    assert clocks["first_reply"].completed_at == paris(2026, 11, 30, 9, 45)
    assert clocks["first_reply"].breached_at is None
    assert clocks["resolution"].state == "paused"  # pending waits on the customer
    # Reopened on Tuesday 11:00: 45 minutes were used, 7 h 15 left.
    await store.set_status(mid, Status.OPEN, actor="al", now=paris(2026, 12, 1, 11, 0))
    clocks = await outcomes(store, mid)
    assert clocks["resolution"].state == "running"
    # 11:00 + 7 h 15 goes past the 18:00 closing by 15 minutes: Wednesday 09:15.
    assert clocks["resolution"].due_at == paris(2026, 12, 2, 9, 15)
    # The first reply stays met: reopening does not restart a reply target.
    assert clocks["first_reply"].state == "met"


async def test_resolve_then_reopen_is_cumulative_and_a_late_resolution_is_a_breach(
    store: Store,
) -> None:
    mid = await ingest_one(store, paris(2026, 11, 30, 9, 0))
    await store.set_status(mid, Status.RESOLVED, actor="al", now=paris(2026, 11, 30, 12, 0))
    clocks = await outcomes(store, mid)
    assert clocks["resolution"].state == "met"
    # Resolved without a reply: the first-reply clock stops, and since it stopped after its
    # 10:00 due, that breach is recorded now.
    assert clocks["first_reply"].state == "breached"
    assert clocks["first_reply"].paused_at == paris(2026, 11, 30, 12, 0)
    await store.set_status(mid, Status.OPEN, actor="al", now=paris(2026, 12, 1, 9, 0))
    clocks = await outcomes(store, mid)
    assert clocks["resolution"].state == "running"
    assert clocks["resolution"].completed_at is None
    assert clocks["resolution"].due_at == paris(2026, 12, 1, 14, 0)  # 3 h used, 5 h left
    # A breach stays, and keeps its due for the negative countdown.
    assert clocks["first_reply"].state == "breached"
    assert clocks["first_reply"].due_at == paris(2026, 11, 30, 10, 0)
    assert clocks["first_reply"].breached_at == paris(2026, 11, 30, 10, 0)
    await store.set_status(mid, Status.RESOLVED, actor="al", now=paris(2026, 12, 1, 15, 0))
    clocks = await outcomes(store, mid)
    assert clocks["resolution"].state == "breached"
    assert clocks["resolution"].breached_at == paris(2026, 12, 1, 14, 0)
    assert clocks["resolution"].completed_at == paris(2026, 12, 1, 15, 0)


# --- outcomes ----------------------------------------------------------------------------------


async def test_breach_is_recorded_even_if_nobody_replies(store: Store) -> None:
    mid = await ingest_one(store, FRIDAY_1730)
    due = paris(2026, 11, 30, 9, 30)
    assert await store.mark_breaches(due) == 0  # at the due instant: not yet
    assert (await outcomes(store, mid))["first_reply"].breached_at is None
    assert await store.mark_breaches(due + 1) == 1
    clock = (await outcomes(store, mid))["first_reply"]
    assert clock.state == "breached" and clock.breached_at == due
    assert await store.mark_breaches(due + 60) == 0  # once
    # A late reply is recorded, the breach stays.
    await store.queue_reply(mid, "Désolé", author="al", now=due + 600)
    clock = (await outcomes(store, mid))["first_reply"]
    assert clock.completed_at == due + 600 and clock.breached_at == due


async def test_mark_breaches_catches_up_a_backlog_in_batches(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import db.store

    monkeypatch.setattr(db.store, "BREACH_BATCH", 2)
    start = paris(2026, 11, 30, 9, 0)
    await store.ingest([mention(str(i), start) for i in range(5)], now=start)
    assert await store.mark_breaches(paris(2026, 11, 30, 10, 1)) == 5
    assert await store.mark_breaches(paris(2026, 11, 30, 11, 0)) == 0


async def test_the_console_catches_up_one_batch_per_tick(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import db.store

    monkeypatch.setattr(db.store, "BREACH_BATCH", 2)
    start = paris(2026, 11, 30, 9, 0)
    await store.ingest([mention(str(i), start) for i in range(5)], now=start)
    late = paris(2026, 11, 30, 10, 1)
    assert [await store.mark_breaches(late, max_batches=1) for _ in range(4)] == [2, 2, 1, 0]


async def test_reply_in_time_is_met(store: Store) -> None:
    mid = await ingest_one(store, FRIDAY_1730)
    await store.queue_reply(mid, "Bonjour", author="al", now=paris(2026, 11, 30, 9, 10))
    clock = (await outcomes(store, mid))["first_reply"]
    assert clock.state == "met" and clock.breached_at is None
    row = await store.queue_row(mid)
    assert row is not None and row.sort_due == NO_DUE


async def test_follow_up_after_a_reply_gets_the_next_reply_target(store: Store) -> None:
    monday = paris(2026, 11, 30, 10, 0)
    first = await ingest_one(store, monday, "root")
    await store.queue_reply(first, "Bonjour", author="al", now=monday + 300)
    follow = await ingest_one(store, monday + 600, "follow", in_reply_to="root")
    clocks = await outcomes(store, follow)
    assert set(clocks) == {"next_reply", "resolution"}
    assert clocks["next_reply"].due_at == monday + 600 + 30 * 60
    m = await store.mention(follow)
    assert m is not None and m.first_reply_due == monday + 600 + 30 * 60
    # Before any reply, a second message of the thread is still a first-reply wait.
    other = await ingest_one(store, monday, "other-root")
    again = await ingest_one(store, monday + 60, "other-2", in_reply_to="other-root")
    assert set(await outcomes(store, again)) == {"first_reply", "resolution"}
    assert other != again


async def test_without_a_planner_the_older_single_target_applies(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "plain.db")
    try:
        [mid] = await store.ingest([mention("1", FRIDAY_1730)], now=FRIDAY_1730,
                                   first_reply_sla=3600)
        m = await store.mention(mid)
        assert m is not None and m.first_reply_due == FRIDAY_1730 + 3600  # 24/7
        assert policy_of(store, mid) == "default"
        assert set(await outcomes(store, mid)) == {"first_reply"}
    finally:
        await store.close()


async def test_unknown_policy_name_still_resumes_on_24_7(store: Store) -> None:
    mid = await ingest_one(store, FRIDAY_1730)
    # The config changed since: the rows name a policy this planner does not know.
    store.due_planner = ConfigPlanner(rules_from_toml("[sla]\npreset = 'one-hour'\n"))
    await store.set_status(mid, Status.PENDING, actor="al", now=FRIDAY_1730 + 600)
    await store.set_status(mid, Status.OPEN, actor="al", now=FRIDAY_1730 + 3600)
    clock = (await outcomes(store, mid))["first_reply"]
    # Paused at 17:40 with Monday 9:30 as its due; the time left is now measured on 24/7
    # (the calendar of a policy nobody defines any more), and added on 24/7 too.
    left = paris(2026, 11, 30, 9, 30) - (FRIDAY_1730 + 600)
    assert clock.state == "running" and clock.due_at == FRIDAY_1730 + 3600 + left


async def test_mark_breaches_reads_the_running_index_only(store: Store) -> None:
    conn = sqlite3.connect(store.path)
    try:
        plan = " ".join(
            str(r[3]) for r in conn.execute(
                "EXPLAIN QUERY PLAN SELECT mention_id FROM sla_outcomes "
                "WHERE completed_at IS NULL AND breached_at IS NULL AND paused_at IS NULL "
                "AND due_at < 1"
            )
        )
    finally:
        conn.close()
    assert "sla_outcomes_running" in plan and "SCAN" not in plan


@pytest.mark.parametrize("batch", [1, 10_000])
async def test_bulk_load_gives_follow_ups_of_answered_threads_the_next_reply_target(
    store: Store, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    import db.store

    monkeypatch.setattr(db.store, "BULK_BATCH", batch)  # 1: the root is in an earlier batch
    monday = paris(2026, 11, 30, 10, 0)
    await store.bulk_load([], [
        mention("root", monday, reply_text="Bonjour", replied_at=monday + 300,
                status=Status.PENDING),
        mention("follow", monday + 600, in_reply_to="root"),
        mention("lone", monday + 600),
    ], now=monday + 900)
    conn = sqlite3.connect(store.path)
    try:
        targets = dict(conn.execute(
            "SELECT m.remote_id, group_concat(o.target) FROM mentions m "
            "JOIN sla_outcomes o ON o.mention_id = m.id GROUP BY m.remote_id"
        ).fetchall())
        root = conn.execute(
            "SELECT completed_at, breached_at FROM sla_outcomes o JOIN mentions m "
            "ON m.id = o.mention_id WHERE m.remote_id = 'root' AND target = 'first_reply'"
        ).fetchone()
    finally:
        conn.close()
    assert set(targets["follow"].split(",")) == {"next_reply", "resolution"}
    assert set(targets["lone"].split(",")) == {"first_reply", "resolution"}
    assert root == (monday + 300, None)  # the imported reply met its first-reply target
