//! Reminder texts: `ar contact <account> sms on|off` (consent), the text `ar remind … sms`
//! queues, and what Twilio tells us back — a customer's STOP or START, and each text's
//! delivery status — each recorded as an action about the account, so its timeline shows it.
//!
//! Consent first: a text is queued only to an account whose primary contact has a phone in
//! E.164 form, with consent recorded for that number, not do-not-contact; the deliverer checks
//! consent again when it sends (`notify::sms`).
use super::{App, Ctx, Done, Fail, args};
use crate::commands::Parsed;
use crate::domain::sms::{self, Opt};
use crate::message::Message;
use crate::refuse;
use crate::store::{actions, ledger, outbox, sms as store};
use anyhow::Result;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};
use sqlx::PgConnection;

/// Who consent changes are recorded as when the customer texts a keyword.
pub const CUSTOMER_VIA_TWILIO: &str = "customer via Twilio";

/// The primary contact's phone in E.164 form, or a refusal that says how to fix it.
async fn phone_of(
    ctx: &Ctx<'_>,
    tx: &mut PgConnection,
    acc: &ledger::Account,
) -> Result<String, Fail> {
    let primary = crate::store::calls::contacts(tx, acc.id)
        .await?
        .into_iter()
        .next()
        .filter(|c| c.phone.as_deref().is_some_and(|p| !p.trim().is_empty()));
    if let Some(c) = primary.as_ref().filter(|c| c.phone_check_needed) {
        refuse!(
            "{}'s phone {} was logged as a wrong number: import the right number (or log a call that reaches the customer) before texting it. Nothing was changed.",
            acc.code,
            c.phone.as_deref().unwrap_or_default()
        );
    }
    let phone = primary.and_then(|c| c.phone);
    let Some(phone) = phone else {
        refuse!(
            "{} has no phone number on file, so it cannot get texts. Add one in E.164 form (e.g. +15558675310) in the customers file (column `phone`) and import it. Nothing was changed.",
            acc.code
        );
    };
    match sms::e164(&phone) {
        Ok(p) => Ok(p),
        Err(e) => refuse!(
            "{}'s phone {e}. Fix it in the customers file and import it again; nothing was changed. (`{} {}` shows the contact.)",
            acc.code,
            ctx.typed("account"),
            acc.code
        ),
    }
}

/// `ar contact <account> sms on|off`: records (or withdraws) the customer's consent to texts
/// for the primary contact's phone.
pub async fn contact(ctx: &Ctx<'_>, tx: &mut PgConnection, p: &Parsed<'_>) -> Result<Done, Fail> {
    let acc = args::account(ctx, tx, p.get("account").unwrap_or_default(), true).await?;
    let on = p.get("state") == Some("on");
    if on && acc.do_not_contact {
        refuse!(
            "{} ({}) is marked do-not-contact, so it gets no texts whatever its consent; nothing was changed. Call the owner ({}) instead.",
            acc.code,
            acc.name,
            acc.owner.as_deref().unwrap_or("unassigned")
        );
    }
    let phone = phone_of(ctx, tx, &acc).await?;
    let before = store::consent(tx, acc.id, &phone).await?;
    store::set_consent(tx, acc.id, &phone, on, false, ctx.who(), ctx.now).await?;
    let text = if on {
        format!(
            "Texts to {} ({}) at {phone} are on: consent recorded by {}. Send one with `{} {} sms`; a customer can always reply STOP.",
            acc.code,
            acc.name,
            ctx.who(),
            ctx.typed("remind"),
            acc.code
        )
    } else {
        format!(
            "Texts to {} ({}) at {phone} are off: consent withdrawn by {}. Texts already queued will not be sent.",
            acc.code,
            acc.name,
            ctx.who()
        )
    };
    Ok(
        Done::new(Message::channel(text), Some(acc.code.clone())).with_details(json!({
            "channel": "sms", "phone": phone, "consent": on,
            "before": before.map(|b| json!({"consent": b.consent, "stopped": b.stopped})),
        })),
    )
}

/// A text queued by `ar remind … sms`.
pub struct Queued {
    pub outbox_id: Option<i64>,
    pub phone: String,
    pub sends_at: DateTime<Utc>,
    /// "it goes out in a moment." and the like.
    pub when: String,
}

/// Queues a reminder text with `payload` (the email reminder's, whose `to` becomes the phone)
/// after the consent rules; refuses, changing nothing, when the customer may not be texted.
pub async fn queue(
    ctx: &Ctx<'_>,
    tx: &mut PgConnection,
    acc: &ledger::Account,
    payload: &Value,
) -> Result<Queued, Fail> {
    if acc.do_not_contact {
        refuse!(
            "{} ({}) is marked do-not-contact, so no text was queued.",
            acc.code,
            acc.name
        );
    }
    let phone = phone_of(ctx, tx, acc).await?;
    match store::consent(tx, acc.id, &phone).await? {
        Some(c) if c.consent => {}
        Some(c) if c.stopped => refuse!(
            "{} texted STOP to opt out of texts at {phone} ({}), so no text was queued. Only the customer's START, or their consent given to you and recorded with `{} {} sms on`, turns texts back on.",
            acc.code,
            c.changed_at.format("%Y-%m-%d"),
            ctx.typed("contact"),
            acc.code
        ),
        _ => refuse!(
            "{} has not consented to texts at {phone}, so no text was queued. Once they agree, record it with `{} {} sms on` (or `sms_consent` yes in the customers file), or send an email: `{} {}`.",
            acc.code,
            ctx.typed("contact"),
            acc.code,
            ctx.typed("remind"),
            acc.code
        ),
    }
    let mut payload = payload.clone();
    payload["to"] = json!(phone);
    payload["channel"] = json!("sms");
    let s = &ctx.app.settings;
    let tz: Tz = acc.time_zone.parse().unwrap_or(Tz::UTC);
    let opens = s.send_window.next_opening(&s.calendar, tz, ctx.now);
    let outbox_id = outbox::enqueue_at(
        tx,
        "sms",
        &format!("text:{}", ctx.request_id),
        &payload,
        opens,
    )
    .await?;
    Ok(Queued {
        outbox_id,
        phone,
        sends_at: opens,
        when: crate::domain::send_window::when_it_goes(
            ctx.app.settings.sms_configured,
            "Twilio is set up (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM); until then it waits in the outbox",
            ctx.now,
            opens,
            tz,
        ),
    })
}

/// An inbound text from `from` (E.164). A keyword (STOP, START, …) turns consent off or on for
/// every account with that number; any text from a known number is recorded on its accounts'
/// timelines. Returns the accounts it concerned. Acts once per Twilio message sid.
pub async fn inbound(
    app: &App,
    from: &str,
    body: &str,
    message_sid: &str,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    let Ok(phone) = sms::e164(from) else {
        return Ok(vec![]);
    };
    let opt = sms::keyword(body);
    let mut tx = app.store.begin().await?;
    let accounts = store::accounts_by_phone(&mut tx, &phone).await?;
    let mut touched = Vec::new();
    for (account_id, code) in accounts {
        let key = format!("twilio:{message_sid}:{code}");
        if actions::find_by_key(&mut tx, &key).await?.is_some() {
            continue; // Twilio retried the webhook: this message already acted.
        }
        let before = store::consent(&mut tx, account_id, &phone).await?;
        let kind = match opt {
            Some(Opt::Out) => {
                store::set_consent(
                    &mut tx,
                    account_id,
                    &phone,
                    false,
                    true,
                    CUSTOMER_VIA_TWILIO,
                    now,
                )
                .await?;
                "sms_opt_out"
            }
            Some(Opt::In) => {
                store::set_consent(
                    &mut tx,
                    account_id,
                    &phone,
                    true,
                    false,
                    CUSTOMER_VIA_TWILIO,
                    now,
                )
                .await?;
                "sms_opt_in"
            }
            None => "sms_received",
        };
        actions::insert(
            &mut tx,
            &actions::NewAction {
                at: now,
                actor_platform: "twilio".into(),
                actor_id: phone.clone(),
                actor_name: CUSTOMER_VIA_TWILIO.into(),
                channel: "twilio:sms".into(),
                kind: kind.into(),
                subject: Some(code.clone()),
                outcome: "ok",
                details: json!({
                    "from": phone, "message_sid": message_sid,
                    "body": body.chars().take(500).collect::<String>(),
                    "before": before.map(|b| json!({"consent": b.consent, "stopped": b.stopped})),
                }),
                idempotency_key: Some(key),
            },
        )
        .await?;
        touched.push(code);
    }
    tx.commit().await?;
    Ok(touched)
}

/// A status callback: Twilio's `MessageStatus` for the text with `MessageSid`. Kept on the
/// outbox row; a final one (delivered, undelivered, failed) is also recorded as an action
/// about the account (`text_delivered`, …), once. `false` when no text has that sid.
pub async fn delivery_status(
    app: &App,
    message_sid: &str,
    status: &str,
    error_code: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let status = status.trim().to_ascii_lowercase();
    let mut tx = app.store.begin().await?;
    let Some(sent) = store::record_status(&mut tx, message_sid, &status).await? else {
        tx.rollback().await?;
        return Ok(false);
    };
    if matches!(status.as_str(), "delivered" | "undelivered" | "failed") {
        actions::insert_if_new(
            &mut tx,
            &actions::NewAction {
                at: now,
                actor_platform: "twilio".into(),
                actor_id: "twilio".into(),
                actor_name: "Twilio".into(),
                channel: "twilio:status".into(),
                kind: format!("text_{status}"),
                subject: sent.account.clone(),
                outcome: "ok",
                details: json!({
                    "outbox_id": sent.outbox_id, "message_sid": message_sid, "to": sent.to,
                    "status": status, "error_code": error_code,
                }),
                idempotency_key: Some(format!("twilio-status:{message_sid}:{status}")),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// The account card's line about texts: the number, consent, and the texts sent.
pub async fn card_line(
    tx: &mut PgConnection,
    acc: &ledger::Account,
    phone: Option<&str>,
) -> Result<Option<String>, sqlx::Error> {
    let (texts, total) = store::texts_for_account(tx, acc.id, 1).await?;
    let Some(raw) = phone.filter(|p| !p.trim().is_empty()) else {
        return Ok((total > 0).then(|| {
            format!(
                "no phone on file now; {} before",
                crate::domain::dates::count_of(total as usize, "text", "texts")
            )
        }));
    };
    let consent = match sms::e164(raw) {
        Err(_) => "phone not in E.164 form: no texts".to_string(),
        Ok(p) => match store::consent(tx, acc.id, &p).await? {
            Some(c) if c.consent => format!(
                "consent given ({}, {})",
                c.changed_by,
                c.changed_at.format("%Y-%m-%d")
            ),
            Some(c) if c.stopped => {
                format!("opted out by STOP on {}", c.changed_at.format("%Y-%m-%d"))
            }
            Some(c) => format!(
                "consent withdrawn ({}, {})",
                c.changed_by,
                c.changed_at.format("%Y-%m-%d")
            ),
            None => "no consent recorded".to_string(),
        },
    };
    let last = texts
        .first()
        .map(|t| {
            format!(
                ", last {} {}",
                t.created_at.format("%Y-%m-%d"),
                t.delivery_status.as_deref().unwrap_or(&t.status)
            )
        })
        .unwrap_or_default();
    let n = crate::domain::dates::count_of(total as usize, "text", "texts");
    Ok(Some(format!("{consent} · {n}{last}")))
}

/// What `ar remind` decided before the channel: the account, the invoices reminded of, the
/// tone, whether a promise was live (a forced reminder), and the automatic plan's stage.
#[derive(Clone, Copy)]
pub struct Reminder<'a> {
    pub acc: &'a ledger::Account,
    pub invoices: &'a [ledger::Invoice],
    pub only_invoice: Option<&'a ledger::Invoice>,
    pub tone: &'a str,
    pub promised: bool,
    pub stage: Option<crate::domain::policy::Stage>,
}

/// `ar remind <account|invoice> [tone] sms`: the reminder as a text. The checks `ar remind`
/// makes for every channel (do-not-contact, agency, disputes, promises, cooldown) are made
/// before this; here come the text's own (phone, consent).
pub async fn remind(ctx: &Ctx<'_>, tx: &mut PgConnection, r: &Reminder<'_>) -> Result<Done, Fail> {
    let Reminder {
        acc,
        invoices,
        only_invoice,
        tone,
        promised,
        stage,
    } = *r;
    let cur = args::currency_of(acc)?;
    let total: i64 = invoices.iter().map(|i| i.balance_minor()).sum();
    // The email reminder's payload (`notify::templates::ReminderPayload`), so the send-time
    // check reads a text exactly as it reads an email.
    let payload = json!({
        "account_id": acc.id, "account": acc.code, "customer": acc.name, "time_zone": acc.time_zone,
        "to": null, "contact_name": null, "tone": tone, "currency": cur.code(),
        "invoices": invoices.iter().map(|i| json!({"number": i.number, "due": i.due, "balance_minor": i.balance_minor()})).collect::<Vec<_>>(),
        "total_minor": total, "requested_by": ctx.who(),
        "only_invoice": only_invoice.map(|i| &i.number),
        "paused_when_queued": {
            "promise": promised,
            "hold": acc.held && acc.hold_until.is_none_or(|u| u >= ctx.today),
        },
    });
    let q = queue(ctx, tx, acc, &payload).await?;
    crate::store::collections::insert_reminder(
        tx,
        &crate::store::collections::NewReminder {
            account_id: acc.id,
            invoice_id: only_invoice.map(|i| i.id),
            tone,
            stage: stage.map(|st| st.key()),
            queued_by: ctx.who(),
            queued_at: ctx.now,
            outbox_id: q.outbox_id,
        },
    )
    .await?;
    let amount = crate::domain::money::Money::new(total, cur);
    let what = match only_invoice {
        Some(i) => format!("invoice {}", i.number),
        None => crate::domain::dates::count_of(invoices.len(), "open invoice", "open invoices"),
    };
    let tone_word = capitalised(tone);
    let text = format!(
        "{tone_word} reminder text queued to {} for {} ({}): {what}, {amount}. Requested by {}. {}",
        q.phone,
        acc.code,
        acc.name,
        ctx.who(),
        capitalised(&q.when)
    );
    Ok(Done::new(Message::channel(text), Some(acc.code.clone()))
        .with_details(json!({
            "channel": "sms", "tone": tone, "to": q.phone, "total_minor": total,
            "outbox_id": q.outbox_id, "sends_at": q.sends_at, "stage": stage,
        }))
        .resolved(format!(
            "{tone_word} reminder text queued by {} at {}: {}",
            ctx.who(),
            ctx.now.format("%H:%M UTC"),
            q.when
        )))
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}
