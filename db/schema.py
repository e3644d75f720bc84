"""Schema and migrations, keyed by `PRAGMA user_version`.

Each step is a SQL script applied in one `BEGIN IMMEDIATE` transaction together with the bump of
`user_version`, so a crash mid-migration leaves the previous version intact. Steps are frozen once
released: a change to the schema is a new step appended to MIGRATIONS, never an edit of an old one
(databases in the wild were built by the old text).

Derived data is kept by the database itself rather than by Python code, so that every writer
(including a future one, or a hand-run SQL fix) keeps it right:
- `lane` and `sort_due` are STORED generated columns of mentions: the queue indexes can never
  disagree with the status they are derived from.
- `counters` (mentions by status and channel) is kept by triggers, so the UI never counts rows.
- `mentions_fts` (external content) is kept by triggers that fire only when the indexed columns
  change, so status changes do not rewrite the full-text index.
- `mention_tags` rows carry a copy of (lane, sort_due), kept by a trigger, so a tag filter walks
  one index in queue order.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Final

from db.models import NO_DUE

# 'Cmpt': lets us tell our files from any other SQLite database before touching them.
APPLICATION_ID: Final = 0x436D7074

# Lanes group statuses so the default queue (new + open) is one contiguous index range.
LANE_ACTIVE: Final = 0
LANE_PENDING: Final = 1
LANE_SNOOZED: Final = 2
LANE_RESOLVED: Final = 3
LANES: Final = {
    "new": LANE_ACTIVE,
    "open": LANE_ACTIVE,
    "pending": LANE_PENDING,
    "snoozed": LANE_SNOOZED,
    "resolved": LANE_RESOLVED,
}


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    sql: str


_V1_CORE = f"""
PRAGMA application_id = {APPLICATION_ID};

CREATE TABLE channels (
    name  TEXT PRIMARY KEY,
    label TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO channels (name, label) VALUES ('x', 'X'), ('mastodon', 'Mastodon'),
    ('bluesky', 'Bluesky');

-- Secrets (tokens, passwords) live in the OS keyring, never here.
CREATE TABLE accounts (
    id           INTEGER PRIMARY KEY,
    channel      TEXT NOT NULL REFERENCES channels(name),
    name         TEXT NOT NULL UNIQUE,
    handle       TEXT NOT NULL,
    instance_url TEXT,
    sync_cursor  TEXT,
    created_at   INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE customers (
    id           INTEGER PRIMARY KEY,
    display_name TEXT NOT NULL,
    first_name   TEXT NOT NULL,
    audience     INTEGER NOT NULL DEFAULT 0,
    tags         TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL
);

CREATE TABLE identities (
    id             INTEGER PRIMARY KEY,
    customer_id    INTEGER NOT NULL REFERENCES customers(id),
    channel        TEXT NOT NULL,
    handle         TEXT NOT NULL,
    display_name   TEXT NOT NULL,
    audience       INTEGER NOT NULL DEFAULT 0,
    remote_user_id TEXT,
    UNIQUE (channel, handle)
);
CREATE INDEX identities_customer ON identities (customer_id);

-- AUTOINCREMENT: a deleted mention's id is never reused, so the event log stays unambiguous.
CREATE TABLE mentions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    channel         TEXT NOT NULL,
    remote_id       TEXT NOT NULL,
    thread_id       TEXT NOT NULL,
    in_reply_to     TEXT,
    customer_id     INTEGER NOT NULL REFERENCES customers(id),
    identity_id     INTEGER NOT NULL REFERENCES identities(id),
    author_handle   TEXT NOT NULL,
    author_name     TEXT NOT NULL,
    text            TEXT NOT NULL,
    lang            TEXT,
    created_at      INTEGER NOT NULL,
    received_at     INTEGER NOT NULL,
    status          TEXT NOT NULL DEFAULT 'new'
                    CHECK (status IN ('new', 'open', 'pending', 'snoozed', 'resolved')),
    priority        INTEGER NOT NULL DEFAULT 0,
    assignee        TEXT,
    tags            TEXT NOT NULL DEFAULT '',  -- '|a|b|' (or ''): instr() filter, cheap tuple
    first_reply_due INTEGER,
    replied_at      INTEGER,
    snoozed_until   INTEGER,
    resolved_at     INTEGER,
    lane            INTEGER GENERATED ALWAYS AS (
                        CASE status WHEN 'new' THEN {LANE_ACTIVE} WHEN 'open' THEN {LANE_ACTIVE}
                        WHEN 'pending' THEN {LANE_PENDING} WHEN 'snoozed' THEN {LANE_SNOOZED}
                        ELSE {LANE_RESOLVED} END) STORED,
    sort_due        INTEGER GENERATED ALWAYS AS (
                        CASE WHEN status IN ('new', 'open') AND replied_at IS NULL
                        THEN coalesce(first_reply_due, {NO_DUE}) ELSE {NO_DUE} END) STORED,
    UNIQUE (channel, remote_id)
);
-- Queue order is (sort_due, id); id is the rowid, which every index ends with implicitly. SQLite
-- cannot seek a row value that ends in the rowid, so keyset queries split "(due, id) > (d, i)"
-- into "due = d AND id > i" plus "due > d" (see db/queries.py).
CREATE INDEX mentions_queue ON mentions (lane, sort_due);
CREATE INDEX mentions_channel_queue ON mentions (channel, lane, sort_due);
CREATE INDEX mentions_all ON mentions (sort_due);
CREATE INDEX mentions_assignee_queue ON mentions (assignee, lane, sort_due)
    WHERE assignee IS NOT NULL;
CREATE INDEX mentions_customer ON mentions (customer_id, created_at);
CREATE INDEX mentions_thread ON mentions (channel, thread_id);
CREATE INDEX mentions_snoozed ON mentions (snoozed_until) WHERE status = 'snoozed';

CREATE TABLE mention_tags (
    tag        TEXT NOT NULL,
    mention_id INTEGER NOT NULL REFERENCES mentions(id) ON DELETE CASCADE,
    lane       INTEGER NOT NULL,
    sort_due   INTEGER NOT NULL,
    PRIMARY KEY (tag, lane, sort_due, mention_id)
) WITHOUT ROWID;
CREATE INDEX mention_tags_mention ON mention_tags (mention_id);

CREATE TRIGGER mention_tags_follow AFTER UPDATE OF status, replied_at, first_reply_due
ON mentions WHEN old.lane IS NOT new.lane OR old.sort_due IS NOT new.sort_due
BEGIN
    UPDATE mention_tags SET lane = new.lane, sort_due = new.sort_due WHERE mention_id = new.id;
END;

CREATE TABLE notes (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    mention_id  INTEGER REFERENCES mentions(id) ON DELETE SET NULL,
    author      TEXT NOT NULL,
    text        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX notes_customer ON notes (customer_id, created_at);
CREATE INDEX notes_mention ON notes (mention_id);

CREATE TABLE templates (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    lang TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (name, lang)
);

CREATE TABLE drafts (
    mention_id  INTEGER PRIMARY KEY REFERENCES mentions(id) ON DELETE CASCADE,
    text        TEXT NOT NULL,
    template_id INTEGER REFERENCES templates(id) ON DELETE SET NULL,
    updated_at  INTEGER NOT NULL
);

-- No cascade from mentions: a reply that may have been sent must never vanish silently.
-- customer_id is a copy of the mention's, so customer history is two index range scans.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    mention_id      INTEGER NOT NULL REFERENCES mentions(id),
    customer_id     INTEGER NOT NULL,
    channel         TEXT NOT NULL,
    text            TEXT NOT NULL,
    state           TEXT NOT NULL
                    CHECK (state IN ('draft', 'queued', 'sending', 'sent', 'failed', 'unknown')),
    author          TEXT NOT NULL,
    remote_id       TEXT,
    error           TEXT,
    idempotency_key TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
-- A named index rather than a column constraint, so that bulk_load can drop and rebuild it.
CREATE UNIQUE INDEX outbox_idempotency ON outbox (idempotency_key);
CREATE INDEX outbox_mention ON outbox (mention_id);
CREATE INDEX outbox_customer ON outbox (customer_id, created_at);
-- Only rows still in flight: the sender's poll stays tiny however many replies were ever sent.
CREATE INDEX outbox_pending ON outbox (state, id) WHERE state NOT IN ('sent', 'draft');

-- No foreign key: the log outlives what it talks about.
CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    mention_id INTEGER,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT '',
    at         INTEGER NOT NULL
);
CREATE INDEX events_mention ON events (mention_id, id);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
"""

_V2_COUNTERS = """
CREATE TABLE counters (
    status  TEXT NOT NULL,
    channel TEXT NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (status, channel)
) WITHOUT ROWID;

INSERT INTO counters (status, channel, n)
    SELECT status, channel, count(*) FROM mentions GROUP BY status, channel;

CREATE TRIGGER counters_insert AFTER INSERT ON mentions
BEGIN
    INSERT INTO counters (status, channel, n) VALUES (new.status, new.channel, 1)
        ON CONFLICT (status, channel) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER counters_delete AFTER DELETE ON mentions
BEGIN
    UPDATE counters SET n = n - 1 WHERE status = old.status AND channel = old.channel;
END;
CREATE TRIGGER counters_update AFTER UPDATE OF status, channel ON mentions
WHEN old.status IS NOT new.status OR old.channel IS NOT new.channel
BEGIN
    UPDATE counters SET n = n - 1 WHERE status = old.status AND channel = old.channel;
    INSERT INTO counters (status, channel, n) VALUES (new.status, new.channel, 1)
        ON CONFLICT (status, channel) DO UPDATE SET n = n + 1;
END;
"""

# remove_diacritics 2 also folds letters whose accent is a separate code point, so "réponse",
# "reponse" and "RÉPONSE" all index as "reponse".
_V3_FTS = """
CREATE VIRTUAL TABLE mentions_fts USING fts5 (
    text, author_handle, author_name,
    content = 'mentions', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO mentions_fts (mentions_fts) VALUES ('rebuild');

CREATE TRIGGER mentions_fts_insert AFTER INSERT ON mentions
BEGIN
    INSERT INTO mentions_fts (rowid, text, author_handle, author_name)
        VALUES (new.id, new.text, new.author_handle, new.author_name);
END;
CREATE TRIGGER mentions_fts_delete AFTER DELETE ON mentions
BEGIN
    INSERT INTO mentions_fts (mentions_fts, rowid, text, author_handle, author_name)
        VALUES ('delete', old.id, old.text, old.author_handle, old.author_name);
END;
CREATE TRIGGER mentions_fts_update AFTER UPDATE OF text, author_handle, author_name ON mentions
BEGIN
    INSERT INTO mentions_fts (mentions_fts, rowid, text, author_handle, author_name)
        VALUES ('delete', old.id, old.text, old.author_handle, old.author_name);
    INSERT INTO mentions_fts (rowid, text, author_handle, author_name)
        VALUES (new.id, new.text, new.author_handle, new.author_name);
END;
"""

# Mentions past their first-reply due, counted from an index alone: an index on the generated
# columns (lane, sort_due) is never "covering" for SQLite (a generated column counts as using every
# column it may depend on), so counting on mentions_queue read every counted row from the table.
# The predicate spells out "lane 0 and sort_due < now" with plain columns (sort_due of an awaited
# row is its first_reply_due, and NO_DUE is never in the past); status and replied_at are index
# columns only so that the count needs nothing else. Small: awaited mentions only.
_V4_BREACH_INDEX = """
CREATE INDEX mentions_awaiting ON mentions (first_reply_due, status, replied_at)
    WHERE status IN ('new', 'open') AND replied_at IS NULL;
"""

# The record key (Bluesky rkey) is chosen and stored before the first send attempt, so a retry after
# a crash asks the channel for that exact record instead of guessing. remote_url is the public link
# of a sent reply. The quarantine keeps fetched items that could not be parsed, with the error, so a
# bad item never stops the rest of its batch and is never silently lost.
_V5_SYNC_SAFETY = """
ALTER TABLE outbox ADD COLUMN remote_key TEXT;
ALTER TABLE outbox ADD COLUMN remote_url TEXT;

CREATE TABLE quarantine (
    id        INTEGER PRIMARY KEY,
    account   TEXT NOT NULL,
    channel   TEXT NOT NULL,
    remote_id TEXT,
    error     TEXT NOT NULL,
    payload   TEXT NOT NULL,
    at        INTEGER NOT NULL
);
CREATE INDEX quarantine_at ON quarantine (at);
"""

# Per-mention SLA outcomes, one row per target that applied, kept for reports after the mention is
# resolved (the queue columns only hold what is still running). met = completed_at IS NOT NULL AND
# breached_at IS NULL; breached_at is the missed due instant.
_V6_SLA_OUTCOMES = """
ALTER TABLE mentions ADD COLUMN sla_policy TEXT;

CREATE TABLE sla_outcomes (
    mention_id   INTEGER NOT NULL,
    target       TEXT NOT NULL CHECK (target IN ('first_reply', 'next_reply', 'resolution')),
    policy       TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    due_at       INTEGER,
    completed_at INTEGER,
    breached_at  INTEGER,
    PRIMARY KEY (mention_id, target)
) WITHOUT ROWID;
CREATE INDEX sla_outcomes_policy ON sla_outcomes (policy, target, started_at);
"""

MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(1, "core tables, queue indexes, append-only events", _V1_CORE),
    Migration(2, "counters by status and channel, kept by triggers", _V2_COUNTERS),
    Migration(3, "full-text search over mention text and authors", _V3_FTS),
    Migration(4, "covering index for the count of breached mentions", _V4_BREACH_INDEX),
    Migration(5, "outbox record key and remote link, quarantine for bad payloads",
              _V5_SYNC_SAFETY),
    Migration(6, "SLA policy per mention and per-target outcomes", _V6_SLA_OUTCOMES),
)

LATEST_VERSION: Final = MIGRATIONS[-1].version

# Triggers that bulk_load may drop while it loads, because it rebuilds what they maintain.
BULK_TRIGGERS: Final = ("counters_insert", "mentions_fts_insert")


def statements(script: str) -> list[str]:
    """Split a script into single statements (trigger bodies contain ';', so not str.split).

    Migrations run statement by statement because `executescript` would commit the enclosing
    transaction and break the one-transaction-per-step rule.
    """
    out: list[str] = []
    current: list[str] = []
    for line in script.splitlines(keepends=True):
        current.append(line)
        candidate = "".join(current)
        if sqlite3.complete_statement(candidate):
            stripped = _strip_comments(candidate)
            if stripped:
                out.append(candidate.strip())
            current = []
    if _strip_comments("".join(current)):
        raise ValueError("migration script ends with an incomplete statement")
    return out


def _strip_comments(sql: str) -> str:
    lines = [line.split("--", 1)[0] for line in sql.splitlines()]
    return "".join(lines).strip().strip(";").strip()


def pending(current: int) -> list[Migration]:
    return [m for m in MIGRATIONS if m.version > current]
