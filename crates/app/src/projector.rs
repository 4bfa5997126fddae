//! Projections that follow the ledger: the check index (names and listings in memory)
//! and the search index. One projector reads the events appended since the index it
//! last applied — by this process, by `xinyong import`, by another node alike — and
//! reloads every subject and listing they touch, so renames, corrections, revocations
//! and listing steps reach every projection the same way. Local writes call it before
//! they answer; a timer calls it for everyone else's.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Mutex;

use serde::Serialize;
use xinyong_search::{SearchIndex, SubjectDoc};
use xinyong_store::SubjectRow;

use crate::checks::CheckIndex;
use crate::{App, AppError, Result};

/// Events read per step while catching up.
const PAGE: u32 = 50_000;

pub(crate) struct Projections {
    pub(crate) checks: CheckIndex,
    pub(crate) search: SearchIndex,
    /// Ledger size applied so far; held while catching up, so steps apply in order.
    seen: Mutex<u64>,
}

/// What one catch-up applied.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct CatchUp {
    pub events: u64,
    pub subjects: u64,
    pub listing_subjects: u64,
}

pub(crate) fn subject_doc(s: &SubjectRow) -> SubjectDoc {
    let display = match xinyong_core::SubjectCode::parse(&s.code) {
        Ok(c) => c.display(),
        Err(_) => xinyong_core::codes::mask_id(&s.code),
    };
    SubjectDoc {
        code: s.code.clone(),
        display_code: display,
        name: s.name.clone(),
        former_names: s.former_names.clone(),
        kind: s.kind.clone(),
        division: s.division.clone(),
    }
}

fn open_search(dir: &Path) -> Result<SearchIndex> {
    match SearchIndex::open_or_create(dir) {
        Err(xinyong_search::SearchError::Incompatible { .. }) => {
            // the index is derived data: an older format is dropped and rebuilt
            tracing::warn!(dir = %dir.display(), "search index of another format: rebuilding");
            std::fs::remove_dir_all(dir)?;
            Ok(SearchIndex::open_or_create(dir)?)
        }
        other => Ok(other?),
    }
}

impl App {
    /// Loads the check index and opens the search index (rebuilt when it does not match
    /// the store), then follows the ledger from there. For a server; tools skip it.
    pub fn start_projections(&self) -> Result<()> {
        if self.inner.projections.get().is_some() {
            return Ok(());
        }
        let search = open_search(&self.dir().join("search"))?;
        // what is appended while loading is applied again by the first catch-up
        let (size, subjects) = self.db().read(|s| Ok((s.ledger_size()?, s.counts()?.subjects)))?;
        let started = std::time::Instant::now();
        let checks = self.db().scan(CheckIndex::load)?;
        let held = checks.size();
        tracing::info!(
            subjects = held.names,
            listings = held.entries,
            keys = held.keys,
            mib = held.bytes >> 20,
            ms = started.elapsed().as_millis() as u64,
            "check index loaded"
        );
        let p = Projections { checks, search, seen: Mutex::new(size) };
        if p.search.num_docs() != subjects {
            tracing::info!(subjects, indexed = p.search.num_docs(), "rebuilding the search index");
            // nothing else writes to the index before the projections are set
            self.rebuild_search_into(&p.search, true)?;
        }
        let _ = self.inner.projections.set(p);
        // the log writer starts now, not on the first check (it opens a connection)
        self.side_log()?;
        self.catch_up()?;
        // the grade book (distributions, plans' populations) builds beside the server
        self.rebuild_grades_later();
        Ok(())
    }

    pub(crate) fn projections(&self) -> Result<&Projections> {
        self.inner.projections.get().ok_or_else(|| AppError::Internal("projections not started".into()))
    }

    /// Re-indexes every subject from the store.
    pub fn rebuild_search(&self) -> Result<()> {
        // the projector may write beside the rebuild: replace, never add a second copy
        self.rebuild_search_into(&self.projections()?.search, false)
    }

    fn rebuild_search_into(&self, search: &SearchIndex, alone: bool) -> Result<()> {
        search.clear()?;
        let mut after = String::new();
        let mut pages = 0u32;
        loop {
            let page = self.db().read(|s| Ok(s.subjects_after(&after, 20_000)?))?;
            let Some(last) = page.last() else { break };
            after = last.code.clone();
            let docs: Vec<SubjectDoc> = page.iter().map(subject_doc).collect();
            if alone {
                search.add_new(&docs)?;
            } else {
                search.upsert(&docs)?;
            }
            // committed in steps of 500 000: what the writer holds until a commit stays bounded
            pages += 1;
            if pages.is_multiple_of(25) {
                search.commit()?;
            }
        }
        search.commit()?;
        Ok(())
    }

    /// Applies to every projection what the ledger gained since the last look. Cheap
    /// when nothing changed (one query). Does nothing for a tool without projections.
    pub fn catch_up(&self) -> Result<CatchUp> {
        // list entries that follow from new records are ledger events of their own:
        // derived first, so this catch-up projects them too
        if let Err(e) = self.derive_lists() {
            tracing::warn!(error = %e.chain(), "deriving list entries from records failed; retrying on the next run");
        }
        // commitments taken on, broken by the clock, breaches made records: ledger events
        // and records of their own, projected by this catch-up too
        if let Err(e) = self.follow_commitments(false) {
            tracing::warn!(error = %e.chain(), "the commitments' follower failed; retrying on the next run");
        }
        let Some(p) = self.inner.projections.get() else { return Ok(CatchUp::default()) };
        let mut seen = p.seen.lock().unwrap_or_else(|e| e.into_inner());
        let size = self.db().read(|s| Ok(s.ledger_size()?))?;
        let mut done = CatchUp::default();
        if size <= *seen {
            return Ok(done);
        }
        let mut from = *seen;
        let mut search_dirty = false;
        // every subject this change touched: regraded in the grade book
        let mut touched = BTreeSet::new();
        while from < size {
            let refs = self.db().read(|s| Ok(s.event_refs(from, PAGE)?))?;
            let Some(last) = refs.last() else { break };
            from = last.index + 1;
            done.events += refs.len() as u64;
            let mut subjects = BTreeSet::new();
            let mut listed = BTreeSet::new();
            let mut cased = BTreeSet::new();
            for r in refs {
                touched.insert(r.subject_code.clone());
                if r.kind.starts_with("case.") {
                    cased.insert(r.subject_code);
                } else if r.kind.starts_with("listing.") {
                    listed.insert(r.subject_code);
                } else {
                    subjects.insert(r.subject_code);
                }
            }
            let (rows, listings, disputes) = self.db().read(|s| {
                let mut rows = Vec::with_capacity(subjects.len());
                for c in &subjects {
                    rows.extend(s.subject(c)?);
                }
                let mut listings = Vec::new();
                for c in &listed {
                    listings.extend(s.listings_of(c)?);
                }
                let mut disputes = Vec::with_capacity(cased.len());
                for c in &cased {
                    let of_subject = s.listings_of(c)?;
                    let ids: Vec<i64> = of_subject.iter().map(|l| l.id).collect();
                    let open = self.disputes(s, c)?;
                    // a disputed record disputes the entries derived from it too
                    let derived = of_subject
                        .iter()
                        .filter(|l| l.source.as_ref().is_some_and(|src| open.contains_key(&(true, src.record_id))));
                    let open: Vec<i64> =
                        open.keys().filter(|(rec, _)| !rec).map(|(_, id)| *id).chain(derived.map(|l| l.id)).collect();
                    disputes.push((ids, open));
                }
                Ok((rows, listings, disputes))
            })?;
            for (ids, open) in disputes {
                p.checks.set_disputed(&ids, &open);
            }
            done.subjects += rows.len() as u64;
            done.listing_subjects += listed.len() as u64;
            p.checks.add_subjects(&rows);
            for l in listings {
                p.checks.put(l);
            }
            if !rows.is_empty() {
                let docs: Vec<SubjectDoc> = rows.iter().map(subject_doc).collect();
                p.search.upsert(&docs)?;
                search_dirty = true;
            }
        }
        if search_dirty {
            p.search.commit()?;
        }
        if let Some(h) = self.db().read(|s| Ok(s.latest_head()?))? {
            p.checks.note_head(h);
        }
        *seen = (*seen).max(from);
        drop(seen);
        self.regrade_later(touched, from);
        Ok(done)
    }

    /// After a local write: the projections learn of it before the answer leaves. The
    /// write is committed either way; a failure here is caught up by the next tick.
    pub(crate) fn after_write(&self) {
        if let Err(e) = self.catch_up() {
            tracing::warn!(error = %e.chain(), "projection catch-up after a write failed");
        }
    }
}
