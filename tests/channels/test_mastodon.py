"""Mastodon adapter against a wire-accurate fake (entities as docs.joinmastodon.org shows)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from console.channels.base import (
    AuthRejected,
    BadPayload,
    RateLimited,
    Refused,
    ReplyTarget,
    TransientError,
)
from console.channels.mastodon import MastodonAdapter, html_to_text, with_mention
from console.clock import FrozenClock
from tests.channels.conftest import NOW, Wire, body_of, outbox, reply

BASE = "https://piaille.fr"
RESET_ISO = "2026-01-01T00:05:00.000000Z"


def rate(remaining: int = 299) -> dict[str, str]:
    return {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": RESET_ISO}


def account(acct: str = "zoe", **extra: Any) -> dict[str, Any]:
    a: dict[str, Any] = {
        "id": "109384", "username": acct.split("@")[0], "acct": acct,
        "display_name": "Zoé :blobcat:", "locked": False, "bot": False,
        "created_at": "2022-11-05T00:00:00.000Z", "note": "<p>Lyon &amp; vélo</p>",
        "url": f"{BASE}/@{acct}", "followers_count": 321, "following_count": 80,
        "statuses_count": 1500, "emojis": [], "fields": [],
    }
    a.update(extra)
    return a


CONTENT = (
    '<p><span class="h-card" translate="no"><a href="https://piaille.fr/@comptoir" '
    'class="u-url mention">@<span>comptoir</span></a></span> ma box clignote &amp; rien '
    "&lt;depuis&gt; hier 😡 l&#39;appli aussi<br />voir "
    '<a href="https://status.exemple.fr/incidents/42" target="_blank" '
    'rel="nofollow noopener noreferrer" translate="no"><span class="invisible">https://</span>'
    '<span class="ellipsis">status.exemple.fr/incidents</span><span class="invisible">/42'
    "</span></a></p><p>"
    '<a href="https://piaille.fr/tags/panne" class="mention hashtag" rel="tag">#<span>panne'
    "</span></a> merci</p>"
)


def status(sid: str, content: str = CONTENT, **extra: Any) -> dict[str, Any]:
    s: dict[str, Any] = {
        "id": sid, "created_at": "2025-12-31T23:50:00.000Z", "in_reply_to_id": None,
        "in_reply_to_account_id": None, "sensitive": False, "spoiler_text": "",
        "visibility": "public", "language": "fr", "uri": f"{BASE}/users/zoe/statuses/{sid}",
        "url": f"{BASE}/@zoe/{sid}", "replies_count": 0, "reblogs_count": 0,
        "favourites_count": 0, "content": content, "reblog": None, "account": account(),
        "media_attachments": [], "mentions": [{"id": "1", "username": "comptoir",
                                               "acct": "comptoir", "url": f"{BASE}/@comptoir"}],
        "tags": [{"name": "panne", "url": f"{BASE}/tags/panne"}], "emojis": [],
    }
    s.update(extra)
    return s


def note(nid: str, st: dict[str, Any] | None, kind: str = "mention") -> dict[str, Any]:
    n: dict[str, Any] = {"id": nid, "type": kind, "created_at": "2025-12-31T23:50:01.000Z",
                         "account": account()}
    if st is not None:
        n["status"] = st
    return n


def link(newest: str, oldest: str) -> dict[str, str]:
    return {"Link": f'<{BASE}/api/v1/notifications?max_id={oldest}&types%5B%5D=mention>; '
                    f'rel="next", <{BASE}/api/v1/notifications?min_id={newest}'
                    f'&types%5B%5D=mention>; rel="prev"'}


@pytest.fixture
def masto(client: httpx.AsyncClient, clock: FrozenClock) -> MastodonAdapter:
    return MastodonAdapter(client, clock, instance_url=BASE + "/", access_token="tok",
                           page_size=2)


async def test_notification_becomes_mention(masto: MastodonAdapter, wire: Wire) -> None:
    remote = status("113000000000000002", account=account("jean@mastodon.social"),
                    in_reply_to_id="113000000000000001", spoiler_text="")
    wire.on("GET", "/api/v1/notifications",
            reply(200, [note("900002", remote), note("900001", status("113000000000000001"))],
                  {**rate(), **link("900002", "900001")}))
    result = await masto.fetch_mentions(None)
    first, second = result.mentions
    assert first.remote_id == "113000000000000002"
    assert first.author_handle == "@jean@mastodon.social"
    assert first.in_reply_to == "113000000000000001"
    assert second.author_handle == "@zoe@piaille.fr"  # local acct gets the instance
    assert second.author_name == "Zoé :blobcat:" and second.author_audience == 321
    assert second.created_at == NOW - 600 and second.lang == "fr"
    assert second.author_created_at == 1667606400  # 2022-11-05T00:00:00.000Z
    assert second.author_verified is None  # Mastodon has no verified flag
    assert second.text == (
        "@comptoir ma box clignote & rien <depuis> hier 😡 l'appli aussi\n"
        "voir https://status.exemple.fr/incidents/42\n\n#panne merci")
    assert result.rate.remaining == 299 and result.rate.reset_at == NOW + 300
    req = wire.requests[0]
    assert req.url.params.get_list("types[]") == ["mention"]
    assert req.headers["authorization"] == "Bearer tok"
    assert json.loads(result.next_cursor or "") == {"min": "900002"}
    assert not result.more  # first run: newest page only


async def test_min_id_cursor_and_more(masto: MastodonAdapter, wire: Wire) -> None:
    wire.on("GET", "/api/v1/notifications",
            reply(200, [note("900012", status("12")), note("900011", status("11"))],
                  {**rate(), **link("900012", "900011")}),
            reply(200, [note("900013", status("13"))], {**rate(), **link("900013", "900013")}),
            reply(200, [], rate()))
    first = await masto.fetch_mentions('{"min":"900010"}')
    assert first.more and json.loads(first.next_cursor or "") == {"min": "900012"}
    second = await masto.fetch_mentions(first.next_cursor)
    assert not second.more and json.loads(second.next_cursor or "") == {"min": "900013"}
    empty = await masto.fetch_mentions(second.next_cursor)
    assert empty.mentions == [] and empty.next_cursor == second.next_cursor
    assert [r.url.params["min_id"] for r in wire.requests] == ["900010", "900012", "900013"]


async def test_cursor_without_link_header_uses_highest_id(masto: MastodonAdapter,
                                                          wire: Wire) -> None:
    wire.on("GET", "/api/v1/notifications",
            reply(200, [note("1000", status("2")), note("999", status("1"))], rate()))
    result = await masto.fetch_mentions('{"min":"998"}')
    assert json.loads(result.next_cursor or "") == {"min": "1000"}


async def test_malformed_items_rejected_alone(masto: MastodonAdapter, wire: Wire) -> None:
    wire.on("GET", "/api/v1/notifications", reply(200, [
        note("5", status("55")),
        note("4", None),  # a mention whose status was deleted
        note("3", status("33", created_at=None)),
        note("2", status("22"), kind="favourite"),  # not asked for: skipped, not rejected
        42,
    ], rate()))
    result = await masto.fetch_mentions(None)
    assert [m.remote_id for m in result.mentions] == ["55"]
    assert len(result.rejected) == 3
    assert "status" in result.rejected[0].error
    wire.on("GET", "/api/v1/notifications", reply(200, {"error": "odd"}, rate()))
    with pytest.raises(BadPayload):
        await masto.fetch_mentions(None)
    wire.on("GET", "/api/v1/notifications", reply(200, text="<html>maintenance</html>"))
    with pytest.raises(BadPayload):
        await masto.fetch_mentions(None)


async def test_author_account_age(masto: MastodonAdapter, wire: Wire) -> None:
    no_date = account("nodate")
    del no_date["created_at"]
    wire.on("GET", "/api/v1/notifications", reply(200, [
        note("14", status("44", account=account("day", created_at="2025-12-30"))),
        note("13", status("33", account=account("bad", created_at="hier"))),
        note("12", status("22", account=no_date)),
        note("11", status("11", account=account("null", created_at=None))),
    ], rate()))
    result = await masto.fetch_mentions(None)
    assert result.rejected == []  # a missing or malformed date never costs the item
    day, *rest = result.mentions
    assert day.author_created_at == NOW - 2 * 86400  # a date alone: midnight UTC
    assert [m.author_created_at for m in rest] == [None, None, None]
    assert all(m.author_verified is None for m in result.mentions)


async def test_rate_limited_iso_reset(masto: MastodonAdapter, wire: Wire) -> None:
    wire.on("GET", "/api/v1/notifications",
            reply(429, {"error": "Too many requests"}, rate(0)))
    with pytest.raises(RateLimited) as err:
        await masto.fetch_mentions(None)
    assert err.value.until == NOW + 300


async def test_errors(masto: MastodonAdapter, wire: Wire) -> None:
    wire.on("GET", "/api/v1/notifications", reply(401, {"error": "The access token is invalid"}))
    with pytest.raises(AuthRejected) as auth:
        await masto.fetch_mentions(None)
    assert auth.value.detail == "The access token is invalid"
    wire.on("GET", "/api/v1/notifications", reply(502, text="Bad Gateway"))
    with pytest.raises(TransientError):
        await masto.fetch_mentions(None)
    wire.on("GET", "/api/v1/notifications", httpx.ConnectTimeout("down"))
    with pytest.raises(TransientError):
        await masto.fetch_mentions(None)


class StatusServer:
    """POST /api/v1/statuses honouring Idempotency-Key as Mastodon does."""

    def __init__(self) -> None:
        self.by_key: dict[str, dict[str, Any]] = {}
        self.created = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        key = request.headers.get("idempotency-key")
        if key and key in self.by_key:
            return reply(200, self.by_key[key], rate())
        self.created += 1
        payload = body_of(request)
        sid = f"11400000000000000{self.created}"
        created = status(sid, content=f"<p>{payload['status']}</p>",
                         visibility=payload["visibility"],
                         in_reply_to_id=payload["in_reply_to_id"],
                         account=account("comptoir", id="1"))
        if key:
            self.by_key[key] = created
        return reply(200, created, rate())


async def test_reply_keeps_visibility_mentions_author_and_is_idempotent(
        masto: MastodonAdapter, wire: Wire) -> None:
    server = StatusServer()
    wire.on("GET", "/api/v1/statuses/113000000000000005",
            reply(200, status("113000000000000005", visibility="private"), rate()))
    wire.on("POST", "/api/v1/statuses", server)
    item = outbox("Bonjour Zoé, on regarde.", channel="mastodon", key="a1b2c3")
    target = ReplyTarget("113000000000000005", author_handle="@zoe@piaille.fr", lang="fr")
    first = await masto.send_reply(item, target)
    again = await masto.send_reply(item, target)  # a retry after a lost answer
    assert first == again and server.created == 1
    posts = wire.sent("POST", "/api/v1/statuses")
    assert [p.headers["idempotency-key"] for p in posts] == ["a1b2c3", "a1b2c3"]
    assert body_of(posts[0]) == {
        "status": "@zoe@piaille.fr Bonjour Zoé, on regarde.",
        "in_reply_to_id": "113000000000000005", "visibility": "private", "language": "fr"}
    assert first.url == f"{BASE}/@zoe/{first.remote_id}"
    other = await masto.send_reply(outbox("Autre", channel="mastodon", key="zz"), target)
    assert other.remote_id != first.remote_id and server.created == 2


async def test_reply_visibility_given_skips_lookup(masto: MastodonAdapter, wire: Wire) -> None:
    wire.on("POST", "/api/v1/statuses", StatusServer())
    await masto.send_reply(outbox("@zoe@piaille.fr ok", channel="mastodon"),
                           ReplyTarget("5", author_handle="@zoe@piaille.fr",
                                       visibility="direct"))
    [post] = wire.requests
    assert body_of(post)["visibility"] == "direct"
    assert body_of(post)["status"] == "@zoe@piaille.fr ok"


async def test_reply_refused(masto: MastodonAdapter, wire: Wire) -> None:
    wire.on("POST", "/api/v1/statuses",
            reply(422, {"error": "Validation failed: Text character limit of 500 exceeded"}))
    with pytest.raises(Refused) as err:
        await masto.send_reply(outbox("x" * 600, channel="mastodon"),
                               ReplyTarget("5", visibility="public"))
    assert "500" in err.value.detail and not err.value.retryable
    wire.on("GET", "/api/v1/statuses/6", reply(404, {"error": "Record not found"}))
    with pytest.raises(Refused):
        await masto.send_reply(outbox("ok", channel="mastodon"), ReplyTarget("6"))


async def test_find_existing_reply_in_context(masto: MastodonAdapter, wire: Wire) -> None:
    wire.on("GET", "/api/v1/accounts/verify_credentials",
            reply(200, account("comptoir", id="1"), rate()))
    mine = status("114000000000000009", in_reply_to_id="113000000000000005",
                  account=account("comptoir", id="1"),
                  content='<p><span class="h-card"><a href="https://piaille.fr/@zoe" '
                          'class="u-url mention">@<span>zoe</span></a></span> On regarde '
                          "&amp; on revient.</p>")
    theirs = status("114000000000000008", in_reply_to_id="113000000000000005",
                    content="<p>On regarde &amp; on revient.</p>")
    wire.on("GET", "/api/v1/statuses/113000000000000005/context",
            reply(200, {"ancestors": [], "descendants": [theirs, mine]}, rate()))
    found = await masto.find_existing_reply(
        outbox("On regarde & on revient.", channel="mastodon"),
        ReplyTarget("113000000000000005", author_handle="@zoe@piaille.fr"))
    assert found is not None and found.remote_id == "114000000000000009"
    assert await masto.find_existing_reply(
        outbox("Autre texte", channel="mastodon"), ReplyTarget("113000000000000005")) is None
    assert len(wire.sent("GET", "/api/v1/accounts/verify_credentials")) == 1


async def test_lookup_profiles(masto: MastodonAdapter, wire: Wire) -> None:
    wire.on("GET", "/api/v1/accounts/109384", reply(200, account(), rate()))
    wire.on("GET", "/api/v1/accounts/404", reply(404, {"error": "Record not found"}))
    [p] = await masto.lookup_profiles(["109384", "404"])
    assert (p.handle, p.audience, p.bio) == ("@zoe@piaille.fr", 321, "Lyon & vélo")


def test_html_to_text() -> None:
    assert html_to_text("<p>a</p><p>b<br>c</p>") == "a\n\nb\nc"
    assert html_to_text("<p>&eacute;&#233;&#xE9; &nbsp;x &quot;q&quot;</p>") == 'ééé \xa0x "q"'
    assert html_to_text("<p>un</p>\n<p>deux</p>") == "un\n\ndeux"
    assert html_to_text("<script>alert(1)</script><p>ok</p>") == "ok"
    assert html_to_text("") == ""
    assert html_to_text("<p>unclosed <b>bold") == "unclosed bold"
    assert html_to_text("<p>🙂 :blobcat: <3</p>") == "🙂 :blobcat: <3"
    assert html_to_text("<p><a href='x'>[/bold] [@click=app.quit]</a></p>") == \
        "[/bold] [@click=app.quit]"  # markup-looking text stays data; widgets escape it


def test_with_mention() -> None:
    assert with_mention("Bonjour", "@zoe@piaille.fr") == "@zoe@piaille.fr Bonjour"
    assert with_mention("@zoe@piaille.fr Bonjour", "@zoe@piaille.fr") == \
        "@zoe@piaille.fr Bonjour"
    assert with_mention("@ZOE bonjour", "@zoe@piaille.fr") == "@ZOE bonjour"
    assert with_mention("Bonjour", None) == "Bonjour"


def test_instance_url_is_checked(client: httpx.AsyncClient, clock: FrozenClock) -> None:
    with pytest.raises(ValueError):
        MastodonAdapter(client, clock, instance_url="piaille.fr", access_token="t")
