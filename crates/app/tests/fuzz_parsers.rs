//! Fuzz targets for every parser a department's input meets, on stable Rust: proptest
//! strategies for arbitrary bytes and for structure-aware inputs (well-formed tables
//! written as CSV/GB18030/XLSX/JSONL, then damaged). Each target must never panic, must
//! read back what a well-formed file holds, and must give every row its spreadsheet
//! number.
//!
//! In the normal test suite each target runs a few hundred cases. A long run:
//! `XINYONG_FUZZ_SECS=3600 cargo test --release -p xinyong-app --test fuzz_parsers -- --nocapture`
//! runs each target for that many seconds and prints its case count.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use xinyong_app::reader::RowSource;
use xinyong_core::codes::{ResidentId, SubjectCode, Uscc};

/// Runs `test` on values of `strategy`: a fixed number of cases, or for
/// `XINYONG_FUZZ_SECS` seconds when set. Returns the case count.
fn fuzz<S: Strategy>(name: &str, cases: u32, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>) -> u64
where
    S::Value: std::fmt::Debug,
{
    let secs = std::env::var("XINYONG_FUZZ_SECS").ok().and_then(|s| s.parse::<u64>().ok());
    let started = Instant::now();
    let mut total = 0u64;
    loop {
        let rounds = if secs.is_some() { 1000 } else { cases };
        let mut runner = TestRunner::new(Config { cases: rounds, failure_persistence: None, ..Config::default() });
        if let Err(e) = runner.run(&strategy, &test) {
            panic!("fuzz {name}: {e}");
        }
        total += u64::from(rounds);
        match secs {
            Some(s) if started.elapsed() < Duration::from_secs(s) => continue,
            _ => break,
        }
    }
    eprintln!("fuzz {name}: {total} cases in {:.0} s, no failure", started.elapsed().as_secs_f64());
    total
}

/// Bytes that look like department files more often than uniform bytes do.
fn file_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        4 => any::<u8>().prop_map(|b| vec![b]),
        2 => Just(b",".to_vec()),
        2 => Just(b"\"".to_vec()),
        2 => Just(b"\n".to_vec()),
        1 => Just(b"\r\n".to_vec()),
        1 => Just(b"\r".to_vec()),
        2 => Just("名称".as_bytes().to_vec()),
        1 => Just(encoding_rs::GB18030.encode("统一社会信用代码").0.into_owned()),
        1 => Just(b"\xEF\xBB\xBF".to_vec()),
        1 => Just(b"{\"a\":[1,{\"b\":null}]}".to_vec()),
    ];
    proptest::collection::vec(piece, 0..120).prop_map(|v| v.concat())
}

/// Reads every row; checks the invariants any input must keep.
/// A file's headers and rows as read.
type Read = (Vec<String>, Vec<xinyong_app::reader::RawRow>);

fn read_all(path: &std::path::Path) -> Result<Option<Read>, TestCaseError> {
    let Ok(mut src) = RowSource::open(path) else { return Ok(None) };
    let headers = src.headers.clone();
    let mut rows = Vec::new();
    // the header is row 1; JSON Lines has none
    let mut last = u64::from(!src.is_jsonl());
    loop {
        match src.next_row() {
            Ok(Some(r)) => {
                prop_assert!(r.row > last, "row numbers go forward: {} after {}", r.row, last);
                if rows.is_empty() {
                    // empty lines before the header move it down
                    prop_assert!(r.row >= last + 1 + r.blank_lines_before);
                } else {
                    prop_assert_eq!(r.row, last + 1 + r.blank_lines_before);
                }
                // a CSV cell's line breaks are lines of the file; an XLSX cell's are not
                let spans = path.extension().is_some_and(|e| e == "csv");
                last =
                    r.row + if spans { r.cells.iter().map(|c| c.matches('\n').count() as u64).sum::<u64>() } else { 0 };
                rows.push(r);
            }
            Ok(None) => break,
            Err(_) => return Ok(None),
        }
    }
    Ok(Some((headers, rows)))
}

fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9 ]{0,8}",
        "[\\u4e00-\\u9fa5]{1,6}",
        Just("含,逗号".to_string()),
        Just("含\"引号\"".to_string()),
        Just("多\n行".to_string()),
        Just(String::new()),
    ]
}

fn table() -> impl Strategy<Value = (Vec<String>, Vec<Vec<String>>)> {
    (1usize..6).prop_flat_map(|w| {
        (
            proptest::collection::vec("[\\u4e00-\\u9fa5]{2,4}", w..=w),
            proptest::collection::vec(proptest::collection::vec(cell(), w..=w), 0..8),
        )
    })
}

#[test]
fn fuzz_codes() {
    fuzz("codes", 2000, (".{0,24}", proptest::collection::vec(any::<u8>(), 0..24)), |(text, bytes)| {
        for input in [text, String::from_utf8_lossy(&bytes).into_owned()] {
            // never panics; what parses prints back as itself and parses again
            if let Ok(u) = Uscc::parse(&input) {
                prop_assert_eq!(Uscc::parse(u.as_str()).unwrap(), u.clone());
                prop_assert_eq!(u.as_str().len(), 18);
            }
            if let Ok(r) = ResidentId::parse(&input) {
                prop_assert!(!r.masked().is_empty());
            }
            if let Ok(c) = SubjectCode::parse(&input) {
                prop_assert_eq!(SubjectCode::parse(c.key()).unwrap(), c);
            }
        }
        Ok(())
    });
}

#[test]
fn fuzz_csv_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.csv");
    fuzz("csv bytes", 500, file_bytes(), |bytes| {
        std::fs::write(&path, &bytes).unwrap();
        read_all(&path)?;
        Ok(())
    });
}

#[test]
fn fuzz_csv_tables() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    let damage = proptest::option::of((any::<prop::sample::Index>(), any::<u8>()));
    fuzz("csv tables", 300, (table(), any::<bool>(), any::<bool>(), damage), |((headers, rows), gb, crlf, damage)| {
        let mut w = csv::WriterBuilder::new()
            .terminator(if crlf { csv::Terminator::CRLF } else { csv::Terminator::Any(b'\n') })
            .from_writer(Vec::new());
        w.write_record(&headers).unwrap();
        for r in &rows {
            w.write_record(r).unwrap();
        }
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        let mut bytes = if gb { encoding_rs::GB18030.encode(&text).0.into_owned() } else { text.clone().into_bytes() };
        if let Some((at, b)) = damage {
            if !bytes.is_empty() {
                let i = at.index(bytes.len());
                bytes[i] = b;
            }
            std::fs::write(&path, &bytes).unwrap();
            read_all(&path)?;
            return Ok(());
        }
        std::fs::write(&path, &bytes).unwrap();
        if gb && !text.is_ascii() && std::str::from_utf8(&bytes).is_ok() {
            // GB18030 bytes that are also valid UTF-8 with CJK in it (绉匑 is 秅@) say
            // nothing about which they are: the reader's rule picks UTF-8. Only a tiny
            // file can be both; any invariant still holds.
            read_all(&path)?;
            return Ok(());
        }
        let (got_headers, got) = read_all(&path)?.expect("a well-formed file opens");
        prop_assert_eq!(got_headers, headers);
        // (a writer quotes a lone empty cell, so no row is an empty line)
        let expected: Vec<&Vec<String>> = rows.iter().collect();
        prop_assert_eq!(got.len(), expected.len());
        let mut line = 2u64;
        for (g, e) in got.iter().zip(&expected) {
            prop_assert_eq!(&g.cells, *e);
            prop_assert_eq!(g.row, line);
            prop_assert!(g.problem.is_none(), "{:?}", g.problem);
            line += 1 + e.iter().map(|c| c.matches('\n').count() as u64).sum::<u64>();
        }
        Ok(())
    });
}

#[test]
fn fuzz_jsonl() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.jsonl");
    let line = prop_oneof![
        file_bytes(),
        proptest::collection::btree_map("[\\u4e00-\\u9fa5a-z]{1,4}", cell(), 0..5)
            .prop_map(|m| serde_json::to_vec(&m).unwrap()),
    ];
    fuzz("jsonl", 500, proptest::collection::vec(line, 0..6), |lines| {
        let mut bytes = Vec::new();
        for l in &lines {
            bytes.extend_from_slice(l);
            bytes.push(b'\n');
        }
        std::fs::write(&path, &bytes).unwrap();
        let Some((_, rows)) = read_all(&path)? else { return Ok(()) };
        let physical = bytes.iter().filter(|&&b| b == b'\n').count();
        prop_assert_eq!(rows.len(), physical, "one row per line");
        for r in &rows {
            if r.problem.is_none() {
                // a well-formed line is handed on as received
                let _ = serde_json::from_str::<serde_json::Value>(&r.cells[0]);
            }
        }
        Ok(())
    });
}

/// A small workbook written by a real XLSX writer, as bytes.
fn xlsx_bytes(headers: &[String], rows: &[Vec<String>]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string(0, c as u16, h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                sheet.write_string(r as u32 + 1, c as u16, v).unwrap();
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

#[test]
fn fuzz_xlsx() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.xlsx");
    let damage = proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4);
    fuzz("xlsx", 150, (table(), damage, file_bytes()), |((headers, rows), damage, noise)| {
        let mut bytes = xlsx_bytes(&headers, &rows);
        if damage.is_empty() {
            std::fs::write(&path, &bytes).unwrap();
            let (got_headers, got) = read_all(&path)?.expect("a well-formed workbook opens");
            prop_assert_eq!(got_headers, headers);
            let mut nonblank = got.iter().filter(|r| !r.is_blank());
            for e in rows.iter().filter(|r| r.iter().any(|c| !c.trim().is_empty())) {
                let g = nonblank.next().expect("every row with a value comes back");
                let mut cells = g.cells.clone();
                cells.resize(e.len(), String::new());
                prop_assert_eq!(&cells, e);
            }
        } else {
            for (at, b) in damage {
                let i = at.index(bytes.len());
                bytes[i] = b;
            }
            std::fs::write(&path, &bytes).unwrap();
            read_all(&path)?;
        }
        // arbitrary bytes under an .xlsx name are refused, never a panic
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(b"PK\x03\x04").unwrap();
        f.write_all(&noise).unwrap();
        drop(f);
        read_all(&path)?;
        Ok(())
    });
}
