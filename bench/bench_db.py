"""Benchmark of the data layer at a million mentions (a script, not a test).

    .venv/bin/python bench/bench_db.py [--mentions 1000000] [--db /tmp/comptoir-bench.db]

Builds a database of synthetic mentions with `Store.bulk_load`, then prints the median and p99
of each queue query over 200 runs and the ingest rate of 20 batches of 500 new mentions.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from db.models import (
    CHANNELS,
    NewCustomer,
    NewIdentity,
    NewMention,
    QueueFilter,
    QueueKey,
    QueueRow,
    Status,
)
from db.store import Store

NOW = 1_767_225_600  # 2026-01-01T00:00:00Z: fixed so every run builds the same data
SLA = 3600
RUNS = 200
AGENTS = ("alice", "bruno", "chloé", "driss", "emma", "farid")
TAGS = ("refund", "livraison", "bug", "vip", "facture", "compte", "retard", "merci")
WORDS = (
    'bonjour', 'commande', 'remboursement', 'réponse', 'livraison', 'colis', 'retard',
    'facture', 'compte', 'mot', 'de', 'passe', 'application', 'merci', 'problème', 'écran',
    'paiement', 'carte', 'abonnement', 'résiliation', 'service', 'client', 'hello', 'order',
    'refund', 'delivery', 'parcel', 'late', 'invoice', 'account', 'password', 'app', 'thanks',
    'issue', 'screen', 'payment', 'card', 'subscription', 'cancel', 'support', 'still',
    'waiting', 'since', 'yesterday', 'please', 'help', 'où', 'est', 'mon', 'colis', 'toujours',
    'rien', 'reçu', 'déçu', 'très', 'vite', 'urgent', "aujourd'hui", 'semaine',
)
FIRST = ("Jean", "Marie", "Ana", "Léa", "Tom", "Sam", "Zoé", "Hugo", "Inès", "Noah", "Élise")
LAST = ("Dupont", "Martin", "García", "Nguyen", "Smith", "Bernard", "Müller", "Rossi", "Kowalski")
STATUSES = (
    (Status.NEW, 0.05),
    (Status.OPEN, 0.03),
    (Status.PENDING, 0.05),
    (Status.SNOOZED, 0.01),
    (Status.RESOLVED, 0.86),
)


def make_customers(rng: random.Random, n: int) -> list[NewCustomer]:
    out = []
    for i in range(n):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        channels = rng.sample(CHANNELS, rng.choice((1, 1, 1, 2, 3)))
        idents = tuple(
            NewIdentity(ch, f"@user{i}_{ch}", name, rng.randrange(0, 50_000)) for ch in channels
        )
        out.append(NewCustomer(name, name.split()[0], idents))
    return out


def make_mentions(
    rng: random.Random, customers: list[NewCustomer], n: int, prefix: str
) -> Iterator[NewMention]:
    statuses = [s for s, _ in STATUSES]
    weights = [w for _, w in STATUSES]
    for i in range(n):
        ident = rng.choice(rng.choice(customers).identities)
        created = NOW - rng.randrange(0, 180 * 86400)
        status = rng.choices(statuses, weights)[0]
        replied = status in (Status.PENDING, Status.RESOLVED) and rng.random() < 0.7
        yield NewMention(
            channel=ident.channel,
            remote_id=f"{prefix}{i}",
            author_handle=ident.handle,
            author_name=ident.display_name,
            text=" ".join(rng.choices(WORDS, k=rng.randrange(6, 30))),
            created_at=created,
            status=status,
            assignee=rng.choice(AGENTS) if rng.random() < 0.4 else None,
            tags=tuple(rng.sample(TAGS, rng.choice((0, 0, 1, 1, 2)))),
            replied_at=created + 1800 if replied else None,
            resolved_at=created + 7200 if status is Status.RESOLVED else None,
            snoozed_until=NOW + 86400 if status is Status.SNOOZED else None,
            reply_text="Bonjour, nous regardons cela tout de suite." if replied else None,
            reply_author=rng.choice(AGENTS) if replied else None,
        )


async def timed(fn: Callable[[], Awaitable[object]], runs: int = RUNS) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - t0)
    samples.sort()
    return statistics.median(samples) * 1000, samples[int(len(samples) * 0.99) - 1] * 1000


def walker(store: Store, flt: QueueFilter) -> Callable[[], Awaitable[object]]:
    """Each call fetches the next window (wrapping at the end): scrolling, not one cached page."""
    key: list[QueueKey | None] = [None]

    async def step() -> list[QueueRow]:
        rows = await store.queue_window(flt, after=key[0], limit=50)
        key[0] = rows[-1].key if len(rows) == 50 else None
        return rows

    return step


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=Path("/tmp/comptoir-bench.db"))
    args = parser.parse_args()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{args.db}{suffix}").unlink(missing_ok=True)

    rng = random.Random(42)
    customers = make_customers(rng, max(1, args.mentions // 8))
    store = await Store.open(args.db)
    t0 = time.perf_counter()
    loaded = await store.bulk_load(
        customers, make_mentions(rng, customers, args.mentions, "m"), now=NOW, first_reply_sla=SLA
    )
    load_s = time.perf_counter() - t0
    size_mb = args.db.stat().st_size / 1e6
    print(f"bulk_load: {loaded:,} mentions, {len(customers):,} customers in {load_s:.1f} s "
          f"({loaded / load_s:,.0f}/s), file {size_mb:,.0f} MB")

    ids = [rng.randrange(1, len(customers) + 1) for _ in range(RUNS)]
    it = iter(ids * 2)
    cases: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("queue_window default (active)", walker(store, QueueFilter())),
        ("queue_window channel=mastodon", walker(store, QueueFilter(channel="mastodon"))),
        ("queue_window status=resolved", walker(store, QueueFilter(status="resolved"))),
        ("queue_window status=all", walker(store, QueueFilter(status="all"))),
        ("queue_window assignee=alice", walker(store, QueueFilter(assignee="alice"))),
        ("queue_window tag=refund", walker(store, QueueFilter(tag="refund"))),
        ("queue_window search 'rembour'", walker(store, QueueFilter(search="rembour"))),
        ("queue_window search 'colis reçu'", walker(store, QueueFilter(search="colis reçu"))),
        ("queue_window last page", lambda: store.queue_window(
            QueueFilter(), before=QueueKey(2**62 + 1, 0))),
        ("customer_history", lambda: store.customer_history(next(it))),
        ("counts", store.counts),
        ("breached_count", lambda: store.breached_count(NOW)),
    ]
    for name, fn in cases:
        med, p99 = await timed(fn)
        print(f"{name:34s} median {med:7.3f} ms   p99 {p99:7.3f} ms")

    batches = [list(make_mentions(rng, customers, 500, f"new{b}_")) for b in range(20)]
    t0 = time.perf_counter()
    for b, batch in enumerate(batches):
        await store.ingest(batch, now=NOW + b, first_reply_sla=SLA)
    ingest_s = time.perf_counter() - t0
    print(f"ingest: 20 x 500 mentions in {ingest_s:.2f} s ({10_000 / ingest_s:,.0f} mentions/s)")
    await store.close()


if __name__ == "__main__":
    asyncio.run(main())
