"""The quarantine table's store functions: add (once), count, list, clear, cut at 64 KB."""

from __future__ import annotations

from db.quarantine import (
    MAX_PAYLOAD_BYTES,
    BadItem,
    clear_quarantine,
    cut,
    quarantine,
    quarantine_count,
    quarantined,
)
from db.store import Store
from tests.db.conftest import NOW


async def test_add_count_list_clear(store: Store) -> None:
    items = [BadItem("1", "x: bad id", '{"id": 1}'), BadItem(None, "x: not an object", "7")]
    assert await quarantine(store, account="x", channel="x", items=items, now=NOW) == 2
    # The same page fetched again (crash before its cursor was saved): nothing added twice.
    assert await quarantine(store, account="x", channel="x", items=items, now=NOW + 5) == 0
    await quarantine(store, account="sky", channel="bluesky", now=NOW,
                     items=[BadItem("at://a/b/c", "bluesky: no cid", "{}")])
    assert (await quarantine_count(store, "x"), await quarantine_count(store, "sky")) == (2, 1)
    newest = await quarantined(store)
    assert [(q.account, q.remote_id) for q in newest] == [("sky", "at://a/b/c"), ("x", None),
                                                          ("x", "1")]
    assert [q.error for q in await quarantined(store, account="x", limit=1)] == [
        "x: not an object"]
    assert await clear_quarantine(store, account="x") == 2
    assert await quarantine_count(store, "x") == 0 and await quarantine_count(store, "sky") == 1
    assert await clear_quarantine(store) == 1


async def test_payloads_are_cut_and_storable(store: Store) -> None:
    big = "€" * 30_000  # 90,000 bytes of UTF-8
    await quarantine(store, account="m", channel="mastodon", now=NOW,
                     items=[BadItem("9", "mastodon: x", big + "\ud800")])
    [row] = await quarantined(store)
    data = row.payload.encode("utf-8")
    assert len(data) <= MAX_PAYLOAD_BYTES and len(data) == MAX_PAYLOAD_BYTES - 1  # 3-byte steps
    assert set(row.payload) == {"€"}
    assert cut("a\ud800b") == "a\ufffdb" and cut("short") == "short"
