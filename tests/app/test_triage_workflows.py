"""Triage on the desk, end to end: the `x` override, the spam lane and delight views (filter
prompt and palette), the Triage section of the detail pane, and template actions on send."""

from __future__ import annotations

from textual.widgets import Select

from console.app import ComptoirApp
from console.screens.template_picker import TemplatePicker
from db.models import QueueFilter, Status
from db.store import Store
from db.triage import TRIAGE_MAIN, TRIAGE_SPAM
from widgets.status_bar import StatusBar
from widgets.triage_section import TriageSection

from .test_workflows import Notes, current_id, main, settle


async def choose_view(app: ComptoirApp, pilot: object, view: str) -> None:
    await pilot.press("f")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    app.screen.query_one("#f-view", Select).value = view
    await pilot.press("ctrl+s")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]


async def test_x_moves_a_mention_to_the_spam_lane_and_back(
    app: ComptoirApp, demo_store: Store
) -> None:
    notes = Notes()
    async with app.run_test(size=(120, 40), notifications=True, message_hook=notes) as pilot:
        await settle(pilot)
        mention_id = current_id(app)
        todo = main(app).query_one(StatusBar).status.active
        await pilot.press("x")
        await settle(pilot)
        mention = await demo_store.mention(mention_id)
        assert mention is not None and mention.triage_lane == TRIAGE_SPAM
        assert mention_id not in [r.id for r in main(app).queue.window_rows]
        assert main(app).query_one(StatusBar).status.active == todo - 1
        assert "spam lane" in notes.last()
        # The spam lane shows it; x there says "not spam" and sends it back.
        await choose_view(app, pilot, "spam")
        assert main(app).filter == QueueFilter(triage="spam")
        assert await main(app).show_mention(mention_id)
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        mention = await demo_store.mention(mention_id)
        assert mention is not None and mention.triage_lane == TRIAGE_MAIN
        assert mention_id not in [r.id for r in main(app).queue.window_rows]
        log = [(e.actor, e.action, e.detail) for e in await demo_store.events(mention_id)]
        assert log[-2:] == [("camille", "triage", "main -> spam"),
                            ("camille", "triage", "spam -> main")]


async def test_spam_lane_holds_the_spam_and_explains_it(
    app: ComptoirApp, demo_store: Store
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        main_ids = {r.id for r in main(app).queue.window_rows}
        await choose_view(app, pilot, "spam")
        rows = main(app).queue.window_rows
        counts = await demo_store.counts()
        assert len(rows) == counts.spam_active >= 20
        assert not main_ids & {r.id for r in rows}
        for row in rows:
            mention = await demo_store.mention(row.id)
            assert mention is not None and mention.triage_lane == TRIAGE_SPAM
        # The detail pane says why.
        section = main(app).query_one(TriageSection)
        text = section.render().plain
        assert "spam lane" in text and "likely " in text, text
        assert main(app).query_one(StatusBar).status.view.startswith("spam")
        # Escape goes back to the main queue.
        await pilot.press("escape")
        await settle(pilot)
        assert main(app).filter == QueueFilter()


async def test_delight_view_from_the_palette(app: ComptoirApp, demo_store: Store) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"View: delight")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert main(app).filter == QueueFilter(tag="delight")
        rows = main(app).queue.window_rows
        assert len(rows) >= 20 and all("delight" in r.tags for r in rows)
        text = main(app).query_one(TriageSection).render().plain
        assert "delight: positive message" in text, text


async def test_delight_view_from_the_filter_prompt(app: ComptoirApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await choose_view(app, pilot, "delight")
        assert main(app).filter == QueueFilter(tag="delight")
        await pilot.press("f")
        await settle(pilot)
        assert app.screen.query_one("#f-view", Select).value == "delight"


async def test_template_actions_apply_on_send(app: ComptoirApp, demo_store: Store) -> None:
    await demo_store.add_template(
        "Clôture remboursement", "fr",
        "actions: tag=refund tag=closed status=resolved priority=7\n"
        "Bonjour {customer.first_name}, le remboursement est parti. {agent.signature}",
    )
    notes = Notes()
    async with app.run_test(size=(120, 40), notifications=True, message_hook=notes) as pilot:
        await settle(pilot)
        mention_id = current_id(app)
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TemplatePicker)
        await pilot.press(*"cloture")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        composer = main(app).composer
        assert composer.text.startswith("Bonjour ") and "actions:" not in composer.text
        assert any("On send: tag #refund, tag #closed, status resolved, priority 7" in n
                   for n in notes.messages), notes.messages
        await pilot.press("ctrl+s")
        await settle(pilot)
        mention = await demo_store.mention(mention_id)
        assert mention is not None
        assert mention.status is Status.RESOLVED and mention.priority == 7
        assert {"refund", "closed"} <= set(mention.tags)
        [reply] = await demo_store.outbox_for_mention(mention_id)
        assert "actions:" not in reply.text
        log = [(e.action, e.detail) for e in await demo_store.events(mention_id)]
        assert log[0][0] == "reply"
        assert [action for action, _ in log[1:]] == ["tags", "priority", "status"]
        assert log[1][1].startswith("template Clôture remboursement: ")
        assert log[3][1] == "pending -> resolved"
        assert "template actions" in notes.last()


async def test_a_broken_actions_line_is_refused(app: ComptoirApp, demo_store: Store) -> None:
    await demo_store.add_template("Cassé", "fr", "actions: status=later\nBonjour")
    notes = Notes()
    async with app.run_test(size=(120, 40), notifications=True, message_hook=notes) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        await pilot.press(*"casse")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert main(app).composer.text == ""
        assert "not used" in notes.last() and "status=later" in notes.last()


async def test_filter_prompt_with_the_view_fits_80x24(app: ComptoirApp) -> None:
    from textual.containers import Vertical

    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        box = app.screen.query_one(Vertical).region
        for selector in ("#f-view", "#f-status", "#f-channel", "#f-assignee", "#f-tag",
                         ".prompt-hint"):
            region = app.screen.query_one(selector).region
            assert box.y < region.y and region.bottom < box.bottom, (selector, region, box)
