"""Bluesky / AT Protocol (any PDS): mention and reply notifications in, replies out.

- Session: `com.atproto.server.createSession` (identifier + app password) gives an access and a
  refresh JWT. A call answered `{"error": "ExpiredToken"}` refreshes with
  `com.atproto.server.refreshSession` (refresh JWT as bearer) and is retried once; if the refresh
  is refused too, we log in again when we hold the password, else AuthRejected. The JWTs live
  in this object's memory only (never SQLite, config or logs); `on_session` is told every new
  session (the account layer registers both JWTs for log redaction).
- In: `app.bsky.notification.listNotifications?reasons=mention&reasons=reply` pages backwards
  in time with `cursor`; there is no "since", so our cursor keeps the `indexedAt` of the newest
  notification already taken and a round stops at the first older one. Authors' audience comes
  from `app.bsky.actor.getProfiles` (the notification's profile view has no counts). The
  author's `createdAt` and `verification.verifiedStatus` ("valid": verified) feed triage, from
  the notification's view or else getProfiles; a missing or malformed date is None.
- Search (listening): `app.bsky.feed.searchPosts` (`q`, `sort=latest`, `limit`, `cursor`)
  answers `{"cursor", "hitsTotal", "posts": [postView]}`; paged back like notifications, down
  to the newest `indexedAt` already taken.
- Out: `com.atproto.repo.createRecord` of an `app.bsky.feed.post` with `reply.root/parent`
  ({uri, cid}, read with `app.bsky.feed.getPosts` when not given), `createdAt`, `langs` and
  `facets` (mentions, links and tags, as UTF-8 *byte* ranges). The record key (a TID) is chosen
  before the first attempt (`new_record_key`) and kept with the outbox row: a retry first asks
  `com.atproto.repo.getRecord` for that key, so a post that did land is never doubled.
- Rate limits: `ratelimit-limit/remaining/reset` (epoch seconds) and `retry-after` on 429.
  Errors are `{"error": "Name", "message": "..."}`.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol
from urllib.parse import urlsplit

import httpx
import regex

from console.clock import Clock
from db.models import NewMention, OutboxItem

from .base import (
    DEFAULT_BACKOFF,
    AuthRejected,
    BadPayload,
    ChannelError,
    FetchResult,
    HttpAdapter,
    Profile,
    RateLimited,
    RateState,
    Refused,
    Rejected,
    ReplyTarget,
    SentReply,
    TransientError,
    account_since,
    decode_cursor,
    dig,
    encode_cursor,
    error_text,
    header_float,
    header_int,
    iso_utc,
    json_object,
    need_dict,
    need_str,
    opt_int,
    opt_str,
    opt_time,
    parse_time,
    retry_after,
    transient_for,
)

SERVICE: Final = "https://bsky.social"
POST: Final = "app.bsky.feed.post"
REASONS: Final = ("mention", "reply")
PAGE_SIZE: Final = 50
PROFILES_PER_CALL: Final = 25
MAX_TAG_CHARS: Final = 64
REFRESH_ERRORS: Final = frozenset({"ExpiredToken"})
DEAD_SESSION_ERRORS: Final = frozenset({"ExpiredToken", "InvalidToken", "AuthMissing",
                                        "AuthenticationRequired"})


@dataclass(frozen=True, slots=True)
class Session:
    did: str
    handle: str
    access_jwt: str
    refresh_jwt: str
    pds_url: str | None = None  # where the account lives (from didDoc); None: the service URL


# --- record keys (TIDs) ----------------------------------------------------------------------

_B32_SORTABLE: Final = "234567abcdefghijklmnopqrstuvwxyz"


def tid(now: float, clock_id: int) -> str:
    """A timestamp identifier: 53 bits of microseconds then 10 bits of clock id, as 13
    characters of base32-sortable (the record key format of app.bsky.feed.post)."""
    value = ((int(now * 1_000_000) << 10) | (clock_id & 0x3FF)) & ((1 << 63) - 1)
    return "".join(_B32_SORTABLE[(value >> (5 * i)) & 31] for i in reversed(range(13)))


def post_url(handle_or_did: str, uri: str) -> str:
    return f"https://bsky.app/profile/{handle_or_did}/post/{uri.rsplit('/', 1)[-1]}"


def split_uri(uri: str) -> tuple[str, str, str]:
    """at://did/collection/rkey -> (did, collection, rkey)."""
    if not uri.startswith("at://"):
        raise ValueError("not an at:// URI")
    parts = uri[5:].split("/")
    if len(parts) != 3 or not all(parts):
        raise ValueError("not an at://repo/collection/rkey URI")
    return parts[0], parts[1], parts[2]


# --- facets ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Span:
    kind: str  # "mention" | "link" | "tag"
    byte_start: int
    byte_end: int
    value: str  # handle without "@", URL, or tag without "#"


# The handle syntax of the spec (labels of letters, digits and hyphens, a letter-led TLD).
_MENTION: Final = regex.compile(
    r"(?<![\w@.])@((?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+"
    r"[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(?![\w.-]*\w)"
)
_LINK: Final = regex.compile(
    r"(?<![\w/])(https?://(?:www\.)?[-a-zA-Z0-9@:%._+~#=]{1,256}\.[a-zA-Z0-9()]{1,6}\b"
    r"(?:[-a-zA-Z0-9()@:%_+.~#?&/=]*[-a-zA-Z0-9@%_+~#/=])?)"
)
_INVISIBLE: Final = "\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2"
_TAG: Final = regex.compile(
    rf"(?:^|(?<=\s))[#＃]((?!\ufe0f)[^\s{_INVISIBLE}]*[^\d\s\p{{P}}{_INVISIBLE}]+"
    rf"[^\s{_INVISIBLE}]*)"
)
_TRAILING_PUNCT: Final = regex.compile(r"\p{P}+$")


def facet_spans(text: str) -> list[Span]:
    """Links, @handles and #tags of `text` with UTF-8 byte offsets (start inclusive, end
    exclusive), sorted and never overlapping (a link wins over what it contains)."""
    text = safe_text(text)

    def at(index: int) -> int:
        return len(text[:index].encode("utf-8"))

    found: list[tuple[int, int, str, str]] = []  # char start, char end, kind, value
    for m in _LINK.finditer(text):
        url = m.group(1)
        # A sentence's closing parenthesis or dot is not part of the link.
        while url.endswith((".", ",", ")")) and not (url.endswith(")") and "(" in url):
            url = url[:-1]
        found.append((m.start(1), m.start(1) + len(url), "link", url))
    for m in _MENTION.finditer(text):
        found.append((m.start(0), m.end(1), "mention", m.group(1).lower()))
    for m in _TAG.finditer(text):
        tag = _TRAILING_PUNCT.sub("", m.group(1))
        if tag and len(tag) <= MAX_TAG_CHARS:
            found.append((m.start(0), m.start(1) + len(tag), "tag", tag))
    spans: list[Span] = []
    taken: list[tuple[int, int]] = []
    order = {"link": 0, "mention": 1, "tag": 2}
    for start, end, kind, value in sorted(found, key=lambda f: (order[f[2]], f[0])):
        if any(start < t_end and t_start < end for t_start, t_end in taken):
            continue
        taken.append((start, end))
        spans.append(Span(kind, at(start), at(end), value))
    return sorted(spans, key=lambda s: s.byte_start)


def facets_for(spans: Sequence[Span], dids: dict[str, str]) -> list[dict[str, Any]]:
    """The `facets` of a post record; mentions whose handle did not resolve are left plain."""
    facets: list[dict[str, Any]] = []
    for span in spans:
        if span.kind == "mention":
            did = dids.get(span.value)
            if not did:
                continue
            feature: dict[str, Any] = {"$type": "app.bsky.richtext.facet#mention", "did": did}
        elif span.kind == "link":
            feature = {"$type": "app.bsky.richtext.facet#link", "uri": span.value}
        else:
            feature = {"$type": "app.bsky.richtext.facet#tag", "tag": span.value}
        facets.append({"index": {"byteStart": span.byte_start, "byteEnd": span.byte_end},
                       "features": [feature]})
    return facets


def safe_text(text: str) -> str:
    """Lone surrogates (a broken paste) cannot be UTF-8: replace them so offsets hold."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


# --- parsing ---------------------------------------------------------------------------------


def verified_status(view: dict[str, Any]) -> bool | None:
    """A profile view's `verification.verifiedStatus`: "valid" is verified, any other value
    ("none", "invalid") is not, and None when the view says nothing."""
    verification = view.get("verification")
    status = verification.get("verifiedStatus") if isinstance(verification, dict) else None
    return status == "valid" if isinstance(status, str) and status else None


def parse_profile(view: object) -> Profile:
    if not isinstance(view, dict):
        raise ValueError("profile is not an object")
    handle = need_str(view, "handle")
    return Profile(
        remote_id=need_str(view, "did"),
        handle="@" + handle,
        display_name=opt_str(view, "displayName") or handle,
        audience=opt_int(view, "followersCount"),
        verified=verified_status(view) is True,
        created_at=opt_time(view.get("createdAt")),  # a bad date costs only the date
        bio=opt_str(view, "description") or "",
    )


PageResult = tuple[list[NewMention], list[Rejected], str | None, float | None, bool]


class PageParser(Protocol):
    """parse_notifications or parse_posts: one page of records."""

    def __call__(self, body: object, *, received_at: int,
                 seen: float | None = None) -> PageResult: ...


def parse_notifications(
    body: object, *, received_at: int, seen: float | None = None
) -> PageResult:
    """A listNotifications page: (mentions, rejected, api cursor, newest indexedAt on the page,
    whether the page reached notifications at or before `seen`). BadPayload if the page is not
    the documented shape; a bad item is rejected alone; other reasons are skipped."""
    return _parse_feed(body, "notifications", received_at=received_at, seen=seen,
                       reasons=REASONS)


def parse_posts(
    body: object, *, received_at: int, seen: float | None = None
) -> PageResult:
    """A searchPosts page (`posts` of postView), with the same result as parse_notifications."""
    return _parse_feed(body, "posts", received_at=received_at, seen=seen, reasons=None)


def _parse_feed(
    body: object, key: str, *, received_at: int, seen: float | None,
    reasons: tuple[str, ...] | None,
) -> PageResult:
    if not isinstance(body, dict):
        raise BadPayload(f"{key} page is not a JSON object")
    items = body.get(key)
    if not isinstance(items, list):
        raise BadPayload(f"{key!r} is missing or not a list")
    cursor = body.get("cursor") if isinstance(body.get("cursor"), str) else None
    mentions: list[NewMention] = []
    rejected: list[Rejected] = []
    newest: float | None = None
    reached_seen = False
    for item in items:
        try:
            indexed = _instant(item.get("indexedAt")) if isinstance(item, dict) else None
        except (ValueError, OverflowError):
            indexed = None
        if indexed is not None:
            newest = indexed if newest is None else max(newest, indexed)
            if seen is not None and indexed < seen:
                reached_seen = True
                continue
        if reasons is not None and isinstance(item, dict) \
                and isinstance(item.get("reason"), str) and item["reason"] not in reasons:
            continue
        try:
            mentions.append(_mention(item, received_at, reasons=reasons))
        except (ValueError, TypeError, OverflowError) as exc:
            rejected.append(Rejected(item, f"bluesky: {exc}", dig(item, "uri")))
    return mentions, rejected, cursor, newest, reached_seen


def _instant(value: object) -> float:
    """indexedAt with its sub-second part (ordering within a second matters here)."""
    whole = parse_time(value)
    assert isinstance(value, str)
    fraction = regex.search(r"\.(\d+)", value)
    return whole + (float("0." + fraction.group(1)[:6]) if fraction else 0.0)


def _mention(item: object, received_at: int, *,
             reasons: tuple[str, ...] | None = REASONS) -> NewMention:
    """A notification (`reasons` given) or a postView (None) as a mention."""
    if not isinstance(item, dict):
        raise ValueError("notification is not an object" if reasons else "post is not an object")
    uri = need_str(item, "uri")
    split_uri(uri)
    need_str(item, "cid")
    if reasons is not None and item.get("reason") not in reasons:
        raise ValueError("notification has no reason")
    author_view = need_dict(item, "author")
    author = parse_profile(author_view)
    record = need_dict(item, "record")
    if record.get("$type") != POST:
        raise ValueError(f"record is not an {POST}")
    indexed = parse_time(item.get("indexedAt"))
    try:
        created = min(parse_time(record.get("createdAt")), indexed)  # client clocks lie
    except (ValueError, OverflowError):
        created = indexed
    thread_id = in_reply_to = None
    reply = record.get("reply")
    if isinstance(reply, dict):
        root, parent = reply.get("root"), reply.get("parent")
        thread_id = opt_str(root, "uri") if isinstance(root, dict) else None
        in_reply_to = opt_str(parent, "uri") if isinstance(parent, dict) else None
    langs = record.get("langs")
    lang = langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None
    return NewMention(
        channel="bluesky",
        remote_id=uri,
        author_handle=author.handle,
        author_name=author.display_name,
        text=need_str(record, "text", allow_empty=True),
        created_at=created,
        thread_id=thread_id,
        in_reply_to=in_reply_to,
        author_remote_id=author.remote_id,
        lang=lang,
        received_at=received_at,
        author_created_at=account_since(author.created_at, received_at),
        author_verified=verified_status(author_view),
    )


def _with_profile(mention: NewMention, profile: Profile) -> NewMention:
    """The audience from getProfiles, and the account's age and verification where the
    notification's own view did not give them."""
    created = mention.author_created_at
    if created is None:
        created = account_since(profile.created_at, mention.received_at or mention.created_at)
    verified = mention.author_verified
    if verified is None and profile.verified:
        verified = True
    return dataclasses.replace(mention, author_audience=profile.audience,
                               author_created_at=created, author_verified=verified)


# --- the adapter -----------------------------------------------------------------------------


class _Expired(Exception):
    pass


class BlueskyAdapter(HttpAdapter):
    """One Bluesky account on any PDS (`service_url`: https://bsky.social or a self-hosted PDS).

    Give `session` (kept from a previous run) and/or `password` (an app password); with neither
    the first call raises AuthRejected."""

    channel = "bluesky"

    def __init__(self, client: httpx.AsyncClient, clock: Clock, *, identifier: str,
                 password: str | None = None, session: Session | None = None,
                 service_url: str = SERVICE,
                 on_session: Callable[[Session], None] | None = None,
                 fetch_audience: bool = True, page_size: int = PAGE_SIZE,
                 rng: random.Random | None = None,
                 timeout: httpx.Timeout | float | None = None) -> None:
        super().__init__(client, clock, timeout=timeout)
        parts = urlsplit(service_url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"not a service URL: {service_url!r}")
        self._service = f"{parts.scheme}://{parts.netloc}"
        self._identifier = identifier
        self._password = password
        self._session = session
        self._on_session = on_session
        self._fetch_audience = fetch_audience
        self._page_size = max(1, min(100, page_size))
        self._clock_id = (rng or random.Random()).randrange(1024)
        self._last_tid_micros = 0

    @property
    def session(self) -> Session | None:
        return self._session

    def new_record_key(self) -> str:
        micros = max(int(self._now() * 1_000_000), self._last_tid_micros + 1)
        self._last_tid_micros = micros
        return tid(micros / 1_000_000, self._clock_id)

    # --- session ---------------------------------------------------------------------------
    def _base(self) -> str:
        if self._session and self._session.pds_url:
            return self._session.pds_url
        return self._service

    async def _login(self) -> Session:
        if not self._password:
            raise AuthRejected("no session and no app password to log in with")
        response = await self._send(
            "POST", f"{self._service}/xrpc/com.atproto.server.createSession",
            json={"identifier": self._identifier, "password": self._password})
        self._note_rate(response)
        if not response.is_success:
            if response.status_code in (400, 401):
                raise AuthRejected(error_text(response), status=response.status_code)
            raise self._error(response, "POST")
        return self._keep(json_object(response))

    async def _refresh(self) -> Session:
        assert self._session is not None
        response = await self._send(
            "POST", f"{self._base()}/xrpc/com.atproto.server.refreshSession",
            headers={"Authorization": f"Bearer {self._session.refresh_jwt}"})
        self._note_rate(response)
        if response.is_success:
            return self._keep(json_object(response), previous=self._session)
        if response.status_code in (400, 401):
            self._session = None
            if self._password:
                return await self._login()
            raise AuthRejected(error_text(response), status=response.status_code)
        raise self._error(response, "POST")

    def _keep(self, body: dict[str, Any], previous: Session | None = None) -> Session:
        try:
            session = Session(
                did=need_str(body, "did"),
                handle=opt_str(body, "handle") or (previous.handle if previous else ""),
                access_jwt=need_str(body, "accessJwt"),
                refresh_jwt=need_str(body, "refreshJwt"),
                pds_url=_pds_from(body.get("didDoc")) or (previous.pds_url if previous else None),
            )
        except ValueError as exc:
            raise BadPayload(f"session: {exc}") from exc
        self._session = session
        if self._on_session is not None:
            self._on_session(session)
        return session

    async def _ensure_session(self) -> Session:
        if self._session is None:
            return await self._login()
        return self._session

    # --- HTTP ------------------------------------------------------------------------------
    async def _xrpc(self, method: str, nsid: str, *, params: Any = None,
                    body: Any = None) -> httpx.Response:
        session = await self._ensure_session()
        try:
            return await self._xrpc_once(method, nsid, session, params, body)
        except _Expired:
            session = await self._refresh()
            try:
                return await self._xrpc_once(method, nsid, session, params, body)
            except _Expired as exc:
                raise AuthRejected("the new session was refused too") from exc

    async def _xrpc_once(self, method: str, nsid: str, session: Session, params: Any,
                         body: Any) -> httpx.Response:
        kwargs: dict[str, Any] = {"headers": {"Authorization": f"Bearer {session.access_jwt}"}}
        if params is not None:
            kwargs["params"] = params
        if body is not None:
            kwargs["json"] = body
        response = await self._send(method, f"{self._base()}/xrpc/{nsid}", **kwargs)
        self._note_rate(response)
        if response.is_success:
            return response
        if response.status_code in (400, 401) and _error_name(response) in REFRESH_ERRORS:
            raise _Expired
        raise self._error(response, method)

    def _note_rate(self, response: httpx.Response) -> None:
        h = response.headers
        remaining = header_int(h, "ratelimit-remaining")
        if remaining is None:
            return
        self._rate = RateState(header_int(h, "ratelimit-limit"), remaining,
                               header_float(h, "ratelimit-reset"))

    def _error(self, response: httpx.Response, method: str) -> ChannelError:
        status = response.status_code
        detail = error_text(response)
        if status == 429:
            now = self._now()
            until = retry_after(response.headers, now) \
                or header_float(response.headers, "ratelimit-reset")
            if until is None or until <= now:
                until = now + DEFAULT_BACKOFF
            return RateLimited(detail, until=until, status=status)
        if status in (401, 403) or _error_name(response) in DEAD_SESSION_ERRORS:
            return AuthRejected(detail, status=status)
        if status >= 500:
            return transient_for(response, method)
        return Refused(detail, status=status)

    # --- in --------------------------------------------------------------------------------
    async def fetch_mentions(self, cursor: str | None) -> FetchResult:
        params: list[tuple[str, str | int]] = [("limit", self._page_size)]
        params += [("reasons", reason) for reason in REASONS]
        return await self._round_page("app.bsky.notification.listNotifications", params,
                                      decode_cursor(cursor), parse_notifications, carry={})

    async def search(self, query: str, cursor: str | None) -> FetchResult:
        """Posts matching `query` (searchPosts, newest first), newer than the cursor's mark.

        Pages like fetch_mentions. The cursor remembers its query (a cursor from another query
        starts afresh)."""
        state = decode_cursor(cursor)
        if state.get("q") != query:
            state = {}
        params: list[tuple[str, str | int]] = [("q", query), ("sort", "latest"),
                                               ("limit", self._page_size)]
        return await self._round_page("app.bsky.feed.searchPosts", params, state, parse_posts,
                                      carry={"q": query})

    async def _round_page(self, nsid: str, params: list[tuple[str, str | int]],
                          state: Mapping[str, str], parse: PageParser, *,
                          carry: Mapping[str, str]) -> FetchResult:
        """One page of a round, for mentions and search alike: the first run takes the newest
        page only; later runs page back with the API cursor until they reach records already
        taken. `carry` goes into every cursor (search keeps its query there)."""
        seen_text, page, top_text = state.get("seen"), state.get("page"), state.get("top")
        seen = _float_or_none(seen_text)
        if page:
            params = [*params, ("cursor", page)]
        response = await self._xrpc("GET", nsid, params=params)
        mentions, rejected, api_cursor, newest, reached = parse(
            json_object(response), received_at=int(self._now()), seen=seen)
        top = _float_or_none(top_text)
        if newest is not None and (top is None or newest > top):
            top = newest
        if mentions and self._fetch_audience:
            mentions = await self._with_audience(mentions)
        if seen is not None and api_cursor and not reached and newest is not None:
            next_state = {**carry, "seen": seen_text, "page": api_cursor, "top": _fmt(top)}
            more = True
        else:  # round done
            next_state = {**carry, "seen": _fmt(top if top is not None else seen)}
            more = False
        next_cursor = encode_cursor(next_state) if next_state.get("seen") else None
        return FetchResult(mentions, next_cursor, self._rate, rejected, more)

    async def _with_audience(self, mentions: list[NewMention]) -> list[NewMention]:
        dids = [m.author_remote_id for m in mentions if m.author_remote_id]
        try:
            profiles = {p.remote_id: p for p in await self.lookup_profiles(dids)}
        except (Refused, BadPayload, TransientError, RateLimited):
            return mentions  # audience is a nicety: the mentions land without it
        return [_with_profile(m, profiles[m.author_remote_id])
                if m.author_remote_id in profiles else m for m in mentions]

    async def lookup_profiles(self, ids: Sequence[str]) -> list[Profile]:
        wanted = list(dict.fromkeys(ids))
        profiles: list[Profile] = []
        for start in range(0, len(wanted), PROFILES_PER_CALL):
            chunk = wanted[start:start + PROFILES_PER_CALL]
            response = await self._xrpc("GET", "app.bsky.actor.getProfiles",
                                        params=[("actors", a) for a in chunk])
            views = json_object(response).get("profiles", [])
            for view in views if isinstance(views, list) else []:
                try:
                    profiles.append(parse_profile(view))
                except (ValueError, TypeError, OverflowError):
                    continue
        return profiles

    # --- out -------------------------------------------------------------------------------
    async def _get_own_post(self, rkey: str) -> SentReply | None:
        session = await self._ensure_session()
        try:
            response = await self._xrpc("GET", "com.atproto.repo.getRecord", params={
                "repo": session.did, "collection": POST, "rkey": rkey})
        except Refused as exc:
            if exc.status in (400, 404):  # RecordNotFound: it never landed
                return None
            raise
        uri = json_object(response).get("uri")
        if not isinstance(uri, str):
            raise BadPayload("getRecord answer has no uri")
        return SentReply(uri, post_url(session.handle or session.did, uri))

    async def find_existing_reply(self, item: OutboxItem, in_reply_to: ReplyTarget, *,
                                  record_key: str | None = None) -> SentReply | None:
        if record_key is None:
            return None
        return await self._get_own_post(record_key)

    async def _reply_refs(self, target: ReplyTarget) -> dict[str, Any]:
        if target.cid and (target.root_uri is None) == (target.root_cid is None):
            parent = {"uri": target.remote_id, "cid": target.cid}
            root = {"uri": target.root_uri, "cid": target.root_cid} if target.root_uri \
                else parent
            return {"root": root, "parent": parent}
        response = await self._xrpc("GET", "app.bsky.feed.getPosts",
                                    params=[("uris", target.remote_id)])
        posts = json_object(response).get("posts")
        if not isinstance(posts, list):
            raise BadPayload("getPosts answer has no posts list")
        if not posts:
            raise Refused("the post to answer was deleted or is not visible")
        post = posts[0]
        try:
            parent = {"uri": need_str(post, "uri"), "cid": need_str(post, "cid")}
            record = need_dict(post, "record")
        except (ValueError, TypeError) as exc:
            raise BadPayload(f"getPosts: {exc}") from exc
        root = parent
        reply = record.get("reply")
        if isinstance(reply, dict) and isinstance(reply.get("root"), dict):
            r = reply["root"]
            if isinstance(r.get("uri"), str) and isinstance(r.get("cid"), str):
                root = {"uri": r["uri"], "cid": r["cid"]}
        return {"root": root, "parent": parent}

    async def _resolve_handles(self, handles: Sequence[str]) -> dict[str, str]:
        dids: dict[str, str] = {}
        for handle in dict.fromkeys(handles):
            try:
                response = await self._xrpc("GET", "com.atproto.identity.resolveHandle",
                                            params={"handle": handle})
                did = json_object(response).get("did")
            except (Refused, BadPayload):
                continue  # unknown handle: the text stays, without a mention link
            if isinstance(did, str) and did.startswith("did:"):
                dids[handle] = did
        return dids

    async def build_record(self, text: str, target: ReplyTarget) -> dict[str, Any]:
        text = safe_text(text)
        spans = facet_spans(text)
        dids = await self._resolve_handles([s.value for s in spans if s.kind == "mention"])
        record: dict[str, Any] = {
            "$type": POST,
            "text": text,
            "createdAt": iso_utc(self._now()),
            "reply": await self._reply_refs(target),
        }
        if target.lang:
            record["langs"] = [target.lang]
        facets = facets_for(spans, dids)
        if facets:
            record["facets"] = facets
        return record

    async def send_reply(self, item: OutboxItem, in_reply_to: ReplyTarget, *,
                         record_key: str | None = None) -> SentReply:
        rkey = record_key or self.new_record_key()
        if record_key is not None and item.attempts > 1:
            existing = await self._get_own_post(record_key)  # the last try may have landed
            if existing is not None:
                return existing
        record = await self.build_record(item.text, in_reply_to)
        session = await self._ensure_session()
        try:
            response = await self._xrpc("POST", "com.atproto.repo.createRecord", body={
                "repo": session.did, "collection": POST, "rkey": rkey, "record": record})
        except Refused as exc:
            # The key is taken: our own earlier attempt landed after all.
            existing = await self._get_own_post(rkey) if record_key is not None else None
            if existing is not None:
                return existing
            raise exc
        uri = json_object(response).get("uri")
        if not isinstance(uri, str):
            raise BadPayload("createRecord answer has no uri")
        session = self._session or session
        return SentReply(uri, post_url(session.handle or session.did, uri))


def _error_name(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    name = body.get("error") if isinstance(body, dict) else None
    return name if isinstance(name, str) else ""


def _pds_from(did_doc: object) -> str | None:
    if not isinstance(did_doc, dict) or not isinstance(did_doc.get("service"), list):
        return None
    for service in did_doc["service"]:
        if isinstance(service, dict) and str(service.get("id", "")).endswith("#atproto_pds"):
            endpoint = service.get("serviceEndpoint")
            if isinstance(endpoint, str):
                parts = urlsplit(endpoint)
                if parts.scheme in ("http", "https") and parts.netloc:
                    return f"{parts.scheme}://{parts.netloc}"
    return None


def _float_or_none(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _fmt(value: float | None) -> str | None:
    return None if value is None else f"{value:.6f}"
