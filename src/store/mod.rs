//! The only place with SQL. Functions take a connection (`&mut PgConnection`), so the app can
//! run several of them in one transaction together with the action row that records them.
pub mod actions;
pub mod approvals;
pub mod calls;
pub mod case_threads;
pub mod collections;
pub mod confirm_receipt;
pub mod copies;
pub mod copy_binary;
pub mod import;
pub mod invoice_changes;
pub mod late_fees;
pub mod ledger;
pub mod metrics;
pub mod outbox;
pub mod payment_news;
pub mod people;
pub mod plans;
pub mod schedule;
pub mod send_time;
pub mod slack;
pub mod sms;
pub mod snapshot;
pub mod stripe;
pub mod timeline;
pub mod tokens;
pub mod weekly;

use anyhow::{Context, Result, bail};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool, Postgres, Transaction};
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
        // One plain connection first: a pool retries until its timeout and then says only
        // "pool timed out", hiding a refused port or a wrong password.
        match tokio::time::timeout(Duration::from_secs(10), PgConnection::connect_with(&opts)).await
        {
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
            }
            Ok(Err(e)) => bail!("{}", connect_problem(url, &opts, &e)),
            Err(_) => bail!(
                "Postgres at {}:{} did not answer within 10 s ({}): check the host and any firewall",
                opts.get_host(),
                opts.get_port(),
                redact(url)
            ),
        }
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

/// What went wrong connecting, in words an admin can act on.
fn connect_problem(url: &str, opts: &PgConnectOptions, e: &sqlx::Error) -> String {
    let at = format!("{}:{}", opts.get_host(), opts.get_port());
    let url = redact(url);
    match e {
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => format!(
            "Postgres refused the connection at {at} ({url}): nothing listens there. Is Postgres running, and is the port in DATABASE_URL right?"
        ),
        sqlx::Error::Io(io) => format!("cannot reach Postgres at {at} ({url}): {io}"),
        sqlx::Error::Database(d) => {
            format!("Postgres at {at} refused dunbot ({url}): {}", d.message())
        }
        other => format!("cannot connect to Postgres at {at} ({url}): {other}"),
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

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn a_port_where_nothing_listens_is_named_as_refused_not_as_a_pool_timeout() {
        // Port 1 on loopback: nothing listens, so the kernel refuses at once.
        let e = super::Store::connect("postgres://dunbot:secret@127.0.0.1:1/dunbot")
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("refused the connection at 127.0.0.1:1"), "{e}");
        assert!(!e.contains("secret") && !e.contains("timed out"), "{e}");
    }
}
