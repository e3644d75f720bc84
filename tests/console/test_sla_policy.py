"""SLA policies: targets over a mention's timeline, pauses, rules, presets and the [sla] section."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.calendars import TWENTY_FOUR_SEVEN, BusinessCalendar
from console.clock import FrozenClock
from console.sla import SlaState
from console.sla_config import SlaConfigError, parse_sla_section
from console.sla_policy import (
    PRESETS,
    AgentReply,
    CustomerMessage,
    SlaPolicy,
    SlaRule,
    SlaRules,
    StatusChange,
    TimelineEvent,
    evaluate,
)

PARIS = ZoneInfo("Europe/Paris")
MIN = 60
HOUR = 3600
T = 1_767_261_600  # 2026-01-01 10:00 UTC: any instant works on a 24/7 calendar
THIRTY = PRESETS["thirty-minutes"]


def at(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=PARIS).timestamp())


OFFICE = BusinessCalendar(
    "Europe/Paris",
    {day: [("09:00", "18:00")] for day in ("mon", "tue", "wed", "thu", "fri")},
    {date(2026, 12, 25)},
    name="office",
)


def run(policy: SlaPolicy, timeline: list[TimelineEvent], clock: FrozenClock):
    return evaluate(policy, timeline, clock.now())


# --- First reply ------------------------------------------------------------------------------


def test_first_reply_counts_down_from_the_first_customer_message() -> None:
    clock = FrozenClock(T + 10 * MIN)
    result = run(THIRTY, [CustomerMessage(T)], clock)
    first = result.first_reply
    assert (first.status, first.due, first.remaining, first.elapsed) == (
        "running",
        T + 30 * MIN,
        20 * MIN,
        10 * MIN,
    )
    assert first.counting and first.started_at == T
    assert result.due == T + 30 * MIN
    assert result.sla_state() == SlaState("00:20", "ok")
    assert result.next_reply.status == "inactive"
    assert result.resolution.status == "inactive"  # the preset has no resolution target


def test_first_reply_met_then_stays_met() -> None:
    timeline: list[TimelineEvent] = [CustomerMessage(T), AgentReply(T + 20 * MIN)]
    result = run(THIRTY, timeline, FrozenClock(T + 2 * HOUR))
    assert result.first_reply.status == "met"
    assert result.first_reply.completed_at == T + 20 * MIN
    assert result.first_reply.remaining == 10 * MIN
    assert result.first_reply.due == T + 30 * MIN  # the due it beat
    assert result.due is None  # nothing counting: the queue shows "--:--"
    assert result.sla_state() == SlaState("--:--", "none")


def test_reply_at_the_due_instant_is_met_one_second_later_is_breached() -> None:
    due = T + 30 * MIN
    on_time = run(THIRTY, [CustomerMessage(T), AgentReply(due)], FrozenClock(due + HOUR))
    assert on_time.first_reply.met
    late = run(THIRTY, [CustomerMessage(T), AgentReply(due + 1)], FrozenClock(due + HOUR))
    assert late.first_reply.breached
    assert late.first_reply.breached_at == due
    assert late.first_reply.completed_at == due + 1


def test_unanswered_breach_counts_negative() -> None:
    clock = FrozenClock(T + 30 * MIN)
    result = run(THIRTY, [CustomerMessage(T)], clock)
    assert result.first_reply.status == "running"  # at the due instant: reached, not missed
    assert result.sla_state() == SlaState("00:00", "warn")
    clock.advance(12 * MIN)
    result = run(THIRTY, [CustomerMessage(T)], clock)
    assert result.first_reply.status == "breached"
    assert result.first_reply.breached_at == T + 30 * MIN
    assert result.first_reply.remaining == -12 * MIN
    assert result.first_reply.counting
    assert result.sla_state() == SlaState("-00:12", "breach")
    assert result.breached


def test_events_after_now_and_proactive_replies_are_ignored() -> None:
    timeline: list[TimelineEvent] = [
        AgentReply(T - HOUR),  # a proactive post before the customer wrote
        CustomerMessage(T),
        AgentReply(T + HOUR),  # in the future
    ]
    result = run(THIRTY, timeline, FrozenClock(T + 5 * MIN))
    assert result.first_reply.status == "running"
    assert result.next_reply.status == "inactive"


def test_timeline_is_read_in_time_order_ties_in_list_order() -> None:
    shuffled: list[TimelineEvent] = [AgentReply(T + 5 * MIN), CustomerMessage(T)]
    assert run(THIRTY, shuffled, FrozenClock(T + HOUR)).first_reply.met
    same_instant: list[TimelineEvent] = [CustomerMessage(T), AgentReply(T)]
    assert run(THIRTY, same_instant, FrozenClock(T + HOUR)).first_reply.completed_at == T


def test_fractional_now_is_floored() -> None:
    result = evaluate(THIRTY, [CustomerMessage(T)], T + 0.9)
    assert result.now == T
    assert result.first_reply.remaining == 30 * MIN


# --- Next reply ----------------------------------------------------------------------------------


def test_next_reply_starts_at_the_first_unanswered_customer_message() -> None:
    timeline: list[TimelineEvent] = [
        CustomerMessage(T),
        AgentReply(T + 5 * MIN),
        CustomerMessage(T + 10 * MIN),
        CustomerMessage(T + 12 * MIN),  # still waiting: does not restart the clock
    ]
    result = run(THIRTY, timeline, FrozenClock(T + 20 * MIN))
    assert result.first_reply.met
    assert result.next_reply.status == "running"
    assert result.next_reply.started_at == T + 10 * MIN
    assert result.next_reply.due == T + 40 * MIN
    assert result.due == T + 40 * MIN


def test_one_next_reply_cycle_per_customer_turn() -> None:
    timeline: list[TimelineEvent] = [
        CustomerMessage(T),
        AgentReply(T + 5 * MIN),
        CustomerMessage(T + 10 * MIN),
        AgentReply(T + 45 * MIN),  # 35 min: the second turn breached
        CustomerMessage(T + 50 * MIN),
        AgentReply(T + 55 * MIN),
        CustomerMessage(T + 60 * MIN),
    ]
    result = run(THIRTY, timeline, FrozenClock(T + 70 * MIN))
    cycles = result.next_reply_cycles
    assert [c.status for c in cycles] == ["breached", "met", "running"]
    assert cycles[0].breached_at == T + 40 * MIN and cycles[0].completed_at == T + 45 * MIN
    assert result.next_reply == cycles[-1]
    assert result.next_reply.due == T + 90 * MIN
    assert result.breached  # an earlier turn's breach is remembered
    assert not result.next_reply.breached


def test_policy_without_next_reply_target_keeps_it_inactive() -> None:
    timeline: list[TimelineEvent] = [
        CustomerMessage(T),
        AgentReply(T + MIN),
        CustomerMessage(T + 2 * MIN),
    ]
    result = run(SlaPolicy("first-only", first_reply=HOUR), timeline, FrozenClock(T + 3 * HOUR))
    assert result.next_reply.status == "inactive"
    assert result.due is None


# --- Pauses ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["pending", "snoozed"])
def test_pause_statuses_freeze_the_clock(status: str) -> None:
    timeline: list[TimelineEvent] = [CustomerMessage(T), StatusChange(T + 10 * MIN, status)]
    result = run(THIRTY, timeline, FrozenClock(T + 5 * HOUR))
    first = result.first_reply
    assert (first.status, first.due, first.remaining, first.counting) == (
        "paused",
        None,
        20 * MIN,
        False,
    )
    assert result.status == status
    assert result.sla_state() == SlaState("--:--", "none")
    # Back to open: the remaining 20 minutes count from then.
    timeline.append(StatusChange(T + 5 * HOUR, "open"))
    result = run(THIRTY, timeline, FrozenClock(T + 5 * HOUR + 5 * MIN))
    assert result.first_reply.status == "running"
    assert result.first_reply.due == T + 5 * HOUR + 20 * MIN
    assert result.first_reply.remaining == 15 * MIN


def test_new_customer_message_restarts_a_paused_clock() -> None:
    timeline: list[TimelineEvent] = [
        CustomerMessage(T),
        StatusChange(T + 10 * MIN, "snoozed"),
        CustomerMessage(T + HOUR),  # implicit reopen: no status change needed
    ]
    result = run(THIRTY, timeline, FrozenClock(T + HOUR + MIN))
    assert result.status == "open"
    assert result.first_reply.status == "running"
    assert result.first_reply.due == T + HOUR + 20 * MIN


def test_reply_while_paused_meets_the_target() -> None:
    timeline: list[TimelineEvent] = [
        CustomerMessage(T),
        StatusChange(T + 10 * MIN, "pending"),
        AgentReply(T + 3 * HOUR),
    ]
    result = run(THIRTY, timeline, FrozenClock(T + 4 * HOUR))
    assert result.first_reply.met
    assert result.first_reply.due is None  # met while paused: no due was in force


def test_breach_before_the_pause_stays() -> None:
    timeline: list[TimelineEvent] = [CustomerMessage(T), StatusChange(T + 40 * MIN, "pending")]
    result = run(THIRTY, timeline, FrozenClock(T + 5 * HOUR))
    assert result.first_reply.breached
    assert result.first_reply.breached_at == T + 30 * MIN
    assert result.first_reply.remaining == -10 * MIN  # frozen at the pause
    assert not result.first_reply.counting
    assert result.due is None


def test_pause_statuses_are_per_policy() -> None:
    no_pause = replace(THIRTY, pause_statuses=frozenset())
    timeline: list[TimelineEvent] = [CustomerMessage(T), StatusChange(T + 10 * MIN, "pending")]
    result = run(no_pause, timeline, FrozenClock(T + 20 * MIN))
    assert result.first_reply.status == "running"
    assert result.first_reply.due == T + 30 * MIN


def test_pending_only_pauses_while_it_lasts_and_open_to_open_changes_nothing() -> None:
    timeline: list[TimelineEvent] = [
        CustomerMessage(T),
        StatusChange(T + 5 * MIN, "open"),
        StatusChange(T + 10 * MIN, "pending"),
        StatusChange(T + 20 * MIN, "snoozed"),  # pause to pause: still paused
        StatusChange(T + 30 * MIN, "open"),
    ]
    result = run(THIRTY, timeline, FrozenClock(T + 30 * MIN))
    assert result.first_reply.elapsed == 10 * MIN
    assert result.first_reply.due == T + 50 * MIN


# --- Resolution --------------------------------------------------------------------------------

RESOLVE_2H = SlaPolicy("resolve", first_reply=30 * MIN, resolution=2 * HOUR)


def test_resolution_met_then_reopened_is_cumulative() -> None:
    timeline: list[TimelineEvent] = [
        CustomerMessage(T),
        AgentReply(T + 10 * MIN),
        StatusChange(T + HOUR, "resolved"),
    ]
    result = run(RESOLVE_2H, timeline, FrozenClock(T + 2 * HOUR))
    assert result.resolution.status == "met"
    assert result.resolution.completed_at == T + HOUR
    # The customer writes again: reopened, the resolution clock resumes with 1 h used.
    timeline.append(CustomerMessage(T + 3 * HOUR))
    result = run(RESOLVE_2H, timeline, FrozenClock(T + 3 * HOUR + MIN))
    assert result.status == "open"
    assert result.resolution.status == "running"
    assert result.resolution.due == T + 4 * HOUR
    assert result.next_reply.status == "inactive"  # policy without next-reply target
    timeline.append(StatusChange(T + 5 * HOUR, "resolved"))
    result = run(RESOLVE_2H, timeline, FrozenClock(T + 6 * HOUR))
    assert result.resolution.breached
    assert result.resolution.breached_at == T + 4 * HOUR
    assert result.resolution.completed_at == T + 5 * HOUR


def test_resolved_without_reply_stops_the_reply_clock() -> None:
    timeline: list[TimelineEvent] = [CustomerMessage(T), StatusChange(T + 5 * MIN, "resolved")]
    result = run(RESOLVE_2H, timeline, FrozenClock(T + 5 * HOUR))
    assert result.first_reply.status == "paused"
    assert result.resolution.met
    assert result.due is None


def test_reopen_by_status_into_a_pause_keeps_the_clocks_paused() -> None:
    timeline: list[TimelineEvent] = [
        CustomerMessage(T),
        StatusChange(T + 5 * MIN, "resolved"),
        StatusChange(T + 10 * MIN, "pending"),
    ]
    result = run(RESOLVE_2H, timeline, FrozenClock(T + 5 * HOUR))
    assert result.resolution.status == "paused"
    assert result.resolution.due is None
    assert result.resolution.elapsed == 5 * MIN


# --- Business hours ----------------------------------------------------------------------------

OFFICE_30 = SlaPolicy("office", calendar=OFFICE, first_reply=30 * MIN, next_reply=HOUR)


def test_friday_evening_message_is_due_on_monday_morning() -> None:
    friday = at("2026-03-06 17:50")
    clock = FrozenClock(at("2026-03-07 12:00"))  # Saturday noon
    result = run(OFFICE_30, [CustomerMessage(friday)], clock)
    assert result.first_reply.due == at("2026-03-09 09:20")
    assert result.first_reply.remaining == 20 * MIN  # business seconds: the weekend is free
    assert result.first_reply.status == "running"
    # The badge shows wall-clock time to the due instant.
    assert result.sla_state() == SlaState("45:20", "ok")  # Sat 12:00 -> Mon 09:20


def test_business_hours_across_spring_forward() -> None:
    friday = at("2026-03-27 17:50")  # CET; the clocks go forward on Sunday 29
    result = run(OFFICE_30, [CustomerMessage(friday)], FrozenClock(friday))
    assert result.first_reply.due == at("2026-03-30 09:20")  # CEST
    assert result.first_reply.due == int(
        datetime(2026, 3, 30, 7, 20, tzinfo=ZoneInfo("UTC")).timestamp()
    )


def test_holiday_is_skipped_by_the_policy() -> None:
    thursday = at("2026-12-24 17:45")  # Friday 25 is a holiday, then the weekend
    result = run(OFFICE_30, [CustomerMessage(thursday)], FrozenClock(thursday + MIN))
    assert result.first_reply.due == at("2026-12-28 09:15")


# --- Presets and rules ---------------------------------------------------------------------------


def test_presets() -> None:
    assert set(PRESETS) == {"thirty-minutes", "one-hour"}
    thirty, hour = PRESETS["thirty-minutes"], PRESETS["one-hour"]
    assert (thirty.first_reply, thirty.next_reply, thirty.resolution) == (1800, 1800, None)
    assert (hour.first_reply, hour.next_reply, hour.resolution) == (3600, 3600, None)
    assert thirty.calendar == hour.calendar == TWENTY_FOUR_SEVEN
    assert thirty.pause_statuses == {"pending", "snoozed"}
    assert thirty.warn == 900
    assert SlaRules.preset("one-hour").choose(channel="x") is hour
    with pytest.raises(ValueError, match="unknown SLA preset"):
        SlaRules.preset("fast")


def test_policy_validation() -> None:
    with pytest.raises(ValueError, match="first_reply must be a positive"):
        SlaPolicy("bad", first_reply=0)
    with pytest.raises(ValueError, match="warn"):
        SlaPolicy("bad", first_reply=60, warn=-1)


RULES = SlaRules(
    {
        "vip": SlaPolicy("vip", first_reply=15 * MIN),
        "urgent": SlaPolicy("urgent", first_reply=20 * MIN),
        "x-fast": SlaPolicy("x-fast", first_reply=25 * MIN),
        "p2": SlaPolicy("p2", first_reply=40 * MIN),
        "standard": SlaPolicy("standard", first_reply=HOUR),
    },
    default="standard",
    rules=(
        SlaRule("vip", customer_tags=frozenset({"vip", "press"})),
        SlaRule("urgent", tags=frozenset({"outage"}), min_priority=1),
        SlaRule("x-fast", channels=frozenset({"x"})),
        SlaRule("p2", priorities=frozenset({2, 3})),
    ),
)


@pytest.mark.parametrize(
    ("mention", "expected"),
    [
        ({"channel": "mastodon"}, "standard"),
        ({"channel": "x"}, "x-fast"),
        ({"channel": "x", "customer_tags": ["press"]}, "vip"),  # first match wins
        ({"channel": "x", "tags": ["outage"], "priority": 1}, "urgent"),
        ({"channel": "bluesky", "tags": ["outage"], "priority": 0}, "standard"),  # both must hold
        ({"channel": "bluesky", "priority": 3}, "p2"),
        ({"channel": "bluesky", "priority": 4}, "standard"),
        ({"channel": "bluesky", "tags": ["billing", "outage"], "priority": 5}, "urgent"),
    ],
)
def test_rules_first_match_wins_default_last(mention: dict, expected: str) -> None:
    assert RULES.choose(**mention).name == expected


def test_rules_must_name_defined_policies() -> None:
    with pytest.raises(ValueError, match="undefined policy 'nope'"):
        SlaRules(RULES.policies, default="standard", rules=(SlaRule("nope"),))
    with pytest.raises(ValueError, match="default policy 'nope'"):
        SlaRules(RULES.policies, default="nope")


# --- Properties ----------------------------------------------------------------------------------

events = st.lists(
    st.tuples(
        st.sampled_from(["customer", "agent", "pending", "snoozed", "open", "resolved"]),
        st.integers(min_value=0, max_value=6 * HOUR),
    ),
    max_size=12,
)


def _timeline(raw: list[tuple[str, int]]) -> list[TimelineEvent]:
    result: list[TimelineEvent] = []
    for kind, offset in raw:
        if kind == "customer":
            result.append(CustomerMessage(T + offset))
        elif kind == "agent":
            result.append(AgentReply(T + offset))
        else:
            result.append(StatusChange(T + offset, kind))
    return result


FULL = SlaPolicy("full", calendar=OFFICE, first_reply=HOUR, next_reply=HOUR, resolution=8 * HOUR)


@settings(max_examples=300, deadline=None)
@given(events, st.integers(min_value=0, max_value=8 * HOUR), st.sampled_from([THIRTY, FULL]))
def test_invariants_over_any_timeline(raw: list[tuple[str, int]], offset: int, policy) -> None:
    now = T + offset
    result = evaluate(policy, _timeline(raw), now)
    for state in (*result.targets, *result.next_reply_cycles):
        target = policy.target(state.target)
        if state.status == "inactive":
            assert state.due is None and not state.counting
            continue
        assert target is not None and state.remaining == target - state.elapsed
        assert 0 <= state.elapsed <= policy.calendar.business_seconds_between(state.started_at, now)
        if state.status == "running":
            assert state.counting and state.due is not None and state.due >= now
        if state.status in ("paused", "met"):
            assert not state.counting
        if state.status == "paused":
            assert state.due is None
        if state.breached:
            assert state.breached_at == state.due
            assert state.breached_at is not None and state.breached_at < now
            if state.completed_at is not None:
                assert state.completed_at > state.breached_at
    if result.due is not None:
        assert result.due == min(t.due for t in result.targets if t.counting and t.due is not None)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=3 * HOUR), st.integers(min_value=0, max_value=3 * HOUR))
def test_without_pauses_met_means_replied_within_the_target(wait: int, later: int) -> None:
    timeline: list[TimelineEvent] = [CustomerMessage(T), AgentReply(T + wait)]
    result = evaluate(THIRTY, timeline, T + wait + later)
    assert result.first_reply.met == (wait <= 30 * MIN)
    assert result.first_reply.breached == (wait > 30 * MIN)


# --- The [sla] section --------------------------------------------------------------------------

FULL_SECTION = """
[sla]
default = "standard"
warn_minutes = 10

[sla.calendars.paris]
timezone = "Europe/Paris"
hours = { mon-fri = ["09:00-12:30", "13:30-18:00"], sat = ["10:00-13:00"] }
holidays = [2026-01-01, "2026-12-25"]

[sla.calendars.nights]
timezone = "UTC"
hours = { fri = ["22:00-24:00"], sat = ["00:00-06:00"] }

[[sla.policies]]
name = "standard"
calendar = "paris"
first_reply_minutes = 60
next_reply_minutes = 120
resolution_minutes = 1440

[[sla.policies]]
name = "night"
calendar = "nights"
first_reply_minutes = 45
pause_statuses = ["snoozed"]
warn_minutes = 5

[[sla.rules]]
policy = "thirty-minutes"
channel = ["x", "bluesky"]
customer_tag = "vip"

[[sla.rules]]
policy = "night"
tag = "overnight"
min_priority = 1

[[sla.rules]]
policy = "one-hour"
priority = [2, 3]
"""


def section(text: str) -> dict:
    return tomllib.loads(text).get("sla", {})


def test_full_section() -> None:
    rules = parse_sla_section(section(FULL_SECTION))
    assert rules.default == "standard"
    standard = rules.policies["standard"]
    assert standard.calendar.tz == "Europe/Paris"
    assert standard.calendar.hours["sat"] == [("10:00", "13:00")]
    assert "sun" not in standard.calendar.hours
    assert standard.calendar.holidays == {date(2026, 1, 1), date(2026, 12, 25)}
    assert (standard.first_reply, standard.next_reply, standard.resolution) == (3600, 7200, 86400)
    assert standard.warn == 600 and standard.pause_statuses == {"pending", "snoozed"}
    night = rules.policies["night"]
    assert night.warn == 300 and night.pause_statuses == {"snoozed"}
    assert rules.policies["thirty-minutes"].warn == 600  # the section's warn applies to presets
    assert rules.choose(channel="x", customer_tags=["vip"]).name == "thirty-minutes"
    assert rules.choose(channel="x", tags=["overnight"], priority=1).name == "night"
    assert rules.choose(channel="mastodon", priority=2).name == "one-hour"
    assert rules.choose(channel="mastodon").name == "standard"


def test_one_line_preset_and_defaults() -> None:
    rules = parse_sla_section(section('[sla]\npreset = "thirty-minutes"'))
    assert rules.default == "thirty-minutes"
    assert rules.choose(channel="x") == PRESETS["thirty-minutes"]
    assert parse_sla_section(None).default == "one-hour"
    assert parse_sla_section({}).choose(channel="x") == PRESETS["one-hour"]


def test_older_form_still_works() -> None:
    rules = parse_sla_section({"first_reply_minutes": 45, "warn_minutes": 5})
    policy = rules.choose(channel="x")
    assert (policy.name, policy.first_reply, policy.warn) == ("default", 45 * 60, 300)
    assert policy.calendar == TWENTY_FOUR_SEVEN


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'preset = "thirty"',
            "sla.preset: unknown preset 'thirty' (did you mean 'thirty-minutes'?)",
        ),
        ('prest = "one-hour"', "sla.prest: unknown setting (did you mean 'preset'?)"),
        (
            'preset = "one-hour"\nfirst_reply_minutes = 30',
            "sla.first_reply_minutes: expected either this or sla.preset",
        ),
        (
            'preset = "thirty-minutes"\nwarn_minutes = 30',
            "sla.warn_minutes: expected fewer minutes than the shortest target of policy "
            "'thirty-minutes' (30), got 30",
        ),
        ("warn_minutes = -1", "sla.warn_minutes: expected zero or more minutes, got -1"),
        ('default = "nope"', "sla.default: unknown policy 'nope'"),
        (
            '[calendars.c]\ntimezone = "Europe/Pariss"\nhours = { mon = ["09:00-18:00"] }',
            "sla.calendars.c.timezone: unknown time zone 'Europe/Pariss'",
        ),
        (
            '[calendars.c]\nhours = { mon = ["09:00-18:00"] }',
            "sla.calendars.c.timezone: expected an IANA time zone",
        ),
        (
            '[calendars.c]\ntimezone = "UTC"\nhours = { mon = ["22:00-06:00"] }',
            "sla.calendars.c.hours.mon: '22:00-06:00' ends before it starts; hours spanning "
            "midnight are not supported",
        ),
        (
            '[calendars.c]\ntimezone = "UTC"\nhours = { mon-fri = ["9-5"] }',
            'sla.calendars.c.hours.mon-fri: expected "HH:MM-HH:MM"',
        ),
        (
            '[calendars.c]\ntimezone = "UTC"\nhours = { mon-fri = ["09:00-17:00"], wed = [] }',
            "sla.calendars.c.hours.wed: wed is given twice",
        ),
        (
            '[calendars.c]\ntimezone = "UTC"\nhours = { moon = ["09:00-17:00"] }',
            "sla.calendars.c.hours.moon: expected a weekday",
        ),
        (
            '[calendars.c]\ntimezone = "UTC"\nhours = { mon = ["09:00-17:00"] }\n'
            'holidays = ["25/12/2026"]',
            "sla.calendars.c.holidays[0]: expected a date such as 2026-12-25, got '25/12/2026'",
        ),
        ('[calendars."24/7"]\ntimezone = "UTC"', "sla.calendars.24/7: '24/7' is built in"),
        (
            '[[policies]]\nname = "a"\nfirst_reply_minutes = 1.5',
            "sla.policies[0].first_reply_minutes: expected a whole number of minutes, got a float",
        ),
        (
            '[[policies]]\nname = "a"',
            "sla.policies[0]: expected at least one of first_reply_minutes",
        ),
        ("[[policies]]\nfirst_reply_minutes = 5", "sla.policies[0].name: expected a policy name"),
        (
            '[[policies]]\nname = "one-hour"\nfirst_reply_minutes = 5',
            "sla.policies[0].name: 'one-hour' is a preset name",
        ),
        (
            '[[policies]]\nname = "a"\nfirst_reply_minutes = 60\ncalendar = "office"',
            "sla.policies[0].calendar: unknown calendar 'office'",
        ),
        (
            '[[policies]]\nname = "a"\nfirst_reply_minutes = 60\npause_statuses = ["pendng"]',
            "sla.policies[0].pause_statuses: unknown status 'pendng' (did you mean 'pending'?)",
        ),
        (
            '[[policies]]\nname = "a"\nfirst_reply_minutes = 60\n'
            '[[policies]]\nname = "b"\nfirst_reply_minutes = 60',
            "sla.default: expected the name of the policy used when no rule matches (one of: a, b)",
        ),
        (
            '[[policies]]\nname = "a"\nfirst_reply_minutes = 60\n'
            '[[policies]]\nname = "a"\nfirst_reply_minutes = 30',
            "sla.policies[1].name: policy 'a' is defined twice",
        ),
        (
            '[[rules]]\npolicy = "one-hour"',
            "sla.rules[0]: expected at least one condition",
        ),
        (
            '[[rules]]\npolicy = "one-hour"\nchannel = "twitter"',
            "sla.rules[0].channel: unknown channel 'twitter'",
        ),
        (
            '[[rules]]\npolicy = "one-hour"\npriority = "high"',
            "sla.rules[0].priority: expected an integer or an array of integers, got 'high'",
        ),
        (
            '[[rules]]\npolicy = "thirty"\ntag = "x"',
            "sla.rules[0].policy: unknown policy 'thirty' (did you mean 'thirty-minutes'?)",
        ),
        ("rules = 3", "sla.rules: expected an array of tables ([[sla.rules]])"),
    ],
)
def test_section_errors_name_the_key_and_what_is_expected(text: str, expected: str) -> None:
    with pytest.raises(SlaConfigError) as caught:
        parse_sla_section(tomllib.loads(text))
    assert isinstance(caught.value, ValueError)
    assert expected in str(caught.value), str(caught.value)
    for key, message in caught.value.problems:
        assert key.startswith("sla") and message


def test_every_problem_is_reported_at_once() -> None:
    text = (
        'preset = "nope"\nwarn_minutes = true\n'
        '[[policies]]\nname = "a"\nfirst_reply_minutes = 0\n'
        '[[rules]]\npolicy = "b"\nchanel = "x"'
    )
    with pytest.raises(SlaConfigError) as caught:
        parse_sla_section(tomllib.loads(text))
    keys = [key for key, _ in caught.value.problems]
    assert keys == [
        "sla.preset",
        "sla.warn_minutes",
        "sla.policies[0].first_reply_minutes",
        "sla.rules[0].chanel",
        "sla.rules[0].policy",
    ]
