"""Pilot tests for the reply composer: counter, send, escape, hostile text, drafts."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input, Static

from widgets.composer import ReplyComposer, problems


class ComposerApp(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back", id="back")]

    def __init__(self, channel: str = "x") -> None:
        super().__init__()
        self.channel = channel
        self.messages: list[Message] = []
        self.backs = 0

    def compose(self) -> ComposeResult:
        yield ReplyComposer(channel=self.channel)
        yield Input(id="elsewhere")

    def on_mount(self) -> None:
        self.query_one(ReplyComposer).focus_editor()

    @on(ReplyComposer.DraftChanged)
    @on(ReplyComposer.SendRequested)
    def record(self, message: Message) -> None:
        self.messages.append(message)

    def action_back(self) -> None:
        self.backs += 1

    def of(self, kind: type[Message]) -> list:
        return [m for m in self.messages if isinstance(m, kind)]


def footer_text(app: App[None], which: str) -> str:
    return str(app.query_one(f"#composer-{which}", Static).render())


async def test_typing_updates_counter_and_posts_draft() -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        await pilot.press(*"Bonjour")
        await pilot.pause()
        composer = app.query_one(ReplyComposer)
        assert composer.text == "Bonjour"
        assert footer_text(app, "counter") == "7/280"
        drafts = app.of(ReplyComposer.DraftChanged)
        assert drafts and drafts[-1].text == "Bonjour"


async def test_counter_warns_then_errors() -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        composer = app.query_one(ReplyComposer)
        counter = app.query_one("#composer-counter", Static)
        composer.load("a" * 270)
        await pilot.pause()
        assert counter.has_class("-warn") and not counter.has_class("-over")
        await pilot.press("end", *"bbbbbbbbbbbb")
        await pilot.pause()
        assert footer_text(app, "counter") == "282/280"
        assert counter.has_class("-over")
        assert composer.length.over


async def test_channel_change_changes_rule() -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        composer = app.query_one(ReplyComposer)
        composer.load("漢字")
        await pilot.pause()
        assert footer_text(app, "counter") == "4/280"
        composer.channel = "bluesky"
        await pilot.pause()
        assert footer_text(app, "counter") == "2/300"


async def test_ctrl_s_posts_send_requested_with_text() -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        await pilot.press(*"Merci", "enter", *"Marc")
        await pilot.press("ctrl+s")
        await pilot.pause()
        sends = app.of(ReplyComposer.SendRequested)
        assert [m.text for m in sends] == ["Merci\nMarc"]
        # ctrl+s did not reach the text area as text.
        assert app.query_one(ReplyComposer).text == "Merci\nMarc"


async def test_escape_is_not_trapped() -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        await pilot.press(*"hello", "escape")
        await pilot.pause()
        # The text area let escape through to the app's `back` binding, text untouched.
        assert app.backs == 1
        assert app.focused is app.query_one(ReplyComposer).text_area
        assert app.query_one(ReplyComposer).text == "hello"


async def test_tab_leaves_the_editor() -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        await pilot.press("tab")
        await pilot.pause()
        assert app.focused is app.query_one("#elsewhere", Input)
        assert app.query_one(ReplyComposer).text == ""


async def test_load_posts_no_draft_changed_and_places_cursor() -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        composer = app.query_one(ReplyComposer)
        composer.load("Commande {order_id} reçue.", placeholders=("order_id",))
        await pilot.pause()
        assert app.of(ReplyComposer.DraftChanged) == []
        assert composer.unfilled == ("order_id",)
        assert "{order_id}" in footer_text(app, "todo")
        # The first field is selected, so typing replaces it.
        assert composer.text_area.selection.start == (0, len("Commande "))
        assert composer.text_area.selection.end == (0, len("Commande {order_id}"))
        await pilot.press(*"A-42")
        await pilot.pause()
        assert composer.text == "Commande A-42 reçue."
        assert composer.unfilled == ()
        assert footer_text(app, "todo") == ""
        assert app.of(ReplyComposer.DraftChanged)[-1].text == "Commande A-42 reçue."


async def test_hostile_text_loaded_renders_literally() -> None:
    app = ComposerApp()
    hostile = "[bold red]pwn[/] [@click=app.quit]x[/] \x1b]52;c;ZXZpbA==\x07\x1b[2Jok \u202egnp.exe"
    async with app.run_test() as pilot:
        composer = app.query_one(ReplyComposer)
        composer.load(hostile)
        await pilot.pause()
        text = composer.text
        assert "\x1b" not in text and "\x07" not in text
        assert "[bold red]pwn[/] [@click=app.quit]x[/]" in text
        assert "<U+202E>" in text
        # What is drawn is the same characters, not styled markup.
        lines = composer.text_area.render_line(0)
        drawn = "".join(segment.text for segment in lines)
        assert "[bold red]pwn[/]" in drawn
        assert app.is_running


async def test_paste_is_sanitised() -> None:
    from textual import events

    app = ComposerApp()
    async with app.run_test() as pilot:
        composer = app.query_one(ReplyComposer)
        composer.text_area.post_message(events.Paste("a\x1b[2Jb\x07c\x9b31m\nd"))
        await pilot.pause()
        assert composer.text == "abc\nd"


def test_problems_helper() -> None:
    assert problems("x", "   ") == ["the reply is empty"]
    assert problems("x", "n° {order_id}") == ["fill in {order_id}"]
    assert problems("x", "n° {order_id}", ()) == []
    assert problems("x", "a" * 281) == ["too long for x: 281/280"]
    assert problems("bluesky", "ok") == []


async def test_focus_goes_to_the_editor_and_load_before_mount() -> None:
    composer = ReplyComposer(channel="bluesky")
    composer.load("brouillon {date}", placeholders=("date",))
    assert composer.text == "brouillon {date}"

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield Input(id="first")
            yield composer

    app = Host()
    async with app.run_test() as pilot:
        composer.focus()
        await pilot.pause()
        assert app.focused is composer.text_area
        assert composer.text == "brouillon {date}"
        assert composer.unfilled == ("date",)


async def test_ctrl_f_selects_each_field_in_turn() -> None:
    app = ComposerApp()
    async with app.run_test() as pilot:
        composer = app.query_one(ReplyComposer)
        composer.load("Commande {order_id}, délai {delay}.", placeholders=("order_id", "delay"))
        composer.focus_editor()
        await pilot.pause()
        await pilot.press(*"A1")
        await pilot.press("ctrl+f")
        await pilot.press(*"2 jours")
        await pilot.pause()
        assert composer.text == "Commande A1, délai 2 jours."
        assert composer.unfilled == ()
