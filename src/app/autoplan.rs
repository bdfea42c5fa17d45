//! The automatic plan: on each business day the policy names the reminder stages that begin
//! that day (pre-due friendly, day-after, late-fee warning, firm notice) and dunbot queues them
//! itself, through `App::handle` as the `dunbot` system actor. The request id
//! `auto:<account>:<stage>:<date>` makes a rerun, or a second replica, queue nothing twice.
//! Steps that need a person (inquiry call, management call, referral) are never automatic; the
//! digest lists them as ready to escalate. Never on weekends or holidays, never to
//! do-not-contact accounts, accounts with a disputed invoice, a live promise, a hold, or an
//! agency.
use super::{Actor, App, Invocation, Platform, Source};
use crate::config::Settings;
use crate::digest::{self, Standing};
use crate::domain::money::{Currency, Money};
use crate::domain::policy::{Channel, Pause, Stage, Tone};
use crate::domain::roles::Role;
use crate::store::{ledger, snapshot};
use anyhow::Result;
use chrono::{DateTime, Days, NaiveDate, Utc};
use sqlx::PgConnection;
use std::collections::HashMap;
use std::sync::Arc;

/// A reminder the plan will queue.
#[derive(Debug, Clone)]
pub struct Planned {
    pub account: String,
    pub name: String,
    pub stage: Stage,
    pub tone: Tone,
    /// By email, text or both (the policy file's `channel` for the stage).
    pub channel: Channel,
    /// The invoices whose step begins that day.
    pub invoices: Vec<String>,
    /// The account's open (chased) balance.
    pub amount: Money,
}

impl Planned {
    /// The request id that makes queueing it idempotent.
    pub fn request_id(&self, date: NaiveDate) -> String {
        format!("auto:{}:{}:{date}", self.account, self.stage.key())
    }
}

/// An account the policy would remind that day, and why it will not be.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub account: String,
    pub name: String,
    pub stage: Stage,
    pub reason: String,
}

/// Why the account gets no automatic reminder, if it gets none.
fn skip_reason(a: &crate::store::snapshot::AccountAgg, st: &Standing) -> Option<String> {
    if a.do_not_contact {
        return Some("do-not-contact".into());
    }
    if a.disputed_minor > 0 {
        return Some("has a disputed invoice".into());
    }
    match st.paused {
        Some(Pause::Promise { until }) => Some(format!("promised to pay (until {until})")),
        Some(Pause::Hold { until: Some(u) }) => Some(format!("on hold until {u}")),
        Some(Pause::Hold { until: None }) => Some("on hold".into()),
        Some(Pause::WithAgency) => Some("with a collection agency".into()),
        Some(Pause::Dispute) => Some("disputed".into()),
        None => None,
    }
}

/// What the plan sends on `date` (nothing on a non-business day), and whom it skips.
pub async fn plan(
    conn: &mut PgConnection,
    s: &Settings,
    date: NaiveDate,
) -> Result<(Vec<Planned>, Vec<Skipped>)> {
    if !s.calendar.is_business_day(date) {
        return Ok((vec![], vec![]));
    }
    // Invoices whose reminder steps can begin on `date`: due between the latest and the
    // earliest reminder offset of either plan, with slack for weekends and holidays (the
    // policy then picks exactly).
    let offsets: Vec<i32> = [&s.policy.first_time, &s.policy.repeat]
        .iter()
        .flat_map(|p| p.steps.iter())
        .filter(|st| st.stage.tone().is_some())
        .map(|st| st.offset)
        .collect();
    let (lo, hi) = (
        offsets.iter().copied().min().unwrap_or(0),
        offsets.iter().copied().max().unwrap_or(0),
    );
    let from = s.calendar.add_business_days(date, -hi.max(0) - 1) - Days::new(14);
    let to = s.calendar.add_business_days(date, -lo.min(0) + 1) + Days::new(14);
    let candidates = ledger::open_invoices_due_between(conn, from, to).await?;
    if candidates.is_empty() {
        return Ok((vec![], vec![]));
    }
    let mut by_account: HashMap<i64, Vec<&ledger::Invoice>> = HashMap::new();
    for inv in &candidates {
        by_account.entry(inv.account_id).or_default().push(inv);
    }
    let all_promises = snapshot::promises(conn, date - Days::new(30), None).await?;
    let mut promises: HashMap<i64, Vec<_>> = HashMap::new();
    for p in &all_promises {
        promises.entry(p.account_id).or_default().push(p);
    }
    // The accounts stream by (only those with a candidate invoice are kept), then are put
    // back in account order.
    let (mut planned, mut skipped) = (Vec::new(), Vec::new());
    let due_soon_until = s.calendar.add_business_days(date, s.due_soon_days);
    snapshot::each_account(conn, date, due_soon_until, |a| {
        let Some(invoices) = by_account.get(&a.id) else {
            return;
        };
        let mine = promises.get(&a.id).cloned().unwrap_or_default();
        let st = digest::assess(a, &mine, s, date);
        let mut best: Option<(Stage, Vec<String>)> = None;
        for inv in invoices {
            for stage in s.policy.steps_due_on(&s.calendar, &st.track, inv.due, date) {
                if stage.tone().is_none() {
                    continue; // a person's step: the digest's escalations
                }
                match &mut best {
                    Some((b, list)) if *b == stage => list.push(inv.number.clone()),
                    Some((b, _)) if *b > stage => {}
                    _ => best = Some((stage, vec![inv.number.clone()])),
                }
            }
        }
        let Some((stage, numbers)) = best else {
            return;
        };
        if let Some(reason) = skip_reason(a, &st) {
            skipped.push((
                a.id,
                Skipped {
                    account: a.code.clone(),
                    name: a.name.clone(),
                    stage,
                    reason,
                },
            ));
            return;
        }
        let cur = Currency::parse(&a.currency).unwrap_or(s.default_currency);
        planned.push((
            a.id,
            Planned {
                account: a.code.clone(),
                name: a.name.clone(),
                stage,
                tone: stage.tone().unwrap_or(Tone::Friendly),
                channel: s.policy.channel_of(&st.track, stage),
                invoices: numbers,
                amount: Money::new(
                    a.balance_minor - a.disputed_minor - a.with_agency_minor,
                    cur,
                ),
            },
        ));
    })
    .await?;
    planned.sort_by_key(|(id, _)| *id);
    skipped.sort_by_key(|(id, _)| *id);
    Ok((
        planned.into_iter().map(|(_, p)| p).collect(),
        skipped.into_iter().map(|(_, k)| k).collect(),
    ))
}

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunReport {
    pub queued: u32,
    /// Queued before (a rerun or another replica).
    pub already: u32,
    /// Refused by `ar remind`'s own rules (e.g. no contact email); recorded as refusals.
    pub refused: u32,
}

/// The actor the automatic plan acts as.
pub fn dunbot() -> Actor {
    Actor {
        platform: Platform::System,
        user_id: "dunbot".into(),
        name: "dunbot".into(),
        roles: vec![Role::Admin],
        agency: None,
    }
}

/// Queues the day's automatic reminders through the one write path; idempotent per account,
/// stage and date.
pub async fn run(app: &App, date: NaiveDate, now: DateTime<Utc>) -> Result<RunReport> {
    let (planned, _) = {
        let mut conn = app.store.pool.acquire().await?;
        plan(&mut conn, &app.settings, date).await?
    };
    let mut report = RunReport::default();
    for p in planned {
        let out = app
            .handle(Invocation {
                actor: dunbot(),
                channel: "system".into(),
                request_id: p.request_id(date),
                text: match p.channel {
                    Channel::Email => format!("remind {} {} --force", p.account, p.tone.key()),
                    ch => format!("remind {} {} {} --force", p.account, p.tone.key(), ch.key()),
                },
                source: Source::Command,
                now,
                as_of: Some(date),
            })
            .await;
        match (out.replayed, out.refused) {
            (true, _) => report.already += 1,
            (false, true) => {
                tracing::warn!(
                    account = p.account,
                    reason = out.reply.text,
                    "automatic reminder refused"
                );
                report.refused += 1
            }
            (false, false) => report.queued += 1,
        }
    }
    // Stage 2 by email, when the team chose it: "did you receive invoice X?".
    let asked = super::confirm_receipt::ask_by_email(app, date, now).await?;
    if asked > 0 {
        tracing::info!(date = %date, asked, "confirm-receipt emails queued");
    }
    Ok(report)
}

/// `DUNBOT_AUTOPLAN_AT` (local `HH:MM` in the company's zone, default 07:00), or `None` when
/// it is `off`.
pub fn start_time_from_env() -> Result<Option<chrono::NaiveTime>> {
    match std::env::var("DUNBOT_AUTOPLAN_AT")
        .ok()
        .map(|v| v.trim().to_string())
    {
        None => Ok(chrono::NaiveTime::from_hms_opt(7, 0, 0)),
        Some(v) if v.is_empty() => Ok(chrono::NaiveTime::from_hms_opt(7, 0, 0)),
        Some(v) if v.eq_ignore_ascii_case("off") => Ok(None),
        Some(v) => chrono::NaiveTime::parse_from_str(&v, "%H:%M")
            .map(Some)
            .map_err(|_| {
                anyhow::anyhow!("DUNBOT_AUTOPLAN_AT={v:?}: write HH:MM, e.g. 07:00, or off")
            }),
    }
}

/// In `dunbot serve`: once the company's business day reaches `at`, runs the plan for that day
/// (once per process per day; the request ids make every replica's run one).
pub async fn run_loop(
    app: Arc<App>,
    at: chrono::NaiveTime,
    every: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut done: Option<NaiveDate> = None;
    loop {
        let now = app.now();
        let local = now.with_timezone(&app.settings.time_zone);
        let today = local.date_naive();
        if done != Some(today) && local.time() >= at && app.settings.calendar.is_business_day(today)
        {
            match run(&app, today, now).await {
                Ok(r) => {
                    tracing::info!(date = %today, queued = r.queued, already = r.already, refused = r.refused, "automatic reminders");
                    done = Some(today);
                }
                Err(e) => tracing::error!(error = ?e, "automatic plan failed; will retry"),
            }
        }
        if !crate::clock::pause(every, &mut stop).await {
            return;
        }
    }
}
