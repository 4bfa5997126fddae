//! The embedded back end: one SQLite file in the data directory, WAL mode, and
//! `synchronous=FULL` so a batch the caller was told about survives a power cut.

use std::borrow::Cow;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use xinyong_core::event::{EventKind, Provenance};
use xinyong_ledger::{Frontier, Hash, LedgerKey, SignedHead, TreeHead};

use crate::IdentifierMatch;
use crate::codec;
use crate::plan;
use crate::sqlite_cases;
use crate::sqlite_commitments;
use crate::sqlite_listings;
use crate::sqlite_quality;
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
    (1, include_str!("../migrations/sqlite/0001_init.sql")),
    (2, include_str!("../migrations/sqlite/0002_accounts.sql")),
    (3, include_str!("../migrations/sqlite/0003_listings_checks.sql")),
    (4, include_str!("../migrations/sqlite/0004_check_log.sql")),
    (5, include_str!("../migrations/sqlite/0005_due_process.sql")),
    (6, include_str!("../migrations/sqlite/0006_evidence.sql")),
    (7, include_str!("../migrations/sqlite/0007_derived_lists.sql")),
    (8, include_str!("../migrations/sqlite/0008_subject_identifiers.sql")),
    (9, include_str!("../migrations/sqlite/0009_intake_batches.sql")),
    (10, include_str!("../migrations/sqlite/0010_commitments.sql")),
    (11, include_str!("../migrations/sqlite/0011_commitment_queue.sql")),
    (12, include_str!("../migrations/sqlite/0012_inspection_plans.sql")),
    (13, include_str!("../migrations/sqlite/0013_exchange.sql")),
    (14, include_str!("../migrations/sqlite/0014_hot_path_indexes.sql")),
    (15, include_str!("../migrations/sqlite/0015_breach_refusals.sql")),
];

/// A pooled reader's page cache (KiB): 32 idle readers with the writer's 64 MiB each
/// could hold 2 GiB after a day of random reads over a store of Beijing's size.
const READER_CACHE_KIB: u32 = 8 * 1024;

pub struct SqliteStore {
    pub(crate) conn: Connection,
    /// The database file (none for a private in-memory database): more connections open it.
    path: Option<std::path::PathBuf>,
    /// Subjects known to exist: skips one B-tree probe per subject and batch during bulk
    /// intake. Filled only after a commit, so it never claims an uncommitted subject.
    known_subjects: std::collections::HashSet<String>,
}

impl SqliteStore {
    /// Opens (creating and migrating when needed) the database file at `path`.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        let mut store = SqliteStore::connect_to(path)?;
        store.migrate()?;
        Ok(store)
    }

    /// One more connection to a migrated database file (WAL: readers never wait for
    /// the writer, and writers wait for each other up to the busy timeout).
    fn connect_to(path: &Path) -> Result<SqliteStore> {
        let conn = Connection::open(path)?;
        conn.execute_batch(
            "PRAGMA page_size=4096; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000;
             PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;",
        )?;
        add_functions(&conn)?;
        Ok(SqliteStore { conn, path: Some(path.to_path_buf()), known_subjects: Default::default() })
    }

    /// A private in-memory database (tests).
    pub fn open_in_memory() -> Result<SqliteStore> {
        let conn = Connection::open_in_memory()?;
        add_functions(&conn)?;
        let mut store = SqliteStore { conn, path: None, known_subjects: Default::default() };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<()> {
        let current: i64 = self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        for (version, sql) in MIGRATIONS {
            if *version > current {
                let tx = write_tx(&mut self.conn)?;
                tx.execute_batch(sql)?;
                tx.execute_batch(&format!("PRAGMA user_version = {version}"))?;
                tx.commit()?;
            }
        }
        Ok(())
    }

    /// Another connection to the same file.
    fn another(&self) -> Result<SqliteStore> {
        match &self.path {
            Some(p) => SqliteStore::connect_to(p),
            None => Err(StoreError::Conflict("a private in-memory database has no second connection".into())),
        }
    }

    /// Events with index in `[from, from + limit)`, in order, as read.
    fn event_rows(&self, from: u64, limit: u32) -> Result<Vec<RawEvent>> {
        let mut st = self.conn.prepare_cached(
            "SELECT idx, subject_code, kind, record_id, payload, leaf FROM events WHERE idx >= ?1 ORDER BY idx LIMIT ?2",
        )?;
        Ok(st.query_map(params![from as i64, limit], event_row)?.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Direct access for tests that tamper with stored data behind the application's back.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// `event_json(payload)`: a stored event payload as its canonical JSON text, for queries
/// that read a field of an event (grading's facets); payloads are stored compressed.
fn add_functions(conn: &Connection) -> Result<()> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        "event_json",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC | FunctionFlags::SQLITE_INNOCUOUS,
        |ctx| {
            let Some(stored) =
                ctx.get_raw(0).as_blob_or_null().map_err(|e| rusqlite::Error::UserFunctionError(e.into()))?
            else {
                return Ok(None);
            };
            let canonical = codec::unpack(stored).map_err(|e| rusqlite::Error::UserFunctionError(e.into()))?;
            String::from_utf8(canonical.into_owned())
                .map(Some)
                .map_err(|e| rusqlite::Error::UserFunctionError(e.into()))
        },
    )?;
    Ok(())
}

/// A write transaction that takes the database's write lock at BEGIN: a deferred one
/// that read first could not upgrade after another connection committed (SQLITE_BUSY
/// without waiting), and several connections write here (ledger appender, check log).
pub(crate) fn write_tx(conn: &mut Connection) -> rusqlite::Result<Transaction<'_>> {
    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
}

pub(crate) fn load_frontier(tx: &Transaction<'_>, hash: xinyong_ledger::TreeHash) -> Result<Frontier> {
    let bytes: Option<Vec<u8>> =
        tx.query_row("SELECT v FROM meta WHERE k = 'frontier'", [], |r| r.get(0)).optional()?;
    match bytes {
        Some(b) => Ok(Frontier::from_bytes(&b)?.with_hash(hash)),
        None => Ok(Frontier::new_in(hash)),
    }
}

fn to_hash(b: Vec<u8>) -> Result<Hash> {
    b.try_into().map_err(|_| StoreError::Corrupt("a stored hash is not 32 bytes".into()))
}

/// Appends one event within the open transaction and advances the frontier.
/// [`push_event`] with the leaf hashed in the frontier's tree hash.
pub(crate) fn push_body(
    tx: &Transaction<'_>,
    frontier: &mut Frontier,
    subject: &str,
    kind: EventKind,
    record_id: Option<i64>,
    payload: &[u8],
) -> Result<u64> {
    let leaf = frontier.leaf_hash(payload);
    push_event(tx, frontier, subject, kind, record_id, payload, &leaf)
}

pub(crate) fn push_event(
    tx: &Transaction<'_>,
    frontier: &mut Frontier,
    subject: &str,
    kind: EventKind,
    record_id: Option<i64>,
    payload: &[u8],
    leaf: &Hash,
) -> Result<u64> {
    let idx = frontier.size();
    let mut st = tx.prepare_cached(
        "INSERT INTO events (idx, subject_code, kind, record_id, payload, leaf) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    st.execute(params![idx as i64, subject, kind.as_str(), record_id, &codec::pack(payload)[..], &leaf[..]])?;
    frontier.push(*leaf);
    Ok(idx)
}

pub(crate) fn sign_head(tx: &Transaction<'_>, frontier: &Frontier, key: &LedgerKey, now_ms: i64) -> Result<SignedHead> {
    tx.execute("INSERT OR REPLACE INTO meta (k, v) VALUES ('frontier', ?1)", params![frontier.to_bytes()])?;
    let head = TreeHead { size: frontier.size(), root: frontier.root(), timestamp_ms: now_ms };
    let signed = key.sign(&head);
    tx.execute(
        "INSERT OR REPLACE INTO tree_heads (size, root, timestamp_ms, checkpoint) VALUES (?1, ?2, ?3, ?4)",
        params![head.size as i64, &head.root[..], head.timestamp_ms, signed.checkpoint],
    )?;
    Ok(signed)
}

/// Looks up what a batch touches, within the write transaction. Subjects in `known`
/// (committed earlier through this connection) are not probed again unless a
/// registration row needs their names.
fn look_up<'a>(
    tx: &Transaction<'_>,
    touched: &plan::Touched<'a>,
    known: &std::collections::HashSet<String>,
) -> Result<plan::Stored<'a>> {
    let mut stored = plan::Stored::default();
    if touched.codes.is_empty() {
        return Ok(stored);
    }
    let mut st = tx.prepare_cached("SELECT name, former_names FROM subjects WHERE code = ?1")?;
    for &code in &touched.codes {
        let renamed = touched.is_renamed(code);
        if !renamed && known.contains(code) {
            stored.subjects.insert(code, None);
            continue;
        }
        let row: Option<(String, String)> = st.query_row([code], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
        if let Some((name, former)) = row {
            let names = renamed.then(|| plan::Names { name, former_names: parse_former_names(&former) });
            stored.subjects.insert(code, names);
        }
    }
    let mut st = tx.prepare_cached(
        "SELECT id, fingerprint, subject_code FROM records WHERE provider = ?1 AND item = ?2 AND record_key = ?3",
    )?;
    for &identity in &touched.identities {
        let (provider, item, key) = identity;
        let row: Option<(i64, Vec<u8>, String)> =
            st.query_row(params![provider, item, key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional()?;
        if let Some((id, fingerprint, subject)) = row {
            stored.records.insert(identity, plan::StoredRecord { id, fingerprint: to_hash(fingerprint)?, subject });
        }
    }
    // the rowid SQLite would assign: the largest + 1
    stored.next_record_id = tx.query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM records", [], |r| r.get(0))?;
    Ok(stored)
}

pub(crate) fn parse_former_names(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

/// Writes a batch's plan within the transaction; the frontier follows the events.
fn execute(tx: &Transaction<'_>, plan: &mut plan::Plan<'_>, frontier: &mut Frontier, now_ms: i64) -> Result<()> {
    plan.check_start(frontier.size())?;
    if !plan.new_subjects.is_empty() {
        let mut st = tx.prepare_cached(
            "INSERT INTO subjects (code, kind, name, former_names, legal_rep_name, legal_rep_id, division, industry,
             created_event) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for s in &plan.new_subjects {
            let f = &s.fields;
            st.execute(params![
                s.code,
                s.kind,
                f.name.as_ref(),
                f.former_names_json(),
                f.legal_rep_name,
                f.legal_rep_id,
                f.division,
                f.industry,
                s.created_event as i64
            ])?;
        }
    }
    if !plan.subject_updates.is_empty() {
        let mut st = tx.prepare_cached(
            "UPDATE subjects SET name = ?2, former_names = ?3, legal_rep_name = ?4, legal_rep_id = ?5,
             division = COALESCE(?6, division), industry = ?7 WHERE code = ?1",
        )?;
        for u in &plan.subject_updates {
            let f = &u.fields;
            st.execute(params![
                u.code,
                f.name.as_ref(),
                f.former_names_json(),
                f.legal_rep_name,
                f.legal_rep_id,
                f.division,
                f.industry
            ])?;
        }
    }
    if !plan.new_records.is_empty() {
        let mut st = tx.prepare_cached(
            "INSERT INTO records (id, subject_code, provider, item, record_key, fingerprint, status, decision_date, tier,
             event_idx) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'active', ?7, ?8, ?9)",
        )?;
        for r in &plan.new_records {
            st.execute(params![
                r.id,
                r.subject,
                r.provider,
                r.item,
                r.key,
                &r.fingerprint[..],
                r.decision_date,
                r.tier,
                r.event_index as i64
            ])?;
        }
    }
    if !plan.record_updates.is_empty() {
        let mut st = tx.prepare_cached(
            "UPDATE records SET fingerprint = ?2, status = 'active', decision_date = ?3, tier = ?4, event_idx = ?5,
             revoked_event = NULL WHERE id = ?1",
        )?;
        for u in &plan.record_updates {
            st.execute(params![u.id, &u.fingerprint[..], u.decision_date, u.tier, u.event_index as i64])?;
        }
    }
    if !plan.events.is_empty() {
        let mut st = tx.prepare_cached(
            "INSERT INTO events (idx, subject_code, kind, record_id, payload, leaf) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for e in &plan.events {
            let stored = match e.stored {
                Some(packed) => Cow::Borrowed(packed),
                None => codec::pack(&e.payload),
            };
            st.execute(params![e.index as i64, e.subject, e.kind.as_str(), e.record_id, &stored[..], &e.leaf[..]])?;
            frontier.push(e.leaf);
        }
    }
    if !plan.identifiers.is_empty() {
        let mut st = tx.prepare_cached(
            "INSERT INTO subject_identifiers (scheme, value, subject_code, record_id) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (scheme, value, subject_code) DO NOTHING",
        )?;
        for i in &plan.identifiers {
            st.execute(params![i.scheme, i.value, i.subject, i.record_id])?;
        }
    }
    plan.run_quarantine(|w| write_quarantine(tx, w, now_ms))
}

fn write_quarantine(tx: &Transaction<'_>, w: &plan::QuarantineWrite<'_>, now_ms: i64) -> Result<Option<Outcome>> {
    match w {
        plan::QuarantineWrite::Insert { row, .. } => insert_quarantine(tx, row, now_ms).map(Some),
        plan::QuarantineWrite::Replace { id, row, .. } => {
            let other: Option<i64> = tx
                .prepare_cached(
                    "SELECT id FROM quarantine WHERE provider = ?1 AND item = ?2 AND raw_hash = ?3 AND id <> ?4",
                )?
                .query_row(params![row.provider, row.item, &row.raw_hash[..], id], |r| r.get(0))
                .optional()?;
            if let Some(other) = other {
                return Err(plan::same_row_as(*id, other));
            }
            let errors = serde_json::to_string(&row.errors).unwrap_or_else(|_| "[]".into());
            let n = tx
                .prepare_cached(
                    "UPDATE quarantine SET raw = ?2, raw_hash = ?3, errors = ?4, batch = ?5 WHERE id = ?1 AND status = 'open'",
                )?
                .execute(params![id, row.raw, &row.raw_hash[..], errors, row.batch])?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("open quarantine entry {id}")));
            }
            Ok(None)
        }
        plan::QuarantineWrite::Resolve { id, record_id } => {
            tx.prepare_cached(
                "UPDATE quarantine SET status = 'resolved', resolved_ms = ?2, resolved_record = ?3 WHERE id = ?1",
            )?
            .execute(params![id, now_ms, record_id])?;
            Ok(None)
        }
    }
}

fn insert_quarantine(tx: &Transaction<'_>, q: &NewQuarantine, now_ms: i64) -> Result<Outcome> {
    let errors = serde_json::to_string(&q.errors).unwrap_or_else(|_| "[]".into());
    let new_id: Option<i64> = tx
        .prepare_cached(
            "INSERT INTO quarantine (subject_code, provider, item, batch, source, row_no, raw, raw_hash, errors, status, created_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'open', ?10)
             ON CONFLICT (provider, item, raw_hash) DO NOTHING RETURNING id",
        )?
        .query_row(
            params![
                q.subject_hint,
                q.provider,
                q.item,
                q.batch,
                q.source,
                q.row.map(|r| r as i64),
                q.raw,
                &q.raw_hash[..],
                errors,
                now_ms
            ],
            |row| row.get(0),
        )
        .optional()?;
    match new_id {
        Some(id) => Ok(Outcome::Quarantined { quarantine_id: id, already_known: false }),
        None => {
            let id: i64 = tx.query_row(
                "SELECT id FROM quarantine WHERE provider = ?1 AND item = ?2 AND raw_hash = ?3",
                params![q.provider, q.item, &q.raw_hash[..]],
                |row| row.get(0),
            )?;
            Ok(Outcome::Quarantined { quarantine_id: id, already_known: true })
        }
    }
}

pub(crate) const SUBJECT_COLUMNS: &str =
    "code, kind, name, former_names, legal_rep_name, legal_rep_id, division, industry, created_event";

pub(crate) fn subject_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<SubjectRow> {
    let former: String = row.get(3)?;
    Ok(SubjectRow {
        code: row.get(0)?,
        kind: row.get(1)?,
        name: row.get(2)?,
        former_names: serde_json::from_str(&former).unwrap_or_default(),
        legal_rep_name: row.get(4)?,
        legal_rep_id: row.get(5)?,
        division: row.get(6)?,
        industry: row.get(7)?,
        created_event: row.get::<_, i64>(8)? as u64,
    })
}

pub(crate) use crate::RECORD_COLUMNS;

pub(crate) fn record_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RecordRow> {
    Ok(RecordRow {
        id: row.get(0)?,
        subject_code: row.get(1)?,
        provider: row.get(2)?,
        item: row.get(3)?,
        key: row.get(4)?,
        status: row.get(5)?,
        decision_date: row.get(6)?,
        tier: row.get(7)?,
        event_index: row.get::<_, i64>(8)? as u64,
        revoked_event: row.get::<_, Option<i64>>(9)?.map(|i| i as u64),
        repaired_event: row.get::<_, Option<i64>>(10)?.map(|i| i as u64),
    })
}

const QUARANTINE_COLUMNS: &str = "id, subject_code, provider, item, batch, source, row_no, raw, errors, status, created_ms, resolved_ms, resolved_record";

fn quarantine_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<QuarantineRow> {
    let errors: String = row.get(8)?;
    Ok(QuarantineRow {
        id: row.get(0)?,
        subject_hint: row.get(1)?,
        provider: row.get(2)?,
        item: row.get(3)?,
        batch: row.get(4)?,
        source: row.get(5)?,
        row: row.get::<_, Option<i64>>(6)?.map(|r| r as u64),
        raw: row.get(7)?,
        errors: serde_json::from_str(&errors).unwrap_or_default(),
        status: row.get(9)?,
        created_ms: row.get(10)?,
        resolved_ms: row.get(11)?,
        resolved_record: row.get(12)?,
    })
}

/// An event row before its leaf is checked to be 32 bytes.
type RawEvent = (u64, String, String, Option<i64>, Vec<u8>, Vec<u8>);

fn event_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawEvent> {
    Ok((row.get::<_, i64>(0)? as u64, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?))
}

/// The event with its payload as stored (perhaps compressed).
fn to_stored_event(t: RawEvent) -> Result<EventRow> {
    Ok(EventRow { index: t.0, subject_code: t.1, kind: t.2, record_id: t.3, payload: t.4, leaf: to_hash(t.5)? })
}

/// The event with its canonical payload.
fn to_event(t: RawEvent) -> Result<EventRow> {
    let e = to_stored_event(t)?;
    Ok(EventRow { payload: codec::unpacked(e.payload)?, ..e })
}

const ACCOUNT_COLUMNS: &str = "id, username, display_name, role, provider, password_hash, disabled, subject_code";

fn account_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Account> {
    Ok(Account {
        id: row.get(0)?,
        username: row.get(1)?,
        display_name: row.get(2)?,
        role: row.get(3)?,
        provider: row.get(4)?,
        password_hash: row.get(5)?,
        disabled: row.get::<_, i64>(6)? != 0,
        subject_code: row.get(7)?,
    })
}

impl Store for SqliteStore {
    fn begin_read(&self) -> Result<()> {
        Ok(self.conn.execute_batch("BEGIN DEFERRED")?)
    }

    fn end_read(&self) -> Result<()> {
        // a read transaction has nothing to commit; ending it releases the snapshot
        if !self.conn.is_autocommit() {
            self.conn.execute_batch("COMMIT")?;
        }
        Ok(())
    }

    fn connect(&self) -> Result<Box<dyn Store>> {
        Ok(Box::new(self.another()?))
    }

    fn connect_reader(&self) -> Result<Box<dyn Store>> {
        let store = self.another()?;
        store.conn.execute_batch(&format!("PRAGMA cache_size=-{READER_CACHE_KIB}"))?;
        Ok(Box::new(store))
    }

    fn event_refs(&self, from: u64, limit: u32) -> Result<Vec<EventRef>> {
        let mut st = self.conn.prepare_cached(
            "SELECT idx, subject_code, kind, record_id FROM events WHERE idx >= ?1 ORDER BY idx LIMIT ?2",
        )?;
        let rows = st
            .query_map(params![from as i64, limit], |r| {
                Ok(EventRef {
                    index: r.get::<_, i64>(0)? as u64,
                    subject_code: r.get(1)?,
                    kind: r.get(2)?,
                    record_id: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn create_account(&mut self, a: &NewAccount, now_ms: i64) -> Result<i64> {
        let n = self.conn.execute(
            "INSERT INTO accounts (username, display_name, role, provider, password_hash, created_ms, subject_code)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (username) DO NOTHING",
            params![a.username, a.display_name, a.role, a.provider, a.password_hash, now_ms, a.subject_code],
        )?;
        if n == 0 {
            return Err(StoreError::Conflict(format!("account '{}' already exists", a.username)));
        }
        Ok(self.conn.last_insert_rowid())
    }

    fn account(&self, username: &str) -> Result<Option<Account>> {
        Ok(self
            .conn
            .prepare_cached(&format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE username = ?1"))?
            .query_row([username], account_row)
            .optional()?)
    }

    fn accounts(&self) -> Result<Vec<Account>> {
        let mut st = self.conn.prepare_cached(&format!("SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY id"))?;
        let rows = st.query_map([], account_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn add_token(&mut self, account_id: i64, token_hash: &Hash, label: &str, now_ms: i64) -> Result<()> {
        self.conn.execute(
            "INSERT INTO api_tokens (token_hash, account_id, label, created_ms) VALUES (?1, ?2, ?3, ?4)",
            params![&token_hash[..], account_id, label, now_ms],
        )?;
        Ok(())
    }

    fn account_by_token(&self, token_hash: &Hash) -> Result<Option<Account>> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {} FROM accounts a JOIN api_tokens t ON t.account_id = a.id WHERE t.token_hash = ?1",
                ACCOUNT_COLUMNS.split(", ").map(|c| format!("a.{c}")).collect::<Vec<_>>().join(", ")
            ))?
            .query_row([&token_hash[..]], account_row)
            .optional()?)
    }

    fn create_session(&mut self, s: &Session) -> Result<()> {
        self.conn.execute(
            "INSERT INTO sessions (session_hash, account_id, csrf, created_ms, expires_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![&s.session_hash[..], s.account_id, s.csrf, s.created_ms, s.expires_ms],
        )?;
        Ok(())
    }

    fn session(&self, session_hash: &Hash, now_ms: i64) -> Result<Option<(Account, Session)>> {
        let cols = ACCOUNT_COLUMNS.split(", ").map(|c| format!("a.{c}")).collect::<Vec<_>>().join(", ");
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {cols}, s.csrf, s.created_ms, s.expires_ms FROM sessions s JOIN accounts a ON a.id = s.account_id
                 WHERE s.session_hash = ?1 AND s.expires_ms > ?2"
            ))?
            .query_row(params![&session_hash[..], now_ms], |row| {
                let account = account_row(row)?;
                let session = Session {
                    session_hash: *session_hash,
                    account_id: account.id,
                    csrf: row.get(8)?,
                    created_ms: row.get(9)?,
                    expires_ms: row.get(10)?,
                };
                Ok((account, session))
            })
            .optional()?)
    }

    fn delete_session(&mut self, session_hash: &Hash) -> Result<()> {
        self.conn.execute("DELETE FROM sessions WHERE session_hash = ?1", [&session_hash[..]])?;
        Ok(())
    }

    fn log_access(&mut self, e: &AccessEntry) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO access_log (subject_code, account_id, actor, provider, purpose, what, at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![e.subject_code, e.account_id, e.actor, e.provider, e.purpose, e.what, e.at_ms])?;
        Ok(())
    }

    fn access_log(&self, subject_code: &str, limit: u32) -> Result<Vec<AccessEntry>> {
        let mut st = self.conn.prepare_cached(
            "SELECT subject_code, account_id, actor, provider, purpose, what, at_ms FROM access_log
             WHERE subject_code = ?1 ORDER BY at_ms DESC, id DESC LIMIT ?2",
        )?;
        let rows = st
            .query_map(params![subject_code, limit], |row| {
                Ok(AccessEntry {
                    subject_code: row.get(0)?,
                    account_id: row.get(1)?,
                    actor: row.get(2)?,
                    provider: row.get(3)?,
                    purpose: row.get(4)?,
                    what: row.get(5)?,
                    at_ms: row.get(6)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn append(&mut self, entries: &[Entry], key: &LedgerKey, now_ms: i64) -> Result<BatchOutcome> {
        self.append_in_tx(entries, key, now_ms)
    }

    fn subject(&self, code: &str) -> Result<Option<SubjectRow>> {
        Ok(self
            .conn
            .prepare_cached(&format!("SELECT {SUBJECT_COLUMNS} FROM subjects WHERE code = ?1"))?
            .query_row([code], subject_row)
            .optional()?)
    }

    fn subjects_by_identifiers(&self, ids: &[(&str, &str)]) -> Result<Vec<IdentifierMatch>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let pairs = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
        let org: Vec<&str> = ids.iter().filter(|(s, _)| *s == "org_code").map(|(_, v)| *v).collect();
        let mut found = self
            .conn
            .prepare_cached(
                "SELECT i.scheme, i.value, i.subject_code FROM json_each(?1) j
                 JOIN subject_identifiers i
                   ON i.scheme = json_extract(j.value, '$[0]') AND i.value = json_extract(j.value, '$[1]')",
            )?
            .query_map([pairs], |r| Ok(IdentifierMatch { scheme: r.get(0)?, value: r.get(1)?, subject: r.get(2)? }))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        if !org.is_empty() {
            let codes = serde_json::to_string(&org).unwrap_or_else(|_| "[]".into());
            // the same terms as the partial index subjects_org_code, so it is used
            let embedded = self
                .conn
                .prepare_cached(
                    "SELECT substr(s.code, 9, 9), s.code FROM json_each(?1) j
                     JOIN subjects s ON substr(s.code, 9, 9) = j.value
                     WHERE length(s.code) = 18 AND s.kind <> 'natural_person'",
                )?
                .query_map([codes], |r| {
                    Ok(IdentifierMatch { scheme: "org_code".into(), value: r.get(0)?, subject: r.get(1)? })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            found.extend(embedded);
        }
        Ok(found)
    }

    fn subjects_after(&self, after: &str, limit: u32) -> Result<Vec<SubjectRow>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {SUBJECT_COLUMNS} FROM subjects WHERE code > ?1 ORDER BY code LIMIT ?2"
        ))?;
        let rows = st.query_map(params![after, limit], subject_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn records_of(&self, code: &str) -> Result<Vec<RecordRow>> {
        let mut st = self
            .conn
            .prepare_cached(&format!("SELECT {RECORD_COLUMNS} FROM records WHERE subject_code = ?1 ORDER BY id"))?;
        let rows = st.query_map([code], record_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn breach_records_of(&self, code: &str) -> Result<Vec<RecordRow>> {
        // the item as a literal, the index named: the partial index records_commitment_breach
        // matches only a literal, and the planner has no statistics to prefer it
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {RECORD_COLUMNS} FROM records INDEXED BY records_commitment_breach
             WHERE subject_code = ?1 AND item = 'commitment_breach' ORDER BY id"
        ))?;
        let rows = st.query_map([code], record_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn records_by_ids(&self, ids: &[i64]) -> Result<Vec<RecordRow>> {
        let mut st = self.conn.prepare_cached(&format!("SELECT {RECORD_COLUMNS} FROM records WHERE id = ?1"))?;
        let mut sorted = ids.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mut out = Vec::with_capacity(sorted.len());
        for id in sorted {
            out.extend(st.query_row([id], record_row).optional()?);
        }
        Ok(out)
    }

    fn cursor(&self, name: &str) -> Result<u64> {
        let pos: Option<i64> = self
            .conn
            .prepare_cached("SELECT position FROM cursors WHERE name = ?1")?
            .query_row([name], |r| r.get(0))
            .optional()?;
        Ok(pos.unwrap_or(0) as u64)
    }

    fn set_cursor(&mut self, name: &str, position: u64) -> Result<()> {
        self.conn.execute(
            "INSERT INTO cursors (name, position) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET position = excluded.position",
            params![name, position as i64],
        )?;
        Ok(())
    }

    fn records_of_item(&self, item: &str, after: i64, limit: u32) -> Result<Vec<RecordRow>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {RECORD_COLUMNS} FROM records WHERE item = ?1 AND id > ?2 ORDER BY id LIMIT ?3"
        ))?;
        let rows = st.query_map(params![item, after, limit], record_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn record(&self, id: i64) -> Result<Option<RecordRow>> {
        Ok(self
            .conn
            .prepare_cached(&format!("SELECT {RECORD_COLUMNS} FROM records WHERE id = ?1"))?
            .query_row([id], record_row)
            .optional()?)
    }

    fn event(&self, index: u64) -> Result<Option<EventRow>> {
        let t = self
            .conn
            .prepare_cached("SELECT idx, subject_code, kind, record_id, payload, leaf FROM events WHERE idx = ?1")?
            .query_row([index as i64], event_row)
            .optional()?;
        t.map(to_event).transpose()
    }

    fn events(&self, from: u64, limit: u32) -> Result<Vec<EventRow>> {
        self.event_rows(from, limit)?.into_iter().map(to_event).collect()
    }

    fn events_as_stored(&self, from: u64, limit: u32) -> Result<Vec<EventRow>> {
        self.event_rows(from, limit)?.into_iter().map(to_stored_event).collect()
    }

    fn leaf_range(&self, from: u64, to: u64) -> Result<Vec<Hash>> {
        let mut st =
            self.conn.prepare_cached("SELECT idx, leaf FROM events WHERE idx >= ?1 AND idx < ?2 ORDER BY idx")?;
        let mut out = Vec::with_capacity(to.saturating_sub(from) as usize);
        let mut rows = st.query([from as i64, to as i64])?;
        while let Some(row) = rows.next()? {
            let idx: i64 = row.get(0)?;
            let expected = from + out.len() as u64;
            if idx as u64 != expected {
                return Err(StoreError::Corrupt(format!("ledger gap: expected event {expected} but found {idx}")));
            }
            out.push(to_hash(row.get(1)?)?);
        }
        if from + out.len() as u64 != to {
            return Err(StoreError::Corrupt(format!("ledger has {} events, expected {to}", from + out.len() as u64)));
        }
        Ok(out)
    }

    fn ledger_size(&self) -> Result<u64> {
        let n: Option<i64> = self.conn.query_row("SELECT MAX(idx) FROM events", [], |r| r.get(0))?;
        Ok(n.map_or(0, |n| n as u64 + 1))
    }

    fn latest_head(&self) -> Result<Option<SignedHead>> {
        Ok(self.heads_where("ORDER BY size DESC LIMIT 1")?.pop())
    }

    fn heads(&self) -> Result<Vec<SignedHead>> {
        self.heads_where("ORDER BY size")
    }

    fn quarantine(&self, f: &QuarantineFilter) -> Result<Vec<QuarantineRow>> {
        let cols = QUARANTINE_COLUMNS.split(", ").map(|c| format!("q.{c}")).collect::<Vec<_>>().join(", ");
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {cols} FROM quarantine q WHERE q.id > ?7 AND {} ORDER BY q.id LIMIT ?8",
            sqlite_quality::QUARANTINE_WHERE
        ))?;
        let limit = if f.limit == 0 { 100 } else { f.limit };
        let rows = st
            .query_map(
                params![f.provider, f.item, f.status, f.batch, f.rule, f.field, f.after_id, limit],
                quarantine_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn quarantine_count(&self, f: &QuarantineFilter) -> Result<u64> {
        sqlite_quality::quarantine_count(&self.conn, f)
    }

    fn quarantine_reasons(&self, f: &QuarantineFilter) -> Result<Vec<crate::ReasonCount>> {
        sqlite_quality::quarantine_reasons(&self.conn, f)
    }

    fn intake_batches(&self, f: &crate::BatchFilter) -> Result<Vec<crate::BatchStats>> {
        sqlite_quality::intake_batches(&self.conn, f)
    }

    fn quarantine_entry(&self, id: i64) -> Result<Option<QuarantineRow>> {
        Ok(self
            .conn
            .prepare_cached(&format!("SELECT {QUARANTINE_COLUMNS} FROM quarantine WHERE id = ?1"))?
            .query_row([id], quarantine_row)
            .optional()?)
    }

    fn counts(&self) -> Result<Counts> {
        let count = |sql: &str| -> Result<u64> { Ok(self.conn.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64) };
        Ok(Counts {
            subjects: count("SELECT COUNT(*) FROM subjects")?,
            records: count("SELECT COUNT(*) FROM records")?,
            events: self.ledger_size()?,
            quarantine_open: count("SELECT COUNT(*) FROM quarantine WHERE status = 'open'")?,
        })
    }

    fn put_listing(
        &mut self,
        listing: &Listing,
        kind: EventKind,
        p: &Provenance,
        key: &LedgerKey,
        now_ms: i64,
    ) -> Result<(Listing, SignedHead)> {
        sqlite_listings::put_listing(&mut self.conn, listing, kind, p, key, now_ms)
    }

    fn put_listings(
        &mut self,
        steps: &[(Listing, EventKind)],
        p: &Provenance,
        key: &LedgerKey,
        now_ms: i64,
    ) -> Result<(Vec<Listing>, SignedHead)> {
        sqlite_listings::put_listings(&mut self.conn, steps, p, key, now_ms)
    }

    fn listings_from_record(&self, record_id: i64) -> Result<Vec<Listing>> {
        sqlite_listings::listings_from_record(&self.conn, record_id)
    }

    fn put_commitments(
        &mut self,
        commitments: &[Commitment],
        p: &Provenance,
        key: &LedgerKey,
        now_ms: i64,
    ) -> Result<(Vec<Commitment>, SignedHead)> {
        sqlite_commitments::put_commitments(&mut self.conn, commitments, p, key, now_ms)
    }

    fn commitment(&self, record_id: i64) -> Result<Option<Commitment>> {
        sqlite_commitments::commitment(&self.conn, record_id)
    }

    fn commitments_of(&self, subject_code: &str) -> Result<Vec<Commitment>> {
        sqlite_commitments::commitments_of(&self.conn, subject_code)
    }

    fn commitments_overdue(&self, day: &str, after: i64, limit: u32) -> Result<Vec<Commitment>> {
        sqlite_commitments::commitments_overdue(&self.conn, day, after, limit)
    }

    fn commitments_of_department(
        &self,
        department: &str,
        state: Option<&str>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Commitment>> {
        sqlite_commitments::commitments_of_department(&self.conn, department, state, after, limit)
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
        crate::sqlite_plans::put_plan(&mut self.conn, id, department, doc, read_at, event, key, now_ms)
    }

    fn plan(&self, id: &str) -> Result<Option<crate::PlanRow>> {
        crate::sqlite_plans::plan(&self.conn, id)
    }

    fn plans(&self) -> Result<Vec<crate::PlanRow>> {
        crate::sqlite_plans::plans(&self.conn)
    }

    fn put_exchange_docs(
        &mut self,
        docs: &[crate::ExchangeDoc],
        expect: Option<&crate::Expect>,
        event: &xinyong_core::event::EventBody,
        key: &LedgerKey,
        now_ms: i64,
    ) -> Result<(u64, SignedHead)> {
        crate::sqlite_exchange::put_exchange_docs(&mut self.conn, docs, expect, event, key, now_ms)
    }

    fn exchange_docs(&self, kind: &str, subject: Option<&str>) -> Result<Vec<crate::ExchangeDoc>> {
        crate::sqlite_exchange::exchange_docs(&self.conn, kind, subject)
    }

    fn exchange_doc(&self, id: &str) -> Result<Option<crate::ExchangeDoc>> {
        crate::sqlite_exchange::exchange_doc(&self.conn, id)
    }

    fn scan_for_grading(
        &self,
        facets: &std::collections::BTreeMap<String, String>,
        part: crate::grading::GradingPart,
        sink: &mut dyn crate::grading::GradingSink,
    ) -> Result<()> {
        crate::sqlite_grading::scan(&self.conn, facets, part, sink)
    }

    fn max_record_id(&self) -> Result<i64> {
        Ok(self.conn.query_row("SELECT COALESCE(MAX(id), 0) FROM records", [], |r| r.get(0))?)
    }

    fn commitments_without_breach_record(&self, after: i64, limit: u32) -> Result<Vec<Commitment>> {
        sqlite_commitments::commitments_without_breach_record(&self.conn, after, limit)
    }

    fn link_breach_record(&mut self, record_id: i64, breach_record: i64) -> Result<()> {
        sqlite_commitments::link_breach_record(&mut self.conn, record_id, breach_record)
    }

    fn mark_breach_refused(&mut self, refusals: &[(i64, i64, u64)]) -> Result<()> {
        sqlite_commitments::mark_breach_refused(&mut self.conn, refusals)
    }

    fn listing(&self, id: i64) -> Result<Option<Listing>> {
        sqlite_listings::listing(&self.conn, id)
    }

    fn listings_of(&self, subject_code: &str) -> Result<Vec<Listing>> {
        sqlite_listings::listings_of(&self.conn, subject_code)
    }

    fn listings(&self, filter: &ListingFilter) -> Result<Vec<Listing>> {
        sqlite_listings::listings(&self.conn, filter)
    }

    fn listings_changed_since(&self, from: u64) -> Result<Vec<Listing>> {
        sqlite_listings::listings_changed_since(&self.conn, from)
    }

    fn subjects_created_since(&self, from: u64, limit: u32) -> Result<Vec<SubjectRow>> {
        sqlite_listings::subjects_created_since(&self.conn, from, limit)
    }

    fn record_checks(&mut self, checks: &[CheckRow]) -> Result<()> {
        sqlite_listings::record_checks(&mut self.conn, checks)
    }

    fn maintain(&mut self, now_ms: i64) -> Result<()> {
        sqlite_listings::maintain(&mut self.conn, now_ms)
    }

    fn check_entry(&self, id: &str) -> Result<Option<CheckRow>> {
        sqlite_listings::check_entry(&self.conn, id)
    }

    fn record_feedback(&mut self, check_id: &str, f: &Feedback) -> Result<()> {
        sqlite_listings::record_feedback(&mut self.conn, check_id, f)
    }

    fn checks_of(&self, subject_code: &str, limit: u32) -> Result<Vec<CheckRow>> {
        sqlite_listings::checks_of(&self.conn, subject_code, limit)
    }

    fn check_stats(&self, department: Option<&str>) -> Result<Vec<DepartmentStats>> {
        sqlite_listings::check_stats(&self.conn, department)
    }

    fn apply_change(&mut self, change: &Change, p: &Provenance, key: &LedgerKey, now_ms: i64) -> Result<Changed> {
        sqlite_cases::apply_change(&mut self.conn, change, p, key, now_ms)
    }

    fn case(&self, id: i64) -> Result<Option<(Case, Option<Hash>)>> {
        sqlite_cases::case(&self.conn, id)
    }

    fn cases(&self, filter: &CaseFilter) -> Result<Vec<Case>> {
        sqlite_cases::cases(&self.conn, filter)
    }

    fn cases_changed_since(&self, from: u64) -> Result<Vec<Case>> {
        sqlite_cases::cases_changed_since(&self.conn, from)
    }

    fn notifications(&self, recipient_kind: &str, recipient: &str, limit: u32) -> Result<Vec<Notification>> {
        sqlite_cases::notifications(&self.conn, recipient_kind, recipient, limit)
    }

    fn mark_notification_read(&mut self, id: i64, recipient_kind: &str, recipient: &str, now_ms: i64) -> Result<bool> {
        sqlite_cases::mark_notification_read(&mut self.conn, id, recipient_kind, recipient, now_ms)
    }

    fn put_webhook(&mut self, w: &crate::Webhook) -> Result<()> {
        sqlite_cases::put_webhook(&mut self.conn, w)
    }

    fn webhooks(&self) -> Result<Vec<crate::Webhook>> {
        sqlite_cases::webhooks(&self.conn)
    }

    fn due_deliveries(&self, now_ms: i64, limit: u32) -> Result<Vec<crate::Delivery>> {
        sqlite_cases::due_deliveries(&self.conn, now_ms, limit)
    }

    fn record_delivery(&mut self, id: i64, error: Option<&str>, now_ms: i64) -> Result<()> {
        sqlite_cases::record_delivery(&mut self.conn, id, error, now_ms)
    }

    fn put_evidence(
        &mut self,
        sha256: &str,
        media_type: &str,
        content: &[u8],
        uploaded_by: &str,
        now_ms: i64,
    ) -> Result<bool> {
        let n = self.conn.execute(
            "INSERT INTO evidence (sha256, media_type, size, content, stored_ms, uploaded_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (sha256) DO NOTHING",
            params![sha256, media_type, content.len() as i64, content, now_ms, uploaded_by],
        )?;
        Ok(n == 1)
    }

    fn evidence(&self, sha256: &str) -> Result<Option<(String, Vec<u8>)>> {
        Ok(self
            .conn
            .prepare_cached("SELECT media_type, content FROM evidence WHERE sha256 = ?1")?
            .query_row([sha256], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    fn evidence_meta(&self, sha256: &str) -> Result<Option<(String, u64)>> {
        Ok(self
            .conn
            .prepare_cached("SELECT media_type, size FROM evidence WHERE sha256 = ?1")?
            .query_row([sha256], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))
            .optional()?)
    }
}

impl SqliteStore {
    fn append_in_tx(&mut self, entries: &[Entry], key: &LedgerKey, now_ms: i64) -> Result<BatchOutcome> {
        let tx = write_tx(&mut self.conn)?;
        let mut frontier = load_frontier(&tx, key.tree_hash())?;
        let touched = plan::touched(entries);
        let stored = look_up(&tx, &touched, &self.known_subjects)?;
        let mut plan = plan::plan(entries, &stored, frontier.size(), key.tree_hash())?;
        execute(&tx, &mut plan, &mut frontier, now_ms)?;
        sqlite_quality::write_batches(&tx, &crate::quality::tally(entries, &plan.outcomes, now_ms))?;
        let head = if plan.events.is_empty() { None } else { Some(sign_head(&tx, &frontier, key, now_ms)?) };
        tx.commit()?;
        // every touched subject exists now
        for code in touched.codes {
            if !self.known_subjects.contains(code) {
                self.known_subjects.insert(code.to_string());
            }
        }
        plan.outcome(head)
    }

    fn heads_where(&self, tail: &str) -> Result<Vec<SignedHead>> {
        let mut st =
            self.conn.prepare_cached(&format!("SELECT size, root, timestamp_ms, checkpoint FROM tree_heads {tail}"))?;
        let rows = st
            .query_map([], |row| {
                Ok((
                    row.get::<_, i64>(0)? as u64,
                    row.get::<_, Vec<u8>>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, String>(3)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(size, root, timestamp_ms, checkpoint)| {
                Ok(SignedHead { head: TreeHead { size, root: to_hash(root)?, timestamp_ms }, checkpoint })
            })
            .collect()
    }
}
