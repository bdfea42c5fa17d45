//! Delivers `chat` outbox rows for `discord:<channel id>`: the message rendered within
//! Discord's limits, one POST per part. The first part goes to the channel; a message too long
//! for one (a big digest) continues in a thread started from it, so the channel shows one
//! message (as Slack does with `thread_ts`). Each part carries a nonce from the row and its
//! index with `enforce_nonce`, so when a retry follows a half-sent digest Discord returns the
//! parts it already has instead of posting them twice; a thread that already exists is the
//! one the retry continues in. A post with a chart (the weekly summary) carries its PNG as an
//! attachment of the first part.
//!
//! A ping mentions the Discord roles that stand for its people; a message with a topic has
//! where it landed recorded, and `chat_edit` rows (a decision) edit such a recorded message.
use super::config::RoleMapping;
use super::custom_id::{self, CustomId};
use super::render::{mention, mention_roles, render, truncate};
use super::translate::message_resolved;
use crate::app::decided_topic;
use crate::domain::spent::is_spent;
use crate::message::Message;
use crate::notify::{Deliverer, worker::DeliveryError};
use crate::store::{Store, copies, outbox::OutboxRow};
use futures_util::future::BoxFuture;
use serenity::all::{ChannelId, CreateAttachment, MessageId};
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
    /// Discord roles for dunbot roles: whom a ping to managers or an agency mentions.
    pub roles: Vec<RoleMapping>,
    /// Where copies of messages with a topic are recorded (none: not recorded).
    pub store: Option<Store>,
}

impl DiscordChannel {
    pub fn new(http: Arc<Http>, retry_after: Duration) -> DiscordChannel {
        DiscordChannel {
            http,
            retry_after,
            max_waits: 3,
            roles: vec![],
            store: None,
        }
    }

    pub fn with_roles(mut self, roles: Vec<RoleMapping>) -> DiscordChannel {
        self.roles = roles;
        self
    }

    pub fn with_store(mut self, store: Store) -> DiscordChannel {
        self.store = Some(store);
        self
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
        (row.kind == "chat" || row.kind == "chat_edit")
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
            if let (true, Some(line)) = (row.kind == "chat_edit", row.payload.get("line")) {
                return self.edit_line(channel, row, line).await;
            }
            let msg: Message = serde_json::from_value(row.payload["message"].clone())
                .map_err(|e| DeliveryError::Permanent(format!("bad chat payload: {e}")))?;
            let mut posts = render(&msg);
            mention(&mut posts, &mention_roles(&msg, &self.roles));
            if row.kind == "chat_edit" {
                let body = serde_json::to_value(&posts[0])
                    .map_err(|e| DeliveryError::Permanent(e.to_string()))?;
                return self.edit(channel, row, &body).await;
            }
            let chart = chart_attachment(row)?;
            let channel = ChannelId::new(channel);
            let mut to = channel;
            for (i, post) in posts.iter().enumerate() {
                let files: Vec<CreateAttachment> = match (&chart, i) {
                    (Some(a), 0) => vec![a.clone()],
                    _ => vec![],
                };
                let mut body = serde_json::to_value(post)
                    .map_err(|e| DeliveryError::Permanent(e.to_string()))?;
                if let (Some(a), Some(embed)) = (
                    files.first(),
                    body["embeds"].as_array_mut().and_then(|e| e.first_mut()),
                ) {
                    // The chart shows inside the summary's embed.
                    embed["image"] =
                        serde_json::json!({"url": format!("attachment://{}", a.filename)});
                }
                body["nonce"] = serde_json::json!(format!("o{}p{i}", row.id));
                body["enforce_nonce"] = serde_json::json!(true);
                let sent = self
                    .call(to, || self.http.send_message(to, files.clone(), &body))
                    .await?;
                let topics = topics(&msg, post, i == 0);
                if let (false, Some(store)) = (topics.is_empty(), &self.store) {
                    let db = |e: sqlx::Error| DeliveryError::Retry(format!("database: {e}"));
                    let mut conn = store.pool.acquire().await.map_err(db)?;
                    let (at, id) = (format!("discord:{to}"), sent.id.to_string());
                    for (topic, line) in topics {
                        copies::record(&mut conn, &topic, &at, &id, line)
                            .await
                            .map_err(db)?;
                    }
                }
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

/// A post with a chart (the weekly summary): its PNG, drawn from the series in the row, to go
/// with the first part as an attachment (a multipart message; the nonce still holds).
fn chart_attachment(row: &OutboxRow) -> Result<Option<CreateAttachment>, DeliveryError> {
    let Some(chart) = row.payload.get("chart") else {
        return Ok(None);
    };
    let (name, png) =
        crate::edges::weekly_scheduler::draw(chart).map_err(DeliveryError::Permanent)?;
    Ok(Some(CreateAttachment::bytes(png, name)))
}

/// The topics a posted part is a copy of: the message's own (whole, on its first part), and
/// each offer whose buttons the part carries (a digest: edited line by line).
fn topics(msg: &Message, post: &super::render::Post, first: bool) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = match (&msg.topic, first) {
        (Some(t), true) => vec![(t.clone(), false)],
        _ => vec![],
    };
    for b in post.buttons() {
        let command = match custom_id::parse(&b.custom_id) {
            Some(CustomId::Run(c) | CustomId::Form(c)) => c,
            _ => continue,
        };
        if let Some(t) = decided_topic(&command)
            && msg.topic.as_ref() != Some(&t)
            && !out.iter().any(|(o, _)| *o == t)
        {
            out.push((t, true));
        }
    }
    out
}

fn message_id(row: &OutboxRow) -> Result<MessageId, DeliveryError> {
    row.payload["message_id"]
        .as_str()
        .and_then(|m| m.parse().ok())
        .filter(|id| *id != 0)
        .map(MessageId::new)
        .ok_or_else(|| DeliveryError::Permanent("chat_edit without a message id".into()))
}

/// How a failed edit (or the read before it) counts: a message deleted since (404) has nothing
/// left to correct.
fn edit_error(e: serenity::Error) -> Result<(), DeliveryError> {
    match super::interactions::status(&e) {
        Some(404) => {
            tracing::warn!("Discord: the message to edit is gone");
            Ok(())
        }
        Some(s) if (400..500).contains(&s) && s != 429 => Err(DeliveryError::Permanent(format!(
            "Discord refused the edit: {e}"
        ))),
        _ => Err(DeliveryError::Retry(e.to_string())),
    }
}

impl DiscordChannel {
    /// Replaces a recorded message's content, embeds and buttons.
    async fn edit(
        &self,
        channel: u64,
        row: &OutboxRow,
        body: &serde_json::Value,
    ) -> Result<(), DeliveryError> {
        let id = message_id(row)?;
        match self
            .http
            .edit_message(ChannelId::new(channel), id, body, vec![])
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => edit_error(e),
        }
    }

    /// Corrects one line of a longer message (a digest): reads the message as it is now, drops
    /// the spent buttons and says what happened.
    async fn edit_line(
        &self,
        channel: u64,
        row: &OutboxRow,
        line: &serde_json::Value,
    ) -> Result<(), DeliveryError> {
        let id = message_id(row)?;
        let resolved = line["resolved"].as_str().unwrap_or_default();
        let spent: Vec<String> = serde_json::from_value(line["spent"].clone()).unwrap_or_default();
        let current = match self.http.get_message(ChannelId::new(channel), id).await {
            Ok(m) => m,
            Err(e) => return edit_error(e),
        };
        let live = current
            .components
            .iter()
            .flat_map(|r| r.components.iter())
            .any(|c| match c {
                serenity::all::ActionRowComponent::Button(b) => match &b.data {
                    serenity::all::ButtonKind::NonLink { custom_id, .. } => {
                        match custom_id::parse(custom_id) {
                            Some(CustomId::Run(c) | CustomId::Form(c)) => is_spent(&spent, &c),
                            _ => false,
                        }
                    }
                    _ => false,
                },
                _ => false,
            });
        if !live {
            // Already resolved where it was pressed, or no longer listed.
            return Ok(());
        }
        let body = message_resolved(&current, "", resolved, &spent);
        self.edit(channel, row, &body).await
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
