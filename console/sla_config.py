"""The ``[sla]`` section of config.toml -> `SlaRules`, with every mistake named by key path.

`parse_sla_section(table)` takes the section as tomllib loaded it and returns `SlaRules`, or
raises `SlaConfigError` (a ValueError) listing every problem, one per line, as
``sla.policies[1].first_reply_minutes: expected ...``; ``problems`` gives the same as
``(key, message)`` pairs so `console.config` can prefix its file name. Domain code: no Textual.

The section, smallest first::

    [sla]
    preset = "thirty-minutes"          # or "one-hour"; nothing else is needed

    [sla]                              # the older form still works: one 24/7 policy
    first_reply_minutes = 60
    warn_minutes = 15

    [sla]
    default = "standard"               # policy used when no rule matches
    warn_minutes = 15                  # amber window for policies that do not set their own

    [sla.calendars.paris]              # "24/7" is built in and needs no table
    timezone = "Europe/Paris"
    hours = { mon-fri = ["09:00-12:30", "13:30-18:00"], sat = ["10:00-13:00"] }
    holidays = [2026-01-01, "2026-12-25"]   # TOML dates or "YYYY-MM-DD" strings

    [[sla.policies]]
    name = "standard"
    calendar = "paris"                 # default "24/7"
    first_reply_minutes = 60           # at least one of the three targets
    next_reply_minutes = 120
    resolution_minutes = 1440
    pause_statuses = ["pending", "snoozed"]   # the default
    warn_minutes = 10

    [[sla.rules]]                      # first match wins; every condition given must match
    policy = "thirty-minutes"          # a defined policy or a preset name
    channel = ["x", "bluesky"]         # a string or an array, for each condition below
    priority = [2, 3]
    min_priority = 2
    tag = "outage"
    customer_tag = "vip"

Hours: weekday keys ``mon`` ... ``sun`` or ranges such as ``mon-fri`` (``fri-mon`` wraps over the
weekend); values are arrays of ``"HH:MM-HH:MM"`` (``24:00`` allowed as an end). Hours spanning
midnight are rejected: write ``fri = ["22:00-24:00"]`` and ``sat = ["00:00-06:00"]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from console.calendars import (
    TWENTY_FOUR_SEVEN,
    WEEKDAYS,
    BusinessCalendar,
    parse_hhmm,
    weekday_index,
)
from console.sla import WARN_SECONDS
from console.sla_policy import (
    DEFAULT_PAUSE_STATUSES,
    PRESETS,
    RESOLVED,
    TARGETS,
    SlaPolicy,
    SlaRule,
    SlaRules,
)
from console.toml_words import choice_hint, toml_type_name
from db.models import CHANNELS, Status

DEFAULT_PRESET = "one-hour"  # what an absent [sla] section means (config.py's old default)
ALWAYS_OPEN_NAME = "24/7"

_SECTION_KEYS = (
    "preset", "default", "warn_minutes", "first_reply_minutes", "calendars", "policies", "rules",
)  # fmt: skip
_CALENDAR_KEYS = ("timezone", "hours", "holidays")
_POLICY_KEYS = (
    "name", "calendar", "first_reply_minutes", "next_reply_minutes", "resolution_minutes",
    "pause_statuses", "warn_minutes",
)  # fmt: skip
_RULE_KEYS = ("policy", "channel", "priority", "min_priority", "tag", "customer_tag")
_PAUSABLE = tuple(s.value for s in Status if s.value != RESOLVED)
_SPAN = re.compile(r"\s*(\d\d:\d\d)\s*-\s*(\d\d:\d\d)\s*")


class SlaConfigError(ValueError):
    """The ``[sla]`` section cannot be used; ``problems`` holds ``(key path, message)`` pairs."""

    def __init__(self, problems: Iterable[tuple[str, str]]) -> None:
        self.problems: tuple[tuple[str, str], ...] = tuple(problems)
        super().__init__("\n".join(f"{key}: {message}" for key, message in self.problems))




def parse_sla_section(table: Mapping[str, Any] | None, *, prefix: str = "sla") -> SlaRules:
    """Validate the ``[sla]`` table (None or empty: the "one-hour" preset)."""
    parser = _Parser(prefix)
    rules = parser.section(table or {})
    if parser.problems or rules is None:
        raise SlaConfigError(parser.problems)
    return rules


class _Parser:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.problems: list[tuple[str, str]] = []
        self.policy_names: list[str] = []
        self.calendar_names: list[str] = [ALWAYS_OPEN_NAME]

    def problem(self, key: str, message: str) -> None:
        self.problems.append((f"{self.prefix}.{key}", message))

    def unknown(self, table: Mapping[str, Any], where: str, known: tuple[str, ...]) -> None:
        for key in table:
            if key not in known:
                self.problem(f"{where}{key}", f"unknown setting{choice_hint(key, known)}")

    # --- scalar helpers -----------------------------------------------------------------------

    def string(self, table: Mapping[str, Any], key: str, where: str) -> str | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            got = toml_type_name(value) if not isinstance(value, str) else "an empty string"
            self.problem(where, f"expected a non-empty string, got {got}")
            return None
        return value.strip()

    def minutes(
        self, table: Mapping[str, Any], key: str, where: str, *, allow_zero: bool = False
    ) -> int | None:
        value = table.get(key)
        if value is None:
            return None
        kind = "a whole number of minutes"
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(where, f"expected {kind}, got {toml_type_name(value)}")
            return None
        if value < 0 or (value == 0 and not allow_zero):
            sign = "zero or more" if allow_zero else "a positive number of"
            self.problem(where, f"expected {sign} minutes, got {value}")
            return None
        return value

    def strings(self, value: Any, where: str) -> list[str] | None:
        """A string or an array of non-empty strings."""
        items = value if isinstance(value, list) else [value]
        if not items or not all(isinstance(v, str) and v.strip() for v in items):
            self.problem(where, f"expected a string or an array of strings, got {value!r}")
            return None
        return [v.strip() for v in items]

    def integers(self, value: Any, where: str) -> list[int] | None:
        items = value if isinstance(value, list) else [value]
        if not items or not all(isinstance(v, int) and not isinstance(v, bool) for v in items):
            self.problem(where, f"expected an integer or an array of integers, got {value!r}")
            return None
        return list(items)

    # --- the section --------------------------------------------------------------------------

    def section(self, table: Mapping[str, Any]) -> SlaRules | None:
        if not isinstance(table, Mapping):
            self.problems.append((self.prefix, f"expected a table, got {toml_type_name(table)}"))
            return None
        self.unknown(table, "", _SECTION_KEYS)
        preset = self.string(table, "preset", "preset")
        if preset is not None and preset not in PRESETS:
            self.problem("preset", f"unknown preset {preset!r}{choice_hint(preset, PRESETS)}")
            preset = None
        warn = self.minutes(table, "warn_minutes", "warn_minutes", allow_zero=True)
        legacy_first = self.minutes(table, "first_reply_minutes", "first_reply_minutes")
        calendars = self.calendars(table.get("calendars", {}))
        policies = self.policies(table.get("policies", []), calendars, warn)
        declared = self.policy_names  # includes policies whose own settings are wrong
        if legacy_first is not None and ("preset" in table or declared):
            self.problem(
                "first_reply_minutes",
                "expected either this or sla.preset / [[sla.policies]], not both: remove it and "
                "set first_reply_minutes in a policy",
            )
        warn_seconds = WARN_SECONDS if warn is None else warn * 60
        available: dict[str, SlaPolicy] = {
            name: _with_warn(base, warn_seconds) for name, base in PRESETS.items()
        }
        if legacy_first is not None:
            available["default"] = SlaPolicy(
                "default", first_reply=legacy_first * 60, warn=warn_seconds
            )
        available.update(policies)
        known_names = [*available, *(n for n in declared if n not in available)]

        default = self.string(table, "default", "default")
        if default is not None and default not in known_names:
            hint = choice_hint(default, known_names)
            self.problem("default", f"unknown policy {default!r}{hint}")
        if default is None and "default" not in table:
            if preset is not None:
                default = preset
            elif legacy_first is not None:
                default = "default"
            elif len(declared) == 1:
                default = declared[0]
            elif declared:
                self.problem(
                    "default",
                    "expected the name of the policy used when no rule matches "
                    f"(one of: {', '.join(declared)})",
                )
            elif "preset" not in table:
                default = DEFAULT_PRESET
        rules = self.rules(table.get("rules", []), known_names)
        if self.problems or rules is None or default is None:
            return None
        used = {default, *(rule.policy for rule in rules)}
        for name in sorted(used - set(policies)):  # presets and the older form: the section warn
            self.check_warn(available[name], "warn_minutes")
        if self.problems:
            return None
        return SlaRules(available, default=default, rules=tuple(rules))

    def check_warn(self, policy: SlaPolicy, where: str) -> None:
        targets = [t for t in (policy.target(name) for name in TARGETS) if t is not None]
        if targets and policy.warn >= min(targets):
            # An amber window as long as a target shows every fresh mention amber: a typo.
            self.problem(
                where,
                f"expected fewer minutes than the shortest target of policy {policy.name!r} "
                f"({min(targets) // 60}), got {policy.warn // 60}",
            )

    # --- calendars ----------------------------------------------------------------------------

    def calendars(self, value: Any) -> dict[str, BusinessCalendar]:
        result: dict[str, BusinessCalendar] = {ALWAYS_OPEN_NAME: TWENTY_FOUR_SEVEN}
        if not isinstance(value, dict):
            self.problem("calendars", f"expected a table of calendars, got {toml_type_name(value)}")
            return result
        for name, table in value.items():
            where = f"calendars.{name}"
            if name == ALWAYS_OPEN_NAME:
                self.problem(where, f"{ALWAYS_OPEN_NAME!r} is built in; pick another name")
                continue
            self.calendar_names.append(name)
            if not isinstance(table, dict):
                self.problem(where, f"expected a table, got {toml_type_name(table)}")
                continue
            calendar = self.calendar(name, table, where)
            if calendar is not None:
                result[name] = calendar
        return result

    def calendar(self, name: str, table: Mapping[str, Any], where: str) -> BusinessCalendar | None:
        self.unknown(table, f"{where}.", _CALENDAR_KEYS)
        before = len(self.problems)
        tz = self.string(table, "timezone", f"{where}.timezone")
        if tz is None and "timezone" not in table:
            self.problem(f"{where}.timezone", "expected an IANA time zone such as 'Europe/Paris'")
        hours = self.hours(table.get("hours"), f"{where}.hours")
        holidays = self.holidays(table.get("holidays", []), f"{where}.holidays")
        if len(self.problems) != before or tz is None or hours is None:
            return None
        try:
            return BusinessCalendar(tz, hours, holidays, name=name)
        except ValueError as error:
            key = "timezone" if "time zone" in str(error) else "hours"
            self.problem(f"{where}.{key}", str(error))
            return None

    def hours(self, value: Any, where: str) -> dict[int, list[tuple[str, str]]] | None:
        if not isinstance(value, dict) or not value:
            got = "an empty table" if value == {} else toml_type_name(value)
            if value is None:
                got = "nothing"
            self.problem(
                where,
                'expected a table of weekday -> spans, e.g. { mon-fri = ["09:00-18:00"] }, '
                f"got {got}",
            )
            return None
        hours: dict[int, list[tuple[str, str]]] = {}
        for key, spans in value.items():
            days = self.day_range(key, f"{where}.{key}")
            parsed = self.spans(spans, f"{where}.{key}")
            if days is None or parsed is None:
                continue
            for day in days:
                if day in hours:
                    self.problem(f"{where}.{key}", f"{WEEKDAYS[day]} is given twice")
                    break
                hours[day] = parsed
        return hours

    def day_range(self, key: str, where: str) -> list[int] | None:
        try:
            if "-" in key:
                first, last = (weekday_index(part) for part in key.split("-", 1))
                return [(first + n) % 7 for n in range((last - first) % 7 + 1)]
            return [weekday_index(key)]
        except ValueError:
            self.problem(
                where, f"expected a weekday ({', '.join(WEEKDAYS)}) or a range such as mon-fri"
            )
            return None

    def spans(self, value: Any, where: str) -> list[tuple[str, str]] | None:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(
                where,
                f'expected an array of "HH:MM-HH:MM" strings ([] for closed), got {value!r}',
            )
            return None
        spans = []
        for text in value:
            match = _SPAN.fullmatch(text)
            if match is None:
                self.problem(where, f'expected "HH:MM-HH:MM" (e.g. "09:00-18:00"), got {text!r}')
                return None
            try:
                start, end = parse_hhmm(match[1]), parse_hhmm(match[2], end=True)
            except ValueError as error:
                self.problem(where, f"{error} in {text!r}")
                return None
            if end <= start:
                self.problem(
                    where,
                    f"{text!r} ends before it starts; hours spanning midnight are not supported: "
                    'split them, e.g. fri = ["22:00-24:00"] and sat = ["00:00-06:00"]',
                )
                return None
            spans.append((match[1], match[2]))
        return spans

    def holidays(self, value: Any, where: str) -> list[date]:
        if not isinstance(value, list):
            self.problem(where, f"expected an array of dates, got {toml_type_name(value)}")
            return []
        result = []
        for index, item in enumerate(value):
            if isinstance(item, date) and not isinstance(item, datetime):
                result.append(item)
                continue
            if isinstance(item, str):
                try:
                    result.append(date.fromisoformat(item.strip()))
                    continue
                except ValueError:
                    pass
            self.problem(f"{where}[{index}]", f"expected a date such as 2026-12-25, got {item!r}")
        return result

    # --- policies -----------------------------------------------------------------------------

    def policies(
        self, value: Any, calendars: Mapping[str, BusinessCalendar], warn: int | None
    ) -> dict[str, SlaPolicy]:
        result: dict[str, SlaPolicy] = {}
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.problem("policies", "expected an array of tables ([[sla.policies]])")
            return result
        for index, table in enumerate(value):
            where = f"policies[{index}]"
            self.unknown(table, f"{where}.", _POLICY_KEYS)
            before = len(self.problems)
            name = self.string(table, "name", f"{where}.name")
            if name is None and "name" not in table:
                self.problem(f"{where}.name", "expected a policy name")
            elif name in PRESETS:
                self.problem(f"{where}.name", f"{name!r} is a preset name; pick another name")
            elif name in self.policy_names:
                self.problem(f"{where}.name", f"policy {name!r} is defined twice")
            if name is not None and name not in self.policy_names:
                self.policy_names.append(name)
            skip = False
            calendar_name = self.string(table, "calendar", f"{where}.calendar")
            calendar = TWENTY_FOUR_SEVEN
            if calendar_name is not None:
                if calendar_name in calendars:
                    calendar = calendars[calendar_name]
                elif calendar_name in self.calendar_names:
                    skip = True  # declared but wrong: its own problems are reported already
                else:
                    names = self.calendar_names
                    self.problem(
                        f"{where}.calendar",
                        f"unknown calendar {calendar_name!r}{choice_hint(calendar_name, names)}",
                    )
            targets = {
                target: self.minutes(table, f"{target}_minutes", f"{where}.{target}_minutes")
                for target in TARGETS
            }
            if all(f"{target}_minutes" not in table for target in TARGETS):
                self.problem(
                    where,
                    "expected at least one of first_reply_minutes, next_reply_minutes, "
                    "resolution_minutes",
                )
            pause = DEFAULT_PAUSE_STATUSES
            if "pause_statuses" in table:
                raw = table["pause_statuses"]
                if isinstance(raw, list) and not raw:
                    pause = frozenset()
                else:
                    statuses = self.strings(raw, f"{where}.pause_statuses")
                    for status in statuses or []:
                        if status not in _PAUSABLE:
                            self.problem(
                                f"{where}.pause_statuses",
                                f"unknown status {status!r}{choice_hint(status, _PAUSABLE)}",
                            )
                    pause = frozenset(statuses or ())
            own_warn = self.minutes(table, "warn_minutes", f"{where}.warn_minutes", allow_zero=True)
            if len(self.problems) != before or name is None or skip:
                continue
            warn_minutes = own_warn if own_warn is not None else warn
            policy = SlaPolicy(
                name,
                calendar=calendar,
                first_reply=_seconds(targets["first_reply"]),
                next_reply=_seconds(targets["next_reply"]),
                resolution=_seconds(targets["resolution"]),
                pause_statuses=pause,
                warn=WARN_SECONDS if warn_minutes is None else warn_minutes * 60,
            )
            self.check_warn(
                policy, f"{where}.warn_minutes" if own_warn is not None else "warn_minutes"
            )
            result[name] = policy
        return result

    # --- rules --------------------------------------------------------------------------------

    def rules(self, value: Any, policies: Iterable[str]) -> list[SlaRule] | None:
        policies = list(policies)
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.problem("rules", "expected an array of tables ([[sla.rules]])")
            return None
        result = []
        for index, table in enumerate(value):
            where = f"rules[{index}]"
            self.unknown(table, f"{where}.", _RULE_KEYS)
            before = len(self.problems)
            policy = self.string(table, "policy", f"{where}.policy")
            if policy is None and "policy" not in table:
                self.problem(f"{where}.policy", "expected the name of the policy this rule picks")
            elif policy is not None and policy not in policies:
                self.problem(
                    f"{where}.policy", f"unknown policy {policy!r}{choice_hint(policy, policies)}"
                )
            channels = (
                self.strings(table["channel"], f"{where}.channel") if ("channel" in table) else []
            )
            for channel in channels or []:
                if channel not in CHANNELS:
                    self.problem(
                        f"{where}.channel",
                        f"unknown channel {channel!r}{choice_hint(channel, CHANNELS)}",
                    )
            priorities = (
                self.integers(table["priority"], f"{where}.priority") if "priority" in table else []
            )
            min_priority = None
            if "min_priority" in table:
                found = self.integers(table["min_priority"], f"{where}.min_priority")
                if found is not None and isinstance(table["min_priority"], list):
                    self.problem(f"{where}.min_priority", "expected one integer, got an array")
                elif found is not None:
                    min_priority = found[0]
            tags = self.strings(table["tag"], f"{where}.tag") if "tag" in table else []
            customer_tags = (
                self.strings(table["customer_tag"], f"{where}.customer_tag")
                if "customer_tag" in table
                else []
            )
            if len(self.problems) != before or policy is None:
                continue
            if not set(table) - {"policy"}:
                self.problem(
                    where,
                    "expected at least one condition (channel, priority, min_priority, tag, "
                    "customer_tag); for the policy used when nothing matches, set sla.default",
                )
                continue
            result.append(
                SlaRule(
                    policy,
                    channels=frozenset(channels or ()),
                    priorities=frozenset(priorities or ()),
                    min_priority=min_priority,
                    tags=frozenset(tags or ()),
                    customer_tags=frozenset(customer_tags or ()),
                )
            )
        return result


def _seconds(minutes: int | None) -> int | None:
    return None if minutes is None else minutes * 60


def _with_warn(policy: SlaPolicy, warn: int) -> SlaPolicy:
    return replace(policy, warn=warn)
