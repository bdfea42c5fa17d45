//! `POST /discord/interactions` (HTTP interactions mode): verify, answer within Discord's
//! 3 seconds with the first response, and carry on with the work in the background.
use super::config::DiscordConfig;
use super::interactions::Discord;
use super::verify::Verify;
use crate::app::App;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use std::sync::Arc;

#[derive(Clone)]
struct Endpoint {
    discord: Arc<Discord>,
    verify: Verify,
}

/// The route, for a configured edge.
pub fn router(discord: Arc<Discord>, verify: Verify) -> Router {
    Router::new()
        .route("/discord/interactions", post(interactions))
        .with_state(Endpoint { discord, verify })
}

/// The route when `DISCORD_PUBLIC_KEY` is set; no route otherwise.
pub fn router_from_env(app: &Arc<App>) -> Router {
    let config = match DiscordConfig::from_env() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "Discord settings are invalid; /discord/interactions is off");
            return Router::new();
        }
    };
    let Some(key) = config.public_key.clone() else {
        return Router::new();
    };
    let verifier = match super::config::verifier(&key) {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(error = %e, "DISCORD_PUBLIC_KEY is invalid; /discord/interactions is off");
            return Router::new();
        }
    };
    let verify = Verify {
        verifier,
        max_age: config.max_age,
    };
    router(Arc::new(Discord::new(app.clone(), config)), verify)
}

async fn interactions(State(ep): State<Endpoint>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let now = (ep.discord.clock)();
    if let Err(why) = ep.verify.check(
        header("x-signature-ed25519"),
        header("x-signature-timestamp"),
        &body,
        now,
    ) {
        tracing::warn!(?why, "Discord interaction refused");
        return (StatusCode::UNAUTHORIZED, "invalid request signature").into_response();
    }
    let interaction = match serde_json::from_slice(&body) {
        Ok(i) => i,
        Err(e) => {
            tracing::warn!(error = %e, "Discord interaction did not parse");
            return (
                StatusCode::BAD_REQUEST,
                format!("unreadable interaction: {e}"),
            )
                .into_response();
        }
    };
    let plan = ep.discord.respond(interaction).await;
    if let Some(then) = plan.then {
        tokio::spawn(then);
    }
    Json(plan.first).into_response()
}
