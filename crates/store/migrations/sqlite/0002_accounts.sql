-- Accounts, API tokens, and the log of reads of non-public data (kept ≥ 5 years).

CREATE TABLE IF NOT EXISTS accounts (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,             -- admin | officer
    provider TEXT,                  -- the department an officer is bound to
    password_hash TEXT,             -- argon2id PHC string; NULL for token-only accounts
    created_ms INTEGER NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS api_tokens (
    token_hash BLOB PRIMARY KEY,    -- SHA-256 of the token: the token itself is never stored
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    label TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS sessions (
    session_hash BLOB PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    csrf TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS access_log (
    id INTEGER PRIMARY KEY,
    subject_code TEXT NOT NULL,
    account_id INTEGER NOT NULL,
    actor TEXT NOT NULL,
    provider TEXT,
    purpose TEXT NOT NULL,
    what TEXT NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS access_log_subject ON access_log (subject_code, at_ms);

-- A revoked record keeps pointing at the event holding its content; the revocation
-- event is kept beside it.
ALTER TABLE records ADD COLUMN revoked_event INTEGER;
