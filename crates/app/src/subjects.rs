//! Finding subjects: search by name, former name, pinyin initials or code prefix, over
//! the search index the projector keeps. Natural persons carry their masked code only
//! (the index keeps the full ID as its key, for matching).

pub use xinyong_search::{Hit, SearchPage};

use crate::{App, Result};

/// Most hits in one page.
pub const MAX_HITS: usize = 100;

impl App {
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
