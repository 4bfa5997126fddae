//! Lists that follow from records (对象清单): a follower of the ledger that turns a
//! provider's records into list entries by the rules of `data/lists/derivations.toml`
//! (a court's 失信被执行人 record → the dishonest-debtor list; a registration
//! authority's 列入 record → the abnormal-operation list). Each entry is a ledger event
//! (`listing.derived`, then `listing.removed` when the record's removal date, its
//! revocation or a repair ends it), stored as a listing that names its record, so
//! list pages, the subject page and checks treat it like any decided listing.
//!
//! The follower keeps its position in the store (`cursors`): after a crash it resumes
//! there, and each step compares the derived entry with the stored one, so running it
//! twice, or in two processes at once, adds nothing twice (the store refuses a second
//! derivation of the same record by the same rule as a conflict, and the loser
//! retries from what the winner stored). It runs after every local write and on the
//! server's catch-up tick, so an entry derived from another process's import reaches
//! the checks within that tick.

use std::sync::Mutex;

use serde::Serialize;
use xinyong_core::derivation::{Derivations, SourceRecord, derive, step};
use xinyong_core::event::{EventKind, Provenance};
use xinyong_core::listing::Listing;
use xinyong_store::Store;

use crate::view::{event_day, record_fields};
use crate::{App, Result, now_ms, today_shanghai};

/// The follower's name in the store's cursors.
const CURSOR: &str = "derived_lists";
/// Events read per step.
const PAGE: u32 = 20_000;

/// Serialises this process's runs (other processes are kept apart by the store).
#[derive(Default)]
pub(crate) struct Deriving(Mutex<()>, std::sync::atomic::AtomicBool);

/// What one run of the follower did.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct DerivedRun {
    /// Ledger events read.
    pub events: u64,
    /// Records of items some rule reads.
    pub records: u64,
    /// Listing steps written (new, changed or ended entries).
    pub steps: u64,
}

type Step = (Listing, EventKind);

/// The steps that bring the entries derived from `record_ids` up to date.
fn steps_for(s: &dyn Store, record_ids: &[i64], run: &mut DerivedRun) -> Result<Vec<Step>> {
    let rules = Derivations::bundled();
    let lists = xinyong_core::lists::ListRules::bundled();
    let items = rules.items();
    let today = today_shanghai();
    let mut steps = Vec::new();
    for row in s.records_by_ids(record_ids)? {
        if !items.contains(row.item.as_str()) {
            continue;
        }
        run.records += 1;
        let fields = record_fields(s, &row)?;
        let rec = SourceRecord {
            id: row.id,
            subject: &row.subject_code,
            provider: &row.provider,
            item: &row.item,
            fields: &fields,
            revoked_on: event_day(s, row.revoked_event)?,
            repaired_on: event_day(s, row.repaired_event)?,
        };
        let stored = s.listings_from_record(row.id)?;
        for rule in rules.for_item(&row.item) {
            // an entry of an older version of the rule is the same entry, re-derived
            let existing = stored
                .iter()
                .find(|l| l.source.as_ref().is_some_and(|src| src.rule.split('@').next() == Some(rule.id.as_str())));
            if let Some(next) = step(existing, derive(rule, lists, &rec), today) {
                steps.push(next);
            }
        }
    }
    Ok(steps)
}

impl App {
    /// Stops (or resumes) this process's derivation, as a crash between a record's
    /// commit and its entry would: tests show the next run catches up.
    #[doc(hidden)]
    pub fn pause_derivation(&self, paused: bool) {
        self.inner.deriving.1.store(paused, std::sync::atomic::Ordering::Relaxed);
    }

    /// Derives list entries from the records the ledger gained since the last run, and
    /// records each as a ledger event. Cheap when nothing changed (two reads).
    pub fn derive_lists(&self) -> Result<DerivedRun> {
        let _one = self.inner.deriving.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut run = DerivedRun::default();
        if self.inner.deriving.1.load(std::sync::atomic::Ordering::Relaxed) {
            return Ok(run);
        }
        let (mut from, size) = self.db().read(|s| Ok((s.cursor(CURSOR)?, s.ledger_size()?)))?;
        while from < size {
            let refs = self.db().read(|s| Ok(s.event_refs(from, PAGE)?))?;
            let Some(last) = refs.last() else { break };
            let next = last.index + 1;
            run.events += refs.len() as u64;
            let ids: Vec<i64> =
                refs.iter().filter(|r| r.kind.starts_with("record.")).filter_map(|r| r.record_id).collect();
            if !ids.is_empty() {
                let steps = self.db().read(|s| steps_for(s, &ids, &mut run))?;
                if !steps.is_empty() {
                    let at = now_ms();
                    let p = Provenance {
                        at,
                        batch: format!("derive-{at}"),
                        provider: "信用平台".into(),
                        source: "data/lists/derivations.toml".into(),
                        row: None,
                    };
                    let written = self.db().write(|s| Ok(s.put_listings(&steps, &p, self.key(), at)?));
                    match written {
                        Ok(_) => run.steps += steps.len() as u64,
                        // another process derived or changed one of these entries since we
                        // read it: leave the cursor here and derive again from its result
                        Err(crate::AppError::Conflict(e)) => {
                            tracing::info!(error = %e, "derived lists: conflict, retrying on the next run");
                            return Ok(run);
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
            self.db().write(|s| Ok(s.set_cursor(CURSOR, next)?))?;
            from = next;
        }
        Ok(run)
    }
}
