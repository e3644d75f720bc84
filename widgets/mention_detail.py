"""The selected mention, in full: who, when, where it stands, its SLA, its text and its thread.

Data comes down through `show(...)`; the widget never reads the database. Every string that came
from outside (names, handles, text, tags, assignee) goes through `widgets.text.untrusted`, and the
header is assembled from `Content` pieces, so a post holding `[@click=app.quit]` renders as text.

The time helpers at the top are shared with the customer card, history and outbox views.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar, Final

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Static

from console.clock import Clock, SystemClock
from console.sla import SlaState, sla_state
from db.models import NO_DUE, Mention, Status
from widgets.text import clean, untrusted

# The longest post any channel allows today is 25,000 characters (X long posts). Anything longer
# is hostile or broken: cutting it keeps wrap and layout costs bounded on a 200 KB payload.
MAX_TEXT_CHARS: Final = 25_000
# The thread is shown as one line per mention; a runaway thread must not grow the pane forever.
MAX_THREAD_ITEMS: Final = 50
THREAD_EXCERPT_CHARS: Final = 160

_CHANNEL_LABELS: Final = {"x": "X", "mastodon": "Mastodon", "bluesky": "Bluesky"}


def channel_label(channel: str) -> str:
    """A display name for a channel id (unknown ids are cleaned, never trusted)."""
    return _CHANNEL_LABELS.get(channel) or clean(channel, max_chars=20)


def handle_text(handle: str) -> str:
    """`@handle`, cleaned; a handle that already starts with `@` is not doubled."""
    text = clean(handle, max_chars=80)
    return text if text.startswith("@") else f"@{text}"


def relative_time(at: float, now: float) -> str:
    """`12 min ago`, `3 h ago`, `4 d ago`, or `in 5 min` when the sender's clock runs ahead."""
    delta = int(now - at)
    future = delta < 0
    delta = abs(delta)
    if delta < 60:
        return "just now"
    if delta < 3600:
        amount = f"{delta // 60} min"
    elif delta < 86_400:
        amount = f"{delta // 3600} h"
    else:
        amount = f"{delta // 86_400} d"
    return f"in {amount}" if future else f"{amount} ago"


def local_time(at: float, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An absolute time in the agent's local zone (the db stores UTC epoch seconds)."""
    # fromtimestamp converts a given instant: it does not read the wall clock.
    return datetime.fromtimestamp(at).strftime(fmt)


def when_text(at: float, now: float) -> str:
    """`12 min ago · 2024-05-03 14:07`: the relative part for a glance, the absolute to quote."""
    return f"{relative_time(at, now)} · {local_time(at)}"


def sla_due(mention: Mention) -> int | None:
    """The instant the SLA badge counts down to, or None once the clock no longer runs.

    The first-reply target stops mattering once a reply went out or the mention is resolved;
    NO_DUE is the store's "sort last" sentinel, not a real deadline.
    """
    if mention.replied_at is not None or mention.resolved_at is not None:
        return None
    if mention.status == Status.RESOLVED:
        return None
    due = mention.first_reply_due
    if due is None or due >= NO_DUE:
        return None
    return due


class SlaBadge(Static):
    """`SLA 00:12`, coloured by level through the CSS classes -ok / -warn / -breach / -none."""

    DEFAULT_CSS = """
    SlaBadge {
        width: auto;
        height: 1;
        padding: 0 1;
        text-style: bold;
        &.-ok { color: $text-success; background: $success-muted; }
        &.-warn { color: $text-warning; background: $warning-muted; }
        &.-breach { color: $text-error; background: $error-muted; }
        &.-none { color: $text-muted; background: $boost; text-style: none; }
    }
    """

    LEVELS: ClassVar[tuple[str, ...]] = ("ok", "warn", "breach", "none")

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("SLA --:--", markup=False, id=id, classes=classes)
        self.state: SlaState | None = None
        self.add_class("-none")

    def set_state(self, state: SlaState) -> bool:
        """Show `state`; repaint only when label or level changed. Returns True if it did."""
        if state == self.state:
            return False
        # The badge is `width: auto`: a relayout is needed only when the label's width changes
        # ("00:15" -> "-00:01"), which is rare; otherwise repaint the badge alone.
        relayout = self.state is None or len(self.state.label) != len(state.label)
        self.state = state
        # The label is ours (digits and signs), but Content keeps it from ever being markup.
        self.update(Content.assemble("SLA ", state.label), layout=relayout)
        for level in self.LEVELS:
            self.set_class(level == state.level, f"-{level}")
        return True


class MentionDetail(Vertical):
    """The selected mention. Call `show(mention, thread, now)`; call `tick()` once a second.

    Height is auto: put it (with the other detail views) inside the pane's VerticalScroll.
    """

    DEFAULT_CSS = """
    MentionDetail {
        height: auto;
        padding: 0 1;
        & > .md-empty { color: $text-muted; text-style: italic; display: none; }
        &.-empty > .md-part { display: none; }
        &.-empty > .md-empty { display: block; }
        & > .md-top { height: auto; }
        & .md-title { width: 1fr; height: auto; }
        & .md-when { color: $text-muted; }
        & > .md-meta { color: $text-muted; }
        & > .md-text { margin: 1 0; }
        & > .md-thread-title { color: $text-accent; text-style: bold; }
        & > .md-thread { text-wrap: nowrap; text-overflow: ellipsis; }
        &.-no-thread > .md-thread-title, &.-no-thread > .md-thread { display: none; }
    }
    """

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        # SystemClock is the one sanctioned wall clock; tests inject a FrozenClock.
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.mention: Mention | None = None
        # Children exist before mounting so `show()` works whenever the screen calls it.
        self._title = Static("", markup=False, classes="md-title")
        self._badge = SlaBadge(classes="md-sla")
        self._when = Static("", markup=False, classes="md-part md-when")
        self._meta = Static("", markup=False, classes="md-part md-meta")
        self._text = Static("", markup=False, classes="md-part md-text")
        self._thread_title = Static("Thread", markup=False, classes="md-part md-thread-title")
        self._thread = Static("", markup=False, classes="md-part md-thread")
        self._empty = Static("No mention selected.", markup=False, classes="md-empty")
        self._when_plain = ""
        self.add_class("-empty", "-no-thread")

    def compose(self) -> ComposeResult:
        yield self._empty
        with Horizontal(classes="md-part md-top"):
            yield self._title
            yield self._badge
        yield self._when
        yield self._meta
        yield self._text
        yield self._thread_title
        yield self._thread

    @property
    def badge(self) -> SlaBadge:
        return self._badge

    def show(self, mention: Mention | None, thread: Sequence[Mention], now: float) -> None:
        """Display `mention` (None: the empty state) and its thread, times relative to `now`."""
        self.mention = mention
        if mention is None:
            self.add_class("-empty", "-no-thread")
            return
        self.remove_class("-empty")
        self._title.update(self._title_content(mention))
        self._when_plain = when_text(mention.created_at, now)
        self._when.update(Content(self._when_plain))
        self._meta.update(self._meta_content(mention))
        self._text.update(untrusted(mention.text, keep_newlines=True, max_chars=MAX_TEXT_CHARS))
        self._badge.set_state(sla_state(sla_due(mention), now))
        thread_content = self._thread_content(mention, thread)
        self.set_class(thread_content is None, "-no-thread")
        if thread_content is not None:
            self._thread.update(thread_content)

    def tick(self) -> None:
        """Advance to `clock.now()`: repaint the badge (and the "ago" line) only if they changed.

        Labels have minute resolution, so a once-a-second tick costs at most one small repaint
        per minute, which matters on slow links.
        """
        mention = self.mention
        if mention is None:
            return
        now = self.clock.now()
        self._badge.set_state(sla_state(sla_due(mention), now))
        when = when_text(mention.created_at, now)
        if when != self._when_plain:
            self._when_plain = when
            self._when.update(Content(when), layout=False)

    @staticmethod
    def _title_content(mention: Mention) -> Content:
        return Content.assemble(
            (channel_label(mention.channel), "bold $text-accent"),
            "  ",
            untrusted(mention.author_name, max_chars=80, style="bold"),
            " ",
            untrusted(handle_text(mention.author_handle), style="$text-muted"),
        )

    @staticmethod
    def _meta_content(mention: Mention) -> Content:
        parts: list[Content] = [
            Content.assemble(("status ", "$text-muted"), (str(mention.status), "bold")),
            Content.assemble(
                ("assignee ", "$text-muted"),
                untrusted(mention.assignee, max_chars=40)
                if mention.assignee
                else Content.styled("unassigned", "italic"),
            ),
            Content.assemble(("priority ", "$text-muted"), str(mention.priority)),
        ]
        meta = Content(" · ").join(parts)
        if mention.tags:
            # Tags on their own line: a wrapped "status · assignee · tags" line reads badly.
            tags = [
                untrusted(f"#{tag}", max_chars=40, style="$text-secondary") for tag in mention.tags
            ]
            meta = Content.assemble(meta, "\n", Content(" ").join(tags))
        return meta

    @staticmethod
    def _thread_content(mention: Mention, thread: Sequence[Mention]) -> Content | None:
        """One line per mention of the thread, oldest first, the selected one marked with ▶.

        None when the thread holds nothing but the selected mention (the section is hidden).
        """
        by_id = {m.id: m for m in thread}
        by_id[mention.id] = mention
        if len(by_id) < 2:
            return None
        ordered = sorted(by_id.values(), key=lambda m: (m.created_at, m.id))
        skipped_before = skipped_after = 0
        if len(ordered) > MAX_THREAD_ITEMS:
            # Keep a window around the selected mention so its context is never cut away.
            index = next(i for i, m in enumerate(ordered) if m.id == mention.id)
            start = max(0, min(index - MAX_THREAD_ITEMS // 2, len(ordered) - MAX_THREAD_ITEMS))
            skipped_before = start
            skipped_after = len(ordered) - start - MAX_THREAD_ITEMS
            ordered = ordered[start : start + MAX_THREAD_ITEMS]
        lines: list[Content] = []
        if skipped_before:
            lines.append(Content.styled(f"  … {skipped_before} earlier", "$text-muted"))
        for item in ordered:
            selected = item.id == mention.id
            line = Content.assemble(
                ("▶ " if selected else "  ", "bold $text-accent"),
                (local_time(item.created_at, "%m-%d %H:%M"), "$text-muted"),
                " ",
                untrusted(handle_text(item.author_handle), style="bold" if selected else ""),
                " ",
                untrusted(item.text, max_chars=THREAD_EXCERPT_CHARS),
            )
            lines.append(line.stylize("bold") if selected else line)
        if skipped_after:
            lines.append(Content.styled(f"  … {skipped_after} later", "$text-muted"))
        return Content("\n").join(lines)
