"""`comptoir` command line: the console, the demo, seeding and stats.

The names here are a contract (scripts and training material use them): `comptoir`,
`comptoir demo [--speed X] [--seed N]`, `comptoir seed --mentions N [--seed N]`,
`comptoir stats [--json]`, and the global `--db PATH`, `--theme NAME`, `--version`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from console.clock import SystemClock
from console.config import Config, ConfigError, load_config
from console.paths import config_path, default_db_path
from db.errors import StoreError
from db.models import CHANNELS, Status
from db.store import Store

EXIT_ERROR = 2


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("comptoir")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


class _VersionAction(argparse.Action):
    """`--version`, looked up only when asked: package metadata is slow to import."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        print(f"comptoir {_version()}")
        parser.exit()


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    # Accept the global options before or after the command (`comptoir --db x demo` and
    # `comptoir demo --db x`); on the command's parser they must not reset what came before.
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--db", metavar="PATH", type=Path, default=default,
                        help="database file (default: comptoir.db in the per-user data dir)")
    parser.add_argument("--theme", metavar="NAME", default=default,
                        help="dark, light, high-contrast or lowbw (16 colours, slow links)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="comptoir",
        description="Keyboard-first terminal console for social customer care.",
    )
    parser.add_argument("--version", action=_VersionAction)
    _global_options(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser("demo", help="open the console on a fresh demo database")
    _global_options(demo, suppress=True)
    demo.add_argument("--speed", type=float, default=1.0,
                      help="how fast the simulated live channel runs (default 1.0)")
    demo.add_argument("--seed", type=int, default=7, help="demo data seed (default 7)")

    seed = commands.add_parser("seed", help="fill a database with generated mentions")
    _global_options(seed, suppress=True)
    seed.add_argument("--mentions", type=int, required=True, metavar="N",
                      help="number of mentions to generate (up to 1,000,000 and beyond)")
    seed.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")

    stats = commands.add_parser("stats", help="print queue counts by status, channel, SLA state")
    _global_options(stats, suppress=True)
    stats.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def fail(message: str) -> int:
    print(f"comptoir: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = load_config(config_path())
        if args.theme is not None:
            from themes import resolve_theme

            resolve_theme(args.theme)
        if args.command == "demo":
            return asyncio.run(run_demo(args, config))
        if args.command == "seed":
            return asyncio.run(run_seed(args, config))
        if args.command == "stats":
            return asyncio.run(run_stats(args, config))
        path = args.db or default_db_path(create=True)
        return asyncio.run(run_console(path, config, theme=args.theme))
    except (StoreError, ConfigError, ValueError) as error:
        return fail(str(error))
    except KeyboardInterrupt:
        return 130


async def run_console(path: Path, config: Config, *, theme: str | None) -> int:
    from console.app import ComptoirApp

    store = await Store.open(path)
    try:
        await ComptoirApp(store, config, theme=theme).run_async()
    finally:
        await store.close()
    return 0


async def load_demo(store: Store, *, seed: int, now: int, first_reply_sla: int) -> int:
    """Write the demo dataset and templates into an empty store; returns mentions written."""
    from console.demo.generator import demo_dataset, demo_templates

    dataset = demo_dataset(seed, now)
    written = await store.bulk_load(
        dataset.customers, dataset.mentions, now=now, first_reply_sla=first_reply_sla
    )
    for name, lang, body in demo_templates():
        await store.add_template(name, lang, body)
    return written


async def run_demo(args: argparse.Namespace, config: Config) -> int:
    from console.app import ComptoirApp
    from console.demo.live import SimulatedChannel

    if args.speed <= 0:
        return fail("--speed must be greater than 0")
    if args.db is not None:
        path: Path = args.db
        if path.exists():
            # The demo writes a fresh database; it never mixes generated data into real data.
            return fail(f"{path} already exists; the demo needs a new file (remove it or "
                        "pick another --db)")
    else:
        path = Path(tempfile.mkdtemp(prefix="comptoir-demo-")) / "demo.db"
    clock = SystemClock()
    sla = config.sla.first_reply_minutes * 60
    store = await Store.open(path)
    try:
        await load_demo(store, seed=args.seed, now=int(clock.now()), first_reply_sla=sla)
        live = SimulatedChannel(store, clock, seed=args.seed, speed=args.speed,
                                first_reply_sla=sla)
        await ComptoirApp(store, config, clock=clock, live=live,
                          theme=args.theme).run_async()
    finally:
        await store.close()
    print(f"Demo database kept at {path} (open it again with: comptoir --db {path})")
    return 0


async def run_seed(args: argparse.Namespace, config: Config) -> int:
    import time

    from console.demo.generator import bulk_customers, bulk_mentions, demo_templates

    if args.mentions < 1:
        return fail("--mentions must be at least 1")
    path: Path = args.db or default_db_path(create=True)
    now = int(SystemClock().now())
    sla = config.sla.first_reply_minutes * 60
    store = await Store.open(path)
    try:
        started = time.perf_counter()
        written = await store.bulk_load(
            bulk_customers(args.mentions, args.seed),
            bulk_mentions(args.mentions, args.seed, now),
            now=now,
            first_reply_sla=sla,
        )
        if not await store.templates():
            for name, lang, body in demo_templates():
                await store.add_template(name, lang, body)
        elapsed = time.perf_counter() - started
    finally:
        await store.close()
    print(f"Seeded {written:,} mentions into {path} in {elapsed:.1f} s "
          f"({written / max(elapsed, 1e-9):,.0f}/s)")
    return 0


async def collect_stats(store: Store, *, now: int, warn: int) -> dict[str, object]:
    counts = await store.counts()
    breached = await store.breached_count(now)
    due_soon = await store.breached_count(now + warn) - breached
    return {
        "total": counts.total,
        "by_status": {status.value: counts.by_status.get(status.value, 0) for status in Status},
        "by_channel": {channel: counts.by_channel.get(channel, 0) for channel in CHANNELS},
        "sla": {
            "breached": breached,
            "warning": due_soon,
            "ok": counts.active - breached - due_soon,
        },
    }


async def run_stats(args: argparse.Namespace, config: Config) -> int:
    path: Path = args.db or default_db_path(create=True)
    store = await Store.open(path, create=False)
    try:
        stats = await collect_stats(store, now=int(SystemClock().now()),
                                    warn=config.sla.warn_minutes * 60)
    finally:
        await store.close()
    if args.json:
        print(json.dumps(stats, indent=2, sort_keys=True))
        return 0
    print(f"{path}: {stats['total']:,} mentions")
    for title in ("by_status", "by_channel", "sla"):
        values = stats[title]
        assert isinstance(values, dict)
        line = "  ".join(f"{name} {count:,}" for name, count in values.items())
        print(f"  {title.replace('by_', 'by ').replace('sla', 'SLA (to do)'):<12} {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
