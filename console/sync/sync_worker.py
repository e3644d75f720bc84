"""Fetching one account's mentions into the Store, and deciding when to fetch again.

`SyncWorker.run_once()` fetches from the account's stored cursor, writes each page in one
`store.ingest` transaction, then saves the page's cursor (a crash in between fetches the page
again, and ingest skips what it already holds). It records an `AccountStatus` and computes when it
should run next; it never sleeps. The caller's loop (a Textual worker, or `comptoir sync --once`)
awaits `run_once()`, then waits until `next_run_at()` its own way.

Errors from the adapter (console.channels.base) become statuses:
- RateLimited(until), MonthlyCapReached -> rate_limited, next run at `until` (plus a little
  jitter so several consoles do not hit the server in the same second);
- AuthRejected -> auth_rejected, no next run (None) until the token is replaced;
- BadPayload (the whole page is not the documented payload: truncated JSON, an HTML error page)
  -> unreadable, retried like offline;
- TransientError, a timeout, anything else from the adapter -> offline, retried with
  exponential backoff and jitter (`random.Random` injected, so tests are exact).
One bad item of a good page (the adapter's `rejected`) does not fail the page: the rest lands,
and the item goes to the quarantine table (db/quarantine.py) with its error and raw payload; the
status line counts them (`x: synced 12s ago · 2 quarantined`).
Store errors are not the network's fault: they propagate to the caller.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from console.clock import Clock
from db.accounts import Account, save_cursor
from db.quarantine import BadItem, quarantine, quarantine_count
from db.store import Store

from .adapter import (
    AuthRejected,
    BadPayload,
    FetchAdapter,
    MonthlyCapReached,
    RateLimited,
    reason,
)
from .status import AccountStatus, SyncState, describe

log = logging.getLogger(__name__)

INTERVAL: Final = 60.0  # between successful fetches
FETCH_TIMEOUT: Final = 60.0
BASE_DELAY: Final = 15.0  # first retry after an error (before jitter)
MAX_DELAY: Final = 900.0
CAP_RETRY: Final = 3600.0  # monthly cap with no date given: look again in an hour
MAX_PAGES: Final = 10  # pages per run_once; more waiting -> next run is due at once
RATE_JITTER: Final = 5.0


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What one run_once did: ids of the mentions actually inserted (for one UI message)."""

    new_ids: Sequence[int] = ()
    fetched: int = 0
    rejected: int = 0  # items of a page the adapter could not read (the rest landed)
    status: AccountStatus | None = None
    errors: Sequence[str] = field(default_factory=tuple)


class SyncWorker:
    def __init__(
        self,
        store: Store,
        adapter: FetchAdapter,
        account: Account,
        clock: Clock,
        *,
        rng: random.Random | None = None,
        first_reply_sla: int = 3600,
        interval: float = INTERVAL,
        fetch_timeout: float = FETCH_TIMEOUT,
        base_delay: float = BASE_DELAY,
        max_delay: float = MAX_DELAY,
        max_pages: int = MAX_PAGES,
    ) -> None:
        self._store = store
        self._adapter = adapter
        self._account = account
        self._clock = clock
        self._rng = rng or random.Random()
        self._sla = first_reply_sla
        self._interval = interval
        self._timeout = fetch_timeout
        self._base = base_delay
        self._max = max_delay
        self._max_pages = max_pages
        self._cursor = account.sync_cursor
        self._failures = 0
        self._next: float | None = clock.now()  # due at once
        self._status: AccountStatus | None = None
        self._quarantined = 0  # items of this account in quarantine, read after each run
        self._lock = asyncio.Lock()

    @property
    def account(self) -> Account:
        return self._account

    @property
    def status(self) -> AccountStatus | None:
        """None until the first run."""
        return self._status

    @property
    def cursor(self) -> str | None:
        return self._cursor

    @property
    def quarantined(self) -> int:
        """Items of this account in quarantine, as of the last run."""
        return self._quarantined

    def status_text(self, now: float | None = None) -> str:
        now = self._clock.now() if now is None else now
        return describe(self._account.name, self._status, now, channel=self._account.channel,
                        quarantined=self._quarantined)

    def next_run_at(self) -> float | None:
        """When run_once is due again (epoch seconds; may be in the past: due now). None: not
        until the token is replaced (auth rejected): then call `retry_now()`."""
        return self._next

    def due(self) -> bool:
        return self._next is not None and self._next <= self._clock.now()

    def retry_now(self) -> None:
        """Make the next run due at once (token replaced, agent asked to sync)."""
        self._next = self._clock.now()

    async def run_once(self) -> SyncResult:
        async with self._lock:
            result = await self._run_once()
            # Read back rather than counted here: `comptoir quarantine clear` may have run.
            self._quarantined = await quarantine_count(self._store, self._account.name)
            return result

    async def _run_once(self) -> SyncResult:
        new_ids: list[int] = []
        fetched = rejected = 0
        more = False
        for _page in range(self._max_pages):
            try:
                page = await asyncio.wait_for(self._adapter.fetch_mentions(self._cursor),
                                              self._timeout)
            except Exception as e:
                status = self._failed(e)
                return SyncResult(new_ids, fetched, rejected, status, (reason(e),))
            now = int(self._clock.now())
            new_ids += await self._store.ingest(page.mentions, now=now,
                                                first_reply_sla=self._sla)
            if page.rejected:  # before the cursor moves past them
                await quarantine(self._store, account=self._account.name,
                                 channel=self._account.channel,
                                 items=[BadItem(r.remote_id, r.error, payload_text(r.raw))
                                        for r in page.rejected], now=now)
            fetched += len(page.mentions)
            rejected += len(page.rejected)
            if page.next_cursor != self._cursor:
                await save_cursor(self._store, self._account.name, page.next_cursor)
                self._cursor = page.next_cursor
            more = page.more
            if not more:
                break
        if rejected:
            log.warning("%s: %d item(s) could not be read (quarantined)", self._account.name,
                        rejected)
        now_f = self._clock.now()
        self._failures = 0
        self._next = now_f if more else now_f + self._interval
        self._status = AccountStatus(SyncState.SYNCED, now_f, self._next)
        return SyncResult(new_ids, fetched, rejected, self._status)

    def _failed(self, error: Exception) -> AccountStatus:
        now = self._clock.now()
        why = reason(error) if not isinstance(error, TimeoutError) else "no answer in time"
        if isinstance(error, AuthRejected):
            self._next = None
            state = SyncState.AUTH_REJECTED
        elif isinstance(error, BadPayload):
            self._next = now + self._backoff()
            state = SyncState.UNREADABLE
        elif isinstance(error, RateLimited | MonthlyCapReached):
            until = getattr(error, "until", None)
            if until is None or until <= now:
                until = now + (CAP_RETRY if isinstance(error, MonthlyCapReached)
                               else self._backoff())
            self._next = float(until) + self._rng.uniform(0, RATE_JITTER)
            state = SyncState.RATE_LIMITED
        else:
            if not isinstance(error, TimeoutError | OSError) and not hasattr(error, "retryable"):
                log.warning("%s: fetch failed: %s", self._account.name, type(error).__name__)
            self._next = now + self._backoff()
            state = SyncState.OFFLINE
        same = self._status is not None and self._status.state is state
        since = self._status.since if same and self._status is not None else now
        self._status = AccountStatus(state, since, self._next, why)
        return self._status

    def _backoff(self) -> float:
        self._failures += 1
        delay = min(self._max, self._base * 2 ** (self._failures - 1))
        return delay / 2 + self._rng.uniform(0, delay / 2)


def payload_text(raw: object) -> str:
    """A rejected item as JSON text for the quarantine (db/quarantine.py cuts it at 64 KB)."""
    try:
        return json.dumps(raw, ensure_ascii=False, default=repr)
    except (TypeError, ValueError, RecursionError):  # not from JSON after all: keep its repr
        return repr(raw)
