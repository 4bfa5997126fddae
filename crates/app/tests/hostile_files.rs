//! Hostile department files through the real import path, with the process's peak
//! resident memory measured while each file imports. Whatever a file holds
//! (one 96 MiB line, one 96 MiB cell, an unclosed quote taking the rest of the file,
//! a zip bomb), the import answers with a reason and its peak stays a few MiB above
//! where it started, far below the file's size.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::Mutex;

use sha2::{Digest, Sha256};
use xinyong_app::App;
use xinyong_app::quarantine::QuarantineQuery;
use xinyong_app::{Caller, intake};

/// Peak resident memory since the last reset, in bytes (Linux: `VmHWM`, reset by
/// writing 5 to `clear_refs`) — the process's real peak, not an estimate.
fn peak_rss() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<usize>().unwrap() * 1024
}

fn reset_peak() {
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
}

/// One import at a time, so the peak is that import's.
static SERIAL: Mutex<()> = Mutex::new(());

const BIG: usize = 96 << 20;
/// What an import may add to the process's resident memory, whatever the file: the
/// reader's bounded buffers, a batch of rows, the store's page cache.
const HEAP_BOUND: usize = 64 << 20;

const HEADER: &str = "行政相对人名称,行政相对人类别,统一社会信用代码,行政处罚决定书文号,违法行为类型,违法事实,处罚依据,处罚类别,处罚内容,罚款金额(万元),处罚决定日期,处罚有效期,处罚机关,处罚机关统一社会信用代码,数据来源单位,数据来源单位统一社会信用代码,处罚程序";

fn row(n: usize, fact: &str) -> String {
    format!(
        "北京测试{n}有限公司,法人及非法人组织,91110108551385082Q,京市监罚〔2026〕{n}号,其他,{fact},《中华人民共和国食品安全法》第一百二十四条,罚款,罚款一万元,1,2026-11-02,2027-11-02,北京市朝阳区市场监督管理局,11110105MB4860841R,北京市朝阳区市场监督管理局,11110105MB4860841R,普通程序\n"
    )
}

/// Imports `path` and returns the summary (or the refusal) with how far the peak
/// resident memory rose above where it was.
fn import_measured(app: &App, path: &std::path::Path) -> (Result<intake::ImportSummary, String>, usize) {
    reset_peak();
    let base = peak_rss();
    let out =
        intake::import_file(app, path, "admin_penalty", "北京市市场监督管理局", &mut |_| {}).map_err(|e| e.to_string());
    let grew = peak_rss().saturating_sub(base);
    eprintln!("{}: peak resident memory rose {} MiB", path.display(), grew >> 20);
    (out, grew)
}

fn write_with(path: &std::path::Path, parts: &mut dyn FnMut(&mut std::io::BufWriter<std::fs::File>)) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    parts(&mut f);
    f.flush().unwrap();
}

fn filler(f: &mut impl Write, mut bytes: usize, unit: &[u8]) {
    let block = unit.repeat((64 << 10) / unit.len());
    while bytes > 0 {
        let n = bytes.min(block.len());
        f.write_all(&block[..n]).unwrap();
        bytes -= n;
    }
}

fn quarantined(app: &App) -> Vec<xinyong_store::QuarantineRow> {
    app.quarantine(&Caller::operator(), &QuarantineQuery { status: Some("all".into()), ..Default::default() }).unwrap()
}

#[test]
fn one_huge_cell_is_quarantined_as_an_excerpt_with_its_hash() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(dir.path()).unwrap();
    let path = dir.path().join("huge-cell.csv");
    let mut hasher = Sha256::new();
    write_with(&path, &mut |f| {
        f.write_all(HEADER.as_bytes()).unwrap();
        f.write_all(b"\n").unwrap();
        f.write_all(row(1, "正常").as_bytes()).unwrap();
        // row 3: one cell of BIG bytes
        let good = row(2, "X");
        let (before, after) = good.split_once('X').unwrap();
        let mut sink = HashingWriter { inner: &mut *f, hasher: &mut hasher };
        sink.write_all(before.as_bytes()).unwrap();
        filler(&mut sink, BIG, "违法".as_bytes());
        sink.write_all(after.as_bytes()).unwrap();
        f.write_all(row(4, "正常").as_bytes()).unwrap();
    });
    let expected_hash: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let (out, grew) = import_measured(&app, &path);
    let out = out.unwrap();
    assert_eq!((out.rows, out.accepted, out.quarantined), (3, 2, 1), "{out:?}");
    assert!(grew < HEAP_BOUND, "memory grew {} MiB for a {} MiB cell", grew >> 20, BIG >> 20);
    let q = quarantined(&app);
    assert_eq!(q.len(), 1);
    let problem = &q[0].errors[0];
    assert_eq!(problem.rule, "row.too_long");
    assert_eq!(q[0].row, Some(3));
    assert!(problem.en.contains("bytes long") && problem.en.contains(&expected_hash), "{problem:?}");
    assert!(problem.zh.contains("超过上限"), "{problem:?}");
    let stored = &q[0].raw;
    assert!(stored.len() < 64 << 10, "the quarantine keeps an excerpt, not {} bytes", stored.len());
}

#[test]
fn one_endless_line_is_refused_as_no_header_without_reading_it_whole() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(dir.path()).unwrap();
    for (name, unit) in [("line.csv", &b"a,"[..]), ("line.jsonl", &b"{\"a\":1}"[..])] {
        let path = dir.path().join(name);
        write_with(&path, &mut |f| filler(f, BIG, unit));
        let (out, grew) = import_measured(&app, &path);
        assert!(grew < HEAP_BOUND, "{name}: memory grew {} MiB", grew >> 20);
        match out {
            Err(e) => {
                assert!(e.contains("header row has more than") || e.contains("header row is over"), "{name}: {e}")
            }
            Ok(s) => {
                // JSON Lines has no header: the one line is a row, too long
                assert_eq!((s.rows, s.quarantined), (1, 1), "{name}: {s:?}");
                let q = quarantined(&app);
                assert_eq!(q.last().unwrap().errors[0].rule, "row.too_long");
            }
        }
    }
}

#[test]
fn an_unclosed_quote_taking_the_rest_of_a_big_file_is_named() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(dir.path()).unwrap();
    let path = dir.path().join("quote.csv");
    let rows_after = BIG / 400;
    write_with(&path, &mut |f| {
        f.write_all(HEADER.as_bytes()).unwrap();
        f.write_all(b"\r\n").unwrap();
        f.write_all(row(1, "\"缺右引号").as_bytes()).unwrap();
        for n in 0..rows_after {
            f.write_all(row(n + 2, "正常").as_bytes()).unwrap();
        }
    });
    let (out, grew) = import_measured(&app, &path);
    let out = out.unwrap();
    assert!(grew < HEAP_BOUND, "memory grew {} MiB", grew >> 20);
    assert_eq!(out.quarantined, 1, "{out:?}");
    let q = quarantined(&app);
    let problem = &q[0].errors[0];
    assert_eq!((q[0].row, problem.rule.as_str()), (Some(2), "row.too_long"), "{problem:?}");
    assert!(problem.en.contains("perhaps an unclosed quote"), "{problem:?}");
}

#[test]
fn a_zip_bomb_and_an_overlong_cell_in_a_workbook_are_refused_before_unpacking() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(dir.path()).unwrap();
    let bomb = dir.path().join("bomb.xlsx");
    workbook(&bomb, &mut |part, w| {
        if part == "xl/sharedStrings.xml" {
            w.write_all(b"<sst><si><t>").unwrap();
            filler(w, 200 << 20, b"a");
            w.write_all(b"</t></si></sst>").unwrap();
        } else {
            w.write_all(SHEET.as_bytes()).unwrap();
        }
    });
    let (out, grew) = import_measured(&app, &bomb);
    let e = out.unwrap_err();
    assert!(e.contains("shared strings") && e.contains("save it as CSV"), "{e}");
    assert!(grew < HEAP_BOUND, "memory grew {} MiB", grew >> 20);

    let long_cell = dir.path().join("cell.xlsx");
    workbook(&long_cell, &mut |part, w| {
        if part == "xl/sharedStrings.xml" {
            w.write_all(b"<sst><si><t>a</t></si></sst>").unwrap();
        } else {
            w.write_all(b"<worksheet><sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>").unwrap();
            filler(w, 8 << 20, "违".as_bytes());
            w.write_all(b"</t></is></c></row></sheetData></worksheet>").unwrap();
        }
    });
    let (out, grew) = import_measured(&app, &long_cell);
    let e = out.unwrap_err();
    assert!(e.contains("a run of text over 1 MiB"), "{e}");
    assert!(grew < HEAP_BOUND, "memory grew {} MiB", grew >> 20);
}

const SHEET: &str = "<worksheet><sheetData><row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c></row></sheetData></worksheet>";

/// A minimal workbook whose sheet and shared strings `part` writes.
fn workbook(path: &std::path::Path, part: &mut dyn FnMut(&str, &mut zip::ZipWriter<std::fs::File>)) {
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let fixed = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#,
        ),
    ];
    for (name, text) in fixed {
        z.start_file(name, opts).unwrap();
        z.write_all(text.as_bytes()).unwrap();
    }
    for name in ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"] {
        z.start_file(name, opts).unwrap();
        part(name, &mut z);
    }
    z.finish().unwrap();
}

/// Writes through and hashes what it writes (the raw row the quarantine names).
struct HashingWriter<'a, W> {
    inner: &'a mut W,
    hasher: &'a mut Sha256,
}

impl<W: Write> Write for HashingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
