//! Credit commitments (信用承诺) as both back ends store them: what a write does is
//! decided here once (which events a commitment's new steps become, when a write is a
//! conflict), and each back end executes it in its own transaction.
//!
//! A commitment is stored beside its record (`commitments`, keyed by the record id):
//! the life cycle as JSON (`doc`), the state its recorded steps give and its due date
//! (what the clock queries), and the breach record once intake wrote it. Every step is
//! a ledger event carrying the record's id: `commitment.signed` when it is taken on,
//! `commitment.fulfilled` / `commitment.breached` for each step after.

use std::collections::BTreeMap;

use xinyong_core::commitment::{Commitment, Step};
use xinyong_core::event::EventKind;
use xinyong_core::record::date_string;

use crate::{Result, StoreError};

/// The columns a commitment is read back from, in this order.
pub(crate) const COLUMNS: &str = "record_id, breach_record, doc, first_event, last_event";

/// The events a write appends, in order, with their facts.
pub(crate) type Planned = Vec<(EventKind, BTreeMap<String, String>)>;

/// What writing `c` appends, given what is stored for its record (`doc` and
/// `last_event`). A commitment not read from the store (`first_event` 0: a commitment's
/// events always follow its record's, so none is at index 0) is taken on: its signed
/// event and one event per step it already has; a second one for the same record is a
/// conflict. A stored one gains one event per step beyond the stored ones, only if
/// nobody wrote since its `last_event` was read and the stored steps are unchanged.
pub(crate) fn plan(stored: Option<(&str, i64)>, c: &Commitment) -> Result<Planned> {
    let conflict = |why: &str| {
        StoreError::Conflict(format!(
            "承诺 {}（记录 {}）{why} / commitment {} (record {}) changed since it was read",
            c.number, c.record_id, c.number, c.record_id
        ))
    };
    let mut planned = Vec::new();
    let known = match stored {
        None if c.first_event != 0 => {
            return Err(StoreError::NotFound(format!("commitment of record {}", c.record_id)));
        }
        None => {
            planned.push((EventKind::CommitmentSigned, c.signed_facts()));
            0
        }
        Some(_) if c.first_event == 0 => return Err(conflict("已登记")),
        Some((doc, last)) => {
            if last as u64 != c.last_event {
                return Err(conflict("已有新的步骤，请刷新后重试"));
            }
            let s = read(doc, None, 0, last)?;
            if c.steps.get(..s.steps.len()) != Some(&s.steps[..]) {
                return Err(conflict("的已记录步骤不能更改"));
            }
            s.steps.len()
        }
    };
    for step in &c.steps[known..] {
        let kind = match step {
            Step::Fulfilled { .. } => EventKind::CommitmentFulfilled,
            Step::Breached { .. } => EventKind::CommitmentBreached,
        };
        planned.push((kind, Commitment::step_facts(step)));
    }
    Ok(planned)
}

/// The row's columns for `c`: state by its recorded steps, due date, JSON document.
pub(crate) fn columns(c: &Commitment) -> Result<(&'static str, Option<String>, String)> {
    let doc = serde_json::to_string(c).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok((c.recorded().state.as_str(), c.due.map(date_string), doc))
}

/// A stored commitment: its document, with the bookkeeping columns as the truth.
pub(crate) fn read(doc: &str, breach_record: Option<i64>, first_event: i64, last_event: i64) -> Result<Commitment> {
    let mut c: Commitment =
        serde_json::from_str(doc).map_err(|e| StoreError::Corrupt(format!("commitment document: {e}")))?;
    c.breach_record = breach_record;
    c.first_event = first_event as u64;
    c.last_event = last_event as u64;
    Ok(c)
}
