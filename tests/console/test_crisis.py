"""Spike detection: topics, baselines, thresholds and sliding windows, with injected times."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from console.crisis import (
    CrisisMonitor,
    Spike,
    TopicExtractor,
    baseline_range,
    baseline_stats,
    cluster_key,
    detect_spikes,
    threshold,
    window_range,
)
from console.listening_config import CrisisSettings
from db.crisis import pin_note
from db.models import NewMention
from db.store import Store
from db.topics import BUCKET_SECONDS

NOW = 1_795_683_600  # a bucket boundary
SLA = 3600
MIN = 60


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "c.db")
    s.topic_source = TopicExtractor(["panne", "fibre optique"])
    yield s
    await s.close()


_seq = 0


def post(text: str, at: int, channel: str = "x") -> NewMention:
    global _seq
    _seq += 1
    return NewMention(channel=channel, remote_id=f"r{_seq}", author_handle=f"@user{_seq}",
                      author_name=f"User {_seq}", text=text, created_at=at)


async def put(store: Store, posts: list[NewMention], now: int) -> None:
    await store.ingest(posts, now=now, first_reply_sla=SLA)


def keys(text: str, extractor: TopicExtractor | None = None) -> set[str]:
    ex = extractor or TopicExtractor(["panne", "fibre optique"])
    return {ref.key for ref in ex.topics_of_text(text)}


# --- topics --------------------------------------------------------------------------------------


def test_hashtags_are_folded_and_keep_their_first_label() -> None:
    refs = TopicExtractor().topics_of_text("Encore #PanneFibrelle et #Réseau, pas #1 ni a#b")
    tags = [(r.key, r.label) for r in refs if r.kind == "hashtag"]
    assert tags == [("#pannefibrelle", "#PanneFibrelle"), ("#reseau", "#Réseau")]


def test_keywords_match_whole_words_accents_optional() -> None:
    assert "kw:panne" in keys("Toujours en PANNE depuis ce matin")
    assert "kw:panne" not in keys("#PanneFibrelle depannage")  # inside other words: no
    assert "kw:fibre optique" in keys("La fibre  optique est coupée")
    assert "kw:fibre optique" not in keys("optique fibre")


def test_copies_share_a_cluster_key_unrelated_texts_do_not() -> None:
    text = "Le réseau mobile est coupé dans tout le quartier depuis midi, aucune explication"
    key = cluster_key(text)
    assert key is not None and key.startswith("~")
    # Case, accents, punctuation, handles, links and numbers do not make a copy different.
    assert cluster_key("@Fibrelle LE RESEAU mobile est coupe dans tout le quartier depuis "
                       "midi !!! aucune explication https://t.co/x 42") == key
    assert cluster_key("Merci pour le geste commercial, le technicien était parfait") != key
    assert cluster_key("trop court") is None


def test_near_duplicates_mostly_share_a_cluster() -> None:
    """A copy-paste campaign with one changing word (the city): most copies share one key."""
    cities = ["Lyon", "Bron", "Caluire", "Vienne", "Oullins", "Écully", "Grenoble", "Villeurbanne",
              "Vénissieux", "Saint-Priest", "Meyzieu", "Décines"]
    template = "Toute la rue est coupée à {} depuis hier soir, personne ne répond au téléphone"
    found = [cluster_key(template.format(city)) for city in cities]
    top = max(set(found), key=found.count)
    assert found.count(top) >= len(cities) // 2


def test_clusters_can_be_switched_off() -> None:
    text = "Le réseau mobile est coupé dans tout le quartier depuis midi"
    assert not [r for r in TopicExtractor(clusters=False).topics_of_text(text)
                if r.kind == "cluster"]


# --- windows, baseline, threshold ----------------------------------------------------------------


def test_sliding_window_is_whole_buckets_up_to_the_current_one() -> None:
    settings = CrisisSettings(window_minutes=15)
    assert window_range(NOW + 4 * MIN, settings) == (NOW - 10 * MIN, NOW)
    assert window_range(NOW + 5 * MIN, settings) == (NOW - 5 * MIN, NOW + 5 * MIN)
    first, last = baseline_range(NOW, CrisisSettings(window_minutes=15, baseline_hours=6))
    assert last == NOW - 15 * MIN  # the bucket just before the window
    assert (last + BUCKET_SECONDS - first) == 6 * 3600


def test_baseline_counts_missing_buckets_as_zero() -> None:
    settings = CrisisSettings(window_minutes=15, baseline_hours=1)
    first, _ = baseline_range(NOW, settings)
    # Four 15-minute slices in the hour before the window: 6, 0, 2, 0.
    history = {first: 4, first + BUCKET_SECONDS: 2, first + 7 * BUCKET_SECONDS: 2}
    mean, stdev = baseline_stats(history, NOW, settings)
    assert mean == pytest.approx(2.0)
    assert stdev == pytest.approx((((6 - 2) ** 2 + 4 + 0 + 4) / 4) ** 0.5)


def test_threshold_is_the_strictest_of_minimum_ratio_and_deviation() -> None:
    s = CrisisSettings(min_count=10, ratio=3.0, sigmas=3.0)
    assert threshold(0.0, 0.0, s) == 10  # no history: the minimum decides
    assert threshold(5.0, 1.0, s) == 15  # steady topic: the ratio decides
    assert threshold(5.0, 4.0, s) == 17  # noisy topic: the deviation decides


# --- detection over the maintained counts --------------------------------------------------------


async def test_a_burst_over_a_quiet_baseline_is_a_spike(store: Store) -> None:
    quiet = [post("#PanneFibrelle ?", NOW - h * 3600) for h in range(1, 6)]
    burst = [post(f"#PanneFibrelle toujours rien {i}", NOW - i * 20) for i in range(30)]
    await put(store, quiet + burst, NOW)
    spikes = await detect_spikes(store, NOW, CrisisSettings())
    assert [s.topic for s in spikes][:1] == ["#pannefibrelle"]
    top = spikes[0]
    assert (top.label, top.count, top.kind) == ("#PanneFibrelle", 30, "hashtag")
    assert top.describe() == "#PanneFibrelle 30 mentions in 15 min (baseline 0)"


async def test_below_the_minimum_is_not_a_spike(store: Store) -> None:
    await put(store, [post("#calme", NOW - i * 30) for i in range(9)], NOW)
    assert await detect_spikes(store, NOW, CrisisSettings(min_count=10)) == []
    assert [s.topic for s in await detect_spikes(store, NOW, CrisisSettings(min_count=9))] == [
        "#calme"]


async def test_a_topic_that_is_always_busy_is_compared_with_itself(store: Store) -> None:
    # #promo: ~20 posts every 15 minutes for six hours, then 24 now: business as usual.
    steady = [post(f"#promo offre {i}", NOW - 15 * MIN - i * 45) for i in range(480)]
    now_posts = [post(f"#promo offre now {i}", NOW - i * 30) for i in range(24)]
    # #panne-style newcomer with the same 24 posts now and no history: a spike.
    newcomer = [post(f"#coupure {i}", NOW - i * 30) for i in range(24)]
    await put(store, steady + now_posts + newcomer, NOW)
    spikes = {s.topic: s for s in await detect_spikes(store, NOW, CrisisSettings())}
    assert "#coupure" in spikes
    assert "#promo" not in spikes


async def test_the_window_slides_with_the_clock(store: Store) -> None:
    # 20 posts in the first 200 seconds of one bucket.
    await put(store, [post(f"#orage {i}", NOW + i * 10) for i in range(20)], NOW + 200)
    settings = CrisisSettings()
    assert [s.topic for s in await detect_spikes(store, NOW + 200, settings)] == ["#orage"]
    # Still inside the window 10 minutes later, gone once the burst's bucket leaves it.
    later = NOW + 10 * MIN + 200
    assert [s.topic for s in await detect_spikes(store, later, settings)] == ["#orage"]
    assert await detect_spikes(store, NOW + 15 * MIN, settings) == []


async def test_keywords_and_clusters_spike_too(store: Store) -> None:
    campaign = "Je résilie mon abonnement Fibrelle aujourd'hui, service client injoignable"
    posts = [post(f"{campaign} {i}", NOW - i * 25) for i in range(12)]
    posts += [post(f"Encore une panne chez moi ({i})", NOW - i * 40) for i in range(11)]
    await put(store, posts, NOW)
    spikes = await detect_spikes(store, NOW, CrisisSettings())
    kinds = {s.kind: s for s in spikes}
    assert kinds["keyword"].topic == "kw:panne" and kinds["keyword"].count == 11
    assert kinds["cluster"].count == 12
    assert kinds["cluster"].label.startswith("≈ Je résilie mon abonnement")


async def test_strongest_spike_first(store: Store) -> None:
    await put(store, [post(f"#petit {i}", NOW - i * 30) for i in range(11)]
              + [post(f"#gros {i}", NOW - i * 10) for i in range(60)], NOW)
    spikes = await detect_spikes(store, NOW, CrisisSettings())
    assert [s.topic for s in spikes] == ["#gros", "#petit"]
    assert spikes[0].strength > spikes[1].strength


async def test_monitor_reports_spikes_and_the_pinned_note(store: Store) -> None:
    await put(store, [post(f"#orage {i}", NOW - i * 10) for i in range(20)], NOW)
    await pin_note(store, "Orage : message d'attente", author="camille", now=NOW)
    monitor = CrisisMonitor(store, CrisisSettings())
    state = await monitor.check(NOW)
    assert isinstance(state.top, Spike) and state.top.topic == "#orage"
    assert state.note is not None and state.note.text == "Orage : message d'attente"
    # An hour later the counts are still there (pruning keeps a day), the spike is not.
    later = await monitor.check(NOW + 3600)
    assert later.top is None
    assert (await store._rows("SELECT sum(n) FROM topic_counts WHERE topic = '#orage'")) == [
        (20,)]


async def test_detection_cost_does_not_grow_with_the_queue(tmp_path: Path) -> None:
    """The reads of a detection are the same whatever the number of older mentions: count
    SQLite's progress callbacks (they fire as a statement loops over rows) during a detection
    with 100 and with 5,000 old mentions. A control query that does scan mentions shows the
    instrument would see a scan."""
    steps: list[int] = []
    control: list[int] = []
    for old in (100, 5000):
        store = await Store.open(tmp_path / f"q{old}.db")
        store.topic_source = TopicExtractor()
        history = [post(f"Bonjour question numéro {i} sur ma facture", NOW - 2 * 86400 - i)
                   for i in range(old)]
        await store.bulk_load([], history, now=NOW, first_reply_sla=SLA)
        await put(store, [post(f"#orage {i}", NOW - i * 10) for i in range(20)], NOW)
        count = 0

        def tick() -> int:
            nonlocal count
            count += 1
            return 0

        await store._conn.set_progress_handler(tick, 1)
        assert [s.topic for s in await detect_spikes(store, NOW, CrisisSettings())] == ["#orage"]
        steps.append(count)
        count = 0
        await store._rows("SELECT count(*) FROM mentions WHERE text LIKE '%orage%'")
        control.append(count)
        await store._conn.set_progress_handler(None, 1)
        await store.close()
    assert steps[0] == steps[1], steps
    assert control[1] > control[0] + 1000, control


@pytest.mark.parametrize("offset", [0, 299])
async def test_the_demo_burst_is_a_spike_at_startup(tmp_path: Path, offset: int) -> None:
    """`comptoir demo` opens on a crisis whatever second of the 5-minute bucket it starts in."""
    from console.cli import load_demo

    store = await Store.open(tmp_path / "demo.db")
    try:
        await load_demo(store, seed=7, now=NOW + offset, first_reply_sla=SLA)
        spikes = await detect_spikes(store, NOW + offset, CrisisSettings())
        assert [s.label for s in spikes] == ["#PanneFibrelle"]
        assert 30 <= spikes[0].count <= 45 and spikes[0].baseline < 3
    finally:
        await store.close()
