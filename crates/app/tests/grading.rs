//! Grades on a real SQLite store: a subject's grade explained by its arithmetic, a
//! revoked record leaving the grade at once, who may read a grade, the batch over a
//! generated data set agreeing with the single grade of every subject, and the
//! server's grade book following a change.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use common::{account, generated};
use xinyong_app::cases::AmendRequest;
use xinyong_app::{App, Caller, today_shanghai};
use xinyong_core::SubjectCode;

const ME: &str = "91110108551385082Q";
const OTHER: &str = "91110000802100433B";
const SAMR: &str = "北京市海淀区市场监督管理局";

fn penalty(code: &str, doc: &str, decided: time::Date, tier: &str, fine: &str) -> BTreeMap<String, String> {
    let mut row = common::penalty_row(code, doc, SAMR, decided, "罚款", "");
    row.insert("罚款金额(万元)".into(), fine.into());
    row.insert("失信程度".into(), tier.into());
    row
}

fn code(c: &str) -> SubjectCode {
    SubjectCode::parse(c).unwrap()
}

#[test]
fn a_grade_is_explained_and_a_revoked_record_leaves_it_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(dir.path()).unwrap();
    let today = today_shanghai();
    let rows = [
        penalty(ME, "京海市监罚〔2026〕1号", today - time::Duration::days(40), "一般", "2"),
        penalty(ME, "京海市监罚〔2026〕2号", today - time::Duration::days(30), "严重", "10"),
        penalty(OTHER, "京海市监罚〔2026〕3号", today - time::Duration::days(30), "一般", "1"),
    ];
    let out = xinyong_app::intake::ingest_rows(&app, "admin_penalty", SAMR, "test", &rows).unwrap();
    assert_eq!(out.accepted, 3, "{out:?}");
    let officer = account(&app, "samr", "officer", Some(SAMR), None);
    let me = account(&app, "me", "subject", None, Some(ME));

    let g = app.grades_of(&officer, &code(ME), today).unwrap();
    let models: Vec<&str> = g.grades.iter().map(|x| x.graded.model.as_str()).collect();
    assert_eq!(models, ["comprehensive", "samr_risk"], "an enterprise without an industry: not construction");
    let c = &g.grades[0];
    // 700 − 20 (one general) − 100 (one serious) − 24 (12 万元 of fines × 2) = 556 → C
    assert_eq!((c.graded.score, c.graded.letter.as_str()), (556, "C"), "{}", c.arithmetic);
    assert!(c.arithmetic.starts_with("700 − 20（近三年一般、轻微行政处罚 1 × -20）"), "{}", c.arithmetic);
    let serious = c.graded.contributions.iter().find(|x| x.indicator == "penalties_serious").unwrap();
    assert_eq!(serious.counted.len(), 1, "the record counted is named");
    assert!(g.ledger_size > 0);
    let samr = &g.grades[1];
    assert_eq!((samr.graded.score, samr.graded.letter.as_str()), (80, "B"), "{}", samr.arithmetic);

    // the entity reads its own; not another's; the public none
    assert_eq!(app.grades_of(&me, &code(ME), today).unwrap().grades[0].graded.score, 556);
    assert_eq!(app.grades_of(&me, &code(OTHER), today).unwrap_err().code(), "forbidden");
    assert_eq!(app.grades_of(&Caller::public(), &code(ME), today).unwrap_err().code(), "unauthorized");

    // the serious penalty is revoked: the grade no longer counts it
    let revoke =
        AmendRequest { reason: "复议撤销".into(), document: "京海复决〔2026〕1号".into(), fields: None };
    app.amend_record(&officer, serious.counted[0], &revoke, "test").unwrap();
    let g = app.grades_of(&officer, &code(ME), today).unwrap();
    assert_eq!((g.grades[0].graded.score, g.grades[0].graded.letter.as_str()), (700 - 20 - 4, "B"));
    // and a grade as of a day before the penalties counts none of them
    let before = app.grades_of(&officer, &code(ME), today - time::Duration::days(60)).unwrap();
    assert_eq!(before.grades[0].graded.score, 700);
}

#[test]
fn the_batch_agrees_with_every_single_grade_and_the_book_follows_a_change() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(dir.path()).unwrap();
    let today = today_shanghai();
    generated(&app, dir.path(), (200, 2500, 14, 0), SAMR);
    let admin = account(&app, "admin", "admin", None, None);
    let codes: Vec<String> = {
        let mut all = Vec::new();
        let mut after = String::new();
        loop {
            let page = app.subjects_after(&Caller::operator(), &after, 1000).unwrap();
            let Some(last) = page.last() else { break };
            after = last.code.clone();
            all.extend(page.into_iter().map(|s| s.code));
        }
        all
    };
    assert!(codes.len() > 200, "{}", codes.len());

    let book = app.grade_all(today).unwrap();
    assert_eq!(book.subjects(), codes.len());
    let models = app.grading_models().unwrap();
    let mut letters = BTreeMap::new();
    for c in &codes {
        let single = app.grades_of(&admin, &code(c), today).unwrap();
        for (mi, m) in models.models.iter().enumerate() {
            let from_book = book.grade(m, mi, c);
            let from_single = single.grades.iter().find(|g| g.graded.model == m.code);
            let from_single = from_single.map(|g| (g.graded.letter.clone(), g.graded.score));
            assert_eq!(from_book, from_single, "{c} by {}", m.code);
            if let Some((l, _)) = from_single {
                *letters.entry((m.code.clone(), l)).or_insert(0) += 1;
            }
        }
    }
    // the generated records spread the comprehensive grades over several bands
    let spread = letters.keys().filter(|(m, _)| m == "comprehensive").count();
    assert!(spread >= 3, "{letters:?}");

    // the server's book: built on first use, then regraded on the projector's path
    app.start_projections().unwrap();
    let figures = app.grade_figures(&admin).unwrap();
    let comprehensive = &figures.models[0];
    assert_eq!(comprehensive.bands.iter().map(|b| b.count).sum::<u64>(), comprehensive.graded);
    let target = codes
        .iter()
        .find(|c| {
            let (l, _) = book.grade(&models.models[0], 0, c).unwrap_or_default();
            l == "A" || l == "B"
        })
        .expect("a subject graded A or B");
    let rows = [penalty(target, "京海市监罚〔2026〕99号", today - time::Duration::days(1), "严重", "50")];
    xinyong_app::intake::ingest_rows(&app, "admin_penalty", SAMR, "test", &rows).unwrap();
    app.catch_up().unwrap();
    // the projector hands the subject to the background regrade: wait for it (5 s at most)
    let single = app.grades_of(&admin, &code(target), today).unwrap();
    let fresh = Some((single.grades[0].graded.letter.clone(), single.grades[0].graded.score));
    let mut after = app.grade_book().unwrap();
    for _ in 0..100 {
        if after.grade(&models.models[0], 0, target) == fresh {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        after = app.grade_book().unwrap();
    }
    let (letter, _) = after.grade(&models.models[0], 0, target).unwrap();
    assert!(letter == "C" || letter == "D", "a serious penalty holds the grade at C or below: {letter}");
    assert_eq!(after.grade(&models.models[0], 0, target), {
        let g = app.grades_of(&admin, &code(target), today).unwrap();
        Some((g.grades[0].graded.letter.clone(), g.grades[0].graded.score))
    });
}

#[test]
fn the_centres_figures_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(dir.path()).unwrap();
    let today = today_shanghai();
    let mut accepted = 0;
    let mut quarantined = 0;
    for s in generated(&app, dir.path(), (150, 1500, 20, 5), SAMR) {
        accepted += s.accepted + s.corrected;
        quarantined += s.quarantined;
    }
    let admin = account(&app, "admin", "admin", None, None);
    let other = account(&app, "zjw", "officer", Some("北京市住房和城乡建设委员会"), None);
    let f = app.centre_figures(&admin).unwrap();
    let samr = f.departments.iter().find(|d| d.department == SAMR).expect("the department's row");
    // the department's rows, and the breach records the platform wrote in its name for
    // the commitments its file reported broken (the quality report counts both)
    let q = xinyong_app::item_records::ItemQuery {
        item: "commitment_breach".into(),
        field: None,
        value: None,
        after: 0,
        limit: 500,
    };
    let breaches = app.item_records(&q).unwrap().records.len() as u64;
    assert!(breaches > 0);
    assert_eq!((samr.records_sent, samr.refused), (accepted + breaches, quarantined), "{samr:?}");
    assert!(samr.on_time + samr.late > 0 && samr.on_time_permille.is_some(), "{samr:?}");
    let book = app.grade_all(today).unwrap();
    let subjects: u64 = f.divisions.iter().map(|a| a.subjects).sum();
    assert_eq!(subjects as usize, book.subjects(), "every subject in one division");
    let by_industry: u64 = f.industries.iter().map(|a| a.subjects).sum();
    assert_eq!(by_industry, subjects);
    let graded: u64 = f.divisions.iter().map(|a| a.bands.iter().sum::<u64>()).sum();
    let comprehensive = app.grade_figures(&admin).unwrap().models[0].graded;
    assert_eq!(graded, comprehensive, "the divisions' bands add up to the distribution");
    assert!(f.divisions.iter().any(|a| a.name.starts_with("北京市")), "division names: {:?}", f.divisions);
    // an officer sees its own department's row only
    let mine = app.centre_figures(&other).unwrap();
    assert!(mine.departments.iter().all(|d| d.department == "北京市住房和城乡建设委员会"), "{:?}", mine.departments);
    assert_eq!(app.centre_figures(&Caller::public()).unwrap_err().code(), "unauthorized");
}

/// The grading benchmark's fixture (written straight into the tables) takes imports
/// after its events, so a daily file into a store of Beijing's size can be measured; the
/// book built afterwards holds the fixture's subjects and the imported ones.
#[test]
fn an_import_into_the_grading_fixture_appends_after_its_events() {
    let dir = tempfile::tempdir().unwrap();
    drop(App::open(dir.path()).unwrap());
    let today = today_shanghai();
    xinyong_app::testing::fill_for_grading(&dir.path().join("xinyong.sqlite3"), 300, 3_000, 200, 5, today).unwrap();
    let app = App::open(dir.path()).unwrap();
    let before = app.counts().unwrap();
    assert_eq!(before.subjects, 300);
    let imported = generated(&app, dir.path(), (40, 400, 21, 0), SAMR);
    let accepted: u64 = imported.iter().map(|s| s.accepted).sum();
    assert!(accepted > 300, "{imported:?}");
    let after = app.counts().unwrap();
    // (and the breach records the platform writes for commitments reported broken)
    assert!(after.records >= before.records + accepted, "{before:?} {after:?}");
    assert!(after.events > before.events);
    let book = app.grade_all(today).unwrap();
    assert_eq!(book.subjects() as u64, after.subjects);
    assert!(after.subjects > 300);
}
