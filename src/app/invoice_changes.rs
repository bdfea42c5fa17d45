//! Invoice changes a billing system sends (Stripe now, the ingest API later): amount
//! corrections, credit notes, voids, write-offs and refunds. One function applies each, in
//! the caller's transaction, with its action row; a change to a disputed invoice tells the
//! team's channel (naming the owner), one to an invoice with an agency tells the agency.
use super::{App, Fail};
use crate::domain::invoice_change::{self, ChangeKind, Current, Tell};
use crate::domain::money::{Currency, Money};
use crate::message::Message;
use crate::store::{actions, collections, invoice_changes, ledger, outbox};
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgConnection;

/// One change to one invoice.
#[derive(Debug, Clone)]
pub struct InvoiceChange {
    pub number: String,
    pub kind: ChangeKind,
    /// Why, in words: kept on the invoice when it leaves the chase.
    pub reason: Option<String>,
    /// The billing system's id for this change (a credit note's id): applied once.
    pub reference: Option<String>,
}

/// Who sent the change, as the action log records it.
#[derive(Debug, Clone)]
pub struct ChangeActor {
    pub platform: String,
    pub id: String,
    pub name: String,
    pub channel: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// Written, with the invoice's new status.
    Changed { status: String, tell: Tell },
    /// The invoice already stood so, or the reference was applied before.
    Unchanged,
}

/// Applies `change` in `tx`, recording it in the action log under `key`. A change the rules
/// refuse is a `Fail::User` naming what to send instead; nothing is written then.
pub async fn apply(
    app: &App,
    tx: &mut PgConnection,
    change: &InvoiceChange,
    actor: &ChangeActor,
    key: &str,
    now: DateTime<Utc>,
) -> Result<Applied, Fail> {
    let Some(inv) = invoice_changes::invoice_for_update(tx, &change.number).await? else {
        return Err(Fail::User(format!(
            "invoice {} is not known: send the invoice first",
            change.number.trim()
        )));
    };
    if let Some(r) = &change.reference
        && invoice_changes::seen(tx, change.kind.key(), r).await?
    {
        return Ok(Applied::Unchanged);
    }
    let cur = Current {
        amount_minor: inv.amount_minor,
        paid_minor: inv.paid_minor,
        status: &inv.status,
    };
    let effect = invoice_change::plan(&inv.number, cur, &change.kind).map_err(Fail::User)?;
    if !effect.changed {
        return Ok(Applied::Unchanged);
    }
    let amount = match change.kind {
        ChangeKind::Amount { new_minor } => Some(new_minor),
        ChangeKind::CreditNote { minor } | ChangeKind::Refund { minor } => Some(minor),
        ChangeKind::Void | ChangeKind::WriteOff => None,
    };
    invoice_changes::record(
        tx,
        &invoice_changes::NewChange {
            invoice_id: inv.id,
            kind: change.kind.key(),
            amount_minor: amount,
            before_minor: inv.amount_minor,
            status_before: &inv.status,
            status_after: &effect.status,
            reason: change.reason.as_deref(),
            reference: change.reference.as_deref(),
            actor: &actor.name,
            at: now,
        },
        effect.amount_minor,
    )
    .await?;
    let acc = ledger::account_by_id(tx, inv.account_id).await?;
    let cur = Currency::parse(&inv.currency).map_err(|e| Fail::Internal(anyhow::anyhow!("{e}")))?;
    let text = describe(
        &inv.number,
        &acc.code,
        &change.kind,
        cur,
        &effect.status,
        change.reason.as_deref(),
        &actor.name,
    );
    actions::insert(
        tx,
        &actions::NewAction {
            at: now,
            actor_platform: actor.platform.clone(),
            actor_id: actor.id.clone(),
            actor_name: actor.name.clone(),
            channel: actor.channel.clone(),
            kind: format!("invoice_{}", change.kind.key()),
            subject: Some(acc.code.clone()),
            outcome: "ok",
            details: json!({
                "invoice": inv.number, "change": change.kind, "reason": change.reason,
                "reference": change.reference, "before_minor": inv.amount_minor,
                "after_minor": effect.amount_minor, "status_before": inv.status,
                "status_after": effect.status, "told": effect.tell, "text": text,
            }),
            idempotency_key: Some(key.to_string()),
        },
    )
    .await?;
    match effect.tell {
        Tell::Nobody => {}
        Tell::Owner => {
            let owner = acc
                .owner
                .as_deref()
                .map(|o| format!(" (owner: {o})"))
                .unwrap_or_default();
            outbox::enqueue(
                tx,
                "chat",
                &format!("{key}:owner"),
                &json!({"channel": app.settings.digest_channel,
                        "message": Message::channel(format!("Disputed invoice changed{owner}: {text}"))}),
            )
            .await?;
        }
        Tell::Agency => {
            if let Some(r) = collections::active_referral(tx, acc.id).await? {
                let agency = collections::agency_by_id(tx, r.agency_id).await?;
                let event = json!({
                    "event": "invoice_changed", "account": acc.code, "customer": acc.name,
                    "invoice": inv.number, "change": change.kind.key(), "amount_minor": amount,
                    "currency": cur, "amount_before_minor": inv.amount_minor,
                    "amount_after_minor": effect.amount_minor, "status": effect.status,
                    "reason": change.reason, "by": actor.name, "at": now,
                });
                super::agency::ping_agency(tx, &agency, key, event, Message::channel(text)).await?;
            }
        }
    }
    Ok(Applied::Changed {
        status: effect.status,
        tell: effect.tell,
    })
}

/// `INV-7 (ACME-001): credit note USD 100.00 by Stripe; now open.`
fn describe(
    number: &str,
    account: &str,
    kind: &ChangeKind,
    cur: Currency,
    status: &str,
    reason: Option<&str>,
    by: &str,
) -> String {
    let m = |minor: i64| Money::new(minor, cur).format();
    let what = match *kind {
        ChangeKind::Amount { new_minor } => format!("amount corrected to {}", m(new_minor)),
        ChangeKind::CreditNote { minor } => format!("credit note {}", m(minor)),
        ChangeKind::Refund { minor } => format!("refund {}", m(minor)),
        ChangeKind::Void => "voided".to_string(),
        ChangeKind::WriteOff => "written off".to_string(),
    };
    let why = reason.map(|r| format!(" ({r})")).unwrap_or_default();
    format!(
        "{number} ({account}): {what}{why} by {by}; now {}.",
        status.replace('_', " ")
    )
}
