"""Listening results: posts about the brand and its competitors found by watch terms.

They are a separate stream, not queue items: nothing here touches the mentions table until an
agent *promotes* a result, which turns it into a real mention (through the same BatchWriter as
`Store.ingest`, so it gets a customer, an SLA due and full-text indexing) and logs the promotion
as an event. A post already in the queue (a mention that also matched a watch term) is linked,
not duplicated.

A friend module of the Store, like db/accounts.py (same connection, lock and transactions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from db.batch import BatchWriter
from db.errors import NotFound
from db.models import NewMention
from db.store import Store
from db.text import storable, storable_optional
from db.topics import record_topics

MAX_WATCH_ROWS: Final = 500
_COLS: Final = (
    "id, channel, remote_id, author_handle, author_name, text, term, lang, author_audience, at, "
    "received_at, promoted_mention_id"
)


@dataclass(frozen=True, slots=True)
class NewWatchResult:
    channel: str
    remote_id: str
    author_handle: str
    author_name: str
    text: str
    term: str  # the watch term that matched (as configured)
    at: int  # when it was posted
    lang: str | None = None
    author_audience: int = 0


@dataclass(frozen=True, slots=True)
class WatchResult:
    id: int
    channel: str
    remote_id: str
    author_handle: str
    author_name: str
    text: str
    term: str
    lang: str | None
    author_audience: int
    at: int
    received_at: int
    promoted_mention_id: int | None


def _row(r: Any) -> WatchResult:
    return WatchResult(*r)


async def add_watch_results(store: Store, results: Sequence[NewWatchResult], *,
                            now: int) -> list[int]:
    """Store new results in one transaction; ids of those actually inserted (a post seen again,
    by another term or another poll, is skipped by the unique (channel, remote_id))."""
    ids: list[int] = []
    if not results:
        return ids
    async with store._write():
        for r in results:
            rows = await store._rows(
                "INSERT INTO watch_results (channel, remote_id, author_handle, author_name, text, "
                "term, lang, author_audience, at, received_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (channel, remote_id) DO NOTHING RETURNING id",
                (r.channel, storable(r.remote_id), storable(r.author_handle),
                 storable(r.author_name), storable(r.text), storable(r.term),
                 storable_optional(r.lang), r.author_audience, r.at, now),
            )
            ids += [row[0] for row in rows]
    return ids


async def watch_results(store: Store, *, limit: int = 200, before_id: int | None = None,
                        term: str | None = None) -> list[WatchResult]:
    """Newest first, at most `limit` (bounded), strictly before `before_id` for the next page;
    on the rowid, or on watch_results_term when a term is given."""
    limit = max(0, min(limit, MAX_WATCH_ROWS))
    where: list[str] = []
    params: list[Any] = []
    if term is not None:
        where.append("term = ?")
        params.append(term)
    if before_id is not None:
        where.append("id < ?")
        params.append(before_id)
    clause = f"WHERE {' AND '.join(where)} " if where else ""
    async with store._read():
        rows = await store._rows(
            f"SELECT {_COLS} FROM watch_results {clause}ORDER BY id DESC LIMIT ?",
            (*params, limit),
        )
    return [_row(r) for r in rows]


async def watch_result(store: Store, result_id: int) -> WatchResult | None:
    async with store._read():
        rows = await store._rows(f"SELECT {_COLS} FROM watch_results WHERE id = ?", (result_id,))
    return _row(rows[0]) if rows else None


async def promote_watch_result(store: Store, result_id: int, *, actor: str, now: int,
                               first_reply_sla: int) -> int:
    """Make a listening result a mention of the queue; returns the mention id. Promoting twice
    returns the same mention. One transaction: the mention, the link and the event."""
    async with store._write():
        rows = await store._rows(f"SELECT {_COLS} FROM watch_results WHERE id = ?",
                                 (result_id,))
        if not rows:
            raise NotFound(f"listening result {result_id} not found")
        r = _row(rows[0])
        if r.promoted_mention_id is not None:
            return r.promoted_mention_id
        mention = NewMention(
            channel=r.channel, remote_id=r.remote_id, author_handle=r.author_handle,
            author_name=r.author_name, text=r.text, created_at=r.at, lang=r.lang,
            author_audience=r.author_audience, received_at=now, tags=("listening",),
            # The post did not address us: the first-reply clock starts when an agent takes it.
            first_reply_due=now + first_reply_sla,
        )
        writer = BatchWriter(store._conn, now=now, first_reply_sla=first_reply_sla)
        await writer.start()
        first_id = writer.next_mention_id
        ids = await writer.write([mention])
        if ids:
            mention_id = ids[0]
            if store.topic_source is not None:
                await record_topics(store._conn, store.topic_source, [mention],
                                    first_id=first_id, now=now)
        else:  # already in the queue (it was also a mention of the brand): link to it
            found = await store._rows(
                "SELECT id FROM mentions WHERE channel = ? AND remote_id = ?",
                (r.channel, r.remote_id),
            )
            mention_id = found[0][0]
        await store._conn.execute(
            "UPDATE watch_results SET promoted_mention_id = ? WHERE id = ?",
            (mention_id, result_id),
        )
        await store._event(mention_id, actor, "promote",
                           f"listening result {result_id} ({r.term})", now)
    return int(mention_id)
