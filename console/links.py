"""Links found in a post, and which of them Comptoir may open.

Only http and https open, and only after the agent has seen the full address: a post can show
`paypal.com` while linking elsewhere, or carry `javascript:`, `file:` or custom-scheme links that
start programs. Everything else is listed as text, never opened.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from console.untrusted import clean

# Anything that looks like scheme:... up to whitespace; schemes are checked afterwards, so a
# hostile scheme is found (and refused) rather than missed.
_LINK: Final = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]{1,20}):(//)?[^\s<>\"']+")
_OPENABLE: Final = frozenset({"http", "https"})
_TRAILING: Final = ".,;:!?)]}»"


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    openable: bool
    reason: str  # why it will not open ("" when it will)


def find_links(text: str, *, limit: int = 20) -> list[Link]:
    """Distinct links in `text`, in order of appearance (at most `limit`)."""
    found: list[Link] = []
    seen: set[str] = set()
    for match in _LINK.finditer(clean(text)):
        url = _trim(match.group(0))
        scheme = match.group(1).lower()
        if not match.group(2) and scheme not in ("javascript", "data", "file", "vbscript"):
            continue  # "note:this" or "10:42" is not a link
        if url in seen:
            continue
        seen.add(url)
        found.append(_judge(url, scheme))
        if len(found) >= limit:
            break
    return found


def _trim(url: str) -> str:
    """Drop sentence punctuation after a link; keep a ")" that closes one opened inside it."""
    while url and url[-1] in _TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def _judge(url: str, scheme: str) -> Link:
    if scheme not in _OPENABLE:
        return Link(url, False, f"{scheme}: links are never opened")
    try:
        parts = urlsplit(url)
    except ValueError:
        return Link(url, False, "not a valid address")
    if not parts.hostname:
        return Link(url, False, "no host in the address")
    if parts.username or parts.password:
        # https://bank.example@evil.example/ reads as the bank but goes to evil.example.
        return Link(url, False, "the address hides its real host behind user@")
    return Link(url, True, "")
