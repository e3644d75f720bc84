"""Forgiving search for short lists the agent picks from (templates, tags, agents).

Agents type fragments ("remb", "livr retard") and make typos; an exact substring filter finds
nothing. rapidfuzz scores each item, the best come first, and ties keep the caller's order so an
unfiltered or loosely filtered list stays predictable. No Textual import: usable anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Final, TypeVar

from rapidfuzz import fuzz
from rapidfuzz.utils import default_process

T = TypeVar("T")

# Below this score a match is noise (one shared letter); the item is left out.
DEFAULT_CUTOFF: Final = 60.0
# Later fields (a body excerpt) count a little less than the first (the name): a hit in the
# name is what the agent usually means.
FIELD_DISCOUNT: Final = 0.9
# Scoring a 2,000-character body costs more than it helps: the start says what a template is.
EXCERPT_CHARS: Final = 200


def _field_score(query: str, field: str) -> float:
    field = default_process(field[:EXCERPT_CHARS])
    if not field:
        return 0.0
    if query in field:
        # A plain substring ("remb" in "remboursement") beats any fuzzy guess; earlier is better.
        return 100.0 + (1.0 - field.index(query) / max(len(field), 1))
    # partial_ratio finds a typo'd fragment inside a long text; WRatio handles word order and
    # multi-word queries. The better of the two is the item's score for this field.
    return max(fuzz.WRatio(query, field), fuzz.partial_ratio(query, field))


def score(query: str, fields: str | Sequence[str]) -> float:
    """How well `query` matches an item's fields (0-101); the first field weighs most."""
    processed = default_process(query)
    if not processed:
        return 100.0
    if isinstance(fields, str):
        fields = (fields,)
    best = 0.0
    weight = 1.0
    for field in fields:
        best = max(best, _field_score(processed, field) * weight)
        weight *= FIELD_DISCOUNT
    return best


def fuzzy_filter(
    query: str,
    items: Iterable[T],
    key: Callable[[T], str | Sequence[str]],
    *,
    cutoff: float = DEFAULT_CUTOFF,
) -> list[T]:
    """Items matching `query`, best first (stable on ties). An empty query returns all items in
    their original order.

    `key` gives the text to match: one string, or several fields from most to least important
    (for a template: its name, then its language tag and a body excerpt).
    """
    pool = list(items)
    if not default_process(query):
        return pool
    scored = [(score(query, key(item)), index, item) for index, item in enumerate(pool)]
    kept = [entry for entry in scored if entry[0] >= cutoff]
    kept.sort(key=lambda entry: (-entry[0], entry[1]))
    return [item for _, _, item in kept]
