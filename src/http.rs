//! The bot's HTTP server: `/healthz` here; each platform edge adds its own routes
//! (`/slack/*`, `/discord/interactions`) through `router`.
use crate::app::App;
use axum::{Router, extract::State, http::StatusCode, routing::get};
use std::sync::Arc;

/// Every route the bot serves.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .with_state(app.clone())
        .merge(crate::chat::slack::routes_from_env(app))
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

/// Serves `router` on `addr` until `stop` changes.
pub async fn serve(
    app: Arc<App>,
    addr: &str,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr} (DUNBOT_HTTP_ADDR): {e}"))?;
    tracing::info!(addr, "HTTP listening");
    axum::serve(listener, router(app))
        .with_graceful_shutdown(async move {
            let _ = stop.changed().await;
        })
        .await?;
    Ok(())
}
