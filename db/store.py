"""The Store: every SQL statement of Comptoir lives behind these methods.

CONTRACT STUB: signatures are fixed; the implementation is being written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from db.models import (
    CustomerCard,
    Draft,
    Event,
    HistoryItem,
    Mention,
    NewCustomer,
    NewMention,
    Note,
    OutboxItem,
    OutboxState,
    QueueCounts,
    QueueFilter,
    QueueKey,
    QueueRow,
    Status,
    Template,
)


class Store:
    @classmethod
    async def open(cls, path: str | Path, *, create: bool = True) -> Store:
        """Open (creating if allowed) and migrate. Raises NotADatabase, NewerSchema, Unwritable,
        DatabaseLocked with a one-line message naming the file; never modifies a file it rejects."""
        raise NotImplementedError

    async def close(self) -> None: ...

    @property
    def path(self) -> Path: ...

    # --- queue -------------------------------------------------------------------------------
    async def queue_window(
        self,
        flt: QueueFilter,
        *,
        after: QueueKey | None = None,
        before: QueueKey | None = None,
        limit: int = 50,
    ) -> list[QueueRow]:
        """Rows in queue order (sort_due, id) strictly after `after` (or from the start), or, with
        `before`, the `limit` rows just before it, still returned in ascending order. With neither,
        the first rows. `from_end=True`-like behaviour: `before=QueueKey(NO_DUE + 1, 0)` gives
        the last page. Keyset pagination on an index: cost independent of queue size."""
        raise NotImplementedError

    async def queue_row(self, mention_id: int) -> QueueRow | None: ...
    async def counts(self) -> QueueCounts: ...
    async def breached_count(self, now: int) -> int: ...
    async def mention(self, mention_id: int) -> Mention | None: ...
    async def thread(self, mention_id: int) -> list[Mention]: ...
    async def customer_card(self, customer_id: int) -> CustomerCard | None: ...
    async def customer_history(self, customer_id: int, *, limit: int = 50) -> list[HistoryItem]: ...

    # --- agent actions (each appends an Event) -------------------------------------------------
    async def set_status(
        self, mention_id: int, status: Status, *, actor: str, now: int,
        snooze_until: int | None = None,
    ) -> Mention: ...
    async def assign(self, mention_id: int, assignee: str | None, *, actor: str, now: int) -> Mention: ...
    async def set_tags(self, mention_id: int, tags: Sequence[str], *, actor: str, now: int) -> Mention: ...
    async def add_note(self, mention_id: int, text: str, *, author: str, now: int) -> Note: ...
    async def wake_snoozed(self, now: int) -> list[int]: ...
    async def events(self, mention_id: int) -> list[Event]: ...

    # --- drafts and outbox -----------------------------------------------------------------------
    async def save_draft(self, mention_id: int, text: str, template_id: int | None, *, now: int) -> None: ...
    async def draft(self, mention_id: int) -> Draft | None: ...
    async def queue_reply(self, mention_id: int, text: str, *, author: str, now: int) -> OutboxItem: ...
    async def outbox_for_mention(self, mention_id: int) -> list[OutboxItem]: ...
    async def outbox_in_state(self, state: OutboxState, *, limit: int = 100) -> list[OutboxItem]: ...
    async def set_outbox_state(
        self, outbox_id: int, state: OutboxState, *, now: int,
        remote_id: str | None = None, error: str | None = None,
    ) -> OutboxItem: ...

    # --- templates -------------------------------------------------------------------------------
    async def templates(self) -> list[Template]: ...
    async def add_template(self, name: str, lang: str, body: str) -> Template: ...

    # --- ingest ----------------------------------------------------------------------------------
    async def ingest(self, mentions: Sequence[NewMention], *, now: int, first_reply_sla: int) -> list[int]: ...
    async def bulk_load(
        self, customers: Iterable[NewCustomer], mentions: Iterable[NewMention], *,
        now: int, first_reply_sla: int,
    ) -> int: ...
