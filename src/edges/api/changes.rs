//! `POST /api/v1/invoice-changes`: amount corrections, credit notes, voids and write-offs a
//! billing system sends, all or nothing, through the core's one path for invoice changes.
use super::{MAX_ROWS, Problem, auth};
use crate::app::App;
use crate::app::api::{ChangeRow, change_invoices};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::Arc;

pub async fn post(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    run(&app, &headers, body)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn run(
    app: &App,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let token = auth::caller(app, headers).await?;
    let body = body.map_err(|rej| match rej.status() {
        StatusCode::PAYLOAD_TOO_LARGE => Problem::too_large(format!(
            "The body is too large: send at most {MAX_ROWS} changes a request."
        )),
        _ => Problem::bad_request(format!("cannot read the body: {rej}")),
    })?;
    let rows: Vec<ChangeRow> = serde_json::from_slice(&body).map_err(|e| {
        Problem::bad_request(format!(
            "The body is not a JSON array of changes ({e}); each is {{\"invoice\": \"INV-1001\", \"change\": \"void\"|\"write_off\"|\"credit_note\"|\"amount\", \"amount\": \"120.00\", \"reason\": \"…\", \"reference\": \"CN-1\"}}."
        ))
    })?;
    if rows.is_empty() || rows.len() > MAX_ROWS {
        let p = format!("{} changes: send 1 to {MAX_ROWS} a request.", rows.len());
        return Err(if rows.is_empty() {
            Problem::bad_request(p)
        } else {
            Problem::too_large(p)
        });
    }
    let body_sha256 = hex::encode(Sha256::digest(&body));
    match change_invoices(app, &token, &rows, &body_sha256).await? {
        Ok(answer) => Ok((StatusCode::OK, Json(answer)).into_response()),
        Err(bad) => Err(Problem::invalid_rows(rows.len(), bad)),
    }
}
