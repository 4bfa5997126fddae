-- A department's commitments by state (issue 13): the officer's queue of open
-- commitments to verify or record as kept or broken.
CREATE INDEX IF NOT EXISTS commitments_department ON commitments (department, state, record_id);
