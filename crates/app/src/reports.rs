//! Credit reports (信用报告): made for an entity, a period and domains, signed at the
//! latest ledger head with an inclusion proof per cited event, rendered as PDF, and
//! checked again online (`/verify`), which also says what changed since.
//!
//! Who may have which report is `access` ([`Action::CreditReport`]). A report of
//! another entity names its purpose and is logged in that entity's access log.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::Date;
use xinyong_core::catalog::{Disclosure, Nature};
use xinyong_core::listing::RemovalKind;
use xinyong_core::report::{Domain, Period, ReportKind, ReportRules, SectionRule};
use xinyong_report::{Entry, Evidence, Field, ReportDomain, ReportSubject, Requester};
use xinyong_store::AccessEntry;

use crate::access::{Action, Caller, Role, Scope, permit};
use crate::listings::ListingView;
use crate::view::{RecordView, SubjectView};
use crate::{App, AppError, Result, now_ms, parse_code, parse_day, today_shanghai};

pub use xinyong_report::{Check, Report, Section, Verdict, fonts::ReportFont};

/// What a report is asked for.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[into_params(parameter_in = Query)]
pub struct ReportRequest {
    /// `standard` (信用报告, default) or `special` (专项信用报告).
    pub kind: Option<String>,
    /// First day of the period (default: three years before today).
    #[param(format = Date)]
    pub from: Option<String>,
    /// Last day of the period (default: today).
    #[param(format = Date)]
    pub to: Option<String>,
    /// Domain codes, comma-separated (default: every domain); see `GET /api/v1/reports/domains`.
    pub domains: Option<String>,
    /// Why a department or agency asks (required unless the entity asks for its own).
    pub purpose: Option<String>,
}

/// A report as issued: the report, its signed bundle and the head it names.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IssuedReport {
    #[schema(value_type = Object)]
    pub report: Report,
    /// The signed note (`xinyong-report/1`) that `xinyong report verify` checks.
    pub bundle: String,
    pub tree_size: u64,
    pub root: String,
}

/// A domain a special report may be limited to.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DomainsAnswer {
    pub domains: Vec<Domain>,
}

/// What changed since a report was made, for one of its entries.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Change {
    pub section: String,
    pub entry: i64,
    pub item_name_zh: String,
    /// `repaired`, `revoked`, `corrected`, `removed` or `gone`.
    pub what: String,
    pub zh: String,
    pub en: String,
}

/// The online check: the offline checks against this platform's key, whether the
/// report's head is a head of this platform's ledger as it stands, and the changes.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OnlineVerdict {
    #[schema(value_type = Object)]
    pub verdict: Verdict,
    /// The report's checkpoint is consistent with this ledger today (its root is the
    /// root of the ledger's first `tree_size` events).
    pub consistent_with_ledger: bool,
    pub changes: Vec<Change>,
    /// The platform whose key the report was checked against: this one, or a trusted
    /// peer (`exchange`) whose report it is. A peer's report is checked against the
    /// peer's pinned key; its ledger and records are the peer's, so
    /// `consistent_with_ledger` is false and `changes` empty here: ask the peer's `/verify`.
    pub signed_by: String,
    /// The report is a trusted peer's (checked against its key, not this ledger).
    pub from_peer: bool,
}

/// Verifies a report file offline, against `key` (a verifier key text, as in
/// `ledger.pub`) when given.
pub fn verify_offline(file: &[u8], key: Option<&str>) -> Result<Verdict> {
    let pinned = key
        .map(|k| {
            xinyong_ledger::LedgerVerifier::from_text(k)
                .map_err(|e| AppError::input(format!("公钥无效：{e}"), format!("the key is not a verifier key: {e}")))
        })
        .transpose()?;
    Ok(xinyong_report::verify(file, pinned.as_ref()))
}

/// The domains a special report may be limited to.
pub fn domains() -> DomainsAnswer {
    DomainsAnswer { domains: ReportRules::bundled().domains.clone() }
}

/// The request, parsed: kind, period, domains.
struct Asked<'r> {
    rules: &'r ReportRules,
    kind: ReportKind,
    period: Period,
    domains: Vec<&'r Domain>,
}

fn parse_request<'r>(rules: &'r ReportRules, req: &ReportRequest, today: Date) -> Result<Asked<'r>> {
    let kind = match req.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        None => ReportKind::Standard,
        Some(k) => ReportKind::parse(k).ok_or_else(|| {
            AppError::invalid(
                "invalid_kind",
                format!("报告种类 {k} 无效，应为 standard 或 special"),
                format!("report kind {k} is unknown: standard or special"),
            )
        })?,
    };
    let default = Period::default_until(today);
    let day = |name: &str, s: &Option<String>, d: Date| match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => parse_day(name, s),
        None => Ok(d),
    };
    let (from, to) = (day("from", &req.from, default.from)?, day("to", &req.to, default.to)?);
    let period = Period::new(from, to, today).map_err(|e| {
        AppError::invalid("invalid_period", format!("查询期间无效：{from} 至 {to}，截止日不得晚于今天"), e)
    })?;
    let mut domains = Vec::new();
    for code in req.domains.as_deref().unwrap_or("").split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let d = rules.domain(code).ok_or_else(|| {
            AppError::invalid(
                "invalid_domain",
                format!("领域 {code} 不存在"),
                format!("domain {code} is unknown (GET /api/v1/reports/domains)"),
            )
        })?;
        if !domains.iter().any(|x: &&Domain| x.code == d.code) {
            domains.push(d);
        }
    }
    Ok(Asked { rules, kind, period, domains })
}

impl App {
    /// Makes a credit report of `code` for `caller`, signed at the latest head.
    pub fn make_report(&self, caller: &Caller, code: &str, req: &ReportRequest) -> Result<IssuedReport> {
        let code = parse_code(code)?;
        let today = today_shanghai();
        let rules = ReportRules::bundled();
        let asked = parse_request(rules, req, today)?;
        let scope =
            permit(caller, Action::CreditReport { subject: code.key(), special: asked.kind == ReportKind::Special })?;
        let purpose = req.purpose.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(str::to_string);
        if purpose.is_none() && !matches!(scope, Scope::Subject(_)) {
            return Err(AppError::invalid(
                "purpose_required",
                "查询他人信用报告须说明用途",
                "a report of another entity needs a purpose",
            ));
        }
        let purpose_text = purpose.clone().unwrap_or_else(|| "主体自查 / own report".into());
        let view = self
            .subject(caller, &code, today, Some(purpose_text.clone()))?
            .ok_or_else(|| AppError::NotFound(format!("主体 {} / subject {}", code.display(), code.display())))?;
        let listings = self.listings_of_subject(caller, code.key())?;
        let sections = rules
            .sections(asked.kind)
            .iter()
            .map(|rule| section_of(rule, &asked, &view, &listings, today))
            .collect::<Vec<_>>();
        let sections = with_advice(self.catalog(), rules.sections(asked.kind), sections, &view);
        let mut report = Report {
            format: xinyong_report::FORMAT.into(),
            number: String::new(),
            kind: asked.kind,
            title_zh: asked.kind.title_zh().into(),
            title_en: asked.kind.title_en().into(),
            platform: self.key().origin().into(),
            verifier_key: self.verifier().to_text(),
            algorithm: self.key().algorithm().name().into(),
            made_at: made_at(),
            period_from: asked.period.from.to_string(),
            period_to: asked.period.to.to_string(),
            domains: asked
                .domains
                .iter()
                .map(|d| ReportDomain { code: d.code.clone(), name_zh: d.name_zh.clone() })
                .collect(),
            subject: ReportSubject {
                code: view.code.clone(),
                name: view.name.clone(),
                kind_zh: view.kind_zh.clone(),
                legal_rep_name: view.legal_rep_name.clone(),
                division_name: view.division_name.clone(),
                industry_name: view.industry_name.clone(),
            },
            requester: requester(caller, purpose),
            sections,
            empty_zh: rules.empty_zh.clone(),
            empty_en: rules.empty_en.clone(),
            checkpoint: String::new(),
            evidence: Vec::new(),
        };
        let (tree_size, root) = self.prove(&mut report)?;
        report.number_it();
        let bundle = report.sign(self.key());
        if !matches!(scope, Scope::Subject(_)) {
            let entry = AccessEntry {
                subject_code: code.key().to_string(),
                account_id: caller.account_id(),
                actor: caller.actor_name(),
                provider: caller.account().and_then(|a| a.provider.clone()),
                purpose: purpose_text,
                what: format!("credit_report:{}:{}", asked.kind.as_str(), report.number),
                at_ms: now_ms(),
            };
            self.side_log()?.access(entry)?.wait()?;
        }
        Ok(IssuedReport { report, bundle, tree_size, root })
    }

    /// Adds the latest signed checkpoint and an inclusion proof for every cited event.
    fn prove(&self, report: &mut Report) -> Result<(u64, String)> {
        let cited = report.cited_indexes();
        let (head, proofs) = self.db().read(|store| {
            let head = store.latest_head()?.ok_or_else(crate::ledger::empty_ledger)?;
            if cited.is_empty() {
                return Ok((head, Vec::new()));
            }
            let size = head.head.size;
            let proofs = self.with_tree(store, size, |tree, read| {
                cited
                    .iter()
                    .map(|&i| {
                        let leaf = read(i, i + 1)?
                            .first()
                            .copied()
                            .ok_or(xinyong_ledger::LedgerError::IndexOutOfRange { index: i, size })?;
                        Ok(Evidence::new(i, &leaf, &tree.inclusion_proof(i, size, read)?))
                    })
                    .collect::<std::result::Result<Vec<_>, _>>()
            })?;
            Ok((head, proofs))
        })?;
        report.checkpoint = head.checkpoint.clone();
        report.evidence = proofs;
        Ok((head.head.size, xinyong_ledger::hex(&head.head.root)))
    }

    /// The PDF of an issued report (fonts from the system, see [`ReportFont`]).
    pub fn report_pdf(&self, issued: &IssuedReport) -> Result<Vec<u8>> {
        let font = ReportFont::shared().map_err(|e| match e {
            xinyong_report::ReportError::Font { zh, en } => AppError::Unavailable { zh, en },
            other => AppError::Internal(other.to_string()),
        })?;
        xinyong_report::pdf::render(&issued.report, &issued.bundle, issued.tree_size, &issued.root, self.key(), font)
            .map_err(|e| AppError::Internal(e.to_string()))
    }

    /// Checks a report file against this platform: its signatures and proofs, that its
    /// head is a head of this ledger, and what changed in its entries since.
    pub fn verify_report(&self, file: &[u8]) -> Result<OnlineVerdict> {
        let own = self.key().origin().to_string();
        let verdict = xinyong_report::verify(file, Some(&self.verifier()));
        if !verdict.ok {
            // not this platform's: a trusted peer's, if the report names one
            let named = verdict
                .report
                .as_ref()
                .and_then(|r| xinyong_ledger::LedgerVerifier::from_text(&r.verifier_key).ok())
                .map(|k| k.origin().to_string());
            if let Some(peer) = named.filter(|o| *o != own).map(|o| self.peer(&o)).transpose()?.flatten() {
                let key = xinyong_ledger::LedgerVerifier::from_text(&peer.key)
                    .map_err(|e| AppError::Internal(e.to_string()))?;
                return Ok(OnlineVerdict {
                    verdict: xinyong_report::verify(file, Some(&key)),
                    consistent_with_ledger: false,
                    changes: Vec::new(),
                    signed_by: peer.origin,
                    from_peer: true,
                });
            }
        }
        let Some(report) = verdict.report.clone().filter(|_| verdict.ok) else {
            return Ok(OnlineVerdict {
                verdict,
                consistent_with_ledger: false,
                changes: Vec::new(),
                signed_by: own,
                from_peer: false,
            });
        };
        let (consistent, changes) = self.db().read(|store| {
            let head = self.verifier().verify(&report.checkpoint)?;
            // a head beyond this ledger (or a ledger that lost leaves) is not consistent
            let consistent = store.ledger_size()? >= head.size
                && self.with_tree(store, head.size, |tree, read| tree.root_at(head.size, read)).ok() == Some(head.root);
            let mut changes = Vec::new();
            for section in &report.sections {
                for e in &section.entries {
                    if let Some(c) = change_of(store, section, e)? {
                        changes.push(c);
                    }
                }
            }
            Ok((consistent, changes))
        })?;
        Ok(OnlineVerdict { verdict, consistent_with_ledger: consistent, changes, signed_by: own, from_peer: false })
    }
}

fn made_at() -> String {
    let offset = time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC);
    let now = time::OffsetDateTime::now_utc()
        .to_offset(offset)
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

fn requester(caller: &Caller, purpose: Option<String>) -> Requester {
    let account = caller.account();
    let (role, name) = match caller.role() {
        Role::Subject { .. } => ("subject", account.map(|a| a.username.clone()).unwrap_or_default()),
        Role::Officer { department } => ("officer", department.clone()),
        Role::Agency => ("agency", account.map(|a| a.display_name.clone()).unwrap_or_default()),
        Role::Admin => ("admin", "信用中心 / credit centre".to_string()),
        Role::Public => ("public", String::new()),
    };
    Requester { role: role.into(), name, purpose }
}

/// Whether a record belongs in a report: active, not repaired, in the period and the
/// domains; a standard report holds only what the public sees today.
fn record_fits(asked: &Asked<'_>, r: &RecordView, today: Date) -> bool {
    let live = r.status != "revoked"
        && r.repaired_on.as_deref().and_then(xinyong_core::record::parse_date).is_none_or(|d| d > today);
    let in_period =
        r.decision_date.as_deref().and_then(xinyong_core::record::parse_date).is_none_or(|d| asked.period.contains(d));
    let published = asked.kind == ReportKind::Special || (r.publicity.public && r.disclosure == Disclosure::Public);
    live && in_period && published && asked.rules.in_domains(&r.provider, &asked.domains)
}

/// Whether a listing belongs: decided, not voided or repaired, in force on some day of
/// the period (a standard report: published today).
fn listing_fits(asked: &Asked<'_>, l: &ListingView) -> bool {
    let src = &l.source;
    let voided =
        matches!(src.removal_kind, Some(RemovalKind::Repair | RemovalKind::DecisionRevoked | RemovalKind::Withdrawn));
    let overlaps = src.decided_event.is_some()
        && src.start.is_some_and(|s| s <= asked.period.to)
        && src.effective_end().is_none_or(|e| e > asked.period.from);
    let published = asked.kind == ReportKind::Special || l.public;
    !voided && overlaps && published && asked.rules.in_domains(&l.department, &asked.domains)
}

fn section_of(
    rule: &SectionRule,
    asked: &Asked<'_>,
    view: &SubjectView,
    listings: &[ListingView],
    today: Date,
) -> Section {
    let mut entries: Vec<Entry> = view
        .records
        .iter()
        .filter(|r| rule.items.contains(&r.item) && record_fits(asked, r, today))
        .map(|r| Entry {
            source: "record".into(),
            id: r.id,
            item: r.item.clone(),
            item_name_zh: r.item_name_zh.clone(),
            provider: r.provider.clone(),
            decision_date: r.decision_date.clone(),
            ledger_index: r.ledger_index,
            fields: r
                .fields
                .iter()
                .filter(|f| !f.value.is_empty())
                .map(|f| Field { name: f.name.clone(), value: f.value.clone() })
                .collect(),
            note: record_note(r),
        })
        .collect();
    entries.extend(listings.iter().filter(|l| rule.lists.contains(&l.list_type) && listing_fits(asked, l)).map(|l| {
        Entry {
            source: "listing".into(),
            id: l.id,
            item: l.list_type.clone(),
            item_name_zh: l.type_name.clone().unwrap_or_else(|| l.list_type.clone()),
            provider: l.department.clone(),
            decision_date: l.decision_date.clone(),
            ledger_index: l.ledger_index,
            fields: listing_fields(l),
            note: l.dispute.as_ref().map(|_| "异议处理中 / under objection".to_string()),
        }
    }));
    entries.sort_by(|a, b| b.decision_date.cmp(&a.decision_date).then(a.id.cmp(&b.id)));
    Section {
        key: rule.key.clone(),
        title_zh: rule.title_zh.clone(),
        title_en: rule.title_en.clone(),
        entries,
        advice: Vec::new(),
    }
}

fn record_note(r: &RecordView) -> Option<String> {
    let mut notes = Vec::new();
    if r.disputed {
        notes.push("异议处理中".to_string());
    }
    if let Some(c) = &r.commitment {
        notes.push(format!("履约状态：{}", c.state_zh));
    }
    if let Some(d) = &r.declaration {
        notes.push(format!("自主声明状态：{}", d.state_zh));
    }
    (!notes.is_empty()).then(|| notes.join("；"))
}

fn listing_fields(l: &ListingView) -> Vec<Field> {
    let mut f = vec![Field { name: "列入事由".into(), value: l.reason.clone() }];
    let mut push = |name: &str, v: &Option<String>| {
        if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
            f.push(Field { name: name.into(), value: v.clone() });
        }
    };
    push("列入依据", &l.basis);
    push("列入日期", &l.start);
    push("期限截止", &l.term_end);
    push("移出日期", &l.removed_date);
    push("移出条件和程序", &l.removal);
    push("救济途径", &l.remedy);
    f
}

/// Fills the advice section: the first day a repair may be applied for, per negative
/// record the report shows.
fn with_advice(
    catalog: &xinyong_core::Catalog,
    rules: &[SectionRule],
    mut sections: Vec<Section>,
    view: &SubjectView,
) -> Vec<Section> {
    let shown: BTreeSet<i64> =
        sections.iter().flat_map(|s| s.entries.iter().filter(|e| e.source == "record").map(|e| e.id)).collect();
    let advice: Vec<String> = view
        .records
        .iter()
        .filter(|r| shown.contains(&r.id))
        .filter(|r| catalog.item(&r.item).is_some_and(|i| i.nature == Nature::Negative))
        .filter_map(|r| {
            let from = r.publicity.repair_from?;
            Some(format!(
                "{}「{}」（{}）：自 {} 起可向作出决定的部门或信用中心申请信用修复，修复后不再公示和在报告中展示。",
                r.item_name_zh, r.key, r.provider, from
            ))
        })
        .collect();
    for (rule, section) in rules.iter().zip(sections.iter_mut()) {
        if rule.advice {
            section.advice = if advice.is_empty() {
                vec!["保持良好信用记录；可通过信用承诺、自愿注册等方式展示守信情况。".into()]
            } else {
                advice.clone()
            };
        }
    }
    sections
}

/// What became of an entry since the report: the store as it stands now.
fn change_of(store: &dyn xinyong_store::Store, section: &Section, e: &Entry) -> Result<Option<Change>> {
    let change = |what: &str, zh: String, en: String| {
        Some(Change {
            section: section.title_zh.clone(),
            entry: e.id,
            item_name_zh: e.item_name_zh.clone(),
            what: what.into(),
            zh,
            en,
        })
    };
    let day = |i: Option<u64>| -> Result<String> {
        Ok(crate::view::event_day(store, i)?.map(|d| d.to_string()).unwrap_or_default())
    };
    if e.source == "listing" {
        let Some(l) = store.listing(e.id)? else {
            return Ok(change("gone", "该名单信息已不存在".into(), "the list entry no longer exists".into()));
        };
        return Ok(match l.removal_kind {
            Some(kind) => {
                let on = l.removed_date.map(|d| d.to_string()).unwrap_or_default();
                let what = if kind == RemovalKind::Repair { "repaired" } else { "removed" };
                change(
                    what,
                    format!("已于 {on} 移出名单（{kind:?}）"),
                    format!("removed from the list on {on} ({kind:?})"),
                )
            }
            None => None,
        });
    }
    let Some(row) = store.record(e.id)? else {
        return Ok(change("gone", "该记录已不存在".into(), "the record no longer exists".into()));
    };
    Ok(if row.revoked_event.is_some() {
        let on = day(row.revoked_event)?;
        change("revoked", format!("已于 {on} 撤销"), format!("revoked on {on}"))
    } else if row.repaired_event.is_some() {
        let on = day(row.repaired_event)?;
        change("repaired", format!("已于 {on} 完成信用修复"), format!("repaired on {on}"))
    } else if row.event_index != e.ledger_index {
        let on = day(Some(row.event_index))?;
        change(
            "corrected",
            format!("已于 {on} 更正（账本序号 {}）", row.event_index),
            format!("corrected on {on} (ledger index {})", row.event_index),
        )
    } else {
        None
    })
}
