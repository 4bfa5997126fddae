//! Every identity over HTTP (issue 11): a passport holder's penalty sent through the API
//! is reachable by its typed key in the API, the portal and checks, and never shows
//! the passport number.

#![allow(clippy::unwrap_used)]

mod common;

use serde_json::{Value, json};
use xinyong_app::App;

const DEPT: &str = "北京市朝阳区市场监督管理局";
const AUTHORITY: &str = "11110105MB4860841R";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passport_holder_by_api_portal_and_check() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token = {
        let app = App::open(&data).unwrap();
        common::account(&app, "officer", "officer", Some(DEPT), None)
    };
    let s = common::serve(&data).await;
    let c = reqwest::Client::new();
    let decided = xinyong_app::today_shanghai() - time::Duration::days(5);
    let until = decided + time::Duration::days(365);
    let day = xinyong_core::record::date_string;
    let row = json!({
        "行政相对人名称": "JOHN SMITH", "行政相对人类别": "自然人",
        "证件类型": "护照", "证件号码": "E12345678",
        "行政处罚决定书文号": "京朝市监罚〔2026〕101号", "违法行为类型": "无照经营",
        "违法事实": "未取得营业执照从事经营", "处罚依据": "《无证无照经营查处办法》第十三条",
        "处罚类别": "罚款", "处罚内容": "罚款五万元", "罚款金额(万元)": "5",
        "处罚决定日期": day(decided), "处罚有效期": day(until),
        "处罚机关": DEPT, "处罚机关统一社会信用代码": AUTHORITY,
        "数据来源单位": DEPT, "数据来源单位统一社会信用代码": AUTHORITY,
    });
    let r = c
        .post(format!("{}/api/v1/records", s.base))
        .bearer_auth(&token)
        .json(&json!({"item": "admin_penalty", "rows": [row]}))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["accepted"], 1, "{v}");

    let r = c.get(format!("{}/api/v1/subjects/P-PP-E12345678", s.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!((v["code"].as_str(), v["kind"].as_str()), (Some("P-PP-E1*****78"), Some("natural_person")), "{v}");
    assert!(!text.contains("12345678"), "unmasked passport number: {text}");

    let r = c.get(format!("{}/subjects/P-PP-E12345678", s.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("JOHN SMITH") && html.contains("P-PP-E1*****78"), "{html}");
    assert!(!html.contains("12345678"), "unmasked passport number on the portal");

    let r = c
        .post(format!("{}/api/v1/checks", s.base))
        .bearer_auth(&token)
        .json(&json!({"code": "p-pp-e12345678", "matter": "government_procurement", "purpose": "采购资格审查"}))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["subject"]["name"], "JOHN SMITH", "{v}");
    assert_eq!(v["verdict"], "clear", "{v}");
}
