"""Mastodon (any instance): mention notifications in, replies out.

- In: `GET /api/v1/notifications?types[]=mention&min_id=<high-water>`: the page of mentions
  immediately newer than the mark, newest first. The `Link` header's `rel="prev"` URL carries the
  next `min_id`; a full page means more are waiting. The first run takes the newest page only.
- Status `content` is HTML; `html_to_text` makes it plain text (entities decoded, mentions, links
  and hashtags kept as the reader sees them, `<br>` and paragraphs as line breaks).
- Search (listening): a single `#tag` reads `GET /api/v1/timelines/tag/:hashtag?min_id=`
  (public statuses with that tag, paged like notifications); any other query reads
  `GET /api/v2/search?type=statuses&q=...&min_id=` (`{"accounts", "statuses", "hashtags"}`;
  what it finds depends on the instance's full-text search settings).
- Out: `POST /api/v1/statuses` with `in_reply_to_id`, a `visibility` never wider than the
  parent's, the author's @mention (a Mastodon reply without it is not shown to them), and the
  outbox row's `Idempotency-Key` header: a re-POST with the same key within the server's window
  (about an hour) returns the same status instead of a second one. After that window,
  `find_existing_reply` reads the parent's context for our reply.
- Rate limits: `X-RateLimit-Limit/Remaining` and `X-RateLimit-Reset` as an ISO 8601 instant.
  Errors are `{"error": "..."}`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html.parser import HTMLParser
from typing import Any, Final
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from console.clock import Clock
from db.models import NewMention, OutboxItem

from .base import (
    DEFAULT_BACKOFF,
    AuthRejected,
    BadPayload,
    FetchResult,
    HttpAdapter,
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
    header_int,
    json_body,
    json_object,
    need_dict,
    need_str,
    opt_int,
    opt_str,
    opt_time,
    parse_time,
    retry_after,
    same_text,
    transient_for,
)

# Narrowest last: a reply is never more visible than the post it answers.
VISIBILITIES: Final = ("public", "unlisted", "private", "direct")
PAGE_SIZE: Final = 40  # the server's maximum for notifications


_SPACES: Final = re.compile(r"[ \t\r\n\f]+")

# --- HTML to text ----------------------------------------------------------------------------


class _TextParser(HTMLParser):
    _BLOCK: Final = frozenset({"p", "div", "blockquote", "li", "pre", "h1", "h2", "h3", "h4",
                               "h5", "h6", "ul", "ol"})
    _SKIP: Final = frozenset({"script", "style", "template", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "pre":
            self._pre += 1
            self._break()
        elif tag in self._BLOCK:
            self._break()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in self._BLOCK:
            self._break()

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag == "pre":
            self._pre = max(0, self._pre - 1)
            self._break()
        elif tag in self._BLOCK:
            self._break()

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        # HTML whitespace (source line breaks included) is one space, except in <pre>.
        self.parts.append(data if self._pre else _SPACES.sub(" ", data))

    def _break(self) -> None:
        """A paragraph boundary: one blank line between blocks, however many tags close.
        Looks back only over trailing whitespace, so long posts stay linear."""
        newlines = 0
        for part in reversed(self.parts):
            kept = part.rstrip(" \t\n")
            newlines += part.count("\n", len(kept))
            if kept:
                break
        else:
            return  # nothing written yet: no blank line at the top
        if newlines < 2:
            self.parts.append("\n" * (2 - newlines))


def html_to_text(content: str) -> str:
    """Mastodon status HTML as plain text.

    Entities are decoded; a link shows its text (Mastodon puts the full URL there, split into
    invisible and ellipsis spans that we join back); `@user` mentions and `#tags` stay as
    written; `<br>` is a newline and paragraphs are separated by a blank line. Never raises on
    any string."""
    parser = _TextParser()
    try:
        parser.feed(content)
        parser.close()
    except (AssertionError, ValueError):  # pathological markup: keep what was read
        pass
    lines = "".join(parser.parts).split("\n")
    return "\n".join(line.strip(" ") for line in lines).strip("\n ")


# --- parsing ---------------------------------------------------------------------------------


def account_handle(account: dict[str, Any], instance_host: str) -> str:
    acct = need_str(account, "acct")
    return "@" + (acct if "@" in acct else f"{acct}@{instance_host}")


def parse_account(account: object, instance_host: str) -> Profile:
    if not isinstance(account, dict):
        raise ValueError("account is not an object")
    note = opt_str(account, "note")
    return Profile(
        remote_id=need_str(account, "id"),
        handle=account_handle(account, instance_host),
        display_name=opt_str(account, "display_name") or need_str(account, "username"),
        audience=opt_int(account, "followers_count"),
        # ISO 8601; some servers give midnight of the day. A bad one costs only the date.
        created_at=opt_time(account.get("created_at")),
        bio=html_to_text(note) if note else "",
    )


def status_text(status: dict[str, Any]) -> str:
    text = html_to_text(need_str(status, "content", allow_empty=True))
    warning = opt_str(status, "spoiler_text")
    return f"[CW: {warning}]\n{text}" if warning else text


def parse_notifications(
    body: object, *, instance_host: str, received_at: int
) -> tuple[list[NewMention], list[Rejected], list[str]]:
    """A notifications page: (mentions, rejected, every notification id seen). BadPayload if
    the page is not a list; a bad item is rejected alone; other notification types are skipped
    (a server that ignores `types[]` still works)."""
    if not isinstance(body, list):
        raise BadPayload("notifications page is not a JSON list")
    mentions: list[NewMention] = []
    rejected: list[Rejected] = []
    ids: list[str] = []
    for item in body:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            ids.append(item["id"])
        if isinstance(item, dict) and item.get("type") not in ("mention", None):
            continue
        try:
            mentions.append(_mention(item, instance_host, received_at))
        except (ValueError, TypeError, OverflowError) as exc:
            rejected.append(Rejected(item, f"mastodon: {exc}", dig(item, "status", "id")))
    return mentions, rejected, ids


def parse_statuses(
    statuses: object, *, instance_host: str, received_at: int
) -> tuple[list[NewMention], list[Rejected], list[str]]:
    """A list of Status (a tag timeline, search results): (mentions, rejected, ids seen)."""
    if not isinstance(statuses, list):
        raise BadPayload("statuses are not a JSON list")
    mentions: list[NewMention] = []
    rejected: list[Rejected] = []
    ids: list[str] = []
    for status in statuses:
        if isinstance(status, dict) and isinstance(status.get("id"), str):
            ids.append(status["id"])
        try:
            if not isinstance(status, dict):
                raise ValueError("status is not an object")
            mentions.append(_status_mention(status, instance_host, received_at))
        except (ValueError, TypeError, OverflowError) as exc:
            rejected.append(Rejected(status, f"mastodon: {exc}", dig(status, "id")))
    return mentions, rejected, ids


def _mention(item: object, instance_host: str, received_at: int) -> NewMention:
    if not isinstance(item, dict):
        raise ValueError("notification is not an object")
    need_str(item, "id")
    if item.get("type") != "mention":
        raise ValueError("notification has no type")
    return _status_mention(need_dict(item, "status"), instance_host, received_at)


def _status_mention(status: dict[str, Any], instance_host: str,
                    received_at: int) -> NewMention:
    author = parse_account(need_dict(status, "account"), instance_host)
    return NewMention(
        channel="mastodon",
        remote_id=need_str(status, "id"),
        author_handle=author.handle,
        author_name=author.display_name,
        text=status_text(status),
        created_at=parse_time(status.get("created_at")),
        in_reply_to=opt_str(status, "in_reply_to_id"),
        author_audience=author.audience,
        author_remote_id=author.remote_id,
        lang=opt_str(status, "language"),
        received_at=received_at,
        author_created_at=account_since(author.created_at, received_at),
        # Mastodon has no verified flag (profile-link "verification" is not an identity check).
        author_verified=None,
    )


_TAG: Final = re.compile(r"#([^\s#]+)")


def _single_tag(query: str) -> str | None:
    """`#panne` -> "panne"; None for anything else (words, several tags, operators)."""
    match = _TAG.fullmatch(query.strip())
    return match.group(1) if match else None


def _id_key(value: str) -> tuple[int, str]:
    """Mastodon ids are numeric strings (snowflakes): compare by length, then text."""
    return (len(value), value)


def narrowest(*visibilities: str | None) -> str:
    known = [v for v in visibilities if v in VISIBILITIES]
    return max(known, key=VISIBILITIES.index) if known else "public"


def with_mention(text: str, handle: str | None) -> str:
    """Prefix the author's @user@domain unless the text mentions them already."""
    if not handle or not handle.startswith("@"):
        return text
    user = handle.split("@")[1]
    lowered = text.casefold()
    if handle.casefold() in lowered or f"@{user.casefold()} " in f"{lowered} ":
        return text
    return f"{handle} {text}"


class MastodonAdapter(HttpAdapter):
    """One account on any Mastodon instance (`instance_url`, e.g. https://piaille.fr).

    `access_token` needs read:notifications, read:statuses, read:accounts, write:statuses.
    `account_id` is our own account id (read once from verify_credentials when not given)."""

    channel = "mastodon"

    def __init__(self, client: httpx.AsyncClient, clock: Clock, *, instance_url: str,
                 access_token: str, account_id: str | None = None,
                 default_visibility: str = "public", page_size: int = PAGE_SIZE,
                 timeout: httpx.Timeout | float | None = None) -> None:
        super().__init__(client, clock, timeout=timeout)
        parts = urlsplit(instance_url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"not an instance URL: {instance_url!r}")
        self._base = f"{parts.scheme}://{parts.netloc}"
        self._host = parts.hostname or parts.netloc
        self._token = access_token
        self._account_id = account_id
        self._default_visibility = default_visibility if default_visibility in VISIBILITIES \
            else "public"
        self._page_size = max(1, min(PAGE_SIZE, page_size))

    def set_token(self, access_token: str) -> None:
        self._token = access_token

    # --- HTTP ------------------------------------------------------------------------------
    async def _call(self, method: str, path: str, *, headers: dict[str, str] | None = None,
                    **kwargs: Any) -> httpx.Response:
        all_headers = {"Authorization": f"Bearer {self._token}", **(headers or {})}
        response = await self._send(method, self._base + path, headers=all_headers, **kwargs)
        self._note_rate(response)
        if response.is_success:
            return response
        raise self._error(response, method)

    def _note_rate(self, response: httpx.Response) -> None:
        h = response.headers
        remaining = header_int(h, "x-ratelimit-remaining")
        if remaining is None:
            return
        reset: float | None
        try:
            reset = float(parse_time(h.get("x-ratelimit-reset")))
        except (ValueError, OverflowError):
            reset = None
        self._rate = RateState(header_int(h, "x-ratelimit-limit"), remaining, reset)

    def _error(self, response: httpx.Response, method: str) -> Exception:
        status = response.status_code
        detail = error_text(response)
        if status == 429:
            now = self._now()
            until = retry_after(response.headers, now) or self._rate.reset_at
            if until is None or until <= now:
                until = now + DEFAULT_BACKOFF
            return RateLimited(detail, until=until, status=status)
        if status in (401, 403):
            return AuthRejected(detail, status=status)
        if status >= 500:
            return transient_for(response, method)
        return Refused(detail, status=status)

    async def own_account_id(self) -> str:
        if self._account_id is None:
            response = await self._call("GET", "/api/v1/accounts/verify_credentials")
            account_id = json_object(response).get("id")
            if not isinstance(account_id, str):
                raise BadPayload("verify_credentials has no id")
            self._account_id = account_id
        return self._account_id

    # --- in --------------------------------------------------------------------------------
    async def fetch_mentions(self, cursor: str | None) -> FetchResult:
        state = decode_cursor(cursor)
        since = state.get("min")
        params: list[tuple[str, str | int]] = [("types[]", "mention"),
                                               ("limit", self._page_size)]
        if since:
            params.append(("min_id", since))
        response = await self._call("GET", "/api/v1/notifications", params=params)
        mentions, rejected, ids = parse_notifications(
            json_body(response), instance_host=self._host, received_at=int(self._now()))
        newest = self._prev_min_id(response)
        if newest is None and ids:
            newest = max(ids, key=_id_key)
        if newest is None or (since and _id_key(newest) <= _id_key(since)):
            newest = since
        more = bool(since) and len(ids) >= self._page_size and newest != since
        return FetchResult(mentions, encode_cursor({"min": newest}) if newest else None,
                           self._rate, rejected, more)

    async def search(self, query: str, cursor: str | None) -> FetchResult:
        """Statuses matching `query`, newer than the cursor's mark (`min_id`).

        A single `#tag` reads that tag's public timeline; anything else the v2 search
        (statuses only, no remote resolution). The first run takes the newest page only; a
        full page after the mark means more are waiting. The cursor remembers its query."""
        state = decode_cursor(cursor)
        since = state.get("min") if state.get("q") == query else None
        tag = _single_tag(query)
        params: list[tuple[str, str | int]] = [("limit", self._page_size)]
        if since:
            params.append(("min_id", since))
        if tag is not None:
            response = await self._call("GET", f"/api/v1/timelines/tag/{quote(tag, safe='')}",
                                        params=params)
            statuses: object = json_body(response)
        else:
            params += [("q", query), ("type", "statuses"), ("resolve", "false")]
            response = await self._call("GET", "/api/v2/search", params=params)
            statuses = json_object(response).get("statuses")
        mentions, rejected, ids = parse_statuses(
            statuses, instance_host=self._host, received_at=int(self._now()))
        newest = self._prev_min_id(response) if tag is not None else None
        if newest is None and ids:
            newest = max(ids, key=_id_key)
        if newest is None or (since and _id_key(newest) <= _id_key(since)):
            newest = since
        more = bool(since) and len(ids) >= self._page_size and newest != since
        next_cursor = encode_cursor({"q": query, "min": newest}) if newest else None
        return FetchResult(mentions, next_cursor, self._rate, rejected, more)

    @staticmethod
    def _prev_min_id(response: httpx.Response) -> str | None:
        try:
            url = response.links.get("prev", {}).get("url")
        except (KeyError, ValueError):
            return None
        if not url:
            return None
        values = parse_qs(urlsplit(url).query).get("min_id") \
            or parse_qs(urlsplit(url).query).get("since_id")
        return values[0] if values else None

    async def lookup_profiles(self, ids: Sequence[str]) -> list[Profile]:
        profiles: list[Profile] = []
        for account_id in dict.fromkeys(ids):
            try:
                response = await self._call("GET", f"/api/v1/accounts/{account_id}")
            except Refused:
                continue  # gone or unknown here
            try:
                profiles.append(parse_account(json_object(response), self._host))
            except (ValueError, TypeError, OverflowError):
                continue
        return profiles

    # --- out -------------------------------------------------------------------------------
    async def _parent_visibility(self, target: ReplyTarget) -> str:
        if target.visibility in VISIBILITIES:
            return target.visibility
        response = await self._call("GET", f"/api/v1/statuses/{target.remote_id}")
        visibility = json_object(response).get("visibility")
        # Unknown to us (a fork's "local"...): the narrowest that still reaches the author.
        return visibility if visibility in VISIBILITIES else "direct"

    def reply_text(self, item: OutboxItem, target: ReplyTarget) -> str:
        return with_mention(item.text, target.author_handle)

    async def send_reply(self, item: OutboxItem, in_reply_to: ReplyTarget, *,
                         record_key: str | None = None) -> SentReply:
        visibility = narrowest(await self._parent_visibility(in_reply_to),
                               self._default_visibility)
        payload: dict[str, Any] = {
            "status": self.reply_text(item, in_reply_to),
            "in_reply_to_id": in_reply_to.remote_id,
            "visibility": visibility,
        }
        if in_reply_to.lang:
            payload["language"] = in_reply_to.lang
        response = await self._call("POST", "/api/v1/statuses", json=payload,
                                    headers={"Idempotency-Key": item.idempotency_key})
        body = json_object(response)
        status_id = body.get("id")
        if not isinstance(status_id, str):
            raise BadPayload("created status has no id", status=response.status_code)
        url = body.get("url") if isinstance(body.get("url"), str) else None
        return SentReply(status_id, url)

    async def find_existing_reply(self, item: OutboxItem, in_reply_to: ReplyTarget, *,
                                  record_key: str | None = None) -> SentReply | None:
        me = await self.own_account_id()
        response = await self._call("GET", f"/api/v1/statuses/{in_reply_to.remote_id}/context")
        descendants = json_object(response).get("descendants", [])
        for status in descendants if isinstance(descendants, list) else []:
            if not isinstance(status, dict) or status.get("in_reply_to_id") != \
                    in_reply_to.remote_id:
                continue
            account = status.get("account")
            if not isinstance(account, dict) or account.get("id") != me:
                continue
            try:
                text = status_text(status)
                status_id = need_str(status, "id")
            except ValueError:
                continue
            if same_text(item.text, text):
                url = status.get("url") if isinstance(status.get("url"), str) else None
                return SentReply(status_id, url)
        return None
