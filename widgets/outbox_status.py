"""Where each reply to the selected mention stands: queued, sending, sent, failed or unknown.

A failed reply shows the server's reason literally (through `widgets.text.untrusted`: server
error bodies are outside text too, and can carry markup or escape sequences). A sent reply
shows its public link (or its remote id when the channel gave no link); an unknown one says
it may have gone out, so nobody blindly retries it and doubles a reply.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from textual.content import Content

from db.models import OutboxItem, OutboxState
from widgets.mention_detail import local_time
from widgets.section import DetailSection
from widgets.text import clean, untrusted

EXCERPT_CHARS: Final = 200
MAX_REASON_CHARS: Final = 1_000
# A mention gets a handful of replies; the bound only guards against a runaway retry loop.
MAX_ITEMS: Final = 20

STATE_STYLES: Final[dict[str, str]] = {
    OutboxState.DRAFT: "$text-muted",
    OutboxState.QUEUED: "bold $text-muted",
    OutboxState.SENDING: "bold $text-primary",
    OutboxState.SENT: "bold $text-success",
    OutboxState.FAILED: "bold $text-error",
    OutboxState.UNKNOWN: "bold $text-warning",
}


def outbox_lines(item: OutboxItem) -> list[Content]:
    """The two to four lines describing one outbox row."""
    state = str(item.state)
    head: list[Content | str | tuple[str, str]] = [
        (state.upper(), STATE_STYLES.get(state, "bold")),
        (" · " + local_time(item.updated_at) + " · ", "$text-muted"),
        untrusted(item.author, max_chars=40, style="$text-muted"),
    ]
    if item.attempts > 1:
        head.append((f" · {item.attempts} attempts", "$text-muted"))
    lines = [
        Content.assemble(*head),
        Content.assemble("  ", untrusted(item.text, max_chars=EXCERPT_CHARS)),
    ]
    if item.state == OutboxState.SENT and item.remote_url:
        # The link comes from the channel's answer: shown as text, never as a live [link].
        lines.append(
            Content.assemble(("  link ", "$text-muted"), untrusted(item.remote_url, max_chars=200))
        )
    elif item.state == OutboxState.SENT and item.remote_id:
        lines.append(
            Content.assemble(("  id ", "$text-muted"), untrusted(item.remote_id, max_chars=120))
        )
    if item.state == OutboxState.UNKNOWN:
        lines.append(
            Content.styled(
                "  not confirmed: check the channel before sending again", "$text-warning"
            )
        )
    if item.error and item.state in (OutboxState.FAILED, OutboxState.UNKNOWN):
        # The reason is shown as the server wrote it (newlines kept), never interpreted.
        reason = clean(item.error, keep_newlines=True, max_chars=MAX_REASON_CHARS)
        lines.extend(
            Content.assemble(
                ("  " if n else "  reason ", "$text-muted"), untrusted(text, style="$text-error")
            )
            for n, text in enumerate(reason.split("\n"))
        )
    return lines


class OutboxStatusView(DetailSection):
    """The outbox rows of the selected mention, newest first. Call `show(items)`."""

    BORDER_TITLE = "Replies"
    EMPTY_TEXT = "No replies yet."

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.items: tuple[OutboxItem, ...] = ()

    def show(self, items: Sequence[OutboxItem]) -> None:
        ordered = sorted(items, key=lambda i: (i.created_at, i.id), reverse=True)
        self.items = tuple(ordered)
        if not ordered:
            self.set_content(None)
            return
        lines: list[Content] = []
        for item in ordered[:MAX_ITEMS]:
            lines.extend(outbox_lines(item))
        if len(ordered) > MAX_ITEMS:
            lines.append(
                Content.styled(f"… {len(ordered) - MAX_ITEMS} older replies", "$text-muted")
            )
        self.set_content(Content("\n").join(lines))

    @property
    def failed(self) -> tuple[OutboxItem, ...]:
        """Rows the agent has to look at (failed or unknown), for a screen-level hint."""
        return tuple(i for i in self.items if i.state in (OutboxState.FAILED, OutboxState.UNKNOWN))
