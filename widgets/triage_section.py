"""The "Triage" block of the detail pane: the mention's priority score, its lane, and each reason
triage gave, so the agent sees why a mention came first (or went to the spam lane).

Reasons can quote outside text (a blocked handle, a keyword from the config): each goes through
`widgets.text.untrusted`, and the block is assembled from `Content` pieces, never markup.
"""

from __future__ import annotations

from typing import ClassVar, Final

from textual.content import Content

from db.models import Mention
from widgets.section import DetailSection
from widgets.text import untrusted

SPAM_LANE: Final = 1
MAX_REASONS: Final = 12


class TriageSection(DetailSection):
    """The selected mention's triage. Call `show(mention)`."""

    BORDER_TITLE = "Triage"
    EMPTY_TEXT: ClassVar[str] = "Not triaged."

    DEFAULT_CSS = """
    TriageSection.-spam { border-title-color: $text-warning; }
    """

    def show(self, mention: Mention | None) -> None:
        """Display the triage of `mention` (None: the empty state)."""
        if mention is None:
            self.remove_class("-spam")
            self.set_content(None)
            return
        spam = mention.triage_lane == SPAM_LANE
        self.set_class(spam, "-spam")
        self.set_content(self.content_for(mention))

    @staticmethod
    def content_for(mention: Mention) -> Content:
        spam = mention.triage_lane == SPAM_LANE
        head = Content.assemble(
            ("priority ", "$text-muted"), (str(mention.priority), "bold"),
            ("  ·  ", "$text-muted"),
            ("spam lane" if spam else "main queue", "bold $text-warning" if spam else "bold"),
            ("  (x: not spam)" if spam else "  (x: spam)", "$text-muted"),
        )
        lines = [head]
        for reason in mention.triage_reasons[:MAX_REASONS]:
            lines.append(Content.assemble(("• ", "$text-muted"), untrusted(reason, max_chars=200)))
        if not mention.triage_reasons:
            lines.append(Content.styled("no signal: ordered by its SLA alone", "$text-muted"))
        return Content("\n").join(lines)
