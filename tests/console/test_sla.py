"""SLA label maths: exact boundaries, then properties over arbitrary instants."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.sla import LABEL_WIDTH, SlaState, next_label_change, sla_state
from db.models import NO_DUE

DUE = 1_700_000_000
_LABEL = re.compile(r"^-?(\d\d:\d\d|\d{1,2}d\d\dh|99d\+)$")
_SEVERITY = {"ok": 0, "warn": 1, "breach": 2}


@pytest.mark.parametrize(
    ("remaining", "expected"),
    [
        (3600, SlaState("01:00", "ok")),
        (3599, SlaState("01:00", "ok")),
        (3541, SlaState("01:00", "ok")),
        (3540, SlaState("00:59", "ok")),
        (47 * 60, SlaState("00:47", "ok")),
        (901, SlaState("00:16", "ok")),
        (900, SlaState("00:15", "ok")),  # warn means strictly under 15 minutes
        (899, SlaState("00:15", "warn")),
        (61, SlaState("00:02", "warn")),
        (60, SlaState("00:01", "warn")),
        (1, SlaState("00:01", "warn")),
        (0, SlaState("00:00", "warn")),  # due, not yet breached
        (-1, SlaState("-00:01", "breach")),  # never "-00:00"
        (-60, SlaState("-00:01", "breach")),
        (-61, SlaState("-00:02", "breach")),
        (-12 * 60, SlaState("-00:12", "breach")),
        (99 * 3600 + 59 * 60, SlaState("99:59", "ok")),
        (100 * 3600, SlaState("4d04h", "ok")),
        (4 * 86400 + 3 * 3600 + 3599, SlaState("4d04h", "ok")),  # ceil to minutes, floor to hours
        (51 * 3600, SlaState("51:00", "ok")),
        (-(2 * 86400 + 3 * 3600 + 60 * 60 * 100), SlaState("-6d07h", "breach")),
        (-(99 * 86400 + 23 * 3600 + 59 * 60), SlaState("-99d23h", "breach")),  # widest: 7 cells
        (-(99 * 86400 + 23 * 3600 + 59 * 60) - 1, SlaState("-99d+", "breach")),  # 100 d (ceil)
        (3 * 365 * 86400, SlaState("99d+", "ok")),
    ],
)
def test_labels_and_levels_at_boundaries(remaining: int, expected: SlaState) -> None:
    assert sla_state(DUE, DUE - remaining) == expected


def test_fractional_seconds_round_away_from_due() -> None:
    assert sla_state(DUE, DUE - 0.25) == SlaState("00:01", "warn")
    assert sla_state(DUE, DUE + 0.25) == SlaState("-00:01", "breach")


@pytest.mark.parametrize("due", [None, NO_DUE, NO_DUE + 5])
def test_no_due_shows_dashes(due: int | None) -> None:
    assert sla_state(due, DUE) == SlaState("--:--", "none")
    assert next_label_change(due, DUE) == math.inf


def test_custom_warn_threshold() -> None:
    assert sla_state(DUE, DUE - 1799, warn=1800).level == "warn"
    assert sla_state(DUE, DUE - 1800, warn=1800).level == "ok"


@pytest.mark.parametrize(
    ("remaining", "expected"),
    [
        (3600, 60.0),  # "01:00" until 59 min remain
        (3541, 1.0),
        (930, 30.0),  # ok → warn just after 900 s remain
        (900, 0.0),
        (60, 60.0),  # "00:01" until the due instant itself shows "00:00"
        (0, 0.0),
        (-1, 59.0),  # "-00:01" until just after 60 s late
        (-60, 0.0),
        (100 * 3600 + 30, 90.0),  # "4d04h" down to 99 h 59 min, then "99:59"
        (101 * 3600, 60.0),  # 101 h exactly still reads "4d05h" (minutes round up)
        (-100 * 3600, 3540.0),  # "-4d04h" from 100 h late until 100 h 59 min late
        (100 * 86400 + 60, 120.0),  # "99d+" until 99 d 23 h 59 min remain
        (-100 * 86400 - 1, math.inf),  # "-99d+" for good
    ],
)
def test_next_label_change_at_boundaries(remaining: int, expected: float) -> None:
    assert next_label_change(DUE, DUE - remaining) == expected


# Whole and quarter seconds keep the float arithmetic exact around epoch-sized numbers.
instants = st.one_of(
    st.integers(min_value=-4_000_000, max_value=4_000_000),  # within ±11 days
    st.integers(min_value=-40_000_000, max_value=40_000_000),  # around the 100-day cap
).map(lambda q: DUE + q / 4)


@given(now=instants)
def test_label_format_and_level_agree_with_sign(now: float) -> None:
    state = sla_state(DUE, now)
    assert _LABEL.match(state.label), state.label
    assert len(state.label) <= LABEL_WIDTH
    assert state.label.startswith("-") == (state.level == "breach") == (now > DUE)


@given(a=instants, b=instants)
def test_severity_never_decreases_as_time_passes(a: float, b: float) -> None:
    earlier, later = sorted((a, b))
    assert _SEVERITY[sla_state(DUE, earlier).level] <= _SEVERITY[sla_state(DUE, later).level]


@given(now=instants)
def test_state_is_constant_until_the_announced_change(now: float) -> None:
    state = sla_state(DUE, now)
    wait = next_label_change(DUE, now)
    if wait == math.inf:
        assert state.label == "-99d+"
        return
    # A minute in HH:MM form, an hour in the "NdHHh" form, up to 100 days before the cap.
    assert 0 <= wait <= 100 * 86400
    if wait > 0:
        assert sla_state(DUE, now + wait / 2) == state
        assert sla_state(DUE, now + wait * 0.999) == state
    # The change happens at the boundary or right after it: a quarter second later it is seen.
    # (States never repeat, so "differs" cannot be fooled by two changes in a row.)
    assert sla_state(DUE, now + wait + 0.25) != state


@given(now=instants)
def test_label_changes_at_most_once_a_minute_plus_level_flips(now: float) -> None:
    # Minute resolution is what keeps the 1 s tick to one repaint per row per minute.
    # The due instant itself ("00:00") is the one extra label.
    labels = {sla_state(DUE, now + step).label for step in range(60) if now + step != DUE}
    assert len(labels) <= 2
