"""Crisis mode reads and writes: topic counts for spike detection, the mentions of a topic, and
the pinned crisis note.

A friend module of the Store, like db/accounts.py: it uses the Store's plumbing (`_read`,
`_write`, `_rows`, `_event`, `_conn`) so it shares its connection, lock and transaction rules.
Every read here walks an index over the small topic tables (db/schema.py step 8): spike detection
costs the same with a thousand mentions or a million.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from db import queries as q
from db.models import QueueRow
from db.store import Store
from db.text import storable
from db.topics import BUCKET_SECONDS, HORIZON, TopicInfo

# Fewer rows than this per topic on screen: the crisis view is a bounded list.
MAX_TOPIC_ROWS: Final = 500


@dataclass(frozen=True, slots=True)
class PinnedNote:
    id: int
    text: str
    author: str
    pinned_at: int


async def busy_topics(store: Store, first_bucket: int, last_bucket: int,
                      min_count: int) -> dict[str, int]:
    """Topics with at least `min_count` mentions in buckets first..last (inclusive): one range
    of the covering index topic_counts_bucket, grouped."""
    async with store._read():
        rows = await store._rows(
            "SELECT topic, sum(n) FROM topic_counts WHERE bucket BETWEEN ? AND ? "
            "GROUP BY topic HAVING sum(n) >= ?",
            (first_bucket, last_bucket, min_count),
        )
    return {topic: int(n) for topic, n in rows}


async def topic_history(store: Store, topic: str, first_bucket: int,
                        last_bucket: int) -> dict[int, int]:
    """Counts of one topic per bucket in first..last (primary-key range; missing = 0)."""
    async with store._read():
        rows = await store._rows(
            "SELECT bucket, n FROM topic_counts WHERE topic = ? AND bucket BETWEEN ? AND ?",
            (topic, first_bucket, last_bucket),
        )
    return {int(bucket): int(n) for bucket, n in rows}


async def topic_infos(store: Store, topics: Sequence[str]) -> dict[str, TopicInfo]:
    if not topics:
        return {}
    marks = ", ".join("?" * len(topics))
    async with store._read():
        rows = await store._rows(
            f"SELECT topic, kind, label, last_bucket FROM topics WHERE topic IN ({marks})",
            tuple(topics),
        )
    return {r[0]: TopicInfo(*r) for r in rows}


async def topic_rows(store: Store, topic: str, *, active_only: bool = True,
                     limit: int = MAX_TOPIC_ROWS) -> list[QueueRow]:
    """The mentions of a topic, newest first, at most `limit` (the crisis view's list).

    Walks topic_mentions by its primary key (topic, mention_id) backwards and looks each row
    up by id, stopping at `limit` matches: bounded however big the burst."""
    limit = max(0, min(limit, MAX_TOPIC_ROWS))
    lane = "AND m.lane = 0 " if active_only else ""
    async with store._read():
        rows = await store._rows(
            f"SELECT {q._queue_cols('m.sort_due', 'm.id')} FROM topic_mentions t "
            "JOIN mentions m ON m.id = t.mention_id "
            f"WHERE t.topic = ? {lane}ORDER BY t.mention_id DESC LIMIT ?",
            (topic, limit),
        )
    return [q.queue_row(r) for r in rows]


async def newest_topic_mention(store: Store, topic: str) -> int | None:
    """The id of the topic's newest mention (one primary-key probe): has anything arrived?"""
    async with store._read():
        rows = await store._rows(
            "SELECT max(mention_id) FROM topic_mentions WHERE topic = ?", (topic,)
        )
    return rows[0][0] if rows else None


async def prune_topics(store: Store, now: int) -> int:
    """Forget counts and memberships older than the horizon; returns count rows deleted. Runs
    on the bucket indexes: cost follows what is deleted, not what is kept."""
    oldest = now - HORIZON
    oldest -= oldest % BUCKET_SECONDS
    async with store._write():
        cur = await store._conn.execute("DELETE FROM topic_counts WHERE bucket < ?", (oldest,))
        deleted = cur.rowcount
        await store._conn.execute("DELETE FROM topic_mentions WHERE bucket < ?", (oldest,))
        await store._conn.execute("DELETE FROM topics WHERE last_bucket < ?", (oldest,))
    return max(0, deleted)


# --- pinned crisis note ---------------------------------------------------------------------------


async def pinned_note(store: Store) -> PinnedNote | None:
    """The note pinned now (the latest one not unpinned), from the partial index."""
    async with store._read():
        rows = await store._rows(
            "SELECT id, text, author, pinned_at FROM pinned_notes "
            "WHERE unpinned_at IS NULL ORDER BY id DESC LIMIT 1"
        )
    return PinnedNote(*rows[0]) if rows else None


async def pin_note(store: Store, text: str, *, author: str, now: int) -> PinnedNote:
    """Pin `text` for every agent on this database; a note pinned before is unpinned (one
    note at a time: a banner with three notes is a banner nobody reads)."""
    text = storable(text.strip())
    if not text:
        raise ValueError("a pinned note needs some text")
    async with store._write():
        await store._conn.execute(
            "UPDATE pinned_notes SET unpinned_at = ?, unpinned_by = ? WHERE unpinned_at IS NULL",
            (now, author),
        )
        cur = await store._conn.execute(
            "INSERT INTO pinned_notes (text, author, pinned_at) VALUES (?, ?, ?)",
            (text, author, now),
        )
        note_id = cur.lastrowid
        assert note_id is not None
        await store._event(None, author, "pin", str(note_id), now)
    return PinnedNote(note_id, text, author, now)


async def unpin_note(store: Store, *, author: str, now: int) -> bool:
    """Unpin the current note; False when none was pinned."""
    async with store._write():
        rows = await store._rows(
            "UPDATE pinned_notes SET unpinned_at = ?, unpinned_by = ? "
            "WHERE unpinned_at IS NULL RETURNING id",
            (now, author),
        )
        for (note_id,) in rows:
            await store._event(None, author, "unpin", str(note_id), now)
    return bool(rows)
