//! Grades (信用分级分类) in the JSON API: the evaluation models, a subject's grades with
//! their arithmetic, and the grade distributions. Each handler extracts, calls one use
//! case of `xinyong_app` and renders.

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::IntoParams;
use xinyong_app::figures::CentreFigures;
use xinyong_app::grading::{GradeFigures, SubjectGrades};
use xinyong_core::grading::Models;

use crate::auth::Caller;
use crate::{ApiError, Shared, blocking};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/v1/grading/models", get(grading_models))
        .route("/api/v1/grading/figures", get(grading_figures))
        .route("/api/v1/subjects/{code}/grades", get(subject_grades))
        .route("/api/v1/figures", get(centre_figures))
}

/// The figures a credit centre is judged by: per department records sent, on time,
/// refused, objections upheld, repairs decided on time, checks and feedback; per
/// division and industry the grade distribution, list entries in force and inspections.
/// An officer gets its own department's row.
#[utoipa::path(get, path = "/api/v1/figures", security(("bearer" = [])),
    responses((status = 200, body = CentreFigures), (status = 401), (status = 403), (status = 429)))]
async fn centre_figures(State(state): State<Shared>, caller: Caller) -> Result<Json<CentreFigures>, ApiError> {
    Ok(Json(blocking(&state, move |app| app.centre_figures(&caller)).await?))
}

/// The evaluation models (`data/grading/`): bands, indicators with their sources,
/// weights, caps and windows, and the ceilings. Public: anyone can recompute a grade.
#[utoipa::path(get, path = "/api/v1/grading/models", responses((status = 200, body = Models), (status = 401), (status = 429)))]
async fn grading_models(State(state): State<Shared>, _caller: Caller) -> Result<Json<Models>, ApiError> {
    Ok(Json(state.app.grading_models()?.clone()))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct GradesQuery {
    /// The day graded (YYYY-MM-DD); default today.
    as_of: Option<String>,
}

/// A subject's grades by every model that covers it, each with its indicators, points,
/// the records counted, the ceilings and the arithmetic, and the ledger size it was
/// computed at: the subject itself, departments and the centre.
#[utoipa::path(get, path = "/api/v1/subjects/{code}/grades", params(("code" = String, Path), GradesQuery),
    security(("bearer" = [])),
    responses((status = 200, body = SubjectGrades), (status = 400, description = "as_of is not a date"),
              (status = 401), (status = 403), (status = 404), (status = 422), (status = 429)))]
async fn subject_grades(
    State(state): State<Shared>,
    caller: Caller,
    Path(code): Path<String>,
    Query(q): Query<GradesQuery>,
) -> Result<Json<SubjectGrades>, ApiError> {
    let code = xinyong_app::parse_code(&code)?;
    let as_of = xinyong_app::day_or_today(q.as_of.as_deref())?;
    Ok(Json(blocking(&state, move |app| app.grades_of(&caller, &code, as_of)).await?))
}

/// How many subjects each model puts in each band today (the grade book), with the
/// ledger size and how long the batch took: departments and the centre.
#[utoipa::path(get, path = "/api/v1/grading/figures", security(("bearer" = [])),
    responses((status = 200, body = GradeFigures), (status = 401), (status = 403), (status = 429)))]
async fn grading_figures(State(state): State<Shared>, caller: Caller) -> Result<Json<GradeFigures>, ApiError> {
    Ok(Json(blocking(&state, move |app| app.grade_figures(&caller)).await?))
}
