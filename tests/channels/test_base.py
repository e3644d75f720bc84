"""Shared pieces: the protocol every adapter meets, time parsing, reply matching."""

from __future__ import annotations

import httpx
import pytest

from console.channels.base import (
    ChannelAdapter,
    RateState,
    decode_cursor,
    iso_utc,
    parse_time,
    same_text,
)
from console.channels.bluesky import BlueskyAdapter
from console.channels.mastodon import MastodonAdapter
from console.channels.x import XAdapter
from console.clock import FrozenClock
from tests.channels.conftest import NOW


def test_every_adapter_meets_the_protocol(client: httpx.AsyncClient,
                                          clock: FrozenClock) -> None:
    adapters = [
        XAdapter(client, clock, user_id="1", access_token="t"),
        MastodonAdapter(client, clock, instance_url="https://m.example", access_token="t"),
        BlueskyAdapter(client, clock, identifier="me.example", password="p"),
    ]
    for adapter in adapters:
        assert isinstance(adapter, ChannelAdapter)
    assert [a.channel for a in adapters] == ["x", "mastodon", "bluesky"]
    assert adapters[0].new_record_key() is None and adapters[2].new_record_key()


def test_parse_time() -> None:
    assert parse_time("2026-01-01T00:00:00.000Z") == NOW
    assert parse_time("2026-01-01T01:00:00+01:00") == NOW
    assert parse_time("2026-01-01T00:00:00.123456789Z") == NOW  # nanoseconds (Bluesky)
    assert parse_time("2026-01-01T00:00:00") == NOW  # no offset: UTC
    for bad in ("", "yesterday", None, 12, "2026-13-01T00:00:00Z"):
        with pytest.raises(ValueError):
            parse_time(bad)
    assert iso_utc(NOW + 0.25) == "2026-01-01T00:00:00.250Z"


def test_rate_state_wait() -> None:
    assert RateState(180, 0, NOW + 30).wait(NOW) == 30
    assert RateState(180, 5, NOW + 30).wait(NOW) == 0
    assert RateState().wait(NOW) == 0


def test_same_text_allows_what_networks_change() -> None:
    assert same_text("Ça & ça https://exemple.fr/a", "Ça &amp; ça  https://t.co/xyz")
    assert same_text("Bonjour", "@zoe Bonjour")
    assert not same_text("Bonjour", "Bonsoir")


def test_bad_cursor_starts_afresh() -> None:
    assert decode_cursor("not json") == {} and decode_cursor("[1]") == {}
    assert decode_cursor('{"since": "5", "n": 3}') == {"since": "5"}
