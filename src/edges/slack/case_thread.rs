//! Case-file threads on Slack: the card with `chat.postMessage`, events as replies with its
//! `thread_ts`, the card kept current with `chat.update`. Slack answers `message_not_found` or
//! `thread_not_found` once the card is deleted: a new card is started then.
use super::api::{CallError, SlackApi};
use super::blocks;
use super::deliver::channel_id;
use crate::app::case_threads::{PostError, Posted, ThreadChannel};
use crate::message::Message;
use crate::notify::worker::DeliveryError;
use futures_util::future::BoxFuture;

pub struct SlackThreads {
    pub api: SlackApi,
}

fn error(e: CallError) -> PostError {
    match e {
        CallError::Refused(e)
            if [
                "message_not_found",
                "thread_not_found",
                "cant_update_message",
            ]
            .iter()
            .any(|code| e.ends_with(code)) =>
        {
            PostError::Gone
        }
        CallError::Refused(e) => PostError::Failed(DeliveryError::Permanent(e)),
        CallError::Transient(e) => PostError::Failed(DeliveryError::Retry(e)),
    }
}

fn channel(c: &str) -> Result<&str, PostError> {
    channel_id(c).ok_or_else(|| {
        PostError::Failed(DeliveryError::Permanent(format!(
            "{c} is not a slack: channel"
        )))
    })
}

impl ThreadChannel for SlackThreads {
    fn serves(&self, c: &str) -> bool {
        channel_id(c).is_some()
    }

    fn post_card<'a>(
        &'a self,
        c: &'a str,
        card: &'a Message,
        _nonce: &'a str,
    ) -> BoxFuture<'a, Result<Posted, PostError>> {
        Box::pin(async move {
            let post = &blocks::render(card)[0];
            let ts = self
                .api
                .post_message(channel(c)?, post, None)
                .await
                .map_err(error)?;
            Ok(Posted {
                card_id: ts.clone(),
                thread_id: ts,
            })
        })
    }

    fn post_in_thread<'a>(
        &'a self,
        c: &'a str,
        at: &'a Posted,
        msg: &'a Message,
        _nonce: &'a str,
    ) -> BoxFuture<'a, Result<String, PostError>> {
        Box::pin(async move {
            let post = &blocks::render(msg)[0];
            self.api
                .post_message(channel(c)?, post, Some(&at.thread_id))
                .await
                .map_err(error)
        })
    }

    fn edit_card<'a>(
        &'a self,
        c: &'a str,
        at: &'a Posted,
        card: &'a Message,
    ) -> BoxFuture<'a, Result<(), PostError>> {
        Box::pin(async move {
            let post = &blocks::render(card)[0];
            self.api
                .update(channel(c)?, &at.card_id, &post.text, &post.blocks)
                .await
                .map_err(error)
        })
    }
}
