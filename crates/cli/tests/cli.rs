//! End-to-end tests of the `xinyong` binary: real files, a real SQLite store in a
//! temporary directory, the real ledger. (One test binary for the crate: each file in
//! tests/ links separately, which is slow on two cores.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// Tests against PostgreSQL (tests/pg/mod.rs: one test binary for the crate).
mod pg;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_xinyong"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).stdin(Stdio::null()).output().expect("run xinyong")
}

fn ok_json(args: &[&str]) -> Value {
    let out = run(args);
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn generate(dir: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["gen", "--subjects", "300", "--records", "3000", "--seed", "7", "--out", s(dir)];
    args.extend_from_slice(extra);
    ok_json(&args)
}

fn import(file: &Path, item: &str, data: &Path) -> Value {
    ok_json(&["import", s(file), "--item", item, "--provider", "测试部门", "--data", s(data)])
}

fn files(manifest: &Value) -> Vec<(String, String, Value)> {
    manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["item"].as_str().unwrap().to_string(), f["file"].as_str().unwrap().to_string(), f.clone()))
        .collect()
}

#[test]
fn code_check_reads_arguments_and_stdin() {
    let out = run(&["code", "check", "91110108551385082Q", "91110108551385082R", "11010519491231002X", "hello"]);
    assert!(out.status.success());
    let rows: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0]["valid"], true);
    assert_eq!(rows[0]["kind"], "uscc");
    assert_eq!(rows[0]["normalized"], "91110108551385082Q");
    assert_eq!(rows[1]["valid"], false);
    assert_eq!(rows[1]["errors"][0]["rule"], "check_char");
    assert!(rows[1]["errors"][0]["zh"].as_str().unwrap().contains("'Q'"));
    assert_eq!(rows[2]["kind"], "resident_id");
    assert_eq!(rows[3]["errors"][0]["rule"], "length");

    let mut child = bin().args(["code", "check"]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all("９１１１０１０８５５１３８５０８２ｑ\n\n9111-0108-5513-8508-2Q\n".as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let rows: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 3, "one answer per input line");
    for i in [0, 2] {
        assert!(rows[i]["valid"] == true && rows[i]["normalized"] == "91110108551385082Q", "{}", rows[i]);
    }
    assert_eq!((rows[1]["valid"].as_bool(), rows[1]["errors"][0]["rule"].as_str()), (Some(false), Some("empty")));
}

#[test]
fn calendar_adds_working_days_and_refuses_uncovered_years() {
    let out = run(&["calendar", "add-workdays", "2024-09-27", "7"]);
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), "2024-10-12");
    let out = run(&["calendar", "add-workdays", "2026-02-13", "1"]);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        "2026-02-14",
        "Saturday 2026-02-14 is an adjusted working day"
    );
    let out = run(&["calendar", "add-workdays", "1999-01-04", "1"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("1999"));
}

/// Past the bundled years a date is computed from the statutory holidays and said to
/// be provisional; adding the year's notice is validated, a ledger event, and once.
#[test]
fn calendar_past_its_years_is_provisional_until_the_year_is_added() {
    let out = run(&["calendar", "add-workdays", "2026-12-18", "10"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), "2027-01-04");
    assert!(String::from_utf8_lossy(&out.stderr).contains("provisional"));
    let days = ok_json(&["calendar", "statutory", "2027"]);
    assert!(days.as_array().unwrap().iter().any(|d| d["date"] == "2027-02-06" && d["holiday"] == "春节"), "{days}");

    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let bad = tmp.path().join("2028.toml");
    std::fs::write(&bad, "first_year = 2028\nlast_year = 2028\n[[holiday]]\ndate = 2028-01-01\nname = \"元旦\"\n")
        .unwrap();
    let out = run(&["calendar", "add-year", s(&bad), "--data", s(&data)]);
    assert!(!out.status.success(), "a year that is not the next one is refused");
    let year = tmp.path().join("2027.toml");
    std::fs::write(
        &year,
        "first_year = 2027\nlast_year = 2027\n[[holiday]]\ndate = 2027-01-01\nname = \"元旦\"\n\
         [[holiday]]\ndate = 2027-02-05\nname = \"春节\"\n[[adjusted_workday]]\ndate = 2027-02-20\n",
    )
    .unwrap();
    let added = ok_json(&["calendar", "add-year", s(&year), "--data", s(&data)]);
    assert_eq!(added["year"], 2027, "{added}");
    assert!(data.join("calendar/2027.toml").exists());
    let out = run(&["calendar", "add-year", s(&year), "--data", s(&data)]);
    assert!(!out.status.success(), "the same year twice is refused");
    let verify = run(&["ledger", "verify", "--data", s(&data)]);
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));
}

/// A provider's revocation and correction from the command line, each a ledger event.
#[test]
fn records_are_revoked_and_corrected_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    let data = tmp.path().join("data");
    let manifest = generate(&input, &[]);
    let (item, file, _) = files(&manifest).into_iter().find(|(item, _, _)| item == "admin_penalty").unwrap();
    import(&input.join(&file), &item, &data);
    let out =
        run(&["record", "revoke", "1", "--reason", "复议撤销", "--document", "京复〔2026〕1号", "--data", s(&data)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["ledger_index"].as_u64().unwrap() > 0, "{v}");
    let again = run(&["record", "revoke", "1", "--reason", "x", "--document", "y", "--data", s(&data)]);
    assert!(!again.status.success(), "revoking twice is refused");
    // a correction names the fields it changes; a value the catalog refuses is refused
    let correct = |fields: &str| {
        run(&["record", "correct", "2", "--fields", fields, "--reason", "r", "--document", "d", "--data", s(&data)])
    };
    let bad = correct("{\"处罚决定日期\": \"明天\"}");
    assert!(!bad.status.success(), "an invalid date is refused");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("处罚决定日期"), "{}", String::from_utf8_lossy(&bad.stderr));
    let good = correct("{\"违法事实\": \"更正后的事实\"}");
    assert!(good.status.success(), "{}", String::from_utf8_lossy(&good.stderr));
    let cases = ok_json(&["cases", "list", "--data", s(&data)]);
    assert_eq!(cases["cases"].as_array().unwrap().len(), 0);
    assert!(run(&["ledger", "verify", "--data", s(&data)]).status.success());
}

/// The issue's acceptance test in small: a dirty file imports with every bad row
/// quarantined and every good row stored; a second import adds nothing.
#[test]
fn dirty_files_import_exactly_and_reimport_adds_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    let data = tmp.path().join("data");
    let manifest = generate(&input, &["--dirty", "10"]);
    let (mut accepted_total, mut quarantined_total) = (0, 0);
    for (item, file, m) in files(&manifest) {
        let sum = import(&input.join(&file), &item, &data);
        assert_eq!(sum["accepted"], m["expect_accepted"], "{item}: {sum}");
        assert_eq!(sum["quarantined"], m["expect_quarantined"], "{item}: {sum}");
        assert_eq!(sum["duplicates"], m["expect_duplicates"], "{item}: {sum}");
        assert_eq!(sum["blank_rows"], m["expect_blank"], "{item}: {sum}");
        quarantined_total += m["expect_quarantined"].as_u64().unwrap();
        accepted_total += sum["accepted"].as_u64().unwrap();
    }
    assert!(accepted_total > 3000, "{accepted_total}");
    // a small file may draw no bad row on a given day (the generator dates rows up to
    // today): the files together must
    assert!(quarantined_total * 100 > accepted_total * 3, "{quarantined_total} bad rows of {accepted_total}");
    let verify = ok_json(&["ledger", "verify", "--data", s(&data)]);
    assert_eq!(verify["ok"], true);
    let size = verify["size"].as_u64().unwrap();
    // every quarantined row is listed with row number, field and both languages
    let out = run(&["quarantine", "list", "--status", "all", "--limit", "100000", "--data", s(&data)]);
    let listed: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let expected: u64 = files(&manifest).iter().map(|f| f.2["expect_quarantined"].as_u64().unwrap()).sum();
    assert_eq!(listed.len() as u64, expected);
    for q in &listed {
        assert!(q["row"].as_u64().unwrap() >= 2, "{q}");
        let e = &q["errors"][0];
        assert!(!e["zh"].as_str().unwrap().is_empty() && !e["en"].as_str().unwrap().is_empty(), "{q}");
        assert!(e["zh"].as_str().unwrap().starts_with(&format!("第 {} 行", q["row"])), "{q}");
    }
    // second pass: nothing new, everything recognised
    for (item, file, m) in files(&manifest) {
        let sum = import(&input.join(&file), &item, &data);
        assert_eq!(sum["accepted"], 0, "{item}: {sum}");
        assert_eq!(sum["corrected"], 0, "{item}: {sum}");
        assert_eq!(
            sum["duplicates"].as_u64().unwrap(),
            m["expect_accepted"].as_u64().unwrap() + m["expect_duplicates"].as_u64().unwrap(),
            "{item}: {sum}"
        );
        assert_eq!(sum["quarantined_known"], m["expect_quarantined"], "{item}: {sum}");
    }
    let again = ok_json(&["ledger", "verify", "--data", s(&data)]);
    assert_eq!(again["size"].as_u64().unwrap(), size, "the second import added events");
}

#[test]
fn gb18030_jsonl_and_utf8_give_the_same_records() {
    let tmp = tempfile::tempdir().unwrap();
    let mut names = Vec::new();
    for (variant, extra) in [
        ("utf8", vec!["--format", "csv"]),
        ("gb", vec!["--format", "csv", "--encoding", "gb18030"]),
        ("jsonl", vec!["--format", "jsonl"]),
    ] {
        let input = tmp.path().join(variant);
        let data = tmp.path().join(format!("data-{variant}"));
        let manifest = generate(&input, &extra);
        let mut accepted = 0;
        for (item, file, m) in files(&manifest) {
            let sum = import(&input.join(&file), &item, &data);
            assert_eq!(sum["accepted"], m["expect_accepted"], "{variant} {item}: {sum}");
            assert_eq!(sum["quarantined"], 0, "{variant} {item}: {sum}");
            if variant == "gb" {
                assert_eq!(sum["encoding"], "GB18030");
            }
            accepted += sum["accepted"].as_u64().unwrap();
        }
        let code = first_registered_code(&input.join(files(&manifest)[0].1.clone()));
        let subject = ok_json(&["subject", &code, "--data", s(&data)]);
        names.push((
            accepted,
            subject["name"].as_str().unwrap().to_string(),
            subject["records"].as_array().unwrap().len(),
        ));
    }
    assert!(names[0].1.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{names:?}");
    assert!(names.iter().all(|n| *n == names[0]), "{names:?}");
}

/// The first subject code in a generated registration file (CSV or JSONL).
fn first_registered_code(path: &Path) -> String {
    let text = std::fs::read(path).unwrap();
    let text = match std::str::from_utf8(&text) {
        Ok(t) => t.to_string(),
        Err(_) => encoding_rs::GB18030.decode(&text).0.into_owned(),
    };
    let line = text.lines().nth(if path.extension().unwrap() == "jsonl" { 0 } else { 1 }).unwrap();
    if line.starts_with('{') {
        let v: Value = serde_json::from_str(line).unwrap();
        return v["统一社会信用代码"].as_str().unwrap().to_string();
    }
    let header = text.lines().next().unwrap();
    let col = header.split(',').position(|h| h == "统一社会信用代码").unwrap();
    line.split(',').nth(col).unwrap().to_string()
}

fn write_csv(path: &Path, header: &[&str], rows: &[Vec<&str>]) {
    let mut w = csv::Writer::from_path(path).unwrap();
    w.write_record(header).unwrap();
    for r in rows {
        w.write_record(r).unwrap();
    }
    w.flush().unwrap();
}

const HONOUR_HEADER: [&str; 7] =
    ["主体名称", "统一社会信用代码", "荣誉名称", "荣誉等级", "授予日期", "授予机关", "表彰决定文号"];

fn honour_row<'a>(code: &'a str, title: &'a str, doc: &'a str) -> Vec<&'a str> {
    vec!["北京测试科技有限公司", code, title, "市级", "2024-05-06", "北京市市场监督管理局", doc]
}

#[test]
fn quarantined_rows_can_be_corrected_and_resubmitted() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let file = tmp.path().join("honour.csv");
    write_csv(
        &file,
        &HONOUR_HEADER,
        &[
            honour_row("91110108551385082R", "守合同重信用企业", "京发〔2024〕1号"),
            honour_row("91110108551385082Q", "纳税信用A级", "京发〔2024〕2号"),
        ],
    );
    let sum = import(&file, "honour", &data);
    assert_eq!((sum["accepted"].as_u64(), sum["quarantined"].as_u64()), (Some(1), Some(1)), "{sum}");
    let out = run(&["quarantine", "list", "--data", s(&data)]);
    let entry: Value = serde_json::from_str(String::from_utf8(out.stdout).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(entry["row"], 2);
    assert_eq!(entry["errors"][0]["field"], "统一社会信用代码");
    assert_eq!(entry["errors"][0]["rule"], "code.check_char");
    let id = entry["id"].as_i64().unwrap().to_string();
    // still wrong: stays quarantined, exit 1, same entry
    let out = run(&["quarantine", "resubmit", &id, "--set", "统一社会信用代码=91110108551385082X", "--data", s(&data)]);
    assert_eq!(out.status.code(), Some(1));
    // corrected
    let fixed =
        ok_json(&["quarantine", "resubmit", &id, "--set", "统一社会信用代码=91110108551385082Q", "--data", s(&data)]);
    assert_eq!(fixed["outcome"], "accepted", "{fixed}");
    let out = run(&["quarantine", "list", "--data", s(&data)]);
    assert!(out.stdout.is_empty(), "nothing open any more");
    let subject = ok_json(&["subject", "91110108551385082Q", "--data", s(&data)]);
    assert_eq!(subject["records"].as_array().unwrap().len(), 2);
    assert_eq!(ok_json(&["ledger", "verify", "--data", s(&data)])["ok"], true);
}

#[test]
fn changed_rows_are_corrections_and_missing_columns_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let file = tmp.path().join("honour.csv");
    write_csv(&file, &HONOUR_HEADER, &[honour_row("91110108551385082Q", "旧称号", "京发〔2024〕1号")]);
    assert_eq!(import(&file, "honour", &data)["accepted"], 1);
    write_csv(&file, &HONOUR_HEADER, &[honour_row("91110108551385082Q", "新称号", "京发〔2024〕1号")]);
    let sum = import(&file, "honour", &data);
    assert_eq!((sum["accepted"].as_u64(), sum["corrected"].as_u64()), (Some(0), Some(1)), "{sum}");

    write_csv(&file, &HONOUR_HEADER[..5], &[honour_row("91110108551385082Q", "x", "y")[..5].to_vec()]);
    let out = run(&["import", s(&file), "--item", "honour", "--provider", "p", "--data", s(&data)]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("授予机关") && err.contains("表彰决定文号"), "{err}");
    let out = run(&["import", s(&file), "--item", "no_such_item", "--provider", "p", "--data", s(&data)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no_such_item"));
}

#[test]
fn xlsx_files_import() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let path = tmp.path().join("honour.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in HONOUR_HEADER.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    let rows = [honour_row("91110108551385082Q", "a", "1"), honour_row("91110108551385082R", "b", "2")];
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32 + 1, c as u16, *v).unwrap();
        }
    }
    // a real Excel date cell, as departments type them
    let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2024, 5, 7).unwrap();
    let fmt = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    ws.write_datetime_with_format(1, 4, &date, &fmt).unwrap();
    wb.save(&path).unwrap();
    let sum = import(&path, "honour", &data);
    assert_eq!((sum["accepted"].as_u64(), sum["quarantined"].as_u64()), (Some(1), Some(1)), "{sum}");
    let proof = ok_json(&["ledger", "proof", "1", "--data", s(&data)]);
    assert_eq!(proof["event"]["fields"]["授予日期"], "2024-05-07");
    let out = run(&["quarantine", "list", "--data", s(&data)]);
    let entry: Value = serde_json::from_str(String::from_utf8(out.stdout).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(entry["row"], 3, "spreadsheet row numbers: header is row 1");
}

fn small_ledger(tmp: &Path) -> PathBuf {
    small_ledger_with(tmp, "ed25519")
}

/// A small ledger of a platform initialised with `algorithm` (ed25519 or sm2).
fn small_ledger_with(tmp: &Path, algorithm: &str) -> PathBuf {
    let input = tmp.join("in");
    let data = tmp.join("data");
    let init = run(&["init", "--algorithm", algorithm, "--data", s(&data)]);
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let manifest = generate(&input, &[]);
    for (item, file, _) in files(&manifest).into_iter().take(3) {
        import(&input.join(&file), &item, &data);
    }
    data
}

#[test]
fn proofs_verify_independently() {
    proofs_verify_independently_with("ed25519", "Ed25519 / SHA-256");
}

/// 国密: the same proofs and checks on a platform initialised with SM2 / SM3.
#[test]
fn sm2_ledgers_prove_and_verify_the_same_way() {
    proofs_verify_independently_with("sm2", "SM2 / SM3");
}

fn proofs_verify_independently_with(algorithm: &str, named: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let data = small_ledger_with(tmp.path(), algorithm);
    assert_eq!(ok_json(&["ledger", "verify", "--data", s(&data)])["ok"], true);
    let head = ok_json(&["ledger", "head", "--data", s(&data)]);
    assert_eq!(head["algorithm"], named, "{head}");
    let size = head["head"]["head"]["size"].as_u64().unwrap();
    let verifier = xinyong_app::ledger::LedgerVerifier::from_text(head["verifier_key"].as_str().unwrap()).unwrap();
    let hash = verifier.tree_hash();
    let signed = verifier.verify(head["head"]["checkpoint"].as_str().unwrap()).unwrap();
    for index in [0, 1, size / 2, size - 1] {
        let p = ok_json(&["ledger", "proof", &index.to_string(), "--data", s(&data)]);
        let proof: Vec<_> = p["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| xinyong_app::ledger::from_hex(h.as_str().unwrap()).unwrap())
            .collect();
        // the leaf is the hash of the event's canonical bytes, recomputed here
        let bytes = serde_json::to_vec(&p["event"]).unwrap();
        let leaf = hash.leaf(&bytes);
        assert_eq!(xinyong_app::ledger::to_hex(&leaf), p["leaf_hash"].as_str().unwrap());
        assert_eq!(p["algorithm"], hash.name());
        xinyong_app::ledger::verify_inclusion_in(hash, index, size, &leaf, &proof, &signed.root).unwrap();
        // the other tree hash does not prove it
        let other = xinyong_app::ledger::TreeHash::Sha256.leaf(&bytes);
        if hash != xinyong_app::ledger::TreeHash::Sha256 {
            assert_ne!(other, leaf);
        }
    }
    let c = ok_json(&["ledger", "consistency", "3", "--data", s(&data)]);
    let proof: Vec<_> = c["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| xinyong_app::ledger::from_hex(h.as_str().unwrap()).unwrap())
        .collect();
    let old = xinyong_app::ledger::from_hex(c["from_root"].as_str().unwrap()).unwrap();
    xinyong_app::ledger::verify_consistency_in(hash, 3, size, &old, &signed.root, &proof).unwrap();
    assert!(!run(&["ledger", "proof", &size.to_string(), "--data", s(&data)]).status.success());
    // an edited event is found by `ledger verify` under this algorithm too
    edit_event_5(&data);
    let out = run(&["ledger", "verify", "--data", s(&data)]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(serde_json::from_slice::<Value>(&out.stdout).unwrap()["first_bad_index"], 5);
    // the directory keeps its algorithm
    assert!(
        !run(&["init", "--algorithm", if algorithm == "sm2" { "ed25519" } else { "sm2" }, "--data", s(&data)])
            .status
            .success()
    );
}

/// Changes event 5's bytes behind the application's back (its stored leaf left as it
/// was), stored as the application stores them (compressed).
fn edit_event_5(data: &Path) {
    use xinyong_app::ledger::{pack_payload, unpack_payload};
    let db = rusqlite::Connection::open(data.join("xinyong.sqlite3")).unwrap();
    let stored: Vec<u8> = db.query_row("SELECT payload FROM events WHERE idx = 5", [], |r| r.get(0)).unwrap();
    let text = String::from_utf8(unpack_payload(&stored).unwrap().into_owned()).unwrap();
    assert!(text.contains("\"v\":1"), "{text}");
    let edited = text.replace("\"v\":1", "\"v\":2");
    db.execute("UPDATE events SET payload = ?1 WHERE idx = 5", [&pack_payload(edited.as_bytes())[..]]).unwrap();
}

/// `ledger verify` on `data`, which must fail (exit 1): its report.
fn verify_fails(data: &Path) -> Value {
    let out = run(&["ledger", "verify", "--data", s(data)]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A fresh small ledger in `tmp` and a connection to its database file.
fn small_ledger_db(tmp: &Path) -> (PathBuf, rusqlite::Connection) {
    let data = small_ledger(tmp);
    let db = rusqlite::Connection::open(data.join("xinyong.sqlite3")).unwrap();
    (data, db)
}

/// The index and stored payload of the first (or last) `record.created` event.
fn stored_record_event(db: &rusqlite::Connection, last: bool) -> (i64, Vec<u8>) {
    let order = if last { "DESC" } else { "ASC" };
    db.query_row(
        &format!("SELECT idx, payload FROM events WHERE kind = 'record.created' ORDER BY idx {order} LIMIT 1"),
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

#[test]
fn tampering_behind_the_applications_back_is_detected() {
    let tmp = tempfile::tempdir().unwrap();
    let data = small_ledger(tmp.path());
    assert_eq!(ok_json(&["ledger", "verify", "--data", s(&data)])["ok"], true);
    // 1. edit an event's bytes only: the stored leaf no longer matches
    edit_event_5(&data);
    let report = verify_fails(&data);
    assert_eq!(report["ok"], false);
    assert_eq!(report["first_bad_index"], 5, "{report}");
    // 2. a careful forger also rewrites the leaf: the signed root catches it
    let tmp2 = tempfile::tempdir().unwrap();
    let (data2, db2) = small_ledger_db(tmp2.path());
    let (idx, payload) = stored_record_event(&db2, true);
    let mut body: Value = serde_json::from_slice(&xinyong_app::ledger::unpack_payload(&payload).unwrap()).unwrap();
    body["provider"] = "伪造部门".into();
    let forged = serde_json::to_vec(&body).unwrap();
    let leaf = xinyong_app::ledger::leaf_hash_of(&forged);
    db2.execute("UPDATE events SET payload = ?1, leaf = ?2 WHERE idx = ?3", rusqlite::params![forged, &leaf[..], idx])
        .unwrap();
    let out = run(&["ledger", "verify", "--data", s(&data2)]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let first = report["first_bad_index"].as_u64().unwrap();
    assert!(first <= idx as u64, "{report}");
    assert!(String::from_utf8_lossy(&out.stderr).contains(&first.to_string()));
    // 3. deleting the last event is a gap the heads reveal
    let tmp3 = tempfile::tempdir().unwrap();
    let (data3, db3) = small_ledger_db(tmp3.path());
    db3.execute("DELETE FROM events WHERE idx = (SELECT MAX(idx) FROM events)", []).unwrap();
    assert_eq!(run(&["ledger", "verify", "--data", s(&data3)]).status.code(), Some(1));
    // 4. an event filed under another subject (bytes and leaf untouched): the payload
    // names its own subject, so the moved row is found
    let tmp4 = tempfile::tempdir().unwrap();
    let (data4, db4) = small_ledger_db(tmp4.path());
    let (idx, other): (i64, String) = db4
        .query_row(
            "SELECT e.idx, (SELECT code FROM subjects WHERE code <> e.subject_code LIMIT 1)
             FROM events e WHERE e.kind = 'record.created' ORDER BY e.idx LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    db4.execute("UPDATE events SET subject_code = ?1 WHERE idx = ?2", rusqlite::params![other, idx]).unwrap();
    let report = verify_fails(&data4);
    assert_eq!(report["first_bad_index"], idx, "{report}");
    assert!(report["problem"].as_str().unwrap().contains("not a canonical event"), "{report}");
    // 5. stored bytes damaged so that they no longer decompress: reported at that event,
    // and the verification goes on to the end
    let tmp5 = tempfile::tempdir().unwrap();
    let (data5, db5) = small_ledger_db(tmp5.path());
    let (idx, mut stored) = stored_record_event(&db5, false);
    assert!(stored[0] != b'{', "payloads are stored compressed");
    stored.truncate(stored.len() / 2);
    db5.execute("UPDATE events SET payload = ?1 WHERE idx = ?2", rusqlite::params![stored, idx]).unwrap();
    let report = verify_fails(&data5);
    assert_eq!(report["first_bad_index"], idx, "{report}");
    assert!(report["problem"].as_str().unwrap().contains("cannot be read"), "{report}");
    assert!(report["size"].as_u64().unwrap() > idx as u64, "{report}");
}

/// One HTTP/1.1 request over a fresh connection; the status and the JSON body.
fn http(port: u16, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> (u16, Value) {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    conn.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out);
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let json = text.split("\r\n\r\n").nth(1).and_then(|b| serde_json::from_str(b).ok()).unwrap_or(Value::Null);
    (status, json)
}

/// The server child, stopped when the test ends (also on a failed assertion).
struct Serving(std::process::Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits until the server listens on `port` (it binds once its data is loaded).
fn wait_for_port(port: u16, limit_secs: u64) {
    let up = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(up.elapsed().as_secs() < limit_secs, "the server did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// `xinyong serve --data DATA` plus `extra` on a free port, once it listens.
fn serve(data: &Path, extra: &[&str], limit_secs: u64) -> (Serving, u16) {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let child = bin()
        .args(["serve", "--data", s(data), "--listen", &listen])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let serving = Serving(child);
    wait_for_port(port, limit_secs);
    (serving, port)
}

/// A court's 失信被执行人 file imported with `xinyong import` while the server runs: the
/// server's check answers `prohibit` for government procurement within a second, citing
/// the measure's basis and the court's case number; revoking the record from the command
/// line makes it clear again, while a check as of the listed period still sees it.
#[test]
fn a_court_file_imported_beside_a_running_server_reaches_its_checks_within_a_second() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let user = ok_json(&[
        "user",
        "add",
        "--username",
        "fin",
        "--role",
        "officer",
        "--provider",
        "北京市财政局",
        "--token",
        "--data",
        s(&data),
    ]);
    let token = user["token"].as_str().expect("a token").to_string();
    let (_server, port) = serve(&data, &[], 60);
    let debtor = "91110108551385082Q";
    let header = "被执行人姓名/名称,证件号码/统一社会信用代码,执行法院,执行依据文号,案号,发布时间,生效法律文书确定的义务,被执行人的履行情况,失信被执行人行为具体情形";
    let row = format!(
        "北京拖欠科技有限公司,{debtor},北京市朝阳区人民法院,（2024）京0105民初567号,（2025）京0105执1234号,2026-03-02,支付货款120万元,全部未履行,有履行能力而拒不履行生效法律文书确定义务"
    );
    let text = format!("{header}\r\n{row}\r\n");
    let (bytes, _, _) = encoding_rs::GB18030.encode(&text);
    let file = tmp.path().join("court.csv");
    std::fs::write(&file, &bytes).unwrap();
    let check = |as_of: Option<&str>| {
        let mut body =
            serde_json::json!({"code": debtor, "matter": "government_procurement", "purpose": "政府采购项目 2026-117"});
        if let Some(d) = as_of {
            body["as_of"] = Value::from(d);
        }
        let (status, v) = http(port, "POST", "/api/v1/checks", Some(&token), Some(&body));
        assert_eq!(status, 200, "{v}");
        v
    };
    assert_eq!(check(None)["verdict"], "clear", "before the court's file");

    let out = run(&[
        "import",
        s(&file),
        "--item",
        "dishonest_debtor",
        "--provider",
        "北京市朝阳区人民法院",
        "--data",
        s(&data),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let imported = std::time::Instant::now();
    let answer = loop {
        let v = check(None);
        if v["verdict"] == "prohibit" {
            break v;
        }
        assert!(imported.elapsed().as_millis() < 1000, "not prohibited within a second of the import: {v}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let measure = answer["measures"].as_array().unwrap().iter().find(|m| m["id"] == "M-DD-01").expect("M-DD-01");
    assert!(measure["basis"].to_string().contains("政府采购法"), "{measure}");
    let hit = &answer["lists"][0];
    assert_eq!(hit["type"], "dishonest_debtor", "{answer}");
    assert_eq!(hit["source"]["documents"]["案号"], "（2025）京0105执1234号", "{answer}");
    let record = hit["source"]["record_id"].as_i64().unwrap().to_string();

    let out = run(&[
        "record",
        "revoke",
        &record,
        "--reason",
        "执行依据被撤销",
        "--document",
        "（2026）京0105执异8号",
        "--data",
        s(&data),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let revoked = std::time::Instant::now();
    while check(None)["verdict"] != "clear" {
        assert!(revoked.elapsed().as_millis() < 1000, "still prohibited a second after the revocation");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(check(Some("2026-04-01"))["verdict"], "prohibit", "as of the listed period");
}

/// A header-only file imports nothing, and says so; a header naming a column twice is
/// refused naming the column; a text file named .xlsx is refused saying what it holds.
#[test]
fn odd_files_are_named_for_what_they_are() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let header = "主体名称,统一社会信用代码,荣誉名称,荣誉等级,授予日期,授予机关,表彰决定文号";
    let only = tmp.path().join("only.csv");
    std::fs::write(&only, format!("{header}\r\n")).unwrap();
    let out = run(&["import", s(&only), "--item", "honour", "--provider", "测试部门", "--data", s(&data)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["rows"], 0);
    assert!(v["warnings"][0].as_str().unwrap().contains("no data rows"), "{v}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("没有数据行"));

    let twice = tmp.path().join("twice.csv");
    std::fs::write(&twice, format!("{header},荣誉名称,荣誉名称\n甲,91110108551385082Q,x,市级,2024-05-06,y,z,a,b\n"))
        .unwrap();
    let out = run(&["import", s(&twice), "--item", "honour", "--provider", "测试部门", "--data", s(&data)]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("荣誉名称×3") && err.contains("more than once"), "{err}");

    let fake = tmp.path().join("fake.xlsx");
    std::fs::write(&fake, format!("{header}\n")).unwrap();
    let out = run(&["import", s(&fake), "--item", "honour", "--provider", "测试部门", "--data", s(&data)]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("holds text, expected an Excel 2007+ .xlsx workbook"), "{err}");
}

/// The server's log carries no colour codes when stderr is not a terminal, and
/// `--log-format json` gives one JSON object a line.
#[test]
fn server_logs_are_plain_text_or_json_lines() {
    for format in ["text", "json"] {
        let tmp = tempfile::tempdir().unwrap();
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let data = tmp.path().join("data");
        let mut child = bin()
            .args(["serve", "--data", s(&data), "--listen", &listen, "--log-format", format])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_for_port(port, 60);
        let (status, _) = http(port, "GET", "/healthz", None, None);
        assert_eq!(status, 200);
        child.kill().unwrap();
        let out = child.wait_with_output().unwrap();
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(log.contains("serving"), "{format}: {log}");
        assert!(!log.contains('\u{1b}'), "{format}: colour codes in a log that is not a terminal: {log}");
        if format == "json" {
            for line in log.lines().filter(|l| !l.trim().is_empty()) {
                let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                assert!(v["level"].is_string() && v["fields"].is_object(), "{line}");
            }
        }
    }
}

/// A demo load cut short leaves its marker: the next `serve --demo` drops the partial
/// data set and loads the demo again, whole (the listed demo entity is listed).
#[test]
fn an_interrupted_demo_load_is_redone() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    // what an interrupted load leaves: some records, the marker, no demo accounts
    let file = tmp.path().join("h.csv");
    write_csv(
        &file,
        &["主体名称", "统一社会信用代码", "荣誉名称", "荣誉等级", "授予日期", "授予机关", "表彰决定文号"],
        &[honour_row("91110108551385082Q", "守合同重信用企业", "京1号")],
    );
    import(&file, "honour", &data);
    std::fs::write(data.join("demo-loading"), "").unwrap();
    let demo = ["--demo", "--demo-subjects", "300", "--demo-records", "1500"];
    let (_server, port) = serve(&data, &demo, 240);
    assert!(!data.join("demo-loading").exists(), "the marker goes once the demo is whole");
    let creds: Value = serde_json::from_slice(&std::fs::read(data.join("demo-credentials.json")).unwrap()).unwrap();
    let token = creds["department_token"].as_str().unwrap();
    let listed = creds["subject"]["code"].as_str().unwrap();
    let body = serde_json::json!({"code": listed, "matter": "government_procurement", "purpose": "演示核查"});
    let (status, v) = http(port, "POST", "/api/v1/checks", Some(token), Some(&body));
    assert_eq!((status, v["verdict"].as_str()), (200, Some("prohibit")), "{v}");
    // the partial data set is gone: its one record's subject is not there
    let (status, _) = http(port, "GET", "/api/v1/subjects/91110108551385082Q", Some(token), None);
    assert_eq!(status, 404);
}

/// `grade explain` prints every input and the arithmetic; its JSON lets anyone
/// recompute the grade from the published models; `grade all` grades every subject.
#[test]
fn grades_are_explained_so_anyone_can_recompute_them() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    let data = tmp.path().join("data");
    let manifest = generate(&input, &[]);
    for (item, file, _) in files(&manifest) {
        import(&input.join(&file), &item, &data);
    }
    let code = first_registered_code(&input.join("admin_penalty.csv"));
    let out = run(&["grade", "explain", &code, "--data", s(&data)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("公共信用综合评价（comprehensive") && text.contains("近三年一般、轻微行政处罚"), "{text}");
    assert!(text.contains("基础分 base 700") && text.contains("等级 grade: "), "{text}");

    // the JSON answer, recomputed from the models alone
    let v = ok_json(&["grade", "explain", &code, "--json", "--data", s(&data)]);
    let models = ok_json(&["grade", "explain", &code, "--json", "--model", "comprehensive", "--data", s(&data)]);
    assert_eq!(models["grades"].as_array().unwrap().len(), 1);
    let g = &v["grades"][0];
    let model: Value = {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/grading/comprehensive.toml"));
        let t: toml::Value = toml::from_str(&text.unwrap()).unwrap();
        serde_json::to_value(t).unwrap()
    };
    let mut score = model["base"].as_i64().unwrap();
    for c in g["contributions"].as_array().unwrap() {
        let ind = model["indicator"].as_array().unwrap().iter().find(|i| i["code"] == c["indicator"]).unwrap();
        let (w, cap) = (ind["weight"].as_i64().unwrap(), ind["cap"].as_i64().unwrap());
        let value = c["value"].as_i64().unwrap();
        let raw = match ind["source"].as_str().unwrap() {
            "amount" => w * value / 1000,
            "fulfilment_rate" if c["value_text"] == "—" => 0,
            "fulfilment_rate" => w * value / 1000,
            _ => w * value,
        };
        assert_eq!(raw.clamp(-cap, cap), c["points"].as_i64().unwrap(), "{c}");
        score += raw.clamp(-cap, cap);
    }
    assert_eq!(score, g["score"].as_i64().unwrap(), "{g}");
    let band = model["band"].as_array().unwrap().iter().find(|b| b["min"].as_i64().is_none_or(|m| score >= m)).unwrap();
    if g["ceilings"].as_array().unwrap().is_empty() {
        assert_eq!(band["letter"], g["letter"], "{g}");
    }
    assert!(text.contains(g["arithmetic"].as_str().unwrap()), "the text carries the same arithmetic");

    let all = ok_json(&["grade", "all", "--data", s(&data)]);
    let graded = all["models"][0]["graded"].as_u64().unwrap();
    assert!(graded > 250, "{all}");
    let counted: u64 = all["models"][0]["bands"].as_array().unwrap().iter().map(|b| b["count"].as_u64().unwrap()).sum();
    assert_eq!(counted, graded);
}

/// `inspections replay` recomputes a draw from the published plan alone (a file, as the
/// API publishes it) or from the store, and says whether it matches: a changed roster
/// fails it, with exit status 1.
#[test]
fn an_inspection_draw_is_replayed_from_public_data() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    let data = tmp.path().join("data");
    let manifest = generate(&input, &[]);
    for (item, file, _) in files(&manifest) {
        import(&input.join(&file), &item, &data);
    }
    let user = ok_json(&[
        "user",
        "add",
        "--username",
        "samr",
        "--role",
        "officer",
        "--provider",
        "北京市市场监督管理局",
        "--token",
        "--data",
        s(&data),
    ]);
    let token = user["token"].as_str().expect("a token").to_string();
    let (server, port) = serve(&data, &[], 60);
    let roster: Vec<Value> = ["110101", "110105", "110108", "110102", "110106"]
        .iter()
        .enumerate()
        .map(|(i, d)| serde_json::json!({"id": format!("ZF{i}"), "name": format!("执法人员{i}"), "division": d}))
        .collect();
    let plan = serde_json::json!({
        "name": "双随机抽查（命令行测试）", "items": ["登记事项"], "ratios_permille": {"A": 100, "B": 300, "C": 700, "D": 1000},
        "roster": roster, "department_code": "111100000001340174",
    });
    let (status, v) = http(port, "POST", "/api/v1/inspections", Some(&token), Some(&plan));
    assert_eq!(status, 200, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let (status, drawn) = http(port, "POST", &format!("/api/v1/inspections/{id}/draw"), Some(&token), None);
    assert_eq!(status, 200, "{drawn}");
    assert!(!drawn["draw"]["draw"]["targets"].as_array().unwrap().is_empty(), "{drawn}");
    let (status, published) = http(port, "GET", &format!("/api/v1/inspections/{id}"), None, None);
    assert_eq!(status, 200);
    let (_, head) = http(port, "GET", "/api/v1/ledger/head", None, None);
    drop(server);

    let file = tmp.path().join("plan.json");
    std::fs::write(&file, serde_json::to_vec(&published).unwrap()).unwrap();
    let key = tmp.path().join("ledger.pub.txt");
    std::fs::write(&key, head["verifier_key"].as_str().unwrap()).unwrap();
    let r = ok_json(&["inspections", "replay", s(&file), "--key", s(&key)]);
    assert_eq!((r["matches"].as_bool(), r["draw_ok"].as_bool()), (Some(true), Some(true)), "{r}");
    let r = ok_json(&["inspections", "replay", &id, "--data", s(&data)]);
    assert_eq!(r["matches"], true, "{r}");

    let mut changed = published.clone();
    changed["roster"][0]["division"] = Value::from("110199");
    std::fs::write(&file, serde_json::to_vec(&changed).unwrap()).unwrap();
    let out = run(&["inspections", "replay", s(&file), "--key", s(&key)]);
    assert_eq!(out.status.code(), Some(1), "a changed roster fails the replay");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((r["matches"].as_bool(), r["roster_hash_ok"].as_bool()), (Some(false), Some(false)), "{r}");
    let list = ok_json(&["inspections", "list", "--data", s(&data)]);
    assert_eq!(list[0]["id"], id.as_str());
}

/// An HTTP GET answered with raw bytes (a PDF): status and body.
fn http_bytes(port: u16, method: &str, path: &str, token: Option<&str>, body: &[u8]) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Content-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).unwrap();
    conn.write_all(body).unwrap();
    let mut out = Vec::new();
    conn.read_to_end(&mut out).unwrap();
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&out[..split]).to_string();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    assert!(!head.to_ascii_lowercase().contains("transfer-encoding: chunked"), "{head}");
    (status, out[split + 4..].to_vec())
}

/// A special report downloaded as PDF from the running server verifies with `xinyong
/// report verify` in a directory with no data (nothing but the file and the published
/// key); once a penalty it cites is revoked, the server's online check flags it.
#[test]
fn a_downloaded_report_verifies_offline_and_is_flagged_online_after_a_revocation() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    let data = tmp.path().join("data");
    let manifest = generate(&input, &[]);
    let (item, file, _) = files(&manifest).into_iter().find(|(item, _, _)| item == "admin_penalty").unwrap();
    import(&input.join(&file), &item, &data);
    let code = first_registered_code(&input.join(&file));
    let user = ok_json(&[
        "user",
        "add",
        "--username",
        "entity",
        "--role",
        "subject",
        "--subject",
        &code,
        "--token",
        "--data",
        s(&data),
    ]);
    let token = user["token"].as_str().expect("a token").to_string();
    let key = std::fs::read_to_string(data.join("ledger.pub")).unwrap();
    let (server, port) = serve(&data, &[], 60);
    let path = format!("/api/v1/subjects/{code}/report?kind=special");
    let (status, json) = http(port, "GET", &path, Some(&token), None);
    assert_eq!(status, 200, "{json}");
    let cited = json["report"]["sections"][0]["entries"][0]["id"].as_i64().expect("a penalty in the report");
    let (status, pdf) = http_bytes(port, "GET", &format!("{path}&format=pdf"), Some(&token), b"");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
    assert!(pdf.starts_with(b"%PDF-"));
    drop(server);

    // elsewhere: a fresh directory, no data, the file and the key
    let elsewhere = tempfile::tempdir().unwrap();
    let file = elsewhere.path().join("report.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let out = bin()
        .args(["report", "verify", s(&file), "--key", key.trim()])
        .current_dir(elsewhere.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let verdict: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verdict["ok"], true);
    assert_eq!(verdict["key_pinned"], true);
    assert!(std::fs::read_dir(elsewhere.path()).unwrap().count() == 1, "verification wrote nothing");
    // one byte changed: refused, exit 1
    let mut bad = pdf.clone();
    bad[pdf.len() / 3] ^= 0x20;
    std::fs::write(&file, &bad).unwrap();
    assert!(!bin().args(["report", "verify", s(&file), "--key", key.trim()]).output().unwrap().status.success());

    // the cited penalty is revoked; the platform's online check says so
    let out = run(&[
        "record",
        "revoke",
        &cited.to_string(),
        "--reason",
        "复议撤销",
        "--document",
        "京复〔2026〕9号",
        "--data",
        s(&data),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (_server, port) = serve(&data, &[], 60);
    let (status, body) = http_bytes(port, "POST", "/api/v1/reports/verify", None, &pdf);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let online: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(online["verdict"]["ok"], true, "{online}");
    assert_eq!(online["consistent_with_ledger"], true);
    let changes = online["changes"].as_array().unwrap();
    assert!(changes.iter().any(|c| c["entry"] == cited && c["what"] == "revoked"), "{online}");
}

/// Two platforms on one machine, from the command line: each initialised under its own
/// name, each trusting the other's `ledger.pub`; a batch exported by one is imported by
/// the other (a second time: already applied), a revocation follows in the next batch
/// from the receiver's cursor, and a report made by one verifies with the other's copy
/// of its key.
#[test]
fn two_platforms_exchange_batches_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    let (bj, tj) = (tmp.path().join("bj"), tmp.path().join("tj"));
    let manifest = generate(&input, &[]);
    let (item, file, _) = files(&manifest).into_iter().find(|(item, _, _)| item == "admin_penalty").unwrap();
    for (dir, origin) in [(&bj, "xinyong.beijing/ledger"), (&tj, "xinyong.tianjin/ledger")] {
        let out = run(&["init", "--origin", origin, "--data", s(dir)]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).starts_with(origin));
    }
    assert!(!run(&["init", "--origin", "other/ledger", "--data", s(&bj)]).status.success(), "renaming is refused");
    import(&input.join(&file), &item, &bj);
    ok_json(&["exchange", "trust", s(&bj.join("ledger.pub")), "--data", s(&tj)]);

    let first = tmp.path().join("bj-1.jsonl");
    let out = run(&[
        "exchange",
        "export",
        "--since",
        "0",
        "--to",
        "xinyong.tianjin/ledger",
        "--out",
        s(&first),
        "--data",
        s(&bj),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let done = ok_json(&["exchange", "import", s(&first), "--data", s(&tj)]);
    assert_eq!(done["already_applied"], false, "{done}");
    let deltas = done["deltas"].as_u64().unwrap();
    assert!(deltas > 0 && done["entries_changed"].as_u64() == Some(deltas), "{done}");
    assert_eq!(ok_json(&["exchange", "import", s(&first), "--data", s(&tj)])["already_applied"], true);

    // one byte of a delta changed: refused with its line, and nothing applied
    let text = std::fs::read_to_string(&first).unwrap();
    let altered = tmp.path().join("altered.jsonl");
    std::fs::write(&altered, text.replacen("\"op\":\"add\"", "\"op\":\"revoke\"", 1)).unwrap();
    let out = run(&["exchange", "import", s(&altered), "--data", s(&tj)]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("第 2 行"), "{}", String::from_utf8_lossy(&out.stderr));

    // a revocation in Beijing travels in the next batch, from Tianjin's cursor
    let out =
        run(&["record", "revoke", "1", "--reason", "复议撤销", "--document", "京复〔2026〕1号", "--data", s(&bj)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let peers = ok_json(&["exchange", "peers", "--data", s(&tj)]);
    let cursor = peers[0]["size"].as_u64().unwrap().to_string();
    let second = tmp.path().join("bj-2.jsonl");
    let out = run(&["exchange", "export", "--since", &cursor, "--out", s(&second), "--data", s(&bj)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let batch = std::fs::read_to_string(&second).unwrap();
    assert_eq!(batch.lines().count(), 2, "the header and the revocation: {batch}");
    assert!(batch.lines().nth(1).unwrap().contains("\"op\":\"revoke\""));
    let done = ok_json(&["exchange", "import", s(&second), "--data", s(&tj)]);
    assert_eq!((done["deltas"].as_u64(), done["entries_changed"].as_u64()), (Some(1), Some(1)), "{done}");
    for dir in [&bj, &tj] {
        assert!(run(&["ledger", "verify", "--data", s(dir)]).status.success());
    }

    // a Beijing report, verified with Tianjin's copy of Beijing's key; not with Tianjin's own
    let code = first_registered_code(&input.join(&file));
    let report = tmp.path().join("report.xinyong-report");
    let out = run(&["report", "make", &code, "--purpose", "异地核查", "--out", s(&report), "--data", s(&bj)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let tj_copy = peers[0]["key"].as_str().unwrap();
    assert!(run(&["report", "verify", s(&report), "--key", tj_copy]).status.success());
    assert!(!run(&["report", "verify", s(&report), "--key", s(&tj.join("ledger.pub"))]).status.success());
}

/// Witnesses (C2SP tlog-witness), two processes: a witness cosigns the platform's head,
/// and its next head after checking consistency; a copy of the platform that then grows
/// another history (a fork, same key) is refused, so it cannot be shown as witnessed.
#[test]
fn a_witness_cosigns_consistent_heads_and_refuses_a_fork() {
    let tmp = tempfile::tempdir().unwrap();
    let data = small_ledger(tmp.path());
    let manifest: Vec<(String, String, Value)> = {
        let list = std::fs::read_to_string(tmp.path().join("in").join("manifest.json")).unwrap();
        files(&serde_json::from_str(&list).unwrap())
    };
    let key = tmp.path().join("witness.key");
    let out = run(&["witness", "keygen", "--name", "witness.tianjin", "--out", s(&key)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let vkey = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let port = free_port();
    let child = bin()
        .args(["witness", "serve", "--key", s(&key), "--dir", s(&tmp.path().join("w"))])
        .args(["--log", s(&data.join("ledger.pub")), "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _witness = Serving(child);
    wait_for_port(port, 30);
    ok_json(&["witness", "add", &vkey, &format!("http://127.0.0.1:{port}"), "--data", s(&data)]);

    // the fork: a copy of the platform as it is now, key and all
    let fork = tmp.path().join("fork");
    std::fs::create_dir_all(&fork).unwrap();
    for entry in std::fs::read_dir(&data).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), fork.join(entry.file_name())).unwrap();
        }
    }

    let first = ok_json(&["ledger", "cosign", "--data", s(&data)]);
    assert_eq!(first[0]["cosigned"], true, "{first}");
    let head = ok_json(&["ledger", "head", "--data", s(&data)]);
    let witnessed = &head["witnessed"];
    assert_eq!(witnessed["witnesses"], serde_json::json!(["witness.tianjin"]), "{head}");
    assert_eq!(witnessed["size"], head["head"]["head"]["size"]);
    let note = witnessed["checkpoint"].as_str().unwrap();
    let witness = xinyong_app::witnesses::WitnessVerifier::from_text(&vkey).unwrap();
    witness.verify_cosigned(note).unwrap();
    let platform = xinyong_app::ledger::LedgerVerifier::from_text(head["verifier_key"].as_str().unwrap()).unwrap();
    platform.verify(note).unwrap();

    // the platform grows; the witness checks consistency and cosigns the new head
    let (item, file, _) = &manifest[3];
    import(&tmp.path().join("in").join(file), item, &data);
    let second = ok_json(&["ledger", "cosign", "--data", s(&data)]);
    assert_eq!(second[0]["cosigned"], true, "{second}");
    let grown = ok_json(&["ledger", "head", "--data", s(&data)]);
    assert!(grown["witnessed"]["size"].as_u64() > witnessed["size"].as_u64(), "{grown}");
    // nothing new: nothing asked
    assert_eq!(ok_json(&["ledger", "cosign", "--data", s(&data)]), serde_json::json!([]));
    // the portal's proof page says the head is cosigned, and by whom
    {
        let (_server, web) = serve(&data, &[], 60);
        let (status, page) = http_bytes(web, "GET", "/ledger/0", None, b"");
        let page = String::from_utf8_lossy(&page);
        assert_eq!(status, 200);
        assert!(page.contains("见证方联署") && page.contains("witness.tianjin"), "{page}");
    }

    // the fork grows another history: never cosigned
    for (item, file, _) in &manifest[4..6] {
        import(&tmp.path().join("in").join(file), item, &fork);
    }
    let out = run(&["ledger", "cosign", "--data", s(&fork)]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let refused: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(refused[0]["cosigned"], false, "{refused}");
    let detail = refused[0]["detail"].as_str().unwrap();
    assert!(detail.contains("HTTP 422") && detail.contains("not consistent"), "{refused}");
    let fork_head = ok_json(&["ledger", "head", "--data", s(&fork)]);
    assert!(fork_head.get("witnessed").is_none_or(|w| w["size"] != fork_head["head"]["head"]["size"]), "{fork_head}");
}
