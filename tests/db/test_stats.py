"""db/stats.py: each report against rows written here, and the query plans (no full scans)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from db import export, stats
from db.models import OutboxState, Status
from db.stats import EVER
from db.store import Store
from tests.db.conftest import NOW, build_at_version, nm, raw

SLA = 3600
H = 3600


def add_mention(conn: sqlite3.Connection, mid: int, *, created: int, channel: str = "x",
                replied: int | None = None, status: str = "resolved") -> None:
    conn.execute(
        "INSERT INTO mentions (id, channel, remote_id, thread_id, customer_id, identity_id, "
        "author_handle, author_name, text, created_at, received_at, status, replied_at) "
        "VALUES (?, ?, ?, ?, 1, 1, '@a', 'A', 't', ?, ?, ?, ?)",
        (mid, channel, f"r{mid}", f"r{mid}", created, created, status, replied),
    )


def add_outcome(conn: sqlite3.Connection, mid: int, target: str, policy: str, started: int,
                completed: int | None, breached: int | None) -> None:
    conn.execute(
        "INSERT INTO sla_outcomes (mention_id, target, policy, started_at, due_at, completed_at, "
        "breached_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (mid, target, policy, started, started + H, completed, breached),
    )


async def test_volume_counts_each_channel_per_day_with_zeros(store: Store, db_path: Path) -> None:
    conn = raw(db_path)
    add_mention(conn, 1, created=NOW, channel="x")
    add_mention(conn, 2, created=NOW + 10, channel="mastodon")
    add_mention(conn, 3, created=NOW + 86400 - 1, channel="x")
    add_mention(conn, 4, created=NOW + 86400, channel="bluesky")  # day 2
    add_mention(conn, 5, created=NOW + 2 * 86400, channel="x")  # == until: excluded
    add_mention(conn, 6, created=NOW - 1, channel="x")  # before since
    conn.close()
    vol = await stats.volume(store, [NOW, NOW + 86400, NOW + 2 * 86400])
    assert vol.channels == ("bluesky", "mastodon", "x")
    assert [d.start for d in vol.days] == [NOW, NOW + 86400]
    assert dict(vol.days[0].by_channel) == {"bluesky": 0, "mastodon": 1, "x": 2}
    assert dict(vol.days[1].by_channel) == {"bluesky": 1, "mastodon": 0, "x": 0}
    assert vol.by_channel == {"bluesky": 1, "mastodon": 1, "x": 2}
    assert vol.total == 4


@pytest.fixture(params=["short", "long"])
def plan(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both plans: a short period's range + sort, and a long period's walk in response-time
    order (forced here by a threshold of 0); they must agree."""
    if request.param == "long":
        monkeypatch.setattr(stats, "SHORT_PERIOD", 0)
    return str(request.param)


async def test_first_response_percentiles_and_shares(store: Store, db_path: Path,
                                                     plan: str) -> None:
    conn = raw(db_path)
    # Response times 60, 120, ..., 600 s for ten answered mentions, then slow ones.
    for i in range(1, 11):
        add_mention(conn, i, created=NOW + i, replied=NOW + i + 60 * i)
    add_mention(conn, 11, created=NOW + 11, replied=NOW + 11 + 2 * H)  # within neither
    add_mention(conn, 12, created=NOW + 12, replied=NOW + 12 + 45 * 60)  # within 1 h only
    add_mention(conn, 13, created=NOW + 13, status="new")  # never answered
    add_mention(conn, 14, created=NOW - 100, replied=NOW - 99)  # outside the period
    conn.close()
    frt = await stats.first_response(store, NOW, NOW + 86400)
    assert (frt.received, frt.answered) == (13, 12)
    assert (frt.within_30m, frt.within_1h) == (10, 11)
    # Sorted: 60..600 (10 values), 2700, 7200. Nearest rank: median = 6th value, p90 = 11th.
    assert frt.median_s == 360
    assert frt.p90_s == 2700
    assert frt.share_30m == pytest.approx(10 / 13)
    empty = await stats.first_response(store, NOW + 86400, NOW + 2 * 86400)
    assert (empty.answered, empty.median_s, empty.p90_s, empty.share_1h) == (0, None, None, None)


def test_rank_offset_is_nearest_rank() -> None:
    assert stats.rank_offset(1, 0.5) == 0
    assert stats.rank_offset(2, 0.5) == 0  # lower middle
    assert stats.rank_offset(3, 0.5) == 1
    assert stats.rank_offset(10, 0.9) == 8
    assert stats.rank_offset(11, 0.9) == 9


async def test_sla_achievement_per_policy_and_target(store: Store, db_path: Path) -> None:
    conn = raw(db_path)
    add_outcome(conn, 1, "first_reply", "default", NOW, NOW + 60, None)  # met
    add_outcome(conn, 2, "first_reply", "default", NOW, None, NOW + H)  # breached
    add_outcome(conn, 3, "first_reply", "default", NOW, NOW + 2 * H, NOW + H)  # late: breached
    add_outcome(conn, 4, "first_reply", "default", NOW, None, None)  # running
    add_outcome(conn, 1, "resolution", "default", NOW, NOW + 60, None)
    add_outcome(conn, 5, "first_reply", "thirty-minutes", NOW, NOW + 60, None)
    add_outcome(conn, 6, "first_reply", "thirty-minutes", NOW - 10, None, NOW)  # before since
    conn.close()
    rows = await stats.sla_achievement(store, NOW, NOW + 86400, NOW + 60)
    got = [(a.policy, a.target, a.total, a.met, a.breached, a.running) for a in rows]
    assert got == [
        ("default", "first_reply", 4, 1, 2, 1),
        ("default", "resolution", 1, 1, 0, 0),
        ("thirty-minutes", "first_reply", 1, 1, 0, 0),
    ]
    assert rows[0].achievement == pytest.approx(1 / 3)
    assert await stats.sla_achievement(store, *EVER, NOW + 60) != rows  # 6 counts over all time
    # Nobody marked mention 4 late (no console open): past its due it is a breach all the same.
    later = await stats.sla_achievement(store, NOW, NOW + 86400, NOW + 2 * H)
    assert (later[0].met, later[0].breached, later[0].running) == (1, 3, 0)


async def test_backlog_buckets_by_age_of_active_mentions(store: Store, db_path: Path) -> None:
    conn = raw(db_path)
    ages = {1: 60, 2: 1799, 3: 1800, 4: 3000, 5: 2 * H, 6: 5 * H, 7: 30 * H}
    for mid, age in ages.items():
        add_mention(conn, mid, created=NOW - age, status="open" if mid % 2 else "new")
    add_mention(conn, 8, created=NOW - 60, status="pending")  # not active
    add_mention(conn, 9, created=NOW - 60, status="resolved")
    conn.close()
    back = await stats.backlog(store, NOW)
    assert back.buckets == (("under_30m", 2), ("under_1h", 2), ("under_4h", 1),
                            ("under_24h", 1), ("older", 1))
    assert back.total == 7


async def test_agents_replies_median_and_resolutions(store: Store, plan: str) -> None:
    await store.ingest([nm(f"m{i}", created_at=NOW + i) for i in range(4)], now=NOW + 10,
                       first_reply_sla=SLA)
    sent_at = {1: NOW + 100, 2: NOW + 300, 3: NOW + 1000}
    for mid, at in sent_at.items():
        agent = "camille" if mid != 3 else "hugo"
        item = await store.queue_reply(mid, "Bonjour", author=agent, now=at)
        await store.set_outbox_state(item.id, OutboxState.SENDING, now=at)
        await store.set_outbox_state(item.id, OutboxState.SENT, now=at + 1)
    queued = await store.queue_reply(4, "Pas encore parti", author="hugo", now=NOW + 50)
    assert queued.state is OutboxState.QUEUED  # not sent: not counted
    await store.set_status(1, Status.RESOLVED, actor="camille", now=NOW + 200)
    await store.set_status(2, Status.RESOLVED, actor="ines", now=NOW + 400)
    await store.set_status(2, Status.OPEN, actor="ines", now=NOW + 500)
    rows = await stats.agents(store, NOW, NOW + 86400)
    got = [(a.agent, a.replies, a.median_response_s, a.resolved) for a in rows]
    # Mention ids are 1..4 with created_at NOW + 0..3: response = sent - created.
    assert got == [("camille", 2, 100 - 0, 1), ("hugo", 1, 1000 - 2, 0), ("ines", 0, None, 1)]
    assert await stats.agents(store, NOW + 2000, NOW + 3000) == []


async def test_first_created_and_empty_database(store: Store) -> None:
    assert await stats.first_created(store) is None
    vol = await stats.volume(store, [NOW, NOW + 86400])
    assert vol.total == 0 and [d.total for d in vol.days] == [0]
    assert (await stats.backlog(store, NOW)).total == 0
    assert await stats.agents(store, *EVER) == []
    assert await stats.sla_achievement(store, *EVER, NOW) == []


async def test_migration_copies_the_mention_time_into_old_replies(db_path: Path) -> None:
    build_at_version(db_path, 8)
    conn = raw(db_path)
    add_mention(conn, 7, created=NOW - 500)
    conn.execute(
        "INSERT INTO outbox (mention_id, customer_id, channel, text, state, author, "
        "idempotency_key, created_at, updated_at) VALUES (7, 1, 'x', 'r', 'sent', 'hugo', 'k', "
        "?, ?)", (NOW, NOW))
    conn.close()
    store = await Store.open(db_path)
    try:
        rows = await stats.agents(store, *EVER)
        assert [(a.agent, a.median_response_s) for a in rows] == [("hugo", 500)]
    finally:
        await store.close()


# --- query plans -----------------------------------------------------------------------------
PLANS = {
    stats._FRT_COUNTS: ((1800, 3600, 0, 1), "mentions_reply_time"),
    stats._FRT_AT_RANK: ((0, 1, 5), "mentions_reply_time"),
    stats._FRT_COUNTS_RANGE: ((1800, 3600, 0, 1), "mentions_created"),
    stats._FRT_AT_RANK_RANGE: ((0, 1, 5), "mentions_created"),
    stats._AGENT_AT_RANK_RANGE: (("a", 0, 1, 0), "outbox_agent_time"),
    stats._VOLUME: (("[0, 1]", '["x"]'), "mentions_channel_created"),
    stats._CHANNELS: ((), None),
    stats._FIRST_CREATED: ((), "mentions_created"),
    stats._BACKLOG: ((0, 0, 0, 0), None),
    stats._SLA_FIRST_PAIR: ((), "sla_outcomes_report"),
    stats._SLA_NEXT_TARGET: (("p", "first_reply"), "sla_outcomes_report"),
    stats._SLA_NEXT_POLICY: (("p",), "sla_outcomes_report"),
    stats._SLA_COUNTS: ((0, "p", "first_reply", 0, 1), "sla_outcomes_report"),
    stats._NEXT_AUTHOR: (("",), "outbox_agent"),
    stats._NEXT_RESOLVER: (("",), "events_resolved"),
    stats._AGENT_REPLIES: (("a", 0, 1), "outbox_agent_time"),
    stats._AGENT_AT_RANK: (("a", 0, 1, 0), "outbox_agent"),
    stats._AGENT_RESOLVED: (("a", 0, 1), "events_resolved"),
}
TABLES = ("mentions", "outbox", "events", "sla_outcomes")
SORTS_A_SHORT_LIST = (stats._VOLUME, stats._FRT_AT_RANK_RANGE, stats._AGENT_AT_RANK_RANGE)


@pytest.mark.parametrize("sql", list(PLANS), ids=lambda s: s.split("FROM")[1][:40])
async def test_no_report_scans_a_table(store: Store, db_path: Path, sql: str) -> None:
    params, index = PLANS[sql]
    conn = raw(db_path)
    plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
    conn.close()
    for line in plan:
        for table in TABLES:
            # "SCAN t USING [COVERING] INDEX i" walks an index (in its order); a bare
            # "SCAN t" reads the table.
            assert not (line.startswith(f"SCAN {table}") and "INDEX" not in line), plan
            assert not line.startswith(f"SCAN {table[0]} "), plan
        # The volume query sorts its list of day boundaries (a few hundred numbers), no rows;
        # the "range" forms sort the response times of a short period (SHORT_PERIOD at most).
        assert "TEMP B-TREE" not in line or sql in SORTS_A_SHORT_LIST, plan
    if index is not None:
        assert any(index in line for line in plan), plan


@pytest.mark.parametrize("sql,params", [
    (export._MENTIONS_FIRST, (0, 1, 5)),
    (export._MENTIONS_NEXT, (0, 0, 1, 5, 0, 1, 5, 5)),
])
async def test_mention_export_chunks_seek_the_time_index(store: Store, db_path: Path, sql: str,
                                                         params: tuple[int, ...]) -> None:
    conn = raw(db_path)
    plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
    conn.close()
    assert not any(line.startswith("SCAN mentions") for line in plan), plan
    assert any("SEARCH mentions USING INDEX mentions_created" in line for line in plan), plan
