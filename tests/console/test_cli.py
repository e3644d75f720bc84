"""The command line contract: names, exit codes and one-line errors that leave files untouched."""

from __future__ import annotations

import json
import os
import pty
import select
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from console.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own COMPTOIR_HOME: no user config, no user database."""
    folder = tmp_path / "home"
    monkeypatch.setenv("COMPTOIR_HOME", str(folder))
    return folder


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["--version"])
    assert raised.value.code == 0
    assert capsys.readouterr().out.startswith("comptoir ")


def test_help_names_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for word in ("demo", "seed", "stats", "--db", "--theme", "--version"):
        assert word in out


def test_seed_then_stats_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "q.db"
    assert main(["seed", "--mentions", "2000", "--seed", "3", "--db", str(db)]) == 0
    assert "Seeded 2,000 mentions" in capsys.readouterr().out
    # Global options are accepted before the command too.
    assert main(["--db", str(db), "stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["total"] == 2000
    assert sum(stats["by_status"].values()) == 2000
    assert sum(stats["by_channel"].values()) == 2000
    assert set(stats["sla"]) == {"breached", "warning", "ok"}
    assert main(["stats", "--db", str(db)]) == 0
    text = capsys.readouterr().out
    assert "2,000 mentions" in text and "SLA" in text


def test_stats_on_a_missing_database_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.db"
    assert main(["stats", "--db", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("comptoir: error:") and err.count("\n") == 1
    assert not missing.exists()


@pytest.mark.parametrize(
    "content",
    [b"this is not a database at all\n" * 10, os.urandom(8192),
     b"SQLite format 3\x00" + b"\xff" * 4000],
    ids=["text", "random", "bad-header"],
)
def test_bad_database_files_are_refused_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(content)
    assert main(["stats", "--db", str(bad)]) == 2
    assert main(["seed", "--mentions", "10", "--db", str(bad)]) == 2
    err = capsys.readouterr().err
    assert all(line.startswith("comptoir: error:") for line in err.splitlines())
    assert str(bad) in err
    assert bad.read_bytes() == content
    assert not Path(str(bad) + "-wal").exists()


def test_newer_schema_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "new.db"
    assert main(["seed", "--mentions", "10", "--db", str(db)]) == 0
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 999")
    conn.close()
    before = db.read_bytes()
    assert main(["stats", "--db", str(db)]) == 2
    assert "newer" in capsys.readouterr().err.lower()
    assert db.read_bytes() == before


def test_unwritable_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "a-file"
    target.write_text("x")
    assert main(["seed", "--mentions", "10", "--db", str(target / "sub" / "q.db")]) == 2
    assert capsys.readouterr().err.startswith("comptoir: error:")


def test_config_syntax_error_names_file_and_line(
    home: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    home.mkdir(parents=True)
    (home / "config.toml").write_text('[agent]\nname = "Camille"\ntheme = = "dark"\n')
    assert main(["stats", "--db", str(tmp_path / "x.db")]) == 2
    err = capsys.readouterr().err
    assert "config.toml:3" in err


def test_unknown_theme(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--theme", "neon", "stats", "--db", str(tmp_path / "x.db")]) == 2
    err = capsys.readouterr().err
    assert "neon" in err and "lowbw" in err


def test_demo_refuses_an_existing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    existing = tmp_path / "mine.db"
    existing.write_bytes(b"precious")
    assert main(["demo", "--db", str(existing)]) == 2
    assert existing.read_bytes() == b"precious"
    assert "already exists" in capsys.readouterr().err


def _read_until(fd: int, needle: bytes, deadline: float) -> bytes:
    seen = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            if b"\x1b[?2026$p" in chunk:  # answer Textual's DECRQM: frames get markers
                os.write(fd, b"\x1b[?2026;2$y")
            if needle in seen:
                return seen
    return seen


def test_demo_starts_in_a_terminal_and_quits_with_q(tmp_path: Path, home: Path) -> None:
    """The README's first command, end to end in a real pseudo-terminal."""
    db = tmp_path / "demo.db"
    master, slave = pty.openpty()
    import fcntl
    import struct
    import termios

    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COMPTOIR_HOME": str(home)}
    process = subprocess.Popen(
        [sys.executable, "-m", "console", "demo", "--db", str(db), "--seed", "3"],
        stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=env, close_fds=True,
    )
    os.close(slave)
    try:
        screen = _read_until(master, b"to do", time.monotonic() + 60)
        assert b"to do" in screen, screen[-2000:]
        os.write(master, b"q")
        # Keep draining the terminal: a full pty buffer would block the app's last writes.
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            _read_until(master, b"\x00never", time.monotonic() + 0.5)
        assert process.wait(timeout=1) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM mentions").fetchone()[0] > 1000
    conn.close()


def test_the_demo_signs_as_a_named_agent_unless_config_names_one() -> None:
    from console.cli import DEMO_AGENT, demo_config
    from console.config import AgentConfig, Config

    assert demo_config(Config()).agent == DEMO_AGENT
    assert DEMO_AGENT.signature == "^Camille" and DEMO_AGENT.id == "camille"
    mine = Config(agent=AgentConfig.from_name("Zoé Roux"))
    assert demo_config(mine).agent.name == "Zoé Roux"
