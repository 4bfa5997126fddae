//! Lists that follow from records, end to end on a real store: a court's 失信被执行人
//! file imported by another process reaches the server's checks on its next catch-up;
//! revocation, the court's deletion and a repair end the entry while past-dated checks
//! still see it; the derivation survives a crash between the record and its entry;
//! running it again adds nothing. Market bans bear only on their own domain.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::Write;

use time::Duration;
use xinyong_app::accounts::NewAccountRequest;
use xinyong_app::cases::{AmendRequest, DecideRequest, ObjectionRequest, RepairRequest, TargetRef};
use xinyong_app::checks::{CheckRequest, CheckResult};
use xinyong_app::listings::{DecisionRequest, ListingRequest, ListsQuery};
use xinyong_app::{App, Caller, today_shanghai};
use xinyong_core::case::Outcome;
use xinyong_core::lists::Verdict;
use xinyong_core::record::date_string;

const DEBTOR: &str = "91110108551385082Q";
const SHOP: &str = "91110000802100433B";
const COURT: &str = "北京市朝阳区人民法院";
const SAMR: &str = "北京市市场监督管理局";
const FIN: &str = "北京市财政局";

fn account(app: &App, name: &str, role: &str, provider: Option<&str>) -> Caller {
    let req = NewAccountRequest {
        username: name.into(),
        role: role.into(),
        provider: provider.map(str::to_string),
        ..Default::default()
    };
    Caller::of_account(app.create_account(&Caller::operator(), &req).unwrap().account.unwrap()).unwrap()
}

/// A court's file as departments send it: GB18030, CRLF.
fn court_file(dir: &std::path::Path, published: time::Date, deleted: Option<time::Date>) -> std::path::PathBuf {
    let header = "被执行人姓名/名称,证件号码/统一社会信用代码,法定代表人或者负责人姓名,执行法院,执行依据文号,案号,立案时间,发布时间,生效法律文书确定的义务,被执行人的履行情况,失信被执行人行为具体情形,删除日期,删除原因";
    let row = format!(
        "北京拖欠科技有限公司,{DEBTOR},张三,{COURT},（2024）京0105民初567号,（2025）京0105执1234号,{},{},支付货款120万元,全部未履行,有履行能力而拒不履行生效法律文书确定义务,{},{}",
        date_string(published - Duration::days(60)),
        date_string(published),
        deleted.map(date_string).unwrap_or_default(),
        if deleted.is_some() { "已全部履行" } else { "" },
    );
    let text = format!("{header}\r\n{row}\r\n");
    let (bytes, _, _) = encoding_rs::GB18030.encode(&text);
    let path = dir.join(format!("court-{}.csv", deleted.is_some()));
    std::fs::File::create(&path).unwrap().write_all(&bytes).unwrap();
    path
}

fn check(app: &App, who: &Caller, code: &str, matter: &str, as_of: Option<time::Date>) -> CheckResult {
    let req = CheckRequest {
        code: code.into(),
        matter: matter.into(),
        department: None,
        purpose: "政府采购项目 2026-117".into(),
        as_of: as_of.map(date_string),
        domain: None,
        proof: false,
    };
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(app.check(who, req)).unwrap()
}

#[test]
fn a_courts_dishonest_debtor_file_reaches_checks_and_ends_with_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = App::open(&data).unwrap();
    server.start_projections().unwrap();
    let fin = account(&server, "fin", "officer", Some(FIN));
    let court = account(&server, "court", "officer", Some(COURT));
    let today = today_shanghai();
    let published = today - Duration::days(30);

    // `xinyong import` is another process on the same data directory
    let cli = App::open(&data).unwrap();
    let file = court_file(dir.path(), published, None);
    let out = xinyong_app::intake::import_file(&cli, &file, "dishonest_debtor", COURT, &mut |_| {}).unwrap();
    assert_eq!(out.accepted, 1, "{out:?}");
    // the server's next catch-up tick (every 250 ms) projects the derived entry
    server.catch_up().unwrap();
    let a = check(&server, &fin, DEBTOR, "government_procurement", None);
    assert_eq!(a.verdict, Verdict::Prohibit, "{a:?}");
    let hit = a.lists.iter().find(|l| l.list_type == "dishonest_debtor").expect("the derived entry");
    let src = hit.source.as_ref().expect("the entry cites its record");
    assert_eq!(src.item, "dishonest_debtor");
    assert_eq!(src.documents.get("案号").map(String::as_str), Some("（2025）京0105执1234号"));
    assert!(hit.basis.as_deref().unwrap().contains("法释〔2017〕7号"), "{hit:?}");
    assert_eq!(hit.start, date_string(published));
    let m = a.measures.iter().find(|m| m.id == "M-DD-01").expect("the procurement measure");
    assert!(m.basis.iter().any(|b| b.contains("政府采购法")), "{m:?}");
    assert_eq!(m.list_types, vec!["dishonest_debtor".to_string()]);

    // the entry is a ledger event of its own, citing the record, and shows on the list
    let q = ListsQuery { list_type: Some("dishonest_debtor".into()), ..Default::default() };
    let entries = server.lists(&Caller::operator(), &q).unwrap().entries;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].derived_from.as_ref().map(|d| d.record_id), Some(src.record_id));
    let ev = server.ledger_proof(&Caller::operator(), hit.ledger_index).unwrap().event.unwrap();
    assert_eq!(ev["kind"], "listing.derived", "{ev}");

    // deriving again (another process, a restart) adds nothing
    let size = server.ledger_head().unwrap().head.map(|h| h.head.size);
    assert_eq!(cli.derive_lists().unwrap().steps, 0);
    assert_eq!(App::open(&data).unwrap().derive_lists().unwrap().steps, 0);
    assert_eq!(server.ledger_head().unwrap().head.map(|h| h.head.size), size);

    // the court's own listing procedure is not run here: proposing it is refused
    let by_hand = ListingRequest {
        code: SHOP.into(),
        list_type: "dishonest_debtor".into(),
        basis: Some("法释〔2017〕7号".into()),
        reason: "拒不履行".into(),
        decision: Some(DecisionRequest { decision_date: date_string(today), ..Default::default() }),
        ..Default::default()
    };
    let e = server.propose_listing(&court, by_hand, "test").unwrap_err();
    assert!(e.to_string().contains("follow from the provider's records"), "{e}");

    // objecting to the entry disputes the record it follows from, and the check says so
    let objection = ObjectionRequest {
        code: DEBTOR.into(),
        target: TargetRef { record_id: None, listing_id: Some(entries[0].id) },
        applicant: Some("张三".into()),
        contact: Some("13900000000".into()),
        reasons: "判决已履行完毕".into(),
        evidence: vec![],
    };
    let receipt = server.file_objection(&Caller::public(), &objection, "test").unwrap();
    assert!(
        matches!(receipt.case.case.target, xinyong_core::case::Target::Record { id, .. } if id == src.record_id),
        "{:?}",
        receipt.case.case.target
    );
    let a = check(&server, &fin, DEBTOR, "government_procurement", None);
    assert!(a.lists.iter().any(|l| l.list_type == "dishonest_debtor" && l.disputed), "{a:?}");
    // a restart loads the index from the store, page by page: the same entries, the
    // record's objection still disputing the one derived from it
    drop(server);
    let server = App::open(&data).unwrap();
    server.start_projections().unwrap();
    let again = check(&server, &fin, DEBTOR, "government_procurement", None);
    assert_eq!(serde_json::to_value(&again.lists).unwrap(), serde_json::to_value(&a.lists).unwrap());

    // revoking the record makes the check clear again; a check as of a day in the
    // listed period still sees the entry
    let amend =
        AmendRequest {
            reason: "执行依据被撤销".into(), document: "（2026）京0105执异8号".into(), fields: None
        };
    server.amend_record(&court, src.record_id, &amend, "test").unwrap();
    let a = check(&server, &fin, DEBTOR, "government_procurement", None);
    assert_eq!(a.verdict, Verdict::Clear, "{a:?}");
    let past = check(&server, &fin, DEBTOR, "government_procurement", Some(published + Duration::days(3)));
    assert_eq!(past.verdict, Verdict::Prohibit, "{past:?}");
    let entry = server.listing(&Caller::operator(), entries[0].id).unwrap();
    assert_eq!(entry.removal_kind, Some(xinyong_core::listing::RemovalKind::RecordRevoked));
    assert_eq!(entry.removed_date.as_deref(), Some(date_string(today).as_str()));
}

#[test]
fn the_courts_deletion_ends_the_entry_and_a_crash_loses_no_derivation() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let published = today_shanghai() - Duration::days(100);
    let deleted = today_shanghai() - Duration::days(20);
    {
        let app = App::open(&data).unwrap();
        let file = court_file(dir.path(), published, None);
        xinyong_app::intake::import_file(&app, &file, "dishonest_debtor", COURT, &mut |_| {}).unwrap();
        // the court deletes the entry: the same case number with a deletion date
        let file = court_file(dir.path(), published, Some(deleted));
        let out = xinyong_app::intake::import_file(&app, &file, "dishonest_debtor", COURT, &mut |_| {}).unwrap();
        assert_eq!(out.corrected, 1, "{out:?}");
    }
    let app = App::open(&data).unwrap();
    app.start_projections().unwrap();
    let fin = account(&app, "fin", "officer", Some(FIN));
    assert_eq!(check(&app, &fin, DEBTOR, "bidding", None).verdict, Verdict::Clear);
    assert_eq!(check(&app, &fin, DEBTOR, "bidding", Some(deleted - Duration::days(1))).verdict, Verdict::Restrict);
    assert_eq!(check(&app, &fin, DEBTOR, "bidding", Some(deleted)).verdict, Verdict::Clear);

    // a crash between a record's commit and its entry: the record is in the store, the
    // follower has not run; the next start derives it
    let other = dir.path().join("crash");
    {
        let app = App::open(&other).unwrap();
        let file = court_file(dir.path(), published, None);
        app.pause_derivation(true);
        xinyong_app::intake::import_file(&app, &file, "dishonest_debtor", COURT, &mut |_| {}).unwrap();
        let none = app.listings_of_subject(&Caller::operator(), DEBTOR).unwrap();
        assert!(none.is_empty(), "no entry before the follower runs: {none:?}");
    }
    let app = App::open(&other).unwrap();
    app.start_projections().unwrap();
    let fin = account(&app, "fin", "officer", Some(FIN));
    assert_eq!(check(&app, &fin, DEBTOR, "government_procurement", None).verdict, Verdict::Prohibit);
    assert_eq!(app.listings_of_subject(&Caller::operator(), DEBTOR).unwrap().len(), 1);
}

#[test]
fn abnormal_operation_is_one_thing_a_record_that_lists_until_removed() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(dir.path()).unwrap();
    app.start_projections().unwrap();
    let fin = account(&app, "fin", "officer", Some(FIN));
    let listed_on = today_shanghai() - Duration::days(50);
    let row = |removed: Option<time::Date>| -> BTreeMap<String, String> {
        let mut r: BTreeMap<String, String> = [
            ("企业名称", "北京失联商贸有限公司"),
            ("统一社会信用代码", SHOP),
            ("列入经营异常名录原因", "通过登记的住所或者经营场所无法联系"),
            ("列入决定书文号", "京朝市监异〔2026〕88号"),
            ("作出决定机关", "北京市朝阳区市场监督管理局"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        r.insert("列入日期".into(), date_string(listed_on));
        if let Some(d) = removed {
            r.insert("移出日期".into(), date_string(d));
            r.insert("移出原因".into(), "住所已恢复联系".into());
        }
        r
    };
    xinyong_app::intake::ingest_rows(&app, "abnormal_operation", SAMR, "test", &[row(None)]).unwrap();
    let a = check(&app, &fin, SHOP, "government_procurement", None);
    assert_eq!(a.verdict, Verdict::Restrict, "{a:?}");
    assert_eq!(a.lists[0].list_type, "abnormal_operation");
    assert!(a.lists[0].source.as_ref().unwrap().documents.contains_key("列入决定书文号"), "{a:?}");
    let removed_on = today_shanghai() - Duration::days(5);
    let out = xinyong_app::intake::ingest_rows(&app, "abnormal_operation", SAMR, "test", &[row(Some(removed_on))]);
    assert_eq!(out.unwrap().corrected, 1);
    assert_eq!(check(&app, &fin, SHOP, "government_procurement", None).verdict, Verdict::Clear);
    let before = check(&app, &fin, SHOP, "government_procurement", Some(removed_on - Duration::days(1)));
    assert_eq!(before.verdict, Verdict::Restrict);
    // one entry, changed in place, not two
    assert_eq!(app.listings_of_subject(&Caller::operator(), SHOP).unwrap().len(), 1);
}

#[test]
fn a_repair_granted_on_the_record_ends_its_entry() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(dir.path()).unwrap();
    app.start_projections().unwrap();
    let fin = account(&app, "fin", "officer", Some(FIN));
    let samr = account(&app, "samr", "officer", Some(SAMR));
    let listed_on = today_shanghai() - Duration::days(50);
    let row: BTreeMap<String, String> = [
        ("企业名称", "北京失联商贸有限公司"),
        ("统一社会信用代码", SHOP),
        ("列入经营异常名录原因", "未按规定公示年度报告"),
        ("列入决定书文号", "京朝市监异〔2026〕89号"),
        ("作出决定机关", "北京市朝阳区市场监督管理局"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .chain([("列入日期".to_string(), date_string(listed_on))])
    .collect();
    xinyong_app::intake::ingest_rows(&app, "abnormal_operation", SAMR, "test", &[row]).unwrap();
    let entry = app.listings_of_subject(&Caller::operator(), SHOP).unwrap().remove(0);
    let req = NewAccountRequest {
        username: "shop".into(),
        role: "subject".into(),
        subject_code: Some(SHOP.into()),
        ..Default::default()
    };
    let shop = Caller::of_account(app.create_account(&Caller::operator(), &req).unwrap().account.unwrap()).unwrap();
    // the entity applies to repair the entry: the application is about the record
    let repair = RepairRequest {
        code: SHOP.into(),
        target: TargetRef { record_id: None, listing_id: Some(entry.id) },
        applicant: None,
        contact: Some("010-12345678".into()),
        statement: "已补报并公示年度报告".into(),
        conditions: vec!["obligations_met".into(), "other_requirements".into()],
        commitment_signed: true,
        evidence: vec![],
    };
    let case = app.file_repair(&shop, &repair, "test").unwrap().case.case;
    let decide = DecideRequest {
        outcome: Outcome::Granted,
        remedy: None,
        reasons: "已补报年度报告，符合移出条件".into(),
        next_possible: None,
        fields: None,
    };
    app.decide_case(&samr, case.id, &decide, "test").unwrap();
    assert_eq!(check(&app, &fin, SHOP, "bidding", None).verdict, Verdict::Clear);
    let yesterday = today_shanghai() - Duration::days(1);
    assert_eq!(check(&app, &fin, SHOP, "bidding", Some(yesterday)).verdict, Verdict::Restrict);
    let ended = app.listing(&Caller::operator(), entry.id).unwrap();
    assert_eq!(ended.removal_kind, Some(xinyong_core::listing::RemovalKind::Repair), "{ended:?}");
}

#[test]
fn a_market_ban_bears_only_on_its_domain() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(dir.path()).unwrap();
    app.start_projections().unwrap();
    let samr = account(&app, "samr", "officer", Some(SAMR));
    let fin = account(&app, "fin", "officer", Some(FIN));
    let today = today_shanghai();
    // the subject must exist: a registration-free record creates it
    let honour: BTreeMap<String, String> = [
        ("主体名称", "北京食品有限公司"),
        ("统一社会信用代码", SHOP),
        ("荣誉名称", "守合同重信用企业"),
        ("荣誉等级", "市级"),
        ("授予日期", "2024-05-06"),
        ("授予机关", SAMR),
        ("表彰决定文号", "京市监〔2024〕1号"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    xinyong_app::intake::ingest_rows(&app, "honour", SAMR, "test", &[honour]).unwrap();
    let ban = |scope: Option<&str>| ListingRequest {
        code: SHOP.into(),
        list_type: "market_ban".into(),
        basis: Some("《中华人民共和国食品安全法》第一百三十五条".into()),
        reason: "生产经营致人死亡的食品".into(),
        notice_date: Some(date_string(today - Duration::days(40))),
        scope: scope.map(str::to_string),
        ..Default::default()
    };
    let e = app.propose_listing(&samr, ban(None), "test").unwrap_err();
    assert!(e.to_string().contains("scope"), "{e}");
    let noticed = app.propose_listing(&samr, ban(Some("food")), "test").unwrap().listing;
    assert_eq!(noticed.scope.as_deref(), Some("food"));
    let doc = xinyong_app::listings::sample_document("market_ban", "《中华人民共和国食品安全法》第一百三十五条");
    let d =
        DecisionRequest { decision_date: date_string(today - Duration::days(20)), document: doc, ..Default::default() };
    app.decide_listing(&samr, noticed.id, d, "test").unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let ask = |domain: Option<&str>| {
        let req = CheckRequest {
            code: SHOP.into(),
            matter: "administrative_licensing".into(),
            department: None,
            purpose: "许可申请".into(),
            as_of: None,
            domain: domain.map(str::to_string),
            proof: false,
        };
        rt.block_on(app.check(&fin, req)).unwrap()
    };
    let food = ask(Some("food"));
    assert_eq!(food.verdict, Verdict::Prohibit, "{food:?}");
    assert_eq!(food.lists[0].scope.as_deref(), Some("food"));
    let unrelated = ask(Some("securities"));
    assert_eq!((unrelated.verdict, unrelated.measures.len()), (Verdict::Clear, 0), "{unrelated:?}");
    assert_eq!(ask(None).verdict, Verdict::Prohibit, "no domain named: the ban counts");
    let req = CheckRequest {
        code: SHOP.into(),
        matter: "administrative_licensing".into(),
        department: None,
        purpose: "许可申请".into(),
        as_of: None,
        domain: Some("space".into()),
        proof: false,
    };
    assert!(rt.block_on(app.check(&fin, req)).unwrap_err().to_string().contains("unknown domain"));
}
