"""SLA policies: targets, the rules that pick a policy for a mention, and the clock evaluator.

Pure domain code (no Textual, no system clock): `evaluate(policy, timeline, now)` is a function
of its arguments only, so the queue, the detail pane and the tests all get the same answer.

Targets (business seconds, counted on the policy's `BusinessCalendar`; None = no such target):

- ``first_reply``: from the first customer message to the first agent reply after it.
- ``next_reply``: one *cycle* per customer turn after the agent has replied once. A cycle starts
  at the first customer message that follows an agent reply and is met by the next agent reply.
  Further customer messages while a cycle (or the first reply) is already waiting do not restart
  it: the customer has been waiting since their first unanswered message.
- ``resolution``: from the first customer message until the status becomes "resolved". If the
  conversation is reopened, the same clock resumes where it stopped (it is cumulative, not
  reset), and the next resolution decides again; a breach, once it happened, stays.

The timeline (a list of `CustomerMessage`, `AgentReply`, `StatusChange`) is read in order of
``at``; events with the same ``at`` keep their list order; events after ``now`` are ignored.
The mention starts in status "new". Agent replies before the first customer message are
ignored (proactive posts); status changes before it still set the status.

Clock rules:

- Every clock counts only open business seconds of the calendar.
- While the status is one of ``policy.pause_statuses`` (default "pending", "snoozed"), or
  "resolved", every running clock is *paused*: its elapsed business time is frozen and it has no
  due time (``due`` is None) until it resumes. An agent reply while paused still meets the reply
  target (or records it late, if it had breached before the pause).
- A customer message while paused or resolved *resumes* the clocks: it is treated as an
  implicit status change to "open" at that instant (the caller need not add one). A status
  change to any other status (e.g. "open") also resumes them.
- ``due`` of a running clock is ``calendar.add_business_seconds(resumed_at, target - elapsed)``:
  the earliest instant its elapsed business time reaches the target.
- A target is **met** when its clock stops (reply, resolution) at or before ``due``, and
  **breached** at any instant strictly after ``due`` while it still runs (so at ``due`` itself it
  shows "00:00", as `console.sla.sla_state` does). ``breached_at`` is that missed ``due``. A
  breached clock keeps that ``due`` for display (the countdown goes negative) even if it is later
  paused and resumed; a later reply is recorded in ``completed_at`` but it stays breached.
- ``remaining`` is business seconds: ``target - elapsed`` at ``now`` (running), at the pause
  (paused), or at the stop (met/breached); negative once overdue in business time. Note that it
  can read 0 while the wall-clock ``due`` has passed, when the due fell at closing time.

`SlaEvaluation.due` is the earliest ``due`` of the clocks still counting at ``now``: the value
the queue sorts on and passes to `console.sla.sla_state` (whose label is wall-clock time to that
instant, not business time).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal

from console.calendars import TWENTY_FOUR_SEVEN, BusinessCalendar
from console.sla import WARN_SECONDS, SlaState, sla_state

RESOLVED: Final = "resolved"
OPEN: Final = "open"
INITIAL_STATUS: Final = "new"
DEFAULT_PAUSE_STATUSES: Final = frozenset({"pending", "snoozed"})
TARGETS: Final = ("first_reply", "next_reply", "resolution")

TargetName = Literal["first_reply", "next_reply", "resolution"]
TargetStatus = Literal["inactive", "running", "paused", "met", "breached"]


# --- Policies -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaPolicy:
    """Targets in business seconds on ``calendar`` (None: no such target); ``warn`` seconds
    before a due time the badge turns amber."""

    name: str
    calendar: BusinessCalendar = TWENTY_FOUR_SEVEN
    first_reply: int | None = None
    next_reply: int | None = None
    resolution: int | None = None
    pause_statuses: frozenset[str] = DEFAULT_PAUSE_STATUSES
    warn: int = WARN_SECONDS

    def __post_init__(self) -> None:
        for target in TARGETS:
            value = getattr(self, target)
            if value is not None and (isinstance(value, bool) or value <= 0):
                raise ValueError(f"{self.name}: {target} must be a positive number of seconds")
        if self.warn < 0:
            raise ValueError(f"{self.name}: warn must not be negative")
        object.__setattr__(self, "pause_statuses", frozenset(self.pause_statuses))

    def target(self, name: TargetName) -> int | None:
        return getattr(self, name)


PRESETS: Final[Mapping[str, SlaPolicy]] = MappingProxyType(
    {
        "thirty-minutes": SlaPolicy("thirty-minutes", first_reply=30 * 60, next_reply=30 * 60),
        # Every message, not only the first: a follow-up after a reply must not drop to the bottom.
        "one-hour": SlaPolicy("one-hour", first_reply=60 * 60, next_reply=60 * 60),
    }
)


# --- Rules --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaRule:
    """Picks ``policy`` when every condition given matches (an empty condition matches all).

    Within one condition any value matches: ``channels={"x", "mastodon"}`` is "x or mastodon";
    ``tags`` matches when the mention carries any of them, ``customer_tags`` likewise for the
    customer; ``priorities`` is a set of exact priorities and ``min_priority`` a lower bound.
    """

    policy: str
    channels: frozenset[str] = frozenset()
    priorities: frozenset[int] = frozenset()
    min_priority: int | None = None
    tags: frozenset[str] = frozenset()
    customer_tags: frozenset[str] = frozenset()

    def matches(
        self,
        *,
        channel: str,
        priority: int = 0,
        tags: Iterable[str] = (),
        customer_tags: Iterable[str] = (),
    ) -> bool:
        if self.channels and channel not in self.channels:
            return False
        if self.priorities and priority not in self.priorities:
            return False
        if self.min_priority is not None and priority < self.min_priority:
            return False
        if self.tags and self.tags.isdisjoint(tags):
            return False
        return not (self.customer_tags and self.customer_tags.isdisjoint(customer_tags))


@dataclass(frozen=True)
class SlaRules:
    """Named policies, rules tried in order (first match wins), and the default policy's name
    (used when no rule matches: "default last")."""

    policies: Mapping[str, SlaPolicy]
    default: str
    rules: tuple[SlaRule, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "policies", MappingProxyType(dict(self.policies)))
        object.__setattr__(self, "rules", tuple(self.rules))
        if self.default not in self.policies:
            raise ValueError(f"default policy {self.default!r} is not defined")
        for rule in self.rules:
            if rule.policy not in self.policies:
                raise ValueError(f"rule names an undefined policy {rule.policy!r}")

    @classmethod
    def preset(cls, name: str) -> SlaRules:
        """One preset policy, used for every mention."""
        if name not in PRESETS:
            raise ValueError(f"unknown SLA preset {name!r} (expected one of: {', '.join(PRESETS)})")
        return cls({name: PRESETS[name]}, default=name)

    def choose(
        self,
        *,
        channel: str,
        priority: int = 0,
        tags: Iterable[str] = (),
        customer_tags: Iterable[str] = (),
    ) -> SlaPolicy:
        tags, customer_tags = frozenset(tags), frozenset(customer_tags)
        for rule in self.rules:
            if rule.matches(
                channel=channel, priority=priority, tags=tags, customer_tags=customer_tags
            ):
                return self.policies[rule.policy]
        return self.policies[self.default]


# --- Timeline -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CustomerMessage:
    at: int


@dataclass(frozen=True, slots=True)
class AgentReply:
    at: int


@dataclass(frozen=True, slots=True)
class StatusChange:
    at: int
    status: str


TimelineEvent = CustomerMessage | AgentReply | StatusChange


# --- Results ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TargetState:
    """One target at ``now``.

    ``status``: "inactive" (no such target, or its clock never started), "running", "paused",
    "met", "breached". ``due``: the instant it is due (None when inactive, or paused before any
    breach; for a met target, the due in force when it was met, None if met while paused);
    ``completed_at``: the reply/resolution that stopped the clock (also for a late
    one); ``breached_at``: the missed due; ``elapsed``/``remaining``: business seconds (see the
    module docs); ``counting``: the clock runs at ``now``.
    """

    target: TargetName
    status: TargetStatus
    due: int | None = None
    completed_at: int | None = None
    breached_at: int | None = None
    elapsed: int = 0
    remaining: int | None = None
    counting: bool = False
    started_at: int | None = None

    @property
    def met(self) -> bool:
        return self.status == "met"

    @property
    def breached(self) -> bool:
        return self.status == "breached"


@dataclass(frozen=True, slots=True)
class SlaEvaluation:
    policy: SlaPolicy
    now: int
    status: str
    first_reply: TargetState
    next_reply: TargetState
    resolution: TargetState
    next_reply_cycles: tuple[TargetState, ...] = field(default=())

    @property
    def targets(self) -> tuple[TargetState, TargetState, TargetState]:
        return (self.first_reply, self.next_reply, self.resolution)

    @property
    def due(self) -> int | None:
        """Earliest due of the clocks counting at ``now`` (None: nothing is counting)."""
        dues = [t.due for t in self.targets if t.counting and t.due is not None]
        return min(dues) if dues else None

    @property
    def breached(self) -> bool:
        """Any target breached, including an earlier next-reply cycle."""
        return any(t.breached for t in (*self.targets, *self.next_reply_cycles))

    def sla_state(self, now: float | None = None) -> SlaState:
        """The badge for `due`, with the policy's amber window (`console.sla.sla_state`)."""
        return sla_state(self.due, self.now if now is None else now, self.policy.warn)


# --- The evaluator ------------------------------------------------------------------------------


class _Clock:
    """One target's stopwatch over business time."""

    def __init__(self, name: TargetName, target: int | None, calendar: BusinessCalendar) -> None:
        self.name: TargetName = name
        self.target = target
        self.calendar = calendar
        self.started_at: int | None = None
        self.running_since: int | None = None
        self.elapsed = 0
        self.due: int | None = None
        self.breached_at: int | None = None
        self.completed_at: int | None = None

    def start(self, at: int, paused: bool) -> None:
        self.started_at = at
        if not paused:
            self.resume(at)

    def resume(self, at: int) -> None:
        if (
            self.started_at is None
            or self.completed_at is not None
            or self.running_since is not None
            or self.target is None
        ):
            return
        self.running_since = at
        if self.breached_at is None:
            self.due = self.calendar.add_business_seconds(at, max(0, self.target - self.elapsed))

    def pause(self, at: int) -> None:
        if self.running_since is None:
            return
        self.elapsed += self.calendar.business_seconds_between(self.running_since, at)
        self._check_breach(at)
        self.running_since = None
        if self.breached_at is None:
            self.due = None

    def _check_breach(self, at: int) -> None:
        if self.breached_at is None and self.due is not None and at > self.due:
            self.breached_at = self.due

    def complete(self, at: int) -> None:
        """Stop for good (reply) or until `reopen` (resolution)."""
        if self.started_at is None or self.completed_at is not None:
            return
        due = self.due
        self.pause(at)
        self.due = due  # kept for the record: the due in force when it was met (or missed)
        self.completed_at = at

    def reopen(self, at: int, paused: bool) -> None:
        if self.completed_at is None:
            return
        self.completed_at = None
        if not paused:
            self.resume(at)
        elif self.breached_at is None:
            self.due = None

    def state(self, now: int) -> TargetState:
        if self.target is None or self.started_at is None:
            return TargetState(self.name, "inactive")
        elapsed = self.elapsed
        counting = self.running_since is not None
        if counting:
            assert self.running_since is not None
            elapsed += self.calendar.business_seconds_between(self.running_since, now)
            self._check_breach(now)
        status: TargetStatus
        if self.breached_at is not None:
            status = "breached"
        elif self.completed_at is not None:
            status = "met"
        else:
            status = "running" if counting else "paused"
        return TargetState(
            target=self.name,
            status=status,
            due=self.due,
            completed_at=self.completed_at,
            breached_at=self.breached_at,
            elapsed=elapsed,
            remaining=self.target - elapsed,
            counting=counting,
            started_at=self.started_at,
        )


def _ordered(timeline: Iterable[TimelineEvent], now: int) -> list[TimelineEvent]:
    events = [event for event in timeline if event.at <= now]
    events.sort(key=lambda event: event.at)  # stable: same-instant events keep list order
    return events


def evaluate(policy: SlaPolicy, timeline: Sequence[TimelineEvent], now: float) -> SlaEvaluation:
    """Every target of ``policy`` for one mention's ``timeline`` at ``now`` (module docs)."""
    instant = math.floor(now)
    calendar = policy.calendar
    paused_statuses = policy.pause_statuses | {RESOLVED}
    status = INITIAL_STATUS
    first = _Clock("first_reply", policy.first_reply, calendar)
    resolution = _Clock("resolution", policy.resolution, calendar)
    cycles: list[_Clock] = []
    started = False
    replied_once = False
    waiting = False  # a customer message is unanswered

    def clocks() -> list[_Clock]:
        return [first, resolution, *cycles[-1:]]

    for event in _ordered(timeline, instant):
        at = event.at
        if isinstance(event, CustomerMessage):
            if status in paused_statuses:
                if status == RESOLVED:
                    resolution.reopen(at, paused=False)
                status = OPEN
                for clock in clocks():
                    clock.resume(at)
            if not started:
                started = True
                first.start(at, paused=False)
                resolution.start(at, paused=False)
            elif replied_once and not waiting:
                cycle = _Clock("next_reply", policy.next_reply, calendar)
                cycle.start(at, paused=False)
                cycles.append(cycle)
            waiting = True
        elif isinstance(event, AgentReply):
            if not started:
                continue
            if waiting:
                (cycles[-1] if replied_once else first).complete(at)
            replied_once = True
            waiting = False
        else:
            old, status = status, event.status
            was_paused, now_paused = old in paused_statuses, status in paused_statuses
            if old == RESOLVED and status != RESOLVED:
                resolution.reopen(at, paused=now_paused)
            if not was_paused and now_paused:
                for clock in clocks():
                    clock.pause(at)
            elif was_paused and not now_paused:
                for clock in clocks():
                    clock.resume(at)
            if status == RESOLVED and old != RESOLVED:
                resolution.complete(at)

    cycle_states = tuple(cycle.state(instant) for cycle in cycles)
    next_state = cycle_states[-1] if cycle_states else TargetState("next_reply", "inactive")
    return SlaEvaluation(
        policy=policy,
        now=instant,
        status=status,
        first_reply=first.state(instant),
        next_reply=next_state,
        resolution=resolution.state(instant),
        next_reply_cycles=cycle_states,
    )
