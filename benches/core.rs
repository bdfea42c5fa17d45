//! Core benchmarks on 100,000 customers and 1,000,000 invoices, each next to a baseline measured
//! in the same run on the same rows:
//! - the digest (load + build + render) vs one hand-written SQL aging aggregation, and the peak
//!   memory of `dunbot digest` run as its own process;
//! - `dunbot import invoices` of a 1M-row CSV vs a plain `COPY` of the same file.
//!
//! `cargo bench --bench core` (BENCH_CUSTOMERS / BENCH_INVOICES scale it down for a quick look;
//! BENCH_KEEP=1 keeps the filled database, BENCH_DIGEST_DB=<its URL> measures the digest on it again).
//! Uses a scratch database on TEST_DATABASE_URL's server, dropped at the end.
mod support;
use dunbot::app::App;
use dunbot::app::admin::{ImportKind, import_file};
use dunbot::config::Settings;
use dunbot::digest;
use dunbot::store::Store;
use std::io::Write;
use std::time::{Duration, Instant};
use support::env_usize;

const KEYED_BASELINE: &[&str] = &[
    "DROP TABLE IF EXISTS copy_keyed",
    "CREATE TABLE copy_keyed (id bigserial, account text, invoice text COLLATE \"C\", issued date, due date,
       amount numeric, currency text)",
];
const KEYED_INDEXES: &[&str] = &[
    "ALTER TABLE copy_keyed ADD PRIMARY KEY (id)",
    "ALTER TABLE copy_keyed ADD UNIQUE (invoice)",
    "CREATE INDEX ON copy_keyed(account)",
    "CREATE INDEX ON copy_keyed(due)",
    "ALTER TABLE copy_keyed ADD FOREIGN KEY (account) REFERENCES accounts(code)",
];

/// Runs `bin digest` on the bench database three times as a child process: the median time
/// and the largest resident high-water mark (KiB) of the runs.
///
/// Each run goes through a fresh copy of this bench (`--peak-of`), which spawns `dunbot` and
/// reports its `wait4` peak: a process forked straight from this one would start with this
/// process's own high-water mark (the import's heap), hiding the digest's.
fn digest_process(
    bin: &str,
    url: &str,
    today: chrono::NaiveDate,
) -> anyhow::Result<(Duration, i64)> {
    let (mut times, mut peak) = (Vec::new(), 0);
    for _ in 0..3 {
        let t = Instant::now();
        let out = std::process::Command::new(std::env::current_exe()?)
            .args(["--peak-of", bin, "digest", "--as-of", &today.to_string()])
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "warn")
            .output()?;
        times.push(t.elapsed());
        let report = String::from_utf8_lossy(&out.stdout);
        let kib = report.lines().last().and_then(|l| l.parse::<i64>().ok());
        let Some(kib) = kib.filter(|_| out.status.success()) else {
            anyhow::bail!(
                "{bin} digest failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        peak = peak.max(kib);
    }
    Ok((median(times), peak))
}

/// `--peak-of <bin> <args>`: runs the command (its output to stderr), then prints its peak
/// resident memory in KiB; fails when the command does.
fn peak_of(args: &[String]) -> anyhow::Result<()> {
    let child = std::process::Command::new(&args[0])
        .args(&args[1..])
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let pid = child.id() as i32;
    let mut stdout = child.stdout.expect("piped");
    let printed = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut buf).map(|_| buf.len())
    });
    let mut status = 0;
    // SAFETY: wait4 only writes the status and the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let printed = printed.join().expect("reader")?;
    anyhow::ensure!(
        waited == pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 && printed > 0,
        "{} failed",
        args[0]
    );
    println!("{}", usage.ru_maxrss);
    Ok(())
}

/// The bench's app, and the day its rows are dated around.
fn bench_app(store: &Store) -> (App, chrono::NaiveDate) {
    let app = App::new(
        Settings {
            instance_id: "bench".into(),
            ..Settings::default()
        },
        store.clone(),
    );
    (app, chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return Ok(());
    }
    if args.get(1).is_some_and(|a| a == "--peak-of") {
        return peak_of(&args[2..]);
    }
    // RUST_LOG=dunbot=info shows where the import's time goes.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let customers = env_usize("BENCH_CUSTOMERS", 100_000);
    let invoices = env_usize("BENCH_INVOICES", 1_000_000);
    // A database an earlier run filled and kept (BENCH_KEEP=1): only the digest is measured
    // again, without the minutes of loading.
    if let Ok(url) = std::env::var("BENCH_DIGEST_DB") {
        let store = Store::connect(&url).await?;
        store.migrate().await?;
        return digest_vs_sql(&url, &store).await;
    }
    support::with_scratch_db("dunbot_bench", |url| async move {
        run(&url, customers, invoices).await
    })
    .await
}

async fn run(url: &str, customers: usize, invoices: usize) -> anyhow::Result<()> {
    let store = Store::connect(url).await?;
    store.migrate().await?;
    let (app, today) = bench_app(&store);
    println!("dunbot core benchmark: {customers} customers, {invoices} invoices");

    sqlx::query(
        "INSERT INTO accounts (code, name, currency, time_zone, owner)
         SELECT 'C-' || CASE WHEN g < 100000 THEN lpad(g::text, 6, '0') ELSE g::text END, 'Customer ' || g, CASE WHEN g % 5 = 0 THEN 'EUR' ELSE 'USD' END,
                'UTC', (ARRAY['maria','tom','priya','li'])[1 + g % 4]
           FROM generate_series(1, $1) g",
    )
    .bind(customers as i64)
    .execute(&store.pool)
    .await?;

    // The invoice file: due dates spread over the last 200 days and the next 30.
    let dir = std::env::temp_dir().join(format!("dunbot-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let csv = dir.join("invoices.csv");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&csv)?);
        writeln!(f, "account,invoice,issued,due,amount,currency")?;
        for i in 0..invoices {
            let c = 1 + (i * 7919) % customers;
            let due = today - chrono::Days::new((i * 31 % 230) as u64) + chrono::Days::new(30);
            let issued = due - chrono::Days::new(30);
            let cur = if c.is_multiple_of(5) { "EUR" } else { "USD" };
            writeln!(
                f,
                "C-{c:06},INV-{i:08},{issued},{due},{}.{:02},{cur}",
                100 + (i * 37) % 20_000,
                i % 100
            )?;
        }
    }

    // Import vs COPY of the same file, alternating, best of three each.
    let mut conn = store.pool.acquire().await?;
    sqlx::query("CREATE TABLE copy_baseline (account text, invoice text, issued date, due date, amount numeric, currency text)")
        .execute(&mut *conn)
        .await?;
    let bytes = std::fs::read(&csv)?;
    let (mut copy_t, mut import_t, mut keyed_t) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..3 {
        sqlx::query("TRUNCATE copy_baseline")
            .execute(&mut *conn)
            .await?;
        let t = Instant::now();
        let mut copy = conn
            .copy_in_raw("COPY copy_baseline FROM STDIN (FORMAT csv, HEADER true)")
            .await?;
        copy.send(bytes.as_slice()).await?;
        copy.finish().await?;
        copy_t.push(t.elapsed());

        // The floor for any loader that keeps the ledger's guarantees: the same COPY, then the
        // keys and indexes the invoice table has (primary key, unique number, account foreign
        // key, account and due indexes) built once over the loaded rows.
        let t = Instant::now();
        for sql in KEYED_BASELINE {
            sqlx::query(*sql).execute(&mut *conn).await?;
        }
        let mut copy = conn
            .copy_in_raw("COPY copy_keyed (account, invoice, issued, due, amount, currency) FROM STDIN (FORMAT csv, HEADER true)")
            .await?;
        copy.send(bytes.as_slice()).await?;
        copy.finish().await?;
        for sql in KEYED_INDEXES {
            sqlx::query(*sql).execute(&mut *conn).await?;
        }
        keyed_t.push(t.elapsed());

        if round > 0 {
            sqlx::query("TRUNCATE invoices CASCADE")
                .execute(&mut *conn)
                .await?;
        }
        let t = Instant::now();
        let n = import_file(&app, ImportKind::Invoices, &csv, None)
            .await?
            .map_err(|rows| anyhow::anyhow!("bench file refused: {:?}", rows.first()))?;
        import_t.push(t.elapsed());
        assert_eq!(n.inserted as usize, invoices);
    }
    // How much of the import is reading and checking the file, before any database work.
    let t = Instant::now();
    let parsed = dunbot::import::invoices(std::io::BufReader::new(std::fs::File::open(&csv)?))
        .map_err(|rows| anyhow::anyhow!("bench file refused: {:?}", rows.first()))?;
    let parse_t = t.elapsed();
    assert_eq!(parsed.len(), invoices);
    drop(parsed);
    let (copy_best, import_best, keyed_best) = (
        *copy_t.iter().min().unwrap(),
        *import_t.iter().min().unwrap(),
        *keyed_t.iter().min().unwrap(),
    );
    println!(
        "import {invoices} invoices: dunbot {:.2}s, plain COPY {:.2}s → {:.2}× COPY (target ≤ 2×)",
        import_best.as_secs_f64(),
        copy_best.as_secs_f64(),
        import_best.as_secs_f64() / copy_best.as_secs_f64()
    );
    println!(
        "  plain COPY then the invoice table's keys and indexes: {:.2}s → dunbot {:.2}× that",
        keyed_best.as_secs_f64(),
        import_best.as_secs_f64() / keyed_best.as_secs_f64()
    );
    println!(
        "  of which reading and checking the CSV: {:.2}s ({:.2}× COPY)",
        parse_t.as_secs_f64(),
        parse_t.as_secs_f64() / copy_best.as_secs_f64()
    );

    // Most invoices that fell due long ago are paid, some late.
    sqlx::query(
        "UPDATE invoices SET paid_minor = amount_minor, status = 'paid', paid_on = due + (id % 20 - 8)::int
          WHERE due < $1 - 20 AND id % 10 < 7",
    )
    .bind(today)
    .execute(&mut *conn)
    .await?;
    sqlx::query("VACUUM ANALYZE invoices")
        .execute(&mut *conn)
        .await?;
    sqlx::query("ANALYZE accounts").execute(&mut *conn).await?;
    drop(conn);
    digest_vs_sql(url, &store).await?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The digest (in this process, and `dunbot digest` as its own) against the SQL aging query
/// on the bench's rows.
async fn digest_vs_sql(url: &str, store: &Store) -> anyhow::Result<()> {
    let (app, today) = bench_app(store);
    let mut conn = store.pool.acquire().await?;
    let customers: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts")
        .fetch_one(&mut *conn)
        .await?;

    // The baseline: one hand-written aging aggregation per account over the same rows.
    let baseline = "SELECT a.code, a.currency,
            sum(amount_minor - paid_minor) AS balance,
            sum(amount_minor - paid_minor) FILTER (WHERE due >= $1) AS current,
            sum(amount_minor - paid_minor) FILTER (WHERE due < $1 AND due >= $1 - 30) AS d30,
            sum(amount_minor - paid_minor) FILTER (WHERE due < $1 - 30 AND due >= $1 - 60) AS d60,
            sum(amount_minor - paid_minor) FILTER (WHERE due < $1 - 60 AND due >= $1 - 90) AS d90,
            sum(amount_minor - paid_minor) FILTER (WHERE due < $1 - 90) AS d90p
       FROM invoices i JOIN accounts a ON a.id = i.account_id
      WHERE i.status IN ('open', 'disputed', 'with_agency')
      GROUP BY a.code, a.currency";
    let (mut base_t, mut digest_t) = (Vec::new(), Vec::new());
    let mut entries = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let rows = sqlx::query(baseline)
            .bind(today)
            .fetch_all(&mut *conn)
            .await?;
        base_t.push(t.elapsed());
        assert!(!rows.is_empty());

        let t = Instant::now();
        let d = digest::compute(&mut conn, &app.settings, today, None, false).await?;
        let msg = digest::render(&d);
        digest_t.push(t.elapsed());
        entries = msg.blocks.len();
    }
    let (b, g) = (median(base_t), median(digest_t));
    println!(
        "digest over {customers} customers: dunbot {:.0} ms, SQL aggregation {:.0} ms → {:.2}× SQL (target ≤ 1.2×); {entries} blocks",
        g.as_secs_f64() * 1e3,
        b.as_secs_f64() * 1e3,
        g.as_secs_f64() / b.as_secs_f64()
    );
    // `dunbot digest` as its own process (DUNBOT_BIN runs another build on the same rows).
    let bin = std::env::var("DUNBOT_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_dunbot").into());
    let (t, peak) = digest_process(&bin, url, today)?;
    println!(
        "  `dunbot digest` as its own process: {:.0} ms ({:.2}× SQL, start-up included), peak memory {:.0} MiB (target ≤ 128 MiB at 1M customers)",
        t.as_secs_f64() * 1e3,
        t.as_secs_f64() / b.as_secs_f64(),
        peak as f64 / 1024.0
    );
    Ok(())
}
