//! The append-only action log. Postgres refuses UPDATE, DELETE and TRUNCATE on it.
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection};

#[derive(Debug, Clone)]
pub struct NewAction {
    pub at: DateTime<Utc>,
    pub actor_platform: String,
    pub actor_id: String,
    pub actor_name: String,
    pub channel: String,
    pub kind: String,
    pub subject: Option<String>,
    /// `ok` or `refused`.
    pub outcome: &'static str,
    pub details: serde_json::Value,
    pub idempotency_key: Option<String>,
}

impl NewAction {
    /// A step dunbot took by itself (promise resolved, reminder dropped, digest posted): in the
    /// system channel, done once per `key`.
    pub fn by_dunbot(
        at: DateTime<Utc>,
        kind: impl Into<String>,
        subject: Option<String>,
        details: serde_json::Value,
        key: String,
    ) -> NewAction {
        NewAction {
            at,
            actor_platform: "system".into(),
            actor_id: "dunbot".into(),
            actor_name: "dunbot".into(),
            channel: "system".into(),
            kind: kind.into(),
            subject,
            outcome: "ok",
            details,
            idempotency_key: Some(key),
        }
    }
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct ActionRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_platform: String,
    pub actor_id: String,
    pub actor_name: String,
    pub channel: String,
    pub kind: String,
    pub subject: Option<String>,
    pub outcome: String,
    pub details: serde_json::Value,
    pub idempotency_key: Option<String>,
}

/// Inserts; a duplicate idempotency key is an error (unique violation) so the caller's
/// transaction, and the change it carries, rolls back. The account's case-thread event is
/// queued with it (`case_threads::after_action`).
pub async fn insert(conn: &mut PgConnection, a: &NewAction) -> Result<i64, sqlx::Error> {
    let sql = "INSERT INTO actions (at, actor_platform, actor_id, actor_name, channel, kind, subject, outcome, details, idempotency_key)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id";
    let id = bind(sqlx::query_scalar(sql), a)
        .fetch_one(&mut *conn)
        .await?;
    super::case_threads::after_action(conn, id, a).await?;
    Ok(id)
}

/// Inserts unless the idempotency key was seen; returns the new id, if any (and then queues
/// its case-thread event, as `insert` does).
pub async fn insert_if_new(
    conn: &mut PgConnection,
    a: &NewAction,
) -> Result<Option<i64>, sqlx::Error> {
    let sql = "INSERT INTO actions (at, actor_platform, actor_id, actor_name, channel, kind, subject, outcome, details, idempotency_key)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id";
    let id = bind(sqlx::query_scalar(sql), a)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(id) = id {
        super::case_threads::after_action(conn, id, a).await?;
    }
    Ok(id)
}

fn bind<'q, O>(
    q: sqlx::query::QueryScalar<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    a: &'q NewAction,
) -> sqlx::query::QueryScalar<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
    q.bind(a.at)
        .bind(&a.actor_platform)
        .bind(&a.actor_id)
        .bind(&a.actor_name)
        .bind(&a.channel)
        .bind(&a.kind)
        .bind(&a.subject)
        .bind(a.outcome)
        .bind(&a.details)
        .bind(&a.idempotency_key)
}

pub async fn find_by_key(
    conn: &mut PgConnection,
    key: &str,
) -> Result<Option<ActionRow>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM actions WHERE idempotency_key = $1")
        .bind(key)
        .fetch_optional(conn)
        .await
}

/// Whether any action's key is one of `keys` (a batch sent before: each of its rows has one).
pub async fn any_key(conn: &mut PgConnection, keys: &[String]) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM actions WHERE idempotency_key = ANY($1))")
        .bind(keys)
        .fetch_one(conn)
        .await
}

/// Oldest first, from `since`.
pub async fn list(
    conn: &mut PgConnection,
    since: Option<DateTime<Utc>>,
    limit: i64,
) -> Result<Vec<ActionRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT * FROM (SELECT * FROM actions WHERE at >= coalesce($1, '-infinity'::timestamptz)
           ORDER BY id DESC LIMIT $2) t ORDER BY id",
    )
    .bind(since)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Newest first.
pub async fn recent_for_subject(
    conn: &mut PgConnection,
    subject: &str,
    limit: i64,
) -> Result<Vec<ActionRow>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM actions WHERE subject = $1 ORDER BY id DESC LIMIT $2")
        .bind(subject)
        .bind(limit)
        .fetch_all(conn)
        .await
}

pub async fn count(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM actions")
        .fetch_one(conn)
        .await
}

/// One page of the log, oldest first: rows after `after_id` (a cursor) and from `since`.
pub async fn page(
    conn: &mut PgConnection,
    since: Option<DateTime<Utc>>,
    after_id: i64,
    limit: i64,
) -> Result<Vec<ActionRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT * FROM actions WHERE id > $1 AND at >= coalesce($2, '-infinity'::timestamptz)
          ORDER BY id LIMIT $3",
    )
    .bind(after_id)
    .bind(since)
    .bind(limit)
    .fetch_all(conn)
    .await
}
