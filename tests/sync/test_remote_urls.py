"""Each sent reply keeps its public link on the outbox row, in each channel's own form:
X https://x.com/{handle}/status/{id}, Mastodon the status `url`, Bluesky
https://bsky.app/profile/{handle}/post/{rkey} (tests/sync/test_record_keys.py)."""

from __future__ import annotations

import httpx

from console.accounts_cli import adapter_for, x_cursor
from console.channels.x import post_url
from console.clock import FrozenClock
from console.sync.outbox_sender import OutboxSender
from db import accounts
from db.models import OutboxState
from db.store import Store

from .conftest import NOW, SLA, nm


async def send_one(store: Store, clock: FrozenClock, channel: str, remote_id: str,
                   handler: httpx.MockTransport, account: accounts.Account) -> str | None:
    [mid] = await store.ingest([nm(remote_id, channel=channel)], now=NOW, first_reply_sla=SLA)
    await store.queue_reply(mid, "Bonjour, on regarde.", author="ana", now=NOW)
    async with httpx.AsyncClient(transport=handler) as client:
        adapter = adapter_for(account, "tok-123456", client, clock)
        report = await OutboxSender(store, {channel: adapter}, clock).run_once()  # type: ignore[dict-item]
    assert report.sent == 1
    (row,) = await store.outbox_for_mention(mid)
    assert row.state is OutboxState.SENT
    return row.remote_url


async def test_x_link_names_the_account(store: Store, clock: FrozenClock) -> None:
    account = await accounts.add_account(store, channel="x", name="x", handle="@Brand_FR",
                                         now=NOW)
    await accounts.save_cursor(store, "x", x_cursor("1584000000000000000"))
    account = await accounts.get_account(store, "x")
    assert account is not None

    def x_api(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/2/tweets"
        return httpx.Response(201, json={"data": {"id": "1874000000000000099",
                                                  "text": "Bonjour, on regarde."}})

    url = await send_one(store, clock, "x", "1874000000000000005",
                         httpx.MockTransport(x_api), account)
    assert url == "https://x.com/Brand_FR/status/1874000000000000099"


def test_x_link_without_a_usable_handle_uses_the_handle_less_form() -> None:
    assert post_url("42", None) == "https://x.com/i/web/status/42"
    assert post_url("42", "@a/b?c") == "https://x.com/i/web/status/42"
    assert post_url("42", "@zoé") == "https://x.com/i/web/status/42"


async def test_mastodon_link_is_the_status_url(store: Store, clock: FrozenClock) -> None:
    account = await accounts.add_account(store, channel="mastodon", name="mastodon",
                                         handle="@comptoir@piaille.fr", now=NOW,
                                         instance_url="https://piaille.fr")

    def masto(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":  # the parent's visibility
            return httpx.Response(200, json={"id": "113000000000000005",
                                             "visibility": "public"})
        return httpx.Response(200, json={
            "id": "114000000000000001", "visibility": "public",
            "url": "https://piaille.fr/@comptoir/114000000000000001",
            "uri": "https://piaille.fr/users/comptoir/statuses/114000000000000001"})

    url = await send_one(store, clock, "mastodon", "113000000000000005",
                         httpx.MockTransport(masto), account)
    assert url == "https://piaille.fr/@comptoir/114000000000000001"
