"""Bluesky / AT Protocol adapter against a wire-accurate fake (XRPC shapes of the lexicons)."""

from __future__ import annotations

import json
import random
from typing import Any

import httpx
import pytest

from console.channels.base import AuthRejected, BadPayload, RateLimited, ReplyTarget
from console.channels.bluesky import (
    BlueskyAdapter,
    Session,
    facet_spans,
    facets_for,
    tid,
)
from console.clock import FrozenClock
from tests.channels.conftest import NOW, Wire, body_of, outbox, reply

PDS = "https://morel.us-east.host.bsky.network"
ME = "did:plc:comptoir7x2q"
ZOE = "did:plc:zoe4abcd"
X = "/xrpc/"


def rate(remaining: int = 2999) -> dict[str, str]:
    return {"ratelimit-limit": "3000", "ratelimit-remaining": str(remaining),
            "ratelimit-reset": str(NOW + 300), "ratelimit-policy": "3000;w=300"}


def session_body(n: int = 1) -> dict[str, Any]:
    return {
        "did": ME, "handle": "comptoir.bsky.social", "email": "care@example.fr",
        "emailConfirmed": True, "accessJwt": f"access-{n}", "refreshJwt": f"refresh-{n}",
        "active": True,
        "didDoc": {"@context": ["https://www.w3.org/ns/did/v1"], "id": ME,
                   "alsoKnownAs": ["at://comptoir.bsky.social"],
                   "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
                                "serviceEndpoint": PDS}]},
    }


def author(did: str = ZOE, handle: str = "zoe.bsky.social", **extra: Any) -> dict[str, Any]:
    view = {"did": did, "handle": handle, "displayName": "Zoé Martin",
            "avatar": "https://cdn.bsky.app/img/avatar/plain/x/y@jpeg",
            "associated": {"chat": {"allowIncoming": "following"}},
            "labels": [], "createdAt": "2023-05-01T10:00:00.000Z",
            "indexedAt": "2024-01-01T00:00:00.000Z"}
    view.update(extra)
    return view


def verification(status: str) -> dict[str, Any]:
    """app.bsky.actor.defs#verificationState."""
    verifications = [{"issuer": "did:plc:z72i7hdynmk6r22z27h6tvur",
                      "uri": "at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.graph.verification/3l",
                      "isValid": status == "valid", "createdAt": "2025-04-21T10:00:00.000Z"}]
    return {"verifications": verifications if status != "none" else [],
            "verifiedStatus": status, "trustedVerifierStatus": "none"}


def notif(rkey: str, indexed: str, text: str = "@comptoir.bsky.social ma box 😡",
          reason: str = "mention", by: dict[str, Any] | None = None,
          **record_extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": text,
                              "createdAt": indexed, "langs": ["fr"]}
    record.update(record_extra)
    return {"uri": f"at://{ZOE}/app.bsky.feed.post/{rkey}",
            "cid": "bafyreig2fjxi3rptqdgylg7e5hmjl6mcke7rn2b6cugzlqq3i4zu6rq52q",
            "author": by or author(), "reason": reason, "record": record, "isRead": False,
            "indexedAt": indexed, "labels": []}


def profiles_body(followers: int = 812) -> dict[str, Any]:
    return {"profiles": [{**author(), "followersCount": followers, "followsCount": 10,
                          "postsCount": 99, "description": "Lyon"}]}


@pytest.fixture
def saved() -> list[Session]:
    return []


@pytest.fixture
def sky(client: httpx.AsyncClient, clock: FrozenClock, saved: list[Session]) -> BlueskyAdapter:
    return BlueskyAdapter(client, clock, identifier="comptoir.bsky.social",
                          password="app-pass-word-1234", on_session=saved.append,
                          rng=random.Random(1))


def login(wire: Wire) -> None:
    wire.on("POST", X + "com.atproto.server.createSession", reply(200, session_body(), rate()))
    wire.on("GET", X + "app.bsky.actor.getProfiles", reply(200, profiles_body(), rate()))


async def test_login_then_notifications(sky: BlueskyAdapter, wire: Wire,
                                        saved: list[Session]) -> None:
    login(wire)
    wire.on("GET", X + "app.bsky.notification.listNotifications", reply(200, {
        "cursor": "2025-12-31T23:50:00.000Z",
        "notifications": [
            notif("3lf2reply", "2025-12-31T23:58:20.512Z", text="toujours rien",
                  reason="reply",
                  reply={"root": {"uri": f"at://{ME}/app.bsky.feed.post/3lroot", "cid": "c1"},
                         "parent": {"uri": f"at://{ME}/app.bsky.feed.post/3lpar", "cid": "c2"}}),
            notif("3lf1", "2025-12-31T23:50:00.000Z"),
        ],
        "priority": False, "seenAt": "2025-12-31T20:00:00.000Z"}, rate()))
    result = await sky.fetch_mentions(None)
    login_req = wire.requests[0]
    assert login_req.url == "https://bsky.social/xrpc/com.atproto.server.createSession"
    assert body_of(login_req) == {"identifier": "comptoir.bsky.social",
                                  "password": "app-pass-word-1234"}
    listing = wire.sent("GET", X + "app.bsky.notification.listNotifications")[0]
    assert listing.url.host == "morel.us-east.host.bsky.network"  # the PDS from didDoc
    assert listing.headers["authorization"] == "Bearer access-1"
    assert listing.url.params.get_list("reasons") == ["mention", "reply"]
    reply_m, mention = result.mentions
    assert reply_m.remote_id == f"at://{ZOE}/app.bsky.feed.post/3lf2reply"
    assert reply_m.thread_id == f"at://{ME}/app.bsky.feed.post/3lroot"
    assert reply_m.in_reply_to == f"at://{ME}/app.bsky.feed.post/3lpar"
    assert reply_m.created_at == NOW - 100
    assert mention.author_handle == "@zoe.bsky.social" and mention.author_name == "Zoé Martin"
    assert mention.author_audience == 812 and mention.author_remote_id == ZOE
    assert mention.lang == "fr" and mention.text == "@comptoir.bsky.social ma box 😡"
    assert mention.thread_id is None
    assert mention.author_created_at == 1682935200  # 2023-05-01T10:00:00.000Z
    assert mention.author_verified is None  # the view has no `verification`
    assert saved and saved[0].pds_url == PDS and saved[0].access_jwt == "access-1"
    assert not result.more  # the first run takes the newest page only
    assert json.loads(result.next_cursor or "")["seen"].startswith(str(NOW - 100))
    assert result.rate.remaining == 2999


async def test_author_age_and_verification(sky: BlueskyAdapter, wire: Wire) -> None:
    login(wire)
    wire.on("GET", X + "app.bsky.actor.getProfiles", reply(200, {"profiles": [
        {**author(), "followersCount": 5, "verification": verification("valid")},
        {**author("did:plc:bad", "bad.bsky.social", createdAt="2025-12-30T10:00:00Z"),
         "followersCount": 0}]}, rate()))
    wire.on("GET", X + "app.bsky.notification.listNotifications", reply(200, {"notifications": [
        notif("3la", "2025-12-31T23:58:00.000Z",
              by=author(createdAt="2025-12-31T08:00:00.000Z",
                        verification=verification("valid"))),
        notif("3lb", "2025-12-31T23:57:00.000Z", by=author(verification=verification("none"))),
        notif("3lc", "2025-12-31T23:56:00.000Z",
              by=author("did:plc:bad", "bad.bsky.social", createdAt="hier")),
        notif("3ld", "2025-12-31T23:55:00.000Z", by=author(createdAt=None)),
    ]}, rate()))
    result = await sky.fetch_mentions(None)
    assert result.rejected == []  # a missing or malformed date never costs the item
    fresh, plain, bad, dateless = result.mentions
    assert (fresh.author_created_at, fresh.author_verified) == (NOW - 16 * 3600, True)
    assert (plain.author_created_at, plain.author_verified) == (1682935200, False)
    # What the notification's view lacks comes from getProfiles.
    assert (bad.author_created_at, bad.author_verified) == (NOW - 2 * 86400 + 10 * 3600, None)
    assert (dateless.author_created_at, dateless.author_verified) == (1682935200, True)


async def test_author_fields_without_profiles(client: httpx.AsyncClient, clock: FrozenClock,
                                              wire: Wire) -> None:
    sky = BlueskyAdapter(client, clock, identifier="comptoir.bsky.social", password="pw",
                         fetch_audience=False)
    login(wire)
    wire.on("GET", X + "app.bsky.notification.listNotifications", reply(200, {"notifications": [
        notif("3la", "2025-12-31T23:58:00.000Z", by=author(createdAt="2027-01-01T00:00:00Z")),
        notif("3lb", "2025-12-31T23:57:00.000Z",
              by=author(createdAt=42, verification={"verifiedStatus": 1})),
    ]}, rate()))
    result = await sky.fetch_mentions(None)
    assert result.rejected == []
    assert [(m.author_created_at, m.author_verified) for m in result.mentions] == [
        (None, None), (None, None)]  # a date later than we saw it cannot be true


async def test_round_pages_back_to_the_mark(sky: BlueskyAdapter, wire: Wire) -> None:
    login(wire)
    seen = f"{NOW - 1000:.6f}"
    wire.on("GET", X + "app.bsky.notification.listNotifications",
            reply(200, {"cursor": "c-page-2", "notifications": [
                notif("3a", "2025-12-31T23:59:00.000Z"),
                notif("3b", "2025-12-31T23:55:00.000Z")]}, rate()),
            reply(200, {"cursor": "c-page-3", "notifications": [
                notif("3c", "2025-12-31T23:50:00.000Z"),
                notif("3old", "2025-12-31T23:40:00.000Z")]}, rate()))
    first = await sky.fetch_mentions(json.dumps({"seen": seen}))
    assert first.more and [m.remote_id[-2:] for m in first.mentions] == ["3a", "3b"]
    second = await sky.fetch_mentions(first.next_cursor)
    assert not second.more
    assert [m.remote_id[-2:] for m in second.mentions] == ["3c"]  # 3old is before the mark
    assert json.loads(second.next_cursor or "") == {"seen": f"{NOW - 60:.6f}"}
    pages = wire.sent("GET", X + "app.bsky.notification.listNotifications")
    assert "cursor" not in pages[0].url.params and pages[1].url.params["cursor"] == "c-page-2"


async def test_expired_token_refreshes_and_retries(client: httpx.AsyncClient,
                                                   clock: FrozenClock, wire: Wire) -> None:
    saved: list[Session] = []
    old = Session(ME, "comptoir.bsky.social", "access-old", "refresh-old", PDS)
    sky = BlueskyAdapter(client, clock, identifier="comptoir.bsky.social", session=old,
                         on_session=saved.append, fetch_audience=False)
    wire.on("GET", X + "app.bsky.notification.listNotifications",
            reply(400, {"error": "ExpiredToken", "message": "Token has expired"}),
            reply(200, {"notifications": []}, rate()))
    wire.on("POST", X + "com.atproto.server.refreshSession", reply(200, {
        "accessJwt": "access-2", "refreshJwt": "refresh-2", "handle": "comptoir.bsky.social",
        "did": ME, "active": True}, rate()))
    result = await sky.fetch_mentions(None)
    assert result.mentions == []
    refresh = wire.sent("POST", X + "com.atproto.server.refreshSession")[0]
    assert refresh.headers["authorization"] == "Bearer refresh-old"
    first, second = wire.sent("GET", X + "app.bsky.notification.listNotifications")
    assert first.headers["authorization"] == "Bearer access-old"
    assert second.headers["authorization"] == "Bearer access-2"
    assert saved[-1].refresh_jwt == "refresh-2" and saved[-1].pds_url == PDS


async def test_dead_refresh_without_password_is_auth_rejected(
        client: httpx.AsyncClient, clock: FrozenClock, wire: Wire) -> None:
    sky = BlueskyAdapter(client, clock, identifier="comptoir.bsky.social",
                         session=Session(ME, "h", "a", "r", PDS))
    wire.on("GET", X + "app.bsky.notification.listNotifications",
            reply(400, {"error": "ExpiredToken", "message": "Token has expired"}))
    wire.on("POST", X + "com.atproto.server.refreshSession",
            reply(400, {"error": "ExpiredToken", "message": "Token has expired"}))
    with pytest.raises(AuthRejected):
        await sky.fetch_mentions(None)


async def test_dead_refresh_with_password_logs_in_again(sky: BlueskyAdapter,
                                                        wire: Wire) -> None:
    login(wire)
    wire.on("GET", X + "app.bsky.notification.listNotifications",
            reply(400, {"error": "ExpiredToken", "message": "Token has expired"}),
            reply(200, {"notifications": []}, rate()))
    wire.on("POST", X + "com.atproto.server.refreshSession",
            reply(401, {"error": "InvalidToken", "message": "Token could not be verified"}))
    wire.on("POST", X + "com.atproto.server.createSession",
            reply(200, session_body(1), rate()), reply(200, session_body(2), rate()))
    await sky.fetch_mentions(None)
    assert len(wire.sent("POST", X + "com.atproto.server.createSession")) == 2
    assert sky.session is not None and sky.session.access_jwt == "access-2"


async def test_bad_password(sky: BlueskyAdapter, wire: Wire) -> None:
    wire.on("POST", X + "com.atproto.server.createSession", reply(
        401, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}))
    with pytest.raises(AuthRejected) as err:
        await sky.fetch_mentions(None)
    assert "Invalid identifier or password" in err.value.detail


async def test_rate_limited_and_malformed(sky: BlueskyAdapter, wire: Wire) -> None:
    login(wire)
    wire.on("GET", X + "app.bsky.notification.listNotifications",
            reply(429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                  {**rate(0), "retry-after": "120"}))
    with pytest.raises(RateLimited) as err:
        await sky.fetch_mentions(None)
    assert err.value.until == NOW + 120 and sky.rate_state.remaining == 0
    wire.on("GET", X + "app.bsky.notification.listNotifications", reply(200, {
        "notifications": [
            notif("3ok", "2025-12-31T23:58:20.000Z"),
            {**notif("3bad", "2025-12-31T23:58:10.000Z"), "uri": "https://not-at"},
            notif("3lk", "2025-12-31T23:58:00.000Z", reason="like"),  # skipped
            {**notif("3nort", "2025-12-31T23:57:00.000Z"), "record": {"$type": "x.y"}},
            None,
        ]}, rate()))
    result = await sky.fetch_mentions(None)
    assert [m.remote_id[-3:] for m in result.mentions] == ["3ok"]
    assert len(result.rejected) == 3
    wire.on("GET", X + "app.bsky.notification.listNotifications", reply(200, {"cursor": "x"}))
    with pytest.raises(BadPayload):
        await sky.fetch_mentions(None)


def test_facet_byte_offsets_with_emoji_and_accents() -> None:
    text = "Désolé 😔 @zoé? non: @zoe.bsky.social, voir https://status.exemple.fr/i/42. #Panne🔥 #1"
    spans = facet_spans(text)
    encoded = text.encode("utf-8")
    assert [(s.kind, s.byte_start, s.byte_end, s.value) for s in spans] == [
        ("mention", 26, 42, "zoe.bsky.social"),
        ("link", 49, 79, "https://status.exemple.fr/i/42"),
        ("tag", 81, 91, "Panne🔥"),
    ]
    assert encoded[26:42] == b"@zoe.bsky.social"
    assert encoded[49:79].decode() == "https://status.exemple.fr/i/42"
    assert encoded[81:91].decode() == "#Panne🔥"
    assert text.index("@zoe.bsky") == 20  # 20 characters, 26 bytes: é é é are 2, 😔 is 4


def test_facets_skip_unresolved_mentions_and_overlaps() -> None:
    text = "voir https://bsky.app/profile/@zoe.bsky.social et @inconnu.example.com"
    spans = facet_spans(text)
    assert [s.kind for s in spans] == ["link", "mention"]
    facets = facets_for(spans, {})
    assert [f["features"][0]["$type"] for f in facets] == ["app.bsky.richtext.facet#link"]


def test_tid_format() -> None:
    key = tid(1_700_000_000.123456, 5)
    assert len(key) == 13 and set(key) <= set("234567abcdefghijklmnopqrstuvwxyz")
    assert tid(1_700_000_000.123457, 0) > key  # sortable by time


def test_record_keys_are_unique_under_a_frozen_clock(sky: BlueskyAdapter) -> None:
    keys = [sky.new_record_key() for _ in range(3)]
    assert len(set(keys)) == 3 and keys == sorted(keys)


PARENT = f"at://{ZOE}/app.bsky.feed.post/3lf2reply"
ROOT = f"at://{ME}/app.bsky.feed.post/3lroot"


def reply_routes(wire: Wire) -> None:
    login(wire)
    wire.on("GET", X + "app.bsky.feed.getPosts", reply(200, {"posts": [{
        "uri": PARENT, "cid": "bafyparent", "author": author(),
        "record": {"$type": "app.bsky.feed.post", "text": "toujours rien",
                   "createdAt": "2025-12-31T23:58:20.512Z",
                   "reply": {"root": {"uri": ROOT, "cid": "bafyroot"},
                             "parent": {"uri": ROOT, "cid": "bafyroot"}}},
        "replyCount": 0, "repostCount": 0, "likeCount": 0,
        "indexedAt": "2025-12-31T23:58:20.512Z", "labels": []}]}, rate()))
    wire.on("GET", X + "com.atproto.identity.resolveHandle", reply(200, {"did": ZOE}, rate()))

    def created(request: httpx.Request) -> httpx.Response:
        rkey = body_of(request)["rkey"]
        return reply(200, {"uri": f"at://{ME}/app.bsky.feed.post/{rkey}",
                           "cid": "bafynew", "commit": {"cid": "bafycommit", "rev": "3l"},
                           "validationStatus": "valid"}, rate())
    wire.on("POST", X + "com.atproto.repo.createRecord", created)


async def test_send_reply_builds_the_record(sky: BlueskyAdapter, wire: Wire) -> None:
    reply_routes(wire)
    key = sky.new_record_key()
    text = "@zoe.bsky.social Désolé 😔 suivez https://status.exemple.fr #panne"
    sent = await sky.send_reply(outbox(text, channel="bluesky"),
                                ReplyTarget(PARENT, lang="fr"), record_key=key)
    assert sent.remote_id == f"at://{ME}/app.bsky.feed.post/{key}"
    assert sent.url == f"https://bsky.app/profile/comptoir.bsky.social/post/{key}"
    assert not wire.sent("GET", X + "com.atproto.repo.getRecord")  # first attempt
    create = body_of(wire.sent("POST", X + "com.atproto.repo.createRecord")[0])
    assert (create["repo"], create["collection"], create["rkey"]) == \
        (ME, "app.bsky.feed.post", key)
    record = create["record"]
    assert record["$type"] == "app.bsky.feed.post" and record["text"] == text
    assert record["createdAt"] == "2026-01-01T00:00:00.000Z"
    assert record["langs"] == ["fr"]
    assert record["reply"] == {"root": {"uri": ROOT, "cid": "bafyroot"},
                               "parent": {"uri": PARENT, "cid": "bafyparent"}}
    encoded = text.encode()
    slices = [(encoded[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode(),
               f["features"][0]) for f in record["facets"]]
    assert slices == [
        ("@zoe.bsky.social", {"$type": "app.bsky.richtext.facet#mention", "did": ZOE}),
        ("https://status.exemple.fr", {"$type": "app.bsky.richtext.facet#link",
                                       "uri": "https://status.exemple.fr"}),
        ("#panne", {"$type": "app.bsky.richtext.facet#tag", "tag": "panne"}),
    ]
    assert record["facets"][1]["index"] == {"byteStart": 38, "byteEnd": 63}


async def test_retry_asks_get_record_first(sky: BlueskyAdapter, wire: Wire) -> None:
    reply_routes(wire)
    key = "3lfqz7abcde22"
    wire.on("GET", X + "com.atproto.repo.getRecord", reply(200, {
        "uri": f"at://{ME}/app.bsky.feed.post/{key}", "cid": "bafynew",
        "value": {"$type": "app.bsky.feed.post", "text": "ok",
                  "createdAt": "2026-01-01T00:00:00.000Z"}}, rate()))
    sent = await sky.send_reply(outbox("ok", channel="bluesky", attempts=2),
                                ReplyTarget(PARENT), record_key=key)
    assert sent.remote_id.endswith(key)
    [get] = wire.sent("GET", X + "com.atproto.repo.getRecord")
    assert dict(get.url.params) == {"repo": ME, "collection": "app.bsky.feed.post",
                                    "rkey": key}
    assert not wire.sent("POST", X + "com.atproto.repo.createRecord")


async def test_retry_sends_when_the_record_is_not_there(sky: BlueskyAdapter,
                                                        wire: Wire) -> None:
    reply_routes(wire)
    key = "3lfqz7abcde22"
    wire.on("GET", X + "com.atproto.repo.getRecord", reply(400, {
        "error": "RecordNotFound", "message": f"Could not locate record: at://{ME}/x/{key}"}))
    item = outbox("ok", channel="bluesky", attempts=2)
    sent = await sky.send_reply(item, ReplyTarget(PARENT), record_key=key)
    assert sent.remote_id.endswith(key)
    assert len(wire.sent("POST", X + "com.atproto.repo.createRecord")) == 1
    assert await sky.find_existing_reply(item, ReplyTarget(PARENT), record_key=key) is None
    assert await sky.find_existing_reply(item, ReplyTarget(PARENT)) is None


async def test_reply_with_known_cids_skips_lookup(sky: BlueskyAdapter, wire: Wire) -> None:
    reply_routes(wire)
    await sky.send_reply(outbox("merci", channel="bluesky"),
                         ReplyTarget(PARENT, cid="bafyp"), record_key="3lfqz7abcde23")
    assert not wire.sent("GET", X + "app.bsky.feed.getPosts")
    record = body_of(wire.sent("POST", X + "com.atproto.repo.createRecord")[0])["record"]
    assert record["reply"]["root"] == record["reply"]["parent"] == {"uri": PARENT,
                                                                    "cid": "bafyp"}
    assert "facets" not in record


async def test_any_pds(client: httpx.AsyncClient, clock: FrozenClock, wire: Wire) -> None:
    sky = BlueskyAdapter(client, clock, identifier="me.example.org", password="pw",
                         service_url="https://pds.example.org/", fetch_audience=False)
    body = session_body()
    del body["didDoc"]
    wire.on("POST", X + "com.atproto.server.createSession", reply(200, body))
    wire.on("GET", X + "app.bsky.notification.listNotifications",
            reply(200, {"notifications": []}))
    await sky.fetch_mentions(None)
    assert {r.url.host for r in wire.requests} == {"pds.example.org"}
