//! The data quality report and the quarantine as a department works it, through the
//! app's use cases on a real store: the report's numbers for a hand-built batch, and a
//! download → fix → upload round trip in XLSX and CSV that resolves exactly the rows
//! it fixes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use time::Duration;
use xinyong_app::accounts::NewAccountRequest;
use xinyong_app::intake::RecordBatch;
use xinyong_app::quality::QualityQuery;
use xinyong_app::quarantine::QuarantineQuery;
use xinyong_app::quarantine_files::{CorrectionStatus, ID_COLUMN, SheetFormat};
use xinyong_app::{App, AppError, Caller, today_shanghai};
use xinyong_core::record::date_string;

const GOOD: &str = "91110108551385082Q";
const BAD_CHECK: &str = "91110108551385082R";
const ENV: &str = "北京市生态环境局";
const TAX: &str = "北京市税务局";

fn account(app: &App, name: &str, role: &str, provider: Option<&str>) -> Caller {
    let req = NewAccountRequest {
        username: name.into(),
        role: role.into(),
        provider: provider.map(str::to_string),
        ..Default::default()
    };
    Caller::of_account(app.create_account(&Caller::operator(), &req).unwrap().account.unwrap()).unwrap()
}

fn honour(code: &str, doc: &str, title: &str, granted: &str) -> BTreeMap<String, serde_json::Value> {
    [
        ("主体名称", "北京测试科技有限公司"),
        ("统一社会信用代码", code),
        ("荣誉名称", title),
        ("荣誉等级", "市级"),
        ("授予日期", granted),
        ("授予机关", "北京市市场监督管理局"),
        ("表彰决定文号", doc),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
    .collect()
}

fn setup() -> (tempfile::TempDir, App, Caller, Caller, Caller) {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(dir.path()).unwrap();
    let env = account(&app, "env", "officer", Some(ENV));
    let tax = account(&app, "tax", "officer", Some(TAX));
    let admin = account(&app, "admin", "admin", None);
    (dir, app, env, tax, admin)
}

/// Five rows with known fates: one on time, one decided two months before intake (late),
/// an exact duplicate of the first, a wrong check character, a missing title.
#[test]
fn the_report_counts_a_hand_built_batch() {
    let (_dir, app, env, tax, admin) = setup();
    let today = date_string(today_shanghai());
    let old = date_string(today_shanghai() - Duration::days(60));
    let rows = vec![
        honour(GOOD, "京发〔2026〕1号", "守合同重信用企业", &today),
        honour(GOOD, "京发〔2026〕2号", "守合同重信用企业", &old),
        honour(GOOD, "京发〔2026〕1号", "守合同重信用企业", &today),
        honour(BAD_CHECK, "京发〔2026〕3号", "守合同重信用企业", &today),
        honour(GOOD, "京发〔2026〕4号", "", &today),
    ];
    let done = app.ingest(&env, &RecordBatch { item: "honour".into(), provider: None, rows }, "api").unwrap();
    assert_eq!((done.accepted, done.duplicates, done.quarantined), (2, 1, 2));

    let report = app.quality(&env, &QualityQuery::default()).unwrap();
    assert_eq!(report.batches.len(), 1);
    let b = &report.batches[0];
    assert_eq!((b.batch.as_str(), b.provider.as_str(), b.item.as_str()), (done.batch.as_str(), ENV, "honour"));
    assert_eq!(b.received_on, today);
    let f = &b.figures;
    assert_eq!((f.rows, f.accepted, f.duplicates, f.quarantined, f.wrong_codes), (5, 2, 1, 2, 1));
    // (1 duplicate + 1 wrong code) × 1000 / 5 rows
    assert_eq!(f.duplicate_or_wrong_per_mille, 400.0);
    assert!(!f.meets_target);
    let reasons: Vec<(&str, &str, u64)> =
        f.refused.iter().map(|r| (r.field.as_str(), r.rule.as_str(), r.rows)).collect();
    assert_eq!(reasons, [("统一社会信用代码", "code.check_char", 1), ("荣誉名称", "required", 1)]);
    assert!(f.refused[0].zh.contains("统一社会信用代码") && f.refused[0].en.contains("check character"));
    let t = &f.timeliness;
    assert_eq!((t.records, t.on_time, t.late, t.undetermined), (2, 1, 1, 0));
    assert_eq!((t.max_days, t.mean_days), (Some(60), Some(30.0)));
    // the department's and the total figures are the same batch's
    assert_eq!(report.providers.len(), 1);
    assert_eq!(report.providers[0].figures.rows, 5);
    assert_eq!(report.total.timeliness.late, 1);

    // a clean second batch brings the department's rate down: 2 of 7 rows
    let clean = vec![
        honour(GOOD, "京发〔2026〕5号", "守合同重信用企业", &today),
        honour(GOOD, "京发〔2026〕6号", "守合同重信用企业", &today),
    ];
    app.ingest(&env, &RecordBatch { item: "honour".into(), provider: None, rows: clean }, "api").unwrap();
    let report = app.quality(&env, &QualityQuery::default()).unwrap();
    assert_eq!(report.batches.len(), 2);
    assert_eq!(report.batches[1].batch, done.batch, "most recent first");
    let p = &report.providers[0].figures;
    assert_eq!((p.rows, p.accepted), (7, 4));
    assert!((p.duplicate_or_wrong_per_mille - 2000.0 / 7.0).abs() < 1e-9);
    let one = app.quality(&env, &QualityQuery { batch: Some(done.batch.clone()), ..Default::default() }).unwrap();
    assert_eq!(one.total.rows, 5);

    // officers see their own department only; the centre every one or the one it names
    assert!(app.quality(&tax, &QualityQuery::default()).unwrap().batches.is_empty());
    let err = app.quality(&tax, &QualityQuery { provider: Some(ENV.into()), ..Default::default() }).unwrap_err();
    assert_eq!(err.code(), "forbidden");
    assert_eq!(app.quality(&admin, &QualityQuery::default()).unwrap().batches.len(), 2);
    let named = app.quality(&admin, &QualityQuery { provider: Some(TAX.into()), ..Default::default() }).unwrap();
    assert!(named.batches.is_empty());
    assert!(matches!(app.quality(&Caller::public(), &QualityQuery::default()), Err(AppError::Unauthenticated)));
}

/// A CSV import of the honour item: one good row and four bad ones.
fn import_with_bad_rows(app: &App, dir: &std::path::Path) {
    let today = date_string(today_shanghai());
    let csv = format!(
        "主体名称,统一社会信用代码,荣誉名称,荣誉等级,授予日期,授予机关,表彰决定文号\n\
         北京测试科技有限公司,{GOOD},守合同重信用企业,市级,{today},北京市市场监督管理局,京发〔2026〕10号\n\
         北京测试科技有限公司,{BAD_CHECK},守合同重信用企业,市级,{today},北京市市场监督管理局,京发〔2026〕11号\n\
         北京测试科技有限公司,{GOOD},,市级,{today},北京市市场监督管理局,京发〔2026〕12号\n\
         北京测试科技有限公司,{GOOD},守合同重信用企业,市级,2026-13-45,北京市市场监督管理局,京发〔2026〕13号\n\
         北京测试科技有限公司,{GOOD},守合同重信用企业,乡级,{today},北京市市场监督管理局,京发〔2026〕14号\n"
    );
    let path = dir.join("honour.csv");
    std::fs::write(&path, csv).unwrap();
    let s = xinyong_app::intake::import_file(app, &path, "honour", ENV, &mut |_| {}).unwrap();
    assert_eq!((s.accepted, s.quarantined), (1, 4));
}

fn open_entries(app: &App, who: &Caller) -> Vec<xinyong_app::quarantine::QuarantineRow> {
    app.quarantine(who, &QuarantineQuery::default()).unwrap()
}

/// Rows of a spreadsheet as text, header first.
fn xlsx_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    use calamine::{Reader, Xlsx};
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let sheet = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&sheet).unwrap();
    range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect()
}

fn xlsx_of(rows: &[Vec<String>]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32, c as u16, v).unwrap();
        }
    }
    wb.save_to_buffer().unwrap()
}

fn set(rows: &mut [Vec<String>], id: i64, column: &str, value: &str) {
    let col = rows[0].iter().position(|h| h == column).unwrap();
    let row = rows.iter_mut().find(|r| r[0] == id.to_string()).unwrap();
    row[col] = value.to_string();
}

/// Import → download XLSX → fix two rows → upload: exactly those become records; the
/// others stay as they were. Then CSV: a wrong fix stays refused with its new reason,
/// and ids that are unknown or another department's are refused and change nothing.
#[test]
fn refused_rows_round_trip_through_a_spreadsheet() {
    let (dir, app, env, tax, _admin) = setup();
    import_with_bad_rows(&app, dir.path());
    // another department's refused row
    let tax_rows = vec![honour(BAD_CHECK, "京税〔2026〕1号", "A级纳税人", &date_string(today_shanghai()))];
    app.ingest(&tax, &RecordBatch { item: "honour".into(), provider: None, rows: tax_rows }, "api").unwrap();
    let tax_entry = open_entries(&app, &tax)[0].clone();

    let before = open_entries(&app, &env);
    assert_eq!(before.len(), 4);
    let id_of = |doc: &str| before.iter().find(|e| e.raw.contains(doc)).unwrap().id;
    let (bad_code, no_title, bad_date, bad_level) = (id_of("11号"), id_of("12号"), id_of("13号"), id_of("14号"));
    let counts0 = app.counts().unwrap();

    // grouped by reason, and filtered
    let groups = app.quarantine_reasons(&env, &QuarantineQuery::default()).unwrap();
    assert_eq!(groups.total, 4);
    assert_eq!(groups.reasons.len(), 4);
    assert!(groups.reasons.iter().all(|g| g.rows == 1 && g.item == "honour" && g.item_name == "表彰荣誉信息"));
    let by_field = QuarantineQuery { field: Some("统一社会信用代码".into()), ..Default::default() };
    assert_eq!(app.quarantine(&env, &by_field).unwrap().iter().map(|e| e.id).collect::<Vec<_>>(), [bad_code]);
    let by_reason = QuarantineQuery { reason: Some("required".into()), ..Default::default() };
    assert_eq!(app.quarantine(&env, &by_reason).unwrap().iter().map(|e| e.id).collect::<Vec<_>>(), [no_title]);

    // XLSX: the id and reason columns, then the fields as received
    let xlsx = app.quarantine_download(&env, &QuarantineQuery::default(), SheetFormat::Xlsx).unwrap();
    assert!(xlsx.file_name.ends_with(".xlsx") && xlsx.rows == 4);
    let mut rows = xlsx_rows(&xlsx.bytes);
    assert_eq!(rows[0][0], ID_COLUMN);
    assert_eq!(rows.len(), 5, "header and the department's 4 rows, not the other department's");
    let reason = &rows.iter().find(|r| r[0] == bad_code.to_string()).unwrap()[1];
    assert!(reason.contains("统一社会信用代码") && reason.contains("check character"), "{reason}");
    set(&mut rows, bad_code, "统一社会信用代码", GOOD);
    set(&mut rows, no_title, "荣誉名称", "守合同重信用企业");
    let done = app.quarantine_upload(&env, "fixed.xlsx", &xlsx_of(&rows)).unwrap();
    assert_eq!((done.resolved, done.still_refused, done.unchanged, done.refused), (2, 0, 2, 0), "{done:?}");
    assert_eq!(done.batches.len(), 1);
    let counts1 = app.counts().unwrap();
    assert_eq!(counts1.records, counts0.records + 2);
    assert_eq!(counts1.quarantine_open, counts0.quarantine_open - 2);
    for id in [bad_code, no_title] {
        let e = app.quarantine_entry(&env, id).unwrap();
        assert_eq!(e.status, "resolved");
        assert!(e.resolved_record.is_some());
    }
    // the rows left alone are exactly as they were
    for id in [bad_date, bad_level] {
        let now = app.quarantine_entry(&env, id).unwrap();
        let was = before.iter().find(|e| e.id == id).unwrap();
        assert_eq!(&now, was);
    }
    assert_eq!(app.quarantine_entry(&tax, tax_entry.id).unwrap(), tax_entry);

    // CSV: a wrong fix, a right fix, an unknown id and another department's id
    let csv = app.quarantine_download(&env, &QuarantineQuery::default(), SheetFormat::Csv).unwrap();
    assert!(csv.bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(csv.bytes[3..].to_vec()).unwrap();
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    let mut rows: Vec<Vec<String>> =
        reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect();
    assert_eq!(rows.len(), 3);
    set(&mut rows, bad_date, "授予日期", "2026-02-30");
    set(&mut rows, bad_level, "荣誉等级", "区县级");
    let mut extra = rows[1].clone();
    extra[0] = "999999".into();
    extra[6] = "改动".into();
    let mut theirs = rows[1].clone();
    theirs[0] = tax_entry.id.to_string();
    theirs[6] = "改动".into();
    rows.push(extra);
    rows.push(theirs);
    let mut out = Vec::new();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        for r in &rows {
            w.write_record(r).unwrap();
        }
    }
    let done = app.quarantine_upload(&env, "fixed.csv", &out).unwrap();
    assert_eq!((done.resolved, done.still_refused, done.unchanged, done.refused), (1, 1, 0, 2), "{done:?}");
    let status = |id: i64| done.rows.iter().find(|r| r.quarantine_id == Some(id)).unwrap();
    assert_eq!(status(bad_level).status, CorrectionStatus::Resolved);
    let still = status(bad_date);
    assert_eq!(still.status, CorrectionStatus::StillRefused);
    assert!(still.errors.iter().any(|e| e.field == "授予日期" && e.zh.contains("2026-02-30")), "{still:?}");
    let e = app.quarantine_entry(&env, bad_date).unwrap();
    assert_eq!(e.status, "open");
    assert!(e.raw.contains("2026-02-30") && e.errors[0].zh.contains("2026-02-30"), "the new reasons: {e:?}");
    assert!(status(999_999).errors[0].zh.contains("没有编号为 999999"));
    assert!(status(tax_entry.id).errors[0].en.contains("another department"));
    assert_eq!(app.quarantine_entry(&tax, tax_entry.id).unwrap(), tax_entry);
    assert_eq!(app.counts().unwrap().records, counts1.records + 1);

    // a file without the id column is refused as a whole
    let err = app.quarantine_upload(&env, "x.csv", "主体名称\n北京\n".as_bytes()).unwrap_err();
    assert_eq!(err.code(), "id_column_missing");
    // the data quality report shows the correction batches as batches of their own
    let report = app.quality(&env, &QualityQuery::default()).unwrap();
    assert!(report.batches.iter().any(|b| b.source == "correction:fixed.xlsx" && b.figures.accepted == 2));
}
