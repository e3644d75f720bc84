"""The part of the channel adapter interface (console/channels/base.py) the sync engine calls.

The sender and the sync worker only need these methods, so tests can hand them small in-memory
fakes; a real `ChannelAdapter` satisfies both Protocols.
"""

from __future__ import annotations

from typing import Protocol

from console.channels.base import (
    AuthRejected,
    BadPayload,
    ChannelError,
    DuplicateContent,
    FetchResult,
    MonthlyCapReached,
    RateLimited,
    RateState,
    ReplyTarget,
    SentReply,
    TransientError,
)
from db.models import Mention, OutboxItem

__all__ = [
    "AuthRejected",
    "BadPayload",
    "ChannelError",
    "DuplicateContent",
    "FetchAdapter",
    "MonthlyCapReached",
    "RateLimited",
    "SendAdapter",
    "TransientError",
    "reason",
    "target_of",
]


class SendAdapter(Protocol):
    channel: str

    @property
    def rate_state(self) -> RateState: ...

    def new_record_key(self) -> str | None: ...

    async def send_reply(self, item: OutboxItem, in_reply_to: ReplyTarget, *,
                         record_key: str | None = None) -> SentReply: ...

    async def find_existing_reply(self, item: OutboxItem, in_reply_to: ReplyTarget, *,
                                  record_key: str | None = None) -> SentReply | None: ...


class FetchAdapter(Protocol):
    channel: str

    async def fetch_mentions(self, cursor: str | None) -> FetchResult: ...


def target_of(mention: Mention) -> ReplyTarget:
    """What the Store knows of the post a reply answers (adapters fetch what is missing)."""
    return ReplyTarget(
        remote_id=mention.remote_id,
        thread_id=mention.thread_id,
        author_handle=mention.author_handle,
        lang=mention.lang,
    )


def reason(error: BaseException) -> str:
    """One line saying why, for the outbox `error` column and the status line. Outside text:
    shown only through widgets.text / console.untrusted."""
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:500]
