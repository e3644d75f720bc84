"""Crisis mode costs (a script, not a test): spike detection must not grow with the queue, and
counting topics at ingest must stay a small part of an ingest.

    .venv/bin/python bench/bench_crisis.py                       # queues of 10k and 100k
    .venv/bin/python bench/bench_crisis.py --sizes 10000 1000000

For each size: a fresh database with `comptoir seed`'s generated mentions (bulk load, topics
counted for the recent ones), then a burst of 60 posts on one hashtag. Printed: the median time
of one detection (`detect_spikes`: the window read, then one baseline read per busy topic; the
same at every size means the cost is independent of the queue), and the time to ingest 2,000
live-channel mentions in pages of 50 with and without topic counting.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from console.crisis import TopicExtractor, detect_spikes  # noqa: E402
from console.demo.generator import LiveMentionSource, bulk_customers, bulk_mentions  # noqa: E402
from console.listening_config import CrisisSettings  # noqa: E402
from db.models import NewMention  # noqa: E402
from db.store import Store  # noqa: E402

NOW = 1_795_683_600
SLA = 3600


async def ingest_time(store: Store, rows: list[NewMention], counted: bool) -> float:
    store.topic_source = TopicExtractor(["panne"]) if counted else None
    t0 = time.perf_counter()
    for at in range(0, len(rows), 50):
        await store.ingest(rows[at : at + 50], now=NOW, first_reply_sla=SLA)
    return time.perf_counter() - t0


async def one_size(n: int, folder: Path, runs: int) -> None:
    store = await Store.open(folder / f"crisis-{n}.db")
    try:
        store.topic_source = TopicExtractor(["panne"])
        t0 = time.perf_counter()
        await store.bulk_load(bulk_customers(n, 1), bulk_mentions(n, 1, NOW), now=NOW,
                              first_reply_sla=SLA)
        load = time.perf_counter() - t0
        burst = [NewMention(channel="x", remote_id=f"burst-{i}", author_handle=f"@b{i}",
                            author_name=f"B {i}", text=f"#PanneFibrelle rien depuis {i} min",
                            created_at=NOW - i * 5) for i in range(60)]
        await store.ingest(burst, now=NOW, first_reply_sla=SLA)
        settings = CrisisSettings()
        samples = []
        for _ in range(runs):
            t = time.perf_counter()
            spikes = await detect_spikes(store, NOW, settings)
            samples.append(time.perf_counter() - t)
        topics = (await store._rows("SELECT count(*) FROM topic_counts"))[0][0]
        source = LiveMentionSource(1)
        live = [dataclasses.replace(source.next(NOW - 2000 + i, i), remote_id=f"live-a-{i}")
                for i in range(2000)]
        live_b = [dataclasses.replace(m, remote_id=f"live-b-{i}") for i, m in enumerate(live)]
        plain = await ingest_time(store, live, counted=False)
        counted = await ingest_time(store, live_b, counted=True)
        print(f"{n:>9,} mentions (bulk load {load:.1f} s, {topics:,} topic-count rows): "
              f"detect {statistics.median(samples) * 1000:.2f} ms median, "
              f"top {spikes[0].describe() if spikes else '-'}; ingest 2,000 live mentions "
              f"{plain:.2f} s without counting, {counted:.2f} s with "
              f"(+{(counted / plain - 1) * 100:.0f}%)")
    finally:
        await store.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="comptoir-crisis-") as folder:
        for n in args.sizes:
            await one_size(n, Path(folder), args.runs)


if __name__ == "__main__":
    asyncio.run(main())
