-- xinyong schema v1 (SQLite). Every table carries the subject key, so the same shape
-- can be distributed by subject on a sharded PostgreSQL later.

CREATE TABLE IF NOT EXISTS meta (
    k TEXT PRIMARY KEY,
    v BLOB NOT NULL
);

-- 信用主体: one row per normalised code.
CREATE TABLE IF NOT EXISTS subjects (
    code TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    former_names TEXT NOT NULL DEFAULT '[]',
    legal_rep_name TEXT,
    legal_rep_id TEXT,
    division TEXT,
    industry TEXT,
    created_event INTEGER NOT NULL
) WITHOUT ROWID;

-- Current state of each record; its content lives in the event it points to.
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY,
    subject_code TEXT NOT NULL,
    provider TEXT NOT NULL,
    item TEXT NOT NULL,
    record_key TEXT NOT NULL,
    fingerprint BLOB NOT NULL,
    status TEXT NOT NULL,
    decision_date TEXT,
    tier TEXT,
    event_idx INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS records_identity ON records (provider, item, record_key);
CREATE INDEX IF NOT EXISTS records_subject ON records (subject_code);

-- Every change, in ledger order: idx is the leaf index of the Merkle log.
CREATE TABLE IF NOT EXISTS events (
    idx INTEGER PRIMARY KEY,
    subject_code TEXT NOT NULL,
    kind TEXT NOT NULL,
    record_id INTEGER,
    payload BLOB NOT NULL,
    leaf BLOB NOT NULL
);

-- Signed tree heads, one per committed batch.
CREATE TABLE IF NOT EXISTS tree_heads (
    size INTEGER PRIMARY KEY,
    root BLOB NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    checkpoint TEXT NOT NULL
);

-- Rows that failed validation: nothing is dropped.
CREATE TABLE IF NOT EXISTS quarantine (
    id INTEGER PRIMARY KEY,
    subject_code TEXT,
    provider TEXT NOT NULL,
    item TEXT NOT NULL,
    batch TEXT NOT NULL,
    source TEXT NOT NULL,
    row_no INTEGER,
    raw TEXT NOT NULL,
    raw_hash BLOB NOT NULL,
    errors TEXT NOT NULL,
    status TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    resolved_ms INTEGER,
    resolved_record INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS quarantine_identity ON quarantine (provider, item, raw_hash);
CREATE INDEX IF NOT EXISTS quarantine_status ON quarantine (status, provider, item);
