"""Small modal prompts the main screen asks questions with: text, snooze time, filters."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Select
from textual.widgets.option_list import Option

from console.links import Link
from console.screens.triage_desk import view_of
from console.triage import DELIGHT_TAG
from db.models import CHANNELS, QueueFilter, Status
from widgets.text import untrusted


def modal_css(screen: str) -> str:
    """The prompt box style for one screen class.

    Textual scopes a screen's DEFAULT_CSS under that screen's own type, so the rules must start
    with it: a generic `ModalScreen > Vertical` would become `TextPrompt ModalScreen > Vertical`
    and never match.
    """
    return f"""
    {screen} {{ align: center middle; }}
    {screen} > Vertical {{
        width: 64; max-width: 95%; height: auto; max-height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }}
    {screen} .prompt-title {{ text-style: bold; color: $primary; margin-bottom: 1; }}
    {screen} .prompt-hint {{ color: $text-muted; }}
    """


class TextPrompt(ModalScreen[str | None]):
    """Ask for one line of text; enter returns it, escape returns None."""

    DEFAULT_CSS = modal_css("TextPrompt")
    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, title: str, *, placeholder: str = "", initial: str = "",
                 hint: str = "") -> None:
        super().__init__()
        self._title = title
        self._placeholder = placeholder
        self._initial = initial
        self._hint = hint

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Content(self._title), classes="prompt-title")
            # The initial value may be outside text (tags, a previous search): clean it.
            yield Input(untrusted(self._initial).plain, placeholder=self._placeholder,
                        id="prompt-input")
            if self._hint:
                yield Label(Content(self._hint), classes="prompt-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


SNOOZE_PRESETS: tuple[tuple[str, str], ...] = (
    ("30m", "30 minutes"),
    ("1h", "1 hour"),
    ("2h", "2 hours"),
    ("4h", "4 hours"),
    ("1d", "1 day"),
)


def parse_duration(text: str) -> int | None:
    """'45m', '2h', '1d', '1h30m' or a bare number of minutes -> seconds; None if unreadable."""
    text = text.strip().lower().replace(" ", "")
    if not text:
        return None
    if text.isdigit():
        return int(text) * 60
    units = {"d": 86400, "h": 3600, "m": 60}
    total = 0
    number = ""
    for char in text:
        if char.isdigit():
            number += char
        elif char in units and number:
            total += int(number) * units[char]
            number = ""
        else:
            return None
    if number:  # trailing digits with no unit: minutes
        total += int(number) * 60
    return total if total > 0 else None


class SnoozePrompt(ModalScreen[int | None]):
    """Pick a snooze duration (seconds) from presets or type one (e.g. 1h30m)."""

    DEFAULT_CSS = modal_css("SnoozePrompt")
    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Snooze until…", classes="prompt-title")
            yield OptionList(
                *[Option(Content(f"{label}  ({key})"), id=key) for key, label in SNOOZE_PRESETS],
                id="snooze-presets",
            )
            yield Input(placeholder="or type a duration: 45m, 3h, 1h30m, 2d", id="snooze-input")
            yield Label("enter: choose · tab: type a duration · escape: cancel",
                        classes="prompt-hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(parse_duration(event.option.id or ""))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        seconds = parse_duration(event.value)
        if seconds is None:
            self.notify("Type a duration like 45m, 2h, 1h30m or 1d", severity="error",
                        markup=False)
            return
        self.dismiss(seconds)

    def action_cancel(self) -> None:
        self.dismiss(None)


STATUS_CHOICES: tuple[tuple[str, str], ...] = (
    ("To do (new + open)", "active"),
    *((status.value.capitalize(), status.value) for status in Status),
    ("All", "all"),
)


# Triage views (console/screens/triage_desk.py): the main queue, the spam lane, delight.
VIEW_CHOICES: tuple[tuple[str, str], ...] = (
    ("Main queue (no spam)", "main"),
    ("Spam / trolls", "spam"),
    ("Delight", "delight"),
    ("Everything (spam too)", "all"),
)


class FilterPrompt(ModalScreen[QueueFilter | None]):
    """Edit the queue filter: view (main, spam, delight), status, channel, assignee, tag.
    Enter applies, escape cancels."""

    # No margin between the fields: with the triage view the prompt must still fit 80x24.
    DEFAULT_CSS = modal_css("FilterPrompt") + """
    FilterPrompt Select { margin-bottom: 0; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False),
                Binding("ctrl+s", "apply", "Apply", show=False, priority=True)]

    def __init__(self, current: QueueFilter, *, agent_id: str, tags: Sequence[str] = ()) -> None:
        super().__init__()
        self._current = current
        self._agent_id = agent_id
        self._tags = tags

    def compose(self) -> ComposeResult:
        current = self._current
        view = view_of(current)
        with Vertical():
            yield Label("Filter the queue", classes="prompt-title")
            yield Select(VIEW_CHOICES, value=view, allow_blank=False, id="f-view")
            yield Select(STATUS_CHOICES, value=current.status, allow_blank=False, id="f-status")
            yield Select([(c, c) for c in CHANNELS], value=current.channel or Select.NULL,
                         prompt="Any channel", id="f-channel")
            yield Select([("Assigned to me", self._agent_id), ("Unassigned", "-")],
                         value=current.assignee or Select.NULL, prompt="Anyone", id="f-assignee")
            # The delight view is a tag: not repeated in the tag field.
            tag = None if view == "delight" else current.tag
            yield Input(untrusted(tag or "").plain, placeholder="tag (empty: any)",
                        id="f-tag")
            yield Label("tab: next field · enter on the tag field or ctrl+s: apply"
                        " · escape: cancel", classes="prompt-hint")

    def _value(self, selector: str) -> str | None:
        value = self.query_one(selector, Select).value
        return None if value is Select.NULL or value is None else str(value)

    def action_apply(self) -> None:
        tag = self.query_one("#f-tag", Input).value.strip() or None
        view = self._value("#f-view") or "main"
        self.dismiss(QueueFilter(
            status=self._value("#f-status") or "active",
            channel=self._value("#f-channel"),
            assignee=self._value("#f-assignee"),
            tag=DELIGHT_TAG if view == "delight" else tag,
            search=self._current.search,
            triage=view if view in ("spam", "all") else "main",
        ))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_apply()

    def action_cancel(self) -> None:
        self.dismiss(None)


class LinkPrompt(ModalScreen[str | None]):
    """The links of a post, each shown in full. Enter on an http(s) link asks once more, with
    the whole address, before returning it; other schemes are listed and never returned."""

    DEFAULT_CSS = modal_css("LinkPrompt") + """
    LinkPrompt > Vertical { width: 100; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, links: Sequence[Link]) -> None:
        super().__init__()
        self._links = tuple(links)
        self._confirming: str | None = None

    def compose(self) -> ComposeResult:
        options = []
        for index, link in enumerate(self._links):
            label = untrusted(link.url, max_chars=300)
            if not link.openable:
                label = Content.assemble(label, ("  (" + link.reason + ")", "$text-muted"))
            options.append(Option(label, id=str(index), disabled=not link.openable))
        with Vertical():
            yield Label("Links in this mention", classes="prompt-title")
            yield OptionList(*options, id="links")
            yield Label("enter: open in the browser (asks first) · escape: cancel",
                        classes="prompt-hint", id="link-hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        url = self._links[int(event.option.id or 0)].url
        if self._confirming == url:
            self.dismiss(url)
            return
        self._confirming = url
        self.query_one("#link-hint", Label).update(
            Content.assemble(("Open ", "bold"), untrusted(url, style="bold $warning"),
                             (" ? enter again: open · escape: cancel", "bold"))
        )

    def action_cancel(self) -> None:
        self.dismiss(None)
