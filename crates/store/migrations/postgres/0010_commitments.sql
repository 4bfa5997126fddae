-- Credit commitments (信用承诺, issue 13): one row per commitment, keyed by its record
-- (catalog item credit_commitment). `doc` is the commitment as it stands
-- (core::commitment::Commitment as JSON: matter, dates, steps); the other columns are
-- what the clock and the pages need: `state` by the recorded steps (pending, fulfilled,
-- breached), the due date, and the breach record (commitment_breach) once intake
-- wrote it.

CREATE TABLE IF NOT EXISTS commitments (
    record_id BIGINT PRIMARY KEY REFERENCES records (id),
    subject_code TEXT NOT NULL,
    department TEXT NOT NULL,
    state TEXT NOT NULL,
    due_date TEXT COLLATE "C",
    breach_record BIGINT,
    doc TEXT NOT NULL,
    first_event BIGINT NOT NULL,
    last_event BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS commitments_subject ON commitments (subject_code, record_id);
-- the clock: pending commitments whose due date has passed
CREATE INDEX IF NOT EXISTS commitments_due ON commitments (state, due_date, record_id);
-- breaches whose record intake has not written yet
CREATE INDEX IF NOT EXISTS commitments_unrecorded ON commitments (record_id)
    WHERE state = 'breached' AND breach_record IS NULL;
