"""Bare Textual baselines for the benchmarks (not part of Comptoir).

    python bench/bare_app.py hello   # a Static "Hello" and a Footer
    python bench/bare_app.py list    # one focused line widget; j/k move a highlighted line,
                                     # pageup/pagedown move a page, q quits

The `list` app is the key-latency baseline: like Comptoir's queue it is a Line-API widget
(ScrollView + render_line) over many rows, so one cursor move repaints two lines and a page
move repaints the visible window. It uses no database and no layout beyond one widget and a
Footer, so it is the floor that Textual itself costs per key.
"""

from __future__ import annotations

import sys

from rich.segment import Segment
from rich.style import Style
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Footer, Static

ROWS = 10_000
CHANNELS = ("x", "mastodon", "bluesky")


class HelloApp(App[None]):
    BINDINGS = [Binding("q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield Static("Hello")
        yield Footer()


def _row_text(index: int) -> str:
    # Roughly the shape of a queue row: SLA, channel, handle, an excerpt of the text.
    minutes = (index * 7) % (24 * 60)
    return (
        f"{minutes // 60:02d}:{minutes % 60:02d}  {CHANNELS[index % 3]:<8}  "
        f"@customer{index:07d}  Bonjour, ma commande n°{index:08d} n'est toujours pas "
        f"arrivée, pouvez-vous vérifier ?"
    )


class LineList(ScrollView, can_focus=True):
    """A highlighted line that j/k move; only the lines that change are repainted."""

    BINDINGS = [
        Binding("j,down", "down", "Down"),
        Binding("k,up", "up", "Up"),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("g,home", "first", "First", show=False),
    ]

    NORMAL = Style(color="#d0d0d0", bgcolor="#1e1e1e")
    CURSOR = Style(color="#ffffff", bgcolor="#005f87", bold=True)

    def __init__(self) -> None:
        super().__init__()
        self.cursor = 0
        self.virtual_size = Size(120, ROWS)

    def render_line(self, y: int) -> Strip:
        _scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        if index >= ROWS:
            return Strip.blank(width, self.NORMAL)
        style = self.CURSOR if index == self.cursor else self.NORMAL
        text = _row_text(index)[:width].ljust(width)
        return Strip([Segment(text, style)], width)

    def _move(self, new: int) -> None:
        new = max(0, min(ROWS - 1, new))
        if new == self.cursor:
            return
        old, self.cursor = self.cursor, new
        top = round(self.scroll_offset.y)
        height = self.scrollable_content_region.height
        if new < top:
            self.scroll_to(y=new, animate=False)
        elif new >= top + height:
            self.scroll_to(y=new - height + 1, animate=False)
        else:
            self.refresh_line(old)
            self.refresh_line(new)

    def action_down(self) -> None:
        self._move(self.cursor + 1)

    def action_up(self) -> None:
        self._move(self.cursor - 1)

    def action_first(self) -> None:
        self.cursor = 0
        self.scroll_to(y=0, animate=False)
        self.refresh()

    def action_page_down(self) -> None:
        height = self.scrollable_content_region.height
        self.cursor = min(ROWS - 1, self.cursor + height)
        self.scroll_to(y=round(self.scroll_offset.y) + height, animate=False)
        self.refresh()

    def action_page_up(self) -> None:
        height = self.scrollable_content_region.height
        self.cursor = max(0, self.cursor - height)
        self.scroll_to(y=round(self.scroll_offset.y) - height, animate=False)
        self.refresh()


class ListApp(App[None]):
    BINDINGS = [Binding("q", "quit", "Quit")]
    CSS = "LineList { height: 1fr; }"

    def compose(self) -> ComposeResult:
        yield LineList()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(LineList).focus()


APPS = {"hello": HelloApp, "list": ListApp}

if __name__ == "__main__":
    name = sys.argv[1] if len(sys.argv) > 1 else "hello"
    APPS[name]().run()
