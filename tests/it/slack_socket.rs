//! Socket Mode: slack-morphism's listener against the fake (`apps.connections.open` → a
//! `ws://` socket with hello, envelopes and acks). Slack's published envelopes are acked and
//! routed; a slash command and an Approve button work end to end; a retried envelope
//! (`retry_attempt`) changes nothing twice.
use crate::slack_http::fixture;
use crate::slack_support::*;
use crate::support::*;
use serde_json::{Value, json};

async fn acked(bot: &Bot, envelope_id: &str) {
    bot.fake
        .wait_until("the envelope's ack", |f| {
            f.socket_acks()
                .iter()
                .any(|a| a["envelope_id"] == envelope_id)
        })
        .await;
}

#[tokio::test]
async fn socket_mode_command_and_button_end_to_end() {
    let bot = bot().await;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let listener = tokio::spawn(dunbot::edges::slack::socket::run(bot.edge.clone(), stop_rx));
    bot.fake
        .wait_until("apps.connections.open", |f| {
            !f.calls("apps.connections.open").is_empty()
        })
        .await;
    let open = &bot.fake.calls("apps.connections.open")[0];
    assert_eq!(open.auth.as_deref(), Some("Bearer xapp-test-token"));

    // Slack's published envelopes: acked and routed.
    let slash: Value = serde_json::from_str(&fixture("socket-mode-slash-command.json")).unwrap();
    bot.fake.send_envelope(slash).await;
    acked(&bot, "1d3c79ab-0ffb-41f3-a080-d19e85f53649").await;
    let by: String = wait_for_actor(&bot, "slack:cmd:111.222.xxx").await;
    assert_eq!(by, "U111");
    let events: Value = serde_json::from_str(&fixture("socket-mode-events-api.json")).unwrap();
    bot.fake.send_envelope(events).await;
    acked(&bot, "cda4159a-72a5-4744-aba3-4d66eb52682b").await;
    assert_eq!(wait_for_actor(&bot, "slack:event:Ev111").await, "U222");

    // A collector's /ar promise, and Slack retrying the same envelope.
    let cmd = json!({
        "envelope_id": "env-promise", "type": "slash_commands", "accepts_response_payload": true,
        "payload": {
            "token": "t", "team_id": "T123", "channel_id": "C123", "user_id": "UCOLL",
            "command": "/ar", "text": "promise ACME-001 100 fri",
            "response_url": bot.fake.response_url("s1"), "trigger_id": "sock-trig-1",
        },
    });
    bot.fake.send_envelope(cmd.clone()).await;
    acked(&bot, "env-promise").await;
    bot.fake
        .wait_until("the promise reply", |f| !f.calls("response:s1").is_empty())
        .await;
    assert_eq!(
        bot.fake.calls("response:s1")[0].body["response_type"],
        "in_channel"
    );
    let mut retry = cmd;
    retry["envelope_id"] = json!("env-promise-retry");
    retry["retry_attempt"] = json!(1);
    retry["retry_reason"] = json!("timeout");
    bot.fake.send_envelope(retry).await;
    acked(&bot, "env-promise-retry").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(count(&bot.app, "promises").await, 1);
    assert_eq!(bot.fake.calls("response:s1").len(), 1);

    // A modal submitted over the socket: the field error travels in the ack.
    let view = json!({
        "envelope_id": "env-view", "type": "interactive", "accepts_response_payload": true,
        "payload": {
            "type": "view_submission",
            "team": {"id": "T123", "domain": "acme"},
            "user": {"id": "UCOLL", "username": "ucoll", "team_id": "T123"},
            "api_app_id": "A123", "trigger_id": "sock-view",
            "view": {
                "id": "V0SOCK", "team_id": "T123", "type": "modal", "hash": "1.x",
                "callback_id": "dunbot_form",
                "title": {"type": "plain_text", "text": "Log a promise"},
                "blocks": [],
                "private_metadata": r#"{"command":"promise ACME-001","channel":"C123"}"#,
                "state": {"values": {
                    "amount": {"amount": {"type": "plain_text_input", "value": "99999"}},
                    "date": {"date": {"type": "datepicker", "selected_date": "2099-01-02"}},
                }},
            },
        },
    });
    bot.fake.send_envelope(view).await;
    acked(&bot, "env-view").await;
    let ack = bot
        .fake
        .socket_acks()
        .into_iter()
        .find(|a| a["envelope_id"] == "env-view")
        .unwrap();
    assert_eq!(ack["payload"]["response_action"], "errors", "{ack}");
    assert!(
        ack["payload"]["errors"]["amount"]
            .as_str()
            .unwrap()
            .contains("balance"),
        "{ack}"
    );
    assert_eq!(count(&bot.app, "promises").await, 1);

    // A manager's Approve on the managers' ping, delivered twice.
    let offer = offer_on_bolt(&bot.app).await;
    bot.drain().await;
    let ping = bot
        .fake
        .calls("chat.postMessage")
        .into_iter()
        .find(|c| c.body["channel"] == "CMGR")
        .unwrap();
    let blocks = ping.body["blocks"].as_array().unwrap().clone();
    let approve = format!("settle {offer} approve");
    let ts = "1700000000.000222";
    for (i, trigger) in ["sock-b1", "sock-b2"].into_iter().enumerate() {
        bot.fake
            .send_envelope(json!({
                "envelope_id": format!("env-button-{i}"), "type": "interactive",
                "accepts_response_payload": false,
                "payload": press("UMGR", ts, &blocks, &approve, trigger, &bot.fake.response_url("sb")),
            }))
            .await;
        acked(&bot, &format!("env-button-{i}")).await;
    }
    bot.fake
        .wait_until("chat.update", |f| !f.calls("chat.update").is_empty())
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let updates = bot.fake.calls("chat.update");
    assert_eq!(updates.len(), 1);
    assert!(
        updates[0].body["blocks"]
            .to_string()
            .contains("Approved by umgr")
    );
    let status: String = sqlx::query_scalar("SELECT status FROM offers WHERE id = $1")
        .bind(offer)
        .fetch_one(&bot.app.store.pool)
        .await
        .unwrap();
    assert_eq!(status, "approved");

    stop_tx.send(true).unwrap();
    listener.await.unwrap().unwrap();
}

async fn wait_for_actor(bot: &Bot, key: &str) -> String {
    for _ in 0..500 {
        let mut conn = bot.app.store.pool.acquire().await.unwrap();
        if let Some(a) = dunbot::store::actions::find_by_key(&mut conn, key)
            .await
            .unwrap()
        {
            return a.actor_id;
        }
        drop(conn);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("no action {key}");
}

#[tokio::test]
async fn socket_mode_commands_and_buttons_are_logged_with_slack_display_names() {
    let bot = bot().await;
    // Slack's profiles: Cora has a display name; Mike only a real name.
    bot.fake.add_user("UCOLL", "ucoll", "Cora Lee", "Cora");
    bot.fake.add_user("UMGR", "umgr", "Mike Rowe", "");
    sqlx::query(
        "UPDATE agencies SET webhook_url = 'http://127.0.0.1:9/hook', webhook_secret = 's'",
    )
    .execute(&bot.app.store.pool)
    .await
    .unwrap();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let listener = tokio::spawn(dunbot::edges::slack::socket::run(bot.edge.clone(), stop_rx));
    bot.fake
        .wait_until("apps.connections.open", |f| {
            !f.calls("apps.connections.open").is_empty()
        })
        .await;

    // Socket Mode's slash command carries no user_name: the name comes from users.info.
    for (i, text) in ["promise ACME-001 100 fri", "promise ACME-001 50 +7d"]
        .into_iter()
        .enumerate()
    {
        bot.fake
            .send_envelope(json!({
                "envelope_id": format!("env-name-{i}"), "type": "slash_commands",
                "accepts_response_payload": true,
                "payload": {
                    "token": "t", "team_id": "T123", "channel_id": "C123", "user_id": "UCOLL",
                    "command": "/ar", "text": text,
                    "response_url": bot.fake.response_url(&format!("n{i}")),
                    "trigger_id": format!("name-trig-{i}"),
                },
            }))
            .await;
        acked(&bot, &format!("env-name-{i}")).await;
        bot.fake
            .wait_until("the promise reply", |f| {
                !f.calls(&format!("response:n{i}")).is_empty()
            })
            .await;
    }
    let reply = bot.fake.calls("response:n0")[0].body.to_string();
    assert!(reply.contains("Cora"), "{reply}");
    assert!(!reply.contains("UCOLL"), "{reply}");
    assert_eq!(actor_name(&bot, "slack:cmd:name-trig-0").await, "Cora");
    assert_eq!(actor_name(&bot, "slack:cmd:name-trig-1").await, "Cora");
    let lookups = bot.fake.calls("users.info");
    assert_eq!(lookups.len(), 1, "the name is cached: {lookups:?}");
    assert_eq!(lookups[0].body["user"], "UCOLL");
    assert_eq!(lookups[0].auth.as_deref(), Some("Bearer xoxb-test-token"));

    // A manager's Approve button: the pressed message, the log and the agency's webhook
    // carry the manager's name.
    let offer = offer_on_bolt(&bot.app).await;
    bot.drain().await;
    let ping = bot
        .fake
        .calls("chat.postMessage")
        .into_iter()
        .find(|c| c.body["channel"] == "CMGR")
        .unwrap();
    let blocks = ping.body["blocks"].as_array().unwrap().clone();
    let approve = format!("settle {offer} approve");
    let ts = "1700000000.000333";
    bot.fake
        .send_envelope(json!({
            "envelope_id": "env-name-button", "type": "interactive",
            "accepts_response_payload": false,
            "payload": press("UMGR", ts, &blocks, &approve, "name-b1", &bot.fake.response_url("nb")),
        }))
        .await;
    acked(&bot, "env-name-button").await;
    bot.fake
        .wait_until("chat.update", |f| !f.calls("chat.update").is_empty())
        .await;
    let update = bot.fake.calls("chat.update")[0].body["blocks"].to_string();
    assert!(update.contains("Approved by Mike Rowe"), "{update}");
    let key = format!("slack:btn:{ts}:");
    let logged: String =
        sqlx::query_scalar("SELECT actor_name FROM actions WHERE starts_with(idempotency_key, $1)")
            .bind(&key)
            .fetch_one(&bot.app.store.pool)
            .await
            .unwrap();
    assert_eq!(logged, "Mike Rowe");
    let decided_by: String = sqlx::query_scalar(
        "SELECT payload->'body'->>'decided_by' FROM outbox WHERE kind = 'webhook' AND payload::text LIKE '%offer_decided%'",
    )
    .fetch_one(&bot.app.store.pool)
    .await
    .unwrap();
    assert_eq!(decided_by, "Mike Rowe");

    // Someone Slack cannot find (users.info fails) is named by the id, never left blank.
    bot.fake
        .send_envelope(json!({
            "envelope_id": "env-name-nobody", "type": "slash_commands",
            "accepts_response_payload": true,
            "payload": {
                "token": "t", "team_id": "T123", "channel_id": "C123", "user_id": "UNOBODY",
                "command": "/ar", "text": "promise ACME-001 100 fri",
                "response_url": bot.fake.response_url("nn"), "trigger_id": "name-trig-nobody",
            },
        }))
        .await;
    acked(&bot, "env-name-nobody").await;
    assert_eq!(
        actor_name(&bot, "slack:cmd:name-trig-nobody").await,
        "UNOBODY"
    );

    stop_tx.send(true).unwrap();
    listener.await.unwrap().unwrap();
}

async fn actor_name(bot: &Bot, key: &str) -> String {
    wait_for_actor(bot, key).await;
    sqlx::query_scalar("SELECT actor_name FROM actions WHERE idempotency_key = $1")
        .bind(key)
        .fetch_one(&bot.app.store.pool)
        .await
        .unwrap()
}
