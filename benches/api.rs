//! The ingest API against the CSV import, on the same rows in the same run: 100,000 invoices
//! posted to `POST /api/v1/invoices` in batches of 10,000 over loopback HTTP (JSON parsing,
//! the shared row checks, the store, the action row per batch), and the same invoices as one
//! CSV file through `dunbot import invoices`. Target: the API within 2× the import.
//!
//! `cargo bench --bench api` (BENCH_INVOICES, BENCH_BATCH, BENCH_CUSTOMERS scale it). Uses a
//! scratch database on TEST_DATABASE_URL's server, dropped at the end.
mod support;
use dunbot::app::App;
use dunbot::app::admin::{ImportKind, import_file};
use dunbot::config::Settings;
use dunbot::store::Store;
use serde_json::json;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::env_usize;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--list") {
        return Ok(());
    }
    let invoices = env_usize("BENCH_INVOICES", 100_000);
    let batch = env_usize("BENCH_BATCH", 10_000).min(dunbot::edges::api::MAX_ROWS);
    let customers = env_usize("BENCH_CUSTOMERS", 10_000);
    support::with_scratch_db("dunbot_bench_api", |url| async move {
        run(&url, customers, invoices, batch).await
    })
    .await
}

/// Invoice `i`: account, number, issued, due, amount.
fn invoice(i: usize, customers: usize) -> (String, String, String, String, String) {
    let due =
        chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap() + chrono::Days::new((i % 230) as u64);
    let issued = due - chrono::Days::new(30);
    (
        format!("C-{:06}", 1 + i % customers),
        format!("INV-{i:07}"),
        issued.to_string(),
        due.to_string(),
        format!("{}.{:02}", 100 + i % 9_000, i % 100),
    )
}

async fn run(url: &str, customers: usize, invoices: usize, batch: usize) -> anyhow::Result<()> {
    let store = Store::connect(url).await?;
    store.migrate().await?;
    let app = Arc::new(App::new(
        Settings {
            instance_id: "bench".into(),
            ..Settings::default()
        },
        store.clone(),
    ));
    println!(
        "dunbot API benchmark: {invoices} invoices for {customers} customers, API batches of {batch}"
    );
    sqlx::query(
        "INSERT INTO accounts (code, name, currency, time_zone)
         SELECT 'C-' || lpad(g::text, 6, '0'), 'Customer ' || g, 'USD', 'UTC' FROM generate_series(1, $1) g",
    )
    .bind(customers as i64)
    .execute(&store.pool)
    .await?;

    // The same rows twice: a CSV file, and JSON batches.
    let dir = std::env::temp_dir().join(format!("dunbot-bench-api-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let csv = dir.join("invoices.csv");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&csv)?);
        writeln!(f, "account,invoice,issued,due,amount,currency")?;
        for i in 0..invoices {
            let (a, n, iss, due, amt) = invoice(i, customers);
            writeln!(f, "{a},{n},{iss},{due},{amt},USD")?;
        }
    }
    let bodies: Vec<Vec<u8>> = (0..invoices)
        .collect::<Vec<_>>()
        .chunks(batch)
        .map(|c| {
            let rows: Vec<_> = c
                .iter()
                .map(|&i| {
                    let (a, n, iss, due, amt) = invoice(i, customers);
                    json!({"account": a, "invoice": n, "issued": iss, "due": due, "amount": amt, "currency": "USD"})
                })
                .collect();
            serde_json::to_vec(&rows).expect("JSON")
        })
        .collect();

    // The CSV import of the whole file (a first load: it takes the streaming COPY path).
    let t = Instant::now();
    let n = import_file(&app, ImportKind::Invoices, &csv, None)
        .await?
        .map_err(|e| anyhow::anyhow!("CSV import refused: {:?}", &e[..e.len().min(3)]))?;
    let csv_time = t.elapsed();
    anyhow::ensure!(n.inserted == invoices as u64, "CSV import inserted {n:?}");

    // The same rows through the API, into the same empty ledger.
    sqlx::query("TRUNCATE invoices CASCADE")
        .execute(&store.pool)
        .await?;
    sqlx::query("VACUUM ANALYZE invoices")
        .execute(&store.pool)
        .await?;
    let token = dunbot::app::api::create_token(&app, "bench").await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let router = dunbot::edges::http::router(app.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let http = reqwest::Client::new();
    let mut batches = Vec::new();
    let t = Instant::now();
    for body in bodies {
        let b = Instant::now();
        let r = http
            .post(format!("{base}/api/v1/invoices"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?;
        let status = r.status();
        let text = r.text().await?;
        anyhow::ensure!(
            status.is_success(),
            "API refused a batch: {status} {}",
            &text[..text.len().min(500)]
        );
        batches.push(b.elapsed());
    }
    let api_time = t.elapsed();
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM invoices")
        .fetch_one(&store.pool)
        .await?;
    anyhow::ensure!(stored == invoices as i64, "API stored {stored}");

    let rate = |d: Duration| invoices as f64 / d.as_secs_f64();
    batches.sort();
    println!(
        "CSV import:  {:>8.2} s  {:>9.0} invoices/s",
        csv_time.as_secs_f64(),
        rate(csv_time)
    );
    println!(
        "API batches: {:>8.2} s  {:>9.0} invoices/s  ({} batches, median {:.2} s, slowest {:.2} s)",
        api_time.as_secs_f64(),
        rate(api_time),
        batches.len(),
        batches[batches.len() / 2].as_secs_f64(),
        batches[batches.len() - 1].as_secs_f64()
    );
    println!(
        "API / CSV: {:.2}× (target: within 2×)",
        api_time.as_secs_f64() / csv_time.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
