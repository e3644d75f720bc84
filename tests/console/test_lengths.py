"""Reply lengths per network, with examples from twitter-text v3 conformance and by hand."""

from __future__ import annotations

import pytest

from console.lengths import LengthInfo, grapheme_count, reply_length, url_spans

FAMILY = "👨\u200d👩\u200d👧\u200d👦"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # From twitter-text's WeightedTweetsWithDiscountedEmojiCounterTest (v3 config).
        ("Hi http://test.co", 26),
        ("http://test.co", 23),
        ("285 chars-" + "xxxxxxxxxx-" * 25, 285),
        ("https://www.twitter.com/aloha " * 10, 240),
        ("H🐱☺" + FAMILY, 7),
        ("😷👾😡🔥💩", 10),
        ("🙋🏽👨\u200d🎤", 4),
        ("1⃣", 2),
        (
            "Unicode 10.0 emoji: 🤪; 🧕; 🧕🏾; "
            "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
            34,
        ),
        ("Unicode 9.0 emoji: 🤠; 💃; 💃🏾", 29),
        ("randomurl" * 7 + "s.com", 68),  # a 64-character label is not a domain
        # By hand.
        ("This is a test.", 15),
        ("Test https://test.com test https://test.com test.com test", 86),
        ("A\u0301B", 2),  # NFC first: A + combining acute is one code point
        ("A\u05e9\u05bc\u05c1", 4),  # ...and U+FB2C-like sequences stay three
        ("Crème brûlée", 12),
        ("故人西辞黄鹤楼", 14),  # CJK weighs 2
        ("こんにちは", 10),
        ("\u2018quoted\u2019 \u2014 ok", 13),  # general punctuation weighs 1
        ("🇫🇷", 2),
        ("❤️", 2),
        ("Voir https://example.com/" + "a" * 300 + "?q=1.", 5 + 23 + 1),
        ("example.fr", 10),  # bare name.cc without path: not a link
        ("www.example.fr", 23),
        ("example.fr/suivi", 23),
        ("écrivez à sav@example.com", 25),  # an e-mail is not a link
    ],
)
def test_x_weighted_length(text: str, expected: int) -> None:
    assert reply_length("x", text).used == expected


def test_x_limit_and_over() -> None:
    assert reply_length("x", "a" * 280) == LengthInfo(280, 280)
    assert not reply_length("x", "a" * 280).over
    assert reply_length("x", "a" * 281).over
    assert reply_length("x", "の" * 141).over  # 282 weighted


def test_near_and_level() -> None:
    assert reply_length("x", "a" * 259).level == "ok"
    assert reply_length("x", "a" * 260).level == "warn"
    assert reply_length("x", "a" * 281).level == "over"
    assert str(reply_length("x", "abc")) == "3/280"


def test_mastodon() -> None:
    url = "https://example.com/" + "a" * 200
    assert reply_length("mastodon", url).used == 23
    assert reply_length("mastodon", "@alice@mastodon.social merci").used == len("@alice merci")
    assert reply_length("mastodon", "test.com").used == 8  # no scheme: plain text
    assert reply_length("mastodon", "é" * 500).limit == 500
    assert reply_length("mastodon", FAMILY + "🇫🇷").used == 2
    assert reply_length("mastodon", "x" * 501).over


def test_bluesky_graphemes() -> None:
    assert reply_length("bluesky", "e\u0301" + FAMILY + "🇫🇷" + "漢").used == 4
    assert reply_length("bluesky", "a" * 300).over is False
    assert reply_length("bluesky", "a" * 301).over
    # Links are counted in full: the text is sent as written.
    assert reply_length("bluesky", "https://example.com/abcdef").used == 26


def test_unknown_channel() -> None:
    with pytest.raises(ValueError, match="unknown channel"):
        reply_length("myspace", "hi")


def test_url_spans_trim_punctuation() -> None:
    text = "(voir https://fr.wikipedia.org/wiki/Paris_(France)), puis https://a.example.com."
    spans = [text[s:e] for s, e in url_spans(text)]
    assert spans == ["https://fr.wikipedia.org/wiki/Paris_(France)", "https://a.example.com"]


def test_grapheme_count() -> None:
    assert grapheme_count("") == 0
    assert grapheme_count("क्ष") == 1
