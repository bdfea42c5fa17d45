//! Digest subscriptions and runs. A run is keyed by (subscription, local date): inserting it
//! is the claim, so only one replica ever posts a channel's digest for a day.
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{FromRow, PgConnection};

#[derive(Debug, Clone, FromRow)]
pub struct Subscription {
    pub id: i64,
    pub channel: String,
    pub cron: String,
    pub time_zone: String,
    pub created_at: DateTime<Utc>,
}

pub async fn upsert_subscription(
    conn: &mut PgConnection,
    channel: &str,
    cron: &str,
    time_zone: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO digest_subscriptions (channel, cron, time_zone) VALUES ($1, $2, $3)
         ON CONFLICT (channel) DO UPDATE SET cron = EXCLUDED.cron, time_zone = EXCLUDED.time_zone RETURNING id",
    )
    .bind(channel)
    .bind(cron)
    .bind(time_zone)
    .fetch_one(conn)
    .await
}

/// Subscribes `channel` only when no channel is subscribed yet: the default for a fresh
/// install, never added beside the channels an admin chose. `None` when some exist.
pub async fn subscribe_if_none(
    conn: &mut PgConnection,
    channel: &str,
    cron: &str,
    time_zone: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO digest_subscriptions (channel, cron, time_zone)
         SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM digest_subscriptions)
         ON CONFLICT (channel) DO NOTHING RETURNING id",
    )
    .bind(channel)
    .bind(cron)
    .bind(time_zone)
    .fetch_optional(conn)
    .await
}

/// Backdates a subscription (tests and imports of an existing schedule).
pub async fn set_subscription_created(
    conn: &mut PgConnection,
    id: i64,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE digest_subscriptions SET created_at = $2 WHERE id = $1")
        .bind(id)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn subscriptions(conn: &mut PgConnection) -> Result<Vec<Subscription>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, channel, cron, time_zone, created_at FROM digest_subscriptions ORDER BY id",
    )
    .fetch_all(conn)
    .await
}

/// Claims the run; `false` when another process already has it.
pub async fn claim_run(
    conn: &mut PgConnection,
    subscription_id: i64,
    run_date: NaiveDate,
    scheduled_at: DateTime<Utc>,
    claimed_by: &str,
    late: bool,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO digest_runs (subscription_id, run_date, scheduled_at, claimed_by, late) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT DO NOTHING",
    )
    .bind(subscription_id)
    .bind(run_date)
    .bind(scheduled_at)
    .bind(claimed_by)
    .bind(late)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn set_run_outbox(
    conn: &mut PgConnection,
    subscription_id: i64,
    run_date: NaiveDate,
    outbox_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE digest_runs SET outbox_id = $3 WHERE subscription_id = $1 AND run_date = $2",
    )
    .bind(subscription_id)
    .bind(run_date)
    .bind(outbox_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The latest run date for the subscription.
pub async fn last_run_date(
    conn: &mut PgConnection,
    subscription_id: i64,
) -> Result<Option<NaiveDate>, sqlx::Error> {
    sqlx::query_scalar("SELECT max(run_date) FROM digest_runs WHERE subscription_id = $1")
        .bind(subscription_id)
        .fetch_one(conn)
        .await
}

/// `(run_date, late, claimed_by)` for a subscription, oldest first.
pub async fn runs(
    conn: &mut PgConnection,
    subscription_id: i64,
) -> Result<Vec<(NaiveDate, bool, String)>, sqlx::Error> {
    sqlx::query_as("SELECT run_date, late, claimed_by FROM digest_runs WHERE subscription_id = $1 ORDER BY run_date")
        .bind(subscription_id)
        .fetch_all(conn)
        .await
}
