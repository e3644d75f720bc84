"""`comptoir erase-customer HANDLE` leaves no byte of the customer in the database file or its WAL.

A unique string is planted in every place that can hold the customer's data: the handle, the
display name, a post's text (so also the full-text index), the text of a second post in a thread,
an earlier and the current draft, a note, a reply, a tag (mention_tags, the mention's tags and the
event log's detail), an unreadable fetched item (quarantine payload and error) and, when the
schema has it, a listening result. A bystander gets strings of its own, which must survive (the
scan can see what it looks for). Raw bytes of the file and its -wal are scanned for each string
and for its last 16 characters (FTS5 prefix-compresses terms).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from pathlib import Path

import pytest

from console.cli import main
from db.models import NewMention
from db.store import Store

NOW = 1_767_225_600
PLACES = ("handle", "name", "text", "thread", "draft_old", "draft", "note", "reply", "tag",
          "qpayload", "qerror", "listening")


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    monkeypatch.setenv("COMPTOIR_HOME", str(folder))
    return folder


def plant(place: str) -> str:
    # One FTS token (lower-case letters and digits), unique to this run.
    return f"zq{place.replace('_', '')}{uuid.uuid4().hex}"


def hits(db: Path, needle: str) -> int:
    count = 0
    for p in (db, Path(f"{db}-wal")):
        if p.exists():
            data = p.read_bytes()
            count += data.count(needle.encode()) + data.count(needle[-16:].encode())
    return count


async def fill(db: Path, mine: dict[str, str], other: dict[str, str]) -> None:
    store = await Store.open(db)
    try:
        people = []
        for who, s in (("victim", mine), ("bystander", other)):
            handle = f"@{s['handle']}"
            ids = await store.ingest(
                [NewMention(channel="x", remote_id=f"{who}-1", author_handle=handle,
                            author_name=f"Jean {s['name']}", text=f"my address is {s['text']}",
                            created_at=NOW),
                 NewMention(channel="x", remote_id=f"{who}-2", author_handle=handle,
                            author_name=f"Jean {s['name']}", text=f"still {s['thread']}",
                            created_at=NOW + 1, thread_id=f"{who}-1", in_reply_to=f"{who}-1")],
                now=NOW, first_reply_sla=3600)
            await store.save_draft(ids[0], f"Dear {s['draft_old']}", None, now=NOW)
            await store.save_draft(ids[0], f"Dear {s['draft']}", None, now=NOW + 1)
            await store.add_note(ids[0], f"calls himself {s['note']}", author="al", now=NOW)
            await store.set_tags(ids[0], [s["tag"], "late"], actor="al", now=NOW)
            item = await store.queue_reply(ids[1], f"Hello {s['reply']}", author="al", now=NOW)
            await store.set_outbox_state(item.id, "sending", now=NOW)  # type: ignore[arg-type]
            await store.set_outbox_state(item.id, "sent", now=NOW,  # type: ignore[arg-type]
                                         remote_id=f"1{len(people)}")
            people.append((handle, s))
    finally:
        await store.close()
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        for handle, s in people:
            payload = json.dumps({"id": "77", "text": f"unreadable {s['qpayload']}",
                                  "author": {"username": handle.lstrip("@")}})
            conn.execute("INSERT INTO quarantine (account, channel, remote_id, error, payload, at)"
                         " VALUES ('x', 'x', '77', ?, ?, ?)",
                         (f"bad created_at from {handle}: {s['qerror']}", payload, NOW))
            if "watch_results" in tables:
                conn.execute(
                    "INSERT INTO watch_results (channel, remote_id, author_handle, author_name, "
                    "text, term, at, received_at) VALUES ('x', ?, ?, 'Jean', ?, 'fibre', ?, ?)",
                    (f"w{handle}", handle, f"heard {s['listening']}", NOW, NOW))
            else:
                s.pop("listening")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def test_erase_customer_leaves_no_planted_string_in_the_file_or_its_wal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "data" / "q.db"
    mine = {place: plant(place) for place in PLACES}
    other = {place: plant(place) for place in PLACES}
    asyncio.run(fill(db, mine, other))
    # The scan sees every planted string before the erasure, except the replaced draft: with
    # secure_delete (Store turns it on) its bytes were zeroed when the new draft replaced it.
    seen = {p: hits(db, s) > 0 for p, s in mine.items()}
    assert seen == {p: p != "draft_old" for p in mine}

    # A console has the database open meanwhile: the WAL stays on disk to be scanned.
    console = sqlite3.connect(db)
    console.execute("SELECT count(*) FROM mentions").fetchone()
    try:
        assert main(["erase-customer", f"x:@{mine['handle']}", "--db", str(db)]) == 0
        assert Path(f"{db}-wal").exists()
        left = {p: hits(db, s) for p, s in mine.items() if hits(db, s)}
    finally:
        console.close()
    out = capsys.readouterr().out
    assert out.startswith("Erased customer #1: 2 mentions, 1 notes, 1 drafts, 1 replies")
    assert "1 quarantined items" in out and "events redacted" in out

    print(f"\nerase-customer: {len(mine)} planted strings, {sum(left.values())} hits in the "
          f"file and its WAL")
    assert left == {}
    # The bystander's data is all still there, and the database is consistent.
    kept = {p: hits(db, s) > 0 for p, s in other.items()}
    assert kept == {p: p != "draft_old" for p in other}
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT count(*) FROM quarantine").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM events WHERE detail = '(erased)'"
                            ).fetchone()[0] >= 3
        assert conn.execute(
            "SELECT count(*) FROM mentions_fts WHERE mentions_fts MATCH ?", (other["text"],)
        ).fetchone() == (1,)
    finally:
        conn.close()
