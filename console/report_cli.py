"""`comptoir stats` reports and `comptoir export` (console/stats.py, console/export.py).

    comptoir stats [--json] [--since DATE] [--until DATE] [--tz ZONE]
    comptoir export --format csv|jsonl [--what mentions|replies|sla] [--since DATE]
                    [--until DATE] [--tz ZONE] [--output PATH]

DATE is YYYY-MM-DD (local midnight in --tz, default the machine's zone) or an ISO date-time; the
period is [since, until): --until is excluded. A bad date or zone is a one-line error, exit 2.
`stats` keeps the keys it always printed (total, by_status, by_channel, sla) and adds the
reports under their own keys. `export --output` writes a private file (0600: customer data)
next to PATH and renames it into place once complete, so a failed export leaves no half file.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from console.stats import Period, collect, local_zone, parse_date, report_json, report_text, zone

EXPORT_FORMATS = ("csv", "jsonl")
EXPORT_WHAT = ("mentions", "replies", "sla")


def _period_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", metavar="DATE",
                        help="from this date (YYYY-MM-DD or ISO date-time; default: the start)")
    parser.add_argument("--until", metavar="DATE",
                        help="up to this date, excluded (default: now)")
    parser.add_argument("--tz", metavar="ZONE",
                        help="time zone of dates and days, e.g. Europe/Paris (default: the "
                             "machine's)")


def add_stats_options(parser: argparse.ArgumentParser) -> None:
    _period_options(parser)


def add_export_parser(commands: argparse._SubParsersAction,  # type: ignore[type-arg]
                      global_options: Callable[..., None]) -> None:
    export = commands.add_parser(
        "export", help="write mentions, replies or SLA outcomes as CSV or JSON Lines")
    global_options(export, suppress=True)
    export.add_argument("--format", required=True, choices=EXPORT_FORMATS)
    export.add_argument("--what", default="mentions", choices=EXPORT_WHAT,
                        help="which rows (default: mentions)")
    export.add_argument("--output", metavar="PATH", type=Path,
                        help="file to write (default: standard output)")
    _period_options(export)


def resolve_period(args: argparse.Namespace, *, now: int) -> tuple[int, int, Any]:
    """(since, until, tz) from the options; ValueError with a one-line message."""
    tz = zone(args.tz) if args.tz else local_zone()
    since = parse_date(args.since, tz) if args.since else None
    until = parse_date(args.until, tz) if args.until else now + 1
    if since is not None and since >= until:
        raise ValueError("--since must be before --until")
    return (since if since is not None else -(2**62)), until, tz


async def stats_reports(store: Any, args: argparse.Namespace, *, now: int
                        ) -> tuple[dict[str, object], list[str]]:
    """The reports as JSON-ready keys and as text lines."""
    from db import stats as db_stats

    since, until, tz = resolve_period(args, now=now)
    if since < 0:  # no --since: from the oldest mention (or now, on an empty database)
        first = await db_stats.first_created(store)
        since = min(first if first is not None else now, now, until - 1)
    report = await collect(store, Period(since, until, "custom"), now=now, tz=tz)
    return report_json(report, tz), report_text(report, tz)


class _Utf8Out:
    """Standard output as UTF-8 with no newline translation, whatever the locale says."""

    def __enter__(self) -> io.TextIOWrapper:
        sys.stdout.flush()
        self.stream = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="",
                                       write_through=False)
        return self.stream

    def __exit__(self, *exc: object) -> None:
        self.stream.flush()
        self.stream.detach()


async def run_export(args: argparse.Namespace, path: Path, *, now: int) -> int:
    from console.export import write_export
    from db.export import KINDS, chunks
    from db.store import Store

    since, until, _tz = resolve_period(args, now=now)
    kind = KINDS[args.what]
    store = await Store.open(path, create=False)
    try:
        rows = chunks(store, kind, since, until)
        if args.output is None:
            with _Utf8Out() as out:
                await write_export(kind, args.format, rows, out)
            return 0
        target: Path = args.output
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        except OSError as error:
            raise ValueError(f"cannot write {target}: {error.strerror}") from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
                count = await write_export(kind, args.format, rows, out)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    finally:
        await store.close()
    print(f"Exported {count:,} {kind.name} to {target}", file=sys.stderr)
    return 0


def print_json(data: dict[str, object]) -> None:
    print(json.dumps(data, indent=2, sort_keys=True))
