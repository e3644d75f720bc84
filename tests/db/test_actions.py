"""Agent actions: each changes the mention and appends an Event in the same transaction."""

from __future__ import annotations

import sqlite3

import pytest

from db.errors import InvalidTransition, NotFound
from db.models import NO_DUE, QueueFilter, Status
from db.store import Store
from tests.db.conftest import NOW, SLA, nm, raw


async def one(store: Store, **kw: object) -> int:
    [mid] = await store.ingest([nm("1", **kw)], now=NOW, first_reply_sla=SLA)  # type: ignore[arg-type]
    return mid


async def test_resolve_and_reopen(store: Store) -> None:
    mid = await one(store)
    m = await store.set_status(mid, Status.RESOLVED, actor="al", now=NOW + 5)
    assert m.status is Status.RESOLVED and m.resolved_at == NOW + 5
    assert (await store.queue_row(mid)).sort_due == NO_DUE  # type: ignore[union-attr]
    m = await store.set_status(mid, Status.OPEN, actor="al", now=NOW + 6)
    assert m.status is Status.OPEN and m.resolved_at is None
    # Not replied yet: the first-reply clock runs again, minus the second it was resolved.
    assert (await store.queue_row(mid)).sort_due == NOW + SLA + 1  # type: ignore[union-attr]
    events = await store.events(mid)
    assert [(e.actor, e.action, e.detail, e.at) for e in events] == [
        ("al", "status", "new -> resolved", NOW + 5),
        ("al", "status", "resolved -> open", NOW + 6),
    ]


async def test_snooze_needs_a_future_wake_time(store: Store) -> None:
    mid = await one(store)
    with pytest.raises(InvalidTransition):
        await store.set_status(mid, Status.SNOOZED, actor="al", now=NOW)
    with pytest.raises(InvalidTransition):
        await store.set_status(mid, Status.SNOOZED, actor="al", now=NOW, snooze_until=NOW)
    m = await store.set_status(mid, Status.SNOOZED, actor="al", now=NOW, snooze_until=NOW + 60)
    assert m.snoozed_until == NOW + 60
    assert await store.queue_window(QueueFilter()) == []
    assert len(await store.events(mid)) == 1  # the refused attempts left no trace


async def test_wake_snoozed(store: Store) -> None:
    ids = await store.ingest([nm("1"), nm("2"), nm("3")], now=NOW, first_reply_sla=SLA)
    await store.set_status(ids[0], Status.SNOOZED, actor="al", now=NOW, snooze_until=NOW + 10)
    await store.set_status(ids[1], Status.SNOOZED, actor="al", now=NOW, snooze_until=NOW + 20)
    assert await store.wake_snoozed(NOW + 9) == []
    assert await store.wake_snoozed(NOW + 10) == [ids[0]]
    m = await store.mention(ids[0])
    assert m is not None and m.status is Status.OPEN and m.snoozed_until is None
    assert (await store.events(ids[0]))[-1].actor == "system"
    assert await store.wake_snoozed(NOW + 30) == [ids[1]]


async def test_assign(store: Store) -> None:
    mid = await one(store)
    assert (await store.assign(mid, "bo", actor="al", now=NOW)).assignee == "bo"
    assert [r.id for r in await store.queue_window(QueueFilter(assignee="bo"))] == [mid]
    assert (await store.assign(mid, None, actor="al", now=NOW)).assignee is None
    assert [e.detail for e in await store.events(mid)] == ["bo", ""]


async def test_set_tags_normalises_and_feeds_the_tag_filter(store: Store) -> None:
    mid = await one(store, tags=("old",))
    m = await store.set_tags(mid, [" vip ", "a|b", "vip", "", "refund"], actor="al", now=NOW)
    assert m.tags == ("vip", "ab", "refund")
    assert await store.queue_window(QueueFilter(tag="old")) == []
    assert [r.id for r in await store.queue_window(QueueFilter(tag="ab"))] == [mid]
    # The tag index follows later status changes.
    await store.set_status(mid, Status.RESOLVED, actor="al", now=NOW)
    assert await store.queue_window(QueueFilter(tag="vip")) == []
    assert len(await store.queue_window(QueueFilter(tag="vip", status="resolved"))) == 1
    assert (await store.events(mid))[0].detail == "vip,ab,refund"


async def test_add_note_and_customer_card(store: Store) -> None:
    mid = await one(store, author_audience=120)
    m = await store.mention(mid)
    assert m is not None
    n1 = await store.add_note(mid, "called her", author="al", now=NOW)
    n2 = await store.add_note(mid, "again", author="bo", now=NOW + 1)
    card = await store.customer_card(m.customer_id)
    assert card is not None
    assert card.customer.first_name == "Jean" and card.customer.audience == 120
    assert [i.handle for i in card.identities] == ["@jean"]
    assert card.notes == (n2, n1)
    assert (await store.events(mid))[0].action == "note"
    assert await store.customer_card(999) is None


async def test_actions_on_a_missing_mention(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.set_status(5, Status.OPEN, actor="al", now=NOW)
    with pytest.raises(NotFound):
        await store.assign(5, "x", actor="al", now=NOW)
    with pytest.raises(NotFound):
        await store.add_note(5, "x", author="al", now=NOW)
    with pytest.raises(NotFound):
        await store.queue_reply(5, "x", author="al", now=NOW)
    with pytest.raises(NotFound):
        await store.save_draft(5, "x", None, now=NOW)


async def test_events_are_append_only(store: Store) -> None:
    mid = await one(store)
    await store.assign(mid, "bo", actor="al", now=NOW)
    conn = raw(store.path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE events SET actor = 'mallory'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM events")
    conn.close()
    assert [e.actor for e in await store.events(mid)] == ["al"]


async def test_thread(store: Store) -> None:
    ids = await store.ingest(
        [nm("p", created_at=NOW), nm("c1", in_reply_to="p", created_at=NOW + 1)],
        now=NOW, first_reply_sla=SLA,
    )
    more = await store.ingest(
        [nm("c2", in_reply_to="c1", created_at=NOW + 2), nm("o", created_at=NOW + 3),
         nm("t", thread_id="given", in_reply_to="p")],
        now=NOW, first_reply_sla=SLA,
    )
    assert [m.id for m in await store.thread(more[0])] == [*ids, more[0]]
    m = await store.mention(more[2])
    assert m is not None and m.thread_id == "given"
    assert await store.thread(999) == []
