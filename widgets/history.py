"""The customer's history across channels, newest first, one line per mention or reply.

Lines are grouped under one date line per local day; each line is
`HH:MM channel kind state excerpt`, assembled from `Content` pieces; excerpts pass
through `widgets.text.untrusted`. Lines never wrap (CSS nowrap + ellipsis) so the view stays one
row per item in a narrow pane, and at most MAX_ITEMS lines are built whatever the caller passes.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Final

from textual.content import Content

from db.models import HistoryItem
from widgets.mention_detail import local_time
from widgets.section import DetailSection
from widgets.text import clean, untrusted

MAX_ITEMS: Final = 50
EXCERPT_CHARS: Final = 160

# Short channel names: the pane is 45-60 columns and the excerpt needs the room.
_CHANNEL_SHORT: Final = {"x": "X", "mastodon": "Mast", "bluesky": "Bsky"}

# Theme variables only, so every theme (including 16-colour lowbw) decides the actual colours.
STATE_STYLES: Final[dict[str, str]] = {
    "new": "bold $text-accent",
    "open": "$text-accent",
    "pending": "$text-warning",
    "snoozed": "$text-muted",
    "resolved": "$text-success",
    "draft": "$text-muted",
    "queued": "$text-muted",
    "sending": "$text-primary",
    "sent": "$text-success",
    "failed": "bold $text-error",
    "unknown": "bold $text-warning",
}

KIND_LABELS: Final = {"reply": "→ reply", "mention": "← mention"}


def history_line(item: HistoryItem, *, current: bool) -> Content:
    """One history row, `HH:MM channel kind state excerpt`; `current` marks the mention on screen.

    The date is not repeated on every row: `day_header` lines group the rows by local day, which
    leaves the excerpt some room in a 45-column pane.
    """
    channel = _CHANNEL_SHORT.get(item.channel) or clean(item.channel, max_chars=4)
    # Loose caps: these are short internal words; the cap only guards a corrupt row.
    kind = KIND_LABELS.get(item.kind) or clean(item.kind, max_chars=12)
    state = clean(item.state, max_chars=12)
    line = Content.assemble(
        ("▶" if current else " ", "bold $text-accent"),
        (local_time(item.at, "%H:%M"), "$text-muted"),
        " ",
        channel.ljust(4),
        " ",
        (kind.ljust(9), "$text-secondary" if item.kind == "reply" else ""),
        " ",
        (state.ljust(8), STATE_STYLES.get(item.state, "")),
        " ",
        untrusted(item.text, max_chars=EXCERPT_CHARS),
    )
    return line.stylize("bold") if current else line


def day_header(at: float) -> Content:
    return Content.styled(local_time(at, "%Y-%m-%d"), "bold $text-muted")


class HistoryView(DetailSection):
    """Call `show(items, current_mention_id)`; an empty sequence shows the empty state."""

    BORDER_TITLE = "History"
    EMPTY_TEXT = "No history."

    DEFAULT_CSS = """
    HistoryView { text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.items: tuple[HistoryItem, ...] = ()
        self.current_mention_id: int | None = None

    def show(self, items: Sequence[HistoryItem], current_mention_id: int | None) -> None:
        # Order here rather than trust the caller's; ties broken by id for stable output, and
        # nlargest keeps the work bounded if a caller ever passes more than it should.
        total = len(items)
        self.items = tuple(heapq.nlargest(MAX_ITEMS, items, key=lambda i: (i.at, i.id)))
        self.current_mention_id = current_mention_id
        if not self.items:
            self.set_content(None)
            return
        lines: list[Content] = []
        day = ""
        for item in self.items:
            item_day = local_time(item.at, "%Y-%m-%d")
            if item_day != day:
                day = item_day
                lines.append(day_header(item.at))
            lines.append(history_line(item, current=item.mention_id == current_mention_id))
        if total > MAX_ITEMS:
            lines.append(Content.styled(f" … {total - MAX_ITEMS} older not shown", "$text-muted"))
        self.set_content(Content("\n").join(lines))
