"""The SLA policies of config.toml, as the Store's `db.sla.DuePlanner`.

`ConfigPlanner(rules)` picks each new mention's policy with `SlaRules.choose` and computes its
deadlines on the policy's `BusinessCalendar`; the Store asks it again, by policy name, for the
business-hours arithmetic when a clock pauses and resumes (db/sla.py documents the model).
Domain code: no Textual, no clock (every instant is an argument).

A policy name the rules no longer define (the config changed since the mention arrived) keeps
working: 24/7 and the default pause statuses, so an old database always opens.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from console.calendars import TWENTY_FOUR_SEVEN, BusinessCalendar
from console.sla_policy import DEFAULT_PAUSE_STATUSES, SlaPolicy, SlaRules
from db.sla import DuePlan

if TYPE_CHECKING:
    from db.store import Store

# Distinct (channel, priority, tags, customer tags) seen per process is small (tags come from a
# short list); the bound only guards against a pathological feed.
_CHOICE_CACHE_LIMIT: Final = 4096


class ConfigPlanner:
    """`db.sla.DuePlanner` over `SlaRules` (console.sla_config parses them from config.toml)."""

    def __init__(self, rules: SlaRules) -> None:
        self.rules = rules
        self._choices: dict[tuple[object, ...], SlaPolicy] = {}

    def policy(self, name: str) -> SlaPolicy | None:
        return self.rules.policies.get(name)

    def warn_seconds(self, name: str) -> int:
        """The amber window of a policy (the default one for an unknown name)."""
        return (self.policy(name) or self.rules.policies[self.rules.default]).warn

    def _calendar(self, name: str) -> BusinessCalendar:
        policy = self.policy(name)
        return policy.calendar if policy is not None else TWENTY_FOUR_SEVEN

    def choose(
        self, channel: str, priority: int, tags: Sequence[str], customer_tags: Sequence[str]
    ) -> SlaPolicy:
        key = (channel, priority, tuple(tags), tuple(customer_tags))
        policy = self._choices.get(key)
        if policy is None:
            if len(self._choices) >= _CHOICE_CACHE_LIMIT:
                self._choices.clear()
            policy = self._choices[key] = self.rules.choose(
                channel=channel, priority=priority, tags=tags, customer_tags=customer_tags
            )
        return policy

    # --- db.sla.DuePlanner -----------------------------------------------------------------------
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
        policy = self.choose(channel, priority, tags, customer_tags)
        calendar = policy.calendar
        target = "next_reply" if replied_in_thread else "first_reply"
        seconds = policy.next_reply if replied_in_thread else policy.first_reply
        reply_due = (
            calendar.add_business_seconds(created_at, seconds) if seconds is not None else None
        )
        resolution_due = (
            calendar.add_business_seconds(created_at, policy.resolution)
            if policy.resolution is not None
            else None
        )
        return DuePlan(
            policy.name, target if seconds is not None else None, reply_due, resolution_due
        )

    def pauses(self, policy: str, status: str) -> bool:
        found = self.policy(policy)
        statuses = found.pause_statuses if found is not None else DEFAULT_PAUSE_STATUSES
        return status in statuses

    def business_seconds(self, policy: str, start: int, end: int) -> int:
        return self._calendar(policy).business_seconds_between(start, end)

    def add_business_seconds(self, policy: str, start: int, seconds: int) -> int:
        return self._calendar(policy).add_business_seconds(start, seconds)


def install_planner(store: Store, rules: SlaRules) -> ConfigPlanner:
    """Give the Store the configured policies (every path that writes mentions goes through it)."""
    planner = ConfigPlanner(rules)
    store.due_planner = planner
    return planner
