//! What the send-time check reads: a queued reminder's invoices as the ledger has them now.
use super::ledger::Invoice;
use sqlx::PgConnection;

/// The account's invoices that are named in `numbers` (whatever their status now) or still
/// have a balance (whatever their status: the caller decides what is chaseable), due first.
pub async fn invoices_now(
    conn: &mut PgConnection,
    account_id: i64,
    numbers: &[String],
) -> Result<Vec<Invoice>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, account_id, number, issued, due, amount_minor, paid_minor, currency, status
           FROM invoices WHERE account_id = $1 AND (number = ANY($2) OR amount_minor > paid_minor)
          ORDER BY due, number",
    )
    .bind(account_id)
    .bind(numbers)
    .fetch_all(conn)
    .await
}
