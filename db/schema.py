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
# Events stay append-only with one exception, for data-protection erasure: an event's detail may
# be replaced by the fixed text '(erased)' and nothing else about it may change (tag names and
# other agent-typed text in `detail` can be personal data; who did what, when, stays).
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
-- Counted per account for the status line and listed newest first: both served by this index.
CREATE INDEX quarantine_account ON quarantine (account, id);

DROP TRIGGER events_no_update;
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
WHEN NOT (new.detail IS '(erased)' AND new.id IS old.id AND new.mention_id IS old.mention_id
          AND new.actor IS old.actor AND new.action IS old.action AND new.at IS old.at)
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
-- INSERT OR REPLACE on an existing id deletes the old row without firing events_no_delete
-- (delete triggers of a REPLACE fire only under recursive_triggers): refuse such an insert.
CREATE TRIGGER events_no_replace BEFORE INSERT ON events
WHEN new.id IS NOT NULL AND EXISTS (SELECT 1 FROM events WHERE id = new.id)
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
"""

# Per-mention SLA outcomes, one row per target that applied, kept for reports after the mention is
# resolved (the queue columns only hold what is still running). met = completed_at IS NOT NULL AND
# breached_at IS NULL; breached_at is the missed due instant. paused_at: the clock is stopped
# since then (pending/snoozed/resolved); the business time left is the calendar's open time from
# paused_at to due_at, so resuming needs nothing more (db/sla.py). sla_outcomes_running holds the
# clocks still counting and not yet breached, so marking new breaches reads only those past due.
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
    paused_at    INTEGER,
    PRIMARY KEY (mention_id, target)
) WITHOUT ROWID;
CREATE INDEX sla_outcomes_running ON sla_outcomes (due_at)
    WHERE completed_at IS NULL AND breached_at IS NULL AND paused_at IS NULL;
"""

# Triage (console/triage.py scores, db/triage.py is the contract). triage_lane 0 is the main
# queue, 1 the spam/troll lane; triage_reasons holds the reasons shown to the agent, one a line.
# The default queue is "triage_lane = 0 AND lane = 0 ORDER BY sort_due": one index walk in queue
# order on mentions_triage_queue (which also serves the spam lane); the other views keep their
# indexes and test triage_lane on the rows they walk. triage_counters keeps the per-status count
# of the rows outside the main lane (few), so the main queue's "to do" is counters minus these,
# never a COUNT(*); the triggers fire only for rows outside the main lane.
_V7_TRIAGE = """
ALTER TABLE mentions ADD COLUMN triage_reasons TEXT NOT NULL DEFAULT '';
ALTER TABLE mentions ADD COLUMN triage_lane INTEGER NOT NULL DEFAULT 0;
CREATE INDEX mentions_triage_queue ON mentions (triage_lane, lane, sort_due);

CREATE TABLE triage_counters (
    triage_lane INTEGER NOT NULL,
    status      TEXT NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (triage_lane, status)
) WITHOUT ROWID;

CREATE TRIGGER triage_counters_insert AFTER INSERT ON mentions WHEN new.triage_lane != 0
BEGIN
    INSERT INTO triage_counters (triage_lane, status, n) VALUES (new.triage_lane, new.status, 1)
        ON CONFLICT (triage_lane, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER triage_counters_delete AFTER DELETE ON mentions WHEN old.triage_lane != 0
BEGIN
    UPDATE triage_counters SET n = n - 1
        WHERE triage_lane = old.triage_lane AND status = old.status;
END;
CREATE TRIGGER triage_counters_update AFTER UPDATE OF status, triage_lane ON mentions
WHEN (old.triage_lane != 0 OR new.triage_lane != 0)
    AND (old.status IS NOT new.status OR old.triage_lane IS NOT new.triage_lane)
BEGIN
    UPDATE triage_counters SET n = n - 1
        WHERE old.triage_lane != 0 AND triage_lane = old.triage_lane AND status = old.status;
    INSERT INTO triage_counters (triage_lane, status, n)
        SELECT new.triage_lane, new.status, 1 WHERE new.triage_lane != 0
        ON CONFLICT (triage_lane, status) DO UPDATE SET n = n + 1;
END;
"""

# Crisis mode and listening (console/crisis.py, console/listening.py).
# - topic_counts: mentions per topic (hashtag, keyword, cluster of near-identical texts) per
#   5-minute bucket, written at ingest for the new rows only, so spike detection reads a few
#   hundred small rows whatever the size of the queue. The covering index on (bucket, topic, n)
#   serves "which topics are busy in the window"; the primary key serves one topic's baseline.
# - topics: the label a topic was first seen with ("#PanneFibrelle" for '#pannefibrelle').
# - topic_mentions: which recent mentions carry a topic, for the crisis view (bounded reads).
#   All three are pruned past the detection horizon (a day), so they stay small.
# - pinned_notes: the crisis note every agent sees; unpinning keeps the row (who, when).
# - watch_results: listening hits (not queue items); promoting one records the mention it became.
_V8_CRISIS_LISTENING = """
CREATE TABLE topics (
    topic       TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('hashtag', 'keyword', 'cluster')),
    label       TEXT NOT NULL,
    last_bucket INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE topic_counts (
    topic  TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    n      INTEGER NOT NULL,
    PRIMARY KEY (topic, bucket)
) WITHOUT ROWID;
CREATE INDEX topic_counts_bucket ON topic_counts (bucket, topic, n);

CREATE TABLE topic_mentions (
    topic      TEXT NOT NULL,
    mention_id INTEGER NOT NULL,
    bucket     INTEGER NOT NULL,
    PRIMARY KEY (topic, mention_id)
) WITHOUT ROWID;
CREATE INDEX topic_mentions_bucket ON topic_mentions (bucket);

CREATE TABLE pinned_notes (
    id          INTEGER PRIMARY KEY,
    text        TEXT NOT NULL,
    author      TEXT NOT NULL,
    pinned_at   INTEGER NOT NULL,
    unpinned_at INTEGER,
    unpinned_by TEXT
);
CREATE INDEX pinned_notes_current ON pinned_notes (id) WHERE unpinned_at IS NULL;

CREATE TABLE watch_results (
    id                  INTEGER PRIMARY KEY,
    channel             TEXT NOT NULL,
    remote_id           TEXT NOT NULL,
    author_handle       TEXT NOT NULL,
    author_name         TEXT NOT NULL,
    text                TEXT NOT NULL,
    term                TEXT NOT NULL,
    lang                TEXT,
    author_audience     INTEGER NOT NULL DEFAULT 0,
    at                  INTEGER NOT NULL,
    received_at         INTEGER NOT NULL,
    promoted_mention_id INTEGER,
    UNIQUE (channel, remote_id)
);
CREATE INDEX watch_results_term ON watch_results (term, id);
"""

# Reports (db/stats.py) and exports (db/export.py), each answered from an index alone:
# - mentions_channel_created: volume per channel and day, one count per (channel, day) range;
# - mentions_created: exports in time order (and --since) without reading the whole table, and
#   first-response figures of a short period (a range, then a sort of a few thousand values);
# - mentions_reply_time: answered mentions in first-response-time order, so over a long period
#   the share answered within 30 min / 1 h is a range count and the median and p90 an OFFSET
#   walk, never a sort of hundreds of thousands of values;
# - outbox.mention_created_at: a copy of the mention's created_at (filled by a trigger for any
#   writer that leaves it NULL), so a reply's response time needs no lookup in mentions;
#   outbox_agent orders each agent's sent replies by it (long periods), outbox_agent_time by
#   time (counts, and short periods);
# - sla_outcomes_report: achievement per policy and target without reading the rows;
# - events_resolved: resolutions per agent over a period.
_V9_STATS = """
CREATE INDEX mentions_channel_created ON mentions (channel, created_at);
CREATE INDEX mentions_created ON mentions (created_at, replied_at);
CREATE INDEX mentions_reply_time ON mentions (replied_at - created_at, created_at)
    WHERE replied_at IS NOT NULL;

ALTER TABLE outbox ADD COLUMN mention_created_at INTEGER;
UPDATE outbox SET mention_created_at =
    (SELECT m.created_at FROM mentions m WHERE m.id = outbox.mention_id);
CREATE TRIGGER outbox_mention_created AFTER INSERT ON outbox
WHEN new.mention_created_at IS NULL
BEGIN
    UPDATE outbox SET mention_created_at =
        (SELECT m.created_at FROM mentions m WHERE m.id = new.mention_id) WHERE id = new.id;
END;
CREATE INDEX outbox_agent ON outbox (author, created_at - mention_created_at, created_at)
    WHERE state = 'sent';
CREATE INDEX outbox_agent_time ON outbox (author, created_at, mention_created_at)
    WHERE state = 'sent';

CREATE INDEX sla_outcomes_report
    ON sla_outcomes (policy, target, started_at, completed_at, breached_at, paused_at, due_at);
CREATE INDEX events_resolved ON events (actor, at)
    WHERE action = 'status' AND detail GLOB '* -> resolved';
"""

MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(1, "core tables, queue indexes, append-only events", _V1_CORE),
    Migration(2, "counters by status and channel, kept by triggers", _V2_COUNTERS),
    Migration(3, "full-text search over mention text and authors", _V3_FTS),
    Migration(4, "covering index for the count of breached mentions", _V4_BREACH_INDEX),
    Migration(5, "outbox record key and remote link, quarantine for bad payloads",
              _V5_SYNC_SAFETY),
    Migration(6, "SLA policy per mention and per-target outcomes", _V6_SLA_OUTCOMES),
    Migration(7, "triage: reasons, spam lane, its queue index and counters", _V7_TRIAGE),
    Migration(8, "crisis topics, pinned notes and listening results", _V8_CRISIS_LISTENING),
    Migration(9, "indexes for reports and exports, response time copied into the outbox",
              _V9_STATS),
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
