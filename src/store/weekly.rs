//! The weekly summary's SQL: which channels get it (their own cron), the run per channel and
//! ISO week (inserting it is the claim, so only one replica posts a channel's week), AR by
//! aging bucket as of each week's end, and the Slack file of a post once uploaded.
use crate::domain::weekly::WeekAging;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{FromRow, PgConnection};

/// A subscribed channel whose weekly post is on.
#[derive(Debug, Clone, FromRow)]
pub struct WeeklySubscription {
    pub id: i64,
    pub channel: String,
    pub weekly_cron: String,
    pub time_zone: String,
    pub created_at: DateTime<Utc>,
}

pub async fn subscriptions(
    conn: &mut PgConnection,
) -> Result<Vec<WeeklySubscription>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, channel, weekly_cron, time_zone, created_at FROM digest_subscriptions
          WHERE weekly_cron IS NOT NULL ORDER BY id",
    )
    .fetch_all(conn)
    .await
}

/// Sets a subscribed channel's weekly cron (`None`: the weekly post is off); `false` when the
/// channel is not subscribed.
pub async fn set_cron(
    conn: &mut PgConnection,
    channel: &str,
    cron: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE digest_subscriptions SET weekly_cron = $2 WHERE channel = $1")
        .bind(channel)
        .bind(cron)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// The latest week posted (its Monday) for the subscription.
pub async fn last_week(
    conn: &mut PgConnection,
    subscription_id: i64,
) -> Result<Option<NaiveDate>, sqlx::Error> {
    sqlx::query_scalar("SELECT max(week_start) FROM weekly_runs WHERE subscription_id = $1")
        .bind(subscription_id)
        .fetch_one(conn)
        .await
}

/// Claims the week's post; `false` when another process already has it.
pub async fn claim_run(
    conn: &mut PgConnection,
    subscription_id: i64,
    week_start: NaiveDate,
    scheduled_at: DateTime<Utc>,
    claimed_by: &str,
    late: bool,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO weekly_runs (subscription_id, week_start, scheduled_at, claimed_by, late)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(subscription_id)
    .bind(week_start)
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
    week_start: NaiveDate,
    outbox_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE weekly_runs SET outbox_id = $3 WHERE subscription_id = $1 AND week_start = $2",
    )
    .bind(subscription_id)
    .bind(week_start)
    .bind(outbox_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// `(week_start, late, claimed_by)` for a subscription, oldest first.
pub async fn runs(
    conn: &mut PgConnection,
    subscription_id: i64,
) -> Result<Vec<(NaiveDate, bool, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT week_start, late, claimed_by FROM weekly_runs WHERE subscription_id = $1
          ORDER BY week_start",
    )
    .bind(subscription_id)
    .fetch_all(conn)
    .await
}

/// AR as of each date in `ends`, rebuilt from the ledger as `store::metrics` does (issued on
/// or before the date, less payments on or before it, not void, not yet written off), summed
/// per currency and aging bucket by days past due at that date, with the sales of the `days`
/// days to that date (for DSO).
const AGING_AT: &str = "
WITH ends AS (
    SELECT DISTINCT unnest($1::date[]) AS d
), pay AS (
    SELECT p.invoice_id, e.d, sum(p.amount_minor) AS paid
      FROM payments p JOIN ends e ON p.paid_on <= e.d
     WHERE p.invoice_id IS NOT NULL
     GROUP BY 1, 2
), wo AS (
    SELECT invoice_id, min((at AT TIME ZONE $2)::date) AS day
      FROM invoice_changes
     WHERE kind = 'write_off' AND invoice_id IS NOT NULL
     GROUP BY invoice_id
), bal AS (
    SELECT e.d, i.currency, i.issued, e.d - i.due AS late, i.amount_minor,
           CASE WHEN w.day IS NULL OR w.day > e.d
                THEN greatest(i.amount_minor - coalesce(p.paid, 0), 0) ELSE 0 END AS open
      FROM ends e
      JOIN invoices i ON i.issued <= e.d AND i.status <> 'void'
      LEFT JOIN pay p ON p.invoice_id = i.id AND p.d = e.d
      LEFT JOIN wo w ON w.invoice_id = i.id
)
SELECT d, currency::text,
       coalesce(sum(open) FILTER (WHERE late <= 0), 0)::int8,
       coalesce(sum(open) FILTER (WHERE late BETWEEN 1 AND 30), 0)::int8,
       coalesce(sum(open) FILTER (WHERE late BETWEEN 31 AND 60), 0)::int8,
       coalesce(sum(open) FILTER (WHERE late BETWEEN 61 AND 90), 0)::int8,
       coalesce(sum(open) FILTER (WHERE late > 90), 0)::int8,
       coalesce(sum(amount_minor) FILTER (WHERE issued > d - $3::int), 0)::int8
  FROM bal
 GROUP BY 1, 2
 ORDER BY 1, 2";

pub async fn aging_at(
    conn: &mut PgConnection,
    ends: &[NaiveDate],
    tz: &str,
    days: i32,
) -> Result<Vec<WeekAging>, sqlx::Error> {
    type Row = (NaiveDate, String, i64, i64, i64, i64, i64, i64);
    let rows: Vec<Row> = sqlx::query_as(AGING_AT)
        .bind(ends)
        .bind(tz)
        .bind(days)
        .fetch_all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(end, currency, b0, b1, b2, b3, b4, sales)| WeekAging {
            end,
            currency,
            buckets: [b0, b1, b2, b3, b4],
            sales,
        })
        .collect())
}

/// The Slack file uploaded for an outbox row: `(file_id, completed)`.
pub async fn slack_upload(
    conn: &mut PgConnection,
    dedupe_key: &str,
) -> Result<Option<(String, bool)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT file_id, completed_at IS NOT NULL FROM slack_uploads WHERE dedupe_key = $1",
    )
    .bind(dedupe_key)
    .fetch_optional(conn)
    .await
}

/// Records the file whose bytes are uploaded, before it is shared.
pub async fn record_slack_upload(
    conn: &mut PgConnection,
    dedupe_key: &str,
    file_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO slack_uploads (dedupe_key, file_id) VALUES ($1, $2)
         ON CONFLICT (dedupe_key) DO UPDATE SET file_id = EXCLUDED.file_id
          WHERE slack_uploads.completed_at IS NULL",
    )
    .bind(dedupe_key)
    .bind(file_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks the file shared in its channel: a retry of the row does nothing more.
pub async fn complete_slack_upload(
    conn: &mut PgConnection,
    dedupe_key: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE slack_uploads SET completed_at = now() WHERE dedupe_key = $1")
        .bind(dedupe_key)
        .execute(conn)
        .await?;
    Ok(())
}
