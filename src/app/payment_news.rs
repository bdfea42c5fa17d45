//! Payments seen in chat. When a payment reaches the ledger for an account someone is working
//! on (a live promise-to-pay, an open management-call flag, or a referral to an agency), the
//! team hears it where it works ("ACME-001 paid USD 500.00 — promise kept"), and the agency of
//! a referred account hears that its customer paid the company directly (its chat channel and
//! a signed `payment_received` webhook), so it can close the case.
//!
//! The team's channel is each channel subscribed to the digest (`dunbot subscribe`), or
//! `DUNBOT_MANAGERS_CHANNEL` while none is.
use super::App;
use crate::domain::money::{Currency, Money};
use crate::domain::promise::{self, PromiseFacts, PromiseStatus};
use crate::message::Message;
use crate::store::{actions, collections, ledger, outbox, payment_news, schedule, snapshot};
use anyhow::Result;
use chrono::NaiveDate;
use serde_json::json;
use sqlx::PgConnection;

/// Queues the news of newly recorded payments, in the caller's transaction, so the news and the
/// payments commit together. Every path that records payments calls it with the ids of the
/// payments it has just inserted (not those it found already there):
///
/// ```ignore
/// let ids: Vec<i64> = /* INSERT INTO payments ... RETURNING id */;
/// crate::app::payment_news::after_payments(app, &mut tx, &ids, today).await?;
/// tx.commit().await?;
/// ```
///
/// `today` is the business date the payments are judged on (an import's `--as-of`). A promise
/// the payments keep is marked kept here, with dunbot's action row (the same idempotency key as
/// `automatic::resolve_promises`, so it is recorded once). Idempotent by payment id: each
/// message's outbox key names the payment, so calling it again queues nothing new. Returns how
/// many messages were queued.
pub async fn after_payments(
    app: &App,
    tx: &mut PgConnection,
    payment_ids: &[i64],
    today: NaiveDate,
) -> Result<usize> {
    if payment_ids.is_empty() {
        return Ok(0);
    }
    let s = &app.settings;
    // Under a late-fee policy, what the payments cover (interest, fees, principal).
    super::late_fees::collect(s, tx, payment_ids, today).await?;
    let now = app.now();
    let paid = payment_news::payments_by_ids(tx, payment_ids).await?;
    let mut team: Vec<String> = schedule::subscriptions(tx)
        .await?
        .into_iter()
        .map(|sub| sub.channel)
        .collect();
    if team.is_empty() {
        team.push(s.managers_channel.clone());
    }
    // Each payment is told in its account's case threads, whatever else it moves.
    crate::store::case_threads::payments_received(tx, payment_ids).await?;
    let mut queued = 0;
    for (account_id, pays) in by_account(&paid) {
        let last = pays.len() - 1;
        // The account's payment plan moves with these payments in (installments kept).
        let plan = super::plan_progress::advance(app, tx, Some(account_id), today, now).await?;
        // Promises of the account, judged with these payments in.
        let mut kept = Vec::new();
        let mut pending = Vec::new();
        for p in snapshot::promises(tx, today, Some(account_id)).await? {
            // A plan's installment is the plan's news (above), not a promise's.
            if p.status != "pending" || p.logged_on > today || p.plan_id.is_some() {
                continue;
            }
            let facts = PromiseFacts {
                amount_minor: p.amount_minor,
                promised_for: p.promised_for,
                logged_on: p.logged_on,
            };
            match promise::evaluate(
                &facts,
                &p.payments(),
                &s.calendar,
                s.promise_grace_days,
                today,
            ) {
                PromiseStatus::Kept => kept.push(p),
                PromiseStatus::Pending => pending.push(p),
                PromiseStatus::Broken => {}
            }
        }
        let flag = collections::open_flag(tx, account_id).await?;
        let referral = collections::active_referral(tx, account_id).await?;
        let agency = match &referral {
            Some(r) => Some(collections::agency_by_id(tx, r.agency_id).await?),
            None => None,
        };
        if kept.is_empty()
            && pending.is_empty()
            && plan.is_empty()
            && flag.is_none()
            && agency.is_none()
        {
            continue;
        }
        for p in &kept {
            collections::set_promise_status(tx, p.id, PromiseStatus::Kept.key(), now).await?;
            actions::insert_if_new(
                tx,
                &actions::NewAction::by_dunbot(
                    now,
                    "promise_kept",
                    Some(p.code.clone()),
                    json!({"promise_id": p.id, "amount_minor": p.amount_minor, "promised_for": p.promised_for, "as_of": today, "payments": payment_ids}),
                    format!("promise:{}:kept", p.id),
                ),
            )
            .await?;
        }
        let balance: i64 = ledger::unpaid_invoices(tx, account_id)
            .await?
            .iter()
            .map(|i| i.balance_minor())
            .sum();
        for (n, pay) in pays.iter().enumerate() {
            let cur = Currency::parse(&pay.currency).unwrap_or(s.default_currency);
            let money = |minor| Money::new(minor, cur).format();
            // What the team is waiting for: the promise it keeps (said on the account's last
            // payment of the batch), the promise still open, the flag, the agency.
            let mut why = Vec::new();
            if n == last {
                why.extend(kept.iter().map(|_| "promise kept".to_string()));
                why.extend(plan.iter().filter_map(super::plan_progress::news));
            } else if !plan.is_empty() {
                why.push("toward its payment plan".into());
            }
            why.extend(pending.iter().map(|p| {
                format!(
                    "toward a promise of {} by {}",
                    money(p.amount_minor),
                    p.promised_for
                )
            }));
            if flag.is_some() {
                why.push("flagged for a management call".into());
            }
            if let Some(a) = &agency {
                why.push(format!("with {}; paid to us directly", a.name));
            }
            let text = format!(
                "{} paid {} — {}",
                pay.code,
                money(pay.amount_minor),
                why.join("; ")
            );
            for channel in &team {
                let key = format!("payment:{}:team:{channel}", pay.id);
                let payload =
                    json!({"channel": channel, "message": Message::channel(text.clone())});
                queued += usize::from(outbox::enqueue(tx, "chat", &key, &payload).await?.is_some());
            }
            if let Some(a) = &agency {
                let line = format!(
                    "{} ({}) paid {} directly to us{} on {} (reference {}); balance now {}. Close the case if nothing is left.",
                    pay.code,
                    pay.name,
                    money(pay.amount_minor),
                    pay.invoice
                        .as_ref()
                        .map(|i| format!(" for {i}"))
                        .unwrap_or_default(),
                    pay.paid_on,
                    pay.reference,
                    money(balance)
                );
                if let Some(channel) = &a.channel {
                    let payload = json!({"channel": channel, "message": Message::channel(line)});
                    let key = format!("payment:{}:agency:chat", pay.id);
                    queued +=
                        usize::from(outbox::enqueue(tx, "chat", &key, &payload).await?.is_some());
                }
                if a.webhook_url.is_some() {
                    let event = json!({
                        "event": "payment_received", "payment_id": pay.id, "account": pay.code,
                        "customer": pay.name, "invoice": pay.invoice, "amount_minor": pay.amount_minor,
                        "currency": pay.currency, "paid_on": pay.paid_on, "reference": pay.reference,
                        "balance_minor": balance, "at": now,
                    });
                    let key = format!("payment:{}:agency:webhook", pay.id);
                    let payload = json!({"agency_id": a.id, "body": event});
                    queued += usize::from(
                        outbox::enqueue(tx, "webhook", &key, &payload)
                            .await?
                            .is_some(),
                    );
                }
            }
        }
    }
    Ok(queued)
}

/// The payments grouped by account, in the order they came (sorted by account).
fn by_account(paid: &[payment_news::Paid]) -> Vec<(i64, Vec<&payment_news::Paid>)> {
    let mut out: Vec<(i64, Vec<&payment_news::Paid>)> = Vec::new();
    for p in paid {
        match out.last_mut() {
            Some((id, list)) if *id == p.account_id => list.push(p),
            _ => out.push((p.account_id, vec![p])),
        }
    }
    out
}
