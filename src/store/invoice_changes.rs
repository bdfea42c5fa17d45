//! Invoice changes from a billing system (credit notes, corrections, voids, write-offs,
//! refunds), and the invoice rows they change.
use crate::store::ledger::Invoice;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// The invoice by number (stored upper-cased), locked for the change.
pub async fn invoice_for_update(
    conn: &mut PgConnection,
    number: &str,
) -> Result<Option<Invoice>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, account_id, number, issued, due, amount_minor, paid_minor, currency, status
           FROM invoices WHERE number = $1 FOR UPDATE",
    )
    .bind(number.trim().to_ascii_uppercase())
    .fetch_optional(conn)
    .await
}

/// Whether a change with this billing-system reference was already applied.
pub async fn seen(
    conn: &mut PgConnection,
    kind: &str,
    reference: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM invoice_changes WHERE kind = $1 AND reference = $2)",
    )
    .bind(kind)
    .bind(reference)
    .fetch_one(conn)
    .await
}

pub struct NewChange<'a> {
    pub invoice_id: i64,
    pub kind: &'a str,
    pub amount_minor: Option<i64>,
    pub before_minor: i64,
    pub status_before: &'a str,
    pub status_after: &'a str,
    pub reason: Option<&'a str>,
    pub reference: Option<&'a str>,
    pub actor: &'a str,
    /// The app's clock (the action row's time), not the database's.
    pub at: DateTime<Utc>,
}

/// Writes the invoice's new amount and status and the change's row.
pub async fn record(
    conn: &mut PgConnection,
    c: &NewChange<'_>,
    new_amount: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE invoices SET amount_minor = $2, status = $3,
                closed_reason = CASE WHEN $3 IN ('void', 'written_off', 'credited') THEN coalesce($4, closed_reason) ELSE NULL END
          WHERE id = $1",
    )
    .bind(c.invoice_id)
    .bind(new_amount)
    .bind(c.status_after)
    .bind(c.reason)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO invoice_changes (invoice_id, kind, amount_minor, before_minor, status_before, status_after, reason, reference, actor, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(c.invoice_id)
    .bind(c.kind)
    .bind(c.amount_minor)
    .bind(c.before_minor)
    .bind(c.status_before)
    .bind(c.status_after)
    .bind(c.reason)
    .bind(c.reference)
    .bind(c.actor)
    .bind(c.at)
    .execute(conn)
    .await?;
    Ok(())
}
