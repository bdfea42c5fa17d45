//! Late fees: waivers, and how each invoice's payments were applied under the fee policy.
use crate::domain::late_fee::{self, Charges, InvoiceFacts, LateFeePolicy, Waived};
use crate::domain::money::Currency;
use chrono::NaiveDate;
use sqlx::PgConnection;
use std::collections::HashMap;

/// A recorded waiver.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Waiver {
    pub invoice_id: i64,
    pub part: String,
    pub amount_minor: i64,
    pub reason: String,
    pub waived_by: String,
    pub waived_on: NaiveDate,
}

/// The waivers of these invoices.
pub async fn waivers(
    conn: &mut PgConnection,
    invoice_ids: &[i64],
) -> Result<Vec<Waiver>, sqlx::Error> {
    sqlx::query_as(
        "SELECT invoice_id, part, amount_minor, reason, waived_by, waived_on
           FROM fee_waivers WHERE invoice_id = ANY($1) ORDER BY invoice_id, part",
    )
    .bind(invoice_ids)
    .fetch_all(conn)
    .await
}

/// Records a waiver; `None` when that part of the invoice was already waived.
pub async fn insert_waiver(
    conn: &mut PgConnection,
    w: &Waiver,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO fee_waivers (invoice_id, part, amount_minor, reason, waived_by, waived_on)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (invoice_id, part) DO NOTHING RETURNING id",
    )
    .bind(w.invoice_id)
    .bind(&w.part)
    .bind(w.amount_minor)
    .bind(&w.reason)
    .bind(&w.waived_by)
    .bind(w.waived_on)
    .fetch_optional(conn)
    .await
}

/// Payments of these invoices: `(invoice_id, paid_on, amount_minor)`.
pub async fn payments_of(
    conn: &mut PgConnection,
    invoice_ids: &[i64],
) -> Result<Vec<(i64, NaiveDate, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT invoice_id, paid_on, amount_minor FROM payments
          WHERE invoice_id = ANY($1) ORDER BY invoice_id, paid_on, id",
    )
    .bind(invoice_ids)
    .fetch_all(conn)
    .await
}

/// The invoices these payments pay.
pub async fn invoices_paid_by(
    conn: &mut PgConnection,
    payment_ids: &[i64],
) -> Result<Vec<super::ledger::Invoice>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, account_id, number, issued, due, amount_minor, paid_minor, currency, status
           FROM invoices WHERE id IN (SELECT invoice_id FROM payments WHERE id = ANY($1))
          ORDER BY id FOR UPDATE",
    )
    .bind(payment_ids)
    .fetch_all(conn)
    .await
}

/// What an invoice's payments covered, by part.
#[derive(Debug, Clone, Copy)]
pub struct Applied {
    pub fees_paid: i64,
    pub interest_paid: i64,
    pub principal_paid: i64,
    /// The day it counted as paid, if it does.
    pub paid_on: Option<NaiveDate>,
}

/// Records how the payments were applied and keeps the invoice about its principal:
/// `paid_minor` is the principal paid, and the invoice is `paid` only when `applied.paid_on`
/// says so. An invoice the payments no longer settle goes back to what it was before it was
/// paid: with the agency while the account is referred, disputed while a dispute is open,
/// else open.
pub async fn apply(
    conn: &mut PgConnection,
    invoice_id: i64,
    applied: Applied,
    as_of: NaiveDate,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO invoice_charges (invoice_id, fees_paid_minor, interest_paid_minor, principal_paid_minor, as_of)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (invoice_id) DO UPDATE SET fees_paid_minor = $2, interest_paid_minor = $3,
                principal_paid_minor = $4, as_of = $5, updated_at = now()",
    )
    .bind(invoice_id)
    .bind(applied.fees_paid)
    .bind(applied.interest_paid)
    .bind(applied.principal_paid)
    .bind(as_of)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE invoices i SET paid_minor = $2, paid_on = $3,
                status = CASE
                  WHEN $3::date IS NOT NULL AND i.status IN ('open', 'disputed', 'with_agency', 'autocharge') THEN 'paid'
                  WHEN $3::date IS NULL AND i.status = 'paid' THEN
                    CASE WHEN EXISTS (SELECT 1 FROM referrals r WHERE r.account_id = i.account_id AND r.closed_at IS NULL) THEN 'with_agency'
                         WHEN EXISTS (SELECT 1 FROM disputes d WHERE d.invoice_id = i.id AND d.resolved_at IS NULL) THEN 'disputed'
                         ELSE 'open' END
                  ELSE i.status END
          WHERE i.id = $1",
    )
    .bind(invoice_id)
    .bind(applied.principal_paid)
    .bind(applied.paid_on)
    .execute(conn)
    .await?;
    Ok(())
}

/// One invoice's charges as of a day.
pub struct InvoiceCharges {
    pub number: String,
    pub currency: Currency,
    pub charges: Charges,
}

/// The policy's charges on each of `invoices` as of `today` (empty when the policy charges
/// nothing, without a query).
pub async fn charges_for(
    tx: &mut PgConnection,
    policy: &LateFeePolicy,
    invoices: &[super::ledger::Invoice],
    today: NaiveDate,
) -> Result<Vec<InvoiceCharges>, sqlx::Error> {
    if !policy.is_active() || invoices.is_empty() {
        return Ok(vec![]);
    }
    let ids: Vec<i64> = invoices.iter().map(|i| i.id).collect();
    let mut pays: HashMap<i64, Vec<(NaiveDate, i64)>> = HashMap::new();
    for (id, day, amount) in payments_of(tx, &ids).await? {
        pays.entry(id).or_default().push((day, amount));
    }
    let mut waived: HashMap<i64, Waived> = HashMap::new();
    for w in waivers(tx, &ids).await? {
        let e = waived.entry(w.invoice_id).or_default();
        match w.part.as_str() {
            "fees" => e.fees = true,
            _ => e.interest = true,
        }
    }
    let mut out = Vec::new();
    for inv in invoices {
        let Ok(cur) = Currency::parse(&inv.currency) else {
            continue;
        };
        let payments = pays.remove(&inv.id).unwrap_or_default();
        let facts = InvoiceFacts {
            amount_minor: inv.amount_minor,
            currency: cur,
            due: inv.due,
            payments: &payments,
            waived: waived.get(&inv.id).copied().unwrap_or_default(),
        };
        out.push(InvoiceCharges {
            number: inv.number.clone(),
            currency: cur,
            charges: late_fee::charges(policy, &facts, today),
        });
    }
    Ok(out)
}

/// Total fees and interest outstanding, per currency.
pub fn totals(charges: &[InvoiceCharges]) -> Vec<crate::domain::money::Money> {
    let mut by: Vec<crate::domain::money::Money> = Vec::new();
    for c in charges {
        let owed = c.charges.fees_due().max(0) + c.charges.interest_due().max(0);
        if owed == 0 {
            continue;
        }
        match by.iter_mut().find(|m| m.currency == c.currency) {
            Some(m) => m.minor += owed,
            None => by.push(crate::domain::money::Money::new(owed, c.currency)),
        }
    }
    by
}

/// An overdue invoice with its account's code.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CodedInvoice {
    pub code: String,
    #[sqlx(flatten)]
    pub invoice: super::ledger::Invoice,
}

/// One page of `overdue_invoices`, whole accounts at a time: those of the first `accounts`
/// accounts after account id `after` that have an overdue invoice and an unpaid balance (the
/// digest's accounts), ordered the same way. The digest walks the portfolio in these pages so
/// it never holds every overdue invoice.
pub async fn overdue_invoices_page(
    conn: &mut PgConnection,
    as_of: NaiveDate,
    after: i64,
    accounts: i64,
) -> Result<Vec<CodedInvoice>, sqlx::Error> {
    sqlx::query_as(
        "WITH page AS (
            SELECT account_id FROM invoices
             WHERE status IN ('open', 'disputed', 'with_agency') AND account_id > $2
             GROUP BY account_id
            HAVING sum(amount_minor - paid_minor) > 0 AND min(due) < $1
             ORDER BY account_id LIMIT $3)
         SELECT a.code, i.id, i.account_id, i.number, i.issued, i.due, i.amount_minor, i.paid_minor,
                i.currency, i.status
           FROM page JOIN invoices i ON i.account_id = page.account_id JOIN accounts a ON a.id = page.account_id
          WHERE i.status IN ('open', 'disputed', 'with_agency') AND i.due < $1
          ORDER BY i.account_id, i.due, i.number",
    )
    .bind(as_of)
    .bind(after)
    .bind(accounts)
    .fetch_all(conn)
    .await
}
