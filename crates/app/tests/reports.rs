//! Credit reports on a real SQLite store: the standard and special reports of an
//! entity (a simple-procedure penalty in the special one only), offline verification of
//! the bundle and the PDF, who may have which report, domains and periods, and the
//! online check flagging a record revoked after the report was made.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use common::account;
use xinyong_app::cases::AmendRequest;
use xinyong_app::ledger::Algorithm;
use xinyong_app::reports::{Report, ReportRequest, Section, verify_offline};
use xinyong_app::{App, Caller, today_shanghai};
use xinyong_core::record::date_string;

const ME: &str = "91110108551385082Q";
const SAMR: &str = "北京市海淀区市场监督管理局";

fn penalty(doc: &str, decided: time::Date, kind: &str, procedure: &str) -> BTreeMap<String, String> {
    common::penalty_row(ME, doc, SAMR, decided, kind, procedure)
}

fn ask(kind: &str, purpose: Option<&str>) -> ReportRequest {
    ReportRequest { kind: Some(kind.into()), purpose: purpose.map(str::to_string), ..ReportRequest::default() }
}

fn section<'a>(r: &'a Report, key: &str) -> &'a Section {
    r.sections.iter().find(|s| s.key == key).unwrap()
}

#[test]
fn reports_verify_offline_and_online_and_say_what_changed() {
    reports_verify_with(Algorithm::Ed25519);
}

/// 国密: the same report test on a platform initialised with SM2 / SM3.
#[test]
fn sm2_platforms_issue_reports_that_verify_the_same_way() {
    reports_verify_with(Algorithm::Sm2);
}

fn reports_verify_with(algorithm: Algorithm) {
    let dir = tempfile::tempdir().unwrap();
    let app = App::init(dir.path(), None, xinyong_app::LEDGER_ORIGIN, algorithm).unwrap();
    assert_eq!(app.verifier().algorithm(), algorithm);
    let today = today_shanghai();
    let rows = [
        penalty("京海市监罚〔2026〕11号", today - time::Duration::days(40), "罚款", "普通程序"),
        penalty("京海市监简罚〔2026〕12号", today - time::Duration::days(20), "警告", "简易程序"),
    ];
    let out = xinyong_app::intake::ingest_rows(&app, "admin_penalty", SAMR, "test", &rows).unwrap();
    assert_eq!(out.accepted, 2, "{out:?}");
    let me = account(&app, "me", "subject", None, Some(ME));
    let officer = account(&app, "samr", "officer", Some(SAMR), None);
    let agency = account(&app, "bank", "agency", None, None);
    let key = app.verifier().to_text();

    // the standard report: what the public sees (the simple-procedure warning is not)
    let standard = app.make_report(&me, ME, &ask("standard", None)).unwrap();
    let admin_section = section(&standard.report, "administrative");
    assert_eq!(admin_section.entries.len(), 1, "{admin_section:?}");
    assert!(section(&standard.report, "serious_dishonesty").entries.is_empty());
    let titles: Vec<&str> = standard.report.sections.iter().map(|s| s.title_zh.as_str()).collect();
    assert_eq!(titles.first(), Some(&"行政管理信息"));
    let advice = &section(&standard.report, "advice").advice;
    assert!(advice.iter().any(|a| a.contains("京海市监罚〔2026〕11号") && a.contains("信用修复")), "{advice:?}");

    // the special report: both penalties, the simple-procedure one included
    let special = app.make_report(&me, ME, &ask("special", None)).unwrap();
    let penalties = section(&special.report, "penalty");
    assert_eq!(penalties.entries.len(), 2);
    assert!(section(&special.report, "criminal").is_empty(), "printed as 查询期内无相关信息");
    assert_eq!(special.report.requester.role, "subject");

    // offline: the bundle verifies with the platform's key, and not once altered
    let v = verify_offline(special.bundle.as_bytes(), Some(&key)).unwrap();
    assert!(v.ok, "{:#?}", v.checks);
    assert_eq!(special.report.algorithm, algorithm.name());
    assert_eq!(v.tree_size, Some(special.tree_size));
    let altered = special.bundle.replace("京海市监简罚〔2026〕12号", "京海市监简罚〔2026〕13号");
    assert!(!verify_offline(altered.as_bytes(), Some(&key)).unwrap().ok);
    let stranger = xinyong_ledger::LedgerKey::generate("xinyong/ledger").verifier().to_text();
    assert!(!verify_offline(special.bundle.as_bytes(), Some(&stranger)).unwrap().ok);

    // the PDF, when a CJK font is installed (a failure under CI)
    match app.report_pdf(&special) {
        Ok(pdf) => {
            let v = verify_offline(&pdf, Some(&key)).unwrap();
            assert!(v.ok && v.file == "pdf", "{:#?}", v.checks);
        }
        Err(e) if std::env::var_os("CI").is_none() && e.code() == "unavailable" => eprintln!("SKIPPED PDF: {e}"),
        Err(e) => panic!("{e}"),
    }

    // who may have which: a department and an agency name a purpose; agencies get no
    // special report; the public none; another entity not mine
    assert_eq!(app.make_report(&officer, ME, &ask("special", None)).unwrap_err().code(), "purpose_required");
    assert_eq!(app.make_report(&agency, ME, &ask("special", Some("贷款审批"))).unwrap_err().code(), "forbidden");
    assert_eq!(app.make_report(&Caller::public(), ME, &ask("standard", None)).unwrap_err().code(), "unauthorized");
    let theirs = account(&app, "them", "subject", None, Some("91110000802100433B"));
    assert_eq!(app.make_report(&theirs, ME, &ask("standard", None)).unwrap_err().code(), "forbidden");
    let bank = app.make_report(&agency, ME, &ask("standard", Some("贷款审批 / loan application"))).unwrap();
    assert_eq!(bank.report.requester.role, "agency");
    let log = app.access_log(&me, ME, 50).unwrap();
    assert!(
        log.iter()
            .any(|e| e.what == format!("credit_report:standard:{}", bank.report.number) && e.purpose.contains("贷款")),
        "{log:?}"
    );

    // domains and periods: a tax-only special report has no market-regulation penalty;
    // a period that ends tomorrow is refused
    let tax = ReportRequest { domains: Some("tax".into()), ..ask("special", None) };
    assert!(section(&app.make_report(&me, ME, &tax).unwrap().report, "penalty").is_empty());
    let unknown = ReportRequest { domains: Some("astrology".into()), ..ask("special", None) };
    assert_eq!(app.make_report(&me, ME, &unknown).unwrap_err().code(), "invalid_domain");
    let future = ReportRequest { to: Some(date_string(today + time::Duration::days(1))), ..ask("special", None) };
    assert_eq!(app.make_report(&me, ME, &future).unwrap_err().code(), "invalid_period");
    let before = ReportRequest { to: Some(date_string(today - time::Duration::days(30))), ..ask("special", None) };
    assert_eq!(section(&app.make_report(&me, ME, &before).unwrap().report, "penalty").entries.len(), 1);

    // online: unchanged at first; after the fine is revoked, flagged; a new report drops it
    let online = app.verify_report(special.bundle.as_bytes()).unwrap();
    assert!(online.verdict.ok && online.consistent_with_ledger && online.changes.is_empty(), "{online:?}");
    let fine = penalties.entries.iter().find(|e| e.fields.iter().any(|f| f.value == "京海市监罚〔2026〕11号")).unwrap();
    let revoke =
        AmendRequest { reason: "复议撤销".into(), document: "京海复决〔2026〕2号".into(), fields: None };
    app.amend_record(&officer, fine.id, &revoke, "test").unwrap();
    let online = app.verify_report(special.bundle.as_bytes()).unwrap();
    assert!(online.verdict.ok && online.consistent_with_ledger, "still the platform's, still in its ledger");
    assert_eq!(online.changes.len(), 1, "{:?}", online.changes);
    assert_eq!((online.changes[0].entry, online.changes[0].what.as_str()), (fine.id, "revoked"));
    let again = app.make_report(&me, ME, &ask("special", None)).unwrap();
    assert_eq!(section(&again.report, "penalty").entries.len(), 1);
    assert!(again.tree_size > special.tree_size);
}

/// The issue's own words: `/verify` flags a report after one of its records is repaired.
#[test]
fn a_report_is_flagged_online_after_one_of_its_records_is_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(dir.path()).unwrap();
    let today = today_shanghai();
    let rows = [penalty("京海市监罚〔2026〕31号", today - time::Duration::days(200), "罚款", "普通程序")];
    assert_eq!(xinyong_app::intake::ingest_rows(&app, "admin_penalty", SAMR, "test", &rows).unwrap().accepted, 1);
    let me = account(&app, "me", "subject", None, Some(ME));
    let officer = account(&app, "samr", "officer", Some(SAMR), None);
    let report = app.make_report(&me, ME, &ask("special", None)).unwrap();
    let fine = section(&report.report, "penalty").entries[0].id;
    let case = common::apply_for_repair(&app, &me, ME, fine);
    assert!(app.verify_report(report.bundle.as_bytes()).unwrap().changes.is_empty(), "not yet: only applied for");
    common::grant(&app, &officer, case);
    let online = app.verify_report(report.bundle.as_bytes()).unwrap();
    assert!(online.verdict.ok && online.consistent_with_ledger);
    assert_eq!(online.changes.len(), 1, "{:?}", online.changes);
    assert_eq!((online.changes[0].entry, online.changes[0].what.as_str()), (fine, "repaired"));
    assert!(section(&app.make_report(&me, ME, &ask("special", None)).unwrap().report, "penalty").is_empty());
}
