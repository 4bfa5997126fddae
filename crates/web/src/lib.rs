//! The edge of xinyong: the JSON API under `/api/v1` (OpenAPI at
//! `/api/v1/openapi.json`), the public portal (zh-CN first, English second), health
//! and metrics. A handler extracts the caller and the request, calls one use case of
//! [`xinyong_app::App`] (on the blocking pool when it reads or writes the store) and
//! renders the answer. No rule, permission or store access lives here.

mod api;
mod auth;
mod cases_api;
mod commitments_api;
mod deliver;
mod error;
mod exchange_api;
mod grading_api;
mod i18n;
mod inspections_api;
mod lists_api;
mod metrics;
mod portal;
mod quality_api;
mod reports_api;
pub mod witness;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use xinyong_app::App;

pub use error::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("{0}")]
    App(#[from] xinyong_app::AppError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Template(#[from] minijinja::Error),
}

/// Everything a request handler may touch: the application and the edge's own parts.
pub struct AppState {
    pub app: App,
    /// Mark cookies `Secure` (set when served behind HTTPS, as any real deployment is).
    pub secure_cookies: bool,
    templates: minijinja::Environment<'static>,
    metrics: metrics::Metrics,
    limiter: auth::RateLimiter,
}

pub type Shared = Arc<AppState>;

/// How often the projections look for what other writers appended.
const CATCH_UP_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

impl AppState {
    /// Opens the data directory and starts the projections (check index, search index).
    pub fn open(data_dir: &Path) -> Result<AppState, WebError> {
        AppState::open_with(data_dir, None)
    }

    /// As [`AppState::open`], with the store at `database` (see [`App::open_with`]).
    pub fn open_with(data_dir: &Path, database: Option<&str>) -> Result<AppState, WebError> {
        let app = App::open_with(data_dir, database)?;
        app.start_projections()?;
        Ok(AppState {
            app,
            secure_cookies: false,
            templates: portal::templates()?,
            metrics: metrics::Metrics::default(),
            limiter: auth::RateLimiter::new(30.0, 120.0),
        })
    }
}

/// The whole HTTP application.
pub fn router(state: Shared) -> Router {
    use axum::http::{HeaderValue, header};
    use tower_http::set_header::SetResponseHeaderLayer as Set;
    Router::new()
        .merge(api::routes())
        .merge(lists_api::routes())
        .merge(cases_api::routes())
        .merge(commitments_api::routes())
        .merge(grading_api::routes())
        .merge(inspections_api::routes())
        .merge(quality_api::routes())
        .merge(reports_api::routes())
        .merge(exchange_api::routes())
        .merge(portal::routes())
        .route("/healthz", axum::routing::get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }))
        .route("/metrics", axum::routing::get(metrics::render))
        .layer(axum::middleware::from_fn(error::json_rejections))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(error::panic_response))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            std::time::Duration::from_secs(30),
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        // every answer: the portal loads only its own scripts and styles (inline style
        // attributes draw the quality bars), is never framed, sends only its origin to
        // other sites, and its answers are not type-sniffed
        .layer(Set::if_not_present(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)))
        .layer(Set::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(Set::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .layer(Set::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .with_state(state)
}

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                   frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

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
    spawn_catch_up(Arc::downgrade(&state));
    deliver::spawn(Arc::downgrade(&state));
    witness::spawn(Arc::downgrade(&state));
    axum::serve(listener, router(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// Feeds the projections what other writers appended (another node, `xinyong import`);
/// stops with the state.
fn spawn_catch_up(state: std::sync::Weak<AppState>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CATCH_UP_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(s) = state.upgrade() else { return };
            let result = tokio::task::spawn_blocking(move || s.app.catch_up()).await;
            if let Ok(Err(e)) = result {
                tracing::warn!(error = %e.chain(), "projection catch-up failed");
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

/// Runs a use case that touches the store on the blocking pool.
/// Calls `round` with the app every `period` for as long as the server's state lives:
/// the background loops (webhook deliveries, witnesses).
pub(crate) async fn every<F, Fut>(state: std::sync::Weak<AppState>, period: std::time::Duration, mut round: F)
where
    F: FnMut(App) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(s) = state.upgrade() else { return };
        let app = s.app.clone();
        drop(s);
        round(app).await;
    }
}

pub(crate) async fn blocking<T: Send + 'static>(
    state: &Shared,
    f: impl FnOnce(&App) -> xinyong_app::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    let app = state.app.clone();
    tokio::task::spawn_blocking(move || f(&app))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(ApiError::from)
}
