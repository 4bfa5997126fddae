//! Prometheus metrics at `/metrics`: request counts and latency by route and status,
//! plus store gauges.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::Shared;

/// (method, route, status)
type RequestKey = (String, String, u16);

#[derive(Default)]
pub struct Metrics {
    /// → (count, total seconds)
    requests: Mutex<BTreeMap<RequestKey, (u64, f64)>>,
}

pub async fn track(State(state): State<Shared>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map_or("unmatched".to_string(), |m| m.as_str().to_string());
    let method = req.method().to_string();
    let started = Instant::now();
    let res = next.run(req).await;
    let secs = started.elapsed().as_secs_f64();
    let mut m = state.metrics.requests.lock().unwrap_or_else(|p| p.into_inner());
    let e = m.entry((method, route, res.status().as_u16())).or_insert((0, 0.0));
    e.0 += 1;
    e.1 += secs;
    res
}

pub async fn render(State(state): State<Shared>) -> Response {
    let mut out = String::new();
    out.push_str("# HELP xinyong_http_requests_total HTTP requests by route and status.\n");
    out.push_str("# TYPE xinyong_http_requests_total counter\n");
    let snapshot: Vec<_> = {
        let m = state.metrics.requests.lock().unwrap_or_else(|p| p.into_inner());
        m.iter().map(|(k, v)| (k.clone(), *v)).collect()
    };
    for ((method, route, status), (n, _)) in &snapshot {
        out.push_str(&format!(
            "xinyong_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}\n"
        ));
    }
    out.push_str("# HELP xinyong_http_request_seconds_sum Total time spent serving requests.\n");
    out.push_str("# TYPE xinyong_http_request_seconds_sum counter\n");
    for ((method, route, status), (_, secs)) in &snapshot {
        out.push_str(&format!(
            "xinyong_http_request_seconds_sum{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {secs:.6}\n"
        ));
    }
    let counts = crate::blocking(&state, |s| Ok(s.lock().store.counts()?)).await;
    if let Ok(c) = counts {
        for (name, help, v) in [
            ("xinyong_subjects", "Subjects in the store.", c.subjects),
            ("xinyong_records", "Records in the store.", c.records),
            ("xinyong_ledger_size", "Events in the ledger.", c.events),
            ("xinyong_quarantine_open", "Open quarantine entries.", c.quarantine_open),
        ] {
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}\n"));
        }
    }
    out.push_str(&format!("# TYPE xinyong_search_docs gauge\nxinyong_search_docs {}\n", state.search.num_docs()));
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}
