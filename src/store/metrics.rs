//! The sums behind the metrics, aggregated in Postgres per currency (and per countback month,
//! per collector, per reminder stage and channel), so the Rust side handles a few rows whatever
//! the size of the ledger. The formulas themselves are `domain::metrics`.
//!
//! AR at a date is rebuilt from the ledger, not read from today's status: invoices issued on or
//! before it, less payments made on or before it (an invoice's balance never below zero). A
//! voided invoice never counts (nothing was owed); amount corrections and credit notes count at
//! the invoice's current amount (the sale net of them); a written-off invoice leaves AR on the
//! day it was written off (company time zone) and that open balance is reported as written off.
use crate::domain::metrics::{COUNTBACK_MONTHS, LedgerSums, MonthSales, Period, countback_starts};
use chrono::NaiveDate;
use sqlx::PgConnection;
use std::collections::BTreeMap;

const LEDGER_SUMS: &str = "
WITH pay AS (
    SELECT invoice_id,
           coalesce(sum(amount_minor) FILTER (WHERE paid_on < $1), 0) AS before_start,
           sum(amount_minor) AS by_end
      FROM payments
     WHERE invoice_id IS NOT NULL AND paid_on <= $2
     GROUP BY invoice_id
), wo AS (
    SELECT invoice_id, min((at AT TIME ZONE $3)::date) AS day
      FROM invoice_changes
     WHERE kind = 'write_off' AND invoice_id IS NOT NULL
     GROUP BY invoice_id
), bal AS (
    SELECT i.currency, i.issued, i.due, i.amount_minor, w.day AS written_off_on,
           greatest(i.amount_minor - coalesce(p.before_start, 0), 0) AS open_before,
           greatest(i.amount_minor - coalesce(p.by_end, 0), 0) AS open_at_end
      FROM invoices i
      LEFT JOIN pay p ON p.invoice_id = i.id
      LEFT JOIN wo w ON w.invoice_id = i.id
     WHERE i.issued <= $2 AND i.status <> 'void'
)
SELECT currency::text,
       ($4::int - width_bucket(issued, $5::date[]))::int4 AS month,
       coalesce(sum(open_before) FILTER (WHERE issued < $1 AND (written_off_on IS NULL OR written_off_on >= $1)), 0)::int8,
       coalesce(sum(open_at_end) FILTER (WHERE written_off_on IS NULL OR written_off_on > $2), 0)::int8,
       coalesce(sum(open_at_end) FILTER (WHERE (written_off_on IS NULL OR written_off_on > $2) AND due >= $2), 0)::int8,
       coalesce(sum(amount_minor) FILTER (WHERE issued >= $1), 0)::int8,
       coalesce(sum(open_at_end) FILTER (WHERE written_off_on BETWEEN $1 AND $2), 0)::int8,
       coalesce(sum(amount_minor), 0)::int8
  FROM bal
 GROUP BY 1, 2";

type SumsRow = (String, i32, i64, i64, i64, i64, i64, i64);

/// AR, sales and write-offs per currency for `p`, with the sales of each countback month.
pub async fn ledger_sums(
    conn: &mut PgConnection,
    p: &Period,
    tz: &str,
) -> Result<BTreeMap<String, LedgerSums>, sqlx::Error> {
    let starts = countback_starts(p.end);
    let ascending: Vec<NaiveDate> = starts.iter().rev().copied().collect();
    let rows: Vec<SumsRow> = sqlx::query_as(LEDGER_SUMS)
        .bind(p.start)
        .bind(p.end)
        .bind(tz)
        .bind(COUNTBACK_MONTHS as i32)
        .bind(&ascending)
        .fetch_all(conn)
        .await?;
    let mut ends = vec![p.end + chrono::Days::new(1)];
    ends.extend(starts.iter().copied());
    let empty: Vec<MonthSales> = starts
        .iter()
        .zip(&ends)
        .map(|(s, e)| MonthSales {
            days: (*e - *s).num_days(),
            sales: 0,
        })
        .collect();
    let mut out: BTreeMap<String, LedgerSums> = BTreeMap::new();
    for (cur, month, begin, end, current, sales, written_off, issued) in rows {
        let s = out.entry(cur).or_insert_with(|| LedgerSums {
            months: empty.clone(),
            ..LedgerSums::default()
        });
        s.ar_begin += begin;
        s.ar_end += end;
        s.ar_current += current;
        s.sales += sales;
        s.written_off += written_off;
        if let Some(m) = s.months.get_mut(month as usize) {
            m.sales += issued;
        }
    }
    Ok(out)
}

/// Promises kept and broken per collector (the account's owner, `""` when unassigned), of those
/// resolved in the period.
pub async fn promises(
    conn: &mut PgConnection,
    p: &Period,
    tz: &str,
) -> Result<Vec<(String, i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT coalesce(a.owner, ''),
                count(*) FILTER (WHERE pr.status = 'kept'),
                count(*) FILTER (WHERE pr.status = 'broken')
           FROM promises pr JOIN accounts a ON a.id = pr.account_id
          WHERE pr.status IN ('kept', 'broken')
            AND pr.resolved_at >= ($1::date::timestamp AT TIME ZONE $3)
            AND pr.resolved_at < (($2::date + 1)::timestamp AT TIME ZONE $3)
          GROUP BY 1 ORDER BY 1",
    )
    .bind(p.start)
    .bind(p.end)
    .bind(tz)
    .fetch_all(conn)
    .await
}

/// Money received in the period per collector (the account's owner) and currency.
pub async fn collected(
    conn: &mut PgConnection,
    p: &Period,
) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT coalesce(a.owner, ''), pa.currency::text, sum(pa.amount_minor)::int8
           FROM payments pa JOIN accounts a ON a.id = pa.account_id
          WHERE pa.paid_on BETWEEN $1 AND $2
          GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .bind(p.start)
    .bind(p.end)
    .fetch_all(conn)
    .await
}

/// Reminders queued in the period, per stage (`manual` when a person sent it) and channel (the
/// outbox row's kind: `email`, `sms`, …): the invoices they were about that were unpaid that
/// day, and how many of those were paid in full within 7 days (by the period's end at the
/// latest). A reminder about a whole account is about each invoice it owed that day.
pub async fn reminder_response(
    conn: &mut PgConnection,
    p: &Period,
    tz: &str,
) -> Result<Vec<(String, String, i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "WITH r AS (
            SELECT r.account_id, r.invoice_id, coalesce(r.stage, 'manual') AS stage,
                   coalesce(o.kind, 'none') AS channel, (r.queued_at AT TIME ZONE $3)::date AS day
              FROM reminders r LEFT JOIN outbox o ON o.id = r.outbox_id
             WHERE r.queued_at >= ($1::date::timestamp AT TIME ZONE $3)
               AND r.queued_at < (($2::date + 1)::timestamp AT TIME ZONE $3)
         ), about AS (
            SELECT r.stage, r.channel, r.day, i.id, i.account_id, i.amount_minor
              FROM r JOIN invoices i ON i.id = r.invoice_id
            UNION ALL
            SELECT r.stage, r.channel, r.day, i.id, i.account_id, i.amount_minor
              FROM r JOIN invoices i ON i.account_id = r.account_id
             WHERE r.invoice_id IS NULL AND i.issued <= r.day AND i.status <> 'void'
         )
         SELECT x.stage, x.channel, count(*)::int8,
                count(*) FILTER (WHERE pp.upto >= x.amount_minor)::int8
           FROM about x
          CROSS JOIN LATERAL (
                SELECT coalesce(sum(pa.amount_minor) FILTER (WHERE pa.paid_on < x.day), 0) AS before,
                       coalesce(sum(pa.amount_minor) FILTER (WHERE pa.paid_on <= least(x.day + 7, $2)), 0) AS upto
                  FROM payments pa
                 WHERE pa.account_id = x.account_id AND pa.invoice_id = x.id) pp
          WHERE pp.before < x.amount_minor
          GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .bind(p.start)
    .bind(p.end)
    .bind(tz)
    .fetch_all(conn)
    .await
}
