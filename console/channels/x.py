"""X (Twitter) API v2: the mentions timeline in, replies out.

- In: `GET /2/users/:id/mentions` with `since_id` (the high-water mark) and `pagination_token`
  (older pages of the same round), `expansions=author_id` so authors come in `includes.users`.
  A page with nothing new is `{"meta": {"result_count": 0}}` (no `data`). The users'
  `created_at` and `verified` (asked for in `user.fields`) become the triage signals
  author_created_at/author_verified; a missing or malformed one is None, never a rejection.
- Search (listening): `GET /2/tweets/search/recent` (last seven days) with `query`, `since_id`
  (our high-water mark), `next_token` (older pages of one round), `max_results` (10 to 100),
  `expansions=author_id` and `user.fields=public_metrics,...`; same page shape as mentions.
- Out: `POST /2/tweets` with `reply.in_reply_to_tweet_id`; 201 and `{"data": {"id", "text"}}`.
  X has no idempotency key: after a lost answer, `find_existing_reply` reads our own recent
  posts (`GET /2/users/:id/tweets?since_id=<parent>`) for a reply to the parent with our text.
- Errors are RFC 7807 problems (`{"title", "detail", "type", "status"}`): 403 "You are not
  allowed to create a Tweet with duplicate content." is DuplicateContent; 429 whose type is
  `.../problems/usage-capped` is MonthlyCapReached, any other 429 RateLimited until
  `x-rate-limit-reset` (epoch seconds).
- v2 escapes `&`, `<` and `>` in post text as HTML entities; we decode them. Long posts carry
  the full text in `note_tweet.text`.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any, Final

import httpx

from console.clock import Clock
from db.models import NewMention, OutboxItem

from .base import (
    DEFAULT_BACKOFF,
    AuthRejected,
    BadPayload,
    DuplicateContent,
    FetchResult,
    HttpAdapter,
    MonthlyCapReached,
    Profile,
    RateLimited,
    RateState,
    Refused,
    Rejected,
    ReplyTarget,
    SentReply,
    account_since,
    decode_cursor,
    dig,
    encode_cursor,
    error_text,
    header_float,
    header_int,
    json_object,
    need_str,
    opt_int,
    opt_str,
    opt_time,
    parse_time,
    same_text,
    transient_for,
)

API: Final = "https://api.x.com"
TWEET_FIELDS: Final = (
    "created_at,conversation_id,in_reply_to_user_id,referenced_tweets,lang,entities,"
    "author_id,note_tweet"
)
USER_FIELDS: Final = "public_metrics,verified,created_at,description"
USAGE_CAPPED: Final = "usage-capped"
# Pages of our own timeline read when looking for a reply we may have sent.
FIND_PAGES: Final = 3


def post_url(tweet_id: str, handle: str | None = None) -> str:
    """The public link of a post: https://x.com/{handle}/status/{id}, or X's handle-less form
    (which redirects to the same place) when the account's handle is not known."""
    name = (handle or "").strip().lstrip("@")
    if name and name.replace("_", "").isalnum() and name.isascii():
        return f"https://x.com/{name}/status/{tweet_id}"
    return f"https://x.com/i/web/status/{tweet_id}"


def _digits(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.isdigit() or len(value) > 25:
        raise ValueError(f"{what} is not a numeric id string")
    return value


def _tweet_text(tweet: dict[str, Any]) -> str:
    note = tweet.get("note_tweet")
    if isinstance(note, dict) and isinstance(note.get("text"), str) and note["text"]:
        return html.unescape(note["text"])
    return html.unescape(need_str(tweet, "text", allow_empty=True))


def _replied_to(tweet: dict[str, Any]) -> str | None:
    refs = tweet.get("referenced_tweets")
    if not isinstance(refs, list):
        return None
    for ref in refs:
        if isinstance(ref, dict) and ref.get("type") == "replied_to":
            ref_id = ref.get("id")
            if isinstance(ref_id, str) and ref_id.isdigit():
                return ref_id
    return None


def parse_user(user: object) -> Profile:
    if not isinstance(user, dict):
        raise ValueError("user is not an object")
    metrics = user.get("public_metrics")
    audience = opt_int(metrics, "followers_count") if isinstance(metrics, dict) else 0
    return Profile(
        remote_id=_digits(user.get("id"), "user id"),
        handle="@" + need_str(user, "username"),
        display_name=opt_str(user, "name") or need_str(user, "username"),
        audience=audience,
        verified=user.get("verified") is True,
        created_at=opt_time(user.get("created_at")),  # a bad date costs only the date
        bio=opt_str(user, "description") or "",
    )


def parse_mentions_page(
    body: object, *, received_at: int
) -> tuple[list[NewMention], list[Rejected], dict[str, Any]]:
    """One mentions page: (mentions, rejected items, meta). BadPayload if the page itself is
    not the documented shape; a bad item is rejected alone."""
    if not isinstance(body, dict):
        raise BadPayload("mentions page is not a JSON object")
    meta = body.get("meta", {})
    if not isinstance(meta, dict):
        raise BadPayload("'meta' is not an object")
    data = body.get("data", [])
    if data is None:
        data = []
    if not isinstance(data, list):
        raise BadPayload("'data' is not a list")
    users: dict[str, tuple[Profile, bool | None]] = {}
    includes = body.get("includes")
    if isinstance(includes, dict) and isinstance(includes.get("users"), list):
        for raw_user in includes["users"]:
            try:
                profile = parse_user(raw_user)
            except (ValueError, TypeError, OverflowError):
                continue  # the tweets by this author are rejected below, with a reason
            verified = raw_user.get("verified")  # None when X does not say
            users[profile.remote_id] = (profile,
                                        verified if isinstance(verified, bool) else None)
    mentions: list[NewMention] = []
    rejected: list[Rejected] = []
    for tweet in data:
        try:
            mentions.append(_mention(tweet, users, received_at))
        except (ValueError, TypeError, OverflowError) as exc:
            rejected.append(Rejected(tweet, f"x: {exc}", dig(tweet, "id")))
    return mentions, rejected, meta


def _mention(tweet: object, users: dict[str, tuple[Profile, bool | None]],
             received_at: int) -> NewMention:
    if not isinstance(tweet, dict):
        raise ValueError("tweet is not an object")
    tweet_id = _digits(tweet.get("id"), "tweet id")
    author_id = _digits(tweet.get("author_id"), "author_id")
    if author_id not in users:
        raise ValueError(f"author {author_id} not in includes.users")
    author, verified = users[author_id]
    conversation = tweet.get("conversation_id")
    lang = opt_str(tweet, "lang")
    return NewMention(
        channel="x",
        remote_id=tweet_id,
        author_handle=author.handle,
        author_name=author.display_name,
        text=_tweet_text(tweet),
        created_at=parse_time(tweet.get("created_at")),
        thread_id=conversation if isinstance(conversation, str) and conversation.isdigit()
        else None,
        in_reply_to=_replied_to(tweet),
        author_audience=author.audience,
        author_remote_id=author_id,
        lang=None if lang in (None, "und", "qme", "zxx") else lang,
        received_at=received_at,
        author_created_at=account_since(author.created_at, received_at),
        author_verified=verified,
    )


class XAdapter(HttpAdapter):
    """One X account. `user_id` is the numeric id of the account whose mentions we read;
    `access_token` an OAuth 2.0 user-context token (tweet.read, tweet.write, users.read).
    Refreshing that token belongs to the account layer: call `set_token` with the new one."""

    channel = "x"

    def __init__(self, client: httpx.AsyncClient, clock: Clock, *, user_id: str,
                 access_token: str, base_url: str = API, page_size: int = 100,
                 handle: str | None = None,
                 timeout: httpx.Timeout | float | None = None) -> None:
        super().__init__(client, clock, timeout=timeout)
        self._user_id = user_id
        self._handle = handle  # our own @handle, for the links of the replies we send
        self._token = access_token
        self._base = base_url.rstrip("/")
        self._page_size = max(5, min(100, page_size))

    def set_token(self, access_token: str) -> None:
        self._token = access_token

    # --- HTTP ------------------------------------------------------------------------------
    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._token}"}
        response = await self._send(method, self._base + path, headers=headers, **kwargs)
        self._note_rate(response)
        if response.is_success:
            return response
        raise self._error(response, method)

    def _note_rate(self, response: httpx.Response) -> None:
        h = response.headers
        remaining = header_int(h, "x-rate-limit-remaining")
        if remaining is None and "x-rate-limit-reset" not in h:
            return
        self._rate = RateState(
            limit=header_int(h, "x-rate-limit-limit"),
            remaining=remaining,
            reset_at=header_float(h, "x-rate-limit-reset"),
        )

    def _error(self, response: httpx.Response, method: str) -> Exception:
        status = response.status_code
        detail = error_text(response)
        problem_type = ""
        try:
            body = response.json()
            if isinstance(body, dict) and isinstance(body.get("type"), str):
                problem_type = body["type"]
        except ValueError:
            pass
        if status == 429:
            if USAGE_CAPPED in problem_type or "UsageCapExceeded" in detail:
                return MonthlyCapReached(detail, status=status)
            reset = header_float(response.headers, "x-rate-limit-reset")
            until = reset if reset and reset > self._now() else self._now() + DEFAULT_BACKOFF
            return RateLimited(detail, until=until, status=status)
        if status == 401:
            return AuthRejected(detail, status=status)
        if status == 403:
            if "duplicate content" in detail.casefold():
                return DuplicateContent(detail, status=status)
            if method == "GET":
                return AuthRejected(detail, status=status)  # app not enrolled, scope missing
            return Refused(detail, status=status)  # reply settings, suspended author...
        if status >= 500:
            return transient_for(response, method)
        return Refused(detail, status=status)

    # --- in --------------------------------------------------------------------------------
    async def fetch_mentions(self, cursor: str | None) -> FetchResult:
        return await self._round_page(f"/2/users/{self._user_id}/mentions",
                                      {"max_results": self._page_size}, decode_cursor(cursor),
                                      page_param="pagination_token", carry={})

    async def search(self, query: str, cursor: str | None) -> FetchResult:
        """Recent posts matching `query` (X search operators), newer than the cursor's mark.

        Pages like fetch_mentions. The cursor remembers its query: a cursor from another query
        starts afresh instead of skipping that query's posts."""
        state = decode_cursor(cursor)
        if state.get("q") != query:
            state = {}
        # Search takes 10 to 100 (mentions go down to 5).
        params: dict[str, str | int] = {"query": query, "max_results": max(10, self._page_size)}
        return await self._round_page("/2/tweets/search/recent", params, state,
                                      page_param="next_token", carry={"q": query})

    async def _round_page(self, path: str, params: dict[str, str | int],
                          state: Mapping[str, str], *, page_param: str,
                          carry: Mapping[str, str]) -> FetchResult:
        """One page of a round, for mentions and search alike: the first run takes the newest
        page only (no backfill of 800); later runs page back with the page token down to
        `since_id`. `carry` goes into every cursor (search keeps its query there)."""
        since, page, top = state.get("since"), state.get("page"), state.get("top")
        params = {**params, "expansions": "author_id", "tweet.fields": TWEET_FIELDS,
                  "user.fields": USER_FIELDS}
        if since:
            params["since_id"] = since
        if page:
            params[page_param] = page
        response = await self._call("GET", path, params=params)
        mentions, rejected, meta = parse_mentions_page(
            json_object(response), received_at=int(self._now()))
        newest = meta.get("newest_id") if isinstance(meta.get("newest_id"), str) else None
        next_token = meta.get("next_token") if isinstance(meta.get("next_token"), str) else None
        top = top or newest
        if since and next_token:  # older pages of this round, down to since_id
            next_state: dict[str, str | None] = {**carry, "since": since, "page": next_token,
                                                 "top": top}
            more = True
        else:  # round done
            next_state = {**carry, "since": top or since}
            more = False
        return FetchResult(mentions, encode_cursor(next_state) if next_state["since"] else None,
                           self._rate, rejected, more)

    async def lookup_profiles(self, ids: Sequence[str]) -> list[Profile]:
        profiles: list[Profile] = []
        wanted = [i for i in dict.fromkeys(ids) if i.isdigit()]
        for start in range(0, len(wanted), 100):
            chunk = wanted[start:start + 100]
            response = await self._call("GET", "/2/users", params={
                "ids": ",".join(chunk), "user.fields": USER_FIELDS})
            data = json_object(response).get("data", [])
            for user in data if isinstance(data, list) else []:
                try:
                    profiles.append(parse_user(user))
                except (ValueError, TypeError, OverflowError):
                    continue
        return profiles

    # --- out -------------------------------------------------------------------------------
    async def send_reply(self, item: OutboxItem, in_reply_to: ReplyTarget, *,
                         record_key: str | None = None) -> SentReply:
        payload = {"text": item.text, "reply": {"in_reply_to_tweet_id": in_reply_to.remote_id}}
        response = await self._call("POST", "/2/tweets", json=payload)
        data = json_object(response).get("data")
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise BadPayload("created post has no data.id", status=response.status_code)
        return SentReply(data["id"], post_url(data["id"], self._handle))

    async def find_existing_reply(self, item: OutboxItem, in_reply_to: ReplyTarget, *,
                                  record_key: str | None = None) -> SentReply | None:
        params: dict[str, str | int] = {
            "since_id": in_reply_to.remote_id,
            "max_results": 100,
            "exclude": "retweets",
            "tweet.fields": "referenced_tweets,conversation_id,created_at,note_tweet",
        }
        for _ in range(FIND_PAGES):
            response = await self._call("GET", f"/2/users/{self._user_id}/tweets", params=params)
            body = json_object(response)
            data = body.get("data", [])
            for tweet in data if isinstance(data, list) else []:
                if not isinstance(tweet, dict) or not isinstance(tweet.get("id"), str):
                    continue
                if _replied_to(tweet) != in_reply_to.remote_id:
                    continue
                try:
                    text = _tweet_text(tweet)
                except ValueError:
                    continue
                if same_text(item.text, text):
                    return SentReply(tweet["id"], post_url(tweet["id"], self._handle))
            meta = body.get("meta")
            token = meta.get("next_token") if isinstance(meta, dict) else None
            if not isinstance(token, str):
                return None
            params["pagination_token"] = token
        return None
