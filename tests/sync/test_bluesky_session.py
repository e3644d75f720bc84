"""Bluesky session tokens: refreshed with refreshSession when the access token expires, kept in
memory only, never written to the database file (or its WAL), and masked in logs."""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path

import httpx
import pytest

from console.accounts_cli import adapter_for
from console.clock import FrozenClock
from console.logging_setup import forget_secrets, redact
from console.sync.outbox_sender import OutboxSender
from console.sync.sync_worker import SyncWorker
from db import accounts
from db.models import OutboxState
from db.store import Store

from .conftest import NOW

ME = "did:plc:comptoir7x2q"
ZOE = "did:plc:zoe4abcd"
PASSWORD = "abcd-efgh-ijkl-mnop"
# Not JWT-shaped on purpose: the log filter masks "eyJ..." by pattern, so these are masked only
# if the adapter's session really was registered for redaction.
JWTS = ("acc-one-7Qx9w2", "ref-one-P3k8d1", "acc-two-M5n2b7", "ref-two-Z9c4v6")


class Pds:
    """Access tokens expire after one use; refreshSession swaps the pair."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []  # (method name, bearer)
        self.expired = {JWTS[0]}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        name = request.url.path.removeprefix("/xrpc/")
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        self.calls.append((name, bearer))
        if name == "com.atproto.server.createSession":
            return httpx.Response(200, json={"did": ME, "handle": "comptoir.bsky.social",
                                             "accessJwt": JWTS[0], "refreshJwt": JWTS[1]})
        if name == "com.atproto.server.refreshSession":
            assert bearer == JWTS[1]
            return httpx.Response(200, json={"did": ME, "handle": "comptoir.bsky.social",
                                             "accessJwt": JWTS[2], "refreshJwt": JWTS[3]})
        if bearer in self.expired:
            return httpx.Response(400, json={"error": "ExpiredToken",
                                             "message": "Token has expired"})
        if name == "app.bsky.notification.listNotifications":
            return httpx.Response(200, json={"notifications": [{
                "uri": f"at://{ZOE}/app.bsky.feed.post/3lf1", "cid": "bafycid",
                "author": {"did": ZOE, "handle": "zoe.bsky.social"}, "reason": "mention",
                "record": {"$type": "app.bsky.feed.post", "text": "@comptoir ma box",
                           "createdAt": "2025-12-31T23:50:00.000Z"},
                "indexedAt": "2025-12-31T23:50:00.000Z", "isRead": False}]})
        if name == "app.bsky.actor.getProfiles":
            return httpx.Response(200, json={"profiles": []})
        if name == "app.bsky.feed.getPosts":
            return httpx.Response(200, json={"posts": [{
                "uri": f"at://{ZOE}/app.bsky.feed.post/3lf1", "cid": "bafycid",
                "author": {"did": ZOE, "handle": "zoe.bsky.social"},
                "record": {"$type": "app.bsky.feed.post", "text": "@comptoir ma box",
                           "createdAt": "2025-12-31T23:50:00.000Z"}}]})
        if name == "com.atproto.repo.createRecord":
            rkey = json.loads(request.content)["rkey"]
            return httpx.Response(200, json={"uri": f"at://{ME}/app.bsky.feed.post/{rkey}",
                                             "cid": "bafynew"})
        return httpx.Response(404, json={"error": "MethodNotImplemented"})


@pytest.fixture(autouse=True)
def _no_registered_secrets() -> None:
    forget_secrets()


async def test_expired_access_token_is_refreshed_and_never_stored(
    store: Store, db_path: Path, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    account = await accounts.add_account(store, channel="bluesky", name="bluesky",
                                         handle="comptoir.bsky.social", now=NOW)
    pds = Pds()
    async with httpx.AsyncClient(transport=httpx.MockTransport(pds)) as client:
        adapter = adapter_for(account, PASSWORD, client, clock)
        worker = SyncWorker(store, adapter, account, clock, rng=random.Random(1))
        result = await worker.run_once()
        assert len(result.new_ids) == 1
        await store.queue_reply(result.new_ids[0], "On regarde !", author="ana", now=NOW)
        sender = OutboxSender(store, {"bluesky": adapter}, clock)  # type: ignore[dict-item]
        assert (await sender.run_once()).sent == 1

    names = [name for name, _ in pds.calls]
    assert names[:4] == ["com.atproto.server.createSession",
                         "app.bsky.notification.listNotifications",  # ExpiredToken
                         "com.atproto.server.refreshSession",
                         "app.bsky.notification.listNotifications"]  # retried once
    assert pds.calls[3][1] == JWTS[2]  # with the new access token
    assert names.count("com.atproto.server.createSession") == 1  # no second login
    assert all(bearer == JWTS[2] for name, bearer in pds.calls[4:])
    (row,) = await store.outbox_for_mention(result.new_ids[0])
    assert row.state is OutboxState.SENT

    # Nothing of the session, nor the app password, in the database file or its WAL.
    on_disk = b"".join(p.read_bytes() for p in db_path.parent.iterdir() if p.is_file())
    for secret in (*JWTS, PASSWORD):
        assert secret.encode() not in on_disk
        assert redact(f"got {secret} back") == "got [redacted] back"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert not any(secret in logged for secret in JWTS)
