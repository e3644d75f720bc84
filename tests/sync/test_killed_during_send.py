"""A sender SIGKILLed at 100+ random points, restarted each time, delivers every reply exactly once.

The fake is a loopback HTTP server (127.0.0.1 only, started here, stopped at the end and by a
timer of its own) that answers like Mastodon: it records every POST by its Idempotency-Key and,
like Mastodon, answers a repeated key with the status it already created.

One child process (tests/sync/kill_child.py) forks one sender after another, each with a kill
point drawn from a seeded RNG across every phase of a send: inside and right after the durable
commit of `sending`, when the POST arrives, after the server posted but before it answers, inside
and right after the commit of `sent`, during the look-up that recovers an earlier kill, and at a
random instant. Forking from one interpreter keeps a hundred kills to a few seconds on two cores.
The test never sleeps to wait: the fake waits on its condition variable, the test on the process,
each with a deadline.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from db.models import OutboxState
from db.store import Store

from .conftest import NOW, SLA, nm
from .kill_child import PHASES

ROOT = Path(__file__).resolve().parents[2]
REPLIES = 300
KILLS = 120  # the issue asks for at least 100
SEED = 20260101
DEADLINE = 20.0  # seconds for any one wait in the fake
RUN_DEADLINE = 240.0  # seconds for the whole child run


@dataclass
class FakeMastodon:
    lock: threading.Condition = field(default_factory=threading.Condition)
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    posts: list[str] = field(default_factory=list)
    repeated_keys: list[str] = field(default_factory=list)  # POSTs for a key already created
    in_flight: int = 0
    supervisor_pid: int | None = None
    server_kills: Counter[str] = field(default_factory=Counter)

    def kill(self, pid_header: str | None, phase: str) -> None:
        """SIGKILL the sender that asked for it, if it is a child of our supervisor."""
        if not pid_header or not pid_header.isdigit() or self.supervisor_pid is None:
            return
        pid = int(pid_header)
        if parent_of(pid) != self.supervisor_pid:
            return
        with contextlib.suppress(ProcessLookupError):  # it ended already
            os.kill(pid, signal.SIGKILL)
            self.server_kills[phase] += 1


def parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")"
    return int(stat.rsplit(")", 1)[1].split()[1])


def handler_for(fake: FakeMastodon) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def answer(self, code: int, body: object) -> None:
            data = json.dumps(body).encode()
            try:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client was killed

        def do_POST(self) -> None:
            with fake.lock:
                fake.in_flight += 1
            try:
                length = int(self.headers.get("Content-Length", "0"))
                try:
                    body = json.loads(self.rfile.read(length))
                except (OSError, ValueError):
                    return  # the sender died while sending its request: nothing was posted
                key = self.headers["Idempotency-Key"]
                kill = self.headers.get("X-Kill")
                with fake.lock:
                    fake.posts.append(key)
                    if kill == "request:received":
                        fake.kill(self.headers.get("X-Kill-Pid"), kill)
                        return
                    if key in fake.by_key:  # Mastodon: same key, same status, no new post
                        fake.repeated_keys.append(key)
                        status = fake.statuses[fake.by_key[key]]
                    else:
                        sid = str(100_000 + len(fake.statuses))
                        status = {"id": sid, "content": body["status"],
                                  "in_reply_to_id": body["in_reply_to_id"],
                                  "account": {"acct": "acme"}}
                        fake.statuses[sid] = status
                        fake.by_key[key] = sid
                    if kill == "request:accepted":
                        fake.kill(self.headers.get("X-Kill-Pid"), kill)
                self.answer(200, status)
            finally:
                with fake.lock:
                    fake.in_flight -= 1
                    fake.lock.notify_all()

        def do_GET(self) -> None:
            if self.path == "/test/idle":  # the supervisor, between two senders
                with fake.lock:
                    idle = fake.lock.wait_for(lambda: fake.in_flight == 0, timeout=DEADLINE)
                self.answer(200 if idle else 504, {"idle": idle})
                return
            m = re.fullmatch(r"/api/v1/statuses/([^/]+)/context", self.path)
            if not m:
                self.answer(404, {"error": "Record not found"})
                return
            with fake.lock:
                fake.in_flight += 1
            try:
                with fake.lock:
                    if self.headers.get("X-Kill") == "lookup":
                        fake.kill(self.headers.get("X-Kill-Pid"), "lookup")
                        return
                    replies = [s for s in fake.statuses.values()
                               if s["in_reply_to_id"] == m.group(1)]
                self.answer(200, {"ancestors": [], "descendants": replies})
            finally:
                with fake.lock:
                    fake.in_flight -= 1
                    fake.lock.notify_all()

    return Handler


@pytest.fixture
def fake_server() -> Iterator[tuple[FakeMastodon, str]]:
    fake = FakeMastodon()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(fake))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stopper = threading.Timer(RUN_DEADLINE + 60, server.shutdown)  # stops if the test hangs
    stopper.daemon = True
    stopper.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        stopper.cancel()
        server.shutdown()
        server.server_close()


@pytest.mark.skipif(not hasattr(os, "fork") or not Path("/proc/self/stat").exists(),
                    reason="forks senders and checks their parent in /proc (Linux)")
async def test_killed_at_random_points_every_reply_goes_out_exactly_once(
    db_path: Path, fake_server: tuple[FakeMastodon, str]
) -> None:
    fake, url = fake_server
    store = await Store.open(db_path)
    try:
        ids = await store.ingest([nm(f"p{i}") for i in range(REPLIES)], now=NOW,
                                 first_reply_sla=SLA)
        items = [await store.queue_reply(mid, f"reply {i}: merci, on regarde", author="ana",
                                         now=NOW) for i, mid in enumerate(ids)]
    finally:
        await store.close()

    started = time.monotonic()
    code = f"from tests.sync.kill_child import main; main({str(db_path)!r}, {url!r}, {SEED}, " \
           f"{KILLS})"
    child = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    with fake.lock:
        fake.supervisor_pid = child.pid
    try:
        out, err = child.communicate(timeout=RUN_DEADLINE)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    seconds = time.monotonic() - started
    assert child.returncode == 0, err.decode()
    result = json.loads(out)
    assert result["final_exit"] == 0, err.decode()

    store = await Store.open(db_path)
    try:
        rows = [row for item in items for row in await store.outbox_for_mention(item.mention_id)]
    finally:
        await store.close()

    forks = result["forks"]
    kills = Counter(f["phase"] for f in forks if f["killed"])
    by_parent = Counter(s["in_reply_to_id"] for s in fake.statuses.values())
    remote_ids = {r.idempotency_key: r.remote_id for r in rows}
    delivered_once = sum(
        1 for r in rows
        if r.state is OutboxState.SENT and fake.by_key.get(r.idempotency_key) == r.remote_id
        and by_parent[fake.statuses[r.remote_id]["in_reply_to_id"]] == 1
    )
    lost = sum(1 for r in rows if r.state is not OutboxState.SENT or r.remote_id is None
               or r.remote_id not in fake.statuses)
    duplicated = sum(n - 1 for n in by_parent.values() if n > 1)
    print(f"\nkilled during send: {sum(kills.values())} kills in {len(forks)} forked senders "
          f"({', '.join(f'{p} {kills[p]}' for p in PHASES)}); {REPLIES} replies, "
          f"{delivered_once} delivered once, {lost} lost, {duplicated} duplicated; "
          f"{result['left_for_final']} left for the last sender; {seconds:.1f} s")

    assert sum(kills.values()) >= 100
    assert result["left_for_final"] > 0  # the kills never ran out of replies to interrupt
    # Every phase was really hit (a kill point that never comes would make this test a no-op).
    assert all(kills[p] >= 3 for p in PHASES), kills
    assert kills["request:received"] + kills["request:accepted"] + kills["lookup"] == \
        sum(fake.server_kills.values())
    assert len(rows) == REPLIES
    assert (delivered_once, lost, duplicated) == (REPLIES, 0, 0)
    # 0 lost: every reply is sent, under the one status the server holds for its key.
    assert [r.state for r in rows] == [OutboxState.SENT] * REPLIES
    assert remote_ids == fake.by_key
    # 0 duplicated: one status per reply, one reply per parent.
    assert len(fake.statuses) == REPLIES and len(by_parent) == REPLIES
    # And it never needed the server's idempotency key to get there: every retry was preceded by
    # a look-up that found the post if it was out.
    assert fake.repeated_keys == []
