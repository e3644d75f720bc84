"""Backups, restores and data-protection erasure (db/maintenance.py)."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from pathlib import Path

import pytest

from db.errors import DatabaseLocked, NewerSchema, NotADatabase, NotFound
from db.maintenance import (
    AmbiguousHandle,
    BackupExists,
    MaintenanceError,
    backup,
    backup_dir,
    before_restore_path,
    corrupt_message,
    erase_customer,
    latest_backup,
    list_backups,
    restore,
)
from db.models import NewCustomer, NewIdentity, Status
from db.schema import APPLICATION_ID, LATEST_VERSION
from db.store import Store
from tests.db.conftest import NOW, SLA, nm, raw


def mention_ids(path: Path) -> list[str]:
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute("SELECT remote_id FROM mentions ORDER BY id")]
    finally:
        conn.close()


async def make_db(path: Path, *remote_ids: str) -> None:
    store = await Store.open(path)
    try:
        await store.ingest([nm(r) for r in remote_ids], now=NOW, first_reply_sla=SLA)
    finally:
        await store.close()


# --- backup --------------------------------------------------------------------------------------
async def test_backup_of_an_open_database_while_another_connection_writes(
    store: Store, db_path: Path, tmp_path: Path
) -> None:
    await store.ingest([nm("1"), nm("2")], now=NOW, first_reply_sla=SLA)
    writer = raw(db_path)
    writer.execute("BEGIN IMMEDIATE")  # holds the write lock through the whole backup
    writer.execute("UPDATE mentions SET text = 'uncommitted' WHERE remote_id = '1'")
    dest = tmp_path / "copy.db"

    result = await backup(db_path, dest)

    writer.execute("COMMIT")  # the writer was never blocked nor broken by the backup
    writer.close()
    assert result.path == dest and result.size == dest.stat().st_size > 0
    assert result.seconds >= 0
    assert mention_ids(dest) == ["1", "2"]
    check = sqlite3.connect(dest)
    assert check.execute("SELECT text FROM mentions WHERE remote_id = '1'").fetchone() == (
        "message 1",
    )
    assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert check.execute("PRAGMA application_id").fetchone() == (APPLICATION_ID,)
    assert check.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # one file
    check.close()
    assert not Path(f"{dest}-wal").exists()
    # The open Store is unaffected.
    await store.ingest([nm("3")], now=NOW, first_reply_sla=SLA)
    assert (await store.counts()).total == 3


async def test_backup_is_a_consistent_snapshot_under_concurrent_commits(
    db_path: Path, tmp_path: Path
) -> None:
    await make_db(db_path, "seed")
    done = threading.Event()
    written: list[int] = []

    def keep_writing() -> None:
        conn = raw(db_path)
        conn.execute("PRAGMA busy_timeout = 5000")
        n = 0
        while not done.is_set() or n < 20:
            conn.execute("INSERT INTO templates (name, lang, body) VALUES (?, 'fr', 'x')",
                         (f"t{n}",))
            n += 1
        written.append(n)
        conn.close()

    thread = threading.Thread(target=keep_writing)
    thread.start()
    try:
        result = await backup(db_path, tmp_path / "snap.db")
    finally:
        done.set()
        thread.join()
    copy = sqlite3.connect(result.path)
    names = {r[0] for r in copy.execute("SELECT name FROM templates")}
    assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    copy.close()
    # A prefix of the committed inserts: t0..t(k-1), no gaps.
    assert names == {f"t{i}" for i in range(len(names))}
    assert len(names) <= written[0]


async def test_backup_never_overwrites(db_path: Path, tmp_path: Path) -> None:
    await make_db(db_path, "1")
    dest = tmp_path / "taken.db"
    dest.write_bytes(b"precious")
    with pytest.raises(BackupExists, match="exists already"):
        await backup(db_path, dest)
    assert dest.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


async def test_backup_refuses_missing_and_foreign_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    with pytest.raises(NotFound):
        await backup(missing, tmp_path / "out.db")
    assert not missing.exists()  # never created by looking at it
    text = tmp_path / "notes.txt"
    text.write_text("hello" * 50)
    with pytest.raises(NotADatabase):
        await backup(text, tmp_path / "out.db")
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(NotADatabase, match="not a Comptoir one"):
        await backup(other, tmp_path / "out.db")
    assert not (tmp_path / "out.db").exists()


async def test_conventional_names_and_latest_backup(db_path: Path) -> None:
    await make_db(db_path, "1")
    assert latest_backup(db_path) is None
    assert "no backup was found" in corrupt_message(db_path)
    first = await backup(db_path, now=NOW)
    second = await backup(db_path, now=NOW + 3661)
    assert first.path == backup_dir(db_path) / "comptoir-20260101-000000.db"
    assert second.path.name == "comptoir-20260101-010101.db"
    with pytest.raises(BackupExists):
        await backup(db_path, now=NOW)  # same second, same name: refused, not overwritten
    # Next to the database counts too; look-alikes and other databases' backups do not.
    beside = db_path.parent / "comptoir-20260102-000000.db"
    (await backup(db_path, beside)).path.touch()
    (backup_dir(db_path) / "comptoir-20990101-000000.db.partial").write_bytes(b"")
    (backup_dir(db_path) / "other-20990101-000000.db").write_bytes(b"")
    (backup_dir(db_path) / "comptoir-2099.db").write_bytes(b"")
    assert list_backups(db_path) == [first.path, second.path, beside]
    assert latest_backup(db_path) == beside
    message = corrupt_message(db_path)
    assert str(beside) in message and "restore" in message and "\n" not in message


async def test_backup_into_a_directory_uses_the_convention(db_path: Path, tmp_path: Path) -> None:
    await make_db(db_path, "1")
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    result = await backup(db_path, folder, now=NOW)
    assert result.path == folder / "comptoir-20260101-000000.db"
    with pytest.raises(ValueError):
        await backup(db_path)  # no name without a time


# --- restore -------------------------------------------------------------------------------------
async def test_restore_round_trip_keeps_the_previous_file(db_path: Path, tmp_path: Path) -> None:
    await make_db(db_path, "1", "2")
    saved = await backup(db_path, tmp_path / "saved.db")
    await make_db(db_path, "3")  # work done after the backup

    result = await restore(saved.path, db_path, now=NOW)

    assert result.previous == before_restore_path(db_path, NOW)
    assert result.previous.name == "comptoir.db.before-restore-20260101-000000"
    assert result.schema_version == LATEST_VERSION
    assert mention_ids(db_path) == ["1", "2"]
    assert mention_ids(result.previous) == ["1", "2", "3"]
    store = await Store.open(db_path)  # a normal Comptoir database again, counters included
    try:
        assert (await store.counts()).total == 2
        await store.ingest([nm("4")], now=NOW, first_reply_sla=SLA)
    finally:
        await store.close()
    # A second restore in the same second would need the same name: refused.
    with pytest.raises(BackupExists):
        await restore(saved.path, db_path, now=NOW)
    assert mention_ids(db_path) == ["1", "2", "4"]


async def test_restore_into_a_new_file(tmp_path: Path, db_path: Path) -> None:
    await make_db(db_path, "1")
    saved = await backup(db_path, tmp_path / "saved.db")
    fresh = tmp_path / "new" / "restored.db"
    result = await restore(saved.path, fresh, now=NOW)
    assert result.previous is None and mention_ids(fresh) == ["1"]


async def test_restore_refuses_while_the_database_is_open(
    store: Store, db_path: Path, tmp_path: Path
) -> None:
    await store.ingest([nm("1")], now=NOW, first_reply_sla=SLA)
    saved = await backup(db_path, tmp_path / "saved.db")
    await store.ingest([nm("2")], now=NOW, first_reply_sla=SLA)
    # The Store is idle (no transaction): a plain BEGIN EXCLUSIVE would not notice it in WAL.
    with pytest.raises(DatabaseLocked, match="close it before restoring"):
        await restore(saved.path, db_path, now=NOW)
    assert not before_restore_path(db_path, NOW).exists()
    assert (await store.counts()).total == 2  # untouched and still working
    await store.ingest([nm("3")], now=NOW, first_reply_sla=SLA)


async def test_restore_checks_the_backup(db_path: Path, tmp_path: Path) -> None:
    await make_db(db_path, "1")
    before = db_path.read_bytes()

    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"x" * 4096)
    with pytest.raises(NotADatabase, match="not a SQLite database"):
        await restore(garbage, db_path, now=NOW)

    foreign = tmp_path / "foreign.db"
    sqlite3.connect(foreign).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(NotADatabase, match="not a Comptoir one"):
        await restore(foreign, db_path, now=NOW)

    newer = tmp_path / "newer.db"
    conn = sqlite3.connect(newer)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(NewerSchema):
        await restore(newer, db_path, now=NOW)

    damaged = (await backup(db_path, tmp_path / "damaged.db")).path
    data = bytearray(damaged.read_bytes())
    page = 4096
    assert len(data) > 3 * page
    data[2 * page : 3 * page] = b"\xff" * page  # a b-tree page full of garbage
    damaged.write_bytes(bytes(data))
    with pytest.raises(NotADatabase):
        await restore(damaged, db_path, now=NOW)

    with pytest.raises(NotFound):
        await restore(tmp_path / "missing.db", db_path, now=NOW)
    with pytest.raises(MaintenanceError, match="onto itself"):
        await restore(db_path, db_path, now=NOW)

    assert db_path.read_bytes() == before
    assert not before_restore_path(db_path, NOW).exists()


async def test_restore_refuses_to_replace_a_foreign_database(
    db_path: Path, tmp_path: Path
) -> None:
    await make_db(db_path, "1")
    saved = await backup(db_path, tmp_path / "saved.db")
    foreign = tmp_path / "accounts.db"
    sqlite3.connect(foreign).execute("CREATE TABLE ledger (x)").connection.close()
    with pytest.raises(MaintenanceError, match="refusing to replace it"):
        await restore(saved.path, foreign, now=NOW)
    assert not before_restore_path(foreign, NOW).exists()


async def test_restore_over_a_file_that_is_not_a_database(db_path: Path, tmp_path: Path) -> None:
    await make_db(db_path, "1")
    saved = await backup(db_path, tmp_path / "saved.db")
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"\0garbage" * 100)
    result = await restore(saved.path, broken, now=NOW)
    assert result.previous is not None
    assert result.previous.read_bytes() == b"\0garbage" * 100
    assert mention_ids(broken) == ["1"]


# --- erasure -------------------------------------------------------------------------------------
def planted() -> str:
    # One FTS token (lower-case letters and digits), unique to this test.
    return "zqplant" + uuid.uuid4().hex


def hits(path: Path, needle: str) -> int:
    """Occurrences of `needle` in the raw bytes of the database and its WAL (and of its tail:
    FTS5 prefix-compresses terms, so a term's head may be shared with the term before it)."""
    count = 0
    for p in (path, Path(f"{path}-wal")):
        if p.exists():
            data = p.read_bytes()
            count += data.count(needle.encode()) + data.count(needle[-16:].encode())
    return count


async def erasable(store: Store, secret: str) -> list[int]:
    """A customer whose personal data all carries `secret`: handle, name, mentions (one with an
    FTS entry and a tag), an older and a current draft, a note, replies; and a bystander."""
    handle = f"@{secret}"
    ids = await store.ingest(
        [
            nm("1", author_handle=handle, author_name=f"Jean {secret}",
               text=f"my address is {secret} street", tags=("vip",)),
            nm("2", author_handle=handle, author_name=f"Jean {secret}", text=f"again {secret}",
               reply_text=f"Hello Jean {secret}, sorry"),
            nm("3", channel="mastodon", author_handle="@ana@example.social", author_name="Ana",
               text="my order is late"),
        ],
        now=NOW,
        first_reply_sla=SLA,
    )
    await store.save_draft(ids[0], f"Dear {secret}, draft one", None, now=NOW)
    await store.save_draft(ids[0], "Dear you, draft two", None, now=NOW + 1)
    await store.add_note(ids[0], f"calls himself {secret}", author="al", now=NOW)
    await store.set_status(ids[0], Status.OPEN, actor="al", now=NOW)
    await store.set_tags(ids[0], ["vip", "late"], actor="al", now=NOW)
    await store.queue_reply(ids[1], f"We are on it, {secret}", author="al", now=NOW + 2)
    return ids


def counters_match(path: Path) -> bool:
    conn = sqlite3.connect(path)
    try:
        kept = set(conn.execute("SELECT status, channel, n FROM counters WHERE n != 0"))
        real = set(conn.execute(
            "SELECT status, channel, count(*) FROM mentions GROUP BY status, channel"))
        return kept == real
    finally:
        conn.close()


async def test_erasure_leaves_no_byte_of_the_customer(db_path: Path) -> None:
    secret = planted()
    store = await Store.open(db_path)
    ids = await erasable(store, secret)
    events_before = len(await store.events(ids[0]))
    # The planted string is really there on disk before (the test can see it).
    checkpoint = raw(db_path)
    checkpoint.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    checkpoint.close()
    assert hits(db_path, secret) > 0

    report = await erase_customer(store, f"x:@{secret}", actor="dpo", now=NOW + 100)

    assert (report.mentions, report.notes, report.drafts, report.replies, report.identities) == (
        2, 1, 1, 2, 1)
    assert report.vacuumed and report.wal_truncated
    assert hits(db_path, secret) == 0  # while the Store is still open (a console running)
    # Everything the Store shows is consistent, the bystander intact.
    assert await store.mention(ids[0]) is None and await store.mention(ids[1]) is None
    assert await store.customer_card(1) is None
    counts = await store.counts()
    assert counts.total == 1 and counts.by_channel == {"mastodon": 1}
    assert counters_match(db_path)
    # Events stay (append-only), hold nothing of the customer, and the erasure is audited.
    conn = raw(db_path)
    rows = conn.execute("SELECT mention_id, actor, action, detail FROM events").fetchall()
    assert len(await store.events(ids[0])) == events_before
    assert all(secret not in " ".join(map(str, r)) for r in rows)
    assert rows[-1] == (None, "dpo", "erase", "customer #1: 2 mentions, 1 notes, 1 drafts, "
                        "2 replies, 1 identities, 0 quarantined items, 0 listening results, "
                        "4 events redacted")
    # The full-text index is consistent and finds nothing of the customer.
    assert conn.execute(
        "INSERT INTO mentions_fts (mentions_fts, rank) VALUES ('integrity-check', 1)"
    ).rowcount in (-1, 0, 1)
    assert conn.execute("SELECT count(*) FROM mentions_fts WHERE mentions_fts MATCH ?",
                        (secret,)).fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM mentions_fts WHERE mentions_fts MATCH 'late'"
                        ).fetchone() == (1,)
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.close()
    await store.ingest([nm("4", author_handle="@new")], now=NOW, first_reply_sla=SLA)
    await store.close()
    assert hits(db_path, secret) == 0
    assert counters_match(db_path)


async def test_erasure_without_vacuum_still_removes_deleted_rows(
    store: Store, db_path: Path
) -> None:
    secret = planted()
    await store.ingest([nm("1", author_handle=f"@{secret}", author_name=secret,
                           text=f"call me at {secret}")], now=NOW, first_reply_sla=SLA)
    report = await erase_customer(db_path, secret, actor="dpo", now=NOW, vacuum=False)
    assert report.mentions == 1 and not report.vacuumed
    assert hits(db_path, secret) == 0
    assert counters_match(db_path)


async def test_erasure_finds_customers_by_any_handle_form(store: Store, db_path: Path) -> None:
    await store.bulk_load(
        [
            NewCustomer("Jean", "Jean", (NewIdentity("x", "@jean", "Jean"),
                                         NewIdentity("bluesky", "@jean.bsky.social", "Jean"))),
            NewCustomer("Other Jean", "Jean", (NewIdentity("mastodon", "@Jean", "J"),)),
            NewCustomer("Ana", "Ana", (NewIdentity("x", "@ana", "Ana"),)),
        ],
        [nm("1", author_handle="@jean"), nm("2", channel="bluesky",
                                             author_handle="@jean.bsky.social")],
        now=NOW, first_reply_sla=SLA,
    )
    with pytest.raises(AmbiguousHandle, match=r"#1 \(.*\), .*#2 \(mastodon\)"):
        await erase_customer(db_path, "jean", actor="dpo", now=NOW)
    with pytest.raises(NotFound):
        await erase_customer(db_path, "x:@nobody", actor="dpo", now=NOW)
    with pytest.raises(NotFound):
        await erase_customer(db_path, "#99", actor="dpo", now=NOW)
    # Channel-qualified, any case, with or without '@': one customer, all their identities.
    report = await erase_customer(db_path, "BLUESKY:Jean.Bsky.Social", actor="dpo", now=NOW,
                                  vacuum=False)
    assert (report.customer_id, report.identities, report.mentions) == (1, 2, 2)
    assert (await erase_customer(db_path, "#3", actor="dpo", now=NOW)).identities == 1
    assert (await erase_customer(db_path, "jean", actor="dpo", now=NOW)).customer_id == 2
    assert (await store.counts()).total == 0
    assert counters_match(db_path)


async def test_erasure_waits_for_a_reply_in_flight(store: Store, db_path: Path) -> None:
    [mid] = await store.ingest([nm("1")], now=NOW, first_reply_sla=SLA)
    item = await store.queue_reply(mid, "On it", author="al", now=NOW)
    await store.set_outbox_state(item.id, "sending", now=NOW)  # type: ignore[arg-type]
    with pytest.raises(MaintenanceError, match="being sent"):
        await erase_customer(store, "@jean", actor="dpo", now=NOW)
    assert await store.mention(mid) is not None  # nothing deleted: one transaction
    await store.set_outbox_state(item.id, "sent", now=NOW)  # type: ignore[arg-type]
    assert (await erase_customer(store, "@jean", actor="dpo", now=NOW)).replies == 1


@pytest.mark.parametrize("vacuum", [False, True])
async def test_vacuum_removes_copies_left_by_earlier_non_secure_deletes(
    store: Store, db_path: Path, vacuum: bool
) -> None:
    # SQLite builds differ: Debian's defaults to secure_delete=ON, others (macOS, the Windows
    # python.org build) to OFF. Simulate the latter for a draft deleted before the erasure (as
    # queue_reply does): its text stays in the page's free space until the page is rewritten.
    secret = planted()
    ids = await store.ingest(
        [nm("0", author_handle="@other"), nm("1", author_handle="@victim"),
         nm("2", author_handle="@other")],
        now=NOW, first_reply_sla=SLA,
    )
    await store.save_draft(ids[0], "bystander draft", None, now=NOW)
    await store.save_draft(ids[1], f"draft long long long {secret} long long long", None, now=NOW)
    await store.save_draft(ids[2], "bystander draft", None, now=NOW)
    conn = raw(db_path)
    conn.execute("PRAGMA secure_delete = OFF")
    conn.execute("DELETE FROM drafts WHERE mention_id = ?", (ids[1],))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    assert hits(db_path, secret) > 0

    await erase_customer(store, "@victim", actor="dpo", now=NOW, vacuum=vacuum)

    assert (hits(db_path, secret) == 0) is vacuum
    assert await store.draft(ids[0]) is not None and await store.draft(ids[2]) is not None


async def test_restore_over_a_damaged_database_keeps_its_bytes(
    db_path: Path, tmp_path: Path
) -> None:
    await make_db(db_path, *(str(n) for n in range(50)))
    saved = await backup(db_path, tmp_path / "saved.db")
    data = bytearray(db_path.read_bytes())
    data[2 * 4096 : 3 * 4096] = b"\xff" * 4096
    db_path.write_bytes(bytes(data))
    assert "saved.db" not in corrupt_message(db_path)  # not a conventional name

    result = await restore(saved.path, db_path, now=NOW)

    assert result.previous is not None and result.previous.read_bytes() == bytes(data)
    assert mention_ids(db_path) == [str(n) for n in range(50)]
