"""Topic counts for crisis mode, kept at ingest: the data side of spike detection.

What a topic *is* (a hashtag, a configured keyword, a cluster of near-identical texts) is the
console's business (console/crisis.py); the db layer only sees a `TopicSource` that names the
topics of a mention. The Store calls `record_topics` inside the transaction that wrote the
mentions, for the rows it actually inserted, so the counts can never disagree with the rows and a
repeat (an item fetched twice) is never counted twice.

Counts live in 5-minute buckets (`BUCKET_SECONDS`) keyed by the mention's `created_at` (the
moment the customer posted: a backlog fetched late still lands where it happened). Only mentions
younger than `HORIZON` are counted: older ones cannot take part in a spike, and skipping them keeps
a bulk load of years of history as fast as before.

No Textual, no console import (import-linter).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

import aiosqlite

from db.models import NewMention
from db.text import storable

BUCKET_SECONDS: Final = 300
# How far back counts are kept (and written): the longest baseline plus the window.
HORIZON: Final = 26 * 3600
TOPIC_KINDS: Final = ("hashtag", "keyword", "cluster")
_LOOKUP_CHUNK: Final = 5000
_LABEL_CHARS: Final = 80


@dataclass(frozen=True, slots=True)
class TopicRef:
    """One topic of one mention: `key` is the normalised identity ('#pannefibrelle'), `label`
    how it reads ('#PanneFibrelle'; outside text, shown only through the untrusted helper)."""

    key: str
    kind: str  # one of TOPIC_KINDS
    label: str


class TopicSource(Protocol):
    """Names the topics of a mention (implemented in console/crisis.py)."""

    def topics(self, mention: NewMention) -> Iterable[TopicRef]: ...


@dataclass(frozen=True, slots=True)
class TopicInfo:
    key: str
    kind: str
    label: str
    last_bucket: int


def bucket_of(at: int) -> int:
    return at - at % BUCKET_SECONDS


def _chunks(pairs: Sequence[tuple[str, str]]) -> Iterable[Sequence[tuple[str, str]]]:
    for start in range(0, len(pairs), _LOOKUP_CHUNK):
        yield pairs[start : start + _LOOKUP_CHUNK]


async def record_topics(
    conn: aiosqlite.Connection,
    source: TopicSource,
    mentions: Iterable[NewMention],
    *,
    first_id: int,
    now: int,
) -> int:
    """Count the topics of the mentions among `mentions` that were inserted with an id >=
    `first_id` (the caller's transaction); returns how many mentions were counted.

    Cost: one indexed look-up per recent candidate and a few upserts, never a scan of mentions.
    """
    oldest = now - HORIZON
    recent: dict[tuple[str, str], NewMention] = {}
    for m in mentions:
        if m.created_at >= oldest:
            recent.setdefault((m.channel, m.remote_id), m)  # first occurrence wins, as ingest
    if not recent:
        return 0
    pairs = list(recent)
    inserted: list[tuple[int, NewMention]] = []
    for chunk in _chunks(pairs):
        values = "VALUES " + ", ".join(["(?, ?)"] * len(chunk))
        params: list[Any] = [v for pair in chunk for v in pair]
        rows = await conn.execute_fetchall(
            f"SELECT m.id, m.channel, m.remote_id FROM ({values}) AS k "
            "JOIN mentions m ON m.channel = k.column1 AND m.remote_id = k.column2 "
            "WHERE m.id >= ?",
            [*params, first_id],
        )
        inserted += [(r[0], recent[(r[1], r[2])]) for r in rows]
    counts: dict[tuple[str, int], int] = {}
    labels: dict[str, tuple[str, str, int]] = {}
    members: list[tuple[str, int, int]] = []
    for mention_id, m in inserted:
        bucket = bucket_of(min(m.created_at, now))  # a clock ahead of ours: count it as now
        seen: set[str] = set()
        for ref in source.topics(m):
            if ref.key in seen or ref.kind not in TOPIC_KINDS:
                continue
            seen.add(ref.key)
            key = storable(ref.key)
            counts[(key, bucket)] = counts.get((key, bucket), 0) + 1
            members.append((key, mention_id, bucket))
            known = labels.get(key)
            if known is None or bucket > known[2]:
                label = known[1] if known else storable(ref.label[:_LABEL_CHARS])
                labels[key] = (ref.kind, label, bucket)
    if counts:
        await conn.executemany(
            "INSERT INTO topic_counts (topic, bucket, n) VALUES (?, ?, ?) "
            "ON CONFLICT (topic, bucket) DO UPDATE SET n = n + excluded.n",
            [(topic, bucket, n) for (topic, bucket), n in counts.items()],
        )
        # The first label seen stays: "#PanneFibrelle" is not renamed by one "#pannefibrelle".
        await conn.executemany(
            "INSERT INTO topics (topic, kind, label, last_bucket) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (topic) DO UPDATE SET "
            "last_bucket = max(last_bucket, excluded.last_bucket)",
            [(topic, kind, label, bucket) for topic, (kind, label, bucket) in labels.items()],
        )
        await conn.executemany(
            "INSERT OR IGNORE INTO topic_mentions (topic, mention_id, bucket) VALUES (?, ?, ?)",
            members,
        )
    return len(inserted)
