"""`comptoir quarantine list|clear` through `main()`, on a database with quarantined items."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from console.cli import main
from db.quarantine import BadItem, quarantine
from db.store import Store

NOW = 1_767_225_600


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPTOIR_HOME", str(tmp_path / "home"))


def fill(db: Path) -> None:
    async def run() -> None:
        store = await Store.open(db)
        try:
            await quarantine(store, account="x", channel="x", now=NOW, items=[
                BadItem("1874000000000000001", "x: 'created_at' missing or not a string",
                        '{"id": "1874000000000000001", "text": "\\u001b]52;c;cm0=\\u0007hi"}'),
                BadItem(None, "x: tweet is not an object", "null"),
            ])
            await quarantine(store, account="bluesky", channel="bluesky", now=NOW + 60, items=[
                BadItem("at://did:plc:z/app.bsky.feed.post/3l", "bluesky: bad\x1b[2J",
                        '{"uri": "at://did:plc:z/app.bsky.feed.post/3l"}'),
            ])
        finally:
            await store.close()

    asyncio.run(run())


def test_list_and_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "q.db"
    fill(db)
    assert main(["quarantine", "list", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == ("#3  bluesky (bluesky)  2026-01-01 00:01 UTC  "
                        "at://did:plc:z/app.bsky.feed.post/3l")
    assert lines[1] == "    error: bluesky: bad"  # the escape sequence is gone
    assert "#1  x (x)  2026-01-01 00:00 UTC  1874000000000000001" in lines
    assert "#2  x (x)  2026-01-01 00:00 UTC  -" in lines
    assert "payload" not in out and "\x1b" not in out

    assert main(["quarantine", "list", "--account", "x", "--full", "--limit", "1",
                 "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("#2  x (x)")
    assert "    payload: null" in out and "(the 1 newest; --limit N for more)" in out
    assert main(["quarantine", "list", "--account", "x", "--full", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert '"text": "\\u001b]52;c;cm0=\\u0007hi"' in out  # JSON escapes stay inert text
    assert "\x1b" not in out and "\x07" not in out

    assert main(["quarantine", "clear", "--account", "x", "--db", str(db)]) == 0
    assert capsys.readouterr().out == "Removed 2 quarantined item(s) of x\n"
    assert main(["quarantine", "clear", "--db", str(db)]) == 0
    assert capsys.readouterr().out == "Removed 1 quarantined item(s)\n"
    assert main(["quarantine", "list", "--db", str(db)]) == 0
    assert capsys.readouterr().out == "Nothing in quarantine\n"


def test_without_a_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "none.db"
    assert main(["quarantine", "list", "--db", str(db)]) == 0
    assert "Nothing in quarantine" in capsys.readouterr().out
    assert not db.exists()
    assert main(["quarantine", "list", "--limit", "0", "--db", str(db)]) == 2
