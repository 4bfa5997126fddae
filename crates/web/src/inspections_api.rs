//! Double-random inspections (双随机、一公开) in the JSON API: plans are published whole
//! (rules, roster, population, the draw, the results) and anyone may replay a draw;
//! the plan's department commits, draws and records results. Each handler extracts,
//! calls one use case of `xinyong_app` and renders.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use xinyong_app::inspections::{Plan, PlanRequest, PlanSummary, ReplayReport, ResultRequest};

use crate::auth::Caller;
use crate::{ApiError, Shared, blocking};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/v1/inspections", get(list_plans).post(create_plan))
        .route("/api/v1/inspections/{id}", get(get_plan))
        .route("/api/v1/inspections/{id}/draw", post(draw_plan))
        .route("/api/v1/inspections/{id}/results", post(record_result))
        .route("/api/v1/inspections/{id}/replay", get(replay_plan))
}

/// Every inspection plan, newest first (public: 一公开).
#[utoipa::path(get, path = "/api/v1/inspections", responses((status = 200, body = Vec<PlanSummary>), (status = 401), (status = 429)))]
async fn list_plans(State(state): State<Shared>, _caller: Caller) -> Result<Json<Vec<PlanSummary>>, ApiError> {
    Ok(Json(blocking(&state, |app| app.plans()).await?))
}

/// Commit a plan: the population (division, industry, the model's coverage, each with
/// its grade) and the roster are hashed into an `inspection.planned` ledger event.
#[utoipa::path(post, path = "/api/v1/inspections", request_body = PlanRequest, security(("bearer" = [])),
    responses((status = 200, body = Plan), (status = 401), (status = 403),
              (status = 422, description = "fewer than two inspectors, an unknown model or grade, a bad code")))]
async fn create_plan(
    State(state): State<Shared>,
    caller: Caller,
    Json(req): Json<PlanRequest>,
) -> Result<Json<Plan>, ApiError> {
    Ok(Json(blocking(&state, move |app| app.create_plan(&caller, &req, "api")).await?))
}

/// A plan as published: rules, roster, population with grades, the draw with the signed
/// head it was seeded from, the results, and the platform's verification key.
#[utoipa::path(get, path = "/api/v1/inspections/{id}", params(("id" = String, Path)),
    responses((status = 200, body = Plan), (status = 401), (status = 404), (status = 429)))]
async fn get_plan(
    State(state): State<Shared>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Plan>, ApiError> {
    Ok(Json(blocking(&state, move |app| app.plan(&id)).await?))
}

/// Draw the plan (once), seeded from the latest signed ledger head.
#[utoipa::path(post, path = "/api/v1/inspections/{id}/draw", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Plan), (status = 401), (status = 403), (status = 404),
              (status = 409, description = "the plan moved meanwhile"), (status = 422, description = "drawn already")))]
async fn draw_plan(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Plan>, ApiError> {
    Ok(Json(blocking(&state, move |app| app.draw_plan(&caller, &id, "api")).await?))
}

/// Record a drawn target's result (检查结果): an `admin_inspection` record of the plan.
#[utoipa::path(post, path = "/api/v1/inspections/{id}/results", params(("id" = String, Path)), request_body = ResultRequest,
    security(("bearer" = [])),
    responses((status = 200, body = Plan), (status = 401), (status = 403), (status = 404), (status = 409),
              (status = 422, description = "not drawn, not a target, or a result the catalog does not know")))]
async fn record_result(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<ResultRequest>,
) -> Result<Json<Plan>, ApiError> {
    Ok(Json(blocking(&state, move |app| app.record_plan_result(&caller, &id, &req, "api")).await?))
}

/// Replay the draw from the published plan and the ledger: do the commitments, the
/// head and the recomputed draw agree with what was published?
#[utoipa::path(get, path = "/api/v1/inspections/{id}/replay", params(("id" = String, Path)),
    responses((status = 200, body = ReplayReport), (status = 401), (status = 404), (status = 429)))]
async fn replay_plan(
    State(state): State<Shared>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ReplayReport>, ApiError> {
    Ok(Json(blocking(&state, move |app| app.replay_plan(&id)).await?))
}
