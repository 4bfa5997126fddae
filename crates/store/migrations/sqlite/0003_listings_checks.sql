-- Listings (名单) with their procedure state, checks before acting (逢办必查) with the
-- departments' feedback, and accounts of subjects themselves.

CREATE TABLE IF NOT EXISTS listings (
    id INTEGER PRIMARY KEY,
    subject_code TEXT NOT NULL REFERENCES subjects (code),
    list_type TEXT NOT NULL,
    status TEXT NOT NULL,               -- noticed | listed | removed | withdrawn
    provider TEXT NOT NULL,             -- the department that lists and removes
    basis TEXT,
    reason TEXT NOT NULL,
    notice_date TEXT,
    objection_until TEXT,
    objections TEXT NOT NULL,           -- JSON [{date, text}]
    decision_date TEXT,
    start_date TEXT,
    end_date TEXT,                      -- exclusive; NULL for life / until removed
    removed_date TEXT,
    removal_kind TEXT,
    removal_reason TEXT,
    document TEXT NOT NULL,             -- JSON {field code: text}
    persons TEXT NOT NULL,              -- JSON [{role, name, id}]
    first_event INTEGER NOT NULL,
    decided_event INTEGER,
    last_event INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS listings_subject ON listings (subject_code);
CREATE INDEX IF NOT EXISTS listings_type ON listings (list_type, status, id);
CREATE INDEX IF NOT EXISTS listings_last_event ON listings (last_event);

CREATE TABLE IF NOT EXISTS checks (
    id TEXT PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    account_id INTEGER NOT NULL,
    department TEXT NOT NULL,
    matter TEXT NOT NULL,
    purpose TEXT NOT NULL,
    subject_code TEXT NOT NULL,
    as_of TEXT NOT NULL,
    verdict TEXT NOT NULL,
    measures TEXT NOT NULL,             -- JSON [measure id]
    listings TEXT NOT NULL,             -- JSON [listing id]
    ledger_size INTEGER NOT NULL,
    feedback_ms INTEGER,
    feedback_account INTEGER,
    applied TEXT,                       -- JSON [measure id]
    not_applied TEXT,                   -- JSON [{id, reason}]
    n_applied INTEGER,
    n_not_applied INTEGER,
    note TEXT
);
CREATE INDEX IF NOT EXISTS checks_subject ON checks (subject_code, at_ms);
CREATE INDEX IF NOT EXISTS checks_department ON checks (department, at_ms);

-- A subject's own account (role 'subject') sees who checked it and who read its data.
ALTER TABLE accounts ADD COLUMN subject_code TEXT;
