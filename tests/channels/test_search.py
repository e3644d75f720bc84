"""`adapter.search(query, cursor)` (listening) for X, Mastodon and Bluesky against wire fakes with
the documented requests and payloads: X recent search, Mastodon tag timeline and v2 search,
Bluesky searchPosts."""

from __future__ import annotations

import json
import random
from typing import Any

import httpx
import pytest

from console.channels.base import ChannelAdapter, RateLimited
from console.channels.bluesky import BlueskyAdapter
from console.channels.mastodon import MastodonAdapter
from console.channels.x import XAdapter
from console.clock import FrozenClock
from tests.channels.conftest import NOW, Wire, reply
from tests.channels.test_bluesky import PDS, X, author, login, notif, rate, verification
from tests.channels.test_mastodon import BASE, account, status
from tests.channels.test_x import page, tweet
from tests.channels.test_x import rate as x_rate

SEARCH = "/2/tweets/search/recent"


def state(cursor: str | None) -> dict[str, str]:
    return json.loads(cursor or "{}")


def test_every_adapter_offers_search(client: httpx.AsyncClient, clock: FrozenClock) -> None:
    adapters = [XAdapter(client, clock, user_id="1", access_token="t"),
                MastodonAdapter(client, clock, instance_url=BASE, access_token="t"),
                BlueskyAdapter(client, clock, identifier="a.example", password="p")]
    for adapter in adapters:
        assert isinstance(adapter, ChannelAdapter)
        assert callable(adapter.search)


# --- X ------------------------------------------------------------------------------------------
async def test_x_search_recent_first_run_then_pages_down_to_since_id(
    client: httpx.AsyncClient, clock: FrozenClock, wire: Wire
) -> None:
    x = XAdapter(client, clock, user_id="1584000000000000000", access_token="tok")
    query = '"box fibre" -is:retweet lang:fr'
    wire.on("GET", SEARCH,
            reply(200, page([tweet("1874000000000000009", "ma box fibre &amp; moi")]), x_rate()),
            reply(200, page([tweet("1874000000000000012", "box fibre HS")], next_token="b26v"),
                  x_rate()),
            reply(200, page([tweet("1874000000000000011", "box fibre lente")]), x_rate(0)))
    first = await x.search(query, None)
    [req] = wire.sent("GET", SEARCH)
    params = req.url.params
    assert params["query"] == query and params["max_results"] == "100"
    assert params["expansions"] == "author_id"
    assert {"public_metrics", "created_at", "verified"} <= set(params["user.fields"].split(","))
    assert "since_id" not in params and "next_token" not in params
    assert req.headers["authorization"] == "Bearer tok"
    [m] = first.mentions
    assert (m.channel, m.remote_id, m.text) == ("x", "1874000000000000009",
                                                "ma box fibre & moi")
    assert (m.author_handle, m.author_audience) == ("@zoe_m", 1204)
    assert (m.author_created_at, m.author_verified) == (1386995755, False)
    assert state(first.next_cursor) == {"q": query, "since": "1874000000000000009"}
    assert not first.more  # the first run takes the newest page only

    second = await x.search(query, first.next_cursor)
    params = wire.sent("GET", SEARCH)[1].url.params
    assert params["since_id"] == "1874000000000000009" and "next_token" not in params
    assert second.more
    third = await x.search(query, second.next_cursor)
    params = wire.sent("GET", SEARCH)[2].url.params
    assert (params["since_id"], params["next_token"]) == ("1874000000000000009", "b26v")
    assert not third.more
    # The mark is the newest post of the round, not of its last (older) page.
    assert state(third.next_cursor) == {"q": query, "since": "1874000000000000012"}
    assert third.rate.remaining == 0


async def test_x_search_empty_other_query_and_rate_limit(
    client: httpx.AsyncClient, clock: FrozenClock, wire: Wire
) -> None:
    x = XAdapter(client, clock, user_id="1", access_token="tok", page_size=5)
    wire.on("GET", SEARCH, reply(200, {"meta": {"result_count": 0}}, x_rate()),
            reply(429, {"title": "Too Many Requests", "detail": "Too Many Requests",
                        "type": "about:blank", "status": 429}, x_rate(0)))
    old = json.dumps({"q": "#panne", "since": "1874000000000000001"})
    empty = await x.search("#coupure", old)  # another query's cursor: start afresh
    params = wire.sent("GET", SEARCH)[0].url.params
    assert "since_id" not in params and params["max_results"] == "10"  # search minimum
    assert empty.mentions == [] and empty.next_cursor is None
    with pytest.raises(RateLimited) as limited:
        await x.search("#coupure", None)
    assert limited.value.until == NOW + 900


# --- Mastodon -----------------------------------------------------------------------------------
async def test_mastodon_hashtag_reads_the_tag_timeline(
    client: httpx.AsyncClient, clock: FrozenClock, wire: Wire
) -> None:
    masto = MastodonAdapter(client, clock, instance_url=BASE, access_token="tok", page_size=2)
    path = "/api/v1/timelines/tag/panne"
    link = {"Link": f'<{BASE}/api/v1/timelines/tag/panne?max_id=113000000000000004>; '
                    f'rel="next", <{BASE}/api/v1/timelines/tag/panne?min_id=113000000000000005>'
                    '; rel="prev"'}
    wire.on("GET", path, reply(200, [status("113000000000000005"),
                                     status("113000000000000004", content="<p>bad</p>",
                                            created_at="hier")], link))
    result = await masto.search("#panne", None)
    [req] = wire.sent("GET", path)
    assert dict(req.url.params) == {"limit": "2"}
    [m] = result.mentions
    assert (m.channel, m.remote_id, m.author_handle) == (
        "mastodon", "113000000000000005", f"@zoe@{BASE.removeprefix('https://')}")
    assert m.text.startswith("@comptoir ma box clignote & rien")
    [bad] = result.rejected  # one bad status: the rest lands
    assert bad.remote_id == "113000000000000004" and "timestamp" in bad.error
    assert state(result.next_cursor) == {"q": "#panne", "min": "113000000000000005"}

    await masto.search("#panne", result.next_cursor)
    assert wire.sent("GET", path)[1].url.params["min_id"] == "113000000000000005"


async def test_mastodon_words_use_v2_search_for_statuses(
    client: httpx.AsyncClient, clock: FrozenClock, wire: Wire
) -> None:
    masto = MastodonAdapter(client, clock, instance_url=BASE, access_token="tok", page_size=2)
    wire.on("GET", "/api/v2/search", reply(200, {
        "accounts": [], "hashtags": [],
        "statuses": [status("113000000000000009", account=account("ana@mastodon.social")),
                     status("113000000000000010")]}))
    cursor = json.dumps({"q": "box fibre #panne", "min": "113000000000000001"})
    result = await masto.search("box fibre #panne", cursor)
    [req] = wire.sent("GET", "/api/v2/search")
    assert dict(req.url.params) == {"limit": "2", "min_id": "113000000000000001",
                                    "q": "box fibre #panne", "type": "statuses",
                                    "resolve": "false"}
    assert req.headers["authorization"] == "Bearer tok"
    assert [m.remote_id for m in result.mentions] == ["113000000000000009",
                                                      "113000000000000010"]
    assert result.mentions[0].author_handle == "@ana@mastodon.social"
    assert result.mentions[0].author_created_at == 1667606400  # 2022-11-05T00:00:00.000Z
    assert result.mentions[0].author_verified is None
    assert state(result.next_cursor)["min"] == "113000000000000010"
    assert result.more  # a full page after the mark


# --- Bluesky ------------------------------------------------------------------------------------
def post_view(rkey: str, indexed: str, text: str = "ma box fibre 😡",
              **record_extra: Any) -> dict[str, Any]:
    # A postView is a notification's fields without reason/isRead, plus counts.
    view = notif(rkey, indexed, text=text, **record_extra)
    for key in ("reason", "isRead"):
        view.pop(key)
    view.update(replyCount=0, repostCount=1, likeCount=3, quoteCount=0)
    return view


async def test_bluesky_search_posts_then_pages_back_to_the_mark(
    client: httpx.AsyncClient, clock: FrozenClock, wire: Wire
) -> None:
    sky = BlueskyAdapter(client, clock, identifier="comptoir.bsky.social", password="pw",
                         rng=random.Random(1), page_size=2)
    login(wire)
    search = X + "app.bsky.feed.searchPosts"
    wire.on("GET", search,
            reply(200, {"cursor": "2", "hitsTotal": 40, "posts": [
                post_view("3lf9", "2025-12-31T23:58:20.512Z",
                          by=author(verification=verification("valid"))),
                post_view("3lf8", "2025-12-31T23:50:00.000Z")]}, rate()),
            reply(200, {"cursor": "4", "hitsTotal": 40, "posts": [
                post_view("3lfb", "2026-01-01T00:05:00.000Z"),
                post_view("3lfa", "2026-01-01T00:01:00.000Z")]}, rate()),
            reply(200, {"cursor": "6", "hitsTotal": 40, "posts": [
                post_view("3lf9b", "2026-01-01T00:00:30.000Z"),
                post_view("3lf8", "2025-12-31T23:50:00.000Z")]}, rate()))
    first = await sky.search("box fibre", None)
    req = wire.sent("GET", search)[0]
    assert req.url.host == PDS.removeprefix("https://")
    assert req.headers["authorization"] == "Bearer access-1"
    assert (req.url.params["q"], req.url.params["sort"], req.url.params["limit"]) == (
        "box fibre", "latest", "2")
    assert "cursor" not in req.url.params
    assert [m.remote_id.rsplit("/", 1)[1] for m in first.mentions] == ["3lf9", "3lf8"]
    m = first.mentions[0]
    assert (m.channel, m.author_handle, m.author_audience) == ("bluesky", "@zoe.bsky.social",
                                                               812)
    assert (m.author_created_at, m.author_verified) == (1682935200, True)
    assert first.mentions[1].author_verified is None  # its view has no `verification`
    assert not first.more and state(first.next_cursor)["q"] == "box fibre"

    second = await sky.search("box fibre", first.next_cursor)
    assert "cursor" not in wire.sent("GET", search)[1].url.params
    assert second.more and [m.remote_id[-4:] for m in second.mentions] == ["3lfb", "3lfa"]
    third = await sky.search("box fibre", second.next_cursor)
    assert wire.sent("GET", search)[2].url.params["cursor"] == "4"
    # Stops at posts older than the mark (3lf8): only the one after the mark lands.
    assert [m.remote_id[-5:] for m in third.mentions] == ["3lf9b"]
    assert not third.more
    assert float(state(third.next_cursor)["seen"]) == pytest.approx(NOW + 300)


async def test_bluesky_search_rejects_a_bad_post_and_keeps_the_rest(
    client: httpx.AsyncClient, clock: FrozenClock, wire: Wire
) -> None:
    sky = BlueskyAdapter(client, clock, identifier="comptoir.bsky.social", password="pw",
                         rng=random.Random(1), fetch_audience=False)
    login(wire)
    broken = post_view("3lfx", "2025-12-31T23:58:20.512Z")
    broken["record"]["$type"] = "app.bsky.feed.repost"
    wire.on("GET", X + "app.bsky.feed.searchPosts", reply(200, {"posts": [
        broken, post_view("3lfy", "2025-12-31T23:58:00.000Z"), {"uri": 5}]}, rate()))
    result = await sky.search("#panne", None)
    assert [m.remote_id[-4:] for m in result.mentions] == ["3lfy"]
    assert [r.error.split(":")[0] for r in result.rejected] == ["bluesky", "bluesky"]
    assert result.rejected[0].remote_id == broken["uri"] and result.rejected[1].remote_id is None
