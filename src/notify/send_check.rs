//! Send-time truth: a queued reminder is checked against the ledger when it is about to leave,
//! not only when it was queued. Invoices paid, voided, written off, disputed or handed to an
//! agency since then drop out of it; a promise or a hold put on since then stops it; with
//! nothing left it is not sent and says why. Because it runs at send time, every way a payment
//! reaches the ledger (CSV import, the ingest API, a billing-system sync) is covered by it
//! without calling anything. The rule itself is `ar remind`'s (`domain::reminder`).
use crate::config::Settings;
use crate::domain::calendar::Calendar;
use crate::domain::promise::{self, PromiseFacts, PromiseStatus};
use crate::domain::reminder::{AtSend, InvoiceNow, QueuedInvoice, chaseable, send_time_refusal};
use crate::store::{collections, ledger, send_time, snapshot};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};
use sqlx::PgConnection;

/// The company's rules the check needs (from `Settings`).
#[derive(Debug, Clone)]
pub struct SendRules {
    pub calendar: Calendar,
    pub promise_grace_days: u32,
    /// The company's zone: "today" for promises and holds.
    pub time_zone: Tz,
}

impl SendRules {
    pub fn from_settings(s: &Settings) -> SendRules {
        SendRules {
            calendar: s.calendar.clone(),
            promise_grace_days: s.promise_grace_days,
            time_zone: s.time_zone,
        }
    }
}

impl Default for SendRules {
    fn default() -> SendRules {
        SendRules::from_settings(&Settings::default())
    }
}

/// What to do with a queued reminder now.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Send this payload: today's invoices and figures (`changed` when they differ from the
    /// queued ones, so the message is rendered again).
    Send { payload: Value, changed: bool },
    /// Do not send; `reason` reads "not sent: paid since queued".
    Drop {
        reason: String,
        account: String,
        details: Value,
    },
}

/// What a queued row should say now (saved on the row when the ledger changed it), or why it
/// is not sent at all: one step for every deliverer of reminders (email, texts).
pub async fn payload_to_send(
    conn: &mut PgConnection,
    row: &crate::store::outbox::OutboxRow,
    rules: &SendRules,
    now: DateTime<Utc>,
) -> Result<Value, super::worker::DeliveryError> {
    use super::worker::DeliveryError;
    let retry = |e: sqlx::Error| DeliveryError::Retry(e.to_string());
    match check(conn, &row.payload, rules, now).await.map_err(retry)? {
        Verdict::Drop {
            reason,
            account,
            details,
        } => Err(DeliveryError::Dropped {
            reason,
            subject: Some(account),
            details,
        }),
        Verdict::Send { payload, changed } => {
            if changed {
                crate::store::outbox::set_payload(conn, row.id, &payload)
                    .await
                    .map_err(retry)?;
            }
            Ok(payload)
        }
    }
}

/// Checks an `email` reminder payload (as `ar remind` and the automatic plan write it) against
/// the ledger as of `now`. A payload without `account_id` is sent as it is.
pub async fn check(
    conn: &mut PgConnection,
    payload: &Value,
    rules: &SendRules,
    now: DateTime<Utc>,
) -> Result<Verdict, sqlx::Error> {
    let Some(account_id) = payload["account_id"].as_i64() else {
        return Ok(Verdict::Send {
            payload: payload.clone(),
            changed: false,
        });
    };
    let today = now.with_timezone(&rules.time_zone).date_naive();
    let acc = ledger::account_by_id(conn, account_id).await?;
    let queued_numbers: Vec<String> = payload["invoices"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["number"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let only = payload["only_invoice"].as_str().map(str::to_string);
    let invoices = send_time::invoices_now(conn, acc.id, &queued_numbers).await?;
    let queued: Vec<QueuedInvoice> = queued_numbers
        .iter()
        .map(|n| QueuedInvoice {
            number: n.clone(),
            now: invoices
                .iter()
                .find(|i| &i.number == n)
                .map(|i| InvoiceNow {
                    status: i.status.clone(),
                    balance_minor: i.balance_minor(),
                }),
        })
        .collect();
    // Today's list: the account's chaseable invoices, or the one the reminder was about.
    let today_list: Vec<&ledger::Invoice> = invoices
        .iter()
        .filter(|i| chaseable(&i.status) && i.balance_minor() > 0)
        .filter(|i| only.as_ref().is_none_or(|n| &i.number == n))
        .collect();
    let paused = &payload["paused_when_queued"];
    let promised_until = if paused["promise"].as_bool() == Some(true) {
        None
    } else {
        live_promise_until(conn, acc.id, rules, today).await?
    };
    let held_now = acc.held && acc.hold_until.is_none_or(|u| u >= today);
    let facts = AtSend {
        do_not_contact: acc.do_not_contact,
        with_agency: collections::active_referral(conn, acc.id).await?.is_some(),
        promised_until,
        held: held_now && paused["hold"].as_bool() != Some(true),
        queued,
        chaseable_now: !today_list.is_empty(),
    };
    if let Some(reason) = send_time_refusal(&facts) {
        let dropped: Vec<Value> = facts
            .queued
            .iter()
            .map(|q| json!({"number": q.number, "now": q.now.as_ref().map(|n| json!({"status": n.status, "balance_minor": n.balance_minor}))}))
            .collect();
        return Ok(Verdict::Drop {
            reason,
            account: acc.code,
            details: json!({"invoices": dropped, "as_of": today}),
        });
    }
    let lines: Vec<Value> = today_list
        .iter()
        .map(|i| json!({"number": i.number, "due": i.due, "balance_minor": i.balance_minor()}))
        .collect();
    let total: i64 = today_list.iter().map(|i| i.balance_minor()).sum();
    let changed = payload["invoices"] != Value::Array(lines.clone())
        || payload["total_minor"].as_i64() != Some(total);
    let mut fresh = payload.clone();
    fresh["invoices"] = Value::Array(lines);
    fresh["total_minor"] = json!(total);
    Ok(Verdict::Send {
        payload: fresh,
        changed,
    })
}

/// Until when a live promise-to-pay pauses chasing the account (grace included), if one does.
async fn live_promise_until(
    conn: &mut PgConnection,
    account_id: i64,
    rules: &SendRules,
    today: NaiveDate,
) -> Result<Option<NaiveDate>, sqlx::Error> {
    let promises = snapshot::promises(conn, today, Some(account_id)).await?;
    Ok(promises
        .iter()
        .filter(|p| p.status == "pending" && p.logged_on <= today)
        .filter(|p| {
            let f = PromiseFacts {
                amount_minor: p.amount_minor,
                promised_for: p.promised_for,
                logged_on: p.logged_on,
            };
            promise::evaluate(
                &f,
                &p.payments(),
                &rules.calendar,
                rules.promise_grace_days,
                today,
            ) == PromiseStatus::Pending
        })
        .map(|p| promise::deadline(&rules.calendar, p.promised_for, rules.promise_grace_days))
        .max())
}
