"""The `?` screen: every binding with its current key (after the user's remaps)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from console.actions import AgentAction


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 100; max-width: 98%; height: auto; max-height: 92%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    HelpScreen #help-title { text-style: bold; color: $primary; }
    """
    BINDINGS = [
        Binding("escape,question_mark,q", "close", "Close", show=False),
        Binding("j,down", "scroll_down", show=False),
        Binding("k,up", "scroll_up", show=False),
    ]

    def __init__(self, actions: Sequence[AgentAction], keys: Mapping[str, str]) -> None:
        super().__init__()
        self._actions = actions
        self._keys = keys  # binding id -> keys as the user sees them

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("Comptoir keys  (escape closes)", id="help-title")
            for action in self._actions:
                keys = self._keys.get(action.id, action.keys)
                yield Static(
                    Content.assemble(
                        (f"{keys:<14}", "bold $accent"),
                        (f"{action.label:<11}", "bold"),
                        f"{action.help:<52}",
                        (f"[{action.id}]", "$text-muted"),
                    ),
                    classes="help-line",
                )

    def action_close(self) -> None:
        self.dismiss(None)

    def action_scroll_down(self) -> None:
        self.query_one(VerticalScroll).scroll_down()

    def action_scroll_up(self) -> None:
        self.query_one(VerticalScroll).scroll_up()
