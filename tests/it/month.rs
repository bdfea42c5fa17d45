//! A month simulated day by day (issue 12's "done when"): the app's clock moves forward one
//! day at a time and each day runs as `dunbot serve` would run it — the automatic reminders at
//! 07:00 (`autoplan::run`), the digest at 08:00 (`scheduler::tick`, which resolves promises and
//! payment plans first) — then what people and customers do that day (`script`).
//!
//! On the books: KEPT-001 keeps a three-installment plan to the end; BROKE-001 pays its first
//! installment and misses the second, so its plan breaks: the managers are told naming the
//! owner, the digest lists it with Re-plan / call / Escalate, and chasing resumes at once on
//! the repeat-delinquent plan (its firm notice goes out on the repeat plan's day, not the
//! first-time plan's).
//!
//! CALL-001 asks to be called back on Monday 30 November: that morning's digest lists it under
//! the call-backs due, and once the call is logged the next digest does not. TEXT-001 consented
//! to texts; a reminder by text goes out on 24 November, the customer answers STOP the next day
//! (through the same handler `POST /twilio/sms` runs), and from then on no text may be queued.
//!
//! To add a scenario (call-backs, a text STOP): add the accounts to `CUSTOMERS_M` /
//! `INVOICES_M`, the day's doings as `Step`s in `script` (add a `Step` variant for a new kind
//! of doing), and the checks after the loop, reading the day's log in `Month::days`.
use crate::support::*;
use chrono::{Days, NaiveDate};
use dunbot::app::App;
use dunbot::app::autoplan::{self, RunReport};
use dunbot::clock::Clock;
use dunbot::domain::roles::Role;
use dunbot::edges::scheduler;
use dunbot::store::schedule;

const CUSTOMERS_M: &str =
    "account,name,email,phone,currency,timezone,owner,do_not_contact,sms_consent
KEPT-001,Kept Co,ap@kept.example,,USD,UTC,maria,no,
BROKE-001,Broke Inc,ap@broke.example,,USD,UTC,tom,no,
CALL-001,Call Ltd,ap@call.example,+15558675301,USD,UTC,maria,no,
TEXT-001,Text Corp,ap@text.example,+15558675310,USD,UTC,tom,no,yes
";

/// KEPT-001 is a day late on the first day; BROKE-001 falls due a week in.
const INVOICES_M: &str = "account,invoice,issued,due,amount,currency
KEPT-001,INV-K1,2026-10-25,2026-11-24,1200.00,USD
BROKE-001,INV-B1,2026-11-01,2026-12-01,900.00,USD
CALL-001,INV-C1,2026-10-01,2026-10-31,500.00,USD
TEXT-001,INV-T1,2026-10-05,2026-11-04,250.00,USD
";

/// The first day: Monday 2026-11-23 (`support::today`).
fn first_day() -> NaiveDate {
    today()
}

/// One thing a person or a customer does during a day.
enum Step {
    /// A command typed by someone.
    Run {
        who: Role,
        name: &'static str,
        text: &'static str,
    },
    /// A text from a customer's phone, as Twilio posts it to `POST /twilio/sms`.
    Text {
        from: &'static str,
        body: &'static str,
        sid: &'static str,
    },
    /// A payment reaching the ledger (as the payments import records it).
    Pay {
        code: &'static str,
        invoice: &'static str,
        amount: &'static str,
        reference: &'static str,
    },
}

/// What happens on `day`, after the morning's automatic steps.
fn script(day: NaiveDate) -> Vec<Step> {
    use Step::*;
    match day.format("%Y-%m-%d").to_string().as_str() {
        "2026-11-23" => vec![
            Run {
                who: Role::Collector,
                name: "maria",
                text: "plan KEPT-001 1200 3 weekly 2026-11-27 agreed on the phone",
            },
            Run {
                who: Role::Collector,
                name: "tom",
                text: "plan BROKE-001 900 3 weekly 2026-11-27",
            },
        ],
        "2026-11-24" => vec![
            Run {
                who: Role::Collector,
                name: "maria",
                text: "call CALL-001 call back 2026-11-30 after their board meets",
            },
            Run {
                who: Role::Collector,
                name: "tom",
                text: "remind TEXT-001 sms --force",
            },
        ],
        "2026-11-25" => vec![Text {
            from: "+15558675310",
            body: "Stop",
            sid: "SM-month-stop",
        }],
        "2026-11-30" => vec![Run {
            who: Role::Collector,
            name: "maria",
            text: "call CALL-001 reached will pay Friday",
        }],
        "2026-12-01" => vec![Run {
            who: Role::Collector,
            name: "tom",
            text: "remind TEXT-001 sms --force",
        }],
        "2026-11-26" => vec![Pay {
            code: "KEPT-001",
            invoice: "INV-K1",
            amount: "400.00",
            reference: "K1",
        }],
        "2026-11-27" => vec![Pay {
            code: "BROKE-001",
            invoice: "INV-B1",
            amount: "300.00",
            reference: "B1",
        }],
        "2026-12-03" => vec![
            // On track: a reminder by hand is refused (the check is after the loop).
            Run {
                who: Role::Collector,
                name: "tom",
                text: "remind BROKE-001",
            },
        ],
        "2026-12-04" => vec![Pay {
            code: "KEPT-001",
            invoice: "INV-K1",
            amount: "400.00",
            reference: "K2",
        }],
        // BROKE-001's second installment (Fri 4 Dec) is never paid; its grace ends Tue 8 Dec.
        "2026-12-10" => vec![Pay {
            code: "KEPT-001",
            invoice: "INV-K1",
            amount: "400.00",
            reference: "K3",
        }],
        _ => vec![],
    }
}

/// What one simulated day did.
struct Day {
    date: NaiveDate,
    /// The automatic reminders' run (business days only).
    autoplan: Option<RunReport>,
    /// The digest posted that morning, as its outbox payload's message (JSON text).
    digest: Option<String>,
    /// Replies to the day's commands: `(text typed, refused, reply)`.
    replies: Vec<(String, bool, String)>,
}

struct Month {
    app: App,
    _db: TestDb,
    days: Vec<Day>,
}

impl Month {
    async fn new() -> Month {
        let db = TestDb::new().await;
        let mut app = App::new(settings(), db.store.clone());
        app.clock = Clock::Fixed(at(first_day(), 6));
        seed(&app, CUSTOMERS_M, INVOICES_M, None).await;
        // The team's digest, every business day at 08:00 UTC, subscribed the day before.
        let mut conn = app.store.pool.acquire().await.unwrap();
        let sub =
            schedule::subscribe_if_none(&mut conn, "console:team", "0 0 8 * * Mon-Fri", "UTC")
                .await
                .unwrap()
                .unwrap();
        schedule::set_subscription_created(&mut conn, sub, at(first_day() - Days::new(1), 12))
            .await
            .unwrap();
        drop(conn);
        Month {
            app,
            _db: db,
            days: vec![],
        }
    }

    /// Runs one day as the scheduler and the people would.
    async fn run_day(&mut self, date: NaiveDate) {
        let app = &mut self.app;
        let mut day = Day {
            date,
            autoplan: None,
            digest: None,
            replies: vec![],
        };
        if app.settings.calendar.is_business_day(date) {
            app.clock = Clock::Fixed(at(date, 7));
            day.autoplan = Some(autoplan::run(app, date, at(date, 7)).await.unwrap());
        }
        app.clock = Clock::Fixed(at(date, 8));
        let posted = scheduler::tick(app, at(date, 8)).await.unwrap();
        if !posted.is_empty() {
            let message: Option<serde_json::Value> = sqlx::query_scalar(
                "SELECT payload->'message' FROM outbox WHERE dedupe_key LIKE 'digest:%:' || $1",
            )
            .bind(date.to_string())
            .fetch_optional(&app.store.pool)
            .await
            .unwrap();
            day.digest = message.map(|m| m.to_string());
        }
        app.clock = Clock::Fixed(at(date, 12));
        for (i, step) in script(date).into_iter().enumerate() {
            match step {
                Step::Run { who, name, text } => {
                    let out =
                        run_as(app, &person(name, who), &format!("{date}:{i}"), text, date).await;
                    day.replies
                        .push((text.to_string(), out.refused, out.reply.text));
                }
                Step::Text { from, body, sid } => {
                    let to = dunbot::app::texts::inbound(app, from, body, sid, at(date, 12))
                        .await
                        .unwrap();
                    day.replies
                        .push((format!("text {body}"), false, to.join(",")));
                }
                Step::Pay {
                    code,
                    invoice,
                    amount,
                    reference,
                } => {
                    crate::plans::pay(app, code, invoice, &date.to_string(), amount, reference)
                        .await;
                }
            }
        }
        self.days.push(day);
    }

    fn day(&self, date: &str) -> &Day {
        self.days
            .iter()
            .find(|d| d.date == d_(date))
            .expect("simulated day")
    }

    /// The automatic reminders queued for `code`: `(date queued, stage)`.
    async fn automatic_reminders(&self, code: &str) -> Vec<(NaiveDate, String)> {
        sqlx::query_as(
            "SELECT (r.queued_at AT TIME ZONE 'UTC')::date, coalesce(r.stage, '') FROM reminders r
               JOIN accounts a ON a.id = r.account_id WHERE a.code = $1 AND r.queued_by = 'dunbot' ORDER BY r.id",
        )
        .bind(code)
        .fetch_all(&self.app.store.pool)
        .await
        .unwrap()
    }
}

fn d_(s: &str) -> NaiveDate {
    d(s)
}

#[tokio::test]
async fn a_month_day_by_day_with_plans_kept_and_broken_call_backs_and_a_stop() {
    let mut m = Month::new().await;
    let mut date = first_day();
    while date <= first_day() + Days::new(30) {
        m.run_day(date).await;
        date = date + Days::new(1);
    }
    let app = &m.app;

    // Every command the script typed did what it meant to.
    let setup = &m.day("2026-11-23").replies;
    assert!(setup.iter().all(|(_, refused, _)| !refused), "{setup:?}");
    let (_, refused, reply) = &m.day("2026-12-03").replies[0];
    assert!(
        *refused && reply.contains("paused"),
        "on track, not chased: {reply}"
    );

    // KEPT-001: each installment kept as it was paid, the plan completed, never chased.
    assert_eq!(
        crate::plans::plan_status(app, "KEPT-001").await.as_deref(),
        Some("kept")
    );
    assert_eq!(
        crate::plans::installments(app, "KEPT-001").await,
        [
            ("kept".to_string(), 1, 40_000),
            ("kept".to_string(), 2, 80_000),
            ("kept".to_string(), 3, 120_000)
        ]
    );
    assert!(m.automatic_reminders("KEPT-001").await.is_empty());
    let news: Vec<String> = sqlx::query_scalar(
        "SELECT payload->'message'->>'text' FROM outbox WHERE dedupe_key LIKE 'payment:%:team:console:team' ORDER BY id",
    )
    .fetch_all(&app.store.pool)
    .await
    .unwrap();
    assert_eq!(
        news,
        [
            "KEPT-001 paid USD 400.00 — installment 1 of 3 of its payment plan",
            "BROKE-001 paid USD 300.00 — installment 1 of 3 of its payment plan",
            "KEPT-001 paid USD 400.00 — installment 2 of 3 of its payment plan",
            "KEPT-001 paid USD 400.00 — installment 3 of 3 of its payment plan: payment plan completed",
        ]
    );

    // BROKE-001: not chased while on track (its friendly and day-after reminders were held
    // back), broken the morning after its grace, managers told naming the owner.
    assert_eq!(
        crate::plans::plan_status(app, "BROKE-001").await.as_deref(),
        Some("broken")
    );
    let broken_at: Vec<(String, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
        "SELECT kind, at FROM actions WHERE kind = 'plan_broken' AND subject = 'BROKE-001'",
    )
    .fetch_all(&app.store.pool)
    .await
    .unwrap();
    assert_eq!(broken_at.len(), 1);
    assert_eq!(broken_at[0].1, at(d("2026-12-09"), 8));
    let ping: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT payload FROM outbox WHERE dedupe_key LIKE 'plan:%:broken:managers'",
    )
    .fetch_all(&app.store.pool)
    .await
    .unwrap();
    assert_eq!(ping.len(), 1);
    assert_eq!(ping[0]["channel"], "console:managers");
    let text = ping[0]["message"]["text"].as_str().unwrap();
    assert!(
        text.contains("BROKE-001") && text.contains("Owner: tom"),
        "{text}"
    );
    assert_eq!(ping[0]["message"]["mentions"][0]["type"], "managers");

    // The digest: no broken plan until the morning it broke, then one line with its buttons,
    // listed once (the next digest has moved on).
    for day in &m.days {
        let Some(digest) = &day.digest else { continue };
        let listed = digest.contains("Broken payment plans");
        assert_eq!(
            listed,
            day.date == d("2026-12-09"),
            "{}: {digest}",
            day.date
        );
    }
    let broke_day = m
        .day("2026-12-09")
        .digest
        .as_ref()
        .expect("a digest on Wed 9 Dec");
    for command in [
        "plan BROKE-001 600.00",
        "call BROKE-001",
        "flag BROKE-001",
        "refer BROKE-001",
    ] {
        assert!(
            broke_day.contains(&format!("\"{command}\"")),
            "{command}: {broke_day}"
        );
    }
    assert!(
        broke_day.contains("missed installment 2 of 3"),
        "{broke_day}"
    );

    // Chasing resumed at once on the repeat plan: the firm notice went out by itself on
    // Fri 11 Dec (8 business days after the due date, the repeat plan's day; the first-time
    // plan's is 15), and nothing automatic went out while the plan was on track.
    let auto = m.automatic_reminders("BROKE-001").await;
    assert_eq!(
        auto.first(),
        Some(&(d("2026-12-11"), "firm_notice".to_string())),
        "{auto:?}"
    );
    assert!(
        auto.iter().all(|(day, _)| *day >= d_("2026-12-09")),
        "{auto:?}"
    );
    // The other overdue accounts were chased by themselves meanwhile: the runs did run.
    let queued: u32 = m
        .days
        .iter()
        .filter_map(|d| d.autoplan.as_ref())
        .map(|r| r.queued)
        .sum();
    assert!(queued as usize > auto.len(), "{queued}");
    // CALL-001: listed among the call-backs on the day asked for, and not once it was made.
    for day in &m.days {
        let Some(digest) = &day.digest else { continue };
        let listed = digest.contains("Call-backs due today") && digest.contains("CALL-001");
        assert_eq!(
            listed,
            day.date == d("2026-11-30"),
            "{}: {digest}",
            day.date
        );
    }
    let call_day = &m.day("2026-11-24").replies;
    assert!(
        call_day.iter().all(|(_, refused, _)| !refused),
        "{call_day:?}"
    );

    // TEXT-001: one text queued with consent, STOP turned consent off, a later text refused
    // (even forced), and the timeline tells the story.
    assert_eq!(m.day("2026-11-25").replies[0].2, "TEXT-001");
    let (_, refused, reply) = &m.day("2026-12-01").replies[0];
    assert!(*refused && reply.contains("STOP"), "{reply}");
    let texts: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE kind = 'sms'")
        .fetch_one(&app.store.pool)
        .await
        .unwrap();
    assert_eq!(texts, 1);
    let history = run_as(
        app,
        &person("tom", Role::Collector),
        "history",
        "history TEXT-001",
        d("2026-12-23"),
    )
    .await;
    let history = serde_json::to_string(&history.reply).unwrap();
    assert!(history.contains("Texts turned off (STOP)"), "{history}");

    let card = run_as(
        app,
        &person("tom", Role::Collector),
        "card",
        "account BROKE-001",
        d("2026-12-23"),
    )
    .await;
    let card = serde_json::to_string(&card.reply).unwrap();
    assert!(
        card.contains("repeat delinquent") && card.contains("broken at installment 2"),
        "{card}"
    );
}
