//! End to end through the fake Discord's gateway: a collector logs a promise and records an
//! offer, a collector's Approve is refused, a manager's Approve takes effect once however
//! often it is pressed, the agency's channel gets the decision, and the action log names
//! every Discord user.
use crate::discord_gateway::Running;
use crate::fake_discord::*;
use crate::support::*;
use dunbot::domain::roles::Role;
use dunbot::edges::discord::deliver::DiscordChannel;
use dunbot::notify::{Deliverers, drain_once};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const AGENCY_CHANNEL: u64 = 7777;
const CARLA: u64 = 111;
const MIKE: u64 = 222;

/// The `n`th (from 1) first response to interaction `id`, once the bot has sent it.
async fn answered(fake: &FakeDiscord, id: u64, n: usize) -> Value {
    let path = format!("/interactions/{id}/token-{id}/callback");
    let calls = fake
        .wait_for(&path, |c| {
            c.iter().filter(|c| c.path.contains(&path)).count() >= n
        })
        .await;
    calls
        .into_iter()
        .filter(|c| c.path.contains(&path))
        .nth(n - 1)
        .unwrap()
        .body
}

fn callback(fake: &FakeDiscord, id: u64) -> Value {
    fake.calls_to("POST", &format!("/interactions/{id}/token-{id}/callback"))
        .first()
        .expect("first response")
        .body
        .clone()
}

#[tokio::test]
async fn collector_promise_refused_approve_and_a_manager_approving_once() {
    let r = Running::start(|_| {}).await;
    let app = &r.app;
    dunbot::app::admin::add_agency(
        app,
        "Northwind Recovery",
        None,
        None,
        Some(&format!("discord:{AGENCY_CHANNEL}")),
    )
    .await
    .unwrap();
    let boss = person("boss", Role::Manager);
    let out = run_as(
        app,
        &boss,
        "refer-1",
        "refer BOLT-001 Northwind Recovery",
        today(),
    )
    .await;
    assert!(!out.refused, "{:?}", out.reply);
    let carla = || member(CARLA, "carla", &[COLLECTOR_ROLE]);
    let mike = || member(MIKE, "mike", &[MANAGER_ROLE]);

    // A collector logs a promise with /ar promise: answered at once, for the channel.
    r.fake.interaction(slash(
        5001,
        CHANNEL,
        carla(),
        "ar",
        "promise",
        &[
            ("account", json!("ACME-001")),
            ("amount", json!("500")),
            ("date", json!("2026-11-27")),
        ],
    ));
    let answer = answered(&r.fake, 5001, 1).await;
    assert_eq!(answer["type"], 4, "{answer}");
    assert!(answer["data"].get("flags").is_none(), "{answer}");
    assert!(answer.to_string().contains("ACME-001"), "{answer}");
    assert_eq!(count(app, "promises").await, 1);

    // The collector records the agency's offer; the answer carries no Approve / Reject, which
    // only a manager may press.
    r.fake.interaction(slash(
        5002,
        CHANNEL,
        carla(),
        "ar",
        "offer",
        &[("account", json!("BOLT-001")), ("amount", json!("4000"))],
    ));
    let offer_msg = answered(&r.fake, 5002, 1).await["data"].clone();
    let ids: Vec<String> = offer_msg["components"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row["components"].as_array().unwrap().clone())
        .map(|b| b["custom_id"].as_str().unwrap().to_string())
        .collect();
    assert!(ids.is_empty(), "{ids:?}");
    // The managers' copy carries them (as the managers' ping renders it).
    let approve = "r:0:settle 1 approve".to_string();
    let mut ping = offer_msg.clone();
    ping["components"] = json!([{"type": 1, "components": [
        {"type": 2, "style": 1, "label": "Approve", "custom_id": approve},
        {"type": 2, "style": 4, "label": "Reject", "custom_id": "r:1:settle 1 reject"},
    ]}]);
    let message = posted_message(990_001, CHANNEL, &ping);

    // The collector presses Approve: refused to them alone in the response, recorded.
    r.fake
        .interaction(press(5003, CHANNEL, carla(), &approve, message.clone()));
    let answer = answered(&r.fake, 5003, 1).await;
    assert_eq!(answer["type"], 4, "{answer}");
    let refusal = &answer["data"];
    assert_eq!(refusal["flags"], 64);
    assert!(refusal.to_string().contains("Only a manager"), "{refusal}");

    // The manager presses Approve: the message shows who approved, without the buttons.
    r.fake
        .interaction(press(5004, CHANNEL, mike(), &approve, message.clone()));
    let answer = answered(&r.fake, 5004, 1).await;
    assert_eq!(answer["type"], 7, "the pressed message, updated: {answer}");
    let resolved = &answer["data"];
    let text = resolved.to_string();
    assert!(text.contains("Approved by mike at 10:00 UTC"), "{text}");
    assert_eq!(resolved["components"], json!([]), "{resolved}");
    // Every button on it was decided: the content above says so too.
    let content = resolved["content"].as_str().unwrap();
    assert!(content.contains("approved by mike"), "{content}");

    // Discord redelivers the same press, and the manager presses the stale button again.
    r.fake
        .interaction(press(5004, CHANNEL, mike(), &approve, message.clone()));
    r.fake
        .interaction(press(5005, CHANNEL, mike(), &approve, message));
    let again = answered(&r.fake, 5005, 1).await;
    assert_eq!(again["data"]["flags"], 64);
    assert!(again.to_string().contains("already"), "{again}");
    let redelivered = answered(&r.fake, 5004, 2).await;
    assert_eq!(
        redelivered, answer,
        "the redelivered press gets the same answer"
    );
    let decided: i64 = sqlx::query_scalar("SELECT count(*) FROM offers WHERE status = 'approved'")
        .fetch_one(&app.store.pool)
        .await
        .unwrap();
    assert_eq!(decided, 1);

    // The agency's channel hears of the decision, through the outbox and the deliverer.
    let ds = Deliverers::new(8).add(
        "chat",
        Arc::new(DiscordChannel::new(
            r.edge.http.clone(),
            Duration::from_millis(10),
        )),
    );
    drain_once(&app.store, &ds, 50).await.unwrap();
    let pings = r
        .fake
        .calls_to("POST", &format!("/channels/{AGENCY_CHANNEL}/messages"));
    // The referral first, then the decision.
    assert_eq!(pings.len(), 2, "{pings:?}");
    assert!(
        pings[0].body["content"]
            .as_str()
            .unwrap()
            .contains("referred to Northwind")
    );
    assert!(
        pings[1].body["content"].as_str().unwrap().contains(
            "Offer 1 (USD 4,000.00 on BOLT-001 from Northwind Recovery) approved by mike"
        ),
        "{}",
        pings[1].body
    );

    // The action log (what `dunbot log --json` prints) names each Discord user.
    let mut conn = app.store.pool.acquire().await.unwrap();
    let log = dunbot::store::actions::list(&mut conn, None, 100)
        .await
        .unwrap();
    let discord: Vec<(String, String, String)> = log
        .iter()
        .filter(|a| a.actor_platform == "discord")
        .map(|a| (a.actor_id.clone(), a.kind.clone(), a.outcome.clone()))
        .collect();
    let row = |id: u64, kind: &str, outcome: &str| (id.to_string(), kind.into(), outcome.into());
    assert_eq!(
        discord,
        vec![
            row(CARLA, "promise", "ok"),
            row(CARLA, "offer", "ok"),
            row(CARLA, "settle", "refused"),
            row(MIKE, "settle", "ok"),
            row(MIKE, "settle", "refused"),
        ]
    );
    assert!(
        log.iter()
            .all(|a| a.actor_platform != "discord" || a.channel == format!("discord:{CHANNEL}"))
    );
    r.stop().await;
}

#[tokio::test]
async fn log_promise_opens_a_form_and_its_submission_logs_the_promise() {
    let r = Running::start(|_| {}).await;
    let carla = || member(CARLA, "carla", &[COLLECTOR_ROLE]);
    let digest_line = json!({"content": "digest", "embeds": [], "components": []});
    r.fake.interaction(press(
        6001,
        CHANNEL,
        carla(),
        "f:1:promise ACME-001",
        posted_message(990_002, CHANNEL, &digest_line),
    ));
    r.fake
        .wait_for("the modal", |c| {
            c.iter().any(|c| c.path.contains("/interactions/6001/"))
        })
        .await;
    let modal = callback(&r.fake, 6001);
    assert_eq!(modal["type"], 9, "{modal}");
    assert_eq!(modal["data"]["custom_id"], "m:promise ACME-001");
    let fields: Vec<&str> = modal["data"]["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["components"][0]["custom_id"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["amount", "date", "note"]);
    assert_eq!(
        count(&r.app, "promises").await,
        0,
        "opening the form writes nothing"
    );

    r.fake.interaction(modal_submit(
        6002,
        CHANNEL,
        carla(),
        "m:promise ACME-001",
        &[
            ("amount", "1,250.00"),
            ("date", "2026-11-27"),
            ("note", "by wire, Jane"),
        ],
    ));
    let answer = answered(&r.fake, 6002, 1).await;
    assert_eq!(answer["type"], 4, "{answer}");
    assert!(answer.to_string().contains("ACME-001"), "{answer}");
    let (command, source): (String, String) = sqlx::query_as(
        "SELECT details->>'command', details->>'source' FROM actions WHERE actor_platform = 'discord'",
    )
    .fetch_one(&r.app.store.pool)
    .await
    .unwrap();
    assert_eq!(
        command,
        "promise ACME-001 '1,250.00' 2026-11-27 'by wire, Jane'"
    );
    assert_eq!(source, "form");
    assert_eq!(count(&r.app, "promises").await, 1);
    r.stop().await;
}
