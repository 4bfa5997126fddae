//! Exchange between platforms and agencies' subscriptions in the JSON API: a batch for a
//! peer and the import of a peer's batch (the centre), the trusted peers; an agency's
//! subscriptions, its feed of deltas and its acknowledgements; the k-anonymous list
//! check. Each handler extracts, calls one use case of `xinyong_app` and renders.

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::IntoParams;
use xinyong_app::exchange::{Imported, Peer};
use xinyong_app::subscriptions::{
    Acknowledged, AcknowledgementRequest, Feed, RangeAnswer, Subscription, SubscriptionRequest,
};

use crate::auth::Caller;
use crate::cases_api::read_limited;
use crate::{ApiError, Shared, blocking};

/// A batch may be large: a platform's first batch carries its whole shared record.
const BATCH_BODY_LIMIT: usize = 512 * 1024 * 1024;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/v1/exchange/peers", get(peers))
        .route("/api/v1/exchange/batch", get(export_batch))
        .route("/api/v1/exchange/batches", post(import_batch).layer(DefaultBodyLimit::max(BATCH_BODY_LIMIT)))
        .route("/api/v1/subscriptions", get(subscriptions).post(subscribe))
        .route("/api/v1/feed", get(feed))
        .route("/api/v1/feed/acknowledgements", post(acknowledge))
        .route("/api/v1/lists/range/{prefix}", get(list_range))
}

/// Where a batch starts and for whom.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BatchQuery {
    /// The receiver's cursor: the tree size it last verified of this platform (0 first).
    since: Option<u64>,
    /// The receiving platform's origin, recorded in the anchor (default `*`).
    to: Option<String>,
}

/// Where a feed page starts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// The previous page's `until` (0 first).
    since: Option<u64>,
}

/// The platforms this one trusts, with the tree size verified of each (the centre).
#[utoipa::path(get, path = "/api/v1/exchange/peers", security(("bearer" = [])),
    responses((status = 200, body = Vec<Peer>), (status = 401), (status = 403), (status = 429)))]
async fn peers(State(state): State<Shared>, caller: Caller) -> Result<Json<Vec<Peer>>, ApiError> {
    Ok(Json(blocking(&state, move |app| app.peers(&caller)).await?))
}

/// A batch of every delta since the receiver's cursor, anchored in this ledger (an
/// `exchange.exported` event), as `xinyong-exchange/1` JSON Lines (docs/EXCHANGE.md).
#[utoipa::path(get, path = "/api/v1/exchange/batch", params(BatchQuery), security(("bearer" = [])),
    responses((status = 200, description = "the batch (application/x-ndjson)", body = String),
              (status = 400), (status = 401), (status = 403), (status = 429)))]
async fn export_batch(
    State(state): State<Shared>,
    caller: Caller,
    Query(q): Query<BatchQuery>,
) -> Result<Response, ApiError> {
    let to = q.to.unwrap_or_default();
    let batch = blocking(&state, move |app| app.export_batch(&caller, q.since.unwrap_or(0), &to)).await?;
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson; charset=utf-8")], batch.text).into_response())
}

/// Verifies a trusted peer's batch (its signed head, the anchor and digest, the
/// consistency of its ledger with the head verified before) and applies it, all or
/// nothing.
#[utoipa::path(post, path = "/api/v1/exchange/batches", security(("bearer" = [])),
    request_body(content = String, content_type = "text/plain", description = "the batch file (xinyong-exchange/1 JSON Lines, UTF-8)"),
    responses((status = 200, body = Imported), (status = 400), (status = 401), (status = 403),
              (status = 409, description = "another import of the same peer went first"), (status = 413),
              (status = 422, description = "a batch that does not verify, with its line"), (status = 429)))]
async fn import_batch(
    State(state): State<Shared>,
    caller: Caller,
    req: Request<Body>,
) -> Result<Json<Imported>, ApiError> {
    let (parts, body) = req.into_parts();
    let bytes = read_limited(body, &parts.headers, BATCH_BODY_LIMIT).await?;
    let batch = std::io::Cursor::new(bytes);
    Ok(Json(blocking(&state, move |app| app.import_batch_from(&caller, batch)).await?))
}

/// The calling agency's subscriptions.
#[utoipa::path(get, path = "/api/v1/subscriptions", security(("bearer" = [])),
    responses((status = 200, body = Vec<Subscription>), (status = 401), (status = 403), (status = 429)))]
async fn subscriptions(State(state): State<Shared>, caller: Caller) -> Result<Json<Vec<Subscription>>, ApiError> {
    Ok(Json(blocking(&state, move |app| app.subscriptions(&caller)).await?))
}

/// Subscribe to a subject's deltas (an agency), naming the purpose and the documented
/// relation (a loan application's number, a contract's). Recorded in the ledger.
#[utoipa::path(post, path = "/api/v1/subscriptions", request_body = SubscriptionRequest, security(("bearer" = [])),
    responses((status = 200, body = Subscription), (status = 401), (status = 403), (status = 404),
              (status = 409), (status = 422, description = "a bad code, or no purpose or relation"), (status = 429)))]
async fn subscribe(
    State(state): State<Shared>,
    caller: Caller,
    Json(req): Json<SubscriptionRequest>,
) -> Result<Json<Subscription>, ApiError> {
    Ok(Json(blocking(&state, move |app| app.subscribe(&caller, &req)).await?))
}

/// The deltas of the calling agency's subjects from `since` on (removals, repairs and
/// revocations among them); `until` is the next page's `since`. Each delta's `index`
/// proves against the `checkpoint` (`/api/v1/ledger/proof/{index}`).
#[utoipa::path(get, path = "/api/v1/feed", params(FeedQuery), security(("bearer" = [])),
    responses((status = 200, body = Feed), (status = 400), (status = 401), (status = 403), (status = 429)))]
async fn feed(State(state): State<Shared>, caller: Caller, Query(q): Query<FeedQuery>) -> Result<Json<Feed>, ApiError> {
    Ok(Json(blocking(&state, move |app| app.feed(&caller, q.since.unwrap_or(0))).await?))
}

/// Acknowledge the repairs, revocations and removals applied to what the agency
/// re-publishes; the entity sees who applied them and when.
#[utoipa::path(post, path = "/api/v1/feed/acknowledgements", request_body = AcknowledgementRequest,
    security(("bearer" = [])),
    responses((status = 200, body = Acknowledged), (status = 401), (status = 403),
              (status = 422, description = "an index that is no such delta of a subscribed subject"), (status = 429)))]
async fn acknowledge(
    State(state): State<Shared>,
    caller: Caller,
    Json(req): Json<AcknowledgementRequest>,
) -> Result<Json<Acknowledged>, ApiError> {
    Ok(Json(blocking(&state, move |app| app.acknowledge(&caller, &req)).await?))
}

/// The k-anonymous list check: list entries in force whose subject's code hashes
/// (SHA-256, lowercase hex) to `prefix` (4–6 hex digits), as hashes; the caller compares
/// its own hash, so the platform does not learn whom it checked. Public list types for
/// anyone, shared ones for agencies and staff.
#[utoipa::path(get, path = "/api/v1/lists/range/{prefix}", params(("prefix" = String, Path)),
    responses((status = 200, body = RangeAnswer), (status = 422, description = "not 4–6 hex digits"), (status = 429)))]
async fn list_range(
    State(state): State<Shared>,
    caller: Caller,
    Path(prefix): Path<String>,
) -> Result<Json<RangeAnswer>, ApiError> {
    Ok(Json(blocking(&state, move |app| app.list_range(&caller, &prefix)).await?))
}
