//! Steps dunbot takes by itself, recorded as actions by `dunbot`: promises (and payment plans'
//! installments, see `plan_progress`) turning kept or broken from payments. Safe to run from
//! several replicas (rows are claimed with SKIP LOCKED, and each transition's action row has
//! its own idempotency key).
use super::App;
use crate::domain::promise::{self, PromiseFacts, PromiseStatus};
use crate::store::{actions, collections, ledger};
use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

/// Resolves pending promises as of `today`; returns `(kept, broken)`.
pub async fn resolve_promises(
    app: &App,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(u32, u32)> {
    let s = &app.settings;
    let mut tx = app.store.begin().await?;
    let pending = collections::pending_promises_locked(&mut tx).await?;
    let (mut kept, mut broken) = (0, 0);
    for p in pending {
        let payments = ledger::payments_since(&mut tx, p.account_id, p.logged_on).await?;
        let facts = PromiseFacts {
            amount_minor: p.amount_minor,
            promised_for: p.promised_for,
            logged_on: p.logged_on,
        };
        let status = promise::evaluate(&facts, &payments, &s.calendar, s.promise_grace_days, today);
        if status == PromiseStatus::Pending {
            continue;
        }
        collections::set_promise_status(&mut tx, p.id, status.key(), now).await?;
        let acc = ledger::account_by_id(&mut tx, p.account_id).await?;
        actions::insert_if_new(
            &mut tx,
            &actions::NewAction::by_dunbot(
                now,
                format!("promise_{}", status.key()),
                Some(acc.code.clone()),
                json!({"promise_id": p.id, "amount_minor": p.amount_minor, "promised_for": p.promised_for, "as_of": today}),
                format!("promise:{}:{}", p.id, status.key()),
            ),
        )
        .await?;
        if status == PromiseStatus::Kept {
            kept += 1
        } else {
            broken += 1
        }
    }
    // Payment plans' installments, resolved by the same rule in their own home.
    let moved = super::plan_progress::advance(app, &mut tx, None, today, now).await?;
    tx.commit().await?;
    for m in moved.iter().filter(|m| m.broken.is_some() || m.completed) {
        tracing::info!(plan = m.plan_id, broken = ?m.broken, completed = m.completed, "payment plan resolved");
    }
    Ok((kept, broken))
}
