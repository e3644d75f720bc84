"""Rows for `comptoir export`: mentions, replies (outbox) and SLA outcomes, in chunks.

A friend module of the Store (its `_read` and `_rows`). Each chunk is one short read under the
Store's lock and the next one starts after the last key seen (keyset pagination), so memory stays
constant at a million rows and a console sharing the Store keeps working between chunks. Rows
written while an export runs may or may not be in it; none is repeated or skipped otherwise.

What is never exported: the outbox's idempotency and record keys and its `error` text (a server's
reason can echo request details), and anything from `accounts` (tokens are never in the database
anyway: they live in the OS keyring). Column names are a contract, listed in the README.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

from db.queries import tags_tuple
from db.store import Store

CHUNK: Final = 2000


@dataclass(frozen=True, slots=True)
class ExportKind:
    name: str
    columns: tuple[str, ...]  # the exported names, in order
    times: frozenset[str]  # columns holding epoch seconds (formatted as ISO 8601 UTC)


MENTIONS: Final = ExportKind(
    "mentions",
    ("id", "channel", "remote_id", "thread_id", "in_reply_to", "customer_id", "author_handle",
     "author_name", "lang", "text", "created_at", "received_at", "status", "priority",
     "assignee", "tags", "sla_policy", "first_reply_due", "replied_at", "resolved_at"),
    frozenset({"created_at", "received_at", "first_reply_due", "replied_at", "resolved_at"}),
)
REPLIES: Final = ExportKind(
    "replies",
    ("id", "mention_id", "channel", "author", "state", "text", "remote_id", "remote_url",
     "attempts", "created_at", "updated_at"),
    frozenset({"created_at", "updated_at"}),
)
SLA: Final = ExportKind(
    "sla",
    ("mention_id", "target", "policy", "started_at", "due_at", "completed_at", "breached_at",
     "met"),
    frozenset({"started_at", "due_at", "completed_at", "breached_at"}),
)
KINDS: Final = {k.name: k for k in (MENTIONS, REPLIES, SLA)}

# Mentions in time order on mentions_created. SQLite cannot seek a row value that ends in the
# rowid, so "(created_at, id) > (t, i)" is split into two arms, as the queue does (db/queries.py).
_MENTION_SELECT = (
    "SELECT id, channel, remote_id, thread_id, in_reply_to, customer_id, author_handle, "
    "author_name, lang, text, created_at, received_at, status, priority, assignee, tags, "
    "sla_policy, first_reply_due, replied_at, resolved_at FROM mentions "
)
_MENTIONS_FIRST = (
    _MENTION_SELECT + "WHERE created_at >= ? AND created_at < ? ORDER BY created_at, id LIMIT ?"
)
_MENTIONS_NEXT = (
    f"SELECT * FROM ({_MENTION_SELECT}WHERE created_at = ? AND id > ? AND created_at < ? "
    "ORDER BY id LIMIT ?) "
    f"UNION ALL SELECT * FROM ({_MENTION_SELECT}WHERE created_at > ? AND created_at < ? "
    "ORDER BY created_at, id LIMIT ?) ORDER BY 11, 1 LIMIT ?"
)
# Replies and outcomes in key order (replies: queued order, which is time order).
_REPLIES = (
    "SELECT id, mention_id, channel, author, state, text, remote_id, remote_url, attempts, "
    "created_at, updated_at FROM outbox WHERE id > ? AND created_at >= ? AND created_at < ? "
    "ORDER BY id LIMIT ?"
)
_SLA_OUTCOMES = (
    "SELECT mention_id, target, policy, started_at, due_at, completed_at, breached_at, "
    "completed_at IS NOT NULL AND breached_at IS NULL FROM sla_outcomes "
    "WHERE (mention_id, target) > (?, ?) AND started_at >= ? AND started_at < ? "
    "ORDER BY mention_id, target LIMIT ?"
)


def _fix(kind: ExportKind, row: Sequence[Any]) -> tuple[Any, ...]:
    out = list(row)
    if kind is MENTIONS:
        out[kind.columns.index("tags")] = list(tags_tuple(out[kind.columns.index("tags")]))
    elif kind is SLA:
        out[-1] = bool(out[-1])
    return tuple(out)


async def chunks(store: Store, kind: ExportKind, since: int, until: int, *,
                 size: int = CHUNK) -> AsyncIterator[list[tuple[Any, ...]]]:
    """Rows of `kind` whose time (created_at, or started_at for SLA) is in [since, until),
    `size` at a time. Mention tags come as a list, `met` as a bool, times as epoch seconds."""
    key: tuple[Any, ...] | None = None
    while True:
        async with store._read():
            if kind is MENTIONS:
                if key is None:
                    rows = await store._rows(_MENTIONS_FIRST, (since, until, size))
                else:
                    rows = await store._rows(_MENTIONS_NEXT, (*key, until, size, key[0], until,
                                                              size, size))
            elif kind is REPLIES:
                rows = await store._rows(_REPLIES, (key[0] if key else 0, since, until, size))
            else:
                start = key if key is not None else (-(2**62), "")
                rows = await store._rows(_SLA_OUTCOMES, (*start, since, until, size))
        if not rows:
            return
        last = rows[-1]
        key = (last[10], last[0]) if kind is MENTIONS else (
            (last[0],) if kind is REPLIES else (last[0], last[1]))
        yield [_fix(kind, r) for r in rows]
        if len(rows) < size:
            return
