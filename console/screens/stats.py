"""The stats screen (`S`): volume, first response, SLA achievement, backlog and agents.

The reports are read in an exclusive worker (a new period cancels the load of the previous one);
each report is a few index reads through the Store (db/stats.py), which runs them in its own
thread and releases its lock between reports, so neither the screen nor the desk behind it
waits. Keys: 1 today, 7 the last 7 days, 3 the last 30 days, 0 all time; escape goes back.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Final

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from console.clock import Clock
from console.stats import (
    PERIODS,
    StatsReport,
    collect,
    duration,
    local_zone,
    percent,
    period_for,
)
from db.errors import StoreError
from db.store import Store
from widgets.stats_charts import Bar, BarChart, VolumeChart
from widgets.text import untrusted

PERIOD_TITLES: Final = {"today": "Today", "7d": "Last 7 days", "30d": "Last 30 days",
                        "all": "All time"}
BACKLOG_TITLES: Final = {"under_30m": "< 30 min", "under_1h": "30 min – 1 h",
                         "under_4h": "1 h – 4 h", "under_24h": "4 h – 24 h",
                         "older": "24 h and older"}


class StatsScreen(Screen[None]):
    DEFAULT_CSS = """
    StatsScreen { layout: vertical; }
    StatsScreen #stats-title { text-style: bold; color: $primary; padding: 0 1; }
    StatsScreen VerticalScroll { padding: 0 1; }
    StatsScreen .stats-heading { text-style: bold; margin-top: 1; }
    StatsScreen #stats-status { color: $text-muted; }
    """
    # The period keys are this screen's own (like the help screen's scroll keys), shown in its
    # title and footer; they are not in the desk's keymap contract, so they carry no id.
    BINDINGS = [
        Binding("1", "period('today')", "Today"),
        Binding("7", "period('7d')", "7 days"),
        Binding("3", "period('30d')", "30 days"),
        Binding("0", "period('all')", "All"),
        Binding("escape", "close", "Back", id="back"),
    ]

    def __init__(self, store: Store, clock: Clock, *, period: str = "7d",
                 tz: tzinfo | None = None) -> None:
        super().__init__()
        self.store = store
        self.clock = clock
        self.tz = tz or local_zone()
        self.period_key = period
        self.report: StatsReport | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="stats-title")
        with VerticalScroll(id="stats-body"):
            yield Static("Loading…", id="stats-status")
            yield Static("Volume", classes="stats-heading")
            yield Static("", id="volume-summary")
            yield VolumeChart(id="volume-chart")
            yield Static("First response", classes="stats-heading")
            yield Static("", id="first-response")
            yield Static("SLA achievement (met / decided)", classes="stats-heading")
            yield BarChart(scale=1.0, empty="no SLA clocks in this period", id="sla-bars")
            yield Static("Backlog now (new and open, by age)", classes="stats-heading")
            yield BarChart(empty="nothing waiting", id="backlog-bars")
            yield Static("Agents", classes="stats-heading")
            yield Static("", id="agents")
        yield Footer()

    def on_mount(self) -> None:
        self._show_title()
        self.load()

    def _show_title(self) -> None:
        self.query_one("#stats-title", Static).update(Content.assemble(
            ("Stats  ", "bold"), (PERIOD_TITLES[self.period_key], "bold $accent"),
            ("   1 today · 7 7 days · 3 30 days · 0 all · escape back", "$text-muted"),
        ))

    def action_period(self, key: str) -> None:
        if key not in PERIODS or (key == self.period_key and self.report is not None):
            return
        self.period_key = key
        self._show_title()
        self.query_one("#stats-status", Static).update("Loading…")
        self.load()

    def action_close(self) -> None:
        self.dismiss(None)

    @work(exclusive=True, group="stats", exit_on_error=False)
    async def load(self) -> None:
        now = int(self.clock.now())
        try:
            period = await period_for(self.store, self.period_key, now, self.tz)
            report = await collect(self.store, period, now=now, tz=self.tz)
        except StoreError as error:
            self.query_one("#stats-status", Static).update(untrusted(str(error)))
            return
        self.report = report
        self.show(report)

    def _day(self, instant: int) -> str:
        return datetime.fromtimestamp(instant, self.tz).date().isoformat()

    def show(self, report: StatsReport) -> None:
        vol, frt = report.volume, report.first_response
        since = self._day(report.period.since)
        self.query_one("#stats-status", Static).update(
            Content(f"Since {since}, days in {report.tz}"))
        by_channel = [Content(f"{vol.total:,} mentions   ")]
        for channel, n in vol.by_channel.items():
            by_channel += [untrusted(channel), Content(f" {n:,}   ")]
        self.query_one("#volume-summary", Static).update(Content("").join(by_channel))
        days = vol.days
        self.query_one(VolumeChart).show(
            [d.total for d in days],
            self._day(days[0].start) if days else since,
            self._day(days[-1].start) if days else since,
        )
        self.query_one("#first-response", Static).update(Content.assemble(
            ("median ", "$text-muted"), (duration(frt.median_s), "bold"),
            ("   p90 ", "$text-muted"), (duration(frt.p90_s), "bold"),
            ("   answered ", "$text-muted"), (f"{frt.answered:,}/{frt.received:,}", "bold"),
            ("   within 30 min ", "$text-muted"), (percent(frt.share_30m), "bold"),
            ("   within 1 h ", "$text-muted"), (percent(frt.share_1h), "bold"),
        ))
        self.query_one("#sla-bars", BarChart).bars = tuple(
            Bar(f"{a.policy} · {a.target.replace('_', ' ')}", a.achievement or 0.0,
                f"{percent(a.achievement)}  ({a.met:,} met, {a.breached:,} breached)",
                "$success" if (a.achievement or 0) >= 0.9 else "$warning")
            for a in report.sla
        )
        backlog = report.backlog
        self.query_one("#backlog-bars", BarChart).bars = tuple(
            Bar(BACKLOG_TITLES.get(label, label), n, f"{n:,}",
                "$error" if label in ("under_24h", "older") else "$primary")
            for label, n in backlog.buckets
        ) if backlog.total else ()
        lines = [Content.styled(f"{'agent':<20}{'replies':>9}{'median':>10}{'resolved':>10}",
                                "$text-muted")]
        for a in report.agents:
            name = untrusted(a.agent).truncate(19, ellipsis=True, pad=True).pad_right(1)
            lines.append(Content.assemble(
                name, f"{a.replies:>9,}{duration(a.median_response_s):>10}{a.resolved:>10,}"))
        if not report.agents:
            lines.append(Content.styled("no replies or resolutions in this period",
                                        "$text-muted"))
        self.query_one("#agents", Static).update(Content("\n").join(lines))
