"""`comptoir account add|list|remove` and `comptoir sync --once`, and the adapter for an account.

`adapter_for(account, token, client, clock)` builds the channel adapter of one `accounts` row and
its token; the App reuses it for its own sync loop. The HTTP client comes from
`console.channels.base.make_client` (looked up when called, so tests can replace it with an
`httpx.MockTransport` client and no network is used).

Tokens are read with getpass (never from the command line, where `ps` and shell history would
keep them); when stdin is not a terminal one line is read from it, so scripts can pipe a token in.
They go to the keyring (console.secrets) and nowhere else; `account list` says where each token
comes from (keyring, env, missing) and never shows one.

X accounts need their numeric user id (the mentions timeline is `/2/users/:id/mentions`) and the
`accounts` table has no column for it: it is kept in the account's sync cursor, under the key
`uid`, next to the X adapter's own cursor fields (`_XAccountAdapter` strips it before the adapter
sees the cursor and puts it back in every cursor the adapter returns).

No Textual import: this module is shared by the command line and the App.
"""

from __future__ import annotations

import dataclasses
import getpass
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Final, TextIO

import httpx

from console.channels import base
from console.channels.base import ChannelAdapter, FetchResult, decode_cursor, encode_cursor
from console.channels.bluesky import BlueskyAdapter, Session
from console.channels.mastodon import MastodonAdapter
from console.channels.x import XAdapter
from console.clock import Clock, SystemClock
from console.config import Config
from console.logging_setup import register_secret
from console.secrets import (
    SecretsError,
    SecretsUnavailable,
    TokenMissing,
    backend_name,
    delete_token,
    env_var,
    get_token,
    set_token,
)
from db.accounts import (
    Account,
    AccountError,
    add_account,
    check_instance,
    check_name,
    get_account,
    list_accounts,
    one_per_channel,
    remove_account,
    save_cursor,
)
from db.store import Store

ADAPTER_CHANNELS: Final = ("x", "mastodon", "bluesky")
X_USER_KEY: Final = "uid"
EXIT_ERROR: Final = 2
NOT_SYNCED: Final = 1
ADD_HINT: Final = "comptoir account add x|mastodon|bluesky"


# --- adapters ------------------------------------------------------------------------------------
class _XAccountAdapter(XAdapter):
    """An XAdapter whose cursor also carries the account's user id (see the module docstring)."""

    async def fetch_mentions(self, cursor: str | None) -> FetchResult:
        state = decode_cursor(cursor)
        state.pop(X_USER_KEY, None)
        result = await super().fetch_mentions(encode_cursor(state) if state else None)
        mine = decode_cursor(result.next_cursor)
        mine[X_USER_KEY] = self._user_id
        return dataclasses.replace(result, next_cursor=encode_cursor(mine))


def x_user_id(account: Account) -> str | None:
    """The numeric user id kept in an X account's cursor (None: not recorded)."""
    return decode_cursor(account.sync_cursor).get(X_USER_KEY)


def x_cursor(user_id: str) -> str:
    """The first cursor of a new X account: only its user id."""
    return encode_cursor({X_USER_KEY: user_id})


def adapter_for(account: Account, token: str, client: httpx.AsyncClient,
                clock: Clock) -> ChannelAdapter:
    """The channel adapter for one account row and its token (AccountError if the row lacks
    what its channel needs)."""
    if account.channel == "x":
        user_id = x_user_id(account)
        if not user_id:
            raise AccountError(f"X account {account.name!r} has no user id: remove it and add it "
                               "again with --user-id")
        return _XAccountAdapter(client, clock, user_id=user_id, access_token=token,
                                handle=account.handle)
    if account.channel == "mastodon":
        if not account.instance_url:
            raise AccountError(f"Mastodon account {account.name!r} has no instance URL")
        return MastodonAdapter(client, clock, instance_url=account.instance_url,
                               access_token=token)
    if account.channel == "bluesky":
        # The session's access and refresh JWTs stay in this adapter's memory only (a restart
        # logs in again with the app password from the keyring); they are registered for
        # redaction so no log line or crash report can carry them.
        return BlueskyAdapter(client, clock, identifier=account.handle.lstrip("@"),
                              password=token, on_session=_redact_session,
                              service_url=account.instance_url or "https://bsky.social")
    raise AccountError(f"account {account.name!r}: no adapter for channel {account.channel!r}")


def first_per_channel(accounts: list[Account]) -> tuple[list[Account], list[str]]:
    """The accounts to sync (the first by name of each channel) and a line for each other one.

    `account add` refuses a second account of a channel; a database that holds one anyway (added
    by an older version, or by hand) syncs the first and says why the other is left out."""
    kept: dict[str, Account] = {}
    problems: list[str] = []
    for account in sorted(accounts, key=lambda a: a.name):
        first = kept.setdefault(account.channel, account)
        if first is not account:
            problems.append(f"{account.name}: not syncing (one {account.channel} account per "
                            f"desk, {first.name} is synced; comptoir account remove "
                            f"{account.name})")
    return list(kept.values()), problems


def _redact_session(session: Session) -> None:
    register_secret(session.access_jwt)
    register_secret(session.refresh_jwt)


def make_client() -> httpx.AsyncClient:
    """The shared HTTP client (through the module attribute, so tests can replace it)."""
    return base.make_client()


# --- small helpers -------------------------------------------------------------------------------
def _err(message: str) -> int:
    print(f"comptoir: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def _warn(message: str) -> None:
    print(f"comptoir: warning: {message}", file=sys.stderr)


def _printable(text: str | None) -> str:
    """Stored text on a terminal: no control characters (escape sequences)."""
    if not text:
        return "-"
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def read_token(prompt: str, stdin: TextIO | None = None) -> str:
    """The token, typed without echo (getpass) on a terminal, else the first line of stdin."""
    stream = sys.stdin if stdin is None else stdin
    if stream is not None and stream.isatty():
        return getpass.getpass(prompt)
    line = stream.readline() if stream is not None else ""
    return line.rstrip("\r\n")


def _from_env(name: str, environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return bool(env.get(env_var(name)))


# --- account add / list / remove ------------------------------------------------------------------
async def run_account_add(path: Path, *, channel: str, name: str | None, handle: str | None,
                          instance: str | None, user_id: str | None, clock: Clock) -> int:
    name = check_name(name or channel)
    instance_url = check_instance(channel, instance)
    if not handle or not handle.strip():
        return _err("--handle is needed: the account's own handle (e.g. @brand, "
                    "@brand@instance.social or brand.bsky.social)")
    if channel == "x":
        if not user_id or not user_id.isdigit():
            return _err("an X account needs its numeric user id: --user-id 1234567890 (the "
                        "mentions timeline is read by id)")
    elif user_id is not None:
        return _err("--user-id is only for X accounts")
    # The keyring first: when it cannot be used nothing is asked, and no file is created.
    try:
        await backend_name(account=name)
        keyring_ok = True
    except SecretsUnavailable as error:
        if not _from_env(name):
            return _err(str(error))
        keyring_ok = False
    store = await Store.open(path)
    try:
        if await get_account(store, name) is not None:
            return _err(f"an account named {name!r} exists already (remove it first: "
                        f"comptoir account remove {name})")
        # Before the token is asked for: nothing typed for an account that cannot be added.
        same = await list_accounts(store, channel=channel)
        if same:
            return _err(one_per_channel(channel, same[0].name))
        stored = False
        if keyring_ok:
            what = "app password" if channel == "bluesky" else "access token"
            token = read_token(f"{what.capitalize()} for {name} (not shown): ").strip()
            if not token:
                return _err(f"no {what} given; nothing was stored")
            register_secret(token)
            try:
                await set_token(name, token)
            except SecretsError as error:  # a keyring that hangs or refuses when writing
                return _err(str(error))
            stored = True
            note = "token stored in the keyring"
        else:
            note = (f"the keyring is unavailable, so no token was stored; it is read from "
                    f"{env_var(name)}")
        try:
            account = await add_account(store, channel=channel, name=name, handle=handle,
                                        instance_url=instance_url, now=int(clock.now()))
            if channel == "x" and user_id:
                await save_cursor(store, name, x_cursor(user_id))
        except BaseException:
            if stored:
                try:
                    await delete_token(name)
                except SecretsError:
                    _warn(f"the token stored for {name!r} could not be removed from the keyring")
            raise
    finally:
        await store.close()
    where = f" on {account.instance_url}" if account.instance_url else ""
    print(f"Added {channel} account {name} ({_printable(account.handle)}{where}); {note}")
    return 0


async def token_source(name: str) -> tuple[str, SecretsUnavailable | None]:
    """Where the account's token would come from: env, keyring or missing (never the token)."""
    if _from_env(name):
        return "env", None
    try:
        await get_token(name, environ={})
    except TokenMissing:
        return "missing", None
    except SecretsUnavailable as error:
        return "missing (keyring unavailable)", error
    return "keyring", None


async def run_account_list(path: Path) -> int:
    accounts: list[Account] = []
    if path.exists():
        store = await Store.open(path, create=False)
        try:
            accounts = await list_accounts(store)
        finally:
            await store.close()
    if not accounts:
        print(f"No accounts (add one with: {ADD_HINT})")
        return 0
    rows = [("NAME", "CHANNEL", "HANDLE", "INSTANCE", "TOKEN")]
    problem: SecretsUnavailable | None = None
    for account in accounts:
        source, error = await token_source(account.name)
        problem = problem or error
        rows.append((account.name, account.channel, _printable(account.handle),
                     _printable(account.instance_url), source))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
              + "  " + row[-1])
    if problem is not None:
        _warn(str(problem))
    return 0


async def run_account_remove(path: Path, name: str, *, clock: Clock) -> int:
    if not path.exists():
        return _err(f"no account named {name!r}")
    store = await Store.open(path, create=False)
    try:
        removed = await remove_account(store, name, now=int(clock.now()))
    finally:
        await store.close()
    if not removed:
        return _err(f"no account named {name!r}")
    try:
        had_token = await delete_token(name)
    except SecretsUnavailable as error:
        _warn(f"the account is removed but its token could not be removed: {error}")
        had_token = False
    token = "its token was removed from the keyring" if had_token else "no token was stored"
    print(f"Removed account {name}; {token}; mentions and replies already stored are kept")
    if _from_env(name):
        _warn(f"{env_var(name)} is still set in this environment")
    return 0


# --- sync --once ---------------------------------------------------------------------------------
def outbox_lines(report: object, skipped: Mapping[str, str]) -> list[str]:
    """The outbox report of `OutboxSender.run_once` as lines for the terminal."""
    from console.sync.outbox_sender import SendReport

    assert isinstance(report, SendReport)
    counts = {"sent": report.sent, "already sent": report.verified, "failed": report.failed,
              "unknown": report.unknown, "requeued": report.requeued}
    done = ", ".join(f"{n} {what}" for what, n in counts.items() if n)
    lines = [f"outbox: {done}" if done else "outbox: nothing sent"]
    for channel, why in sorted(report.held.items()):
        lines.append(f"outbox: {channel} replies held ({_printable(skipped.get(channel, why))})")
    return lines


async def run_sync_once(path: Path, config: Config, *, clock: Clock | None = None) -> int:
    """One fetch per account, then one outbox pass; 1 if any account did not sync."""
    from console.sync.outbox_sender import OutboxSender
    from console.sync.status import SyncState
    from console.sync.sync_worker import SyncWorker

    clock = clock or SystemClock()
    if not path.exists():
        print(f"No accounts to sync (add one with: {ADD_HINT})")
        return 0
    store = await Store.open(path, create=False)
    try:
        from console.equip import equip_store

        equip_store(store, config)  # fetched mentions: triage, SLA, crisis topics
        accounts, extra = first_per_channel(await list_accounts(store))
        if not accounts:
            print(f"No accounts to sync (add one with: {ADD_HINT})")
            return 0
        for line in extra:
            print(_printable(line))
        sla = config.sla.first_reply_minutes * 60
        senders: dict[str, ChannelAdapter] = {}
        skipped: dict[str, str] = {}
        all_synced = not extra  # an account left out did not sync
        async with make_client() as client:
            for account in accounts:
                try:
                    token = await get_token(account.name)
                    register_secret(token)
                    adapter = adapter_for(account, token, client, clock)
                except (SecretsError, AccountError, ValueError) as error:
                    print(f"{account.name}: not synced ({_printable(str(error))})")
                    all_synced = False
                    skipped.setdefault(account.channel, f"account {account.name} not synced")
                    continue
                worker = SyncWorker(store, adapter, account, clock, first_reply_sla=sla)
                result = await worker.run_once()
                line = _printable(worker.status_text())
                if result.status is not None and result.status.state is SyncState.SYNCED:
                    line += f" ({len(result.new_ids)} new)"
                    if result.rejected:
                        line += (f", {result.rejected} unreadable item(s) quarantined "
                                 "(comptoir quarantine list)")
                    # One sender per channel: the outbox knows the channel, not the account.
                    senders.setdefault(account.channel, adapter)
                else:
                    all_synced = False
                    if result.errors:
                        line += f": {_printable(result.errors[0])}"
                    skipped.setdefault(account.channel, f"account {account.name} not synced")
                print(line)
            sender = OutboxSender(store, senders, clock)
            report = await sender.run_once()
        for line in outbox_lines(report, {c: w for c, w in skipped.items() if c not in senders}):
            print(line)
    finally:
        await store.close()
    return 0 if all_synced else NOT_SYNCED
