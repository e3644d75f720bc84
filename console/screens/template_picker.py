"""Pick a reply template by typing a few letters of it.

A modal with a search box over an option list: typing filters live (fuzzy, on name then language
tag and body), up/down move through the results without leaving the search box, enter picks the
highlighted template, escape closes with None. Rows are `Content` built from the untrusted-text
helper: template bodies are written by people and will carry customer data once filled, so they
never reach the screen as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Final

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from console.fuzzy import fuzzy_filter
from db.models import Template
from widgets.text import untrusted

NAME_WIDTH: Final = 28
PREVIEW_CHARS: Final = 120


def template_key(template: Template) -> tuple[str, str]:
    """What the search matches: the name first, then the language tag and the body."""
    return template.name, f"{template.lang} {template.body}"


def template_row(template: Template) -> Content:
    """One option: `FR  Name of template          Body preview…`, all outside text inert."""
    lang = Content.styled(f"{template.lang.upper()[:2]:<2}", "bold $accent")
    # One cell is kept for the ellipsis `clean` adds to a cut name.
    name = untrusted(template.name, max_chars=NAME_WIDTH - 1).truncate(NAME_WIDTH, pad=True)
    preview = untrusted(template.body, max_chars=PREVIEW_CHARS, style="$text-muted")
    return Content.assemble(lang, "  ", name, "  ", preview)


class TemplatePicker(ModalScreen[Template | None]):
    """Modal template chooser; dismisses with the chosen `Template`, or None on escape."""

    DEFAULT_CSS = """
    TemplatePicker {
        align: center middle;
        background: $background 60%;
    }
    TemplatePicker > #picker {
        width: 90%;
        max-width: 110;
        height: auto;
        max-height: 80%;
        border: round $primary;
        border-title-color: $primary;
        background: $surface;
        padding: 0 1;
    }
    TemplatePicker Input {
        border: tall $primary 30%;
        &:focus { border: tall $primary; }
    }
    TemplatePicker OptionList {
        height: auto;
        max-height: 20;
        border: none;
        background: $surface;
        /* One row per template: the preview is a hint, the name and language are what count. */
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    TemplatePicker #picker-empty {
        color: $text-muted;
        padding: 0 1;
        display: none;
    }
    TemplatePicker #picker-empty.-visible { display: block; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="back"),
        # Priority so the search box keeps focus while these move the highlight.
        Binding("down", "move(1)", "Next", id="down", show=False, priority=True),
        Binding("up", "move(-1)", "Previous", id="up", show=False, priority=True),
        Binding("pagedown", "move(10)", "Page down", id="page_down", show=False, priority=True),
        Binding("pageup", "move(-10)", "Page up", id="page_up", show=False, priority=True),
    ]

    def __init__(
        self,
        templates: Sequence[Template],
        *,
        prefer_lang: str | None = None,
        query: str = "",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """`prefer_lang` ("fr"/"en", say the mention's language) lists that language first
        when nothing is typed, and wins ties afterwards."""
        super().__init__(name=name, id=id, classes=classes)
        if prefer_lang:
            # A stable sort keeps the store's order inside each language.
            templates = sorted(templates, key=lambda t: t.lang != prefer_lang)
        self._templates: list[Template] = list(templates)
        self._shown: list[Template] = []
        self._initial_query = query

    def compose(self) -> ComposeResult:
        with Vertical(id="picker") as box:
            box.border_title = "Templates"
            yield Input(
                self._initial_query,
                placeholder="Search templates (name, FR/EN, text)…",
                id="picker-search",
            )
            yield OptionList(id="picker-options")
            yield Static("No template matches.", id="picker-empty", markup=False)

    def on_mount(self) -> None:
        self._apply_filter(self._initial_query)
        self.query_one("#picker-search", Input).focus()

    @property
    def shown(self) -> list[Template]:
        """The templates listed, in display order (for tests and the screen)."""
        return list(self._shown)

    @property
    def highlighted(self) -> Template | None:
        index = self.query_one("#picker-options", OptionList).highlighted
        if index is None or not 0 <= index < len(self._shown):
            return None
        return self._shown[index]

    def _apply_filter(self, query: str) -> None:
        self._shown = fuzzy_filter(query, self._templates, template_key)
        options = self.query_one("#picker-options", OptionList)
        options.set_options(Option(template_row(t), id=str(i)) for i, t in enumerate(self._shown))
        if self._shown:
            options.highlighted = 0
        self.query_one("#picker-empty").set_class(not self._shown, "-visible")

    @on(Input.Changed, "#picker-search")
    def _search_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._apply_filter(event.value)

    @on(Input.Submitted, "#picker-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        chosen = self.highlighted
        if chosen is not None:
            self.dismiss(chosen)

    @on(OptionList.OptionSelected, "#picker-options")
    def _option_selected(self, event: OptionList.OptionSelected) -> None:
        # A click (or enter when the list itself has focus).
        event.stop()
        if 0 <= event.option_index < len(self._shown):
            self.dismiss(self._shown[event.option_index])

    def action_move(self, delta: int) -> None:
        options = self.query_one("#picker-options", OptionList)
        if not self._shown:
            return
        current = options.highlighted if options.highlighted is not None else -1
        options.highlighted = max(0, min(len(self._shown) - 1, current + delta))

    def action_cancel(self) -> None:
        self.dismiss(None)
