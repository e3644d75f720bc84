"""The template picker (Pilot) and the fuzzy filter behind it."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Label, OptionList

from console.fuzzy import fuzzy_filter, score
from console.screens.template_picker import TemplatePicker, template_key, template_row
from db.models import Template

TEMPLATES = [
    Template(1, "Accueil", "fr", "Bonjour {customer.first_name}, merci de votre message."),
    Template(2, "Retard de livraison", "fr", "Votre colis {order_id} a du retard, désolés."),
    Template(3, "Remboursement", "fr", "Le remboursement de {order_id} est en cours."),
    Template(4, "Refund", "en", "Your refund for {order_id} is on its way."),
    Template(5, "Thanks", "en", "Thanks {customer.first_name}!"),
    Template(6, "[bold]Piège[/] [@click=app.quit]", "fr", "[red]x[/] \x1b]0;t\x07 fin"),
]


class PickerApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.results: list[Template | None] = []

    def compose(self) -> ComposeResult:
        yield Label("queue")

    def open_picker(self, **kwargs: object) -> TemplatePicker:
        picker = TemplatePicker(TEMPLATES, **kwargs)  # type: ignore[arg-type]
        self.push_screen(picker, self.results.append)
        return picker


async def test_typing_filters_and_enter_picks_refund() -> None:
    app = PickerApp()
    async with app.run_test() as pilot:
        picker = app.open_picker()
        await pilot.pause()
        assert len(picker.shown) == len(TEMPLATES)
        await pilot.press(*"remb")
        await pilot.pause()
        assert picker.shown[0].name == "Remboursement"
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == [TEMPLATES[2]]
        assert app.screen is not picker


async def test_escape_dismisses_with_none() -> None:
    app = PickerApp()
    async with app.run_test() as pilot:
        app.open_picker()
        await pilot.pause()
        await pilot.press(*"ref", "escape")
        await pilot.pause()
        assert app.results == [None]


async def test_down_moves_highlight_from_search_box() -> None:
    app = PickerApp()
    async with app.run_test() as pilot:
        picker = app.open_picker()
        await pilot.pause()
        await pilot.press("down", "down", "up", "down")
        await pilot.pause()
        assert picker.highlighted == TEMPLATES[2]
        assert isinstance(app.focused, type(picker.query_one("#picker-search")))
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == [TEMPLATES[2]]


async def test_no_match_shows_message_and_enter_does_nothing() -> None:
    app = PickerApp()
    async with app.run_test() as pilot:
        picker = app.open_picker()
        await pilot.pause()
        await pilot.press(*"zzqqxxw")
        await pilot.pause()
        assert picker.shown == []
        assert picker.query_one("#picker-empty").has_class("-visible")
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == []
        assert app.screen is picker


async def test_prefer_lang_lists_it_first() -> None:
    app = PickerApp()
    async with app.run_test() as pilot:
        picker = app.open_picker(prefer_lang="en")
        await pilot.pause()
        assert [t.lang for t in picker.shown[:2]] == ["en", "en"]


async def test_hostile_template_renders_literally() -> None:
    app = PickerApp()
    async with app.run_test() as pilot:
        picker = app.open_picker()
        await pilot.pause()
        options = picker.query_one(OptionList)
        prompt = options.get_option_at_index(5).prompt
        plain = prompt.plain  # a Content: no markup was parsed
        assert "[bold]Piège[/]" in plain
        assert "[@click=app" in plain and "[red]x[/]" in plain
        assert "\x1b" not in plain and "\x07" not in plain
        assert app.is_running


def test_template_row_shows_lang_column() -> None:
    row = template_row(TEMPLATES[3])
    assert row.plain.startswith("EN  Refund")


def test_fuzzy_empty_query_keeps_order() -> None:
    assert fuzzy_filter("", TEMPLATES, template_key) == TEMPLATES
    assert fuzzy_filter("   ", TEMPLATES, template_key) == TEMPLATES


def test_fuzzy_prefix_and_typo() -> None:
    assert fuzzy_filter("remb", TEMPLATES, template_key)[0].id == 3
    assert fuzzy_filter("rembourssement", TEMPLATES, template_key)[0].id == 3
    assert fuzzy_filter("livraison retard", TEMPLATES, template_key)[0].id == 2


def test_fuzzy_matches_body_below_name() -> None:
    # "colis" is only in a body: found, but a name hit would rank above it.
    assert fuzzy_filter("colis", TEMPLATES, template_key)[0].id == 2
    assert score("merci", ("Merci", "")) > score("merci", ("Accueil", "merci de votre message"))


def test_fuzzy_drops_noise_and_is_stable() -> None:
    items = ["alpha", "beta", "gamma"]
    assert fuzzy_filter("zzzz", items, str) == []
    assert fuzzy_filter("a", ["ab", "ba", "ca"], str)[0] == "ab"
    same = ["x one", "x two"]
    assert fuzzy_filter("x", same, str) == same
