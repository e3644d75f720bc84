"""In the open console: a bad item of a fetched page is counted in the status line while the good
one lands, and a sent reply shows its public link in the detail pane's reply list."""

from __future__ import annotations

from console.channels.base import FetchResult, RateState, Rejected
from console.clock import FrozenClock
from console.config import Config
from db.models import NewMention, OutboxState
from db.quarantine import quarantined
from db.store import Store
from widgets.outbox_status import OutboxStatusView

from .conftest import NOW
from .test_sync_desk import FakeChannel, desk_app, status_text
from .test_workflows import main, settle


class ChannelWithABadItem(FakeChannel):
    def __init__(self) -> None:
        super().__init__()
        self.bad: list[Rejected] = []

    async def fetch_mentions(self, cursor: str | None) -> FetchResult:
        batch, self.pending = self.pending, []
        bad, self.bad = self.bad, []
        return FetchResult(batch, f"c{len(batch)}", RateState(), bad)


async def test_quarantine_count_and_reply_link_on_screen(
    demo_store: Store, config: Config, clock: FrozenClock
) -> None:
    fake = ChannelWithABadItem()
    app = await desk_app(demo_store, config, clock, fake)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        fake.pending.append(NewMention(
            channel="mastodon", remote_id="110000000000000001", author_handle="@zoe@piaille.fr",
            author_name="Zoé", text="Toujours pas de fibre, urgent !",
            created_at=NOW - 6 * 3600))
        fake.bad.append(Rejected({"id": "901", "type": "mention", "status": {"id": "1100[/]"}},
                                 "mastodon: 'account' missing or not an object", "1100[/]"))
        await main(app).sync_step()
        await settle(pilot)
        assert "mastodon: synced 0s ago · 1 quarantined" in status_text(app)
        [row] = await quarantined(demo_store)
        assert (row.account, row.remote_id) == ("mastodon", "1100[/]")
        first = main(app).queue.window_rows[0]
        assert first.author_handle == "@zoe@piaille.fr"  # the good item landed

        await main(app).show_mention(first.id)
        await settle(pilot)
        await pilot.press("r", *"On regarde", "ctrl+s")
        await settle(pilot)
        await main(app).sync_step()
        await settle(pilot)
        [item] = await demo_store.outbox_for_mention(first.id)
        assert item.state is OutboxState.SENT
        assert item.remote_url == f"https://social.example/@fibrelle/109{item.id}"
        # Replied, it left the active view and the cursor moved on: open its detail again (the
        # detail worker shows the mention the screen calls current).
        main(app)._current_id = first.id
        main(app).load_detail(first.id)
        await settle(pilot)
        shown = app.screen.query_one(OutboxStatusView).render()
        assert f"link https://social.example/@fibrelle/109{item.id}" in str(shown)
