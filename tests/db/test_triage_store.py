"""Triage in the data layer: schema step 7, the scorer injected into ingest and bulk_load, the
spam lane's queries and counters, the agent's override, and template actions (apply_actions)."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from db.errors import InvalidTransition, StoreError
from db.models import MentionActions, NewCustomer, NewIdentity, QueueFilter, QueueKey, Status
from db.queries import queue_sql
from db.store import Store
from db.triage import TRIAGE_MAIN, TRIAGE_SPAM, TriageInput, TriageResult

from .conftest import NOW, SLA, build_at_version, nm, raw


class SpamWordScorer:
    """A stand-in scorer: "spam" in the text sends it to the spam lane; records its inputs."""

    def __init__(self) -> None:
        self.seen: list[TriageInput] = []

    def score(self, item: TriageInput) -> TriageResult:
        self.seen.append(item)
        spam = "spam" in item.mention.text
        return TriageResult(
            priority=item.mention.priority + item.recent_mentions,
            reasons=(f"past {item.past_mentions}", f"recent {item.recent_mentions}"),
            lane=TRIAGE_SPAM if spam else TRIAGE_MAIN,
            tags=("delight",) if "merci" in item.mention.text else (),
        )


@pytest.fixture
def scorer(store: Store) -> SpamWordScorer:
    s = SpamWordScorer()
    store.triage = s
    return s


def plan_steps(path: Path, flt: QueueFilter, key: QueueKey | None, page: str) -> list[str]:
    plan = queue_sql(flt, key if page == "after" else None, key if page == "before" else None, 50)
    conn = sqlite3.connect(path)
    try:
        return [r[3] for r in conn.execute(f"EXPLAIN QUERY PLAN {plan.sql}", plan.params)]
    finally:
        conn.close()


# --- schema ----------------------------------------------------------------------------------
async def test_step_7_adds_the_triage_columns_to_existing_rows(db_path: Path) -> None:
    build_at_version(db_path, 6)
    conn = raw(db_path)
    conn.execute("INSERT INTO customers (id, display_name, first_name, created_at) "
                 "VALUES (1, 'A', 'A', 0)")
    conn.execute("INSERT INTO identities (id, customer_id, channel, handle, display_name) "
                 "VALUES (1, 1, 'x', '@a', 'A')")
    conn.execute("INSERT INTO mentions (channel, remote_id, thread_id, customer_id, identity_id, "
                 "author_handle, author_name, text, created_at, received_at) "
                 "VALUES ('x', 'r1', 'r1', 1, 1, '@a', 'A', 'old row', 0, 0)")
    conn.close()
    store = await Store.open(db_path)
    try:
        m = await store.mention(1)
        assert m is not None and m.triage_lane == TRIAGE_MAIN and m.triage_reasons == ()
        assert [r.id for r in await store.queue_window(QueueFilter())] == [1]
        assert await store.queue_window(QueueFilter(triage="spam")) == []
    finally:
        await store.close()


@pytest.mark.parametrize("page", ["first", "after", "before"])
@pytest.mark.parametrize("lane", ["main", "spam"])
async def test_main_queue_and_spam_lane_walk_the_triage_index(
    store: Store, page: str, lane: str
) -> None:
    steps = plan_steps(store.path, QueueFilter(triage=lane), QueueKey(NOW, 10), page)
    assert steps and all("mentions_triage_queue" in s for s in steps if s.startswith(
        ("SEARCH", "SCAN"))), steps
    assert not any("TEMP B-TREE" in s for s in steps), steps


@pytest.mark.parametrize("flt", [
    QueueFilter(triage="spam", status="resolved"),
    QueueFilter(triage="spam", status="all"),
    QueueFilter(triage="all"),
    QueueFilter(triage="spam", channel="x"),
    QueueFilter(tag="delight"),
    QueueFilter(triage="spam", search="colis"),
], ids=lambda f: f.describe())
async def test_other_triage_views_never_sort(store: Store, flt: QueueFilter) -> None:
    steps = plan_steps(store.path, flt, None, "first")
    assert not any("TEMP B-TREE" in s for s in steps), steps
    assert not any(s.startswith("SCAN") and "INDEX" not in s for s in steps), steps


async def test_lane_counts_read_the_counter_table_by_key(store: Store) -> None:
    conn = sqlite3.connect(store.path)
    steps = [r[3] for r in conn.execute(
        "EXPLAIN QUERY PLAN SELECT status, n FROM triage_counters WHERE triage_lane = 1")]
    conn.close()
    assert steps == ["SEARCH triage_counters USING PRIMARY KEY (triage_lane=?)"]


def test_unknown_triage_filter_is_refused() -> None:
    with pytest.raises(StoreError, match="unknown triage lane filter"):
        queue_sql(QueueFilter(triage="bin"), None, None, 10)


# --- ingest ----------------------------------------------------------------------------------
async def test_ingest_stores_priority_reasons_lane_and_tags(
    store: Store, scorer: SpamWordScorer
) -> None:
    ids = await store.ingest(
        [nm("1", text="hello", priority=2), nm("2", text="buy spam now", author_handle="@bot"),
         nm("3", text="merci !", author_handle="@fan", tags=("x",))],
        now=NOW, first_reply_sla=SLA,
    )
    hello, spam, thanks = [await store.mention(i) for i in ids]
    assert hello is not None and spam is not None and thanks is not None
    assert (hello.priority, hello.triage_lane) == (2, TRIAGE_MAIN)
    assert hello.triage_reasons == ("past 0", "recent 0")
    assert spam.triage_lane == TRIAGE_SPAM
    assert thanks.tags == ("x", "delight")
    assert [r.id for r in await store.queue_window(QueueFilter(tag="delight"))] == [ids[2]]
    assert {r.id for r in await store.queue_window(QueueFilter())} == {ids[0], ids[2]}
    assert [r.id for r in await store.queue_window(QueueFilter(triage="spam"))] == [ids[1]]
    assert len(await store.queue_window(QueueFilter(triage="all"))) == 3
    counts = await store.counts()
    assert counts.active == 3 and counts.spam_active == 1 and counts.main_active == 2


async def test_history_comes_from_the_database_and_in_time_order(
    store: Store, scorer: SpamWordScorer
) -> None:
    await store.ingest([nm("1", created_at=NOW - 90_000), nm("2", created_at=NOW - 600)],
                       now=NOW, first_reply_sla=SLA)
    scorer.seen.clear()
    # A page listed newest first, as channels send them.
    await store.ingest([nm("4", created_at=NOW, text="again"), nm("3", created_at=NOW - 60,
                                                                 text="message 2")],
                       now=NOW, first_reply_sla=SLA)
    by_id = {item.mention.remote_id: item for item in scorer.seen}
    assert (by_id["3"].past_mentions, by_id["3"].recent_mentions) == (2, 1)  # 1 is 25 h old
    assert (by_id["4"].past_mentions, by_id["4"].recent_mentions) == (3, 2)
    assert by_id["4"].recent_texts == ("message 2", "message 2")  # newest first
    assert by_id["3"].customer_id == by_id["4"].customer_id is not None


async def test_a_repeat_of_a_stored_mention_keeps_the_agents_lane(
    store: Store, scorer: SpamWordScorer
) -> None:
    [mid] = await store.ingest([nm("1", text="spam spam")], now=NOW, first_reply_sla=SLA)
    await store.set_triage_lane(mid, "main", actor="al", now=NOW + 1)
    assert await store.ingest([nm("1", text="spam spam")], now=NOW + 2, first_reply_sla=SLA) == []
    m = await store.mention(mid)
    assert m is not None and m.triage_lane == TRIAGE_MAIN


async def test_without_a_scorer_rows_are_stored_as_given(store: Store) -> None:
    [mid] = await store.ingest([nm("1", text="spam", priority=4, tags=("a",))], now=NOW,
                               first_reply_sla=SLA)
    m = await store.mention(mid)
    assert m is not None and (m.priority, m.tags, m.triage_lane, m.triage_reasons) == (
        4, ("a",), TRIAGE_MAIN, ())


async def test_bulk_load_stores_triage_and_keeps_the_lane_counters(
    store: Store, scorer: SpamWordScorer
) -> None:
    customers = [NewCustomer("Jean", "Jean", (NewIdentity("x", "@jean", "Jean", 10),))]
    rows = [nm(str(i), text="spam" if i % 3 == 0 else "hello", created_at=NOW + i * 3600,
               status=Status.RESOLVED if i % 2 else Status.NEW,
               resolved_at=NOW + i * 3600 + 1 if i % 2 else None) for i in range(30)]
    assert await store.bulk_load(customers, rows, now=NOW, first_reply_sla=SLA) == 30
    # History the load wrote itself: the 10th row has 9 before it, all in the last 24 h.
    tenth = scorer.seen[9]
    assert (tenth.past_mentions, tenth.recent_mentions, tenth.audience) == (9, 9, 10)
    conn = raw(store.path)
    truth = dict(conn.execute(
        "SELECT status, count(*) FROM mentions WHERE triage_lane = 1 GROUP BY status"))
    conn.close()
    counts = await store.counts()
    assert dict(counts.spam_by_status) == truth == {"new": 5, "resolved": 5}


# --- the agent's override ------------------------------------------------------------------
async def test_override_moves_lanes_logs_and_counts(store: Store, scorer: SpamWordScorer) -> None:
    [mid] = await store.ingest([nm("1", text="hello")], now=NOW, first_reply_sla=SLA)
    m = await store.set_triage_lane(mid, "spam", actor="al", now=NOW + 5)
    assert m.triage_lane == TRIAGE_SPAM
    assert (await store.counts()).spam_active == 1
    assert await store.queue_window(QueueFilter()) == []
    await store.set_status(mid, Status.RESOLVED, actor="al", now=NOW + 6)
    assert dict((await store.counts()).spam_by_status) == {"resolved": 1}
    await store.set_triage_lane(mid, "main", actor="bo", now=NOW + 7)
    assert dict((await store.counts()).spam_by_status) == {}
    events = [(e.actor, e.action, e.detail) for e in await store.events(mid)]
    assert ("al", "triage", "main -> spam") in events and ("bo", "triage", "spam -> main") in events
    # The log is append-only: the override cannot be rewritten.
    conn = raw(store.path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM events WHERE action = 'triage'")
    conn.close()
    with pytest.raises(StoreError, match="unknown triage lane"):
        await store.set_triage_lane(mid, "bin", actor="al", now=NOW)


# --- template actions ------------------------------------------------------------------------
async def test_apply_actions_tags_priority_status_each_logged(store: Store) -> None:
    [mid] = await store.ingest([nm("1", tags=("a",))], now=NOW, first_reply_sla=SLA)
    m = await store.apply_actions(
        mid, MentionActions(add_tags=("refund", "a"), status=Status.RESOLVED, priority=3),
        actor="al", now=NOW + 1, source="template X: ",
    )
    assert (m.tags, m.priority, m.status) == (("a", "refund"), 3, Status.RESOLVED)
    assert [r.id for r in await store.queue_window(QueueFilter(status="resolved",
                                                               tag="refund"))] == [mid]
    details = [(e.action, e.detail) for e in await store.events(mid)]
    assert details == [("tags", "template X: a,refund"), ("priority", "template X: 0 -> 3"),
                       ("status", "new -> resolved")]


async def test_apply_actions_snooze_and_refusals(store: Store) -> None:
    [mid] = await store.ingest([nm("1")], now=NOW, first_reply_sla=SLA)
    m = await store.apply_actions(mid, MentionActions(snooze_seconds=600), actor="al", now=NOW)
    assert (m.status, m.snoozed_until) == (Status.SNOOZED, NOW + 600)
    with pytest.raises(InvalidTransition):
        await store.apply_actions(mid, MentionActions(status=Status.OPEN, snooze_seconds=60),
                                  actor="al", now=NOW)
    unchanged = await store.mention(mid)
    assert unchanged is not None and unchanged.status is Status.SNOOZED
    assert replace(MentionActions(), priority=None).__bool__() is False
