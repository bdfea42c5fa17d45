//! Stripe's side of the ledger: which Stripe object is which row, the rows a Stripe object
//! creates, and the backfill's resumable place.
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;

/// The local id linked to a Stripe object (`kind` `account` or `invoice`).
pub async fn local_id(
    conn: &mut PgConnection,
    external_id: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT local_id FROM external_ids WHERE source = 'stripe' AND external_id = $1",
    )
    .bind(external_id)
    .fetch_optional(conn)
    .await
}

pub async fn link(
    conn: &mut PgConnection,
    external_id: &str,
    kind: &str,
    local_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO external_ids (source, external_id, kind, local_id) VALUES ('stripe', $1, $2, $3)
         ON CONFLICT (source, external_id) DO UPDATE SET local_id = EXCLUDED.local_id",
    )
    .bind(external_id)
    .bind(kind)
    .bind(local_id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn invoice_number(
    conn: &mut PgConnection,
    invoice_id: i64,
) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("SELECT number FROM invoices WHERE id = $1")
        .bind(invoice_id)
        .fetch_one(conn)
        .await
}

pub struct AccountFields<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub currency: &'a str,
    pub time_zone: Option<&'a str>,
    pub email: Option<&'a str>,
}

/// Creates the account, or brings an existing one's name, time zone and email up to date
/// (its currency stays: invoices already in it). Keyed by `id` when linked, else by code.
pub async fn upsert_account(
    conn: &mut PgConnection,
    linked: Option<i64>,
    f: &AccountFields<'_>,
) -> Result<i64, sqlx::Error> {
    let id: i64 = match linked {
        Some(id) => {
            sqlx::query_scalar(
                "UPDATE accounts SET code = $2, name = $3, time_zone = coalesce($4, time_zone) WHERE id = $1 RETURNING id",
            )
            .bind(id)
            .bind(f.code)
            .bind(f.name)
            .bind(f.time_zone)
            .fetch_one(&mut *conn)
            .await?
        }
        None => {
            sqlx::query_scalar(
                "INSERT INTO accounts (code, name, currency, time_zone) VALUES ($1, $2, $3, coalesce($4, 'UTC'))
                 ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name,
                        time_zone = coalesce($4, accounts.time_zone)
                 RETURNING id",
            )
            .bind(f.code)
            .bind(f.name)
            .bind(f.currency)
            .bind(f.time_zone)
            .fetch_one(&mut *conn)
            .await?
        }
    };
    if let Some(email) = f.email {
        let updated = sqlx::query(
            "UPDATE contacts SET email = $2 WHERE id = (SELECT id FROM contacts WHERE account_id = $1 ORDER BY is_primary DESC, id LIMIT 1)",
        )
        .bind(id)
        .bind(email)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if updated == 0 {
            // The customer's name is the account's; the contact's stays unset so reminders
            // greet no company as a person ("Dear Acme Corp,").
            sqlx::query("INSERT INTO contacts (account_id, email) VALUES ($1, $2)")
                .bind(id)
                .bind(email)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(id)
}

pub struct NewInvoice<'a> {
    pub account_id: i64,
    pub number: &'a str,
    pub issued: NaiveDate,
    pub due: NaiveDate,
    pub amount_minor: i64,
    pub currency: &'a str,
    pub status: &'a str,
    pub closed_reason: Option<&'a str>,
}

/// Inserts a new invoice (numbers upper-cased, as imports write them); `None` if the number
/// is taken.
pub async fn insert_invoice(
    conn: &mut PgConnection,
    i: &NewInvoice<'_>,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO invoices (account_id, number, issued, due, amount_minor, currency, status, closed_reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (number) DO NOTHING RETURNING id",
    )
    .bind(i.account_id)
    .bind(i.number.trim().to_ascii_uppercase())
    .bind(i.issued)
    .bind(i.due)
    .bind(i.amount_minor)
    .bind(i.currency)
    .bind(i.status)
    .bind(i.closed_reason)
    .fetch_optional(conn)
    .await
}

/// An automatically charged invoice whose charge failed is chased from now on.
pub async fn start_chasing(
    conn: &mut PgConnection,
    invoice_id: i64,
    due: NaiveDate,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE invoices SET status = 'open', due = greatest($2, issued) WHERE id = $1 AND status = 'autocharge'")
        .bind(invoice_id)
        .bind(due)
        .execute(conn)
        .await?;
    Ok(())
}

/// Credit notes recorded for a Stripe invoice, whether they came before or after it.
pub async fn credited_minor(
    conn: &mut PgConnection,
    invoice_id: Option<i64>,
    stripe_invoice: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT coalesce(sum(amount_minor), 0)::int8 FROM invoice_changes
          WHERE kind = 'credit_note' AND (invoice_id = $1 OR external_invoice = $2)",
    )
    .bind(invoice_id)
    .bind(stripe_invoice)
    .fetch_one(conn)
    .await
}

/// A credit note for an invoice not seen yet: kept until the invoice comes.
pub async fn park_credit_note(
    conn: &mut PgConnection,
    stripe_invoice: &str,
    minor: i64,
    reference: &str,
    reason: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "INSERT INTO invoice_changes (invoice_id, external_invoice, kind, amount_minor, before_minor, status_before, status_after, reason, reference, actor)
         VALUES (NULL, $1, 'credit_note', $2, 0, 'unknown', 'unknown', $3, $4, 'Stripe')
         ON CONFLICT (kind, reference) WHERE reference IS NOT NULL DO NOTHING",
    )
    .bind(stripe_invoice)
    .bind(minor)
    .bind(reason)
    .bind(reference)
    .execute(conn)
    .await?;
    Ok(n.rows_affected() == 1)
}

/// Claims parked credit notes for the invoice now that it exists.
pub async fn adopt_credit_notes(
    conn: &mut PgConnection,
    invoice_id: i64,
    stripe_invoice: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE invoice_changes SET invoice_id = $1 WHERE invoice_id IS NULL AND external_invoice = $2")
        .bind(invoice_id)
        .bind(stripe_invoice)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records what Stripe says was paid on an invoice as one payment keyed by the invoice's
/// Stripe id; it only grows (a late event with less paid changes nothing). Then brings the
/// invoice's paid amount and status up to date. Returns the payment's id when it changed.
pub async fn record_paid(
    conn: &mut PgConnection,
    account_id: i64,
    invoice_id: i64,
    reference: &str,
    paid_on: NaiveDate,
    amount_minor: i64,
    currency: &str,
) -> Result<Option<i64>, sqlx::Error> {
    let changed: Option<i64> = sqlx::query_scalar(
        "INSERT INTO payments (account_id, invoice_id, paid_on, amount_minor, currency, reference)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (account_id, reference) DO UPDATE SET amount_minor = EXCLUDED.amount_minor
          WHERE payments.amount_minor < EXCLUDED.amount_minor
         RETURNING id",
    )
    .bind(account_id)
    .bind(invoice_id)
    .bind(paid_on)
    .bind(amount_minor)
    .bind(currency)
    .bind(reference)
    .fetch_optional(&mut *conn)
    .await?;
    if changed.is_some() {
        super::import::apply_payments(conn, &[invoice_id]).await?;
    }
    Ok(changed)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SyncState {
    pub run_started_at: Option<DateTime<Utc>>,
    pub since: Option<DateTime<Utc>>,
    pub resource: Option<String>,
    pub cursor: Option<String>,
    pub pages: i64,
    pub last_success_at: Option<DateTime<Utc>>,
}

pub async fn sync_state(
    conn: &mut PgConnection,
    source: &str,
) -> Result<Option<SyncState>, sqlx::Error> {
    sqlx::query_as(
        "SELECT run_started_at, since, resource, cursor, pages, last_success_at FROM sync_state WHERE source = $1",
    )
    .bind(source)
    .fetch_optional(conn)
    .await
}

/// Starts a run (or keeps the one in progress).
pub async fn start_run(
    conn: &mut PgConnection,
    source: &str,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sync_state (source, run_started_at, since, resource, cursor, pages) VALUES ($1, $3, $2, NULL, NULL, 0)
         ON CONFLICT (source) DO UPDATE SET run_started_at = $3, since = $2, resource = NULL, cursor = NULL, pages = 0",
    )
    .bind(source)
    .bind(since)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The page just applied: written in that page's transaction.
pub async fn save_cursor(
    conn: &mut PgConnection,
    source: &str,
    resource: &str,
    cursor: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sync_state SET resource = $2, cursor = $3, pages = pages + 1 WHERE source = $1",
    )
    .bind(source)
    .bind(resource)
    .bind(cursor)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn finish_run(
    conn: &mut PgConnection,
    source: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sync_state SET last_success_at = coalesce(run_started_at, $2), run_started_at = NULL, resource = NULL, cursor = NULL WHERE source = $1",
    )
    .bind(source)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// When the ledger was last brought up to date from outside: the newest finished sync or
/// payments import.
pub async fn ledger_freshness(
    conn: &mut PgConnection,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT greatest((SELECT max(last_success_at) FROM sync_state),
                         (SELECT max(at) FROM actions WHERE kind = 'import_payments' AND outcome = 'ok'))",
    )
    .fetch_one(conn)
    .await
}
