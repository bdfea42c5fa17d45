//! Confirm receipt: the open invoices that may need "did you receive it?", the answers, and
//! the emails that asked (see `domain::confirm_receipt` for the rule).
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{FromRow, PgConnection};

/// An open, unanswered invoice that is not overdue on the day, with its account.
#[derive(Debug, Clone, FromRow)]
pub struct Unconfirmed {
    pub invoice_id: i64,
    pub number: String,
    pub issued: NaiveDate,
    pub due: NaiveDate,
    pub amount_minor: i64,
    pub currency: String,
    pub account_id: i64,
    pub code: String,
    pub name: String,
    pub owner: Option<String>,
    pub do_not_contact: bool,
    /// A "did you receive it?" email was queued for it.
    pub asked: bool,
}

/// Open invoices of accounts not with an agency, issued at least `min_days` calendar days
/// before `as_of` (business days are at least as many) and not yet due before it, without an
/// answer. The caller applies the exact rule.
pub async fn unconfirmed(
    conn: &mut PgConnection,
    as_of: NaiveDate,
    min_days: i32,
) -> Result<Vec<Unconfirmed>, sqlx::Error> {
    sqlx::query_as(UNCONFIRMED)
        .bind(as_of)
        .bind(min_days)
        .fetch_all(conn)
        .await
}

/// `unconfirmed` as a stream, for the digest (which keeps only what it shows).
pub fn stream_unconfirmed(
    conn: &mut PgConnection,
    as_of: NaiveDate,
    min_days: i32,
) -> futures_util::stream::BoxStream<'_, Result<Unconfirmed, sqlx::Error>> {
    sqlx::query_as(UNCONFIRMED)
        .bind(as_of)
        .bind(min_days)
        .fetch(conn)
}

const UNCONFIRMED: &str = "SELECT i.id AS invoice_id, i.number, i.issued, i.due, i.amount_minor, i.currency,
                a.id AS account_id, a.code, a.name, a.owner, a.do_not_contact,
                EXISTS (SELECT 1 FROM receipt_asks k WHERE k.invoice_id = i.id) AS asked
           FROM invoices i JOIN accounts a ON a.id = i.account_id
          WHERE i.status = 'open' AND i.due >= $1 AND i.issued <= $1 - $2::int
            AND i.amount_minor > i.paid_minor
            AND NOT EXISTS (SELECT 1 FROM receipt_answers r WHERE r.invoice_id = i.id)
            AND NOT EXISTS (SELECT 1 FROM referrals f WHERE f.account_id = a.id AND f.closed_at IS NULL)
          ORDER BY i.due, i.number";

/// Records (or replaces) the answer for an invoice.
pub async fn set_answer(
    conn: &mut PgConnection,
    invoice_id: i64,
    answer: &str,
    note: Option<&str>,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO receipt_answers (invoice_id, answer, note, answered_by, answered_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (invoice_id) DO UPDATE SET answer = EXCLUDED.answer, note = EXCLUDED.note,
             answered_by = EXCLUDED.answered_by, answered_at = EXCLUDED.answered_at",
    )
    .bind(invoice_id)
    .bind(answer)
    .bind(note)
    .bind(by)
    .bind(at)
    .execute(conn)
    .await
    .map(|_| ())
}

/// An invoice's recorded answer, for the account card.
#[derive(Debug, Clone, FromRow)]
pub struct AnswerRow {
    pub number: String,
    pub answer: String,
    pub note: Option<String>,
    pub answered_by: String,
    pub answered_at: DateTime<Utc>,
}

/// Answers on the account's unpaid invoices, newest first.
pub async fn answers_for_account(
    conn: &mut PgConnection,
    account_id: i64,
) -> Result<Vec<AnswerRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT i.number, r.answer, r.note, r.answered_by, r.answered_at
           FROM receipt_answers r JOIN invoices i ON i.id = r.invoice_id
          WHERE i.account_id = $1 AND i.status IN ('open', 'disputed', 'with_agency')
          ORDER BY r.answered_at DESC, i.number
          LIMIT 10",
    )
    .bind(account_id)
    .fetch_all(conn)
    .await
}

/// Notes that the invoice was asked about; false when it already was (once per invoice).
pub async fn record_ask(
    conn: &mut PgConnection,
    invoice_id: i64,
    outbox_id: Option<i64>,
    asked_on: NaiveDate,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "INSERT INTO receipt_asks (invoice_id, outbox_id, asked_on) VALUES ($1, $2, $3)
         ON CONFLICT (invoice_id) DO NOTHING",
    )
    .bind(invoice_id)
    .bind(outbox_id)
    .bind(asked_on)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}
