"""Per-account sync status, and the one line of text the status bar and `comptoir sync` show.

    x: synced 12s ago
    mastodon: rate limited until 10:42
    bluesky: offline, retry in 30s
    x: token rejected, run comptoir account add x
    mastodon: unreadable answer, retry in 30s
    x: synced 12s ago · 2 quarantined

A whole page that is not what the API documents (a proxy's HTML page, truncated JSON) is
"unreadable answer", not "offline": the network works, the server's answer does not. Items
quarantined (one bad item of a good page, see db/quarantine.py) are counted on any state.

`message` is the server's reason (outside text): show it only through widgets.text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum


class SyncState(StrEnum):
    SYNCED = "synced"
    RATE_LIMITED = "rate_limited"
    OFFLINE = "offline"
    AUTH_REJECTED = "auth_rejected"
    UNREADABLE = "unreadable"  # the server answered, but not with the documented payload


@dataclass(frozen=True, slots=True)
class AccountStatus:
    state: SyncState
    since: float  # when this state began (epoch seconds); for synced: the last good sync
    retry_at: float | None  # when the worker will try again (None: not until told to)
    message: str = ""  # the server's reason, if any (outside text)


def ago(seconds: float) -> str:
    """12s, 5m, 3h, 2d: a compact age."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h"
    return f"{s // 86400}d"


def clock_time(instant: float, tz: tzinfo | None = None) -> str:
    """HH:MM of an instant, in `tz` (None: the machine's local zone)."""
    moment = datetime.fromtimestamp(instant, tz) if tz else datetime.fromtimestamp(instant)
    return moment.strftime("%H:%M")


def add_command(account: str, channel: str) -> str:
    if account == channel:
        return f"comptoir account add {channel}"
    return f"comptoir account add {channel} --name {account}"


def describe(account: str, status: AccountStatus | None, now: float, *,
             channel: str | None = None, tz: tzinfo | None = None, quarantined: int = 0) -> str:
    """The status line for one account (`channel` defaults to the account's name), with
    ` · N quarantined` when some fetched items could not be read."""
    line = _state_line(account, status, now, channel=channel or account, tz=tz)
    return f"{line} · {quarantined} quarantined" if quarantined > 0 else line


def _state_line(account: str, status: AccountStatus | None, now: float, *, channel: str,
                tz: tzinfo | None) -> str:
    if status is None:
        return f"{account}: not synced yet"
    if status.state is SyncState.SYNCED:
        return f"{account}: synced {ago(now - status.since)} ago"
    if status.state is SyncState.RATE_LIMITED:
        if status.retry_at is None:
            return f"{account}: rate limited"
        return f"{account}: rate limited until {clock_time(status.retry_at, tz)}"
    if status.state in (SyncState.OFFLINE, SyncState.UNREADABLE):
        what = "offline" if status.state is SyncState.OFFLINE else "unreadable answer"
        if status.retry_at is None or status.retry_at <= now:
            return f"{account}: {what}, retrying now"
        return f"{account}: {what}, retry in {ago(status.retry_at - now)}"
    return f"{account}: token rejected, run {add_command(account, channel)}"
