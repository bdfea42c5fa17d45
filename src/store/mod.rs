//! The only place with SQL. Functions take a connection (`&mut PgConnection`), so the app can
//! run several of them in one transaction together with the action row that records them.
pub mod actions;
pub mod collections;
pub mod copies;
pub mod copy_binary;
pub mod import;
pub mod ledger;
pub mod outbox;
pub mod people;
pub mod schedule;
pub mod slack;
pub mod snapshot;

use anyhow::{Context, Result};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};
use std::str::FromStr;
use std::time::Duration;

pub type Tx = Transaction<'static, Postgres>;

#[derive(Clone, Debug)]
pub struct Store {
    pub pool: PgPool,
}

impl Store {
    pub async fn connect(url: &str) -> Result<Store> {
        let opts = PgConnectOptions::from_str(url)
            .with_context(|| format!("DATABASE_URL {url:?} is not a Postgres URL"))?;
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await
            .with_context(|| format!("connecting to {}", redact(url)))?;
        Ok(Store { pool })
    }

    pub fn from_pool(pool: PgPool) -> Store {
        Store { pool }
    }

    /// Applies the forward-only migrations in `migrations/`.
    pub async fn migrate(&self) -> Result<()> {
        sqlx::migrate!("./migrations")
            .run(&self.pool)
            .await
            .context("applying migrations")?;
        Ok(())
    }

    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        self.pool.begin().await
    }
}

/// True for Postgres' unique_violation: the idempotency key (or another unique key) exists.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("23505"))
}

/// The URL without its password, for logs and messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}
