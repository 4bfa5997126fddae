//! Due-process cases (权益保护案件): objections (异议), credit repair (信用修复),
//! rectification notices (限期整改) and interviews (约谈). Pure rules: which clock
//! applies, which step may follow which, and what each step's ledger event says.
//!
//! A case is about one target (a record or a listing) of one subject and names the
//! department that must act ("谁认定、谁修复"). Every step is a ledger event; the
//! effects of a decision (a record corrected, revoked or repaired, a listing removed)
//! are decided by the app and written in the same transaction as the step.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use time::Date;

use crate::calendar::{Deadline, WorkCalendar};
use crate::record::date_string;

const RULES_TOML: &str = include_str!("../../../data/due_process/rules.toml");

static BUNDLED: LazyLock<DueProcessRules> = LazyLock::new(|| match DueProcessRules::from_toml(RULES_TOML) {
    Ok(r) => r,
    // fixed at compile time and parsed by the tests below
    Err(e) => panic!("bundled data/due_process/rules.toml is invalid: {e}"),
});

/// Serde for days as `YYYY-MM-DD` (case documents and API answers).
pub mod day {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Date;

    pub fn serialize<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::record::date_string(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = String::deserialize(d)?;
        crate::record::parse_date(&s).ok_or_else(|| serde::de::Error::custom(format!("invalid date {s:?}")))
    }

    pub mod opt {
        use super::*;

        pub fn serialize<S: Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
            match d {
                Some(d) => super::serialize(d, s),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(|s| {
                    crate::record::parse_date(&s).ok_or_else(|| serde::de::Error::custom(format!("invalid date {s:?}")))
                })
                .transpose()
        }
    }
}

// ---- rules (data) -----------------------------------------------------------------

/// One jurisdiction's clocks, in working days.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub objection_mark: u32,
    pub objection_decide: u32,
    pub repair_decide: u32,
    pub repair_answer: u32,
    pub rectification: u32,
}

/// A condition of credit repair (all must hold).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RepairCondition {
    pub code: String,
    pub zh: String,
    pub en: String,
    /// Decided by the platform from the record (the minimum period), not asserted.
    pub auto: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CommitmentText {
    pub zh: String,
    pub en: String,
}

/// The bundled due-process rules (`data/due_process/rules.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DueProcessRules {
    pub default: String,
    pub rule_set: Vec<RuleSet>,
    pub repair_condition: Vec<RepairCondition>,
    pub commitment: CommitmentText,
}

impl DueProcessRules {
    pub fn bundled() -> &'static DueProcessRules {
        &BUNDLED
    }

    pub fn from_toml(text: &str) -> Result<DueProcessRules, String> {
        let r: DueProcessRules =
            toml::from_str(text).map_err(|e| format!("权益保护规则格式错误 / invalid due-process rules: {e}"))?;
        if r.rule_set.iter().all(|s| s.id != r.default) {
            return Err(format!("默认规则集 {:?} 不存在 / default rule set {:?} is not defined", r.default, r.default));
        }
        let mut ids: Vec<&str> = r.rule_set.iter().map(|s| s.id.as_str()).collect();
        ids.sort_unstable();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            return Err("规则集编号重复 / a rule set id is defined twice".into());
        }
        if r.rule_set.iter().any(|s| s.objection_decide == 0 || s.repair_decide == 0 || s.repair_answer == 0) {
            return Err("时限须至少 1 个工作日 / every clock must be at least one working day".into());
        }
        Ok(r)
    }

    /// The rule set `id`, or the default one.
    pub fn rule_set(&self, id: Option<&str>) -> Option<&RuleSet> {
        let id = id.unwrap_or(&self.default);
        self.rule_set.iter().find(|s| s.id == id)
    }

    /// The commitment text for `name` and `code`.
    pub fn commitment_text(&self, name: &str, code: &str) -> (String, String) {
        let fill = |t: &str| t.replace("{name}", name).replace("{code}", code);
        (fill(&self.commitment.zh), fill(&self.commitment.en))
    }
}

// ---- the case -----------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CaseKind {
    /// 异议: the subject (or anyone, for a public record) disputes a record or listing.
    Objection,
    /// 信用修复: the subject applies to end publication early.
    Repair,
    /// 限期整改: a department orders the subject to put something right by a date.
    Rectification,
    /// 约谈 (提示约谈 / 警示约谈): a department's interview with the subject.
    Interview,
}

impl CaseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseKind::Objection => "objection",
            CaseKind::Repair => "repair",
            CaseKind::Rectification => "rectification",
            CaseKind::Interview => "interview",
        }
    }

    pub fn parse(s: &str) -> Option<CaseKind> {
        [CaseKind::Objection, CaseKind::Repair, CaseKind::Rectification, CaseKind::Interview]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            CaseKind::Objection => "异议",
            CaseKind::Repair => "信用修复",
            CaseKind::Rectification => "限期整改",
            CaseKind::Interview => "约谈",
        }
    }
}

/// What a case is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Target {
    /// A record (its id and catalog item).
    Record { id: i64, item: String },
    /// A listing (its id and list type).
    Listing { id: i64, list_type: String },
    /// The subject as a whole (rectification notices, interviews).
    Subject,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// 处理中: waiting for the department (or, for a rectification, for the subject).
    Open,
    /// 已办结.
    Decided,
    /// 已撤回 by the applicant.
    Withdrawn,
}

impl CaseState {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::Open => "open",
            CaseState::Decided => "decided",
            CaseState::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<CaseState> {
        [CaseState::Open, CaseState::Decided, CaseState::Withdrawn].into_iter().find(|k| k.as_str() == s)
    }
}

/// How a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = CaseOutcome))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// 异议成立: the record is corrected or revoked (the listing revoked).
    Upheld,
    /// 部分成立: the record is corrected.
    PartlyUpheld,
    /// 不成立, with reasons.
    Rejected,
    /// 无法核实: the record and the objection are kept and shown together.
    Unconfirmed,
    /// 准予修复.
    Granted,
    /// 不予修复, with reasons and the next possible date.
    Refused,
    /// 按期整改.
    Rectified,
    /// 逾期未整改.
    Overdue,
    /// 约谈已进行 (attendees, minutes, undertakings recorded).
    Held,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Upheld => "upheld",
            Outcome::PartlyUpheld => "partly_upheld",
            Outcome::Rejected => "rejected",
            Outcome::Unconfirmed => "unconfirmed",
            Outcome::Granted => "granted",
            Outcome::Refused => "refused",
            Outcome::Rectified => "rectified",
            Outcome::Overdue => "overdue",
            Outcome::Held => "held",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Outcome::Upheld => "异议成立",
            Outcome::PartlyUpheld => "异议部分成立",
            Outcome::Rejected => "异议不成立",
            Outcome::Unconfirmed => "无法核实（信息与异议一并展示）",
            Outcome::Granted => "准予修复",
            Outcome::Refused => "不予修复",
            Outcome::Rectified => "按期整改",
            Outcome::Overdue => "逾期未整改",
            Outcome::Held => "约谈已进行",
        }
    }

    /// The outcomes a case of `kind` may end with.
    pub fn allowed_for(kind: CaseKind) -> &'static [Outcome] {
        match kind {
            CaseKind::Objection => &[Outcome::Upheld, Outcome::PartlyUpheld, Outcome::Rejected, Outcome::Unconfirmed],
            CaseKind::Repair => &[Outcome::Granted, Outcome::Refused],
            CaseKind::Rectification => &[Outcome::Rectified, Outcome::Overdue],
            CaseKind::Interview => &[Outcome::Held],
        }
    }
}

/// What an upheld objection did to its target (the app writes it with the decision).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Remedy {
    /// 更正: the record's content replaced.
    Correct,
    /// 撤销: the record (or listing decision) void from its start.
    Revoke,
}

/// A file attached to a case: content-addressed, the hash is what the ledger holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attachment {
    pub sha256: String,
    pub media_type: String,
    pub size: u64,
    pub name: String,
}

/// One condition of a repair application as claimed and (after decision) confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConditionState {
    pub code: String,
    pub zh: String,
    pub en: String,
    /// Met, as far as the platform or the applicant says.
    pub met: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// A due-process case as it stands after its latest step (stored as one document).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Case {
    /// 0 until stored.
    pub id: i64,
    pub kind: CaseKind,
    pub subject: String,
    pub target: Target,
    /// The department that must act: the one that decided the record or listing.
    pub department: String,
    pub state: CaseState,
    /// Who filed (the entity's name, a person's name, or the issuing department).
    pub applicant: String,
    /// How to reach the applicant (kept off every public surface).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub contact: String,
    /// The objection's reasons, the repair's statement, the notice's requirements, or
    /// the interview's subject.
    pub text: String,
    pub attachments: Vec<Attachment>,
    /// Repair: the conditions checklist.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<ConditionState>,
    /// Repair: the commitment text signed with the application.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub commitment: String,
    #[serde(with = "day")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub filed_on: Date,
    /// By when whoever must act must act (the department, or for a rectification the
    /// subject).
    #[serde(with = "day")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub due: Date,
    /// The due date was computed past the official calendar's years: it may move when
    /// the year's notice is added.
    pub due_provisional: bool,
    /// Repair: by when the applicant has the answer.
    #[serde(default, with = "day::opt", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub answer_due: Option<Date>,
    pub rule_set: String,
    pub outcome: Option<Outcome>,
    /// What an upheld objection did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedy: Option<Remedy>,
    /// The decision's reasons (refusals and rejections must have them), the minutes of
    /// an interview.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub decision: String,
    #[serde(default, with = "day::opt", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub decided_on: Option<Date>,
    /// A refused repair: the first day a new application may be filed.
    #[serde(default, with = "day::opt", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub next_possible: Option<Date>,
    /// Interview: 提示约谈 or 警示约谈, and who attended.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, String>,
    /// Ledger index of the first and the latest step.
    pub first_event: u64,
    pub last_event: u64,
}

impl Case {
    /// Open and past its due date on `today`.
    pub fn overdue_on(&self, today: Date) -> bool {
        self.state == CaseState::Open && today > self.due
    }

    /// Who must act next.
    pub fn who_acts(&self) -> &str {
        match (self.state, self.kind) {
            (CaseState::Open, CaseKind::Rectification) => &self.subject,
            (CaseState::Open, _) => &self.department,
            _ => "",
        }
    }

    /// An open objection marks its target 异议处理中; one that could not be confirmed
    /// keeps it shown with the record.
    pub fn disputes_target(&self) -> bool {
        self.kind == CaseKind::Objection
            && (self.state == CaseState::Open || self.outcome == Some(Outcome::Unconfirmed))
    }
}

/// Why a step is refused. `Display` gives "中文 / English".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("未知的规则集 {0:?} / unknown rule set {0:?}")]
    UnknownRuleSet(String),
    #[error("{field}不能为空 / {en} is required")]
    Missing { field: &'static str, en: &'static str },
    #[error("日期 {0} 晚于今天 / date {0} is in the future")]
    FutureDate(String),
    #[error("案件已{state}，不能再{step} / the case is {state_en}: cannot {step_en}")]
    NotOpen { state: &'static str, state_en: &'static str, step: &'static str, step_en: &'static str },
    #[error("“{kind}”案件不能以“{outcome}”办结 / a {kind_en} case cannot end as {outcome_en}")]
    WrongOutcome { kind: &'static str, kind_en: &'static str, outcome: &'static str, outcome_en: &'static str },
    #[error("不予修复须写明理由和可再次申请的日期 / a refusal needs reasons and the next possible date")]
    RefusalIncomplete,
    #[error(
        "可再次申请日期 {next} 不得早于决定日期 {decided} / the next possible date {next} is before the decision {decided}"
    )]
    NextBeforeDecision { next: String, decided: String },
    #[error("异议不成立须写明理由 / a rejection needs reasons")]
    RejectionWithoutReasons,
    #[error("异议成立须说明更正或撤销 / an upheld objection says whether the record is corrected or revoked")]
    RemedyMissing,
    #[error("修复条件未全部满足：{0} / not every repair condition is met: {0}")]
    ConditionsNotMet(String),
    #[error("修复须签署信用修复承诺书 / a repair application needs the signed commitment")]
    CommitmentMissing,
    #[error("整改期限 {0} 须晚于通知日期 / the rectification deadline {0} must be after the notice")]
    DeadlineNotAfterNotice(String),
    #[error("整改期限未到（{due}），不能认定逾期 / the rectification is due {due}: not overdue yet")]
    NotYetOverdue { due: String },
    #[error("{0}")]
    Calendar(String),
}

/// What starts a case: the facts every kind shares.
#[derive(Debug, Clone)]
pub struct Filing {
    pub kind: CaseKind,
    pub subject: String,
    pub target: Target,
    pub department: String,
    pub applicant: String,
    pub contact: String,
    pub text: String,
    pub attachments: Vec<Attachment>,
    pub filed_on: Date,
}

fn required(s: &str, field: &'static str, en: &'static str) -> Result<(), CaseError> {
    if s.trim().is_empty() { Err(CaseError::Missing { field, en }) } else { Ok(()) }
}

fn due(cal: &WorkCalendar, from: Date, days: u32) -> Result<Deadline, CaseError> {
    cal.deadline(from, days).map_err(|e| CaseError::Calendar(e.to_string()))
}

fn open_case(f: Filing, rules: &RuleSet, due: Deadline, today: Date) -> Result<Case, CaseError> {
    if f.filed_on > today {
        return Err(CaseError::FutureDate(date_string(f.filed_on)));
    }
    required(&f.subject, "主体", "the subject")?;
    required(&f.department, "处理部门", "the department")?;
    required(&f.applicant, "申请人", "the applicant")?;
    Ok(Case {
        id: 0,
        kind: f.kind,
        subject: f.subject,
        target: f.target,
        department: f.department,
        state: CaseState::Open,
        applicant: f.applicant.trim().to_string(),
        contact: f.contact.trim().to_string(),
        text: f.text.trim().to_string(),
        attachments: f.attachments,
        conditions: Vec::new(),
        commitment: String::new(),
        filed_on: f.filed_on,
        due: due.date,
        due_provisional: due.provisional,
        answer_due: None,
        rule_set: rules.id.clone(),
        outcome: None,
        remedy: None,
        decision: String::new(),
        decided_on: None,
        next_possible: None,
        details: BTreeMap::new(),
        first_event: 0,
        last_event: 0,
    })
}

/// An objection: accepted at once (the target shows 异议处理中 from now), decided by the
/// providing department within the rule set's clock.
pub fn file_objection(rules: &RuleSet, cal: &WorkCalendar, f: Filing, today: Date) -> Result<Case, CaseError> {
    required(&f.text, "异议理由", "the objection's reasons")?;
    let d = due(cal, f.filed_on, rules.objection_decide)?;
    open_case(Filing { kind: CaseKind::Objection, ..f }, rules, d, today)
}

/// A repair application. `min_period_from` is the first day the target may be
/// repaired (from the publication or list rules; `None` = not repairable): the caller
/// refuses earlier with the rule's own message, this records the checklist.
pub fn file_repair(
    rules: &RuleSet,
    conditions: &[RepairCondition],
    cal: &WorkCalendar,
    f: Filing,
    claimed: &[String],
    commitment: &str,
    today: Date,
) -> Result<Case, CaseError> {
    if commitment.trim().is_empty() {
        return Err(CaseError::CommitmentMissing);
    }
    let d = due(cal, f.filed_on, rules.repair_decide)?;
    let answer = due(cal, f.filed_on, rules.repair_answer)?;
    let mut case = open_case(Filing { kind: CaseKind::Repair, ..f }, rules, d, today)?;
    case.conditions = conditions
        .iter()
        .map(|c| ConditionState {
            code: c.code.clone(),
            zh: c.zh.clone(),
            en: c.en.clone(),
            // the minimum period was checked before filing; the commitment is signed here
            met: c.auto || c.code == "commitment" || claimed.iter().any(|k| k == &c.code),
            note: String::new(),
        })
        .collect();
    let missing: Vec<&str> = case.conditions.iter().filter(|c| !c.met).map(|c| c.zh.as_str()).collect();
    if !missing.is_empty() {
        return Err(CaseError::ConditionsNotMet(missing.join("；")));
    }
    case.commitment = commitment.trim().to_string();
    case.answer_due = Some(answer.date);
    case.due_provisional |= answer.provisional;
    Ok(case)
}

/// A rectification notice (限期整改) with its deadline (default from the rule set).
pub fn issue_rectification(
    rules: &RuleSet,
    cal: &WorkCalendar,
    f: Filing,
    deadline: Option<Date>,
    today: Date,
) -> Result<Case, CaseError> {
    required(&f.text, "整改要求", "the requirements")?;
    let d = match deadline {
        Some(d) if d <= f.filed_on => return Err(CaseError::DeadlineNotAfterNotice(date_string(d))),
        Some(d) => Deadline { date: d, provisional: false },
        None => due(cal, f.filed_on, rules.rectification)?,
    };
    open_case(Filing { kind: CaseKind::Rectification, target: Target::Subject, ..f }, rules, d, today)
}

/// An interview (约谈), recorded once it has taken place: it is decided on filing.
pub fn record_interview(
    rules: &RuleSet,
    f: Filing,
    details: BTreeMap<String, String>,
    minutes: &str,
    today: Date,
) -> Result<Case, CaseError> {
    required(minutes, "约谈记录", "the minutes")?;
    let held = f.filed_on;
    let mut case = open_case(
        Filing { kind: CaseKind::Interview, target: Target::Subject, ..f },
        rules,
        Deadline { date: held, provisional: false },
        today,
    )?;
    case.state = CaseState::Decided;
    case.outcome = Some(Outcome::Held);
    case.decision = minutes.trim().to_string();
    case.decided_on = Some(held);
    case.details = details;
    Ok(case)
}

/// The department's decision.
#[derive(Debug, Clone)]
pub struct Decision {
    pub outcome: Outcome,
    pub remedy: Option<Remedy>,
    pub reasons: String,
    pub decided_on: Date,
    pub next_possible: Option<Date>,
}

fn state_names(s: CaseState) -> (&'static str, &'static str) {
    match s {
        CaseState::Open => ("处理中", "open"),
        CaseState::Decided => ("办结", "decided"),
        CaseState::Withdrawn => ("撤回", "withdrawn"),
    }
}

fn must_be_open(case: &Case, step: &'static str, step_en: &'static str) -> Result<(), CaseError> {
    if case.state == CaseState::Open {
        return Ok(());
    }
    let (state, state_en) = state_names(case.state);
    Err(CaseError::NotOpen { state, state_en, step, step_en })
}

/// Decides an open case. Refusals need reasons and the next date, rejections reasons,
/// an upheld objection its remedy; a rectification is overdue only after its deadline.
pub fn decide(case: &Case, d: Decision, today: Date) -> Result<Case, CaseError> {
    must_be_open(case, "办结", "decide it")?;
    if d.decided_on > today {
        return Err(CaseError::FutureDate(date_string(d.decided_on)));
    }
    if !Outcome::allowed_for(case.kind).contains(&d.outcome) {
        return Err(CaseError::WrongOutcome {
            kind: case.kind.name_zh(),
            kind_en: case.kind.as_str(),
            outcome: d.outcome.name_zh(),
            outcome_en: d.outcome.as_str(),
        });
    }
    let reasons = d.reasons.trim().to_string();
    let mut remedy = None;
    match d.outcome {
        Outcome::Refused => {
            let Some(next) = d.next_possible.filter(|_| !reasons.is_empty()) else {
                return Err(CaseError::RefusalIncomplete);
            };
            if next < d.decided_on {
                return Err(CaseError::NextBeforeDecision {
                    next: date_string(next),
                    decided: date_string(d.decided_on),
                });
            }
        }
        Outcome::Rejected if reasons.is_empty() => return Err(CaseError::RejectionWithoutReasons),
        Outcome::Upheld => remedy = Some(d.remedy.ok_or(CaseError::RemedyMissing)?),
        Outcome::PartlyUpheld => remedy = Some(Remedy::Correct),
        Outcome::Overdue if d.decided_on <= case.due => {
            return Err(CaseError::NotYetOverdue { due: date_string(case.due) });
        }
        _ => {}
    }
    let mut next = case.clone();
    next.state = CaseState::Decided;
    next.outcome = Some(d.outcome);
    next.remedy = remedy;
    next.decision = reasons;
    next.decided_on = Some(d.decided_on);
    next.next_possible = if d.outcome == Outcome::Refused { d.next_possible } else { None };
    Ok(next)
}

/// The applicant withdraws an open objection or repair application.
pub fn withdraw(case: &Case, today: Date) -> Result<Case, CaseError> {
    must_be_open(case, "撤回", "withdraw it")?;
    let mut next = case.clone();
    next.state = CaseState::Withdrawn;
    next.decided_on = Some(today);
    Ok(next)
}

/// Recomputes an open case's due date after the calendar changed (a year's notice
/// added): the clock runs from the same start with the same length.
pub fn recompute_due(case: &Case, rules: &RuleSet, cal: &WorkCalendar) -> Result<Case, CaseError> {
    let days = match case.kind {
        CaseKind::Objection => rules.objection_decide,
        CaseKind::Repair => rules.repair_decide,
        // an officer's own deadline is a date, not a clock; the default one is a clock
        CaseKind::Rectification if case.due_provisional => rules.rectification,
        CaseKind::Rectification | CaseKind::Interview => return Ok(case.clone()),
    };
    let d = due(cal, case.filed_on, days)?;
    let mut next = case.clone();
    next.due = d.date;
    next.due_provisional = d.provisional;
    if case.kind == CaseKind::Repair {
        let a = due(cal, case.filed_on, rules.repair_answer)?;
        next.answer_due = Some(a.date);
        next.due_provisional |= a.provisional;
    }
    Ok(next)
}

/// The facts of a step as its ledger event carries them: what was decided, by whom,
/// with which files (by hash). The contact stays out: the ledger is published.
pub fn step_facts(case: &Case) -> BTreeMap<String, String> {
    let mut f = BTreeMap::new();
    f.insert("state".into(), case.state.as_str().into());
    f.insert("department".into(), case.department.clone());
    f.insert("applicant".into(), case.applicant.clone());
    f.insert("filed_on".into(), date_string(case.filed_on));
    f.insert("due".into(), date_string(case.due));
    if case.due_provisional {
        f.insert("due_provisional".into(), "true".into());
    }
    f.insert("rule_set".into(), case.rule_set.clone());
    f.insert("text".into(), case.text.clone());
    let target = match &case.target {
        Target::Record { id, item } => format!("record:{id}:{item}"),
        Target::Listing { id, list_type } => format!("listing:{id}:{list_type}"),
        Target::Subject => "subject".into(),
    };
    f.insert("target".into(), target);
    if !case.attachments.is_empty() {
        let files: Vec<String> = case.attachments.iter().map(|a| format!("{}:{}", a.sha256, a.media_type)).collect();
        f.insert("attachments".into(), files.join(","));
    }
    if !case.commitment.is_empty() {
        f.insert("commitment".into(), case.commitment.clone());
    }
    if !case.conditions.is_empty() {
        let met: Vec<String> = case.conditions.iter().map(|c| format!("{}={}", c.code, c.met)).collect();
        f.insert("conditions".into(), met.join(","));
    }
    if let Some(o) = case.outcome {
        f.insert("outcome".into(), o.as_str().into());
    }
    if let Some(r) = case.remedy {
        f.insert(
            "remedy".into(),
            match r {
                Remedy::Correct => "correct".into(),
                Remedy::Revoke => "revoke".into(),
            },
        );
    }
    if !case.decision.is_empty() {
        f.insert("decision".into(), case.decision.clone());
    }
    if let Some(d) = case.decided_on {
        f.insert("decided_on".into(), date_string(d));
    }
    if let Some(d) = case.next_possible {
        f.insert("next_possible".into(), date_string(d));
    }
    for (k, v) in &case.details {
        f.insert(format!("detail.{k}"), v.clone());
    }
    f
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn rules() -> &'static DueProcessRules {
        DueProcessRules::bundled()
    }

    fn set(id: &str) -> &'static RuleSet {
        rules().rule_set(Some(id)).unwrap()
    }

    fn cal() -> &'static WorkCalendar {
        WorkCalendar::official()
    }

    fn filing(kind: CaseKind, on: Date) -> Filing {
        Filing {
            kind,
            subject: "91110108551385082Q".into(),
            target: Target::Record { id: 7, item: "admin_penalty".into() },
            department: "海淀区市场监管局".into(),
            applicant: "某公司".into(),
            contact: "13800000000".into(),
            text: "处罚金额有误".into(),
            attachments: vec![],
            filed_on: on,
        }
    }

    fn all_claims() -> Vec<String> {
        rules().repair_condition.iter().map(|c| c.code.clone()).collect()
    }

    #[test]
    fn bundled_rules_parse_and_name_a_default() {
        let r = rules();
        assert!(r.rule_set(None).is_some());
        for id in ["national-2025", "beijing", "shanghai-2017", "shenzhen-2022"] {
            assert!(r.rule_set(Some(id)).is_some(), "{id}");
        }
        assert_eq!(set("national-2025").repair_decide, 3);
        assert_eq!(set("national-2025").repair_answer, 10);
        assert_eq!(set("shanghai-2017").objection_decide, 5);
        assert!(r.repair_condition.iter().any(|c| c.auto));
        let (zh, _) = r.commitment_text("某公司", "91110108551385082Q");
        assert!(zh.contains("某公司") && zh.contains("91110108551385082Q") && !zh.contains("{name}"));
        assert!(
            DueProcessRules::from_toml(
                "default = \"x\"\nrule_set = []\nrepair_condition = []\n[commitment]\nzh=\"\"\nen=\"\""
            )
            .is_err()
        );
    }

    #[test]
    fn objection_clock_straddles_national_day() {
        // Filed Friday 2024-09-27: Sunday 09-29 and Monday 09-30 are working days, then
        // 10-01..07 off; Shanghai's 5 working days end on Thursday 10-10.
        let c = file_objection(
            set("shanghai-2017"),
            cal(),
            filing(CaseKind::Objection, date!(2024 - 09 - 27)),
            date!(2024 - 09 - 27),
        )
        .unwrap();
        assert_eq!(c.due, date!(2024 - 10 - 10));
        assert!(!c.due_provisional);
        assert_eq!(c.state, CaseState::Open);
        assert!(c.disputes_target());
        assert!(c.overdue_on(date!(2024 - 10 - 11)) && !c.overdue_on(date!(2024 - 10 - 10)));
        assert_eq!(c.who_acts(), "海淀区市场监管局");
    }

    #[test]
    fn repair_clock_straddles_spring_festival() {
        // 2026: Feb 15–23 off, Saturday Feb 14 and Feb 28 worked. Filed Thursday Feb 12:
        // 3 working days = Feb 13, Feb 14, Feb 24; 10 = … Mar 5.
        let c = file_repair(
            set("national-2025"),
            &rules().repair_condition,
            cal(),
            filing(CaseKind::Repair, date!(2026 - 02 - 12)),
            &all_claims(),
            "承诺",
            date!(2026 - 02 - 12),
        )
        .unwrap();
        assert_eq!(c.due, date!(2026 - 02 - 24));
        let mut d = date!(2026 - 02 - 12);
        for _ in 0..10 {
            d = cal().add_workdays(d, 1).unwrap();
        }
        assert_eq!(c.answer_due, Some(d));
        assert!(c.conditions.iter().all(|k| k.met));
    }

    #[test]
    fn repair_needs_every_condition_and_the_commitment() {
        let f = || filing(CaseKind::Repair, date!(2025 - 03 - 03));
        let today = date!(2025 - 03 - 03);
        let e = file_repair(set("beijing"), &rules().repair_condition, cal(), f(), &[], "承诺", today).unwrap_err();
        assert!(matches!(e, CaseError::ConditionsNotMet(ref s) if s.contains("履行")), "{e}");
        let e =
            file_repair(set("beijing"), &rules().repair_condition, cal(), f(), &all_claims(), " ", today).unwrap_err();
        assert_eq!(e, CaseError::CommitmentMissing);
        assert!(e.to_string().contains("承诺书") && e.to_string().contains("commitment"));
    }

    #[test]
    fn decisions_follow_the_rules_of_their_kind() {
        let today = date!(2025 - 03 - 10);
        let obj =
            file_objection(set("beijing"), cal(), filing(CaseKind::Objection, date!(2025 - 03 - 03)), today).unwrap();
        let dec = |outcome, remedy, reasons: &str, next| Decision {
            outcome,
            remedy,
            reasons: reasons.into(),
            decided_on: today,
            next_possible: next,
        };
        assert!(matches!(
            decide(&obj, dec(Outcome::Granted, None, "x", None), today),
            Err(CaseError::WrongOutcome { .. })
        ));
        assert_eq!(
            decide(&obj, dec(Outcome::Rejected, None, " ", None), today),
            Err(CaseError::RejectionWithoutReasons)
        );
        assert_eq!(decide(&obj, dec(Outcome::Upheld, None, "", None), today), Err(CaseError::RemedyMissing));
        let up = decide(&obj, dec(Outcome::Upheld, Some(Remedy::Revoke), "", None), today).unwrap();
        assert_eq!((up.state, up.remedy), (CaseState::Decided, Some(Remedy::Revoke)));
        assert!(!up.disputes_target());
        // a second decision on the same case is refused
        assert!(matches!(decide(&up, dec(Outcome::Rejected, None, "r", None), today), Err(CaseError::NotOpen { .. })));
        let unc = decide(&obj, dec(Outcome::Unconfirmed, None, "无法核实", None), today).unwrap();
        assert!(unc.disputes_target());

        let rep = file_repair(
            set("beijing"),
            &rules().repair_condition,
            cal(),
            filing(CaseKind::Repair, date!(2025 - 03 - 03)),
            &all_claims(),
            "承诺",
            today,
        )
        .unwrap();
        assert_eq!(
            decide(&rep, dec(Outcome::Refused, None, "未缴清罚款", None), today),
            Err(CaseError::RefusalIncomplete)
        );
        assert!(matches!(
            decide(&rep, dec(Outcome::Refused, None, "未缴清罚款", Some(date!(2025 - 03 - 01))), today),
            Err(CaseError::NextBeforeDecision { .. })
        ));
        let refused =
            decide(&rep, dec(Outcome::Refused, None, "未缴清罚款", Some(date!(2025 - 06 - 01))), today).unwrap();
        assert_eq!(refused.next_possible, Some(date!(2025 - 06 - 01)));
        let facts = step_facts(&refused);
        assert_eq!(facts["outcome"], "refused");
        assert_eq!(facts["next_possible"], "2025-06-01");
        assert!(!facts.values().any(|v| v.contains("13800000000")), "the contact stays out of the ledger");
        assert!(matches!(withdraw(&refused, today), Err(CaseError::NotOpen { .. })));
        assert_eq!(withdraw(&rep, today).unwrap().state, CaseState::Withdrawn);
        assert!(matches!(
            decide(&rep, dec(Outcome::Granted, None, "", None), date!(2025 - 03 - 09)),
            Err(CaseError::FutureDate(_))
        ));
    }

    #[test]
    fn rectification_is_overdue_only_after_its_deadline() {
        let notice = date!(2025 - 04 - 01);
        let f = filing(CaseKind::Rectification, notice);
        assert!(matches!(
            issue_rectification(set("beijing"), cal(), f.clone(), Some(notice), notice),
            Err(CaseError::DeadlineNotAfterNotice(_))
        ));
        let c = issue_rectification(set("beijing"), cal(), f, Some(date!(2025 - 04 - 15)), notice).unwrap();
        assert_eq!(c.target, Target::Subject);
        assert_eq!(c.who_acts(), c.subject);
        let d = |on| Decision {
            outcome: Outcome::Overdue,
            remedy: None,
            reasons: String::new(),
            decided_on: on,
            next_possible: None,
        };
        assert!(matches!(
            decide(&c, d(date!(2025 - 04 - 15)), date!(2025 - 05 - 01)),
            Err(CaseError::NotYetOverdue { .. })
        ));
        assert_eq!(
            decide(&c, d(date!(2025 - 04 - 16)), date!(2025 - 05 - 01)).unwrap().outcome,
            Some(Outcome::Overdue)
        );
    }

    #[test]
    fn an_interview_is_recorded_as_held() {
        let mut details = BTreeMap::new();
        details.insert("type".to_string(), "警示约谈".to_string());
        details.insert("attendees".to_string(), "张三（法定代表人）".to_string());
        let on = date!(2025 - 05 - 06);
        assert!(record_interview(set("beijing"), filing(CaseKind::Interview, on), details.clone(), "", on).is_err());
        let c =
            record_interview(set("beijing"), filing(CaseKind::Interview, on), details, "承诺一周内整改", on).unwrap();
        assert_eq!((c.state, c.outcome), (CaseState::Decided, Some(Outcome::Held)));
        assert_eq!(step_facts(&c)["detail.type"], "警示约谈");
    }

    #[test]
    fn a_case_document_round_trips_through_json() {
        let c = file_objection(
            set("beijing"),
            cal(),
            filing(CaseKind::Objection, date!(2025 - 03 - 03)),
            date!(2025 - 03 - 03),
        )
        .unwrap();
        let s = serde_json::to_string(&c).unwrap();
        assert!(s.contains("\"filed_on\":\"2025-03-03\""), "{s}");
        assert_eq!(serde_json::from_str::<Case>(&s).unwrap(), c);
    }

    proptest! {
        #[test]
        fn due_dates_are_working_days_after_filing(offset in 0i64..2900, which in 0usize..4) {
            let on = date!(2019 - 01 - 01) + time::Duration::days(offset);
            let rs = &rules().rule_set[which];
            let c = file_objection(rs, cal(), filing(CaseKind::Objection, on), on);
            if let Ok(c) = c {
                prop_assert!(c.due > on);
                prop_assert_eq!(c.due, cal().add_workdays(on, rs.objection_decide).unwrap());
                prop_assert!(!c.overdue_on(c.due));
                prop_assert!(c.overdue_on(c.due.next_day().unwrap()));
            }
        }
    }
}
