-- Old identifiers a subject is also known by (工商注册号, 组织机构代码, 税务登记号), as
-- its registration rows declare them: a record that carries only one of them attaches
-- to that subject (issue 11). Written with the registration's batch; never removed (an
-- old number keeps naming the subject it named). Version 8: 7 and 9 belong to other
-- changes, and this depends on nothing they add.

CREATE TABLE IF NOT EXISTS subject_identifiers (
    id INTEGER PRIMARY KEY,          -- paging key for migrate
    scheme TEXT NOT NULL,            -- registration_number | org_code | tax_number
    value TEXT NOT NULL,             -- normalised (upper case, no spaces or hyphens)
    subject_code TEXT NOT NULL,
    record_id INTEGER NOT NULL       -- the registration record that declared it
);
CREATE UNIQUE INDEX IF NOT EXISTS subject_identifiers_identity ON subject_identifiers (scheme, value, subject_code);
CREATE INDEX IF NOT EXISTS subject_identifiers_subject ON subject_identifiers (subject_code);

-- The organisation code every USCC embeds (positions 9–17): an old record naming an
-- organisation code finds the USCC holder without any registration column. Partial:
-- only 18-character codes of organisations (a resident ID's digits are no code).
CREATE INDEX IF NOT EXISTS subjects_org_code ON subjects (substr(code, 9, 9))
    WHERE length(code) = 18 AND kind <> 'natural_person';
