//! Where each copy of a message with a topic landed (`message_copies`), so that a later event
//! (an offer's decision) can edit every one of them through the outbox.
use sqlx::PgConnection;

/// Records that a message about `topic` sits at `message_id` in `channel` (`slack:C…`,
/// `discord:…`); recording the same copy again changes nothing.
pub async fn record(
    conn: &mut PgConnection,
    topic: &str,
    channel: &str,
    message_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO message_copies (topic, channel, message_id) VALUES ($1, $2, $3)
         ON CONFLICT (channel, message_id) DO NOTHING",
    )
    .bind(topic)
    .bind(channel)
    .bind(message_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// `(channel, message_id)` of every copy of `topic`, oldest first.
pub async fn of_topic(
    conn: &mut PgConnection,
    topic: &str,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT channel, message_id FROM message_copies WHERE topic = $1 ORDER BY posted_at, message_id",
    )
    .bind(topic)
    .fetch_all(conn)
    .await
}

/// Whether the message at `message_id` in `channel` is a recorded copy of `topic`.
pub async fn is_copy(
    conn: &mut PgConnection,
    topic: &str,
    channel: &str,
    message_id: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM message_copies WHERE topic = $1 AND channel = $2 AND message_id = $3)",
    )
    .bind(topic)
    .bind(channel)
    .bind(message_id)
    .fetch_one(conn)
    .await
}
