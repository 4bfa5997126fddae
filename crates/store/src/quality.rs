//! What intake did with each batch, as the data quality report (重错码率, timeliness)
//! reads it. A batch's figures are facts of the moment it was received: they are
//! tallied from the batch's entries and outcomes by [`tally`] and written in the
//! transaction that appended them, so a crash never leaves figures without rows or
//! rows without figures. Later fixes (a resubmission, a corrected upload) are batches
//! of their own and do not rewrite the figures of the batch that was refused.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Entry, Outcome};

/// Rows refused for one reason: a rule broken in one field (`field` is empty for a
/// row-level reason, e.g. a misaligned row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReasonCount {
    /// Catalog item (empty inside a batch's figures: the batch has one item).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub item: String,
    pub field: String,
    pub rule: String,
    /// Rows refused for this reason (a row refused for two reasons counts under each).
    pub rows: u64,
}

/// One intake batch (an import, an API call, a resubmission, an uploaded correction
/// file) and what intake did with its rows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BatchStats {
    pub batch: String,
    pub provider: String,
    pub item: String,
    /// File name or channel (`api`, `resubmission`, …).
    pub source: String,
    /// When intake received it (the provenance time of its records).
    pub received_ms: i64,
    /// Non-blank rows received: accepted + corrected + duplicates + quarantined.
    pub rows: u64,
    pub accepted: u64,
    pub corrected: u64,
    /// Rows identical to a stored record (same identity and content): nothing written.
    pub duplicates: u64,
    /// Rows refused into quarantine, including those already there from an earlier batch.
    pub quarantined: u64,
    /// Of `quarantined`, rows already in quarantine from an earlier batch.
    pub quarantined_known: u64,
    /// Refused rows whose subject code is wrong: see [`is_wrong_code`].
    pub wrong_code: u64,
    /// Refused rows by reason, most frequent first.
    pub refused: Vec<ReasonCount>,
    /// Accepted (new) records by decision date (`YYYY-MM-DD`): timeliness is computed
    /// from these and the working-day calendar when the report is read.
    pub decided: BTreeMap<String, u64>,
}

/// Whether a refusal is a wrong subject code (错码): the code field breaks a code rule
/// (`code.*`: length, characters, check character, unknown division …) or the row's
/// document already belongs to another subject's code (`identity.conflict`: one of the
/// two codes is wrong). A missing code is `required`, not a wrong code.
pub fn is_wrong_code(rule: &str) -> bool {
    rule.starts_with("code.") || rule == "identity.conflict"
}

/// The rule and field of the refusal the store itself makes (a record whose identity
/// belongs to another subject): what [`tally`] counts it under.
const IDENTITY_CONFLICT: (&str, &str) = ("", "identity.conflict");

/// Which filter the report reads batches with.
#[derive(Debug, Clone, Default)]
pub struct BatchFilter {
    pub provider: Option<String>,
    pub batch: Option<String>,
    /// Most recent first; 0 for the default (1000).
    pub limit: u32,
}

/// Tallies one appended chunk per batch, in first-seen order. `outcomes[i]` is the
/// outcome of `entries[i]` (all filled once the plan ran); `now_ms` stands in for the
/// receipt time of a batch with no record entry (only refused rows).
pub fn tally(entries: &[Entry], outcomes: &[Option<Outcome>], now_ms: i64) -> Vec<BatchStats> {
    let mut out: Vec<BatchStats> = Vec::new();
    let mut refused: Vec<BTreeMap<(String, String), u64>> = Vec::new();
    for (e, o) in entries.iter().zip(outcomes) {
        let (batch, provider, item, source, at) = match e {
            Entry::Record(r) => (
                r.provenance.batch.as_str(),
                r.provider.as_str(),
                r.record.item.as_str(),
                r.provenance.source.as_str(),
                Some(r.provenance.at),
            ),
            Entry::Quarantine(q) => (q.batch.as_str(), q.provider.as_str(), q.item.as_str(), q.source.as_str(), None),
        };
        let i = match out.iter().position(|b| b.batch == batch) {
            Some(i) => i,
            None => {
                out.push(BatchStats {
                    batch: batch.to_string(),
                    provider: provider.to_string(),
                    item: item.to_string(),
                    source: source.to_string(),
                    received_ms: at.unwrap_or(now_ms),
                    ..Default::default()
                });
                refused.push(BTreeMap::new());
                out.len() - 1
            }
        };
        let b = &mut out[i];
        if let Some(at) = at {
            b.received_ms = b.received_ms.min(at);
        }
        b.rows += 1;
        match o {
            Some(Outcome::Accepted { .. }) => {
                b.accepted += 1;
                if let Entry::Record(r) = e
                    && let Some(d) = r.record.decision_date
                {
                    *b.decided.entry(xinyong_core::record::date_string(d)).or_default() += 1;
                }
            }
            Some(Outcome::Corrected { .. }) => b.corrected += 1,
            Some(Outcome::Duplicate { .. }) => b.duplicates += 1,
            Some(Outcome::Quarantined { already_known, .. }) => {
                b.quarantined += 1;
                b.quarantined_known += u64::from(*already_known);
                let mut reasons: Vec<(String, String)> = match e {
                    Entry::Quarantine(q) => q.errors.iter().map(|f| (f.field.clone(), f.rule.clone())).collect(),
                    Entry::Record(_) => vec![(IDENTITY_CONFLICT.0.to_string(), IDENTITY_CONFLICT.1.to_string())],
                };
                reasons.sort_unstable();
                reasons.dedup();
                if reasons.iter().any(|(_, rule)| is_wrong_code(rule)) {
                    b.wrong_code += 1;
                }
                for r in reasons {
                    *refused[i].entry(r).or_default() += 1;
                }
            }
            None => {}
        }
    }
    for (b, r) in out.iter_mut().zip(refused) {
        b.refused =
            r.into_iter().map(|((field, rule), rows)| ReasonCount { item: String::new(), field, rule, rows }).collect();
        sort_reasons(&mut b.refused);
    }
    out
}

/// Most frequent first, then by item, field and rule (byte order): one order on every back end.
pub fn sort_reasons(r: &mut [ReasonCount]) {
    r.sort_by(|a, b| b.rows.cmp(&a.rows).then_with(|| (&a.item, &a.field, &a.rule).cmp(&(&b.item, &b.field, &b.rule))));
}

impl BatchStats {
    /// Adds a later chunk of the same batch (a large import commits in chunks).
    pub fn merge(&mut self, later: &BatchStats) {
        self.received_ms = self.received_ms.min(later.received_ms);
        self.rows += later.rows;
        self.accepted += later.accepted;
        self.corrected += later.corrected;
        self.duplicates += later.duplicates;
        self.quarantined += later.quarantined;
        self.quarantined_known += later.quarantined_known;
        self.wrong_code += later.wrong_code;
        for r in &later.refused {
            match self.refused.iter_mut().find(|m| m.field == r.field && m.rule == r.rule) {
                Some(m) => m.rows += r.rows,
                None => self.refused.push(r.clone()),
            }
        }
        sort_reasons(&mut self.refused);
        for (d, n) in &later.decided {
            *self.decided.entry(d.clone()).or_default() += n;
        }
    }

    /// `refused` as stored (JSON).
    pub fn refused_json(&self) -> String {
        serde_json::to_string(&self.refused).unwrap_or_else(|_| "[]".into())
    }

    /// `decided` as stored (JSON object).
    pub fn decided_json(&self) -> String {
        serde_json::to_string(&self.decided).unwrap_or_else(|_| "{}".into())
    }

    /// Parses the stored JSON columns (an unreadable column reads as empty: the
    /// counts beside it still stand).
    pub fn with_json(mut self, refused: &str, decided: &str) -> BatchStats {
        self.refused = serde_json::from_str(refused).unwrap_or_default();
        self.decided = serde_json::from_str(decided).unwrap_or_default();
        self
    }
}
