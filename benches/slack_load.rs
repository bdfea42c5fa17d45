//! Load on the Slack HTTP edge: signed `/ar account` and `/ar promise` slash commands from
//! concurrent clients on loopback. Reports the ack latency (p50/p99) and throughput, and the
//! time until every command was done (its action row committed and its answer posted to a
//! loopback response_url), next to a bare insert-and-commit of one row per request into the
//! same Postgres, from as many concurrent tasks, measured in the same run.
//!
//! `BENCH_REQUESTS` (default 2000) and `BENCH_CLIENTS` (default 50) scale it.
mod support;
use axum::{Router, routing::post};
use dunbot::app::App;
use dunbot::app::admin::{ImportKind, import_file};
use dunbot::config::Settings;
use dunbot::domain::roles::Role;
use dunbot::edges::slack::{SlackConfig, SlackEdge, routes, verify};
use dunbot::store::Store;
use sqlx::{Connection, PgConnection};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::env_usize;

const SECRET: &str = "bench-signing-secret";

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

struct Figures {
    p50: Duration,
    p99: Duration,
    per_sec: f64,
}

fn figures(mut lat: Vec<Duration>, wall: Duration) -> Figures {
    lat.sort();
    Figures {
        p50: pct(&lat, 0.5),
        p99: pct(&lat, 0.99),
        per_sec: lat.len() as f64 / wall.as_secs_f64(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--list") {
        return Ok(());
    }
    support::with_scratch_db("dunbot_slackbench", |url| async move { run(&url).await }).await
}

async fn run(url: &str) -> anyhow::Result<()> {
    let requests = env_usize("BENCH_REQUESTS", 2000);
    let clients = env_usize("BENCH_CLIENTS", 50).max(1);
    let accounts = 200usize;
    let store = Store::connect(url).await?;
    store.migrate().await?;
    let app = Arc::new(App::new(
        Settings {
            instance_id: "bench".into(),
            ..Settings::default()
        },
        store.clone(),
    ));
    seed(&app, accounts).await?;
    {
        let mut conn = store.pool.acquire().await?;
        for c in 0..clients {
            dunbot::store::people::grant(
                &mut conn,
                "slack",
                &format!("U{c}"),
                Role::Collector,
                None,
                "bench",
            )
            .await?;
        }
    }

    // A response_url sink standing in for Slack.
    let answered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sink = {
        let answered = answered.clone();
        Router::new().route(
            "/response/{id}",
            post(move || {
                let answered = answered.clone();
                async move {
                    answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    "ok"
                }
            }),
        )
    };
    let sink_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let sink_base = format!("http://{}", sink_listener.local_addr()?);
    tokio::spawn(async move { axum::serve(sink_listener, sink).await });

    let edge = Arc::new(SlackEdge::new(
        app.clone(),
        SlackConfig {
            bot_token: Some("xoxb-bench".into()),
            signing_secret: Some(SECRET.into()),
            api_url: format!("{sink_base}/api"),
            ..SlackConfig::default()
        },
    )?);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let router = routes::router(edge);
    tokio::spawn(async move { axum::serve(listener, router).await });

    println!(
        "dunbot Slack load: {requests} signed slash commands (account/promise) from {clients} concurrent clients on loopback"
    );
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let base = base.clone();
        let sink_base = sink_base.clone();
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut lat = Vec::new();
            for i in (c..requests).step_by(clients) {
                let acc = format!("B-{:04}", i % accounts);
                let text = if i % 2 == 0 {
                    format!("account {acc}")
                } else {
                    format!("promise {acc} 1 +7d")
                };
                let body = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("team_id", "T1")
                    .append_pair("channel_id", "C1")
                    .append_pair("user_id", &format!("U{c}"))
                    .append_pair("user_name", &format!("user{c}"))
                    .append_pair("command", "/ar")
                    .append_pair("text", &text)
                    .append_pair("response_url", &format!("{sink_base}/response/{i}"))
                    .append_pair("trigger_id", &format!("bench-{i}"))
                    .finish();
                let ts = chrono::Utc::now().timestamp().to_string();
                let sig = verify::sign(SECRET, &ts, body.as_bytes());
                let t = Instant::now();
                let r = http
                    .post(format!("{base}/slack/commands"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("x-slack-request-timestamp", ts)
                    .header("x-slack-signature", sig)
                    .body(body)
                    .send()
                    .await
                    .expect("request");
                assert_eq!(r.status(), 200);
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await?);
    }
    let acked = start.elapsed();
    // Done: every command's action row committed and its answer posted. Watched on a
    // connection of its own, so the watching does not queue behind the work.
    let mut watch = PgConnection::connect(url).await?;
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let n: i64 =
            sqlx::query_scalar("SELECT count(*) FROM actions WHERE actor_platform = 'slack'")
                .fetch_one(&mut watch)
                .await?;
        if n as usize >= requests && answered.load(std::sync::atomic::Ordering::Relaxed) >= requests
        {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "commands not done after 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let done = start.elapsed();
    let ok: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM actions WHERE actor_platform = 'slack' AND outcome = 'ok'",
    )
    .fetch_one(&mut watch)
    .await?;
    let edge = figures(lat, acked);

    // Baseline: one row inserted and committed per request, same concurrency, same pool.
    sqlx::query("CREATE TABLE bench_rows (id bigserial PRIMARY KEY, user_id text NOT NULL, body text NOT NULL, at timestamptz NOT NULL DEFAULT now())")
        .execute(&store.pool)
        .await?;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let pool = store.pool.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            for i in (c..requests).step_by(clients) {
                let t = Instant::now();
                let mut tx = pool.begin().await.expect("begin");
                sqlx::query("INSERT INTO bench_rows (user_id, body) VALUES ($1, $2)")
                    .bind(format!("U{c}"))
                    .bind(format!("promise B-{:04} 1 +7d", i % accounts))
                    .execute(&mut *tx)
                    .await
                    .expect("insert");
                tx.commit().await.expect("commit");
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await?);
    }
    let base = figures(lat, start.elapsed());

    println!(
        "  ok commands: {ok} of {requests} (the rest refused, e.g. a promise above the balance)"
    );
    println!(
        "  Slack ack:   p50 {:>8.2?}  p99 {:>8.2?}  {:>8.0} req/s",
        edge.p50, edge.p99, edge.per_sec
    );
    println!(
        "  all done:    {:>8.2?} for {requests} commands = {:>8.0} commands/s",
        done,
        requests as f64 / done.as_secs_f64()
    );
    println!(
        "  baseline:    p50 {:>8.2?}  p99 {:>8.2?}  {:>8.0} inserts/s (INSERT + COMMIT of one row)",
        base.p50, base.p99, base.per_sec
    );
    println!(
        "  ratios: ack p50 {:.2}x, ack p99 {:.2}x the baseline's; ack throughput {:.2}x, done throughput {:.2}x the baseline's",
        edge.p50.as_secs_f64() / base.p50.as_secs_f64(),
        edge.p99.as_secs_f64() / base.p99.as_secs_f64(),
        edge.per_sec / base.per_sec,
        (requests as f64 / done.as_secs_f64()) / base.per_sec,
    );
    Ok(())
}

async fn seed(app: &App, accounts: usize) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("dunbot-slackbench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut customers = String::from("account,name,email,phone,currency,timezone,owner\n");
    let mut invoices = String::from("account,invoice,issued,due,amount,currency\n");
    for i in 0..accounts {
        customers.push_str(&format!(
            "B-{i:04},Customer {i},ap{i}@example.com,,USD,UTC,maria\n"
        ));
        invoices.push_str(&format!(
            "B-{i:04},INV-B{i:04},2026-10-01,2026-10-31,50000.00,USD\n"
        ));
    }
    for (kind, body) in [
        (ImportKind::Customers, customers),
        (ImportKind::Invoices, invoices),
    ] {
        let path = dir.join(format!("{kind:?}.csv"));
        std::fs::write(&path, body)?;
        import_file(app, kind, &path, None)
            .await?
            .map_err(|rows| anyhow::anyhow!("seed rows refused: {rows:?}"))?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
