//! Socket Mode: slack-morphism's listener opens `apps.connections.open`'s WebSocket with the
//! app token and hands envelopes to the same translation as HTTP mode. Each envelope is acked
//! as soon as it is read; the work continues in a task, except a `view_submission`, whose
//! field errors travel in the ack. Retries (`retry_attempt`) carry the same payload, so the
//! same request id: the core acts once.
use super::edge::{self, SlackEdge, SlashCommand};
use slack_morphism::prelude::*;
use std::sync::Arc;

async fn edge_of(states: &SlackClientEventsUserState) -> Option<Arc<SlackEdge>> {
    states
        .read()
        .await
        .get_user_state::<Arc<SlackEdge>>()
        .cloned()
}

async fn on_command(
    ev: SlackCommandEvent,
    _client: Arc<SlackClient<super::api::Connector>>,
    states: SlackClientEventsUserState,
) -> UserCallbackResult<SlackCommandEventResponse> {
    if let Some(edge) = edge_of(&states).await {
        let cmd = SlashCommand::from_json(&serde_json::to_value(&ev)?);
        edge.spawn(|edge| async move {
            edge::run_command(&edge, cmd).await;
        });
    }
    Ok(SlackCommandEventResponse::new(SlackMessageContent::new()))
}

async fn on_interaction(
    ev: SlackInteractionEvent,
    _client: Arc<SlackClient<super::api::Connector>>,
    states: SlackClientEventsUserState,
) -> UserCallbackResult<SlackInteractionResponse> {
    let Some(edge) = edge_of(&states).await else {
        return Ok(SlackInteractionResponse::Empty);
    };
    let payload = serde_json::to_value(&ev)?;
    match payload["type"].as_str() {
        Some("block_actions") => {
            edge.spawn(|edge| async move {
                edge::run_block_action(&edge, payload).await;
            });
            Ok(SlackInteractionResponse::Empty)
        }
        Some("view_submission") => {
            let ack = edge::run_view_submission(&edge, payload).await;
            if ack.as_object().is_some_and(|o| o.is_empty()) {
                Ok(SlackInteractionResponse::Empty)
            } else {
                let r: SlackViewSubmissionResponse = serde_json::from_value(ack)?;
                Ok(r.into())
            }
        }
        _ => Ok(SlackInteractionResponse::Empty),
    }
}

async fn on_push(
    ev: SlackPushEventCallback,
    _client: Arc<SlackClient<super::api::Connector>>,
    states: SlackClientEventsUserState,
) -> UserCallbackResult<()> {
    if let Some(edge) = edge_of(&states).await {
        let envelope = serde_json::to_value(&ev)?;
        edge.spawn(|edge| async move {
            edge::run_event(&edge, envelope).await;
        });
    }
    Ok(())
}

/// Listens in Socket Mode until `stop` changes. Needs `SLACK_APP_TOKEN` and the bot token.
pub async fn run(
    edge: Arc<SlackEdge>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let app_token = edge
        .cfg
        .app_token
        .clone()
        .ok_or_else(|| anyhow::anyhow!("Socket Mode needs SLACK_APP_TOKEN (xapp-…)"))?;
    let api = edge
        .api
        .clone()
        .ok_or_else(|| anyhow::anyhow!("Socket Mode needs SLACK_BOT_TOKEN (xoxb-…) to answer"))?;
    let callbacks = SlackSocketModeListenerCallbacks::new()
        .with_command_events(on_command)
        .with_interaction_events(on_interaction)
        .with_push_events(on_push);
    let env = Arc::new(
        SlackClientEventsListenerEnvironment::new(api.client.clone()).with_user_state(edge.clone()),
    );
    let listener =
        SlackClientSocketModeListener::new(&SlackClientSocketModeConfig::new(), env, callbacks);
    listener
        .listen_for(&SlackApiToken::new(app_token.into()))
        .await
        .map_err(|e| anyhow::anyhow!("Socket Mode could not connect: {e}"))?;
    listener.start().await;
    tracing::info!("Slack Socket Mode listening");
    let _ = stop.changed().await;
    listener.shutdown().await;
    Ok(())
}
