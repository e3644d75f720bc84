"""console/stats.py days and dates, `comptoir stats` reports, `comptoir export` round trips."""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from console.cli import main
from console.export import safe_cell
from console.stats import day_boundaries, duration, parse_date
from db.models import NewMention, OutboxState
from db.store import Store
from tests.hostile import HOSTILE_INPUTS

NOW = 1_795_683_600  # 2026-11-26 09:00:00 UTC
PARIS = ZoneInfo("Europe/Paris")
# Passed as --until so no test depends on the machine's clock (the CLI reads the real one).
UNTIL = "2027-01-01"


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COMPTOIR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TZ", "UTC")
    return tmp_path / "home"


# --- days and dates ------------------------------------------------------------------------------
def test_days_follow_local_midnights_across_dst() -> None:
    since = parse_date("2026-03-28", PARIS)  # Paris springs forward on 2026-03-29
    until = parse_date("2026-03-31", PARIS)
    edges = day_boundaries(since, until, PARIS)
    assert [b - a for a, b in itertools.pairwise(edges)] == [86400, 82800, 86400]
    kathmandu = ZoneInfo("Asia/Kathmandu")  # +05:45
    edges = day_boundaries(parse_date("2026-11-26T12:00", kathmandu),
                           parse_date("2026-11-27T12:00", kathmandu), kathmandu)
    assert edges[1] == parse_date("2026-11-27", kathmandu)
    assert (edges[1] + 5 * 3600 + 45 * 60) % 86400 == 0


def test_dates_parse_or_fail_with_one_line() -> None:
    assert parse_date("2026-11-26", ZoneInfo("UTC")) == NOW - 9 * 3600
    assert parse_date("2026-11-26T10:00+01:00", PARIS) == NOW
    assert parse_date("2026-11-26T09:00Z", PARIS) == NOW
    assert parse_date("2026-11-26T10:00", PARIS) == NOW  # naive: in the given zone
    for bad in ("yesterday", "2026-13-01", "26/11/2026", "\x1b[2J"):
        with pytest.raises(ValueError) as error:
            parse_date(bad, PARIS)
        assert "\n" not in str(error.value) and "\x1b" not in str(error.value)


def test_durations_read_well() -> None:
    assert [duration(s) for s in (None, 42, 725, 3 * 3600 + 420, 2 * 86400 + 4 * 3600)] == [
        "-", "42s", "12m05s", "3h07m", "2d04h"]


# --- a small database ----------------------------------------------------------------------------
def mention(i: int, text: str, created: int, **kw: object) -> NewMention:
    return NewMention(channel="x", remote_id=f"r{i}", author_handle="@jean",
                      author_name="Jean", text=text, created_at=created, **kw)  # type: ignore[arg-type]


async def build(path: Path, texts: list[str], *, start: int = NOW - 10 * 3600) -> None:
    store = await Store.open(path)
    try:
        await store.ingest([mention(i, t, start + i * 60) for i, t in enumerate(texts)],
                           now=NOW - 3600, first_reply_sla=3600)
        item = await store.queue_reply(1, texts[-1], author="camille", now=start + 3600)
        await store.set_outbox_state(item.id, OutboxState.SENDING, now=start + 3600)
        await store.set_outbox_state(item.id, OutboxState.SENT, now=start + 3601,
                                     error=None, remote_id="42")
    finally:
        await store.close()


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


# --- comptoir stats ------------------------------------------------------------------------------
def test_stats_json_keeps_old_keys_and_adds_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.db"
    asyncio.run(build(db, ["a", "b", "c"]))
    code, out, _ = run(["stats", "--db", str(db), "--json", "--until", UNTIL], capsys)
    assert code == 0
    data = json.loads(out)
    assert {"total", "by_status", "by_channel", "sla"} <= set(data)
    assert {"period", "volume", "first_response", "sla_achievement", "backlog",
            "agents"} <= set(data)
    assert data["total"] == 3 and data["volume"]["total"] == 3
    assert data["first_response"]["answered"] == 1
    assert data["agents"] == [{"agent": "camille", "replies": 1,
                               "median_response_seconds": 3600, "resolved": 0}]
    assert set(data["backlog"]) == {"total", "under_30m", "under_1h", "under_4h", "under_24h",
                                    "older"}


def test_stats_since_filters_and_text_shows_every_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.db"
    asyncio.run(build(db, ["a", "b", "c"], start=NOW - 3 * 86400))
    code, out, _ = run(["stats", "--db", str(db), "--json", "--since", "2026-11-25"], capsys)
    assert code == 0 and json.loads(out)["volume"]["total"] == 0
    code, out, _ = run(["stats", "--db", str(db), "--json", "--since", "2026-11-23",
                        "--until", "2026-11-24"], capsys)
    assert json.loads(out)["volume"]["total"] == 3
    code, out, _ = run(["stats", "--db", str(db), "--tz", "Europe/Paris", "--until", UNTIL], capsys)
    assert code == 0
    for heading in ("3 mentions", "SLA", "Volume", "First response", "Backlog now", "Agents",
                    "camille"):
        assert heading in out


@pytest.mark.parametrize("argv", [["--since", "soon"], ["--until", "2026-02-30"],
                                  ["--since", "2026-11-26", "--until", "2026-11-01"],
                                  ["--tz", "Mars/Olympus"]])
def test_stats_bad_dates_are_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    db = tmp_path / "s.db"
    asyncio.run(build(db, ["a", "b"]))
    code, out, err = run(["stats", "--db", str(db), *argv], capsys)
    assert code == 2 and out == ""
    assert err.startswith("comptoir: error:") and err.count("\n") == 1


# --- comptoir export -----------------------------------------------------------------------------
HOSTILE = [text for _name, text in HOSTILE_INPUTS] + [
    "=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2", "@SUM(A1)", "'quoted",
    "a,b;c\"d\"\ne\r\nf", "\u2028line\u2029sep\x85nel", "emoji 🎉 é"]


def _stored(db: Path, column: str, table: str) -> list[str]:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        return [r[0] for r in conn.execute(f"SELECT {column} FROM {table} ORDER BY id")]
    finally:
        conn.close()


def test_csv_round_trip_of_hostile_text(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "h.db"
    asyncio.run(build(db, HOSTILE))
    code, out, _ = run(["export", "--db", str(db), "--format", "csv", "--until", UNTIL], capsys)
    assert code == 0
    limit = csv.field_size_limit(1 << 24)  # HOSTILE_INPUTS holds a 200,000-character post
    try:
        rows = list(csv.reader(io.StringIO(out, newline="")))
    finally:
        csv.field_size_limit(limit)
    header, body = rows[0], rows[1:]
    assert header[:3] == ["id", "channel", "remote_id"] and "text" in header
    texts = [row[header.index("text")] for row in body]
    # Formula-looking cells got one "'" more; dropping it gives the stored text back.
    for cell in texts:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    back = [t[1:] if t.startswith("'") else t for t in texts]
    assert back == _stored(db, "text", "mentions")
    assert body[0][header.index("created_at")].endswith("Z")


def test_jsonl_round_trip_and_one_record_per_line(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "h.db"
    asyncio.run(build(db, HOSTILE))
    code, out, _ = run(["export", "--db", str(db), "--format", "jsonl", "--until", UNTIL],
                         capsys)
    assert code == 0
    lines = out.splitlines()  # splits on U+2028 and NEL too: none may be raw in the output
    records = [json.loads(line) for line in lines]
    assert [r["text"] for r in records] == _stored(db, "text", "mentions")
    assert isinstance(records[0]["tags"], list)
    code, out, _ = run(["export", "--db", str(db), "--format", "jsonl", "--what", "replies",
                        "--until", UNTIL], capsys)
    (reply,) = [json.loads(line) for line in out.splitlines()]
    assert reply["text"] == HOSTILE[-1] and reply["state"] == "sent"
    assert not {"idempotency_key", "error", "remote_key"} & set(reply)


def test_export_since_filters_and_output_file(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "s.db"
    asyncio.run(build(db, ["a", "b", "c", "d"], start=NOW - 86400 - 90))  # b, c, d after 90 s
    since = "2026-11-25T09:00:00Z"
    target = tmp_path / "out.csv"
    code, out, err = run(["export", "--db", str(db), "--format", "csv", "--since", since,
                          "--until", UNTIL, "--output", str(target)], capsys)
    assert code == 0 and out == "" and "Exported 2 mentions" in err
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"), newline="")))
    assert [r["text"] for r in rows] == ["c", "d"]
    assert target.stat().st_mode & 0o077 == 0
    code, out, _ = run(["export", "--db", str(db), "--format", "csv", "--what", "sla",
                        "--since", since, "--until", UNTIL], capsys)
    assert code == 0 and out.startswith("mention_id,target,policy,started_at")


def test_export_streams_in_chunks(tmp_path: Path) -> None:
    from db.export import MENTIONS, chunks

    async def go() -> list[int]:
        path = tmp_path / "c.db"
        await build(path, [f"t{i}" for i in range(7)])
        store = await Store.open(path)
        try:
            sizes = [len(c) async for c in chunks(store, MENTIONS, 0, 2**62, size=3)]
            ids = [r[0] async for c in chunks(store, MENTIONS, 0, 2**62, size=2) for r in c]
        finally:
            await store.close()
        assert ids == list(range(1, 8))
        return sizes

    assert asyncio.run(go()) == [3, 3, 1]


def test_export_of_an_empty_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "e.db"

    async def create() -> None:
        await (await Store.open(db)).close()

    asyncio.run(create())
    code, out, _ = run(["export", "--db", str(db), "--format", "csv", "--what", "replies"],
                       capsys)
    assert code == 0 and out.strip() == ("id,mention_id,channel,author,state,text,remote_id,"
                                         "remote_url,attempts,created_at,updated_at")
    code, out, _ = run(["export", "--db", str(db), "--format", "jsonl"], capsys)
    assert code == 0 and out == ""
    code, _, err = run(["export", "--db", str(db), "--format", "csv", "--since", "bad"], capsys)
    assert code == 2 and err.count("\n") == 1


def test_safe_cell_only_touches_formula_starts() -> None:
    assert safe_cell("=1+1") == "'=1+1"
    assert safe_cell("'x") == "''x"
    assert safe_cell("bonjour = oui") == "bonjour = oui"


def test_stats_text_prints_names_inertly(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "n.db"

    async def go() -> None:
        await build(db, ["a", "b"])
        store = await Store.open(db)
        try:
            for i, (_name, hostile) in enumerate(HOSTILE_INPUTS[:12]):
                at = NOW - 9 * 3600 + i  # before the real clock's "now" (the CLI's until)
                item = await store.queue_reply(2, "ok", author=hostile, now=at)
                await store.set_outbox_state(item.id, OutboxState.SENDING, now=at)
                await store.set_outbox_state(item.id, OutboxState.SENT, now=at)
        finally:
            await store.close()

    asyncio.run(go())
    code, out, _ = run(["stats", "--db", str(db), "--until", UNTIL], capsys)
    assert code == 0
    assert "\x1b" not in out and "\x9b" not in out and "\x07" not in out
    code, out, _ = run(["stats", "--db", str(db), "--json", "--until", UNTIL], capsys)
    agents = {a["agent"] for a in json.loads(out)["agents"]}
    assert {text for _name, text in HOSTILE_INPUTS[:12]} <= agents  # JSON keeps the data
