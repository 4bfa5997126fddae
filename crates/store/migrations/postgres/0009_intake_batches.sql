-- Data quality (issue 11): what intake did with each batch, written in the
-- transaction that appended the batch's rows. `refused` is a JSON array of
-- {field, rule, rows}; `decided` a JSON object decision date -> accepted rows, from
-- which the report computes timeliness on the working-day calendar when it is read.
CREATE TABLE intake_batches (
    batch TEXT COLLATE "C" PRIMARY KEY,
    provider TEXT NOT NULL,
    item TEXT NOT NULL,
    source TEXT NOT NULL,
    received_ms BIGINT NOT NULL,
    rows_received BIGINT NOT NULL,
    accepted BIGINT NOT NULL,
    corrected BIGINT NOT NULL,
    duplicates BIGINT NOT NULL,
    quarantined BIGINT NOT NULL,
    quarantined_known BIGINT NOT NULL,
    wrong_code BIGINT NOT NULL,
    refused TEXT NOT NULL,
    decided TEXT NOT NULL
);
CREATE INDEX intake_batches_received ON intake_batches (received_ms, batch);
CREATE INDEX intake_batches_provider ON intake_batches (provider, received_ms);
-- the quarantine page filters a department's rows by batch
CREATE INDEX quarantine_batch ON quarantine (provider, batch);
