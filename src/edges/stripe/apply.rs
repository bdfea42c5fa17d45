//! Stripe objects into the ledger. Each applies the object's own state, not a transition,
//! so events that arrive late or twice, and a backfill over the same objects, end the same.
use super::map::{self, Target};
use crate::app::invoice_changes::{self, Applied, ChangeActor, InvoiceChange};
use crate::app::{App, Fail};
use crate::domain::invoice_change::ChangeKind;
use crate::store::{self, actions, ledger, stripe as st};
use anyhow::{Result, anyhow};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::PgConnection;

/// What one event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventResult {
    Applied {
        notes: Vec<String>,
        paid: bool,
    },
    /// Its id was applied before: nothing written.
    AlreadyApplied,
    /// A type dunbot does not read.
    Ignored,
}

pub fn actor(channel: &str) -> ChangeActor {
    ChangeActor {
        platform: "stripe".into(),
        id: "stripe".into(),
        name: "Stripe".into(),
        channel: channel.into(),
    }
}

/// The types dunbot applies; others are answered 200 and ignored.
pub const EVENT_TYPES: &[&str] = &[
    "customer.created",
    "customer.updated",
    "invoice.finalized",
    "invoice.updated",
    "invoice.paid",
    "invoice.payment_succeeded",
    "invoice.voided",
    "invoice.marked_uncollectible",
    "credit_note.created",
    "charge.refunded",
];

/// Applies one event once: its id is the action row's idempotency key, written in the
/// transaction of its effect. Payments it records resolve promises as the CSV import does.
pub async fn apply_event(app: &App, event: &Value) -> Result<EventResult> {
    let id = event["id"]
        .as_str()
        .ok_or_else(|| anyhow!("event without an id"))?;
    let kind = event["type"].as_str().unwrap_or_default();
    if !EVENT_TYPES.contains(&kind) {
        return Ok(EventResult::Ignored);
    }
    let key = format!("stripe:{id}");
    let now = app.now();
    let mut tx = app.store.begin().await?;
    if actions::find_by_key(&mut tx, &key).await?.is_some() {
        return Ok(EventResult::AlreadyApplied);
    }
    let obj = &event["data"]["object"];
    let (notes, paid) = apply_object(app, &mut tx, kind, obj, &key, "stripe:webhook").await?;
    let subject = notes
        .first()
        .and_then(|n| n.split(' ').next())
        .map(str::to_string);
    let action = actions::NewAction {
        at: now,
        actor_platform: "stripe".into(),
        actor_id: "stripe".into(),
        actor_name: "Stripe".into(),
        channel: "stripe:webhook".into(),
        kind: format!("stripe_{}", kind.replace('.', "_")),
        subject,
        outcome: "ok",
        details: json!({"event": id, "type": kind, "object": obj["id"], "notes": notes}),
        idempotency_key: Some(key),
    };
    match actions::insert(&mut tx, &action).await {
        Ok(_) => tx.commit().await?,
        Err(e) if store::is_unique_violation(&e) => {
            // The same event, delivered twice at once, won: it is applied once.
            tx.rollback().await?;
            return Ok(EventResult::AlreadyApplied);
        }
        Err(e) => return Err(e.into()),
    }
    if paid {
        after_payments(app).await?;
    }
    Ok(EventResult::Applied { notes, paid })
}

/// Promises kept by a payment from Stripe are resolved at once, as after a CSV import.
pub async fn after_payments(app: &App) -> Result<()> {
    let now = app.now();
    crate::app::automatic::resolve_promises(app, app.settings.today(now), now).await?;
    Ok(())
}

/// Applies one Stripe object of the event type `kind` (or the list it came from) in `tx`;
/// returns notes for the log and whether a payment was recorded.
pub async fn apply_object(
    app: &App,
    tx: &mut PgConnection,
    kind: &str,
    obj: &Value,
    key: &str,
    channel: &str,
) -> Result<(Vec<String>, bool)> {
    let mut notes = Vec::new();
    let mut paid = false;
    match kind.split('.').next().unwrap_or_default() {
        "customer" => {
            let c: map::Customer = serde_json::from_value(obj.clone())?;
            if !c.deleted {
                notes.push(customer(app, tx, &c).await?);
            }
        }
        "invoice" => {
            let inv: map::Invoice = serde_json::from_value(obj.clone())?;
            paid = invoice(app, tx, &inv, key, channel, &mut notes).await?;
        }
        "credit_note" => {
            let cn: map::CreditNote = serde_json::from_value(obj.clone())?;
            credit_note(app, tx, &cn, key, channel, &mut notes).await?;
        }
        "charge" => {
            let ch: map::Charge = serde_json::from_value(obj.clone())?;
            refund(app, tx, &ch, key, channel, &mut notes).await?;
        }
        _ => {}
    }
    Ok((notes, paid))
}

async fn customer(app: &App, tx: &mut PgConnection, c: &map::Customer) -> Result<String> {
    let code = map::account_code(c);
    let name = c
        .name
        .clone()
        .or_else(|| c.email.clone())
        .unwrap_or_else(|| c.id.clone());
    let currency = match c.currency.as_deref() {
        Some(code) => map::currency(code).map_err(|e| anyhow!(e))?,
        None => app.settings.default_currency,
    };
    let linked = st::local_id(tx, &c.id).await?;
    let tz = map::time_zone(c);
    let id = st::upsert_account(
        tx,
        linked,
        &st::AccountFields {
            code: &code,
            name: &name,
            currency: currency.code(),
            time_zone: tz.as_deref(),
            email: c.email.as_deref(),
        },
    )
    .await?;
    st::link(tx, &c.id, "account", id).await?;
    Ok(format!("{code} customer {}", c.id))
}

/// The account for an invoice's customer; one is made from the invoice's own customer
/// fields when the customer has not been seen yet (its event can come later).
async fn account_for(
    app: &App,
    tx: &mut PgConnection,
    inv: &map::Invoice,
) -> Result<ledger::Account> {
    let cus = inv
        .customer_id()
        .ok_or_else(|| anyhow!("invoice {} has no customer", inv.id))?;
    if let Some(id) = st::local_id(tx, cus).await? {
        return Ok(ledger::account_by_id(tx, id).await?);
    }
    let c = map::Customer {
        id: cus.to_string(),
        name: inv.customer_name.clone(),
        email: inv.customer_email.clone(),
        currency: Some(inv.currency.clone()),
        metadata: Default::default(),
        deleted: false,
    };
    customer(app, tx, &c).await?;
    let id = st::local_id(tx, cus)
        .await?
        .ok_or_else(|| anyhow!("customer {cus} not linked"))?;
    Ok(ledger::account_by_id(tx, id).await?)
}

fn fail(e: Fail) -> anyhow::Error {
    match e {
        Fail::User(m) => anyhow!(m),
        Fail::Internal(e) => e,
    }
}

/// Applies a change; one the rules refuse is noted, not fatal (Stripe's state is the truth
/// for what it can hold; the note says what dunbot kept).
async fn change(
    app: &App,
    tx: &mut PgConnection,
    c: InvoiceChange,
    key: &str,
    channel: &str,
    now: DateTime<Utc>,
    notes: &mut Vec<String>,
) -> Result<()> {
    let sub_key = format!("{key}:{}:{}", c.number, c.kind.key());
    match invoice_changes::apply(app, tx, &c, &actor(channel), &sub_key, now).await {
        Ok(Applied::Changed { status, .. }) => {
            notes.push(format!("{} {}: now {status}", c.number, c.kind.key()))
        }
        Ok(Applied::Unchanged) => {}
        Err(Fail::User(m)) => notes.push(format!("{} not applied: {m}", c.number)),
        Err(e) => return Err(fail(e)),
    }
    Ok(())
}

async fn invoice(
    app: &App,
    tx: &mut PgConnection,
    inv: &map::Invoice,
    key: &str,
    channel: &str,
    notes: &mut Vec<String>,
) -> Result<bool> {
    let target = map::target(inv);
    let Some(number) = inv.number.as_deref().map(|n| n.trim().to_ascii_uppercase()) else {
        notes.push(format!("{} draft: not chased until finalized", inv.id));
        return Ok(false);
    };
    if target == Target::Skip {
        notes.push(format!("{number} {:?}: nothing to chase", inv.status));
        return Ok(false);
    }
    let cur = map::currency(&inv.currency).map_err(|e| anyhow!(e))?;
    let acc = account_for(app, tx, inv).await?;
    if acc.currency.trim() != cur.code() {
        notes.push(format!(
            "{number} not applied: it is in {cur} but account {} is in {}",
            acc.code, acc.currency
        ));
        return Ok(false);
    }
    let tz = app.settings.time_zone;
    let now = app.now();
    let issued = map::date(
        inv.status_transitions.finalized_at.unwrap_or(inv.created),
        tz,
    );
    let due = inv
        .due_date
        .map_or(issued, |d| map::date(d, tz))
        .max(issued);
    let existing = match st::local_id(tx, &inv.id).await? {
        Some(id) => Some(id),
        None => ledger::invoice_by_number(tx, &number).await?.map(|i| i.id),
    };
    let credited = st::credited_minor(tx, existing, &inv.id).await?;
    let amount = (map::to_minor(map::gross(inv), cur) - credited).max(0);
    let invoice_id = match existing {
        Some(id) => id,
        None => {
            let (status, reason) = match target {
                Target::AutoCharge => ("autocharge", None),
                Target::Void => ("void", Some("voided in Stripe")),
                Target::Uncollectible => ("written_off", Some("marked uncollectible in Stripe")),
                _ if amount == 0 => ("credited", Some("credited in Stripe")),
                _ => ("open", None),
            };
            let id = st::insert_invoice(
                tx,
                &st::NewInvoice {
                    account_id: acc.id,
                    number: &number,
                    issued,
                    due,
                    amount_minor: amount,
                    currency: cur.code(),
                    status,
                    closed_reason: reason,
                },
            )
            .await?
            .ok_or_else(|| anyhow!("invoice {number} appeared at the same time"))?;
            st::adopt_credit_notes(tx, id, &inv.id).await?;
            notes.push(format!("{number} recorded ({status})"));
            id
        }
    };
    st::link(tx, &inv.id, "invoice", invoice_id).await?;
    let current = ledger::invoice_by_number(tx, &number)
        .await?
        .ok_or_else(|| anyhow!("invoice {number} vanished"))?;
    // A late event with an earlier state (finalized after paid) moves nothing back.
    let late = map::rank_of_status(&current.status) > map::rank_of_target(target);
    if existing.is_some() && !late {
        if amount != current.amount_minor {
            let c = InvoiceChange {
                number: number.clone(),
                kind: ChangeKind::Amount { new_minor: amount },
                reason: Some("changed in Stripe".into()),
                reference: None,
            };
            change(app, tx, c, key, channel, now, notes).await?;
        }
        let leave = match target {
            Target::Void => Some((ChangeKind::Void, "voided in Stripe")),
            Target::Uncollectible => Some((ChangeKind::WriteOff, "marked uncollectible in Stripe")),
            _ => None,
        };
        if let Some((kind, reason)) = leave {
            let c = InvoiceChange {
                number: number.clone(),
                kind,
                reason: Some(reason.into()),
                reference: None,
            };
            change(app, tx, c, key, channel, now, notes).await?;
        }
        if target == Target::Open && current.status == "autocharge" {
            // The automatic charge failed: chase it from today.
            st::start_chasing(tx, invoice_id, app.settings.today(now)).await?;
            notes.push(format!("{number} charge failed: chased from now on"));
        }
    }
    let paid_minor = map::to_minor(inv.amount_paid, cur);
    let mut paid = false;
    if paid_minor > 0 {
        let paid_on = map::date(
            inv.status_transitions.paid_at.unwrap_or(now.timestamp()),
            tz,
        );
        let payment = st::record_paid(
            tx,
            acc.id,
            invoice_id,
            &inv.id,
            paid_on,
            paid_minor,
            cur.code(),
        )
        .await?;
        paid = payment.is_some();
        if let Some(id) = payment {
            // The team (and a referred account's agency) hears of it with the payment.
            crate::app::payment_news::after_payments(app, tx, &[id], app.settings.today(now))
                .await?;
            notes.push(format!(
                "{number} payment {} recorded",
                crate::domain::money::Money::new(paid_minor, cur)
            ));
        }
    }
    Ok(paid)
}

async fn credit_note(
    app: &App,
    tx: &mut PgConnection,
    cn: &map::CreditNote,
    key: &str,
    channel: &str,
    notes: &mut Vec<String>,
) -> Result<()> {
    let cur = map::currency(&cn.currency).map_err(|e| anyhow!(e))?;
    let minor = map::to_minor(cn.total, cur);
    let stripe_invoice =
        map::id_of(&cn.invoice).ok_or_else(|| anyhow!("credit note {} has no invoice", cn.id))?;
    let reason = cn
        .memo
        .clone()
        .or_else(|| cn.reason.clone())
        .or_else(|| cn.number.as_ref().map(|n| format!("credit note {n}")));
    let Some(invoice_id) = st::local_id(tx, stripe_invoice).await? else {
        if st::park_credit_note(tx, stripe_invoice, minor, &cn.id, reason.as_deref()).await? {
            notes.push(format!("{} waits for invoice {stripe_invoice}", cn.id));
        }
        return Ok(());
    };
    let number = st::invoice_number(tx, invoice_id).await?;
    let c = InvoiceChange {
        number,
        kind: ChangeKind::CreditNote { minor },
        reason,
        reference: Some(cn.id.clone()),
    };
    change(app, tx, c, key, channel, app.now(), notes).await
}

async fn refund(
    app: &App,
    tx: &mut PgConnection,
    ch: &map::Charge,
    key: &str,
    channel: &str,
    notes: &mut Vec<String>,
) -> Result<()> {
    let Some(stripe_invoice) = ch.invoice.as_ref().and_then(map::id_of) else {
        notes.push(format!("{} refund: no invoice on the charge", ch.id));
        return Ok(());
    };
    let Some(invoice_id) = st::local_id(tx, stripe_invoice).await? else {
        notes.push(format!(
            "{} refund: invoice {stripe_invoice} not known",
            ch.id
        ));
        return Ok(());
    };
    let cur = map::currency(&ch.currency).map_err(|e| anyhow!(e))?;
    let number = st::invoice_number(tx, invoice_id).await?;
    // `amount_refunded` is the charge's running total: the reference carries it, so each
    // further refund on the charge is one more change.
    let c = InvoiceChange {
        number,
        kind: ChangeKind::Refund {
            minor: map::to_minor(ch.amount_refunded, cur),
        },
        reason: Some(format!("refunded in Stripe (charge {})", ch.id)),
        reference: Some(format!("{}:{}", ch.id, ch.amount_refunded)),
    };
    change(app, tx, c, key, channel, app.now(), notes).await
}
