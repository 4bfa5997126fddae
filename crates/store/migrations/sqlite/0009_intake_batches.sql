-- Data quality (issue 11): what intake did with each batch, written in the
-- transaction that appended the batch's rows. `refused` is a JSON array of
-- {field, rule, rows}; `decided` a JSON object decision date -> accepted rows, from
-- which the report computes timeliness on the working-day calendar when it is read.
CREATE TABLE IF NOT EXISTS intake_batches (
    batch TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    item TEXT NOT NULL,
    source TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    rows_received INTEGER NOT NULL,
    accepted INTEGER NOT NULL,
    corrected INTEGER NOT NULL,
    duplicates INTEGER NOT NULL,
    quarantined INTEGER NOT NULL,
    quarantined_known INTEGER NOT NULL,
    wrong_code INTEGER NOT NULL,
    refused TEXT NOT NULL,
    decided TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS intake_batches_received ON intake_batches (received_ms, batch);
CREATE INDEX IF NOT EXISTS intake_batches_provider ON intake_batches (provider, received_ms);
-- the quarantine page filters a department's rows by batch
CREATE INDEX IF NOT EXISTS quarantine_batch ON quarantine (provider, batch);
