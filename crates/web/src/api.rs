//! The JSON API under `/api/v1`. Every handler is described with `utoipa::path`, and
//! `/api/v1/openapi.json` is generated from these descriptions.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, OpenApi, ToSchema};
use xinyong_app::view::{Viewer, subject_view};
use xinyong_core::SubjectCode;
use xinyong_store::QuarantineFilter;

use crate::auth::Caller;
use crate::{ApiError, Shared, blocking};

/// Largest batch accepted by `POST /api/v1/records`.
pub const MAX_BATCH_ROWS: usize = 10_000;

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
    components(schemas(RecordBatch, Resubmission, NewAccountRequest, crate::lists_api::CheckRequest,
        crate::lists_api::BatchCheckRequest, crate::lists_api::FeedbackRequest, crate::lists_api::ListingRequest,
        crate::lists_api::DecisionRequest, crate::lists_api::ObjectionRequest, crate::lists_api::RemovalRequest)),
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

fn require_admin(caller: &Caller) -> Result<xinyong_store::Account, ApiError> {
    let a = caller.require()?;
    if a.role != "admin" {
        return Err(ApiError::forbidden("仅限信用中心管理员 / administrators only"));
    }
    Ok(a.clone())
}

/// Accounts (administrators only).
#[utoipa::path(get, path = "/api/v1/accounts", security(("bearer" = [])), responses((status = 200, body = Object), (status = 401), (status = 403)))]
async fn list_accounts(State(state): State<Shared>, caller: Caller) -> Result<Json<Value>, ApiError> {
    require_admin(&caller)?;
    let accounts = blocking(&state, |s| Ok(s.lock().store.accounts()?)).await?;
    Ok(Json(json!({ "accounts": accounts })))
}

/// A new account: an officer bound to one department, or an administrator.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewAccountRequest {
    username: String,
    display_name: Option<String>,
    /// `officer`, `admin` or `subject` (an entity's own account).
    role: String,
    /// Required for officers.
    provider: Option<String>,
    /// Required for subject accounts: the USCC or resident ID it speaks for.
    subject_code: Option<String>,
    /// At least 10 characters; omit for a token-only machine client.
    password: Option<String>,
    /// Also issue an API token (shown once).
    #[serde(default)]
    token: bool,
}

/// Create an account (administrators only); the token is shown once and stored hashed.
#[utoipa::path(post, path = "/api/v1/accounts", request_body = NewAccountRequest, security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 401), (status = 403), (status = 409), (status = 422)))]
async fn create_account(
    State(state): State<Shared>,
    caller: Caller,
    Json(req): Json<NewAccountRequest>,
) -> Result<Json<Value>, ApiError> {
    require_admin(&caller)?;
    if !["officer", "admin", "subject"].contains(&req.role.as_str()) {
        return Err(ApiError::unprocessable(
            "invalid_role",
            "role 应为 officer、admin 或 subject / role must be officer, admin or subject",
        ));
    }
    let subject_code = match (req.role.as_str(), req.subject_code.as_deref()) {
        ("subject", Some(c)) => Some(parse_code(c)?.key().to_string()),
        ("subject", None) => {
            return Err(ApiError::unprocessable(
                "subject_code_required",
                "主体账号须指定 subject_code / subject accounts need a subject_code",
            ));
        }
        _ => None,
    };
    if req.role == "officer" && req.provider.as_deref().is_none_or(|p| p.trim().is_empty()) {
        return Err(ApiError::unprocessable("provider_required", "部门用户须指定 provider / officers need a provider"));
    }
    if req.username.trim().is_empty() || req.username.len() > 64 {
        return Err(ApiError::unprocessable(
            "invalid_username",
            "用户名为 1–64 个字符 / username must be 1–64 characters",
        ));
    }
    let password_hash = match &req.password {
        Some(p) if p.chars().count() < 10 => {
            return Err(ApiError::unprocessable(
                "weak_password",
                "密码至少 10 位 / password needs at least 10 characters",
            ));
        }
        Some(p) => Some(crate::auth::hash_password(p)?),
        None => None,
    };
    let token = req.token.then(|| crate::auth::new_secret("xy_"));
    let token_hash = token.as_deref().map(crate::auth::hash_secret);
    let new = xinyong_store::NewAccount {
        subject_code,
        username: req.username.clone(),
        display_name: req.display_name.clone().unwrap_or_else(|| req.username.clone()),
        role: req.role.clone(),
        provider: req.provider.clone(),
        password_hash,
    };
    let account = blocking(&state, move |s| {
        let mut app = s.lock();
        let now = xinyong_app::now_ms();
        let id = app.store.create_account(&new, now)?;
        if let Some(h) = token_hash {
            app.store.add_token(id, &h, "api", now)?;
        }
        Ok(app.store.account(&new.username)?)
    })
    .await?;
    Ok(Json(json!({ "account": account, "token": token })))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AccessLogQuery {
    limit: Option<u32>,
}

/// Who read this subject's non-public data, why and when (administrators only here;
/// the subject's own view comes with subject accounts).
#[utoipa::path(get, path = "/api/v1/subjects/{code}/access-log", params(("code" = String, Path), AccessLogQuery), security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 401), (status = 403), (status = 422)))]
async fn access_log(
    State(state): State<Shared>,
    caller: Caller,
    Path(code): Path<String>,
    Query(q): Query<AccessLogQuery>,
) -> Result<Json<Value>, ApiError> {
    require_admin(&caller)?;
    let code = parse_code(&code)?;
    let limit = q.limit.unwrap_or(100).min(1000);
    let entries = blocking(&state, move |s| Ok(s.lock().store.access_log(code.key(), limit)?)).await?;
    Ok(Json(json!({ "entries": entries })))
}

pub fn parse_code(code: &str) -> Result<SubjectCode, ApiError> {
    SubjectCode::parse(code).map_err(|errors| {
        let msg = errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ");
        ApiError::unprocessable("invalid_code", msg)
    })
}

pub fn parse_as_of(as_of: Option<&str>) -> Result<time::Date, ApiError> {
    match as_of {
        None | Some("") => Ok(xinyong_app::today_shanghai()),
        Some(s) => xinyong_core::record::parse_date(s)
            .ok_or_else(|| ApiError::bad_request(format!("as_of '{s}' 不是有效日期 / is not a date (YYYY-MM-DD)"))),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SubjectQuery {
    /// Answer "what was public that day" (YYYY-MM-DD); default today (Asia/Shanghai).
    as_of: Option<String>,
    /// Why an account reads non-public data (logged).
    purpose: Option<String>,
}

pub fn viewer_for(caller: &Caller, purpose: Option<String>) -> Viewer {
    match caller.account() {
        None => Viewer::Public,
        Some(a) => Viewer::Account { account: a.clone(), purpose: purpose.unwrap_or_else(|| "查询 / lookup".into()) },
    }
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
    let code = parse_code(&code)?;
    let as_of = parse_as_of(q.as_of.as_deref())?;
    let viewer = viewer_for(&caller, q.purpose);
    let view = blocking(&state, move |s| Ok(subject_view(&mut s.lock(), &code, as_of, &viewer)?)).await?;
    let view = view.ok_or_else(|| ApiError::not_found("没有该主体 / no such subject"))?;
    Ok(Json(serde_json::to_value(view).map_err(|e| ApiError::internal(e.to_string()))?))
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
    let page = crate::public_page(state.search.search(&q.q, q.offset, q.limit.unwrap_or(20).min(100))?);
    Ok(Json(serde_json::to_value(page).map_err(|e| ApiError::internal(e.to_string()))?))
}

/// A batch of rows for one catalog item.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RecordBatch {
    /// Catalog item code, e.g. `admin_penalty`.
    item: String,
    /// Providing department; officers may omit it (their own), administrators must give it.
    provider: Option<String>,
    /// Rows as field name (Chinese, as in the catalog) → text.
    #[schema(value_type = Vec<Object>)]
    rows: Vec<BTreeMap<String, Value>>,
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    }
}

/// Intake of a batch by a department: same validation, quarantine and idempotency as `xinyong import`.
#[utoipa::path(post, path = "/api/v1/records", request_body = RecordBatch, security(("bearer" = [])),
    responses((status = 200, description = "each row's outcome", body = Object), (status = 401), (status = 403), (status = 422)))]
async fn post_records(
    State(state): State<Shared>,
    caller: Caller,
    Json(batch): Json<RecordBatch>,
) -> Result<Json<Value>, ApiError> {
    let account = caller.require()?.clone();
    let provider = match (account.role.as_str(), &account.provider, &batch.provider) {
        ("officer", Some(own), None) => own.clone(),
        ("officer", Some(own), Some(p)) if p == own => own.clone(),
        ("officer", _, _) => {
            return Err(ApiError::forbidden("只能以本部门名义报送 / officers push for their own department only"));
        }
        ("admin", _, Some(p)) => p.clone(),
        ("admin", _, None) => {
            return Err(ApiError::unprocessable(
                "provider_required",
                "管理员报送须指明 provider / provider is required",
            ));
        }
        _ => return Err(ApiError::forbidden("无权报送 / not allowed")),
    };
    if batch.rows.is_empty() || batch.rows.len() > MAX_BATCH_ROWS {
        return Err(ApiError::unprocessable(
            "batch_size",
            format!("每批 1–{MAX_BATCH_ROWS} 行 / 1–{MAX_BATCH_ROWS} rows per batch"),
        ));
    }
    let rows: Vec<BTreeMap<String, String>> =
        batch.rows.iter().map(|r| r.iter().filter_map(|(k, v)| Some((k.clone(), as_text(v)?))).collect()).collect();
    let item = batch.item.clone();
    let result = blocking(&state, move |s| {
        let r = xinyong_app::intake::ingest_rows(&mut s.lock(), &item, &provider, "api", &rows)?;
        s.reindex(&r.subjects_touched).map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(r)
    })
    .await?;
    Ok(Json(serde_json::to_value(result).map_err(|e| ApiError::internal(e.to_string()))?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct QuarantineQuery {
    item: Option<String>,
    /// `open` (default), `resolved` or `all`.
    status: Option<String>,
    #[serde(default)]
    after: i64,
    limit: Option<u32>,
}

/// Rows refused at intake: an officer sees their department's, an administrator all.
#[utoipa::path(get, path = "/api/v1/quarantine", params(QuarantineQuery), security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 401)))]
async fn list_quarantine(
    State(state): State<Shared>,
    caller: Caller,
    Query(q): Query<QuarantineQuery>,
) -> Result<Json<Value>, ApiError> {
    let account = caller.require()?.clone();
    let provider = if account.role == "admin" { None } else { Some(account.provider.clone().unwrap_or_default()) };
    let status = match q.status.as_deref() {
        None | Some("open") => Some("open".to_string()),
        Some("all") => None,
        Some(s) => Some(s.to_string()),
    };
    let filter =
        QuarantineFilter { provider, item: q.item, status, after_id: q.after, limit: q.limit.unwrap_or(100).min(1000) };
    let rows = blocking(&state, move |s| Ok(s.lock().store.quarantine(&filter)?)).await?;
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
    let account = caller.require()?.clone();
    let set: Vec<(String, String)> = body.set.into_iter().collect();
    let out = blocking(&state, move |s| {
        let (outcome, entry) = s.resubmit_as(&account, id, &set)?;
        Ok(json!({ "outcome": outcome, "entry": entry }))
    })
    .await?;
    Ok(Json(out))
}

/// The latest signed tree head and the key that verifies it.
#[utoipa::path(get, path = "/api/v1/ledger/head", responses((status = 200, body = Object)))]
async fn ledger_head(State(state): State<Shared>, _caller: Caller) -> Result<Json<Value>, ApiError> {
    let v = blocking(&state, |s| {
        let app = s.lock();
        Ok(json!({ "head": app.store.latest_head()?, "verifier_key": app.verifier().to_text() }))
    })
    .await?;
    Ok(Json(v))
}

/// Inclusion proof of event `index` in the latest signed tree (RFC 6962).
#[utoipa::path(get, path = "/api/v1/ledger/proof/{index}", params(("index" = u64, Path)), responses((status = 200, body = Object), (status = 422)))]
async fn ledger_proof(
    State(state): State<Shared>,
    caller: Caller,
    Path(index): Path<u64>,
) -> Result<Json<Value>, ApiError> {
    let v = blocking(&state, move |s| Ok(xinyong_app::ledger::proof(&s.lock(), index)?)).await?;
    let mut v = serde_json::to_value(v).map_err(|e| ApiError::internal(e.to_string()))?;
    if caller.account().is_none() {
        // the public gets the proof, not the event content (which may hold non-public data)
        if let Some(o) = v.as_object_mut() {
            o.remove("event");
        }
    }
    Ok(Json(v))
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
    let v = blocking(&state, move |s| Ok(xinyong_app::ledger::consistency(&s.lock(), q.from, q.to)?)).await?;
    Ok(Json(serde_json::to_value(v).map_err(|e| ApiError::internal(e.to_string()))?))
}

/// The catalog: what is collected, its fields and disclosure level.
#[utoipa::path(get, path = "/api/v1/catalog", responses((status = 200, body = Object)))]
async fn catalog(State(state): State<Shared>) -> Result<Json<Value>, ApiError> {
    let items: Vec<xinyong_core::Item> = state.lock().catalog.items().cloned().collect();
    Ok(Json(json!({ "items": items })))
}
