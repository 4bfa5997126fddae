//! One catalog item's public records across subjects, optionally filtered by a field
//! value: e.g. the A-level taxpayers banks use for 银税互动 are the `tax_credit_rating`
//! records with 纳税信用级别 = A. What anyone may see today, so nothing is logged.

use serde::Serialize;
use xinyong_core::SubjectCode;
use xinyong_core::catalog::Disclosure;
use xinyong_core::codes::mask_id;
use xinyong_core::publication::{PublicationRules, RecordFacts, publicity_on};

use crate::view::{RecordView, event_day, facts_of, field_views, record_fields};
use crate::{App, AppError, Result};

/// The most records one page holds.
pub const MAX_LIMIT: u32 = 500;
/// Stored records one request reads at most: a rare value cannot make a page scan
/// the whole item; the answer's `next_after` lets the caller go on.
const SCAN_BUDGET: usize = 20_000;

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct ItemQuery {
    pub item: String,
    /// Keep records whose field `field` equals `value` (both or neither).
    pub field: Option<String>,
    pub value: Option<String>,
    /// Records with id above this one (the previous page's `next_after`).
    pub after: i64,
    pub limit: u32,
}

/// A public record with the subject it is about.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemRecord {
    /// USCC, or a resident ID masked.
    pub subject_code: String,
    pub subject_name: String,
    pub record: RecordView,
}

/// A page of an item's public records.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemRecords {
    pub item: String,
    pub item_name_zh: String,
    pub item_name_en: String,
    pub field: Option<String>,
    pub value: Option<String>,
    pub records: Vec<ItemRecord>,
    /// Pass as `after` for the next page; absent when the item has no more records.
    pub next_after: Option<i64>,
}

impl App {
    /// The records of `q.item` public today (publication rules applied, as on the
    /// portal), filtered by `q.field` = `q.value`, in record id order.
    pub fn item_records(&self, q: &ItemQuery) -> Result<ItemRecords> {
        let Some(item) = self.catalog().item(&q.item) else {
            return Err(AppError::invalid(
                "unknown_item",
                format!("目录中没有信息项“{}”", q.item),
                format!("the catalog has no item {:?}", q.item),
            ));
        };
        let filter = match (&q.field, &q.value) {
            (Some(f), Some(v)) => {
                if item.field(f).is_none() {
                    return Err(AppError::invalid(
                        "unknown_field",
                        format!("信息项“{}”没有字段“{f}”", item.name_zh),
                        format!("item {} has no field {f:?}", item.code),
                    ));
                }
                Some((f.as_str(), v.trim()))
            }
            (None, None) => None,
            _ => {
                return Err(AppError::invalid(
                    "field_and_value",
                    "按字段筛选须同时给出 field 和 value",
                    "filtering needs both field and value",
                ));
            }
        };
        let limit = q.limit.clamp(1, MAX_LIMIT) as usize;
        let today = crate::today_shanghai();
        let rules = PublicationRules::bundled();
        let calendar = self.calendar();
        let (records, next_after) = self.db().read(|s| {
            let mut out = Vec::new();
            let mut after = q.after;
            let mut scanned = 0usize;
            loop {
                let batch = s.records_of_item(&item.code, after, 500)?;
                let Some(last) = batch.last() else { return Ok((out, None)) };
                let last_id = last.id;
                for row in batch {
                    after = row.id;
                    scanned += 1;
                    if item.disclosure != Disclosure::Public || row.status == "revoked" {
                        continue;
                    }
                    let fields = record_fields(s, &row)?;
                    if let Some((f, v)) = filter
                        && fields.get(f).map(String::as_str) != Some(v)
                    {
                        continue;
                    }
                    let repaired_on = event_day(s, row.repaired_event)?;
                    let facts = RecordFacts { repaired_on, ..facts_of(item, &row, &fields, None) };
                    let p = publicity_on(rules, &calendar, &facts, today);
                    if !p.public {
                        continue;
                    }
                    let code = SubjectCode::parse(&row.subject_code);
                    let person = code.as_ref().is_ok_and(SubjectCode::is_person);
                    let dispute = self.disputes(s, &row.subject_code)?.remove(&(true, row.id));
                    let declaration = crate::registrations::declaration_of(s, &row, &fields, today)?;
                    let record = RecordView {
                        id: row.id,
                        item: row.item.clone(),
                        item_name_zh: item.name_zh.clone(),
                        item_name_en: item.name_en.clone(),
                        category: item.category.clone(),
                        provider: row.provider.clone(),
                        key: row.key.replace('\u{1f}', " / "),
                        decision_date: row.decision_date.clone(),
                        tier: facts.tier,
                        status: row.status.clone(),
                        disclosure: item.disclosure,
                        ledger_index: row.event_index,
                        publicity: p,
                        disputed: dispute.is_some(),
                        dispute,
                        repaired_on: None,
                        fields: field_views(item, &fields, person),
                        commitment: None,
                        declaration,
                    };
                    out.push(ItemRecord {
                        // a person's number is never shown in full
                        subject_code: match &code {
                            Ok(c) => c.display(),
                            Err(_) => mask_id(&row.subject_code),
                        },
                        subject_name: fields.get(&item.subject_name_field).cloned().unwrap_or_default(),
                        record,
                    });
                    if out.len() == limit {
                        return Ok((out, Some(row.id)));
                    }
                }
                if scanned >= SCAN_BUDGET {
                    return Ok((out, Some(last_id)));
                }
            }
        })?;
        Ok(ItemRecords {
            item: item.code.clone(),
            item_name_zh: item.name_zh.clone(),
            item_name_en: item.name_en.clone(),
            field: filter.map(|(f, _)| f.to_string()),
            value: filter.map(|(_, v)| v.to_string()),
            records,
            next_after,
        })
    }
}
