//! Witnesses at the edge (C2SP tlog-witness over HTTP): the witness side's
//! `POST /add-checkpoint`, and the platform's side, which asks each of its witnesses to
//! cosign the latest head (every half minute while serving, or at once with
//! `xinyong ledger cosign`). What to send and what an answer means is the app's
//! (`xinyong_app::witnesses`); this module moves the bytes.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use xinyong_app::App;
use xinyong_app::witnesses::{WitnessOutcome, WitnessService};

use crate::AppState;

const EVERY: Duration = Duration::from_secs(30);
const TIMEOUT: Duration = Duration::from_secs(10);

/// The witness's routes: `POST /add-checkpoint`.
pub fn witness_router(service: Arc<WitnessService>) -> Router {
    Router::new().route("/add-checkpoint", post(add_checkpoint)).with_state(service)
}

async fn add_checkpoint(State(service): State<Arc<WitnessService>>, body: String) -> Response {
    let answer = tokio::task::spawn_blocking(move || service.add_checkpoint(&body)).await;
    match answer {
        Ok(Ok(lines)) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], lines).into_response(),
        Ok(Err(r)) => {
            let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let kind = if r.status == 409 { "text/x.tlog.size" } else { "text/plain; charset=utf-8" };
            (status, [(header::CONTENT_TYPE, kind)], r.body).into_response()
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// Serves a witness on `listener` until `shutdown`.
pub async fn serve_witness(
    listener: tokio::net::TcpListener,
    service: Arc<WitnessService>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, witness_router(service)).with_graceful_shutdown(shutdown).await
}

/// Asks every witness behind the latest head to cosign it; a witness that holds
/// another size (409) is asked again from that size once.
pub async fn cosign_now(app: &App) -> Result<Vec<WitnessOutcome>, String> {
    let client = reqwest::Client::builder().timeout(TIMEOUT).build().map_err(|e| e.to_string())?;
    let mut outcomes = Vec::new();
    for round in 0..2 {
        let requests = {
            let app = app.clone();
            tokio::task::spawn_blocking(move || app.witness_requests())
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?
        };
        let asked_again: Vec<String> = outcomes
            .iter()
            .filter(|o: &&WitnessOutcome| !o.cosigned && o.detail.contains("asking again"))
            .map(|o| o.witness.clone())
            .collect();
        let mut retried = false;
        for req in requests {
            if round == 1 && !asked_again.contains(&req.witness) {
                continue;
            }
            retried = true;
            let sent = client
                .post(&req.url)
                .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
                .body(req.body.clone())
                .send()
                .await;
            let (status, body) = match sent {
                Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
                Err(e) => (0, e.to_string()),
            };
            let app = app.clone();
            let outcome = tokio::task::spawn_blocking(move || app.record_witness_answer(&req, status, &body))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
            if round == 1 {
                outcomes.retain(|o| o.witness != outcome.witness);
            }
            outcomes.push(outcome);
        }
        if round == 1 && !retried {
            break;
        }
    }
    Ok(outcomes)
}

/// While serving: ask the witnesses every half minute (nothing is sent while they hold
/// the latest head already).
pub(crate) fn spawn(state: std::sync::Weak<AppState>) {
    tokio::spawn(crate::every(state, EVERY, round));
}

async fn round(app: App) {
    match cosign_now(&app).await {
        Ok(outcomes) => {
            for o in outcomes.iter().filter(|o| !o.cosigned) {
                tracing::warn!(witness = %o.witness, size = o.size, detail = %o.detail, "not cosigned");
            }
        }
        Err(e) => tracing::warn!(error = %e, "asking the witnesses failed; retrying on the next tick"),
    }
}
