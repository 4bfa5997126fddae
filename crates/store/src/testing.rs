//! Support for tests that need PostgreSQL (this crate's and the other crates'): the
//! server from `XINYONG_PG_URL` (default [`DEFAULT_URL`]) and a fresh schema per store,
//! dropped afterwards, so concurrent test runs never share tables.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::{PgStore, Result};

pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The test server's URL: `XINYONG_PG_URL`, or [`DEFAULT_URL`].
pub fn base_url() -> String {
    std::env::var("XINYONG_PG_URL").ok().filter(|u| !u.is_empty()).unwrap_or_else(|| DEFAULT_URL.to_string())
}

/// The test server's URL when it answers. When it does not, a test is skipped with a
/// visible line, except under CI (env `CI` set), where a missing server must fail the run.
pub fn server_or_skip(test: &str) -> Option<String> {
    let url = base_url();
    match connect(&url) {
        Ok(_) => Some(url),
        Err(e) if std::env::var_os("CI").is_some() => {
            panic!("{test}: PostgreSQL not reachable at {url} ({e}), and CI is set")
        }
        Err(e) => {
            // straight to the stream: the test harness hides eprintln! output of passing tests
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "SKIPPED: PostgreSQL not reachable at {url} ({e}); {test} did not run");
            None
        }
    }
}

fn connect(url: &str) -> Result<postgres::Client> {
    let mut config: postgres::Config = url.parse()?;
    config.connect_timeout(Duration::from_secs(3));
    Ok(config.connect(postgres::NoTls)?)
}

/// `url` with the search path set to `schema` (the libpq `options` parameter).
pub fn url_with_schema(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-csearch_path%3D{schema}")
}

/// A uniquely named schema, created now and dropped (with everything in it) on drop.
pub struct ScratchSchema {
    pub name: String,
    base: String,
}

impl ScratchSchema {
    pub fn new(base: &str, prefix: &str) -> Result<ScratchSchema> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let name = format!(
            "xy_{prefix}_{}_{}_{}",
            std::process::id(),
            nanos % 1_000_000_000,
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        connect(base)?.batch_execute(&format!("CREATE SCHEMA {name}"))?;
        Ok(ScratchSchema { name, base: base.to_string() })
    }

    /// The URL whose connections use this schema.
    pub fn url(&self) -> String {
        url_with_schema(&self.base, &self.name)
    }

    pub fn open(&self) -> Result<PgStore> {
        PgStore::open(&self.url())
    }
}

impl Drop for ScratchSchema {
    fn drop(&mut self) {
        if let Ok(mut c) = connect(&self.base) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}

/// A `clear` check of `subject_code` by account `account_id` (matter
/// `government_procurement`), for tests that need rows in the check log.
pub fn clear_check(id: &str, at_ms: i64, account_id: i64, subject_code: &str) -> crate::CheckRow {
    crate::CheckRow {
        id: id.into(),
        at_ms,
        account_id,
        department: "财政局".into(),
        matter: "government_procurement".into(),
        purpose: "采购资格审查".into(),
        subject_code: subject_code.into(),
        as_of: "2025-06-01".into(),
        verdict: "clear".into(),
        measures: vec![],
        listings: vec![],
        ledger_size: 1,
        feedback: None,
    }
}
