-- Exchange between platforms and agencies' subscriptions (issue 15): trusted peers and
-- their last verified head, the entries received from them, agencies' subscriptions
-- and acknowledgements. Each row is a JSON document owned by `app::exchange`; every
-- write that changes one comes with a ledger event (`exchange.*`, `subscription.*`),
-- whose index is kept in `event`. An id is unique across kinds (it starts with
-- its kind), so one column keys the table.
CREATE TABLE IF NOT EXISTS exchange_docs (
    kind TEXT NOT NULL,
    id TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    event BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS exchange_docs_subject ON exchange_docs (subject, kind);
CREATE INDEX IF NOT EXISTS exchange_docs_kind ON exchange_docs (kind, id);
