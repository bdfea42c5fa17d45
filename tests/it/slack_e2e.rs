//! End to end over HTTP: `/ar promise` from a collector, the managers' ping with Approve /
//! Reject delivered to Slack, an Approve from a non-manager refused (ephemeral, recorded), an
//! Approve from a manager pressed twice taking effect once (the message updated, the buttons
//! gone, the agency pinged), and `dunbot log --json` showing each with its Slack user id.
use crate::slack_support::*;
use crate::support::*;
use serde_json::Value;

async fn offer_status(bot: &Bot, id: i64) -> String {
    sqlx::query_scalar("SELECT status FROM offers WHERE id = $1")
        .bind(id)
        .fetch_one(&bot.app.store.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn promise_refused_approve_and_double_approve_over_http() {
    let bot = bot().await;
    // A collector logs a promise.
    assert_eq!(
        bot.command("UCOLL", "promise ACME-001 100 fri", "c1")
            .await
            .status(),
        200
    );
    bot.fake
        .wait_until("the promise reply", |f| !f.calls("response:c1").is_empty())
        .await;
    assert_eq!(count(&bot.app, "promises").await, 1);

    // An agency offer pings the managers' Slack channel with the decision buttons.
    let offer = offer_on_bolt(&bot.app).await;
    bot.drain().await;
    let ping = bot
        .fake
        .calls("chat.postMessage")
        .into_iter()
        .find(|c| c.body["channel"] == "CMGR")
        .expect("managers pinged in CMGR");
    let blocks: Vec<Value> = ping.body["blocks"].as_array().unwrap().clone();
    let approve = format!("settle {offer} approve");
    find_button(&blocks, &approve);
    let ts = "1700000000.000111";

    // A collector presses Approve: refused, told privately, recorded; the offer is untouched.
    let r = bot
        .interaction(&press(
            "UCOLL",
            ts,
            &blocks,
            &approve,
            "trig-a",
            &bot.fake.response_url("a1"),
        ))
        .await;
    assert_eq!(r.status(), 200);
    bot.fake
        .wait_until("the refusal", |f| !f.calls("response:a1").is_empty())
        .await;
    let refusal = &bot.fake.calls("response:a1")[0].body;
    assert_eq!(refusal["response_type"], "ephemeral");
    assert_eq!(refusal["replace_original"], false);
    assert!(
        refusal["text"].as_str().unwrap().contains("Only a manager"),
        "{refusal}"
    );
    assert_eq!(offer_status(&bot, offer).await, "proposed");
    assert!(bot.fake.calls("chat.update").is_empty());

    // The manager double-clicks Approve: two deliveries, two trigger ids, one decision.
    let first = press(
        "UMGR",
        ts,
        &blocks,
        &approve,
        "trig-b",
        &bot.fake.response_url("b1"),
    );
    let second = press(
        "UMGR",
        ts,
        &blocks,
        &approve,
        "trig-c",
        &bot.fake.response_url("b2"),
    );
    let (r1, r2) = tokio::join!(bot.interaction(&first), bot.interaction(&second));
    assert_eq!((r1.status().as_u16(), r2.status().as_u16()), (200, 200));
    bot.fake
        .wait_until("chat.update", |f| !f.calls("chat.update").is_empty())
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let updates = bot.fake.calls("chat.update");
    assert_eq!(updates.len(), 1, "updated once");
    let upd = &updates[0].body;
    assert_eq!(
        (upd["channel"].as_str(), upd["ts"].as_str()),
        (Some("C123"), Some(ts))
    );
    let text = upd["blocks"].to_string();
    assert!(text.contains("Approved by umgr at"), "{text}");
    // The notification text no longer asks for a decision either.
    let note = upd["text"].as_str().unwrap();
    assert!(note.contains("approved by umgr"), "{note}");
    assert!(
        !text.contains(&approve),
        "the decision buttons are gone: {text}"
    );
    assert_eq!(offer_status(&bot, offer).await, "approved");
    let settled: i64 =
        sqlx::query_scalar("SELECT count(*) FROM actions WHERE kind = 'settle' AND outcome = 'ok'")
            .fetch_one(&bot.app.store.pool)
            .await
            .unwrap();
    assert_eq!(settled, 1);

    // The agency hears about it in its Slack Connect channel.
    bot.drain().await;
    assert!(
        bot.fake
            .calls("chat.postMessage")
            .iter()
            .any(|c| c.body["channel"] == "CAGENCY"),
        "agency pinged"
    );

    // `dunbot log --json` shows each, with the Slack user id.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dunbot"))
        .args(["log", "--json", "--limit", "100"])
        .env("DATABASE_URL", &bot.db.url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let has = |user: &str, kind: &str, outcome: &str| {
        rows.iter().any(|r| {
            r["actor_platform"] == "slack"
                && r["actor_id"] == user
                && r["kind"] == kind
                && r["outcome"] == outcome
        })
    };
    assert!(has("UCOLL", "promise", "ok"), "{rows:#?}");
    assert!(has("UCOLL", "settle", "refused"), "{rows:#?}");
    assert!(has("UMGR", "settle", "ok"), "{rows:#?}");
    let umgr_settles = rows
        .iter()
        .filter(|r| r["actor_id"] == "UMGR" && r["kind"] == "settle")
        .count();
    assert_eq!(umgr_settles, 1, "the double click is one row");
}
