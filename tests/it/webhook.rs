//! Agency pings by signed webhook to a loopback axum receiver: the signature verifies with the
//! algorithm the README documents; a 500 and a timeout leave the row pending with a later
//! retry; success marks it sent; after N failures it is dead and the digest says so.
use crate::support::*;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use chrono::Utc;
use dunbot::app::App;
use dunbot::domain::roles::Role;
use dunbot::notify::webhook::WebhookDeliverer;
use dunbot::notify::{Deliverers, drain_once};
use dunbot::store::outbox;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SECRET: &str = "whsec-northwind-123";

#[derive(Default)]
struct Receiver {
    /// 0: answer 200; 1: answer 500; 2: answer too late.
    mode: AtomicU8,
    got: Mutex<Vec<(HeaderMap, String)>>,
}

async fn hook(State(r): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    r.got
        .lock()
        .unwrap()
        .push((headers, String::from_utf8(body.to_vec()).unwrap()));
    match r.mode.load(Ordering::SeqCst) {
        0 => StatusCode::OK,
        1 => StatusCode::INTERNAL_SERVER_ERROR,
        _ => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            StatusCode::OK
        }
    }
}

async fn receiver() -> (Arc<Receiver>, String) {
    let r = Arc::new(Receiver::default());
    let app = Router::new()
        .route("/hook", post(hook))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (r, url)
}

/// The README's verification: recompute HMAC-SHA256(secret, "<timestamp>.<body>") and compare
/// with the hex after `v1=`.
fn verify(secret: &str, headers: &HeaderMap, body: &str) -> bool {
    let ts = headers["x-dunbot-timestamp"].to_str().unwrap();
    let sig = headers["x-dunbot-signature"].to_str().unwrap();
    let Some(hex_sig) = sig.strip_prefix("v1=") else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{ts}.{body}").as_bytes());
    mac.verify_slice(&hex::decode(hex_sig).unwrap()).is_ok()
}

/// An approved offer on BOLT-001 whose agency has a webhook: one webhook row queued.
async fn decided(url: &str) -> (App, TestDb) {
    let (app, db) = app().await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    dunbot::app::admin::add_agency(&app, "Northwind Recovery", Some(url), Some(SECRET), None)
        .await
        .unwrap();
    let boss = person("priya", Role::Manager);
    let agency = dunbot::app::Actor {
        agency: Some("Northwind Recovery".into()),
        ..person("sam", Role::Agency)
    };
    for (who, id, text) in [
        (&boss, "w1", "refer BOLT-001 northwind recovery"),
        (&agency, "w2", "offer BOLT-001 4,000.00 lump sum"),
    ] {
        let out = run_as(&app, who, id, text, today()).await;
        assert!(!out.refused, "{text}: {}", out.reply.text);
    }
    // Only the decision's ping is under test: the referral's is taken as sent.
    sqlx::query("UPDATE outbox SET status = 'sent' WHERE kind = 'webhook'")
        .execute(&app.store.pool)
        .await
        .unwrap();
    let offer: i64 = sqlx::query_scalar("SELECT id FROM offers")
        .fetch_one(&app.store.pool)
        .await
        .unwrap();
    let out = run_as(
        &app,
        &boss,
        "w3",
        &format!("settle {offer} approve"),
        today(),
    )
    .await;
    assert!(!out.refused, "{}", out.reply.text);
    (app, db)
}

async fn the_row(app: &App) -> outbox::OutboxRow {
    sqlx::query_as(
        "SELECT * FROM outbox WHERE kind = 'webhook' AND dedupe_key LIKE '%:decision:webhook'",
    )
    .fetch_one(&app.store.pool)
    .await
    .unwrap()
}

async fn due_now(app: &App) {
    sqlx::query("UPDATE outbox SET next_attempt_at = now() WHERE status = 'pending'")
        .execute(&app.store.pool)
        .await
        .unwrap();
}

fn workers(app: &App, max_attempts: i32) -> Deliverers {
    let d = WebhookDeliverer::new(app.store.clone(), Duration::from_millis(300)).unwrap();
    Deliverers::new(max_attempts).add("webhook", Arc::new(d))
}

#[tokio::test]
async fn the_decision_arrives_signed_and_retries_on_500_and_timeout() {
    let (recv, url) = receiver().await;
    let (app, _db) = decided(&url).await;
    let ds = workers(&app, 5);
    let key = the_row(&app).await.dedupe_key;

    // 500: pending, one attempt, retried later.
    recv.mode.store(1, Ordering::SeqCst);
    let before = Utc::now();
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 0);
    let row = the_row(&app).await;
    assert_eq!((row.status.as_str(), row.attempts), ("pending", 1));
    assert!(row.last_error.as_deref().unwrap().contains("500"));
    assert!(row.next_attempt_at > before + chrono::Duration::seconds(20));

    // Timeout: pending, two attempts, later still.
    recv.mode.store(2, Ordering::SeqCst);
    due_now(&app).await;
    let before = Utc::now();
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 0);
    let row = the_row(&app).await;
    assert_eq!((row.status.as_str(), row.attempts), ("pending", 2));
    assert!(row.next_attempt_at > before + chrono::Duration::seconds(45));

    // Success: sent.
    recv.mode.store(0, Ordering::SeqCst);
    due_now(&app).await;
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 1);
    assert_eq!(the_row(&app).await.status, "sent");

    let got = recv.got.lock().unwrap();
    assert_eq!(got.len(), 3, "three tries reached the receiver");
    for (headers, body) in got.iter() {
        assert!(verify(SECRET, headers, body), "signature verifies");
        assert!(!verify("another-secret", headers, body));
        assert_eq!(headers["x-dunbot-delivery"].to_str().unwrap(), key);
        assert_eq!(headers["content-type"], "application/json");
    }
    let (headers, body) = &got[2];
    let tampered = body.replace("approved", "rejected");
    assert!(!verify(SECRET, headers, &tampered));
    let event: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(event["event"], "offer_decided");
    assert_eq!(event["decision"], "approved");
    assert_eq!(event["decided_by"], "priya");
    assert_eq!(event["account"], "BOLT-001");
    assert_eq!(event["amount_minor"], 400_000);
    assert_eq!(event["currency"], "USD");
}

#[tokio::test]
async fn after_n_failures_the_ping_is_dead_and_the_digest_says_so() {
    let (recv, url) = receiver().await;
    let (app, _db) = decided(&url).await;
    recv.mode.store(1, Ordering::SeqCst);
    let ds = workers(&app, 3);
    for attempt in 1..=3 {
        due_now(&app).await;
        assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 0);
        let row = the_row(&app).await;
        assert_eq!(row.attempts, attempt);
        let expect = if attempt < 3 { "pending" } else { "dead" };
        assert_eq!(row.status, expect, "after attempt {attempt}");
    }
    // Dead rows are not tried again.
    due_now(&app).await;
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 0);
    assert_eq!(recv.got.lock().unwrap().len(), 3);
    let boss = person("priya", Role::Manager);
    let out = run_as(&app, &boss, "digest-1", "digest", today()).await;
    assert!(
        out.reply.text.contains("1 message could not be delivered"),
        "{}",
        out.reply.text
    );
}

/// A referral hands the agency its case file: contacts, open invoices and the timeline of
/// reminders, calls, notes, promises and disputes — signed in the webhook, readable in its
/// channel — and nothing of any other account.
#[tokio::test]
async fn a_referral_carries_the_case_file_in_the_webhook_and_the_agency_channel() {
    let (recv, url) = receiver().await;
    let (app, _db) = app().await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    dunbot::app::admin::add_agency(
        &app,
        "Northwind Recovery",
        Some(&url),
        Some(SECRET),
        Some("console:northwind"),
    )
    .await
    .unwrap();
    let tom = person("tom", Role::Collector);
    let boss = person("priya", Role::Manager);
    for (who, id, text) in [
        (&tom, "cf1", "remind BOLT-001 firm"),
        (&tom, "cf2", "call BOLT-001 no answer tried the main line"),
        (
            &tom,
            "cf3",
            "note BOLT-001 dispatcher says AP moved to Denver",
        ),
        (&tom, "cf4", "call BOLT-001 promised"),
        (&tom, "cf5", "promise BOLT-001 1000 fri half now"),
        (&tom, "cf6", "dispute INV-2001 freight damaged"),
        (&tom, "cf7", "call ACME-001 reached secret ACME matter"),
        (&tom, "cf8", "note ACME-001 ACME private note"),
        (&boss, "cf9", "refer BOLT-001 northwind recovery"),
    ] {
        let out = run_as(&app, who, id, text, today()).await;
        assert!(!out.refused, "{text}: {}", out.reply.text);
    }
    let ds = workers(&app, 5);
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 1);
    let (headers, body) = recv.got.lock().unwrap()[0].clone();
    assert!(verify(SECRET, &headers, &body), "signature verifies");
    let event: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["event"], "referral");
    let cf = &event["case_file"];
    assert_eq!(cf["contacts"][0]["email"], "billing@bolt.example", "{cf}");
    assert_eq!(cf["contacts"][0]["primary"], true);
    let inv = &cf["open_invoices"][0];
    assert_eq!(inv["invoice"], "INV-2001");
    assert_eq!(inv["balance_minor"], 500_000);
    assert_eq!(inv["currency"], "USD");
    assert_eq!(inv["status"], "disputed");
    assert_eq!(inv["days_overdue"], 45);
    let kinds: Vec<&str> = cf["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for k in ["reminder", "call", "note", "promise", "dispute"] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    assert_eq!(kinds.iter().filter(|k| **k == "call").count(), 2);
    let texts = cf["timeline"].to_string();
    assert!(
        texts.contains("Note by tom: dispatcher says AP moved to Denver"),
        "{texts}"
    );
    assert!(
        texts.contains("Dispute on INV-2001 by tom: freight damaged"),
        "{texts}"
    );
    assert!(
        !body.contains("ACME"),
        "another account's facts leaked: {body}"
    );
    // The agency's channel gets the same, readable.
    let chat: serde_json::Value = sqlx::query_scalar(
        "SELECT payload FROM outbox WHERE kind = 'chat' AND dedupe_key LIKE 'referral:%:chat'",
    )
    .fetch_one(&app.store.pool)
    .await
    .unwrap();
    assert_eq!(chat["channel"], "console:northwind");
    let msg: dunbot::message::Message = serde_json::from_value(chat["message"].clone()).unwrap();
    let text = dunbot::edges::console::render::render(&msg);
    assert!(text.contains("Case file — BOLT-001"), "{text}");
    assert!(text.contains("billing@bolt.example"), "{text}");
    assert!(text.contains("INV-2001 due 2026-10-09"), "{text}");
    assert!(
        text.contains("Call by tom: no answer — tried the main line"),
        "{text}"
    );
    assert!(!text.contains("ACME"), "{text}");
}
