//! The Discord edge: renders messages as embeds and buttons, verifies and answers
//! interactions (gateway or HTTP), registers `/ar` from `commands/`, and delivers `chat`
//! outbox rows to `discord:` channels. It translates; `app::App::handle` decides.
pub mod case_thread;
pub mod config;
pub mod custom_id;
pub mod deliver;
pub mod endpoint;
pub mod gateway;
pub mod interactions;
pub mod register;
pub mod render;
pub mod translate;
pub mod verify;

pub use config::{DiscordConfig, Mode};
pub use interactions::Discord;

use crate::app::App;
use crate::notify::Deliverer;
use std::sync::Arc;

/// `dunbot serve`'s Discord part, from the environment: with `DISCORD_TOKEN`, the gateway
/// client (gateway mode) or the command registration (HTTP mode; the route itself is mounted
/// by `endpoint::router_from_env` when `DISCORD_PUBLIC_KEY` is set). `None` without a token.
pub fn start_from_env(
    app: &Arc<App>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    let config = DiscordConfig::from_env()?;
    if config.token.is_none() {
        return Ok(None);
    }
    let mode = config.mode;
    if mode == Mode::Http && config.public_key.is_none() {
        tracing::warn!("DISCORD_MODE=http without DISCORD_PUBLIC_KEY: Discord cannot reach dunbot");
    }
    let discord = Arc::new(Discord::new(app.clone(), config));
    Ok(Some(match mode {
        Mode::Gateway => {
            tracing::info!("Discord: gateway mode");
            tokio::spawn(gateway::run(discord, stop))
        }
        Mode::Http => {
            tracing::info!("Discord: HTTP interactions mode");
            tokio::spawn(async move {
                if discord.config.application_id.is_none() {
                    tracing::error!(
                        "DISCORD_APPLICATION_ID is needed to register /ar in HTTP mode"
                    );
                } else if let Err(e) = gateway::register_commands(&discord).await {
                    tracing::error!(error = %e, "registering the Discord commands failed");
                }
            })
        }
    }))
}

/// The `chat` (and `chat_edit`) deliverer for `discord:` channels, when `DISCORD_TOKEN` is set.
pub fn deliverer_from_env(app: &App) -> Option<Arc<dyn Deliverer>> {
    let config = match DiscordConfig::from_env() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "Discord settings are invalid; no Discord delivery");
            return None;
        }
    };
    config.token.as_ref()?;
    let http = Arc::new(Discord::http_client(&config));
    Some(Arc::new(
        deliver::DiscordChannel::new(http, config.retry_after_default)
            .with_roles(config.roles)
            .with_store(app.store.clone()),
    ))
}

/// The case-thread deliverer for `discord:` channels, when `DISCORD_TOKEN` is set.
pub fn case_threads_from_env(app: &App) -> Option<Arc<dyn Deliverer>> {
    let config = DiscordConfig::from_env().ok()?;
    config.token.as_ref()?;
    let http = Arc::new(Discord::http_client(&config));
    Some(Arc::new(
        crate::app::case_threads::CaseThreadDeliverer::new(
            app,
            Arc::new(case_thread::DiscordThreads { http }),
        ),
    ))
}
