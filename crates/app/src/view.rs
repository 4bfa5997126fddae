//! What a viewer may see of a subject on a given day: the publication rules applied
//! to the stored records, personal data masked, non-public reads logged.

use std::collections::BTreeMap;

use serde::Serialize;
use time::Date;
use xinyong_core::SubjectCode;
use xinyong_core::catalog::{Disclosure, FieldType, Tier};
use xinyong_core::codes::mask_id;
use xinyong_core::event::EventBody;
use xinyong_core::publication::{PublicationRules, Publicity, RecordFacts, publicity};
use xinyong_core::record::parse_date;
use xinyong_store::{AccessEntry, Account, RecordRow};

use crate::{App, Result, now_ms};

/// Who is looking.
#[derive(Debug, Clone)]
pub enum Viewer {
    /// Anyone: public items inside their publication window.
    Public,
    /// A signed-in account (officer or administrator), reading for a stated purpose.
    Account { account: Account, purpose: String },
}

impl Viewer {
    fn may_see(&self, d: Disclosure) -> bool {
        match self {
            Viewer::Public => d == Disclosure::Public,
            Viewer::Account { account, .. } if account.role == "admin" => true,
            Viewer::Account { .. } => d <= Disclosure::Shared,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FieldView {
    pub name: String,
    pub en: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecordView {
    pub id: i64,
    pub item: String,
    pub item_name_zh: String,
    pub item_name_en: String,
    pub category: String,
    pub provider: String,
    pub key: String,
    pub decision_date: Option<String>,
    pub tier: Option<Tier>,
    pub status: String,
    pub disclosure: Disclosure,
    pub ledger_index: u64,
    pub publicity: Publicity,
    pub fields: Vec<FieldView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SubjectView {
    pub code: String,
    pub kind: String,
    pub kind_zh: String,
    pub name: String,
    pub former_names: Vec<String>,
    pub legal_rep_name: Option<String>,
    pub legal_rep_id: Option<String>,
    pub division: Option<String>,
    pub industry: Option<String>,
    pub as_of: String,
    pub ledger_index: u64,
    pub records: Vec<RecordView>,
    /// Records that exist but this viewer may not see (no detail).
    pub withheld: usize,
}

/// The subject as `viewer` may see it on `as_of`; `None` for an unknown code.
pub fn subject_view(app: &mut App, code: &SubjectCode, as_of: Date, viewer: &Viewer) -> Result<Option<SubjectView>> {
    let Some(subject) = app.store.subject(code.key())? else { return Ok(None) };
    let rules = PublicationRules::bundled();
    let rows = app.store.records_of(code.key())?;
    let mut records = Vec::new();
    let mut withheld = 0;
    let mut non_public_shown = Vec::new();
    for row in rows {
        let Some(item) = app.catalog.item(&row.item) else {
            withheld += 1;
            continue;
        };
        let (fields, revoked_on) = record_content(app, &row)?;
        let decision_date = row.decision_date.as_deref().and_then(parse_date);
        let tier = row.tier.as_deref().and_then(|t| serde_json::from_value(serde_json::Value::String(t.into())).ok());
        let facts = RecordFacts { item, fields: &fields, decision_date, tier, revoked_on, repaired_on: None };
        let p = publicity(rules, &facts, as_of);
        let visible = match viewer {
            Viewer::Public => item.disclosure == Disclosure::Public && p.public,
            // accounts see what their role allows, inside or outside the window, until revoked
            Viewer::Account { .. } => viewer.may_see(item.disclosure) && revoked_on.is_none_or(|d| d > as_of),
        };
        if !visible {
            withheld += 1;
            continue;
        }
        if !p.public || item.disclosure != Disclosure::Public {
            non_public_shown.push(format!("{}:{}", row.item, row.id));
        }
        let fields = item
            .fields
            .iter()
            .filter_map(|f| {
                let v = fields.get(&f.name)?;
                let value = if matches!(f.ty, FieldType::ResidentId | FieldType::PersonalId)
                    || (f.name == item.subject_code_field && matches!(code, SubjectCode::Resident(_)))
                {
                    mask_id(v)
                } else {
                    v.clone()
                };
                Some(FieldView { name: f.name.clone(), en: f.en.clone(), value })
            })
            .collect();
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
            fields,
        });
    }
    if let (Viewer::Account { account, purpose }, false) = (viewer, non_public_shown.is_empty()) {
        app.store.log_access(&AccessEntry {
            subject_code: code.key().to_string(),
            account_id: account.id,
            actor: account.username.clone(),
            provider: account.provider.clone(),
            purpose: purpose.clone(),
            what: non_public_shown.join(","),
            at_ms: now_ms(),
        })?;
    }
    let kind = xinyong_core::SubjectKind::parse(&subject.kind);
    Ok(Some(SubjectView {
        code: code.display(),
        kind: subject.kind.clone(),
        kind_zh: kind.map(|k| k.name_zh().to_string()).unwrap_or_default(),
        name: subject.name,
        former_names: subject.former_names,
        legal_rep_name: subject.legal_rep_name,
        legal_rep_id: subject.legal_rep_id.as_deref().map(mask_id),
        division: subject.division,
        industry: subject.industry,
        as_of: xinyong_core::record::date_string(as_of),
        ledger_index: subject.created_event,
        records,
        withheld,
    }))
}

/// The record's current fields (from its content event) and, when revoked, the day of
/// revocation (the revocation event's time, in Asia/Shanghai).
fn record_content(app: &App, row: &RecordRow) -> Result<(BTreeMap<String, String>, Option<Date>)> {
    let Some(ev) = app.store.event(row.event_index)? else { return Ok((BTreeMap::new(), None)) };
    let body = EventBody::from_bytes(&ev.payload).map_err(|e| {
        crate::AppError::Store(xinyong_store::StoreError::Corrupt(format!("event {} does not parse: {e}", ev.index)))
    })?;
    let revoked_on = match row.revoked_event {
        Some(i) => {
            app.store.event(i)?.and_then(|e| EventBody::from_bytes(&e.payload).ok()).map(|b| shanghai_date(b.at))
        }
        None => None,
    };
    Ok((body.fields.unwrap_or_default(), revoked_on))
}

/// The calendar day in Asia/Shanghai of a millisecond timestamp.
pub fn shanghai_date(ms: i64) -> Date {
    let offset = time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::from_unix_timestamp(ms / 1000).map(|t| t.to_offset(offset).date()).unwrap_or(time::Date::MIN)
}
