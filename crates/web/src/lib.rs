//! The edge of xinyong: the JSON API under `/api/v1` (OpenAPI at
//! `/api/v1/openapi.json`), the public portal (zh-CN first, English second), health
//! and metrics. Store access is synchronous (SQLite), so handlers run it on the
//! blocking pool behind one lock: SQLite has one writer anyway, and reads take
//! well under a millisecond.

mod api;
mod auth;
mod checklog;
mod error;
mod i18n;
mod lists_api;
mod metrics;
mod portal;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::Router;
use xinyong_app::App;
use xinyong_search::{SearchIndex, SubjectDoc};
use xinyong_store::SubjectRow;

pub use auth::{hash_password, hash_secret, new_secret};
pub use error::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("{0}")]
    App(#[from] xinyong_app::AppError),
    #[error("search index: {0}")]
    Search(#[from] xinyong_search::SearchError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Template(#[from] minijinja::Error),
}

/// Everything a request handler may touch.
pub struct AppState {
    pub app: Mutex<App>,
    pub search: SearchIndex,
    pub data_dir: PathBuf,
    /// Mark cookies `Secure` (set when served behind HTTPS, as any real deployment is).
    pub secure_cookies: bool,
    /// Subjects and listings in memory for checks before acting.
    pub checks: xinyong_app::checks::CheckIndex,
    check_log: std::sync::OnceLock<checklog::CheckLog>,
    /// Bearer token → account, for a short while: the check path must not query the store.
    tokens: auth::TokenCache,
    templates: minijinja::Environment<'static>,
    metrics: metrics::Metrics,
    limiter: auth::RateLimiter,
}

pub type Shared = Arc<AppState>;

impl AppState {
    /// Opens the data directory and the search index (rebuilt when it does not match
    /// the store).
    pub fn open(data_dir: &Path) -> Result<AppState, WebError> {
        AppState::open_with(data_dir, None)
    }

    /// As [`AppState::open`], with the store at `database` (see [`App::open_with`]).
    /// The search index stays in the data directory: each node keeps its own.
    pub fn open_with(data_dir: &Path, database: Option<&str>) -> Result<AppState, WebError> {
        let app = App::open_with(data_dir, database)?;
        let search_dir = data_dir.join("search");
        let search = match SearchIndex::open_or_create(&search_dir) {
            Err(xinyong_search::SearchError::Incompatible { .. }) => {
                // the index is derived data: an older format is dropped and rebuilt below
                tracing::warn!(dir = %search_dir.display(), "search index of another format: rebuilding");
                std::fs::remove_dir_all(&search_dir)?;
                SearchIndex::open_or_create(&search_dir)?
            }
            other => other?,
        };
        let subjects = app.store.counts().map_err(xinyong_app::AppError::from)?.subjects;
        let started = std::time::Instant::now();
        let checks = xinyong_app::checks::CheckIndex::load(app.store.as_ref())?;
        tracing::info!(
            subjects = checks.subjects(),
            listings = checks.listings(),
            ms = started.elapsed().as_millis() as u64,
            "check index loaded"
        );
        let state = AppState {
            app: Mutex::new(app),
            checks,
            check_log: std::sync::OnceLock::new(),
            tokens: auth::TokenCache::default(),
            search,
            data_dir: data_dir.to_path_buf(),
            secure_cookies: false,
            templates: portal::templates()?,
            metrics: metrics::Metrics::default(),
            limiter: auth::RateLimiter::new(30.0, 120.0),
        };
        if state.search.num_docs() != subjects {
            tracing::info!(subjects, indexed = state.search.num_docs(), "rebuilding the search index");
            state.rebuild_search()?;
        }
        Ok(state)
    }

    /// Re-indexes every subject from the store.
    pub fn rebuild_search(&self) -> Result<(), WebError> {
        self.search.clear()?;
        let mut after = String::new();
        loop {
            let page = {
                let app = self.lock();
                app.store.subjects_after(&after, 20_000).map_err(xinyong_app::AppError::from)?
            };
            let Some(last) = page.last() else { break };
            after = last.code.clone();
            let docs: Vec<SubjectDoc> = page.iter().map(subject_doc).collect();
            self.search.upsert(&docs)?;
        }
        self.search.commit()?;
        Ok(())
    }

    /// The check log writer, started on first use.
    pub(crate) fn check_log(&self, shared: &Shared) -> &checklog::CheckLog {
        self.check_log.get_or_init(|| checklog::CheckLog::spawn(Arc::downgrade(shared)))
    }

    /// Loads into the check index what other writers appended (another node, `xinyong import`).
    /// Subjects another writer created reach the search index here too.
    pub fn refresh_checks(&self) -> Result<(), WebError> {
        let mut docs = Vec::new();
        {
            let app = self.lock();
            self.checks.refresh(app.store.as_ref(), &mut |rows| docs.extend(rows.iter().map(subject_doc)))?;
        }
        if !docs.is_empty() {
            self.search.upsert(&docs)?;
            self.search.commit()?;
        }
        Ok(())
    }

    /// Re-indexes the given subjects (after intake).
    pub fn reindex(&self, codes: &[String]) -> Result<(), WebError> {
        if codes.is_empty() {
            return Ok(());
        }
        let docs = {
            let app = self.lock();
            // subjects created since the last refresh (these codes' new ones among them)
            // come with the refresh; the rest of the codes are read again (names change)
            let mut docs = Vec::new();
            self.checks.refresh(app.store.as_ref(), &mut |rows| docs.extend(rows.iter().map(subject_doc)))?;
            let fresh: std::collections::HashSet<String> = docs.iter().map(|d| d.code.clone()).collect();
            for c in codes.iter().filter(|c| !fresh.contains(*c)) {
                if let Some(s) = app.store.subject(c).map_err(xinyong_app::AppError::from)? {
                    docs.push(subject_doc(&s));
                }
            }
            docs
        };
        self.search.upsert(&docs)?;
        self.search.commit()?;
        Ok(())
    }

    /// Resubmits a corrected quarantined row for `account` (its own department's entries
    /// only, unless an administrator) and re-indexes the subject it was stored for.
    /// Returns the outcome and the entry as it now stands.
    pub(crate) fn resubmit_as(
        &self,
        account: &xinyong_store::Account,
        id: i64,
        set: &[(String, String)],
    ) -> Result<(xinyong_store::Outcome, Option<xinyong_store::QuarantineRow>), ApiError> {
        let mut app = self.lock();
        let entry =
            app.store.quarantine_entry(id)?.ok_or_else(|| ApiError::not_found(format!("quarantine entry {id}")))?;
        if account.role != "admin" && account.provider.as_deref() != Some(entry.provider.as_str()) {
            return Err(ApiError::forbidden("只能处理本部门的隔离数据 / not your department's entry"));
        }
        let outcome = xinyong_app::intake::resubmit(&mut app, id, set)?;
        let stored_for = match &outcome {
            xinyong_store::Outcome::Accepted { record_id, .. }
            | xinyong_store::Outcome::Corrected { record_id, .. } => {
                app.store.record(*record_id)?.map(|r| r.subject_code)
            }
            _ => None,
        };
        let entry = app.store.quarantine_entry(id)?;
        drop(app);
        // the subject of the stored record, not the raw code of the refused row (which may be the error)
        if let Some(code) = stored_for {
            self.reindex(&[code]).map_err(|e| ApiError::internal(e.to_string()))?;
        }
        Ok((outcome, entry))
    }

    /// The store lock; a panic in another request must not take the server down.
    pub fn lock(&self) -> std::sync::MutexGuard<'_, App> {
        self.app.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn subject_doc(s: &SubjectRow) -> SubjectDoc {
    let display = match xinyong_core::SubjectCode::parse(&s.code) {
        Ok(c) => c.display(),
        Err(_) => xinyong_core::codes::mask_id(&s.code),
    };
    SubjectDoc {
        code: s.code.clone(),
        display_code: display,
        name: s.name.clone(),
        former_names: s.former_names.clone(),
        kind: s.kind.clone(),
        division: s.division.clone(),
    }
}

/// A search page as the public may see it: natural persons carry their masked code
/// only (the index keeps the full ID as its key, for matching).
pub(crate) fn public_page(mut page: xinyong_search::SearchPage) -> xinyong_search::SearchPage {
    for h in &mut page.hits {
        if h.kind == "natural_person" {
            h.code = h.display_code.clone();
        }
    }
    page
}

/// The whole HTTP application.
pub fn router(state: Shared) -> Router {
    Router::new()
        .merge(api::routes())
        .merge(lists_api::routes())
        .merge(portal::routes())
        .route("/healthz", axum::routing::get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }))
        .route("/metrics", axum::routing::get(metrics::render))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(error::panic_response))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            std::time::Duration::from_secs(30),
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves until Ctrl-C / SIGTERM, then finishes the requests in flight.
pub async fn serve(state: Shared, listen: SocketAddr) -> Result<(), WebError> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    tracing::info!(%listen, "xinyong serving: portal at http://{listen}/");
    serve_on(listener, state, shutdown_signal()).await
}

/// Serves on a bound listener until `shutdown` completes (tests use their own signal).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: Shared,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), WebError> {
    spawn_check_refresh(Arc::downgrade(&state));
    axum::serve(listener, router(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// Every second, loads what other writers appended into the check index; stops with the state.
fn spawn_check_refresh(state: std::sync::Weak<AppState>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            tick.tick().await;
            let Some(s) = state.upgrade() else { return };
            let result = tokio::task::spawn_blocking(move || s.refresh_checks()).await;
            if let Ok(Err(e)) = result {
                tracing::warn!(error = %e, "check index refresh failed");
            }
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

/// Runs store work on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    state: &Shared,
    f: impl FnOnce(&AppState) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || f(&state)).await.map_err(|e| ApiError::internal(e.to_string()))?
}
