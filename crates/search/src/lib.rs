//! Search of subject names and codes for the public portal and `GET /api/v1/subjects?q=…`.
//!
//! A [`SearchIndex`] is a [tantivy] index, on disk or in memory, holding one document per
//! subject ([`SubjectDoc`]). It follows intake incrementally ([`SearchIndex::upsert`] +
//! [`SearchIndex::commit`]) and can be rebuilt from the store ([`SearchIndex::clear`],
//! then upsert everything). All text analysis happens here, in Rust; the index only sees
//! ready-made tokens, and queries are built programmatically (never through tantivy's
//! query parser), so no user input is ever interpreted as query syntax.
//!
//! # Normalisation
//! Names and queries are lower-cased, full-width forms are folded to ASCII, and only
//! letters and digits are kept (CJK ideographs are letters): `华为（北京）` and `华为(北京)`
//! are the same name. Names are analysed up to 100 characters, queries up to 64.
//!
//! # Fields
//! | field | content | used for |
//! | --- | --- | --- |
//! | `key` | the USCC for organisations; for natural persons a salted SHA-256 of the ID | delete-by-key, exact code, code prefixes of 13–17 characters (term range) |
//! | `code`, `display_code`, `name`, `former`, `kind` | stored as given | the [`Hit`] |
//! | `kind`, `division` | raw terms | (filters, not used by [`SearchIndex::search`] yet) |
//! | `code_pre` | the first 6 to 12 characters of a USCC | code prefixes (one term each) |
//! | `name_raw` / `former_raw` | the normalised name / each former name | exact match |
//! | `name_pre` | the first 1–4 characters of the normalised name | short prefixes (one term) |
//! | `name_gram` / `former_gram` | anchored bigrams `^c0 c0c1 … cn$`, with positions | substring (phrase of bigrams) and longer prefixes (phrase starting with `^c0`) |
//! | `name_uni` / `former_uni` | single characters | one-character queries and words |
//! | `name_words` | jieba search-mode words | relevance bonus (BM25, shorter names first) |
//! | `py_ini` / `py_full` | pinyin initials / full pinyin of the name | exact pinyin, long pinyin prefixes (term range) |
//! | `py_ini_pre` | the first 1–8 initials | `bjzj` → 北京中建… |
//! | `py_full_pre` | syllable-boundary prefixes of the full pinyin over the first four syllables, plus each next syllable's initial (`b`, `bei`, `beij`, `beijing`, …) | `beijing`, `beijingzh` |
//! | `py_words` | initials and full pinyin of each jieba word | `hw` / `huawei` → 北京华为… |
//!
//! A natural person (`kind == "natural_person"`, or a code that parses as a resident ID)
//! is indexed by name only: no field holds the digits of the ID (the `key` is a hash),
//! and [`Hit::display_code`] is the masked code the caller supplied. [`Hit::code`] is the
//! stored key as given; callers must not show it publicly for natural persons.
//! Former names are not indexed in pinyin.
//!
//! # Query handling and ranking
//! A query is normalised as above and split into words by jieba (at the spaces and
//! punctuation the user typed, then by the dictionary). Every interpretation below is
//! tried at once; a subject matches when any does, and its score is the sum of the tiers
//! it reaches (so one that is both an exact and a prefix match stays ahead):
//!
//! | tier | score |
//! | --- | --- |
//! | exact current name (also: exact pinyin initials / full pinyin, full 18-character code) | 1000 |
//! | exact former name | 500 |
//! | current name starts with the query (also: pinyin or code prefix) | 400 |
//! | a former name starts with the query | 250 |
//! | every query word occurs in the current name (also: a name word's pinyin equals the query) | 200 |
//! | every query word occurs in one former name | 100 |
//!
//! Within a tier a small BM25 bonus on the name's jieba words (×0.05, not for common
//! words, see below) favours names where the query words are real words and names that
//! are shorter. Word occurrence is checked with the n-gram fields, so it does not depend
//! on jieba cutting the name the same way as the query: `华为` finds
//! 北京华为餐饮管理有限公司 and `北京华信` finds 北京中建华信科技有限公司.
//!
//! A query word that is a jieba word of more than 5 % of the indexed names (有限公司,
//! 科技, 北京… in a large index; never below 1 000 names) is required as a word rather than
//! as a substring, which keeps such generic queries cheap.
//!
//! Interpretations: every query is searched as a name; a query of ASCII letters only is
//! also searched as pinyin initials and, when it splits into pinyin syllables, as full
//! pinyin (the last syllable may be unfinished: `beijingzh`; a finished-looking last
//! syllable is also tried as unfinished, so `beiji` finds 北京); a query that is 6–18
//! characters of the USCC alphabet with at least one digit (after
//! [`xinyong_core::codes::normalize_code`]) is also searched as a code prefix. Pinyin uses
//! each character's default reading, corrected for a short list of heteronym phrases
//! common in names (重庆, 长沙, 厦门, 银行, 朝阳…).
//!
//! [`Hit::matched_former_name`] is true when the subject matched only through a former
//! name. Results are ordered by score, then by index order, so paging through an
//! unchanged index is stable. At most 100 hits per page; pages beyond offset 10 000 are
//! empty (the total is still counted).
//!
//! # Totals above 10 000
//! Matches are counted and ranked up to [`MAX_TOTAL`] (10 000), walking them in index
//! order. A query matching more stops there: `total` is 10 000 (plus exact matches
//! beyond the cut) and `total_is_lower_bound` is true, as search engines answer. The
//! page then ranks the first 10 000 matches, plus every exact match (whole current or
//! former name, whole pinyin, whole code), which is searched in full: a whole name still
//! comes first, while the order of the partial matches below it is the order among
//! those 10 000.
//!
//! # Cost
//! Indexing runs at roughly 10 000–18 000 names a second on two cores; the index takes
//! about 200 bytes per subject. A search costs little more than reading the posting lists
//! of its rarest word: selective queries (a brand, a code, pinyin of a few syllables)
//! take well under a millisecond at 100 000 subjects and a few milliseconds at 1 M. A
//! query matching a large share of the index (`有限公司`) stops after 10 000 matches, so
//! its cost no longer grows with the index.

mod text;

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use sha2::{Digest, Sha256};
use std::collections::BinaryHeap;

use tantivy::directory::MmapDirectory;
use tantivy::query::EnableScoring;
use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions, Value};
use tantivy::{
    DocAddress, DocSet, Index, IndexReader, IndexWriter, ReloadPolicy, Score, TERMINATED, TantivyDocument, Term,
};
use xinyong_core::codes::{SubjectCode, SubjectKind, USCC_ALPHABET, normalize_code};

pub use text::pinyin_forms;
use text::{
    bigrams, full_pinyin_edges, gram_tokens, index_words, normalize_name, partial_edge_form, query_segments,
    query_words, segment_pinyin, unigram_tokens, word_pinyin_terms,
};

/// Most hits returned by one [`SearchIndex::search`].
pub const MAX_LIMIT: usize = 100;
/// Pages starting beyond this offset are returned empty (with the total).
pub const MAX_OFFSET: usize = 10_000;
/// Matches counted and ranked at most; a query matching more stops there (the answer
/// says `total_is_lower_bound`), as search engines do, so a generic query (有限公司)
/// costs the same at 3 M names as at 30 000.
pub const MAX_TOTAL: usize = 10_000;

const EXACT_CURRENT: f32 = 1000.0;
const EXACT_FORMER: f32 = 500.0;
const PREFIX_CURRENT: f32 = 400.0;
const PREFIX_FORMER: f32 = 250.0;
const WORDS_CURRENT: f32 = 200.0;
const WORDS_FORMER: f32 = 100.0;
const BONUS: f32 = 0.05;

const CODE_EDGE_MIN: usize = 6;
const CODE_EDGE_MAX: usize = 12;
const INI_EDGE_MAX: usize = 8;
const NAME_EDGE_MAX: usize = 4;
const FULL_EDGE_SYLLABLES: usize = 4;
/// A query word whose jieba word occurs in more than 1/COMMON_WORD_SHARE of the names
/// (有限公司, 科技, 北京…) is matched as that word rather than as a substring: the result
/// barely differs and the phrase check over most of the index is avoided.
const COMMON_WORD_SHARE: u64 = 20;
const MAX_QUERY_WORDS: usize = 12;
/// Batches at least this large are analysed on several threads.
const PARALLEL_BATCH: usize = 2_000;
const MAX_FORMER_NAMES: usize = 20;
/// Characters of raw query text looked at (the rest is ignored).
const MAX_RAW_QUERY_CHARS: usize = 256;
const PERSON_KEY_SALT: &[u8] = b"xinyong-search/person-key/v1\0";

/// One subject as indexed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SubjectDoc {
    /// Stored key: the USCC, or for a natural person the resident ID (stored, never
    /// indexed).
    pub code: String,
    /// What may be shown publicly (the masked ID for natural persons).
    pub display_code: String,
    pub name: String,
    /// 曾用名, oldest first or in any order.
    pub former_names: Vec<String>,
    /// [`SubjectKind::as_str`], e.g. `enterprise`, `natural_person`.
    pub kind: String,
    /// Administrative division code, when known.
    pub division: Option<String>,
}

/// One search result.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hit {
    pub code: String,
    pub display_code: String,
    pub name: String,
    pub former_names: Vec<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = xinyong_core::SubjectKind))]
    pub kind: String,
    /// The subject matched through a former name only.
    pub matched_former_name: bool,
    /// Widened from tantivy's `f32`, so answers carry the digits they always had.
    pub score: f64,
}

/// One page of results.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchPage {
    pub query: String,
    /// Number of matching subjects (all pages), exact up to 10 000; above that the
    /// count stops there and `total_is_lower_bound` is true.
    pub total: usize,
    /// More subjects match than `total` says (the count stopped at 10 000).
    pub total_is_lower_bound: bool,
    pub offset: usize,
    pub hits: Vec<Hit>,
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index error: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index directory {path}: {message}")]
    Directory { path: PathBuf, message: String },
    #[error("the search index at {path} was built with another schema; delete it and rebuild it from the store")]
    Incompatible { path: PathBuf },
}

#[derive(Debug, Clone, Copy)]
struct Fields {
    key: Field,
    code: Field,
    display_code: Field,
    name: Field,
    former: Field,
    kind: Field,
    division: Field,
    code_pre: Field,
    name_raw: Field,
    name_pre: Field,
    name_gram: Field,
    name_uni: Field,
    name_words: Field,
    former_raw: Field,
    former_gram: Field,
    former_uni: Field,
    py_ini: Field,
    py_ini_pre: Field,
    py_full: Field,
    py_full_pre: Field,
    py_words: Field,
}

fn indexed(tokenizer: &str, record: IndexRecordOption, fieldnorms: bool) -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(tokenizer).set_index_option(record).set_fieldnorms(fieldnorms),
    )
}

fn build_schema() -> (Schema, Fields) {
    use IndexRecordOption::{Basic, WithFreqs, WithFreqsAndPositions};
    let raw = || indexed("raw", Basic, false);
    let mut b = Schema::builder();
    let fields = Fields {
        key: b.add_text_field("key", raw()),
        code: b.add_text_field("code", STORED),
        display_code: b.add_text_field("display_code", STORED),
        name: b.add_text_field("name", STORED),
        former: b.add_text_field("former", STORED),
        kind: b.add_text_field("kind", raw().set_stored()),
        division: b.add_text_field("division", raw()),
        code_pre: b.add_text_field("code_pre", raw()),
        name_raw: b.add_text_field("name_raw", raw()),
        name_pre: b.add_text_field("name_pre", raw()),
        name_gram: b.add_text_field("name_gram", indexed("whitespace", WithFreqsAndPositions, true)),
        name_uni: b.add_text_field("name_uni", indexed("whitespace", Basic, false)),
        name_words: b.add_text_field("name_words", indexed("whitespace", WithFreqs, true)),
        former_raw: b.add_text_field("former_raw", raw()),
        former_gram: b.add_text_field("former_gram", indexed("whitespace", WithFreqsAndPositions, false)),
        former_uni: b.add_text_field("former_uni", indexed("whitespace", Basic, false)),
        py_ini: b.add_text_field("py_ini", raw()),
        py_ini_pre: b.add_text_field("py_ini_pre", raw()),
        py_full: b.add_text_field("py_full", raw()),
        py_full_pre: b.add_text_field("py_full_pre", raw()),
        py_words: b.add_text_field("py_words", indexed("raw", WithFreqs, true)),
    };
    (b.build(), fields)
}

/// A search index of subjects. `Send + Sync`: share it (e.g. in an `Arc`) between the
/// intake that writes and the request handlers that search.
pub struct SearchIndex {
    fields: Fields,
    writer: Mutex<IndexWriter>,
    reader: IndexReader,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex").field("num_docs", &self.num_docs()).finish_non_exhaustive()
    }
}

impl SearchIndex {
    /// Opens the index in `dir`, creating the directory and an empty index when needed.
    /// An index built by another version of this crate's schema is refused with
    /// [`SearchError::Incompatible`]: delete the directory and rebuild.
    pub fn open_or_create(dir: &Path) -> Result<SearchIndex, SearchError> {
        let dir_err =
            |e: &dyn std::fmt::Display| SearchError::Directory { path: dir.to_path_buf(), message: e.to_string() };
        std::fs::create_dir_all(dir).map_err(|e| dir_err(&e))?;
        let mmap = MmapDirectory::open(dir).map_err(|e| dir_err(&e))?;
        let (schema, fields) = build_schema();
        let index = Index::open_or_create(mmap, schema).map_err(|e| match e {
            tantivy::TantivyError::SchemaError(_) => SearchError::Incompatible { path: dir.to_path_buf() },
            e => SearchError::Index(e),
        })?;
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 2);
        SearchIndex::with_index(index, fields, threads, 64_000_000 * threads)
    }

    /// A fresh index held in memory (tests, small deployments).
    pub fn in_memory() -> Result<SearchIndex, SearchError> {
        let (schema, fields) = build_schema();
        let index = Index::create_in_ram(schema);
        SearchIndex::with_index(index, fields, 1, 20_000_000)
    }

    fn with_index(index: Index, fields: Fields, threads: usize, budget: usize) -> Result<SearchIndex, SearchError> {
        let writer: IndexWriter = index.writer_with_num_threads(threads, budget)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(SearchIndex { fields, writer: Mutex::new(writer), reader })
    }

    fn writer(&self) -> MutexGuard<'_, IndexWriter> {
        // A panic while holding the lock leaves nothing half-written that tantivy would
        // not itself roll back at the next commit; keep going.
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces the documents of these subjects (delete by code, then add). Not visible
    /// to searches until [`SearchIndex::commit`]. When a code appears twice, the last
    /// one wins.
    pub fn upsert(&self, docs: &[SubjectDoc]) -> Result<(), SearchError> {
        self.write(docs, true)
    }

    /// Adds documents of subjects not in the index (a rebuild after [`SearchIndex::clear`]
    /// that nothing else writes beside): no delete per document, whose queue would hold
    /// every code until the commit.
    pub fn add_new(&self, docs: &[SubjectDoc]) -> Result<(), SearchError> {
        self.write(docs, false)
    }

    fn write(&self, docs: &[SubjectDoc], replace: bool) -> Result<(), SearchError> {
        // Analysis (jieba, pinyin) happens outside the writer lock, on all cores for
        // large batches (rebuilds).
        let prepare = |chunk: &[SubjectDoc]| -> Vec<(Term, TantivyDocument)> {
            chunk
                .iter()
                .map(|d| {
                    let person = is_person(d);
                    let key = index_key(&d.code, person);
                    (Term::from_field_text(self.fields.key, &key), self.to_document(d, &key, person))
                })
                .collect()
        };
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let prepared: Vec<Vec<(Term, TantivyDocument)>> = if threads > 1 && docs.len() >= PARALLEL_BATCH {
            let chunk = docs.len().div_ceil(threads);
            std::thread::scope(|scope| {
                let handles: Vec<_> = docs.chunks(chunk).map(|c| scope.spawn(move || prepare(c))).collect();
                handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
            })
        } else {
            vec![prepare(docs)]
        };
        let writer = self.writer();
        for (key, doc) in prepared.into_iter().flatten() {
            if replace {
                writer.delete_term(key);
            }
            writer.add_document(doc)?;
        }
        Ok(())
    }

    /// Commits pending changes and reloads the readers, so the next search sees them.
    pub fn commit(&self) -> Result<(), SearchError> {
        let mut writer = self.writer();
        writer.commit()?;
        drop(writer);
        self.reader.reload()?;
        Ok(())
    }

    /// Deletes every document and commits (for a rebuild from the store).
    pub fn clear(&self) -> Result<(), SearchError> {
        let mut writer = self.writer();
        writer.delete_all_documents()?;
        writer.commit()?;
        drop(writer);
        self.reader.reload()?;
        Ok(())
    }

    /// Number of (committed, visible) documents.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Ranked search; `limit` is capped at [`MAX_LIMIT`]. An empty query (or one without
    /// letters or digits) gives an empty page. Never fails because of what the query
    /// contains.
    pub fn search(&self, query: &str, offset: usize, limit: usize) -> Result<SearchPage, SearchError> {
        self.search_counting(query, offset, limit, MAX_TOTAL)
    }

    /// [`SearchIndex::search`] counting at most `cap` matches (tests use small caps).
    fn search_counting(&self, query: &str, offset: usize, limit: usize, cap: usize) -> Result<SearchPage, SearchError> {
        let limit = limit.min(MAX_LIMIT);
        let mut page =
            SearchPage { query: query.to_string(), total: 0, total_is_lower_bound: false, offset, hits: Vec::new() };
        let Some(plan) = Plan::new(query) else {
            return Ok(page);
        };
        let searcher = self.reader.searcher();
        let common = plan.common_words(&self.fields, &searcher)?;
        let q = plan.build(&self.fields, &common);
        let keep = if limit == 0 || offset >= MAX_OFFSET { 0 } else { offset + limit };
        let ranked = ranked(&searcher, &q, &|| plan.exact(&self.fields), keep, cap)?;
        page.total = ranked.total;
        page.total_is_lower_bound = ranked.lower_bound;
        let top = ranked.hits.into_iter().skip(offset);
        for (score, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let first = |f: Field| doc.get_first(f).and_then(|v| v.as_str()).unwrap_or_default().to_string();
            let code = first(self.fields.code);
            let name = first(self.fields.name);
            let former_names: Vec<String> =
                doc.get_all(self.fields.former).filter_map(|v| v.as_str().map(str::to_string)).collect();
            let matched_former_name = !plan.matches_current(&code, &name) && plan.matches_former(&former_names);
            page.hits.push(Hit {
                display_code: first(self.fields.display_code),
                kind: first(self.fields.kind),
                code,
                name,
                former_names,
                matched_former_name,
                score: f64::from(score),
            });
        }
        Ok(page)
    }

    fn to_document(&self, d: &SubjectDoc, key: &str, person: bool) -> TantivyDocument {
        let f = &self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.key, key);
        doc.add_text(f.code, &d.code);
        doc.add_text(f.display_code, &d.display_code);
        doc.add_text(f.name, &d.name);
        for former in &d.former_names {
            doc.add_text(f.former, former);
        }
        doc.add_text(f.kind, &d.kind);
        if let Some(division) = &d.division {
            doc.add_text(f.division, division);
        }
        if !person {
            let code = normalize_code(&d.code);
            if code.is_ascii() {
                for n in CODE_EDGE_MIN..=CODE_EDGE_MAX.min(code.len()) {
                    doc.add_text(f.code_pre, &code[..n]);
                }
            }
        }

        let norm = normalize_name(&d.name);
        if !norm.is_empty() {
            doc.add_text(f.name_raw, &norm);
            let mut prefix = String::new();
            for c in norm.chars().take(NAME_EDGE_MAX) {
                prefix.push(c);
                doc.add_text(f.name_pre, &prefix);
            }
            doc.add_text(f.name_gram, gram_tokens(&norm).join(" "));
            doc.add_text(f.name_uni, unigram_tokens(&norm).join(" "));
            let words = index_words(&norm);
            doc.add_text(f.name_words, words.join(" "));

            let (ini, full) = pinyin_forms(&norm);
            doc.add_text(f.py_ini, &ini);
            let mut ini_prefix = String::new();
            for c in ini.chars().take(INI_EDGE_MAX) {
                ini_prefix.push(c);
                doc.add_text(f.py_ini_pre, &ini_prefix);
            }
            doc.add_text(f.py_full, &full);
            for edge in full_pinyin_edges(&norm, FULL_EDGE_SYLLABLES) {
                doc.add_text(f.py_full_pre, edge);
            }
            for term in word_pinyin_terms(&words) {
                doc.add_text(f.py_words, term);
            }
        }

        let mut formers: Vec<String> = Vec::new();
        for former in &d.former_names {
            let fnorm = normalize_name(former);
            if !fnorm.is_empty() && fnorm != norm && !formers.contains(&fnorm) {
                formers.push(fnorm);
            }
        }
        formers.truncate(MAX_FORMER_NAMES);
        let mut chars = String::new();
        for fnorm in &formers {
            doc.add_text(f.former_raw, fnorm);
            doc.add_text(f.former_gram, gram_tokens(fnorm).join(" "));
            chars.push_str(fnorm);
        }
        if !chars.is_empty() {
            doc.add_text(f.former_uni, unigram_tokens(&chars).join(" "));
        }
        doc
    }
}

fn is_person(d: &SubjectDoc) -> bool {
    d.kind == SubjectKind::NaturalPerson.as_str() || matches!(SubjectCode::parse(&d.code), Ok(SubjectCode::Resident(_)))
}

/// The indexed key: the code itself for organisations; for a natural person a salted
/// hash, so that no term of the index holds the digits of the ID.
fn index_key(code: &str, person: bool) -> String {
    if !person {
        return code.to_string();
    }
    let mut h = Sha256::new();
    h.update(PERSON_KEY_SALT);
    h.update(code.as_bytes());
    let digest = h.finalize();
    let mut key = String::from("p:");
    for b in &digest[..16] {
        key.push_str(&format!("{b:02x}"));
    }
    key
}

/// What a query means: its normalised text and words, and its pinyin and code readings.
#[derive(Debug)]
struct Plan {
    /// Normalised query (letters and digits only).
    norm: String,
    /// Distinct jieba words; all must occur in one name.
    words: Vec<String>,
    /// ASCII-letter query: searched as pinyin too.
    pinyin: bool,
    /// Normalised code prefix, when the query looks like one.
    code: Option<String>,
    /// A foreign organisation's whole typed key (`F-RN-…`), found exactly; a person's
    /// typed key finds nothing (like a resident ID, it is not searchable).
    typed_key: Option<String>,
}

impl Plan {
    fn new(query: &str) -> Option<Plan> {
        let raw: String = query.chars().take(MAX_RAW_QUERY_CHARS).collect();
        let segments = query_segments(&raw);
        let norm = segments.concat();
        if norm.is_empty() {
            return None;
        }
        let mut words: Vec<String> = Vec::new();
        for seg in &segments {
            for w in query_words(seg) {
                if !words.contains(&w) {
                    words.push(w);
                }
            }
        }
        // Bound the work: words beyond the cap are not required.
        words.truncate(MAX_QUERY_WORDS);
        if words.is_empty() {
            words.push(norm.clone());
        }
        let pinyin = norm.bytes().all(|b| b.is_ascii_lowercase());
        let code = normalize_code(&raw);
        let code = ((CODE_EDGE_MIN..=18).contains(&code.len())
            && code.bytes().all(|b| USCC_ALPHABET.contains(&b))
            && code.bytes().any(|b| b.is_ascii_digit()))
        .then_some(code);
        let typed_key = match SubjectCode::parse(&raw) {
            Ok(SubjectCode::Document(d)) if !d.is_person() => Some(d.key().to_string()),
            _ => None,
        };
        Some(Plan { norm, words, pinyin, code, typed_key })
    }

    /// The query words that are common words of names in this index.
    fn common_words(&self, f: &Fields, searcher: &tantivy::Searcher) -> Result<Vec<bool>, SearchError> {
        let threshold = (searcher.num_docs() / COMMON_WORD_SHARE).max(1_000);
        self.words
            .iter()
            .map(|w| {
                let df = searcher.doc_freq(&Term::from_field_text(f.name_words, w))?;
                Ok(w.chars().count() > 1 && df >= threshold)
            })
            .collect()
    }

    fn build(&self, f: &Fields, common: &[bool]) -> BooleanQuery {
        let mut should: Vec<Box<dyn Query>> = vec![
            konst(term(f.name_raw, &self.norm), EXACT_CURRENT),
            konst(term(f.former_raw, &self.norm), EXACT_FORMER),
            konst(
                if self.norm.chars().count() <= NAME_EDGE_MAX {
                    term(f.name_pre, &self.norm)
                } else {
                    prefix_phrase(f.name_gram, &self.norm)
                },
                PREFIX_CURRENT,
            ),
            konst(prefix_phrase(f.former_gram, &self.norm), PREFIX_FORMER),
            self.words_query(f.name_gram, f.name_uni, Some((f.name_words, common)), WORDS_CURRENT),
            self.words_query(f.former_gram, f.former_uni, None, WORDS_FORMER),
        ];
        if self.pinyin {
            should.extend(self.pinyin_queries(f));
        }
        if let Some(code) = &self.code {
            should.push(if code.len() == 18 {
                konst(term(f.key, code), EXACT_CURRENT)
            } else if code.len() <= CODE_EDGE_MAX {
                konst(term(f.code_pre, code), PREFIX_CURRENT)
            } else {
                konst(prefix_range(f.key, code), PREFIX_CURRENT)
            });
        }
        if let Some(key) = &self.typed_key {
            should.push(konst(term(f.key, key), EXACT_CURRENT));
        }
        BooleanQuery::union(should)
    }

    /// The exact tiers alone (whole current or former name, whole pinyin, whole code):
    /// a handful of subjects, searched in full when the whole query stops counting, so
    /// a whole name still comes first however many names contain it.
    fn exact(&self, f: &Fields) -> BooleanQuery {
        let mut should: Vec<Box<dyn Query>> = vec![term(f.name_raw, &self.norm), term(f.former_raw, &self.norm)];
        if self.pinyin {
            should.push(term(f.py_ini, &self.norm));
            if segment_pinyin(&self.norm).is_some() {
                should.push(term(f.py_full, &self.norm));
            }
        }
        if let Some(code) = self.code.as_ref().filter(|c| c.len() == 18) {
            should.push(term(f.key, code));
        }
        if let Some(key) = &self.typed_key {
            should.push(term(f.key, key));
        }
        BooleanQuery::union(should)
    }

    /// Every word occurs in the name (as a substring, via the n-gram fields; common
    /// words as jieba words), scored `tier` plus a BM25 bonus on the name's jieba words
    /// (not for common words: that would walk their long posting lists a second time).
    fn words_query(&self, gram: Field, uni: Field, words_field: Option<(Field, &[bool])>, tier: f32) -> Box<dyn Query> {
        let mut required: Vec<Box<dyn Query>> = Vec::new();
        let mut bonus: Vec<Box<dyn Query>> = Vec::new();
        for (i, w) in self.words.iter().enumerate() {
            match words_field {
                Some((wf, common)) if common.get(i) == Some(&true) => required.push(term(wf, w)),
                Some((wf, _)) => {
                    required.push(substring(gram, uni, w));
                    bonus.push(Box::new(BoostQuery::new(term(wf, w), BONUS)));
                }
                None => required.push(substring(gram, uni, w)),
            }
        }
        let required = konst(Box::new(BooleanQuery::intersection(required)), tier);
        if bonus.is_empty() {
            return required;
        }
        let mut clauses = vec![(Occur::Must, required)];
        clauses.extend(bonus.into_iter().map(|q| (Occur::Should, q)));
        Box::new(BooleanQuery::new(clauses))
    }

    fn pinyin_queries(&self, f: &Fields) -> Vec<Box<dyn Query>> {
        let q = &self.norm;
        let mut out = vec![
            konst(term(f.py_ini, q), EXACT_CURRENT),
            konst(
                if q.len() <= INI_EDGE_MAX { term(f.py_ini_pre, q) } else { prefix_range(f.py_ini, q) },
                PREFIX_CURRENT,
            ),
            bonus_tier(term(f.py_words, q), term(f.py_words, q), WORDS_CURRENT),
        ];
        if let Some(reading) = segment_pinyin(q) {
            out.push(konst(term(f.py_full, q), EXACT_CURRENT));
            let n = reading.syllables.len();
            let prefix = if n > FULL_EDGE_SYLLABLES || (n == FULL_EDGE_SYLLABLES && !reading.partial.is_empty()) {
                prefix_range(f.py_full, q)
            } else {
                let mut alternatives: Vec<Box<dyn Query>> = Vec::new();
                let done = reading.syllables.concat();
                if reading.partial.is_empty() {
                    alternatives.push(term(f.py_full_pre, q));
                    // The last syllable may itself be unfinished (`beiji` → 北京).
                    if let Some(last) = reading.syllables.last() {
                        let head = reading.syllables[..n - 1].concat();
                        let short = format!("{head}{}", partial_edge_form(last));
                        if short != *q {
                            alternatives.push(term(f.py_full_pre, &short));
                        }
                    }
                } else {
                    let short = format!("{done}{}", partial_edge_form(&reading.partial));
                    alternatives.push(term(f.py_full_pre, &short));
                }
                Box::new(BooleanQuery::union(alternatives))
            };
            out.push(konst(prefix, PREFIX_CURRENT));
        }
        out
    }

    /// Whether the current name (or code) explains the match.
    fn matches_current(&self, code: &str, name: &str) -> bool {
        if let Some(c) = &self.code
            && normalize_code(code).starts_with(c.as_str())
        {
            return true;
        }
        let norm = normalize_name(name);
        if self.words.iter().all(|w| norm.contains(w.as_str())) {
            return true;
        }
        if self.pinyin {
            let (ini, full) = pinyin_forms(&norm);
            let q = self.norm.as_str();
            if ini.contains(q) || full.contains(q) {
                return true;
            }
            if let Some(r) = segment_pinyin(q) {
                let done = r.syllables.concat();
                if !done.is_empty() && full.contains(&done) {
                    return true;
                }
            }
        }
        false
    }

    fn matches_former(&self, formers: &[String]) -> bool {
        formers.iter().any(|f| {
            let norm = normalize_name(f);
            self.words.iter().all(|w| norm.contains(w.as_str()))
        })
    }
}

/// What [`ranked`] found: the best `keep` matches, best first, and how many matched.
struct Ranked {
    hits: Vec<(Score, DocAddress)>,
    total: usize,
    lower_bound: bool,
}

/// The best `keep` matches of `query` by score, then index order, counting matches up
/// to `cap`. Matches are visited in index order; once `cap` are seen the
/// walk stops, and the subjects matching `exact` (the whole-name tiers, few) are scored
/// by `query` and ranked with them, so an exact match is never lost to the cut. Below
/// the cap this is the same ranking as scoring every match.
fn ranked(
    searcher: &tantivy::Searcher,
    query: &dyn Query,
    exact: &dyn Fn() -> BooleanQuery,
    keep: usize,
    cap: usize,
) -> Result<Ranked, SearchError> {
    let weight = query.weight(EnableScoring::enabled_from_searcher(searcher))?;
    // best first: a higher score, then the earlier document
    let mut best: BinaryHeap<Candidate> = BinaryHeap::new();
    let offer = |best: &mut BinaryHeap<Candidate>, c: Candidate| {
        if keep == 0 {
            return;
        }
        if best.len() < keep {
            best.push(c);
        } else if best.peek().is_some_and(|worst| c < *worst) {
            best.pop();
            best.push(c);
        }
    };
    let mut total = 0usize;
    let mut stopped_at: Option<DocAddress> = None;
    'segments: for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        let mut scorer = weight.scorer(reader, 1.0)?;
        let alive = reader.alive_bitset();
        let mut doc = scorer.doc();
        while doc != TERMINATED {
            if alive.is_none_or(|a| a.is_alive(doc)) {
                if total == cap {
                    stopped_at = Some(DocAddress::new(ord as u32, doc));
                    break 'segments;
                }
                total += 1;
                offer(&mut best, Candidate::new(scorer.score(), DocAddress::new(ord as u32, doc)));
            }
            doc = scorer.advance();
        }
    }
    if let Some(from) = stopped_at {
        // the exact matches not visited yet, scored by the whole query
        let exact_weight = exact().weight(EnableScoring::disabled_from_searcher(searcher))?;
        for (ord, reader) in searcher.segment_readers().iter().enumerate().skip(from.segment_ord as usize) {
            let first = if ord == from.segment_ord as usize { from.doc_id } else { 0 };
            let mut exact_docs = exact_weight.scorer(reader, 1.0)?;
            let mut scorer = weight.scorer(reader, 1.0)?;
            let alive = reader.alive_bitset();
            let mut doc = if exact_docs.doc() >= first { exact_docs.doc() } else { exact_docs.seek(first) };
            while doc != TERMINATED {
                if alive.is_none_or(|a| a.is_alive(doc)) && scorer.doc() <= doc && scorer.seek(doc) == doc {
                    total += 1;
                    offer(&mut best, Candidate::new(scorer.score(), DocAddress::new(ord as u32, doc)));
                }
                doc = exact_docs.advance();
            }
        }
    }
    let hits = best.into_sorted_vec().into_iter().map(|c| (c.score, c.addr)).collect();
    Ok(Ranked { hits, total, lower_bound: stopped_at.is_some() })
}

/// A match in the ranking: ordered best first (higher score, then earlier document),
/// so the heap's top is the worst kept.
struct Candidate {
    score: Score,
    addr: DocAddress,
}

impl Candidate {
    fn new(score: Score, addr: DocAddress) -> Candidate {
        Candidate { score, addr }
    }
}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other.score.total_cmp(&self.score).then_with(|| self.addr.cmp(&other.addr))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Candidate {}

fn term(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::WithFreqs))
}

fn konst(q: Box<dyn Query>, score: f32) -> Box<dyn Query> {
    Box::new(ConstScoreQuery::new(q, score))
}

/// `tier` for documents matching `required`, plus a small bonus from `scored`.
fn bonus_tier(required: Box<dyn Query>, scored: Box<dyn Query>, tier: f32) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(vec![
        (Occur::Must, konst(required, tier)),
        (Occur::Should, Box::new(BoostQuery::new(scored, BONUS))),
    ]))
}

/// Documents whose value contains `word` (a substring of the normalised value).
fn substring(gram: Field, uni: Field, word: &str) -> Box<dyn Query> {
    let grams = bigrams(word);
    match grams.len() {
        0 => term(uni, word),
        1 => term(gram, &grams[0]),
        _ => Box::new(PhraseQuery::new(grams.iter().map(|g| Term::from_field_text(gram, g)).collect())),
    }
}

/// Documents whose value starts with `norm`: a phrase of the start anchor and the
/// bigrams.
fn prefix_phrase(gram: Field, norm: &str) -> Box<dyn Query> {
    let mut tokens = gram_tokens(norm);
    tokens.pop(); // the end anchor
    if tokens.len() == 1 {
        return term(gram, &tokens[0]);
    }
    Box::new(PhraseQuery::new(tokens.iter().map(|t| Term::from_field_text(gram, t)).collect()))
}

/// Documents with a term of `field` starting with the ASCII `prefix`.
fn prefix_range(field: Field, prefix: &str) -> Box<dyn Query> {
    let mut upper = prefix.as_bytes().to_vec();
    match upper.last_mut() {
        Some(last) if *last < 0x7f => *last += 1,
        _ => return term(field, prefix),
    }
    let upper = String::from_utf8_lossy(&upper).into_owned();
    Box::new(RangeQuery::new(
        Bound::Included(Term::from_field_text(field, prefix)),
        Bound::Excluded(Term::from_field_text(field, &upper)),
    ))
}

#[cfg(test)]
mod tests;
