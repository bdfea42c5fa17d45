//! The ingest API under `/api/v1/`: a billing system or integration platform sends customers,
//! invoices and payments as JSON arrays and reads account cards and the action log. Rows go
//! through the CSV import's checks and store (`crate::app::api`); this edge only checks tokens,
//! reads JSON and answers, refusals as RFC 9457 problem documents.
mod auth;
mod changes;
mod ingest;
pub mod openapi;
mod problem;
mod read;

use crate::app::App;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::sync::Arc;

pub use problem::Problem;

/// At most this many rows in one request.
pub const MAX_ROWS: usize = 10_000;

/// The largest body taken: 10,000 rows of generous width. A larger one is refused (413)
/// before it is parsed.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The `/api/v1` routes. Every one but the OpenAPI document needs a live token, checked
/// before the body is read.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/api/v1/customers", post(ingest::customers))
        .route("/api/v1/invoices", post(ingest::invoices))
        .route("/api/v1/payments", post(ingest::payments))
        .route("/api/v1/invoice-changes", post(changes::post))
        .route("/api/v1/accounts/{code}", get(read::account))
        .route("/api/v1/actions", get(read::actions))
        .route_layer(middleware::from_fn_with_state(app.clone(), require_token))
        .route("/api/v1/openapi.json", get(openapi::serve))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(app)
}

/// Refuses a request without a live token before its body is taken in, so an unknown caller
/// cannot make dunbot read up to 16 MiB; the handlers then name the caller from the token.
async fn require_token(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    match auth::caller(&app, req.headers()).await {
        Ok(_) => next.run(req).await,
        Err(problem) => problem.into_response(),
    }
}
