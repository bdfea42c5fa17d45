//! Late fees that are real: the policy's statutory interest and compensation shown on the card
//! and in the firm reminder, collected by a payment in the policy's order, and `ar waive` —
//! from the console, Slack (real slack-morphism against the fake) and Discord (real serenity
//! against the fake), refused for a collector and on bad input, writing nothing then.
use crate::discord_gateway::Running;
use crate::fake_discord::*;
use crate::slack_support::{Bot, slack_config};
use crate::support::*;
use dunbot::app::App;
use dunbot::clock::Clock;
use dunbot::config::Settings;
use dunbot::domain::late_fee::LateFeePolicy;
use dunbot::domain::roles::Role;
use serde_json::json;
use std::sync::Arc;

/// The EU rules: the ECB rate (2.15 % from 1 July 2026) + 8 points, EUR 40 per invoice,
/// interest first, then fees, then principal.
const POLICY: &str = r#"
[late_fees]
kind = "statutory"
fee = { EUR = "40.00" }
margin = "8"
reference_rates = [{ from = 2026-01-01, rate = "2.40" }, { from = 2026-07-01, rate = "2.15" }]
payment_order = ["interest", "fees", "principal"]
"#;

fn fee_settings() -> Settings {
    Settings {
        late_fees: LateFeePolicy::from_policy_toml(POLICY).unwrap(),
        ..settings()
    }
}

async fn fee_app() -> (App, TestDb) {
    let db = TestDb::new().await;
    let app = App::new(fee_settings(), db.store.clone()).with_clock(Clock::Fixed(at(today(), 10)));
    seed(&app, CUSTOMERS, INVOICES, None).await;
    (app, db)
}

/// What a waiver may change: waivers, their charges, the invoices' paid state.
async fn fee_state(app: &App) -> (i64, i64, Vec<(String, i64, String)>) {
    let invoices =
        sqlx::query_as("SELECT number, paid_minor, status FROM invoices ORDER BY number")
            .fetch_all(&app.store.pool)
            .await
            .unwrap();
    (
        count(app, "fee_waivers").await,
        count(app, "invoice_charges").await,
        invoices,
    )
}

/// EURO-001's INV-4001, EUR 2,000.00 due Sat 21 Nov 2026. As of 21 Dec, 22 Nov..21 Dec is
/// 30 days at 2.15 + 8 = 10.15 %: 200,000 × 0.1015 × 30 / 365 = 1,668.49 → EUR 16.68; and the
/// EUR 40.00 compensation.
const EURO_DEC_21: &str = "INV-4001: EUR 40.00 compensation and EUR 16.68 interest at 10.15% a year from 22 November 2026";

#[tokio::test]
async fn the_card_and_the_firm_reminder_state_the_charges_and_a_manager_waives_them() {
    let (app, _db) = fee_app().await;
    let maria = person("maria", Role::Collector);
    let boss = person("boss", Role::Manager);
    let dec21 = d("2026-12-21");
    let card = run_as(&app, &maria, "c1", "account EURO-001", dec21).await;
    assert!(!card.refused, "{}", card.reply.text);
    let shown = serde_json::to_string(&card.reply).unwrap();
    assert!(shown.contains(EURO_DEC_21), "{shown}");
    assert!(shown.contains("beyond the balance): EUR 56.68"), "{shown}");
    // USD invoices owe interest but no compensation (the policy lists EUR only): ACME's
    // INV-1001, USD 1,250.00 due 13 Nov, 14 Nov..21 Dec = 38 days: 125,000 × 0.1015 × 38 / 365
    // = 1,320.89 → USD 13.21.
    let acme = run_as(&app, &maria, "c2", "account ACME-001", dec21).await;
    let shown = serde_json::to_string(&acme.reply).unwrap();
    assert!(
        shown.contains("INV-1001: USD 13.21 interest at 10.15% a year from 14 November 2026"),
        "{shown}"
    );
    assert!(!shown.contains("compensation"), "{shown}");

    // The firm reminder names them instead of "may incur the late fee".
    let out = run_as(&app, &maria, "r1", "remind EURO-001 firm", dec21).await;
    assert!(!out.refused, "{}", out.reply.text);
    let payload: serde_json::Value =
        sqlx::query_scalar("SELECT payload FROM outbox WHERE kind = 'email'")
            .fetch_one(&app.store.pool)
            .await
            .unwrap();
    assert_eq!(payload["late_fees"], json!(EURO_DEC_21));
    let p: dunbot::notify::templates::ReminderPayload = serde_json::from_value(payload).unwrap();
    let t = dunbot::notify::templates::Templates::load(None).unwrap();
    let mail = t
        .render(
            dunbot::domain::policy::Tone::Firm,
            &p,
            &Default::default(),
            dec21,
        )
        .unwrap();
    assert!(
        mail.text
            .contains(&format!("late payment charges now apply: {EURO_DEC_21}.")),
        "{}",
        mail.text
    );
    assert!(!mail.text.contains("may incur"), "{}", mail.text);

    // A manager waives the interest: recorded (action subject = the invoice), no longer shown.
    let out = run_as(
        &app,
        &boss,
        "w1",
        "waive INV-4001 interest goodwill, first late payment",
        dec21,
    )
    .await;
    assert!(!out.refused, "{}", out.reply.text);
    assert!(
        out.reply.text.contains(
            "Waived the interest of EUR 16.68 on INV-4001 (EURO-001): goodwill, first late payment"
        ),
        "{}",
        out.reply.text
    );
    let (kind, subject, outcome): (String, Option<String>, String) =
        sqlx::query_as("SELECT kind, subject, outcome FROM actions WHERE idempotency_key = 'w1'")
            .fetch_one(&app.store.pool)
            .await
            .unwrap();
    assert_eq!(
        (kind.as_str(), subject.as_deref(), outcome.as_str()),
        ("waive", Some("INV-4001"), "ok")
    );
    let row: (String, i64, String, String) =
        sqlx::query_as("SELECT part, amount_minor, reason, waived_by FROM fee_waivers")
            .fetch_one(&app.store.pool)
            .await
            .unwrap();
    assert_eq!(
        row,
        (
            "interest".into(),
            1_668,
            "goodwill, first late payment".into(),
            "boss".into()
        )
    );
    let card = run_as(&app, &maria, "c3", "account EURO-001", d("2027-01-20")).await;
    let shown = serde_json::to_string(&card.reply).unwrap();
    assert!(
        shown.contains("INV-4001: EUR 40.00 compensation\\n")
            || shown.contains("INV-4001: EUR 40.00 compensation\""),
        "{shown}"
    );
    assert!(!shown.contains("interest at"), "{shown}");
    // A retry of the same request acts once.
    let again = run_as(
        &app,
        &boss,
        "w1",
        "waive INV-4001 interest goodwill, first late payment",
        dec21,
    )
    .await;
    assert!(again.replayed && !again.refused);
    assert_eq!(count(&app, "fee_waivers").await, 1);

    // `all` waives what is left (the fee); then nothing is.
    let out = run_as(
        &app,
        &boss,
        "w2",
        "waive INV-4001 all settled on the phone",
        dec21,
    )
    .await;
    assert!(
        out.reply.text.contains("Waived the late fee of EUR 40.00"),
        "{}",
        out.reply.text
    );
    let card = run_as(&app, &maria, "c4", "account EURO-001", dec21).await;
    assert!(
        !serde_json::to_string(&card.reply)
            .unwrap()
            .contains("Late fees")
    );
}

/// Each refusal says what was wrong and writes nothing but its own action row.
#[tokio::test]
async fn waive_refusals_write_nothing() {
    let (app, _db) = fee_app().await;
    let maria = person("maria", Role::Collector);
    let boss = person("boss", Role::Manager);
    let run = |who: dunbot::app::Actor, line: &'static str, expect: &'static str| {
        let app = &app;
        async move {
            let before = fee_state(app).await;
            let id = format!("x-{}", uuid::Uuid::new_v4());
            let out = run_as(app, &who, &id, line, today()).await;
            assert!(out.refused, "{line}: {}", out.reply.text);
            assert!(
                out.reply.text.contains(expect),
                "{line}: {}",
                out.reply.text
            );
            assert_eq!(fee_state(app).await, before, "{line} changed something");
            let outcome: String =
                sqlx::query_scalar("SELECT outcome FROM actions WHERE idempotency_key = $1")
                    .bind(&id)
                    .fetch_one(&app.store.pool)
                    .await
                    .unwrap();
            assert_eq!(outcome, "refused");
        }
    };
    run(
        maria.clone(),
        "waive INV-4001 fee goodwill",
        "Only a manager may run",
    )
    .await;
    run(
        boss.clone(),
        "waive INV-9999 fee goodwill",
        "There is no invoice `INV-9999`",
    )
    .await;
    run(
        boss.clone(),
        "waive INV-4001 penalty goodwill",
        "`penalty` is not a valid part: use fee, interest, all",
    )
    .await;
    run(boss.clone(), "waive INV-4001 fee", "Missing the reason").await;
    // Not yet overdue (due 26 Nov): nothing charged, nothing to waive.
    run(
        boss.clone(),
        "waive INV-1002 all goodwill",
        "INV-1002 owes no late fee or interest as of 2026-11-23",
    )
    .await;
    // USD: no compensation listed for USD.
    run(
        boss.clone(),
        "waive INV-1001 fee goodwill",
        "INV-1001 owes no late fee",
    )
    .await;
    let out = run_as(&app, &boss, "ok-1", "waive INV-4001 fee goodwill", today()).await;
    assert!(!out.refused, "{}", out.reply.text);
    run(
        boss.clone(),
        "waive INV-4001 fee again",
        "The late fee on INV-4001 was already waived",
    )
    .await;

    // Without a fee policy there is nothing to waive.
    let (plain, _db2) = app_with_seed().await;
    let before = fee_state(&plain).await;
    let out = run_as(&plain, &boss, "p-1", "waive INV-4001 all goodwill", today()).await;
    assert!(
        out.refused && out.reply.text.contains("charges no late fees"),
        "{}",
        out.reply.text
    );
    assert_eq!(fee_state(&plain).await, before);
}

async fn app_with_seed() -> (App, TestDb) {
    let (app, db) = app().await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    (app, db)
}

/// A payment covers interest, then the fee, then principal: EUR 2,000.00 paid on 21 Dec.
/// 22 Nov..20 Dec (29 days) accrued 200,000 × 0.1015 × 29 / 365 = 1,612.88 → EUR 16.13; the
/// fee EUR 40.00; the rest, EUR 1,943.87, is principal: EUR 56.13 of it stays open, so the
/// invoice is not paid. Without a fee policy the same payment pays it.
#[tokio::test]
async fn a_payment_covers_interest_and_fees_first_and_the_invoice_stays_open() {
    let (app, _db) = fee_app().await;
    let dir = tempdir();
    let path = dir.join("payments.csv");
    std::fs::write(
        &path,
        "account,invoice,paid_on,amount,currency,reference\nEURO-001,INV-4001,2026-12-21,2000.00,EUR,WIRE-1\n",
    )
    .unwrap();
    use dunbot::app::admin::{ImportKind, import_file};
    import_file(&app, ImportKind::Payments, &path, Some(d("2026-12-21")))
        .await
        .unwrap()
        .unwrap();
    let (paid, status): (i64, String) =
        sqlx::query_as("SELECT paid_minor, status FROM invoices WHERE number = 'INV-4001'")
            .fetch_one(&app.store.pool)
            .await
            .unwrap();
    assert_eq!((paid, status.as_str()), (194_387, "open"));
    let applied: (i64, i64, i64) = sqlx::query_as(
        "SELECT interest_paid_minor, fees_paid_minor, principal_paid_minor FROM invoice_charges",
    )
    .fetch_one(&app.store.pool)
    .await
    .unwrap();
    assert_eq!(applied, (1_613, 4_000, 194_387));
    // The card shows the principal left, and only the new day's interest on it
    // (5,613 × 0.1015 / 365 added to the period's exact sum: 1,614.44 → 1,614; 0.01 due).
    let maria = person("maria", Role::Collector);
    let card = run_as(&app, &maria, "c1", "account EURO-001", d("2026-12-21")).await;
    let shown = serde_json::to_string(&card.reply).unwrap();
    assert!(shown.contains("EUR 56.13"), "{shown}");
    assert!(shown.contains("INV-4001: EUR 0.01 interest"), "{shown}");
    // Waiving the interest hands its EUR 16.13 back to principal (EUR 40.01 left).
    let boss = person("boss", Role::Manager);
    let out = run_as(
        &app,
        &boss,
        "w1",
        "waive INV-4001 all goodwill",
        d("2026-12-21"),
    )
    .await;
    assert!(!out.refused, "{}", out.reply.text);
    let (paid, status): (i64, String) =
        sqlx::query_as("SELECT paid_minor, status FROM invoices WHERE number = 'INV-4001'")
            .fetch_one(&app.store.pool)
            .await
            .unwrap();
    assert_eq!((paid, status.as_str()), (200_000, "paid"));

    let (plain, _db2) = app_with_seed().await;
    import_file(&plain, ImportKind::Payments, &path, Some(d("2026-12-21")))
        .await
        .unwrap()
        .unwrap();
    let status: String =
        sqlx::query_scalar("SELECT status FROM invoices WHERE number = 'INV-4001'")
            .fetch_one(&plain.store.pool)
            .await
            .unwrap();
    assert_eq!(status, "paid");
    assert_eq!(count(&plain, "invoice_charges").await, 0);
}

/// Slack over HTTP with the real slack-morphism client: a manager's `/ar waive` is answered
/// for the channel, a collector's is refused to them alone.
#[tokio::test]
async fn waive_over_slack() {
    let db = TestDb::new().await;
    let app = App::new(fee_settings(), db.store.clone()).with_clock(Clock::Fixed(at(today(), 10)));
    seed(&app, CUSTOMERS, INVOICES, None).await;
    {
        let mut conn = app.store.pool.acquire().await.unwrap();
        for (user, role) in [("UCOLL", Role::Collector), ("UMGR", Role::Manager)] {
            dunbot::store::people::grant(&mut conn, "slack", user, role, None, "test")
                .await
                .unwrap();
        }
    }
    let app = Arc::new(app);
    let fake = crate::fake_slack::FakeSlack::start().await;
    let edge =
        Arc::new(dunbot::edges::slack::SlackEdge::new(app.clone(), slack_config(&fake)).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = dunbot::edges::slack::routes::router(edge.clone());
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    let bot = Bot {
        app,
        db,
        fake,
        edge,
        url,
        http: reqwest::Client::new(),
    };

    let r = bot
        .command("UCOLL", "waive INV-4001 fee goodwill", "c1")
        .await;
    assert_eq!(r.status(), 200);
    bot.fake
        .wait_until("the refusal", |f| !f.calls("response:c1").is_empty())
        .await;
    let refusal = &bot.fake.calls("response:c1")[0].body;
    assert_eq!(refusal["response_type"], "ephemeral", "{refusal}");
    assert!(
        refusal["text"].as_str().unwrap().contains("Only a manager"),
        "{refusal}"
    );
    assert_eq!(count(&bot.app, "fee_waivers").await, 0);

    let r = bot
        .command("UMGR", "waive INV-4001 all customer of 20 years", "m1")
        .await;
    assert_eq!(r.status(), 200);
    bot.fake
        .wait_until("the answer", |f| !f.calls("response:m1").is_empty())
        .await;
    let answer = &bot.fake.calls("response:m1")[0].body;
    assert_eq!(answer["response_type"], "in_channel", "{answer}");
    // 22–23 Nov, 2 days: 200,000 × 0.1015 × 2 / 365 = 111.23 → EUR 1.11.
    let text = answer.to_string();
    assert!(
        text.contains(
            "Waived the late fee of EUR 40.00 and interest of EUR 1.11 on INV-4001 (EURO-001)"
        ),
        "{text}"
    );
    assert_eq!(count(&bot.app, "fee_waivers").await, 2);
    let by: String =
        sqlx::query_scalar("SELECT actor_id FROM actions WHERE kind = 'waive' AND outcome = 'ok'")
            .fetch_one(&bot.app.store.pool)
            .await
            .unwrap();
    assert_eq!(by, "UMGR");
}

/// Discord through the real serenity gateway client: `/ar-manage waive` by a manager acts, by
/// a collector is refused ephemerally (flag 64).
#[tokio::test]
async fn waive_over_discord() {
    let db = TestDb::new().await;
    let app = App::new(fee_settings(), db.store.clone()).with_clock(Clock::Fixed(at(today(), 10)));
    seed(&app, CUSTOMERS, INVOICES, None).await;
    let app = Arc::new(app);
    let fake = FakeDiscord::start().await;
    let edge = edge_with(app.clone(), &fake, at(today(), 10), |_| {});
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
    let opts = [
        ("invoice", json!("INV-4001")),
        ("part", json!("interest")),
        ("reason", json!("goodwill")),
    ];
    let carla = member(111, "carla", &[COLLECTOR_ROLE]);
    r.fake
        .interaction(slash(6001, CHANNEL, carla, "ar-manage", "waive", &opts));
    let path = "/interactions/6001/token-6001/callback";
    let calls = r
        .fake
        .wait_for(path, |c| c.iter().any(|c| c.path.contains(path)))
        .await;
    let refusal = &calls.iter().find(|c| c.path.contains(path)).unwrap().body;
    assert_eq!(refusal["data"]["flags"], 64, "{refusal}");
    assert!(refusal.to_string().contains("Only a manager"), "{refusal}");
    assert_eq!(count(&r.app, "fee_waivers").await, 0);

    let mike = member(222, "mike", &[MANAGER_ROLE]);
    r.fake
        .interaction(slash(6002, CHANNEL, mike, "ar-manage", "waive", &opts));
    let path = "/interactions/6002/token-6002/callback";
    let calls = r
        .fake
        .wait_for(path, |c| c.iter().any(|c| c.path.contains(path)))
        .await;
    let answer = &calls.iter().find(|c| c.path.contains(path)).unwrap().body;
    assert_eq!(answer["type"], 4, "{answer}");
    assert_ne!(answer["data"]["flags"], 64, "{answer}");
    assert!(
        answer
            .to_string()
            .contains("Waived the interest of EUR 1.11 on INV-4001 (EURO-001): goodwill"),
        "{answer}"
    );
    let who: String = sqlx::query_scalar("SELECT waived_by FROM fee_waivers")
        .fetch_one(&r.app.store.pool)
        .await
        .unwrap();
    assert_eq!(who, "mike");
    r.stop().await;
}

/// The digest lists what each account owes beyond its balance, largest first. As of 23 Nov at
/// 10.15 %: BOLT-001 USD 5,000.00 since 10 Oct, 45 days: 6,256.85 → USD 62.57; EURO-001 EUR
/// 40.00 + 2 days on EUR 2,000.00 (1.11) = EUR 41.11; QUIET-001 USD 900.00 since 1 Nov, 23 days:
/// 575.67 → USD 5.76; ACME-001 USD 1,250.00 since 14 Nov, 10 days: 347.60 → USD 3.48.
#[tokio::test]
async fn the_digest_lists_fees_and_interest_per_account() {
    let (app, _db) = fee_app().await;
    let maria = person("maria", Role::Collector);
    let out = run_as(&app, &maria, "d1", "digest", today()).await;
    let shown = serde_json::to_string(&out.reply).unwrap();
    let want = "*Late fees and interest owed* (beyond the balances)\\n*BOLT-001* USD 62.57\\n*EURO-001* EUR 41.11\\n*QUIET-001* USD 5.76\\n*ACME-001* USD 3.48";
    assert!(shown.contains(want), "{shown}");
    assert!(
        out.reply
            .text
            .contains("late fees and interest on 4 accounts"),
        "{}",
        out.reply.text
    );
    let (plain, _db2) = app_with_seed().await;
    let out = run_as(&plain, &maria, "d1", "digest", today()).await;
    assert!(
        !serde_json::to_string(&out.reply)
            .unwrap()
            .contains("Late fees")
    );
}
