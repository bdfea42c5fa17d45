//! Gateway mode: the real serenity client against the fake Discord — registration, the
//! deferred and edited responses, and supervision (a failed start, a 429, a lost connection).
use crate::fake_discord::*;
use crate::support::*;
use dunbot::edges::discord::gateway;
use serde_json::json;
use std::sync::Arc;

/// The app seeded with the sample ledger, the fake, and the supervised client running.
pub struct Running {
    pub fake: FakeDiscord,
    pub app: Arc<dunbot::app::App>,
    pub edge: Arc<dunbot::edges::discord::Discord>,
    pub stop: tokio::sync::watch::Sender<bool>,
    pub task: tokio::task::JoinHandle<()>,
    pub _db: TestDb,
}

impl Running {
    pub async fn start(prepare: impl FnOnce(&FakeDiscord)) -> Running {
        Running::start_with(prepare, |_| {}).await
    }

    /// `start`, with the edge's settings changed by `configure`.
    pub async fn start_with(
        prepare: impl FnOnce(&FakeDiscord),
        configure: impl FnOnce(&mut dunbot::edges::discord::DiscordConfig),
    ) -> Running {
        let (app, db) = app().await;
        seed(&app, CUSTOMERS, INVOICES, None).await;
        let app = Arc::new(app);
        let fake = FakeDiscord::start().await;
        prepare(&fake);
        let edge = edge_with(app.clone(), &fake, at(today(), 10), configure);
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(gateway::run(edge.clone(), stop_rx));
        fake.wait_gateway("IDENTIFY", |frames, _| frames.iter().any(|f| f["op"] == 2))
            .await;
        Running {
            fake,
            app,
            edge,
            stop,
            task,
            _db: db,
        }
    }

    /// Stops the client; it must end (shards shut down) rather than linger.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        tokio::time::timeout(std::time::Duration::from_secs(5), self.task)
            .await
            .expect("the gateway client stops when asked")
            .unwrap();
    }
}

#[tokio::test]
async fn gateway_registers_ar_and_defers_then_edits_a_command() {
    // Discord rate-limits the first response and the edit once each: both are waited out.
    // The core is made "slow" (a zero budget), so the command is deferred, then edited.
    let r = Running::start_with(
        |fake| {
            fake.fail_next("POST", "/api/v10/interactions/4001/", 429);
            fake.fail_next("PATCH", "/api/v10/webhooks/", 429);
        },
        always_defer,
    )
    .await;
    let calls = r
        .fake
        .wait_for("command registration", |c| {
            c.iter().any(|c| c.method == "PUT")
        })
        .await;
    let put = calls.iter().find(|c| c.method == "PUT").unwrap();
    assert_eq!(
        put.path,
        format!("/api/v10/applications/{APP_ID}/guilds/290926798626357999/commands")
    );
    let names: Vec<&str> = put
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ar", "ar-manage"]);
    assert_eq!(put.body[1]["default_member_permissions"], "32");
    let identify = r.fake.inner.gateway_in.lock().unwrap()[0].clone();
    assert_eq!(identify["op"], 2);
    assert_eq!(identify["d"]["token"], "Bot fake-token");
    assert_eq!(identify["d"]["intents"], 0, "interactions need no intents");

    r.fake.interaction(slash(
        4001,
        CHANNEL,
        member(111, "carla", &[COLLECTOR_ROLE]),
        "ar",
        "account",
        &[("account", json!("ACME-001"))],
    ));
    let calls = r
        .fake
        .wait_for("the edited response", |c| {
            c.iter().any(|c| c.method == "PATCH")
        })
        .await;
    let callback = calls
        .iter()
        .find(|c| c.path == "/api/v10/interactions/4001/token-4001/callback")
        .expect("the deferred response");
    // A status card is for the person who asked: deferred ephemeral.
    assert_eq!(callback.body, json!({"type": 5, "data": {"flags": 64}}));
    let edit = calls.iter().find(|c| c.method == "PATCH").unwrap();
    assert_eq!(
        edit.path,
        format!("/api/v10/webhooks/{APP_ID}/token-4001/messages/@original")
    );
    assert!(edit.body.to_string().contains("Acme Corp"), "{}", edit.body);
    let callbacks = r.fake.calls_to("POST", "/interactions/4001/");
    assert_eq!(callbacks.len(), 2, "the 429, then the deferral again");
    let calls = r
        .fake
        .wait_for("the edit after its 429", |c| {
            c.iter().filter(|c| c.method == "PATCH").count() == 2
        })
        .await;
    let callback_at = calls
        .iter()
        .rposition(|c| c.method == "POST" && c.path.contains("/interactions/"))
        .unwrap();
    let edit_at = calls.iter().position(|c| c.method == "PATCH").unwrap();
    assert!(callback_at < edit_at, "deferred before edited");
    r.stop().await;
}

#[tokio::test]
async fn autocomplete_offers_accounts_from_the_ledger() {
    let r = Running::start(|_| {}).await;
    let mut ac = slash(
        4101,
        CHANNEL,
        member(111, "carla", &[COLLECTOR_ROLE]),
        "ar",
        "promise",
        &[("account", json!("acm"))],
    );
    ac["type"] = json!(4);
    ac["data"]["options"][0]["options"][0]["focused"] = json!(true);
    r.fake.interaction(ac);
    let calls = r
        .fake
        .wait_for("the autocomplete answer", |c| {
            c.iter().any(|c| c.path.contains("/interactions/4101/"))
        })
        .await;
    let answer = calls
        .iter()
        .find(|c| c.path.contains("/interactions/4101/"))
        .unwrap();
    assert_eq!(answer.body["type"], 8);
    assert_eq!(
        answer.body["data"]["choices"],
        json!([{"name": "ACME-001 — Acme Corp", "value": "ACME-001"}])
    );
    r.stop().await;
}

#[tokio::test]
async fn a_failed_start_and_a_lost_connection_are_recovered() {
    // Discord answers the gateway lookup with a 500, then a 429: the supervisor waits and
    // starts again.
    let r = Running::start(|fake| {
        fake.fail_next("GET", "/api/v10/gateway/bot", 500);
        fake.fail_next("GET", "/api/v10/gateway/bot", 429);
    })
    .await;
    assert!(r.fake.calls_to("GET", "/gateway/bot").len() >= 3);
    // The network drops the connection: serenity reconnects and resumes the session.
    r.fake.drop_connections();
    r.fake
        .wait_gateway("a new connection that resumes", |frames, connections| {
            connections >= 2
                && frames.iter().any(|f| f["op"] == 6 || f["op"] == 2)
                && frames
                    .iter()
                    .filter(|f| f["op"] == 2 || f["op"] == 6)
                    .count()
                    >= 2
        })
        .await;
    r.fake.interaction(slash(
        4201,
        CHANNEL,
        member(111, "carla", &[COLLECTOR_ROLE]),
        "ar",
        "help",
        &[],
    ));
    r.fake
        .wait_for("the answer after reconnecting", |c| {
            c.iter()
                .any(|c| c.method == "POST" && c.path.contains("/interactions/4201/token-4201"))
        })
        .await;
    assert!(!r.task.is_finished(), "the supervisor keeps running");
    r.stop().await;
}

#[tokio::test]
async fn a_refused_command_is_answered_once_ephemerally_without_a_public_deferral() {
    let r = Running::start(|_| {}).await;
    // No dunbot role on this member: the promise is refused.
    r.fake.interaction(slash(
        4301,
        CHANNEL,
        member(333, "visitor", &[424242]),
        "ar",
        "promise",
        &[
            ("account", json!("ACME-001")),
            ("amount", json!("500")),
            ("date", json!("2026-11-27")),
        ],
    ));
    r.fake
        .wait_for("the interaction response", |c| {
            c.iter().any(|c| c.path.contains("/interactions/4301/"))
        })
        .await;
    // Anything that followed (an edit, a deletion, a follow-up) would come right after.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let calls: Vec<_> = r
        .fake
        .calls()
        .into_iter()
        .filter(|c| c.path.contains("4301"))
        .collect();
    assert_eq!(calls.len(), 1, "exactly one response: {calls:#?}");
    let answer = &calls[0];
    assert_eq!(answer.method, "POST");
    assert_eq!(
        answer.path,
        "/api/v10/interactions/4301/token-4301/callback"
    );
    assert_eq!(answer.body["type"], 4, "answered, not deferred");
    assert_eq!(answer.body["data"]["flags"], 64, "seen by the person alone");
    assert!(
        answer.body["data"]["content"]
            .as_str()
            .unwrap()
            .contains("Only a collector or manager"),
        "{}",
        answer.body
    );
    let (actor, outcome): (String, String) =
        sqlx::query_as("SELECT actor_id, outcome FROM actions WHERE actor_platform = 'discord'")
            .fetch_one(&r.app.store.pool)
            .await
            .unwrap();
    assert_eq!((actor.as_str(), outcome.as_str()), ("333", "refused"));
    assert_eq!(count(&r.app, "promises").await, 0);
    r.stop().await;
}

#[tokio::test]
async fn a_slow_refusal_defers_privately_for_private_commands_and_replaces_a_public_deferral() {
    let r = Running::start_with(|_| {}, always_defer).await;
    let visitor = || member(333, "visitor", &[424242]);
    // A status card is private: the deferral is ephemeral, and the refusal edits it.
    r.fake.interaction(slash(
        4401,
        CHANNEL,
        visitor(),
        "ar",
        "account",
        &[("account", json!("ACME-001"))],
    ));
    // A promise is for the channel: deferred publicly, so the refusal replaces the deferral
    // with an ephemeral follow-up.
    r.fake.interaction(slash(
        4402,
        CHANNEL,
        visitor(),
        "ar",
        "promise",
        &[
            ("account", json!("ACME-001")),
            ("amount", json!("500")),
            ("date", json!("2026-11-27")),
        ],
    ));
    let path = format!("/api/v10/webhooks/{APP_ID}/token-4402");
    let calls = r
        .fake
        .wait_for("both refusals", |c| {
            c.iter()
                .any(|c| c.method == "PATCH" && c.path.contains("token-4401"))
                && c.iter().any(|c| c.method == "POST" && c.path == path)
        })
        .await;
    let first = |id: u64| {
        calls
            .iter()
            .find(|c| c.path == format!("/api/v10/interactions/{id}/token-{id}/callback"))
            .unwrap()
            .body
            .clone()
    };
    assert_eq!(first(4401), json!({"type": 5, "data": {"flags": 64}}));
    assert_eq!(first(4402), json!({"type": 5}));
    let deleted = calls
        .iter()
        .position(|c| c.method == "DELETE" && c.path == format!("{path}/messages/@original"))
        .expect("the public deferral is removed");
    let told = calls
        .iter()
        .position(|c| c.method == "POST" && c.path == path)
        .unwrap();
    assert!(deleted < told);
    assert_eq!(calls[told].body["flags"], 64);
    r.stop().await;
}
