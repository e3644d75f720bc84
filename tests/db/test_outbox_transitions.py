"""Every outbox transition, allowed or refused, and the record key / link kept with the row.

The expected table is written out here, not read from OUTBOX_NEXT, so a change to the state
machine has to be made (and justified) twice."""

from __future__ import annotations

import itertools

import pytest

from db.errors import InvalidTransition
from db.models import OutboxState
from db.store import Store
from tests.db.conftest import NOW, SLA, nm

S = OutboxState

ALLOWED: frozenset[tuple[OutboxState, OutboxState]] = frozenset({
    (S.DRAFT, S.QUEUED),
    (S.QUEUED, S.SENDING),
    (S.SENDING, S.SENT),
    (S.SENDING, S.FAILED),
    (S.SENDING, S.UNKNOWN),
    (S.SENDING, S.QUEUED),  # deferred before the request went out (rate limited)
    (S.FAILED, S.QUEUED),  # edited and re-queued by the agent
    (S.UNKNOWN, S.QUEUED),  # retried, after a lookup
    (S.UNKNOWN, S.SENT),  # the channel shows it: resolved without a second post
})


async def _row_in(store: Store, state: OutboxState) -> int:
    [mid] = await store.ingest([nm(f"t-{state}")], now=NOW, first_reply_sla=SLA)
    item = await store.queue_reply(mid, "hi", author="al", now=NOW)
    # Put the row straight into the state under test (drafts are never written by queue_reply).
    await store._conn.execute("UPDATE outbox SET state = ? WHERE id = ?", (state.value, item.id))
    return item.id


@pytest.mark.parametrize(("before", "after"), list(itertools.product(S, S)),
                         ids=lambda s: str(s))
async def test_every_transition(store: Store, before: OutboxState, after: OutboxState) -> None:
    outbox_id = await _row_in(store, before)
    if (before, after) in ALLOWED:
        moved = await store.set_outbox_state(outbox_id, after, now=NOW + 5, remote_id="r1")
        assert moved.state is after and moved.updated_at == NOW + 5
    else:
        with pytest.raises(InvalidTransition, match=f"from {before.value} to {after.value}"):
            await store.set_outbox_state(outbox_id, after, now=NOW + 5)
        rows = await store.outbox_in_state(before)
        assert [r.id for r in rows] == [outbox_id] and rows[0].updated_at == NOW


async def test_record_key_is_kept_from_the_first_attempt(store: Store) -> None:
    [mid] = await store.ingest([nm("k")], now=NOW, first_reply_sla=SLA)
    item = await store.queue_reply(mid, "hi", author="al", now=NOW)
    assert (item.remote_key, item.remote_url) == (None, None)
    first = await store.set_outbox_state(item.id, S.SENDING, now=NOW, remote_key="3lbkey1")
    assert (first.remote_key, first.attempts) == ("3lbkey1", 1)
    await store.set_outbox_state(item.id, S.QUEUED, now=NOW + 1, error="rate limited")
    # A second key offered on a retry is ignored: the row keeps the one of its first attempt.
    again = await store.set_outbox_state(item.id, S.SENDING, now=NOW + 2, remote_key="3lbkey2")
    assert (again.remote_key, again.attempts) == ("3lbkey1", 2)
    sent = await store.set_outbox_state(item.id, S.SENT, now=NOW + 3, remote_id="at://d/p/3lbkey1",
                                        remote_url="https://bsky.app/profile/a/post/3lbkey1")
    assert sent.remote_url == "https://bsky.app/profile/a/post/3lbkey1"
    assert sent.remote_key == "3lbkey1" and sent.error is None
    assert await store.outbox_for_mention(mid) == [sent]
