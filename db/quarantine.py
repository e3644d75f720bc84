"""Quarantine: fetched items an adapter could not read, kept with the error instead of lost.

A channel sometimes sends one malformed item in an otherwise good page (a truncated object, a
field of the wrong type). The sync worker lands the rest of the page and records the bad item
here (schema step 5): account, channel, the remote id when it could be read, the parser's error,
and the raw payload (as JSON text, cut at MAX_PAYLOAD_BYTES), so someone can look at it later
(`comptoir quarantine list`) and the status line can say how many there are.

Everything in a row is outside text: it is stored as received (made storable) and shown only
through console.untrusted / widgets.text.

A friend module of the Store, like db/accounts.py: it uses the Store's private plumbing so that
it shares its connection, its lock and its transaction rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from db.store import Store
from db.text import storable, storable_optional

MAX_PAYLOAD_BYTES: Final = 64 * 1024
MAX_ERROR_CHARS: Final = 1_000
_COLS: Final = "id, account, channel, remote_id, error, payload, at"


@dataclass(frozen=True, slots=True)
class BadItem:
    remote_id: str | None
    error: str
    payload: str  # the raw item as JSON text


@dataclass(frozen=True, slots=True)
class QuarantinedItem:
    id: int
    account: str
    channel: str
    remote_id: str | None
    error: str
    payload: str
    at: int


def cut(text: str, limit: int = MAX_PAYLOAD_BYTES) -> str:
    """`text` cut to at most `limit` UTF-8 bytes, never in the middle of a character."""
    text = storable(text)
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", "ignore")


async def quarantine(store: Store, *, account: str, channel: str, items: Sequence[BadItem],
                     now: int) -> int:
    """Record bad items in one transaction; returns how many rows were added. An item already
    quarantined for this account (same remote id and payload: the page was fetched again after
    a crash before its cursor was saved) is not added twice."""
    if not items:
        return 0
    added = 0
    async with store._write():
        for item in items:
            remote_id = storable_optional(item.remote_id)
            payload = cut(item.payload)
            cur = await store._conn.execute(
                "INSERT INTO quarantine (account, channel, remote_id, error, payload, at) "
                "SELECT ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM quarantine "
                "WHERE account = ? AND remote_id IS ? AND payload = ?)",
                (account, channel, remote_id, storable(item.error)[:MAX_ERROR_CHARS], payload,
                 now, account, remote_id, payload),
            )
            added += cur.rowcount
    return added


async def quarantine_count(store: Store, account: str) -> int:
    """How many items of this account are in quarantine (an index-only count: small table,
    index on (account, id))."""
    async with store._read():
        rows = await store._rows("SELECT count(*) FROM quarantine WHERE account = ?",
                                 (account,))
    return int(rows[0][0])


async def quarantined(store: Store, *, account: str | None = None,
                      limit: int = 50) -> list[QuarantinedItem]:
    """The newest quarantined items first (of one account, or of all)."""
    sql = f"SELECT {_COLS} FROM quarantine"
    params: tuple[Any, ...] = ()
    if account is not None:
        sql += " WHERE account = ?"
        params = (account,)
    async with store._read():
        rows = await store._rows(sql + " ORDER BY id DESC LIMIT ?", (*params, limit))
    return [QuarantinedItem(*r) for r in rows]


async def clear_quarantine(store: Store, *, account: str | None = None) -> int:
    """Forget quarantined items (of one account, or all); returns how many were removed."""
    async with store._write():
        if account is None:
            cur = await store._conn.execute("DELETE FROM quarantine")
        else:
            cur = await store._conn.execute("DELETE FROM quarantine WHERE account = ?",
                                            (account,))
    return cur.rowcount
