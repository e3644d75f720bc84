"""The outbox sender: write ahead, then talk; verify before any retry; honour rate limits."""

from __future__ import annotations

import random

from console.channels.base import (
    AuthRejected,
    DuplicateContent,
    RateLimited,
    RateState,
    Refused,
    TransientError,
)
from console.clock import FrozenClock
from console.sync.outbox_sender import OutboxSender
from db.models import OutboxItem, OutboxState
from db.store import Store

from .conftest import NOW, SLA, nm
from .fakes import FakeSend


async def queue(store: Store, n: int, channel: str = "mastodon") -> list[OutboxItem]:
    ids = await store.ingest([nm(f"p{i}", channel=channel) for i in range(n)], now=NOW,
                             first_reply_sla=SLA)
    return [await store.queue_reply(mid, f"reply {i}", author="ana", now=NOW)
            for i, mid in enumerate(ids)]


def sender(store: Store, clock: FrozenClock, fake: FakeSend) -> OutboxSender:
    return OutboxSender(store, {fake.channel: fake}, clock, rng=random.Random(1),
                        base_delay=40, max_delay=600)


async def state(store: Store, item: OutboxItem) -> OutboxItem:
    (row,) = await store.outbox_for_mention(item.mention_id)
    return row


async def test_sends_in_order_committing_sending_before_the_call(
    store: Store, clock: FrozenClock
) -> None:
    items = await queue(store, 3)
    seen: list[OutboxState] = []

    async def check(item: OutboxItem) -> None:
        seen.append((await state(store, item)).state)

    fake = FakeSend(on_send=check)
    report = await sender(store, clock, fake).run_once()
    assert report.sent == 3
    assert seen == [OutboxState.SENDING] * 3
    assert [c for c in fake.calls] == [("send", i.id) for i in items]  # order, no lookups
    for i, item in enumerate(items):
        row = await state(store, item)
        assert (row.state, row.remote_id, row.attempts) == (OutboxState.SENT, f"r{i + 1}", 1)


async def test_refusals_fail_with_the_servers_reason(store: Store, clock: FrozenClock) -> None:
    a, b = await queue(store, 2)
    fake = FakeSend(errors=[Refused("Validation failed: Text too long", status=422),
                            DuplicateContent("duplicate content (187)", status=403)])
    report = await sender(store, clock, fake).run_once()
    assert report.failed == 2
    ra, rb = await state(store, a), await state(store, b)
    assert ra.state is OutboxState.FAILED and "Text too long" in (ra.error or "")
    assert rb.state is OutboxState.FAILED and "duplicate content" in (rb.error or "")
    # DuplicateContent was looked up first: it might have been our own lost first attempt.
    assert ("find", b.id) in fake.calls


async def test_duplicate_content_that_is_ours_counts_as_sent(
    store: Store, clock: FrozenClock
) -> None:
    (a,) = await queue(store, 1)
    fake = FakeSend(errors=[DuplicateContent("dup")], post_then_fail=True)
    report = await sender(store, clock, fake).run_once()
    assert (report.sent, report.verified) == (1, 1)
    assert (await state(store, a)).state is OutboxState.SENT


async def test_auth_rejected_fails_one_and_holds_the_channel(
    store: Store, clock: FrozenClock
) -> None:
    a, b = await queue(store, 2)
    fake = FakeSend(errors=[AuthRejected("The access token is invalid", status=401)])
    s = sender(store, clock, fake)
    report = await s.run_once()
    assert (await state(store, a)).state is OutboxState.FAILED
    assert (await state(store, b)).state is OutboxState.QUEUED
    assert "access token is invalid" in report.held["mastodon"]
    await s.run_once()
    assert (await state(store, b)).state is OutboxState.QUEUED
    s.resume("mastodon")
    await s.run_once()
    assert (await state(store, b)).state is OutboxState.SENT


async def test_rate_limited_goes_back_to_queued_until_the_reset(
    store: Store, clock: FrozenClock
) -> None:
    a, b = await queue(store, 2)
    fake = FakeSend(errors=[RateLimited("Throttled", until=NOW + 300)])
    s = sender(store, clock, fake)
    report = await s.run_once()
    assert report.requeued == 1 and report.sent == 0
    ra = await state(store, a)
    assert ra.state is OutboxState.QUEUED and ra.attempts == 1
    assert (await state(store, b)).state is OutboxState.QUEUED  # not tried: channel paused
    assert s.next_run_at() == NOW + 300
    clock.advance(299)
    assert (await s.run_once()).sent == 0
    clock.advance(1)
    report = await s.run_once()
    assert report.sent == 2
    # a had been attempted: it was looked up before being posted again.
    assert fake.calls[-3:] == [("find", a.id), ("send", a.id), ("send", b.id)]
    assert s.next_run_at() is None


async def test_servers_rate_figures_pace_the_sender(store: Store, clock: FrozenClock) -> None:
    await queue(store, 1)
    fake = FakeSend(rate=RateState(limit=300, remaining=0, reset_at=NOW + 60))
    s = sender(store, clock, fake)
    assert (await s.run_once()).held == {"mastodon": f"paused until {NOW + 60}"}
    assert fake.calls == [] and s.next_run_at() == NOW + 60
    fake.rate = RateState(limit=300, remaining=299, reset_at=NOW + 900)
    clock.advance(60)
    assert (await s.run_once()).sent == 1


async def test_transient_error_goes_unknown_then_is_verified_not_resent(
    store: Store, clock: FrozenClock
) -> None:
    (a,) = await queue(store, 1)
    fake = FakeSend(errors=[TransientError("502 Bad Gateway", status=502, maybe_sent=True)],
                    post_then_fail=True)
    s = sender(store, clock, fake)
    report = await s.run_once()
    row = await state(store, a)
    assert report.unknown == 1 and row.state is OutboxState.UNKNOWN
    assert "Bad Gateway" in (row.error or "")
    retry = s.next_run_at()
    assert retry is not None and NOW + 20 <= retry <= NOW + 40  # backoff 40 s, jittered
    clock.set(retry)
    report = await s.run_once()
    assert (report.sent, report.verified) == (1, 1)
    row = await state(store, a)
    assert (row.state, row.remote_id, row.error) == (OutboxState.SENT, "r1", None)
    assert [c for c in fake.calls if c[0] == "send"] == [("send", a.id)]  # posted once


async def test_timeout_is_unknown(store: Store, clock: FrozenClock) -> None:
    import asyncio

    (a,) = await queue(store, 1)
    fake = FakeSend(on_send=lambda item: asyncio.Event().wait())
    s = OutboxSender(store, {"mastodon": fake}, clock, send_timeout=0.01)
    assert (await s.run_once()).unknown == 1
    assert (await state(store, a)).error == "no answer in time"


async def test_unknown_not_found_is_posted_again(store: Store, clock: FrozenClock) -> None:
    (a,) = await queue(store, 1)
    fake = FakeSend(errors=[TransientError("connection reset")])
    s = sender(store, clock, fake)
    await s.run_once()
    clock.advance(600)
    assert (await s.run_once()).sent == 1
    assert fake.calls == [("send", a.id), ("find", a.id), ("send", a.id)]


async def test_startup_resolves_items_left_in_sending(store: Store, clock: FrozenClock) -> None:
    a, b = await queue(store, 2)
    for item in (a, b):  # an earlier process died mid-send
        await store.set_outbox_state(item.id, OutboxState.SENDING, now=NOW)
    fake = FakeSend()
    fake.posted[a.idempotency_key] = "already-out"
    report = await sender(store, clock, fake).run_once()
    assert (report.sent, report.verified) == (2, 1)
    assert (await state(store, a)).remote_id == "already-out"
    assert (await state(store, b)).remote_id == "r2"
    assert [c for c in fake.calls if c[0] == "send"] == [("send", b.id)]


async def test_recent_sending_item_of_another_process_is_left_alone(
    store: Store, clock: FrozenClock
) -> None:
    s = sender(store, clock, FakeSend())
    await s.run_once()  # started: later sending items may belong to a live process
    (a,) = await queue(store, 1)
    await store.set_outbox_state(a.id, OutboxState.SENDING, now=NOW)
    await s.run_once()
    assert (await state(store, a)).state is OutboxState.SENDING
    clock.advance(301)
    await s.run_once()
    assert (await state(store, a)).state is OutboxState.SENT


async def test_channel_without_adapter_is_held(store: Store, clock: FrozenClock) -> None:
    (a,) = await queue(store, 1, channel="x")
    report = await sender(store, clock, FakeSend()).run_once()
    assert report.held == {"x": "no account for this channel"}
    assert (await state(store, a)).state is OutboxState.QUEUED
