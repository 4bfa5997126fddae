//! The portal's list pages, listing procedure, check form and an entity's own page,
//! against a real server on a loopback port over a store with generated data and the
//! demo listings of every type. Forms are posted as a browser without JavaScript would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use reqwest::StatusCode;
use serde_json::Value;
use time::Duration;
use xinyong_app::synthetic::{GenEncoding, GenFormat, GenOptions};
use xinyong_core::record::date_string;

const PROVIDER: &str = "演示数据中心";
use common::{PASSWORD, account};

struct Server {
    base: String,
    _running: common::Running,
    _dir: tempfile::TempDir,
    /// Enterprises: the first nine carry the demo listings (see `seed_demo`).
    entities: Vec<String>,
    officer_token: String,
}

/// The generated data set of these tests (the same subjects on every platform made).
fn generated() -> GenOptions {
    GenOptions {
        subjects: 120,
        records: 600,
        seed: 11,
        dirty_percent: 0,
        format: GenFormat::Mixed,
        encoding: GenEncoding::Utf8,
        latest_date: xinyong_app::today_shanghai(),
    }
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = common::load(dir.path(), &generated(), PROVIDER);
    let entities: Vec<String> = app
        .subjects_after(&xinyong_app::Caller::operator(), "", 2_000)
        .unwrap()
        .into_iter()
        .filter(|s| s.kind == "enterprise")
        .map(|s| s.code)
        // none the generated records already put on a list (abnormal operation, courts)
        .filter(|c| app.listings_of_subject(&xinyong_app::Caller::operator(), c).unwrap().is_empty())
        .take(12)
        .collect();
    assert!(entities.len() >= 12, "enough enterprises");
    xinyong_app::listings::seed_demo(&app, &entities[..9], PROVIDER, xinyong_app::today_shanghai()).unwrap();
    account(&app, "admin", "admin", None, None);
    let officer_token = account(&app, "officer", "officer", Some(PROVIDER), None);
    account(&app, "other", "officer", Some("其他部门"), None);
    account(&app, "entity", "subject", None, Some(&entities[0]));
    account(&app, "entity2", "subject", None, Some(&entities[1]));
    drop(app);
    let running = common::serve(&dir.path().join("data")).await;
    Server { base: running.base.clone(), _running: running, _dir: dir, entities, officer_token }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The hidden CSRF field of a rendered form.
fn csrf_field(html: &str) -> String {
    html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string()
}

/// A browser session signed in as `username`, with its form token.
async fn signed_in(s: &Server, username: &str) -> (reqwest::Client, String) {
    let jar = client();
    let form = jar.get(format!("{}/login", s.base)).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_field(&form);
    let res = jar
        .post(format!("{}/login", s.base))
        .form(&[("username", username), ("password", PASSWORD), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "sign in as {username}");
    let home = jar.get(format!("{}/", s.base)).send().await.unwrap().text().await.unwrap();
    (jar, csrf_field(&home))
}

async fn page(jar: &reqwest::Client, s: &Server, path: &str) -> (StatusCode, String) {
    let res = jar.get(format!("{}{path}", s.base)).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

async fn submit(jar: &reqwest::Client, s: &Server, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let res = jar.post(format!("{}{path}", s.base)).form(form).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

fn days_ago(n: i64) -> String {
    date_string(xinyong_app::today_shanghai() - Duration::days(n))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_procedure_and_checks_in_the_portal() {
    let s = start().await;
    let anon = client();
    let e = &s.entities;

    // ---- /lists: every type with its rules; the shared type is not linked for the public
    let (st, html) = page(&anon, &s, "/lists").await;
    assert_eq!(st, StatusCode::OK);
    for needle in ["严重失信主体名单", "重点关注对象名单", "经营异常名录", "仅政务共享", "社会公示", "href=\"/lists\""]
    {
        assert!(html.contains(needle), "{needle} on /lists");
    }
    assert!(html.contains("href=\"/lists/serious_dishonesty\""));
    assert!(!html.contains("href=\"/lists/key_attention\""), "a shared list is not offered to the public");
    assert!(html.contains("可申请提前移出"), "exit route");
    let (_, en) = page(&anon, &s, "/lists?lang=en").await;
    assert!(en.contains("Seriously dishonest subjects list") && en.contains("Credit lists"));
    let anon = client(); // back to Chinese (the language cookie stays with the other client)

    // ---- /lists/{type}: who is listed, why, until when, how to exit
    let (st, html) = page(&anon, &s, "/lists/serious_dishonesty").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains(&format!("href=\"/subjects/{}\"", e[0])), "the listed entity links to its page");
    assert!(html.contains("提供虚假材料骗取行政许可") && html.contains("北京市市场监督管理局"));
    assert!(html.contains("有效期届满自动移出"), "how to exit: the decision's removal text");
    assert!(!html.contains(&e[1]), "a noticed listing is not on the public list");
    assert!(!html.contains(&e[7]), "a removed listing is not on the list of active entries");
    let (_, html) = page(&anon, &s, "/lists/abnormal_operation").await;
    // a list that follows from records: the demo's records put entries on it, each citing
    // the registration authority's decision number
    assert!(html.contains("长期") && html.contains("所依据文书：列入决定书文号"), "open-ended derived entries");
    let (_, html) = page(&anon, &s, "/lists/market_ban").await;
    assert!(html.contains(&e[2]) && html.contains("终身"), "a life ban shows 终身");
    let (st, _) = page(&anon, &s, "/lists/key_attention").await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = page(&anon, &s, "/lists/nope").await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // ---- the subject page's 信用名单 section
    let (st, html) = page(&anon, &s, &format!("/subjects/{}", e[0])).await;
    assert_eq!(st, StatusCode::OK);
    for needle in [
        "id=\"sec-credit-lists\"",
        "事由",
        "依据",
        "惩戒措施提示",
        "移出条件和程序",
        "救济",
        "异议处理意见",
        "告知日期",
        "异议期至",
    ] {
        assert!(html.contains(needle), "{needle} on the subject page");
    }
    assert!(html.contains("材料系中介机构提供"), "the objection is shown");
    let (_, html) = page(&anon, &s, &format!("/subjects/{}", e[2])).await;
    assert!(html.contains("王建国") && html.contains("法定代表人"));
    assert!(!html.contains("11010519491231002X"), "the responsible person's ID is masked");
    // once an entry ends, nothing public shows that it was there (departments still see it)
    let (_, html) = page(&anon, &s, &format!("/subjects/{}", e[7])).await;
    assert!(!html.contains("已全部履行，申请提前移出"), "a removed entry is not public");
    let (_, html) = page(&anon, &s, &format!("/subjects/{}", e[3])).await;
    assert!(!html.contains("重点关注对象名单"), "shared list entries are not public");
    let (_, html) = page(&anon, &s, &format!("/subjects/{}", e[1])).await;
    assert!(!html.contains("拒不履行行政处罚决定"), "a noticed listing is not public");

    // ---- officer pages: the department's listings
    let (officer, csrf) = signed_in(&s, "officer").await;
    let (_, html) = page(&officer, &s, &format!("/subjects/{}", e[7])).await;
    assert!(html.contains("已移出") && html.contains("已全部履行，申请提前移出"), "removed entry with its reason");
    let (_, html) = page(&officer, &s, &format!("/subjects/{}", e[3])).await;
    assert!(html.contains("重点关注对象名单"), "officers see shared list entries");
    let (st, html) = page(&officer, &s, "/lists/key_attention").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains(&e[3]));
    let (st, html) = page(&officer, &s, "/officer/listings").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("拒不履行行政处罚决定") && html.contains(&e[1]), "the noticed listing awaits decision");
    assert!(html.contains(&e[5]) && html.contains(&e[3]), "the department's listed entries");
    assert!(!html.contains("提供虚假材料骗取行政许可"), "another department's listing is not here");
    let (st, _) = page(&anon, &s, "/officer/listings").await;
    assert_eq!(st, StatusCode::SEE_OTHER);

    // propose without a legal basis: refused with the rule's reason, on the page
    let basis = "《市场监督管理严重违法失信名单管理办法》第二条";
    let notice_date = days_ago(30);
    let (st, html) = submit(
        &officer,
        &s,
        "/officer/listings",
        &[
            ("csrf", &csrf),
            ("code", &e[9]),
            ("list_type", "serious_dishonesty"),
            ("reason", "提供虚假材料"),
            ("mode", "notice"),
            ("notice_date", &notice_date),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"outcome\"") && html.contains("legal basis"), "bilingual reason shown: {html}");
    // a wrong form token
    let (st, _) = submit(&officer, &s, "/officer/listings", &[("csrf", "wrong"), ("code", &e[9])]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // with notice, thirty days ago
    let (st, html) = submit(
        &officer,
        &s,
        "/officer/listings",
        &[
            ("csrf", &csrf),
            ("code", &e[9]),
            ("list_type", "serious_dishonesty"),
            ("basis", basis),
            ("reason", "提供虚假材料骗取行政许可"),
            ("mode", "notice"),
            ("notice_date", &notice_date),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(html.contains("已告知"));
    let id: i64 = html
        .split("id=\"outcome\"")
        .nth(1)
        .unwrap()
        .split('#')
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let decision_path = format!("/officer/listings/{id}/decision");
    assert!(html.contains(&format!("action=\"{decision_path}\"")), "the decision form of the new listing");

    // decision without the document fields: refused with every missing one
    let today = days_ago(0);
    let (st, html) = submit(&officer, &s, &decision_path, &[("csrf", &csrf), ("decision_date", &today)]).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("惩戒措施提示") && html.contains("移出条件和程序"), "missing fields named: {html}");
    // another department may not decide it
    let (other, other_csrf) = signed_in(&s, "other").await;
    let (st, html) = submit(&other, &s, &decision_path, &[("csrf", &other_csrf), ("decision_date", &today)]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(html.contains("谁列入、谁移出"));
    // the decision
    let doc = [
        ("doc_reason", "经查，该主体提供虚假材料骗取行政许可。"),
        ("doc_basis", basis),
        ("doc_measures_notice", "列入期间依法限制参加政府采购等活动。"),
        ("doc_removal", "有效期届满自动移出；列入满1年可申请提前移出。"),
        ("doc_remedy", "可于六十日内申请行政复议。"),
    ];
    let mut form = vec![("csrf", csrf.as_str()), ("decision_date", today.as_str())];
    form.extend(doc.iter().copied());
    let (st, html) = submit(&officer, &s, &decision_path, &form).await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(html.contains("已作出列入决定"));
    // now public, and the check index knows it at once
    let (_, html) = page(&anon, &s, "/lists/serious_dishonesty").await;
    assert!(html.contains(&e[9]), "the decided listing is on the public list");
    let (_, html) = page(&anon, &s, &format!("/subjects/{}", e[9])).await;
    assert!(html.contains("列入期间依法限制参加政府采购等活动。"));
    let (st, html) = submit(
        &officer,
        &s,
        "/check",
        &[("csrf", &csrf), ("code", &e[9]), ("matter", "government_procurement"), ("purpose", "项目 A 投标人资格审查")],
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("verdict-prohibit"), "the new listing counts at once");

    // removal: early removal is refused before a year; a revoked decision is accepted
    let removal_path = format!("/officer/listings/{id}/removal");
    let (st, html) = submit(
        &officer,
        &s,
        &removal_path,
        &[("csrf", &csrf), ("date", &today), ("kind", "early_removal"), ("reason", "已纠正")],
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("提前移出须自"), "{html}");
    let (st, html) = submit(
        &officer,
        &s,
        &removal_path,
        &[("csrf", &csrf), ("date", &today), ("kind", "decision_revoked"), ("reason", "行政复议撤销原决定")],
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(html.contains("已移出"));
    // the public no longer sees it; the department sees why it ended
    let (_, html) = page(&anon, &s, &format!("/subjects/{}", e[9])).await;
    assert!(!html.contains("行政复议撤销原决定"), "a revoked decision is not public");
    let (_, html) = page(&officer, &s, &format!("/subjects/{}", e[9])).await;
    assert!(html.contains("行政复议撤销原决定") && html.contains("决定被撤销"));

    // a direct decision where the type needs no notice
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("code", e[10].as_str()),
        ("list_type", "key_attention"),
        ("basis", "《北京市社会信用条例》第三十条"),
        ("reason", "未按规定期限公示年度报告"),
        ("mode", "direct"),
        ("decision_date", today.as_str()),
    ];
    form.extend([
        ("doc_reason", "未按规定期限公示年度报告。"),
        ("doc_basis", "《企业信息公示暂行条例》第十七条"),
        ("doc_removal", "补报并公示年度报告后申请移出。"),
        ("doc_remedy", "可于六十日内申请行政复议。"),
    ]);
    let (st, html) = submit(&officer, &s, "/officer/listings", &form).await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(html.contains("已作出列入决定"));

    // withdrawal of the demo's noticed listing (no decision)
    let (_, html) = page(&officer, &s, "/officer/listings").await;
    let noticed_id = html.split("id=\"noticed-").nth(1).unwrap().split('"').next().unwrap().to_string();
    let (st, html) = submit(
        &officer,
        &s,
        &format!("/officer/listings/{noticed_id}/removal"),
        &[("csrf", &csrf), ("date", &today), ("kind", "withdrawn"), ("reason", "异议成立，不予列入")],
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(!html.contains("id=\"noticed-"), "nothing awaits decision any more");

    // an administrator checks for a department it names
    let (admin, admin_csrf) = signed_in(&s, "admin").await;
    let check_form = |dept: &'static str| {
        vec![
            ("csrf", admin_csrf.clone()),
            ("code", e[0].clone()),
            ("matter", "bidding".to_string()),
            ("purpose", "招标项目资格审查".to_string()),
            ("department", dept.to_string()),
        ]
    };
    let res = admin.post(format!("{}/check", s.base)).form(&check_form("")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "an administrator names the department");
    let res =
        admin.post(format!("{}/check?lang=en", s.base)).form(&check_form("市住房城乡建设委")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("verdict-restrict"), "bidding: restricted");

    // ---- the check form: result with legal bases, logged as the API logs it, then feedback
    let (st, html) = page(&officer, &s, "/check").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("政府采购") && html.contains("id=\"batch-form\""));
    let (st, html) = submit(
        &officer,
        &s,
        "/check",
        &[("csrf", &csrf), ("code", &e[0]), ("matter", "government_procurement"), ("purpose", "项目 B 供应商资格审查")],
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("id=\"verdict\">禁止"), "verdict badge");
    assert!(
        html.contains("《中华人民共和国政府采购法》第二十二条") && html.contains("财政部门"),
        "legal basis and departments"
    );
    let check_id = html.split("id=\"check-id\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    assert!(check_id.starts_with("chk_"));
    let logged: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/checks/{check_id}", s.base))
        .bearer_auth(&s.officer_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(logged["check"]["verdict"], "prohibit", "the portal's check is in the check log: {logged}");
    assert_eq!(logged["check"]["purpose"], "项目 B 供应商资格审查");
    let measures: Vec<String> =
        logged["check"]["measures"].as_array().unwrap().iter().map(|m| m.as_str().unwrap().to_string()).collect();
    assert!(measures.contains(&"M-SD-01".to_string()));
    for m in &measures {
        assert!(html.contains(&format!("name=\"m:{m}\"")), "feedback choice for {m}");
    }
    // not applied without a reason: refused, the form shown again
    let fb_path = format!("/check/{check_id}/feedback");
    let mut fb: Vec<(String, String)> = vec![("csrf".into(), csrf.clone())];
    for m in &measures {
        fb.push((format!("m:{m}"), "not_applied".into()));
    }
    let res = officer.post(format!("{}{fb_path}", s.base)).form(&fb).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"feedback-error\"") && html.contains("id=\"feedback-form\""));
    // every measure applied, with a note
    let mut fb: Vec<(String, String)> = vec![("csrf".into(), csrf.clone()), ("note".into(), "已取消其投标资格".into())];
    for m in &measures {
        fb.push((format!("m:{m}"), "applied".into()));
    }
    let res = officer.post(format!("{}{fb_path}", s.base)).form(&fb).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"feedback-ok\"") && html.contains("反馈已记录"));
    let logged: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/checks/{check_id}", s.base))
        .bearer_auth(&s.officer_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(logged["check"]["feedback"]["note"], "已取消其投标资格");
    // feedback is given once
    let res = officer.post(format!("{}{fb_path}", s.base)).form(&fb).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    // another department may not answer for this check
    let res = other
        .post(format!("{}{fb_path}", s.base))
        .form(&[("csrf", other_csrf.as_str()), ("note", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // an invalid code: the rule's reason on the page
    let (st, html) = submit(
        &officer,
        &s,
        "/check",
        &[("csrf", &csrf), ("code", "91110108551385082R"), ("matter", "government_procurement"), ("purpose", "x")],
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"check-error\""));

    // a bidder list pasted as CSV (header, two good codes, one bad)
    let csv = format!("序号,名称,统一社会信用代码\n1,甲,{}\n2,乙,{}\n3,丙,91110108551385082R\n", e[0], e[11]);
    let (st, html) = submit(
        &officer,
        &s,
        "/check/batch",
        &[("csrf", &csrf), ("codes", &csv), ("matter", "government_procurement"), ("purpose", "项目 C 投标人名单")],
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let table = html.split("id=\"batch-results\"").nth(1).unwrap();
    assert_eq!(table.matches("<tr><td>").count(), 3, "one row per code");
    assert_eq!(table.matches("chk_").count(), 2, "every answered code has a check id");
    assert!(table.contains("verdict-prohibit") && table.contains("verdict-clear"));
    assert!(table.contains("第 18 位校验码"), "the bad code's reason");

    // only departments check
    let (st, _) = page(&anon, &s, "/check").await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (entity, entity_csrf) = signed_in(&s, "entity").await;
    let (st, _) = page(&entity, &s, "/check").await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = submit(&entity, &s, "/officer/listings", &[("csrf", &entity_csrf), ("code", &e[0])]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // ---- /me: the entity sees who checked it, for what, and its listings
    let (st, html) = page(&entity, &s, "/me").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains(PROVIDER) && html.contains("政府采购") && html.contains("项目 B 供应商资格审查"));
    assert!(html.contains("项目 C 投标人名单") && html.contains("verdict-prohibit"));
    assert!(html.contains("严重失信主体名单") && html.contains("提供虚假材料骗取行政许可"));
    let (_, html) = page(&officer, &s, "/me").await;
    assert!(html.contains("该账号不是主体账号"));

    // an entity with a noticed listing objects from its own page, inside the window
    let today = days_ago(0);
    let notice = [
        ("csrf", csrf.as_str()),
        ("code", e[1].as_str()),
        ("list_type", "serious_dishonesty"),
        ("reason", "拒不履行行政处罚决定"),
        ("basis", "《市场监督管理严重违法失信名单管理办法》第二条"),
        ("mode", "notice"),
        ("notice_date", today.as_str()),
    ];
    let (st, html) = submit(&officer, &s, "/officer/listings", &notice).await;
    assert_eq!(st, StatusCode::OK, "{html}");
    let (entity2, csrf2) = signed_in(&s, "entity2").await;
    let (_, html) = page(&entity2, &s, "/me").await;
    let action = html.split("action=\"/me/listings/").nth(1).and_then(|r| r.split('"').next()).unwrap().to_string();
    let (st, _) = submit(&entity2, &s, &format!("/me/listings/{action}"), &[("csrf", "wrong"), ("text", "x")]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let objection = [("csrf", csrf2.as_str()), ("text", "该处罚已于上周履行完毕，附缴款凭证")];
    let (st, _) = submit(&entity2, &s, &format!("/me/listings/{action}"), &objection).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, html) = page(&entity2, &s, "/me").await;
    assert!(html.contains("该处罚已于上周履行完毕"), "the objection is on the entity's page");
    // another entity cannot object to it
    let (st, _) =
        submit(&entity, &s, &format!("/me/listings/{action}"), &[("csrf", &entity_csrf), ("text", "x")]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // figures per department: the officer sees its own department's
    let (st, html) = page(&officer, &s, "/officer/stats").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("id=\"stats\"") && html.contains(PROVIDER) && html.contains("反馈率"), "{html}");
    let (st, _) = page(&entity, &s, "/officer/stats").await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // the language switch on a result page (a form target) goes back to the form
    let res = officer.get(format!("{}/check/chk_x/feedback?lang=en", s.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/check?lang=en");
}

/// A JSON call that changes something, made with a session cookie, needs the session's
/// token in `X-CSRF-Token`: another site's page cannot make the browser send one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_json_calls_need_the_csrf_header() {
    let s = start().await;
    let (officer, csrf) = signed_in(&s, "officer").await;
    let body = serde_json::json!({"code": s.entities[11], "matter": "government_procurement", "purpose": "跨站测试"});
    let url = format!("{}/api/v1/checks", s.base);
    let forged = officer.post(&url).json(&body).send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let v: serde_json::Value = forged.json().await.unwrap();
    assert!(v["error"]["message"].as_str().unwrap().contains("X-CSRF-Token"), "{v}");
    let own = officer.post(&url).header("x-csrf-token", &csrf).json(&body).send().await.unwrap();
    assert_eq!(own.status(), StatusCode::OK);
    // reads need nothing, and a token caller needs no CSRF header
    assert_eq!(officer.get(format!("{}/api/v1/quarantine", s.base)).send().await.unwrap().status(), StatusCode::OK);
    let token = client().post(&url).bearer_auth(&s.officer_token).json(&body).send().await.unwrap();
    assert_eq!(token.status(), StatusCode::OK);
}

/// Exchange between platforms: another region's platform (Tianjin, signing with SM2)
/// sends a batch; its list entries show on this portal's list page and subject page,
/// each marked with its origin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_regions_entries_show_marked_with_their_origin() {
    let s = start().await;
    let tj_dir = tempfile::tempdir().unwrap();
    let (entities, app) = (s.entities.clone(), s._running.app.clone());
    let imported = tokio::task::spawn_blocking(move || {
        use xinyong_app::ledger::Algorithm;
        let op = xinyong_app::Caller::operator();
        let data = tj_dir.path().join("data");
        xinyong_app::App::init(&data, None, "xinyong.tianjin/ledger", Algorithm::Sm2).unwrap();
        let (tj, _) = common::load(tj_dir.path(), &generated(), "天津数据中心");
        xinyong_app::listings::seed_demo(&tj, &entities[..9], "天津数据中心", xinyong_app::today_shanghai()).unwrap();
        app.trust_peer(&op, &tj.verifier().to_text()).unwrap();
        let batch = tj.export_batch(&op, 0, "*").unwrap();
        app.import_batch(&op, &batch.text).unwrap()
    })
    .await
    .unwrap();
    assert!(imported.entries_changed > 0, "{imported:?}");
    let jar = client();
    let (status, html) = page(&jar, &s, "/lists/serious_dishonesty").await;
    assert_eq!(status, StatusCode::OK);
    // (minijinja writes '/' as &#x2f;)
    assert!(
        html.contains("异地共享名单") && html.contains("xinyong.tianjin&#x2f;ledger"),
        "the list page marks the origin"
    );
    let mut shown = false;
    for code in &s.entities[..9] {
        let (status, html) = page(&jar, &s, &format!("/subjects/{code}")).await;
        assert_eq!(status, StatusCode::OK);
        shown |= html.contains("异地共享信息") && html.contains("xinyong.tianjin&#x2f;ledger");
    }
    assert!(shown, "a subject page shows another region's entry with its origin");
}
