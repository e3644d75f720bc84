"""The crisis banner above the queue: a spiking topic, and the note pinned for every agent.

It shows nothing (and takes no line) while there is no spike and no pinned note. The topic label
("#PanneFibrelle", or an excerpt for a cluster of near-identical posts) and the pinned note are
outside or agent-typed text: both go through the untrusted-text helper.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from widgets.text import untrusted


@dataclass(frozen=True, slots=True)
class BannerState:
    spike: str | None = None  # "#PanneFibrelle 48 mentions in 15 min (baseline 2)"
    more: int = 0  # other topics spiking at the same time
    key: str = "C"  # how to open the crisis view (after remaps)
    note: str | None = None  # the pinned crisis note
    note_author: str | None = None
    note_key: str = "P"

    @property
    def empty(self) -> bool:
        return self.spike is None and self.note is None


class CrisisBanner(Widget):
    DEFAULT_CSS = """
    CrisisBanner { height: auto; display: none; padding: 0 1; }
    CrisisBanner.-visible { display: block; }
    CrisisBanner.-spike { background: $error 25%; }
    CrisisBanner.-note-only { background: $warning 20%; }
    """

    state: reactive[BannerState] = reactive(BannerState, layout=True)

    def watch_state(self, state: BannerState) -> None:
        self.set_class(not state.empty, "-visible")
        self.set_class(state.spike is not None, "-spike")
        self.set_class(state.spike is None and state.note is not None, "-note-only")

    def render(self) -> Content:
        state = self.state
        lines: list[Content] = []
        if state.spike is not None:
            parts = [Content.styled("Crisis: ", "bold $error"),
                     untrusted(state.spike, max_chars=90)]
            if state.more:
                parts.append(Content(f" (+{state.more} more)"))
            parts.append(Content.styled(f"  {state.key}: crisis view", "$text-muted"))
            lines.append(Content.assemble(*parts))
        if state.note is not None:
            lines.append(Content.assemble(
                Content.styled("Pinned: ", "bold $warning"),
                untrusted(state.note, max_chars=200),
                Content.styled(" — ", "$text-muted"),
                untrusted(state.note_author or "", max_chars=32, style="$text-muted"),
                Content.styled(f"  {state.note_key}: edit or unpin", "$text-muted"),
            ))
        return Content("\n").join(lines)
