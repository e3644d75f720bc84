"""Listening: watch lists in config.toml, term matching, the search worker over a fake adapter,
the demo's simulated listening feed, and the crisis bulk reply's personalisation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from console.bulk_reply import is_holding, prepare_bulk_replies, signed
from console.channels.base import FetchResult, RateState, TransientError
from console.clock import FrozenClock
from console.config import AgentConfig, ConfigError, load_config
from console.demo.generator import demo_templates, demo_watch_list
from console.demo.live import SimulatedChannel
from console.listening import ListeningWorker, WatchMatcher
from console.listening_config import CrisisSettings, ListeningConfig, WatchTerm
from db.listening import watch_results
from db.models import NewMention, Status
from db.store import Store

NOW = 1_795_683_600
SLA = 3600


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "l.db")
    yield s
    await s.close()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- config --------------------------------------------------------------------------------------


def test_listening_and_crisis_sections(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, """
[listening]
keywords = ["Fibrelle", "fibre optique"]
hashtags = ["PanneFibrelle", "#Fibrelle"]
competitors = ["Orbicom", "NéoLigne"]
interval_minutes = 2

[crisis]
keywords = ["panne", "outage"]
window_minutes = 10
baseline_hours = 12
min_count = 5
ratio = 4
sigmas = 2.5
clusters = false
"""))
    assert config.listening == ListeningConfig(
        keywords=("Fibrelle", "fibre optique"), hashtags=("#PanneFibrelle", "#Fibrelle"),
        competitors=("Orbicom", "NéoLigne"), interval_minutes=2,
    )
    assert config.crisis == CrisisSettings(keywords=("panne", "outage"), window_minutes=10,
                                           baseline_hours=12, min_count=5, ratio=4.0,
                                           sigmas=2.5, clusters=False)
    # Hashtags first, each term once (Fibrelle the keyword is #Fibrelle's twin: kept apart).
    assert [t.kind for t in config.listening.terms] == [
        "hashtag", "hashtag", "competitor", "competitor", "keyword", "keyword"]


def test_defaults_without_the_sections(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "theme = 'dark'\n"))
    assert config.listening.empty and config.crisis == CrisisSettings()


def test_every_mistake_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, """
[listening]
keywords = "Fibrelle"
hashtags = ["Panne Fibrelle", ""]
colour = "red"

[crisis]
window_minutes = 7
min_count = 0
ratio = "3"
clusters = 1
baseline_hours = 48
"""))
    text = str(caught.value)
    for expected in (
        "listening.keywords: expected an array of strings, got a string",
        "listening.hashtags[0]: a hashtag has no spaces",
        "listening.hashtags[1]: must not be empty",
        "listening.colour: unknown setting",
        "crisis.window_minutes: expected a multiple of 5",
        "crisis.min_count: expected at least 1, got 0",
        "crisis.ratio: expected a number, got a string",
        "crisis.clusters: expected true or false, got an integer",
        "crisis.baseline_hours: at most 24",
    ):
        assert expected in text, expected


# --- matching ------------------------------------------------------------------------------------


def test_matcher_finds_hashtags_competitors_and_keywords() -> None:
    matcher = WatchMatcher(demo_watch_list().terms)
    assert matcher.match("Chez moi aussi #PanneFibrelle.") == WatchTerm("hashtag",
                                                                         "#PanneFibrelle")
    assert matcher.match("je passe chez NEOLIGNE demain") == WatchTerm("competitor", "NéoLigne")
    assert matcher.match("la fibre fibrelle est top") == WatchTerm("keyword", "Fibrelle")
    assert matcher.match("#PanneFibrelleBis et Orbicomique") is None


# --- the search worker ---------------------------------------------------------------------------


class SearchingAdapter:
    """A channel adapter with the `search(query, cursor)` method of the channels issue."""

    channel = "mastodon"

    def __init__(self, pages: int = 1) -> None:
        self.calls: list[tuple[str, str | None]] = []
        self.fail = False
        self.pages = pages  # pages waiting per search (FetchResult.more until the last)

    async def search(self, query: str, cursor: str | None) -> FetchResult:
        self.calls.append((query, cursor))
        if self.fail:
            raise TransientError("502 Bad Gateway")
        n = len(self.calls)
        post = NewMention(channel="mastodon", remote_id=f"{query}-{n}", author_handle="@a@b.c",
                          author_name="A", text=f"about {query}", created_at=NOW - n)
        more = sum(1 for q, _ in self.calls if q == query) % self.pages != 0
        return FetchResult([post], f"cursor-{n}", RateState(), more=more)


class FetchOnlyAdapter:
    """An adapter from before the search method landed: listening skips it."""

    channel = "x"

    async def fetch_mentions(self, cursor: str | None) -> FetchResult:
        raise AssertionError("listening never fetches mentions")


async def test_worker_searches_every_term_on_adapters_that_can(store: Store) -> None:
    clock = FrozenClock(NOW)
    adapter = SearchingAdapter()
    watch = ListeningConfig(hashtags=("#PanneFibrelle",), competitors=("Orbicom",),
                            interval_minutes=5)
    worker = ListeningWorker(store, [FetchOnlyAdapter(), adapter], watch, clock)
    assert worker.active and worker.due()
    first = await worker.run_once()
    assert first.searched == 2 and len(first.new_ids) == 2 and not first.errors
    assert adapter.calls == [("#PanneFibrelle", None), ("Orbicom", None)]
    results = await watch_results(store)
    assert {(r.term, r.channel) for r in results} == {("#PanneFibrelle", "mastodon"),
                                                      ("Orbicom", "mastodon")}
    assert (await store.counts()).total == 0  # never queue items
    assert not worker.due() and worker.next_run_at() == NOW + 300
    clock.advance(300)
    await worker.run_once()
    # Each term goes on from its own cursor.
    assert adapter.calls[2:] == [("#PanneFibrelle", "cursor-1"), ("Orbicom", "cursor-2")]


async def test_worker_follows_more_pages_up_to_a_cap(store: Store) -> None:
    adapter = SearchingAdapter(pages=2)
    worker = ListeningWorker(store, [adapter], ListeningConfig(competitors=("Orbicom",)),
                             FrozenClock(NOW))
    result = await worker.run_once()
    assert adapter.calls == [("Orbicom", None), ("Orbicom", "cursor-1")]
    assert result.searched == 2 and len(result.new_ids) == 2
    endless = SearchingAdapter(pages=100)
    worker = ListeningWorker(store, [endless], ListeningConfig(competitors=("Telivo",)),
                             FrozenClock(NOW))
    await worker.run_once()
    assert len(endless.calls) == 3


async def test_worker_backs_off_a_failing_channel(store: Store) -> None:
    clock = FrozenClock(NOW)
    adapter = SearchingAdapter()
    adapter.fail = True
    worker = ListeningWorker(store, [adapter], ListeningConfig(keywords=("Fibrelle",)), clock)
    result = await worker.run_once()
    [error] = result.errors
    assert error.startswith("mastodon: listening paused (") and "502 Bad Gateway" in error
    assert worker.next_run_at() == NOW + 300
    clock.advance(300)
    await worker.run_once()
    assert worker.next_run_at() == NOW + 300 + 600  # doubled
    adapter.fail = False
    clock.advance(600)
    assert not (await worker.run_once()).errors
    assert worker.next_run_at() == NOW + 900 + 300


async def test_nothing_to_do_without_searchable_adapters_or_terms(store: Store) -> None:
    clock = FrozenClock(NOW)
    assert not ListeningWorker(store, [FetchOnlyAdapter()], demo_watch_list(), clock).active
    idle = ListeningWorker(store, [SearchingAdapter()], ListeningConfig(), clock)
    assert not idle.active and idle.next_run_at() is None


# --- the demo's simulated listening feed ---------------------------------------------------------


async def test_simulated_channel_feeds_listening_deterministically(tmp_path: Path) -> None:
    seen = []
    for run in range(2):
        store = await Store.open(tmp_path / f"demo{run}.db")
        clock = FrozenClock(NOW)
        live = SimulatedChannel(store, clock, seed=7, listening=demo_watch_list())
        ids: list[int] = []
        for _ in range(180):
            clock.advance(1)
            ids += (await live.step()).new_watch_ids
        results = await watch_results(store)
        seen.append([(r.remote_id, r.term, r.text) for r in results])
        assert len(ids) == len(results) >= 3
        assert {r.term for r in results} <= {t.term for t in demo_watch_list().terms}
        assert all(r.promoted_mention_id is None for r in results)
        await store.close()
    assert seen[0] == seen[1]


async def test_simulated_channel_without_watch_list_has_no_feed(store: Store) -> None:
    clock = FrozenClock(NOW)
    live = SimulatedChannel(store, clock, seed=7)
    clock.advance(120)
    assert (await live.step()).new_watch_ids == ()
    assert live.listening is None


# --- bulk reply personalisation ------------------------------------------------------------------


def test_holding_statements_exist_in_both_languages() -> None:
    holding = [(name, lang) for name, lang, _ in demo_templates() if is_holding(name)]
    assert {lang for _, lang in holding} == {"fr", "en"}


def test_every_reply_is_signed() -> None:
    agent = AgentConfig.from_name("Camille Martin")
    assert signed("Bonjour Léa.", agent) == "Bonjour Léa. — Camille"
    assert signed("Bonjour Léa. — Camille", agent) == "Bonjour Léa. — Camille"
    assert signed("Merci, Camille", agent) == "Merci, Camille"


async def test_prepare_bulk_replies_personalises_and_skips(store: Store) -> None:
    ids = await store.ingest([
        NewMention(channel="x", remote_id="1", author_handle="@lea", author_name="Léa Petit",
                   text="#PanneFibrelle", created_at=NOW),
        NewMention(channel="bluesky", remote_id="2", author_handle="@tom.bsky.social",
                   author_name="Tom Hughes", text="#PanneFibrelle", created_at=NOW),
        NewMention(channel="x", remote_id="3", author_handle="@done", author_name="Done",
                   text="#PanneFibrelle", created_at=NOW),
    ], now=NOW, first_reply_sla=SLA)
    await store.set_status(ids[2], Status.RESOLVED, actor="a", now=NOW)
    agent = AgentConfig.from_name("Camille Martin")
    plan = await prepare_bulk_replies(
        store, [*ids, 999], "Bonjour {customer.first_name}, prochain point à {eta}.", agent,
        {"eta": "14h"},
    )
    assert plan.replies == (
        (ids[0], "Bonjour Léa, prochain point à 14h. — Camille"),
        (ids[1], "Bonjour Tom, prochain point à 14h. — Camille"),
    )
    assert plan.skipped == ((ids[2], "already resolved"), (999, "no longer exists"))
    unfilled = await prepare_bulk_replies(store, ids[:1], "ETA {eta}", agent)
    assert unfilled.skipped == ((ids[0], "unfilled {eta}"),)
    long = await prepare_bulk_replies(store, ids[1:2], "x" * 400, agent)
    assert long.skipped == ((ids[1], "too long for bluesky"),)


async def test_desk_sync_runs_listening_with_the_rest(store: Store) -> None:
    from console.sync.desk import DeskSync

    clock = FrozenClock(NOW)
    adapter = SearchingAdapter()
    adapter.fail = True
    worker = ListeningWorker(store, [adapter], ListeningConfig(competitors=("Orbicom",)), clock)
    desk = DeskSync([], None, clock, listening=worker)
    failed = await desk.step()
    assert failed.new_watch_ids == ()
    assert any("listening paused" in line for line in desk.status_lines())
    assert desk.next_due() == NOW + 5.0  # MAX_IDLE, before the listening back-off ends
    adapter.fail = False
    clock.advance(300)
    result = await desk.step()
    assert len(result.new_watch_ids) == 1
    assert not any("listening" in line for line in desk.status_lines())
