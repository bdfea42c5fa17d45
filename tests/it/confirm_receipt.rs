//! Confirm receipt (stage 2) and reminders that ask for the right amount, on the real
//! Postgres, the real SMTP peer (aiosmtpd), and the real Slack and Discord clients against
//! their fakes.
use crate::discord_gateway::Running;
use crate::email::{clocked, due_now, row_for};
use crate::fake_discord::*;
use crate::smtp_server::{Received, SmtpServer};
use crate::support::*;
use dunbot::app::App;
use dunbot::clock::Clock;
use dunbot::domain::confirm_receipt::{ConfirmSettings, Threshold};
use dunbot::domain::roles::Role;
use dunbot::notify::drain_once;
use serde_json::Value;
use std::sync::Arc;

/// ACME names its contact person; NOMAIL has no email.
const CUSTOMERS_NAMED: &str =
    "account,name,email,phone,currency,timezone,owner,do_not_contact,contact_name
ACME-001,Acme Corp,ap@acme.example,+1-555-0100,USD,America/New_York,maria,no,Jane Smith
BOLT-001,Bolt Freight,billing@bolt.example,,USD,America/Chicago,tom,no,
QUIET-001,Quiet Ltd,ap@quiet.example,,USD,Europe/London,tom,yes,
EURO-001,Euro GmbH,ap@euro.example,,EUR,Europe/Berlin,priya,no,
NOMAIL-001,No Mail Ltd,,,USD,UTC,tom,no,
";

/// On Monday 23 November, with the threshold `USD 1000, EUR 2000` and 3 business days:
/// INV-5001 (issued Tue 17th), INV-3002 (do-not-contact) and INV-6001 (no email) are due for
/// the question; INV-5002 is too recent, INV-5003 and INV-4002 too small, INV-2002 paid.
fn invoices() -> String {
    format!(
        "{INVOICES}ACME-001,INV-5001,2026-11-17,2026-12-17,2500.00,USD
ACME-001,INV-5002,2026-11-20,2026-12-20,3000.00,USD
ACME-001,INV-5003,2026-11-16,2026-12-16,500.00,USD
QUIET-001,INV-3002,2026-11-16,2026-12-16,2000.00,USD
NOMAIL-001,INV-6001,2026-11-16,2026-12-16,2000.00,USD
EURO-001,INV-4002,2026-11-16,2026-12-16,1500.00,EUR
BOLT-001,INV-2002,2026-11-16,2026-12-16,1200.00,USD
"
    )
}

const PAYMENTS: &str = "account,invoice,paid_on,amount,currency,reference
BOLT-001,INV-2002,2026-11-20,1200.00,USD,WIRE-B1
";

fn confirm(email: bool) -> ConfirmSettings {
    ConfirmSettings {
        above: Threshold::parse("USD 1000, EUR 2000").unwrap(),
        days: 3,
        email,
    }
}

fn configured(app: App, email: bool) -> App {
    let mut app = app.with_clock(Clock::Fixed(at(today(), 15)));
    app.settings.confirm = confirm(email);
    app
}

async fn ready(email: bool) -> (App, TestDb) {
    let (app, db) = app().await;
    let app = configured(app, email);
    seed(&app, CUSTOMERS_NAMED, &invoices(), Some(PAYMENTS)).await;
    (app, db)
}

/// Every button command in a reply.
fn commands(m: &dunbot::message::Message) -> Vec<String> {
    m.buttons().map(|b| b.command.clone()).collect()
}

async fn answer_of(app: &App, invoice: &str) -> Option<(String, Option<String>)> {
    sqlx::query_as(
        "SELECT r.answer, r.note FROM receipt_answers r JOIN invoices i ON i.id = r.invoice_id
          WHERE i.number = $1",
    )
    .bind(invoice)
    .fetch_optional(&app.store.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_final_notice_demands_only_the_overdue_amount_and_greets_the_contact() {
    let server = SmtpServer::start();
    let (app, _db) = ready(false).await;
    let maria = person("maria", Role::Collector);
    let out = run_as(&app, &maria, "fin-1", "remind ACME-001 final", today()).await;
    assert!(!out.refused, "{}", out.reply.text);
    let ds = clocked(&app, &server.url(), at(today(), 15));
    due_now(&app).await;
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 1);
    let msgs = server.messages();
    assert_eq!(msgs.len(), 1);
    let m = Received::parse(&msgs[0]);
    // INV-1001 (USD 1,250.00) is overdue; INV-1002, INV-5001/2/3 are not yet due.
    assert_eq!(
        m.header("Subject"),
        "Final notice before escalation: USD 1,250.00 overdue for Acme Corp"
    );
    assert!(m.header("To").contains("Jane Smith"), "{}", m.header("To"));
    assert!(m.text.starts_with("Dear Jane Smith,"), "{}", m.text);
    assert!(m.html.contains("Dear Jane Smith,"), "{}", m.html);
    let flat = m.text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("Please pay the overdue USD 1,250.00, or contact us"),
        "{flat}"
    );
    assert!(!flat.contains("pay the balance"), "{flat}");
    let (demanded, info) = m
        .text
        .split_once("Not yet due — for your information")
        .expect("a section for invoices not yet due");
    assert!(demanded.contains("INV-1001") && demanded.contains("Overdue: USD 1,250.00"));
    for n in ["INV-1002", "INV-5001", "INV-5002", "INV-5003"] {
        assert!(!demanded.contains(n), "{n} is demanded: {demanded}");
        assert!(info.contains(n), "{n} is not listed: {info}");
    }
    assert!(info.contains("(not yet due)"), "{info}");
    assert!(
        m.text.contains("Your account reference with us: ACME-001"),
        "{}",
        m.text
    );
}

#[tokio::test]
async fn confirm_tasks_stay_in_the_digest_until_answered_and_bad_input_writes_nothing() {
    let (app, _db) = ready(false).await;
    let maria = person("maria", Role::Collector);
    let digest = run_as(&app, &maria, "dig-1", "digest", today()).await;
    let text = serde_json::to_string(&digest.reply).unwrap();
    assert!(text.contains("Confirm receipt* (3)"), "{text}");
    let cmds = commands(&digest.reply);
    for n in ["INV-5001", "INV-3002", "INV-6001"] {
        for a in ["received", "missing", "question"] {
            let c = format!("confirm {n} {a}");
            assert!(cmds.contains(&c), "no {c}: {cmds:?}");
        }
    }
    for n in [
        "INV-5002", "INV-5003", "INV-4002", "INV-2002", "INV-1002", "INV-1001",
    ] {
        assert!(
            !cmds.iter().any(|c| c.starts_with(&format!("confirm {n} "))),
            "{n} listed: {cmds:?}"
        );
    }
    assert!(
        digest.reply.text.contains("3 invoices to confirm"),
        "{}",
        digest.reply.text
    );
    // Shown two at a time, the digest lists the two soonest due and counts the third.
    {
        let mut two = configured(App::new(settings(), app.store.clone()), false);
        two.settings.digest_top = 2;
        let d = run_as(&two, &maria, "dig-top", "digest", today()).await;
        let listed: Vec<String> = commands(&d.reply)
            .into_iter()
            .filter(|c| c.starts_with("confirm ") && c.ends_with(" received"))
            .collect();
        assert_eq!(listed.len(), 2, "{listed:?}");
        assert!(
            d.reply.text.contains("3 invoices to confirm"),
            "{}",
            d.reply.text
        );
    }

    // Bad input: refused with what to type, nothing written.
    let answers = count(&app, "receipt_answers").await;
    for (line, says) in [
        (
            "confirm INV-9999 received",
            "There is no invoice `INV-9999`",
        ),
        ("confirm INV-5001 lost", "use received, missing, question"),
        ("confirm INV-2002 received", "INV-2002 is paid"),
        ("confirm INV-5001", "Missing the answer"),
    ] {
        let out = run_as(&app, &maria, &format!("bad-{line}"), line, today()).await;
        assert!(out.refused, "{line}: {}", out.reply.text);
        assert!(out.reply.text.contains(says), "{line}: {}", out.reply.text);
    }
    assert_eq!(count(&app, "receipt_answers").await, answers);

    let out = run_as(
        &app,
        &maria,
        "conf-1",
        "confirm inv-5001 received Jane has it",
        today(),
    )
    .await;
    assert!(!out.refused, "{}", out.reply.text);
    assert!(
        out.reply
            .text
            .contains("ACME-001 (Acme Corp) received INV-5001"),
        "{}",
        out.reply.text
    );
    assert_eq!(
        answer_of(&app, "INV-5001").await,
        Some(("received".into(), Some("Jane has it".into())))
    );
    let (kind, subject, account): (String, String, String) = sqlx::query_as(
        "SELECT kind, subject, details->'facts'->>'account' FROM actions WHERE idempotency_key = 'conf-1'",
    )
    .fetch_one(&app.store.pool)
    .await
    .unwrap();
    assert_eq!(
        (kind.as_str(), subject.as_str(), account.as_str()),
        ("confirm", "INV-5001", "ACME-001")
    );
    // A question takes its invoice off the list too.
    let out = run_as(
        &app,
        &maria,
        "conf-2",
        "confirm INV-6001 question PO number?",
        today(),
    )
    .await;
    assert!(!out.refused, "{}", out.reply.text);

    let digest = run_as(&app, &maria, "dig-2", "digest", today()).await;
    let cmds = commands(&digest.reply);
    assert!(
        !cmds.iter().any(|c| c.starts_with("confirm INV-5001 ")),
        "{cmds:?}"
    );
    assert!(
        !cmds.iter().any(|c| c.starts_with("confirm INV-6001 ")),
        "{cmds:?}"
    );
    assert!(
        cmds.contains(&"confirm INV-3002 received".to_string()),
        "{cmds:?}"
    );
    // Once the invoice falls overdue the reminders take over: no task for it then.
    let later = run_as(&app, &maria, "dig-3", "digest", d("2026-12-16")).await;
    assert!(
        commands(&later.reply)
            .iter()
            .any(|c| c.starts_with("confirm INV-3002 ")),
        "due that day: still asked"
    );
    let overdue = run_as(&app, &maria, "dig-4", "digest", d("2026-12-21")).await;
    assert!(
        !commands(&overdue.reply)
            .iter()
            .any(|c| c.starts_with("confirm ")),
        "overdue: reminders take over"
    );

    // The account card shows the answer.
    let card = run_as(&app, &maria, "card-1", "account ACME-001", today()).await;
    let card = serde_json::to_string(&card.reply).unwrap();
    assert!(
        card.contains("INV-5001 received (maria on 2026-11-23): Jane has it"),
        "{card}"
    );
}

#[tokio::test]
async fn missing_sends_a_copy_of_the_invoice_but_not_to_do_not_contact_or_no_email() {
    let server = SmtpServer::start();
    let (app, _db) = ready(false).await;
    let maria = person("maria", Role::Collector);
    for (line, says) in [
        ("confirm INV-3002 missing", "do-not-contact"),
        ("confirm INV-6001 missing", "no contact email"),
    ] {
        let out = run_as(&app, &maria, line, line, today()).await;
        assert!(out.refused, "{line}: {}", out.reply.text);
        assert!(out.reply.text.contains(says), "{line}: {}", out.reply.text);
    }
    assert_eq!(count(&app, "receipt_answers").await, 0);
    assert_eq!(count(&app, "outbox").await, 0);

    let out = run_as(
        &app,
        &maria,
        "miss-1",
        "confirm INV-5001 missing sent to an old address",
        today(),
    )
    .await;
    assert!(!out.refused, "{}", out.reply.text);
    assert!(
        out.reply.text.contains("did not receive INV-5001"),
        "{}",
        out.reply.text
    );
    assert_eq!(answer_of(&app, "INV-5001").await.unwrap().0, "missing");
    let row = row_for(&app, "invoice-copy:miss-1").await;
    assert_eq!(row.payload["tone"], "copy");
    let ds = clocked(&app, &server.url(), at(today(), 15));
    due_now(&app).await;
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 1);
    let msgs = server.messages();
    assert_eq!(msgs.len(), 1);
    let m = Received::parse(&msgs[0]);
    assert_eq!(
        m.header("Subject"),
        "Copy of invoice INV-5001 for Acme Corp"
    );
    assert_eq!(m.header("X-RcptTo"), "ap@acme.example");
    for needle in [
        "Dear Jane Smith,",
        "invoice INV-5001 did not reach you",
        "Issued: 17 November 2026",
        "Due: 17 December 2026 (not yet due)",
        "Amount: USD 2,500.00",
        "ACME-001",
    ] {
        assert!(m.text.contains(needle), "lacks {needle}: {}", m.text);
    }
    // Only that invoice: not the account's others.
    assert!(!m.text.contains("INV-1001"), "{}", m.text);
    assert!(m.html.contains("INV-5001") && !m.html.contains("INV-1001"));
}

#[tokio::test]
async fn with_email_on_dunbot_asks_each_invoice_once_and_lists_no_tasks() {
    let server = SmtpServer::start();
    let (app, _db) = ready(true).await;
    let maria = person("maria", Role::Collector);
    let digest = run_as(&app, &maria, "dig-1", "digest", today()).await;
    assert!(
        !commands(&digest.reply)
            .iter()
            .any(|c| c.starts_with("confirm "))
    );
    for _ in 0..2 {
        dunbot::app::autoplan::run(&app, today(), at(today(), 10))
            .await
            .unwrap();
    }
    let asks: Vec<(String, String)> = sqlx::query_as(
        "SELECT dedupe_key, payload->>'to' FROM outbox WHERE dedupe_key LIKE 'confirm-ask:%' ORDER BY 1",
    )
    .fetch_all(&app.store.pool)
    .await
    .unwrap();
    // Not QUIET (do-not-contact), not NOMAIL (no email), once for ACME's INV-5001.
    assert_eq!(
        asks,
        [(
            "confirm-ask:INV-5001".to_string(),
            "ap@acme.example".to_string()
        )]
    );
    let logged: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM actions WHERE kind = 'confirm_asked' AND subject = 'INV-5001'",
    )
    .fetch_one(&app.store.pool)
    .await
    .unwrap();
    assert_eq!(logged, 1);
    let ds = clocked(&app, &server.url(), at(today(), 15));
    due_now(&app).await;
    assert!(drain_once(&app.store, &ds, 10).await.unwrap() >= 1);
    let m = server
        .messages()
        .iter()
        .map(|raw| Received::parse(raw))
        .find(|m| m.header("Subject").contains("INV-5001"))
        .expect("the question arrived");
    assert_eq!(
        m.header("Subject"),
        "Did you receive invoice INV-5001 from Example Co?"
    );
    assert!(m.text.starts_with("Dear Jane Smith,"), "{}", m.text);
    assert!(m.text.contains("USD 2,500.00"), "{}", m.text);
}

#[tokio::test]
async fn slack_pressing_missing_on_the_digest_records_it_and_queues_the_copy() {
    use crate::slack_support::*;
    let invoices = invoices();
    let bot = bot_with(|app| configured(app, false), CUSTOMERS_NAMED, &invoices).await;
    assert_eq!(bot.command("UCOLL", "digest", "d1").await.status(), 200);
    bot.fake
        .wait_until("the digest", |f| !f.calls("response:d1").is_empty())
        .await;
    let blocks: Vec<Value> = bot.fake.calls("response:d1")[0].body["blocks"]
        .as_array()
        .unwrap()
        .clone();
    let ts = "1700000000.000777";
    let missing = "confirm INV-5001 missing";
    let r = bot
        .interaction(&press(
            "UCOLL",
            ts,
            &blocks,
            missing,
            "trig-m",
            &bot.fake.response_url("m1"),
        ))
        .await;
    assert_eq!(r.status(), 200);
    bot.fake
        .wait_until("chat.update", |f| !f.calls("chat.update").is_empty())
        .await;
    let upd = bot.fake.calls("chat.update")[0].body.clone();
    let text = upd["blocks"].to_string();
    assert!(text.contains("INV-5001: missing — recorded by"), "{text}");
    assert!(
        !text.contains("confirm INV-5001 "),
        "its buttons are gone: {text}"
    );
    assert!(
        text.contains("confirm INV-3002 received"),
        "the others stay: {text}"
    );
    assert_eq!(
        answer_of(&bot.app, "INV-5001")
            .await
            .map(|a| a.0)
            .as_deref(),
        Some("missing")
    );
    let copies: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE kind = 'email' AND payload->>'tone' = 'copy'
            AND payload->>'only_invoice' = 'INV-5001'",
    )
    .fetch_one(&bot.app.store.pool)
    .await
    .unwrap();
    assert_eq!(copies, 1);
    let (platform, subject): (String, String) = sqlx::query_as(
        "SELECT actor_platform, subject FROM actions WHERE kind = 'confirm' AND outcome = 'ok'",
    )
    .fetch_one(&bot.app.store.pool)
    .await
    .unwrap();
    assert_eq!((platform.as_str(), subject.as_str()), ("slack", "INV-5001"));
}

#[tokio::test]
async fn discord_pressing_received_on_the_digest_records_it_once() {
    let (app, db) = app().await;
    let app = configured(app, false);
    seed(&app, CUSTOMERS_NAMED, &invoices(), Some(PAYMENTS)).await;
    let app = Arc::new(app);
    let fake = FakeDiscord::start().await;
    let edge = edge(app.clone(), &fake, at(today(), 15));
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(dunbot::edges::discord::gateway::run(edge.clone(), stop_rx));
    fake.wait_gateway("IDENTIFY", |frames, _| frames.iter().any(|f| f["op"] == 2))
        .await;
    let r = Running {
        fake,
        app,
        edge,
        stop,
        task,
        _db: db,
    };
    let carla = || member(111, "carla", &[COLLECTOR_ROLE]);
    // The digest's Confirm receipt lines, as the Discord edge renders them into a post.
    let lines = dunbot::message::Message {
        text: "Confirm receipt".into(),
        blocks: ["INV-5001", "INV-3002"]
            .into_iter()
            .map(|n| dunbot::message::Block::Item {
                text: format!("*{n}*"),
                buttons: dunbot::digest::confirm_receipt::answer_buttons(n),
            })
            .collect(),
        visibility: dunbot::message::Visibility::Channel,
        ..Default::default()
    };
    let posts = dunbot::edges::discord::render::render(&lines);
    let data = serde_json::to_value(&posts[0]).unwrap();
    let received = data["components"]
        .as_array()
        .expect("buttons")
        .iter()
        .flat_map(|row| row["components"].as_array().unwrap().clone())
        .map(|b| b["custom_id"].as_str().unwrap().to_string())
        .find(|id| id.ends_with("confirm INV-5001 received"))
        .unwrap_or_else(|| panic!("no Received button: {data}"));
    let message = posted_message(990_101, CHANNEL, &data);
    for id in [6002, 6002] {
        r.fake
            .interaction(press(id, CHANNEL, carla(), &received, message.clone()));
    }
    let path = "/interactions/6002/token-6002/callback";
    let answer = r
        .fake
        .wait_for(path, |c| {
            c.iter().filter(|c| c.path.contains(path)).count() >= 2
        })
        .await
        .into_iter()
        .find(|c| c.path.contains(path))
        .unwrap()
        .body;
    assert_eq!(answer["type"], 7, "the pressed message, updated: {answer}");
    let text = answer["data"].to_string();
    assert!(
        text.contains("INV-5001: received — recorded by carla"),
        "{text}"
    );
    assert!(!text.contains("confirm INV-5001 "), "{text}");
    assert_eq!(
        answer_of(&r.app, "INV-5001").await.map(|a| a.0).as_deref(),
        Some("received")
    );
    let acted: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM actions WHERE kind = 'confirm' AND actor_platform = 'discord'",
    )
    .fetch_one(&r.app.store.pool)
    .await
    .unwrap();
    assert_eq!(acted, 1, "the redelivered press acts once");
    r.stop().await;
}

#[test]
fn a_threshold_that_does_not_read_stops_dunbot_at_start_with_an_example() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dunbot"))
        .args(["log", "--limit", "1"])
        .env("DATABASE_URL", admin_url())
        .env("DUNBOT_CONFIRM_ABOVE", "USD 1000, lots")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("DUNBOT_CONFIRM_ABOVE") && err.contains("e.g. 1000.00"),
        "{err}"
    );
}
