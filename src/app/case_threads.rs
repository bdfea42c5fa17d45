//! A case file per account, in a thread: delivers `case_event` outbox rows. The first event
//! for an account in a channel posts the account's card there; each event is posted in the
//! card's thread, and the card is edited to show the balance and stage as they are now.
//!
//! The card and thread ids are kept in Postgres (`store::case_threads`), and each delivery
//! locks the channel's row for the account, so restarts, replicas and two events delivered at
//! once still make one card. A card deleted in chat (or its thread) starts a new one. The
//! platforms only post and edit ([`ThreadChannel`]); what to post, and when, is decided here.
use super::views;
use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::case_thread::{NextSteps, next_steps};
use crate::message::{Block, Message, Visibility};
use crate::notify::worker::{Deliverer, DeliveryError};
use crate::store::{Store, case_threads, ledger, outbox::OutboxRow};
use futures_util::future::BoxFuture;
use std::sync::Arc;

/// Where a card now stands in a chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    /// The card message's id (Slack `ts`, Discord message id).
    pub card_id: String,
    /// The thread replies go to (Slack: the card's `ts`; Discord: the thread's channel id).
    pub thread_id: String,
}

/// Why a platform call did not land.
#[derive(Debug)]
pub enum PostError {
    /// The card or its thread was deleted: start a new card.
    Gone,
    /// Anything else, as the outbox should treat it.
    Failed(DeliveryError),
}

/// What a chat platform does for case threads.
pub trait ThreadChannel: Send + Sync {
    /// Whether this platform serves `channel` (`slack:C1`, `discord:42`…).
    fn serves(&self, channel: &str) -> bool;
    /// Posts the card in the channel and opens its thread.
    fn post_card<'a>(
        &'a self,
        channel: &'a str,
        card: &'a Message,
        nonce: &'a str,
    ) -> BoxFuture<'a, Result<Posted, PostError>>;
    /// Posts `msg` in the card's thread; returns the message's id.
    fn post_in_thread<'a>(
        &'a self,
        channel: &'a str,
        at: &'a Posted,
        msg: &'a Message,
        nonce: &'a str,
    ) -> BoxFuture<'a, Result<String, PostError>>;
    /// Replaces the card with `card`.
    fn edit_card<'a>(
        &'a self,
        channel: &'a str,
        at: &'a Posted,
        card: &'a Message,
    ) -> BoxFuture<'a, Result<(), PostError>>;
}

/// Delivers `case_event` rows through one platform.
pub struct CaseThreadDeliverer {
    pub store: Store,
    pub settings: Settings,
    /// Today is judged by this clock (tests fix it), as the app's commands are.
    pub clock: Clock,
    pub platform: Arc<dyn ThreadChannel>,
}

impl CaseThreadDeliverer {
    pub fn new(app: &super::App, platform: Arc<dyn ThreadChannel>) -> CaseThreadDeliverer {
        CaseThreadDeliverer {
            store: app.store.clone(),
            settings: app.settings.clone(),
            clock: app.clock,
            platform,
        }
    }
}

fn db(e: impl std::fmt::Display) -> DeliveryError {
    DeliveryError::Retry(format!("database: {e}"))
}

fn failed(e: PostError) -> DeliveryError {
    match e {
        PostError::Gone => DeliveryError::Retry("the case thread is gone".into()),
        PostError::Failed(e) => e,
    }
}

impl Deliverer for CaseThreadDeliverer {
    fn accepts(&self, row: &OutboxRow) -> bool {
        row.kind == case_threads::KIND
            && row.payload["channel"]
                .as_str()
                .is_some_and(|c| self.platform.serves(c))
    }

    fn deliver<'a>(&'a self, row: &'a OutboxRow) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            let channel = row.payload["channel"].as_str().unwrap_or_default();
            let account_id = row.payload["account_id"]
                .as_i64()
                .ok_or_else(|| DeliveryError::Permanent("case event without an account".into()))?;
            let mut tx = self.store.begin().await.map_err(db)?;
            let thread = case_threads::lock(&mut tx, channel, account_id)
                .await
                .map_err(db)?;
            if case_threads::posted(&mut tx, &row.dedupe_key)
                .await
                .map_err(db)?
            {
                // Posted before a crash kept the row from being marked sent.
                tx.commit().await.map_err(db)?;
                return Ok(());
            }
            let result = self.post(&mut tx, row, channel, account_id, thread).await;
            match result {
                // What was posted is recorded even when a later step failed, so a retry
                // finds the card instead of posting a second one.
                Ok(()) | Err(Step::Chat(_)) => tx.commit().await.map_err(db)?,
                Err(Step::Db(_)) => tx.rollback().await.map_err(db)?,
            }
            result.map_err(|e| match e {
                Step::Chat(e) => e,
                Step::Db(e) => db(e),
            })
        })
    }
}

enum Step {
    Chat(DeliveryError),
    Db(anyhow::Error),
}

impl From<sqlx::Error> for Step {
    fn from(e: sqlx::Error) -> Step {
        Step::Db(e.into())
    }
}

impl CaseThreadDeliverer {
    /// Under the row lock: the card (posted, or edited to now), then the event in its thread.
    async fn post(
        &self,
        tx: &mut sqlx::PgConnection,
        row: &OutboxRow,
        channel: &str,
        account_id: i64,
        thread: case_threads::Thread,
    ) -> Result<(), Step> {
        let today = self.settings.today(self.clock.now());
        let acc = ledger::account_by_id(tx, account_id).await?;
        let card = views::card(tx, &self.settings, today, acc)
            .await
            .map_err(|e| Step::Db(anyhow::anyhow!("the account card: {e:?}")))?;
        let card_msg = card.thread_card();
        let event = self.event_message(row, &card, today);
        let mut at = match (thread.card_id, thread.thread_id) {
            (Some(card_id), Some(thread_id)) => Some(Posted { card_id, thread_id }),
            _ => None,
        };
        // An older row never puts back an older card over a newer one.
        if let Some(p) = at.as_ref().filter(|_| row.id >= thread.shown_row) {
            match self.platform.edit_card(channel, p, &card_msg).await {
                Ok(()) => {
                    case_threads::set_card(
                        tx,
                        channel,
                        account_id,
                        Some(&p.card_id),
                        Some(&p.thread_id),
                        row.id,
                    )
                    .await?
                }
                Err(PostError::Gone) => at = None,
                Err(PostError::Failed(e)) => return Err(Step::Chat(e)),
            }
        }
        // Twice at most: a thread deleted under a live card starts a new card once.
        for _ in 0..2 {
            let p = match at.take() {
                Some(p) => p,
                None => {
                    let nonce = format!("c{}", row.id);
                    let p = self
                        .platform
                        .post_card(channel, &card_msg, &nonce)
                        .await
                        .map_err(|e| Step::Chat(failed(e)))?;
                    case_threads::set_card(
                        tx,
                        channel,
                        account_id,
                        Some(&p.card_id),
                        Some(&p.thread_id),
                        row.id,
                    )
                    .await?;
                    p
                }
            };
            let nonce = format!("e{}", row.id);
            match self
                .platform
                .post_in_thread(channel, &p, &event, &nonce)
                .await
            {
                Ok(id) => {
                    case_threads::record_post(tx, &row.dedupe_key, channel, &id).await?;
                    return Ok(());
                }
                Err(PostError::Gone) => {
                    case_threads::set_card(tx, channel, account_id, None, None, 0).await?;
                }
                Err(PostError::Failed(e)) => return Err(Step::Chat(e)),
            }
        }
        Err(Step::Chat(DeliveryError::Retry(
            "the new case thread vanished too".into(),
        )))
    }

    /// The event as a thread message: its line, and next steps where the digest offers them.
    fn event_message(
        &self,
        row: &OutboxRow,
        card: &views::AccountCard,
        today: chrono::NaiveDate,
    ) -> Message {
        let text = row.payload["text"].as_str().unwrap_or_default().to_string();
        let kind = row.payload["kind"].as_str().unwrap_or_default();
        let buttons = match next_steps(kind, &row.payload["facts"]) {
            NextSteps::None => vec![],
            NextSteps::BrokenPromise(id) => card.broken_steps(&self.settings, today, Some(id)),
            NextSteps::BrokenPlan => card.broken_steps(&self.settings, today, None),
        };
        let mut blocks = vec![Block::Text { text: text.clone() }];
        if !buttons.is_empty() {
            blocks.push(Block::Item {
                text: "Next step".into(),
                buttons,
            });
        }
        Message {
            text,
            blocks,
            visibility: Visibility::Channel,
            ..Default::default()
        }
    }
}
