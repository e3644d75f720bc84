"""Who did what to the selected mention, and when: the append-only log of agent actions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from textual.content import Content

from db.models import Event
from widgets.mention_detail import local_time
from widgets.section import DetailSection
from widgets.text import untrusted

# The newest actions matter; an old mention's full history stays in the database.
MAX_EVENTS: Final = 15


def event_line(event: Event) -> Content:
    return Content.assemble(
        (local_time(event.at) + " ", "$text-muted"),
        untrusted(event.actor, max_chars=24, style="bold"),
        " ",
        untrusted(event.action, max_chars=24),
        " ",
        # Details can quote tags an agent copied from a post: outside text.
        untrusted(event.detail, max_chars=80, style="$text-muted"),
    )


class ActivityView(DetailSection):
    """The mention's event log, newest first. Call `show(events)`."""

    BORDER_TITLE = "Activity"
    EMPTY_TEXT = "No agent action yet."

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.events: tuple[Event, ...] = ()

    def show(self, events: Sequence[Event]) -> None:
        newest = sorted(events, key=lambda e: (e.at, e.id), reverse=True)
        self.events = tuple(newest)
        if not newest:
            self.set_content(None)
            return
        lines = [event_line(event) for event in newest[:MAX_EVENTS]]
        if len(newest) > MAX_EVENTS:
            lines.append(Content.styled(f"… {len(newest) - MAX_EVENTS} earlier", "$text-muted"))
        self.set_content(Content("\n").join(lines))
