//! Case-file threads on Discord: the card posted in the channel, a thread started from it
//! (the thread's id is the card's), events posted in the thread, the card edited in place.
//! A 404 (Unknown Message, Unknown Channel) means the card or its thread was deleted: a new
//! card is started then. Each post carries a nonce from its outbox row with `enforce_nonce`,
//! so a retry after a lost answer gets the message Discord already has.
use super::interactions::status;
use super::render::{render, truncate};
use crate::app::case_threads::{PostError, Posted, ThreadChannel};
use crate::message::Message;
use crate::notify::worker::DeliveryError;
use futures_util::future::BoxFuture;
use serenity::all::{ChannelId, MessageId};
use serenity::http::Http;
use std::sync::Arc;

pub struct DiscordThreads {
    pub http: Arc<Http>,
}

/// Discord's code for "a thread has already been created for this message".
const THREAD_EXISTS: isize = 160004;

fn error(e: serenity::Error) -> PostError {
    match status(&e) {
        Some(404) => PostError::Gone,
        Some(s) if (400..500).contains(&s) && s != 429 => {
            PostError::Failed(DeliveryError::Permanent(format!("Discord refused: {e}")))
        }
        _ => PostError::Failed(DeliveryError::Retry(e.to_string())),
    }
}

fn id(c: &str) -> Result<u64, PostError> {
    c.strip_prefix("discord:")
        .and_then(|i| i.parse().ok())
        .filter(|i| *i != 0)
        .ok_or_else(|| {
            PostError::Failed(DeliveryError::Permanent(format!(
                "{c} is not a Discord channel (discord:<channel id>)"
            )))
        })
}

fn snowflake(s: &str) -> Result<u64, PostError> {
    s.parse().ok().filter(|i| *i != 0).ok_or_else(|| {
        PostError::Failed(DeliveryError::Permanent(format!(
            "{s:?} is not a Discord id"
        )))
    })
}

fn body(msg: &Message, nonce: Option<&str>) -> Result<serde_json::Value, PostError> {
    let mut body = serde_json::to_value(&render(msg)[0])
        .map_err(|e| PostError::Failed(DeliveryError::Permanent(e.to_string())))?;
    if let Some(n) = nonce {
        body["nonce"] = serde_json::json!(n);
        body["enforce_nonce"] = serde_json::json!(true);
    }
    Ok(body)
}

impl ThreadChannel for DiscordThreads {
    fn serves(&self, c: &str) -> bool {
        id(c).is_ok()
    }

    fn post_card<'a>(
        &'a self,
        c: &'a str,
        card: &'a Message,
        nonce: &'a str,
    ) -> BoxFuture<'a, Result<Posted, PostError>> {
        Box::pin(async move {
            let channel = ChannelId::new(id(c)?);
            let sent = self
                .http
                .send_message(channel, vec![], &body(card, Some(nonce))?)
                .await
                .map_err(error)?;
            let first = card.text.lines().next().unwrap_or("case file").trim();
            let thread = serde_json::json!({
                "name": truncate(first.split(':').next().unwrap_or(first), 100),
                "auto_archive_duration": 10080,
            });
            match self
                .http
                .create_thread_from_message(channel, sent.id, &thread, None)
                .await
            {
                Ok(_) => {}
                Err(serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(r)))
                    if r.error.code == THREAD_EXISTS => {}
                Err(e) => return Err(error(e)),
            }
            Ok(Posted {
                card_id: sent.id.to_string(),
                thread_id: sent.id.to_string(),
            })
        })
    }

    fn post_in_thread<'a>(
        &'a self,
        _c: &'a str,
        at: &'a Posted,
        msg: &'a Message,
        nonce: &'a str,
    ) -> BoxFuture<'a, Result<String, PostError>> {
        Box::pin(async move {
            let thread = ChannelId::new(snowflake(&at.thread_id)?);
            let sent = self
                .http
                .send_message(thread, vec![], &body(msg, Some(nonce))?)
                .await
                .map_err(error)?;
            Ok(sent.id.to_string())
        })
    }

    fn edit_card<'a>(
        &'a self,
        c: &'a str,
        at: &'a Posted,
        card: &'a Message,
    ) -> BoxFuture<'a, Result<(), PostError>> {
        Box::pin(async move {
            let channel = ChannelId::new(id(c)?);
            let message = MessageId::new(snowflake(&at.card_id)?);
            self.http
                .edit_message(channel, message, &body(card, None)?, vec![])
                .await
                .map(|_| ())
                .map_err(error)
        })
    }
}
