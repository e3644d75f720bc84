"""No token anywhere after a full workflow: planted tokens are scanned for in every byte written.

Three unique tokens are planted in an in-memory keyring through `comptoir account add` (an X
bearer token, a Mastodon access token, a Bluesky app password), and the Bluesky fake hands out
unique session tokens of its own. Then, through `main()` in-process with the network an
httpx.MockTransport answering like the three APIs: `sync --once` (mentions in), replies queued
and sent by a second `sync --once`, a crash forced inside a command while a token sits in a local
variable and in the exception's message (reported by our crash handler, as the interpreter would),
`backup`, `stats --json` and, when the command exists, `export`.

Scanned afterwards, as raw bytes: every file under the test's folder (the database, its WAL and
shared memory, the backup, config.toml, every log file, the export), the stdout and stderr of
every command and the crash output. Each token is looked for as is, URL-encoded, JSON- and
repr-escaped, and base64-encoded (standard and URL-safe, at each of the three byte alignments,
so also inside a longer encoded blob such as a Basic header). Expected: 0 hits.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import sqlite3
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import keyring
import pytest

from console import cli, secrets
from console.channels import base
from console.cli import main
from db.store import Store
from tests.channels import test_bluesky as bsky
from tests.channels import test_mastodon as masto
from tests.channels import test_x as xapi
from tests.channels.conftest import Wire, body_of, reply
from tests.sync.fakes import MemoryKeyring

X_ME = xapi.ME


def tokens() -> dict[str, str]:
    h = uuid.uuid4().hex + uuid.uuid4().hex
    return {
        # X app-only bearer tokens carry URL-encoded characters of their own.
        "x": f"AAAAAAAAAAAAAAAAAAAAA{h[:12]}%2F{h[12:24]}%3D{h[24:40]}",
        "mastodon": f"zqM{h[:20]}-_{h[20:41]}",
        "bluesky": "-".join(h[i:i + 4] for i in range(0, 16, 4)),  # xxxx-xxxx-xxxx-xxxx
        "bsky_access": f"zqA{h[30:62]}",  # the session the Bluesky fake hands out
        "bsky_refresh": f"zqR{h[5:37]}",
    }


def spellings(token: str) -> set[bytes]:
    raw = token.encode()
    forms = {raw, quote(token, safe="").encode(), quote_plus(token).encode(),
             json.dumps(token)[1:-1].encode(), repr(token)[1:-1].encode()}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        for offset in range(3):
            # The part of the encoding that does not depend on the neighbouring bytes.
            encoded = encode(b"\0" * offset + raw)
            start = 4 if offset else 0
            forms.add(encoded[start:len(encoded) - 4])
    return {f for f in forms if len(f) >= 8}


def scan(blobs: dict[str, bytes], planted: dict[str, str]) -> dict[str, list[str]]:
    """{where: [which tokens]} for every hit."""
    hits: dict[str, list[str]] = {}
    forms = {name: spellings(token) for name, token in planted.items()}
    for where, data in blobs.items():
        found = [name for name, fs in forms.items() if any(f in data for f in fs)]
        if found:
            hits[where] = found
    return hits


def test_the_scanner_finds_every_spelling() -> None:
    planted = tokens()
    for name, token in planted.items():
        for pad in ("", "u", "us"):  # every alignment inside a longer base64 blob
            blob = b"Authorization: Basic " + base64.b64encode(f"{pad}user:{token}".encode())
            assert scan({"b": blob}, {name: token}) == {"b": [name]}
        assert scan({"q": f"?t={quote(token, safe='')}&".encode()}, {name: token})
    assert scan({"clean": b"nothing here"}, planted) == {}


@pytest.fixture(autouse=True)
def home(cli_home: Path) -> Path:
    return cli_home


def channels_wire(planted: dict[str, str]) -> Wire:
    """One fake for the three APIs (their paths do not overlap)."""
    wire = Wire()
    # X: mentions timeline, profile look-up, post.
    wire.on("GET", f"/2/users/{X_ME}/mentions", reply(200, xapi.page(
        [xapi.tweet("1874000000000000005", "@Comptoir toujours pas de fibre")]), xapi.rate()))
    wire.on("GET", "/2/users", reply(200, {"data": [xapi.USER]}, xapi.rate()))
    wire.on("POST", "/2/tweets", reply(201, {"data": {
        "id": "1874000000000000099", "text": "ok",
        "edit_history_tweet_ids": ["1874000000000000099"]}}, xapi.rate(99)))
    # Mastodon: notifications, the status replied to, post.
    wire.on("GET", "/api/v1/notifications",
            reply(200, [masto.note("900001", masto.status("113000000000000001"))]))
    wire.on("GET", "/api/v1/statuses/113000000000000001",
            reply(200, masto.status("113000000000000001")))

    def posted(request: httpx.Request) -> httpx.Response:
        return reply(200, masto.status("113000000000000099", body_of(request)["status"]))

    wire.on("POST", "/api/v1/statuses", posted)
    # Bluesky: a session with tokens of its own, notifications, the parent post, the record.
    session = {**bsky.session_body(), "accessJwt": planted["bsky_access"],
               "refreshJwt": planted["bsky_refresh"]}
    wire.on("POST", bsky.X + "com.atproto.server.createSession",
            reply(200, session, bsky.rate()))
    wire.on("GET", bsky.X + "app.bsky.actor.getProfiles",
            reply(200, bsky.profiles_body(), bsky.rate()))
    wire.on("GET", bsky.X + "app.bsky.notification.listNotifications", reply(200, {
        "cursor": "2025-12-31T23:50:00.000Z",
        "notifications": [bsky.notif("3lf1", "2025-12-31T23:50:00.000Z")],
        "priority": False, "seenAt": "2025-12-31T20:00:00.000Z"}, bsky.rate()))
    parent = f"at://{bsky.ZOE}/app.bsky.feed.post/3lf1"
    wire.on("GET", bsky.X + "app.bsky.feed.getPosts", reply(200, {"posts": [{
        "uri": parent, "cid": "bafyparent", "author": bsky.author(),
        "record": {"$type": "app.bsky.feed.post", "text": "ma box",
                   "createdAt": "2025-12-31T23:50:00.000Z"},
        "replyCount": 0, "repostCount": 0, "likeCount": 0,
        "indexedAt": "2025-12-31T23:50:00.000Z", "labels": []}]}, bsky.rate()))
    wire.on("GET", bsky.X + "com.atproto.identity.resolveHandle",
            reply(200, {"did": bsky.ZOE}, bsky.rate()))
    wire.on("GET", bsky.X + "com.atproto.repo.getRecord",
            reply(400, {"error": "RecordNotFound", "message": "Could not locate record"}))

    def created(request: httpx.Request) -> httpx.Response:
        rkey = body_of(request)["rkey"]
        return reply(200, {"uri": f"at://{bsky.ME}/app.bsky.feed.post/{rkey}", "cid": "bafynew",
                           "commit": {"cid": "bafycommit", "rev": "3l"},
                           "validationStatus": "valid"}, bsky.rate())

    wire.on("POST", bsky.X + "com.atproto.repo.createRecord", created)
    return wire


class Terminal:
    """Runs commands through main() and keeps everything they printed."""

    def __init__(self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
        self.capsys = capsys
        self.monkeypatch = monkeypatch
        self.printed: dict[str, bytes] = {}

    def run(self, label: str, *argv: str, stdin: str = "") -> int:
        self.monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(list(argv))
        self.keep(label)
        return code

    def keep(self, label: str) -> None:
        out, err = self.capsys.readouterr()
        self.printed[f"stdout of {label}"] = out.encode()
        self.printed[f"stderr of {label}"] = err.encode()


async def queue_replies(db: Path) -> int:
    store = await Store.open(db, create=False)
    try:
        rows = await store._rows("SELECT id FROM mentions ORDER BY id")
        for (mid,) in rows:
            await store.queue_reply(mid, "Bonjour, on regarde tout de suite.", author="ana",
                                    now=1_767_225_600)
        return len(rows)
    finally:
        await store.close()


def test_no_token_in_any_byte_written_after_a_full_workflow(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    planted = tokens()
    vault = MemoryKeyring()
    keyring.set_keyring(vault)
    wire = channels_wire(planted)

    def make_client(**kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(wire))

    monkeypatch.setattr(base, "make_client", make_client)
    home.mkdir(parents=True)
    (home / "config.toml").write_text('[agent]\nid = "ana"\n')
    data = tmp_path / "data"
    db = data / "comptoir.db"
    term = Terminal(capsys, monkeypatch)
    opt = ["--db", str(db)]

    # Accounts: the tokens go to the keyring (typed into stdin, as a script would pipe them).
    assert term.run("account add x", "account", "add", "x", "--handle", "@Comptoir",
                    "--user-id", X_ME, *opt, stdin=planted["x"] + "\n") == 0
    assert term.run("account add mastodon", "account", "add", "mastodon", "--handle",
                    "@comptoir@piaille.fr", "--instance", "https://piaille.fr", *opt,
                    stdin=planted["mastodon"] + "\n") == 0
    assert term.run("account add bluesky", "account", "add", "bluesky", "--handle",
                    "comptoir.bsky.social", *opt, stdin=planted["bluesky"] + "\n") == 0
    assert {k[1]: v for k, v in vault.data.items() if k[1] in ("x", "mastodon", "bluesky")} \
        == {c: planted[c] for c in ("x", "mastodon", "bluesky")}
    assert term.run("account list", "account", "list", *opt) == 0
    # A console left open all along: the WAL is not folded back and deleted at each command's
    # end, so its frames are on disk for the scan too.
    console = sqlite3.connect(db)
    console.execute("SELECT count(*) FROM accounts").fetchone()

    # Mentions in, replies out.
    assert term.run("sync 1", "sync", "--once", *opt) == 0, term.printed
    assert asyncio.run(queue_replies(db)) == 3
    assert term.run("sync 2", "sync", "--once", *opt) == 0, term.printed
    assert b"outbox: 3 sent" in term.printed["stdout of sync 2"], term.printed
    # The tokens really went over the wire (the scan below is not looking at unused strings).
    auth = {r.headers.get("authorization", "") for r in wire.requests}
    assert {f"Bearer {planted[c]}" for c in ("x", "mastodon", "bsky_access")} <= auth
    assert any(body_of(r).get("password") == planted["bluesky"] for r in wire.requests
               if r.url.path.endswith("createSession"))

    # A crash inside a command, with a token in a local and in the message.
    def exploding_sync(args: Any, config: Any) -> int:
        token = asyncio.run(secrets.get_token("mastodon"))
        headers = {"Authorization": f"Bearer {token}"}  # noqa: F841  (a local, on purpose)
        raise RuntimeError(f"request failed: {token} / {quote(token)} / {planted['bsky_access']}")

    monkeypatch.setattr(cli, "run_sync", exploding_sync)
    with pytest.raises(RuntimeError) as raised:
        main(["sync", "--once", *opt])
    sys.excepthook(RuntimeError, raised.value, raised.value.__traceback__)
    term.keep("crash")
    assert b"unexpected error" in term.printed["stderr of crash"]

    # Backup, stats and (when the command exists) export.
    assert term.run("backup", "backup", *opt) == 0
    assert term.run("stats --json", "stats", "--json", *opt) == 0
    exports = 0
    if "export" in cli.build_parser().format_help():
        for what in ("mentions", "replies"):
            out = data / f"export-{what}.jsonl"
            assert term.run(f"export {what}", "export", "--format", "jsonl", "--what", what,
                            "--output", str(out), *opt) == 0, term.printed
            exports += 1

    blobs = dict(term.printed)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    for path in files:
        blobs[str(path.relative_to(tmp_path))] = path.read_bytes()
    console.close()
    names = {p.name for p in files}
    assert {"comptoir.db", "comptoir.db-wal", "config.toml", "comptoir.log"} <= names, names
    assert len(blobs["data/comptoir.db-wal"]) > 0  # frames of the workflow, scanned below
    assert any(p.parent.name == "backups" for p in files)
    hits = scan(blobs, planted)
    size = sum(len(blobs[str(p.relative_to(tmp_path))]) for p in files)
    forms = sum(len(spellings(t)) for t in planted.values())
    print(f"\ntoken scan: {len(planted)} tokens in {forms} spellings, {len(files)} files "
          f"({size:,} bytes) + {len(term.printed)} command outputs ({exports} exports), "
          f"{sum(len(v) for v in hits.values())} hits")
    assert hits == {}
