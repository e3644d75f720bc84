"""The reply composer: a soft-wrapping text area and a one-line footer with the channel's
length counter and the template placeholders still to fill.

The composer writes and reports; it refuses nothing. The screen decides whether a reply may go
(empty, over length, unfilled placeholders) using `problems()` or the helpers it wraps, and saves
drafts on `DraftChanged`.

Keys: ctrl+s posts `SendRequested` (a priority binding, so the text area never sees it). Escape
is deliberately not bound here: it reaches the screen's own `back` binding, which closes the
composer and returns to the queue. That works because the text area is built with
`tab_behavior="focus"`: in that mode it neither inserts tabs nor swallows escape (Textual 8.2.8
only consumes escape itself in "indent" mode, where it moves focus to the next widget instead),
so neither key can trap the agent in the editor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static, TextArea
from textual.widgets.text_area import Selection

from console.lengths import LengthInfo, grapheme_count, reply_length
from console.templates import unfilled
from widgets.text import clean, untrusted


def inert(text: str) -> str:
    """Text made safe to hold in the editor: escape sequences and control characters removed,
    bidi overrides and invisible characters shown as `<U+XXXX>`, newlines kept.

    The editor draws its document straight to the terminal, so loaded drafts, template output and
    pasted text all pass through the one untrusted-text helper first.
    """
    return clean(text, keep_newlines=True)


def length_of(channel: str, text: str) -> LengthInfo:
    """The reply's length on `channel`; a channel with no known rule gets a bare count."""
    try:
        return reply_length(channel, text)
    except ValueError:
        return LengthInfo(grapheme_count(text), 0)


def problems(channel: str, text: str, placeholders: tuple[str, ...] | None = None) -> list[str]:
    """Why `text` cannot be sent as it is (empty list: it can). For the screen's send check.

    `placeholders` are the names the template left to fill (`Rendered.missing`); None means any
    `{name}` left in the text blocks sending.
    """
    reasons: list[str] = []
    if not text.strip():
        reasons.append("the reply is empty")
    left = unfilled(text, placeholders)
    if left:
        reasons.append("fill in " + ", ".join("{" + name + "}" for name in left))
    info = length_of(channel, text)
    if info.over:
        reasons.append(f"too long for {channel}: {info.used}/{info.limit}")
    return reasons


class _DraftArea(TextArea):
    """A TextArea whose pastes go through the untrusted-text helper, like everything loaded."""

    async def _on_paste(self, event: events.Paste) -> None:
        # Handle the paste here and stop TextArea's own handler inserting the raw text too.
        event.prevent_default()
        event.stop()
        if self.read_only:
            return
        result = self.replace(inert(event.text), *self.selection)
        self.move_cursor(result.end_location)


class ReplyComposer(Widget, can_focus=False):
    """Reply editor with a length counter; focus goes to the inner text area."""

    DEFAULT_CSS = """
    ReplyComposer {
        height: auto;
        min-height: 5;
        max-height: 16;
        layout: vertical;
        border-top: solid $primary 40%;
        &:focus-within { border-top: solid $primary; }
    }
    ReplyComposer > TextArea {
        height: auto;
        min-height: 3;
        max-height: 14;
        border: none;
        padding: 0 1;
        background: $surface;
        &:focus { border: none; background-tint: $foreground 3%; }
    }
    ReplyComposer > #composer-footer {
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $text-muted;
        #composer-todo { width: 1fr; }
        #composer-todo.-unfilled { color: $warning; }
        #composer-counter { width: auto; }
        #composer-counter.-warn { color: $warning; text-style: bold; }
        #composer-counter.-over { color: $error; text-style: bold reverse; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        # Priority: checked before the focused text area's bindings and key handling. Note that
        # priority bindings run from the App down, so a priority ctrl+s on the screen or App
        # would win over this one: the screen should then not bind ctrl+s with priority.
        Binding("ctrl+s", "send", "Send", id="send", priority=True),
        # Jump to (and select) the next `{field}` so typing replaces it: templates are filled
        # without leaving the keyboard's home row.
        Binding("ctrl+f", "next_field", "Next field", id="next_field", priority=True),
    ]

    channel: reactive[str] = reactive("x")
    """The network the reply goes to; sets the counting rule and the limit."""

    placeholders: reactive[tuple[str, ...] | None] = reactive(None)
    """Names the loaded template left to fill (`Rendered.missing`); None: any `{name}` counts."""

    @dataclass
    class DraftChanged(Message):
        """The agent changed the text (not posted for `load`). Bursts coalesce in the queue."""

        composer: ReplyComposer
        text: str

        @property
        def control(self) -> ReplyComposer:
            return self.composer

        def can_replace(self, message: Message) -> bool:
            # Only the latest text matters for saving a draft: a paste or fast typing posts many.
            return isinstance(message, ReplyComposer.DraftChanged) and (
                message.composer is self.composer
            )

    @dataclass
    class SendRequested(Message):
        """ctrl+s: the agent wants to send `text`. The screen validates before sending."""

        composer: ReplyComposer
        text: str

        @property
        def control(self) -> ReplyComposer:
            return self.composer

    def __init__(
        self,
        text: str = "",
        *,
        channel: str = "x",
        placeholder: str = "Write a reply…",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._initial = inert(text)
        # The last text the screen already knows (loaded or reported): a TextArea.Changed that
        # leaves the text equal to it (such as the one `load_text` posts) is not a draft change.
        self._known_text = self._initial
        self._placeholder_prompt = placeholder
        self.set_reactive(ReplyComposer.channel, channel)

    def compose(self) -> ComposeResult:
        area = _DraftArea(
            self._initial,
            soft_wrap=True,
            tab_behavior="focus",
            show_line_numbers=False,
            id="composer-text",
        )
        area.placeholder = self._placeholder_prompt
        yield area
        with Horizontal(id="composer-footer"):
            yield Static(id="composer-todo", markup=False)
            yield Static(id="composer-counter", markup=False)

    def on_mount(self) -> None:
        self._refresh_footer()

    @property
    def text_area(self) -> TextArea:
        return self.query_one("#composer-text", TextArea)

    @property
    def text(self) -> str:
        """The reply as it stands."""
        try:
            return self.text_area.text
        except NoMatches:  # not composed yet
            return self._initial

    def load(self, text: str, placeholders: tuple[str, ...] | None = None) -> None:
        """Replace the content (a saved draft, a rendered template) without a `DraftChanged`.

        The text goes through the untrusted-text helper first; `placeholders` sets which names
        count as unfilled (see `placeholders`). The cursor goes to the first placeholder left,
        or to the end, so the agent can type straight away.
        """
        safe = inert(text)
        self._known_text = safe
        self.set_reactive(ReplyComposer.placeholders, placeholders)
        try:
            area = self.text_area
        except NoMatches:
            # Called before compose: the text area will start with this text.
            self._initial = safe
            return
        area.load_text(safe)
        area.move_cursor(_location(safe, 0))
        if not self.select_next_field():
            area.move_cursor(_location(safe, len(safe)))
        self._refresh_footer()

    def select_next_field(self) -> bool:
        """Select the next unfilled `{field}` after the cursor (wrapping around), so that typing
        replaces it. Returns False when none is left."""
        area = self.text_area
        text = area.text
        left = unfilled(text, self.placeholders)
        if not left:
            return False
        cursor = _offset(text, area.selection.end)
        spans = sorted(
            (start, start + len(name) + 2)
            for name in set(left)
            for start in _find_all(text, "{" + name + "}")
        )
        start, end = next(((a, b) for a, b in spans if a >= cursor), spans[0])
        area.selection = Selection(_location(text, start), _location(text, end))
        return True

    def action_next_field(self) -> None:
        if not self.select_next_field():
            self.notify("No field left to fill", markup=False)

    def focus_editor(self) -> None:
        self.text_area.focus()

    def focus(self, scroll_visible: bool = True) -> Self:
        """Focus the editor: the composer itself never holds focus, its text area does."""
        try:
            self.text_area.focus(scroll_visible)
        except NoMatches:
            self.call_after_refresh(self.focus_editor)
        return self

    @property
    def length(self) -> LengthInfo:
        return length_of(self.channel, self.text)

    @property
    def unfilled(self) -> tuple[str, ...]:
        return unfilled(self.text, self.placeholders)

    def problems(self) -> list[str]:
        """Why the current text cannot be sent (empty: it can)."""
        return problems(self.channel, self.text, self.placeholders)

    def watch_channel(self) -> None:
        if self.is_mounted:
            self._refresh_footer()

    def watch_placeholders(self) -> None:
        if self.is_mounted:
            self._refresh_footer()

    @on(TextArea.Changed, "#composer-text")
    def _text_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self._refresh_footer()
        text = event.text_area.text
        if text != self._known_text:
            self._known_text = text
            self.post_message(self.DraftChanged(self, text))

    def action_send(self) -> None:
        self.post_message(self.SendRequested(self, self.text))

    def _refresh_footer(self) -> None:
        text = self.text
        info = length_of(self.channel, text)
        counter = self.query_one("#composer-counter", Static)
        counter.update(str(info))
        counter.set_class(info.level == "warn", "-warn")
        counter.set_class(info.level == "over", "-over")
        left = unfilled(text, self.placeholders)
        todo = self.query_one("#composer-todo", Static)
        if left:
            # The names come from the text (pasted text included), so they are outside text.
            names = " ".join("{" + clean(name, max_chars=30) + "}" for name in left)
            todo.update(untrusted("to fill: " + names))
        else:
            todo.update("")
        todo.set_class(bool(left), "-unfilled")


def _location(text: str, offset: int) -> tuple[int, int]:
    """(row, column) of a character offset, for `TextArea.move_cursor`."""
    before = text[:offset]
    row = before.count("\n")
    return row, offset - (before.rfind("\n") + 1)


def _offset(text: str, location: tuple[int, int]) -> int:
    """The inverse of `_location`: a (row, column) in the text area to an offset in `text`."""
    row, column = location
    lines = text.split("\n")
    return sum(len(line) + 1 for line in lines[:row]) + column


def _find_all(text: str, needle: str) -> list[int]:
    found: list[int] = []
    start = text.find(needle)
    while start != -1:
        found.append(start)
        start = text.find(needle, start + 1)
    return found
