"""Two consoles (two real processes) on one database file: a sustained mix of agent writes and
reads, a fixed number of operations each, with 0 `database is locked` errors and no lost update.

"No lost update" is checked four ways after the run:
- everything each console wrote is there (notes, replies, the last draft of each of its
  mentions, ingested mentions) and each console's events are all in the log;
- the log is one serial history: for every mention, each status change starts from the status
  the previous change (by either console) left, and the mention ends where its log ends (status,
  assignee, tags) - a write based on a stale read, or one overwritten unseen, breaks the chain;
- the counters kept by triggers equal a recount of mentions by status and channel;
- the tag index (mention_tags) agrees with the tags of every mention.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from db.models import NewMention
from db.store import Store

from .conftest import NOW, SLA

ROOT = Path(__file__).resolve().parents[2]
OPS = 2500  # per console
AGENTS = (("ana", 11, 0), ("ben", 22, 1))  # name, RNG seed, parity of the mentions it drafts on
DEADLINE = 120.0


async def seed_db(path: Path) -> None:
    store = await Store.open(path)
    try:
        await store.ingest(
            [NewMention(channel=("x", "mastodon", "bluesky")[i % 3], remote_id=f"seed-{i}",
                        author_handle=f"@cust{i % 25}", author_name="Client",
                        text=f"message {i}", created_at=NOW - i * 60) for i in range(60)],
            now=NOW, first_reply_sla=SLA)
    finally:
        await store.close()


def start(db: Path, agent: str, seed: int, parity: int) -> subprocess.Popen[str]:
    code = (f"from tests.db.two_consoles_child import main; "
            f"main({str(db)!r}, {agent!r}, {seed}, {OPS}, {parity})")
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def run_both(db: Path) -> list[dict[str, Any]]:
    children = [start(db, agent, seed, parity) for agent, seed, parity in AGENTS]
    try:
        for child in children:  # both have opened the Store...
            assert child.stdout is not None and child.stdout.readline() == "ready\n"
        for child in children:  # ...and start together
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        outputs = [child.communicate(timeout=DEADLINE) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.communicate()
    for child, (_out, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err
    return [json.loads(out) for out, _err in outputs]


def replay_ok(conn: sqlite3.Connection) -> list[str]:
    """Where the event log is not one serial history of the mentions' states (empty: none)."""
    problems: list[str] = []
    state: dict[int, dict[str, str]] = {}
    for mid, action, detail in conn.execute(
            "SELECT mention_id, action, detail FROM events WHERE mention_id IS NOT NULL "
            "ORDER BY id"):
        s = state.setdefault(mid, {"status": "new", "assignee": "", "tags": ""})
        if action == "status":
            before, after = detail.split(" -> ")
            if before != s["status"]:
                problems.append(f"mention {mid}: change {detail!r} after {s['status']!r}")
            s["status"] = after.split(" until ")[0]
        elif action == "reply":
            s["status"] = "pending"
        elif action == "assign":
            s["assignee"] = detail
        elif action == "tags":
            s["tags"] = detail
    for mid, status, assignee, tags in conn.execute(
            "SELECT id, status, coalesce(assignee, ''), tags FROM mentions"):
        s = state.get(mid, {"status": "new", "assignee": "", "tags": ""})
        tag_list = ",".join(t for t in tags.split("|") if t)
        if (status, assignee, tag_list) != (s["status"], s["assignee"], s["tags"]):
            problems.append(f"mention {mid}: row {(status, assignee, tag_list)} but log {s}")
    return problems


async def test_two_consoles_on_one_file_lose_nothing_and_never_see_locked(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    await seed_db(db)

    logs = run_both(db)

    conn = sqlite3.connect(db)
    try:
        notes = {(i, t) for i, t in conn.execute("SELECT id, text FROM notes")}
        replies = {(i, m, t) for i, m, t in conn.execute(
            "SELECT id, mention_id, text FROM outbox")}
        drafts = dict(conn.execute("SELECT mention_id, text FROM drafts"))
        remote_ids = {r for (r,) in conn.execute("SELECT remote_id FROM mentions")}
        events_by_actor = Counter(a for (a,) in conn.execute("SELECT actor FROM events"))
        kept = set(conn.execute("SELECT status, channel, n FROM counters WHERE n != 0"))
        recount = set(conn.execute(
            "SELECT status, channel, count(*) FROM mentions GROUP BY status, channel"))
        tag_index = set(conn.execute("SELECT mention_id, tag FROM mention_tags"))
        tag_rows = {(mid, t) for mid, tags in conn.execute("SELECT id, tags FROM mentions")
                    for t in tags.split("|") if t}
        serial = replay_ok(conn)
    finally:
        conn.close()

    ops = Counter[str]()
    for log in logs:
        ops.update(log["ops"])
    writes = sum(n for op, n in ops.items() if not op.startswith("read_"))
    locked = sum(log["locked"] for log in logs)
    print(f"\ntwo consoles: {sum(ops.values())} operations ({writes} writes, "
          f"{sum(ops.values()) - writes} reads) in "
          f"{max(log['seconds'] for log in logs):.1f} s, {locked} 'database is locked', "
          f"{sum(len(log['errors']) for log in logs)} errors")

    # The two runs really were concurrent (most of the shorter one inside the longer one).
    (a0, a1), (b0, b1) = (log["span"] for log in logs)
    overlap = min(a1, b1) - max(a0, b0)
    assert overlap > 0.5 * min(a1 - a0, b1 - b0), logs[0]["span"] + logs[1]["span"]
    assert locked == 0, [log["errors"] for log in logs]
    assert [log["errors"] for log in logs] == [[], []]
    for log in logs:
        assert sum(log["ops"].values()) == OPS
        assert all(log["ops"].get(op, 0) > 0 for op in ("set_status", "assign", "add_note",
                                                         "set_tags", "queue_reply",
                                                         "save_draft", "ingest"))
        assert {(i, t) for i, t in log["notes"]} <= notes
        assert {(i, m, t) for i, m, t in log["replies"]} <= replies
        for mid, text in log["drafts"].items():
            assert drafts.get(int(mid)) == text, (log["agent"], mid)
        assert set(log["ingested"]) <= remote_ids
        assert events_by_actor[log["agent"]] == log["events"]
    assert len(notes) == sum(len(log["notes"]) for log in logs)
    assert len(replies) == sum(len(log["replies"]) for log in logs)
    assert len(remote_ids) == 60 + sum(len(log["ingested"]) for log in logs)
    assert serial == []
    assert kept == recount
    assert tag_index == tag_rows
