"""Channel accounts: which X, Mastodon and Bluesky accounts Comptoir syncs, and their cursors.

The ``accounts`` table (db/schema.py, v1) holds the account's channel, name, handle, instance URL
and sync cursor. It never holds a secret: tokens live in the OS keyring (console/secrets.py),
keyed by the account's name.

A friend module of the Store: these functions live in the db package and use the Store's
private plumbing (``store._read()``, ``store._write()``, ``store._conn``, ``store._rows()``,
``store._event()``) so that they share its connection, its lock and its transaction rules
(``BEGIN IMMEDIATE``, errors translated to one-line StoreErrors) instead of opening a second
connection. They are kept out of db/store.py only to keep that file about mentions and replies;
if the Store's plumbing changes, this module changes with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from db.errors import NotFound, StoreError
from db.models import CHANNELS
from db.store import SYSTEM_ACTOR, Store
from db.text import storable, storable_optional

# Names end up in environment variable names (COMPTOIR_TOKEN_<NAME>) and on command lines.
NAME_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
DEFAULT_INSTANCE: Final = {"bluesky": "https://bsky.social"}
_COLS: Final = "id, channel, name, handle, instance_url, sync_cursor, created_at"


class AccountError(StoreError):
    """An account that cannot be added as asked (bad name, taken name, bad instance URL)."""


def one_per_channel(channel: str, existing: str) -> str:
    """Why a second account of a channel is refused (and what to do), in one line.

    Mentions and outbox rows know their channel, not the account that fetched them: with two X
    accounts a reply could go out from the wrong one. So Comptoir syncs one account per channel."""
    return (f"a {channel} account exists already ({existing!r}): Comptoir syncs one account per "
            f"channel; remove it first with: comptoir account remove {existing}")


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    channel: str
    name: str
    handle: str
    instance_url: str | None
    sync_cursor: str | None
    created_at: int


def _account(r: Any) -> Account:
    return Account(*r)


def check_name(name: str) -> str:
    if not NAME_RE.fullmatch(name):
        raise AccountError(
            f"account name {name!r} is not allowed: use 1 to 64 letters, digits, '.', '_' or "
            "'-', starting with a letter or digit"
        )
    return name


def check_instance(channel: str, instance_url: str | None) -> str | None:
    """The instance URL to store: required for Mastodon, defaulted for Bluesky, none for X."""
    if channel not in CHANNELS:
        raise AccountError(f"unknown channel {channel!r}: expected one of {', '.join(CHANNELS)}")
    if instance_url is None:
        if channel == "mastodon":
            raise AccountError("a Mastodon account needs its instance: --instance "
                               "https://mastodon.example")
        return DEFAULT_INSTANCE.get(channel)
    if channel == "x":
        raise AccountError("an X account has no instance URL")
    parts = urlsplit(instance_url.strip())
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        raise AccountError(f"instance URL {instance_url!r} must be https://host (no credentials)")
    if parts.query or parts.fragment or parts.path not in ("", "/"):
        raise AccountError(f"instance URL {instance_url!r} must be just https://host")
    return f"https://{parts.netloc.lower()}"


async def add_account(
    store: Store, *, channel: str, name: str, handle: str, now: int,
    instance_url: str | None = None, actor: str = SYSTEM_ACTOR,
) -> Account:
    """Record an account (no secret: store its token with console.secrets.set_token)."""
    check_name(name)
    instance = check_instance(channel, instance_url)
    handle = storable(handle.strip())
    if not handle:
        raise AccountError("an account needs a handle")
    async with store._write():
        taken = await store._rows("SELECT 1 FROM accounts WHERE name = ?", (name,))
        if taken:
            raise AccountError(f"an account named {name!r} exists already (remove it first)")
        same = await store._rows("SELECT name FROM accounts WHERE channel = ? ORDER BY name",
                                 (channel,))
        if same:
            raise AccountError(one_per_channel(channel, same[0][0]))
        cur = await store._conn.execute(
            "INSERT INTO accounts (channel, name, handle, instance_url, sync_cursor, created_at) "
            "VALUES (?, ?, ?, ?, NULL, ?)",
            (channel, name, handle, instance, now),
        )
        account_id = cur.lastrowid
        assert account_id is not None
        await store._event(None, actor, "account", f"added {name} ({channel})", now)
    return Account(account_id, channel, name, handle, instance, None, now)


async def list_accounts(store: Store, *, channel: str | None = None) -> list[Account]:
    sql = f"SELECT {_COLS} FROM accounts"
    params: tuple[Any, ...] = ()
    if channel is not None:
        sql += " WHERE channel = ?"
        params = (channel,)
    async with store._read():
        rows = await store._rows(sql + " ORDER BY name", params)
    return [_account(r) for r in rows]


async def get_account(store: Store, name: str) -> Account | None:
    async with store._read():
        rows = await store._rows(f"SELECT {_COLS} FROM accounts WHERE name = ?", (name,))
    return _account(rows[0]) if rows else None


async def remove_account(store: Store, name: str, *, now: int,
                         actor: str = SYSTEM_ACTOR) -> bool:
    """Forget an account; False if there was none. Its token is removed separately
    (console.secrets.delete_token); mentions and replies already stored are kept."""
    async with store._write():
        rows = await store._rows("DELETE FROM accounts WHERE name = ? RETURNING channel",
                                 (name,))
        if rows:
            await store._event(None, actor, "account", f"removed {name} ({rows[0][0]})", now)
    return bool(rows)


async def save_cursor(store: Store, name: str, cursor: str | None) -> None:
    """Where the next fetch of this account starts (an opaque string from its adapter).

    Saved after the batch it follows has been ingested (a separate transaction): a crash in
    between fetches that batch again, and ingest skips the rows it already holds."""
    cursor = storable_optional(cursor)
    async with store._write():
        rows = await store._rows(
            "UPDATE accounts SET sync_cursor = ? WHERE name = ? RETURNING id", (cursor, name)
        )
    if not rows:
        raise NotFound(f"account {name!r} not found")
