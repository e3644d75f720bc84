"""`comptoir account add|list|remove` and `comptoir sync --once` through `main()` in-process:
tokens in an in-memory keyring (or keyring's fail backend), the network an httpx.MockTransport."""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import keyring
import keyring.backend
import keyring.errors
import pytest
from keyring.backends import fail

from console import secrets
from console.accounts_cli import X_USER_KEY, adapter_for
from console.channels import base
from console.channels.bluesky import BlueskyAdapter
from console.channels.mastodon import MastodonAdapter
from console.channels.x import XAdapter
from console.cli import main
from console.clock import FrozenClock
from db.accounts import Account, AccountError
from db.store import Store
from tests.channels.test_mastodon import note, status
from tests.sync.fakes import MemoryKeyring

TOKEN = "tok-SECRET-4242"
INSTANCE = "https://piaille.fr"


@pytest.fixture(autouse=True)
def home(cli_home: Path) -> Path:
    return cli_home


@pytest.fixture
def vault() -> MemoryKeyring:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "q.db"


def typed(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    """What a script pipes into stdin (not a terminal: one line is read, no prompt)."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))


def add_mastodon(db: Path, monkeypatch: pytest.MonkeyPatch, *extra: str) -> int:
    typed(monkeypatch, TOKEN + "\n")
    return main(["account", "add", "mastodon", "--handle", "@comptoir@piaille.fr",
                 "--instance", INSTANCE, "--db", str(db), *extra])


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


# --- account add / list / remove ------------------------------------------------------------------
def test_add_list_remove_with_the_keyring(
    db: Path, vault: MemoryKeyring, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert add_mastodon(db, monkeypatch) == 0
    out = capsys.readouterr().out
    assert "Added mastodon account mastodon" in out and "keyring" in out and TOKEN not in out
    assert vault.data == {("comptoir", "mastodon"): TOKEN}
    # The database holds the account, never the token.
    assert rows(db, "SELECT channel, name, handle, instance_url FROM accounts") == [
        ("mastodon", "mastodon", "@comptoir@piaille.fr", INSTANCE)]
    assert TOKEN.encode() not in db.read_bytes()

    typed(monkeypatch, "xtoken-77\n")
    assert main(["--db", str(db), "account", "add", "x", "--name", "brand-x",
                 "--handle", "@brand", "--user-id", "2244994945"]) == 0
    monkeypatch.setenv(secrets.env_var("brand-x"), "from-env")
    vault.data.pop(("comptoir", "brand-x"))
    capsys.readouterr()

    assert main(["account", "list", "--db", str(db)]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].split() == ["NAME", "CHANNEL", "HANDLE", "INSTANCE", "TOKEN"]
    assert lines[1].split() == ["brand-x", "x", "@brand", "-", "env"]
    assert lines[2].split() == ["mastodon", "mastodon", "@comptoir@piaille.fr", INSTANCE,
                                "keyring"]
    assert TOKEN not in captured.out + captured.err and "from-env" not in captured.out

    assert main(["account", "remove", "mastodon", "--db", str(db)]) == 0
    assert "Removed account mastodon" in capsys.readouterr().out
    assert ("comptoir", "mastodon") not in vault.data
    assert rows(db, "SELECT name FROM accounts") == [("brand-x",)]

    assert main(["account", "remove", "mastodon", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("comptoir: error:") and "no account named 'mastodon'" in err


def test_a_missing_token_is_listed_as_missing(
    db: Path, vault: MemoryKeyring, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert add_mastodon(db, monkeypatch) == 0
    vault.data.clear()
    capsys.readouterr()
    assert main(["account", "list", "--db", str(db)]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[-1] == "missing"


def test_the_fail_backend_stores_nothing_and_says_how_to_proceed(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    keyring.set_keyring(fail.Keyring())
    assert add_mastodon(db, monkeypatch) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("comptoir: error: Cannot use the system keyring")
    assert captured.err.count("\n") == 1
    assert "COMPTOIR_TOKEN_MASTODON" in captured.err and TOKEN not in captured.err
    assert sys.stdin.read() == TOKEN + "\n"  # not even asked for the token
    assert not db.exists()


def test_the_fail_backend_with_the_variable_set_adds_the_account(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    keyring.set_keyring(fail.Keyring())
    monkeypatch.setenv("COMPTOIR_TOKEN_MASTODON", TOKEN)
    assert add_mastodon(db, monkeypatch) == 0
    assert "COMPTOIR_TOKEN_MASTODON" in capsys.readouterr().out
    assert main(["account", "list", "--db", str(db)]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[-1] == "env"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["mastodon", "--handle", "@a"], "instance"),
        (["mastodon", "--instance", INSTANCE], "--handle"),
        (["x", "--handle", "@brand"], "--user-id"),
        (["x", "--handle", "@brand", "--user-id", "brand"], "--user-id"),
        (["bluesky", "--handle", "a.bsky.social", "--user-id", "1"], "only for X"),
        (["x", "--name", "no spaces", "--handle", "@b", "--user-id", "1"], "not allowed"),
        (["bluesky", "--handle", "a.bsky.social", "--instance", "http://pds.example"], "https"),
    ],
)
def test_bad_arguments_are_refused_before_the_token_is_asked(
    db: Path, vault: MemoryKeyring, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], args: list[str], words: str,
) -> None:
    typed(monkeypatch, TOKEN + "\n")
    assert main(["account", "add", *args, "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("comptoir: error:") and err.count("\n") == 1 and words in err
    assert sys.stdin.read() == TOKEN + "\n"
    assert vault.data == {}


def test_a_taken_name_and_an_empty_token(
    db: Path, vault: MemoryKeyring, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert add_mastodon(db, monkeypatch) == 0
    assert add_mastodon(db, monkeypatch) == 2
    assert "exists already" in capsys.readouterr().err
    typed(monkeypatch, "\n")
    assert main(["account", "add", "bluesky", "--handle", "a.bsky.social",
                 "--db", str(db)]) == 2
    assert "nothing was stored" in capsys.readouterr().err
    assert list(vault.data) == [("comptoir", "mastodon")]


def test_on_a_terminal_the_token_is_asked_with_getpass(
    db: Path, vault: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    asked: list[str] = []
    monkeypatch.setattr(sys, "stdin", Tty(""))
    monkeypatch.setattr("getpass.getpass", lambda prompt: asked.append(prompt) or "typed-tok")
    assert main(["account", "add", "bluesky", "--handle", "@brand.bsky.social",
                 "--db", str(db)]) == 0
    assert asked and "App password for bluesky" in asked[0]
    assert vault.data == {("comptoir", "bluesky"): "typed-tok"}
    assert rows(db, "SELECT instance_url FROM accounts") == [("https://bsky.social",)]


def test_adapter_for_each_channel() -> None:
    clock = FrozenClock(1_767_225_600)
    client = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(500)))

    def row(channel: str, instance: str | None, cursor: str | None = None) -> Account:
        return Account(1, channel, channel, "@brand", instance, cursor, 0)

    assert isinstance(adapter_for(row("mastodon", INSTANCE), "t", client, clock),
                      MastodonAdapter)
    assert isinstance(adapter_for(row("bluesky", "https://bsky.social"), "t", client, clock),
                      BlueskyAdapter)
    x = adapter_for(row("x", None, json.dumps({X_USER_KEY: "42"})), "t", client, clock)
    assert isinstance(x, XAdapter)
    with pytest.raises(AccountError, match="user id"):
        adapter_for(row("x", None), "t", client, clock)
    asyncio.run(client.aclose())


# --- sync --once ---------------------------------------------------------------------------------
Handler = Callable[[httpx.Request], httpx.Response]


def network(monkeypatch: pytest.MonkeyPatch, handler: Handler) -> list[httpx.Request]:
    """Every client made through make_client answers from `handler`; returns the requests."""
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    def make_client(**kwargs: object) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(record))

    monkeypatch.setattr(base, "make_client", make_client)
    return seen


def mastodon_server(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if request.method == "GET" and path == "/api/v1/notifications":
        return httpx.Response(200, json=[note("900001", status("113000000000000001"))])
    if request.method == "GET" and path.startswith("/api/v1/statuses/"):
        return httpx.Response(200, json=status(path.rsplit("/", 1)[1]))
    if request.method == "POST" and path == "/api/v1/statuses":
        body = json.loads(request.content)
        return httpx.Response(200, json=status("113000000000000099", body["status"]))
    return httpx.Response(404, json={"error": "not here"})


def test_sync_once_fetches_a_mastodon_mention_then_sends_the_outbox(
    db: Path, vault: MemoryKeyring, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert add_mastodon(db, monkeypatch) == 0
    seen = network(monkeypatch, mastodon_server)
    capsys.readouterr()

    assert main(["sync", "--once", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("mastodon: synced")
    assert "(1 new)" in out and "outbox: nothing sent" in out
    assert rows(db, "SELECT channel, remote_id FROM mentions") == [
        ("mastodon", "113000000000000001")]
    assert seen[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert rows(db, "SELECT sync_cursor FROM accounts") == [('{"min":"900001"}',)]

    async def queue() -> None:
        store = await Store.open(db)
        try:
            await store.queue_reply(1, "Bonjour, on regarde !", author="ana", now=1)
        finally:
            await store.close()

    asyncio.run(queue())
    assert main(["sync", "--once", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "(0 new)" in out and "outbox: 1 sent" in out
    assert rows(db, "SELECT state, remote_id FROM outbox") == [("sent", "113000000000000099")]
    posted = [r for r in seen if r.method == "POST"]
    assert len(posted) == 1 and "@zoe" in json.loads(posted[0].content)["status"]


def test_sync_once_on_a_dead_network_is_offline_and_loses_nothing(
    db: Path, vault: MemoryKeyring, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert add_mastodon(db, monkeypatch) == 0
    network(monkeypatch, mastodon_server)
    assert main(["sync", "--once", "--db", str(db)]) == 0

    async def queue() -> None:
        store = await Store.open(db)
        try:
            await store.queue_reply(1, "Bonjour", author="ana", now=1)
        finally:
            await store.close()

    asyncio.run(queue())
    cursor = rows(db, "SELECT sync_cursor FROM accounts")

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno -3] Temporary failure in name resolution")

    seen = network(monkeypatch, down)
    capsys.readouterr()
    assert main(["sync", "--once", "--db", str(db)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("mastodon: offline")
    assert "outbox: mastodon replies held (account mastodon not synced)" in out
    assert len(seen) == 1  # one failed fetch; no send attempted on a channel that is down
    assert rows(db, "SELECT count(*) FROM mentions") == [(1,)]
    assert rows(db, "SELECT state, attempts FROM outbox") == [("queued", 0)]
    assert rows(db, "SELECT sync_cursor FROM accounts") == cursor


def test_sync_once_with_a_missing_token_or_a_rejected_one_exits_1(
    db: Path, vault: MemoryKeyring, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert add_mastodon(db, monkeypatch) == 0
    network(monkeypatch, lambda r: httpx.Response(401, json={"error": "The access token is "
                                                                       "invalid"}))
    capsys.readouterr()
    assert main(["sync", "--once", "--db", str(db)]) == 1
    assert "mastodon: token rejected, run comptoir account add mastodon" in \
        capsys.readouterr().out

    vault.data.clear()
    assert main(["sync", "--once", "--db", str(db)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("mastodon: not synced (no token stored") and TOKEN not in out


def test_sync_once_without_accounts(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen = network(monkeypatch, mastodon_server)
    assert main(["sync", "--once", "--db", str(db)]) == 0
    assert capsys.readouterr().out.startswith("No accounts to sync")
    assert not db.exists()
    assert main(["seed", "--mentions", "10", "--db", str(db)]) == 0
    capsys.readouterr()
    assert main(["sync", "--once", "--db", str(db)]) == 0
    assert capsys.readouterr().out.startswith("No accounts to sync")
    assert seen == []


def test_sync_without_once_says_how(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sync", "--db", str(db)]) == 2
    assert "comptoir sync --once" in capsys.readouterr().err
