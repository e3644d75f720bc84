"""The simulated live channel, stepped by hand against a FrozenClock and a real Store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from console.clock import FrozenClock
from console.demo import live
from console.demo.live import FAILURE_REASONS, SimulatedChannel, StepResult
from db.models import CHANNELS, Mention, OutboxState, Status
from db.store import Store

NOW = 1_750_000_000
SLA = 3600


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "live.db")
    try:
        yield s
    finally:
        await s.close()


async def _run(channel: SimulatedChannel, clock: FrozenClock, seconds: int) -> list[StepResult]:
    """What the app's one-second timer does, without waiting."""
    results = []
    for _ in range(seconds):
        clock.advance(1)
        results.append(await channel.step())
    return results


async def _mentions(store: Store, results: list[StepResult]) -> list[Mention]:
    out = []
    for r in results:
        for mid in r.new_mention_ids:
            m = await store.mention(mid)
            assert m is not None
            out.append(m)
    return out


async def test_nothing_arrives_without_time_passing(store: Store) -> None:
    channel = SimulatedChannel(store, FrozenClock(NOW), seed=1)
    assert await channel.step() == StepResult()
    assert channel.next_arrival > NOW


async def test_advancing_a_minute_ingests_mentions(store: Store) -> None:
    clock = FrozenClock(NOW)
    channel = SimulatedChannel(store, clock, seed=1, first_reply_sla=SLA)
    results = await _run(channel, clock, 600)
    mentions = await _mentions(store, results)
    # ~one every 20 s: about 30 in ten minutes (Poisson, so a loose band).
    assert 15 <= len(mentions) <= 50
    assert sum(len(r.new_mention_ids) for r in results[:60]) >= 1
    for m in mentions:
        assert m.channel in CHANNELS
        assert m.status == Status.NEW
        assert NOW <= m.created_at <= m.received_at <= NOW + 600
        assert m.first_reply_due == m.created_at + SLA
    assert {m.lang for m in mentions} == {"fr", "en"}
    assert (await store.counts()).active == len(mentions)


async def test_speed_multiplies_the_arrival_rate(store: Store, tmp_path: Path) -> None:
    clock = FrozenClock(NOW)
    fast = SimulatedChannel(store, clock, seed=1, speed=10)
    results = await _run(fast, clock, 120)
    # 120 s at 10x is like 20 minutes: ~60 mentions.
    assert 35 <= sum(len(r.new_mention_ids) for r in results) <= 90
    with pytest.raises(ValueError):
        fast.speed = 0


async def test_schedule_is_deterministic_whatever_the_cadence(tmp_path: Path) -> None:
    # Stepping every second or once at the end must ingest the same mentions.
    stores = [await Store.open(tmp_path / f"{i}.db") for i in range(3)]
    try:
        clock_a, clock_b, clock_c = FrozenClock(NOW), FrozenClock(NOW), FrozenClock(NOW)
        a = SimulatedChannel(stores[0], clock_a, seed=7)
        b = SimulatedChannel(stores[1], clock_b, seed=7)
        c = SimulatedChannel(stores[2], clock_c, seed=8)
        got_a = await _mentions(stores[0], await _run(a, clock_a, 300))
        clock_b.advance(300)
        got_b = await _mentions(stores[1], [await b.step()])
        got_c = await _mentions(stores[2], await _run(c, clock_c, 300))

        def key(ms: list[Mention]) -> list[tuple[str, str, str, int]]:
            return [(m.channel, m.author_handle, m.text, m.created_at) for m in ms]

        assert key(got_a) == key(got_b)
        assert key(got_a) != key(got_c)
    finally:
        for s in stores:
            await s.close()


async def test_long_pause_is_caught_up_in_bounded_steps(store: Store) -> None:
    clock = FrozenClock(NOW)
    channel = SimulatedChannel(store, clock, seed=3)
    clock.advance(6 * 3600)  # laptop asleep: ~1,000 arrivals due
    first = await channel.step()
    assert len(first.new_mention_ids) == live.MAX_INGEST_PER_STEP
    total = len(first.new_mention_ids)
    while (r := await channel.step()).new_mention_ids:
        total += len(r.new_mention_ids)
    assert 800 <= total <= 1300
    assert channel.next_arrival > clock.now()


async def test_overlapping_steps_do_not_double_ingest(store: Store) -> None:
    clock = FrozenClock(NOW)
    channel = SimulatedChannel(store, clock, seed=1)
    clock.advance(300)
    r1, r2 = await asyncio.gather(channel.step(), channel.step())
    assert r1.new_mention_ids and r2 == StepResult()


async def _queued_reply(store: Store, channel: SimulatedChannel, clock: FrozenClock) -> int:
    while True:
        clock.advance(1)
        result = await channel.step()
        if result.new_mention_ids:
            item = await store.queue_reply(
                result.new_mention_ids[0],
                "Bonjour, on regarde ça !",
                author="camille",
                now=int(clock.now()),
            )
            assert item.state == OutboxState.QUEUED
            return item.id


async def test_queued_reply_moves_to_sent_after_the_right_steps(store: Store) -> None:
    clock = FrozenClock(NOW)
    channel = SimulatedChannel(store, clock, seed=1)
    outbox_id = await _queued_reply(store, channel, clock)

    async def state() -> OutboxState:
        items = (
            await store.outbox_in_state(OutboxState.QUEUED)
            + await store.outbox_in_state(OutboxState.SENDING)
            + await store.outbox_in_state(OutboxState.SENT)
        )
        return next(i.state for i in items if i.id == outbox_id)

    clock.advance(1)
    assert outbox_id not in (await channel.step()).sending_outbox_ids
    assert await state() == OutboxState.QUEUED
    clock.advance(1)  # 2 s queued
    assert outbox_id in (await channel.step()).sending_outbox_ids
    assert await state() == OutboxState.SENDING
    clock.advance(2)
    await channel.step()
    assert await state() == OutboxState.SENDING
    clock.advance(1)  # 3 s sending
    result = await channel.step()
    assert outbox_id in result.acknowledged_outbox_ids
    sent = next(i for i in await store.outbox_in_state(OutboxState.SENT) if i.id == outbox_id)
    assert sent.remote_id is not None and sent.remote_id.startswith("sim-")
    assert sent.error is None


async def test_some_sends_fail_with_a_server_reason_deterministically(tmp_path: Path) -> None:
    async def run(path: Path) -> tuple[dict[int, str], dict[int, str]]:
        store = await Store.open(path)
        try:
            clock = FrozenClock(NOW)
            channel = SimulatedChannel(store, clock, seed=11, speed=20)
            results = await _run(channel, clock, 200)  # ~200 mentions at 20x
            for r in results:
                for mid in r.new_mention_ids:
                    await store.queue_reply(mid, "Merci !", author="ines", now=int(clock.now()))
            await _run(channel, clock, 20)
            sent = {
                i.id: i.remote_id or ""
                for i in await store.outbox_in_state(OutboxState.SENT, limit=10_000)
            }
            failed = {
                i.id: i.error or ""
                for i in await store.outbox_in_state(OutboxState.FAILED, limit=10_000)
            }
            assert not await store.outbox_in_state(OutboxState.QUEUED)
            assert not await store.outbox_in_state(OutboxState.SENDING)
            return sent, failed
        finally:
            await store.close()

    sent, failed = await run(tmp_path / "a.db")
    total = len(sent) + len(failed)
    assert total >= 100
    assert 1 <= len(failed) <= total // 8  # about 1 in 25
    reasons = {r for rs in FAILURE_REASONS.values() for r in rs}
    assert all(e in reasons for e in failed.values())
    assert len(set(sent.values())) == len(sent)  # remote ids unique
    assert all(rid.startswith("sim-") for rid in sent.values())
    assert await run(tmp_path / "b.db") == (sent, failed)
