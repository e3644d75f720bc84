"""Drafts, queued replies and the outbox state machine."""

from __future__ import annotations

import pytest

from db.errors import InvalidTransition, NotFound, StoreError
from db.models import NO_DUE, OutboxState, Status
from db.store import Store
from tests.db.conftest import NOW, SLA, nm

S = OutboxState


async def test_drafts_are_upserted(store: Store) -> None:
    [mid] = await store.ingest([nm("1")], now=NOW, first_reply_sla=SLA)
    assert await store.draft(mid) is None
    tpl = await store.add_template("hello", "fr", "Bonjour {first_name}")
    await store.save_draft(mid, "Bonjour", tpl.id, now=NOW)
    await store.save_draft(mid, "Bonjour Jean", None, now=NOW + 1)
    d = await store.draft(mid)
    assert d is not None
    assert (d.text, d.template_id, d.updated_at) == ("Bonjour Jean", None, NOW + 1)


async def test_queue_reply_is_one_transaction_of_everything(store: Store) -> None:
    [mid] = await store.ingest([nm("1")], now=NOW, first_reply_sla=SLA)
    await store.save_draft(mid, "draft", None, now=NOW)
    item = await store.queue_reply(mid, "Merci !", author="al", now=NOW + 10)
    assert item.state is S.QUEUED and item.attempts == 0
    assert len(item.idempotency_key) == 32 and int(item.idempotency_key, 16) >= 0
    assert await store.draft(mid) is None
    m = await store.mention(mid)
    assert m is not None and m.status is Status.PENDING and m.replied_at == NOW + 10
    row = await store.queue_row(mid)
    assert row is not None and row.sort_due == NO_DUE
    # Reopened after a reply: still no first-reply clock.
    await store.set_status(mid, Status.OPEN, actor="al", now=NOW + 20)
    assert (await store.queue_row(mid)).sort_due == NO_DUE  # type: ignore[union-attr]
    assert await store.outbox_for_mention(mid) == [item]
    assert [e.action for e in await store.events(mid)] == ["reply", "status"]
    second = await store.queue_reply(mid, "Encore", author="al", now=NOW + 30)
    assert second.idempotency_key != item.idempotency_key
    assert (await store.mention(mid)).replied_at == NOW + 10  # type: ignore[union-attr]


async def test_outbox_life_cycle_and_retry(store: Store) -> None:
    [mid] = await store.ingest([nm("1")], now=NOW, first_reply_sla=SLA)
    item = await store.queue_reply(mid, "hi", author="al", now=NOW)
    assert await store.outbox_in_state(S.QUEUED) == [item]
    sending = await store.set_outbox_state(item.id, S.SENDING, now=NOW + 1)
    assert sending.attempts == 1
    failed = await store.set_outbox_state(item.id, S.FAILED, now=NOW + 2, error="HTTP 503")
    assert failed.error == "HTTP 503" and failed.updated_at == NOW + 2
    await store.set_outbox_state(item.id, S.QUEUED, now=NOW + 3)
    await store.set_outbox_state(item.id, S.SENDING, now=NOW + 4)
    await store.set_outbox_state(item.id, S.UNKNOWN, now=NOW + 5, error="timeout")
    await store.set_outbox_state(item.id, S.QUEUED, now=NOW + 6)
    await store.set_outbox_state(item.id, S.SENDING, now=NOW + 7)
    sent = await store.set_outbox_state(item.id, S.SENT, now=NOW + 8, remote_id="r9")
    assert (sent.state, sent.remote_id, sent.error, sent.attempts) == (S.SENT, "r9", None, 3)
    assert sent.idempotency_key == item.idempotency_key
    assert await store.outbox_in_state(S.QUEUED) == []
    assert await store.outbox_in_state(S.SENT) == [sent]
    details = [e.detail for e in await store.events(mid) if e.action == "outbox"]
    assert details[0] == f"{item.id} queued -> sending" and len(details) == 8


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        ((), S.SENT),
        ((), S.FAILED),
        ((), S.DRAFT),
        ((S.SENDING, S.SENT), S.QUEUED),
        ((S.SENDING, S.SENT), S.SENDING),
        ((S.SENDING,), S.DRAFT),
        ((S.SENDING, S.UNKNOWN), S.FAILED),
        ((S.SENDING, S.FAILED), S.SENT),
    ],
)
async def test_invalid_outbox_transitions(
    store: Store, path: tuple[OutboxState, ...], bad: OutboxState
) -> None:
    [mid] = await store.ingest([nm("1")], now=NOW, first_reply_sla=SLA)
    item = await store.queue_reply(mid, "hi", author="al", now=NOW)
    for state in path:
        await store.set_outbox_state(item.id, state, now=NOW)
    with pytest.raises(InvalidTransition):
        await store.set_outbox_state(item.id, bad, now=NOW)
    after = await store.outbox_for_mention(mid)
    assert after[0].state is (path[-1] if path else S.QUEUED)


async def test_outbox_missing_item(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.set_outbox_state(42, S.SENDING, now=NOW)


async def test_outbox_in_state_is_oldest_first_and_limited(store: Store) -> None:
    ids = await store.ingest([nm(str(i)) for i in range(5)], now=NOW, first_reply_sla=SLA)
    items = [await store.queue_reply(mid, "x", author="al", now=NOW) for mid in reversed(ids)]
    got = await store.outbox_in_state(S.QUEUED, limit=3)
    assert got == items[:3]


async def test_templates(store: Store) -> None:
    await store.add_template("thanks", "fr", "Merci")
    await store.add_template("hello", "fr", "Bonjour")
    await store.add_template("hello", "en", "Hello")
    assert [(t.name, t.lang) for t in await store.templates()] == [
        ("hello", "en"), ("hello", "fr"), ("thanks", "fr"),
    ]
    with pytest.raises(StoreError, match="exists already"):
        await store.add_template("hello", "fr", "Salut")


async def test_outbox_counts_cover_unfinished_states_only(tmp_path) -> None:
    from db.models import NewMention, OutboxState
    from db.store import Store

    store = await Store.open(tmp_path / "c.db")
    try:
        ids = await store.ingest(
            [NewMention(channel="x", remote_id=f"c{i}", author_handle=f"@a{i}", author_name="A",
                        text="t", created_at=1000) for i in range(4)],
            now=1000, first_reply_sla=3600,
        )
        items = [await store.queue_reply(mid, "r", author="a", now=1000) for mid in ids]
        await store.set_outbox_state(items[0].id, OutboxState.SENDING, now=1001)
        await store.set_outbox_state(items[1].id, OutboxState.SENDING, now=1001)
        await store.set_outbox_state(items[1].id, OutboxState.SENT, now=1002, remote_id="9")
        await store.set_outbox_state(items[2].id, OutboxState.SENDING, now=1001)
        await store.set_outbox_state(items[2].id, OutboxState.FAILED, now=1002, error="no")
        assert await store.outbox_counts() == {
            OutboxState.QUEUED: 1, OutboxState.SENDING: 1, OutboxState.FAILED: 1,
        }
    finally:
        await store.close()
