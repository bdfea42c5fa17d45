//! The life of a posted message: whom a ping notifies (Discord roles, Slack groups or people),
//! and how every copy of an offer's message comes to say what was decided, on Slack and on
//! Discord, through the real client crates against the loopback fakes.
use crate::fake_discord::*;
use crate::slack_support::{bot, find_button, offer_on_bolt};
use crate::support::*;
use dunbot::app::{Actor, App, Platform};
use dunbot::domain::roles::Role;
use dunbot::edges::discord::deliver::DiscordChannel;
use dunbot::edges::discord::gateway;
use dunbot::edges::slack::deliver::SlackDeliverer;
use dunbot::notify::{Deliverers, drain_once};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

fn admin() -> Actor {
    Actor {
        platform: Platform::Console,
        user_id: "root".into(),
        name: "root".into(),
        roles: vec![Role::Admin],
        agency: None,
    }
}

async fn grant_agency(app: &App, platform: &str, user: &str) {
    let mut conn = app.store.pool.acquire().await.unwrap();
    let agency = dunbot::store::collections::agency_by_name(&mut conn, "Northwind Recovery")
        .await
        .unwrap()
        .unwrap();
    dunbot::store::people::grant(
        &mut conn,
        platform,
        user,
        Role::Agency,
        Some(agency.id),
        "t",
    )
    .await
    .unwrap();
}

async fn copies(app: &App) -> Vec<(String, String)> {
    sqlx::query_as("SELECT channel, message_id FROM message_copies ORDER BY channel")
        .fetch_all(&app.store.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn slack_pings_mention_the_managers_and_the_agencys_people() {
    let bot = bot().await;
    grant_agency(&bot.app, "slack", "UAGENT").await;
    offer_on_bolt(&bot.app).await;
    bot.drain().await;
    let posts = bot.fake.calls("chat.postMessage");
    let to = |channel: &str| -> Value {
        posts
            .iter()
            .find(|c| c.body["channel"] == channel)
            .unwrap_or_else(|| panic!("no post to {channel}: {posts:#?}"))
            .body
            .clone()
    };
    // The managers' ping: the people granted the manager role, in the text Slack notifies
    // from and in the first block.
    let mgr = to("CMGR");
    assert!(
        mgr["text"].as_str().unwrap().starts_with("<@UMGR> "),
        "{mgr}"
    );
    assert!(
        mgr["blocks"][0]["text"]["text"]
            .as_str()
            .unwrap()
            .starts_with("<@UMGR> "),
        "{mgr}"
    );
    // The referral ping: the agency's people, not the managers.
    let agency = to("CAGENCY")["text"].as_str().unwrap().to_string();
    assert!(agency.starts_with("<@UAGENT> "), "{agency}");
    assert!(!agency.contains("UMGR"), "{agency}");

    // With a user group set, a managers' ping mentions the group.
    let collector = person("maria", Role::Collector);
    let out = run_as(
        &bot.app,
        &collector,
        "flag-1",
        "flag ACME-001 three missed calls",
        today(),
    )
    .await;
    assert!(!out.refused, "{}", out.reply.text);
    let grouped = Arc::new(SlackDeliverer {
        api: bot.edge.api.clone().unwrap(),
        store: bot.app.store.clone(),
        managers_group: Some("S0123".into()),
    });
    let ds = Deliverers::new(8).add("chat", grouped);
    drain_once(&bot.app.store, &ds, 50).await.unwrap();
    let flag = bot.fake.calls("chat.postMessage").pop().unwrap().body;
    assert_eq!(flag["channel"], "CMGR");
    let text = flag["text"].as_str().unwrap();
    assert!(text.starts_with("<!subteam^S0123> "), "{text}");
    assert!(!text.contains("<@UMGR>"), "{text}");
}

/// A `block_actions` press by `user` in `channel` on the message `ts` (its text and blocks as
/// posted).
fn press_in(channel: &str, user: &str, ts: &str, posted: &Value, command: &str) -> Value {
    let blocks = posted["blocks"].as_array().unwrap().clone();
    let (block_id, action_id) = find_button(&blocks, command);
    json!({
        "type": "block_actions",
        "user": {"id": user, "username": user.to_lowercase(), "team_id": "T123"},
        "api_app_id": "A123",
        "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": false},
        "trigger_id": "trig-press",
        "team": {"id": "T123"},
        "channel": {"id": channel, "name": "managers"},
        "message": {"type": "message", "ts": ts, "text": posted["text"], "blocks": blocks},
        "response_url": "http://127.0.0.1:9/unused",
        "actions": [{
            "action_id": action_id, "block_id": block_id, "value": command,
            "type": "button", "action_ts": "1700000001.000001",
            "text": {"type": "plain_text", "text": "Approve"},
        }],
    })
}

#[tokio::test]
async fn a_decision_updates_every_slack_copy_of_the_offer() {
    let bot = bot().await;
    let out = run_as(
        &bot.app,
        &admin(),
        "refer",
        "refer BOLT-001 \"Northwind Recovery\"",
        today(),
    )
    .await;
    assert!(!out.refused, "{}", out.reply.text);
    // A collector records the offer with /ar offer in C123: the answer is posted where it can
    // be found again, without the buttons a collector may not press.
    bot.command("UCOLL", "offer BOLT-001 3000", "offer").await;
    bot.fake
        .wait_until("the offer's answer", |f| {
            f.calls("chat.postMessage")
                .iter()
                .any(|c| c.body["channel"] == "C123")
        })
        .await;
    let reply = bot.fake.calls("chat.postMessage").remove(0).body;
    assert!(
        !reply["blocks"].to_string().contains("\"actions\""),
        "{reply}"
    );
    bot.drain().await;
    let ping = bot
        .fake
        .calls("chat.postMessage")
        .into_iter()
        .find(|c| c.body["channel"] == "CMGR")
        .unwrap()
        .body;
    let recorded = copies(&bot.app).await;
    let ts_of = |channel: &str| {
        recorded
            .iter()
            .find(|(c, _)| c == channel)
            .unwrap_or_else(|| panic!("no copy in {channel}: {recorded:?}"))
            .1
            .clone()
    };
    let (reply_ts, ping_ts) = (ts_of("slack:C123"), ts_of("slack:CMGR"));
    assert_eq!(recorded.len(), 2, "{recorded:?}");

    // The manager approves on the managers' ping: that copy's text and blocks both change.
    let r = bot
        .interaction(&press_in(
            "CMGR",
            "UMGR",
            &ping_ts,
            &ping,
            "settle 1 approve",
        ))
        .await;
    assert_eq!(r.status(), 200);
    bot.fake
        .wait_until("chat.update of the pressed copy", |f| {
            !f.calls("chat.update").is_empty()
        })
        .await;
    let pressed = bot.fake.calls("chat.update").remove(0).body;
    assert_eq!(
        (pressed["channel"].as_str(), pressed["ts"].as_str()),
        (Some("CMGR"), Some(ping_ts.as_str()))
    );
    let text = pressed["text"].as_str().unwrap();
    assert!(!text.contains("needs a manager's decision"), "{text}");
    assert!(text.contains("approved by umgr"), "{text}");
    let blocks = pressed["blocks"].to_string();
    assert!(!blocks.contains("\"actions\""), "{blocks}");
    assert!(blocks.contains("Approved by umgr"), "{blocks}");

    // Every other copy follows through the outbox, once.
    bot.drain().await;
    bot.drain().await;
    let updates = bot.fake.calls("chat.update");
    let other: Vec<&Value> = updates
        .iter()
        .map(|c| &c.body)
        .filter(|b| b["channel"] == "C123" && b["ts"] == reply_ts.as_str())
        .collect();
    assert_eq!(other.len(), 1, "{updates:#?}");
    assert!(
        other[0]["text"]
            .as_str()
            .unwrap()
            .contains("approved by umgr"),
        "{}",
        other[0]
    );
    assert!(other[0]["blocks"].to_string().contains("Approved by umgr"));
    let queued: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE kind = 'chat_edit'")
        .fetch_one(&bot.app.store.pool)
        .await
        .unwrap();
    assert_eq!(queued, 2, "one edit per recorded copy");
}

const MANAGERS_CHANNEL: u64 = 8888;
const AGENCY_CHANNEL: u64 = 7777;

/// The Discord client on the gateway, with managers and the agency in Discord channels.
async fn discord() -> (
    Arc<App>,
    TestDb,
    FakeDiscord,
    Deliverers,
    Arc<dunbot::edges::discord::Discord>,
    tokio::sync::watch::Sender<bool>,
) {
    let db = TestDb::new().await;
    let app = App::new(
        dunbot::config::Settings {
            managers_channel: format!("discord:{MANAGERS_CHANNEL}"),
            ..settings()
        },
        db.store.clone(),
    );
    seed(&app, CUSTOMERS, INVOICES, None).await;
    dunbot::app::admin::add_agency(
        &app,
        "Northwind Recovery",
        None,
        None,
        Some(&format!("discord:{AGENCY_CHANNEL}")),
    )
    .await
    .unwrap();
    let app = Arc::new(app);
    let fake = FakeDiscord::start().await;
    let edge = edge(app.clone(), &fake, at(today(), 10));
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(gateway::run(edge.clone(), stop_rx));
    fake.wait_gateway("IDENTIFY", |frames, _| frames.iter().any(|f| f["op"] == 2))
        .await;
    let d = Arc::new(
        DiscordChannel::new(edge.http.clone(), Duration::from_millis(10))
            .with_roles(config(&fake).roles)
            .with_store(app.store.clone()),
    );
    let ds = Deliverers::new(8)
        .add("chat", d.clone())
        .add("chat_edit", d);
    (app, db, fake, ds, edge, stop)
}

#[tokio::test]
async fn discord_pings_mention_roles_and_a_decision_edits_every_copy() {
    let (app, _db, fake, ds, _edge, stop) = discord().await;
    let out = run_as(
        &app,
        &admin(),
        "refer",
        "refer BOLT-001 \"Northwind Recovery\"",
        today(),
    )
    .await;
    assert!(!out.refused, "{}", out.reply.text);
    let carla = member(111, "carla", &[COLLECTOR_ROLE]);
    let mike = member(222, "mike", &[MANAGER_ROLE]);

    // A collector records the offer; the answer is a copy, recorded by its message id.
    fake.interaction(slash(
        7001,
        CHANNEL,
        carla,
        "ar",
        "offer",
        &[("account", json!("BOLT-001")), ("amount", json!("4000"))],
    ));
    // Answered at once (type 4), then read back for its message id, which is recorded.
    fake.wait_for("the offer's answer", |c| {
        c.iter()
            .any(|c| c.method == "GET" && c.path.contains("token-7001/messages/@original"))
    })
    .await;
    for _ in 0..200 {
        if !copies(&app).await.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    drain_once(&app.store, &ds, 50).await.unwrap();

    // The managers' ping mentions the manager role, and only it may be pinged.
    let ping = fake
        .calls_to("POST", &format!("/channels/{MANAGERS_CHANNEL}/messages"))
        .remove(0)
        .body;
    let content = ping["content"].as_str().unwrap();
    assert!(
        content.starts_with(&format!("<@&{MANAGER_ROLE}> ")),
        "{content}"
    );
    assert_eq!(
        ping["allowed_mentions"],
        json!({"parse": [], "roles": [MANAGER_ROLE.to_string()]})
    );
    // The referral ping mentions the agency's role.
    let referral = fake
        .calls_to("POST", &format!("/channels/{AGENCY_CHANNEL}/messages"))
        .remove(0)
        .body;
    assert!(
        referral["content"]
            .as_str()
            .unwrap()
            .starts_with(&format!("<@&{AGENCY_ROLE}> ")),
        "{referral}"
    );
    assert_eq!(
        referral["allowed_mentions"],
        json!({"parse": [], "roles": [AGENCY_ROLE.to_string()]})
    );

    let recorded = copies(&app).await;
    assert_eq!(recorded.len(), 2, "{recorded:?}");
    let id_in = |channel: u64| {
        recorded
            .iter()
            .find(|(c, _)| *c == format!("discord:{channel}"))
            .unwrap_or_else(|| panic!("no copy in {channel}: {recorded:?}"))
            .1
            .clone()
    };
    let (reply_id, ping_id) = (id_in(CHANNEL), id_in(MANAGERS_CHANNEL));

    // The manager approves on the managers' ping: the pressed copy's content changes too.
    let approve = ping["components"][0]["components"][0]["custom_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(approve.ends_with("settle 1 approve"), "{approve}");
    fake.interaction(press(
        7002,
        MANAGERS_CHANNEL,
        mike,
        &approve,
        posted_message(ping_id.parse().unwrap(), MANAGERS_CHANNEL, &ping),
    ));
    // Decided at once: the pressed message is updated in the interaction's answer (type 7).
    let calls = fake
        .wait_for("the pressed copy edited", |c| {
            c.iter()
                .any(|c| c.method == "POST" && c.path.contains("7002/token-7002/callback"))
        })
        .await;
    let answer = &calls
        .iter()
        .find(|c| c.method == "POST" && c.path.contains("7002/token-7002/callback"))
        .unwrap()
        .body;
    assert_eq!(answer["type"], 7, "{answer}");
    let pressed = &answer["data"];
    let content = pressed["content"].as_str().unwrap();
    assert!(!content.contains("needs a manager's decision"), "{content}");
    assert!(content.contains("approved by mike"), "{content}");
    assert_eq!(pressed["components"], json!([]), "{pressed}");
    assert!(
        pressed.to_string().contains("Approved by mike"),
        "{pressed}"
    );

    // The collector's copy follows through the outbox, edited by its message id.
    drain_once(&app.store, &ds, 50).await.unwrap();
    let edits = fake.calls_to("PATCH", &format!("/channels/{CHANNEL}/messages/{reply_id}"));
    assert_eq!(edits.len(), 1, "{:#?}", fake.calls());
    let body = &edits[0].body;
    assert!(
        body["content"]
            .as_str()
            .unwrap()
            .contains("approved by mike"),
        "{body}"
    );
    assert_eq!(body["components"], json!([]));
    // The decision pings the agency with its role.
    let decision = fake
        .calls_to("POST", &format!("/channels/{AGENCY_CHANNEL}/messages"))
        .pop()
        .unwrap()
        .body;
    assert!(
        decision["content"]
            .as_str()
            .unwrap()
            .starts_with(&format!("<@&{AGENCY_ROLE}> Offer 1")),
        "{decision}"
    );
    let _ = stop.send(true);
}

#[tokio::test]
async fn after_the_discord_promise_form_flag_for_call_stays() {
    let (app, _db, fake, _ds, _edge, stop) = discord().await;
    let digest = json!({"content": "digest", "embeds": [{"description": "• ACME-001"}], "components": [
        {"type": 1, "components": [
            {"type": 2, "style": 2, "label": "Send reminder", "custom_id": "r:0:remind ACME-001"},
            {"type": 2, "style": 1, "label": "Log promise", "custom_id": "f:1:promise ACME-001"},
            {"type": 2, "style": 4, "label": "Flag for call", "custom_id": "f:2:flag ACME-001"},
        ]},
    ]});
    let mut submit = modal_submit(
        7101,
        CHANNEL,
        member(111, "carla", &[COLLECTOR_ROLE]),
        "m:promise ACME-001",
        &[("amount", "500"), ("date", "2026-11-27")],
    );
    submit["message"] = posted_message(990_010, CHANNEL, &digest);
    fake.interaction(submit);
    let path = format!("/channels/{CHANNEL}/messages/990010");
    let calls = fake
        .wait_for("the digest line edited", |c| {
            c.iter()
                .any(|c| c.method == "PATCH" && c.path.ends_with(&path))
        })
        .await;
    let edit = &calls
        .iter()
        .find(|c| c.method == "PATCH" && c.path.ends_with(&path))
        .unwrap()
        .body;
    let ids: Vec<&str> = edit["components"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["components"].as_array().unwrap())
        .map(|b| b["custom_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["f:2:flag ACME-001"], "{edit}");
    assert!(edit.to_string().contains("Promise of"), "{edit}");
    assert_eq!(count(&app, "promises").await, 1);
    let _ = stop.send(true);
}

#[tokio::test]
async fn a_ping_delivered_after_the_decision_is_corrected_at_once() {
    let bot = bot().await;
    let offer = offer_on_bolt(&bot.app).await;
    // A manager decides before the managers' ping has left the outbox (Slack was down).
    let boss = person("priya", Role::Manager);
    let out = run_as(
        &bot.app,
        &boss,
        "decide",
        &format!("settle {offer} reject"),
        today(),
    )
    .await;
    assert!(!out.refused, "{}", out.reply.text);
    bot.drain().await;
    let ping_ts: String =
        sqlx::query_scalar("SELECT message_id FROM message_copies WHERE channel = 'slack:CMGR'")
            .fetch_one(&bot.app.store.pool)
            .await
            .unwrap();
    bot.drain().await;
    let updates = bot.fake.calls("chat.update");
    assert_eq!(updates.len(), 1, "{updates:#?}");
    let upd = &updates[0].body;
    assert_eq!(upd["ts"], ping_ts.as_str());
    assert!(
        upd["text"].as_str().unwrap().contains("rejected by priya"),
        "{upd}"
    );
    assert!(!upd["blocks"].to_string().contains("\"actions\""), "{upd}");
}

/// Today's digest as a manager sees it, queued for `channel`.
async fn queue_digest(app: &App, channel: &str) {
    let boss = person("priya", Role::Manager);
    let digest = run_as(app, &boss, "digest-view", "digest", today()).await;
    assert!(
        digest
            .reply
            .buttons()
            .any(|b| b.command == "settle 1 approve"),
        "the digest lists the offer: {:?}",
        digest.reply
    );
    let mut conn = app.store.pool.acquire().await.unwrap();
    dunbot::store::outbox::enqueue(
        &mut conn,
        "chat",
        "digest-copy",
        &json!({"channel": channel, "message": digest.reply}),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_decision_resolves_the_offers_line_in_a_slack_digest() {
    let bot = bot().await;
    let offer = offer_on_bolt(&bot.app).await;
    queue_digest(&bot.app, "slack:CDIGEST").await;
    bot.drain().await;
    let digest_ts: String = sqlx::query_scalar(
        "SELECT message_id FROM message_copies WHERE channel = 'slack:CDIGEST' AND line",
    )
    .fetch_one(&bot.app.store.pool)
    .await
    .unwrap();
    let boss = person("priya", Role::Manager);
    let out = run_as(
        &bot.app,
        &boss,
        "decide",
        &format!("settle {offer} approve"),
        today(),
    )
    .await;
    assert!(!out.refused, "{}", out.reply.text);
    bot.drain().await;
    let outbox: Vec<(String, String, Option<String>)> =
        sqlx::query_as("SELECT kind, status, last_error FROM outbox ORDER BY id")
            .fetch_all(&bot.app.store.pool)
            .await
            .unwrap();
    let upd = bot
        .fake
        .calls("chat.update")
        .into_iter()
        .find(|c| c.body["channel"] == "CDIGEST")
        .unwrap_or_else(|| panic!("the digest was not updated; outbox: {outbox:?}"))
        .body;
    assert_eq!(upd["ts"], digest_ts.as_str());
    let blocks = upd["blocks"].to_string();
    assert!(!blocks.contains("settle 1 "), "{blocks}");
    assert!(blocks.contains("Offer 1: Approved by priya"), "{blocks}");
    // The digest's other lines keep their buttons.
    assert!(blocks.contains("remind ACME-001"), "{blocks}");
}

#[tokio::test]
async fn a_decision_resolves_the_offers_line_in_a_discord_digest() {
    let (app, _db, fake, ds, _edge, stop) = discord().await;
    let out = run_as(
        &app,
        &admin(),
        "refer",
        "refer BOLT-001 \"Northwind Recovery\"",
        today(),
    )
    .await;
    assert!(!out.refused, "{}", out.reply.text);
    let out = run_as(&app, &admin(), "offer", "offer BOLT-001 3000", today()).await;
    assert!(!out.refused, "{}", out.reply.text);
    queue_digest(&app, "discord:4242").await;
    drain_once(&app.store, &ds, 50).await.unwrap();
    let digest_id: String = sqlx::query_scalar(
        "SELECT message_id FROM message_copies WHERE channel = 'discord:4242' AND line",
    )
    .fetch_one(&app.store.pool)
    .await
    .unwrap();
    let boss = person("priya", Role::Manager);
    let out = run_as(&app, &boss, "decide", "settle 1 reject", today()).await;
    assert!(!out.refused, "{}", out.reply.text);
    drain_once(&app.store, &ds, 50).await.unwrap();
    let edits = fake.calls_to("PATCH", &format!("/channels/4242/messages/{digest_id}"));
    assert_eq!(edits.len(), 1, "{:#?}", fake.calls());
    let body = edits[0].body.to_string();
    assert!(!body.contains("settle 1 "), "{body}");
    assert!(body.contains("Offer 1: Rejected by priya"), "{body}");
    assert!(body.contains("remind ACME-001"), "{body}");
    let _ = stop.send(true);
}
