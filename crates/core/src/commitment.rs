//! Credit commitments (信用承诺) as obligations: a subject promises, for a matter of the
//! list in `data/commitments/matters.toml` ([`matters`]), to meet conditions by a due
//! date counted in working days; a department records that it kept the promise
//! (已履约) or broke it (未履约), and a commitment still open the day after its due date
//! is broken by the clock, not by a person.
//!
//! A commitment's standing is a function of its facts and the day asked about
//! ([`Commitment::standing`]), never of the order the facts were recorded in:
//! - the earliest fact on or before that day decides, and it decides for good (a kept
//!   or broken promise stays so on every later day);
//! - a fulfilment dated after the due date is no fulfilment (逾期履行不视为履约): it is
//!   ignored, and the clock's breach on the day after the due date stands;
//! - the clock's breach needs no event to hold: the `commitment.breached` event the
//!   platform writes for it records what the standing already says, so a standing read
//!   before or after that event is the same;
//! - on one day, a fulfilment outranks a breach (a promise kept that day was not broken
//!   that day); the transitions below never record both.
//!
//! The due date is fixed when the commitment is taken on: it is the date in the text
//! signed, so a calendar year added later does not move it (a provisional date stays
//! marked provisional).

pub mod matters;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::Date;

use crate::calendar::WorkCalendar;
use crate::case::day;
use crate::record::{date_string, parse_date};

/// The catalog item whose records are commitments.
pub const ITEM: &str = "credit_commitment";
/// The catalog item of a broken commitment (违背信用承诺信息).
pub const BREACH_ITEM: &str = "commitment_breach";
/// Why the clock breaks a commitment.
pub const OVERDUE_REASON: &str = "履约期限届满未履行承诺 / not fulfilled by its due date";

/// Kind of commitment (信用承诺类型, 国办发〔2019〕35号).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CommitmentKind {
    /// 告知承诺（审批替代型）: the promise stands in for papers or conditions checked later.
    ApprovalReplacing,
    /// 容缺受理: the application is accepted with papers missing, to be supplied by a date.
    MissingMaterials,
    /// 主动型 / 自主公示型: a promise made to the public unasked.
    Voluntary,
    /// 行业自律型: a promise made within an industry's self-discipline.
    Industry,
    /// 信用修复型: a promise made when applying for credit repair.
    Repair,
}

impl CommitmentKind {
    pub const ALL: [CommitmentKind; 5] = [
        CommitmentKind::ApprovalReplacing,
        CommitmentKind::MissingMaterials,
        CommitmentKind::Voluntary,
        CommitmentKind::Industry,
        CommitmentKind::Repair,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CommitmentKind::ApprovalReplacing => "approval_replacing",
            CommitmentKind::MissingMaterials => "missing_materials",
            CommitmentKind::Voluntary => "voluntary",
            CommitmentKind::Industry => "industry",
            CommitmentKind::Repair => "repair",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            CommitmentKind::ApprovalReplacing => "告知承诺",
            CommitmentKind::MissingMaterials => "容缺受理",
            CommitmentKind::Voluntary => "主动型承诺",
            CommitmentKind::Industry => "行业自律型承诺",
            CommitmentKind::Repair => "信用修复型承诺",
        }
    }

    /// The value of the record's 承诺类型 field.
    pub fn record_value(self) -> &'static str {
        match self {
            CommitmentKind::ApprovalReplacing => "审批替代型",
            CommitmentKind::MissingMaterials => "容缺受理型",
            CommitmentKind::Voluntary => "主动型",
            CommitmentKind::Industry => "行业自律型",
            CommitmentKind::Repair => "信用修复型",
        }
    }

    /// Reads a record's 承诺类型 (证明事项告知承诺 is the approval-replacing kind).
    pub fn from_record_value(v: &str) -> Option<CommitmentKind> {
        match v.trim() {
            "证明事项告知承诺" => Some(CommitmentKind::ApprovalReplacing),
            v => CommitmentKind::ALL.into_iter().find(|k| k.record_value() == v),
        }
    }

    /// Kinds a subject with dishonesty records may not use by default (国办发〔2020〕42号).
    pub fn excludes_by_default(self) -> bool {
        matches!(self, CommitmentKind::ApprovalReplacing | CommitmentKind::MissingMaterials)
    }
}

/// How a commitment reached the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// 网上签署: signed by the entity's own account.
    Online,
    /// 纸质承诺书: a paper signature recorded by an officer.
    Paper,
    /// 部门报送: a department's file or batch.
    Import,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Online => "online",
            Channel::Paper => "paper",
            Channel::Import => "import",
        }
    }

    /// The intake `source` of a commitment record signed here, naming the channel and
    /// the account: the record then carries who signed it.
    pub fn source(self, account: &str) -> String {
        format!("commitment:{}:{account}", self.as_str())
    }

    /// The channel and account a record's intake `source` names ([`Channel::source`]);
    /// any other source is a department's file or batch.
    pub fn from_source(source: &str) -> (Channel, Option<String>) {
        let mut parts = source.splitn(3, ':');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("commitment"), Some("online"), Some(a)) => (Channel::Online, Some(a.to_string())),
            (Some("commitment"), Some("paper"), Some(a)) => (Channel::Paper, Some(a.to_string())),
            _ => (Channel::Import, None),
        }
    }
}

/// Who ended a commitment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EndedBy {
    /// 部门认定: an officer of the accepting department.
    Department,
    /// 部门报送: the department's own file said so.
    Import,
    /// 逾期自动认定: the clock, the day after the due date.
    Clock,
}

impl EndedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            EndedBy::Department => "department",
            EndedBy::Import => "import",
            EndedBy::Clock => "clock",
        }
    }

    /// The breach record's 认定方式.
    pub fn breach_value(self) -> &'static str {
        match self {
            EndedBy::Department => "部门认定",
            EndedBy::Import => "部门报送",
            EndedBy::Clock => "逾期未履约自动认定",
        }
    }
}

/// Where a commitment stands (履约状态).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// 履约中
    Pending,
    /// 已履约
    Fulfilled,
    /// 未履约
    Breached,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Fulfilled => "fulfilled",
            State::Breached => "breached",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        [State::Pending, State::Fulfilled, State::Breached].into_iter().find(|x| x.as_str() == s)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            State::Pending => "履约中",
            State::Fulfilled => "已履约",
            State::Breached => "未履约",
        }
    }

    /// Reads a record's 履约状态.
    pub fn from_zh(s: &str) -> Option<State> {
        [State::Pending, State::Fulfilled, State::Breached].into_iter().find(|x| x.name_zh() == s.trim())
    }
}

/// Where a voluntary registration (自愿注册) stands: its truthfulness commitment's
/// state on the day asked about, as the portal marks the information.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Declared {
    /// 自主声明（待核实）: the entity's word, not yet verified.
    SelfDeclared,
    /// 已核实: the accepting department verified it (the commitment was kept).
    Verified,
    /// 经核实不实: found false (the commitment was broken).
    False,
}

impl Declared {
    pub fn of(state: State) -> Declared {
        match state {
            State::Pending => Declared::SelfDeclared,
            State::Fulfilled => Declared::Verified,
            State::Breached => Declared::False,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Declared::SelfDeclared => "self_declared",
            Declared::Verified => "verified",
            Declared::False => "false",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Declared::SelfDeclared => "自主声明（待核实）",
            Declared::Verified => "已核实",
            Declared::False => "经核实不实",
        }
    }
}

/// A fact that ends a commitment, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    Fulfilled {
        #[serde(with = "day")]
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
        on: Date,
        evidence: String,
        by: EndedBy,
        /// The account or department that recorded it.
        actor: String,
    },
    Breached {
        #[serde(with = "day")]
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
        on: Date,
        reason: String,
        by: EndedBy,
        actor: String,
    },
}

impl Step {
    pub fn on(&self) -> Date {
        match self {
            Step::Fulfilled { on, .. } | Step::Breached { on, .. } => *on,
        }
    }
}

/// A commitment with every fact recorded about it. Stored as JSON beside its record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Commitment {
    /// The commitment's record (catalog item `credit_commitment`): its identity here.
    pub record_id: i64,
    pub subject: String,
    /// 承诺书编号.
    pub number: String,
    /// The accepting department (承诺受理单位), the record's provider.
    pub department: String,
    /// 事项编码, when the commitment names a matter of the list.
    pub matter: Option<String>,
    pub kind: Option<CommitmentKind>,
    #[serde(with = "day")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub signed_on: Date,
    /// 履约期限; none: no clock runs.
    #[serde(with = "day::opt")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub due: Option<Date>,
    /// Counted past the official calendar's years (by the statutory rule).
    pub due_provisional: bool,
    pub channel: Channel,
    /// The account that signed (online) or recorded the paper signature.
    pub signer: Option<String>,
    pub steps: Vec<Step>,
    /// The breach record (`commitment_breach`) written for it, once written.
    pub breach_record: Option<i64>,
    pub first_event: u64,
    pub last_event: u64,
}

/// A commitment's standing on a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Standing {
    pub state: State,
    /// The day it was kept or broken.
    #[serde(with = "day::opt")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub on: Option<Date>,
    pub by: Option<EndedBy>,
    /// The evidence of fulfilment, or what was not kept.
    pub text: Option<String>,
}

/// A step refused, in Chinese and English.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommitmentError {
    #[error("日期 {on} 晚于今天 {today} / {on} is after today ({today})")]
    Future { on: String, today: String },
    #[error("日期 {on} 早于承诺日期 {signed} / {on} is before the commitment was made ({signed})")]
    BeforeSigning { on: String, signed: String },
    #[error("承诺已于 {on} {zh}，不能再记录 / the commitment already ended ({en}) on {on}")]
    Ended { on: String, zh: &'static str, en: &'static str },
    #[error(
        "履约期限为 {due}，{on} 履行属逾期，不视为已履约 / the due date was {due}: performance on {on} is late and is not fulfilment"
    )]
    Late { on: String, due: String },
    #[error("须填写{zh} / {en} is required")]
    Missing { zh: &'static str, en: &'static str },
    #[error("该事项无履约期限，不能约定履约日期 / this matter has no due date to promise")]
    NoTerm,
    #[error(
        "承诺履约日期 {promised} 超过事项办理时限（最晚 {latest}） / the promised date {promised} passes the matter's processing deadline ({latest})"
    )]
    PastProcessingDeadline { promised: String, latest: String },
    #[error("{0}")]
    Calendar(#[from] crate::calendar::CalendarError),
}

impl CommitmentError {
    /// A stable code for API answers.
    pub fn code(&self) -> &'static str {
        match self {
            CommitmentError::Future { .. } => "commitment.future",
            CommitmentError::BeforeSigning { .. } => "commitment.before_signing",
            CommitmentError::Ended { .. } => "commitment.ended",
            CommitmentError::Late { .. } => "commitment.late",
            CommitmentError::Missing { .. } => "commitment.missing",
            CommitmentError::NoTerm => "commitment.no_term",
            CommitmentError::PastProcessingDeadline { .. } => "commitment.past_processing_deadline",
            CommitmentError::Calendar(_) => "commitment.calendar",
        }
    }
}

/// One fact as the standing weighs it: its day, what it says, who said it, and the
/// text; ordered so that the smallest decides.
type Fact<'a> = (Date, u8, EndedBy, &'a str, State);

fn rank(s: State) -> u8 {
    // on one day a fulfilment outranks a breach
    match s {
        State::Fulfilled => 0,
        _ => 1,
    }
}

fn earliest<'a>(facts: impl Iterator<Item = Fact<'a>>) -> Option<Fact<'a>> {
    facts.min_by(|a, b| (a.0, a.1, a.2, a.3).cmp(&(b.0, b.1, b.2, b.3)))
}

impl Commitment {
    /// The facts that may end the commitment: recorded steps (a fulfilment only on or
    /// before the due date, and not before signing) and, with `clock`, the breach the
    /// clock finds the day after the due date.
    fn facts(&self, clock: bool) -> impl Iterator<Item = Fact<'_>> {
        let recorded = self.steps.iter().filter_map(move |s| match s {
            Step::Fulfilled { on, evidence, by, .. } => (*on >= self.signed_on && self.due.is_none_or(|d| *on <= d))
                .then(|| (*on, rank(State::Fulfilled), *by, evidence.as_str(), State::Fulfilled)),
            Step::Breached { on, reason, by, .. } => {
                Some(((*on).max(self.signed_on), rank(State::Breached), *by, reason.as_str(), State::Breached))
            }
        });
        let overdue = self
            .due
            .filter(|_| clock)
            .and_then(Date::next_day)
            .map(|d| (d, rank(State::Breached), EndedBy::Clock, OVERDUE_REASON, State::Breached));
        recorded.chain(overdue)
    }

    fn standing_of(fact: Option<Fact<'_>>) -> Standing {
        match fact {
            None => Standing { state: State::Pending, on: None, by: None, text: None },
            Some((on, _, by, text, state)) => {
                Standing { state, on: Some(on), by: Some(by), text: Some(text.to_string()) }
            }
        }
    }

    /// Where the commitment stands on `day`: the earliest fact on or before it, the
    /// clock's included.
    pub fn standing(&self, day: Date) -> Standing {
        Commitment::standing_of(earliest(self.facts(true).filter(|f| f.0 <= day)))
    }

    /// Where the recorded steps alone put it, whatever the day (what the store files it
    /// under: the clock looks at the pending ones past their due date).
    pub fn recorded(&self) -> Standing {
        Commitment::standing_of(earliest(self.facts(false)))
    }

    /// Whether the commitment is open on `today` (not kept, not broken).
    fn open_on(&self, today: Date) -> Result<(), CommitmentError> {
        let s = self.standing(today);
        match (s.state, s.on) {
            (State::Pending, _) => Ok(()),
            (state, on) => Err(CommitmentError::Ended {
                on: on.map(date_string).unwrap_or_default(),
                zh: state.name_zh(),
                en: state.as_str(),
            }),
        }
    }

    fn dated(&self, on: Date, today: Date) -> Result<(), CommitmentError> {
        if on > today {
            return Err(CommitmentError::Future { on: date_string(on), today: date_string(today) });
        }
        if on < self.signed_on {
            return Err(CommitmentError::BeforeSigning { on: date_string(on), signed: date_string(self.signed_on) });
        }
        Ok(())
    }

    /// Records that the commitment was kept on `on`, with the department's evidence.
    /// Refused when it already ended (the clock included), when `on` is in the future,
    /// before signing or after the due date (late performance is no fulfilment).
    pub fn fulfil(&self, on: Date, evidence: &str, actor: &str, today: Date) -> Result<Commitment, CommitmentError> {
        let evidence = evidence.trim();
        if evidence.is_empty() {
            return Err(CommitmentError::Missing { zh: "履约证明", en: "the evidence of fulfilment" });
        }
        self.dated(on, today)?;
        if let Some(due) = self.due.filter(|d| on > *d) {
            return Err(CommitmentError::Late { on: date_string(on), due: date_string(due) });
        }
        self.open_on(today)?;
        let mut next = self.clone();
        next.steps.push(Step::Fulfilled {
            on,
            evidence: evidence.to_string(),
            by: EndedBy::Department,
            actor: actor.to_string(),
        });
        Ok(next)
    }

    /// Records that the commitment was broken on `on` (a false promise found, papers
    /// not supplied), with what was not kept. Refused when it already ended or `on` is
    /// in the future or before signing.
    pub fn breach(&self, on: Date, reason: &str, actor: &str, today: Date) -> Result<Commitment, CommitmentError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(CommitmentError::Missing { zh: "违诺情形", en: "what was not kept" });
        }
        self.dated(on, today)?;
        self.open_on(on)?;
        self.open_on(today)?;
        let mut next = self.clone();
        next.steps.push(Step::Breached {
            on,
            reason: reason.to_string(),
            by: EndedBy::Department,
            actor: actor.to_string(),
        });
        Ok(next)
    }

    /// The clock: a commitment whose recorded steps leave it open, on a day after its
    /// due date, is broken on the day after the due date. `None` when nothing is due.
    pub fn clock(&self, today: Date) -> Option<Commitment> {
        if self.recorded().state != State::Pending {
            return None;
        }
        let on = self.due?.next_day().filter(|d| *d <= today)?;
        let mut next = self.clone();
        next.steps.push(Step::Breached {
            on,
            reason: OVERDUE_REASON.to_string(),
            by: EndedBy::Clock,
            actor: "clock".to_string(),
        });
        Some(next)
    }

    /// A department's file says the commitment was kept or broken (履约状态, with the
    /// 履约日期 when it gives one): the step that records it, unless the recorded steps
    /// ended it already. Without a 履约日期 a fulfilment counts from the due date when
    /// that has passed (the department says the promise was kept, not when), and a
    /// breach from the day after it; otherwise both count from `received`.
    pub fn reported(&self, state: State, on: Option<Date>, received: Date, department: &str) -> Option<Commitment> {
        if self.recorded().state != State::Pending {
            return None;
        }
        let due_passed = self.due.filter(|d| *d < received);
        let step = match state {
            State::Pending => return None,
            State::Fulfilled => Step::Fulfilled {
                on: on.unwrap_or(due_passed.unwrap_or(received)),
                evidence: "部门报送：已履约 / reported fulfilled by the department".to_string(),
                by: EndedBy::Import,
                actor: department.to_string(),
            },
            State::Breached => Step::Breached {
                on: on.unwrap_or_else(|| due_passed.and_then(Date::next_day).unwrap_or(received)),
                reason: "部门报送：未履约 / reported not fulfilled by the department".to_string(),
                by: EndedBy::Import,
                actor: department.to_string(),
            },
        };
        let mut next = self.clone();
        next.steps.push(step);
        Some(next)
    }

    /// The facts of the `commitment.signed` event.
    pub fn signed_facts(&self) -> BTreeMap<String, String> {
        let mut f = BTreeMap::new();
        let mut put = |k: &str, v: String| {
            f.insert(k.to_string(), v);
        };
        put("number", self.number.clone());
        put("department", self.department.clone());
        put("signed_on", date_string(self.signed_on));
        put("channel", self.channel.as_str().to_string());
        if let Some(m) = &self.matter {
            put("matter", m.clone());
        }
        if let Some(k) = self.kind {
            put("kind", k.as_str().to_string());
        }
        if let Some(d) = self.due {
            put("due", date_string(d));
            put("due_provisional", self.due_provisional.to_string());
        }
        if let Some(s) = &self.signer {
            put("signer", s.clone());
        }
        f
    }

    /// The facts of the event recording `step`.
    pub fn step_facts(step: &Step) -> BTreeMap<String, String> {
        let (state, on, text_key, text, by, actor) = match step {
            Step::Fulfilled { on, evidence, by, actor } => (State::Fulfilled, on, "evidence", evidence, by, actor),
            Step::Breached { on, reason, by, actor } => (State::Breached, on, "reason", reason, by, actor),
        };
        [
            ("state", state.as_str().to_string()),
            ("on", date_string(*on)),
            (text_key, text.clone()),
            ("by", by.as_str().to_string()),
            ("actor", actor.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// The recorded breach, if the recorded steps end in one.
    pub fn recorded_breach(&self) -> Option<Standing> {
        Some(self.recorded()).filter(|s| s.state == State::Breached)
    }
}

/// A stored `credit_commitment` record, as the life cycle reads it.
#[derive(Debug, Clone, Copy)]
pub struct CommitmentRecord<'a> {
    pub id: i64,
    pub subject: &'a str,
    pub provider: &'a str,
    pub fields: &'a BTreeMap<String, String>,
    /// The intake source of the record's first content ([`Channel::source`] for one
    /// signed here).
    pub source: &'a str,
}

fn value<'a>(fields: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    fields.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// The commitment a record makes, as taken on: its number, matter, kind, signing and
/// due dates (履约期限, fixed from now on; provisional when it lies past `calendar`'s
/// years). `None` when the record has no valid 承诺日期.
pub fn from_record(r: &CommitmentRecord<'_>, calendar: &WorkCalendar) -> Option<Commitment> {
    let signed_on = value(r.fields, "承诺日期").and_then(parse_date)?;
    let due = value(r.fields, "履约期限").and_then(parse_date);
    let (channel, signer) = Channel::from_source(r.source);
    Some(Commitment {
        record_id: r.id,
        subject: r.subject.to_string(),
        number: value(r.fields, "承诺书编号").unwrap_or_default().to_string(),
        department: r.provider.to_string(),
        matter: value(r.fields, "事项编码").map(str::to_string),
        kind: value(r.fields, "承诺类型").and_then(CommitmentKind::from_record_value),
        signed_on,
        due,
        due_provisional: due.is_some_and(|d| d.year() > calendar.years().1),
        channel,
        signer,
        steps: Vec::new(),
        breach_record: None,
        first_event: 0,
        last_event: 0,
    })
}

/// What a record's 履约状态 and 履约日期 say, when they say the commitment ended.
pub fn reported_state(fields: &BTreeMap<String, String>) -> Option<(State, Option<Date>)> {
    let state = value(fields, "履约状态").and_then(State::from_zh).filter(|s| *s != State::Pending)?;
    Some((state, value(fields, "履约日期").and_then(parse_date)))
}

/// The row of the breach record (`commitment_breach`) of a commitment whose recorded
/// steps end in a breach, built from the commitment's record: the commitment number is
/// its key and its basis. `None` when the commitment is not broken.
pub fn breach_row(c: &Commitment, record: &BTreeMap<String, String>) -> Option<BTreeMap<String, String>> {
    let breach = c.recorded_breach()?;
    let mut row = BTreeMap::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.trim().is_empty()) {
            row.insert(k.to_string(), v);
        }
    };
    let copy = |k: &str| value(record, k).map(str::to_string);
    put("承诺主体名称", copy("承诺主体名称"));
    put("统一社会信用代码", Some(c.subject.clone()));
    put("承诺书编号", Some(c.number.clone()));
    put("承诺事项", copy("承诺事项"));
    put("事项编码", c.matter.clone());
    put("承诺类型", copy("承诺类型"));
    put("承诺日期", Some(date_string(c.signed_on)));
    put("履约期限", c.due.map(date_string));
    put("违诺情形", breach.text);
    put("认定方式", breach.by.map(|b| b.breach_value().to_string()));
    put("认定日期", breach.on.map(date_string));
    put("认定单位", Some(c.department.clone()));
    Some(row)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;
    use time::Duration;
    use time::macros::date;

    use super::*;

    fn commitment(signed_on: Date, due: Option<Date>) -> Commitment {
        Commitment {
            record_id: 1,
            subject: "91110108551385082Q".into(),
            number: "M-SAMR-0002-20260928-000001".into(),
            department: "北京市市场监督管理局".into(),
            matter: Some("M-SAMR-0002".into()),
            kind: Some(CommitmentKind::MissingMaterials),
            signed_on,
            due,
            due_provisional: false,
            channel: Channel::Online,
            signer: Some("me".into()),
            steps: Vec::new(),
            breach_record: None,
            first_event: 0,
            last_event: 0,
        }
    }

    #[test]
    fn kept_on_time_stays_kept_and_the_clock_has_nothing_to_do() {
        let c = commitment(date!(2026 - 09 - 28), Some(date!(2026 - 10 - 10)));
        assert_eq!(c.standing(date!(2026 - 10 - 12)).state, State::Breached, "open past its due date");
        let kept = c.fulfil(date!(2026 - 10 - 09), "已补交经营场所使用证明", "officer", date!(2026 - 10 - 09)).unwrap();
        for d in [date!(2026 - 10 - 09), date!(2026 - 10 - 11), date!(2030 - 01 - 01)] {
            let s = kept.standing(d);
            assert_eq!(
                (s.state, s.on, s.by),
                (State::Fulfilled, Some(date!(2026 - 10 - 09)), Some(EndedBy::Department))
            );
        }
        assert_eq!(kept.standing(date!(2026 - 10 - 08)).state, State::Pending, "not before the day it was kept");
        assert!(kept.clock(date!(2027 - 01 - 01)).is_none());
        let e = kept.breach(date!(2026 - 10 - 10), "材料虚假", "officer", date!(2026 - 10 - 10)).unwrap_err();
        assert_eq!(e.code(), "commitment.ended");
    }

    #[test]
    fn the_clock_breaks_it_the_day_after_the_due_date() {
        let c = commitment(date!(2026 - 09 - 28), Some(date!(2026 - 10 - 10)));
        assert!(c.clock(date!(2026 - 10 - 10)).is_none(), "the due date itself is still in time");
        let broken = c.clock(date!(2026 - 10 - 11)).unwrap();
        let s = broken.standing(date!(2026 - 10 - 11));
        assert_eq!((s.state, s.on, s.by), (State::Breached, Some(date!(2026 - 10 - 11)), Some(EndedBy::Clock)));
        assert_eq!(broken.recorded(), s, "the event records what the standing already said");
        assert!(broken.clock(date!(2026 - 12 - 01)).is_none(), "once");
        // recording fulfilment after the clock is refused, whatever day it names
        let e = c.fulfil(date!(2026 - 10 - 09), "迟到的登记", "officer", date!(2026 - 10 - 12)).unwrap_err();
        assert_eq!(e.code(), "commitment.ended");
    }

    #[test]
    fn late_performance_is_no_fulfilment() {
        let c = commitment(date!(2026 - 09 - 28), Some(date!(2026 - 10 - 10)));
        let e = c.fulfil(date!(2026 - 10 - 11), "补交", "officer", date!(2026 - 10 - 11)).unwrap_err();
        assert_eq!(e.code(), "commitment.late");
        // a department's file saying so is recorded, and does not count
        let mut late = c.clone();
        late.steps.push(Step::Fulfilled {
            on: date!(2026 - 10 - 20),
            evidence: "x".into(),
            by: EndedBy::Import,
            actor: "d".into(),
        });
        assert_eq!(late.standing(date!(2026 - 11 - 01)).state, State::Breached);
        assert!(late.clock(date!(2026 - 11 - 01)).is_some(), "the clock still has to record it");
    }

    #[test]
    fn steps_are_refused_with_their_reason() {
        let c = commitment(date!(2026 - 09 - 28), Some(date!(2026 - 10 - 10)));
        let today = date!(2026 - 10 - 01);
        assert_eq!(c.fulfil(date!(2026 - 10 - 02), "x", "o", today).unwrap_err().code(), "commitment.future");
        assert_eq!(c.fulfil(date!(2026 - 09 - 27), "x", "o", today).unwrap_err().code(), "commitment.before_signing");
        assert_eq!(c.fulfil(today, "  ", "o", today).unwrap_err().code(), "commitment.missing");
        assert_eq!(c.breach(today, "", "o", today).unwrap_err().code(), "commitment.missing");
        let e = c.fulfil(date!(2026 - 10 - 11), "x", "o", date!(2026 - 10 - 11)).unwrap_err();
        assert!(e.to_string().contains("不视为已履约") && e.to_string().contains("not fulfilment"), "{e}");
        // a false promise found before the due date breaks it that day
        let broken = c.breach(today, "承诺的场所证明系伪造", "o", today).unwrap();
        assert_eq!(broken.standing(today).by, Some(EndedBy::Department));
        assert!(broken.clock(date!(2027 - 01 - 01)).is_none());
    }

    #[test]
    fn without_a_due_date_no_clock_runs() {
        let c = commitment(date!(2026 - 01 - 05), None);
        assert_eq!(c.standing(date!(2099 - 01 - 01)).state, State::Pending);
        assert!(c.clock(date!(2099 - 01 - 01)).is_none());
        assert!(c.fulfil(date!(2026 - 06 - 01), "年度核查未发现违诺", "o", date!(2026 - 06 - 01)).is_ok());
    }

    #[test]
    fn a_departments_file_ends_it_as_it_says() {
        let c = commitment(date!(2026 - 03 - 02), Some(date!(2026 - 03 - 09)));
        let received = date!(2026 - 11 - 28);
        let kept = c.reported(State::Fulfilled, None, received, "d").unwrap();
        assert_eq!(kept.standing(received).on, Some(date!(2026 - 03 - 09)), "by the due date, no later");
        assert_eq!(kept.standing(received).state, State::Fulfilled);
        let broken = c.reported(State::Breached, None, received, "d").unwrap();
        assert_eq!(broken.standing(received).on, Some(date!(2026 - 03 - 10)));
        let dated = c.reported(State::Breached, Some(date!(2026 - 03 - 05)), received, "d").unwrap();
        assert_eq!(dated.standing(received).on, Some(date!(2026 - 03 - 05)));
        assert!(kept.reported(State::Breached, None, received, "d").is_none(), "an end stays");
        let open = commitment(date!(2026 - 11 - 20), None);
        assert_eq!(open.reported(State::Fulfilled, None, received, "d").unwrap().standing(received).on, Some(received));
    }

    #[test]
    fn records_read_back_into_commitments_and_breach_rows() {
        let fields: BTreeMap<String, String> = [
            ("承诺主体名称", "北京测试科技有限公司"),
            ("统一社会信用代码", "91110108551385082Q"),
            ("承诺类型", "证明事项告知承诺"),
            ("承诺事项", "食品经营许可"),
            ("承诺书编号", "XYCN-1"),
            ("承诺日期", "2026-12-18"),
            ("履约期限", "2027-01-04"),
            ("承诺受理单位", "北京市市场监督管理局"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let r = CommitmentRecord {
            id: 9,
            subject: "91110108551385082Q",
            provider: "北京市市场监督管理局",
            fields: &fields,
            source: &Channel::Paper.source("officer-1"),
        };
        let c = from_record(&r, WorkCalendar::official()).unwrap();
        assert_eq!((c.channel, c.signer.as_deref()), (Channel::Paper, Some("officer-1")));
        assert_eq!(c.kind, Some(CommitmentKind::ApprovalReplacing));
        assert!(c.due_provisional, "2027 lies past the official calendar");
        assert!(breach_row(&c, &fields).is_none(), "not broken");
        let broken = c.clock(date!(2027 - 01 - 05)).unwrap();
        let row = breach_row(&broken, &fields).unwrap();
        assert_eq!(row["承诺书编号"], "XYCN-1");
        assert_eq!(row["认定方式"], "逾期未履约自动认定");
        assert_eq!(row["认定日期"], "2027-01-05");
        assert_eq!(Channel::from_source("api"), (Channel::Import, None));
        assert!(reported_state(&fields).is_none());
    }

    fn day(n: u16) -> Date {
        date!(2026 - 01 - 01) + Duration::days(i64::from(n))
    }

    fn step_strategy() -> impl Strategy<Value = Step> {
        (any::<bool>(), 0u16..200, 0usize..3).prop_map(|(kept, on, by)| {
            let by = [EndedBy::Department, EndedBy::Import, EndedBy::Clock][by];
            if kept {
                Step::Fulfilled { on: day(on), evidence: format!("e{on}"), by, actor: "a".into() }
            } else {
                Step::Breached { on: day(on), reason: format!("r{on}"), by, actor: "a".into() }
            }
        })
    }

    fn commitment_strategy() -> impl Strategy<Value = Commitment> {
        (0u16..100, proptest::option::of(0u16..60), proptest::collection::vec(step_strategy(), 0..4)).prop_map(
            |(signed, term, steps)| {
                let mut c = commitment(day(signed), term.map(|t| day(signed + t)));
                c.steps = steps;
                c
            },
        )
    }

    proptest! {
        /// The standing is a function of the facts and the day: the order they were
        /// recorded in does not matter, and the clock's own event changes nothing.
        #[test]
        fn standing_is_a_function_of_facts_and_day(c in commitment_strategy(), probe in 0u16..300, turn in 0usize..4) {
            let mut shuffled = c.clone();
            shuffled.steps.reverse();
            if !shuffled.steps.is_empty() {
                let n = turn % shuffled.steps.len();
                shuffled.steps.rotate_left(n);
            }
            prop_assert_eq!(c.standing(day(probe)), shuffled.standing(day(probe)));
            if let Some(clocked) = c.clock(day(probe)) {
                for d in [0, probe / 2, probe, probe + 1, 299] {
                    prop_assert_eq!(c.standing(day(d)), clocked.standing(day(d)));
                }
            }
        }

        /// Once kept or broken, a commitment stays so on every later day.
        #[test]
        fn an_end_is_for_good(c in commitment_strategy(), a in 0u16..300, b in 0u16..300) {
            let (early, late) = (a.min(b), a.max(b));
            let s = c.standing(day(early));
            if s.state != State::Pending {
                prop_assert_eq!(c.standing(day(late)), s);
            }
        }

        /// A fulfilment dated after the due date never makes a commitment kept.
        #[test]
        fn late_fulfilment_never_counts(signed in 0u16..100, term in 0u16..60, lateness in proptest::collection::vec(1u16..100, 1..4), probe in 0u16..400) {
            let mut c = commitment(day(signed), Some(day(signed + term)));
            c.steps = lateness.iter().map(|l| Step::Fulfilled { on: day(signed + term + l), evidence: "e".into(), by: EndedBy::Import, actor: "a".into() }).collect();
            prop_assert_ne!(c.standing(day(probe)).state, State::Fulfilled);
        }

        /// A step the transitions accept holds from its day on.
        #[test]
        fn accepted_steps_hold(c in commitment_strategy(), on in 0u16..250, today in 0u16..250, keep in any::<bool>()) {
            let next = if keep { c.fulfil(day(on), "证明", "o", day(today)) } else { c.breach(day(on), "情形", "o", day(today)) };
            if let Ok(n) = next {
                let want = if keep { State::Fulfilled } else { State::Breached };
                prop_assert_eq!(n.standing(day(today)).state, want);
                prop_assert_eq!(n.standing(day(today)).on, Some(day(on)));
                prop_assert_eq!(n.recorded().state, want);
            }
        }
    }
}
