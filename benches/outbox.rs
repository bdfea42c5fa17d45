//! Reminder emails per second through the outbox (enqueue → claim → render → SMTP → mark sent)
//! into a loopback aiosmtpd, next to a bare `lettre` send loop of the same number of similar
//! messages to the same server in the same run. Prints both and the ratio.
//!
//! `cargo bench --bench outbox` (BENCH_MESSAGES scales it, default 300; BENCH_WORKERS outbox
//! workers, default 2; BENCH_CONCURRENCY sends in flight per worker, default 1). Needs python3 with aiosmtpd, and a scratch database on
//! TEST_DATABASE_URL's server (dropped at the end).
mod support;
use dunbot::domain::calendar::Calendar;
use dunbot::domain::send_window::SendWindow;
use dunbot::notify::email::{EmailDeliverer, MailSettings, mailer};
use dunbot::notify::templates::PayInfo;
use dunbot::notify::{Deliverers, drain_once};
use dunbot::store::{Store, outbox};
use lettre::AsyncTransport;
use lettre::message::{Message, MultiPart};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::env_usize;

struct Server(Child, u16);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn smtp_server(maildir: &std::path::Path) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-l"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(maildir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 -m aiosmtpd");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(15), "aiosmtpd");
        std::thread::sleep(Duration::from_millis(50));
    }
    Server(child, port)
}

fn received(maildir: &std::path::Path) -> usize {
    std::fs::read_dir(maildir.join("new"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--list") {
        return Ok(());
    }
    let n = env_usize("BENCH_MESSAGES", 300);
    let workers = env_usize("BENCH_WORKERS", 2).max(1);
    let concurrency = env_usize("BENCH_CONCURRENCY", 1).max(1);
    support::with_scratch_db("dunbot_bench_outbox", |url| async move {
        run(&url, n, workers, concurrency).await
    })
    .await
}

fn settings(port: u16) -> MailSettings {
    MailSettings {
        smtp_url: format!("smtp://127.0.0.1:{port}"),
        from: "Example AR <ar@example.co>".parse().unwrap(),
        reply_to: None,
        pay: PayInfo {
            company: "Example Co".into(),
            payment_link: Some("https://pay.example.co/{account}".into()),
            bank_details: None,
            contact: "ar@example.co".into(),
        },
        template_dir: None,
        timeout: Duration::from_secs(10),
    }
}

async fn run(url: &str, n: usize, workers: usize, concurrency: usize) -> anyhow::Result<()> {
    let store = Store::connect(url).await?;
    store.migrate().await?;
    let dir = std::env::temp_dir().join(format!("dunbot-bench-outbox-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    println!(
        "dunbot outbox benchmark: {n} reminder emails, {workers} outbox workers, {concurrency} in flight each"
    );

    // Baseline: a bare lettre loop (one pooled transport, the same kind of multipart message).
    let base_dir = dir.join("baseline");
    let server = smtp_server(&base_dir);
    let bare = mailer(
        &format!("smtp://127.0.0.1:{}", server.1),
        Duration::from_secs(10),
    )?;
    let started = Instant::now();
    for i in 0..n {
        let msg = Message::builder()
            .from("Example AR <ar@example.co>".parse()?)
            .to(format!("ap{i}@acme.example").parse()?)
            .subject(format!("Reminder: USD {i}.00 outstanding for Acme Corp"))
            .multipart(MultiPart::alternative_plain_html(
                format!("Hello,\n\nInvoice INV-{i}: USD {i}.00, due 13 November 2026.\n"),
                format!("<p>Hello,</p><p>Invoice INV-{i}: USD {i}.00, due 13 November 2026.</p>"),
            ))?;
        bare.send(msg).await?;
    }
    let bare_secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(received(&base_dir) == n, "baseline lost messages");
    drop(server);

    // The outbox: enqueue every row (as `ar remind` does), then drain with `workers` workers.
    let out_dir = dir.join("outbox");
    let server = smtp_server(&out_dir);
    let started = Instant::now();
    {
        let mut conn = store.pool.acquire().await?;
        for i in 0..n {
            let payload = serde_json::json!({
                "account": "ACME-001", "customer": "Acme Corp", "time_zone": "UTC",
                "to": format!("ap{i}@acme.example"), "contact_name": null, "tone": "friendly",
                "currency": "USD", "invoices": [{"number": format!("INV-{i}"), "due": "2026-11-13", "balance_minor": i * 100}],
                "total_minor": i * 100, "requested_by": "bench",
            });
            outbox::enqueue(&mut conn, "email", &format!("bench:{i}"), &payload).await?;
        }
    }
    let enqueued = started.elapsed().as_secs_f64();
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let d = EmailDeliverer::new(
            settings(server.1),
            Calendar::default(),
            SendWindow::always(),
            None,
        )?;
        let ds = Deliverers::new(3)
            .add("email", Arc::new(d))
            .with_concurrency(concurrency);
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            while drain_once(&store, &ds, 50).await? > 0 {}
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let outbox_secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(received(&out_dir) == n, "outbox lost messages");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);

    let bare_rate = n as f64 / bare_secs;
    let outbox_rate = n as f64 / outbox_secs;
    println!("  bare lettre loop:  {bare_rate:8.1} msg/s ({bare_secs:.2} s)");
    println!(
        "  through the outbox: {outbox_rate:8.1} msg/s ({outbox_secs:.2} s, of which enqueue {enqueued:.2} s)"
    );
    println!("  ratio outbox / bare: {:.2}", outbox_rate / bare_rate);
    Ok(())
}
