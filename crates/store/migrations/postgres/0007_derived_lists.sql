-- Lists that follow from records (对象清单) and market-ban scopes. A derived listing
-- names the record it follows and the rule (id@version) that derived it; at most one
-- entry per record and rule, so two processes deriving at once cannot both add it.
-- The cursor table keeps how far a follower of the ledger (the derivation of lists)
-- has read: after a crash it resumes there, and its steps are idempotent.

ALTER TABLE listings ADD COLUMN scope TEXT;
ALTER TABLE listings ADD COLUMN source_record BIGINT;
ALTER TABLE listings ADD COLUMN source_rule TEXT;
ALTER TABLE listings ADD COLUMN source_item TEXT;
CREATE UNIQUE INDEX IF NOT EXISTS listings_source ON listings (source_record, source_rule)
    WHERE source_record IS NOT NULL;

CREATE TABLE IF NOT EXISTS cursors (
    name TEXT PRIMARY KEY,
    position BIGINT NOT NULL
);
