//! Where each copy of a message with a topic landed (`message_copies`), and what the copies
//! say once the topic is settled (`topic_outcomes`), so that a decision edits every copy,
//! including one posted after it, through `chat_edit` outbox rows.
//!
//! Recording a copy and settling its topic take the same transaction-scoped advisory lock on
//! the topic, so one of them always sees the other: no copy keeps buttons that no longer apply.
use super::outbox;
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};

/// What a settled topic's copies become: a whole copy is replaced by `message`; a line copy
/// (a digest listing the topic) loses the buttons of `spent` and gains `resolved`.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub message: Value,
    pub resolved: String,
    pub spent: Vec<String>,
}

async fn lock(conn: &mut PgConnection, topic: &str) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('message_copies'), hashtext($1))")
        .bind(topic)
        .execute(conn)
        .await?;
    Ok(())
}

/// The outbox row that corrects one copy; its key makes a second one for the same copy and
/// topic a no-op.
async fn enqueue_edit(
    conn: &mut PgConnection,
    topic: &str,
    (channel, message_id, line): (&str, &str, bool),
    o: &Outcome,
) -> Result<(), sqlx::Error> {
    let payload = if line {
        json!({"channel": channel, "message_id": message_id,
               "line": {"resolved": o.resolved, "spent": o.spent}})
    } else {
        json!({"channel": channel, "message_id": message_id, "message": o.message})
    };
    outbox::enqueue(
        conn,
        "chat_edit",
        &format!("{topic}:edit:{channel}:{message_id}"),
        &payload,
    )
    .await?;
    Ok(())
}

/// Records that a message about `topic` (or, with `line`, holding a line about it) sits at
/// `message_id` in `channel` (`slack:C…`, `discord:…`); recording the same copy again changes
/// nothing. When the topic is already settled, the copy's edit is queued at once.
pub async fn record(
    conn: &mut PgConnection,
    topic: &str,
    channel: &str,
    message_id: &str,
    line: bool,
) -> Result<(), sqlx::Error> {
    let mut tx = conn.begin().await?;
    lock(&mut tx, topic).await?;
    sqlx::query(
        "INSERT INTO message_copies (topic, channel, message_id, line) VALUES ($1, $2, $3, $4)
         ON CONFLICT (topic, channel, message_id) DO NOTHING",
    )
    .bind(topic)
    .bind(channel)
    .bind(message_id)
    .bind(line)
    .execute(&mut *tx)
    .await?;
    let settled: Option<(Value, String, Vec<String>)> =
        sqlx::query_as("SELECT message, resolved, spent FROM topic_outcomes WHERE topic = $1")
            .bind(topic)
            .fetch_optional(&mut *tx)
            .await?;
    if let Some((message, resolved, spent)) = settled {
        let o = Outcome {
            message,
            resolved,
            spent,
        };
        enqueue_edit(&mut tx, topic, (channel, message_id, line), &o).await?;
    }
    tx.commit().await
}

/// Settles `topic`, in the caller's transaction: every copy recorded so far, and every one
/// recorded later, is edited to say so. Returns how many edits were queued now.
pub async fn settle(
    conn: &mut PgConnection,
    topic: &str,
    outcome: &Outcome,
) -> Result<usize, sqlx::Error> {
    lock(conn, topic).await?;
    sqlx::query(
        "INSERT INTO topic_outcomes (topic, message, resolved, spent) VALUES ($1, $2, $3, $4)
         ON CONFLICT (topic) DO NOTHING",
    )
    .bind(topic)
    .bind(&outcome.message)
    .bind(&outcome.resolved)
    .bind(&outcome.spent)
    .execute(&mut *conn)
    .await?;
    let copies: Vec<(String, String, bool)> = sqlx::query_as(
        "SELECT channel, message_id, line FROM message_copies WHERE topic = $1
          ORDER BY posted_at, message_id",
    )
    .bind(topic)
    .fetch_all(&mut *conn)
    .await?;
    for (channel, message_id, line) in &copies {
        enqueue_edit(conn, topic, (channel, message_id, *line), outcome).await?;
    }
    Ok(copies.len())
}

/// Whether the message at `message_id` in `channel` is a recorded whole copy of `topic`.
pub async fn is_copy(
    conn: &mut PgConnection,
    topic: &str,
    channel: &str,
    message_id: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM message_copies
                         WHERE topic = $1 AND channel = $2 AND message_id = $3 AND NOT line)",
    )
    .bind(topic)
    .bind(channel)
    .bind(message_id)
    .fetch_one(conn)
    .await
}

/// Replaces every whole copy of `topic` recorded so far with `message` while the topic is still
/// open (an offer with some of its approvals): `step` names this state so each edit is queued
/// once. Digest lines are left as they are; the decision edits them.
pub async fn refresh(
    conn: &mut PgConnection,
    topic: &str,
    step: &str,
    message: &Value,
) -> Result<usize, sqlx::Error> {
    lock(conn, topic).await?;
    let copies: Vec<(String, String)> = sqlx::query_as(
        "SELECT channel, message_id FROM message_copies WHERE topic = $1 AND NOT line
          ORDER BY posted_at, message_id",
    )
    .bind(topic)
    .fetch_all(&mut *conn)
    .await?;
    for (channel, message_id) in &copies {
        outbox::enqueue(
            conn,
            "chat_edit",
            &format!("{topic}:{step}:edit:{channel}:{message_id}"),
            &json!({"channel": channel, "message_id": message_id, "message": message}),
        )
        .await?;
    }
    Ok(copies.len())
}

/// Drops the interim edits of `topic` (queued by `refresh`) still waiting to go out: once the
/// topic is settled they would only put back buttons the decision took away.
pub async fn drop_interim_edits(conn: &mut PgConnection, topic: &str) -> Result<u64, sqlx::Error> {
    let pattern = format!("{}:%:edit:%", topic.replace('%', "\\%").replace('_', "\\_"));
    let done = sqlx::query(
        "UPDATE outbox SET status = 'dropped', last_error = 'not sent: superseded by the decision'
          WHERE kind = 'chat_edit' AND status = 'pending' AND dedupe_key LIKE $1
            AND dedupe_key NOT LIKE $2",
    )
    .bind(&pattern)
    .bind(format!(
        "{}:edit:%",
        topic.replace('%', "\\%").replace('_', "\\_")
    ))
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
