//! `ar remind`: queue a reminder email to the customer's contact.
use super::Platform;
use super::{Ctx, Done, Fail, args};
use crate::commands::Parsed;
use crate::digest::promise_pause;
use crate::domain::dates::{days_ago, days_since};
use crate::domain::money::Money;
use crate::domain::policy::Pause;
use crate::domain::policy::Stage;
use crate::domain::reminder::{NoReminder, ReminderFacts, reminder_refusal};
use crate::message::Message;
use crate::refuse;
use crate::store::{collections, ledger, outbox, snapshot};
use chrono_tz::Tz;
use serde_json::json;
use sqlx::PgConnection;

pub async fn run(ctx: &Ctx<'_>, tx: &mut PgConnection, p: &Parsed<'_>) -> Result<Done, Fail> {
    let target = p.get("target").unwrap_or_default();
    let tone = p.get("tone").unwrap_or("friendly");
    // An account code first; otherwise an invoice number.
    let (acc, only_invoice) = match ledger::account_by_code(tx, target, false).await? {
        Some(_) => (args::account(ctx, tx, target, true).await?, None),
        None => match ledger::invoice_by_number(tx, target).await? {
            Some(inv) => {
                let acc = ledger::account_by_id(tx, inv.account_id).await?;
                (args::account(ctx, tx, &acc.code, true).await?, Some(inv))
            }
            None => {
                args::account(ctx, tx, target, false).await?;
                refuse!("There is no account or invoice `{target}`.");
            }
        },
    };
    let (_, unpaid) = args::balance(tx, acc.id).await?;
    let invoices: Vec<ledger::Invoice> = match &only_invoice {
        Some(inv) => match inv.status.as_str() {
            "disputed" => refuse!(
                "{} is disputed, so no reminder was queued. Resolve it first: `{} {}`.",
                inv.number,
                ctx.typed("resolve"),
                inv.number
            ),
            "open" | "with_agency" => vec![inv.clone()],
            other => refuse!(
                "{} is {}; there is nothing to remind about.",
                inv.number,
                other.replace('_', " ")
            ),
        },
        None => unpaid
            .iter()
            .filter(|i| i.status == "open")
            .cloned()
            .collect(),
    };
    let s = &ctx.app.settings;
    let promises = snapshot::promises(tx, ctx.today, Some(acc.id)).await?;
    let last = collections::last_reminder_at(tx, acc.id).await?;
    // The rule the digest's "Send reminder" button follows too.
    let facts = ReminderFacts {
        do_not_contact: acc.do_not_contact,
        with_agency: collections::active_referral(tx, acc.id).await?.is_some(),
        open_invoices: invoices.iter().any(|i| i.status == "open"),
        disputed_invoices: unpaid.iter().any(|i| i.status == "disputed"),
        promised_until: match promise_pause(&promises.iter().collect::<Vec<_>>(), s, ctx.today) {
            Some(Pause::Promise { until }) => Some(until),
            _ => None,
        },
        days_since_last: last.map(|at| days_since(at, ctx.today, s.time_zone)),
    };
    let by = p
        .get("channel")
        .filter(|c| *c != "email")
        .map(|c| format!(" {c}"))
        .unwrap_or_default();
    let force = format!("`{} {target} {tone}{by} --force`", ctx.typed("remind"));
    match reminder_refusal(&facts, s.reminder_cooldown_days, p.flag("force")) {
        None => {}
        Some(NoReminder::DoNotContact) => refuse!(
            "{} ({}) is marked do-not-contact, so no reminder was queued. Call the owner ({}) instead.",
            acc.code,
            acc.name,
            acc.owner.as_deref().unwrap_or("unassigned")
        ),
        Some(NoReminder::WithAgency) => refuse!(
            "{} is with a collection agency now; the agency chases it, not us.",
            acc.code
        ),
        Some(NoReminder::AllDisputed) => refuse!(
            "Every unpaid invoice of {} is disputed, so no reminder was queued.",
            acc.code
        ),
        Some(NoReminder::NothingOpen) => {
            refuse!("{} has no open invoices to remind about.", acc.code)
        }
        Some(NoReminder::Promised { until }) => refuse!(
            "{} {}, so chasing is paused until {until}; no reminder was queued. To send one anyway: {force}.",
            acc.code,
            if promises
                .iter()
                .any(|p| p.plan_id.is_some() && p.status == "pending")
            {
                "is on a payment plan"
            } else {
                "has promised to pay"
            }
        ),
        Some(NoReminder::TooSoon { days_ago: days }) => refuse!(
            "A reminder went to {} on {} ({}). To send another anyway: {force}.",
            acc.code,
            last.map(|l| l.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default(),
            days_ago(days)
        ),
    }
    // By text (`sms`): the text's own checks (phone, consent) and its own reply.
    let channel = p.get("channel").unwrap_or("email");
    if channel == "sms" {
        let r = super::texts::Reminder {
            acc: &acc,
            invoices: &invoices,
            only_invoice: only_invoice.as_ref(),
            tone,
            promised: facts.promised_until.is_some(),
            stage: automatic_stage(ctx),
        };
        return super::texts::remind(ctx, tx, &r).await;
    }
    let Some(contact) = ledger::primary_contact(tx, acc.id).await? else {
        refuse!(
            "{} has no contact on file; add an email in the customers file and import it.",
            acc.code
        );
    };
    let Some(email) = contact.email.clone() else {
        refuse!(
            "{}'s contact has no email address; add one in the customers file and import it.",
            acc.code
        );
    };
    let cur = args::currency_of(&acc)?;
    let total: i64 = invoices.iter().map(|i| i.balance_minor()).sum();
    let (fees, _) =
        super::late_fees::account_summary(tx, &ctx.app.settings, &invoices, ctx.today).await?;
    let payload = json!({
        "late_fees": (!fees.is_empty()).then(|| fees.join("; ")),
        "account_id": acc.id, "account": acc.code, "customer": acc.name, "time_zone": acc.time_zone,
        "to": email, "contact_name": contact.name, "tone": tone, "currency": cur.code(),
        "invoices": invoices.iter().map(|i| json!({"number": i.number, "due": i.due, "balance_minor": i.balance_minor()})).collect::<Vec<_>>(),
        "total_minor": total, "requested_by": ctx.who(),
        // For the send-time check (`notify::send_check`): the scope, and what a person already
        // chose to remind through, so only what changes after queueing stops the reminder.
        "only_invoice": only_invoice.as_ref().map(|i| &i.number),
        "paused_when_queued": {
            "promise": facts.promised_until.is_some(),
            "hold": acc.held && acc.hold_until.is_none_or(|u| u >= ctx.today),
        },
    });
    // Outside the customer's send window the row waits for its next opening.
    let tz: Tz = acc.time_zone.parse().unwrap_or(Tz::UTC);
    let opens = s.send_window.next_opening(&s.calendar, tz, ctx.now);
    let outbox_id = outbox::enqueue_at(
        tx,
        "email",
        &format!("reminder:{}", ctx.request_id),
        &payload,
        opens,
    )
    .await?;
    let stage = automatic_stage(ctx);
    let reminder = collections::NewReminder {
        account_id: acc.id,
        invoice_id: only_invoice.as_ref().map(|i| i.id),
        tone,
        stage: stage.map(|st| st.key()),
        queued_by: ctx.who(),
        queued_at: ctx.now,
        outbox_id,
    };
    collections::insert_reminder(tx, &reminder).await?;
    let amount = Money::new(total, cur);
    let what = match &only_invoice {
        Some(i) => format!("invoice {}", i.number),
        None => format!(
            "{} open invoice{}",
            invoices.len(),
            if invoices.len() == 1 { "" } else { "s" }
        ),
    };
    let when = crate::domain::send_window::when_it_goes(
        ctx.app.settings.mail_configured,
        "email is set up (SMTP_URL and DUNBOT_MAIL_FROM); until then it waits in the outbox",
        ctx.now,
        opens,
        tz,
    );
    // `both`: the text too, after the same checks and its own (a refusal undoes the email),
    // with its own reminders row so history and the response per channel count it.
    let text_part = match channel {
        "both" => Some(super::texts::queue(ctx, tx, &acc, &payload).await?),
        _ => None,
    };
    if let Some(q) = &text_part {
        collections::insert_reminder(
            tx,
            &collections::NewReminder {
                outbox_id: q.outbox_id,
                ..reminder
            },
        )
        .await?;
    }
    let mut text = format!(
        "{} reminder queued to {email} for {} ({}): {what}, {amount}. Requested by {}. {}",
        capitalise(tone),
        acc.code,
        acc.name,
        ctx.who(),
        capitalise(&when)
    );
    if let Some(q) = &text_part {
        text.push_str(&format!(" A text to {} is queued too: {}", q.phone, q.when));
    }
    Ok(
        Done::new(Message::channel(text.clone()), Some(acc.code.clone()))
            .with_details(
                json!({"tone": tone, "to": email, "total_minor": total, "outbox_id": outbox_id, "sends_at": opens, "stage": stage,
                    "sms": text_part.as_ref().map(|q| json!({"to": q.phone, "outbox_id": q.outbox_id, "sends_at": q.sends_at}))}),
            )
            // The email is only queued here (the outbox worker sends it), so the line says so.
            .resolved(format!(
                "{} reminder queued by {} at {}: {when}",
                capitalise(tone),
                ctx.who(),
                ctx.now.format("%H:%M UTC")
            )),
    )
}

/// When a queued reminder leaves: within moments, at the next opening of the customer's send
/// window, or once a replica has email configured.
/// The policy stage when dunbot itself queued the reminder: the automatic plan's request ids
/// are `auto:<account>:<stage>:<date>` (see `automatic::plan`).
fn automatic_stage(ctx: &Ctx<'_>) -> Option<Stage> {
    if ctx.actor.platform != Platform::System {
        return None;
    }
    let mut parts = ctx.request_id.strip_prefix("auto:")?.rsplitn(3, ':');
    let _date = parts.next()?;
    Stage::parse(parts.next()?)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}
