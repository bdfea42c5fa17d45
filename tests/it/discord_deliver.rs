//! The `chat` deliverer for `discord:` channels against the fake: the digest as embeds with
//! buttons, the managers' ping with Approve / Reject, a 429 waited out, a 5xx retried later.
use crate::fake_discord::*;
use crate::support::*;
use dunbot::app::App;
use dunbot::domain::roles::Role;
use dunbot::edges::discord::Discord;
use dunbot::edges::discord::deliver::DiscordChannel;
use dunbot::notify::{Deliverers, drain_once};
use dunbot::store::{outbox, schedule};
use std::sync::Arc;
use std::time::Duration;

const DIGEST_CHANNEL: u64 = 4242;
const MANAGERS_CHANNEL: u64 = 8888;

async fn setup() -> (App, TestDb, FakeDiscord, Deliverers) {
    let db = TestDb::new().await;
    let app = App::new(
        dunbot::config::Settings {
            managers_channel: format!("discord:{MANAGERS_CHANNEL}"),
            ..settings()
        },
        db.store.clone(),
    );
    seed(&app, CUSTOMERS, INVOICES, None).await;
    let fake = FakeDiscord::start().await;
    let http = Arc::new(Discord::http_client(&config(&fake)));
    let ds = Deliverers::new(8).add(
        "chat",
        Arc::new(DiscordChannel::new(http, Duration::from_millis(10))),
    );
    (app, db, fake, ds)
}

async fn rows(app: &App) -> Vec<outbox::OutboxRow> {
    sqlx::query_as("SELECT * FROM outbox WHERE kind = 'chat' ORDER BY id")
        .fetch_all(&app.store.pool)
        .await
        .unwrap()
}

/// Subscribes the digest channel and runs the scheduler: one digest row in the outbox.
async fn digest_row(app: &App) {
    // Two more late accounts, so that the digest (each account once) needs more than five
    // rows of buttons and is split.
    seed(
        app,
        "account,name,email,phone,currency,timezone,owner,do_not_contact
FOX-001,Fox Ltd,ap@fox.example,,USD,UTC,tom,no
GNU-001,Gnu Ltd,ap@gnu.example,,USD,UTC,tom,no
",
        "account,invoice,issued,due,amount,currency
FOX-001,INV-5001,2026-10-18,2026-11-18,100.00,USD
GNU-001,INV-5101,2026-10-18,2026-11-18,100.00,USD
",
        None,
    )
    .await;
    let mut conn = app.store.pool.acquire().await.unwrap();
    let sub = schedule::upsert_subscription(
        &mut conn,
        &format!("discord:{DIGEST_CHANNEL}"),
        "0 8 * * Mon-Fri",
        "UTC",
    )
    .await
    .unwrap();
    schedule::set_subscription_created(&mut conn, sub, at(d("2026-11-01"), 0))
        .await
        .unwrap();
    drop(conn);
    let posted = dunbot::edges::scheduler::tick(app, at(today(), 9))
        .await
        .unwrap();
    assert_eq!(posted.len(), 1);
}

/// POSTs to exactly `/channels/{channel}/messages`.
fn posted_to(fake: &FakeDiscord, channel: &str) -> Vec<Call> {
    let path = format!("/api/v10/channels/{channel}/messages");
    fake.calls()
        .into_iter()
        .filter(|c| c.method == "POST" && c.path == path)
        .collect()
}

#[tokio::test]
async fn the_digest_posts_as_embeds_with_buttons_after_a_429_and_continues_in_a_thread() {
    let (app, _db, fake, ds) = setup().await;
    digest_row(&app).await;
    fake.fail_next("POST", &format!("/api/v10/channels/{DIGEST_CHANNEL}/"), 429);
    assert_eq!(
        drain_once(&app.store, &ds, 10).await.unwrap(),
        1,
        "{:?}",
        rows(&app).await
    );
    // The channel gets one message: the 429, then the same first part again after waiting.
    let calls = posted_to(&fake, &DIGEST_CHANNEL.to_string());
    assert_eq!(calls.len(), 2, "{calls:#?}");
    // The rest of the digest (it needs more than five rows of buttons, so it is split)
    // continues in a thread started from that message, whose id the thread shares.
    let threads = fake.calls_to("POST", "/threads");
    assert_eq!(threads.len(), 1, "{threads:#?}");
    let first_id = fake.inner.threads.lock().unwrap()[0].clone();
    assert_eq!(
        threads[0].path,
        format!("/api/v10/channels/{DIGEST_CHANNEL}/messages/{first_id}/threads")
    );
    assert!(
        threads[0].body["name"]
            .as_str()
            .unwrap()
            .starts_with("Collections digest"),
        "{}",
        threads[0].body
    );
    let in_thread = posted_to(&fake, &first_id);
    assert!(!in_thread.is_empty());
    let all = fake.calls();
    let created = all
        .iter()
        .position(|c| c.path.ends_with("/threads"))
        .unwrap();
    let continued = all
        .iter()
        .position(|c| c.path == format!("/api/v10/channels/{first_id}/messages"))
        .unwrap();
    assert!(created < continued, "the thread exists before its messages");
    assert_eq!(
        in_thread[0].body["nonce"],
        format!("o{}p1", rows(&app).await[0].id)
    );
    let mut calls = calls;
    calls.extend(in_thread);
    let body = &calls[1].body;
    assert_eq!(calls[0].body, *body, "the same message after waiting");
    assert_eq!(
        calls[2].body["nonce"],
        format!("o{}p1", rows(&app).await[0].id)
    );
    assert!(
        body["content"]
            .as_str()
            .unwrap()
            .starts_with("Collections digest"),
        "{body}"
    );
    let embeds = body["embeds"].as_array().unwrap();
    assert!(
        embeds[0]["title"]
            .as_str()
            .unwrap()
            .starts_with("Collections digest")
    );
    let text = format!(
        "{}{}",
        serde_json::to_string(embeds).unwrap(),
        calls[2].body["embeds"]
    );
    for code in ["ACME-001", "BOLT-001", "EURO-001"] {
        assert!(text.contains(code), "{code} missing: {text}");
    }
    let ids: Vec<&str> = calls[1..]
        .iter()
        .flat_map(|c| c.body["components"].as_array().unwrap())
        .flat_map(|r| r["components"].as_array().unwrap())
        .map(|b| b["custom_id"].as_str().unwrap())
        .collect();
    assert!(
        ids.iter().any(|id| id.ends_with(":remind BOLT-001")),
        "{ids:?}"
    );
    assert!(
        ids.iter()
            .any(|id| id.starts_with("f:") && id.ends_with(":promise BOLT-001")),
        "{ids:?}"
    );
    assert!(body["components"].as_array().unwrap().len() <= 5);
    assert_eq!(body["enforce_nonce"], true);
    assert_eq!(rows(&app).await[0].status, "sent");
}

#[tokio::test]
async fn a_half_sent_long_digest_continues_in_the_same_thread_when_retried() {
    let (app, _db, fake, ds) = setup().await;
    digest_row(&app).await;
    // The thread's first message fails (thread ids are the fake's 9… message ids).
    fake.fail_next("POST", "/api/v10/channels/9", 502);
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 0);
    assert_eq!(rows(&app).await[0].status, "pending");
    sqlx::query("UPDATE outbox SET next_attempt_at = now()")
        .execute(&app.store.pool)
        .await
        .unwrap();
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 1);
    // The retry's first part is the same message (its nonce), whose thread already exists
    // (Discord answers 160004): the rest goes there, and no second thread is started.
    let threads = fake.inner.threads.lock().unwrap().clone();
    assert_eq!(threads.len(), 1, "{threads:?}");
    assert_eq!(fake.calls_to("POST", "/threads").len(), 2);
    let in_thread = posted_to(&fake, &threads[0]);
    // The failed first try, then every remaining part.
    assert!(in_thread.len() >= 2, "{in_thread:#?}");
    assert_eq!(in_thread[0].body["nonce"], in_thread[1].body["nonce"]);
    assert!(
        fake.calls()
            .iter()
            .filter(|c| c.method == "POST" && c.path.starts_with("/api/v10/channels/"))
            .all(|c| c.path.contains(&DIGEST_CHANNEL.to_string()) || c.path.contains(&threads[0])),
        "nothing posted anywhere else"
    );
    assert_eq!(rows(&app).await[0].status, "sent");
}

#[tokio::test]
async fn managers_get_the_offer_with_its_buttons_and_a_5xx_is_retried_later() {
    let (app, _db, fake, ds) = setup().await;
    dunbot::app::admin::add_agency(&app, "Northwind Recovery", None, None, None)
        .await
        .unwrap();
    let boss = person("boss", Role::Manager);
    for (id, line) in [
        ("r1", "refer BOLT-001 Northwind Recovery"),
        ("o1", "offer BOLT-001 4000 paid within 10 days"),
    ] {
        let out = run_as(&app, &boss, id, line, today()).await;
        assert!(!out.refused, "{:?}", out.reply);
    }
    let path = format!("/api/v10/channels/{MANAGERS_CHANNEL}/messages");
    fake.fail_next("POST", &path, 502);
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 0);
    let row = rows(&app).await.pop().unwrap();
    assert_eq!((row.status.as_str(), row.attempts), ("pending", 1));
    assert!(
        row.last_error.as_deref().unwrap().contains("502"),
        "{row:?}"
    );
    // Due again (the backoff elapsed): delivered.
    sqlx::query("UPDATE outbox SET next_attempt_at = now()")
        .execute(&app.store.pool)
        .await
        .unwrap();
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 1);
    let calls = fake.calls_to("POST", &format!("/channels/{MANAGERS_CHANNEL}/messages"));
    assert_eq!(calls.len(), 2);
    let body = &calls[1].body;
    assert!(body.to_string().contains("Offer 1"), "{body}");
    let ids: Vec<&str> = body["components"][0]["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["custom_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["r:0:settle 1 approve", "r:1:settle 1 reject"]);
    assert_eq!(
        calls[0].body["nonce"], calls[1].body["nonce"],
        "the retry reuses the nonce"
    );
}

#[tokio::test]
async fn a_real_digest_of_every_account_stays_within_discords_limits() {
    use dunbot::edges::discord::render::{LIMITS, len, render};
    let db = TestDb::new().await;
    // Every entry listed (no top-N cut by the core): the edge alone must keep it postable.
    let s = dunbot::config::Settings {
        digest_top: 100_000,
        ..settings()
    };
    let app = App::new(s, db.store.clone());
    assert!(
        dunbot::edges::console::demo::seed(&app, today(), 300, 7)
            .await
            .unwrap()
    );
    let mut conn = app.store.pool.acquire().await.unwrap();
    let snap = dunbot::digest::load(&mut conn, &app.settings, today())
        .await
        .unwrap();
    let msg = dunbot::digest::render(&dunbot::digest::build(
        &snap,
        &app.settings,
        today(),
        None,
        false,
    ));
    let items = msg
        .blocks
        .iter()
        .filter(|b| matches!(b, dunbot::message::Block::Item { .. }))
        .count();
    assert!(items > 100, "a big digest: {items} entries");
    let posts = render(&msg);
    assert_eq!(posts.len(), LIMITS.max_posts);
    let mut shown = 0;
    for p in &posts {
        assert!(len(&p.content) <= LIMITS.content);
        assert!(p.embeds.len() <= LIMITS.embeds);
        assert!(p.embed_chars() <= LIMITS.embed_total);
        assert!(p.components.len() <= LIMITS.rows);
        assert!(
            p.buttons()
                .all(|b| b.custom_id.len() <= 100 && len(&b.label) <= 80)
        );
        shown += p
            .embeds
            .iter()
            .filter_map(|e| e.description.as_deref())
            .flat_map(|d| d.lines())
            .filter(|l| l.starts_with("• "))
            .count();
    }
    let last = &posts.last().unwrap().content;
    let omitted: usize = last
        .split("…and ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    // Every entry is either shown or counted (the count also covers section lines).
    assert!(shown + omitted >= items, "{shown} + {omitted} < {items}");
}
