//! Due process (权益保护) in the JSON API: objections, credit repair, the department's
//! decisions, rectification notices and interviews, the provider's own correction and
//! revocation, the inbox, and evidence files. Each handler extracts, calls one use
//! case of `xinyong_app` and renders; who may do what is the app's to decide.

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use xinyong_app::cases::{
    AmendRequest, CaseReceipt, CaseView, CasesPage, DecideRequest, DueProcessInfo, NoticeRequest, Notification,
    ObjectionRequest, RepairRequest,
};
use xinyong_app::evidence::{EvidenceRef, MAX_EVIDENCE_BYTES};
use xinyong_core::case::CaseKind;

use crate::auth::Caller;
use crate::{ApiError, Shared, blocking};

/// The largest request body an evidence upload may have: the file and its multipart
/// envelope (boundaries, headers, the other fields).
pub const EVIDENCE_BODY_LIMIT: usize = MAX_EVIDENCE_BYTES + 64 * 1024;

/// How much of an oversized body is read (and thrown away) before the refusal is sent,
/// so that the client reads the answer instead of a reset connection.
const DRAIN_LIMIT: usize = 4 * EVIDENCE_BODY_LIMIT;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/v1/due-process", get(due_process))
        .route("/api/v1/objections", post(post_case_objection))
        .route("/api/v1/repairs", post(post_repair))
        .route("/api/v1/cases", get(list_cases))
        .route("/api/v1/cases/{id}", get(get_case))
        .route("/api/v1/cases/{id}/follow", get(follow_case))
        .route("/api/v1/cases/{id}/decision", post(decide_case))
        .route("/api/v1/cases/{id}/withdrawal", post(withdraw_case))
        .route("/api/v1/rectifications", post(post_rectification))
        .route("/api/v1/interviews", post(post_interview))
        .route("/api/v1/records/{id}/revocation", post(revoke_record))
        .route("/api/v1/records/{id}/correction", post(correct_record))
        .route("/api/v1/inbox", get(inbox))
        .route("/api/v1/me/export", get(export_own))
        .route("/api/v1/inbox/{id}/read", post(mark_read))
        .route(
            "/api/v1/evidence",
            // the handler reads the body itself (see `read_limited`); this is the backstop
            post(upload_evidence).layer(DefaultBodyLimit::max(EVIDENCE_BODY_LIMIT)),
        )
        .route("/api/v1/evidence/{sha256}", get(get_evidence))
}

// ---- the rules ------------------------------------------------------------------------

/// The due-process clocks (working days), the repair conditions and the commitment text
/// (信用修复承诺书, with `{name}` and `{code}` to fill in) the forms show.
#[utoipa::path(get, path = "/api/v1/due-process", responses((status = 200, body = DueProcessInfo)))]
async fn due_process(State(state): State<Shared>) -> Json<DueProcessInfo> {
    Json(state.app.due_process_info())
}

// ---- filing ----------------------------------------------------------------------------

/// An objection (异议) to a record or listing: by the entity itself, a department on its
/// behalf, or — for what the public can see — anyone who leaves a contact. From this
/// answer on, the target shows 异议处理中 on every surface. The query code (查询码)
/// follows the case without signing in; it is shown once.
#[utoipa::path(post, path = "/api/v1/objections", request_body = ObjectionRequest,
    responses((status = 201, description = "the case and its query code (shown once)", body = CaseReceipt),
              (status = 401), (status = 403), (status = 404, description = "no such subject, record or listing"),
              (status = 422, description = "a missing field, an unknown evidence file, or refused by the rules"),
              (status = 429)))]
async fn post_case_objection(
    State(state): State<Shared>,
    caller: Caller,
    Json(req): Json<ObjectionRequest>,
) -> Result<(StatusCode, Json<CaseReceipt>), ApiError> {
    let receipt = blocking(&state, move |app| app.file_objection(&caller, &req, "api")).await?;
    Ok((StatusCode::CREATED, Json(receipt)))
}

/// A credit repair application (信用修复申请) for a record or listing of the entity: the
/// conditions it meets (see `GET /api/v1/due-process`), its statement, evidence, and
/// the signed commitment. Refused before the rules' first possible day, with that day.
#[utoipa::path(post, path = "/api/v1/repairs", request_body = RepairRequest, security(("bearer" = [])),
    responses((status = 201, description = "the case and its query code (shown once)", body = CaseReceipt),
              (status = 401), (status = 403), (status = 404),
              (status = 409, description = "the record is revoked or repaired, or the listing is not in force"),
              (status = 422, description = "too early, a condition not met, no commitment …")))]
async fn post_repair(
    State(state): State<Shared>,
    caller: Caller,
    Json(req): Json<RepairRequest>,
) -> Result<(StatusCode, Json<CaseReceipt>), ApiError> {
    caller.require()?;

    let receipt = blocking(&state, move |app| app.file_repair(&caller, &req, "api")).await?;
    Ok((StatusCode::CREATED, Json(receipt)))
}

/// A rectification notice (限期整改) to an entity, with its requirements and deadline.
#[utoipa::path(post, path = "/api/v1/rectifications", request_body = NoticeRequest, security(("bearer" = [])),
    responses((status = 201, body = CaseView), (status = 401), (status = 403), (status = 404), (status = 422)))]
async fn post_rectification(
    State(state): State<Shared>,
    caller: Caller,
    Json(req): Json<NoticeRequest>,
) -> Result<(StatusCode, Json<CaseView>), ApiError> {
    caller.require()?;

    let case = blocking(&state, move |app| app.issue_notice(&caller, CaseKind::Rectification, &req, "api")).await?;
    Ok((StatusCode::CREATED, Json(case)))
}

/// The record of an interview (约谈: 提示约谈 or 警示约谈) held with an entity: who
/// attended, the minutes and the undertakings.
#[utoipa::path(post, path = "/api/v1/interviews", request_body = NoticeRequest, security(("bearer" = [])),
    responses((status = 201, body = CaseView), (status = 401), (status = 403), (status = 404), (status = 422)))]
async fn post_interview(
    State(state): State<Shared>,
    caller: Caller,
    Json(req): Json<NoticeRequest>,
) -> Result<(StatusCode, Json<CaseView>), ApiError> {
    caller.require()?;

    let case = blocking(&state, move |app| app.issue_notice(&caller, CaseKind::Interview, &req, "api")).await?;
    Ok((StatusCode::CREATED, Json(case)))
}

// ---- cases -------------------------------------------------------------------------------

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CasesQuery {
    /// `open`, `decided` or `withdrawn`.
    state: Option<String>,
    /// Only open cases past their due date.
    #[serde(default)]
    overdue: bool,
    /// 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// Cases the caller may see: a department's queue, every department's for the centre,
/// the entity's own.
#[utoipa::path(get, path = "/api/v1/cases", params(CasesQuery), security(("bearer" = [])),
    responses((status = 200, body = CasesPage), (status = 401), (status = 403)))]
async fn list_cases(
    State(state): State<Shared>,
    caller: Caller,
    Query(q): Query<CasesQuery>,
) -> Result<Json<CasesPage>, ApiError> {
    let limit = xinyong_app::page_size(q.limit, 100, 1000)?;
    let page = blocking(&state, move |app| app.cases(&caller, q.state.as_deref(), q.overdue, limit)).await?;
    Ok(Json(page))
}

/// One case in full: the entity itself, the department that must act, the centre.
#[utoipa::path(get, path = "/api/v1/cases/{id}", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = CaseView), (status = 401), (status = 404)))]
async fn get_case(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<CaseView>, ApiError> {
    caller.require()?;

    Ok(Json(blocking(&state, move |app| app.case(&caller, id)).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FollowQuery {
    /// The query code (查询码) given when the case was filed.
    query_code: String,
}

/// A case followed with its query code (查询码), without signing in: its state, clocks
/// and outcome. A wrong code answers 404, as an unknown case does.
#[utoipa::path(get, path = "/api/v1/cases/{id}/follow", params(("id" = i64, Path), FollowQuery),
    responses((status = 200, body = CaseView), (status = 401), (status = 404), (status = 429)))]
async fn follow_case(
    State(state): State<Shared>,
    _caller: Caller,
    Path(id): Path<i64>,
    Query(q): Query<FollowQuery>,
) -> Result<Json<CaseView>, ApiError> {
    Ok(Json(blocking(&state, move |app| app.case_by_query(id, &q.query_code)).await?))
}

/// The department's decision ("谁认定、谁修复"). An upheld objection corrects (with
/// `fields`) or revokes its target; a granted repair ends publication and lifts the
/// measures in the same commit; a refusal states its reasons and the next possible
/// date. A second decision on the same case answers 409.
#[utoipa::path(post, path = "/api/v1/cases/{id}/decision", params(("id" = i64, Path)), request_body = DecideRequest,
    security(("bearer" = [])),
    responses((status = 200, body = CaseView), (status = 401), (status = 403), (status = 404),
              (status = 409, description = "the case is already decided or withdrawn"), (status = 422)))]
async fn decide_case(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(req): Json<DecideRequest>,
) -> Result<Json<CaseView>, ApiError> {
    caller.require()?;

    Ok(Json(blocking(&state, move |app| app.decide_case(&caller, id, &req, "api")).await?))
}

/// The applicant withdraws an open objection or repair application. (A session's
/// caller sends its CSRF token as the header `X-CSRF-Token`.)
#[utoipa::path(post, path = "/api/v1/cases/{id}/withdrawal", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = CaseView), (status = 401), (status = 403), (status = 404), (status = 409),
              (status = 422)))]
async fn withdraw_case(
    State(state): State<Shared>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<CaseView>, ApiError> {
    caller.require()?;
    session_csrf(&caller, &headers)?;

    Ok(Json(blocking(&state, move |app| app.withdraw_case(&caller, id, "api")).await?))
}

// ---- the provider's correction and revocation ------------------------------------------------

/// A session's caller posting without a body (nothing a cross-site form could not
/// send) proves the request is its own with the header `X-CSRF-Token`; token callers
/// need nothing more.
fn session_csrf(caller: &Caller, headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    if caller.csrf.is_none() {
        return Ok(());
    }
    let sent = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if caller.csrf_ok(sent) { Ok(()) } else { Err(ApiError::forbidden("CSRF 校验失败 / CSRF check failed")) }
}

/// The ledger event a correction or revocation became.
#[derive(Debug, Serialize, ToSchema)]
pub struct AmendAnswer {
    pub ledger_index: u64,
}

/// The providing department revokes its own record (撤销: void from its start), with
/// the reason and the deciding document. Everyone who received the record is told.
#[utoipa::path(post, path = "/api/v1/records/{id}/revocation", params(("id" = i64, Path)), request_body = AmendRequest,
    security(("bearer" = [])),
    responses((status = 200, body = AmendAnswer), (status = 401), (status = 403), (status = 404), (status = 409),
              (status = 422)))]
async fn revoke_record(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(mut req): Json<AmendRequest>,
) -> Result<Json<AmendAnswer>, ApiError> {
    caller.require()?;

    // a revocation never carries a correction
    req.fields = None;
    let ledger_index = blocking(&state, move |app| app.amend_record(&caller, id, &req, "api")).await?;
    Ok(Json(AmendAnswer { ledger_index }))
}

/// The providing department corrects its own record (更正): `fields` names the fields
/// to change (the others, masked IDs among them, keep their stored values); the
/// reason and the document are recorded with it.
#[utoipa::path(post, path = "/api/v1/records/{id}/correction", params(("id" = i64, Path)), request_body = AmendRequest,
    security(("bearer" = [])),
    responses((status = 200, body = AmendAnswer), (status = 401), (status = 403), (status = 404), (status = 409),
              (status = 422, description = "no fields, an unknown field, or a value the catalog refuses")))]
async fn correct_record(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(req): Json<AmendRequest>,
) -> Result<Json<AmendAnswer>, ApiError> {
    caller.require()?;

    if req.fields.is_none() {
        return Err(ApiError::unprocessable(
            "fields_required",
            "更正须给出要更正的字段（fields） / a correction names the fields it changes (fields)",
        ));
    }
    let ledger_index = blocking(&state, move |app| app.amend_record(&caller, id, &req, "api")).await?;
    Ok(Json(AmendAnswer { ledger_index }))
}

// ---- the inbox ------------------------------------------------------------------------------------

/// The caller's notifications, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxAnswer {
    pub notifications: Vec<Notification>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// 1–500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// The signed-in caller's notifications (the entity's, its department's, or its own
/// account's), newest first.
#[utoipa::path(get, path = "/api/v1/inbox", params(InboxQuery), security(("bearer" = [])),
    responses((status = 200, body = InboxAnswer), (status = 401)))]
async fn inbox(
    State(state): State<Shared>,
    caller: Caller,
    Query(q): Query<InboxQuery>,
) -> Result<Json<InboxAnswer>, ApiError> {
    let limit = xinyong_app::page_size(q.limit, 100, 500)?;
    let notifications = blocking(&state, move |app| app.inbox(&caller, limit)).await?;
    Ok(Json(InboxAnswer { notifications }))
}

/// A notification marked read.
#[derive(Debug, Serialize, ToSchema)]
pub struct MarkedRead {
    pub id: i64,
    pub read: bool,
}

/// Marks one of the caller's notifications read. (A session's caller sends its CSRF
/// token as the header `X-CSRF-Token`.)
#[utoipa::path(post, path = "/api/v1/inbox/{id}/read", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = MarkedRead), (status = 401), (status = 404)))]
async fn mark_read(
    State(state): State<Shared>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<MarkedRead>, ApiError> {
    caller.require()?;
    session_csrf(&caller, &headers)?;
    blocking(&state, move |app| app.mark_read(&caller, id)).await?;
    Ok(Json(MarkedRead { id, read: true }))
}

// ---- evidence files -------------------------------------------------------------------------------

/// An evidence upload: the multipart field `file` (PDF, JPEG or PNG).
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // describes the form for the document
pub struct EvidenceUpload {
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// An evidence file's bytes, as uploaded.
#[derive(Debug, ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)] // describes the answer for the document
pub struct EvidenceFile(Vec<u8>);

/// The refusal of a body over [`EVIDENCE_BODY_LIMIT`]: 413, in the words of the
/// evidence rules (`evidence_too_large`).
pub fn too_large(size: usize) -> ApiError {
    let e = xinyong_core::evidence::EvidenceError::TooLarge { size: size as u64, limit: MAX_EVIDENCE_BYTES as u64 };
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "evidence_too_large", e.to_string())
}

/// Reads a request body of at most `limit` bytes. A longer one is read on (up to
/// [`DRAIN_LIMIT`]) and thrown away, then refused with 413: the client gets the
/// answer, not a connection reset while it is still sending.
pub async fn read_limited(body: Body, headers: &axum::http::HeaderMap, limit: usize) -> Result<Vec<u8>, ApiError> {
    use http_body_util::BodyExt;
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > DRAIN_LIMIT) {
        return Err(too_large(declared.unwrap_or_default()));
    }
    let mut body = body;
    let mut kept = Vec::with_capacity(declared.unwrap_or(0).min(limit));
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| ApiError::bad_request(format!("请求体读取失败 / reading the body failed: {e}")))?;
        let Ok(data) = frame.into_data() else { continue };
        seen += data.len();
        if seen > DRAIN_LIMIT {
            break;
        }
        if seen <= limit {
            kept.extend_from_slice(&data);
        }
    }
    if seen > limit {
        return Err(too_large(seen));
    }
    Ok(kept)
}

/// The `file` field of a multipart body already read: its name as the client gave it,
/// and its bytes; the other text fields by name.
pub struct Upload {
    pub file: Option<(String, Vec<u8>)>,
    pub fields: Vec<(String, String)>,
}

/// Parses a multipart body read by [`read_limited`]. A file field left empty in a form
/// (no file chosen) counts as no file.
pub async fn multipart_of(parts: axum::http::request::Parts, bytes: Vec<u8>) -> Result<Upload, ApiError> {
    let req = Request::from_parts(parts, Body::from(bytes));
    let mut mp = Multipart::from_request(req, &()).await.map_err(|e| {
        ApiError::new(
            e.status(),
            "bad_request",
            format!("应为 multipart/form-data 表单 / expected multipart/form-data: {e}"),
        )
    })?;
    let mut upload = Upload { file: None, fields: Vec::new() };
    loop {
        let field = mp.next_field().await.map_err(|e| {
            ApiError::new(e.status(), "bad_request", format!("表单格式错误 / malformed multipart body: {e}"))
        })?;
        let Some(field) = field else { break };
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        let data = field.bytes().await.map_err(|e| {
            ApiError::new(e.status(), "bad_request", format!("表单格式错误 / malformed multipart body: {e}"))
        })?;
        match file_name {
            Some(f) if name == "file" => {
                if !(f.is_empty() && data.is_empty()) && upload.file.is_none() {
                    upload.file = Some((f, data.to_vec()));
                }
            }
            _ => upload.fields.push((name, String::from_utf8_lossy(&data).into_owned())),
        }
    }
    Ok(upload)
}

/// The multipart field `file` of an upload (name and bytes), within the body limit; a
/// session's caller must send its CSRF token (header `X-CSRF-Token` or field `csrf`).
pub(crate) async fn uploaded_file(caller: &Caller, req: Request) -> Result<(String, Vec<u8>), ApiError> {
    let (parts, body) = req.into_parts();
    let bytes = read_limited(body, &parts.headers, EVIDENCE_BODY_LIMIT).await?;
    let header_csrf = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).map(str::to_string);
    let upload = multipart_of(parts, bytes).await?;
    if caller.csrf.is_some() {
        let sent = header_csrf.or_else(|| upload.fields.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.clone()));
        if !caller.csrf_ok(sent.as_deref().unwrap_or_default()) {
            return Err(ApiError::forbidden("CSRF 校验失败 / CSRF check failed"));
        }
    }
    upload.file.ok_or_else(|| ApiError::bad_request("缺少文件字段 file / the multipart field `file` is missing"))
}

/// Upload an evidence file (证据材料) for an objection or repair application, as the
/// multipart field `file`: PDF, JPEG or PNG of at most 10 MiB, recognised from its
/// content. The answer names it by its SHA-256; cases cite it by that. A session's
/// caller sends its CSRF token as the header `X-CSRF-Token` or the field `csrf`.
#[utoipa::path(post, path = "/api/v1/evidence", security(("bearer" = [])),
    request_body(content = EvidenceUpload, content_type = "multipart/form-data"),
    responses((status = 201, description = "stored (or already stored): the ref to cite", body = EvidenceRef),
              (status = 400, description = "no field `file` (`bad_request`)"), (status = 401), (status = 403),
              (status = 422, description = "not a PDF, JPEG or PNG, or damaged (`evidence_type`, `evidence_malformed`)")))]
async fn upload_evidence(
    State(state): State<Shared>,
    caller: Caller,
    req: Request,
) -> Result<(StatusCode, Json<EvidenceRef>), ApiError> {
    let (name, data) = uploaded_file(&caller, req).await?;
    let r = blocking(&state, move |app| app.upload_evidence(&caller, &name, &data)).await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// An evidence file's bytes, as uploaded, with the type recognised at upload: for the
/// parties to its cases and the departments (an entity reads what its own cases cite).
#[utoipa::path(get, path = "/api/v1/evidence/{sha256}", params(("sha256" = String, Path, description = "64 lowercase hex characters")),
    security(("bearer" = [])),
    responses((status = 200, description = "the file (attachment)", content(
                  (EvidenceFile = "application/pdf"), (EvidenceFile = "image/jpeg"), (EvidenceFile = "image/png"))),
              (status = 401), (status = 403), (status = 404), (status = 422)))]
async fn get_evidence(
    State(state): State<Shared>,
    caller: Caller,
    Path(sha256): Path<String>,
) -> Result<Response, ApiError> {
    let name = sha256.clone();
    let (media_type, bytes) = blocking(&state, move |app| app.evidence(&caller, &sha256)).await?;
    let ext = match media_type.as_str() {
        "application/pdf" => "pdf",
        "image/jpeg" => "jpg",
        "image/png" => "png",
        _ => "bin",
    };
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&media_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}.{ext}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(res)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// The subject (the centre only; an entity's account exports its own).
    code: Option<String>,
}

/// Everything the platform holds about the signed-in entity (its record, listings,
/// cases, the checks and non-public reads of its data, its notifications) as one JSON
/// file: "下载我的数据". The export is itself logged as a read of its data.
#[utoipa::path(get, path = "/api/v1/me/export", params(ExportQuery), security(("bearer" = [])),
    responses((status = 200, body = xinyong_app::cases::SubjectExport), (status = 401), (status = 403), (status = 404),
              (status = 422, description = "no subject named (`code_required`), or not a valid code (`invalid_code`)")))]
pub(crate) async fn export_own(
    State(state): State<Shared>,
    caller: Caller,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    caller.require()?;
    let code = match (caller.own_subject(), q.code) {
        (Some(own), _) => own.to_string(),
        (None, Some(code)) => code,
        (None, None) => {
            return Err(ApiError::unprocessable("code_required", "请指明主体代码（code） / state the subject (code)"));
        }
    };
    let file = format!("xinyong-{code}.json");
    let export = blocking(&state, move |app| app.export_subject(&caller, &code)).await?;
    let mut res = Json(export).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}
