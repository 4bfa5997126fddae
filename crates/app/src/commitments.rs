//! Credit commitments (信用承诺) as obligations: signed here (the entity's own account,
//! or an officer recording a paper signature) for a matter of
//! `data/commitments/matters.toml`, or imported from a department's file; kept or
//! broken as the accepting department records, or broken by the clock the day after
//! the due date; each breach a negative record (`commitment_breach`) through intake.
//!
//! A commitment *is* a record of the catalog item `credit_commitment`: signing writes
//! that record through intake (so it is validated, published and shown like any
//! record), and the follower here takes every such record on as a commitment — the
//! ones signed here and the imported ones alike, so both join one life cycle. The
//! follower runs after every local write and on the server's catch-up tick:
//! 1. it reads the ledger from its cursor (`cursors`: `commitments`) and takes on each
//!    new `credit_commitment` record (`commitment.signed`), with the end its file
//!    reports (履约状态 已履约 / 未履约);
//! 2. the clock: every commitment still open past its due date is broken on the day
//!    after it (`commitment.breached`, by the clock);
//! 3. every breach without its record gets one through intake, under the accepting
//!    department's name, keyed by the commitment number — a department's own breach
//!    row for the same commitment stands instead.
//!
//! Each part is idempotent (the store refuses a commitment taken on twice, a stale
//! step, and intake sees a breach row sent again as a duplicate), so a crash, a
//! restart or a second process repeats nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, RwLock, TryLockError};

use serde::{Deserialize, Serialize};
use time::Date;
use xinyong_core::SubjectCode;
use xinyong_core::commitment::matters::{Matter, Matters};
use xinyong_core::commitment::{
    self, BREACH_ITEM, Channel, Commitment, CommitmentError, CommitmentKind, CommitmentRecord, EndedBy, ITEM, State,
};
use xinyong_core::event::Provenance;
use xinyong_core::lists::ListRules;
use xinyong_core::publication::{PublicationRules, RecordFacts, publicity_on};
use xinyong_core::record::date_string;
use xinyong_store::{Outcome, Store};

use crate::access::{Action, Caller, Scope, permit};
use crate::view::{event_day, facts_of, record_fields};
use crate::{App, AppError, Result, now_ms, parse_code, parse_day, today_shanghai};

/// The follower's name in the store's cursors.
const CURSOR: &str = "commitments";
/// Ledger events, or commitments, read per step.
const PAGE: u32 = 5_000;
/// The intake source of breach records the platform writes.
const BREACH_SOURCE: &str = "commitment-clock";

/// A breach record to write: the commitment's record id and the row.
type BreachRow = (i64, BTreeMap<String, String>);

/// One run of the follower at a time in this process, and the day it takes as today.
#[derive(Default)]
pub(crate) struct Following {
    running: Mutex<()>,
    /// Set by tests to walk commitments past their due dates (`App::set_clock_day`).
    day: RwLock<Option<Date>>,
}

/// What one run of the follower did.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct CommitmentRun {
    /// Ledger events read.
    pub events: u64,
    /// Commitments taken on from their records.
    pub taken_on: u64,
    /// Ends reported by departments' files (履约状态).
    pub reported: u64,
    /// Commitments the clock broke.
    pub overdue: u64,
    /// Breach records written (or found) and linked.
    pub breach_records: u64,
}

/// A request to sign a commitment.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct SignRequest {
    /// 事项编码, e.g. `M-SAMR-0002`.
    pub matter: String,
    /// The subject's code (an entity's own account: its own).
    pub code: String,
    /// The subject's name, when the platform does not know the subject yet.
    pub name: Option<String>,
    /// A day the subject promises instead of the matter's term (YYYY-MM-DD): never past
    /// the matter's processing deadline.
    #[schema(format = Date)]
    pub promised_by: Option<String>,
    /// A paper signature (officers): the day it was signed (default today).
    #[schema(format = Date)]
    pub signed_on: Option<String>,
    /// A paper signature: the number printed on it (default: one is given).
    pub number: Option<String>,
}

/// A department's record that a commitment was kept (with evidence) or broken (with
/// what was not kept).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct StepRequest {
    /// The day it was kept or broken (default today).
    #[schema(format = Date)]
    pub on: Option<String>,
    /// The evidence of fulfilment, or what was not kept.
    pub text: String,
    /// A serious breach (情节严重, breach only): the punishment list whose procedure
    /// starts now with prior notice (告知), e.g. `key_attention`, the commitment's
    /// matter as its basis. The department decides the listing later, as any other.
    pub propose_list: Option<String>,
}

/// A commitment as a caller sees it, with its standing on the day asked about.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CommitmentView {
    /// The commitment's record.
    pub record_id: i64,
    /// 承诺书编号.
    pub number: String,
    /// The subject's code (a person's masked).
    pub subject: String,
    pub matter: Option<String>,
    /// 承诺事项 as the record names it.
    pub matter_name: String,
    pub kind: Option<CommitmentKind>,
    /// The accepting department.
    pub department: String,
    #[schema(format = Date)]
    pub signed_on: String,
    /// 履约期限: none when no clock runs.
    #[schema(format = Date)]
    pub due: Option<String>,
    /// The due date was counted past the official calendar (statutory rule).
    pub due_provisional: bool,
    pub channel: Channel,
    pub state: State,
    /// 履约中 / 已履约 / 未履约.
    pub state_zh: String,
    #[schema(format = Date)]
    pub ended_on: Option<String>,
    pub ended_by: Option<EndedBy>,
    /// The evidence of fulfilment, or what was not kept.
    pub note: Option<String>,
    /// The breach record (`commitment_breach`), once written.
    pub breach_record: Option<i64>,
    /// The `commitment.signed` event and the latest step's.
    pub first_event: u64,
    pub last_event: u64,
    /// The listing whose procedure a serious breach started (the answer to that breach).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listing_proposed: Option<i64>,
}

impl CommitmentView {
    pub(crate) fn of(c: &Commitment, matter_name: &str, day: Date) -> CommitmentView {
        let s = c.standing(day);
        let subject =
            SubjectCode::parse(&c.subject).map_or_else(|_| xinyong_core::codes::mask_id(&c.subject), |k| k.display());
        CommitmentView {
            record_id: c.record_id,
            number: c.number.clone(),
            subject,
            matter: c.matter.clone(),
            matter_name: matter_name.to_string(),
            kind: c.kind,
            department: c.department.clone(),
            signed_on: date_string(c.signed_on),
            due: c.due.map(date_string),
            due_provisional: c.due_provisional,
            channel: c.channel,
            state: s.state,
            state_zh: s.state.name_zh().to_string(),
            ended_on: s.on.map(date_string),
            ended_by: s.by,
            note: s.text,
            breach_record: c.breach_record,
            first_event: c.first_event,
            last_event: c.last_event,
            listing_proposed: None,
        }
    }
}

/// Counts of a subject's commitments as a view shows them: the fulfilment rate other
/// features use (grading) is `fulfilled` out of `fulfilled + breached`.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct CommitmentSummary {
    pub total: usize,
    pub pending: usize,
    pub fulfilled: usize,
    pub breached: usize,
    /// ‰ of the ended ones kept; none while none ended.
    pub fulfilment_permille: Option<u32>,
}

impl CommitmentSummary {
    pub fn of(views: &[CommitmentView]) -> CommitmentSummary {
        let count = |s: State| views.iter().filter(|v| v.state == s).count();
        let (fulfilled, breached) = (count(State::Fulfilled), count(State::Breached));
        let ended = fulfilled + breached;
        CommitmentSummary {
            total: views.len(),
            pending: count(State::Pending),
            fulfilled,
            breached,
            fulfilment_permille: (ended > 0).then(|| (fulfilled * 1000 / ended) as u32),
        }
    }
}

/// A subject's commitments as a caller may see them on a day.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubjectCommitments {
    #[schema(format = Date)]
    pub as_of: String,
    pub commitments: Vec<CommitmentView>,
    pub summary: CommitmentSummary,
}

/// A department's commitments, as its queue shows them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DepartmentCommitments {
    /// The accepting department.
    pub department: String,
    #[schema(format = Date)]
    pub as_of: String,
    /// Record order.
    pub commitments: Vec<CommitmentView>,
    /// Pass as `after` for the next page; none on the last.
    pub next_after: Option<i64>,
}

/// A commitment as its page shows it: its record (with the text signed), the matter,
/// the information registered with it (a registration's truthfulness commitment), and
/// whether the caller may record its fulfilment or breach.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CommitmentDetail {
    /// The subject's code (a person's masked).
    pub subject: String,
    pub subject_name: String,
    pub record: crate::view::RecordView,
    pub matter: Option<Matter>,
    /// The information registered with it (自愿注册), if this is its truthfulness commitment.
    pub registration: Option<crate::view::RecordView>,
    /// The caller is the accepting department and the commitment is still open.
    pub may_record: bool,
}

/// What signing a matter's commitment would give a subject today: the text, the due
/// date, or why the subject may not use it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CommitmentPreview {
    pub matter: Matter,
    /// The name the text carries (the registered one), if the platform knows the subject.
    pub subject_name: Option<String>,
    pub text: String,
    #[schema(format = Date)]
    pub due: Option<String>,
    pub due_provisional: bool,
    /// Why the subject may not use this matter's commitment ("中文 / English").
    pub excluded: Option<String>,
}

fn step_error(e: CommitmentError) -> AppError {
    let text = e.to_string();
    let (zh, en) = text.split_once(" / ").map_or((text.as_str(), text.as_str()), |(z, x)| (z, x));
    AppError::invalid(e.code(), zh, en)
}

/// What a breach record tells the subject (its inbox), and the accepting department
/// when the clock found the breach (a department that recorded or reported it knows).
fn breach_notifications(c: &Commitment) -> Vec<xinyong_store::NewNotification> {
    let breach = c.recorded();
    let why = breach.text.unwrap_or_default();
    let recipients: &[&str] = if breach.by == Some(EndedBy::Clock) { &["subject", "department"] } else { &["subject"] };
    let text_zh =
        format!("承诺 {} 已认定未履约（{why}），违诺信息已记入信用记录，可依法提出异议或申请信用修复", c.number);
    let text_en = format!(
        "commitment {} was found broken ({why}); the breach is on the credit record, open to objection and repair",
        c.number
    );
    recipients
        .iter()
        .map(|&kind| xinyong_store::NewNotification {
            recipient_kind: kind.to_string(),
            recipient: if kind == "subject" { c.subject.clone() } else { c.department.clone() },
            subject_code: c.subject.clone(),
            topic: "commitment_breached".to_string(),
            text_zh: text_zh.clone(),
            text_en: text_en.clone(),
        })
        .collect()
}

/// A list a serious breach may start the procedure of: a punishment list decided by
/// departments (not one that follows from records), without a ban's scope.
fn proposable_list(code: &str) -> Result<&'static xinyong_core::lists::ListType> {
    use xinyong_core::lists::{EntriesFrom, ListKind};
    ListRules::bundled()
        .list_type(code)
        .filter(|lt| lt.kind == ListKind::Punishment && lt.entries_from == EntriesFrom::Decisions && !lt.scoped)
        .ok_or_else(|| {
            AppError::invalid(
                "list_not_proposable",
                format!("违背承诺不能启动“{code}”的列入程序（须为由部门认定的惩戒类名单）"),
                format!("a breach cannot start a listing of {code:?} (a punishment list departments decide)"),
            )
        })
}

fn matters() -> Result<&'static Matters> {
    Matters::bundled().map_err(|e| AppError::Internal(format!("data/commitments/matters.toml: {e}")))
}

fn provenance(provider: &str, source: &str) -> Provenance {
    let at = now_ms();
    Provenance {
        at,
        batch: format!("commitment-{at}"),
        provider: provider.to_string(),
        source: source.to_string(),
        row: None,
    }
}

/// A subject's list entries in force on `day`, by list type, and whether a breach of
/// a commitment is published about it that day.
fn standing_of_subject(app: &App, s: &dyn Store, code: &str, day: Date) -> Result<(Vec<String>, bool)> {
    let listed: BTreeSet<String> =
        s.listings_of(code)?.into_iter().filter(|l| l.in_force_on(day)).map(|l| l.list_type).collect();
    Ok((listed.into_iter().collect(), breach_published(app, s, code, day)?))
}

/// Whether a breach of a commitment is published about the subject on `day` (not
/// revoked, not repaired, inside its window): what excludes it from another 告知承诺.
fn breach_published(app: &App, s: &dyn Store, code: &str, day: Date) -> Result<bool> {
    let Some(item) = app.catalog().item(BREACH_ITEM) else { return Ok(false) };
    for row in s.breach_records_of(code)?.iter().filter(|r| r.revoked_event.is_none()) {
        let fields = record_fields(s, row)?;
        let repaired_on = event_day(s, row.repaired_event)?;
        let facts = RecordFacts { repaired_on, ..facts_of(item, row, &fields, None) };
        if publicity_on(PublicationRules::bundled(), &app.calendar(), &facts, day).public {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether a subject may use a matter's commitment, as a check answers it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CommitmentUse {
    /// 事项编码.
    pub matter: String,
    pub matter_name: String,
    pub kind: CommitmentKind,
    /// The accepting department.
    pub department: String,
    /// False: the matter's rule excludes the subject; the matter is handled without a
    /// commitment (the papers and conditions are checked before the decision).
    pub may_use: bool,
    /// The excluded list types the subject is on that day.
    pub excluded_by_lists: Vec<String>,
    /// A breach of a commitment is still published about the subject.
    pub excluded_by_breach: bool,
    /// Why not, "中文 / English".
    pub reason: Option<String>,
    /// The basis of the matter's exclusion rule.
    pub basis: String,
}

impl App {
    /// The day the commitment clock and steps take as today (Asia/Shanghai, unless a
    /// test set another).
    pub fn clock_day(&self) -> Date {
        self.inner.commitments.day.read().unwrap_or_else(|e| e.into_inner()).unwrap_or_else(today_shanghai)
    }

    /// Sets the day the commitment clock and steps take as today (`None`: the real one).
    /// Tests walk a commitment past its due date with it.
    #[doc(hidden)]
    pub fn set_clock_day(&self, day: Option<Date>) {
        *self.inner.commitments.day.write().unwrap_or_else(|e| e.into_inner()) = day;
    }

    /// The matters a commitment may be used for (告知承诺事项清单).
    pub fn commitment_matters(&self) -> Result<&'static Matters> {
        matters()
    }

    /// Whether `code` may use `matter`'s commitment on `day`: `None`, or the reason
    /// (Chinese, English) with the basis.
    pub fn commitment_exclusion(&self, matter: &Matter, code: &str, day: Date) -> Result<Option<(String, String)>> {
        let (listed, breach) = self.db().read(|s| standing_of_subject(self, s, code, day))?;
        let listed: Vec<&str> = listed.iter().map(String::as_str).collect();
        Ok(matter.exclusion(&listed, breach).map(|e| e.reason(matter, ListRules::bundled())))
    }

    /// Whether `code` may use `matter`'s commitment on `day`, given the list types it is
    /// on that day (as the check index answered them): the breach part is read from
    /// the store.
    pub(crate) fn commitment_use(
        &self,
        matter: &Matter,
        code: &str,
        listed: &[&str],
        day: Date,
    ) -> Result<CommitmentUse> {
        let breach = matter.exclude_after_breach && self.db().read(|s| breach_published(self, s, code, day))?;
        let exclusion = matter.exclusion(listed, breach);
        let reason = exclusion.as_ref().map(|e| {
            let (zh, en) = e.reason(matter, ListRules::bundled());
            format!("{zh} / {en}")
        });
        Ok(CommitmentUse {
            matter: matter.code.clone(),
            matter_name: matter.name_zh.clone(),
            kind: matter.kind,
            department: matter.department.clone(),
            may_use: exclusion.is_none(),
            excluded_by_lists: exclusion.as_ref().map(|e| e.lists.clone()).unwrap_or_default(),
            excluded_by_breach: exclusion.as_ref().is_some_and(|e| e.breach),
            reason,
            basis: matter.basis.clone(),
        })
    }

    /// Signs a commitment: the entity's own account online (dated today), or an officer
    /// of the accepting department recording a paper signature (dated as signed). Refused
    /// when the matter's rule excludes the subject (lists in force, a breach still
    /// published), with the reason and the basis. The record goes through intake under
    /// the department's name; the follower takes it on before the answer leaves.
    pub fn sign_commitment(&self, caller: &Caller, req: &SignRequest) -> Result<CommitmentView> {
        if !caller.is_signed_in() {
            return Err(AppError::Unauthenticated);
        }
        let matter = matters()?.matter(&req.matter).ok_or_else(|| {
            AppError::invalid(
                "unknown_matter",
                format!("承诺事项清单中没有“{}”", req.matter),
                format!("no matter {:?} in the commitment matters list", req.matter),
            )
        })?;
        if matter.registration {
            return Err(AppError::invalid(
                "registration_only",
                format!("“{}”随自愿注册的信息一并签署，请通过自愿注册提交", matter.name_zh),
                format!("{} is signed with a voluntary registration: register the information instead", matter.code),
            ));
        }
        self.sign_matter(caller, matter, req)
    }

    /// Signs `matter`'s commitment for `req.code` (see [`App::sign_commitment`]).
    pub(crate) fn sign_matter(&self, caller: &Caller, matter: &Matter, req: &SignRequest) -> Result<CommitmentView> {
        let code = parse_code(&req.code)?;
        let scope = permit(caller, Action::SignCommitment { subject: code.key(), department: &matter.department })?;
        let today = self.clock_day();
        let online = matches!(scope, Scope::Subject(_));
        if online && (req.signed_on.is_some() || req.number.is_some()) {
            return Err(AppError::invalid(
                "online_signature",
                "网上签署以当日为承诺日期、由平台编号",
                "an online signature is dated today and numbered by the platform",
            ));
        }
        let signed_on = match req.signed_on.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(d) => parse_day("signed_on", d)?,
            None => today,
        };
        if signed_on > today {
            return Err(step_error(CommitmentError::Future { on: date_string(signed_on), today: date_string(today) }));
        }
        if let Some((zh, en)) = self.commitment_exclusion(matter, code.key(), signed_on)? {
            return Err(AppError::invalid("commitment_excluded", zh, en));
        }
        let promised = req.promised_by.as_deref().map(|d| parse_day("promised_by", d)).transpose()?;
        let due = matter.due(signed_on, promised, &self.calendar()).map_err(step_error)?;
        let (stored_name, numbers) = self.db().read(|s| {
            let name = s.subject(code.key())?.map(|r| r.name);
            let numbers: BTreeSet<String> = s
                .records_of(code.key())?
                .into_iter()
                .filter(|r| r.item == ITEM && r.provider == matter.department)
                .map(|r| r.key)
                .collect();
            Ok((name, numbers))
        })?;
        let name = match (stored_name, req.name.as_deref().map(str::trim).filter(|n| !n.is_empty())) {
            (Some(n), _) => n,
            (None, Some(n)) => n.to_string(),
            (None, None) => {
                return Err(AppError::invalid(
                    "name_required",
                    "平台尚无该主体，请填写主体名称",
                    "the platform does not know this subject yet: give its name",
                ));
            }
        };
        let number = match req.number.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) if numbers.contains(n) => {
                return Err(AppError::Conflict(format!(
                    "承诺书编号 {n} 已登记 / commitment number {n} is already recorded"
                )));
            }
            Some(n) => n.to_string(),
            None => {
                let day = date_string(signed_on).replace('-', "");
                // random, so two processes signing at once do not pick one number
                let pick = || format!("{}-{day}-{:06}", matter.code, rand::random::<u32>() % 1_000_000);
                let mut n = pick();
                while numbers.contains(&n) {
                    n = pick();
                }
                n
            }
        };
        let text = matter.render(&name, &code.display(), signed_on, due.map(|d| d.date));
        let mut row: BTreeMap<String, String> = [
            ("承诺主体名称", name),
            ("统一社会信用代码", code.key().to_string()),
            ("承诺类型", matter.kind.record_value().to_string()),
            ("承诺事项", matter.name_zh.clone()),
            ("承诺书编号", number),
            ("承诺日期", date_string(signed_on)),
            ("承诺受理单位", matter.department.clone()),
            ("承诺内容", text),
            ("事项编码", matter.code.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        if let Some(d) = due {
            row.insert("履约期限".to_string(), date_string(d.date));
        }
        // the state lives in the life cycle, not in a field that would go stale
        let channel = if online { Channel::Online } else { Channel::Paper };
        let out =
            crate::intake::ingest_rows(self, ITEM, &matter.department, &channel.source(&caller.actor_name()), &[row])?;
        let record_id = match out.rows.first() {
            Some(r) => match &r.outcome {
                Outcome::Accepted { record_id, .. } => *record_id,
                Outcome::Quarantined { .. } => return Err(AppError::fields("commitment_invalid", &r.errors)),
                _ => {
                    return Err(AppError::Conflict("该承诺书已登记 / this commitment is already recorded".to_string()));
                }
            },
            None => return Err(AppError::Internal("intake returned no row".into())),
        };
        self.follow_commitments(true)?;
        self.commitment_view(record_id, today)
    }

    fn commitment_view(&self, record_id: i64, day: Date) -> Result<CommitmentView> {
        let (c, name) = self.db().read(|s| {
            let c = s.commitment(record_id)?;
            let name = match s.record(record_id)? {
                Some(r) => record_fields(s, &r)?.get("承诺事项").cloned().unwrap_or_default(),
                None => String::new(),
            };
            Ok((c, name))
        })?;
        let c = c.ok_or_else(|| AppError::NotFound(format!("承诺 {record_id} / commitment {record_id}")))?;
        Ok(CommitmentView::of(&c, &name, day))
    }

    /// A step on a stored commitment by its accepting department.
    fn commitment_step(
        &self,
        caller: &Caller,
        record_id: i64,
        req: &StepRequest,
        channel: &str,
        step: impl Fn(&Commitment, Date, &str, &str, Date) -> std::result::Result<Commitment, CommitmentError>,
    ) -> Result<CommitmentView> {
        if !caller.is_signed_in() {
            return Err(AppError::Unauthenticated);
        }
        let (c, revoked) = self.db().read(|s| {
            let revoked = s.record(record_id)?.is_some_and(|r| r.revoked_event.is_some());
            Ok((s.commitment(record_id)?, revoked))
        })?;
        let c = c.ok_or_else(|| AppError::NotFound(format!("承诺 {record_id} / commitment {record_id}")))?;
        permit(caller, Action::CommitmentStep { department: &c.department })?;
        if revoked {
            return Err(AppError::invalid(
                "commitment_revoked",
                "承诺记录已撤销，不再记录履约情况",
                "the commitment's record was revoked: nothing more is recorded on it",
            ));
        }
        let today = self.clock_day();
        let on = match req.on.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(d) => parse_day("on", d)?,
            None => today,
        };
        let next = step(&c, on, &req.text, &caller.actor_name(), today).map_err(step_error)?;
        let p = provenance(&c.department, channel);
        self.db().write(|s| Ok(s.put_commitments(&[next], &p, self.key(), p.at)?))?;
        // a breach becomes its record now, not on the next tick
        self.follow_commitments(true)?;
        self.after_write();
        self.commitment_view(record_id, today)
    }

    /// Records that a commitment was kept (已履约), with the evidence: an officer of the
    /// accepting department. Refused once it ended (the clock included) and for a day
    /// after the due date (late performance is no fulfilment).
    pub fn fulfil_commitment(
        &self,
        caller: &Caller,
        record_id: i64,
        req: &StepRequest,
        channel: &str,
    ) -> Result<CommitmentView> {
        if req.propose_list.as_deref().is_some_and(|l| !l.trim().is_empty()) {
            return Err(AppError::invalid(
                "listing_on_fulfilment",
                "履约不启动名单程序",
                "a fulfilment starts no listing procedure",
            ));
        }
        self.commitment_step(caller, record_id, req, channel, Commitment::fulfil)
    }

    /// Records that a commitment was broken (未履约), with what was not kept: an officer of
    /// the accepting department. Its breach record is written before the answer leaves.
    pub fn breach_commitment(
        &self,
        caller: &Caller,
        record_id: i64,
        req: &StepRequest,
        channel: &str,
    ) -> Result<CommitmentView> {
        let list = req.propose_list.as_deref().map(str::trim).filter(|l| !l.is_empty());
        let list_type = list.map(proposable_list).transpose()?;
        let mut view = self.commitment_step(caller, record_id, req, channel, Commitment::breach)?;
        if let Some(lt) = list_type {
            let c = self
                .db()
                .read(|s| Ok(s.commitment(record_id)?))?
                .ok_or_else(|| AppError::NotFound(format!("承诺 {record_id} / commitment {record_id}")))?;
            let basis = c
                .matter
                .as_deref()
                .and_then(|m| matters().ok()?.matter(m))
                .map_or_else(|| "《国务院办公厅关于加快推进社会信用体系建设构建以信用为基础的新型监管机制的指导意见》（国办发〔2019〕35号）".to_string(), |m| m.basis.clone());
            let listing = crate::listings::ListingRequest {
                code: c.subject.clone(),
                list_type: lt.code.clone(),
                basis: Some(basis),
                reason: format!("违背信用承诺，情节严重（承诺书编号 {}）：{}", c.number, req.text.trim()),
                notice_date: Some(date_string(self.clock_day().min(today_shanghai()))),
                persons: Vec::new(),
                scope: None,
                decision: None,
                department: Some(c.department.clone()),
            };
            let answer = self.propose_listing(caller, listing, channel)?;
            view.listing_proposed = Some(answer.listing.id);
        }
        Ok(view)
    }

    /// A commitment's page, as `caller` may see its record today.
    pub fn commitment_detail(&self, caller: &Caller, record_id: i64) -> Result<CommitmentDetail> {
        let not_found = || AppError::NotFound(format!("承诺 {record_id} / commitment {record_id}"));
        let c = self.db().read(|s| Ok(s.commitment(record_id)?))?.ok_or_else(not_found)?;
        let code = parse_code(&c.subject)?;
        let today = today_shanghai();
        let view = self.subject_items(caller, &code, today, None, None)?.ok_or_else(not_found)?;
        let mut record = None;
        let mut registration = None;
        for r in view.records {
            if r.id == record_id {
                record = Some(r);
            } else if r.declaration.as_ref().is_some_and(|d| d.commitment_record == record_id) {
                registration = Some(r);
            }
        }
        let record = record.ok_or_else(not_found)?;
        let open = record.commitment.as_ref().is_some_and(|v| v.state == State::Pending) && record.status != "revoked";
        let may_record = open && permit(caller, Action::CommitmentStep { department: &c.department }).is_ok();
        let matter = c.matter.as_deref().and_then(|m| matters().ok()?.matter(m)).cloned();
        Ok(CommitmentDetail { subject: view.code, subject_name: view.name, record, matter, registration, may_record })
    }

    /// The text and due date a subject would sign for `matter` today, or why it may not.
    pub fn commitment_preview(&self, matter: &str, code: &str) -> Result<CommitmentPreview> {
        let matter = matters()?.matter(matter).ok_or_else(|| {
            AppError::invalid(
                "unknown_matter",
                format!("承诺事项清单中没有“{matter}”"),
                format!("no matter {matter:?} in the commitment matters list"),
            )
        })?;
        let code = parse_code(code)?;
        let today = self.clock_day();
        let subject_name = self.db().read(|s| Ok(s.subject(code.key())?.map(|r| r.name)))?;
        let due = matter.due(today, None, &self.calendar()).map_err(step_error)?;
        let text = matter.render(
            subject_name.as_deref().unwrap_or("（主体名称）"),
            &code.display(),
            today,
            due.map(|d| d.date),
        );
        let excluded = self.commitment_exclusion(matter, code.key(), today)?.map(|(zh, en)| format!("{zh} / {en}"));
        Ok(CommitmentPreview {
            matter: matter.clone(),
            subject_name,
            text,
            due: due.map(|d| date_string(d.date)),
            due_provisional: due.is_some_and(|d| d.provisional),
            excluded,
        })
    }

    /// The commitments a department accepted (its queue): an officer's own
    /// department's, or the one the centre names; in one state if asked (`pending`:
    /// still to verify or record), each with where it stands on the clock's day.
    pub fn department_commitments(
        &self,
        caller: &Caller,
        department: Option<&str>,
        state: Option<&str>,
        after: i64,
        limit: u32,
    ) -> Result<DepartmentCommitments> {
        let department = crate::access::acting_department(caller, department)?;
        permit(caller, Action::CommitmentStep { department: &department })?;
        let state = match state.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(State::parse(s).ok_or_else(|| {
                AppError::invalid(
                    "state",
                    format!("履约状态应为 pending、fulfilled 或 breached，实为“{s}”"),
                    format!("state must be pending, fulfilled or breached, got {s:?}"),
                )
            })?),
        };
        let today = self.clock_day();
        let (page, names) = self.db().read(|s| {
            let page = s.commitments_of_department(&department, state.map(State::as_str), after, limit)?;
            let ids: Vec<i64> = page.iter().map(|c| c.record_id).collect();
            let mut names = BTreeMap::new();
            for row in s.records_by_ids(&ids)? {
                let name = record_fields(s, &row)?.get("承诺事项").cloned().unwrap_or_default();
                names.insert(row.id, name);
            }
            Ok((page, names))
        })?;
        let next_after = (page.len() as u32 == limit).then(|| page.last().map(|c| c.record_id)).flatten();
        let commitments = page
            .iter()
            .map(|c| CommitmentView::of(c, names.get(&c.record_id).map_or("", String::as_str), today))
            .collect();
        Ok(DepartmentCommitments { department, as_of: date_string(today), commitments, next_after })
    }

    /// A subject's commitments as `caller` may see their records on `as_of` (the
    /// catalog's disclosure and publication decide, as on the subject page), each with
    /// its standing that day, and the counts.
    pub fn commitments_of(
        &self,
        caller: &Caller,
        code: &SubjectCode,
        as_of: Date,
        purpose: Option<String>,
    ) -> Result<SubjectCommitments> {
        let Some(view) = self.subject_items(caller, code, as_of, purpose, Some(ITEM))? else {
            return Err(AppError::NotFound(format!("主体 {} / subject {}", code.display(), code.display())));
        };
        let commitments: Vec<CommitmentView> = view.records.into_iter().filter_map(|r| r.commitment).collect();
        let summary = CommitmentSummary::of(&commitments);
        Ok(SubjectCommitments { as_of: date_string(as_of), commitments, summary })
    }

    /// Runs the follower: takes on new commitment records, lets the clock break what is
    /// overdue, writes the breach records. `wait`: wait for a run in progress (a use
    /// case that needs its result); otherwise a run in progress (this thread's own,
    /// reached again through intake) is left to finish alone.
    pub fn follow_commitments(&self, wait: bool) -> Result<CommitmentRun> {
        let _one = match self.inner.commitments.running.try_lock() {
            Ok(g) => g,
            Err(TryLockError::Poisoned(e)) => e.into_inner(),
            Err(TryLockError::WouldBlock) if wait => {
                self.inner.commitments.running.lock().unwrap_or_else(|e| e.into_inner())
            }
            Err(TryLockError::WouldBlock) => return Ok(CommitmentRun::default()),
        };
        let mut run = CommitmentRun::default();
        if !self.take_on(&mut run)? {
            return Ok(run);
        }
        self.clock(&mut run)?;
        self.write_breach_records(&mut run)?;
        Ok(run)
    }

    /// Part 1: the ledger since the cursor. False when another process wrote first
    /// (this run stops; the next one starts again from the cursor).
    fn take_on(&self, run: &mut CommitmentRun) -> Result<bool> {
        let today = self.clock_day();
        let (mut from, size) = self.db().read(|s| Ok((s.cursor(CURSOR)?, s.ledger_size()?)))?;
        let calendar = self.calendar();
        while from < size {
            let refs = self.db().read(|s| Ok(s.event_refs(from, PAGE)?))?;
            let Some(last) = refs.last() else { break };
            let next = last.index + 1;
            run.events += refs.len() as u64;
            let ids: Vec<i64> =
                refs.iter().filter(|r| r.kind.starts_with("record.")).filter_map(|r| r.record_id).collect();
            let mut writes = Vec::new();
            if !ids.is_empty() {
                self.db().read(|s| {
                    for row in s.records_by_ids(&ids)? {
                        if row.item != ITEM || row.revoked_event.is_some() {
                            continue;
                        }
                        let Some(ev) = s.event(row.event_index)? else { continue };
                        let Ok(body) = xinyong_core::event::EventBody::from_bytes(&ev.payload) else { continue };
                        let fields = body.fields.unwrap_or_default();
                        // never after the clock's day (the same day but for tests walking it)
                        let received = crate::view::shanghai_date(body.at).min(today);
                        let reported = commitment::reported_state(&fields);
                        let (c, new) = match s.commitment(row.id)? {
                            Some(c) => (c, false),
                            None => {
                                let r = CommitmentRecord {
                                    id: row.id,
                                    subject: &row.subject_code,
                                    provider: &row.provider,
                                    fields: &fields,
                                    source: &body.source,
                                };
                                match commitment::from_record(&r, &calendar) {
                                    Some(c) => (c, true),
                                    None => continue,
                                }
                            }
                        };
                        let ended = reported.and_then(|(state, on)| c.reported(state, on, received, &row.provider));
                        if new {
                            run.taken_on += 1;
                        }
                        if ended.is_some() {
                            run.reported += 1;
                        }
                        match ended {
                            Some(e) => writes.push(e),
                            None if new => writes.push(c),
                            None => {}
                        }
                    }
                    Ok(())
                })?;
            }
            if !writes.is_empty() {
                let p = provenance("信用平台", "data/commitments/matters.toml");
                match self.db().write(|s| Ok(s.put_commitments(&writes, &p, self.key(), p.at)?)) {
                    Ok(_) => {}
                    // another process took one of these on since we read: start again from
                    // the cursor on the next run, from what it stored
                    Err(AppError::Conflict(e)) => {
                        tracing::info!(error = %e, "commitments: conflict, retrying on the next run");
                        return Ok(false);
                    }
                    Err(e) => return Err(e),
                }
            }
            self.db().write(|s| Ok(s.set_cursor(CURSOR, next)?))?;
            from = next;
        }
        Ok(true)
    }

    /// Part 2: the clock. Every commitment still open past its due date is broken on
    /// the day after it.
    fn clock(&self, run: &mut CommitmentRun) -> Result<()> {
        let today = self.clock_day();
        let day = date_string(today);
        let mut after = 0;
        loop {
            let (due, revoked) = self.db().read(|s| {
                let due = s.commitments_overdue(&day, after, PAGE)?;
                let ids: Vec<i64> = due.iter().map(|c| c.record_id).collect();
                let revoked: BTreeSet<i64> =
                    s.records_by_ids(&ids)?.into_iter().filter(|r| r.revoked_event.is_some()).map(|r| r.id).collect();
                Ok((due, revoked))
            })?;
            let Some(last) = due.last() else { return Ok(()) };
            after = last.record_id;
            // a revoked commitment binds nobody: the clock leaves it alone
            let broken: Vec<Commitment> =
                due.iter().filter(|c| !revoked.contains(&c.record_id)).filter_map(|c| c.clock(today)).collect();
            if !broken.is_empty() {
                let p = provenance("信用平台", BREACH_SOURCE);
                match self.db().write(|s| Ok(s.put_commitments(&broken, &p, self.key(), p.at)?)) {
                    Ok(_) => run.overdue += broken.len() as u64,
                    Err(AppError::Conflict(e)) => {
                        tracing::info!(error = %e, "commitment clock: conflict, retrying on the next run");
                        return Ok(());
                    }
                    Err(e) => return Err(e),
                }
            }
        }
    }

    /// Part 3: a breach record (`commitment_breach`) for every broken commitment, through
    /// intake under its department's name; a record the department sent for the same
    /// commitment number stands instead.
    fn write_breach_records(&self, run: &mut CommitmentRun) -> Result<()> {
        let today = self.clock_day();
        let mut after = 0;
        loop {
            let page = self.db().read(|s| Ok(s.commitments_without_breach_record(after, PAGE)?))?;
            let Some(last) = page.last() else { return Ok(()) };
            after = last.record_id;
            let mut links = Vec::new();
            // breach records written now: the subject and the department are told
            let mut told = Vec::new();
            let mut rows: BTreeMap<String, Vec<BreachRow>> = BTreeMap::new();
            let mut refusals = Vec::new();
            self.db().read(|s| {
                for c in &page {
                    // a breach a department dated ahead is recorded on its day (intake
                    // refuses a decision in the future); a refused row waits in the store
                    // for its quarantine entry or the commitment to change
                    if c.recorded().on.is_some_and(|d| d > today) {
                        continue;
                    }
                    let existing = s
                        .records_of(&c.subject)?
                        .into_iter()
                        .find(|r| r.item == BREACH_ITEM && r.provider == c.department && r.key == c.number);
                    if let Some(r) = existing {
                        links.push((c.record_id, r.id));
                        continue;
                    }
                    let Some(rec) = s.record(c.record_id)? else { continue };
                    if let Some(row) = commitment::breach_row(c, &record_fields(s, &rec)?) {
                        rows.entry(c.department.clone()).or_default().push((c.record_id, row));
                    }
                }
                Ok(())
            })?;
            for (department, entries) in rows {
                let batch: Vec<BTreeMap<String, String>> = entries.iter().map(|(_, r)| r.clone()).collect();
                let out = crate::intake::ingest_rows(self, BREACH_ITEM, &department, BREACH_SOURCE, &batch)?;
                for ((commitment, _), result) in entries.iter().zip(&out.rows) {
                    match &result.outcome {
                        Outcome::Accepted { record_id, .. } => {
                            links.push((*commitment, *record_id));
                            told.extend(page.iter().find(|c| c.record_id == *commitment).map(breach_notifications));
                        }
                        Outcome::Corrected { record_id, .. } | Outcome::Duplicate { record_id } => {
                            links.push((*commitment, *record_id))
                        }
                        Outcome::Quarantined { quarantine_id, .. } => {
                            tracing::warn!(
                                commitment,
                                quarantine_id,
                                "the breach record of a commitment was refused by intake; see the quarantine"
                            );
                            if let Some(c) = page.iter().find(|c| c.record_id == *commitment) {
                                refusals.push((c.record_id, *quarantine_id, c.last_event));
                            }
                        }
                    }
                }
            }
            for (commitment, record) in &links {
                self.db().write(|s| Ok(s.link_breach_record(*commitment, *record)?))?;
            }
            if !refusals.is_empty() {
                self.db().write(|s| Ok(s.mark_breach_refused(&refusals)?))?;
            }
            // after the links: a crash in between tells nobody rather than twice
            for notifications in told {
                let change = xinyong_store::Change { notifications, ..xinyong_store::Change::default() };
                self.write_change(change, "信用平台", BREACH_SOURCE)?;
            }
            run.breach_records += links.len() as u64;
        }
    }
}
