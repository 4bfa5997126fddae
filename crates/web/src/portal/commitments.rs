//! Portal pages of credit commitments (信用承诺) and voluntary registration (自愿注册):
//! the entity signs a commitment from a matter's template and registers positive
//! information; the accepting department's officers see their queue and record a
//! commitment kept or broken (a serious breach may start a listing procedure), or a
//! registration verified or found false. Every form works without JavaScript and calls
//! the same use cases as the API.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use xinyong_app::commitments::{SignRequest, StepRequest};
use xinyong_app::registrations::RegistrationRequest;
use xinyong_core::commitment::CommitmentKind;

use super::lists::{Fields, signed_in_with_csrf, tr};
use super::{Common, Page};
use crate::auth::Caller;
use crate::i18n::strings;
use crate::{Shared, blocking};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/commitments", get(commitments_page).post(sign))
        .route("/commitments/new", get(sign_form))
        .route("/commitments/{id}", get(commitment_page))
        .route("/commitments/{id}/{step}", get(back_to_commitment).post(commitment_step))
        .route("/registrations/new", get(registration_form))
        .route("/registrations", get(super::lists::back_to("/registrations/new")).post(register))
        .route("/registrations/{id}/{step}", post(registration_step))
}

async fn back_to_commitment(Path((id, _)): Path<(i64, String)>) -> Redirect {
    Redirect::to(&format!("/commitments/{id}"))
}

/// The matters one may sign alone (not the registration's truthfulness commitment).
fn signable_matters(state: &Shared) -> Vec<Value> {
    state
        .app
        .commitment_matters()
        .map(|m| {
            m.matters
                .iter()
                .filter(|m| !m.registration)
                .map(|m| {
                    json!({"code": m.code, "name": m.name_zh, "department": m.department,
                                "kind": m.kind, "kind_zh": m.kind.name_zh()})
                })
                .collect()
        })
        .unwrap_or_default()
}

// ---- the list: an entity's own commitments, or a department's queue -----------------------

#[derive(Debug, Deserialize, Default)]
struct QueueParams {
    state: Option<String>,
    department: Option<String>,
    lang: Option<String>,
}

async fn commitments_page(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<QueueParams>,
) -> Response {
    let page = Page::new(&headers, &Common { lang: q.lang.clone() });
    if !caller.is_signed_in() {
        return Redirect::to("/login").into_response();
    }
    let t = strings(page.lang);
    if let Some(code) = caller.own_subject().map(str::to_string) {
        let who = caller.who.clone();
        let today = xinyong_app::today_shanghai();
        let found = blocking(&state, move |app| {
            let code = xinyong_app::parse_code(&code)?;
            app.commitments_of(
                &who,
                &code,
                today,
                Some("本主体查看自身信用承诺 / the entity reads its commitments".into()),
            )
        })
        .await;
        return match found {
            Ok(mine) => {
                let ctx = json!({"own": true, "commitments": mine.commitments, "summary": mine.summary,
                                 "matters": signable_matters(&state)});
                page.render(&state, &caller, "commitments.html", ctx, StatusCode::OK)
            }
            Err(e) => page.error(&state, &caller, e.status, e.message),
        };
    }
    // the queue: open ones unless another state is asked for ("all": every state)
    let asked = q.state.clone().unwrap_or_else(|| "pending".to_string());
    let filter = (asked != "all").then(|| asked.clone());
    // the centre picks the department whose queue it reads (the matters' departments)
    let departments: Vec<String> = if caller.is_admin() {
        let all = state.app.commitment_matters().map(|m| m.matters.iter().map(|m| m.department.clone()).collect());
        let all: std::collections::BTreeSet<String> = all.unwrap_or_default();
        all.into_iter().collect()
    } else {
        Vec::new()
    };
    let department = q.department.clone().filter(|d| !d.trim().is_empty()).or_else(|| departments.first().cloned());
    let who = caller.who.clone();
    let found =
        blocking(&state, move |app| app.department_commitments(&who, department.as_deref(), filter.as_deref(), 0, 500))
            .await;
    match found {
        Ok(queue) => {
            let mut rows: Vec<Value> = queue
                .commitments
                .iter()
                .map(|c| {
                    let mut v = json!(c);
                    v["subject_name"] = json!(state.app.name_of(&c.subject));
                    v["overdue"] = json!(c.due.as_deref().is_some_and(|d| d < queue.as_of.as_str()));
                    v
                })
                .collect();
            // the soonest due first; those without a term after them
            rows.sort_by_key(|v| (v["due"].as_str().is_none(), v["due"].as_str().map(str::to_string)));
            let ctx = json!({"own": false, "queue": rows, "department": queue.department, "as_of": queue.as_of,
                             "state": asked, "states": ["pending", "fulfilled", "breached", "all"],
                             "departments": departments});
            page.render(&state, &caller, "commitments.html", ctx, StatusCode::OK)
        }
        Err(e) => {
            let msg = if e.status == StatusCode::FORBIDDEN { tr(&t, "officers_only") } else { e.message };
            page.error(&state, &caller, e.status, msg)
        }
    }
}

// ---- signing ------------------------------------------------------------------------------

#[derive(Debug, Deserialize, Default)]
struct SignParams {
    matter: Option<String>,
    code: Option<String>,
    lang: Option<String>,
}

async fn sign_form(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Query(p): Query<SignParams>,
) -> Response {
    let page = Page::new(&headers, &Common { lang: p.lang.clone() });
    if !caller.is_signed_in() {
        return Redirect::to("/login").into_response();
    }
    let code = p.code.clone().or_else(|| caller.own_subject().map(str::to_string)).unwrap_or_default();
    render_sign_form(
        state,
        caller,
        page,
        p.matter.unwrap_or_default(),
        code,
        Fields(Vec::new()),
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn render_sign_form(
    state: Shared,
    caller: Caller,
    page: Page,
    matter: String,
    code: String,
    values: Fields,
    mut errors: Vec<String>,
    status: StatusCode,
) -> Response {
    // the preview: the text as it would be signed today, or why the subject may not
    let preview = if matter.is_empty() || code.is_empty() {
        None
    } else {
        let (m, c) = (matter.clone(), code.clone());
        match blocking(&state, move |app| app.commitment_preview(&m, &c)).await {
            Ok(p) => Some(json!(p)),
            Err(e) => {
                errors.push(e.message);
                None
            }
        }
    };
    let ctx = json!({
        "matters": signable_matters(&state), "matter": matter, "code": code, "preview": preview,
        "paper": caller.own_subject().is_none(),
        "values": {"promised_by": values.text("promised_by"), "signed_on": values.text("signed_on"),
                   "number": values.text("number"), "name": values.text("name")},
        "errors": errors,
    });
    page.render(&state, &caller, "commitment_form.html", ctx, status)
}

async fn sign(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(form);
    let page = match signed_in_with_csrf(&state, &caller, Page::new(&headers, &Common::default()), &f) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let (matter, code) = (f.text("matter"), f.text("code"));
    if f.get("agree") != Some("yes") {
        let msg = tr(&strings(page.lang), "commitment_must_agree");
        return render_sign_form(state, caller, page, matter, code, f, vec![msg], StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    }
    let req = SignRequest {
        matter: matter.clone(),
        code: code.clone(),
        name: f.get("name").map(str::to_string),
        promised_by: f.get("promised_by").map(str::to_string),
        signed_on: f.get("signed_on").map(str::to_string),
        number: f.get("number").map(str::to_string),
    };
    let who = caller.who.clone();
    match blocking(&state, move |app| app.sign_commitment(&who, &req)).await {
        Ok(c) => Redirect::to(&format!("/commitments/{}?signed=1", c.record_id)).into_response(),
        Err(e) => render_sign_form(state, caller, page, matter, code, f, vec![e.message], e.status).await,
    }
}

// ---- one commitment, and the department's steps ---------------------------------------------

#[derive(Debug, Deserialize, Default)]
struct DetailParams {
    signed: Option<u8>,
    registered: Option<u8>,
    done: Option<String>,
    lang: Option<String>,
}

async fn commitment_page(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(p): Query<DetailParams>,
) -> Response {
    let page = Page::new(&headers, &Common { lang: p.lang.clone() });
    let t = strings(page.lang);
    let notice = match (p.signed, p.registered, p.done.as_deref()) {
        (Some(_), _, _) => Some(tr(&t, "commitment_signed_ok")),
        (_, Some(_), _) => Some(tr(&t, "registration_ok")),
        (_, _, Some(step)) => Some(tr(&t, &format!("commitment_done_{step}"))),
        _ => None,
    };
    render_detail(state, caller, page, id, notice, Vec::new(), StatusCode::OK).await
}

async fn render_detail(
    state: Shared,
    caller: Caller,
    page: Page,
    id: i64,
    notice: Option<String>,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    let who = caller.who.clone();
    let detail = match blocking(&state, move |app| app.commitment_detail(&who, id)).await {
        Ok(d) => d,
        Err(e) => return page.error(&state, &caller, e.status, e.message),
    };
    let text = detail.record.fields.iter().find(|f| f.name == "承诺内容").map(|f| f.value.clone());
    let link =
        xinyong_core::SubjectCode::parse(&detail.subject).ok().filter(|c| !c.is_person()).map(|c| c.key().to_string());
    let lists: Vec<Value> = xinyong_core::lists::ListRules::bundled()
        .list_types()
        .filter(|lt| {
            lt.kind == xinyong_core::lists::ListKind::Punishment
                && lt.entries_from == xinyong_core::lists::EntriesFrom::Decisions
                && !lt.scoped
        })
        .map(|lt| json!({"code": lt.code, "name": if page.lang == crate::i18n::Lang::Zh { &lt.name_zh } else { &lt.name_en }}))
        .collect();
    let registration_matter = detail.matter.as_ref().is_some_and(|m| m.registration);
    let kind_zh = detail
        .matter
        .as_ref()
        .map(|m| m.kind.name_zh())
        .or_else(|| detail.record.commitment.as_ref().and_then(|c| c.kind).map(CommitmentKind::name_zh));
    let ctx = json!({
        "d": detail, "text": text, "subject_link": link, "lists": lists, "kind_zh": kind_zh,
        "is_registration": registration_matter, "notice": notice, "errors": errors,
        "today": xinyong_app::today_shanghai().to_string(),
    });
    page.render(&state, &caller, "commitment.html", ctx, status)
}

/// A department's step on a commitment or a registration, from its page's form.
enum StepKind {
    Fulfil,
    Breach,
    Verify,
    Refute,
}

impl StepKind {
    fn done(&self) -> &'static str {
        match self {
            StepKind::Fulfil => "fulfilled",
            StepKind::Breach => "breached",
            StepKind::Verify => "verified",
            StepKind::Refute => "refuted",
        }
    }
}

async fn step(
    state: Shared,
    caller: Caller,
    headers: HeaderMap,
    id: i64,
    form: Vec<(String, String)>,
    kind: StepKind,
) -> Response {
    let f = Fields(form);
    let page = match signed_in_with_csrf(&state, &caller, Page::new(&headers, &Common::default()), &f) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let req = StepRequest {
        on: f.get("on").map(str::to_string),
        text: f.text("text"),
        propose_list: f.get("propose_list").map(str::to_string),
    };
    // the page is the commitment's: a registration's step names its commitment
    let back = f.get("commitment").and_then(|c| c.parse::<i64>().ok()).unwrap_or(id);
    let who = caller.who.clone();
    let done = kind.done();
    let result = blocking(&state, move |app| match kind {
        StepKind::Fulfil => app.fulfil_commitment(&who, id, &req, "portal").map(|_| ()),
        StepKind::Breach => app.breach_commitment(&who, id, &req, "portal").map(|_| ()),
        StepKind::Verify => app.verify_registration(&who, id, &req, "portal").map(|_| ()),
        StepKind::Refute => app.refute_registration(&who, id, &req, "portal").map(|_| ()),
    })
    .await;
    match result {
        Ok(()) => Redirect::to(&format!("/commitments/{back}?done={done}")).into_response(),
        Err(e) => render_detail(state, caller, page, back, None, vec![e.message], e.status).await,
    }
}

/// `/commitments/{id}/fulfilment|breach`.
async fn commitment_step(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Path((id, word)): Path<(i64, String)>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    match word.as_str() {
        "fulfilment" => step(state, caller, headers, id, form, StepKind::Fulfil).await,
        "breach" => step(state, caller, headers, id, form, StepKind::Breach).await,
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `/registrations/{id}/verification|refutation`.
async fn registration_step(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Path((id, word)): Path<(i64, String)>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    match word.as_str() {
        "verification" => step(state, caller, headers, id, form, StepKind::Verify).await,
        "refutation" => step(state, caller, headers, id, form, StepKind::Refute).await,
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

// ---- voluntary registration -------------------------------------------------------------------

const CATEGORIES: [&str; 7] = ["资质证照", "合同履约", "慈善捐赠", "志愿服务", "荣誉表彰", "奖励", "其他"];

async fn registration_form(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Query(p): Query<SignParams>,
) -> Response {
    let page = Page::new(&headers, &Common { lang: p.lang.clone() });
    if !caller.is_signed_in() {
        return Redirect::to("/login").into_response();
    }
    let code = p.code.clone().or_else(|| caller.own_subject().map(str::to_string)).unwrap_or_default();
    render_registration(&state, &caller, page, &code, &Fields(Vec::new()), Vec::new(), StatusCode::OK)
}

fn render_registration(
    state: &Shared,
    caller: &Caller,
    page: Page,
    code: &str,
    values: &Fields,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    let matter = state.app.commitment_matters().ok().and_then(|m| m.registration()).cloned();
    let name = state.app.name_of(code);
    let text = matter
        .as_ref()
        .map(|m| m.render(name.as_deref().unwrap_or("（主体名称）"), code, xinyong_app::today_shanghai(), None));
    let v = |k: &str| values.text(k);
    let ctx = json!({
        "code": code, "name": name, "matter": matter, "text": text, "categories": CATEGORIES,
        "values": {"category": v("category"), "title": v("title"), "content": v("content"), "issuer": v("issuer"),
                   "obtained_on": v("obtained_on"), "valid_until": v("valid_until"), "evidence": v("evidence"),
                   "name": v("name")},
        "errors": errors,
    });
    page.render(state, caller, "registration_form.html", ctx, status)
}

async fn register(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(form);
    let page = match signed_in_with_csrf(&state, &caller, Page::new(&headers, &Common::default()), &f) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let code = f.text("code");
    if f.get("agree") != Some("yes") {
        let msg = tr(&strings(page.lang), "commitment_must_agree");
        return render_registration(&state, &caller, page, &code, &f, vec![msg], StatusCode::UNPROCESSABLE_ENTITY);
    }
    let req = RegistrationRequest {
        code: code.clone(),
        name: f.get("name").map(str::to_string),
        category: f.text("category"),
        title: f.text("title"),
        content: f.text("content"),
        issuer: f.text("issuer"),
        obtained_on: f.text("obtained_on"),
        valid_until: f.get("valid_until").map(str::to_string),
        evidence: f.get("evidence").map(str::to_string),
    };
    let who = caller.who.clone();
    match blocking(&state, move |app| app.register_information(&who, &req, "portal")).await {
        Ok(r) => Redirect::to(&format!("/commitments/{}?registered=1", r.commitment.record_id)).into_response(),
        Err(e) => render_registration(&state, &caller, page, &code, &f, vec![e.message], e.status),
    }
}
