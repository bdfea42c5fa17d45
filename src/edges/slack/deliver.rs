//! Posts `chat` outbox rows for `slack:` channels (digests, manager and agency pings): the
//! first part with `chat.postMessage`, the rest of a long digest as replies in its thread.
//! Each part posted is recorded, so a retried row resumes after it and posts nothing twice;
//! a 429 waits for `Retry-After` inside the client, a 5xx or a network error leaves the row
//! for the outbox to retry.
//!
//! A ping mentions its people (a user group, or the users granted the role), a message with a
//! topic has where it landed recorded, and `chat_edit` rows (a decision) `chat.update` such a
//! recorded message. A post with a chart (the weekly summary) is a file upload instead.
use super::api::{CallError, SlackApi};
use super::blocks;
use crate::app::decided_topic;
use crate::domain::roles::Role;
use crate::domain::spent::is_spent;
use crate::message::{Mention, Message};
use crate::notify::Deliverer;
use crate::notify::worker::DeliveryError;
use crate::store::{Store, copies, outbox::OutboxRow, people, slack, weekly};
use futures_util::future::BoxFuture;
use serde_json::Value;
use sqlx::PgConnection;

pub struct SlackDeliverer {
    pub api: SlackApi,
    pub store: Store,
    /// `DUNBOT_SLACK_MANAGERS_GROUP`: the user group a managers' ping mentions.
    pub managers_group: Option<String>,
}

/// The Slack channel id in a `slack:C123` channel.
pub fn channel_id(channel: &str) -> Option<&str> {
    channel.strip_prefix("slack:").filter(|c| !c.is_empty())
}

fn call(e: CallError) -> DeliveryError {
    match e {
        CallError::Transient(e) => DeliveryError::Retry(e),
        CallError::Refused(e) => DeliveryError::Permanent(e),
    }
}

/// How Slack spells the message's mentions: the managers' group when one is set, else each
/// Slack user granted the role (for an agency: granted that agency's role).
pub async fn mention_tokens(
    conn: &mut PgConnection,
    msg: &Message,
    managers_group: Option<&str>,
) -> Result<Vec<String>, sqlx::Error> {
    let mut out: Vec<String> = Vec::new();
    for m in &msg.mentions {
        let users = match (m, managers_group) {
            (Mention::Managers, Some(group)) => {
                out.push(format!("<!subteam^{group}>"));
                continue;
            }
            (Mention::Managers, None) => {
                people::holders(conn, "slack", Role::Manager, None).await?
            }
            (Mention::Finance, _) => people::holders(conn, "slack", Role::Finance, None).await?,
            (Mention::Agency { name }, _) => {
                people::holders(conn, "slack", Role::Agency, Some(name)).await?
            }
        };
        for u in users {
            let tag = format!("<@{u}>");
            if !out.contains(&tag) {
                out.push(tag);
            }
        }
    }
    Ok(out)
}

/// The topics a posted message is a copy of: its own (whole), and each offer whose buttons
/// one of its lines carries (a digest: edited line by line).
fn topics(msg: &Message, post: &blocks::Post) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = msg.topic.iter().map(|t| (t.clone(), false)).collect();
    for b in post.blocks.iter().filter(|b| b["type"] == "actions") {
        for e in b["elements"].as_array().into_iter().flatten() {
            if let Some(t) = e["value"].as_str().and_then(decided_topic)
                && !out.iter().any(|(o, _)| *o == t)
            {
                out.push((t, true));
            }
        }
    }
    out
}

impl SlackDeliverer {
    /// Corrects one line of a longer message (a digest): reads the message as it is now, drops
    /// the spent buttons and says what happened below them.
    async fn edit_line(&self, channel: &str, ts: &str, line: &Value) -> Result<(), DeliveryError> {
        let resolved = line["resolved"].as_str().unwrap_or_default();
        let spent: Vec<String> = serde_json::from_value(line["spent"].clone()).unwrap_or_default();
        let Some((text, current)) = self.api.message(channel, ts).await.map_err(call)? else {
            return Ok(());
        };
        let live = current
            .iter()
            .filter(|b| b["type"] == "actions")
            .flat_map(|b| b["elements"].as_array().into_iter().flatten())
            .any(|e| e["value"].as_str().is_some_and(|c| is_spent(&spent, c)));
        if !live {
            // Already resolved where it was pressed, or no longer listed.
            return Ok(());
        }
        let updated = blocks::resolve_spent(&current, "", resolved, &spent);
        self.api
            .update(channel, ts, &text, &updated)
            .await
            .map_err(call)
    }
}

impl SlackDeliverer {
    /// A post with a chart (the weekly summary): the PNG uploaded, its file id recorded, then
    /// shared in the channel with the post's blocks. A retried row completes the file it
    /// recorded instead of uploading again, and does nothing once the file is shared.
    async fn post_chart(
        &self,
        conn: &mut PgConnection,
        channel: &str,
        row: &OutboxRow,
        chart: &Value,
        post: &blocks::Post,
    ) -> Result<(), DeliveryError> {
        let db = |e: sqlx::Error| DeliveryError::Retry(format!("database: {e}"));
        let key = &row.dedupe_key;
        let file_id = match weekly::slack_upload(conn, key).await.map_err(db)? {
            Some((_, true)) => return Ok(()),
            Some((id, false)) => id,
            None => {
                let (name, png) = crate::edges::weekly_scheduler::draw(chart)
                    .map_err(DeliveryError::Permanent)?;
                let id = self.api.upload_file(&name, png).await.map_err(call)?;
                weekly::record_slack_upload(conn, key, &id)
                    .await
                    .map_err(db)?;
                id
            }
        };
        let title = chart["title"].as_str().unwrap_or("AR by age");
        self.api
            .complete_upload(channel, &file_id, title, post)
            .await
            .map_err(call)?;
        weekly::complete_slack_upload(conn, key).await.map_err(db)
    }
}

impl Deliverer for SlackDeliverer {
    fn accepts(&self, row: &OutboxRow) -> bool {
        (row.kind == "chat" || row.kind == "chat_edit")
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
            if let (true, Some(line), Some(ts)) = (
                row.kind == "chat_edit",
                row.payload.get("line"),
                row.payload["message_id"].as_str(),
            ) {
                return self.edit_line(channel, ts, line).await;
            }
            let msg: Message = serde_json::from_value(row.payload["message"].clone())
                .map_err(|e| DeliveryError::Permanent(format!("bad chat payload: {e}")))?;
            let db = |e: sqlx::Error| DeliveryError::Retry(format!("database: {e}"));
            let mut conn = self.store.pool.acquire().await.map_err(db)?;
            let mut posts = blocks::render(&msg);
            let tokens = mention_tokens(&mut conn, &msg, self.managers_group.as_deref())
                .await
                .map_err(db)?;
            blocks::mention(&mut posts, &tokens);
            if row.kind == "chat_edit" {
                let ts = row.payload["message_id"].as_str().ok_or_else(|| {
                    DeliveryError::Permanent("chat_edit without a message ts".into())
                })?;
                let post = &posts[0];
                return match self.api.update(channel, ts, &post.text, &post.blocks).await {
                    // A message deleted since has nothing left to correct.
                    Err(CallError::Refused(e)) if e.contains("message_not_found") => Ok(()),
                    r => r.map_err(call),
                };
            }
            if let Some(chart) = row.payload.get("chart") {
                return self
                    .post_chart(&mut conn, channel, row, chart, &posts[0])
                    .await;
            }
            let done = slack::posted_parts(&mut conn, &row.dedupe_key)
                .await
                .map_err(db)?;
            let mut thread: Option<String> = done.first().map(|(_, ts)| ts.clone());
            for (i, post) in posts.iter().enumerate() {
                let part = i as i32;
                if done.iter().any(|(p, _)| *p == part) {
                    continue;
                }
                let ts = self
                    .api
                    .post_message(channel, post, if i == 0 { None } else { thread.as_deref() })
                    .await
                    .map_err(call)?;
                slack::record_part(&mut conn, &row.dedupe_key, part, channel, &ts)
                    .await
                    .map_err(db)?;
                if i == 0 {
                    // A thread reply is not found again by its channel's history: only the
                    // first part's lines are kept true.
                    let at = format!("slack:{channel}");
                    for (topic, line) in topics(&msg, post) {
                        copies::record(&mut conn, &topic, &at, &ts, line)
                            .await
                            .map_err(db)?;
                    }
                    thread = Some(ts);
                }
            }
            Ok(())
        })
    }
}
