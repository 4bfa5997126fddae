-- Listings (名单) with their procedure state, checks before acting (逢办必查) with the
-- departments' feedback, and accounts of subjects themselves (mirrors sqlite/0003).
-- Dates are 'YYYY-MM-DD' text compared in byte order (COLLATE "C"), as in SQLite.

CREATE TABLE listings (
    id BIGINT PRIMARY KEY,              -- assigned under the ledger lock, dense as in SQLite
    subject_code TEXT NOT NULL REFERENCES subjects (code),
    list_type TEXT NOT NULL,
    status TEXT NOT NULL,               -- noticed | listed | removed | withdrawn
    provider TEXT NOT NULL,             -- the department that lists and removes
    basis TEXT,
    reason TEXT NOT NULL,
    notice_date TEXT COLLATE "C",
    objection_until TEXT COLLATE "C",
    objections TEXT NOT NULL,           -- JSON [{date, text}]
    decision_date TEXT COLLATE "C",
    start_date TEXT COLLATE "C",
    end_date TEXT COLLATE "C",          -- exclusive; NULL for life / until removed
    removed_date TEXT COLLATE "C",
    removal_kind TEXT,
    removal_reason TEXT,
    document TEXT NOT NULL,             -- JSON {field code: text}
    persons TEXT NOT NULL,              -- JSON [{role, name, id}]
    first_event BIGINT NOT NULL,
    decided_event BIGINT,
    last_event BIGINT NOT NULL
);
CREATE INDEX listings_subject ON listings (subject_code);
CREATE INDEX listings_type ON listings (list_type, status, id);
CREATE INDEX listings_last_event ON listings (last_event);

CREATE TABLE checks (
    id TEXT COLLATE "C" PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    account_id BIGINT NOT NULL,
    department TEXT COLLATE "C" NOT NULL,
    matter TEXT NOT NULL,
    purpose TEXT NOT NULL,
    subject_code TEXT NOT NULL,
    as_of TEXT NOT NULL,
    verdict TEXT NOT NULL,
    measures TEXT NOT NULL,             -- JSON [measure id]
    listings TEXT NOT NULL,             -- JSON [listing id]
    ledger_size BIGINT NOT NULL,
    feedback_ms BIGINT,
    feedback_account BIGINT,
    applied TEXT,                       -- JSON [measure id]
    not_applied TEXT,                   -- JSON [{id, reason}]
    n_applied BIGINT,
    n_not_applied BIGINT,
    note TEXT
);
CREATE INDEX checks_subject ON checks (subject_code, at_ms);
CREATE INDEX checks_department ON checks (department, at_ms);

-- A subject's own account (role 'subject') sees who checked it and who read its data.
ALTER TABLE accounts ADD COLUMN subject_code TEXT;
