//! `POST /stripe/webhook`: verify `Stripe-Signature` on the raw body, then apply the event
//! once. 400 for a bad signature or body (Stripe shows it on the endpoint's page and retries),
//! 200 once applied or seen before, 500 when the database fails (Stripe retries).
use super::apply::{EventResult, apply_event};
use super::signature::{self, TOLERANCE_SECS};
use crate::app::App;
use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
};
use std::sync::Arc;

#[derive(Clone)]
struct Hook {
    app: Arc<App>,
    secrets: Arc<Vec<String>>,
}

/// The route, when `STRIPE_WEBHOOK_SECRET` is set (comma-separated during a rotation).
pub fn router_from_env(app: &Arc<App>) -> Router {
    match std::env::var("STRIPE_WEBHOOK_SECRET") {
        Ok(v) if !v.trim().is_empty() => router(
            app.clone(),
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        ),
        _ => Router::new(),
    }
}

pub fn router(app: Arc<App>, secrets: Vec<String>) -> Router {
    Router::new()
        .route("/stripe/webhook", post(webhook))
        .with_state(Hook {
            app,
            secrets: Arc::new(secrets),
        })
}

async fn webhook(State(h): State<Hook>, headers: HeaderMap, body: Bytes) -> (StatusCode, String) {
    let header = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let now = h.app.now().timestamp();
    if let Err(e) = signature::verify(header, &body, &h.secrets, now, Some(TOLERANCE_SECS)) {
        tracing::warn!(error = %e, "Stripe webhook refused");
        return (StatusCode::BAD_REQUEST, format!("refused: {e}"));
    }
    let event: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("the body is not a JSON event: {e}"),
            );
        }
    };
    match apply_event(&h.app, &event).await {
        Ok(EventResult::Applied { notes, .. }) => (StatusCode::OK, notes.join("\n")),
        Ok(EventResult::AlreadyApplied) => (StatusCode::OK, "already applied".into()),
        Ok(EventResult::Ignored) => (StatusCode::OK, "ignored".into()),
        Err(e) => {
            let reference = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
            tracing::error!(reference, event = %event["id"], error = ?e, "Stripe event failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("failed (reference {reference})"),
            )
        }
    }
}
