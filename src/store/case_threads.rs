//! Case-file threads in Postgres: which card and thread each channel holds for an account,
//! the events posted in them, and the `case_event` outbox rows that carry each event there.
//!
//! Every action row goes through `actions::insert`/`insert_if_new`, which call
//! [`after_action`] in the same transaction: the event's outbox row commits with the change
//! and its action row, keyed from the action's idempotency key, so a retried request or a
//! double click posts nothing twice. Steps that are not action rows (a reminder sent, a
//! payment received) call [`enqueue`] themselves, in their own transaction.
use super::actions::NewAction;
use super::{outbox, timeline};
use crate::domain::case_thread::{self, Audience, Source};
use serde_json::{Value, json};
use sqlx::{FromRow, PgConnection};

/// The outbox kind of a thread event.
pub const KIND: &str = "case_event";

/// Queues the thread event of an action just written (nothing for refusals, views, or
/// actions on no account).
pub async fn after_action(
    conn: &mut PgConnection,
    action_id: i64,
    a: &NewAction,
) -> Result<(), sqlx::Error> {
    if a.outcome != "ok" || a.details["viewed"] == Value::Bool(true) {
        return Ok(());
    }
    let Some(subject) = a.subject.as_deref() else {
        return Ok(());
    };
    let audience = case_thread::audience(&a.actor_platform, &a.channel);
    let Some((account_id, code)) = account_of(conn, subject).await? else {
        return Ok(());
    };
    if audience == Audience::EveryThread && !has_threads(conn, account_id).await? {
        return Ok(());
    }
    let found = match case_thread::source(&a.kind, &a.details) {
        Some(Source::Entry(kind, id)) => timeline::entry(conn, account_id, &code, kind, id).await?,
        Some(Source::ReminderOutbox(outbox_id)) => match reminder_of(conn, outbox_id).await? {
            Some(id) => timeline::entry(conn, account_id, &code, "reminder", id).await?,
            None => None,
        },
        None => None,
    };
    let entry = found.unwrap_or_else(|| {
        case_thread::generic_entry(
            a.at,
            &a.actor_name,
            &a.actor_platform,
            &a.kind,
            subject,
            &code,
            &a.details,
        )
    });
    let key = a
        .idempotency_key
        .clone()
        .unwrap_or_else(|| format!("action:{action_id}"));
    let event = Event {
        account_id,
        code: &code,
        key: &key,
        kind: &a.kind,
        text: case_thread::event_text(&a.kind, &entry),
        facts: case_thread::facts(&a.details).clone(),
    };
    enqueue(conn, &event, &audience).await?;
    Ok(())
}

/// One thing to post in an account's threads.
pub struct Event<'a> {
    pub account_id: i64,
    pub code: &'a str,
    /// Unique per event (an action's idempotency key, `payment:<id>`…): the outbox key.
    pub key: &'a str,
    pub kind: &'a str,
    pub text: String,
    pub facts: Value,
}

/// Queues `event` for each channel of `audience` that keeps case threads on; once per key and
/// channel.
pub async fn enqueue(
    conn: &mut PgConnection,
    event: &Event<'_>,
    audience: &Audience,
) -> Result<usize, sqlx::Error> {
    let channels: Vec<String> = match audience {
        Audience::Channel(c) => {
            if enabled(conn, c).await? {
                vec![c.clone()]
            } else {
                vec![]
            }
        }
        Audience::EveryThread => {
            sqlx::query_scalar(
                "SELECT t.channel FROM case_threads t
                  WHERE t.account_id = $1
                    AND NOT EXISTS (SELECT 1 FROM digest_subscriptions s
                                     WHERE s.channel = t.channel AND NOT s.case_threads)
                  ORDER BY t.channel",
            )
            .bind(event.account_id)
            .fetch_all(&mut *conn)
            .await?
        }
    };
    let mut queued = 0;
    for channel in channels {
        let payload = json!({
            "channel": channel, "account_id": event.account_id, "account": event.code,
            "kind": event.kind, "text": event.text, "facts": event.facts,
        });
        let key = format!("case:{}:{channel}", event.key);
        if outbox::enqueue(conn, KIND, &key, &payload).await?.is_some() {
            queued += 1;
        }
    }
    Ok(queued)
}

/// The event of a reminder the outbox just sent (`outbox_id`), for every thread of its account;
/// nothing when the row was not a reminder.
pub async fn reminder_sent(conn: &mut PgConnection, outbox_id: i64) -> Result<(), sqlx::Error> {
    let Some(id) = reminder_of(conn, outbox_id).await? else {
        return Ok(());
    };
    let (account_id, code): (i64, String) = sqlx::query_as(
        "SELECT a.id, a.code FROM reminders r JOIN accounts a ON a.id = r.account_id WHERE r.id = $1",
    )
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    if !has_threads(conn, account_id).await? {
        return Ok(());
    }
    let Some(entry) = timeline::entry(conn, account_id, &code, "reminder", id).await? else {
        return Ok(());
    };
    let key = format!("reminder-sent:{outbox_id}");
    let event = Event {
        account_id,
        code: &code,
        key: &key,
        kind: "reminder_sent",
        text: case_thread::event_text("reminder_sent", &entry),
        facts: json!({"reminder_id": id, "outbox_id": outbox_id}),
    };
    enqueue(conn, &event, &Audience::EveryThread).await?;
    Ok(())
}

/// The events of payments just recorded, for every thread of their accounts.
pub async fn payments_received(
    conn: &mut PgConnection,
    payment_ids: &[i64],
) -> Result<(), sqlx::Error> {
    let paid: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT p.id, a.id, a.code FROM payments p JOIN accounts a ON a.id = p.account_id
          WHERE p.id = ANY($1) AND EXISTS (SELECT 1 FROM case_threads t WHERE t.account_id = a.id)
          ORDER BY p.id",
    )
    .bind(payment_ids)
    .fetch_all(&mut *conn)
    .await?;
    for (payment_id, account_id, code) in paid {
        let Some(entry) = timeline::entry(conn, account_id, &code, "payment", payment_id).await?
        else {
            continue;
        };
        let key = format!("payment:{payment_id}");
        let event = Event {
            account_id,
            code: &code,
            key: &key,
            kind: "payment",
            text: case_thread::event_text("payment", &entry),
            facts: json!({"payment_id": payment_id}),
        };
        enqueue(conn, &event, &Audience::EveryThread).await?;
    }
    Ok(())
}

/// The account a subject names: its code, or one of its invoices.
async fn account_of(
    conn: &mut PgConnection,
    subject: &str,
) -> Result<Option<(i64, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, code FROM accounts WHERE code = $1
         UNION ALL
         SELECT a.id, a.code FROM invoices i JOIN accounts a ON a.id = i.account_id WHERE i.number = $1
         LIMIT 1",
    )
    .bind(subject)
    .fetch_optional(conn)
    .await
}

async fn reminder_of(conn: &mut PgConnection, outbox_id: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM reminders WHERE outbox_id = $1 ORDER BY id LIMIT 1")
        .bind(outbox_id)
        .fetch_optional(conn)
        .await
}

async fn has_threads(conn: &mut PgConnection, account_id: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM case_threads WHERE account_id = $1)")
        .bind(account_id)
        .fetch_one(conn)
        .await
}

/// Whether `channel` keeps case threads: on unless its subscription switched them off.
async fn enabled(conn: &mut PgConnection, channel: &str) -> Result<bool, sqlx::Error> {
    let off: Option<bool> =
        sqlx::query_scalar("SELECT NOT case_threads FROM digest_subscriptions WHERE channel = $1")
            .bind(channel)
            .fetch_optional(conn)
            .await?;
    Ok(off != Some(true))
}

/// Switches case threads on or off for a subscribed channel; `false` when it is not subscribed.
pub async fn set_enabled(
    conn: &mut PgConnection,
    channel: &str,
    on: bool,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query("UPDATE digest_subscriptions SET case_threads = $2 WHERE channel = $1")
        .bind(channel)
        .bind(on)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(n > 0)
}

/// A channel's card for an account, as delivery finds it (locked).
#[derive(Debug, Clone, FromRow)]
pub struct Thread {
    pub card_id: Option<String>,
    pub thread_id: Option<String>,
    pub shown_row: i64,
}

/// The channel's thread row for the account, created if missing and locked until the caller's
/// transaction ends: two workers delivering events for one account in one channel take turns,
/// and the second finds the card the first posted.
pub async fn lock(
    conn: &mut PgConnection,
    channel: &str,
    account_id: i64,
) -> Result<Thread, sqlx::Error> {
    sqlx::query(
        "INSERT INTO case_threads (channel, account_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(channel)
    .bind(account_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query_as(
        "SELECT card_id, thread_id, shown_row FROM case_threads
          WHERE channel = $1 AND account_id = $2 FOR UPDATE",
    )
    .bind(channel)
    .bind(account_id)
    .fetch_one(conn)
    .await
}

/// Records the card (and thread) now standing for the account in the channel.
pub async fn set_card(
    conn: &mut PgConnection,
    channel: &str,
    account_id: i64,
    card_id: Option<&str>,
    thread_id: Option<&str>,
    shown_row: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE case_threads SET card_id = $3, thread_id = $4, shown_row = $5, updated_at = now()
          WHERE channel = $1 AND account_id = $2",
    )
    .bind(channel)
    .bind(account_id)
    .bind(card_id)
    .bind(thread_id)
    .bind(shown_row)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether the event of outbox key `key` was already posted.
pub async fn posted(conn: &mut PgConnection, key: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM case_thread_posts WHERE dedupe_key = $1)")
        .bind(key)
        .fetch_one(conn)
        .await
}

pub async fn record_post(
    conn: &mut PgConnection,
    key: &str,
    channel: &str,
    message_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO case_thread_posts (dedupe_key, channel, message_id) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
    )
    .bind(key)
    .bind(channel)
    .bind(message_id)
    .execute(conn)
    .await?;
    Ok(())
}
