//! The ledger a fixed sequence of batches writes, byte for byte, on every back end:
//! events (index, subject, kind, record, leaf, payload), outcomes, records, subjects
//! and quarantine entries, compared with `tests/golden/ledger.txt`. The batches cover
//! every decision of an append: new and known subjects, new records, duplicates and
//! corrections within a batch and across batches, identity conflicts, quarantine
//! entries new, known, replaced and resolved, and registration rows.
//!
//! Regenerate (only for an intended change of the ledger or projections) with
//! `XINYONG_UPDATE_GOLDEN=1 cargo test -p xinyong-store --test ledger_golden`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;

use time::macros::date;
use xinyong_core::Catalog;
use xinyong_core::codes::Uscc;
use xinyong_core::event::Provenance;
use xinyong_core::record::{FieldError, validate};
use xinyong_ledger::{LedgerKey, leaf_hash};
use xinyong_store::testing::{ScratchSchema, server_or_skip};
use xinyong_store::{Entry, NewQuarantine, NewRecord, QuarantineFilter, SqliteStore, Store};

const A: &str = "91110108551385082Q";
const B: &str = "91110000802100433B";
const PERSON: &str = "11010519491231002X";

fn code(first16: &str) -> String {
    Uscc::complete(first16).unwrap().as_str().to_string()
}

fn prov(batch: &str, row: u64) -> Provenance {
    Provenance {
        at: 1_700_000_000_000 + row as i64,
        batch: batch.into(),
        provider: "海淀区市场监管局".into(),
        source: "golden.csv".into(),
        row: Some(row),
    }
}

fn record(item: &str, pairs: &[(&str, &str)], batch: &str, row: u64, resolves: Option<i64>) -> Entry {
    let catalog = Catalog::bundled().unwrap();
    let item = catalog.item(item).unwrap();
    let values: Vec<Option<&str>> =
        item.fields.iter().map(|f| pairs.iter().find(|(k, _)| *k == f.name).map(|(_, v)| *v)).collect();
    let rec = validate(item, &values, date!(2026 - 01 - 01)).unwrap();
    Entry::Record(Box::new(NewRecord::prepare(rec, "海淀区市场监管局", prov(batch, row), resolves)))
}

fn honour(code: &str, name: &str, doc: &str, title: &str, batch: &str, row: u64) -> Entry {
    let pairs = [
        ("主体名称", name),
        ("统一社会信用代码", code),
        ("荣誉名称", title),
        ("荣誉等级", "市级"),
        ("授予日期", "2024-05-06"),
        ("授予机关", "北京市市场监督管理局"),
        ("表彰决定文号", doc),
    ];
    record("honour", &pairs, batch, row, None)
}

fn registration(code: &str, name: &str, former: &str, rep: &str, batch: &str, row: u64) -> Entry {
    let pairs = [
        ("统一社会信用代码", code),
        ("主体名称", name),
        ("曾用名", former),
        ("法定代表人", rep),
        ("法定代表人证件号码", "11010519491231002X"),
        ("成立日期", "2010-01-02"),
        ("行业门类", "I"),
    ];
    record("registration", &pairs, batch, row, None)
}

fn quarantined(raw: &str, replaces: Option<i64>, batch: &str, row: u64) -> Entry {
    Entry::Quarantine(Box::new(NewQuarantine {
        provider: "海淀区市场监管局".into(),
        item: "honour".into(),
        batch: batch.into(),
        source: "golden.csv".into(),
        row: Some(row),
        raw: raw.into(),
        raw_hash: leaf_hash(raw.as_bytes()),
        subject_hint: Some("91110108551385082R".into()),
        errors: vec![FieldError::new("统一社会信用代码", "code.check_char", "校验码错误", "bad check character")],
        replaces,
    }))
}

fn with_resolves(e: Entry, id: i64) -> Entry {
    match e {
        Entry::Record(mut r) => {
            r.resolves = Some(id);
            Entry::Record(r)
        }
        q => q,
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Runs the batches on `s` and writes everything they left behind.
fn run(s: &mut dyn Store) -> String {
    let key = LedgerKey::generate("golden.test/ledger");
    let c = code("9111010500000001");
    let d = code("9111010600000002");
    let mut out = String::new();
    let batches: Vec<Vec<Entry>> = vec![
        vec![
            honour(A, "北京测试科技有限公司", "京发〔2024〕1号", "守合同重信用企业", "b1", 1),
            honour(A, "北京测试科技有限公司", "京发〔2024〕2号", "纳税信用A级", "b1", 2),
            // the same row again within the batch: a duplicate
            honour(A, "北京测试科技有限公司", "京发〔2024〕1号", "守合同重信用企业", "b1", 3),
            // the same document with new content within the batch: a correction
            honour(A, "北京测试科技有限公司", "京发〔2024〕2号", "纳税信用AA级", "b1", 4),
            honour(B, "北京另一科技有限公司", "京发〔2024〕3号", "守合同重信用企业", "b1", 5),
            // A's document for B within the batch: an identity conflict
            honour(B, "北京另一科技有限公司", "京发〔2024〕1号", "别的荣誉", "b1", 6),
            // a subject first seen in a registration row
            registration(&c, "北京丙公司", "北京丙旧名公司", "李四", "b1", 7),
            quarantined("{\"统一社会信用代码\":\"91110108551385082R\"}", None, "b1", 8),
            // the same bad row again within the batch: known
            quarantined("{\"统一社会信用代码\":\"91110108551385082R\"}", None, "b1", 9),
            quarantined("{\"统一社会信用代码\":\"x\"}", None, "b1", 10),
            honour(PERSON, "张三", "京发〔2024〕4号", "见义勇为", "b1", 11),
            // the registration row of a subject created earlier in the batch, renamed
            registration(B, "北京另一新名科技有限公司", "", "王五", "b1", 12),
        ],
        vec![
            // duplicates and corrections of stored records
            honour(A, "北京测试科技有限公司", "京发〔2024〕1号", "守合同重信用企业", "b2", 1),
            honour(A, "北京测试科技有限公司", "京发〔2024〕2号", "纳税信用A级", "b2", 2),
            // a stored identity for another subject
            honour(B, "北京另一科技有限公司", "京发〔2024〕2号", "纳税信用A级", "b2", 3),
            // the same conflict again: the quarantine entry is known
            honour(B, "北京另一科技有限公司", "京发〔2024〕2号", "纳税信用A级", "b2", 4),
            // a resubmission that fails again replaces its entry
            quarantined("{\"统一社会信用代码\":\"y\"}", Some(3), "b2", 5),
            // a corrected resubmission resolves an entry
            with_resolves(honour(A, "北京测试科技有限公司", "京发〔2024〕9号", "守合同重信用企业", "b2", 6), 1),
            // a duplicate resolving another entry
            with_resolves(honour(A, "北京测试科技有限公司", "京发〔2024〕1号", "守合同重信用企业", "b2", 7), 3),
            // a rename of a stored subject, and a new subject after it
            registration(A, "北京测试新名科技有限公司", "北京测试旧名科技有限公司", "赵六", "b2", 8),
            honour(&d, "北京丁公司", "京发〔2024〕10号", "守合同重信用企业", "b2", 9),
            // a registration row for the new subject, with the same name
            registration(&d, "北京丁公司", "", "钱七", "b2", 10),
            // the same registration row of C again: a duplicate that still projects
            registration(&c, "北京丙公司", "北京丙旧名公司", "李四", "b2", 11),
        ],
        vec![
            // only duplicates: no event, no head
            honour(A, "北京测试科技有限公司", "京发〔2024〕1号", "守合同重信用企业", "b3", 1),
            quarantined("{\"统一社会信用代码\":\"91110108551385082R\"}", None, "b3", 2),
        ],
        vec![
            // a rename back and forth within one batch
            registration(A, "北京测试再名科技有限公司", "", "赵六", "b4", 1),
            registration(A, "北京测试新名科技有限公司", "", "赵六", "b4", 2),
            honour(A, "北京测试科技有限公司", "京发〔2024〕11号", "守合同重信用企业", "b4", 3),
        ],
    ];
    for (i, batch) in batches.iter().enumerate() {
        let o = s.append(batch, &key, 10 + i as i64).unwrap();
        writeln!(out, "batch {}: subjects_created {}", i + 1, o.subjects_created).unwrap();
        for (j, x) in o.outcomes.iter().enumerate() {
            writeln!(out, "  {}: {}", j + 1, serde_json::to_string(x).unwrap()).unwrap();
        }
        let head = o.head.map(|h| (h.head.size, hex(&h.head.root)));
        writeln!(out, "  head {head:?}").unwrap();
    }
    writeln!(out, "events").unwrap();
    for e in s.events(0, 1000).unwrap() {
        let payload = String::from_utf8(e.payload).unwrap();
        writeln!(out, "  {} {} {} {:?} {}\n    {payload}", e.index, e.subject_code, e.kind, e.record_id, hex(&e.leaf))
            .unwrap();
    }
    writeln!(out, "subjects").unwrap();
    let subjects = s.subjects_after("", 1000).unwrap();
    for subject in &subjects {
        writeln!(out, "  {}", serde_json::to_string(subject).unwrap()).unwrap();
    }
    writeln!(out, "records").unwrap();
    for subject in &subjects {
        for r in s.records_of(&subject.code).unwrap() {
            writeln!(out, "  {}", serde_json::to_string(&r).unwrap()).unwrap();
        }
    }
    writeln!(out, "quarantine").unwrap();
    for q in s.quarantine(&QuarantineFilter { limit: 1000, ..Default::default() }).unwrap() {
        writeln!(out, "  {}", serde_json::to_string(&q).unwrap()).unwrap();
    }
    writeln!(out, "counts {:?}", s.counts().unwrap()).unwrap();
    out
}

fn golden_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/ledger.txt")
}

fn compare(got: &str) {
    let path = golden_path();
    if std::env::var_os("XINYONG_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap();
    if got != want {
        let first = got.lines().zip(want.lines()).position(|(g, w)| g != w).unwrap_or(0);
        let g: Vec<&str> = got.lines().skip(first).take(4).collect();
        let w: Vec<&str> = want.lines().skip(first).take(4).collect();
        panic!("ledger differs from {} at line {}:\n got: {g:#?}\nwant: {w:#?}", path.display(), first + 1);
    }
}

#[test]
fn sqlite_writes_the_golden_ledger() {
    let mut s = SqliteStore::open_in_memory().unwrap();
    compare(&run(&mut s));
}

#[test]
fn postgres_writes_the_golden_ledger() {
    let Some(base) = server_or_skip("postgres_writes_the_golden_ledger") else { return };
    let schema = ScratchSchema::new(&base, "golden").unwrap();
    let mut s = schema.open().unwrap();
    compare(&run(&mut s));
}

/// SQLite stores the golden ledger's payloads compressed (`codec`), and reads back the
/// canonical bytes the leaves are the hashes of.
#[test]
fn sqlite_stores_payloads_compressed_and_reads_back_the_canonical_bytes() {
    let mut s = SqliteStore::open_in_memory().unwrap();
    run(&mut s);
    let stored: Vec<(i64, Vec<u8>)> = s
        .connection()
        .prepare("SELECT idx, payload FROM events ORDER BY idx")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let events = s.events(0, 1000).unwrap();
    assert_eq!(stored.len(), events.len());
    let (mut plain, mut packed) = (0, 0);
    for ((idx, raw), e) in stored.iter().zip(&events) {
        assert_eq!(*idx as u64, e.index);
        assert_eq!(e.payload[0], b'{', "event {idx} reads as canonical JSON");
        assert_eq!(leaf_hash(&e.payload), e.leaf, "event {idx}: the leaf is the hash of what is read");
        assert_eq!(xinyong_store::codec::unpack(raw).unwrap().as_ref(), &e.payload[..]);
        assert_ne!(raw[0], b'{', "event {idx} is stored compressed");
        plain += e.payload.len();
        packed += raw.len();
    }
    assert!(packed * 2 < plain, "{packed} stored bytes for {plain} canonical ones");
    // payloads written plain (before compression, or copied from PostgreSQL) still read
    let (idx, canonical) = (events[0].index, events[0].payload.clone());
    s.connection()
        .execute("UPDATE events SET payload = ?1 WHERE idx = ?2", rusqlite::params![canonical, idx as i64])
        .unwrap();
    assert_eq!(s.events(idx, 1).unwrap()[0].payload, canonical);
}
