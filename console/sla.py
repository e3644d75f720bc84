"""SLA countdown maths for the queue: what label and colour level a due time shows at an instant.

Pure functions, no Textual: the queue list and the SLA badge call them, tests drive them with
exact instants.

Rounding rule (one rule, both sides of the due time): the label shows the distance to the due
time in whole minutes, rounded *away from the due instant* (ceiling of the absolute distance).
So the label reads "00:00" only at the exact due instant:

- 61 s left → "00:02", 60 s left → "00:01", 1 s left → "00:01", 0 s left → "00:00" (level
  "warn": the deadline is reached, not missed),
- 1 s late → "-00:01" (level "breach": a breach is never displayed as "-00:00"),
- 60 s late → "-00:01", 61 s late → "-00:02".

Long distances: "2d03h" from 100 hours (hours floored after the minute rounding), "99d+" from
100 days; a label is at most LABEL_WIDTH (7) cells, e.g. "-99d23h".

A countdown that never shows "00:00" while time is left, and a breach that shows a minute as
soon as it starts, are the two readings an agent cannot misjudge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from db.models import NO_DUE

WARN_SECONDS: Final = 900
_MINUTE: Final = 60
# Beyond 99 h the HH:MM form would need three hour digits: days instead ("2d03h"), and from
# 100 days on a capped "99d+", so a label never exceeds 7 cells ("-99d23h").
_MAX_HHMM_MINUTES: Final = 100 * 60
_MAX_DAYS_MINUTES: Final = 100 * 24 * 60
LABEL_WIDTH: Final = 7

NONE_LABEL: Final = "--:--"


@dataclass(frozen=True, slots=True)
class SlaState:
    """What one SLA cell shows: `label` ("00:47", "-00:12", "2d03h", "--:--") and `level`
    ("ok", "warn", "breach" or "none"), which picks the colour."""

    label: str
    level: str


_NONE: Final = SlaState(NONE_LABEL, "none")


def _has_due(due: int | None) -> bool:
    return due is not None and due < NO_DUE


def _format_minutes(minutes: int) -> str:
    """Whole minutes as "HH:MM", "NdHHh" (hours floored) from 100 hours, "99d+" from 100 days."""
    if minutes < _MAX_HHMM_MINUTES:
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    if minutes >= _MAX_DAYS_MINUTES:
        return "99d+"
    days, rest = divmod(minutes, 24 * 60)
    return f"{days}d{rest // 60:02d}h"


def sla_state(due: int | None, now: float, warn: int = WARN_SECONDS) -> SlaState:
    """The SLA cell for a row due at `due` (epoch seconds; None or NO_DUE: no SLA running).

    Level: "breach" when strictly past due, "warn" when less than `warn` seconds remain
    (including exactly at the due instant), otherwise "ok".
    """
    if not _has_due(due):
        return _NONE
    assert due is not None  # narrowed by _has_due, for the type checker
    remaining = due - now
    minutes = math.ceil(abs(remaining) / _MINUTE)
    if remaining < 0:
        return SlaState("-" + _format_minutes(minutes), "breach")
    level = "warn" if remaining < warn else "ok"
    return SlaState(_format_minutes(minutes), level)


def next_label_change(due: int | None, now: float, warn: int = WARN_SECONDS) -> float:
    """Seconds from `now` during which `sla_state(due, ·, warn)` keeps its value.

    The state (label and level, both drawn on screen) is the same at every instant in
    `(now, now + result)`; it changes at `now + result` or immediately after it. The widget uses
    this to skip its 1-second tick while nothing on screen can change. 0.0 means "may change at
    any moment" (the current instant is itself a boundary); `math.inf` means "never" (no SLA).
    """
    if not _has_due(due):
        return math.inf
    assert due is not None
    remaining = due - now
    if remaining > 0:
        candidates = [remaining - _MINUTE * _lower_minutes(math.ceil(remaining / _MINUTE))]
        if remaining >= warn:
            # "ok" becomes "warn" just after remaining reaches `warn`.
            candidates.append(remaining - warn)
        return max(0.0, min(candidates))
    if remaining == 0:
        return 0.0  # "00:00" lasts exactly one instant; "-00:01" follows
    # Lateness of m minutes covers (60(m-1), 60m]: the label grows just after 60 * (last minute
    # count that still prints the same label).
    late = -remaining
    minutes = math.ceil(late / _MINUTE)
    if minutes >= _MAX_DAYS_MINUTES:
        return math.inf  # "-99d+" for good
    return max(0.0, _MINUTE * _upper_minutes(minutes) - late)


def _lower_minutes(minutes: int) -> int:
    """The largest minute count below `minutes` whose label differs (counting down)."""
    if minutes <= _MAX_HHMM_MINUTES:
        return minutes - 1
    if minutes >= _MAX_DAYS_MINUTES:
        return _MAX_DAYS_MINUTES - 1
    return minutes // 60 * 60 - 1  # "NdHHh" floors hours: it changes below the whole hour


def _upper_minutes(minutes: int) -> int:
    """The largest minute count from `minutes` up that still prints the same label (below the
    "99d+" cap, which the caller handles)."""
    if minutes < _MAX_HHMM_MINUTES:
        return minutes
    return minutes // 60 * 60 + 59
