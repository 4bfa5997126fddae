//! Portal pages of double-random inspections (双随机、一公开): the plans, published to
//! everyone with their draw and results; a department's form to commit a plan, its draw
//! and its results. Every form works without JavaScript and calls the same use cases as
//! the API.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use xinyong_app::inspections::{Plan, PlanRequest, ResultRequest};
use xinyong_core::inspection::Inspector;

use super::lists::{Fields, signed_in_with_csrf, staff_with_csrf, tr};
use super::{Common, Page};
use crate::auth::Caller;
use crate::i18n::strings;
use crate::{Shared, blocking};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/inspections", get(plans_page).post(create))
        .route("/inspections/new", get(plan_form))
        .route("/inspections/{id}", get(plan_page))
        .route("/inspections/{id}/draw", post(draw))
        .route("/inspections/{id}/results", post(result))
}

async fn plans_page(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Query(c): Query<Common>,
) -> Response {
    let page = Page::new(&headers, &c);
    match blocking(&state, |app| app.plans()).await {
        Ok(plans) => page.render(&state, &caller, "inspections.html", json!({"plans": plans}), StatusCode::OK),
        Err(e) => page.error(&state, &caller, e.status, e.message),
    }
}

fn form_values(f: &Fields) -> Value {
    json!({"name": f.text("name"), "items": f.text("items"), "model": f.get("model").unwrap_or("samr_risk"),
           "divisions": f.text("divisions"), "industries": f.text("industries"),
           "ratios": f.get("ratios").unwrap_or("A=50 B=200 C=600 D=1000"), "per_target": f.get("per_target").unwrap_or("2"),
           "roster": f.text("roster"), "department_code": f.text("department_code"), "department": f.text("department")})
}

fn render_form(
    state: &Shared,
    caller: &Caller,
    page: Page,
    f: &Fields,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    let models: Vec<Value> = state
        .app
        .grading_models()
        .map(|m| m.models.iter().map(|m| json!({"code": m.code, "name_zh": m.name_zh})).collect())
        .unwrap_or_default();
    let ctx = json!({"v": form_values(f), "models": models, "errors": errors});
    page.render(state, caller, "inspection_form.html", ctx, status)
}

async fn plan_form(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Query(c): Query<Common>,
) -> Response {
    let page = match staff_with_csrf(&state, &caller, Page::new(&headers, &c), None) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    render_form(&state, &caller, page, &Fields(Vec::new()), Vec::new(), StatusCode::OK)
}

/// A plan request from the form: items one a line, divisions and industries separated
/// by spaces or commas, ratios `A=50 B=200` (‰), the roster one inspector a line:
/// `id,name,division[,conflicts;…][,past employers;…]`.
fn request_of(f: &Fields) -> Result<PlanRequest, String> {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| c.is_whitespace() || c == ',' || c == '，')
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    };
    let mut ratios = BTreeMap::new();
    for part in words(&f.text("ratios")) {
        let (g, r) = part
            .split_once('=')
            .ok_or_else(|| format!("抽查比例“{part}”应为 等级=千分比 / ratio {part:?} should be grade=permille"))?;
        let r: u32 =
            r.trim().parse().map_err(|_| format!("抽查比例“{part}”不是整数 / ratio {part:?} is not a whole number"))?;
        ratios.insert(g.trim().to_string(), r);
    }
    let mut roster = Vec::new();
    for (n, line) in f.text("roster").lines().map(str::trim).filter(|l| !l.is_empty()).enumerate() {
        let cells: Vec<&str> = line.split([',', '，']).map(str::trim).collect();
        if cells.len() < 3 {
            return Err(format!(
                "检查人员第 {} 行应为 编号,姓名,区划 / roster line {} needs id,name,division",
                n + 1,
                n + 1
            ));
        }
        let list = |i: usize| -> Vec<String> {
            cells
                .get(i)
                .map(|c| c.split([';', '；']).map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect())
                .unwrap_or_default()
        };
        roster.push(Inspector {
            id: cells[0].to_string(),
            name: cells[1].to_string(),
            division: cells[2].to_string(),
            conflicts: list(3),
            past_employers: list(4),
        });
    }
    Ok(PlanRequest {
        name: f.text("name"),
        items: f.text("items").lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect(),
        model: f.get("model").map(str::to_string),
        divisions: words(&f.text("divisions")),
        industries: words(&f.text("industries")),
        ratios_permille: ratios,
        inspectors_per_target: f.get("per_target").and_then(|p| p.parse().ok()),
        roster,
        department_code: f.text("department_code"),
        department: f.get("department").map(str::to_string),
    })
}

async fn create(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(form);
    let page = match staff_with_csrf(
        &state,
        &caller,
        Page::new(&headers, &Common::default()),
        Some(f.get("csrf").unwrap_or_default()),
    ) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let req = match request_of(&f) {
        Ok(r) => r,
        Err(e) => return render_form(&state, &caller, page, &f, vec![e], StatusCode::UNPROCESSABLE_ENTITY),
    };
    let who = caller.who.clone();
    match blocking(&state, move |app| app.create_plan(&who, &req, "portal")).await {
        Ok(p) => Redirect::to(&format!("/inspections/{}?done=planned", p.id)).into_response(),
        Err(e) => render_form(&state, &caller, page, &f, vec![e.message], e.status),
    }
}

#[derive(Debug, Deserialize, Default)]
struct PlanParams {
    done: Option<String>,
    lang: Option<String>,
}

async fn plan_page(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<PlanParams>,
) -> Response {
    let page = Page::new(&headers, &Common { lang: q.lang.clone() });
    let notice = q.done.as_deref().map(|d| tr(&strings(page.lang), &format!("plan_done_{d}")));
    render_plan(state, caller, page, id, notice, Vec::new(), StatusCode::OK).await
}

async fn render_plan(
    state: Shared,
    caller: Caller,
    page: Page,
    id: String,
    notice: Option<String>,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    let p: Plan = match blocking(&state, move |app| app.plan(&id)).await {
        Ok(p) => p,
        Err(e) => return page.error(&state, &caller, e.status, e.message),
    };
    let may_act =
        caller.is_admin() || caller.account().and_then(|a| a.provider.clone()).is_some_and(|d| d == p.department);
    let results: BTreeMap<&str, (&str, &str)> =
        p.results.iter().map(|r| (r.code.as_str(), (r.result.as_str(), r.on.as_str()))).collect();
    let targets: Vec<Value> = p
        .draw
        .as_ref()
        .map(|d| {
            d.draw
                .targets
                .iter()
                .map(|t| {
                    let r = results.get(t.code.as_str());
                    json!({"code": t.code, "name": state.app.name_of(&t.code), "grade": t.grade, "link": true,
                           "inspectors": t.inspectors, "short": t.short, "result": r.map(|x| x.0), "on": r.map(|x| x.1)})
                })
                .collect()
        })
        .unwrap_or_default();
    let choices: Vec<String> = state
        .app
        .catalog()
        .item("admin_inspection")
        .and_then(|i| i.field("检查结果"))
        .map(|f| f.values.clone())
        .unwrap_or_default();
    let ctx =
        json!({"p": p, "targets": targets, "may_act": may_act, "results": choices, "notice": notice, "errors": errors});
    page.render(&state, &caller, "inspection.html", ctx, status)
}

async fn draw(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(form);
    let page = match signed_in_with_csrf(&state, &caller, Page::new(&headers, &Common::default()), &f) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let (who, plan) = (caller.who.clone(), id.clone());
    match blocking(&state, move |app| app.draw_plan(&who, &plan, "portal")).await {
        Ok(_) => Redirect::to(&format!("/inspections/{id}?done=drawn")).into_response(),
        Err(e) => render_plan(state, caller, page, id, None, vec![e.message], e.status).await,
    }
}

async fn result(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(form);
    let page = match signed_in_with_csrf(&state, &caller, Page::new(&headers, &Common::default()), &f) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let req = ResultRequest {
        code: f.text("code"),
        result: f.text("result"),
        on: f.get("on").map(str::to_string),
        note: None,
    };
    let (who, plan) = (caller.who.clone(), id.clone());
    match blocking(&state, move |app| app.record_plan_result(&who, &plan, &req, "portal")).await {
        Ok(_) => Redirect::to(&format!("/inspections/{id}?done=result")).into_response(),
        Err(e) => render_plan(state, caller, page, id, None, vec![e.message], e.status).await,
    }
}
