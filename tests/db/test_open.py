"""Opening: bad files are rejected with a one-line message and left byte-for-byte untouched."""

from __future__ import annotations

import os
import random
import sqlite3
from pathlib import Path

import pytest

from db.errors import DatabaseLocked, NewerSchema, NotADatabase, StoreError, Unwritable
from db.schema import LATEST_VERSION
from db.store import Store
from tests.db.conftest import build_at_version, raw


async def expect_rejected(path: Path, error: type[StoreError], **kw: object) -> StoreError:
    before = path.read_bytes()
    with pytest.raises(error) as info:
        await Store.open(path, **kw)  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    assert path.read_bytes() == before
    return info.value


async def test_creates_a_new_database_in_wal_mode(db_path: Path) -> None:
    store = await Store.open(db_path)
    assert store.path == db_path
    await store.close()
    conn = raw(db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION
    conn.close()


async def test_reopening_keeps_data(db_path: Path) -> None:
    store = await Store.open(db_path)
    await store.add_template("hello", "en", "Hi {first_name}")
    await store.close()
    store = await Store.open(db_path, create=False)
    assert [t.name for t in await store.templates()] == ["hello"]
    await store.close()


async def test_missing_file_without_create(db_path: Path) -> None:
    with pytest.raises(StoreError, match="no such database"):
        await Store.open(db_path, create=False)
    assert not db_path.exists()


async def test_creates_missing_folders(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "a" / "b" / "c.db")
    await store.close()


async def test_random_bytes(db_path: Path) -> None:
    db_path.write_bytes(random.Random(7).randbytes(8192))
    await expect_rejected(db_path, NotADatabase)


async def test_text_file(db_path: Path) -> None:
    db_path.write_text("these are my notes, not a database\n" * 10)
    await expect_rejected(db_path, NotADatabase)


async def test_short_file_with_sqlite_magic(db_path: Path) -> None:
    db_path.write_bytes(b"SQLite format 3\x00 and then nothing")
    await expect_rejected(db_path, NotADatabase)


async def test_corrupt_database(db_path: Path) -> None:
    store = await Store.open(db_path)
    await store.close()
    data = bytearray(db_path.read_bytes())
    data[100:4096] = random.Random(3).randbytes(3996)  # page 1 b-tree: the schema itself
    db_path.write_bytes(bytes(data))
    for suffix in ("-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    await expect_rejected(db_path, NotADatabase)


async def test_someone_elses_sqlite_database(db_path: Path) -> None:
    conn = raw(db_path)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.close()
    await expect_rejected(db_path, NotADatabase)
    assert raw(db_path).execute("PRAGMA journal_mode").fetchone()[0] == "delete"


async def test_sqlite_database_with_foreign_application_id(db_path: Path) -> None:
    conn = raw(db_path)
    conn.execute("PRAGMA application_id = 42")
    conn.execute("PRAGMA user_version = 1")
    conn.close()
    await expect_rejected(db_path, NotADatabase)


async def test_newer_schema(db_path: Path) -> None:
    build_at_version(db_path, LATEST_VERSION)
    conn = raw(db_path)
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    conn.close()
    error = await expect_rejected(db_path, NewerSchema)
    assert "newer Comptoir" in str(error)
    # Still in rollback-journal mode: we did not switch it to WAL before rejecting it.
    assert raw(db_path).execute("PRAGMA journal_mode").fetchone()[0] == "delete"


async def test_newer_schema_still_in_the_wal(db_path: Path) -> None:
    """The header on disk is stale while the change sits in the WAL: SQLite is asked too."""
    store = await Store.open(db_path)
    await store.close()
    conn = raw(db_path)
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    before = db_path.read_bytes()
    with pytest.raises(NewerSchema):
        await Store.open(db_path)
    conn.close()
    assert len(before) > 0


async def test_folder_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(Unwritable) as info:
        await Store.open(blocker / "sub" / "comptoir.db")
    assert "\n" not in str(info.value)
    assert blocker.read_text() == "x"


async def test_unwritable_folder(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests may run as root, for whom chmod changes nothing: simulate the refusal instead.
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: False if Path(p) == db_path.parent else real_access(p, mode)
    )
    with pytest.raises(Unwritable, match="cannot write in its folder"):
        await Store.open(db_path)
    assert not db_path.exists()


async def test_unwritable_file(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = await Store.open(db_path)
    await store.close()
    real_open = os.open

    def refuse(path: object, flags: int, *args: object) -> int:
        if Path(str(path)) == db_path and flags & os.O_RDWR:
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", refuse)
    await expect_rejected(db_path, Unwritable)


async def test_a_directory_is_not_a_database(tmp_path: Path) -> None:
    with pytest.raises(NotADatabase, match="directory"):
        await Store.open(tmp_path)


async def test_locked_by_another_connection(db_path: Path) -> None:
    build_at_version(db_path, LATEST_VERSION)  # rollback-journal mode: a lock blocks readers
    holder = raw(db_path)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        await expect_rejected(db_path, DatabaseLocked, busy_timeout_ms=50)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


async def test_locked_while_migrating(db_path: Path) -> None:
    build_at_version(db_path, 1)
    holder = raw(db_path)
    holder.execute("PRAGMA journal_mode = WAL")
    holder.execute("BEGIN IMMEDIATE")  # readers may pass, the migration may not
    try:
        with pytest.raises(DatabaseLocked):
            await Store.open(db_path, busy_timeout_ms=50)
        assert holder.execute("PRAGMA user_version").fetchone()[0] == 1
    finally:
        holder.execute("ROLLBACK")
        holder.close()


async def test_writes_wait_for_a_short_lock_then_fail_cleanly(db_path: Path) -> None:
    store = await Store.open(db_path, busy_timeout_ms=50)
    holder = raw(db_path)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(DatabaseLocked):
            await store.add_template("t", "en", "body")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert (await store.add_template("t", "en", "body")).name == "t"
    await store.close()


def test_empty_file_is_accepted(db_path: Path) -> None:
    import asyncio

    db_path.write_bytes(b"")

    async def go() -> None:
        store = await Store.open(db_path)
        await store.close()

    asyncio.run(go())
    assert sqlite3.connect(db_path).execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION
