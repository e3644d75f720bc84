"""The child process of the killed-during-send test: a supervisor that forks senders to be killed.

Run as `python -c "from tests.sync.kill_child import main; main(DB, URL, SEED, KILLS)"`. The
supervisor imports everything once, then forks one sender after another (a fork costs
milliseconds where a fresh interpreter costs a third of a second, so a hundred kills fit in a CI
run). Each forked sender gets a kill point drawn from a seeded RNG and is SIGKILLed when it gets
there:

- ``sending:open``      inside the durable transaction that claims a reply (before its COMMIT);
- ``sending:committed`` right after that commit, before the request;
- ``request:received``  the fake server kills it when its POST arrives, before posting;
- ``request:accepted``  the fake server posts the status, then kills it before answering;
- ``sent:open``         the answer is in, inside the transaction recording `sent` (before COMMIT);
- ``sent:committed``    right after `sent` is committed;
- ``lookup``            the fake server kills it during a look-up (recovery of an earlier kill);
- ``random``            the supervisor kills it after a random delay (opening the store, a
                        commit, the event loop...: wherever it happens to be).

The `nth` of a kill point is which occurrence in that sender's life (1 to 3): senders get through
a few replies before dying, so kills fall on first, middle and last items alike. Server-side kills
are asked for with request headers (`X-Kill`, `X-Kill-Pid`); the fake kills only a process whose
parent is this supervisor. Between two senders the supervisor asks the fake to finish any request
a killed sender left behind (`GET /test/idle`), as a real server would have before a restart.

When the kills are done, one last sender runs without a kill point until the outbox is empty
(exit 0). The supervisor prints one JSON object: the kill point of every fork and whether it
died there, and how many replies were still unsent when the kills were done.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import sqlite3
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any, Final

import httpx

from console.channels.base import RateState, ReplyTarget, SentReply, TransientError
from console.clock import SystemClock
from console.sync.outbox_sender import OutboxSender
from db.models import OutboxItem, OutboxState
from db.store import Store

PHASES: Final = ("sending:open", "sending:committed", "request:received", "request:accepted",
                 "sent:open", "sent:committed", "lookup", "random")
MAX_FORKS_PER_KILL: Final = 3  # a fork that gets through without reaching its point is fine
KILL_BATCH: Final = 4  # replies a doomed sender takes per pass: its kill point comes soon
MISSED: Final = 3  # exit code of a sender that did two passes without reaching its kill point


@dataclass(frozen=True)
class KillPoint:
    phase: str
    nth: int = 1
    delay: float = 0.0  # seconds, for "random"


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class MiniMastodon:
    """Just enough of a Mastodon adapter: POST with Idempotency-Key, look up the context. It asks
    the fake server to kill it on its nth POST or look-up when its kill point says so."""

    channel = "mastodon"

    def __init__(self, client: httpx.AsyncClient, point: KillPoint | None) -> None:
        self._client = client
        self._point = point
        self._posts = 0
        self._lookups = 0

    def _kill_headers(self, phase: str, count: int) -> dict[str, str]:
        p = self._point
        if p is None or p.phase != phase or p.nth != count:
            return {}
        return {"X-Kill": phase, "X-Kill-Pid": str(os.getpid())}

    @property
    def rate_state(self) -> RateState:
        return RateState()

    def new_record_key(self) -> str | None:
        return None

    async def send_reply(self, item: OutboxItem, in_reply_to: ReplyTarget, *,
                         record_key: str | None = None) -> SentReply:
        self._posts += 1
        headers = {"Idempotency-Key": item.idempotency_key}
        headers |= self._kill_headers("request:received", self._posts)
        headers |= self._kill_headers("request:accepted", self._posts)
        try:
            r = await self._client.post(
                "/api/v1/statuses", json={"status": item.text, "in_reply_to_id":
                                          in_reply_to.remote_id}, headers=headers)
        except httpx.TransportError as e:
            raise TransientError(str(e), maybe_sent=True) from e
        r.raise_for_status()
        return SentReply(r.json()["id"])

    async def find_existing_reply(self, item: OutboxItem, in_reply_to: ReplyTarget, *,
                                  record_key: str | None = None) -> SentReply | None:
        self._lookups += 1
        try:
            r = await self._client.get(f"/api/v1/statuses/{in_reply_to.remote_id}/context",
                                       headers=self._kill_headers("lookup", self._lookups))
        except httpx.TransportError as e:
            raise TransientError(str(e)) from e
        r.raise_for_status()
        for status in r.json()["descendants"]:
            if status["content"] == item.text and status["account"]["acct"] == "acme":
                return SentReply(status["id"])
        return None


def arm(store: Store, point: KillPoint | None) -> None:
    """Make `store` die at the kill point's outbox transition: inside the durable transaction
    (the next COMMIT on its connection) or right after it."""
    if point is None or point.phase.split(":")[0] not in ("sending", "sent"):
        return
    state, when = point.phase.split(":")
    seen = 0
    armed = False
    original_set: Callable[..., Awaitable[OutboxItem]] = store.set_outbox_state
    conn: Any = store._conn  # the test reaches in: a kill between the UPDATE and its COMMIT
    original_execute = conn.execute

    def execute(sql: str, *args: Any, **kwargs: Any) -> Any:
        if armed and sql.strip().upper() == "COMMIT":
            die()
        return original_execute(sql, *args, **kwargs)

    async def set_outbox_state(outbox_id: int, new: OutboxState, *args: Any,
                               **kwargs: Any) -> OutboxItem:
        nonlocal seen, armed
        hit = False
        if OutboxState(new).value == state:
            seen += 1
            hit = seen == point.nth
        armed = hit and when == "open"
        result = await original_set(outbox_id, new, *args, **kwargs)
        if hit and when == "committed":
            die()
        return result

    conn.execute = execute
    store.set_outbox_state = set_outbox_state  # type: ignore[method-assign]


async def run(db: str, url: str, point: KillPoint | None) -> int:
    """One sender: send until no reply is queued, sending or unknown (0), or give up (1). With
    a kill point, small batches, and MISSED after two passes that did not reach it."""
    store = await Store.open(db, create=False)
    try:
        arm(store, point)
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            sender = OutboxSender(store, {"mastodon": MiniMastodon(client, point)},
                                  SystemClock(), base_delay=0.05, max_delay=0.2,
                                  batch=100 if point is None else KILL_BATCH)
            for round_ in range(1000):
                await sender.run_once()
                left = [s for s in (OutboxState.QUEUED, OutboxState.SENDING, OutboxState.UNKNOWN)
                        if await store.outbox_in_state(s, limit=1)]
                if not left:
                    return 0
                if point is not None and round_ >= 1:
                    return MISSED
                wait = sender.next_run_at()
                if wait is not None:
                    await asyncio.sleep(max(0.0, min(0.2, wait - SystemClock().now())))
            return 1
    finally:
        await store.close()


def fork_sender(db: str, url: str, point: KillPoint | None) -> int:
    pid = os.fork()
    if pid == 0:  # the sender
        code = 1
        try:
            code = asyncio.run(run(db, url, point))
        except BaseException as e:  # reported; the fork must never return into the supervisor
            print(f"sender failed: {type(e).__name__}: {e}", file=sys.stderr)
        finally:
            os._exit(code)
    return pid


def wait_idle(url: str) -> None:
    with urllib.request.urlopen(f"{url}/test/idle", timeout=30) as answer:
        answer.read()


def supervise(db: str, url: str, seed: int, kills: int) -> dict[str, Any]:
    rng = random.Random(seed)
    forks: list[dict[str, Any]] = []
    killed = 0
    started = time.monotonic()
    while killed < kills and len(forks) < kills * MAX_FORKS_PER_KILL:
        phase = rng.choice(PHASES)
        nth = rng.randint(1, 3)
        if phase == "lookup":
            nth = 1  # a sender looks up only the replies an earlier kill left in flight
        point = KillPoint(phase, nth, rng.uniform(0.0, 0.04))
        pid = fork_sender(db, url, point)
        if phase == "random":
            time.sleep(point.delay)  # the kill point itself, not a wait for a result
            with contextlib.suppress(ProcessLookupError):  # it ended already
                os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        died = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        code = 0 if died else os.waitstatus_to_exitcode(status)
        if code not in (0, MISSED):
            raise SystemExit(f"sender for {point} failed with exit code {code}")
        killed += died
        forks.append({**asdict(point), "killed": died})
        wait_idle(url)
        if code == 0 and not died:
            break  # the outbox is empty: nothing left to kill
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        left = conn.execute("SELECT count(*) FROM outbox WHERE state != 'sent'").fetchone()[0]
    pid = fork_sender(db, url, None)
    _, status = os.waitpid(pid, 0)
    return {"forks": forks, "final_exit": os.waitstatus_to_exitcode(status),
            "left_for_final": left, "seconds": time.monotonic() - started}


def main(db: str, url: str, seed: int, kills: int) -> None:
    print(json.dumps(supervise(db, url, seed, kills)), flush=True)
