//! Credit commitments end to end on a real SQLite store: an entity signs and the
//! department records fulfilment; a commitment's due date passes across National Day on
//! the working-day calendar and the clock breaks it, which becomes a `commitment_breach`
//! record citing the commitment number, on the subject page and in the ledger; an
//! entity on the serious dishonesty list is refused with the reason and basis; an
//! imported commitment joins the same life cycle; running the clock again, or after a
//! restart, adds nothing; a breach row intake refused waits for its correction.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use common::account;
use time::macros::date;
use xinyong_app::checks::CheckRequest;
use xinyong_app::commitments::{SignRequest, StepRequest};
use xinyong_app::listings::{DecisionRequest, ListingRequest};
use xinyong_app::quality::QualityQuery;
use xinyong_app::quarantine::QuarantineQuery;
use xinyong_app::{App, Caller, today_shanghai};
use xinyong_core::SubjectCode;
use xinyong_core::commitment::{Channel, EndedBy, State};
use xinyong_core::record::date_string;

const ME: &str = "91110108551385082Q";
const OTHER: &str = "91110000802100433B";
const SAMR: &str = "北京市市场监督管理局";
const ZJW: &str = "北京市住房和城乡建设委员会";
const NDRC: &str = "北京市发展和改革委员会";

struct World {
    dir: tempfile::TempDir,
    app: App,
    samr: Caller,
    zjw: Caller,
    me: Caller,
    admin: Caller,
}

fn row(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn honour(code: &str, name: &str, doc: &str) -> BTreeMap<String, String> {
    row(&[
        ("主体名称", name),
        ("统一社会信用代码", code),
        ("荣誉名称", "守合同重信用企业"),
        ("荣誉等级", "市级"),
        ("授予日期", "2025-05-06"),
        ("授予机关", SAMR),
        ("表彰决定文号", doc),
    ])
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(dir.path()).unwrap();
    app.start_projections().unwrap();
    // the subjects are known to the platform (their names come from the store)
    let rows = [
        honour(ME, "北京测试科技有限公司", "京市监发〔2025〕1号"),
        honour(OTHER, "北京另一公司", "京市监发〔2025〕2号"),
    ];
    let out = xinyong_app::intake::ingest_rows(&app, "honour", SAMR, "test", &rows).unwrap();
    assert_eq!(out.accepted, 2, "{out:?}");
    World {
        samr: account(&app, "samr", "officer", Some(SAMR), None),
        zjw: account(&app, "zjw", "officer", Some(ZJW), None),
        me: account(&app, "me", "subject", None, Some(ME)),
        admin: account(&app, "admin", "admin", None, None),
        app,
        dir,
    }
}

fn code(c: &str) -> SubjectCode {
    SubjectCode::parse(c).unwrap()
}

fn sign(matter: &str, subject: &str) -> SignRequest {
    SignRequest { matter: matter.into(), code: subject.into(), ..SignRequest::default() }
}

fn step(on: Option<time::Date>, text: &str) -> StepRequest {
    StepRequest { on: on.map(date_string), text: text.into(), propose_list: None }
}

/// The ledger event at `index`, as its proof carries it.
fn event(app: &App, index: u64) -> serde_json::Value {
    xinyong_app::ledger::proof(app, index).unwrap().event.unwrap()
}

/// The public records of `item` on a subject's page today.
fn public_records(app: &App, c: &str, item: &str) -> Vec<xinyong_app::view::RecordView> {
    let v = app.subject(&Caller::public(), &code(c), today_shanghai(), None).unwrap().unwrap();
    v.records.into_iter().filter(|r| r.item == item).collect()
}

fn field<'a>(r: &'a xinyong_app::view::RecordView, name: &str) -> &'a str {
    r.fields.iter().find(|f| f.name == name).map_or("", |f| f.value.as_str())
}

#[test]
fn an_entity_signs_online_and_the_department_records_fulfilment() {
    let w = world();
    w.app.set_clock_day(Some(date!(2026 - 09 - 28)));
    let c = w.app.sign_commitment(&w.me, &sign("M-SAMR-0002", ME)).unwrap();
    assert_eq!((c.channel, c.state), (Channel::Online, State::Pending));
    assert_eq!(c.signed_on, "2026-09-28");
    assert_eq!(c.due.as_deref(), Some("2026-10-10"), "5 working days across National Day");
    assert!(c.number.starts_with("M-SAMR-0002-20260928-"), "{}", c.number);
    assert_eq!(c.department, SAMR);

    // the record is public, with the text signed; its state is the life cycle's
    let records = public_records(&w.app, ME, "credit_commitment");
    let r = records.iter().find(|r| r.id == c.record_id).expect("the commitment's record on the page");
    assert_eq!(r.provider, SAMR);
    assert!(field(r, "承诺内容").contains("北京测试科技有限公司（统一社会信用代码：91110108551385082Q）"));
    assert!(field(r, "承诺内容").contains("一、于履约期限前补齐容缺的申请材料"));
    assert_eq!((field(r, "履约期限"), field(r, "事项编码"), field(r, "履约状态")), ("2026-10-10", "M-SAMR-0002", ""));
    assert_eq!(r.commitment.as_ref().unwrap().number, c.number);
    let signed = event(&w.app, c.first_event);
    assert_eq!(signed["kind"], "commitment.signed");
    assert_eq!(signed["key"], c.record_id.to_string());
    assert_eq!(signed["fields"]["due"], "2026-10-10");
    assert_eq!(signed["fields"]["channel"], "online");

    // only the accepting department records the step; the entity may not sign for others
    let e = w.app.fulfil_commitment(&w.zjw, c.record_id, &step(None, "补交"), "test").unwrap_err();
    assert_eq!(e.code(), "forbidden");
    let e = w.app.fulfil_commitment(&w.me, c.record_id, &step(None, "补交"), "test").unwrap_err();
    assert_eq!(e.code(), "forbidden");
    let e = w.app.sign_commitment(&w.me, &sign("M-SAMR-0002", OTHER)).unwrap_err();
    assert_eq!(e.code(), "forbidden");

    w.app.set_clock_day(Some(date!(2026 - 10 - 09)));
    let kept = w
        .app
        .fulfil_commitment(&w.samr, c.record_id, &step(None, "已补交经营场所租赁合同及产权证明复印件"), "test")
        .unwrap();
    assert_eq!(
        (kept.state, kept.ended_by, kept.ended_on.as_deref()),
        (State::Fulfilled, Some(EndedBy::Department), Some("2026-10-09"))
    );
    assert_eq!(event(&w.app, kept.last_event)["kind"], "commitment.fulfilled");
    let e = w.app.breach_commitment(&w.samr, c.record_id, &step(None, "材料虚假"), "test").unwrap_err();
    assert_eq!(e.code(), "commitment.ended", "{e}");

    // the clock finds nothing to do past the due date
    w.app.set_clock_day(Some(date!(2026 - 10 - 20)));
    let run = w.app.follow_commitments(true).unwrap();
    assert_eq!(run.overdue, 0);
    assert!(public_records(&w.app, ME, "commitment_breach").is_empty());
    let mine = w.app.commitments_of(&Caller::public(), &code(ME), today_shanghai(), None).unwrap();
    assert_eq!(mine.commitments.len(), 1);
    assert_eq!((mine.summary.fulfilled, mine.summary.fulfilment_permille), (1, Some(1000)));
}

#[test]
fn the_clock_breaks_an_overdue_commitment_after_the_holiday_into_a_breach_record() {
    let w = world();
    // a paper commitment recorded by the department after the fact
    w.app.set_clock_day(Some(date!(2026 - 09 - 28)));
    let paper = SignRequest {
        signed_on: Some("2026-09-28".into()),
        number: Some("京市监容缺〔2026〕0928号".into()),
        ..sign("M-SAMR-0002", ME)
    };
    let c = w.app.sign_commitment(&w.samr, &paper).unwrap();
    assert_eq!((c.channel, c.number.as_str()), (Channel::Paper, "京市监容缺〔2026〕0928号"));
    // counted on calendar days the due date would be 10-05; on working days it is 10-10
    assert_eq!(c.due.as_deref(), Some("2026-10-10"));
    let again = w.app.sign_commitment(&w.samr, &paper).unwrap_err();
    assert_eq!(again.code(), "conflict", "one paper, one commitment");

    for day in [date!(2026 - 10 - 05), date!(2026 - 10 - 09), date!(2026 - 10 - 10)] {
        w.app.set_clock_day(Some(day));
        let run = w.app.follow_commitments(true).unwrap();
        assert_eq!(run.overdue, 0, "still in time on {day}");
    }
    w.app.set_clock_day(Some(date!(2026 - 10 - 11)));
    let run = w.app.follow_commitments(true).unwrap();
    assert_eq!((run.overdue, run.breach_records), (1, 1), "{run:?}");

    let mine = w.app.commitments_of(&Caller::public(), &code(ME), today_shanghai(), None).unwrap();
    let broken = &mine.commitments[0];
    assert_eq!(
        (broken.state, broken.ended_by, broken.ended_on.as_deref()),
        (State::Breached, Some(EndedBy::Clock), Some("2026-10-11"))
    );
    let ev = event(&w.app, broken.last_event);
    assert_eq!((ev["kind"].as_str(), ev["fields"]["by"].as_str()), (Some("commitment.breached"), Some("clock")));

    // the breach is a negative record of the department, citing the commitment number
    let breaches = public_records(&w.app, ME, "commitment_breach");
    assert_eq!(breaches.len(), 1);
    let b = &breaches[0];
    assert_eq!(Some(b.id), broken.breach_record);
    assert_eq!((b.provider.as_str(), field(b, "承诺书编号")), (SAMR, "京市监容缺〔2026〕0928号"));
    assert_eq!((field(b, "认定方式"), field(b, "认定日期")), ("逾期未履约自动认定", "2026-10-11"));
    assert_eq!(b.publicity.public_until.map(date_string).as_deref(), Some("2027-10-10"));
    let created = event(&w.app, b.ledger_index);
    assert_eq!(
        (created["kind"].as_str(), created["item"].as_str()),
        (Some("record.created"), Some("commitment_breach"))
    );
    assert_eq!(created["source"], "commitment-clock");
    // the entity and the department are told, once
    let me = w.app.inbox(&w.me, 50).unwrap();
    let told: Vec<_> = me.iter().filter(|n| n.topic == "commitment_breached").collect();
    assert_eq!(told.len(), 1, "{me:?}");
    assert!(told[0].text_zh.contains("京市监容缺〔2026〕0928号") && told[0].text_zh.contains("信用修复"), "{told:?}");
    assert!(w.app.inbox(&w.samr, 50).unwrap().iter().any(|n| n.topic == "commitment_breached"));

    // too late to record fulfilment now
    let e =
        w.app.fulfil_commitment(&w.samr, c.record_id, &step(Some(date!(2026 - 10 - 10)), "补交"), "test").unwrap_err();
    assert_eq!(e.code(), "commitment.ended");

    // again, and after a restart: nothing doubles
    let size = w.app.counts().unwrap().events;
    let run = w.app.follow_commitments(true).unwrap();
    assert_eq!((run.overdue, run.breach_records, run.taken_on), (0, 0, 0));
    drop(w.app);
    let app = App::open(w.dir.path()).unwrap();
    app.start_projections().unwrap();
    app.set_clock_day(Some(date!(2026 - 12 - 01)));
    let run = app.follow_commitments(true).unwrap();
    assert_eq!((run.overdue, run.breach_records, run.taken_on), (0, 0, 0));
    assert_eq!(app.counts().unwrap().events, size, "a restart repeats nothing");
    let me = Caller::of_account(
        app.accounts(&Caller::operator()).unwrap().into_iter().find(|a| a.username == "me").unwrap(),
    )
    .unwrap();
    let told = app.inbox(&me, 50).unwrap().into_iter().filter(|n| n.topic == "commitment_breached").count();
    assert_eq!(told, 1, "told once, not again after the restart");
    assert_eq!(public_records(&app, ME, "commitment_breach").len(), 1);
    assert!(app.verify_ledger().unwrap().ok);

    // a breach still published excludes the subject from another 告知承诺
    app.set_clock_day(None);
    let samr = Caller::of_account(
        app.accounts(&Caller::operator()).unwrap().into_iter().find(|a| a.username == "samr").unwrap(),
    )
    .unwrap();
    let e = app.sign_commitment(&samr, &sign("M-SAMR-0001", ME)).unwrap_err();
    assert_eq!(e.code(), "commitment_excluded");
    assert!(e.to_string().contains("违背信用承诺") && e.to_string().contains("国办发〔2020〕42号"), "{e}");
}

#[test]
fn a_seriously_dishonest_entity_is_refused_with_the_reason_and_basis() {
    let w = world();
    let today = today_shanghai();
    let notice = ListingRequest {
        code: ME.into(),
        list_type: "serious_dishonesty".into(),
        department: Some(NDRC.into()),
        basis: Some(
            "《国务院办公厅关于进一步完善失信约束制度构建诚信建设长效机制的指导意见》（国办发〔2020〕49号）".into(),
        ),
        reason: "拒不履行法定义务，严重影响市场秩序".into(),
        notice_date: Some(date_string(today - time::Duration::days(40))),
        ..ListingRequest::default()
    };
    let listed = w.app.propose_listing(&w.admin, notice, "test").unwrap();
    let decision = DecisionRequest {
        decision_date: date_string(today - time::Duration::days(20)),
        document: [
            ("reason", "拒不履行法定义务"),
            ("basis", "国办发〔2020〕49号"),
            ("measures_notice", "依法依规实施联合惩戒"),
            ("removal", "期满自动移出，或经信用修复提前移出"),
            ("remedy", "可依法申请行政复议或者提起行政诉讼"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        start: None,
        end: None,
    };
    w.app.decide_listing(&w.admin, listed.listing.id, decision, "test").unwrap();

    let e = w.app.sign_commitment(&w.me, &sign("M-SAMR-0002", ME)).unwrap_err();
    assert_eq!(e.code(), "commitment_excluded");
    let text = e.to_string();
    assert!(text.contains("严重失信主体名单") && text.contains("不适用") && text.contains("容缺受理"), "{text}");
    assert!(text.contains("国办发〔2019〕35号") && text.contains("Seriously dishonest"), "{text}");
    // a paper signature is refused alike; a voluntary commitment is open to everyone
    let e = w.app.sign_commitment(&w.samr, &sign("M-SAMR-0001", ME)).unwrap_err();
    assert_eq!(e.code(), "commitment_excluded");
    let voluntary = w.app.sign_commitment(&w.me, &sign("M-FGW-0001", ME)).unwrap();
    assert_eq!((voluntary.due, voluntary.state), (None, State::Pending));

    // a department checking the matter before accepting learns the same, with the basis
    let check = |subject: &str| {
        let req = CheckRequest {
            code: subject.into(),
            matter: "M-SAMR-0002".into(),
            department: None,
            purpose: "食品经营许可容缺受理 2026-0928".into(),
            as_of: None,
            domain: None,
            proof: false,
        };
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(w.app.check(&w.samr, req)).unwrap()
    };
    let listed = check(ME);
    let used = listed.commitment.as_ref().unwrap();
    assert!(!used.may_use);
    assert_eq!(used.excluded_by_lists, ["serious_dishonesty"]);
    assert!(used.reason.as_deref().unwrap().contains("严重失信主体名单") && used.basis.contains("国办发〔2019〕35号"));
    assert!(listed.measures.iter().any(|m| m.name.contains("不适用告知承诺制")), "{:?}", listed.measures);
    let clean = check(OTHER);
    assert!(clean.commitment.as_ref().unwrap().may_use && clean.commitment.as_ref().unwrap().reason.is_none());
    assert!(public_records(&w.app, ME, "credit_commitment").len() == 1, "nothing recorded for the refused ones");
}

#[test]
fn an_imported_commitment_joins_the_life_cycle() {
    let w = world();
    w.app.set_clock_day(Some(date!(2026 - 10 - 20)));
    let base = |number: &str, status: &str, due: &str| {
        let mut r = row(&[
            ("承诺主体名称", "北京测试科技有限公司"),
            ("统一社会信用代码", ME),
            ("承诺类型", "容缺受理型"),
            ("承诺事项", "申请建筑工程施工许可容缺受理，承诺于五个工作日内补齐申请材料"),
            ("承诺书编号", number),
            ("承诺日期", "2026-09-28"),
            ("承诺受理单位", ZJW),
            ("履约状态", status),
        ]);
        if !due.is_empty() {
            r.insert("履约期限".into(), due.into());
        }
        r
    };
    let rows = [
        base("XYCN-ZJW-1", "履约中", "2026-10-16"),
        base("XYCN-ZJW-2", "已履约", "2026-10-09"),
        base("XYCN-ZJW-3", "未履约", ""),
        base("XYCN-ZJW-4", "履约中", ""),
    ];
    let out = xinyong_app::intake::ingest_rows(&w.app, "credit_commitment", ZJW, "zjw.csv", &rows).unwrap();
    assert_eq!(out.accepted, 4, "{out:?}");
    w.app.follow_commitments(true).unwrap();
    let all = w.app.commitments_of(&Caller::public(), &code(ME), today_shanghai(), None).unwrap();
    let by = |n: &str| all.commitments.iter().find(|c| c.number == n).unwrap().clone();
    // 履约期限 gives the due date: past it on the clock's day, the clock broke it
    let one = by("XYCN-ZJW-1");
    assert_eq!(
        (one.channel, one.state, one.ended_by, one.ended_on.as_deref()),
        (Channel::Import, State::Breached, Some(EndedBy::Clock), Some("2026-10-17"))
    );
    // 已履约 is the department's fulfilment, by the due date
    let two = by("XYCN-ZJW-2");
    assert_eq!(
        (two.state, two.ended_by, two.ended_on.as_deref()),
        (State::Fulfilled, Some(EndedBy::Import), Some("2026-10-09"))
    );
    // 未履约 without dates: broken the day the platform received it
    let three = by("XYCN-ZJW-3");
    assert_eq!((three.state, three.ended_by), (State::Breached, Some(EndedBy::Import)));
    // no due date: open, no clock
    assert_eq!(by("XYCN-ZJW-4").state, State::Pending);
    assert_eq!((all.summary.total, all.summary.fulfilled, all.summary.breached, all.summary.pending), (4, 1, 2, 1));
    assert_eq!(all.summary.fulfilment_permille, Some(333));
    let breaches = public_records(&w.app, ME, "commitment_breach");
    let numbers: Vec<&str> = breaches.iter().map(|b| field(b, "承诺书编号")).collect();
    assert_eq!(breaches.len(), 2, "{numbers:?}");
    assert!(breaches.iter().all(|b| b.provider == ZJW));
    assert!(breaches.iter().any(|b| field(b, "认定方式") == "部门报送"));

    // the department's corrected file says the open one was kept: the same life cycle
    let kept = [base("XYCN-ZJW-4", "已履约", "")];
    let out = xinyong_app::intake::ingest_rows(&w.app, "credit_commitment", ZJW, "zjw-2.csv", &kept).unwrap();
    assert_eq!(out.corrected, 1, "{out:?}");
    w.app.follow_commitments(true).unwrap();
    let all = w.app.commitments_of(&Caller::public(), &code(ME), today_shanghai(), None).unwrap();
    assert_eq!(all.commitments.iter().find(|c| c.number == "XYCN-ZJW-4").unwrap().state, State::Fulfilled);
    // and importing the first file again changes nothing
    let size = w.app.counts().unwrap().events;
    xinyong_app::intake::ingest_rows(&w.app, "credit_commitment", ZJW, "zjw.csv", &rows[..3]).unwrap();
    w.app.follow_commitments(true).unwrap();
    assert_eq!(w.app.counts().unwrap().events, size);

    // a breach the department dates ahead becomes a record on its day, not before
    let mut ahead = base("XYCN-ZJW-5", "未履约", "");
    ahead.insert("履约日期".into(), "2026-10-25".into());
    xinyong_app::intake::ingest_rows(&w.app, "credit_commitment", ZJW, "zjw-3.csv", &[ahead]).unwrap();
    let run = w.app.follow_commitments(true).unwrap();
    assert_eq!((run.taken_on, run.breach_records), (0, 0), "taken on by the write's own catch-up: {run:?}");
    assert_eq!(public_records(&w.app, ME, "commitment_breach").len(), 2);
    w.app.set_clock_day(Some(date!(2026 - 10 - 25)));
    let run = w.app.follow_commitments(true).unwrap();
    assert_eq!(run.breach_records, 1, "{run:?}");
    let breaches = public_records(&w.app, ME, "commitment_breach");
    assert!(breaches.iter().any(|b| field(b, "承诺书编号") == "XYCN-ZJW-5" && field(b, "认定日期") == "2026-10-25"));
}

fn registration(category: &str, title: &str) -> xinyong_app::registrations::RegistrationRequest {
    xinyong_app::registrations::RegistrationRequest {
        code: ME.into(),
        category: category.into(),
        title: title.into(),
        content: "经认定为高新技术企业，证书编号 GR202511000123".into(),
        issuer: "北京市科学技术委员会".into(),
        obtained_on: "2025-10-01".into(),
        valid_until: Some("2028-09-30".into()),
        evidence: Some("高新技术企业证书（可在全国高新技术企业认定管理工作网查询）".into()),
        ..Default::default()
    }
}

#[test]
fn a_registration_is_self_declared_until_verified_and_one_found_false_is_revoked_and_breached() {
    use xinyong_core::commitment::Declared;
    let w = world();
    let ndrc = account(&w.app, "ndrc", "officer", Some(NDRC), None);
    let count = |app: &App| app.commitments_of(&w.admin, &code(ME), today_shanghai(), None).unwrap().commitments.len();

    // the truthfulness commitment is signed with the information, never alone
    let e = w.app.sign_commitment(&w.me, &sign("M-FGW-0003", ME)).unwrap_err();
    assert_eq!(e.code(), "registration_only", "{e}");
    // a bad row is refused before anything is signed, naming the field
    let e = w.app.register_information(&w.me, &registration("传闻", "高新技术企业"), "test").unwrap_err();
    assert_eq!(e.code(), "registration_invalid");
    assert!(e.to_string().contains("信息类别"), "{e}");
    assert_eq!(count(&w.app), 0, "no commitment for a refused registration");
    // another entity's information is not one's own to register
    let theirs =
        xinyong_app::registrations::RegistrationRequest { code: OTHER.into(), ..registration("资质证照", "x") };
    assert_eq!(w.app.register_information(&w.me, &theirs, "test").unwrap_err().code(), "forbidden");

    let r = w.app.register_information(&w.me, &registration("资质证照", "高新技术企业证书"), "test").unwrap();
    assert_eq!(r.declaration.state, Declared::SelfDeclared);
    assert_eq!((r.commitment.matter.as_deref(), r.commitment.channel), (Some("M-FGW-0003"), Channel::Online));
    assert_eq!(r.commitment.due, None, "no clock: it stays open until verified");
    let shown = public_records(&w.app, ME, "voluntary_registration");
    assert_eq!(shown.len(), 1);
    let d = shown[0].declaration.as_ref().expect("the page marks it");
    assert_eq!((d.state, d.state_zh.as_str()), (Declared::SelfDeclared, "自主声明（待核实）"));
    assert_eq!((field(&shown[0], "登记编号"), d.commitment_record), (r.number.as_str(), r.commitment.record_id));
    assert_eq!(event(&w.app, shown[0].ledger_index)["source"], "self-declared:me");

    // only the accepting department verifies
    let e = w.app.verify_registration(&w.samr, r.record_id, &step(None, "已核实"), "test").unwrap_err();
    assert_eq!(e.code(), "forbidden", "{e}");
    let v = w.app.verify_registration(&ndrc, r.record_id, &step(None, "经市科委系统核验证书真实有效"), "test").unwrap();
    assert_eq!(v.declaration.state, Declared::Verified);
    assert_eq!(v.declaration.note.as_deref(), Some("经市科委系统核验证书真实有效"));
    let shown = public_records(&w.app, ME, "voluntary_registration");
    assert_eq!(shown[0].declaration.as_ref().map(|d| d.state), Some(Declared::Verified));
    let q = xinyong_app::item_records::ItemQuery {
        item: "voluntary_registration".into(),
        field: None,
        value: None,
        after: 0,
        limit: 10,
    };
    let listed = w.app.item_records(&q).unwrap();
    assert_eq!(listed.records[0].record.declaration.as_ref().map(|d| d.state), Some(Declared::Verified));

    // a second one, found false: revoked, and the broken promise is a breach record
    let f = w.app.register_information(&w.me, &registration("荣誉表彰", "全国五一劳动奖状"), "test").unwrap();
    let out = w.app.refute_registration(&ndrc, f.record_id, &step(None, "授予机关无此表彰记录"), "test").unwrap();
    assert_eq!(out.declaration.state, Declared::False);
    let shown = public_records(&w.app, ME, "voluntary_registration");
    assert_eq!(shown.iter().map(|r| r.id).collect::<Vec<_>>(), vec![r.record_id], "the false one is gone");
    let breaches = public_records(&w.app, ME, "commitment_breach");
    assert_eq!(breaches.len(), 1);
    assert_eq!((breaches[0].provider.as_str(), field(&breaches[0], "承诺书编号")), (NDRC, f.number.as_str()));
    assert_eq!(field(&breaches[0], "违诺情形"), "授予机关无此表彰记录");
    // nothing more is recorded on it
    let e = w.app.verify_registration(&ndrc, f.record_id, &step(None, "x"), "test").unwrap_err();
    assert!(matches!(e.code(), "commitment.ended" | "commitment_revoked"), "{e}");
    assert!(w.app.verify_ledger().unwrap().ok);
}

#[test]
fn a_serious_breach_starts_a_listing_procedure_with_prior_notice() {
    let w = world();
    let c = w.app.sign_commitment(&w.me, &sign("M-SAMR-0002", ME)).unwrap();
    // a fulfilment starts no listing; a list that follows from records cannot be proposed
    let with_list = |list: &str, text: &str| StepRequest { propose_list: Some(list.into()), ..step(None, text) };
    let e = w.app.fulfil_commitment(&w.samr, c.record_id, &with_list("key_attention", "补交"), "test").unwrap_err();
    assert_eq!(e.code(), "listing_on_fulfilment");
    let e = w.app.breach_commitment(&w.samr, c.record_id, &with_list("abnormal_operation", "x"), "test").unwrap_err();
    assert_eq!(e.code(), "list_not_proposable");
    let still = w.app.commitments_of(&w.admin, &code(ME), today_shanghai(), None).unwrap();
    assert_eq!(still.commitments[0].state, State::Pending, "refused before the breach was written");

    let out = w
        .app
        .breach_commitment(&w.samr, c.record_id, &with_list("key_attention", "补交的场所证明系伪造"), "test")
        .unwrap();
    assert_eq!(out.state, State::Breached);
    let id = out.listing_proposed.expect("a listing procedure started");
    let listings = w.app.listings_of_subject(&w.admin, ME).unwrap();
    let l = listings.iter().find(|l| l.id == id).expect("the listing");
    assert_eq!(l.list_type, "key_attention");
    assert_eq!(l.status, xinyong_core::listing::ListingStatus::Noticed, "prior notice, not a decision");
    assert!(l.reason.contains(&c.number) && l.reason.contains("伪造"), "{}", l.reason);
    assert_eq!(public_records(&w.app, ME, "commitment_breach").len(), 1, "and the breach record");
}

#[test]
fn a_department_sees_its_own_queue() {
    let w = world();
    let food = w.app.sign_commitment(&w.me, &sign("M-SAMR-0002", ME)).unwrap();
    let build = w.app.sign_commitment(&w.me, &sign("M-ZJW-0001", ME)).unwrap();
    let ids = |q: &xinyong_app::commitments::DepartmentCommitments| -> Vec<i64> {
        q.commitments.iter().map(|c| c.record_id).collect()
    };
    let q = w.app.department_commitments(&w.samr, None, Some("pending"), 0, 100).unwrap();
    assert_eq!((q.department.as_str(), ids(&q)), (SAMR, vec![food.record_id]));
    let q = w.app.department_commitments(&w.zjw, None, None, 0, 100).unwrap();
    assert_eq!(ids(&q), vec![build.record_id]);
    // the centre names the department; an officer cannot read another's
    let q = w.app.department_commitments(&w.admin, Some(ZJW), None, 0, 100).unwrap();
    assert_eq!(ids(&q), vec![build.record_id]);
    assert_eq!(w.app.department_commitments(&w.samr, Some(ZJW), None, 0, 100).unwrap_err().code(), "forbidden");
    assert_eq!(w.app.department_commitments(&w.me, None, None, 0, 100).unwrap_err().code(), "forbidden");
    let e = w.app.department_commitments(&w.samr, None, Some("kept"), 0, 100).unwrap_err();
    assert_eq!(e.code(), "state");
    // kept: off the open queue, on the fulfilled one
    w.app.fulfil_commitment(&w.samr, food.record_id, &step(None, "已补交"), "test").unwrap();
    assert!(ids(&w.app.department_commitments(&w.samr, None, Some("pending"), 0, 100).unwrap()).is_empty());
    let q = w.app.department_commitments(&w.samr, None, Some("fulfilled"), 0, 100).unwrap();
    assert_eq!(ids(&q), vec![food.record_id]);
    // the page of one commitment: the text signed, and the department may not record again
    let d = w.app.commitment_detail(&w.samr, food.record_id).unwrap();
    assert!(!d.may_record);
    assert!(d.record.fields.iter().any(|f| f.name == "承诺内容" && f.value.contains("北京测试科技有限公司")));
    let d = w.app.commitment_detail(&w.zjw, build.record_id).unwrap();
    assert!(d.may_record && d.matter.map(|m| m.code) == Some("M-ZJW-0001".into()));
    assert!(!w.app.commitment_detail(&Caller::public(), build.record_id).unwrap().may_record);
}

#[test]
fn a_refused_breach_record_waits_for_its_correction_across_restarts() {
    let w = world();
    let c = w.app.sign_commitment(&w.me, &sign("M-SAMR-0002", ME)).unwrap();
    // 违诺情形 holds at most 2 000 characters: intake refuses the breach row this makes
    let out = w.app.breach_commitment(&w.samr, c.record_id, &step(None, &"伪".repeat(2001)), "test").unwrap();
    assert_eq!(out.state, State::Breached);
    assert!(public_records(&w.app, ME, "commitment_breach").is_empty());
    let q = QuarantineQuery { item: Some("commitment_breach".into()), ..QuarantineQuery::default() };
    let entries = w.app.quarantine(&w.admin, &q).unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    // every offer of the row to intake is a batch of the department's
    let centre = w.admin.clone();
    let offers = |app: &App| {
        let report = app.quality(&centre, &QualityQuery::default()).unwrap();
        report.batches.iter().filter(|b| b.item == "commitment_breach").count()
    };
    let offered = offers(&w.app);
    assert!(offered >= 1);
    assert_eq!(w.app.follow_commitments(true).unwrap().breach_records, 0);

    // a restart (and another process) does not offer it again while the entry is open
    let dir = w.dir.path().to_path_buf();
    let World { app, dir: _keep, samr, admin, .. } = w;
    drop(app);
    let app = App::open(&dir).unwrap();
    app.start_projections().unwrap();
    assert_eq!(app.follow_commitments(true).unwrap().breach_records, 0);
    assert_eq!(App::open(&dir).unwrap().follow_commitments(true).unwrap().breach_records, 0);
    assert_eq!(offers(&app), offered, "offered again after a restart");

    // the department corrects the row in the quarantine: the record is linked
    let set: BTreeMap<String, String> = [("违诺情形".to_string(), "补交的场所证明系伪造".to_string())].into();
    let fixed = app.resubmit(&samr, entries[0].id, &set).unwrap();
    let xinyong_app::quarantine::Outcome::Accepted { record_id, .. } = fixed.outcome else {
        panic!("{:?}", fixed.outcome)
    };
    app.follow_commitments(true).unwrap();
    let mine = app.commitments_of(&admin, &code(ME), today_shanghai(), None).unwrap();
    assert_eq!(mine.commitments[0].breach_record, Some(record_id));
    assert_eq!(public_records(&app, ME, "commitment_breach").len(), 1);
}
