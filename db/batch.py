"""Writing many mentions at once: the shared engine of `Store.ingest` and `Store.bulk_load`.

The caller holds the write transaction. Ids of new customers, identities and mentions are
allocated here (max id + 1, safe under BEGIN IMMEDIATE) so that a whole batch goes to SQLite as a
handful of `executemany` calls instead of a round trip per row through the aiosqlite thread.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiosqlite

from db.models import NewCustomer, NewIdentity, NewMention
from db.queries import normalise_tags, tags_text
from db.text import storable_customer, storable_mention

# Pairs per "(VALUES ...) JOIN" lookup: 2 parameters each, well under SQLite's 32766 limit.
_LOOKUP_CHUNK = 5000

_INSERT_MENTION = (
    "INSERT INTO mentions (id, channel, remote_id, thread_id, in_reply_to, customer_id, "
    "identity_id, author_handle, author_name, text, lang, created_at, received_at, status, "
    "priority, assignee, tags, first_reply_due, replied_at, snoozed_until, resolved_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_TAG = (
    "INSERT OR IGNORE INTO mention_tags (tag, mention_id, lane, sort_due) "
    "SELECT ?, id, lane, sort_due FROM mentions WHERE id = ?"
)
_INSERT_SENT_REPLY = (
    "INSERT INTO outbox (mention_id, customer_id, channel, text, state, author, "
    "idempotency_key, attempts, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, 'sent', ?, ?, 1, ?, ?)"
)


def first_word(name: str, fallback: str) -> str:
    words = name.split()
    return words[0] if words else fallback.lstrip("@")


@dataclass(slots=True)
class _Known:
    identity_id: int
    customer_id: int
    audience: int


@dataclass(slots=True)
class _Rows:
    """Parameter lists of one batch, flushed together."""

    customers: list[tuple[Any, ...]] = field(default_factory=list)
    identities: list[tuple[Any, ...]] = field(default_factory=list)
    mentions: list[tuple[Any, ...]] = field(default_factory=list)
    tags: list[tuple[str, int]] = field(default_factory=list)
    replies: list[tuple[Any, ...]] = field(default_factory=list)
    audiences: list[tuple[int, int]] = field(default_factory=list)
    touched_customers: set[int] = field(default_factory=set)


class BatchWriter:
    """One ingest or bulk load, inside the caller's transaction."""

    def __init__(self, conn: aiosqlite.Connection, *, now: int, first_reply_sla: int) -> None:
        self._conn = conn
        self._now = now
        self._sla = first_reply_sla
        self._known: dict[tuple[str, str], _Known] = {}
        self._next_customer = 0
        self._next_identity = 0
        self._next_mention = 0

    async def start(self) -> None:
        self._next_customer = await self._scalar("SELECT coalesce(max(id), 0) FROM customers") + 1
        self._next_identity = await self._scalar("SELECT coalesce(max(id), 0) FROM identities") + 1
        # AUTOINCREMENT: never reuse the id of a deleted mention, hence sqlite_sequence too.
        self._next_mention = (
            await self._scalar(
                "SELECT max(coalesce((SELECT max(id) FROM mentions), 0), "
                "coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'mentions'), 0))"
            )
            + 1
        )

    @property
    def next_mention_id(self) -> int:
        return self._next_mention

    async def _scalar(self, sql: str, params: Sequence[Any] = ()) -> int:
        rows = list(await self._conn.execute_fetchall(sql, params))
        return int(rows[0][0])

    # --- customers ---------------------------------------------------------------------------
    async def add_customers(self, customers: Iterable[NewCustomer]) -> int:
        rows = _Rows()
        count = 0
        for c in map(storable_customer, customers):
            cid = self._new_customer_id()
            audience = max((i.audience for i in c.identities), default=0)
            rows.customers.append(
                (cid, c.display_name, c.first_name, audience, tags_text(normalise_tags(c.tags)),
                 self._now)
            )
            for ident in c.identities:
                self._add_identity(rows, cid, ident)
            count += 1
        await (await self._submit(rows))
        return count

    def _new_customer_id(self) -> int:
        cid = self._next_customer
        self._next_customer += 1
        return cid

    def _add_identity(self, rows: _Rows, customer_id: int, ident: NewIdentity) -> _Known:
        iid = self._next_identity
        self._next_identity += 1
        rows.identities.append(
            (iid, customer_id, ident.channel, ident.handle, ident.display_name, ident.audience,
             ident.remote_user_id)
        )
        known = _Known(iid, customer_id, ident.audience)
        self._known[(ident.channel, ident.handle)] = known
        return known

    # --- mentions ----------------------------------------------------------------------------
    async def write(self, batch: Sequence[NewMention]) -> list[int]:
        """Insert the batch's mentions not already stored; return their new ids in order."""
        ids, done = await self.write_submitted(batch)
        await done
        return ids

    async def write_submitted(
        self, batch: Sequence[NewMention]
    ) -> tuple[list[int], Awaitable[object]]:
        """Like `write`, but return as soon as the inserts are queued to the aiosqlite thread,
        with an awaitable for their completion: the caller may prepare the next batch meanwhile.
        Statements run in submission order, so a later lookup sees these rows."""
        fresh = await self._fresh([storable_mention(m) for m in batch])
        await self._load_identities({(m.channel, m.author_handle) for m in fresh})
        threads = await self._parent_threads(fresh)
        rows = _Rows()
        ids: list[int] = []
        for m in fresh:
            ids.append(self._add_mention(rows, m, threads))
        return ids, await self._submit(rows)

    async def _fresh(self, batch: Sequence[NewMention]) -> list[NewMention]:
        """Drop repeats within the batch and rows already stored (first occurrence wins)."""
        seen: set[tuple[str, str]] = set()
        unique: list[NewMention] = []
        for m in batch:
            key = (m.channel, m.remote_id)
            if key not in seen:
                seen.add(key)
                unique.append(m)
        stored = await self._lookup(
            "SELECT m.channel, m.remote_id FROM ({values}) AS k "
            "JOIN mentions m ON m.channel = k.column1 AND m.remote_id = k.column2",
            [(m.channel, m.remote_id) for m in unique],
        )
        taken = {(r[0], r[1]) for r in stored}
        return [m for m in unique if (m.channel, m.remote_id) not in taken]

    async def _lookup(self, sql: str, pairs: Sequence[tuple[str, str]]) -> list[Any]:
        out: list[Any] = []
        for start in range(0, len(pairs), _LOOKUP_CHUNK):
            chunk = pairs[start : start + _LOOKUP_CHUNK]
            values = "VALUES " + ", ".join(["(?, ?)"] * len(chunk))
            params = [v for pair in chunk for v in pair]
            out.extend(await self._conn.execute_fetchall(sql.format(values=values), params))
        return out

    async def _load_identities(self, keys: set[tuple[str, str]]) -> None:
        missing = sorted(k for k in keys if k not in self._known)
        found = await self._lookup(
            "SELECT i.channel, i.handle, i.id, i.customer_id, i.audience FROM ({values}) AS k "
            "JOIN identities i ON i.channel = k.column1 AND i.handle = k.column2",
            missing,
        )
        for channel, handle, iid, cid, audience in found:
            self._known[(channel, handle)] = _Known(iid, cid, audience)

    async def _parent_threads(self, batch: Sequence[NewMention]) -> dict[tuple[str, str], str]:
        """Thread of every parent named by the batch, from the database or the batch itself."""
        wanted = [(m.channel, m.in_reply_to) for m in batch if m.in_reply_to and not m.thread_id]
        if not wanted:
            return {}
        found = await self._lookup(
            "SELECT m.channel, m.remote_id, m.thread_id FROM ({values}) AS k "
            "JOIN mentions m ON m.channel = k.column1 AND m.remote_id = k.column2",
            sorted({(c, r) for c, r in wanted if r is not None}),
        )
        return {(c, r): t for c, r, t in found}

    def _author(self, rows: _Rows, m: NewMention) -> _Known:
        known = self._known.get((m.channel, m.author_handle))
        if known is None:
            cid = self._new_customer_id()
            name = m.author_name or m.author_handle
            rows.customers.append(
                (cid, name, first_word(m.author_name, m.author_handle), m.author_audience, "",
                 self._now)
            )
            ident = NewIdentity(m.channel, m.author_handle, name, m.author_audience,
                                m.author_remote_id)
            return self._add_identity(rows, cid, ident)
        if m.author_audience > 0 and m.author_audience != known.audience:
            known.audience = m.author_audience
            rows.audiences.append((m.author_audience, known.identity_id))
            rows.touched_customers.add(known.customer_id)
        return known

    def _add_mention(
        self, rows: _Rows, m: NewMention, threads: dict[tuple[str, str], str]
    ) -> int:
        author = self._author(rows, m)
        mid = self._next_mention
        self._next_mention += 1
        thread = m.thread_id
        if thread is None and m.in_reply_to is not None:
            thread = threads.get((m.channel, m.in_reply_to))
        thread = thread or m.remote_id
        # Later rows of the same batch may reply to this one.
        threads[(m.channel, m.remote_id)] = thread
        tags = normalise_tags(m.tags)
        replied_at = m.replied_at
        if m.reply_text is not None and replied_at is None:
            replied_at = m.created_at
        due = m.first_reply_due if m.first_reply_due is not None else m.created_at + self._sla
        rows.mentions.append(
            (mid, m.channel, m.remote_id, thread, m.in_reply_to, author.customer_id,
             author.identity_id, m.author_handle, m.author_name, m.text, m.lang, m.created_at,
             m.received_at if m.received_at is not None else m.created_at, m.status.value,
             m.priority, m.assignee, tags_text(tags), due, replied_at, m.snoozed_until,
             m.resolved_at)
        )
        rows.tags.extend((tag, mid) for tag in tags)
        if m.reply_text is not None:
            at = replied_at if replied_at is not None else m.created_at
            rows.replies.append(
                (mid, author.customer_id, m.channel, m.reply_text, m.reply_author or "agent",
                 uuid.uuid4().hex, at, at)
            )
        return mid

    async def _submit(self, rows: _Rows) -> Awaitable[object]:
        """Queue the batch's statements, in order, and return once they are all queued."""
        conn = self._conn
        calls: list[Awaitable[object]] = []
        if rows.customers:
            calls.append(conn.executemany(
                "INSERT INTO customers (id, display_name, first_name, audience, tags, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows.customers,
            ))
        if rows.identities:
            calls.append(conn.executemany(
                "INSERT INTO identities (id, customer_id, channel, handle, display_name, "
                "audience, remote_user_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows.identities,
            ))
        if rows.mentions:
            calls.append(conn.executemany(_INSERT_MENTION, rows.mentions))
        if rows.tags:
            calls.append(conn.executemany(_INSERT_TAG, rows.tags))
        if rows.replies:
            calls.append(conn.executemany(_INSERT_SENT_REPLY, rows.replies))
        if rows.audiences:
            calls.append(conn.executemany(
                "UPDATE identities SET audience = ? WHERE id = ?", rows.audiences
            ))
            calls.append(conn.executemany(
                "UPDATE customers SET audience = (SELECT max(audience) FROM identities "
                "WHERE customer_id = customers.id) WHERE id = ?",
                [(cid,) for cid in sorted(rows.touched_customers)],
            ))
        done = asyncio.gather(*calls)
        # Tasks start in creation order and each queues its statement on its first step:
        # one turn of the loop puts them all on the aiosqlite queue, in order.
        await asyncio.sleep(0)
        return done
