"""What every channel adapter offers, the errors it raises, and the HTTP plumbing they share.

An adapter turns one network's API into `NewMention` rows (fetch) and sends `OutboxItem` replies
(send). It never touches the database: the sync worker owns the cursor, the outbox state and the
transaction; the adapter only talks HTTP through the one `httpx.AsyncClient` the App owns, and
reads the time from the injected `Clock`.

Contracts the sync worker relies on:

- `fetch_mentions(cursor)` returns one page (`search(query, cursor)`, for listening, likewise
  for public posts matching a query, with its own cursor). Store the mentions and *then*
  `next_cursor`; call again at once while `more` is true. A cursor is opaque text (None: first
  run). A malformed item is returned in `rejected` with a reason (and its remote id when
  readable); the rest of the page lands. A page that is not even JSON raises `BadPayload`.
- `send_reply(item, target, record_key=...)` posts once. `record_key` is the value
  `new_record_key()` returned before the *first* attempt, stored with the outbox row and passed
  again on every retry (Bluesky writes the record under that key; other channels return None).
- After a crash or a `TransientError` whose `maybe_sent` is true, call
  `find_existing_reply(item, target, record_key=...)` before sending again.
- Every error is a `ChannelError`; `retryable` says whether trying later can help.

Server text (error details, post text, names) is outside text: it is kept as received here and
cleaned where it is shown (console.untrusted / widgets.text). No Textual import (import-linter).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Protocol, runtime_checkable

import httpx

from console.clock import Clock
from db.models import NewMention, OutboxItem

# Connect fast or give up (a dead network should not hold the sync loop); reads may be slower.
DEFAULT_TIMEOUT: Final = httpx.Timeout(20.0, connect=5.0)
USER_AGENT: Final = "Comptoir/0.1 (+https://github.com/comptoir)"
# Server messages are kept for the agent, bounded: a 2 MB HTML error page is not a reason.
MAX_DETAIL: Final = 500
# When a 429 carries no usable reset, wait this long (seconds).
DEFAULT_BACKOFF: Final = 60.0


def make_client(**kwargs: Any) -> httpx.AsyncClient:
    """The App's one shared client: timeouts on, no redirects followed blindly."""
    kwargs.setdefault("timeout", DEFAULT_TIMEOUT)
    kwargs.setdefault("follow_redirects", False)
    kwargs.setdefault("headers", {"User-Agent": USER_AGENT})
    return httpx.AsyncClient(**kwargs)


# --- errors ----------------------------------------------------------------------------------


class ChannelError(Exception):
    """Something the network said no to, or could not be reached for.

    `detail` is the server's own wording (outside text, bounded); `status` the HTTP status when
    there was a response."""

    retryable: bool = False

    def __init__(self, detail: str = "", *, status: int | None = None) -> None:
        self.detail = detail[:MAX_DETAIL]
        self.status = status
        super().__init__(self.describe())

    def describe(self) -> str:
        prefix = f"{self.status} " if self.status is not None else ""
        return f"{prefix}{type(self).__name__}: {self.detail}".strip()


class AuthRejected(ChannelError):
    """The token or password is refused (revoked, expired beyond refresh, missing scope)."""


class RateLimited(ChannelError):
    """Too many requests: try again at `until` (epoch seconds)."""

    retryable = True

    def __init__(self, detail: str = "", *, until: float, status: int | None = 429) -> None:
        self.until = until
        super().__init__(detail, status=status)


class MonthlyCapReached(ChannelError):
    """X's monthly usage cap for the project: nothing moves until the billing period turns.

    `until` is when the server says to look again, when it says so (usually it does not)."""

    def __init__(self, detail: str = "", *, until: float | None = None,
                 status: int | None = 429) -> None:
        self.until = until
        super().__init__(detail, status=status)


class DuplicateContent(ChannelError):
    """X refuses a post identical to a recent one. After a lost answer this usually means the
    first attempt went through: look with `find_existing_reply` before giving up."""


class TransientError(ChannelError):
    """5xx, timeout, network down. `maybe_sent` is true when the request may have reached the
    server (read timeout, 5xx on a POST): check with `find_existing_reply` before resending."""

    retryable = True

    def __init__(self, detail: str = "", *, status: int | None = None,
                 maybe_sent: bool = False) -> None:
        self.maybe_sent = maybe_sent
        super().__init__(detail, status=status)


class BadPayload(ChannelError):
    """The answer is not what the API documents (not JSON, wrong shape)."""

    retryable = True  # a proxy's error page today is often the real API tomorrow


class Refused(ChannelError):
    """A permanent refusal of this request (422 validation, 404 parent deleted, 403 reply
    settings...): sending it again as it is will not help."""


# --- values ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RateState:
    """The last rate-limit figures a server sent (None: it did not say)."""

    limit: int | None = None
    remaining: int | None = None
    reset_at: float | None = None  # epoch seconds

    def wait(self, now: float) -> float:
        """Seconds to wait before the next call: 0 unless the window is used up."""
        if self.remaining is not None and self.remaining <= 0 and self.reset_at is not None:
            return max(0.0, self.reset_at - now)
        return 0.0


@dataclass(frozen=True, slots=True)
class Rejected:
    """One item of a page that could not be read; the rest of the page still lands (the sync
    worker puts this one in quarantine, with `error` and `raw` as received)."""

    raw: object
    error: str
    remote_id: str | None = None  # when it could be read from the broken item


def dig(obj: object, *keys: str) -> str | None:
    """obj[k1][k2]... when every step is an object and the end a non-empty string (bounded):
    the remote id of an item too broken to parse, for the quarantine."""
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj if isinstance(obj, str) and obj and len(obj) <= 500 else None


@dataclass(frozen=True, slots=True)
class FetchResult:
    mentions: list[NewMention]
    next_cursor: str | None
    rate: RateState
    rejected: list[Rejected] = field(default_factory=list)
    more: bool = False  # another page is waiting: call again with next_cursor now


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    """The post a reply answers, as the Store knows it (Mention.remote_id / thread_id...).

    Optional fields save a lookup when the caller has them; adapters fetch what they miss
    (Bluesky CIDs, Mastodon visibility)."""

    remote_id: str
    thread_id: str | None = None
    author_handle: str | None = None  # Mastodon: the reply mentions the author (else unseen)
    author_remote_id: str | None = None
    lang: str | None = None  # language of the reply (Bluesky `langs`, Mastodon `language`)
    cid: str | None = None  # Bluesky: CID of the parent post
    root_uri: str | None = None  # Bluesky: thread root
    root_cid: str | None = None
    visibility: str | None = None  # Mastodon: visibility of the parent


@dataclass(frozen=True, slots=True)
class SentReply:
    remote_id: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    remote_id: str
    handle: str
    display_name: str
    audience: int = 0
    verified: bool = False
    created_at: int | None = None
    bio: str = ""


# --- the interface ---------------------------------------------------------------------------


@runtime_checkable
class ChannelAdapter(Protocol):
    channel: str  # "x" | "mastodon" | "bluesky"

    @property
    def rate_state(self) -> RateState: ...

    async def fetch_mentions(self, cursor: str | None) -> FetchResult: ...

    async def search(self, query: str, cursor: str | None) -> FetchResult:
        """Public posts matching `query` (listening), newer than `cursor`, as mentions of the
        same shape as fetch_mentions (same paging contract: store, then keep `next_cursor`;
        call again while `more`). The cursor is the search's own, not the mentions cursor."""
        ...

    def new_record_key(self) -> str | None:
        """A key to store with the outbox row before the first attempt (None: not needed)."""
        ...

    async def send_reply(self, item: OutboxItem, in_reply_to: ReplyTarget, *,
                         record_key: str | None = None) -> SentReply: ...

    async def find_existing_reply(self, item: OutboxItem, in_reply_to: ReplyTarget, *,
                                  record_key: str | None = None) -> SentReply | None: ...

    async def lookup_profiles(self, ids: Sequence[str]) -> list[Profile]: ...


# --- helpers shared by the adapters ----------------------------------------------------------


class HttpAdapter:
    """HTTP calls with the error mapping every adapter shares; subclasses add the rest."""

    channel: str = ""

    def __init__(self, client: httpx.AsyncClient, clock: Clock, *,
                 timeout: httpx.Timeout | float | None = None) -> None:
        self._client = client
        self._clock = clock
        self._timeout = DEFAULT_TIMEOUT if timeout is None else timeout
        self._rate = RateState()

    @property
    def rate_state(self) -> RateState:
        return self._rate

    def new_record_key(self) -> str | None:
        return None

    def _now(self) -> float:
        return self._clock.now()

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request; network trouble becomes TransientError, nothing else is decided here."""
        kwargs.setdefault("timeout", self._timeout)
        try:
            return await self._client.request(method, url, **kwargs)
        except (httpx.ConnectTimeout, httpx.ConnectError, httpx.PoolTimeout) as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}", maybe_sent=False) from exc
        except httpx.TimeoutException as exc:  # read/write timeout: it may have arrived
            raise TransientError(f"{type(exc).__name__}: {exc}",
                                 maybe_sent=method != "GET") from exc
        except httpx.TransportError as exc:  # reset, protocol error, proxy trouble
            raise TransientError(f"{type(exc).__name__}: {exc}",
                                 maybe_sent=method != "GET") from exc


def json_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
        raise BadPayload(f"not JSON: {short(response.text)}", status=response.status_code) \
            from exc


def json_object(response: httpx.Response) -> dict[str, Any]:
    body = json_body(response)
    if not isinstance(body, dict):
        raise BadPayload(f"expected a JSON object, got {type(body).__name__}",
                         status=response.status_code)
    return body


def error_text(response: httpx.Response) -> str:
    """The server's reason, from the JSON error shapes of the three APIs or the raw body."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return short(response.text) or response.reason_phrase
    if isinstance(body, dict):
        parts = [body.get(k) for k in ("title", "error", "detail", "message", "error_description")]
        words = [p for p in parts if isinstance(p, str) and p]
        errors = body.get("errors")
        if not words and isinstance(errors, list):
            words = [e.get("message", "") for e in errors if isinstance(e, dict)]
            words = [w for w in words if isinstance(w, str) and w]
        if words:
            return ": ".join(dict.fromkeys(words))
    return short(response.text)


def short(text: str, limit: int = MAX_DETAIL) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def transient_for(response: httpx.Response, method: str) -> TransientError:
    return TransientError(error_text(response), status=response.status_code,
                          maybe_sent=method != "GET")


def header_int(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def header_float(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return float(value.strip())
    except ValueError:
        return None


def retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Retry-After as an instant: delta-seconds or an HTTP date."""
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return now + int(value)
    try:
        from email.utils import parsedate_to_datetime

        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


_FRACTION = re.compile(r"(\.\d{1,6})\d*")


def parse_time(value: object) -> int:
    """An ISO 8601 / RFC 3339 instant as integer epoch seconds (UTC when no offset is given).

    Raises ValueError for anything else, so parsers can reject the item with a reason."""
    if not isinstance(value, str) or not value or len(value) > 64:
        raise ValueError(f"not a timestamp: {value!r}"[:120])
    text = _FRACTION.sub(lambda m: m.group(1), value.strip(), count=1)
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a timestamp: {value!r}"[:120]) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def opt_time(value: object) -> int | None:
    """An optional instant (when an author's account was created): epoch seconds, or None when
    it is missing or malformed. Never raises: a bad date must not cost the item."""
    try:
        return parse_time(value)
    except (ValueError, OverflowError):
        return None


def account_since(created_at: int | None, seen_at: int) -> int | None:
    """An author's account creation time as a triage signal, or None when it is unknown or
    later than when we saw the item (a date that cannot be true)."""
    return created_at if created_at is not None and created_at <= seen_at else None


def iso_utc(epoch: float) -> str:
    """Epoch seconds as RFC 3339 with milliseconds and a Z (what the three APIs write)."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def encode_cursor(state: Mapping[str, str | None]) -> str:
    return json.dumps({k: v for k, v in state.items() if v is not None}, sort_keys=True,
                      separators=(",", ":"))


def decode_cursor(cursor: str | None) -> dict[str, str]:
    """A cursor we wrote. Anything unreadable starts afresh (ingest dedupes on remote id)."""
    if not cursor:
        return {}
    try:
        state = json.loads(cursor)
    except (json.JSONDecodeError, TypeError):
        return {}
    if not isinstance(state, dict):
        return {}
    return {k: v for k, v in state.items() if isinstance(k, str) and isinstance(v, str)}


def need_str(obj: Mapping[str, Any], key: str, *, allow_empty: bool = False) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or (not value and not allow_empty):
        raise ValueError(f"{key!r} missing or not a string")
    return value


def opt_str(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) and value else None


def opt_int(obj: Mapping[str, Any], key: str) -> int:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        return 0
    return max(0, value)


def need_dict(obj: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = obj.get(key)
    if not isinstance(value, dict):
        raise ValueError(f"{key!r} missing or not an object")
    return value


def same_text(sent: str, seen: str) -> bool:
    """Whether a post the network shows is the text we sent, allowing what networks change:
    HTML escapes, whitespace, shortened links, a leading @mention added by us or the server."""
    return _comparable(sent) == _comparable(seen)


_URL = re.compile(r"https?://\S+")
_LEADING_MENTIONS = re.compile(r"^(?:@[\w.@-]+\s+)+")


def _comparable(text: str) -> str:
    import html

    text = html.unescape(text)
    text = _URL.sub("<url>", text)
    text = " ".join(text.split())
    return _LEADING_MENTIONS.sub("", text).casefold()
