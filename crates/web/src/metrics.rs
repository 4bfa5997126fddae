//! Prometheus metrics at `/metrics`: request counts and latency by route and status,
//! plus store gauges.
//!
//! Every request passes through [`track`], so it takes no exclusive lock and allocates
//! nothing once its series exists: series are found under a shared lock by a hash of
//! (method, route, status) and counted with atomics.

use std::collections::{BTreeMap, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::Shared;

/// One (method, route, status) series.
struct Series {
    method: Box<str>,
    route: Box<str>,
    status: u16,
    count: AtomicU64,
    nanos: AtomicU64,
}

#[derive(Default)]
pub struct Metrics {
    /// hash of (method, route, status) → the series with that hash (almost always one)
    requests: RwLock<HashMap<u64, Vec<Arc<Series>>>>,
}

fn series_hash(method: &str, route: &str, status: u16) -> u64 {
    let mut h = DefaultHasher::new();
    (method, route, status).hash(&mut h);
    h.finish()
}

impl Metrics {
    fn series(&self, method: &str, route: &str, status: u16) -> Arc<Series> {
        let h = series_hash(method, route, status);
        let same = |s: &&Arc<Series>| &*s.method == method && &*s.route == route && s.status == status;
        {
            let map = self.requests.read().unwrap_or_else(|p| p.into_inner());
            if let Some(s) = map.get(&h).and_then(|v| v.iter().find(same)) {
                return s.clone();
            }
        }
        let mut map = self.requests.write().unwrap_or_else(|p| p.into_inner());
        let bucket = map.entry(h).or_default();
        if let Some(s) = bucket.iter().find(same) {
            return s.clone();
        }
        let s = Arc::new(Series {
            method: method.into(),
            route: route.into(),
            status,
            count: AtomicU64::new(0),
            nanos: AtomicU64::new(0),
        });
        bucket.push(s.clone());
        s
    }

    /// (method, route, status) → (count, total seconds), in order.
    fn snapshot(&self) -> BTreeMap<(String, String, u16), (u64, f64)> {
        let map = self.requests.read().unwrap_or_else(|p| p.into_inner());
        map.values()
            .flatten()
            .map(|s| {
                let secs = s.nanos.load(Ordering::Relaxed) as f64 / 1e9;
                ((s.method.to_string(), s.route.to_string(), s.status), (s.count.load(Ordering::Relaxed), secs))
            })
            .collect()
    }
}

pub async fn track(State(state): State<Shared>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = req.method().clone();
    let started = Instant::now();
    let res = next.run(req).await;
    let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    let s = state.metrics.series(method.as_str(), route, res.status().as_u16());
    s.count.fetch_add(1, Ordering::Relaxed);
    s.nanos.fetch_add(nanos, Ordering::Relaxed);
    res
}

pub async fn render(State(state): State<Shared>) -> Response {
    let mut out = String::new();
    out.push_str("# HELP xinyong_http_requests_total HTTP requests by route and status.\n");
    out.push_str("# TYPE xinyong_http_requests_total counter\n");
    let snapshot = state.metrics.snapshot();
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
    let counts = crate::blocking(&state, |app| app.counts()).await;
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
    out.push_str(&format!("# TYPE xinyong_search_docs gauge\nxinyong_search_docs {}\n", state.app.search_docs()));
    if let Ok(overdue) = crate::blocking(&state, |app| app.overdue_cases()).await {
        out.push_str(&overdue_lines(&overdue));
    }
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

/// Open due-process cases past their due date, one series per department.
fn overdue_lines(by_department: &BTreeMap<String, u64>) -> String {
    let mut out = String::from(
        "# HELP xinyong_cases_overdue Open due-process cases past their due date, by department.\n\
         # TYPE xinyong_cases_overdue gauge\n",
    );
    for (department, n) in by_department {
        out.push_str(&format!("xinyong_cases_overdue{{department=\"{}\"}} {n}\n", label_value(department)));
    }
    out
}

/// A Prometheus label value: backslash, double quote and line feed escaped.
fn label_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn overdue_cases_per_department_with_escaped_labels() {
        let by = BTreeMap::from([("朝阳区市场监管局".to_string(), 2), ("a\"b\\c\nd".to_string(), 1)]);
        let text = overdue_lines(&by);
        assert!(text.contains("# TYPE xinyong_cases_overdue gauge\n"), "{text}");
        assert!(text.contains("xinyong_cases_overdue{department=\"朝阳区市场监管局\"} 2\n"), "{text}");
        assert!(text.contains(r#"xinyong_cases_overdue{department="a\"b\\c\nd"} 1"#), "{text}");
        assert_eq!(text.lines().count(), 4, "{text}");
    }

    #[test]
    fn series_are_counted_apart_and_listed_in_order() {
        let m = Metrics::default();
        for (method, route, status) in
            [("POST", "/api/v1/checks", 200), ("GET", "/healthz", 200), ("POST", "/api/v1/checks", 200)]
        {
            let s = m.series(method, route, status);
            s.count.fetch_add(1, Ordering::Relaxed);
            s.nanos.fetch_add(1_500_000_000, Ordering::Relaxed);
        }
        m.series("POST", "/api/v1/checks", 422).count.fetch_add(1, Ordering::Relaxed);
        let snap: Vec<_> = m.snapshot().into_iter().collect();
        assert_eq!(
            snap,
            vec![
                (("GET".into(), "/healthz".into(), 200), (1, 1.5)),
                (("POST".into(), "/api/v1/checks".into(), 200), (2, 3.0)),
                (("POST".into(), "/api/v1/checks".into(), 422), (1, 0.0)),
            ]
        );
    }
}
