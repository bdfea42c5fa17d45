//! The bot's HTTP server: `/healthz` here; each edge adds its own routes (`/api/v1/*`,
//! `/slack/*`, `/discord/interactions`, `/stripe/webhook`, `/twilio/*`) through `router`.
use crate::app::App;
use axum::{Router, extract::State, http::StatusCode, routing::get};
use std::sync::Arc;

/// Every route the bot serves.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .with_state(app.clone())
        .merge(crate::edges::api::router(app.clone()))
        .merge(crate::edges::discord::endpoint::router_from_env(&app))
        .merge(crate::edges::stripe::webhook::router_from_env(&app))
        .merge(crate::edges::twilio::router_from_env(&app))
        .merge(crate::edges::slack::routes_from_env(app))
}

/// 200 when the database answers, 503 otherwise: what a load balancer should check.
async fn healthz(State(app): State<Arc<App>>) -> (StatusCode, &'static str) {
    match sqlx::query_scalar::<_, i32>("SELECT 1")
        .fetch_one(&app.store.pool)
        .await
    {
        Ok(_) => (StatusCode::OK, "ok"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
    }
}

/// Binds `addr` now, so that `serve` fails at start-up rather than later when the port is taken.
pub async fn bind(addr: &str) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr} (DUNBOT_HTTP_ADDR): {e}"))
}

/// Serves `router` on `listener` until `stop` changes.
pub async fn serve(
    app: Arc<App>,
    listener: tokio::net::TcpListener,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    tracing::info!(addr = ?listener.local_addr().ok(), "HTTP listening");
    axum::serve(listener, router(app))
        .with_graceful_shutdown(async move {
            let _ = stop.changed().await;
        })
        .await?;
    Ok(())
}
