//! Portal pages of issue 4: the credit lists (who is listed, why, until when, how to
//! exit), the listing procedure for departments (propose → decide → remove), the check
//! before acting (逢办必查) with its feedback, and an entity's own page (who checked it).
//! They call the same use cases of `xinyong_app` as the JSON API, so a check made here
//! is logged exactly as one made through the API.

use std::collections::BTreeMap;

use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};
use time::Date;
use xinyong_app::AppError;
use xinyong_app::checks::{BatchCheckRequest, FeedbackRequest, MAX_BATCH_CODES, NotApplied};
use xinyong_app::listings::{
    DecisionRequest, ListingRequest, ListingView, ObjectionRequest, RemovalRequest, ResponsiblePerson, StepAnswer,
};
use xinyong_core::listing::ListingStatus;
use xinyong_core::lists::{ListRules, ListType, Term};
use xinyong_core::record::date_string;

use super::{Common, Page};
use crate::auth::Caller;
use crate::i18n::{Lang, strings};
use crate::{ApiError, Shared, blocking};

/// Entries per page of a list.
const PER_PAGE: u32 = 50;

pub(super) type Strings = BTreeMap<&'static str, &'static str>;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/lists", get(lists_page))
        .route("/lists/{list_type}", get(list_page))
        .route("/officer/listings", get(officer_page).post(propose))
        .route("/officer/listings/{id}/decision", get(back_to("/officer/listings")).post(decide))
        .route("/officer/listings/{id}/removal", get(back_to("/officer/listings")).post(remove))
        .route("/check", get(check_form).post(check))
        .route("/check/batch", get(back_to("/check")).post(check_batch))
        .route("/check/{id}/feedback", get(back_to("/check")).post(feedback))
        .route("/officer/stats", get(stats_page))
        .route("/me/listings/{id}/objection", get(back_to("/me")).post(object_form))
        .route(
            "/static/check.js",
            get(|| async {
                ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], include_str!("../../static/check.js"))
            }),
        )
}

/// A GET on a form's target (the language switch on a result page reloads it) goes back
/// to the form, keeping the query (`?lang=`).
pub(super) fn back_to(
    page: &'static str,
) -> impl Fn(axum::extract::RawQuery) -> std::future::Ready<axum::response::Redirect> + Clone + Send + Sync + 'static {
    move |axum::extract::RawQuery(q): axum::extract::RawQuery| {
        let to = match q {
            Some(q) => format!("{page}?{q}"),
            None => page.to_string(),
        };
        std::future::ready(axum::response::Redirect::to(&to))
    }
}

pub(super) fn tr(t: &Strings, key: &str) -> String {
    t.get(key).map_or_else(|| key.to_string(), |s| s.to_string())
}

pub(super) const CSRF_FAILED: &str = "CSRF 校验失败 / CSRF check failed";

/// The signed-in officer or administrator with a matching form token; otherwise the
/// response to send (sign in, 403, or a CSRF failure).
pub(super) fn staff_with_csrf(
    state: &Shared,
    caller: &Caller,
    page: Page,
    csrf: Option<&str>,
) -> Result<Page, Box<Response>> {
    if !caller.is_signed_in() {
        return Err(Box::new(Redirect::to("/login").into_response()));
    }
    if !caller.is_staff() {
        let msg = tr(&strings(page.lang), "officers_only");
        return Err(Box::new(page.error(state, caller, StatusCode::FORBIDDEN, msg)));
    }
    if let Some(given) = csrf
        && !caller.csrf_ok(given)
    {
        return Err(Box::new(page.error(state, caller, StatusCode::FORBIDDEN, CSRF_FAILED.into())));
    }
    Ok(page)
}

/// A signed-in caller (any role) whose form token matches; otherwise the response to
/// send (sign in, or a CSRF failure).
pub(super) fn signed_in_with_csrf(
    state: &Shared,
    caller: &Caller,
    page: Page,
    f: &Fields,
) -> Result<Page, Box<Response>> {
    if !caller.is_signed_in() {
        return Err(Box::new(Redirect::to("/login").into_response()));
    }
    if !caller.csrf_ok(f.get("csrf").unwrap_or_default()) {
        return Err(Box::new(page.error(state, caller, StatusCode::FORBIDDEN, CSRF_FAILED.into())));
    }
    Ok(page)
}

/// A refusal as lines for the page: every reason the rules gave, or the one message.
pub(super) fn lines_of(e: AppError) -> (StatusCode, Vec<String>) {
    match e {
        AppError::Refused(reasons) => (StatusCode::UNPROCESSABLE_ENTITY, reasons),
        other => {
            let e = ApiError::from(other);
            (e.status, vec![e.message])
        }
    }
}

fn type_name(lt: &ListType, lang: Lang) -> &str {
    if lang == Lang::Zh { &lt.name_zh } else { &lt.name_en }
}

fn term_label(term: Term, t: &Strings, lang: Lang) -> String {
    match term {
        Term::Period(p) if lang == Lang::Zh => p.zh(),
        Term::Period(p) => p.to_string(),
        Term::Life => tr(t, "term_life"),
        Term::UntilRemoved => tr(t, "term_until_removed"),
    }
}

/// How a listing of this type ends, in words.
fn exit_route(lt: &ListType, lang: Lang) -> String {
    let zh = lang == Lang::Zh;
    match (lt.default_term, lt.early_removal_after) {
        (_, Some(p)) if zh => format!("有效期届满自动移出；列入满{}且已纠正失信行为的，可申请提前移出", p.zh()),
        (_, Some(p)) => format!("removed at the end of the term; early removal may be applied for after {p}"),
        (Term::UntilRemoved, None) if zh => "失信情形消除后申请，经列入部门决定移出".into(),
        (Term::UntilRemoved, None) => {
            "on application once the cause is removed, by the listing department's decision".into()
        }
        (Term::Life, None) if zh => "终身或按决定期限；决定被撤销的，予以移出".into(),
        (Term::Life, None) => "for life or the period decided; removed if the decision is revoked".into(),
        (Term::Period(_), None) if zh => "有效期届满自动移出".into(),
        (Term::Period(_), None) => "removed at the end of the term".into(),
    }
}

/// A listing as the portal shows it: the app's view (IDs masked) with labels in the
/// page's language, the decision document in the order its type lists the fields.
pub(super) fn entry(view: &ListingView, lang: Lang, t: &Strings) -> Value {
    let rules = ListRules::bundled();
    let l = &view.source;
    let lt = rules.list_type(&l.list_type);
    let mut v = json!(view);
    let zh = lang == Lang::Zh;
    v["type_label"] = json!(lt.map_or(l.list_type.as_str(), |lt| type_name(lt, lang)));
    // natural persons have no public page: their key is their ID
    v["link"] = match xinyong_core::SubjectCode::parse(&l.subject) {
        Ok(c) if c.kind() != xinyong_core::codes::SubjectKind::NaturalPerson => json!(c.key()),
        _ => Value::Null,
    };
    v["end_label"] = json!(match l.effective_end() {
        Some(d) => date_string(d),
        None if l.end.is_none() && lt.is_some_and(|lt| lt.default_term == Term::Life) => tr(t, "term_life"),
        None => tr(t, "no_end"),
    });
    v["status_label"] = json!(tr(t, &format!("status_{}", l.status.as_str())));
    v["removal_kind_label"] = json!(l.removal_kind.map(|k| tr(t, &format!("removal_{}", k.as_str()))));
    // an entry that follows from a record: the documents it cites, and how it ends
    if let Some(src) = &view.derived_from {
        let cites: Vec<String> = src.documents.iter().map(|(k, v)| format!("{k} {v}")).collect();
        v["cites"] = json!(cites.join("；"));
        v["removal"] = json!(tr(t, "exit_with_record"));
    }
    let mut doc = Vec::new();
    let mut shown = std::collections::BTreeSet::new();
    for f in lt.map(|lt| lt.decision_document_fields.as_slice()).unwrap_or_default() {
        if let Some(text) = l.document.get(&f.code) {
            doc.push(json!({"label": if zh { &f.name_zh } else { &f.name_en }, "text": text}));
            shown.insert(f.code.as_str());
        }
    }
    for (k, text) in &l.document {
        if !shown.contains(k.as_str()) {
            let label = if k == "objection_reply" { tr(t, "objection_reply") } else { k.clone() };
            doc.push(json!({"label": label, "text": text}));
        }
    }
    v["doc"] = json!(doc);
    if let Some(persons) = v.get_mut("persons").and_then(Value::as_array_mut) {
        for p in persons {
            let role = p.get("role").and_then(Value::as_str).unwrap_or_default().to_string();
            p["role_label"] = json!(tr(t, &format!("role_{role}")));
        }
    }
    v
}

// ---- public lists -----------------------------------------------------------------

async fn lists_page(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Query(c): Query<Common>,
) -> Response {
    let page = Page::new(&headers, &c);
    let t = strings(page.lang);
    let staff = caller.is_staff();
    let types: Vec<Value> = ListRules::bundled()
        .list_types()
        .map(|lt| {
            json!({
                "code": lt.code,
                "name": type_name(lt, page.lang),
                "public": lt.public,
                "readable": lt.public || staff,
                "term": term_label(lt.default_term, &t, page.lang),
                "notice": lt.requires_notice,
                "objection_days": lt.objection_working_days,
                "exit": exit_route(lt, page.lang),
            })
        })
        .collect();
    page.render(&state, &caller, "lists.html", json!({"types": types}), StatusCode::OK)
}

#[derive(Debug, Deserialize)]
struct ListParams {
    #[serde(default)]
    after: i64,
    lang: Option<String>,
}

async fn list_page(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Path(code): Path<String>,
    Query(p): Query<ListParams>,
) -> Response {
    let page = Page::new(&headers, &Common { lang: p.lang.clone() });
    let t = strings(page.lang);
    let Some(lt) = ListRules::bundled().list_type(&code) else {
        return page.error(&state, &caller, StatusCode::NOT_FOUND, tr(&t, "unknown_list"));
    };
    if !lt.public && !caller.is_staff() {
        return page.error(&state, &caller, StatusCode::FORBIDDEN, tr(&t, "list_not_public"));
    }
    let (who, list_type, after) = (caller.who.clone(), lt.code.clone(), p.after.max(0));
    let found = blocking(&state, move |app| app.list_entries(&who, &list_type, after, PER_PAGE)).await;
    let (listings, regional) = match found {
        Ok(l) => (l.entries, l.regional),
        Err(e) => return page.error(&state, &caller, e.status, e.message),
    };
    let next = (listings.len() as u32 == PER_PAGE).then(|| listings.last().map(|l| l.id)).flatten();
    let entries: Vec<Value> = listings.iter().map(|l| entry(l, page.lang, &t)).collect();
    let ctx = json!({
        "type": {"code": lt.code, "name": type_name(lt, page.lang), "public": lt.public,
                 "term": term_label(lt.default_term, &t, page.lang), "exit": exit_route(lt, page.lang)},
        "entries": entries,
        "regional": regional,
        "after": p.after,
        "next_after": next,
    });
    page.render(&state, &caller, "list.html", ctx, StatusCode::OK)
}

/// The 信用名单 section of a subject page: the subject's listings the caller may see.
pub(super) async fn subject_listings(
    state: &Shared,
    caller: &Caller,
    code: String,
    lang: Lang,
) -> Result<Vec<Value>, ApiError> {
    let who = caller.who.clone();
    let listings = blocking(state, move |app| app.listings_of_subject(&who, &code)).await?;
    let t = strings(lang);
    Ok(listings
        .iter()
        .map(|l| {
            let mut v = entry(l, lang, &t);
            // the record an entry follows from is on the same page
            v["record_anchor"] = Value::Bool(true);
            v
        })
        .collect())
}

// ---- the listing procedure ------------------------------------------------------------

/// The outcome of a form: a confirmation, or the reasons it was refused.
struct Outcome {
    ok: bool,
    lines: Vec<String>,
}

impl Outcome {
    fn refused(lines: Vec<String>) -> Outcome {
        Outcome { ok: false, lines }
    }
}

#[derive(Debug, Deserialize)]
struct OfficerParams {
    department: Option<String>,
    lang: Option<String>,
}

async fn officer_page(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Query(p): Query<OfficerParams>,
) -> Response {
    let page = Page::new(&headers, &Common { lang: p.lang.clone() });
    let page = match staff_with_csrf(&state, &caller, page, None) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    render_officer(state, caller, page, p.department, None).await
}

/// Checks and feedback per department: every department for administrators, their own
/// for officers.
async fn stats_page(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Query(c): Query<Common>,
) -> Response {
    let page = Page::new(&headers, &c);
    let page = match staff_with_csrf(&state, &caller, page, None) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let who = caller.who.clone();
    let stats = blocking(&state, move |app| app.check_stats(&who)).await;
    let stats = match stats {
        Ok(x) => x,
        Err(e) => return page.error(&state, &caller, e.status, e.message),
    };
    let rows: Vec<Value> = stats
        .iter()
        .map(|f| {
            let d = &f.stats;
            let rate = (d.with_feedback * 1000).checked_div(d.checks).unwrap_or(0);
            json!({"department": d.department, "checks": d.checks, "non_clear": d.non_clear,
                   "with_feedback": d.with_feedback, "rate": format!("{}.{}%", rate / 10, rate % 10),
                   "applied": d.measures_applied, "not_applied": d.measures_not_applied})
        })
        .collect();
    page.render(&state, &caller, "stats.html", json!({"rows": rows}), StatusCode::OK)
}

/// Union of the decision document fields of every type, in first-seen order.
fn all_document_fields(lang: Lang) -> Vec<Value> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for lt in ListRules::bundled().list_types() {
        for f in &lt.decision_document_fields {
            if seen.insert(f.code.clone()) {
                out.push(json!({"code": f.code, "label": if lang == Lang::Zh { &f.name_zh } else { &f.name_en }}));
            }
        }
    }
    out
}

async fn render_officer(
    state: Shared,
    caller: Caller,
    page: Page,
    stated: Option<String>,
    outcome: Option<(StatusCode, Outcome)>,
) -> Response {
    let t = strings(page.lang);
    let department = match caller.role() {
        xinyong_app::Role::Officer { department } => Some(department.clone()),
        _ => stated.map(|d| d.trim().to_string()).filter(|d| !d.is_empty()),
    };
    let (who, provider) = (caller.who.clone(), department.clone());
    let found = blocking(&state, move |app| app.department_listings(&who, provider.as_deref())).await;
    let (noticed, listed) = match found {
        Ok(x) => x,
        Err(e) => return page.error(&state, &caller, e.status, e.message),
    };
    let rules = ListRules::bundled();
    let noticed: Vec<Value> = noticed
        .iter()
        .map(|view| {
            let l = &view.source;
            let mut v = entry(view, page.lang, &t);
            let fields: Vec<Value> = rules
                .list_type(&l.list_type)
                .map(|lt| lt.decision_document_fields.as_slice())
                .unwrap_or_default()
                .iter()
                .map(|f| {
                    let prefill = match f.code.as_str() {
                        "reason" => Some(l.reason.clone()),
                        "basis" => l.basis.clone(),
                        _ => None,
                    };
                    json!({"code": f.code, "label": if page.lang == Lang::Zh { &f.name_zh } else { &f.name_en },
                           "value": prefill})
                })
                .collect();
            v["decision_fields"] = json!(fields);
            v["needs_reply"] = json!(!l.objections.is_empty());
            v
        })
        .collect();
    let listed: Vec<Value> = listed.iter().map(|l| entry(l, page.lang, &t)).collect();
    // lists that follow from records are not proposed by hand
    let types: Vec<Value> = rules
        .list_types()
        .filter(|lt| lt.entries_from == xinyong_core::lists::EntriesFrom::Decisions)
        .map(|lt| json!({"code": lt.code, "name": type_name(lt, page.lang), "notice": lt.requires_notice, "scoped": lt.scoped}))
        .collect();
    let removal_kinds: Vec<Value> = ["early_removal", "repair", "decision_revoked", "withdrawn"]
        .iter()
        .map(|k| json!({"code": k, "label": tr(&t, &format!("removal_{k}"))}))
        .collect();
    let status = outcome.as_ref().map_or(StatusCode::OK, |o| o.0);
    let ctx = json!({
        "department": department,
        "is_admin": caller.is_admin(),
        "noticed": noticed,
        "listed": listed,
        "types": types,
        "scopes": scopes(page.lang),
        "doc_fields": all_document_fields(page.lang),
        "removal_kinds": removal_kinds,
        "today": date_string(xinyong_app::today_shanghai()),
        "outcome": outcome.map(|(_, o)| json!({"ok": o.ok, "lines": o.lines})),
    });
    page.render(&state, &caller, "officer_listings.html", ctx, status)
}

/// Form fields by name (the last value wins); blank values count as absent.
pub(super) struct Fields(pub(super) Vec<(String, String)>);

impl Fields {
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }

    pub(super) fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().to_string()
    }

    /// `doc_<code>` fields as a decision document.
    fn document(&self) -> BTreeMap<String, String> {
        self.0
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("doc_")?.to_string(), v.trim().to_string())))
            .filter(|(_, v)| !v.is_empty())
            .collect()
    }
}

fn date_field(name: &str, label: &str, s: Option<&str>) -> Result<Option<Date>, String> {
    match s {
        None => Ok(None),
        Some(s) => xinyong_core::record::parse_date(s)
            .map(Some)
            .ok_or_else(|| format!("{label}“{s}”不是有效日期 / {name} is not a date (YYYY-MM-DD)")),
    }
}

fn required_date(name: &str, label: &str, s: Option<&str>) -> Result<Date, String> {
    date_field(name, label, s)?.ok_or_else(|| format!("请填写{label} / {name} is required"))
}

/// `role,name,ID` per line.
fn persons_of(text: &str) -> Result<Vec<ResponsiblePerson>, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let cells: Vec<&str> = l.split([',', '，']).map(str::trim).collect();
            match cells.as_slice() {
                [role, name] => Ok(ResponsiblePerson { role: role.to_string(), name: name.to_string(), id: None }),
                [role, name, id] => Ok(ResponsiblePerson {
                    role: role.to_string(),
                    name: name.to_string(),
                    id: (!id.is_empty()).then(|| id.to_string()),
                }),
                _ => Err(format!("责任人格式应为“角色,姓名,身份证号” / a person is “role,name,ID”: {l:?}")),
            }
        })
        .collect()
}

/// The decision a form asks for, its dates checked with the form's own labels.
fn decision_of(f: &Fields) -> Result<DecisionRequest, Vec<String>> {
    let mut errors = Vec::new();
    let mut ok = |r: Result<Option<Date>, String>| r.map_err(|e| errors.push(e)).ok().flatten();
    let decision_date = ok(required_date("decision_date", "决定日期", f.get("decision_date")).map(Some));
    let start = ok(date_field("start", "起始日期", f.get("start")));
    let end = ok(date_field("end", "届满日期", f.get("end")));
    match decision_date {
        Some(decision_date) if errors.is_empty() => Ok(DecisionRequest {
            decision_date: date_string(decision_date),
            start: start.map(date_string),
            end: end.map(date_string),
            document: f.document(),
        }),
        _ => Err(errors),
    }
}

/// Runs one procedure step (a use case of the app) on the blocking pool; refusals come
/// back with every reason.
async fn run_step(
    state: &Shared,
    step: impl FnOnce(&xinyong_app::App) -> xinyong_app::Result<StepAnswer> + Send + 'static,
) -> Result<ListingView, (StatusCode, Vec<String>)> {
    let app = state.app.clone();
    match tokio::task::spawn_blocking(move || step(&app)).await {
        Ok(Ok(answer)) => Ok(answer.listing),
        Ok(Err(e)) => Err(lines_of(e)),
        Err(e) => Err((StatusCode::INTERNAL_SERVER_ERROR, vec![e.to_string()])),
    }
}

async fn propose(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(form);
    let page = Page::new(&headers, &Common::default());
    let page = match staff_with_csrf(&state, &caller, page, Some(f.get("csrf").unwrap_or_default())) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let stated = f.get("department").map(str::to_string);
    let t = strings(page.lang);
    let result = match proposal_of(&f) {
        Ok(req) => {
            let who = caller.who.clone();
            run_step(&state, move |app| app.propose_listing(&who, req, "portal")).await
        }
        Err(lines) => Err((StatusCode::UNPROCESSABLE_ENTITY, lines)),
    };
    let outcome = match result {
        Ok(l) => {
            let key = if l.status == ListingStatus::Noticed { "done_noticed" } else { "done_decided" };
            (StatusCode::OK, Outcome { ok: true, lines: vec![format!("#{} {}", l.id, tr(&t, key))] })
        }
        Err((status, lines)) => (status, Outcome::refused(lines)),
    };
    render_officer(state, caller, page, stated, Some(outcome)).await
}

/// The listing a proposal form asks for: notice, or a direct decision.
fn proposal_of(f: &Fields) -> Result<ListingRequest, Vec<String>> {
    let persons = persons_of(&f.text("persons")).map_err(|e| vec![e])?;
    let direct = f.get("mode") == Some("direct");
    let notice_date = if direct {
        None
    } else {
        Some(date_string(required_date("notice_date", "告知日期", f.get("notice_date")).map_err(|e| vec![e])?))
    };
    let decision = if direct { Some(decision_of(f)?) } else { None };
    Ok(ListingRequest {
        code: f.text("code"),
        list_type: f.text("list_type"),
        basis: f.get("basis").map(str::to_string),
        reason: f.text("reason"),
        notice_date,
        persons,
        scope: f.get("scope").map(str::trim).filter(|s| !s.is_empty()).map(str::to_string),
        decision,
        department: f.get("department").map(str::to_string),
    })
}

/// The decision or removal a step form asks for.
enum FormStep {
    Decide(DecisionRequest),
    Remove(RemovalRequest),
}

async fn decide(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    step_form(state, caller, headers, id, Fields(form), |f| decision_of(f).map(FormStep::Decide)).await
}

async fn remove(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    step_form(state, caller, headers, id, Fields(form), |f| {
        let date = required_date("date", "移出日期", f.get("date")).map_err(|e| vec![e])?;
        Ok(FormStep::Remove(RemovalRequest { date: date_string(date), kind: f.text("kind"), reason: f.text("reason") }))
    })
    .await
}

/// A decision or removal posted from the officer page: the form token, the fields, the
/// step itself (who may act is the app's to decide); the page again with the outcome.
async fn step_form(
    state: Shared,
    caller: Caller,
    headers: HeaderMap,
    id: i64,
    f: Fields,
    parse: impl FnOnce(&Fields) -> Result<FormStep, Vec<String>>,
) -> Response {
    let page = Page::new(&headers, &Common::default());
    let page = match staff_with_csrf(&state, &caller, page, Some(f.get("csrf").unwrap_or_default())) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let t = strings(page.lang);
    let result = match parse(&f) {
        Err(lines) => Err((StatusCode::UNPROCESSABLE_ENTITY, lines)),
        Ok(step) => {
            let done = match step {
                FormStep::Decide(_) => "done_decided",
                FormStep::Remove(_) => "done_removed",
            };
            let who = caller.who.clone();
            run_step(&state, move |app| match step {
                FormStep::Decide(d) => app.decide_listing(&who, id, d, "portal"),
                FormStep::Remove(r) => app.remove_listing(&who, id, r, "portal"),
            })
            .await
            .map(|l| (l, done))
        }
    };
    let outcome = match result {
        Ok((l, done)) => (StatusCode::OK, Outcome { ok: true, lines: vec![format!("#{} {}", l.id, tr(&t, done))] }),
        Err((status, lines)) => (status, Outcome::refused(lines)),
    };
    let stated = f.get("department").map(str::to_string);
    render_officer(state, caller, page, stated, Some(outcome)).await
}

// ---- checks before acting ---------------------------------------------------------------

fn matters(t: &Strings) -> Vec<Value> {
    let mut out: Vec<Value> = ListRules::bundled()
        .matters()
        .into_iter()
        .map(|m| json!({"code": m, "label": tr(t, &format!("matter_{m}"))}))
        .collect();
    // the commitment matters (告知承诺事项): whether the subject may use the commitment
    if let Ok(list) = xinyong_core::commitment::matters::Matters::bundled() {
        out.extend(
            list.matters
                .iter()
                .filter(|m| !m.registration)
                .map(|m| json!({"code": m.code, "label": matter_label(t, &m.code)})),
        );
    }
    out
}

/// A check matter's label: a measures-list matter by its string, a commitment matter by
/// its kind and name.
fn matter_label(t: &Strings, matter: &str) -> String {
    match xinyong_core::commitment::matters::Matters::bundled().ok().and_then(|l| l.matter(matter)) {
        Some(m) => format!("{} · {}", m.kind.name_zh(), m.name_zh),
        None => tr(t, &format!("matter_{matter}")),
    }
}

/// The form's values, shown again with the result.
#[derive(Debug, Deserialize, Default, serde::Serialize)]
struct CheckForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    codes: String,
    #[serde(default)]
    matter: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    as_of: String,
    #[serde(default)]
    department: String,
    #[serde(default)]
    domain: String,
}

/// The ban domains for a select, labelled in the page's language.
fn scopes(lang: Lang) -> Vec<Value> {
    ListRules::bundled()
        .scopes()
        .iter()
        .map(|s| json!({"code": s.code, "label": if lang == Lang::Zh { &s.name_zh } else { &s.name_en }}))
        .collect()
}

fn check_page(
    state: &Shared,
    caller: &Caller,
    page: Page,
    form: &CheckForm,
    extra: Value,
    status: StatusCode,
) -> Response {
    let t = strings(page.lang);
    let mut ctx = json!({
        "matters": matters(&t),
        "scopes": scopes(page.lang),
        "form": {"code": form.code, "codes": form.codes, "matter": if form.matter.is_empty() { "government_procurement" } else { form.matter.as_str() },
                 "purpose": form.purpose, "as_of": form.as_of, "department": form.department, "domain": form.domain},
        "is_admin": caller.is_admin(),
        "max_batch": MAX_BATCH_CODES,
    });
    if let (Some(o), Value::Object(e)) = (ctx.as_object_mut(), extra) {
        o.extend(e);
    }
    page.render(state, caller, "check.html", ctx, status)
}

async fn check_form(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Query(c): Query<Common>,
) -> Response {
    let page = Page::new(&headers, &c);
    let page = match staff_with_csrf(&state, &caller, page, None) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    check_page(&state, &caller, page, &CheckForm::default(), json!({}), StatusCode::OK)
}

/// The measures of a check for the feedback form, from the measures list.
fn feedback_measures(ids: &[String], lang: Lang) -> Vec<Value> {
    let rules = ListRules::bundled();
    ids.iter()
        .map(|id| {
            let m = rules.measure(id);
            json!({"id": id, "name": m.map(|m| if lang == Lang::Zh { &m.name_zh } else { &m.name_en })})
        })
        .collect()
}

/// One answer of a batch check with labels in the page's language.
fn label_answer(mut v: Value, lang: Lang, t: &Strings) -> Value {
    let verdict = v.get("verdict").and_then(Value::as_str).unwrap_or("clear").to_string();
    v["verdict_label"] = json!(tr(t, &format!("verdict_{verdict}")));
    v["matter_label"] = json!(matter_label(t, v["matter"].as_str().unwrap_or_default()));
    let rules = ListRules::bundled();
    if let Some(lists) = v.get_mut("lists").and_then(Value::as_array_mut) {
        for l in lists {
            let code = l.get("type").and_then(Value::as_str).unwrap_or_default().to_string();
            if let Some(lt) = rules.list_type(&code) {
                l["type_label"] = json!(type_name(lt, lang));
            }
        }
    }
    if let Some(measures) = v.get_mut("measures").and_then(Value::as_array_mut) {
        for m in measures {
            let effect = m.get("effect").and_then(Value::as_str).unwrap_or_default().to_string();
            m["effect_label"] = json!(tr(t, &format!("effect_{effect}")));
            if lang == Lang::En {
                m["name"] = m["name_en"].clone();
            }
        }
    }
    v
}

/// Runs the checks of `codes` as the API does (one logged row per answered code).
async fn run_checks(
    state: &Shared,
    caller: &Caller,
    form: &CheckForm,
    codes: &[String],
) -> Result<Vec<Value>, ApiError> {
    let req = BatchCheckRequest {
        codes: codes.to_vec(),
        matter: form.matter.clone(),
        department: Some(form.department.clone()).filter(|d| !d.trim().is_empty()),
        purpose: form.purpose.clone(),
        as_of: Some(form.as_of.clone()).filter(|d| !d.trim().is_empty()),
        domain: Some(form.domain.clone()).filter(|d| !d.trim().is_empty()),
    };
    let items = state.app.check_batch(caller, req).await?;
    Ok(items.iter().map(|i| json!(i)).collect())
}

async fn check(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Form(form): Form<CheckForm>,
) -> Response {
    let page = Page::new(&headers, &Common::default());
    let page = match staff_with_csrf(&state, &caller, page, Some(&form.csrf)) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let t = strings(page.lang);
    let answer = match run_checks(&state, &caller, &form, &[form.code.trim().to_string()]).await {
        Ok(mut r) => r.pop(),
        Err(e) if e.status.is_server_error() => return page.error(&state, &caller, e.status, e.message),
        Err(e) => return check_page(&state, &caller, page, &form, json!({"error": e.message}), e.status),
    };
    let Some(answer) = answer else {
        return page.error(&state, &caller, StatusCode::INTERNAL_SERVER_ERROR, "no answer".into());
    };
    if let Some(msg) = answer.pointer("/error/message").and_then(Value::as_str) {
        let extra = json!({"error": msg});
        return check_page(&state, &caller, page, &form, extra, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let ids: Vec<String> = answer["measures"]
        .as_array()
        .map(|ms| ms.iter().filter_map(|m| m["id"].as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    let fb = json!({"check_id": answer["check_id"], "measures": feedback_measures(&ids, page.lang)});
    let extra = json!({"result": label_answer(answer, page.lang, &t), "fb": fb});
    check_page(&state, &caller, page, &form, extra, StatusCode::OK)
}

/// The codes of a pasted list or CSV: one per line; in a line with several cells the
/// first that is a valid code (a first line without one is a header); blank lines skipped.
fn codes_of(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split([',', '\t', ';', '，']).map(|c| c.trim().trim_matches('"')).collect();
        if cells.len() == 1 {
            out.push(cells[0].to_string());
            continue;
        }
        match cells.iter().find(|c| xinyong_core::SubjectCode::parse(c).is_ok()) {
            Some(c) => out.push(c.to_string()),
            None if i == 0 => {}
            // the longest cell is the best guess at the code, so its error is shown
            None => out.push(cells.iter().max_by_key(|c| c.len()).map(|c| c.to_string()).unwrap_or_default()),
        }
    }
    out
}

async fn check_batch(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Form(form): Form<CheckForm>,
) -> Response {
    let page = Page::new(&headers, &Common::default());
    let page = match staff_with_csrf(&state, &caller, page, Some(&form.csrf)) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let t = strings(page.lang);
    let codes = codes_of(&form.codes);
    if codes.is_empty() || codes.len() > MAX_BATCH_CODES {
        let msg = format!("每批 1–{MAX_BATCH_CODES} 个代码 / 1–{MAX_BATCH_CODES} codes per batch");
        return check_page(&state, &caller, page, &form, json!({"error": msg}), StatusCode::UNPROCESSABLE_ENTITY);
    }
    match run_checks(&state, &caller, &form, &codes).await {
        Ok(results) => {
            let rows: Vec<Value> = results.into_iter().map(|r| label_answer(r, page.lang, &t)).collect();
            check_page(&state, &caller, page, &form, json!({"batch": rows}), StatusCode::OK)
        }
        Err(e) if e.status.is_server_error() => page.error(&state, &caller, e.status, e.message),
        Err(e) => check_page(&state, &caller, page, &form, json!({"error": e.message}), e.status),
    }
}

async fn feedback(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(form);
    let page = Page::new(&headers, &Common::default());
    let page = match staff_with_csrf(&state, &caller, page, Some(f.get("csrf").unwrap_or_default())) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let t = strings(page.lang);
    // `m:<measure>` = applied | not_applied, `r:<measure>` = the reason when not applied
    let mut applied = Vec::new();
    let mut not_applied = Vec::new();
    for (k, v) in &f.0 {
        let Some(m) = k.strip_prefix("m:") else { continue };
        match v.as_str() {
            "applied" => applied.push(m.to_string()),
            _ => not_applied.push(NotApplied { id: m.to_string(), reason: f.text(&format!("r:{m}")) }),
        }
    }
    let req = FeedbackRequest { applied, not_applied, note: f.get("note").map(str::to_string) };
    let (who, id2) = (caller.who.clone(), id.clone());
    match blocking(&state, move |app| app.check_feedback(&who, &id2, req)).await {
        Ok(row) => {
            let done = json!({"check_id": row.id, "message": tr(&t, "feedback_ok"),
                               "applied": feedback_measures(&row.feedback.as_ref().map(|f| f.applied.clone()).unwrap_or_default(), page.lang),
                               "not_applied": row.feedback.as_ref().map(|f| &f.not_applied)});
            check_page(&state, &caller, page, &CheckForm::default(), json!({"feedback_done": done}), StatusCode::OK)
        }
        Err(e)
            if e.status.is_server_error() || e.status == StatusCode::NOT_FOUND || e.status == StatusCode::FORBIDDEN =>
        {
            page.error(&state, &caller, e.status, e.message)
        }
        Err(e) => {
            // show the form again with the reason (a missing answer, a missing reason, already given)
            let (who, id2) = (caller.who.clone(), id.clone());
            let row = blocking(&state, move |app| app.check_entry(&who, &id2)).await.ok();
            let ids = row.map(|r| r.measures).unwrap_or_default();
            let fb = json!({"check_id": id, "measures": feedback_measures(&ids, page.lang), "error": e.message});
            check_page(&state, &caller, page, &CheckForm::default(), json!({"fb": fb}), e.status)
        }
    }
}

// ---- an entity's own page -------------------------------------------------------------

pub(super) fn time_of(at_ms: i64) -> String {
    let offset = time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC);
    match time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(at_ms) * 1_000_000) {
        Ok(t) => {
            let t = t.to_offset(offset);
            format!("{} {:02}:{:02}", date_string(t.date()), t.hour(), t.minute())
        }
        Err(_) => String::new(),
    }
}

/// The entity objects to a noticed listing within its window (异议), from its own account.
async fn object_form(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(form);
    let page = Page::new(&headers, &Common::default());
    if !caller.is_signed_in() {
        return Redirect::to("/login").into_response();
    }
    if caller.own_subject().is_none() {
        let msg = tr(&strings(page.lang), "not_subject_account");
        return page.error(&state, &caller, StatusCode::FORBIDDEN, msg);
    }
    if !caller.csrf_ok(f.get("csrf").unwrap_or_default()) {
        return page.error(&state, &caller, StatusCode::FORBIDDEN, CSRF_FAILED.into());
    }
    let date = f.get("date").and_then(xinyong_core::record::parse_date).unwrap_or_else(xinyong_app::today_shanghai);
    let req = ObjectionRequest { date: date_string(date), text: f.get("text").unwrap_or_default().to_string() };
    let who = caller.who.clone();
    let result = blocking(&state, move |app| app.object_to_listing(&who, id, req, "portal").map(|_| ())).await;
    match result {
        Ok(()) => Redirect::to("/me").into_response(),
        Err(e) => page.error(&state, &caller, e.status, e.message),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[test]
    fn codes_of_a_pasted_list_or_csv() {
        let text = "\u{feff}序号,名称,统一社会信用代码\n1,甲公司,91110108551385082Q\n\n2,乙公司,not-a-code-at-all\n";
        assert_eq!(super::codes_of(text), vec!["91110108551385082Q", "not-a-code-at-all"]);
        assert_eq!(
            super::codes_of(" 91110108551385082Q \n91110108551385082R"),
            vec!["91110108551385082Q", "91110108551385082R"]
        );
    }

    #[test]
    fn persons_lines() {
        let p = super::persons_of("legal_representative,王建国,11010519491231002X\nprincipal，李四").unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].id, None);
        assert!(super::persons_of("just-a-name").is_err());
    }
}
