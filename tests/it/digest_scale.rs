//! A digest of any size: the digest streamed from Postgres (`digest::compute`, what `ar
//! digest`, `ar aging`, the scheduler and `dunbot digest` use) is exactly the digest of the
//! whole snapshot in memory (`digest::build` over `digest::load`), on a portfolio of a few
//! hundred accounts with ties, every invoice status, two currencies, a fee policy and a
//! broken promise, flags, referrals and reminders; and the late-fee pages cover every account with fees exactly once.
use crate::support::*;
use dunbot::app::App;
use dunbot::clock::Clock;
use dunbot::config::Settings;
use dunbot::digest;
use dunbot::domain::late_fee::LateFeePolicy;
use dunbot::domain::money::Money;
use dunbot::domain::roles::Role;
use dunbot::store::late_fees;
use std::collections::BTreeMap;

const POLICY: &str = r#"
[late_fees]
kind = "statutory"
fee = { EUR = "40.00" }
margin = "8"
reference_rates = [{ from = 2026-01-01, rate = "2.40" }, { from = 2026-07-01, rate = "2.15" }]
payment_order = ["interest", "fees", "principal"]
"#;

/// 400 generated accounts on top of the usual seed: amounts from a short list (ties in
/// priority), due dates from 200 days ago to 20 ahead, some paid in part, disputed, with an
/// agency or paid, some on hold or do-not-contact, EUR and USD.
async fn portfolio() -> (App, TestDb) {
    let db = TestDb::new().await;
    let s = Settings {
        late_fees: LateFeePolicy::from_policy_toml(POLICY).unwrap(),
        digest_top: 3,
        ..settings()
    };
    let app = App::new(s, db.store.clone()).with_clock(Clock::Fixed(at(today(), 10)));
    seed(&app, CUSTOMERS, INVOICES, None).await;
    sqlx::query(
        "INSERT INTO accounts (code, name, currency, owner, do_not_contact, held)
         SELECT 'G-' || lpad(g::text, 4, '0'), 'Generated ' || g, CASE WHEN g % 3 = 0 THEN 'EUR' ELSE 'USD' END,
                (ARRAY['maria', 'tom', NULL])[1 + g % 3], g % 17 = 0, g % 23 = 0
           FROM generate_series(1, 400) g",
    )
    .execute(&app.store.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO invoices (account_id, number, issued, due, amount_minor, currency, paid_minor, status)
         SELECT a.id, 'G-INV-' || a.id || '-' || k, due - 30, due, amount,
                a.currency, CASE WHEN k % 4 = 0 THEN amount / 2 ELSE 0 END,
                (ARRAY['open', 'open', 'open', 'disputed', 'with_agency', 'paid', 'open'])[1 + (a.id * 7 + k) % 7]
           FROM accounts a, generate_series(1, 1 + (a.id % 4)::int) k,
                LATERAL (SELECT $1::date - ((a.id * 37 + k * 53) % 220 - 20)::int AS due,
                                (ARRAY[50000, 125000, 125000, 990000])[1 + (a.id + k) % 4]::int8 AS amount) x
          WHERE a.code LIKE 'G-%'",
    )
    .bind(today())
    .execute(&app.store.pool)
    .await
    .unwrap();
    // Open flags (and a resolved one), active and closed referrals, reminders, promises broken
    // long ago (one or two): what the streamed rows join rather than look up per account.
    sqlx::raw_sql(
        "INSERT INTO agencies (name) VALUES ('Recoveries Ltd');
         INSERT INTO flags (account_id, reason, flagged_by, resolved_at)
         SELECT id, 'call them', 'boss', CASE WHEN id % 2 = 0 THEN now() END
           FROM accounts WHERE code LIKE 'G-%' AND right(code, 4)::int % 11 = 0;
         INSERT INTO referrals (account_id, agency_id, referred_by, closed_at)
         SELECT a.id, g.id, 'boss', CASE WHEN a.id % 3 = 0 THEN now() END
           FROM accounts a, agencies g WHERE a.code LIKE 'G-%' AND right(a.code, 4)::int % 13 = 0;
         INSERT INTO reminders (account_id, tone, queued_by, queued_at)
         SELECT id, 'friendly', 'maria', timestamptz '2026-11-20 09:00Z' + (k || ' hours')::interval
           FROM accounts, generate_series(0, 2) k WHERE code LIKE 'G-%' AND right(code, 4)::int % 7 = 0;
         INSERT INTO promises (account_id, amount_minor, currency, promised_for, logged_on, logged_by, status, resolved_at)
         SELECT id, 1000, currency, date '2026-10-01', date '2026-09-20', 'maria', 'broken', now()
           FROM accounts, generate_series(1, 1 + id % 2) k WHERE code LIKE 'G-%' AND right(code, 4)::int % 9 = 0",
    )
    .execute(&app.store.pool)
    .await
    .unwrap();
    // A promise logged two weeks ago for today, unpaid: due today in the digest.
    let maria = person("maria", Role::Collector);
    let done = run_as(
        &app,
        &maria,
        "p1",
        "promise G-0010 100 2026-11-23",
        d("2026-11-09"),
    )
    .await;
    assert!(!done.refused, "{}", done.reply.text);
    (app, db)
}

#[tokio::test]
async fn the_streamed_digest_equals_the_whole_snapshots_digest() {
    let (app, _db) = portfolio().await;
    let s = &app.settings;
    let mut conn = app.store.pool.acquire().await.unwrap();
    for day in [today(), d("2026-12-21")] {
        let snap = digest::load(&mut conn, s, day).await.unwrap();
        assert!(snap.accounts.len() > 300, "{}", snap.accounts.len());
        let joined = |f: fn(&dunbot::store::snapshot::AccountAgg) -> bool| {
            snap.accounts.iter().filter(|a| f(a)).count()
        };
        assert!(joined(|a| a.open_flag) > 5 && joined(|a| a.referred) > 5);
        assert!(joined(|a| a.last_reminder_at.is_some()) > 20);
        assert!(joined(|a| a.broken_promises == 1) > 5 && joined(|a| a.broken_promises == 2) > 5);
        let whole = digest::build(&snap, s, day, None, false);
        let streamed = digest::compute(&mut conn, s, day, None, false)
            .await
            .unwrap();
        assert_eq!(format!("{streamed:?}"), format!("{whole:?}"), "as of {day}");
        // Bounded: three lines a section, the rest counted.
        assert!(streamed.overdue.iter().all(|g| g.accounts.items.len() <= 3));
        assert!(streamed.overdue.iter().any(|g| g.accounts.more > 0));
        assert_eq!(streamed.late_fees.items.len(), digest::LATE_FEES_SHOWN);
        let text = digest::render(&streamed).text;
        assert!(
            text.contains(&format!(
                "late fees and interest on {} accounts",
                streamed.late_fees.total()
            )),
            "{text}"
        );
    }
}

#[tokio::test]
async fn the_late_fee_pages_cover_every_account_with_fees_once() {
    let (app, _db) = portfolio().await;
    let s = &app.settings;
    let day = d("2026-12-21");
    let mut conn = app.store.pool.acquire().await.unwrap();
    // The old way: every overdue invoice of an account with a balance at once.
    let all: Vec<dunbot::store::ledger::Invoice> = sqlx::query_as(
        "SELECT id, account_id, number, issued, due, amount_minor, paid_minor, currency, status
           FROM invoices i WHERE status IN ('open', 'disputed', 'with_agency') AND due < $1
            AND (SELECT sum(amount_minor - paid_minor) FROM invoices j
                  WHERE j.account_id = i.account_id AND j.status IN ('open', 'disputed', 'with_agency')) > 0
          ORDER BY account_id, due, number",
    )
    .bind(day)
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let charges = late_fees::charges_for(&mut conn, &s.late_fees, &all, day)
        .await
        .unwrap();
    let mut by: BTreeMap<i64, Vec<late_fees::InvoiceCharges>> = BTreeMap::new();
    for (inv, c) in all.iter().zip(charges) {
        by.entry(inv.account_id).or_default().push(c);
    }
    let want: BTreeMap<i64, Vec<Money>> = by
        .into_iter()
        .map(|(id, c)| (id, late_fees::totals(&c)))
        .filter(|(_, t)| !t.is_empty())
        .collect();
    assert!(want.len() > 20, "{}", want.len());

    // Pages of seven accounts, walked as the digest walks them.
    let (mut got, mut after, mut pages) = (BTreeMap::new(), 0, 0);
    loop {
        let page = late_fees::overdue_invoices_page(&mut conn, day, after, 7)
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = last.invoice.account_id;
        pages += 1;
        let accounts: std::collections::BTreeSet<i64> =
            page.iter().map(|c| c.invoice.account_id).collect();
        assert!(accounts.len() <= 7);
        let invoices: Vec<_> = page.iter().map(|c| c.invoice.clone()).collect();
        let charges = late_fees::charges_for(&mut conn, &s.late_fees, &invoices, day)
            .await
            .unwrap();
        let mut by: BTreeMap<i64, Vec<late_fees::InvoiceCharges>> = BTreeMap::new();
        for (inv, c) in invoices.iter().zip(charges) {
            by.entry(inv.account_id).or_default().push(c);
        }
        for (id, c) in by {
            let t = late_fees::totals(&c);
            if !t.is_empty() {
                assert!(got.insert(id, t).is_none(), "account {id} in two pages");
            }
        }
    }
    assert!(pages > 3, "{pages}");
    assert_eq!(got, want);

    // And the digest names the largest of them, counting the rest.
    let dg = digest::compute(&mut conn, s, day, None, false)
        .await
        .unwrap();
    assert_eq!(dg.late_fees.total(), want.len());
    let largest = want
        .values()
        .map(|t| t.iter().map(|m| m.minor).max().unwrap())
        .max()
        .unwrap();
    let first = &dg.late_fees.items[0].1;
    assert_eq!(first.iter().map(|m| m.minor).max().unwrap(), largest);
}
