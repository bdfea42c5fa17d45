//! Reminder emails over real SMTP to aiosmtpd on loopback: what arrives, retries while the
//! server is down, the send window, and two workers racing over 1,000 messages.
use crate::smtp_server::{Received, SmtpServer, free_port};
use crate::support::*;
use chrono::{DateTime, Utc};
use dunbot::app::App;
use dunbot::domain::calendar::Calendar;
use dunbot::domain::roles::Role;
use dunbot::domain::send_window::SendWindow;
use dunbot::notify::email::{EmailDeliverer, MailSettings, message_id};
use dunbot::notify::templates::PayInfo;
use dunbot::notify::{Deliverers, drain_once};
use dunbot::store::outbox;
use std::sync::Arc;
use std::time::Duration;

fn mail_settings(url: &str) -> MailSettings {
    MailSettings {
        smtp_url: url.into(),
        from: "Example AR <ar@example.co>".parse().unwrap(),
        reply_to: None,
        pay: PayInfo {
            company: "Example Co".into(),
            payment_link: Some("https://pay.example.co/{account}".into()),
            bank_details: Some("IBAN GB00 EXAM 1234 5678".into()),
            contact: "Maria Lopez, ar@example.co".into(),
        },
        template_dir: None,
        timeout: Duration::from_secs(2),
    }
}

fn deliverers(app: &App, url: &str, window: SendWindow) -> (Deliverers, Arc<EmailDeliverer>) {
    let d = Arc::new(
        EmailDeliverer::new(
            mail_settings(url),
            Calendar::default(),
            window,
            Some(app.store.clone()),
        )
        .unwrap(),
    );
    (Deliverers::new(3).add("email", d.clone()), d)
}

/// A worker with the default send window whose clock always says `now`.
pub(crate) fn clocked(app: &App, url: &str, now: DateTime<Utc>) -> Deliverers {
    let mut e = EmailDeliverer::new(
        mail_settings(url),
        Calendar::default(),
        SendWindow::default(),
        Some(app.store.clone()),
    )
    .unwrap();
    e.clock = Arc::new(move || now);
    Deliverers::new(3).add("email", Arc::new(e))
}

async fn ready() -> (App, TestDb) {
    let (app, db) = app().await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    (app, db)
}

pub(crate) async fn row_for(app: &App, key: &str) -> outbox::OutboxRow {
    sqlx::query_as("SELECT * FROM outbox WHERE dedupe_key = $1")
        .bind(key)
        .fetch_one(&app.store.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_reminder_arrives_with_recipient_subject_amounts_and_message_id() {
    let server = SmtpServer::start();
    let (app, _db) = ready().await;
    let maria = person("maria", Role::Collector);
    let out = run_as(&app, &maria, "rem-1", "remind ACME-001 firm", today()).await;
    assert!(!out.refused, "{}", out.reply.text);
    let (ds, _) = deliverers(&app, &server.url(), SendWindow::always());
    // The row waits for ACME's window (05:00 in New York at 10:00 UTC): make it due now.
    sqlx::query("UPDATE outbox SET next_attempt_at = now()")
        .execute(&app.store.pool)
        .await
        .unwrap();
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 1);
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 0);
    let msgs = server.messages();
    assert_eq!(msgs.len(), 1);
    let m = Received::parse(&msgs[0]);
    assert_eq!(m.header("X-RcptTo"), "ap@acme.example");
    assert!(m.header("To").contains("ap@acme.example"));
    assert_eq!(
        m.header("Subject"),
        "Payment overdue: USD 1,650.00 for Acme Corp"
    );
    let from = "ar@example.co".parse().unwrap();
    assert_eq!(m.header("Message-ID"), message_id("reminder:rem-1", &from));
    // HTML escapes `/` in the link as `&#x2f;`, which reads the same in a mail client.
    let html = m.html.replace("&#x2f;", "/");
    for body in [&m.text, &html] {
        for needle in [
            "INV-1001",
            "USD 1,250.00",
            "INV-1002",
            "USD 400.00",
            "USD 1,650.00",
            "13 November 2026",
            "https://pay.example.co/ACME-001",
            "IBAN GB00 EXAM 1234 5678",
            "Maria Lopez, ar@example.co",
        ] {
            assert!(body.contains(needle), "body lacks {needle}: {body}");
        }
    }
    let row = row_for(&app, "reminder:rem-1").await;
    assert_eq!((row.status.as_str(), row.attempts), ("sent", 1));
}

#[tokio::test]
async fn with_the_server_down_the_reminder_waits_and_goes_out_once_when_it_is_back() {
    let port = free_port();
    let url = format!("smtp://127.0.0.1:{port}");
    let (app, _db) = ready().await;
    let maria = person("maria", Role::Collector);
    let out = run_as(&app, &maria, "rem-down", "remind EURO-001", today()).await;
    assert!(!out.refused, "{}", out.reply.text);
    sqlx::query("UPDATE outbox SET next_attempt_at = now()")
        .execute(&app.store.pool)
        .await
        .unwrap();
    let (ds, _) = deliverers(&app, &url, SendWindow::always());
    let before: DateTime<Utc> = Utc::now();
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 0);
    let row = row_for(&app, "reminder:rem-down").await;
    assert_eq!(row.status, "pending");
    assert_eq!(row.attempts, 1);
    assert!(row.last_error.is_some());
    assert!(
        row.next_attempt_at > before + chrono::Duration::seconds(20),
        "backoff: {}",
        row.next_attempt_at
    );
    // Not due yet: nothing is tried.
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 0);
    assert_eq!(row_for(&app, "reminder:rem-down").await.attempts, 1);

    let server = SmtpServer::start_on(port, tempdir().join("maildir"));
    sqlx::query("UPDATE outbox SET next_attempt_at = now()")
        .execute(&app.store.pool)
        .await
        .unwrap();
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 1);
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 0);
    let msgs = server.messages();
    assert_eq!(msgs.len(), 1, "exactly one message");
    let m = Received::parse(&msgs[0]);
    assert_eq!(m.header("X-RcptTo"), "ap@euro.example");
    assert!(m.text.contains("EUR 2,000.00"), "{}", m.text);
    let row = row_for(&app, "reminder:rem-down").await;
    assert_eq!((row.status.as_str(), row.attempts), ("sent", 2));
}

#[tokio::test]
async fn outside_the_send_window_it_is_queued_for_the_opening_and_never_sent_early() {
    let server = SmtpServer::start();
    let (app, _db) = ready().await;
    let maria = person("maria", Role::Collector);
    // 10:00 UTC on Monday is 05:00 in New York: the reply says when it will go out.
    let out = run_as(&app, &maria, "rem-early", "remind ACME-001", today()).await;
    assert!(!out.refused, "{}", out.reply.text);
    assert!(
        out.reply
            .text
            .contains("will go out Mon 2026-11-23 09:00 EST"),
        "{}",
        out.reply.text
    );
    let row = row_for(&app, "reminder:rem-early").await;
    assert_eq!(row.next_attempt_at, at(today(), 14));

    // A worker whose clock says Saturday noon in New York must not send; the row moves to
    // Monday 09:00 without spending an attempt.
    let ds = clocked(&app, &server.url(), at(d("2026-11-28"), 17));
    sqlx::query("UPDATE outbox SET next_attempt_at = now()")
        .execute(&app.store.pool)
        .await
        .unwrap();
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 0);
    let row = row_for(&app, "reminder:rem-early").await;
    assert_eq!(row.status, "pending");
    assert_eq!(row.attempts, 0, "a deferral is not an attempt");
    assert_eq!(row.next_attempt_at, at(d("2026-11-30"), 14));
    assert!(server.messages().is_empty());

    // Monday 10:00 in New York: it goes.
    let ds = clocked(&app, &server.url(), at(d("2026-11-30"), 15));
    sqlx::query("UPDATE outbox SET next_attempt_at = now()")
        .execute(&app.store.pool)
        .await
        .unwrap();
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 1);
    assert_eq!(server.messages().len(), 1);
}

#[tokio::test]
async fn a_customer_marked_do_not_contact_after_queueing_gets_nothing() {
    let server = SmtpServer::start();
    let (app, _db) = ready().await;
    let maria = person("maria", Role::Collector);
    let out = run_as(&app, &maria, "rem-dnc", "remind BOLT-001", today()).await;
    assert!(!out.refused, "{}", out.reply.text);
    sqlx::query("UPDATE accounts SET do_not_contact = true WHERE code = 'BOLT-001'")
        .execute(&app.store.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE outbox SET next_attempt_at = now()")
        .execute(&app.store.pool)
        .await
        .unwrap();
    let (ds, _) = deliverers(&app, &server.url(), SendWindow::always());
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 0);
    let row = row_for(&app, "reminder:rem-dnc").await;
    assert_eq!(row.status, "dropped");
    assert_eq!(
        row.last_error.as_deref(),
        Some("not sent: marked do-not-contact since queued")
    );
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn two_workers_racing_over_a_thousand_messages_send_each_exactly_once() {
    let server = SmtpServer::start();
    let (app, _db) = ready().await;
    let n = 1000;
    {
        let mut tx = app.store.begin().await.unwrap();
        for i in 0..n {
            let payload = serde_json::json!({
                "account": "ACME-001", "customer": "Acme Corp", "time_zone": "America/New_York",
                "to": format!("ap{i}@acme.example"), "contact_name": null, "tone": "friendly",
                "currency": "USD", "invoices": [{"number": format!("INV-{i}"), "due": "2026-11-13", "balance_minor": 1000 + i}],
                "total_minor": 1000 + i, "requested_by": "test",
            });
            outbox::enqueue(&mut tx, "email", &format!("race:{i}"), &payload)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
    }
    let worker = |app: &App| {
        let store = app.store.clone();
        // Eight sends in flight per worker hide lettre's per-message round-trip stall.
        let (ds, _) = deliverers(app, &server.url(), SendWindow::always());
        let ds = ds.with_concurrency(8);
        tokio::spawn(async move {
            let mut sent = 0;
            loop {
                let k = drain_once(&store, &ds, 25).await.unwrap();
                if k == 0 {
                    return sent;
                }
                sent += k;
            }
        })
    };
    let (a, b) = (worker(&app), worker(&app));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    assert_eq!(a + b, n, "sent by the workers: {a} + {b}");
    assert!(a > 0 && b > 0, "both workers took part: {a} + {b}");
    let msgs = server.messages();
    assert_eq!(msgs.len(), n, "messages at the receiver");
    let ids: std::collections::HashSet<String> = msgs
        .iter()
        .map(|m| Received::parse(m).header("Message-ID").to_string())
        .collect();
    assert_eq!(ids.len(), n, "distinct Message-IDs");
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE status <> 'sent'")
        .fetch_one(&app.store.pool)
        .await
        .unwrap();
    assert_eq!(pending, 0);
}

/// Records payments through the CSV import, as of `today()`.
async fn pay(app: &App, rows: &str) {
    use dunbot::app::admin::{ImportKind, import_file};
    let path = tempdir().join("payments.csv");
    std::fs::write(
        &path,
        format!("account,invoice,paid_on,amount,currency,reference\n{rows}"),
    )
    .unwrap();
    import_file(app, ImportKind::Payments, &path, Some(today()))
        .await
        .unwrap()
        .unwrap_or_else(|rows| panic!("payments refused: {rows:?}"));
}

pub(crate) async fn due_now(app: &App) {
    sqlx::query("UPDATE outbox SET next_attempt_at = now() WHERE status = 'pending'")
        .execute(&app.store.pool)
        .await
        .unwrap();
}

/// dunbot's action rows about reminders it did not send: `(subject, reason)`.
async fn dropped_actions(app: &App) -> Vec<(String, String, String)> {
    sqlx::query_as(
        "SELECT actor_name, subject, details->>'reason' FROM actions
          WHERE kind = 'reminder_dropped' ORDER BY id",
    )
    .fetch_all(&app.store.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_reminder_to_a_customer_who_paid_since_it_was_queued_is_not_sent_and_says_why() {
    let server = SmtpServer::start();
    let (app, db) = ready().await;
    let maria = person("maria", Role::Collector);
    // 10:00 UTC is 05:00 in New York: queued for the window's opening.
    let out = run_as(&app, &maria, "rem-paid", "remind ACME-001", today()).await;
    assert!(!out.refused, "{}", out.reply.text);
    assert!(out.reply.text.contains("will go out"), "{}", out.reply.text);
    pay(
        &app,
        "ACME-001,INV-1001,2026-11-23,1250.00,USD,WIRE-1\nACME-001,INV-1002,2026-11-23,400.00,USD,WIRE-2\n",
    )
    .await;
    // The window opens (10:00 in New York): the worker checks the ledger and sends nothing.
    let ds = clocked(&app, &server.url(), at(today(), 15));
    due_now(&app).await;
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 0);
    assert!(
        server.messages().is_empty(),
        "no email to a customer who paid"
    );
    let row = row_for(&app, "reminder:rem-paid").await;
    assert_eq!(row.status, "dropped");
    assert_eq!(
        row.last_error.as_deref(),
        Some("not sent: paid since queued")
    );
    assert_eq!(row.attempts, 0, "a dropped reminder was never tried");
    // Nothing is offered again.
    due_now(&app).await;
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 0);
    assert_eq!(
        dropped_actions(&app).await,
        vec![(
            "dunbot".into(),
            "ACME-001".into(),
            "not sent: paid since queued".into()
        )]
    );
    // The account card shows it among the last actions.
    let card = run_as(&app, &maria, "card-1", "account ACME-001", today()).await;
    let card = serde_json::to_string(&card.reply).unwrap();
    assert!(
        card.contains("reminder_dropped ok by dunbot (system): not sent: paid since queued"),
        "{card}"
    );
    // And `dunbot outbox` lists it with its reason.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dunbot"))
        .args(["outbox", "--status", "dropped"])
        .env("DATABASE_URL", &db.url)
        .env_remove("SMTP_URL")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("dropped: 1")
            && stdout.contains("reminder:rem-paid")
            && stdout.contains("not sent: paid since queued"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn a_partial_payment_since_queueing_sends_today_s_figures() {
    let server = SmtpServer::start();
    let (app, _db) = ready().await;
    let maria = person("maria", Role::Collector);
    let out = run_as(&app, &maria, "rem-part", "remind ACME-001 firm", today()).await;
    assert!(!out.refused, "{}", out.reply.text);
    pay(&app, "ACME-001,INV-1001,2026-11-23,250.00,USD,WIRE-P\n").await;
    let ds = clocked(&app, &server.url(), at(today(), 15));
    due_now(&app).await;
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 1);
    let msgs = server.messages();
    assert_eq!(msgs.len(), 1);
    let m = Received::parse(&msgs[0]);
    // Only INV-1001 is overdue on the 23rd: the subject asks for what is left of it.
    assert_eq!(
        m.header("Subject"),
        "Payment overdue: USD 1,000.00 for Acme Corp"
    );
    for needle in ["INV-1001", "USD 1,000.00", "INV-1002", "USD 400.00"] {
        assert!(m.text.contains(needle), "body lacks {needle}: {}", m.text);
    }
    assert!(!m.text.contains("1,650.00"), "queued figures: {}", m.text);
    let row = row_for(&app, "reminder:rem-part").await;
    assert_eq!(row.status, "sent");
    assert_eq!(
        row.payload["total_minor"], 140_000,
        "the row keeps what was sent"
    );
}

#[tokio::test]
async fn a_promise_logged_after_queueing_stops_the_reminder() {
    let server = SmtpServer::start();
    let (app, _db) = ready().await;
    let maria = person("maria", Role::Collector);
    let out = run_as(&app, &maria, "rem-prom", "remind ACME-001", today()).await;
    assert!(!out.refused, "{}", out.reply.text);
    let out = run_as(
        &app,
        &maria,
        "prom-1",
        "promise ACME-001 500 2026-11-27",
        today(),
    )
    .await;
    assert!(!out.refused, "{}", out.reply.text);
    let ds = clocked(&app, &server.url(), at(today(), 15));
    due_now(&app).await;
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 0);
    assert!(server.messages().is_empty());
    let row = row_for(&app, "reminder:rem-prom").await;
    assert_eq!(row.status, "dropped");
    assert_eq!(
        row.last_error.as_deref(),
        Some(
            "not sent: a promise to pay was logged since queued (chasing paused until 2026-12-01)"
        )
    );

    // A reminder a person forced through a promise that was already there still goes.
    let out = run_as(
        &app,
        &maria,
        "rem-forced",
        "remind ACME-001 --force",
        today(),
    )
    .await;
    assert!(!out.refused, "{}", out.reply.text);
    due_now(&app).await;
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 1);
    assert_eq!(server.messages().len(), 1);
}

#[tokio::test]
async fn an_automatic_reminder_is_checked_against_the_ledger_the_same_way() {
    let server = SmtpServer::start();
    let (app, _db) = ready().await;
    // Monday: ACME's INV-1002 is due Thursday (friendly, 3 business days before) and EURO's
    // fell due on Saturday (the day-after reminder).
    let r = dunbot::app::autoplan::run(&app, today(), at(today(), 7))
        .await
        .unwrap();
    assert!(r.queued >= 2, "{r:?}");
    let acme: String =
        sqlx::query_scalar("SELECT dedupe_key FROM outbox WHERE payload->>'account' = 'ACME-001'")
            .fetch_one(&app.store.pool)
            .await
            .unwrap();
    pay(
        &app,
        "ACME-001,INV-1001,2026-11-23,1250.00,USD,ACH-1\nACME-001,INV-1002,2026-11-23,400.00,USD,ACH-2\n",
    )
    .await;
    let ds = clocked(&app, &server.url(), at(today(), 15));
    due_now(&app).await;
    let sent = drain_once(&app.store, &ds, 10).await.unwrap();
    assert_eq!(
        sent,
        r.queued as usize - 1,
        "every other automatic reminder went"
    );
    let to: Vec<String> = server
        .messages()
        .iter()
        .map(|m| Received::parse(m).header("X-RcptTo").to_string())
        .collect();
    assert!(to.contains(&"ap@euro.example".to_string()), "{to:?}");
    assert!(!to.contains(&"ap@acme.example".to_string()), "{to:?}");
    let row = row_for(&app, &acme).await;
    assert_eq!(
        (row.status.as_str(), row.last_error.as_deref()),
        ("dropped", Some("not sent: paid since queued"))
    );
    assert_eq!(
        dropped_actions(&app).await,
        vec![(
            "dunbot".into(),
            "ACME-001".into(),
            "not sent: paid since queued".into()
        )]
    );
}
