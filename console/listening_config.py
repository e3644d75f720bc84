"""The ``[listening]`` and ``[crisis]`` sections of config.toml.

    [listening]
    keywords = ["Fibrelle", "fibre optique"]      # words or phrases, accents optional
    hashtags = ["#PanneFibrelle"]                  # with or without the '#'
    competitors = ["Orbicom", "NéoLigne"]
    interval_minutes = 5                           # how often each term is searched

    [crisis]
    keywords = ["panne", "outage"]                 # topics besides hashtags and text clusters
    window_minutes = 15                            # sliding window (multiple of 5)
    baseline_hours = 6                             # compared with this much history
    min_count = 10                                 # never a spike below this many mentions
    ratio = 3.0                                    # ... nor below ratio x the baseline mean
    sigmas = 3.0                                   # ... nor below mean + sigmas x stdev
    clusters = true                                # near-identical texts form topics

`parse_listening(table)` / `parse_crisis(table)` return the settings and a list of
``(key path, message)`` problems, so `console.config` reports them with the file name together
with the rest. Domain code: no Textual.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from console.toml_words import toml_type_name

LISTENING_KEYS: Final = ("keywords", "hashtags", "competitors", "interval_minutes")
CRISIS_KEYS: Final = ("keywords", "window_minutes", "baseline_hours", "min_count", "ratio",
                      "sigmas", "clusters")
MAX_TERMS: Final = 50
MAX_TERM_CHARS: Final = 100

Problems = list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class WatchTerm:
    """One thing to listen for: `kind` is keyword, hashtag or competitor; `term` as written."""

    kind: str
    term: str


@dataclass(frozen=True)
class ListeningConfig:
    keywords: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    competitors: tuple[str, ...] = ()
    interval_minutes: int = 5

    @property
    def terms(self) -> tuple[WatchTerm, ...]:
        """Every watch term, hashtags first (most specific), each term once."""
        out: dict[str, WatchTerm] = {}
        for kind, terms in (("hashtag", self.hashtags), ("competitor", self.competitors),
                            ("keyword", self.keywords)):
            for term in terms:
                out.setdefault(term.casefold(), WatchTerm(kind, term))
        return tuple(out.values())

    @property
    def empty(self) -> bool:
        return not (self.keywords or self.hashtags or self.competitors)


@dataclass(frozen=True)
class CrisisSettings:
    keywords: tuple[str, ...] = ()
    window_minutes: int = 15
    baseline_hours: int = 6
    min_count: int = 10
    ratio: float = 3.0
    sigmas: float = 3.0
    clusters: bool = True


def _unknown(table: Mapping[str, Any], section: str, known: tuple[str, ...],
             problems: Problems) -> None:
    for key in table:
        if key not in known:
            problems.append((f"{section}.{key}",
                             f"unknown setting (expected one of: {', '.join(known)})"))


def _terms(table: Mapping[str, Any], key: str, where: str, problems: Problems, *,
           hashtag: bool = False) -> tuple[str, ...]:
    if key not in table:
        return ()
    value = table[key]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append((where, f"expected an array of strings, got {toml_type_name(value)}"))
        return ()
    if len(value) > MAX_TERMS:
        problems.append((where, f"at most {MAX_TERMS} terms, got {len(value)}"))
        return ()
    out: list[str] = []
    for i, raw in enumerate(value):
        term = raw.strip()
        if hashtag:
            term = "#" + term.lstrip("#")
        if not term.strip("#"):
            problems.append((f"{where}[{i}]", "must not be empty"))
        elif len(term) > MAX_TERM_CHARS:
            problems.append((f"{where}[{i}]", f"at most {MAX_TERM_CHARS} characters"))
        elif any(unicodedata.category(c) in ("Cc", "Cf") for c in term):
            problems.append((f"{where}[{i}]", "must not contain control characters"))
        elif hashtag and any(c.isspace() for c in term):
            problems.append((f"{where}[{i}]", f"a hashtag has no spaces, got {raw!r}"))
        else:
            out.append(term)
    return tuple(out)


def _number(table: Mapping[str, Any], key: str, where: str, default: float, problems: Problems,
            *, integer: bool, minimum: float) -> Any:
    if key not in table:
        return default
    value = table[key]
    ok = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not ok:
        wanted = "a whole number" if integer else "a number"
        problems.append((where, f"expected {wanted}, got {toml_type_name(value)}"))
        return default
    if value < minimum:
        problems.append((where, f"expected at least {minimum:g}, got {value}"))
        return default
    return value if integer else float(value)


def parse_listening(table: Mapping[str, Any]) -> tuple[ListeningConfig, Problems]:
    problems: Problems = []
    _unknown(table, "listening", LISTENING_KEYS, problems)
    config = ListeningConfig(
        keywords=_terms(table, "keywords", "listening.keywords", problems),
        hashtags=_terms(table, "hashtags", "listening.hashtags", problems, hashtag=True),
        competitors=_terms(table, "competitors", "listening.competitors", problems),
        interval_minutes=_number(table, "interval_minutes", "listening.interval_minutes",
                                 ListeningConfig.interval_minutes, problems, integer=True,
                                 minimum=1),
    )
    return config, problems


def parse_crisis(table: Mapping[str, Any]) -> tuple[CrisisSettings, Problems]:
    problems: Problems = []
    _unknown(table, "crisis", CRISIS_KEYS, problems)
    d = CrisisSettings()
    window = _number(table, "window_minutes", "crisis.window_minutes", d.window_minutes,
                     problems, integer=True, minimum=5)
    if window % 5:
        problems.append(("crisis.window_minutes",
                         f"expected a multiple of 5 (counts are kept per 5 minutes), got {window}"))
        window = d.window_minutes
    clusters = table.get("clusters", d.clusters)
    if not isinstance(clusters, bool):
        problems.append(("crisis.clusters",
                         f"expected true or false, got {toml_type_name(clusters)}"))
        clusters = d.clusters
    settings = CrisisSettings(
        keywords=_terms(table, "keywords", "crisis.keywords", problems),
        window_minutes=window,
        baseline_hours=_number(table, "baseline_hours", "crisis.baseline_hours",
                               d.baseline_hours, problems, integer=True, minimum=1),
        min_count=_number(table, "min_count", "crisis.min_count", d.min_count, problems,
                          integer=True, minimum=1),
        ratio=_number(table, "ratio", "crisis.ratio", d.ratio, problems, integer=False,
                      minimum=1),
        sigmas=_number(table, "sigmas", "crisis.sigmas", d.sigmas, problems, integer=False,
                       minimum=0),
        clusters=clusters,
    )
    if settings.baseline_hours > 24:
        problems.append(("crisis.baseline_hours",
                         f"at most 24 (counts are kept for a day), got {settings.baseline_hours}"))
        settings = replace(settings, baseline_hours=d.baseline_hours)
    return settings, problems
