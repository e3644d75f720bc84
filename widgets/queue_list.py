"""The virtual queue list: one line per mention, over a queue of any size.

Why not `DataTable`/`OptionList`: they hold every row as Python objects (100k rows ≈ 11 s and
176 MiB in DataTable). This widget holds a *window* of rows (a few screens' worth) around the
cursor, fetched by keyset (`after=` / `before=` a `QueueKey`) from a `QueueSource` the screen
provides, and renders only the visible lines through the Line API (`render_line`). Memory and
the cost of a key press do not depend on the queue's size.

Positions: we never know a row's absolute position in a keyset, so rows are addressed by a
*virtual index* (`_base` is the virtual index of `_rows[0]`; fetching earlier rows lowers it,
trimming the front raises it). The cursor and the top visible row are virtual indices too,
so trimming or extending the window never moves them on screen.

Bytes on slow SSH links matter: moving the cursor repaints two lines, the SLA tick repaints only
the SLA cells whose label changed, and rendered lines are cached per (row, width, cursor, focus,
SLA state).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, Final, NamedTuple, Protocol

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from console.clock import Clock, SystemClock
from console.sla import LABEL_WIDTH, WARN_SECONDS, SlaState, next_label_change, sla_state
from db.models import NO_DUE, QueueKey, QueueRow
from widgets.text import clean

# Smallest page fetched at once; pages grow with the height so one fetch covers two screens.
MIN_PAGE_ROWS: Final = 50
# The window holds at most this many pages (plus one page in flight): memory is bounded.
WINDOW_PAGES: Final = 4
# A key past the end of the queue: `before=` it gives the last page.
END_KEY: Final = QueueKey(NO_DUE + 1, 0)

# "Nothing announced yet": distinct from None, which announces an empty queue.
_UNSET: Final = object()

# Rows from this priority on get the "!" marker: a large audience, a legal keyword, a crisis...
PRIORITY_MARK: Final = 3
_CHANNEL_SHORT: Final = {"x": "X", "twitter": "X", "mastodon": "MA", "bluesky": "BS"}
_GAP: Final = 1


class QueueSource(Protocol):
    """Where the rows come from: the screen adapts the Store and the current QueueFilter.

    Same contract as `Store.queue_window`: rows in queue order strictly after `after` (or from
    the start), or the `limit` rows just before `before`, always in ascending order.
    """

    async def fetch(
        self, *, after: QueueKey | None, before: QueueKey | None, limit: int
    ) -> list[QueueRow]: ...


class _Column(NamedTuple):
    name: str
    title: str
    x: int
    width: int
    align_right: bool = False


def _layout(width: int) -> tuple[_Column, ...]:
    """Column positions for a widget `width` cells wide; the excerpt takes what is left.

    Narrow terminals lose tags, then assignee, then status: the SLA, who and what stay.
    """
    author = 16 if width >= 110 else 14 if width >= 96 else 12 if width >= 60 else 10
    spec: list[tuple[str, str, int | None, bool]] = [
        ("sla", "SLA", LABEL_WIDTH, True),
        ("channel", "CH", 2, False),
        # One cell, no heading: "!" on high-priority rows (triage score, console/triage.py).
        ("priority", "", 1, False),
        ("author", "AUTHOR", author, False),
        ("excerpt", "MESSAGE", None, False),
    ]
    if width >= 60:
        spec.append(("status", "STATUS", 8, False))
    if width >= 96:
        spec.append(("assignee", "ASSIGNEE", 10, False))
    if width >= 110:
        spec.append(("tags", "TAGS", 16, False))
    fixed = sum(w for _, _, w, _ in spec if w is not None) + _GAP * (len(spec) - 1)
    columns: list[_Column] = []
    x = 0
    for name, title, column_width, align_right in spec:
        cells = column_width if column_width is not None else max(0, width - fixed)
        columns.append(_Column(name, title, x, cells, align_right))
        x += cells + _GAP
    return tuple(columns)


def _fit(text: str, width: int, *, align_right: bool = False) -> str:
    """`text` cut (with an ellipsis) or padded to exactly `width` cells (wide characters too)."""
    if width <= 0:
        return ""
    length = cell_len(text)
    if length > width:
        return set_cell_size(text, width - 1) + "…"
    padding = " " * (width - length)
    return padding + text if align_right else text + padding


def _channel_short(channel: str) -> str:
    return _CHANNEL_SHORT.get(channel) or clean(channel)[:2].upper()


def _row_due(row: QueueRow) -> int | None:
    """The due time the SLA cell counts down to: the queue's own sort key (NO_DUE: none)."""
    return row.sort_due


class QueueList(Widget, can_focus=True):
    """A keyboard-driven, virtual list of queue rows (see the module docstring)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "cursor_down", "Down", show=False, id="down"),
        Binding("k,up", "cursor_up", "Up", show=False, id="up"),
        Binding("g,home", "cursor_first", "First", show=False, id="first"),
        Binding("G,end", "cursor_last", "Last", show=False, id="last"),
        Binding("pagedown", "cursor_page_down", "Page down", show=False, id="page_down"),
        Binding("pageup", "cursor_page_up", "Page up", show=False, id="page_up"),
        Binding("enter", "open", "Open", id="open"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "queue-list--header",
        "queue-list--cursor",
        "queue-list--channel",
        "queue-list--priority",
        "queue-list--author",
        "queue-list--meta",
        "queue-list--sla-ok",
        "queue-list--sla-warn",
        "queue-list--sla-breach",
        "queue-list--sla-none",
        "queue-list--empty",
    }

    DEFAULT_CSS = """
    QueueList {
        height: 1fr;
        background: $surface;
        color: $foreground;
        & > .queue-list--header {
            background: $panel;
            color: $text-muted;
            text-style: bold;
        }
        & > .queue-list--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
        }
        &:focus > .queue-list--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .queue-list--channel { color: $text-secondary; }
        & > .queue-list--priority { color: $text-warning; text-style: bold; }
        & > .queue-list--author { color: $text-primary; }
        & > .queue-list--meta { color: $text-muted; }
        & > .queue-list--sla-ok { color: $text-success; }
        & > .queue-list--sla-warn { color: $text-warning; text-style: bold; }
        & > .queue-list--sla-breach {
            background: $error-muted;
            color: $text-error;
            text-style: bold;
        }
        & > .queue-list--sla-none { color: $text-disabled; }
        & > .queue-list--empty { color: $text-muted; text-style: italic; }
    }
    """

    @dataclass
    class Highlighted(Message):
        """The cursor row changed (another row, the same row updated, or None: empty queue).

        Bursts coalesce (holding `j` delivers the latest), so a preview pane loads one row.
        """

        queue_list: QueueList
        row: QueueRow | None

        @property
        def control(self) -> QueueList:
            return self.queue_list

        def can_replace(self, message: Message) -> bool:
            return (
                isinstance(message, QueueList.Highlighted)
                and message.queue_list is self.queue_list
            )

    @dataclass
    class Selected(Message):
        """Enter (or a double click) on a row: the screen opens it."""

        queue_list: QueueList
        row: QueueRow

        @property
        def control(self) -> QueueList:
            return self.queue_list

    @dataclass
    class FetchFailed(Message):
        """The source raised; the window is left as it was. The screen reports it (cleaned)."""

        queue_list: QueueList
        error: Exception

        @property
        def control(self) -> QueueList:
            return self.queue_list

    def __init__(
        self,
        source: QueueSource | None = None,
        *,
        clock: Clock | None = None,
        empty_message: str = "No mentions match this view",
        warn_seconds: int = WARN_SECONDS,
        tick_interval: float | None = 1.0,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        """`tick_interval=None` disables the SLA timer (tests call `tick()` themselves)."""
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.source: QueueSource | None = source
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.empty_message = empty_message
        self.warn_seconds = warn_seconds
        self._sla_stale = False
        self._tick_interval = tick_interval
        self._timer: Timer | None = None
        self._rows: list[QueueRow] = []
        self._base = 0  # virtual index of _rows[0]
        self._cursor: int | None = None  # virtual index, None when the window is empty
        self._top = 0  # virtual index of the first visible row
        self._at_start = True  # nothing before _rows[0]
        self._at_end = True  # nothing after _rows[-1]
        self._loaded = False  # one fetch done: "empty" now means an empty queue, not "loading"
        # Window mutations (fetch + splice) are serialised; moves inside the window never wait.
        self._lock = asyncio.Lock()
        self._prefetching: set[str] = set()
        self._announced: object = _UNSET  # the last row announced (QueueRow | None)
        self._strips: LRUCache[tuple[object, ...], Strip] = LRUCache(512)
        # What each screen line's SLA cell shows now: (mention id, state), for the tick.
        self._shown_sla: dict[int, tuple[int, SlaState]] = {}
        self._sla_deadline = -math.inf  # no SLA label on screen changes before this instant

    # --- public API ---------------------------------------------------------------------------

    @property
    def highlighted_row(self) -> QueueRow | None:
        """The row under the cursor, or None when the queue is empty (or not loaded yet)."""
        if self._cursor is None:
            return None
        index = self._cursor - self._base
        return self._rows[index] if 0 <= index < len(self._rows) else None

    @property
    def window_rows(self) -> tuple[QueueRow, ...]:
        """The rows held in memory now (a few screens' worth, whatever the queue's size)."""
        return tuple(self._rows)

    @property
    def page_size(self) -> int:
        """Rows per fetch: two screens, so one fetch stays ahead of a page down."""
        return max(MIN_PAGE_ROWS, 2 * self._body_height)

    @property
    def max_window_rows(self) -> int:
        """The window is trimmed back to this many rows (one page may be in flight on top)."""
        return WINDOW_PAGES * self.page_size

    async def reload(self, keep: int | None = None) -> None:
        """Re-read the window: from the start, or around mention `keep` if it is in the window.

        Call after the source changed (new filter). If `keep` is no longer in the queue, the
        cursor stays on the same screen line.
        """
        async with self._lock:
            if keep is not None and self._index_of(keep) is not None:
                await self._reload_around_locked(keep)
            else:
                await self._load_first_locked(keep)

    async def refresh_rows(self, ids: Iterable[int] = ()) -> None:
        """Re-fetch the window after rows changed; repaint only the lines that differ.

        `ids` (the mentions the caller knows changed) is advisory: the whole window is re-read
        in one keyset query anyway, because new or re-timed mentions may have sorted into it.
        The cursor follows its mention while it stays on screen, else keeps its screen line.
        """
        del ids  # see docstring: one window query catches every change, named or not
        async with self._lock:
            await self._refresh_window_locked()

    async def select_id(self, mention_id: int, key: QueueKey | None = None) -> bool:
        """Put the cursor on `mention_id`: found in the window, or loaded at `key` if given.

        Best effort: without its key a mention outside the window cannot be located by keyset.
        """
        index = self._index_of(mention_id)
        if index is not None:
            self._place(index)
            return True
        if key is None:
            return False
        async with self._lock:
            limit = self.page_size
            rows = await self._fetch(after=_just_before(key), before=None, limit=limit)
            if not rows or rows[0].id != mention_id:
                return False
            self._replace_window(rows, at_start=False, at_end=len(rows) < limit, cursor=0, line=0)
            return True

    def tick(self) -> int:
        """Repaint the SLA cells of visible rows whose label or level changed; return how many.

        Called once a second by a timer; cheap when nothing changes (skipped entirely until the
        earliest announced label change). Only the SLA cells are refreshed, never whole lines.
        """
        now = self.clock.now()
        if now < self._sla_deadline:
            return 0
        self._sla_deadline = math.inf
        column = self._column("sla")
        if column is None:
            return 0
        regions: list[Region] = []
        for line, row in self._visible_rows():
            due = _row_due(row)
            state = sla_state(due, now, self.warn_seconds)
            self._note_deadline(due, now)
            if self._shown_sla.get(line) != (row.id, state):
                regions.append(Region(column.x, line + 1, column.width, 1))
        if regions:
            self.refresh(*regions)
        return len(regions)

    # --- actions ------------------------------------------------------------------------------

    async def action_cursor_down(self) -> None:
        await self._move_by(1)

    async def action_cursor_up(self) -> None:
        await self._move_by(-1)

    async def action_cursor_page_down(self) -> None:
        await self._move_by(self._body_height, page=True)

    async def action_cursor_page_up(self) -> None:
        await self._move_by(-self._body_height, page=True)

    async def action_cursor_first(self) -> None:
        if self._at_start and self._rows:
            self._place(self._base, line=0)
            return
        async with self._lock:
            await self._load_first_locked()

    async def action_cursor_last(self) -> None:
        if self._at_end and self._rows:
            last = self._base + len(self._rows) - 1
            self._place(last, line=self._body_height - 1)
            return
        async with self._lock:
            await self._load_last_locked()

    def action_open(self) -> None:
        row = self.highlighted_row
        if row is not None:
            self.post_message(self.Selected(self, row))

    # --- events -------------------------------------------------------------------------------

    def on_mount(self) -> None:
        if self._tick_interval is not None:
            self._timer = self.set_interval(self._tick_interval, self.tick)
        if self.source is not None:
            # After the first layout: the page size follows the height, unknown until then.
            self.call_after_refresh(self._initial_load)

    def _initial_load(self) -> None:
        self.run_worker(self.reload(), group="queue-list-load", exit_on_error=False)

    def on_resize(self, event: events.Resize) -> None:
        # The page size follows the height; keep the cursor visible and the window full.
        self._shown_sla.clear()
        if self._cursor is not None:
            self._place(self._cursor)

    def on_focus(self, event: events.Focus) -> None:
        self._refresh_cursor_line()

    def on_blur(self, event: events.Blur) -> None:
        self._refresh_cursor_line()

    async def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1 or self._index_at_line(offset.y - 1) is None:
            return
        target = self._top + offset.y - 1
        if target == self._cursor and event.chain >= 2:
            self.action_open()
        else:
            self._place(target)

    async def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        await self._move_by(1)

    async def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        await self._move_by(-1)

    def notify_style_update(self) -> None:
        # A theme change restyles every component: cached strips hold the old colours.
        super().notify_style_update()
        self._strips.clear()

    # --- rendering (Line API) -----------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            return self._header_strip(width)
        line = y - 1
        if not self._rows:
            self._shown_sla.pop(line, None)
            if self._loaded and line == self._body_height // 2:
                return self._empty_strip(width)
            return Strip.blank(width, self.get_visual_style().rich_style)
        index = self._index_at_line(line)
        if index is None:
            self._shown_sla.pop(line, None)
            return Strip.blank(width, self.get_visual_style().rich_style)
        row = self._rows[index]
        now = self.clock.now()
        due = _row_due(row)
        state = sla_state(due, now, self.warn_seconds)
        self._shown_sla[line] = (row.id, state)
        self._note_deadline(due, now)
        return self._row_strip(row, width, self._top + line == self._cursor, state)

    def _row_strip(self, row: QueueRow, width: int, is_cursor: bool, sla: SlaState) -> Strip:
        key = (row, width, is_cursor, self.has_focus, sla)
        cached = self._strips.get(key)
        if cached is not None:
            return cached
        row_style = self._cell_style(is_cursor, "")
        segments: list[Segment] = []
        for column in _layout(width):
            if segments:
                segments.append(Segment(" " * _GAP, row_style))
            text, component = self._cell(row, column, sla)
            style = self._cell_style(is_cursor, component)
            cell = _fit(text, column.width, align_right=column.align_right)
            segments.append(Segment(cell, style))
        strip = Strip(segments).adjust_cell_length(width, row_style)
        self._strips[key] = strip
        return strip

    def _cell_style(self, is_cursor: bool, component: str) -> Style:
        """On the cursor row the cursor colours win (contrast on $primary), except the SLA
        colour: a breach must stay red under the cursor too."""
        if not is_cursor:
            return self.get_visual_style(*filter(None, [component])).rich_style
        if component.startswith("queue-list--sla-"):
            return self.get_visual_style("queue-list--cursor", component).rich_style
        return self.get_visual_style(*filter(None, [component]), "queue-list--cursor").rich_style

    def _cell(self, row: QueueRow, column: _Column, sla: SlaState) -> tuple[str, str]:
        """Plain text of one cell and its component class. Outside text goes through clean()."""
        name = column.name
        if name == "sla":
            return sla.label, f"queue-list--sla-{sla.level}"
        if name == "channel":
            return _channel_short(row.channel), "queue-list--channel"
        if name == "priority":
            return ("!" if row.priority >= PRIORITY_MARK else ""), "queue-list--priority"
        if name == "author":
            return clean(row.author_handle, max_chars=column.width + 1), "queue-list--author"
        if name == "excerpt":
            return clean(row.excerpt, max_chars=column.width + 1), ""
        if name == "status":
            return str(row.status), "queue-list--meta"
        if name == "assignee":
            return clean(row.assignee or "", max_chars=column.width + 1), "queue-list--meta"
        if name == "tags":
            tags = " ".join("#" + clean(tag) for tag in row.tags)
            return clean(tags, max_chars=column.width + 1), "queue-list--meta"
        return "", ""

    @property
    def sla_stale(self) -> bool:
        """True when the screen says sync is stale: the SLA heading becomes `SLA~`, so the
        countdowns do not pretend the local queue is complete."""
        return self._sla_stale

    @sla_stale.setter
    def sla_stale(self, value: bool) -> None:
        if value != self._sla_stale:
            self._sla_stale = value
            self.refresh(Region(0, 0, self.size.width, 1))  # the heading line only

    def _header_strip(self, width: int) -> Strip:
        key = ("header", width, self._sla_stale)
        cached = self._strips.get(key)
        if cached is not None:
            return cached
        style = self.get_visual_style("queue-list--header").rich_style
        text = " ".join(
            _fit(
                "SLA~" if column.name == "sla" and self._sla_stale else column.title,
                column.width, align_right=column.align_right,
            )
            for column in _layout(width)
        )
        strip = Strip([Segment(_fit(text, width), style)], width)
        self._strips[key] = strip
        return strip

    def _empty_strip(self, width: int) -> Strip:
        # The message may be built by the screen from a user's search text: clean it too.
        message = clean(self.empty_message, max_chars=max(1, width))
        left = max(0, (width - cell_len(message)) // 2)
        style: Style = self.get_visual_style("queue-list--empty").rich_style
        return Strip([Segment(_fit(" " * left + message, width), style)], width)

    # --- cursor and viewport ------------------------------------------------------------------

    @property
    def _body_height(self) -> int:
        return max(1, self.size.height - 1)

    def _visible_rows(self) -> Iterable[tuple[int, QueueRow]]:
        for line in range(self._body_height):
            index = self._index_at_line(line)
            if index is None:
                return
            yield line, self._rows[index]

    def _index_at_line(self, line: int) -> int | None:
        index = self._top + line - self._base
        return index if 0 <= index < len(self._rows) else None

    def _index_of(self, mention_id: int) -> int | None:
        """Virtual index of `mention_id` in the window, if held."""
        for index, row in enumerate(self._rows):
            if row.id == mention_id:
                return self._base + index
        return None

    def _column(self, name: str) -> _Column | None:
        return next((c for c in _layout(self.size.width) if c.name == name), None)

    async def _move_by(self, delta: int, *, page: bool = False) -> None:
        if self._cursor is None:
            return
        target = self._cursor + delta
        # A page move shifts the viewport too, so the screen below must be loaded as well.
        needed = target + (self._body_height if page and delta > 0 else 0)
        if page and delta < 0:
            needed = target - self._body_height
        if not self._holds(needed):
            async with self._lock:
                await self._reach_locked(needed)
        line = (self._cursor - self._top) if page else None
        self._place(self._clamp(target), line=line)

    def _holds(self, index: int) -> bool:
        return self._base <= index < self._base + len(self._rows)

    def _clamp(self, index: int) -> int:
        return min(max(index, self._base), self._base + len(self._rows) - 1)

    def _place(self, cursor: int, *, line: int | None = None) -> None:
        """Move the cursor to virtual index `cursor`, scrolling as little as possible (or so the
        cursor lands on screen `line`), repaint what changed and tell the screen."""
        if not self._rows:
            self._cursor = None
            self._announce()
            return
        height = self._body_height
        cursor = self._clamp(cursor)
        top = self._top if line is None else cursor - line
        if cursor < top:
            top = cursor
        elif cursor >= top + height:
            top = cursor - height + 1
        last = self._base + len(self._rows) - 1
        top = max(self._base, min(top, last - height + 1))
        old_cursor, old_top = self._cursor, self._top
        self._cursor, self._top = cursor, top
        if top != old_top:
            self.refresh()
        elif cursor != old_cursor:
            self._refresh_line_of(old_cursor)
            self._refresh_line_of(cursor)
        self._announce()
        self._maybe_prefetch()

    def _refresh_line_of(self, index: int | None) -> None:
        if index is None:
            return
        line = index - self._top
        if 0 <= line < self._body_height:
            self.refresh(Region(0, line + 1, self.size.width, 1))

    def _refresh_cursor_line(self) -> None:
        self._refresh_line_of(self._cursor)

    def _announce(self) -> None:
        row = self.highlighted_row
        if row != self._announced:
            self._announced = row
            self.post_message(self.Highlighted(self, row))

    def _note_deadline(self, due: int | None, now: float) -> None:
        wait = next_label_change(due, now, self.warn_seconds)
        self._sla_deadline = min(self._sla_deadline, now + wait)

    # --- the window ---------------------------------------------------------------------------

    async def _fetch(
        self, *, after: QueueKey | None, before: QueueKey | None, limit: int
    ) -> list[QueueRow] | None:
        """One page from the source; None (and a FetchFailed message) if it raised."""
        if self.source is None:
            return []
        try:
            return await self.source.fetch(after=after, before=before, limit=limit)
        except Exception as error:  # reported, not fatal: the window stays as it was
            self.post_message(self.FetchFailed(self, error))
            return None

    def _replace_window(
        self,
        rows: list[QueueRow],
        *,
        at_start: bool,
        at_end: bool,
        cursor: int | None = None,
        line: int | None = None,
    ) -> None:
        """Swap in a freshly fetched window; `cursor` is an index into `rows`."""
        self._rows = rows
        self._base = 0
        self._at_start = at_start
        self._at_end = at_end
        self._loaded = True
        self._top = 0
        self._cursor = None
        self._shown_sla.clear()
        self.refresh()
        if rows:
            self._place(0 if cursor is None else cursor, line=line)
        else:
            self._announce()

    async def _load_first_locked(self, keep: int | None = None) -> None:
        limit = self.page_size
        rows = await self._fetch(after=None, before=None, limit=limit)
        if rows is None:
            return
        cursor = next((i for i, row in enumerate(rows) if row.id == keep), 0)
        self._replace_window(rows, at_start=True, at_end=len(rows) < limit, cursor=cursor)

    async def _load_last_locked(self) -> None:
        limit = self.page_size
        rows = await self._fetch(after=None, before=END_KEY, limit=limit)
        if rows is None:
            return
        self._replace_window(
            rows,
            at_start=len(rows) < limit,
            at_end=True,
            cursor=len(rows) - 1,
            line=self._body_height - 1,
        )

    async def _reload_around_locked(self, keep: int) -> None:
        """Re-read from one screen above the current top, so `keep` keeps its screen line."""
        assert self._cursor is not None
        start = max(self._base, self._top - self._body_height)
        from_queue_start = start == self._base and self._at_start
        anchor = None if from_queue_start else _just_before(self._rows[start - self._base].key)
        limit = self.page_size
        rows = await self._fetch(after=anchor, before=None, limit=limit)
        if rows is None:
            return
        if not rows:
            await self._load_last_locked()
            return
        line = self._cursor - self._top
        found = next((i for i, row in enumerate(rows) if row.id == keep), None)
        cursor = found if found is not None else self._cursor - start
        self._replace_window(
            rows, at_start=from_queue_start, at_end=len(rows) < limit, cursor=cursor, line=line
        )

    async def _refresh_window_locked(self) -> None:
        if not self._rows:
            await self._load_first_locked()
            return
        anchor = None if self._at_start else _just_before(self._rows[0].key)
        limit = max(len(self._rows), self.page_size)
        rows = await self._fetch(after=anchor, before=None, limit=limit)
        if rows is None:
            return
        if not rows:
            await self._load_last_locked()
            return
        before = {line: self._rows[index] for line, index in self._line_indexes()}
        old_cursor_row, old_cursor = self.highlighted_row, self._cursor
        self._rows = rows
        self._at_end = len(rows) < limit
        self._cursor = self._follow(old_cursor_row, old_cursor)
        old_top = self._top
        self._place(self._cursor)
        if self._top == old_top:
            self._repaint_changed(before, old_cursor)

    def _follow(self, row: QueueRow | None, cursor: int | None) -> int:
        """Where the cursor goes after a refresh: its mention if still on screen, else its
        old position (so resolving a row moves the cursor onto the next one, not away)."""
        if row is not None:
            index = self._index_of(row.id)
            if index is not None and 0 <= index - self._top < self._body_height:
                return index
        return self._clamp(cursor if cursor is not None else self._base)

    def _line_indexes(self) -> Iterable[tuple[int, int]]:
        for line in range(self._body_height):
            index = self._index_at_line(line)
            if index is not None:
                yield line, index

    def _repaint_changed(self, before: dict[int, QueueRow], old_cursor: int | None) -> None:
        """After a refresh that kept the viewport still, repaint only the lines that differ."""
        height = self._body_height
        for line in range(height):
            index = self._index_at_line(line)
            now_row = self._rows[index] if index is not None else None
            virtual = self._top + line
            cursor_moved = (virtual == old_cursor) != (virtual == self._cursor)
            if now_row != before.get(line) or cursor_moved:
                self.refresh(Region(0, line + 1, self.size.width, 1))

    async def _reach_locked(self, index: int) -> None:
        """Fetch pages until virtual `index` is in the window or the queue ends."""
        while self._rows and index >= self._base + len(self._rows) and not self._at_end:
            if not await self._extend_end_locked():
                break
        while self._rows and index < self._base and not self._at_start:
            if not await self._extend_start_locked():
                break

    async def _extend_end_locked(self) -> int:
        """Append the page after the window; trim the front. Returns the rows added."""
        if not self._rows:
            return 0
        limit = self.page_size
        rows = await self._fetch(after=self._rows[-1].key, before=None, limit=limit)
        if rows is None:
            return 0
        first_new = self._base + len(self._rows)
        self._rows.extend(rows)
        self._at_end = len(rows) < limit
        self._trim_front()
        self._repaint_if_visible(first_new, len(rows))
        return len(rows)

    async def _extend_start_locked(self) -> int:
        """Prepend the page before the window; trim the back. Returns the rows added."""
        if not self._rows:
            return 0
        limit = self.page_size
        rows = await self._fetch(after=None, before=self._rows[0].key, limit=limit)
        if rows is None:
            return 0
        self._rows[:0] = rows
        self._base -= len(rows)
        self._at_start = len(rows) < limit
        self._trim_back()
        self._repaint_if_visible(self._base, len(rows))
        return len(rows)

    def _trim_front(self) -> None:
        # Keep one screen above the viewport so `k` right after a jump never waits.
        excess = len(self._rows) - self.max_window_rows
        drop = min(excess, self._top - self._base - self._body_height)
        if drop > 0:
            del self._rows[:drop]
            self._base += drop
            self._at_start = False

    def _trim_back(self) -> None:
        excess = len(self._rows) - self.max_window_rows
        last = self._base + len(self._rows) - 1
        drop = min(excess, last - (self._top + 2 * self._body_height - 1))
        if drop > 0:
            del self._rows[len(self._rows) - drop :]
            self._at_end = False

    def _repaint_if_visible(self, first: int, count: int) -> None:
        if count and first < self._top + self._body_height and first + count > self._top:
            self.refresh()

    def _maybe_prefetch(self) -> None:
        """Fetch the next/previous page in the background when the viewport nears an edge."""
        height = self._body_height
        below = self._base + len(self._rows) - (self._top + height)
        if not self._at_end and below < height:
            self._start_prefetch("end")
        if not self._at_start and self._top - self._base < height:
            self._start_prefetch("start")

    def _start_prefetch(self, side: str) -> None:
        if side in self._prefetching:
            return
        self._prefetching.add(side)
        self.run_worker(
            self._prefetch(side), group=f"queue-list-prefetch-{side}", exit_on_error=False
        )

    async def _prefetch(self, side: str) -> None:
        try:
            async with self._lock:
                height = self._body_height
                if side == "end":
                    below = self._base + len(self._rows) - (self._top + height)
                    if not self._at_end and below < height:
                        await self._extend_end_locked()
                elif not self._at_start and self._top - self._base < height:
                    await self._extend_start_locked()
        finally:
            self._prefetching.discard(side)


def _just_before(key: QueueKey) -> QueueKey:
    """A key strictly between `key` and its predecessor: `after=` it starts at `key` itself
    (ids are integers, so nothing sorts between (due, id - 1) and (due, id))."""
    return QueueKey(key.sort_due, key.id - 1)


__all__ = ["END_KEY", "QueueList", "QueueSource"]
