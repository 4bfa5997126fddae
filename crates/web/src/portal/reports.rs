//! Portal pages of credit reports (信用报告): the request form and the report as HTML
//! with its PDF and signed file to download (`/reports`), and the check of a report
//! file anyone holds (`/verify`), which also says what changed since it was made.

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde_json::json;
use xinyong_app::reports::ReportRequest;

use super::{Common, Page};
use crate::auth::Caller;
use crate::cases_api::{EVIDENCE_BODY_LIMIT, multipart_of, read_limited};
use crate::reports_api::report_response;
use crate::{Shared, blocking};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/reports", get(report_page))
        .route("/reports/download", get(download))
        .route("/verify", get(verify_form).post(verify_upload))
}

/// The form's fields as the query string gives them (`domains` may repeat).
struct Asked {
    code: String,
    format: String,
    lang: Option<String>,
    req: ReportRequest,
}

fn asked(pairs: Vec<(String, String)>) -> Asked {
    let mut a = Asked { code: String::new(), format: "pdf".into(), lang: None, req: ReportRequest::default() };
    let mut domains = Vec::new();
    for (k, v) in pairs {
        let v = v.trim().to_string();
        match k.as_str() {
            "code" => a.code = v,
            "kind" => a.req.kind = Some(v),
            "from" => a.req.from = Some(v),
            "to" => a.req.to = Some(v),
            "purpose" => a.req.purpose = Some(v),
            "domains" if !v.is_empty() => domains.push(v),
            "format" => a.format = v,
            "lang" => a.lang = Some(v),
            _ => {}
        }
    }
    a.req.domains = (!domains.is_empty()).then(|| domains.join(","));
    a
}

/// The query string that asks for the same report again (for the download links).
fn same_query(a: &Asked) -> String {
    let mut q = vec![("code", a.code.clone())];
    for (k, v) in [("kind", &a.req.kind), ("from", &a.req.from), ("to", &a.req.to), ("purpose", &a.req.purpose)] {
        if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
            q.push((k, v.clone()));
        }
    }
    for d in a.req.domains.as_deref().unwrap_or("").split(',').filter(|d| !d.is_empty()) {
        q.push(("domains", d.to_string()));
    }
    q.iter().map(|(k, v)| format!("{k}={}", super::urlencode(v))).collect::<Vec<_>>().join("&")
}

async fn report_page(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let mut a = asked(pairs);
    let page = Page::new(&headers, &Common { lang: a.lang.clone() });
    if !caller.is_signed_in() {
        return Redirect::to("/login").into_response();
    }
    if a.code.is_empty() {
        a.code = caller.who.own_subject().map(str::to_string).unwrap_or_default();
    }
    let domains = xinyong_app::reports::domains().domains;
    let mut ctx = json!({"v": {"code": a.code, "kind": a.req.kind, "from": a.req.from, "to": a.req.to,
        "purpose": a.req.purpose, "domains": a.req.domains}, "domains": domains,
        "is_own": caller.who.own_subject().is_some()});
    let submitted = !a.code.is_empty() && a.req.kind.is_some();
    if submitted {
        let (who, code, req) = (caller.who.clone(), a.code.clone(), a.req.clone());
        match blocking(&state, move |app| app.make_report(&who, &code, &req)).await {
            Ok(issued) => {
                ctx["issued"] = json!(issued);
                ctx["query"] = json!(same_query(&a));
            }
            Err(e) => ctx["errors"] = json!([e.message]),
        }
    }
    page.render(&state, &caller, "report.html", ctx, StatusCode::OK)
}

/// The report as a file: `format=pdf` (default) or `bundle`.
async fn download(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let a = asked(pairs);
    let page = Page::new(&headers, &Common { lang: a.lang.clone() });
    if !caller.is_signed_in() {
        return Redirect::to("/login").into_response();
    }
    let (who, code, req, format) = (caller.who.clone(), a.code.clone(), a.req.clone(), a.format.clone());
    let made = blocking(&state, move |app| {
        let issued = app.make_report(&who, &code, &req)?;
        Ok((app.clone(), issued))
    })
    .await;
    let answer = match made {
        Ok((app, issued)) => tokio::task::spawn_blocking(move || report_response(&app, issued, &format)).await,
        Err(e) => return page.error(&state, &caller, e.status, e.message),
    };
    match answer {
        Ok(Ok(res)) => res,
        Ok(Err(e)) => page.error(&state, &caller, e.status, e.message),
        Err(e) => page.error(&state, &caller, StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn verify_form(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Query(c): Query<Common>,
) -> Response {
    Page::new(&headers, &c).render(&state, &caller, "verify.html", json!({}), StatusCode::OK)
}

/// The uploaded file (multipart field `file`) checked against this platform. Nothing is
/// stored or changed: no session or CSRF token is needed.
async fn verify_upload(State(state): State<Shared>, caller: Caller, headers: HeaderMap, req: Request) -> Response {
    let page = Page::new(&headers, &Common::default());
    let (parts, body) = req.into_parts();
    let upload = match read_limited(body, &parts.headers, EVIDENCE_BODY_LIMIT).await {
        Ok(bytes) => multipart_of(parts, bytes).await,
        Err(e) => Err(e),
    };
    let file = match upload.map(|u| u.file) {
        Ok(Some((_, data))) => data,
        Ok(None) => {
            return page.render(
                &state,
                &caller,
                "verify.html",
                json!({"errors": ["请选择报告文件 / choose a report file"]}),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
        Err(e) => return page.error(&state, &caller, e.status, e.message),
    };
    match blocking(&state, move |app| app.verify_report(&file)).await {
        Ok(v) => page.render(&state, &caller, "verify.html", json!({"result": v}), StatusCode::OK),
        Err(e) => page.error(&state, &caller, e.status, e.message),
    }
}
