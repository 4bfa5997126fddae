//! Portal pages of due process (权益保护): objections (anyone, for what is public; the
//! entity, for its own record), credit repair applications with the conditions and the
//! commitment, the receipt with the query code, following a case without signing in,
//! the departments' queue and decisions, rectification notices and interviews, the
//! provider's correction and revocation, the inbox, and the entity's own page (`/me`).
//! Every form works without JavaScript and calls the same use cases as the API.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use xinyong_app::cases::{
    AmendRequest, CaseView, DecideRequest, EvidenceCite, NoticeRequest, ObjectionRequest, RepairRequest, TargetRef,
};
use xinyong_app::view::{RecordView, SubjectView};
use xinyong_core::case::{CaseKind, CaseState, Outcome, Remedy, Target};
use xinyong_core::record::date_string;

use super::lists::{CSRF_FAILED, Fields, Strings, entry, lines_of, staff_with_csrf, time_of, tr};
use super::{Common, Page};
use crate::auth::Caller;
use crate::cases_api::{EVIDENCE_BODY_LIMIT, Upload, multipart_of, read_limited};
use crate::i18n::{Lang, strings};
use crate::{ApiError, Shared, blocking};

pub fn routes() -> Router<Shared> {
    let upload_limit = DefaultBodyLimit::max(EVIDENCE_BODY_LIMIT);
    Router::new()
        .route("/objections/new", get(objection_form))
        .route("/objections", get(super::lists::back_to("/objections/new")).post(file_objection).layer(upload_limit))
        .route("/repairs/new", get(repair_form))
        .route("/repairs", get(super::lists::back_to("/repairs/new")).post(file_repair).layer(upload_limit))
        .route("/cases", get(queue))
        .route("/cases/follow", get(follow_form).post(follow))
        .route("/cases/{id}", get(case_page))
        .route("/cases/{id}/decision", get(back_to_case).post(decide))
        .route("/cases/{id}/withdrawal", get(back_to_case).post(withdraw))
        .route("/subjects/{code}/rectification", post(rectification))
        .route("/subjects/{code}/interview", post(interview))
        .route("/records/{id}/revocation", post(revoke))
        .route("/records/{id}/correction", get(correction_form).post(correct))
        .route("/inbox", get(inbox_page))
        .route("/inbox/{id}/read", post(mark_read))
        .route("/me", get(me))
}

async fn back_to_case(Path(id): Path<i64>) -> Redirect {
    Redirect::to(&format!("/cases/{id}"))
}

// ---- labels ---------------------------------------------------------------------------

fn kind_label(t: &Strings, kind: CaseKind) -> String {
    tr(t, &format!("case_kind_{}", kind.as_str()))
}

fn outcome_label(t: &Strings, o: Outcome) -> String {
    tr(t, &format!("outcome_{}", o.as_str()))
}

/// A subject's code as the portal shows it: a resident ID masked, and no link (a
/// natural person has no public page).
fn subject_display(code: &str) -> (String, Option<String>) {
    match xinyong_core::SubjectCode::parse(code) {
        Ok(c) if c.kind() != xinyong_core::codes::SubjectKind::NaturalPerson => {
            (c.display(), Some(c.key().to_string()))
        }
        Ok(c) => (c.display(), None),
        Err(_) => (xinyong_core::codes::mask_id(code), None),
    }
}

/// A case with labels in the page's language.
fn case_json(state: &Shared, c: &CaseView, t: &Strings, lang: Lang) -> Value {
    let case = &c.case;
    let mut v = json!(c);
    let (code, link) = subject_display(&case.subject);
    v["subject_display"] = json!(code);
    v["subject_link"] = json!(link);
    v["subject_name"] = json!(state.app.name_of(&case.subject));
    v["kind_label"] = json!(kind_label(t, case.kind));
    v["state_label"] = json!(tr(t, &format!("case_state_{}", case.state.as_str())));
    v["outcome_label"] = json!(case.outcome.map(|o| outcome_label(t, o)));
    v["remedy_label"] = json!(case.remedy.map(|r| tr(t, remedy_key(r))));
    v["target_label"] = json!(match &case.target {
        Target::Record { id, item } => {
            let name = state
                .app
                .catalog()
                .item(item)
                .map_or(item.clone(), |i| if lang == Lang::Zh { i.name_zh.clone() } else { i.name_en.clone() });
            format!("{name} #{id}")
        }
        Target::Listing { id, list_type } => {
            let name = xinyong_core::lists::ListRules::bundled()
                .list_type(list_type)
                .map_or(list_type.clone(), |lt| if lang == Lang::Zh { lt.name_zh.clone() } else { lt.name_en.clone() });
            format!("{name} #{id}")
        }
        Target::Subject => tr(t, "target_subject"),
    });
    v["open"] = json!(case.state == CaseState::Open);
    v
}

fn remedy_key(r: Remedy) -> &'static str {
    match r {
        Remedy::Correct => "remedy_correct",
        Remedy::Revoke => "remedy_revoke",
    }
}

/// Where a case's form sends its target: a record or a listing.
#[derive(Debug, Deserialize, Default)]
struct TargetParams {
    #[serde(default)]
    code: String,
    record_id: Option<i64>,
    listing_id: Option<i64>,
    lang: Option<String>,
}

impl TargetParams {
    /// The query that shows this form again (for the language switch).
    fn query(&self) -> String {
        let mut q = format!("code={}", super::urlencode(&self.code));
        if let Some(id) = self.record_id {
            q.push_str(&format!("&record_id={id}"));
        }
        if let Some(id) = self.listing_id {
            q.push_str(&format!("&listing_id={id}"));
        }
        q
    }

    fn from_fields(f: &Fields) -> TargetParams {
        TargetParams {
            code: f.text("code"),
            record_id: f.get("record_id").and_then(|s| s.parse().ok()),
            listing_id: f.get("listing_id").and_then(|s| s.parse().ok()),
            lang: None,
        }
    }

    fn target(&self) -> TargetRef {
        TargetRef { record_id: self.record_id, listing_id: self.listing_id }
    }
}

/// What a form is about, for people: the record (as the caller may see it) or the
/// listing, with the subject's name. `None` when the caller may not see it.
async fn describe_target(
    state: &Shared,
    caller: &Caller,
    p: &TargetParams,
    purpose: &str,
    lang: Lang,
) -> Result<(Value, Option<Value>), ApiError> {
    let code = xinyong_app::parse_code(&p.code)?;
    let who = caller.who.clone();
    let t = strings(lang);
    if let Some(id) = p.listing_id {
        let l = blocking(state, move |app| app.listing(&who, id)).await?;
        let subject = json!({"code": l.code, "name": l.name});
        return Ok((subject, Some(entry(&l, lang, &t))));
    }
    let (purpose, today) = (purpose.to_string(), xinyong_app::today_shanghai());
    let view = blocking(state, move |app| app.subject(&who, &code, today, Some(purpose))).await?;
    let Some(view) = view else { return Err(ApiError::not_found(tr(&t, "not_found"))) };
    let record = p.record_id.and_then(|id| view.records.iter().find(|r| r.id == id)).map(|r| json!(r));
    Ok((json!({"code": view.code, "name": view.name}), record))
}

// ---- objections ------------------------------------------------------------------------

async fn objection_form(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Query(p): Query<TargetParams>,
) -> Response {
    let page = Page::new(&headers, &Common { lang: p.lang.clone() });
    render_objection(state, caller, page, p, Fields(vec![]), vec![], StatusCode::OK).await
}

async fn render_objection(
    state: Shared,
    caller: Caller,
    page: Page,
    p: TargetParams,
    values: Fields,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    let purpose = "提出异议 / filing an objection";
    let (subject, target) = match describe_target(&state, &caller, &p, purpose, page.lang).await {
        Ok(x) => x,
        Err(e) => return page.error(&state, &caller, e.status, e.message),
    };
    let ctx = json!({
        "subject": subject, "record": if p.record_id.is_some() { target.clone() } else { None },
        "listing": if p.listing_id.is_some() { target } else { None },
        "code": p.code, "record_id": p.record_id, "listing_id": p.listing_id,
        "signed_in": caller.is_signed_in(),
        "values": {"applicant": values.text("applicant"), "contact": values.text("contact"), "reasons": values.text("reasons")},
        "errors": errors,
        "days": state.app.due_process_info().objection_decide_working_days,
        "keep_query": p.query(),
    });
    page.render(&state, &caller, "objection_form.html", ctx, status)
}

/// Reads a multipart form of the portal (with an optional evidence file), checking the
/// session's form token when there is a session.
pub(super) async fn form_of(
    state: &Shared,
    caller: &Caller,
    page: Page,
    req: Request,
) -> Result<(Page, Upload), Box<Response>> {
    let (parts, body) = req.into_parts();
    let read = match read_limited(body, &parts.headers, EVIDENCE_BODY_LIMIT).await {
        Ok(b) => multipart_of(parts, b).await,
        Err(e) => Err(e),
    };
    let upload = match read {
        Ok(u) => u,
        Err(e) => return Err(Box::new(page.error(state, caller, e.status, e.message))),
    };
    if caller.csrf.is_some() {
        let sent = upload.fields.iter().rev().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str());
        if !caller.csrf_ok(sent.unwrap_or_default()) {
            return Err(Box::new(page.error(state, caller, StatusCode::FORBIDDEN, CSRF_FAILED.into())));
        }
    }
    Ok((page, upload))
}

async fn file_objection(State(state): State<Shared>, caller: Caller, headers: HeaderMap, req: Request) -> Response {
    let page = Page::new(&headers, &Common::default());
    let (page, upload) = match form_of(&state, &caller, page, req).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let f = Fields(upload.fields);
    let p = TargetParams::from_fields(&f);
    let req = ObjectionRequest {
        code: p.code.clone(),
        target: p.target(),
        applicant: f.get("applicant").map(str::to_string),
        contact: f.get("contact").map(str::to_string),
        reasons: f.text("reasons"),
        evidence: vec![],
    };
    let (who, file) = (caller.who.clone(), upload.file);
    let filed = blocking(&state, move |app| {
        let mut req = req;
        req.evidence.extend(uploaded(app, &who, file)?);
        app.file_objection(&who, &req, "portal")
    })
    .await;
    match filed {
        Ok(receipt) => render_receipt(&state, &caller, page, &receipt.case, &receipt.query_code),
        Err(e) if e.status.is_server_error() => page.error(&state, &caller, e.status, e.message),
        Err(e) => render_objection(state, caller, page, p, f, vec![e.message], e.status).await,
    }
}

/// The form's file, uploaded first (a form carries the file and the case in one post),
/// as the case will cite it.
fn uploaded(
    app: &xinyong_app::App,
    who: &xinyong_app::Caller,
    file: Option<(String, Vec<u8>)>,
) -> xinyong_app::Result<Option<EvidenceCite>> {
    let Some((name, bytes)) = file else { return Ok(None) };
    let r = app.upload_evidence(who, &name, &bytes)?;
    Ok(Some(EvidenceCite { sha256: r.sha256, name: r.name }))
}

fn render_receipt(state: &Shared, caller: &Caller, page: Page, case: &CaseView, query_code: &str) -> Response {
    let t = strings(page.lang);
    let ctx = json!({"case": case_json(state, case, &t, page.lang), "query_code": query_code});
    page.render(state, caller, "case_receipt.html", ctx, StatusCode::CREATED)
}

// ---- credit repair ---------------------------------------------------------------------

async fn repair_form(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Query(p): Query<TargetParams>,
) -> Response {
    let page = Page::new(&headers, &Common { lang: p.lang.clone() });
    if !caller.is_signed_in() {
        return Redirect::to("/login").into_response();
    }
    render_repair(state, caller, page, p, Fields(vec![]), vec![], StatusCode::OK).await
}

async fn render_repair(
    state: Shared,
    caller: Caller,
    page: Page,
    p: TargetParams,
    values: Fields,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    let purpose = "申请信用修复 / applying for credit repair";
    let (subject, target) = match describe_target(&state, &caller, &p, purpose, page.lang).await {
        Ok(x) => x,
        Err(e) => return page.error(&state, &caller, e.status, e.message),
    };
    let info = state.app.due_process_info();
    let name = subject["name"].as_str().unwrap_or_default();
    let code = subject["code"].as_str().unwrap_or_default();
    let fill = |s: &str| s.replace("{name}", name).replace("{code}", code);
    let claimed: Vec<&str> = values.0.iter().filter(|(k, _)| k == "condition").map(|(_, v)| v.as_str()).collect();
    let conditions: Vec<Value> = info
        .conditions
        .iter()
        .map(|c| {
            json!({"code": c.code, "text": if page.lang == Lang::Zh { &c.zh } else { &c.en }, "auto": c.auto,
                   "checked": c.auto || claimed.contains(&c.code.as_str())})
        })
        .collect();
    let ctx = json!({
        "subject": subject, "record": if p.record_id.is_some() { target.clone() } else { None },
        "listing": if p.listing_id.is_some() { target } else { None },
        "code": p.code, "record_id": p.record_id, "listing_id": p.listing_id,
        "conditions": conditions,
        "commitment": if page.lang == Lang::Zh { fill(&info.commitment_zh) } else { fill(&info.commitment_en) },
        "is_subject": caller.own_subject().is_some(),
        "values": {"statement": values.text("statement"), "applicant": values.text("applicant"), "contact": values.text("contact")},
        "errors": errors,
        "decide_days": info.repair_decide_working_days,
        "answer_days": info.repair_answer_working_days,
        "keep_query": p.query(),
    });
    page.render(&state, &caller, "repair_form.html", ctx, status)
}

async fn file_repair(State(state): State<Shared>, caller: Caller, headers: HeaderMap, req: Request) -> Response {
    let page = Page::new(&headers, &Common::default());
    if !caller.is_signed_in() {
        return Redirect::to("/login").into_response();
    }
    let (page, upload) = match form_of(&state, &caller, page, req).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let f = Fields(upload.fields);
    let p = TargetParams::from_fields(&f);
    let req = RepairRequest {
        code: p.code.clone(),
        target: p.target(),
        applicant: f.get("applicant").map(str::to_string),
        contact: f.get("contact").map(str::to_string),
        statement: f.text("statement"),
        conditions: f.0.iter().filter(|(k, _)| k == "condition").map(|(_, v)| v.clone()).collect(),
        commitment_signed: f.get("commitment_signed").is_some(),
        evidence: vec![],
    };
    let (who, file) = (caller.who.clone(), upload.file);
    let filed = blocking(&state, move |app| {
        let mut req = req;
        req.evidence.extend(uploaded(app, &who, file)?);
        app.file_repair(&who, &req, "portal")
    })
    .await;
    match filed {
        Ok(receipt) => render_receipt(&state, &caller, page, &receipt.case, &receipt.query_code),
        Err(e) if e.status.is_server_error() => page.error(&state, &caller, e.status, e.message),
        Err(e) => render_repair(state, caller, page, p, f, vec![e.message], e.status).await,
    }
}

// ---- following a case without signing in ------------------------------------------------------

#[derive(Debug, Deserialize, Default)]
struct FollowParams {
    case: Option<String>,
    lang: Option<String>,
}

async fn follow_form(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Query(p): Query<FollowParams>,
) -> Response {
    let page = Page::new(&headers, &Common { lang: p.lang.clone() });
    let case = p.case.unwrap_or_default();
    let keep = (!case.is_empty()).then(|| format!("case={}", super::urlencode(&case)));
    let ctx = json!({"form": {"case": case}, "keep_query": keep});
    page.render(&state, &caller, "follow.html", ctx, StatusCode::OK)
}

#[derive(Debug, Deserialize)]
struct FollowForm {
    #[serde(default)]
    case: String,
    #[serde(default)]
    query_code: String,
}

/// The case number and the query code, posted (so the code stays out of addresses and
/// logs): the case's state, clocks and outcome.
async fn follow(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    axum::Form(f): axum::Form<FollowForm>,
) -> Response {
    let page = Page::new(&headers, &Common::default());
    let t = strings(page.lang);
    let form = json!({"case": f.case});
    let Ok(id) = f.case.trim().trim_start_matches('#').parse::<i64>() else {
        let ctx = json!({"form": form, "error": tr(&t, "follow_not_found")});
        return page.render(&state, &caller, "follow.html", ctx, StatusCode::NOT_FOUND);
    };
    let code = f.query_code.clone();
    match blocking(&state, move |app| app.case_by_query(id, &code)).await {
        Ok(c) => {
            let ctx = json!({"form": form, "case": case_json(&state, &c, &t, page.lang)});
            page.render(&state, &caller, "follow.html", ctx, StatusCode::OK)
        }
        Err(e) if e.status == StatusCode::NOT_FOUND => {
            let ctx = json!({"form": form, "error": tr(&t, "follow_not_found")});
            page.render(&state, &caller, "follow.html", ctx, StatusCode::NOT_FOUND)
        }
        Err(e) => page.error(&state, &caller, e.status, e.message),
    }
}

// ---- the departments' queue and decisions ------------------------------------------------------

#[derive(Debug, Deserialize)]
struct QueueParams {
    state: Option<String>,
    lang: Option<String>,
}

/// Open cases of the officer's department (every department's for the centre), overdue
/// first and marked; `?state=decided|withdrawn|all` shows the others.
async fn queue(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Query(p): Query<QueueParams>,
) -> Response {
    let page = Page::new(&headers, &Common { lang: p.lang.clone() });
    let page = match staff_with_csrf(&state, &caller, page, None) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let chosen = p.state.clone().unwrap_or_else(|| "open".into());
    let filter = (chosen != "all").then(|| chosen.clone());
    let who = caller.who.clone();
    let found = blocking(&state, move |app| app.cases(&who, filter.as_deref(), false, 500)).await;
    let mut found = match found {
        Ok(x) => x,
        Err(e) => return page.error(&state, &caller, e.status, e.message),
    };
    // what is late first, then by due date
    found.cases.sort_by_key(|c| (!c.overdue, c.case.state != CaseState::Open, c.case.due, c.case.id));
    let t = strings(page.lang);
    let cases: Vec<Value> = found.cases.iter().map(|c| case_json(&state, c, &t, page.lang)).collect();
    let states: Vec<Value> = ["open", "decided", "withdrawn", "all"]
        .iter()
        .map(|s| json!({"code": s, "label": tr(&t, &format!("case_state_{s}"))}))
        .collect();
    let ctx = json!({"cases": cases, "overdue": found.overdue, "state": chosen, "states": states});
    page.render(&state, &caller, "cases.html", ctx, StatusCode::OK)
}

async fn case_page(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(c): Query<Common>,
) -> Response {
    let page = Page::new(&headers, &c);
    render_case(state, caller, page, id, vec![], StatusCode::OK).await
}

/// The record a correction starts from: its fields as the caller may see them (masked
/// values left blank: they must be given in full again).
fn correction_fields(view: &SubjectView, record_id: i64) -> Option<(&RecordView, Vec<Value>)> {
    let r = view.records.iter().find(|r| r.id == record_id)?;
    let fields = r
        .fields
        .iter()
        .map(|f| {
            let masked = f.value.contains('*');
            json!({"name": f.name, "en": f.en, "value": if masked { "" } else { f.value.as_str() },
                   "masked": masked.then_some(f.value.as_str())})
        })
        .collect();
    Some((r, fields))
}

async fn render_case(
    state: Shared,
    caller: Caller,
    page: Page,
    id: i64,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    if !caller.is_signed_in() {
        return Redirect::to("/login").into_response();
    }
    let who = caller.who.clone();
    let c = match blocking(&state, move |app| app.case(&who, id)).await {
        Ok(c) => c,
        Err(e) => return page.error(&state, &caller, e.status, e.message),
    };
    let t = strings(page.lang);
    let open = c.case.state == CaseState::Open;
    let decides = caller.is_staff() && open && c.case.kind != CaseKind::Interview;
    // an objection to a record may end in its correction: the form starts from the record
    let mut record = Value::Null;
    let mut fields = Value::Null;
    if let (true, CaseKind::Objection, Target::Record { id: record_id, .. }) = (decides, c.case.kind, &c.case.target)
        && let Ok(code) = xinyong_app::parse_code(&c.case.subject)
    {
        let (who, record_id) = (caller.who.clone(), *record_id);
        let purpose = format!("办理异议案件 {id} / objection case {id}");
        let today = xinyong_app::today_shanghai();
        if let Ok(Some(view)) = blocking(&state, move |app| app.subject(&who, &code, today, Some(purpose))).await
            && let Some((r, f)) = correction_fields(&view, record_id)
        {
            record = json!(r);
            fields = json!(f);
        }
    }
    let outcomes: Vec<Value> = Outcome::allowed_for(c.case.kind)
        .iter()
        .map(|o| json!({"code": o.as_str(), "label": outcome_label(&t, *o)}))
        .collect();
    let withdrawable = open
        && matches!(c.case.kind, CaseKind::Objection | CaseKind::Repair)
        && caller.own_subject() == Some(c.case.subject.as_str());
    let ctx = json!({
        "case": case_json(&state, &c, &t, page.lang),
        "decides": decides,
        "outcomes": outcomes,
        "record": record,
        "fields": fields,
        "withdrawable": withdrawable,
        "errors": errors,
        "today": date_string(xinyong_app::today_shanghai()),
    });
    page.render(&state, &caller, "case.html", ctx, status)
}

fn decision_of(f: &Fields) -> Result<DecideRequest, Vec<String>> {
    let outcome: Outcome = serde_json::from_value(json!(f.text("outcome")))
        .map_err(|_| vec!["请选择办理结果 / choose an outcome".to_string()])?;
    let remedy = match f.get("remedy") {
        Some("correct") => Some(Remedy::Correct),
        Some("revoke") => Some(Remedy::Revoke),
        _ => None,
    };
    let corrects = matches!((outcome, remedy), (Outcome::PartlyUpheld, _) | (Outcome::Upheld, Some(Remedy::Correct)));
    let fields = corrects.then(|| {
        f.0.iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("f:")?.to_string(), v.trim().to_string())))
            .filter(|(_, v)| !v.is_empty())
            .collect()
    });
    let takes_remedy = matches!(outcome, Outcome::Upheld);
    Ok(DecideRequest {
        outcome,
        remedy: if takes_remedy { remedy } else { None },
        reasons: f.text("reasons"),
        next_possible: (outcome == Outcome::Refused).then(|| f.text("next_possible")).filter(|s| !s.is_empty()),
        fields,
    })
}

async fn decide(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(form);
    let page = Page::new(&headers, &Common::default());
    let page = match staff_with_csrf(&state, &caller, page, Some(f.get("csrf").unwrap_or_default())) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let req = match decision_of(&f) {
        Ok(r) => r,
        Err(lines) => return render_case(state, caller, page, id, lines, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    let app = state.app.clone();
    let who = caller.who.clone();
    match tokio::task::spawn_blocking(move || app.decide_case(&who, id, &req, "portal")).await {
        Ok(Ok(_)) => Redirect::to(&format!("/cases/{id}")).into_response(),
        Ok(Err(e)) => {
            let (status, lines) = lines_of(e);
            render_case(state, caller, page, id, lines, status).await
        }
        Err(e) => page.error(&state, &caller, StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn withdraw(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(form);
    let page = Page::new(&headers, &Common::default());
    if !caller.is_signed_in() {
        return Redirect::to("/login").into_response();
    }
    if !caller.csrf_ok(f.get("csrf").unwrap_or_default()) {
        return page.error(&state, &caller, StatusCode::FORBIDDEN, CSRF_FAILED.into());
    }
    let who = caller.who.clone();
    match blocking(&state, move |app| app.withdraw_case(&who, id, "portal")).await {
        Ok(_) => Redirect::to(&format!("/cases/{id}")).into_response(),
        Err(e) => page.error(&state, &caller, e.status, e.message),
    }
}

// ---- notices, correction and revocation from the subject page ----------------------------------

async fn notice(
    state: Shared,
    caller: Caller,
    headers: HeaderMap,
    code: String,
    f: Fields,
    kind: CaseKind,
) -> Response {
    let page = Page::new(&headers, &Common::default());
    let page = match staff_with_csrf(&state, &caller, page, Some(f.get("csrf").unwrap_or_default())) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let opt = |k: &str| f.get(k).map(str::to_string);
    let req = NoticeRequest {
        code,
        department: opt("department"),
        text: f.text("text"),
        deadline: opt("deadline"),
        interview_type: opt("interview_type"),
        attendees: opt("attendees"),
        minutes: opt("minutes"),
        held_on: opt("held_on"),
    };
    let who = caller.who.clone();
    match blocking(&state, move |app| app.issue_notice(&who, kind, &req, "portal")).await {
        Ok(c) => Redirect::to(&format!("/cases/{}", c.case.id)).into_response(),
        Err(e) => page.error(&state, &caller, e.status, e.message),
    }
}

async fn rectification(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Path(code): Path<String>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    notice(state, caller, headers, code, Fields(form), CaseKind::Rectification).await
}

async fn interview(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Path(code): Path<String>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    notice(state, caller, headers, code, Fields(form), CaseKind::Interview).await
}

/// Back to the subject's page after a correction or revocation, with the ledger index.
fn back_to_subject(code: &str, index: u64) -> Response {
    let link = subject_display(code).1.unwrap_or_default();
    if link.is_empty() {
        return Redirect::to(&format!("/?amended={index}")).into_response();
    }
    Redirect::to(&format!("/subjects/{link}?amended={index}")).into_response()
}

async fn revoke(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(form);
    let page = Page::new(&headers, &Common::default());
    let page = match staff_with_csrf(&state, &caller, page, Some(f.get("csrf").unwrap_or_default())) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let req = AmendRequest { reason: f.text("reason"), document: f.text("document"), fields: None };
    let who = caller.who.clone();
    match blocking(&state, move |app| app.amend_record(&who, id, &req, "portal")).await {
        Ok(index) => back_to_subject(&f.text("code"), index),
        Err(e) => page.error(&state, &caller, e.status, e.message),
    }
}

#[derive(Debug, Deserialize)]
struct CorrectionParams {
    #[serde(default)]
    code: String,
    lang: Option<String>,
}

async fn correction_form(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(p): Query<CorrectionParams>,
) -> Response {
    let page = Page::new(&headers, &Common { lang: p.lang.clone() });
    let page = match staff_with_csrf(&state, &caller, page, None) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    render_correction(state, caller, page, id, p.code, vec![], StatusCode::OK).await
}

async fn render_correction(
    state: Shared,
    caller: Caller,
    page: Page,
    id: i64,
    code: String,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    let t = strings(page.lang);
    let parsed = match xinyong_app::parse_code(&code) {
        Ok(c) => c,
        Err(e) => {
            let e = ApiError::from(e);
            return page.error(&state, &caller, e.status, e.message);
        }
    };
    let who = caller.who.clone();
    let purpose = format!("更正记录 {id} / correcting record {id}");
    let today = xinyong_app::today_shanghai();
    let view = blocking(&state, move |app| app.subject(&who, &parsed, today, Some(purpose))).await;
    let view = match view {
        Ok(Some(v)) => v,
        Ok(None) => return page.error(&state, &caller, StatusCode::NOT_FOUND, tr(&t, "not_found")),
        Err(e) => return page.error(&state, &caller, e.status, e.message),
    };
    let Some((r, fields)) = correction_fields(&view, id) else {
        return page.error(&state, &caller, StatusCode::NOT_FOUND, tr(&t, "record_not_found"));
    };
    let keep = format!("code={}", super::urlencode(&code));
    let ctx = json!({"record": r, "fields": fields, "code": code, "name": view.name, "errors": errors,
                     "keep_query": keep});
    page.render(&state, &caller, "correction.html", ctx, status)
}

async fn correct(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(form);
    let page = Page::new(&headers, &Common::default());
    let page = match staff_with_csrf(&state, &caller, page, Some(f.get("csrf").unwrap_or_default())) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let fields =
        f.0.iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("f:")?.to_string(), v.trim().to_string())))
            .filter(|(_, v)| !v.is_empty())
            .collect();
    let req = AmendRequest { reason: f.text("reason"), document: f.text("document"), fields: Some(fields) };
    let who = caller.who.clone();
    let app = state.app.clone();
    match tokio::task::spawn_blocking(move || app.amend_record(&who, id, &req, "portal")).await {
        Ok(Ok(index)) => back_to_subject(&f.text("code"), index),
        Ok(Err(e)) => {
            let (status, lines) = lines_of(e);
            render_correction(state, caller, page, id, f.text("code"), lines, status).await
        }
        Err(e) => page.error(&state, &caller, StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

// ---- the inbox -----------------------------------------------------------------------------------

fn notifications_json(found: Vec<Value>, lang: Lang) -> Vec<Value> {
    found
        .into_iter()
        .map(|mut n| {
            let text = if lang == Lang::Zh { n["text_zh"].clone() } else { n["text_en"].clone() };
            n["text"] = text;
            n["at"] = json!(time_of(n["created_ms"].as_i64().unwrap_or_default()));
            n["unread"] = json!(n["state"] != "read");
            n
        })
        .collect()
}

/// The caller's notifications as values (the store's type is not named at the edge).
async fn notifications(state: &Shared, caller: &Caller, limit: u32) -> Result<Vec<Value>, ApiError> {
    let who = caller.who.clone();
    let found = blocking(state, move |app| app.inbox(&who, limit)).await?;
    Ok(found.iter().map(|n| json!(n)).collect())
}

async fn inbox_page(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Query(c): Query<Common>,
) -> Response {
    let page = Page::new(&headers, &c);
    if !caller.is_signed_in() {
        return Redirect::to("/login").into_response();
    }
    match notifications(&state, &caller, 200).await {
        Ok(found) => {
            let ctx = json!({"notifications": notifications_json(found, page.lang)});
            page.render(&state, &caller, "inbox.html", ctx, StatusCode::OK)
        }
        Err(e) => page.error(&state, &caller, e.status, e.message),
    }
}

async fn mark_read(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(form);
    let page = Page::new(&headers, &Common::default());
    if !caller.is_signed_in() {
        return Redirect::to("/login").into_response();
    }
    if !caller.csrf_ok(f.get("csrf").unwrap_or_default()) {
        return page.error(&state, &caller, StatusCode::FORBIDDEN, CSRF_FAILED.into());
    }
    let who = caller.who.clone();
    match blocking(&state, move |app| app.mark_read(&who, id)).await {
        Ok(()) => Redirect::to(f.get("back").filter(|b| b.starts_with('/')).unwrap_or("/inbox")).into_response(),
        Err(e) => page.error(&state, &caller, e.status, e.message),
    }
}

// ---- the entity's own page ---------------------------------------------------------------------------

/// The entity's own page: its whole record with each item's window end and repair
/// date, its cases with their clocks, who checked it and who read its non-public data,
/// its listings (with the objection form while a notice is open), its notifications.
async fn me(State(state): State<Shared>, caller: Caller, headers: HeaderMap, Query(c): Query<Common>) -> Response {
    let page = Page::new(&headers, &c);
    let t = strings(page.lang);
    if !caller.is_signed_in() {
        return Redirect::to("/login").into_response();
    }
    let Some(code) = caller.own_subject().map(str::to_string) else {
        return page.render(&state, &caller, "me.html", json!({"not_subject": true}), StatusCode::OK);
    };
    let parsed = match xinyong_app::parse_code(&code) {
        Ok(c) => c,
        Err(e) => {
            let e = ApiError::from(e);
            return page.error(&state, &caller, e.status, e.message);
        }
    };
    let (who, key) = (caller.who.clone(), code.clone());
    let today = xinyong_app::today_shanghai();
    let found = blocking(&state, move |app| {
        let view =
            app.subject(&who, &parsed, today, Some("本主体查看自身信用记录 / the entity reads its own record".into()))?;
        Ok((
            view,
            app.cases(&who, None, false, 500)?,
            app.checks_of_subject(&who, &key, 200)?,
            app.access_log(&who, &key, 200)?,
            app.listings_of_subject(&who, &key)?,
        ))
    })
    .await;
    let (view, cases, checks, reads, listings) = match found {
        Ok(x) => x,
        Err(e) => return page.error(&state, &caller, e.status, e.message),
    };
    let inbox = match notifications(&state, &caller, 50).await {
        Ok(n) => notifications_json(n, page.lang),
        Err(e) => return page.error(&state, &caller, e.status, e.message),
    };
    let checks: Vec<Value> = checks
        .iter()
        .map(|c| {
            json!({"at": time_of(c.at_ms), "department": c.department, "matter": tr(&t, &format!("matter_{}", c.matter)),
                   "purpose": c.purpose, "verdict": c.verdict, "verdict_label": tr(&t, &format!("verdict_{}", c.verdict)),
                   "as_of": c.as_of})
        })
        .collect();
    let reads: Vec<Value> = reads
        .iter()
        .map(|r| json!({"at": time_of(r.at_ms), "actor": r.actor, "provider": r.provider, "purpose": r.purpose, "what": r.what}))
        .collect();
    let mut cases = cases.cases;
    cases.sort_by_key(|c| (c.case.state != CaseState::Open, !c.overdue, std::cmp::Reverse(c.case.id)));
    let cases: Vec<Value> = cases.iter().map(|c| case_json(&state, c, &t, page.lang)).collect();
    let listings: Vec<Value> = listings.iter().map(|l| entry(l, page.lang, &t)).collect();
    let grades = super::grades::grades_for(&state, &caller, &code).await;
    let ctx = json!({"code": code, "name": state.app.name_of(&code), "record": view, "cases": cases, "grades": grades,
                     "checks": checks, "reads": reads, "listings": listings, "inbox": inbox,
                     "today": date_string(today)});
    page.render(&state, &caller, "me.html", ctx, StatusCode::OK)
}
