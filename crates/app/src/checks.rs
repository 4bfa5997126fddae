//! Checks before acting (逢办必查): the use cases (check one entity or a bidder list,
//! read a check, record what the department then did, figures per department, who
//! checked an entity) and the check index behind them: every subject's name and every
//! decided listing held in memory, so that answering "what applies to this entity for
//! this matter" never touches the database. The index is a projection fed by the
//! [`crate::projector`]; answered checks go to the group-commit log before the answer
//! leaves.

use std::sync::{Arc, RwLock};

use serde::Serialize;
use time::Date;
use xinyong_core::SubjectCode;
use xinyong_core::commitment::matters::{Matter, Matters};
use xinyong_core::listing::Listing;
use xinyong_core::lists::{ActiveListing, Effect, ListKind, ListRules, Verdict, applicable};
use xinyong_core::record::date_string;
use xinyong_ledger::SignedHead;
use xinyong_store::{Store, SubjectRow};

pub use xinyong_store::{CheckRow, DepartmentStats, Feedback, NotApplied};

use crate::access::{Action, Caller, Scope, acting_department, permit};
pub use crate::check_index::IndexSize;
use crate::check_index::{DisputedAtLoad, Entries};
use crate::{App, AppError, Result, day_or_today, now_ms, parse_code};

#[derive(Default)]
struct Inner {
    entries: Entries,
    /// Listings with an open objection (异议处理中), or one that could not be confirmed.
    disputed: std::collections::HashSet<i64>,
    /// Ledger size up to which changes are loaded.
    seen: u64,
    head: Option<Arc<SignedHead>>,
}

#[derive(Default)]
pub struct CheckIndex {
    inner: RwLock<Inner>,
}

/// The entity checked, when the platform knows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubjectBrief {
    pub code: String,
    pub name: String,
    #[schema(value_type = xinyong_core::SubjectKind)]
    pub kind: &'static str,
}

/// A listing in force on the day checked.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ListHit {
    pub id: i64,
    #[serde(rename = "type")]
    pub list_type: String,
    pub type_name: String,
    #[schema(format = Date)]
    pub start: String,
    #[schema(format = Date)]
    pub end: Option<String>,
    pub basis: Option<String>,
    pub department: String,
    #[schema(format = Date)]
    pub decision_date: Option<String>,
    /// The ledger event of the decision.
    pub ledger_index: u64,
    /// An objection to this listing is open (异议处理中), or could not be confirmed: the
    /// department weighs the measure knowing the entry is disputed.
    pub disputed: bool,
    /// When the code checked is a responsible person listed with the entity: the role
    /// (`legal_representative`, `principal`, `actual_controller`) and the entity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listed_as: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// For a market ban: the domain it covers (`scopes` of `GET /api/v1/measures`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// For an entry of a list that follows from records: the record, the rule, and the
    /// provider's documents it cites (e.g. the court's 案号).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<HitSource>,
    /// The inclusion proof of the decision event, when asked for (`proof: true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proof: Option<crate::ledger::InclusionProof>,
}

/// The record a derived list entry follows from.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HitSource {
    pub record_id: i64,
    /// Catalog item of the record (e.g. `dishonest_debtor`).
    pub item: String,
    /// Derivation rule, `id@version`.
    pub rule: String,
    /// The provider's documents, by field name (案号, 执行依据文号 …).
    pub documents: std::collections::BTreeMap<String, String>,
}

impl HitSource {
    pub(crate) fn of(l: &Listing) -> Option<HitSource> {
        l.source.as_ref().map(|src| HitSource {
            record_id: src.record_id,
            item: src.item.clone(),
            rule: src.rule.clone(),
            documents: l
                .document
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "basis" | "reason"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        })
    }
}

/// A measure that applies, with its legal basis.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MeasureHit {
    pub id: String,
    pub name: String,
    pub name_en: String,
    pub kind: ListKind,
    pub effect: Effect,
    pub basis: Vec<String>,
    pub implementing_departments: Vec<String>,
    pub duration: String,
    /// The subject's list types that trigger it.
    pub list_types: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckAnswer {
    pub subject: Option<SubjectBrief>,
    pub verdict: Verdict,
    pub lists: Vec<ListHit>,
    pub measures: Vec<MeasureHit>,
    pub ledger_head: Option<Arc<SignedHead>>,
}

pub(crate) fn same_person(id: &str, code: &str) -> bool {
    SubjectCode::parse(id).is_ok_and(|c| c.is_person() && c.key() == code)
}

impl CheckIndex {
    /// Loads every subject name and decided listing from the store, page by page.
    pub fn load(store: &dyn Store) -> Result<CheckIndex> {
        let index = CheckIndex::default();
        let size = store.ledger_size()?;
        let mut after = String::new();
        loop {
            let page = store.subjects_after(&after, 50_000)?;
            let Some(last) = page.last() else { break };
            after = last.code.clone();
            index.add_subjects(&page);
        }
        // what open objections dispute: listings, and the entries derived from records
        let objections = xinyong_store::CaseFilter {
            kind: Some("objection".into()),
            limit: u32::MAX,
            ..xinyong_store::CaseFilter::default()
        };
        let mut open = DisputedAtLoad::default();
        for c in store.cases(&objections)?.into_iter().filter(|c| c.disputes_target()) {
            match c.target {
                xinyong_core::case::Target::Listing { id, .. } => open.listings.insert(id),
                xinyong_core::case::Target::Record { id, .. } => open.records.insert(id),
                xinyong_core::case::Target::Subject => false,
            };
        }
        let mut filter = xinyong_store::ListingFilter { limit: 20_000, ..xinyong_store::ListingFilter::default() };
        loop {
            let page = store.listings(&filter)?;
            let Some(last) = page.last() else { break };
            filter.after_id = last.id;
            let mut inner = index.write();
            for l in &page {
                inner.entries.put(l);
                if open.covers(l) {
                    inner.disputed.insert(l.id);
                }
            }
        }
        let mut inner = index.write();
        inner.entries.shrink();
        inner.seen = size;
        inner.head = store.latest_head()?.map(Arc::new);
        drop(inner);
        Ok(index)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn add_subjects(&self, rows: &[SubjectRow]) {
        let mut inner = self.write();
        for s in rows {
            inner.entries.set_name(&s.code, &s.name);
        }
    }

    pub(crate) fn put(&self, l: Listing) {
        self.write().entries.put(&l);
    }

    /// Ids of the listings that name `code` as a responsible person (not the entity's own).
    pub(crate) fn listings_naming(&self, code: &str) -> Vec<i64> {
        self.read().entries.naming(code)
    }

    /// Replaces which of `listing_ids` are disputed (a subject's, after its cases changed).
    pub(crate) fn set_disputed(&self, listing_ids: &[i64], disputed: &[i64]) {
        let mut inner = self.write();
        for id in listing_ids {
            inner.disputed.remove(id);
        }
        inner.disputed.extend(disputed.iter().copied());
    }

    /// Records a newer signed head (after any local append).
    pub fn note_head(&self, head: SignedHead) {
        let mut inner = self.write();
        if inner.head.as_ref().is_none_or(|h| h.head.size <= head.head.size) {
            inner.head = Some(Arc::new(head));
        }
    }

    /// What the index holds, and about how many bytes.
    pub fn size(&self) -> IndexSize {
        self.read().entries.size()
    }

    /// The name of a subject, if known.
    pub fn name_of(&self, code: &str) -> Option<String> {
        self.read().entries.name(code).map(str::to_string)
    }

    pub fn head(&self) -> Option<Arc<SignedHead>> {
        self.read().head.clone()
    }

    /// The answer for `code` and `matter` as of `on`.
    pub(crate) fn check(&self, code: &SubjectCode, matter: &str, domain: Option<&str>, on: Date) -> CheckAnswer {
        let rules = ListRules::bundled();
        let inner = self.read();
        let subject = inner.entries.name(code.key()).map(|n| SubjectBrief {
            code: code.key().to_string(),
            name: n.to_string(),
            kind: code.kind().as_str(),
        });
        let in_force = inner.entries.in_force(code.key(), on);
        let head = inner.head.clone();
        let disputed: Vec<bool> = in_force.iter().map(|l| inner.disputed.contains(&l.id)).collect();
        drop(inner);
        let active: Vec<ActiveListing<'_>> = in_force
            .iter()
            .map(|l| ActiveListing { list_type: &l.list_type, start: l.start, end: l.end, scope: l.scope.as_deref() })
            .collect();
        let (measures, verdict) = applicable(rules, &active, matter, domain, on);
        let lists = in_force
            .iter()
            .zip(disputed)
            .map(|(l, disputed)| ListHit {
                id: l.id,
                list_type: l.list_type.clone(),
                type_name: rules.list_type(&l.list_type).map(|t| t.name_zh.clone()).unwrap_or_default(),
                start: date_string(l.start),
                end: l.end.map(date_string),
                basis: l.basis.clone(),
                department: l.department.clone(),
                decision_date: l.decision_date.map(date_string),
                ledger_index: l.ledger_index,
                listed_as: l.listed_as.clone(),
                entity: l.listed_as.is_some().then(|| l.subject.clone()),
                disputed,
                scope: l.scope.clone(),
                source: l.source.clone(),
                proof: None,
            })
            .collect();
        let measures = measures
            .into_iter()
            .map(|m| MeasureHit {
                id: m.id.clone(),
                name: m.name_zh.clone(),
                name_en: m.name_en.clone(),
                kind: m.kind,
                effect: m.effect,
                basis: m.legal_basis.clone(),
                implementing_departments: m.implementing_departments.clone(),
                duration: m.duration.clone(),
                list_types: active
                    .iter()
                    .filter(|a| m.follows(a.list_type) && a.bears_on(domain) && m.follows_scope(a.scope))
                    .map(|a| a.list_type.to_string())
                    .collect(),
            })
            .collect();
        CheckAnswer { subject, verdict, lists, measures, ledger_head: head }
    }
}

/// Most codes in one batch check (a bidder list).
pub const MAX_BATCH_CODES: usize = 1000;

/// A check of one entity before acting.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct CheckRequest {
    /// USCC or resident ID.
    pub code: String,
    /// Matter code (办理事项), e.g. `government_procurement`.
    pub matter: String,
    /// The checking department; officers may omit it (their own).
    pub department: Option<String>,
    /// Why (e.g. the procurement project): recorded and shown to the subject.
    pub purpose: String,
    /// The domain of the matter (a ban scope code, e.g. `food`): a market ban of
    /// another domain does not bear on it. Absent: every ban counts.
    #[serde(default)]
    pub domain: Option<String>,
    /// Check as of this day (YYYY-MM-DD); default today (Asia/Shanghai).
    #[schema(format = Date)]
    pub as_of: Option<String>,
    /// Attach the inclusion proof of every list entry.
    #[serde(default)]
    pub proof: bool,
}

/// A check of a list of codes at once (a bidder list).
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct BatchCheckRequest {
    pub codes: Vec<String>,
    pub matter: String,
    pub department: Option<String>,
    pub purpose: String,
    #[serde(default)]
    pub domain: Option<String>,
    #[schema(format = Date)]
    pub as_of: Option<String>,
}

/// The answer to a check, as recorded.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CheckResult {
    pub check_id: String,
    #[schema(format = Date)]
    pub as_of: String,
    pub matter: String,
    /// The domain of the matter, when the check named one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    pub department: String,
    pub purpose: String,
    pub subject: Option<SubjectBrief>,
    pub verdict: Verdict,
    pub lists: Vec<ListHit>,
    pub measures: Vec<MeasureHit>,
    /// The signed head the answer was given at (none before the first append).
    #[schema(value_type = Option<crate::ledger::schema::SignedHead>)]
    pub ledger_head: Option<Arc<SignedHead>>,
    /// A check of a commitment matter (告知承诺事项, e.g. `M-SAMR-0002`): whether the
    /// subject may use the commitment, and if not why, with the basis.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commitment: Option<crate::commitments::CommitmentUse>,
}

/// A code's refusal inside a batch.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RowError {
    #[schema(value_type = String)]
    pub code: &'static str,
    pub message: String,
}

/// One code of a batch: its answer, or why the code was refused.
// most items are answers: boxing them would only add an allocation to each
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum BatchItem {
    Answer {
        /// 1-based position in the list.
        row: usize,
        code: String,
        #[serde(flatten)]
        answer: CheckResult,
    },
    Refused {
        row: usize,
        code: String,
        error: RowError,
    },
}

/// What the department did after a check: every returned measure applied, or not
/// applied with the reason.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct FeedbackRequest {
    #[serde(default)]
    pub applied: Vec<String>,
    #[serde(default)]
    pub not_applied: Vec<NotApplied>,
    pub note: Option<String>,
}

/// A check as the checked entity sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CheckOfSubject {
    pub check_id: String,
    pub at_ms: i64,
    pub department: String,
    pub matter: String,
    pub purpose: String,
    /// The day the check was made as of.
    #[schema(format = Date)]
    pub as_of: String,
    #[schema(value_type = Verdict)]
    pub verdict: String,
    pub measures: Vec<String>,
    pub applied: Option<Vec<String>>,
}

/// Per-department figures with the feedback rate.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DepartmentFigures {
    #[serde(flatten)]
    pub stats: DepartmentStats,
    /// Checks with feedback / checks, to three places.
    pub feedback_rate: f64,
}

/// One check as the API answers it (reading it, or after its feedback).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CheckEntry {
    pub check: CheckRow,
}

/// A batch check as the API answers it: one item per code, in input order.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BatchCheckResult {
    pub results: Vec<BatchItem>,
}

/// Figures per department, as the API answers them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CheckStats {
    pub departments: Vec<DepartmentFigures>,
}

/// Who checked a subject, newest first, as the API answers it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChecksOfSubject {
    pub checks: Vec<CheckOfSubject>,
}

struct CheckContext {
    account_id: i64,
    department: String,
    matter: String,
    purpose: String,
    as_of: Date,
    domain: Option<String>,
}

/// The commitment matter (告知承诺事项) a check names, if it names one.
fn commitment_matter(matter: &str) -> Option<&'static Matter> {
    Matters::bundled().ok()?.matter(matter)
}

/// The measures-list matter a check of `matter` weighs: a commitment matter of the
/// approval-replacing or missing-materials kind is an administrative licence (its
/// measures include 不适用告知承诺制); any other matter is its own.
fn measures_matter(matter: &str) -> &str {
    match commitment_matter(matter) {
        Some(m) if m.kind.excludes_by_default() => "administrative_licensing",
        _ => matter,
    }
}

fn known_matter(matter: &str) -> Result<()> {
    let rules = ListRules::bundled();
    if rules.has_matter(matter) || commitment_matter(matter).is_some() {
        return Ok(());
    }
    let known: Vec<&str> = rules.matters().into_iter().collect();
    Err(AppError::invalid(
        "unknown_matter",
        format!("未知办理事项“{matter}”"),
        format!("unknown matter {matter:?}; known: {}", known.join(", ")),
    ))
}

/// What a single and a batch check have in common.
struct Asked<'a> {
    department: Option<&'a str>,
    matter: &'a str,
    purpose: &'a str,
    as_of: Option<&'a str>,
    domain: Option<&'a str>,
}

impl<'a> Asked<'a> {
    fn of(
        department: &'a Option<String>,
        matter: &'a str,
        purpose: &'a str,
        as_of: &'a Option<String>,
        domain: &'a Option<String>,
    ) -> Asked<'a> {
        Asked { department: department.as_deref(), matter, purpose, as_of: as_of.as_deref(), domain: domain.as_deref() }
    }
}

fn context(caller: &Caller, q: Asked<'_>) -> Result<CheckContext> {
    let Asked { department, matter, purpose, as_of, domain } = q;
    let department = acting_department(caller, department)?;
    known_matter(matter)?;
    let domain = domain.map(str::trim).filter(|d| !d.is_empty());
    if let Some(d) = domain
        && ListRules::bundled().scope(d).is_none()
    {
        let known: Vec<&str> = ListRules::bundled().scopes().iter().map(|s| s.code.as_str()).collect();
        return Err(AppError::invalid(
            "unknown_domain",
            format!("未知领域“{d}”"),
            format!("unknown domain {d:?}; known: {}", known.join(", ")),
        ));
    }
    if purpose.trim().is_empty() {
        return Err(AppError::invalid("purpose_required", "请说明核查事由 purpose", "state the purpose"));
    }
    Ok(CheckContext {
        account_id: caller.account_id(),
        department,
        matter: matter.to_string(),
        purpose: purpose.trim().to_string(),
        as_of: day_or_today(as_of)?,
        domain: domain.map(str::to_string),
    })
}

/// Time-ordered (milliseconds, then 64 random bits): ids sort by answer time, so the
/// check log's id index grows at its right edge, and stay unguessable.
fn new_check_id(at_ms: i64) -> String {
    use rand::RngCore;
    format!("chk_{:011x}{:016x}", at_ms.max(0), rand::thread_rng().next_u64())
}

fn answer(ctx: &CheckContext, code: &SubjectCode, a: CheckAnswer) -> (CheckRow, CheckResult) {
    let at_ms = now_ms();
    let row = CheckRow {
        id: new_check_id(at_ms),
        at_ms,
        account_id: ctx.account_id,
        department: ctx.department.clone(),
        matter: ctx.matter.clone(),
        purpose: ctx.purpose.clone(),
        subject_code: code.key().to_string(),
        as_of: date_string(ctx.as_of),
        verdict: a.verdict.as_str().to_string(),
        measures: a.measures.iter().map(|m| m.id.clone()).collect(),
        listings: a.lists.iter().map(|l| l.id).collect(),
        ledger_size: a.ledger_head.as_ref().map_or(0, |h| h.head.size),
        feedback: None,
    };
    let result = CheckResult {
        check_id: row.id.clone(),
        as_of: row.as_of.clone(),
        matter: row.matter.clone(),
        domain: ctx.domain.clone(),
        department: row.department.clone(),
        purpose: row.purpose.clone(),
        subject: a.subject,
        verdict: a.verdict,
        lists: a.lists,
        measures: a.measures,
        ledger_head: a.ledger_head,
        commitment: None,
    };
    (row, result)
}

/// Checks that the feedback accounts for every returned measure exactly once, with a
/// reason for each one not applied.
fn validate_feedback(row: &CheckRow, f: &FeedbackRequest) -> Result<()> {
    let mut seen = std::collections::BTreeSet::new();
    for id in f.applied.iter().chain(f.not_applied.iter().map(|n| &n.id)) {
        if !row.measures.contains(id) {
            return Err(AppError::invalid(
                "unknown_measure",
                format!("措施 {id} 不在本次核查结果中"),
                format!("measure {id} was not in this check's answer"),
            ));
        }
        if !seen.insert(id.as_str()) {
            return Err(AppError::invalid(
                "duplicate_measure",
                format!("措施 {id} 重复反馈"),
                format!("measure {id} appears twice"),
            ));
        }
    }
    if let Some(n) = f.not_applied.iter().find(|n| n.reason.trim().is_empty()) {
        return Err(AppError::invalid(
            "reason_required",
            format!("未采取措施 {} 须说明理由", n.id),
            format!("give the reason for not applying {}", n.id),
        ));
    }
    if let Some(missing) = row.measures.iter().find(|m| !seen.contains(m.as_str())) {
        return Err(AppError::invalid(
            "measure_unaccounted",
            format!("措施 {missing} 未反馈是否采取"),
            format!("say whether measure {missing} was applied (applied or not_applied)"),
        ));
    }
    Ok(())
}

impl App {
    /// Checks an entity before acting: the measures that apply to the matter, each with
    /// its legal basis, and the verdict. Answers from the check index; returns once the
    /// check is durably recorded.
    pub async fn check(&self, caller: &Caller, req: CheckRequest) -> Result<CheckResult> {
        let ctx = context(caller, Asked::of(&req.department, &req.matter, &req.purpose, &req.as_of, &req.domain))?;
        let code = parse_code(&req.code)?;
        let p = self.projections()?;
        let (row, mut result) =
            answer(&ctx, &code, p.checks.check(&code, measures_matter(&ctx.matter), ctx.domain.as_deref(), ctx.as_of));
        if let Some(m) = commitment_matter(&ctx.matter) {
            let app = self.clone();
            let listed: Vec<String> = result.lists.iter().map(|l| l.list_type.clone()).collect();
            let (key, day) = (code.key().to_string(), ctx.as_of);
            let used = tokio::task::spawn_blocking(move || {
                let listed: Vec<&str> = listed.iter().map(String::as_str).collect();
                app.commitment_use(m, &key, &listed, day)
            })
            .await
            .map_err(|e| AppError::Internal(e.to_string()))??;
            result.commitment = Some(used);
        }
        if req.proof && !result.lists.is_empty() {
            let app = self.clone();
            let indexes: Vec<u64> = result.lists.iter().map(|l| l.ledger_index).collect();
            let proofs = tokio::task::spawn_blocking(move || {
                indexes.iter().map(|i| app.proof_of(*i)).collect::<Result<Vec<_>>>()
            })
            .await
            .map_err(|e| AppError::Internal(e.to_string()))??;
            for (l, mut proof) in result.lists.iter_mut().zip(proofs) {
                // the proof, not the event content (which may hold non-public data)
                proof.event = None;
                l.proof = Some(proof);
            }
        }
        self.side_log()?.checks(vec![row])?.committed().await?;
        Ok(result)
    }

    /// Checks every code of a list (a bidder list), in order: each gets its own check
    /// id, or the error of its code.
    pub async fn check_batch(&self, caller: &Caller, req: BatchCheckRequest) -> Result<Vec<BatchItem>> {
        let ctx = context(caller, Asked::of(&req.department, &req.matter, &req.purpose, &req.as_of, &req.domain))?;
        if req.codes.is_empty() || req.codes.len() > MAX_BATCH_CODES {
            return Err(AppError::invalid(
                "batch_size",
                format!("每批 1–{MAX_BATCH_CODES} 个代码"),
                format!("1–{MAX_BATCH_CODES} codes per batch"),
            ));
        }
        let p = self.projections()?;
        let mut items = Vec::with_capacity(req.codes.len());
        let mut rows = Vec::with_capacity(req.codes.len());
        for (i, raw) in req.codes.iter().enumerate() {
            match parse_code(raw) {
                Err(e) => items.push(BatchItem::Refused {
                    row: i + 1,
                    code: raw.clone(),
                    error: RowError { code: e.code(), message: e.to_string() },
                }),
                Ok(code) => {
                    let (row, answer) = answer(
                        &ctx,
                        &code,
                        p.checks.check(&code, measures_matter(&ctx.matter), ctx.domain.as_deref(), ctx.as_of),
                    );
                    rows.push(row);
                    items.push(BatchItem::Answer { row: i + 1, code: code.key().to_string(), answer });
                }
            }
        }
        if let Some(m) = commitment_matter(&ctx.matter) {
            // whether each may use the commitment: the breach part reads the store
            let app = self.clone();
            let day = ctx.as_of;
            items = tokio::task::spawn_blocking(move || {
                for item in &mut items {
                    if let BatchItem::Answer { code, answer, .. } = item {
                        let listed: Vec<&str> = answer.lists.iter().map(|l| l.list_type.as_str()).collect();
                        answer.commitment = Some(app.commitment_use(m, code, &listed, day)?);
                    }
                }
                Ok::<_, AppError>(items)
            })
            .await
            .map_err(|e| AppError::Internal(e.to_string()))??;
        }
        if !rows.is_empty() {
            self.side_log()?.checks(rows)?.committed().await?;
        }
        Ok(items)
    }

    /// One check as answered, with its feedback (the checking department or the centre).
    pub fn check_entry(&self, caller: &Caller, id: &str) -> Result<CheckRow> {
        let row =
            self.db().read(|s| Ok(s.check_entry(id)?))?.ok_or_else(|| AppError::NotFound("核查记录 / check".into()))?;
        permit(caller, Action::CheckOf { department: &row.department })?;
        Ok(row)
    }

    /// Records what the department did after the check, once.
    pub fn check_feedback(&self, caller: &Caller, id: &str, f: FeedbackRequest) -> Result<CheckRow> {
        let row = self.check_entry(caller, id)?;
        validate_feedback(&row, &f)?;
        let feedback = Feedback {
            at_ms: now_ms(),
            account_id: caller.account_id(),
            applied: f.applied,
            not_applied: f.not_applied,
            note: f.note.filter(|n| !n.trim().is_empty()),
        };
        self.db().write(|s| Ok(s.record_feedback(id, &feedback)?))?;
        self.db()
            .read(|s| Ok(s.check_entry(id)?))?
            .ok_or_else(|| AppError::Internal(format!("check {id} vanished after its feedback")))
    }

    /// Per-department figures: the centre sees every department, an officer its own.
    pub fn check_stats(&self, caller: &Caller) -> Result<Vec<DepartmentFigures>> {
        let department = match permit(caller, Action::CheckStats)? {
            Scope::Department(d) => Some(d),
            _ => None,
        };
        let stats = self.db().read(|s| Ok(s.check_stats(department.as_deref())?))?;
        Ok(stats
            .into_iter()
            .map(|d| {
                let rate = if d.checks == 0 { 0.0 } else { d.with_feedback as f64 / d.checks as f64 };
                DepartmentFigures { stats: d, feedback_rate: (rate * 1000.0).round() / 1000.0 }
            })
            .collect())
    }

    /// Which departments checked this subject, for what and why, newest first.
    pub fn checks_of_subject(&self, caller: &Caller, code: &str, limit: u32) -> Result<Vec<CheckOfSubject>> {
        let code = parse_code(code)?;
        permit(caller, Action::ChecksOfSubject { subject: code.key() })?;
        let rows = self.db().read(|s| Ok(s.checks_of(code.key(), limit.min(1000))?))?;
        Ok(rows
            .into_iter()
            .map(|c| CheckOfSubject {
                check_id: c.id,
                at_ms: c.at_ms,
                department: c.department,
                matter: c.matter,
                purpose: c.purpose,
                as_of: c.as_of,
                verdict: c.verdict,
                measures: c.measures,
                applied: c.feedback.map(|f| f.applied),
            })
            .collect())
    }

    /// The name of a subject in the check index, when known.
    pub fn name_of(&self, code: &str) -> Option<String> {
        self.inner.projections.get().and_then(|p| p.checks.name_of(code))
    }
}
