"""Reports for the stats screen and `comptoir stats`: one function per report, each a few
aggregate queries answered from an index (schema step 9), never a pass over the rows in Python.

A friend module of the Store, like db/crisis.py: it uses the Store's plumbing (`_read`, `_rows`,
`_scalar`). Each report takes its own read lock, so a console's queue queries run between two
reports instead of waiting for all of them.

Periods are half-open `[since, until)` in epoch seconds on the time each row is about: a
mention's `created_at`, a reply's `created_at` (when the agent sent it to the outbox), an SLA
clock's `started_at`, a resolution event's `at`. Days are not computed here: the caller passes
the boundaries of its days (local midnights in its time zone, see console/stats.py), so a day is
right across DST changes and in zones whose offset is not a whole hour.

Percentiles use the nearest-rank method on whole seconds: the p-th percentile of n values is the
value at rank ceil(p * n) (1-based) in increasing order, so the median of an even count is the
lower middle value. Each is one `ORDER BY ... LIMIT 1 OFFSET k` walk along an index that is
already in that order.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from db.models import CHANNELS
from db.store import Store

# Backlog age buckets: (label, upper bound in seconds); the last bucket has no bound.
BACKLOG_BUCKETS: Final = (("under_30m", 1800), ("under_1h", 3600), ("under_4h", 4 * 3600),
                          ("under_24h", 24 * 3600), ("older", None))
SLA_TARGETS: Final = ("first_reply", "next_reply", "resolution")
# A `since` before any data, an `until` after any: a period "of all time".
EVER: Final = (-(2**62), 2**62)

# Periods with at most this many mentions (or replies of one agent) are read as a time range and
# their response times sorted (cheap at that size); longer ones walk an index that is already in
# response-time order, whose cost is bounded by the index's size, never a sort of it.
SHORT_PERIOD: Final = 50_000

# Index-only statements (tests/db/test_stats.py checks their query plans). In the "walk" forms the
# unary '+' on created_at keeps the planner on mentions_reply_time (response-time order); in the
# "range" forms '+replied_at' keeps it off that partial index, on the mentions_created range.
_FRT_COUNTS = (
    "SELECT count(*), "
    "count(*) FILTER (WHERE replied_at - created_at <= ?), "
    "count(*) FILTER (WHERE replied_at - created_at <= ?) "
    # Named: unhelped, the planner prefers a full pass over mentions_created, which is larger.
    "FROM mentions INDEXED BY mentions_reply_time "
    "WHERE replied_at IS NOT NULL AND +created_at >= ? AND +created_at < ?"
)
_FRT_AT_RANK = (
    "SELECT replied_at - created_at FROM mentions "
    "WHERE replied_at IS NOT NULL AND +created_at >= ? AND +created_at < ? "
    "ORDER BY replied_at - created_at LIMIT 1 OFFSET ?"
)
_FRT_COUNTS_RANGE = (
    "SELECT count(*), "
    "count(*) FILTER (WHERE replied_at - created_at <= ?), "
    "count(*) FILTER (WHERE replied_at - created_at <= ?) "
    "FROM mentions WHERE created_at >= ? AND created_at < ? AND +replied_at IS NOT NULL"
)
_FRT_AT_RANK_RANGE = (
    "SELECT replied_at - created_at FROM mentions "
    "WHERE created_at >= ? AND created_at < ? AND +replied_at IS NOT NULL "
    "ORDER BY +(replied_at - created_at) LIMIT 1 OFFSET ?"
)
_CHANNELS = (
    "WITH RECURSIVE ch (name) AS (SELECT min(channel) FROM mentions "
    "UNION ALL SELECT (SELECT min(channel) FROM mentions WHERE channel > ch.name) FROM ch "
    "WHERE ch.name IS NOT NULL) SELECT name FROM ch WHERE name IS NOT NULL"
)
# One count per (day, channel): a range on mentions_channel_created each, no grouping sort.
_VOLUME = (
    "WITH b (s, e) AS (SELECT value, lead(value) OVER (ORDER BY key) FROM json_each(?)), "
    "c (name) AS (SELECT value FROM json_each(?)) "
    "SELECT b.s, c.name, (SELECT count(*) FROM mentions m WHERE m.channel = c.name "
    "AND m.created_at >= b.s AND m.created_at < b.e) FROM b, c WHERE b.e IS NOT NULL"
)
_FIRST_CREATED = "SELECT min(created_at) FROM mentions"
_BACKLOG = (
    "SELECT count(*), "
    + ", ".join(f"count(*) FILTER (WHERE created_at > ? - {bound})"
                for _label, bound in BACKLOG_BUCKETS if bound is not None)
    + " FROM mentions WHERE lane = 0"
)
# Distinct (policy, target) pairs by seeks on sla_outcomes_report. Not "(policy, target) > (?, ?)":
# SQLite seeks that on policy alone and then reads every row of the current policy.
_SLA_FIRST_PAIR = "SELECT policy, target FROM sla_outcomes ORDER BY policy, target LIMIT 1"
_SLA_NEXT_TARGET = (
    "SELECT target FROM sla_outcomes WHERE policy = ? AND target > ? ORDER BY target LIMIT 1"
)
_SLA_NEXT_POLICY = (
    "SELECT policy, target FROM sla_outcomes WHERE policy > ? ORDER BY policy, target LIMIT 1"
)
_SLA_COUNTS = (
    "SELECT count(*), "
    "count(*) FILTER (WHERE completed_at IS NOT NULL AND breached_at IS NULL), "
    # A running clock already past its due is a breach even if no console was open to mark it.
    "count(*) FILTER (WHERE breached_at IS NOT NULL OR (completed_at IS NULL "
    "AND paused_at IS NULL AND due_at < ?)) "
    "FROM sla_outcomes WHERE policy = ? AND target = ? AND started_at >= ? AND started_at < ?"
)
_NEXT_AUTHOR = "SELECT min(author) FROM outbox WHERE state = 'sent' AND author > ?"
_NEXT_RESOLVER = (
    "SELECT min(actor) FROM events WHERE action = 'status' AND detail GLOB '* -> resolved' "
    "AND actor > ?"
)
_AGENT_REPLIES = (
    "SELECT count(*) FROM outbox WHERE state = 'sent' AND author = ? "
    "AND created_at >= ? AND created_at < ?"
)
_AGENT_AT_RANK = (
    "SELECT created_at - mention_created_at FROM outbox WHERE state = 'sent' AND author = ? "
    "AND +created_at >= ? AND +created_at < ? "
    "ORDER BY created_at - mention_created_at LIMIT 1 OFFSET ?"
)
_AGENT_AT_RANK_RANGE = (
    "SELECT created_at - mention_created_at FROM outbox WHERE state = 'sent' AND author = ? "
    "AND created_at >= ? AND created_at < ? "
    "ORDER BY +(created_at - mention_created_at) LIMIT 1 OFFSET ?"
)
_AGENT_RESOLVED = (
    "SELECT count(*) FROM events WHERE action = 'status' AND detail GLOB '* -> resolved' "
    "AND actor = ? AND at >= ? AND at < ?"
)


def rank_offset(n: int, p: float) -> int:
    """0-based offset of the nearest-rank p-th percentile among n sorted values (n >= 1)."""
    return max(0, math.ceil(p * n) - 1)


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# --- rows --------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DayVolume:
    start: int  # the day's first second (a local midnight, or `since` for a partial first day)
    by_channel: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_channel.values())


@dataclass(frozen=True, slots=True)
class Volume:
    channels: tuple[str, ...]
    days: tuple[DayVolume, ...]

    @property
    def by_channel(self) -> dict[str, int]:
        return {c: sum(d.by_channel.get(c, 0) for d in self.days) for c in self.channels}

    @property
    def total(self) -> int:
        return sum(d.total for d in self.days)


@dataclass(frozen=True, slots=True)
class FirstResponse:
    """Mentions created in the period and how fast they got their first reply. Shares are of
    every mention received (one never answered is not answered within 30 min)."""

    received: int
    answered: int
    within_30m: int
    within_1h: int
    median_s: int | None
    p90_s: int | None

    @property
    def share_30m(self) -> float | None:
        return share(self.within_30m, self.received)

    @property
    def share_1h(self) -> float | None:
        return share(self.within_1h, self.received)


@dataclass(frozen=True, slots=True)
class SlaAchievement:
    """Clocks of one (policy, target) started in the period. Achievement is met over decided
    (met + breached); clocks still running count in neither."""

    policy: str
    target: str
    total: int
    met: int
    breached: int

    @property
    def running(self) -> int:
        return self.total - self.met - self.breached

    @property
    def achievement(self) -> float | None:
        return share(self.met, self.met + self.breached)


@dataclass(frozen=True, slots=True)
class Backlog:
    """Active mentions (new and open) now, by age since the customer wrote."""

    buckets: tuple[tuple[str, int], ...]

    @property
    def total(self) -> int:
        return sum(n for _label, n in self.buckets)


@dataclass(frozen=True, slots=True)
class AgentStats:
    """Replies an agent sent in the period (outbox rows now `sent`, by when they were queued),
    the median time from the customer's message to those replies, and the mentions the agent
    resolved (status events)."""

    agent: str
    replies: int
    median_response_s: int | None
    resolved: int


# --- reports -----------------------------------------------------------------------------------
async def first_created(store: Store) -> int | None:
    """When the oldest mention was written (the start of an "all time" period)."""
    async with store._read():
        value = await store._scalar(_FIRST_CREATED)
    return None if value is None else int(value)


async def volume(store: Store, boundaries: Sequence[int]) -> Volume:
    """Mentions per channel for each day [boundaries[i], boundaries[i + 1]). Every known channel
    appears, with zeros."""
    async with store._read():
        stored = [r[0] for r in await store._rows(_CHANNELS)]
        channels = tuple(sorted(set(CHANNELS) | set(stored)))
        rows = await store._rows(_VOLUME, (json.dumps(list(boundaries)), json.dumps(channels)))
    days: dict[int, dict[str, int]] = {}
    for start, channel, n in rows:
        days.setdefault(int(start), {})[channel] = int(n)
    return Volume(channels, tuple(DayVolume(s, days.get(s, {})) for s in boundaries[:-1]))


async def first_response(store: Store, since: int, until: int, *,
                         received: int | None = None) -> FirstResponse:
    """`received`: the period's mention count when the caller has it (the volume's total)."""
    async with store._read():
        if received is None:
            received = int(await store._scalar(
                "SELECT count(*) FROM mentions WHERE created_at >= ? AND created_at < ?",
                (since, until)))
        short = received <= SHORT_PERIOD
        counts, at_rank = (_FRT_COUNTS_RANGE, _FRT_AT_RANK_RANGE) if short else (
            _FRT_COUNTS, _FRT_AT_RANK)
        rows = await store._rows(counts, (1800, 3600, since, until))
        answered, within_30m, within_1h = rows[0]
        median = p90 = None
        if answered:
            median = await store._scalar(at_rank, (since, until, rank_offset(answered, 0.5)))
            p90 = await store._scalar(at_rank, (since, until, rank_offset(answered, 0.9)))
    return FirstResponse(received, int(answered), int(within_30m), int(within_1h),
                         None if median is None else int(median),
                         None if p90 is None else int(p90))


async def sla_achievement(store: Store, since: int, until: int, now: int
                          ) -> list[SlaAchievement]:
    """Per (policy, target) that has any clock, in policy order then target order; a clock
    still running past its due at `now` counts as breached."""
    out: list[SlaAchievement] = []
    async with store._read():
        pairs: list[tuple[str, str]] = []
        # A skip scan over sla_outcomes_report: one seek per distinct pair, never a full pass.
        rows = await store._rows(_SLA_FIRST_PAIR)
        while rows:
            policy, target = rows[0]
            pairs.append((policy, target))
            nxt = await store._scalar(_SLA_NEXT_TARGET, (policy, target))
            rows = [(policy, nxt)] if nxt is not None else await store._rows(
                _SLA_NEXT_POLICY, (policy,))
        for policy, target in pairs:
            total, met, breached = (await store._rows(
                _SLA_COUNTS, (now, policy, target, since, until)))[0]
            if total:
                out.append(SlaAchievement(policy, target, int(total), int(met), int(breached)))
    order = {t: i for i, t in enumerate(SLA_TARGETS)}
    out.sort(key=lambda a: (a.policy, order.get(a.target, len(order)), a.target))
    return out


async def backlog(store: Store, now: int) -> Backlog:
    """A snapshot at `now` (not limited to a period: it is what is waiting now)."""
    bounds = [bound for _label, bound in BACKLOG_BUCKETS if bound is not None]
    async with store._read():
        total, *younger = (await store._rows(_BACKLOG, [now] * len(bounds)))[0]
    counts: list[int] = []
    below = 0
    for n in younger:  # cumulative "younger than" counts -> one count per bucket
        counts.append(int(n) - below)
        below = int(n)
    counts.append(int(total) - below)
    return Backlog(tuple(zip((label for label, _ in BACKLOG_BUCKETS), counts, strict=True)))


async def _distinct(store: Store, sql: str) -> list[str]:
    found: list[str] = []
    last = ""
    while (value := await store._scalar(sql, (last,))) is not None:
        found.append(value)
        last = value
    return found


async def agents(store: Store, since: int, until: int) -> list[AgentStats]:
    """Every agent who sent a reply or resolved a mention (ever), with the period's figures;
    agents with nothing in the period are left out. Sorted by replies, then name."""
    out: list[AgentStats] = []
    async with store._read():
        names = sorted(set(await _distinct(store, _NEXT_AUTHOR))
                       | set(await _distinct(store, _NEXT_RESOLVER)))
        for name in names:
            replies = int(await store._scalar(_AGENT_REPLIES, (name, since, until)))
            median = None
            if replies:
                at_rank = _AGENT_AT_RANK_RANGE if replies <= SHORT_PERIOD else _AGENT_AT_RANK
                median = await store._scalar(at_rank,
                                             (name, since, until, rank_offset(replies, 0.5)))
            resolved = int(await store._scalar(_AGENT_RESOLVED, (name, since, until)))
            if replies or resolved:
                out.append(AgentStats(name, replies, None if median is None else int(median),
                                      resolved))
    out.sort(key=lambda a: (-a.replies, a.agent))
    return out
