"""Business calendars: which instants count towards an SLA, and due-time arithmetic over them.

Pure domain code: no Textual, and no reading of the system clock. Instants are integer seconds
since the Unix epoch (UTC), as everywhere in Comptoir; opening hours are wall-clock times in the
calendar's IANA time zone (``zoneinfo``).

Definitions (what the tests pin down):

- A calendar is open over a union of half-open UTC intervals ``[open, close)``. For each local
  date that is not a holiday, the intervals are that weekday's opening hours. ``is_open(t)`` is
  true when ``open <= t < close`` for one of them. Intervals that touch leave no gap, including
  across midnight: ``fri 22:00-24:00`` plus ``sat 00:00-06:00`` is one uninterrupted night shift.
- Hours are ``(start, end)`` pairs of ``"HH:MM"`` with ``start < end`` on the same day; ``"24:00"``
  is allowed as an end and means the next local midnight. **Hours spanning midnight are
  rejected** (``"22:00"-"06:00"`` raises ValueError): write them as two days as above, so that a
  holiday or a weekday's hours always say exactly which part of the night they cover.
- A holiday (a local date) closes that whole local day, from 00:00 to the next 00:00.
- Daylight-saving time: a boundary ``HH:MM`` on a date is *the first instant at which the local
  clock reads HH:MM or later that day*. On a spring-forward day a time inside the skipped hour
  maps to the transition instant (Paris, last Sunday of March: 02:30 means 03:00 CEST), so
  ``00:00-24:00`` lasts 23 h. On a fall-back day a repeated time maps to its first occurrence
  (Paris, last Sunday of October: 02:30 means 02:30 CEST, the earlier one), so ``00:00-24:00``
  lasts 25 h and ``01:00-04:00`` lasts 4 h.
- ``add_business_seconds(start, n)`` is the *earliest* instant ``due`` such that
  ``business_seconds_between(start, due) == n``. For ``n > 0`` it lies in ``(open, close]`` of
  some interval: a target whose last business second ends at closing time is due at closing
  time, not at the next opening. For ``n == 0`` it is ``start`` itself.
- ``business_seconds_between(a, b)`` counts the open seconds in ``[a, b)``; it is negative
  (``-between(b, a)``) when ``b < a``.

Cost: both operations walk the open intervals day by day, so they are O(local days spanned),
never O(seconds); a day's intervals are cached. A 24/7 calendar without holidays takes a
constant-time shortcut.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY: Final = 24 * 60
# If a calendar stays closed this many consecutive local days (holidays on every open day, say),
# arithmetic gives up with ValueError instead of looping: a misconfiguration, not an SLA.
MAX_CLOSED_DAYS: Final = 3 * 366
_CACHE_LIMIT: Final = 4096
_HHMM = re.compile(r"(?P<h>\d\d):(?P<m>\d\d)")

Weekday = int | str
Hours = Mapping[Weekday, Sequence[tuple[str, str]]]


def parse_hhmm(text: str, *, end: bool = False) -> int:
    """Minutes since local midnight for ``"HH:MM"``; ``"24:00"`` only when ``end`` is true."""
    match = _HHMM.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"expected a time as 'HH:MM' (e.g. '09:00'), got {text!r}")
    hours, minutes = int(match["h"]), int(match["m"])
    if minutes > 59 or hours > 24 or (hours == 24 and (minutes or not end)):
        limit = "00:00 to 24:00" if end else "00:00 to 23:59"
        raise ValueError(f"expected a time from {limit}, got {text!r}")
    return hours * 60 + minutes


def weekday_index(day: Weekday) -> int:
    """0 (Monday) to 6 (Sunday), as `datetime.weekday`, from that number or a name ("mon")."""
    if isinstance(day, bool):
        raise ValueError(f"expected a weekday, got {day!r}")
    if isinstance(day, int):
        if 0 <= day <= 6:
            return day
        raise ValueError(f"expected a weekday number 0 (Monday) to 6 (Sunday), got {day!r}")
    if isinstance(day, str):
        name = day.strip().lower()
        if name in WEEKDAYS:
            return WEEKDAYS.index(name)
        if name in _FULL_NAMES:
            return _FULL_NAMES.index(name)
    raise ValueError(f"expected a weekday ({', '.join(WEEKDAYS)}), got {day!r}")


_FULL_NAMES: Final = (
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
)  # fmt: skip


def _normalise_hours(hours: Hours) -> tuple[tuple[tuple[int, int], ...], ...]:
    """Per weekday (0-6), sorted non-overlapping ``(start_min, end_min)``; adjacent ones joined."""
    days: list[list[tuple[int, int]]] = [[] for _ in WEEKDAYS]
    seen: set[int] = set()
    for day, spans in hours.items():
        index = weekday_index(day)
        if index in seen:
            raise ValueError(f"{WEEKDAYS[index]}: opening hours given twice")
        seen.add(index)
        for span in spans:
            if len(span) != 2:
                raise ValueError(f"{WEEKDAYS[index]}: expected (start, end), got {span!r}")
            start, end = parse_hhmm(span[0]), parse_hhmm(span[1], end=True)
            if end <= start:
                raise ValueError(
                    f"{WEEKDAYS[index]}: {span[0]}-{span[1]} ends before it starts; hours "
                    "spanning midnight are not supported: split them, e.g. "
                    "fri 22:00-24:00 and sat 00:00-06:00"
                )
            days[index].append((start, end))
    result = []
    for index, spans in enumerate(days):
        merged: list[tuple[int, int]] = []
        for start, end in sorted(spans):
            if merged and start < merged[-1][1]:
                raise ValueError(f"{WEEKDAYS[index]}: opening hours overlap")
            if merged and start == merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
            else:
                merged.append((start, end))
        result.append(tuple(merged))
    return tuple(result)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class BusinessCalendar:
    """Opening hours in one time zone, minus holidays. Immutable, hashable, comparable.

    ``hours`` maps a weekday (0 = Monday ... 6 = Sunday, or "mon" ... "sun") to a list of
    ``("HH:MM", "HH:MM")`` pairs; missing weekdays are closed. ``holidays`` are local dates.
    """

    __slots__ = ("_always_open", "_cache", "_days", "_zone", "holidays", "name", "tz")

    def __init__(
        self,
        tz: str,
        hours: Hours,
        holidays: Iterable[date] = (),
        *,
        name: str = "",
    ) -> None:
        try:
            self._zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(
                f"unknown time zone {tz!r} (expected an IANA name such as 'Europe/Paris')"
            ) from error
        self.tz = tz
        self.name = name or tz
        self._days = _normalise_hours(hours)
        if not any(self._days):
            raise ValueError("a business calendar needs opening hours on at least one weekday")
        holiday_set = frozenset(holidays)
        for day in holiday_set:
            if not isinstance(day, date) or isinstance(day, datetime):
                raise ValueError(f"expected holidays as dates, got {day!r}")
        self.holidays: frozenset[date] = holiday_set
        self._always_open = not holiday_set and all(
            spans == ((0, MINUTES_PER_DAY),) for spans in self._days
        )
        self._cache: dict[date, tuple[tuple[int, int], ...]] = {}

    @classmethod
    def always_open(cls, tz: str = "UTC", holidays: Iterable[date] = ()) -> BusinessCalendar:
        """Open around the clock, every day (holidays, if any, in the zone ``tz``)."""
        return cls(tz, {day: [("00:00", "24:00")] for day in range(7)}, holidays, name="24/7")

    # --- identity ---------------------------------------------------------------------------

    @property
    def hours(self) -> dict[str, list[tuple[str, str]]]:
        """The normalised opening hours, e.g. ``{"mon": [("09:00", "18:00")], ...}``."""
        return {
            WEEKDAYS[index]: [(_hhmm(start), _hhmm(end)) for start, end in spans]
            for index, spans in enumerate(self._days)
            if spans
        }

    @property
    def is_always_open(self) -> bool:
        return self._always_open

    def _key(self) -> tuple[object, ...]:
        return (self.tz, self._days, self.holidays)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BusinessCalendar):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"BusinessCalendar(name={self.name!r}, tz={self.tz!r}, hours={self.hours!r}, "
            f"holidays={len(self.holidays)})"
        )

    # --- local time -> instants -------------------------------------------------------------

    def _wall(self, instant: int) -> datetime:
        return datetime.fromtimestamp(instant, self._zone).replace(tzinfo=None)

    def _instant(self, day: date, minutes: int) -> int:
        """The first instant at which the local clock reads ``day`` + ``minutes`` or later."""
        if minutes == MINUTES_PER_DAY:
            day, minutes = day + timedelta(days=1), 0
        naive = datetime(day.year, day.month, day.day, minutes // 60, minutes % 60)
        first = int(naive.replace(tzinfo=self._zone, fold=0).timestamp())
        if self._wall(first) == naive:
            return first  # exists; fold=0 is the first occurrence of a repeated time
        # Skipped by a spring-forward transition: find the transition instant, the first
        # instant whose wall time is at or after `naive` (wall time is increasing here).
        other = int(naive.replace(tzinfo=self._zone, fold=1).timestamp())
        low, high = min(first, other), max(first, other)
        while low < high:
            middle = (low + high) // 2
            if self._wall(middle) >= naive:
                high = middle
            else:
                low = middle + 1
        return low

    def day_intervals(self, day: date) -> tuple[tuple[int, int], ...]:
        """Open ``[start, end)`` instants of one local date (empty on holidays and closed days)."""
        cached = self._cache.get(day)
        if cached is not None:
            return cached
        if day in self.holidays:
            intervals: tuple[tuple[int, int], ...] = ()
        else:
            intervals = tuple(
                (start, end)
                for start, end in (
                    (self._instant(day, s), self._instant(day, e))
                    for s, e in self._days[day.weekday()]
                )
                if end > start  # a span wholly inside a skipped DST hour is empty
            )
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[day] = intervals
        return intervals

    def intervals_from(self, instant: int) -> Iterator[tuple[int, int]]:
        """Open intervals that end after ``instant``, in order, day by day.

        Not joined: a night shift yields ``[22:00, 24:00)`` then ``[00:00, 06:00)``, which touch
        (joining them would need unbounded look-ahead on a calendar open around the clock).
        Infinite; raises ValueError after MAX_CLOSED_DAYS consecutive closed days.
        """
        day = self._wall(instant).date()
        closed_days = 0
        while True:
            intervals = self.day_intervals(day)
            closed_days = 0 if intervals else closed_days + 1
            if closed_days > MAX_CLOSED_DAYS:
                raise ValueError(
                    f"calendar {self.name!r} stays closed for over {MAX_CLOSED_DAYS} days "
                    f"after {self._wall(instant).isoformat()}"
                )
            for start, end in intervals:
                if end > instant:
                    yield start, end
            day += timedelta(days=1)

    # --- arithmetic --------------------------------------------------------------------------

    def is_open(self, instant: int) -> bool:
        if self._always_open:
            return True
        start, _end = next(self.intervals_from(instant))
        return start <= instant

    def next_open(self, instant: int) -> int:
        """``instant`` when open, otherwise the next opening instant."""
        if self._always_open:
            return instant
        start, _end = next(self.intervals_from(instant))
        return max(start, instant)

    def add_business_seconds(self, start: int, seconds: int) -> int:
        """The due instant ``seconds`` business seconds after ``start`` (see module docs)."""
        if seconds < 0:
            raise ValueError(f"expected a non-negative number of seconds, got {seconds}")
        if seconds == 0 or self._always_open:
            return start + seconds
        for open_at, close_at in self.intervals_from(start):
            open_at = max(open_at, start)
            available = close_at - open_at
            if seconds <= available:
                return open_at + seconds
            seconds -= available
        raise AssertionError("unreachable: intervals_from is infinite")  # pragma: no cover

    def business_seconds_between(self, a: int, b: int) -> int:
        """Open seconds in ``[a, b)``; ``-business_seconds_between(b, a)`` when ``b < a``."""
        if b < a:
            return -self.business_seconds_between(b, a)
        if self._always_open or a == b:
            return b - a
        total = 0
        for open_at, close_at in self.intervals_from(a):
            if open_at >= b:
                break
            total += min(close_at, b) - max(open_at, a)
        return total


TWENTY_FOUR_SEVEN: Final = BusinessCalendar.always_open()
