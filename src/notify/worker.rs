//! The outbox worker.
use crate::store::{Store, actions, outbox};
use anyhow::Result;
use chrono::{DateTime, Duration, Utc};
use futures_util::future::BoxFuture;
use futures_util::{StreamExt, stream};
use std::sync::Arc;

/// Why a delivery failed: try again later, or never.
#[derive(Debug)]
pub enum DeliveryError {
    Retry(String),
    Permanent(String),
    /// Not tried: not before this time (e.g. outside the customer's send window). The claim
    /// does not count as an attempt.
    Defer(DateTime<Utc>),
    /// Not sent, and never will be: the send-time check found nothing true left to say
    /// (`reason` reads "not sent: paid since queued"). Recorded as an action by dunbot about
    /// `subject` (the account).
    Dropped {
        reason: String,
        subject: Option<String>,
        details: serde_json::Value,
    },
}

/// Delivers one kind of outbox row (`email`, `webhook`, or `chat` to some platform).
pub trait Deliverer: Send + Sync {
    /// Whether this deliverer takes the row (by kind, and for chat by channel prefix).
    fn accepts(&self, row: &outbox::OutboxRow) -> bool;
    fn deliver<'a>(
        &'a self,
        row: &'a outbox::OutboxRow,
    ) -> BoxFuture<'a, Result<(), DeliveryError>>;
}

#[derive(Clone)]
pub struct Deliverers {
    pub list: Vec<Arc<dyn Deliverer>>,
    /// Kinds claimed from the outbox.
    pub kinds: Vec<String>,
    pub max_attempts: i32,
    /// Rows of one batch in flight at once (at least 1). SMTP waits on round trips, so a few
    /// in flight hide the latency; chat posts keep their order only with 1.
    pub concurrency: usize,
    /// How long a claim keeps other workers off a row; renewed while the row is in flight.
    pub lease: std::time::Duration,
}

impl Deliverers {
    pub fn new(max_attempts: i32) -> Deliverers {
        Deliverers {
            list: vec![],
            kinds: vec![],
            max_attempts,
            concurrency: 1,
            lease: LEASE,
        }
    }
    pub fn with_concurrency(mut self, n: usize) -> Deliverers {
        self.concurrency = n.max(1);
        self
    }
    pub fn with_lease(mut self, lease: std::time::Duration) -> Deliverers {
        self.lease = lease;
        self
    }
    pub fn add(mut self, kind: &str, d: Arc<dyn Deliverer>) -> Deliverers {
        if !self.kinds.iter().any(|k| k == kind) {
            self.kinds.push(kind.to_string());
        }
        self.list.push(d);
        self
    }
}

/// Exponential backoff from 30 s, doubled per attempt, capped at an hour, with ±20% jitter.
pub fn backoff(attempts: i32) -> Duration {
    let base = 30i64
        .saturating_mul(1 << attempts.clamp(1, 10).saturating_sub(1))
        .min(3600);
    let jitter = rand::random_range(-(base / 5)..=(base / 5));
    Duration::seconds(base + jitter)
}

/// How long a claim keeps other workers off a row. Short, because the live worker renews it
/// three times a lease while the row is in flight: a worker that dies mid-send lets its rows
/// go to another within this long.
pub const LEASE: std::time::Duration = std::time::Duration::from_secs(30);

/// Claims and delivers one batch; returns how many rows were sent.
pub async fn drain_once(store: &Store, ds: &Deliverers, batch: i64) -> Result<usize> {
    if ds.kinds.is_empty() {
        return Ok(0);
    }
    let mut conn = store.pool.acquire().await?;
    let lease = ds.lease.as_secs_f64();
    let rows = outbox::claim(&mut conn, &ds.kinds, batch, lease).await?;
    let mut in_flight: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let every = (ds.lease / 3).max(std::time::Duration::from_millis(50));
    let mut renew = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    let mut sent = 0;
    let mut done = stream::iter(rows)
        .map(|row| async move {
            let result = match ds.list.iter().find(|d| d.accepts(&row)) {
                Some(d) => Some(d.deliver(&row).await),
                None => None,
            };
            (row, result)
        })
        .buffer_unordered(ds.concurrency.max(1));
    loop {
        let (row, result) = tokio::select! {
            next = done.next() => match next {
                Some(n) => n,
                None => break,
            },
            _ = renew.tick() => {
                outbox::extend_lease(&mut conn, &in_flight, lease).await?;
                continue;
            }
        };
        in_flight.retain(|id| *id != row.id);
        let Some(result) = result else {
            // Nothing here can deliver it (e.g. a Slack post on a replica without Slack): leave
            // it for one that can, without spending its attempts.
            outbox::defer(&mut conn, row.id, Utc::now() + Duration::seconds(60)).await?;
            continue;
        };
        match result {
            Ok(()) => {
                mark_sent(&mut conn, &row).await?;
                sent += 1;
            }
            Err(DeliveryError::Defer(at)) => {
                outbox::defer(&mut conn, row.id, at).await?;
            }
            Err(DeliveryError::Dropped {
                reason,
                subject,
                details,
            }) => {
                tracing::info!(id = row.id, kind = row.kind, reason, "not sent");
                record_dropped(&mut conn, &row, &reason, subject, details).await?;
            }
            Err(DeliveryError::Retry(e)) if row.attempts < ds.max_attempts => {
                tracing::warn!(
                    id = row.id,
                    kind = row.kind,
                    attempts = row.attempts,
                    error = e,
                    "delivery failed; will retry"
                );
                outbox::mark_failed(
                    &mut conn,
                    row.id,
                    &e,
                    Some(Utc::now() + backoff(row.attempts)),
                )
                .await?;
            }
            Err(DeliveryError::Retry(e) | DeliveryError::Permanent(e)) => {
                tracing::error!(
                    id = row.id,
                    kind = row.kind,
                    attempts = row.attempts,
                    error = e,
                    "delivery gave up"
                );
                outbox::mark_failed(&mut conn, row.id, &e, None).await?;
            }
        }
    }
    Ok(sent)
}

/// Marks the row sent; a reminder's sending is told in its account's case threads, in the
/// same transaction.
async fn mark_sent(conn: &mut sqlx::PgConnection, row: &outbox::OutboxRow) -> Result<()> {
    if row.kind != "email" {
        outbox::mark_sent(conn, row.id).await?;
        return Ok(());
    }
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    outbox::mark_sent(&mut tx, row.id).await?;
    crate::store::case_threads::reminder_sent(&mut tx, row.id).await?;
    tx.commit().await?;
    Ok(())
}

/// Marks the row dropped and writes dunbot's action row saying why, in one transaction.
async fn record_dropped(
    conn: &mut sqlx::PgConnection,
    row: &outbox::OutboxRow,
    reason: &str,
    subject: Option<String>,
    details: serde_json::Value,
) -> Result<()> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    outbox::mark_dropped(&mut tx, row.id, reason).await?;
    actions::insert_if_new(
        &mut tx,
        &actions::NewAction::by_dunbot(
            Utc::now(),
            "reminder_dropped",
            subject,
            serde_json::json!({
                "reason": reason, "outbox_id": row.id, "dedupe_key": row.dedupe_key,
                "to": row.payload["to"], "facts": details,
            }),
            format!("dropped:{}", row.dedupe_key),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Drains every `every` until `stop` changes.
pub async fn run_loop(
    store: Store,
    ds: Deliverers,
    every: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        match drain_once(&store, &ds, 50).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::error!(error = ?e, "outbox worker pass failed"),
        }
        if !crate::clock::pause(every, &mut stop).await {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_grows_and_is_capped() {
        let first = backoff(1).num_seconds();
        assert!((24..=36).contains(&first), "{first}");
        let third = backoff(3).num_seconds();
        assert!((96..=144).contains(&third), "{third}");
        assert!(backoff(30).num_seconds() <= 3600 + 720);
    }
}
