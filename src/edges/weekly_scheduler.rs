//! The weekly summary's scheduler inside `dunbot serve`: each subscribed channel with a weekly
//! cron gets one post per ISO week, across replicas and restarts. The claim is the insert of
//! the `(subscription, week)` run row, in the same transaction as the outbox row and the action
//! row; a week whose post was missed while dunbot was down is posted late, once.
use super::scheduler::{due_fire, is_late};
use crate::app::App;
use crate::app::automatic::resolve_promises;
use crate::app::weekly::summary;
use crate::domain::weekly::{reported_week, week_start};
use crate::store::{actions, outbox, weekly};
use anyhow::{Context, Result};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde_json::json;

/// The outbox payload of a weekly post: `{channel, message, chart: {file, series}}`.
///
/// The payload carries the chart's series (a few hundred bytes), not the PNG (tens of KB as
/// base64): rows stay small in the outbox table and its claims, and the chart is a pure
/// function of the series, so a retried delivery draws the very same bytes.
pub fn payload(
    channel: &str,
    s: &crate::app::weekly::Summary,
    week: NaiveDate,
) -> serde_json::Value {
    let iso = week.iso_week();
    let mut p = json!({"channel": channel, "message": s.message});
    if let Some(series) = &s.chart {
        p["chart"] = json!({
            "file": format!("aging-{}-W{:02}.png", iso.year(), iso.week()),
            "title": format!("AR by age, {} (week {} of {})", series.currency, iso.week(), iso.year()),
            "series": series,
        });
    }
    p
}

/// The chart a weekly post's payload carries, drawn: `(file name, PNG bytes)`. Every
/// platform's deliverer draws it here, from the series `payload` wrote.
pub fn draw(chart: &serde_json::Value) -> Result<(String, Vec<u8>), String> {
    let series = serde_json::from_value(chart["series"].clone())
        .map_err(|e| format!("bad chart series: {e}"))?;
    let png = crate::chart::aging_png(&series)?;
    let name = chart["file"]
        .as_str()
        .filter(|f| f.ends_with(".png") && !f.contains(['/', '\\']))
        .unwrap_or("aging.png");
    Ok((name.to_string(), png))
}

/// One pass over the weekly subscriptions; returns `(channel, week reported, late)` for each
/// post this process queued.
pub async fn tick(app: &App, now: DateTime<Utc>) -> Result<Vec<(String, NaiveDate, bool)>> {
    let mut conn = app.store.pool.acquire().await?;
    let subs = weekly::subscriptions(&mut conn).await?;
    drop(conn);
    let mut posted = Vec::new();
    let mut resolved = false;
    for sub in subs {
        let Some((tz, fire)) = due_fire(
            &sub.channel,
            &sub.time_zone,
            &sub.weekly_cron,
            sub.created_at,
            now,
        ) else {
            continue;
        };
        let run_date = fire.with_timezone(&tz).date_naive();
        let week = week_start(run_date);
        let mut tx = app.store.begin().await?;
        if weekly::last_week(&mut tx, sub.id)
            .await?
            .is_some_and(|w| w >= week)
        {
            continue;
        }
        let late = is_late(fire, now);
        let me = &app.settings.instance_id;
        if !weekly::claim_run(&mut tx, sub.id, week, fire, me, late).await? {
            continue;
        }
        if !resolved {
            // The promise-kept rate reads promise states; bring them up to date once per tick.
            resolve_promises(app, app.settings.today(now), now)
                .await
                .context("resolving promises")?;
            resolved = true;
        }
        let s = summary(&mut tx, &app.settings, run_date, late)
            .await
            .context("building the weekly summary")?;
        let key = format!("weekly:{}:{week}", sub.id);
        let outbox_id = outbox::enqueue(&mut tx, "chat", &key, &payload(&sub.channel, &s, week))
            .await?
            .context("weekly outbox key already used")?;
        weekly::set_run_outbox(&mut tx, sub.id, week, outbox_id).await?;
        let (from, to) = reported_week(run_date);
        actions::insert(
            &mut tx,
            &actions::NewAction {
                channel: sub.channel.clone(),
                ..actions::NewAction::by_dunbot(
                    now,
                    "weekly_posted",
                    None,
                    json!({"week": week, "reported": [from, to], "scheduled_at": fire, "late": late,
                           "instance": me, "outbox_id": outbox_id}),
                    key,
                )
            },
        )
        .await?;
        tx.commit().await?;
        tracing::info!(channel = sub.channel, %week, late, "weekly summary queued");
        posted.push((sub.channel.clone(), from, late));
    }
    Ok(posted)
}
