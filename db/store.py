"""The Store: every SQL statement of Comptoir lives behind these methods.

Two aiosqlite connections per Store, each with its own thread: the writer, for every write
transaction (an asyncio lock serialises them, so one coroutine's transaction never interleaves
with another's statements), and a read-only reader for everything inside `_read()`/`_snapshot()`.
In WAL mode a reader never waits for a writer: the console's queue and detail reads go on while
a sync ingest holds the writer, or while the writer waits (busy timeout) for another process's
write lock. A read sees every transaction committed before it starts, so a read after one's own
write sees it. Other processes are kept apart by SQLite's locks (WAL, BEGIN IMMEDIATE, busy
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
from contextvars import ContextVar
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
    MentionActions,
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
from db.sla import OUTCOME_COLS, DuePlanner, FixedPlanner, SlaOutcome, apply_change
from db.text import storable, storable_optional
from db.topics import HORIZON as TOPIC_HORIZON
from db.topics import TopicSource, record_topics
from db.triage import TRIAGE_EVENT, TRIAGE_LANES, Scorer

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
# New breaches marked per statement by mark_breaches: a backlog (a console that was closed over a
# weekend) is caught up in short write transactions instead of one long one.
BREACH_BATCH: Final = 2000

# Which outbox states may follow which: failed/unknown go back to queued for a retry.
# - sending -> queued: the send was deferred (rate limited before the request went out). Safe
#   even if it did go out: a queued row with attempts > 0 is looked up on the channel before it
#   is posted again (console/sync/outbox_sender.py).
# - unknown -> sent: the channel was asked and shows the reply (its remote id is recorded).
# Never queued -> sent (a reply is sent only through sending, committed before the network
# call), never out of sent, never unknown -> failed (it may be out: only the channel can say).
OUTBOX_NEXT: Final[dict[OutboxState, frozenset[OutboxState]]] = {
    OutboxState.DRAFT: frozenset({OutboxState.QUEUED}),
    OutboxState.QUEUED: frozenset({OutboxState.SENDING}),
    OutboxState.SENDING: frozenset({OutboxState.SENT, OutboxState.FAILED, OutboxState.UNKNOWN,
                                    OutboxState.QUEUED}),
    OutboxState.SENT: frozenset(),
    OutboxState.FAILED: frozenset({OutboxState.QUEUED}),
    OutboxState.UNKNOWN: frozenset({OutboxState.QUEUED, OutboxState.SENT}),
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


def _keep_recent(mentions: Iterable[NewMention], oldest: int,
                 into: list[NewMention]) -> Iterator[NewMention]:
    for m in mentions:
        if m.created_at >= oldest:
            into.append(m)
        yield m


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


class Store:
    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self._path = path
        self._lock = asyncio.Lock()
        # The reader (opened by `open` once the schema is migrated) and what serialises its
        # users: `_snapshot` needs it alone between BEGIN and ROLLBACK.
        self._reader: aiosqlite.Connection | None = None
        self._read_lock = asyncio.Lock()
        # Set inside `_read()` for the current task only, so `self._conn` there is the reader
        # while another task's write transaction goes on on the writer.
        self._reading: ContextVar[aiosqlite.Connection | None] = ContextVar(
            f"store-reading-{id(self)}", default=None
        )
        # The SLA policies (console/sla_planner.py): each new mention's policy and deadlines,
        # and the business-hours arithmetic when its clocks pause and resume (db/sla.py).
        # None: one 24/7 first-reply target of the `first_reply_sla` given to ingest/bulk_load.
        self.due_planner: DuePlanner | None = None
        # Names the crisis topics of new mentions (console/crisis.py); None: no topic counts.
        self.topic_source: TopicSource | None = None
        # Scores each new mention (console/triage.py through the db/triage.py protocol): its
        # priority, reasons, spam lane and tags. None: rows are stored as given, main lane.
        self.triage: Scorer | None = None

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
            await store._open_reader(busy_timeout_ms)
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
        # Deleted and overwritten rows (drafts replaced on every keystroke, a customer's posts
        # erased on request) are zeroed, not left in free space where a later erasure could
        # not reach them. Debian's SQLite has it on by default; macOS's and python.org's builds
        # do not. Measured cost: none beyond noise (ingest 20k mentions in batches of 500,
        # ~20,700/s either way; bulk_load of 100k, 3.2 s either way; draft saves the same).
        await self._conn.execute("PRAGMA secure_delete = ON")

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

    async def _open_reader(self, busy_timeout_ms: int) -> None:
        reader = await aiosqlite.connect(self._path, isolation_level=None,
                                         timeout=busy_timeout_ms / 1000)
        try:
            # A statement that writes inside `_read()` is a bug: fail it, whoever wrote it.
            await reader.execute("PRAGMA query_only = ON")
        except BaseException:
            await reader.close()
            raise
        self._reader = reader

    @property
    def _conn(self) -> aiosqlite.Connection:
        """The connection for this task's statements: the reader inside `_read()`, else the
        writer (write transactions, and the plumbing of `open`)."""
        return self._reading.get() or self._writer

    @_conn.setter
    def _conn(self, conn: aiosqlite.Connection) -> None:
        self._writer = conn

    async def close(self) -> None:
        async with self._lock:
            with suppress(sqlite3.Error):
                await self._conn.execute("PRAGMA optimize")
            await self._conn.close()
        reader, self._reader = self._reader, None
        if reader is not None:
            async with self._read_lock:
                await reader.close()

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
        """Reads on the reader connection: they wait neither for a write transaction of this
        Store nor for its writer waiting on another process's lock."""
        reader = self._reader
        if self._reading.get() is not None:
            yield  # nested in a read: on the outer read's connection, under its lock
            return
        if reader is None:
            # Not open yet (`open` itself): the writer, serialised as for a write.
            async with self._lock:
                try:
                    yield
                except sqlite3.Error as e:
                    raise translate(e, self._path) from None
            return
        async with self._read_lock:
            token = self._reading.set(reader)
            try:
                yield
            except sqlite3.Error as e:
                raise translate(e, self._path) from None
            finally:
                self._reading.reset(token)

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
        async with self._snapshot():  # the two counter tables must agree
            rows = await self._rows("SELECT status, channel, n FROM counters WHERE n != 0")
            spam = await self._rows(
                "SELECT status, n FROM triage_counters WHERE triage_lane = ? AND n != 0",
                (TRIAGE_LANES["spam"],),
            )
        by_status: dict[str, int] = {}
        by_channel: dict[str, int] = {}
        by_pair: dict[tuple[str, str], int] = {}
        for status, channel, n in rows:
            by_status[status] = by_status.get(status, 0) + n
            by_channel[channel] = by_channel.get(channel, 0) + n
            by_pair[(channel, status)] = n
        return QueueCounts(by_status, by_channel, by_pair, spam_by_status=dict(spam))

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
            await self._move_clocks(mention_id, before.status.value, status.value, now)
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
        # Called every second: look first (reader, partial index mentions_snoozed), and take the
        # write lock only when a mention is due, instead of a BEGIN IMMEDIATE a second that
        # waits (busy timeout) for whichever process is writing, a sync ingest for one.
        async with self._read():
            due = await self._scalar(
                "SELECT EXISTS (SELECT 1 FROM mentions "
                "WHERE status = 'snoozed' AND snoozed_until <= ?)",
                (now,),
            )
        if not due:
            return []
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
            for mid in ids:
                await self._move_clocks(mid, Status.SNOOZED.value, Status.OPEN.value, now)
        return ids

    # --- SLA clocks (db/sla.py) ----------------------------------------------------------------
    def _due_planner(self) -> DuePlanner:
        # Without policies only the arithmetic is needed here, and 24/7 needs no target.
        return self.due_planner or FixedPlanner(0)

    async def _move_clocks(self, mention_id: int, old_status: str, new_status: str, at: int,
                           *, replied: bool = False) -> None:
        """Pause, resume or finish the mention's SLA clocks (inside the caller's write): at most
        two rows read and written by primary key, and the queue's due when the reply clock got a
        new deadline."""
        rows = await self._rows(
            f"SELECT {OUTCOME_COLS} FROM sla_outcomes WHERE mention_id = ?", (mention_id,)
        )
        if not rows:
            return
        change = apply_change(
            [SlaOutcome(*r) for r in rows], self._due_planner(),
            old_status=old_status, new_status=new_status, at=at, replied=replied,
        )
        if change.rows:
            await self._conn.executemany(
                "UPDATE sla_outcomes SET due_at = ?, completed_at = ?, breached_at = ?, "
                "paused_at = ? WHERE mention_id = ? AND target = ?",
                [(o.due_at, o.completed_at, o.breached_at, o.paused_at, o.mention_id, o.target)
                 for o in change.rows],
            )
        if change.reply_due is not None:
            await self._conn.execute(
                "UPDATE mentions SET first_reply_due = ? WHERE id = ?",
                (change.reply_due, mention_id),
            )

    async def sla_outcomes(self, mention_id: int) -> list[SlaOutcome]:
        """The mention's SLA clocks, reply target first (for the detail pane)."""
        async with self._read():
            rows = await self._rows(
                f"SELECT {OUTCOME_COLS} FROM sla_outcomes WHERE mention_id = ? "
                "ORDER BY target = 'resolution', target",
                (mention_id,),
            )
        return [SlaOutcome(*r) for r in rows]

    async def mark_breaches(self, now: int, *, max_batches: int | None = None) -> int:
        """Record as breached every clock still running past its due, even if nobody replies;
        returns how many. Reads only the partial index of running clocks, and writes only when
        there is something to write. The console calls this every tick with ``max_batches=1``:
        a backlog left by a closed console is then caught up one short write per tick while the
        agent works, instead of a run of writes competing with the first key presses (reports
        count a running clock past due as breached meanwhile)."""
        async with self._read():
            late = await self._scalar(
                "SELECT EXISTS (SELECT 1 FROM sla_outcomes INDEXED BY sla_outcomes_running "
                "WHERE completed_at IS NULL AND breached_at IS NULL AND paused_at IS NULL "
                "AND due_at < ?)",
                (now,),
            )
        if not late:
            return 0
        total = 0
        batches = 0
        while True:
            batches += 1
            async with self._write():
                cursor = await self._conn.execute(
                    "UPDATE sla_outcomes SET breached_at = due_at "
                    "WHERE (mention_id, target) IN (SELECT mention_id, target FROM sla_outcomes "
                    "INDEXED BY sla_outcomes_running WHERE completed_at IS NULL "
                    "AND breached_at IS NULL AND paused_at IS NULL AND due_at < ? LIMIT ?)",
                    (now, BREACH_BATCH),
                )
                count = cursor.rowcount
                await cursor.close()
            total += count
            if count < BREACH_BATCH or (max_batches is not None and batches >= max_batches):
                return total

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
        async with self._write(durable=True):
            outbox_id = await self._queue_reply_tx(mention_id, text, author=author, now=now)
            item = await self._outbox(outbox_id)
        assert item is not None
        return item

    async def queue_replies(self, replies: Sequence[tuple[int, str]], *, author: str,
                            now: int) -> list[OutboxItem]:
        """Queue many replies (mention id, text) at once, each exactly as `queue_reply` does, in
        one durable transaction: a crisis bulk reply is all queued or not at all. The outbox
        sender paces their delivery by each channel's rate limits."""
        if not replies:
            return []
        async with self._write(durable=True):
            ids = [await self._queue_reply_tx(mention_id, text, author=author, now=now)
                   for mention_id, text in replies]
            items = [await self._outbox(outbox_id) for outbox_id in ids]
        return [item for item in items if item is not None]

    async def _queue_reply_tx(self, mention_id: int, text: str, *, author: str,
                              now: int) -> int:
        """The writes of one queued reply, inside the caller's write transaction."""
        text = storable(text)
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
        await self._move_clocks(mention_id, m.status.value, Status.PENDING.value, now,
                                replied=True)
        return outbox_id

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
        remote_key: str | None = None, remote_url: str | None = None,
    ) -> OutboxItem:
        """Move one outbox row to `state` (checked against OUTBOX_NEXT) in one durable commit.

        `remote_key` is kept only if the row has none yet: the key chosen before the first
        attempt must stay the same on every retry (a second key could post a second record)."""
        state = OutboxState(state)
        error = storable_optional(error)  # a server's reason is outside text too
        remote_id = storable_optional(remote_id)
        remote_key = storable_optional(remote_key)
        remote_url = storable_optional(remote_url)
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
                "remote_key = coalesce(remote_key, ?), remote_url = coalesce(?, remote_url), "
                "error = CASE WHEN ? = 'sent' THEN NULL ELSE coalesce(?, error) END "
                "WHERE id = ?",
                (state.value, now, state.value, remote_id, remote_key, remote_url, state.value,
                 error, outbox_id),
            )
            await self._event(
                item.mention_id, SYSTEM_ACTOR, "outbox",
                f"{outbox_id} {item.state.value} -> {state.value}", now,
            )
            updated = await self._outbox(outbox_id)
        assert updated is not None
        return updated

    # --- triage ------------------------------------------------------------------------------
    async def set_triage_lane(self, mention_id: int, lane: str, *, actor: str,
                              now: int) -> Mention:
        """An agent's "spam" / "not spam": move the mention to `lane` ("main" or "spam") and log
        it (action "triage", detail "main -> spam"). Triage scores a mention once, at ingest, so
        nothing recomputes the lane afterwards: the agent's word stands."""
        try:
            value = TRIAGE_LANES[lane]
        except KeyError:
            raise StoreError(f"unknown triage lane: {lane!r}") from None
        names = {v: k for k, v in TRIAGE_LANES.items()}
        async with self._write():
            before = await self._must_mention(mention_id)
            if before.triage_lane == value:
                return before
            await self._conn.execute("UPDATE mentions SET triage_lane = ? WHERE id = ?",
                                     (value, mention_id))
            await self._event(mention_id, actor, TRIAGE_EVENT,
                              f"{names.get(before.triage_lane, before.triage_lane)} -> {lane}",
                              now)
            return await self._must_mention(mention_id)

    async def apply_actions(self, mention_id: int, actions: MentionActions, *, actor: str,
                            now: int, source: str = "") -> Mention:
        """Apply a template's actions (on send) in one call, one event each, their detail
        prefixed by `source` (e.g. "template Escalade: "). Tags are added to the mention's.

        Tags and priority change in one transaction; a status or snooze then goes through
        `set_status`, so whatever a status change maintains (SLA clocks) stays in one place.
        Everything is checked before anything is written."""
        if actions.status is not None and actions.snooze_seconds is not None:
            raise InvalidTransition("a snooze is a status: give one or the other")
        if actions.snooze_seconds is not None and actions.snooze_seconds <= 0:
            raise InvalidTransition("snoozing needs a wake-up time in the future")
        prefix = storable(source)
        async with self._write():
            m = await self._must_mention(mention_id)
            if actions.add_tags:
                tags = q.normalise_tags([*m.tags, *(storable(t) for t in actions.add_tags)])
                if tags != m.tags:
                    await self._conn.execute("UPDATE mentions SET tags = ? WHERE id = ?",
                                             (q.tags_text(tags), mention_id))
                    await self._conn.execute(
                        "DELETE FROM mention_tags WHERE mention_id = ?", (mention_id,))
                    await self._conn.executemany(
                        "INSERT INTO mention_tags (tag, mention_id, lane, sort_due) "
                        "SELECT ?, id, lane, sort_due FROM mentions WHERE id = ?",
                        [(tag, mention_id) for tag in tags],
                    )
                    await self._event(mention_id, actor, "tags", prefix + ",".join(tags), now)
            if actions.priority is not None and actions.priority != m.priority:
                await self._conn.execute("UPDATE mentions SET priority = ? WHERE id = ?",
                                         (actions.priority, mention_id))
                await self._event(mention_id, actor, "priority",
                                  f"{prefix}{m.priority} -> {actions.priority}", now)
            m = await self._must_mention(mention_id)
        if actions.snooze_seconds is not None:
            return await self.set_status(mention_id, Status.SNOOZED, actor=actor, now=now,
                                         snooze_until=now + actions.snooze_seconds)
        if actions.status is not None and actions.status is not m.status:
            return await self.set_status(mention_id, actions.status, actor=actor, now=now)
        return m

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
                     first_reply_sla: int | None = None) -> list[int]:
        """Store new mentions from a channel in one transaction; ids of the rows actually
        inserted (repeats of stored (channel, remote_id) pairs are skipped). Each gets its SLA
        policy, deadlines and clocks from `due_planner` (`first_reply_sla` only without one)."""
        if not mentions:
            return []
        async with self._write():
            writer = BatchWriter(self._conn, now=now, first_reply_sla=first_reply_sla,
                                 scorer=self.triage, planner=self.due_planner)
            await writer.start()
            first_id = writer.next_mention_id
            ids = await writer.write(mentions)
            if ids and self.topic_source is not None:
                await record_topics(self._conn, self.topic_source, mentions,
                                    first_id=first_id, now=now)
            return ids

    async def bulk_load(
        self, customers: Iterable[NewCustomer], mentions: Iterable[NewMention], *,
        now: int, first_reply_sla: int | None = None,
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
        now: int, first_reply_sla: int | None,
    ) -> int:
        recent: list[NewMention] = []
        if self.topic_source is not None:
            # Only mentions young enough to take part in a spike are kept aside for counting.
            mentions = _keep_recent(mentions, now - TOPIC_HORIZON, recent)
        async with self._write(durable=True, foreign_keys=False):
            had_mentions = bool(await self._scalar("SELECT EXISTS (SELECT 1 FROM mentions)"))
            saved = await self._drop_for_bulk()
            await self._conn.execute(f"PRAGMA cache_size = {BULK_CACHE_KIB}")
            try:
                writer = BatchWriter(
                    self._conn, now=now, first_reply_sla=first_reply_sla,
                    check_stored=had_mentions, range_statements=BULK_RANGE_STATEMENTS,
                    scorer=self.triage, triage_from_db=False,
                    planner=self.due_planner, threads_indexed=False,
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
                if recent and self.topic_source is not None:
                    await record_topics(self._conn, self.topic_source, recent,
                                        first_id=first_id, now=now)
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
            "WHERE tbl_name IN ('mentions', 'mention_tags', 'outbox', 'sla_outcomes') "
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
