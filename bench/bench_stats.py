"""Stats reports at a million mentions (a script, not a test): the issue's target is every
report for 1M mentions in <= 1 s in total.

    .venv/bin/python bench/bench_stats.py                    # bench/out/seed-1000000.db
    .venv/bin/python bench/bench_stats.py --db PATH          # any Comptoir database
    .venv/bin/python bench/bench_stats.py --mentions 100000  # bench/out/seed-100000.db

The database is the one bench/run_all.py uses (`comptoir seed --mentions N`, built the first
time, then reused). Opening it applies any pending schema step (the stats indexes of step 9 are
built then, once; that time is printed apart). Each report of console/stats.collect runs `--runs`
times over all time and over the last 7 days; the median of each and of their sum is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from console.stats import day_boundaries, period_for  # noqa: E402
from db import stats  # noqa: E402
from db.store import Store  # noqa: E402

TARGET_S = 1.0


async def timed(fn: Callable[[], Awaitable[object]], runs: int) -> float:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


async def bench(path: Path, runs: int) -> list[tuple[str, str, float]]:
    t0 = time.perf_counter()
    store = await Store.open(path, create=False)
    print(f"open (and migrate if needed): {time.perf_counter() - t0:.2f} s")
    tz = ZoneInfo("Europe/Paris")
    now = int(time.time())  # a bench script, not app logic: no injected clock here
    out: list[tuple[str, str, float]] = []
    try:
        counts = await store.counts()
        outcomes = await store._scalar("SELECT count(*) FROM sla_outcomes")
        replies = await store._scalar("SELECT count(*) FROM outbox WHERE state = 'sent'")
        print(f"{counts.total:,} mentions, {replies:,} sent replies, {outcomes:,} SLA clocks")
        for key in ("all", "7d"):
            period = await period_for(store, key, now, tz)
            since, until = period.since, period.until
            bounds = day_boundaries(since, until, tz)
            received = (await stats.volume(store, bounds)).total
            cases: list[tuple[str, Callable[[], Awaitable[object]]]] = [
                (f"volume by channel and day ({len(bounds) - 1} days)",
                 lambda b=bounds: stats.volume(store, b)),
                ("first response: counts, median, p90",
                 lambda s=since, u=until, r=received: stats.first_response(
                     store, s, u, received=r)),
                ("SLA achievement per policy and target",
                 lambda s=since, u=until: stats.sla_achievement(store, s, u, now)),
                ("backlog by age", lambda: stats.backlog(store, now)),
                ("per agent", lambda s=since, u=until: stats.agents(store, s, u)),
            ]
            for name, fn in cases:
                out.append((key, name, await timed(fn, runs)))
    finally:
        await store.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="database to read (default: the seeded one)")
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=HERE / "out")
    args = parser.parse_args()
    path = args.db
    if path is None:
        from run_all import bench_env, ensure_db

        args.out.mkdir(parents=True, exist_ok=True)
        path = ensure_db(args.out, args.mentions, bench_env(Path(tempfile.mkdtemp())))
        if path is None:
            return 1
    results = asyncio.run(bench(path, args.runs))
    print(f"\nmedian of {args.runs} runs")
    for period in ("all", "7d"):
        rows = [(name, t) for key, name, t in results if key == period]
        total = sum(t for _name, t in rows)
        print(f"period {period}:")
        for name, t in rows:
            print(f"  {name:44s} {t * 1000:8.1f} ms")
        verdict = "ok" if total <= TARGET_S else "OVER"
        print(f"  {'all reports':44s} {total * 1000:8.1f} ms   target <= {TARGET_S:.0f} s "
              f"{verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
