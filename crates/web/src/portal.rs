//! The public portal: server-rendered pages that work without JavaScript, Chinese
//! first with an English switch, personal data masked everywhere.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use xinyong_app::accounts::new_secret;
use xinyong_app::ledger::{from_hex, verify_inclusion_in};

use crate::auth::{Caller, SESSION_COOKIE, SESSION_HOURS, cookie};
use crate::i18n::{Lang, strings};
use crate::{ApiError, Shared, WebError, blocking};

mod cases;
mod commitments;
mod grades;
mod inspections;
mod lists;
mod quality;
mod reports;

const LOGIN_CSRF_COOKIE: &str = "xy_login_csrf";

pub fn templates() -> Result<minijinja::Environment<'static>, WebError> {
    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    for (name, text) in [
        ("base.html", include_str!("../templates/base.html")),
        ("home.html", include_str!("../templates/home.html")),
        ("search.html", include_str!("../templates/search.html")),
        ("subject.html", include_str!("../templates/subject.html")),
        ("catalog.html", include_str!("../templates/catalog.html")),
        ("proof.html", include_str!("../templates/proof.html")),
        ("login.html", include_str!("../templates/login.html")),
        ("error.html", include_str!("../templates/error.html")),
        ("quarantine.html", include_str!("../templates/quarantine.html")),
        ("listing.html", include_str!("../templates/listing.html")),
        ("lists.html", include_str!("../templates/lists.html")),
        ("list.html", include_str!("../templates/list.html")),
        ("officer_listings.html", include_str!("../templates/officer_listings.html")),
        ("check.html", include_str!("../templates/check.html")),
        ("me.html", include_str!("../templates/me.html")),
        ("stats.html", include_str!("../templates/stats.html")),
        ("objection_form.html", include_str!("../templates/objection_form.html")),
        ("repair_form.html", include_str!("../templates/repair_form.html")),
        ("case_receipt.html", include_str!("../templates/case_receipt.html")),
        ("follow.html", include_str!("../templates/follow.html")),
        ("cases.html", include_str!("../templates/cases.html")),
        ("case.html", include_str!("../templates/case.html")),
        ("correction.html", include_str!("../templates/correction.html")),
        ("inbox.html", include_str!("../templates/inbox.html")),
        ("quality.html", include_str!("../templates/quality.html")),
        ("commitments.html", include_str!("../templates/commitments.html")),
        ("commitment_form.html", include_str!("../templates/commitment_form.html")),
        ("commitment.html", include_str!("../templates/commitment.html")),
        ("registration_form.html", include_str!("../templates/registration_form.html")),
        ("grades.html", include_str!("../templates/grades.html")),
        ("grade_figures.html", include_str!("../templates/grade_figures.html")),
        ("centre_figures.html", include_str!("../templates/centre_figures.html")),
        ("inspections.html", include_str!("../templates/inspections.html")),
        ("inspection.html", include_str!("../templates/inspection.html")),
        ("inspection_form.html", include_str!("../templates/inspection_form.html")),
        ("report.html", include_str!("../templates/report.html")),
        ("verify.html", include_str!("../templates/verify.html")),
    ] {
        env.add_template(name, text)?;
    }
    env.add_filter("urlencode", |s: String| -> String { urlencode(&s) });
    Ok(env)
}

/// Percent-encodes everything but the unreserved characters (RFC 3986).
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/", get(home))
        .route("/search", get(search))
        .route("/subjects/{code}", get(subject))
        .route("/catalog", get(catalog))
        .route("/ledger/{index}", get(proof))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/quarantine", get(quarantine_page))
        .route("/quarantine/{id}/resubmit", post(resubmit_form))
        .merge(lists::routes())
        .merge(cases::routes())
        .merge(commitments::routes())
        .merge(grades::routes())
        .merge(inspections::routes())
        .merge(quality::routes())
        .merge(reports::routes())
        .route(
            "/static/site.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], include_str!("../static/site.css")) }),
        )
}

#[derive(Debug, Deserialize, Default)]
pub struct Common {
    lang: Option<String>,
}

/// The language: `?lang=` first, then the cookie, then Chinese.
fn lang_of(headers: &HeaderMap, q: &Common) -> (Lang, Option<&'static str>) {
    let chosen = q.lang.as_deref().map(|l| if l.starts_with("en") { Lang::En } else { Lang::Zh });
    if let Some(l) = chosen {
        return (
            l,
            Some(if l == Lang::En {
                "lang=en; Path=/; Max-Age=31536000; SameSite=Lax"
            } else {
                "lang=zh; Path=/; Max-Age=31536000; SameSite=Lax"
            }),
        );
    }
    (if cookie(headers, "lang").as_deref() == Some("en") { Lang::En } else { Lang::Zh }, None)
}

struct Page {
    lang: Lang,
    set_cookie: Vec<String>,
}

impl Page {
    fn new(headers: &HeaderMap, q: &Common) -> Page {
        let (lang, cookie) = lang_of(headers, q);
        Page { lang, set_cookie: cookie.map(str::to_string).into_iter().collect() }
    }

    fn render(self, state: &Shared, caller: &Caller, name: &str, mut ctx: Value, status: StatusCode) -> Response {
        if let Some(o) = ctx.as_object_mut() {
            o.insert("lang".into(), self.lang.code().into());
            o.insert("t".into(), json!(strings(self.lang)));
            if let Some(account) = caller.account() {
                o.insert("account".into(), json!(account));
                o.insert("csrf".into(), json!(caller.csrf));
                // what the navigation offers follows the app's roles, not role strings
                o.insert("is_staff".into(), json!(caller.is_staff()));
                o.insert("is_subject".into(), json!(caller.own_subject().is_some()));
            }
        }
        let html = state.templates.get_template(name).and_then(|t| t.render(&ctx));
        let mut res = match html {
            Ok(h) => (status, Html(h)).into_response(),
            Err(e) => ApiError::internal(format!("template {name}: {e:#}")).into_response(),
        };
        for c in self.set_cookie {
            if let Ok(v) = HeaderValue::from_str(&c) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
        }
        res.headers_mut()
            .insert("content-language", HeaderValue::from_static(if self.lang == Lang::Zh { "zh-CN" } else { "en" }));
        res
    }

    fn error(self, state: &Shared, caller: &Caller, status: StatusCode, message: String) -> Response {
        let title = strings(self.lang)
            .get(if status == StatusCode::NOT_FOUND { "not_found" } else { "error" })
            .copied()
            .unwrap_or("");
        self.render(state, caller, "error.html", json!({"title": title, "message": message}), status)
    }
}

async fn home(State(state): State<Shared>, caller: Caller, headers: HeaderMap, Query(c): Query<Common>) -> Response {
    let page = Page::new(&headers, &c);
    match blocking(&state, |app| app.counts()).await {
        Ok(counts) => page.render(&state, &caller, "home.html", json!({"counts": counts}), StatusCode::OK),
        Err(e) => page.error(&state, &caller, e.status, e.message),
    }
}

#[derive(Debug, Deserialize)]
struct SearchParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    offset: usize,
    lang: Option<String>,
}

async fn search(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Query(p): Query<SearchParams>,
) -> Response {
    let page = Page::new(&headers, &Common { lang: p.lang.clone() });
    const PER_PAGE: usize = 20;
    let result = match state.app.search(&p.q, p.offset, PER_PAGE) {
        Ok(r) => r,
        Err(e) => {
            let e = ApiError::from(e);
            return page.error(&state, &caller, e.status, e.message);
        }
    };
    // an exact, valid code goes straight to its page
    if result.total == 1
        && p.offset == 0
        && let Some(h) = result.hits.first()
        && xinyong_core::codes::normalize_code(&p.q) == h.code
    {
        return Redirect::to(&format!("/subjects/{}", h.code)).into_response();
    }
    let hits: Vec<Value> = result
        .hits
        .iter()
        .map(|h| {
            let mut v = json!(h);
            // natural persons have no public link: their key is their ID
            v["code_link"] = if h.kind == "natural_person" { Value::Null } else { json!(h.code) };
            // a USCC names the division that registered it (positions 3-8)
            v["division_name"] = json!(
                xinyong_core::Uscc::parse(&h.code)
                    .ok()
                    .and_then(|u| xinyong_core::reference::division_name(u.division()))
            );
            v
        })
        .collect();
    let next = (p.offset + PER_PAGE < result.total).then_some(p.offset + PER_PAGE);
    let ctx = json!({
        "q": p.q,
        "page": {"total": result.total, "total_is_lower_bound": result.total_is_lower_bound, "offset": result.offset, "hits": hits},
        "prev_offset": p.offset.saturating_sub(PER_PAGE),
        "next_offset": next,
    });
    page.render(&state, &caller, "search.html", ctx, StatusCode::OK)
}

#[derive(Debug, Deserialize)]
struct SubjectParams {
    as_of: Option<String>,
    purpose: Option<String>,
    lang: Option<String>,
    /// The ledger index of a correction or revocation just made (shown as a confirmation).
    amended: Option<u64>,
}

/// Sections of the subject page, in the order 信用中国 prints them.
/// Records of an item in no section are shown under "other" (其他信息), never dropped.
const SECTIONS: &[(&str, &str, &[&str], bool)] = &[
    ("licences", "licences", &["admin_licence"], false),
    ("penalties", "penalties", &["admin_penalty"], true),
    ("enforcement", "enforcement", &["admin_enforcement"], false),
    ("inspections", "inspections", &["admin_inspection", "product_quality_failure"], false),
    (
        "admin_other",
        "admin_other",
        &[
            "admin_confirmation",
            "admin_levy",
            "admin_benefit",
            "admin_adjudication",
            "admin_compensation",
            "admin_reward",
        ],
        false,
    ),
    ("lists", "lists", &["abnormal_operation", "dishonest_debtor", "false_litigation"], false),
    ("commitments", "commitments", &["credit_commitment", "commitment_breach"], false),
    ("evaluations", "evaluations", &["tax_credit_rating"], false),
    ("honours", "honours", &["honour"], false),
    ("registrations", "registration_title", &["voluntary_registration"], false),
];

async fn subject(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Path(code): Path<String>,
    Query(p): Query<SubjectParams>,
) -> Response {
    let page = Page::new(&headers, &Common { lang: p.lang.clone() });
    let code = match xinyong_app::parse_code(&code) {
        Ok(c) => c,
        Err(e) => return page.error(&state, &caller, StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    };
    let as_of = match xinyong_app::day_or_today(p.as_of.as_deref()) {
        Ok(d) => d,
        Err(e) => {
            let e = ApiError::from(e);
            return page.error(&state, &caller, e.status, e.message);
        }
    };
    let key = code.key().to_string();
    let key_for_own = key.clone();
    let p_amended = p.amended;
    let who = caller.who.clone();
    let view = blocking(&state, move |app| app.subject(&who, &code, as_of, p.purpose)).await;
    let view = match view {
        Ok(Some(v)) => v,
        Ok(None) => {
            let msg = strings(page.lang).get("not_found").copied().unwrap_or("").to_string();
            return page.error(&state, &caller, StatusCode::NOT_FOUND, msg);
        }
        Err(e) => return page.error(&state, &caller, e.status, e.message),
    };
    let t = strings(page.lang);
    let sections = subject_sections(&view, &t);
    let listings = match lists::subject_listings(&state, &caller, key, page.lang).await {
        Ok(l) => l,
        Err(e) => return page.error(&state, &caller, e.status, e.message),
    };
    let summary = subject_summary(&view, &sections, &listings);
    let is_own = caller.own_subject() == Some(key_for_own.as_str());
    let grades =
        if is_own || caller.is_staff() { grades::grades_for(&state, &caller, &key_for_own).await } else { None };
    // forms and links name the subject by its code; a natural person's is never printed
    let code_param = (view.kind != "natural_person").then(|| key_for_own.clone());
    let ctx = json!({"s": view, "sections": sections, "summary": summary, "listings": listings, "is_own": is_own, "code_param": code_param,
                     "today": xinyong_core::record::date_string(xinyong_app::today_shanghai()),
                     "is_admin": caller.is_admin(), "amended": p_amended, "grades": grades});
    page.render(&state, &caller, "subject.html", ctx, StatusCode::OK)
}

/// The record sections of a subject page: the fixed ones, then one for items no
/// section names (so a new catalog item shows before the page learns its place);
/// newest decision first within each.
fn subject_sections(view: &xinyong_app::view::SubjectView, t: &lists::Strings) -> Vec<Value> {
    use xinyong_app::view::RecordView;
    fn newest_first(mut records: Vec<&RecordView>) -> Vec<&RecordView> {
        records.sort_by(|a, b| b.decision_date.cmp(&a.decision_date));
        records
    }
    let mut sections: Vec<Value> = SECTIONS
        .iter()
        .map(|(id, title, items, repairable)| {
            let records = newest_first(view.records.iter().filter(|r| items.contains(&r.item.as_str())).collect());
            json!({"id": id, "title": t.get(title).copied().unwrap_or(title), "items": items, "records": records, "repairable": repairable})
        })
        .collect();
    let known = |item: &str| item == "registration" || SECTIONS.iter().any(|s| s.2.contains(&item));
    let other = newest_first(view.records.iter().filter(|r| !known(&r.item)).collect());
    if !other.is_empty() {
        let items: std::collections::BTreeSet<&str> = other.iter().map(|r| r.item.as_str()).collect();
        sections.push(json!({"id": "other", "title": t.get("other").copied().unwrap_or("other"), "items": items,
                             "records": other, "repairable": false}));
    }
    sections
}

/// The summary a subject page opens with, counted from what the page shows: records
/// per section (and per catalog item where a section holds several), lists in force,
/// open objections, open rectifications and interviews.
fn subject_summary(view: &xinyong_app::view::SubjectView, sections: &[Value], listings: &[Value]) -> Value {
    let s = &view.summary;
    let tiles: Vec<Value> = sections
        .iter()
        .map(|sec| {
            let items: Vec<&xinyong_app::view::ItemCount> = s
                .items
                .iter()
                .filter(|c| sec["items"].as_array().is_some_and(|a| a.iter().any(|i| i.as_str() == Some(c.item.as_str()))))
                .collect();
            let count: usize = items.iter().map(|c| c.count).sum();
            json!({"id": sec["id"], "title": sec["title"], "count": count, "items": if items.len() > 1 { items } else { vec![] }})
        })
        .collect();
    let listed = listings.iter().filter(|l| l["status"] == "listed").count();
    let listing_disputes = listings.iter().filter(|l| !l["dispute"].is_null()).count();
    let open_cases = view.supervision.as_ref().map(|c| c.iter().filter(|c| c.outcome_zh.is_none()).count());
    json!({"tiles": tiles, "lists_in_force": listed, "disputed": s.disputed + listing_disputes,
           "revoked": s.revoked, "repaired": s.repaired, "open_cases": open_cases})
}

async fn catalog(State(state): State<Shared>, caller: Caller, headers: HeaderMap, Query(c): Query<Common>) -> Response {
    let page = Page::new(&headers, &c);
    let items: Vec<&xinyong_core::Item> = state.app.catalog().items().collect();
    page.render(&state, &caller, "catalog.html", json!({"items": items}), StatusCode::OK)
}

async fn proof(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Path(index): Path<u64>,
    Query(c): Query<Common>,
) -> Response {
    let page = Page::new(&headers, &c);
    let public = xinyong_app::Caller::public();
    let result = blocking(&state, move |app| {
        let p = app.ledger_proof(&public, index)?;
        // verify as an outsider would: from the hex strings, against the signed checkpoint
        let verifier = app.verifier();
        let head = verifier.verify(&p.checkpoint)?;
        let leaf = from_hex(&p.leaf_hash)?;
        let path: Vec<_> = p.proof.iter().filter_map(|h| from_hex(h).ok()).collect();
        let ok = verify_inclusion_in(verifier.tree_hash(), index, head.size, &leaf, &path, &head.root).is_ok();
        Ok((p, ok))
    })
    .await;
    match result {
        Ok((p, ok)) => page.render(&state, &caller, "proof.html", json!({"p": p, "verified": ok}), StatusCode::OK),
        Err(e) => page.error(&state, &caller, e.status, e.message),
    }
}

async fn login_form(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Query(c): Query<Common>,
) -> Response {
    let mut page = Page::new(&headers, &c);
    let token = new_secret("");
    page.set_cookie.push(format!("{LOGIN_CSRF_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict"));
    page.render(&state, &caller, "login.html", json!({"login_csrf": token}), StatusCode::OK)
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    csrf: String,
}

async fn login(State(state): State<Shared>, caller: Caller, headers: HeaderMap, Form(f): Form<LoginForm>) -> Response {
    let mut page = Page::new(&headers, &Common::default());
    // double-submit: the form's token must equal the cookie set with the form
    if cookie(&headers, LOGIN_CSRF_COOKIE).as_deref() != Some(f.csrf.as_str()) || f.csrf.is_empty() {
        return page.error(&state, &caller, StatusCode::FORBIDDEN, "CSRF 校验失败 / CSRF check failed".into());
    }
    let (username, password) = (f.username.clone(), f.password.clone());
    let session = blocking(&state, move |app| app.sign_in(&username, &password)).await;
    let session = match session {
        Ok(Some(s)) => s,
        Ok(None) => {
            let token = new_secret("");
            page.set_cookie.push(format!("{LOGIN_CSRF_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict"));
            return page.render(
                &state,
                &caller,
                "login.html",
                json!({"login_csrf": token, "failed": true}),
                StatusCode::UNAUTHORIZED,
            );
        }
        Err(e) => return page.error(&state, &caller, e.status, e.message),
    };
    let sid = session.session_id;
    let mut res = Redirect::to("/").into_response();
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let cookie =
        format!("{SESSION_COOKIE}={sid}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}", SESSION_HOURS * 3600);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(State(state): State<Shared>, caller: Caller, headers: HeaderMap, Form(f): Form<CsrfForm>) -> Response {
    if caller.csrf.is_none() {
        return Redirect::to("/").into_response();
    }
    if !caller.csrf_ok(&f.csrf) {
        return Page::new(&headers, &Common::default()).error(
            &state,
            &caller,
            StatusCode::FORBIDDEN,
            "CSRF 校验失败 / CSRF check failed".into(),
        );
    }
    if let Some(sid) = cookie(&headers, SESSION_COOKIE) {
        let _ = blocking(&state, move |app| app.sign_out(&sid)).await;
    }
    let mut res = Redirect::to("/").into_response();
    res.headers_mut().append(header::SET_COOKIE, HeaderValue::from_static("xy_session=; Path=/; Max-Age=0"));
    res
}

/// The quarantine for the signed-in account (an officer's department, or all): grouped
/// by reason, filtered and paged (`portal/quality.rs`).
async fn quarantine_page(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Query(p): Query<quality::QuarantineParams>,
) -> Response {
    let page = Page::new(&headers, &Common { lang: p.lang.clone() });
    quality::render_quarantine(state, caller, page, None, p, None).await
}

async fn render_quarantine(state: Shared, caller: Caller, page: Page, message: Option<(bool, String)>) -> Response {
    quality::render_quarantine(state, caller, page, message, quality::QuarantineParams::default(), None).await
}

#[derive(Debug, Deserialize)]
struct ResubmitForm {
    csrf: String,
    #[serde(default)]
    set: String,
}

async fn resubmit_form(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<ResubmitForm>,
) -> Response {
    let page = Page::new(&headers, &Common::default());
    if caller.csrf.is_none() {
        return Redirect::to("/login").into_response();
    }
    if !caller.csrf_ok(&f.csrf) {
        return page.error(&state, &caller, StatusCode::FORBIDDEN, "CSRF 校验失败 / CSRF check failed".into());
    }
    let set: std::collections::BTreeMap<String, String> = f
        .set
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.trim().to_string(), v.trim().to_string())))
        .collect();
    let who = caller.who.clone();
    let result = blocking(&state, move |app| {
        let done = app.resubmit(&who, id, &set)?;
        Ok(matches!(
            done.outcome,
            xinyong_app::quarantine::Outcome::Accepted { .. } | xinyong_app::quarantine::Outcome::Corrected { .. }
        ))
    })
    .await;
    let t = strings(page.lang);
    match result {
        Ok(true) => {
            render_quarantine(
                state,
                caller,
                page,
                Some((true, format!("#{id} {}", t.get("resubmitted_ok").copied().unwrap_or("")))),
            )
            .await
        }
        Ok(false) => {
            render_quarantine(
                state,
                caller,
                page,
                Some((false, format!("#{id} {}", t.get("resubmitted_bad").copied().unwrap_or("")))),
            )
            .await
        }
        Err(e) => page.error(&state, &caller, e.status, e.message),
    }
}
