//! Listing use cases: each step of the procedure is permitted by [`crate::access`],
//! checked by the pure rules of `core::listing` and then recorded by the store as one
//! ledger event; the projections learn of it before the answer leaves. Also the
//! public lists and a listing as each caller may see it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::Date;
use xinyong_core::codes::mask_id;
use xinyong_core::event::{EventKind, Provenance};
use xinyong_core::listing::{self, Before, Decision, Listing, ListingStatus, Notice, Removal, RemovalKind};
use xinyong_core::lists::ListRules;
use xinyong_core::record::date_string;
use xinyong_ledger::SignedHead;
use xinyong_store::ListingFilter;

pub use xinyong_core::listing::ResponsiblePerson;

use crate::access::{Action, Caller, acting_department, permit};
use crate::{App, AppError, Result, day_or_today, now_ms, parse_code, parse_day};

/// Who records a step and through which channel (`api`, `portal`, `demo`, `cli`).
#[derive(Debug, Clone)]
pub struct Actor {
    pub department: String,
    pub channel: String,
}

fn provenance(actor: &Actor) -> Provenance {
    let at = now_ms();
    Provenance {
        at,
        batch: format!("listing-{at}"),
        provider: actor.department.clone(),
        source: actor.channel.clone(),
        row: None,
    }
}

fn refused(e: Vec<listing::StepError>) -> AppError {
    AppError::Refused(e.iter().map(|e| e.to_string()).collect())
}

fn stored(app: &App, id: i64) -> Result<Listing> {
    app.db().read(|s| Ok(s.listing(id)?)).and_then(|l| l.ok_or_else(|| not_found(id)))
}

fn not_found(id: i64) -> AppError {
    AppError::NotFound(format!("名单记录 {id} / listing {id}"))
}

fn put(app: &App, l: &Listing, kind: EventKind, actor: &Actor) -> Result<(Listing, SignedHead)> {
    let now = now_ms();
    let out = app.db().write(|s| Ok(s.put_listing(l, kind, &provenance(actor), app.key(), now)?))?;
    app.after_write();
    Ok(out)
}

/// Prior notice of an intended listing (the first step).
pub fn notice(app: &App, n: Notice, actor: &Actor, today: Date) -> Result<(Listing, SignedHead)> {
    let l = listing::notice(ListRules::bundled(), &app.calendar(), n, today).map_err(refused)?;
    put(app, &l, EventKind::ListingNoticed, actor)
}

/// The subject's objection within the window.
pub fn object(app: &App, id: i64, date: Date, text: &str, actor: &Actor, today: Date) -> Result<(Listing, SignedHead)> {
    let current = stored(app, id)?;
    let l = listing::object(&current, date, text, today).map_err(refused)?;
    put(app, &l, EventKind::ListingObjected, actor)
}

/// The decision on a noticed listing (`Ok(id)`), or a direct decision (`Err(notice)`:
/// only for list types that need no notice).
pub fn decide(
    app: &App,
    on: std::result::Result<i64, Notice>,
    d: Decision,
    actor: &Actor,
    today: Date,
) -> Result<(Listing, SignedHead)> {
    let rules = ListRules::bundled();
    let l = match on {
        Ok(id) => {
            let current = stored(app, id)?;
            listing::decide(rules, Before::Noticed(&current), d, today)
        }
        Err(n) => listing::decide(rules, Before::Direct(n), d, today),
    }
    .map_err(refused)?;
    put(app, &l, EventKind::ListingDecided, actor)
}

/// Removal of a listed entry, or withdrawal of a noticed one.
pub fn remove(app: &App, id: i64, r: Removal, actor: &Actor, today: Date) -> Result<(Listing, SignedHead)> {
    let current = stored(app, id)?;
    let l = listing::remove(ListRules::bundled(), &current, r, today).map_err(refused)?;
    put(app, &l, EventKind::ListingRemoved, actor)
}

/// The decision document a demo or benchmark listing carries: every field the list type
/// requires, worded as a real decision would be.
pub fn sample_document(list_type: &str, basis: &str) -> std::collections::BTreeMap<String, String> {
    let rules = ListRules::bundled();
    let mut doc = std::collections::BTreeMap::new();
    let Some(lt) = rules.list_type(list_type) else { return doc };
    for f in &lt.decision_document_fields {
        let text = match f.code.as_str() {
            "reason" => "经查，该主体存在本决定所列失信行为，事实清楚、证据确凿。".to_string(),
            "basis" => basis.to_string(),
            "measures_notice" => "列入期间将依法依规在政府采购、招标投标、财政资金、评先评优等方面受到限制。".into(),
            "removal" => match lt.early_removal_after {
                Some(p) if p.months() % 12 == 0 => {
                    format!("有效期届满自动移出；列入满 {} 年且已纠正失信行为的，可申请提前移出。", p.months() / 12)
                }
                Some(p) => {
                    format!("有效期届满自动移出；列入满 {} 个月且已纠正失信行为的，可申请提前移出。", p.months())
                }
                None => "有效期届满或失信情形消除后，经本机关决定移出。".into(),
            },
            "remedy" => "如不服本决定，可于六十日内申请行政复议，或于六个月内提起行政诉讼。".into(),
            _ => f.name_zh.clone(),
        };
        doc.insert(f.code.clone(), text);
    }
    doc
}

/// Listings of every type for `serve --demo`, at every stage of the procedure: listed,
/// listed after an objection, noticed and waiting, removed early, removed after repair.
/// `subjects` are enterprise codes to use (at least 9); `own` is the demo officer's
/// department, which gets the steps an officer can still take.
pub fn seed_demo(app: &App, subjects: &[String], own: &str, today: Date) -> Result<usize> {
    use time::Duration;
    if subjects.len() < 9 {
        return Err(AppError::input("演示主体不足", "not enough demo subjects for listings"));
    }
    let cli = |d: &str| Actor { department: d.to_string(), channel: "demo".into() };
    let samr = "北京市市场监督管理局";
    let court = "北京市第三中级人民法院";
    let tax = "国家税务总局北京市税务局";
    let basis_sd = "《市场监督管理严重违法失信名单管理办法》（国家市场监督管理总局令第44号）第二条";
    let notice_of = |code: &str, lt: &str, dept: &str, basis: &str, reason: &str, on: Date| Notice {
        subject: code.to_string(),
        list_type: lt.to_string(),
        provider: dept.to_string(),
        basis: Some(basis.to_string()),
        reason: reason.to_string(),
        notice_date: on,
        persons: Vec::new(),
        scope: None,
    };
    let days = |n: i64| today - Duration::days(n);
    let decision = |lt: &str, basis: &str, on: Date| Decision {
        decision_date: on,
        start: None,
        end: None,
        document: sample_document(lt, basis),
    };
    let mut n = 0;
    // 1. serious dishonesty, decided after an objection that was answered
    let (l, _) = notice(
        app,
        notice_of(&subjects[0], "serious_dishonesty", samr, basis_sd, "提供虚假材料骗取行政许可", days(300)),
        &cli(samr),
        today,
    )?;
    let (l, _) = object(app, l.id, days(298), "材料系中介机构提供，本公司不知情", &cli(samr), today)?;
    let mut d = decision("serious_dishonesty", basis_sd, days(280));
    d.document.insert("objection_reply".into(), "经复核，当事人对材料真实性负有审查义务，异议不成立。".into());
    decide(app, Ok(l.id), d, &cli(samr), today)?;
    n += 1;
    // 2. serious dishonesty, noticed and in its objection window (the demo officer decides it)
    notice(
        app,
        notice_of(&subjects[1], "serious_dishonesty", own, basis_sd, "拒不履行行政处罚决定", days(1)),
        &cli(own),
        today,
    )?;
    n += 1;
    // 3. market ban with the legal representative, for life
    let mut ban = notice_of(
        &subjects[2],
        "market_ban",
        samr,
        "《中华人民共和国食品安全法》第一百三十五条",
        "生产经营致人死亡的食品",
        days(500),
    );
    ban.scope = Some("food".into());
    ban.persons = vec![listing::ResponsiblePerson {
        role: "legal_representative".into(),
        name: "王建国".into(),
        id: Some("11010519491231002X".into()),
    }];
    let (l, _) = notice(app, ban, &cli(samr), today)?;
    decide(
        app,
        Ok(l.id),
        decision("market_ban", "《中华人民共和国食品安全法》第一百三十五条", days(470)),
        &cli(samr),
        today,
    )?;
    n += 1;
    // 4. key attention, direct decision (the demo officer's)
    let basis_ka = "《北京市社会信用条例》第三十条";
    decide(
        app,
        Err(notice_of(&subjects[3], "key_attention", own, basis_ka, "一年内两次被列入经营异常名录", days(60))),
        decision("key_attention", basis_ka, days(60)),
        &cli(own),
        today,
    )?;
    n += 1;
    // 5. red list
    decide(
        app,
        Err(notice_of(&subjects[4], "red_list", tax, "《纳税信用管理办法》", "连续三年纳税信用A级", days(200))),
        decision("red_list", "《纳税信用管理办法》", days(200)),
        &cli(tax),
        today,
    )?;
    n += 1;
    // 6. key attention, until its term ends (the demo officer's); the abnormal-operation
    // and dishonest-debtor lists follow from the demo's records (see `derived`)
    decide(
        app,
        Err(notice_of(&subjects[5], "key_attention", own, basis_ka, "未按规定期限公示年度报告且逾期未改正", days(90))),
        decision("key_attention", basis_ka, days(90)),
        &cli(own),
        today,
    )?;
    n += 1;
    // 7. serious dishonesty, removed after a repair (信用修复) once its year had passed
    let (l, _) = notice(
        app,
        notice_of(&subjects[6], "serious_dishonesty", samr, basis_sd, "伪造检验报告", days(530)),
        &cli(samr),
        today,
    )?;
    let (l, _) = decide(app, Ok(l.id), decision("serious_dishonesty", basis_sd, days(500)), &cli(samr), today)?;
    remove(
        app,
        l.id,
        Removal {
            date: days(100),
            kind: RemovalKind::Repair,
            reason: "已改正违法行为并履行全部义务，申请信用修复".into(),
        },
        &cli(samr),
        today,
    )?;
    n += 1;
    // 8. serious dishonesty (court), removed early after a year
    let basis_court = "《最高人民法院关于公布失信被执行人名单信息的若干规定》第一条";
    let (l, _) = notice(
        app,
        notice_of(
            &subjects[7],
            "serious_dishonesty",
            court,
            basis_court,
            "有履行能力而拒不履行生效法律文书",
            days(720),
        ),
        &cli(court),
        today,
    )?;
    let (l, _) = decide(app, Ok(l.id), decision("serious_dishonesty", basis_court, days(700)), &cli(court), today)?;
    remove(
        app,
        l.id,
        Removal {
            date: days(200), kind: RemovalKind::EarlyRemoval, reason: "已全部履行，申请提前移出".into()
        },
        &cli(court),
        today,
    )?;
    n += 1;
    // 9. red list, expired by itself
    decide(
        app,
        Err(notice_of(&subjects[8], "red_list", tax, "《纳税信用管理办法》", "纳税信用A级", days(900))),
        Decision { end: Some(days(170)), ..decision("red_list", "《纳税信用管理办法》", days(900)) },
        &cli(tax),
        today,
    )?;
    n += 1;
    Ok(n)
}

// ---- use cases with their callers ------------------------------------------------------

/// A listing decision as requested.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct DecisionRequest {
    pub decision_date: String,
    pub start: Option<String>,
    /// Exclusive end; default the list type's term.
    pub end: Option<String>,
    /// The decision document by field code: reason, basis, measures_notice, removal,
    /// remedy (and objection_reply when the subject objected).
    #[serde(default)]
    pub document: BTreeMap<String, String>,
}

/// A new listing: notice (告知), or a direct decision where the type needs none.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ListingRequest {
    pub code: String,
    pub list_type: String,
    pub basis: Option<String>,
    pub reason: String,
    /// The day prior notice was given; omit for a direct decision.
    pub notice_date: Option<String>,
    #[serde(default)]
    pub persons: Vec<ResponsiblePerson>,
    /// For a market ban: the domain it covers (`scopes` of `GET /api/v1/measures`), required there.
    pub scope: Option<String>,
    /// Decide in the same request.
    pub decision: Option<DecisionRequest>,
    pub department: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ObjectionRequest {
    pub date: String,
    pub text: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct RemovalRequest {
    pub date: String,
    /// `early_removal`, `repair`, `decision_revoked`, or `withdrawn` (a noticed listing).
    pub kind: String,
    pub reason: String,
}

/// A listing as anyone may see it: responsible persons' IDs masked, with its exit route.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ListingView {
    pub id: i64,
    pub code: String,
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub list_type: String,
    pub type_name: Option<String>,
    pub type_name_en: Option<String>,
    pub public: bool,
    pub status: ListingStatus,
    pub department: String,
    pub basis: Option<String>,
    pub reason: String,
    #[schema(format = Date)]
    pub notice_date: Option<String>,
    #[schema(format = Date)]
    pub objection_until: Option<String>,
    pub objections: Vec<listing::Objection>,
    #[schema(format = Date)]
    pub decision_date: Option<String>,
    #[schema(format = Date)]
    pub start: Option<String>,
    /// The day it stops being in force (exclusive): the earlier of the term's end and the
    /// removal; its start when the decision was revoked; none for life or until removed.
    #[schema(format = Date)]
    pub end: Option<String>,
    /// Exclusive end of the term as decided.
    #[schema(format = Date)]
    pub term_end: Option<String>,
    #[schema(format = Date)]
    pub early_removal_from: Option<String>,
    /// How to exit the list (the decision document's `removal`).
    pub removal: Option<String>,
    /// Remedies against the decision (the document's `remedy`).
    pub remedy: Option<String>,
    /// The decision document by field code.
    pub document: BTreeMap<String, String>,
    pub persons: Vec<ResponsiblePerson>,
    #[schema(format = Date)]
    pub removed_date: Option<String>,
    pub removal_kind: Option<RemovalKind>,
    pub removal_reason: Option<String>,
    pub ledger_index: u64,
    pub first_event: u64,
    pub last_event: u64,
    /// On a natural person's own record: the role (法定代表人、主要负责人、实际控制人)
    /// with which the person is listed with the entity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listed_as: Option<String>,
    /// An objection to this listing is open (异议处理中), or could not be confirmed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dispute: Option<crate::cases::Dispute>,
    /// For a market ban: the domain it covers, and its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope_name: Option<String>,
    /// For an entry of a list that follows from records (对象清单): the record it was
    /// derived from, the rule, and the provider's documents it cites.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub derived_from: Option<crate::checks::HitSource>,
    /// The listing as stored (persons unmasked): for the edge's own labels, never serialised.
    #[serde(skip)]
    pub source: Listing,
}

/// A step's answer: the listing as it now stands and the head signed with it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StepAnswer {
    pub listing: ListingView,
    #[schema(value_type = crate::ledger::schema::SignedHead)]
    pub ledger_head: SignedHead,
}

/// A page of active list entries.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ListsPage {
    #[schema(format = Date)]
    pub as_of: String,
    pub entries: Vec<ListingView>,
    /// The `after` of the next page; none on the last page.
    pub next_after: Option<i64>,
}

/// A list page of the portal: this platform's entries and other platforms'.
#[derive(Debug, Clone, Serialize)]
pub struct ListPage {
    pub entries: Vec<ListingView>,
    pub regional: Vec<RegionalListing>,
}

/// Another platform's list entry as the list page shows it: its origin, the code
/// (a person's masked), the decision's reason, basis and term.
#[derive(Debug, Clone, Serialize)]
pub struct RegionalListing {
    pub origin: String,
    pub code: String,
    pub provider: String,
    pub reason: String,
    pub basis: String,
    pub start: String,
    pub end: String,
}

/// One listing, as the API answers it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ListingAnswer {
    pub listing: ListingView,
}

/// Which list entries to page through.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListsQuery {
    /// List type code; default every public type.
    #[serde(rename = "type")]
    pub list_type: Option<String>,
    #[serde(default)]
    pub after: i64,
    /// 1–500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    #[param(format = Date)]
    pub as_of: Option<String>,
}

/// Whether the public may see a listing on `on`: an entry of a public list in force
/// that day. Once it ends — expired, removed early, repaired, revoked — nothing public
/// shows that it was there.
pub(crate) fn is_public_on(l: &Listing, on: Date) -> bool {
    ListRules::bundled().list_type(&l.list_type).is_some_and(|t| t.public) && l.in_force_on(on)
}

fn is_public(l: &Listing) -> bool {
    is_public_on(l, crate::today_shanghai())
}

fn decision_of(d: &DecisionRequest) -> Result<Decision> {
    let opt = |name: &str, s: Option<&str>| s.filter(|s| !s.is_empty()).map(|s| parse_day(name, s)).transpose();
    Ok(Decision {
        decision_date: parse_day("decision_date", &d.decision_date)?,
        start: opt("start", d.start.as_deref())?,
        end: opt("end", d.end.as_deref())?,
        document: d.document.clone(),
    })
}

impl App {
    /// A listing as anyone may see it.
    pub fn listing_view(&self, l: &Listing) -> ListingView {
        let rules = ListRules::bundled();
        let lt = rules.list_type(&l.list_type);
        let persons =
            l.persons.iter().map(|p| ResponsiblePerson { id: p.id.as_deref().map(mask_id), ..p.clone() }).collect();
        let code = match xinyong_core::SubjectCode::parse(&l.subject) {
            Ok(c) => c.display(),
            Err(_) => mask_id(&l.subject),
        };
        ListingView {
            id: l.id,
            code,
            name: self.name_of(&l.subject),
            list_type: l.list_type.clone(),
            type_name: lt.map(|t| t.name_zh.clone()),
            type_name_en: lt.map(|t| t.name_en.clone()),
            // published today: a public list's entry in force (not one that ended)
            public: is_public(l),
            status: l.status,
            department: l.provider.clone(),
            basis: l.basis.clone(),
            reason: l.reason.clone(),
            notice_date: l.notice_date.map(date_string),
            objection_until: l.objection_until.map(date_string),
            objections: l.objections.clone(),
            decision_date: l.decision_date.map(date_string),
            start: l.start.map(date_string),
            end: l.effective_end().map(date_string),
            term_end: l.end.map(date_string),
            early_removal_from: l.start.and_then(|s| lt.and_then(|t| t.early_removal_from(s))).map(date_string),
            removal: l.document.get("removal").cloned(),
            remedy: l.document.get("remedy").cloned(),
            document: l.document.clone(),
            persons,
            removed_date: l.removed_date.map(date_string),
            removal_kind: l.removal_kind,
            removal_reason: l.removal_reason.clone(),
            ledger_index: l.decided_event.unwrap_or(l.last_event),
            first_event: l.first_event,
            last_event: l.last_event,
            listed_as: None,
            dispute: None,
            scope: l.scope.clone(),
            scope_name: l.scope.as_deref().and_then(|s| rules.scope(s)).map(|s| s.name_zh.clone()),
            derived_from: crate::checks::HitSource::of(l),
            source: l.clone(),
        }
    }

    fn step_answer(&self, (l, head): (Listing, SignedHead)) -> StepAnswer {
        StepAnswer { listing: self.listing_view(&l), ledger_head: head }
    }

    /// Notice of an intended listing, or a direct decision where the type needs none
    /// (or notice and decision at once when no objection window applies).
    pub fn propose_listing(&self, caller: &Caller, req: ListingRequest, channel: &str) -> Result<StepAnswer> {
        let department = acting_department(caller, req.department.as_deref())?;
        let code = parse_code(&req.code)?;
        let notice_date = req.notice_date.as_deref().filter(|s| !s.is_empty()).map(|s| parse_day("notice_date", s));
        let notice_date = notice_date.transpose()?;
        let decision = req.decision.as_ref().map(decision_of).transpose()?;
        let today = crate::today_shanghai();
        let notice = Notice {
            subject: code.key().to_string(),
            list_type: req.list_type.clone(),
            provider: department.clone(),
            basis: req.basis.clone(),
            reason: req.reason.clone(),
            // a direct decision's notice is the decision itself
            notice_date: notice_date.or(decision.as_ref().map(|d| d.decision_date)).unwrap_or(today),
            persons: req.persons.clone(),
            scope: req.scope.clone(),
        };
        let actor = Actor { department, channel: channel.to_string() };
        let step = match (notice_date, decision) {
            (Some(_), d) => {
                let (l, h) = self::notice(self, notice, &actor, today)?;
                match d {
                    None => (l, h),
                    Some(d) => decide(self, Ok(l.id), d, &actor, today)?,
                }
            }
            (None, Some(d)) => decide(self, Err(notice), d, &actor, today)?,
            (None, None) => {
                return Err(AppError::Refused(vec![
                    "请给出告知日期 notice_date 或列入决定 decision / give notice_date or a decision".into(),
                ]));
            }
        };
        Ok(self.step_answer(step))
    }

    /// The subject's objection (by its own account, or recorded by the listing department).
    pub fn object_to_listing(
        &self,
        caller: &Caller,
        id: i64,
        req: ObjectionRequest,
        channel: &str,
    ) -> Result<StepAnswer> {
        let date = parse_day("date", &req.date)?;
        let current = stored(self, id)?;
        permit(caller, Action::Object { subject: &current.subject, department: &current.provider })?;
        let actor = match caller.own_subject() {
            Some(code) => Actor { department: format!("subject:{code}"), channel: channel.to_string() },
            None => Actor { department: current.provider.clone(), channel: channel.to_string() },
        };
        Ok(self.step_answer(object(self, id, date, &req.text, &actor, crate::today_shanghai())?))
    }

    /// The decision on a noticed listing, by its department.
    pub fn decide_listing(&self, caller: &Caller, id: i64, req: DecisionRequest, channel: &str) -> Result<StepAnswer> {
        let d = decision_of(&req)?;
        let current = stored(self, id)?;
        permit(caller, Action::ListingStep { department: &current.provider })?;
        let actor = Actor { department: current.provider.clone(), channel: channel.to_string() };
        Ok(self.step_answer(decide(self, Ok(id), d, &actor, crate::today_shanghai())?))
    }

    /// Removal (移出) of a listed entry, or withdrawal of a noticed one, by its department.
    pub fn remove_listing(&self, caller: &Caller, id: i64, req: RemovalRequest, channel: &str) -> Result<StepAnswer> {
        let kind = RemovalKind::parse(&req.kind).ok_or_else(|| {
            AppError::invalid(
                "invalid_removal_kind",
                format!("移出类型“{}”无效", req.kind),
                "kind must be early_removal, repair, decision_revoked or withdrawn",
            )
        })?;
        let r = Removal { date: parse_day("date", &req.date)?, kind, reason: req.reason.clone() };
        let current = stored(self, id)?;
        permit(caller, Action::ListingStep { department: &current.provider })?;
        let actor = Actor { department: current.provider.clone(), channel: channel.to_string() };
        Ok(self.step_answer(remove(self, id, r, &actor, crate::today_shanghai())?))
    }

    /// One listing with its whole procedure, if the caller may see it (a listing it may
    /// not see is answered as not found, so ids reveal nothing).
    pub fn listing(&self, caller: &Caller, id: i64) -> Result<ListingView> {
        let l = stored(self, id)?;
        if !is_public(&l) {
            permit(caller, Action::ListingDetail { subject: &l.subject }).map_err(|e| match e {
                AppError::NotFound(_) => not_found(id),
                other => other,
            })?;
        }
        let dispute = self.db().read(|s| Ok(self.disputes(s, &l.subject)?.remove(&(false, l.id))))?;
        Ok(ListingView { dispute, ..self.listing_view(&l) })
    }

    /// A subject's listings the caller may see: decided entries of public lists for
    /// everyone; everything for departments, the centre and the entity itself.
    pub fn listings_of_subject(&self, caller: &Caller, code: &str) -> Result<Vec<ListingView>> {
        let code = parse_code(code)?;
        let (all, mut disputes) =
            self.db().read(|s| Ok((s.listings_of(code.key())?, self.disputes(s, code.key())?)))?;
        let entitled = permit(caller, Action::ListingDetail { subject: code.key() }).is_ok();
        let mut views: Vec<ListingView> = all
            .iter()
            .filter(|l| entitled || is_public(l))
            .map(|l| ListingView { dispute: disputes.remove(&(false, l.id)), ..self.listing_view(l) })
            .collect();
        // a person listed with an entity as its responsible person sees that listing on
        // their own record (others see it on the entity's)
        if let (true, Some(own)) = (code.is_person(), caller.own_subject())
            && own == code.key()
            && let Ok(p) = self.projections()
        {
            let ids = p.checks.listings_naming(code.key());
            let named = self.db().read(|s| {
                let mut named = Vec::with_capacity(ids.len());
                for id in &ids {
                    named.extend(s.listing(*id)?);
                }
                Ok(named)
            })?;
            for l in named {
                let role =
                    l.persons.iter().find(|p| p.id.as_deref().is_some_and(|id| crate::checks::same_person(id, own)));
                let role = role.map(|p| p.role.clone());
                views.push(ListingView { listed_as: role, ..self.listing_view(&l) });
            }
        }
        Ok(views)
    }

    /// Active entries of public lists (who is listed, why, until when, how to exit),
    /// paged by listing id. Staff and agencies may also read shared list types.
    pub fn lists(&self, caller: &Caller, q: &ListsQuery) -> Result<ListsPage> {
        let rules = ListRules::bundled();
        // `?type=` (empty) asks for every public type, as no `type` does
        let list_type = q.list_type.clone().filter(|t| !t.trim().is_empty());
        let q = &ListsQuery { list_type, ..q.clone() };
        if let Some(t) = &q.list_type {
            let lt = rules.list_type(t).ok_or_else(|| {
                AppError::invalid("unknown_list_type", "未知名单类型", format!("unknown list type {t:?}"))
            })?;
            if !lt.public {
                permit(caller, Action::SharedLists)?;
            }
        }
        let as_of = day_or_today(q.as_of.as_deref())?;
        let limit = crate::page_size(q.limit, 100, 500)?;
        let public_types: Vec<String> = rules.list_types().filter(|t| t.public).map(|t| t.code.clone()).collect();
        let mut filter = ListingFilter {
            list_type: q.list_type.clone(),
            active_on: Some(date_string(as_of)),
            after_id: q.after,
            // over-fetch when filtering to public types in memory
            limit: if q.list_type.is_some() { limit } else { limit * 2 },
            ..Default::default()
        };
        let (entries, next_after) = self.db().read(|s| {
            let mut out = Vec::new();
            loop {
                let page = s.listings(&filter)?;
                let exhausted = (page.len() as u32) < filter.limit;
                for l in page {
                    filter.after_id = l.id;
                    if filter.list_type.is_some() || public_types.contains(&l.list_type) {
                        out.push(l);
                        if out.len() as u32 == limit {
                            return Ok((out, Some(filter.after_id)));
                        }
                    }
                }
                if exhausted {
                    return Ok((out, None));
                }
            }
        })?;
        Ok(ListsPage {
            as_of: date_string(as_of),
            entries: entries.iter().map(|l| self.listing_view(l)).collect(),
            next_after,
        })
    }

    /// The entries of one list type in force today, for the portal's list page; on the
    /// first page also the entries other platforms sent (异地共享, `exchange`), each with
    /// its origin.
    pub fn list_entries(&self, caller: &Caller, list_type: &str, after: i64, limit: u32) -> Result<ListPage> {
        let q = ListsQuery { list_type: Some(list_type.to_string()), after, limit: Some(limit), as_of: None };
        let entries = self.lists(caller, &q)?.entries;
        let regional = if after > 0 {
            Vec::new()
        } else {
            let field =
                |e: &xinyong_core::exchange::ForeignEntry, k: &str| e.fields.get(k).cloned().unwrap_or_default();
            self.regional_listings(list_type)?
                .iter()
                .map(|e| RegionalListing {
                    origin: e.origin.clone(),
                    code: xinyong_core::SubjectCode::parse(&e.subject)
                        .map_or_else(|_| e.subject.clone(), |c| c.display()),
                    provider: e.provider.clone(),
                    reason: field(e, "reason"),
                    basis: field(e, "basis"),
                    start: field(e, "start"),
                    end: field(e, "end"),
                })
                .collect()
        };
        Ok(ListPage { entries, regional })
    }

    /// A department's noticed and listed entries (the officer's own; the centre names one,
    /// or sees all).
    pub fn department_listings(
        &self,
        caller: &Caller,
        department: Option<&str>,
    ) -> Result<(Vec<ListingView>, Vec<ListingView>)> {
        let provider = match acting_department(caller, department) {
            Ok(d) => Some(d),
            Err(AppError::Invalid { code: "department_required", .. }) => None,
            Err(e) => return Err(e),
        };
        // the steps an officer can take: entries derived from records end with them
        let of = |status| ListingFilter {
            status: Some(status),
            provider: provider.clone(),
            decided_here: true,
            limit: 200,
            ..Default::default()
        };
        let (noticed, listed) = self
            .db()
            .read(|s| Ok((s.listings(&of(ListingStatus::Noticed))?, s.listings(&of(ListingStatus::Listed))?)))?;
        let view = |v: Vec<Listing>| v.iter().map(|l| self.listing_view(l)).collect();
        Ok((view(noticed), view(listed)))
    }
}

/// The list types, the measures list (措施清单) with legal bases, and the matter codes.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MeasuresAnswer {
    pub list_types: Vec<xinyong_core::lists::ListType>,
    pub measures: Vec<xinyong_core::lists::Measure>,
    pub matters: Vec<String>,
    /// The domains a market ban can cover (the `scope` of a ban, the `domain` of a check).
    pub scopes: Vec<xinyong_core::lists::BanScope>,
    /// How the lists that follow from records are derived (对象清单): item, values, list,
    /// basis, start and end fields.
    pub derivations: Vec<xinyong_core::derivation::DerivationRule>,
}

pub fn measures() -> MeasuresAnswer {
    let rules = ListRules::bundled();
    MeasuresAnswer {
        list_types: rules.list_types().cloned().collect(),
        measures: rules.measures().to_vec(),
        matters: rules.matters().into_iter().map(str::to_string).collect(),
        scopes: rules.scopes().to_vec(),
        derivations: xinyong_core::derivation::Derivations::bundled().rules().to_vec(),
    }
}
