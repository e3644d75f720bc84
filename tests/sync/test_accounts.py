"""Accounts in the database (never their secrets) and the sync cursor."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from db import accounts
from db.accounts import AccountError
from db.errors import NotFound
from db.store import Store

from .conftest import NOW


async def test_add_list_get_remove(store: Store) -> None:
    x = await accounts.add_account(store, channel="x", name="x", handle="@acme", now=NOW)
    m = await accounts.add_account(store, channel="mastodon", name="mastodon",
                                   handle="@acme@mastodon.example", now=NOW,
                                   instance_url="https://Mastodon.Example/")
    b = await accounts.add_account(store, channel="bluesky", name="bluesky",
                                   handle="acme.bsky.social", now=NOW)
    assert m.instance_url == "https://mastodon.example"
    assert b.instance_url == "https://bsky.social"
    assert x.instance_url is None
    assert [a.name for a in await accounts.list_accounts(store)] == ["bluesky", "mastodon", "x"]
    assert await accounts.list_accounts(store, channel="x") == [x]
    assert await accounts.get_account(store, "mastodon") == m
    assert await accounts.remove_account(store, "x", now=NOW) is True
    assert await accounts.remove_account(store, "x", now=NOW) is False
    assert await accounts.get_account(store, "x") is None


@pytest.mark.parametrize(
    ("channel", "name", "instance", "match"),
    [
        ("mastodon", "m", None, "needs its instance"),
        ("x", "x", "https://x.com", "no instance"),
        ("mastodon", "m", "http://plain.example", "https://host"),
        ("mastodon", "m", "https://user:pw@host.example", "no credentials"),
        ("mastodon", "m", "https://host.example/path", "just https://host"),
        ("myspace", "m", None, "unknown channel"),
        ("x", "bad name", None, "not allowed"),
        ("x", "", None, "not allowed"),
    ],
)
async def test_bad_accounts_are_refused(store: Store, channel: str, name: str,
                                        instance: str | None, match: str) -> None:
    with pytest.raises(AccountError, match=match):
        await accounts.add_account(store, channel=channel, name=name, handle="@a", now=NOW,
                                   instance_url=instance)


async def test_names_are_unique(store: Store) -> None:
    await accounts.add_account(store, channel="x", name="x", handle="@a", now=NOW)
    with pytest.raises(AccountError, match="exists already"):
        await accounts.add_account(store, channel="x", name="x", handle="@b", now=NOW)


async def test_cursor_is_saved(store: Store) -> None:
    await accounts.add_account(store, channel="x", name="x", handle="@a", now=NOW)
    await accounts.save_cursor(store, "x", '{"since_id":"123"}')
    got = await accounts.get_account(store, "x")
    assert got is not None and got.sync_cursor == '{"since_id":"123"}'
    with pytest.raises(NotFound):
        await accounts.save_cursor(store, "nobody", "c")


async def test_no_secret_column_and_events_logged(store: Store, db_path: Path) -> None:
    await accounts.add_account(store, channel="x", name="x", handle="@a", now=NOW)
    conn = sqlite3.connect(db_path)
    try:
        cols = {r[1] for r in conn.execute("PRAGMA table_info(accounts)")}
        events = conn.execute("SELECT action, detail FROM events").fetchall()
    finally:
        conn.close()
    assert not {c for c in cols if "token" in c or "secret" in c or "password" in c}
    assert events == [("account", "added x (x)")]
