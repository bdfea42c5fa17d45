//! Accounts, contacts and invoices.
use chrono::NaiveDate;
use serde::Serialize;
use sqlx::{FromRow, PgConnection};

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Account {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub currency: String,
    pub time_zone: String,
    pub owner: Option<String>,
    pub do_not_contact: bool,
    pub held: bool,
    pub hold_until: Option<NaiveDate>,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Invoice {
    pub id: i64,
    pub account_id: i64,
    pub number: String,
    pub issued: NaiveDate,
    pub due: NaiveDate,
    pub amount_minor: i64,
    pub paid_minor: i64,
    pub currency: String,
    pub status: String,
}

impl Invoice {
    pub fn balance_minor(&self) -> i64 {
        self.amount_minor - self.paid_minor
    }
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Contact {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// Case-insensitive on the code; `lock` takes the row lock that serialises writes to one account.
pub async fn account_by_code(
    conn: &mut PgConnection,
    code: &str,
    lock: bool,
) -> Result<Option<Account>, sqlx::Error> {
    account_in_scope(conn, code, lock, None).await
}

/// The filter that keeps an agency to the accounts actively referred to it (by name, any case);
/// `$2` NULL means every account.
const IN_SCOPE: &str = "($2::text IS NULL OR EXISTS (
    SELECT 1 FROM referrals r JOIN agencies g ON g.id = r.agency_id
     WHERE r.account_id = accounts.id AND r.closed_at IS NULL AND lower(g.name) = lower($2)))";

/// As `account_by_code`, but only among the accounts referred to `agency` when given: any
/// other account reads as not existing.
pub async fn account_in_scope(
    conn: &mut PgConnection,
    code: &str,
    lock: bool,
    agency: Option<&str>,
) -> Result<Option<Account>, sqlx::Error> {
    let sql = format!(
        "SELECT id, code, name, currency, time_zone, owner, do_not_contact, held, hold_until FROM accounts
          WHERE upper(code) = upper($1) AND {IN_SCOPE}{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(code.trim())
        .bind(agency)
        .fetch_optional(conn)
        .await
}

pub async fn account_by_id(conn: &mut PgConnection, id: i64) -> Result<Account, sqlx::Error> {
    sqlx::query_as("SELECT id, code, name, currency, time_zone, owner, do_not_contact, held, hold_until FROM accounts WHERE id = $1")
        .bind(id)
        .fetch_one(conn)
        .await
}

/// Codes and names that start with or contain `text`, for suggestions and autocomplete; only
/// the accounts referred to `agency` when given.
pub async fn search_accounts(
    conn: &mut PgConnection,
    text: &str,
    limit: i64,
    agency: Option<&str>,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let sql = format!(
        "SELECT code, name FROM accounts
          WHERE (code ILIKE '%' || $1 || '%' OR name ILIKE '%' || $1 || '%') AND {IN_SCOPE}
          ORDER BY (code ILIKE $1 || '%') DESC, code LIMIT $3"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(text.trim())
        .bind(agency)
        .bind(limit)
        .fetch_all(conn)
        .await
}

/// Numbers are stored upper-cased (as imports write them), so the lookup uses the unique index.
pub async fn invoice_by_number(
    conn: &mut PgConnection,
    number: &str,
) -> Result<Option<Invoice>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, account_id, number, issued, due, amount_minor, paid_minor, currency, status
           FROM invoices WHERE number = $1",
    )
    .bind(number.trim().to_ascii_uppercase())
    .fetch_optional(conn)
    .await
}

/// Unpaid invoices (open, disputed or with an agency), oldest due first.
pub async fn unpaid_invoices(
    conn: &mut PgConnection,
    account_id: i64,
) -> Result<Vec<Invoice>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, account_id, number, issued, due, amount_minor, paid_minor, currency, status
           FROM invoices WHERE account_id = $1 AND status IN ('open', 'disputed', 'with_agency')
          ORDER BY due, number",
    )
    .bind(account_id)
    .fetch_all(conn)
    .await
}

pub async fn set_invoice_status(
    conn: &mut PgConnection,
    invoice_id: i64,
    status: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE invoices SET status = $2 WHERE id = $1")
        .bind(invoice_id)
        .bind(status)
        .execute(conn)
        .await?;
    Ok(())
}

/// Moves an account's open and disputed invoices to the agency.
pub async fn hand_invoices_to_agency(
    conn: &mut PgConnection,
    account_id: i64,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("UPDATE invoices SET status = 'with_agency' WHERE account_id = $1 AND status IN ('open', 'disputed')")
        .bind(account_id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected())
}

pub async fn primary_contact(
    conn: &mut PgConnection,
    account_id: i64,
) -> Result<Option<Contact>, sqlx::Error> {
    sqlx::query_as("SELECT name, email, phone FROM contacts WHERE account_id = $1 ORDER BY is_primary DESC, id LIMIT 1")
        .bind(account_id)
        .fetch_optional(conn)
        .await
}

/// Payments on the account from `from` on: `(paid_on, amount_minor)`, for promise resolution.
pub async fn payments_since(
    conn: &mut PgConnection,
    account_id: i64,
    from: NaiveDate,
) -> Result<Vec<(NaiveDate, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT paid_on, amount_minor FROM payments WHERE account_id = $1 AND paid_on >= $2 ORDER BY paid_on")
        .bind(account_id)
        .bind(from)
        .fetch_all(conn)
        .await
}

pub async fn set_hold(
    conn: &mut PgConnection,
    account_id: i64,
    held: bool,
    until: Option<NaiveDate>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE accounts SET held = $2, hold_until = $3 WHERE id = $1")
        .bind(account_id)
        .bind(held)
        .bind(until)
        .execute(conn)
        .await?;
    Ok(())
}

/// Open invoices (every account) due in `[from, to]`: what the automatic plan may remind about.
pub async fn open_invoices_due_between(
    conn: &mut PgConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Invoice>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, account_id, number, issued, due, amount_minor, paid_minor, currency, status
           FROM invoices WHERE status = 'open' AND due BETWEEN $1 AND $2 AND amount_minor > paid_minor
          ORDER BY account_id, due, number",
    )
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await
}
