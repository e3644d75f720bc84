"""Snapshot tests (pytest-textual-snapshot) of the desk's key screens, in every theme.

Regenerate after an intended visual change with
``.venv/bin/python -m pytest tests/app/test_snapshots.py --snapshot-update`` and *look* at the
new SVGs (the failure report, ``snapshot_report.html``, shows old and new side by side).

Why the app here is not the ``app`` fixture of conftest.py: ``snap_compare`` is synchronous and
runs the app with ``App.run()``, i.e. ``asyncio.run`` on a fresh event loop. It cannot be called
from an async test (a loop is already running), and a Store opened by the async ``demo_store``
fixture belongs to the fixture's loop (its aiosqlite futures and lock would be used from another
loop). So each snapshot app opens its own Store, on its own loop, when it mounts, loads the same
demo data (seed 7, frozen NOW) as conftest.py, and closes it when it unmounts. Everything else is
the production app: same screens, widgets, themes and CSS.

What keeps the pictures stable:
* a `FrozenClock` at conftest's NOW: every SLA countdown and relative time is computed from it;
* ``heartbeat=None``: no timer ticks; nothing moves unless a test moves it;
* the demo generator is seeded (7), so names, texts and dues are identical on every run;
* cursor blink is switched off on every Input/TextArea before the screenshot (a blink timer
  could otherwise catch the cursor visible or hidden);
* `settle` waits for workers (queue window, detail loading) and the refreshes they cause.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from console.app import ComptoirApp
from console.cli import load_demo
from console.clock import FrozenClock
from console.config import Config
from console.screens.help import HelpScreen
from console.screens.main import MainScreen
from console.screens.prompts import FilterPrompt, SnoozePrompt
from db.store import Store
from widgets.composer import ReplyComposer

from .conftest import NOW, SLA
from .test_workflows import settle

THEMES = ("dark", "light", "high-contrast", "lowbw")
WIDE = (120, 40)
NARROW = (80, 24)

SnapCompare = Callable[..., bool]
RunBefore = Callable[[Pilot[None]], Awaitable[None]]


class SnapshotApp(ComptoirApp):
    """The real app, opening (and closing) its demo Store on the event loop it runs on."""

    # A toast ("Fill in: ...") must still be there when the screenshot is taken, however slow
    # the machine (xdist, CI): Textual's default of 5 s is a timer racing the snapshot.
    NOTIFICATION_TIMEOUT = 3600

    def __init__(self, db_path: Path, config: Config, *, theme: str) -> None:
        super().__init__(
            None,  # type: ignore[arg-type]  # opened in on_mount, on the app's own loop
            config,
            clock=FrozenClock(NOW),
            heartbeat=None,
            theme=theme,
        )
        self._db_path = db_path

    async def on_mount(self, event: events.Mount) -> None:
        # Run ComptoirApp.on_mount ourselves, after the Store exists, not as a second handler.
        event.prevent_default()
        self.store = await Store.open(self._db_path)
        await load_demo(self.store, seed=7, now=NOW, first_reply_sla=SLA)
        super().on_mount()

    async def on_unmount(self) -> None:
        store: Store | None = self.store
        if store is not None:
            await store.close()


@pytest.fixture
def make_app(tmp_path: Path, config: Config) -> Callable[..., SnapshotApp]:
    def make(theme: str = "dark") -> SnapshotApp:
        return SnapshotApp(tmp_path / f"snap-{theme}.db", config, theme=theme)

    return make


def no_blink(pilot: Pilot[None]) -> None:
    """A steady cursor: blink timers must not decide what the screenshot shows."""
    for widget in pilot.app.screen.query("Input, TextArea"):
        if isinstance(widget, Input | TextArea):
            widget.cursor_blink = False


def steps(*keys: str) -> RunBefore:
    """A `run_before`: wait for the desk to load, press `keys` (settling after each), freeze."""

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        assert isinstance(pilot.app.screen, MainScreen), pilot.app.screen
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        no_blink(pilot)
        await settle(pilot)

    return run_before


def typed(*keys: str, text: str, then: tuple[str, ...] = ()) -> RunBefore:
    """Like `steps`, with `text` typed (one character at a time) after `keys`, then `then`."""

    async def run_before(pilot: Pilot[None]) -> None:
        await steps(*keys)(pilot)
        await pilot.press(*text)
        await settle(pilot)
        for key in then:
            await pilot.press(key)
            await settle(pilot)
        no_blink(pilot)
        await settle(pilot)

    return run_before


# --- the desk ------------------------------------------------------------------------------------
@pytest.mark.parametrize("theme", THEMES)
def test_desk_in_each_theme(snap_compare: SnapCompare, make_app, theme: str) -> None:
    """The desk at 120x40: queue sorted by next breach, first mention's detail on the right."""
    assert snap_compare(make_app(theme), terminal_size=WIDE, run_before=steps())


def test_desk_narrow_shows_the_queue_only(snap_compare: SnapCompare, make_app) -> None:
    """80x24: one pane at a time; the queue fills the width."""
    assert snap_compare(make_app(), terminal_size=NARROW, run_before=steps())


def test_desk_narrow_with_the_detail_open(snap_compare: SnapCompare, make_app) -> None:
    """80x24 after enter: the detail replaces the queue."""

    async def run_before(pilot: Pilot[None]) -> None:
        await steps("enter")(pilot)
        screen = pilot.app.screen
        assert screen.has_class("-narrow", "-detail-open")

    assert snap_compare(make_app(), terminal_size=NARROW, run_before=run_before)


def test_desk_wide_with_the_detail_focused(snap_compare: SnapCompare, make_app) -> None:
    """120x40 after enter: both panes stay; the detail pane gets the focus border."""
    assert snap_compare(make_app(), terminal_size=WIDE, run_before=steps("enter"))


# --- the composer --------------------------------------------------------------------------------
def test_composer_with_a_rendered_template(snap_compare: SnapCompare, make_app) -> None:
    """t, "rembours", enter: the refund template filled for the first mention's customer."""
    run = typed("t", text="rembours", then=("enter",))

    async def run_before(pilot: Pilot[None]) -> None:
        await run(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, MainScreen) and screen.has_class("-composing")
        assert "rembours" in screen.query_one(ReplyComposer).text

    assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)


def test_template_picker_searching(snap_compare: SnapCompare, make_app) -> None:
    """t, "rembours": the picker narrowed to the refund templates, before enter."""
    assert snap_compare(make_app(), terminal_size=WIDE, run_before=typed("t", text="rembours"))


# --- modal screens -------------------------------------------------------------------------------
def test_help_screen(snap_compare: SnapCompare, make_app) -> None:
    """?: every action with its keys."""

    async def run_before(pilot: Pilot[None]) -> None:
        await steps("question_mark")(pilot)
        assert isinstance(pilot.app.screen, HelpScreen)

    assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)


def test_filter_prompt(snap_compare: SnapCompare, make_app) -> None:
    """f: status, channel, assignee and tag selects over the desk."""

    async def run_before(pilot: Pilot[None]) -> None:
        await steps("f")(pilot)
        assert isinstance(pilot.app.screen, FilterPrompt)

    assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)


def test_snooze_prompt(snap_compare: SnapCompare, make_app) -> None:
    """s: snooze presets and a duration box over the desk."""

    async def run_before(pilot: Pilot[None]) -> None:
        await steps("s")(pilot)
        assert isinstance(pilot.app.screen, SnoozePrompt)

    assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)
