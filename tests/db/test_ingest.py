"""Ingest (channel batches), bulk load (generated data) and customer history."""

from __future__ import annotations

from db.models import (
    NO_DUE,
    NewCustomer,
    NewIdentity,
    OutboxState,
    QueueFilter,
    Status,
)
from db.store import Store
from tests.db.conftest import NOW, SLA, nm, raw


async def test_ingest_dedupes_and_returns_only_new_ids(store: Store) -> None:
    first = await store.ingest([nm("1"), nm("2"), nm("1")], now=NOW, first_reply_sla=SLA)
    assert first == [1, 2]
    again = await store.ingest([nm("2"), nm("3"), nm("1", channel="mastodon")],
                               now=NOW, first_reply_sla=SLA)
    assert again == [3, 4]
    assert (await store.counts()).total == 4
    assert await store.ingest([], now=NOW, first_reply_sla=SLA) == []


async def test_ingest_matches_authors_to_identities(store: Store) -> None:
    ids = await store.ingest(
        [nm("1", author_name="Zoé Martin", author_audience=10, author_remote_id="u1"),
         nm("2", author_name="Zoé Martin"),
         nm("3", author_handle="@other", author_name=""),
         nm("4", channel="mastodon", author_name="Zoé Martin")],
        now=NOW, first_reply_sla=SLA,
    )
    ms = [await store.mention(i) for i in ids]
    assert ms[0] and ms[1] and ms[2] and ms[3]
    assert ms[0].customer_id == ms[1].customer_id and ms[0].identity_id == ms[1].identity_id
    assert ms[2].customer_id != ms[0].customer_id
    assert ms[3].customer_id not in (ms[0].customer_id, ms[2].customer_id)  # no guessing
    card = await store.customer_card(ms[0].customer_id)
    assert card is not None and card.customer.first_name == "Zoé" and card.customer.audience == 10
    assert card.identities[0].remote_user_id == "u1"
    other = await store.customer_card(ms[2].customer_id)
    assert other is not None and other.customer.first_name == "other"
    # A later mention carries the author's current audience.
    await store.ingest([nm("5", author_audience=500)], now=NOW, first_reply_sla=SLA)
    card = await store.customer_card(ms[0].customer_id)
    assert card is not None and card.customer.audience == 500
    assert card.identities[0].audience == 500


async def test_ingest_defaults(store: Store) -> None:
    [mid] = await store.ingest([nm("1", created_at=NOW - 50, lang="fr")],
                               now=NOW, first_reply_sla=SLA)
    m = await store.mention(mid)
    assert m is not None
    assert (m.thread_id, m.received_at, m.first_reply_due, m.status, m.lang) == (
        "1", NOW - 50, NOW - 50 + SLA, Status.NEW, "fr")


async def test_ingest_threads_follow_known_parents(store: Store) -> None:
    await store.ingest([nm("root")], now=NOW, first_reply_sla=SLA)
    ids = await store.ingest(
        [nm("a", in_reply_to="root"), nm("b", in_reply_to="a"),
         nm("c", in_reply_to="unknown"), nm("d", channel="mastodon", in_reply_to="root")],
        now=NOW, first_reply_sla=SLA,
    )
    threads = [(await store.mention(i)).thread_id for i in ids]  # type: ignore[union-attr]
    assert threads == ["root", "root", "c", "d"]


async def test_customer_history_merges_mentions_and_replies(store: Store) -> None:
    ids = await store.ingest(
        [nm("1", created_at=NOW), nm("2", created_at=NOW + 100),
         nm("3", channel="mastodon", created_at=NOW + 50)],
        now=NOW, first_reply_sla=SLA,
    )
    await store.queue_reply(ids[0], "réponse", author="al", now=NOW + 60)
    cid = (await store.mention(ids[0])).customer_id  # type: ignore[union-attr]
    history = await store.customer_history(cid)
    assert [(h.kind, h.mention_id, h.at) for h in history] == [
        ("mention", ids[1], NOW + 100), ("reply", ids[0], NOW + 60),
        ("mention", ids[0], NOW),
    ]
    assert history[1].author == "al" and history[1].state == "queued"
    assert history[2].state == "pending" and history[2].author == "@jean"
    assert len(await store.customer_history(cid, limit=1)) == 1


async def test_bulk_load(store: Store) -> None:
    await store.ingest([nm("existing")], now=NOW, first_reply_sla=SLA)
    schema_before = sorted(raw(store.path).execute("SELECT type, name, sql FROM sqlite_master"))
    customers = [
        NewCustomer("Léa Martin", "Léa", (NewIdentity("x", "@lea", "Léa", 300),
                                           NewIdentity("bluesky", "@lea.bsky", "Léa M", 7)),
                    tags=("vip",)),
    ]
    mentions = [
        nm("b1", author_handle="@lea", text="Où est mon remboursement ?", tags=("refund",)),
        nm("b2", author_handle="@lea.bsky", channel="bluesky", in_reply_to="x"),
        nm("b3", author_handle="@new", author_name="Nouveau Client", status=Status.RESOLVED,
           reply_text="Voilà", reply_author="al", resolved_at=NOW + 9),
        nm("existing"),  # already stored: skipped
        nm("b1"),  # repeated within the load: skipped
        nm("b4", author_handle="@lea", in_reply_to="b1"),
    ]
    n = await store.bulk_load(customers, mentions, now=NOW, first_reply_sla=SLA)
    assert n == 4
    assert sorted(raw(store.path).execute("SELECT type, name, sql FROM sqlite_master")) == (
        schema_before
    )
    counts = await store.counts()
    assert dict(counts.by_status) == {"new": 4, "resolved": 1}
    found = await store.queue_window(QueueFilter(search="remboursement"))
    assert [r.author_handle for r in found] == ["@lea"]
    assert [r.author_handle for r in await store.queue_window(QueueFilter(tag="refund"))] == [
        "@lea"
    ]
    lea = found[0].customer_id
    card = await store.customer_card(lea)
    assert card is not None and card.customer.tags == ("vip",) and card.customer.audience == 300
    assert len(card.identities) == 2
    b4 = await store.mention(5)  # ids: existing 1, then b1..b4
    assert b4 is not None and b4.remote_id == "b4" and b4.thread_id == "b1"
    resolved = await store.queue_window(QueueFilter(status="resolved"))
    [sent] = await store.outbox_for_mention(resolved[0].id)
    assert (sent.state, sent.author, sent.text) == (OutboxState.SENT, "al", "Voilà")
    m = await store.mention(resolved[0].id)
    assert m is not None and m.replied_at == NOW and resolved[0].sort_due == NO_DUE
    # Triggers are back: later changes keep counters and search right.
    await store.set_status(resolved[0].id, Status.OPEN, actor="al", now=NOW)
    assert (await store.counts()).by_status["open"] == 1
    [mid] = await store.ingest([nm("after", text="facture")], now=NOW, first_reply_sla=SLA)
    assert [r.id for r in await store.queue_window(QueueFilter(search="facture"))] == [mid]


async def test_bulk_load_failure_rolls_everything_back(store: Store) -> None:
    schema_before = sorted(raw(store.path).execute("SELECT type, name, sql FROM sqlite_master"))

    def boom():  # type: ignore[no-untyped-def]
        yield nm("1")
        raise RuntimeError("generator failed")

    try:
        await store.bulk_load([], boom(), now=NOW, first_reply_sla=SLA)
    except RuntimeError:
        pass
    else:
        raise AssertionError("expected the generator's error")
    assert sorted(raw(store.path).execute("SELECT type, name, sql FROM sqlite_master")) == (
        schema_before
    )
    assert (await store.counts()).total == 0


async def test_lone_surrogates_are_stored_as_replacement_characters(tmp_path) -> None:
    from db.models import NewMention
    from db.store import Store

    store = await Store.open(tmp_path / "s.db")
    try:
        [mid] = await store.ingest(
            [NewMention(channel="x", remote_id="s1", author_handle="@bad\ud800",
                        author_name="Bad \udfff Name", text="broken \ud83d pair \ud83d\ude00",
                        created_at=1000)],
            now=1000, first_reply_sla=3600,
        )
        mention = await store.mention(mid)
        assert mention is not None
        assert mention.text == "broken \ufffd pair 😀"
        assert mention.author_handle == "@bad\ufffd"
        await store.add_note(mid, "note \ud800", author="a", now=1000)
        await store.save_draft(mid, "draft \ud800", None, now=1000)
        item = await store.queue_reply(mid, "reply \udc00", author="a", now=1000)
        assert item.text == "reply \ufffd"
    finally:
        await store.close()
