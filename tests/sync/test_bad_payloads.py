"""Bad payloads through the whole fetch path (issue 6): real adapters over httpx.MockTransport, a
real SyncWorker and Store. Per adapter, hypothesis builds a page of good items and broken ones
(a required field dropped or of the wrong type, an object cut short, an item that is not an
object at all) and checks that the worker survives, every good item lands, every item that did
not land is in quarantine with its error and raw payload, and the status line counts them. A
whole page of garbage (truncated JSON, binary, an HTML error page, the wrong shape) gives the
"unreadable answer" status, lands nothing, keeps the cursor, and the next good page still syncs.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.channels.bluesky import BlueskyAdapter
from console.channels.mastodon import MastodonAdapter
from console.channels.x import XAdapter
from console.clock import FrozenClock
from console.sync.status import SyncState
from console.sync.sync_worker import SyncWorker, payload_text
from db import accounts
from db.quarantine import quarantined
from db.store import Store
from db.text import storable

NOW = 1_767_225_600
SETTINGS = settings(max_examples=12, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
# Wrong types only: any string is a valid value for some string fields (an id, a handle).
WRONG = st.sampled_from([None, 5, 1.5, True, [], ["a"]])
NOT_OBJECTS = st.sampled_from([None, 7, "text", [], ["a"], '{"id": "12', "<html>"])


# --- the three channels: a good item, the page around items, the fake server ------------------
@dataclass(frozen=True)
class Channel:
    name: str
    good: Callable[[int], dict[str, Any]]  # item number -> a valid item
    landed_id: Callable[[int], str]  # the remote id the item lands under
    required: tuple[tuple[str, ...], ...]  # paths whose loss or wrong type rejects the item
    page: Callable[[list[Any]], Any]  # items -> the page body
    fetch_path: str
    make: Callable[[httpx.AsyncClient, FrozenClock], Any]
    wrong_shape: Any  # valid JSON that is not a page

    def handler(self, body: bytes) -> Callable[[httpx.Request], httpx.Response]:
        def answer(request: httpx.Request) -> httpx.Response:
            path = request.url.path
            if path == self.fetch_path:
                return httpx.Response(200, content=body,
                                      headers={"content-type": "application/json"})
            if path.endswith("createSession"):
                return httpx.Response(200, json={"did": "did:plc:me", "handle": "me.example",
                                                 "accessJwt": "acc-123456",
                                                 "refreshJwt": "ref-123456"})
            if path.endswith("getProfiles"):
                return httpx.Response(200, json={"profiles": []})
            return httpx.Response(404, json={"error": "no fake"})
        return answer


def x_tweet(i: int) -> dict[str, Any]:
    return {"id": str(1_874_000_000_000_000_000 + i), "text": f"@Comptoir box {i} &amp; co",
            "author_id": "2244994945", "created_at": "2025-12-31T23:58:20.000Z",
            "conversation_id": str(1_874_000_000_000_000_000 + i), "lang": "fr",
            "edit_history_tweet_ids": [str(1_874_000_000_000_000_000 + i)]}


X_CHANNEL = Channel(
    name="x",
    good=x_tweet,
    landed_id=lambda i: str(1_874_000_000_000_000_000 + i),
    required=(("id",), ("author_id",), ("created_at",), ("text",)),
    page=lambda items: {"data": items, "includes": {"users": [{
        "id": "2244994945", "username": "jean_d", "name": "Jean",
        "public_metrics": {"followers_count": 5}}]},
        "meta": {"result_count": len(items), "newest_id": "1874000000000000999"}},
    fetch_path="/2/users/1584000000000000000/mentions",
    make=lambda client, clock: XAdapter(client, clock, user_id="1584000000000000000",
                                        access_token="tok-123456"),
    wrong_shape=[{"data": []}],
)


def m_notification(i: int) -> dict[str, Any]:
    return {"id": str(900 + i), "type": "mention", "created_at": "2025-12-31T23:58:20.000Z",
            "account": {"id": "77", "acct": "ana@piaille.fr", "username": "ana"},
            "status": {"id": str(110_000 + i), "created_at": "2025-12-31T23:58:20.000Z",
                       "content": f"<p>@comptoir box {i} &amp; co</p>", "language": "fr",
                       "visibility": "public", "in_reply_to_id": None,
                       "account": {"id": "77", "acct": "ana@piaille.fr", "username": "ana",
                                   "display_name": "Ana", "followers_count": 3}}}


MASTODON_CHANNEL = Channel(
    name="mastodon",
    good=m_notification,
    landed_id=lambda i: str(110_000 + i),
    required=(("id",), ("status",), ("status", "id"), ("status", "account"),
              ("status", "account", "acct"), ("status", "account", "id"),
              ("status", "created_at"), ("status", "content")),
    page=lambda items: items,
    fetch_path="/api/v1/notifications",
    make=lambda client, clock: MastodonAdapter(client, clock, instance_url="https://m.example",
                                               access_token="tok-123456"),
    wrong_shape={"notifications": []},
)


def b_notification(i: int) -> dict[str, Any]:
    return {"uri": f"at://did:plc:zoe/app.bsky.feed.post/3lf{i:04d}", "cid": "bafycid",
            "author": {"did": "did:plc:zoe", "handle": "zoe.bsky.social"},
            "reason": "mention", "isRead": False, "indexedAt": "2025-12-31T23:58:20.000Z",
            "record": {"$type": "app.bsky.feed.post", "text": f"@me box {i} 😡",
                       "createdAt": "2025-12-31T23:58:20.000Z", "langs": ["fr"]}}


BLUESKY_CHANNEL = Channel(
    name="bluesky",
    good=b_notification,
    landed_id=lambda i: f"at://did:plc:zoe/app.bsky.feed.post/3lf{i:04d}",
    required=(("uri",), ("cid",), ("author",), ("author", "did"), ("author", "handle"),
              ("record",), ("record", "$type"), ("record", "text"), ("indexedAt",)),
    page=lambda items: {"notifications": items, "cursor": "2025-12-31T23:00:00.000Z"},
    fetch_path="/xrpc/app.bsky.notification.listNotifications",
    make=lambda client, clock: BlueskyAdapter(client, clock, identifier="me.example",
                                              password="app-pass", rng=random.Random(1)),
    wrong_shape={"cursor": "c"},
)


# --- building broken pages --------------------------------------------------------------------
def set_path(item: dict[str, Any], path: tuple[str, ...], value: Any, *, drop: bool) -> None:
    target = item
    for key in path[:-1]:
        target = target[key]
    if drop:
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value


@st.composite
def items_for(draw: st.DrawFn, channel: Channel) -> tuple[list[Any], list[str]]:
    """(items, kind of each): "ok", "bad" (surely rejected) or "cut" (may or may not parse)."""
    kinds = draw(st.lists(st.sampled_from(["ok", "drop", "wrong", "cut", "nonobject"]),
                          min_size=1, max_size=6))
    items: list[Any] = []
    verdicts: list[str] = []
    for i, kind in enumerate(kinds):
        item = channel.good(i)
        if kind == "drop" or kind == "wrong":
            path = draw(st.sampled_from(channel.required))
            value = draw(WRONG)
            set_path(item, path, value, drop=kind == "drop")
            verdicts.append("bad")
        elif kind == "cut":
            keep = draw(st.integers(0, len(item) - 1))
            item = dict(list(item.items())[:keep])
            verdicts.append("cut")
        elif kind == "nonobject":
            item = draw(NOT_OBJECTS)
            verdicts.append("bad")
        else:
            verdicts.append("ok")
        items.append(item)
    return items, verdicts


def garbage_for(channel: Channel) -> st.SearchStrategy[bytes]:
    page = json.dumps(channel.page([channel.good(0), channel.good(1)])).encode()

    def not_json(data: bytes) -> bool:
        try:
            json.loads(data)
        except ValueError:
            return True
        return False

    return st.one_of(
        st.integers(0, len(page) - 1).map(lambda k: page[:k]),  # cut anywhere
        st.binary(max_size=64).filter(not_json),
        st.just(b"<html><body><h1>502 Bad Gateway</h1></body></html>"),
        st.just(json.dumps(channel.wrong_shape).encode()),
    )


# --- running one sync against one body --------------------------------------------------------
async def sync_with(channel: Channel, body: bytes, folder: Path) -> tuple[
        SyncWorker, Store, Path]:
    """One run of a fresh account's worker against a server answering `body`."""
    db = folder / "q.db"
    store = await Store.open(db)
    account = await accounts.add_account(
        store, channel=channel.name, name=channel.name, handle="@me", now=NOW,
        instance_url="https://m.example" if channel.name == "mastodon" else None)
    clock = FrozenClock(NOW)
    async with httpx.AsyncClient(transport=httpx.MockTransport(channel.handler(body))) as client:
        worker = SyncWorker(store, channel.make(client, clock), account, clock,
                            rng=random.Random(0))
        await worker.run_once()
    return worker, store, db


def landed(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT remote_id FROM mentions")}


def check_items(channel: Channel, items: list[Any], verdicts: list[str]) -> None:
    body = json.dumps(channel.page(items)).encode()

    async def run() -> None:
        with tempfile.TemporaryDirectory() as folder:
            worker, store, db = await sync_with(channel, body, Path(folder))
            try:
                ids = landed(db)
                rows = await quarantined(store, account=channel.name, limit=100)
            finally:
                await store.close()
        status = worker.status
        assert status is not None and status.state is SyncState.SYNCED  # the worker lives on
        wanted = {channel.landed_id(i) for i in range(len(items))}
        assert ids <= wanted
        for i, verdict in enumerate(verdicts):
            if verdict == "ok":
                assert channel.landed_id(i) in ids
            elif verdict == "bad" and isinstance(items[i], dict):
                assert channel.landed_id(i) not in ids
        # Exactly the items that did not land are in quarantine (same payload once).
        missing = {storable(payload_text(item)) for i, item in enumerate(items)
                   if channel.landed_id(i) not in ids}
        assert {r.payload for r in rows} == missing
        assert len(rows) == len(missing)
        for row in rows:
            assert row.error.startswith(f"{channel.name}: ") and len(row.error) > len(
                channel.name) + 2
            assert (row.account, row.channel, row.at) == (channel.name, channel.name, NOW)
            if row.remote_id is not None:
                assert row.remote_id in row.payload
        text = worker.status_text()
        if rows:
            assert text == f"{channel.name}: synced 0s ago · {len(rows)} quarantined"
        else:
            assert text == f"{channel.name}: synced 0s ago"

    asyncio.run(run())


def check_garbage(channel: Channel, body: bytes) -> None:
    good = json.dumps(channel.page([channel.good(5)])).encode()

    async def run() -> None:
        with tempfile.TemporaryDirectory() as folder:
            db = Path(folder) / "q.db"
            store = await Store.open(db)
            account = await accounts.add_account(
                store, channel=channel.name, name=channel.name, handle="@me", now=NOW,
                instance_url="https://m.example" if channel.name == "mastodon" else None)
            clock = FrozenClock(NOW)
            current = [body]
            transport = httpx.MockTransport(lambda r: channel.handler(current[0])(r))
            try:
                async with httpx.AsyncClient(transport=transport) as client:
                    worker = SyncWorker(store, channel.make(client, clock), account, clock,
                                        rng=random.Random(0))
                    result = await worker.run_once()  # never raises
                    assert result.new_ids == []
                    assert worker.status is not None
                    assert worker.status.state is SyncState.UNREADABLE
                    assert worker.status_text().startswith(
                        f"{channel.name}: unreadable answer, retry in ")
                    assert worker.cursor is None and landed(db) == set()
                    assert await quarantined(store) == []  # a page is not an item
                    # The next good page lands: the worker is alive and retries on its own.
                    current[0] = good
                    next_at = worker.next_run_at()
                    assert next_at is not None
                    clock.set(next_at)
                    assert len((await worker.run_once()).new_ids) == 1
                    assert worker.status.state is SyncState.SYNCED
            finally:
                await store.close()

    asyncio.run(run())


# --- the properties, per adapter --------------------------------------------------------------
@SETTINGS
@given(items_for(X_CHANNEL))
def test_x_bad_items_are_quarantined_and_the_rest_lands(page: tuple[list[Any], list[str]]) \
        -> None:
    check_items(X_CHANNEL, *page)


@SETTINGS
@given(items_for(MASTODON_CHANNEL))
def test_mastodon_bad_items_are_quarantined_and_the_rest_lands(
        page: tuple[list[Any], list[str]]) -> None:
    check_items(MASTODON_CHANNEL, *page)


@SETTINGS
@given(items_for(BLUESKY_CHANNEL))
def test_bluesky_bad_items_are_quarantined_and_the_rest_lands(
        page: tuple[list[Any], list[str]]) -> None:
    check_items(BLUESKY_CHANNEL, *page)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([X_CHANNEL, MASTODON_CHANNEL, BLUESKY_CHANNEL]).flatmap(
    lambda c: st.tuples(st.just(c), garbage_for(c))))
def test_a_garbage_page_is_an_unreadable_answer_not_a_crash(
        case: tuple[Channel, bytes]) -> None:
    check_garbage(*case)


def test_a_huge_bad_item_is_cut_at_64_kb() -> None:
    item = b_notification(0)
    item["record"]["$type"] = "app.bsky.feed.like"  # rejected: not a post
    item["record"]["text"] = "é" * 100_000  # 200 KB of UTF-8
    body = json.dumps(BLUESKY_CHANNEL.page([item, b_notification(1)])).encode()

    async def run() -> None:
        with tempfile.TemporaryDirectory() as folder:
            worker, store, db = await sync_with(BLUESKY_CHANNEL, body, Path(folder))
            try:
                [row] = await quarantined(store)
                assert landed(db) == {BLUESKY_CHANNEL.landed_id(1)}
            finally:
                await store.close()
        assert len(row.payload.encode()) <= 64 * 1024
        assert len(row.payload.encode()) > 64 * 1024 - 4  # cut, not dropped
        assert row.remote_id == BLUESKY_CHANNEL.landed_id(0)
        assert "app.bsky.feed.post" in row.error
        assert worker.quarantined == 1

    asyncio.run(run())
