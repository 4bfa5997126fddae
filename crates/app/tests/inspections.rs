//! Double-random inspections on a real store: a plan committed with its population and
//! roster hashed into the ledger, drawn from a signed head with the ratios per grade and
//! the recusal rules, replayed from the published plan alone (and failing when the
//! roster, the population or the head is changed), results recorded as records that
//! feed the grades.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use xinyong_app::inspections::{PlanRequest, ResultRequest, replay};
use xinyong_app::{App, Caller, today_shanghai};
use xinyong_core::inspection::Inspector;

const SAMR: &str = "北京市市场监督管理局";

fn account(app: &App, name: &str, role: &str, provider: Option<&str>) -> Caller {
    common::account(app, name, role, provider, None)
}

fn roster() -> Vec<Inspector> {
    ["110101", "110105", "110108", "110102", "110106", "110107"]
        .iter()
        .enumerate()
        .map(|(i, d)| Inspector {
            id: format!("ZF{i:03}"),
            name: format!("执法人员{i}"),
            division: d.to_string(),
            conflicts: vec![],
            past_employers: vec![],
        })
        .collect()
}

fn request() -> PlanRequest {
    PlanRequest {
        name: "2026年第四季度食品经营主体双随机抽查".into(),
        items: vec!["食品经营许可情况".into(), "进货查验记录".into()],
        model: Some("samr_risk".into()),
        ratios_permille: [("A", 50), ("B", 200), ("C", 600), ("D", 1000)]
            .into_iter()
            .map(|(g, r)| (g.to_string(), r))
            .collect(),
        inspectors_per_target: Some(2),
        roster: roster(),
        department_code: xinyong_core::Uscc::complete("1111000000013401").unwrap().as_str().to_string(),
        ..Default::default()
    }
}

fn world() -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(dir.path()).unwrap();
    common::generated(&app, dir.path(), (200, 2000, 41, 0), SAMR);
    (dir, app)
}

#[test]
fn a_plan_is_committed_drawn_replayed_and_carried_out() {
    let (_dir, app) = world();
    let officer = account(&app, "samr", "officer", Some(SAMR));
    let other = account(&app, "zjw", "officer", Some("北京市住房和城乡建设委员会"));

    let plan = app.create_plan(&officer, &request(), "test").unwrap();
    assert!(plan.population.len() > 150, "{}", plan.population.len());
    assert!(plan.population.iter().all(|c| c.grade.is_some()), "every covered subject carries its grade");
    let committed = xinyong_app::ledger::proof(&app, plan.committed_event).unwrap().event.unwrap();
    assert_eq!(committed["kind"], "inspection.planned");
    assert_eq!(committed["fields"]["population_hash"], plan.population_hash.as_str());
    assert_eq!(committed["fields"]["roster_hash"], plan.roster_hash.as_str());

    // only the plan's department draws, once
    assert_eq!(app.draw_plan(&other, &plan.id, "test").unwrap_err().code(), "forbidden");
    let drawn = app.draw_plan(&officer, &plan.id, "test").unwrap();
    assert_eq!(app.draw_plan(&officer, &plan.id, "test").unwrap_err().code(), "plan_drawn");
    let d = drawn.draw.as_ref().unwrap();
    assert!(d.head_size > plan.committed_event, "seeded from a head signed after the commitment");
    let ev = xinyong_app::ledger::proof(&app, d.drawn_event).unwrap().event.unwrap();
    assert_eq!(
        (ev["kind"].as_str(), ev["fields"]["digest"].as_str()),
        (Some("inspection.drawn"), Some(d.digest.as_str()))
    );
    // the ratios per grade, two inspectors each, none of the target's division
    let mut per_grade: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for c in &drawn.population {
        per_grade.entry(c.grade.clone().unwrap()).or_default().0 += 1;
    }
    for t in &d.draw.targets {
        per_grade.get_mut(t.grade.as_ref().unwrap()).unwrap().1 += 1;
        assert_eq!(t.inspectors.len(), 2);
        let c = drawn.population.iter().find(|c| c.code == t.code).unwrap();
        for id in &t.inspectors {
            let i = drawn.roster.iter().find(|i| &i.id == id).unwrap();
            assert_ne!(i.division, c.division, "an inspector of the target's own division is recused");
        }
    }
    for (grade, (n, k)) in &per_grade {
        let permille = u64::from(drawn.rules.ratios_permille[grade]);
        assert_eq!(*k, (n * permille + 500) / 1000, "{grade}: {k} of {n}");
    }

    // the replay, from the platform's store and from the published plan alone
    assert!(app.replay_plan(&plan.id).unwrap().matches);
    let published: xinyong_app::inspections::Plan =
        serde_json::from_str(&serde_json::to_string(&app.plan(&plan.id).unwrap()).unwrap()).unwrap();
    let key = xinyong_ledger::LedgerVerifier::from_text(&published.verifier_key).unwrap();
    assert!(replay(&published, &key).matches);
    let mut roster_changed = published.clone();
    roster_changed.roster[0].division = "110199".into();
    let r = replay(&roster_changed, &key);
    assert!(!r.matches && !r.roster_hash_ok, "{r:?}");
    let mut population_changed = published.clone();
    population_changed.population.pop();
    assert!(!replay(&population_changed, &key).population_hash_ok);
    // a head whose signature does not verify, or another head than the one named
    let mut head_changed = published.clone();
    let checkpoint = &mut head_changed.draw.as_mut().unwrap().head_checkpoint;
    let flipped = if checkpoint.ends_with("A\n") { "B\n" } else { "A\n" };
    checkpoint.truncate(checkpoint.len() - 2);
    checkpoint.push_str(flipped);
    let r = replay(&head_changed, &key);
    assert!(!r.matches && !r.head_signature_ok, "{r:?}");
    let mut size_changed = published.clone();
    size_changed.draw.as_mut().unwrap().head_size += 1;
    assert!(!replay(&size_changed, &key).matches);
    let mut targets_changed = published.clone();
    targets_changed.draw.as_mut().unwrap().draw.targets.pop();
    assert!(!replay(&targets_changed, &key).draw_ok);

    // a result becomes an inspection record of the plan, and feeds the grade
    let target = &d.draw.targets[0];
    let code = xinyong_core::SubjectCode::parse(&target.code).unwrap();
    let before = app.grades_of(&officer, &code, today_shanghai()).unwrap();
    let req = ResultRequest {
        code: target.code.clone(),
        result: "通过登记的住所（经营场所）无法联系".into(),
        ..Default::default()
    };
    let done = app.record_plan_result(&officer, &plan.id, &req, "test").unwrap();
    assert_eq!(done.results.len(), 1);
    let rec = app.stored_subject(&Caller::operator(), code.key()).unwrap().unwrap().1;
    assert!(rec.iter().any(|r| r.id == done.results[0].record_id && r.item == "admin_inspection"));
    let after = app.grades_of(&officer, &code, today_shanghai()).unwrap();
    let samr = |g: &xinyong_app::grading::SubjectGrades| {
        g.grades.iter().find(|x| x.graded.model == "samr_risk").unwrap().graded.score
    };
    assert!(samr(&after) < samr(&before), "{} → {}", samr(&before), samr(&after));
    // a subject not drawn is refused
    let not_drawn = drawn.population.iter().find(|c| !d.draw.targets.iter().any(|t| t.code == c.code)).unwrap();
    let req = ResultRequest { code: not_drawn.code.clone(), result: "未发现问题".into(), ..Default::default() };
    assert_eq!(app.record_plan_result(&officer, &plan.id, &req, "test").unwrap_err().code(), "not_a_target");
    let list = app.plans().unwrap();
    assert_eq!((list.len(), list[0].results, list[0].drawn), (1, 1, Some(d.draw.targets.len())));
    assert!(app.verify_ledger().unwrap().ok);
}

#[test]
fn a_plan_needs_two_inspectors_a_known_model_and_its_grades() {
    let (_dir, app) = world();
    let officer = account(&app, "samr", "officer", Some(SAMR));
    let one = PlanRequest { inspectors_per_target: Some(1), ..request() };
    assert_eq!(app.create_plan(&officer, &one, "test").unwrap_err().code(), "plan_invalid");
    let model = PlanRequest { model: Some("none".into()), ..request() };
    assert_eq!(app.create_plan(&officer, &model, "test").unwrap_err().code(), "plan_invalid");
    let mut ratios = request();
    ratios.ratios_permille.insert("E".into(), 10);
    assert_eq!(app.create_plan(&officer, &ratios, "test").unwrap_err().code(), "plan_invalid");
    assert_eq!(app.create_plan(&Caller::public(), &request(), "test").unwrap_err().code(), "unauthorized");
}
