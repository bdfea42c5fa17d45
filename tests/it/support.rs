//! Test support: a fresh database per test on the real Postgres, migrated, dropped afterwards.
//! The server is `TEST_DATABASE_URL` (a role that may create databases), by default the local
//! one at 127.0.0.1:5432 as user postgres.
#![allow(dead_code)]
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use dunbot::app::{Actor, App, Invocation, Outcome, Platform, Source};
use dunbot::config::Settings;
use dunbot::domain::roles::Role;
use dunbot::store::Store;
use sqlx::{Connection, PgConnection};

pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub struct TestDb {
    pub store: Store,
    pub url: String,
    name: String,
}

impl TestDb {
    pub async fn new() -> TestDb {
        let admin = admin_url();
        let name = format!("dunbot_t_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect(&admin)
            .await
            .expect("connect to the test Postgres (TEST_DATABASE_URL)");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let url = match admin.rsplit_once('/') {
            Some((base, rest)) => match rest.split_once('?') {
                Some((_, q)) => format!("{base}/{name}?{q}"),
                None => format!("{base}/{name}"),
            },
            None => panic!("TEST_DATABASE_URL needs a database path"),
        };
        let store = Store::connect(&url)
            .await
            .expect("connect to the test database");
        store.migrate().await.expect("migrate");
        TestDb { store, url, name }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside the test's runtime, which must not block on its own pool: a thread
        // with its own runtime drops the database, and FORCE ends the pool's sessions.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect(&admin_url()).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                }
            })
        })
        .join();
    }
}

/// Settings for tests: UTC, no holidays, default policy, grace 2 business days.
pub fn settings() -> Settings {
    Settings {
        instance_id: "test".into(),
        ..Settings::default()
    }
}

pub async fn app() -> (App, TestDb) {
    let db = TestDb::new().await;
    (App::new(settings(), db.store.clone()), db)
}

/// Monday 2026-11-23, 10:00 UTC: "today" in these tests.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

pub fn at(date: NaiveDate, hour: u32) -> DateTime<Utc> {
    Utc.from_utc_datetime(&date.and_hms_opt(hour, 0, 0).unwrap())
}

pub fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

pub fn person(name: &str, role: Role) -> Actor {
    Actor {
        platform: Platform::Console,
        user_id: name.into(),
        name: name.into(),
        roles: vec![role],
        agency: None,
    }
}

/// Runs `text` as `actor` with request id `id` on `as_of`.
pub async fn run_as(app: &App, actor: &Actor, id: &str, text: &str, as_of: NaiveDate) -> Outcome {
    app.handle(Invocation {
        actor: actor.clone(),
        channel: "console:test".into(),
        request_id: id.into(),
        text: text.into(),
        source: Source::Command,
        now: at(as_of, 10),
        as_of: Some(as_of),
    })
    .await
}

/// A small ledger: customers, invoices and payments written through the CSV importers.
pub async fn seed(app: &App, customers: &str, invoices: &str, payments: Option<&str>) {
    use dunbot::app::admin::{ImportKind, import_file};
    let dir = tempdir();
    for (kind, body) in [
        (ImportKind::Customers, Some(customers)),
        (ImportKind::Invoices, Some(invoices)),
        (ImportKind::Payments, payments),
    ] {
        let Some(body) = body else { continue };
        let path = dir.join(format!("{kind:?}.csv"));
        std::fs::write(&path, body).unwrap();
        import_file(app, kind, &path, Some(today()))
            .await
            .unwrap()
            .unwrap_or_else(|rows| panic!("{kind:?} rows refused: {rows:?}"));
    }
}

pub fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("dunbot-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub const CUSTOMERS: &str = "account,name,email,phone,currency,timezone,owner,do_not_contact
ACME-001,Acme Corp,ap@acme.example,+1-555-0100,USD,America/New_York,maria,no
BOLT-001,Bolt Freight,billing@bolt.example,,USD,America/Chicago,tom,no
QUIET-001,Quiet Ltd,ap@quiet.example,,USD,Europe/London,tom,yes
EURO-001,Euro GmbH,ap@euro.example,,EUR,Europe/Berlin,priya,no
";

/// ACME: one invoice 10 days late, one due in 3 days. BOLT: one 45 days late. QUIET: overdue.
/// EURO: 2 days late, in EUR.
pub const INVOICES: &str = "account,invoice,issued,due,amount,currency
ACME-001,INV-1001,2026-10-14,2026-11-13,1250.00,USD
ACME-001,INV-1002,2026-10-26,2026-11-26,400.00,USD
BOLT-001,INV-2001,2026-09-09,2026-10-09,5000.00,USD
QUIET-001,INV-3001,2026-10-01,2026-10-31,900.00,USD
EURO-001,INV-4001,2026-10-21,2026-11-21,2000.00,EUR
";

pub async fn count(app: &App, table: &'static str) -> i64 {
    let sql = format!("SELECT count(*) FROM {table}");
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_one(&app.store.pool)
        .await
        .unwrap()
}

/// Outbox rows that leave dunbot for customers, agencies or a team's pings: all but the
/// case-thread events every action on an account queues.
pub async fn sends(app: &App) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM outbox WHERE kind <> 'case_event'")
        .fetch_one(&app.store.pool)
        .await
        .unwrap()
}
