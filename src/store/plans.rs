//! Payment plans (`ar plan`) and their open installment, which is a row in `promises` with
//! `plan_id` set (see migration 0080).
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection};

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Plan {
    pub id: i64,
    pub account_id: i64,
    pub total_minor: i64,
    pub currency: String,
    pub installments: i32,
    pub cadence: String,
    pub first_due: NaiveDate,
    pub started_on: NaiveDate,
    pub note: Option<String>,
    pub status: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub close_reason: Option<String>,
    pub broken_installment: Option<i32>,
}

const COLUMNS: &str = "id, account_id, total_minor, currency::text AS currency, installments, cadence, first_due, started_on, note, status, created_by, created_at, decided_by, decided_at, closed_at, close_reason, broken_installment";

pub struct NewPlan<'a> {
    pub account_id: i64,
    pub total_minor: i64,
    pub currency: &'a str,
    pub installments: i32,
    pub cadence: &'a str,
    pub first_due: NaiveDate,
    pub started_on: NaiveDate,
    pub note: Option<&'a str>,
    pub status: &'a str,
    pub created_by: &'a str,
    pub created_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut PgConnection, p: &NewPlan<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO plans (account_id, total_minor, currency, installments, cadence, first_due, started_on, note, status, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(p.account_id)
    .bind(p.total_minor)
    .bind(p.currency)
    .bind(p.installments)
    .bind(p.cadence)
    .bind(p.first_due)
    .bind(p.started_on)
    .bind(p.note)
    .bind(p.status)
    .bind(p.created_by)
    .bind(p.created_at)
    .fetch_one(conn)
    .await
}

/// The account's proposed or active plan, locked for the transaction.
pub async fn live_for_account(
    conn: &mut PgConnection,
    account_id: i64,
) -> Result<Option<Plan>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM plans WHERE account_id = $1 AND status IN ('proposed', 'active') FOR UPDATE"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(account_id)
        .fetch_optional(conn)
        .await
}

/// The account's most recent plan, whatever its status.
pub async fn latest_for_account(
    conn: &mut PgConnection,
    account_id: i64,
) -> Result<Option<Plan>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM plans WHERE account_id = $1 ORDER BY id DESC LIMIT 1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(account_id)
        .fetch_optional(conn)
        .await
}

pub async fn for_update(conn: &mut PgConnection, id: i64) -> Result<Option<Plan>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM plans WHERE id = $1 FOR UPDATE");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Active plans (of one account, or all), claimed with SKIP LOCKED so replicas share them.
pub async fn active_locked(
    conn: &mut PgConnection,
    only: Option<i64>,
) -> Result<Vec<Plan>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM plans WHERE status = 'active' AND ($1::int8 IS NULL OR account_id = $1)
          ORDER BY id FOR UPDATE SKIP LOCKED"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(only)
        .fetch_all(conn)
        .await
}

/// A manager's decision on a proposed plan: `active` or `rejected`.
pub async fn decide(
    conn: &mut PgConnection,
    id: i64,
    status: &str,
    by: &str,
    note: Option<&str>,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE plans SET status = $2, decided_by = $3, decided_at = $4,
                close_reason = CASE WHEN $2 = 'rejected' THEN $5 ELSE close_reason END,
                closed_at = CASE WHEN $2 = 'rejected' THEN $4 ELSE closed_at END
          WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(by)
    .bind(at)
    .bind(note)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Ends a plan: `kept`, `broken` (with the missed installment) or `cancelled` (with why).
pub async fn close(
    conn: &mut PgConnection,
    id: i64,
    status: &str,
    reason: Option<&str>,
    broken_installment: Option<i32>,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE plans SET status = $2, close_reason = $3, broken_installment = $4, closed_at = $5 WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(reason)
    .bind(broken_installment)
    .bind(at)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The plan's open installment: `(promise id, installment number)`.
pub async fn open_installment(
    conn: &mut PgConnection,
    plan_id: i64,
) -> Result<Option<(i64, i32)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, installment FROM promises WHERE plan_id = $1 AND status = 'pending' ORDER BY installment LIMIT 1",
    )
    .bind(plan_id)
    .fetch_optional(conn)
    .await
}

pub struct NewInstallment<'a> {
    pub plan: &'a Plan,
    pub n: i32,
    pub cumulative_minor: i64,
    pub due: NaiveDate,
}

/// Opens installment `n` as a promise of the plan's cumulative amount by its due date, logged
/// on the day the plan started (so every payment since counts). Idempotent per installment.
pub async fn open(conn: &mut PgConnection, i: &NewInstallment<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO promises (account_id, amount_minor, currency, promised_for, logged_on, note, logged_by, plan_id, installment)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (plan_id, installment) WHERE plan_id IS NOT NULL DO NOTHING",
    )
    .bind(i.plan.account_id)
    .bind(i.cumulative_minor)
    .bind(&i.plan.currency)
    .bind(i.due)
    .bind(i.plan.started_on)
    .bind(format!(
        "installment {} of {} of plan {}",
        i.n, i.plan.installments, i.plan.id
    ))
    .bind(&i.plan.created_by)
    .bind(i.plan.id)
    .bind(i.n)
    .execute(conn)
    .await
    .map(|_| ())
}

/// A cancelled plan's open installment is no promise any more: it goes (the plan row and the
/// action log keep the history).
pub async fn drop_open_installment(
    conn: &mut PgConnection,
    plan_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM promises WHERE plan_id = $1 AND status = 'pending'")
        .bind(plan_id)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Marks installment `n` of a plan kept or broken (it must be open already).
pub async fn set_installment_status(
    conn: &mut PgConnection,
    plan_id: i64,
    n: i32,
    status: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE promises SET status = $3, resolved_at = $4 WHERE plan_id = $1 AND installment = $2 AND status = 'pending'",
    )
    .bind(plan_id)
    .bind(n)
    .bind(status)
    .bind(at)
    .execute(conn)
    .await
    .map(|_| ())
}
