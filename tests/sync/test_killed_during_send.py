"""A sender SIGKILLed at random points, restarted each time, delivers every reply exactly once.

The fake is a loopback HTTP server (127.0.0.1 only, started here, stopped at the end and by a
timer of its own) that answers like Mastodon: it records every POST by its Idempotency-Key and,
like Mastodon, answers a repeated key with the status it already created. Kill points:
- "before": the server kills the child when a POST arrives, before creating the status;
- "after": the server creates the status, then kills the child before answering;
- "created": the test kills the child once k more statuses exist (it is then committing
  `sent`, or already sending the next one);
- "timer": a timer kills the child after a random delay (opening the store, a commit...).
The test never sleeps to wait: it waits on the fake's condition variable and on the process,
each with a deadline.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from db.models import OutboxState
from db.store import Store

from .conftest import NOW, SLA, nm

ROOT = Path(__file__).resolve().parents[2]
REPLIES = 80
RUNS = 30
DEADLINE = 20.0  # seconds for any one wait


@dataclass
class FakeMastodon:
    lock: threading.Condition = field(default_factory=threading.Condition)
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    posts: list[str] = field(default_factory=list)
    repeated_keys: list[str] = field(default_factory=list)  # POSTs for a key already created
    in_flight: int = 0
    child_pid: int | None = None
    kill_at_post: int | None = None  # kill the child when posts reaches this count...
    kill_mode: str = ""  # ..."before" or "after" creating the status

    def kill_child(self) -> None:
        if self.child_pid is not None:
            with contextlib.suppress(ProcessLookupError):  # it ended already
                os.kill(self.child_pid, signal.SIGKILL)


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
                body = json.loads(self.rfile.read(length))
                key = self.headers["Idempotency-Key"]
                with fake.lock:
                    fake.posts.append(key)
                    kill = fake.kill_at_post == len(fake.posts)
                    if kill and fake.kill_mode == "before":
                        fake.kill_child()
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
                        fake.lock.notify_all()
                    if kill:
                        fake.kill_child()
                self.answer(200, status)
            finally:
                with fake.lock:
                    fake.in_flight -= 1
                    fake.lock.notify_all()

        def do_GET(self) -> None:
            m = re.fullmatch(r"/api/v1/statuses/([^/]+)/context", self.path)
            if not m:
                self.answer(404, {"error": "Record not found"})
                return
            with fake.lock:
                replies = [s for s in fake.statuses.values()
                           if s["in_reply_to_id"] == m.group(1)]
            self.answer(200, {"ancestors": [], "descendants": replies})

    return Handler


@pytest.fixture
def fake_server() -> Iterator[tuple[FakeMastodon, str]]:
    fake = FakeMastodon()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(fake))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stopper = threading.Timer(300, server.shutdown)  # stops by itself if the test hangs
    stopper.daemon = True
    stopper.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        stopper.cancel()
        server.shutdown()
        server.server_close()


def wait_for(fake: FakeMastodon, predicate: Any, what: str) -> None:
    with fake.lock:
        if not fake.lock.wait_for(predicate, timeout=DEADLINE):
            raise AssertionError(f"timed out waiting for {what}")


def exited(fake: FakeMastodon, child: subprocess.Popen[bytes]) -> None:
    """Wake the waiters when the child ends (killed, or done)."""
    child.wait()
    with fake.lock:
        fake.lock.notify_all()


def start_child(db: Path, url: str) -> subprocess.Popen[bytes]:
    code = f"from tests.sync.kill_child import main; main({str(db)!r}, {url!r})"
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


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

    rng = random.Random(20260101)
    started = time.monotonic()
    kills = 0
    for _run in range(RUNS):
        mode = rng.choice(["before", "after", "created", "timer"])
        with fake.lock:
            fake.kill_at_post = len(fake.posts) + rng.randint(1, 3) \
                if mode in ("before", "after") else None
            fake.kill_mode = mode
            target = len(fake.statuses) + rng.randint(1, 3)
        posts_before = len(fake.posts)
        child = start_child(db_path, url)
        with fake.lock:
            fake.child_pid = child.pid
        watcher = threading.Thread(target=exited, args=(fake, child), daemon=True)
        watcher.start()
        timer = None
        if mode == "timer":  # a random instant shortly after its first POST
            def posted(n: int = posts_before, c: subprocess.Popen[bytes] = child) -> bool:
                return len(fake.posts) > n or c.poll() is not None

            wait_for(fake, posted, "a first POST")
            timer = threading.Timer(rng.uniform(0.0, 0.05), fake.kill_child)
            timer.start()
        elif mode == "created":
            def created(n: int = target, c: subprocess.Popen[bytes] = child) -> bool:
                return len(fake.statuses) >= n or c.poll() is not None

            wait_for(fake, created, "statuses to be created")
            fake.kill_child()
        try:
            code = child.wait(timeout=DEADLINE)
        finally:
            if timer is not None:
                timer.cancel()
            with fake.lock:
                fake.child_pid = None
        if code == -signal.SIGKILL:
            kills += 1
        else:
            assert code == 0, child.stderr.read().decode() if child.stderr else code
        if child.stderr:
            child.stderr.close()
        watcher.join(DEADLINE)
        # The killed child's request may still be in the server: let it finish first.
        wait_for(fake, lambda: fake.in_flight == 0, "the fake to be idle")
    assert kills >= RUNS // 2, f"only {kills} of {RUNS} runs were killed"

    with fake.lock:
        fake.kill_at_post = None
    child = start_child(db_path, url)
    final = child.wait(timeout=60)
    stderr = child.stderr.read().decode() if child.stderr else ""
    if child.stderr:
        child.stderr.close()
    assert final == 0, stderr
    assert time.monotonic() - started < 120

    store = await Store.open(db_path)
    try:
        rows = [row for item in items for row in await store.outbox_for_mention(item.mention_id)]
    finally:
        await store.close()
    assert len(rows) == REPLIES
    # 0 lost: every reply is sent, under the one status the server holds for its key.
    assert [r.state for r in rows] == [OutboxState.SENT] * REPLIES
    assert {r.idempotency_key: r.remote_id for r in rows} == fake.by_key
    # 0 duplicated: one status per reply, one reply per parent.
    assert len(fake.statuses) == REPLIES
    parents = [s["in_reply_to_id"] for s in fake.statuses.values()]
    assert len(set(parents)) == REPLIES
    # And it never needed the server's idempotency key to get there: every retry was preceded by
    # a lookup that found the post if it was out.
    assert fake.repeated_keys == []
