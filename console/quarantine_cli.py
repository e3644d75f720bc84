"""`comptoir quarantine list|clear`: the fetched items no adapter could read (db/quarantine.py).

    comptoir quarantine list [--account NAME] [--limit N] [--full]
    comptoir quarantine clear [--account NAME]

`list` prints the newest first: number, account, when (UTC), remote id, the parser's error, and
with `--full` the raw payload as received (cut at 64 KB when it was stored). Everything printed
from a row is outside text and goes through console.untrusted.clean: a payload can carry escape
sequences meant for the agent's terminal. `clear` forgets them (the status line's count goes).

No Textual import; the database is opened only for the command itself.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from console.untrusted import clean

DEFAULT_LIMIT: Final = 50


def add_parser(commands: argparse._SubParsersAction,  # type: ignore[type-arg]
               global_options: Callable[..., None]) -> None:
    """The `quarantine` command and its two actions, on the CLI's subparsers."""
    quarantine = commands.add_parser(
        "quarantine", help="fetched items that could not be read: list or clear them")
    global_options(quarantine, suppress=True)
    actions = quarantine.add_subparsers(dest="quarantine_command", metavar="ACTION",
                                        required=True)
    listing = actions.add_parser("list", help="the quarantined items, newest first")
    global_options(listing, suppress=True)
    listing.add_argument("--account", metavar="NAME", help="only this account's items")
    listing.add_argument("--limit", type=int, default=DEFAULT_LIMIT, metavar="N",
                         help=f"at most N items (default {DEFAULT_LIMIT})")
    listing.add_argument("--full", action="store_true",
                         help="also print each item's raw payload")
    clear = actions.add_parser("clear", help="forget the quarantined items")
    global_options(clear, suppress=True)
    clear.add_argument("--account", metavar="NAME", help="only this account's items")


def _when(at: int) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")


async def run(args: argparse.Namespace, path: Path) -> int:
    from db.quarantine import clear_quarantine, quarantined
    from db.store import Store

    if args.quarantine_command == "list" and args.limit < 1:
        raise ValueError("--limit must be at least 1")
    if not path.exists():
        print("Nothing in quarantine (no database yet)")
        return 0
    store = await Store.open(path, create=False)
    try:
        if args.quarantine_command == "clear":
            removed = await clear_quarantine(store, account=args.account)
            whose = f" of {clean(args.account)}" if args.account else ""
            print(f"Removed {removed} quarantined item(s){whose}")
            return 0
        items = await quarantined(store, account=args.account, limit=args.limit)
    finally:
        await store.close()
    if not items:
        print("Nothing in quarantine")
        return 0
    for item in items:
        remote = clean(item.remote_id, max_chars=120) if item.remote_id else "-"
        print(f"#{item.id}  {clean(item.account)} ({clean(item.channel)})  {_when(item.at)}  "
              f"{remote}")
        print(f"    error: {clean(item.error, max_chars=500)}")
        if args.full:
            print(f"    payload: {clean(item.payload)}")
    if len(items) == args.limit:
        print(f"(the {args.limit} newest; --limit N for more)")
    return 0
