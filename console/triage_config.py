"""The ``[triage]`` section of config.toml -> `console.triage.TriageConfig`.

    [triage]
    audience_threshold = 10000     # "large audience" from this many followers (x10: more points)
    spam_threshold = 3             # spam points that send a mention to the spam lane
    loyal_after = 2                # past mentions that make a customer loyal (for "delight")
    new_account_days = 14          # younger accounts count as new (a spam signal)
    block_list = ["@pumpbot", "mooncoin"]   # handles (with '@') or words: straight to spam

    [triage.keywords.fr]           # added to the built-in lists; weight 0 removes a word
    avocat = 3
    "mise en demeure" = 3
    "rembours*" = 1                # '*': any word starting with "rembours"

    [triage.keywords.en]
    lawyer = 3

`parse_triage(table)` returns the settings and a list of ``(key path, message)`` problems, so
`console.config` reports them with the file name together with the rest. Domain code: no Textual.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from console.toml_words import choice_hint, toml_type_name
from console.triage import DEFAULT_KEYWORDS, LANGUAGES, TriageConfig, fold

TRIAGE_KEYS: Final = ("audience_threshold", "spam_threshold", "loyal_after", "new_account_days",
                      "block_list", "keywords")
MAX_WEIGHT: Final = 10
MAX_ENTRIES: Final = 500
MAX_ENTRY_CHARS: Final = 100
_PHRASE: Final = re.compile(r"[\w' .-]+\*?")

Problems = list[tuple[str, str]]


def _unknown(table: Mapping[str, Any], where: str, known: tuple[str, ...],
             problems: Problems) -> None:
    for key in table:
        if key not in known:
            problems.append((f"{where}.{key}", f"unknown setting{choice_hint(key, known)}"))


def _count(table: Mapping[str, Any], key: str, default: int, minimum: int,
           problems: Problems) -> int:
    if key not in table:
        return default
    value = table[key]
    where = f"triage.{key}"
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append((where, f"expected a whole number, got {toml_type_name(value)}"))
        return default
    if value < minimum:
        problems.append((where, f"expected a number of at least {minimum}, got {value}"))
        return default
    return value


def _entry(value: Any, where: str, problems: Problems) -> str | None:
    """One word, phrase or handle: a short single line without control characters."""
    if not isinstance(value, str):
        problems.append((where, f"expected a string, got {toml_type_name(value)}"))
        return None
    text = value.strip()
    if not text:
        problems.append((where, "must not be empty"))
        return None
    if len(text) > MAX_ENTRY_CHARS:
        problems.append((where, f"too long ({len(text)} characters, at most {MAX_ENTRY_CHARS})"))
        return None
    if any(unicodedata.category(c).startswith("C") for c in text):
        problems.append((where, "must not contain control or invisible characters"))
        return None
    return text


def _block_list(table: Mapping[str, Any], problems: Problems) -> tuple[str, ...]:
    if "block_list" not in table:
        return ()
    value = table["block_list"]
    if not isinstance(value, list):
        problems.append(("triage.block_list",
                         f"expected an array of strings, got {toml_type_name(value)}"))
        return ()
    if len(value) > MAX_ENTRIES:
        problems.append(("triage.block_list", f"too many entries ({len(value)}, at most "
                         f"{MAX_ENTRIES})"))
        return ()
    out: list[str] = []
    for i, item in enumerate(value):
        entry = _entry(item, f"triage.block_list[{i}]", problems)
        if entry is not None and entry not in out:
            out.append(entry)
    return tuple(out)


def _keywords(table: Mapping[str, Any], problems: Problems) -> Mapping[str, Mapping[str, int]]:
    """The built-in lists with the file's additions; weight 0 removes a word."""
    merged = {lang: dict(words) for lang, words in DEFAULT_KEYWORDS.items()}
    if "keywords" not in table:
        return _frozen(merged)
    section = table["keywords"]
    if not isinstance(section, dict):
        problems.append(("triage.keywords",
                         "expected a table of languages ([triage.keywords.fr]), got "
                         f"{toml_type_name(section)}"))
        return _frozen(merged)
    _unknown(section, "triage.keywords", LANGUAGES, problems)
    for lang in LANGUAGES:
        words = section.get(lang)
        if words is None:
            continue
        where = f"triage.keywords.{lang}"
        if not isinstance(words, dict):
            problems.append((where, f'expected a table of "word" = weight, got '
                             f"{toml_type_name(words)}"))
            continue
        if len(words) > MAX_ENTRIES:
            problems.append((where, f"too many words ({len(words)}, at most {MAX_ENTRIES})"))
            continue
        for phrase, weight in words.items():
            at = f"{where}.{phrase}" if _PHRASE.fullmatch(phrase) else f'{where}."{phrase}"'
            text = _entry(phrase, at, problems)
            if text is None:
                continue
            if not _PHRASE.fullmatch(text) or text.startswith("*"):
                problems.append((at, "expected letters, digits, spaces, ' . or -, with an "
                                 "optional * at the end for a prefix"))
                continue
            if isinstance(weight, bool) or not isinstance(weight, int):
                got = toml_type_name(weight)
                problems.append((at, f"expected a whole-number weight, got {got}"))
                continue
            if not 0 <= weight <= MAX_WEIGHT:
                problems.append((at, f"expected a weight from 0 to {MAX_WEIGHT}, got {weight}"))
                continue
            key = fold(text)
            if weight == 0:
                merged[lang].pop(key, None)
            else:
                merged[lang][key] = weight
    return _frozen(merged)


def _frozen(words: dict[str, dict[str, int]]) -> Mapping[str, Mapping[str, int]]:
    return MappingProxyType({lang: MappingProxyType(w) for lang, w in words.items()})


def parse_triage(table: Mapping[str, Any]) -> tuple[TriageConfig, Problems]:
    """Validate the ``[triage]`` table (empty: the defaults)."""
    problems: Problems = []
    _unknown(table, "triage", TRIAGE_KEYS, problems)
    d = TriageConfig()
    config = TriageConfig(
        keywords=_keywords(table, problems),
        block_list=_block_list(table, problems),
        audience_threshold=_count(table, "audience_threshold", d.audience_threshold, 1, problems),
        spam_threshold=_count(table, "spam_threshold", d.spam_threshold, 1, problems),
        loyal_after=_count(table, "loyal_after", d.loyal_after, 1, problems),
        new_account_days=_count(table, "new_account_days", d.new_account_days, 0, problems),
    )
    return config, problems
