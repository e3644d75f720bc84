"""The child process of the killed-during-send test: send the outbox to a Mastodon-like fake.

Run as `python -c "from tests.sync.kill_child import main; main(DB, URL)"`. It sends until no
reply is queued, sending or unknown, then exits 0; the test SIGKILLs it at random points.
"""

from __future__ import annotations

import asyncio
import sys

import httpx

from console.channels.base import RateState, ReplyTarget, SentReply, TransientError
from console.clock import SystemClock
from console.sync.outbox_sender import OutboxSender
from db.models import OutboxItem, OutboxState
from db.store import Store


class MiniMastodon:
    """Just enough of a Mastodon adapter: POST with Idempotency-Key, look up the context."""

    channel = "mastodon"

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    @property
    def rate_state(self) -> RateState:
        return RateState()

    def new_record_key(self) -> str | None:
        return None

    async def send_reply(self, item: OutboxItem, in_reply_to: ReplyTarget, *,
                         record_key: str | None = None) -> SentReply:
        try:
            r = await self._client.post(
                "/api/v1/statuses", json={"status": item.text, "in_reply_to_id":
                                          in_reply_to.remote_id},
                headers={"Idempotency-Key": item.idempotency_key})
        except httpx.TransportError as e:
            raise TransientError(str(e), maybe_sent=True) from e
        r.raise_for_status()
        return SentReply(r.json()["id"])

    async def find_existing_reply(self, item: OutboxItem, in_reply_to: ReplyTarget, *,
                                  record_key: str | None = None) -> SentReply | None:
        try:
            r = await self._client.get(f"/api/v1/statuses/{in_reply_to.remote_id}/context")
        except httpx.TransportError as e:
            raise TransientError(str(e)) from e
        r.raise_for_status()
        for status in r.json()["descendants"]:
            if status["content"] == item.text and status["account"]["acct"] == "acme":
                return SentReply(status["id"])
        return None


async def run(db: str, url: str) -> int:
    store = await Store.open(db, create=False)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            sender = OutboxSender(store, {"mastodon": MiniMastodon(client)}, SystemClock(),
                                  base_delay=0.05, max_delay=0.2)
            for _ in range(1000):
                await sender.run_once()
                left = [s for s in (OutboxState.QUEUED, OutboxState.SENDING, OutboxState.UNKNOWN)
                        if await store.outbox_in_state(s, limit=1)]
                if not left:
                    return 0
                wait = sender.next_run_at()
                if wait is not None:
                    await asyncio.sleep(max(0.0, min(0.2, wait - SystemClock().now())))
            return 1
    finally:
        await store.close()


def main(db: str, url: str) -> None:
    sys.exit(asyncio.run(run(db, url)))
