//! HTTP mode against the fake Slack: signature checks (Slack's published vector and requests
//! signed here), Slack's published payloads, the ack-then-answer flow, retries.
use crate::slack_support::*;
use crate::support::*;
use dunbot::edges::slack::verify::{self, Rejected, verify};
use dunbot::edges::slack::{SlackEdge, routes};
use serde_json::{Value, json};
use std::sync::Arc;

/// Slack's published payloads, shared by the repositories next to this one (`../shared`).
pub fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../shared/fixtures/slack/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

/// Waits until an action row with `key` exists and returns it.
async fn action(bot: &Bot, key: &str) -> dunbot::store::actions::ActionRow {
    for _ in 0..500 {
        let mut conn = bot.app.store.pool.acquire().await.unwrap();
        if let Some(a) = dunbot::store::actions::find_by_key(&mut conn, key)
            .await
            .unwrap()
        {
            return a;
        }
        drop(conn);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("no action {key}");
}

#[tokio::test]
async fn slacks_published_signing_vector() {
    let v: Value = serde_json::from_str(&fixture("signing-vector.json")).unwrap();
    let (secret, ts, body, sig) = (
        v["signing_secret"].as_str().unwrap(),
        v["timestamp"].as_str().unwrap(),
        v["body"].as_str().unwrap(),
        v["expected_signature"].as_str().unwrap(),
    );
    let then: i64 = ts.parse().unwrap();
    assert_eq!(verify::sign(secret, ts, body.as_bytes()), sig);
    assert_eq!(
        verify(secret, Some(ts), Some(sig), body.as_bytes(), then + 10, 300),
        Ok(())
    );
    // Today the vector is years old: the signature matches, the window refuses it.
    let now = chrono::Utc::now().timestamp();
    assert_eq!(
        verify(secret, Some(ts), Some(sig), body.as_bytes(), now, 300),
        Err(Rejected::Expired)
    );
    let tampered = body.replace("roadrunner", "coyote");
    assert_eq!(
        verify(secret, Some(ts), Some(sig), tampered.as_bytes(), then, 300),
        Err(Rejected::WrongSignature)
    );

    // Through the route, with the edge's clock set to the vector's time: accepted and run.
    let bot = bot().await;
    let mut edge = SlackEdge::new(bot.app.clone(), slack_config(&bot.fake)).unwrap();
    edge.clock = || 1531420618 + 5;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = routes::router(Arc::new(edge));
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let send = |body: String| {
        bot.http
            .post(format!("{url}/slack/commands"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-slack-request-timestamp", ts)
            .header("x-slack-signature", sig)
            .body(body)
            .send()
    };
    let r = send(tampered).await.unwrap();
    assert_eq!(r.status(), 401);
    let r = send(body.to_string()).await.unwrap();
    assert_eq!(r.status(), 200);
    let a = action(
        &bot,
        "slack:cmd:398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
    )
    .await;
    assert_eq!(
        (a.actor_platform.as_str(), a.actor_id.as_str()),
        ("slack", "U2CERLKJA")
    );
    assert_eq!(a.kind, "help", "an empty /command is help");
}

#[tokio::test]
async fn unsigned_stale_or_tampered_requests_get_401_and_write_nothing() {
    let bot = bot().await;
    let before = (bot.actions().await, count(&bot.app, "promises").await);
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("channel_id", "C123")
        .append_pair("user_id", "UCOLL")
        .append_pair("text", "promise ACME-001 100 fri")
        .append_pair("response_url", &bot.fake.response_url("x"))
        .append_pair("trigger_id", "t-401")
        .finish();
    let now = chrono::Utc::now().timestamp();
    let good = verify::sign(SECRET, &now.to_string(), body.as_bytes());
    let old = now - 301;
    let old_sig = verify::sign(SECRET, &old.to_string(), body.as_bytes());
    let wrong_secret = verify::sign("not-the-secret", &now.to_string(), body.as_bytes());
    let changed = body.replace("100", "1");
    let cases: Vec<(&str, Option<String>, Option<String>, String)> = vec![
        (
            "changed body",
            Some(now.to_string()),
            Some(good.clone()),
            changed,
        ),
        (
            "old timestamp",
            Some(old.to_string()),
            Some(old_sig),
            body.clone(),
        ),
        ("no signature", Some(now.to_string()), None, body.clone()),
        ("no timestamp", None, Some(good.clone()), body.clone()),
        (
            "wrong secret",
            Some(now.to_string()),
            Some(wrong_secret),
            body.clone(),
        ),
    ];
    for path in ["/slack/commands", "/slack/interactions", "/slack/events"] {
        for (what, ts, sig, body) in &cases {
            let mut req = bot
                .http
                .post(format!("{}{path}", bot.url))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.clone());
            if let Some(ts) = ts {
                req = req.header("x-slack-request-timestamp", ts);
            }
            if let Some(sig) = sig {
                req = req.header("x-slack-signature", sig);
            }
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), 401, "{path}: {what}");
        }
    }
    // The same request, correctly signed, does act: the 401s were the signature's doing.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        (bot.actions().await, count(&bot.app, "promises").await),
        before,
        "a rejected request wrote something"
    );
    assert!(bot.fake.all_calls().is_empty());
    let r = bot
        .post_signed(
            "/slack/commands",
            "application/x-www-form-urlencoded",
            &body,
        )
        .await;
    assert_eq!(r.status(), 200);
    let a = action(&bot, "slack:cmd:t-401").await;
    assert_eq!(a.outcome, "ok");
    assert_eq!(count(&bot.app, "promises").await, before.1 + 1);
}

#[tokio::test]
async fn slacks_published_payloads_parse_and_route() {
    let bot = bot().await;
    // Slash command (bolt-python's form): `/hello-world Hi` → our parser refuses "Hi".
    let r = bot
        .post_signed(
            "/slack/commands",
            "application/x-www-form-urlencoded",
            fixture("slash-command.form").trim(),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.text().await.unwrap(),
        "",
        "the ack is empty; the answer follows"
    );
    let a = action(&bot, "slack:cmd:111.111.xxx").await;
    assert_eq!(
        (a.actor_id.as_str(), a.actor_name.as_str()),
        ("W111", "primary-owner")
    );
    assert_eq!(a.channel, "slack:C111");
    assert_eq!(a.outcome, "refused");

    // block_actions (bolt-python): the button's value runs as a command, as the presser.
    let payload: Value = serde_json::from_str(&fixture("block-actions.json")).unwrap();
    let r = bot.interaction(&payload).await;
    assert_eq!(r.status(), 200);
    let a = action(&bot, "slack:btn:111.222:a:W111").await;
    assert_eq!(a.details["source"], "button");
    assert_eq!(a.details["command"], "click_me_123");

    // view_submission (bolt-python): not one of our modals → closed with an empty ack.
    let before = bot.actions().await;
    let payload: Value = serde_json::from_str(&fixture("view-submission.json")).unwrap();
    let r = bot.interaction(&payload).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "");
    assert_eq!(bot.actions().await, before);

    // url_verification
    let r = bot
        .post_signed(
            "/slack/events",
            "application/json",
            r#"{"token":"t","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#,
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(
        v["challenge"],
        "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    );

    // The Events API callback inside the published Socket Mode envelope, over HTTP: an
    // app_mention with no text is `help`, answered once; Slack's retry changes nothing.
    let envelope: Value = serde_json::from_str(&fixture("socket-mode-events-api.json")).unwrap();
    let body = envelope["payload"].to_string();
    let r = bot
        .post_signed("/slack/events", "application/json", &body)
        .await;
    assert_eq!(r.status(), 200);
    let a = action(&bot, "slack:event:Ev111").await;
    assert_eq!((a.actor_id.as_str(), a.kind.as_str()), ("U222", "help"));
    bot.fake
        .wait_until("the answer to the mention", |f| {
            f.calls("chat.postEphemeral").len() + f.calls("chat.postMessage").len() == 1
        })
        .await;
    let actions = bot.actions().await;
    let ts = chrono::Utc::now().timestamp().to_string();
    let r = bot
        .http
        .post(format!("{}/slack/events", bot.url))
        .header("content-type", "application/json")
        .header("x-slack-request-timestamp", &ts)
        .header(
            "x-slack-signature",
            verify::sign(SECRET, &ts, body.as_bytes()),
        )
        .header("x-slack-retry-num", "1")
        .header("x-slack-retry-reason", "http_timeout")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(bot.actions().await, actions, "a retry wrote again");
    let answers =
        bot.fake.calls("chat.postEphemeral").len() + bot.fake.calls("chat.postMessage").len();
    assert_eq!(answers, 1, "a retry answered again");
}

#[tokio::test]
async fn a_command_is_acked_empty_then_answered_through_response_url() {
    let bot = bot().await;
    let r = bot.command("UCOLL", "promise ACME-001 100 fri", "p1").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "");
    bot.fake
        .wait_until("the promise reply", |f| !f.calls("response:p1").is_empty())
        .await;
    let reply = &bot.fake.calls("response:p1")[0].body;
    assert_eq!(reply["response_type"], "in_channel", "{reply}");
    assert!(
        reply["text"].as_str().unwrap().contains("ACME-001"),
        "{reply}"
    );
    assert!(reply["blocks"].as_array().is_some_and(|b| !b.is_empty()));
    assert_eq!(count(&bot.app, "promises").await, 1);

    // A person without a role is refused, only to them, and the refusal is recorded.
    bot.command("UNOBODY", "promise ACME-001 100 fri", "p2")
        .await;
    bot.fake
        .wait_until("the refusal", |f| !f.calls("response:p2").is_empty())
        .await;
    let reply = &bot.fake.calls("response:p2")[0].body;
    assert_eq!(reply["response_type"], "ephemeral");
    assert!(
        reply["text"].as_str().unwrap().contains("Only a"),
        "{reply}"
    );
    let a = action(&bot, "slack:cmd:trig-p2").await;
    assert_eq!(
        (a.outcome.as_str(), a.actor_id.as_str()),
        ("refused", "UNOBODY")
    );
    assert_eq!(count(&bot.app, "promises").await, 1);

    // Slack resending the same command (same trigger) changes nothing and answers nothing.
    bot.command("UCOLL", "promise ACME-001 100 fri", "p1").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(count(&bot.app, "promises").await, 1);
    assert_eq!(bot.fake.calls("response:p1").len(), 1);
}

#[tokio::test]
async fn log_promise_opens_a_modal_whose_errors_are_field_errors() {
    let bot = bot().await;
    // The digest posts to Slack through the outbox; its "Log promise" button opens a modal.
    let msg = dunbot::message::Message {
        text: "Collections digest".into(),
        blocks: vec![dunbot::message::Block::Item {
            text: "*ACME-001* Acme Corp".into(),
            buttons: dunbot::digest::account_buttons("ACME-001"),
        }],
        visibility: dunbot::message::Visibility::Channel,
        ..Default::default()
    };
    let mut conn = bot.app.store.pool.acquire().await.unwrap();
    dunbot::store::outbox::enqueue(
        &mut conn,
        "chat",
        "digest:test",
        &json!({"channel": "slack:C123", "message": msg}),
    )
    .await
    .unwrap();
    drop(conn);
    assert_eq!(bot.drain().await, 1);
    let posted = bot.fake.calls("chat.postMessage").remove(0).body;
    let blocks = posted["blocks"].as_array().unwrap().clone();
    let (_, action_id) = find_button(&blocks, "promise ACME-001");
    assert!(action_id.starts_with("form"));
    let ts = "1700000000.000001";
    let r = bot
        .interaction(&press(
            "UCOLL",
            ts,
            &blocks,
            "promise ACME-001",
            "trig-modal",
            &bot.fake.response_url("m"),
        ))
        .await;
    assert_eq!(r.status(), 200);
    bot.fake
        .wait_until("views.open", |f| !f.calls("views.open").is_empty())
        .await;
    let open = bot.fake.calls("views.open").remove(0).body;
    assert_eq!(open["trigger_id"], "trig-modal");
    let view = &open["view"];
    assert_eq!(view["type"], "modal");
    let kinds: Vec<&str> = view["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["element"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["plain_text_input", "datepicker", "plain_text_input"]
    );
    let metadata = view["private_metadata"].as_str().unwrap().to_string();

    let submit = |amount: &str, date: &str| {
        json!({
            "type": "view_submission",
            "user": {"id": "UCOLL", "username": "ucoll"},
            "team": {"id": "T123"},
            "trigger_id": "trig-submit",
            "view": {
                "id": "V0FAKE", "type": "modal", "callback_id": "dunbot_form",
                "private_metadata": metadata,
                "state": {"values": {
                    "amount": {"amount": {"type": "plain_text_input", "value": amount}},
                    "date": {"date": {"type": "datepicker", "selected_date": date}},
                    "note": {"note": {"type": "plain_text_input", "value": null}},
                }},
            },
        })
    };
    // Above the balance: the error sits on the amount field, and nothing but the refusal is written.
    let r = bot.interaction(&submit("99999", "2099-01-02")).await;
    let ack: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(ack["response_action"], "errors", "{ack}");
    assert!(
        ack["errors"]["amount"]
            .as_str()
            .unwrap()
            .contains("balance"),
        "{ack}"
    );
    // In the past: on the date field.
    let r = bot.interaction(&submit("100", "2020-01-02")).await;
    let ack: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert!(
        ack["errors"]["date"].as_str().unwrap().contains("past"),
        "{ack}"
    );
    assert_eq!(count(&bot.app, "promises").await, 0);
    // Valid: an empty ack closes the modal, the promise is logged, the digest line updated.
    let r = bot.interaction(&submit("100", "2099-01-02")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "");
    assert_eq!(count(&bot.app, "promises").await, 1);
    bot.fake
        .wait_until("chat.update after the form", |f| {
            !f.calls("chat.update").is_empty()
        })
        .await;
    let upd = bot.fake.calls("chat.update").remove(0).body;
    assert_eq!(
        (upd["channel"].as_str(), upd["ts"].as_str()),
        (Some("C123"), Some(ts))
    );
    let text = upd["blocks"].to_string();
    assert!(
        text.contains("Promise of") && text.contains("ucoll"),
        "{text}"
    );
    assert!(
        !text.contains("promise ACME-001\"") && !text.contains("remind ACME-001\""),
        "the used buttons are gone: {text}"
    );
    // A promise pauses reminders, but the account may still need a management call.
    assert!(
        text.contains("flag ACME-001\""),
        "Flag for call stays: {text}"
    );
}

#[test]
fn dunbot_manifest_slack_prints_an_installable_manifest() {
    let run = |args: &[&str]| -> Value {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_dunbot"))
            .args(args)
            .env_remove("DUNBOT_PUBLIC_URL")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let socket = run(&["manifest", "slack"]);
    assert_eq!(socket["settings"]["socket_mode_enabled"], true);
    assert_eq!(socket["features"]["slash_commands"][0]["command"], "/ar");
    let scopes = socket["oauth_config"]["scopes"]["bot"].to_string();
    assert!(scopes.contains("commands") && scopes.contains("chat:write"));
    let http = run(&["manifest", "slack", "--url", "https://bot.example.com"]);
    assert_eq!(
        http["settings"]["event_subscriptions"]["request_url"],
        "https://bot.example.com/slack/events"
    );
}

#[tokio::test]
async fn an_admin_grants_a_role_to_a_slack_mention() {
    let bot = bot().await;
    let mut conn = bot.app.store.pool.acquire().await.unwrap();
    dunbot::store::people::grant(
        &mut conn,
        "slack",
        "UADMIN",
        dunbot::domain::roles::Role::Admin,
        None,
        "test",
    )
    .await
    .unwrap();
    drop(conn);
    // Slack escapes the mention as <@U…|name> (the manifest's should_escape).
    bot.command("UADMIN", "role <@UNEW|newbie> manager", "r1")
        .await;
    bot.fake
        .wait_until("the grant reply", |f| !f.calls("response:r1").is_empty())
        .await;
    let mut conn = bot.app.store.pool.acquire().await.unwrap();
    let (roles, _) = dunbot::store::people::roles_of(&mut conn, "slack", "UNEW")
        .await
        .unwrap();
    assert_eq!(roles, vec![dunbot::domain::roles::Role::Manager]);
    // A manager may not grant.
    bot.command("UMGR", "role <@UOTHER> admin", "r2").await;
    bot.fake
        .wait_until("the refusal", |f| !f.calls("response:r2").is_empty())
        .await;
    assert_eq!(
        bot.fake.calls("response:r2")[0].body["response_type"],
        "ephemeral"
    );
    let (roles, _) = dunbot::store::people::roles_of(&mut conn, "slack", "UOTHER")
        .await
        .unwrap();
    assert!(roles.is_empty());
}
