//! Due process (权益保护): objections, credit repair, rectification notices, interviews,
//! and the provider's own correction and revocation. Each use case is permitted by
//! [`crate::access`], checked by the pure rules of `core::case`, and written by the
//! store as one change: the case step, its effect on the record or listing, and the
//! notifications to everyone who received the record — one transaction, so a granted
//! repair leaves the public page and the check answers in the same commit.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use time::Date;
use xinyong_core::case::{
    self, Attachment, Case, CaseError, CaseKind, CaseState, DueProcessRules, Filing, Outcome, Remedy, RuleSet, Target,
};
use xinyong_core::event::{EventKind, Provenance};
use xinyong_core::listing::{self, Listing, Removal, RemovalKind};
use xinyong_core::lists::ListRules;
use xinyong_core::publication::{PublicationRules, check_repair_application, publicity_on};
use xinyong_core::record::{date_string, validate};
use xinyong_store::{CaseFilter, CaseStep, Change, Effect, NewNotification, NewRecord, RecordRow, Store};

use crate::access::{Action, Caller, Role, Scope, permit};

use crate::{App, AppError, Result, now_ms, parse_code, parse_day, today_shanghai};
pub use xinyong_store::Notification;

/// Where a case's target is: a record or a listing of the subject.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct TargetRef {
    pub record_id: Option<i64>,
    pub listing_id: Option<i64>,
}

/// An objection (异议) to a record or listing.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(as = CaseObjectionRequest)]
pub struct ObjectionRequest {
    /// The subject's code (USCC or resident ID).
    pub code: String,
    #[serde(flatten)]
    pub target: TargetRef,
    /// Who objects; defaults to the signed-in account's name.
    pub applicant: Option<String>,
    /// How to reach the objector; required when not signed in. Never published.
    pub contact: Option<String>,
    pub reasons: String,
    /// Evidence files uploaded first (`POST /api/v1/evidence`).
    #[serde(default)]
    pub evidence: Vec<EvidenceCite>,
}

/// A credit repair application (信用修复申请).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct RepairRequest {
    pub code: String,
    #[serde(flatten)]
    pub target: TargetRef,
    pub applicant: Option<String>,
    pub contact: Option<String>,
    /// What was corrected and how the obligations were met.
    pub statement: String,
    /// Codes of the conditions the applicant says are met (see `GET /api/v1/due-process`).
    #[serde(default)]
    pub conditions: Vec<String>,
    /// The applicant signs the commitment text shown with the form (信用修复承诺书).
    pub commitment_signed: bool,
    #[serde(default)]
    pub evidence: Vec<EvidenceCite>,
}

/// An evidence file a case cites: its SHA-256 as the upload answered, and its name.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct EvidenceCite {
    pub sha256: String,
    #[serde(default)]
    pub name: String,
}

/// The department's decision on a case.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct DecideRequest {
    pub outcome: Outcome,
    /// For an upheld objection: correct the record or revoke it.
    pub remedy: Option<Remedy>,
    #[serde(default)]
    pub reasons: String,
    /// A refused repair: the first day a new application may be filed (YYYY-MM-DD).
    pub next_possible: Option<String>,
    /// A correction: the fields to change, by name (the others keep their values).
    pub fields: Option<BTreeMap<String, String>>,
}

/// A rectification notice (限期整改) or an interview record (约谈).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NoticeRequest {
    pub code: String,
    /// The issuing department (the centre names it; officers act for their own).
    pub department: Option<String>,
    /// Requirements (rectification) or the interview's subject.
    pub text: String,
    /// Rectification: the deadline (default: the rule set's term in working days).
    pub deadline: Option<String>,
    /// Interview: `提示约谈` or `警示约谈`.
    pub interview_type: Option<String>,
    /// Interview: who attended.
    pub attendees: Option<String>,
    /// Interview: minutes and the undertakings given.
    pub minutes: Option<String>,
    /// Interview: the day it took place (default today).
    pub held_on: Option<String>,
}

/// A provider's correction or revocation of its own record.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct AmendRequest {
    pub reason: String,
    /// The document deciding it (文书编号), recorded in the ledger.
    pub document: String,
    /// A correction: the fields to change, by name (the others keep their values).
    pub fields: Option<BTreeMap<String, String>>,
}

/// An objection shown with what it disputes: open (异议处理中), or one the department
/// could not confirm (无法核实), shown together with the record.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Dispute {
    pub case_id: i64,
    pub state: CaseState,
    pub outcome: Option<Outcome>,
    /// The objector's statement.
    pub objection: String,
    /// The department's answer, once decided.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reply: String,
}

/// A case as its reader may see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    #[serde(flatten)]
    pub case: Case,
    pub kind_zh: String,
    pub outcome_zh: Option<String>,
    /// Open past its due date.
    pub overdue: bool,
    /// Who must act next (a department, or the subject for a rectification).
    pub who_acts: String,
}

/// A newly filed case and the query code (查询码) that follows it without signing in.
/// The code is shown once: only its hash is kept.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseReceipt {
    pub case: CaseView,
    pub query_code: String,
}

/// A page of cases.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CasesPage {
    pub cases: Vec<CaseView>,
    /// Open cases past their due date among those the caller may see.
    pub overdue: usize,
}

/// What the portal shows next to the repair form: the conditions and the commitment.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DueProcessInfo {
    pub rule_set: String,
    pub rule_set_name: String,
    pub objection_decide_working_days: u32,
    pub repair_decide_working_days: u32,
    pub repair_answer_working_days: u32,
    pub conditions: Vec<case::RepairCondition>,
    pub commitment_zh: String,
    pub commitment_en: String,
}

fn refused(e: CaseError) -> AppError {
    match e {
        CaseError::NotOpen { .. } => AppError::Conflict(e.to_string()),
        other => AppError::Refused(vec![other.to_string()]),
    }
}

fn view(case: Case, today: Date, full: bool) -> CaseView {
    let mut case = case;
    if !full {
        case.contact.clear();
    }
    CaseView {
        kind_zh: case.kind.name_zh().to_string(),
        outcome_zh: case.outcome.map(|o| o.name_zh().to_string()),
        overdue: case.overdue_on(today),
        who_acts: case.who_acts().to_string(),
        case,
    }
}

/// What a case is about, as stored.
enum Subjectable {
    Record(RecordRow),
    Listing(Listing),
}

impl Subjectable {
    fn department(&self) -> &str {
        match self {
            Subjectable::Record(r) => &r.provider,
            Subjectable::Listing(l) => &l.provider,
        }
    }

    fn target(&self) -> Target {
        match self {
            Subjectable::Record(r) => Target::Record { id: r.id, item: r.item.clone() },
            Subjectable::Listing(l) => Target::Listing { id: l.id, list_type: l.list_type.clone() },
        }
    }
}

fn target_of(store: &dyn Store, subject: &str, t: &TargetRef) -> Result<Subjectable> {
    let missing = |zh: &str, en: &str| AppError::NotFound(format!("{zh} / {en} of subject {subject}"));
    match (t.record_id, t.listing_id) {
        (Some(id), None) => match store.record(id)? {
            Some(r) if r.subject_code == subject => Ok(Subjectable::Record(r)),
            _ => Err(missing("该主体的此记录", "this record")),
        },
        (None, Some(id)) => match store.listing(id)? {
            // an entry that follows from a record is disputed, repaired or revoked
            // through its record: the entry follows whatever the record's case decides
            Some(l) if l.subject == subject && l.source.is_some() => {
                let record_id = l.source.as_ref().map_or(0, |src| src.record_id);
                match store.record(record_id)? {
                    Some(r) if r.subject_code == subject => Ok(Subjectable::Record(r)),
                    _ => Err(missing("该名单记录的来源记录", "the record behind this list entry")),
                }
            }
            Some(l) if l.subject == subject => Ok(Subjectable::Listing(l)),
            _ => Err(missing("该主体的此名单记录", "this list entry")),
        },
        _ => Err(AppError::invalid(
            "target_required",
            "请指明一条记录（record_id）或一条名单记录（listing_id）",
            "name one record (record_id) or one listing (listing_id)",
        )),
    }
}

/// The day repair may first be applied for, by the publication rules (records) or the
/// list rules (listings); `Err` with the rule's own words when it may not (yet).
fn repair_allowed(app: &App, store: &dyn Store, t: &Subjectable, today: Date) -> Result<()> {
    match t {
        Subjectable::Record(r) => {
            if r.status == "revoked" || r.repaired_event.is_some() {
                return Err(AppError::Conflict(
                    "该记录已撤销或已修复 / the record is revoked or already repaired".into(),
                ));
            }
            let item = app.catalog().item(&r.item).ok_or_else(|| AppError::Internal(format!("item {}", r.item)))?;
            let fields = crate::view::record_fields(store, r)?;
            let facts = crate::view::facts_of(item, r, &fields, None);
            let p = publicity_on(PublicationRules::bundled(), &app.calendar(), &facts, today);
            check_repair_application(&p, today).map_err(|e| AppError::Refused(vec![format!("{} / {}", e.zh(), e.en())]))
        }
        Subjectable::Listing(l) => {
            let from = listing::repair_from(ListRules::bundled(), l)
                .map_err(|e| AppError::Refused(e.iter().map(|e| e.to_string()).collect()))?;
            if today < from {
                return Err(AppError::Refused(vec![format!(
                    "{} 起方可申请信用修复（提前移出） / a repair (early removal) may be applied for from {}",
                    date_string(from),
                    date_string(from)
                )]));
            }
            Ok(())
        }
    }
}

fn query_code() -> String {
    // short enough to read out on the phone, long enough not to guess (60 bits)
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let raw = crate::accounts::new_secret("");
    raw.bytes().take(12).map(|b| char::from(ALPHABET[usize::from(b) % ALPHABET.len()])).collect()
}

fn provenance(department: &str, channel: &str) -> Provenance {
    let at = now_ms();
    Provenance {
        at,
        batch: format!("case-{at}"),
        provider: department.to_string(),
        source: channel.to_string(),
        row: None,
    }
}

impl App {
    /// The due-process rule set this deployment uses.
    pub fn rule_set(&self) -> &RuleSet {
        let rules = DueProcessRules::bundled();
        rules.rule_set(self.inner.rule_set.get().map(String::as_str)).unwrap_or(&rules.rule_set[0])
    }

    /// Picks the deployment's rule set (`serve --due-process ID`), once.
    pub fn use_rule_set(&self, id: &str) -> Result<()> {
        if DueProcessRules::bundled().rule_set(Some(id)).is_none() {
            let ids: Vec<&str> = DueProcessRules::bundled().rule_set.iter().map(|s| s.id.as_str()).collect();
            return Err(AppError::input(
                format!("未知的规则集 {id}（可选：{}）", ids.join("、")),
                format!("unknown rule set {id} (one of: {})", ids.join(", ")),
            ));
        }
        let _ = self.inner.rule_set.set(id.to_string());
        Ok(())
    }

    /// The clocks, the repair conditions and the commitment text (for forms).
    pub fn due_process_info(&self) -> DueProcessInfo {
        let rules = DueProcessRules::bundled();
        let set = self.rule_set();
        DueProcessInfo {
            rule_set: set.id.clone(),
            rule_set_name: set.name_zh.clone(),
            objection_decide_working_days: set.objection_decide,
            repair_decide_working_days: set.repair_decide,
            repair_answer_working_days: set.repair_answer,
            conditions: rules.repair_condition.clone(),
            commitment_zh: rules.commitment.zh.clone(),
            commitment_en: rules.commitment.en.clone(),
        }
    }

    fn applicant_of(&self, caller: &Caller, stated: Option<&str>, subject_name: &str) -> String {
        match (caller.role(), stated.map(str::trim).filter(|s| !s.is_empty())) {
            (Role::Subject { .. }, _) => subject_name.to_string(),
            (_, Some(s)) => s.to_string(),
            (Role::Public, None) => String::new(),
            _ => caller
                .account()
                .map(|a| a.display_name.clone())
                .filter(|n| !n.is_empty())
                .unwrap_or(caller.actor_name()),
        }
    }

    pub(crate) fn write_change(
        &self,
        change: Change,
        department: &str,
        channel: &str,
    ) -> Result<xinyong_store::Changed> {
        let p = provenance(department, channel);
        let now = now_ms();
        let done = self.db().write(|s| Ok(s.apply_change(&change, &p, self.key(), now)?))?;
        self.after_write();
        Ok(done)
    }

    fn file(
        &self,
        filing: Filing,
        build: impl FnOnce(Filing) -> std::result::Result<Case, CaseError>,
        channel: &str,
    ) -> Result<CaseReceipt> {
        let department = filing.department.clone();
        let case = build(filing).map_err(refused)?;
        let code = query_code();
        let step = CaseStep { case, kind: EventKind::CaseFiled, query_hash: Some(crate::accounts::hash_secret(&code)) };
        let note = |case: &Case| NewNotification {
            recipient_kind: "department".into(),
            recipient: department.clone(),
            subject_code: case.subject.clone(),
            topic: "case_filed".into(),
            text_zh: format!("新的{}待办理，{} 前办结", case.kind.name_zh(), date_string(case.due)),
            text_en: format!("a new {} case to decide by {}", case.kind.as_str(), date_string(case.due)),
        };
        let notifications = vec![note(&step.case)];
        let done =
            self.write_change(Change { case: Some(step), effects: vec![], notifications }, &department, channel)?;
        let case = done.case.ok_or_else(|| AppError::Internal("the store returned no case".into()))?;
        Ok(CaseReceipt { case: view(case, today_shanghai(), true), query_code: code })
    }

    /// Files an objection (异议). From this moment its target shows 异议处理中 on every
    /// surface, until the providing department decides.
    pub fn file_objection(&self, caller: &Caller, req: &ObjectionRequest, channel: &str) -> Result<CaseReceipt> {
        let code = parse_code(&req.code)?;
        let today = today_shanghai();
        let (subject, target) = self.db().read(|s| {
            let subject = s.subject(code.key())?.ok_or_else(|| AppError::NotFound("主体 / subject".into()))?;
            Ok((subject, target_of(s, code.key(), &req.target)?))
        })?;
        let public_target = self.is_public_target(&target, today)?;
        permit(caller, Action::FileObjection { subject: code.key(), public_target })?;
        let contact = req.contact.clone().unwrap_or_default();
        if !caller.is_signed_in() && contact.trim().is_empty() {
            return Err(AppError::invalid("contact_required", "请留下联系方式", "leave a contact"));
        }
        let applicant = self.applicant_of(caller, req.applicant.as_deref(), &subject.name);
        if applicant.is_empty() {
            return Err(AppError::invalid("applicant_required", "请填写异议人", "state who objects"));
        }
        let filing = Filing {
            kind: CaseKind::Objection,
            subject: code.key().to_string(),
            target: target.target(),
            department: target.department().to_string(),
            applicant,
            contact,
            text: req.reasons.clone(),
            attachments: self.attachments(&req.evidence)?,
            filed_on: today,
        };
        let (set, cal) = (self.rule_set().clone(), self.calendar());
        self.file(filing, |f| case::file_objection(&set, &cal, f, today), channel)
    }

    /// Applies for credit repair (信用修复): refused before the rule's first day, with
    /// that day; goes to the department that decided ("谁认定、谁修复").
    pub fn file_repair(&self, caller: &Caller, req: &RepairRequest, channel: &str) -> Result<CaseReceipt> {
        let code = parse_code(&req.code)?;
        permit(caller, Action::FileRepair { subject: code.key() })?;
        let today = today_shanghai();
        let (subject, target) = self.db().read(|s| {
            let subject = s.subject(code.key())?.ok_or_else(|| AppError::NotFound("主体 / subject".into()))?;
            let target = target_of(s, code.key(), &req.target)?;
            repair_allowed(self, s, &target, today)?;
            Ok((subject, target))
        })?;
        if !req.commitment_signed {
            return Err(AppError::Refused(vec![CaseError::CommitmentMissing.to_string()]));
        }
        let rules = DueProcessRules::bundled();
        let (commitment, _) = rules.commitment_text(&subject.name, &code.display());
        let filing = Filing {
            kind: CaseKind::Repair,
            subject: code.key().to_string(),
            target: target.target(),
            department: target.department().to_string(),
            applicant: self.applicant_of(caller, req.applicant.as_deref(), &subject.name),
            contact: req.contact.clone().unwrap_or_default(),
            text: req.statement.clone(),
            attachments: self.attachments(&req.evidence)?,
            filed_on: today,
        };
        let (set, cal) = (self.rule_set().clone(), self.calendar());
        self.file(
            filing,
            |f| case::file_repair(&set, &rules.repair_condition, &cal, f, &req.conditions, &commitment, today),
            channel,
        )
    }

    /// Issues a rectification notice (限期整改) or records an interview (约谈).
    pub fn issue_notice(
        &self,
        caller: &Caller,
        kind: CaseKind,
        req: &NoticeRequest,
        channel: &str,
    ) -> Result<CaseView> {
        let code = parse_code(&req.code)?;
        let department = crate::access::acting_department(caller, req.department.as_deref())?;
        let today = today_shanghai();
        self.db().read(|s| s.subject(code.key())?.ok_or_else(|| AppError::NotFound("主体 / subject".into())))?;
        let filing = |on: Date| Filing {
            kind,
            subject: code.key().to_string(),
            target: Target::Subject,
            department: department.clone(),
            applicant: department.clone(),
            contact: String::new(),
            text: req.text.clone(),
            attachments: vec![],
            filed_on: on,
        };
        let set = self.rule_set().clone();
        let case = match kind {
            CaseKind::Rectification => {
                let deadline = req.deadline.as_deref().map(|d| parse_day("deadline", d)).transpose()?;
                case::issue_rectification(&set, &self.calendar(), filing(today), deadline, today)
            }
            CaseKind::Interview => {
                let held = req.held_on.as_deref().map(|d| parse_day("held_on", d)).transpose()?.unwrap_or(today);
                let mut details = BTreeMap::new();
                let kind = req.interview_type.clone().unwrap_or_else(|| "提示约谈".into());
                if !["提示约谈", "警示约谈"].contains(&kind.as_str()) {
                    return Err(AppError::invalid(
                        "interview_type",
                        "约谈类型应为提示约谈或警示约谈",
                        "interview_type is 提示约谈 or 警示约谈",
                    ));
                }
                details.insert("type".to_string(), kind);
                details.insert("attendees".to_string(), req.attendees.clone().unwrap_or_default());
                case::record_interview(&set, filing(held), details, req.minutes.as_deref().unwrap_or_default(), today)
            }
            _ => return Err(AppError::Internal("issue_notice takes rectifications and interviews".into())),
        }
        .map_err(refused)?;
        let note = NewNotification {
            recipient_kind: "subject".into(),
            recipient: case.subject.clone(),
            subject_code: case.subject.clone(),
            topic: "case_filed".into(),
            text_zh: format!("{}发出{}", department, case.kind.name_zh()),
            text_en: format!("{department} issued a {} notice", case.kind.as_str()),
        };
        let step = CaseStep { case, kind: EventKind::CaseFiled, query_hash: None };
        let done = self.write_change(
            Change { case: Some(step), effects: vec![], notifications: vec![note] },
            &department,
            channel,
        )?;
        let case = done.case.ok_or_else(|| AppError::Internal("the store returned no case".into()))?;
        Ok(view(case, today, true))
    }

    /// The department decides: an upheld objection corrects or revokes the target, a
    /// granted repair ends publication and lifts the measures, in the same commit as
    /// the decision; everyone who received the record is told. A second decision on
    /// the same case is a conflict.
    pub fn decide_case(&self, caller: &Caller, id: i64, req: &DecideRequest, channel: &str) -> Result<CaseView> {
        let today = today_shanghai();
        let (current, target) = self.db().read(|s| {
            let (c, _) = s.case(id)?.ok_or_else(|| AppError::NotFound(format!("案件 {id} / case {id}")))?;
            let target = match &c.target {
                Target::Record { id, .. } => s.record(*id)?.map(Subjectable::Record),
                Target::Listing { id, .. } => s.listing(*id)?.map(Subjectable::Listing),
                Target::Subject => None,
            };
            Ok((c, target))
        })?;
        permit(caller, Action::DecideFor { department: &current.department })?;
        let next_possible = req.next_possible.as_deref().map(|d| parse_day("next_possible", d)).transpose()?;
        let d = case::Decision {
            outcome: req.outcome,
            remedy: req.remedy,
            reasons: req.reasons.clone(),
            decided_on: today,
            next_possible,
        };
        let decided = case::decide(&current, d, today).map_err(refused)?;
        let effects = self.effects_of(&decided, target.as_ref(), req.fields.as_ref(), today)?;
        let mut notifications = vec![NewNotification {
            recipient_kind: "subject".into(),
            recipient: decided.subject.clone(),
            subject_code: decided.subject.clone(),
            topic: "case_decided".into(),
            text_zh: format!("{}案件 {} 已办结：{}", decided.kind.name_zh(), decided.id, req.outcome.name_zh()),
            text_en: format!("{} case {} decided: {}", decided.kind.as_str(), decided.id, req.outcome.as_str()),
        }];
        if !effects.is_empty() {
            notifications.extend(self.recipients_told(&decided.subject, &decided.department, &effects)?);
        }
        let step = CaseStep { case: decided, kind: EventKind::CaseDecided, query_hash: None };
        let department = current.department.clone();
        let done = self.write_change(Change { case: Some(step), effects, notifications }, &department, channel)?;
        let case = done.case.ok_or_else(|| AppError::Internal("the store returned no case".into()))?;
        Ok(view(case, today, true))
    }

    /// The applicant withdraws an open objection or repair application.
    pub fn withdraw_case(&self, caller: &Caller, id: i64, channel: &str) -> Result<CaseView> {
        let today = today_shanghai();
        let (current, _) =
            self.db().read(|s| s.case(id)?.ok_or_else(|| AppError::NotFound(format!("案件 {id} / case {id}"))))?;
        permit(caller, Action::WithdrawCase { subject: &current.subject })?;
        if !matches!(current.kind, CaseKind::Objection | CaseKind::Repair) {
            return Err(AppError::invalid(
                "not_withdrawable",
                "整改通知和约谈不能撤回",
                "notices and interviews cannot be withdrawn",
            ));
        }
        let next = case::withdraw(&current, today).map_err(refused)?;
        let step = CaseStep { case: next, kind: EventKind::CaseWithdrawn, query_hash: None };
        let department = current.department.clone();
        let done = self.write_change(Change { case: Some(step), ..Change::default() }, &department, channel)?;
        let case = done.case.ok_or_else(|| AppError::Internal("the store returned no case".into()))?;
        Ok(view(case, today, true))
    }

    /// The provider corrects (`fields` given) or revokes its own record, with the reason
    /// and the deciding document; everyone who received the record is told.
    pub fn amend_record(&self, caller: &Caller, record_id: i64, req: &AmendRequest, channel: &str) -> Result<u64> {
        let rec = self
            .db()
            .read(|s| Ok(s.record(record_id)?))?
            .ok_or_else(|| AppError::NotFound(format!("记录 {record_id} / record {record_id}")))?;
        permit(caller, Action::DecideFor { department: &rec.provider })?;
        if req.reason.trim().is_empty() || req.document.trim().is_empty() {
            return Err(AppError::invalid(
                "reason_required",
                "更正或撤销须写明理由和文书编号",
                "a correction or revocation states its reason and document",
            ));
        }
        let why = format!("{}（{}）", req.reason.trim(), req.document.trim());
        let effect = match &req.fields {
            Some(fields) => self.correction(&rec, fields, &why)?,
            None => Effect::RevokeRecord { record_id, reason: why },
        };
        let effects = vec![effect];
        let notifications = self.recipients_told(&rec.subject_code, &rec.provider, &effects)?;
        let done = self.write_change(Change { case: None, effects, notifications }, &rec.provider, channel)?;
        Ok(done.events.first().copied().unwrap_or_default())
    }

    /// A case as `caller` may see it.
    pub fn case(&self, caller: &Caller, id: i64) -> Result<CaseView> {
        let (c, _) =
            self.db().read(|s| s.case(id)?.ok_or_else(|| AppError::NotFound(format!("案件 {id} / case {id}"))))?;
        permit(caller, Action::ReadCase { subject: &c.subject, department: &c.department })?;
        Ok(view(c, today_shanghai(), true))
    }

    /// A case followed with its query code (查询码), without signing in: its state,
    /// clocks and outcome, not the applicant's contact. A wrong code is "not found",
    /// like an unknown case, so codes cannot be probed case by case.
    pub fn case_by_query(&self, id: i64, query_code: &str) -> Result<CaseView> {
        let not_found = || AppError::NotFound("案件编号或查询码不正确 / wrong case number or query code".into());
        let (c, hash) = self.db().read(|s| Ok(s.case(id)?))?.ok_or_else(not_found)?;
        let given = crate::accounts::hash_secret(query_code.trim().to_uppercase().as_str());
        if hash.is_none_or(|h| h != given) {
            return Err(not_found());
        }
        Ok(view(c, today_shanghai(), false))
    }

    /// Cases the caller may see: the subject's own; a department's queue; all for the
    /// centre. `overdue_only` keeps open cases past their due date.
    pub fn cases(&self, caller: &Caller, state: Option<&str>, overdue_only: bool, limit: u32) -> Result<CasesPage> {
        let today = today_shanghai();
        let mut filter =
            CaseFilter { state: state.map(str::to_string), limit: limit.clamp(1, 1000), ..CaseFilter::default() };
        if overdue_only {
            filter.due_before = Some(date_string(today));
        }
        match (caller.role(), permit(caller, Action::CaseQueue)) {
            (Role::Subject { code }, _) => filter.subject = Some(code.clone()),
            (_, Ok(Scope::Department(d))) => filter.department = Some(d),
            (_, Ok(_)) => {}
            (_, Err(e)) => return Err(e),
        }
        let cases = self.db().read(|s| Ok(s.cases(&filter)?))?;
        let overdue = cases.iter().filter(|c| c.overdue_on(today)).count();
        Ok(CasesPage { cases: cases.into_iter().map(|c| view(c, today, true)).collect(), overdue })
    }

    /// Open cases past their due date, per department (for `/metrics` and the centre).
    pub fn overdue_cases(&self) -> Result<BTreeMap<String, u64>> {
        let filter =
            CaseFilter { due_before: Some(date_string(today_shanghai())), limit: 100_000, ..CaseFilter::default() };
        let cases = self.db().read(|s| Ok(s.cases(&filter)?))?;
        let mut by = BTreeMap::new();
        for c in cases {
            *by.entry(c.department).or_insert(0) += 1;
        }
        Ok(by)
    }

    /// The caller's notifications, newest first.
    pub fn inbox(&self, caller: &Caller, limit: u32) -> Result<Vec<xinyong_store::Notification>> {
        let (kind, who) = inbox_of(caller)?;
        self.db().read(|s| Ok(s.notifications(kind, &who, limit.clamp(1, 500))?))
    }

    /// Marks one of the caller's notifications read.
    pub fn mark_read(&self, caller: &Caller, id: i64) -> Result<()> {
        let (kind, who) = inbox_of(caller)?;
        let now = now_ms();
        if self.db().write(|s| Ok(s.mark_notification_read(id, kind, &who, now)?))? {
            Ok(())
        } else {
            Err(AppError::NotFound(format!("通知 {id} / notification {id}")))
        }
    }

    /// The objections that mark a subject's records and listings (open, or unconfirmed
    /// and so shown with the record), by target: `(true, record id)`, `(false, listing id)`.
    pub(crate) fn disputes(&self, store: &dyn Store, subject: &str) -> Result<BTreeMap<(bool, i64), Dispute>> {
        let filter = CaseFilter {
            subject: Some(subject.to_string()),
            kind: Some("objection".into()),
            limit: 10_000,
            ..CaseFilter::default()
        };
        Ok(store
            .cases(&filter)?
            .into_iter()
            .filter(|c| c.disputes_target())
            .filter_map(|c| {
                let key = match c.target {
                    Target::Record { id, .. } => (true, id),
                    Target::Listing { id, .. } => (false, id),
                    Target::Subject => return None,
                };
                let d =
                    Dispute { case_id: c.id, state: c.state, outcome: c.outcome, objection: c.text, reply: c.decision };
                Some((key, d))
            })
            .collect())
    }

    /// A subject's rectification notices and interviews issued by `as_of`, newest first.
    pub(crate) fn supervision_of(&self, store: &dyn Store, subject: &str, as_of: Date) -> Result<Vec<CaseView>> {
        let filter = CaseFilter { subject: Some(subject.to_string()), limit: 10_000, ..CaseFilter::default() };
        let mut out: Vec<CaseView> = store
            .cases(&filter)?
            .into_iter()
            .filter(|c| matches!(c.kind, CaseKind::Rectification | CaseKind::Interview) && c.filed_on <= as_of)
            .map(|c| view(c, as_of, false))
            .collect();
        out.reverse();
        Ok(out)
    }

    fn is_public_target(&self, t: &Subjectable, today: Date) -> Result<bool> {
        Ok(match t {
            Subjectable::Listing(l) => crate::listings::is_public_on(l, today),
            Subjectable::Record(r) => {
                let Some(item) = self.catalog().item(&r.item) else { return Ok(false) };
                let fields = self.db().read(|s| crate::view::record_fields(s, r))?;
                let facts = crate::view::facts_of(item, r, &fields, None);
                item.disclosure == xinyong_core::catalog::Disclosure::Public
                    && publicity_on(PublicationRules::bundled(), &self.calendar(), &facts, today).public
            }
        })
    }

    fn correction(&self, rec: &RecordRow, fields: &BTreeMap<String, String>, why: &str) -> Result<Effect> {
        let item = self.catalog().item(&rec.item).ok_or_else(|| AppError::Internal(format!("item {}", rec.item)))?;
        let unknown: Vec<&str> = fields.keys().filter(|k| item.field(k).is_none()).map(String::as_str).collect();
        if !unknown.is_empty() {
            return Err(AppError::invalid(
                "unknown_field",
                format!("未知字段：{}", unknown.join("、")),
                format!("unknown fields: {}", unknown.join(", ")),
            ));
        }
        // a correction changes the fields it names; the others (masked IDs among them)
        // keep their stored values, and a blank value keeps the stored one too
        let mut merged = self.db().read(|s| crate::view::record_fields(s, rec))?;
        for (k, v) in fields.iter().filter(|(_, v)| !v.trim().is_empty()) {
            merged.insert(k.clone(), v.clone());
        }
        let values: Vec<Option<&str>> = item.fields.iter().map(|f| merged.get(&f.name).map(String::as_str)).collect();
        let valid = validate(item, &values, today_shanghai()).map_err(|errs| {
            AppError::Refused(errs.iter().map(|e| format!("{}：{} / {}: {}", e.field, e.zh, e.field, e.en)).collect())
        })?;
        let p = provenance(&rec.provider, why);
        Ok(Effect::CorrectRecord {
            record_id: rec.id,
            content: Box::new(NewRecord::prepare(valid, &rec.provider, p, None)),
        })
    }

    fn effects_of(
        &self,
        decided: &Case,
        target: Option<&Subjectable>,
        fields: Option<&BTreeMap<String, String>>,
        today: Date,
    ) -> Result<Vec<Effect>> {
        let why = format!("案件 {} / case {}", decided.id, decided.id);
        let remove = |l: &Listing, kind: RemovalKind| -> Result<Effect> {
            let r = Removal { date: today, kind, reason: format!("{}：{}", decided.kind.name_zh(), decided.decision) };
            let next = listing::remove(ListRules::bundled(), l, r, today)
                .map_err(|e| AppError::Refused(e.iter().map(|e| e.to_string()).collect()))?;
            Ok(Effect::Listing { listing: Box::new(next), kind: EventKind::ListingRemoved })
        };
        Ok(match (decided.outcome, decided.remedy, target) {
            (Some(Outcome::Granted), _, Some(Subjectable::Record(r))) => {
                vec![Effect::RepairRecord { record_id: r.id, case_id: decided.id }]
            }
            (Some(Outcome::Granted), _, Some(Subjectable::Listing(l))) => vec![remove(l, RemovalKind::Repair)?],
            (Some(Outcome::Upheld | Outcome::PartlyUpheld), Some(Remedy::Revoke), Some(Subjectable::Record(r))) => {
                vec![Effect::RevokeRecord { record_id: r.id, reason: why }]
            }
            (Some(Outcome::Upheld | Outcome::PartlyUpheld), Some(Remedy::Revoke), Some(Subjectable::Listing(l))) => {
                vec![remove(l, RemovalKind::DecisionRevoked)?]
            }
            (Some(Outcome::Upheld | Outcome::PartlyUpheld), Some(Remedy::Correct), Some(Subjectable::Record(r))) => {
                let fields = fields.ok_or_else(|| {
                    AppError::invalid(
                        "fields_required",
                        "更正须给出要更正的字段",
                        "a correction names the fields it changes",
                    )
                })?;
                vec![self.correction(r, fields, &why)?]
            }
            (Some(Outcome::Upheld | Outcome::PartlyUpheld), Some(Remedy::Correct), Some(Subjectable::Listing(_))) => {
                return Err(AppError::invalid(
                    "listing_not_correctable",
                    "名单记录不能更正：请撤销后重新作出决定",
                    "a listing is not corrected: revoke it and decide anew",
                ));
            }
            _ => vec![],
        })
    }

    /// Who is told of a change to a subject's record (消除不良影响): the subject, every
    /// department that checked it, every account that read its non-public data, and
    /// the provider.
    fn recipients_told(&self, subject: &str, provider: &str, effects: &[Effect]) -> Result<Vec<NewNotification>> {
        let (topic, zh, en) = match effects.first() {
            Some(Effect::RepairRecord { .. }) => {
                ("record_repaired", "已信用修复，停止公示和共享", "repaired: publication and sharing stopped")
            }
            Some(Effect::RevokeRecord { .. }) => ("record_revoked", "已撤销，自始无效", "revoked: void from the start"),
            Some(Effect::CorrectRecord { .. }) => ("record_corrected", "已更正", "corrected"),
            Some(Effect::Listing { .. }) => ("listing_removed", "名单记录已移出", "listing removed"),
            Some(Effect::Event { .. }) | None => return Ok(vec![]),
        };
        let (checks, reads) =
            self.db().read(|s| Ok((s.checks_of(subject, 10_000)?, s.access_log(subject, 10_000)?)))?;
        let mut to: BTreeSet<(&str, String)> = BTreeSet::new();
        to.insert(("subject", subject.to_string()));
        to.insert(("department", provider.to_string()));
        for c in &checks {
            to.insert(("department", c.department.clone()));
        }
        for r in &reads {
            if r.account_id > 0 {
                to.insert(("account", r.account_id.to_string()));
            }
        }
        let name = self.name_of(subject).unwrap_or_else(|| subject.to_string());
        Ok(to
            .into_iter()
            .map(|(kind, who)| NewNotification {
                recipient_kind: kind.into(),
                recipient: who,
                subject_code: subject.to_string(),
                topic: topic.into(),
                text_zh: format!("{name} 的信息{zh}：此前收到的该信息不得再使用"),
                text_en: format!("{name}'s information {en}: what you received before must no longer be used"),
            })
            .collect())
    }
}

impl App {
    /// The evidence files a case cites, as stored: the type and size are the store's
    /// (recognised at upload), not the client's; an unknown hash is refused.
    fn attachments(&self, cited: &[EvidenceCite]) -> Result<Vec<Attachment>> {
        if cited.len() > 20 {
            return Err(AppError::invalid(
                "evidence_count",
                "每个案件至多 20 份证据材料",
                "at most 20 evidence files per case",
            ));
        }
        cited
            .iter()
            .map(|c| {
                let sha = c.sha256.trim().to_ascii_lowercase();
                let stored = self.db().read(|s| Ok(s.evidence_meta(&sha)?))?;
                let (media_type, size) = stored.ok_or_else(|| {
                    AppError::invalid(
                        "evidence_unknown",
                        format!("证据材料 {sha} 未上传"),
                        format!("evidence {sha} was not uploaded"),
                    )
                })?;
                let name = c
                    .name
                    .rsplit(['/', '\\'])
                    .next()
                    .unwrap_or_default()
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(120)
                    .collect();
                Ok(Attachment { sha256: sha, media_type, size, name })
            })
            .collect()
    }

    /// Whether a subject's own cases cite this evidence file.
    pub(crate) fn cites(&self, subject: &str, sha256: &str) -> Result<bool> {
        let filter = CaseFilter { subject: Some(subject.to_string()), limit: 100_000, ..CaseFilter::default() };
        let cases = self.db().read(|s| Ok(s.cases(&filter)?))?;
        Ok(cases.iter().any(|c| c.attachments.iter().any(|a| a.sha256 == sha256)))
    }
}

fn inbox_of(caller: &Caller) -> Result<(&'static str, String)> {
    Ok(match permit(caller, Action::Inbox)? {
        Scope::Subject(code) => ("subject", code),
        Scope::Department(d) => ("department", d),
        _ => ("account", caller.account_id().to_string()),
    })
}

/// Everything the platform holds about an entity, for the entity itself (`/me`, "下载我的数据").
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubjectExport {
    pub exported_at_ms: i64,
    pub subject: crate::view::SubjectView,
    pub listings: Vec<crate::listings::ListingView>,
    pub cases: Vec<CaseView>,
    pub checks: Vec<crate::checks::CheckOfSubject>,
    pub access_log: Vec<crate::view::AccessLogEntry>,
    pub notifications: Vec<xinyong_store::Notification>,
}

impl App {
    /// All of an entity's data in one document: its own account (or the centre) only.
    /// The read of its non-public records is logged like any other.
    pub fn export_subject(&self, caller: &Caller, code: &str) -> Result<SubjectExport> {
        let parsed = parse_code(code)?;
        permit(caller, Action::AccessLogOf { subject: parsed.key() })?;
        let subject = self
            .subject(caller, &parsed, today_shanghai(), Some("主体下载本主体数据 / the entity's own export".into()))?
            .ok_or_else(|| AppError::NotFound("主体 / subject".into()))?;
        let filter = CaseFilter { subject: Some(parsed.key().to_string()), limit: 100_000, ..CaseFilter::default() };
        let today = today_shanghai();
        let cases = self.db().read(|s| Ok(s.cases(&filter)?))?.into_iter().map(|c| view(c, today, true)).collect();
        let notifications = self.db().read(|s| Ok(s.notifications("subject", parsed.key(), 10_000)?))?;
        Ok(SubjectExport {
            exported_at_ms: now_ms(),
            subject,
            listings: self.listings_of_subject(caller, code)?,
            cases,
            checks: self.checks_of_subject(caller, code, 1000)?,
            access_log: self.access_log(caller, code, 1000)?,
            notifications,
        })
    }
}

/// A machine recipient's webhook as registered: the secret is shown this once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookRegistered {
    pub recipient_kind: String,
    pub recipient: String,
    pub url: String,
    pub secret: String,
}

/// What a webhook receives for one notification (JSON body, signed).
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryBody<'a> {
    pub id: i64,
    pub topic: &'a str,
    pub subject_code: &'a str,
    pub text_zh: &'a str,
    pub text_en: &'a str,
    pub ledger_index: u64,
    pub created_ms: i64,
}

/// The `X-Xinyong-Signature` of a delivery: `sha256=` and the hex HMAC-SHA256 of the
/// body under the recipient's secret, so the receiver knows it came from here.
pub fn delivery_signature(secret: &str, body: &[u8]) -> String {
    use hmac::Mac;
    let mut mac = match hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        // HMAC takes a key of any length; this arm is unreachable
        Err(_) => return String::new(),
    };
    mac.update(body);
    let bytes: [u8; 32] = mac.finalize().into_bytes().into();
    format!("sha256={}", crate::ledger::to_hex(&bytes))
}

impl App {
    /// Registers a machine recipient's webhook (the centre only): notifications to it
    /// are POSTed there and retried with back-off, as well as kept in its inbox.
    pub fn register_webhook(
        &self,
        caller: &Caller,
        kind: &str,
        recipient: &str,
        url: &str,
    ) -> Result<WebhookRegistered> {
        permit(caller, Action::ManageAccounts)?;
        if !["department", "account", "subject"].contains(&kind) {
            return Err(AppError::invalid(
                "recipient_kind",
                "收件人类型应为 department、account 或 subject",
                "kind is department, account or subject",
            ));
        }
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() > 2000 {
            return Err(AppError::invalid(
                "webhook_url",
                "地址应以 http:// 或 https:// 开头",
                "the URL must start with http:// or https://",
            ));
        }
        let secret = crate::accounts::new_secret("whsec_");
        let hook = xinyong_store::Webhook {
            recipient_kind: kind.to_string(),
            recipient: recipient.trim().to_string(),
            url: url.to_string(),
            secret: secret.clone(),
            created_ms: now_ms(),
        };
        self.db().write(|s| Ok(s.put_webhook(&hook)?))?;
        Ok(WebhookRegistered { recipient_kind: hook.recipient_kind, recipient: hook.recipient, url: hook.url, secret })
    }

    /// Notifications due for delivery to webhooks now (for the delivery worker).
    pub fn due_deliveries(&self, limit: u32) -> Result<Vec<xinyong_store::Delivery>> {
        let now = now_ms();
        self.db().read(|s| Ok(s.due_deliveries(now, limit)?))
    }

    /// Records one delivery attempt (`error` = why it failed).
    pub fn record_delivery(&self, id: i64, error: Option<&str>) -> Result<()> {
        let now = now_ms();
        self.db().write(|s| Ok(s.record_delivery(id, error, now)?))
    }
}

/// Demo cases (`serve --demo`): an open objection, a granted and a refused repair, a
/// rectification notice and an interview, on the first entities found with a public,
/// repairable penalty, the first of them `prefer` when it has one.
pub fn seed_demo(app: &App, prefer: Option<&str>, today: Date) -> Result<usize> {
    let operator = Caller::operator();
    let found = app.db().read(|s| {
        let mut found: Vec<(String, i64)> = Vec::new();
        let consider = |code: &str, found: &mut Vec<(String, i64)>| -> Result<()> {
            for r in s.records_of(code)? {
                let Some(item) = app.catalog().item(&r.item) else { continue };
                if r.item != "admin_penalty" || r.status != "active" {
                    continue;
                }
                let fields = crate::view::record_fields(s, &r)?;
                let p = publicity_on(
                    PublicationRules::bundled(),
                    &app.calendar(),
                    &crate::view::facts_of(item, &r, &fields, None),
                    today,
                );
                if p.public && p.repair_from.is_some_and(|d| d <= today) {
                    found.push((code.to_string(), r.id));
                }
            }
            Ok(())
        };
        if let Some(code) = prefer {
            consider(code, &mut found)?;
        }
        let mut after = String::new();
        while found.len() < 6 {
            let page = s.subjects_after(&after, 2_000)?;
            let Some(last) = page.last() else { break };
            after = last.code.clone();
            for subject in page.iter().filter(|x| x.kind == "enterprise" && Some(x.code.as_str()) != prefer) {
                if found.len() >= 6 {
                    break;
                }
                consider(&subject.code, &mut found)?;
            }
        }
        Ok(found)
    })?;
    let Some((first, _)) = found.first().cloned() else { return Ok(0) };
    let mut n = 0;
    let target =
        |i: usize| found.get(i).map(|(c, id)| (c.clone(), TargetRef { record_id: Some(*id), listing_id: None }));
    let conditions = vec!["obligations_met".to_string(), "other_requirements".to_string()];
    // the entity applies (the centre records it on its behalf, as for a paper application)
    let name_of = |code: &str| app.db().read(|s| Ok(s.subject(code)?.map(|x| x.name)));
    // the first entity: an open objection to one penalty
    if let Some((code, t)) = target(0) {
        let req = ObjectionRequest {
            applicant: name_of(&code)?,
            code,
            target: t,
            contact: Some("010-8888 0000".into()),
            reasons: "处罚决定书载明的违法事实与现场检查笔录不一致，已申请行政复议。".into(),
            evidence: vec![],
        };
        app.file_objection(&operator, &req, "demo")?;
        n += 1;
    }
    // a granted repair and a refused one
    for (i, granted) in [(1, true), (2, false)] {
        let Some((code, t)) = target(i) else { continue };
        let req = RepairRequest {
            applicant: name_of(&code)?,
            code,
            target: t,
            contact: Some("010-6666 0000".into()),
            statement: "罚款已于决定期限内缴清，违法行为已整改完毕，并经现场复查。".into(),
            conditions: conditions.clone(),
            commitment_signed: true,
            evidence: vec![],
        };
        let case = app.file_repair(&operator, &req, "demo")?.case.case;
        let d = if granted {
            DecideRequest {
                outcome: Outcome::Granted,
                remedy: None,
                reasons: "经核查，修复条件均已满足。".into(),
                next_possible: None,
                fields: None,
            }
        } else {
            DecideRequest {
                outcome: Outcome::Refused,
                remedy: None,
                reasons: "未提供罚款缴纳凭证。".into(),
                next_possible: Some(date_string(today + time::Duration::days(30))),
                fields: None,
            }
        };
        app.decide_case(&operator, case.id, &d, "demo")?;
        n += 1;
    }
    let department = app.db().read(|s| Ok(s.record(found[0].1)?.map(|r| r.provider).unwrap_or_default()))?;
    let notice = |text: &str| NoticeRequest {
        code: first.clone(),
        department: Some(department.clone()),
        text: text.into(),
        deadline: None,
        interview_type: Some("警示约谈".into()),
        attendees: Some("法定代表人、执法人员二名".into()),
        minutes: Some("告知失信后果；企业承诺十五个工作日内完成整改并报送整改报告。".into()),
        held_on: None,
    };
    app.issue_notice(&operator, CaseKind::Rectification, &notice("限期完成污染防治设施整改并报送整改报告。"), "demo")?;
    app.issue_notice(&operator, CaseKind::Interview, &notice("就多次违法排放进行警示约谈。"), "demo")?;
    Ok(n + 2)
}

#[cfg(test)]
mod tests {
    #[test]
    fn delivery_signature_is_rfc_4231_hmac_sha256() {
        // RFC 4231 test case 2
        assert_eq!(
            super::delivery_signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
