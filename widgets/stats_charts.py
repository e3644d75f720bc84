"""Small charts for the stats screen: labelled horizontal bars and a volume sparkline.

Labels can come from the data (policy names, agent names): they are rendered only through
widgets.text.untrusted, and every line is a Content built by assembly, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Sparkline, Static

from widgets.text import untrusted

BAR_WIDTH = 30
FULL = "█"
EMPTY = "░"


@dataclass(frozen=True, slots=True)
class Bar:
    label: str  # outside text allowed
    value: float  # the bar's length, as a share of `scale` of BarChart
    text: str  # what is printed after the bar (our own formatting: counts, percentages)
    style: str = "$primary"


class BarChart(Static):
    """One line per bar: label, bar, figure. `scale` is the value of a full bar (None: the
    largest value)."""

    DEFAULT_CSS = """
    BarChart { height: auto; }
    """

    bars: reactive[tuple[Bar, ...]] = reactive((), always_update=True)

    def __init__(self, *, scale: float | None = None, label_width: int = 26,
                 empty: str = "nothing yet", id: str | None = None) -> None:
        super().__init__("", id=id)
        self.scale = scale
        self.label_width = label_width
        self.empty = empty

    def watch_bars(self, bars: tuple[Bar, ...]) -> None:
        self.update(self.render_bars(bars))

    def render_bars(self, bars: Sequence[Bar]) -> Content:
        if not bars:
            return Content.styled(self.empty, "$text-muted")
        top = self.scale if self.scale is not None else max(b.value for b in bars) or 1
        lines: list[Content] = []
        for bar in bars:
            filled = round(BAR_WIDTH * min(max(bar.value / top, 0.0), 1.0)) if top else 0
            label = untrusted(bar.label).truncate(self.label_width - 1, ellipsis=True,
                                                  pad=True)
            lines.append(Content.assemble(
                label.pad_right(1),
                (FULL * filled, bar.style),
                (EMPTY * (BAR_WIDTH - filled), "$text-muted"),
                " ",
                (bar.text, "bold"),
            ))
        return Content("\n").join(lines)


class VolumeChart(Vertical):
    """Mentions per day as a sparkline, with the first and last day and the peak."""

    DEFAULT_CSS = """
    VolumeChart { height: auto; }
    VolumeChart Sparkline { height: 3; width: 1fr; margin: 0 0; }
    VolumeChart #volume-caption { color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        yield Sparkline([], summary_function=max, id="volume-spark")
        yield Static("", id="volume-caption")

    def show(self, per_day: Sequence[int], first_day: str, last_day: str) -> None:
        self.query_one(Sparkline).data = list(per_day) or [0]
        peak = max(per_day, default=0)
        self.query_one("#volume-caption", Static).update(
            Content(f"{first_day} … {last_day}   {len(per_day)} days, peak {peak:,} a day")
        )
