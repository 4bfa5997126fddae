//! The JSON API under `/api/v1`. Every handler is described with `utoipa::path`, and
//! `/api/v1/openapi.json` is generated from these descriptions.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, OpenApi, ToSchema};
use xinyong_app::accounts::NewAccountRequest;
use xinyong_app::intake::RecordBatch;
use xinyong_app::quarantine::QuarantineQuery;

use crate::auth::Caller;
use crate::{ApiError, Shared, blocking};

#[derive(OpenApi)]
#[openapi(
    info(title = "xinyong API", version = "1", description = "公共信用信息平台 API / public credit information platform API"),
    paths(
        get_subject,
        search_subjects,
        post_records,
        list_quarantine,
        resubmit_quarantine,
        ledger_head,
        ledger_proof,
        ledger_consistency,
        catalog,
        list_accounts,
        create_account,
        access_log,
        crate::lists_api::post_check,
        crate::lists_api::post_check_batch,
        crate::lists_api::get_check,
        crate::lists_api::post_feedback,
        crate::lists_api::check_stats,
        crate::lists_api::subject_checks,
        crate::lists_api::public_lists,
        crate::lists_api::measures,
        crate::lists_api::post_listing,
        crate::lists_api::get_listing,
        crate::lists_api::post_objection,
        crate::lists_api::post_decision,
        crate::lists_api::post_removal
    ),
    components(schemas(RecordBatch, Resubmission, NewAccountRequest, xinyong_app::checks::CheckRequest,
        xinyong_app::checks::BatchCheckRequest, xinyong_app::checks::FeedbackRequest,
        xinyong_app::listings::ListingRequest, xinyong_app::listings::DecisionRequest,
        xinyong_app::listings::ObjectionRequest, xinyong_app::listings::RemovalRequest)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/v1/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .route("/api/v1/subjects", get(search_subjects))
        .route("/api/v1/subjects/{code}", get(get_subject))
        .route("/api/v1/records", post(post_records))
        .route("/api/v1/quarantine", get(list_quarantine))
        .route("/api/v1/quarantine/{id}/resubmit", post(resubmit_quarantine))
        .route("/api/v1/ledger/head", get(ledger_head))
        .route("/api/v1/ledger/proof/{index}", get(ledger_proof))
        .route("/api/v1/ledger/consistency", get(ledger_consistency))
        .route("/api/v1/catalog", get(catalog))
        .route("/api/v1/accounts", get(list_accounts).post(create_account))
        .route("/api/v1/subjects/{code}/access-log", get(access_log))
}

/// Renders any answer as JSON.
pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> Result<Json<Value>, ApiError> {
    serde_json::to_value(v).map(Json).map_err(|e| ApiError::internal(e.to_string()))
}

/// Accounts (administrators only).
#[utoipa::path(get, path = "/api/v1/accounts", security(("bearer" = [])), responses((status = 200, body = Object), (status = 401), (status = 403)))]
async fn list_accounts(State(state): State<Shared>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let accounts = blocking(&state, move |app| app.accounts(&caller)).await?;
    Ok(Json(json!({ "accounts": accounts })))
}

/// Create an account (administrators only); the token is shown once and stored hashed.
#[utoipa::path(post, path = "/api/v1/accounts", request_body = NewAccountRequest, security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 401), (status = 403), (status = 409), (status = 422)))]
async fn create_account(
    State(state): State<Shared>,
    caller: Caller,
    Json(req): Json<NewAccountRequest>,
) -> Result<Json<Value>, ApiError> {
    let created = blocking(&state, move |app| app.create_account(&caller, &req)).await?;
    to_json(&created)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AccessLogQuery {
    limit: Option<u32>,
}

/// Who read this subject's non-public data, why and when (the subject's own account and
/// administrators).
#[utoipa::path(get, path = "/api/v1/subjects/{code}/access-log", params(("code" = String, Path), AccessLogQuery), security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 401), (status = 403), (status = 422)))]
async fn access_log(
    State(state): State<Shared>,
    caller: Caller,
    Path(code): Path<String>,
    Query(q): Query<AccessLogQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    let entries = blocking(&state, move |app| app.access_log(&caller, &code, limit)).await?;
    Ok(Json(json!({ "entries": entries })))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SubjectQuery {
    /// Answer "what was public that day" (YYYY-MM-DD); default today (Asia/Shanghai).
    as_of: Option<String>,
    /// Why an account reads non-public data (logged).
    purpose: Option<String>,
}

/// A subject and its records as the caller may see them.
#[utoipa::path(get, path = "/api/v1/subjects/{code}", params(("code" = String, Path, description = "USCC or resident ID"), SubjectQuery),
    responses((status = 200, description = "subject and records (publication windows applied)", body = Object),
              (status = 404, description = "unknown subject"), (status = 422, description = "invalid code: the failed rule")))]
async fn get_subject(
    State(state): State<Shared>,
    caller: Caller,
    Path(code): Path<String>,
    Query(q): Query<SubjectQuery>,
) -> Result<Json<Value>, ApiError> {
    let code = xinyong_app::parse_code(&code)?;
    let as_of = xinyong_app::day_or_today(q.as_of.as_deref())?;
    let view = blocking(&state, move |app| app.subject(&caller, &code, as_of, q.purpose)).await?;
    let view = view.ok_or_else(|| ApiError::not_found("没有该主体 / no such subject"))?;
    to_json(&view)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SearchQuery {
    /// Name, former name, pinyin initials (e.g. `bjzj`) or code prefix.
    q: String,
    #[serde(default)]
    offset: usize,
    /// At most 100.
    limit: Option<usize>,
}

/// Search subjects by name, former name, pinyin initials or code prefix.
#[utoipa::path(get, path = "/api/v1/subjects", params(SearchQuery), responses((status = 200, description = "ranked page of subjects", body = Object)))]
async fn search_subjects(
    State(state): State<Shared>,
    _caller: Caller,
    Query(q): Query<SearchQuery>,
) -> Result<Json<Value>, ApiError> {
    to_json(&state.app.search(&q.q, q.offset, q.limit.unwrap_or(20))?)
}

/// Intake of a batch by a department: same validation, quarantine and idempotency as `xinyong import`.
#[utoipa::path(post, path = "/api/v1/records", request_body = RecordBatch, security(("bearer" = [])),
    responses((status = 200, description = "each row's outcome", body = Object), (status = 401), (status = 403), (status = 422)))]
async fn post_records(
    State(state): State<Shared>,
    caller: Caller,
    Json(batch): Json<RecordBatch>,
) -> Result<Json<Value>, ApiError> {
    caller.require()?;
    let result = blocking(&state, move |app| app.ingest(&caller, &batch, "api")).await?;
    to_json(&result)
}

/// Rows refused at intake: an officer sees their department's, an administrator all.
#[utoipa::path(get, path = "/api/v1/quarantine", params(QuarantineQuery), security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 401)))]
async fn list_quarantine(
    State(state): State<Shared>,
    caller: Caller,
    Query(q): Query<QuarantineQuery>,
) -> Result<Json<Value>, ApiError> {
    let rows = blocking(&state, move |app| app.quarantine(&caller, &q)).await?;
    Ok(Json(json!({ "entries": rows })))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Resubmission {
    /// Corrected field values (Chinese field name → text).
    set: BTreeMap<String, String>,
}

/// Resubmit a corrected quarantined row.
#[utoipa::path(post, path = "/api/v1/quarantine/{id}/resubmit", request_body = Resubmission, params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "accepted, or still quarantined with reasons", body = Object), (status = 401), (status = 403), (status = 404)))]
async fn resubmit_quarantine(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<Resubmission>,
) -> Result<Json<Value>, ApiError> {
    caller.require()?;
    let out = blocking(&state, move |app| app.resubmit(&caller, id, &body.set)).await?;
    to_json(&out)
}

/// The latest signed tree head and the key that verifies it.
#[utoipa::path(get, path = "/api/v1/ledger/head", responses((status = 200, body = Object)))]
async fn ledger_head(State(state): State<Shared>, _caller: Caller) -> Result<Json<Value>, ApiError> {
    to_json(&blocking(&state, |app| app.ledger_head()).await?)
}

/// Inclusion proof of event `index` in the latest signed tree (RFC 6962).
#[utoipa::path(get, path = "/api/v1/ledger/proof/{index}", params(("index" = u64, Path)), responses((status = 200, body = Object), (status = 422)))]
async fn ledger_proof(
    State(state): State<Shared>,
    caller: Caller,
    Path(index): Path<u64>,
) -> Result<Json<Value>, ApiError> {
    to_json(&blocking(&state, move |app| app.ledger_proof(&caller, index)).await?)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ConsistencyQuery {
    from: u64,
    to: Option<u64>,
}

/// Consistency proof between two tree sizes.
#[utoipa::path(get, path = "/api/v1/ledger/consistency", params(ConsistencyQuery), responses((status = 200, body = Object), (status = 422)))]
async fn ledger_consistency(
    State(state): State<Shared>,
    _caller: Caller,
    Query(q): Query<ConsistencyQuery>,
) -> Result<Json<Value>, ApiError> {
    to_json(&blocking(&state, move |app| app.ledger_consistency(q.from, q.to)).await?)
}

/// The catalog: what is collected, its fields and disclosure level.
#[utoipa::path(get, path = "/api/v1/catalog", responses((status = 200, body = Object)))]
async fn catalog(State(state): State<Shared>) -> Result<Json<Value>, ApiError> {
    let items: Vec<&xinyong_core::Item> = state.app.catalog().items().collect();
    Ok(Json(json!({ "items": items })))
}
