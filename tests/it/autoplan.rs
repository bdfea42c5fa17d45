//! The automatic plan over a simulated month: reminders fall on the business days the policy
//! names (dates worked out by hand below), never on weekends or holidays, never to
//! do-not-contact, disputed, promised or held accounts; a rerun queues nothing twice.
use crate::support::*;
use chrono::{Datelike, NaiveDate, Weekday};
use dunbot::app::App;
use dunbot::app::autoplan;
use dunbot::config::Settings;
use dunbot::domain::calendar::Calendar;
use dunbot::domain::roles::Role;

const CUSTOMERS: &str = "account,name,email,phone,currency,timezone,owner,do_not_contact
FIRST-001,First Time Inc,ap@first.example,,USD,America/New_York,maria,no
REP-001,Repeat Co,ap@repeat.example,,USD,Europe/Berlin,maria,no
WKND-001,Weekend Due Ltd,ap@wknd.example,,EUR,Europe/Berlin,tom,no
HOLDU-001,Held Until Ltd,ap@holdu.example,,USD,UTC,tom,no
DNC-001,Quiet Please plc,ap@dnc.example,,USD,UTC,tom,yes
DISP-001,Disputing GmbH,ap@disp.example,,EUR,Europe/Berlin,priya,no
PROM-001,Promised LLC,ap@prom.example,,USD,UTC,priya,no
HOLD-001,Held Corp,ap@hold.example,,USD,UTC,priya,no
";

/// Due Friday 2026-12-04 unless noted; REP-001 paid an earlier invoice late (repeat plan).
const INVOICES: &str = "account,invoice,issued,due,amount,currency
FIRST-001,F-1,2026-11-04,2026-12-04,1000.00,USD
REP-001,R-0,2026-09-01,2026-10-01,300.00,USD
REP-001,R-1,2026-11-14,2026-12-14,700.00,USD
WKND-001,W-1,2026-11-19,2026-12-19,450.00,EUR
HOLDU-001,HU-1,2026-11-04,2026-12-04,800.00,USD
DNC-001,N-1,2026-11-04,2026-12-04,900.00,USD
DISP-001,D-1,2026-11-04,2026-12-04,500.00,EUR
DISP-001,D-2,2026-11-04,2026-12-04,250.00,EUR
PROM-001,P-1,2026-11-04,2026-12-04,600.00,USD
HOLD-001,H-1,2026-11-04,2026-12-04,650.00,USD
";

const PAYMENTS: &str = "account,invoice,paid_on,amount,currency,reference
REP-001,R-0,2026-10-15,300.00,USD,PAY-R0
";

fn holidays() -> Vec<NaiveDate> {
    vec![d("2026-12-24"), d("2026-12-25")]
}

async fn portfolio() -> (App, TestDb) {
    let db = TestDb::new().await;
    let app = App::new(
        Settings {
            calendar: Calendar::new(holidays()),
            ..settings()
        },
        db.store.clone(),
    );
    seed(&app, CUSTOMERS, INVOICES, Some(PAYMENTS)).await;
    let boss = person("priya", Role::Manager);
    for (id, text) in [
        ("s1", "dispute D-1 goods arrived damaged"),
        ("s2", "promise PROM-001 600 2026-12-30"),
        ("s3", "hold HOLD-001"),
        ("s4", "hold HOLDU-001 2026-12-08"),
    ] {
        let out = run_as(&app, &boss, id, text, d("2026-11-30")).await;
        assert!(!out.refused, "{text}: {}", out.reply.text);
    }
    (app, db)
}

async fn automatic_reminders(app: &App) -> Vec<(String, String, NaiveDate)> {
    let mut v: Vec<(String, String, NaiveDate)> = sqlx::query_as(
        "SELECT a.code, r.stage, (r.queued_at AT TIME ZONE 'UTC')::date
           FROM reminders r JOIN accounts a ON a.id = r.account_id
          WHERE r.queued_by = 'dunbot' ORDER BY 3, 1",
    )
    .fetch_all(&app.store.pool)
    .await
    .unwrap();
    v.sort_by(|a, b| (a.2, &a.0).cmp(&(b.2, &b.0)));
    v
}

#[tokio::test]
async fn a_month_of_automatic_reminders_follows_the_policy() {
    let (app, _db) = portfolio().await;
    let month: Vec<NaiveDate> = d("2026-12-01")
        .iter_days()
        .take_while(|x| *x <= d("2026-12-31"))
        .collect();
    // Two replicas on the first day at once: the reminders are queued once between them.
    let first_day = month[0];
    let app2 = App::new(
        Settings {
            calendar: Calendar::new(holidays()),
            ..settings()
        },
        app.store.clone(),
    );
    let (a, b) = tokio::join!(
        autoplan::run(&app, first_day, at(first_day, 6)),
        autoplan::run(&app2, first_day, at(first_day, 6))
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.queued + b.queued, 1, "{a:?} {b:?}");
    for &day in &month {
        autoplan::run(&app, day, at(day, 6)).await.unwrap();
    }
    let got = automatic_reminders(&app).await;
    let mut want: Vec<(String, String, NaiveDate)> = [
        // First-time plan, due Fri 12-04: -3, +1, +5, (+10 inquiry: a person), +15 — the
        // firm notice skips the 24th/25th holidays and the weekend.
        ("FIRST-001", "friendly_reminder", "2026-12-01"),
        ("FIRST-001", "day_after_reminder", "2026-12-07"),
        ("FIRST-001", "late_fee_warning", "2026-12-11"),
        ("FIRST-001", "firm_notice", "2026-12-29"),
        // Repeat plan, due Mon 12-14: -3, +1, +3, (+5 inquiry), +8.
        ("REP-001", "friendly_reminder", "2026-12-09"),
        ("REP-001", "day_after_reminder", "2026-12-15"),
        ("REP-001", "late_fee_warning", "2026-12-17"),
        ("REP-001", "firm_notice", "2026-12-28"),
        // Due Saturday 12-19: the day after is Monday, +5 skips the holidays.
        ("WKND-001", "friendly_reminder", "2026-12-16"),
        ("WKND-001", "day_after_reminder", "2026-12-21"),
        ("WKND-001", "late_fee_warning", "2026-12-29"),
        // Held through 12-08: the first two steps are not sent, the later ones are.
        ("HOLDU-001", "late_fee_warning", "2026-12-11"),
        ("HOLDU-001", "firm_notice", "2026-12-29"),
    ]
    .iter()
    .map(|(a, s, day)| (a.to_string(), s.to_string(), d(day)))
    .collect();
    want.sort_by(|a, b| (a.2, &a.0).cmp(&(b.2, &b.0)));
    assert_eq!(got, want);
    for (code, _, day) in &got {
        assert!(
            !matches!(day.weekday(), Weekday::Sat | Weekday::Sun),
            "{code} on a weekend: {day}"
        );
        assert!(!holidays().contains(day), "{code} on a holiday: {day}");
        assert!(
            !["DNC-001", "DISP-001", "PROM-001", "HOLD-001"].contains(&code.as_str()),
            "{code} must get nothing"
        );
    }
    // Each is an action by dunbot itself, with a queued email for the window's opening.
    let by_dunbot: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM actions WHERE actor_platform = 'system' AND actor_id = 'dunbot' AND kind = 'remind' AND outcome = 'ok'",
    )
    .fetch_one(&app.store.pool)
    .await
    .unwrap();
    assert_eq!(by_dunbot, want.len() as i64);
    let emails: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE kind = 'email'")
        .fetch_one(&app.store.pool)
        .await
        .unwrap();
    assert_eq!(emails, want.len() as i64);
    // FIRST-001 is in New York: queued at 06:00 UTC, it waits for 09:00 there (14:00 UTC).
    let first: chrono::DateTime<chrono::Utc> = sqlx::query_scalar(
        "SELECT next_attempt_at FROM outbox WHERE dedupe_key = 'reminder:auto:FIRST-001:friendly_reminder:2026-12-01'",
    )
    .fetch_one(&app.store.pool)
    .await
    .unwrap();
    assert_eq!(first, at(d("2026-12-01"), 14));

    // A rerun (or a second replica) of every day queues nothing more.
    for &day in &month {
        let r = autoplan::run(&app, day, at(day, 9)).await.unwrap();
        assert_eq!(r.queued, 0, "{day}: {r:?}");
    }
    assert_eq!(automatic_reminders(&app).await, want);
}

#[tokio::test]
async fn preview_hold_and_unhold() {
    let (app, _db) = portfolio().await;
    let maria = person("maria", Role::Collector);
    let out = run_as(&app, &maria, "p1", "preview", d("2026-11-30")).await;
    assert!(!out.refused, "{}", out.reply.text);
    let text = &out.reply.text;
    assert!(text.contains("Tue 2026-12-01"), "{text}");
    assert!(
        text.contains(
            "FIRST-001 First Time Inc — Friendly reminder (friendly tone), USD 1,000.00: F-1"
        ),
        "{text}"
    );
    for (code, why) in [
        ("DNC-001", "do-not-contact"),
        ("DISP-001", "disputed invoice"),
        ("PROM-001", "promised to pay"),
        ("HOLD-001", "on hold"),
        ("HOLDU-001", "on hold until 2026-12-08"),
    ] {
        assert!(
            text.lines()
                .any(|l| l.contains("not sent") && l.contains(code) && l.contains(why)),
            "{code}: {text}"
        );
    }
    // Preview writes nothing but its action row.
    assert_eq!(sends(&app).await, 0);
    let out = run_as(&app, &maria, "p2", "preview 2026-12-05", d("2026-11-30")).await;
    assert!(
        out.reply.text.contains("not a business day"),
        "{}",
        out.reply.text
    );

    // Lift HOLD-001's hold: it is previewed again.
    let out = run_as(&app, &maria, "h1", "unhold HOLD-001", d("2026-11-30")).await;
    assert!(!out.refused, "{}", out.reply.text);
    let out = run_as(&app, &maria, "p3", "preview 2026-12-01", d("2026-11-30")).await;
    assert!(
        out.reply
            .text
            .contains("• HOLD-001 Held Corp — Friendly reminder"),
        "{}",
        out.reply.text
    );
    // Refusals: a past date, and lifting a hold that is not there.
    let out = run_as(
        &app,
        &maria,
        "h2",
        "hold FIRST-001 2026-11-01",
        d("2026-11-30"),
    )
    .await;
    assert!(
        out.refused && out.reply.text.contains("in the past"),
        "{}",
        out.reply.text
    );
    let out = run_as(&app, &maria, "h3", "unhold FIRST-001", d("2026-11-30")).await;
    assert!(
        out.refused && out.reply.text.contains("not on hold"),
        "{}",
        out.reply.text
    );
    let out = run_as(&app, &maria, "h4", "hold FIRST-001 +14d", d("2026-11-30")).await;
    assert!(
        !out.refused && out.reply.text.contains("on hold until 2026-12-14"),
        "{}",
        out.reply.text
    );
}
