//! Rows refused at intake (隔离区): each department sees and corrects its own, the
//! credit centre all of them. Resubmission runs the row through intake again.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use xinyong_store::QuarantineFilter;
pub use xinyong_store::{Outcome, QuarantineRow};

use crate::access::{Action, Caller, Scope, permit};
use crate::{App, AppError, Result};

/// Which entries to page through.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QuarantineQuery {
    pub item: Option<String>,
    /// One department's entries (the centre; an officer always sees its own).
    pub provider: Option<String>,
    /// `open` (default), `resolved` or `all`.
    pub status: Option<String>,
    /// Entries whose latest submission came in this batch.
    pub batch: Option<String>,
    /// Entries refused for this reason (rule id, e.g. `code.check_char`; see `/reasons`).
    pub reason: Option<String>,
    /// Entries with an error in this field (the catalog's Chinese name).
    pub field: Option<String>,
    #[serde(default)]
    pub after: i64,
    /// 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// What a resubmission did, and the entry as it now stands.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Resubmitted {
    pub outcome: Outcome,
    pub entry: Option<QuarantineRow>,
}

/// A page of quarantined rows, as the API answers them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuarantinePage {
    pub entries: Vec<QuarantineRow>,
}

/// Quarantined rows for one reason.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReasonGroup {
    pub item: String,
    /// The item's Chinese name.
    pub item_name: String,
    /// The field (empty for a row-level reason).
    pub field: String,
    /// The rule broken (filter with `reason=`).
    pub rule: String,
    /// Rows with this reason (a row refused for two reasons counts under each).
    pub rows: u64,
    /// The reason naming the field, in Chinese.
    pub zh: String,
    pub en: String,
}

/// How many rows match, and the same rows counted by reason.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuarantineReasons {
    pub total: u64,
    pub reasons: Vec<ReasonGroup>,
}

fn nonempty(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// Where a quarantined row stands (the `status` of a [`QuarantineRow`], stored as text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuarantineStatus {
    /// Waiting for a correction.
    Open,
    /// Corrected and accepted (`resolved_record`).
    Resolved,
}

impl App {
    /// Quarantined rows the caller may see, in id order.
    pub fn quarantine(&self, caller: &Caller, q: &QuarantineQuery) -> Result<Vec<QuarantineRow>> {
        let filter = self.quarantine_filter(caller, q)?;
        self.db().read(|s| Ok(s.quarantine(&filter)?))
    }

    /// The store's filter for what `caller` asks with `q` (an officer: its own rows only).
    pub(crate) fn quarantine_filter(&self, caller: &Caller, q: &QuarantineQuery) -> Result<QuarantineFilter> {
        let provider = match permit(caller, Action::QuarantineList)? {
            Scope::Department(d) => Some(d),
            _ => nonempty(&q.provider),
        };
        let status = match q.status.as_deref() {
            None | Some("open") | Some("") => Some("open".to_string()),
            Some("all") => None,
            Some(s) => Some(s.to_string()),
        };
        Ok(QuarantineFilter {
            provider,
            item: nonempty(&q.item),
            status,
            batch: nonempty(&q.batch),
            rule: nonempty(&q.reason),
            field: nonempty(&q.field),
            after_id: q.after,
            limit: crate::page_size(q.limit, 100, 1000)?,
        })
    }

    /// The rows matching `q` (its paging ignored) counted by reason: what a department
    /// works through, largest group first, each reason in words.
    pub fn quarantine_reasons(&self, caller: &Caller, q: &QuarantineQuery) -> Result<QuarantineReasons> {
        let filter = self.quarantine_filter(caller, q)?;
        let (total, groups) = self.db().read(|s| Ok((s.quarantine_count(&filter)?, s.quarantine_reasons(&filter)?)))?;
        let reasons = groups
            .into_iter()
            .map(|g| {
                let (zh, en) = crate::quality::reason_text(&g.field, &g.rule);
                let item_name = self.catalog().item(&g.item).map_or_else(|| g.item.clone(), |i| i.name_zh.clone());
                ReasonGroup { item: g.item, item_name, field: g.field, rule: g.rule, rows: g.rows, zh, en }
            })
            .collect();
        Ok(QuarantineReasons { total, reasons })
    }

    /// One entry, if the caller may see it.
    pub fn quarantine_entry(&self, caller: &Caller, id: i64) -> Result<QuarantineRow> {
        let entry = self
            .db()
            .read(|s| Ok(s.quarantine_entry(id)?))?
            .ok_or_else(|| AppError::NotFound(format!("隔离区条目 {id} / quarantine entry {id}")))?;
        permit(caller, Action::Quarantine { department: &entry.provider })?;
        Ok(entry)
    }

    /// Resubmits a corrected quarantined row (field name → corrected text).
    pub fn resubmit(&self, caller: &Caller, id: i64, set: &BTreeMap<String, String>) -> Result<Resubmitted> {
        self.quarantine_entry(caller, id)?;
        let set: Vec<(String, String)> = set.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let outcome = crate::intake::resubmit(self, id, &set)?;
        let entry = self.db().read(|s| Ok(s.quarantine_entry(id)?))?;
        Ok(Resubmitted { outcome, entry })
    }
}
