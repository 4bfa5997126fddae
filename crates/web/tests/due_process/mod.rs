//! Due process (权益保护) through HTTP, on a real server: objections mark their target
//! on every surface and an upheld one corrects it; repairs end publication and lift
//! the measures in the same commit; refusals say why and when to try again; two
//! decisions race and one wins; the public sees nothing of what ended; a revoked
//! record leaves every public surface and its receivers are told; cases are followed
//! with their query code; evidence files are recognised, limited and served as
//! attachments. After the repairs and the revocation, a crawl of every public page and
//! API answer finds no trace of them.

use std::collections::{BTreeSet, VecDeque};

use super::*;

fn day(d: time::Date) -> String {
    xinyong_core::record::date_string(d)
}

pub(super) fn days_ago(n: i64) -> time::Date {
    xinyong_app::today_shanghai() - time::Duration::days(n)
}

/// A USCC for a department (the deciding authority of a penalty).
fn dept_code(n: u32) -> String {
    xinyong_core::Uscc::complete(&format!("11110105{n:08}")).unwrap().as_str().to_string()
}

/// An administrative penalty of `code` decided on `decided` by a department outside
/// market regulation, tier 一般, ordinary procedure: public for a year from its
/// decision, repairable after three months.
pub(super) fn penalty(code: &str, name: &str, doc_no: &str, decided: time::Date) -> serde_json::Map<String, Value> {
    let authority = "北京市朝阳区城市管理综合行政执法局";
    let v = json!({
        "行政相对人名称": name,
        "行政相对人类别": "法人及非法人组织",
        "统一社会信用代码": code,
        "行政处罚决定书文号": doc_no,
        "违法行为类型": "施工工地未采取有效防尘降尘措施",
        "违法事实": "当事人施工工地内裸露土方未采取覆盖措施，造成扬尘污染",
        "处罚依据": "《中华人民共和国大气污染防治法》第一百一十五条第一款第（一）项",
        "处罚类别": "罚款",
        "处罚内容": "罚款人民币贰万元",
        "罚款金额(万元)": "2",
        "处罚决定日期": day(decided),
        "处罚有效期": day(decided + time::Duration::days(365)),
        "处罚机关": authority,
        "处罚机关统一社会信用代码": dept_code(1),
        "数据来源单位": authority,
        "数据来源单位统一社会信用代码": dept_code(1),
        "处罚程序": "普通程序",
        "失信程度": "一般",
    });
    v.as_object().unwrap().clone()
}

/// Stores rows of `item` through the API as the officer; the new records' ids.
async fn ingest(s: &Server, item: &str, rows: Vec<serde_json::Map<String, Value>>) -> Vec<i64> {
    let (st, v) = post(s, "/api/v1/records", Some(&s.officer), json!({"item": item, "rows": rows})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["record_id"].as_i64().unwrap_or_else(|| panic!("not stored: {r}")))
        .collect()
}

/// An entity account for `code`, with a token and the test password.
async fn entity_account(s: &Server, username: &str, code: &str) -> String {
    let body = json!({"username": username, "role": "subject", "subject_code": code, "token": true,
                      "password": common::PASSWORD});
    let (st, v) = post(s, "/api/v1/accounts", Some(&s.admin), body).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["token"].as_str().unwrap().to_string()
}

/// An enterprise of the generated data and its name.
async fn enterprise(s: &Server, nth: usize) -> (String, String) {
    let mut found = 0;
    for code in codes_in(s, "registration", "统一社会信用代码").into_iter().filter(|c| c.starts_with("91")) {
        let (st, v) = get(s, &format!("/api/v1/subjects/{code}"), None).await;
        if st != StatusCode::OK {
            continue;
        }
        if found == nth {
            return (code, v["name"].as_str().unwrap().to_string());
        }
        found += 1;
    }
    panic!("fewer than {} enterprises", nth + 1)
}

fn record(subject: &Value, id: i64) -> Option<&Value> {
    subject["records"].as_array().unwrap().iter().find(|r| r["id"] == id)
}

fn field<'a>(record: &'a Value, name: &str) -> &'a str {
    record["fields"].as_array().unwrap().iter().find(|f| f["name"] == name).unwrap()["value"].as_str().unwrap()
}

async fn page_text(c: &reqwest::Client, s: &Server, path: &str) -> (StatusCode, String) {
    let res = c.get(format!("{}{path}", s.base)).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

/// A 1×1 PNG.
pub(super) fn png() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.extend_from_slice(b"\0\0\0\x0DIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1F\x15\xC4\x89");
    b.extend_from_slice(b"\0\0\0\x0AIDAT\x78\x9C\x63\0\x01\0\0\x05\0\x01\x0D\x0A\x2D\xB4");
    b.extend_from_slice(b"\0\0\0\0IEND\xAE\x42\x60\x82");
    b
}

pub(super) async fn upload(s: &Server, token: Option<&str>, name: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_string());
    let form = reqwest::multipart::Form::new().part("file", part);
    let mut r = client().post(format!("{}/api/v1/evidence", s.base)).multipart(form);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let res = r.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// A serious-dishonesty listing of `code` noticed `ago` days ago and decided after
/// its objection window (a month later): its id.
async fn listed(s: &Server, code: &str, ago: i64) -> i64 {
    let notice = json!({"code": code, "list_type": "serious_dishonesty", "reason": "拒不履行行政处罚决定",
        "basis": "《严重失信主体名单管理办法》第五条", "notice_date": day(days_ago(ago))});
    let (st, v) = post(s, "/api/v1/listings", Some(&s.officer), notice).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let id = v["listing"]["id"].as_i64().unwrap();
    let decision = json!({"decision_date": day(days_ago(ago - 30)), "document": document("serious_dishonesty")});
    let (st, v) = post(s, &format!("/api/v1/listings/{id}/decision"), Some(&s.officer), decision).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    id
}

/// Every public page reachable from `/` and from `seeds` (same origin, GET, no
/// sign-in, `depth` links deep), and every public API answer in `api`: none may
/// contain any of `gone`. Returns how many pages were read.
async fn crawl(s: &Server, seeds: &[String], api: &[String], gone: &[&str]) -> usize {
    let c = client();
    let mut queue: VecDeque<(String, usize)> = VecDeque::from([("/".to_string(), 0)]);
    queue.extend(seeds.iter().map(|p| (p.clone(), 1)));
    let mut seen = BTreeSet::new();
    let depth = 3;
    while let Some((path, d)) = queue.pop_front() {
        if seen.len() >= 400 || !seen.insert(path.clone()) {
            continue;
        }
        let (status, html) = loop {
            let res = c.get(format!("{}{path}", s.base)).send().await.unwrap();
            if res.status() == StatusCode::TOO_MANY_REQUESTS {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                continue;
            }
            break (res.status(), res.text().await.unwrap());
        };
        assert!(status.is_success() || status.is_redirection() || status == StatusCode::NOT_FOUND, "{path}: {status}");
        for g in gone {
            assert!(!html.contains(g), "{g} is still on the public page {path}");
        }
        if d >= depth {
            continue;
        }
        for href in html.split("href=\"").skip(1).filter_map(|r| r.split('"').next()) {
            let href = href.replace("&amp;", "&");
            let href = href.split('#').next().unwrap_or_default().to_string();
            let next = if href.starts_with('/') && !href.starts_with("//") {
                href
            } else if let Some(q) = href.strip_prefix('?') {
                format!("{}?{q}", path.split('?').next().unwrap())
            } else {
                continue;
            };
            // the stylesheet and scripts are not pages
            if next.starts_with("/static/") {
                continue;
            }
            queue.push_back((next, d + 1));
        }
    }
    for path in api {
        let (st, v) = get(s, path, None).await;
        let text = v.to_string();
        for g in gone {
            assert!(!text.contains(g), "{g} is still in the public answer of {path} ({st})");
        }
    }
    seen.len()
}

/// (a) An objection marks its record and listing on every surface from acceptance;
/// the providing department upholds it and corrects the record. (g) The case is
/// followed with its query code. (h) Evidence is uploaded, cited, served as an
/// attachment; a disguised text file and an oversized body are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn due_process_objection_lifecycle() {
    let s = start().await;
    let (code, name) = enterprise(&s, 0).await;
    let entity = entity_account(&s, "objector", &code).await;
    let doc_no = "京朝城管罚〔2026〕异1号";
    let ids = ingest(&s, "admin_penalty", vec![penalty(&code, &name, doc_no, days_ago(30))]).await;
    let rid = ids[0];
    let (_, v) = get(&s, &format!("/api/v1/subjects/{code}"), None).await;
    assert_eq!(record(&v, rid).unwrap()["disputed"], false, "{v}");

    // (h) evidence: a tiny PNG, then the ways an upload is refused
    let (st, ev) = upload(&s, Some(&entity), "缴款凭证.png", png()).await;
    assert_eq!(st, StatusCode::CREATED, "{ev}");
    assert_eq!((ev["media_type"].as_str(), ev["size"].as_u64()), (Some("image/png"), Some(png().len() as u64)));
    assert_eq!(ev["name"], "缴款凭证.png");
    let sha = ev["sha256"].as_str().unwrap().to_string();
    let (st, v) = upload(&s, Some(&entity), "情况说明.png", "这是一段文字，不是图片".as_bytes().to_vec()).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("evidence_type")), "{v}");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(msg.contains("PDF、JPEG、PNG") && msg.contains(" / ") && msg.contains("PDF, JPEG or PNG"), "{msg}");
    let (st, v) =
        upload(&s, Some(&entity), "big.pdf", vec![b'%'; xinyong_app::evidence::MAX_EVIDENCE_BYTES + 100_000]).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("evidence_too_large")), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains(" / "), "bilingual: {v}");
    let (st, v) = upload(&s, None, "a.png", png()).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "the public uploads nothing: {v}");

    // the entity objects to its record, citing the file
    let objection = json!({"code": code, "record_id": rid, "reasons": "罚款已于决定次日缴清，决定书所载违法事实有误",
                           "evidence": [{"sha256": sha, "name": "缴款凭证.png"}]});
    let (st, receipt) = post(&s, "/api/v1/objections", Some(&entity), objection).await;
    assert_eq!(st, StatusCode::CREATED, "{receipt}");
    let case_id = receipt["case"]["id"].as_i64().unwrap();
    let query_code = receipt["query_code"].as_str().unwrap().to_string();
    assert_eq!(receipt["case"]["state"], "open");
    assert_eq!(receipt["case"]["department"], PROVIDER, "谁认定、谁处理: {receipt}");
    assert_eq!(receipt["case"]["attachments"][0]["sha256"], sha.as_str());
    assert!(receipt["case"]["due"].as_str().unwrap() > day(days_ago(0)).as_str(), "{receipt}");
    // from acceptance the record is disputed: the API, the public page, the entity's page
    let (_, v) = get(&s, &format!("/api/v1/subjects/{code}"), None).await;
    assert_eq!(record(&v, rid).unwrap()["disputed"], true, "{v}");
    let (_, html) = page_text(&client(), &s, &format!("/subjects/{code}")).await;
    let article = html.split(&format!("id=\"record-{rid}\"")).nth(1).unwrap().split("</article>").next().unwrap();
    assert!(article.contains("异议处理中"), "{article}");
    // the entity reads the file its case cites, as an attachment
    let res = client().get(format!("{}/api/v1/evidence/{sha}", s.base)).bearer_auth(&entity).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert!(res.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert_eq!(res.bytes().await.unwrap().to_vec(), png());
    let (st, _) = get(&s, &format!("/api/v1/evidence/{sha}"), None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);

    // (g) followed without signing in: the right code, a wrong one, another case's number
    let (st, v) = get(&s, &format!("/api/v1/cases/{case_id}/follow?query_code={query_code}"), None).await;
    assert_eq!((st, v["state"].as_str()), (StatusCode::OK, Some("open")), "{v}");
    assert!(v.get("contact").is_none(), "{v}");
    let lower = query_code.to_lowercase();
    let (st, _) = get(&s, &format!("/api/v1/cases/{case_id}/follow?query_code={lower}"), None).await;
    assert_eq!(st, StatusCode::OK, "the code is read case-insensitively");
    let (st, wrong) = get(&s, &format!("/api/v1/cases/{case_id}/follow?query_code=ABCDEFGHJKLM"), None).await;
    assert_eq!((st, wrong["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{wrong}");
    let (st, unknown) = get(&s, &format!("/api/v1/cases/{}/follow?query_code={query_code}", case_id + 999), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(unknown["error"], wrong["error"], "a wrong code and an unknown case answer alike");

    // the queue of the providing department; another department neither sees nor decides it
    let (st, v) = get(&s, "/api/v1/cases?state=open", Some(&s.officer)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(v["cases"].as_array().unwrap().iter().any(|c| c["id"] == case_id), "{v}");
    let (_, v) = get(&s, "/api/v1/cases?state=open", Some(&s.other_officer)).await;
    assert!(!v["cases"].as_array().unwrap().iter().any(|c| c["id"] == case_id), "{v}");
    let (st, _) = get(&s, &format!("/api/v1/cases/{case_id}"), Some(&s.other_officer)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = get(&s, "/api/v1/cases", None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, v) = get(&s, &format!("/api/v1/cases/{case_id}"), Some(&entity)).await;
    assert_eq!((st, v["id"].as_i64()), (StatusCode::OK, Some(case_id)), "the entity reads its own case");
    let (_, inbox) = get(&s, "/api/v1/inbox", Some(&s.officer)).await;
    let filed = inbox["notifications"].as_array().unwrap().iter().find(|n| n["topic"] == "case_filed").cloned();
    let filed = filed.unwrap_or_else(|| panic!("the department is told: {inbox}"));
    let note = filed["id"].as_i64().unwrap();
    let (st, v) = post(&s, &format!("/api/v1/inbox/{note}/read"), Some(&s.officer), json!({})).await;
    assert_eq!((st, v["read"].as_bool()), (StatusCode::OK, Some(true)), "{v}");
    let (st, _) = post(&s, &format!("/api/v1/inbox/{note}/read"), Some(&entity), json!({})).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "one's own notifications only");

    // upheld: the record corrected with the fields as they should be
    let mut fields = penalty(&code, &name, doc_no, days_ago(30));
    fields.insert("违法事实".into(), json!("当事人施工工地内部分裸露土方未及时覆盖（经复核更正）"));
    let decision = json!({"outcome": "upheld", "remedy": "correct", "reasons": "经复核，违法事实表述有误，予以更正",
                          "fields": fields});
    let (st, _) =
        post(&s, &format!("/api/v1/cases/{case_id}/decision"), Some(&s.other_officer), decision.clone()).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "only the providing department decides");
    let (st, v) = post(&s, &format!("/api/v1/cases/{case_id}/decision"), Some(&s.officer), decision).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!((v["outcome"].as_str(), v["remedy"].as_str()), (Some("upheld"), Some("correct")), "{v}");
    let (_, v) = get(&s, &format!("/api/v1/subjects/{code}"), None).await;
    let r = record(&v, rid).unwrap();
    assert_eq!(field(r, "违法事实"), "当事人施工工地内部分裸露土方未及时覆盖（经复核更正）", "{r}");
    assert_eq!(r["disputed"], false, "decided: no longer pending");
    let (st, v) = get(&s, &format!("/api/v1/cases/{case_id}/follow?query_code={query_code}"), None).await;
    assert_eq!((st, v["outcome"].as_str()), (StatusCode::OK, Some("upheld")), "{v}");
    let (_, inbox) = get(&s, "/api/v1/inbox", Some(&entity)).await;
    let topics: Vec<&str> =
        inbox["notifications"].as_array().unwrap().iter().map(|n| n["topic"].as_str().unwrap()).collect();
    assert!(topics.contains(&"case_decided") && topics.contains(&"record_corrected"), "{topics:?}");

    // a listing target: the check answer marks the hit disputed from acceptance
    let listing = json!({"code": code, "list_type": "key_attention", "reason": "未按规定期限公示年度报告",
        "basis": "《企业信息公示暂行条例》第十七条",
        "decision": {"decision_date": day(days_ago(20)), "document": document("key_attention")}});
    let (st, v) = post(&s, "/api/v1/listings", Some(&s.officer), listing).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let lid = v["listing"]["id"].as_i64().unwrap();
    let today = day(days_ago(0));
    let c = check(&s, &s.officer, &code, "bidding", &today).await;
    assert_eq!(c["lists"][0]["disputed"], false, "{c}");
    let objection = json!({"code": code, "listing_id": lid, "reasons": "年度报告已按期报送，系系统故障"});
    let (st, v) = post(&s, "/api/v1/objections", Some(&entity), objection).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let c = check(&s, &s.officer, &code, "bidding", &today).await;
    let hit = c["lists"].as_array().unwrap().iter().find(|l| l["id"] == lid).unwrap();
    assert_eq!(hit["disputed"], true, "{c}");

    // the public objects to a public record: with a contact, never without
    let (other, other_name) = enterprise(&s, 1).await;
    let pid = ingest(&s, "admin_penalty", vec![penalty(&other, &other_name, "京朝城管罚〔2026〕异2号", days_ago(10))])
        .await[0];
    let body = json!({"code": other, "record_id": pid, "applicant": "张三", "reasons": "处罚对象有误"});
    let (st, v) = post(&s, "/api/v1/objections", None, body.clone()).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("contact_required")), "{v}");
    let mut with_contact = body;
    with_contact["contact"] = json!("13800000000");
    let (st, v) = post(&s, "/api/v1/objections", None, with_contact).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (_, follow) = get(
        &s,
        &format!("/api/v1/cases/{}/follow?query_code={}", v["case"]["id"], v["query_code"].as_str().unwrap()),
        None,
    )
    .await;
    assert!(follow.get("contact").is_none() && !follow.to_string().contains("13800000000"), "{follow}");
}

/// (b) Repairs: a record and a listing; granted, they leave every public surface in
/// the decision's commit while an officer's question about the day before still sees
/// the record. (c) A refusal carries its reasons and the next possible date. (d) Two
/// decisions of one case at once: one wins, the other is a conflict. Then the crawl.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn due_process_repairs_leave_every_public_surface() {
    let s = start().await;
    let (code, name) = enterprise(&s, 2).await;
    let entity = entity_account(&s, "repairer", &code).await;
    let repaired_no = "京朝城管罚〔2026〕修1号";
    let refused_no = "京朝城管罚〔2026〕修2号";
    let raced_no = "京朝城管罚〔2026〕修3号";
    let too_early_no = "京朝城管罚〔2026〕修4号";
    let rows = vec![
        penalty(&code, &name, repaired_no, days_ago(200)),
        penalty(&code, &name, refused_no, days_ago(190)),
        penalty(&code, &name, raced_no, days_ago(180)),
        penalty(&code, &name, too_early_no, days_ago(20)),
    ];
    let ids = ingest(&s, "admin_penalty", rows).await;
    let (_, v) = get(&s, &format!("/api/v1/subjects/{code}"), None).await;
    for id in &ids {
        assert_eq!(record(&v, *id).unwrap()["publicity"]["public"], true, "{v}");
    }
    let repair_from = record(&v, ids[0]).unwrap()["publicity"]["repair_from"].as_str().unwrap().to_string();
    let repaired_event = record(&v, ids[0]).unwrap()["ledger_index"].as_u64().unwrap();
    assert!(repair_from <= day(days_ago(0)), "{repair_from}");

    // the conditions and the commitment the form shows
    let (st, info) = get(&s, "/api/v1/due-process", None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(info["commitment_zh"].as_str().unwrap().contains("{name}"), "{info}");
    let claimed: Vec<&str> = info["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["auto"] == false)
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    let application = |record_id: i64| {
        json!({"code": code, "record_id": record_id, "statement": "罚款已缴清，工地已全面覆盖防尘网",
               "conditions": claimed, "commitment_signed": true})
    };
    // too early, unsigned, a condition not met: refused with the rule's words
    let (st, v) = post(&s, "/api/v1/repairs", Some(&entity), application(ids[3])).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let mut unsigned = application(ids[0]);
    unsigned["commitment_signed"] = json!(false);
    let (st, v) = post(&s, "/api/v1/repairs", Some(&entity), unsigned).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("承诺书"), "{v}");
    let (st, _) = post(&s, "/api/v1/repairs", None, application(ids[0])).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);

    // (b) granted: gone from the public page and the API at once
    let (st, receipt) = post(&s, "/api/v1/repairs", Some(&entity), application(ids[0])).await;
    assert_eq!(st, StatusCode::CREATED, "{receipt}");
    let case = receipt["case"]["id"].as_i64().unwrap();
    assert!(receipt["case"]["commitment"].as_str().unwrap().contains(&name), "the commitment names the entity");
    assert!(receipt["case"]["answer_due"].is_string(), "{receipt}");
    let (st, v) =
        post(&s, &format!("/api/v1/cases/{case}/decision"), Some(&s.officer), json!({"outcome": "granted"})).await;
    assert_eq!((st, v["outcome"].as_str()), (StatusCode::OK, Some("granted")), "{v}");
    let (_, v) = get(&s, &format!("/api/v1/subjects/{code}"), None).await;
    assert!(record(&v, ids[0]).is_none() && !v.to_string().contains(repaired_no), "{v}");
    let (_, html) = page_text(&client(), &s, &format!("/subjects/{code}")).await;
    assert!(!html.contains(repaired_no) && html.contains(refused_no), "the page shows the others only");
    // an officer asking about the day before the repair still sees it public then
    let path = format!("/api/v1/subjects/{code}?as_of={}&purpose=复核", day(days_ago(1)));
    let (st, v) = get(&s, &path, Some(&s.officer)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let r = record(&v, ids[0]).unwrap_or_else(|| panic!("the day before, it was there: {v}"));
    assert_eq!(r["publicity"]["public"], true, "{r}");
    // the entity's own view keeps it, marked repaired today
    let (_, v) = get(&s, &format!("/api/v1/subjects/{code}"), Some(&entity)).await;
    assert_eq!(record(&v, ids[0]).unwrap()["repaired_on"], day(days_ago(0)).as_str(), "{v}");
    // a second application for it is a conflict
    let (st, _) = post(&s, "/api/v1/repairs", Some(&entity), application(ids[0])).await;
    assert_eq!(st, StatusCode::CONFLICT);

    // (c) refused: reasons and the next possible date, or not at all
    let (st, receipt) = post(&s, "/api/v1/repairs", Some(&entity), application(ids[1])).await;
    assert_eq!(st, StatusCode::CREATED, "{receipt}");
    let refused = receipt["case"]["id"].as_i64().unwrap();
    let path = format!("/api/v1/cases/{refused}/decision");
    let (st, v) = post(&s, &path, Some(&s.officer), json!({"outcome": "refused", "reasons": "未提交缴款凭证"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "a refusal without the next date: {v}");
    let (st, v) = post(&s, &path, Some(&s.officer), json!({"outcome": "rejected", "reasons": "x"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "not an outcome of a repair: {v}");
    let next = day(days_ago(-30));
    let refusal = json!({"outcome": "refused", "reasons": "未提交缴款凭证", "next_possible": next});
    let (st, v) = post(&s, &path, Some(&s.officer), refusal).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, v) = get(&s, &format!("/api/v1/cases/{refused}"), Some(&entity)).await;
    assert_eq!(
        (v["outcome"].as_str(), v["decision"].as_str(), v["next_possible"].as_str()),
        (Some("refused"), Some("未提交缴款凭证"), Some(next.as_str())),
        "{v}"
    );
    let (_, v) = get(&s, &format!("/api/v1/subjects/{code}"), None).await;
    assert!(record(&v, ids[1]).is_some(), "a refused repair changes nothing");

    // (d) two decisions of one case at once: exactly one wins
    let (st, receipt) = post(&s, "/api/v1/repairs", Some(&entity), application(ids[2])).await;
    assert_eq!(st, StatusCode::CREATED, "{receipt}");
    let raced = receipt["case"]["id"].as_i64().unwrap();
    let (base, token) = (s.base.clone(), s.officer.clone());
    let decide = |body: Value| {
        let (base, token) = (base.clone(), token.clone());
        tokio::spawn(async move {
            client()
                .post(format!("{base}/api/v1/cases/{raced}/decision"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    let a = decide(json!({"outcome": "granted"}));
    let b = decide(json!({"outcome": "refused", "reasons": "材料不全", "next_possible": next}));
    let mut statuses = vec![a.await.unwrap().as_u16(), b.await.unwrap().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "one decision wins, the other is told");
    let (_, v) = get(&s, &format!("/api/v1/cases/{raced}"), Some(&s.officer)).await;
    let (st, again) =
        post(&s, &format!("/api/v1/cases/{raced}/decision"), Some(&s.officer), json!({"outcome": "granted"})).await;
    assert_eq!((st, again["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "{again}");
    if v["outcome"] == "granted" {
        let (_, subject) = get(&s, &format!("/api/v1/subjects/{code}"), None).await;
        assert!(record(&subject, ids[2]).is_none());
    }

    // (b) a listing: serious dishonesty listed long enough ago for early removal
    let lid = listed(&s, &code, 500).await;
    let today = day(days_ago(0));
    let c = check(&s, &s.officer, &code, "government_procurement", &today).await;
    assert!(c["lists"].as_array().unwrap().iter().any(|l| l["id"] == lid), "{c}");
    let (st, v) = get(&s, &format!("/api/v1/listings/{lid}"), None).await;
    assert_eq!(st, StatusCode::OK, "public while listed: {v}");
    let application = json!({"code": code, "listing_id": lid, "statement": "已履行全部义务",
                             "conditions": claimed, "commitment_signed": true});
    let (st, receipt) = post(&s, "/api/v1/repairs", Some(&entity), application).await;
    assert_eq!(st, StatusCode::CREATED, "{receipt}");
    let lcase = receipt["case"]["id"].as_i64().unwrap();
    let (st, v) =
        post(&s, &format!("/api/v1/cases/{lcase}/decision"), Some(&s.officer), json!({"outcome": "granted"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let c = check(&s, &s.officer, &code, "government_procurement", &today).await;
    assert!(!c["lists"].as_array().unwrap().iter().any(|l| l["id"] == lid), "lifted at once: {c}");
    let (st, _) = get(&s, &format!("/api/v1/listings/{lid}"), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "nothing public shows it was there");

    // the crawl: no public page or answer names the repaired record
    let seeds = [
        format!("/subjects/{code}"),
        format!("/objections/new?code={code}&record_id={}", ids[0]),
        format!("/ledger/{repaired_event}"),
        format!("/search?q={}", urlencode(&name)),
        "/lists/serious_dishonesty".to_string(),
    ];
    let api = [
        format!("/api/v1/subjects/{code}"),
        format!("/api/v1/subjects?q={}", urlencode(&name)),
        "/api/v1/lists?type=serious_dishonesty".to_string(),
        format!("/api/v1/listings/{lid}"),
        format!("/api/v1/ledger/proof/{repaired_event}"),
    ];
    let pages = crawl(&s, &seeds, &api, &[repaired_no]).await;
    assert!(pages > 10, "the crawl read {pages} pages");
}

/// (e) The public: no past day, no withheld count, a hidden listing answered as a
/// missing one; an entity reading another entity sees exactly what the public sees.
/// (f) A revocation: gone from the public page and API, kept (marked) on the entity's
/// own page, and told to a department that checked the subject before. Then the crawl.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn due_process_public_view_and_revocation() {
    let s = start().await;
    let (code, name) = enterprise(&s, 3).await;
    let (other, _) = enterprise(&s, 4).await;
    let entity = entity_account(&s, "revoked-entity", &code).await;
    let other_entity = entity_account(&s, "bystander", &other).await;

    // (e) the public may not ask about another day; it is not told what it cannot see
    let (st, v) = get(&s, &format!("/api/v1/subjects/{code}?as_of={}", day(days_ago(400))), None).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("as_of_requires_account")), "{v}");
    let (st, public) = get(&s, &format!("/api/v1/subjects/{code}"), None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(public.get("withheld").is_none(), "{public}");
    let (_, html) = page_text(&client(), &s, &format!("/subjects/{code}")).await;
    assert!(!html.contains("条记录不在公示范围内"), "no withheld line for the public");
    let (_, mine) = get(&s, &format!("/api/v1/subjects/{code}"), Some(&entity)).await;
    assert!(mine["withheld"].is_u64(), "{mine}");
    let (_, theirs) = get(&s, &format!("/api/v1/subjects/{code}"), Some(&other_entity)).await;
    assert_eq!(theirs, public, "another entity reads exactly what the public reads");
    let (st, _) = get(&s, &format!("/api/v1/subjects/{code}?as_of={}", day(days_ago(400))), Some(&other_entity)).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // a shared (unpublished) listing is not found, like one that does not exist
    let hidden = json!({"code": code, "list_type": "key_attention", "reason": "多次违法", "basis": "《条例》第三十条",
        "decision": {"decision_date": day(days_ago(10)), "document": document("key_attention")}});
    let (st, v) = post(&s, "/api/v1/listings", Some(&s.officer), hidden).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let hid = v["listing"]["id"].as_i64().unwrap();
    let (st_hidden, hidden) = get(&s, &format!("/api/v1/listings/{hid}"), None).await;
    let (st_missing, missing) = get(&s, "/api/v1/listings/987654", None).await;
    assert_eq!((st_hidden, st_missing), (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND));
    assert_eq!(hidden["error"]["code"], missing["error"]["code"]);
    let mask = |v: &Value, id: &str| v["error"]["message"].as_str().unwrap().replace(id, "N");
    assert_eq!(mask(&hidden, &hid.to_string()), mask(&missing, "987654"), "the same answer");
    let (st, _) = get(&s, &format!("/api/v1/listings/{hid}"), Some(&other_entity)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // (f) a department checks the subject, then the provider revokes the record
    let doc_no = "京朝城管罚〔2026〕撤1号";
    let rid = ingest(&s, "admin_penalty", vec![penalty(&code, &name, doc_no, days_ago(40))]).await[0];
    let checked = check(&s, &s.other_officer, &code, "bidding", &day(days_ago(0))).await;
    assert_eq!(checked["subject"]["code"], code.as_str(), "{checked}");
    let (_, v) = get(&s, &format!("/api/v1/subjects/{code}"), None).await;
    let revoked_event = record(&v, rid).unwrap_or_else(|| panic!("{v}"))["ledger_index"].as_u64().unwrap();
    let amend = json!({"reason": "决定已被行政复议撤销", "document": "京朝复决〔2026〕9号"});
    let (st, _) = post(&s, &format!("/api/v1/records/{rid}/revocation"), Some(&s.other_officer), amend.clone()).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "only the providing department");
    let (st, v) = post(&s, &format!("/api/v1/records/{rid}/correction"), Some(&s.officer), amend.clone()).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("fields_required")), "{v}");
    let (st, v) =
        post(&s, &format!("/api/v1/records/{rid}/revocation"), Some(&s.officer), json!({"reason": "", "document": ""}))
            .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (st, v) = post(&s, &format!("/api/v1/records/{rid}/revocation"), Some(&s.officer), amend).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(v["ledger_index"].as_u64().unwrap() > 0, "{v}");
    let (_, v) = get(&s, &format!("/api/v1/subjects/{code}"), None).await;
    assert!(record(&v, rid).is_none() && !v.to_string().contains(doc_no), "{v}");
    let (_, html) = page_text(&client(), &s, &format!("/subjects/{code}")).await;
    assert!(!html.contains(doc_no));
    // the entity's own page keeps it, marked revoked
    let jar = cookie_client();
    assert_eq!(sign_in(&jar, &s, "revoked-entity", common::PASSWORD).await, StatusCode::SEE_OTHER);
    let (st, html) = page_text(&jar, &s, "/me").await;
    assert_eq!(st, StatusCode::OK);
    let row = html.split(&format!("id=\"my-record-{rid}\"")).nth(1).unwrap().split("</tr>").next().unwrap();
    assert!(row.contains(doc_no) && row.contains("已撤销"), "{row}");
    // the department that checked it is told, and so is the entity
    let (_, inbox) = get(&s, "/api/v1/inbox", Some(&s.other_officer)).await;
    let told =
        inbox["notifications"].as_array().unwrap().iter().any(|n| {
            n["topic"] == "record_revoked" && n["subject_code"] == code.as_str() && n["recipient"] == "其他部门"
        });
    assert!(told, "{inbox}");
    let (_, inbox) = get(&s, "/api/v1/inbox", Some(&entity)).await;
    assert!(inbox["notifications"].as_array().unwrap().iter().any(|n| n["topic"] == "record_revoked"), "{inbox}");
    // revoked twice is not a new fact
    let again = json!({"reason": "重复", "document": "京朝复决〔2026〕10号"});
    let (st, _) = post(&s, &format!("/api/v1/records/{rid}/revocation"), Some(&s.officer), again).await;
    assert!(st.is_client_error(), "{st}");

    // rectification notice and interview, to the entity's inbox and its case list
    let notice = json!({"code": code, "text": "限期清理施工扬尘", "deadline": day(days_ago(-20))});
    let (st, v) = post(&s, "/api/v1/rectifications", Some(&s.officer), notice).await;
    assert_eq!(
        (st, v["kind"].as_str(), v["state"].as_str()),
        (StatusCode::CREATED, Some("rectification"), Some("open")),
        "{v}"
    );
    let interview = json!({"code": code, "text": "扬尘治理", "interview_type": "警示约谈", "attendees": "法定代表人",
                           "minutes": "当事人承诺一周内整改完毕"});
    let (st, v) = post(&s, "/api/v1/interviews", Some(&s.officer), interview).await;
    assert_eq!((st, v["outcome"].as_str()), (StatusCode::CREATED, Some("held")), "{v}");
    let (st, v) =
        post(&s, "/api/v1/interviews", Some(&entity), json!({"code": code, "text": "x", "minutes": "y"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let (_, mine) = get(&s, "/api/v1/cases", Some(&entity)).await;
    let kinds: BTreeSet<&str> = mine["cases"].as_array().unwrap().iter().map(|c| c["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, BTreeSet::from(["interview", "rectification"]), "{mine}");

    // the crawl: no public page or answer names the revoked record
    let seeds = [
        format!("/subjects/{code}"),
        format!("/objections/new?code={code}&record_id={rid}"),
        format!("/ledger/{revoked_event}"),
        format!("/search?q={}", urlencode(&name)),
    ];
    let api = [
        format!("/api/v1/subjects/{code}"),
        format!("/api/v1/subjects?q={}", urlencode(&name)),
        format!("/api/v1/ledger/proof/{revoked_event}"),
    ];
    let pages = crawl(&s, &seeds, &api, &[doc_no, "京朝复决〔2026〕9号"]).await;
    assert!(pages > 10, "the crawl read {pages} pages");

    // the overdue gauge is in /metrics (no case is overdue yet)
    let m = client().get(format!("{}/metrics", s.base)).send().await.unwrap().text().await.unwrap();
    assert!(m.contains("# TYPE xinyong_cases_overdue gauge"), "{m}");
}

/// The portal's forms, as a browser without JavaScript posts them: the public objects
/// with a contact; the entity applies for repair with the conditions, the commitment
/// and a file, gets the receipt with its query code, follows the case; the officer
/// finds it in the queue and grants it; the public page no longer shows the record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn due_process_portal_forms() {
    let s = start().await;
    let (code, name) = enterprise(&s, 5).await;
    entity_account(&s, "portal-entity", &code).await;
    let doc_no = "京朝城管罚〔2026〕门1号";
    let public_no = "京朝城管罚〔2026〕门2号";
    let ids = ingest(
        &s,
        "admin_penalty",
        vec![penalty(&code, &name, doc_no, days_ago(200)), penalty(&code, &name, public_no, days_ago(15))],
    )
    .await;

    // the public: the object link, the form, a receipt; the record then shows 异议处理中
    let anon = client();
    let (_, html) = page_text(&anon, &s, &format!("/subjects/{code}")).await;
    let link = format!("/objections/new?code={code}&amp;record_id={}", ids[1]);
    assert!(html.contains(&link), "an object link per public record");
    assert!(!html.contains("/repairs/new"), "no repair link for the public");
    let (st, form) = page_text(&anon, &s, &link.replace("&amp;", "&")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(form.contains("id=\"objection-form\"") && form.contains(public_no) && form.contains("name=\"contact\""));
    let multipart = |pairs: &[(&str, &str)]| {
        pairs.iter().fold(reqwest::multipart::Form::new(), |f, (k, v)| f.text(k.to_string(), v.to_string()))
    };
    let fields = [
        ("code", code.as_str()),
        ("record_id", &ids[1].to_string()),
        ("applicant", "李四"),
        ("reasons", "处罚金额有误"),
    ];
    let res = anon.post(format!("{}/objections", s.base)).multipart(multipart(&fields)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "a contact is required");
    let mut with_contact = fields.to_vec();
    with_contact.push(("contact", "lisi@example.com"));
    let res = anon.post(format!("{}/objections", s.base)).multipart(multipart(&with_contact)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let receipt = res.text().await.unwrap();
    assert!(receipt.contains("id=\"query-code\"") && receipt.contains("只显示这一次"), "{receipt}");
    let (_, html) = page_text(&anon, &s, &format!("/subjects/{code}")).await;
    let article = html.split(&format!("id=\"record-{}\"", ids[1])).nth(1).unwrap().split("</article>").next().unwrap();
    assert!(article.contains("异议处理中"), "{article}");

    // the entity: the repair link on its page, the form with the checklist and commitment
    let entity = cookie_client();
    assert_eq!(sign_in(&entity, &s, "portal-entity", common::PASSWORD).await, StatusCode::SEE_OTHER);
    let (_, html) = page_text(&entity, &s, &format!("/subjects/{code}")).await;
    let repair_link = format!("/repairs/new?code={code}&amp;record_id={}", ids[0]);
    assert!(html.contains(&repair_link), "a repair link on the entity's repairable record");
    assert!(!html.contains(&format!("/repairs/new?code={code}&amp;record_id={}", ids[1])), "not before its time");
    let (st, form) = page_text(&entity, &s, &repair_link.replace("&amp;", "&")).await;
    assert_eq!(st, StatusCode::OK, "{form}");
    assert!(form.contains("id=\"cond-min_period\"") && form.contains("disabled"), "the automatic condition");
    // the commitment with the entity's name and code filled in (`/` is escaped in HTML)
    let commitment = [format!("本单位（人）{name}（统一社会信用代码"), format!("{code}）郑重承诺")];
    assert!(form.contains("我已阅读并签署承诺书") && commitment.iter().all(|c| form.contains(c)), "{form}");
    let csrf = csrf_field(&form);
    let id0 = ids[0].to_string();
    let base_fields = vec![
        ("csrf", csrf.as_str()),
        ("code", code.as_str()),
        ("record_id", id0.as_str()),
        ("condition", "obligations_met"),
        ("condition", "commitment"),
        ("condition", "other_requirements"),
        ("statement", "罚款已缴清，已整改"),
    ];
    let res = entity.post(format!("{}/repairs", s.base)).multipart(multipart(&base_fields)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "unsigned");
    assert!(res.text().await.unwrap().contains("承诺书"));
    let mut wrong_csrf = base_fields.clone();
    wrong_csrf[0] = ("csrf", "nope");
    wrong_csrf.push(("commitment_signed", "yes"));
    let res = entity.post(format!("{}/repairs", s.base)).multipart(multipart(&wrong_csrf)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let mut signed = base_fields.clone();
    signed.push(("commitment_signed", "yes"));
    let file = reqwest::multipart::Part::bytes(png()).file_name("缴款凭证.png");
    let res = entity
        .post(format!("{}/repairs", s.base))
        .multipart(multipart(&signed).part("file", file))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let receipt = res.text().await.unwrap();
    let case_id: i64 = receipt.split("id=\"case-id\">").nth(1).unwrap().split('<').next().unwrap().parse().unwrap();
    let query_code = receipt.split("id=\"query-code\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    assert_eq!(query_code.len(), 12, "{receipt}");

    // the API refuses a session's bodiless post without its form token
    let res = entity.post(format!("{}/api/v1/cases/{case_id}/withdrawal", s.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "CSRF");

    // following it without signing in
    let (st, html) = page_text(&anon, &s, &format!("/cases/follow?case={case_id}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("id=\"follow-form\""));
    let follow = |code: String| {
        let anon = anon.clone();
        let url = format!("{}/cases/follow", s.base);
        async move {
            let res = anon.post(url).form(&[("case", case_id.to_string()), ("query_code", code)]).send().await.unwrap();
            (res.status(), res.text().await.unwrap())
        }
    };
    let (st, html) = follow(query_code.clone()).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("办理中") && html.contains("信用修复"), "{html}");
    let (st, html) = follow("WRONGWRONG22".into()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(html.contains("案件编号或查询码不正确"));

    // the entity's page: its case with its clock, the access log, the inbox
    let (_, me) = page_text(&entity, &s, "/me").await;
    let row = me.split(&format!("id=\"my-case-{case_id}\"")).nth(1).unwrap().split("</tr>").next().unwrap();
    assert!(row.contains("信用修复") && row.contains("办理中"), "{row}");
    assert!(me.contains("id=\"reads\"") && me.contains("id=\"my-record\""), "access log and whole record");

    // the officer: the queue, the case, the decision
    let officer = cookie_client();
    assert_eq!(sign_in(&officer, &s, "officer", common::PASSWORD).await, StatusCode::SEE_OTHER);
    let (st, queue) = page_text(&officer, &s, "/cases").await;
    assert_eq!(st, StatusCode::OK);
    assert!(queue.contains(&format!("id=\"case-{case_id}\"")), "{queue}");
    assert!(queue.contains("href=\"/cases\""), "the nav offers the queue to staff");
    let (st, page) = page_text(&officer, &s, &format!("/cases/{case_id}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        page.contains("id=\"decision-form\"")
            && page.contains("value=\"granted\"")
            && !page.contains("value=\"upheld\"")
    );
    assert!(page.contains("/api/v1/evidence/"), "the cited file is linked");
    let csrf = csrf_field(&page);
    let res = officer
        .post(format!("{}/cases/{case_id}/decision", s.base))
        .form(&[("csrf", csrf.as_str()), ("outcome", "granted"), ("reasons", "材料齐全")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, page) = page_text(&officer, &s, &format!("/cases/{case_id}")).await;
    assert!(page.contains("准予修复"), "{page}");
    let (_, html) = page_text(&anon, &s, &format!("/subjects/{code}")).await;
    assert!(!html.contains(doc_no), "the public page no longer shows the repaired record");
    let (_, html) = follow(query_code).await;
    assert!(html.contains("准予修复"));

    // the entity's inbox tells it; marked read from the inbox page
    let (st, inbox) = page_text(&entity, &s, "/inbox").await;
    assert_eq!(st, StatusCode::OK);
    assert!(inbox.contains("已办结") || inbox.contains("已信用修复"), "{inbox}");
    let note: i64 = inbox.split("action=\"/inbox/").nth(1).unwrap().split('/').next().unwrap().parse().unwrap();
    let csrf = csrf_field(&inbox);
    let res =
        entity.post(format!("{}/inbox/{note}/read", s.base)).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, inbox) = page_text(&entity, &s, "/inbox").await;
    assert!(
        inbox.contains(&format!("id=\"note-{note}\"")) && !inbox.contains(&format!("action=\"/inbox/{note}/read\""))
    );

    // staff forms on the subject page: a rectification notice becomes a case
    let (_, html) = page_text(&officer, &s, &format!("/subjects/{code}")).await;
    assert!(html.contains("id=\"rectification-form\"") && html.contains("id=\"interview-form\""));
    let csrf = csrf_field(&html);
    let res = officer
        .post(format!("{}/subjects/{code}/rectification", s.base))
        .form(&[("csrf", csrf.as_str()), ("text", "限期清理扬尘")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_string();
    let (_, page) = page_text(&officer, &s, &to).await;
    assert!(page.contains("限期整改") && page.contains("限期清理扬尘"), "{page}");
    // … and an interview, with its kind and attendees
    let held = day(days_ago(0));
    let interview = [
        ("csrf", csrf.as_str()),
        ("interview_type", "警示约谈"),
        ("text", "扬尘治理"),
        ("attendees", "法定代表人"),
        ("minutes", "当事人承诺三日内整改"),
        ("held_on", held.as_str()),
    ];
    let res = officer.post(format!("{}/subjects/{code}/interview", s.base)).form(&interview).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_string();
    let (st, page) = page_text(&officer, &s, &to).await;
    assert_eq!(st, StatusCode::OK, "{page}");
    assert!(
        page.contains("警示约谈") && page.contains("约谈已进行") && !page.contains("id=\"decision-form\""),
        "{page}"
    );

    // the provider corrects a record from its form, and revokes another from the page
    let path = format!("/records/{}/correction?code={code}", ids[1]);
    let (st, form) = page_text(&officer, &s, &path).await;
    assert_eq!(st, StatusCode::OK, "{form}");
    assert!(form.contains("name=\"f:违法事实\"") && form.contains(public_no), "the fields as stored");
    let mut fields: Vec<(String, String)> = penalty(&code, &name, public_no, days_ago(15))
        .into_iter()
        .map(|(k, v)| (format!("f:{k}"), v.as_str().unwrap().to_string()))
        .collect();
    fields.retain(|(k, _)| k != "f:违法事实");
    fields.push(("f:违法事实".into(), "经复核更正的违法事实".into()));
    fields.extend([
        ("csrf".into(), csrf.clone()),
        ("code".into(), code.clone()),
        ("reason".into(), "事实表述有误".into()),
        ("document".into(), "京朝城管更〔2026〕1号".into()),
    ]);
    let res = officer.post(format!("{}/records/{}/correction", s.base, ids[1])).form(&fields).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with(&format!("/subjects/{code}?amended=")), "{to}");
    let (_, html) = page_text(&anon, &s, &format!("/subjects/{code}")).await;
    assert!(html.contains("经复核更正的违法事实"), "the public page shows the correction");
    let revoke =
        [("csrf", csrf.as_str()), ("code", code.as_str()), ("reason", "复议撤销"), ("document", "京朝复决〔2026〕3号")];
    let res = officer.post(format!("{}/records/{}/revocation", s.base, ids[1])).form(&revoke).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, html) = page_text(&anon, &s, &format!("/subjects/{code}")).await;
    assert!(!html.contains(public_no), "revoked: gone from the public page");

    // a listing: the public's objection form shows it; the language switch keeps the target
    // (a public list: the serious list, noticed, then decided after its window)
    let listing = json!({"code": code, "list_type": "serious_dishonesty", "reason": "未按规定期限公示年度报告",
        "basis": "《严重失信主体名单管理办法》第五条", "notice_date": day(days_ago(20))});
    let (st, v) = post(&s, "/api/v1/listings", Some(&s.officer), listing).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let lid = v["listing"]["id"].as_i64().unwrap();
    let decision = json!({"decision_date": day(days_ago(5)), "document": document("serious_dishonesty")});
    let (st, v) = post(&s, &format!("/api/v1/listings/{lid}/decision"), Some(&s.officer), decision).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, html) = page_text(&anon, &s, &format!("/subjects/{code}")).await;
    assert!(html.contains(&format!("/objections/new?code={code}&amp;listing_id={lid}")), "an object link per listing");
    let (st, form) = page_text(&anon, &s, &format!("/objections/new?code={code}&listing_id={lid}")).await;
    assert_eq!(st, StatusCode::OK, "{form}");
    assert!(
        form.contains("未按规定期限公示年度报告") && form.contains(&format!("listing_id={lid}\" id=\"lang-switch\""))
    );
    let (st, _) = page_text(&anon, &s, &format!("/objections/new?code={code}&listing_id={lid}&lang=en")).await;
    assert_eq!(st, StatusCode::OK);
    // objected: the officer's check page marks the hit
    let lid_text = lid.to_string();
    let fields = [
        ("code", code.as_str()),
        ("listing_id", lid_text.as_str()),
        ("applicant", "王五"),
        ("contact", "13900000000"),
        ("reasons", "年度报告已报送"),
    ];
    let res = anon.post(format!("{}/objections", s.base)).multipart(multipart(&fields)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let (_, form) = page_text(&officer, &s, "/check").await;
    let csrf = csrf_field(&form);
    let check = [("csrf", csrf.as_str()), ("code", code.as_str()), ("matter", "bidding"), ("purpose", "招标资格审查")];
    let res = officer.post(format!("{}/check", s.base)).form(&check).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    let lists = html.split("id=\"result-lists\"").nth(1).unwrap().split("</table>").next().unwrap();
    assert!(lists.contains("异议处理中"), "{lists}");
}

/// Machine recipients get their notifications POSTed, signed with their secret, and
/// the outbox row says delivered; a recipient that answers 500 is retried later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn due_process_webhooks_deliver_signed_notifications() {
    use std::sync::{Arc, Mutex};
    let s = start().await;
    let (code, name) = enterprise(&s, 5).await;
    // a receiver that records what it gets
    // (signature, body) of each delivery received
    type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;
    let got: Received = Arc::default();
    let sink = got.clone();
    let receiver = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let sink = sink.clone();
            async move {
                let sig = headers.get("x-xinyong-signature").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                sink.lock().unwrap().push((sig, body.to_vec()));
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await });
    let app = s._running.app.clone();
    let operator = xinyong_app::Caller::operator();
    let hook = app.register_webhook(&operator, "department", PROVIDER, &url).unwrap();
    assert!(hook.secret.starts_with("whsec_"));
    assert!(app.register_webhook(&operator, "department", PROVIDER, "ftp://x").is_err());

    // the provider revokes its record: it is one of the recipients told
    let doc_no = "京朝城管罚〔2026〕钩1号";
    let rid = ingest(&s, "admin_penalty", vec![penalty(&code, &name, doc_no, days_ago(30))]).await[0];
    let amend = json!({"reason": "决定已被撤销", "document": "京朝复决〔2026〕11号"});
    let (st, v) = post(&s, &format!("/api/v1/records/{rid}/revocation"), Some(&s.officer), amend).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let mut waited = 0;
    while got.lock().unwrap().is_empty() && waited < 100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }
    let (sig, body) = got.lock().unwrap().first().cloned().expect("the webhook was called");
    assert_eq!(sig, xinyong_app::cases::delivery_signature(&hook.secret, &body));
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((v["topic"].as_str(), v["subject_code"].as_str()), (Some("record_revoked"), Some(code.as_str())), "{v}");
    // the outbox row says delivered (the inbox keeps it)
    let mut delivered = false;
    for _ in 0..50 {
        let (_, inbox) = get(&s, "/api/v1/inbox", Some(&s.officer)).await;
        delivered = inbox["notifications"].as_array().unwrap().iter().any(|n| n["state"] == "delivered");
        if delivered {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(delivered, "the delivery was recorded");
}
