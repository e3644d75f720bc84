"""In-memory channel adapters for the sync engine's tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import keyring.backend
import keyring.errors

from console.channels.base import FetchResult, RateState, ReplyTarget, SentReply
from db.models import NewMention, OutboxItem


@dataclass
class FakeSend:
    channel: str = "mastodon"
    posted: dict[str, str] = field(default_factory=dict)  # idempotency key -> remote id
    calls: list[tuple[str, int]] = field(default_factory=list)  # (method, outbox id)
    errors: list[Exception] = field(default_factory=list)  # raised by the next send_reply
    lookup_errors: list[Exception] = field(default_factory=list)
    on_send: Callable[[OutboxItem], object] | None = None
    rate: RateState = field(default_factory=RateState)
    post_then_fail: bool = False  # the next send posts, then the answer is lost

    @property
    def rate_state(self) -> RateState:
        return self.rate

    def new_record_key(self) -> str | None:
        return None

    async def send_reply(self, item: OutboxItem, in_reply_to: ReplyTarget, *,
                         record_key: str | None = None) -> SentReply:
        self.calls.append(("send", item.id))
        if self.on_send is not None:
            result = self.on_send(item)
            if hasattr(result, "__await__"):
                await result  # type: ignore[misc]
        if self.post_then_fail:
            self.post_then_fail = False
            self.posted[item.idempotency_key] = f"r{len(self.posted) + 1}"
            raise self.errors.pop(0)
        if self.errors:
            raise self.errors.pop(0)
        self.posted[item.idempotency_key] = f"r{len(self.posted) + 1}"
        return SentReply(self.posted[item.idempotency_key])

    async def find_existing_reply(self, item: OutboxItem, in_reply_to: ReplyTarget, *,
                                  record_key: str | None = None) -> SentReply | None:
        self.calls.append(("find", item.id))
        if self.lookup_errors:
            raise self.lookup_errors.pop(0)
        remote = self.posted.get(item.idempotency_key)
        return SentReply(remote) if remote else None


@dataclass
class FakeFetch:
    channel: str = "x"
    pages: list[FetchResult | Exception] = field(default_factory=list)
    cursors: list[str | None] = field(default_factory=list)

    async def fetch_mentions(self, cursor: str | None) -> FetchResult:
        self.cursors.append(cursor)
        page = self.pages.pop(0)
        if isinstance(page, Exception):
            raise page
        return page


def page(mentions: list[NewMention], cursor: str | None, *, more: bool = False) -> FetchResult:
    return FetchResult(mentions, cursor, RateState(), more=more)


class MemoryKeyring(keyring.backend.KeyringBackend):
    """An in-memory keyring backend: tests store and read tokens without an OS keyring."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.data.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.data[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.data:
            raise keyring.errors.PasswordDeleteError("not found")
        del self.data[(service, username)]


class HangingKeyring(keyring.backend.KeyringBackend):
    """Every call blocks until the test releases it (as a locked keyring waits for a password)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def _hang(self) -> None:
        self.entered.set()
        self.release.wait(timeout=60)  # bounded: a failed test never leaves a thread for ever

    def get_password(self, service: str, username: str) -> str | None:
        self._hang()
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self._hang()

    def delete_password(self, service: str, username: str) -> None:
        self._hang()
