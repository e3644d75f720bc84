"""The Store: every SQL statement of Comptoir lives behind these methods.

One aiosqlite connection per Store. An asyncio lock serialises the Store's own operations so
that one coroutine's transaction never interleaves with another's statements on the shared
connection; other processes are kept apart by SQLite's locks (WAL, BEGIN IMMEDIATE, busy
timeout).

Durability: the connection runs with `synchronous=NORMAL` (in WAL mode a crash may lose the last
commits but never corrupts). Outbox changes (`queue_reply`, `set_outbox_state`, `bulk_load`)
switch to `synchronous=FULL` for their transaction, so the WAL is fsynced at their COMMIT: a
reply recorded as queued or sent survives a power cut, and so does everything committed before it
(the WAL is sequential).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, suppress
from itertools import islice
from pathlib import Path
from typing import Any, Final, TypeVar

import aiosqlite

from db import queries as q
from db.batch import BatchWriter
from db.errors import (
    DatabaseLocked,
    InvalidTransition,
    NewerSchema,
    NotADatabase,
    NotFound,
    StoreError,
    Unwritable,
)
from db.models import (
    CustomerCard,
    Draft,
    Event,
    HistoryItem,
    Mention,
    NewCustomer,
    NewMention,
    Note,
    OutboxItem,
    OutboxState,
    QueueCounts,
    QueueFilter,
    QueueKey,
    QueueRow,
    Status,
    Template,
)
from db.schema import APPLICATION_ID, BULK_TRIGGERS, LATEST_VERSION, pending, statements
from db.text import storable, storable_optional

SQLITE_MAGIC: Final = b"SQLite format 3\x00"
BULK_BATCH: Final = 10_000
CACHE_KIB: Final = -2000  # SQLite's default page cache (negative: KiB)
BULK_CACHE_KIB: Final = -262144
BULK_SWITCH_INTERVAL: Final = 0.0001  # seconds
# Derived data a bulk load keeps per batch (params: the batch's first and last mention id), in
# the aiosqlite thread while the next batch is being prepared, instead of per row by triggers.
BULK_RANGE_STATEMENTS: Final = (
    "INSERT INTO mentions_fts (rowid, text, author_handle, author_name) "
    "SELECT id, text, author_handle, author_name FROM mentions WHERE id BETWEEN ? AND ?",
)
SYSTEM_ACTOR: Final = "system"

# Which outbox states may follow which: failed/unknown go back to queued for a retry.
OUTBOX_NEXT: Final[dict[OutboxState, frozenset[OutboxState]]] = {
    OutboxState.DRAFT: frozenset({OutboxState.QUEUED}),
    OutboxState.QUEUED: frozenset({OutboxState.SENDING}),
    OutboxState.SENDING: frozenset({OutboxState.SENT, OutboxState.FAILED, OutboxState.UNKNOWN}),
    OutboxState.SENT: frozenset(),
    OutboxState.FAILED: frozenset({OutboxState.QUEUED}),
    OutboxState.UNKNOWN: frozenset({OutboxState.QUEUED}),
}

T = TypeVar("T")


def _shown(path: Path) -> str:
    # Messages are one line even for a path with a newline in it.
    return str(path).replace("\n", "\\n").replace("\r", "\\r")


def translate(error: sqlite3.Error, path: Path) -> StoreError:
    """A one-line StoreError naming the file, for an sqlite3 error."""
    name = getattr(error, "sqlite_errorname", "")
    shown = _shown(path)
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in str(error):
        return DatabaseLocked(f"{shown}: the database is locked by another process")
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):
        return NotADatabase(f"{shown}: not a database, or damaged ({error})")
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_IOERR",
                        "SQLITE_FULL")):
        return Unwritable(f"{shown}: cannot write the database ({error})")
    return StoreError(f"{shown}: database error ({error})")


def _check_header(path: Path) -> None:
    """Reject a file by its first 100 bytes, before SQLite (or anything else) writes to it."""
    try:
        with path.open("rb") as f:
            header = f.read(100)
    except IsADirectoryError:
        raise NotADatabase(f"{_shown(path)}: is a directory, not a database") from None
    except OSError as e:
        raise Unwritable(f"{_shown(path)}: cannot read the file ({e.strerror})") from None
    if not header:
        return  # An empty file is an empty database to SQLite: we may create our schema in it.
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        raise NotADatabase(f"{_shown(path)}: not a SQLite database")
    version = int.from_bytes(header[60:64], "big")
    app_id = int.from_bytes(header[68:72], "big")
    _check_identity(path, version, app_id)


def _check_identity(path: Path, version: int, app_id: int) -> None:
    if version > 0 and app_id != APPLICATION_ID:
        raise NotADatabase(f"{_shown(path)}: a SQLite database, but not a Comptoir one")
    if version > LATEST_VERSION:
        raise NewerSchema(
            f"{_shown(path)}: written by a newer Comptoir (schema {version}, this one knows "
            f"{LATEST_VERSION}); upgrade Comptoir to open it"
        )


def _check_writable(path: Path, create: bool) -> None:
    if not path.exists():
        if not create:
            raise StoreError(f"{_shown(path)}: no such database")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise Unwritable(f"{_shown(path)}: cannot create its folder ({e.strerror})") from None
    else:
        try:
            # Opening for writing without writing changes neither the bytes nor the mtime.
            os.close(os.open(path, os.O_RDWR))
        except IsADirectoryError:
            raise NotADatabase(f"{_shown(path)}: is a directory, not a database") from None
        except OSError as e:
            raise Unwritable(f"{_shown(path)}: cannot write the file ({e.strerror})") from None
    # WAL needs to create the -wal and -shm files next to the database.
    if not os.access(path.parent, os.W_OK):
        raise Unwritable(f"{_shown(path)}: cannot write in its folder")
    try:
        with tempfile.TemporaryFile(dir=path.parent):
            pass
    except OSError as e:
        raise Unwritable(f"{_shown(path)}: cannot write in its folder ({e.strerror})") from None


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


class Store:
    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self._path = path
        self._lock = asyncio.Lock()

    # --- opening -----------------------------------------------------------------------------
    @classmethod
    async def open(
        cls, path: str | Path, *, create: bool = True, busy_timeout_ms: int = 5000
    ) -> Store:
        """Open (creating if allowed) and migrate. Raises NotADatabase, NewerSchema, Unwritable,
        DatabaseLocked with a one-line message naming the file; never modifies a file it rejects.

        Every check that can reject the file runs before the first write (the switch to WAL)."""
        p = Path(path).expanduser().absolute()
        existed = p.exists()
        _check_writable(p, create)
        if existed:
            _check_header(p)
        try:
            conn = await aiosqlite.connect(
p, isolation_level=None, timeout=busy_timeout_ms / 1000)
        except sqlite3.Error as e:
            raise translate(e, p) from None
        store = cls(conn, p)
        try:
            await store._inspect()
            await store._configure()
            await store._migrate()
        except BaseException as e:
            await conn.close()
            if isinstance(e, sqlite3.Error):
                raise translate(e, p) from None
            raise
        return store

    async def _inspect(self) -> None:
        """Read-only checks through SQLite (the header may be stale while a WAL is pending)."""
        version = await self._scalar("PRAGMA user_version")
        app_id = await self._scalar("PRAGMA application_id")
        objects = await self._scalar("SELECT count(*) FROM sqlite_master")
        _check_identity(self._path, version, app_id)
        if version == 0 and objects > 0:
            raise NotADatabase(f"{_shown(self._path)}: a SQLite database, but not a Comptoir one")

    async def _configure(self) -> None:
        mode = await self._conn.execute_fetchall("PRAGMA journal_mode = WAL")
        if str(next(iter(mode))[0]).lower() != "wal":
            raise Unwritable(f"{_shown(self._path)}: cannot switch the database to WAL mode")
        await self._conn.execute("PRAGMA foreign_keys = ON")
        await self._conn.execute("PRAGMA synchronous = NORMAL")

    async def _migrate(self, target: int | None = None) -> None:
        current = await self._scalar("PRAGMA user_version")
        for step in pending(current):
            if target is not None and step.version > target:
                break
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                for stmt in statements(step.sql):
                    await self._conn.execute(stmt)
                await self._conn.execute(f"PRAGMA user_version = {int(step.version)}")
                await self._conn.execute("COMMIT")
            except BaseException:
                await self._rollback()
                raise

    async def close(self) -> None:
        async with self._lock:
            with suppress(sqlite3.Error):
                await self._conn.execute("PRAGMA optimize")
            await self._conn.close()

    @property
    def path(self) -> Path:
        return self._path

    # --- plumbing ----------------------------------------------------------------------------
    async def _scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = list(await self._conn.execute_fetchall(sql, params))
        return rows[0][0] if rows else None

    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(await self._conn.execute_fetchall(sql, params))

    async def _rollback(self) -> None:
        if self._conn.in_transaction:
            with suppress(sqlite3.Error):
                await self._conn.execute("ROLLBACK")

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[None]:
        async with self._lock:
            try:
                yield
            except sqlite3.Error as e:
                raise translate(e, self._path) from None

    @asynccontextmanager
    async def _snapshot(self) -> AsyncIterator[None]:
        """Several reads that must agree with each other (one read transaction)."""
        async with self._read():
            await self._conn.execute("BEGIN")
            try:
                yield
            finally:
                await self._rollback()

    @asynccontextmanager
    async def _write(self, *, durable: bool = False,
                     foreign_keys: bool = True) -> AsyncIterator[None]:
        """One write transaction. `foreign_keys=False` (bulk_load only: it allocates every id it
        writes itself) skips the per-row parent lookups; the pragma only changes outside a
        transaction, hence here."""
        async with self._lock:
            try:
                if durable:
                    await self._conn.execute("PRAGMA synchronous = FULL")
                if not foreign_keys:
                    await self._conn.execute("PRAGMA foreign_keys = OFF")
                try:
                    await self._conn.execute("BEGIN IMMEDIATE")
                    try:
                        yield
                        await self._conn.execute("COMMIT")
                    except BaseException:
                        await self._rollback()
                        raise
                finally:
                    if not foreign_keys:
                        await self._conn.execute("PRAGMA foreign_keys = ON")
                    if durable:
                        await self._conn.execute("PRAGMA synchronous = NORMAL")
            except sqlite3.Error as e:
                raise translate(e, self._path) from None

    async def _event(self, mention_id: int | None, actor: str, action: str, detail: str,
                     at: int) -> None:
        await self._conn.execute(
            "INSERT INTO events (mention_id, actor, action, detail, at) VALUES (?, ?, ?, ?, ?)",
            (mention_id, actor, action, detail, at),
        )

    async def _mention(self, mention_id: int) -> Mention | None:
        rows = await self._rows(f"SELECT {q.MENTION_COLS} FROM mentions WHERE id = ?",
                                (mention_id,))
        return q.mention(rows[0]) if rows else None

    async def _must_mention(self, mention_id: int) -> Mention:
        m = await self._mention(mention_id)
        if m is None:
            raise NotFound(f"mention {mention_id} not found")
        return m

    async def _outbox(self, outbox_id: int) -> OutboxItem | None:
        rows = await self._rows(f"SELECT {q.OUTBOX_COLS} FROM outbox WHERE id = ?", (outbox_id,))
        return q.outbox(rows[0]) if rows else None

    # --- queue -------------------------------------------------------------------------------
    async def queue_window(
        self,
        flt: QueueFilter,
        *,
        after: QueueKey | None = None,
        before: QueueKey | None = None,
        limit: int = 50,
    ) -> list[QueueRow]:
        """Rows in queue order (sort_due, id) strictly after `after` (or from the start), or, with
        `before`, the `limit` rows just before it, still returned in ascending order. With neither,
        the first rows. `from_end=True`-like behaviour: `before=QueueKey(NO_DUE + 1, 0)` gives
        the last page. Keyset pagination on an index: cost independent of queue size."""
        query = q.fts_query(flt.search) if flt.search else None
        async with self._read():
            dense = query is not None and await self._scalar(
                q.SEARCH_COUNT_SQL, (query, q.SEARCH_DENSE + 1)
            ) > q.SEARCH_DENSE
            plan = q.queue_sql(flt, after, before, limit, dense_search=dense)
            rows = await self._rows(plan.sql, plan.params)
        out = [q.queue_row(r) for r in rows]
        if plan.descending:
            out.reverse()
        return out

    async def queue_row(self, mention_id: int) -> QueueRow | None:
        plan_cols = (
            f"id, channel, author_handle, author_name, substr(text, 1, {q.EXCERPT_CHARS}), "
            "status, assignee, tags, first_reply_due, sort_due, priority, created_at, customer_id"
        )
        async with self._read():
            rows = await self._rows(f"SELECT {plan_cols} FROM mentions WHERE id = ?",
                                    (mention_id,))
        return q.queue_row(rows[0]) if rows else None

    async def counts(self) -> QueueCounts:
        async with self._read():
            rows = await self._rows("SELECT status, channel, n FROM counters WHERE n != 0")
        by_status: dict[str, int] = {}
        by_channel: dict[str, int] = {}
        by_pair: dict[tuple[str, str], int] = {}
        for status, channel, n in rows:
            by_status[status] = by_status.get(status, 0) + n
            by_channel[channel] = by_channel.get(channel, 0) + n
            by_pair[(channel, status)] = n
        return QueueCounts(by_status, by_channel, by_pair)

    async def breached_count(self, now: int) -> int:
        """Mentions of lane 0 with sort_due < now, counted on the mentions_awaiting index."""
        async with self._read():
            return int(await self._scalar(q.BREACHED_COUNT_SQL, (now,)))

    async def mention(self, mention_id: int) -> Mention | None:
        async with self._read():
            return await self._mention(mention_id)

    async def thread(self, mention_id: int) -> list[Mention]:
        """Every stored mention of the mention's conversation, oldest first."""
        async with self._read():
            rows = await self._rows(
                f"SELECT {q.MENTION_COLS} FROM mentions WHERE (channel, thread_id) = "
                "(SELECT channel, thread_id FROM mentions WHERE id = ?) ORDER BY created_at, id",
                (mention_id,),
            )
        return [q.mention(r) for r in rows]

    async def customer_card(self, customer_id: int) -> CustomerCard | None:
        async with self._snapshot():
            crow = await self._rows(f"SELECT {q.CUSTOMER_COLS} FROM customers WHERE id = ?",
                                    (customer_id,))
            if not crow:
                return None
            idents = await self._rows(
                f"SELECT {q.IDENTITY_COLS} FROM identities WHERE customer_id = ? ORDER BY id",
                (customer_id,),
            )
            notes = await self._rows(
                f"SELECT {q.NOTE_COLS} FROM notes WHERE customer_id = ? "
                "ORDER BY created_at DESC, id DESC",
                (customer_id,),
            )
        return CustomerCard(
            q.customer(crow[0]),
            tuple(q.identity(r) for r in idents),
            tuple(q.note(r) for r in notes),
        )

    async def customer_history(self, customer_id: int, *, limit: int = 50) -> list[HistoryItem]:
        """The customer's mentions and our replies to them, newest first: two index range scans
        (mentions by customer, outbox by customer) merged, each cut at `limit`."""
        sql = (
            "SELECT * FROM (SELECT 'mention', id, id, channel, text, created_at, status, "
            "author_handle FROM mentions WHERE customer_id = ? "
            "ORDER BY created_at DESC, id DESC LIMIT ?) "
            "UNION ALL SELECT * FROM (SELECT 'reply', id, mention_id, channel, text, created_at, "
            "state, author FROM outbox WHERE customer_id = ? "
            "ORDER BY created_at DESC, id DESC LIMIT ?) "
            "ORDER BY 6 DESC, 1 DESC, 2 DESC LIMIT ?"
        )
        async with self._read():
            rows = await self._rows(sql, (customer_id, limit, customer_id, limit, limit))
        return [HistoryItem(*r) for r in rows]

    # --- agent actions -----------------------------------------------------------------------
    async def set_status(
        self, mention_id: int, status: Status, *, actor: str, now: int,
        snooze_until: int | None = None,
    ) -> Mention:
        status = Status(status)
        if status is Status.SNOOZED and (snooze_until is None or snooze_until <= now):
            raise InvalidTransition("snoozing needs a wake-up time in the future")
        async with self._write():
            before = await self._must_mention(mention_id)
            await self._conn.execute(
                "UPDATE mentions SET status = ?, snoozed_until = ?, "
                "resolved_at = CASE WHEN ? THEN ? END WHERE id = ?",
                (status.value, snooze_until if status is Status.SNOOZED else None,
                 status is Status.RESOLVED, now, mention_id),
            )
            detail = f"{before.status.value} -> {status.value}"
            if status is Status.SNOOZED:
                detail += f" until {snooze_until}"
            await self._event(mention_id, actor, "status", detail, now)
            return await self._must_mention(mention_id)

    async def assign(self, mention_id: int, assignee: str | None, *, actor: str,
                     now: int) -> Mention:
        async with self._write():
            await self._must_mention(mention_id)
            await self._conn.execute("UPDATE mentions SET assignee = ? WHERE id = ?",
                                     (assignee, mention_id))
            await self._event(mention_id, actor, "assign", assignee or "", now)
            return await self._must_mention(mention_id)

    async def set_tags(self, mention_id: int, tags: Sequence[str], *, actor: str,
                       now: int) -> Mention:
        clean = q.normalise_tags([storable(tag) for tag in tags])
        async with self._write():
            await self._must_mention(mention_id)
            await self._conn.execute("UPDATE mentions SET tags = ? WHERE id = ?",
                                     (q.tags_text(clean), mention_id))
            await self._conn.execute("DELETE FROM mention_tags WHERE mention_id = ?",
                                     (mention_id,))
            await self._conn.executemany(
                "INSERT INTO mention_tags (tag, mention_id, lane, sort_due) "
                "SELECT ?, id, lane, sort_due FROM mentions WHERE id = ?",
                [(tag, mention_id) for tag in clean],
            )
            await self._event(mention_id, actor, "tags", ",".join(clean), now)
            return await self._must_mention(mention_id)

    async def add_note(self, mention_id: int, text: str, *, author: str, now: int) -> Note:
        text = storable(text)
        async with self._write():
            m = await self._must_mention(mention_id)
            cur = await self._conn.execute(
                "INSERT INTO notes (customer_id, mention_id, author, text, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (m.customer_id, mention_id, author, text, now),
            )
            note_id = cur.lastrowid
            assert note_id is not None
            await self._event(mention_id, author, "note", str(note_id), now)
        return Note(note_id, m.customer_id, mention_id, author, text, now)

    async def wake_snoozed(self, now: int) -> list[int]:
        async with self._write():
            rows = await self._rows(
                "UPDATE mentions SET status = 'open', snoozed_until = NULL "
                "WHERE status = 'snoozed' AND snoozed_until <= ? RETURNING id",
                (now,),
            )
            ids = sorted(r[0] for r in rows)
            await self._conn.executemany(
                "INSERT INTO events (mention_id, actor, action, detail, at) "
                "VALUES (?, ?, 'status', 'snoozed -> open', ?)",
                [(mid, SYSTEM_ACTOR, now) for mid in ids],
            )
        return ids

    async def events(self, mention_id: int) -> list[Event]:
        async with self._read():
            rows = await self._rows(
                f"SELECT {q.EVENT_COLS} FROM events WHERE mention_id = ? ORDER BY id",
                (mention_id,),
            )
        return [q.event(r) for r in rows]

    # --- drafts and outbox -------------------------------------------------------------------
    async def save_draft(self, mention_id: int, text: str, template_id: int | None, *,
                         now: int) -> None:
        text = storable(text)
        async with self._write():
            await self._must_mention(mention_id)
            await self._conn.execute(
                "INSERT INTO drafts (mention_id, text, template_id, updated_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (mention_id) DO UPDATE SET "
                "text = excluded.text, template_id = excluded.template_id, "
                "updated_at = excluded.updated_at",
                (mention_id, text, template_id, now),
            )

    async def draft(self, mention_id: int) -> Draft | None:
        async with self._read():
            rows = await self._rows(f"SELECT {q.DRAFT_COLS} FROM drafts WHERE mention_id = ?",
                                    (mention_id,))
        return q.draft(rows[0]) if rows else None

    async def queue_reply(self, mention_id: int, text: str, *, author: str,
                          now: int) -> OutboxItem:
        """Queue a reply: outbox row (with its idempotency key), draft gone, mention pending and
        its first-reply clock stopped, all in one durable transaction."""
        text = storable(text)
        async with self._write(durable=True):
            m = await self._must_mention(mention_id)
            cur = await self._conn.execute(
                "INSERT INTO outbox (mention_id, customer_id, channel, text, state, author, "
                "idempotency_key, attempts, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, 'queued', ?, ?, 0, ?, ?)",
                (mention_id, m.customer_id, m.channel, text, author, uuid.uuid4().hex, now, now),
            )
            outbox_id = cur.lastrowid
            assert outbox_id is not None
            await self._conn.execute("DELETE FROM drafts WHERE mention_id = ?", (mention_id,))
            await self._conn.execute(
                "UPDATE mentions SET status = 'pending', resolved_at = NULL, "
                "snoozed_until = NULL, replied_at = coalesce(replied_at, ?) WHERE id = ?",
                (now, mention_id),
            )
            await self._event(mention_id, author, "reply", f"outbox {outbox_id} queued", now)
            item = await self._outbox(outbox_id)
        assert item is not None
        return item

    async def outbox_for_mention(self, mention_id: int) -> list[OutboxItem]:
        async with self._read():
            rows = await self._rows(
                f"SELECT {q.OUTBOX_COLS} FROM outbox WHERE mention_id = ? ORDER BY id",
                (mention_id,),
            )
        return [q.outbox(r) for r in rows]

    async def outbox_counts(self) -> dict[OutboxState, int]:
        """How many replies are in each unfinished state (queued, sending, failed, unknown):
        for the status line every second, so one index-only pass over the partial index."""
        async with self._read():
            rows = await self._rows(
                "SELECT state, count(*) FROM outbox WHERE state NOT IN ('sent', 'draft') "
                "GROUP BY state"
            )
        return {OutboxState(state): count for state, count in rows}

    async def outbox_in_state(self, state: OutboxState, *, limit: int = 100) -> list[OutboxItem]:
        # Ordered by id (creation order) so the partial index serves in-flight states directly.
        async with self._read():
            rows = await self._rows(
                f"SELECT {q.OUTBOX_COLS} FROM outbox WHERE state = ? ORDER BY id LIMIT ?",
                (OutboxState(state).value, limit),
            )
        return [q.outbox(r) for r in rows]

    async def set_outbox_state(
        self, outbox_id: int, state: OutboxState, *, now: int,
        remote_id: str | None = None, error: str | None = None,
    ) -> OutboxItem:
        state = OutboxState(state)
        error = storable_optional(error)  # a server's reason is outside text too
        remote_id = storable_optional(remote_id)
        async with self._write(durable=True):
            item = await self._outbox(outbox_id)
            if item is None:
                raise NotFound(f"outbox item {outbox_id} not found")
            if state not in OUTBOX_NEXT[item.state]:
                raise InvalidTransition(
                    f"outbox item {outbox_id}: cannot go from {item.state.value} to {state.value}"
                )
            await self._conn.execute(
                "UPDATE outbox SET state = ?, updated_at = ?, "
                "attempts = attempts + (? = 'sending'), "
                "remote_id = coalesce(?, remote_id), "
                "error = CASE WHEN ? = 'sent' THEN NULL ELSE coalesce(?, error) END "
                "WHERE id = ?",
                (state.value, now, state.value, remote_id, state.value, error, outbox_id),
            )
            await self._event(
                item.mention_id, SYSTEM_ACTOR, "outbox",
                f"{outbox_id} {item.state.value} -> {state.value}", now,
            )
            updated = await self._outbox(outbox_id)
        assert updated is not None
        return updated

    # --- templates ---------------------------------------------------------------------------
    async def templates(self) -> list[Template]:
        async with self._read():
            rows = await self._rows(f"SELECT {q.TEMPLATE_COLS} FROM templates ORDER BY name, lang")
        return [q.template(r) for r in rows]

    async def add_template(self, name: str, lang: str, body: str) -> Template:
        name, lang, body = storable(name), storable(lang), storable(body)
        async with self._write():
            taken = await self._rows("SELECT 1 FROM templates WHERE name = ? AND lang = ?",
                                     (name, lang))
            if taken:
                raise StoreError(f"a template named {name!r} in {lang!r} exists already")
            cur = await self._conn.execute(
                "INSERT INTO templates (name, lang, body) VALUES (?, ?, ?)", (name, lang, body)
            )
            template_id = cur.lastrowid
        assert template_id is not None
        return Template(template_id, name, lang, body)

    # --- ingest ------------------------------------------------------------------------------
    async def ingest(self, mentions: Sequence[NewMention], *, now: int,
                     first_reply_sla: int) -> list[int]:
        """Store new mentions from a channel in one transaction; ids of the rows actually
        inserted (repeats of stored (channel, remote_id) pairs are skipped)."""
        if not mentions:
            return []
        async with self._write():
            writer = BatchWriter(self._conn, now=now, first_reply_sla=first_reply_sla)
            await writer.start()
            return await writer.write(mentions)

    async def bulk_load(
        self, customers: Iterable[NewCustomer], mentions: Iterable[NewMention], *,
        now: int, first_reply_sla: int,
    ) -> int:
        """Fast path for generated data, in one transaction: the mention indexes and the
        per-row counter and full-text triggers are dropped during the load, and the counters
        and full-text index are brought up to date for the new rows (building an index once is
        much faster than updating it a million times). Foreign keys are not checked row by row:
        every id written is allocated by the load itself.

        While it runs, the interpreter's switch interval is shortened: the aiosqlite thread
        needs the GIL briefly between statements, and with the default 5 ms it would wait that
        long each time while this thread prepares the next batch."""
        switch = sys.getswitchinterval()
        sys.setswitchinterval(min(switch, BULK_SWITCH_INTERVAL))
        try:
            return await self._bulk_load(customers, mentions, now=now,
                                         first_reply_sla=first_reply_sla)
        finally:
            sys.setswitchinterval(switch)

    async def _bulk_load(
        self, customers: Iterable[NewCustomer], mentions: Iterable[NewMention], *,
        now: int, first_reply_sla: int,
    ) -> int:
        async with self._write(durable=True, foreign_keys=False):
            had_mentions = bool(await self._scalar("SELECT EXISTS (SELECT 1 FROM mentions)"))
            saved = await self._drop_for_bulk()
            await self._conn.execute(f"PRAGMA cache_size = {BULK_CACHE_KIB}")
            try:
                writer = BatchWriter(
                    self._conn, now=now, first_reply_sla=first_reply_sla,
                    check_stored=had_mentions, range_statements=BULK_RANGE_STATEMENTS,
                )
                await writer.start()
                first_id = writer.next_mention_id
                await writer.add_customers(customers)
                count = 0
                pending: Awaitable[object] | None = None
                try:
                    # The next batch is pulled from `mentions` (often a generator doing real work)
                    # and prepared while SQLite writes the previous one in the aiosqlite thread.
                    for batch in _chunks(mentions, BULK_BATCH):
                        ids, submitted = await writer.write_submitted(batch)
                        if pending is not None:
                            await pending
                        pending = submitted
                        count += len(ids)
                finally:
                    if pending is not None:
                        await pending
                await self._catch_up_derived(first_id)
                for sql in saved:
                    await self._conn.execute(sql)
            finally:
                await self._conn.execute(f"PRAGMA cache_size = {CACHE_KIB}")
        return count

    async def _drop_for_bulk(self) -> list[str]:
        """Drop the mention and outbox indexes and the bulk-rebuildable triggers; return their
        SQL. Unique indexes are checked again when they are rebuilt, so nothing slips in."""
        rows = await self._rows(
            "SELECT type, name, sql FROM sqlite_master "
            "WHERE tbl_name IN ('mentions', 'mention_tags', 'outbox') "
            "AND sql IS NOT NULL AND (type = 'index' OR (type = 'trigger' AND name IN (?, ?)))",
            BULK_TRIGGERS,
        )
        for kind, name, _sql in rows:
            await self._conn.execute(f'DROP {kind.upper()} "{name}"')
        return [sql for _kind, _name, sql in rows]

    async def _catch_up_derived(self, first_id: int) -> None:
        await self._conn.execute(
            "INSERT INTO counters (status, channel, n) SELECT status, channel, count(*) "
            "FROM mentions WHERE id >= ? GROUP BY status, channel "
            "ON CONFLICT (status, channel) DO UPDATE SET n = n + excluded.n",
            (first_id,),
        )
