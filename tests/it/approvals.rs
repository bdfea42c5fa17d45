//! Tiered settlement approval: the policy's limits by the share of the balance an offer
//! recovers decide who must approve it; each approval is recorded, the agency hears only the
//! final decision, and every copy of the offer says what is still needed. On the console, and
//! on Slack and Discord through the real clients against the loopback fakes.
use crate::support::*;
use dunbot::app::{Actor, App, Platform};
use dunbot::domain::policy::Policy;
use dunbot::domain::roles::Role;

/// At least 90%: a manager or finance; 70–90%: a manager; below: two, one from finance.
pub const LIMITS: &str = r#"
[[settlement_approval]]
at_least = 90
approvers = ["manager", "finance"]

[[settlement_approval]]
at_least = 70
approvers = ["manager"]

[[settlement_approval]]
at_least = 0
approvals = 2
require = ["finance"]
"#;

/// The default policy's plans with `LIMITS` added.
pub fn tiered_policy() -> Policy {
    let text = format!("{}\n{LIMITS}", Policy::defaults().to_toml());
    Policy::from_toml(&text).expect("the limits parse")
}

fn admin() -> Actor {
    Actor {
        platform: Platform::Console,
        user_id: "root".into(),
        name: "root".into(),
        roles: vec![Role::Admin],
        agency: None,
    }
}

async fn tiered_app() -> (App, TestDb) {
    let db = TestDb::new().await;
    let mut s = settings();
    s.policy = tiered_policy();
    let app = App::new(s, db.store.clone());
    seed(&app, CUSTOMERS, INVOICES, None).await;
    dunbot::app::admin::add_agency(
        &app,
        "Northwind Recovery",
        None,
        None,
        Some("console:agency"),
    )
    .await
    .unwrap();
    let out = run_as(
        &app,
        &admin(),
        "refer",
        "refer BOLT-001 \"Northwind Recovery\"",
        today(),
    )
    .await;
    assert!(!out.refused, "{}", out.reply.text);
    (app, db)
}

async fn say(app: &App, who: &Actor, text: &str) -> dunbot::app::Outcome {
    run_as(
        app,
        who,
        &format!("t-{}", uuid::Uuid::new_v4()),
        text,
        today(),
    )
    .await
}

async fn status(app: &App, id: i64) -> String {
    sqlx::query_scalar("SELECT status FROM offers WHERE id = $1")
        .bind(id)
        .fetch_one(&app.store.pool)
        .await
        .unwrap()
}

/// How many decision pings the agency was sent for offer `id`.
async fn agency_pings(app: &App, id: i64) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM outbox WHERE dedupe_key LIKE $1")
        .bind(format!("offer:{id}:decision:%"))
        .fetch_one(&app.store.pool)
        .await
        .unwrap()
}

async fn offer(app: &App, amount: &str) -> i64 {
    let out = say(app, &admin(), &format!("offer BOLT-001 {amount}")).await;
    assert!(!out.refused, "{}", out.reply.text);
    sqlx::query_scalar("SELECT max(id) FROM offers")
        .fetch_one(&app.store.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn limits_by_share_decide_who_approves_and_the_agency_hears_only_the_final_word() {
    let (app, _db) = tiered_app().await;
    let maria = person("maria", Role::Manager);
    let priya = person("priya", Role::Manager);
    let fay = person("fay", Role::Finance);
    let sam = person("sam", Role::Collector);

    // 80% of BOLT-001's USD 5,000.00: a manager's call; finance may not decide it.
    let id = offer(&app, "4000").await;
    let out = say(&app, &fay, &format!("settle {id} approve")).await;
    assert!(out.refused, "{}", out.reply.text);
    assert!(
        out.reply.text.contains("80%") && out.reply.text.contains("only manager"),
        "{}",
        out.reply.text
    );
    let out = say(&app, &sam, &format!("settle {id} approve")).await;
    assert!(out.refused, "{}", out.reply.text);
    let out = say(&app, &maria, &format!("settle {id} approve")).await;
    assert!(!out.refused, "{}", out.reply.text);
    assert_eq!(status(&app, id).await, "approved");
    assert_eq!(agency_pings(&app, id).await, 1);

    // 50%: two approvals, one from finance. The first is recorded and the offer waits.
    let id = offer(&app, "2500").await;
    let ping: serde_json::Value =
        sqlx::query_scalar("SELECT payload->'message' FROM outbox WHERE dedupe_key = $1")
            .bind(format!("offer:{id}:managers"))
            .fetch_one(&app.store.pool)
            .await
            .unwrap();
    assert!(
        ping.to_string()
            .contains("Needs 2 approvals, one from finance."),
        "{ping}"
    );
    assert!(
        ping["mentions"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!({"type": "finance"})),
        "{ping}"
    );
    let out = say(&app, &maria, &format!("settle {id} approve")).await;
    assert!(!out.refused, "{}", out.reply.text);
    assert!(
        out.reply.text.contains("1 of 2 approvals; needs finance"),
        "{}",
        out.reply.text
    );
    assert_eq!(status(&app, id).await, "proposed");
    assert_eq!(agency_pings(&app, id).await, 0, "nothing final yet");
    // The digest's line says who approved and what is still needed.
    let digest = say(&app, &maria, "digest").await;
    let shown = serde_json::to_string(&digest.reply).unwrap();
    assert!(
        shown.contains("approved so far by maria (1 of 2 approvals; needs finance)"),
        "{shown}"
    );
    // The same manager again, and a second manager for the finance slot: refused, unwritten.
    for (who, expect) in [
        (&maria, "already approved"),
        (&priya, "must come from a finance"),
    ] {
        let before = count(&app, "offer_approvals").await;
        let out = say(&app, who, &format!("settle {id} approve")).await;
        assert!(out.refused, "{}", out.reply.text);
        assert!(out.reply.text.contains(expect), "{}", out.reply.text);
        assert_eq!(count(&app, "offer_approvals").await, before);
    }
    // Finance completes it: approved by both, the agency pinged once.
    let out = say(&app, &fay, &format!("settle {id} approve fine by finance")).await;
    assert!(!out.refused, "{}", out.reply.text);
    assert!(
        out.reply.text.contains("approved by maria and fay"),
        "{}",
        out.reply.text
    );
    assert_eq!(status(&app, id).await, "approved");
    assert_eq!(agency_pings(&app, id).await, 1);
    let approvals: Vec<(String, Vec<String>)> = sqlx::query_as(
        "SELECT approver_name, roles FROM offer_approvals WHERE offer_id = $1 ORDER BY seq",
    )
    .bind(id)
    .fetch_all(&app.store.pool)
    .await
    .unwrap();
    assert_eq!(
        approvals,
        vec![
            ("maria".to_string(), vec!["manager".to_string()]),
            ("fay".to_string(), vec!["finance".to_string()])
        ]
    );

    // A rejection by anyone entitled ends it at once, even after one approval.
    let id = offer(&app, "1000").await;
    assert!(
        !say(&app, &maria, &format!("settle {id} approve"))
            .await
            .refused
    );
    let out = say(&app, &fay, &format!("settle {id} reject too low")).await;
    assert!(!out.refused, "{}", out.reply.text);
    assert_eq!(status(&app, id).await, "rejected");
    assert_eq!(agency_pings(&app, id).await, 1);
}

#[tokio::test]
async fn the_default_policy_keeps_one_manager_deciding() {
    let (app, _db) = app().await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    dunbot::app::admin::add_agency(&app, "Northwind Recovery", None, None, Some("console:a"))
        .await
        .unwrap();
    assert!(
        !say(&app, &admin(), "refer BOLT-001 \"Northwind Recovery\"")
            .await
            .refused
    );
    let id = offer(&app, "1000").await;
    let out = say(
        &app,
        &person("fay", Role::Finance),
        &format!("settle {id} approve"),
    )
    .await;
    assert!(out.refused, "{}", out.reply.text);
    let out = say(
        &app,
        &person("maria", Role::Manager),
        &format!("settle {id} approve"),
    )
    .await;
    assert!(!out.refused, "{}", out.reply.text);
    assert_eq!(status(&app, id).await, "approved");
}

/// A `block_actions` press by `user` in `channel` on the message `ts` (as posted), answered
/// through the fake's response_url `reply`.
fn slack_press(
    channel: &str,
    user: &str,
    ts: &str,
    posted: &serde_json::Value,
    command: &str,
    reply: &str,
) -> serde_json::Value {
    let blocks = posted["blocks"].as_array().unwrap().clone();
    let (block_id, action_id) = crate::slack_support::find_button(&blocks, command);
    serde_json::json!({
        "type": "block_actions",
        "user": {"id": user, "username": user.to_lowercase(), "team_id": "T123"},
        "api_app_id": "A123",
        "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": false},
        "trigger_id": "trig-press",
        "team": {"id": "T123"},
        "channel": {"id": channel, "name": "managers"},
        "message": {"type": "message", "ts": ts, "text": posted["text"], "blocks": blocks},
        "response_url": reply,
        "actions": [{
            "action_id": action_id, "block_id": block_id, "value": command,
            "type": "button", "action_ts": "1700000001.000001",
            "text": {"type": "plain_text", "text": "Approve"},
        }],
    })
}

#[tokio::test]
async fn on_slack_the_ping_shows_what_is_still_needed_until_finance_approves() {
    let bot = crate::slack_support::bot_with(
        |mut app| {
            app.settings.policy = tiered_policy();
            app
        },
        CUSTOMERS,
        INVOICES,
    )
    .await;
    {
        let mut conn = bot.app.store.pool.acquire().await.unwrap();
        dunbot::store::people::grant(&mut conn, "slack", "UFIN", Role::Finance, None, "t")
            .await
            .unwrap();
    }
    assert!(
        !say(&bot.app, &admin(), "refer BOLT-001 \"Northwind Recovery\"")
            .await
            .refused
    );
    let id = offer(&bot.app, "2000").await;
    bot.drain().await;
    let ping = bot
        .fake
        .calls("chat.postMessage")
        .into_iter()
        .find(|c| c.body["channel"] == "CMGR")
        .expect("the managers' ping")
        .body;
    // Managers and finance are both notified: the deep discount needs them both.
    let text = ping["text"].as_str().unwrap();
    assert!(
        text.starts_with("<@UMGR> <@UFIN> ") || text.starts_with("<@UFIN> <@UMGR> "),
        "{text}"
    );
    let ts: String =
        sqlx::query_scalar("SELECT message_id FROM message_copies WHERE channel = 'slack:CMGR'")
            .fetch_one(&bot.app.store.pool)
            .await
            .unwrap();
    let approve = format!("settle {id} approve");

    // The manager's approval: the pressed copy is edited to say what is still needed.
    let r = bot
        .interaction(&slack_press(
            "CMGR",
            "UMGR",
            &ts,
            &ping,
            &approve,
            &bot.fake.response_url("mgr"),
        ))
        .await;
    assert_eq!(r.status(), 200);
    bot.fake
        .wait_until("the manager's answer", |f| {
            !f.calls("response:mgr").is_empty()
        })
        .await;
    let answer = bot.fake.calls("response:mgr").remove(0).body;
    assert!(
        answer["text"]
            .as_str()
            .unwrap()
            .contains("1 of 2 approvals; needs finance"),
        "{answer}"
    );
    bot.drain().await;
    let edit = bot
        .fake
        .calls("chat.update")
        .into_iter()
        .find(|c| c.body["ts"] == ts.as_str())
        .expect("the ping edited")
        .body;
    let blocks = edit["blocks"].to_string();
    assert!(
        blocks.contains("Approve (1 of 2; needs finance)"),
        "{blocks}"
    );
    assert!(blocks.contains("Approved by umgr"), "{blocks}");
    assert!(
        bot.fake
            .calls("chat.postMessage")
            .iter()
            .all(|c| c.body["channel"] != "CAGENCY" || !c.body.to_string().contains("approved")),
        "the agency hears nothing before the decision is final"
    );

    // Finance presses the edited ping's Approve: the decision is final and the copy says so.
    let r = bot
        .interaction(&slack_press(
            "CMGR",
            "UFIN",
            &ts,
            &edit,
            &approve,
            &bot.fake.response_url("fin"),
        ))
        .await;
    assert_eq!(r.status(), 200);
    bot.fake
        .wait_until("the final edit", |f| {
            f.calls("chat.update").iter().any(|c| {
                c.body["text"]
                    .to_string()
                    .contains("approved by umgr and ufin")
            })
        })
        .await;
    assert_eq!(status(&bot.app, id).await, "approved");
    bot.drain().await;
    let told: Vec<_> = bot
        .fake
        .calls("chat.postMessage")
        .into_iter()
        .filter(|c| c.body["channel"] == "CAGENCY" && c.body.to_string().contains("approved by"))
        .collect();
    assert_eq!(told.len(), 1, "the agency is told once: {told:#?}");
}

#[tokio::test]
async fn on_discord_finance_is_pinged_and_its_press_makes_the_decision_final() {
    use crate::fake_discord::*;
    use dunbot::edges::discord::deliver::DiscordChannel;
    use dunbot::notify::{Deliverers, drain_once};
    use serde_json::json;
    use std::sync::Arc;
    const MANAGERS: u64 = 8888;
    let db = TestDb::new().await;
    let mut s = settings();
    s.policy = tiered_policy();
    s.managers_channel = format!("discord:{MANAGERS}");
    let app = App::new(s, db.store.clone());
    seed(&app, CUSTOMERS, INVOICES, None).await;
    dunbot::app::admin::add_agency(&app, "Northwind Recovery", None, None, Some("discord:7777"))
        .await
        .unwrap();
    let app = Arc::new(app);
    assert!(
        !say(&app, &admin(), "refer BOLT-001 \"Northwind Recovery\"")
            .await
            .refused
    );
    let id = offer(&app, "2000").await;
    let fake = FakeDiscord::start().await;
    let edge = edge(app.clone(), &fake, at(today(), 10));
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(dunbot::edges::discord::gateway::run(edge.clone(), stop_rx));
    fake.wait_gateway("IDENTIFY", |frames, _| frames.iter().any(|f| f["op"] == 2))
        .await;
    let d = Arc::new(
        DiscordChannel::new(edge.http.clone(), std::time::Duration::from_millis(10))
            .with_roles(config(&fake).roles)
            .with_store(app.store.clone()),
    );
    let ds = Deliverers::new(8)
        .add("chat", d.clone())
        .add("chat_edit", d);
    drain_once(&app.store, &ds, 50).await.unwrap();
    let ping = fake
        .calls_to("POST", &format!("/channels/{MANAGERS}/messages"))
        .remove(0)
        .body;
    let mut roles: Vec<String> =
        serde_json::from_value(ping["allowed_mentions"]["roles"].clone()).unwrap();
    roles.sort();
    assert_eq!(
        roles,
        vec![MANAGER_ROLE.to_string(), FINANCE_ROLE.to_string()]
    );
    let ping_id: String =
        sqlx::query_scalar("SELECT message_id FROM message_copies WHERE channel = $1")
            .bind(format!("discord:{MANAGERS}"))
            .fetch_one(&app.store.pool)
            .await
            .unwrap();
    let approve = ping["components"][0]["components"][0]["custom_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        approve.ends_with(&format!("settle {id} approve")),
        "{approve}"
    );

    // The manager's press: recorded, answered, and the ping edited to say what is needed.
    let mike = member(222, "mike", &[MANAGER_ROLE]);
    fake.interaction(press(
        8101,
        MANAGERS,
        mike,
        &approve,
        posted_message(ping_id.parse().unwrap(), MANAGERS, &ping),
    ));
    fake.wait_for("the manager's answer", |c| {
        c.iter()
            .any(|c| c.method == "POST" && c.path.contains("8101/token-8101/callback"))
    })
    .await;
    for _ in 0..100 {
        if count(&app, "offer_approvals").await == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(status(&app, id).await, "proposed");
    drain_once(&app.store, &ds, 50).await.unwrap();
    let edits = fake.calls_to("PATCH", &format!("/channels/{MANAGERS}/messages/{ping_id}"));
    let edited = &edits.last().expect("the ping edited").body;
    assert!(
        edited
            .to_string()
            .contains("Approve (1 of 2; needs finance)"),
        "{edited}"
    );

    // Finance presses the edited ping: final, answered by updating the pressed message.
    let fin = member(444, "fin", &[FINANCE_ROLE]);
    let mut edited_message = ping.clone();
    edited_message["components"] = edited["components"].clone();
    fake.interaction(press(
        8102,
        MANAGERS,
        fin,
        &approve,
        posted_message(ping_id.parse().unwrap(), MANAGERS, &edited_message),
    ));
    let calls = fake
        .wait_for("the finance answer", |c| {
            c.iter()
                .any(|c| c.method == "POST" && c.path.contains("8102/token-8102/callback"))
        })
        .await;
    let answer = &calls
        .iter()
        .find(|c| c.method == "POST" && c.path.contains("8102/token-8102/callback"))
        .unwrap()
        .body;
    assert_eq!(answer["type"], 7, "{answer}");
    assert!(
        answer["data"]["content"]
            .as_str()
            .unwrap()
            .contains("approved by mike and fin"),
        "{answer}"
    );
    assert_eq!(answer["data"]["components"], json!([]));
    assert_eq!(status(&app, id).await, "approved");
    let _ = stop.send(true);
}
