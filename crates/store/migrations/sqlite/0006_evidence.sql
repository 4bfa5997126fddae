-- Evidence files of due-process cases (objections, repair applications), stored
-- content-addressed: the SHA-256 of the content names it, and the ledger event of the
-- case carries that hash. The same bytes uploaded twice are one row (the first
-- uploader is kept). Version 6: version 5 belongs to another change, and this table
-- depends on nothing it adds.

CREATE TABLE IF NOT EXISTS evidence (
    sha256 TEXT PRIMARY KEY,        -- lowercase hex of SHA-256(content), computed by the platform
    media_type TEXT NOT NULL,       -- application/pdf | image/jpeg | image/png, recognised from the content
    size BIGINT NOT NULL,           -- bytes
    content BLOB NOT NULL,          -- exactly the bytes uploaded
    stored_ms BIGINT NOT NULL,
    uploaded_by TEXT NOT NULL       -- the account name of the first uploader
);
