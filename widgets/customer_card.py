"""Who the customer is: name, their account on each channel with its audience, tags and notes.

Rendered as one `Content` assembled from pieces; every name, handle, tag and note passes through
`widgets.text.untrusted`. Notes come newest first so the latest context is read first.
"""

from __future__ import annotations

from typing import Final

from textual.content import Content

from db.models import CustomerCard
from widgets.mention_detail import channel_label, handle_text, local_time
from widgets.section import DetailSection
from widgets.text import clean, untrusted

# Notes are typed by agents and usually few; the bound keeps a pathological card cheap to render.
MAX_NOTES: Final = 20
MAX_NOTE_CHARS: Final = 2_000


def format_audience(count: int) -> str:
    """`1 follower`, `950 followers`, `12.3k followers`, `4.5M followers`."""
    if count < 0:
        count = 0
    if count == 1:
        return "1 follower"
    if count < 1_000:
        return f"{count} followers"
    # Smallest unit whose rounded value stays under 1000: 999,960 reads "1M", not "1000k".
    for divisor, suffix in ((1_000, "k"), (1_000_000, "M"), (1_000_000_000, "B")):
        number = f"{count / divisor:.1f}"
        if float(number) < 1000 or suffix == "B":
            return f"{number.removesuffix('.0')}{suffix} followers"
    raise AssertionError("unreachable: the last unit always returns")


class CustomerCardView(DetailSection):
    """The customer card of the selected mention. Call `show(card)`; None shows the empty state."""

    BORDER_TITLE = "Customer"
    EMPTY_TEXT = "No customer."

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.card: CustomerCard | None = None

    def show(self, card: CustomerCard | None) -> None:
        self.card = card
        self.set_content(None if card is None else self._card_content(card))

    @staticmethod
    def _card_content(card: CustomerCard) -> Content:
        customer = card.customer
        lines: list[Content] = [untrusted(customer.display_name, max_chars=80, style="bold")]
        for identity in card.identities:
            parts: list[Content | str | tuple[str, str]] = [
                (channel_label(identity.channel).ljust(9), "$text-accent"),
                untrusted(handle_text(identity.handle)),
                ("  " + format_audience(identity.audience), "$text-muted"),
            ]
            if identity.display_name and identity.display_name != customer.display_name:
                # A different name per channel is worth seeing (impersonation, shared account).
                parts += ["  ", untrusted(identity.display_name, max_chars=60, style="italic")]
            lines.append(Content.assemble(*parts))
        if customer.tags:
            tags = [
                untrusted(f"#{tag}", max_chars=40, style="$text-secondary") for tag in customer.tags
            ]
            lines.append(Content(" ").join(tags))
        notes = sorted(card.notes, key=lambda n: (n.created_at, n.id), reverse=True)
        lines.append(Content.styled(f"Notes ({len(notes)})", "bold $text-accent"))
        if not notes:
            lines.append(Content.styled("No notes yet.", "italic $text-muted"))
        for note in notes[:MAX_NOTES]:
            lines.append(
                Content.assemble(
                    untrusted(note.author, max_chars=40, style="bold"),
                    (" · " + local_time(note.created_at), "$text-muted"),
                )
            )
            # Indent every line of the note under its byline, not only the first.
            body = clean(note.text, keep_newlines=True, max_chars=MAX_NOTE_CHARS)
            lines.extend(Content.assemble("  ", untrusted(line)) for line in body.split("\n"))
        if len(notes) > MAX_NOTES:
            lines.append(Content.styled(f"… {len(notes) - MAX_NOTES} older notes", "$text-muted"))
        return Content("\n").join(lines)
