//! Delivers `chat` outbox rows for `discord:<channel id>`: the message rendered within
//! Discord's limits, one POST per part. Each part carries a nonce from the row and its index
//! with `enforce_nonce`, so when a retry follows a half-sent digest Discord returns the parts
//! it already has instead of posting them twice.
use super::render::render;
use crate::message::Message;
use crate::notify::{Deliverer, worker::DeliveryError};
use crate::store::outbox::OutboxRow;
use futures_util::future::BoxFuture;
use serenity::all::ChannelId;
use serenity::http::Http;
use std::sync::Arc;
use std::time::Duration;

pub struct DiscordChannel {
    pub http: Arc<Http>,
    /// How long to wait out a 429 (serenity's own ratelimiter, on by default, waits first;
    /// this covers a proxy's or a disabled ratelimiter's 429s).
    pub retry_after: Duration,
    /// 429s waited out per part before the row is retried later.
    pub max_waits: u32,
}

impl DiscordChannel {
    pub fn new(http: Arc<Http>, retry_after: Duration) -> DiscordChannel {
        DiscordChannel {
            http,
            retry_after,
            max_waits: 3,
        }
    }
}

fn channel_id(row: &OutboxRow) -> Option<u64> {
    row.payload["channel"]
        .as_str()?
        .strip_prefix("discord:")?
        .parse()
        .ok()
        .filter(|id| *id != 0)
}

impl Deliverer for DiscordChannel {
    fn accepts(&self, row: &OutboxRow) -> bool {
        row.kind == "chat"
            && row.payload["channel"]
                .as_str()
                .is_some_and(|c| c.starts_with("discord:"))
    }

    fn deliver<'a>(&'a self, row: &'a OutboxRow) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            let channel = channel_id(row).ok_or_else(|| {
                DeliveryError::Permanent(format!(
                    "{} is not a Discord channel (discord:<channel id>)",
                    row.payload["channel"]
                ))
            })?;
            let msg: Message = serde_json::from_value(row.payload["message"].clone())
                .map_err(|e| DeliveryError::Permanent(format!("bad chat payload: {e}")))?;
            for (i, post) in render(&msg).iter().enumerate() {
                let mut body = serde_json::to_value(post)
                    .map_err(|e| DeliveryError::Permanent(e.to_string()))?;
                body["nonce"] = serde_json::json!(format!("o{}p{i}", row.id));
                body["enforce_nonce"] = serde_json::json!(true);
                self.send(ChannelId::new(channel), &body).await?;
            }
            Ok(())
        })
    }
}

impl DiscordChannel {
    async fn send(
        &self,
        channel: ChannelId,
        body: &serde_json::Value,
    ) -> Result<(), DeliveryError> {
        let mut waits = 0;
        loop {
            let err = match self.http.send_message(channel, vec![], body).await {
                Ok(_) => return Ok(()),
                Err(e) => e,
            };
            let status = super::interactions::status(&err);
            let err = match status {
                Some(s) => format!("HTTP {s}: {err}"),
                None => err.to_string(),
            };
            match status {
                Some(429) if waits < self.max_waits => {
                    waits += 1;
                    tracing::warn!(%channel, "Discord rate limit (429); waiting it out");
                    tokio::time::sleep(self.retry_after * waits).await;
                }
                Some(429) => return Err(DeliveryError::Retry(format!("rate limited: {err}"))),
                Some(s) if (400..500).contains(&s) => {
                    return Err(DeliveryError::Permanent(format!("Discord refused: {err}")));
                }
                // 5xx, or the network: Discord may be back soon.
                _ => return Err(DeliveryError::Retry(err)),
            }
        }
    }
}
