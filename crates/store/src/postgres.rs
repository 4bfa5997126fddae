//! The server back end: PostgreSQL, for deployments with several server processes on
//! one database. Same semantics as the SQLite back end (see `sqlite.rs`), with two
//! differences that follow from sharing the database:
//!
//! - **One writer across all nodes.** Every transaction that appends events first takes
//!   a transaction-scoped advisory lock and only then reads the frontier, so two
//!   processes never assign the same ledger index (the `events` primary key would
//!   refuse it anyway). Transactions run at READ COMMITTED: each statement after the
//!   lock sees what the previous holder committed.
//! - **No caches** of stored state: another node may write at any time. A batch looks
//!   up the subjects and records it touches with one query each, lets [`crate::plan`]
//!   decide (the same decisions as SQLite's), then writes new rows with binary `COPY`.
//!
//! The URL is a libpq-style `postgres://` URL. A schema other than `public` is chosen
//! with the standard `options` parameter, e.g.
//! `postgres://postgres@127.0.0.1/test?options=-csearch_path%3Dnode_a`; the first
//! schema of the search path is created at open when missing.

use std::borrow::Cow;
use std::collections::HashMap;
use std::time::Duration;

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};
use postgres::{Client, GenericClient, NoTls, Row, Statement, Transaction};
use xinyong_core::event::{EventKind, Provenance};
use xinyong_ledger::{Frontier, Hash, LedgerKey, SignedHead, TreeHead};

use crate::IdentifierMatch;
use crate::plan;
use crate::postgres_cases;
use crate::postgres_commitments;
use crate::postgres_listings;
use crate::postgres_quality;
use crate::{
    AccessEntry, Account, BatchOutcome, CheckRow, Counts, DepartmentStats, Entry, EventRef, EventRow, Feedback,
    ListingFilter, NewAccount, NewQuarantine, Outcome, QuarantineFilter, QuarantineRow, RecordRow, Result, Session,
    Store, StoreError, SubjectRow,
};
use crate::{CaseFilter, Change, Changed, Notification};
use xinyong_core::case::Case;
use xinyong_core::commitment::Commitment;
use xinyong_core::listing::Listing;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/postgres/0001_init.sql")),
    (2, include_str!("../migrations/postgres/0002_accounts.sql")),
    (3, include_str!("../migrations/postgres/0003_listings_checks.sql")),
    (4, include_str!("../migrations/postgres/0004_check_log.sql")),
    (5, include_str!("../migrations/postgres/0005_due_process.sql")),
    (6, include_str!("../migrations/postgres/0006_evidence.sql")),
    (7, include_str!("../migrations/postgres/0007_derived_lists.sql")),
    (8, include_str!("../migrations/postgres/0008_subject_identifiers.sql")),
    (9, include_str!("../migrations/postgres/0009_intake_batches.sql")),
    (10, include_str!("../migrations/postgres/0010_commitments.sql")),
    (11, include_str!("../migrations/postgres/0011_commitment_queue.sql")),
    (12, include_str!("../migrations/postgres/0012_inspection_plans.sql")),
    (13, include_str!("../migrations/postgres/0013_exchange.sql")),
    (14, include_str!("../migrations/postgres/0014_hot_path_indexes.sql")),
    (15, include_str!("../migrations/postgres/0015_breach_refusals.sql")),
];

/// Advisory lock class of the ledger writer ("xyle"); the second key is the schema's
/// hash, so ledgers in different schemas of one database do not wait for each other.
const LEDGER_LOCK: i32 = 0x7879_6c65;
/// Advisory lock class for migrations ("xymg"): nodes starting together migrate once.
const MIGRATE_LOCK: i32 = 0x7879_6d67;

/// A pooled connection with its prepared statements (they live as long as the connection).
pub struct PgConn {
    client: Client,
    statements: HashMap<String, Statement>,
}

struct Manager {
    config: postgres::Config,
}

impl r2d2::ManageConnection for Manager {
    type Connection = PgConn;
    type Error = postgres::Error;

    fn connect(&self) -> std::result::Result<PgConn, postgres::Error> {
        Ok(PgConn { client: self.config.connect(NoTls)?, statements: HashMap::new() })
    }

    fn is_valid(&self, conn: &mut PgConn) -> std::result::Result<(), postgres::Error> {
        conn.client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        conn.client.is_closed()
    }
}

pub struct PgStore {
    pool: r2d2::Pool<Manager>,
}

/// Prepares `sql` once per connection.
fn prepared(
    statements: &mut HashMap<String, Statement>,
    client: &mut impl GenericClient,
    sql: &str,
) -> Result<Statement> {
    if let Some(st) = statements.get(sql) {
        return Ok(st.clone());
    }
    let st = client.prepare(sql)?;
    statements.insert(sql.to_string(), st.clone());
    Ok(st)
}

impl PgConn {
    pub(crate) fn prepare(&mut self, sql: &str) -> Result<Statement> {
        prepared(&mut self.statements, &mut self.client, sql)
    }

    pub(crate) fn query(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        let st = prepared(&mut self.statements, &mut self.client, sql)?;
        Ok(self.client.query(&st, params)?)
    }

    pub(crate) fn query_opt(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>> {
        let st = prepared(&mut self.statements, &mut self.client, sql)?;
        Ok(self.client.query_opt(&st, params)?)
    }

    pub(crate) fn execute(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        let st = prepared(&mut self.statements, &mut self.client, sql)?;
        Ok(self.client.execute(&st, params)?)
    }
}

impl PgStore {
    /// Connects to `url` (a `postgres://` URL), creating the schema and migrating when needed.
    pub fn open(url: &str) -> Result<PgStore> {
        let config: postgres::Config = url.parse()?;
        PgStore::open_config(config)
    }

    pub fn open_config(mut config: postgres::Config) -> Result<PgStore> {
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("xinyong");
        }
        let pool = r2d2::Pool::builder()
            .max_size(24)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(15))
            // a round trip per checkout is too much for per-record calls; a dead
            // connection is noticed by has_broken and replaced
            .test_on_check_out(false)
            .build(Manager { config })?;
        let store = PgStore { pool };
        store.migrate()?;
        Ok(store)
    }

    fn conn(&self) -> Result<r2d2::PooledConnection<Manager>> {
        Ok(self.pool.get()?)
    }

    fn migrate(&self) -> Result<()> {
        let mut conn = self.conn()?;
        let mut tx = conn.client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1, 0)", &[&MIGRATE_LOCK])?;
        let path: String = tx.query_one("SELECT current_setting('search_path')", &[])?.get(0);
        if let Some(schema) = first_schema(&path) {
            tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(&schema)))?;
        }
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS xinyong_migrations (version BIGINT PRIMARY KEY, applied_ms BIGINT NOT NULL)",
        )?;
        let current: i64 = tx.query_one("SELECT COALESCE(MAX(version), 0) FROM xinyong_migrations", &[])?.get(0);
        for (version, sql) in MIGRATIONS {
            if *version > current {
                tx.batch_execute(sql)?;
                tx.execute(
                    "INSERT INTO xinyong_migrations (version, applied_ms)
                     VALUES ($1, (extract(epoch from clock_timestamp()) * 1000)::bigint)",
                    &[version],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// A pooled connection, for tests and tools that need SQL of their own.
    pub fn client(&self) -> Result<impl std::ops::DerefMut<Target = PgConn>> {
        self.conn()
    }
}

impl PgConn {
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }
}

/// The first explicit schema of a `search_path` setting (not `$user`, not `public`).
fn first_schema(path: &str) -> Option<String> {
    let first = path.split(',').next()?.trim();
    let name = first
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .map_or(first.to_string(), |s| s.replace("\"\"", "\""));
    (!name.is_empty() && name != "$user" && name != "public" && !name.starts_with("pg_")).then_some(name)
}

pub(crate) fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn to_hash(b: Vec<u8>) -> Result<Hash> {
    b.try_into().map_err(|_| StoreError::Corrupt("a stored hash is not 32 bytes".into()))
}

/// Takes the ledger lock; returns the frontier as the last writer committed it.
pub(crate) fn lock_ledger(tx: &mut Transaction<'_>, hash: xinyong_ledger::TreeHash) -> Result<Frontier> {
    tx.execute("SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))", &[&LEDGER_LOCK])?;
    let row = tx.query_opt("SELECT v FROM meta WHERE k = 'frontier'", &[])?;
    match row {
        Some(r) => Ok(Frontier::from_bytes(&r.get::<_, Vec<u8>>(0))?.with_hash(hash)),
        None => Ok(Frontier::new_in(hash)),
    }
}

pub(crate) fn sign_head(
    tx: &mut Transaction<'_>,
    frontier: &Frontier,
    key: &LedgerKey,
    now_ms: i64,
) -> Result<SignedHead> {
    tx.execute(
        "INSERT INTO meta (k, v) VALUES ('frontier', $1) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v",
        &[&frontier.to_bytes()],
    )?;
    let head = TreeHead { size: frontier.size(), root: frontier.root(), timestamp_ms: now_ms };
    let signed = key.sign(&head);
    tx.execute(
        "INSERT INTO tree_heads (size, root, timestamp_ms, checkpoint) VALUES ($1, $2, $3, $4)
         ON CONFLICT (size) DO UPDATE SET root = EXCLUDED.root, timestamp_ms = EXCLUDED.timestamp_ms,
         checkpoint = EXCLUDED.checkpoint",
        &[&(head.size as i64), &&head.root[..], &head.timestamp_ms, &signed.checkpoint],
    )?;
    Ok(signed)
}

/// Looks up what a batch touches, under the ledger lock: subjects in one query,
/// record identities in another (a join on `unnest`), and the next record id.
fn look_up<'a>(tx: &mut Transaction<'_>, touched: &plan::Touched<'a>) -> Result<plan::Stored<'a>> {
    let mut stored = plan::Stored::default();
    if touched.codes.is_empty() {
        return Ok(stored);
    }
    for row in tx.query("SELECT code FROM subjects WHERE code = ANY($1)", &[&touched.codes])? {
        if let Some(code) = touched.code(row.get(0)) {
            stored.subjects.insert(code, None);
        }
    }
    // the names only of subjects a registration row projects onto
    if !touched.renamed.is_empty() {
        const SQL: &str = "SELECT code, name, former_names FROM subjects WHERE code = ANY($1)";
        for row in tx.query(SQL, &[&touched.renamed])? {
            if let Some(code) = touched.code(row.get(0)) {
                let names = plan::Names { name: row.get(1), former_names: parse_former_names(row.get(2)) };
                stored.subjects.insert(code, Some(names));
            }
        }
    }
    let providers: Vec<&str> = touched.identities.iter().map(|i| i.0).collect();
    let items: Vec<&str> = touched.identities.iter().map(|i| i.1).collect();
    let keys: Vec<&str> = touched.identities.iter().map(|i| i.2).collect();
    let rows = tx.query(
        "SELECT r.id, r.provider, r.item, r.record_key, r.fingerprint, r.subject_code
         FROM records r JOIN unnest($1::text[], $2::text[], $3::text[]) AS u(p, i, k)
           ON r.provider = u.p AND r.item = u.i AND r.record_key = u.k",
        &[&providers, &items, &keys],
    )?;
    for row in rows {
        let Some(identity) = touched.identity(row.get(1), row.get(2), row.get(3)) else { continue };
        let record = plan::StoredRecord { id: row.get(0), fingerprint: to_hash(row.get(4))?, subject: row.get(5) };
        stored.records.insert(identity, record);
    }
    stored.next_record_id = tx.query_one("SELECT COALESCE(MAX(id), 0) + 1 FROM records", &[])?.get(0);
    Ok(stored)
}

fn parse_former_names(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

/// Writes a batch's plan within the transaction: new subjects, records and events by
/// binary COPY, updates of rows stored before by one `UPDATE … FROM unnest` each, and
/// the quarantine writes one statement each (they need their ids). The frontier
/// follows the events.
fn execute(
    tx: &mut Transaction<'_>,
    statements: &mut HashMap<String, Statement>,
    plan: &mut plan::Plan<'_>,
    frontier: &mut Frontier,
    now_ms: i64,
) -> Result<()> {
    plan.check_start(frontier.size())?;
    if !plan.new_subjects.is_empty() {
        let sink = tx.copy_in(
            "COPY subjects (code, kind, name, former_names, legal_rep_name, legal_rep_id, division, industry,
             created_event) FROM STDIN BINARY",
        )?;
        let t = Type::TEXT;
        let mut w = BinaryCopyInWriter::new(
            sink,
            &[t.clone(), t.clone(), t.clone(), t.clone(), t.clone(), t.clone(), t.clone(), t, Type::INT8],
        );
        for s in &plan.new_subjects {
            let f = &s.fields;
            w.write(&[
                &s.code,
                &s.kind,
                &f.name.as_ref(),
                &&*f.former_names_json(),
                &f.legal_rep_name,
                &f.legal_rep_id,
                &f.division,
                &f.industry,
                &(s.created_event as i64),
            ])?;
        }
        w.finish()?;
    }
    if !plan.subject_updates.is_empty() {
        let mut cols: [Vec<Option<Cow<'_, str>>>; 7] = Default::default();
        for u in &plan.subject_updates {
            let f = &u.fields;
            let values = [
                Some(Cow::Borrowed(u.code)),
                Some(Cow::Borrowed(f.name.as_ref())),
                Some(f.former_names_json()),
                f.legal_rep_name.map(Cow::Borrowed),
                f.legal_rep_id.map(Cow::Borrowed),
                f.division.map(Cow::Borrowed),
                f.industry.map(Cow::Borrowed),
            ];
            for (c, v) in cols.iter_mut().zip(values) {
                c.push(v);
            }
        }
        let cols: Vec<Vec<Option<&str>>> = cols.iter().map(|c| c.iter().map(|v| v.as_deref()).collect()).collect();
        tx.execute(
            "UPDATE subjects s SET name = u.name, former_names = u.former, legal_rep_name = u.lrn,
             legal_rep_id = u.lri, division = COALESCE(u.division, s.division), industry = u.industry
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
               AS u(code, name, former, lrn, lri, division, industry)
             WHERE s.code = u.code",
            &[&cols[0], &cols[1], &cols[2], &cols[3], &cols[4], &cols[5], &cols[6]],
        )?;
    }
    if !plan.new_records.is_empty() {
        let sink = tx.copy_in(
            "COPY records (id, subject_code, provider, item, record_key, fingerprint, status, decision_date,
             tier, event_idx) FROM STDIN BINARY",
        )?;
        let t = Type::TEXT;
        let mut w = BinaryCopyInWriter::new(
            sink,
            &[Type::INT8, t.clone(), t.clone(), t.clone(), t.clone(), Type::BYTEA, t.clone(), t.clone(), t, Type::INT8],
        );
        for r in &plan.new_records {
            w.write(&[
                &r.id,
                &r.subject,
                &r.provider,
                &r.item,
                &r.key,
                &&r.fingerprint[..],
                &"active",
                &r.decision_date,
                &r.tier,
                &(r.event_index as i64),
            ])?;
        }
        w.finish()?;
    }
    if !plan.record_updates.is_empty() {
        let u = &plan.record_updates;
        let ids: Vec<i64> = u.iter().map(|u| u.id).collect();
        let fps: Vec<&[u8]> = u.iter().map(|u| &u.fingerprint[..]).collect();
        let dates: Vec<Option<&str>> = u.iter().map(|u| u.decision_date.as_deref()).collect();
        let tiers: Vec<Option<&str>> = u.iter().map(|u| u.tier).collect();
        let events: Vec<i64> = u.iter().map(|u| u.event_index as i64).collect();
        tx.execute(
            "UPDATE records r SET fingerprint = u.fp, status = 'active', decision_date = u.dd, tier = u.tier,
             event_idx = u.ev, revoked_event = NULL
             FROM unnest($1::int8[], $2::bytea[], $3::text[], $4::text[], $5::int8[]) AS u(id, fp, dd, tier, ev)
             WHERE r.id = u.id",
            &[&ids, &fps, &dates, &tiers, &events],
        )?;
    }
    if !plan.events.is_empty() {
        let sink = tx.copy_in("COPY events (idx, subject_code, kind, record_id, payload, leaf) FROM STDIN BINARY")?;
        let mut w =
            BinaryCopyInWriter::new(sink, &[Type::INT8, Type::TEXT, Type::TEXT, Type::INT8, Type::BYTEA, Type::BYTEA]);
        for e in &plan.events {
            w.write(&[&(e.index as i64), &e.subject, &e.kind.as_str(), &e.record_id, &&e.payload[..], &&e.leaf[..]])?;
            frontier.push(e.leaf);
        }
        w.finish()?;
    }
    if !plan.identifiers.is_empty() {
        let i = &plan.identifiers;
        let schemes: Vec<&str> = i.iter().map(|i| i.scheme).collect();
        let values: Vec<&str> = i.iter().map(|i| i.value).collect();
        let subjects: Vec<&str> = i.iter().map(|i| i.subject).collect();
        let records: Vec<i64> = i.iter().map(|i| i.record_id).collect();
        tx.execute(
            "INSERT INTO subject_identifiers (scheme, value, subject_code, record_id)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[])
             ON CONFLICT (scheme, value, subject_code) DO NOTHING",
            &[&schemes, &values, &subjects, &records],
        )?;
    }
    let mut q = QuarantineWriter { tx, statements };
    plan.run_quarantine(|w| q.write(w, now_ms))
}

/// Quarantine writes inside the batch's transaction, one statement per entry, with
/// its statements prepared once per connection.
struct QuarantineWriter<'t, 'c> {
    tx: &'t mut Transaction<'c>,
    statements: &'t mut HashMap<String, Statement>,
}

const Q_SAME_ROW: &str = "SELECT id FROM quarantine WHERE provider = $1 AND item = $2 AND raw_hash = $3 AND id <> $4";
const Q_REPLACE: &str =
    "UPDATE quarantine SET raw = $2, raw_hash = $3, errors = $4, batch = $5 WHERE id = $1 AND status = 'open'";
// Inserts unless the same raw row is known; the second branch reads the snapshot from
// before the insert, so exactly one row comes back. NOT EXISTS rather than ON CONFLICT:
// no identity value is spent on a known row.
const Q_INSERT: &str = "WITH ins AS (
        INSERT INTO quarantine (subject_code, provider, item, batch, source, row_no, raw, raw_hash, errors, status, created_ms)
        SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', $10
        WHERE NOT EXISTS (SELECT 1 FROM quarantine WHERE provider = $2 AND item = $3 AND raw_hash = $8)
        RETURNING id)
    SELECT id, true FROM ins
    UNION ALL
    SELECT id, false FROM quarantine WHERE provider = $2 AND item = $3 AND raw_hash = $8";
const Q_RESOLVE: &str =
    "UPDATE quarantine SET status = 'resolved', resolved_ms = $2, resolved_record = $3 WHERE id = $1";

impl QuarantineWriter<'_, '_> {
    fn write(&mut self, w: &plan::QuarantineWrite<'_>, now_ms: i64) -> Result<Option<Outcome>> {
        match w {
            plan::QuarantineWrite::Insert { row, .. } => self.insert(row, now_ms).map(Some),
            plan::QuarantineWrite::Replace { id, row, .. } => {
                let st = prepared(&mut *self.statements, &mut *self.tx, Q_SAME_ROW)?;
                if let Some(other) = self.tx.query_opt(&st, &[&row.provider, &row.item, &&row.raw_hash[..], id])? {
                    return Err(plan::same_row_as(*id, other.get(0)));
                }
                let errors = serde_json::to_string(&row.errors).unwrap_or_else(|_| "[]".into());
                let st = prepared(&mut *self.statements, &mut *self.tx, Q_REPLACE)?;
                let n = self.tx.execute(&st, &[id, &row.raw, &&row.raw_hash[..], &errors, &row.batch])?;
                if n == 0 {
                    return Err(StoreError::NotFound(format!("open quarantine entry {id}")));
                }
                Ok(None)
            }
            plan::QuarantineWrite::Resolve { id, record_id } => {
                let st = prepared(&mut *self.statements, &mut *self.tx, Q_RESOLVE)?;
                self.tx.execute(&st, &[id, &now_ms, record_id])?;
                Ok(None)
            }
        }
    }

    fn insert(&mut self, q: &NewQuarantine, now_ms: i64) -> Result<Outcome> {
        let errors = serde_json::to_string(&q.errors).unwrap_or_else(|_| "[]".into());
        let st = prepared(&mut *self.statements, &mut *self.tx, Q_INSERT)?;
        // the hint is the raw code cell; PostgreSQL text cannot hold NUL, SQLite's can
        let hint = q.subject_hint.as_deref().map(|h| h.replace('\0', ""));
        let row = self.tx.query_one(
            &st,
            &[
                &hint,
                &q.provider,
                &q.item,
                &q.batch,
                &q.source,
                &q.row.map(|r| r as i64),
                &q.raw,
                &&q.raw_hash[..],
                &errors,
                &now_ms,
            ],
        )?;
        let inserted: bool = row.get(1);
        Ok(Outcome::Quarantined { quarantine_id: row.get(0), already_known: !inserted })
    }
}

pub(crate) fn subject_row(row: &Row) -> SubjectRow {
    let former: String = row.get(3);
    SubjectRow {
        code: row.get(0),
        kind: row.get(1),
        name: row.get(2),
        former_names: serde_json::from_str(&former).unwrap_or_default(),
        legal_rep_name: row.get(4),
        legal_rep_id: row.get(5),
        division: row.get(6),
        industry: row.get(7),
        created_event: row.get::<_, i64>(8) as u64,
    }
}

pub(crate) fn record_row(row: &Row) -> RecordRow {
    RecordRow {
        id: row.get(0),
        subject_code: row.get(1),
        provider: row.get(2),
        item: row.get(3),
        key: row.get(4),
        status: row.get(5),
        decision_date: row.get(6),
        tier: row.get(7),
        event_index: row.get::<_, i64>(8) as u64,
        revoked_event: row.get::<_, Option<i64>>(9).map(|i| i as u64),
        repaired_event: row.get::<_, Option<i64>>(10).map(|i| i as u64),
    }
}

fn quarantine_row(row: &Row) -> QuarantineRow {
    let errors: String = row.get(8);
    QuarantineRow {
        id: row.get(0),
        subject_hint: row.get(1),
        provider: row.get(2),
        item: row.get(3),
        batch: row.get(4),
        source: row.get(5),
        row: row.get::<_, Option<i64>>(6).map(|r| r as u64),
        raw: row.get(7),
        errors: serde_json::from_str(&errors).unwrap_or_default(),
        status: row.get(9),
        created_ms: row.get(10),
        resolved_ms: row.get(11),
        resolved_record: row.get(12),
    }
}

fn event_row(row: &Row) -> Result<EventRow> {
    Ok(EventRow {
        index: row.get::<_, i64>(0) as u64,
        subject_code: row.get(1),
        kind: row.get(2),
        record_id: row.get(3),
        // plain here, but a store copied from SQLite may hold compressed payloads
        payload: crate::codec::unpacked(row.get(4))?,
        leaf: to_hash(row.get(5))?,
    })
}

fn account_row(row: &Row) -> Account {
    Account {
        id: row.get(0),
        username: row.get(1),
        display_name: row.get(2),
        role: row.get(3),
        provider: row.get(4),
        password_hash: row.get(5),
        disabled: row.get::<_, i64>(6) != 0,
        subject_code: row.get(7),
    }
}

fn heads_of(rows: Vec<Row>) -> Result<Vec<SignedHead>> {
    rows.into_iter()
        .map(|row| {
            Ok(SignedHead {
                head: TreeHead {
                    size: row.get::<_, i64>(0) as u64,
                    root: to_hash(row.get(1))?,
                    timestamp_ms: row.get(2),
                },
                checkpoint: row.get(3),
            })
        })
        .collect()
}

impl Store for PgStore {
    fn connect(&self) -> Result<Box<dyn Store>> {
        Ok(Box::new(PgStore { pool: self.pool.clone() }))
    }

    fn event_refs(&self, from: u64, limit: u32) -> Result<Vec<EventRef>> {
        const SQL: &str = "SELECT idx, subject_code, kind, record_id FROM events WHERE idx >= $1 ORDER BY idx LIMIT $2";
        let rows = self.conn()?.query(SQL, &[&(from as i64), &i64::from(limit)])?;
        Ok(rows
            .iter()
            .map(|r| EventRef {
                index: r.get::<_, i64>(0) as u64,
                subject_code: r.get(1),
                kind: r.get(2),
                record_id: r.get(3),
            })
            .collect())
    }

    fn append(&mut self, entries: &[Entry], key: &LedgerKey, now_ms: i64) -> Result<BatchOutcome> {
        let mut conn = self.conn()?;
        let PgConn { client, statements } = &mut *conn;
        let mut tx = client.transaction()?;
        let mut frontier = lock_ledger(&mut tx, key.tree_hash())?;
        let touched = plan::touched(entries);
        let stored = look_up(&mut tx, &touched)?;
        let mut plan = plan::plan(entries, &stored, frontier.size(), key.tree_hash())?;
        execute(&mut tx, statements, &mut plan, &mut frontier, now_ms)?;
        postgres_quality::write_batches(&mut tx, &crate::quality::tally(entries, &plan.outcomes, now_ms))?;
        let head = if plan.events.is_empty() { None } else { Some(sign_head(&mut tx, &frontier, key, now_ms)?) };
        tx.commit()?;
        plan.outcome(head)
    }

    fn subject(&self, code: &str) -> Result<Option<SubjectRow>> {
        const SQL: &str = "SELECT code, kind, name, former_names, legal_rep_name, legal_rep_id, division, industry, \
                           created_event FROM subjects WHERE code = $1";
        Ok(self.conn()?.query_opt(SQL, &[&code])?.map(|r| subject_row(&r)))
    }

    fn subjects_by_identifiers(&self, ids: &[(&str, &str)]) -> Result<Vec<IdentifierMatch>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let schemes: Vec<&str> = ids.iter().map(|(s, _)| *s).collect();
        let values: Vec<&str> = ids.iter().map(|(_, v)| *v).collect();
        let org: Vec<&str> = ids.iter().filter(|(s, _)| *s == "org_code").map(|(_, v)| *v).collect();
        let mut conn = self.conn()?;
        let mut found: Vec<IdentifierMatch> = conn
            .query(
                "SELECT i.scheme, i.value, i.subject_code FROM unnest($1::text[], $2::text[]) AS q(scheme, value)
                 JOIN subject_identifiers i ON i.scheme = q.scheme AND i.value = q.value",
                &[&schemes, &values],
            )?
            .iter()
            .map(|r| IdentifierMatch { scheme: r.get(0), value: r.get(1), subject: r.get(2) })
            .collect();
        if !org.is_empty() {
            // the same terms as the partial index subjects_org_code, so it is used
            let rows = conn.query(
                "SELECT substr(code, 9, 9), code FROM subjects
                 WHERE substr(code, 9, 9) = ANY($1::text[]) AND length(code) = 18 AND kind <> 'natural_person'",
                &[&org],
            )?;
            found.extend(rows.iter().map(|r| IdentifierMatch {
                scheme: "org_code".into(),
                value: r.get(0),
                subject: r.get(1),
            }));
        }
        Ok(found)
    }

    fn subjects_after(&self, after: &str, limit: u32) -> Result<Vec<SubjectRow>> {
        const SQL: &str = "SELECT code, kind, name, former_names, legal_rep_name, legal_rep_id, division, industry, \
                           created_event FROM subjects WHERE code > $1 ORDER BY code LIMIT $2";
        Ok(self.conn()?.query(SQL, &[&after, &i64::from(limit)])?.iter().map(subject_row).collect())
    }

    fn records_of(&self, code: &str) -> Result<Vec<RecordRow>> {
        const SQL: &str =
            concat!("SELECT ", crate::record_columns!(), " FROM records WHERE subject_code = $1 ORDER BY id");
        Ok(self.conn()?.query(SQL, &[&code])?.iter().map(record_row).collect())
    }

    fn breach_records_of(&self, code: &str) -> Result<Vec<RecordRow>> {
        // the item as a literal: the partial index records_commitment_breach matches it
        const SQL: &str = concat!(
            "SELECT ",
            crate::record_columns!(),
            " FROM records \
                           WHERE subject_code = $1 AND item = 'commitment_breach' ORDER BY id"
        );
        Ok(self.conn()?.query(SQL, &[&code])?.iter().map(record_row).collect())
    }

    fn records_by_ids(&self, ids: &[i64]) -> Result<Vec<RecordRow>> {
        const SQL: &str = concat!("SELECT ", crate::record_columns!(), " FROM records WHERE id = ANY($1) ORDER BY id");
        Ok(self.conn()?.query(SQL, &[&ids])?.iter().map(record_row).collect())
    }

    fn cursor(&self, name: &str) -> Result<u64> {
        let row = self.conn()?.query_opt("SELECT position FROM cursors WHERE name = $1", &[&name])?;
        Ok(row.map_or(0, |r| r.get::<_, i64>(0)) as u64)
    }

    fn set_cursor(&mut self, name: &str, position: u64) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO cursors (name, position) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET position = excluded.position",
            &[&name, &(position as i64)],
        )?;
        Ok(())
    }

    fn records_of_item(&self, item: &str, after: i64, limit: u32) -> Result<Vec<RecordRow>> {
        const SQL: &str = concat!(
            "SELECT ",
            crate::record_columns!(),
            " FROM records WHERE item = $1 AND id > $2 \
                           ORDER BY id LIMIT $3"
        );
        Ok(self.conn()?.query(SQL, &[&item, &after, &i64::from(limit)])?.iter().map(record_row).collect())
    }

    fn record(&self, id: i64) -> Result<Option<RecordRow>> {
        const SQL: &str = concat!("SELECT ", crate::record_columns!(), " FROM records WHERE id = $1");
        Ok(self.conn()?.query_opt(SQL, &[&id])?.map(|r| record_row(&r)))
    }

    fn event(&self, index: u64) -> Result<Option<EventRow>> {
        const SQL: &str = "SELECT idx, subject_code, kind, record_id, payload, leaf FROM events WHERE idx = $1";
        self.conn()?.query_opt(SQL, &[&(index as i64)])?.map(|r| event_row(&r)).transpose()
    }

    fn events(&self, from: u64, limit: u32) -> Result<Vec<EventRow>> {
        const SQL: &str = "SELECT idx, subject_code, kind, record_id, payload, leaf FROM events \
                           WHERE idx >= $1 ORDER BY idx LIMIT $2";
        self.conn()?.query(SQL, &[&(from as i64), &i64::from(limit)])?.iter().map(event_row).collect()
    }

    fn leaf_range(&self, start: u64, end: u64) -> Result<Vec<Hash>> {
        const SQL: &str = "SELECT idx, leaf FROM events WHERE idx >= $1 AND idx < $2 ORDER BY idx";
        // in pages: the client holds a whole result in memory
        const PAGE: u64 = 100_000;
        let mut conn = self.conn()?;
        let mut out = Vec::with_capacity(end.saturating_sub(start) as usize);
        let mut from = start;
        while from < end {
            let to = (from + PAGE).min(end);
            for row in conn.query(SQL, &[&(from as i64), &(to as i64)])? {
                let idx: i64 = row.get(0);
                let expected = start + out.len() as u64;
                if idx as u64 != expected {
                    return Err(StoreError::Corrupt(format!("ledger gap: expected event {expected} but found {idx}")));
                }
                out.push(to_hash(row.get(1))?);
            }
            if start + out.len() as u64 != to {
                return Err(StoreError::Corrupt(format!(
                    "ledger has {} events, expected {end}",
                    start + out.len() as u64
                )));
            }
            from = to;
        }
        Ok(out)
    }

    fn ledger_size(&self) -> Result<u64> {
        let row = self.conn()?.query_opt("SELECT MAX(idx) FROM events", &[])?;
        Ok(row.and_then(|r| r.get::<_, Option<i64>>(0)).map_or(0, |n| n as u64 + 1))
    }

    fn latest_head(&self) -> Result<Option<SignedHead>> {
        const SQL: &str = "SELECT size, root, timestamp_ms, checkpoint FROM tree_heads ORDER BY size DESC LIMIT 1";
        Ok(heads_of(self.conn()?.query(SQL, &[])?)?.pop())
    }

    fn heads(&self) -> Result<Vec<SignedHead>> {
        const SQL: &str = "SELECT size, root, timestamp_ms, checkpoint FROM tree_heads ORDER BY size";
        heads_of(self.conn()?.query(SQL, &[])?)
    }

    fn quarantine(&self, f: &QuarantineFilter) -> Result<Vec<QuarantineRow>> {
        let sql = format!(
            "SELECT q.id, q.subject_code, q.provider, q.item, q.batch, q.source, q.row_no, q.raw, q.errors, q.status, \
             q.created_ms, q.resolved_ms, q.resolved_record FROM quarantine q
             WHERE q.id > $7 AND {} ORDER BY q.id LIMIT $8",
            postgres_quality::QUARANTINE_WHERE
        );
        let limit = i64::from(if f.limit == 0 { 100 } else { f.limit });
        let [p1, p2, p3, p4, p5, p6] = postgres_quality::filter_params(f);
        Ok(self
            .conn()?
            .query(&sql, &[p1, p2, p3, p4, p5, p6, &f.after_id, &limit])?
            .iter()
            .map(quarantine_row)
            .collect())
    }

    fn quarantine_count(&self, f: &QuarantineFilter) -> Result<u64> {
        postgres_quality::quarantine_count(&mut *self.conn()?, f)
    }

    fn quarantine_reasons(&self, f: &QuarantineFilter) -> Result<Vec<crate::ReasonCount>> {
        postgres_quality::quarantine_reasons(&mut *self.conn()?, f)
    }

    fn intake_batches(&self, f: &crate::BatchFilter) -> Result<Vec<crate::BatchStats>> {
        postgres_quality::intake_batches(&mut *self.conn()?, f)
    }

    fn quarantine_entry(&self, id: i64) -> Result<Option<QuarantineRow>> {
        const SQL: &str = "SELECT id, subject_code, provider, item, batch, source, row_no, raw, errors, status, \
                           created_ms, resolved_ms, resolved_record FROM quarantine WHERE id = $1";
        Ok(self.conn()?.query_opt(SQL, &[&id])?.map(|r| quarantine_row(&r)))
    }

    fn counts(&self) -> Result<Counts> {
        let row = self.conn()?.query_opt(
            "SELECT (SELECT COUNT(*) FROM subjects), (SELECT COUNT(*) FROM records),
                    (SELECT COALESCE(MAX(idx) + 1, 0) FROM events),
                    (SELECT COUNT(*) FROM quarantine WHERE status = 'open')",
            &[],
        )?;
        let get = |i: usize| row.as_ref().map_or(0, |r| r.get::<_, i64>(i) as u64);
        Ok(Counts { subjects: get(0), records: get(1), events: get(2), quarantine_open: get(3) })
    }

    fn create_account(&mut self, a: &NewAccount, now_ms: i64) -> Result<i64> {
        let row = self.conn()?.query_opt(
            "INSERT INTO accounts (username, display_name, role, provider, password_hash, created_ms, subject_code)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (username) DO NOTHING RETURNING id",
            &[&a.username, &a.display_name, &a.role, &a.provider, &a.password_hash, &now_ms, &a.subject_code],
        )?;
        row.map(|r| r.get(0)).ok_or_else(|| StoreError::Conflict(format!("account '{}' already exists", a.username)))
    }

    fn account(&self, username: &str) -> Result<Option<Account>> {
        const SQL: &str = "SELECT id, username, display_name, role, provider, password_hash, disabled, \
                           subject_code FROM accounts WHERE username = $1";
        Ok(self.conn()?.query_opt(SQL, &[&username])?.map(|r| account_row(&r)))
    }

    fn accounts(&self) -> Result<Vec<Account>> {
        const SQL: &str = "SELECT id, username, display_name, role, provider, password_hash, disabled, subject_code FROM accounts \
             ORDER BY id";
        Ok(self.conn()?.query(SQL, &[])?.iter().map(account_row).collect())
    }

    fn add_token(&mut self, account_id: i64, token_hash: &Hash, label: &str, now_ms: i64) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO api_tokens (token_hash, account_id, label, created_ms) VALUES ($1, $2, $3, $4)",
            &[&&token_hash[..], &account_id, &label, &now_ms],
        )?;
        Ok(())
    }

    fn account_by_token(&self, token_hash: &Hash) -> Result<Option<Account>> {
        const SQL: &str = "SELECT a.id, a.username, a.display_name, a.role, a.provider, a.password_hash, a.disabled, \
                           a.subject_code FROM accounts a JOIN api_tokens t ON t.account_id = a.id WHERE t.token_hash = $1";
        Ok(self.conn()?.query_opt(SQL, &[&&token_hash[..]])?.map(|r| account_row(&r)))
    }

    fn create_session(&mut self, s: &Session) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO sessions (session_hash, account_id, csrf, created_ms, expires_ms) VALUES ($1, $2, $3, $4, $5)",
            &[&&s.session_hash[..], &s.account_id, &s.csrf, &s.created_ms, &s.expires_ms],
        )?;
        Ok(())
    }

    fn session(&self, session_hash: &Hash, now_ms: i64) -> Result<Option<(Account, Session)>> {
        const SQL: &str = "SELECT a.id, a.username, a.display_name, a.role, a.provider, a.password_hash, a.disabled, \
                           a.subject_code, s.csrf, s.created_ms, s.expires_ms FROM sessions s JOIN accounts a ON a.id = s.account_id
                           WHERE s.session_hash = $1 AND s.expires_ms > $2";
        Ok(self.conn()?.query_opt(SQL, &[&&session_hash[..], &now_ms])?.map(|row| {
            let account = account_row(&row);
            let session = Session {
                session_hash: *session_hash,
                account_id: account.id,
                csrf: row.get(8),
                created_ms: row.get(9),
                expires_ms: row.get(10),
            };
            (account, session)
        }))
    }

    fn delete_session(&mut self, session_hash: &Hash) -> Result<()> {
        self.conn()?.execute("DELETE FROM sessions WHERE session_hash = $1", &[&&session_hash[..]])?;
        Ok(())
    }

    fn log_access(&mut self, e: &AccessEntry) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO access_log (subject_code, account_id, actor, provider, purpose, what, at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&e.subject_code, &e.account_id, &e.actor, &e.provider, &e.purpose, &e.what, &e.at_ms],
        )?;
        Ok(())
    }

    fn put_listing(
        &mut self,
        listing: &Listing,
        kind: EventKind,
        p: &Provenance,
        key: &LedgerKey,
        now_ms: i64,
    ) -> Result<(Listing, SignedHead)> {
        postgres_listings::put_listing(&mut self.conn()?.client, listing, kind, p, key, now_ms)
    }

    fn put_listings(
        &mut self,
        steps: &[(Listing, EventKind)],
        p: &Provenance,
        key: &LedgerKey,
        now_ms: i64,
    ) -> Result<(Vec<Listing>, SignedHead)> {
        postgres_listings::put_listings(&mut self.conn()?.client, steps, p, key, now_ms)
    }

    fn listings_from_record(&self, record_id: i64) -> Result<Vec<Listing>> {
        postgres_listings::listings_from_record(&mut *self.conn()?, record_id)
    }

    fn put_commitments(
        &mut self,
        commitments: &[Commitment],
        p: &Provenance,
        key: &LedgerKey,
        now_ms: i64,
    ) -> Result<(Vec<Commitment>, SignedHead)> {
        postgres_commitments::put_commitments(&mut self.conn()?.client, commitments, p, key, now_ms)
    }

    fn commitment(&self, record_id: i64) -> Result<Option<Commitment>> {
        postgres_commitments::commitment(&mut *self.conn()?, record_id)
    }

    fn commitments_of(&self, subject_code: &str) -> Result<Vec<Commitment>> {
        postgres_commitments::commitments_of(&mut *self.conn()?, subject_code)
    }

    fn commitments_overdue(&self, day: &str, after: i64, limit: u32) -> Result<Vec<Commitment>> {
        postgres_commitments::commitments_overdue(&mut *self.conn()?, day, after, limit)
    }

    fn commitments_of_department(
        &self,
        department: &str,
        state: Option<&str>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Commitment>> {
        postgres_commitments::commitments_of_department(&mut *self.conn()?, department, state, after, limit)
    }

    fn put_plan(
        &mut self,
        id: &str,
        department: &str,
        doc: &str,
        read_at: Option<u64>,
        event: Option<&xinyong_core::event::EventBody>,
        key: &LedgerKey,
        now_ms: i64,
    ) -> Result<(Option<u64>, SignedHead)> {
        crate::postgres_plans::put_plan(&mut self.conn()?.client, id, department, doc, read_at, event, key, now_ms)
    }

    fn plan(&self, id: &str) -> Result<Option<crate::PlanRow>> {
        crate::postgres_plans::plan(&mut *self.conn()?, id)
    }

    fn plans(&self) -> Result<Vec<crate::PlanRow>> {
        crate::postgres_plans::plans(&mut *self.conn()?)
    }

    fn put_exchange_docs(
        &mut self,
        docs: &[crate::ExchangeDoc],
        expect: Option<&crate::Expect>,
        event: &xinyong_core::event::EventBody,
        key: &LedgerKey,
        now_ms: i64,
    ) -> Result<(u64, SignedHead)> {
        crate::postgres_exchange::put_exchange_docs(&mut self.conn()?.client, docs, expect, event, key, now_ms)
    }

    fn exchange_docs(&self, kind: &str, subject: Option<&str>) -> Result<Vec<crate::ExchangeDoc>> {
        crate::postgres_exchange::exchange_docs(&mut *self.conn()?, kind, subject)
    }

    fn exchange_doc(&self, id: &str) -> Result<Option<crate::ExchangeDoc>> {
        crate::postgres_exchange::exchange_doc(&mut *self.conn()?, id)
    }

    fn scan_for_grading(
        &self,
        facets: &std::collections::BTreeMap<String, String>,
        part: crate::grading::GradingPart,
        sink: &mut dyn crate::grading::GradingSink,
    ) -> Result<()> {
        crate::postgres_grading::scan(&mut *self.conn()?, facets, part, sink)
    }

    fn max_record_id(&self) -> Result<i64> {
        let row = self.conn()?.query_opt("SELECT COALESCE(MAX(id), 0)::BIGINT FROM records", &[])?;
        Ok(row.map_or(0, |r| r.get(0)))
    }

    fn commitments_without_breach_record(&self, after: i64, limit: u32) -> Result<Vec<Commitment>> {
        postgres_commitments::commitments_without_breach_record(&mut *self.conn()?, after, limit)
    }

    fn link_breach_record(&mut self, record_id: i64, breach_record: i64) -> Result<()> {
        postgres_commitments::link_breach_record(&mut *self.conn()?, record_id, breach_record)
    }

    fn mark_breach_refused(&mut self, refusals: &[(i64, i64, u64)]) -> Result<()> {
        postgres_commitments::mark_breach_refused(&mut *self.conn()?, refusals)
    }

    fn listing(&self, id: i64) -> Result<Option<Listing>> {
        postgres_listings::listing(&mut *self.conn()?, id)
    }

    fn listings_of(&self, subject_code: &str) -> Result<Vec<Listing>> {
        postgres_listings::listings_of(&mut *self.conn()?, subject_code)
    }

    fn listings(&self, filter: &ListingFilter) -> Result<Vec<Listing>> {
        postgres_listings::listings(&mut *self.conn()?, filter)
    }

    fn listings_changed_since(&self, from: u64) -> Result<Vec<Listing>> {
        postgres_listings::listings_changed_since(&mut *self.conn()?, from)
    }

    fn subjects_created_since(&self, from: u64, limit: u32) -> Result<Vec<SubjectRow>> {
        postgres_listings::subjects_created_since(&mut *self.conn()?, from, limit)
    }

    fn record_checks(&mut self, checks: &[CheckRow]) -> Result<()> {
        postgres_listings::record_checks(&mut *self.conn()?, checks)
    }

    fn check_entry(&self, id: &str) -> Result<Option<CheckRow>> {
        postgres_listings::check_entry(&mut *self.conn()?, id)
    }

    fn record_feedback(&mut self, check_id: &str, f: &Feedback) -> Result<()> {
        postgres_listings::record_feedback(&mut *self.conn()?, check_id, f)
    }

    fn checks_of(&self, subject_code: &str, limit: u32) -> Result<Vec<CheckRow>> {
        postgres_listings::checks_of(&mut *self.conn()?, subject_code, limit)
    }

    fn check_stats(&self, department: Option<&str>) -> Result<Vec<DepartmentStats>> {
        postgres_listings::check_stats(&mut *self.conn()?, department)
    }

    fn apply_change(&mut self, change: &Change, p: &Provenance, key: &LedgerKey, now_ms: i64) -> Result<Changed> {
        postgres_cases::apply_change(&mut *self.conn()?, change, p, key, now_ms)
    }

    fn case(&self, id: i64) -> Result<Option<(Case, Option<Hash>)>> {
        postgres_cases::case(&mut *self.conn()?, id)
    }

    fn cases(&self, filter: &CaseFilter) -> Result<Vec<Case>> {
        postgres_cases::cases(&mut *self.conn()?, filter)
    }

    fn cases_changed_since(&self, from: u64) -> Result<Vec<Case>> {
        postgres_cases::cases_changed_since(&mut *self.conn()?, from)
    }

    fn notifications(&self, recipient_kind: &str, recipient: &str, limit: u32) -> Result<Vec<Notification>> {
        postgres_cases::notifications(&mut *self.conn()?, recipient_kind, recipient, limit)
    }

    fn mark_notification_read(&mut self, id: i64, recipient_kind: &str, recipient: &str, now_ms: i64) -> Result<bool> {
        postgres_cases::mark_notification_read(&mut *self.conn()?, id, recipient_kind, recipient, now_ms)
    }

    fn access_log(&self, subject_code: &str, limit: u32) -> Result<Vec<AccessEntry>> {
        const SQL: &str = "SELECT subject_code, account_id, actor, provider, purpose, what, at_ms FROM access_log
                           WHERE subject_code = $1 ORDER BY at_ms DESC, id DESC LIMIT $2";
        Ok(self
            .conn()?
            .query(SQL, &[&subject_code, &i64::from(limit)])?
            .iter()
            .map(|row| AccessEntry {
                subject_code: row.get(0),
                account_id: row.get(1),
                actor: row.get(2),
                provider: row.get(3),
                purpose: row.get(4),
                what: row.get(5),
                at_ms: row.get(6),
            })
            .collect())
    }

    fn put_webhook(&mut self, w: &crate::Webhook) -> Result<()> {
        postgres_cases::put_webhook(&mut *self.conn()?, w)
    }

    fn webhooks(&self) -> Result<Vec<crate::Webhook>> {
        postgres_cases::webhooks(&mut *self.conn()?)
    }

    fn due_deliveries(&self, now_ms: i64, limit: u32) -> Result<Vec<crate::Delivery>> {
        postgres_cases::due_deliveries(&mut *self.conn()?, now_ms, limit)
    }

    fn record_delivery(&mut self, id: i64, error: Option<&str>, now_ms: i64) -> Result<()> {
        postgres_cases::record_delivery(&mut *self.conn()?, id, error, now_ms)
    }

    fn put_evidence(
        &mut self,
        sha256: &str,
        media_type: &str,
        content: &[u8],
        uploaded_by: &str,
        now_ms: i64,
    ) -> Result<bool> {
        // ON CONFLICT: two nodes storing the same bytes at once store them once
        let n = self.conn()?.execute(
            "INSERT INTO evidence (sha256, media_type, size, content, stored_ms, uploaded_by)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (sha256) DO NOTHING",
            &[&sha256, &media_type, &(content.len() as i64), &content, &now_ms, &uploaded_by],
        )?;
        Ok(n == 1)
    }

    fn evidence(&self, sha256: &str) -> Result<Option<(String, Vec<u8>)>> {
        const SQL: &str = "SELECT media_type, content FROM evidence WHERE sha256 = $1";
        Ok(self.conn()?.query_opt(SQL, &[&sha256])?.map(|row| (row.get(0), row.get(1))))
    }

    fn evidence_meta(&self, sha256: &str) -> Result<Option<(String, u64)>> {
        const SQL: &str = "SELECT media_type, size FROM evidence WHERE sha256 = $1";
        Ok(self.conn()?.query_opt(SQL, &[&sha256])?.map(|row| (row.get(0), row.get::<_, i64>(1) as u64)))
    }
}

pub(crate) use crate::RECORD_COLUMNS;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::testing::{ScratchSchema, server_or_skip};

    #[test]
    fn schema_in_url_is_created_and_migrations_run_once() {
        let Some(base) = server_or_skip("schema_in_url_is_created_and_migrations_run_once") else { return };
        let schema = ScratchSchema::new(&base, "mig").unwrap();
        // a schema named in the URL that does not exist yet is created at open
        let fresh = format!("{}_new", schema.name);
        let url = crate::testing::url_with_schema(&base, &fresh);
        let a = PgStore::open(&url).unwrap();
        let b = PgStore::open(&url).unwrap();
        let versions: i64 =
            a.client().unwrap().client().query_one("SELECT COUNT(*) FROM xinyong_migrations", &[]).unwrap().get(0);
        assert_eq!(versions, MIGRATIONS.len() as i64);
        assert_eq!(b.ledger_size().unwrap(), 0);
        let here: String = a.client().unwrap().client().query_one("SELECT current_schema()", &[]).unwrap().get(0);
        assert_eq!(here, fresh);
        drop((a, b));
        a_drop(&base, &fresh);
    }

    fn a_drop(base: &str, schema: &str) {
        let mut c: postgres::Client = base.parse::<postgres::Config>().unwrap().connect(NoTls).unwrap();
        c.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).unwrap();
    }

    #[test]
    fn a_raw_code_cell_with_nul_is_quarantined() {
        let Some(base) = server_or_skip("a_raw_code_cell_with_nul_is_quarantined") else { return };
        let schema = ScratchSchema::new(&base, "nul").unwrap();
        let mut store = schema.open().unwrap();
        let raw = "{\"统一社会信用代码\":\"9111\\u0000\"}".to_string();
        let q = NewQuarantine {
            provider: "p".into(),
            item: "honour".into(),
            batch: "b".into(),
            source: "t.csv".into(),
            row: Some(2),
            raw_hash: xinyong_ledger::leaf_hash(raw.as_bytes()),
            raw,
            subject_hint: Some("9111\0".into()),
            errors: vec![],
            replaces: None,
        };
        let out = store.append(&[Entry::Quarantine(Box::new(q))], &LedgerKey::generate("t/l"), 1).unwrap();
        let Outcome::Quarantined { quarantine_id, already_known: false } = out.outcomes[0] else { panic!("{out:?}") };
        let entry = store.quarantine_entry(quarantine_id).unwrap().unwrap();
        assert_eq!(entry.subject_hint.as_deref(), Some("9111"));
    }

    /// Two stores (as two server nodes would have) append to one schema at once: the
    /// ledger stays dense and every signed head matches the leaves it covers.
    #[test]
    fn two_writers_on_one_schema_never_fork_the_ledger() {
        let Some(base) = server_or_skip("two_writers_on_one_schema_never_fork_the_ledger") else { return };
        let schema = ScratchSchema::new(&base, "fork").unwrap();
        let key = LedgerKey::generate("test/ledger");
        let catalog = xinyong_core::Catalog::bundled().unwrap();
        let item = catalog.item("honour").unwrap();
        let codes = ["91110108551385082Q", "91110000802100433B"];
        let batches = 15;
        let per_batch = 4;
        std::thread::scope(|s| {
            for node in 0..2 {
                let (url, key, item) = (schema.url(), &key, item);
                s.spawn(move || {
                    let mut store = PgStore::open(&url).unwrap();
                    for b in 0..batches {
                        let entries: Vec<Entry> = (0..per_batch)
                            .map(|i| {
                                let doc = format!("京发〔2024〕{node}-{b}-{i}号");
                                let pairs = [
                                    ("主体名称", "北京测试科技有限公司"),
                                    ("统一社会信用代码", codes[i % 2]),
                                    ("荣誉名称", "守合同重信用企业"),
                                    ("荣誉等级", "市级"),
                                    ("授予日期", "2024-05-06"),
                                    ("授予机关", "北京市市场监督管理局"),
                                    ("表彰决定文号", doc.as_str()),
                                ];
                                let values: Vec<Option<&str>> = item
                                    .fields
                                    .iter()
                                    .map(|f| pairs.iter().find(|(k, _)| *k == f.name).map(|(_, v)| *v))
                                    .collect();
                                let rec =
                                    xinyong_core::record::validate(item, &values, time::macros::date!(2026 - 01 - 01))
                                        .unwrap();
                                let p = Provenance {
                                    at: 1,
                                    batch: format!("n{node}"),
                                    provider: "p".into(),
                                    source: "t".into(),
                                    row: None,
                                };
                                Entry::Record(Box::new(crate::NewRecord::prepare(rec, "p", p, None)))
                            })
                            .collect();
                        store.append(&entries, key, b as i64).unwrap();
                    }
                });
            }
        });
        let store = schema.open().unwrap();
        // 2 subject events + one event per record
        let expected = 2 + 2 * batches * per_batch;
        assert_eq!(store.ledger_size().unwrap(), expected as u64);
        let heads = store.heads().unwrap();
        assert_eq!(heads.len(), 2 * batches, "one head per batch");
        let leaves = store.leaf_hashes(expected as u64).unwrap();
        for h in &heads {
            assert_eq!(key.verifier().verify(&h.checkpoint).unwrap(), h.head);
            assert_eq!(xinyong_ledger::root_of(&leaves[..h.head.size as usize]), h.head.root);
        }
        assert_eq!(store.counts().unwrap().records, (2 * batches * per_batch) as u64);
    }
}
