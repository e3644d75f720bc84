"""What the open console runs in the background: every account's sync worker and the outbox
sender, stepped together, with one line of status per account for the status bar.

No Textual here: the main screen calls `step()` from a worker and decides when to call again
from `next_due()`, so tests drive it with a frozen clock and fake adapters.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

from console.clock import Clock
from console.sync.outbox_sender import OutboxSender
from console.sync.sync_worker import SyncWorker
from db.store import Store

if TYPE_CHECKING:
    from console.listening import ListeningWorker
    from console.listening_config import ListeningConfig

log = logging.getLogger(__name__)

# However far away the next due run is, look again this often (a token re-added, the clock).
MAX_IDLE = 5.0
# Sync is "stale" for SLA purposes once the freshest account has not synced for this long:
# countdowns then carry a marker instead of pretending the queue is complete.
STALE_AFTER = 300.0


@dataclass(frozen=True, slots=True)
class DeskSyncResult:
    new_ids: tuple[int, ...] = ()
    outbox_changed: bool = False
    new_watch_ids: tuple[int, ...] = ()  # listening results (console/listening.py)


class DeskSync:
    def __init__(
        self,
        workers: Sequence[SyncWorker],
        sender: OutboxSender | None,
        clock: Clock,
        *,
        problems: Sequence[str] = (),
        listening: ListeningWorker | None = None,
    ) -> None:
        self.workers = tuple(workers)
        self.listening = listening
        self._listening_errors: tuple[str, ...] = ()
        self.sender = sender
        self.clock = clock
        # Accounts that could not start (no token, no keyring): shown, never retried blindly.
        self.problems = tuple(problems)

    async def step(self) -> DeskSyncResult:
        """Run what is due: each account's fetch, then the outbox. Network failures are the
        workers' business (they record a status and back off); a store error propagates."""
        new_ids: list[int] = []
        for worker in self.workers:
            if worker.due():
                result = await worker.run_once()
                new_ids.extend(result.new_ids)
        outbox_changed = False
        if self.sender is not None:
            due = self.sender.next_run_at()
            if due is None or due <= self.clock.now():
                report = await self.sender.run_once()
                outbox_changed = bool(
                    report.sent or report.failed or report.unknown or report.requeued
                    or report.verified
                )
        watch_ids: tuple[int, ...] = ()
        if self.listening is not None and self.listening.due():
            heard = await self.listening.run_once()
            watch_ids = heard.new_ids
            self._listening_errors = heard.errors
        return DeskSyncResult(tuple(new_ids), outbox_changed, watch_ids)

    def next_due(self) -> float:
        now = self.clock.now()
        candidates = [now + MAX_IDLE]
        candidates += [t for w in self.workers if (t := w.next_run_at()) is not None]
        if self.sender is not None and (t := self.sender.next_run_at()) is not None:
            candidates.append(t)
        if self.listening is not None and (t := self.listening.next_run_at()) is not None:
            candidates.append(t)
        return max(now, min(candidates))

    def status_lines(self) -> tuple[str, ...]:
        now = self.clock.now()
        lines = [worker.status_text(now) for worker in self.workers]
        if self.sender is not None:
            lines += [f"{channel}: sending held, {why}" for channel, why in
                      self.sender.held().items()]
        return (*lines, *self._listening_errors, *self.problems)

    def stale(self) -> bool:
        """True when no account has synced recently (or none ever did): the local queue may
        be missing mentions, so SLA countdowns should say so."""
        if not self.workers:
            return False
        now = self.clock.now()
        freshest = max(
            (w.status.since for w in self.workers
             if w.status is not None and w.status.state == "synced"),
            default=None,
        )
        return freshest is None or now - freshest > STALE_AFTER


async def desk_sync_for_accounts(
    store: Store, clock: Clock, client: httpx.AsyncClient, *, first_reply_sla: int,
    listening: ListeningConfig | None = None,
) -> DeskSync | None:
    """The sync of every account in the database, for the open console (None: no account).

    An account whose token cannot be read (missing, keyring unusable or hanging) is shown in the
    status line with what to do; the others start anyway.
    """
    from console.accounts_cli import adapter_for, first_per_channel
    from console.logging_setup import register_secret
    from console.secrets import SecretsError, get_token
    from db.accounts import AccountError, list_accounts

    accounts, problems = first_per_channel(await list_accounts(store))
    if not accounts:
        return None
    workers: list[SyncWorker] = []
    adapters: dict[str, object] = {}
    for account in accounts:
        try:
            token = await get_token(account.name)
            register_secret(token)
            adapter = adapter_for(account, token, client, clock)
        except (SecretsError, AccountError, ValueError) as error:
            first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
            problems.append(f"{account.name}: not syncing ({first_line})")
            continue
        workers.append(SyncWorker(store, adapter, account, clock,
                                  first_reply_sla=first_reply_sla))
        adapters[account.channel] = adapter  # one account (so one sender) per channel
    sender = OutboxSender(store, adapters, clock) if adapters else None  # type: ignore[arg-type]
    heard = None
    if listening is not None and not listening.empty and adapters:
        from console.listening import ListeningWorker

        heard = ListeningWorker(store, list(adapters.values()), listening, clock)
    return DeskSync(workers, sender, clock, problems=problems, listening=heard)
