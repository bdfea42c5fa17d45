//! What every benchmark needs: its scale from the environment and a scratch database on
//! TEST_DATABASE_URL's server, dropped at the end whether the run succeeded or not.
use sqlx::{Connection, PgConnection};
use std::future::Future;

pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `bench` with the URL of a fresh database named after `prefix` and this process
/// (kept afterwards when BENCH_KEEP is set, to measure again without loading it again).
pub async fn with_scratch_db<F, Fut>(prefix: &str, bench: F) -> anyhow::Result<()>
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let admin = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("{prefix}_{}", std::process::id());
    let mut conn = PgConnection::connect(&admin).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await?;
    let url = format!(
        "{}/{name}",
        admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin)
    );
    let result = bench(url.clone()).await;
    if std::env::var_os("BENCH_KEEP").is_some() {
        println!("kept the bench's database: {url}");
        return result;
    }
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await?;
    result
}
