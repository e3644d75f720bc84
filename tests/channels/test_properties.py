"""Parsers meet arbitrary JSON: they return (with rejections) or raise BadPayload, nothing else.
Facets keep valid UTF-8 byte ranges on any text; html_to_text never raises."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from console.channels import bluesky, mastodon, x
from console.channels.base import BadPayload

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(
    max_size=30) | st.sampled_from([
        "2025-12-31T23:58:20.000Z", "2025-12-31T23:58:20.123456789Z", "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00+14:00", "123", "mention", "reply", "at://did:plc:a/b/c",
        "app.bsky.feed.post", "<p>a&amp;b</p>"])
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.text(max_size=10), inner, max_size=4), max_leaves=20)


def shaped(keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with the documented keys holding arbitrary values: reaches deep paths."""
    return st.dictionaries(st.sampled_from(keys), json_values | st.dictionaries(
        st.sampled_from(keys), json_values, max_size=6), max_size=len(keys))


X_KEYS = ["id", "text", "author_id", "created_at", "conversation_id", "referenced_tweets",
          "lang", "note_tweet", "type", "username", "name", "public_metrics",
          "followers_count", "verified"]
M_KEYS = ["id", "type", "status", "account", "acct", "username", "display_name", "content",
          "created_at", "spoiler_text", "in_reply_to_id", "language", "followers_count", "note"]
B_KEYS = ["uri", "cid", "author", "reason", "record", "indexedAt", "did", "handle",
          "displayName", "$type", "text", "createdAt", "reply", "root", "parent", "langs"]


def x_bodies() -> st.SearchStrategy[Any]:
    return json_values | st.fixed_dictionaries({
        "data": st.lists(shaped(X_KEYS), max_size=4) | json_values,
        "includes": st.fixed_dictionaries({"users": st.lists(shaped(X_KEYS), max_size=3)}),
        "meta": json_values})


def mastodon_bodies() -> st.SearchStrategy[Any]:
    return json_values | st.lists(shaped(M_KEYS), max_size=4)


def bluesky_bodies() -> st.SearchStrategy[Any]:
    return json_values | st.fixed_dictionaries({
        "notifications": st.lists(shaped(B_KEYS), max_size=4) | json_values,
        "cursor": json_values})


@settings(max_examples=300, deadline=None)
@given(x_bodies())
def test_x_parser_total(body: Any) -> None:
    try:
        mentions, rejected, _meta = x.parse_mentions_page(body, received_at=0)
    except BadPayload:
        return
    assert all(m.channel == "x" for m in mentions)
    assert all(isinstance(r.error, str) for r in rejected)


@settings(max_examples=300, deadline=None)
@given(mastodon_bodies())
def test_mastodon_parser_total(body: Any) -> None:
    try:
        mentions, _rejected, _ids = mastodon.parse_notifications(
            body, instance_host="piaille.fr", received_at=0)
    except BadPayload:
        return
    assert all(m.author_handle.startswith("@") for m in mentions)


@settings(max_examples=300, deadline=None)
@given(bluesky_bodies(), st.none() | st.floats(0, 2e9))
def test_bluesky_parser_total(body: Any, seen: float | None) -> None:
    try:
        mentions, _rejected, _cursor, _newest, _reached = bluesky.parse_notifications(
            body, received_at=0, seen=seen)
    except BadPayload:
        return
    assert all(m.remote_id.startswith("at://") for m in mentions)


@settings(max_examples=300, deadline=None)
@given(st.text() | st.text(alphabet="<>/&;#pbra =\"'x\n").map(str))
def test_html_to_text_total(content: str) -> None:
    assert isinstance(mastodon.html_to_text(content), str)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.characters(codec="utf-8") | st.sampled_from(
    [*"@#.:/ hxtps", "https://", "@a.bsky.social", "#tag", "é", "😔", "\u200d", ").", "www.",
     ".fr", "＃"]), max_size=40).map("".join))
def test_facet_spans_are_valid_byte_ranges(text: str) -> None:
    spans = bluesky.facet_spans(text)
    encoded = text.encode("utf-8")
    last_end = 0
    for span in spans:
        assert last_end <= span.byte_start < span.byte_end <= len(encoded)
        piece = encoded[span.byte_start:span.byte_end].decode("utf-8")  # on char boundaries
        if span.kind == "link":
            assert piece == span.value
        elif span.kind == "mention":
            assert piece.lower() == "@" + span.value
        else:
            assert piece[1:] == span.value
        last_end = span.byte_end
