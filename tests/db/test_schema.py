"""Migrations: each step applied to a database left at the previous version, with data in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from db.models import QueueFilter, Status
from db.schema import LATEST_VERSION, MIGRATIONS, statements
from db.store import Store
from tests.db.conftest import NOW, build_at_version, raw

INSERT_V1 = (
    "INSERT INTO customers (id, display_name, first_name, created_at) VALUES (1, 'Léa', 'Léa', 0);"
    "INSERT INTO identities (id, customer_id, channel, handle, display_name) "
    "VALUES (1, 1, 'x', '@lea', 'Léa');"
)


def add_v1_mention(path: Path, mid: int, status: str, text: str) -> None:
    conn = raw(path)
    conn.execute(
        "INSERT INTO mentions (id, channel, remote_id, thread_id, customer_id, identity_id, "
        "author_handle, author_name, text, created_at, received_at, status, first_reply_due) "
        "VALUES (?, 'x', ?, ?, 1, 1, '@lea', 'Léa', ?, ?, ?, ?, ?)",
        (mid, f"r{mid}", f"r{mid}", text, NOW, NOW, status, NOW + 60),
    )
    conn.close()


def test_versions_are_consecutive() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, LATEST_VERSION + 1))


def test_statements_split_triggers_whole() -> None:
    script = "CREATE TABLE a (x);\n-- a comment; with a semicolon\nCREATE TRIGGER t AFTER " \
             "INSERT ON a BEGIN\n  SELECT 1;\n  SELECT 2;\nEND;\n"
    parts = statements(script)
    assert len(parts) == 2
    assert parts[1].startswith("-- a comment") and parts[1].endswith("END;")


def test_statements_refuse_a_truncated_script() -> None:
    with pytest.raises(ValueError):
        statements("CREATE TABLE a (x)")


@pytest.mark.parametrize("version", range(0, LATEST_VERSION + 1))
async def test_migrates_from_every_version(tmp_path: Path, version: int) -> None:
    path = tmp_path / "old.db"
    build_at_version(path, version)
    store = await Store.open(path)
    assert raw(path).execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION
    await store.close()


async def test_v2_backfills_counters_from_existing_mentions(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    build_at_version(path, 1)
    raw(path).executescript(INSERT_V1)
    add_v1_mention(path, 1, "new", "a")
    add_v1_mention(path, 2, "new", "b")
    add_v1_mention(path, 3, "resolved", "c")
    store = await Store.open(path)
    counts = await store.counts()
    assert dict(counts.by_status) == {"new": 2, "resolved": 1}
    await store.set_status(3, Status.OPEN, actor="a", now=NOW)
    assert dict((await store.counts()).by_status) == {"new": 2, "open": 1}
    await store.close()


async def test_v3_indexes_existing_mentions_for_search(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    build_at_version(path, 2)
    raw(path).executescript(INSERT_V1)
    add_v1_mention(path, 1, "new", "Demande de REMBOURSEMENT")
    add_v1_mention(path, 2, "new", "autre chose")
    store = await Store.open(path)
    rows = await store.queue_window(QueueFilter(search="rembour"))
    assert [r.id for r in rows] == [1]
    await store.close()


async def test_a_failing_step_leaves_the_previous_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import db.schema as schema
    from db.errors import StoreError

    path = tmp_path / "v2.db"
    build_at_version(path, 2)
    broken = schema.Migration(3, "broken", "CREATE TABLE fine (x);\nCREATE TABLE ;\n")
    monkeypatch.setattr(schema, "MIGRATIONS", (*MIGRATIONS[:2], broken))
    with pytest.raises(StoreError):
        await Store.open(path)
    conn = raw(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'fine'").fetchone()[0] == 0
