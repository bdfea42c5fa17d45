//! What payment news read: the payments just recorded, with their account and invoice.
use chrono::NaiveDate;
use sqlx::{FromRow, PgConnection};

#[derive(Debug, Clone, FromRow)]
pub struct Paid {
    pub id: i64,
    pub account_id: i64,
    pub code: String,
    pub name: String,
    pub invoice: Option<String>,
    pub paid_on: NaiveDate,
    pub amount_minor: i64,
    pub currency: String,
    pub reference: String,
}

/// The payments with these ids, by account, then day and id.
pub async fn payments_by_ids(
    conn: &mut PgConnection,
    ids: &[i64],
) -> Result<Vec<Paid>, sqlx::Error> {
    sqlx::query_as(
        "SELECT p.id, p.account_id, a.code, a.name, i.number AS invoice, p.paid_on, p.amount_minor,
                p.currency::text AS currency, p.reference
           FROM payments p JOIN accounts a ON a.id = p.account_id LEFT JOIN invoices i ON i.id = p.invoice_id
          WHERE p.id = ANY($1) ORDER BY p.account_id, p.paid_on, p.id",
    )
    .bind(ids)
    .fetch_all(conn)
    .await
}
