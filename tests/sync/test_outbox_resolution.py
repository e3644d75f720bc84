"""How the sender uses the transitions sending -> queued and unknown -> sent."""

from __future__ import annotations

import random

from console.channels.base import RateLimited, TransientError
from console.clock import FrozenClock
from console.sync.outbox_sender import OutboxSender
from db.models import OutboxState
from db.store import Store

from .conftest import NOW, SLA, nm
from .fakes import FakeSend


async def one_reply(store: Store) -> int:
    [mid] = await store.ingest([nm("p1")], now=NOW, first_reply_sla=SLA)
    await store.queue_reply(mid, "Merci !", author="ana", now=NOW)
    return mid


def outbox_moves(events: list) -> list[str]:  # type: ignore[type-arg]
    return [e.detail.split(" ", 1)[1] for e in events if e.action == "outbox"]


async def test_rate_limited_send_goes_straight_back_to_queued(
    store: Store, clock: FrozenClock
) -> None:
    mid = await one_reply(store)
    fake = FakeSend(errors=[RateLimited("slow down", until=NOW + 120)])
    sender = OutboxSender(store, {"mastodon": fake}, clock, rng=random.Random(1))
    report = await sender.run_once()
    assert report.requeued == 1 and report.held == {"mastodon": f"paused until {NOW + 120}"}
    (row,) = await store.outbox_for_mention(mid)
    assert row.state is OutboxState.QUEUED and "rate limited" in (row.error or "")
    assert outbox_moves(await store.events(mid)) == ["queued -> sending", "sending -> queued"]
    clock.advance(121)
    report = await sender.run_once()
    (row,) = await store.outbox_for_mention(mid)
    assert row.state is OutboxState.SENT and row.attempts == 2
    assert fake.calls == [("send", row.id), ("find", row.id), ("send", row.id)]


async def test_unknown_found_on_the_channel_becomes_sent_without_a_post(
    store: Store, clock: FrozenClock
) -> None:
    mid = await one_reply(store)
    fake = FakeSend(errors=[TransientError("read timeout", maybe_sent=True)],
                    post_then_fail=True)
    sender = OutboxSender(store, {"mastodon": fake}, clock, rng=random.Random(1),
                          base_delay=10, max_delay=10)
    assert (await sender.run_once()).unknown == 1
    clock.advance(11)
    report = await sender.run_once()
    assert (report.sent, report.verified, report.requeued) == (1, 1, 0)
    (row,) = await store.outbox_for_mention(mid)
    assert (row.state, row.remote_id, row.attempts) == (OutboxState.SENT, "r1", 1)
    assert outbox_moves(await store.events(mid)) == [
        "queued -> sending", "sending -> unknown", "unknown -> sent"]
    assert [c[0] for c in fake.calls] == ["send", "find"]  # one post, one lookup


async def test_unknown_not_found_is_posted_after_one_lookup(
    store: Store, clock: FrozenClock
) -> None:
    mid = await one_reply(store)
    fake = FakeSend(errors=[TransientError("connection reset", maybe_sent=True)])
    sender = OutboxSender(store, {"mastodon": fake}, clock, rng=random.Random(1),
                          base_delay=10, max_delay=10)
    assert (await sender.run_once()).unknown == 1
    clock.advance(11)
    report = await sender.run_once()
    assert (report.sent, report.verified, report.requeued) == (1, 0, 1)
    (row,) = await store.outbox_for_mention(mid)
    assert (row.state, row.attempts) == (OutboxState.SENT, 2)
    assert [c[0] for c in fake.calls] == ["send", "find", "send"]  # no second lookup


async def test_unknown_stays_unknown_when_the_lookup_fails(
    store: Store, clock: FrozenClock
) -> None:
    mid = await one_reply(store)
    fake = FakeSend(errors=[TransientError("reset", maybe_sent=True)],
                    lookup_errors=[TransientError("still down")])
    sender = OutboxSender(store, {"mastodon": fake}, clock, rng=random.Random(1),
                          base_delay=10, max_delay=10)
    await sender.run_once()
    clock.advance(11)
    report = await sender.run_once()
    assert (report.sent, report.requeued) == (0, 0)
    (row,) = await store.outbox_for_mention(mid)
    assert row.state is OutboxState.UNKNOWN  # never guessed "not sent"
    assert [c[0] for c in fake.calls] == ["send", "find"]
