"""The Bluesky record key is on disk before the first attempt, and a restarted process uses it.

A stateful fake PDS (httpx.MockTransport) keeps the records created under each key. The first
process "dies" (an exception no handler catches, like a kill) right after createRecord landed;
a fresh Store, adapter and sender on the same file then resolve the row with getRecord on the
stored key, and nothing is posted twice.
"""

from __future__ import annotations

import contextlib
import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import httpx

from console.channels.bluesky import BlueskyAdapter
from console.clock import FrozenClock
from console.sync.outbox_sender import OutboxSender
from db.models import OutboxItem, OutboxState
from db.store import Store

from .conftest import NOW, SLA, nm

ME = "did:plc:comptoir7x2q"
ZOE = "did:plc:zoe4abcd"
PARENT = f"at://{ZOE}/app.bsky.feed.post/3lf2parent"
XRPC = "/xrpc/"


class Died(BaseException):
    """The process is gone: nothing after the network call runs (not even `except Exception`)."""


class FakePds:
    def __init__(self, db: Path) -> None:
        self.db = db
        self.records: dict[str, dict[str, Any]] = {}
        self.creates: list[str] = []
        self.gets: list[str] = []
        self.die_after_create = False
        self.die_before_create = False
        self.on_disk_at_create: list[tuple[str, str | None]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        name = request.url.path.removeprefix(XRPC)
        if name == "com.atproto.server.createSession":
            return httpx.Response(200, json={
                "did": ME, "handle": "comptoir.bsky.social", "accessJwt": "acc-1",
                "refreshJwt": "ref-1", "active": True})
        if name == "app.bsky.feed.getPosts":
            return httpx.Response(200, json={"posts": [{
                "uri": PARENT, "cid": "bafyparent",
                "author": {"did": ZOE, "handle": "zoe.bsky.social"},
                "record": {"$type": "app.bsky.feed.post", "text": "ma box",
                           "createdAt": "2025-12-31T23:58:20.512Z"},
                "indexedAt": "2025-12-31T23:58:20.512Z"}]})
        if name == "com.atproto.repo.getRecord":
            rkey = request.url.params["rkey"]
            self.gets.append(rkey)
            if rkey not in self.records:
                return httpx.Response(400, json={
                    "error": "RecordNotFound", "message": f"Could not locate record: {rkey}"})
            return httpx.Response(200, json={
                "uri": f"at://{ME}/app.bsky.feed.post/{rkey}", "cid": "bafynew",
                "value": self.records[rkey]})
        if name == "com.atproto.repo.createRecord":
            if self.die_before_create:
                self.die_before_create = False
                raise Died
            body = json.loads(request.content)
            rkey = body["rkey"]
            with sqlite3.connect(self.db) as conn:  # what a crash right now would leave
                self.on_disk_at_create += conn.execute(
                    "SELECT state, remote_key FROM outbox").fetchall()
            if rkey in self.records:
                return httpx.Response(400, json={
                    "error": "InvalidRequest", "message": "Record already exists"})
            self.records[rkey] = body["record"]
            self.creates.append(rkey)
            if self.die_after_create:
                self.die_after_create = False
                raise Died
            return httpx.Response(200, json={
                "uri": f"at://{ME}/app.bsky.feed.post/{rkey}", "cid": "bafynew",
                "commit": {"cid": "bafycommit", "rev": "3l"}, "validationStatus": "valid"})
        return httpx.Response(404, json={"error": "MethodNotImplemented", "message": name})


async def process(db: Path, pds: FakePds, clock: FrozenClock, seed: int) -> OutboxState:
    """One process: open the file, send the outbox once, close. Returns the reply's state."""
    store = await Store.open(db)
    try:
        async with httpx.AsyncClient(transport=httpx.MockTransport(pds)) as client:
            adapter = BlueskyAdapter(client, clock, identifier="comptoir.bsky.social",
                                     password="app-pass-word", rng=random.Random(seed))
            sender = OutboxSender(store, {"bluesky": adapter}, clock, rng=random.Random(1))
            with contextlib.suppress(Died):  # the process is gone; its Store closes below
                await sender.run_once()
        (item,) = await store.outbox_for_mention(1)
        return item.state
    finally:
        await store.close()


async def queued_reply(db: Path) -> int:
    store = await Store.open(db)
    try:
        [mid] = await store.ingest([nm(PARENT, channel="bluesky",
                                       author_handle="@zoe.bsky.social")],
                                   now=NOW, first_reply_sla=SLA)
        item = await store.queue_reply(mid, "Merci Zoé, on regarde !", author="ana", now=NOW)
        return item.mention_id
    finally:
        await store.close()


async def rows(db: Path) -> list[OutboxItem]:
    store = await Store.open(db)
    try:
        return await store.outbox_for_mention(1)
    finally:
        await store.close()


async def test_death_after_create_record_resolves_with_get_record(
    db_path: Path, clock: FrozenClock
) -> None:
    await queued_reply(db_path)
    pds = FakePds(db_path)
    pds.die_after_create = True
    assert await process(db_path, pds, clock, seed=1) is OutboxState.SENDING
    (key,) = pds.creates
    # The key was durable, with the row in sending, before createRecord reached the server.
    assert pds.on_disk_at_create == [("sending", key)]

    # A fresh process (new Store, new adapter whose own next key would differ).
    assert await process(db_path, pds, clock, seed=2) is OutboxState.SENT
    assert pds.creates == [key]  # posted once
    assert pds.gets[0] == key  # resolved by getRecord on the stored key
    (row,) = await rows(db_path)
    assert (row.state, row.remote_key, row.attempts) == (OutboxState.SENT, key, 1)
    assert row.remote_id == f"at://{ME}/app.bsky.feed.post/{key}"
    assert row.remote_url == f"https://bsky.app/profile/comptoir.bsky.social/post/{key}"


async def test_death_before_create_record_posts_under_the_stored_key(
    db_path: Path, clock: FrozenClock
) -> None:
    await queued_reply(db_path)
    pds = FakePds(db_path)
    pds.die_before_create = True
    assert await process(db_path, pds, clock, seed=1) is OutboxState.SENDING
    assert pds.creates == []
    (row,) = await rows(db_path)
    key = row.remote_key
    assert key is not None and len(key) == 13

    assert await process(db_path, pds, clock, seed=2) is OutboxState.SENT
    assert pds.gets[0] == key  # looked up first: not there
    assert pds.creates == [key]  # then posted under the same key, once
    assert (await rows(db_path))[0].remote_url.endswith(f"/post/{key}")  # type: ignore[union-attr]
