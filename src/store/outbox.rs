//! The outbox: everything that leaves dunbot is a row first, written in the transaction of the
//! action that caused it. Workers claim rows with `FOR UPDATE SKIP LOCKED` and a lease, so
//! several replicas never hold the same row at once; a crash mid-send re-offers the row after
//! the lease, and the `dedupe_key` (sent as Message-ID or delivery id) lets the receiver drop
//! the repeat.
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection};

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct OutboxRow {
    pub id: i64,
    pub kind: String,
    pub dedupe_key: String,
    pub payload: serde_json::Value,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Queues a message; `None` when the same `dedupe_key` is already queued (or sent).
pub async fn enqueue(
    conn: &mut PgConnection,
    kind: &str,
    dedupe_key: &str,
    payload: &serde_json::Value,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("INSERT INTO outbox (kind, dedupe_key, payload) VALUES ($1, $2, $3) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id")
        .bind(kind)
        .bind(dedupe_key)
        .bind(payload)
        .fetch_optional(conn)
        .await
}

/// Claims up to `limit` due rows of the given kinds for `lease_secs`: they become invisible to
/// other workers until then, and count one more attempt. Returned in the order they were due
/// (an UPDATE's RETURNING has no order of its own), so chat posts go out as they were queued.
pub async fn claim(
    conn: &mut PgConnection,
    kinds: &[String],
    limit: i64,
    lease_secs: f64,
) -> Result<Vec<OutboxRow>, sqlx::Error> {
    sqlx::query_as(
        "WITH due AS (SELECT id, next_attempt_at AS was FROM outbox
                       WHERE status = 'pending' AND next_attempt_at <= now() AND kind = ANY($1)
                       ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED),
              claimed AS (UPDATE outbox o SET next_attempt_at = now() + make_interval(secs => $3),
                                 attempts = o.attempts + 1
                            FROM due WHERE o.id = due.id RETURNING o.*, due.was)
         SELECT * FROM claimed ORDER BY was, id",
    )
    .bind(kinds)
    .bind(limit)
    .bind(lease_secs)
    .fetch_all(conn)
    .await
}

pub async fn mark_sent(conn: &mut PgConnection, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox SET status = 'sent', sent_at = now(), last_error = NULL WHERE id = $1",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// A failed try: retried at `next_attempt_at`, or given up (`dead`) when that is `None`.
pub async fn mark_failed(
    conn: &mut PgConnection,
    id: i64,
    error: &str,
    next_attempt_at: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox SET last_error = $2, status = CASE WHEN $3::timestamptz IS NULL THEN 'dead' ELSE 'pending' END,
                next_attempt_at = coalesce($3, next_attempt_at) WHERE id = $1",
    )
    .bind(id)
    .bind(error)
    .bind(next_attempt_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Newest first, optionally only one status.
pub async fn list(
    conn: &mut PgConnection,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<OutboxRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT * FROM outbox WHERE $1::text IS NULL OR status = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(status)
    .bind(limit)
    .fetch_all(conn)
    .await
}

pub async fn by_id(conn: &mut PgConnection, id: i64) -> Result<Option<OutboxRow>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM outbox WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// `(status, count)` pairs.
pub async fn counts(conn: &mut PgConnection) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT status, count(*) FROM outbox GROUP BY status ORDER BY status")
        .fetch_all(conn)
        .await
}

/// Like `enqueue`, but not to be sent before `not_before` (a reminder outside the send window).
pub async fn enqueue_at(
    conn: &mut PgConnection,
    kind: &str,
    dedupe_key: &str,
    payload: &serde_json::Value,
    not_before: DateTime<Utc>,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("INSERT INTO outbox (kind, dedupe_key, payload, next_attempt_at) VALUES ($1, $2, $3, $4) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id")
        .bind(kind)
        .bind(dedupe_key)
        .bind(payload)
        .bind(not_before)
        .fetch_optional(conn)
        .await
}

/// Extends the lease on rows a live worker is still delivering, so a lease can be short: a
/// worker that died lets its rows go within one lease, a slow send keeps its own.
pub async fn extend_lease(
    conn: &mut PgConnection,
    ids: &[i64],
    lease_secs: f64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox SET next_attempt_at = greatest(next_attempt_at, now() + make_interval(secs => $2))
          WHERE id = ANY($1) AND status = 'pending'",
    )
    .bind(ids)
    .bind(lease_secs)
    .execute(conn)
    .await?;
    Ok(())
}

/// Puts a claimed row back until `at` without counting the claim as an attempt (the message
/// was not tried: e.g. its send window is closed).
pub async fn defer(conn: &mut PgConnection, id: i64, at: DateTime<Utc>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox SET next_attempt_at = $2, attempts = greatest(attempts - 1, 0) WHERE id = $1 AND status = 'pending'",
    )
    .bind(id)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Messages given up on (dead), for the digest.
pub async fn dead_count(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM outbox WHERE status = 'dead'")
        .fetch_one(conn)
        .await
}

/// A reminder the send-time check stopped: not sent, not failed. `reason` reads like
/// "not sent: paid since queued" and is kept in `last_error`, where `dunbot outbox` shows it.
pub async fn mark_dropped(
    conn: &mut PgConnection,
    id: i64,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox SET status = 'dropped', last_error = $2, attempts = greatest(attempts - 1, 0)
          WHERE id = $1 AND status = 'pending'",
    )
    .bind(id)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(())
}

/// Replaces a row's payload with what is actually sent (a reminder re-rendered with today's
/// figures), so the row records what the customer got.
pub async fn set_payload(
    conn: &mut PgConnection,
    id: i64,
    payload: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE outbox SET payload = $2 WHERE id = $1")
        .bind(id)
        .bind(payload)
        .execute(conn)
        .await?;
    Ok(())
}
