//! Helpers shared by the app's integration tests: accounts, and a store filled with a
//! generated data set through the real import path.

#![allow(dead_code, clippy::unwrap_used)]

use xinyong_app::accounts::NewAccountRequest;
use xinyong_app::synthetic::{GenEncoding, GenFormat, GenOptions};
use xinyong_app::{App, Caller, today_shanghai};

/// An administrative penalty row (双公示 fields) of `code`, decided by `authority`:
/// `kind` 罚款 with a fine of 3 (万元), or another kind without one.
pub fn penalty_row(
    code: &str,
    doc: &str,
    authority: &str,
    decided: time::Date,
    kind: &str,
    procedure: &str,
) -> std::collections::BTreeMap<String, String> {
    let day = xinyong_core::record::date_string;
    [
        ("行政相对人名称", "北京测试科技有限公司"),
        ("行政相对人类别", "法人及非法人组织"),
        ("统一社会信用代码", code),
        ("行政处罚决定书文号", doc),
        ("违法行为类型", "未按规定公示年度报告"),
        ("违法事实", "当事人未按规定报送年度报告"),
        ("处罚依据", "《企业信息公示暂行条例》第十八条"),
        ("处罚类别", kind),
        ("处罚内容", kind),
        ("罚款金额(万元)", if kind == "罚款" { "3" } else { "" }),
        ("处罚决定日期", &day(decided)),
        ("处罚有效期", &day(decided + time::Duration::days(365))),
        ("处罚机关", authority),
        ("处罚机关统一社会信用代码", "11110108000000000F"),
        ("数据来源单位", authority),
        ("数据来源单位统一社会信用代码", "11110108000000000F"),
        ("处罚程序", procedure),
    ]
    .iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// The entity applies for the repair of its record `record` (obligations met, the
/// commitment signed); returns the case's id.
pub fn apply_for_repair(app: &App, entity: &Caller, code: &str, record: i64) -> i64 {
    let repair = xinyong_app::cases::RepairRequest {
        code: code.into(),
        target: xinyong_app::cases::TargetRef { record_id: Some(record), listing_id: None },
        applicant: None,
        contact: None,
        statement: "罚款已缴清".into(),
        conditions: vec!["obligations_met".into(), "other_requirements".into()],
        commitment_signed: true,
        evidence: vec![],
    };
    app.file_repair(entity, &repair, "test").unwrap().case.case.id
}

/// The deciding department grants case `case`.
pub fn grant(app: &App, department: &Caller, case: i64) {
    let grant = xinyong_app::cases::DecideRequest {
        outcome: xinyong_core::case::Outcome::Granted,
        remedy: None,
        reasons: "条件均已满足".into(),
        next_possible: None,
        fields: None,
    };
    app.decide_case(department, case, &grant, "test").unwrap();
}

/// An account of `role` (`officer` with a department, `subject` with its code, `admin`).
pub fn account(app: &App, name: &str, role: &str, provider: Option<&str>, subject: Option<&str>) -> Caller {
    let req = NewAccountRequest {
        username: name.into(),
        role: role.into(),
        provider: provider.map(str::to_string),
        subject_code: subject.map(str::to_string),
        ..Default::default()
    };
    Caller::of_account(app.create_account(&Caller::operator(), &req).unwrap().account.unwrap()).unwrap()
}

/// Generates `subjects` and `records` (CSV, dated up to today, `dirty` % bad rows) into
/// `dir/in` and imports every file as `provider`; returns each file's summary.
pub fn generated(
    app: &App,
    dir: &std::path::Path,
    (subjects, records, seed, dirty): (u64, u64, u64, u32),
    provider: &str,
) -> Vec<xinyong_app::intake::ImportSummary> {
    let input = dir.join("in");
    let opts = GenOptions {
        subjects,
        records,
        seed,
        dirty_percent: dirty,
        format: GenFormat::Csv,
        encoding: GenEncoding::Utf8,
        latest_date: today_shanghai(),
    };
    let manifest = xinyong_app::synthetic::generate(&opts, &input).unwrap();
    manifest
        .files
        .iter()
        .map(|f| xinyong_app::intake::import_file(app, &input.join(&f.file), &f.item, provider, &mut |_| {}).unwrap())
        .collect()
}
