//! `ar dispute` / `ar resolve`: a disputed invoice is on hold.
use super::{Ctx, Done, Fail, args};
use crate::commands::Parsed;
use crate::message::Message;
use crate::refuse;
use crate::store::{collections, ledger};
use serde_json::json;
use sqlx::PgConnection;

pub async fn dispute(ctx: &Ctx<'_>, tx: &mut PgConnection, p: &Parsed<'_>) -> Result<Done, Fail> {
    let inv = args::invoice(tx, p.get("invoice").unwrap_or_default()).await?;
    let acc = ledger::account_by_id(tx, inv.account_id).await?;
    let acc = args::account(ctx, tx, &acc.code, true).await?;
    let reason = p.get("reason").unwrap_or_default();
    match inv.status.as_str() {
        "open" => {}
        "disputed" => refuse!(
            "{} is already disputed. When it is settled: `{} {}`.",
            inv.number,
            ctx.typed("resolve"),
            inv.number
        ),
        other => refuse!(
            "{} is {}; only an open invoice can be disputed.",
            inv.number,
            other.replace('_', " ")
        ),
    }
    let id = collections::open_dispute(tx, inv.id, reason, ctx.who(), ctx.now).await?;
    ledger::set_invoice_status(tx, inv.id, "disputed").await?;
    let text = format!(
        "{} ({}) is disputed: {reason}. No reminders or escalation for it until resolved. Logged by {}.",
        inv.number,
        acc.code,
        ctx.who()
    );
    Ok(Done::new(Message::channel(text), Some(acc.code.clone()))
        .with_details(json!({"dispute_id": id, "invoice": inv.number, "reason": reason})))
}

pub async fn resolve(ctx: &Ctx<'_>, tx: &mut PgConnection, p: &Parsed<'_>) -> Result<Done, Fail> {
    let inv = args::invoice(tx, p.get("invoice").unwrap_or_default()).await?;
    let acc = ledger::account_by_id(tx, inv.account_id).await?;
    let acc = args::account(ctx, tx, &acc.code, true).await?;
    if inv.status != "disputed" {
        refuse!(
            "{} is not disputed (it is {}); nothing to resolve.",
            inv.number,
            inv.status.replace('_', " ")
        );
    }
    let reason = collections::close_dispute(tx, inv.id, ctx.who(), ctx.now).await?;
    let status = if inv.balance_minor() <= 0 {
        "paid"
    } else {
        "open"
    };
    ledger::set_invoice_status(tx, inv.id, status).await?;
    let note = p.get("note");
    let text = format!(
        "Dispute on {} ({}) resolved by {}{}; it is {status} again.",
        inv.number,
        acc.code,
        ctx.who(),
        note.map(|n| format!(": {n}")).unwrap_or_default()
    );
    Ok(Done::new(Message::channel(text), Some(acc.code.clone()))
        .with_details(json!({"invoice": inv.number, "was": reason, "note": note})))
}
