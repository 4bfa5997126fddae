//! Storage of xinyong behind one trait, [`Store`], so that the embedded SQLite back
//! end and PostgreSQL are interchangeable and pass the same [`conformance`] suite. A
//! store appends each batch in one transaction: subjects, records, events, their
//! ledger leaves, quarantined rows and a new signed tree head commit together or not
//! at all. What a batch does (which events, which rows) is decided once, by
//! [`plan`], for every back end; a back end looks up, executes the plan and signs.

/// The columns every record query reads, in the order both back ends' `record_row`
/// reads them: one list, so a query cannot drift from its reader. A macro, so that a
/// query can be one `concat!`ed constant.
macro_rules! record_columns {
    () => {
        "id, subject_code, provider, item, record_key, status, decision_date, tier, event_idx, revoked_event, \
         repaired_event"
    };
}
pub(crate) use record_columns;

pub(crate) const RECORD_COLUMNS: &str = record_columns!();

pub mod bench_fixture;
pub mod codec;
pub mod commitments;
pub mod conformance;
pub mod due_process;
pub mod grading;
pub mod plan;
mod postgres;
mod postgres_cases;
mod postgres_commitments;
mod postgres_exchange;
mod postgres_grading;
mod postgres_listings;
mod postgres_plans;
mod postgres_quality;
pub mod quality;
mod sqlite;
mod sqlite_cases;
mod sqlite_commitments;
mod sqlite_exchange;
mod sqlite_grading;
mod sqlite_listings;
mod sqlite_plans;
mod sqlite_quality;
pub mod testing;
pub mod transfer;

use serde::Serialize;
use xinyong_core::case::Case;
use xinyong_core::commitment::Commitment;
use xinyong_core::event::{EventBody, EventKind, Provenance};
use xinyong_core::listing::{Listing, ListingStatus};
use xinyong_core::record::{FieldError, ValidRecord};
use xinyong_ledger::{Hash, LedgerKey, SignedHead};

pub use due_process::{
    CaseFilter, CaseStep, Change, Changed, Delivery, Effect, NewNotification, Notification, Webhook,
};
pub use postgres::{PgConn, PgStore};
pub use quality::{BatchFilter, BatchStats, ReasonCount};
pub use sqlite::SqliteStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL error: {0}")]
    Postgres(#[from] ::postgres::Error),
    #[error("PostgreSQL connection pool: {0}")]
    PostgresPool(#[from] r2d2::Error),
    #[error("ledger error: {0}")]
    Ledger(#[from] xinyong_ledger::LedgerError),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A validated record, ready to append. The `record.created` payload and its leaf hash
/// are prepared by the caller (off the writer's thread); the store builds the rarer
/// payloads (corrections, new subjects) itself.
#[derive(Debug, Clone)]
pub struct NewRecord {
    pub record: ValidRecord,
    pub provider: String,
    pub provenance: Provenance,
    /// The `record.created` event, made off the writer's thread.
    pub created: PreparedEvent,
    /// For a registration row, whose subject is usually new: its `subject.created`
    /// event, made off the writer's thread too (the plan uses it if the subject is new).
    pub subject_created: Option<Box<PreparedEvent>>,
    /// Distinguishes a re-sent record (same fingerprint: duplicate) from a changed one (correction).
    pub fingerprint: Hash,
    /// The quarantine entry this record is the corrected form of.
    pub resolves: Option<i64>,
}

impl NewRecord {
    /// Builds the `record.created` payload, its leaf hash and the content fingerprint.
    /// The fields move into the payload (the writer needs only the payload), which
    /// keeps the memory of batches in flight small.
    pub fn prepare(
        mut record: ValidRecord,
        provider: &str,
        provenance: Provenance,
        resolves: Option<i64>,
    ) -> NewRecord {
        let fields = std::mem::take(&mut record.fields);
        let fingerprint = fields_fingerprint(&fields);
        let mut body = EventBody::record(EventKind::RecordCreated, &record, &provenance);
        body.fields = Some(fields);
        let created = PreparedEvent::of(body.canonical_bytes());
        let subject_created = record.subject_info.is_some().then(|| {
            let kind = record.subject_kind();
            let body =
                EventBody::subject_created(record.subject.key(), kind.as_str(), &record.subject_name, &provenance);
            Box::new(PreparedEvent::of(body.canonical_bytes()))
        });
        NewRecord {
            record,
            provider: provider.to_string(),
            provenance,
            created,
            subject_created,
            fingerprint,
            resolves,
        }
    }

    /// The payload of the same record as another kind of event (a correction).
    pub fn payload_as(&self, kind: EventKind) -> Result<Vec<u8>> {
        let mut body = EventBody::from_bytes(&self.created.payload)
            .map_err(|e| StoreError::Corrupt(format!("prepared payload does not parse: {e}")))?;
        body.kind = kind;
        Ok(body.canonical_bytes())
    }
}

/// An event payload made before the plan: canonical bytes, SHA-256 leaf, and the form
/// SQLite stores ([`codec::pack`]).
#[derive(Debug, Clone)]
pub struct PreparedEvent {
    pub payload: Vec<u8>,
    pub leaf: Hash,
    pub stored: Vec<u8>,
}

impl PreparedEvent {
    pub fn of(payload: Vec<u8>) -> PreparedEvent {
        PreparedEvent { leaf: xinyong_ledger::leaf_hash(&payload), stored: codec::pack(&payload).into_owned(), payload }
    }
}

/// SHA-256 over length-prefixed field names and values: tells a re-sent record from a
/// changed one without serialising the fields again.
pub fn fields_fingerprint(fields: &std::collections::BTreeMap<String, String>) -> Hash {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for (k, v) in fields {
        h.update((k.len() as u64).to_be_bytes());
        h.update(k.as_bytes());
        h.update((v.len() as u64).to_be_bytes());
        h.update(v.as_bytes());
    }
    h.finalize().into()
}

/// A row that failed validation.
#[derive(Debug, Clone)]
pub struct NewQuarantine {
    pub provider: String,
    pub item: String,
    pub batch: String,
    pub source: String,
    pub row: Option<u64>,
    /// The row as received: JSON object of column → text.
    pub raw: String,
    pub raw_hash: Hash,
    /// Best-effort subject key (the raw code cell), for the subject's own view.
    pub subject_hint: Option<String>,
    pub errors: Vec<FieldError>,
    /// Resubmission that failed again: update this entry instead of adding one.
    pub replaces: Option<i64>,
}

#[derive(Debug, Clone)]
pub enum Entry {
    Record(Box<NewRecord>),
    Quarantine(Box<NewQuarantine>),
}

/// What happened to one entry of a batch, in input order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Accepted { record_id: i64, ledger_index: u64 },
    Corrected { record_id: i64, ledger_index: u64 },
    Duplicate { record_id: i64 },
    Quarantined { quarantine_id: i64, already_known: bool },
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct BatchOutcome {
    pub outcomes: Vec<Outcome>,
    pub subjects_created: u64,
    /// The head signed at the end of the batch (none when the batch added no event).
    pub head: Option<SignedHead>,
}

/// A subject found by an old identifier ([`Store::subjects_by_identifiers`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct IdentifierMatch {
    pub scheme: String,
    pub value: String,
    pub subject: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubjectRow {
    pub code: String,
    pub kind: String,
    pub name: String,
    pub former_names: Vec<String>,
    pub legal_rep_name: Option<String>,
    /// Full ID: callers mask it before showing it to anyone.
    pub legal_rep_id: Option<String>,
    pub division: Option<String>,
    pub industry: Option<String>,
    pub created_event: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordRow {
    pub id: i64,
    pub subject_code: String,
    pub provider: String,
    pub item: String,
    pub key: String,
    pub status: String,
    pub decision_date: Option<String>,
    pub tier: Option<String>,
    /// The event holding the record's current content.
    pub event_index: u64,
    /// The revocation event, when revoked.
    pub revoked_event: Option<u64>,
    /// The `record.repaired` event, when a repair was granted.
    pub repaired_event: Option<u64>,
}

/// An inspection plan as stored: its document (JSON, owned by `app::inspections`) and
/// the ledger events of its first and latest step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRow {
    pub id: String,
    pub department: String,
    pub doc: String,
    pub first_event: u64,
    pub last_event: u64,
}

/// A document of the exchange between platforms or of an agency's subscription, as
/// stored: its JSON is owned by `app::exchange`. `id` is unique across kinds (it
/// starts with its kind); `event` is the ledger index of the event that last wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeDoc {
    pub kind: String,
    pub id: String,
    /// The subject it is about, or empty.
    pub subject: String,
    pub body: String,
    pub event: u64,
}

/// What a write of exchange documents expects to find first: the document `id` as last
/// written by event `at` (none: absent). Anything else is a `Conflict`, so two nodes
/// importing the same peer's batch cannot both advance its cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    pub id: String,
    pub at: Option<u64>,
}

pub(crate) fn expect_holds(e: &Expect, stored: Option<i64>) -> Result<()> {
    if stored.map(|s| s as u64) == e.at {
        return Ok(());
    }
    Err(StoreError::Conflict(format!("{} 已变更，请重试 / {} changed since it was read", e.id, e.id)))
}

/// Whether a plan's write may go ahead: a new plan (`read_at` none) must not exist, a
/// step must find the plan at the last event it was read at. Both back ends ask this.
pub(crate) fn plan_step_allowed(id: &str, stored_last: Option<i64>, read_at: Option<u64>) -> Result<()> {
    match (stored_last, read_at) {
        (Some(_), None) => Err(StoreError::Conflict(format!("检查计划 {id} 已存在 / plan {id} exists"))),
        (None, Some(_)) => Err(StoreError::NotFound(format!("plan {id}"))),
        (Some(last), Some(at)) if last as u64 != at => {
            Err(StoreError::Conflict(format!("检查计划 {id} 已变更，请刷新 / plan {id} changed since it was read")))
        }
        _ => Ok(()),
    }
}

/// Which subject an event is about, without its payload: what a projection following
/// the ledger needs to know to reload that subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRef {
    pub index: u64,
    pub subject_code: String,
    pub kind: String,
    /// The record a `record.*` event is about.
    pub record_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    pub index: u64,
    pub subject_code: String,
    pub kind: String,
    pub record_id: Option<i64>,
    pub payload: Vec<u8>,
    pub leaf: Hash,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuarantineRow {
    pub id: i64,
    pub subject_hint: Option<String>,
    pub provider: String,
    pub item: String,
    pub batch: String,
    pub source: String,
    pub row: Option<u64>,
    pub raw: String,
    pub errors: Vec<FieldError>,
    pub status: String,
    pub created_ms: i64,
    pub resolved_ms: Option<i64>,
    pub resolved_record: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct QuarantineFilter {
    pub provider: Option<String>,
    pub item: Option<String>,
    /// `open` or `resolved`; `None` for both.
    pub status: Option<String>,
    /// Entries whose latest submission came in this batch.
    pub batch: Option<String>,
    /// Entries with at least one error of this rule (and, with `field`, in that field).
    pub rule: Option<String>,
    /// Entries with at least one error in this field (the catalog's Chinese name).
    pub field: Option<String>,
    pub after_id: i64,
    pub limit: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Counts {
    pub subjects: u64,
    pub records: u64,
    pub events: u64,
    pub quarantine_open: u64,
}

/// A person or machine client that may sign in or call the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    /// `admin` (credit centre), `officer` (a department's) or `subject` (an entity's own).
    #[cfg_attr(feature = "openapi", schema(value_type = xinyong_core::roles::AccountRole))]
    pub role: String,
    /// The providing department an officer is bound to.
    pub provider: Option<String>,
    /// The subject a `subject` account speaks for.
    pub subject_code: Option<String>,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub disabled: bool,
}

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub provider: Option<String>,
    pub subject_code: Option<String>,
    pub password_hash: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// SHA-256 of the cookie value: a stolen database yields no live sessions.
    pub session_hash: Hash,
    pub account_id: i64,
    pub csrf: String,
    pub created_ms: i64,
    pub expires_ms: i64,
}

/// One read of non-public data: who, which subject, why, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccessEntry {
    pub subject_code: String,
    pub account_id: i64,
    pub actor: String,
    pub provider: Option<String>,
    pub purpose: String,
    pub what: String,
    pub at_ms: i64,
}

/// Which listings to page through.
#[derive(Debug, Clone, Default)]
pub struct ListingFilter {
    pub list_type: Option<String>,
    pub status: Option<ListingStatus>,
    /// Only listings in force on this day (`YYYY-MM-DD`): decided, started, not ended,
    /// not yet removed (a revoked decision never was in force).
    pub active_on: Option<String>,
    pub provider: Option<String>,
    /// Only listings decided on the platform (not derived from records).
    pub decided_here: bool,
    pub after_id: i64,
    pub limit: u32,
}

/// A measure the department did not apply, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotApplied {
    pub id: String,
    pub reason: String,
}

/// What the department did after a check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Feedback {
    pub at_ms: i64,
    pub account_id: i64,
    pub applied: Vec<String>,
    pub not_applied: Vec<NotApplied>,
    pub note: Option<String>,
}

/// One check before acting (逢办必查) as answered, with the feedback once given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckRow {
    pub id: String,
    pub at_ms: i64,
    pub account_id: i64,
    pub department: String,
    pub matter: String,
    pub purpose: String,
    pub subject_code: String,
    #[cfg_attr(feature = "openapi", schema(format = Date))]
    pub as_of: String,
    #[cfg_attr(feature = "openapi", schema(value_type = xinyong_core::lists::Verdict))]
    pub verdict: String,
    pub measures: Vec<String>,
    pub listings: Vec<i64>,
    pub ledger_size: u64,
    pub feedback: Option<Feedback>,
}

/// Per-department figures of checks and feedback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DepartmentStats {
    pub department: String,
    pub checks: u64,
    /// Checks whose answer was not `clear`.
    pub non_clear: u64,
    pub with_feedback: u64,
    pub measures_applied: u64,
    pub measures_not_applied: u64,
}

/// The storage contract. Implementations must keep ledger order: event indexes are
/// dense (0, 1, 2 …), assigned in append order, and each batch ends with one signed head.
pub trait Store: Send {
    /// Another connection to the same database (SQLite: the same file, WAL; PostgreSQL:
    /// the same pool), for readers running beside the writer.
    fn connect(&self) -> Result<Box<dyn Store>>;
    /// Another connection for a pool of readers, which keeps many of them idle: SQLite
    /// gives it a small page cache of its own (the operating system's page cache holds
    /// the file either way), so an idle pool does not hold a full cache per connection.
    fn connect_reader(&self) -> Result<Box<dyn Store>> {
        self.connect()
    }
    /// Subject and kind of the events with index in `[from, from + limit)`, in order.
    fn event_refs(&self, from: u64, limit: u32) -> Result<Vec<EventRef>>;
    /// Appends a batch in one transaction and signs the new tree head with `key`.
    fn append(&mut self, entries: &[Entry], key: &LedgerKey, now_ms: i64) -> Result<BatchOutcome>;
    /// Revokes a record (void from its start): one `record.revoked` event.
    fn revoke(&mut self, record_id: i64, reason: &str, p: &Provenance, key: &LedgerKey) -> Result<(u64, SignedHead)> {
        let change = Change {
            effects: vec![Effect::RevokeRecord { record_id, reason: reason.to_string() }],
            ..Change::default()
        };
        let done = self.apply_change(&change, p, key, p.at)?;
        Ok((done.events.first().copied().unwrap_or_default(), done.head))
    }
    fn subject(&self, code: &str) -> Result<Option<SubjectRow>>;
    /// The subjects carrying old identifiers, for a whole batch in one round trip per
    /// table: every `(scheme, value)` a registration declared (`subject_identifiers`),
    /// and for `org_code` every USCC holder embedding it (positions 9–17). In no order.
    fn subjects_by_identifiers(&self, ids: &[(&str, &str)]) -> Result<Vec<IdentifierMatch>>;
    /// Subjects in code order after `after` (exclusive): for rebuilding derived indexes.
    fn subjects_after(&self, after: &str, limit: u32) -> Result<Vec<SubjectRow>>;
    fn records_of(&self, code: &str) -> Result<Vec<RecordRow>>;
    /// The records of broken commitments (`commitment_breach`, revoked ones too) filed
    /// under `code`, in id order: read through a small partial index, so a check does not
    /// read every record of the subject to find them (most subjects have none).
    fn breach_records_of(&self, code: &str) -> Result<Vec<RecordRow>>;
    /// Records of one catalog item with id above `after`, in id order (a page of an
    /// item's records, e.g. the tax ratings behind the A-level list).
    fn records_of_item(&self, item: &str, after: i64, limit: u32) -> Result<Vec<RecordRow>>;
    fn record(&self, id: i64) -> Result<Option<RecordRow>>;
    fn event(&self, index: u64) -> Result<Option<EventRow>>;
    /// Events with index in `[from, from + limit)`, in order.
    fn events(&self, from: u64, limit: u32) -> Result<Vec<EventRow>>;
    /// [`Store::events`] with each payload as the back end stores it, which may be
    /// compressed ([`codec::unpack`] gives the canonical bytes): for a reader that
    /// spreads that work over several threads (the ledger's verification).
    fn events_as_stored(&self, from: u64, limit: u32) -> Result<Vec<EventRow>> {
        self.events(from, limit)
    }
    /// Leaf hashes of `[0, size)`, in order.
    fn leaf_hashes(&self, size: u64) -> Result<Vec<Hash>> {
        self.leaf_range(0, size)
    }
    /// Leaf hashes of `[from, to)`, in order (a gap is `Corrupt`).
    fn leaf_range(&self, from: u64, to: u64) -> Result<Vec<Hash>>;
    fn ledger_size(&self) -> Result<u64>;
    fn latest_head(&self) -> Result<Option<SignedHead>>;
    /// Every signed head, oldest first.
    fn heads(&self) -> Result<Vec<SignedHead>>;
    fn quarantine(&self, filter: &QuarantineFilter) -> Result<Vec<QuarantineRow>>;
    fn quarantine_entry(&self, id: i64) -> Result<Option<QuarantineRow>>;
    /// How many quarantined rows match `filter` (its paging ignored).
    fn quarantine_count(&self, filter: &QuarantineFilter) -> Result<u64>;
    /// The quarantined rows matching `filter` (its paging ignored) counted by reason:
    /// item, field and rule; most frequent first (ties by item, field, rule in byte order).
    fn quarantine_reasons(&self, filter: &QuarantineFilter) -> Result<Vec<ReasonCount>>;
    /// Intake batches with their figures (written by [`Store::append`] in the batch's
    /// own transaction), the most recently received first.
    fn intake_batches(&self, filter: &BatchFilter) -> Result<Vec<BatchStats>>;
    fn counts(&self) -> Result<Counts>;

    fn create_account(&mut self, a: &NewAccount, now_ms: i64) -> Result<i64>;
    fn account(&self, username: &str) -> Result<Option<Account>>;
    fn accounts(&self) -> Result<Vec<Account>>;
    fn add_token(&mut self, account_id: i64, token_hash: &Hash, label: &str, now_ms: i64) -> Result<()>;
    fn account_by_token(&self, token_hash: &Hash) -> Result<Option<Account>>;
    fn create_session(&mut self, s: &Session) -> Result<()>;
    /// A live (unexpired) session and its account.
    fn session(&self, session_hash: &Hash, now_ms: i64) -> Result<Option<(Account, Session)>>;
    fn delete_session(&mut self, session_hash: &Hash) -> Result<()>;
    fn log_access(&mut self, e: &AccessEntry) -> Result<()>;
    /// The newest reads of a subject's non-public data first.
    fn access_log(&self, subject_code: &str, limit: u32) -> Result<Vec<AccessEntry>>;

    /// Records one step of a listing's procedure: stores `listing` (a new one when its
    /// id is 0; otherwise only if nobody recorded another step since `listing.last_event`
    /// was read, else `Conflict`), appends the step's `kind` event and signs the head.
    /// Returns the listing as stored (id and event indexes filled in).
    fn put_listing(
        &mut self,
        listing: &Listing,
        kind: EventKind,
        p: &Provenance,
        key: &LedgerKey,
        now_ms: i64,
    ) -> Result<(Listing, SignedHead)>;
    /// Several listing steps in one transaction with one signed head (a follower
    /// deriving entries from a batch of records). Each step as in [`Store::put_listing`];
    /// one refused step refuses them all.
    fn put_listings(
        &mut self,
        steps: &[(Listing, EventKind)],
        p: &Provenance,
        key: &LedgerKey,
        now_ms: i64,
    ) -> Result<(Vec<Listing>, SignedHead)>;
    fn listing(&self, id: i64) -> Result<Option<Listing>>;
    /// The entries derived from a record (any rule), in id order.
    fn listings_from_record(&self, record_id: i64) -> Result<Vec<Listing>>;
    /// Records by id (unknown ids are skipped), in id order.
    fn records_by_ids(&self, ids: &[i64]) -> Result<Vec<RecordRow>>;
    /// How far the follower `name` has read the ledger (0 when it never ran).
    fn cursor(&self, name: &str) -> Result<u64>;
    fn set_cursor(&mut self, name: &str, position: u64) -> Result<()>;
    fn listings_of(&self, subject_code: &str) -> Result<Vec<Listing>>;
    /// Listings in id order after `filter.after_id`.
    fn listings(&self, filter: &ListingFilter) -> Result<Vec<Listing>>;
    /// Listings whose latest step is at ledger index `from` or later, in step order:
    /// what a derived index must reload after it has seen the ledger up to `from`.
    fn listings_changed_since(&self, from: u64) -> Result<Vec<Listing>>;
    /// Subjects created at ledger index `from` or later.
    fn subjects_created_since(&self, from: u64, limit: u32) -> Result<Vec<SubjectRow>>;

    /// Records answered checks (one transaction for the whole batch).
    fn record_checks(&mut self, checks: &[CheckRow]) -> Result<()>;
    /// Starts a read transaction: the reads until [`Store::end_read`] see one snapshot,
    /// and a back end that locks per statement (SQLite: the shared lock, through a
    /// process-wide mutex) locks once. Back ends whose reads take pooled connections
    /// keep this default.
    fn begin_read(&self) -> Result<()> {
        Ok(())
    }
    /// Ends the read transaction begun by [`Store::begin_read`].
    fn end_read(&self) -> Result<()> {
        Ok(())
    }
    /// Upkeep the server runs off the answer's path, between check batches: a back end
    /// that defers work there (SQLite: the check log's per-subject index) catches up.
    /// Back ends that do everything inline keep this default.
    fn maintain(&mut self, _now_ms: i64) -> Result<()> {
        Ok(())
    }
    fn check_entry(&self, id: &str) -> Result<Option<CheckRow>>;
    /// Records a check's feedback once; a second feedback is a `Conflict`.
    fn record_feedback(&mut self, check_id: &str, f: &Feedback) -> Result<()>;
    /// The newest checks of a subject first.
    fn checks_of(&self, subject_code: &str, limit: u32) -> Result<Vec<CheckRow>>;
    /// Figures per department (one department, or all), by department name.
    fn check_stats(&self, department: Option<&str>) -> Result<Vec<DepartmentStats>>;

    /// Writes a due-process change in one transaction: the case step (a new case when
    /// its id is 0; otherwise only if nobody recorded another step since
    /// `case.last_event` was read, else `Conflict`), the effects of its decision on
    /// records and listings, each as its ledger event, and the notifications; then
    /// signs the head. An effect the target's state no longer allows is a `Conflict`.
    fn apply_change(&mut self, change: &Change, p: &Provenance, key: &LedgerKey, now_ms: i64) -> Result<Changed>;
    /// A case and the hash of its query code.
    fn case(&self, id: i64) -> Result<Option<(Case, Option<Hash>)>>;
    fn cases(&self, filter: &CaseFilter) -> Result<Vec<Case>>;
    /// Cases whose latest step is at ledger index `from` or later (for projections).
    fn cases_changed_since(&self, from: u64) -> Result<Vec<Case>>;
    /// A recipient's notifications, newest first.
    fn notifications(&self, recipient_kind: &str, recipient: &str, limit: u32) -> Result<Vec<Notification>>;
    /// Marks a recipient's notification read; false when it is not theirs or unknown.
    fn mark_notification_read(&mut self, id: i64, recipient_kind: &str, recipient: &str, now_ms: i64) -> Result<bool>;
    /// Registers (or replaces) a recipient's webhook.
    fn put_webhook(&mut self, w: &Webhook) -> Result<()>;
    fn webhooks(&self) -> Result<Vec<Webhook>>;
    /// Pending notifications of recipients with a webhook, due by `now_ms`, oldest first.
    fn due_deliveries(&self, now_ms: i64, limit: u32) -> Result<Vec<Delivery>>;
    /// Records a delivery attempt: delivered, or retried later, or (after
    /// [`due_process::MAX_ATTEMPTS`]) failed.
    fn record_delivery(&mut self, id: i64, error: Option<&str>, now_ms: i64) -> Result<()>;
    /// Records credit commitments (信用承诺) in one transaction with one signed head. A
    /// commitment not read from the store (`first_event` 0) is taken on: one
    /// `commitment.signed` event, then one event per step it already has; its record must
    /// exist and belong to its subject, and a second one for the same record is a
    /// `Conflict`. A stored one gains one `commitment.fulfilled` / `commitment.breached`
    /// event per step beyond the stored ones, only if nobody wrote since its `last_event`
    /// was read (else `Conflict`). One refused commitment refuses them all. Returns them
    /// as stored (event indexes filled in).
    fn put_commitments(
        &mut self,
        commitments: &[Commitment],
        p: &Provenance,
        key: &LedgerKey,
        now_ms: i64,
    ) -> Result<(Vec<Commitment>, SignedHead)>;
    /// The commitment made by a `credit_commitment` record.
    fn commitment(&self, record_id: i64) -> Result<Option<Commitment>>;
    /// A subject's commitments, in record order.
    fn commitments_of(&self, subject_code: &str) -> Result<Vec<Commitment>>;
    /// Commitments their recorded steps leave open whose due date is before `day`
    /// (`YYYY-MM-DD`): the clock's work. Record order after `after`.
    fn commitments_overdue(&self, day: &str, after: i64, limit: u32) -> Result<Vec<Commitment>>;
    /// A department's commitments (the accepting department), in one state if given
    /// (`pending`, `fulfilled`, `breached`), record order after `after`.
    fn commitments_of_department(
        &self,
        department: &str,
        state: Option<&str>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Commitment>>;
    /// Writes an inspection plan's document with the ledger event of its step (none:
    /// the document changes without one), in one transaction. `read_at`: none for a
    /// new plan (a `Conflict` if the id exists), else the `last_event` the plan was read
    /// at (a `Conflict` if it moved since). Returns the event's index and the head.
    #[allow(clippy::too_many_arguments)]
    fn put_plan(
        &mut self,
        id: &str,
        department: &str,
        doc: &str,
        read_at: Option<u64>,
        event: Option<&EventBody>,
        key: &LedgerKey,
        now_ms: i64,
    ) -> Result<(Option<u64>, SignedHead)>;
    fn plan(&self, id: &str) -> Result<Option<PlanRow>>;
    /// Writes exchange documents with their ledger event in one transaction (each row's
    /// `event` becomes the event's index), after checking `expect`. Returns the event's
    /// index and the head.
    fn put_exchange_docs(
        &mut self,
        docs: &[ExchangeDoc],
        expect: Option<&Expect>,
        event: &EventBody,
        key: &LedgerKey,
        now_ms: i64,
    ) -> Result<(u64, SignedHead)>;
    /// The documents of `kind` (of one subject, when named), in id order.
    fn exchange_docs(&self, kind: &str, subject: Option<&str>) -> Result<Vec<ExchangeDoc>>;
    fn exchange_doc(&self, id: &str) -> Result<Option<ExchangeDoc>>;
    /// Every plan, newest first.
    fn plans(&self) -> Result<Vec<PlanRow>>;
    /// Reads the store for grading (see [`grading`]), the `part` asked: every subject,
    /// every decided list entry, every commitment, and the records in force (not revoked,
    /// not repaired) with the value of the field `facets` names for their item.
    fn scan_for_grading(
        &self,
        facets: &std::collections::BTreeMap<String, String>,
        part: grading::GradingPart,
        sink: &mut dyn grading::GradingSink,
    ) -> Result<()>;
    /// The largest record id (0 without records): where a grading scan splits the records.
    fn max_record_id(&self) -> Result<i64>;
    /// Broken commitments whose breach record is not linked yet, record order after `after`;
    /// not those whose row intake refused ([`Store::mark_breach_refused`]) while that
    /// quarantine entry is open and the commitment has taken no step since.
    fn commitments_without_breach_record(&self, after: i64, limit: u32) -> Result<Vec<Commitment>>;
    /// Notes, in one transaction, broken commitments whose breach row intake refused:
    /// (commitment record, the quarantine entry the row went to, the commitment's last
    /// event then). Not a ledger fact (the quarantine entry records the refusal).
    /// `NotFound` (and nothing noted) unless every one is recorded broken.
    fn mark_breach_refused(&mut self, refusals: &[(i64, i64, u64)]) -> Result<()>;
    /// Links a broken commitment to its breach record (`commitment_breach`). Not a ledger
    /// fact: the breach record names the commitment by its number, so the link can be
    /// found again. `NotFound` unless the commitment is recorded broken.
    fn link_breach_record(&mut self, record_id: i64, breach_record: i64) -> Result<()>;

    /// Stores an evidence file under `sha256` (lowercase hex of the content's SHA-256,
    /// computed by the caller from `content`, never taken from a client). Idempotent:
    /// when the hash is stored already nothing changes (the first upload's media type,
    /// uploader and time stay) and the answer is `false`; a new file answers `true`.
    fn put_evidence(
        &mut self,
        sha256: &str,
        media_type: &str,
        content: &[u8],
        uploaded_by: &str,
        now_ms: i64,
    ) -> Result<bool>;
    /// An evidence file's media type and exactly the bytes stored.
    fn evidence(&self, sha256: &str) -> Result<Option<(String, Vec<u8>)>>;
    /// An evidence file's media type and size, without its content.
    fn evidence_meta(&self, sha256: &str) -> Result<Option<(String, u64)>>;
}
