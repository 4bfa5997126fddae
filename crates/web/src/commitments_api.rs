//! Credit commitments (信用承诺) in the JSON API: the matters list, signing, a
//! department's queue and its record of fulfilment or breach, a subject's
//! commitments, and voluntary registration (自愿注册) with its verification. Each
//! handler extracts, calls one use case of `xinyong_app` and renders.

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::IntoParams;
use xinyong_app::commitments::{CommitmentView, DepartmentCommitments, SignRequest, StepRequest, SubjectCommitments};
use xinyong_app::registrations::{RegistrationRequest, RegistrationView};
use xinyong_core::commitment::matters::Matters;

use crate::auth::Caller;
use crate::{ApiError, Shared, blocking};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/v1/commitments/matters", get(commitment_matters))
        .route("/api/v1/commitments", get(department_commitments).post(sign_commitment))
        .route("/api/v1/commitments/{id}/fulfilment", post(fulfil_commitment))
        .route("/api/v1/commitments/{id}/breach", post(breach_commitment))
        .route("/api/v1/subjects/{code}/commitments", get(subject_commitments))
        .route("/api/v1/registrations", post(register_information))
        .route("/api/v1/registrations/{id}/verification", post(verify_registration))
        .route("/api/v1/registrations/{id}/refutation", post(refute_registration))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct QueueQuery {
    /// The accepting department (the centre names one; an officer's is its own).
    department: Option<String>,
    /// `pending` (still to record), `fulfilled` or `breached`; default every state.
    state: Option<String>,
    /// The last record id of the previous page.
    #[param(minimum = 0)]
    after: Option<i64>,
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// A department's commitments (its queue), in record order, each with where it stands
/// on the day.
#[utoipa::path(get, path = "/api/v1/commitments", params(QueueQuery), security(("bearer" = [])),
    responses((status = 200, body = DepartmentCommitments), (status = 401), (status = 403),
              (status = 422, description = "an unknown state, or limit out of bounds")))]
async fn department_commitments(
    State(state): State<Shared>,
    caller: Caller,
    Query(q): Query<QueueQuery>,
) -> Result<Json<DepartmentCommitments>, ApiError> {
    let limit = xinyong_app::page_size(q.limit, 100, 500)?;
    let after = q.after.unwrap_or(0).max(0);
    Ok(Json(
        blocking(&state, move |app| {
            app.department_commitments(&caller, q.department.as_deref(), q.state.as_deref(), after, limit)
        })
        .await?,
    ))
}

/// Register positive information (自愿注册) with its truthfulness commitment: the
/// entity's own account, or an officer of the accepting department for a paper
/// registration. Shown as self-declared until verified.
#[utoipa::path(post, path = "/api/v1/registrations", request_body = RegistrationRequest, security(("bearer" = [])),
    responses((status = 200, description = "registered, self-declared", body = RegistrationView),
              (status = 401), (status = 403), (status = 409),
              (status = 422, description = "a field is invalid (named in the error)")))]
async fn register_information(
    State(state): State<Shared>,
    caller: Caller,
    Json(req): Json<RegistrationRequest>,
) -> Result<Json<RegistrationView>, ApiError> {
    Ok(Json(blocking(&state, move |app| app.register_information(&caller, &req, "api")).await?))
}

/// The accepting department verifies a registration (已核实), saying how (`text`).
#[utoipa::path(post, path = "/api/v1/registrations/{id}/verification", params(("id" = i64, Path, description = "the registration's record id")),
    request_body = StepRequest, security(("bearer" = [])),
    responses((status = 200, body = RegistrationView), (status = 401), (status = 403), (status = 404),
              (status = 409, description = "another step was recorded meanwhile"), (status = 422)))]
async fn verify_registration(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(req): Json<StepRequest>,
) -> Result<Json<RegistrationView>, ApiError> {
    Ok(Json(blocking(&state, move |app| app.verify_registration(&caller, id, &req, "api")).await?))
}

/// The accepting department finds a registration false (经核实不实), saying what
/// (`text`): its truthfulness commitment is broken (a breach record follows) and the
/// registration is revoked.
#[utoipa::path(post, path = "/api/v1/registrations/{id}/refutation", params(("id" = i64, Path, description = "the registration's record id")),
    request_body = StepRequest, security(("bearer" = [])),
    responses((status = 200, body = RegistrationView), (status = 401), (status = 403), (status = 404),
              (status = 409, description = "another step was recorded meanwhile"), (status = 422)))]
async fn refute_registration(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(req): Json<StepRequest>,
) -> Result<Json<RegistrationView>, ApiError> {
    Ok(Json(blocking(&state, move |app| app.refute_registration(&caller, id, &req, "api")).await?))
}

/// The matters a credit commitment may be used for (告知承诺事项清单): department, kind,
/// conditions, the text signed, the term in working days and who is excluded on what
/// basis.
#[utoipa::path(get, path = "/api/v1/commitments/matters",
    responses((status = 200, body = Matters), (status = 401), (status = 429)))]
async fn commitment_matters(State(state): State<Shared>, _caller: Caller) -> Result<Json<Matters>, ApiError> {
    Ok(Json(state.app.commitment_matters()?.clone()))
}

/// Sign a commitment: the entity's own account (dated today), or an officer of the
/// accepting department recording a paper signature (`signed_on`, `number`). Refused
/// (`commitment_excluded`) with the reason and basis when the matter's rule excludes
/// the subject.
#[utoipa::path(post, path = "/api/v1/commitments", request_body = SignRequest, security(("bearer" = [])),
    responses((status = 200, description = "the commitment taken on, with its due date", body = CommitmentView),
              (status = 401), (status = 403), (status = 409, description = "the paper's number is recorded already"),
              (status = 422, description = "unknown matter, excluded subject, a date past the processing deadline")))]
async fn sign_commitment(
    State(state): State<Shared>,
    caller: Caller,
    Json(req): Json<SignRequest>,
) -> Result<Json<CommitmentView>, ApiError> {
    Ok(Json(blocking(&state, move |app| app.sign_commitment(&caller, &req)).await?))
}

/// The accepting department records that the commitment was kept, with the evidence
/// (`text`). Refused once it ended (the clock included) and for a day after the due
/// date (`commitment.late`).
#[utoipa::path(post, path = "/api/v1/commitments/{id}/fulfilment", params(("id" = i64, Path, description = "the commitment's record id")),
    request_body = StepRequest, security(("bearer" = [])),
    responses((status = 200, body = CommitmentView), (status = 401), (status = 403), (status = 404),
              (status = 409, description = "another step was recorded meanwhile"), (status = 422)))]
async fn fulfil_commitment(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(req): Json<StepRequest>,
) -> Result<Json<CommitmentView>, ApiError> {
    Ok(Json(blocking(&state, move |app| app.fulfil_commitment(&caller, id, &req, "api")).await?))
}

/// The accepting department records that the commitment was broken, with what was not
/// kept (`text`); the breach becomes a `commitment_breach` record before the answer.
#[utoipa::path(post, path = "/api/v1/commitments/{id}/breach", params(("id" = i64, Path, description = "the commitment's record id")),
    request_body = StepRequest, security(("bearer" = [])),
    responses((status = 200, body = CommitmentView), (status = 401), (status = 403), (status = 404),
              (status = 409, description = "another step was recorded meanwhile"), (status = 422)))]
async fn breach_commitment(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(req): Json<StepRequest>,
) -> Result<Json<CommitmentView>, ApiError> {
    Ok(Json(blocking(&state, move |app| app.breach_commitment(&caller, id, &req, "api")).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CommitmentsQuery {
    /// The day asked about (YYYY-MM-DD); default today. A past day needs an account.
    as_of: Option<String>,
    /// Why an account reads non-public data (logged).
    purpose: Option<String>,
}

/// A subject's commitments as the caller may see their records (the catalog's
/// disclosure), each with its state on the day, and the fulfilment rate.
#[utoipa::path(get, path = "/api/v1/subjects/{code}/commitments", params(("code" = String, Path), CommitmentsQuery),
    responses((status = 200, body = SubjectCommitments), (status = 400, description = "as_of is not a date"),
              (status = 401), (status = 403), (status = 404), (status = 422), (status = 429), (status = 503)))]
async fn subject_commitments(
    State(state): State<Shared>,
    caller: Caller,
    Path(code): Path<String>,
    Query(q): Query<CommitmentsQuery>,
) -> Result<Json<SubjectCommitments>, ApiError> {
    let code = xinyong_app::parse_code(&code)?;
    let as_of = xinyong_app::day_or_today(q.as_of.as_deref())?;
    Ok(Json(blocking(&state, move |app| app.commitments_of(&caller, &code, as_of, q.purpose)).await?))
}
