"""The queue: order, filters, keyset pagination, plans, counters, full-text search."""

from __future__ import annotations

import asyncio
import sqlite3
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from db.errors import StoreError
from db.models import NO_DUE, Mention, QueueFilter, QueueKey, Status
from db.queries import fts_query, queue_sql
from db.store import Store
from tests.db.conftest import NOW, SLA, nm, raw

LAST = QueueKey(NO_DUE + 1, 0)


async def test_default_queue_is_active_mentions_by_due_then_id(store: Store) -> None:
    await store.ingest(
        [
            nm("a", created_at=NOW + 10),
            nm("b", created_at=NOW, first_reply_due=NOW + 5),
            nm("c", created_at=NOW + 10),
            nm("d", status=Status.RESOLVED),
            nm("e", status=Status.OPEN, replied_at=NOW),
        ],
        now=NOW, first_reply_sla=SLA,
    )
    rows = await store.queue_window(QueueFilter())
    assert [(r.id, r.sort_due) for r in rows] == [
        (2, NOW + 5), (1, NOW + 10 + SLA), (3, NOW + 10 + SLA), (5, NO_DUE),
    ]
    assert rows[1].first_reply_due == NOW + 10 + SLA
    assert rows[1].key == QueueKey(NOW + 10 + SLA, 1)


async def test_excerpt_is_cut_in_sql(store: Store) -> None:
    text = "é" * 500
    [mid] = await store.ingest([nm("a", text=text)], now=NOW, first_reply_sla=SLA)
    row = await store.queue_row(mid)
    assert row is not None and row.excerpt == "é" * 160
    assert await store.queue_row(999) is None


async def test_filters(store: Store) -> None:
    await store.ingest(
        [
            nm("1", channel="x", tags=("refund", "vip")),
            nm("2", channel="mastodon", author_handle="@ann", tags=("refund",), assignee="al"),
            nm("3", channel="x", status=Status.OPEN, assignee="al"),
            nm("4", channel="x", status=Status.RESOLVED, tags=("refund",)),
            nm("5", channel="bluesky", author_handle="@bo", status=Status.PENDING),
            nm("6", channel="x", status=Status.SNOOZED, snoozed_until=NOW + 99),
        ],
        now=NOW, first_reply_sla=SLA,
    )

    async def ids(**kw: object) -> list[int]:
        return [r.id for r in await store.queue_window(QueueFilter(**kw))]  # type: ignore[arg-type]

    assert await ids() == [1, 2, 3]
    assert await ids(status="all") == [1, 2, 3, 4, 5, 6]
    assert await ids(status="new") == [1, 2]
    assert await ids(status="open") == [3]
    assert await ids(status="resolved") == [4]
    assert await ids(status="pending") == [5]
    assert await ids(status="snoozed") == [6]
    assert await ids(channel="x") == [1, 3]
    assert await ids(channel="x", status="all") == [1, 3, 4, 6]
    assert await ids(assignee="al") == [2, 3]
    assert await ids(assignee="al", status="all", channel="x") == [3]
    assert await ids(tag="refund") == [1, 2]
    assert await ids(tag="refund", status="all") == [1, 2, 4]
    assert await ids(tag="refund", channel="x", status="all") == [1, 4]
    assert await ids(tag="ref") == []  # whole tags only
    assert await ids(tag="vip", status="new") == [1]
    with pytest.raises(StoreError):
        await ids(status="bogus")
    with pytest.raises(StoreError):
        await store.queue_window(QueueFilter(), after=LAST, before=LAST)


async def test_search_folds_case_and_accents(store: Store) -> None:
    await store.ingest(
        [
            nm("1", text="Demande de Remboursement"),
            nm("2", text="j'attends une reponse"),
            nm("3", text="RÉPONSE svp", author_handle="@zoé", author_name="Zoé Éclair"),
            nm("4", text="rien à voir"),
        ],
        now=NOW, first_reply_sla=SLA,
    )

    async def found(query: str) -> list[int]:
        return [r.id for r in await store.queue_window(QueueFilter(search=query))]

    assert await found("remboursement") == [1]
    assert await found("rembour") == [1]
    assert await found("réponse") == [2, 3]
    assert await found("REPONSE") == [2, 3]
    assert await found("eclair") == [3]  # author name
    assert await found("zoe") == [3]  # author handle
    assert await found("reponse svp") == [3]  # every word must match
    # FTS5 syntax in the user's text is only text: no error, no operator.
    for nasty in ('"', "NOT", "a OR b", "re*", "(", "col:x", "^", "-", "'"):
        await found(nasty)
    assert await found("   ") == [1, 2, 3, 4]  # no word: no search filter


def test_fts_query_quotes_everything() -> None:
    assert fts_query('rem"bour NOT') == '"rem"* "bour"* "NOT"*'
    assert fts_query("!!") is None


async def test_search_follows_text_changes_and_deletes(store: Store) -> None:
    [mid] = await store.ingest([nm("1", text="colis perdu")], now=NOW, first_reply_sla=SLA)
    conn = raw(store.path)
    conn.execute("UPDATE mentions SET text = 'facture fausse' WHERE id = ?", (mid,))
    assert await store.queue_window(QueueFilter(search="colis")) == []
    assert len(await store.queue_window(QueueFilter(search="facture"))) == 1
    conn.execute("DELETE FROM mentions WHERE id = ?", (mid,))
    conn.close()
    assert await store.queue_window(QueueFilter(search="facture")) == []


async def test_counters_follow_inserts_changes_and_deletes(store: Store) -> None:
    ids = await store.ingest(
        [nm(str(i), channel=("x", "mastodon")[i % 2], author_handle=f"@u{i}") for i in range(6)],
        now=NOW, first_reply_sla=SLA,
    )
    await store.set_status(ids[0], Status.RESOLVED, actor="a", now=NOW)
    await store.set_status(ids[1], Status.SNOOZED, actor="a", now=NOW, snooze_until=NOW + 9)
    await store.queue_reply(ids[2], "ok", author="a", now=NOW)
    await store.wake_snoozed(NOW + 10)
    conn = raw(store.path)
    conn.execute("DELETE FROM mentions WHERE id = ?", (ids[3],))
    conn.execute("UPDATE mentions SET channel = 'bluesky' WHERE id = ?", (ids[4],))
    truth = {
        (ch, s): n
        for s, ch, n in conn.execute(
            "SELECT status, channel, count(*) FROM mentions GROUP BY status, channel"
        )
    }
    conn.close()
    counts = await store.counts()
    assert dict(counts.by_channel_status) == truth
    assert counts.total == 5
    assert counts.active == 3  # one new on x, one new on bluesky, one woken (open)
    assert counts.by_channel["bluesky"] == 1


async def test_breached_count(store: Store) -> None:
    await store.ingest(
        [nm("1", first_reply_due=NOW - 1), nm("2", first_reply_due=NOW + 1),
         nm("3", first_reply_due=NOW - 5, status=Status.PENDING)],
        now=NOW, first_reply_sla=SLA,
    )
    assert await store.breached_count(NOW) == 1
    assert await store.breached_count(NOW + 2) == 2


# --- plans ---------------------------------------------------------------------------------------
PLANNED = [
    QueueFilter(),
    QueueFilter(channel="x"),
    QueueFilter(status="new"),
    QueueFilter(status="resolved"),
    QueueFilter(status="all"),
    QueueFilter(status="all", channel="x"),
    QueueFilter(assignee="al"),
    QueueFilter(status="all", assignee="al"),
    QueueFilter(tag="refund"),
    QueueFilter(tag="refund", channel="x"),
    QueueFilter(status="all", tag="refund"),
    QueueFilter(search="colis"),
]


@pytest.mark.parametrize("flt", PLANNED, ids=lambda f: f.describe())
@pytest.mark.parametrize("page", ["first", "after", "before"])
async def test_queue_windows_walk_an_index_without_sorting(
    store: Store, flt: QueueFilter, page: str
) -> None:
    key = QueueKey(NOW, 10)
    plan = queue_sql(flt, key if page == "after" else None, key if page == "before" else None, 50)
    conn = sqlite3.connect(store.path)
    steps = [r[3] for r in conn.execute(f"EXPLAIN QUERY PLAN {plan.sql}", plan.params)]
    conn.close()
    assert not any("TEMP B-TREE" in s for s in steps), steps
    # An ordered walk of an index is fine; a scan of the table is not.
    assert not any(s.startswith("SCAN") and "INDEX" not in s for s in steps), steps


# --- keyset pagination against a model --------------------------------------------------------
def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def model_matches(m: Mention, flt: QueueFilter) -> bool:
    if flt.status == "active" and m.status not in (Status.NEW, Status.OPEN):
        return False
    if flt.status not in ("active", "all") and m.status != flt.status:
        return False
    if flt.channel and m.channel != flt.channel:
        return False
    if flt.tag and flt.tag not in m.tags:
        return False
    if flt.search:
        words = fold(f"{m.text} {m.author_handle} {m.author_name}").replace("@", " ").split()
        return all(any(w.startswith(fold(q)) for w in words) for q in flt.search.split())
    return True


def model_due(m: Mention) -> int:
    awaiting = m.status in (Status.NEW, Status.OPEN) and m.replied_at is None
    return m.first_reply_due if awaiting and m.first_reply_due is not None else NO_DUE


WORDS = ("colis", "reçu", "facture", "Remboursement", "merci")


def dataset() -> Iterator:
    statuses = list(Status)
    for i in range(240):
        status = statuses[i % 5]
        yield nm(
            str(i),
            channel=("x", "mastodon", "bluesky")[i % 3],
            author_handle=f"@u{i % 17}",
            text=f"{WORDS[i % 5]} {WORDS[(i * 7) % 5]}",
            # Few distinct dues, so many rows tie on sort_due and the id breaks ties.
            first_reply_due=NOW + (i * 37) % 4 * 100,
            status=status,
            replied_at=NOW if i % 11 == 0 else None,
            snoozed_until=NOW + 50 if status is Status.SNOOZED else None,
            tags=("refund",) if i % 4 == 0 else (),
        )


@pytest.fixture(scope="module")
def paged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[asyncio.AbstractEventLoop,
                                                                       Store, list[Mention]]]:
    loop = asyncio.new_event_loop()
    path: Path = tmp_path_factory.mktemp("paging") / "q.db"

    async def build() -> tuple[Store, list[Mention]]:
        s = await Store.open(path)
        ids = await s.ingest(list(dataset()), now=NOW, first_reply_sla=SLA)
        mentions = [await s.mention(i) for i in ids]
        return s, [m for m in mentions if m is not None]

    store, mentions = loop.run_until_complete(build())
    yield loop, store, mentions
    loop.run_until_complete(store.close())
    loop.close()


filters = st.builds(
    QueueFilter,
    status=st.sampled_from(["active", "all", *[s.value for s in Status]]),
    channel=st.sampled_from([None, "x", "mastodon"]),
    tag=st.sampled_from([None, "refund"]),
    search=st.sampled_from([None, "colis", "REMB", "recu facture"]),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(flt=filters, size=st.integers(1, 40), start=st.integers(0, 300))
def test_pages_forward_backward_and_from_a_key_agree_with_a_full_scan(
    paged: tuple[asyncio.AbstractEventLoop, Store, list[Mention]],
    flt: QueueFilter, size: int, start: int,
) -> None:
    loop, store, mentions = paged
    expected = sorted(
        ((model_due(m), m.id) for m in mentions if model_matches(m, flt)),
    )
    run = loop.run_until_complete

    forward: list[tuple[int, int]] = []
    key: QueueKey | None = None
    while True:
        rows = run(store.queue_window(flt, after=key, limit=size))
        forward += [(r.sort_due, r.id) for r in rows]
        if len(rows) < size:
            break
        key = rows[-1].key
    assert forward == expected

    backward: list[tuple[int, int]] = []
    key = LAST
    while True:
        rows = run(store.queue_window(flt, before=key, limit=size))
        backward = [(r.sort_due, r.id) for r in rows] + backward
        if len(rows) < size:
            break
        key = rows[0].key
    assert backward == expected

    if expected:
        i = start % len(expected)
        pivot = QueueKey(*expected[i])
        after = run(store.queue_window(flt, after=pivot, limit=size))
        assert [(r.sort_due, r.id) for r in after] == expected[i + 1 : i + 1 + size]
        before = run(store.queue_window(flt, before=pivot, limit=size))
        assert [(r.sort_due, r.id) for r in before] == expected[max(0, i - size) : i]
