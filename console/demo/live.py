"""A simulated live channel for demos: new mentions trickle in, queued replies get "sent".

It is driven by explicit steps, never by sleeping: the app calls `step()` from a one-second
timer, tests call it after advancing a FrozenClock. Each step compares `clock.now()` with a
deterministic schedule, so what arrives (and when) depends only on the seed and the clock, not
on how often or how late step() is called.

Demo mode only: it advances *every* queued reply of the database, as if x, Mastodon and Bluesky
all answered, so it must never run next to real channel adapters.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from typing import Final

from console.clock import Clock
from console.listening_config import ListeningConfig
from db.errors import InvalidTransition, NotFound
from db.listening import add_watch_results
from db.models import OutboxItem, OutboxState
from db.store import Store

from .generator import ListeningPostSource, LiveMentionSource

# On average one new mention every MEAN_GAP seconds at speed 1 (Poisson arrivals).
MEAN_GAP: Final = 20.0
# A reply waits this long in QUEUED, then this long in SENDING (seconds at speed 1): long
# enough for a trainer to point at the state column, short enough not to bore anyone.
QUEUED_DELAY: Final = 2.0
SENDING_DELAY: Final = 3.0
# One send in FAILURE_ODDS fails, decided per (seed, outbox id, attempt): a retry may succeed.
FAILURE_ODDS: Final = 25
# After a long pause (laptop asleep) a step ingests at most this many rows; the rest follow on
# the next steps, so one timer tick never blocks the UI for long.
MAX_INGEST_PER_STEP: Final = 100
OUTBOX_BATCH: Final = 100
# Listening posts (about the brand and competitors, not mentions): one every LISTEN_MEAN_GAP
# seconds on average, the first within LISTEN_FIRST seconds so a demo shows some at once.
LISTEN_MEAN_GAP: Final = 30.0
LISTEN_FIRST: Final = 3.0

# Realistic refusals, per channel, as the servers word them (shown to agents as outside text).
FAILURE_REASONS: Final = {
    "x": (
        "403 Forbidden: You are not allowed to create a Tweet with duplicate content. (187)",
        "429 Too Many Requests: Rate limit exceeded",
        "403 Forbidden: You cannot reply to this conversation (reply settings). (433)",
        "503 Service Unavailable: Over capacity",
    ),
    "mastodon": (
        "422 Unprocessable Entity: Validation failed: Text character limit of 500 exceeded",
        "429 Too Many Requests: Throttled",
        "404 Not Found: Record not found (the post was deleted)",
        "502 Bad Gateway",
    ),
    "bluesky": (
        "400 InvalidRequest: Record/text must not be longer than 300 graphemes",
        "429 RateLimitExceeded: Rate Limit Exceeded",
        "400 InvalidRequest: Could not locate record: reply parent was deleted",
        "401 ExpiredToken: Token has expired",
    ),
}


@dataclass(frozen=True, slots=True)
class StepResult:
    """What one step changed, so the app refreshes only those rows."""

    new_mention_ids: tuple[int, ...] = ()
    acknowledged_outbox_ids: tuple[int, ...] = ()  # now SENT
    failed_outbox_ids: tuple[int, ...] = ()  # now FAILED
    sending_outbox_ids: tuple[int, ...] = ()  # moved QUEUED -> SENDING
    new_watch_ids: tuple[int, ...] = ()  # listening results (not queue items)

    @property
    def changed(self) -> bool:
        return bool(
            self.new_mention_ids
            or self.acknowledged_outbox_ids
            or self.failed_outbox_ids
            or self.sending_outbox_ids
            or self.new_watch_ids
        )


class SimulatedChannel:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        seed: int,
        speed: float = 1.0,
        first_reply_sla: int = 3600,
        listening: ListeningConfig | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._seed = seed
        self.speed = speed
        self._first_reply_sla = first_reply_sla
        self._source = LiveMentionSource(seed)
        # Arrival times draw from their own stream: the schedule never depends on the content.
        self._arrivals = random.Random(f"{seed}:arrivals")
        self._next_at = clock.now() + self._gap()
        self._seq = 0
        self._busy = False
        # Listening feed, on its own random streams (the mention schedule does not move).
        self._listening = listening if listening is not None and not listening.empty else None
        self._listen_source = ListeningPostSource(seed)
        self._listen_arrivals = random.Random(f"{seed}:listen-arrivals")
        self._listen_next = clock.now() + LISTEN_FIRST
        self._listen_seq = 0

    @property
    def speed(self) -> float:
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        # A trainer may speed the demo up mid-session; it applies from the next arrival on.
        if not value > 0:
            raise ValueError(f"speed must be positive, got {value!r}")
        self._speed = float(value)

    @property
    def listening(self) -> ListeningConfig | None:
        """The watch list the simulated listening feed matches (None: no feed)."""
        return self._listening

    @property
    def next_arrival(self) -> float:
        """When the next mention is due (epoch seconds): for a "next mention in 12 s" hint."""
        return self._next_at

    def describe(self) -> str:
        """One line for the status bar. It changes only when a mention arrives, not every second:
        on a slow link, a ticking "next in 12 s" would cost bytes for nothing."""
        return f"demo channel: live, {self._seq} arrived"

    def _gap(self) -> float:
        return self._arrivals.expovariate(self._speed / MEAN_GAP)

    async def step(self) -> StepResult:
        """Ingest the mentions due by now and move outbox rows along. Re-entrant calls (a slow
        step overlapping the next timer tick) return an empty result instead of doubling up."""
        if self._busy:
            return StepResult()
        self._busy = True
        try:
            now = self._clock.now()
            new_ids = await self._ingest_due(now)
            acked, failed, sending = await self._advance_outbox(int(now))
            watch_ids = await self._listen_due(now)
            return StepResult(tuple(new_ids), tuple(acked), tuple(failed), tuple(sending),
                              tuple(watch_ids))
        finally:
            self._busy = False

    async def _ingest_due(self, now: float) -> list[int]:
        batch = []
        now_i = int(now)
        while self._next_at <= now and len(batch) < MAX_INGEST_PER_STEP:
            self._seq += 1
            mention = self._source.next(int(self._next_at), self._seq)
            batch.append(dataclasses.replace(mention, received_at=now_i))
            self._next_at += self._gap()
        if not batch:
            return []
        return await self._store.ingest(batch, now=now_i, first_reply_sla=self._first_reply_sla)

    async def _listen_due(self, now: float) -> list[int]:
        """Listening posts due by now that match a watch term, as watch results."""
        if self._listening is None:
            return []
        from console.listening import WatchMatcher, watch_result

        matcher = WatchMatcher(self._listening.terms)
        found = []
        while self._listen_next <= now and len(found) < MAX_INGEST_PER_STEP:
            self._listen_seq += 1
            post = self._listen_source.next(int(self._listen_next), self._listen_seq)
            self._listen_next += self._listen_arrivals.expovariate(self.speed / LISTEN_MEAN_GAP)
            term = matcher.match(post.text)
            if term is not None:
                found.append(watch_result(post, term))
        if not found:
            return []
        return await add_watch_results(self._store, found, now=int(now))

    async def _advance_outbox(self, now: int) -> tuple[list[int], list[int], list[int]]:
        acked: list[int] = []
        failed: list[int] = []
        sending: list[int] = []
        # SENDING first: a row moved to SENDING in this step must wait its turn, not jump to
        # SENT in the same tick.
        for item in await self._store.outbox_in_state(OutboxState.SENDING, limit=OUTBOX_BATCH):
            if now - item.updated_at < SENDING_DELAY / self._speed:
                continue
            reason = self._failure(item)
            if reason is None:
                ok = await self._set(item, OutboxState.SENT, now, remote_id=self._remote_id(item))
                if ok:
                    acked.append(item.id)
            elif await self._set(item, OutboxState.FAILED, now, error=reason):
                failed.append(item.id)
        for item in await self._store.outbox_in_state(OutboxState.QUEUED, limit=OUTBOX_BATCH):
            if now - item.updated_at < QUEUED_DELAY / self._speed:
                continue
            if await self._set(item, OutboxState.SENDING, now):
                sending.append(item.id)
        return acked, failed, sending

    async def _set(
        self,
        item: OutboxItem,
        state: OutboxState,
        now: int,
        *,
        remote_id: str | None = None,
        error: str | None = None,
    ) -> bool:
        try:
            await self._store.set_outbox_state(
                item.id, state, now=now, remote_id=remote_id, error=error
            )
        except (InvalidTransition, NotFound):
            # The agent cancelled or deleted the reply between our read and our write: skip it.
            return False
        return True

    def _failure(self, item: OutboxItem) -> str | None:
        """The server's refusal for this attempt, or None when it goes through."""
        rng = random.Random(f"{self._seed}:send:{item.id}:{item.attempts}")
        if rng.randrange(FAILURE_ODDS) != 0:
            return None
        return rng.choice(FAILURE_REASONS.get(item.channel, FAILURE_REASONS["x"]))

    def _remote_id(self, item: OutboxItem) -> str:
        # Outbox ids are unique in a database and a row is sent once: unique remote ids.
        return f"sim-{item.channel}-{item.id}-{item.attempts}"
