//! Stripe: signed webhooks applied once each through the real router, and the backfill
//! against a loopback Stripe fake built from Stripe's published example objects. Stripe's
//! fixtures hold no `invoice.*` event: each test wraps invoice.json (and the other objects)
//! in event.json's envelope.
use crate::fake_stripe::{self, FakeStripe, KEY, fixture};
use crate::support::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use dunbot::app::App;
use dunbot::clock::Clock;
use dunbot::domain::roles::Role;
use dunbot::edges::stripe::signature::sign;
use dunbot::edges::stripe::sync::{Client, SyncReport, sync};
use dunbot::edges::stripe::webhook::router;
use serde_json::{Value, json};
use std::sync::Arc;
use tower::ServiceExt;

const SECRET: &str = "whsec_dunbot_test";

fn plain(m: &dunbot::message::Message) -> String {
    dunbot::edges::console::render::render(m)
}

fn now() -> chrono::DateTime<chrono::Utc> {
    at(today(), 10)
}

fn unix(day: &str) -> i64 {
    at(d(day), 12).timestamp()
}

async fn setup() -> (Arc<App>, TestDb, axum::Router) {
    let db = TestDb::new().await;
    let app = Arc::new(App::new(settings(), db.store.clone()).with_clock(Clock::Fixed(now())));
    let r = router(app.clone(), vec![SECRET.into()]);
    (app, db, r)
}

/// Stripe's example event envelope around `object`.
fn event(id: &str, kind: &str, object: Value) -> Value {
    let mut e = fixture("event.json");
    e["id"] = id.into();
    e["type"] = kind.into();
    e["data"]["object"] = object;
    e
}

async fn post_at(r: &axum::Router, ev: &Value, t: i64) -> (StatusCode, String) {
    let body = serde_json::to_vec(ev).unwrap();
    let res = r
        .clone()
        .oneshot(
            Request::post("/stripe/webhook")
                .header("stripe-signature", sign(SECRET, t, &body))
                .body(Body::from(body))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

async fn post(r: &axum::Router, ev: &Value) -> (StatusCode, String) {
    let t = now().timestamp() - 5;
    post_at(r, ev, t).await
}

async fn invoice_row(app: &App, number: &str) -> (i64, i64, String, Option<String>) {
    sqlx::query_as(
        "SELECT amount_minor, paid_minor, status, closed_reason FROM invoices WHERE number = $1",
    )
    .bind(number)
    .fetch_one(&app.store.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_replayed_webhook_with_an_old_timestamp_is_refused_and_writes_nothing() {
    let (app, _db, r) = setup().await;
    let ev = event(
        "evt_old",
        "customer.created",
        fake_stripe::customer("cus_A", Some("ACME-9"), "usd"),
    );
    let (status, body) = post_at(&r, &ev, now().timestamp() - 301).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("tolerance"), "{body}");
    // A wrong secret, and a body changed after signing, are refused too.
    let raw = serde_json::to_vec(&ev).unwrap();
    let res = r
        .clone()
        .oneshot(
            Request::post("/stripe/webhook")
                .header(
                    "stripe-signature",
                    sign("whsec_other", now().timestamp(), &raw),
                )
                .body(Body::from(raw))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(count(&app, "accounts").await, 0);
    assert_eq!(count(&app, "actions").await, 0);
    let (status, _) = post(&r, &ev).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(count(&app, "accounts").await, 1);
}

#[tokio::test]
async fn each_event_type_is_applied() {
    let (app, _db, r) = setup().await;
    let cus = fake_stripe::customer("cus_A", Some("ACME-9"), "usd");
    assert_eq!(
        post(&r, &event("evt_1", "customer.created", cus.clone()))
            .await
            .0,
        StatusCode::OK
    );
    let acc: (String, String, String, Option<String>) = sqlx::query_as(
        "SELECT a.code, a.time_zone, c.email, c.name FROM accounts a JOIN contacts c ON c.account_id = a.id",
    )
    .fetch_one(&app.store.pool)
    .await
    .unwrap();
    // The contact has no name of its own: reminders greet no company as a person.
    assert_eq!(
        acc,
        (
            "ACME-9".into(),
            "Europe/Berlin".into(),
            "ap@cus_A.example".into(),
            None
        )
    );
    let mut renamed = cus.clone();
    renamed["name"] = "Acme Nine".into();
    post(&r, &event("evt_2", "customer.updated", renamed)).await;
    let name: String = sqlx::query_scalar("SELECT name FROM accounts WHERE code = 'ACME-9'")
        .fetch_one(&app.store.pool)
        .await
        .unwrap();
    assert_eq!(name, "Acme Nine");

    let due = unix("2026-12-10");
    let open = fake_stripe::invoice("in_1", "cus_A", "ST-1", "open", due, 0, "usd");
    post(&r, &event("evt_3", "invoice.finalized", open.clone())).await;
    assert_eq!(
        invoice_row(&app, "ST-1").await,
        (1000, 0, "open".into(), None)
    );
    let mut updated = open.clone();
    updated["amount_due"] = 1200.into();
    updated["amount_remaining"] = 1200.into();
    post(&r, &event("evt_4", "invoice.updated", updated)).await;
    assert_eq!(invoice_row(&app, "ST-1").await.0, 1200);

    let mut cn = fixture("credit_note.json");
    cn["invoice"] = "in_1".into();
    cn["total"] = 200.into();
    post(&r, &event("evt_5", "credit_note.created", cn)).await;
    assert_eq!(invoice_row(&app, "ST-1").await.0, 1000);

    let mut paid = fake_stripe::invoice("in_1", "cus_A", "ST-1", "paid", due, 1000, "usd");
    paid["amount_due"] = 1000.into();
    paid["pre_payment_credit_notes_amount"] = 200.into();
    post(
        &r,
        &event("evt_6", "invoice.payment_succeeded", paid.clone()),
    )
    .await;
    post(&r, &event("evt_7", "invoice.paid", paid)).await;
    assert_eq!(
        invoice_row(&app, "ST-1").await,
        (1000, 1000, "paid".into(), None)
    );
    assert_eq!(count(&app, "payments").await, 1);

    let v = fake_stripe::invoice("in_2", "cus_A", "ST-2", "open", due, 0, "usd");
    post(&r, &event("evt_8", "invoice.finalized", v.clone())).await;
    let mut voided = v;
    voided["status"] = "void".into();
    post(&r, &event("evt_9", "invoice.voided", voided)).await;
    assert_eq!(invoice_row(&app, "ST-2").await.2, "void");
    assert_eq!(
        invoice_row(&app, "ST-2").await.3.as_deref(),
        Some("voided in Stripe")
    );

    let u = fake_stripe::invoice("in_3", "cus_A", "ST-3", "open", due, 0, "usd");
    post(&r, &event("evt_10", "invoice.finalized", u.clone())).await;
    let mut unc = u;
    unc["status"] = "uncollectible".into();
    post(&r, &event("evt_11", "invoice.marked_uncollectible", unc)).await;
    assert_eq!(invoice_row(&app, "ST-3").await.2, "written_off");

    let mut ch = fixture("charge.json");
    ch["invoice"] = "in_1".into();
    ch["amount_refunded"] = 300.into();
    ch["refunded"] = false.into();
    post(&r, &event("evt_12", "charge.refunded", ch)).await;
    let kinds: Vec<String> = sqlx::query_scalar("SELECT kind FROM invoice_changes ORDER BY id")
        .fetch_all(&app.store.pool)
        .await
        .unwrap();
    assert_eq!(
        kinds,
        ["amount", "credit_note", "void", "write_off", "refund"]
    );
    // The digest, the card and reminders chase none of them: nothing open is left.
    let balance: i64 = sqlx::query_scalar(
        "SELECT coalesce(sum(amount_minor - paid_minor), 0)::int8 FROM invoices WHERE status IN ('open', 'disputed', 'with_agency')",
    )
    .fetch_one(&app.store.pool)
    .await
    .unwrap();
    assert_eq!(balance, 0);
    let logged: i64 = sqlx::query_scalar("SELECT count(*) FROM actions WHERE idempotency_key LIKE 'stripe:evt\\_%' ESCAPE '\\' AND idempotency_key NOT LIKE '%:%:%'")
        .fetch_one(&app.store.pool)
        .await
        .unwrap();
    assert_eq!(logged, 12);
}

#[tokio::test]
async fn the_same_event_twice_applies_once() {
    let (app, _db, r) = setup().await;
    post(
        &r,
        &event(
            "evt_c",
            "customer.created",
            fake_stripe::customer("cus_A", None, "usd"),
        ),
    )
    .await;
    let ev = event(
        "evt_p",
        "invoice.paid",
        fake_stripe::invoice(
            "in_1",
            "cus_A",
            "ST-1",
            "paid",
            unix("2026-11-20"),
            1000,
            "usd",
        ),
    );
    let (a, b) = tokio::join!(post(&r, &ev), post(&r, &ev));
    assert_eq!((a.0, b.0), (StatusCode::OK, StatusCode::OK));
    let (c, body) = post(&r, &ev).await;
    assert_eq!((c, body.as_str()), (StatusCode::OK, "already applied"));
    assert_eq!(count(&app, "payments").await, 1);
    assert_eq!(count(&app, "invoices").await, 1);
    let rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM actions WHERE idempotency_key = 'stripe:evt_p'")
            .fetch_one(&app.store.pool)
            .await
            .unwrap();
    assert_eq!(rows, 1);
}

#[tokio::test]
async fn paid_before_finalized_ends_paid() {
    let (app, _db, r) = setup().await;
    let due = unix("2026-11-30");
    // Finalized at 1000, corrected to 800 and paid; the events come paid first.
    let mut paid = fake_stripe::invoice("in_1", "cus_A", "ST-1", "paid", due, 800, "usd");
    paid["amount_due"] = 800.into();
    paid["amount_remaining"] = 0.into();
    let open = fake_stripe::invoice("in_1", "cus_A", "ST-1", "open", due, 0, "usd");
    post(&r, &event("evt_paid", "invoice.paid", paid)).await;
    post(&r, &event("evt_fin", "invoice.finalized", open)).await;
    // The late event's older amount does not reopen it.
    assert_eq!(
        invoice_row(&app, "ST-1").await,
        (800, 800, "paid".into(), None)
    );
    // The customer the invoice named was made from it (its own event comes later).
    let code: String = sqlx::query_scalar("SELECT code FROM accounts")
        .fetch_one(&app.store.pool)
        .await
        .unwrap();
    assert_eq!(code, "cus_A");
}

#[tokio::test]
async fn a_jpy_invoice_has_its_amounts_right_and_autocharge_is_not_chased() {
    let (app, _db, r) = setup().await;
    post(
        &r,
        &event(
            "evt_c",
            "customer.created",
            fake_stripe::customer("cus_J", Some("NIPPON-1"), "jpy"),
        ),
    )
    .await;
    let mut inv = fake_stripe::invoice(
        "in_j",
        "cus_J",
        "JP-1",
        "open",
        unix("2026-12-01"),
        400,
        "jpy",
    );
    inv["amount_due"] = 1000.into();
    post(&r, &event("evt_j", "invoice.finalized", inv)).await;
    // ¥1,000 due and ¥400 paid: whole yen, not hundredths.
    assert_eq!(
        invoice_row(&app, "JP-1").await,
        (1000, 400, "open".into(), None)
    );
    let shown =
        dunbot::domain::money::Money::new(600, dunbot::domain::money::Currency::JPY).format();
    assert_eq!(shown, "JPY 600");

    let mut auto = fake_stripe::invoice("in_a", "cus_J", "JP-2", "open", 0, 0, "jpy");
    auto["due_date"] = Value::Null;
    auto["collection_method"] = "charge_automatically".into();
    post(&r, &event("evt_a", "invoice.finalized", auto.clone())).await;
    assert_eq!(invoice_row(&app, "JP-2").await.2, "autocharge");
    auto["attempted"] = true.into();
    auto["attempt_count"] = 1.into();
    post(&r, &event("evt_a2", "invoice.updated", auto)).await;
    assert_eq!(invoice_row(&app, "JP-2").await.2, "open");
}

#[tokio::test]
async fn changes_to_disputed_or_referred_invoices_tell_the_owner_or_the_agency() {
    let (app, _db, r) = setup().await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    let mgr = person("priya", Role::Manager);
    let mut conn = app.store.pool.acquire().await.unwrap();
    dunbot::store::collections::upsert_agency(
        &mut conn,
        "Northwind",
        Some("http://127.0.0.1:9/hook"),
        Some("s"),
        None,
    )
    .await
    .unwrap();
    drop(conn);
    assert!(
        !run_as(
            &app,
            &mgr,
            "r1",
            "ar dispute INV-1001 wrong amount",
            today()
        )
        .await
        .refused
    );
    assert!(
        !run_as(&app, &mgr, "r2", "ar refer BOLT-001 Northwind", today())
            .await
            .refused
    );
    for (cus, code) in [("cus_A", "ACME-001"), ("cus_B", "BOLT-001")] {
        post(
            &r,
            &event(
                &format!("evt_{cus}"),
                "customer.created",
                fake_stripe::customer(cus, Some(code), "usd"),
            ),
        )
        .await;
    }
    let mut acme = fake_stripe::invoice(
        "in_a",
        "cus_A",
        "INV-1001",
        "open",
        unix("2026-11-13"),
        0,
        "usd",
    );
    acme["amount_due"] = 125_000.into();
    acme["amount_remaining"] = 125_000.into();
    post(&r, &event("evt_link", "invoice.updated", acme)).await;
    let mut cn = fixture("credit_note.json");
    cn["invoice"] = "in_a".into();
    cn["total"] = 25_000.into();
    post(&r, &event("evt_cn", "credit_note.created", cn)).await;
    assert_eq!(invoice_row(&app, "INV-1001").await.0, 100_000);
    assert_eq!(invoice_row(&app, "INV-1001").await.2, "disputed");
    let chat: Value = sqlx::query_scalar(
        "SELECT payload FROM outbox WHERE kind = 'chat' AND dedupe_key LIKE 'stripe:evt_cn%'",
    )
    .fetch_one(&app.store.pool)
    .await
    .unwrap();
    let text = chat["message"]["text"].as_str().unwrap();
    assert!(
        text.contains("owner: maria") && text.contains("INV-1001"),
        "{text}"
    );

    let mut bolt = fake_stripe::invoice(
        "in_b",
        "cus_B",
        "INV-2001",
        "void",
        unix("2026-10-09"),
        0,
        "usd",
    );
    bolt["amount_due"] = 500_000.into();
    bolt["amount_remaining"] = 500_000.into();
    post(&r, &event("evt_void", "invoice.voided", bolt)).await;
    assert_eq!(invoice_row(&app, "INV-2001").await.2, "void");
    let hook: Value = sqlx::query_scalar(
        "SELECT payload FROM outbox WHERE kind = 'webhook' AND dedupe_key LIKE 'stripe:evt_void%'",
    )
    .fetch_one(&app.store.pool)
    .await
    .unwrap();
    assert_eq!(hook["body"]["event"], json!("invoice_changed"));
    assert_eq!(hook["body"]["invoice"], json!("INV-2001"));
    assert_eq!(hook["body"]["status"], json!("void"));
}

#[tokio::test]
async fn a_stripe_payment_keeps_a_promise() {
    let (app, _db, r) = setup().await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    let c = person("maria", Role::Collector);
    assert!(
        !run_as(
            &app,
            &c,
            "p1",
            "ar promise ACME-001 400 2026-11-25",
            today()
        )
        .await
        .refused
    );
    post(
        &r,
        &event(
            "evt_c",
            "customer.created",
            fake_stripe::customer("cus_A", Some("ACME-001"), "usd"),
        ),
    )
    .await;
    let mut inv = fake_stripe::invoice(
        "in_x",
        "cus_A",
        "INV-1002",
        "paid",
        unix("2026-11-23"),
        40_000,
        "usd",
    );
    inv["amount_due"] = 40_000.into();
    post(&r, &event("evt_x", "invoice.paid", inv)).await;
    let status: String = sqlx::query_scalar("SELECT status FROM promises")
        .fetch_one(&app.store.pool)
        .await
        .unwrap();
    assert_eq!(status, "kept");
    // The team hears of it where it works, once, however often Stripe says so.
    post(
        &r,
        &event(
            "evt_x2",
            "invoice.payment_succeeded",
            fake_stripe::invoice(
                "in_x",
                "cus_A",
                "INV-1002",
                "paid",
                unix("2026-11-23"),
                40_000,
                "usd",
            ),
        ),
    )
    .await;
    let news: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT payload FROM outbox WHERE kind = 'chat' AND dedupe_key LIKE 'payment:%'",
    )
    .fetch_all(&app.store.pool)
    .await
    .unwrap();
    assert_eq!(news.len(), 1, "{news:?}");
    let text = news[0]["message"]["text"].as_str().unwrap();
    assert!(
        text.contains("ACME-001 paid USD 400.00") && text.contains("promise kept"),
        "{text}"
    );
}

fn stripe_lists(fake: &FakeStripe, customers: usize, invoices: usize) {
    let cs: Vec<Value> = (0..customers)
        .rev()
        .map(|i| fake_stripe::customer(&format!("cus_{i:03}"), None, "usd"))
        .collect();
    let is: Vec<Value> = (0..invoices)
        .rev()
        .map(|i| {
            let mut v = fake_stripe::invoice(
                &format!("in_{i:03}"),
                &format!("cus_{:03}", i % customers.max(1)),
                &format!("S-{i:03}"),
                "open",
                unix("2026-12-01"),
                0,
                "usd",
            );
            v["created"] = (unix("2026-11-01") + i as i64).into();
            v
        })
        .collect();
    fake.set("customers", cs);
    fake.set("invoices", is);
}

fn client(fake: &FakeStripe) -> Client {
    let mut c = Client::new(&fake.url, KEY);
    c.limit = 10;
    c
}

async fn pages_logged(app: &App) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM actions WHERE kind = 'stripe_sync_page'")
        .fetch_one(&app.store.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_sync_pages_through_customers_and_invoices() {
    let (app, _db, _r) = setup().await;
    let fake = FakeStripe::start().await;
    stripe_lists(&fake, 5, 25);
    let report = sync(&app, &client(&fake), None, false).await.unwrap();
    assert!(
        matches!(
            report,
            SyncReport::Done {
                objects: 30,
                resumed: false,
                ..
            }
        ),
        "{report:?}"
    );
    assert_eq!(count(&app, "invoices").await, 25);
    assert_eq!(count(&app, "accounts").await, 5);
    assert_eq!(pages_logged(&app).await, 4);
    let bad = Client::new(&fake.url, "sk_wrong");
    let e = sync(&app, &bad, None, false).await.unwrap_err().to_string();
    assert!(e.contains("STRIPE_API_KEY"), "{e}");
}

#[tokio::test]
async fn two_syncs_racing_apply_each_page_once() {
    let db = TestDb::new().await;
    let a = App::new(settings(), db.store.clone()).with_clock(Clock::Fixed(now()));
    let b = App::new(settings(), db.store.clone()).with_clock(Clock::Fixed(now()));
    let fake = FakeStripe::start().await;
    stripe_lists(&fake, 3, 40);
    fake.inner
        .delay_ms
        .store(50, std::sync::atomic::Ordering::SeqCst);
    let (ca, cb) = (client(&fake), client(&fake));
    let (ra, rb) = tokio::join!(sync(&a, &ca, None, false), sync(&b, &cb, None, false));
    let reports = [ra.unwrap(), rb.unwrap()];
    assert!(reports.contains(&SyncReport::Busy), "{reports:?}");
    let mut seen: Vec<(String, Option<String>)> = fake
        .requests()
        .into_iter()
        .map(|r| (r.path, r.starting_after))
        .collect();
    let total = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!((seen.len(), total), (5, 5), "each page is fetched once");
    assert_eq!(pages_logged(&a).await, 5);
    assert_eq!(count(&a, "invoices").await, 40);
}

#[tokio::test]
async fn an_interrupted_sync_resumes_from_its_cursor() {
    let (app, _db, _r) = setup().await;
    let fake = FakeStripe::start().await;
    stripe_lists(&fake, 2, 30);
    // customers: 1 page; invoices: pages 2 and 3 served, then the "crash".
    *fake.inner.fail_from.lock().unwrap() = Some(3);
    assert!(sync(&app, &client(&fake), None, false).await.is_err());
    assert_eq!(count(&app, "invoices").await, 20);
    *fake.inner.fail_from.lock().unwrap() = None;
    let report = sync(&app, &client(&fake), None, false).await.unwrap();
    assert!(
        matches!(
            report,
            SyncReport::Done {
                resumed: true,
                objects: 10,
                ..
            }
        ),
        "{report:?}"
    );
    let reqs = fake.requests();
    let resumed = reqs.iter().filter(|r| r.status == 200).nth(3).unwrap();
    assert_eq!(
        (resumed.path.as_str(), resumed.starting_after.as_deref()),
        ("invoices", Some("in_010"))
    );
    assert_eq!(count(&app, "invoices").await, 30);
    assert_eq!(pages_logged(&app).await, 4);
}

#[tokio::test]
async fn a_429_is_honoured_with_retry_after() {
    let (app, _db, _r) = setup().await;
    let fake = FakeStripe::start().await;
    stripe_lists(&fake, 1, 3);
    fake.inner.canned.lock().unwrap().push_back((429, Some(1)));
    let report = sync(&app, &client(&fake), None, false).await.unwrap();
    assert!(
        matches!(report, SyncReport::Done { objects: 4, .. }),
        "{report:?}"
    );
    let reqs = fake.requests();
    assert_eq!(reqs[0].status, 429);
    assert_eq!(
        (
            reqs[1].status,
            reqs[1].path.as_str(),
            reqs[1].starting_after.as_deref()
        ),
        (200, "customers", None)
    );
    assert!(
        reqs[1].at.duration_since(reqs[0].at) >= std::time::Duration::from_secs(1),
        "asked again before Retry-After"
    );
}

#[tokio::test]
async fn the_digest_says_how_fresh_the_ledger_is_and_warns_when_stale() {
    let (app, _db, _r) = setup().await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    let c = person("maria", Role::Collector);
    let before = plain(&run_as(&app, &c, "d0", "ar digest", today()).await.reply);
    assert!(!before.contains("payments as of"), "{before}");
    let fake = FakeStripe::start().await;
    stripe_lists(&fake, 1, 1);
    sync(&app, &client(&fake), None, false).await.unwrap();
    let fresh = plain(&run_as(&app, &c, "d1", "ar digest", today()).await.reply);
    assert!(fresh.contains("Ledger: payments as of 10:00."), "{fresh}");
    let later = run_as(&app, &c, "d2", "ar digest", d("2026-11-26"))
        .await
        .reply;
    assert!(
        later
            .text
            .contains("ledger out of date (payments as of 2026-11-23 10:00)"),
        "{}",
        later.text
    );
    assert!(
        plain(&later).contains("Run `dunbot sync stripe`"),
        "{}",
        plain(&later)
    );
}

#[tokio::test]
async fn serves_periodic_sync_runs_once_across_two_replicas() {
    let db = TestDb::new().await;
    let fake = FakeStripe::start().await;
    stripe_lists(&fake, 2, 25);
    fake.inner
        .delay_ms
        .store(30, std::sync::atomic::Ordering::SeqCst);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut loops = Vec::new();
    for _ in 0..2 {
        let app = Arc::new(App::new(settings(), db.store.clone()).with_clock(Clock::Fixed(now())));
        loops.push(tokio::spawn(dunbot::edges::stripe::sync::run_loop(
            app,
            client(&fake),
            std::time::Duration::from_secs(3600),
            stop_rx.clone(),
        )));
    }
    let app = App::new(settings(), db.store.clone());
    for _ in 0..200 {
        if dunbot::edges::stripe::sync::last_success(&app)
            .await
            .unwrap()
            .is_some()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let _ = stop_tx.send(true);
    for l in loops {
        l.await.unwrap();
    }
    assert_eq!(count(&app, "invoices").await, 25);
    // customers: 1 page; invoices: 3 pages; fetched by one replica only.
    let mut seen: Vec<(String, Option<String>)> = fake
        .requests()
        .into_iter()
        .map(|r| (r.path, r.starting_after))
        .collect();
    let total = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!((seen.len(), total), (4, 4));
}

#[tokio::test]
async fn a_reminder_queued_before_a_stripe_payment_is_not_sent() {
    use crate::email::{clocked, due_now, row_for};
    use crate::smtp_server::SmtpServer;
    use dunbot::notify::drain_once;
    let server = SmtpServer::start();
    let (app, _db, r) = setup().await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    // Queued at 10:00 UTC, 05:00 in New York: it waits for the send window.
    let maria = person("maria", Role::Collector);
    let out = run_as(&app, &maria, "rem-stripe", "remind ACME-001", today()).await;
    assert!(out.reply.text.contains("will go out"), "{}", out.reply.text);
    // Stripe says both invoices were paid.
    post(
        &r,
        &event(
            "evt_c",
            "customer.created",
            fake_stripe::customer("cus_A", Some("ACME-001"), "usd"),
        ),
    )
    .await;
    for (id, number, cents) in [("in_1", "INV-1001", 125_000), ("in_2", "INV-1002", 40_000)] {
        let mut inv = fake_stripe::invoice(
            id,
            "cus_A",
            number,
            "paid",
            unix("2026-11-23"),
            cents,
            "usd",
        );
        inv["amount_due"] = cents.into();
        let (status, body) = post(&r, &event(&format!("evt_{id}"), "invoice.paid", inv)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // The window opens: nothing leaves, and the row says why.
    let ds = clocked(&app, &server.url(), at(today(), 15));
    due_now(&app).await;
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 0);
    assert!(
        server.messages().is_empty(),
        "no email to a customer who paid"
    );
    let row = row_for(&app, "reminder:rem-stripe").await;
    assert_eq!(row.status, "dropped");
    assert_eq!(
        row.last_error.as_deref(),
        Some("not sent: paid since queued")
    );
}
