"""Pilot tests of the virtual queue list against in-memory keyset sources (no db, no sleeps)."""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Callable

import pytest
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.pilot import Pilot
from textual.worker import NoActiveWorker, get_current_worker

from console.clock import FrozenClock
from db.models import NO_DUE, QueueKey, QueueRow, Status
from widgets.queue_list import END_KEY, QueueList

T0 = 1_700_000_000
SIZE = (120, 40)
BODY = SIZE[1] - 1  # one header line


def make_row(index: int, *, due: int | None = None, **changes: object) -> QueueRow:
    """Row `index` (0-based) of a synthetic queue: due one minute apart, ids follow order."""
    row = QueueRow(
        id=index + 1,
        channel=("x", "mastodon", "bluesky")[index % 3],
        author_handle=f"user{index + 1}",
        author_name=f"User {index + 1}",
        excerpt=f"message number {index + 1}",
        status=Status.NEW,
        assignee="alice" if index % 2 else None,
        tags=("billing",) if index % 4 == 0 else (),
        first_reply_due=T0 + 60 * (index + 1),
        sort_due=T0 + 60 * (index + 1) if due is None else due,
        priority=0,
        created_at=T0 - 3600,
        customer_id=index + 1,
    )
    return dataclasses.replace(row, **changes) if changes else row


def _in_worker() -> bool:
    try:
        get_current_worker()
    except NoActiveWorker:
        return False
    return True


class _Keys:
    """A lazy sequence of sort keys so `bisect` finds a key's place without building a list."""

    def __init__(self, length: int, row: Callable[[int], QueueRow]) -> None:
        self._length, self._row = length, row

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: int) -> tuple[int, int]:
        row = self._row(index)
        return (row.sort_due, row.id)


class FakeSource:
    """Keyset pagination like Store.queue_window over rows made on demand: 10**6 rows cost
    nothing. Records every call so tests can check the widget pages by keyset."""

    def __init__(self, count: int, row: Callable[[int], QueueRow] = make_row) -> None:
        self.count = count
        self.row = row
        self.calls: list[tuple[QueueKey | None, QueueKey | None, int]] = []
        self.in_worker: list[bool] = []
        self.fail = False

    def _keys(self) -> _Keys:
        return _Keys(self.count, self.row)

    async def fetch(
        self, *, after: QueueKey | None, before: QueueKey | None, limit: int
    ) -> list[QueueRow]:
        self.calls.append((after, before, limit))
        self.in_worker.append(_in_worker())
        if self.fail:
            raise RuntimeError("database is locked")
        keys = self._keys()
        if before is not None:
            end = bisect.bisect_left(keys, (before.sort_due, before.id))
            return [self.row(i) for i in range(max(0, end - limit), end)]
        start = 0 if after is None else bisect.bisect_right(keys, (after.sort_due, after.id))
        return [self.row(i) for i in range(start, min(self.count, start + limit))]


class ListSource(FakeSource):
    """A small mutable queue (a sorted list) for refresh tests."""

    def __init__(self, rows: list[QueueRow]) -> None:
        self.rows = rows
        super().__init__(len(rows), lambda i: self.rows[i])

    def _keys(self) -> _Keys:
        self.rows.sort(key=lambda r: (r.sort_due, r.id))
        self.count = len(self.rows)
        return _Keys(self.count, self.row)


class QueueApp(App[None]):
    def __init__(self, source: FakeSource, clock: FrozenClock | None = None, **kwargs: object):
        super().__init__()
        self.source = source
        self.clock = clock or FrozenClock(T0)
        self.kwargs = kwargs
        self.highlighted: list[QueueRow | None] = []
        self.selected: list[QueueRow] = []
        self.failures: list[Exception] = []

    def compose(self) -> ComposeResult:
        yield QueueList(self.source, clock=self.clock, tick_interval=None, **self.kwargs)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        self.query_one(QueueList).focus()

    def on_queue_list_highlighted(self, message: QueueList.Highlighted) -> None:
        assert message.control is self.query_one(QueueList)
        self.highlighted.append(message.row)

    def on_queue_list_selected(self, message: QueueList.Selected) -> None:
        self.selected.append(message.row)

    def on_queue_list_fetch_failed(self, message: QueueList.FetchFailed) -> None:
        self.failures.append(message.error)


async def settle(pilot: Pilot[None]) -> None:
    """Let the load / prefetch workers finish and the messages drain."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def queue_list(pilot: Pilot[None]) -> QueueList:
    return pilot.app.query_one(QueueList)


def lines(widget: QueueList) -> list[str]:
    return [widget.render_line(y).text for y in range(widget.size.height)]


def cursor_id(pilot: Pilot[None]) -> int | None:
    row = queue_list(pilot).highlighted_row
    return None if row is None else row.id


async def press(pilot: Pilot[None], *keys: str) -> None:
    await pilot.press(*keys)
    await settle(pilot)


# --- movement ------------------------------------------------------------------------------


async def test_keys_move_the_cursor_and_post_highlighted() -> None:
    app = QueueApp(FakeSource(10))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert cursor_id(pilot) == 1
        assert [r.id for r in app.highlighted if r] == [1]
        for keys, expected in [
            (("j",), 2),
            (("down",), 3),
            (("k",), 2),
            (("up",), 1),
            (("up",), 1),  # top of the queue: stays, posts nothing new
            (("G",), 10),
            (("g",), 1),
            (("end",), 10),
            (("home",), 1),
            (("pagedown",), 10),  # ten rows fit on screen: a page down reaches the last
            (("pageup",), 1),
        ]:
            await press(pilot, *keys)
            assert cursor_id(pilot) == expected, keys
            assert app.highlighted[-1] is not None and app.highlighted[-1].id == expected
        # One Highlighted per real change, none for the blocked "up".
        assert [r.id for r in app.highlighted if r] == [1, 2, 3, 2, 1, 10, 1, 10, 1, 10, 1]


async def test_page_keys_move_by_the_visible_height() -> None:
    app = QueueApp(FakeSource(1000))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "j", "j")
        await press(pilot, "pagedown")
        assert cursor_id(pilot) == 3 + BODY
        # The cursor keeps its screen line: row 3 + BODY is on line 3 (after the header).
        assert lines(queue_list(pilot))[3].split()[2] == f"user{3 + BODY}"
        await press(pilot, "pageup")
        assert cursor_id(pilot) == 3


async def test_moving_across_pages_fetches_by_keyset_and_trims() -> None:
    source = FakeSource(5000)
    app = QueueApp(source)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        widget = queue_list(pilot)
        page = widget.page_size
        assert source.calls == [(None, None, page)]
        for _ in range(15):
            await press(pilot, "pagedown")
        assert cursor_id(pilot) == 1 + 15 * BODY
        window = widget.window_rows
        assert len(window) <= widget.max_window_rows + page
        assert window[0].id > 1  # the front was trimmed
        # Every forward fetch continued right after the window's last key at the time.
        forward = [after for after, before, _ in source.calls[1:] if before is None]
        assert forward and all(after is not None for after in forward)
        assert [a.id for a in forward if a] == sorted(a.id for a in forward if a)
        for _ in range(15):
            await press(pilot, "pageup")
        assert cursor_id(pilot) == 1
        backward = [before for _, before, _ in source.calls if before is not None]
        assert backward, "trimmed rows are fetched back with before="
        assert len(widget.window_rows) <= widget.max_window_rows + page


async def test_j_never_waits_on_the_source_in_steady_state() -> None:
    source = FakeSource(2000)
    app = QueueApp(source)
    # A short screen (10 rows, 50-row pages) crosses page edges within 100 presses.
    async with app.run_test(size=(120, 12)) as pilot:
        await settle(pilot)
        loads = len(source.calls)
        await pilot.press(*["j"] * 100)  # like holding j: the prefetch runs between presses
        await settle(pilot)
        assert cursor_id(pilot) == 101
        # Every page after the first load came from a background prefetch, none from a key.
        assert len(source.calls) >= loads + 2
        assert source.in_worker[loads:] == [True] * (len(source.calls) - loads)


async def test_a_million_rows_end_then_up_with_a_bounded_window() -> None:
    source = FakeSource(1_000_000)
    app = QueueApp(source)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        widget = queue_list(pilot)
        await press(pilot, "G")
        assert cursor_id(pilot) == 1_000_000
        assert (None, END_KEY, widget.page_size) in source.calls
        await press(pilot, "k")
        assert cursor_id(pilot) == 999_999
        for _ in range(5):
            await press(pilot, "pageup")
        assert cursor_id(pilot) == 999_999 - 5 * BODY
        assert len(widget.window_rows) <= widget.max_window_rows + widget.page_size
        # The last screen shows the last rows, the cursor row highlighted by id.
        await press(pilot, "end")
        assert lines(widget)[-1].split()[2] == "user1000000"
        await press(pilot, "g")
        assert cursor_id(pilot) == 1
        assert len(source.calls) < 20


async def test_enter_posts_selected() -> None:
    app = QueueApp(FakeSource(10))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "j", "enter")
        assert [row.id for row in app.selected] == [2]


async def test_select_id_and_reload_keep_the_mention() -> None:
    source = FakeSource(500)
    app = QueueApp(source)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        widget = queue_list(pilot)
        assert await widget.select_id(30)
        await settle(pilot)
        assert cursor_id(pilot) == 30
        await widget.reload(keep=30)
        await settle(pilot)
        assert cursor_id(pilot) == 30
        # Outside the window: found only with its key.
        assert not await widget.select_id(400)
        assert await widget.select_id(400, key=make_row(399).key)
        await settle(pilot)
        assert cursor_id(pilot) == 400
        await press(pilot, "k")
        assert cursor_id(pilot) == 399
        await widget.reload()
        await settle(pilot)
        assert cursor_id(pilot) == 1


# --- SLA ticking ---------------------------------------------------------------------------


async def test_tick_refreshes_only_the_sla_cells_that_changed() -> None:
    # Every other row has no SLA running: its "--:--" never changes.
    def row(index: int) -> QueueRow:
        return make_row(index, due=NO_DUE if index % 2 else None)

    clock = FrozenClock(T0)
    app = QueueApp(FakeSource(100, row), clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        widget = queue_list(pilot)
        assert lines(widget)[1].split()[0] == "00:01"
        assert widget.tick() == 0  # nothing changed yet

        refreshed: list[Region] = []
        original = widget.refresh

        def spy(*regions: Region, **kwargs: object) -> QueueList:
            assert regions, "the tick never refreshes the whole widget"
            refreshed.extend(regions)
            return original(*regions, **kwargs)  # type: ignore[arg-type]

        widget.refresh = spy  # type: ignore[method-assign]
        clock.advance(60)
        changed = widget.tick()
        widget.refresh = original  # type: ignore[method-assign]

        timed_lines = [y for y in range(1, BODY + 1) if (y - 1) % 2 == 0]
        assert changed == len(timed_lines)
        assert refreshed == [Region(0, y, 7, 1) for y in timed_lines]  # the SLA cells only
        await pilot.pause()
        text = lines(widget)
        assert text[1].split()[0] == "00:00"  # row 1 is due now: not yet breached
        assert text[2].split()[0] == "--:--"
        assert text[3].split()[0] == "00:02"
        assert widget.tick() == 0  # same instant: skipped


async def test_tick_is_skipped_until_the_next_label_change() -> None:
    clock = FrozenClock(T0 + 30)
    app = QueueApp(FakeSource(5), clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        widget = queue_list(pilot)
        clock.advance(29)
        assert widget.tick() == 0
        clock.advance(1)  # row 1 reaches its due instant
        assert widget.tick() == 5


# --- rendering -----------------------------------------------------------------------------

HOSTILE = [
    "[@click=app.quit]",
    "\x1b[2Jwiped \x1b]52;c;ZXZpbA==\x07clipboard",
    "[/bold] [link=https://evil.example]x[/link]",
    "abc\u202edef",
]


async def test_hostile_text_renders_literally_and_inertly() -> None:
    def row(index: int) -> QueueRow:
        hostile = HOSTILE[index % len(HOSTILE)]
        return make_row(index, excerpt=hostile, author_handle=hostile, tags=(hostile,))

    app = QueueApp(FakeSource(4, row))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = lines(queue_list(pilot))
        assert "[@click=app.quit]" in text[1]
        assert "\x1b" not in "".join(text) and "\x07" not in "".join(text)
        assert "wiped clipboard" in text[2]
        assert "[/bold] [link=https://evil.example]x[/link]" in text[3]
        assert "abc<U+202E>def" in text[4]
        for y in range(1, 5):
            strip = queue_list(pilot).render_line(y)
            assert all(not segment.style or not segment.style.meta for segment in strip)
        await pilot.click(QueueList, offset=(30, 1))
        await settle(pilot)
        assert app.is_running  # clicking the "[@click=app.quit]" text did nothing


async def test_empty_queue_shows_the_message() -> None:
    app = QueueApp(FakeSource(0))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        widget = queue_list(pilot)
        text = lines(widget)
        line = text[1 + BODY // 2]
        assert line.strip() == "No mentions match this view"
        assert abs(line.index("No") - (SIZE[0] - len(line.strip()) - line.index("No"))) <= 1
        assert widget.highlighted_row is None
        await press(pilot, "enter", "j", "G")
        assert app.selected == []
        widget.empty_message = "Nothing for [b]search[/b]\x1b[2J"
        widget.refresh()
        await pilot.pause()
        assert lines(widget)[1 + BODY // 2].strip() == "Nothing for [b]search[/b]"


@pytest.mark.parametrize(
    ("width", "shown", "hidden"),
    [
        (120, ["SLA", "CH", "AUTHOR", "MESSAGE", "STATUS", "ASSIGNEE", "TAGS"], []),
        (100, ["SLA", "CH", "AUTHOR", "MESSAGE", "STATUS", "ASSIGNEE"], ["TAGS"]),
        (80, ["SLA", "CH", "AUTHOR", "MESSAGE", "STATUS"], ["ASSIGNEE", "TAGS"]),
    ],
)
async def test_columns_adapt_to_the_width(width: int, shown: list[str], hidden: list[str]) -> None:
    app = QueueApp(FakeSource(10))
    async with app.run_test(size=(width, 24)) as pilot:
        await settle(pilot)
        widget = queue_list(pilot)
        header, first = lines(widget)[0], lines(widget)[1]
        assert header.split() == shown
        for name in hidden:
            assert name not in header
        for y in range(widget.size.height):
            assert widget.render_line(y).cell_length == width
        # The row's cells line up under their headings.
        assert first.index("user1") == header.index("AUTHOR")
        assert first.index("message number 1") == header.index("MESSAGE")
        assert first.index("new") == header.index("STATUS")
        # Between channel and author, one cell for the priority marker (blank: priority 0).
        assert first.startswith("  00:01 X    user1")
        if "TAGS" in shown:
            assert first.index("#billing") == header.index("TAGS")
        second = lines(widget)[2]
        if "ASSIGNEE" in shown:
            assert second.index("alice") == header.index("ASSIGNEE")
            assert second[header.index("CH") :].startswith("MA")


async def test_long_and_wide_text_is_cut_to_the_column() -> None:
    def row(index: int) -> QueueRow:
        return make_row(index, excerpt="日本語のテキスト" * 20, author_handle="a" * 40)

    app = QueueApp(FakeSource(3, row))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        widget = queue_list(pilot)
        strip = widget.render_line(1)
        assert strip.cell_length == 80
        assert "…" in strip.text
        assert strip.text.rstrip().endswith("new")


# --- refresh and errors --------------------------------------------------------------------


async def test_refresh_rows_repaints_only_changed_lines() -> None:
    source = ListSource([make_row(i) for i in range(10)])
    app = QueueApp(source)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        widget = queue_list(pilot)
        await press(pilot, "j")  # cursor on mention 2
        source.rows[4] = dataclasses.replace(source.rows[4], excerpt="edited text")

        refreshed: list[tuple[Region, ...]] = []
        original = widget.refresh

        def spy(*regions: Region, **kwargs: object) -> QueueList:
            refreshed.append(regions)
            return original(*regions, **kwargs)  # type: ignore[arg-type]

        widget.refresh = spy  # type: ignore[method-assign]
        await widget.refresh_rows([5])
        widget.refresh = original  # type: ignore[method-assign]
        assert refreshed == [(Region(0, 5, SIZE[0], 1),)]
        await pilot.pause()
        assert "edited text" in lines(widget)[5]
        assert cursor_id(pilot) == 2

        # The cursor's mention is resolved away: the cursor stays on its line (next mention).
        del source.rows[1]
        await widget.refresh_rows([2])
        await settle(pilot)
        assert cursor_id(pilot) == 3
        assert app.highlighted[-1] is not None and app.highlighted[-1].id == 3

        # A mention edited in place keeps the cursor and re-announces the new row.
        source.rows[1] = dataclasses.replace(source.rows[1], assignee="bob")
        await widget.refresh_rows([3])
        await settle(pilot)
        assert app.highlighted[-1] is not None and app.highlighted[-1].assignee == "bob"


async def test_fetch_failure_is_reported_not_fatal() -> None:
    source = FakeSource(10)
    app = QueueApp(source)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        source.fail = True
        await queue_list(pilot).reload()
        await settle(pilot)
        assert [str(e) for e in app.failures] == ["database is locked"]
        assert cursor_id(pilot) == 1  # the old window stays
        assert app.is_running

