-- Due process (issue 10): repairs on records, cases (objection, repair, rectification,
-- interview) and the notification outbox.

-- The `record.repaired` event, when a repair was granted (publication and sharing stop).
ALTER TABLE records ADD COLUMN repaired_event INTEGER;

-- One row per case; `doc` is the case as it stands (core::case::Case as JSON), the
-- other columns are what lists and filters need.
CREATE TABLE IF NOT EXISTS cases (
    id INTEGER PRIMARY KEY,
    subject_code TEXT NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    department TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id INTEGER,
    due_date TEXT NOT NULL,
    -- SHA-256 of the 查询码 an applicant follows the case with (the code itself is never stored)
    query_hash BLOB,
    doc TEXT NOT NULL,
    first_event INTEGER NOT NULL,
    last_event INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS cases_subject ON cases (subject_code, id);
CREATE INDEX IF NOT EXISTS cases_state ON cases (state, department, due_date);
CREATE INDEX IF NOT EXISTS cases_last_event ON cases (last_event);

-- The outbox: one row per notification and recipient, with its delivery state.
CREATE TABLE IF NOT EXISTS notifications (
    id INTEGER PRIMARY KEY,
    recipient_kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject_code TEXT NOT NULL,
    topic TEXT NOT NULL,
    text_zh TEXT NOT NULL,
    text_en TEXT NOT NULL,
    event_idx INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER,
    last_error TEXT,
    read_ms INTEGER
);
CREATE INDEX IF NOT EXISTS notifications_recipient ON notifications (recipient_kind, recipient, id);
CREATE INDEX IF NOT EXISTS notifications_pending ON notifications (state, next_attempt_ms);

-- Machine recipients: notifications to them are POSTed (JSON, HMAC-SHA256 signed with
-- `secret`) and retried with back-off; others read their inbox in the portal.
CREATE TABLE IF NOT EXISTS webhooks (
    id INTEGER PRIMARY KEY,
    recipient_kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    UNIQUE (recipient_kind, recipient)
);
