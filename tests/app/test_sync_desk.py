"""Real-channel sync inside the open console, with in-memory adapters and a frozen clock:
mentions arrive without a key press, replies go out, and the status line tells the truth."""

from __future__ import annotations

import random

import pytest

from console.app import ComptoirApp
from console.channels.base import (
    FetchResult,
    RateLimited,
    RateState,
    ReplyTarget,
    SentReply,
    TransientError,
)
from console.clock import FrozenClock
from console.config import Config
from console.sync.desk import DeskSync
from console.sync.outbox_sender import OutboxSender
from console.sync.sync_worker import SyncWorker
from db.accounts import add_account
from db.models import NewMention, OutboxItem, OutboxState
from db.store import Store
from widgets.status_bar import StatusBar

from .conftest import NOW
from .test_workflows import current_id, main, settle


class FakeChannel:
    """Stands in for a channel adapter: what `fail` says is what the next call raises."""

    channel = "mastodon"

    def __init__(self) -> None:
        self.pending: list[NewMention] = []
        self.fail: Exception | None = None
        self.sent: list[str] = []

    @property
    def rate_state(self) -> RateState:
        return RateState()

    async def fetch_mentions(self, cursor: str | None) -> FetchResult:
        if self.fail is not None:
            raise self.fail
        batch, self.pending = self.pending, []
        return FetchResult(batch, f"c{len(batch)}", RateState())

    def new_record_key(self) -> str | None:
        return None

    async def send_reply(self, item: OutboxItem, in_reply_to: ReplyTarget, *,
                         record_key: str | None = None) -> SentReply:
        if self.fail is not None:
            raise self.fail
        self.sent.append(item.text)
        return SentReply(f"109{item.id}", f"https://social.example/@fibrelle/109{item.id}")

    async def find_existing_reply(self, item: OutboxItem, in_reply_to: ReplyTarget, *,
                                  record_key: str | None = None) -> SentReply | None:
        return None


async def desk_for(store: Store, clock: FrozenClock, fake: FakeChannel) -> DeskSync:
    account = await add_account(store, channel="mastodon", name="mastodon",
                                handle="@fibrelle@social.example", now=NOW,
                                instance_url="https://social.example")
    worker = SyncWorker(store, fake, account, clock, rng=random.Random(1))
    sender = OutboxSender(store, {"mastodon": fake}, clock, rng=random.Random(2))
    return DeskSync([worker], sender, clock)


async def desk_app(
    store: Store, config: Config, clock: FrozenClock, fake: FakeChannel
) -> ComptoirApp:
    """The console with one Mastodon account synced through `fake`; tests drive the rounds."""
    sync = await desk_for(store, clock, fake)

    async def factory() -> DeskSync:
        return sync

    return ComptoirApp(store, config, clock=clock, heartbeat=None, sync_factory=factory)


def status_text(app: ComptoirApp) -> str:
    return " | ".join(app.screen.query_one(StatusBar).status.channel_states)


async def test_a_mention_from_the_channel_shows_up_without_a_key_press(
    demo_store: Store, config: Config, clock: FrozenClock
) -> None:
    fake = FakeChannel()
    app = await desk_app(demo_store, config, clock, fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        fake.pending.append(NewMention(
            channel="mastodon", remote_id="110000000000000001", author_handle="@zoe@piaille.fr",
            author_name="Zoé", text="Toujours pas de fibre ce matin, urgent !",
            created_at=NOW - 6 * 3600,  # long breached: sorts first
        ))
        await main(app).sync_step()
        await settle(pilot)
        first = main(app).queue.window_rows[0]
        assert first.author_handle == "@zoe@piaille.fr"
        assert "mastodon: synced 0s ago" in status_text(app)

        # A reply to it goes out through the outbox on the next round.
        await main(app).show_mention(first.id)
        await settle(pilot)
        assert current_id(app) == first.id
        await pilot.press("r", *"Bonjour Zoé, on regarde", "ctrl+s")
        await settle(pilot)
        await main(app).sync_step()
        await settle(pilot)
        assert fake.sent == ["Bonjour Zoé, on regarde"]
        [item] = await demo_store.outbox_for_mention(first.id)
        assert item.state is OutboxState.SENT and item.remote_id


async def test_status_line_shows_offline_then_rate_limited(
    demo_store: Store, config: Config, clock: FrozenClock
) -> None:
    fake = FakeChannel()
    app = await desk_app(demo_store, config, clock, fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        fake.fail = TransientError("network unreachable")
        await main(app).sync_step()
        await settle(pilot)
        assert "mastodon: offline, retry in" in status_text(app)
        # The desk stays fully usable on local data while offline.
        await pilot.press("j", "a")
        await settle(pilot)
        assert main(app).queue.highlighted_row is not None
        fake.fail = RateLimited("slow down", until=NOW + 600)
        clock.advance(3600)
        await main(app).sync_step()
        await settle(pilot)
        assert "mastodon: rate limited until" in status_text(app)
        # No good sync for a long while: the SLA heading carries the stale marker.
        assert main(app).queue.sla_stale
        assert app.screen.query_one(StatusBar).status.sla_stale


async def test_accounts_become_workers_and_missing_tokens_are_said(
    demo_store: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx
    import keyring
    from keyring.backends.fail import Keyring as FailKeyring

    from console.sync.desk import desk_sync_for_accounts

    previous = keyring.get_keyring()
    keyring.set_keyring(FailKeyring())
    await add_account(demo_store, channel="mastodon", name="mastodon", handle="@f@s.example",
                      now=NOW, instance_url="https://s.example")
    await add_account(demo_store, channel="bluesky", name="bluesky", handle="fibrelle.fr",
                      now=NOW)
    monkeypatch.setenv("COMPTOIR_TOKEN_MASTODON", "token-from-env")
    monkeypatch.delenv("COMPTOIR_TOKEN_BLUESKY", raising=False)
    try:
        transport = httpx.MockTransport(lambda request: httpx.Response(500))
        async with httpx.AsyncClient(transport=transport) as client:
            sync = await desk_sync_for_accounts(demo_store, clock, client, first_reply_sla=3600)
    finally:
        keyring.set_keyring(previous)
    assert sync is not None
    assert [w.account.name for w in sync.workers] == ["mastodon"]
    [problem] = sync.problems
    assert problem.startswith("bluesky: not syncing")
    assert "token-from-env" not in " ".join(sync.status_lines())


async def test_no_account_means_no_sync(demo_store: Store, clock: FrozenClock) -> None:
    import httpx

    from console.sync.desk import desk_sync_for_accounts

    async with httpx.AsyncClient() as client:
        assert await desk_sync_for_accounts(demo_store, clock, client, first_reply_sla=60) is None
