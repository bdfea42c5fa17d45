//! HTTP mode: `POST /slack/commands`, `/slack/interactions`, `/slack/events`. Each request's
//! signature is checked before anything else (401, nothing written, otherwise); the answer is
//! an immediate ack, and the work continues in a task that replies through Slack's API — the
//! three-second rule. A `view_submission` is the exception: Slack wants field errors in the
//! ack, so the core decides before it (one transaction, well under a second).
use super::edge::{self, SlackEdge, SlashCommand};
use super::verify::verify;
use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::{Value, json};
use std::sync::Arc;

pub fn router(edge: Arc<SlackEdge>) -> Router {
    Router::new()
        .route("/slack/commands", post(commands))
        .route("/slack/interactions", post(interactions))
        .route("/slack/events", post(events))
        .with_state(edge)
}

/// `Err` is the 401 to answer with.
fn check(edge: &SlackEdge, headers: &HeaderMap, body: &[u8]) -> Result<(), (StatusCode, String)> {
    let Some(secret) = &edge.cfg.signing_secret else {
        return Err((
            StatusCode::UNAUTHORIZED,
            "signing secret not configured".into(),
        ));
    };
    let h = |k: &str| headers.get(k).and_then(|v| v.to_str().ok());
    verify(
        secret,
        h("x-slack-request-timestamp"),
        h("x-slack-signature"),
        body,
        (edge.clock)(),
        edge.cfg.max_age.as_secs() as i64,
    )
    .map_err(|r| {
        tracing::warn!(reason = %r, "rejected an unsigned or stale Slack request");
        (StatusCode::UNAUTHORIZED, r.to_string())
    })
}

async fn commands(State(edge): State<Arc<SlackEdge>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = check(&edge, &headers, &body) {
        return r.into_response();
    }
    // Slack's periodic certificate check on the command URL: answer, do nothing.
    if url::form_urlencoded::parse(&body).any(|(k, v)| k == "ssl_check" && v == "1") {
        return StatusCode::OK.into_response();
    }
    let cmd = SlashCommand::from_form(&body);
    if cmd.trigger_id.is_empty() || cmd.user_id.is_empty() {
        return (StatusCode::BAD_REQUEST, "not a slash command").into_response();
    }
    edge.spawn(|edge| async move {
        edge::run_command(&edge, cmd).await;
    });
    StatusCode::OK.into_response()
}

/// The JSON in an interaction's `payload` form field.
pub fn interaction_payload(body: &[u8]) -> Option<Value> {
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == "payload")
        .and_then(|(_, v)| serde_json::from_str(&v).ok())
}

async fn interactions(
    State(edge): State<Arc<SlackEdge>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = check(&edge, &headers, &body) {
        return r.into_response();
    }
    let Some(payload) = interaction_payload(&body) else {
        return (StatusCode::BAD_REQUEST, "no payload").into_response();
    };
    match payload["type"].as_str() {
        Some("block_actions") => {
            edge.spawn(|edge| async move {
                edge::run_block_action(&edge, payload).await;
            });
            StatusCode::OK.into_response()
        }
        Some("view_submission") => {
            let ack = edge::run_view_submission(&edge, payload).await;
            if ack.as_object().is_some_and(|o| o.is_empty()) {
                StatusCode::OK.into_response()
            } else {
                Json(ack).into_response()
            }
        }
        _ => StatusCode::OK.into_response(),
    }
}

async fn events(State(edge): State<Arc<SlackEdge>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = check(&edge, &headers, &body) {
        return r.into_response();
    }
    let Ok(envelope) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not JSON").into_response();
    };
    match envelope["type"].as_str() {
        Some("url_verification") => {
            Json(json!({"challenge": envelope["challenge"]})).into_response()
        }
        Some("event_callback") => {
            // A retry (X-Slack-Retry-Num) carries the same event_id: the core's request id.
            edge.spawn(|edge| async move {
                edge::run_event(&edge, envelope).await;
            });
            StatusCode::OK.into_response()
        }
        _ => StatusCode::OK.into_response(),
    }
}
