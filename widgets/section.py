"""A titled block of the detail pane (replies, activity, customer, history): one `Content`,
rendered as is, with a muted empty state. Subclasses build the content; this class shows it."""

from __future__ import annotations

from typing import ClassVar

from textual.content import Content
from textual.widget import Widget


class DetailSection(Widget):
    EMPTY_TEXT: ClassVar[str] = ""

    DEFAULT_CSS = """
    DetailSection {
        height: auto;
        padding: 0 1;
        border-top: solid $foreground 20%;
        border-title-color: $text-accent;
        &.-empty { color: $text-muted; text-style: italic; }
    }
    """

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._content = Content(self.EMPTY_TEXT)
        self.add_class("-empty")

    def set_content(self, content: Content | None) -> None:
        """Show `content`, or the empty state for None."""
        self.set_class(content is None, "-empty")
        self._content = Content(self.EMPTY_TEXT) if content is None else content
        self.refresh(layout=True)

    def render(self) -> Content:
        return self._content
