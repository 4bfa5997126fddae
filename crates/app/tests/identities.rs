//! Every identity (issue 11): records about people known by a passport or permit, and
//! records that carry only an old identifier (工商注册号, 组织机构代码, 税务登记号), through
//! the real intake paths (a CSV import, the API's batch, a quarantine resubmission) on a
//! real store, and what the public then sees.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use xinyong_app::intake::{import_file, ingest_rows};
use xinyong_app::quarantine::QuarantineQuery;
use xinyong_app::{App, Caller, today_shanghai};
use xinyong_core::SubjectCode;
use xinyong_core::record::date_string;
use xinyong_store::Outcome;

const AUTHORITY: &str = "11110105MB4860841R";
const DEPT: &str = "北京市朝阳区市场监督管理局";
/// The example 工商注册号 of GS 15-2006 write-ups (check digit 6).
const REG_NO: &str = "110108000000016";
const REGISTERED: &str = "91110000802100433B";

fn world() -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(dir.path()).unwrap();
    app.start_projections().unwrap();
    (dir, app)
}

fn row(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// A penalty naming its party by `identity` (field → value pairs: a code, or a document).
fn penalty(name: &str, kind: &str, identity: &[(&'static str, &'static str)], doc: &str) -> BTreeMap<String, String> {
    // recent and above the low-fine threshold: public today (SAMR Order 45, 3 years)
    let decided = today_shanghai() - time::Duration::days(10);
    let mut r = row(&[
        ("行政相对人名称", name),
        ("行政相对人类别", kind),
        ("行政处罚决定书文号", doc),
        ("违法行为类型", "未按规定公示"),
        ("违法事实", "未按规定公示年度报告"),
        ("处罚依据", "《企业信息公示暂行条例》第十八条"),
        ("处罚类别", "罚款"),
        ("处罚内容", "罚款五万元"),
        ("罚款金额(万元)", "5"),
        ("处罚决定日期", &date_string(decided)),
        ("处罚有效期", &date_string(decided + time::Duration::days(365))),
        ("处罚机关", DEPT),
        ("处罚机关统一社会信用代码", AUTHORITY),
        ("数据来源单位", DEPT),
        ("数据来源单位统一社会信用代码", AUTHORITY),
        ("处罚程序", "普通程序"),
    ]);
    for (k, v) in identity {
        r.insert(k.to_string(), v.to_string());
    }
    r
}

fn registration(app: &App, code: &str, name: &str, extra: &[(&str, &str)]) {
    let mut r = row(&[("统一社会信用代码", code), ("主体名称", name), ("成立日期", "2003-05-06")]);
    for (k, v) in extra {
        r.insert(k.to_string(), v.to_string());
    }
    let out = ingest_rows(app, "registration", "北京市市场监督管理局", "test", &[r]).unwrap();
    assert_eq!(out.accepted, 1, "{out:?}");
}

fn record_docs(app: &App, code: &str) -> Vec<String> {
    let code = SubjectCode::parse(code).unwrap();
    let v = app.subject(&Caller::public(), &code, today_shanghai(), None).unwrap().unwrap();
    v.records.iter().map(|r| r.key.clone()).collect()
}

#[test]
fn a_passport_holders_penalty_is_accepted_and_shown_masked() {
    let (_dir, app) = world();
    let passport = [("证件类型", "护照"), ("证件号码", "e 1234 5678")];
    let rows = [penalty("JOHN SMITH", "自然人", &passport, "京朝市监罚〔2026〕101号")];
    let out = ingest_rows(&app, "admin_penalty", DEPT, "test", &rows).unwrap();
    assert_eq!(out.accepted, 1, "{out:?}");
    assert_eq!(out.subjects_touched, ["P-PP-E12345678"]);

    // the key parses back (URLs: /subjects/P-PP-E12345678) and names a natural person
    let code = SubjectCode::parse("P-PP-E12345678").unwrap();
    let view = app.subject(&Caller::public(), &code, today_shanghai(), None).unwrap().unwrap();
    assert_eq!(view.kind, "natural_person");
    assert_eq!(view.code, "P-PP-E1*****78");
    let fields: BTreeMap<&str, &str> =
        view.records[0].fields.iter().map(|f| (f.name.as_str(), f.value.as_str())).collect();
    assert_eq!(fields["证件类型"], "护照");
    assert_eq!(fields["证件号码"], "E1*****78");
    let text = serde_json::to_string(&view).unwrap();
    assert!(!text.contains("E12345678") && !text.contains("12345678"), "unmasked passport number: {text}");

    // search finds the person by name, never by or with the number
    let hits = app.search("JOHN SMITH", 0, 10).unwrap();
    let hit = hits.hits.iter().find(|h| h.name == "JOHN SMITH").expect("found by name");
    assert_eq!(hit.code, "P-PP-E1*****78");
    assert!(!serde_json::to_string(&hits).unwrap().contains("12345678"));
    assert!(app.search("E12345678", 0, 10).unwrap().hits.is_empty());

    // the check index knows the subject by its typed key
    assert_eq!(app.name_of("P-PP-E12345678").as_deref(), Some("JOHN SMITH"));

    // a second document of another type never meets the first: its own key
    let hk = [("证件类型", "港澳居民来往内地通行证"), ("证件号码", "H12345678")];
    let rows = [penalty("陈大文", "自然人", &hk, "京朝市监罚〔2026〕102号")];
    let out = ingest_rows(&app, "admin_penalty", DEPT, "test", &rows).unwrap();
    assert_eq!((out.accepted, out.subjects_touched.clone()), (1, vec!["P-HM-H12345678".to_string()]), "{out:?}");
}

#[test]
fn a_bad_document_number_is_refused_naming_row_field_and_rule() {
    let (_dir, app) = world();
    let rows = [
        penalty("李四", "自然人", &[("证件类型", "港澳居民来往内地通行证"), ("证件号码", "X1234567")], "罚〔1〕"),
        penalty("王五", "自然人", &[("证件类型", "护照")], "罚〔2〕"),
        penalty("某公司", "法人及非法人组织", &[], "罚〔3〕"),
        penalty(
            "旧公司",
            "法人及非法人组织",
            &[("证件类型", "工商注册号"), ("证件号码", "110108000000017")],
            "罚〔4〕",
        ),
    ];
    let out = ingest_rows(&app, "admin_penalty", DEPT, "test", &rows).unwrap();
    assert_eq!(out.quarantined, 4, "{out:?}");
    let e = &out.rows[0].errors[0];
    assert_eq!((e.field.as_str(), e.rule.as_str()), ("证件号码", "code.format"));
    assert!(e.zh.starts_with("第 1 行：“证件号码”（港澳居民来往内地通行证）："), "{}", e.zh);
    assert!(e.en.starts_with("row 1: '证件号码' (Mainland travel permit"), "{}", e.en);
    let e = &out.rows[1].errors[0];
    assert_eq!((e.field.as_str(), e.rule.as_str()), ("证件号码", "document.pair"), "{e:?}");
    let e = &out.rows[2].errors[0];
    assert_eq!((e.field.as_str(), e.rule.as_str()), ("统一社会信用代码", "required"), "{e:?}");
    assert!(e.zh.contains("证件类型") && e.en.contains("证件号码"), "{e:?}");
    let e = &out.rows[3].errors[0];
    assert_eq!(e.rule, "code.check_char", "{e:?}");
    assert!(e.zh.contains("第 15 位校验码应为 '6'"), "{}", e.zh);
}

/// A CSV import (the file path: parser thread, batch lookup, writer) of a penalty that
/// names its party only by the 15-digit 注册号 a registration carries.
#[test]
fn a_record_with_only_a_registration_number_attaches_to_its_registered_subject() {
    let (dir, app) = world();
    registration(&app, REGISTERED, "北京老字号商贸有限公司", &[("注册号", REG_NO)]);
    let item = app.catalog().item("admin_penalty").unwrap().clone();
    let identity = [("证件类型", "工商注册号"), ("证件号码", REG_NO)];
    let r = penalty("北京老字号商贸有限公司", "法人及非法人组织", &identity, "京朝市监罚〔2026〕201号");
    let headers: Vec<&str> = item.fields.iter().map(|f| f.name.as_str()).collect();
    let cells: Vec<String> =
        headers.iter().map(|h| r.get(*h).map(|v| format!("\"{v}\"")).unwrap_or_default()).collect();
    let path = dir.path().join("penalties.csv");
    std::fs::write(&path, format!("{}\n{}\n", headers.join(","), cells.join(","))).unwrap();
    let summary = import_file(&app, &path, "admin_penalty", DEPT, &mut |_| {}).unwrap();
    assert_eq!((summary.accepted, summary.quarantined, summary.subjects_created), (1, 0, 0), "{summary:?}");
    assert_eq!(
        record_docs(&app, REGISTERED),
        [REGISTERED, "京朝市监罚〔2026〕201号"],
        "its registration and the penalty"
    );
}

#[test]
fn without_such_a_registration_the_record_is_quarantined_until_there_is_one() {
    let (_dir, app) = world();
    let identity = [("证件类型", "工商注册号"), ("证件号码", REG_NO)];
    let rows = [penalty("北京老字号商贸有限公司", "法人及非法人组织", &identity, "京朝市监罚〔2026〕202号")];
    let out = ingest_rows(&app, "admin_penalty", DEPT, "test", &rows).unwrap();
    assert_eq!(out.quarantined, 1, "{out:?}");
    let e = &out.rows[0].errors[0];
    assert_eq!((e.field.as_str(), e.rule.as_str()), ("证件号码", "identity.unregistered"));
    assert_eq!(e.zh, format!("第 1 行：没有已登记的主体载有工商注册号 {REG_NO}：请先导入其登记信息"));
    assert_eq!(
        e.en,
        format!(
            "row 1: no registered subject carries 工商注册号 {REG_NO} (business registration number); import its registration first"
        )
    );
    let Outcome::Quarantined { quarantine_id, .. } = out.rows[0].outcome else { panic!() };

    // once the registration is there, resubmitting the row as it was attaches it
    registration(&app, REGISTERED, "北京老字号商贸有限公司", &[("注册号", REG_NO)]);
    let done = app.resubmit(&Caller::operator(), quarantine_id, &BTreeMap::new()).unwrap();
    assert!(matches!(done.outcome, Outcome::Accepted { .. }), "{:?}", done.outcome);
    assert_eq!(
        record_docs(&app, REGISTERED),
        [REGISTERED, "京朝市监罚〔2026〕202号"],
        "its registration and the penalty"
    );
    let open = app.quarantine(&Caller::operator(), &QuarantineQuery::default()).unwrap();
    assert!(open.is_empty(), "{open:?}");
}

/// An organisation code (9 characters, GB 11714) finds the USCC holder embedding it
/// (positions 9–17), with no registration column; a 15-character tax number too.
#[test]
fn an_organisation_code_finds_the_uscc_that_embeds_it() {
    let (_dir, app) = world();
    let uscc = "91110108551385082Q";
    let rows = [penalty("北京测试科技有限公司", "法人及非法人组织", &[("统一社会信用代码", uscc)], "罚〔1〕")];
    assert_eq!(ingest_rows(&app, "admin_penalty", DEPT, "test", &rows).unwrap().accepted, 1);
    let rows = [
        penalty(
            "北京测试科技有限公司",
            "法人及非法人组织",
            &[("证件类型", "组织机构代码"), ("证件号码", "55138508-2")],
            "罚〔2〕",
        ),
        penalty(
            "北京测试科技有限公司",
            "法人及非法人组织",
            &[("证件类型", "税务登记号"), ("证件号码", "110108551385082")],
            "罚〔3〕",
        ),
        // a code of no stored subject
        penalty("别的公司", "法人及非法人组织", &[("证件类型", "组织机构代码"), ("证件号码", "80210043-3")], "罚〔4〕"),
    ];
    let out = ingest_rows(&app, "admin_penalty", DEPT, "test", &rows).unwrap();
    assert_eq!((out.accepted, out.quarantined), (2, 1), "{out:?}");
    assert_eq!(out.subjects_touched, [uscc]);
    assert!(out.rows[2].errors[0].zh.contains("组织机构代码 802100433"), "{:?}", out.rows[2].errors);
    let mut docs = record_docs(&app, uscc);
    docs.sort();
    assert_eq!(docs, ["罚〔1〕", "罚〔2〕", "罚〔3〕"]);
    // the stored 证件号码 of an organisation is public, in its normalised form
    let code = SubjectCode::parse(uscc).unwrap();
    let view = app.subject(&Caller::public(), &code, today_shanghai(), None).unwrap().unwrap();
    let r = view.records.iter().find(|r| r.key == "罚〔2〕").unwrap();
    assert!(r.fields.iter().any(|f| f.name == "证件号码" && f.value == "551385082"), "{:?}", r.fields);
}

/// Two registrations that declare the same old number: the record is not guessed onto
/// one of them.
#[test]
fn an_identifier_two_subjects_carry_is_quarantined_as_ambiguous() {
    let (_dir, app) = world();
    registration(&app, REGISTERED, "甲公司", &[("注册号", REG_NO)]);
    registration(&app, "91110108551385082Q", "乙公司", &[("注册号", REG_NO)]);
    let identity = [("证件类型", "工商注册号"), ("证件号码", REG_NO)];
    let rows = [penalty("甲公司", "法人及非法人组织", &identity, "罚〔9〕")];
    let out = ingest_rows(&app, "admin_penalty", DEPT, "test", &rows).unwrap();
    assert_eq!(out.quarantined, 1, "{out:?}");
    let e = &out.rows[0].errors[0];
    assert_eq!(e.rule, "identity.ambiguous");
    assert!(e.zh.contains(REGISTERED) && e.zh.contains("91110108551385082Q"), "{}", e.zh);
}
