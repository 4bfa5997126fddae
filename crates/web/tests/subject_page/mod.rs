//! The subject page in people's language, over HTTP: division and industry by name
//! (GB/T 2260, GB/T 4754) on the page, in search results and in the API next to their
//! codes; the page opens with counts of what the viewer is shown, and records are
//! rows that expand to their fields.

use super::due_process::{days_ago, penalty};
use super::*;

async fn store(s: &Server, item: &str, rows: Vec<serde_json::Map<String, Value>>) -> Vec<i64> {
    let (st, v) = post(s, "/api/v1/records", Some(&s.officer), json!({"item": item, "rows": rows})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["rows"].as_array().unwrap().iter().map(|r| r["record_id"].as_i64().unwrap_or_else(|| panic!("{r}"))).collect()
}

/// The HTML of the element with `id`, up to the end of its first `</tag>`.
fn element<'a>(html: &'a str, id: &str, tag: &str) -> &'a str {
    let from = html.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id} in {html}"));
    let rest = &html[from..];
    &rest[..rest.find(&format!("</{tag}>")).unwrap_or(rest.len())]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_subject_page_names_divisions_and_industries_and_opens_with_counts() {
    let s = start().await;
    let code = xinyong_core::Uscc::complete("9111010500000777").unwrap().as_str().to_string();
    let name = "北京概览测试科技有限公司";
    let registration = json!({"统一社会信用代码": code, "主体名称": name, "成立日期": "2020-01-01",
                              "行政区划代码": "110105", "行业门类": "I", "登记状态": "存续"});
    store(&s, "registration", vec![registration.as_object().unwrap().clone()]).await;
    let ids = store(
        &s,
        "admin_penalty",
        vec![
            penalty(&code, name, "京朝城管罚〔2026〕概1号", days_ago(20)),
            penalty(&code, name, "京朝城管罚〔2026〕概2号", days_ago(10)),
            // decided years ago: its publication window is over, so the public does not
            // see it and the public summary must not count it
            penalty(&code, name, "京朝城管罚〔2019〕概3号", days_ago(2000)),
        ],
    )
    .await;
    let objection = json!({"code": code, "record_id": ids[1], "applicant": "张三", "reasons": "处罚对象有误",
                           "contact": "13800000000"});
    let (st, v) = post(&s, "/api/v1/objections", None, objection).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");

    // the API keeps the codes and adds the names and the counts
    let (st, v) = get(&s, &format!("/api/v1/subjects/{code}"), None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!((v["division"].as_str(), v["division_name"].as_str()), (Some("110105"), Some("北京市朝阳区")));
    assert_eq!(
        (v["industry"].as_str(), v["industry_name"].as_str()),
        (Some("I"), Some("信息传输、软件和信息技术服务业"))
    );
    let items = v["summary"]["items"].as_array().unwrap();
    let penalties = items.iter().find(|c| c["item"] == "admin_penalty").unwrap();
    assert_eq!((penalties["count"].as_u64(), penalties["name_zh"].as_str()), (Some(2), Some("行政处罚信息")), "{v}");
    assert_eq!(v["summary"]["disputed"], 1, "{v}");
    assert_eq!(v["summary"]["records"].as_u64(), Some(v["records"].as_array().unwrap().len() as u64));
    // a department sees the old penalty too, and its summary counts it
    let (_, mine) = get(&s, &format!("/api/v1/subjects/{code}?purpose=审查"), Some(&s.officer)).await;
    let count = |v: &Value| {
        v["summary"]["items"].as_array().unwrap().iter().find(|c| c["item"] == "admin_penalty").unwrap()["count"]
            .clone()
    };
    assert_eq!(count(&mine), 3, "{mine}");

    // the page: names, summary tiles, rows that expand
    let c = client();
    let html = c.get(format!("{}/subjects/{code}", s.base)).send().await.unwrap().text().await.unwrap();
    let division = element(&html, "division", "dd");
    assert!(division.contains("北京市朝阳区") && division.contains("110105"), "{division}");
    assert!(element(&html, "industry", "dd").contains("信息传输、软件和信息技术服务业"));
    let summary = element(&html, "summary", "section");
    assert!(summary.contains("概览"), "{summary}");
    let tile = element(summary, "summary-penalties", "li");
    assert!(tile.contains("<strong class=\"n\">2</strong>") && tile.contains("行政处罚"), "{tile}");
    assert!(element(summary, "summary-disputed", "li").contains("<strong class=\"n\">1</strong>"), "{summary}");
    assert!(element(summary, "summary-lists", "li").contains("<strong class=\"n\">0</strong>"), "{summary}");
    assert!(element(summary, "summary-licences", "li").contains("<strong class=\"n\">0</strong>"), "{summary}");
    assert!(!summary.contains("summary-cases"), "the public is not shown supervision counts");
    assert!(!html.contains("概3号"), "the old penalty is not public");
    // the disputed record: a row whose summary line carries date, item, document
    // number, department and the badge; its fields inside the same <details>
    let row = element(&html, &format!("record-{}", ids[1]), "article");
    let line = &row[row.find("<summary>").unwrap()..row.find("</summary>").unwrap()];
    for part in [xinyong_core::record::date_string(days_ago(10)).as_str(), "行政处罚信息", "京朝城管罚〔2026〕概2号"]
    {
        assert!(line.contains(part), "{part} in {line}");
    }
    assert!(line.contains(PROVIDER) && line.contains("badge disputed"), "{line}");
    let details = &row[row.find("<details>").unwrap()..row.find("</details>").unwrap()];
    assert!(details.contains("违法事实") && details.contains("扬尘污染") && details.contains("/ledger/"), "{details}");
    // newest decision first
    let (a, b) = (html.find(&format!("id=\"record-{}\"", ids[1])), html.find(&format!("id=\"record-{}\"", ids[0])));
    assert!(a.unwrap() < b.unwrap(), "newest first");

    // in English: the labels switch, the names stay Chinese (the standards' own)
    let en = c.get(format!("{}/subjects/{code}?lang=en", s.base)).send().await.unwrap().text().await.unwrap();
    assert!(en.contains(">Summary<") && en.contains("Objection pending") && en.contains("北京市朝阳区"), "{en}");

    // an officer also sees the supervision count and the older penalty counted
    let officer = cookie_client();
    assert_eq!(sign_in(&officer, &s, "officer", common::PASSWORD).await, StatusCode::SEE_OTHER);
    let html = officer.get(format!("{}/subjects/{code}", s.base)).send().await.unwrap().text().await.unwrap();
    let summary = element(&html, "summary", "section");
    assert!(element(summary, "summary-penalties", "li").contains("<strong class=\"n\">3</strong>"), "{summary}");
    assert!(summary.contains("id=\"summary-cases\""), "{summary}");

    // search results name the division a USCC carries
    let html =
        c.get(format!("{}/search?q={}", s.base, urlencode("北京概览测试"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("<span class=\"division\">北京市朝阳区</span>"), "{html}");
}

/// A commitment signed over the API shows on the subject page with its state and due
/// date; once the clock broke it, the page shows the breach and its record in the
/// commitments section.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commitments_show_on_the_subject_page_with_state_and_due_date() {
    let s = start().await;
    let code = xinyong_core::Uscc::complete("9111010500000888").unwrap().as_str().to_string();
    let registration = json!({"统一社会信用代码": code, "主体名称": "北京承诺测试科技有限公司", "成立日期": "2020-01-01",
                              "行政区划代码": "110105", "行业门类": "I", "登记状态": "存续"});
    store(&s, "registration", vec![registration.as_object().unwrap().clone()]).await;
    s._running.app.set_clock_day(Some(time::macros::date!(2026 - 09 - 28)));
    let paper =
        json!({"matter": "M-SAMR-0002", "code": code, "signed_on": "2026-09-28", "number": "京市监容缺〔2026〕页1号"});
    let (st, v) = post(&s, "/api/v1/commitments", Some(&s.admin), paper).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let id = v["record_id"].as_i64().unwrap();
    assert_eq!(v["due"], "2026-10-10");

    let c = client();
    let page = |c: reqwest::Client| {
        let url = format!("{}/subjects/{code}", s.base);
        async move { c.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let html = page(c.clone()).await;
    let row = element(&html, &format!("record-{id}"), "article");
    assert!(row.contains("履约期限 2026-10-10"), "{row}");

    // past the due date the clock breaks it; the breach is a record in the same section
    s._running.app.set_clock_day(Some(time::macros::date!(2026 - 10 - 11)));
    s._running.app.follow_commitments(true).unwrap();
    let html = page(c).await;
    let row = element(&html, &format!("record-{id}"), "article");
    assert!(row.contains("badge commitment breached") && row.contains("未履约"), "{row}");
    assert!(row.contains("逾期自动认定") && row.contains("违诺记录"), "{row}");
    assert!(html.contains("违背信用承诺信息"), "the breach record is on the page");
    let (_, v) = get(&s, &format!("/api/v1/subjects/{code}/commitments"), None).await;
    assert_eq!(v["commitments"][0]["state"], "breached", "{v}");
    assert_eq!(v["summary"]["breached"], 1, "{v}");
    s._running.app.set_clock_day(None);
}
