"""Backups, restores and data-protection erasure of a Comptoir database.

Every operation runs plain `sqlite3` in a worker thread (`asyncio.to_thread`), on its own
connection, so it never blocks an event loop and never borrows a Store's connection; a console
may keep the file open meanwhile (WAL lets readers and one writer go on).

Backups
    Written through SQLite's online backup API in one step (one read snapshot: writers in other
    connections are not blocked and the copy is consistent), to a hidden temporary name, checked
    with `PRAGMA integrity_check`, switched to a single self-contained file (journal_mode DELETE)
    and only then linked to their final name, which is never overwritten. Conventional names are
    `<db dir>/backups/<db stem>-YYYYmmdd-HHMMSS.db` (UTC), so that `latest_backup` and
    `corrupt_message` can name the newest one; files with that name next to the database count
    too.

Restore
    The backup is checked first (SQLite header, integrity_check, our application_id, a schema
    version this Comptoir can open). The target is then locked with `locking_mode=EXCLUSIVE` +
    `BEGIN EXCLUSIVE`: in WAL mode a plain `BEGIN EXCLUSIVE` does not see idle readers, but the
    exclusive locking mode needs the file lock every open connection holds a share of, so an open
    console is detected (and kept out until the restore is done). The previous contents are kept
    as `<db>.before-restore-YYYYmmdd-HHMMSS` (backup API; a byte copy only if SQLite cannot read
    the damaged file) and the backup is copied in with the backup API.

Erasure
    `erase_customer` deletes a customer and everything that holds their words or handles, with
    `PRAGMA secure_delete=ON`, merges the full-text index (FTS5 deletes of an external-content
    table only add tombstones; the tokens stay in older segments until a merge), optionally
    VACUUMs (overwritten texts such as earlier draft versions can survive in free space of pages
    written before secure_delete was on), and checkpoints the WAL with TRUNCATE so no old frame
    keeps a copy. Events are append-only: they stay, but the detail of the customer's events
    (tag names, agent-typed text) is replaced by '(erased)', the one update the events trigger
    allows; one audit event without personal data records the erasure.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

from db.errors import DatabaseLocked, NewerSchema, NotADatabase, NotFound, StoreError
from db.schema import APPLICATION_ID, LATEST_VERSION

if TYPE_CHECKING:
    from db.store import Store

SQLITE_MAGIC: Final = b"SQLite format 3\x00"
BACKUP_DIRNAME: Final = "backups"
STAMP_FORMAT: Final = "%Y%m%d-%H%M%S"
BEFORE_RESTORE: Final = ".before-restore-"
LOCK_TIMEOUT: Final = 0.2  # seconds: how long restore waits for another process's lock
BUSY_TIMEOUT: Final = 5.0  # seconds: how long backup and erasure wait for a writer to finish
ERASE_ACTION: Final = "erase"
ERASED_DETAIL: Final = "(erased)"  # the only value the events trigger lets an update write

_STAMP_RE: Final = r"\d{8}-\d{6}"


class MaintenanceError(StoreError):
    """A backup, restore or erasure refused to go on; `str(error)` is one line for the user."""


class BackupExists(MaintenanceError):
    """The destination of a backup (or of the kept previous database) exists already."""


class AmbiguousHandle(MaintenanceError):
    """A bare handle names several customers (on different channels)."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    size: int  # bytes
    seconds: float


@dataclass(frozen=True, slots=True)
class RestoreResult:
    path: Path
    previous: Path | None  # where the replaced database was kept (None: there was none)
    schema_version: int  # of the restored file; Store.open migrates it if it is older
    size: int
    seconds: float


@dataclass(frozen=True, slots=True)
class ErasureReport:
    customer_id: int
    identities: int
    mentions: int
    notes: int
    drafts: int
    replies: int  # outbox rows
    vacuumed: bool
    # False: another connection was reading, so the WAL (which may still hold erased text) could
    # not be emptied; it is on the next checkpoint, or when the last connection closes.
    wal_truncated: bool
    quarantined: int = 0  # unreadable fetched items naming the customer
    events_redacted: int = 0  # the customer's events whose detail became '(erased)'
    listening: int = 0  # listening results (watch_results) by the customer

    @property
    def audit_detail(self) -> str:
        """The audit event's text: counts and the customer number, nothing personal."""
        return (
            f"customer #{self.customer_id}: {self.mentions} mentions, {self.notes} notes, "
            f"{self.drafts} drafts, {self.replies} replies, {self.identities} identities, "
            f"{self.quarantined} quarantined items, {self.listening} listening results, "
            f"{self.events_redacted} events redacted"
        )


# --- names ---------------------------------------------------------------------------------------
def _shown(path: Path) -> str:
    return str(path).replace("\n", "\\n").replace("\r", "\\r")


def _stamp(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime(STAMP_FORMAT)


def backup_dir(db_path: str | Path) -> Path:
    """Where conventional backups of `db_path` go: a `backups` folder next to it."""
    return Path(db_path).expanduser().absolute().parent / BACKUP_DIRNAME


def backup_name(db_path: str | Path, now: float) -> str:
    """`<db stem>-YYYYmmdd-HHMMSS.db`, in UTC (so names sort in time order across DST)."""
    return f"{Path(db_path).stem}-{_stamp(now)}.db"


def default_backup_path(db_path: str | Path, now: float) -> Path:
    return backup_dir(db_path) / backup_name(db_path, now)


def list_backups(db_path: str | Path) -> list[Path]:
    """Conventional backups of `db_path` (in `backups/` or next to it), oldest first."""
    db = Path(db_path).expanduser().absolute()
    pattern = re.compile(rf"{re.escape(db.stem)}-({_STAMP_RE})\.db")
    found: dict[Path, str] = {}
    for folder in (backup_dir(db), db.parent):
        with contextlib.suppress(OSError):
            for entry in folder.iterdir():
                match = pattern.fullmatch(entry.name)
                if match and entry.is_file() and entry != db:
                    found[entry] = match.group(1)
    return sorted(found, key=lambda p: (found[p], str(p)))


def latest_backup(db_path: str | Path) -> Path | None:
    backups = list_backups(db_path)
    return backups[-1] if backups else None


def corrupt_message(db_path: str | Path) -> str:
    """One line for a damaged database, naming the newest backup and how to restore it."""
    db = Path(db_path).expanduser().absolute()
    latest = latest_backup(db)
    if latest is None:
        return (f"{_shown(db)} is damaged and no backup was found in {_shown(backup_dir(db))}; "
                "keep a copy of the file before trying anything else")
    return (f"{_shown(db)} is damaged; the latest backup is {_shown(latest)} "
            f"(restore it with: comptoir --db {_shown(db)} restore {_shown(latest)})")


# --- shared plumbing -----------------------------------------------------------------------------
def _uri(path: Path, mode: str) -> str:
    # as_uri() percent-encodes '?', '#', '%' and spaces, which SQLite decodes.
    return f"{path.absolute().as_uri()}?mode={mode}"


@contextlib.contextmanager
def _connect(path: Path, mode: str, timeout: float) -> Iterator[sqlite3.Connection]:
    """A plain connection that never creates the file (mode 'ro' or 'rw')."""
    conn = sqlite3.connect(_uri(path, mode), uri=True, isolation_level=None, timeout=timeout)
    try:
        yield conn
    finally:
        conn.close()


def _error(error: sqlite3.Error, path: Path) -> StoreError:
    name = getattr(error, "sqlite_errorname", "")
    text = str(error)
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return DatabaseLocked(f"{_shown(path)}: the database is locked by another process")
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):
        return NotADatabase(f"{_shown(path)}: not a database, or damaged ({text})")
    return StoreError(f"{_shown(path)}: database error ({text})")


def _check_header(path: Path) -> None:
    try:
        with path.open("rb") as f:
            header = f.read(100)
    except FileNotFoundError:
        raise NotFound(f"{_shown(path)}: no such file") from None
    except IsADirectoryError:
        raise NotADatabase(f"{_shown(path)}: is a directory, not a database") from None
    except OSError as e:
        raise StoreError(f"{_shown(path)}: cannot read the file ({e.strerror})") from None
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        raise NotADatabase(f"{_shown(path)}: not a SQLite database")


def _integrity(conn: sqlite3.Connection, path: Path) -> None:
    rows = [r[0] for r in conn.execute("PRAGMA integrity_check(5)")]
    if rows != ["ok"]:
        first = str(rows[0]).replace("\n", " ") if rows else "no answer"
        raise NotADatabase(f"{_shown(path)}: failed its integrity check ({first})")


def _identity(conn: sqlite3.Connection, path: Path) -> int:
    """Our application_id and a schema version we can open; returns the version."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    if app_id != APPLICATION_ID or version < 1:
        raise NotADatabase(f"{_shown(path)}: a SQLite database, but not a Comptoir one")
    if version > LATEST_VERSION:
        raise NewerSchema(f"{_shown(path)}: written by a newer Comptoir (schema {version}, this "
                          f"one knows {LATEST_VERSION})")
    return version


def _publish(tmp: Path, dest: Path) -> None:
    """Give `tmp` the name `dest` without ever replacing an existing `dest`."""
    try:
        os.link(tmp, dest)  # atomic, and fails if dest exists
    except FileExistsError:
        raise BackupExists(f"{_shown(dest)}: exists already; not overwriting it") from None
    except OSError:
        # A file system without hard links: check, then rename (a narrow race, documented).
        if dest.exists():
            raise BackupExists(f"{_shown(dest)}: exists already; not overwriting it") from None
        os.replace(tmp, dest)
    else:
        tmp.unlink()
    _sync_dir(dest.parent)


def _sync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _temp_next_to(dest: Path) -> Path:
    # Hidden and not matching the backup pattern: a crash mid-copy never looks like a backup.
    return dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.partial")


def _remove(path: Path) -> None:
    for p in (path, Path(f"{path}-journal"), Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _copy_into_new_file(source: sqlite3.Connection, dest: Path) -> int:
    """Backup API from `source` into a new file at `dest` (never overwritten): verified, single
    file (journal_mode DELETE). Returns its size."""
    if dest.exists():
        raise BackupExists(f"{_shown(dest)}: exists already; not overwriting it")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_next_to(dest)
    try:
        target = sqlite3.connect(tmp, isolation_level=None)
        try:
            source.backup(target)  # pages=-1: one step, one consistent snapshot of the source
            target.execute("PRAGMA journal_mode = DELETE")
            _integrity(target, dest)
        finally:
            target.close()
        _publish(tmp, dest)
    finally:
        _remove(tmp)
    return dest.stat().st_size


# --- backup --------------------------------------------------------------------------------------
async def backup(
    db_path: str | Path, dest_path: str | Path | None = None, *, now: float | None = None,
    busy_timeout: float = BUSY_TIMEOUT,
) -> BackupResult:
    """Copy a (possibly open, WAL) database with the online backup API and verify the copy.

    `dest_path` None: the conventional name in `backups/` (needs `now`, epoch seconds, from the
    injected clock); an existing directory: the conventional name inside it. An existing file is
    never overwritten (BackupExists). Raises NotFound, NotADatabase, DatabaseLocked."""
    db = Path(db_path).expanduser().absolute()
    if dest_path is None or Path(dest_path).is_dir():
        if now is None:
            raise ValueError("backup: `now` is needed to name the backup")
        folder = backup_dir(db) if dest_path is None else Path(dest_path)
        dest = folder.expanduser().absolute() / backup_name(db, now)
    else:
        dest = Path(dest_path).expanduser().absolute()
    return await asyncio.to_thread(_backup_sync, db, dest, busy_timeout)


def _backup_sync(db: Path, dest: Path, busy_timeout: float) -> BackupResult:
    started = time.perf_counter()
    _check_header(db)
    if dest.exists():
        raise BackupExists(f"{_shown(dest)}: exists already; not overwriting it")
    try:
        with _connect(db, "ro", busy_timeout) as source:
            _identity(source, db)
            size = _copy_into_new_file(source, dest)
    except sqlite3.Error as e:
        raise _error(e, db) from None
    return BackupResult(dest, size, time.perf_counter() - started)


# --- restore -------------------------------------------------------------------------------------
def before_restore_path(db_path: str | Path, now: float) -> Path:
    db = Path(db_path).expanduser().absolute()
    return db.with_name(f"{db.name}{BEFORE_RESTORE}{_stamp(now)}")


async def restore(
    backup_path: str | Path, db_path: str | Path, *, now: float,
    lock_timeout: float = LOCK_TIMEOUT,
) -> RestoreResult:
    """Replace `db_path` with a verified backup; keep the previous file as
    `<db>.before-restore-<UTC stamp>`. Refuses (DatabaseLocked) while another connection has the
    database open, and refuses to replace a SQLite database that is not a Comptoir one."""
    src = Path(backup_path).expanduser().absolute()
    db = Path(db_path).expanduser().absolute()
    return await asyncio.to_thread(_restore_sync, src, db, now, lock_timeout)


def _restore_sync(src: Path, db: Path, now: float, lock_timeout: float) -> RestoreResult:
    started = time.perf_counter()
    if src == db:
        raise MaintenanceError(f"{_shown(src)}: a database cannot be restored onto itself")
    _check_header(src)
    try:
        with _connect(src, "ro", lock_timeout) as source:
            _integrity(source, src)
            version = _identity(source, src)
            previous: Path | None = None
            if not db.exists():
                _copy_into_new_file(source, db)
            else:
                previous = before_restore_path(db, now)
                if previous.exists():
                    raise BackupExists(f"{_shown(previous)}: exists already; not overwriting it")
                _restore_over(source, db, previous, lock_timeout)
    except sqlite3.Error as e:
        raise _error(e, src) from None
    return RestoreResult(db, previous, version, db.stat().st_size, time.perf_counter() - started)


def _restore_over(source: sqlite3.Connection, db: Path, previous: Path,
                  lock_timeout: float) -> None:
    try:
        _restore_over_locked(source, db, previous, lock_timeout)
    except sqlite3.Error as e:
        raise _error(e, db) from None


def _restore_over_locked(source: sqlite3.Connection, db: Path, previous: Path,
                         lock_timeout: float) -> None:
    if not _is_sqlite(db):
        # Not a database at all: nothing can have it open as one. Keep it aside by renaming.
        _move_aside(db, previous)
        _copy_into_new_file(source, db)
        return
    target = sqlite3.connect(_uri(db, "rw"), uri=True, isolation_level=None,
                             timeout=lock_timeout)
    try:
        try:
            target.execute("PRAGMA locking_mode = EXCLUSIVE")
            target.execute("BEGIN EXCLUSIVE")
            target.execute("COMMIT")  # the exclusive locking mode keeps the lock until close
        except sqlite3.Error as e:
            error = _error(e, db)
            if isinstance(error, DatabaseLocked):
                raise DatabaseLocked(f"{_shown(db)}: open in another Comptoir (or another "
                                     "program); close it before restoring") from None
            raise error from None
        _refuse_foreign(target, db)
        _keep_previous(target, db, previous)
        source.backup(target)
        _integrity(target, db)
        target.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        target.close()


def _is_sqlite(path: Path) -> bool:
    with path.open("rb") as f:
        header = f.read(100)
    return len(header) == 100 and header.startswith(SQLITE_MAGIC)


def _refuse_foreign(target: sqlite3.Connection, db: Path) -> None:
    try:
        version = int(target.execute("PRAGMA user_version").fetchone()[0])
        app_id = int(target.execute("PRAGMA application_id").fetchone()[0])
        objects = int(target.execute("SELECT count(*) FROM sqlite_master").fetchone()[0])
    except sqlite3.DatabaseError:
        return  # damaged beyond reading its identity: that is what restores are for
    if objects and (app_id != APPLICATION_ID or version == 0):
        raise MaintenanceError(f"{_shown(db)}: a SQLite database, but not a Comptoir one; "
                               "refusing to replace it")


def _keep_previous(target: sqlite3.Connection, db: Path, previous: Path) -> None:
    """The database as it was, through the backup API; if SQLite cannot read the damaged file,
    a byte copy of it and its WAL, taken while we hold the exclusive lock."""
    try:
        _copy_into_new_file(target, previous)
    except (sqlite3.DatabaseError, NotADatabase):
        _remove(previous)
        shutil.copyfile(db, previous)
        wal = Path(f"{db}-wal")
        if wal.exists():
            shutil.copyfile(wal, Path(f"{previous}-wal"))


def _move_aside(db: Path, previous: Path) -> None:
    try:
        os.link(db, previous)
    except FileExistsError:
        raise BackupExists(f"{_shown(previous)}: exists already; not overwriting it") from None
    db.unlink()
    for suffix in ("-wal", "-shm", "-journal"):
        side = Path(f"{db}{suffix}")
        if side.exists():
            os.replace(side, Path(f"{previous}{suffix}"))


# --- erasure -------------------------------------------------------------------------------------
async def erase_customer(
    target: str | Path | Store, handle: str, *, actor: str, now: int, vacuum: bool = True,
    busy_timeout: float = BUSY_TIMEOUT,
) -> ErasureReport:
    """Erase a customer for data protection, found by any identity handle: `x:@jean`,
    `mastodon:@ana@example.social` (channel-qualified), `@jean` or `jean` (bare, any channel; case
    does not matter), or `#123` (customer number).

    Deleted: the customer's mentions (with their full-text entries, tags, drafts, notes on them),
    replies (outbox rows), notes, identities and the customer row, quarantined items and
    listening results naming one of their handles. Counters follow by trigger. Events stay
    (append-only by trigger), but the `detail` of every event of their mentions becomes
    '(erased)' (tag names are typed by agents and may be personal data); who did what and when
    stays. One audit event `erase` / "customer #N: n mentions, ..." is appended.

    Refuses (MaintenanceError) while one of the customer's replies is being sent. Raises
    NotFound, AmbiguousHandle, DatabaseLocked. `target` may be an open Store: its file is used
    through a separate connection, so the Store keeps working."""
    path = Path(target.path if not isinstance(target, str | Path) else target)
    path = path.expanduser().absolute()
    return await asyncio.to_thread(_erase_sync, path, handle, actor, now, vacuum, busy_timeout)


def _erase_sync(path: Path, handle: str, actor: str, now: int, vacuum: bool,
                busy_timeout: float) -> ErasureReport:
    _check_header(path)
    try:
        with _connect(path, "rw", busy_timeout) as conn:
            _identity(conn, path)
            conn.execute("PRAGMA foreign_keys = ON")  # a row left pointing at erased data fails
            conn.execute("PRAGMA secure_delete = ON")
            conn.execute("BEGIN IMMEDIATE")
            try:
                report = _erase_rows(conn, handle, actor, now)
                # FTS5 'delete' only adds tombstones: merge every segment so the erased tokens
                # are no longer stored (secure_delete zeroes the pages the merge frees).
                conn.execute("INSERT INTO mentions_fts (mentions_fts) VALUES ('optimize')")
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            if vacuum:
                # Rewrites every page: removes stale copies of texts overwritten earlier
                # (e.g. previous draft versions) left in free space by non-secure writes.
                conn.execute("VACUUM")
            busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except sqlite3.Error as e:
        raise _error(e, path) from None
    return ErasureReport(
        report.customer_id, report.identities, report.mentions, report.notes, report.drafts,
        report.replies, vacuum, busy == 0, report.quarantined, report.events_redacted,
        report.listening,
    )


def _find_customer(conn: sqlite3.Connection, handle: str) -> int:
    wanted = handle.strip()
    shown = wanted.replace("\n", "\\n").replace("\r", "\\r")
    if not wanted:
        raise NotFound("no handle given")
    number = re.fullmatch(r"#(\d+)", wanted)
    if number:
        cid = int(number.group(1))
        if conn.execute("SELECT 1 FROM customers WHERE id = ?", (cid,)).fetchone() is None:
            raise NotFound(f"no customer #{cid}")
        return cid
    channels = {r[0] for r in conn.execute("SELECT name FROM channels")}
    channel, sep, rest = wanted.partition(":")
    channel = channel.strip().lower()
    if sep and channel in channels:
        scope, bare = "AND channel = ?", rest.strip()
        extra: tuple[str, ...] = (channel,)
    else:
        scope, bare, extra = "", wanted, ()
    forms = {bare, bare.lstrip("@"), "@" + bare.lstrip("@")}
    marks = ", ".join("?" * len(forms))
    rows = conn.execute(
        f"SELECT DISTINCT customer_id, channel FROM identities "
        f"WHERE handle COLLATE NOCASE IN ({marks}) {scope} ORDER BY customer_id",
        (*sorted(forms), *extra),
    ).fetchall()
    customers = sorted({r[0] for r in rows})
    if not customers:
        raise NotFound(f"no customer with the handle {shown}")
    if len(customers) > 1:
        which = ", ".join(f"#{cid} ({ch})" for cid, ch in rows)
        raise AmbiguousHandle(f"{shown} names several customers: {which}; write it as "
                              "channel:handle or #number")
    return customers[0]


@dataclass(slots=True)
class _Counts:
    customer_id: int
    identities: int = 0
    mentions: int = 0
    notes: int = 0
    drafts: int = 0
    replies: int = 0
    quarantined: int = 0
    events_redacted: int = 0
    listening: int = 0


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _handle_patterns(conn: sqlite3.Connection, cid: int) -> list[str]:
    """Lower-case spellings by which raw payloads name the customer: `@handle`, the handle in
    quotes (JSON: X's `"username":"jean"`, Mastodon's `"acct":"ana@example.social"`, Bluesky's
    `"handle":"jean.bsky.social"`) and their remote user ids in quotes."""
    patterns: set[str] = set()
    for handle, remote_user_id in conn.execute(
            "SELECT handle, remote_user_id FROM identities WHERE customer_id = ?", (cid,)):
        bare = str(handle).strip().lstrip("@").lower()
        if bare:
            patterns.update({f"@{bare}", f'"{bare}"'})
        if remote_user_id:
            patterns.add(f'"{str(remote_user_id).lower()}"')
    return sorted(patterns)


def _erase_raw_items(conn: sqlite3.Connection, cid: int, counts: _Counts) -> None:
    """Rows that hold the customer's words outside the mentions table: quarantined payloads
    (a post we could not parse is still their post) and listening results. Matched by the
    handle spellings a payload uses; erring towards erasing a little more than needed."""
    patterns = _handle_patterns(conn, cid)
    if not patterns:
        return
    tables = _tables(conn)
    if "quarantine" in tables:
        match = " OR ".join(["instr(lower(payload), ?) OR instr(lower(error), ?)"] * len(patterns))
        counts.quarantined = conn.execute(
            f"DELETE FROM quarantine WHERE {match}",
            [p for p in patterns for _ in range(2)],
        ).rowcount
    if "watch_results" in tables:
        forms = sorted({p.strip('"').lstrip("@") for p in patterns} | {
            p.strip('"') for p in patterns if p.startswith("@")})
        marks = ", ".join("?" * len(forms))
        counts.listening = conn.execute(
            f"DELETE FROM watch_results WHERE lower(author_handle) IN ({marks}) "
            f"OR lower('@' || author_handle) IN ({marks})",
            (*forms, *forms),
        ).rowcount


def _erase_rows(conn: sqlite3.Connection, handle: str, actor: str, now: int) -> _Counts:
    cid = _find_customer(conn, handle)
    counts = _Counts(cid)
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS erase_mentions (id INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM temp.erase_mentions")
    try:
        conn.execute(
            "INSERT INTO temp.erase_mentions (id) SELECT id FROM mentions WHERE customer_id = ? "
            "OR identity_id IN (SELECT id FROM identities WHERE customer_id = ?)",
            (cid, cid),
        )
        mine = "SELECT id FROM temp.erase_mentions"
        sending = conn.execute(
            f"SELECT count(*) FROM outbox WHERE state = 'sending' AND "
            f"(customer_id = ? OR mention_id IN ({mine}))",
            (cid,),
        ).fetchone()[0]
        if sending:
            raise MaintenanceError(f"customer #{cid}: a reply is being sent right now; erase "
                                   "again once it is done")

        def delete(sql: str, params: tuple[object, ...] = ()) -> int:
            return conn.execute(sql, params).rowcount

        # Raw items first: they are found by the identities' handles, deleted further down.
        _erase_raw_items(conn, cid, counts)
        # Tag names and other agent-typed details of their mentions' events: personal data too.
        counts.events_redacted = delete(
            f"UPDATE events SET detail = ? WHERE mention_id IN ({mine}) AND detail != ?",
            (ERASED_DETAIL, ERASED_DETAIL),
        )
        if "topic_mentions" in _tables(conn):  # no personal data, but it would point nowhere
            delete(f"DELETE FROM topic_mentions WHERE mention_id IN ({mine})")
        counts.drafts = delete(f"DELETE FROM drafts WHERE mention_id IN ({mine})")
        delete(f"DELETE FROM mention_tags WHERE mention_id IN ({mine})")
        counts.notes = delete(
            f"DELETE FROM notes WHERE customer_id = ? OR mention_id IN ({mine})", (cid,)
        )
        counts.replies = delete(
            f"DELETE FROM outbox WHERE customer_id = ? OR mention_id IN ({mine})", (cid,)
        )
        # The triggers remove the full-text entries and keep the counters right.
        counts.mentions = delete(f"DELETE FROM mentions WHERE id IN ({mine})")
        counts.identities = delete("DELETE FROM identities WHERE customer_id = ?", (cid,))
        delete("DELETE FROM customers WHERE id = ?", (cid,))
    finally:
        conn.execute("DELETE FROM temp.erase_mentions")
    report = ErasureReport(cid, counts.identities, counts.mentions, counts.notes, counts.drafts,
                           counts.replies, False, False, counts.quarantined,
                           counts.events_redacted, counts.listening)
    conn.execute(
        "INSERT INTO events (mention_id, actor, action, detail, at) VALUES (NULL, ?, ?, ?, ?)",
        (actor, ERASE_ACTION, report.audit_detail, now),
    )
    return counts
