//! The one door of xinyong: every use case, with its permission rule, behind [`App`].
//! `web` and `cli` call these and nothing below them (store, ledger).
//!
//! | capability | module |
//! | --- | --- |
//! | who may do what | [`access`] |
//! | accounts, sign-in, tokens | [`accounts`] |
//! | intake of files and batches, quarantine | [`intake`], [`quarantine`] |
//! | a subject and its record, search | [`view`], [`subjects`] |
//! | listings and their procedure | [`listings`] |
//! | checks before acting (逢办必查) | [`checks`] |
//! | credit commitments (信用承诺) and their clock | [`commitments`] |
//! | voluntary registration (自愿注册) | [`registrations`] |
//! | credit reports (信用报告) and their verification | [`reports`] |
//! | grades (信用分级分类) and the grade book | [`grading`] |
//! | the centre's figures (departments, divisions, industries) | [`figures`] |
//! | double-random inspection plans (双随机、一公开) | [`inspections`] |
//! | lists that follow from records (对象清单) | [`derived`] |
//! | evidence files of due-process cases | [`evidence`] |
//! | exchange between platforms, agencies' subscriptions | [`exchange`], [`subscriptions`] |
//! | the ledger: head, proofs, verification | [`ledger`] |
//! | witnesses cosigning the heads, and the witness side | [`witnesses`] |
//! | projections following the ledger | [`projector`] |
//!
//! `App` is cheap to clone and `Send + Sync`: reads take a connection from a pool and
//! run concurrently; writes that append to the ledger take the one appender; the check
//! log and the access log have their own writer.

pub mod access;
pub mod accounts;
pub mod calendar;
pub mod cases;
mod check_index;
pub mod checks;
pub mod commitments;
mod db;
pub mod derived;
pub mod error;
pub mod evidence;
pub mod exchange;
pub mod figures;
pub mod grading;
pub mod inspections;
pub mod intake;
pub mod item_records;
pub mod ledger;
pub mod listings;
pub mod migrate;
pub mod projector;
pub mod quality;
pub mod quarantine;
pub mod quarantine_files;
pub mod reader;
pub mod registrations;
pub mod reports;
mod sidelog;
pub mod subjects;
pub mod subscriptions;
#[path = "gen.rs"]
pub mod synthetic;
pub mod view;
pub mod witnesses;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use xinyong_core::Catalog;
use xinyong_ledger::{LedgerKey, LedgerVerifier};
use xinyong_store::{PgStore, SqliteStore, Store};

pub use access::{Caller, Role};

/// Scratch PostgreSQL schemas for tests of the crates above (the server from
/// `XINYONG_PG_URL`, skipped visibly when absent, failing under `CI`).
pub mod testing {
    pub use xinyong_store::bench_fixture::fill_for_grading;
    pub use xinyong_store::testing::*;
}
pub use error::{AppError, ErrorKind, Result};

/// Ledger origin written into every checkpoint of a data directory.
pub const LEDGER_ORIGIN: &str = "xinyong/ledger";
const DB_FILE: &str = "xinyong.sqlite3";
const KEY_FILE: &str = "ledger.key";
const PUBLIC_KEY_FILE: &str = "ledger.pub";

/// An open data directory: the store, the ledger signing key, the catalog and, for a
/// server, the projections (check index, search index) that follow the ledger.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    key: LedgerKey,
    catalog: Catalog,
    db: db::Db,
    /// The check index and search index, for a server ([`App::start_projections`]).
    projections: OnceLock<projector::Projections>,
    /// The check log and access log writer, started on first use.
    side_log: OnceLock<sidelog::SideLog>,
    tokens: accounts::TokenCache,
    /// The official working-day calendar and the years added since (`calendar add-year`).
    calendar: std::sync::RwLock<std::sync::Arc<xinyong_core::calendar::WorkCalendar>>,
    /// The due-process rule set this deployment uses (default: the data file's).
    rule_set: OnceLock<String>,
    /// One run at a time of the follower that derives list entries from records.
    deriving: derived::Deriving,
    /// One run at a time of the commitments' follower and clock, and its day.
    commitments: commitments::Following,
    /// Every subject's grades, kept by a server (built on first use, then followed).
    grades: grading::Book,
    /// The ledger tree's node cache, for proofs (built on first use, then extended).
    tree: ledger::Tree,
}

impl App {
    /// Opens `dir`, creating it, the database and the ledger key on first use.
    pub fn open(dir: &Path) -> Result<App> {
        App::open_with(dir, None)
    }

    /// Initialises `dir` for a platform whose ledger is named `origin` (e.g.
    /// `xinyong.tianjin/ledger`): every platform that exchanges with others needs its own
    /// name, since a peer is known by it. A directory already initialised under another
    /// name is refused: the name is in every signed head. `algorithm` is the signature
    /// scheme and tree hash (Ed25519 / SHA-256, or SM2 / SM3 for 国密 deployments),
    /// fixed for the ledger's life: another for an initialised directory is refused too.
    pub fn init(dir: &Path, database: Option<&str>, origin: &str, algorithm: xinyong_ledger::Algorithm) -> Result<App> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(KEY_FILE);
        if path.exists() {
            let key = LedgerKey::from_file_bytes(&std::fs::read(&path)?)?;
            if key.origin() != origin || key.algorithm() != algorithm {
                return Err(AppError::input(
                    format!(
                        "{} 已初始化，账本名称为 {}，算法为 {}",
                        dir.display(),
                        key.origin(),
                        key.algorithm().name()
                    ),
                    format!(
                        "{} is initialised already: its ledger is named {}, signed with {}",
                        dir.display(),
                        key.origin(),
                        key.algorithm().name()
                    ),
                ));
            }
        } else {
            let key = LedgerKey::try_generate_with(origin, algorithm)
                .map_err(|e| AppError::input(format!("账本名称无效：{e}"), format!("invalid ledger origin: {e}")))?;
            write_private(&path, &key.to_file_bytes())?;
        }
        App::open_with(dir, database)
    }

    /// Opens `dir` with the store at `database` (a `postgres://` URL) instead of the
    /// SQLite file in `dir`; `None` is [`App::open`]. The ledger key stays in `dir`:
    /// every node serving one database needs a copy of the same `ledger.key`.
    pub fn open_with(dir: &Path, database: Option<&str>) -> Result<App> {
        std::fs::create_dir_all(dir)?;
        let store: Box<dyn Store> = match database {
            None => {
                let key = load_or_create_key(dir)?;
                let store = SqliteStore::open(&dir.join(DB_FILE))?;
                return App::assemble(dir, key, Box::new(store));
            }
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                let store = PgStore::open(url)?;
                // a node joining a shared ledger must bring its key, not make one
                if !dir.join(KEY_FILE).exists() && store.latest_head()?.is_some() {
                    return Err(AppError::input(
                        format!("{} 中没有 ledger.key：请复制首个节点的 ledger.key", dir.display()),
                        format!("no ledger.key in {}: copy ledger.key from the first node", dir.display()),
                    ));
                }
                Box::new(store)
            }
            Some(other) => {
                return Err(AppError::input(
                    format!("数据库地址应以 postgres:// 开头：{other}"),
                    format!("the database must be a postgres:// URL, got '{other}'"),
                ));
            }
        };
        let key = load_or_create_key(dir)?;
        if let Some(head) = store.latest_head()?
            && key.verifier().verify(&head.checkpoint).is_err()
        {
            return Err(AppError::input(
                format!("{} 中的 ledger.key 不是签署该数据库账本的密钥：请复制首个节点的 ledger.key", dir.display()),
                format!(
                    "the ledger.key in {} did not sign this database's ledger: copy ledger.key from the first node",
                    dir.display()
                ),
            ));
        }
        App::assemble(dir, key, store)
    }

    fn assemble(dir: &Path, key: LedgerKey, store: Box<dyn Store>) -> Result<App> {
        // a broken matters list fails the start, not the first signature
        xinyong_core::commitment::matters::Matters::bundled()
            .map_err(|e| AppError::Internal(format!("data/commitments/matters.toml: {e}")))?;
        Ok(App {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                key,
                catalog: Catalog::bundled()?,
                db: db::Db::new(store)?,
                projections: OnceLock::new(),
                side_log: OnceLock::new(),
                tokens: accounts::TokenCache::default(),
                calendar: std::sync::RwLock::new(std::sync::Arc::new(calendar::load(dir)?)),
                rule_set: OnceLock::new(),
                deriving: derived::Deriving::default(),
                commitments: commitments::Following::default(),
                grades: grading::Book::default(),
                tree: ledger::Tree::default(),
            }),
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    pub fn catalog(&self) -> &Catalog {
        &self.inner.catalog
    }

    /// The published verification key (also written to `ledger.pub`).
    pub fn verifier(&self) -> LedgerVerifier {
        self.inner.key.verifier()
    }

    pub fn db_path(&self) -> PathBuf {
        self.inner.dir.join(DB_FILE)
    }

    /// Holds the ledger's one appender for `d`, as a slow write would (tests show that
    /// reads and checks do not wait for it).
    #[doc(hidden)]
    pub fn hold_appender(&self, d: std::time::Duration) -> Result<()> {
        self.db().write(|_| {
            std::thread::sleep(d);
            Ok(())
        })
    }

    pub(crate) fn key(&self) -> &LedgerKey {
        &self.inner.key
    }

    pub(crate) fn db(&self) -> &db::Db {
        &self.inner.db
    }

    pub(crate) fn side_log(&self) -> Result<&sidelog::SideLog> {
        if let Some(s) = self.inner.side_log.get() {
            return Ok(s);
        }
        let store = self.inner.db.connect()?;
        Ok(self.inner.side_log.get_or_init(|| sidelog::SideLog::spawn(store)))
    }

    pub(crate) fn tree(&self) -> &ledger::Tree {
        &self.inner.tree
    }

    pub(crate) fn tokens(&self) -> &accounts::TokenCache {
        &self.inner.tokens
    }
}

fn load_or_create_key(dir: &Path) -> Result<LedgerKey> {
    let path = dir.join(KEY_FILE);
    let key = if path.exists() {
        LedgerKey::from_file_bytes(&std::fs::read(&path)?)?
    } else {
        let key = LedgerKey::generate(LEDGER_ORIGIN);
        write_private(&path, &key.to_file_bytes())?;
        key
    };
    // written after the key: a crash between the two leaves it to be written now
    let public = dir.join(PUBLIC_KEY_FILE);
    if !public.exists() {
        std::fs::write(&public, format!("{}\n", key.verifier().to_text()))?;
    }
    Ok(key)
}

/// Writes the signing key readable by its owner only, and durably: losing it would
/// make every later head unverifiable against the published key. Written beside and
/// renamed into place, so a crash leaves either no key or the whole key, never an
/// empty file that stops the next start.
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Now, in milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Today in Asia/Shanghai (UTC+8, no daylight saving).
pub fn today_shanghai() -> time::Date {
    let offset = time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::now_utc().to_offset(offset).date()
}

/// Parses a subject code (USCC or resident ID) as a request field.
pub fn parse_code(code: &str) -> Result<xinyong_core::SubjectCode> {
    xinyong_core::SubjectCode::parse(code).map_err(|errors| {
        // each error reads "中文 / English"
        let texts: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        let half = |english: bool| {
            texts
                .iter()
                .map(|t| match t.split_once(" / ") {
                    Some((zh, en)) => if english { en } else { zh }.to_string(),
                    None => t.clone(),
                })
                .collect::<Vec<_>>()
        };
        let (zh, en) = (half(false).join("；"), half(true).join("; "));
        AppError::invalid("invalid_code", zh, en)
    })
}

/// Parses a day (`YYYY-MM-DD`) given as request field `name`.
pub fn parse_day(name: &str, s: &str) -> Result<time::Date> {
    xinyong_core::record::parse_date(s).ok_or_else(|| {
        AppError::invalid(
            "invalid_date",
            format!("{name} “{s}” 不是有效日期"),
            format!("{name} is not a date (YYYY-MM-DD)"),
        )
    })
}

/// The page size a request asks for: `default` when it names none, otherwise 1–`max`;
/// anything else is refused (`limit`), not clamped, so that a caller gets the page it
/// asked for or is told why not.
pub fn page_size(limit: Option<u32>, default: u32, max: u32) -> Result<u32> {
    match limit {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(n) => Err(AppError::invalid(
            "limit",
            format!("limit 应为 1–{max}，实为 {n}"),
            format!("limit must be 1–{max}, got {n}"),
        )),
    }
}

/// The day a request asks about (`as_of`), or today (Asia/Shanghai). A day that does
/// not parse is a malformed request (`bad_request`).
pub fn day_or_today(s: Option<&str>) -> Result<time::Date> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(today_shanghai()),
        Some(s) => xinyong_core::record::parse_date(s).ok_or_else(|| {
            AppError::invalid("bad_request", format!("as_of '{s}' 不是有效日期"), "as_of is not a date (YYYY-MM-DD)")
        }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod key_tests {
    use super::*;

    /// What a kill during the first start can leave — a partial temporary key and no
    /// key, or a key without its public half — does not stop the next start.
    #[test]
    fn a_key_write_cut_short_does_not_stop_the_next_start() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ledger.tmp"), b"").unwrap();
        let key = load_or_create_key(dir.path()).unwrap();
        assert!(!dir.path().join("ledger.tmp").exists());
        let again = load_or_create_key(dir.path()).unwrap();
        assert_eq!(key.verifier().to_text(), again.verifier().to_text());
        std::fs::remove_file(dir.path().join(PUBLIC_KEY_FILE)).unwrap();
        load_or_create_key(dir.path()).unwrap();
        let public = std::fs::read_to_string(dir.path().join(PUBLIC_KEY_FILE)).unwrap();
        assert_eq!(public.trim(), key.verifier().to_text());
    }
}
