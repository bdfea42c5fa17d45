//! The digest scheduler inside `dunbot serve`: each subscribed channel's digest for a local
//! date posts exactly once across replicas and restarts; one missed while dunbot was down is
//! posted late, once.
use crate::app::App;
use crate::app::automatic::resolve_promises;
use crate::digest;
use crate::store::{actions, outbox, schedule};
use anyhow::{Context, Result};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::json;

/// A digest posted more than this after its scheduled time is marked late.
const LATE_AFTER: Duration = Duration::minutes(15);
/// How far back a missed digest is still caught up.
const CATCH_UP: Duration = Duration::days(7);

/// The latest scheduled time at or before `now` (and not before `not_before`), in UTC.
pub fn last_fire(
    cron: &str,
    tz: Tz,
    not_before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, String> {
    let sched = crate::domain::cron::parse(cron)?;
    let start = (now - CATCH_UP).max(not_before) - Duration::seconds(1);
    Ok(sched
        .after(&start.with_timezone(&tz))
        .take_while(|t| t.with_timezone(&Utc) <= now)
        .last()
        .map(|t| t.with_timezone(&Utc)))
}

/// A subscription's latest firing of `cron` in its zone `zone`, with the zone; `None` (logged
/// when it is the subscription's fault) when it has not fired yet or cannot be read. The daily
/// digest and the weekly summary schedule alike.
pub(super) fn due_fire(
    channel: &str,
    zone: &str,
    cron: &str,
    created_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<(Tz, DateTime<Utc>)> {
    let Ok(tz) = zone.parse::<Tz>() else {
        tracing::warn!(
            channel,
            zone,
            "subscription has an unknown time zone; skipped"
        );
        return None;
    };
    match last_fire(cron, tz, created_at, now) {
        Ok(fire) => fire.map(|f| (tz, f)),
        Err(e) => {
            tracing::warn!(
                channel,
                cron,
                error = e,
                "subscription has a bad cron; skipped"
            );
            None
        }
    }
}

/// Whether a post made at `now` for `fire` is marked late.
pub(super) fn is_late(fire: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - fire > LATE_AFTER
}

/// One pass over every subscription; returns the channels and dates posted by this process.
pub async fn tick(app: &App, now: DateTime<Utc>) -> Result<Vec<(String, NaiveDate, bool)>> {
    let mut conn = app.store.pool.acquire().await?;
    let subs = schedule::subscriptions(&mut conn).await?;
    drop(conn);
    let mut posted = Vec::new();
    let mut resolved = false;
    for sub in subs {
        let Some((tz, fire)) =
            due_fire(&sub.channel, &sub.time_zone, &sub.cron, sub.created_at, now)
        else {
            continue;
        };
        let run_date = fire.with_timezone(&tz).date_naive();
        let mut tx = app.store.begin().await?;
        let previous = schedule::last_run_date(&mut tx, sub.id).await?;
        if previous.is_some_and(|p| p >= run_date) {
            continue;
        }
        let late = is_late(fire, now);
        if !schedule::claim_run(
            &mut tx,
            sub.id,
            run_date,
            fire,
            &app.settings.instance_id,
            late,
        )
        .await?
        {
            continue;
        }
        if !resolved {
            // Promise states feed the digest; bring them up to date once per tick.
            resolve_promises(app, app.settings.today(now), now)
                .await
                .context("resolving promises")?;
            resolved = true;
        }
        let message = digest::render(
            &digest::compute(&mut tx, &app.settings, run_date, previous, late).await?,
        );
        let key = format!("digest:{}:{run_date}", sub.id);
        let outbox_id = outbox::enqueue(
            &mut tx,
            "chat",
            &key,
            &json!({"channel": sub.channel, "message": message}),
        )
        .await?
        .context("digest outbox key already used")?;
        schedule::set_run_outbox(&mut tx, sub.id, run_date, outbox_id).await?;
        actions::insert(
            &mut tx,
            &actions::NewAction {
                channel: sub.channel.clone(),
                ..actions::NewAction::by_dunbot(
                    now,
                    "digest_posted",
                    None,
                    json!({"run_date": run_date, "scheduled_at": fire, "late": late, "instance": app.settings.instance_id, "outbox_id": outbox_id}),
                    key,
                )
            },
        )
        .await?;
        tx.commit().await?;
        tracing::info!(channel = sub.channel, %run_date, late, "digest queued");
        posted.push((sub.channel.clone(), run_date, late));
    }
    Ok(posted)
}

/// Ticks every `every` until `stop` resolves.
pub async fn run_loop(
    app: &App,
    every: std::time::Duration,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut stop = stop;
    loop {
        if let Err(e) = tick(app, app.now()).await {
            tracing::error!(error = ?e, "scheduler tick failed; retrying next tick");
        }
        if let Err(e) = super::weekly_scheduler::tick(app, app.now()).await {
            tracing::error!(error = ?e, "weekly summary tick failed; retrying next tick");
        }
        if !crate::clock::pause(every, &mut stop).await {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn last_fire_is_in_the_subscriptions_zone_and_never_before_it_existed() {
        let tz: Tz = "America/New_York".parse().unwrap();
        // 14:00 UTC Monday = 09:00 in New York: the 08:00 New York run (13:00 UTC) has fired.
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 14, 0, 0).unwrap();
        let created = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        let f = last_fire("0 8 * * Mon-Fri", tz, created, now)
            .unwrap()
            .unwrap();
        assert_eq!(f, Utc.with_ymd_and_hms(2026, 11, 23, 13, 0, 0).unwrap());
        // At 12:00 UTC (07:00 NY) the latest is Friday's.
        let f = last_fire(
            "0 8 * * Mon-Fri",
            tz,
            created,
            Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(f, Utc.with_ymd_and_hms(2026, 11, 20, 13, 0, 0).unwrap());
        // A subscription made after today's run has nothing to post yet.
        let late_sub = Utc.with_ymd_and_hms(2026, 11, 23, 13, 30, 0).unwrap();
        assert_eq!(
            last_fire("0 8 * * Mon-Fri", tz, late_sub, now).unwrap(),
            None
        );
    }
}
