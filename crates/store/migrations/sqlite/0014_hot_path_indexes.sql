-- Which subjects have records of a broken commitment (commitment_breach): a check for a
-- matter that excludes them probes this small partial index instead of reading every
-- record of the subject (issue 16: that read was most of a check's time on a city's store).
CREATE INDEX IF NOT EXISTS records_commitment_breach ON records (subject_code) WHERE item = 'commitment_breach';
-- Pending notices of recipients that have a webhook: the delivery round starts from the
-- webhooks, and most recipients (who read their notices in the portal) have none; without
-- this it read every pending notice ever made on each round.
CREATE INDEX IF NOT EXISTS notifications_recipient_pending ON notifications (recipient_kind, recipient, next_attempt_ms)
    WHERE state = 'pending';
