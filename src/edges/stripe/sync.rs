//! The backfill: `GET /v1/customers`, then `GET /v1/invoices`, a page of up to 100 at a time
//! (`starting_after`, `has_more`). Each page is applied in one transaction with the cursor
//! after it, so a crash resumes after the last applied page. One run at a time across
//! replicas: a Postgres advisory lock held on a connection kept checked out for the run.
use super::apply::{after_payments, apply_object};
use crate::app::App;
use crate::store::{actions, stripe as st};
use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::io::IsTerminal;
use std::time::Duration;

const SOURCE: &str = "stripe";
/// The API version the mapping was written against (the fixtures' events).
pub const STRIPE_VERSION: &str = "2022-11-15";
const RESOURCES: [(&str, &str); 2] = [("customers", "customer"), ("invoices", "invoice")];
/// The advisory lock's key: one Stripe sync at a time on this database.
const LOCK_KEY: i64 = 0x5354_5249_5045; // "STRIPE"

pub struct Client {
    http: reqwest::Client,
    base: String,
    key: String,
    /// Items per page (Stripe allows 1 to 100).
    pub limit: u32,
    /// Retries of one request answered 429 before giving up.
    pub max_retries: u32,
}

impl Client {
    pub fn new(base: &str, key: &str) -> Client {
        Client {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("a reqwest client"),
            base: base.trim_end_matches('/').to_string(),
            key: key.to_string(),
            limit: 100,
            max_retries: 5,
        }
    }

    /// From `STRIPE_API_KEY` and `STRIPE_API_URL` (default Stripe's).
    pub fn from_env() -> Result<Client> {
        let key = std::env::var("STRIPE_API_KEY")
            .ok()
            .filter(|k| !k.trim().is_empty())
            .ok_or_else(|| anyhow!("STRIPE_API_KEY is not set: give it a restricted key that may read customers and invoices"))?;
        let base = std::env::var("STRIPE_API_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| "https://api.stripe.com".into());
        Ok(Client::new(&base, key.trim()))
    }

    /// One list page; a 429 waits `Retry-After` seconds (at most a minute) and asks again.
    async fn page(
        &self,
        resource: &str,
        after: Option<&str>,
        since: Option<DateTime<Utc>>,
    ) -> Result<Value> {
        let mut query = vec![("limit".to_string(), self.limit.to_string())];
        if let Some(a) = after {
            query.push(("starting_after".into(), a.into()));
        }
        if let Some(s) = since {
            query.push(("created[gte]".into(), s.timestamp().to_string()));
        }
        let url = format!("{}/v1/{resource}", self.base);
        let mut tries = 0;
        loop {
            let resp = self
                .http
                .get(&url)
                .bearer_auth(&self.key)
                .header("Stripe-Version", STRIPE_VERSION)
                .query(&query)
                .send()
                .await
                .with_context(|| format!("GET {url}"))?;
            let status = resp.status();
            if status.as_u16() == 429 && tries < self.max_retries {
                tries += 1;
                let wait = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .unwrap_or(1 << tries.min(5))
                    .min(60);
                tracing::info!(resource, wait, "Stripe asked to slow down (429)");
                tokio::time::sleep(Duration::from_secs(wait)).await;
                continue;
            }
            if status.as_u16() == 401 {
                bail!(
                    "Stripe refused STRIPE_API_KEY (401): check the key and its read permissions"
                );
            }
            if !status.is_success() {
                let text = resp.text().await.unwrap_or_default();
                bail!(
                    "GET {url} answered {status}: {}",
                    text.chars().take(300).collect::<String>()
                );
            }
            return Ok(resp.json().await?);
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncReport {
    Done {
        pages: u64,
        objects: u64,
        resumed: bool,
    },
    /// Another replica holds the sync: nothing done here.
    Busy,
}

/// Runs (or resumes) a backfill. `since` limits it to objects created from then on; a run
/// already in progress keeps its own. `progress` writes a counter to a terminal's stderr.
pub async fn sync(
    app: &App,
    client: &Client,
    since: Option<DateTime<Utc>>,
    progress: bool,
) -> Result<SyncReport> {
    let mut lock = app.store.pool.acquire().await?;
    let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(LOCK_KEY)
        .fetch_one(&mut *lock)
        .await?;
    if !got {
        return Ok(SyncReport::Busy);
    }
    let result = run(app, client, since, progress).await;
    let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(LOCK_KEY)
        .execute(&mut *lock)
        .await;
    result
}

async fn run(
    app: &App,
    client: &Client,
    since: Option<DateTime<Utc>>,
    progress: bool,
) -> Result<SyncReport> {
    let show = progress && std::io::stderr().is_terminal();
    let mut conn = app.store.pool.acquire().await?;
    let state = st::sync_state(&mut conn, SOURCE).await?;
    let in_progress = state
        .as_ref()
        .and_then(|s| s.run_started_at.map(|t| (t, s.clone())));
    let (run_at, since, mut resource, mut cursor, resumed) = match in_progress {
        Some((t, s)) => (t, s.since, s.resource, s.cursor, true),
        None => {
            let now = app.now();
            st::start_run(&mut conn, SOURCE, since, now).await?;
            (now, since, None, None, false)
        }
    };
    drop(conn);
    let start = resource
        .as_deref()
        .and_then(|r| RESOURCES.iter().position(|(name, _)| *name == r))
        .unwrap_or(0);
    let (mut pages, mut objects, mut paid_any) = (0_u64, 0_u64, false);
    for (name, kind) in RESOURCES.iter().skip(start) {
        if resource.as_deref() != Some(name) {
            resource = Some(name.to_string());
            cursor = None;
        }
        loop {
            let page = client.page(name, cursor.as_deref(), since).await?;
            let data = page["data"].as_array().cloned().unwrap_or_default();
            let mut tx = app.store.begin().await?;
            let mut notes = Vec::new();
            for obj in &data {
                let id = obj["id"].as_str().unwrap_or_default();
                let key = format!("stripe-sync:{}:{id}", run_at.timestamp_micros());
                let (n, paid) = apply_object(
                    app,
                    &mut tx,
                    &format!("{kind}.sync"),
                    obj,
                    &key,
                    "stripe:sync",
                )
                .await?;
                notes.extend(n);
                paid_any |= paid;
            }
            let last = data
                .last()
                .and_then(|o| o["id"].as_str())
                .map(str::to_string);
            let next = last.clone().or(cursor.clone());
            st::save_cursor(&mut tx, SOURCE, name, next.as_deref()).await?;
            if !data.is_empty() {
                actions::insert(
                    &mut tx,
                    &actions::NewAction {
                        at: app.now(),
                        actor_platform: "stripe".into(),
                        actor_id: "stripe".into(),
                        actor_name: "Stripe".into(),
                        channel: "stripe:sync".into(),
                        kind: "stripe_sync_page".into(),
                        subject: None,
                        outcome: "ok",
                        details: json!({"resource": name, "after": cursor, "count": data.len(), "last": last, "notes": notes}),
                        idempotency_key: Some(format!(
                            "stripe-sync:{}:{name}:{}",
                            run_at.timestamp_micros(),
                            cursor.as_deref().unwrap_or("start")
                        )),
                    },
                )
                .await?;
            }
            tx.commit().await?;
            pages += 1;
            objects += data.len() as u64;
            cursor = next;
            if show {
                eprint!("\rStripe {name}: {objects} objects, {pages} pages   ");
            }
            if page["has_more"] != json!(true) || data.is_empty() {
                break;
            }
        }
    }
    let mut conn = app.store.pool.acquire().await?;
    st::finish_run(&mut conn, SOURCE, run_at).await?;
    if show {
        eprintln!();
    }
    if paid_any {
        after_payments(app).await?;
    }
    Ok(SyncReport::Done {
        pages,
        objects,
        resumed,
    })
}

/// When the last finished sync began (the ledger holds Stripe's state as of then).
pub async fn last_success(app: &App) -> Result<Option<DateTime<Utc>>> {
    let mut conn = app.store.pool.acquire().await?;
    Ok(st::sync_state(&mut conn, SOURCE)
        .await?
        .and_then(|s| s.last_success_at))
}

/// How far before the last finished sync `serve`'s runs look again: invoices created that
/// long before are re-read, so a payment, void or credit on them whose webhook was missed is
/// caught up. Older invoices change by webhook (or a full `dunbot sync stripe`).
pub const LOOKBACK_DAYS: i64 = 60;

/// `DUNBOT_SYNC_EVERY` (`15m`, `1h`, `900s`): how often `serve` syncs; unset or `off`: never.
pub fn every_from_env() -> Result<Option<Duration>> {
    match std::env::var("DUNBOT_SYNC_EVERY") {
        Ok(v) if !v.trim().is_empty() && v.trim() != "off" => parse_every(v.trim()).map(Some),
        _ => Ok(None),
    }
}

pub fn parse_every(v: &str) -> Result<Duration> {
    let (n, unit) = v.split_at(v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len()));
    let n: u64 = n.parse().map_err(|_| {
        anyhow!("DUNBOT_SYNC_EVERY={v:?}: write a number and a unit, e.g. 15m, 1h or 900s")
    })?;
    let secs = match unit {
        "s" => n,
        "m" | "" => n * 60,
        "h" => n * 3600,
        _ => bail!("DUNBOT_SYNC_EVERY={v:?}: write a number and a unit, e.g. 15m, 1h or 900s"),
    };
    if secs < 60 {
        bail!("DUNBOT_SYNC_EVERY={v:?}: at least a minute, e.g. 15m");
    }
    Ok(Duration::from_secs(secs))
}

/// `serve`'s periodic sync: every `every`, an incremental run (see `LOOKBACK_DAYS`), once
/// across replicas (the others find the lock taken and wait for the next turn). A failed
/// run is logged and resumed at the next turn.
pub async fn run_loop(
    app: std::sync::Arc<App>,
    client: Client,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let since = match last_success(&app).await {
            Ok(last) => last.map(|t| t - chrono::Duration::days(LOOKBACK_DAYS)),
            Err(e) => {
                tracing::error!(error = ?e, "Stripe sync: cannot read its state");
                None
            }
        };
        match sync(&app, &client, since, false).await {
            Ok(SyncReport::Done { pages, objects, .. }) => {
                tracing::info!(pages, objects, "Stripe sync done")
            }
            Ok(SyncReport::Busy) => tracing::debug!("Stripe sync: another replica is on it"),
            Err(e) => tracing::error!(error = ?e, "Stripe sync failed; it resumes next time"),
        }
        if !crate::clock::pause(every, &mut stop).await {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sync_every_reads_minutes_hours_seconds_and_refuses_the_rest() {
        use super::parse_every;
        assert_eq!(parse_every("15m").unwrap().as_secs(), 900);
        assert_eq!(parse_every("1h").unwrap().as_secs(), 3600);
        assert_eq!(parse_every("900s").unwrap().as_secs(), 900);
        assert!(parse_every("10s").unwrap_err().to_string().contains("15m"));
        assert!(
            parse_every("soon")
                .unwrap_err()
                .to_string()
                .contains("e.g. 15m")
        );
    }
}
