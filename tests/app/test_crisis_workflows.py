"""Crisis mode and listening, end to end on the demo data: keys in, database and screen checked."""

from __future__ import annotations

import html
import re
from collections import defaultdict
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input

from console.app import ComptoirApp
from console.clock import FrozenClock
from console.config import Config
from console.demo.generator import demo_watch_list
from console.demo.live import SimulatedChannel
from console.screens.crisis import ConfirmPrompt, CrisisScreen
from console.screens.listening import ListeningScreen
from console.screens.main import MainScreen
from console.screens.prompts import TextPrompt
from console.screens.template_picker import TemplatePicker
from db.crisis import pin_note, pinned_note
from db.listening import NewWatchResult, add_watch_results, watch_result, watch_results
from db.models import NewMention, OutboxState, Status
from db.store import Store
from widgets.crisis_banner import CrisisBanner

from .conftest import NOW
from .test_workflows import Notes, settle


def shown(app: ComptoirApp) -> str:
    """The screen as plain text, one line per row (from the SVG screenshot's text runs)."""
    rows: dict[float, list[tuple[float, str]]] = defaultdict(list)
    for match in re.finditer(r'<text [^>]*x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>',
                             app.export_screenshot()):
        rows[float(match[2])].append((float(match[1]), html.unescape(match[3])))
    return "\n".join("".join(t for _, t in sorted(runs)).replace("\xa0", " ")
                     for _, runs in sorted(rows.items()))


async def pause(pilot: Pilot[None]) -> None:
    """Let the screen react while the bulk-reply worker waits on a prompt (settle would wait
    for that worker, which waits for us)."""
    for _ in range(4):
        await pilot.pause()


def banner(app: ComptoirApp) -> CrisisBanner:
    screen = app.screen
    assert isinstance(screen, MainScreen), screen
    return screen.query_one(CrisisBanner)


def crisis(app: ComptoirApp) -> CrisisScreen:
    assert isinstance(app.screen, CrisisScreen), app.screen
    return app.screen


async def open_crisis(pilot: Pilot[None]) -> CrisisScreen:
    await settle(pilot)
    await pilot.press("C")
    await settle(pilot)
    return crisis(pilot.app)  # type: ignore[arg-type]


async def test_the_demo_burst_raises_the_banner(app: ComptoirApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        state = banner(app).state
        assert state.spike is not None
        assert state.spike.startswith("#PanneFibrelle ")
        assert " mentions in 15 min (baseline " in state.spike
        assert banner(app).display
        assert "Crisis: #PanneFibrelle" in shown(app)


async def test_no_banner_without_a_burst(demo_store: Store, config: Config) -> None:
    # Two hours later the burst is history: no spike, and the banner takes no line.
    app = ComptoirApp(demo_store, config, clock=FrozenClock(NOW + 2 * 3600), heartbeat=None)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert banner(app).state.spike is None
        assert not banner(app).has_class("-visible")
        await pilot.press("C")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)


async def test_C_opens_the_crisis_view_on_the_spiking_topic(app: ComptoirApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_crisis(pilot)
        assert view.topic is not None and view.topic.label == "#PanneFibrelle"
        assert len(view.rows) >= 40
        assert all("#PanneFibrelle" in row.excerpt for row in view.rows)
        assert all(row.status is Status.NEW for row in view.rows)
        ids = [row.id for row in view.rows]
        assert ids == sorted(ids, reverse=True)  # newest first
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)


async def test_select_and_bulk_reply_queues_personalised_signed_replies(
    app: ComptoirApp, demo_store: Store
) -> None:
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        view = await open_crisis(pilot)
        listed = len(view.rows)
        await pilot.press("space", "j", "space", "j", "j", "space")
        chosen = [view.rows[0].id, view.rows[1].id, view.rows[3].id]
        assert sorted(view.selected) == sorted(chosen)
        assert "3 selected of" in shown(app)
        await pilot.press("r")
        await pause(pilot)
        assert isinstance(app.screen, TemplatePicker)
        # Holding statements are listed first.
        assert "holding" in app.screen.shown[0].name.lower() or \
            "attente" in app.screen.shown[0].name.lower()
        await pilot.press(*"holding", "enter")
        await pause(pilot)
        assert isinstance(app.screen, ConfirmPrompt)
        assert "Send 3 replies through the outbox?" in shown(app)
        await pilot.press("enter")
        await settle(pilot)
        view = crisis(app)
        assert len(view.rows) == listed - 3  # answered: out of the crisis list
        assert view.selected == []
        for mention_id in chosen:
            mention = await demo_store.mention(mention_id)
            assert mention is not None and mention.status is Status.PENDING
            card = await demo_store.customer_card(mention.customer_id)
            assert card is not None
            [item] = await demo_store.outbox_for_mention(mention_id)
            assert item.state is OutboxState.QUEUED and item.author == "camille"
            assert item.text.startswith(f"Hi {card.customer.first_name}, we know about")
            assert item.text.endswith("— Camille")
        await pilot.press("escape")
        await settle(pilot)
        queue_ids = {row.id for row in app.screen.queue.window_rows}  # type: ignore[attr-defined]
        assert not queue_ids & set(chosen)  # out of the active queue, as a normal reply


async def test_select_all_with_a_free_field_asked_once(app: ComptoirApp, demo_store: Store) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_crisis(pilot)
        everyone = [row.id for row in view.rows]
        await pilot.press("A")
        assert sorted(view.selected) == sorted(everyone)
        await pilot.press("A")  # again: none
        assert view.selected == []
        await pilot.press("A", "r")
        await pause(pilot)
        await pilot.press(*"panne", "enter")
        await pause(pilot)
        assert isinstance(app.screen, TextPrompt)  # {eta}: typed once for every reply
        await pilot.press(*"14h30", "enter")
        await pause(pilot)
        assert isinstance(app.screen, ConfirmPrompt)
        await pilot.press("enter")
        await settle(pilot)
        assert crisis(app).rows == []
        assert "Nothing on this topic is waiting for a reply." in shown(app)
        counts = await demo_store.outbox_counts()
        assert counts[OutboxState.QUEUED] == len(everyone)
        for mention_id in everyone[:5]:
            mention = await demo_store.mention(mention_id)
            [item] = await demo_store.outbox_for_mention(mention_id)
            assert mention is not None
            assert item.text.startswith(mention.author_handle + " Un incident")
            assert "prochain point à 14h30" in item.text


async def test_bulk_reply_cancelled_at_the_confirmation_queues_nothing(
    app: ComptoirApp, demo_store: Store
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await open_crisis(pilot)
        await pilot.press("A", "r")
        await pause(pilot)
        await pilot.press(*"holding", "enter")
        await pause(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert await demo_store.outbox_counts() == {}
        assert len(crisis(app).selected) == len(crisis(app).rows)


async def test_reply_with_nothing_selected_says_so(app: ComptoirApp) -> None:
    notes = Notes()
    async with app.run_test(size=(120, 40), notifications=True, message_hook=notes) as pilot:
        await open_crisis(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, CrisisScreen)
        assert "Select mentions first" in notes.last()


async def test_P_pins_a_note_every_console_sees(app: ComptoirApp, demo_store: Store,
                                                clock: FrozenClock) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("P")
        await settle(pilot)
        assert isinstance(app.screen, TextPrompt)
        app.screen.query_one(Input).value = "Panne Lyon: holding reply only"
        await pilot.press("enter")
        await settle(pilot)
        assert banner(app).state.note == "Panne Lyon: holding reply only"
        assert "Pinned: Panne Lyon: holding reply only" in shown(app)
        other = await Store.open(demo_store.path)  # a colleague's console on the same file
        try:
            seen = await pinned_note(other)
            assert seen is not None and seen.author == "camille"
            await pin_note(other, "ETA 14h from the NOC", author="yanis", now=NOW + 1)
        finally:
            await other.close()
        clock.advance(6)
        await app.screen.tick()  # type: ignore[attr-defined]
        await settle(pilot)
        assert banner(app).state.note == "ETA 14h from the NOC"
        assert banner(app).state.note_author == "yanis"
        await pilot.press("P")
        await settle(pilot)
        app.screen.query_one(Input).value = ""
        await pilot.press("enter")  # empty: unpin
        await settle(pilot)
        assert banner(app).state.note is None
        assert await pinned_note(demo_store) is None


async def test_w_opens_listening_and_p_promotes(app: ComptoirApp, demo_store: Store) -> None:
    [first, second] = await add_watch_results(demo_store, [
        NewWatchResult("bluesky", "at://listen/1", "nadia.bsky.social", "Nadia B",
                       "Quelqu'un chez Orbicom a aussi la fibre coupée ?", "Orbicom", NOW - 120),
        NewWatchResult("x", "9001", "@gregoire", "Grégoire", "[bold]Fibrelle[/] ou Telivo ?",
                       "Fibrelle", NOW - 30),
    ], now=NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ListeningScreen)
        assert [r.id for r in screen.results] == [second, first]
        shot = shown(app)
        assert "[bold]Fibrelle[/] ou Telivo ?" in shot  # outside text stays inert
        before = (await demo_store.counts()).total
        await pilot.press("j", "p")
        await settle(pilot)
        result = await watch_result(demo_store, first)
        assert result is not None and result.promoted_mention_id is not None
        mention = await demo_store.mention(result.promoted_mention_id)
        assert mention is not None and mention.text.startswith("Quelqu'un chez Orbicom")
        assert mention.status is Status.NEW and "listening" in mention.tags
        events = await demo_store.events(mention.id)
        assert [(e.action, e.actor) for e in events] == [("promote", "camille")]
        assert (await demo_store.counts()).total == before + 1
        assert "queued" in shown(app)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)


async def test_demo_live_channel_feeds_listening_and_the_crisis(
    demo_store: Store, config: Config, clock: FrozenClock
) -> None:
    live = SimulatedChannel(demo_store, clock, seed=7, listening=demo_watch_list())
    app = ComptoirApp(demo_store, config, clock=clock, live=live, heartbeat=None)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert banner(app).state.spike is not None
        screen = app.screen
        for _ in range(90):
            clock.advance(1)
            await screen.tick()  # type: ignore[attr-defined]
        await settle(pilot)
        assert len(await watch_results(demo_store)) >= 2
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, ListeningScreen)
        assert len(app.screen.results) >= 2
        await pilot.press("escape")
        await settle(pilot)
        assert banner(app).state.spike is not None  # the live crisis traffic keeps it going


async def test_the_crisis_view_follows_new_mentions_keeping_the_selection(
    app: ComptoirApp, demo_store: Store
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_crisis(pilot)
        before = len(view.rows)
        await pilot.press("space")
        chosen = view.selected
        await view.follow()  # nothing new: nothing reloaded
        assert len(view.rows) == before
        [new_id] = await demo_store.ingest([NewMention(
            channel="x", remote_id="crisis-late-1", author_handle="@late", author_name="Late",
            text="#PanneFibrelle toujours rien à Bron", created_at=NOW)], now=NOW,
            first_reply_sla=3600)
        await view.follow()
        await pause(pilot)
        assert len(view.rows) == before + 1 and view.rows[0].id == new_id
        assert view.selected == chosen


async def test_a_hostile_cluster_label_stays_text(tmp_path: Path, config: Config,
                                                  clock: FrozenClock) -> None:
    """A copy-paste campaign whose text is markup and escapes: the banner shows it inert."""
    store = await Store.open(tmp_path / "hostile.db")
    try:
        hostile = "[@click=app.quit]Résiliez[/] tous chez Fibrelle maintenant \x1b[2J vite"
        app = ComptoirApp(store, config, clock=clock, heartbeat=None)
        await store.ingest([NewMention(channel="x", remote_id=f"h{i}", author_handle=f"@h{i}",
                                       author_name="H", text=hostile, created_at=NOW - i)
                            for i in range(12)], now=NOW, first_reply_sla=3600)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            text = shown(app)
            assert "Crisis: ≈ [@click=app.quit]Résiliez[/] tous chez Fibrelle" in text
            assert "\x1b" not in app.export_screenshot()
            await pilot.press("C")
            await settle(pilot)
            assert len(crisis(app).rows) == 12
    finally:
        await store.close()


async def test_a_selected_row_is_marked_by_its_glyph_not_only_its_colour(app: ComptoirApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await open_crisis(pilot)
        await pilot.press("space")  # the first row
        await settle(pilot)
        rows = [line for line in shown(app).splitlines() if line.startswith("▊▐")]
        first, second = rows[0], rows[1]
        assert first.startswith("▊▐X▌"), first  # selected
        assert second.startswith("▊▐▌"), second  # not selected: an empty box
