"""Words for configuration errors, shared by every parser of config.toml's sections.

A module of its own (no imports from console/) so that console.config and the section parsers
it imports (triage, listening, SLA) can all use it without an import cycle.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def toml_type_name(value: object) -> str:
    # TOML's vocabulary, since that is what the agent wrote.
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return "a date/time"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest choice, or '' when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def choice_hint(word: str, choices: Iterable[str]) -> str:
    """The closest choice, or the whole list when none is close."""
    choices = list(choices)
    return did_you_mean(word, choices) or f" (expected one of: {', '.join(choices)})"
