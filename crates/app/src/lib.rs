//! Use cases of xinyong, across store and ledger: opening a data directory, intake of
//! department files (validate → store or quarantine → ledger), resubmission of
//! quarantined rows, ledger verification and proofs, synthetic data.

pub mod checks;
pub mod intake;
pub mod ledger;
pub mod listings;
pub mod migrate;
mod reader;
#[path = "gen.rs"]
pub mod synthetic;
pub mod view;

use std::path::{Path, PathBuf};

use xinyong_core::Catalog;
use xinyong_ledger::{LedgerKey, LedgerVerifier};
use xinyong_store::{PgStore, SqliteStore, Store};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Store(#[from] xinyong_store::StoreError),
    #[error("{0}")]
    Ledger(#[from] xinyong_ledger::LedgerError),
    #[error("{0}")]
    Catalog(#[from] xinyong_core::catalog::CatalogError),
    #[error("{zh} / {en}")]
    Input { zh: String, en: String },
    /// A step the rules refuse, with every reason (each "中文 / English").
    #[error("{}", .0.join("；"))]
    Refused(Vec<String>),
    #[error("未找到 {0} / not found: {0}")]
    NotFound(String),
}

impl AppError {
    pub fn input(zh: impl Into<String>, en: impl Into<String>) -> AppError {
        AppError::Input { zh: zh.into(), en: en.into() }
    }
}

pub type Result<T> = std::result::Result<T, AppError>;

/// Ledger origin written into every checkpoint of a data directory.
pub const LEDGER_ORIGIN: &str = "xinyong/ledger";
const DB_FILE: &str = "xinyong.sqlite3";
const KEY_FILE: &str = "ledger.key";
const PUBLIC_KEY_FILE: &str = "ledger.pub";

/// An open data directory: the store, the ledger signing key and the catalog.
pub struct App {
    pub dir: PathBuf,
    pub store: Box<dyn Store>,
    pub key: LedgerKey,
    pub catalog: Catalog,
}

impl App {
    /// Opens `dir`, creating it, the database and the ledger key on first use.
    pub fn open(dir: &Path) -> Result<App> {
        App::open_with(dir, None)
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
                return Ok(App { dir: dir.to_path_buf(), store: Box::new(store), key, catalog: Catalog::bundled()? });
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
        Ok(App { dir: dir.to_path_buf(), store, key, catalog: Catalog::bundled()? })
    }

    /// The published verification key (also written to `ledger.pub`).
    pub fn verifier(&self) -> LedgerVerifier {
        self.key.verifier()
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.join(DB_FILE)
    }
}

fn load_or_create_key(dir: &Path) -> Result<LedgerKey> {
    let path = dir.join(KEY_FILE);
    if path.exists() {
        return Ok(LedgerKey::from_file_bytes(&std::fs::read(&path)?)?);
    }
    let key = LedgerKey::generate(LEDGER_ORIGIN);
    write_private(&path, &key.to_file_bytes())?;
    std::fs::write(dir.join(PUBLIC_KEY_FILE), format!("{}\n", key.verifier().to_text()))?;
    Ok(key)
}

/// Writes the signing key readable by its owner only, and durably: losing it would
/// make every later head unverifiable against the published key.
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()?;
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
