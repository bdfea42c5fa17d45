//! The Slack edge: slash commands, buttons and modals in, Block Kit out, over HTTP (signed
//! requests) or Socket Mode, with slack-morphism's client for the Web API. It translates; the
//! core (`app::App::handle`) decides.
pub mod api;
pub mod blocks;
pub mod case_thread;
pub mod config;
pub mod deliver;
pub mod edge;
pub mod manifest;
pub mod names;
pub mod routes;
pub mod socket;
pub mod verify;

pub use config::SlackConfig;
pub use edge::SlackEdge;

use crate::app::App;
use crate::notify::Deliverers;
use std::sync::Arc;

/// The `/slack/*` routes when `SLACK_SIGNING_SECRET` is set; no routes otherwise.
pub fn routes_from_env(app: Arc<App>) -> axum::Router {
    let cfg = SlackConfig::from_env();
    if cfg.signing_secret.is_none() {
        return axum::Router::new();
    }
    match SlackEdge::new(app, cfg) {
        Ok(edge) => routes::router(Arc::new(edge)),
        Err(e) => {
            tracing::error!(error = %e, "Slack HTTP routes not mounted");
            axum::Router::new()
        }
    }
}

/// Adds the Slack deliverers for `chat` and `chat_edit` rows and case-thread events to
/// `slack:` channels when `SLACK_BOT_TOKEN` is set.
pub fn add_deliverer(ds: Deliverers, app: &App) -> Deliverers {
    let cfg = SlackConfig::from_env();
    let Some(token) = &cfg.bot_token else {
        return ds;
    };
    match api::SlackApi::new(token, &cfg.api_url) {
        Ok(api) => {
            let threads = Arc::new(crate::app::case_threads::CaseThreadDeliverer::new(
                app,
                Arc::new(case_thread::SlackThreads { api: api.clone() }),
            ));
            let d = Arc::new(deliver::SlackDeliverer {
                api,
                store: app.store.clone(),
                managers_group: cfg.managers_group.clone(),
            });
            ds.add("chat", d.clone())
                .add("chat_edit", d)
                .add(crate::store::case_threads::KIND, threads)
        }
        Err(e) => {
            tracing::error!(error = %e, "Slack deliverer not started");
            ds
        }
    }
}

/// Starts Socket Mode when `SLACK_APP_TOKEN` is set; runs until `stop` changes.
pub fn spawn_socket_mode(
    app: Arc<App>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    let cfg = SlackConfig::from_env();
    if !cfg.socket_mode() {
        return None;
    }
    Some(tokio::spawn(async move {
        let run = async {
            let edge = Arc::new(SlackEdge::new(app, cfg)?);
            socket::run(edge, stop).await
        };
        if let Err(e) = run.await {
            tracing::error!(error = %e, "Slack Socket Mode stopped");
        }
    }))
}
