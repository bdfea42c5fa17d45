//! Where payment plans move: installments turning kept as payments arrive, a plan completing,
//! a missed installment breaking the plan. The one home for these transitions: the automatic
//! steps (`automatic::resolve_promises`), payment news (`payment_news::after_payments`), and
//! `ar plan` / `ar plan-decide` (which open the first installment) all call `advance`.
//!
//! The open installment is a promise row (see `store::plans`), so while it is pending chasing
//! pauses like for any promise. When the plan breaks, that row turns `broken` (the account is
//! a repeat delinquent from then on), no further installment opens, and the managers are
//! pinged naming the owner, with Re-plan, call and Escalate buttons.
use super::App;
use crate::digest::broken_plan_buttons;
use crate::domain::money::{Currency, Money};
use crate::domain::plan::{self, Cadence, Installment, Progress};
use crate::message::{Block, Mention, Message, Visibility};
use crate::store::{actions, ledger, outbox, plans};
use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use sqlx::PgConnection;

/// What happened to one active plan in a call to `advance`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub plan_id: i64,
    pub account_id: i64,
    pub count: u32,
    /// Installments kept in this call.
    pub newly_kept: Vec<u32>,
    /// The installment open after it, with its due date and cumulative amount.
    pub open: Option<(u32, NaiveDate)>,
    pub completed: bool,
    /// The installment whose miss broke the plan in this call.
    pub broken: Option<u32>,
}

/// What payment news says of a plan the payments moved: "installment 2 of 4 of its payment
/// plan", "… payment plan completed", or "toward installment 2 of 4 due 2026-12-15".
pub fn news(m: &Moved) -> Option<String> {
    let of = m.count;
    let paid = match m.newly_kept.as_slice() {
        [] => None,
        [n] => Some(format!("installment {n} of {of} of its payment plan")),
        [a, .., b] => Some(format!("installments {a}–{b} of {of} of its payment plan")),
    };
    match (paid, m.completed, m.open) {
        (Some(p), true, _) => Some(format!("{p}: payment plan completed")),
        (Some(p), false, _) => Some(p),
        (None, _, Some((n, due))) => Some(format!("toward installment {n} of {of} due {due}")),
        (None, _, None) => None,
    }
}

/// The schedule of a stored plan.
pub fn schedule_of(p: &plans::Plan) -> Vec<Installment> {
    let cadence = Cadence::parse(&p.cadence).unwrap_or(Cadence::Monthly);
    plan::schedule(
        p.total_minor,
        p.installments.max(1) as u32,
        cadence,
        p.first_due,
    )
}

/// Brings the active plans (of the account `only`, or all) up to date as of `today`, in the
/// caller's transaction. Idempotent: every transition has its own action key, and a plan
/// already up to date is left alone.
pub async fn advance(
    app: &App,
    tx: &mut PgConnection,
    only: Option<i64>,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Vec<Moved>> {
    let s = &app.settings;
    let mut moved = Vec::new();
    for p in plans::active_locked(tx, only).await? {
        if p.started_on > today {
            continue;
        }
        let installments = schedule_of(&p);
        let payments = ledger::payments_since(tx, p.account_id, p.started_on).await?;
        let progress = plan::progress(
            &installments,
            p.started_on,
            &payments,
            &s.calendar,
            s.promise_grace_days,
            today,
        );
        let already = plans::open_installment(tx, p.id)
            .await?
            .map(|(_, n)| n.max(1) as u32 - 1)
            .unwrap_or(0);
        let (kept, broken, completed) = match progress {
            Progress::OnTrack { kept } => (kept, None, false),
            Progress::Broken { n, kept } => (kept, Some(n), false),
            Progress::Completed => (installments.len() as u32, None, true),
        };
        let acc = ledger::account_by_id(tx, p.account_id).await?;
        let mut m = Moved {
            plan_id: p.id,
            account_id: p.account_id,
            count: installments.len() as u32,
            newly_kept: vec![],
            open: None,
            completed,
            broken: None,
        };
        for i in installments.iter().filter(|i| i.n > already && i.n <= kept) {
            open_row(tx, &p, i).await?;
            plans::set_installment_status(tx, p.id, i.n as i32, "kept", now).await?;
            record(
                tx,
                now,
                "installment_kept",
                &acc.code,
                format!("plan:{}:installment:{}:kept", p.id, i.n),
                json!({"plan_id": p.id, "installment": i.n, "of": installments.len(), "amount_minor": i.amount_minor, "due": i.due, "as_of": today}),
            )
            .await?;
            m.newly_kept.push(i.n);
        }
        if completed {
            plans::close(tx, p.id, "kept", None, None, now).await?;
            record(
                tx,
                now,
                "plan_kept",
                &acc.code,
                format!("plan:{}:kept", p.id),
                json!({"plan_id": p.id, "total_minor": p.total_minor, "as_of": today}),
            )
            .await?;
        } else if let Some(n) = broken {
            let missed = installments[n as usize - 1];
            open_row(tx, &p, &missed).await?;
            plans::set_installment_status(tx, p.id, n as i32, "broken", now).await?;
            // A later installment opened before a payment was reversed pauses nothing now.
            plans::drop_open_installment(tx, p.id).await?;
            plans::close(tx, p.id, "broken", None, Some(n as i32), now).await?;
            record(
                tx,
                now,
                "plan_broken",
                &acc.code,
                format!("plan:{}:broken", p.id),
                json!({"plan_id": p.id, "installment": n, "of": installments.len(), "due": missed.due, "as_of": today}),
            )
            .await?;
            tell_managers(app, tx, &p, &acc, &missed, installments.len() as u32).await?;
            m.broken = Some(n);
        } else if let Some(next) = installments.get(kept as usize) {
            open_row(tx, &p, next).await?;
            m.open = Some((next.n, next.due));
        }
        moved.push(m);
    }
    Ok(moved)
}

async fn open_row(tx: &mut PgConnection, p: &plans::Plan, i: &Installment) -> Result<()> {
    plans::open(
        tx,
        &plans::NewInstallment {
            plan: p,
            n: i.n as i32,
            cumulative_minor: i.cumulative_minor,
            due: i.due,
        },
    )
    .await?;
    Ok(())
}

/// dunbot's own action row for a transition, once per key.
async fn record(
    tx: &mut PgConnection,
    now: DateTime<Utc>,
    kind: &str,
    code: &str,
    key: String,
    details: serde_json::Value,
) -> Result<()> {
    actions::insert_if_new(
        tx,
        &actions::NewAction::by_dunbot(now, kind, Some(code.into()), details, key),
    )
    .await?;
    Ok(())
}

/// The managers' ping for a broken plan, naming the owner, with what to do next.
async fn tell_managers(
    app: &App,
    tx: &mut PgConnection,
    p: &plans::Plan,
    acc: &ledger::Account,
    missed: &Installment,
    of: u32,
) -> Result<()> {
    let cur = Currency::parse(&p.currency).unwrap_or(app.settings.default_currency);
    let owed: i64 = ledger::unpaid_invoices(tx, acc.id)
        .await?
        .iter()
        .map(|i| i.balance_minor())
        .sum();
    let owed = Money::new(owed, cur);
    let owner = acc.owner.as_deref().unwrap_or("unassigned");
    let text = format!(
        "Payment plan {} on {} ({}) is broken: installment {} of {of} ({}, due {}) was not paid. Chasing resumes on the repeat plan. Owner: {owner}; {} still owed.",
        p.id,
        acc.code,
        acc.name,
        missed.n,
        Money::new(missed.amount_minor, cur),
        missed.due,
        owed
    );
    let message = Message {
        text: text.clone(),
        blocks: vec![Block::Item {
            text: format!(
                "*Payment plan broken* on *{}* ({}): installment {} of {of} due {} was missed. Owner: *{owner}*. Still owed: {owed}.",
                acc.code, acc.name, missed.n, missed.due
            ),
            buttons: broken_plan_buttons(&acc.code, owed),
        }],
        visibility: Visibility::Channel,
        mentions: vec![Mention::Managers],
        ..Default::default()
    };
    outbox::enqueue(
        tx,
        "chat",
        &format!("plan:{}:broken:managers", p.id),
        &json!({"channel": app.settings.managers_channel, "message": message}),
    )
    .await?;
    Ok(())
}
