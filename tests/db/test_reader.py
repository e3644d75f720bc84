"""The Store's reader connection: UI reads never wait for a write transaction.

Each test holds a write open (this Store's own, as a long ingest does, or another process's
lock) and shows that a read completes meanwhile, by ordering: the write is released only once
the read has returned. On a single shared connection the read would wait for the write and the
test would deadlock; `wait_for(..., GUARD)` turns that into a failure instead of a hang. GUARD is
never approached when the Store works: it is not a timing assertion.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from db.batch import BatchWriter
from db.errors import StoreError
from db.models import QueueFilter, Status
from db.store import Store

from .conftest import NOW, SLA, nm, raw

GUARD = 30.0  # seconds: a deadlock guard only


async def _until_locked(store: Store) -> None:
    """Let the loop run until a started write holds the Store's write lock (it takes it on its
    first step, before its first statement): loop turns, not time."""
    for _ in range(1000):
        if store._lock.locked():
            return
        await asyncio.sleep(0)
    raise AssertionError("the write never started")


async def test_a_read_completes_while_an_ingest_transaction_is_open(store: Store) -> None:
    [first] = await store.ingest([nm("1")], now=NOW, first_reply_sla=SLA)
    inside, release = asyncio.Event(), asyncio.Event()

    async def long_ingest() -> list[int]:
        # What Store.ingest does, held open between its inserts and its COMMIT.
        async with store._write():
            writer = BatchWriter(store._conn, now=NOW, first_reply_sla=SLA)
            await writer.start()
            ids = await writer.write([nm("2")])
            inside.set()
            await release.wait()
        return ids

    ingest = asyncio.create_task(long_ingest())
    await inside.wait()
    try:
        window = await asyncio.wait_for(store.queue_window(QueueFilter(), limit=10), GUARD)
        mention = await asyncio.wait_for(store.mention(first), GUARD)
        assert not ingest.done()
    finally:
        release.set()  # also on failure, so the Store can close
    # The read saw the last committed state: the row being ingested is not there yet.
    assert [row.id for row in window] == [first]
    assert mention is not None and mention.remote_id == "1"

    [second] = await ingest
    # Read-your-writes: a read that starts after the COMMIT sees it.
    window = await store.queue_window(QueueFilter(), limit=10)
    assert [row.id for row in window] == [first, second]


async def test_reads_go_on_while_the_writer_waits_for_another_process(
    store: Store, db_path: Path
) -> None:
    [mid] = await store.ingest([nm("1")], now=NOW, first_reply_sla=SLA)
    other = raw(db_path)
    other.execute("BEGIN IMMEDIATE")  # another process is writing (a sync run, a CLI import)
    try:
        action = asyncio.create_task(
            store.set_status(mid, Status.RESOLVED, actor="al", now=NOW + 5)
        )
        await _until_locked(store)  # the agent's action now waits (busy timeout) for the lock
        seen = await asyncio.wait_for(store.mention(mid), GUARD)
        row = await asyncio.wait_for(store.queue_row(mid), GUARD)
        assert not action.done()
        assert seen is not None and seen.status is not Status.RESOLVED
        assert row is not None
    finally:
        other.rollback()
        other.close()
    changed = await action
    assert changed.status is Status.RESOLVED
    # The UI reads after its own write: it sees it.
    after = await store.mention(mid)
    assert after is not None and after.status is Status.RESOLVED


async def test_wake_snoozed_with_nothing_due_takes_no_write_lock(
    store: Store, db_path: Path
) -> None:
    [mid] = await store.ingest([nm("1")], now=NOW, first_reply_sla=SLA)
    await store.set_status(mid, Status.SNOOZED, actor="al", now=NOW, snooze_until=NOW + 600)
    other = raw(db_path)
    other.execute("BEGIN IMMEDIATE")
    try:
        # Nothing due: answered by a read, although another process holds the write lock.
        assert await asyncio.wait_for(store.wake_snoozed(NOW + 60), GUARD) == []
        assert not store._lock.locked()
    finally:
        other.rollback()
        other.close()
    assert await store.wake_snoozed(NOW + 600) == [mid]
    woken = await store.mention(mid)
    assert woken is not None and woken.status is Status.OPEN


async def test_reads_run_on_a_read_only_connection(store: Store) -> None:
    await store.ingest([nm("1")], now=NOW, first_reply_sla=SLA)
    # A write slipped into a read block is refused, not committed behind the writer's back.
    with pytest.raises(StoreError, match=r"readonly|read-only|read only"):
        async with store._read():
            await store._conn.execute("DELETE FROM mentions")
    assert len(await store.queue_window(QueueFilter(), limit=10)) == 1


async def test_snapshot_reads_agree_while_a_write_is_open(store: Store) -> None:
    [first] = await store.ingest([nm("1")], now=NOW, first_reply_sla=SLA)
    mention = await store.mention(first)
    assert mention is not None
    inside, release = asyncio.Event(), asyncio.Event()

    async def long_note() -> None:
        async with store._write():
            await store._conn.execute(
                "INSERT INTO notes (customer_id, mention_id, author, text, created_at) "
                "VALUES (?, ?, 'al', 'pending note', ?)",
                (mention.customer_id, first, NOW),
            )
            inside.set()
            await release.wait()

    note = asyncio.create_task(long_note())
    await inside.wait()
    try:
        card = await asyncio.wait_for(store.customer_card(mention.customer_id), GUARD)
        assert not note.done()
    finally:
        release.set()
    assert card is not None and card.notes == ()
    await note
    card = await store.customer_card(mention.customer_id)
    assert card is not None and [n.text for n in card.notes] == ["pending note"]
