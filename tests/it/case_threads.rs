//! A case file per account, in a thread: through the real slack-morphism and serenity clients
//! against the loopback fakes. The card is posted once per channel and account, every event
//! goes in its thread, the card is edited with the balance and stage, and the thread ids live
//! in Postgres (restarts, two workers, a deleted card).
use crate::fake_discord::FakeDiscord;
use crate::fake_slack::FakeSlack;
use crate::support::*;
use dunbot::app::case_threads::CaseThreadDeliverer;
use dunbot::app::{Actor, App, Invocation, Outcome, Platform, Source};
use dunbot::clock::Clock;
use dunbot::domain::roles::Role;
use dunbot::edges::discord::Discord;
use dunbot::edges::discord::case_thread::DiscordThreads;
use dunbot::edges::slack::api::SlackApi;
use dunbot::edges::slack::case_thread::SlackThreads;
use dunbot::notify::{Deliverers, drain_once};
use serde_json::Value;
use std::sync::Arc;

const SLACK: &str = "slack:C123";

fn maria(platform: Platform) -> Actor {
    Actor {
        platform,
        user_id: "U0MARIA".into(),
        name: "maria".into(),
        roles: vec![Role::Manager],
        agency: None,
    }
}

async fn new_app(db: &TestDb) -> App {
    App::new(settings(), db.store.clone()).with_clock(Clock::Fixed(at(today(), 10)))
}

async fn run_in(app: &App, channel: &str, id: &str, text: &str) -> Outcome {
    let platform = if channel.starts_with("discord:") {
        Platform::Discord
    } else {
        Platform::Slack
    };
    let o = app
        .handle(Invocation {
            actor: maria(platform),
            channel: channel.into(),
            request_id: id.into(),
            text: text.into(),
            source: Source::Command,
            now: at(today(), 10),
            as_of: Some(today()),
        })
        .await;
    assert!(!o.refused, "{text}: {}", o.reply.text);
    o
}

fn slack_deliverers(app: &App, fake: &FakeSlack) -> Deliverers {
    let api = SlackApi::new("xoxb-test", &fake.api_url()).unwrap();
    Deliverers::new(8).add(
        "case_event",
        Arc::new(CaseThreadDeliverer::new(
            app,
            Arc::new(SlackThreads { api }),
        )),
    )
}

async fn case_rows(app: &App) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM outbox WHERE kind = 'case_event'")
        .fetch_one(&app.store.pool)
        .await
        .unwrap()
}

fn texts(msgs: &[Value]) -> Vec<String> {
    msgs.iter()
        .map(|m| m["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

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
        .unwrap();
}

#[tokio::test]
async fn slack_one_card_per_account_and_channel_events_in_its_thread_card_kept_current() {
    let db = TestDb::new().await;
    let app = new_app(&db).await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    let fake = FakeSlack::start().await;
    let ds = slack_deliverers(&app, &fake);

    run_in(&app, SLACK, "r1", "note ACME-001 CFO is Jane Roe").await;
    // A retried request (same id) acts once and queues its event once.
    run_in(&app, SLACK, "r1", "note ACME-001 CFO is Jane Roe").await;
    assert_eq!(case_rows(&app).await, 1);
    assert_eq!(drain_once(&app.store, &ds, 50).await.unwrap(), 1);

    let cards = fake.top_level("C123");
    assert_eq!(cards.len(), 1, "one card: {cards:#?}");
    let card_ts = cards[0]["ts"].as_str().unwrap().to_string();
    let card = cards[0]["text"].as_str().unwrap();
    assert!(
        card.starts_with("ACME-001 — Acme Corp: USD 1,650.00 open"),
        "{card}"
    );
    assert_eq!(
        texts(&fake.replies(&card_ts)),
        vec!["Note by maria: CFO is Jane Roe"]
    );

    run_in(&app, SLACK, "r2", "promise ACME-001 500 2026-11-30").await;
    run_in(&app, SLACK, "r3", "call ACME-001 no answer").await;
    assert_eq!(drain_once(&app.store, &ds, 50).await.unwrap(), 2);
    assert_eq!(fake.top_level("C123").len(), 1, "still one card");
    let replies = texts(&fake.replies(&card_ts));
    assert_eq!(replies.len(), 3, "{replies:?}");
    assert_eq!(
        replies[1],
        "Promise by maria: USD 500.00 by 2026-11-30 — open"
    );
    assert!(
        replies[2].starts_with("Call by maria: no answer"),
        "{replies:?}"
    );

    // A payment: told in the thread, and the card shows what is left.
    pay(&app, "ACME-001,INV-1001,2026-11-23,1250.00,USD,W-1\n").await;
    assert!(drain_once(&app.store, &ds, 50).await.unwrap() >= 1);
    let replies = texts(&fake.replies(&card_ts));
    assert!(
        replies
            .iter()
            .any(|r| r == "Payment received: Payment of USD 1,250.00 on INV-1001 (ref W-1)"),
        "{replies:?}"
    );
    let card = &fake.top_level("C123")[0];
    assert_eq!(card["ts"], card_ts.as_str());
    assert!(
        card["text"]
            .as_str()
            .unwrap()
            .starts_with("ACME-001 — Acme Corp: USD 400.00 open"),
        "{card}"
    );
    let updates = fake.calls("chat.update");
    assert!(updates.iter().all(|u| u.body["ts"] == card_ts.as_str()));
    assert!(!updates.is_empty());

    // A restart: a new App and a new client find the card in Postgres.
    drop(ds);
    let app = new_app(&db).await;
    let ds = slack_deliverers(&app, &fake);
    run_in(&app, SLACK, "r4", "note ACME-001 after the restart").await;
    assert_eq!(drain_once(&app.store, &ds, 50).await.unwrap(), 1);
    assert_eq!(
        fake.top_level("C123").len(),
        1,
        "no second card after a restart"
    );
    assert_eq!(
        texts(&fake.replies(&card_ts)).last().unwrap(),
        "Note by maria: after the restart"
    );
    // Another account gets its own card.
    run_in(&app, SLACK, "r5", "note BOLT-001 hello").await;
    drain_once(&app.store, &ds, 50).await.unwrap();
    let cards = texts(&fake.top_level("C123"));
    assert_eq!(cards.len(), 2);
    assert!(cards[1].starts_with("BOLT-001 — Bolt Freight"), "{cards:?}");
}

#[tokio::test]
async fn two_workers_delivering_at_once_make_one_card() {
    let db = TestDb::new().await;
    let app = new_app(&db).await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    let fake = FakeSlack::start().await;
    // Slow enough that both workers are inside a delivery at once.
    fake.set_latency(std::time::Duration::from_millis(150));
    for i in 0..4 {
        run_in(
            &app,
            SLACK,
            &format!("n{i}"),
            &format!("note ACME-001 note {i}"),
        )
        .await;
    }
    // Two replicas, each with its own client and pool, each claiming one row at a time.
    let other = App::new(
        settings(),
        dunbot::store::Store::connect(&db.url).await.unwrap(),
    )
    .with_clock(Clock::Fixed(at(today(), 10)));
    let (a, b) = (
        slack_deliverers(&app, &fake),
        slack_deliverers(&other, &fake),
    );
    let mut sent = 0;
    for _ in 0..4 {
        let (x, y) = tokio::join!(
            drain_once(&app.store, &a, 1),
            drain_once(&other.store, &b, 1)
        );
        sent += x.unwrap() + y.unwrap();
    }
    assert_eq!(sent, 4);
    let cards = fake.top_level("C123");
    assert_eq!(cards.len(), 1, "one card: {cards:#?}");
    let replies = texts(&fake.replies(cards[0]["ts"].as_str().unwrap()));
    assert_eq!(replies.len(), 4, "{replies:?}");
    for i in 0..4 {
        assert!(replies.contains(&format!("Note by maria: note {i}")));
    }
}

#[tokio::test]
async fn a_deleted_slack_card_starts_a_new_one() {
    let db = TestDb::new().await;
    let app = new_app(&db).await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    let fake = FakeSlack::start().await;
    let ds = slack_deliverers(&app, &fake);
    run_in(&app, SLACK, "r1", "note ACME-001 first").await;
    drain_once(&app.store, &ds, 50).await.unwrap();
    let old = fake.top_level("C123")[0]["ts"]
        .as_str()
        .unwrap()
        .to_string();
    fake.delete_message(&old);

    run_in(&app, SLACK, "r2", "note ACME-001 second").await;
    assert_eq!(drain_once(&app.store, &ds, 50).await.unwrap(), 1);
    let cards = fake.top_level("C123");
    assert_eq!(cards.len(), 1, "{cards:#?}");
    let new = cards[0]["ts"].as_str().unwrap();
    assert_ne!(new, old);
    assert_eq!(texts(&fake.replies(new)), vec!["Note by maria: second"]);
    // The update of the deleted card was what told dunbot.
    assert!(
        fake.calls("chat.update")
            .iter()
            .any(|c| c.body["ts"] == old.as_str())
    );
    let stored: String = sqlx::query_scalar("SELECT card_id FROM case_threads")
        .fetch_one(&app.store.pool)
        .await
        .unwrap();
    assert_eq!(stored, new);
}

/// `dunbot subscribe …` as a team runs it.
fn subscribe(db: &TestDb, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dunbot"))
        .arg("subscribe")
        .args(args)
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    text
}

async fn subscription(app: &App) -> (String, bool) {
    sqlx::query_as("SELECT cron, case_threads FROM digest_subscriptions WHERE channel = $1")
        .bind(SLACK)
        .fetch_one(&app.store.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn case_threads_off_posts_no_thread_and_on_again_does() {
    let db = TestDb::new().await;
    let app = new_app(&db).await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    let fake = FakeSlack::start().await;
    let ds = slack_deliverers(&app, &fake);
    subscribe(&db, &[SLACK, "--cron", "0 9 * * Mon-Fri"]);
    let out = subscribe(&db, &[SLACK, "--case-threads", "off"]);
    assert!(out.contains("case-file threads off"), "{out}");
    // Switching threads alone keeps the channel's digest schedule.
    assert_eq!(subscription(&app).await, ("0 9 * * Mon-Fri".into(), false));

    run_in(&app, SLACK, "r1", "note ACME-001 quiet").await;
    assert_eq!(case_rows(&app).await, 0);
    assert_eq!(drain_once(&app.store, &ds, 50).await.unwrap(), 0);
    assert!(fake.calls("chat.postMessage").is_empty());

    subscribe(&db, &[SLACK, "--case-threads", "on"]);
    assert_eq!(subscription(&app).await, ("0 9 * * Mon-Fri".into(), true));
    run_in(&app, SLACK, "r2", "note ACME-001 loud").await;
    assert_eq!(drain_once(&app.store, &ds, 50).await.unwrap(), 1);
    assert_eq!(fake.top_level("C123").len(), 1);
    // A word that is neither says so and changes nothing.
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_dunbot"))
        .args(["subscribe", SLACK, "--case-threads", "maybe"])
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("possible values: on, off"));
    assert_eq!(subscription(&app).await, ("0 9 * * Mon-Fri".into(), true));
}

#[tokio::test]
async fn the_console_prints_events_and_keeps_its_thread_row() {
    let db = TestDb::new().await;
    let app = new_app(&db).await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    let ds = Deliverers::new(8).add(
        "case_event",
        Arc::new(CaseThreadDeliverer::new(
            &app,
            Arc::new(dunbot::edges::console::deliver::ConsoleThreads),
        )),
    );
    run_as(
        &app,
        &person("tom", Role::Collector),
        "c1",
        "note BOLT-001 hi",
        today(),
    )
    .await;
    assert_eq!(drain_once(&app.store, &ds, 50).await.unwrap(), 1);
    let (channel, card): (String, Option<String>) =
        sqlx::query_as("SELECT channel, card_id FROM case_threads")
            .fetch_one(&app.store.pool)
            .await
            .unwrap();
    assert_eq!(
        (channel.as_str(), card.as_deref()),
        ("console:test", Some("console"))
    );
}

#[tokio::test]
async fn a_broken_promise_offers_its_next_steps_in_the_thread() {
    let db = TestDb::new().await;
    let app = new_app(&db).await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    let fake = FakeSlack::start().await;
    let ds = slack_deliverers(&app, &fake);
    run_in(&app, SLACK, "r1", "promise ACME-001 500 2026-11-24").await;
    drain_once(&app.store, &ds, 50).await.unwrap();
    let card_ts = fake.top_level("C123")[0]["ts"]
        .as_str()
        .unwrap()
        .to_string();

    // dunbot breaks it (no payment by the date and the grace): the event goes to the thread.
    let (kept, broken) =
        dunbot::app::automatic::resolve_promises(&app, d("2026-11-30"), at(d("2026-11-30"), 18))
            .await
            .unwrap();
    assert_eq!((kept, broken), (0, 1));
    // The worker judges the next steps by its own today (the 30th, as dunbot did).
    let later =
        App::new(settings(), db.store.clone()).with_clock(Clock::Fixed(at(d("2026-11-30"), 18)));
    let ds = slack_deliverers(&later, &fake);
    assert_eq!(drain_once(&app.store, &ds, 50).await.unwrap(), 1);
    let replies = fake.replies(&card_ts);
    assert_eq!(replies.len(), 2);
    let broken = &replies[1];
    assert_eq!(
        broken["text"],
        "Promise broken: Promise by maria: USD 500.00 by 2026-11-24 — broken"
    );
    let buttons: Vec<(String, String)> = broken["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().unwrap().clone())
        .map(|e| {
            (
                e["text"]["text"].as_str().unwrap_or_default().to_string(),
                e["value"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let labels: Vec<&str> = buttons.iter().map(|(l, _)| l.as_str()).collect();
    assert!(labels.contains(&"Re-promise"), "{buttons:?}");
    assert!(labels.contains(&"Log call"), "{buttons:?}");
    assert!(labels.contains(&"Flag for call"), "{buttons:?}");
    assert!(
        labels.iter().any(|l| l.starts_with("Escalate")),
        "{buttons:?}"
    );
    // Re-promise is the form with what is still owed of the promise filled in.
    assert!(
        buttons
            .iter()
            .any(|(l, v)| l == "Re-promise" && v.contains("promise ACME-001 500.00")),
        "{buttons:?}"
    );
}

fn discord_deliverers(app: &App, fake: &FakeDiscord) -> Deliverers {
    let http = Arc::new(Discord::http_client(&crate::fake_discord::config(fake)));
    Deliverers::new(8).add(
        "case_event",
        Arc::new(CaseThreadDeliverer::new(
            app,
            Arc::new(DiscordThreads { http }),
        )),
    )
}

#[tokio::test]
async fn discord_card_thread_started_from_it_events_inside_card_edited_deleted_thread_restarts() {
    let db = TestDb::new().await;
    let app = new_app(&db).await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    let fake = FakeDiscord::start().await;
    let ds = discord_deliverers(&app, &fake);
    let channel = "discord:4242";

    run_in(&app, channel, "d1", "note ACME-001 first").await;
    run_in(&app, channel, "d2", "promise ACME-001 500 2026-11-30").await;
    assert_eq!(drain_once(&app.store, &ds, 50).await.unwrap(), 2);
    let cards = fake.messages_in("4242");
    assert_eq!(cards.len(), 1, "{cards:#?}");
    let card_id = cards[0]["id"].as_str().unwrap().to_string();
    assert_eq!(fake.threads(), vec![card_id.clone()]);
    let inside: Vec<String> = fake
        .messages_in(&card_id)
        .iter()
        .map(|m| m["content"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(inside.len(), 2, "{inside:?}");
    assert!(inside[0].contains("Note by maria: first"), "{inside:?}");
    assert!(
        inside[1].contains("Promise by maria: USD 500.00"),
        "{inside:?}"
    );
    // The second event edited the card in place.
    assert_eq!(
        fake.calls_to("PATCH", &format!("/channels/4242/messages/{card_id}"))
            .len(),
        1
    );

    // A payment edits the card with the new balance.
    pay(&app, "ACME-001,INV-1001,2026-11-23,1250.00,USD,W-1\n").await;
    drain_once(&app.store, &ds, 50).await.unwrap();
    let patch = fake
        .calls_to("PATCH", &format!("/channels/4242/messages/{card_id}"))
        .pop()
        .unwrap();
    assert!(
        patch.body.to_string().contains("USD 400.00"),
        "{}",
        patch.body
    );
    assert!(fake.messages_in(&card_id).iter().any(|m| {
        m["content"]
            .as_str()
            .unwrap_or_default()
            .contains("Payment received")
    }),);

    // The thread is deleted: the next event starts a new card and thread.
    fake.delete_thread(&card_id);
    run_in(&app, channel, "d3", "note ACME-001 again").await;
    assert_eq!(drain_once(&app.store, &ds, 50).await.unwrap(), 1);
    let threads = fake.threads();
    assert_eq!(threads.len(), 1);
    assert_ne!(threads[0], card_id);
    let inside = fake.messages_in(&threads[0]);
    assert_eq!(inside.len(), 1);
    assert!(
        inside[0]["content"]
            .as_str()
            .unwrap()
            .contains("Note by maria: again")
    );

    // The card message is deleted (its thread stays, as on Discord): the edit's 404 Unknown
    // Message starts a new card, and the event goes to the new card's thread.
    let second = threads[0].clone();
    fake.delete_message(&second);
    run_in(&app, channel, "d4", "note ACME-001 once more").await;
    assert_eq!(drain_once(&app.store, &ds, 50).await.unwrap(), 1);
    let threads = fake.threads();
    assert_eq!(threads.len(), 2, "{threads:?}");
    let third = threads.last().unwrap();
    assert_ne!(third, &second);
    assert_eq!(fake.messages_in(third).len(), 1);
    assert_eq!(
        fake.messages_in(&second).len(),
        1,
        "nothing more in the old thread"
    );
}

#[tokio::test]
async fn dunbots_own_steps_go_only_to_channels_that_have_a_thread() {
    let db = TestDb::new().await;
    let app = new_app(&db).await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    // No thread anywhere: a payment queues nothing.
    pay(&app, "ACME-001,INV-1001,2026-11-20,100.00,USD,W-0\n").await;
    assert_eq!(case_rows(&app).await, 0);
    // Threads in two channels: the next payment is told in both.
    run_in(&app, SLACK, "r1", "note ACME-001 a").await;
    run_in(&app, "slack:C999", "r2", "note ACME-001 b").await;
    let fake = FakeSlack::start().await;
    let ds = slack_deliverers(&app, &fake);
    drain_once(&app.store, &ds, 50).await.unwrap();
    pay(&app, "ACME-001,INV-1001,2026-11-21,50.00,USD,W-2\n").await;
    assert_eq!(drain_once(&app.store, &ds, 50).await.unwrap(), 2);
    for ch in ["C123", "C999"] {
        let ts = fake.top_level(ch)[0]["ts"].as_str().unwrap().to_string();
        assert!(
            texts(&fake.replies(&ts))
                .iter()
                .any(|t| t.starts_with("Payment received: Payment of USD 50.00")),
            "{ch}"
        );
    }
}

#[tokio::test]
async fn a_reminder_queued_then_sent_is_told_in_the_thread() {
    use dunbot::notify::email::{EmailDeliverer, MailSettings};
    let server = crate::smtp_server::SmtpServer::start();
    let db = TestDb::new().await;
    let app = new_app(&db).await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    let fake = FakeSlack::start().await;
    let ds = slack_deliverers(&app, &fake);
    run_in(&app, SLACK, "r1", "remind ACME-001").await;
    assert_eq!(drain_once(&app.store, &ds, 50).await.unwrap(), 1);
    let card_ts = fake.top_level("C123")[0]["ts"]
        .as_str()
        .unwrap()
        .to_string();
    let queued = texts(&fake.replies(&card_ts));
    assert_eq!(queued.len(), 1);
    assert!(
        queued[0].starts_with("Reminder (") && queued[0].ends_with("by maria — waiting to be sent"),
        "{queued:?}"
    );

    // The outbox worker sends the email over SMTP: the thread hears it was sent.
    let mail = MailSettings {
        smtp_url: server.url(),
        from: "Example AR <ar@example.co>".parse().unwrap(),
        reply_to: None,
        pay: dunbot::notify::templates::PayInfo {
            company: "Example Co".into(),
            payment_link: None,
            bank_details: None,
            contact: "Maria Lopez, ar@example.co".into(),
        },
        template_dir: None,
        timeout: std::time::Duration::from_secs(2),
    };
    let email = Deliverers::new(3).add(
        "email",
        Arc::new(
            EmailDeliverer::new(
                mail,
                dunbot::domain::calendar::Calendar::default(),
                dunbot::domain::send_window::SendWindow::always(),
                Some(app.store.clone()),
            )
            .unwrap(),
        ),
    );
    assert_eq!(drain_once(&app.store, &email, 10).await.unwrap(), 1);
    assert_eq!(server.messages().len(), 1);
    assert_eq!(drain_once(&app.store, &ds, 50).await.unwrap(), 1);
    let replies = texts(&fake.replies(&card_ts));
    assert_eq!(replies.len(), 2, "{replies:?}");
    assert!(
        replies[1].starts_with("Reminder sent: Reminder (") && replies[1].contains("— sent 20"),
        "{replies:?}"
    );
    assert_eq!(fake.top_level("C123").len(), 1);
}
