"""The fast paths of the data layer: bulk load in many batches, multi-row inserts, tag rows split
in SQL, the two search plans, and the covering count of breached mentions."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator

import pytest

import db.queries as q
import db.store as store_module
from db.models import NewCustomer, NewIdentity, NewMention, QueueFilter, QueueKey, Status
from db.store import Store
from tests.db.conftest import NOW, SLA, nm, raw
from tests.db.test_queue import LAST, dataset, model_due, model_matches

TAGS = (("refund",), (), ("bug", "vip"), ("vip", " vip ", "a|b"), ())


def many(n: int, prefix: str = "m") -> Iterator[NewMention]:
    for i in range(n):
        yield nm(
            f"{prefix}{i}",
            channel=("x", "mastodon", "bluesky")[i % 3],
            author_handle=f"@a{i % 7}",
            text=f"texte {i} remboursement" if i % 2 else f"texte {i} colis",
            tags=TAGS[i % len(TAGS)],
            status=Status.RESOLVED if i % 3 == 0 else Status.NEW,
            reply_text="Bonjour" if i % 3 == 0 else None,
        )


def tag_rows(path) -> list[tuple[str, int, int, int]]:  # type: ignore[no-untyped-def]
    conn = raw(path)
    try:
        return sorted(conn.execute("SELECT tag, mention_id, lane, sort_due FROM mention_tags"))
    finally:
        conn.close()


def expected_tag_rows(path) -> list[tuple[str, int, int, int]]:  # type: ignore[no-untyped-def]
    conn = raw(path)
    try:
        out = []
        for mid, tags, lane, due in conn.execute("SELECT id, tags, lane, sort_due FROM mentions"):
            out += [(tag, mid, lane, due) for tag in q.tags_tuple(tags)]
        return sorted(out)
    finally:
        conn.close()


async def test_bulk_load_in_many_batches_dedupes_across_batches(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "BULK_BATCH", 7)
    switch = sys.getswitchinterval()
    rows = list(many(60))
    # Repeats of earlier batches' rows (and one within a batch): the first occurrence wins.
    rows[20:20] = [nm("m3", text="second copy"), nm("m3", text="third copy")]
    rows.append(nm("m59", channel="bluesky", text="repeat of the last"))
    customers = [NewCustomer("Ana", "Ana", (NewIdentity("x", "@a0", "Ana", 5),))]
    n = await store.bulk_load(customers, rows, now=NOW, first_reply_sla=SLA)
    assert n == 60
    assert sys.getswitchinterval() == switch
    m3 = await store.mention(4)
    assert m3 is not None and (m3.remote_id, m3.text) == ("m3", "texte 3 remboursement")
    assert (await store.counts()).total == 60
    assert tag_rows(store.path) == expected_tag_rows(store.path)
    assert {t for t, *_ in tag_rows(store.path)} == {"refund", "bug", "vip", "ab"}
    conn = raw(store.path)
    try:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        keys = [k for (k,) in conn.execute("SELECT idempotency_key FROM outbox")]
        assert len(keys) == 20 and len(set(keys)) == 20
        assert all(len(k) == 32 and int(k, 16) >= 0 for k in keys)
        fts = conn.execute(
            "SELECT count(*) FROM mentions_fts WHERE mentions_fts MATCH 'remboursement'"
        ).fetchone()
        assert fts == (30,)
    finally:
        conn.close()
    # Foreign keys are enforced again after the load.
    assert await store._scalar("PRAGMA foreign_keys") == 1


async def test_bulk_load_hash_collision_is_not_a_repeat(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key whose hash was seen is checked against the database, not dropped blindly."""
    monkeypatch.setattr(store_module, "BULK_BATCH", 2)
    real_hash = hash

    def colliding(value: object) -> int:
        return 1 if isinstance(value, tuple) and len(value) == 2 else real_hash(value)

    monkeypatch.setattr("builtins.hash", colliding)
    n = await store.bulk_load([], [nm("a"), nm("b"), nm("c"), nm("a"), nm("d")],
                              now=NOW, first_reply_sla=SLA)
    assert n == 4


async def test_ingest_over_several_multi_row_statements(store: Store) -> None:
    ids = await store.ingest(list(many(1234)), now=NOW, first_reply_sla=SLA)
    assert ids == list(range(1, 1235))
    assert (await store.counts()).total == 1234
    assert tag_rows(store.path) == expected_tag_rows(store.path)
    history = await store.outbox_for_mention(1)
    assert len(history) == 1 and history[0].text == "Bonjour"
    again = await store.ingest(list(many(1300)), now=NOW, first_reply_sla=SLA)
    assert again == list(range(1235, 1301))
    # Tag rows follow status changes (the trigger) as before.
    await store.set_status(3, Status.OPEN, actor="al", now=NOW)
    assert tag_rows(store.path) == expected_tag_rows(store.path)


async def test_unhashable_tags_still_work(store: Store) -> None:
    [mid] = await store.ingest([nm("1", tags=["refund", "refund"])],  # type: ignore[arg-type]
                               now=NOW, first_reply_sla=SLA)
    m = await store.mention(mid)
    assert m is not None and m.tags == ("refund",)


@pytest.mark.parametrize("page", ["first", "after", "before"])
def test_dense_search_walks_the_queue_index(tmp_path, page: str) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    async def build() -> None:
        s = await Store.open(tmp_path / "d.db")
        await s.close()

    asyncio.run(build())
    key = QueueKey(NOW, 10)
    conn = sqlite3.connect(tmp_path / "d.db")
    for flt in (QueueFilter(search="colis"), QueueFilter(search="colis", status="resolved"),
                QueueFilter(search="colis", status="all"),
                QueueFilter(search="colis", tag="refund")):
        plan = q.queue_sql(flt, key if page == "after" else None,
                           key if page == "before" else None, 50, dense_search=True)
        steps = [r[3] for r in conn.execute(f"EXPLAIN QUERY PLAN {plan.sql}", plan.params)]
        assert not any("TEMP B-TREE FOR ORDER BY" in s for s in steps), steps
    conn.close()


@pytest.mark.parametrize("threshold", [0, 10_000])
async def test_both_search_plans_page_like_a_full_scan(
    store: Store, monkeypatch: pytest.MonkeyPatch, threshold: int
) -> None:
    monkeypatch.setattr(q, "SEARCH_DENSE", threshold)
    ids = await store.ingest(list(dataset()), now=NOW, first_reply_sla=SLA)
    mentions = [m for m in [await store.mention(i) for i in ids] if m is not None]
    for flt in (QueueFilter(search="colis"), QueueFilter(search="REMB", status="all"),
                QueueFilter(search="recu facture", status="resolved"),
                QueueFilter(search="colis", tag="refund", status="all")):
        expected = sorted((model_due(m), m.id) for m in mentions if model_matches(m, flt))
        got: list[tuple[int, int]] = []
        key = None
        while rows := await store.queue_window(flt, after=key, limit=7):
            got += [(r.sort_due, r.id) for r in rows]
            key = rows[-1].key
        assert got == expected
        back = await store.queue_window(flt, before=LAST, limit=7)
        assert [(r.sort_due, r.id) for r in back] == expected[-7:]


async def test_breached_count_is_an_index_only_range_count(store: Store) -> None:
    conn = raw(store.path)
    try:
        [(_, _, _, step)] = conn.execute(
            f"EXPLAIN QUERY PLAN {q.BREACHED_COUNT_SQL}", (NOW,)
        ).fetchall()
    finally:
        conn.close()
    assert "COVERING INDEX mentions_awaiting" in step, step


async def test_breached_count_agrees_with_lane_and_sort_due(store: Store) -> None:
    rows = [
        nm(str(i), first_reply_due=NOW - 100 + i * 10 if i % 5 else None,
           status=list(Status)[i % 5], replied_at=NOW - 5 if i % 7 == 0 else None,
           snoozed_until=NOW + 50 if i % 5 == 3 else None)
        for i in range(60)
    ]
    await store.ingest(rows, now=NOW, first_reply_sla=SLA)
    conn = raw(store.path)
    try:
        for now in (NOW - 200, NOW, NOW + 100, NOW + SLA + 1000):
            [(plain,)] = conn.execute(
                "SELECT count(*) FROM mentions WHERE lane = 0 AND sort_due < ?", (now,)
            ).fetchall()
            assert await store.breached_count(now) == plain
    finally:
        conn.close()
