//! A listing (列入名单) is a procedure, not a flag: prior notice to the subject (告知)
//! → objection window (异议期) → decision (列入决定) whose document carries what the list
//! type requires → listed from a start date to an end date or for life → removed
//! (移出: early removal, repair, revoked decision) or expired by itself. Each step here
//! is a pure transition from one [`Listing`] state to the next; the store records each
//! as a ledger event.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize, Serializer};
use time::Date;

use crate::calendar::WorkCalendar;
use crate::lists::{ListError, ListRules, ListType, ListingDecision, check_decision, is_active};
use crate::record::date_string;

/// Where a listing stands in its procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ListingStatus {
    /// Notice given, no decision yet (告知/异议期).
    Noticed,
    /// Decided; in force from `start` until `end` or removal.
    Listed,
    /// Removed before its end (移出).
    Removed,
    /// A noticed listing dropped before any decision (撤回).
    Withdrawn,
}

impl ListingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ListingStatus::Noticed => "noticed",
            ListingStatus::Listed => "listed",
            ListingStatus::Removed => "removed",
            ListingStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<ListingStatus> {
        [ListingStatus::Noticed, ListingStatus::Listed, ListingStatus::Removed, ListingStatus::Withdrawn]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// Why a listing ends before its term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RemovalKind {
    /// 提前移出: the subject applied after the minimum period and qualifies.
    EarlyRemoval,
    /// 信用修复: the subject repaired its credit.
    Repair,
    /// 决定被撤销: the decision was revoked (review, litigation, error). The listing is
    /// void from its start: past-dated checks no longer see it.
    DecisionRevoked,
    /// 撤回: a noticed listing is not pursued (e.g. the objection succeeded).
    Withdrawn,
    /// 决定机关移出/删除: an entry derived from a record ends with the provider's own
    /// removal date in the record (e.g. the court deleted the debtor's entry).
    ProviderRemoved,
    /// 来源记录被撤销: the record a derived entry follows was revoked. The entry ends on
    /// the day of revocation; checks as of earlier days still see it.
    RecordRevoked,
}

impl RemovalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RemovalKind::EarlyRemoval => "early_removal",
            RemovalKind::Repair => "repair",
            RemovalKind::DecisionRevoked => "decision_revoked",
            RemovalKind::Withdrawn => "withdrawn",
            RemovalKind::ProviderRemoved => "provider_removed",
            RemovalKind::RecordRevoked => "record_revoked",
        }
    }

    pub fn parse(s: &str) -> Option<RemovalKind> {
        [
            RemovalKind::EarlyRemoval,
            RemovalKind::Repair,
            RemovalKind::DecisionRevoked,
            RemovalKind::Withdrawn,
            RemovalKind::ProviderRemoved,
            RemovalKind::RecordRevoked,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// A person listed with the entity (法定代表人、主要负责人、实际控制人).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResponsiblePerson {
    /// `legal_representative`, `principal` or `actual_controller`.
    pub role: String,
    pub name: String,
    /// Resident ID, stored for matching; shown masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

pub const PERSON_ROLES: &[&str] = &["legal_representative", "principal", "actual_controller"];

/// The subject's objection during the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Objection {
    #[serde(serialize_with = "ser_date", deserialize_with = "de_date")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: Date,
    pub text: String,
}

/// The record an entry of a list that follows from records (对象清单) was derived from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListingSource {
    pub record_id: i64,
    /// The derivation rule (`data/lists/derivations.toml`) and its version.
    pub rule: String,
    /// The catalog item of the record.
    pub item: String,
}

/// A listing as it stands after its latest step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listing {
    /// 0 until stored.
    pub id: i64,
    pub subject: String,
    pub list_type: String,
    pub status: ListingStatus,
    /// The department that notices, decides and removes ("who lists, removes").
    pub provider: String,
    pub basis: Option<String>,
    pub reason: String,
    #[serde(serialize_with = "ser_date_opt")]
    pub notice_date: Option<Date>,
    /// Last day the subject may object (inclusive).
    #[serde(serialize_with = "ser_date_opt")]
    pub objection_until: Option<Date>,
    pub objections: Vec<Objection>,
    #[serde(serialize_with = "ser_date_opt")]
    pub decision_date: Option<Date>,
    #[serde(serialize_with = "ser_date_opt")]
    pub start: Option<Date>,
    /// Exclusive end of the term; `None` for life or until removed.
    #[serde(serialize_with = "ser_date_opt")]
    pub end: Option<Date>,
    #[serde(serialize_with = "ser_date_opt")]
    pub removed_date: Option<Date>,
    pub removal_kind: Option<RemovalKind>,
    pub removal_reason: Option<String>,
    /// The decision document (决定书) by field code: reason, basis, measures_notice, removal, remedy …
    pub document: BTreeMap<String, String>,
    pub persons: Vec<ResponsiblePerson>,
    /// For a market ban: the domain it covers (`data/lists/ban_scopes.toml`).
    pub scope: Option<String>,
    /// For an entry derived from a record: which one, by which rule.
    pub source: Option<ListingSource>,
    /// Ledger index of the first step and of the decision.
    pub first_event: u64,
    pub decided_event: Option<u64>,
    pub last_event: u64,
}

fn ser_date<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&date_string(*d))
}

fn ser_date_opt<S: Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_str(&date_string(*d)),
        None => s.serialize_none(),
    }
}

fn de_date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
    let s = String::deserialize(d)?;
    crate::record::parse_date(&s).ok_or_else(|| serde::de::Error::custom(format!("invalid date {s:?}")))
}

/// The day a listing stops being in force (exclusive), from its stored dates: the
/// earlier of its end and its removal; its start when the decision was revoked (void
/// from the start). [`Listing::effective_end`], and readers of bare rows, use this.
pub fn effective_end(
    start: Option<Date>,
    end: Option<Date>,
    removed: Option<Date>,
    removal: Option<RemovalKind>,
) -> Option<Date> {
    if removal == Some(RemovalKind::DecisionRevoked) {
        return start;
    }
    match (end, removed) {
        (Some(e), Some(r)) => Some(e.min(r)),
        (e, r) => e.or(r),
    }
}

impl Listing {
    /// The day the listing stops being in force (exclusive): the earlier of its end and
    /// its removal; its start when the decision was revoked (void from the start).
    pub fn effective_end(&self) -> Option<Date> {
        effective_end(self.start, self.end, self.removed_date, self.removal_kind)
    }

    /// Whether the listing is in force on `on` (counts for checks made as of that day).
    pub fn in_force_on(&self, on: Date) -> bool {
        matches!(self.status, ListingStatus::Listed | ListingStatus::Removed)
            && self.start.is_some_and(|s| is_active(s, self.effective_end(), on))
    }
}

/// Prior notice of an intended listing.
#[derive(Debug, Clone)]
pub struct Notice {
    pub subject: String,
    pub list_type: String,
    pub provider: String,
    pub basis: Option<String>,
    pub reason: String,
    pub notice_date: Date,
    pub persons: Vec<ResponsiblePerson>,
    /// The domain a market ban covers (required for scoped list types).
    pub scope: Option<String>,
}

/// A listing decision, after notice or (where the type needs none) directly.
#[derive(Debug, Clone)]
pub struct Decision {
    pub decision_date: Date,
    /// Defaults to the decision date.
    pub start: Option<Date>,
    /// Defaults to the list type's term.
    pub end: Option<Date>,
    pub document: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct Removal {
    pub date: Date,
    pub kind: RemovalKind,
    pub reason: String,
}

/// Why a step of the procedure is refused: the decision rules of [`ListError`], or
/// an out-of-order step. `Display` gives "中文 / English".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error("{0}")]
    Decision(#[from] ListError),
    #[error("列入事由不能为空 / the listing needs a reason")]
    MissingReason,
    #[error("“{list_zh}”不列入责任人 / list {list_code:?} does not list responsible persons")]
    PersonsNotAllowed { list_code: String, list_zh: String },
    #[error("责任人信息无效：{0} / invalid responsible person: {0}")]
    BadPerson(String),
    #[error("日期 {date} 晚于今天 / date {date} is in the future")]
    FutureDate { date: String },
    #[error("该名单当前状态为“{status}”，不能{step} / the listing is {status}: cannot {step}")]
    WrongStatus { status: &'static str, step: &'static str },
    #[error("异议期已于 {until} 届满 / the objection window closed on {until}")]
    ObjectionWindowClosed { until: String },
    #[error("异议日期 {date} 早于告知日期 {notice} / objection date {date} is before the notice date {notice}")]
    ObjectionBeforeNotice { date: String, notice: String },
    #[error("异议内容不能为空 / the objection needs a text")]
    EmptyObjection,
    #[error(
        "异议期至 {until} 届满，决定日期 {decision} 不得在此之前 / the objection window runs to {until}: no decision before it ends (decision date {decision})"
    )]
    DecisionInObjectionWindow { until: String, decision: String },
    #[error(
        "当事人提出了异议，决定书须载明异议处理意见（objection_reply）/ the subject objected: the decision must answer it (objection_reply)"
    )]
    ObjectionUnanswered,
    #[error("移出原因不能为空 / the removal needs a reason")]
    MissingRemovalReason,
    #[error("移出日期 {date} 早于列入起始日 {start} / removal date {date} is before the start {start}")]
    RemovalBeforeStart { date: String, start: String },
    #[error("该名单已于 {end} 期满自动移出 / the listing already expired on {end}")]
    AlreadyExpired { end: String },
    #[error("提前移出须自 {from} 起申请 / early removal may be applied for from {from} on (removal date {date})")]
    EarlyRemovalTooSoon { from: String, date: String },
    #[error("“{list_zh}”不适用提前移出 / list {list_code:?} has no early removal")]
    NoEarlyRemoval { list_code: String, list_zh: String },
    #[error("{0}")]
    Calendar(String),
    #[error(
        "“{list_zh}”的条目由提供单位的记录产生，不能在此列入；请报送该记录 / entries of {list_code:?} follow from the provider's records and cannot be proposed here: send the record"
    )]
    EntriesFromRecords { list_code: String, list_zh: String },
    #[error(
        "该条目由记录 {record_id} 产生，随来源记录的移出、撤销或修复而结束 / this entry follows from record {record_id}: it ends with the record's removal, revocation or repair"
    )]
    DerivedEntry { record_id: i64 },
    #[error("“{list_zh}”须载明禁入领域（scope）/ a listing on {list_code:?} must name the domain it covers (scope)")]
    MissingScope { list_code: String, list_zh: String },
    #[error("未知禁入领域“{0}” / unknown ban scope {0:?}")]
    UnknownScope(String),
    #[error("“{list_zh}”不分禁入领域 / list {list_code:?} takes no scope")]
    ScopeNotAllowed { list_code: String, list_zh: String },
}

fn list_type<'r>(rules: &'r ListRules, code: &str) -> Result<&'r ListType, Vec<StepError>> {
    rules.list_type(code).ok_or_else(|| vec![StepError::Decision(ListError::UnknownListType(code.to_string()))])
}

fn not_future(d: Date, today: Date, errors: &mut Vec<StepError>) {
    if d > today {
        errors.push(StepError::FutureDate { date: date_string(d) });
    }
}

/// A list type whose entries a department may propose here, with a scope that fits it.
fn check_proposable(rules: &ListRules, lt: &ListType, scope: Option<&str>, errors: &mut Vec<StepError>) {
    if lt.entries_from == crate::lists::EntriesFrom::Records {
        errors.push(StepError::EntriesFromRecords { list_code: lt.code.clone(), list_zh: lt.name_zh.clone() });
    }
    match (lt.scoped, scope) {
        (true, None) => {
            errors.push(StepError::MissingScope { list_code: lt.code.clone(), list_zh: lt.name_zh.clone() })
        }
        (true, Some(s)) if rules.scope(s).is_none() => errors.push(StepError::UnknownScope(s.to_string())),
        (false, Some(_)) => {
            errors.push(StepError::ScopeNotAllowed { list_code: lt.code.clone(), list_zh: lt.name_zh.clone() })
        }
        _ => {}
    }
}

fn check_persons(lt: &ListType, persons: &[ResponsiblePerson], errors: &mut Vec<StepError>) {
    if persons.is_empty() {
        return;
    }
    if !lt.responsible_persons {
        errors.push(StepError::PersonsNotAllowed { list_code: lt.code.clone(), list_zh: lt.name_zh.clone() });
        return;
    }
    for p in persons {
        if !PERSON_ROLES.contains(&p.role.as_str()) {
            errors.push(StepError::BadPerson(format!("role {:?} (expected one of {PERSON_ROLES:?})", p.role)));
        }
        if p.name.trim().is_empty() {
            errors.push(StepError::BadPerson("name is empty".into()));
        }
        if let Some(id) = &p.id
            && crate::codes::ResidentId::parse(id).is_err()
        {
            errors.push(StepError::BadPerson(format!("{} 的身份证号码无效 / invalid resident ID", p.name)));
        }
    }
}

impl Listing {
    /// A listing not stored yet, from a notice's facts: noticed on its date, or (for a
    /// direct decision) with no notice recorded.
    fn fresh(n: Notice, noticed: bool, objection_until: Option<Date>) -> Listing {
        Listing {
            id: 0,
            subject: n.subject,
            list_type: n.list_type,
            status: ListingStatus::Noticed,
            provider: n.provider,
            basis: n.basis.filter(|b| !b.trim().is_empty()),
            reason: n.reason,
            notice_date: noticed.then_some(n.notice_date),
            objection_until,
            objections: Vec::new(),
            decision_date: None,
            start: None,
            end: None,
            removed_date: None,
            removal_kind: None,
            removal_reason: None,
            document: BTreeMap::new(),
            persons: n.persons,
            scope: n.scope.filter(|s| !s.trim().is_empty()),
            source: None,
            first_event: 0,
            decided_event: None,
            last_event: 0,
        }
    }
}

/// Step 1: prior notice. Refuses a missing basis (where the type requires one), a blank
/// reason, persons on a type that lists none, and a notice dated after `today`.
pub fn notice(rules: &ListRules, cal: &WorkCalendar, n: Notice, today: Date) -> Result<Listing, Vec<StepError>> {
    let lt = list_type(rules, &n.list_type)?;
    let mut errors = Vec::new();
    check_proposable(rules, lt, n.scope.as_deref().filter(|s| !s.trim().is_empty()), &mut errors);
    if lt.requires_legal_basis && n.basis.as_deref().is_none_or(|b| b.trim().is_empty()) {
        errors.push(ListError::MissingBasis { list_code: lt.code.clone(), list_zh: lt.name_zh.clone() }.into());
    }
    if n.reason.trim().is_empty() {
        errors.push(StepError::MissingReason);
    }
    check_persons(lt, &n.persons, &mut errors);
    not_future(n.notice_date, today, &mut errors);
    let objection_until = if lt.objection_working_days == 0 {
        None
    } else {
        // past the calendar's years the window ends on a provisional day (statutory
        // holidays): the notice goes ahead rather than fail
        match cal.deadline(n.notice_date, lt.objection_working_days) {
            Ok(d) => Some(d.date),
            Err(e) => {
                errors.push(StepError::Calendar(e.to_string()));
                None
            }
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Listing::fresh(n, true, objection_until))
}

/// Step 2 (optional): the subject objects within the window.
pub fn object(listing: &Listing, date: Date, text: &str, today: Date) -> Result<Listing, Vec<StepError>> {
    if listing.status != ListingStatus::Noticed {
        return Err(vec![StepError::WrongStatus { status: listing.status.as_str(), step: "object" }]);
    }
    let mut errors = Vec::new();
    if text.trim().is_empty() {
        errors.push(StepError::EmptyObjection);
    }
    not_future(date, today, &mut errors);
    if let Some(n) = listing.notice_date
        && date < n
    {
        errors.push(StepError::ObjectionBeforeNotice { date: date_string(date), notice: date_string(n) });
    }
    if let Some(until) = listing.objection_until
        && date > until
    {
        errors.push(StepError::ObjectionWindowClosed { until: date_string(until) });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut next = listing.clone();
    next.objections.push(Objection { date, text: text.to_string() });
    Ok(next)
}

/// What a decision follows: a noticed listing, or nothing (a direct decision, which
/// carries the notice's facts itself and is refused where the type requires notice).
#[derive(Debug, Clone)]
pub enum Before<'a> {
    Noticed(&'a Listing),
    Direct(Notice),
}

/// Step 3: the decision.
pub fn decide(rules: &ListRules, before: Before<'_>, d: Decision, today: Date) -> Result<Listing, Vec<StepError>> {
    let mut errors = Vec::new();
    let mut next = match before {
        Before::Noticed(l) => {
            if l.status != ListingStatus::Noticed {
                return Err(vec![StepError::WrongStatus { status: l.status.as_str(), step: "decide" }]);
            }
            l.clone()
        }
        Before::Direct(n) => {
            let lt = list_type(rules, &n.list_type)?;
            check_proposable(rules, lt, n.scope.as_deref().filter(|s| !s.trim().is_empty()), &mut errors);
            check_persons(lt, &n.persons, &mut errors);
            if n.reason.trim().is_empty() {
                errors.push(StepError::MissingReason);
            }
            Listing::fresh(n, false, None)
        }
    };
    let lt = list_type(rules, &next.list_type)?;
    let start = d.start.unwrap_or(d.decision_date);
    let end = d.end.or_else(|| lt.default_end(start));
    not_future(d.decision_date, today, &mut errors);
    if let Some(until) = next.objection_until
        && d.decision_date <= until
    {
        errors.push(StepError::DecisionInObjectionWindow {
            until: date_string(until),
            decision: date_string(d.decision_date),
        });
    }
    if !next.objections.is_empty() && d.document.get("objection_reply").is_none_or(|r| r.trim().is_empty()) {
        errors.push(StepError::ObjectionUnanswered);
    }
    // the document's basis stands for the listing's when the notice gave none
    let basis = next.basis.clone().or_else(|| d.document.get("basis").filter(|b| !b.trim().is_empty()).cloned());
    let decision = ListingDecision {
        list_type: &next.list_type,
        basis: basis.as_deref(),
        notice_date: next.notice_date,
        decision_date: d.decision_date,
        start,
        end,
        document: &d.document,
    };
    if let Err(e) = check_decision(rules, &decision) {
        errors.extend(e.into_iter().map(StepError::Decision));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    next.status = ListingStatus::Listed;
    next.basis = basis;
    next.decision_date = Some(d.decision_date);
    next.start = Some(start);
    next.end = end;
    next.document = d.document;
    Ok(next)
}

/// Step 4: removal of a listed entry, or withdrawal of a noticed one.
pub fn remove(rules: &ListRules, listing: &Listing, r: Removal, today: Date) -> Result<Listing, Vec<StepError>> {
    let lt = list_type(rules, &listing.list_type)?;
    if let Some(src) = &listing.source {
        return Err(vec![StepError::DerivedEntry { record_id: src.record_id }]);
    }
    let mut errors = Vec::new();
    if r.reason.trim().is_empty() {
        errors.push(StepError::MissingRemovalReason);
    }
    not_future(r.date, today, &mut errors);
    let status = match (listing.status, r.kind) {
        (ListingStatus::Noticed, RemovalKind::Withdrawn) => ListingStatus::Withdrawn,
        (ListingStatus::Listed, RemovalKind::Withdrawn) | (ListingStatus::Noticed, _) => {
            return Err(vec![StepError::WrongStatus { status: listing.status.as_str(), step: r.kind.as_str() }]);
        }
        (ListingStatus::Listed, kind) => {
            // Listed implies a start; a revoked decision may be recorded whenever it comes
            let start = listing.start.unwrap_or(r.date);
            if kind != RemovalKind::DecisionRevoked {
                if r.date < start {
                    errors.push(StepError::RemovalBeforeStart { date: date_string(r.date), start: date_string(start) });
                }
                if let Some(end) = listing.end
                    && r.date >= end
                {
                    errors.push(StepError::AlreadyExpired { end: date_string(end) });
                }
            }
            if kind == RemovalKind::Repair
                && let Err(mut e) = repair_from(rules, listing).and_then(|from| {
                    if r.date < from {
                        Err(vec![StepError::EarlyRemovalTooSoon { from: date_string(from), date: date_string(r.date) }])
                    } else {
                        Ok(())
                    }
                })
            {
                errors.append(&mut e);
            }
            if kind == RemovalKind::EarlyRemoval {
                match lt.early_removal_from(start) {
                    None => errors
                        .push(StepError::NoEarlyRemoval { list_code: lt.code.clone(), list_zh: lt.name_zh.clone() }),
                    Some(from) if r.date < from => errors
                        .push(StepError::EarlyRemovalTooSoon { from: date_string(from), date: date_string(r.date) }),
                    Some(_) => {}
                }
            }
            ListingStatus::Removed
        }
        (s, _) => return Err(vec![StepError::WrongStatus { status: s.as_str(), step: r.kind.as_str() }]),
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut next = listing.clone();
    next.status = status;
    next.removed_date = Some(r.date);
    next.removal_kind = Some(r.kind);
    next.removal_reason = Some(r.reason);
    Ok(next)
}

/// The first day the subject may apply to have a listing repaired (信用修复 of a list
/// entry); refused for reward lists and for an entry not in force.
pub fn repair_from(rules: &ListRules, l: &Listing) -> Result<Date, Vec<StepError>> {
    let lt = list_type(rules, &l.list_type)?;
    if let Some(src) = &l.source {
        return Err(vec![StepError::DerivedEntry { record_id: src.record_id }]);
    }
    if l.status != ListingStatus::Listed {
        return Err(vec![StepError::WrongStatus { status: l.status.as_str(), step: RemovalKind::Repair.as_str() }]);
    }
    let start = l.start.ok_or_else(|| vec![StepError::WrongStatus { status: l.status.as_str(), step: "repair" }])?;
    if lt.kind == crate::lists::ListKind::Reward {
        return Err(vec![StepError::NoEarlyRemoval { list_code: lt.code.clone(), list_zh: lt.name_zh.clone() }]);
    }
    // where the type sets a minimum before early removal, repair waits for it too;
    // otherwise (e.g. the abnormal-operation list) the subject may apply once listed
    Ok(lt.early_removal_from(start).unwrap_or(start))
}

/// The facts an event records for a step: what changed, as text.
pub fn step_facts(kind: crate::event::EventKind, l: &Listing) -> BTreeMap<String, String> {
    use crate::event::EventKind as K;
    let mut f = BTreeMap::new();
    let date = |d: Option<Date>| d.map(date_string).unwrap_or_default();
    match kind {
        K::ListingNoticed => {
            if let Some(scope) = &l.scope {
                f.insert("scope".into(), scope.clone());
            }
            f.insert("reason".into(), l.reason.clone());
            f.insert("basis".into(), l.basis.clone().unwrap_or_default());
            f.insert("notice_date".into(), date(l.notice_date));
            f.insert("objection_until".into(), date(l.objection_until));
            f.insert("persons".into(), serde_json::to_string(&l.persons).unwrap_or_default());
        }
        K::ListingObjected => {
            if let Some(o) = l.objections.last() {
                f.insert("objection_date".into(), date_string(o.date));
                f.insert("objection".into(), o.text.clone());
            }
        }
        K::ListingDecided | K::ListingDerived => {
            if let Some(src) = &l.source {
                f.insert("source.record_id".into(), src.record_id.to_string());
                f.insert("source.rule".into(), src.rule.clone());
                f.insert("source.item".into(), src.item.clone());
            }
            if let Some(scope) = &l.scope {
                f.insert("scope".into(), scope.clone());
            }
            f.insert("reason".into(), l.reason.clone());
            f.insert("basis".into(), l.basis.clone().unwrap_or_default());
            f.insert("decision_date".into(), date(l.decision_date));
            f.insert("start".into(), date(l.start));
            f.insert("end".into(), date(l.end));
            f.insert("persons".into(), serde_json::to_string(&l.persons).unwrap_or_default());
            for (k, v) in &l.document {
                f.insert(format!("document.{k}"), v.clone());
            }
        }
        K::ListingRemoved => {
            f.insert("removed_date".into(), date(l.removed_date));
            f.insert("removal_kind".into(), l.removal_kind.map(|k| k.as_str().to_string()).unwrap_or_default());
            f.insert("removal_reason".into(), l.removal_reason.clone().unwrap_or_default());
        }
        _ => {}
    }
    f
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::event::EventKind;
    use proptest::prelude::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 25);

    fn rules() -> &'static ListRules {
        ListRules::bundled()
    }

    fn cal() -> &'static WorkCalendar {
        WorkCalendar::official()
    }

    fn full_document() -> BTreeMap<String, String> {
        [
            ("reason", "拒不履行法院判决"),
            ("basis", "《失信行为纠正后的信用信息修复管理办法》"),
            ("measures_notice", "限制参与政府采购"),
            ("removal", "期满三年自动移出；满一年可申请提前移出"),
            ("remedy", "可于六十日内申请行政复议"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    fn notice_of(list_type: &str, on: Date) -> Notice {
        Notice {
            subject: "91110108551385082Q".into(),
            list_type: list_type.into(),
            provider: "朝阳区市场监管局".into(),
            basis: Some("《严重失信主体名单管理办法》第五条".into()),
            reason: "拒不履行生效判决".into(),
            notice_date: on,
            persons: vec![],
            scope: None,
        }
    }

    fn decision(on: Date) -> Decision {
        Decision { decision_date: on, start: None, end: None, document: full_document() }
    }

    #[test]
    fn serious_listing_runs_notice_objection_decision_and_early_removal() {
        let r = rules();
        let n = notice(r, cal(), notice_of("serious_dishonesty", date!(2025 - 01 - 02)), TODAY).unwrap();
        assert_eq!(n.status, ListingStatus::Noticed);
        // 5 working days after Thu 2 Jan 2025: 3, 6, 7, 8, 9 Jan
        assert_eq!(n.objection_until, Some(date!(2025 - 01 - 09)));
        let o = object(&n, date!(2025 - 01 - 06), "判决已履行", TODAY).unwrap();
        // a decision inside the window, and one that ignores the objection, are refused
        let errs = decide(r, Before::Noticed(&o), decision(date!(2025 - 01 - 09)), TODAY).unwrap_err();
        assert!(errs.iter().any(|e| matches!(e, StepError::DecisionInObjectionWindow { .. })), "{errs:?}");
        assert!(errs.contains(&StepError::ObjectionUnanswered), "{errs:?}");
        let mut d = decision(date!(2025 - 01 - 10));
        d.document.insert("objection_reply".into(), "经核查，判决未履行，异议不成立".into());
        let l = decide(r, Before::Noticed(&o), d, TODAY).unwrap();
        assert_eq!(l.status, ListingStatus::Listed);
        assert_eq!(l.end, Some(date!(2028 - 01 - 10)));
        assert!(!l.in_force_on(date!(2025 - 01 - 09)));
        assert!(l.in_force_on(date!(2025 - 01 - 10)));
        assert!(l.in_force_on(date!(2028 - 01 - 09)));
        assert!(!l.in_force_on(date!(2028 - 01 - 10)));
        // early removal: not before one year
        let early = |on| Removal { date: on, kind: RemovalKind::EarlyRemoval, reason: "已纠正失信行为".into() };
        let errs = remove(r, &l, early(date!(2025 - 06 - 01)), TODAY).unwrap_err();
        assert!(matches!(errs[0], StepError::EarlyRemovalTooSoon { .. }), "{errs:?}");
        let gone = remove(r, &l, early(date!(2026 - 02 - 01)), TODAY).unwrap();
        assert_eq!(gone.status, ListingStatus::Removed);
        assert!(gone.in_force_on(date!(2026 - 01 - 31)));
        assert!(!gone.in_force_on(date!(2026 - 02 - 01)));
        // a removed listing cannot be removed again
        assert!(remove(r, &gone, early(date!(2026 - 03 - 01)), TODAY).is_err());
        let facts = step_facts(EventKind::ListingDecided, &l);
        assert_eq!(facts["document.remedy"], "可于六十日内申请行政复议");
        assert_eq!(facts["end"], "2028-01-10");
    }

    #[test]
    fn serious_listing_without_basis_or_notice_is_refused() {
        let r = rules();
        let mut n = notice_of("serious_dishonesty", date!(2025 - 01 - 02));
        n.basis = None;
        let errs = notice(r, cal(), n.clone(), TODAY).unwrap_err();
        assert!(matches!(errs[0], StepError::Decision(ListError::MissingBasis { .. })), "{errs:?}");
        assert!(errs[0].to_string().contains("法律"), "{}", errs[0]);
        // a direct decision (no notice recorded) is refused, also with the basis in the document
        let errs = decide(r, Before::Direct(n), decision(date!(2025 - 02 - 01)), TODAY).unwrap_err();
        assert!(errs.iter().any(|e| matches!(e, StepError::Decision(ListError::MissingNotice { .. }))), "{errs:?}");
    }

    #[test]
    fn every_list_type_can_be_listed_and_ends() {
        let r = rules();
        // lists fed by records are derived (see `derivation`), never decided here
        for lt in r.list_types().filter(|lt| lt.entries_from == crate::lists::EntriesFrom::Decisions) {
            let start = date!(2024 - 03 - 01);
            let n = Notice { scope: lt.scoped.then(|| "food".to_string()), ..notice_of(&lt.code, start) };
            let listed = if lt.requires_notice {
                let noticed = notice(r, cal(), n, TODAY).unwrap();
                decide(r, Before::Noticed(&noticed), decision(date!(2024 - 04 - 01)), TODAY).unwrap()
            } else {
                decide(r, Before::Direct(n), decision(start), TODAY).unwrap()
            };
            let from = listed.start.unwrap();
            assert!(listed.in_force_on(from), "{}", lt.code);
            // a reward list is not repaired; its entry ends by revocation
            let kind = if lt.kind == crate::lists::ListKind::Reward {
                RemovalKind::DecisionRevoked
            } else {
                RemovalKind::Repair
            };
            let gone =
                remove(r, &listed, Removal { date: date!(2026 - 01 - 05), kind, reason: "信用修复".into() }, TODAY);
            match listed.end {
                // already expired before the removal date
                Some(end) if end <= date!(2026 - 01 - 05) => {
                    assert!(!listed.in_force_on(end), "{}", lt.code);
                    assert!(matches!(gone.unwrap_err()[0], StepError::AlreadyExpired { .. }));
                }
                _ => assert!(!gone.unwrap().in_force_on(date!(2026 - 01 - 05)), "{}", lt.code),
            }
        }
    }

    #[test]
    fn out_of_order_steps_are_refused() {
        let r = rules();
        let n = notice(r, cal(), notice_of("serious_dishonesty", date!(2025 - 01 - 02)), TODAY).unwrap();
        assert!(object(&n, date!(2025 - 01 - 10), "迟到的异议", TODAY).is_err());
        assert!(object(&n, date!(2025 - 01 - 01), "早于告知", TODAY).is_err());
        let rm = Removal { date: date!(2025 - 02 - 01), kind: RemovalKind::Repair, reason: "x".into() };
        assert!(matches!(remove(r, &n, rm, TODAY).unwrap_err()[0], StepError::WrongStatus { .. }));
        let w = Removal { date: date!(2025 - 01 - 20), kind: RemovalKind::Withdrawn, reason: "异议成立".into() };
        let withdrawn = remove(r, &n, w, TODAY).unwrap();
        assert_eq!(withdrawn.status, ListingStatus::Withdrawn);
        assert!(!withdrawn.in_force_on(date!(2025 - 01 - 20)));
        assert!(decide(r, Before::Noticed(&withdrawn), decision(date!(2025 - 02 - 01)), TODAY).is_err());
        // future dates, persons on a list that has none, bad person roles
        assert!(notice(r, cal(), notice_of("serious_dishonesty", date!(2027 - 01 - 04)), TODAY).is_err());
        let mut ka = notice_of("key_attention", date!(2025 - 01 - 02));
        ka.persons = vec![ResponsiblePerson { role: "principal".into(), name: "张三".into(), id: None }];
        assert!(matches!(notice(r, cal(), ka, TODAY).unwrap_err()[0], StepError::PersonsNotAllowed { .. }));
        let mut sd = notice_of("serious_dishonesty", date!(2025 - 01 - 02));
        sd.persons = vec![ResponsiblePerson { role: "boss".into(), name: "张三".into(), id: Some("123".into()) }];
        assert_eq!(notice(r, cal(), sd, TODAY).unwrap_err().len(), 2);
    }

    #[test]
    fn revoked_decision_is_void_from_the_start() {
        let r = rules();
        let l = decide(
            r,
            Before::Direct(notice_of("red_list", date!(2024 - 05 - 06))),
            decision(date!(2024 - 05 - 06)),
            TODAY,
        )
        .unwrap();
        assert!(l.in_force_on(date!(2025 - 01 - 01)));
        let rm =
            Removal { date: date!(2025 - 03 - 03), kind: RemovalKind::DecisionRevoked, reason: "复议撤销".into() };
        let void = remove(r, &l, rm, TODAY).unwrap();
        assert!(!void.in_force_on(date!(2025 - 01 - 01)));
        assert!(!void.in_force_on(date!(2024 - 05 - 06)));
    }

    proptest! {
        /// Whatever the dates, a listing is in force exactly on [start, effective end).
        #[test]
        fn in_force_exactly_between_start_and_effective_end(
            start_off in 0i64..2000, term in 1i64..2000, removal_off in proptest::option::of(0i64..3000), probe in -100i64..4000
        ) {
            let base = date!(2019 - 01 - 01);
            let start = base + time::Duration::days(start_off);
            let mut l = decide(rules(), Before::Direct(notice_of("red_list", start)), Decision {
                decision_date: start, start: None, end: Some(start + time::Duration::days(term)), document: full_document(),
            }, date!(2040 - 01 - 01)).unwrap();
            if let Some(off) = removal_off {
                let rm = Removal { date: start + time::Duration::days(off), kind: RemovalKind::Repair, reason: "r".into() };
                if let Ok(next) = remove(rules(), &l, rm, date!(2040 - 01 - 01)) {
                    l = next;
                }
            }
            let on = base + time::Duration::days(probe);
            let end = l.effective_end().unwrap();
            prop_assert_eq!(l.in_force_on(on), start <= on && on < end);
            prop_assert!(end <= start + time::Duration::days(term));
        }
    }

    #[test]
    fn lists_that_follow_from_records_cannot_be_proposed_and_bans_name_their_scope() {
        let r = rules();
        for lt in ["abnormal_operation", "dishonest_debtor", "false_litigation"] {
            let errs = notice(r, cal(), notice_of(lt, date!(2025 - 01 - 02)), TODAY).unwrap_err();
            assert!(errs.iter().any(|e| matches!(e, StepError::EntriesFromRecords { .. })), "{lt}: {errs:?}");
            let direct = Before::Direct(notice_of(lt, date!(2025 - 01 - 02)));
            let errs = decide(r, direct, decision(date!(2025 - 01 - 02)), TODAY).unwrap_err();
            assert!(errs.iter().any(|e| matches!(e, StepError::EntriesFromRecords { .. })), "{lt}: {errs:?}");
        }
        let errs = notice(r, cal(), notice_of("market_ban", date!(2025 - 01 - 02)), TODAY).unwrap_err();
        assert!(errs.iter().any(|e| matches!(e, StepError::MissingScope { .. })), "{errs:?}");
        let unknown = Notice { scope: Some("space_travel".into()), ..notice_of("market_ban", date!(2025 - 01 - 02)) };
        let errs = notice(r, cal(), unknown, TODAY).unwrap_err();
        assert!(errs.contains(&StepError::UnknownScope("space_travel".into())), "{errs:?}");
        let food = Notice { scope: Some("food".into()), ..notice_of("market_ban", date!(2025 - 01 - 02)) };
        assert_eq!(notice(r, cal(), food, TODAY).unwrap().scope.as_deref(), Some("food"));
        let scoped_serious =
            Notice { scope: Some("food".into()), ..notice_of("serious_dishonesty", date!(2025 - 01 - 02)) };
        let errs = notice(r, cal(), scoped_serious, TODAY).unwrap_err();
        assert!(errs.iter().any(|e| matches!(e, StepError::ScopeNotAllowed { .. })), "{errs:?}");
    }
}
