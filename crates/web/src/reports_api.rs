//! Credit reports (信用报告) in the JSON API: make a subject's report (JSON, PDF or the
//! signed bundle), the domains a special report may be limited to, and the online check
//! of a report file. Each handler extracts, calls one use case of `xinyong_app` and
//! renders.

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::IntoParams;
use xinyong_app::reports::{DomainsAnswer, IssuedReport, OnlineVerdict, ReportRequest};

use crate::auth::Caller;
use crate::cases_api::{EVIDENCE_BODY_LIMIT, read_limited};
use crate::{ApiError, Shared, blocking};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/v1/subjects/{code}/report", get(subject_report))
        .route("/api/v1/reports/domains", get(report_domains))
        .route("/api/v1/reports/verify", post(verify_report).layer(DefaultBodyLimit::max(EVIDENCE_BODY_LIMIT)))
}

/// How the report is answered.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportFormat {
    /// `json` (default), `pdf` (with embedded fonts, signed) or `bundle` (the signed
    /// `xinyong-report/1` note).
    format: Option<String>,
}

/// The answer in the format asked for.
pub(crate) fn report_response(
    app: &xinyong_app::App,
    issued: IssuedReport,
    format: &str,
) -> Result<Response, ApiError> {
    let number = issued.report.number.clone();
    match format {
        "json" => Ok(Json(issued).into_response()),
        "pdf" => {
            let pdf = app.report_pdf(&issued)?;
            let disposition = format!("attachment; filename=\"{number}.pdf\"");
            Ok((
                [(header::CONTENT_TYPE, "application/pdf".to_string()), (header::CONTENT_DISPOSITION, disposition)],
                pdf,
            )
                .into_response())
        }
        "bundle" => {
            let disposition = format!("attachment; filename=\"{number}.xinyong-report\"");
            Ok((
                [
                    (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_string()),
                    (header::CONTENT_DISPOSITION, disposition),
                ],
                issued.bundle,
            )
                .into_response())
        }
        other => Err(ApiError::from(xinyong_app::AppError::invalid(
            "invalid_format",
            format!("格式 {other} 无效，应为 json、pdf 或 bundle"),
            format!("format {other} is unknown: json, pdf or bundle"),
        ))),
    }
}

/// A subject's credit report, made now at the latest signed ledger head: the standard
/// report (信用报告, what the public may see, in 信用中国's section order) or the special
/// report (专项信用报告, penalties including simple-procedure ones, enforcement, serious
/// dishonesty, criminal judgments; replaces no-violation certificates) for a period and
/// domains. Every cited event comes with its inclusion proof; `format=pdf` is a signed
/// PDF that `xinyong report verify` checks offline. The entity has its own; departments,
/// the centre and agencies (standard only) name a `purpose`, logged in the entity's
/// access log.
#[utoipa::path(get, path = "/api/v1/subjects/{code}/report", params(("code" = String, Path), ReportRequest, ReportFormat),
    security(("bearer" = [])),
    responses((status = 200, description = "the report (JSON; or application/pdf, or the bundle as text)", body = IssuedReport),
              (status = 400), (status = 401), (status = 403), (status = 404),
              (status = 422, description = "a bad code, kind, period, domain or format, or no purpose"),
              (status = 429), (status = 503, description = "no CJK font for the PDF (`unavailable`)")))]
async fn subject_report(
    State(state): State<Shared>,
    caller: Caller,
    Path(code): Path<String>,
    Query(req): Query<ReportRequest>,
    Query(f): Query<ReportFormat>,
) -> Result<Response, ApiError> {
    let format = f.format.unwrap_or_else(|| "json".into());
    let app = state.app.clone();
    let issued = blocking(&state, move |app| app.make_report(&caller, &code, &req)).await?;
    tokio::task::spawn_blocking(move || report_response(&app, issued, &format))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
}

/// The domains (领域) a special report may be limited to, each with the departments it
/// covers.
#[utoipa::path(get, path = "/api/v1/reports/domains", responses((status = 200, body = DomainsAnswer), (status = 429)))]
async fn report_domains() -> Json<DomainsAnswer> {
    Json(xinyong_app::reports::domains())
}

/// Checks a report file (the PDF, or the bundle) sent as the request body against this
/// platform: signatures, checkpoint and inclusion proofs, whether its head is a head of
/// this ledger, and what became of each entry since (repaired, corrected, revoked,
/// removed). Anyone holding a report may ask.
#[utoipa::path(post, path = "/api/v1/reports/verify",
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "the report file"),
    responses((status = 200, body = OnlineVerdict), (status = 400), (status = 413), (status = 429)))]
async fn verify_report(State(state): State<Shared>, req: Request<Body>) -> Result<Json<OnlineVerdict>, ApiError> {
    let (parts, body) = req.into_parts();
    let bytes = read_limited(body, &parts.headers, EVIDENCE_BODY_LIMIT).await?;
    Ok(Json(blocking(&state, move |app| app.verify_report(&bytes)).await?))
}
