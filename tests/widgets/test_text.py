"""The untrusted-text helper: whatever comes in, what goes out is inert, printable text."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from widgets.text import clean, untrusted

HOSTILE = [
    "\x1b]52;c;SGVsbG8gY2xpcGJvYXJk\x07",  # OSC 52: write the clipboard
    "\x1b]0;pwned title\x1b\\",  # OSC 0: window title
    "\x1b[2J\x1b[H",  # clear screen, cursor home
    "\x1b[6n",  # DSR: the terminal would type an answer
    "\x1b[c",  # DA query
    "\x1b[200~paste\x1b[201~",  # bracketed-paste markers
    "\x9b31m",  # 8-bit CSI
    "\x9d0;title\x9c",  # 8-bit OSC
    "\x1bP1$qm\x1b\\",  # DCS
]


def test_escape_sequences_are_removed_whole() -> None:
    for sample in HOSTILE:
        out = clean("before" + sample + "after")
        assert out.startswith("before") and out.endswith("after"), repr(out)
        assert "\x1b" not in out and "\x9b" not in out and "\x9d" not in out


def test_lone_escape_is_dropped() -> None:
    assert clean("x\x1b") == "x"
    # A terminal reads ESC + one character as a command: both go.
    assert clean("x\x1bcy") == "xy"


def test_osc_payload_does_not_leak_as_text() -> None:
    assert clean("a\x1b]52;c;SGVsbG8=\x07b") == "ab"
    # An OSC that never ends swallows the rest rather than letting a terminal parse it.
    assert clean("a\x1b]0;title never ends") == "a"


def test_markup_stays_literal() -> None:
    for text in ["[@click=app.quit]hi[/]", "[/bold]", "[link=https://evil]x[/link]", "[/]"]:
        content = untrusted(text)
        assert content.plain == text
        assert not content.spans


def test_bidi_and_invisible_characters_are_shown() -> None:
    assert clean("abc\u202edef") == "abc<U+202E>def"
    assert clean("a\u200bb") == "a<U+200B>b"
    assert clean("x\U000e0041y") == "x<U+E0041>y"


def test_emoji_sequences_survive() -> None:
    family = "👨\u200d👩\u200d👧"
    assert clean(family) == family
    assert clean("❤\ufe0f") == "❤\ufe0f"


def test_newlines_only_when_asked() -> None:
    assert clean("a\nb\r\nc") == "a b c"
    assert clean("a\nb\r\nc", keep_newlines=True) == "a\nb\nc"
    assert clean("a\u2028b") == "a b"


def test_combining_flood_is_cut() -> None:
    zalgo = "e" + "\u0301" * 500
    assert clean(zalgo) == "e\u0301\u0301"


def test_huge_post_is_bounded() -> None:
    out = clean("x" * 200_000, max_chars=1000)
    assert len(out) == 1001 and out.endswith("…")


def test_lone_surrogate_becomes_replacement_character() -> None:
    assert clean("a\ud800b") == "a\ufffdb"


def test_non_strings_are_accepted() -> None:
    assert clean(None) == ""
    assert clean(42) == "42"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(codec=None), max_size=200), st.booleans())
def test_output_is_always_inert(text: str, keep_newlines: bool) -> None:
    out = clean(text, keep_newlines=keep_newlines)
    for char in out:
        category = unicodedata.category(char)
        if char == "\n":
            assert keep_newlines
            continue
        assert category != "Cc", repr(out)
        assert category != "Cs", repr(out)
    content = untrusted(text, keep_newlines=keep_newlines)
    assert content.plain == out
    assert not content.spans


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=50), st.text(max_size=50))
def test_safe_text_is_unchanged(prefix: str, suffix: str) -> None:
    safe = "".join(
        c for c in prefix + suffix
        if c.isprintable() and unicodedata.category(c) not in ("Cf", "Mn", "Me", "Zl", "Zp")
        and c != "\t"
    )
    assert clean(safe) == safe


def test_text_exactly_at_the_limit_is_not_marked_cut() -> None:
    assert clean("resolved", max_chars=8) == "resolved"
    assert clean("resolved!", max_chars=8) == "resolved…"
