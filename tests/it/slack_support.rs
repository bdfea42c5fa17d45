//! A dunbot Slack edge on loopback, wired to the fake Slack, over a seeded ledger: a collector
//! (UCOLL), a manager (UMGR), a person without a role (UNOBODY), an agency with an offer.
#![allow(dead_code)]
use crate::fake_slack::FakeSlack;
use crate::support::*;
use dunbot::app::{Actor, App, Platform};
use dunbot::domain::roles::Role;
use dunbot::edges::slack::{SlackConfig, SlackEdge, routes, verify};
use serde_json::Value;
use std::sync::Arc;

pub const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";

pub struct Bot {
    pub app: Arc<App>,
    pub db: TestDb,
    pub fake: FakeSlack,
    pub edge: Arc<SlackEdge>,
    /// `http://127.0.0.1:port` of the bot's HTTP server.
    pub url: String,
    pub http: reqwest::Client,
}

pub fn slack_config(fake: &FakeSlack) -> SlackConfig {
    SlackConfig {
        bot_token: Some("xoxb-test-token".into()),
        signing_secret: Some(SECRET.into()),
        app_token: Some("xapp-test-token".into()),
        api_url: fake.api_url(),
        ..SlackConfig::default()
    }
}

/// Managers are pinged in CMGR; the agency in its Slack Connect channel CAGENCY.
pub async fn bot() -> Bot {
    bot_with(|app| app, CUSTOMERS, INVOICES).await
}

/// `bot`, with the app changed by `adjust` (settings, clock) and its own ledger.
pub async fn bot_with(adjust: impl FnOnce(App) -> App, customers: &str, invoices: &str) -> Bot {
    let db = TestDb::new().await;
    let app = adjust(App::new(
        dunbot::config::Settings {
            managers_channel: "slack:CMGR".into(),
            ..settings()
        },
        db.store.clone(),
    ));
    seed(&app, customers, invoices, None).await;
    dunbot::app::admin::add_agency(
        &app,
        "Northwind Recovery",
        None,
        None,
        Some("slack:CAGENCY"),
    )
    .await
    .unwrap();
    {
        let mut conn = app.store.pool.acquire().await.unwrap();
        for (user, role) in [("UCOLL", Role::Collector), ("UMGR", Role::Manager)] {
            dunbot::store::people::grant(&mut conn, "slack", user, role, None, "test")
                .await
                .unwrap();
        }
    }
    let app = Arc::new(app);
    let fake = FakeSlack::start().await;
    let edge = Arc::new(SlackEdge::new(app.clone(), slack_config(&fake)).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = routes::router(edge.clone());
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    Bot {
        app,
        db,
        fake,
        edge,
        url,
        http: reqwest::Client::new(),
    }
}

/// An offer from the agency on BOLT-001 (referred by an admin), for the Approve buttons.
pub async fn offer_on_bolt(app: &App) -> i64 {
    let admin = Actor {
        platform: Platform::Console,
        user_id: "root".into(),
        name: "root".into(),
        roles: vec![Role::Admin],
        agency: None,
    };
    let o = run_as(
        app,
        &admin,
        "setup-refer",
        "refer BOLT-001 \"Northwind Recovery\"",
        today(),
    )
    .await;
    assert!(!o.refused, "{}", o.reply.text);
    let o = run_as(app, &admin, "setup-offer", "offer BOLT-001 3000", today()).await;
    assert!(!o.refused, "{}", o.reply.text);
    sqlx::query_scalar("SELECT max(id) FROM offers")
        .fetch_one(&app.store.pool)
        .await
        .unwrap()
}

impl Bot {
    /// Delivers what the outbox holds through the Slack deliverer (one pass).
    pub async fn drain(&self) -> usize {
        let d = Arc::new(dunbot::edges::slack::deliver::SlackDeliverer {
            api: self.edge.api.clone().unwrap(),
            store: self.app.store.clone(),
            managers_group: self.edge.cfg.managers_group.clone(),
        });
        let ds = dunbot::notify::Deliverers::new(8)
            .add("chat", d.clone())
            .add("chat_edit", d);
        dunbot::notify::drain_once(&self.app.store, &ds, 50)
            .await
            .unwrap()
    }

    /// POSTs `body` to `path` signed with the secret at `ts` (Unix seconds).
    pub async fn post_signed_at(
        &self,
        path: &str,
        content_type: &str,
        body: &str,
        ts: i64,
    ) -> reqwest::Response {
        let ts = ts.to_string();
        let sig = verify::sign(SECRET, &ts, body.as_bytes());
        self.http
            .post(format!("{}{path}", self.url))
            .header("content-type", content_type)
            .header("x-slack-request-timestamp", ts)
            .header("x-slack-signature", sig)
            .body(body.to_string())
            .send()
            .await
            .unwrap()
    }

    pub async fn post_signed(
        &self,
        path: &str,
        content_type: &str,
        body: &str,
    ) -> reqwest::Response {
        self.post_signed_at(path, content_type, body, chrono::Utc::now().timestamp())
            .await
    }

    /// A slash command `/ar <text>` from `user` in C123, answered at the fake's response_url `rid`.
    pub async fn command(&self, user: &str, text: &str, rid: &str) -> reqwest::Response {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("team_id", "T123")
            .append_pair("channel_id", "C123")
            .append_pair("user_id", user)
            .append_pair("user_name", &user.to_lowercase())
            .append_pair("command", "/ar")
            .append_pair("text", text)
            .append_pair("response_url", &self.fake.response_url(rid))
            .append_pair("trigger_id", &format!("trig-{rid}"))
            .finish();
        self.post_signed(
            "/slack/commands",
            "application/x-www-form-urlencoded",
            &body,
        )
        .await
    }

    /// An interaction (`payload=<json>`), signed.
    pub async fn interaction(&self, payload: &Value) -> reqwest::Response {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("payload", &payload.to_string())
            .finish();
        self.post_signed(
            "/slack/interactions",
            "application/x-www-form-urlencoded",
            &body,
        )
        .await
    }

    pub async fn actions(&self) -> i64 {
        count(&self.app, "actions").await
    }
}

/// A `block_actions` payload for `user` pressing the button running `command` on the posted
/// message `ts` with `blocks` (Block Kit JSON as the fake received it).
pub fn press(
    user: &str,
    ts: &str,
    blocks: &[Value],
    command: &str,
    trigger: &str,
    response_url: &str,
) -> Value {
    let (block_id, action_id) = find_button(blocks, command);
    serde_json::json!({
        "type": "block_actions",
        "user": {"id": user, "username": user.to_lowercase(), "team_id": "T123"},
        "api_app_id": "A123",
        "container": {"type": "message", "message_ts": ts, "channel_id": "C123", "is_ephemeral": false},
        "trigger_id": trigger,
        "team": {"id": "T123"},
        "channel": {"id": "C123", "name": "collections"},
        "message": {"type": "message", "ts": ts, "text": "digest", "blocks": blocks},
        "response_url": response_url,
        "actions": [{
            "action_id": action_id, "block_id": block_id, "value": command,
            "type": "button", "action_ts": "1700000001.000001",
            "text": {"type": "plain_text", "text": "Button"},
        }],
    })
}

/// The button in `blocks` whose command is `command`: (block_id, action_id).
pub fn find_button(blocks: &[Value], command: &str) -> (String, String) {
    for b in blocks {
        if b["type"] == "actions" {
            for e in b["elements"].as_array().unwrap() {
                if e["value"] == command {
                    return (
                        b["block_id"].as_str().unwrap().into(),
                        e["action_id"].as_str().unwrap().into(),
                    );
                }
            }
        }
    }
    panic!("no button running {command:?} in {blocks:#?}");
}
