"""`comptoir backup`, `restore`, `erase-customer`, the damaged-database message and the crash
handler, through `main()` in-process on a seeded database."""

from __future__ import annotations

import sqlite3
import sys
import threading
from pathlib import Path

import pytest

from console import cli, crash
from console.cli import main
from console.logging_setup import LOG_FILENAME


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    monkeypatch.setenv("COMPTOIR_HOME", str(folder))
    return folder


pytestmark = pytest.mark.usefixtures("restored_hooks")


@pytest.fixture
def db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "data" / "q.db"
    assert main(["seed", "--mentions", "300", "--seed", "5", "--db", str(path)]) == 0
    capsys.readouterr()
    return path


def count(path: Path, table: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


def busiest_customer(path: Path) -> tuple[int, str, str, int]:
    """(customer id, channel, handle, mentions) of the customer with the most mentions."""
    conn = sqlite3.connect(path)
    try:
        cid, n = conn.execute(
            "SELECT customer_id, count(*) FROM mentions GROUP BY customer_id "
            "ORDER BY count(*) DESC, customer_id LIMIT 1").fetchone()
        channel, handle = conn.execute(
            "SELECT channel, handle FROM identities WHERE customer_id = ? ORDER BY id LIMIT 1",
            (cid,)).fetchone()
        return int(cid), str(channel), str(handle), int(n)
    finally:
        conn.close()


# --- backup ---------------------------------------------------------------------------------------
def test_backup_to_the_conventional_place_then_to_a_file(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["backup", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    made = sorted((db.parent / "backups").iterdir())
    assert len(made) == 1 and made[0].name.startswith("q-") and made[0].suffix == ".db"
    assert out.startswith("Backed up ") and str(made[0]) in out
    assert count(made[0], "mentions") == 300

    dest = tmp_path / "copy.db"
    assert main(["--db", str(db), "backup", str(dest)]) == 0
    assert str(dest) in capsys.readouterr().out
    assert count(dest, "mentions") == 300


def test_backup_never_overwrites_and_needs_a_database(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "taken.db"
    dest.write_bytes(b"keep me")
    assert main(["backup", str(dest), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("comptoir: error:") and "exists already" in err
    assert dest.read_bytes() == b"keep me"

    missing = tmp_path / "nope.db"
    assert main(["backup", "--db", str(missing)]) == 2
    assert "no such file" in capsys.readouterr().err
    assert not missing.exists()


# --- restore --------------------------------------------------------------------------------------
def test_restore_brings_back_the_backup_and_keeps_the_replaced_file(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "saved.db"
    assert main(["backup", str(saved), "--db", str(db)]) == 0
    cid, *_ = busiest_customer(db)
    assert main(["erase-customer", f"#{cid}", "--db", str(db)]) == 0
    assert count(db, "mentions") < 300
    capsys.readouterr()

    assert main(["restore", str(saved), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert count(db, "mentions") == 300
    kept = [p for p in db.parent.iterdir() if ".before-restore-" in p.name]
    assert len(kept) == 1 and str(kept[0]) in out
    assert count(kept[0], "mentions") < 300


def test_restore_refuses_a_file_that_is_not_a_backup(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database\n" * 100)
    before = db.read_bytes()
    assert main(["restore", str(junk), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("comptoir: error:") and err.count("\n") == 1 and str(junk) in err
    assert db.read_bytes() == before


# --- erase-customer -------------------------------------------------------------------------------
def test_erase_customer_by_handle_says_what_was_removed(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cid, channel, handle, mentions = busiest_customer(db)
    assert main(["erase-customer", f"{channel}:{handle}", "--db", str(db)]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith(f"Erased customer #{cid}: {mentions} mentions, ")
    assert "identities" in captured.out and "VACUUM" in captured.out
    assert captured.err == ""
    assert count(db, "mentions") == 300 - mentions
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT 1 FROM customers WHERE id = ?", (cid,)).fetchone() is None
        # One audit event, with counts and no personal data.
        (detail,) = conn.execute("SELECT detail FROM events WHERE action = 'erase'").fetchone()
    finally:
        conn.close()
    assert f"customer #{cid}" in detail and handle not in detail

    # Gone: a second erasure finds nobody.
    assert main(["erase-customer", f"#{cid}", "--db", str(db)]) == 2
    assert "no customer" in capsys.readouterr().err


def test_erase_warns_when_the_wal_could_not_be_emptied(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cid, *_ = busiest_customer(db)
    reader = sqlite3.connect(db, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM mentions").fetchone()  # holds a read snapshot
        assert main(["erase-customer", f"#{cid}", "--db", str(db)]) == 0
        captured = capsys.readouterr()
    finally:
        reader.close()
    assert captured.out.startswith(f"Erased customer #{cid}:")
    assert captured.err.startswith("comptoir: warning:") and captured.err.count("\n") == 1
    assert "write-ahead log" in captured.err and "erased text" in captured.err


def test_unknown_customer(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["erase-customer", "x:@nobody-at-all", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("comptoir: error:") and err.count("\n") == 1
    assert count(db, "mentions") == 300


# --- damaged database -----------------------------------------------------------------------------
def damage(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[3 * 4096 : 40 * 4096] = b"\xa5" * (37 * 4096)
    path.write_bytes(bytes(data))


def test_a_damaged_database_names_the_latest_backup(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["backup", "--db", str(db)]) == 0
    (latest,) = (db.parent / "backups").iterdir()
    damage(db)
    capsys.readouterr()
    assert main(["stats", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("comptoir: error:") and err.count("\n") == 1
    assert "damaged" in err and str(latest) in err
    assert f"restore {latest}" in err

    assert main(["restore", str(latest), "--db", str(db)]) == 0
    assert main(["stats", "--json", "--db", str(db)]) == 0
    assert '"total": 300' in capsys.readouterr().out


def test_a_damaged_database_without_backup_says_so(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damage(db)
    assert main(["stats", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "damaged" in err and "no backup was found" in err


def test_a_foreign_sqlite_file_is_not_called_damaged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()
    assert main(["stats", "--db", str(other)]) == 2
    err = capsys.readouterr().err
    assert "not a Comptoir one" in err and "damaged" not in err


# --- crash handler --------------------------------------------------------------------------------
def test_commands_leave_no_log_file_and_restore_the_hooks(
    db: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hook, thread_hook = sys.excepthook, threading.excepthook
    assert main(["stats", "--db", str(db)]) == 0
    assert sys.excepthook is hook and threading.excepthook is thread_hook
    assert not (home / "logs").exists()


def test_a_crash_is_logged_without_secrets_and_reported_in_one_line(
    db: Path, home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def boom(*_args: object) -> int:
        password = "hunter2-very-secret"  # noqa: F841  (a local a Rich traceback would show)
        raise RuntimeError("the server said no, token=abcdef123456")

    monkeypatch.setattr(cli, "run_stats", boom)
    with pytest.raises(RuntimeError) as raised:
        main(["stats", "--db", str(db)])
    # The interpreter hands an exception escaping main to sys.excepthook: ours is installed.
    assert sys.excepthook is crash._excepthook
    sys.excepthook(RuntimeError, raised.value, raised.value.__traceback__)
    err = capsys.readouterr().err
    log = home / "logs" / LOG_FILENAME
    assert err.startswith("comptoir: unexpected error (RuntimeError:") and str(log) in err
    assert err.count("\n") == 1 and "abcdef123456" not in err
    text = log.read_text()
    assert "Traceback" in text and "RuntimeError" in text
    assert "abcdef123456" not in text and "hunter2-very-secret" not in text
