"""The stats screen: `S` opens it over the demo data, the period keys reload it, escape closes.

The snapshot lives here (not in test_snapshots.py) and uses that module's SnapshotApp: same
frozen clock (conftest's NOW), demo seed and no heartbeat, with TZ=UTC so days never move.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Sparkline, Static

from console.app import ComptoirApp
from console.screens.main import MainScreen
from console.screens.stats import StatsScreen
from widgets.stats_charts import BarChart

from .test_snapshots import SnapshotApp, no_blink
from .test_workflows import settle


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")


async def open_stats(pilot: Pilot[None]) -> StatsScreen:
    await settle(pilot)
    await pilot.press("S")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, StatsScreen)
    await pilot.app.workers.wait_for_complete()
    await settle(pilot)
    return screen


def text_of(screen: StatsScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_stats_screen_reports_and_switches_period(app: ComptoirApp) -> None:
    async with app.run_test(size=(120, 50)) as pilot:
        screen = await open_stats(pilot)
        report = screen.report
        assert report is not None and report.period.label == "7d"
        week_total = report.volume.total
        assert week_total > 0 and len(report.volume.days) == 7
        assert f"{week_total:,} mentions" in text_of(screen, "#volume-summary")
        spark = screen.query_one(Sparkline)
        assert list(spark.data or []) == [d.total for d in report.volume.days]
        assert "median" in text_of(screen, "#first-response")
        assert screen.query_one("#backlog-bars", BarChart).bars  # the demo has a backlog
        assert sum(b.value for b in screen.query_one("#backlog-bars", BarChart).bars) == (
            report.backlog.total)

        await pilot.press("1")
        await pilot.app.workers.wait_for_complete()
        await settle(pilot)
        assert screen.report is not None and screen.report.period.label == "today"
        assert len(screen.report.volume.days) == 1
        assert screen.report.volume.total <= week_total

        await pilot.press("0")
        await pilot.app.workers.wait_for_complete()
        await settle(pilot)
        assert screen.report.period.label == "all"
        assert screen.report.volume.total == (await app.store.counts()).total

        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(pilot.app.screen, MainScreen)


def test_stats_screen_snapshot(snap_compare: Callable[..., bool], tmp_path: Path,
                               config: object) -> None:
    app = SnapshotApp(tmp_path / "snap-stats.db", config, theme="dark")  # type: ignore[arg-type]

    async def run_before(pilot: Pilot[None]) -> None:
        await open_stats(pilot)
        no_blink(pilot)
        await settle(pilot)

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)
