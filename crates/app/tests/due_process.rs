//! Due process end to end through the app's use cases, on a real store: objections,
//! corrections, revocations, repairs of records and listings, the clocks, and what the
//! public, other entities and departments see afterwards.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use time::Duration;
use xinyong_app::accounts::NewAccountRequest;
use xinyong_app::cases::{AmendRequest, DecideRequest, EvidenceCite, ObjectionRequest, RepairRequest, TargetRef};
use xinyong_app::checks::CheckRequest;
use xinyong_app::listings::{DecisionRequest, ListingRequest};
use xinyong_app::{App, AppError, Caller, today_shanghai};
use xinyong_core::SubjectCode;
use xinyong_core::case::{CaseState, Outcome, Remedy};
use xinyong_core::record::date_string;

const ME: &str = "91110108551385082Q";
const OTHER: &str = "91110000802100433B";
const ENV: &str = "北京市生态环境局";
const TAX: &str = "北京市税务局";

struct World {
    _dir: tempfile::TempDir,
    app: App,
    env: Caller,
    tax: Caller,
    me: Caller,
    other: Caller,
    admin: Caller,
}

fn account(app: &App, name: &str, role: &str, provider: Option<&str>, subject: Option<&str>) -> Caller {
    let req = NewAccountRequest {
        username: name.into(),
        role: role.into(),
        provider: provider.map(str::to_string),
        subject_code: subject.map(str::to_string),
        ..Default::default()
    };
    let created = app.create_account(&Caller::operator(), &req).unwrap();
    Caller::of_account(created.account.unwrap()).unwrap()
}

fn penalty(code: &str, name: &str, doc: &str, decided: time::Date, facts: &str) -> BTreeMap<String, String> {
    let valid_until = date_string(decided + Duration::days(3 * 365));
    [
        ("行政相对人名称", name),
        ("行政相对人类别", "法人及非法人组织"),
        ("统一社会信用代码", code),
        ("行政处罚决定书文号", doc),
        ("违法行为类型", "超标排放"),
        ("违法事实", facts),
        ("处罚依据", "《中华人民共和国大气污染防治法》第九十九条"),
        ("处罚类别", "罚款"),
        ("罚款金额(万元)", "5"),
        ("处罚内容", "罚款五万元"),
        ("处罚决定日期", &date_string(decided)),
        ("处罚机关", ENV),
        ("处罚有效期", &valid_until),
        ("处罚机关统一社会信用代码", "11110105MB4860841R"),
        ("数据来源单位", ENV),
        ("数据来源单位统一社会信用代码", "11110105MB4860841R"),
        ("处罚程序", "普通程序"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(dir.path()).unwrap();
    app.start_projections().unwrap();
    let today = today_shanghai();
    let rows = vec![
        penalty(ME, "北京测试科技有限公司", "京环罚〔2026〕1号", today - Duration::days(200), "夜间超标排放"),
        penalty(ME, "北京测试科技有限公司", "京环罚〔2026〕2号", today - Duration::days(150), "未按规定监测"),
        penalty(ME, "北京测试科技有限公司", "京环罚〔2026〕3号", today - Duration::days(10), "擅自拆除设施"),
        penalty(OTHER, "北京另一公司", "京环罚〔2026〕9号", today - Duration::days(100), "超标排放"),
    ];
    let out = xinyong_app::intake::ingest_rows(&app, "admin_penalty", ENV, "test", &rows).unwrap();
    assert_eq!(out.accepted, 4, "{out:?}");
    World {
        env: account(&app, "env", "officer", Some(ENV), None),
        tax: account(&app, "tax", "officer", Some(TAX), None),
        me: account(&app, "me", "subject", None, Some(ME)),
        other: account(&app, "other", "subject", None, Some(OTHER)),
        admin: account(&app, "admin", "admin", None, None),
        app,
        _dir: dir,
    }
}

fn code(c: &str) -> SubjectCode {
    SubjectCode::parse(c).unwrap()
}

fn record_id(w: &World, doc: &str) -> i64 {
    let v = w.app.subject(&w.admin, &code(ME), today_shanghai(), Some("test".into())).unwrap().unwrap();
    v.records.iter().find(|r| r.key.contains(doc)).unwrap_or_else(|| panic!("{doc} not found")).id
}

fn public_docs(w: &World, who: &Caller, c: &str) -> Vec<String> {
    let v = w.app.subject(who, &code(c), today_shanghai(), None).unwrap().unwrap();
    v.records.iter().map(|r| r.key.clone()).collect()
}

fn objection(code: &str, target: TargetRef, reasons: &str) -> ObjectionRequest {
    ObjectionRequest {
        code: code.into(),
        target,
        applicant: None,
        contact: None,
        reasons: reasons.into(),
        evidence: vec![],
    }
}

fn repair(code: &str, target: TargetRef, statement: &str) -> RepairRequest {
    RepairRequest {
        code: code.into(),
        target,
        applicant: None,
        contact: None,
        statement: statement.into(),
        conditions: vec!["obligations_met".into(), "other_requirements".into()],
        commitment_signed: true,
        evidence: vec![],
    }
}

fn decide(outcome: Outcome, remedy: Option<Remedy>, reasons: &str) -> DecideRequest {
    DecideRequest { outcome, remedy, reasons: reasons.into(), next_possible: None, fields: None }
}

#[test]
fn an_objection_marks_the_record_and_an_upheld_one_corrects_it() {
    let w = world();
    let id = record_id(&w, "京环罚〔2026〕2号");
    let req = objection(ME, TargetRef { record_id: Some(id), listing_id: None }, "违法事实有误：已按规定监测");
    let receipt = w.app.file_objection(&w.me, &req, "test").unwrap();
    let case = &receipt.case.case;
    assert_eq!(case.state, CaseState::Open);
    assert_eq!(case.department, ENV);
    assert_eq!(case.applicant, "北京测试科技有限公司");
    assert!(case.due > today_shanghai() && !receipt.case.overdue);

    // 异议处理中 on the public view from the moment it is accepted
    let v = w.app.subject(&Caller::public(), &code(ME), today_shanghai(), None).unwrap().unwrap();
    let r = v.records.iter().find(|r| r.id == id).unwrap();
    assert!(r.disputed);
    assert!(v.records.iter().filter(|r| r.id != id).all(|r| !r.disputed));

    // anyone follows it with the query code, not with a wrong one; the contact stays private
    let followed = w.app.case_by_query(case.id, &receipt.query_code.to_lowercase()).unwrap();
    assert_eq!(followed.case.id, case.id);
    assert!(matches!(w.app.case_by_query(case.id, "WRONGCODE234"), Err(AppError::NotFound(_))));

    // "who decided, repairs": another department may not decide
    let e = w.app.decide_case(&w.tax, case.id, &decide(Outcome::Rejected, None, "x"), "test").unwrap_err();
    assert_eq!(e.code(), "forbidden");
    // an upheld objection without the corrected fields is refused, and changes nothing
    let e = w.app.decide_case(&w.env, case.id, &decide(Outcome::Upheld, Some(Remedy::Correct), ""), "test");
    assert_eq!(e.unwrap_err().code(), "fields_required");

    let today = today_shanghai();
    let mut fields =
        penalty(ME, "北京测试科技有限公司", "京环罚〔2026〕2号", today - Duration::days(150), "未按规定公开监测数据");
    fields.remove("罚款金额(万元)");
    fields.insert("罚款金额(万元)".into(), "3".into());
    let mut req = decide(Outcome::Upheld, Some(Remedy::Correct), "经核实，违法事实表述有误");
    req.fields = Some(fields);
    let decided = w.app.decide_case(&w.env, case.id, &req, "test").unwrap();
    assert_eq!((decided.case.state, decided.case.outcome), (CaseState::Decided, Some(Outcome::Upheld)));
    let v = w.app.subject(&Caller::public(), &code(ME), today, None).unwrap().unwrap();
    let r = v.records.iter().find(|r| r.id == id).unwrap();
    assert!(!r.disputed);
    let fact = r.fields.iter().find(|f| f.name == "违法事实").unwrap();
    assert_eq!(fact.value, "未按规定公开监测数据");
    // a second decision on a decided case is a conflict
    let again = w.app.decide_case(&w.env, case.id, &decide(Outcome::Rejected, None, "x"), "test").unwrap_err();
    assert_eq!(again.code(), "conflict");
    // the entity was told
    let inbox = w.app.inbox(&w.me, 50).unwrap();
    assert!(inbox.iter().any(|n| n.topic == "case_decided"), "{inbox:?}");
    assert!(inbox.iter().any(|n| n.topic == "record_corrected"), "{inbox:?}");
}

#[test]
fn a_granted_repair_ends_publication_at_once_and_as_of_keeps_the_past() {
    let w = world();
    let id = record_id(&w, "京环罚〔2026〕1号");
    let young = record_id(&w, "京环罚〔2026〕3号");
    let today = today_shanghai();
    // a department checked the entity before: it must hear of the repair
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let check = CheckRequest {
        code: ME.into(),
        matter: "government_procurement".into(),
        department: None,
        purpose: "采购项目 2026-01".into(),
        as_of: None,
        domain: None,
        proof: false,
    };
    rt.block_on(w.app.check(&w.tax, check)).unwrap();

    let repair = |record: i64, signed: bool| RepairRequest {
        code: ME.into(),
        target: TargetRef { record_id: Some(record), listing_id: None },
        applicant: None,
        contact: Some("010-12345678".into()),
        statement: "罚款已缴清，设施已整改".into(),
        conditions: vec!["obligations_met".into(), "other_requirements".into()],
        commitment_signed: signed,
        evidence: vec![],
    };
    // the minimum period has not passed for a penalty of ten days ago: refused with the day
    let e = w.app.file_repair(&w.me, &repair(young, true), "test").unwrap_err();
    let AppError::Refused(msgs) = &e else { panic!("{e:?}") };
    assert!(msgs[0].contains("起方可申请信用修复"), "{msgs:?}");
    // without the commitment: refused
    assert!(matches!(w.app.file_repair(&w.me, &repair(id, false), "test"), Err(AppError::Refused(_))));
    // another entity may not apply for mine
    assert_eq!(w.app.file_repair(&w.other, &repair(id, true), "test").unwrap_err().code(), "forbidden");

    let receipt = w.app.file_repair(&w.me, &repair(id, true), "test").unwrap();
    let case = receipt.case.case.clone();
    assert!(case.commitment.contains("北京测试科技有限公司") && case.commitment.contains(ME), "{}", case.commitment);
    assert!(case.answer_due.is_some_and(|a| a >= case.due));
    assert!(public_docs(&w, &Caller::public(), ME).iter().any(|d| d.contains("1号")));

    // refused first? No: two departments' officers cannot both decide; the right one grants
    let granted = w.app.decide_case(&w.env, case.id, &decide(Outcome::Granted, None, "条件均已满足"), "test").unwrap();
    assert_eq!(granted.case.outcome, Some(Outcome::Granted));

    // gone from what the public sees, at once
    let docs = public_docs(&w, &Caller::public(), ME);
    assert!(!docs.iter().any(|d| d.contains("1号")), "{docs:?}");
    assert!(docs.iter().any(|d| d.contains("2号")), "{docs:?}");
    // another entity sees exactly what the public sees
    assert_eq!(public_docs(&w, &w.other, ME), docs);
    // the entity itself sees it, marked repaired
    let mine = w.app.subject(&w.me, &code(ME), today, None).unwrap().unwrap();
    let r = mine.records.iter().find(|r| r.id == id).unwrap();
    assert_eq!(r.repaired_on.as_deref(), Some(date_string(today).as_str()));
    assert!(!r.publicity.public);
    // a department other than the decider no longer receives it; the decider does
    let tax = w.app.subject(&w.tax, &code(ME), today, Some("核查".into())).unwrap().unwrap();
    assert!(!tax.records.iter().any(|r| r.id == id));
    let env = w.app.subject(&w.env, &code(ME), today, Some("核查".into())).unwrap().unwrap();
    assert!(env.records.iter().any(|r| r.id == id));
    // "what was public on day D" still shows it for a day before the repair (accounts only)
    let yesterday = today - Duration::days(1);
    let past = w.app.subject(&w.admin, &code(ME), yesterday, Some("审计".into())).unwrap().unwrap();
    assert!(past.records.iter().find(|r| r.id == id).unwrap().publicity.public);
    // the public may not ask about the past at all
    let e = w.app.subject(&Caller::public(), &code(ME), yesterday, None).unwrap_err();
    assert_eq!(e.code(), "as_of_requires_account");
    let e = w.app.subject(&w.other, &code(ME), yesterday, None).unwrap_err();
    assert_eq!(e.code(), "as_of_requires_account");
    // the department that checked before was told
    let told = w.app.inbox(&w.tax, 50).unwrap();
    assert!(told.iter().any(|n| n.topic == "record_repaired" && n.subject_code == ME), "{told:?}");
    // a second application for the same record: already repaired
    assert_eq!(w.app.file_repair(&w.me, &repair(id, true), "test").unwrap_err().code(), "conflict");
}

#[test]
fn a_refused_repair_says_why_and_when_to_come_back() {
    let w = world();
    let id = record_id(&w, "京环罚〔2026〕1号");
    let req = repair(ME, TargetRef { record_id: Some(id), listing_id: None }, "已整改");
    let case = w.app.file_repair(&w.me, &req, "test").unwrap().case.case;
    let mut refuse = decide(Outcome::Refused, None, "罚款尚未缴清");
    assert!(matches!(w.app.decide_case(&w.env, case.id, &refuse, "test"), Err(AppError::Refused(_))));
    let next = today_shanghai() + Duration::days(30);
    refuse.next_possible = Some(date_string(next));
    let refused = w.app.decide_case(&w.env, case.id, &refuse, "test").unwrap();
    assert_eq!(refused.case.decision, "罚款尚未缴清");
    assert_eq!(refused.case.next_possible, Some(next));
    // still public
    assert!(public_docs(&w, &Caller::public(), ME).iter().any(|d| d.contains("1号")));
    // the entity sees its case with the reasons
    let mine = w.app.cases(&w.me, None, false, 50).unwrap();
    assert!(mine.cases.iter().any(|c| c.case.id == case.id && c.case.outcome == Some(Outcome::Refused)));
}

#[test]
fn two_decisions_on_one_case_one_wins() {
    let w = world();
    let id = record_id(&w, "京环罚〔2026〕2号");
    let req = objection(ME, TargetRef { record_id: Some(id), listing_id: None }, "有误");
    let case = w.app.file_objection(&w.me, &req, "test").unwrap().case.case;
    let results: Vec<_> = std::thread::scope(|s| {
        let a = s.spawn(|| w.app.decide_case(&w.env, case.id, &decide(Outcome::Rejected, None, "理由一"), "a"));
        let b = s.spawn(|| w.app.decide_case(&w.admin, case.id, &decide(Outcome::Unconfirmed, None, "理由二"), "b"));
        vec![a.join().unwrap(), b.join().unwrap()]
    });
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let conflicts = results.iter().filter(|r| matches!(r, Err(AppError::Conflict(_)))).count();
    assert_eq!((ok, conflicts), (1, 1), "{results:?}");
}

#[test]
fn a_revocation_is_void_from_the_start_for_everyone_but_the_entity_and_the_centre() {
    let w = world();
    let id = record_id(&w, "京环罚〔2026〕2号");
    let req = AmendRequest {
        reason: "行政复议撤销".into(), document: "京环复决〔2026〕7号".into(), fields: None
    };
    assert_eq!(w.app.amend_record(&w.tax, id, &req, "test").unwrap_err().code(), "forbidden");
    let e = w.app.amend_record(&w.env, id, &AmendRequest { reason: " ".into(), ..req.clone() }, "test").unwrap_err();
    assert_eq!(e.code(), "reason_required");
    w.app.amend_record(&w.env, id, &req, "test").unwrap();
    let today = today_shanghai();
    assert!(!public_docs(&w, &Caller::public(), ME).iter().any(|d| d.contains("2号")));
    // void from the start: not even a day when it was public shows it to a department
    let past = w.app.subject(&w.tax, &code(ME), today - Duration::days(100), Some("核查".into())).unwrap().unwrap();
    assert!(!past.records.iter().any(|r| r.id == id));
    // the entity sees it, marked revoked and never public
    let mine = w.app.subject(&w.me, &code(ME), today - Duration::days(100), None).unwrap().unwrap();
    let r = mine.records.iter().find(|r| r.id == id).unwrap();
    assert_eq!(r.status, "revoked");
    assert!(!r.publicity.public && r.publicity.reason_zh.contains("自始无效"));
    // twice: a conflict
    assert_eq!(w.app.amend_record(&w.env, id, &req, "test").unwrap_err().code(), "conflict");
}

#[test]
fn the_public_learns_nothing_of_what_it_may_not_see() {
    let w = world();
    let v = w.app.subject(&Caller::public(), &code(ME), today_shanghai(), None).unwrap().unwrap();
    assert_eq!(v.withheld, None);
    let json = serde_json::to_value(&v).unwrap();
    assert!(json.get("withheld").is_none(), "{json}");
    let mine = w.app.subject(&w.me, &code(ME), today_shanghai(), None).unwrap().unwrap();
    assert_eq!(mine.withheld, Some(0));
    // an objection to another entity's public record needs a contact from the public,
    // and is refused for a record the public cannot see
    let other = w.app.subject(&Caller::public(), &code(OTHER), today_shanghai(), None).unwrap().unwrap();
    let rid = other.records[0].id;
    let mut req = ObjectionRequest {
        code: OTHER.into(),
        target: TargetRef { record_id: Some(rid), listing_id: None },
        applicant: Some("张三".into()),
        contact: None,
        reasons: "金额与决定书不一致".into(),
        evidence: vec![],
    };
    assert_eq!(w.app.file_objection(&Caller::public(), &req, "test").unwrap_err().code(), "contact_required");
    req.contact = Some("13800000000".into());
    let receipt = w.app.file_objection(&Caller::public(), &req, "test").unwrap();
    // the public follows it without the contact
    let followed = w.app.case_by_query(receipt.case.case.id, &receipt.query_code).unwrap();
    assert!(followed.case.contact.is_empty());
    // an evidence hash never uploaded is refused
    req.evidence = vec![EvidenceCite { sha256: "ab".repeat(32), name: "x.pdf".into() }];
    assert_eq!(w.app.file_objection(&Caller::public(), &req, "test").unwrap_err().code(), "evidence_unknown");
}

#[test]
fn a_listing_repair_clears_the_check_answer_in_the_same_commit() {
    let w = world();
    let today = today_shanghai();
    let notice = today - Duration::days(420);
    let decided = today - Duration::days(400);
    let doc: BTreeMap<String, String> = xinyong_app::listings::sample_document("serious_dishonesty", "《环境保护法》");
    let req = ListingRequest {
        code: ME.into(),
        list_type: "serious_dishonesty".into(),
        basis: Some("《严重失信主体名单管理办法》第五条".into()),
        reason: "拒不履行".into(),
        notice_date: Some(date_string(notice)),
        persons: vec![],
        decision: None,
        scope: None,
        department: None,
    };
    let noticed = w.app.propose_listing(&w.env, req, "test").unwrap();
    let lid = noticed.listing.id;
    let d = DecisionRequest { decision_date: date_string(decided), start: None, end: None, document: doc };
    w.app.decide_listing(&w.env, lid, d, "test").unwrap();

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let check = || CheckRequest {
        code: ME.into(),
        matter: "government_procurement".into(),
        department: None,
        purpose: "采购".into(),
        as_of: None,
        domain: None,
        proof: false,
    };
    let before = rt.block_on(w.app.check(&w.tax, check())).unwrap();
    assert!(before.lists.iter().any(|l| l.id == lid && !l.disputed), "{:?}", before.lists);

    // an objection marks the entry disputed in check answers too
    let obj = objection(ME, TargetRef { record_id: None, listing_id: Some(lid) }, "已履行");
    let oc = w.app.file_objection(&w.me, &obj, "test").unwrap().case.case;
    let during = rt.block_on(w.app.check(&w.tax, check())).unwrap();
    assert!(during.lists.iter().any(|l| l.id == lid && l.disputed), "{:?}", during.lists);
    w.app.decide_case(&w.env, oc.id, &decide(Outcome::Rejected, None, "名单认定无误"), "test").unwrap();

    let repair = repair(ME, TargetRef { record_id: None, listing_id: Some(lid) }, "已履行全部义务");
    let case = w.app.file_repair(&w.me, &repair, "test").unwrap().case.case;
    w.app.decide_case(&w.env, case.id, &decide(Outcome::Granted, None, ""), "test").unwrap();
    let after = rt.block_on(w.app.check(&w.tax, check())).unwrap();
    assert!(!after.lists.iter().any(|l| l.id == lid), "{:?}", after.lists);
    // the public no longer finds the listing at all: the same answer as for no listing
    let e = w.app.listing(&Caller::public(), lid).unwrap_err();
    let none = w.app.listing(&Caller::public(), lid + 1000).unwrap_err();
    assert_eq!((e.code(), e.kind()), (none.code(), none.kind()));
    assert!(w.app.listings_of_subject(&Caller::public(), ME).unwrap().is_empty());
    // a check dated before the repair still sees it (a department's past-dated check)
    let mut past = check();
    past.as_of = Some(date_string(today - Duration::days(1)));
    let past = rt.block_on(w.app.check(&w.tax, past)).unwrap();
    assert!(past.lists.iter().any(|l| l.id == lid));
}

#[test]
fn a_responsible_person_sees_the_listing_on_their_own_record() {
    let w = world();
    let person = "11010519491231002X";
    let today = today_shanghai();
    let req = ListingRequest {
        code: ME.into(),
        list_type: "serious_dishonesty".into(),
        basis: Some("《严重失信主体名单管理办法》第五条".into()),
        reason: "拒不履行".into(),
        notice_date: Some(date_string(today - Duration::days(40))),
        persons: vec![xinyong_app::listings::ResponsiblePerson {
            role: "legal_representative".into(),
            name: "王五".into(),
            id: Some(person.into()),
        }],
        decision: None,
        scope: None,
        department: None,
    };
    let lid = w.app.propose_listing(&w.env, req, "test").unwrap().listing.id;
    let doc = xinyong_app::listings::sample_document("serious_dishonesty", "《环境保护法》");
    let d = DecisionRequest {
        decision_date: date_string(today - Duration::days(20)),
        start: None,
        end: None,
        document: doc,
    };
    w.app.decide_listing(&w.env, lid, d, "test").unwrap();
    let me = account(&w.app, "wangwu", "subject", None, Some(person));
    let mine = w.app.listings_of_subject(&me, person).unwrap();
    let hit = mine.iter().find(|l| l.id == lid).expect("the person's own record shows the listing");
    assert_eq!(hit.listed_as.as_deref(), Some("legal_representative"));
    // someone else looking at the person's code does not get it through this door
    assert!(w.app.listings_of_subject(&Caller::public(), person).unwrap().is_empty());
}

#[test]
fn rectifications_and_interviews_are_part_of_the_record_for_departments_not_the_public() {
    use xinyong_app::cases::NoticeRequest;
    use xinyong_core::case::CaseKind;
    let w = world();
    let notice = NoticeRequest {
        code: ME.into(),
        department: None,
        text: "限期完成整改".into(),
        deadline: Some(date_string(today_shanghai() + Duration::days(20))),
        interview_type: None,
        attendees: None,
        minutes: None,
        held_on: None,
    };
    let c = w.app.issue_notice(&w.env, CaseKind::Rectification, &notice, "test").unwrap();
    assert_eq!(c.who_acts, ME, "the subject must act on a rectification notice");
    // not yet overdue: a department cannot record it as such
    let overdue = decide(Outcome::Overdue, None, "");
    assert!(matches!(w.app.decide_case(&w.env, c.case.id, &overdue, "test"), Err(AppError::Refused(_))));
    let seen = |who: &Caller| {
        let purpose = (!matches!(who.role(), xinyong_app::Role::Public)).then(|| "核查".to_string());
        w.app.subject(who, &code(ME), today_shanghai(), purpose).unwrap().unwrap().supervision
    };
    assert!(seen(&Caller::public()).is_none());
    assert!(seen(&w.other).is_none());
    for who in [&w.tax, &w.me, &w.admin] {
        let s = seen(who).unwrap();
        assert!(s.iter().any(|x| x.case.id == c.case.id), "{s:?}");
    }
}
