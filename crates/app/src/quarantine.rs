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
    #[serde(default)]
    pub after: i64,
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
        let provider = match permit(caller, Action::QuarantineList)? {
            Scope::Department(d) => Some(d),
            _ => q.provider.clone(),
        };
        let status = match q.status.as_deref() {
            None | Some("open") => Some("open".to_string()),
            Some("all") => None,
            Some(s) => Some(s.to_string()),
        };
        let filter = QuarantineFilter {
            provider,
            item: q.item.clone(),
            status,
            after_id: q.after,
            limit: q.limit.unwrap_or(100).min(1000),
        };
        self.db().read(|s| Ok(s.quarantine(&filter)?))
    }

    /// One entry, if the caller may see it.
    pub fn quarantine_entry(&self, caller: &Caller, id: i64) -> Result<QuarantineRow> {
        let entry = self
            .db()
            .read(|s| Ok(s.quarantine_entry(id)?))?
            .ok_or_else(|| AppError::NotFound(format!("quarantine entry {id}")))?;
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
