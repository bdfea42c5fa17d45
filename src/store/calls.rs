//! Calls, notes and the phone numbers marked for checking.
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection};

pub struct NewCall<'a> {
    pub account_id: i64,
    pub contact_id: Option<i64>,
    pub outcome: &'a str,
    pub callback_on: Option<NaiveDate>,
    pub note: Option<&'a str>,
    pub called_by: &'a str,
    pub called_at: DateTime<Utc>,
}

pub async fn insert_call(conn: &mut PgConnection, c: &NewCall<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO calls (account_id, contact_id, outcome, callback_on, note, called_by, called_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(c.account_id)
    .bind(c.contact_id)
    .bind(c.outcome)
    .bind(c.callback_on)
    .bind(c.note)
    .bind(c.called_by)
    .bind(c.called_at)
    .fetch_one(conn)
    .await
}

pub async fn insert_note(
    conn: &mut PgConnection,
    account_id: i64,
    body: &str,
    written_by: &str,
    written_at: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO notes (account_id, body, written_by, written_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(account_id)
    .bind(body)
    .bind(written_by)
    .bind(written_at)
    .fetch_one(conn)
    .await
}

/// A contact of an account, with whether its phone needs checking.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct ContactRow {
    pub id: i64,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub is_primary: bool,
    pub phone_check_needed: bool,
}

/// The account's contacts, the primary one first (the one `ledger::primary_contact` names).
pub async fn contacts(
    conn: &mut PgConnection,
    account_id: i64,
) -> Result<Vec<ContactRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, email, phone, is_primary, phone_check_needed FROM contacts
          WHERE account_id = $1 ORDER BY is_primary DESC, id",
    )
    .bind(account_id)
    .fetch_all(conn)
    .await
}

/// Marks (or clears) the contact's phone as needing checking.
pub async fn set_phone_check(
    conn: &mut PgConnection,
    contact_id: i64,
    needed: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE contacts SET phone_check_needed = $2 WHERE id = $1")
        .bind(contact_id)
        .bind(needed)
        .execute(conn)
        .await?;
    Ok(())
}

/// A call-back due on a day: the account, when it was agreed and by whom.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct Callback {
    pub account_id: i64,
    pub code: String,
    pub name: String,
    pub callback_on: NaiveDate,
    pub called_by: String,
    pub called_at: DateTime<Utc>,
    pub note: Option<String>,
}

const CALLBACKS: &str = "SELECT c.account_id, a.code, a.name, c.callback_on, c.called_by, c.called_at, c.note
   FROM calls c JOIN accounts a ON a.id = c.account_id
  WHERE c.callback_on IS NOT NULL
    -- A later call on the account (the call back itself, or any other) settles it.
    AND NOT EXISTS (SELECT 1 FROM calls l WHERE l.account_id = c.account_id AND l.called_at > c.called_at)";

/// Call-backs due on `day`, by account code: each account's latest call when that call set
/// a call back for that day.
pub async fn callbacks_due(
    conn: &mut PgConnection,
    day: NaiveDate,
) -> Result<Vec<Callback>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{CALLBACKS} AND c.callback_on = $1 ORDER BY a.code"
    )))
    .bind(day)
    .fetch_all(conn)
    .await
}

/// The account's pending call-back, if its latest call set one for `from` or later.
pub async fn pending_callback(
    conn: &mut PgConnection,
    account_id: i64,
    from: NaiveDate,
) -> Result<Option<Callback>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{CALLBACKS} AND c.account_id = $1 AND c.callback_on >= $2"
    )))
    .bind(account_id)
    .bind(from)
    .fetch_optional(conn)
    .await
}

/// The account's latest call as a timeline entry.
pub async fn last_call(
    conn: &mut PgConnection,
    account_id: i64,
) -> Result<Option<crate::domain::timeline::Entry>, sqlx::Error> {
    let row: Option<(DateTime<Utc>, String, serde_json::Value)> = sqlx::query_as(
        "SELECT called_at, called_by, jsonb_build_object('outcome', outcome, 'callback_on', callback_on, 'note', note)
           FROM calls WHERE account_id = $1 ORDER BY called_at DESC, id DESC LIMIT 1",
    )
    .bind(account_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(at, by, details)| crate::domain::timeline::Entry {
        at,
        kind: "call".into(),
        by: Some(by),
        details,
    }))
}
