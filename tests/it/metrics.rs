//! `ar metrics` and `dunbot metrics` on a small ledger whose figures are worked out by hand
//! below: from the console, the command line (JSON), Slack (real slack-morphism against the
//! fake) and Discord (real serenity against the fake's gateway).
use crate::support::*;
use dunbot::domain::roles::Role;
use serde_json::{Value, json};

const CUSTOMERS: &str = "account,name,email,phone,currency,timezone,owner,do_not_contact
ALFA-001,Alfa Inc,ap@alfa.example,,USD,UTC,maria,no
BETA-001,Beta LLC,ap@beta.example,,USD,UTC,tom,no
EURO-001,Euro GmbH,ap@euro.example,,EUR,Europe/Berlin,priya,no
";

const INVOICES: &str = "account,invoice,issued,due,amount,currency
ALFA-001,INV-A1,2026-09-10,2026-10-10,1000.00,USD
ALFA-001,INV-A2,2026-10-05,2026-11-04,2000.00,USD
BETA-001,INV-B1,2026-10-15,2026-11-14,3000.00,USD
BETA-001,INV-B2,2026-08-01,2026-08-31,500.00,USD
BETA-001,INV-B3,2026-09-15,2026-10-15,4000.00,USD
EURO-001,INV-E1,2026-10-10,2026-10-20,800.00,EUR
";

/// A1's second payment lands in November: October's closing AR must still hold it.
const PAYMENTS: &str = "account,invoice,paid_on,amount,currency,reference
ALFA-001,INV-A1,2026-09-20,400.00,USD,P1
ALFA-001,INV-A1,2026-11-05,600.00,USD,P2
ALFA-001,INV-A2,2026-10-20,2000.00,USD,P3
";

async fn exec(app: &dunbot::app::App, sql: &str) {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&app.store.pool)
        .await
        .unwrap();
}

/// The ledger above, two reminders sent through `ar remind` (before the payments were known),
/// one automatic text and one account-wide email queued earlier, and three resolved promises.
async fn ledger() -> (dunbot::app::App, TestDb) {
    let (app, db) = app().await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    let maria = person("maria", Role::Collector);
    for (id, text, day) in [
        ("r-a2", "remind INV-A2", "2026-10-15"),
        ("r-b3", "remind INV-B3", "2026-10-16"),
    ] {
        let o = run_as(&app, &maria, id, text, d(day)).await;
        assert!(!o.refused, "{}", o.reply.text);
    }
    seed(&app, CUSTOMERS, INVOICES, Some(PAYMENTS)).await;
    exec(
        &app,
        "WITH o AS (INSERT INTO outbox (kind, dedupe_key, payload) VALUES ('sms', 'sms-b2', '{}') RETURNING id)
         INSERT INTO reminders (account_id, invoice_id, tone, stage, queued_by, queued_at, outbox_id)
         SELECT a.id, i.id, 'firm', 'late_fee_warning', 'dunbot', '2026-10-12 09:00+00', o.id
           FROM accounts a JOIN invoices i ON i.account_id = a.id, o WHERE i.number = 'INV-B2'",
    )
    .await;
    exec(
        &app,
        "WITH o AS (INSERT INTO outbox (kind, dedupe_key, payload) VALUES ('email', 'mail-euro', '{}') RETURNING id)
         INSERT INTO reminders (account_id, invoice_id, tone, stage, queued_by, queued_at, outbox_id)
         SELECT a.id, NULL, 'friendly', 'day_after_reminder', 'dunbot', '2026-10-21 09:00+00', o.id
           FROM accounts a, o WHERE a.code = 'EURO-001'",
    )
    .await;
    exec(
        &app,
        "INSERT INTO promises (account_id, amount_minor, currency, promised_for, logged_on, logged_by, status, resolved_at)
         SELECT a.id, p.amount, 'USD', p.promised::date, p.logged::date, p.who, p.status, p.resolved::timestamptz
           FROM (VALUES ('ALFA-001', 200000, '2026-10-20', '2026-10-14', 'maria', 'kept', '2026-10-20 12:00+00'),
                        ('BETA-001', 100000, '2026-10-22', '2026-10-16', 'tom', 'broken', '2026-10-25 12:00+00'),
                        ('BETA-001', 100000, '2026-10-30', '2026-10-26', 'tom', 'kept', '2026-11-02 12:00+00'))
                AS p(code, amount, promised, logged, who, status, resolved)
           JOIN accounts a ON a.code = p.code",
    )
    .await;
    (app, db)
}

/// `dunbot metrics ARGS --json` against the test database.
fn cli(db: &TestDb, args: &[&str]) -> Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dunbot"))
        .arg("metrics")
        .args(args)
        .arg("--json")
        .env("DATABASE_URL", &db.url)
        .env_remove("DUNBOT_TIMEZONE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn currency<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["currencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["currency"] == code)
        .unwrap_or_else(|| panic!("no {code} in {report:#}"))
}

#[tokio::test]
async fn october_worked_by_hand_from_the_command_line_as_of_late_november() {
    let (app, db) = ledger().await;
    let r = cli(&db, &["2026-10", "--as-of", "2026-11-23"]);
    assert_eq!(
        r["period"],
        json!({"start": "2026-10-01", "end": "2026-10-31", "label": "2026-10"})
    );
    assert_eq!(r["days"], 31);
    // USD, in dollars. AR on Sep 30: A1 1000 − 400 paid = 600, B2 500, B3 4000 → 5100.
    // Sales in October: A2 2000 + B1 3000 = 5000.
    // AR on Oct 31: A1 600 (its November payment does not count yet), A2 0, B1 3000, B2 500,
    // B3 4000 → 8100, of which current (due on or after Oct 31): B1 3000.
    // DSO = 8100 / 5000 × 31 = 50.22 → 50.2. Best possible = 3000 / 5000 × 31 = 18.6.
    // ADD = 5100 / 5000 × 31 = 31.62 → 31.6.
    // Countback: October (31 days) sold 5000 → 3100 left; September (30 days) sold A1 1000 +
    // B3 4000 = 5000 → 30 × 3100 / 5000 = 18.6; 31 + 18.6 = 49.6.
    // CEI = (5100 + 5000 − 8100) / (5100 + 5000 − 3000) × 100 = 2000 / 7100 × 100 = 28.17 → 28.2.
    // Current = 3000 / 8100 × 100 = 37.04 → 37.0.
    assert_eq!(
        currency(&r, "USD"),
        &json!({
            "currency": "USD", "ar_begin_minor": 510000, "ar_end_minor": 810000,
            "ar_current_minor": 300000, "credit_sales_minor": 500000, "written_off_minor": 0,
            "dso": "50.2", "countback_dso": "49.6", "best_possible_dso": "18.6",
            "average_days_delinquent": "31.6", "cei": "28.2", "percent_current": "37.0",
        })
    );
    // EUR: E1 800 issued Oct 10, due Oct 20, unpaid. DSO = 800 / 800 × 31 = 31.0; nothing
    // current, so best possible 0.0 and ADD 31.0; CEI = (0 + 800 − 800) / (0 + 800 − 0) = 0.0;
    // countback: October's sales cover the AR exactly → 31.0.
    assert_eq!(
        currency(&r, "EUR"),
        &json!({
            "currency": "EUR", "ar_begin_minor": 0, "ar_end_minor": 80000,
            "ar_current_minor": 0, "credit_sales_minor": 80000, "written_off_minor": 0,
            "dso": "31.0", "countback_dso": "31.0", "best_possible_dso": "0.0",
            "average_days_delinquent": "31.0", "cei": "0.0", "percent_current": "0.0",
        })
    );
    // Promises resolved in October: maria's kept (Oct 20), tom's broken (Oct 25); tom's kept
    // one resolved Nov 2 is outside. 1 / (1 + 1) = 50.0.
    assert_eq!(
        r["promises"],
        json!({"kept": 1, "broken": 1, "kept_rate": "50.0"})
    );
    // Reminders: A2 (Oct 15, paid Oct 20: within 7 days) and B3 (Oct 16, unpaid) by hand and
    // email; B2's automatic text; EURO's account-wide email covers E1 (unpaid).
    assert_eq!(
        r["reminders"],
        json!([
            {"stage": "day_after_reminder", "channel": "email", "reminded": 1, "paid_within_7_days": 0, "rate": "0.0"},
            {"stage": "late_fee_warning", "channel": "sms", "reminded": 1, "paid_within_7_days": 0, "rate": "0.0"},
            {"stage": "manual", "channel": "email", "reminded": 2, "paid_within_7_days": 1, "rate": "50.0"},
        ])
    );
    // Collected in October: maria's A2 2000.00; tom nothing, but one broken promise.
    assert_eq!(
        r["collectors"],
        json!([
            {"collector": "maria", "collected": [{"currency": "USD", "minor": 200000}],
             "promises": {"kept": 1, "broken": 0, "kept_rate": "100.0"}},
            {"collector": "tom", "collected": [],
             "promises": {"kept": 0, "broken": 1, "kept_rate": "0.0"}},
        ])
    );

    // B2's 500 written off on Oct 25: it leaves October's closing AR (7600) but was not
    // collected. DSO = 7600 / 5000 × 31 = 47.12 → 47.1; ADD = 4600 / 5000 × 31 = 28.52 → 28.5;
    // countback 31 + 30 × 2600 / 5000 = 46.6; CEI = (5100 + 5000 − 7600 − 500) / 7100 = 28.2
    // still. E1 voided: nothing was owed, so EUR has no figures at all.
    exec(
        &app,
        "INSERT INTO invoice_changes (invoice_id, kind, before_minor, status_before, status_after, actor, at)
         SELECT id, 'write_off', amount_minor, 'open', 'written_off', 'test', '2026-10-25 12:00+00'
           FROM invoices WHERE number = 'INV-B2'",
    )
    .await;
    exec(
        &app,
        "UPDATE invoices SET status = CASE number WHEN 'INV-B2' THEN 'written_off' ELSE 'void' END
          WHERE number IN ('INV-B2', 'INV-E1')",
    )
    .await;
    let r = cli(&db, &["2026-10", "--as-of", "2026-11-23"]);
    let usd = currency(&r, "USD");
    assert_eq!(
        (
            &usd["ar_begin_minor"],
            &usd["ar_end_minor"],
            &usd["written_off_minor"]
        ),
        (&json!(510000), &json!(760000), &json!(50000))
    );
    assert_eq!(
        (
            &usd["dso"],
            &usd["average_days_delinquent"],
            &usd["countback_dso"],
            &usd["cei"]
        ),
        (
            &json!("47.1"),
            &json!("28.5"),
            &json!("46.6"),
            &json!("28.2")
        )
    );
    assert_eq!(r["currencies"].as_array().unwrap().len(), 1, "{r:#}");
}

#[tokio::test]
async fn as_of_mid_october_the_ledger_is_rebuilt_to_that_day() {
    let (_app, db) = ledger().await;
    // 30 days to Oct 16: Sep 17 – Oct 16. AR on Sep 16: A1 1000 (its 400 came Sep 20), B2 500,
    // B3 4000 (issued Sep 15) → 5500. Sales: A2 2000 + B1 3000 = 5000. AR on Oct 16: A1 600,
    // A2 2000 (paid Oct 20, later), B1 3000, B2 500, B3 4000 → 10100; current (due ≥ Oct 16):
    // A2, B1 → 5000. DSO = 10100 / 5000 × 30 = 60.6. CEI = (5500 + 5000 − 10100) /
    // (5500 + 5000 − 5000) × 100 = 400 / 5500 × 100 = 7.27 → 7.3.
    let r = cli(&db, &["30d", "--as-of", "2026-10-16"]);
    assert_eq!(
        (&r["period"]["start"], &r["period"]["end"], &r["days"]),
        (&json!("2026-09-17"), &json!("2026-10-16"), &json!(30))
    );
    let usd = currency(&r, "USD");
    assert_eq!(
        (
            &usd["ar_begin_minor"],
            &usd["ar_end_minor"],
            &usd["ar_current_minor"],
            &usd["credit_sales_minor"]
        ),
        (
            &json!(550000),
            &json!(1010000),
            &json!(500000),
            &json!(500000)
        )
    );
    assert_eq!((&usd["dso"], &usd["cei"]), (&json!("60.6"), &json!("7.3")));
    // Nothing resolved, nothing collected yet in that window but A1's 400 on Sep 20.
    assert_eq!(r["promises"]["kept_rate"], Value::Null);
    assert_eq!(
        r["collectors"],
        json!([{"collector": "maria", "collected": [{"currency": "USD", "minor": 40000}],
                "promises": {"kept": 0, "broken": 0, "kept_rate": null}}])
    );
}

#[tokio::test]
async fn the_console_card_and_refusals() {
    let (app, _db) = ledger().await;
    let maria = person("maria", Role::Collector);
    let o = run_as(&app, &maria, "m-1", "metrics 2026-10", today()).await;
    assert!(!o.refused, "{}", o.reply.text);
    // Fields as `label: value` lines, the rest as it is written.
    let text: String = o
        .reply
        .blocks
        .iter()
        .map(|b| match b {
            dunbot::message::Block::Fields { fields } => {
                fields.iter().map(|(k, v)| format!("{k}: {v}\n")).collect()
            }
            dunbot::message::Block::Text { text } | dunbot::message::Block::Header { text } => {
                format!("{}\n", text.replace('*', ""))
            }
            _ => String::new(),
        })
        .collect();
    for want in [
        "Metrics, 2026-10 (2026-10-01 to 2026-10-31, 31 days)",
        "DSO: 50.2 days",
        "Countback DSO: 49.6 days",
        "CEI: 28.2%",
        "Current: 37.0%",
        "CEI: 0.0%",
        "1 kept, 1 broken · kept rate 50.0%",
        "manual by email: 1 of 2 invoices paid within 7 days (50.0%)",
        "late fee warning by sms: 0 of 1",
        "maria: collected USD 2,000.00 · promises 1 kept, 0 broken",
    ] {
        assert!(text.contains(want), "{want:?} missing from:\n{text}");
    }
    // A view: logged as viewed, nothing else written.
    let viewed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM actions WHERE kind = 'metrics' AND outcome = 'ok' AND details->>'viewed' = 'true'",
    )
    .fetch_one(&app.store.pool)
    .await
    .unwrap();
    assert_eq!(viewed, 1);

    // A period nobody can read: told the forms, nothing but the refusal written.
    let before = count(&app, "actions").await;
    let o = run_as(&app, &maria, "m-2", "metrics fortnight", today()).await;
    assert!(o.refused);
    assert!(
        o.reply.text.contains("`fortnight` is not a period")
            && o.reply.text.contains("2026-Q3 (a quarter)")
            && o.reply.text.contains("metrics 90d"),
        "{}",
        o.reply.text
    );
    assert_eq!(count(&app, "actions").await, before + 1);
    let o = run_as(&app, &maria, "m-3", "metrics 2027-01", today()).await;
    assert!(
        o.refused && o.reply.text.contains("has not begun"),
        "{}",
        o.reply.text
    );
    // Only collectors and managers.
    let agency = dunbot::app::Actor {
        agency: Some("Northwind".into()),
        ..person("nw", Role::Agency)
    };
    let o = run_as(&app, &agency, "m-4", "metrics", today()).await;
    assert!(
        o.refused && o.reply.text.contains("Only a collector or manager"),
        "{}",
        o.reply.text
    );
    // The default period: the last 30 days to today.
    let o = run_as(&app, &maria, "m-5", "metrics", today()).await;
    assert!(
        o.reply
            .text
            .contains("last 30 days to 2026-11-23 (2026-10-25 to 2026-11-23, 30 days)"),
        "{}",
        o.reply.text
    );
}

#[tokio::test]
async fn slack_collector_reads_metrics_through_slack_morphism() {
    use crate::slack_support::bot;
    // The shared Slack ledger (support::INVOICES, no payments), October as of Nov 23.
    // USD: AR Sep 30 = INV-2001 5000; sales 1250 + 400 + 900 = 2550; AR Oct 31 = 7550, current
    // 1250 + 400 + 900 (due Oct 31 or later) = 2550. DSO = 7550 / 2550 × 31 = 91.78 → 91.8;
    // current 2550 / 7550 = 33.77 → 33.8%. EUR: nothing open before or collected: CEI =
    // 0 / (0 + 2000 − 2000) has nothing to divide by → n/a.
    let bot = bot().await;
    let r = bot
        .command("UCOLL", "metrics 2026-10 2026-11-23", "met1")
        .await;
    assert_eq!(r.status(), 200);
    bot.fake
        .wait_until("the metrics reply", |f| {
            !f.calls("response:met1").is_empty()
        })
        .await;
    let body = bot.fake.calls("response:met1")[0].body.to_string();
    for want in [
        "91.8 days",
        "33.8%",
        "n/a",
        "Countback DSO",
        "2026-10-01 to 2026-10-31",
    ] {
        assert!(body.contains(want), "{want:?} missing from {body}");
    }
    // A bad period is answered privately with the forms.
    bot.command("UCOLL", "metrics lastweek", "met2").await;
    bot.fake
        .wait_until("the refusal", |f| !f.calls("response:met2").is_empty())
        .await;
    let refusal = &bot.fake.calls("response:met2")[0].body;
    assert_eq!(refusal["response_type"], "ephemeral");
    assert!(
        refusal.to_string().contains("`lastweek` is not a period"),
        "{refusal}"
    );
}

#[tokio::test]
async fn discord_collector_reads_metrics_through_serenity() {
    use crate::discord_gateway::Running;
    use crate::fake_discord::*;
    let r = Running::start(|_| {}).await;
    r.fake.interaction(slash(
        6001,
        CHANNEL,
        member(111, "carla", &[COLLECTOR_ROLE]),
        "ar",
        "metrics",
        &[("period", json!("2026-10")), ("as_of", json!("2026-11-23"))],
    ));
    // The same ledger and figures as the Slack test above.
    let calls = r
        .fake
        .wait_for("the metrics answer", |c| {
            c.iter()
                .any(|c| c.path.contains("6001") && c.body.to_string().contains("91.8 days"))
        })
        .await;
    let answer = calls
        .iter()
        .find(|c| c.path.contains("6001"))
        .unwrap()
        .body
        .to_string();
    assert!(
        answer.contains("33.8%") && answer.contains("Countback DSO"),
        "{answer}"
    );
}
