"""One account per channel: refused at `account add`, and a database holding two anyway syncs the
first and names the other in the status line (replies never go out from the wrong account)."""

from __future__ import annotations

import io
import sqlite3
import sys
from pathlib import Path

import httpx
import keyring
import pytest

from console.accounts_cli import first_per_channel
from console.cli import main
from console.clock import FrozenClock
from console.secrets import env_var
from console.sync.desk import desk_sync_for_accounts
from db import accounts
from db.accounts import AccountError
from db.store import Store

from .conftest import NOW
from .fakes import MemoryKeyring


async def test_a_second_account_of_a_channel_is_refused(store: Store) -> None:
    await accounts.add_account(store, channel="x", name="brand", handle="@brand", now=NOW)
    with pytest.raises(AccountError, match="one account per channel") as refused:
        await accounts.add_account(store, channel="x", name="other", handle="@other", now=NOW)
    assert "comptoir account remove brand" in str(refused.value)
    # Other channels are still welcome, and the name is free again after a remove.
    await accounts.add_account(store, channel="bluesky", name="sky", handle="b.example", now=NOW)
    assert await accounts.remove_account(store, "brand", now=NOW)
    await accounts.add_account(store, channel="x", name="other", handle="@other", now=NOW)
    assert [a.name for a in await accounts.list_accounts(store)] == ["other", "sky"]


def test_cli_refuses_before_asking_for_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    vault = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(vault)
    monkeypatch.setenv("COMPTOIR_HOME", str(tmp_path / "home"))
    db = tmp_path / "q.db"
    try:
        monkeypatch.setattr(sys, "stdin", io.StringIO("tok-first-123456\n"))
        assert main(["account", "add", "x", "--handle", "@brand", "--user-id", "42",
                     "--db", str(db)]) == 0
        stdin = io.StringIO("tok-second-654321\n")
        monkeypatch.setattr(sys, "stdin", stdin)
        assert main(["account", "add", "x", "--name", "x2", "--handle", "@other",
                     "--user-id", "43", "--db", str(db)]) == 2
    finally:
        keyring.set_keyring(previous)
    err = capsys.readouterr().err
    assert "a x account exists already ('x')" in err and "comptoir account remove x" in err
    assert stdin.tell() == 0  # the token was never read
    assert list(vault.data) == [("comptoir", "x")]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT name FROM accounts").fetchall() == [("x",)]


async def test_a_database_with_two_accounts_syncs_the_first_and_says_so(
    store: Store, db_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await accounts.add_account(store, channel="mastodon", name="m-a", handle="@a@s.example",
                               now=NOW, instance_url="https://s.example")
    # Written by hand (or by an older version that allowed it).
    with sqlite3.connect(db_path) as conn:
        conn.execute("INSERT INTO accounts (channel, name, handle, instance_url, created_at) "
                     "VALUES ('mastodon', 'm-b', '@b@s.example', 'https://s.example', 0)")
    kept, problems = first_per_channel(await accounts.list_accounts(store))
    assert [a.name for a in kept] == ["m-a"]
    assert problems == ["m-b: not syncing (one mastodon account per desk, m-a is synced; "
                        "comptoir account remove m-b)"]
    monkeypatch.setenv(env_var("m-a"), "token-a-123456")
    monkeypatch.setenv(env_var("m-b"), "token-b-123456")
    async with httpx.AsyncClient(transport=httpx.MockTransport(
            lambda request: httpx.Response(500))) as client:
        sync = await desk_sync_for_accounts(store, clock, client, first_reply_sla=3600)
    assert sync is not None
    assert [w.account.name for w in sync.workers] == ["m-a"]
    assert sync.status_lines() == ("m-a: not synced yet", problems[0])
