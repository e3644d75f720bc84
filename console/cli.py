"""`comptoir` command line: the console, the demo, seeding, stats, maintenance and accounts.

The names here are a contract (scripts and training material use them): `comptoir`,
`comptoir demo [--speed X] [--seed N]`, `comptoir seed --mentions N [--seed N]`,
`comptoir stats [--json] [--since DATE] [--until DATE] [--tz ZONE]`,
`comptoir export --format csv|jsonl [--what mentions|replies|sla] [--since DATE] [--until DATE]
[--output PATH]` (console/report_cli.py), `comptoir backup [DEST]`, `comptoir restore BACKUP`,
`comptoir erase-customer HANDLE`, `comptoir account add x|mastodon|bluesky [--name NAME]
[--handle H] [--instance URL] [--user-id ID]`, `comptoir account list`,
`comptoir account remove NAME`, `comptoir sync --once`, `comptoir quarantine list|clear`, and the
global `--db PATH`, `--theme NAME`, `--version` (accepted before or after the command).

Crashes: `main` installs console.crash's handler once the arguments are read, so an unexpected
error prints one line naming the log file (`<log dir>/comptoir.log`, created on the first record,
never before) instead of a traceback. A damaged database is reported with
db.maintenance.corrupt_message, which names the newest backup and the restore command.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from console.clock import SystemClock
from console.config import AgentConfig, Config, ConfigError, load_config
from console.demo.phrases import AGENT_SIGNATURES
from console.paths import config_path, default_db_path
from db.errors import NotADatabase, StoreError
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
    from console import report_cli

    report_cli.add_stats_options(stats)
    report_cli.add_export_parser(commands, _global_options)

    backup = commands.add_parser(
        "backup", help="copy the database (safe while a console has it open) and verify it")
    _global_options(backup, suppress=True)
    backup.add_argument("dest", nargs="?", type=Path, metavar="DEST",
                        help="file or folder to write (default: backups/ next to the database); "
                             "an existing file is never overwritten")

    restore = commands.add_parser(
        "restore", help="replace the database with a backup (the previous file is kept)")
    _global_options(restore, suppress=True)
    restore.add_argument("backup", type=Path, metavar="BACKUP", help="the backup file")

    erase = commands.add_parser(
        "erase-customer", help="erase a customer and everything they wrote (data protection)")
    _global_options(erase, suppress=True)
    erase.add_argument("handle", metavar="HANDLE",
                       help="x:@jean, mastodon:@ana@example.social, @jean or #123 (customer "
                            "number)")

    account = commands.add_parser("account", help="add, list or remove channel accounts")
    _global_options(account, suppress=True)
    account_commands = account.add_subparsers(dest="account_command", metavar="ACTION",
                                              required=True)
    add = account_commands.add_parser(
        "add", help="add an account; its token is asked for (or read from stdin) and kept in "
                    "the system keyring")
    _global_options(add, suppress=True)
    add.add_argument("channel", choices=("x", "mastodon", "bluesky"))
    add.add_argument("--name", help="account name (default: the channel's name)")
    add.add_argument("--handle", metavar="H", help="the account's own handle")
    add.add_argument("--instance", metavar="URL",
                     help="https://instance (Mastodon: required; Bluesky: the PDS, default "
                          "https://bsky.social)")
    add.add_argument("--user-id", metavar="ID", help="X: the account's numeric user id")
    listing = account_commands.add_parser(
        "list", help="list accounts and where their tokens come from (never the tokens)")
    _global_options(listing, suppress=True)
    remove = account_commands.add_parser("remove", help="forget an account and its token")
    _global_options(remove, suppress=True)
    remove.add_argument("name", metavar="NAME")

    sync = commands.add_parser("sync", help="fetch mentions and send queued replies")
    _global_options(sync, suppress=True)
    sync.add_argument("--once", action="store_true",
                      help="one pass over every account, then the outbox, then exit (exit 1 "
                           "if an account did not sync)")

    from console import quarantine_cli

    quarantine_cli.add_parser(commands, _global_options)
    return parser


def fail(message: str) -> int:
    print(f"comptoir: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    stop_crash_reporting = _start_crash_reporting()
    code = _run(args)  # an exception escaping this is reported by the crash handler
    stop_crash_reporting()
    return code


def _start_crash_reporting() -> Callable[[], None]:
    """Install the crash handler (log file created on the first record only). Returns what
    undoes it, called when `main` returns normally: a real process exits then anyway, and
    in-process callers (tests) get their hooks and logging back."""
    import logging
    import threading

    from console import crash
    from console.logging_setup import log_file
    from console.paths import log_dir

    root = logging.getLogger()
    before = (sys.excepthook, threading.excepthook, crash._log_dir, root.level, log_file())
    crash.install_crash_handler(log_dir())

    def stop() -> None:
        excepthook, thread_hook, folder, level, had_log = before
        sys.excepthook, threading.excepthook, crash._log_dir = excepthook, thread_hook, folder
        if had_log is None:
            from console.logging_setup import PrivateRotatingFileHandler

            for handler in [h for h in root.handlers
                            if isinstance(h, PrivateRotatingFileHandler)]:
                root.removeHandler(handler)
                handler.close()
            root.setLevel(level)

    return stop


def _db_path(args: argparse.Namespace, *, create: bool = True) -> Path:
    return args.db or default_db_path(create=create)


def _run(args: argparse.Namespace) -> int:
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
        if args.command == "export":
            from console import report_cli

            return asyncio.run(report_cli.run_export(args, _db_path(args, create=False),
                                                     now=int(SystemClock().now())))
        if args.command == "backup":
            return asyncio.run(run_backup(args))
        if args.command == "restore":
            return asyncio.run(run_restore(args))
        if args.command == "erase-customer":
            return asyncio.run(run_erase(args, config))
        if args.command == "account":
            return asyncio.run(run_account(args))
        if args.command == "sync":
            return run_sync(args, config)
        if args.command == "quarantine":
            from console import quarantine_cli

            return asyncio.run(quarantine_cli.run(args, _db_path(args, create=False)))
        path = _db_path(args)
        return asyncio.run(run_console(path, config, theme=args.theme))
    except StoreError as error:
        return fail(_explain(error, args))
    except (ConfigError, ValueError) as error:
        return fail(str(error))
    except KeyboardInterrupt:
        return 130


def _explain(error: StoreError, args: argparse.Namespace) -> str:
    """The error's own line, or for a damaged database the line naming its latest backup."""
    if not isinstance(error, NotADatabase) or args.command in ("restore", "demo"):
        return str(error)
    path = _db_path(args, create=False)
    if _damaged(error, path):
        from db.maintenance import corrupt_message

        return corrupt_message(path)
    return str(error)


def _damaged(error: NotADatabase, path: Path) -> bool:
    """SQLite itself refused the file (not our checks of its identity), and the file starts
    like a SQLite database: a damaged database rather than some other file."""
    if not isinstance(error.__context__, sqlite3.DatabaseError):
        return False
    try:
        with path.open("rb") as f:
            return f.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


async def run_console(path: Path, config: Config, *, theme: str | None) -> int:
    from contextlib import AsyncExitStack

    from console.app import ComptoirApp
    from db.accounts import list_accounts

    clock = SystemClock()
    store = await Store.open(path)
    try:
        from console.equip import equip_store

        equip_store(store, config)  # every mention synced from now on: triage, SLA, topics
        async with AsyncExitStack() as resources:

            async def sync_factory() -> object:
                # Channel code (httpx, adapters) is loaded only when there is an account:
                # a desk on local data stays as small and fast to start as it can be.
                if not await list_accounts(store):
                    return None
                from console.accounts_cli import make_client
                from console.sync.desk import desk_sync_for_accounts

                client = await resources.enter_async_context(make_client())
                return await desk_sync_for_accounts(
                    store, clock, client, first_reply_sla=config.sla.first_reply_minutes * 60,
                    listening=config.listening,
                )

            await ComptoirApp(store, config, clock=clock, theme=theme,
                              sync_factory=sync_factory).run_async()  # type: ignore[arg-type]
    finally:
        await store.close()
    return 0


async def load_demo(store: Store, *, seed: int, now: int, first_reply_sla: int) -> int:
    """Write the demo dataset and templates into an empty store; returns mentions written."""
    from console.demo.generator import demo_dataset, demo_templates

    dataset = demo_dataset(seed, now)
    if store.triage is None:  # the demo's spam, trolls and delight are found by triage itself
        from console import triage

        triage.install(store)
    if store.topic_source is None:
        # Count the demo's crisis topics as they load, so the burst is a spike at once.
        from console.crisis import install
        from console.listening_config import CrisisSettings

        install(store, CrisisSettings())
    written = await store.bulk_load(
        dataset.customers, dataset.mentions, now=now, first_reply_sla=first_reply_sla
    )
    for name, lang, body in demo_templates():
        await store.add_template(name, lang, body)
    return written


# The demo's agent is Camille of the generated team (same login and "^Camille" signature as
# in the demo history): replies sent in a demo are signed by a person, not by "Agent".
DEMO_AGENT = AgentConfig.from_name("Camille Martin", id="camille",
                                   signature=AGENT_SIGNATURES["camille"])


def demo_config(config: Config) -> Config:
    """The configuration the demo runs with: the user's, with the demo agent unless
    config.toml names one."""
    return replace(config, agent=DEMO_AGENT) if config.agent == AgentConfig() else config


async def run_demo(args: argparse.Namespace, config: Config) -> int:
    from console.app import ComptoirApp
    from console.demo.live import SimulatedChannel

    if args.speed <= 0:
        return fail("--speed must be greater than 0")
    config = demo_config(config)
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
        from console.demo.generator import demo_watch_list
        from console.equip import equip_store

        equip_store(store, config)
        await load_demo(store, seed=args.seed, now=int(clock.now()), first_reply_sla=sla)
        # The demo listens for Fibrelle and its competitors unless config.toml says otherwise.
        listening = demo_watch_list() if config.listening.empty else config.listening
        live = SimulatedChannel(store, clock, seed=args.seed, speed=args.speed,
                                first_reply_sla=sla, listening=listening)
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
        from console.equip import equip_store

        equip_store(store, config)
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
    from console import report_cli

    path: Path = args.db or default_db_path(create=True)
    now = int(SystemClock().now())
    report_cli.resolve_period(args, now=now)  # a bad date fails before the database is opened
    store = await Store.open(path, create=False)
    try:
        stats = await collect_stats(store, now=now, warn=config.sla.warn_minutes * 60)
        reports, report_lines = await report_cli.stats_reports(store, args, now=now)
    finally:
        await store.close()
    if args.json:
        print(json.dumps({**stats, **reports}, indent=2, sort_keys=True))
        return 0
    print(f"{path}: {stats['total']:,} mentions")
    for title in ("by_status", "by_channel", "sla"):
        values = stats[title]
        assert isinstance(values, dict)
        line = "  ".join(f"{name} {count:,}" for name, count in values.items())
        print(f"  {title.replace('by_', 'by ').replace('sla', 'SLA (to do)'):<12} {line}")
    print()
    print("\n".join(report_lines))
    return 0


# --- maintenance ---------------------------------------------------------------------------------
def _size(size: int) -> str:
    return f"{size:,} bytes" if size < 1024 * 1024 else f"{size / (1024 * 1024):,.1f} MB"


async def run_backup(args: argparse.Namespace) -> int:
    from db.maintenance import backup

    path = _db_path(args, create=False)
    result = await backup(path, args.dest, now=SystemClock().now())
    print(f"Backed up {path} to {result.path} ({_size(result.size)}, verified, "
          f"{result.seconds:.1f} s)")
    return 0


async def run_restore(args: argparse.Namespace) -> int:
    from db.maintenance import restore

    path = _db_path(args)
    result = await restore(args.backup, path, now=SystemClock().now())
    print(f"Restored {path} from {args.backup} ({_size(result.size)}, schema "
          f"{result.schema_version})")
    if result.previous is not None:
        print(f"The database it replaced is kept as {result.previous}")
    return 0


async def run_erase(args: argparse.Namespace, config: Config) -> int:
    from db.maintenance import erase_customer

    path = _db_path(args, create=False)
    report = await erase_customer(path, args.handle, actor=config.agent.id,
                                  now=int(SystemClock().now()))
    print(f"Erased customer #{report.customer_id}: {report.mentions} mentions, "
          f"{report.notes} notes, {report.drafts} drafts, {report.replies} replies, "
          f"{report.identities} identities, {report.quarantined} quarantined items, "
          f"{report.listening} listening results, {report.events_redacted} events redacted"
          + ("; free space overwritten (VACUUM)" if report.vacuumed else ""))
    if not report.wal_truncated:
        print(f"comptoir: warning: another program has {path} open, so its write-ahead log "
              f"({path}-wal) could not be emptied: it may hold erased text until the last "
              "connection to the database closes", file=sys.stderr)
    return 0


# --- accounts and sync ---------------------------------------------------------------------------
async def run_account(args: argparse.Namespace) -> int:
    from console import accounts_cli

    clock = SystemClock()
    if args.account_command == "add":
        return await accounts_cli.run_account_add(
            _db_path(args), channel=args.channel, name=args.name, handle=args.handle,
            instance=args.instance, user_id=args.user_id, clock=clock)
    if args.account_command == "list":
        return await accounts_cli.run_account_list(_db_path(args, create=False))
    return await accounts_cli.run_account_remove(_db_path(args, create=False), args.name,
                                                 clock=clock)


def run_sync(args: argparse.Namespace, config: Config) -> int:
    from console import accounts_cli

    if not args.once:
        return fail("the console syncs on its own while it runs; for one pass from a script "
                    "use: comptoir sync --once")
    return asyncio.run(accounts_cli.run_sync_once(_db_path(args, create=False), config))


if __name__ == "__main__":
    sys.exit(main())
