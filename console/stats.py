"""Stats over a period: dates from the command line, local days, and the reports of db/stats.py
put together for `comptoir stats`, the stats screen and the bench.

Days are local days in a time zone (zoneinfo): their boundaries (local midnights, in epoch
seconds) are computed here and handed to db/stats.volume, so a day is 23 or 25 hours long across
a DST change and a zone such as Asia/Kathmandu (+05:45) cuts days at its own midnight.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from console.untrusted import clean
from db import stats as db_stats
from db.stats import AgentStats, Backlog, FirstResponse, SlaAchievement, Volume
from db.store import Store

DAY: Final = 86400
# The period keys of the stats screen: label and length in days (None: all time).
PERIODS: Final = {"today": 1, "7d": 7, "30d": 30, "all": None}


def local_zone() -> tzinfo:
    """The machine's zone: $TZ, else /etc/localtime's name, else UTC."""
    name = os.environ.get("TZ", "").lstrip(":")
    if not name:
        try:
            target = Path("/etc/localtime").resolve()
            parts = target.parts
            if "zoneinfo" in parts:
                name = "/".join(parts[parts.index("zoneinfo") + 1:])
        except OSError:
            name = ""
    try:
        return ZoneInfo(name) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (expected e.g. Europe/Paris)") from None


def parse_date(text: str, tz: tzinfo) -> int:
    """`YYYY-MM-DD` (local midnight in `tz`) or an ISO date-time (in `tz` unless it says its
    offset) -> epoch seconds. ValueError with a one-line message otherwise."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp())
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        shown = value.encode("unicode_escape").decode("ascii")[:60]
        raise ValueError(f"bad date {shown!r}: expected YYYY-MM-DD or an ISO date-time such as "
                         "2026-11-26T09:30 or 2026-11-26T09:30+01:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return int(moment.timestamp())


def local_midnight(instant: int, tz: tzinfo) -> int:
    """The start of the local day holding `instant`."""
    local = datetime.fromtimestamp(instant, tz)
    return int(datetime(local.year, local.month, local.day, tzinfo=tz).timestamp())


def day_boundaries(since: int, until: int, tz: tzinfo) -> list[int]:
    """[since, next local midnight, ..., until]: the days of [since, until), the first and last
    possibly partial. Local midnights come from calendar dates (never since + n * 86400), so
    DST days have their true length."""
    if until <= since:
        return [since, since]
    out = [since]
    day = datetime.fromtimestamp(since, tz).date()
    while True:
        day += timedelta(days=1)
        edge = int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp())
        if edge >= until:
            break
        if edge > out[-1]:
            out.append(edge)
    out.append(until)
    return out


@dataclass(frozen=True, slots=True)
class Period:
    since: int
    until: int
    label: str


async def period_for(store: Store, key: str, now: int, tz: tzinfo) -> Period:
    """A stats-screen period ending now: `today` from local midnight, `7d`/`30d` the last 7/30
    local days including today, `all` from the oldest mention."""
    days = PERIODS[key]
    until = now + 1
    if days is None:
        first = await db_stats.first_created(store)
        return Period(min(first if first is not None else now, now), until, key)
    start = datetime.fromtimestamp(local_midnight(now, tz), tz).date() - timedelta(days=days - 1)
    since = int(datetime(start.year, start.month, start.day, tzinfo=tz).timestamp())
    return Period(since, until, key)


@dataclass(frozen=True, slots=True)
class StatsReport:
    period: Period
    tz: str
    volume: Volume
    first_response: FirstResponse
    sla: tuple[SlaAchievement, ...]
    backlog: Backlog
    agents: tuple[AgentStats, ...]


async def collect(store: Store, period: Period, *, now: int, tz: tzinfo) -> StatsReport:
    """Every report for `period`. The volume goes first: its total is the period's count of
    mentions received, which the first-response shares need."""
    vol = await db_stats.volume(store, day_boundaries(period.since, period.until, tz))
    frt = await db_stats.first_response(store, period.since, period.until, received=vol.total)
    sla = await db_stats.sla_achievement(store, period.since, period.until, now)
    back = await db_stats.backlog(store, now)
    agents = await db_stats.agents(store, period.since, period.until)
    return StatsReport(period, str(tz), vol, frt, tuple(sla), back, tuple(agents))


# --- output --------------------------------------------------------------------------------------
def iso(instant: int, tz: tzinfo) -> str:
    return datetime.fromtimestamp(instant, tz).isoformat()


def duration(seconds: int | None) -> str:
    """`42s`, `12m05s`, `3h07m`, `2d04h`; `-` when there is no value."""
    if seconds is None:
        return "-"
    sign, s = ("-", -seconds) if seconds < 0 else ("", seconds)
    if s < 60:
        return f"{sign}{s}s"
    if s < 3600:
        return f"{sign}{s // 60}m{s % 60:02d}s"
    if s < DAY:
        return f"{sign}{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{sign}{s // DAY}d{s % DAY // 3600:02d}h"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def report_json(report: StatsReport, tz: tzinfo) -> dict[str, object]:
    """Stable keys (documented in the README): add keys, never rename them."""
    p, vol, frt = report.period, report.volume, report.first_response
    return {
        "period": {"since": iso(p.since, tz), "until": iso(p.until, tz), "time_zone": report.tz},
        "volume": {
            "total": vol.total,
            "by_channel": vol.by_channel,
            "by_day": [
                {"day": datetime.fromtimestamp(d.start, tz).date().isoformat(),
                 "start": iso(d.start, tz), "total": d.total,
                 "by_channel": {c: d.by_channel.get(c, 0) for c in vol.channels}}
                for d in vol.days
            ],
        },
        "first_response": {
            "received": frt.received, "answered": frt.answered,
            "median_seconds": frt.median_s, "p90_seconds": frt.p90_s,
            "within_30m": frt.within_30m, "within_1h": frt.within_1h,
            "share_within_30m": _rounded(frt.share_30m),
            "share_within_1h": _rounded(frt.share_1h),
        },
        "sla_achievement": [
            {"policy": a.policy, "target": a.target, "total": a.total, "met": a.met,
             "breached": a.breached, "running": a.running,
             "achievement": _rounded(a.achievement)}
            for a in report.sla
        ],
        "backlog": {"total": report.backlog.total, **dict(report.backlog.buckets)},
        "agents": [
            {"agent": a.agent, "replies": a.replies,
             "median_response_seconds": a.median_response_s, "resolved": a.resolved}
            for a in report.agents
        ],
    }


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    out = []
    for row in [header, *rows]:
        cells = [c.ljust(w) if i == 0 else c.rjust(w)
                 for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        out.append("    " + "  ".join(cells).rstrip())
    return out


def report_text(report: StatsReport, tz: tzinfo, *, max_days: int = 31) -> list[str]:
    """Readable tables. Names (agents, policies, channels) come from the data: they are
    printed through console.untrusted.clean, never as they are."""
    p, vol, frt = report.period, report.volume, report.first_response
    lines = [f"  Period {iso(p.since, tz)} to {iso(p.until, tz)} ({report.tz})", ""]
    lines.append(f"  Volume: {vol.total:,} mentions")
    days = vol.days[-max_days:]
    rows: list[tuple[str, ...]] = [
        (datetime.fromtimestamp(d.start, tz).date().isoformat(),
         *(f"{d.by_channel.get(c, 0):,}" for c in vol.channels), f"{d.total:,}")
        for d in days]
    rows.append(("all days", *(f"{n:,}" for n in vol.by_channel.values()), f"{vol.total:,}"))
    if len(vol.days) > max_days:
        lines.append(f"    (last {max_days} of {len(vol.days)} days; --json has them all)")
    lines += _table(("day", *(clean(c, max_chars=20) for c in vol.channels), "total"), rows)
    lines += ["", "  First response"]
    lines += _table(("received", "answered", "median", "p90", "<=30 min", "<=1 h"), [(
        f"{frt.received:,}", f"{frt.answered:,}", duration(frt.median_s), duration(frt.p90_s),
        percent(frt.share_30m), percent(frt.share_1h))])
    lines += ["", "  SLA achievement (met / (met + breached))"]
    if report.sla:
        lines += _table(("policy", "target", "met", "breached", "running", "achieved"), [
            (clean(a.policy, max_chars=30), clean(a.target), f"{a.met:,}", f"{a.breached:,}",
             f"{a.running:,}", percent(a.achievement)) for a in report.sla])
    else:
        lines.append("    no SLA clocks in this period")
    lines += ["", f"  Backlog now: {report.backlog.total:,} active mentions by age"]
    lines += _table(tuple(label for label, _ in report.backlog.buckets),
                    [tuple(f"{n:,}" for _, n in report.backlog.buckets)])
    lines += ["", "  Agents"]
    if report.agents:
        lines += _table(("agent", "replies", "median response", "resolved"), [
            (clean(a.agent, max_chars=30), f"{a.replies:,}", duration(a.median_response_s),
             f"{a.resolved:,}")
            for a in report.agents])
    else:
        lines.append("    no replies or resolutions in this period")
    return lines
