"""The crisis view: the mentions of a spiking topic, selected and answered in bulk.

Opened with `C` from the desk. The top lists the topics spiking now (strongest first); the list
below holds the still-active mentions of the highlighted topic, newest first, at most
`MAX_TOPIC_ROWS` (a bounded read on topic_mentions, never the whole queue). `space` selects a
mention, `A` selects every listed one (again: none), `r` answers the selection: pick a template
(holding statements first), fill its free fields once for all, confirm with the count, and every
reply is queued through the outbox in one transaction, each personalised and signed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.segment import Segment
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.strip import Strip
from textual.widgets import Checkbox, Footer, Label, OptionList, SelectionList, Static
from textual.widgets.option_list import Option, OptionDoesNotExist
from textual.widgets.selection_list import Selection

from console.actions import CRISIS_ACTIONS, SCREEN_ACTIONS
from console.bulk_reply import is_holding, prepare_bulk_replies
from console.clock import Clock
from console.config import Config
from console.crisis import Spike
from console.screens.prompts import TextPrompt, modal_css
from console.sla import sla_state
from console.templates import free_fields
from db.crisis import MAX_TOPIC_ROWS, newest_topic_mention, topic_rows
from db.errors import StoreError
from db.models import QueueRow
from db.store import Store
from widgets.text import clean, untrusted

_CHANNEL_SHORT = {"x": "X ", "mastodon": "MA", "bluesky": "BS"}
_LEVEL_STYLE = {"ok": "$success", "warn": "bold $warning", "breach": "bold $error",
                "none": "$text-muted"}
_ACTION = {action.id: action for action in (*SCREEN_ACTIONS, *CRISIS_ACTIONS)}


def mention_line(row: QueueRow, now: float) -> Content:
    """One mention of the crisis list: SLA, channel, author, excerpt (outside text inert)."""
    sla = sla_state(row.first_reply_due, now)
    return Content.assemble(
        Content.styled(f"{sla.label:>7}", _LEVEL_STYLE.get(sla.level, "")),
        "  ",
        Content.styled(_CHANNEL_SHORT.get(row.channel, clean(row.channel)[:2]), "$accent"),
        "  ",
        untrusted(row.author_handle, max_chars=22).truncate(22, pad=True),
        "  ",
        untrusted(row.excerpt, max_chars=140),
    )


class MentionPicker(SelectionList[int]):
    """The crisis list: SelectionList with the desk's movement keys and remappable ids."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "select", "Select", show=False, id="toggle_select"),
        Binding("j,down", "cursor_down", "Down", show=False, id="down"),
        Binding("k,up", "cursor_up", "Up", show=False, id="up"),
        Binding("g,home", "first", "First", show=False, id="first"),
        Binding("G,end", "last", "Last", show=False, id="last"),
    ]

    def render_line(self, y: int) -> Strip:
        # The stock button (Checkbox's) draws the same "X" whether a row is selected or not,
        # told apart by colour alone: on the lowbw theme, or for a colour-blind agent, both look
        # selected. An unselected row shows an empty box, so the glyph itself says it.
        strip = super().render_line(y)
        try:
            selection = self.get_option_at_index(self.scroll_offset.y + y)
        except OptionDoesNotExist:
            return strip
        segments = list(strip)
        if len(segments) < 2 or segments[1].text != Checkbox.BUTTON_INNER:
            return strip
        if selection.value not in self.selected:
            segments[1] = Segment(" ", segments[1].style, segments[1].control)
        return Strip(segments, strip.cell_length)


class ConfirmPrompt(ModalScreen[bool]):
    """Yes or no before something that cannot be taken back: enter sends, escape cancels."""

    DEFAULT_CSS = modal_css("ConfirmPrompt") + """
    ConfirmPrompt > Vertical { width: 80; }
    ConfirmPrompt .confirm-preview { color: $text-muted; margin: 1 0; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "confirm", "Send", show=False),
        Binding("escape", "cancel", "Cancel", show=False),
    ]

    def __init__(self, title: str, preview: str, hint: str) -> None:
        super().__init__()
        self._title = title
        self._preview = preview
        self._hint = hint

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Content(self._title), classes="prompt-title")
            # A filled template carries customer data: inert text only.
            yield Static(untrusted(self._preview, keep_newlines=True, max_chars=600),
                         classes="confirm-preview")
            yield Static(untrusted(self._hint, keep_newlines=True), classes="prompt-hint")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


class CrisisScreen(Screen[None]):
    DEFAULT_CSS = """
    CrisisScreen { layout: vertical; }
    CrisisScreen #crisis-title { height: auto; padding: 0 1; background: $error 25%; }
    CrisisScreen #crisis-topics { height: auto; max-height: 5; border: none; }
    CrisisScreen #crisis-topics.-single { display: none; }
    CrisisScreen MentionPicker { height: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    CrisisScreen #crisis-empty { height: 1fr; padding: 1 2; color: $text-muted; display: none; }
    CrisisScreen.-empty #crisis-empty { display: block; }
    CrisisScreen.-empty MentionPicker { display: none; }
    CrisisScreen #crisis-status { height: 1; padding: 0 1; background: $panel; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "bulk_reply", "Reply to selected", id="reply"),
        _ACTION["select_all"].binding(),
        Binding("escape", "back", "Back", id="back"),
    ]

    def __init__(self, store: Store, config: Config, clock: Clock,
                 spikes: Sequence[Spike], *, heartbeat: float | None = None) -> None:
        super().__init__()
        self.heartbeat = heartbeat
        self._newest: int | None = None
        self.store = store
        self.config = config
        self.clock = clock
        self.spikes = tuple(spikes)
        self.topic: Spike | None = self.spikes[0] if self.spikes else None
        self.rows: list[QueueRow] = []

    def compose(self) -> ComposeResult:
        yield Static(id="crisis-title")
        yield OptionList(id="crisis-topics")
        yield MentionPicker(id="crisis-mentions")
        yield Static(Content("Nothing on this topic is waiting for a reply."), id="crisis-empty")
        yield Static(id="crisis-status")
        yield Footer()

    @property
    def picker(self) -> MentionPicker:
        return self.query_one(MentionPicker)

    @property
    def selected(self) -> list[int]:
        return list(self.picker.selected)

    async def on_mount(self) -> None:
        topics = self.query_one("#crisis-topics", OptionList)
        topics.set_options(
            Option(Content.assemble(untrusted(s.describe(), max_chars=100),
                                    Content.styled(f"  {s.kind}", "$text-muted")), id=str(i))
            for i, s in enumerate(self.spikes)
        )
        topics.set_class(len(self.spikes) <= 1, "-single")
        if self.spikes:
            topics.highlighted = 0
        await self.load()
        self.picker.focus()
        if self.heartbeat is not None:
            self.set_interval(max(self.heartbeat, 5.0), self.follow, name="crisis-follow")

    async def follow(self) -> None:
        """Reload when the topic has a newer mention (one index probe; the list is rebuilt only
        then, so a quiet minute costs no repaint). Public: tests call it."""
        if self.topic is None:
            return
        newest = await newest_topic_mention(self.store, self.topic.topic)
        if newest != self._newest:
            await self.load()

    async def load(self) -> None:
        """(Re)read the topic's active mentions, keeping the selection of those still listed."""
        title = self.query_one("#crisis-title", Static)
        if self.topic is None:
            title.update(Content("No topic is spiking now."))
            self.rows = []
        else:
            title.update(Content.assemble(
                Content.styled("Crisis: ", "bold $error"),
                untrusted(self.topic.describe(), max_chars=120),
            ))
            self._newest = await newest_topic_mention(self.store, self.topic.topic)
            self.rows = await topic_rows(self.store, self.topic.topic, limit=MAX_TOPIC_ROWS)
        keep = set(self.picker.selected)
        now = self.clock.now()
        picker = self.picker
        cursor = picker.highlighted or 0
        picker.clear_options()
        picker.add_options(
            [Selection(mention_line(row, now), row.id, row.id in keep) for row in self.rows]
        )
        if self.rows:  # the cursor stays where it was (clamped): space works at once
            picker.highlighted = min(cursor, len(self.rows) - 1)
        self.set_class(not self.rows, "-empty")
        self._update_status()

    def _update_status(self) -> None:
        listed = len(self.rows)
        more = "" if listed < MAX_TOPIC_ROWS else f" (first {MAX_TOPIC_ROWS})"
        text = (f"{len(self.picker.selected)} selected of {listed} awaiting a reply{more}"
                "  ·  space: select  ·  A: all  ·  r: reply to selected  ·  escape: back")
        self.query_one("#crisis-status", Static).update(Content(text))

    @on(SelectionList.SelectedChanged)
    def _selection_changed(self) -> None:
        self._update_status()

    @on(OptionList.OptionHighlighted, "#crisis-topics")
    async def _topic_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        spike = self.spikes[event.option_index] if event.option_index < len(self.spikes) else None
        if spike is not None and spike != self.topic:
            self.topic = spike
            self.picker.deselect_all()
            await self.load()

    def action_select_all(self) -> None:
        picker = self.picker
        if self.rows and len(picker.selected) == len(self.rows):
            picker.deselect_all()
        else:
            picker.select_all()

    def action_back(self) -> None:
        self.dismiss(None)

    def _say(self, message: str, *, severity: str = "information") -> None:
        self.notify(clean(message, max_chars=300), severity=severity, markup=False)  # type: ignore[arg-type]

    @work(exclusive=True, group="bulk-reply", exit_on_error=False)
    async def action_bulk_reply(self) -> None:
        ids = [row.id for row in self.rows if row.id in set(self.picker.selected)]
        if not ids:
            self._say("Select mentions first: space, or A for all", severity="warning")
            return
        templates = sorted(await self.store.templates(), key=lambda t: not is_holding(t.name))
        if not templates:
            self._say("No templates yet: add a holding statement first", severity="warning")
            return
        from console.screens.template_picker import TemplatePicker

        template = await self.app.push_screen_wait(TemplatePicker(templates))
        if template is None:
            return
        fields: dict[str, str] = {}
        for name in free_fields(template.body):
            value = await self.app.push_screen_wait(TextPrompt(
                f"{{{name}}}: the same for all {len(ids)} replies",
                hint="enter: next · escape: cancel the bulk reply"))
            if value is None or not value.strip():
                self._say("Bulk reply cancelled", severity="warning")
                return
            fields[name] = value.strip()
        plan = await prepare_bulk_replies(self.store, ids, template.body, self.config.agent,
                                          fields)
        if not plan.replies:
            reasons = "; ".join(sorted({why for _, why in plan.skipped}))
            self._say(f"Nothing to send: {reasons}", severity="error")
            return
        skipped = f"\n{len(plan.skipped)} skipped: " + "; ".join(
            sorted({why for _, why in plan.skipped})) if plan.skipped else ""
        count = len(plan.replies)
        confirmed = await self.app.push_screen_wait(ConfirmPrompt(
            f"Send {count} {'reply' if count == 1 else 'replies'} through the outbox?",
            f"First one: {plan.replies[0][1]}",
            f"Each is personalised and signed; the outbox paces them by rate limits.{skipped}"
            "\nenter: send all · escape: cancel",
        ))
        if not confirmed:
            return
        try:
            items = await self.store.queue_replies(list(plan.replies), author=self.config.agent.id,
                                                   now=int(self.clock.now()))
        except StoreError as error:
            self._say(str(error), severity="error")
            return
        self._say(f"{len(items)} replies queued in the outbox")
        self.picker.deselect_all()
        await self.load()
