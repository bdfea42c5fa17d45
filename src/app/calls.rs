//! `ar call` and `ar note`: what was said to the customer, recorded with who and when.
//! A call may lead somewhere: `promised` offers the promise form, `call back <date>` lists
//! the account in that day's digest, `wrong number` marks the phone for checking.
use super::{Ctx, Done, Fail, args};
use crate::commands::Parsed;
use crate::domain::call::{CallOutcome, check_note_length, parse_call, valid_outcomes};
use crate::domain::money::Money;
use crate::message::forms::button;
use crate::message::{Block, ButtonStyle, Message, Visibility};
use crate::refuse;
use crate::store::calls;
use serde_json::json;
use sqlx::PgConnection;

pub async fn call(ctx: &Ctx<'_>, tx: &mut PgConnection, p: &Parsed<'_>) -> Result<Done, Fail> {
    let acc = args::account(ctx, tx, p.get("account").unwrap_or_default(), true).await?;
    // The parser binds words by position; the outcome may take several ("no answer",
    // "call back fri"), so the words after the account are read again as one line.
    let typed: Vec<&str> = ["outcome", "date", "note"]
        .iter()
        .filter_map(|o| p.get(o))
        .collect();
    let c = parse_call(&typed.join(" "), ctx.today).map_err(|e| {
        Fail::User(format!(
            "{e}\nUsage: `{} {} <outcome> [note]`, outcomes: {}.",
            ctx.typed("call"),
            acc.code,
            valid_outcomes()
        ))
    })?;
    let contacts = calls::contacts(tx, acc.id).await?;
    let contact = contacts.first();
    let id = calls::insert_call(
        tx,
        &calls::NewCall {
            account_id: acc.id,
            contact_id: contact.map(|c| c.id),
            outcome: c.outcome.key(),
            callback_on: c.callback_on,
            note: c.note.as_deref(),
            called_by: ctx.who(),
            called_at: ctx.now,
        },
    )
    .await?;
    let mut after = Vec::new();
    let mut phone_check = None;
    if let Some(ct) = contact {
        if c.outcome == CallOutcome::WrongNumber {
            calls::set_phone_check(tx, ct.id, true).await?;
            phone_check = Some(true);
            after.push(format!(
                "The phone number{} is marked for checking: nothing will text or call it until it is corrected (import the customer with the right phone) or a call reaches them on it.",
                ct.phone.as_deref().map(|p| format!(" {p}")).unwrap_or_default()
            ));
        } else if c.outcome.reached_someone() && ct.phone_check_needed {
            calls::set_phone_check(tx, ct.id, false).await?;
            phone_check = Some(false);
            after.push("The phone number works: its mark for checking is lifted.".into());
        }
    }
    let mut blocks = Vec::new();
    let mut headline = format!(
        "Call to {} ({}) logged by {}: {}",
        acc.code,
        acc.name,
        ctx.who(),
        c.outcome.label()
    );
    if let Some(on) = c.callback_on {
        headline.push_str(&format!(" on {}", on.format("%a %Y-%m-%d")));
        after.push(format!(
            "{} will be in the digest of {on} as a call back due.",
            acc.code
        ));
    }
    if let Some(n) = &c.note {
        headline.push_str(&format!(" — {n}"));
    }
    blocks.push(Block::Text {
        text: headline.clone(),
    });
    if c.outcome == CallOutcome::Promised {
        // The promise itself is its own command (amount and date, checked against the
        // balance): offer its form, the whole balance filled in as one choice.
        let (balance, _) = args::balance(tx, acc.id).await?;
        let cur = args::currency_of(&acc)?;
        if balance > 0 {
            let bal = Money::new(balance, cur);
            after.push(format!(
                "Log the promise: `{} {} <amount> <date>`, e.g. `{} {} {} fri`.",
                ctx.typed("promise"),
                acc.code,
                ctx.typed("promise"),
                acc.code,
                bal.plain()
            ));
            blocks.push(Block::Item {
                text: format!("Log what {} promised (balance {bal}).", acc.name),
                buttons: vec![
                    button(
                        &format!("Promise {bal}"),
                        &format!("promise {} {}", acc.code, bal.plain()),
                        ButtonStyle::Primary,
                    ),
                    button(
                        "Promise another amount",
                        &format!("promise {}", acc.code),
                        ButtonStyle::Default,
                    ),
                ],
            });
        } else {
            after.push(format!(
                "{} has no unpaid balance, so there is no promise to log.",
                acc.code
            ));
        }
    }
    if c.outcome == CallOutcome::Disputed {
        after.push(format!(
            "Put the invoice on hold with `{} <invoice> <reason>`.",
            ctx.typed("dispute")
        ));
    }
    if !after.is_empty() {
        blocks.push(Block::Context {
            text: after.join(" "),
        });
    }
    let text = std::iter::once(headline)
        .chain(after)
        .collect::<Vec<_>>()
        .join("\n");
    let reply = Message {
        text,
        blocks,
        visibility: Visibility::Channel,
        ..Default::default()
    };
    Ok(
        Done::new(reply, Some(acc.code.clone())).with_details(json!({
            "call_id": id, "outcome": c.outcome.key(), "callback_on": c.callback_on,
            "note": c.note, "contact_id": contact.map(|c| c.id), "phone_check_needed": phone_check,
        })),
    )
}

pub async fn note(ctx: &Ctx<'_>, tx: &mut PgConnection, p: &Parsed<'_>) -> Result<Done, Fail> {
    let acc = args::account(ctx, tx, p.get("account").unwrap_or_default(), true).await?;
    let body = p.get("text").unwrap_or_default().trim();
    if body.is_empty() {
        refuse!(
            "The note is empty. Write it after the account, e.g. `{} {} CFO is Jane Roe, prefers email`.",
            ctx.typed("note"),
            acc.code
        );
    }
    check_note_length(body).map_err(Fail::User)?;
    let id = calls::insert_note(tx, acc.id, body, ctx.who(), ctx.now).await?;
    let text = format!(
        "Note on {} ({}) by {}: {body}",
        acc.code,
        acc.name,
        ctx.who()
    );
    Ok(Done::new(Message::channel(text), Some(acc.code.clone()))
        .with_details(json!({"note_id": id, "text": body})))
}

/// The account card's part: a phone marked for checking, the pending call-back, the last
/// call, and the Log call and History buttons.
pub async fn card_blocks(
    tx: &mut PgConnection,
    acc: &crate::store::ledger::Account,
    today: chrono::NaiveDate,
    tz: chrono_tz::Tz,
) -> Result<Vec<Block>, Fail> {
    let mut lines = Vec::new();
    if let Some(ct) = calls::contacts(tx, acc.id)
        .await?
        .into_iter()
        .find(|c| c.is_primary && c.phone_check_needed)
    {
        lines.push(format!(
            "*Phone needs checking*: {} was reported as a wrong number; it is not called or texted until corrected.",
            ct.phone.as_deref().unwrap_or("the number")
        ));
    }
    if let Some(cb) = calls::pending_callback(tx, acc.id, today).await? {
        lines.push(format!(
            "*Call back* on {} (agreed by {})",
            cb.callback_on.format("%a %Y-%m-%d"),
            cb.called_by
        ));
    }
    if let Some(e) = calls::last_call(tx, acc.id).await? {
        lines.push(format!(
            "Last call: {}",
            crate::domain::timeline::line(&e, tz)
        ));
    }
    let mut blocks = Vec::new();
    if !lines.is_empty() {
        blocks.push(Block::Text {
            text: lines.join("\n"),
        });
    }
    blocks.push(Block::Item {
        text: "Calls and timeline".into(),
        buttons: vec![
            crate::digest::log_call_button(&acc.code),
            button(
                "History",
                &format!("history {}", acc.code),
                ButtonStyle::Default,
            ),
        ],
    });
    Ok(blocks)
}
