"""One of the two consoles of the two-consoles test: a fixed number of agent operations on a shared
database file, through Store, as a real process.

Run as `python -c "from tests.db.two_consoles_child import main; main(DB, AGENT, SEED, OPS, P)"`
(P: the parity of the mention ids it drafts and replies on). It opens the Store, prints `ready`,
waits for one line on stdin (the test starts both consoles at once that way), then runs OPS
operations drawn from a seeded RNG: reads (queue window, counts, detail with events, customer
card, thread, search) and writes (set_status, assign, add_note, set_tags, queue_reply,
save_draft, ingest). Statuses, assignees and tags go to any mention, so the two consoles really
write the same rows; drafts and replies only to the mentions of its own parity, so the final
draft of each mention can be predicted from this console's own log.

It prints one JSON object: what it wrote (notes, replies, drafts, ingested remote ids, events it
caused) and every error, `database is locked` ones counted apart. It never stops at an error.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from typing import Any, Final

from db.errors import DatabaseLocked, StoreError
from db.models import NewMention, QueueFilter, Status
from db.store import Store

NOW: Final = 1_767_225_600
SLA: Final = 3600
TAGS: Final = ("late", "billing", "vip", "outage", "fr", "en")
STATUSES: Final = (Status.OPEN, Status.RESOLVED, Status.PENDING, Status.NEW, Status.SNOOZED)
CHANNELS: Final = ("x", "mastodon", "bluesky")
# (operation, weight): about 40 % reads, like an agent moving through the queue.
MIX: Final = (("read_queue", 14), ("read_detail", 14), ("read_card", 6), ("read_counts", 6),
              ("set_status", 10), ("assign", 8), ("add_note", 10), ("set_tags", 8),
              ("queue_reply", 8), ("save_draft", 10), ("ingest", 6))


async def run(db: str, agent: str, seed: int, ops: int, parity: int) -> dict[str, Any]:
    rng = random.Random(seed)
    names = [name for name, _ in MIX]
    weights = [weight for _, weight in MIX]
    store = await Store.open(db, create=False)
    log: dict[str, Any] = {
        "agent": agent, "ops": {}, "events": 0, "notes": [], "replies": [], "drafts": {},
        "ingested": [], "locked": 0, "errors": [], "seconds": 0.0, "span": [0.0, 0.0],
    }
    try:
        print("ready", flush=True)
        sys.stdin.readline()
        started = time.perf_counter()
        started_at = time.monotonic()
        pool = [r[0] for r in await store._rows("SELECT id FROM mentions ORDER BY id")]
        mine = [m for m in pool if m % 2 == parity]
        for n in range(ops):
            op = rng.choices(names, weights)[0]
            now = NOW + n
            mid = rng.choice(pool)
            own = rng.choice(mine)
            try:
                events, new_ids = await one(store, op, agent, rng, now, n, mid, own, log)
            except DatabaseLocked as e:
                log["locked"] += 1
                log["errors"].append(f"{op}: {e}")
                continue
            except StoreError as e:
                log["errors"].append(f"{op}: {type(e).__name__}: {e}")
                continue
            log["ops"][op] = log["ops"].get(op, 0) + 1
            log["events"] += events
            pool.extend(new_ids)  # the other console's new mentions stay unknown to this one
            mine.extend(m for m in new_ids if m % 2 == parity)
        log["seconds"] = time.perf_counter() - started
        # CLOCK_MONOTONIC is one clock for every process: the test checks the runs overlapped.
        log["span"] = [started_at, time.monotonic()]
    finally:
        await store.close()
    return log


async def one(store: Store, op: str, agent: str, rng: random.Random, now: int, n: int,
              mid: int, own: int, log: dict[str, Any]) -> tuple[int, list[int]]:
    """Do one operation; return how many events it appended and the ids it ingested."""
    if op == "read_queue":
        status = rng.choice(["active", "all", "pending", "resolved"])
        rows = await store.queue_window(QueueFilter(status=status,
                                                    channel=rng.choice((None, *CHANNELS))))
        if rows and rng.random() < 0.3:
            await store.queue_window(QueueFilter(search="message"), after=None, limit=20)
        return 0, []
    if op == "read_detail":
        if await store.mention(mid) is not None:
            await store.events(mid)
            await store.thread(mid)
            await store.outbox_for_mention(mid)
            await store.draft(mid)
        return 0, []
    if op == "read_card":
        m = await store.mention(mid)
        if m is not None:
            await store.customer_card(m.customer_id)
            await store.customer_history(m.customer_id)
        return 0, []
    if op == "read_counts":
        await store.counts()
        await store.breached_count(now)
        await store.outbox_counts()
        return 0, []
    if op == "set_status":
        status = rng.choice(STATUSES)
        until = now + 3600 if status is Status.SNOOZED else None
        await store.set_status(mid, status, actor=agent, now=now, snooze_until=until)
        return 1, []
    if op == "assign":
        await store.assign(mid, rng.choice((agent, None, "carla")), actor=agent, now=now)
        return 1, []
    if op == "add_note":
        text = f"note {agent} {n}"
        note = await store.add_note(mid, text, author=agent, now=now)
        log["notes"].append([note.id, text])
        return 1, []
    if op == "set_tags":
        await store.set_tags(mid, rng.sample(TAGS, rng.randint(0, 3)), actor=agent, now=now)
        return 1, []
    if op == "queue_reply":
        text = f"reply {agent} {n}"
        item = await store.queue_reply(own, text, author=agent, now=now)
        log["replies"].append([item.id, item.mention_id, text])
        log["drafts"][str(own)] = None  # queue_reply removes the mention's draft
        return 1, []
    if op == "save_draft":
        text = f"draft {agent} {n}"
        await store.save_draft(own, text, None, now=now)
        log["drafts"][str(own)] = text
        return 0, []
    if op == "ingest":
        fresh = [
            NewMention(channel=rng.choice(CHANNELS), remote_id=f"{agent}-{n}-{k}",
                       author_handle=f"@cust{rng.randint(0, 40)}", author_name="Client",
                       text=f"message {agent} {n} {k}", created_at=now)
            for k in range(rng.randint(1, 3))
        ]
        ids = await store.ingest(fresh, now=now, first_reply_sla=SLA)
        log["ingested"].extend(m.remote_id for m in fresh)
        return 0, ids
    raise ValueError(op)


def main(db: str, agent: str, seed: int, ops: int, parity: int) -> None:
    print(json.dumps(asyncio.run(run(db, agent, seed, ops, parity))), flush=True)
