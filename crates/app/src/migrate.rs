//! Moving a deployment between back ends: a data directory (SQLite) to PostgreSQL or
//! back. Every row is copied unchanged (`xinyong_store::transfer`), the ledger key goes
//! where the target needs it, and the target's ledger is verified before reporting.

use std::path::{Path, PathBuf};

use serde::Serialize;
use xinyong_store::transfer::{self, Endpoint, TableCount};
use xinyong_store::{PgStore, SqliteStore};

use crate::ledger::VerifyReport;
use crate::{AppError, DB_FILE, KEY_FILE, PUBLIC_KEY_FILE, Result};

/// Where a store lives: a data directory (SQLite) or a `postgres://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Dir(PathBuf),
    Url(String),
}

impl Location {
    pub fn parse(s: &str) -> Location {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Location::Url(s.to_string())
        } else {
            Location::Dir(PathBuf::from(s))
        }
    }

    fn describe(&self) -> String {
        match self {
            Location::Dir(d) => d.display().to_string(),
            // the URL may carry a password
            Location::Url(u) => match u.split_once('@') {
                Some((scheme_user, rest)) => {
                    let user = scheme_user.rsplit_once(':').map_or(scheme_user, |(a, _)| a);
                    format!("{user}@{rest}")
                }
                None => u.clone(),
            },
        }
    }
}

#[derive(Debug, Serialize)]
pub struct MigrateReport {
    pub from: String,
    pub to: String,
    pub tables: Vec<TableCount>,
    /// The data directory holding the ledger key for the target.
    pub key_dir: String,
    pub verify: VerifyReport,
}

/// Copies the store at `from` into the empty store at `to`. `key_dir` is where the
/// ledger key is when `from` is a database URL (a data directory holds its own).
pub fn migrate(
    from: &Location,
    to: &Location,
    key_dir: Option<&Path>,
    progress: &mut dyn FnMut(&str, u64),
) -> Result<MigrateReport> {
    if from == to {
        return Err(AppError::input("源与目标相同", "source and target are the same"));
    }
    let source_keys = match from {
        Location::Dir(d) => d.clone(),
        Location::Url(_) => key_dir.map(Path::to_path_buf).ok_or_else(|| {
            AppError::input(
                "从数据库迁移时须用 --data 指明存放 ledger.key 的数据目录",
                "migrating from a database needs --data, the data directory holding its ledger.key",
            )
        })?,
    };
    let key_bytes = std::fs::read(source_keys.join(KEY_FILE)).map_err(|e| {
        AppError::input(
            format!("无法读取 {}：{e}", source_keys.join(KEY_FILE).display()),
            format!("cannot read {}: {e}", source_keys.join(KEY_FILE).display()),
        )
    })?;
    let key = xinyong_ledger::LedgerKey::from_file_bytes(&key_bytes)?;
    let src = match from {
        Location::Dir(d) => {
            let file = d.join(DB_FILE);
            if !file.exists() {
                return Err(AppError::input(
                    format!("{} 不存在", file.display()),
                    format!("{} does not exist", file.display()),
                ));
            }
            Endpoint::Sqlite(SqliteStore::open(&file)?)
        }
        Location::Url(u) => Endpoint::Postgres(PgStore::open(u)?),
    };
    if let Some(head) = src.store().latest_head()? {
        key.verifier().verify(&head.checkpoint).map_err(|_| {
            AppError::input(
                format!("{} 中的 ledger.key 不是签署源账本的密钥", source_keys.display()),
                format!("the ledger.key in {} did not sign the source ledger", source_keys.display()),
            )
        })?;
    }
    let target_keys = match to {
        Location::Dir(d) => {
            std::fs::create_dir_all(d)?;
            let target_key = d.join(KEY_FILE);
            if target_key.exists() {
                if std::fs::read(&target_key)? != key_bytes {
                    return Err(AppError::input(
                        format!("{} 已有另一把 ledger.key", d.display()),
                        format!("{} already has another ledger.key", d.display()),
                    ));
                }
            } else {
                crate::write_private(&target_key, &key_bytes)?;
                std::fs::write(d.join(PUBLIC_KEY_FILE), format!("{}\n", key.verifier().to_text()))?;
            }
            d.clone()
        }
        Location::Url(_) => source_keys.clone(),
    };
    let mut dst = match to {
        Location::Dir(d) => Endpoint::Sqlite(SqliteStore::open(&d.join(DB_FILE))?),
        Location::Url(u) => Endpoint::Postgres(PgStore::open(u)?),
    };
    let report = transfer::copy(&src, &mut dst, progress)?;
    // the source may have grown since its snapshot: the copy's last head must be one of its heads
    let copied = dst.store().latest_head()?;
    if let Some(h) = &copied
        && !src.store().heads()?.contains(h)
    {
        return Err(AppError::input("迁移后签名树头与源不符", "the copied signed head is not one of the source's"));
    }
    drop((src, dst));
    let app = crate::App::open_with(
        &target_keys,
        match to {
            Location::Url(u) => Some(u.as_str()),
            Location::Dir(_) => None,
        },
    )?;
    let verify = crate::ledger::verify(&app)?;
    Ok(MigrateReport {
        from: from.describe(),
        to: to.describe(),
        tables: report.tables,
        key_dir: target_keys.display().to_string(),
        verify,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::App;
    use crate::synthetic::{GenEncoding, GenFormat, GenOptions, generate};
    use xinyong_store::testing::{ScratchSchema, server_or_skip};
    use xinyong_store::{AccessEntry, NewAccount, QuarantineFilter, Store};

    /// What must survive a migration, read through the Store trait.
    fn snapshot(s: &dyn Store) -> serde_json::Value {
        let mut subjects = Vec::new();
        let mut after = String::new();
        loop {
            let page = s.subjects_after(&after, 50).unwrap();
            let Some(last) = page.last() else { break };
            after = last.code.clone();
            for subject in page.iter().step_by(7) {
                subjects.push(serde_json::json!({
                    "subject": subject,
                    "records": s.records_of(&subject.code).unwrap(),
                    "access": s.access_log(&subject.code, 10).unwrap(),
                    "checks": s.checks_of(&subject.code, 10).unwrap(),
                    "listings": s.listings_of(&subject.code).unwrap(),
                }));
            }
        }
        let all = QuarantineFilter { limit: 100_000, ..Default::default() };
        serde_json::json!({
            "counts": s.counts().unwrap(),
            "heads": s.heads().unwrap(),
            "subjects": subjects,
            "quarantine": s.quarantine(&all).unwrap(),
            "accounts": s.accounts().unwrap(),
            "check_stats": s.check_stats(None).unwrap(),
            "token": s.account_by_token(&xinyong_ledger::leaf_hash(b"token")).unwrap(),
            "events": s.events(0, 100_000).unwrap().iter().map(|e| (e.index, e.leaf, e.payload.clone(), e.record_id)).collect::<Vec<_>>(),
        })
    }

    fn id_of(app: &App) -> i64 {
        app.db().raw().account("officer").unwrap().unwrap().id
    }

    fn import_all(app: &App, input: &Path, manifest: &crate::synthetic::GenManifest) {
        for f in &manifest.files {
            crate::intake::import_file(app, &input.join(&f.file), &f.item, "测试部门", &mut |_| {}).unwrap();
        }
    }

    /// A second node must bring the first node's key: none is refused (and none is
    /// made), another is refused.
    #[test]
    fn a_node_without_the_ledgers_key_is_refused() {
        let Some(base) = server_or_skip("a_node_without_the_ledgers_key_is_refused") else { return };
        let schema = ScratchSchema::new(&base, "keys").unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let (first, second, third) = (tmp.path().join("a"), tmp.path().join("b"), tmp.path().join("c"));
        let app = App::open_with(&first, Some(&schema.url())).unwrap();
        let rows = vec![honour_row("京发〔2024〕1号")];
        let out = crate::intake::ingest_rows(&app, "honour", "测试部门", "test", &rows).unwrap();
        assert_eq!(out.accepted, 1);
        let err = App::open_with(&second, Some(&schema.url())).err().unwrap();
        assert!(err.to_string().contains("no ledger.key"), "{err}");
        assert!(!second.join(KEY_FILE).exists(), "a key was made for a ledger it did not sign");
        App::open(&third).unwrap();
        let err = App::open_with(&third, Some(&schema.url())).err().unwrap();
        assert!(err.to_string().contains("did not sign"), "{err}");
        std::fs::create_dir_all(&second).unwrap();
        std::fs::copy(first.join(KEY_FILE), second.join(KEY_FILE)).unwrap();
        assert_eq!(App::open_with(&second, Some(&schema.url())).unwrap().db().raw().ledger_size().unwrap(), 2);
    }

    fn honour_row(doc: &str) -> std::collections::BTreeMap<String, String> {
        std::collections::BTreeMap::from([
            ("主体名称".to_string(), "北京测试科技有限公司".to_string()),
            ("统一社会信用代码".to_string(), "91110108551385082Q".to_string()),
            ("荣誉名称".to_string(), "守合同重信用企业".to_string()),
            ("荣誉等级".to_string(), "市级".to_string()),
            ("授予日期".to_string(), "2024-05-06".to_string()),
            ("授予机关".to_string(), "北京市市场监督管理局".to_string()),
            ("表彰决定文号".to_string(), doc.to_string()),
        ])
    }

    /// A database that another node writes during the copy: the copy is the snapshot
    /// at its start, and verifies.
    #[test]
    fn copying_a_database_being_written_gives_a_consistent_snapshot() {
        let Some(base) = server_or_skip("copying_a_database_being_written_gives_a_consistent_snapshot") else {
            return;
        };
        let schema = ScratchSchema::new(&base, "live").unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let keys = tmp.path().join("keys");
        let app = App::open_with(&keys, Some(&schema.url())).unwrap();
        let input = tmp.path().join("in");
        let opts = GenOptions {
            subjects: 200,
            records: 2000,
            seed: 8,
            dirty_percent: 0,
            format: GenFormat::Csv,
            encoding: GenEncoding::Utf8,
            latest_date: crate::today_shanghai(),
        };
        import_all(&app, &input, &generate(&opts, &input).unwrap());
        let stop = std::sync::atomic::AtomicBool::new(false);
        let target = tmp.path().join("copy");
        let report = std::thread::scope(|s| {
            let writer = s.spawn(|| {
                let mut n = 0;
                while n == 0 || (!stop.load(std::sync::atomic::Ordering::Relaxed) && n < 2000) {
                    let rows = [honour_row(&format!("京发〔2024〕{n}号"))];
                    crate::intake::ingest_rows(&app, "honour", "测试部门", "test", &rows).unwrap();
                    n += 1;
                }
                n
            });
            let report =
                migrate(&Location::Url(schema.url()), &Location::Dir(target.clone()), Some(&keys), &mut |_, _| {});
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            assert!(writer.join().unwrap() > 0);
            report.unwrap()
        });
        assert!(report.verify.ok, "{report:?}");
        let copy = App::open(&target).unwrap();
        let source = App::open_with(&keys, Some(&schema.url())).unwrap();
        let copied = copy.db().raw().latest_head().unwrap().unwrap();
        assert!(source.db().raw().heads().unwrap().contains(&copied));
        assert_eq!(copy.db().raw().ledger_size().unwrap(), copied.head.size);
        assert!(source.db().raw().ledger_size().unwrap() >= copied.head.size);
    }

    #[test]
    fn sqlite_to_postgres_and_back_keeps_everything_and_verifies() {
        let Some(base) = server_or_skip("sqlite_to_postgres_and_back_keeps_everything_and_verifies") else { return };
        let tmp = tempfile::tempdir().unwrap();
        let opts = |seed, records| GenOptions {
            subjects: 150,
            records,
            seed,
            dirty_percent: 5,
            format: GenFormat::Mixed,
            encoding: GenEncoding::Utf8,
            latest_date: crate::today_shanghai(),
        };
        let input = tmp.path().join("in");
        let manifest = generate(&opts(3, 1200), &input).unwrap();
        let dir = tmp.path().join("sqlite");
        let app = App::open(&dir).unwrap();
        import_all(&app, &input, &manifest);
        let new = NewAccount {
            subject_code: None,
            username: "officer".into(),
            display_name: "部门".into(),
            role: "officer".into(),
            provider: Some("测试部门".into()),
            password_hash: Some("x".into()),
        };
        let id = app.db().raw().create_account(&new, 1).unwrap();
        app.db().raw().add_token(id, &xinyong_ledger::leaf_hash(b"token"), "t", 2).unwrap();
        let code = app.db().raw().subjects_after("", 1).unwrap()[0].code.clone();
        let entry = AccessEntry {
            subject_code: code,
            account_id: id,
            actor: "officer".into(),
            provider: new.provider.clone(),
            purpose: "审查".into(),
            what: "records".into(),
            at_ms: 3,
        };
        app.db().raw().log_access(&entry).unwrap();
        let check =
            |id: &str, at_ms: i64| xinyong_store::testing::clear_check(id, at_ms, id_of(&app), &entry.subject_code);
        let checks = [check("k1", 10), check("k2", 10), check("k3", 20)];
        app.db().raw().record_checks(&checks).unwrap();
        // a listing step: a row of its own and a ledger event
        let notice = xinyong_core::listing::Notice {
            subject: entry.subject_code.clone(),
            list_type: "serious_dishonesty".into(),
            provider: "测试部门".into(),
            basis: Some("《严重失信主体名单管理办法》第五条".into()),
            reason: "拒不履行".into(),
            notice_date: time::macros::date!(2025 - 01 - 02),
            persons: vec![],
            scope: None,
        };
        let rules = xinyong_core::lists::ListRules::bundled();
        let cal = xinyong_core::calendar::WorkCalendar::official();
        let noticed = xinyong_core::listing::notice(rules, cal, notice, time::macros::date!(2026 - 01 - 01)).unwrap();
        let p = xinyong_core::event::Provenance {
            at: 5,
            batch: "b".into(),
            provider: "测试部门".into(),
            source: "test".into(),
            row: None,
        };
        let kind = xinyong_core::event::EventKind::ListingNoticed;
        app.db().raw().put_listing(&noticed, kind, &p, app.key(), 5).unwrap();
        let before = snapshot(app.db().raw().as_ref());
        assert_eq!(before["subjects"][0]["checks"].as_array().unwrap().len(), 3, "{}", before["subjects"][0]);
        // the noticed listing, and the entry derived from the subject's court record
        assert_eq!(before["subjects"][0]["listings"].as_array().unwrap().len(), 2, "{}", before["subjects"][0]);
        drop(app);

        let schema = ScratchSchema::new(&base, "migrate").unwrap();
        let pg = Location::Url(schema.url());
        let report = migrate(&Location::Dir(dir.clone()), &pg, None, &mut |_, _| {}).unwrap();
        assert!(report.verify.ok, "{report:?}");
        assert!(report.tables.iter().any(|t| t.table == "events" && t.rows > 1200), "{report:?}");
        let on_pg = App::open_with(&dir, Some(&schema.url())).unwrap();
        assert_eq!(snapshot(on_pg.db().raw().as_ref()), before, "PostgreSQL differs from the SQLite source");
        let head = on_pg.db().raw().latest_head().unwrap().unwrap();
        assert_eq!(report.verify.root.as_deref(), Some(xinyong_ledger::hex(&head.head.root).as_str()));

        // the target keeps working: ids continue after the copied ones
        let more = tmp.path().join("more");
        let manifest2 = generate(&opts(4, 300), &more).unwrap();
        import_all(&on_pg, &more, &manifest2);
        assert!(on_pg.db().raw().ledger_size().unwrap() > head.head.size);
        let id2 = on_pg.db().raw().create_account(&NewAccount { username: "second".into(), ..new.clone() }, 4).unwrap();
        assert_eq!(id2, id + 1);
        assert!(crate::ledger::verify(&on_pg).unwrap().ok);
        let after_more = snapshot(on_pg.db().raw().as_ref());
        drop(on_pg);

        // and back into a fresh data directory, with the key copied along
        let back = tmp.path().join("back");
        let report = migrate(&pg, &Location::Dir(back.clone()), Some(&dir), &mut |_, _| {}).unwrap();
        assert!(report.verify.ok, "{report:?}");
        let app = App::open(&back).unwrap();
        assert_eq!(snapshot(app.db().raw().as_ref()), after_more, "SQLite differs from the PostgreSQL source");
        assert_eq!(std::fs::read(back.join(KEY_FILE)).unwrap(), std::fs::read(dir.join(KEY_FILE)).unwrap());

        // a target that is not empty is refused
        let err = migrate(&Location::Dir(dir.clone()), &pg, None, &mut |_, _| {}).unwrap_err();
        assert!(err.to_string().contains("not empty"), "{err}");
    }
}
