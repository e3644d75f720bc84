"""The sync worker: fetch from the cursor, ingest, save the cursor, and a status per state."""

from __future__ import annotations

from datetime import UTC

import pytest

from console.channels.base import (
    AuthRejected,
    BadPayload,
    MonthlyCapReached,
    RateLimited,
    TransientError,
)
from console.clock import FrozenClock
from console.sync.status import SyncState, describe
from console.sync.sync_worker import SyncWorker
from db import accounts
from db.accounts import Account
from db.store import Store

from .conftest import NOW, nm
from .fakes import FakeFetch, page


class FixedRandom:
    """uniform(a, b) always gives a + share * (b - a): exact jitter in tests."""

    def __init__(self, share: float) -> None:
        self.share = share

    def uniform(self, a: float, b: float) -> float:
        return a + self.share * (b - a)


async def make(store: Store, clock: FrozenClock, fake: FakeFetch, name: str = "x",
               share: float = 0.5) -> SyncWorker:
    instance = "https://m.example" if fake.channel == "mastodon" else None
    account = await accounts.add_account(store, channel=fake.channel, name=name, handle="@acme",
                                         now=NOW, instance_url=instance)
    return SyncWorker(store, fake, account, clock, rng=FixedRandom(share),  # type: ignore[arg-type]
                      base_delay=40, max_delay=300, interval=60)


async def stored(store: Store, name: str) -> Account:
    account = await accounts.get_account(store, name)
    assert account is not None
    return account


async def test_synced_ingests_saves_cursor_and_reports(store: Store, clock: FrozenClock) -> None:
    fake = FakeFetch(channel="x", pages=[
        page([nm("1", channel="x"), nm("2", channel="x")], "c1", more=True),
        page([nm("2", channel="x"), nm("3", channel="x")], "c2"),
    ])
    w = await make(store, clock, fake)
    assert w.due() and w.status_text() == "x: not synced yet"
    result = await w.run_once()
    assert len(result.new_ids) == 3 and result.fetched == 4  # the repeat is skipped
    assert fake.cursors == [None, "c1"]
    assert (await stored(store, "x")).sync_cursor == "c2"
    assert w.status is not None and w.status.state is SyncState.SYNCED
    assert w.next_run_at() == NOW + 60
    clock.advance(12)
    assert w.status_text() == "x: synced 12s ago"
    assert not w.due()
    # The next run starts from the saved cursor, even in a new worker.
    fake.pages.append(page([], "c2"))
    w2 = SyncWorker(store, fake, await stored(store, "x"), clock)
    await w2.run_once()
    assert fake.cursors[-1] == "c2"


async def test_rate_limited(store: Store, clock: FrozenClock) -> None:
    until = NOW + 10 * 3600 + 42 * 60  # 10:42 UTC
    fake = FakeFetch(channel="mastodon", pages=[RateLimited("Throttled", until=until)])
    w = await make(store, clock, fake, name="mastodon", share=0.0)
    result = await w.run_once()
    assert result.status is not None and result.status.state is SyncState.RATE_LIMITED
    assert w.next_run_at() == until
    assert describe("mastodon", w.status, clock.now(), tz=UTC) == \
        "mastodon: rate limited until 10:42"


async def test_monthly_cap_without_date_waits_an_hour(store: Store, clock: FrozenClock) -> None:
    fake = FakeFetch(channel="x", pages=[MonthlyCapReached("UsageCapExceeded")])
    w = await make(store, clock, fake, share=0.0)
    await w.run_once()
    assert w.status is not None and w.status.state is SyncState.RATE_LIMITED
    assert w.next_run_at() == NOW + 3600


@pytest.mark.parametrize("error", [TransientError("connection refused"),
                                   BadPayload("not JSON: <html>"), TimeoutError(),
                                   OSError("network unreachable")])
async def test_offline_with_backoff_and_jitter(store: Store, clock: FrozenClock,
                                               error: Exception) -> None:
    fake = FakeFetch(channel="bluesky", pages=[error, error, error, page([], "c")])
    w = await make(store, clock, fake, name="bluesky", share=0.5)
    await w.run_once()
    # base 40 s: half of it plus jitter uniform(0, 20) at share 0.5 -> 30 s.
    assert w.next_run_at() == NOW + 30
    # A page that is not the documented payload is not a dead network: said differently.
    what = "unreadable answer" if isinstance(error, BadPayload) else "offline"
    assert w.status_text() == f"bluesky: {what}, retry in 30s"
    first_since = w.status.since if w.status else None
    clock.set(NOW + 30)
    await w.run_once()
    assert w.next_run_at() == NOW + 30 + 60  # 80 s: 40 + 20
    assert w.status is not None and w.status.since == first_since  # offline since the first
    clock.set(NOW + 90)
    await w.run_once()
    assert w.next_run_at() == NOW + 90 + 120
    clock.set(NOW + 210)
    await w.run_once()
    assert w.status is not None and w.status.state is SyncState.SYNCED
    assert w.next_run_at() == NOW + 210 + 60
    fake.pages.append(TransientError("again"))
    clock.advance(60)
    await w.run_once()
    assert w.next_run_at() == clock.now() + 30  # backoff starts over after a success


async def test_auth_rejected_stops_until_told(store: Store, clock: FrozenClock) -> None:
    fake = FakeFetch(channel="x", pages=[AuthRejected("Unauthorized", status=401),
                                         page([], None)])
    w = await make(store, clock, fake)
    await w.run_once()
    assert w.next_run_at() is None and not w.due()
    assert w.status_text() == "x: token rejected, run comptoir account add x"
    assert w.status is not None and "Unauthorized" in w.status.message
    w.retry_now()
    await w.run_once()
    assert w.status is not None and w.status.state is SyncState.SYNCED


def test_describe_names_the_account_and_its_channel() -> None:
    from console.sync.status import AccountStatus

    s = AccountStatus(SyncState.AUTH_REJECTED, NOW, None)
    assert describe("support-fr", s, NOW, channel="mastodon") == \
        "support-fr: token rejected, run comptoir account add mastodon --name support-fr"
    s = AccountStatus(SyncState.SYNCED, NOW, None)
    assert describe("x", s, NOW + 7200) == "x: synced 2h ago"
