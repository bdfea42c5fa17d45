//! Gateway mode: the serenity client, supervised. Serenity resumes or re-identifies a shard
//! whose connection drops; this loop covers the rest — a failed start (Discord down, a 429 on
//! the gateway lookup) or a client that ended — by logging and starting again with backoff,
//! so the bot never dies silently.
use super::interactions::Discord;
use super::register;
use crate::commands::registry;
use serenity::all::{
    ApplicationId, Context, EventHandler, GatewayIntents, GuildId, Interaction, Ready,
};
use serenity::client::ClientBuilder;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::watch;

struct Handler {
    discord: Arc<Discord>,
    registered: AtomicBool,
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn ready(&self, _ctx: Context, ready: Ready) {
        tracing::info!(user = ready.user.name, "Discord gateway ready");
        if self.discord.config.application_id.is_none() {
            self.discord.http.set_application_id(ready.application.id);
        }
        // Once per process: a reconnect that re-identifies need not re-register.
        if !self.registered.swap(true, Ordering::SeqCst)
            && let Err(e) = register_commands(&self.discord).await
        {
            self.registered.store(false, Ordering::SeqCst);
            tracing::error!(error = %e, "registering the Discord commands failed");
        }
    }

    async fn interaction_create(&self, _ctx: Context, interaction: Interaction) {
        let id = interaction.id();
        let token = interaction.token().to_string();
        let plan = self.discord.respond(interaction).await;
        let d = &self.discord;
        let first = d.patient("the first response", false, || {
            d.http
                .create_interaction_response(id, &token, &plan.first, vec![])
        });
        if first.await.is_none() {
            return;
        }
        if let Some(then) = plan.then {
            then.await;
        }
    }
}

/// Bulk-overwrites `/ar` and `/ar-manage`: in `DISCORD_GUILD_ID` when set (instant), else
/// globally.
pub async fn register_commands(discord: &Discord) -> serenity::Result<()> {
    let body = register::commands(registry(), &discord.app.settings.command_root);
    match discord.config.guild_id {
        Some(g) => {
            discord
                .http
                .create_guild_commands(GuildId::new(g), &body)
                .await?;
        }
        None => {
            discord.http.create_global_commands(&body).await?;
        }
    }
    tracing::info!(guild = ?discord.config.guild_id, "Discord commands registered");
    Ok(())
}

/// Runs the gateway client until `stop` changes, restarting it with backoff whenever it
/// fails to start or ends.
pub async fn run(discord: Arc<Discord>, mut stop: watch::Receiver<bool>) {
    let cfg = discord.config.clone();
    let mut wait = cfg.reconnect_min;
    loop {
        let started = Instant::now();
        match run_once(&discord, &mut stop).await {
            Ok(true) => return,
            Ok(false) => tracing::warn!("Discord gateway client ended; restarting"),
            Err(e) => {
                tracing::error!(error = %e, wait = ?wait, "Discord gateway client failed; restarting")
            }
        }
        // A client that ran for a while starts the backoff over.
        if started.elapsed() > Duration::from_secs(60) {
            wait = cfg.reconnect_min;
        }
        if !crate::clock::pause(wait, &mut stop).await {
            return;
        }
        wait = (wait * 2).min(cfg.reconnect_max);
    }
}

/// One client's life; `Ok(true)` when stopped on purpose.
async fn run_once(
    discord: &Arc<Discord>,
    stop: &mut watch::Receiver<bool>,
) -> anyhow::Result<bool> {
    let http = Discord::http_client(&discord.config);
    // Asking first surfaces a bad token, an outage or a 429 here, where it is retried with
    // backoff, rather than as serenity's fallback to the default gateway URL.
    let gateway = http.get_bot_gateway().await?;
    if gateway.session_start_limit.remaining == 0 {
        let wait = Duration::from_millis(gateway.session_start_limit.reset_after);
        tracing::warn!(?wait, "Discord session start limit reached; waiting");
        tokio::time::sleep(wait).await;
    }
    if let Some(id) = discord.config.application_id {
        http.set_application_id(ApplicationId::new(id));
    }
    // Interactions arrive without any intent; none keeps guild and message events away.
    let handler = Handler {
        discord: discord.clone(),
        registered: AtomicBool::new(false),
    };
    let mut client = ClientBuilder::new_with_http(http, GatewayIntents::empty())
        .event_handler(handler)
        .await?;
    let shards = client.shard_manager.clone();
    tokio::select! {
        r = client.start() => {
            r?;
            Ok(false)
        }
        _ = stop.changed() => {
            shards.shutdown_all().await;
            Ok(true)
        }
    }
}
