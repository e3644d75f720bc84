"""Listening: what is said about the brand and its competitors, outside the queue.

- `WatchMatcher` says which watch term (``[listening]`` in config.toml) a post matches: hashtags
  by their folded tag, keywords and competitor names as whole words (accents and case optional).
- `ListeningWorker` asks each channel adapter that has a ``search(query, cursor) -> FetchResult``
  method (X recent search, Mastodon hashtag timeline or search, Bluesky searchPosts) for each watch
  term, and stores what comes back as *watch results* (db/listening.py), never as mentions. An
  adapter without `search` is skipped (getattr), so this runs before every adapter has it.

No Textual, no sleeping: `run_once()` does what is due now, `next_run_at()` says when to call
again, like the sync worker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from console.clock import Clock
from console.crisis import fold, words
from console.listening_config import ListeningConfig, WatchTerm
from db.errors import StoreError
from db.listening import NewWatchResult, add_watch_results
from db.models import NewMention
from db.store import Store

log = logging.getLogger(__name__)

SEARCH_TIMEOUT: Final = 30.0
MAX_PAGES: Final = 3  # per term and run: a busy term does not starve the others
MAX_BACKOFF: Final = 3600.0


class WatchMatcher:
    def __init__(self, terms: Sequence[WatchTerm]) -> None:
        self._terms: list[tuple[WatchTerm, tuple[str, ...]]] = []
        for term in terms:
            folded = tuple(words(term.term))
            if folded:
                self._terms.append((term, folded))

    def match(self, text: str) -> WatchTerm | None:
        """The first term (hashtags, then competitors, then keywords) the text carries."""
        found = words(text)
        tags = {fold(w) for w in text.split() if w.startswith("#")}
        for term, folded in self._terms:
            if term.kind == "hashtag":
                if any(tag.rstrip(".,;:!?)") == "#" + "".join(folded) for tag in tags):
                    return term
            elif _contains(found, folded):
                return term
        return None


def _contains(haystack: Sequence[str], needle: Sequence[str]) -> bool:
    n = len(needle)
    return any(tuple(haystack[i : i + n]) == tuple(needle) for i in range(len(haystack) - n + 1))


def watch_result(mention: NewMention, term: WatchTerm) -> NewWatchResult:
    """A found post as a listening result, labelled with the term that found it."""
    return NewWatchResult(
        channel=mention.channel,
        remote_id=mention.remote_id,
        author_handle=mention.author_handle,
        author_name=mention.author_name,
        text=mention.text,
        term=term.term,
        at=mention.created_at,
        lang=mention.lang,
        author_audience=mention.author_audience,
    )


@dataclass(frozen=True, slots=True)
class ListeningResult:
    new_ids: tuple[int, ...] = ()
    searched: int = 0
    errors: tuple[str, ...] = field(default_factory=tuple)


class ListeningWorker:
    """Searches every watch term on every adapter that can search, every `interval` seconds.

    Per-(channel, term) cursors stay in memory: after a restart a search starts from the newest
    posts again, and the unique (channel, remote_id) of watch results drops what was seen."""

    def __init__(self, store: Store, adapters: Sequence[Any], config: ListeningConfig,
                 clock: Clock, *, timeout: float = SEARCH_TIMEOUT) -> None:
        self._store = store
        self._adapters = [a for a in adapters if callable(getattr(a, "search", None))]
        self._terms = config.terms
        self._clock = clock
        self._interval = config.interval_minutes * 60.0
        self._timeout = timeout
        self._cursors: dict[tuple[str, str], str | None] = {}
        self._failures: dict[str, int] = {}
        self._next: dict[str, float] = {}

    @property
    def active(self) -> bool:
        """False when no adapter can search or nothing is watched: nothing to run."""
        return bool(self._adapters and self._terms)

    def next_run_at(self) -> float | None:
        if not self.active:
            return None
        now = self._clock.now()
        return min(self._next.get(a.channel, now) for a in self._adapters)

    def due(self) -> bool:
        at = self.next_run_at()
        return at is not None and at <= self._clock.now()

    async def run_once(self) -> ListeningResult:
        new_ids: list[int] = []
        errors: list[str] = []
        searched = 0
        now = self._clock.now()
        for adapter in self._adapters:
            channel = adapter.channel
            if self._next.get(channel, now) > now:
                continue
            try:
                for term in self._terms:
                    key = (channel, term.term)
                    for _page in range(MAX_PAGES):
                        page = await asyncio.wait_for(
                            adapter.search(term.term, self._cursors.get(key)), self._timeout
                        )
                        searched += 1
                        found = [watch_result(m, term) for m in page.mentions]
                        # Stored, then the cursor kept (the sync worker's order): a crash in
                        # between searches again, and the unique remote id drops the repeats.
                        new_ids += await add_watch_results(self._store, found,
                                                           now=int(self._clock.now()))
                        self._cursors[key] = page.next_cursor
                        if not getattr(page, "more", False):
                            break
            except StoreError:
                raise  # not the network's fault: the caller reports it
            except Exception as error:  # the network's fault: back off this channel only
                failures = self._failures.get(channel, 0) + 1
                self._failures[channel] = failures
                delay = min(MAX_BACKOFF, self._interval * 2 ** (failures - 1))
                self._next[channel] = self._clock.now() + delay
                first = str(error).splitlines()[0] if str(error) else type(error).__name__
                errors.append(f"{channel}: listening paused ({first[:200]})")
                continue
            self._failures.pop(channel, None)
            self._next[channel] = self._clock.now() + self._interval
        return ListeningResult(tuple(new_ids), searched, tuple(errors))
