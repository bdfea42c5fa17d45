//! Payments seen in chat: a CSV payment for an account someone is working on is posted to the
//! team's channel (the digest's) through the real Slack client and the fake, and to the agency
//! of a referred account; importing the same file again posts nothing new.
use crate::slack_support::*;
use crate::support::*;
use dunbot::app::App;
use dunbot::app::admin::{ImportKind, import_file};
use dunbot::domain::roles::Role;

const PAYMENTS: &str = "account,invoice,paid_on,amount,currency,reference
ACME-001,INV-1001,2026-11-23,500.00,USD,WIRE-A
BOLT-001,INV-2001,2026-11-23,1000.00,USD,WIRE-B
EURO-001,INV-4001,2026-11-23,100.00,EUR,WIRE-C
";

async fn import_payments(app: &App, path: &std::path::Path) {
    import_file(app, ImportKind::Payments, path, Some(today()))
        .await
        .unwrap()
        .unwrap_or_else(|rows| panic!("payments refused: {rows:?}"));
}

/// `(channel, text)` of every message posted to Slack.
fn posts(bot: &Bot) -> Vec<(String, String)> {
    bot.fake
        .calls("chat.postMessage")
        .iter()
        .map(|c| {
            (
                c.body["channel"].as_str().unwrap_or_default().to_string(),
                c.body["text"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_payment_that_keeps_a_promise_or_comes_from_a_referred_customer_is_posted_once() {
    let bot = bot().await;
    let app = &bot.app;
    {
        let mut conn = app.store.pool.acquire().await.unwrap();
        dunbot::store::schedule::upsert_subscription(
            &mut conn,
            "slack:CTEAM",
            "0 0 8 * * Mon-Fri",
            "UTC",
        )
        .await
        .unwrap();
    }
    // The agency also takes signed webhooks.
    dunbot::app::admin::add_agency(
        app,
        "Northwind Recovery",
        Some("https://northwind.example/dunbot"),
        Some("whsec-nw"),
        Some("slack:CAGENCY"),
    )
    .await
    .unwrap();
    let maria = person("maria", Role::Collector);
    let root = person("root", Role::Admin);
    for (who, id, text) in [
        (&maria, "p-1", "promise ACME-001 500 2026-11-27"),
        (&root, "r-1", "refer BOLT-001 \"Northwind Recovery\""),
    ] {
        let out = run_as(app, who, id, text, today()).await;
        assert!(!out.refused, "{text}: {}", out.reply.text);
    }
    bot.drain().await;
    let before = posts(&bot).len();

    let path = tempdir().join("payments.csv");
    std::fs::write(&path, PAYMENTS).unwrap();
    import_payments(app, &path).await;
    bot.drain().await;
    let new: Vec<(String, String)> = posts(&bot)[before..].to_vec();
    // One batch of outbox rows is not delivered in a fixed order.
    let mut team: Vec<&str> = new
        .iter()
        .filter(|(c, _)| c == "CTEAM")
        .map(|(_, t)| t.as_str())
        .collect();
    team.sort();
    assert_eq!(
        team,
        vec![
            "ACME-001 paid USD 500.00 — promise kept",
            "BOLT-001 paid USD 1,000.00 — with Northwind Recovery; paid to us directly",
        ],
        "{new:?}"
    );
    let agency: Vec<&str> = new
        .iter()
        .filter(|(c, _)| c == "CAGENCY")
        .map(|(_, t)| t.as_str())
        .collect();
    assert_eq!(agency.len(), 1, "{new:?}");
    assert!(
        agency[0].starts_with("BOLT-001 (Bolt Freight) paid USD 1,000.00 directly to us"),
        "{}",
        agency[0]
    );
    assert_eq!(new.len(), 3, "EURO-001 is nobody's case: no news. {new:?}");
    let hooks: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT payload->'body' FROM outbox WHERE kind = 'webhook' AND payload->'body'->>'event' = 'payment_received'",
    )
    .fetch_all(&app.store.pool)
    .await
    .unwrap();
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    let h = &hooks[0];
    assert_eq!(
        (
            h["account"].as_str(),
            h["invoice"].as_str(),
            h["amount_minor"].as_i64(),
            h["currency"].as_str(),
            h["reference"].as_str(),
            h["balance_minor"].as_i64(),
        ),
        (
            Some("BOLT-001"),
            Some("INV-2001"),
            Some(100_000),
            Some("USD"),
            Some("WIRE-B"),
            Some(400_000)
        ),
        "{h}"
    );
    // The promise is kept, recorded once as dunbot's automatic action.
    let kept: Vec<(String, String)> =
        sqlx::query_as("SELECT actor_name, subject FROM actions WHERE kind = 'promise_kept'")
            .fetch_all(&app.store.pool)
            .await
            .unwrap();
    assert_eq!(kept, vec![("dunbot".into(), "ACME-001".into())]);

    // The same file again: nothing new is queued or posted.
    let rows = count(app, "outbox").await;
    import_payments(app, &path).await;
    bot.drain().await;
    assert_eq!(count(app, "outbox").await, rows);
    assert_eq!(posts(&bot).len(), before + 3);
}

#[tokio::test]
async fn without_a_digest_channel_payment_news_go_to_the_managers_channel() {
    let bot = bot().await;
    let app = &bot.app;
    let maria = person("maria", Role::Collector);
    let out = run_as(
        app,
        &maria,
        "f-1",
        "flag ACME-001 says the cheque is in the post",
        today(),
    )
    .await;
    assert!(!out.refused, "{}", out.reply.text);
    bot.drain().await;
    let before = posts(&bot).len();
    let path = tempdir().join("payments.csv");
    std::fs::write(
        &path,
        "account,invoice,paid_on,amount,currency,reference\nACME-001,INV-1002,2026-11-23,400.00,USD,CHQ-1\n",
    )
    .unwrap();
    import_payments(app, &path).await;
    bot.drain().await;
    assert_eq!(
        posts(&bot)[before..].to_vec(),
        vec![(
            "CMGR".to_string(),
            "ACME-001 paid USD 400.00 — flagged for a management call".to_string()
        )]
    );
}
