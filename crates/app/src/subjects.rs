//! Finding subjects: search by name, former name, pinyin initials or code prefix, over
//! the search index the projector keeps. Natural persons carry their masked code only
//! (the index keeps the full ID as its key, for matching).

pub use xinyong_search::{Hit, SearchIndex, SearchPage, SubjectDoc, pinyin_forms};
pub use xinyong_store::{RecordRow, SubjectRow};

use crate::access::{Action, Caller, permit};
use crate::{App, Result};

/// Most hits in one page.
pub const MAX_HITS: usize = 100;

impl App {
    /// Subjects in code order after `after` (the centre's operations: demo, benchmarks).
    pub fn subjects_after(&self, caller: &Caller, after: &str, limit: u32) -> Result<Vec<SubjectRow>> {
        permit(caller, Action::Operate)?;
        self.db().read(|s| Ok(s.subjects_after(after, limit)?))
    }

    /// A subject and its record rows as stored (the centre's operations), or `None`.
    pub fn stored_subject(&self, caller: &Caller, code: &str) -> Result<Option<(SubjectRow, Vec<RecordRow>)>> {
        permit(caller, Action::Operate)?;
        self.db().read(|s| match s.subject(code)? {
            Some(subject) => Ok(Some((subject, s.records_of(code)?))),
            None => Ok(None),
        })
    }

    /// Subjects in the search index (0 before the projections start).
    pub fn search_docs(&self) -> u64 {
        self.inner.projections.get().map_or(0, |p| p.search.num_docs())
    }

    /// A ranked page of subjects as the public may see it.
    pub fn search(&self, query: &str, offset: usize, limit: usize) -> Result<SearchPage> {
        let mut page = self.projections()?.search.search(query, offset, limit.min(MAX_HITS))?;
        for h in &mut page.hits {
            if h.kind == "natural_person" {
                h.code = h.display_code.clone();
            }
        }
        Ok(page)
    }
}
