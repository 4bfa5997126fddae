//! Lists, the measures list and checks before acting (逢办必查) in the JSON API.
//!
//! The check path reads only the in-memory [`xinyong_app::checks::CheckIndex`]; the
//! answered check is written by the group-commit [`crate::checklog`] writer, and the
//! response leaves only once that write is durable.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use time::Date;
use utoipa::{IntoParams, ToSchema};
use xinyong_app::checks::CheckAnswer;
use xinyong_app::listings::Actor;
use xinyong_core::codes::mask_id;
use xinyong_core::listing::{Decision, Listing, Notice, Removal, RemovalKind, ResponsiblePerson};
use xinyong_core::lists::ListRules;
use xinyong_core::record::date_string;
use xinyong_store::{Account, CheckRow, Feedback, ListingFilter, NotApplied};

use crate::api::{parse_as_of, parse_code};
use crate::auth::Caller;
use crate::{ApiError, AppState, Shared, blocking};

/// Most codes in one batch check (a bidder list).
pub const MAX_BATCH_CODES: usize = 1000;

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

/// An officer or administrator acting for a department: the officer's own, or the one an
/// administrator names.
pub(crate) fn department_of(account: &Account, stated: Option<&str>) -> Result<String, ApiError> {
    let stated = stated.map(str::trim).filter(|s| !s.is_empty());
    match account.role.as_str() {
        "officer" => {
            let own = account.provider.clone().unwrap_or_default();
            match stated {
                Some(d) if d != own => {
                    Err(ApiError::forbidden(format!("只能以本部门（{own}）名义办理 / you act for {own} only, not {d}")))
                }
                _ => Ok(own),
            }
        }
        "admin" => stated.map(str::to_string).ok_or_else(|| {
            ApiError::unprocessable("department_required", "请注明部门 department / state the department")
        }),
        _ => Err(ApiError::forbidden("仅限部门用户和信用中心 / departments and the credit centre only")),
    }
}

fn parse_date_field(name: &str, s: &str) -> Result<Date, ApiError> {
    xinyong_core::record::parse_date(s).ok_or_else(|| {
        ApiError::unprocessable(
            "invalid_date",
            format!("{name} “{s}” 不是有效日期 / {name} is not a date (YYYY-MM-DD)"),
        )
    })
}

fn opt_date(name: &str, s: Option<&str>) -> Result<Option<Date>, ApiError> {
    s.filter(|s| !s.is_empty()).map(|s| parse_date_field(name, s)).transpose()
}

fn known_matter(matter: &str) -> Result<(), ApiError> {
    let rules = ListRules::bundled();
    if rules.has_matter(matter) {
        return Ok(());
    }
    let known: Vec<&str> = rules.matters().into_iter().collect();
    Err(ApiError::unprocessable(
        "unknown_matter",
        format!("未知办理事项“{matter}”/ unknown matter {matter:?}; known: {}", known.join(", ")),
    ))
}

// ---- checks ---------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
pub struct CheckRequest {
    /// USCC or resident ID.
    code: String,
    /// Matter code (办理事项), e.g. `government_procurement`.
    matter: String,
    /// The checking department; officers may omit it (their own).
    department: Option<String>,
    /// Why (e.g. the procurement project): recorded and shown to the subject.
    purpose: String,
    /// Check as of this day (YYYY-MM-DD); default today (Asia/Shanghai).
    as_of: Option<String>,
    /// Attach the inclusion proof of every list entry.
    #[serde(default)]
    proof: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchCheckRequest {
    codes: Vec<String>,
    matter: String,
    department: Option<String>,
    purpose: String,
    as_of: Option<String>,
}

pub(crate) struct CheckContext {
    account_id: i64,
    department: String,
    matter: String,
    purpose: String,
    as_of: Date,
}

fn check_context(
    caller: &Caller,
    department: Option<&str>,
    matter: &str,
    purpose: &str,
    as_of: Option<&str>,
) -> Result<CheckContext, ApiError> {
    let account = caller.require()?;
    let department = department_of(account, department)?;
    known_matter(matter)?;
    if purpose.trim().is_empty() {
        return Err(ApiError::unprocessable("purpose_required", "请说明核查事由 purpose / state the purpose"));
    }
    Ok(CheckContext {
        account_id: account.id,
        department,
        matter: matter.to_string(),
        purpose: purpose.trim().to_string(),
        as_of: parse_as_of(as_of)?,
    })
}

/// Time-ordered (milliseconds, then 64 random bits): ids sort by answer time, so the
/// check log's id index grows at its right edge, and stay unguessable.
fn new_check_id(at_ms: i64) -> String {
    use rand::RngCore;
    format!("chk_{:011x}{:016x}", at_ms.max(0), rand::thread_rng().next_u64())
}

fn check_row(ctx: &CheckContext, code: &str, answer: &CheckAnswer) -> CheckRow {
    let at_ms = xinyong_app::now_ms();
    CheckRow {
        id: new_check_id(at_ms),
        at_ms,
        account_id: ctx.account_id,
        department: ctx.department.clone(),
        matter: ctx.matter.clone(),
        purpose: ctx.purpose.clone(),
        subject_code: code.to_string(),
        as_of: date_string(ctx.as_of),
        verdict: answer.verdict.as_str().to_string(),
        measures: answer.measures.iter().map(|m| m.id.clone()).collect(),
        listings: answer.lists.iter().map(|l| l.id).collect(),
        ledger_size: answer.ledger_head.as_ref().map_or(0, |h| h.head.size),
        feedback: None,
    }
}

fn answer_json(row: &CheckRow, answer: &CheckAnswer) -> Value {
    json!({
        "check_id": row.id,
        "as_of": row.as_of,
        "matter": row.matter,
        "department": row.department,
        "purpose": row.purpose,
        "subject": answer.subject,
        "verdict": answer.verdict,
        "lists": answer.lists,
        "measures": answer.measures,
        "ledger_head": answer.ledger_head,
    })
}

/// Check an entity before acting: the measures that apply to the matter, each with its
/// legal basis, and the verdict (the strongest effect). Needs a department's token.
#[utoipa::path(post, path = "/api/v1/checks", request_body = CheckRequest, security(("bearer" = [])),
    responses((status = 200, description = "check_id, subject|null, verdict, lists, measures, ledger_head", body = Object),
              (status = 401), (status = 403), (status = 422, description = "invalid code (the failed rule) or unknown matter")))]
async fn post_check(
    State(state): State<Shared>,
    caller: Caller,
    Json(req): Json<CheckRequest>,
) -> Result<Json<Value>, ApiError> {
    let ctx = check_context(&caller, req.department.as_deref(), &req.matter, &req.purpose, req.as_of.as_deref())?;
    let code = parse_code(&req.code)?;
    let answer = state.checks.check(&code, &ctx.matter, ctx.as_of);
    let row = check_row(&ctx, code.key(), &answer);
    let mut body = answer_json(&row, &answer);
    if req.proof && !answer.lists.is_empty() {
        let indexes: Vec<u64> = answer.lists.iter().map(|l| l.ledger_index).collect();
        let proofs = blocking(&state, move |s| {
            let app = s.lock();
            indexes.iter().map(|i| Ok(xinyong_app::ledger::proof(&app, *i)?)).collect::<Result<Vec<_>, ApiError>>()
        })
        .await?;
        if let Some(lists) = body.get_mut("lists").and_then(Value::as_array_mut) {
            for (l, p) in lists.iter_mut().zip(proofs) {
                let mut p = serde_json::to_value(p).map_err(|e| ApiError::internal(e.to_string()))?;
                if let Some(o) = p.as_object_mut() {
                    o.remove("event");
                }
                l["proof"] = p;
            }
        }
    }
    state.check_log(&state).record(vec![row]).await?;
    Ok(Json(body))
}

/// Check a list of codes at once (a bidder list). Each code gets its own check id, or
/// the error of its code.
#[utoipa::path(post, path = "/api/v1/checks/batch", request_body = BatchCheckRequest, security(("bearer" = [])),
    responses((status = 200, description = "results in input order", body = Object), (status = 401), (status = 403), (status = 422)))]
async fn post_check_batch(
    State(state): State<Shared>,
    caller: Caller,
    Json(req): Json<BatchCheckRequest>,
) -> Result<Json<Value>, ApiError> {
    let ctx = check_context(&caller, req.department.as_deref(), &req.matter, &req.purpose, req.as_of.as_deref())?;
    if req.codes.is_empty() || req.codes.len() > MAX_BATCH_CODES {
        return Err(ApiError::unprocessable(
            "batch_size",
            format!("每批 1–{MAX_BATCH_CODES} 个代码 / 1–{MAX_BATCH_CODES} codes per batch"),
        ));
    }
    let (results, rows) = batch_answers(&state, &ctx, &req.codes);
    state.check_log(&state).record(rows).await?;
    Ok(Json(json!({ "results": results })))
}

/// Answers for each code, in order: an answer (and the row to log) or the code's error.
pub(crate) fn batch_answers(state: &AppState, ctx: &CheckContext, codes: &[String]) -> (Vec<Value>, Vec<CheckRow>) {
    let mut results = Vec::with_capacity(codes.len());
    let mut rows = Vec::with_capacity(codes.len());
    for (i, raw) in codes.iter().enumerate() {
        match parse_code(raw) {
            Err(e) => results.push(json!({"row": i + 1, "code": raw, "error": {"code": e.code, "message": e.message}})),
            Ok(code) => {
                let answer = state.checks.check(&code, &ctx.matter, ctx.as_of);
                let row = check_row(ctx, code.key(), &answer);
                let mut v = answer_json(&row, &answer);
                v["row"] = json!(i + 1);
                v["code"] = json!(code.key());
                results.push(v);
                rows.push(row);
            }
        }
    }
    (results, rows)
}

/// For the portal's check form and CSV upload (an administrator names the department).
pub(crate) fn portal_check_context(
    account: &Account,
    department: Option<&str>,
    matter: &str,
    purpose: &str,
    as_of: Option<&str>,
) -> Result<CheckContext, ApiError> {
    let caller = Caller::Account { account: account.clone(), csrf: None };
    check_context(&caller, department, matter, purpose, as_of)
}

fn may_see_check(account: &Account, row: &CheckRow) -> bool {
    account.role == "admin" || (account.role == "officer" && account.provider.as_deref() == Some(&row.department))
}

/// One check as answered, with its feedback (the checking department or administrators).
#[utoipa::path(get, path = "/api/v1/checks/{id}", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 401), (status = 403), (status = 404)))]
async fn get_check(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let account = caller.require()?.clone();
    let row = blocking(&state, move |s| Ok(s.lock().store.check_entry(&id)?)).await?;
    let row = row.ok_or_else(|| ApiError::not_found("没有该核查记录 / no such check"))?;
    if !may_see_check(&account, &row) {
        return Err(ApiError::forbidden("只能查看本部门的核查 / not your department's check"));
    }
    Ok(Json(json!({ "check": row })))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FeedbackRequest {
    /// Measure ids the department applied.
    #[serde(default)]
    applied: Vec<String>,
    /// Measures not applied, each with the reason.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    not_applied: Vec<NotApplied>,
    note: Option<String>,
}

/// Checks that the feedback accounts for every returned measure exactly once, with a
/// reason for each one not applied.
pub(crate) fn validate_feedback(
    row: &CheckRow,
    applied: &[String],
    not_applied: &[NotApplied],
) -> Result<(), ApiError> {
    let mut seen = std::collections::BTreeSet::new();
    for id in applied.iter().chain(not_applied.iter().map(|n| &n.id)) {
        if !row.measures.contains(id) {
            return Err(ApiError::unprocessable(
                "unknown_measure",
                format!("措施 {id} 不在本次核查结果中 / measure {id} was not in this check's answer"),
            ));
        }
        if !seen.insert(id.as_str()) {
            return Err(ApiError::unprocessable(
                "duplicate_measure",
                format!("措施 {id} 重复反馈 / measure {id} appears twice"),
            ));
        }
    }
    if let Some(n) = not_applied.iter().find(|n| n.reason.trim().is_empty()) {
        return Err(ApiError::unprocessable(
            "reason_required",
            format!("未采取措施 {} 须说明理由 / give the reason for not applying {}", n.id, n.id),
        ));
    }
    if let Some(missing) = row.measures.iter().find(|m| !seen.contains(m.as_str())) {
        return Err(ApiError::unprocessable(
            "measure_unaccounted",
            format!(
                "措施 {missing} 未反馈是否采取 / say whether measure {missing} was applied (applied or not_applied)"
            ),
        ));
    }
    Ok(())
}

/// What the department did after the check: every returned measure applied, or not
/// applied with the reason. Recorded once.
#[utoipa::path(post, path = "/api/v1/checks/{id}/feedback", params(("id" = String, Path)), request_body = FeedbackRequest, security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)))]
async fn post_feedback(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<FeedbackRequest>,
) -> Result<Json<Value>, ApiError> {
    let account = caller.require()?.clone();
    let row = record_feedback(&state, &account, id, req.applied, req.not_applied, req.note).await?;
    Ok(Json(json!({ "check": row })))
}

pub(crate) async fn record_feedback(
    state: &Shared,
    account: &Account,
    id: String,
    applied: Vec<String>,
    not_applied: Vec<NotApplied>,
    note: Option<String>,
) -> Result<CheckRow, ApiError> {
    let account = account.clone();
    blocking(state, move |s| {
        let mut app = s.lock();
        let row = app.store.check_entry(&id)?.ok_or_else(|| ApiError::not_found("没有该核查记录 / no such check"))?;
        if !may_see_check(&account, &row) {
            return Err(ApiError::forbidden("只能反馈本部门的核查 / not your department's check"));
        }
        validate_feedback(&row, &applied, &not_applied)?;
        let f = Feedback {
            at_ms: xinyong_app::now_ms(),
            account_id: account.id,
            applied,
            not_applied,
            note: note.filter(|n| !n.trim().is_empty()),
        };
        app.store.record_feedback(&id, &f)?;
        app.store.check_entry(&id)?.ok_or_else(|| ApiError::internal("check vanished"))
    })
    .await
}

/// Per-department figures: checks made, non-clear answers, feedback rate, measures
/// applied (administrators: every department; officers: their own).
#[utoipa::path(get, path = "/api/v1/checks/stats", security(("bearer" = [])), responses((status = 200, body = Object), (status = 401), (status = 403)))]
async fn check_stats(State(state): State<Shared>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let account = caller.require()?.clone();
    let department = match account.role.as_str() {
        "admin" => None,
        "officer" => account.provider.clone(),
        _ => return Err(ApiError::forbidden("仅限部门用户和信用中心 / departments and the credit centre only")),
    };
    let stats = blocking(&state, move |s| Ok(s.lock().store.check_stats(department.as_deref())?)).await?;
    let departments: Vec<Value> = stats
        .iter()
        .map(|d| {
            let mut v = serde_json::to_value(d).unwrap_or(Value::Null);
            let rate = if d.checks == 0 { 0.0 } else { d.with_feedback as f64 / d.checks as f64 };
            v["feedback_rate"] = json!((rate * 1000.0).round() / 1000.0);
            v
        })
        .collect();
    Ok(Json(json!({ "departments": departments })))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct LimitQuery {
    limit: Option<u32>,
}

/// Which departments checked this subject, for what and why: the subject's own account
/// or administrators.
#[utoipa::path(get, path = "/api/v1/subjects/{code}/checks", params(("code" = String, Path), LimitQuery), security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 401), (status = 403), (status = 422)))]
async fn subject_checks(
    State(state): State<Shared>,
    caller: Caller,
    Path(code): Path<String>,
    Query(q): Query<LimitQuery>,
) -> Result<Json<Value>, ApiError> {
    let account = caller.require()?.clone();
    let code = parse_code(&code)?;
    let own = account.role == "subject" && account.subject_code.as_deref() == Some(code.key());
    if !(own || account.role == "admin") {
        return Err(ApiError::forbidden("仅限主体本人和信用中心 / the subject itself and administrators only"));
    }
    let limit = q.limit.unwrap_or(100).min(1000);
    let rows = blocking(&state, move |s| Ok(s.lock().store.checks_of(code.key(), limit)?)).await?;
    let checks: Vec<Value> = rows
        .iter()
        .map(|c| {
            json!({"check_id": c.id, "at_ms": c.at_ms, "department": c.department, "matter": c.matter,
                   "purpose": c.purpose, "verdict": c.verdict, "measures": c.measures,
                   "applied": c.feedback.as_ref().map(|f| &f.applied)})
        })
        .collect();
    Ok(Json(json!({ "checks": checks })))
}

// ---- lists --------------------------------------------------------------------------

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListsQuery {
    /// List type code; default every public type.
    #[serde(rename = "type")]
    list_type: Option<String>,
    /// Page after this listing id.
    #[serde(default)]
    after: i64,
    /// At most 500 (default 100).
    limit: Option<u32>,
    as_of: Option<String>,
}

/// A listing as anyone may see it: responsible persons' IDs masked; with the exit route.
pub(crate) fn listing_view(state: &AppState, l: &Listing) -> Value {
    let rules = ListRules::bundled();
    let lt = rules.list_type(&l.list_type);
    let persons: Vec<ResponsiblePerson> =
        l.persons.iter().map(|p| ResponsiblePerson { id: p.id.as_deref().map(mask_id), ..p.clone() }).collect();
    let code_shown = match xinyong_core::SubjectCode::parse(&l.subject) {
        Ok(c) => c.display(),
        Err(_) => mask_id(&l.subject),
    };
    json!({
        "id": l.id,
        "code": code_shown,
        "name": state.checks.name_of(&l.subject),
        "type": l.list_type,
        "type_name": lt.map(|t| t.name_zh.as_str()),
        "type_name_en": lt.map(|t| t.name_en.as_str()),
        "public": lt.is_some_and(|t| t.public),
        "status": l.status,
        "department": l.provider,
        "basis": l.basis,
        "reason": l.reason,
        "notice_date": l.notice_date.map(date_string),
        "objection_until": l.objection_until.map(date_string),
        "objections": l.objections,
        "decision_date": l.decision_date.map(date_string),
        "start": l.start.map(date_string),
        "end": l.effective_end().map(date_string),
        "term_end": l.end.map(date_string),
        "early_removal_from": l.start.and_then(|s| lt.and_then(|t| t.early_removal_from(s))).map(date_string),
        "removal": l.document.get("removal"),
        "remedy": l.document.get("remedy"),
        "document": l.document,
        "persons": persons,
        "removed_date": l.removed_date.map(date_string),
        "removal_kind": l.removal_kind,
        "removal_reason": l.removal_reason,
        "ledger_index": l.decided_event.unwrap_or(l.last_event),
        "first_event": l.first_event,
        "last_event": l.last_event,
    })
}

/// Active entries of public lists (who is listed, why, until when, how to exit), paged
/// by listing id. Accounts may also read shared (non-public) list types.
#[utoipa::path(get, path = "/api/v1/lists", params(ListsQuery), responses((status = 200, body = Object), (status = 403), (status = 422)))]
async fn public_lists(
    State(state): State<Shared>,
    caller: Caller,
    Query(q): Query<ListsQuery>,
) -> Result<Json<Value>, ApiError> {
    let rules = ListRules::bundled();
    if let Some(t) = &q.list_type {
        let lt = rules.list_type(t).ok_or_else(|| {
            ApiError::unprocessable("unknown_list_type", format!("未知名单类型 / unknown list type {t:?}"))
        })?;
        if !lt.public && caller.account().is_none_or(|a| a.role == "subject") {
            return Err(ApiError::forbidden("该名单不公示 / this list is shared with departments, not published"));
        }
    }
    let as_of = parse_as_of(q.as_of.as_deref())?;
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let public_types: Vec<String> = rules.list_types().filter(|t| t.public).map(|t| t.code.clone()).collect();
    let filter = ListingFilter {
        list_type: q.list_type.clone(),
        active_on: Some(date_string(as_of)),
        after_id: q.after,
        // over-fetch when filtering to public types in memory
        limit: if q.list_type.is_some() { limit } else { limit * 2 },
        ..Default::default()
    };
    let (entries, next) = blocking(&state, move |s| {
        let app = s.lock();
        let mut filter = filter;
        let mut out = Vec::new();
        loop {
            let page = app.store.listings(&filter)?;
            let exhausted = (page.len() as u32) < filter.limit;
            for l in page {
                filter.after_id = l.id;
                if filter.list_type.is_some() || public_types.contains(&l.list_type) {
                    out.push(l);
                    if out.len() as u32 == limit {
                        return Ok((out, Some(filter.after_id)));
                    }
                }
            }
            if exhausted {
                return Ok((out, None));
            }
        }
    })
    .await?;
    let entries: Vec<Value> = entries.iter().map(|l| listing_view(&state, l)).collect();
    Ok(Json(json!({ "as_of": date_string(as_of), "entries": entries, "next_after": next })))
}

/// The list types and the measures list (措施清单) with legal bases, and the matter codes.
#[utoipa::path(get, path = "/api/v1/measures", responses((status = 200, body = Object)))]
async fn measures() -> Json<Value> {
    let rules = ListRules::bundled();
    Json(json!({
        "list_types": rules.list_types().collect::<Vec<_>>(),
        "measures": rules.measures(),
        "matters": rules.matters(),
    }))
}

// ---- the listing procedure ------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
pub struct DecisionRequest {
    decision_date: String,
    start: Option<String>,
    /// Exclusive end; default the list type's term.
    end: Option<String>,
    /// The decision document by field code: reason, basis, measures_notice, removal, remedy
    /// (and objection_reply when the subject objected).
    #[serde(default)]
    document: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ListingRequest {
    code: String,
    list_type: String,
    basis: Option<String>,
    reason: String,
    /// The day prior notice was given; omit for a direct decision (types without notice).
    notice_date: Option<String>,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    persons: Vec<ResponsiblePerson>,
    /// Decide in the same request (after notice only where no objection window applies).
    decision: Option<DecisionRequest>,
    department: Option<String>,
}

fn decision_of(d: &DecisionRequest) -> Result<Decision, ApiError> {
    Ok(Decision {
        decision_date: parse_date_field("decision_date", &d.decision_date)?,
        start: opt_date("start", d.start.as_deref())?,
        end: opt_date("end", d.end.as_deref())?,
        document: d.document.clone(),
    })
}

fn actor(department: String) -> Actor {
    Actor { department, channel: "api".into() }
}

/// Propose a listing with prior notice (告知), or decide directly where the list type
/// needs no notice. Refused with every reason (no legal basis, no notice, missing
/// document fields …).
#[utoipa::path(post, path = "/api/v1/listings", request_body = ListingRequest, security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 401), (status = 403), (status = 404), (status = 422)))]
async fn post_listing(
    State(state): State<Shared>,
    caller: Caller,
    Json(req): Json<ListingRequest>,
) -> Result<Json<Value>, ApiError> {
    let account = caller.require()?.clone();
    let department = department_of(&account, req.department.as_deref())?;
    let code = parse_code(&req.code)?;
    let notice_date = opt_date("notice_date", req.notice_date.as_deref())?;
    let decision = req.decision.as_ref().map(decision_of).transpose()?;
    let notice = Notice {
        subject: code.key().to_string(),
        list_type: req.list_type.clone(),
        provider: department.clone(),
        basis: req.basis.clone(),
        reason: req.reason.clone(),
        notice_date: notice_date.unwrap_or_else(xinyong_app::today_shanghai),
        persons: req.persons.clone(),
    };
    let listing = run_step(&state, move |app, today| {
        let actor = actor(department);
        match (notice_date, decision) {
            (Some(_), d) => {
                let (l, h) = xinyong_app::listings::notice(app, notice, &actor, today)?;
                match d {
                    None => Ok((l, h)),
                    Some(d) => xinyong_app::listings::decide(app, Ok(l.id), d, &actor, today),
                }
            }
            (None, Some(d)) => xinyong_app::listings::decide(app, Err(notice), d, &actor, today),
            (None, None) => Err(xinyong_app::AppError::Refused(vec![
                "请给出告知日期 notice_date 或列入决定 decision / give notice_date or a decision".into(),
            ])),
        }
    })
    .await?;
    Ok(Json(listing))
}

/// Runs one procedure step under the store lock and feeds the stored listing to the check
/// index (API and portal alike; call on the blocking pool).
pub(crate) fn apply_step(
    s: &AppState,
    f: impl FnOnce(&mut xinyong_app::App, Date) -> xinyong_app::Result<(Listing, xinyong_ledger::SignedHead)>,
) -> xinyong_app::Result<(Listing, xinyong_ledger::SignedHead)> {
    let today = xinyong_app::today_shanghai();
    let (l, head) = {
        let mut app = s.lock();
        f(&mut app, today)?
    };
    s.checks.apply(l.clone(), head.clone());
    Ok((l, head))
}

async fn run_step(
    state: &Shared,
    f: impl FnOnce(&mut xinyong_app::App, Date) -> xinyong_app::Result<(Listing, xinyong_ledger::SignedHead)>
    + Send
    + 'static,
) -> Result<Value, ApiError> {
    blocking(state, move |s| {
        let (l, head) = apply_step(s, f)?;
        Ok(json!({ "listing": listing_view(s, &l), "ledger_head": head }))
    })
    .await
}

/// Reads a listing and checks the caller may act on it: its department or administrators,
/// or (for an objection) the subject's own account. Returns who acts.
pub(crate) fn acting_on(s: &AppState, account: &Account, id: i64) -> Result<String, ApiError> {
    let l = s.lock().store.listing(id)?.ok_or_else(|| ApiError::not_found(format!("名单记录 {id} / listing {id}")))?;
    match account.role.as_str() {
        "admin" => Ok(l.provider),
        "officer" if account.provider.as_deref() == Some(l.provider.as_str()) => Ok(l.provider),
        "subject" if account.subject_code.as_deref() == Some(l.subject.as_str()) => {
            Ok(format!("subject:{}", l.subject))
        }
        _ => Err(ApiError::forbidden("谁列入、谁移出：只能由作出决定的部门办理 / only the listing department may act")),
    }
}

/// One listing with its whole procedure (IDs of persons masked).
#[utoipa::path(get, path = "/api/v1/listings/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 403), (status = 404)))]
async fn get_listing(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let l = blocking(&state, move |s| Ok(s.lock().store.listing(id)?)).await?;
    let l = l.ok_or_else(|| ApiError::not_found(format!("名单记录 {id} / listing {id}")))?;
    let public = ListRules::bundled().list_type(&l.list_type).is_some_and(|t| t.public)
        && matches!(
            l.status,
            xinyong_core::listing::ListingStatus::Listed | xinyong_core::listing::ListingStatus::Removed
        );
    let entitled = caller.account().is_some_and(|a| {
        matches!(a.role.as_str(), "admin" | "officer") || a.subject_code.as_deref() == Some(l.subject.as_str())
    });
    if !(public || entitled) {
        return Err(ApiError::forbidden("该名单记录不公开 / this listing is not public"));
    }
    Ok(Json(json!({ "listing": listing_view(&state, &l) })))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ObjectionRequest {
    date: String,
    text: String,
}

/// The subject's objection within the window (by the subject's account, or recorded by
/// the listing department).
#[utoipa::path(post, path = "/api/v1/listings/{id}/objection", params(("id" = i64, Path)), request_body = ObjectionRequest, security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)))]
async fn post_objection(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(req): Json<ObjectionRequest>,
) -> Result<Json<Value>, ApiError> {
    let account = caller.require()?.clone();
    let date = parse_date_field("date", &req.date)?;
    let department = blocking(&state, move |s| acting_on(s, &account, id)).await?;
    let v = run_step(&state, move |app, today| {
        xinyong_app::listings::object(app, id, date, &req.text, &actor(department), today)
    })
    .await?;
    Ok(Json(v))
}

/// The listing decision after notice and the objection window.
#[utoipa::path(post, path = "/api/v1/listings/{id}/decision", params(("id" = i64, Path)), request_body = DecisionRequest, security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)))]
async fn post_decision(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(req): Json<DecisionRequest>,
) -> Result<Json<Value>, ApiError> {
    let account = caller.require()?.clone();
    if account.role == "subject" {
        return Err(ApiError::forbidden("主体不能作出列入决定 / a subject cannot decide"));
    }
    let d = decision_of(&req)?;
    let department = blocking(&state, move |s| acting_on(s, &account, id)).await?;
    let v =
        run_step(&state, move |app, today| xinyong_app::listings::decide(app, Ok(id), d, &actor(department), today))
            .await?;
    Ok(Json(v))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RemovalRequest {
    date: String,
    /// `early_removal`, `repair`, `decision_revoked`, or `withdrawn` (a noticed listing).
    kind: String,
    reason: String,
}

/// Removal (移出) of a listed entry, or withdrawal of a noticed one, with the reason.
#[utoipa::path(post, path = "/api/v1/listings/{id}/removal", params(("id" = i64, Path)), request_body = RemovalRequest, security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)))]
async fn post_removal(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(req): Json<RemovalRequest>,
) -> Result<Json<Value>, ApiError> {
    let account = caller.require()?.clone();
    if account.role == "subject" {
        return Err(ApiError::forbidden("主体不能自行移出 / a subject cannot remove a listing"));
    }
    let kind = RemovalKind::parse(&req.kind).ok_or_else(|| {
        ApiError::unprocessable(
            "invalid_removal_kind",
            format!("移出类型“{}”无效 / kind must be early_removal, repair, decision_revoked or withdrawn", req.kind),
        )
    })?;
    let r = Removal { date: parse_date_field("date", &req.date)?, kind, reason: req.reason.clone() };
    let department = blocking(&state, move |s| acting_on(s, &account, id)).await?;
    let v = run_step(&state, move |app, today| xinyong_app::listings::remove(app, id, r, &actor(department), today))
        .await?;
    Ok(Json(v))
}
