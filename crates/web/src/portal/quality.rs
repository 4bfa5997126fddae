//! Portal pages of data quality (issue 11): the quality report with its bars, and the
//! quarantine as a department works it — refused rows grouped by reason, filtered and
//! paged, downloaded as a spreadsheet and uploaded back corrected. The same use cases
//! as the JSON API (`quality_api.rs`).

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use xinyong_app::quality::{Figures, QualityQuery};
use xinyong_app::quarantine::QuarantineQuery;
use xinyong_app::quarantine_files::{CorrectionResult, CorrectionStatus};

use super::cases::form_of;
use super::{Common, Page};
use crate::auth::Caller;
use crate::{Shared, blocking};

/// Entries shown per page of the quarantine.
const PER_PAGE: u32 = 50;
/// Batches shown on the quality page.
const BATCHES_SHOWN: u32 = 100;
/// The rate bar spans 0–5‰: the 1‰ target sits at a fifth of it.
const RATE_SCALE_PER_MILLE: f64 = 5.0;

pub fn routes() -> Router<Shared> {
    Router::new().route("/quality", get(quality_page)).route("/quarantine/corrections", post(upload_corrections))
}

#[derive(Debug, Default, Deserialize)]
pub struct QualityParams {
    lang: Option<String>,
    provider: Option<String>,
    batch: Option<String>,
}

fn pct(n: u64, of: u64) -> f64 {
    if of == 0 { 0.0 } else { (n as f64 * 1000.0 / of as f64).round() / 10.0 }
}

/// A department's or batch's figures with what the bars need: shares of rows in
/// percent, the rate as text and its bar width.
fn bars(f: &Figures) -> Value {
    let refused = f.quarantined;
    let t = &f.timeliness;
    json!({
        "accepted": pct(f.accepted, f.rows), "corrected": pct(f.corrected, f.rows),
        "duplicates": pct(f.duplicates, f.rows), "refused": pct(refused, f.rows),
        "rate": format!("{:.2}", f.duplicate_or_wrong_per_mille),
        "rate_width": (f.duplicate_or_wrong_per_mille / RATE_SCALE_PER_MILLE * 100.0).clamp(0.0, 100.0),
        "target_at": 100.0 / RATE_SCALE_PER_MILLE,
        "late": pct(t.late, t.records), "on_time": pct(t.on_time, t.records),
        "mean_days": t.mean_days.map(|d| format!("{d:.1}")),
    })
}

async fn quality_page(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Query(p): Query<QualityParams>,
) -> Response {
    let page = Page::new(&headers, &Common { lang: p.lang.clone() });
    if !caller.is_signed_in() {
        return Redirect::to("/login").into_response();
    }
    let who = caller.who.clone();
    let q = QualityQuery { provider: p.provider.clone(), batch: p.batch.clone(), limit: Some(1000) };
    match blocking(&state, move |app| app.quality(&who, &q)).await {
        Ok(report) => {
            let providers: Vec<Value> =
                report.providers.iter().map(|p| json!({"p": p, "bars": bars(&p.figures)})).collect();
            let batches: Vec<Value> = report
                .batches
                .iter()
                .take(BATCHES_SHOWN as usize)
                .map(|b| json!({"b": b, "bars": bars(&b.figures)}))
                .collect();
            let ctx = json!({
                "report": report, "total_bars": bars(&report.total), "providers": providers, "batches": batches,
                "more_batches": report.batches.len() > BATCHES_SHOWN as usize,
                "is_admin": caller.is_admin(), "provider": p.provider, "batch": p.batch,
            });
            page.render(&state, &caller, "quality.html", ctx, StatusCode::OK)
        }
        Err(e) => page.error(&state, &caller, e.status, e.message),
    }
}

/// The quarantine page's filters (and language), as its links and forms send them.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct QuarantineParams {
    pub lang: Option<String>,
    pub item: Option<String>,
    pub provider: Option<String>,
    pub batch: Option<String>,
    pub reason: Option<String>,
    pub field: Option<String>,
    #[serde(default)]
    pub after: i64,
}

impl QuarantineParams {
    fn query(&self) -> QuarantineQuery {
        QuarantineQuery {
            item: self.item.clone(),
            provider: self.provider.clone(),
            batch: self.batch.clone(),
            reason: self.reason.clone(),
            field: self.field.clone(),
            after: self.after,
            limit: Some(PER_PAGE),
            ..Default::default()
        }
    }

    /// The filters as a query string (without paging), for links that keep them.
    fn filters(&self) -> String {
        [
            ("item", &self.item),
            ("provider", &self.provider),
            ("batch", &self.batch),
            ("reason", &self.reason),
            ("field", &self.field),
        ]
        .iter()
        .filter_map(|(k, v)| {
            v.as_deref().filter(|v| !v.trim().is_empty()).map(|v| format!("{k}={}", super::urlencode(v)))
        })
        .collect::<Vec<_>>()
        .join("&")
    }
}

/// The quarantine: refused rows grouped by reason (links filter by it), the filter form,
/// one page of entries with their resubmission forms, and download and upload.
pub(super) async fn render_quarantine(
    state: Shared,
    caller: Caller,
    page: Page,
    message: Option<(bool, String)>,
    p: QuarantineParams,
    upload: Option<CorrectionResult>,
) -> Response {
    if !caller.is_signed_in() {
        return Redirect::to("/login").into_response();
    }
    let who = caller.who.clone();
    let q = p.query();
    // groups over the department's whole quarantine within item/batch/provider, so
    // picking a reason does not hide the others
    let groups_q = QuarantineQuery { reason: None, field: None, ..q.clone() };
    let result = blocking(&state, move |app| {
        let groups = app.quarantine_reasons(&who, &groups_q)?;
        let matching = app.quarantine_reasons(&who, &q)?.total;
        let entries = app.quarantine(&who, &q)?;
        Ok((groups, matching, entries))
    })
    .await;
    match result {
        Ok((groups, matching, entries)) => {
            let mut items: Vec<(String, String)> =
                groups.reasons.iter().map(|g| (g.item.clone(), g.item_name.clone())).collect();
            items.sort();
            items.dedup();
            let next_after = (entries.len() as u32 == PER_PAGE).then(|| entries.last().map(|e| e.id)).flatten();
            let upload = upload.map(|u| {
                let problems: Vec<_> = u
                    .rows
                    .iter()
                    .filter(|r| matches!(r.status, CorrectionStatus::StillRefused | CorrectionStatus::Refused))
                    .collect();
                json!({"u": u, "problems": problems})
            });
            let ctx = json!({
                "entries": entries, "groups": groups.reasons, "total": groups.total, "matching": matching,
                "items": items.iter().map(|(c, n)| json!({"code": c, "name": n})).collect::<Vec<_>>(),
                "f": {"item": p.item, "provider": p.provider, "batch": p.batch, "reason": p.reason, "field": p.field},
                "filters": p.filters(), "filtered": !p.filters().is_empty(), "after": p.after, "next_after": next_after,
                "is_admin": caller.is_admin(), "upload": upload,
                "message": message.as_ref().map(|m| &m.1), "ok": message.as_ref().is_some_and(|m| m.0),
            });
            page.render(&state, &caller, "quarantine.html", ctx, StatusCode::OK)
        }
        Err(e) => page.error(&state, &caller, e.status, e.message),
    }
}

async fn upload_corrections(State(state): State<Shared>, caller: Caller, headers: HeaderMap, req: Request) -> Response {
    let page = Page::new(&headers, &Common::default());
    if caller.csrf.is_none() {
        return Redirect::to("/login").into_response();
    }
    let (page, upload) = match form_of(&state, &caller, page, req).await {
        Ok(x) => x,
        Err(res) => return *res,
    };
    let Some((name, data)) = upload.file else {
        let msg = "请选择要上传的文件 / choose a file to upload".to_string();
        return render_quarantine(state, caller, page, Some((false, msg)), QuarantineParams::default(), None).await;
    };
    let who = caller.who.clone();
    match blocking(&state, move |app| app.quarantine_upload(&who, &name, &data)).await {
        Ok(result) => render_quarantine(state, caller, page, None, QuarantineParams::default(), Some(result)).await,
        Err(e) => {
            render_quarantine(state, caller, page, Some((false, e.message)), QuarantineParams::default(), None).await
        }
    }
}
