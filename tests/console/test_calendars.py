"""Business calendars: opening hours, weekends, holidays and Europe/Paris DST, then properties."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.calendars import (
    TWENTY_FOUR_SEVEN,
    BusinessCalendar,
    parse_hhmm,
    weekday_index,
)

PARIS = ZoneInfo("Europe/Paris")
HOUR = 3600
CHRISTMAS = date(2026, 12, 25)  # a Friday


def at(text: str) -> int:
    """Epoch seconds of a Paris wall-clock time "YYYY-MM-DD HH:MM" (first occurrence)."""
    return int(datetime.fromisoformat(text).replace(tzinfo=PARIS).timestamp())


def utc(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("UTC")).timestamp())


def paris(instant: int) -> str:
    return datetime.fromtimestamp(instant, PARIS).strftime("%Y-%m-%d %H:%M %Z")


OFFICE = BusinessCalendar(
    "Europe/Paris",
    {day: [("09:00", "12:30"), ("13:30", "18:00")] for day in ("mon", "tue", "wed", "thu", "fri")},
    {CHRISTMAS},
    name="office",
)


def test_within_one_day_and_across_lunch() -> None:
    assert (
        paris(OFFICE.add_business_seconds(at("2026-03-03 10:00"), HOUR)) == "2026-03-03 11:00 CET"
    )
    # 12:00 + 1 h: 30 min before lunch, 30 min after it.
    assert (
        paris(OFFICE.add_business_seconds(at("2026-03-03 12:00"), HOUR)) == "2026-03-03 14:00 CET"
    )
    assert OFFICE.business_seconds_between(at("2026-03-03 12:00"), at("2026-03-03 14:00")) == HOUR


def test_due_at_closing_time_stays_at_closing_time() -> None:
    # The last business second ends at 18:00: due then, not at 09:00 the next morning.
    due = OFFICE.add_business_seconds(at("2026-03-03 17:30"), 30 * 60)
    assert paris(due) == "2026-03-03 18:00 CET"
    assert not OFFICE.is_open(due)
    assert OFFICE.is_open(due - 1)


def test_started_in_closed_hours_counts_from_the_opening() -> None:
    assert paris(OFFICE.add_business_seconds(at("2026-03-03 06:00"), 60)) == "2026-03-03 09:01 CET"
    assert OFFICE.next_open(at("2026-03-03 06:00")) == at("2026-03-03 09:00")
    assert OFFICE.next_open(at("2026-03-03 10:00")) == at("2026-03-03 10:00")


def test_weekend_is_skipped() -> None:
    friday = at("2026-03-06 17:30")
    assert datetime.fromtimestamp(friday, PARIS).strftime("%a") == "Fri"
    assert paris(OFFICE.add_business_seconds(friday, HOUR)) == "2026-03-09 09:30 CET"
    assert OFFICE.business_seconds_between(friday, at("2026-03-09 09:30")) == HOUR
    assert OFFICE.business_seconds_between(at("2026-03-07 10:00"), at("2026-03-08 20:00")) == 0


def test_holiday_closes_the_whole_local_day() -> None:
    thursday = at("2026-12-24 17:30")
    # Friday 25 December is a holiday, then the weekend.
    assert paris(OFFICE.add_business_seconds(thursday, HOUR)) == "2026-12-28 09:30 CET"
    assert not OFFICE.is_open(at("2026-12-25 10:00"))
    assert OFFICE.day_intervals(CHRISTMAS) == ()


def test_zero_seconds_is_the_start_itself() -> None:
    sunday = at("2026-03-08 12:00")
    assert OFFICE.add_business_seconds(sunday, 0) == sunday


def test_negative_seconds_rejected_and_between_is_antisymmetric() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        OFFICE.add_business_seconds(at("2026-03-03 10:00"), -1)
    a, b = at("2026-03-03 10:00"), at("2026-03-04 10:00")
    assert OFFICE.business_seconds_between(b, a) == -OFFICE.business_seconds_between(a, b)


# --- Daylight-saving time in Europe/Paris (2026: spring 29 March, fall 25 October) ---------------


def test_office_hours_move_in_utc_across_spring_forward() -> None:
    friday = at("2026-03-27 17:30")  # CET, UTC+1
    due = OFFICE.add_business_seconds(friday, HOUR)
    assert paris(due) == "2026-03-30 09:30 CEST"
    assert due == utc("2026-03-30 07:30")  # 09:30 CEST is 07:30 UTC; the Friday 09:30 was 08:30


def test_whole_day_is_23_hours_in_spring_and_25_in_fall() -> None:
    sundays = BusinessCalendar("Europe/Paris", {"sun": [("00:00", "24:00")]})
    spring, fall = date(2026, 3, 29), date(2026, 10, 25)
    ((start, end),) = sundays.day_intervals(spring)
    assert end - start == 23 * HOUR
    ((start, end),) = sundays.day_intervals(fall)
    assert end - start == 25 * HOUR
    # 24 business hours from Sunday 00:00 end the next Sunday in spring (only 23 h that day).
    due = sundays.add_business_seconds(at("2026-03-29 00:00"), 24 * HOUR)
    assert paris(due) == "2026-04-05 01:00 CEST"


def test_night_hours_across_the_dst_hour() -> None:
    nights = BusinessCalendar("Europe/Paris", {"sun": [("01:00", "05:00")]})
    ((start, end),) = nights.day_intervals(date(2026, 3, 29))
    assert end - start == 3 * HOUR  # 02:00-03:00 never happens
    ((start, end),) = nights.day_intervals(date(2026, 10, 25))
    assert end - start == 5 * HOUR  # 02:00-03:00 happens twice


def test_boundary_inside_the_skipped_hour_is_the_transition() -> None:
    cal = BusinessCalendar("Europe/Paris", {"sun": [("02:30", "04:00")]})
    ((start, end),) = cal.day_intervals(date(2026, 3, 29))
    assert paris(start) == "2026-03-29 03:00 CEST"
    assert start == utc("2026-03-29 01:00")
    assert end - start == HOUR


def test_repeated_boundary_is_its_first_occurrence() -> None:
    cal = BusinessCalendar("Europe/Paris", {"sun": [("02:30", "04:00")]})
    ((start, end),) = cal.day_intervals(date(2026, 10, 25))
    assert start == utc("2026-10-25 00:30")  # 02:30 CEST, the first 02:30
    assert end == utc("2026-10-25 03:00")  # 04:00 CET
    assert end - start == int(2.5 * HOUR)


def test_span_wholly_inside_the_skipped_hour_is_empty() -> None:
    cal = BusinessCalendar("Europe/Paris", {"sun": [("02:10", "02:50"), ("09:00", "10:00")]})
    assert len(cal.day_intervals(date(2026, 3, 29))) == 1
    assert len(cal.day_intervals(date(2026, 3, 22))) == 2


# --- Hours spanning midnight ---------------------------------------------------------------------


def test_hours_spanning_midnight_are_rejected_with_the_way_out() -> None:
    with pytest.raises(ValueError, match=r"spanning midnight.*fri 22:00-24:00 and sat 00:00-06:00"):
        BusinessCalendar("UTC", {"fri": [("22:00", "06:00")]})


def test_night_shift_split_over_two_days_is_one_interval() -> None:
    shift = BusinessCalendar("UTC", {"fri": [("22:00", "24:00")], "sat": [("00:00", "06:00")]})
    friday = utc("2026-03-06 23:00")
    assert shift.add_business_seconds(friday, 2 * HOUR) == utc("2026-03-07 01:00")
    assert shift.business_seconds_between(utc("2026-03-06 21:00"), utc("2026-03-07 07:00")) == (
        8 * HOUR
    )
    assert shift.is_open(utc("2026-03-07 00:00"))
    first, second = list(itertools.islice(shift.intervals_from(friday), 2))
    assert first[1] == second[0] == utc("2026-03-07 00:00")  # they touch: no gap at midnight


# --- Construction errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "hours", "message"),
    [
        ("Mars/Olympus", {"mon": [("09:00", "18:00")]}, "unknown time zone"),
        ("UTC", {}, "at least one weekday"),
        ("UTC", {"mon": []}, "at least one weekday"),
        ("UTC", {"mon": [("09:00", "12:00"), ("11:00", "13:00")]}, "overlap"),
        ("UTC", {"mon": [("9:00", "12:00")]}, "HH:MM"),
        ("UTC", {"mon": [("24:00", "24:00")]}, "00:00 to 23:59"),
        ("UTC", {"funday": [("09:00", "12:00")]}, "weekday"),
        ("UTC", {"mon": [("09:00", "12:00")], 0: [("13:00", "14:00")]}, "given twice"),
    ],
)
def test_bad_calendars(tz: str, hours: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(tz, hours)


def test_small_parsers() -> None:
    assert parse_hhmm("24:00", end=True) == 1440
    assert parse_hhmm("09:30") == 570
    assert weekday_index("Friday") == 4
    assert weekday_index(6) == 6
    with pytest.raises(ValueError):
        weekday_index(True)


def test_calendar_closed_forever_gives_up_instead_of_looping() -> None:
    mondays = {date(2026, 1, 5) + timedelta(weeks=n) for n in range(400)}  # ~7.7 years
    closed = BusinessCalendar("UTC", {"mon": [("09:00", "10:00")]}, mondays)
    with pytest.raises(ValueError, match="stays closed"):
        closed.add_business_seconds(utc("2026-01-01 00:00"), 60)


def test_twenty_four_seven_and_equality() -> None:
    start = utc("2026-03-29 00:00")
    assert TWENTY_FOUR_SEVEN.is_always_open
    assert TWENTY_FOUR_SEVEN.add_business_seconds(start, 12345) == start + 12345
    assert TWENTY_FOUR_SEVEN.business_seconds_between(start, start + 99) == 99
    assert BusinessCalendar.always_open() == TWENTY_FOUR_SEVEN
    assert hash(BusinessCalendar.always_open()) == hash(TWENTY_FOUR_SEVEN)
    # A 24/7 calendar in a DST zone still counts real seconds across the transition.
    paris_always = BusinessCalendar.always_open("Europe/Paris")
    assert paris_always.business_seconds_between(
        at("2026-03-28 12:00"), at("2026-03-30 12:00")
    ) == (47 * HOUR)
    with_holiday = BusinessCalendar.always_open("Europe/Paris", {CHRISTMAS})
    assert not with_holiday.is_always_open
    assert with_holiday.business_seconds_between(
        at("2026-12-24 12:00"), at("2026-12-26 12:00")
    ) == (24 * HOUR)


def test_years_of_business_time_are_fast() -> None:
    # O(days spanned): ten business years is a few thousand days, not 10^8 seconds.
    start = at("2026-01-05 09:00")
    seconds = 10 * 250 * 8 * HOUR
    due = OFFICE.add_business_seconds(start, seconds)
    assert OFFICE.business_seconds_between(start, due) == seconds


# --- Properties -----------------------------------------------------------------------------

instants = st.integers(min_value=at("2025-01-01 00:00"), max_value=at("2027-12-31 00:00"))
durations = st.integers(min_value=0, max_value=30 * 86400)
calendars = st.sampled_from(
    [
        OFFICE,
        TWENTY_FOUR_SEVEN,
        BusinessCalendar.always_open("Europe/Paris", {CHRISTMAS}),
        BusinessCalendar(
            "Europe/Paris", {"sun": [("01:00", "05:00")], "wed": [("02:30", "03:30")]}
        ),
        BusinessCalendar(
            "America/New_York", {day: [("08:00", "24:00")] for day in ("mon", "wed", "thu", "fri")}
        ),
    ]
)


@settings(max_examples=300, deadline=None)
@given(calendars, instants, durations)
def test_add_then_between_round_trips(cal: BusinessCalendar, start: int, seconds: int) -> None:
    due = cal.add_business_seconds(start, seconds)
    assert due >= start
    assert cal.business_seconds_between(start, due) == seconds


@settings(max_examples=300, deadline=None)
@given(calendars, instants, st.integers(min_value=1, max_value=30 * 86400))
def test_due_is_never_inside_closed_hours(cal: BusinessCalendar, start: int, seconds: int) -> None:
    due = cal.add_business_seconds(start, seconds)
    # Due in (open, close] of some interval: the second before it was a business second...
    assert cal.is_open(due - 1)
    # ...and it is the earliest such instant.
    assert cal.business_seconds_between(start, due - 1) == seconds - 1


@settings(max_examples=200, deadline=None)
@given(calendars, instants, durations, durations)
def test_between_is_additive(cal: BusinessCalendar, a: int, d1: int, d2: int) -> None:
    b, c = a + d1, a + d1 + d2
    total = cal.business_seconds_between(a, c)
    assert cal.business_seconds_between(a, b) + cal.business_seconds_between(b, c) == total
    assert 0 <= total <= c - a


@settings(max_examples=200, deadline=None)
@given(calendars, instants, durations, durations)
def test_add_is_monotonic(cal: BusinessCalendar, start: int, n1: int, n2: int) -> None:
    low, high = sorted((n1, n2))
    assert cal.add_business_seconds(start, low) <= cal.add_business_seconds(start, high)
