//! `ar promise`: log a promise-to-pay; chasing pauses until it is due (plus grace).
use super::{Ctx, Done, Fail, args};
use crate::commands::Parsed;
use crate::domain::money::Money;
use crate::domain::promise::deadline;
use crate::message::Message;
use crate::refuse;
use crate::store::collections;
use serde_json::json;
use sqlx::PgConnection;

pub async fn run(ctx: &Ctx<'_>, tx: &mut PgConnection, p: &Parsed<'_>) -> Result<Done, Fail> {
    let acc = args::account(ctx, tx, p.get("account").unwrap_or_default(), true).await?;
    let amount = args::amount(p.get("amount").unwrap_or_default(), &acc)?;
    let date_text = p.get("date").unwrap_or_default();
    let date = args::date(date_text, ctx.today)?;
    if date < ctx.today {
        refuse!(
            "{date} is in the past; a promise is for today or later, e.g. tomorrow, fri, +7d or {}.",
            ctx.today + chrono::Days::new(7)
        );
    }
    // A plan's installments are its promises: a loose promise beside them would pause chasing
    // on its own date and count the same payments twice.
    if let Some(plan) = crate::store::plans::live_for_account(tx, acc.id).await? {
        let state = if plan.status == "proposed" {
            "has a payment plan waiting for approval"
        } else {
            "is on a payment plan"
        };
        refuse!(
            "{} {state} ({} {} installments from {}); its installments are its promises. To agree something else, end it first with `plan cancel {} <reason>`, then log the promise or a new plan.",
            acc.code,
            plan.installments,
            plan.cadence,
            plan.first_due,
            acc.code
        );
    }
    let (balance, _) = args::balance(tx, acc.id).await?;
    if balance <= 0 {
        refuse!(
            "{} has no unpaid balance, so there is nothing to promise.",
            acc.code
        );
    }
    if amount.minor > balance {
        let bal = Money::new(balance, amount.currency);
        refuse!(
            "{amount} is more than {}'s unpaid balance of {bal}. Log at most {bal}.",
            acc.code
        );
    }
    let note = p.get("note");
    let id = collections::insert_promise(
        tx,
        &collections::NewPromise {
            account_id: acc.id,
            amount_minor: amount.minor,
            currency: amount.currency.code(),
            promised_for: date,
            logged_on: ctx.today,
            note,
            logged_by: ctx.who(),
            logged_at: ctx.now,
        },
    )
    .await?;
    let s = &ctx.app.settings;
    let until = deadline(&s.calendar, date, s.promise_grace_days);
    let text = format!(
        "Promise logged: {} ({}) will pay {amount} by {}. Chasing pauses until {until}. Logged by {}.",
        acc.code,
        acc.name,
        date.format("%a %Y-%m-%d"),
        ctx.who()
    );
    Ok(Done::new(Message::channel(text), Some(acc.code.clone()))
        .with_details(json!({"promise_id": id, "amount_minor": amount.minor, "currency": amount.currency, "promised_for": date, "note": note}))
        .resolved(format!("Promise of {amount} by {date} logged by {}", ctx.who())))
}
