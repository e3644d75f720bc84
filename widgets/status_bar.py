"""The one-line bar above the queue: what the agent is looking at and how the desk is doing."""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from widgets.text import clean


@dataclass(frozen=True, slots=True)
class DeskStatus:
    view: str = "active"
    shown: int | None = None  # mentions in this view when known from counters
    active: int = 0
    breached: int = 0
    outbox_pending: int = 0
    outbox_failed: int = 0
    channel_states: tuple[str, ...] = field(default_factory=tuple)  # e.g. "demo: live"
    sla_stale: bool = False  # no recent sync: the queue may be missing mentions


class StatusBar(Widget):
    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $text; padding: 0 1; }
    """

    status: reactive[DeskStatus] = reactive(DeskStatus, layout=False)

    def render(self) -> Content:
        status = self.status
        parts: list[Content] = [
            Content.styled("Comptoir", "bold $primary"),
            Content("  "),
            # The view description can carry a search the agent typed or a tag from a mention.
            Content.styled(clean(status.view, max_chars=40), "$accent"),
            Content(f"  {status.active} to do"),
        ]
        if status.breached:
            parts.append(Content.styled(f"  {status.breached} breached", "bold $error"))
        if status.outbox_pending:
            parts.append(Content(f"  outbox {status.outbox_pending}"))
        if status.outbox_failed:
            parts.append(Content.styled(f"  {status.outbox_failed} failed", "bold $error"))
        if status.sla_stale:
            parts.append(Content.styled("  SLA~ sync stale", "bold $warning"))
        for state in status.channel_states:
            parts.append(Content("  "))
            parts.append(Content.styled(clean(state, max_chars=48), "$text-muted"))
        return Content("").join(parts)
