//! What a viewer may see of a subject on a given day: the publication rules applied
//! to the stored records, personal data masked, non-public reads logged.

use std::collections::BTreeMap;

use serde::Serialize;
use time::Date;
use xinyong_core::SubjectCode;
use xinyong_core::catalog::{Disclosure, FieldType, Tier};
use xinyong_core::codes::mask_id;
use xinyong_core::documents::{DocType, mask_number};
use xinyong_core::event::EventBody;
use xinyong_core::publication::{PublicationRules, Publicity, RecordFacts, publicity_on};
use xinyong_core::record::parse_date;
use xinyong_store::{AccessEntry, RecordRow, Store};

use crate::access::{Action, Caller, Scope, permit};
use crate::{App, Result, now_ms};

/// Who is looking, as far as records go.
#[derive(Debug, Clone)]
enum Viewer {
    /// Anyone (and an entity's account looking at another entity): public items inside
    /// their publication window.
    Public,
    /// A caller entitled to non-public records, reading for a stated purpose (logged).
    Entitled { scope: Scope, purpose: String },
}

impl Viewer {
    fn of(caller: &Caller, subject: &str, purpose: Option<String>) -> Viewer {
        match permit(caller, Action::ReadNonPublic { subject }) {
            Ok(scope) => Viewer::Entitled { scope, purpose: purpose.unwrap_or_else(|| "查询 / lookup".into()) },
            Err(_) => Viewer::Public,
        }
    }

    /// Whether the viewer sees a record of `provider` with this disclosure, revoked
    /// and repaired on these days, on `as_of` (`public`: public on that day by the
    /// publication rules).
    fn sees(&self, d: Disclosure, provider: &str, gone: Gone, public: bool) -> bool {
        match self {
            Viewer::Public => d == Disclosure::Public && public,
            // the centre and the entity itself see everything, marked revoked or repaired
            Viewer::Entitled { scope: Scope::All | Scope::Subject(_), .. } => true,
            // a revoked decision is void for every department; a repaired one is no
            // longer shared, except with the department that decided it
            Viewer::Entitled { scope: Scope::Department(own), .. } => {
                !gone.revoked && (!gone.repaired || own == provider)
            }
            // agencies: what is shared with them, while it is (publication windows and
            // repairs bind them as they bind the portal)
            Viewer::Entitled { .. } => {
                d <= Disclosure::Shared && !gone.revoked && !gone.repaired && (d != Disclosure::Public || public)
            }
        }
    }
}

/// A record's state that ends what others may see of it.
#[derive(Debug, Clone, Copy)]
struct Gone {
    revoked: bool,
    /// Repaired on or before the day asked about.
    repaired: bool,
}

/// One field of a record: its Chinese name, English label and value (IDs masked).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldView {
    pub name: String,
    pub en: String,
    pub value: String,
}

/// A record as the viewer may see it, with its publication window.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecordView {
    pub id: i64,
    pub item: String,
    pub item_name_zh: String,
    pub item_name_en: String,
    pub category: String,
    pub provider: String,
    pub key: String,
    #[schema(format = Date)]
    pub decision_date: Option<String>,
    pub tier: Option<Tier>,
    #[schema(value_type = RecordStatus)]
    pub status: String,
    pub disclosure: Disclosure,
    pub ledger_index: u64,
    pub publicity: Publicity,
    /// An objection is open (异议处理中), or could not be confirmed (shown with it).
    pub disputed: bool,
    /// That objection: its case, statement and (once decided) the department's answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dispute: Option<crate::cases::Dispute>,
    /// The day a credit repair was granted (信用修复), if it was.
    #[schema(format = Date)]
    pub repaired_on: Option<String>,
    pub fields: Vec<FieldView>,
    /// A commitment's record (`credit_commitment`): the commitment and where it stands
    /// on the day asked about (履约中 / 已履约 / 未履约).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commitment: Option<crate::commitments::CommitmentView>,
    /// Voluntarily registered information (`voluntary_registration`): self-declared,
    /// verified or found false, by its truthfulness commitment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declaration: Option<crate::registrations::Declaration>,
}

/// A subject and its records as the viewer may see them on `as_of`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubjectView {
    /// USCC, or a resident ID masked.
    pub code: String,
    #[schema(value_type = xinyong_core::SubjectKind)]
    pub kind: String,
    pub kind_zh: String,
    pub name: String,
    pub former_names: Vec<String>,
    pub legal_rep_name: Option<String>,
    pub legal_rep_id: Option<String>,
    pub division: Option<String>,
    /// The division's GB/T 2260 name, e.g. 北京市海淀区 (`core::reference`), when the
    /// code is known.
    pub division_name: Option<String>,
    pub industry: Option<String>,
    /// The industry's GB/T 4754-2017 name, e.g. 信息传输、软件和信息技术服务业.
    pub industry_name: Option<String>,
    #[schema(format = Date)]
    pub as_of: String,
    pub ledger_index: u64,
    pub records: Vec<RecordView>,
    /// Records that exist but this viewer may not see (no detail). Absent for the
    /// public: nothing public hints that a hidden record exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withheld: Option<usize>,
    /// Rectification notices (限期整改) and interviews (约谈) with their outcome (on
    /// time, overdue): part of the record for departments, the centre and the entity
    /// itself, not published.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supervision: Option<Vec<crate::cases::CaseView>>,
    /// Counts of what this view shows (never of what it withholds).
    pub summary: SubjectSummary,
    /// Entries other platforms sent (异地共享, `exchange`) that are in force there, each
    /// with its origin: for the public the list entries of public list types with their
    /// decision's reason, basis and term; for everyone else entitled, every entry.
    pub regional: Vec<RegionalView>,
    /// Which re-publishers (banks, credit agencies) applied this subject's repairs,
    /// revocations and removals, and when: for the entity itself and the centre.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub republications: Option<Vec<crate::subscriptions::Republication>>,
}

/// Another platform's entry as shown: the entry and the name of its item or list type.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegionalView {
    #[serde(flatten)]
    pub entry: xinyong_core::exchange::ForeignEntry,
    /// The catalog item's or list type's name (empty when this platform does not know it).
    pub name_zh: String,
    pub name_en: String,
}

/// Fields of another platform's list entry the public sees: the decision's reason, basis
/// and term, never the persons named.
const REGIONAL_PUBLIC_FIELDS: &[&str] = &["reason", "basis", "decision_date", "start", "end", "scope"];

fn regional_for(app: &App, entries: Vec<xinyong_core::exchange::ForeignEntry>, viewer: &Viewer) -> Vec<RegionalView> {
    use xinyong_core::exchange::Target;
    let rules = xinyong_core::lists::ListRules::bundled();
    let public = matches!(viewer, Viewer::Public);
    entries
        .into_iter()
        .filter(|e| !public || (e.target == Target::Listing && rules.list_type(&e.item).is_some_and(|t| t.public)))
        .map(|mut e| {
            if public {
                e.fields.retain(|k, _| REGIONAL_PUBLIC_FIELDS.contains(&k.as_str()));
            }
            let (name_zh, name_en) = match e.target {
                Target::Record => app.catalog().item(&e.item).map(|i| (i.name_zh.clone(), i.name_en.clone())),
                Target::Listing => rules.list_type(&e.item).map(|t| (t.name_zh.clone(), t.name_en.clone())),
            }
            .unwrap_or_default();
            RegionalView { entry: e, name_zh, name_en }
        })
        .collect()
}

/// What a subject view holds, counted: records per catalog item (catalog order, items
/// with none left out), and how many are disputed, revoked or repaired.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct SubjectSummary {
    pub records: usize,
    pub items: Vec<ItemCount>,
    /// Records with an open objection (异议处理中).
    pub disputed: usize,
    pub revoked: usize,
    pub repaired: usize,
}

/// The number of records of one catalog item in a view.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemCount {
    pub item: String,
    pub name_zh: String,
    pub name_en: String,
    pub category: String,
    pub category_en: String,
    pub count: usize,
}

impl SubjectSummary {
    /// Counted from the records a viewer is shown.
    fn of(catalog: &xinyong_core::Catalog, records: &[RecordView]) -> SubjectSummary {
        let items = catalog
            .items()
            .filter_map(|item| {
                let count = records.iter().filter(|r| r.item == item.code).count();
                (count > 0).then(|| ItemCount {
                    item: item.code.clone(),
                    name_zh: item.name_zh.clone(),
                    name_en: item.name_en.clone(),
                    category: item.category.clone(),
                    category_en: item.category_en.clone(),
                    count,
                })
            })
            .collect();
        SubjectSummary {
            records: records.len(),
            items,
            disputed: records.iter().filter(|r| r.disputed).count(),
            revoked: records.iter().filter(|r| r.status == "revoked").count(),
            repaired: records.iter().filter(|r| r.repaired_on.is_some()).count(),
        }
    }
}

impl App {
    /// The subject as `caller` may see it on `as_of`; `None` for an unknown code. Reads
    /// of non-public records are logged (who, why, what) before the answer leaves.
    pub fn subject(
        &self,
        caller: &Caller,
        code: &SubjectCode,
        as_of: Date,
        purpose: Option<String>,
    ) -> Result<Option<SubjectView>> {
        self.subject_items(caller, code, as_of, purpose, None)
    }

    /// As [`App::subject`], with only the records of `only_item` (when given): what is
    /// logged as read is what the answer shows.
    pub(crate) fn subject_items(
        &self,
        caller: &Caller,
        code: &SubjectCode,
        as_of: Date,
        purpose: Option<String>,
        only_item: Option<&str>,
    ) -> Result<Option<SubjectView>> {
        let viewer = Viewer::of(caller, code.key(), purpose);
        if matches!(viewer, Viewer::Public) && as_of != crate::today_shanghai() {
            // "what was public on day D" would undo the end of publication
            return Err(crate::AppError::forbidden(
                "as_of_requires_account",
                "查询历史日期的信息须登录并说明用途",
                "asking about a past or future day needs an account and a purpose",
            ));
        }
        let Some((view, shown)) = self.db().read(|s| subject_view(self, s, code, as_of, &viewer, only_item))? else {
            return Ok(None);
        };
        if let (Viewer::Entitled { purpose, .. }, false) = (&viewer, shown.is_empty()) {
            let entry = AccessEntry {
                subject_code: code.key().to_string(),
                account_id: caller.account_id(),
                actor: caller.actor_name(),
                provider: caller.account().and_then(|a| a.provider.clone()),
                purpose: purpose.clone(),
                what: shown.join(","),
                at_ms: now_ms(),
            };
            self.side_log()?.access(entry)?.wait()?;
        }
        Ok(Some(view))
    }

    /// Who read this subject's non-public data, why and when (the entity itself and the
    /// centre), newest first.
    pub fn access_log(&self, caller: &Caller, code: &str, limit: u32) -> Result<Vec<AccessEntry>> {
        let code = crate::parse_code(code)?;
        permit(caller, Action::AccessLogOf { subject: code.key() })?;
        self.db().read(|s| Ok(s.access_log(code.key(), limit.min(1000))?))
    }
}

pub use xinyong_store::AccessEntry as AccessLogEntry;

/// Where a record stands (the `status` of a [`RecordView`], stored as text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    Active,
    /// Revoked (撤销): kept, with its revocation in the ledger.
    Revoked,
}

/// Who read a subject's non-public data, newest first, as the API answers it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccessLog {
    pub entries: Vec<AccessEntry>,
}

/// The view and the non-public records it shows (for the access log).
fn subject_view(
    app: &App,
    store: &dyn Store,
    code: &SubjectCode,
    as_of: Date,
    viewer: &Viewer,
    only_item: Option<&str>,
) -> Result<Option<(SubjectView, Vec<String>)>> {
    let Some(subject) = store.subject(code.key())? else { return Ok(None) };
    let rules = PublicationRules::bundled();
    let rows = store.records_of(code.key())?;
    let rows = rows.into_iter().filter(|r| only_item.is_none_or(|i| r.item == i));
    let mut commitments: BTreeMap<i64, xinyong_core::commitment::Commitment> =
        store.commitments_of(code.key())?.into_iter().map(|c| (c.record_id, c)).collect();
    // a registration names its truthfulness commitment by number
    let declarations: BTreeMap<(String, String), crate::registrations::Declaration> = commitments
        .values()
        .map(|c| ((c.department.clone(), c.number.clone()), crate::registrations::Declaration::of(c, as_of)))
        .collect();
    let mut records = Vec::new();
    let mut withheld = 0;
    let mut non_public_shown = Vec::new();
    let mut disputes = app.disputes(store, code.key())?;
    for row in rows {
        let Some(item) = app.catalog().item(&row.item) else {
            withheld += 1;
            continue;
        };
        let fields = record_fields(store, &row)?;
        let revoked_on = event_day(store, row.revoked_event)?;
        let repaired_on = event_day(store, row.repaired_event)?;
        let facts = RecordFacts { revoked_on, repaired_on, ..facts_of(item, &row, &fields, None) };
        let p = publicity_on(rules, &app.calendar(), &facts, as_of);
        let gone = Gone { revoked: revoked_on.is_some(), repaired: repaired_on.is_some_and(|d| d <= as_of) };
        if !viewer.sees(item.disclosure, &row.provider, gone, p.public) {
            withheld += 1;
            continue;
        }
        if !p.public || item.disclosure != Disclosure::Public {
            non_public_shown.push(format!("{}:{}", row.item, row.id));
        }
        let tier = facts.tier;
        let dispute = disputes.remove(&(true, row.id));
        let fields = field_views(item, &fields, code.is_person());
        records.push(RecordView {
            id: row.id,
            item: row.item.clone(),
            item_name_zh: item.name_zh.clone(),
            item_name_en: item.name_en.clone(),
            category: item.category.clone(),
            provider: row.provider.clone(),
            key: row.key.replace('\u{1f}', " / "),
            decision_date: row.decision_date.clone(),
            tier,
            status: row.status.clone(),
            disclosure: item.disclosure,
            ledger_index: row.event_index,
            publicity: p,
            disputed: dispute.is_some(),
            dispute,
            repaired_on: repaired_on.map(xinyong_core::record::date_string),
            declaration: (row.item == crate::registrations::ITEM)
                .then(|| fields.iter().find(|f| f.name == "承诺书编号"))
                .flatten()
                .and_then(|f| declarations.get(&(row.provider.clone(), f.value.clone())).cloned()),
            commitment: commitments.remove(&row.id).map(|c| {
                let name = fields.iter().find(|f| f.name == "承诺事项").map_or("", |f| f.value.as_str());
                crate::commitments::CommitmentView::of(&c, name, as_of)
            }),
            fields,
        });
    }
    let kind = xinyong_core::SubjectKind::parse(&subject.kind);
    let summary = SubjectSummary::of(app.catalog(), &records);
    let reference = |name: Option<&'static str>| name.map(str::to_string);
    let view = SubjectView {
        code: code.display(),
        kind: subject.kind.clone(),
        kind_zh: kind.map(|k| k.name_zh().to_string()).unwrap_or_default(),
        name: subject.name,
        former_names: subject.former_names,
        legal_rep_name: subject.legal_rep_name,
        legal_rep_id: subject.legal_rep_id.as_deref().map(mask_id),
        division_name: reference(subject.division.as_deref().and_then(xinyong_core::reference::division_name)),
        division: subject.division,
        industry_name: reference(subject.industry.as_deref().and_then(xinyong_core::reference::industry_name)),
        industry: subject.industry,
        as_of: xinyong_core::record::date_string(as_of),
        ledger_index: subject.created_event,
        records,
        withheld: (!matches!(viewer, Viewer::Public)).then_some(withheld),
        supervision: match viewer {
            Viewer::Entitled { scope: Scope::All | Scope::Department(_) | Scope::Subject(_), .. } => {
                Some(app.supervision_of(store, code.key(), as_of)?)
            }
            _ => None,
        },
        summary,
        regional: regional_for(app, app.regional_of(store, code.key())?, viewer),
        republications: match viewer {
            Viewer::Entitled { scope: Scope::All | Scope::Subject(_), .. } => {
                Some(app.republications_of(store, code.key())?)
            }
            _ => None,
        },
    };
    Ok(Some((view, non_public_shown)))
}

/// A record's fields in catalog order as anyone shown the record sees them: personal
/// IDs masked, and the subject code too when the subject is a natural person.
/// A record's fields as shown: personal numbers masked (the subject code of a person,
/// resident IDs, and a 证件号码 by its 证件类型: an organisation's old number is public).
pub(crate) fn field_views(
    item: &xinyong_core::Item,
    fields: &BTreeMap<String, String>,
    person_subject: bool,
) -> Vec<FieldView> {
    item.fields
        .iter()
        .filter_map(|f| {
            let v = fields.get(&f.name)?;
            let value = if f.ty == FieldType::ResidentId || (f.name == item.subject_code_field && person_subject) {
                mask_id(v)
            } else if f.ty == FieldType::PersonalId {
                let doc = item
                    .document
                    .as_ref()
                    .filter(|d| d.number_field == f.name)
                    .and_then(|d| fields.get(&d.type_field))
                    .and_then(|t| DocType::from_zh(t));
                mask_number(doc, v)
            } else {
                v.clone()
            };
            Some(FieldView { name: f.name.clone(), en: f.en.clone(), value })
        })
        .collect()
}

/// The record's current fields (from its content event).
pub(crate) fn record_fields(store: &dyn Store, row: &RecordRow) -> Result<BTreeMap<String, String>> {
    let Some(ev) = store.event(row.event_index)? else { return Ok(BTreeMap::new()) };
    let body = EventBody::from_bytes(&ev.payload).map_err(|e| {
        crate::AppError::Store(xinyong_store::StoreError::Corrupt(format!("event {} does not parse: {e}", ev.index)))
    })?;
    Ok(body.fields.unwrap_or_default())
}

/// The facts the publication rules need of a stored record.
pub(crate) fn facts_of<'a>(
    item: &'a xinyong_core::Item,
    row: &RecordRow,
    fields: &'a BTreeMap<String, String>,
    revoked_on: Option<Date>,
) -> RecordFacts<'a> {
    RecordFacts {
        item,
        fields,
        decision_date: row.decision_date.as_deref().and_then(parse_date),
        tier: row.tier.as_deref().and_then(|t| serde_json::from_value(serde_json::Value::String(t.into())).ok()),
        revoked_on,
        repaired_on: None,
    }
}

/// The day (Asia/Shanghai) of a ledger event, e.g. a revocation or a repair.
pub(crate) fn event_day(store: &dyn Store, index: Option<u64>) -> Result<Option<Date>> {
    let Some(i) = index else { return Ok(None) };
    Ok(store.event(i)?.and_then(|e| EventBody::from_bytes(&e.payload).ok()).map(|b| shanghai_date(b.at)))
}

/// The calendar day in Asia/Shanghai of a millisecond timestamp.
pub fn shanghai_date(ms: i64) -> Date {
    let offset = time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::from_unix_timestamp(ms / 1000).map(|t| t.to_offset(offset).date()).unwrap_or(time::Date::MIN)
}
