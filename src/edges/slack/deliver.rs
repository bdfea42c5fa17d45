//! Posts `chat` outbox rows for `slack:` channels (digests, manager and agency pings): the
//! first part with `chat.postMessage`, the rest of a long digest as replies in its thread.
//! Each part posted is recorded, so a retried row resumes after it and posts nothing twice;
//! a 429 waits for `Retry-After` inside the client, a 5xx or a network error leaves the row
//! for the outbox to retry.
use super::api::{CallError, SlackApi};
use super::blocks;
use crate::message::Message;
use crate::notify::Deliverer;
use crate::notify::worker::DeliveryError;
use crate::store::{Store, outbox::OutboxRow, slack};
use futures_util::future::BoxFuture;

pub struct SlackDeliverer {
    pub api: SlackApi,
    pub store: Store,
}

/// The Slack channel id in a `slack:C123` channel.
pub fn channel_id(channel: &str) -> Option<&str> {
    channel.strip_prefix("slack:").filter(|c| !c.is_empty())
}

impl Deliverer for SlackDeliverer {
    fn accepts(&self, row: &OutboxRow) -> bool {
        row.kind == "chat"
            && row.payload["channel"]
                .as_str()
                .and_then(channel_id)
                .is_some()
    }

    fn deliver<'a>(&'a self, row: &'a OutboxRow) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            let channel = row.payload["channel"]
                .as_str()
                .and_then(channel_id)
                .ok_or_else(|| DeliveryError::Permanent("not a slack: channel".into()))?;
            let msg: Message = serde_json::from_value(row.payload["message"].clone())
                .map_err(|e| DeliveryError::Permanent(format!("bad chat payload: {e}")))?;
            let db = |e: sqlx::Error| DeliveryError::Retry(format!("database: {e}"));
            let mut conn = self.store.pool.acquire().await.map_err(db)?;
            let done = slack::posted_parts(&mut conn, &row.dedupe_key)
                .await
                .map_err(db)?;
            let mut thread: Option<String> = done.first().map(|(_, ts)| ts.clone());
            for (i, post) in blocks::render(&msg).iter().enumerate() {
                let part = i as i32;
                if done.iter().any(|(p, _)| *p == part) {
                    continue;
                }
                let ts = self
                    .api
                    .post_message(channel, post, if i == 0 { None } else { thread.as_deref() })
                    .await
                    .map_err(|e| match e {
                        CallError::Transient(e) => DeliveryError::Retry(e),
                        CallError::Refused(e) => DeliveryError::Permanent(e),
                    })?;
                slack::record_part(&mut conn, &row.dedupe_key, part, channel, &ts)
                    .await
                    .map_err(db)?;
                if i == 0 {
                    thread = Some(ts);
                }
            }
            Ok(())
        })
    }
}
