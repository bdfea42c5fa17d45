//! `ar confirm <invoice> received|missing|question [note]`: the customer's answer to "did you
//! receive this invoice?" (stage 2). "missing" emails the customer a copy of the invoice, in
//! the reminders' layout, through the outbox. With `DUNBOT_CONFIRM_EMAIL=on` dunbot asks the
//! customer itself, once per invoice (`ask_by_email`), instead of listing digest tasks.
use super::{App, Ctx, Done, Fail, args};
use crate::commands::Parsed;
use crate::domain::confirm_receipt::{Answer, Candidate, Threshold, due_for_confirmation};
use crate::domain::money::Money;
use crate::message::Message;
use crate::refuse;
use crate::store::{actions, confirm_receipt as store, ledger, outbox};
use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};
use sqlx::PgConnection;

pub async fn run(ctx: &Ctx<'_>, tx: &mut PgConnection, p: &Parsed<'_>) -> Result<Done, Fail> {
    let inv = args::invoice(tx, p.get("invoice").unwrap_or_default()).await?;
    let acc = ledger::account_by_id(tx, inv.account_id).await?;
    let acc = args::account(ctx, tx, &acc.code, true).await?;
    let Some(answer) = Answer::parse(p.get("answer").unwrap_or_default()) else {
        refuse!("The answer is one of received, missing or question.");
    };
    let note = p.get("note").map(str::trim).filter(|n| !n.is_empty());
    match inv.status.as_str() {
        "open" => {}
        "disputed" if answer != Answer::Missing => {}
        "disputed" => refuse!(
            "{} is disputed, so no copy was sent: the customer has it in hand. Record `{} {} received` or `question`.",
            inv.number,
            ctx.typed("confirm"),
            inv.number
        ),
        "paid" => refuse!("{} is paid; there is no receipt to confirm.", inv.number),
        "with_agency" => refuse!(
            "{} is with a collection agency; the agency deals with the customer now.",
            inv.number
        ),
        other => refuse!(
            "{} is {}; there is no receipt to confirm.",
            inv.number,
            other.replace('_', " ")
        ),
    }
    let cur = args::currency_of(&acc)?;
    let amount = Money::new(inv.amount_minor, cur);
    let mut details = json!({
        "invoice": inv.number, "account": acc.code, "answer": answer.key(), "note": note,
    });
    let mut sent = String::new();
    if answer == Answer::Missing {
        if acc.do_not_contact {
            refuse!(
                "{} ({}) is marked do-not-contact, so no copy of {} was sent. Call the owner ({}) instead; the answer was not recorded.",
                acc.code,
                acc.name,
                inv.number,
                acc.owner.as_deref().unwrap_or("unassigned")
            );
        }
        let contact = ledger::primary_contact(tx, acc.id).await?;
        let Some((email, contact_name)) = contact.and_then(|c| c.email.map(|e| (e, c.name))) else {
            refuse!(
                "{} has no contact email, so no copy of {} was sent: add one in the customers file and import it; the answer was not recorded.",
                acc.code,
                inv.number
            );
        };
        let payload = invoice_email(
            &acc,
            &inv,
            &email,
            contact_name.as_deref(),
            "copy",
            ctx.who(),
        );
        let s = &ctx.app.settings;
        let tz: Tz = acc.time_zone.parse().unwrap_or(Tz::UTC);
        let opens = s.send_window.next_opening(&s.calendar, tz, ctx.now);
        let outbox_id = outbox::enqueue_at(
            tx,
            "email",
            &format!("invoice-copy:{}", ctx.request_id),
            &payload,
            opens,
        )
        .await?;
        details["outbox_id"] = json!(outbox_id);
        details["to"] = json!(email);
        details["sends_at"] = json!(opens);
        sent = if opens > ctx.now {
            format!(
                " A copy goes to {email} when the customer's send window opens ({}).",
                opens.with_timezone(&tz).format("%a %Y-%m-%d %H:%M %Z")
            )
        } else {
            format!(" A copy is on its way to {email}.")
        };
    }
    store::set_answer(tx, inv.id, answer.key(), note, ctx.who(), ctx.now).await?;
    let said = match answer {
        Answer::Received => "received",
        Answer::Missing => "did not receive",
        Answer::Question => "has a question about",
    };
    let text = format!(
        "{} ({}) {said} {} ({amount}, due {}){}. Recorded by {}.{sent}",
        acc.code,
        acc.name,
        inv.number,
        inv.due,
        note.map(|n| format!(": {n}")).unwrap_or_default(),
        ctx.who()
    );
    Ok(Done::new(Message::channel(text), Some(inv.number.clone()))
        .with_details(details)
        .resolved(format!(
            "{}: {} — recorded by {} at {}",
            inv.number,
            answer.key(),
            ctx.who(),
            ctx.now.format("%H:%M UTC")
        )))
}

/// An `email` outbox row about one invoice, in the reminders' payload shape so the send-time
/// check (`notify::send_check`) keeps it true: `copy` (the invoice again) or `confirm_receipt`
/// (did you receive it?). A promise or hold does not stop it; do-not-contact, an agency or
/// the invoice being settled does.
fn invoice_email(
    acc: &ledger::Account,
    inv: &ledger::Invoice,
    to: &str,
    contact_name: Option<&str>,
    tone: &str,
    requested_by: &str,
) -> Value {
    json!({
        "account_id": acc.id, "account": acc.code, "customer": acc.name, "time_zone": acc.time_zone,
        "to": to, "contact_name": contact_name, "tone": tone, "currency": acc.currency.trim(),
        "invoices": [{"number": inv.number, "due": inv.due, "balance_minor": inv.balance_minor()}],
        "total_minor": inv.balance_minor(), "requested_by": requested_by,
        "only_invoice": inv.number,
        "paused_when_queued": {"promise": true, "hold": true},
        "invoice_copy": {"number": inv.number, "issued": inv.issued, "due": inv.due,
                         "amount_minor": inv.amount_minor},
    })
}

/// With `DUNBOT_CONFIRM_EMAIL=on`: queues "did you receive invoice X?" for each invoice due
/// for the question on `date`, once per invoice, in the customer's send window, never to a
/// do-not-contact account or one without an email. Each is recorded as dunbot's action about
/// the invoice, in the transaction that queues it. Returns how many were queued.
pub async fn ask_by_email(app: &App, date: NaiveDate, now: DateTime<Utc>) -> Result<u32> {
    let s = &app.settings;
    if !s.confirm.email || s.confirm.above == Threshold::Off || !s.calendar.is_business_day(date) {
        return Ok(0);
    }
    let rows = {
        let mut conn = app.store.pool.acquire().await?;
        store::unconfirmed(&mut conn, date, s.confirm.days).await?
    };
    let mut queued = 0;
    for r in rows.iter().filter(|r| !r.asked && !r.do_not_contact) {
        let c = Candidate {
            issued: r.issued,
            due: r.due,
            amount: Money::new(
                r.amount_minor,
                crate::domain::money::Currency::parse(&r.currency).unwrap_or(s.default_currency),
            ),
        };
        if !due_for_confirmation(&c, &s.confirm, &s.calendar, date) {
            continue;
        }
        let mut tx = app.store.begin().await?;
        let acc = ledger::account_by_id(&mut tx, r.account_id).await?;
        let Some(inv) = ledger::invoice_by_number(&mut tx, &r.number).await? else {
            continue;
        };
        let contact = ledger::primary_contact(&mut tx, acc.id).await?;
        let Some((email, name)) = contact.and_then(|c| c.email.map(|e| (e, c.name))) else {
            continue;
        };
        let tz: Tz = acc.time_zone.parse().unwrap_or(Tz::UTC);
        let opens = s.send_window.next_opening(&s.calendar, tz, now);
        let payload = invoice_email(
            &acc,
            &inv,
            &email,
            name.as_deref(),
            "confirm_receipt",
            "dunbot",
        );
        let key = format!("confirm-ask:{}", inv.number);
        let outbox_id = outbox::enqueue_at(&mut tx, "email", &key, &payload, opens).await?;
        if !store::record_ask(&mut tx, inv.id, outbox_id, date).await? {
            continue; // another replica asked first; the transaction is dropped
        }
        actions::insert_if_new(
            &mut tx,
            &actions::NewAction::by_dunbot(
                now,
                "confirm_asked",
                Some(inv.number.clone()),
                json!({"account": acc.code, "to": email, "outbox_id": outbox_id, "sends_at": opens, "as_of": date}),
                key,
            ),
        )
        .await?;
        tx.commit().await?;
        queued += 1;
    }
    Ok(queued)
}

/// The account card's "Receipt" lines: what the customer said about its unpaid invoices.
pub async fn card_block(
    tx: &mut PgConnection,
    account_id: i64,
) -> Result<Option<crate::message::Block>, Fail> {
    let answers = store::answers_for_account(tx, account_id).await?;
    if answers.is_empty() {
        return Ok(None);
    }
    let lines: Vec<String> = answers
        .iter()
        .map(|a| {
            format!(
                "{} {} ({} on {}){}",
                a.number,
                a.answer,
                a.answered_by,
                a.answered_at.format("%Y-%m-%d"),
                a.note
                    .as_deref()
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default()
            )
        })
        .collect();
    Ok(Some(crate::message::Block::Text {
        text: format!(
            "*Receipt* (did the customer get the invoice?)\n{}",
            lines.join("\n")
        ),
    }))
}
