"""X API v2 adapter against a wire-accurate fake (payloads as the v2 reference shows them)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from console.channels.base import (
    AuthRejected,
    BadPayload,
    DuplicateContent,
    MonthlyCapReached,
    RateLimited,
    ReplyTarget,
    TransientError,
)
from console.channels.x import XAdapter
from console.clock import FrozenClock
from tests.channels.conftest import NOW, Wire, body_of, outbox, reply

ME = "1584000000000000000"
MENTIONS = f"/2/users/{ME}/mentions"
RESET = str(NOW + 900)


def rate(remaining: int = 179) -> dict[str, str]:
    return {"x-rate-limit-limit": "180", "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": RESET, "content-type": "application/json; charset=utf-8"}


def tweet(tid: str, text: str, author: str = "2244994945", **extra: Any) -> dict[str, Any]:
    t: dict[str, Any] = {
        "id": tid, "text": text, "author_id": author,
        "created_at": "2025-12-31T23:58:20.000Z", "conversation_id": tid, "lang": "fr",
        "edit_history_tweet_ids": [tid],
        "entities": {"mentions": [{"start": 0, "end": 9, "username": "Comptoir", "id": ME}]},
    }
    t.update(extra)
    return t


USER = {
    "id": "2244994945", "name": "Zoé Martin", "username": "zoe_m", "verified": False,
    "created_at": "2013-12-14T04:35:55.000Z",
    "public_metrics": {"followers_count": 1204, "following_count": 310, "tweet_count": 5120,
                       "listed_count": 12, "like_count": 400},
}


def page(tweets: list[dict[str, Any]], *, next_token: str | None = None,
         users: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"result_count": len(tweets)}
    if tweets:
        meta.update(newest_id=tweets[0]["id"], oldest_id=tweets[0]["id"])
    if next_token:
        meta["next_token"] = next_token
    return {"data": tweets, "includes": {"users": users if users is not None else [USER]},
            "meta": meta}


@pytest.fixture
def x(client: httpx.AsyncClient, clock: FrozenClock) -> XAdapter:
    return XAdapter(client, clock, user_id=ME, access_token="tok")


def cursor(**state: str) -> str:
    return json.dumps(state, sort_keys=True, separators=(",", ":"))


async def test_mention_fields_entities_and_thread(x: XAdapter, wire: Wire) -> None:
    wire.on("GET", MENTIONS, reply(200, page([
        tweet("1874000000000000005", "@Comptoir box &amp; fibre &lt;KO&gt; 😡",
              conversation_id="1874000000000000001", in_reply_to_user_id=ME,
              referenced_tweets=[{"type": "replied_to", "id": "1874000000000000003"}]),
    ]), rate()))
    result = await x.fetch_mentions(None)
    [m] = result.mentions
    assert m.channel == "x" and m.remote_id == "1874000000000000005"
    assert m.text == "@Comptoir box & fibre <KO> 😡"
    assert (m.author_handle, m.author_name, m.author_audience) == ("@zoe_m", "Zoé Martin", 1204)
    assert m.author_remote_id == "2244994945"
    assert m.thread_id == "1874000000000000001"
    assert m.in_reply_to == "1874000000000000003"
    assert m.created_at == NOW - 100 and m.received_at == NOW and m.lang == "fr"
    assert result.rate.remaining == 179 and result.rate.reset_at == float(RESET)
    req = wire.requests[0]
    assert req.headers["authorization"] == "Bearer tok"
    assert req.url.params["expansions"] == "author_id"
    assert "public_metrics" in req.url.params["user.fields"]
    assert "conversation_id" in req.url.params["tweet.fields"]
    assert {"public_metrics", "created_at", "verified"} <= set(
        req.url.params["user.fields"].split(","))
    assert "since_id" not in req.url.params
    assert m.author_created_at == 1386995755 and m.author_verified is False  # 2013-12-14T04:35:55Z


async def test_author_age_and_verified_from_includes_users(x: XAdapter, wire: Wire) -> None:
    users = [{**USER, "id": "11", "username": "new_acct", "verified": True,
              "created_at": "2025-12-30T10:00:00.000Z"},
             {**USER, "id": "12", "username": "bad_date", "created_at": "hier"},
             {key: v for key, v in USER.items() if key not in ("created_at", "verified")}
             | {"id": "13", "username": "silent"},
             {**USER, "id": "14", "username": "future", "created_at": "2030-01-01T00:00:00Z"}]
    wire.on("GET", MENTIONS, reply(200, page(
        [tweet(f"2{i}", "hello", author=f"1{i}") for i in range(1, 5)], users=users), rate()))
    result = await x.fetch_mentions(None)
    assert result.rejected == []  # a missing or malformed date never costs the item
    new, bad, silent, future = result.mentions
    assert (new.author_created_at, new.author_verified) == (NOW - 2 * 86400 + 10 * 3600, True)
    assert (bad.author_created_at, bad.author_verified) == (None, False)
    assert (silent.author_created_at, silent.author_verified) == (None, None)
    assert future.author_created_at is None  # later than we saw it: cannot be true


async def test_long_post_uses_note_tweet(x: XAdapter, wire: Wire) -> None:
    long = "a" * 300
    wire.on("GET", MENTIONS, reply(200, page([
        tweet("11", long[:270] + "… https://t.co/x", note_tweet={"text": long})]), rate()))
    [m] = (await x.fetch_mentions(None)).mentions
    assert m.text == long


async def test_first_run_takes_newest_page_only(x: XAdapter, wire: Wire) -> None:
    wire.on("GET", MENTIONS, reply(200, page([tweet("30", "a"), tweet("29", "b")],
                                             next_token="7140dibdnow9c7btw3w29grvxfcgvpb9n9c"),
                                   rate()))
    result = await x.fetch_mentions(None)
    assert not result.more
    assert json.loads(result.next_cursor or "") == {"since": "30"}


async def test_pagination_walks_down_to_since_then_moves_the_mark(x: XAdapter,
                                                                  wire: Wire) -> None:
    wire.on("GET", MENTIONS,
            reply(200, page([tweet("50", "new 1"), tweet("49", "new 2")], next_token="tokA"),
                  rate(178)),
            reply(200, page([tweet("48", "new 3")]), rate(177)))
    first = await x.fetch_mentions(cursor(since="40"))
    assert first.more
    assert [m.remote_id for m in first.mentions] == ["50", "49"]
    second = await x.fetch_mentions(first.next_cursor)
    assert not second.more
    assert [m.remote_id for m in second.mentions] == ["48"]
    assert json.loads(second.next_cursor or "") == {"since": "50"}
    p1, p2 = (r.url.params for r in wire.requests)
    assert p1["since_id"] == "40" and "pagination_token" not in p1
    assert p2["since_id"] == "40" and p2["pagination_token"] == "tokA"
    assert second.rate.remaining == 177


async def test_empty_page_keeps_the_cursor(x: XAdapter, wire: Wire) -> None:
    wire.on("GET", MENTIONS, reply(200, {"meta": {"result_count": 0}}, rate()))
    result = await x.fetch_mentions(cursor(since="40"))
    assert result.mentions == [] and result.rejected == [] and not result.more
    assert json.loads(result.next_cursor or "") == {"since": "40"}
    first_run = await x.fetch_mentions(None)
    assert first_run.next_cursor is None


async def test_rate_limited_until_reset_header(x: XAdapter, wire: Wire) -> None:
    wire.on("GET", MENTIONS, reply(429, {"title": "Too Many Requests",
                                         "detail": "Too Many Requests", "type": "about:blank",
                                         "status": 429}, rate(0)))
    with pytest.raises(RateLimited) as err:
        await x.fetch_mentions(None)
    assert err.value.until == float(RESET) and err.value.retryable
    assert x.rate_state.remaining == 0 and x.rate_state.wait(NOW) == 900


async def test_usage_capped(x: XAdapter, wire: Wire) -> None:
    wire.on("GET", MENTIONS, reply(429, {
        "account_id": "1400000000", "product_name": "standard-basic",
        "title": "UsageCapExceeded", "period": "Monthly", "scope": "Product",
        "detail": "Usage cap exceeded: Monthly product cap",
        "type": "https://api.twitter.com/2/problems/usage-capped"},
        {"x-rate-limit-limit": "40000", "x-rate-limit-remaining": "39999"}))
    with pytest.raises(MonthlyCapReached) as err:
        await x.fetch_mentions(None)
    assert "Monthly product cap" in err.value.detail and not err.value.retryable


async def test_server_errors_and_network(x: XAdapter, wire: Wire) -> None:
    wire.on("GET", MENTIONS, reply(503, text="<html>Over capacity</html>"))
    with pytest.raises(TransientError) as err:
        await x.fetch_mentions(None)
    assert err.value.status == 503
    wire.on("GET", MENTIONS, httpx.ConnectTimeout("timed out"))
    with pytest.raises(TransientError) as err:
        await x.fetch_mentions(None)
    assert not err.value.maybe_sent
    wire.on("POST", "/2/tweets", httpx.ReadTimeout("timed out"))
    with pytest.raises(TransientError) as err:
        await x.send_reply(outbox("merci", channel="x"), ReplyTarget("11"))
    assert err.value.maybe_sent


async def test_unauthorized(x: XAdapter, wire: Wire) -> None:
    wire.on("GET", MENTIONS, reply(401, {"title": "Unauthorized", "type": "about:blank",
                                         "status": 401, "detail": "Unauthorized"}))
    with pytest.raises(AuthRejected):
        await x.fetch_mentions(None)


async def test_malformed_json_and_items(x: XAdapter, wire: Wire) -> None:
    wire.on("GET", MENTIONS, reply(200, text='{"data": [', headers=rate()))
    with pytest.raises(BadPayload):
        await x.fetch_mentions(None)
    wire.on("GET", MENTIONS, reply(200, page([
        tweet("60", "good"),
        tweet("59", "unknown author", author="777"),
        tweet("58", "bad date", created_at="yesterday"),
        {"id": 57, "text": "numeric id"},
        "not an object",
    ]), rate()))
    result = await x.fetch_mentions(None)
    assert [m.remote_id for m in result.mentions] == ["60"]
    reasons = [r.error for r in result.rejected]
    assert len(reasons) == 4
    assert "includes.users" in reasons[0] and "timestamp" in reasons[1]
    assert result.rejected[3].raw == "not an object"


async def test_send_reply(x: XAdapter, wire: Wire) -> None:
    wire.on("POST", "/2/tweets", reply(201, {"data": {
        "id": "1874000000000000099", "text": "@zoe_m Bonjour Zoé, on regarde.",
        "edit_history_tweet_ids": ["1874000000000000099"]}}, rate(99)))
    sent = await x.send_reply(outbox("@zoe_m Bonjour Zoé, on regarde.", channel="x"),
                              ReplyTarget("1874000000000000005"))
    assert sent.remote_id == "1874000000000000099"
    assert sent.url == "https://x.com/i/web/status/1874000000000000099"
    assert body_of(wire.requests[0]) == {
        "text": "@zoe_m Bonjour Zoé, on regarde.",
        "reply": {"in_reply_to_tweet_id": "1874000000000000005"}}


async def test_duplicate_content(x: XAdapter, wire: Wire) -> None:
    wire.on("POST", "/2/tweets", reply(403, {
        "detail": "You are not allowed to create a Tweet with duplicate content.",
        "type": "about:blank", "title": "Forbidden", "status": 403}))
    with pytest.raises(DuplicateContent) as err:
        await x.send_reply(outbox("merci", channel="x"), ReplyTarget("11"))
    assert not err.value.retryable


async def test_find_existing_reply_in_own_timeline(x: XAdapter, wire: Wire) -> None:
    parent = "1874000000000000005"
    wire.on("GET", f"/2/users/{ME}/tweets", reply(200, {
        "data": [
            {"id": "1874000000000000120", "text": "autre chose",
             "referenced_tweets": [{"type": "replied_to", "id": parent}]},
            {"id": "1874000000000000110", "text": "Ça &amp; le lien https://t.co/AbC123",
             "referenced_tweets": [{"type": "replied_to", "id": parent}],
             "conversation_id": parent},
        ],
        "meta": {"result_count": 2, "newest_id": "1874000000000000120",
                 "oldest_id": "1874000000000000110"}}, rate()))
    item = outbox("Ça & le lien https://exemple.fr/suivi?id=4", channel="x")
    found = await x.find_existing_reply(item, ReplyTarget(parent))
    assert found is not None and found.remote_id == "1874000000000000110"
    assert wire.requests[0].url.params["since_id"] == parent
    missing = await x.find_existing_reply(outbox("jamais envoyé", channel="x"),
                                          ReplyTarget(parent))
    assert missing is None


async def test_lookup_profiles(x: XAdapter, wire: Wire) -> None:
    wire.on("GET", "/2/users", reply(200, {"data": [USER, {"id": "x"}]}, rate()))
    [p] = await x.lookup_profiles(["2244994945", "2244994945", "not-numeric"])
    assert (p.handle, p.audience, p.verified) == ("@zoe_m", 1204, False)
    assert wire.requests[0].url.params["ids"] == "2244994945"
