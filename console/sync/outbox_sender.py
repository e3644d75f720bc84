"""Sending queued replies: each one delivered once, whatever crashes in between.

The rule is *write ahead, then talk*: an item is committed as ``sending`` (a durable,
synchronous=FULL transaction) before its network call, and as ``sent`` (with the remote id) or
``failed`` (with the server's reason) after it. A crash, a kill or a lost connection therefore
leaves the item in ``sending`` or ``unknown``, never in ``queued`` with the post already out.

Such an item is *verified* before anything is posted again: ``adapter.find_existing_reply`` looks
for the reply on the server; found -> ``sent``, not found -> posted now. Verification happens
- on the first `run_once` of a sender, for items left in ``sending`` by an earlier process (and
  later for ``sending`` items older than `stale_after`, whose process is gone);
- for ``unknown`` items (a timeout or transient error mid-send): found -> ``sent`` directly,
  not found -> back to ``queued`` and posted in the same pass without a second lookup;
- for any ``queued`` item with ``attempts > 0``: it was sent at least once, so a crash between
  two of the recovery transactions above cannot lead to a second post.

Outcomes of a send (typed errors from console.channels.base):
- success -> ``sent`` with the remote id;
- DuplicateContent -> looked up first (a lost answer to our own first attempt looks like this):
  found -> ``sent``, else ``failed`` with the server's reason;
- Refused and other non-retryable refusals -> ``failed`` with the server's reason;
- AuthRejected, MonthlyCapReached -> ``failed`` with the reason, and the channel is held (no
  more sends on it) until `resume(channel)` / `set_adapter(...)`;
- RateLimited(until) -> back to ``queued`` (sending -> queued: the request was refused before
  anything was posted; attempts > 0 means it is looked up anyway before the next post), channel
  paused until `until`;
- TransientError, BadPayload (a 2xx we could not read), timeout, any other error -> ``unknown``
  (the post may be out), channel paused with jittered exponential backoff.
Pacing: a channel is also paused while its adapter's `rate_state` says the window is used up.

Record keys (Bluesky writes the post under a key chosen before the first attempt, so a retry
cannot create a second record): `adapter.new_record_key()` is stored in the outbox row's
``remote_key`` by the same durable commit that moves it queued -> sending, before the first
network call, and never replaced. Every later attempt, in this process or after a crash, passes
that stored key to find_existing_reply / send_reply (Bluesky: getRecord on it first).
A sent row also records the reply's public link (``remote_url``) when the channel gives one.

One sender per database: two senders could both take an item left in ``sending`` by a crash for
abandoned. Claiming a ``queued`` item is safe (the queued -> sending transition is checked in a
BEGIN IMMEDIATE transaction, so only one sender wins).

No sleeping here: `run_once` does what is due now, and `next_run_at()` says when to call again.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Final, TypeVar

from console.clock import Clock
from db.errors import InvalidTransition, NotFound
from db.models import OutboxItem, OutboxState
from db.store import Store

from .adapter import (
    AuthRejected,
    ChannelError,
    DuplicateContent,
    MonthlyCapReached,
    RateLimited,
    ReplyTarget,
    SendAdapter,
    reason,
    target_of,
)

T = TypeVar("T")

log = logging.getLogger(__name__)

SEND_TIMEOUT: Final = 30.0
STALE_AFTER: Final = 300
BASE_DELAY: Final = 15.0
MAX_DELAY: Final = 900.0
BATCH: Final = 100

# The sender's own wording of a rate-limit refusal: the item goes back to queued by itself.
_RATE_LIMITED = "rate limited, will retry"


class _Refusal(Exception):
    """A DuplicateContent that find_existing_reply could not explain: a real refusal."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(slots=True)
class SendReport:
    """What one `run_once` did (counts of items by outcome, and the channels held back)."""

    sent: int = 0
    failed: int = 0
    unknown: int = 0
    requeued: int = 0
    verified: int = 0  # found already posted on the server by find_existing_reply
    held: dict[str, str] = field(default_factory=dict)  # channel -> why it is held back


class OutboxSender:
    def __init__(
        self,
        store: Store,
        adapters: Mapping[str, SendAdapter],
        clock: Clock,
        *,
        rng: random.Random | None = None,
        send_timeout: float = SEND_TIMEOUT,
        stale_after: int = STALE_AFTER,
        base_delay: float = BASE_DELAY,
        max_delay: float = MAX_DELAY,
        batch: int = BATCH,
    ) -> None:
        self._store = store
        self._adapters = dict(adapters)
        self._clock = clock
        self._rng = rng or random.Random()
        self._send_timeout = send_timeout
        self._stale_after = stale_after
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._batch = batch
        self._started = False
        self._orphans: set[int] = set()  # left in sending by an earlier process, not verified
        self._lock = asyncio.Lock()
        self._paused_until: dict[str, float] = {}
        self._failures: dict[str, int] = {}
        self._blocked: dict[str, str] = {}
        self._in_flight: set[int] = set()
        self._pending_channels: set[str] = set()
        # Unknown rows looked up on the channel in this pass and not found there: posted
        # without a second lookup (one sender per database, so nothing posted in between).
        self._checked: set[int] = set()

    # --- control -----------------------------------------------------------------------------
    def resume(self, channel: str) -> None:
        """Lift a hold (after `comptoir account add` replaced a rejected token, say)."""
        self._blocked.pop(channel, None)
        self._paused_until.pop(channel, None)
        self._failures.pop(channel, None)

    def set_adapter(self, channel: str, adapter: SendAdapter) -> None:
        self._adapters[channel] = adapter
        self.resume(channel)

    def held(self) -> dict[str, str]:
        """Channels not sending now, and why (for the status line)."""
        now = self._clock.now()
        out = dict(self._blocked)
        for channel, until in self._paused_until.items():
            if until > now and channel not in out:
                out[channel] = f"paused until {int(until)}"
        return out

    def next_run_at(self) -> float | None:
        """When `run_once` has something to do again because a pause ends; None when nothing
        waits on a pause (call again when a reply is queued, or on the caller's own tick)."""
        waits = [until for channel, until in self._paused_until.items()
                 if channel in self._pending_channels and channel not in self._blocked]
        return min(waits) if waits else None

    # --- one pass ----------------------------------------------------------------------------
    async def run_once(self) -> SendReport:
        async with self._lock:
            return await self._run_once()

    async def _run_once(self) -> SendReport:
        report = SendReport()
        self._pending_channels = set()
        now = self._clock.now()
        first = not self._started
        self._started = True
        for item in await self._store.outbox_in_state(OutboxState.SENDING, limit=self._batch):
            if item.id in self._in_flight:
                continue
            if first:
                self._orphans.add(item.id)
            elif item.id not in self._orphans and item.updated_at > now - self._stale_after:
                continue  # another process may be sending it right now
            if self._usable(item.channel, report):
                self._orphans.discard(item.id)
                await self._deliver(item, verify=True, report=report)
        self._checked = set()
        for item in await self._store.outbox_in_state(OutboxState.UNKNOWN, limit=self._batch):
            if self._usable(item.channel, report):
                await self._resolve_unknown(item, report)
        for item in await self._store.outbox_in_state(OutboxState.QUEUED, limit=self._batch):
            if not self._usable(item.channel, report):
                continue
            adapter = self._adapters[item.channel]
            try:
                # The record key goes to disk with the claim, before the first network call;
                # a row that has one keeps it (the store never replaces a key).
                claimed = await self._set(item, OutboxState.SENDING,
                                          remote_key=item.remote_key or adapter.new_record_key())
            except (InvalidTransition, NotFound):
                continue  # another sender took it, or the agent withdrew it
            verify = item.attempts > 0 and item.id not in self._checked
            await self._deliver(claimed, verify=verify, report=report)
        return report

    async def _resolve_unknown(self, item: OutboxItem, report: SendReport) -> None:
        """Ask the channel whether an unknown reply went out: found -> sent, else queued."""
        parent = await self._store.mention(item.mention_id)
        if parent is not None:
            adapter = self._adapters[item.channel]
            try:
                found = await self._call(adapter.find_existing_reply(
                    item, target_of(parent), record_key=item.remote_key))
            except RateLimited as e:
                self._pause(item.channel, e, report)
                return  # stays unknown: asked again when the pause ends
            except (ChannelError, TimeoutError):
                self._backoff(item.channel)
                return
            except Exception as e:  # a bug in an adapter: never guess that it was not sent
                log.warning("lookup of outbox %s failed: %s", item.id, type(e).__name__)
                self._backoff(item.channel)
                return
            if found is not None:
                await self._set(item, OutboxState.SENT, remote_id=found.remote_id,
                                remote_url=found.url)
                report.verified += 1
                report.sent += 1
                self._ok(item.channel)
                return
            self._checked.add(item.id)
        await self._set(item, OutboxState.QUEUED)
        report.requeued += 1

    def _usable(self, channel: str, report: SendReport) -> bool:
        if channel not in self._adapters:
            report.held[channel] = "no account for this channel"
            return False
        if channel in self._blocked:
            report.held[channel] = self._blocked[channel]
            return False
        now = self._clock.now()
        wait = self._adapters[channel].rate_state.wait(now)
        if wait > 0:  # the server's last figures say the window is used up: pace ourselves
            self._paused_until[channel] = max(self._paused_until.get(channel, 0.0), now + wait)
        until = self._paused_until.get(channel)
        if until is not None and until > now:
            self._pending_channels.add(channel)
            report.held[channel] = f"paused until {int(until)}"
            return False
        return True

    async def _deliver(self, item: OutboxItem, *, verify: bool, report: SendReport) -> None:
        """`item` is committed as sending: verify (if asked), post, and record the outcome."""
        adapter = self._adapters[item.channel]
        self._in_flight.add(item.id)
        try:
            parent = await self._store.mention(item.mention_id)
            if parent is None:  # cannot happen (no cascade from mentions), but never guess
                await self._set(item, OutboxState.FAILED, error="the mention replied to is gone")
                report.failed += 1
                return
            target = target_of(parent)
            key = item.remote_key  # stored with the claim (None: the channel needs none)
            try:
                if verify and await self._found(adapter, item, target, key, report):
                    return
                try:
                    sent = await self._call(adapter.send_reply(item, target, record_key=key))
                except DuplicateContent as e:
                    # Usually our own earlier attempt went through and its answer was lost.
                    if await self._found(adapter, item, target, key, report):
                        return
                    raise _Refusal(e) from e
            except RateLimited as e:
                await self._rate_limited(item, e, report)
            except (AuthRejected, MonthlyCapReached) as e:
                await self._set(item, OutboxState.FAILED, error=reason(e))
                report.failed += 1
                self._blocked[item.channel] = reason(e)
                report.held[item.channel] = reason(e)
            except _Refusal as e:
                await self._set(item, OutboxState.FAILED, error=reason(e.error))
                report.failed += 1
            except ChannelError as e:
                if e.retryable:  # TransientError, BadPayload (a 2xx we cannot read): maybe out
                    await self._unknown(item, reason(e), report)
                else:  # Refused (422, parent deleted...): sending it again will not help
                    await self._set(item, OutboxState.FAILED, error=reason(e))
                    report.failed += 1
            except TimeoutError:
                await self._unknown(item, "no answer in time", report)
            except Exception as e:  # a bug in an adapter: the post may or may not be out
                log.warning("send of outbox %s failed: %s", item.id, type(e).__name__)
                await self._unknown(item, f"unexpected error ({type(e).__name__})", report)
            else:
                await self._set(item, OutboxState.SENT, remote_id=sent.remote_id,
                                remote_url=sent.url)
                report.sent += 1
                self._ok(item.channel)
        finally:
            self._in_flight.discard(item.id)

    async def _found(self, adapter: SendAdapter, item: OutboxItem, target: ReplyTarget,
                     key: str | None, report: SendReport) -> bool:
        found = await self._call(adapter.find_existing_reply(item, target, record_key=key))
        if found is None:
            return False
        await self._set(item, OutboxState.SENT, remote_id=found.remote_id,
                        remote_url=found.url)
        report.verified += 1
        report.sent += 1
        self._ok(item.channel)
        return True

    async def _unknown(self, item: OutboxItem, why: str, report: SendReport) -> None:
        await self._set(item, OutboxState.UNKNOWN, error=why)
        report.unknown += 1
        self._backoff(item.channel)

    def _pause(self, channel: str, error: RateLimited, report: SendReport) -> None:
        now = self._clock.now()
        until = float(getattr(error, "until", 0) or 0)
        if until <= now:
            until = now + self._delay(channel)
        self._paused_until[channel] = until
        self._pending_channels.add(channel)
        report.held[channel] = f"paused until {int(until)}"

    async def _rate_limited(self, item: OutboxItem, error: RateLimited,
                            report: SendReport) -> None:
        self._pause(item.channel, error, report)
        # The server refused before posting: sending -> queued (attempts > 0, so the next
        # claim looks it up on the channel first in case it went out after all).
        await self._set(item, OutboxState.QUEUED, error=f"{_RATE_LIMITED}: {reason(error)}")
        report.requeued += 1

    async def _call(self, call: Awaitable[T]) -> T:
        return await asyncio.wait_for(call, self._send_timeout)

    async def _set(self, item: OutboxItem, state: OutboxState, *, remote_id: str | None = None,
                   error: str | None = None, remote_key: str | None = None,
                   remote_url: str | None = None) -> OutboxItem:
        return await self._store.set_outbox_state(
            item.id, state, now=int(self._clock.now()), remote_id=remote_id, error=error,
            remote_key=remote_key, remote_url=remote_url,
        )

    # --- pacing ------------------------------------------------------------------------------
    def _ok(self, channel: str) -> None:
        self._failures.pop(channel, None)

    def _delay(self, channel: str) -> float:
        n = self._failures.get(channel, 0) + 1
        self._failures[channel] = n
        delay = min(self._max_delay, self._base_delay * 2 ** (n - 1))
        return delay / 2 + self._rng.uniform(0, delay / 2)  # jitter: senders do not march

    def _backoff(self, channel: str) -> None:
        self._paused_until[channel] = self._clock.now() + self._delay(channel)
        self._pending_channels.add(channel)
