"""SLA bookkeeping in the data layer: the policy and due times a new mention gets, and how its
per-target clocks (rows of ``sla_outcomes``) pause, resume and finish as the mention moves.

db/ never imports console/, so the policy maths (rules, business calendars, pause statuses)
reaches the Store through the `DuePlanner` protocol; ``console.sla_planner.ConfigPlanner``
implements it from config.toml's ``[sla]`` section. `FixedPlanner` (24/7, one first-reply target)
is what a Store uses when none is injected: tests, benches and callers that only pass
``first_reply_sla``.

The unit is the mention (one queue row = one customer message). Its *reply* target is
``first_reply`` when no agent reply exists yet in its thread, else ``next_reply``; its
``resolution`` target runs from its ``created_at`` to "resolved". A target the policy lacks gets
no row (and a mention without a reply target has no ``first_reply_due``: it sorts last).

How a clock is stored (chosen over replaying the event log through
``console.sla_policy.evaluate`` on every change: it also works for imported rows that have no
event history, and each change reads and writes at most two rows by primary key):

- running: ``completed_at``, ``paused_at`` NULL; ``due_at`` is the deadline.
- paused: ``paused_at`` is when it stopped. The business seconds still left are
  ``business_seconds(paused_at, due_at)``: nothing else needs storing, and on resume at ``t`` the
  new deadline is ``add_business_seconds(t, left)``, exactly what the engine computes
  (``target - elapsed`` from the resume instant), so paused time never counts.
- breached: ``breached_at`` is the missed ``due_at`` (set when a reply/resolution/pause comes
  late, or by `Store.mark_breaches` for a running clock nobody touched). A breached clock keeps
  its ``due_at`` across pauses, as the engine does, so the countdown stays negative.
- met: ``completed_at`` set and ``breached_at`` NULL. A resolution that is reopened clears
  ``completed_at`` and resumes from where it stopped (cumulative), as in the engine.

Statuses: ``resolved`` always pauses every clock of the mention; other statuses pause when the
policy lists them (``DuePlanner.pauses``, default pending and snoozed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal, Protocol

from db.models import Status

REPLY_TARGETS: Final = ("first_reply", "next_reply")
RESOLUTION: Final = "resolution"
DEFAULT_POLICY: Final = "default"
DEFAULT_PAUSE_STATUSES: Final = frozenset({Status.PENDING.value, Status.SNOOZED.value})
_RESOLVED: Final = Status.RESOLVED.value

ReplyTarget = Literal["first_reply", "next_reply"]


@dataclass(frozen=True, slots=True)
class DuePlan:
    """What a new mention starts with: its policy's name, which reply target applies (None:
    the policy has none for it) and the deadlines, already on the policy's calendar."""

    policy: str
    reply_target: ReplyTarget | None
    reply_due: int | None
    resolution_due: int | None


class DuePlanner(Protocol):
    """The SLA maths the Store needs, by policy name (an unknown name, e.g. a policy removed from
    the config since, must still work: 24/7 and the default pause statuses)."""

    def plan(
        self,
        *,
        channel: str,
        priority: int,
        tags: Sequence[str],
        customer_tags: Sequence[str],
        created_at: int,
        replied_in_thread: bool,
    ) -> DuePlan: ...

    def pauses(self, policy: str, status: str) -> bool:
        """Does ``status`` stop the policy's clocks ("resolved" is handled by the Store)?"""
        ...

    def business_seconds(self, policy: str, start: int, end: int) -> int:
        """Open seconds of the policy's calendar in ``[start, end)`` (negative if end < start)."""
        ...

    def add_business_seconds(self, policy: str, start: int, seconds: int) -> int:
        """The earliest instant ``seconds`` open seconds after ``start``."""
        ...


class FixedPlanner:
    """One 24/7 policy with a first-reply target only: the behaviour of the older
    ``first_reply_minutes`` setting (a follow-up in a thread already answered has no target)."""

    def __init__(self, first_reply: int, name: str = DEFAULT_POLICY) -> None:
        self.first_reply = first_reply
        self.name = name

    def plan(
        self,
        *,
        channel: str,
        priority: int,
        tags: Sequence[str],
        customer_tags: Sequence[str],
        created_at: int,
        replied_in_thread: bool,
    ) -> DuePlan:
        if replied_in_thread:
            return DuePlan(self.name, None, None, None)
        return DuePlan(self.name, "first_reply", created_at + self.first_reply, None)

    def pauses(self, policy: str, status: str) -> bool:
        return status in DEFAULT_PAUSE_STATUSES

    def business_seconds(self, policy: str, start: int, end: int) -> int:
        return end - start

    def add_business_seconds(self, policy: str, start: int, seconds: int) -> int:
        return start + seconds


# --- one clock ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SlaOutcome:
    """One row of ``sla_outcomes``: a target's clock for one mention."""

    mention_id: int
    target: str
    policy: str
    started_at: int
    due_at: int | None
    completed_at: int | None
    breached_at: int | None
    paused_at: int | None

    @property
    def state(self) -> str:
        """"met", "breached", "paused" or "running" (what the detail pane shows)."""
        if self.breached_at is not None:
            return "breached"
        if self.completed_at is not None:
            return "met"
        return "paused" if self.paused_at is not None else "running"


OUTCOME_COLS: Final = (
    "mention_id, target, policy, started_at, due_at, completed_at, breached_at, paused_at"
)


@dataclass(slots=True)
class _Clock:
    """A mutable copy of a row while one change is applied to it."""

    target: str
    due_at: int | None
    completed_at: int | None
    breached_at: int | None
    paused_at: int | None

    @property
    def running(self) -> bool:
        return self.completed_at is None and self.paused_at is None

    def late(self, at: int) -> None:
        if self.breached_at is None and self.due_at is not None and at > self.due_at:
            self.breached_at = self.due_at

    def pause(self, at: int) -> None:
        if self.running:
            self.late(at)
            self.paused_at = at

    def resume(self, at: int, planner: DuePlanner, policy: str) -> None:
        if self.completed_at is not None or self.paused_at is None:
            return
        if self.breached_at is None and self.due_at is not None:
            left = max(0, planner.business_seconds(policy, self.paused_at, self.due_at))
            self.due_at = planner.add_business_seconds(policy, at, left)
        self.paused_at = None

    def complete(self, at: int) -> None:
        """Stop for good (reply) or until reopened (resolution); ``paused_at`` keeps the instant
        the clock stopped counting so a reopened resolution resumes with what was left."""
        if self.completed_at is not None:
            return
        self.pause(at)
        self.completed_at = at


def initial_outcomes(
    mention_id: int,
    plan: DuePlan,
    *,
    reply_due: int | None,
    created_at: int,
    status: str,
    replied_at: int | None,
    resolved_at: int | None,
    now: int,
    pauses: bool,
) -> list[tuple[int, str, str, int, int | None, int | None, int | None, int | None]]:
    """The ``sla_outcomes`` rows of a mention written by ingest or bulk load.

    Imported rows (demo, history) may arrive replied, paused or resolved: the outcome follows
    their own times (a reply after the due is a breach at that due). When the time a row entered
    its pausing status is unknown, the clock is taken as paused since it arrived, and a clock
    still running past ``now`` is breached at once, so `Store.mark_breaches` has no backlog.
    """
    # Spelled out rather than through _Clock: a bulk load calls this a million times.
    resolved = status == _RESOLVED
    paused = resolved or pauses
    policy = plan.policy
    rows: list[tuple[int, str, str, int, int | None, int | None, int | None, int | None]] = []
    target = plan.reply_target
    if target is not None and reply_due is not None:
        if replied_at is not None:  # met or late, stopped at the reply
            stop = replied_at
            rows.append((mention_id, target, policy, created_at, reply_due, stop,
                         reply_due if stop > reply_due else None, stop))
        elif paused:
            stop = resolved_at if resolved and resolved_at is not None else created_at
            rows.append((mention_id, target, policy, created_at, reply_due, None,
                         reply_due if stop > reply_due else None, stop))
        else:
            rows.append((mention_id, target, policy, created_at, reply_due, None,
                         reply_due if now > reply_due else None, None))
    due = plan.resolution_due
    if due is not None:
        if resolved:
            stop = resolved_at if resolved_at is not None else now
            rows.append((mention_id, RESOLUTION, policy, created_at, due, stop,
                         due if stop > due else None, stop))
        elif paused:
            stop = replied_at if replied_at is not None else created_at
            rows.append((mention_id, RESOLUTION, policy, created_at, due, None,
                         due if stop > due else None, stop))
        else:
            rows.append((mention_id, RESOLUTION, policy, created_at, due, None,
                         due if now > due else None, None))
    return rows


@dataclass(frozen=True, slots=True)
class ClockChange:
    """What applying one event to a mention's clocks changed: the rows to write back, and the
    new ``first_reply_due`` of the mention when its reply clock got a new deadline."""

    rows: tuple[SlaOutcome, ...]
    reply_due: int | None


def apply_change(
    outcomes: Sequence[SlaOutcome],
    planner: DuePlanner,
    *,
    old_status: str,
    new_status: str,
    at: int,
    replied: bool = False,
) -> ClockChange:
    """Move a mention's clocks through one event: an agent reply (``replied``: the reply target
    is met or recorded late) and/or a status change ``old_status -> new_status`` at ``at``."""
    changed: list[SlaOutcome] = []
    reply_due: int | None = None
    resolved = Status.RESOLVED.value
    for row in outcomes:
        policy = row.policy
        was_paused = old_status == resolved or planner.pauses(policy, old_status)
        now_paused = new_status == resolved or planner.pauses(policy, new_status)
        clock = _Clock(row.target, row.due_at, row.completed_at, row.breached_at, row.paused_at)
        before = (clock.due_at, clock.completed_at, clock.breached_at, clock.paused_at)
        if replied and row.target in REPLY_TARGETS:
            clock.complete(at)
        if row.target == RESOLUTION and old_status == resolved and new_status != resolved:
            clock.completed_at = None  # reopened: the same clock goes on (module docs)
        if now_paused and not was_paused:
            clock.pause(at)
        elif not now_paused and (was_paused or clock.paused_at is not None):
            clock.resume(at, planner, policy)
        if row.target == RESOLUTION and new_status == resolved and old_status != resolved:
            clock.complete(at)
        after = (clock.due_at, clock.completed_at, clock.breached_at, clock.paused_at)
        if after != before:
            changed.append(SlaOutcome(row.mention_id, row.target, policy, row.started_at, *after))
            if row.target in REPLY_TARGETS and clock.running and clock.due_at != before[0]:
                reply_due = clock.due_at
    return ClockChange(tuple(changed), reply_due)
