//! `ar hold` / `ar unhold`: stop and resume automatic reminders for an account, and
//! `ar preview`: what the automatic plan will send.
use super::{Ctx, Done, Fail, args, autoplan};
use crate::commands::Parsed;
use crate::message::Message;
use crate::refuse;
use crate::store::ledger;
use serde_json::json;
use sqlx::PgConnection;

pub async fn hold(ctx: &Ctx<'_>, tx: &mut PgConnection, p: &Parsed<'_>) -> Result<Done, Fail> {
    let acc = args::account(ctx, tx, p.get("account").unwrap_or_default(), true).await?;
    let until = match p.get("until") {
        None => None,
        Some(t) => {
            let d = args::date(t, ctx.today)?;
            if d < ctx.today {
                refuse!(
                    "{d} is in the past. Hold until a later date, e.g. `{} {} +14d`, or without a date until lifted.",
                    ctx.typed("hold"),
                    acc.code
                );
            }
            Some(d)
        }
    };
    ledger::set_hold(tx, acc.id, true, until).await?;
    let how_long = match until {
        Some(d) => format!("until {d} (inclusive)"),
        None => format!("until lifted with `{} {}`", ctx.typed("unhold"), acc.code),
    };
    let text = format!(
        "Automatic reminders for {} ({}) are on hold {how_long}. Manual `{}` still works. Put on hold by {}.",
        acc.code,
        acc.name,
        ctx.typed("remind"),
        ctx.who()
    );
    Ok(Done::new(Message::channel(text), Some(acc.code.clone()))
        .with_details(json!({"held": true, "until": until, "before": {"held": acc.held, "until": acc.hold_until}})))
}

pub async fn unhold(ctx: &Ctx<'_>, tx: &mut PgConnection, p: &Parsed<'_>) -> Result<Done, Fail> {
    let acc = args::account(ctx, tx, p.get("account").unwrap_or_default(), true).await?;
    if !acc.held || acc.hold_until.is_some_and(|u| u < ctx.today) {
        refuse!(
            "{} is not on hold; automatic reminders already run for it.",
            acc.code
        );
    }
    ledger::set_hold(tx, acc.id, false, None).await?;
    let text = format!(
        "Automatic reminders for {} ({}) resume from the next business day. Hold lifted by {}.",
        acc.code,
        acc.name,
        ctx.who()
    );
    Ok(
        Done::new(Message::channel(text), Some(acc.code.clone())).with_details(
            json!({"held": false, "before": {"held": acc.held, "until": acc.hold_until}}),
        ),
    )
}

pub async fn preview(ctx: &Ctx<'_>, tx: &mut PgConnection, p: &Parsed<'_>) -> Result<Done, Fail> {
    let s = &ctx.app.settings;
    let date = match p.get("date") {
        Some(t) => args::date(t, ctx.today)?,
        None => s.calendar.add_business_days(ctx.today, 1),
    };
    let day = date.format("%a %Y-%m-%d");
    if !s.calendar.is_business_day(date) {
        return Ok(Done::new(
            Message::ephemeral(format!(
                "{day} is not a business day: dunbot sends no automatic reminders then."
            )),
            None,
        ));
    }
    let (planned, skipped) = autoplan::plan(tx, s, date).await?;
    let mut lines = vec![format!(
        "Automatic reminders for {day}: {} to send, {} held back.",
        planned.len(),
        skipped.len()
    )];
    for r in &planned {
        let by = match r.channel {
            crate::domain::policy::Channel::Email => String::new(),
            ch => format!(", by {}", ch.key()),
        };
        lines.push(format!(
            "• {} {} — {} ({} tone{by}), {}: {}",
            r.account,
            r.name,
            r.stage.label(),
            r.tone.key(),
            r.amount,
            r.invoices.join(", ")
        ));
    }
    for k in &skipped {
        lines.push(format!(
            "• not sent: {} {} — {} due, but {}",
            k.account,
            k.name,
            k.stage.label(),
            k.reason
        ));
    }
    lines.push(
        "Calls, management calls and referrals are never automatic; the digest lists them as ready to escalate."
            .into(),
    );
    Ok(Done::new(Message::ephemeral(lines.join("\n")), None).with_details(json!({
        "date": date,
        "planned": planned.iter().map(|r| json!({"account": r.account, "stage": r.stage, "tone": r.tone})).collect::<Vec<_>>(),
        "skipped": skipped.iter().map(|k| json!({"account": k.account, "stage": k.stage, "reason": k.reason})).collect::<Vec<_>>(),
    })))
}
