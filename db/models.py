"""Rows and inputs of the Store, as frozen dataclasses.

Times are integer seconds since the Unix epoch (UTC) everywhere in the data layer: they sort,
compare and index cheaply, and the UI formats them. Nothing here imports Textual.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

CHANNELS: Final = ("x", "mastodon", "bluesky")

# A due time for rows that have no SLA target running (replied, resolved...): they sort last.
NO_DUE: Final = 2**62


class Status(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"


# The statuses an agent still has to act on: the default queue.
ACTIVE_STATUSES: Final = frozenset({Status.NEW, Status.OPEN})


class OutboxState(StrEnum):
    DRAFT = "draft"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class QueueKey:
    """Position of a row in the queue order (next SLA breach first, then id): the keyset."""

    sort_due: int
    id: int


@dataclass(frozen=True, slots=True)
class QueueRow:
    """What one line of the queue list needs, and nothing more (kept small for big windows)."""

    id: int
    channel: str
    author_handle: str
    author_name: str
    excerpt: str
    status: Status
    assignee: str | None
    tags: tuple[str, ...]
    first_reply_due: int | None
    sort_due: int
    priority: int
    created_at: int
    customer_id: int

    @property
    def key(self) -> QueueKey:
        return QueueKey(self.sort_due, self.id)


@dataclass(frozen=True, slots=True)
class Mention:
    id: int
    channel: str
    remote_id: str
    thread_id: str
    in_reply_to: str | None
    customer_id: int
    identity_id: int
    author_handle: str
    author_name: str
    text: str
    lang: str | None
    created_at: int
    received_at: int
    status: Status
    priority: int
    assignee: str | None
    tags: tuple[str, ...]
    first_reply_due: int | None
    replied_at: int | None
    snoozed_until: int | None
    resolved_at: int | None
    # Triage (db/triage.py): the reasons shown to the agent, one per line, and the lane
    # (0 main queue, 1 spam/troll).
    triage_reasons: tuple[str, ...] = ()
    triage_lane: int = 0


@dataclass(frozen=True, slots=True)
class Identity:
    """One customer's account on one channel."""

    id: int
    customer_id: int
    channel: str
    handle: str
    display_name: str
    audience: int
    remote_user_id: str | None


@dataclass(frozen=True, slots=True)
class Customer:
    id: int
    display_name: str
    first_name: str
    audience: int
    tags: tuple[str, ...]
    created_at: int


@dataclass(frozen=True, slots=True)
class Note:
    id: int
    customer_id: int
    mention_id: int | None
    author: str
    text: str
    created_at: int


@dataclass(frozen=True, slots=True)
class CustomerCard:
    customer: Customer
    identities: tuple[Identity, ...]
    notes: tuple[Note, ...]


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """A past mention by the customer or a reply to them, on any channel, for the history view."""

    kind: str  # "mention" | "reply"
    id: int  # mention id or outbox id
    mention_id: int
    channel: str
    text: str
    at: int
    state: str  # mention status or outbox state
    author: str  # customer handle for mentions, agent for replies


@dataclass(frozen=True, slots=True)
class Template:
    id: int
    name: str
    lang: str  # "fr" | "en"
    body: str


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    mention_id: int
    channel: str
    text: str
    state: OutboxState
    author: str
    remote_id: str | None
    error: str | None
    idempotency_key: str
    attempts: int
    created_at: int
    updated_at: int
    # Chosen and stored before the first attempt (Bluesky record key): a retry after a crash
    # asks the channel for that exact record. None for channels that need no key.
    remote_key: str | None = None
    remote_url: str | None = None  # public link of the sent reply (outside text: show untrusted)


@dataclass(frozen=True, slots=True)
class Draft:
    mention_id: int
    text: str
    template_id: int | None
    updated_at: int


@dataclass(frozen=True, slots=True)
class Event:
    """One line of the append-only log of agent actions."""

    id: int
    mention_id: int | None
    actor: str
    action: str
    detail: str
    at: int


@dataclass(frozen=True, slots=True)
class NewIdentity:
    channel: str
    handle: str
    display_name: str
    audience: int = 0
    remote_user_id: str | None = None


@dataclass(frozen=True, slots=True)
class NewCustomer:
    """A customer with all their channel identities (for seeding and demo data)."""

    display_name: str
    first_name: str
    identities: tuple[NewIdentity, ...]
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NewMention:
    """A mention to write: from a channel (ingest) or from a generator (bulk load).

    The author is matched to an identity by (channel, author_handle); an unknown author gets a
    new customer. `first_reply_due` of None means "created_at + the default first-reply SLA".
    `reply_text` records a reply already sent (history in demo data) as a `sent` outbox row.
    """

    channel: str
    remote_id: str
    author_handle: str
    author_name: str
    text: str
    created_at: int
    thread_id: str | None = None  # None: the mention starts its own thread (its remote_id)
    in_reply_to: str | None = None
    author_audience: int = 0
    author_remote_id: str | None = None
    lang: str | None = None
    received_at: int | None = None  # None: same as created_at
    status: Status = Status.NEW
    priority: int = 0
    assignee: str | None = None
    tags: tuple[str, ...] = ()
    first_reply_due: int | None = None
    replied_at: int | None = None
    resolved_at: int | None = None
    snoozed_until: int | None = None
    reply_text: str | None = None
    reply_author: str | None = None
    # What the channel says about the author, when it says it (triage signals): when their
    # account was created (epoch seconds) and whether the network verified it.
    author_created_at: int | None = None
    author_verified: bool | None = None


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """Which mentions the queue shows.

    `status` is a Status value, "active" (new and open) or "all"."""

    status: str = "active"
    channel: str | None = None
    assignee: str | None = None
    tag: str | None = None
    search: str | None = None  # full-text query (FTS5), matched on text and author names
    # Triage lane: "main" (the queue without spam and trolls), "spam" or "all".
    triage: str = "main"

    def describe(self) -> str:
        parts = ["queue" if self.status == "active" else self.status]
        if self.triage != "main":
            parts.insert(0, self.triage)
        if self.channel:
            parts.append(f"channel={self.channel}")
        if self.assignee:
            parts.append(f"assignee={self.assignee}")
        if self.tag:
            parts.append(f"tag={self.tag}")
        if self.search:
            parts.append(f"search={self.search!r}")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class QueueCounts:
    """Maintained counters (never COUNT(*) over the mentions table)."""

    by_status: Mapping[str, int] = field(default_factory=dict)
    by_channel: Mapping[str, int] = field(default_factory=dict)
    by_channel_status: Mapping[tuple[str, str], int] = field(default_factory=dict)
    # Rows of the spam/troll lane by status (from triage_counters): included in the above.
    spam_by_status: Mapping[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def active(self) -> int:
        return sum(self.by_status.get(s, 0) for s in ACTIVE_STATUSES)

    @property
    def spam_active(self) -> int:
        return sum(self.spam_by_status.get(s, 0) for s in ACTIVE_STATUSES)

    @property
    def main_active(self) -> int:
        """The main queue's "to do": active mentions outside the spam lane."""
        return self.active - self.spam_active


@dataclass(frozen=True, slots=True)
class MentionActions:
    """Changes applied to a mention together (a template's actions, applied on send).

    None (or empty) leaves that part alone. `snooze_seconds` snoozes from the time of applying;
    `status` and `snooze_seconds` are exclusive (a snooze is a status)."""

    add_tags: tuple[str, ...] = ()
    status: Status | None = None
    priority: int | None = None
    snooze_seconds: int | None = None

    def __bool__(self) -> bool:
        return bool(self.add_tags) or self.status is not None or self.priority is not None \
            or self.snooze_seconds is not None
