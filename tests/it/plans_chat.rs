//! The payment plan form on both platforms, with the real client crates against the fakes:
//! a broken plan's Re-plan button opens the plan form (the total, what is owed, already in its
//! command), a bad cadence or a past date is a field error that writes nothing, and a good
//! submission sets the plan up.
use crate::fake_discord::{self, CHANNEL, COLLECTOR_ROLE, member, modal_submit, posted_message};
use crate::plans::{installments, plan_status};
use crate::slack_support::{bot, find_button, press};
use crate::support::*;
use dunbot::domain::money::{Currency, Money};
use serde_json::{Value, json};

#[tokio::test]
async fn slack_re_plan_opens_the_plan_modal_and_its_submission_sets_the_plan_up() {
    let bot = bot().await;
    let msg = dunbot::message::Message {
        text: "Payment plan broken".into(),
        blocks: vec![dunbot::message::Block::Item {
            text: "*ACME-001* missed installment 2 of 4".into(),
            buttons: dunbot::digest::broken_plan_buttons(
                "ACME-001",
                Money::new(165_000, Currency::USD),
            ),
        }],
        visibility: dunbot::message::Visibility::Channel,
        ..Default::default()
    };
    let mut conn = bot.app.store.pool.acquire().await.unwrap();
    dunbot::store::outbox::enqueue(
        &mut conn,
        "chat",
        "plan:test",
        &json!({"channel": "slack:C123", "message": msg}),
    )
    .await
    .unwrap();
    drop(conn);
    assert_eq!(bot.drain().await, 1);
    let posted = bot.fake.calls("chat.postMessage").remove(0).body;
    let blocks = posted["blocks"].as_array().unwrap().clone();
    let (_, action_id) = find_button(&blocks, "plan ACME-001 1650.00");
    assert!(action_id.starts_with("form"), "{action_id}");
    let r = bot
        .interaction(&press(
            "UCOLL",
            "1700000000.000002",
            &blocks,
            "plan ACME-001 1650.00",
            "trig-plan",
            &bot.fake.response_url("pl"),
        ))
        .await;
    assert_eq!(r.status(), 200);
    bot.fake
        .wait_until("views.open", |f| !f.calls("views.open").is_empty())
        .await;
    let view = bot.fake.calls("views.open").remove(0).body["view"].clone();
    let fields: Vec<(&str, &str)> = view["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["element"]["action_id"].as_str().unwrap(),
                b["element"]["type"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        fields,
        [
            ("count", "plain_text_input"),
            ("cadence", "plain_text_input"),
            ("first", "datepicker"),
            ("note", "plain_text_input"),
        ]
    );
    let metadata = view["private_metadata"].as_str().unwrap().to_string();
    let submit = |count: &str, cadence: &str, first: &str| {
        json!({
            "type": "view_submission",
            "user": {"id": "UCOLL", "username": "ucoll"},
            "team": {"id": "T123"},
            "trigger_id": "trig-plan-submit",
            "view": {
                "id": "V0PLAN", "type": "modal", "callback_id": "dunbot_form",
                "private_metadata": metadata,
                "state": {"values": {
                    "count": {"count": {"type": "plain_text_input", "value": count}},
                    "cadence": {"cadence": {"type": "plain_text_input", "value": cadence}},
                    "first": {"first": {"type": "datepicker", "selected_date": first}},
                    "note": {"note": {"type": "plain_text_input", "value": "agreed by phone"}},
                }},
            },
        })
    };
    let errors = |ack: &Value| ack["errors"].as_object().cloned().unwrap_or_default();
    // An unknown cadence: the error sits on the cadence field.
    let r = bot.interaction(&submit("4", "daily", "2099-01-05")).await;
    let ack: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(ack["response_action"], "errors", "{ack}");
    assert!(
        errors(&ack)["cadence"]
            .as_str()
            .unwrap()
            .contains("weekly, biweekly"),
        "{ack}"
    );
    // A first date in the past: on the date field.
    let r = bot.interaction(&submit("4", "monthly", "2020-01-02")).await;
    let ack: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert!(
        errors(&ack)["first"].as_str().unwrap().contains("past"),
        "{ack}"
    );
    assert_eq!(count(&bot.app, "plans").await, 0);
    // Good: the modal closes and the plan is set up, its first installment a promise.
    let r = bot.interaction(&submit("4", "monthly", "2099-01-05")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "");
    assert_eq!(
        plan_status(&bot.app, "ACME-001").await.as_deref(),
        Some("active")
    );
    assert_eq!(
        installments(&bot.app, "ACME-001").await,
        [("pending".to_string(), 1, 41_250)]
    );
    let command: String = sqlx::query_scalar(
        "SELECT details->>'command' FROM actions WHERE kind = 'plan' AND outcome = 'ok'",
    )
    .fetch_one(&bot.app.store.pool)
    .await
    .unwrap();
    assert_eq!(
        command,
        "plan ACME-001 1650.00 4 monthly 2099-01-05 'agreed by phone'"
    );
}

#[tokio::test]
async fn discord_plan_form_refuses_a_bad_cadence_and_sets_up_a_good_plan() {
    let r = crate::discord_gateway::Running::start(|_| {}).await;
    let carla = || member(111, "carla", &[COLLECTOR_ROLE]);
    let line = json!({"content": "digest", "embeds": [], "components": []});
    r.fake.interaction(fake_discord::press(
        7001,
        CHANNEL,
        carla(),
        "f:1:plan ACME-001 1200.00",
        posted_message(990_010, CHANNEL, &line),
    ));
    let modal = r
        .fake
        .wait_for("the plan modal", |c| {
            c.iter().any(|c| c.path.contains("/interactions/7001/"))
        })
        .await
        .into_iter()
        .find(|c| c.path.contains("/interactions/7001/"))
        .unwrap()
        .body;
    assert_eq!(modal["type"], 9, "{modal}");
    assert_eq!(modal["data"]["custom_id"], "m:plan ACME-001 1200.00");
    let fields: Vec<&str> = modal["data"]["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["components"][0]["custom_id"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["count", "cadence", "first", "note"]);

    // Fortnightly is not a cadence: told privately, nothing written.
    r.fake.interaction(modal_submit(
        7002,
        CHANNEL,
        carla(),
        "m:plan ACME-001 1200.00",
        &[
            ("count", "3"),
            ("cadence", "fortnightly"),
            ("first", "2026-12-04"),
        ],
    ));
    let calls = r
        .fake
        .wait_for("the refusal", |c| {
            c.iter().any(|c| c.path.contains("/interactions/7002/"))
        })
        .await;
    let refusal = &calls
        .iter()
        .find(|c| c.path.contains("/interactions/7002/"))
        .unwrap()
        .body;
    assert_eq!(refusal["data"]["flags"], 64, "{refusal}");
    assert!(refusal.to_string().contains("biweekly"), "{refusal}");
    assert_eq!(count(&r.app, "plans").await, 0);

    r.fake.interaction(modal_submit(
        7003,
        CHANNEL,
        carla(),
        "m:plan ACME-001 1200.00",
        &[
            ("count", "3"),
            ("cadence", "biweekly"),
            ("first", "2026-12-04"),
            ("note", ""),
        ],
    ));
    let calls = r
        .fake
        .wait_for("the answer", |c| {
            c.iter().any(|c| c.path.contains("/interactions/7003/"))
        })
        .await;
    let answer = &calls
        .iter()
        .find(|c| c.path.contains("/interactions/7003/"))
        .unwrap()
        .body;
    assert_eq!(answer["type"], 4, "{answer}");
    assert!(answer.to_string().contains("Payment plan"), "{answer}");
    assert_eq!(
        plan_status(&r.app, "ACME-001").await.as_deref(),
        Some("active")
    );
    assert_eq!(
        installments(&r.app, "ACME-001").await,
        [("pending".to_string(), 1, 40_000)]
    );
    r.stop().await;
}
