"""Crisis topic counts, pinned notes, bulk replies and listening results in the data layer."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

import pytest

from db.crisis import (
    busy_topics,
    pin_note,
    pinned_note,
    prune_topics,
    topic_history,
    topic_infos,
    topic_rows,
    unpin_note,
)
from db.errors import NotFound
from db.listening import (
    NewWatchResult,
    add_watch_results,
    promote_watch_result,
    watch_result,
    watch_results,
)
from db.models import NewMention, OutboxState, Status
from db.store import Store
from db.topics import BUCKET_SECONDS, HORIZON, TopicRef, bucket_of

from .conftest import NOW, SLA, nm, raw


class HashtagsOnly:
    """A TopicSource of our own: the words starting with '#', lower-cased."""

    def __init__(self) -> None:
        self.calls = 0

    def topics(self, mention: NewMention) -> Iterable[TopicRef]:
        self.calls += 1
        for word in mention.text.split():
            if word.startswith("#"):
                yield TopicRef(word.lower(), "hashtag", word)


def plan(conn: sqlite3.Connection, sql: str, params: tuple[object, ...] = ()) -> list[str]:
    return [r[3] for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]


async def counts(store: Store) -> dict[tuple[str, int], int]:
    rows = await store._rows("SELECT topic, bucket, n FROM topic_counts")
    return {(t, b): n for t, b, n in rows}


async def test_ingest_counts_the_topics_of_inserted_mentions_only(store: Store) -> None:
    store.topic_source = HashtagsOnly()
    first = [nm("1", text="#Panne chez moi"), nm("2", text="#panne ici", created_at=NOW + 400),
             nm("3", text="rien à signaler")]
    assert len(await store.ingest(first, now=NOW + 400, first_reply_sla=SLA)) == 3
    # The same items fetched again (a retried page) are not counted twice.
    assert await store.ingest(first, now=NOW + 500, first_reply_sla=SLA) == []
    assert await counts(store) == {("#panne", bucket_of(NOW)): 1,
                                   ("#panne", bucket_of(NOW + 400)): 1}
    infos = await topic_infos(store, ["#panne"])
    assert infos["#panne"].label == "#Panne"  # the first form seen is the label
    assert infos["#panne"].last_bucket == bucket_of(NOW + 400)


async def test_old_mentions_and_future_clocks(store: Store) -> None:
    store.topic_source = HashtagsOnly()
    await store.ingest(
        [nm("old", text="#a", created_at=NOW - HORIZON - 1),
         nm("ahead", text="#a", created_at=NOW + 3600)],
        now=NOW, first_reply_sla=SLA,
    )
    # Too old to take part in a spike: not counted; posted "in the future": counted as now.
    assert await counts(store) == {("#a", bucket_of(NOW)): 1}


async def test_no_topic_source_no_counts(store: Store) -> None:
    await store.ingest([nm("1", text="#a")], now=NOW, first_reply_sla=SLA)
    assert await counts(store) == {}


async def test_bulk_load_counts_only_recent_rows(store: Store) -> None:
    source = HashtagsOnly()
    store.topic_source = source
    mentions = [nm(str(i), text="#old", created_at=NOW - 10 * 86400 + i) for i in range(50)]
    mentions += [nm(f"r{i}", text="#new", created_at=NOW - i * 60) for i in range(12)]
    assert await store.bulk_load([], mentions, now=NOW, first_reply_sla=SLA) == 62
    total = await busy_topics(store, bucket_of(NOW - HORIZON), bucket_of(NOW), 1)
    assert total == {"#new": 12}
    assert source.calls == 12  # old rows were not even looked at


async def test_window_and_history_reads(store: Store) -> None:
    store.topic_source = HashtagsOnly()
    rows = [nm(f"b{i}", text="#burst", created_at=NOW - i * 30) for i in range(20)]
    rows += [nm(f"q{i}", text="#quiet", created_at=NOW - i * 600) for i in range(5)]
    await store.ingest(rows, now=NOW, first_reply_sla=SLA)
    window = await busy_topics(store, bucket_of(NOW) - 2 * BUCKET_SECONDS, bucket_of(NOW), 3)
    assert window == {"#burst": 20}  # #quiet has 2 in the window: under the minimum
    history = await topic_history(store, "#quiet", bucket_of(NOW - 3600), bucket_of(NOW))
    assert sum(history.values()) == 5 and all(b % BUCKET_SECONDS == 0 for b in history)


async def test_topic_rows_are_bounded_newest_first_and_active_only(store: Store) -> None:
    store.topic_source = HashtagsOnly()
    ids = await store.ingest([nm(str(i), text=f"#t {i}", created_at=NOW - 100 + i)
                              for i in range(10)], now=NOW, first_reply_sla=SLA)
    await store.set_status(ids[-1], Status.RESOLVED, actor="a", now=NOW)
    rows = await topic_rows(store, "#t", limit=4)
    assert [r.id for r in rows] == ids[-2:-6:-1]
    everything = await topic_rows(store, "#t", active_only=False, limit=100)
    assert len(everything) == 10


async def test_reads_use_the_topic_indexes_not_mentions(store: Store, db_path: Path) -> None:
    conn = raw(db_path)
    window = plan(conn, "SELECT topic, sum(n) FROM topic_counts WHERE bucket BETWEEN ? AND ? "
                  "GROUP BY topic HAVING sum(n) >= ?", (0, 1, 1))
    assert any("USING COVERING INDEX topic_counts_bucket" in s for s in window), window
    history = plan(conn, "SELECT bucket, n FROM topic_counts WHERE topic = ? "
                   "AND bucket BETWEEN ? AND ?", ("#a", 0, 1))
    assert any("USING PRIMARY KEY (topic=? AND bucket>? AND bucket<?)" in s
               for s in history), history
    members = plan(conn, "SELECT m.id FROM topic_mentions t JOIN mentions m "
                   "ON m.id = t.mention_id WHERE t.topic = ? AND m.lane = 0 "
                   "ORDER BY t.mention_id DESC LIMIT 10", ("#a",))
    assert any("SEARCH t USING PRIMARY KEY (topic=?)" in s for s in members), members
    assert any("SEARCH m USING INTEGER PRIMARY KEY" in s for s in members), members
    # Counting never reads mentions: the detection queries touch topic_counts alone.
    assert not any("mentions" in s for s in window + history)
    # At ingest, the new rows are found by their unique key, one index look-up each.
    lookup = plan(conn, "SELECT m.id, m.channel, m.remote_id FROM (VALUES (?, ?), (?, ?)) AS k "
                  "JOIN mentions m ON m.channel = k.column1 AND m.remote_id = k.column2 "
                  "WHERE m.id >= ?", ("x", "1", "x", "2", 1))
    assert any(s.startswith("SEARCH m USING COVERING INDEX sqlite_autoindex_mentions")
               for s in lookup), lookup
    assert not any(s.startswith("SCAN m") for s in lookup), lookup
    prune = plan(conn, "DELETE FROM topic_counts WHERE bucket < ?", (0,))
    assert any("topic_counts_bucket" in s for s in prune), prune
    conn.close()


async def test_prune_forgets_what_is_past_the_horizon(store: Store) -> None:
    store.topic_source = HashtagsOnly()
    await store.ingest([nm("1", text="#a", created_at=NOW)], now=NOW, first_reply_sla=SLA)
    assert await prune_topics(store, NOW + 3600) == 0
    assert await prune_topics(store, NOW + HORIZON + 2 * BUCKET_SECONDS) == 1
    assert await counts(store) == {}
    assert await topic_infos(store, ["#a"]) == {}
    assert await store._rows("SELECT * FROM topic_mentions") == []


# --- pinned note ---------------------------------------------------------------------------------


async def test_pinned_note_is_shared_through_the_file(store: Store, db_path: Path) -> None:
    assert await pinned_note(store) is None
    await pin_note(store, "  Panne Lyon : message d'attente uniquement  ", author="camille",
                   now=NOW)
    other = await Store.open(db_path)  # another console on the same database
    try:
        seen = await pinned_note(other)
        assert seen is not None
        assert (seen.text, seen.author) == ("Panne Lyon : message d'attente uniquement",
                                            "camille")
        await pin_note(other, "Nouvelle consigne", author="yanis", now=NOW + 60)
        now_pinned = await pinned_note(store)
        assert now_pinned is not None and now_pinned.text == "Nouvelle consigne"
        assert await unpin_note(store, author="camille", now=NOW + 120)
        assert await pinned_note(other) is None
        assert not await unpin_note(other, author="yanis", now=NOW + 180)
    finally:
        await other.close()
    actions = await store._rows("SELECT action, actor FROM events WHERE mention_id IS NULL "
                                "ORDER BY id")
    assert actions == [("pin", "camille"), ("pin", "yanis"), ("unpin", "camille")]
    with pytest.raises(ValueError):
        await pin_note(store, "   ", author="camille", now=NOW)


async def test_pinned_note_read_uses_the_partial_index(store: Store, db_path: Path) -> None:
    conn = raw(db_path)
    steps = plan(conn, "SELECT id, text, author, pinned_at FROM pinned_notes "
                 "WHERE unpinned_at IS NULL ORDER BY id DESC LIMIT 1")
    conn.close()
    assert any("pinned_notes_current" in s for s in steps), steps


# --- bulk reply ----------------------------------------------------------------------------------


async def test_queue_replies_queues_all_in_one_go(store: Store) -> None:
    ids = await store.ingest([nm(str(i), author_handle=f"@u{i}") for i in range(3)], now=NOW,
                             first_reply_sla=SLA)
    await store.save_draft(ids[0], "brouillon", None, now=NOW)
    items = await store.queue_replies([(mid, f"Bonjour {mid}") for mid in ids], author="camille",
                                      now=NOW + 10)
    assert [(i.mention_id, i.text, i.state) for i in items] == [
        (mid, f"Bonjour {mid}", OutboxState.QUEUED) for mid in ids
    ]
    assert len({i.idempotency_key for i in items}) == 3
    for mid in ids:
        m = await store.mention(mid)
        assert m is not None and m.status is Status.PENDING and m.replied_at == NOW + 10
    assert await store.draft(ids[0]) is None
    assert await store.queue_replies([], author="camille", now=NOW) == []


async def test_queue_replies_is_all_or_nothing(store: Store) -> None:
    ids = await store.ingest([nm("1")], now=NOW, first_reply_sla=SLA)
    with pytest.raises(NotFound):
        await store.queue_replies([(ids[0], "ok"), (9999, "no such mention")], author="a",
                                  now=NOW)
    assert await store.outbox_for_mention(ids[0]) == []
    m = await store.mention(ids[0])
    assert m is not None and m.status is Status.NEW


# --- listening -----------------------------------------------------------------------------------


def wr(remote_id: str, **kw: object) -> NewWatchResult:
    fields: dict[str, object] = {
        "channel": "x", "author_handle": "@léa", "author_name": "Léa Petit",
        "text": f"J'hésite entre Fibrelle et Orbicom ({remote_id})", "term": "Orbicom",
        "at": NOW - 60,
    }
    fields.update(kw)
    return NewWatchResult(remote_id=remote_id, **fields)  # type: ignore[arg-type]


async def test_watch_results_are_a_separate_stream(store: Store) -> None:
    ids = await add_watch_results(store, [wr("1"), wr("2"), wr("1", term="Fibrelle")], now=NOW)
    assert len(ids) == 2  # the same post found by two terms is kept once
    assert await add_watch_results(store, [wr("2")], now=NOW) == []
    assert (await store.counts()).total == 0  # not queue items
    listed = await watch_results(store)
    assert [r.remote_id for r in listed] == ["2", "1"]  # newest first
    assert [r.remote_id for r in await watch_results(store, before_id=listed[0].id)] == ["1"]
    assert len(await watch_results(store, limit=1)) == 1
    assert await watch_results(store, term="Telivo") == []


async def test_watch_result_reads_use_indexes(store: Store, db_path: Path) -> None:
    conn = raw(db_path)
    newest = plan(conn, "SELECT id FROM watch_results WHERE id < ? ORDER BY id DESC LIMIT 5",
                  (10,))
    by_term = plan(conn, "SELECT id FROM watch_results WHERE term = ? ORDER BY id DESC LIMIT 5",
                   ("x",))
    conn.close()
    assert any("USING INTEGER PRIMARY KEY (rowid<?)" in s for s in newest), newest
    assert any("USING COVERING INDEX watch_results_term (term=?)" in s
               for s in by_term), by_term
    assert not any("TEMP B-TREE" in s for s in newest + by_term)


async def test_promote_makes_a_mention_and_logs_it(store: Store) -> None:
    store.topic_source = HashtagsOnly()
    [rid] = await add_watch_results(
        store, [wr("9", text="#PanneFibrelle chez Orbicom aussi ?", author_audience=1200)],
        now=NOW)
    mention_id = await promote_watch_result(store, rid, actor="camille", now=NOW,
                                            first_reply_sla=SLA)
    m = await store.mention(mention_id)
    assert m is not None
    assert (m.channel, m.remote_id, m.author_handle, m.status) == ("x", "9", "@léa", Status.NEW)
    assert m.tags == ("listening",) and m.first_reply_due == NOW + SLA
    events = await store.events(mention_id)
    assert [(e.action, e.actor) for e in events] == [("promote", "camille")]
    result = await watch_result(store, rid)
    assert result is not None and result.promoted_mention_id == mention_id
    # Promoting again gives the same mention; the topic was counted once.
    assert await promote_watch_result(store, rid, actor="camille", now=NOW + 5,
                                      first_reply_sla=SLA) == mention_id
    assert await counts(store) == {("#pannefibrelle", bucket_of(NOW - 60)): 1}
    with pytest.raises(NotFound):
        await promote_watch_result(store, 999, actor="camille", now=NOW, first_reply_sla=SLA)


async def test_promote_links_a_post_already_in_the_queue(store: Store) -> None:
    [existing] = await store.ingest([nm("7")], now=NOW, first_reply_sla=SLA)
    [rid] = await add_watch_results(store, [wr("7")], now=NOW)
    assert await promote_watch_result(store, rid, actor="a", now=NOW,
                                      first_reply_sla=SLA) == existing
    assert (await store.counts()).total == 1
