//! Lists, the measures list, listings and checks before acting (逢办必查) in the JSON
//! API: each handler extracts, calls one use case of `xinyong_app` and renders.

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::IntoParams;
use xinyong_app::checks::{
    BatchCheckRequest, BatchCheckResult, CheckEntry, CheckRequest, CheckResult, CheckStats, ChecksOfSubject,
    FeedbackRequest,
};
use xinyong_app::listings::{
    DecisionRequest, ListingAnswer, ListingRequest, ListsPage, ListsQuery, MeasuresAnswer, ObjectionRequest,
    RemovalRequest, StepAnswer,
};

use crate::auth::Caller;
use crate::{ApiError, Shared, blocking};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/v1/checks", post(post_check))
        .route("/api/v1/checks/batch", post(post_check_batch))
        .route("/api/v1/checks/stats", get(check_stats))
        .route("/api/v1/checks/{id}", get(get_check))
        .route("/api/v1/checks/{id}/feedback", post(post_feedback))
        .route("/api/v1/lists", get(public_lists))
        .route("/api/v1/measures", get(measures))
        .route("/api/v1/listings", post(post_listing))
        .route("/api/v1/listings/{id}", get(get_listing))
        .route("/api/v1/listings/{id}/objection", post(post_objection))
        .route("/api/v1/listings/{id}/decision", post(post_decision))
        .route("/api/v1/listings/{id}/removal", post(post_removal))
        .route("/api/v1/subjects/{code}/checks", get(subject_checks))
}

// ---- checks ---------------------------------------------------------------------

/// Check an entity before acting: the measures that apply to the matter, each with its
/// legal basis, and the verdict (the strongest effect). Needs a department's token.
#[utoipa::path(post, path = "/api/v1/checks", request_body = CheckRequest, security(("bearer" = [])),
    responses((status = 200, description = "check_id, subject|null, verdict, lists, measures, ledger_head", body = CheckResult),
              (status = 400, description = "as_of is not a date"), (status = 401), (status = 403),
              (status = 422, description = "invalid code (the failed rule) or unknown matter"), (status = 503)))]
async fn post_check(
    State(state): State<Shared>,
    caller: Caller,
    Json(req): Json<CheckRequest>,
) -> Result<Json<CheckResult>, ApiError> {
    Ok(Json(state.app.check(&caller, req).await?))
}

/// Check a list of codes at once (a bidder list). Each code gets its own check id, or
/// the error of its code.
#[utoipa::path(post, path = "/api/v1/checks/batch", request_body = BatchCheckRequest, security(("bearer" = [])),
    responses((status = 200, description = "results in input order", body = BatchCheckResult),
              (status = 400, description = "as_of is not a date"), (status = 401), (status = 403), (status = 422), (status = 503)))]
async fn post_check_batch(
    State(state): State<Shared>,
    caller: Caller,
    Json(req): Json<BatchCheckRequest>,
) -> Result<Json<BatchCheckResult>, ApiError> {
    let results = state.app.check_batch(&caller, req).await?;
    Ok(Json(BatchCheckResult { results }))
}

/// One check as answered, with its feedback (the checking department or administrators).
#[utoipa::path(get, path = "/api/v1/checks/{id}", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = CheckEntry), (status = 401), (status = 403), (status = 404)))]
async fn get_check(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<CheckEntry>, ApiError> {
    let check = blocking(&state, move |app| app.check_entry(&caller, &id)).await?;
    Ok(Json(CheckEntry { check }))
}

/// What the department did after the check: every returned measure applied, or not
/// applied with the reason. Recorded once.
#[utoipa::path(post, path = "/api/v1/checks/{id}/feedback", params(("id" = String, Path)), request_body = FeedbackRequest, security(("bearer" = [])),
    responses((status = 200, body = CheckEntry), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)))]
async fn post_feedback(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<FeedbackRequest>,
) -> Result<Json<CheckEntry>, ApiError> {
    let check = blocking(&state, move |app| app.check_feedback(&caller, &id, req)).await?;
    Ok(Json(CheckEntry { check }))
}

/// Per-department figures: checks made, non-clear answers, feedback rate, measures
/// applied (administrators: every department; officers: their own).
#[utoipa::path(get, path = "/api/v1/checks/stats", security(("bearer" = [])), responses((status = 200, body = CheckStats), (status = 401), (status = 403)))]
async fn check_stats(State(state): State<Shared>, caller: Caller) -> Result<Json<CheckStats>, ApiError> {
    let departments = blocking(&state, move |app| app.check_stats(&caller)).await?;
    Ok(Json(CheckStats { departments }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LimitQuery {
    /// 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// Which departments checked this subject, for what and why: the subject's own account
/// or administrators.
#[utoipa::path(get, path = "/api/v1/subjects/{code}/checks", params(("code" = String, Path), LimitQuery), security(("bearer" = [])),
    responses((status = 200, body = ChecksOfSubject), (status = 401), (status = 403), (status = 422)))]
async fn subject_checks(
    State(state): State<Shared>,
    caller: Caller,
    Path(code): Path<String>,
    Query(q): Query<LimitQuery>,
) -> Result<Json<ChecksOfSubject>, ApiError> {
    let limit = xinyong_app::page_size(q.limit, 100, 1000)?;
    let checks = blocking(&state, move |app| app.checks_of_subject(&caller, &code, limit)).await?;
    Ok(Json(ChecksOfSubject { checks }))
}

// ---- lists --------------------------------------------------------------------------

/// Active entries of public lists (who is listed, why, until when, how to exit), paged
/// by listing id. Accounts may also read shared (non-public) list types.
#[utoipa::path(get, path = "/api/v1/lists", params(ListsQuery),
    responses((status = 200, body = ListsPage), (status = 400, description = "as_of is not a date"), (status = 401),
              (status = 403), (status = 422), (status = 429)))]
async fn public_lists(
    State(state): State<Shared>,
    caller: Caller,
    Query(q): Query<ListsQuery>,
) -> Result<Json<ListsPage>, ApiError> {
    Ok(Json(blocking(&state, move |app| app.lists(&caller, &q)).await?))
}

/// The list types and the measures list (措施清单) with legal bases, and the matter codes.
#[utoipa::path(get, path = "/api/v1/measures", responses((status = 200, body = MeasuresAnswer)))]
async fn measures() -> Json<MeasuresAnswer> {
    Json(xinyong_app::listings::measures())
}

// ---- the listing procedure ------------------------------------------------------------

/// Propose a listing with prior notice (告知), or decide directly where the list type
/// needs no notice. Refused with every reason (no legal basis, no notice, missing
/// document fields …).
#[utoipa::path(post, path = "/api/v1/listings", request_body = ListingRequest, security(("bearer" = [])),
    responses((status = 200, body = StepAnswer), (status = 401), (status = 403), (status = 404), (status = 422)))]
async fn post_listing(
    State(state): State<Shared>,
    caller: Caller,
    Json(req): Json<ListingRequest>,
) -> Result<Json<StepAnswer>, ApiError> {
    Ok(Json(blocking(&state, move |app| app.propose_listing(&caller, req, "api")).await?))
}

/// One listing with its whole procedure (IDs of persons masked).
#[utoipa::path(get, path = "/api/v1/listings/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = ListingAnswer), (status = 401), (status = 404), (status = 429)))]
async fn get_listing(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<ListingAnswer>, ApiError> {
    let listing = blocking(&state, move |app| app.listing(&caller, id)).await?;
    Ok(Json(ListingAnswer { listing }))
}

/// The subject's objection within the window (by the subject's account, or recorded by
/// the listing department).
#[utoipa::path(post, path = "/api/v1/listings/{id}/objection", params(("id" = i64, Path)), request_body = ObjectionRequest, security(("bearer" = [])),
    responses((status = 200, body = StepAnswer), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)))]
async fn post_objection(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(req): Json<ObjectionRequest>,
) -> Result<Json<StepAnswer>, ApiError> {
    Ok(Json(blocking(&state, move |app| app.object_to_listing(&caller, id, req, "api")).await?))
}

/// The listing decision after notice and the objection window.
#[utoipa::path(post, path = "/api/v1/listings/{id}/decision", params(("id" = i64, Path)), request_body = DecisionRequest, security(("bearer" = [])),
    responses((status = 200, body = StepAnswer), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)))]
async fn post_decision(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(req): Json<DecisionRequest>,
) -> Result<Json<StepAnswer>, ApiError> {
    Ok(Json(blocking(&state, move |app| app.decide_listing(&caller, id, req, "api")).await?))
}

/// Removal (移出) of a listed entry, or withdrawal of a noticed one, with the reason.
#[utoipa::path(post, path = "/api/v1/listings/{id}/removal", params(("id" = i64, Path)), request_body = RemovalRequest, security(("bearer" = [])),
    responses((status = 200, body = StepAnswer), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)))]
async fn post_removal(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(req): Json<RemovalRequest>,
) -> Result<Json<StepAnswer>, ApiError> {
    Ok(Json(blocking(&state, move |app| app.remove_listing(&caller, id, req, "api")).await?))
}
