//! Collections state: promises, disputes, flags, referrals, offers, reminders, agencies.
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection};

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Promise {
    pub id: i64,
    pub account_id: i64,
    pub amount_minor: i64,
    pub currency: String,
    pub promised_for: NaiveDate,
    pub logged_on: NaiveDate,
    pub note: Option<String>,
    pub logged_by: String,
    pub status: String,
}

pub struct NewPromise<'a> {
    pub account_id: i64,
    pub amount_minor: i64,
    pub currency: &'a str,
    pub promised_for: NaiveDate,
    pub logged_on: NaiveDate,
    pub note: Option<&'a str>,
    pub logged_by: &'a str,
    /// The app's clock, so the history and metrics agree with the action row.
    pub logged_at: DateTime<Utc>,
}

pub async fn insert_promise(
    conn: &mut PgConnection,
    p: &NewPromise<'_>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO promises (account_id, amount_minor, currency, promised_for, logged_on, note, logged_by, logged_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(p.account_id)
    .bind(p.amount_minor)
    .bind(p.currency)
    .bind(p.promised_for)
    .bind(p.logged_on)
    .bind(p.note)
    .bind(p.logged_by)
    .bind(p.logged_at)
    .fetch_one(conn)
    .await
}

/// The account's promises-to-pay (a payment plan's installments are the plan's: see
/// `store::plans`).
pub async fn promises_for_account(
    conn: &mut PgConnection,
    account_id: i64,
) -> Result<Vec<Promise>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, account_id, amount_minor, currency, promised_for, logged_on, note, logged_by, status
           FROM promises WHERE account_id = $1 AND plan_id IS NULL ORDER BY id DESC",
    )
    .bind(account_id)
    .fetch_all(conn)
    .await
}

/// Pending promises, locked, for the resolver (installments are resolved with their plan, by
/// `app::plan_progress`).
pub async fn pending_promises_locked(conn: &mut PgConnection) -> Result<Vec<Promise>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, account_id, amount_minor, currency, promised_for, logged_on, note, logged_by, status
           FROM promises WHERE status = 'pending' AND plan_id IS NULL ORDER BY id FOR UPDATE SKIP LOCKED",
    )
    .fetch_all(conn)
    .await
}

pub async fn set_promise_status(
    conn: &mut PgConnection,
    id: i64,
    status: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE promises SET status = $2, resolved_at = $3 WHERE id = $1")
        .bind(id)
        .bind(status)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn open_dispute(
    conn: &mut PgConnection,
    invoice_id: i64,
    reason: &str,
    by: &str,
    at: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO disputes (invoice_id, reason, opened_by, opened_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(invoice_id)
    .bind(reason)
    .bind(by)
    .bind(at)
    .fetch_one(conn)
    .await
}

/// Closes the open dispute; returns its reason, or `None` when there was none.
pub async fn close_dispute(
    conn: &mut PgConnection,
    invoice_id: i64,
    by: &str,
    at: DateTime<Utc>,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE disputes SET resolved_by = $2, resolved_at = $3 WHERE invoice_id = $1 AND resolved_at IS NULL RETURNING reason",
    )
    .bind(invoice_id)
    .bind(by)
    .bind(at)
    .fetch_optional(conn)
    .await
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Flag {
    pub id: i64,
    pub account_id: i64,
    pub reason: String,
    pub flagged_by: String,
    pub flagged_at: DateTime<Utc>,
}

pub async fn open_flag(
    conn: &mut PgConnection,
    account_id: i64,
) -> Result<Option<Flag>, sqlx::Error> {
    sqlx::query_as("SELECT id, account_id, reason, flagged_by, flagged_at FROM flags WHERE account_id = $1 AND resolved_at IS NULL")
        .bind(account_id)
        .fetch_optional(conn)
        .await
}

pub async fn insert_flag(
    conn: &mut PgConnection,
    account_id: i64,
    reason: &str,
    by: &str,
    at: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO flags (account_id, reason, flagged_by, flagged_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(account_id)
    .bind(reason)
    .bind(by)
    .bind(at)
    .fetch_one(conn)
    .await
}

pub async fn resolve_flag(
    conn: &mut PgConnection,
    flag_id: i64,
    by: &str,
    outcome: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE flags SET resolved_by = $2, resolved_at = $4, outcome = $3 WHERE id = $1")
        .bind(flag_id)
        .bind(by)
        .bind(outcome)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Agency {
    pub id: i64,
    pub name: String,
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<String>,
    pub channel: Option<String>,
}

pub async fn agency_by_name(
    conn: &mut PgConnection,
    name: &str,
) -> Result<Option<Agency>, sqlx::Error> {
    sqlx::query_as("SELECT id, name, webhook_url, webhook_secret, channel FROM agencies WHERE lower(name) = lower($1)")
        .bind(name.trim())
        .fetch_optional(conn)
        .await
}

pub async fn agency_by_id(conn: &mut PgConnection, id: i64) -> Result<Agency, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, webhook_url, webhook_secret, channel FROM agencies WHERE id = $1",
    )
    .bind(id)
    .fetch_one(conn)
    .await
}

pub async fn list_agencies(conn: &mut PgConnection) -> Result<Vec<Agency>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, webhook_url, webhook_secret, channel FROM agencies ORDER BY name",
    )
    .fetch_all(conn)
    .await
}

/// Adds or updates an agency by name.
pub async fn upsert_agency(
    conn: &mut PgConnection,
    name: &str,
    webhook_url: Option<&str>,
    webhook_secret: Option<&str>,
    channel: Option<&str>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO agencies (name, webhook_url, webhook_secret, channel) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO UPDATE SET webhook_url = coalesce(EXCLUDED.webhook_url, agencies.webhook_url),
             webhook_secret = coalesce(EXCLUDED.webhook_secret, agencies.webhook_secret),
             channel = coalesce(EXCLUDED.channel, agencies.channel)
         RETURNING id",
    )
    .bind(name.trim())
    .bind(webhook_url)
    .bind(webhook_secret)
    .bind(channel)
    .fetch_one(conn)
    .await
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Referral {
    pub id: i64,
    pub account_id: i64,
    pub agency_id: i64,
    pub referred_by: String,
    pub referred_at: DateTime<Utc>,
}

pub async fn active_referral(
    conn: &mut PgConnection,
    account_id: i64,
) -> Result<Option<Referral>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, account_id, agency_id, referred_by, referred_at FROM referrals WHERE account_id = $1 AND closed_at IS NULL",
    )
    .bind(account_id)
    .fetch_optional(conn)
    .await
}

pub async fn insert_referral(
    conn: &mut PgConnection,
    account_id: i64,
    agency_id: i64,
    by: &str,
    at: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("INSERT INTO referrals (account_id, agency_id, referred_by, referred_at) VALUES ($1, $2, $3, $4) RETURNING id")
        .bind(account_id)
        .bind(agency_id)
        .bind(by)
        .bind(at)
        .fetch_one(conn)
        .await
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Offer {
    pub id: i64,
    pub referral_id: i64,
    pub account_id: i64,
    pub agency_id: i64,
    pub amount_minor: i64,
    pub currency: String,
    pub note: Option<String>,
    pub offered_by: String,
    pub offered_at: DateTime<Utc>,
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
}

pub struct NewOffer<'a> {
    pub referral_id: i64,
    pub account_id: i64,
    pub agency_id: i64,
    pub amount_minor: i64,
    pub currency: &'a str,
    pub note: Option<&'a str>,
    pub offered_by: &'a str,
    pub offered_at: DateTime<Utc>,
}

pub async fn insert_offer(conn: &mut PgConnection, o: &NewOffer<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO offers (referral_id, account_id, agency_id, amount_minor, currency, note, offered_by, offered_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(o.referral_id)
    .bind(o.account_id)
    .bind(o.agency_id)
    .bind(o.amount_minor)
    .bind(o.currency)
    .bind(o.note)
    .bind(o.offered_by)
    .bind(o.offered_at)
    .fetch_one(conn)
    .await
}

/// Locks the offer row: concurrent decisions on one offer queue here, and the second sees
/// the first one's decision.
pub async fn offer_for_update(
    conn: &mut PgConnection,
    id: i64,
) -> Result<Option<Offer>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, referral_id, account_id, agency_id, amount_minor, currency, note, offered_by, offered_at, status, decided_by, decided_at
           FROM offers WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn offers_for_account(
    conn: &mut PgConnection,
    account_id: i64,
) -> Result<Vec<Offer>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, referral_id, account_id, agency_id, amount_minor, currency, note, offered_by, offered_at, status, decided_by, decided_at
           FROM offers WHERE account_id = $1 ORDER BY id DESC",
    )
    .bind(account_id)
    .fetch_all(conn)
    .await
}

pub async fn decide_offer(
    conn: &mut PgConnection,
    id: i64,
    status: &str,
    by: &str,
    note: Option<&str>,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE offers SET status = $2, decided_by = $3, decision_note = $4, decided_at = $5 WHERE id = $1")
        .bind(id)
        .bind(status)
        .bind(by)
        .bind(note)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}

/// When the last reminder for the account was queued.
pub async fn last_reminder_at(
    conn: &mut PgConnection,
    account_id: i64,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar("SELECT max(queued_at) FROM reminders WHERE account_id = $1")
        .bind(account_id)
        .fetch_one(conn)
        .await
}

pub struct NewReminder<'a> {
    pub account_id: i64,
    pub invoice_id: Option<i64>,
    pub tone: &'a str,
    pub stage: Option<&'a str>,
    pub queued_by: &'a str,
    pub queued_at: DateTime<Utc>,
    pub outbox_id: Option<i64>,
}

pub async fn insert_reminder(
    conn: &mut PgConnection,
    r: &NewReminder<'_>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO reminders (account_id, invoice_id, tone, stage, queued_by, queued_at, outbox_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(r.account_id)
    .bind(r.invoice_id)
    .bind(r.tone)
    .bind(r.stage)
    .bind(r.queued_by)
    .bind(r.queued_at)
    .bind(r.outbox_id)
    .fetch_one(conn)
    .await
}
