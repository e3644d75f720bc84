"""`comptoir export`: mentions, replies or SLA outcomes as CSV or JSON Lines, streamed.

Formats (the README's "Export" section lists the columns):
- Times are ISO 8601 in UTC (`2026-11-26T09:00:00Z`); empty (CSV) or null (JSONL) when unset.
- Text is the stored text, unchanged. CSV follows RFC 4180 (fields with a comma, quote, CR or
  LF are quoted, quotes doubled; rows end with CRLF). JSONL is one JSON object per line, UTF-8,
  with U+2028, U+2029 and U+0085 escaped as well, so no reader splits a record.
- Spreadsheet formula injection: in CSV, a text cell that starts with `=`, `+`, `-`, `@`, tab, CR
  or `'` gets one extra `'` in front, so a spreadsheet shows it as text instead of running it.
  To get the stored text back, drop one leading `'` from any text cell that starts with `'`.
  Numbers are never prefixed; JSONL is never changed.
- Mention tags: a `|`-separated list in CSV (a tag never contains `|`), a JSON array in JSONL.
"""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Any, Final, Protocol

from db.export import ExportKind

FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r", "'")
_JSON_LINE_BREAKS: Final = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"}


class TextSink(Protocol):
    def write(self, text: str, /) -> int: ...


def iso_utc(instant: int | None) -> str | None:
    if instant is None:
        return None
    return datetime.fromtimestamp(instant, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def safe_cell(value: str) -> str:
    """A CSV text cell a spreadsheet will not read as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _values(kind: ExportKind, row: tuple[Any, ...]) -> list[Any]:
    return [iso_utc(v) if name in kind.times else v
            for name, v in zip(kind.columns, row, strict=True)]


def csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        value = "|".join(value)
    if isinstance(value, str):
        return safe_cell(value)
    return value


def json_line(kind: ExportKind, row: tuple[Any, ...]) -> str:
    text = json.dumps(dict(zip(kind.columns, _values(kind, row), strict=True)),
                      ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in _JSON_LINE_BREAKS.items():
        text = text.replace(raw, escaped)
    return text + "\n"


class _Lines:
    """csv.writer's file: hands each formatted row to the sink as it comes."""

    def __init__(self, sink: TextSink) -> None:
        self.sink = sink

    def write(self, text: str) -> int:
        return self.sink.write(text)


async def write_export(kind: ExportKind, fmt: str,
                       chunks: AsyncIterator[Iterable[tuple[Any, ...]]], sink: TextSink) -> int:
    """Write the header (CSV) and every row; returns the number of rows."""
    count = 0
    if fmt == "csv":
        writer = csv.writer(_Lines(sink), lineterminator="\r\n")
        writer.writerow(kind.columns)
        async for chunk in chunks:
            for row in chunk:
                writer.writerow([csv_cell(v) for v in _values(kind, row)])
                count += 1
        return count
    async for chunk in chunks:
        for row in chunk:
            sink.write(json_line(kind, row))
            count += 1
    return count
