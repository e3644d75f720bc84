"""The Store's stored clocks (db/sla.py: a due and a pause instant per target) agree with the
tested engine (console.sla_policy.evaluate) on any sequence of replies and status changes, on a
business-hours calendar. Pure functions, no database: hypothesis drives many timelines fast."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from console.calendars import BusinessCalendar
from console.sla_planner import ConfigPlanner
from console.sla_policy import (
    AgentReply,
    CustomerMessage,
    SlaPolicy,
    SlaRules,
    StatusChange,
    TimelineEvent,
    evaluate,
)
from db.sla import SlaOutcome, apply_change, initial_outcomes

PARIS = BusinessCalendar(
    "Europe/Paris", {day: [("09:00", "12:30"), ("13:30", "18:00")] for day in range(5)},
    name="paris",
)
POLICY = SlaPolicy("business", calendar=PARIS, first_reply=3600, resolution=8 * 3600)
PLANNER = ConfigPlanner(SlaRules({"business": POLICY}, default="business"))
# Thursday 26 March 2026 10:00 in Paris: timelines run over a weekend and the spring DST change.
START = int(datetime(2026, 3, 26, 10, 0, tzinfo=ZoneInfo("Europe/Paris")).timestamp())

actions = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=20 * 3600),  # gap before the action
        st.sampled_from(["reply", "open", "pending", "snoozed", "resolved"]),
    ),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(actions=actions, tail=st.integers(min_value=0, max_value=3 * 86400))
def test_stored_clocks_match_the_engine(actions: list[tuple[int, str]], tail: int) -> None:
    plan = PLANNER.plan(channel="x", priority=0, tags=(), customer_tags=(), created_at=START,
                        replied_in_thread=False)
    rows = [
        SlaOutcome(*row)
        for row in initial_outcomes(1, plan, reply_due=plan.reply_due, created_at=START,
                                    status="new", replied_at=None, resolved_at=None, now=START,
                                    pauses=False)
    ]
    timeline: list[TimelineEvent] = [CustomerMessage(START)]
    status, at = "new", START
    for gap, action in actions:
        at += gap
        new = "pending" if action == "reply" else action
        change = apply_change(rows, PLANNER, old_status=status, new_status=new, at=at,
                              replied=action == "reply")
        updated = {o.target: o for o in change.rows}
        rows = [updated.get(o.target, o) for o in rows]
        if action == "reply":
            timeline.append(AgentReply(at))
        timeline.append(StatusChange(at, new))
        status = new
    now = at + tail
    engine = evaluate(POLICY, timeline, now)
    for row in rows:
        expected = getattr(engine, row.target)
        breached_at = row.breached_at
        if (breached_at is None and row.completed_at is None and row.paused_at is None
                and row.due_at is not None and now > row.due_at):
            breached_at = row.due_at  # what Store.mark_breaches records at `now`
        assert breached_at == expected.breached_at, (row, expected)
        assert row.completed_at == expected.completed_at, (row, expected)
        if expected.status == "running":
            assert row.paused_at is None and row.due_at == expected.due, (row, expected)
        if expected.status == "paused":
            assert row.paused_at is not None and row.completed_at is None
