"""The events log is append-only, with one exception for erasure: detail may become '(erased)'."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from db.maintenance import ERASED_DETAIL, erase_customer
from db.store import Store
from tests.db.conftest import NOW, SLA, build_at_version, nm, raw


async def logged(store: Store) -> int:
    [mid] = await store.ingest([nm("1")], now=NOW, first_reply_sla=SLA)
    await store.set_tags(mid, ["jean-dupont-06-12-34-56-78"], actor="al", now=NOW)
    return mid


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE events SET detail = 'something else'",
        "UPDATE events SET detail = ''",
        "UPDATE events SET detail = NULL",
        "UPDATE events SET detail = '(erased) '",
        "UPDATE events SET detail = '(erased)', actor = 'mallory'",
        "UPDATE events SET detail = '(erased)', action = 'note'",
        "UPDATE events SET detail = '(erased)', at = at + 1",
        "UPDATE events SET detail = '(erased)', mention_id = NULL",
        "UPDATE events SET detail = '(erased)', id = id + 100",
        "UPDATE events SET actor = 'mallory'",
        "UPDATE events SET at = 0",
        "DELETE FROM events",
        "REPLACE INTO events (id, mention_id, actor, action, detail, at) "
        "SELECT id, mention_id, actor, action, '(erased)', at FROM events",
        "INSERT OR REPLACE INTO events (id, mention_id, actor, action, detail, at) "
        "SELECT id, mention_id, 'mallory', action, 'rewritten', at FROM events",
    ],
)
async def test_every_other_change_to_an_event_is_refused(
    store: Store, db_path: Path, sql: str
) -> None:
    mid = await logged(store)
    before = await store.events(mid)
    conn = raw(db_path)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute(sql)
    finally:
        conn.close()
    assert await store.events(mid) == before


async def test_the_erasure_update_is_allowed_and_changes_only_the_detail(
    store: Store, db_path: Path
) -> None:
    mid = await logged(store)
    before = await store.events(mid)
    conn = raw(db_path)
    try:
        assert conn.execute("UPDATE events SET detail = ? WHERE mention_id = ?",
                            (ERASED_DETAIL, mid)).rowcount == len(before)
        # Erasing twice is harmless (it writes the same value).
        conn.execute("UPDATE events SET detail = ? WHERE mention_id = ?", (ERASED_DETAIL, mid))
    finally:
        conn.close()
    after = await store.events(mid)
    assert [e.detail for e in after] == [ERASED_DETAIL] * len(before)
    assert [(e.id, e.actor, e.action, e.at) for e in after] == [
        (e.id, e.actor, e.action, e.at) for e in before]


async def test_a_database_migrated_from_step_4_gets_the_same_rule(db_path: Path) -> None:
    build_at_version(db_path, 4)
    conn = raw(db_path)
    conn.execute("INSERT INTO events (mention_id, actor, action, detail, at) "
                 "VALUES (1, 'al', 'tags', 'jean', 0)")
    conn.close()
    store = await Store.open(db_path)
    await store.close()
    conn = raw(db_path)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE events SET detail = 'x'")
        conn.execute("UPDATE events SET detail = '(erased)'")
        assert conn.execute("SELECT detail FROM events").fetchall() == [("(erased)",)]
    finally:
        conn.close()


async def test_erasure_redacts_the_customers_events_and_no_one_elses(
    store: Store, db_path: Path
) -> None:
    ids = await store.ingest([nm("1", author_handle="@victim"), nm("2", author_handle="@other")],
                             now=NOW, first_reply_sla=SLA)
    for mid in ids:
        await store.set_tags(mid, [f"tag-of-{mid}-0612345678"], actor="al", now=NOW)
        await store.add_note(mid, "note", author="al", now=NOW)
    kept = await store.events(ids[1])

    report = await erase_customer(store, "@victim", actor="dpo", now=NOW + 1, vacuum=False)

    assert report.events_redacted == 2
    assert "2 events redacted" in report.audit_detail
    assert await store.events(ids[1]) == kept  # the bystander's log is untouched
    conn = raw(db_path)
    try:
        rows = conn.execute("SELECT mention_id, actor, action, detail FROM events "
                            "WHERE mention_id = ? ORDER BY id", (ids[0],)).fetchall()
        assert rows == [(ids[0], "al", "tags", ERASED_DETAIL), (ids[0], "al", "note",
                                                                ERASED_DETAIL)]
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM events WHERE mention_id = ?", (ids[0],))
    finally:
        conn.close()
