"""The triage contract between the Store and whoever scores mentions (console/triage.py).

The data layer never imports console/, yet every write path (Store.ingest, Store.bulk_load and
so `comptoir seed`) must store a priority, reasons and a lane for each new mention. So the Store
receives a scorer by injection: any object with `score(TriageInput) -> TriageResult` (the
`Scorer` protocol below), set once on the Store (`store.triage = scorer`) by whoever opens it.
The BatchWriter gathers what only the database knows (the author's customer, audience and past
mentions) into a `TriageInput` and stores the `TriageResult` in the same insert as the row.

Without a scorer the rows keep their given priority and tags, no reasons, the main lane.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Final, Protocol

from db.models import NewMention

# mentions.triage_lane values.
TRIAGE_MAIN: Final = 0
TRIAGE_SPAM: Final = 1
TRIAGE_LANES: Final = {"main": TRIAGE_MAIN, "spam": TRIAGE_SPAM}

# The events log action of an agent's lane override (detail "spam -> main", "main -> spam").
TRIAGE_EVENT: Final = "triage"

# Past texts kept per customer for the "repeated text" signal: enough to see a burst.
RECENT_TEXTS: Final = 20
REPEAT_WINDOW: Final = 86_400  # "repeat contact" counts the last 24 hours


@dataclass(slots=True)  # not frozen: built once per row of a bulk load, and frozen costs more
class TriageInput:
    """One new mention with what the database knows about its author at that instant.

    `past_mentions` counts the customer's stored mentions created before this one (any age);
    `recent_mentions` those of the REPEAT_WINDOW before it, and `recent_texts` their texts
    (newest first, at most RECENT_TEXTS). `customer_id` is None for an author never seen."""

    mention: NewMention
    customer_id: int | None
    audience: int
    past_mentions: int
    recent_mentions: int
    recent_texts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TriageResult:
    """What is stored: `priority` (mentions.priority), `reasons` (one line each, already in
    display form), `lane` (TRIAGE_MAIN or TRIAGE_SPAM) and tags to add (e.g. "delight")."""

    priority: int
    reasons: tuple[str, ...] = ()
    lane: int = TRIAGE_MAIN
    tags: tuple[str, ...] = ()


class Scorer(Protocol):
    def score(self, item: TriageInput) -> TriageResult: ...


def reasons_text(reasons: tuple[str, ...]) -> str:
    """The stored form of reasons: one per line (a reason never holds a newline)."""
    return "\n".join(" ".join(r.split()) for r in reasons if r.strip())


def reasons_tuple(text: str) -> tuple[str, ...]:
    return tuple(line for line in text.split("\n") if line)


# --- the BatchWriter's side: each new mention's author history, then the scorer ------------------

HistoryKey = int | tuple[str, str]  # a customer id, or (channel, handle) of a new author

# Customers per history lookup statement.
_LOOKUP_CHUNK: Final = 500
# Recent texts kept in memory per customer (a flood beyond this is a flood all the same).
_KEEP: Final = 100


class KnownAuthor(Protocol):
    customer_id: int
    audience: int


class Triager:
    """Scores the mentions of a BatchWriter, batch after batch.

    The history of each author (mentions before this one, and those of the last 24 h with their
    texts) comes from the database the first time the writer meets a known customer
    (`from_db=True`: ingest), then from what the writer itself wrote. A bulk load passes
    `from_db=False` (the customer index is dropped while it loads, and its rows arrive in time
    order): it sees the history it loads, not rows stored before it began.
    A batch is scored in time order (channels often page newest first), so "3rd message today"
    counts the messages before this one, not the ones listed before it.
    """

    def __init__(self, conn: Any, scorer: Scorer, *, from_db: bool) -> None:
        self._conn = conn
        self._scorer = scorer
        self._from_db = from_db
        self._counts: dict[HistoryKey, int] = {}
        self._recent: dict[HistoryKey, list[tuple[int, str]]] = {}
        self._loaded: set[int] = set()
        # Authors this writer met before they had a customer row: keep one history key.
        self._new_authors: dict[tuple[str, str], HistoryKey] = {}

    async def score_batch(
        self, batch: Sequence[NewMention], known: Mapping[tuple[str, str], KnownAuthor]
    ) -> list[TriageResult]:
        authors = [known.get((m.channel, m.author_handle)) for m in batch]
        new_authors = self._new_authors
        keys: list[HistoryKey] = []
        for m, author in zip(batch, authors, strict=True):
            handle_key = (m.channel, m.author_handle)
            key = new_authors.get(handle_key)
            if key is None:
                if author is not None:
                    key = author.customer_id
                else:
                    key = new_authors[handle_key] = handle_key
            keys.append(key)
        if self._from_db:
            wanted = sorted({k for k in keys if isinstance(k, int) and k not in self._loaded})
            if wanted:
                await self._load(wanted, min(m.created_at for m in batch) - REPEAT_WINDOW)
        results: list[TriageResult | None] = [None] * len(batch)
        counts, recent, score = self._counts, self._recent, self._scorer.score
        times = [m.created_at for m in batch]
        in_order = all(a <= b for a, b in pairwise(times))  # a bulk load's rows are
        order = range(len(batch)) if in_order else sorted(range(len(batch)),
                                                           key=times.__getitem__)
        for i in order:
            m, key, author = batch[i], keys[i], authors[i]
            created = times[i]
            texts = recent.get(key)
            window: tuple[str, ...] = ()
            if texts:
                low = created - REPEAT_WINDOW
                while texts and texts[0][0] < low:
                    del texts[0]
                if texts:
                    window = tuple([t for at, t in reversed(texts) if at <= created])
            else:
                texts = recent[key] = []
            past = counts.get(key, 0)
            results[i] = score(TriageInput(
                m, author.customer_id if author is not None else None,
                m.author_audience or (author.audience if author is not None else 0),
                past, len(window), window[:RECENT_TEXTS],
            ))
            counts[key] = past + 1
            if texts and texts[-1][0] > created:
                bisect.insort(texts, (created, m.text))
            else:
                texts.append((created, m.text))
            if len(texts) > _KEEP:
                del texts[: len(texts) - _KEEP]
        return [r for r in results if r is not None]

    async def _load(self, customer_ids: Sequence[int], since: int) -> None:
        for start in range(0, len(customer_ids), _LOOKUP_CHUNK):
            chunk = list(customer_ids[start : start + _LOOKUP_CHUNK])
            marks = ", ".join("?" * len(chunk))
            for cid, n in await self._conn.execute_fetchall(
                f"SELECT customer_id, count(*) FROM mentions WHERE customer_id IN ({marks}) "
                "GROUP BY customer_id", chunk,
            ):
                self._counts[cid] = self._counts.get(cid, 0) + n
            rows = await self._conn.execute_fetchall(
                "SELECT customer_id, created_at, text FROM (SELECT customer_id, created_at, text, "
                "row_number() OVER (PARTITION BY customer_id ORDER BY created_at DESC) AS n "
                f"FROM mentions WHERE customer_id IN ({marks}) AND created_at >= ?) "
                "WHERE n <= ? ORDER BY customer_id, created_at",
                [*chunk, since, _KEEP],
            )
            for cid, at, text in rows:
                self._recent.setdefault(cid, []).append((at, text))
            self._loaded.update(chunk)
