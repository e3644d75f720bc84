"""Every keyboard workflow of the desk, end to end: keys in, database and screen checked."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot

from console.app import ComptoirApp
from console.clock import FrozenClock
from console.config import AgentConfig, Config
from console.screens.help import HelpScreen
from console.screens.main import MainScreen
from console.screens.template_picker import TemplatePicker
from db.models import ACTIVE_STATUSES, NewMention, OutboxState, QueueFilter, Status
from db.store import Store
from widgets.composer import ReplyComposer
from widgets.customer_card import CustomerCardView
from widgets.mention_detail import MentionDetail
from widgets.outbox_status import OutboxStatusView
from widgets.queue_list import QueueList

from .conftest import NOW


class Notes:
    """Collects the notifications the app shows, through the app's message hook."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def __call__(self, message: Message) -> None:
        if isinstance(message, Notify):
            self.messages.append(message.notification.message)

    def last(self) -> str:
        return self.messages[-1] if self.messages else ""


async def settle(pilot: Pilot[None]) -> None:
    """Let key handlers, workers and the refreshes they cause finish (no sleeping)."""
    app = pilot.app
    for _ in range(3):
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.pause()


def main(app: ComptoirApp) -> MainScreen:
    screen = app.screen
    assert isinstance(screen, MainScreen), screen
    return screen


def current_id(app: ComptoirApp) -> int:
    row = main(app).queue.highlighted_row
    assert row is not None
    return row.id


def screen_text(app: ComptoirApp) -> str:
    return app.export_screenshot()


async def open_desk(app: ComptoirApp, notes: Notes | None = None,
                    size: tuple[int, int] = (120, 40)) -> Callable[..., object]:
    return app.run_test(size=size, notifications=True, message_hook=notes)


async def test_desk_opens_on_the_queue_sorted_by_next_breach(app: ComptoirApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        queue = main(app).queue
        rows = queue.window_rows
        assert len(rows) > 30
        assert all(row.status in ACTIVE_STATUSES for row in rows)
        dues = [row.sort_due for row in rows]
        assert dues == sorted(dues)
        # The detail pane shows the highlighted mention.
        detail = app.screen.query_one(MentionDetail)
        assert detail.mention is not None and detail.mention.id == rows[0].id
        assert app.focused is queue


async def test_move_with_j_k_g_and_open_with_enter(app: ComptoirApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        rows = main(app).queue.window_rows
        await pilot.press("j", "j")
        await settle(pilot)
        assert current_id(app) == rows[2].id
        assert app.screen.query_one(MentionDetail).mention.id == rows[2].id  # type: ignore[union-attr]
        await pilot.press("k")
        await settle(pilot)
        assert current_id(app) == rows[1].id
        await pilot.press("G")
        await settle(pilot)
        last = current_id(app)
        assert last != rows[1].id
        await pilot.press("g")
        await settle(pilot)
        assert current_id(app) == rows[0].id
        await pilot.press("enter")
        await settle(pilot)
        assert app.focused is app.screen.query_one("#detail")
        await pilot.press("escape")
        await settle(pilot)
        assert app.focused is main(app).queue


async def test_template_fill_and_send_goes_through_the_outbox(
    app: ComptoirApp, demo_store: Store, clock: FrozenClock
) -> None:
    notes = Notes()
    async with app.run_test(size=(120, 40), notifications=True, message_hook=notes) as pilot:
        await settle(pilot)
        mention_id = current_id(app)
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TemplatePicker)
        await pilot.press(*"rembours")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        composer = main(app).composer
        assert "{order_id}" in composer.text
        # Sending with an unfilled field is refused, with the field named.
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "{order_id}" in notes.last() and "Not sent" in notes.last()
        assert await demo_store.outbox_for_mention(mention_id) == []
        # Fill every field from the keyboard: the first is selected, ctrl+f selects the next.
        await pilot.press(*"FB-1234")
        while composer.unfilled:
            await pilot.press("ctrl+f", *"48h")
        await settle(pilot)
        assert "FB-1234" in composer.text
        # The draft is saved while typing, so switching away loses nothing.
        draft = await demo_store.draft(mention_id)
        assert draft is not None and "FB-1234" in draft.text
        await pilot.press("ctrl+s")
        await settle(pilot)
        outbox = await demo_store.outbox_for_mention(mention_id)
        assert [item.state for item in outbox] == [OutboxState.QUEUED]
        assert "FB-1234" in outbox[0].text and "Camille" in outbox[0].text
        mention = await demo_store.mention(mention_id)
        assert mention is not None and mention.status is Status.PENDING
        assert "queued" in notes.last().lower()


async def test_draft_survives_switching_mentions(app: ComptoirApp, demo_store: Store) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        first = current_id(app)
        await pilot.press("r")
        await settle(pilot)
        await pilot.press(*"Bonjour, on regarde")
        await settle(pilot)
        await pilot.press("escape")
        await pilot.press("j")
        await settle(pilot)
        assert current_id(app) != first
        await pilot.press("k", "r")
        await settle(pilot)
        assert main(app).composer.text == "Bonjour, on regarde"
        draft = await demo_store.draft(first)
        assert draft is not None and draft.text == "Bonjour, on regarde"


async def test_live_channel_acknowledges_the_reply(
    demo_store: Store, config: Config, clock: FrozenClock
) -> None:
    from console.demo.live import SimulatedChannel

    live = SimulatedChannel(demo_store, clock, seed=7, speed=1.0, first_reply_sla=3600)
    app = ComptoirApp(demo_store, config, clock=clock, live=live, heartbeat=None)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        mention_id = current_id(app)
        await pilot.press("r", *"Merci, on s'en occupe")
        await pilot.press("ctrl+s")
        await settle(pilot)
        for _ in range(8):
            clock.advance(2)
            await main(app).tick()
            await settle(pilot)
        states = [item.state for item in await demo_store.outbox_for_mention(mention_id)]
        assert states and states[0] in (OutboxState.SENT, OutboxState.FAILED)
        # New mentions arrive from the simulated channel without a key press.
        before = (await demo_store.counts()).total
        clock.advance(300)
        await main(app).tick()
        await settle(pilot)
        assert (await demo_store.counts()).total > before


async def test_resolve_assign_and_reopen(app: ComptoirApp, demo_store: Store) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        mention_id = current_id(app)
        await pilot.press("a")
        await settle(pilot)
        mention = await demo_store.mention(mention_id)
        assert mention is not None and mention.assignee == "camille"
        row = next(r for r in main(app).queue.window_rows if r.id == mention_id)
        assert row.assignee == "camille"
        await pilot.press("a")
        await settle(pilot)
        assert (await demo_store.mention(mention_id)).assignee is None  # type: ignore[union-attr]
        await pilot.press("e")
        await settle(pilot)
        assert (await demo_store.mention(mention_id)).status is Status.RESOLVED  # type: ignore[union-attr]
        assert mention_id not in [r.id for r in main(app).queue.window_rows]
        events = [event.action for event in await demo_store.events(mention_id)]
        assert events[-3:] == ["assign", "assign", "status"] or "status" in events


async def test_snooze_then_it_comes_back_when_due(
    app: ComptoirApp, demo_store: Store, clock: FrozenClock
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        mention_id = current_id(app)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("enter")  # first preset: 30 minutes
        await settle(pilot)
        mention = await demo_store.mention(mention_id)
        assert mention is not None and mention.status is Status.SNOOZED
        assert mention.snoozed_until == NOW + 30 * 60
        assert mention_id not in [r.id for r in main(app).queue.window_rows]
        clock.advance(29 * 60)
        await main(app).tick()
        await settle(pilot)
        assert (await demo_store.mention(mention_id)).status is Status.SNOOZED  # type: ignore[union-attr]
        clock.advance(61)
        await main(app).tick()
        await settle(pilot)
        assert (await demo_store.mention(mention_id)).status is Status.OPEN  # type: ignore[union-attr]
        assert mention_id in [r.id for r in main(app).queue.window_rows]


async def test_snooze_with_a_typed_duration(app: ComptoirApp, demo_store: Store) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        mention_id = current_id(app)
        await pilot.press("s", "tab", *"1h30m", "enter")
        await settle(pilot)
        mention = await demo_store.mention(mention_id)
        assert mention is not None and mention.snoozed_until == NOW + 90 * 60


async def test_note_shows_on_the_customer_card(app: ComptoirApp, demo_store: Store) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        mention_id = current_id(app)
        await pilot.press("n", *"Client fidèle, geste commercial OK", "enter")
        await settle(pilot)
        mention = await demo_store.mention(mention_id)
        assert mention is not None
        card = await demo_store.customer_card(mention.customer_id)
        assert card is not None
        assert [note.text for note in card.notes][:1] == ["Client fidèle, geste commercial OK"]
        shown = app.screen.query_one(CustomerCardView).card
        assert shown is not None and shown.notes[0].text == "Client fidèle, geste commercial OK"


async def test_tags_are_edited(app: ComptoirApp, demo_store: Store) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        mention_id = current_id(app)
        await pilot.press("number_sign")
        await settle(pilot)
        await pilot.press("ctrl+u", *"vip, fibre", "enter")
        await settle(pilot)
        mention = await demo_store.mention(mention_id)
        assert mention is not None and set(mention.tags) == {"vip", "fibre"}


async def test_search_finds_without_accents_and_escape_clears(app: ComptoirApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        unfiltered = [row.id for row in main(app).queue.window_rows[:20]]
        await pilot.press("slash", *"REMBOURSEMENT", "enter")
        await settle(pilot)
        rows = main(app).queue.window_rows
        assert rows and [row.id for row in rows[:20]] != unfiltered
        assert all("rembours" in row.excerpt.lower() or "rembours" in row.author_name.lower()
                   for row in rows)
        assert main(app).filter.search == "REMBOURSEMENT"
        await pilot.press("escape")
        await settle(pilot)
        assert main(app).filter.search is None
        assert [row.id for row in main(app).queue.window_rows[:20]] == unfiltered


async def test_filter_by_channel_and_status(app: ComptoirApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        prompt = app.screen
        from textual.widgets import Select

        prompt.query_one("#f-channel", Select).value = "mastodon"
        prompt.query_one("#f-status", Select).value = "pending"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert main(app).filter == QueueFilter(status="pending", channel="mastodon")
        rows = main(app).queue.window_rows
        assert rows and all(r.channel == "mastodon" and r.status is Status.PENDING for r in rows)


async def test_help_lists_every_binding(app: ComptoirApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for word in ("Reply", "Template", "Send", "Resolve", "Snooze", "Assign", "Note",
                     "Search", "Filter", "Quit", "[send]", "[palette]"):
            assert word in text, word
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)


async def test_a_remapped_key_works_and_the_old_one_does_not(
    demo_store: Store, clock: FrozenClock
) -> None:
    config = Config(agent=AgentConfig.from_name("Camille Martin", id="camille"),
                    keys={"resolve": "z"})  # a free key: x is "spam"
    app = ComptoirApp(demo_store, config, clock=clock, heartbeat=None)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        mention_id = current_id(app)
        await pilot.press("e")
        await settle(pilot)
        assert (await demo_store.mention(mention_id)).status in ACTIVE_STATUSES  # type: ignore[union-attr]
        await pilot.press("z")
        await settle(pilot)
        assert (await demo_store.mention(mention_id)).status is Status.RESOLVED  # type: ignore[union-attr]


async def test_quit_with_q(app: ComptoirApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0 or app.return_code is None


async def test_narrow_terminal_shows_one_pane_at_a_time(app: ComptoirApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert main(app).has_class("-narrow")
        assert not app.screen.query_one("#detail").display
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.query_one("#detail").display
        assert not main(app).queue.display
        await pilot.press("escape")
        await settle(pilot)
        assert main(app).queue.display


HOSTILE = (
    "[@click=app.quit]click me[/] [bold]x[/bold] [link=https://evil.example]y[/link] "
    "\x1b]52;c;cHduZWQ=\x07\x1b]0;title\x07\x1b[2J\x1b[6n \u202eevil\u202c"
)


async def test_hostile_mention_is_inert(demo_store: Store, config: Config,
                                        clock: FrozenClock) -> None:
    [mention_id] = await demo_store.ingest(
        [NewMention(channel="x", remote_id="hostile-1", author_handle="[red]evil\x1b[2J",
                    author_name="[@click=app.quit]Evil", text=HOSTILE,
                    created_at=NOW - 7200)],
        now=NOW, first_reply_sla=60,
    )
    app = ComptoirApp(demo_store, config, clock=clock, heartbeat=None)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await main(app).queue.select_id(mention_id)
        await settle(pilot)
        assert current_id(app) == mention_id
        await pilot.click(MentionDetail)
        await pilot.press("r")
        await settle(pilot)
        text = screen_text(app)
        assert "[@click=app.quit]" in text
        assert "\x1b" not in main(app).composer.text
        assert "&lt;U+202E&gt;" in text or "<U+202E>" in text
        assert app.is_running
        outbox = app.screen.query_one(OutboxStatusView)
        assert outbox is not None
        assert app.screen.query_one(QueueList).highlighted_row is not None
        assert isinstance(app.screen, MainScreen)
        assert app.screen.query_one(ReplyComposer).display


@pytest.mark.parametrize("theme", ["dark", "light", "high-contrast", "lowbw"])
async def test_every_theme_starts(demo_store: Store, config: Config, clock: FrozenClock,
                                  theme: str) -> None:
    app = ComptoirApp(demo_store, config, clock=clock, heartbeat=None, theme=theme)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.theme == theme
        assert main(app).queue.window_rows


async def test_palette_lists_every_action_and_switches_theme(app: ComptoirApp) -> None:
    from textual.command import CommandPalette

    from console.actions import SCREEN_ACTIONS

    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        commands = [command.title for command in app.get_system_commands(app.screen)]
        for action in SCREEN_ACTIONS:
            assert action.label in commands, action.label
        for theme in ("dark", "light", "high-contrast", "lowbw"):
            assert f"Theme: {theme}" in commands
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"Theme: lowbw")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.theme == "lowbw"


async def test_palette_runs_a_desk_action(app: ComptoirApp, demo_store: Store) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        mention_id = current_id(app)
        await pilot.press("ctrl+p", *"Assign me")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        mention = await demo_store.mention(mention_id)
        assert mention is not None and mention.assignee == "camille"


async def test_activity_log_shows_who_did_what(app: ComptoirApp) -> None:
    from widgets.activity import ActivityView

    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        events = app.screen.query_one(ActivityView).events
        assert events and events[0].actor == "camille" and events[0].action == "assign"


async def test_links_open_only_http_after_showing_the_full_address(
    demo_store: Store, config: Config, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import webbrowser

    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda url, new=0: opened.append(url) or True)
    [mention_id] = await demo_store.ingest(
        [NewMention(channel="x", remote_id="links-1", author_handle="@l", author_name="L",
                    text="javascript:alert(1) puis https://fibrelle.fr/aide?x=1",
                    created_at=NOW - 9 * 3600)],
        now=NOW, first_reply_sla=60,
    )
    app = ComptoirApp(demo_store, config, clock=clock, heartbeat=None)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert await main(app).show_mention(mention_id)
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        from textual.widgets import Label, OptionList

        from console.screens.prompts import LinkPrompt

        assert isinstance(app.screen, LinkPrompt)
        options = app.screen.query_one(OptionList)
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert "javascript: links are never opened" in prompts[0]
        assert options.get_option_at_index(0).disabled
        await pilot.press("enter")  # the first openable link is highlighted: asks first
        await settle(pilot)
        assert opened == []
        hint = str(app.screen.query_one("#link-hint", Label).render())
        assert "https://fibrelle.fr/aide?x=1" in hint
        await pilot.press("enter")  # confirmed
        await settle(pilot)
        await app.workers.wait_for_complete()
        assert opened == ["https://fibrelle.fr/aide?x=1"]


async def test_a_failed_reply_comes_back_for_editing_and_requeues(
    app: ComptoirApp, demo_store: Store
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        mention_id = current_id(app)
        item = await demo_store.queue_reply(
            mention_id, "Bonjour, réponse refusée", author="camille", now=NOW
        )
        await demo_store.set_outbox_state(item.id, OutboxState.SENDING, now=NOW)
        await demo_store.set_outbox_state(item.id, OutboxState.FAILED, now=NOW,
                                          error="422 Validation failed: Text character limit")
        await main(app).show_mention(mention_id)
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert main(app).composer.text == "Bonjour, réponse refusée"
        await pilot.press("end", *" (corrigée)", "ctrl+s")
        await settle(pilot)
        states = [(i.state, i.text) for i in await demo_store.outbox_for_mention(mention_id)]
        assert (OutboxState.FAILED, "Bonjour, réponse refusée") in states
        assert (OutboxState.QUEUED, "Bonjour, réponse refusée (corrigée)") in states
