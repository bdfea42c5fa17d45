//! Delivers `chat` outbox rows for `discord:<channel id>`: the message rendered within
//! Discord's limits, one POST per part. The first part goes to the channel; a message too long
//! for one (a big digest) continues in a thread started from it, so the channel shows one
//! message (as Slack does with `thread_ts`). Each part carries a nonce from the row and its
//! index with `enforce_nonce`, so when a retry follows a half-sent digest Discord returns the
//! parts it already has instead of posting them twice; a thread that already exists is the
//! one the retry continues in.
use super::render::{render, truncate};
use crate::message::Message;
use crate::notify::{Deliverer, worker::DeliveryError};
use crate::store::outbox::OutboxRow;
use futures_util::future::BoxFuture;
use serenity::all::{ChannelId, MessageId};
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
            let channel = ChannelId::new(channel);
            let mut to = channel;
            let posts = render(&msg);
            for (i, post) in posts.iter().enumerate() {
                let mut body = serde_json::to_value(post)
                    .map_err(|e| DeliveryError::Permanent(e.to_string()))?;
                body["nonce"] = serde_json::json!(format!("o{}p{i}", row.id));
                body["enforce_nonce"] = serde_json::json!(true);
                let sent = self
                    .call(to, || self.http.send_message(to, vec![], &body))
                    .await?;
                if i == 0 && posts.len() > 1 {
                    // The rest go to a thread on this first message, which shares its id.
                    self.thread(channel, sent.id, &thread_name(&msg)).await?;
                    to = ChannelId::new(sent.id.get());
                }
            }
            Ok(())
        })
    }
}

/// A thread's name (at most 100 characters): the message's first line.
fn thread_name(msg: &Message) -> String {
    let first = msg.text.lines().next().unwrap_or_default().trim();
    truncate(if first.is_empty() { "dunbot" } else { first }, 100)
}

/// Discord's code for "a thread has already been created for this message".
const THREAD_EXISTS: isize = 160004;

impl DiscordChannel {
    /// Starts a thread on `message` (its id is then the thread's). On a retry the thread may
    /// exist already: that is the one to continue in.
    async fn thread(
        &self,
        channel: ChannelId,
        message: MessageId,
        name: &str,
    ) -> Result<(), DeliveryError> {
        let body = serde_json::json!({"name": name, "auto_archive_duration": 1440});
        let create =
            || async {
                match self
                    .http
                    .create_thread_from_message(channel, message, &body, None)
                    .await
                {
                    Err(serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(
                        r,
                    ))) if r.error.code == THREAD_EXISTS => Ok(()),
                    other => other.map(|_| ()),
                }
            };
        self.call(channel, create).await
    }

    /// One call to Discord: a 429 waited out up to `max_waits` times, then classified for the
    /// outbox (4xx is permanent, 5xx and the network are retried later).
    async fn call<T, F, Fut>(&self, channel: ChannelId, call: F) -> Result<T, DeliveryError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = serenity::Result<T>>,
    {
        let mut waits = 0;
        loop {
            let err = match call().await {
                Ok(v) => return Ok(v),
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
