//! The call form on the real platform clients: Slack (slack-morphism against the fake Slack)
//! opens a modal with a select for the outcome from the card's "Log call" button; Discord
//! (serenity against the fake Discord's gateway) opens its modal and records the call.
use crate::discord_gateway::Running;
use crate::fake_discord::{self, CHANNEL, COLLECTOR_ROLE, member, modal_submit, posted_message};
use crate::slack_support::*;
use crate::support::*;
use serde_json::{Value, json};

#[tokio::test]
async fn slack_log_call_opens_a_modal_with_an_outcome_select_and_records_the_call_back() {
    let bot = bot().await;
    // The card's buttons, posted where the team works (as the digest's call-back line is).
    let card = dunbot::message::Message {
        text: "ACME-001".into(),
        blocks: vec![dunbot::message::Block::Item {
            text: "Calls and timeline".into(),
            buttons: vec![dunbot::digest::log_call_button("ACME-001")],
        }],
        visibility: dunbot::message::Visibility::Channel,
        ..Default::default()
    };
    let mut conn = bot.app.store.pool.acquire().await.unwrap();
    dunbot::store::outbox::enqueue(
        &mut conn,
        "chat",
        "card:test",
        &json!({"channel": "slack:C123", "message": card}),
    )
    .await
    .unwrap();
    drop(conn);
    assert_eq!(bot.drain().await, 1);
    let posted = bot.fake.calls("chat.postMessage").remove(0).body;
    let blocks = posted["blocks"].as_array().unwrap().clone();
    let (_, action_id) = find_button(&blocks, "call ACME-001");
    assert!(action_id.starts_with("form"), "{action_id}");
    bot.interaction(&press(
        "UCOLL",
        "1700000000.000002",
        &blocks,
        "call ACME-001",
        "trig-call",
        &bot.fake.response_url("c"),
    ))
    .await;
    bot.fake
        .wait_until("views.open", |f| !f.calls("views.open").is_empty())
        .await;
    let view = bot.fake.calls("views.open").remove(0).body["view"].clone();
    let elements: Vec<&Value> = view["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| &b["element"])
        .collect();
    let kinds: Vec<&str> = elements
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["static_select", "datepicker", "plain_text_input"]);
    let options: Vec<&str> = elements[0]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["value"].as_str().unwrap())
        .collect();
    assert!(
        options.contains(&"no answer") && options.contains(&"call back"),
        "{options:?}"
    );
    let metadata = view["private_metadata"].as_str().unwrap().to_string();
    let submit = |outcome: &str, date: Option<&str>| {
        json!({
            "type": "view_submission",
            "user": {"id": "UCOLL", "username": "ucoll"},
            "team": {"id": "T123"},
            "trigger_id": "trig-call-submit",
            "view": {
                "id": "V0CALL", "type": "modal", "callback_id": "dunbot_form",
                "private_metadata": metadata,
                "state": {"values": {
                    "outcome": {"outcome": {"type": "static_select", "selected_option": {"value": outcome}}},
                    "date": {"date": {"type": "datepicker", "selected_date": date}},
                    "note": {"note": {"type": "plain_text_input", "value": "after payroll"}},
                }},
            },
        })
    };
    // A call back without its day is refused on the form, and nothing is written.
    let r = bot.interaction(&submit("call back", None)).await;
    let ack: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(ack["response_action"], "errors", "{ack}");
    assert!(ack.to_string().contains("needs the day"), "{ack}");
    assert_eq!(count(&bot.app, "calls").await, 0);
    let r = bot
        .interaction(&submit("call back", Some("2099-01-02")))
        .await;
    assert_eq!(r.text().await.unwrap(), "");
    let (outcome, on, note, by): (String, chrono::NaiveDate, String, String) =
        sqlx::query_as("SELECT outcome, callback_on, note, called_by FROM calls")
            .fetch_one(&bot.app.store.pool)
            .await
            .unwrap();
    assert_eq!(outcome, "call_back");
    assert_eq!(on, d("2099-01-02"));
    assert_eq!(note, "after payroll");
    assert_eq!(by, "ucoll");
}

#[tokio::test]
async fn discord_log_call_form_records_the_call() {
    let r = Running::start(|_| {}).await;
    let carla = || member(111, "carla", &[COLLECTOR_ROLE]);
    let line = json!({"content": "card", "embeds": [], "components": []});
    r.fake.interaction(fake_discord::press(
        7001,
        CHANNEL,
        carla(),
        "f:1:call ACME-001",
        posted_message(990_010, CHANNEL, &line),
    ));
    let calls = r
        .fake
        .wait_for("the modal", |c| {
            c.iter().any(|c| c.path.contains("/interactions/7001/"))
        })
        .await;
    let modal = calls
        .into_iter()
        .find(|c| c.path.contains("/interactions/7001/"))
        .unwrap()
        .body;
    assert_eq!(modal["type"], 9, "{modal}");
    let fields: Vec<&str> = modal["data"]["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["components"][0]["custom_id"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["outcome", "date", "note"]);
    r.fake.interaction(modal_submit(
        7002,
        CHANNEL,
        carla(),
        "m:call ACME-001",
        &[
            ("outcome", "No-Answer"),
            ("date", ""),
            ("note", "rang twice"),
        ],
    ));
    let path = "/interactions/7002/token-7002/callback";
    let calls = r
        .fake
        .wait_for("the answer", |c| c.iter().any(|c| c.path.contains(path)))
        .await;
    let answer = calls
        .into_iter()
        .find(|c| c.path.contains(path))
        .unwrap()
        .body;
    assert!(answer.to_string().contains("no answer"), "{answer}");
    let (outcome, note, by): (String, String, String) =
        sqlx::query_as("SELECT outcome, note, called_by FROM calls")
            .fetch_one(&r.app.store.pool)
            .await
            .unwrap();
    assert_eq!(
        (outcome.as_str(), note.as_str(), by.as_str()),
        ("no_answer", "rang twice", "carla")
    );
    r.stop().await;
}
