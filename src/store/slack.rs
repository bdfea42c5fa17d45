//! The Slack edge's bookkeeping: parts of posts already delivered, and the messages whose
//! buttons opened a modal.
use sqlx::PgConnection;

/// `(part, ts)` of each part of `dedupe_key` already posted, in order.
pub async fn posted_parts(
    conn: &mut PgConnection,
    dedupe_key: &str,
) -> Result<Vec<(i32, String)>, sqlx::Error> {
    sqlx::query_as("SELECT part, ts FROM slack_posts WHERE dedupe_key = $1 ORDER BY part")
        .bind(dedupe_key)
        .fetch_all(conn)
        .await
}

pub async fn record_part(
    conn: &mut PgConnection,
    dedupe_key: &str,
    part: i32,
    channel: &str,
    ts: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO slack_posts (dedupe_key, part, channel, ts) VALUES ($1, $2, $3, $4)
         ON CONFLICT (dedupe_key, part) DO NOTHING",
    )
    .bind(dedupe_key)
    .bind(part)
    .bind(channel)
    .bind(ts)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FormOrigin {
    pub channel: String,
    pub ts: String,
    pub block_id: String,
    pub text: String,
    pub blocks: serde_json::Value,
}

pub async fn save_form(
    conn: &mut PgConnection,
    r: &str,
    f: &FormOrigin,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO slack_forms (ref, channel, ts, block_id, text, blocks) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (ref) DO NOTHING",
    )
    .bind(r)
    .bind(&f.channel)
    .bind(&f.ts)
    .bind(&f.block_id)
    .bind(&f.text)
    .bind(&f.blocks)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn form(conn: &mut PgConnection, r: &str) -> Result<Option<FormOrigin>, sqlx::Error> {
    sqlx::query_as("SELECT channel, ts, block_id, text, blocks FROM slack_forms WHERE ref = $1")
        .bind(r)
        .fetch_optional(conn)
        .await
}
