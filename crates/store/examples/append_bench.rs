//! The SQLite writer alone: appends prepared honour records in batches of 10 000 to a
//! fresh database file, then appends them all again (every row a duplicate), and
//! prints the time of each pass, wall clock and CPU time of the appending thread (on
//! Linux; less disturbed by other processes), the best of `ROUNDS`. Parsing and
//! validation happen before the clock starts.
//!
//! `cargo run --release -p xinyong-store --example append_bench -- [RECORDS] [SUBJECTS] [ROUNDS]`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use time::macros::date;
use xinyong_core::Catalog;
use xinyong_core::codes::Uscc;
use xinyong_core::event::Provenance;
use xinyong_ledger::LedgerKey;
use xinyong_store::{Entry, NewRecord, SqliteStore, Store};

fn main() {
    let args: Vec<u64> = std::env::args().skip(1).map(|a| a.parse().unwrap()).collect();
    let records = args.first().copied().unwrap_or(200_000);
    let subjects = args.get(1).copied().unwrap_or(20_000);
    let rounds = args.get(2).copied().unwrap_or(3);
    let catalog = Catalog::bundled().unwrap();
    let item = catalog.item("honour").unwrap();
    let codes: Vec<String> =
        (0..subjects).map(|i| Uscc::complete(&format!("91110105{i:08}")).unwrap().as_str().to_string()).collect();
    let batches: Vec<Vec<Entry>> = (0..records)
        .collect::<Vec<_>>()
        .chunks(10_000)
        .map(|chunk| {
            chunk
                .iter()
                .map(|&i| {
                    let code = &codes[(i * 7919 % subjects) as usize];
                    let doc = format!("京发〔2024〕{i}号");
                    let name = format!("北京测试{}科技有限公司", i % subjects);
                    let pairs = [
                        ("主体名称", name.as_str()),
                        ("统一社会信用代码", code.as_str()),
                        ("荣誉名称", "守合同重信用企业"),
                        ("荣誉等级", "市级"),
                        ("授予日期", "2024-05-06"),
                        ("授予机关", "北京市市场监督管理局"),
                        ("表彰决定文号", doc.as_str()),
                    ];
                    let values: Vec<Option<&str>> =
                        item.fields.iter().map(|f| pairs.iter().find(|(k, _)| *k == f.name).map(|(_, v)| *v)).collect();
                    let rec = xinyong_core::record::validate(item, &values, date!(2026 - 01 - 01)).unwrap();
                    let p = Provenance {
                        at: 1,
                        batch: "bench".into(),
                        provider: "bench".into(),
                        source: "bench".into(),
                        row: Some(i + 2),
                    };
                    Entry::Record(Box::new(NewRecord::prepare(rec, "bench", p, None)))
                })
                .collect()
        })
        .collect();
    let key = LedgerKey::generate("bench/ledger");
    let (mut first, mut again) = ([Duration::MAX; 2], [Duration::MAX; 2]);
    let best = |best: &mut [Duration; 2], wall: Duration, cpu: Duration| {
        best[0] = best[0].min(wall);
        best[1] = best[1].min(cpu);
    };
    for _ in 0..rounds {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(&dir.path().join("db.sqlite3")).unwrap();
        let (t, c) = (Instant::now(), thread_cpu());
        for b in &batches {
            store.append(b, &key, 1).unwrap();
        }
        best(&mut first, t.elapsed(), thread_cpu().saturating_sub(c));
        let (t, c) = (Instant::now(), thread_cpu());
        for b in &batches {
            store.append(b, &key, 2).unwrap();
        }
        best(&mut again, t.elapsed(), thread_cpu().saturating_sub(c));
    }
    let rate = |d: Duration| records as f64 / d.as_secs_f64();
    println!(
        "{records} records, {subjects} subjects, best of {rounds}: new {:.3} s ({:.0}/s; CPU {:.3} s), \
         again (duplicates) {:.3} s ({:.0}/s; CPU {:.3} s)",
        first[0].as_secs_f64(),
        rate(first[0]),
        first[1].as_secs_f64(),
        again[0].as_secs_f64(),
        rate(again[0]),
        again[1].as_secs_f64(),
    );
}

/// CPU time of this thread so far (Linux `schedstat`; zero elsewhere).
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .map_or(Duration::ZERO, Duration::from_nanos)
}
