"""How long a reply is, the way each network counts it.

- **X** counts a weighted length (twitter-text v3 configuration): text normalised to NFC, every
  URL 23 whatever its length, each code point in the Latin/punctuation ranges below weighs 1 and
  every other code point 2 (so CJK counts double), and a whole emoji sequence (ZWJ family, flag,
  skin tone, keycap) weighs 2. Limit 280.
- **Mastodon** counts grapheme clusters after replacing each http(s) URL with 23 characters and
  each ``@user@domain`` mention with ``@user`` (the server's `StatusLengthValidator`). Limit 500
  (the default; instances can raise it).
- **Bluesky** counts grapheme clusters of the text as sent. Limit 300. Links are counted in full:
  we send the text as written, without the app's link shortening.

The counter is advisory and errs on the side of the network's rules we know; the network's own
answer on send is final. No Textual import here (import-linter contract).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Final

import regex

LIMITS: Final = {"x": 280, "mastodon": 500, "bluesky": 300}
URL_LENGTH: Final = 23  # t.co links on X; Mastodon's counter uses the same figure

# Warn when this close to the limit: twitter.com starts its countdown at 20 left.
WARN_REMAINING: Final = 20

# twitter-text v3: code point ranges that weigh 1 (scale 100, weight 100); the rest weigh 2.
_LIGHT_RANGES: Final = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))

# An emoji sequence counts 2 on X, however many code points it holds. This mirrors the sequences
# of twemoji-parser (used by twitter-text v3): flags, keycaps, subdivision flags, and
# pictographs with presentation selector, skin tone and ZWJ continuations. A bare text-style
# pictograph (U+263A without VS16) is not an emoji here and falls back to its code point weight.
_EMOJI: Final = regex.compile(
    r"""
      \p{Regional_Indicator}{2}
    | [0-9#*]\uFE0F?\u20E3
    | \U0001F3F4[\U000E0020-\U000E007E]+\U000E007F
    | (?:\p{Emoji_Presentation}|\p{Extended_Pictographic}(?:\uFE0F|(?=\p{Emoji_Modifier})))
      \p{Emoji_Modifier}?\uFE0F?
      (?:\u200D\p{Extended_Pictographic}\uFE0F?\p{Emoji_Modifier}?\uFE0F?)*
    """,
    regex.VERBOSE,
)

# URLs, after twitter-text's extractor in a simplified form. A domain label is 1-63 letters,
# digits, symbols, '-' or '_' (a 64-character label makes the whole thing not a URL).
_LABEL: Final = r"[^\s\p{P}\p{Z}\p{C}](?:[^\s\p{P}\p{Z}\p{C}]|[-_]){0,62}"
_PATH_OR_QUERY: Final = r"(?:[/?#][^\s]*)?"
_PORT: Final = r"(?::[0-9]{1,5})?"
# Common generic TLDs; any two-letter TLD is taken as a country code. Without a scheme,
# twitter-text only links names under TLDs it knows, so "merci.beaucoup" stays text.
_GTLDS: Final = (
    "com|net|org|info|biz|edu|gov|mil|int|app|dev|io|ai|xyz|online|site|shop|store|blog|news|"
    "tech|cloud|page|link|live|club|top|media|social|email|support|help|agency|digital|world|"
    "today|travel|museum|aero|coop|jobs|mobi|name|pro|tel|asia|cat|post|paris|bzh|alsace|corsica"
)
_SCHEMED_URL: Final = regex.compile(
    r"(?<![\w@$#])https?://"
    r"(?:"
    + _LABEL
    + r"(?:\."
    + _LABEL
    + r")+|\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\])"
    + _PORT
    + _PATH_OR_QUERY,
    regex.IGNORECASE,
)
_BARE_URL: Final = regex.compile(
    r"(?<![\w@$#./:-])"
    r"(?P<host>(?:" + _LABEL + r"\.)+(?P<tld>" + _GTLDS + r"|[a-z]{2}))"
    r"(?![\w@-])" + _PORT + r"(?P<path>" + _PATH_OR_QUERY + r")",
    regex.IGNORECASE,
)
# A URL ends on one of these; trailing sentence punctuation belongs to the sentence.
_URL_END: Final = regex.compile(r"[\w=#/+&-]")

# Mastodon: `@user@domain` counts as `@user` (the server's own pattern).
_MASTODON_MENTION: Final = regex.compile(
    r"(^|[^/\w])@(([a-z0-9_]+)@[a-z0-9.-]+[a-z0-9]+)", regex.IGNORECASE
)
_MASTODON_URL: Final = _SCHEMED_URL


@dataclass(frozen=True, slots=True)
class LengthInfo:
    """A reply's length on its network. `limit` of 0 means the channel has no known limit."""

    used: int
    limit: int

    @property
    def remaining(self) -> int:
        return self.limit - self.used

    @property
    def over(self) -> bool:
        return self.limit > 0 and self.used > self.limit

    @property
    def near(self) -> bool:
        """Close to the limit but not over it: the counter turns amber."""
        return self.limit > 0 and not self.over and self.remaining <= WARN_REMAINING

    @property
    def level(self) -> str:
        """One of "ok", "warn" or "over", for styling the counter."""
        return "over" if self.over else "warn" if self.near else "ok"

    def __str__(self) -> str:
        return f"{self.used}/{self.limit}" if self.limit else str(self.used)


def _trim_url_end(url: str) -> str:
    """Drop trailing sentence punctuation; keep a closing parenthesis the URL opened."""
    end = len(url)
    while end > 0:
        char = url[end - 1]
        if _URL_END.match(char):
            break
        if char == ")" and url.count("(", 0, end) >= url.count(")", 0, end):
            break
        end -= 1
    return url[:end]


def url_spans(text: str, *, require_scheme: bool = False) -> list[tuple[int, int]]:
    """(start, end) of each URL in `text`, in order, not overlapping."""
    spans: list[tuple[int, int]] = []
    for match in _SCHEMED_URL.finditer(text):
        url = _trim_url_end(match.group())
        spans.append((match.start(), match.start() + len(url)))
    if require_scheme:
        return spans
    for match in _BARE_URL.finditer(text):
        start = match.start()
        if any(s <= start < e for s, e in spans):
            continue
        path = match.group("path")
        host_labels = match.group("host").count(".")
        # twitter-text: "name.cc" with no subdomain and no path is not a link (t.co aside).
        if (
            len(match.group("tld")) == 2
            and host_labels == 1
            and not path
            and match.group("host").lower() != "t.co"
        ):
            continue
        url = _trim_url_end(match.group())
        if "." not in url:
            continue
        spans.append((start, start + len(url)))
    spans.sort()
    return spans


def _code_point_weight(char: str) -> int:
    code = ord(char)
    for low, high in _LIGHT_RANGES:
        if low <= code <= high:
            return 1
    return 2


def _weigh_plain(text: str) -> int:
    total = 0
    pos = 0
    for match in _EMOJI.finditer(text):
        total += sum(_code_point_weight(c) for c in text[pos : match.start()])
        total += 2
        pos = match.end()
    return total + sum(_code_point_weight(c) for c in text[pos:])


def x_weighted_length(text: str) -> int:
    """twitter-text v3 weighted length of `text`."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    pos = 0
    for start, end in url_spans(text):
        total += _weigh_plain(text[pos:start]) + URL_LENGTH
        pos = end
    return total + _weigh_plain(text[pos:])


def grapheme_count(text: str) -> int:
    """User-perceived characters (extended grapheme clusters)."""
    return sum(1 for _ in regex.finditer(r"\X", text))


def mastodon_length(text: str) -> int:
    """Mastodon's count: URLs as 23 characters, remote mentions by their local part."""
    spans = url_spans(text, require_scheme=True)
    pieces: list[str] = []
    pos = 0
    for start, end in spans:
        pieces.append(text[pos:start])
        pieces.append("x" * URL_LENGTH)
        pos = end
    pieces.append(text[pos:])
    countable = _MASTODON_MENTION.sub(r"\1@\3", "".join(pieces))
    return grapheme_count(countable)


def reply_length(channel: str, text: str) -> LengthInfo:
    """The length of `text` as `channel` counts it. Raises ValueError for an unknown channel."""
    if channel == "x":
        return LengthInfo(x_weighted_length(text), LIMITS["x"])
    if channel == "mastodon":
        return LengthInfo(mastodon_length(text), LIMITS["mastodon"])
    if channel == "bluesky":
        return LengthInfo(grapheme_count(text), LIMITS["bluesky"])
    raise ValueError(f"unknown channel {channel!r}: expected one of {', '.join(LIMITS)}")
