"""Writing many mentions at once: the shared engine of `Store.ingest` and `Store.bulk_load`.

The caller holds the write transaction. Ids of new customers, identities and mentions are
allocated here (max id + 1, safe under BEGIN IMMEDIATE) so that a whole batch goes to SQLite as a
handful of `executemany` calls instead of a round trip per row through the aiosqlite thread.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import aiosqlite

from db.models import NewCustomer, NewIdentity, NewMention
from db.queries import normalise_tags, tags_text
from db.sla import DuePlan, DuePlanner, FixedPlanner, initial_outcomes
from db.text import storable_customer, storable_mention
from db.triage import Scorer, Triager, TriageResult, reasons_text

# Pairs per "(VALUES ...) JOIN" lookup: 2 parameters each, well under SQLite's 32766 limit.
_LOOKUP_CHUNK = 5000

_INSERT_CUSTOMER = (
    "INSERT INTO customers (id, display_name, first_name, audience, tags, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
_INSERT_IDENTITY = (
    "INSERT INTO identities (id, customer_id, channel, handle, display_name, audience, "
    "remote_user_id) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_MENTION = (
    "INSERT INTO mentions (id, channel, remote_id, thread_id, in_reply_to, customer_id, "
    "identity_id, author_handle, author_name, text, lang, created_at, received_at, status, "
    "priority, assignee, tags, first_reply_due, replied_at, snoozed_until, resolved_at, "
    "sla_policy, triage_reasons, triage_lane) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_OUTCOME = (
    "INSERT INTO sla_outcomes (mention_id, target, policy, started_at, due_at, completed_at, "
    "breached_at, paused_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
# The tag rows of a range of new mentions, split in SQL from their '|a|b|' text (normalised: no
# empty or repeated tag): one statement per batch, and (lane, sort_due) read from the row itself.
INSERT_TAGS_RANGE = (
    "INSERT INTO mention_tags (tag, mention_id, lane, sort_due) "
    "WITH RECURSIVE split (mention_id, lane, sort_due, tag, rest) AS ("
    "SELECT id, lane, sort_due, NULL, substr(tags, 2) FROM mentions "
    "WHERE id BETWEEN ? AND ? AND tags != '' "
    "UNION ALL SELECT mention_id, lane, sort_due, substr(rest, 1, instr(rest, '|') - 1), "
    "substr(rest, instr(rest, '|') + 1) FROM split WHERE rest != '') "
    "SELECT tag, mention_id, lane, sort_due FROM split WHERE tag IS NOT NULL"
)
# mention_created_at is given here so that schema step 9's trigger (which fills it for writers
# that leave it NULL) does not run an UPDATE per reply during a bulk load.
_INSERT_SENT_REPLY = (
    "INSERT INTO outbox (mention_id, customer_id, channel, text, state, author, "
    "idempotency_key, attempts, created_at, updated_at, mention_created_at) "
    "VALUES (?, ?, ?, ?, 'sent', ?, ?, 1, ?, ?, ?)"
)

# Rows per multi-row INSERT: each statement binds its parameters (under Python's GIL) and then
# writes all its rows in one sqlite3_step, during which the sqlite3 module releases the GIL. With
# executemany the aiosqlite thread needs the GIL back after every row, and while the event loop's
# thread is busy preparing the next batch it waits for it up to the interpreter's switch interval
# each time: the two threads would take turns instead of working in parallel. Fewer executions
# are also cheaper on their own. 32766 is SQLite's default limit on parameters per statement.
_ROWS_PER_INSERT = 500
_MAX_PARAMS = 32766


@functools.lru_cache(maxsize=64)
def _multi_row(insert: str, count: int) -> str:
    """`insert` (one `VALUES (...)` group) with `count` groups."""
    head, group = insert.split(" VALUES ")
    return f"{head} VALUES {', '.join([group] * count)}"


def _per_statement(insert: str) -> int:
    return max(1, min(_ROWS_PER_INSERT, _MAX_PARAMS // insert.count("?")))


async def _closed(call: Awaitable[aiosqlite.Cursor]) -> None:
    """Run a statement and close its cursor in the aiosqlite thread. A cursor left for the garbage
    collector would reset its statement from whichever thread drops it, possibly while the
    aiosqlite thread is running the same cached statement for a later batch."""
    cursor = await call
    await cursor.close()


def first_word(name: str, fallback: str) -> str:
    words = name.split()
    return words[0] if words else fallback.lstrip("@")


@dataclass(slots=True)
class _Known:
    identity_id: int
    customer_id: int
    audience: int
    customer_tags: tuple[str, ...] = ()  # SLA rules may pick a policy by customer tag


def _split_tags(text: str) -> tuple[str, ...]:
    """Tags from their stored '|a|b|' form."""
    return tuple(tag for tag in text.split("|") if tag)


@dataclass(slots=True)
class _Rows:
    """Parameter lists of one batch, flushed together."""

    customers: list[tuple[Any, ...]] = field(default_factory=list)
    identities: list[tuple[Any, ...]] = field(default_factory=list)
    mentions: list[tuple[Any, ...]] = field(default_factory=list)
    outcomes: list[tuple[Any, ...]] = field(default_factory=list)
    tagged: bool = False
    replies: list[tuple[Any, ...]] = field(default_factory=list)
    audiences: list[tuple[int, int]] = field(default_factory=list)
    touched_customers: set[int] = field(default_factory=set)


class BatchWriter:
    """One ingest or bulk load, inside the caller's transaction.

    `check_stored=False` is for a load into a table that held no mention when it began: a repeat
    can then only be a row this writer wrote itself, so instead of asking the database about
    every row it keeps the hashes of the keys it wrote and asks only about rows whose hash it has
    seen (a real repeat, or a rare hash collision the lookup tells apart).

    `range_statements` run after each batch's inserts with the batch's (first id, last id): a
    bulk load that dropped a per-row trigger maintains the derived data per batch instead.

    SLA: `planner` (default: a 24/7 `FixedPlanner` of `first_reply_sla` seconds) names each new
    mention's policy and deadlines, and its `sla_outcomes` rows are written with it (db/sla.py).
    A mention in a thread where an agent already replied gets the next-reply target. That is
    looked up on the thread index; `threads_indexed=False` (a bulk load, which drops that index)
    asks the thread's first mention (unique index) and remembers the follow-ups it wrote itself.
    An explicit `first_reply_due` (demo data) is kept as the reply deadline.
    """

    def __init__(self, conn: aiosqlite.Connection, *, now: int, first_reply_sla: int | None = None,
                 check_stored: bool = True, range_statements: Sequence[str] = (),
                 planner: DuePlanner | None = None, threads_indexed: bool = True,
                 scorer: Scorer | None = None, triage_from_db: bool = True) -> None:
        self._conn = conn
        # Triage (db/triage.py): priority, reasons, lane and tags of each new mention.
        self._triager = (
            Triager(conn, scorer, from_db=triage_from_db) if scorer is not None else None
        )
        self._reason_forms: dict[tuple[str, ...], str] = {}
        self._now = now
        self._planner: DuePlanner = planner or FixedPlanner(
            first_reply_sla if first_reply_sla is not None else 3600
        )
        self._threads_indexed = threads_indexed
        # Follow-ups (not a thread's first mention) this writer wrote with a reply, and this
        # batch's replied mentions: what the thread lookup cannot see yet (db/sla.py).
        self._replied_followups: set[tuple[str, str]] = set()
        self._replied_batch: set[tuple[str, str]] = set()
        self._replied_stored: set[tuple[str, str]] = set()
        self._check_stored = check_stored
        self._range_statements = tuple(range_statements)
        self._written: set[int] = set()
        self._known: dict[tuple[str, str], _Known] = {}
        self._tag_forms: dict[tuple[str, ...], str] = {}
        self._keys = ""
        self._key_at = 0
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
            tags_text = self._tags_text(c.tags)
            rows.customers.append(
                (cid, c.display_name, c.first_name, audience, tags_text, self._now)
            )
            for ident in c.identities:
                self._add_identity(rows, cid, ident).customer_tags = _split_tags(tags_text)
            count += 1
        await (await self._submit(rows, 0, -1))
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

    def _tags_text(self, tags: tuple[str, ...]) -> str:
        """The stored form of a tag tuple; generated data shares a few tuples, hence the cache."""
        try:
            text = self._tag_forms.get(tags)
        except TypeError:  # not hashable (a list): no cache
            return tags_text(normalise_tags(tags))
        if text is None:
            text = self._tag_forms[tags] = tags_text(normalise_tags(tags))
        return text

    def _idempotency_key(self) -> str:
        """128 random bits as 32 hex digits, like uuid4().hex, from one os.urandom per 4096."""
        at = self._key_at
        if at >= len(self._keys):
            self._keys = os.urandom(16 * 4096).hex()
            at = 0
        self._key_at = at + 32
        return self._keys[at : at + 32]

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
        fresh = await self._fresh(list(map(storable_mention, batch)))
        await self._load_identities(fresh)
        threads = await self._parent_threads(fresh)
        self._replied_stored = await self._replied_threads(fresh, threads)
        self._replied_batch = set()
        triaged: Sequence[TriageResult | None] = (
            await self._triager.score_batch(fresh, self._known)
            if self._triager is not None else [None] * len(fresh)
        )
        rows = _Rows()
        first = self._next_mention
        add = self._add_mention
        ids = [add(rows, m, threads, t) for m, t in zip(fresh, triaged, strict=True)]
        return ids, await self._submit(rows, first, self._next_mention - 1)

    async def _fresh(self, batch: list[NewMention]) -> list[NewMention]:
        """Drop repeats within the batch and rows already stored (first occurrence wins)."""
        seen: set[tuple[str, str]] = set()
        unique: list[NewMention] = []
        for m in batch:
            key = (m.channel, m.remote_id)
            if key not in seen:
                seen.add(key)
                unique.append(m)
        if self._check_stored:
            suspects = unique
        else:
            written = self._written
            suspects = [m for m in unique if hash((m.channel, m.remote_id)) in written]
        stored = await self._lookup(
            "SELECT m.channel, m.remote_id FROM ({values}) AS k "
            "JOIN mentions m ON m.channel = k.column1 AND m.remote_id = k.column2",
            [(m.channel, m.remote_id) for m in suspects],
        ) if suspects else []
        if stored:
            taken = {(r[0], r[1]) for r in stored}
            unique = [m for m in unique if (m.channel, m.remote_id) not in taken]
        if not self._check_stored:
            self._written.update(hash((m.channel, m.remote_id)) for m in unique)
        return unique

    async def _lookup(self, sql: str, pairs: Sequence[tuple[str, str]]) -> list[Any]:
        out: list[Any] = []
        for start in range(0, len(pairs), _LOOKUP_CHUNK):
            chunk = pairs[start : start + _LOOKUP_CHUNK]
            values = "VALUES " + ", ".join(["(?, ?)"] * len(chunk))
            params = [v for pair in chunk for v in pair]
            out.extend(await self._conn.execute_fetchall(sql.format(values=values), params))
        return out

    async def _load_identities(self, batch: Sequence[NewMention]) -> None:
        known = self._known
        missing = {
            (m.channel, m.author_handle) for m in batch
            if (m.channel, m.author_handle) not in known
        }
        if not missing:
            return
        found = await self._lookup(
            "SELECT i.channel, i.handle, i.id, i.customer_id, i.audience, c.tags "
            "FROM ({values}) AS k "
            "JOIN identities i ON i.channel = k.column1 AND i.handle = k.column2 "
            "JOIN customers c ON c.id = i.customer_id",
            sorted(missing),
        )
        for channel, handle, iid, cid, audience, tags in found:
            known[(channel, handle)] = _Known(iid, cid, audience, _split_tags(tags))

    async def _replied_threads(
        self, batch: Sequence[NewMention], threads: dict[tuple[str, str], str]
    ) -> set[tuple[str, str]]:
        """(channel, thread) of the batch's follow-ups where a stored mention has a reply."""
        wanted: set[tuple[str, str]] = set()
        for m in batch:
            thread = m.thread_id
            if thread is None and m.in_reply_to is not None:
                thread = threads.get((m.channel, m.in_reply_to))
            if thread is not None and thread != m.remote_id:
                wanted.add((m.channel, thread))
        if not wanted:
            return set()
        column = "thread_id" if self._threads_indexed else "remote_id"
        found = await self._lookup(
            f"SELECT DISTINCT m.channel, m.{column} FROM ({{values}}) AS k JOIN mentions m "
            f"ON m.channel = k.column1 AND m.{column} = k.column2 WHERE m.replied_at IS NOT NULL",
            sorted(wanted),
        )
        return {(channel, thread) for channel, thread in found}

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
        self, rows: _Rows, m: NewMention, threads: dict[tuple[str, str], str],
        triage: TriageResult | None = None,
    ) -> int:
        author = self._author(rows, m)
        priority, reasons, lane, tag_tuple = m.priority, "", 0, m.tags
        if triage is not None:
            # Scorers hand back the same few reason tuples again and again: format each once.
            reasons = self._reason_forms.get(triage.reasons)
            if reasons is None:
                if len(self._reason_forms) > 4096:
                    self._reason_forms.clear()
                reasons = self._reason_forms[triage.reasons] = reasons_text(triage.reasons)
            priority, lane = triage.priority, triage.lane
            if triage.tags:
                tag_tuple = (*m.tags, *triage.tags)
        mid = self._next_mention
        self._next_mention = mid + 1
        channel = m.channel
        thread = m.thread_id
        if thread is None and m.in_reply_to is not None:
            thread = threads.get((channel, m.in_reply_to))
        thread = thread or m.remote_id
        # Later rows of the same batch may reply to this one.
        threads[(channel, m.remote_id)] = thread
        tags = self._tags_text(tag_tuple)
        if tags:
            rows.tagged = True
        created = m.created_at
        replied_at = m.replied_at
        reply_text = m.reply_text
        if reply_text is not None and replied_at is None:
            replied_at = created
        key = (channel, thread)
        replied_before = thread != m.remote_id and (
            key in self._replied_stored or key in self._replied_batch
            or key in self._replied_followups
        )
        plan = self._planner.plan(
            channel=channel, priority=priority, tags=tag_tuple,
            customer_tags=author.customer_tags, created_at=created,
            replied_in_thread=replied_before,
        )
        due = m.first_reply_due
        if due is None:
            due = plan.reply_due
        elif plan.reply_target is None:  # the source asked for a deadline: keep it
            plan = DuePlan(plan.policy, "next_reply" if replied_before else "first_reply",
                           due, plan.resolution_due)
        status = m.status.value
        rows.mentions.append(
            (mid, channel, m.remote_id, thread, m.in_reply_to, author.customer_id,
             author.identity_id, m.author_handle, m.author_name, m.text, m.lang, created,
             m.received_at if m.received_at is not None else created, status,
             priority, m.assignee, tags, due, replied_at, m.snoozed_until, m.resolved_at,
             plan.policy, reasons, lane)
        )
        if plan.reply_target is not None or plan.resolution_due is not None:
            rows.outcomes += initial_outcomes(
                mid, plan, reply_due=due, created_at=created, status=status,
                replied_at=replied_at, resolved_at=m.resolved_at, now=self._now,
                pauses=self._planner.pauses(plan.policy, status),
            )
        if replied_at is not None:
            self._replied_batch.add(key)
            if thread != m.remote_id:
                self._replied_followups.add(key)
        if reply_text is not None:
            at = replied_at if replied_at is not None else created
            rows.replies.append(
                (mid, author.customer_id, channel, reply_text, m.reply_author or "agent",
                 self._idempotency_key(), at, at, created)
            )
        return mid

    def _insert(self, insert: str, rows: Sequence[tuple[Any, ...]]) -> list[Awaitable[Any]]:
        """Queue `rows` for the one-row `insert`, as multi-row statements."""
        per = _per_statement(insert)
        return [
            self._conn.execute(
                _multi_row(insert, len(chunk)), list(chain.from_iterable(chunk))
            )
            for chunk in (rows[at : at + per] for at in range(0, len(rows), per))
        ]

    async def _submit(self, rows: _Rows, first: int, last: int) -> Awaitable[object]:
        """Queue the batch's statements, in order, and return once they are all queued.
        `first`..`last` is the id range of the batch's new mentions."""
        conn = self._conn
        calls: list[Awaitable[object]] = []
        if rows.customers:
            calls += self._insert(_INSERT_CUSTOMER, rows.customers)
        if rows.identities:
            calls += self._insert(_INSERT_IDENTITY, rows.identities)
        if rows.mentions:
            calls += self._insert(_INSERT_MENTION, rows.mentions)
        if rows.tagged:
            calls.append(conn.execute(INSERT_TAGS_RANGE, (first, last)))
        if rows.replies:
            calls += self._insert(_INSERT_SENT_REPLY, rows.replies)
        if rows.outcomes:
            calls += self._insert(_INSERT_OUTCOME, rows.outcomes)
        if rows.mentions:
            calls.extend(conn.execute(sql, (first, last)) for sql in self._range_statements)
        if rows.audiences:
            calls.append(conn.executemany(
                "UPDATE identities SET audience = ? WHERE id = ?", rows.audiences
            ))
            calls.append(conn.executemany(
                "UPDATE customers SET audience = (SELECT max(audience) FROM identities "
                "WHERE customer_id = customers.id) WHERE id = ?",
                [(cid,) for cid in sorted(rows.touched_customers)],
            ))
        done = asyncio.gather(*(_closed(call) for call in calls))
        # Tasks start in creation order and each queues its statement on its first step:
        # one turn of the loop puts them all on the aiosqlite queue, in order.
        await asyncio.sleep(0)
        return done
