//! The API against a real server on a loopback port, over a real store loaded with
//! generated data. One test binary (each file in tests/ links separately).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod due_process;
mod items;
mod subject_page;

use std::path::Path;

use reqwest::StatusCode;
use serde_json::{Value, json};
use xinyong_app::App;
use xinyong_app::synthetic::{GenEncoding, GenFormat, GenOptions, generate};

const PROVIDER: &str = "演示数据中心";

struct Server {
    base: String,
    _running: common::Running,
    _dir: tempfile::TempDir,
    admin: String,
    officer: String,
    other_officer: String,
    manifest: xinyong_app::synthetic::GenManifest,
    data: std::path::PathBuf,
}

fn account(app: &App, username: &str, role: &str, provider: Option<&str>) -> String {
    common::account(app, username, role, provider, None)
}

async fn start() -> Server {
    start_on(xinyong_app::today_shanghai()).await
}

/// A server over data generated up to `latest_date` (a fixed day makes the data the
/// same on every run).
async fn start_on(latest_date: time::Date) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let opts = GenOptions {
        subjects: 200,
        records: 1500,
        seed: 5,
        dirty_percent: 3,
        format: GenFormat::Mixed,
        encoding: GenEncoding::Utf8,
        latest_date,
    };
    let (app, manifest) = common::load(dir.path(), &opts, PROVIDER);
    let admin = account(&app, "admin", "admin", None);
    let officer = account(&app, "officer", "officer", Some(PROVIDER));
    let other_officer = account(&app, "other", "officer", Some("其他部门"));
    drop(app);
    let running = common::serve(&data).await;
    Server { base: running.base.clone(), _running: running, _dir: dir, admin, officer, other_officer, manifest, data }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn get(s: &Server, path: &str, token: Option<&str>) -> (StatusCode, Value) {
    let mut r = client().get(format!("{}{path}", s.base));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let res = r.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn post(s: &Server, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
    let mut r = client().post(format!("{}{path}", s.base)).json(&body);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let res = r.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Subject codes of a generated item file (CSV or JSONL), first column named `col`.
fn codes_in(s: &Server, item: &str, col: &str) -> Vec<String> {
    let f = s.manifest.files.iter().find(|f| f.item == item).unwrap();
    let path = s.data.parent().unwrap().join("in").join(&f.file);
    read_column(&path, col)
}

/// `n` registered subjects that no record puts on a list (those lists follow from
/// records: see the app's derived_lists tests), in file order.
async fn unlisted_subjects(s: &Server, n: usize) -> Vec<String> {
    let fed: std::collections::HashSet<String> = [
        ("abnormal_operation", "统一社会信用代码"),
        ("dishonest_debtor", "证件号码/统一社会信用代码"),
        ("false_litigation", "统一社会信用代码/证件号码"),
    ]
    .iter()
    .flat_map(|(item, col)| codes_in(s, item, col))
    .collect();
    let mut codes: Vec<String> = Vec::new();
    for c in codes_in(s, "registration", "统一社会信用代码").into_iter().filter(|c| !fed.contains(c)) {
        // registered (not a quarantined row), and not yet taken
        if codes.len() < n
            && !codes.contains(&c)
            && get(s, &format!("/api/v1/subjects/{c}"), None).await.0 == StatusCode::OK
        {
            codes.push(c);
        }
    }
    codes
}

fn read_column(path: &Path, col: &str) -> Vec<String> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_path(path).unwrap();
    let idx = rdr.headers().unwrap().iter().position(|h| h == col).unwrap();
    rdr.records()
        .filter_map(|r| r.ok())
        .filter_map(|r| r.get(idx).map(str::to_string))
        .filter(|c| xinyong_core::SubjectCode::parse(c).is_ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_end_to_end() {
    let s = start().await;

    // health and metrics
    let (st, v) = get(&s, "/healthz", None).await;
    assert_eq!((st, v["status"].as_str()), (StatusCode::OK, Some("ok")));

    // a subject with penalties: windows shown, codes normalised
    let penalised = codes_in(&s, "admin_penalty", "统一社会信用代码");
    let mut saw_window = false;
    for code in penalised.iter().take(40) {
        let (st, v) = get(&s, &format!("/api/v1/subjects/{code}"), None).await;
        assert_eq!(st, StatusCode::OK, "{code}: {v}");
        for r in v["records"].as_array().unwrap() {
            assert_eq!(r["publicity"]["public"], true, "the public sees only public records: {r}");
            if r["item"] == "admin_penalty" {
                saw_window |= r["publicity"]["public_until"].is_string();
            }
        }
    }
    assert!(saw_window, "some public penalty shows when its window ends");
    let code = &penalised[0];
    // what was public before any decision: nothing (asked by an account: the public
    // may not ask about another day)
    let (st, v) = get(&s, &format!("/api/v1/subjects/{code}?as_of=2018-06-01"), None).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("as_of_requires_account")), "{v}");
    let (_, v) = get(&s, &format!("/api/v1/subjects/{code}?as_of=2018-06-01&purpose=复核"), Some(&s.officer)).await;
    let records = v["records"].as_array().unwrap();
    assert!(records.iter().all(|r| r["item"] == "registration" || r["publicity"]["public"] == false), "{v}");
    // errors: JSON shape and status
    let (st, v) = get(&s, "/api/v1/subjects/91110108551385082R", None).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"]["code"], "invalid_code");
    assert!(v["error"]["message"].as_str().unwrap().contains("'Q'"), "{v}");
    let (st, v) = get(&s, "/api/v1/subjects/91110108551385082Q", None).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    let (st, _) = get(&s, &format!("/api/v1/subjects/{code}?as_of=yesterday"), None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    // natural persons: never an unmasked ID in any answer
    let persons: Vec<String> = codes_in(&s, "dishonest_debtor", "证件号码/统一社会信用代码")
        .into_iter()
        .filter(|c| xinyong_core::ResidentId::parse(c).is_ok())
        .collect();
    assert!(!persons.is_empty());
    for id in persons.iter().take(5) {
        let (st, v) = get(&s, &format!("/api/v1/subjects/{id}"), Some(&s.admin)).await;
        assert_eq!(st, StatusCode::OK);
        let text = v.to_string();
        assert!(!text.contains(id.as_str()), "unmasked ID in {text}");
        assert!(text.contains(&format!("{}********{}", &id[..6], &id[14..])), "masked form expected: {text}");
        // nor in search answers, found by name
        let (_, v) = get(&s, &format!("/api/v1/subjects/{id}"), Some(&s.admin)).await;
        let name = v["name"].as_str().unwrap().to_string();
        let (_, hits) = get(&s, &format!("/api/v1/subjects?q={}", urlencode(&name)), None).await;
        assert!(!hits.to_string().contains(id.as_str()), "unmasked ID in search: {hits}");
        assert!(
            hits["hits"].as_array().unwrap().iter().any(|h| h["name"] == name.as_str()),
            "person findable by name: {hits}"
        );
    }

    // search: by a word of a name, by pinyin initials, by code prefix
    let (_, subject) = get(&s, &format!("/api/v1/subjects/{code}"), None).await;
    let name = subject["name"].as_str().unwrap().to_string();
    let (st, v) = get(&s, &format!("/api/v1/subjects?q={}", urlencode(&name)), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["hits"][0]["code"], code.as_str(), "{v}");
    let (_, v) = get(&s, &format!("/api/v1/subjects?q={}", &code[..10]), None).await;
    assert!(v["hits"].as_array().unwrap().iter().any(|h| h["code"] == code.as_str()), "{v}");
    let initials = xinyong_app::subjects::pinyin_forms(&name).0;
    let (_, v) = get(&s, &format!("/api/v1/subjects?q={}&limit=100", &initials), None).await;
    assert!(v["hits"].as_array().unwrap().iter().any(|h| h["code"] == code.as_str()), "{initials}: {v}");

    // intake through the API: outcomes per row, quarantine, idempotency, search follows
    let new_code = xinyong_core::Uscc::complete("9111010577777777").unwrap();
    let batch = json!({"item": "honour", "rows": [
        {"主体名称": "北京新来的科技有限公司", "统一社会信用代码": new_code.as_str(), "荣誉名称": "守合同重信用企业", "荣誉等级": "市级", "授予日期": "2025-05-06", "授予机关": "北京市市场监督管理局", "表彰决定文号": "京市监发〔2025〕88号"},
        {"主体名称": "坏行", "统一社会信用代码": "91110105777777777X", "荣誉名称": "x", "荣誉等级": "宇宙级", "授予日期": "2025-05-06", "授予机关": "x", "表彰决定文号": "京市监发〔2025〕89号"}
    ]});
    let (st, v) = post(&s, "/api/v1/records", Some(&s.officer), batch.clone()).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!((v["accepted"].as_u64(), v["quarantined"].as_u64()), (Some(1), Some(1)), "{v}");
    assert_eq!(v["rows"][0]["outcome"], "accepted");
    assert_eq!(v["rows"][1]["outcome"], "quarantined");
    assert!(v["rows"][1]["errors"].as_array().unwrap().iter().any(|e| e["field"] == "荣誉等级"), "{v}");
    // the framework's own rejections answer in the documented JSON, in both languages
    let c = client();
    let url = |p: &str| format!("{}{p}", s.base);
    let auth = format!("Bearer {}", s.officer);
    let cases = [
        (
            c.post(url("/api/v1/records"))
                .header("authorization", &auth)
                .header("content-type", "application/json")
                .body("{\"item\":"),
            400u16,
            422u16,
        ),
        (c.post(url("/api/v1/records")).header("authorization", &auth).body("{}"), 415, 415),
        (c.get(url("/api/v1/listings/abc")), 400, 400),
        (c.delete(url("/api/v1/records")).header("authorization", &auth), 405, 405),
    ];
    for (req, lo, hi) in cases {
        let res = req.send().await.unwrap();
        let st = res.status().as_u16();
        let ct = res.headers()["content-type"].to_str().unwrap().to_string();
        let v: Value = res.json().await.unwrap_or(Value::Null);
        assert!((lo..=hi).contains(&st) && ct.starts_with("application/json"), "{st} {ct} {v}");
        let m = v["error"]["message"].as_str().unwrap_or_default();
        assert!(v["error"]["code"].is_string() && m.contains(" / "), "bilingual JSON: {v}");
    }

    // requests the schema allows are answered, those it does not are refused
    let (st, v) = get(&s, "/api/v1/lists?type=", None).await;
    assert_eq!(st, StatusCode::OK, "an empty type is every public type: {v}");
    let (st, v) = get(&s, "/api/v1/quarantine?limit=2147483648", Some(&s.officer)).await;
    assert!(st.is_client_error() && v["error"]["code"].is_string(), "{st} {v}");
    let (st, v) = get(&s, "/api/v1/quarantine?limit=1001", Some(&s.officer)).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("limit")), "{v}");
    // every page size is bounded in the document and refused outside, not clamped
    for path in [
        "/api/v1/lists?limit=501",
        "/api/v1/subjects?q=a&limit=0",
        "/api/v1/records?item=honour&limit=501",
        "/api/v1/cases?limit=1001",
        "/api/v1/inbox?limit=0",
        "/api/v1/quality?limit=1001",
        "/api/v1/quarantine/reasons?limit=0",
    ] {
        let (st, v) = get(&s, path, Some(&s.officer)).await;
        assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("limit")), "{path}: {v}");
    }

    // a value that is an object or an array is refused as in a JSON Lines file, not
    // published as JSON text
    let nested = json!({"item": "honour", "rows": [
        {"主体名称": "北京嵌套科技有限公司", "统一社会信用代码": new_code.as_str(), "荣誉名称": {"名": "守合同重信用企业"}, "荣誉等级": ["市级"], "授予日期": "2025-05-06", "授予机关": "北京市市场监督管理局", "表彰决定文号": "京市监发〔2025〕90号"}
    ]});
    let (st, n) = post(&s, "/api/v1/records", Some(&s.officer), nested).await;
    assert_eq!(st, StatusCode::OK, "{n}");
    assert_eq!(n["rows"][0]["outcome"], "quarantined", "{n}");
    assert!(n["rows"][0]["errors"].as_array().unwrap().iter().any(|e| e["rule"] == "json.type"), "{n}");
    let (_, again) = post(&s, "/api/v1/records", Some(&s.officer), batch).await;
    assert_eq!((again["accepted"].as_u64(), again["duplicates"].as_u64()), (Some(0), Some(1)), "{again}");
    let (_, v) = get(&s, &format!("/api/v1/subjects?q={}", urlencode("北京新来的科技")), None).await;
    assert_eq!(v["hits"][0]["code"], new_code.as_str(), "the index follows intake: {v}");

    // quarantine: own department only; resubmission
    let (st, v) = get(&s, "/api/v1/quarantine?item=honour", Some(&s.officer)).await;
    assert_eq!(st, StatusCode::OK);
    let entry = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["raw"].as_str().unwrap().contains("宇宙级"))
        .unwrap()
        .clone();
    let id = entry["id"].as_i64().unwrap();
    let (_, v) = get(&s, "/api/v1/quarantine", Some(&s.other_officer)).await;
    assert!(v["entries"].as_array().unwrap().is_empty(), "another department's quarantine leaked: {v}");
    let fix = json!({"set": {"荣誉等级": "市级", "统一社会信用代码": new_code.as_str()}});
    let (st, _) = post(&s, &format!("/api/v1/quarantine/{id}/resubmit"), Some(&s.other_officer), fix.clone()).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, v) = post(&s, &format!("/api/v1/quarantine/{id}/resubmit"), Some(&s.officer), fix).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["outcome"]["outcome"], "accepted", "{v}");
    assert_eq!(v["entry"]["status"], "resolved");

    // ledger: the proof verifies against the signed head with the published key
    let (_, head) = get(&s, "/api/v1/ledger/head", None).await;
    let verifier = xinyong_app::ledger::LedgerVerifier::from_text(head["verifier_key"].as_str().unwrap()).unwrap();
    let signed = verifier.verify(head["head"]["checkpoint"].as_str().unwrap()).unwrap();
    let record_index = subject["records"][0]["ledger_index"].as_u64().unwrap();
    let (st, p) = get(&s, &format!("/api/v1/ledger/proof/{record_index}"), None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(p.get("event").is_none(), "the public proof carries no event content");
    let path: Vec<_> = p["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| xinyong_app::ledger::from_hex(h.as_str().unwrap()).unwrap())
        .collect();
    let leaf = xinyong_app::ledger::from_hex(p["leaf_hash"].as_str().unwrap()).unwrap();
    xinyong_app::ledger::verify_inclusion(record_index, signed.size, &leaf, &path, &signed.root).unwrap();
    let (st, c) = get(&s, "/api/v1/ledger/consistency?from=10", None).await;
    assert_eq!(st, StatusCode::OK, "{c}");
    let (st, _) = get(&s, "/api/v1/ledger/consistency?from=0", None).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);

    // reads of non-public data by accounts are logged
    let (_, _) =
        get(&s, &format!("/api/v1/subjects/{code}?as_of=2040-01-01&purpose=行政许可审查"), Some(&s.officer)).await;

    // metrics count what happened
    let (_, m) = get(&s, "/metrics", None).await;
    let m = m.as_str().unwrap().to_string();
    assert!(
        m.contains("xinyong_http_requests_total{method=\"POST\",route=\"/api/v1/records\",status=\"200\"} 3"),
        "{m}"
    );
    assert!(m.contains("xinyong_subjects "), "{m}");
}

/// The hidden CSRF field of a rendered form.
fn csrf_field(html: &str) -> String {
    html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string()
}

/// Fetches the login form (which sets its CSRF cookie) and signs in; returns the status.
async fn sign_in(jar: &reqwest::Client, s: &Server, username: &str, password: &str) -> StatusCode {
    let form = jar.get(format!("{}/login", s.base)).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_field(&form);
    let res = jar
        .post(format!("{}/login", s.base))
        .form(&[("username", username), ("password", password), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    res.status()
}

fn cookie_client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Every role against every endpoint: allowed, or 401/403 as designed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorisation_matrix() {
    let s = start().await;
    let code = codes_in(&s, "registration", "统一社会信用代码")[0].clone();
    let batch = json!({"item": "honour", "rows": [{"主体名称": "x"}]});
    let admin_batch = json!({"item": "honour", "provider": PROVIDER, "rows": [{"主体名称": "x"}]});
    let bad = "xy_not_a_token".to_string();
    // (method, path, body, expected for: public, officer, admin, invalid token)
    let cases: Vec<(&str, String, Option<Value>, [u16; 4])> = vec![
        ("GET", format!("/api/v1/subjects/{code}"), None, [200, 200, 200, 401]),
        ("GET", "/api/v1/subjects?q=北京".into(), None, [200, 200, 200, 401]),
        ("POST", "/api/v1/records".into(), Some(batch.clone()), [401, 200, 422, 401]),
        ("POST", "/api/v1/records".into(), Some(admin_batch), [401, 200, 200, 401]),
        ("GET", "/api/v1/quarantine".into(), None, [401, 200, 200, 401]),
        ("GET", "/api/v1/quality".into(), None, [401, 200, 200, 401]),
        ("GET", "/api/v1/quarantine/reasons".into(), None, [401, 200, 200, 401]),
        ("POST", "/api/v1/quarantine/999999/resubmit".into(), Some(json!({"set": {}})), [401, 404, 404, 401]),
        ("GET", "/api/v1/ledger/head".into(), None, [200, 200, 200, 401]),
        ("GET", "/api/v1/ledger/proof/0".into(), None, [200, 200, 200, 401]),
        ("GET", "/api/v1/ledger/consistency?from=1".into(), None, [200, 200, 200, 401]),
        ("GET", "/api/v1/catalog".into(), None, [200, 200, 200, 200]),
        ("GET", "/api/v1/openapi.json".into(), None, [200, 200, 200, 200]),
        ("GET", "/api/v1/accounts".into(), None, [401, 403, 200, 401]),
        ("POST", "/api/v1/accounts".into(), Some(json!({"username": "", "role": "officer"})), [401, 403, 422, 401]),
        ("GET", format!("/api/v1/subjects/{code}/access-log"), None, [401, 403, 200, 401]),
        ("GET", "/api/v1/due-process".into(), None, [200, 200, 200, 200]),
        ("GET", "/api/v1/cases".into(), None, [401, 200, 200, 401]),
        ("GET", "/api/v1/cases/999999".into(), None, [401, 404, 404, 401]),
        ("POST", "/api/v1/cases/999999/decision".into(), Some(json!({"outcome": "granted"})), [401, 404, 404, 401]),
        ("POST", "/api/v1/cases/999999/withdrawal".into(), Some(json!({})), [401, 404, 404, 401]),
        ("GET", "/api/v1/inbox".into(), None, [401, 200, 200, 401]),
        ("GET", format!("/api/v1/evidence/{}", "0".repeat(64)), None, [401, 404, 404, 401]),
        (
            "POST",
            "/api/v1/rectifications".into(),
            Some(json!({"code": code, "text": "限期整改"})),
            [401, 201, 422, 401],
        ),
        (
            "POST",
            "/api/v1/records/999999/revocation".into(),
            Some(json!({"reason": "r", "document": "d"})),
            [401, 404, 404, 401],
        ),
        (
            "POST",
            "/api/v1/repairs".into(),
            Some(json!({"code": code, "record_id": 999999, "statement": "s", "commitment_signed": true})),
            [401, 404, 404, 401],
        ),
        ("GET", "/api/v1/commitments/matters".into(), None, [200, 200, 200, 401]),
        (
            "POST",
            "/api/v1/commitments".into(),
            Some(json!({"matter": "M-NONE-0000", "code": code})),
            [401, 422, 422, 401],
        ),
        ("POST", "/api/v1/commitments/999999/fulfilment".into(), Some(json!({"text": "t"})), [401, 404, 404, 401]),
        ("POST", "/api/v1/commitments/999999/breach".into(), Some(json!({"text": "t"})), [401, 404, 404, 401]),
        ("GET", format!("/api/v1/subjects/{code}/commitments"), None, [200, 200, 200, 401]),
        // a department's queue: the centre names the department
        ("GET", "/api/v1/commitments".into(), None, [401, 200, 422, 401]),
        ("GET", "/api/v1/commitments?state=kept".into(), None, [401, 422, 422, 401]),
        // a registration: only the entity, or the accepting department (the centre)
        (
            "POST",
            "/api/v1/registrations".into(),
            Some(json!({"code": code, "category": "传闻", "title": "t", "content": "c", "issuer": "i",
                        "obtained_on": "2025-01-01"})),
            [401, 403, 422, 401],
        ),
        ("POST", "/api/v1/registrations/999999/verification".into(), Some(json!({"text": "t"})), [401, 404, 404, 401]),
        ("POST", "/api/v1/registrations/999999/refutation".into(), Some(json!({"text": "t"})), [401, 404, 404, 401]),
        // grades: the models are public, a subject's grades and the figures are not
        ("GET", "/api/v1/grading/models".into(), None, [200, 200, 200, 401]),
        ("GET", format!("/api/v1/subjects/{code}/grades"), None, [401, 200, 200, 401]),
        ("GET", "/api/v1/grading/figures".into(), None, [401, 200, 200, 401]),
        ("GET", "/api/v1/figures".into(), None, [401, 200, 200, 401]),
        // inspection plans: published to all, committed and drawn by departments
        ("GET", "/api/v1/inspections".into(), None, [200, 200, 200, 401]),
        ("GET", "/api/v1/inspections/JC-0".into(), None, [404, 404, 404, 401]),
        ("GET", "/api/v1/inspections/JC-0/replay".into(), None, [404, 404, 404, 401]),
        (
            "POST",
            "/api/v1/inspections".into(),
            Some(json!({"name": "", "items": [], "ratios_permille": {}, "roster": [],
                                                           "department_code": "x"})),
            [401, 422, 422, 401],
        ),
        ("POST", "/api/v1/inspections/JC-0/draw".into(), None, [401, 404, 404, 401]),
        (
            "POST",
            "/api/v1/inspections/JC-0/results".into(),
            Some(json!({"code": code, "result": "未发现问题"})),
            [401, 404, 404, 401],
        ),
    ];
    for (method, path, body, expected) in cases {
        for (who, token, want) in [
            ("public", None, expected[0]),
            ("officer", Some(&s.officer), expected[1]),
            ("admin", Some(&s.admin), expected[2]),
            ("bad token", Some(&bad), expected[3]),
        ] {
            let (st, v) = match method {
                "GET" => get(&s, &path, token.map(String::as_str)).await,
                _ => post(&s, &path, token.map(String::as_str), body.clone().unwrap_or(Value::Null)).await,
            };
            assert_eq!(st.as_u16(), want, "{who} {method} {path}: {v}");
            if st.as_u16() >= 400 {
                assert!(v["error"]["code"].is_string(), "{who} {method} {path}: error shape {v}");
            }
        }
    }
    // an officer cannot push in another department's name
    let foreign = json!({"item": "honour", "provider": "别的部门", "rows": [{"主体名称": "x"}]});
    let (st, _) = post(&s, "/api/v1/records", Some(&s.officer), foreign).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}

/// The OpenAPI document is valid JSON of version 3 and names every API route.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_covers_every_endpoint() {
    let s = start().await;
    let (st, doc) = get(&s, "/api/v1/openapi.json", None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (p, m) in [
        ("/api/v1/subjects/{code}", "get"),
        ("/api/v1/subjects", "get"),
        ("/api/v1/records", "post"),
        ("/api/v1/quarantine", "get"),
        ("/api/v1/quarantine/{id}/resubmit", "post"),
        ("/api/v1/ledger/head", "get"),
        ("/api/v1/ledger/proof/{index}", "get"),
        ("/api/v1/ledger/consistency", "get"),
        ("/api/v1/catalog", "get"),
        ("/api/v1/accounts", "get"),
        ("/api/v1/accounts", "post"),
        ("/api/v1/subjects/{code}/access-log", "get"),
        ("/api/v1/due-process", "get"),
        ("/api/v1/objections", "post"),
        ("/api/v1/repairs", "post"),
        ("/api/v1/cases", "get"),
        ("/api/v1/cases/{id}", "get"),
        ("/api/v1/cases/{id}/follow", "get"),
        ("/api/v1/cases/{id}/decision", "post"),
        ("/api/v1/cases/{id}/withdrawal", "post"),
        ("/api/v1/rectifications", "post"),
        ("/api/v1/interviews", "post"),
        ("/api/v1/records/{id}/revocation", "post"),
        ("/api/v1/records/{id}/correction", "post"),
        ("/api/v1/inbox", "get"),
        ("/api/v1/inbox/{id}/read", "post"),
        ("/api/v1/evidence", "post"),
        ("/api/v1/evidence/{sha256}", "get"),
        ("/api/v1/quality", "get"),
        ("/api/v1/quarantine/reasons", "get"),
        ("/api/v1/quarantine/export", "get"),
        ("/api/v1/quarantine/corrections", "post"),
        ("/api/v1/commitments/matters", "get"),
        ("/api/v1/commitments", "post"),
        ("/api/v1/commitments/{id}/fulfilment", "post"),
        ("/api/v1/commitments/{id}/breach", "post"),
        ("/api/v1/subjects/{code}/commitments", "get"),
        ("/api/v1/commitments", "get"),
        ("/api/v1/registrations", "post"),
        ("/api/v1/registrations/{id}/verification", "post"),
        ("/api/v1/registrations/{id}/refutation", "post"),
        ("/api/v1/grading/models", "get"),
        ("/api/v1/subjects/{code}/grades", "get"),
        ("/api/v1/grading/figures", "get"),
        ("/api/v1/figures", "get"),
        ("/api/v1/inspections", "get"),
        ("/api/v1/inspections", "post"),
        ("/api/v1/inspections/{id}", "get"),
        ("/api/v1/inspections/{id}/draw", "post"),
        ("/api/v1/inspections/{id}/results", "post"),
        ("/api/v1/inspections/{id}/replay", "get"),
    ] {
        assert!(paths.get(p).and_then(|x| x.get(m)).is_some(), "{m} {p} missing from OpenAPI");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    // operation ids name one operation each
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_default().to_string();
            assert!(ids.insert(id.clone()), "operation id {id} of {method} {path} is not unique");
        }
    }
    edge_rejections_are_documented(&s, &doc).await;
    // kept for the schema validator run by scripts/test-all (openapi-spec-validator)
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/artifacts");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("openapi.json"), serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
}

/// What the edge refuses before a handler runs is in the document of every operation
/// where it can happen, and is what the server answers: a parameter that does not parse
/// (400) or is out of its bounds (422); a JSON body that is not JSON (400), not
/// `application/json` (415), too large (413) or of the wrong shape (422); a multipart
/// body that is not one (400) or too large (413); a caller's rate limit (429) and a
/// session's missing CSRF header on a change (403). Schemathesis (scripts/api-fuzz)
/// counts any other status as a failure.
async fn edge_rejections_are_documented(s: &Server, doc: &Value) {
    let c = client();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let listed = |status: &str| op["responses"].get(status).is_some();
            let must =
                |status: &str, why: &str| assert!(listed(status), "{method} {path}: {why} ({status}) undocumented");
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            if !params.is_empty() {
                must("400", "a parameter that does not parse");
            }
            let bounded = |p: &Value| p["schema"]["maximum"].is_number() || p["schema"]["minimum"].as_f64() > Some(0.0);
            if params.iter().any(bounded) {
                must("422", "a parameter out of its bounds");
            }
            if listed("401") {
                must("429", "the anonymous rate limit");
                if method != "get" {
                    must("403", "a session's change without X-CSRF-Token");
                }
            }
            let media: Vec<&String> =
                op["requestBody"]["content"].as_object().map(|m| m.keys().collect()).unwrap_or_default();
            if media.iter().any(|m| m.starts_with("multipart/")) {
                must("400", "not a multipart body");
                must("413", "a body over the limit");
            }
            if !media.iter().any(|m| m.starts_with("application/json")) {
                continue;
            }
            // every JSON operation, as the department's machine client calls it
            let url = format!("{}{}", s.base, path.replace("{id}", "1"));
            let send = |content_type: Option<&str>, body: Vec<u8>| {
                let mut r = c.post(&url).bearer_auth(&s.officer).body(body);
                if let Some(t) = content_type {
                    r = r.header("content-type", t);
                }
                r.send()
            };
            // just over the framework's default limit for a JSON body (2 MiB)
            let too_large = vec![b' '; (2 << 20) + 1];
            for (content_type, body, status) in [
                (Some("application/json"), b"{\"a\":".to_vec(), 400u16),
                (None, b"{}".to_vec(), 415),
                (Some("application/json"), too_large, 413),
                (Some("application/json"), b"\"x\"".to_vec(), 422),
            ] {
                let res = send(content_type, body).await.unwrap();
                let got = res.status().as_u16();
                assert_eq!(got, status, "{method} {path}: {:?}", res.text().await);
                must(&got.to_string(), "a rejected JSON body");
            }
        }
    }
}

/// The portal renders in both languages, masks personal data, and logs in with CSRF.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_pages() {
    let s = start().await;
    let c = client();
    let home = c.get(format!("{}/", s.base)).send().await.unwrap();
    assert_eq!(home.headers()["content-language"], "zh-CN");
    // never framed, only its own scripts, no referrer beyond the origin, no sniffing
    let h = home.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"), "{csp}");
    assert_eq!(
        (h["x-frame-options"].to_str().unwrap(), h["x-content-type-options"].to_str().unwrap()),
        ("DENY", "nosniff")
    );
    assert_eq!(h["referrer-policy"], "strict-origin-when-cross-origin");
    let html = home.text().await.unwrap();
    assert!(html.contains("信用信息公示平台") && html.contains("<form action=\"/search\""), "{html}");
    let en = c.get(format!("{}/?lang=en", s.base)).send().await.unwrap();
    assert!(en.headers().get_all("set-cookie").iter().any(|v| v.to_str().unwrap().starts_with("lang=en")));
    assert!(en.text().await.unwrap().contains("Credit Information Publicity Platform"));
    let code = codes_in(&s, "admin_penalty", "统一社会信用代码")[0].clone();
    let page = c.get(format!("{}/subjects/{code}", s.base)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("行政处罚") && html.contains("行政许可") && html.contains("/ledger/"), "{html}");
    let person = codes_in(&s, "dishonest_debtor", "证件号码/统一社会信用代码")
        .into_iter()
        .find(|c| xinyong_core::ResidentId::parse(c).is_ok())
        .unwrap();
    let html = c.get(format!("{}/subjects/{person}", s.base)).send().await.unwrap().text().await.unwrap();
    if let Some(at) = html.find(&person) {
        panic!("unmasked ID on a public page: …{}…", &html[at.saturating_sub(300)..(at + 100).min(html.len())]);
    }
    let catalog = c.get(format!("{}/catalog", s.base)).send().await.unwrap().text().await.unwrap();
    assert!(catalog.contains("行政处罚决定书文号") && catalog.contains("社会公开"));
    let proof = c.get(format!("{}/ledger/0", s.base)).send().await.unwrap().text().await.unwrap();
    assert!(proof.contains("已验证"), "{proof}");
    let missing = c.get(format!("{}/subjects/91110108551385082Q", s.base)).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    // login without the CSRF cookie is refused; with it, a session starts
    let (st, _) = {
        let r = c
            .post(format!("{}/login", s.base))
            .form(&[("username", "admin"), ("password", "correct horse battery"), ("csrf", "x")])
            .send()
            .await
            .unwrap();
        (r.status(), ())
    };
    assert_eq!(st, StatusCode::FORBIDDEN);
    let jar = cookie_client();
    assert_eq!(sign_in(&jar, &s, "admin", "nope").await, StatusCode::UNAUTHORIZED);
    assert_eq!(sign_in(&jar, &s, "admin", "correct horse battery").await, StatusCode::SEE_OTHER);
    let home = jar.get(format!("{}/", s.base)).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("已登录"), "{home}");
    let (st, v) = {
        let r = jar.get(format!("{}/api/v1/quarantine", s.base)).send().await.unwrap();
        (r.status(), r.text().await.unwrap())
    };
    assert_eq!(st, StatusCode::OK, "a session works for the API too: {v}");

    // an officer's quarantine page lists their department's refused rows with reasons, and takes corrections
    let officer = cookie_client();
    assert_eq!(sign_in(&officer, &s, "officer", "correct horse battery").await, StatusCode::SEE_OTHER);
    let page = officer.get(format!("{}/quarantine", s.base)).send().await.unwrap().text().await.unwrap();
    let id: i64 = page
        .split("<article class=\"record\" id=\"q")
        .nth(1)
        .expect("entries listed")
        .split('"')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(page.contains("<ul class=\"errors\"><li>"), "reasons shown");
    let session_csrf = csrf_field(&page);
    let bad = officer
        .post(format!("{}/quarantine/{id}/resubmit", s.base))
        .form(&[("csrf", "wrong"), ("set", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::FORBIDDEN);
    let again = officer
        .post(format!("{}/quarantine/{id}/resubmit", s.base))
        .form(&[("csrf", session_csrf.as_str()), ("set", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    assert!(again.text().await.unwrap().contains("仍未通过校验"), "an uncorrected row stays refused");
    let anonymous = client().get(format!("{}/quarantine", s.base)).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER, "the public is sent to sign in");
}

/// The quality report, the quarantine's reasons, its download and the upload of a
/// corrected file over HTTP (token and session), each department seeing its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quality_report_and_quarantine_files() {
    let s = start().await;
    // the generated import: the department's batches with their refused rows
    let (st, q) = get(&s, "/api/v1/quality", Some(&s.officer)).await;
    assert_eq!(st, StatusCode::OK, "{q}");
    let batches = q["batches"].as_array().unwrap();
    assert!(!batches.is_empty() && batches.iter().all(|b| b["provider"] == PROVIDER), "{q}");
    let total = &q["total"];
    let rows = total["rows"].as_u64().unwrap();
    let sum =
        ["accepted", "corrected", "duplicates", "quarantined"].iter().map(|k| total[k].as_u64().unwrap()).sum::<u64>();
    assert_eq!(rows, sum, "every row received is accounted for: {total}");
    assert!(total["quarantined"].as_u64().unwrap() > 0 && !total["refused"].as_array().unwrap().is_empty());
    let rate = total["duplicate_or_wrong_per_mille"].as_f64().unwrap();
    let expected =
        (total["duplicates"].as_u64().unwrap() + total["wrong_codes"].as_u64().unwrap()) as f64 * 1000.0 / rows as f64;
    assert!((rate - expected).abs() < 1e-9, "{total}");
    assert_eq!(q["providers"][0]["provider"], PROVIDER);
    let batch = batches[0]["batch"].as_str().unwrap().to_string();
    let (_, one) = get(&s, &format!("/api/v1/quality?batch={batch}"), Some(&s.officer)).await;
    assert_eq!(one["batches"].as_array().unwrap().len(), 1);
    let (_, other) = get(&s, "/api/v1/quality", Some(&s.other_officer)).await;
    assert!(other["batches"].as_array().unwrap().is_empty(), "another department's figures leaked: {other}");
    let (st, _) = get(&s, &format!("/api/v1/quality?provider={}", urlencode(PROVIDER)), Some(&s.other_officer)).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = get(&s, "/api/v1/quality", None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, all) = get(&s, "/api/v1/quality", Some(&s.admin)).await;
    assert_eq!((st, all["total"]["rows"].as_u64()), (StatusCode::OK, Some(rows)));

    // reasons with counts, and the rows of one reason
    let (st, r) = get(&s, "/api/v1/quarantine/reasons", Some(&s.officer)).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    let open = r["total"].as_u64().unwrap();
    let top = r["reasons"][0].clone();
    assert!(open > 0 && top["rows"].as_u64().unwrap() > 0 && top["zh"].is_string(), "{r}");
    let (item, rule, field) =
        (top["item"].as_str().unwrap(), top["rule"].as_str().unwrap(), top["field"].as_str().unwrap());
    let path =
        format!("/api/v1/quarantine?item={item}&reason={}&field={}&limit=1000", urlencode(rule), urlencode(field));
    let (_, v) = get(&s, &path, Some(&s.officer)).await;
    let entries = v["entries"].as_array().unwrap();
    assert_eq!(entries.len() as u64, top["rows"].as_u64().unwrap(), "the group's count is its rows");
    assert!(
        entries.iter().all(|e| e["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["rule"] == rule && x["field"] == field))
    );

    // download: CSV with a BOM and the id column; XLSX is a zip
    let csv = client()
        .get(format!("{}/api/v1/quarantine/export?format=csv&item={item}", s.base))
        .bearer_auth(&s.officer)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(csv.headers()["content-disposition"].to_str().unwrap().contains(".csv"));
    let body = csv.bytes().await.unwrap().to_vec();
    let text = String::from_utf8(body[3..].to_vec()).unwrap();
    assert!(body.starts_with(b"\xEF\xBB\xBF") && text.starts_with("隔离编号,"), "{text}");
    let xlsx = client()
        .get(format!("{}/api/v1/quarantine/export?item={item}", s.base))
        .bearer_auth(&s.officer)
        .send()
        .await
        .unwrap();
    assert_eq!(xlsx.status(), StatusCode::OK);
    assert!(xlsx.bytes().await.unwrap().starts_with(b"PK"));
    let (st, v) = get(&s, "/api/v1/quarantine/export", Some(&s.other_officer)).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "nothing of theirs to download: {v}");

    // upload: the file unchanged changes nothing; another department's upload of it is refused row by row
    let upload = |token: &str, bytes: Vec<u8>| {
        let form =
            reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(bytes).file_name("fixed.csv"));
        client().post(format!("{}/api/v1/quarantine/corrections", s.base)).bearer_auth(token).multipart(form).send()
    };
    let res = upload(&s.officer, body.clone()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let v: Value = res.json().await.unwrap();
    let n = text.lines().count() as u64 - 1;
    assert_eq!(
        (v["unchanged"].as_u64(), v["resolved"].as_u64(), v["refused"].as_u64()),
        (Some(n), Some(0), Some(0)),
        "{v}"
    );
    let v: Value = upload(&s.other_officer, body.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(v["refused"].as_u64(), Some(n), "{v}");
    assert!(v["rows"][0]["errors"][0]["en"].as_str().unwrap().contains("another department"));
    let (_, after) = get(&s, "/api/v1/quarantine/reasons", Some(&s.officer)).await;
    assert_eq!(after["total"].as_u64(), Some(open), "nothing changed");
    let res = upload(&s.officer, "主体名称\n北京\n".as_bytes().to_vec()).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // the portal: the report with its bars, the grouped quarantine, the upload form
    let officer = cookie_client();
    assert_eq!(sign_in(&officer, &s, "officer", common::PASSWORD).await, StatusCode::SEE_OTHER);
    let page = officer.get(format!("{}/quality", s.base)).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains("id=\"quality-providers\"") && page.contains("class=\"qbar\"") && page.contains("重错码率"),
        "{page}"
    );
    let page = officer.get(format!("{}/quarantine", s.base)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"reasons\"") && page.contains("/api/v1/quarantine/export?format=xlsx"), "{page}");
    assert!(page.contains(&format!("{open} 条待更正")), "the total is shown");
    assert!(page.matches("<article class=\"record\"").count() <= 50, "one page at a time");
    let filtered = officer
        .get(format!("{}/quarantine?item={item}&reason={}&field={}", s.base, urlencode(rule), urlencode(field)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(filtered.contains(&format!("{} 行数", top["rows"])), "{filtered}");
    let csrf = csrf_field(&page);
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf)
        .part("file", reqwest::multipart::Part::bytes(body).file_name("fixed.csv"));
    let res = officer.post(format!("{}/quarantine/corrections", s.base)).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"upload-result\"") && html.contains(&format!("未改动 {n}")), "{html}");
    let en = officer.get(format!("{}/quality?lang=en", s.base)).send().await.unwrap().text().await.unwrap();
    assert!(en.contains("Duplicate or wrong codes"), "{en}");
}

fn document(list_type: &str) -> Value {
    serde_json::to_value(xinyong_app::listings::sample_document(list_type, "《某某条例》第十条")).unwrap()
}

async fn check(s: &Server, token: &str, code: &str, matter: &str, as_of: &str) -> Value {
    let body = json!({"code": code, "matter": matter, "purpose": "测试核查", "as_of": as_of});
    let (st, v) = post(s, "/api/v1/checks", Some(token), body).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v
}

fn measure_ids(v: &Value) -> Vec<&str> {
    v["measures"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect()
}

/// Every list type through the API: notice → objection window → listed → checks show
/// the measures with their legal basis → expiry or removal → checks are clear again,
/// while checks as of the listed period still see it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_lifecycles_and_checks() {
    let s = start().await;
    let [sd, ka, rl, mb, ao, other]: [String; 6] = unlisted_subjects(&s, 6).await.try_into().unwrap();
    let o = s.officer.as_str();
    let today = xinyong_core::record::date_string(xinyong_app::today_shanghai());

    // a subject account for the seriously dishonest one
    let (st, v) = post(
        &s,
        "/api/v1/accounts",
        Some(&s.admin),
        json!({"username": "entity", "role": "subject", "subject_code": sd, "token": true, "password": "correct horse battery"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let entity = v["token"].as_str().unwrap().to_string();

    // -- serious dishonesty: refusals first
    let base =
        json!({"code": sd, "list_type": "serious_dishonesty", "reason": "拒不履行", "notice_date": "2025-03-03"});
    let mut no_basis = base.clone();
    no_basis["basis"] = json!(null);
    let (st, v) = post(&s, "/api/v1/listings", Some(o), no_basis).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("refused")), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("legal basis"), "{v}");
    let direct = json!({"code": sd, "list_type": "serious_dishonesty", "reason": "拒不履行", "basis": "《条例》",
        "decision": {"decision_date": "2025-03-20", "document": document("serious_dishonesty")}});
    let (st, v) = post(&s, "/api/v1/listings", Some(o), direct).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("prior notice"), "{v}");
    let mut noticed = base.clone();
    noticed["basis"] = json!("《严重失信主体名单管理办法》第五条");
    let (st, v) = post(&s, "/api/v1/listings", Some(o), noticed).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let id = v["listing"]["id"].as_i64().unwrap();
    assert_eq!(v["listing"]["status"], "noticed");
    assert_eq!(v["listing"]["objection_until"], "2025-03-10");
    // noticed is not listed: the check is clear
    assert_eq!(check(&s, o, &sd, "government_procurement", "2025-03-05").await["verdict"], "clear");
    // the subject objects in time; another department may not decide
    let (st, v) = post(
        &s,
        &format!("/api/v1/listings/{id}/objection"),
        Some(&entity),
        json!({"date": "2025-03-05", "text": "已履行"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let decision = json!({"decision_date": "2025-03-10", "document": document("serious_dishonesty")});
    let (st, _) = post(&s, &format!("/api/v1/listings/{id}/decision"), Some(&s.other_officer), decision.clone()).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, v) = post(&s, &format!("/api/v1/listings/{id}/decision"), Some(o), decision).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(msg.contains("objection window") && msg.contains("objection_reply"), "{msg}");
    let mut doc = document("serious_dishonesty");
    doc["objection_reply"] = json!("经核查，异议不成立");
    let (st, v) = post(
        &s,
        &format!("/api/v1/listings/{id}/decision"),
        Some(o),
        json!({"decision_date": "2025-03-11", "document": doc}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!((v["listing"]["status"].as_str(), v["listing"]["end"].as_str()), (Some("listed"), Some("2028-03-11")));
    let decided_at = v["listing"]["ledger_index"].as_u64().unwrap();
    let c = check(&s, o, &sd, "government_procurement", "2025-06-01").await;
    assert_eq!(c["verdict"], "prohibit", "{c}");
    assert_eq!(measure_ids(&c), ["M-SD-01"]);
    assert!(c["measures"][0]["basis"][0].as_str().unwrap().contains("政府采购法"), "{c}");
    assert_eq!(
        (c["lists"][0]["type"].as_str(), c["lists"][0]["ledger_index"].as_u64()),
        (Some("serious_dishonesty"), Some(decided_at))
    );
    assert_eq!(c["subject"]["code"], sd.as_str());
    // early removal: refused before a year, accepted after
    let early = |date: &str| json!({"date": date, "kind": "early_removal", "reason": "已履行完毕"});
    let (st, v) = post(&s, &format!("/api/v1/listings/{id}/removal"), Some(o), early("2025-09-01")).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (st, v) = post(&s, &format!("/api/v1/listings/{id}/removal"), Some(o), early("2026-04-01")).await;
    assert_eq!((st, v["listing"]["status"].as_str()), (StatusCode::OK, Some("removed")), "{v}");
    assert_eq!(check(&s, o, &sd, "government_procurement", "2026-05-01").await["verdict"], "clear");
    assert_eq!(check(&s, o, &sd, "government_procurement", "2025-06-01").await["verdict"], "prohibit");

    // -- key attention: direct decision, expires by itself after its 1-year term
    let (st, v) = post(
        &s,
        "/api/v1/listings",
        Some(o),
        json!({"code": ka, "list_type": "key_attention", "reason": "多次违法", "basis": "《条例》第三十条",
               "decision": {"decision_date": "2025-01-06", "document": document("key_attention")}}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["listing"]["end"], "2026-01-06");
    let c = check(&s, o, &ka, "bidding", "2025-06-01").await;
    assert_eq!((c["verdict"].as_str(), measure_ids(&c)), (Some("restrict"), vec!["M-KA-03"]));
    assert_eq!(check(&s, o, &ka, "bidding", &today).await["verdict"], "clear");

    // -- red list: a reward
    let (st, v) = post(
        &s,
        "/api/v1/listings",
        Some(o),
        json!({"code": rl, "list_type": "red_list", "reason": "纳税信用A级",
               "decision": {"decision_date": "2025-06-02", "document": {}}}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let c = check(&s, o, &rl, "administrative_licensing", "2026-01-01").await;
    assert_eq!((c["verdict"].as_str(), measure_ids(&c)), (Some("reward"), vec!["M-RL-01"]));

    // -- market ban with its legal representative; a revoked decision is void from the start
    let (st, v) = post(
        &s,
        "/api/v1/listings",
        Some(o),
        json!({"code": mb, "list_type": "market_ban", "reason": "内幕交易", "basis": "《证券法》第二百二十一条",
               "notice_date": "2024-05-06", "scope": "securities",
               "persons": [{"role": "legal_representative", "name": "王建国", "id": "11010519491231002X"}]}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let ban = v["listing"]["id"].as_i64().unwrap();
    assert_eq!(v["listing"]["persons"][0]["id"], "110105********002X", "IDs are masked: {v}");
    let (st, v) = post(
        &s,
        &format!("/api/v1/listings/{ban}/decision"),
        Some(o),
        json!({"decision_date": "2024-06-03", "document": document("market_ban")}),
    )
    .await;
    assert_eq!((st, v["listing"]["end"].as_str()), (StatusCode::OK, None), "life: {v}");
    assert_eq!(check(&s, o, &mb, "market_access", "2025-01-01").await["verdict"], "prohibit");
    // the legal representative listed with it is barred too, checked by resident ID
    let person = check(&s, o, "11010519491231002X", "appointment", "2025-01-01").await;
    assert_eq!(person["verdict"], "prohibit", "{person}");
    assert_eq!(measure_ids(&person), ["M-MB-01"]);
    assert_eq!(
        (person["lists"][0]["listed_as"].as_str(), person["lists"][0]["entity"].as_str()),
        (Some("legal_representative"), Some(mb.as_str()))
    );
    let (st, _) = post(
        &s,
        &format!("/api/v1/listings/{ban}/removal"),
        Some(o),
        json!({"date": "2025-02-03", "kind": "decision_revoked", "reason": "行政复议撤销"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(check(&s, o, &mb, "market_access", "2025-01-01").await["verdict"], "clear");

    // -- abnormal operation follows from the registration authority's record: proposing
    // it is refused; the record lists until its 移出日期
    let (st, v) = post(
        &s,
        "/api/v1/listings",
        Some(o),
        json!({"code": ao, "list_type": "abnormal_operation", "reason": "未报年报", "basis": "《企业信息公示暂行条例》第十七条",
               "decision": {"decision_date": "2025-07-01", "document": document("key_attention")}}),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("follow from the provider's records"), "{v}");
    let abnormal = |removed: Option<&str>| {
        let mut row = json!({"企业名称": "测试异常企业", "统一社会信用代码": ao, "列入经营异常名录原因": "未按规定公示年度报告",
            "列入日期": "2025-07-01", "列入决定书文号": "京市监异〔2025〕7号", "作出决定机关": "北京市市场监督管理局"});
        if let Some(d) = removed {
            row["移出日期"] = json!(d);
            row["移出原因"] = json!("已补报年度报告并公示");
        }
        json!({"item": "abnormal_operation", "rows": [row]})
    };
    let (st, v) = post(&s, "/api/v1/records", Some(o), abnormal(None)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let c = check(&s, o, &ao, "bidding", &today).await;
    assert_eq!((c["verdict"].as_str(), measure_ids(&c)), (Some("restrict"), vec!["M-AO-01"]), "{c}");
    assert_eq!(c["lists"][0]["source"]["documents"]["列入决定书文号"], "京市监异〔2025〕7号", "{c}");
    // the subject page shows the entry with the record it came from and how it ends
    let html = reqwest::get(format!("{}/subjects/{ao}", s.base)).await.unwrap().text().await.unwrap();
    let lists = html.split("id=\"credit-lists\"").nth(1).unwrap();
    assert!(lists.contains("来源记录") && lists.contains("列入决定书文号 京市监异〔2025〕7号"), "{lists}");
    assert!(lists.contains("随来源记录的移出"), "how it ends");
    let (st, v) = post(&s, "/api/v1/records", Some(o), abnormal(Some(&today))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(check(&s, o, &ao, "bidding", &today).await["verdict"], "clear");
    assert_eq!(check(&s, o, &ao, "bidding", "2025-08-01").await["verdict"], "restrict", "as of the listed period");

    // -- public lists: published types only; the shared list is not public
    let (st, v) = get(&s, "/api/v1/lists?type=serious_dishonesty&as_of=2025-06-01", None).await;
    assert_eq!(st, StatusCode::OK);
    let entries = v["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{v}");
    assert_eq!((entries[0]["code"].as_str(), entries[0]["start"].as_str()), (Some(sd.as_str()), Some("2025-03-11")));
    assert!(entries[0]["removal"].as_str().is_some_and(|r| !r.is_empty()), "how to exit: {v}");
    let (st, _) = get(&s, "/api/v1/lists?type=key_attention", None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (_, v) = get(&s, "/api/v1/lists?as_of=2025-06-01&limit=500", None).await;
    let types: Vec<&str> = v["entries"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(types.contains(&"serious_dishonesty") && !types.contains(&"key_attention"), "{types:?}");

    // -- check answers: unknown valid code, invalid code, unknown matter, the public, proofs
    let unknown = "91350100M000100Y43";
    let (st, v) =
        post(&s, "/api/v1/checks", Some(o), json!({"code": unknown, "matter": "bidding", "purpose": "p"})).await;
    if xinyong_core::SubjectCode::parse(unknown).is_ok() {
        assert_eq!((st, v["verdict"].as_str(), v["subject"].is_null()), (StatusCode::OK, Some("clear"), true), "{v}");
    }
    let (st, v) =
        post(&s, "/api/v1/checks", Some(o), json!({"code": "91110108551385082X", "matter": "bidding", "purpose": "p"}))
            .await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_code")), "{v}");
    let (st, v) = post(&s, "/api/v1/checks", Some(o), json!({"code": other, "matter": "biding", "purpose": "p"})).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_matter")), "{v}");
    let (st, _) = post(&s, "/api/v1/checks", None, json!({"code": other, "matter": "bidding", "purpose": "p"})).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, v) = post(
        &s,
        "/api/v1/checks",
        Some(o),
        json!({"code": sd, "matter": "bidding", "purpose": "p", "as_of": "2025-06-01", "proof": true}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let proof = &v["lists"][0]["proof"];
    assert_eq!(proof["index"].as_u64(), Some(decided_at), "{v}");
    assert!(proof["path"].is_array() || proof["proof"].is_array(), "{proof}");

    // -- batch (a bidder list) and feedback
    let (st, v) = post(
        &s,
        "/api/v1/checks/batch",
        Some(o),
        json!({"codes": [sd, "bad", other], "matter": "government_procurement", "purpose": "招标 2025-07", "as_of": "2025-06-01"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let r = v["results"].as_array().unwrap();
    assert_eq!(
        (r[0]["verdict"].as_str(), r[1]["error"]["code"].as_str(), r[2]["verdict"].as_str()),
        (Some("prohibit"), Some("invalid_code"), Some("clear"))
    );
    let check_id = r[0]["check_id"].as_str().unwrap();
    let fb_path = format!("/api/v1/checks/{check_id}/feedback");
    let fb = |body: Value| post(&s, &fb_path, Some(o), body);
    let (st, v) = fb(json!({"applied": []})).await;
    assert_eq!(
        (st, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("measure_unaccounted")),
        "{v}"
    );
    let (st, v) = fb(json!({"not_applied": [{"id": "M-SD-01", "reason": ""}]})).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reason_required")), "{v}");
    let (st, _) = post(&s, &fb_path, Some(&s.other_officer), json!({"applied": ["M-SD-01"]})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, v) = fb(json!({"applied": ["M-SD-01"], "note": "已取消其投标资格"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["check"]["feedback"]["applied"][0], "M-SD-01");
    let (st, _) = fb(json!({"applied": ["M-SD-01"]})).await;
    assert_eq!(st, StatusCode::CONFLICT);

    // -- figures per department, and the subject's view of who checked it
    let (st, v) = get(&s, "/api/v1/checks/stats", Some(o)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let d = &v["departments"][0];
    assert_eq!(
        (d["department"].as_str(), d["with_feedback"].as_u64(), d["measures_applied"].as_u64()),
        (Some(PROVIDER), Some(1), Some(1)),
        "{v}"
    );
    assert!(d["checks"].as_u64().unwrap() >= 15 && d["feedback_rate"].as_f64().unwrap() > 0.0, "{v}");
    let (st, v) = get(&s, &format!("/api/v1/subjects/{sd}/checks"), Some(&entity)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let mine = v["checks"].as_array().unwrap();
    assert!(mine.len() >= 5 && mine.iter().all(|c| c["department"] == PROVIDER && c["purpose"].is_string()), "{v}");
    let (st, _) = get(&s, &format!("/api/v1/subjects/{ka}/checks"), Some(&entity)).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "a subject sees only its own checks");
    let (st, _) = get(&s, &format!("/api/v1/subjects/{sd}/checks"), Some(o)).await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // another writer (a second node, the command line) lists `other`: the server's
    // check index picks it up from the shared store within its refresh interval
    let app = App::open(&s.data).unwrap();
    let direct = xinyong_core::listing::Notice {
        subject: other.clone(),
        list_type: "red_list".into(),
        provider: "另一节点".into(),
        basis: None,
        reason: "诚信纳税".into(),
        notice_date: xinyong_app::today_shanghai(),
        persons: vec![],
        scope: None,
    };
    let d = xinyong_core::listing::Decision {
        decision_date: xinyong_app::today_shanghai(),
        start: None,
        end: None,
        document: Default::default(),
    };
    let actor = xinyong_app::listings::Actor { department: "另一节点".into(), channel: "test".into() };
    xinyong_app::listings::decide(&app, Err(direct), d, &actor, xinyong_app::today_shanghai()).unwrap();
    let mut verdict = Value::Null;
    for _ in 0..40 {
        verdict = check(&s, o, &other, "financing", &today).await["verdict"].clone();
        if verdict == "reward" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(verdict, "reward", "the index never saw the other writer's listing");
    // … and its new subjects reach the search index
    let extra = s.data.parent().unwrap().join("extra");
    let opts = GenOptions {
        subjects: 3,
        records: 0,
        seed: 77,
        dirty_percent: 0,
        format: GenFormat::Csv,
        encoding: GenEncoding::Utf8,
        latest_date: xinyong_app::today_shanghai(),
    };
    generate(&opts, &extra).unwrap();
    let reg = extra.join("registration.csv");
    let new_code = read_column(&reg, "统一社会信用代码")
        .into_iter()
        .find(|c| app.stored_subject(&xinyong_app::Caller::operator(), c).unwrap().is_none())
        .expect("a subject the store does not have yet");
    let (_, v) = get(&s, &format!("/api/v1/subjects?q={new_code}"), None).await;
    assert!(!v["hits"].as_array().unwrap().iter().any(|x| x["code"] == new_code.as_str()), "{v}");
    xinyong_app::intake::import_file(&app, &reg, "registration", "另一节点", &mut |_| {}).unwrap();
    let mut found = false;
    for _ in 0..40 {
        let (_, v) = get(&s, &format!("/api/v1/subjects?q={new_code}"), None).await;
        if v["hits"].as_array().is_some_and(|h| h.iter().any(|x| x["code"] == new_code.as_str())) {
            found = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(found, "the search index never saw the other writer's subject {new_code}");

    // every step is in a ledger that verifies
    let report = xinyong_app::ledger::verify(&app).unwrap();
    assert!(report.ok, "{report:?}");
    let operator = xinyong_app::Caller::operator();
    let kinds: Vec<String> = (decided_at - 2..=decided_at)
        .map(|i| app.ledger_proof(&operator, i).unwrap().event.unwrap()["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["listing.noticed", "listing.objected", "listing.decided"]);
}

/// Another writer (`xinyong import`, another node) renames a subject while the server
/// runs: every projection follows the ledger, so search finds the new name within a
/// second, checks answer with it, and the replaced name becomes a former name.
async fn a_rename_reaches_every_projection(database: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let opts = GenOptions {
        subjects: 40,
        records: 80,
        seed: 5,
        dirty_percent: 0,
        format: GenFormat::Csv,
        encoding: GenEncoding::Utf8,
        latest_date: xinyong_app::today_shanghai(),
    };
    let db = database.as_deref();
    let (root, db_owned) = (dir.path().to_path_buf(), database.clone());
    let (manifest, token) = tokio::task::spawn_blocking(move || {
        let (app, manifest) = common::load_with(&root, db_owned.as_deref(), &opts, PROVIDER);
        (manifest, account(&app, "officer", "officer", Some(PROVIDER)))
    })
    .await
    .unwrap();
    let data = dir.path().join("data");
    let running = common::serve_with(&data, db).await;
    let reg = dir.path().join("in").join("registration.csv");
    let renamed = dir.path().join("rename.csv");
    let s = Server {
        base: running.base.clone(),
        _running: running,
        _dir: dir,
        admin: String::new(),
        officer: token.clone(),
        other_officer: String::new(),
        manifest,
        data: data.clone(),
    };

    // an enterprise of the registration file, and its row
    let mut rdr = csv::Reader::from_path(&reg).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let row = rdr
        .records()
        .map(|r| r.unwrap())
        .find(|r| r[col("统一社会信用代码")].starts_with('9'))
        .expect("an enterprise in the registration file");
    let code = row[col("统一社会信用代码")].to_string();
    let (_, before) = get(&s, &format!("/api/v1/subjects/{code}"), None).await;
    let old_name = before["name"].as_str().unwrap().to_string();
    let new_name = "北京更名后测试科技有限公司";
    let mut w = csv::Writer::from_path(&renamed).unwrap();
    w.write_record(&headers).unwrap();
    let cells: Vec<&str> =
        row.iter().enumerate().map(|(i, c)| if i == col("主体名称") { new_name } else { c }).collect();
    w.write_record(&cells).unwrap();
    w.flush().unwrap();
    drop(w);

    // the other writer: its own App on the same store, as the command line would be
    let (data2, db2) = (data.clone(), database.clone());
    let summary = tokio::task::spawn_blocking(move || {
        let other = App::open_with(&data2, db2.as_deref()).unwrap();
        xinyong_app::intake::import_file(&other, &renamed, "registration", PROVIDER, &mut |_| {}).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(summary.corrected, 1, "the registration row changed: {summary:?}");
    let started = std::time::Instant::now();
    let mut found = None;
    while started.elapsed() < std::time::Duration::from_secs(3) {
        let (_, v) = get(&s, &format!("/api/v1/subjects?q={}", urlencode(new_name)), None).await;
        if v["hits"].as_array().is_some_and(|h| h.iter().any(|x| x["code"] == code.as_str())) {
            found = Some(started.elapsed());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let found = found.expect("search never found the new name");
    assert!(found < std::time::Duration::from_secs(1), "found by the new name after {found:?}");
    // checks answer with the new name
    let body = json!({"code": code, "matter": "government_procurement", "purpose": "更名后核查"});
    let (st, v) = post(&s, "/api/v1/checks", Some(&token), body).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["subject"]["name"], new_name, "{v}");
    // the replaced name is a former name, and search still finds the subject by it
    let (_, after) = get(&s, &format!("/api/v1/subjects/{code}"), None).await;
    assert_eq!(after["name"], new_name);
    let former: Vec<&str> = after["former_names"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(former.contains(&old_name.as_str()), "{old_name} kept as a former name: {former:?}");
    let (_, v) = get(&s, &format!("/api/v1/subjects?q={}", urlencode(&old_name)), None).await;
    let hit = v["hits"].as_array().unwrap().iter().find(|h| h["code"] == code.as_str()).cloned();
    assert!(hit.is_some_and(|h| h["matched_former_name"] == true), "found by its former name: {v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rename_reaches_every_projection_on_sqlite() {
    a_rename_reaches_every_projection(None).await;
}

#[test]
fn a_rename_reaches_every_projection_on_postgres() {
    // PostgreSQL's client blocks: the schema is made and dropped outside the runtime
    let Some(base) = xinyong_app::testing::server_or_skip("a_rename_reaches_every_projection_on_postgres") else {
        return;
    };
    let schema = xinyong_app::testing::ScratchSchema::new(&base, "rename").unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(a_rename_reaches_every_projection(Some(schema.url())));
    drop(rt);
}

/// Reads are not serialised behind writes: while a write holds the ledger's one
/// appender, subject pages, searches and checks keep answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_and_checks_answer_while_the_appender_is_held() {
    let s = start().await;
    let code = codes_in(&s, "admin_penalty", "统一社会信用代码").remove(0);
    // a deliberately slow write: the server's own appender, held for 3 s
    let held = std::time::Duration::from_secs(3);
    let holder = s._running.app.clone();
    let writer = std::thread::spawn(move || holder.hold_appender(held));
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    let mut slowest = std::time::Duration::ZERO;
    for i in 0..20 {
        let t = std::time::Instant::now();
        let (st, _) = get(&s, &format!("/api/v1/subjects/{code}"), None).await;
        assert_eq!(st, StatusCode::OK);
        let (st, _) = get(&s, "/api/v1/subjects?q=北京", None).await;
        assert_eq!(st, StatusCode::OK);
        let body = json!({"code": code, "matter": "bidding", "purpose": format!("并发核查 {i}")});
        let (st, v) = post(&s, "/api/v1/checks", Some(&s.officer), body).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        slowest = slowest.max(t.elapsed());
    }
    let reads_took = started.elapsed();
    assert!(!writer.is_finished(), "the write was still holding the appender when the reads were done");
    assert!(reads_took < held / 2, "60 reads took {reads_took:?} while the appender was held");
    assert!(slowest < std::time::Duration::from_secs(1), "slowest round {slowest:?}");
    writer.join().unwrap().unwrap();
}

// ---- the typed API: the OpenAPI document and one answer per endpoint, as snapshots ----

/// Fields whose values change from run to run (ids drawn at random, times, hashes,
/// signatures, secrets): replaced by a placeholder naming the field; `null` stays `null`.
const VOLATILE: &[&str] = &[
    "check_id",
    "at_ms",
    "created_ms",
    "resolved_ms",
    "timestamp_ms",
    "root",
    "from_root",
    "to_root",
    "leaf_hash",
    "checkpoint",
    "verifier_key",
    "token",
    "batch",
    "score",
    // due process: the clocks run from the day a case is filed, and the texts name them
    "query_code",
    "filed_on",
    "due",
    "answer_due",
    "decided_on",
    "due_provisional",
    "read_ms",
    // data quality: when intake received a batch, and the days since its decisions
    "received_ms",
    "received_on",
    "mean_days",
    "max_days",
    "text_zh",
    "text_en",
];

/// The answer with its volatile values replaced (see [`VOLATILE`]); check ids (`chk_…`)
/// and the hashes of a proof path are replaced wherever they appear.
fn platform_number(t: &str) -> bool {
    let parts: Vec<&str> = t.split('-').collect();
    parts.len() == 5
        && parts[0] == "M"
        && [(3, 8), (4, 6)].iter().all(|(i, n)| parts[*i].len() == *n && parts[*i].bytes().all(|b| b.is_ascii_digit()))
}

fn normalised(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    let x = match (k.as_str(), x) {
                        (_, Value::Null) => Value::Null,
                        ("proof", Value::Array(path)) => {
                            Value::Array(path.iter().map(|_| Value::String("[hash]".into())).collect())
                        }
                        (k, _) if VOLATILE.contains(&k) => Value::String(format!("[{k}]")),
                        _ => normalised(x),
                    };
                    (k.clone(), x)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(normalised).collect()),
        Value::String(t) if t.starts_with("chk_") => Value::String("[check_id]".into()),
        // a number the platform gives a commitment: M-<DEPT>-<nnnn>-<date>-<random>
        Value::String(t) if platform_number(t) => Value::String("[commitment_number]".into()),
        other => other.clone(),
    }
}

/// The schema `s` points to (following `$ref` into the document's components).
fn resolved<'a>(doc: &'a Value, s: &'a Value) -> &'a Value {
    match s.get("$ref").and_then(Value::as_str) {
        Some(r) => resolved(doc, &doc["components"]["schemas"][r.trim_start_matches("#/components/schemas/")]),
        None => s,
    }
}

/// The property names `s` describes for the object `v`; `None` when any name goes
/// (a map, or a free-form object).
fn described(doc: &Value, s: &Value, v: &Value) -> Option<std::collections::BTreeSet<String>> {
    let s = resolved(doc, s);
    if let Some(all) = s["allOf"].as_array() {
        let mut names = std::collections::BTreeSet::new();
        for branch in all {
            names.extend(described(doc, branch, v)?);
        }
        return Some(names);
    }
    if let Some(any) = s["oneOf"].as_array().or(s["anyOf"].as_array()) {
        let branch = any.iter().find(|b| {
            let mut errors = Vec::new();
            conform(doc, b, v, "", false, false, &mut errors);
            errors.is_empty()
        })?;
        return described(doc, branch, v);
    }
    match s.get("additionalProperties") {
        Some(Value::Bool(false)) | None => {}
        Some(_) => return None,
    }
    match s["properties"].as_object() {
        Some(p) => Some(p.keys().cloned().collect()),
        None if s.get("type").is_none() || s["type"] == "object" && s.get("additionalProperties").is_none() => None,
        None => Some(Default::default()),
    }
}

fn type_fits(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64(),
        "string" => v.is_string(),
        _ => false,
    }
}

/// Checks `v` against the schema `s` of the document: types, enums, required and
/// described properties. With `strict`, a property no schema describes is an error
/// (every field of an answer must be in the document); `here` says whether `s` is the
/// whole schema of `v` (not one branch of a composition), where that is judged.
fn conform(doc: &Value, s: &Value, v: &Value, at: &str, strict: bool, here: bool, errors: &mut Vec<String>) {
    let s = resolved(doc, s);
    if let Some(all) = s["allOf"].as_array() {
        for branch in all {
            conform(doc, branch, v, at, strict, false, errors);
        }
    }
    if let Some(any) = s["oneOf"].as_array().or(s["anyOf"].as_array()) {
        let fits = |b: &&Value| {
            let mut e = Vec::new();
            conform(doc, b, v, at, false, false, &mut e);
            e.is_empty()
        };
        match any.iter().find(fits) {
            Some(branch) => conform(doc, branch, v, at, strict, false, errors),
            None => errors.push(format!("{at}: {v} matches no branch of {s}")),
        }
    }
    match &s["type"] {
        Value::String(t) if !type_fits(t, v) => errors.push(format!("{at}: {v} is not {t}")),
        Value::Array(ts) if !ts.iter().any(|t| type_fits(t.as_str().unwrap_or(""), v)) => {
            errors.push(format!("{at}: {v} is none of {ts:?}"))
        }
        _ => {}
    }
    if let Some(values) = s["enum"].as_array()
        && !values.contains(v)
    {
        errors.push(format!("{at}: {v} is not one of {values:?}"));
    }
    if let (Some(items), Some(a)) = (s.get("items"), v.as_array()) {
        for (i, x) in a.iter().enumerate() {
            conform(doc, items, x, &format!("{at}[{i}]"), strict, true, errors);
        }
    }
    let Some(o) = v.as_object() else { return };
    for r in s["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        if !o.contains_key(r) {
            errors.push(format!("{at}: required field {r} missing"));
        }
    }
    let properties = s["properties"].as_object();
    for (k, x) in o {
        let at = format!("{at}.{k}");
        match (properties.and_then(|p| p.get(k)), s.get("additionalProperties")) {
            (Some(p), _) => conform(doc, p, x, &at, strict, true, errors),
            (None, Some(extra)) if extra.is_object() => conform(doc, extra, x, &at, strict, true, errors),
            _ => {}
        }
    }
    if strict
        && here
        && let Some(names) = described(doc, s, v)
    {
        for k in o.keys().filter(|k| !names.contains(*k)) {
            errors.push(format!("{at}: field {k} is not in the schema"));
        }
    }
}

/// The schema check itself finds what it must: a wrong type, a missing field, a field
/// the schema does not name (also inside a nullable reference, an array and a
/// composition), a value outside an enum.
#[test]
fn the_schema_check_finds_departures() {
    let doc = json!({"components": {"schemas": {
        "A": {"type": "object", "required": ["x"], "properties": {
            "x": {"type": "integer"},
            "y": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/B"}]},
            "list": {"type": "array", "items": {"$ref": "#/components/schemas/B"}},
            "map": {"type": "object", "additionalProperties": {"type": "string"}},
            "e": {"type": "string", "enum": ["open", "resolved"]}}},
        "B": {"type": "object", "required": ["z"], "properties": {"z": {"type": "string"}}},
        "C": {"allOf": [{"$ref": "#/components/schemas/B"}, {"type": "object", "properties": {"w": {"type": "boolean"}}}]}
    }}});
    let a = json!({"$ref": "#/components/schemas/A"});
    let c = json!({"$ref": "#/components/schemas/C"});
    let errors = |schema: &Value, v: Value| {
        let mut e = Vec::new();
        conform(&doc, schema, &v, "$", true, true, &mut e);
        e
    };
    assert_eq!(
        errors(&a, json!({"x": 1, "y": null, "list": [{"z": "a"}], "map": {"k": "v"}, "e": "open"})),
        Vec::<String>::new()
    );
    assert_eq!(errors(&c, json!({"z": "a", "w": true})), Vec::<String>::new());
    for (schema, wrong) in [
        (&a, json!({"x": "1"})),
        (&a, json!({"y": null})),
        (&a, json!({"x": 1, "extra": 1})),
        (&a, json!({"x": 1, "y": {"z": "a", "extra": 1}})),
        (&a, json!({"x": 1, "y": {"z": 1}})),
        (&a, json!({"x": 1, "list": [{"z": "a"}, {"q": 1}]})),
        (&a, json!({"x": 1, "map": {"k": 1}})),
        (&a, json!({"x": 1, "e": "closed"})),
        (&c, json!({"z": "a", "w": true, "extra": 1})),
        (&c, json!({"w": true})),
    ] {
        assert!(!errors(schema, wrong.clone()).is_empty(), "{wrong} passed {schema}");
    }
}

/// Calls `method path` (documented as `template`), expects `status`, checks the answer
/// against the schema the document gives for that status, and returns it.
#[allow(clippy::too_many_arguments)]
async fn documented(
    s: &Server,
    doc: &Value,
    method: &str,
    template: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
    status: u16,
) -> Value {
    let (st, v) = match method {
        "get" => get(s, path, token).await,
        _ => post(s, path, token, body.unwrap_or(Value::Null)).await,
    };
    assert_eq!(st.as_u16(), status, "{method} {path}: {v}");
    let schema =
        &doc["paths"][template][method]["responses"][status.to_string()]["content"]["application/json"]["schema"];
    assert!(schema.is_object(), "{method} {template} documents no schema for {status}");
    let mut errors = Vec::new();
    conform(doc, schema, &v, "$", true, true, &mut errors);
    assert!(errors.is_empty(), "{method} {path} ({status}) departs from its schema:\n{}", errors.join("\n"));
    v
}

/// The OpenAPI document as a snapshot, and one answer of every endpoint, each checked
/// against the schema the document declares for it and kept as a snapshot (volatile
/// values replaced). The data is generated for a fixed day and every request names its
/// days, so the snapshots are the same on every run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_answers_match_the_document_and_their_snapshots() {
    let s = start_on(time::macros::date!(2025 - 06 - 30)).await;
    let (st, doc) = get(&s, "/api/v1/openapi.json", None).await;
    assert_eq!(st, StatusCode::OK);
    insta::assert_json_snapshot!("openapi", doc);
    // every operation declares a schema for its answer and for its errors (JSON, but
    // for a file served as it was uploaded)
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, r) in op["responses"].as_object().unwrap() {
                let content =
                    r["content"].as_object().unwrap_or_else(|| panic!("{method} {path} {status}: no content"));
                let json = content.get("application/json").is_some_and(|c| c["schema"].is_object());
                let file = matches!(
                    path.as_str(),
                    "/api/v1/evidence/{sha256}" | "/api/v1/quarantine/export" | "/api/v1/exchange/batch"
                ) && status == "200";
                assert!(
                    json || file && content.values().all(|c| c["schema"].is_object()),
                    "{method} {path} {status}: no schema"
                );
            }
        }
    }
    let (admin, officer, doc) = (s.admin.as_str(), s.officer.as_str(), &doc);
    macro_rules! snap {
        ($name:literal, $method:literal, $template:literal, $path:expr, $token:expr, $body:expr, $status:literal) => {{
            let v = documented(&s, doc, $method, $template, &$path, $token, $body, $status).await;
            insta::assert_json_snapshot!($name, normalised(&v));
            v
        }};
    }

    // subjects, search, the catalog
    let [sd, ao, other]: [String; 3] = unlisted_subjects(&s, 3).await.try_into().unwrap();
    // the penalised subject with the fewest public records, for a short snapshot (asked
    // by the department: the public may not ask about a past day)
    let mut penalised = String::new();
    let mut fewest = usize::MAX;
    for code in codes_in(&s, "admin_penalty", "统一社会信用代码").iter().take(40) {
        let path = format!("/api/v1/subjects/{code}?as_of=2025-06-30&purpose=选取");
        let (_, v) = get(&s, &path, Some(officer)).await;
        let records: Vec<&Value> = v["records"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["publicity"]["public"] == true && r["disclosure"] == "public")
            .collect();
        if records.len() < fewest && records.iter().any(|r| r["item"] == "admin_penalty") {
            (penalised, fewest) = (code.clone(), records.len());
        }
    }
    let path = format!("/api/v1/subjects/{penalised}?as_of=2025-06-30&purpose=行政许可审查");
    let subject = snap!("get_subject", "get", "/api/v1/subjects/{code}", path, Some(officer), None, 200);
    let name = subject["name"].as_str().unwrap();
    let path = format!("/api/v1/subjects?q={}&limit=1", urlencode(name));
    snap!("search_subjects", "get", "/api/v1/subjects", path, None, None, 200);
    let path = "/api/v1/subjects/91110108551385082R";
    snap!("error_invalid_code", "get", "/api/v1/subjects/{code}", path, None, None, 422);
    snap!("catalog", "get", "/api/v1/catalog", "/api/v1/catalog", None, None, 200);

    // intake, quarantine, resubmission
    let new_code = xinyong_core::Uscc::complete("9111010577777777").unwrap();
    let batch = json!({"item": "honour", "rows": [
        {"主体名称": "北京新来的科技有限公司", "统一社会信用代码": new_code.as_str(), "荣誉名称": "守合同重信用企业", "荣誉等级": "市级", "授予日期": "2025-05-06", "授予机关": "北京市市场监督管理局", "表彰决定文号": "京市监发〔2025〕88号"},
        {"主体名称": "坏行", "统一社会信用代码": new_code.as_str(), "荣誉名称": "x", "荣誉等级": "宇宙级", "授予日期": "2025-05-06", "授予机关": "x", "表彰决定文号": "京市监发〔2025〕89号"}
    ]});
    let v =
        snap!("post_records", "post", "/api/v1/records", "/api/v1/records", Some(officer), Some(batch.clone()), 200);
    let honour_id = v["rows"][0]["record_id"].as_i64().unwrap();
    let honour_row = batch["rows"][0].clone();
    let quarantined = v["rows"][1]["quarantine_id"].as_i64().unwrap();
    let path = "/api/v1/quarantine?item=honour&limit=1";
    snap!("list_quarantine", "get", "/api/v1/quarantine", path, Some(officer), None, 200);
    let path = "/api/v1/quarantine/reasons?item=honour";
    snap!("quarantine_reasons", "get", "/api/v1/quarantine/reasons", path, Some(officer), None, 200);
    // the latest batch: the one just posted
    snap!("quality", "get", "/api/v1/quality", "/api/v1/quality?limit=1", Some(officer), None, 200);
    let fix = json!({"set": {"荣誉等级": "市级", "表彰决定文号": "京市监发〔2025〕90号"}});
    let path = format!("/api/v1/quarantine/{quarantined}/resubmit");
    snap!("resubmit_quarantine", "post", "/api/v1/quarantine/{id}/resubmit", path, Some(officer), Some(fix), 200);

    // accounts and the access log
    snap!("list_accounts", "get", "/api/v1/accounts", "/api/v1/accounts", Some(admin), None, 200);
    let new_account = json!({"username": "entity", "role": "subject", "subject_code": sd, "token": true});
    let v =
        snap!("create_account", "post", "/api/v1/accounts", "/api/v1/accounts", Some(admin), Some(new_account), 200);
    let entity = v["token"].as_str().unwrap().to_string();
    let path = format!("/api/v1/subjects/{penalised}?as_of=2040-01-01&purpose=行政许可审查");
    let (st, _) = get(&s, &path, Some(officer)).await;
    assert_eq!(st, StatusCode::OK);
    // the latest entry: the read just made (the subject was also read to pick it)
    let path = format!("/api/v1/subjects/{penalised}/access-log?limit=1");
    snap!("access_log", "get", "/api/v1/subjects/{code}/access-log", path, Some(admin), None, 200);

    // the listing procedure
    let notice = json!({"code": sd, "list_type": "serious_dishonesty", "reason": "拒不履行",
        "basis": "《严重失信主体名单管理办法》第五条", "notice_date": "2025-03-03"});
    let v = snap!("post_listing", "post", "/api/v1/listings", "/api/v1/listings", Some(officer), Some(notice), 200);
    let id = v["listing"]["id"].as_i64().unwrap();
    let path = format!("/api/v1/listings/{id}/objection");
    let objection = json!({"date": "2025-03-05", "text": "已履行"});
    snap!("post_objection", "post", "/api/v1/listings/{id}/objection", path, Some(&entity), Some(objection), 200);
    let mut doc_fields = document("serious_dishonesty");
    doc_fields["objection_reply"] = json!("经核查，异议不成立");
    let decision = json!({"decision_date": "2025-03-11", "document": doc_fields});
    let path = format!("/api/v1/listings/{id}/decision");
    snap!("post_decision", "post", "/api/v1/listings/{id}/decision", path, Some(officer), Some(decision), 200);
    let path = format!("/api/v1/listings/{id}");
    snap!("get_listing", "get", "/api/v1/listings/{id}", path, None, None, 200);
    let path = "/api/v1/lists?type=serious_dishonesty&as_of=2025-06-01";
    snap!("public_lists", "get", "/api/v1/lists", path, None, None, 200);
    snap!("measures", "get", "/api/v1/measures", "/api/v1/measures", None, None, 200);
    let direct = json!({"code": ao, "list_type": "key_attention", "reason": "未报年报",
        "basis": "《北京市社会信用条例》第三十条",
        "decision": {"decision_date": "2025-03-03", "document": document("key_attention")}});
    let (st, v) = post(&s, "/api/v1/listings", Some(officer), direct).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let abnormal = v["listing"]["id"].as_i64().unwrap();
    let removal = json!({"date": "2025-05-06", "kind": "repair", "reason": "已补报年报"});
    let path = format!("/api/v1/listings/{abnormal}/removal");
    snap!("post_removal", "post", "/api/v1/listings/{id}/removal", path, Some(officer), Some(removal), 200);

    // checks, feedback, figures, the subject's view of who checked it
    let check = json!({"code": sd, "matter": "government_procurement", "purpose": "招标 2025-07", "as_of": "2025-06-01", "proof": true});
    snap!("post_check", "post", "/api/v1/checks", "/api/v1/checks", Some(officer), Some(check), 200);
    // the subject's checks are listed newest first: not within the same millisecond
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let batch = json!({"codes": [sd, "bad", other], "matter": "government_procurement", "purpose": "招标 2025-07", "as_of": "2025-06-01"});
    let v = snap!(
        "post_check_batch",
        "post",
        "/api/v1/checks/batch",
        "/api/v1/checks/batch",
        Some(officer),
        Some(batch),
        200
    );
    let check_id = v["results"][0]["check_id"].as_str().unwrap();
    let path = format!("/api/v1/checks/{check_id}");
    snap!("get_check", "get", "/api/v1/checks/{id}", path, Some(officer), None, 200);
    let feedback =
        json!({"applied": [], "not_applied": [{"id": "M-SD-01", "reason": "合同已签订"}], "note": "下次招标时执行"});
    let path = format!("/api/v1/checks/{check_id}/feedback");
    snap!("post_feedback", "post", "/api/v1/checks/{id}/feedback", path, Some(officer), Some(feedback), 200);
    snap!("check_stats", "get", "/api/v1/checks/stats", "/api/v1/checks/stats", Some(officer), None, 200);
    let path = format!("/api/v1/subjects/{sd}/checks");
    snap!("subject_checks", "get", "/api/v1/subjects/{code}/checks", path, Some(&entity), None, 200);

    // the ledger
    snap!("ledger_head", "get", "/api/v1/ledger/head", "/api/v1/ledger/head", None, None, 200);
    let index = subject["records"][0]["ledger_index"].as_u64().unwrap();
    let path = format!("/api/v1/ledger/proof/{index}");
    snap!("ledger_proof", "get", "/api/v1/ledger/proof/{index}", path, None, None, 200);
    let path = "/api/v1/ledger/consistency?from=10";
    snap!("ledger_consistency", "get", "/api/v1/ledger/consistency", path, None, None, 200);

    // due process: the rules, evidence, an objection followed and decided, one withdrawn,
    // a repair, a notice and an interview, the provider's correction and revocation
    snap!("due_process", "get", "/api/v1/due-process", "/api/v1/due-process", None, None, 200);
    let (st, ev) = due_process::upload(&s, Some(&entity), "证明.png", due_process::png()).await;
    assert_eq!(st, StatusCode::CREATED, "{ev}");
    let schema = &doc["paths"]["/api/v1/evidence"]["post"]["responses"]["201"]["content"]["application/json"]["schema"];
    let mut errors = Vec::new();
    conform(doc, schema, &ev, "$", true, true, &mut errors);
    assert!(errors.is_empty(), "post /api/v1/evidence departs from its schema:\n{}", errors.join("\n"));
    insta::assert_json_snapshot!("post_evidence", normalised(&ev));
    let sha = ev["sha256"].as_str().unwrap();
    let (_, mine) = get(&s, &format!("/api/v1/subjects/{sd}?as_of=2025-06-30"), Some(&entity)).await;
    let rid = mine["records"][0]["id"].as_i64().unwrap();
    let objection = json!({"code": sd, "record_id": rid, "reasons": "登记的住所有误",
                           "evidence": [{"sha256": sha, "name": "证明.png"}]});
    let v = snap!(
        "post_case_objection",
        "post",
        "/api/v1/objections",
        "/api/v1/objections",
        Some(&entity),
        Some(objection),
        201
    );
    let case = v["case"]["id"].as_i64().unwrap();
    let query_code = v["query_code"].as_str().unwrap().to_string();
    let path = format!("/api/v1/cases/{case}");
    snap!("get_case", "get", "/api/v1/cases/{id}", path, Some(officer), None, 200);
    snap!("list_cases", "get", "/api/v1/cases", "/api/v1/cases?state=open", Some(officer), None, 200);
    let path = format!("/api/v1/cases/{case}/follow?query_code={query_code}");
    snap!("follow_case", "get", "/api/v1/cases/{id}/follow", path, None, None, 200);
    let v = snap!("inbox", "get", "/api/v1/inbox", "/api/v1/inbox", Some(officer), None, 200);
    let path = format!("/api/v1/inbox/{}/read", v["notifications"][0]["id"]);
    snap!("mark_read", "post", "/api/v1/inbox/{id}/read", path, Some(officer), Some(json!({})), 200);
    let decision = json!({"outcome": "rejected", "reasons": "经核查，登记信息无误"});
    let path = format!("/api/v1/cases/{case}/decision");
    snap!("decide_case", "post", "/api/v1/cases/{id}/decision", path, Some(officer), Some(decision), 200);
    let objection = json!({"code": sd, "record_id": rid, "reasons": "再次提出"});
    let (st, v) = post(&s, "/api/v1/objections", Some(&entity), objection).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let path = format!("/api/v1/cases/{}/withdrawal", v["case"]["id"]);
    snap!("withdraw_case", "post", "/api/v1/cases/{id}/withdrawal", path, Some(&entity), Some(json!({})), 200);
    // a penalty decided 2025-01-02: public until 2028, repairable from 2025-04-02
    let name = mine["name"].as_str().unwrap();
    let row = due_process::penalty(&sd, name, "京朝城管罚〔2025〕快1号", time::macros::date!(2025 - 01 - 02));
    let (st, v) = post(&s, "/api/v1/records", Some(officer), json!({"item": "admin_penalty", "rows": [row]})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let penalty_id = v["rows"][0]["record_id"].as_i64().unwrap();
    let repair = json!({"code": sd, "record_id": penalty_id, "statement": "罚款已缴清",
                        "conditions": ["obligations_met", "commitment", "other_requirements"], "commitment_signed": true});
    snap!("post_repair", "post", "/api/v1/repairs", "/api/v1/repairs", Some(&entity), Some(repair), 201);
    let notice = json!({"code": sd, "text": "限期补正登记信息", "deadline": "2030-01-02"});
    let path = "/api/v1/rectifications";
    snap!("post_rectification", "post", "/api/v1/rectifications", path, Some(officer), Some(notice), 201);
    let interview = json!({"code": sd, "text": "登记信息", "interview_type": "提示约谈", "attendees": "法定代表人",
                           "minutes": "当事人承诺十日内补正", "held_on": "2025-06-30"});
    snap!("post_interview", "post", "/api/v1/interviews", "/api/v1/interviews", Some(officer), Some(interview), 201);
    let mut fields = honour_row;
    fields["荣誉等级"] = json!("区县级");
    let amend = json!({"reason": "等级录入有误", "document": "京市监更〔2025〕1号", "fields": fields});
    let path = format!("/api/v1/records/{honour_id}/correction");
    snap!("correct_record", "post", "/api/v1/records/{id}/correction", path, Some(officer), Some(amend), 200);
    let amend = json!({"reason": "表彰决定已撤销", "document": "京市监撤〔2025〕1号"});
    let path = format!("/api/v1/records/{honour_id}/revocation");
    snap!("revoke_record", "post", "/api/v1/records/{id}/revocation", path, Some(officer), Some(amend), 200);

    // credit commitments: the matters list, a paper signature recorded, kept; another
    // broken; a listed entity refused; a subject's commitments
    s._running.app.set_clock_day(Some(time::macros::date!(2025 - 06 - 02)));
    let path = "/api/v1/commitments/matters";
    snap!("commitment_matters", "get", "/api/v1/commitments/matters", path, None, None, 200);
    let paper =
        json!({"matter": "M-SAMR-0002", "code": other, "signed_on": "2025-06-02", "number": "京市监容缺〔2025〕1号"});
    let path = "/api/v1/commitments";
    let v = snap!("sign_commitment", "post", "/api/v1/commitments", path, Some(admin), Some(paper), 200);
    assert_eq!(v["due"], "2025-06-09", "5 working days");
    let kept = v["record_id"].as_i64().unwrap();
    s._running.app.set_clock_day(Some(time::macros::date!(2025 - 06 - 05)));
    let evidence = json!({"text": "已补交经营场所使用证明", "on": "2025-06-05"});
    let path = format!("/api/v1/commitments/{kept}/fulfilment");
    snap!("fulfil_commitment", "post", "/api/v1/commitments/{id}/fulfilment", path, Some(admin), Some(evidence), 200);
    let paper =
        json!({"matter": "M-SAMR-0002", "code": other, "signed_on": "2025-06-03", "number": "京市监容缺〔2025〕2号"});
    let (st, v) = post(&s, "/api/v1/commitments", Some(admin), paper).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let path = format!("/api/v1/commitments/{}/breach", v["record_id"]);
    let breach = json!({"text": "补交的场所证明系伪造", "on": "2025-06-05"});
    let v = snap!("breach_commitment", "post", "/api/v1/commitments/{id}/breach", path, Some(admin), Some(breach), 200);
    assert!(v["breach_record"].is_i64(), "{v}");
    let online = json!({"matter": "M-SAMR-0002", "code": sd});
    let path = "/api/v1/commitments";
    let v = snap!("error_commitment_excluded", "post", "/api/v1/commitments", path, Some(&entity), Some(online), 422);
    assert_eq!(v["error"]["code"], "commitment_excluded");
    // a check of the commitment matter says the listed entity may not use it, and why
    let check = json!({"code": sd, "matter": "M-SAMR-0002", "purpose": "食品经营许可容缺受理", "as_of": "2025-06-02"});
    let v = snap!("post_check_commitment", "post", "/api/v1/checks", "/api/v1/checks", Some(officer), Some(check), 200);
    assert_eq!(v["commitment"]["may_use"], false, "{v}");
    let path = format!("/api/v1/subjects/{other}/commitments?as_of=2025-06-30&purpose=核查");
    snap!("subject_commitments", "get", "/api/v1/subjects/{code}/commitments", path, Some(officer), None, 200);
    // the centre reads the accepting department's queue
    let path = format!("/api/v1/commitments?department={}&state=breached", urlencode("北京市市场监督管理局"));
    let v = snap!("department_commitments", "get", "/api/v1/commitments", path, Some(admin), None, 200);
    assert_eq!(v["commitments"].as_array().map(Vec::len), Some(1), "{v}");
    // voluntary registration: self-declared, then verified by the accepting department
    let info = json!({"code": other, "category": "合同履约", "title": "重大工程合同按期履约",
                      "content": "承建某区学校改扩建工程，按合同约定工期完工并通过竣工验收",
                      "issuer": "北京市某区教育委员会", "obtained_on": "2025-05-20"});
    let v = snap!(
        "register_information",
        "post",
        "/api/v1/registrations",
        "/api/v1/registrations",
        Some(admin),
        Some(info),
        200
    );
    assert_eq!(v["declaration"]["state"], "self_declared", "{v}");
    let path = format!("/api/v1/registrations/{}/verification", v["record_id"]);
    let how = json!({"text": "经区教委书面确认属实"});
    let v = snap!(
        "verify_registration",
        "post",
        "/api/v1/registrations/{id}/verification",
        path,
        Some(admin),
        Some(how),
        200
    );
    assert_eq!(v["declaration"]["state"], "verified", "{v}");
    s._running.app.set_clock_day(None);

    // grades: a penalised subject's, explained, as of a fixed day; the figures
    let path = format!("/api/v1/subjects/{penalised}/grades?as_of=2025-06-30");
    let v = snap!("subject_grades", "get", "/api/v1/subjects/{code}/grades", path, Some(officer), None, 200);
    let first = &v["grades"][0];
    assert_eq!(first["model"], "comprehensive", "{v}");
    assert!(first["arithmetic"].as_str().is_some_and(|a| a.starts_with("700")), "{v}");
    let (st, figures) = get(&s, "/api/v1/grading/figures", Some(officer)).await;
    assert_eq!(st, StatusCode::OK, "{figures}");
    assert!(figures["models"][0]["graded"].as_u64().is_some_and(|n| n > 0), "{figures}");

    // an agency follows the honoured subject: its feed carries the honour's revocation
    // (made above), it acknowledges it, and the entity sees who applied it
    let bank = json!({"username": "bank", "role": "agency", "token": true});
    let (st, v) = post(&s, "/api/v1/accounts", Some(admin), bank).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let bank = v["token"].as_str().unwrap().to_string();
    let sub = json!({"subject": new_code.as_str(), "purpose": "贷款审批", "relation": "贷款申请 2025-0618"});
    documented(
        &s,
        doc,
        "post",
        "/api/v1/subscriptions",
        "/api/v1/subscriptions",
        Some(officer),
        Some(sub.clone()),
        403,
    )
    .await;
    documented(&s, doc, "post", "/api/v1/subscriptions", "/api/v1/subscriptions", Some(&bank), Some(sub), 200).await;
    let v = documented(&s, doc, "get", "/api/v1/subscriptions", "/api/v1/subscriptions", Some(&bank), None, 200).await;
    assert_eq!(v.as_array().map(Vec::len), Some(1), "{v}");
    let feed = documented(&s, doc, "get", "/api/v1/feed", "/api/v1/feed?since=0", Some(&bank), None, 200).await;
    let ops: Vec<&str> = feed["deltas"].as_array().unwrap().iter().map(|d| d["op"].as_str().unwrap()).collect();
    // the honour and the corrected quarantined row, the correction, the revocation
    assert_eq!(ops, ["add", "add", "modify", "revoke"], "{feed}");
    let revoked = feed["deltas"][3]["index"].as_u64().unwrap();
    let ack = json!({"indexes": [revoked]});
    let path = "/api/v1/feed/acknowledgements";
    documented(&s, doc, "post", path, path, Some(&bank), Some(json!({"indexes": [feed["deltas"][0]["index"]]})), 422)
        .await;
    documented(&s, doc, "post", path, path, Some(&bank), Some(ack), 200).await;
    let owner = json!({"username": "honoured", "role": "subject", "subject_code": new_code.as_str(), "token": true});
    let (_, v) = post(&s, "/api/v1/accounts", Some(admin), owner).await;
    let owner = v["token"].as_str().unwrap().to_string();
    let path = format!("/api/v1/subjects/{}", new_code.as_str());
    let v = documented(&s, doc, "get", "/api/v1/subjects/{code}", &path, Some(&owner), None, 200).await;
    assert_eq!(v["republications"][0]["agency"], "bank", "{v}");
    assert_eq!(v["republications"][0]["op"], "revoke", "{v}");
    let (_, public) = get(&s, &path, None).await;
    assert!(public.get("republications").is_none(), "{public}");
    let page = client()
        .get(format!("{}/subjects/{}", s.base, new_code.as_str()))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("修复与撤销的同步情况") && page.contains("bank"),
        "the entity's page shows the acknowledgement"
    );
    // the k-anonymous list check, and the exchange routes as the centre sees them
    let prefix = &xinyong_app::subscriptions::code_hash(new_code.as_str())[..5];
    let path = format!("/api/v1/lists/range/{prefix}");
    let v = documented(&s, doc, "get", "/api/v1/lists/range/{prefix}", &path, Some(&bank), None, 200).await;
    assert!(v["entries"].as_array().unwrap().iter().all(|e| e["subject_sha256"].as_str().unwrap().starts_with(prefix)));
    documented(&s, doc, "get", "/api/v1/lists/range/{prefix}", "/api/v1/lists/range/xyz", None, None, 422).await;
    documented(&s, doc, "get", "/api/v1/exchange/peers", "/api/v1/exchange/peers", Some(admin), None, 200).await;
    documented(&s, doc, "get", "/api/v1/exchange/peers", "/api/v1/exchange/peers", Some(officer), None, 403).await;
    let batch = client()
        .get(format!("{}/api/v1/exchange/batch?since=0&to=xinyong.tianjin/ledger", s.base))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert_eq!(batch.status(), StatusCode::OK);
    let batch = batch.text().await.unwrap();
    let header: Value = serde_json::from_str(batch.lines().next().unwrap()).unwrap();
    assert_eq!(
        (header["format"].as_str(), header["to"].as_str()),
        (Some("xinyong-exchange/1"), Some("xinyong.tianjin/ledger"))
    );
    let sent = client()
        .post(format!("{}/api/v1/exchange/batches", s.base))
        .bearer_auth(admin)
        .header("content-type", "application/x-ndjson")
        .body(batch)
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), StatusCode::FORBIDDEN, "its own batch: not from a trusted peer");
}
