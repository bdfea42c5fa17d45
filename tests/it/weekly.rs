//! The weekly summary: once per channel and ISO week across replicas and restarts, a missed
//! week posted late once, last week's figures against the week before, and the chart uploaded
//! to Slack in three steps, attached on Discord and written on the console.
use crate::fake_discord::{self, FakeDiscord};
use crate::slack_support::bot_with;
use crate::support::*;
use dunbot::app::App;
use dunbot::edges::discord::Discord;
use dunbot::edges::discord::deliver::DiscordChannel;
use dunbot::edges::weekly_scheduler::tick;
use dunbot::notify::{Deliverers, drain_once};
use dunbot::store::{schedule, weekly};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// Two more USD invoices: one issued in week 46, one in week 47, so each week has sales.
const MORE_INVOICES: &str = "account,invoice,issued,due,amount,currency
ACME-001,INV-1003,2026-11-10,2026-12-10,1000.00,USD
BOLT-001,INV-2002,2026-11-17,2026-12-17,3000.00,USD
";

async fn subscribe(app: &App, channel: &str, tz: &str) -> i64 {
    let mut conn = app.store.pool.acquire().await.unwrap();
    let id = schedule::upsert_subscription(&mut conn, channel, "0 8 * * Mon-Fri", tz)
        .await
        .unwrap();
    schedule::set_subscription_created(&mut conn, id, at(d("2026-11-01"), 0))
        .await
        .unwrap();
    id
}

async fn ledger(app: &App) {
    seed(app, CUSTOMERS, INVOICES, None).await;
    seed(app, CUSTOMERS, MORE_INVOICES, None).await;
}

async fn weekly_rows(app: &App) -> Vec<(String, Value)> {
    sqlx::query_as(
        "SELECT dedupe_key, payload FROM outbox WHERE dedupe_key LIKE 'weekly:%' ORDER BY id",
    )
    .fetch_all(&app.store.pool)
    .await
    .unwrap()
}

/// Width and height of a PNG, and whether any pixel differs from the first.
fn decode(bytes: &[u8]) -> (u32, u32, bool) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let px = &buf[..info.buffer_size()];
    let n = info.color_type.samples();
    let varied = px.chunks(n).any(|p| p != &px[..n]);
    (info.width, info.height, varied)
}

#[tokio::test]
async fn the_summary_compares_last_week_with_the_one_before_and_carries_the_chart_series() {
    let (app, _db) = app().await;
    ledger(&app).await;
    subscribe(&app, "console:local", "UTC").await;
    // Monday 2026-11-23 08:00: the default weekly cron fires; week 47 is reported.
    let posted = tick(&app, at(today(), 8)).await.unwrap();
    assert_eq!(posted, [("console:local".into(), d("2026-11-16"), false)]);
    let rows = weekly_rows(&app).await;
    assert_eq!(rows.len(), 1);
    let (key, p) = &rows[0];
    assert!(key.ends_with(":2026-11-23"), "{key}");
    let text = serde_json::to_string(&p["message"]).unwrap();
    assert!(
        text.contains("Weekly summary, week 47 of 2026 (2026-11-16 to 2026-11-22)"),
        "{text}"
    );
    // USD AR 11,550.00 at the week's end over 3,000.00 of sales in 7 days: DSO 26.95 → 27.0;
    // the week before 8,550.00 over 1,000.00: 59.85 → 59.9. Down, which is good.
    assert!(text.contains("27.0 days ▼ from 59.9, better"), "{text}");
    assert!(
        text.contains("USD 11,550.00 ▲ from USD 8,550.00, worse"),
        "{text}"
    );
    // The chart: USD (the most owed), 12 weeks to Sunday 22 November, AR by age then.
    let chart = &p["chart"];
    assert_eq!(chart["file"], "aging-2026-W48.png");
    assert_eq!(chart["series"]["currency"], "USD");
    let weeks = chart["series"]["weeks"].as_array().unwrap();
    assert_eq!(weeks.len(), 12);
    assert_eq!(weeks[11]["end"], "2026-11-22");
    assert_eq!(weeks[0]["end"], "2026-09-06");
    // As of the 22nd: current 400 + 1,000 + 3,000; 1-30 days 1,250 + 900; 31-60 days 5,000.
    assert_eq!(
        weeks[11]["buckets"],
        serde_json::json!([440000, 215000, 500000, 0, 0])
    );
    assert_eq!(weeks[11]["dso_tenths"], 270);
    // Before anything was issued: nothing owed.
    assert_eq!(weeks[0]["buckets"], serde_json::json!([0, 0, 0, 0, 0]));
    // The run and its action row were written with the outbox row.
    assert_eq!(count(&app, "weekly_runs").await, 1);
    let acted: i64 =
        sqlx::query_scalar("SELECT count(*) FROM actions WHERE kind = 'weekly_posted'")
            .fetch_one(&app.store.pool)
            .await
            .unwrap();
    assert_eq!(acted, 1);
}

#[tokio::test]
async fn two_replicas_and_a_restart_post_each_channels_week_once() {
    let (app_a, db) = app().await;
    ledger(&app_a).await;
    let replica = |name: &str| {
        App::new(
            dunbot::config::Settings {
                instance_id: name.into(),
                ..settings()
            },
            db.store.clone(),
        )
    };
    let app_b = replica("replica-b");
    subscribe(&app_a, "console:ny", "America/New_York").await;
    subscribe(&app_a, "console:berlin", "Europe/Berlin").await;
    // Monday 14:00 UTC: 08:00 has passed in both zones.
    let now = at(today(), 14);
    for round in 0..4 {
        let (a, b) = tokio::join!(tick(&app_a, now), tick(&app_b, now));
        let posted = a.unwrap().len() + b.unwrap().len();
        assert_eq!(posted, if round == 0 { 2 } else { 0 }, "round {round}");
    }
    // A restart: a new process over the same database, later that week.
    let restarted = replica("replica-c");
    for now in [
        at(today(), 20),
        at(d("2026-11-25"), 9),
        at(d("2026-11-29"), 23),
    ] {
        assert!(tick(&restarted, now).await.unwrap().is_empty(), "{now}");
    }
    let mut channels: Vec<String> = weekly_rows(&app_a)
        .await
        .iter()
        .map(|(_, p)| p["channel"].as_str().unwrap().to_string())
        .collect();
    channels.sort();
    assert_eq!(channels, ["console:berlin", "console:ny"]);
    // The next Monday brings the next week, once.
    let next = at(d("2026-11-30"), 14);
    let (a, b) = tokio::join!(tick(&app_a, next), tick(&restarted, next));
    assert_eq!(a.unwrap().len() + b.unwrap().len(), 2);
    assert_eq!(weekly_rows(&app_a).await.len(), 4);
}

#[tokio::test]
async fn a_week_missed_while_down_is_posted_late_once_and_off_means_off() {
    let (app, _db) = app().await;
    ledger(&app).await;
    let sub = subscribe(&app, "console:local", "UTC").await;
    let quiet = subscribe(&app, "console:quiet", "UTC").await;
    {
        let mut conn = app.store.pool.acquire().await.unwrap();
        assert!(
            weekly::set_cron(&mut conn, "console:quiet", None)
                .await
                .unwrap()
        );
    }
    assert_eq!(tick(&app, at(d("2026-11-09"), 8)).await.unwrap().len(), 1);
    // Down from that Monday until Wednesday of the week after next: the missed Monday is
    // posted late, once.
    let back = at(d("2026-11-18"), 12);
    assert_eq!(
        tick(&app, back).await.unwrap(),
        [("console:local".to_string(), d("2026-11-09"), true)]
    );
    assert!(tick(&app, back).await.unwrap().is_empty());
    let mut conn = app.store.pool.acquire().await.unwrap();
    let runs = weekly::runs(&mut conn, sub).await.unwrap();
    assert_eq!(
        runs.iter()
            .map(|(w, late, _)| (w.to_string(), *late))
            .collect::<Vec<_>>(),
        [
            ("2026-11-09".to_string(), false),
            ("2026-11-16".to_string(), true)
        ]
    );
    let text = serde_json::to_string(&weekly_rows(&app).await[1].1["message"]).unwrap();
    assert!(text.contains("Posted late"), "{text}");
    assert!(weekly::runs(&mut conn, quiet).await.unwrap().is_empty());
}

#[tokio::test]
async fn slack_gets_the_chart_in_three_upload_steps_and_a_retry_completes_the_same_file() {
    let bot = bot_with(|app| app, CUSTOMERS, INVOICES).await;
    seed(&bot.app, CUSTOMERS, MORE_INVOICES, None).await;
    subscribe(&bot.app, "slack:CWEEK", "UTC").await;
    assert_eq!(tick(&bot.app, at(today(), 8)).await.unwrap().len(), 1);
    // Slack fails the last step once: the file is uploaded, not yet shared.
    bot.fake
        .fail_next("files.completeUploadExternal", &[(500, None)]);
    assert_eq!(bot.drain().await, 0);
    assert_eq!(bot.fake.files().len(), 1);
    assert!(bot.fake.shared().is_empty());
    // The retry completes the file it recorded: no second upload.
    sqlx::query("UPDATE outbox SET next_attempt_at = now() WHERE status = 'pending'")
        .execute(&bot.app.store.pool)
        .await
        .unwrap();
    assert_eq!(bot.drain().await, 1);
    let asks = bot.fake.calls("files.getUploadURLExternal");
    assert_eq!(asks.len(), 1);
    let files = bot.fake.files();
    assert_eq!(files.len(), 1);
    let file = &files[0];
    assert_eq!(file.filename, "aging-2026-W48.png");
    assert_eq!(asks[0].body["length"], file.length.to_string());
    assert_eq!(asks[0].auth.as_deref(), Some("Bearer xoxb-test-token"));
    let png = file.bytes.as_ref().expect("bytes uploaded");
    assert_eq!(decode(png), (1000, 560, true));
    let shared = bot.fake.shared();
    assert_eq!(shared.len(), 1, "shared once");
    assert_eq!(shared[0].0, "CWEEK");
    assert_eq!(shared[0].1, file.id);
    let blocks = shared[0].2.to_string();
    assert!(
        blocks.contains("Weekly summary, week 47 of 2026"),
        "{blocks}"
    );
    assert!(blocks.contains("27.0 days ▼ from 59.9, better"), "{blocks}");
    assert_eq!(
        bot.fake.calls("files.completeUploadExternal")[1].body["files"][0]["title"],
        "AR by age, USD (week 48 of 2026)"
    );
    // Nothing is left to do, and the old `files.upload` was never called.
    assert_eq!(bot.drain().await, 0);
    assert!(bot.fake.calls("files.upload").is_empty());
}

#[tokio::test]
async fn slack_upload_failing_midway_uploads_afresh_and_shares_only_the_complete_file() {
    let bot = bot_with(|app| app, CUSTOMERS, INVOICES).await;
    subscribe(&bot.app, "slack:CWEEK", "UTC").await;
    assert_eq!(tick(&bot.app, at(today(), 8)).await.unwrap().len(), 1);
    // The bytes never arrive the first time: no file id is recorded for it.
    bot.fake.fail_next("upload:F0FAKE0001", &[(500, None)]);
    assert_eq!(bot.drain().await, 0);
    assert_eq!(count(&bot.app, "slack_uploads").await, 0);
    sqlx::query("UPDATE outbox SET next_attempt_at = now() WHERE status = 'pending'")
        .execute(&bot.app.store.pool)
        .await
        .unwrap();
    assert_eq!(bot.drain().await, 1);
    let shared = bot.fake.shared();
    assert_eq!(shared.len(), 1);
    assert_eq!(shared[0].1, "F0FAKE0002");
    assert!(
        bot.fake.files()[0].bytes.is_none(),
        "the first never shared"
    );
}

#[tokio::test]
async fn discord_gets_the_chart_as_an_attachment_once_under_its_nonce() {
    let (app, _db) = app().await;
    ledger(&app).await;
    let fake = FakeDiscord::start().await;
    let http = Arc::new(Discord::http_client(&fake_discord::config(&fake)));
    let ds = Deliverers::new(8).add(
        "chat",
        Arc::new(DiscordChannel::new(http, Duration::from_millis(10))),
    );
    subscribe(&app, "discord:4242", "UTC").await;
    assert_eq!(tick(&app, at(today(), 8)).await.unwrap().len(), 1);
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 1);
    // As if the answer was lost: the row goes out again, under the same nonce.
    sqlx::query("UPDATE outbox SET status = 'pending', next_attempt_at = now()")
        .execute(&app.store.pool)
        .await
        .unwrap();
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 1);
    let posts = fake.calls_to("POST", "/channels/4242/messages");
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].body["nonce"], posts[1].body["nonce"]);
    assert_eq!(posts[0].body["enforce_nonce"], true);
    let body = posts[0].body.to_string();
    assert!(body.contains("Weekly summary, week 47 of 2026"), "{body}");
    assert!(body.contains("27.0 days ▼ from 59.9, better"), "{body}");
    assert_eq!(
        posts[0].body["embeds"][0]["image"]["url"],
        "attachment://aging-2026-W48.png"
    );
    let files = fake.inner.attachments.lock().unwrap().clone();
    assert_eq!(files.len(), 1, "one message with one file");
    let (_, file) = &files[0];
    assert_eq!(file.field, "files[0]");
    assert_eq!(file.filename, "aging-2026-W48.png");
    assert_eq!(decode(&file.bytes), (1000, 560, true));
    assert_eq!(fake.inner.messages.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn the_console_writes_the_chart_and_chart_aging_refuses_bad_arguments() {
    let (app, db) = app().await;
    ledger(&app).await;
    let dir = tempdir();
    // The command line: a PNG of the size drawn; bad arguments write nothing.
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_dunbot"))
            .args(args)
            .env("DATABASE_URL", &db.url)
            .env("DUNBOT_CHART_DIR", &dir)
            .output()
            .unwrap()
    };
    let out_png = dir.join("aging.png");
    let out_str = out_png.to_str().unwrap();
    for (args, says) in [
        (vec!["--weeks", "0"], "from 1 to 104 weeks"),
        (vec!["--currency", "XXQ"], "not an ISO 4217 currency"),
        (vec!["--currency", "JPY"], "the ledger has EUR, USD"),
        (
            vec!["--as-of", "2026-08-01"],
            "Nothing is owed as of 2026-08-01",
        ),
    ] {
        let mut all = vec!["chart", "aging", "--out", out_str];
        all.extend(args);
        let o = run(&all);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains(says), "{all:?}: {err}");
        assert!(!out_png.exists(), "{all:?} wrote nothing");
    }
    let o = run(&[
        "chart",
        "aging",
        "--out",
        dir.join("a.txt").to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("name a .png file"));
    let o = run(&[
        "chart",
        "aging",
        "--out",
        out_str,
        "--as-of",
        "2026-11-22",
        "--weeks",
        "8",
        "--currency",
        "eur",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("AR in EUR by age over 8 weeks"));
    assert_eq!(decode(&std::fs::read(&out_png).unwrap()), (1000, 560, true));
    // `subscribe --weekly` sets the cron, `off` turns the post off; a bad cron changes nothing.
    let o = run(&["subscribe", "slack:CW", "--weekly", "30 7 * * Fri"]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("weekly summary at `30 7 * * Fri`"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = run(&["subscribe", "slack:CW", "--weekly", "every friday"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--weekly"));
    let o = run(&["subscribe", "slack:CW", "--weekly", "off"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("weekly summary off"));
    let mut conn = app.store.pool.acquire().await.unwrap();
    let on: Vec<String> = weekly::subscriptions(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.channel)
        .collect();
    assert!(!on.contains(&"slack:CW".to_string()));
    drop(conn);
    // The console's weekly post writes its chart under DUNBOT_CHART_DIR (set for the binary;
    // here the deliverer runs in-process, so it writes to the default folder).
    subscribe(&app, "console:local", "UTC").await;
    assert_eq!(tick(&app, at(today(), 8)).await.unwrap().len(), 1);
    let ds = Deliverers::new(8).add(
        "chat",
        Arc::new(dunbot::edges::console::deliver::ConsoleChannel { store: None }),
    );
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 1);
    let written = dunbot::edges::console::deliver::chart_dir().join("aging-2026-W48.png");
    assert_eq!(decode(&std::fs::read(&written).unwrap()), (1000, 560, true));
}
