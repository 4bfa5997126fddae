-- The check log as an append-only table: rows in answer order (seq), time-ordered ids,
-- and the per-subject index filled in batches after the answer (check_subjects), so
-- that recording a check touches only the right edge of each B-tree.

CREATE TABLE check_log (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    account_id INTEGER NOT NULL,
    department TEXT NOT NULL,
    matter TEXT NOT NULL,
    purpose TEXT NOT NULL,
    subject_code TEXT NOT NULL,
    as_of TEXT NOT NULL,
    verdict TEXT NOT NULL,
    measures TEXT NOT NULL,
    listings TEXT NOT NULL,
    ledger_size INTEGER NOT NULL,
    feedback_ms INTEGER,
    feedback_account INTEGER,
    applied TEXT,
    not_applied TEXT,
    n_applied INTEGER,
    n_not_applied INTEGER,
    note TEXT
);
INSERT INTO check_log (id, at_ms, account_id, department, matter, purpose, subject_code, as_of, verdict, measures,
                       listings, ledger_size, feedback_ms, feedback_account, applied, not_applied, n_applied,
                       n_not_applied, note)
SELECT id, at_ms, account_id, department, matter, purpose, subject_code, as_of, verdict, measures, listings,
       ledger_size, feedback_ms, feedback_account, applied, not_applied, n_applied, n_not_applied, note
FROM checks ORDER BY at_ms, id;
DROP TABLE checks;
ALTER TABLE check_log RENAME TO checks;
CREATE UNIQUE INDEX checks_id ON checks (id);
CREATE INDEX checks_department ON checks (department, at_ms);

CREATE TABLE check_subjects (
    subject_code TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (subject_code, seq)
) WITHOUT ROWID;
INSERT INTO check_subjects SELECT subject_code, seq FROM checks;
INSERT OR REPLACE INTO meta (k, v) VALUES ('check_subjects_to', (SELECT COALESCE(MAX(seq), 0) FROM checks));
INSERT OR REPLACE INTO meta (k, v) VALUES ('check_subjects_ms', 0);
