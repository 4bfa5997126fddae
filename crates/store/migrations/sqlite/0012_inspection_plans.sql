-- Inspection plans (双随机抽查计划, issue 14): one row per plan, its document (rules,
-- roster, population, the draw, the results) as JSON; every step that changes what
-- the public can check is a ledger event (`inspection.planned`, `inspection.drawn`).
CREATE TABLE IF NOT EXISTS inspection_plans (
    id TEXT PRIMARY KEY,
    department TEXT NOT NULL,
    doc TEXT NOT NULL,
    first_event BIGINT NOT NULL,
    last_event BIGINT NOT NULL
);
