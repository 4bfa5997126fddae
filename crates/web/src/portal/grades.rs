//! Portal pages of grades (信用分级分类): a subject's grades with their arithmetic (on
//! its page for departments and the entity itself, and on `/me`), and the grade
//! distributions for departments with server-rendered SVG charts and a CSV download.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde_json::{Value, json};
use xinyong_app::grading::GradeFigures;

use super::lists::tr;
use super::{Common, Page};
use crate::auth::Caller;
use crate::i18n::strings;
use crate::{Shared, blocking};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/officer/grades", get(figures_page))
        .route("/officer/grades.csv", get(figures_csv))
        .route("/officer/figures", get(centre_page))
        .route("/officer/figures.csv", get(centre_csv))
}

/// A subject's grades for its page, when the caller may read them (the entity itself,
/// departments, the centre); none otherwise or on failure (the page shows without).
pub(super) async fn grades_for(state: &Shared, caller: &Caller, code: &str) -> Option<Value> {
    if !caller.is_signed_in() {
        return None;
    }
    let (who, code) = (caller.who.clone(), code.to_string());
    let today = xinyong_app::today_shanghai();
    let found = blocking(state, move |app| {
        let code = xinyong_app::parse_code(&code)?;
        app.grades_of(&who, &code, today)
    })
    .await;
    found.ok().map(|g| json!(g))
}

const COLOURS: [&str; 6] = ["#1e7b3c", "#3a72b0", "#d39b1b", "#c0392b", "#7f3c8d", "#555"];

/// The bars of one model's chart: width in proportion to the largest band.
fn charts(f: &GradeFigures) -> Vec<Value> {
    f.models
        .iter()
        .map(|m| {
            let max = m.bands.iter().map(|b| b.count).max().unwrap_or(0).max(1);
            let bars: Vec<Value> = m
                .bands
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    let percent = if m.graded == 0 { 0.0 } else { b.count as f64 * 100.0 / m.graded as f64 };
                    json!({"letter": b.letter, "name_zh": b.name_zh, "count": b.count, "y": i * 28,
                           "width": b.count * 400 / max, "percent": format!("{percent:.1}"),
                           "colour": COLOURS[i.min(COLOURS.len() - 1)]})
                })
                .collect();
            json!({"model": m.model, "model_name_zh": m.model_name_zh, "model_version": m.model_version,
                   "graded": m.graded, "height": bars.len() * 28 + 8, "bars": bars})
        })
        .collect()
}

async fn figures_page(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Query(c): Query<Common>,
) -> Response {
    let page = Page::new(&headers, &c);
    if !caller.is_signed_in() {
        return Redirect::to("/login").into_response();
    }
    let who = caller.who.clone();
    match blocking(&state, move |app| app.grade_figures(&who)).await {
        Ok(f) => {
            let ctx = json!({"f": f, "charts": charts(&f)});
            page.render(&state, &caller, "grade_figures.html", ctx, StatusCode::OK)
        }
        Err(e) => {
            let msg =
                if e.status == StatusCode::FORBIDDEN { tr(&strings(page.lang), "officers_only") } else { e.message };
            page.error(&state, &caller, e.status, msg)
        }
    }
}

/// The figures as CSV (UTF-8 with a BOM, for spreadsheets): model, band, count.
async fn figures_csv(State(state): State<Shared>, caller: Caller, headers: HeaderMap) -> Response {
    let page = Page::new(&headers, &Common::default());
    if !caller.is_signed_in() {
        return Redirect::to("/login").into_response();
    }
    let who = caller.who.clone();
    let f = match blocking(&state, move |app| app.grade_figures(&who)).await {
        Ok(f) => f,
        Err(e) => return page.error(&state, &caller, e.status, e.message),
    };
    let mut out = String::from("\u{feff}评价日 as_of,模型 model,版本 version,等级 grade,名称 name,主体数 count\n");
    for m in &f.models {
        for b in &m.bands {
            out.push_str(&format!(
                "{},{},{},{},{},{}\n",
                f.as_of, m.model, m.model_version, b.letter, b.name_zh, b.count
            ));
        }
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"grades.csv\""),
        ],
        out,
    )
        .into_response()
}

/// Horizontal bars: one per row, width in proportion to `value` out of `max`.
fn bars(rows: &[(String, u64, String)], max: u64) -> Value {
    let max = max.max(1);
    let bars: Vec<Value> = rows
        .iter()
        .enumerate()
        .map(|(i, (label, value, text))| json!({"label": label, "y": i * 26, "width": value * 360 / max, "text": text}))
        .collect();
    json!({"height": rows.len() * 26 + 6, "bars": bars})
}

async fn centre_page(
    State(state): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    Query(c): Query<Common>,
) -> Response {
    let page = Page::new(&headers, &c);
    if !caller.is_signed_in() {
        return Redirect::to("/login").into_response();
    }
    let who = caller.who.clone();
    let f = match blocking(&state, move |app| app.centre_figures(&who)).await {
        Ok(f) => f,
        Err(e) => {
            let msg =
                if e.status == StatusCode::FORBIDDEN { tr(&strings(page.lang), "officers_only") } else { e.message };
            return page.error(&state, &caller, e.status, msg);
        }
    };
    // on time per department (‰), and the share of the worst band per division (‰)
    let on_time: Vec<(String, u64, String)> = f
        .departments
        .iter()
        .filter_map(|d| {
            d.on_time_permille.map(|p| (d.department.clone(), u64::from(p), format!("{:.1}%", f64::from(p) / 10.0)))
        })
        .collect();
    let worst: Vec<(String, u64, String)> = f
        .divisions
        .iter()
        .map(|a| {
            let graded: u64 = a.bands.iter().sum();
            let d = a.bands.last().copied().unwrap_or(0);
            let p = (d * 1000).checked_div(graded).unwrap_or(0);
            (format!("{} {}", a.code, a.name), p, format!("{d}/{graded}"))
        })
        .collect();
    let worst_max = worst.iter().map(|w| w.1).max().unwrap_or(1);
    let ctx = json!({"f": f, "on_time": bars(&on_time, 1000), "worst": bars(&worst, worst_max),
                     "worst_band": f.bands.last()});
    page.render(&state, &caller, "centre_figures.html", ctx, StatusCode::OK)
}

/// The departments' figures as CSV (UTF-8 with a BOM).
async fn centre_csv(State(state): State<Shared>, caller: Caller, headers: HeaderMap) -> Response {
    let page = Page::new(&headers, &Common::default());
    if !caller.is_signed_in() {
        return Redirect::to("/login").into_response();
    }
    let who = caller.who.clone();
    let f = match blocking(&state, move |app| app.centre_figures(&who)).await {
        Ok(f) => f,
        Err(e) => return page.error(&state, &caller, e.status, e.message),
    };
    let mut out = String::from(
        "\u{feff}部门 department,报送记录 records_sent,按时 on_time,逾期 late,被拒 refused,异议成立 objections_upheld,异议办结 objections_decided,修复按时 repairs_on_time,修复办结 repairs_decided,核查 checks,已反馈 checks_with_feedback\n",
    );
    for d in &f.departments {
        let dept = d.department.replace([',', '"', '\n'], " ");
        out.push_str(&format!(
            "{dept},{},{},{},{},{},{},{},{},{},{}\n",
            d.records_sent,
            d.on_time,
            d.late,
            d.refused,
            d.objections_upheld,
            d.objections_decided,
            d.repairs_on_time,
            d.repairs_decided,
            d.checks,
            d.checks_with_feedback
        ));
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"figures.csv\""),
        ],
        out,
    )
        .into_response()
}
