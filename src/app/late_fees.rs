//! Late fees that are real: what the policy's `[late_fees]` charges on each invoice (shown in
//! the account card, the digest and the reminders), how payments cover it (`collect`, called
//! where every payment path records payments), and `ar waive`.
use super::{Ctx, Done, Fail, args};
use crate::commands::Parsed;
use crate::config::Settings;
use crate::domain::late_fee::{self, LateFeePolicy};
use crate::domain::money::Money;
use crate::message::Message;
use crate::refuse;
use crate::store::late_fees::{self, InvoiceCharges, charges_for, totals};
use crate::store::ledger;
use chrono::NaiveDate;
use serde_json::json;
use sqlx::PgConnection;
use std::collections::HashMap;

/// "INV-1042: EUR 40.00 compensation and EUR 12.34 interest at 10.15% a year from
/// 17 November 2026", one per invoice that owes any.
pub fn summary(policy: &LateFeePolicy, charges: &[InvoiceCharges]) -> Vec<String> {
    charges
        .iter()
        .filter_map(|c| {
            late_fee::describe(policy, &c.charges, c.currency).map(|t| format!("{}: {t}", c.number))
        })
        .collect()
}

/// The charges of an account's unpaid invoices, for the card and the reminders: one line per
/// invoice that owes any, and the totals per currency (both empty without a fee policy).
pub async fn account_summary(
    tx: &mut PgConnection,
    s: &Settings,
    invoices: &[ledger::Invoice],
    today: NaiveDate,
) -> Result<(Vec<String>, Vec<Money>), sqlx::Error> {
    if !s.late_fees.is_active() {
        return Ok((vec![], vec![]));
    }
    let c = charges_for(tx, &s.late_fees, invoices, today).await?;
    Ok((summary(&s.late_fees, &c), totals(&c)))
}

/// Applies payments under the fee policy: for each invoice these payments pay, what its
/// payments cover in the policy's order is recorded, and the invoice stays about principal
/// (`store::late_fees::apply`). Called in the transaction that records the payments; with no
/// fee policy it does nothing (not even a query), so imports are as fast as before.
pub async fn collect(
    s: &Settings,
    tx: &mut PgConnection,
    payment_ids: &[i64],
    today: NaiveDate,
) -> anyhow::Result<()> {
    if !s.late_fees.is_active() || payment_ids.is_empty() {
        return Ok(());
    }
    let invoices = late_fees::invoices_paid_by(tx, payment_ids).await?;
    reapply(s, tx, &invoices, today).await
}

/// Recomputes how each invoice's payments were applied (after a payment or a waiver).
async fn reapply(
    s: &Settings,
    tx: &mut PgConnection,
    invoices: &[ledger::Invoice],
    today: NaiveDate,
) -> anyhow::Result<()> {
    let ids: Vec<i64> = invoices.iter().map(|i| i.id).collect();
    let last_paid: HashMap<i64, NaiveDate> = late_fees::payments_of(tx, &ids)
        .await?
        .into_iter()
        .map(|(id, day, _)| (id, day))
        .collect();
    for inv in invoices {
        // The allocation depends only on days up to the last payment.
        let as_of = last_paid.get(&inv.id).map_or(today, |d| (*d).max(today));
        let c = charges_for(tx, &s.late_fees, std::slice::from_ref(inv), as_of).await?;
        let Some(c) = c.first() else { continue };
        let applied = late_fees::Applied {
            fees_paid: c.charges.fees_paid,
            interest_paid: c.charges.interest_paid,
            principal_paid: c.charges.principal_paid,
            paid_on: c.charges.paid_on,
        };
        late_fees::apply(tx, inv.id, applied, as_of).await?;
    }
    Ok(())
}

/// `ar waive <invoice> fee|interest|all <reason>`: managers only (declared in
/// `commands/waive.toml`). Refused, writing nothing, when the policy charges nothing, the
/// invoice owes none of that part, or it was already waived.
pub async fn waive(ctx: &Ctx<'_>, tx: &mut PgConnection, p: &Parsed<'_>) -> Result<Done, Fail> {
    let inv = args::invoice(tx, p.get("invoice").unwrap_or_default()).await?;
    let acc = ledger::account_by_id(tx, inv.account_id).await?;
    let acc = args::account(ctx, tx, &acc.code, true).await?;
    let s = &ctx.app.settings;
    let part = p.get("part").unwrap_or("all");
    let reason = p.get("reason").unwrap_or_default().trim();
    if reason.is_empty() {
        refuse!(
            "Say why it is waived, e.g. `{} {} {part} long-standing customer`.",
            ctx.typed("waive"),
            inv.number
        );
    }
    if !s.late_fees.is_active() {
        refuse!(
            "The collections policy charges no late fees or interest, so there is nothing to waive on {}.",
            inv.number
        );
    }
    let cur = args::currency_of(&acc)?;
    let charges = charges_for(tx, &s.late_fees, std::slice::from_ref(&inv), ctx.today).await?;
    let c = charges.first().map(|c| c.charges).unwrap_or_default();
    let done: Vec<String> = late_fees::waivers(tx, &[inv.id])
        .await?
        .into_iter()
        .map(|w| w.part)
        .collect();
    let wanted: &[(&str, &str)] = match part {
        "fee" => &[("fees", "late fee")],
        "interest" => &[("interest", "interest")],
        _ => &[("fees", "late fee"), ("interest", "interest")],
    };
    let mut waived = Vec::new();
    let mut already = Vec::new();
    for &(key, label) in wanted {
        if done.iter().any(|d| d == key) {
            already.push(label);
            continue;
        }
        // The whole part, collected or not: a waived part is as if never charged.
        let owed = if key == "fees" {
            c.fees_minor
        } else {
            c.interest_minor
        };
        if owed > 0 {
            waived.push((key, label, owed));
        }
    }
    if waived.is_empty() {
        if !already.is_empty() {
            refuse!(
                "The {} on {} {} already waived; nothing was changed.",
                already.join(" and "),
                inv.number,
                if already.len() > 1 { "were" } else { "was" }
            );
        }
        let what = wanted
            .iter()
            .map(|(_, l)| *l)
            .collect::<Vec<_>>()
            .join(" or ");
        refuse!(
            "{} owes no {what} as of {} under the policy; nothing to waive.",
            inv.number,
            ctx.today
        );
    }
    for (key, _, owed) in &waived {
        let w = late_fees::Waiver {
            invoice_id: inv.id,
            part: key.to_string(),
            amount_minor: *owed,
            reason: reason.to_string(),
            waived_by: ctx.who().to_string(),
            waived_on: ctx.today,
        };
        if late_fees::insert_waiver(tx, &w).await?.is_none() {
            refuse!(
                "That part of {} was waived a moment ago; nothing was changed.",
                inv.number
            );
        }
    }
    // Payments that had covered a waived part now count toward the rest.
    reapply(s, tx, std::slice::from_ref(&inv), ctx.today).await?;
    let list: Vec<String> = waived
        .iter()
        .map(|(_, label, owed)| format!("{label} of {}", Money::new(*owed, cur).format()))
        .collect();
    let text = format!(
        "Waived the {} on {} ({}): {reason}. No longer charged or demanded. Waived by {}.",
        list.join(" and "),
        inv.number,
        acc.code,
        ctx.who()
    );
    Ok(Done::new(Message::channel(text), Some(inv.number.clone())).with_details(json!({
        "invoice": inv.number, "account": acc.code, "reason": reason,
        "waived": waived.iter().map(|(k, _, owed)| json!({"part": k, "amount_minor": owed, "currency": cur.code()})).collect::<Vec<_>>(),
    })))
}
