//! Data quality and the quarantine as a department works it: the quality report, the
//! refused rows counted by reason, their download as a spreadsheet and the upload of
//! the corrected file.

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use xinyong_app::quality::{QualityQuery, QualityReport};
use xinyong_app::quarantine::{QuarantineQuery, QuarantineReasons};
use xinyong_app::quarantine_files::{CorrectionResult, Download, SheetFormat};

use crate::auth::Caller;
use crate::cases_api::{EVIDENCE_BODY_LIMIT, uploaded_file};
use crate::{ApiError, Shared, blocking};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/v1/quality", get(quality))
        .route("/api/v1/quarantine/reasons", get(quarantine_reasons))
        .route("/api/v1/quarantine/export", get(quarantine_export))
        .route(
            "/api/v1/quarantine/corrections",
            post(quarantine_corrections).layer(DefaultBodyLimit::max(EVIDENCE_BODY_LIMIT)),
        )
}

/// The data quality report (重错码率, timeliness) per department and per intake batch:
/// an officer's own department, an administrator every department or the one named.
#[utoipa::path(get, path = "/api/v1/quality", params(QualityQuery), security(("bearer" = [])),
    responses((status = 200, body = QualityReport), (status = 401), (status = 403)))]
pub async fn quality(
    State(state): State<Shared>,
    caller: Caller,
    Query(q): Query<QualityQuery>,
) -> Result<Json<QualityReport>, ApiError> {
    Ok(Json(blocking(&state, move |app| app.quality(&caller, &q)).await?))
}

/// How many refused rows match the filter, and the same rows counted by reason (item,
/// field, rule; largest first), each reason in Chinese and English.
#[utoipa::path(get, path = "/api/v1/quarantine/reasons", params(QuarantineQuery), security(("bearer" = [])),
    responses((status = 200, body = QuarantineReasons), (status = 401), (status = 403)))]
pub async fn quarantine_reasons(
    State(state): State<Shared>,
    caller: Caller,
    Query(q): Query<QuarantineQuery>,
) -> Result<Json<QuarantineReasons>, ApiError> {
    Ok(Json(blocking(&state, move |app| app.quarantine_reasons(&caller, &q)).await?))
}

/// Which refused rows to download, and as what.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `xlsx` (default) or `csv` (UTF-8 with BOM).
    pub format: Option<SheetFormat>,
    /// The catalog item (one per file; may be left out when the rows have one item).
    pub item: Option<String>,
    /// One department's rows (administrators; an officer always gets its own).
    pub provider: Option<String>,
    pub batch: Option<String>,
    pub reason: Option<String>,
    pub field: Option<String>,
}

/// A downloaded spreadsheet.
#[derive(Debug, ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)] // describes the answer for the document
pub struct Spreadsheet(Vec<u8>);

/// The caller's open refused rows of one catalog item as a spreadsheet: columns
/// 隔离编号 (the quarantine id the upload matches), 错误原因 (each reason naming its
/// field, Chinese / English), 批次, 原行号, then the item's fields as received. Fix the
/// cells and upload the file to `/api/v1/quarantine/corrections`.
#[utoipa::path(get, path = "/api/v1/quarantine/export", params(ExportQuery), security(("bearer" = [])),
    responses((status = 200, description = "the file (attachment)", content(
                  (Spreadsheet = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                  (Spreadsheet = "text/csv"))),
              (status = 401), (status = 403),
              (status = 422, description = "no rows, or rows of several items and none chosen (`item_required`)")))]
pub async fn quarantine_export(
    State(state): State<Shared>,
    caller: Caller,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let format = q.format.unwrap_or_default();
    let query = QuarantineQuery {
        item: q.item,
        provider: q.provider,
        batch: q.batch,
        reason: q.reason,
        field: q.field,
        ..Default::default()
    };
    let d = blocking(&state, move |app| app.quarantine_download(&caller, &query, format)).await?;
    Ok(attachment(d))
}

/// A download as an attachment (its name is ASCII: item code and date).
pub fn attachment(d: Download) -> Response {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", d.file_name))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    let mut res = (StatusCode::OK, d.bytes).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(d.media_type));
    h.insert(header::CONTENT_DISPOSITION, disposition);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// A correction upload: the multipart field `file` (.xlsx or .csv, as downloaded from
/// `/api/v1/quarantine/export`, cells fixed).
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // describes the form for the document
pub struct CorrectionUpload {
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Upload a corrected spreadsheet of refused rows. Each row is matched to its entry by
/// 隔离编号; a row whose cells changed goes through intake like any other row
/// (accepted: the entry is resolved; refused again: the entry keeps the new reasons);
/// unchanged rows change nothing; an unknown, resolved or other department's id is
/// refused with a message. A session's caller sends its CSRF token as the header
/// `X-CSRF-Token` or the field `csrf`.
#[utoipa::path(post, path = "/api/v1/quarantine/corrections", security(("bearer" = [])),
    request_body(content = CorrectionUpload, content_type = "multipart/form-data"),
    responses((status = 200, description = "what each row did", body = CorrectionResult),
              (status = 400, description = "no field `file` (`bad_request`)"), (status = 401), (status = 403),
              (status = 409, description = "a corrected row is the row of another entry (`conflict`)"),
              (status = 422, description = "not .xlsx or .csv, unreadable, or no 隔离编号 column (`id_column_missing`)")))]
pub async fn quarantine_corrections(
    State(state): State<Shared>,
    caller: Caller,
    req: Request,
) -> Result<Json<CorrectionResult>, ApiError> {
    caller.require()?;
    let (name, data) = uploaded_file(&caller, req).await?;
    Ok(Json(blocking(&state, move |app| app.quarantine_upload(&caller, &name, &data)).await?))
}
