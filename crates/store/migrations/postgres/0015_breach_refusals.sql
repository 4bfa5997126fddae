-- A broken commitment whose breach record intake refused (issue 16): the quarantine entry
-- the row went to, and the commitment's last event then. The follower offers the row
-- again once that entry is resolved or the commitment has taken a step, not on every
-- start (a store with 120 000 such commitments spent 10 s per start re-offering them).
ALTER TABLE commitments ADD COLUMN IF NOT EXISTS breach_refused BIGINT;
ALTER TABLE commitments ADD COLUMN IF NOT EXISTS breach_refused_event BIGINT;
