"""SQL text and row mapping shared by the Store (no I/O here, so it is testable on its own)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from db.errors import StoreError
from db.models import (
    Customer,
    Draft,
    Event,
    Identity,
    Mention,
    Note,
    OutboxItem,
    OutboxState,
    QueueFilter,
    QueueKey,
    QueueRow,
    Status,
    Template,
)
from db.schema import LANES
from db.triage import TRIAGE_LANES, reasons_tuple

EXCERPT_CHARS = 160

MENTION_COLS = (
    "id, channel, remote_id, thread_id, in_reply_to, customer_id, identity_id, author_handle, "
    "author_name, text, lang, created_at, received_at, status, priority, assignee, tags, "
    "first_reply_due, replied_at, snoozed_until, resolved_at, triage_reasons, triage_lane"
)
OUTBOX_COLS = (
    "id, mention_id, channel, text, state, author, remote_id, error, idempotency_key, attempts, "
    "created_at, updated_at, remote_key, remote_url"
)
CUSTOMER_COLS = "id, display_name, first_name, audience, tags, created_at"
IDENTITY_COLS = "id, customer_id, channel, handle, display_name, audience, remote_user_id"
NOTE_COLS = "id, customer_id, mention_id, author, text, created_at"
EVENT_COLS = "id, mention_id, actor, action, detail, at"
TEMPLATE_COLS = "id, name, lang, body"
DRAFT_COLS = "mention_id, text, template_id, updated_at"

# Positions (1-based) of sort_due and id in the queue select list: compound ORDER BY uses them.
_DUE_POS = 10
_ID_POS = 1

Row = Sequence[Any]


# --- tags --------------------------------------------------------------------------------------
def normalise_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """Trimmed, non-empty, first occurrence kept; '|' is the storage separator so it is dropped."""
    out: list[str] = []
    for tag in tags:
        clean = tag.replace("|", "").strip()
        if clean and clean not in out:
            out.append(clean)
    return tuple(out)


def tags_text(tags: Sequence[str]) -> str:
    # '|a|b|' lets instr(tags, '|a|') match whole tags only; '' when there are none.
    return f"|{'|'.join(tags)}|" if tags else ""


def tags_tuple(text: str) -> tuple[str, ...]:
    return tuple(text[1:-1].split("|")) if text else ()


# "lane = 0 AND sort_due < ?" with plain columns, so that mentions_awaiting covers it.
BREACHED_COUNT_SQL = (
    "SELECT count(*) FROM mentions WHERE status IN ('new', 'open') AND replied_at IS NULL "
    "AND first_reply_due < ?"
)


# --- full-text search ----------------------------------------------------------------------------
_WORD = re.compile(r"\w+")


def fts_query(text: str) -> str | None:
    """The user's words as quoted prefix terms ANDed together: no FTS5 syntax can leak through,
    so a stray quote or a bare `NOT` never raises. None when there is no word to search for."""
    words = _WORD.findall(text)
    if not words:
        return None
    return " ".join(f'"{w.replace(chr(34), chr(34) * 2)}"*' for w in words)


# --- queue window ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class QueueSql:
    """One keyset query: run `sql` with `params`; reverse the rows when `descending`."""

    sql: str
    params: tuple[Any, ...]
    descending: bool


@dataclass(frozen=True, slots=True)
class _Source:
    table: str
    due: str
    ident: str
    where: tuple[str, ...]
    params: tuple[Any, ...]


def _queue_cols(due: str, ident: str) -> str:
    return (
        f"{ident}, m.channel, m.author_handle, m.author_name, substr(m.text, 1, {EXCERPT_CHARS}), "
        f"m.status, m.assignee, m.tags, m.first_reply_due, {due}, m.priority, m.created_at, "
        "m.customer_id"
    )


def _lane(status: str) -> tuple[int | None, str | None]:
    """(lane to seek, status to filter within the lane) for a filter's status."""
    if status == "all":
        return None, None
    if status == "active":
        return LANES["new"], None
    try:
        st = Status(status)
    except ValueError:
        raise StoreError(f"unknown status filter: {status!r}") from None
    shared = sum(1 for lane in LANES.values() if lane == LANES[st]) > 1
    return LANES[st], (st.value if shared else None)


# A search matching more rows than this walks the queue index in order and keeps the rows found in
# the full-text matches (a common word fills a window after a few hundred rows); a rarer one
# fetches its matches by id and sorts them (cheap for a few thousand, but a common word matches
# tens of thousands of rows at a million mentions, where that plan takes tens of ms).
SEARCH_DENSE = 2000
SEARCH_COUNT_SQL = (
    "SELECT count(*) FROM (SELECT 1 FROM mentions_fts WHERE mentions_fts MATCH ? LIMIT ?)"
)


def _triage_lane(name: str) -> int | None:
    if name == "all":
        return None
    try:
        return TRIAGE_LANES[name]
    except KeyError:
        raise StoreError(f"unknown triage lane filter: {name!r}") from None


def _source(flt: QueueFilter, dense: bool = False) -> _Source:
    lane, status = _lane(flt.status)
    triage = _triage_lane(flt.triage)
    seek_triage = False
    where: list[str] = []
    params: list[Any] = []
    by_tag = flt.tag is not None and lane is not None
    if by_tag:
        table, due, ident = "mention_tags t JOIN mentions m ON m.id = t.mention_id", "t.sort_due", (
            "t.mention_id"
        )
        where += ["t.tag = ?", "t.lane = ?"]
        params += [flt.tag, lane]
    else:
        table, due, ident = "mentions m", "m.sort_due", "m.id"
        # The main queue and the spam lane of one status lane walk mentions_triage_queue
        # (triage_lane, lane, sort_due). With a channel, assignee or search the view keeps the
        # index it had, and triage_lane is only checked on the rows walked ('+': not an index).
        seek_triage = (triage is not None and lane is not None and flt.channel is None
                       and flt.assignee is None and not flt.search)
        if seek_triage:
            where.append("m.triage_lane = ?")
            params.append(triage)
        if lane is not None:
            where.append("m.lane = ?")
            params.append(lane)
    # A unary '+' keeps the planner off an index that would lose the queue order (it would
    # then sort every matching row): only the index driving the order may be used to seek.
    plain = lane is not None and not by_tag
    if status is not None:
        where.append("m.status = ?")
        params.append(status)
    if flt.channel is not None:
        where.append("m.channel = ?" if plain else "+m.channel = ?")
        params.append(flt.channel)
    if flt.assignee is not None:
        where.append("m.assignee = ?" if plain else "+m.assignee = ?")
        params.append(flt.assignee)
    if flt.tag is not None and not by_tag:
        where.append("instr(m.tags, ?) > 0")
        params.append(tags_text([flt.tag]))
    if triage is not None and not seek_triage:
        where.append("+m.triage_lane = ?")
        params.append(triage)
    if flt.search:
        query = fts_query(flt.search)
        if query is not None:
            # '+': not a rowid lookup per match, so the queue index drives the order.
            where.append(
                f"{'+' if dense else ''}m.id IN "
                "(SELECT rowid FROM mentions_fts WHERE mentions_fts MATCH ?)"
            )
            params.append(query)
    return _Source(table, due, ident, tuple(where), tuple(params))


def _select(src: _Source, extra: Sequence[str]) -> str:
    conds = [*src.where, *extra]
    where = f" WHERE {' AND '.join(conds)}" if conds else ""
    return f"SELECT {_queue_cols(src.due, src.ident)} FROM {src.table}{where}"


def queue_sql(
    flt: QueueFilter, after: QueueKey | None, before: QueueKey | None, limit: int,
    *, dense_search: bool = False,
) -> QueueSql:
    """`dense_search`: the search matches more than SEARCH_DENSE rows (see there)."""
    if after is not None and before is not None:
        raise StoreError("queue_window takes `after` or `before`, not both")
    src = _source(flt, dense_search)
    if after is None and before is None:
        sql = f"{_select(src, ())} ORDER BY {src.due}, {src.ident} LIMIT ?"
        return QueueSql(sql, (*src.params, limit), descending=False)
    key = after if after is not None else before
    assert key is not None
    forward = after is not None
    cmp, order = (">", "") if forward else ("<", " DESC")
    # SQLite merges the two index-ordered arms (MERGE UNION ALL) without sorting anything.
    same_due = _select(src, (f"{src.due} = ?", f"{src.ident} {cmp} ?"))
    later_due = _select(src, (f"{src.due} {cmp} ?",))
    sql = (
        f"{same_due} UNION ALL {later_due} "
        f"ORDER BY {_DUE_POS}{order}, {_ID_POS}{order} LIMIT ?"
    )
    params = (*src.params, key.sort_due, key.id, *src.params, key.sort_due, limit)
    return QueueSql(sql, params, descending=not forward)


# --- row mapping ---------------------------------------------------------------------------------
def queue_row(r: Row) -> QueueRow:
    return QueueRow(
        id=r[0],
        channel=r[1],
        author_handle=r[2],
        author_name=r[3],
        excerpt=r[4],
        status=Status(r[5]),
        assignee=r[6],
        tags=tags_tuple(r[7]),
        first_reply_due=r[8],
        sort_due=r[9],
        priority=r[10],
        created_at=r[11],
        customer_id=r[12],
    )


def mention(r: Row) -> Mention:
    return Mention(
        *r[:13],
        status=Status(r[13]),
        priority=r[14],
        assignee=r[15],
        tags=tags_tuple(r[16]),
        first_reply_due=r[17],
        replied_at=r[18],
        snoozed_until=r[19],
        resolved_at=r[20],
        triage_reasons=reasons_tuple(r[21]),
        triage_lane=r[22],
    )


def outbox(r: Row) -> OutboxItem:
    return OutboxItem(*r[:4], OutboxState(r[4]), *r[5:])


def customer(r: Row) -> Customer:
    return Customer(r[0], r[1], r[2], r[3], tags_tuple(r[4]), r[5])


def identity(r: Row) -> Identity:
    return Identity(*r)


def note(r: Row) -> Note:
    return Note(*r)


def event(r: Row) -> Event:
    return Event(*r)


def template(r: Row) -> Template:
    return Template(*r)


def draft(r: Row) -> Draft:
    return Draft(*r)
