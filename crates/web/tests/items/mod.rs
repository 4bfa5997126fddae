//! Every administrative action that must be public (issue 11): a file per new catalog
//! item goes through the real file intake, is accepted, is public from its decision
//! date to the end of its window with its publication deadline, and shows on the
//! subject's record (API and portal). Only A-level tax ratings are public, and the
//! A-level list is the item filtered by level.

use xinyong_core::calendar::WorkCalendar;
use xinyong_core::publication::Period;
use xinyong_core::record::date_string;

use super::*;

const CODE: &str = "91110108551385082Q";
const NAME: &str = "北京测试科技有限公司";
const AUTH_CODE: &str = "11110108MB4176839X";

/// (item, columns and values, decision date field, window, publication due in working days)
type Case = (&'static str, Vec<(&'static str, String)>, &'static str, Option<&'static str>, Option<u32>);

fn party(name_col: &'static str) -> Vec<(&'static str, String)> {
    vec![(name_col, NAME.into()), ("统一社会信用代码", CODE.into())]
}

fn action(doc_col: &'static str, doc: &str, date_col: &'static str, day: &str) -> Vec<(&'static str, String)> {
    let mut v = party("行政相对人名称");
    v.extend([("行政相对人类别", "法人及非法人组织".to_string()), (doc_col, doc.into()), (date_col, day.into())]);
    v.extend([
        ("数据来源单位", "北京市海淀区政务服务和数据管理局".to_string()),
        ("数据来源单位统一社会信用代码", AUTH_CODE.into()),
    ]);
    v
}

/// The deciding authority's column, its USCC column (`<column>统一社会信用代码`) and name.
fn authority(col: &'static str, code_col: &'static str, name: &str) -> [(&'static str, String); 2] {
    assert_eq!(code_col, format!("{col}统一社会信用代码"));
    [(col, name.to_string()), (code_col, AUTH_CODE.to_string())]
}

fn cases(day: &str) -> Vec<Case> {
    let with = |mut v: Vec<(&'static str, String)>, more: &[(&'static str, &str)]| {
        v.extend(more.iter().map(|(k, x)| (*k, x.to_string())));
        v
    };
    let mut enforcement = action("行政强制决定书文号", "京海市监强〔2026〕1号", "行政强制决定日期", day);
    enforcement.extend(authority("实施机关", "实施机关统一社会信用代码", "北京市海淀区市场监督管理局"));
    let mut confirmation = action("行政确认决定文书号", "京海税确〔2026〕1号", "确认决定日期", day);
    confirmation.extend(authority("确认机关", "确认机关统一社会信用代码", "国家税务总局北京市海淀区税务局"));
    let mut levy = action("行政征收决定文书号", "京海税征〔2026〕1号", "征收决定日期", day);
    levy.extend(authority("征收机关", "征收机关统一社会信用代码", "国家税务总局北京市海淀区税务局"));
    let mut benefit = action("行政给付决定文书号", "京海人社给〔2026〕1号", "给付决定日期", day);
    benefit.extend(authority("给付机关", "给付机关统一社会信用代码", "北京市海淀区人力资源和社会保障局"));
    let mut adjudication = action("行政裁决决定文书号", "京海政裁〔2026〕1号", "裁决决定日期", day);
    adjudication.extend(authority("裁决机关", "裁决机关统一社会信用代码", "北京市海淀区人民政府"));
    let mut compensation = action("行政补偿决定文书号", "京海政补〔2026〕1号", "补偿决定日期", day);
    compensation.extend(authority("补偿机关", "补偿机关统一社会信用代码", "北京市海淀区人民政府"));
    let mut reward = action("行政奖励决定文书号", "京海应急奖〔2026〕1号", "奖励决定日期", day);
    reward.extend(authority("奖励机关", "奖励机关统一社会信用代码", "北京市海淀区应急管理局"));
    let mut inspection = action("检查任务编号", "京海市监检-2026-000001", "检查日期", day);
    inspection.extend(authority("检查实施机关", "检查实施机关统一社会信用代码", "北京市海淀区市场监督管理局"));
    let mut quality = party("标称生产企业名称");
    quality.extend(authority("组织抽查机关", "组织抽查机关统一社会信用代码", "北京市海淀区市场监督管理局"));
    vec![
        (
            "admin_enforcement",
            with(
                enforcement,
                &[
                    ("行政强制类别", "行政强制措施"),
                    ("行政强制方式", "扣押财物"),
                    ("行政强制事由", "涉嫌生产不符合国家标准的产品"),
                    ("行政强制依据", "《中华人民共和国产品质量法》第十八条"),
                    ("行政强制内容", "扣押涉案产品"),
                ],
            ),
            "行政强制决定日期",
            Some("1 year"),
            Some(7),
        ),
        (
            "admin_confirmation",
            with(
                confirmation,
                &[
                    ("确认类别", "登记"),
                    ("确认事项名称", "增值税一般纳税人登记"),
                    ("确认内容", "登记为增值税一般纳税人"),
                ],
            ),
            "确认决定日期",
            Some("3 years"),
            Some(7),
        ),
        (
            "admin_levy",
            with(
                levy,
                &[
                    ("征收类别", "政府性基金"),
                    ("征收项目", "残疾人就业保障金"),
                    ("征收依据", "《残疾人就业保障金征收使用管理办法》"),
                    ("征收金额(万元)", "1.25"),
                ],
            ),
            "征收决定日期",
            Some("3 years"),
            Some(7),
        ),
        (
            "admin_benefit",
            with(
                benefit,
                &[("给付类别", "稳岗返还"), ("给付项目", "失业保险稳岗返还"), ("给付依据", "《失业保险条例》")],
            ),
            "给付决定日期",
            Some("3 years"),
            Some(7),
        ),
        (
            "admin_adjudication",
            with(
                adjudication,
                &[
                    ("裁决类别", "权属纠纷"),
                    ("纠纷事项", "国有土地使用权争议"),
                    ("裁决依据", "《中华人民共和国土地管理法》第十四条"),
                    ("裁决结果", "确认争议地块使用权归申请人"),
                ],
            ),
            "裁决决定日期",
            Some("3 years"),
            Some(7),
        ),
        (
            "admin_compensation",
            with(
                compensation,
                &[
                    ("补偿类别", "征收补偿"),
                    ("补偿事由", "国有土地上房屋征收"),
                    ("补偿依据", "《国有土地上房屋征收与补偿条例》第十七条"),
                ],
            ),
            "补偿决定日期",
            Some("3 years"),
            Some(7),
        ),
        (
            "admin_reward",
            with(
                reward,
                &[
                    ("奖励类别", "通报表扬；奖金"),
                    ("奖励名称", "安全生产工作先进单位"),
                    ("奖励事由", "安全生产工作成绩突出"),
                    ("奖励依据", "《中华人民共和国安全生产法》第十九条"),
                ],
            ),
            "奖励决定日期",
            Some("3 years"),
            Some(7),
        ),
        (
            "admin_inspection",
            with(
                inspection,
                &[
                    ("检查任务名称", "企业公示信息抽查"),
                    ("检查类型", "双随机抽查"),
                    ("检查事项", "年度报告公示信息"),
                    ("检查结果", "未发现问题"),
                ],
            ),
            "检查日期",
            Some("3 years"),
            Some(7),
        ),
        (
            "product_quality_failure",
            with(
                quality,
                &[
                    ("产品名称", "电热水壶"),
                    ("不合格项目", "泄漏电流和电气强度"),
                    ("检验报告编号", "BJZJ20260800001"),
                    ("承检机构", "北京市产品质量监督检验研究院"),
                    ("抽查类别", "区县级监督抽查"),
                    ("公告日期", day),
                    ("数据来源单位", "北京市海淀区市场监督管理局"),
                    ("数据来源单位统一社会信用代码", AUTH_CODE),
                ],
            ),
            "公告日期",
            Some("1 year"),
            Some(20),
        ),
    ]
}

fn tax_rating(year: &str, level: &str, day: &str) -> Vec<(&'static str, String)> {
    let mut v = party("纳税人名称");
    v.extend(authority("评价机关", "评价机关统一社会信用代码", "国家税务总局北京市海淀区税务局"));
    v.extend([
        ("评价年度", year.to_string()),
        ("纳税信用级别", level.to_string()),
        ("评价日期", day.to_string()),
        ("数据来源单位", "国家税务总局北京市海淀区税务局".to_string()),
        ("数据来源单位统一社会信用代码", AUTH_CODE.to_string()),
    ]);
    v
}

/// Writes the rows (same columns each) as a CSV file and imports it as `provider`.
fn import(app: &App, dir: &Path, item: &str, rows: &[Vec<(&str, String)>]) -> xinyong_app::intake::ImportSummary {
    let path = dir.join(format!("{item}.csv"));
    let mut w = csv::Writer::from_path(&path).unwrap();
    w.write_record(rows[0].iter().map(|c| c.0)).unwrap();
    for r in rows {
        w.write_record(r.iter().map(|c| c.1.as_str())).unwrap();
    }
    w.flush().unwrap();
    xinyong_app::intake::import_file(app, &path, item, PROVIDER, &mut |_| {}).unwrap()
}

fn last_day(from: time::Date, window: &str) -> time::Date {
    Period::parse(window).unwrap().after(from).unwrap().previous_day().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_administrative_action_imports_publishes_and_shows() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let app = App::open_with(&data, None).unwrap();
    let officer = account(&app, "officer", "officer", Some(PROVIDER));
    let today = xinyong_app::today_shanghai();
    let decided = today - time::Duration::days(10);
    let day = date_string(decided);
    let old = date_string(today - time::Duration::days(800));

    let cases = cases(&day);
    for (item, row, _, _, _) in &cases {
        let s = import(&app, dir.path(), item, std::slice::from_ref(row));
        assert_eq!((s.accepted, s.quarantined), (1, 0), "{item}: {s:?}");
    }
    // a 行政强制 decided 800 days ago is past its 1-year window
    let mut stale = cases[0].1.clone();
    for c in &mut stale {
        match c.0 {
            "行政强制决定书文号" => c.1 = "京海市监强〔2024〕9号".into(),
            "行政强制决定日期" => c.1 = old.clone(),
            _ => {}
        }
    }
    assert_eq!(import(&app, dir.path(), "admin_enforcement", &[stale]).accepted, 1);
    let last_year = (today.year() - 1).to_string();
    let ratings = [tax_rating(&last_year, "A", &day), tax_rating(&(today.year() - 2).to_string(), "B", &day)];
    let s = import(&app, dir.path(), "tax_credit_rating", &ratings);
    assert_eq!((s.accepted, s.quarantined), (2, 0), "{s:?}");
    drop(app);

    let running = common::serve(&data).await;
    let s = Server {
        base: running.base.clone(),
        _running: running,
        _dir: dir,
        admin: String::new(),
        officer,
        other_officer: String::new(),
        manifest: xinyong_app::synthetic::GenManifest { seed: 0, subjects: 0, records: 0, files: vec![] },
        data,
    };

    // the public record: each new item once, with its window and deadline
    let (st, v) = get(&s, &format!("/api/v1/subjects/{CODE}"), None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let records = v["records"].as_array().unwrap();
    let cal = WorkCalendar::official();
    for (item, _, date_field, window, due) in &cases {
        let shown: Vec<&Value> = records.iter().filter(|r| r["item"] == *item).collect();
        assert_eq!(shown.len(), 1, "{item}: {shown:?}");
        let p = &shown[0]["publicity"];
        assert_eq!(p["public"], true, "{item}: {p}");
        assert_eq!(p["public_from"], day, "{item}");
        let until = window.map(|w| date_string(last_day(decided, w)));
        assert_eq!(p["public_until"].as_str(), until.as_deref(), "{item}");
        let due = due.map(|n| date_string(cal.deadline(decided, n).unwrap().date));
        assert_eq!(p["publish_due"].as_str(), due.as_deref(), "{item}");
        assert_eq!(shown[0]["decision_date"], day, "{item}");
        let fields = shown[0]["fields"].as_array().unwrap();
        assert!(fields.iter().any(|f| f["name"] == *date_field && f["value"] == day), "{item}: {fields:?}");
    }
    // only the A-level rating is public; the department sees both
    let taxes: Vec<&Value> = records.iter().filter(|r| r["item"] == "tax_credit_rating").collect();
    assert_eq!(taxes.len(), 1, "{taxes:?}");
    assert!(taxes[0]["fields"].as_array().unwrap().iter().any(|f| f["name"] == "纳税信用级别" && f["value"] == "A"));
    assert_eq!(taxes[0]["publicity"]["public_until"], date_string(last_day(decided, "1 year")));
    let (_, mine) = get(&s, &format!("/api/v1/subjects/{CODE}?purpose=test"), Some(&s.officer)).await;
    let all_taxes: Vec<&Value> =
        mine["records"].as_array().unwrap().iter().filter(|r| r["item"] == "tax_credit_rating").collect();
    assert_eq!(all_taxes.len(), 2);
    let b = all_taxes.iter().find(|r| r["publicity"]["public"] == false).unwrap();
    assert!(b["publicity"]["reason_zh"].as_str().unwrap().contains("仅“A”"), "{b}");
    // the stale enforcement is past its window: the public does not see it, the department does
    let enforcements =
        |v: &Value| v["records"].as_array().unwrap().iter().filter(|r| r["item"] == "admin_enforcement").count();
    assert_eq!((enforcements(&v), enforcements(&mine)), (1, 2));

    // the A-level list (银税互动): the item filtered by level
    let (st, list) = get(&s, "/api/v1/records?item=tax_credit_rating&field=纳税信用级别&value=A", None).await;
    assert_eq!(st, StatusCode::OK, "{list}");
    let rows = list["records"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{list}");
    assert_eq!((rows[0]["subject_code"].as_str(), rows[0]["subject_name"].as_str()), (Some(CODE), Some(NAME)));
    assert_eq!(rows[0]["record"]["publicity"]["public"], true);
    let (_, b_list) = get(&s, "/api/v1/records?item=tax_credit_rating&field=纳税信用级别&value=B", None).await;
    assert_eq!(b_list["records"].as_array().unwrap().len(), 0, "B ratings are not public: {b_list}");
    let (_, all) = get(&s, "/api/v1/records?item=admin_enforcement", None).await;
    assert_eq!(all["records"].as_array().unwrap().len(), 1, "only the one inside its window: {all}");
    // paging: one per page, then nothing
    let (_, p1) = get(&s, "/api/v1/records?item=admin_levy&limit=1", None).await;
    let next = p1["next_after"].as_i64().unwrap();
    let (_, p2) = get(&s, &format!("/api/v1/records?item=admin_levy&after={next}"), None).await;
    assert_eq!((p1["records"].as_array().unwrap().len(), p2["records"].as_array().unwrap().len()), (1, 0));
    assert!(p2["next_after"].is_null());
    for bad in ["item=nope", "item=tax_credit_rating&field=等级&value=A", "item=tax_credit_rating&field=纳税信用级别"]
    {
        let (st, v) = get(&s, &format!("/api/v1/records?{bad}"), None).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {v}");
    }

    // the portal shows them in their sections
    let html = client().get(format!("{}/subjects/{CODE}", s.base)).send().await.unwrap().text().await.unwrap();
    for needle in [
        "sec-enforcement",
        "sec-inspections",
        "sec-admin_other",
        "sec-evaluations",
        "京海市监强〔2026〕1号",
        "京海政补〔2026〕1号",
        "BJZJ20260800001",
        "产品质量监督抽查不合格信息",
        "纳税信用等级信息",
    ] {
        assert!(html.contains(needle), "{needle} missing from the subject page");
    }
    assert!(!html.contains("京海市监强〔2024〕9号"), "the stale enforcement is not public");
    assert!(!html.contains("sec-other"), "every item has its section");
}
