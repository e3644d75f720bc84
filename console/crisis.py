"""Crisis mode: what a topic is, and when its volume is a spike.

Topics of a mention (`TopicExtractor`, the db's `TopicSource`):
- every hashtag (``#PanneFibrelle``; case and accents folded for the key, first form kept as label);
- every configured keyword or phrase found in the text (word boundaries, accents optional);
- one *cluster* key for near-identical texts: the text's content words (URLs, handles, numbers,
  short and stop words dropped) reduced to the `CLUSTER_K` words with the smallest stable hash (a
  bottom-k MinHash sketch). Copies of one text always share the key; texts differing by a word
  or two (a city, a number) share it most of the time, unrelated texts almost never. One key per
  mention, so a cluster's count is a count of mentions.
The Store counts them at ingest in 5-minute buckets (db/topics.py): nothing here scans mentions.

Spike rule, per topic against its *own* baseline: the count in the sliding window (the last
`window_minutes`, in whole buckets, the current one included) is compared with the counts of the
same-length windows over the previous `baseline_hours`. It is a spike when
``count >= max(min_count, ratio * mean, mean + sigmas * stdev)``: the minimum keeps a quiet topic
from "spiking" on three posts, the ratio and the deviation keep a topic that is always busy from
firing on its usual noise.

Pure domain code (no Textual); time is always passed in.
"""

from __future__ import annotations

import math
import re
import unicodedata
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from console.listening_config import CrisisSettings
from db.crisis import (
    PinnedNote,
    busy_topics,
    pinned_note,
    prune_topics,
    topic_history,
    topic_infos,
)
from db.models import NewMention
from db.store import Store
from db.topics import BUCKET_SECONDS, TopicRef, bucket_of

CLUSTER_K: Final = 3
CLUSTER_MIN_WORDS: Final = 4
PRUNE_EVERY: Final = 3600

_URL: Final = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_HANDLE: Final = re.compile(r"@[\w.@-]+")
_HASHTAG: Final = re.compile(r"(?<![\w#&])#(\w{2,64})")
_WORD: Final = re.compile(r"\w+")

# Words too common to tell two texts apart (FR and EN), after folding.
_STOP_TEXT: Final = """
    a au aux avec ce ces cette c ca dans de des du elle en est et etre il ils je j la le les leur
    lui ma mais me mes moi mon ne nos notre nous on ou par pas plus pour qu que qui sa se ses son
    sur ta te tes toi ton tu un une vos votre vous y ai as avez ont sont fait faire tout tous tres
    the and for are was were you your yours our ours they them this that with from have has had
    not but all any can will just what when why how who its it's his her she him out about into
    than then there their been being would could should did does doing don isn
"""
STOP_WORDS: Final = frozenset(_STOP_TEXT.split())


def fold(text: str) -> str:
    """Case and accents folded: "Réseau" and "RESEAU" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(text: str) -> list[str]:
    """The folded words of a text without URLs and @handles (hashtags keep their word)."""
    text = _HANDLE.sub(" ", _URL.sub(" ", text))
    return _WORD.findall(fold(text))


def _stable_hash(word: str) -> int:
    # crc32, not hash(): the same text must give the same key in every process and every run.
    return zlib.crc32(word.encode("utf-8"))


def cluster_key(text: str, found: Sequence[str] | None = None) -> str | None:
    """The near-duplicate key of a text (`found`: its `words`, if already split), or None when
    it has too few content words."""
    found = words(text) if found is None else found
    content = {w for w in found if len(w) >= 3 and not w.isdigit() and w not in STOP_WORDS}
    if len(content) < CLUSTER_MIN_WORDS:
        return None
    sketch = sorted(content, key=lambda w: (_stable_hash(w), w))[:CLUSTER_K]
    return "~" + " ".join(sorted(sketch))


def _excerpt(text: str, limit: int = 48) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class _Keyword:
    key: str
    label: str
    words: tuple[str, ...]


class TopicExtractor:
    """The topics of a mention (implements db.topics.TopicSource)."""

    def __init__(self, keywords: Iterable[str] = (), *, clusters: bool = True) -> None:
        self._keywords: list[_Keyword] = []
        for keyword in keywords:
            kw_words = tuple(words(keyword))
            if kw_words:
                self._keywords.append(_Keyword("kw:" + " ".join(kw_words), keyword.strip(),
                                               kw_words))
        self._clusters = clusters

    def topics(self, mention: NewMention) -> list[TopicRef]:
        return self.topics_of_text(mention.text)

    def topics_of_text(self, text: str) -> list[TopicRef]:
        refs: list[TopicRef] = []
        for match in _HASHTAG.finditer(text):
            tag = match.group(1)
            if tag.isdigit():  # "#1" is a rank, not a topic
                continue
            refs.append(TopicRef("#" + fold(tag), "hashtag", "#" + tag))
        if not (self._keywords or self._clusters):
            return refs
        found = words(text)  # split once for keywords and the cluster key
        for kw in self._keywords:
            if _contains(found, kw.words):
                refs.append(TopicRef(kw.key, "keyword", kw.label))
        if self._clusters and (key := cluster_key(text, found)) is not None:
            refs.append(TopicRef(key, "cluster", "≈ " + _excerpt(text)))
        return refs


def _contains(haystack: Sequence[str], needle: Sequence[str]) -> bool:
    n = len(needle)
    first = needle[0]
    return any(
        haystack[i] == first and tuple(haystack[i : i + n]) == tuple(needle)
        for i in range(len(haystack) - n + 1)
    )


def install(store: Store, settings: CrisisSettings) -> TopicExtractor:
    """Make the Store count topics at ingest with these settings (keywords, clusters)."""
    extractor = TopicExtractor(settings.keywords, clusters=settings.clusters)
    store.topic_source = extractor
    return extractor


# --- spike detection ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Spike:
    topic: str
    kind: str
    label: str  # outside text (a hashtag or a post excerpt): show through widgets.text
    count: int
    baseline: float  # mean count per window over the baseline period
    threshold: float
    window_minutes: int

    def describe(self) -> str:
        """ "#PanneFibrelle 48 mentions in 15 min (baseline 2)" (plain text, outside label)."""
        return (f"{self.label} {self.count} mentions in {self.window_minutes} min "
                f"(baseline {round(self.baseline)})")

    @property
    def strength(self) -> float:
        return self.count / max(self.threshold, 1.0)


def window_buckets(settings: CrisisSettings) -> int:
    return max(1, settings.window_minutes * 60 // BUCKET_SECONDS)


def window_range(now: int, settings: CrisisSettings) -> tuple[int, int]:
    """First and last bucket of the sliding window that ends now (the current bucket counts)."""
    last = bucket_of(now)
    return last - (window_buckets(settings) - 1) * BUCKET_SECONDS, last


def baseline_range(now: int, settings: CrisisSettings) -> tuple[int, int]:
    first_window, _ = window_range(now, settings)
    windows = max(1, settings.baseline_hours * 3600 // (window_buckets(settings) * BUCKET_SECONDS))
    span = windows * window_buckets(settings) * BUCKET_SECONDS
    return first_window - span, first_window - BUCKET_SECONDS


def baseline_stats(history: Mapping[int, int], now: int,
                   settings: CrisisSettings) -> tuple[float, float]:
    """Mean and (population) standard deviation of the topic's count per window-length slice of
    the baseline period; buckets with no row count as zero."""
    first, last = baseline_range(now, settings)
    size = window_buckets(settings)
    sums: list[int] = []
    bucket = first
    while bucket <= last:
        sums.append(sum(history.get(bucket + i * BUCKET_SECONDS, 0) for i in range(size)))
        bucket += size * BUCKET_SECONDS
    if not sums:
        return 0.0, 0.0
    mean = sum(sums) / len(sums)
    variance = sum((s - mean) ** 2 for s in sums) / len(sums)
    return mean, math.sqrt(variance)


def threshold(mean: float, stdev: float, settings: CrisisSettings) -> float:
    return max(float(settings.min_count), settings.ratio * mean, mean + settings.sigmas * stdev)


async def detect_spikes(store: Store, now: int, settings: CrisisSettings) -> list[Spike]:
    """Topics spiking now, strongest first. Reads: one range of the bucket index for the window,
    then one primary-key range per candidate (those already over `min_count`)."""
    first, last = window_range(now, settings)
    counts = await busy_topics(store, first, last, settings.min_count)
    if not counts:
        return []
    base_first, base_last = baseline_range(now, settings)
    infos = await topic_infos(store, sorted(counts))
    spikes: list[Spike] = []
    for topic, count in counts.items():
        history = await topic_history(store, topic, base_first, base_last)
        mean, stdev = baseline_stats(history, now, settings)
        limit = threshold(mean, stdev, settings)
        if count >= limit:
            info = infos.get(topic)
            spikes.append(Spike(topic, info.kind if info else "hashtag",
                                info.label if info else topic, count, mean, limit,
                                settings.window_minutes))
    spikes.sort(key=lambda s: (-s.strength, -s.count, s.topic))
    return spikes


@dataclass(frozen=True, slots=True)
class CrisisState:
    spikes: tuple[Spike, ...] = ()
    note: PinnedNote | None = None

    @property
    def top(self) -> Spike | None:
        return self.spikes[0] if self.spikes else None


@dataclass(slots=True)
class CrisisMonitor:
    """What the main screen polls: spikes and the pinned note, with old counts pruned hourly."""

    store: Store
    settings: CrisisSettings
    state: CrisisState = field(default_factory=CrisisState)
    _pruned_at: float = 0.0

    async def check(self, now: int) -> CrisisState:
        if now - self._pruned_at >= PRUNE_EVERY:
            self._pruned_at = now
            await prune_topics(self.store, now)
        spikes = await detect_spikes(self.store, now, self.settings)
        note = await pinned_note(self.store)
        self.state = CrisisState(tuple(spikes), note)
        return self.state
