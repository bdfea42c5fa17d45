//! Metrics on 100,000 customers and 1,000,000 invoices (with payments, write-offs, voids,
//! promises and reminders), next to one hand-written SQL query computing the same figures
//! (DSO, countback, best possible DSO, ADD, CEI, percent current, promise-kept rate, reminder
//! response, collected per collector) in the same run on the same rows. Both answers are
//! compared, then both times and their ratio are printed.
//!
//! `cargo bench --bench metrics` (BENCH_CUSTOMERS / BENCH_INVOICES scale it down). Uses a
//! scratch database on TEST_DATABASE_URL's server, dropped at the end.
mod support;
use dunbot::app::metrics::{Report, compute};
use dunbot::config::Settings;
use dunbot::domain::metrics::parse_period;
use dunbot::store::Store;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::env_usize;

/// The figures in one statement: the same rebuild of AR as of a date, countback by window
/// sums over the 24 months, and the promise, reminder and collector tallies, as JSON.
const BASELINE: &str = "
WITH pay AS (
    SELECT invoice_id, coalesce(sum(amount_minor) FILTER (WHERE paid_on < $1), 0) AS before_start,
           sum(amount_minor) AS by_end
      FROM payments WHERE invoice_id IS NOT NULL AND paid_on <= $2 GROUP BY invoice_id
), wo AS (
    SELECT invoice_id, min((at AT TIME ZONE 'UTC')::date) AS day FROM invoice_changes
     WHERE kind = 'write_off' AND invoice_id IS NOT NULL GROUP BY invoice_id
), m AS (
    SELECT k, (($2::date + 1) - make_interval(months => k + 1))::date AS first,
              (($2::date + 1) - make_interval(months => k))::date AS after
      FROM generate_series(0, 23) k
), bal AS (
    SELECT i.currency::text AS currency, i.issued, i.due, i.amount_minor, w.day AS wday,
           24 - width_bucket(i.issued, (SELECT array_agg(first ORDER BY first) FROM m)) AS k,
           greatest(i.amount_minor - coalesce(p.before_start, 0), 0) AS ob,
           greatest(i.amount_minor - coalesce(p.by_end, 0), 0) AS oe
      FROM invoices i LEFT JOIN pay p ON p.invoice_id = i.id LEFT JOIN wo w ON w.invoice_id = i.id
     WHERE i.issued <= $2 AND i.status <> 'void'
), per AS (
    SELECT currency, k,
           sum(ob) FILTER (WHERE issued < $1 AND (wday IS NULL OR wday >= $1)) AS b,
           sum(oe) FILTER (WHERE wday IS NULL OR wday > $2) AS a,
           sum(oe) FILTER (WHERE (wday IS NULL OR wday > $2) AND due >= $2) AS c,
           sum(amount_minor) FILTER (WHERE issued >= $1) AS s,
           sum(oe) FILTER (WHERE wday BETWEEN $1 AND $2) AS w,
           sum(amount_minor) AS ms
      FROM bal GROUP BY currency, k
), cur AS (
    SELECT currency, coalesce(sum(b), 0) AS b, coalesce(sum(a), 0) AS a, coalesce(sum(c), 0) AS c,
           coalesce(sum(s), 0) AS s, coalesce(sum(w), 0) AS w
      FROM per GROUP BY currency
), walk AS (
    SELECT c.currency, m.k, c.a, m.after - m.first AS days, coalesce(p.ms, 0) AS ms,
           c.a - coalesce(sum(p.ms) OVER w - coalesce(p.ms, 0), 0) AS left_,
           coalesce(sum(m.after - m.first) OVER w - (m.after - m.first), 0) AS before_days,
           sum(m.after - m.first) OVER (PARTITION BY c.currency) AS all_days
      FROM cur c CROSS JOIN m LEFT JOIN per p ON p.currency = c.currency AND p.k = m.k
    WINDOW w AS (PARTITION BY c.currency ORDER BY m.k)
), cb AS (
    SELECT DISTINCT ON (currency) currency,
           CASE WHEN left_ <= 0 THEN round(before_days::numeric, 1)::text
                ELSE round(before_days + days * left_::numeric / ms, 1)::text END AS countback
      FROM walk WHERE left_ <= 0 OR left_ < ms ORDER BY currency, k
), figures AS (
    SELECT cur.*, coalesce(cb.countback, '>' || (SELECT max(all_days) FROM walk x WHERE x.currency = cur.currency)) AS countback,
           ($2::date - $1::date + 1) AS days
      FROM cur LEFT JOIN cb USING (currency)
), pr AS (
    SELECT coalesce(a.owner, '') AS owner, count(*) FILTER (WHERE p.status = 'kept') AS kept,
           count(*) FILTER (WHERE p.status = 'broken') AS broken
      FROM promises p JOIN accounts a ON a.id = p.account_id
     WHERE p.status IN ('kept', 'broken') AND (p.resolved_at AT TIME ZONE 'UTC')::date BETWEEN $1 AND $2
     GROUP BY 1
), got AS (
    SELECT coalesce(a.owner, '') AS owner, p.currency::text AS currency, sum(p.amount_minor) AS minor
      FROM payments p JOIN accounts a ON a.id = p.account_id
     WHERE p.paid_on BETWEEN $1 AND $2 GROUP BY 1, 2
), rem AS (
    SELECT r.account_id, r.invoice_id, coalesce(r.stage, 'manual') AS stage,
           coalesce(o.kind, 'none') AS channel, (r.queued_at AT TIME ZONE 'UTC')::date AS day
      FROM reminders r LEFT JOIN outbox o ON o.id = r.outbox_id
     WHERE (r.queued_at AT TIME ZONE 'UTC')::date BETWEEN $1 AND $2
), about AS (
    SELECT r.stage, r.channel, r.day, i.id, i.account_id, i.amount_minor
      FROM rem r JOIN invoices i ON i.id = r.invoice_id
    UNION ALL
    SELECT r.stage, r.channel, r.day, i.id, i.account_id, i.amount_minor
      FROM rem r JOIN invoices i ON r.invoice_id IS NULL AND i.account_id = r.account_id
                                AND i.issued <= r.day AND i.status <> 'void'
), resp AS (
    SELECT x.stage, x.channel, count(*) AS reminded,
           count(*) FILTER (WHERE (SELECT coalesce(sum(amount_minor), 0) FROM payments pa
                                    WHERE pa.account_id = x.account_id AND pa.invoice_id = x.id
                                      AND pa.paid_on <= least(x.day + 7, $2)) >= x.amount_minor) AS paid
      FROM about x
     WHERE (SELECT coalesce(sum(amount_minor), 0) FROM payments pa
             WHERE pa.account_id = x.account_id AND pa.invoice_id = x.id AND pa.paid_on < x.day) < x.amount_minor
     GROUP BY 1, 2
)
SELECT json_build_object(
  'currencies', (SELECT json_agg(json_build_object(
       'currency', currency, 'ar_begin_minor', b, 'ar_end_minor', a, 'ar_current_minor', c,
       'credit_sales_minor', s, 'written_off_minor', w,
       'dso', round(a * days::numeric / nullif(s, 0), 1)::text,
       'countback_dso', countback,
       'best_possible_dso', round(c * days::numeric / nullif(s, 0), 1)::text,
       'average_days_delinquent', round((a - c) * days::numeric / nullif(s, 0), 1)::text,
       'cei', round((b + s - a - w) * 100::numeric / nullif(b + s - c, 0), 1)::text,
       'percent_current', round(c * 100::numeric / nullif(a, 0), 1)::text) ORDER BY currency)
     FROM figures),
  'promises', (SELECT json_build_object('kept', coalesce(sum(kept), 0), 'broken', coalesce(sum(broken), 0)) FROM pr),
  'reminders', (SELECT json_agg(json_build_object('stage', stage, 'channel', channel,
       'reminded', reminded, 'paid_within_7_days', paid,
       'rate', round(paid * 100::numeric / nullif(reminded, 0), 1)::text) ORDER BY stage, channel) FROM resp),
  'collected', (SELECT json_agg(json_build_object('collector', owner, 'currency', currency, 'minor', minor)
       ORDER BY owner, currency) FROM got))";

const SETUP: &[&str] = &[
    "INSERT INTO accounts (code, name, currency, time_zone, owner)
     SELECT 'C-' || lpad(g::text, 6, '0'), 'Customer ' || g, CASE WHEN g % 5 = 0 THEN 'EUR' ELSE 'USD' END,
            'UTC', (ARRAY['maria','tom','priya','li'])[1 + g % 4]
       FROM generate_series(1, $1) g",
    // Issued over the last 400 days, due 30 days later; every 1000th voided, every 997th
    // written off 40 days after it was issued.
    "INSERT INTO invoices (account_id, number, issued, due, amount_minor, currency, status)
     SELECT a, 'INV-' || g, d, d + 30, 10000 + (g * 37) % 90000,
            CASE WHEN a % 5 = 0 THEN 'EUR' ELSE 'USD' END,
            CASE WHEN g % 1000 = 0 THEN 'void' WHEN g % 997 = 0 THEN 'written_off' ELSE 'open' END
       FROM (SELECT g, 1 + g % $1 AS a, DATE '2026-11-23' - (g % 400)::int AS d
               FROM generate_series(1, $2) g) s",
    "INSERT INTO invoice_changes (invoice_id, kind, before_minor, status_before, status_after, actor, at)
     SELECT id, 'write_off', amount_minor, 'open', 'written_off', 'bench', ((issued + 40)::timestamp AT TIME ZONE 'UTC')
       FROM invoices WHERE status = 'written_off'",
    // Two in three invoices paid: in full 5 to 54 days after issue, or half then half again.
    "INSERT INTO payments (account_id, invoice_id, paid_on, amount_minor, currency, reference)
     SELECT account_id, id, issued + (5 + id % 50)::int, CASE WHEN id % 6 = 0 THEN amount_minor / 2 ELSE amount_minor END,
            currency, 'P-' || id
       FROM invoices WHERE id % 3 <> 0 AND issued + (5 + id % 50)::int <= DATE '2026-11-23'",
    "INSERT INTO payments (account_id, invoice_id, paid_on, amount_minor, currency, reference)
     SELECT account_id, id, issued + 60, amount_minor - amount_minor / 2, currency, 'Q-' || id
       FROM invoices WHERE id % 6 = 0 AND id % 12 = 0 AND issued + 60 <= DATE '2026-11-23'",
    "INSERT INTO promises (account_id, amount_minor, currency, promised_for, logged_on, logged_by, status, resolved_at)
     SELECT account_id, amount_minor, currency, issued + 40, issued + 33, 'bench',
            CASE WHEN id % 3 = 0 THEN 'broken' ELSE 'kept' END, ((issued + 42)::timestamp AT TIME ZONE 'UTC')
       FROM invoices WHERE id % 20 = 0 AND issued + 42 <= DATE '2026-11-23'",
    "INSERT INTO outbox (kind, dedupe_key, payload, status)
     SELECT CASE WHEN id % 4 = 0 THEN 'sms' ELSE 'email' END, 'bench-' || id, '{}', 'sent'
       FROM invoices WHERE id % 10 = 0",
    "INSERT INTO reminders (account_id, invoice_id, tone, stage, queued_by, queued_at, outbox_id)
     SELECT i.account_id, CASE WHEN i.id % 50 = 0 THEN NULL ELSE i.id END, 'friendly',
            (ARRAY['friendly_reminder','day_after_reminder','late_fee_warning', NULL])[1 + i.id % 4],
            'bench', ((i.due + 1)::timestamp AT TIME ZONE 'UTC'), o.id
       FROM invoices i JOIN outbox o ON o.dedupe_key = 'bench-' || i.id",
    "ANALYZE",
];

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The report as the baseline shapes it, to compare the two answers figure by figure.
fn comparable(r: &Report) -> Value {
    let v = serde_json::to_value(r).unwrap();
    let (mut kept, mut broken) = (0, 0);
    let mut collected = vec![];
    for c in &r.collectors {
        kept += c.promises.kept;
        broken += c.promises.broken;
        for m in &c.collected {
            collected
                .push(json!({"collector": c.collector, "currency": m.currency, "minor": m.minor}));
        }
    }
    json!({
        "currencies": v["currencies"], "promises": {"kept": kept, "broken": broken},
        "reminders": v["reminders"], "collected": collected,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--list") {
        return Ok(());
    }
    let customers = env_usize("BENCH_CUSTOMERS", 100_000);
    let invoices = env_usize("BENCH_INVOICES", 1_000_000);
    support::with_scratch_db("dunbot_bench_metrics", |url| async move {
        run(&url, customers, invoices).await
    })
    .await
}

async fn run(url: &str, customers: usize, invoices: usize) -> anyhow::Result<()> {
    let store = Store::connect(url).await?;
    store.migrate().await?;
    println!("dunbot metrics benchmark: {customers} customers, {invoices} invoices");
    let t = Instant::now();
    for (i, sql) in SETUP.iter().enumerate() {
        let q = sqlx::query(sqlx::AssertSqlSafe(*sql));
        let q = match i {
            0 => q.bind(customers as i64),
            1 => q.bind(customers as i64).bind(invoices as i64),
            _ => q,
        };
        q.execute(&store.pool).await?;
    }
    println!("  ledger built in {:.1?}", t.elapsed());

    let settings = Settings {
        instance_id: "bench".into(),
        ..Settings::default()
    };
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let mut conn = store.pool.acquire().await?;
    for name in ["90d", "2026-10"] {
        let period = parse_period(Some(name), today).map_err(anyhow::Error::msg)?;
        let (mut ours, mut base) = (vec![], vec![]);
        let (mut report, mut expected) = (None, Value::Null);
        for _ in 0..3 {
            let t = Instant::now();
            report = Some(compute(&mut conn, &settings, period.clone()).await?);
            ours.push(t.elapsed());
            let t = Instant::now();
            let v: Value = sqlx::query_scalar(BASELINE)
                .bind(period.start)
                .bind(period.end)
                .fetch_one(&mut *conn)
                .await?;
            base.push(t.elapsed());
            expected = v;
        }
        let got = comparable(report.as_ref().unwrap());
        anyhow::ensure!(
            got["currencies"] == expected["currencies"]
                && got["promises"] == expected["promises"]
                && got["reminders"] == expected["reminders"]
                && got["collected"] == expected["collected"],
            "metrics and the SQL baseline disagree:\nmetrics  {got:#}\nbaseline {expected:#}"
        );
        let (o, b) = (median(ours), median(base));
        println!(
            "  {name:<8} metrics {o:>10.1?}   one SQL query {b:>10.1?}   ratio {:.2}x   (figures agree; median of 3)",
            o.as_secs_f64() / b.as_secs_f64()
        );
    }
    Ok(())
}
