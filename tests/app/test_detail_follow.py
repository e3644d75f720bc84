"""The detail pane follows the cursor: at once after a rest, and once at the end of a burst of
j/k presses, which meanwhile repaint queue lines only.

A burst is moves within `detail_delay` (a real-time timer) of each other; these tests set a delay
the test never reaches and call `flush_detail()` where the timer would fire, so nothing waits on
time.
"""

from __future__ import annotations

from console.app import ComptoirApp
from console.screens.main import DETAIL_DELAY, MainScreen
from widgets.mention_detail import MentionDetail

from .test_workflows import main, settle

NEVER = 3600.0  # a delay no test reaches: only flush_detail() loads


def _count_loads(screen: MainScreen) -> list[int]:
    """Record each detail load the screen starts (the worker still runs)."""
    loads: list[int] = []
    load = screen.load_detail

    def counting(mention_id: int) -> object:
        loads.append(mention_id)
        return load(mention_id)

    screen.load_detail = counting  # type: ignore[method-assign]
    return loads


def _shown_id(app: ComptoirApp) -> int | None:
    mention = app.screen.query_one(MentionDetail).mention
    return mention.id if mention is not None else None


async def test_a_burst_of_moves_loads_the_detail_at_its_start_and_once_at_rest(
    app: ComptoirApp,
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = main(app)
        rows = screen.queue.window_rows
        assert len(rows) >= 5
        assert _shown_id(app) == rows[0].id
        screen.detail_delay = NEVER
        loads = _count_loads(screen)

        for key in "jjj":
            await pilot.press(key)
        await settle(pilot)
        # The cursor moved at every press; the pane loaded for the first press only (the cursor
        # was resting), the rest of the burst waits for the cursor to rest.
        assert screen.queue.highlighted_row == rows[3]
        assert loads == [rows[1].id]
        assert _shown_id(app) == rows[1].id

        assert screen.flush_detail() is True  # where the timer fires once the cursor rests
        await settle(pilot)
        assert loads == [rows[1].id, rows[3].id]
        assert _shown_id(app) == rows[3].id
        assert screen.flush_detail() is False  # nothing pending any more

        await pilot.press("j")  # after a rest: at once again
        await settle(pilot)
        assert loads == [rows[1].id, rows[3].id, rows[4].id]
        assert _shown_id(app) == rows[4].id


async def test_opening_a_row_shows_its_detail_without_waiting(app: ComptoirApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = main(app)
        rows = screen.queue.window_rows
        screen.detail_delay = NEVER
        await pilot.press("j")
        await pilot.press("j")  # within the burst: its detail waits
        await settle(pilot)
        assert _shown_id(app) == rows[1].id
        await pilot.press("enter")
        await settle(pilot)
        assert screen.has_class("-detail-open")
        assert _shown_id(app) == rows[2].id


async def test_moving_back_within_a_burst_loads_nothing_more(app: ComptoirApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = main(app)
        rows = screen.queue.window_rows
        screen.detail_delay = NEVER
        loads = _count_loads(screen)
        for key in "jjk":  # back on the row whose detail is shown
            await pilot.press(key)
        await settle(pilot)
        assert screen.flush_detail() is False
        await settle(pilot)
        assert loads == [rows[1].id]
        assert _shown_id(app) == rows[1].id


def test_the_live_console_waits_for_the_cursor_and_tests_do_not(app: ComptoirApp) -> None:
    assert 0 < DETAIL_DELAY < 0.25  # under what reads as lag, above a held key's repeat
    live = MainScreen(app.store, app.config, app.clock)  # the console's default heartbeat
    assert live.detail_delay == DETAIL_DELAY
    still = MainScreen(app.store, app.config, app.clock, heartbeat=None)
    assert still.detail_delay is None
