//! The JSON API under `/api/v1`. Every handler is described with `utoipa::path`, and
//! `/api/v1/openapi.json` is generated from these descriptions.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use xinyong_app::accounts::{AccountList, CreatedAccount, NewAccountRequest};
use xinyong_app::intake::{BatchResult, RecordBatch};
use xinyong_app::item_records::ItemRecords;
use xinyong_app::ledger::{ConsistencyProof, HeadAnswer, InclusionProof};
use xinyong_app::quarantine::{QuarantinePage, QuarantineQuery, Resubmitted};
use xinyong_app::subjects::SearchPage;
use xinyong_app::view::{AccessLog, SubjectView};
use xinyong_core::Item;

use crate::auth::Caller;
use crate::error::{ErrorBody, ErrorDetail};
use crate::{ApiError, Shared, blocking};

#[derive(OpenApi)]
#[openapi(
    info(title = "xinyong API", version = "1", description = "公共信用信息平台 API / public credit information platform API"),
    paths(
        get_subject,
        search_subjects,
        post_records,
        list_item_records,
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
        crate::lists_api::post_removal,
        crate::cases_api::due_process,
        crate::cases_api::post_case_objection,
        crate::cases_api::post_repair,
        crate::cases_api::list_cases,
        crate::cases_api::get_case,
        crate::cases_api::follow_case,
        crate::cases_api::decide_case,
        crate::cases_api::withdraw_case,
        crate::cases_api::post_rectification,
        crate::cases_api::post_interview,
        crate::cases_api::revoke_record,
        crate::cases_api::correct_record,
        crate::cases_api::inbox,
        crate::cases_api::mark_read,
        crate::cases_api::upload_evidence,
        crate::cases_api::get_evidence,
        crate::cases_api::export_own,
        crate::quality_api::quality,
        crate::quality_api::quarantine_reasons,
        crate::quality_api::quarantine_export,
        crate::quality_api::quarantine_corrections,
        crate::commitments_api::commitment_matters,
        crate::commitments_api::sign_commitment,
        crate::commitments_api::fulfil_commitment,
        crate::commitments_api::breach_commitment,
        crate::commitments_api::subject_commitments,
        crate::commitments_api::department_commitments,
        crate::commitments_api::register_information,
        crate::commitments_api::verify_registration,
        crate::commitments_api::refute_registration,
        crate::grading_api::grading_models,
        crate::grading_api::subject_grades,
        crate::grading_api::grading_figures,
        crate::grading_api::centre_figures,
        crate::inspections_api::list_plans,
        crate::inspections_api::create_plan,
        crate::inspections_api::get_plan,
        crate::inspections_api::draw_plan,
        crate::inspections_api::record_result,
        crate::inspections_api::replay_plan,
        crate::reports_api::subject_report,
        crate::reports_api::report_domains,
        crate::reports_api::verify_report,
        crate::exchange_api::peers,
        crate::exchange_api::export_batch,
        crate::exchange_api::import_batch,
        crate::exchange_api::subscriptions,
        crate::exchange_api::subscribe,
        crate::exchange_api::feed,
        crate::exchange_api::acknowledge,
        crate::exchange_api::list_range
    ),
    components(schemas(
        // requests
        RecordBatch, Resubmission, NewAccountRequest, xinyong_app::checks::CheckRequest,
        xinyong_app::checks::BatchCheckRequest, xinyong_app::checks::FeedbackRequest,
        xinyong_app::listings::ListingRequest, xinyong_app::listings::DecisionRequest,
        xinyong_app::listings::ObjectionRequest, xinyong_app::listings::RemovalRequest,
        xinyong_app::cases::ObjectionRequest, xinyong_app::cases::RepairRequest, xinyong_app::cases::TargetRef,
        xinyong_app::cases::EvidenceCite, xinyong_app::cases::DecideRequest, xinyong_app::cases::NoticeRequest,
        xinyong_app::cases::AmendRequest, crate::cases_api::EvidenceUpload, crate::cases_api::EvidenceFile,
        xinyong_app::commitments::SignRequest, xinyong_app::commitments::StepRequest,
        xinyong_app::registrations::RegistrationRequest,
        // answers
        ErrorBody, ErrorDetail,
        xinyong_app::reports::IssuedReport, xinyong_app::reports::DomainsAnswer, xinyong_core::report::Domain,
        xinyong_app::reports::OnlineVerdict, xinyong_app::reports::Change,
        SubjectView, xinyong_app::view::RecordView, xinyong_app::view::FieldView, xinyong_app::view::RecordStatus,
        xinyong_app::view::SubjectSummary, xinyong_app::view::ItemCount,
        SearchPage, xinyong_app::subjects::Hit,
        BatchResult, xinyong_app::intake::RowResult,
        ItemRecords, xinyong_app::item_records::ItemRecord, xinyong_app::quarantine::Outcome,
        QuarantinePage, xinyong_app::quarantine::QuarantineRow, xinyong_app::quarantine::QuarantineStatus, Resubmitted,
        HeadAnswer, InclusionProof, ConsistencyProof,
        xinyong_app::ledger::schema::SignedHead, xinyong_app::ledger::schema::TreeHead,
        CatalogAnswer, Item, xinyong_core::catalog::FieldDef, xinyong_core::catalog::SubjectProjection,
        AccountList, CreatedAccount, xinyong_app::accounts::Account, AccessLog, xinyong_app::view::AccessLogEntry,
        xinyong_app::checks::CheckResult, xinyong_app::checks::SubjectBrief, xinyong_app::checks::ListHit,
        xinyong_app::checks::MeasureHit, xinyong_app::checks::BatchCheckResult, xinyong_app::checks::BatchItem,
        xinyong_app::checks::RowError, xinyong_app::checks::CheckEntry, xinyong_app::checks::CheckRow,
        xinyong_app::checks::Feedback, xinyong_app::checks::NotApplied, xinyong_app::checks::CheckStats,
        xinyong_app::checks::DepartmentFigures, xinyong_app::checks::DepartmentStats,
        xinyong_app::checks::ChecksOfSubject, xinyong_app::checks::CheckOfSubject,
        xinyong_app::listings::ListsPage, xinyong_app::listings::ListingView, xinyong_app::listings::ListingAnswer,
        xinyong_app::listings::StepAnswer, xinyong_app::listings::MeasuresAnswer,
        xinyong_app::listings::ResponsiblePerson, xinyong_core::listing::Objection,
        xinyong_core::lists::ListType, xinyong_core::lists::DocumentField, xinyong_core::lists::Measure,
        xinyong_app::cases::DueProcessInfo, xinyong_core::case::RepairCondition, xinyong_app::cases::CaseView,
        xinyong_app::cases::CaseReceipt, xinyong_app::cases::CasesPage, xinyong_core::case::Case,
        xinyong_core::case::Attachment, xinyong_core::case::ConditionState, xinyong_core::case::Target,
        crate::cases_api::AmendAnswer, crate::cases_api::InboxAnswer, xinyong_app::cases::Notification,
        crate::cases_api::MarkedRead, xinyong_app::evidence::EvidenceRef,
        xinyong_app::quality::QualityReport, xinyong_app::quality::Figures, xinyong_app::quality::RefusedReason,
        xinyong_app::quality::Timeliness, xinyong_app::quality::BatchQuality, xinyong_app::quality::ProviderQuality,
        xinyong_app::quarantine::QuarantineReasons, xinyong_app::quarantine::ReasonGroup,
        xinyong_app::quarantine_files::CorrectionResult, xinyong_app::quarantine_files::CorrectionRow,
        xinyong_app::quarantine_files::CorrectionStatus, xinyong_app::quarantine_files::SheetFormat,
        crate::quality_api::CorrectionUpload, crate::quality_api::Spreadsheet,
        xinyong_app::commitments::CommitmentView, xinyong_app::commitments::SubjectCommitments,
        xinyong_app::commitments::CommitmentSummary, xinyong_core::commitment::matters::Matters,
        xinyong_core::commitment::matters::Matter, xinyong_app::commitments::DepartmentCommitments,
        xinyong_app::registrations::RegistrationView, xinyong_app::registrations::Declaration,
        xinyong_core::commitment::Declared,
        xinyong_core::grading::Models, xinyong_core::grading::Model, xinyong_core::grading::Band,
        xinyong_core::grading::Indicator, xinyong_core::grading::Source, xinyong_core::grading::Ceiling,
        xinyong_core::grading::Population, xinyong_core::grading::Notation, xinyong_core::grading::Graded,
        xinyong_core::grading::Contribution, xinyong_app::grading::GradeView, xinyong_app::grading::SubjectGrades,
        xinyong_app::grading::GradeFigures, xinyong_app::grading::Distribution, xinyong_app::grading::BandCount,
        xinyong_app::grading::AreaFigures, xinyong_app::figures::CentreFigures, xinyong_app::figures::DepartmentRow,
        xinyong_app::inspections::PlanRequest, xinyong_app::inspections::ResultRequest, xinyong_app::inspections::Plan,
        xinyong_app::inspections::PlanSummary, xinyong_app::inspections::PlanDraw, xinyong_app::inspections::PlanResult,
        xinyong_app::inspections::ReplayReport, xinyong_core::inspection::Candidate, xinyong_core::inspection::Inspector,
        xinyong_core::inspection::DrawRules, xinyong_core::inspection::Draw, xinyong_core::inspection::Drawn,
        xinyong_core::inspection::GroupCount,
        // vocabularies
        xinyong_core::SubjectKind, xinyong_core::lists::Verdict, xinyong_core::lists::Effect,
        xinyong_core::lists::ListKind, xinyong_core::listing::ListingStatus, xinyong_core::listing::RemovalKind,
        xinyong_core::roles::AccountRole, xinyong_core::catalog::Disclosure, xinyong_core::catalog::Tier,
        xinyong_core::catalog::Nature, xinyong_core::catalog::FieldType,
        xinyong_core::publication::Publicity, xinyong_core::record::FieldError,
        xinyong_core::case::CaseKind, xinyong_core::case::CaseState, xinyong_core::case::Remedy,
        xinyong_core::evidence::MediaType,
    )),
    modifiers(&BearerAuth, &StoredVocabularies, &EdgeRejections, &ErrorAnswers)
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

/// Fields the store keeps as text but that take a fixed set of values: named by their
/// vocabulary in the document (the store's types cannot name the app's).
struct StoredVocabularies;

impl utoipa::Modify for StoredVocabularies {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{Ref, RefOr, schema::Schema};
        let Some(components) = openapi.components.as_mut() else { return };
        for (schema, field, vocabulary) in [("QuarantineRow", "status", "QuarantineStatus")] {
            if let Some(RefOr::T(Schema::Object(o))) = components.schemas.get_mut(schema)
                && let Some(p) = o.properties.get_mut(field)
            {
                *p = RefOr::Ref(Ref::from_schema_name(vocabulary));
            }
        }
    }
}

/// What the edge refuses before a handler runs, added to every operation where it can
/// happen, so that no route has to repeat it (and none can forget it): a parameter that
/// does not parse, a JSON body that is not JSON, not `application/json`, too large or
/// not of its schema; the caller extractor's rate limit for anonymous calls and its
/// CSRF check for a session's calls that change something.
struct EdgeRejections;

impl utoipa::Modify for EdgeRejections {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                (false, &mut item.get),
                (true, &mut item.post),
                (true, &mut item.put),
                (true, &mut item.delete),
                (true, &mut item.patch),
            ];
            for (changes, op) in ops.into_iter().filter_map(|(c, op)| Some((c, op.as_mut()?))) {
                let media: Vec<String> = op.request_body.iter().flat_map(|b| b.content.keys().cloned()).collect();
                let has_caller = op.responses.responses.contains_key("401");
                let r = &mut op.responses.responses;
                let params = op.parameters.as_deref().unwrap_or_default();
                if !params.is_empty() {
                    add_error(r, "400", "a path or query parameter that does not parse as its type (`bad_request`)");
                }
                if params.iter().any(bounded) {
                    add_error(r, "422", "a parameter outside its bounds (`limit`, `invalid_input`)");
                }
                for m in media {
                    if m.starts_with("application/json") {
                        add_error(r, "400", "the body is not JSON (`bad_request`)");
                        add_error(r, "413", "the body is over the limit (`too_large`)");
                        add_error(r, "415", "the body is not `application/json` (`unsupported_media_type`)");
                        add_error(r, "422", "a field of the body missing or of the wrong type (`invalid_body`)");
                    } else if m.starts_with("multipart/") {
                        add_error(r, "400", "not a multipart body (`bad_request`)");
                        add_error(r, "413", "the body is over the limit (`evidence_too_large`)");
                    }
                }
                if has_caller {
                    add_error(r, "429", "too many anonymous requests (`rate_limited`)");
                    if changes {
                        add_error(r, "403", "a session's call without its `X-CSRF-Token` header (`forbidden`)");
                    }
                }
            }
        }
    }
}

/// A parameter with bounds stricter than its type's (a page size, a tree size of at
/// least 1): a value of the type outside them is refused by the use case.
fn bounded(p: &utoipa::openapi::path::Parameter) -> bool {
    use utoipa::Number;
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::Schema;
    let Some(RefOr::T(Schema::Object(o))) = &p.schema else { return false };
    let above_zero = |n: &Number| match n {
        Number::Int(i) => *i > 0,
        Number::UInt(u) => *u > 0,
        Number::Float(f) => *f > 0.0,
    };
    o.maximum.is_some() || o.minimum.as_ref().is_some_and(above_zero)
}

/// Adds the error `status` with the reason `why`, or adds `why` to what the route
/// already says of that status.
fn add_error(
    responses: &mut std::collections::BTreeMap<String, utoipa::openapi::RefOr<utoipa::openapi::Response>>,
    status: &str,
    why: &str,
) {
    use utoipa::openapi::RefOr;
    let declared = responses.contains_key(status);
    let RefOr::T(r) = responses.entry(status.to_string()).or_insert_with(|| RefOr::T(Default::default())) else {
        return;
    };
    let said = match r.description.as_str() {
        "" if declared => error_description(status),
        d => d,
    };
    r.description = match said {
        "" => why.to_string(),
        d if d.contains(why) => d.to_string(),
        d => format!("{d}; or {why}"),
    };
}

/// Every error answer has the body `{"error": {"code", "message"}}` ([`ErrorBody`]) and a
/// description of what the status means here.
struct ErrorAnswers;

impl utoipa::Modify for ErrorAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr};
        for item in openapi.paths.paths.values_mut() {
            let ops = [&mut item.get, &mut item.post, &mut item.put, &mut item.delete, &mut item.patch];
            for op in ops.into_iter().flatten() {
                for (status, response) in op.responses.responses.iter_mut() {
                    let RefOr::T(r) = response else { continue };
                    if !status.starts_with('4') && !status.starts_with('5') {
                        continue;
                    }
                    if r.description.is_empty() {
                        r.description = error_description(status).to_string();
                    }
                    if r.content.is_empty() {
                        let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
                        r.content.insert("application/json".to_string(), content);
                    }
                }
            }
        }
    }
}

fn error_description(status: &str) -> &'static str {
    match status {
        "400" => "malformed request (`bad_request`)",
        "401" => "authentication required, or an invalid token (`unauthorized`)",
        "403" => "this caller may not do this (`forbidden`)",
        "404" => "not found (`not_found`)",
        "409" => "someone acted first (`conflict`)",
        "413" => "the request body is over the limit (`too_large`, `evidence_too_large`)",
        "415" => "the body is not `application/json` (`unsupported_media_type`)",
        "422" => "refused: the code names the rule (`invalid_code`, `refused` …)",
        "429" => "too many anonymous requests (`rate_limited`)",
        "503" => "busy: retry shortly (`overloaded`)",
        _ => "error",
    }
}

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/v1/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .route("/api/v1/subjects", get(search_subjects))
        .route("/api/v1/subjects/{code}", get(get_subject))
        .route("/api/v1/records", get(list_item_records).post(post_records))
        .route("/api/v1/quarantine", get(list_quarantine))
        .route("/api/v1/quarantine/{id}/resubmit", post(resubmit_quarantine))
        .route("/api/v1/ledger/head", get(ledger_head))
        .route("/api/v1/ledger/proof/{index}", get(ledger_proof))
        .route("/api/v1/ledger/consistency", get(ledger_consistency))
        .route("/api/v1/catalog", get(catalog))
        .route("/api/v1/accounts", get(list_accounts).post(create_account))
        .route("/api/v1/subjects/{code}/access-log", get(access_log))
}

/// Accounts (administrators only).
#[utoipa::path(get, path = "/api/v1/accounts", security(("bearer" = [])), responses((status = 200, body = AccountList), (status = 401), (status = 403)))]
async fn list_accounts(State(state): State<Shared>, caller: Caller) -> Result<Json<AccountList>, ApiError> {
    let accounts = blocking(&state, move |app| app.accounts(&caller)).await?;
    Ok(Json(AccountList { accounts }))
}

/// Create an account (administrators only); the token is shown once and stored hashed.
#[utoipa::path(post, path = "/api/v1/accounts", request_body = NewAccountRequest, security(("bearer" = [])),
    responses((status = 200, body = CreatedAccount), (status = 401), (status = 403), (status = 409), (status = 422)))]
async fn create_account(
    State(state): State<Shared>,
    caller: Caller,
    Json(req): Json<NewAccountRequest>,
) -> Result<Json<CreatedAccount>, ApiError> {
    Ok(Json(blocking(&state, move |app| app.create_account(&caller, &req)).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccessLogQuery {
    /// 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// Who read this subject's non-public data, why and when (the subject's own account and
/// administrators).
#[utoipa::path(get, path = "/api/v1/subjects/{code}/access-log", params(("code" = String, Path), AccessLogQuery), security(("bearer" = [])),
    responses((status = 200, body = AccessLog), (status = 401), (status = 403), (status = 422)))]
async fn access_log(
    State(state): State<Shared>,
    caller: Caller,
    Path(code): Path<String>,
    Query(q): Query<AccessLogQuery>,
) -> Result<Json<AccessLog>, ApiError> {
    let limit = xinyong_app::page_size(q.limit, 100, 1000)?;
    let entries = blocking(&state, move |app| app.access_log(&caller, &code, limit)).await?;
    Ok(Json(AccessLog { entries }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubjectQuery {
    /// Answer "what was public that day" (YYYY-MM-DD); default today (Asia/Shanghai).
    #[param(format = Date)]
    as_of: Option<String>,
    /// Why an account reads non-public data (logged).
    purpose: Option<String>,
}

/// A subject and its records as the caller may see them.
#[utoipa::path(get, path = "/api/v1/subjects/{code}", params(("code" = String, Path, description = "USCC or resident ID"), SubjectQuery),
    responses((status = 200, description = "subject and records (publication windows applied)", body = SubjectView),
              (status = 400, description = "as_of is not a date"), (status = 401), (status = 404, description = "unknown subject"),
              (status = 422, description = "invalid code: the failed rule"), (status = 429),
              (status = 503, description = "busy logging a read of non-public data: retry shortly")))]
async fn get_subject(
    State(state): State<Shared>,
    caller: Caller,
    Path(code): Path<String>,
    Query(q): Query<SubjectQuery>,
) -> Result<Json<SubjectView>, ApiError> {
    let code = xinyong_app::parse_code(&code)?;
    let as_of = xinyong_app::day_or_today(q.as_of.as_deref())?;
    let view = blocking(&state, move |app| app.subject(&caller, &code, as_of, q.purpose)).await?;
    Ok(Json(view.ok_or_else(|| ApiError::not_found("没有该主体 / no such subject"))?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Name, former name, pinyin initials (e.g. `bjzj`) or code prefix.
    q: String,
    /// Hits to skip; a page past the 10 000th hit is empty (with the total).
    #[serde(default)]
    #[param(value_type = u64)]
    offset: usize,
    /// 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

/// Search subjects by name, former name, pinyin initials or code prefix.
#[utoipa::path(get, path = "/api/v1/subjects", params(SearchQuery),
    responses((status = 200, description = "ranked page of subjects", body = SearchPage), (status = 401), (status = 429)))]
async fn search_subjects(
    State(state): State<Shared>,
    _caller: Caller,
    Query(q): Query<SearchQuery>,
) -> Result<Json<SearchPage>, ApiError> {
    let limit = xinyong_app::page_size(q.limit, 20, xinyong_app::subjects::MAX_HITS as u32)?;
    Ok(Json(state.app.search(&q.q, q.offset, limit as usize)?))
}

/// Intake of a batch by a department: same validation, quarantine and idempotency as `xinyong import`.
#[utoipa::path(post, path = "/api/v1/records", request_body = RecordBatch, security(("bearer" = [])),
    responses((status = 200, description = "each row's outcome", body = BatchResult), (status = 401), (status = 403), (status = 422)))]
async fn post_records(
    State(state): State<Shared>,
    caller: Caller,
    Json(batch): Json<RecordBatch>,
) -> Result<Json<BatchResult>, ApiError> {
    caller.require()?;
    Ok(Json(blocking(&state, move |app| app.ingest(&caller, &batch, "api")).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemRecordsQuery {
    /// Catalog item code, e.g. `tax_credit_rating`.
    item: String,
    /// Keep records whose field (Chinese column name) equals `value`, e.g. `纳税信用级别`.
    field: Option<String>,
    value: Option<String>,
    /// The previous page's `next_after`.
    #[serde(default)]
    after: i64,
    /// 1–500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// One item's records public today, across subjects, optionally filtered by a field
/// value: the A-level taxpayer list (银税互动) is
/// `?item=tax_credit_rating&field=纳税信用级别&value=A`.
#[utoipa::path(get, path = "/api/v1/records", params(ItemRecordsQuery),
    responses((status = 200, description = "a page of public records", body = ItemRecords), (status = 401), (status = 422), (status = 429)))]
async fn list_item_records(
    State(state): State<Shared>,
    _caller: Caller,
    Query(q): Query<ItemRecordsQuery>,
) -> Result<Json<ItemRecords>, ApiError> {
    let query = xinyong_app::item_records::ItemQuery {
        item: q.item,
        field: q.field,
        value: q.value,
        after: q.after,
        limit: xinyong_app::page_size(q.limit, 100, xinyong_app::item_records::MAX_LIMIT)?,
    };
    Ok(Json(blocking(&state, move |app| app.item_records(&query)).await?))
}

/// Rows refused at intake: an officer sees their department's, an administrator all.
#[utoipa::path(get, path = "/api/v1/quarantine", params(QuarantineQuery), security(("bearer" = [])),
    responses((status = 200, body = QuarantinePage), (status = 401)))]
async fn list_quarantine(
    State(state): State<Shared>,
    caller: Caller,
    Query(q): Query<QuarantineQuery>,
) -> Result<Json<QuarantinePage>, ApiError> {
    let entries = blocking(&state, move |app| app.quarantine(&caller, &q)).await?;
    Ok(Json(QuarantinePage { entries }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Resubmission {
    /// Corrected field values (Chinese field name → text).
    set: BTreeMap<String, String>,
}

/// Resubmit a corrected quarantined row.
#[utoipa::path(post, path = "/api/v1/quarantine/{id}/resubmit", request_body = Resubmission, params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "accepted, or still quarantined with reasons", body = Resubmitted), (status = 401), (status = 403), (status = 404),
              (status = 409, description = "as corrected, the row is the row of another entry (`conflict`)"),
              (status = 422, description = "a field the item does not have, or the entry is no longer open (`invalid_input`)")))]
async fn resubmit_quarantine(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<Resubmission>,
) -> Result<Json<Resubmitted>, ApiError> {
    caller.require()?;
    Ok(Json(blocking(&state, move |app| app.resubmit(&caller, id, &body.set)).await?))
}

/// The latest signed tree head and the key that verifies it.
#[utoipa::path(get, path = "/api/v1/ledger/head", responses((status = 200, body = HeadAnswer), (status = 401), (status = 429)))]
async fn ledger_head(State(state): State<Shared>, _caller: Caller) -> Result<Json<HeadAnswer>, ApiError> {
    Ok(Json(blocking(&state, |app| app.ledger_head()).await?))
}

/// Inclusion proof of event `index` in the latest signed tree (RFC 6962). The event
/// itself is included for accounts only.
#[utoipa::path(get, path = "/api/v1/ledger/proof/{index}", params(("index" = u64, Path)),
    responses((status = 200, body = InclusionProof), (status = 401), (status = 422), (status = 429)))]
async fn ledger_proof(
    State(state): State<Shared>,
    caller: Caller,
    Path(index): Path<u64>,
) -> Result<Json<InclusionProof>, ApiError> {
    Ok(Json(blocking(&state, move |app| app.ledger_proof(&caller, index)).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// The older tree size (at least 1: an empty tree proves nothing).
    #[param(minimum = 1)]
    from: u64,
    to: Option<u64>,
}

/// Consistency proof between two tree sizes.
#[utoipa::path(get, path = "/api/v1/ledger/consistency", params(ConsistencyQuery),
    responses((status = 200, body = ConsistencyProof), (status = 401), (status = 422), (status = 429)))]
async fn ledger_consistency(
    State(state): State<Shared>,
    _caller: Caller,
    Query(q): Query<ConsistencyQuery>,
) -> Result<Json<ConsistencyProof>, ApiError> {
    Ok(Json(blocking(&state, move |app| app.ledger_consistency(q.from, q.to)).await?))
}

/// The catalog items, as the API answers them.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogAnswer<'a> {
    pub items: Vec<&'a Item>,
}

/// The catalog: what is collected, its fields and disclosure level.
#[utoipa::path(get, path = "/api/v1/catalog", responses((status = 200, body = CatalogAnswer)))]
async fn catalog(State(state): State<Shared>) -> axum::response::Response {
    use axum::response::IntoResponse;
    // rendered while the catalog is borrowed: no copy of the items
    Json(CatalogAnswer { items: state.app.catalog().items().collect() }).into_response()
}
