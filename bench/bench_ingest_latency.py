"""Ingest rate into a big database while an agent moves the cursor in the open console.

Issue target: >= 5,000 mentions/s into a database already holding 1M, with the console's
cursor-move latency at p99 <= 16 ms during the ingest. One run measures the console's key
latency without ingest, then with a second process ingesting batches of 500 (what a sync
worker writes), and prints both with the ingest rate. Figures, not a test.

    .venv/bin/python bench/bench_ingest_latency.py [--db bench/out/seed-1000000.db] [--seconds 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from pty_harness import PtySession, run_keys  # noqa: E402

INGEST_SCRIPT = """
import asyncio, sys, time
from db.models import NewMention
from db.store import Store

async def main(path, seconds, batch):
    store = await Store.open(path)
    now = int(time.time())
    written = 0
    n = 0
    started = time.perf_counter()
    try:
        while time.perf_counter() - started < seconds:
            rows = [
                NewMention(
                    channel=("x", "mastodon", "bluesky")[i % 3], remote_id=f"ingest-{n}-{i}",
                    author_handle=f"@load{(n * batch + i) % 5000}", author_name="Load Test",
                    text=f"mention {n}-{i} panne fibre remboursement", created_at=now - 60,
                )
                for i in range(batch)
            ]
            written += len(await store.ingest(rows, now=now, first_reply_sla=3600))
            n += 1
    finally:
        await store.close()
    elapsed = time.perf_counter() - started
    print(f"{written} {elapsed:.3f}", flush=True)

asyncio.run(main(sys.argv[1], float(sys.argv[2]), int(sys.argv[3])))
"""


def key_run(session: PtySession, presses: int) -> list[float]:
    plan = (["j"] * 15 + ["k"] * 15) * (presses // 30 + 1)
    stats = run_keys(session, plan[:presses], gap=0.03, timeout=2.0)
    samples = [s for st in stats.values() for s in st.samples if s.frames]
    return sorted(s.latency * 1000 for s in samples)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    index = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=HERE / "out" / "seed-1000000.db")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--presses", type=int, default=150)
    args = parser.parse_args()
    if not args.db.exists():
        print(f"{args.db} is missing: run bench/run_all.py once (it seeds it) or pass --db")
        return 2
    work = Path(tempfile.mkdtemp(prefix="comptoir-ingest-"))
    db = work / "bench.db"
    shutil.copyfile(args.db, db)  # the bench database is closed: a file copy is a snapshot
    env = {**os.environ, "COMPTOIR_HOME": str(work / "home"), "PYTHONPATH": str(ROOT)}
    session = PtySession([sys.executable, "-m", "console", "--db", str(db)], env=env,
                         cwd=str(ROOT))
    session.start()
    try:
        session.first_paint(settle=0.5, timeout=120)
        quiet = key_run(session, args.presses)
        ingest = subprocess.Popen(
            [sys.executable, "-c", INGEST_SCRIPT, str(db), str(args.seconds), str(args.batch)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True,
        )
        time.sleep(1.0)  # let the ingest reach its pace before measuring keys under it
        loaded = key_run(session, args.presses)
        out, _ = ingest.communicate(timeout=args.seconds + 120)
        written, elapsed = out.split()
        rate = int(written) / float(elapsed)
    finally:
        session.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"ingest: {int(written):,} mentions in {float(elapsed):.1f} s = {rate:,.0f}/s "
          f"(batches of {args.batch}; target >= 5,000/s)")
    print(f"cursor move, no ingest:   median {pct(quiet, 50):.2f} ms  p99 {pct(quiet, 99):.2f} ms "
          f"({len(quiet)} presses)")
    print(f"cursor move, during ingest: median {pct(loaded, 50):.2f} ms  "
          f"p99 {pct(loaded, 99):.2f} ms ({len(loaded)} presses; target p99 <= 16 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
