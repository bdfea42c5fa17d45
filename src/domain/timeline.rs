//! One account's history as lines people read: every entry the store gathers (reminders with
//! their delivery, calls, notes, promises and their fate, disputes, flags, referrals, offers,
//! payments, and any other action on the account or its invoices) rendered the same way in
//! `ar history`, the account card and an agency's case file. Kinds this module does not know
//! (added by later features as action rows) get a generic line, so they show up unchanged.
use super::call::CallOutcome;
use super::money::{Currency, Money};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;

/// One thing that happened to an account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub at: DateTime<Utc>,
    /// `reminder`, `call`, `note`, `promise`, `dispute`, `flag`, `referral`, `offer`,
    /// `payment`, or `action` (any other action row: `details.kind` says which).
    pub kind: String,
    /// Who did it (a person's name, `dunbot`, or the customer for a payment).
    pub by: Option<String>,
    pub details: Value,
}

impl Entry {
    /// The kind a reader filters on: the action's own kind for generic entries.
    pub fn topic(&self) -> &str {
        if self.kind == "action" {
            self.details["kind"].as_str().unwrap_or("action")
        } else {
            &self.kind
        }
    }
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v[key].as_str().filter(|t| !t.is_empty())
}

fn money(v: &Value) -> String {
    let minor = v["amount_minor"].as_i64().unwrap_or(0);
    match v["currency"].as_str().map(|c| Currency::parse(c.trim())) {
        Some(Ok(cur)) => Money::new(minor, cur).to_string(),
        _ => format!("{minor} (minor units)"),
    }
}

fn date_of(v: &Value, key: &str) -> Option<String> {
    let t = s(v, key)?;
    Some(t.get(..10).unwrap_or(t).to_string())
}

fn by(e: &Entry) -> String {
    e.by.clone().unwrap_or_else(|| "someone".into())
}

/// `2026-11-23 10:00` in the company's time zone.
pub fn when(at: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

/// What happened, without the time: `Call by maria: no answer — left a message`.
pub fn describe(e: &Entry) -> String {
    let d = &e.details;
    match e.kind.as_str() {
        "reminder" => {
            let tone = s(d, "tone").unwrap_or("a");
            let stage = s(d, "stage")
                .map(|st| format!(", {}", st.replace('_', " ")))
                .unwrap_or_default();
            let invoice = s(d, "invoice")
                .map(|i| format!(" for {i}"))
                .unwrap_or_default();
            let fate = match s(d, "status") {
                Some("sent") => match date_of(d, "sent_at") {
                    Some(on) => format!("sent {on}"),
                    None => "sent".into(),
                },
                Some("pending") => "waiting to be sent".into(),
                Some("dropped") => format!(
                    "not sent{}",
                    s(d, "error")
                        .map(|r| format!(" ({})", r.trim_start_matches("not sent: ")))
                        .unwrap_or_default()
                ),
                Some("dead") => format!(
                    "could not be delivered{}",
                    s(d, "error").map(|r| format!(" ({r})")).unwrap_or_default()
                ),
                Some(other) => other.to_string(),
                None => "not queued for sending".into(),
            };
            format!("Reminder ({tone}{stage}){invoice} by {} — {fate}", by(e))
        }
        "call" => {
            let outcome = s(d, "outcome")
                .and_then(CallOutcome::from_key)
                .map(|o| o.label().to_string())
                .unwrap_or_else(|| s(d, "outcome").unwrap_or("?").replace('_', " "));
            let back = date_of(d, "callback_on")
                .map(|on| format!(" on {on}"))
                .unwrap_or_default();
            let note = s(d, "note").map(|n| format!(" — {n}")).unwrap_or_default();
            format!("Call by {}: {outcome}{back}{note}", by(e))
        }
        "note" => format!("Note by {}: {}", by(e), s(d, "text").unwrap_or_default()),
        "promise" => {
            let fate = match s(d, "status") {
                Some("kept") => "kept".to_string(),
                Some("broken") => "broken".to_string(),
                _ => "open".to_string(),
            };
            let note = s(d, "note").map(|n| format!(" — {n}")).unwrap_or_default();
            format!(
                "Promise by {}: {} by {} — {fate}{note}",
                by(e),
                money(d),
                date_of(d, "promised_for").unwrap_or_default()
            )
        }
        "dispute" => {
            let fate = match (s(d, "resolved_by"), date_of(d, "resolved_at")) {
                (Some(who), Some(on)) => format!("resolved by {who} on {on}"),
                (_, Some(on)) => format!("resolved on {on}"),
                _ => "open".into(),
            };
            format!(
                "Dispute on {} by {}: {} — {fate}",
                s(d, "invoice").unwrap_or("an invoice"),
                by(e),
                s(d, "reason").unwrap_or_default()
            )
        }
        "flag" => {
            let fate = match (s(d, "resolved_by"), s(d, "outcome")) {
                (Some(who), Some(out)) => format!("closed by {who}: {out}"),
                (Some(who), None) => format!("closed by {who}"),
                _ => "open".into(),
            };
            format!(
                "Flagged for a management call by {}: {} — {fate}",
                by(e),
                s(d, "reason").unwrap_or_default()
            )
        }
        "referral" => {
            let closed = date_of(d, "closed_at")
                .map(|on| format!(" — closed {on}"))
                .unwrap_or_default();
            format!(
                "Referred to {} by {}{closed}",
                s(d, "agency").unwrap_or("an agency"),
                by(e)
            )
        }
        "offer" => {
            let fate = match (s(d, "status"), s(d, "decided_by")) {
                (Some("approved"), Some(who)) => format!("approved by {who}"),
                (Some("rejected"), Some(who)) => format!("rejected by {who}"),
                (Some("proposed"), _) | (None, _) => "waiting for a manager".into(),
                (Some(st), _) => st.to_string(),
            };
            let note = s(d, "decision_note")
                .map(|n| format!(": {n}"))
                .unwrap_or_default();
            format!(
                "Settlement offer {} from {} ({}): {} — {fate}{note}",
                d["id"].as_i64().map(|i| i.to_string()).unwrap_or_default(),
                s(d, "agency").unwrap_or("the agency"),
                by(e),
                money(d)
            )
        }
        "payment" => {
            let invoice = s(d, "invoice")
                .map(|i| format!(" on {i}"))
                .unwrap_or_default();
            let reference = s(d, "reference")
                .map(|r| format!(" (ref {r})"))
                .unwrap_or_default();
            format!("Payment of {}{invoice}{reference}", money(d))
        }
        _ => generic(e),
    }
}

/// Any other action: its kind in words, who, the invoice it was about, and what was typed
/// (or, for actions nobody typed, its recorded facts).
fn generic(e: &Entry) -> String {
    let d = &e.details;
    let key = s(d, "kind").unwrap_or(&e.kind);
    let kind = label(key).map_or_else(
        || capitalised(&key.replace(['_', '.'], " ")),
        str::to_string,
    );
    let mut out = format!("{kind} by {}", by(e));
    if let Some(subject) = s(d, "subject").filter(|_| d["on_invoice"] == Value::Bool(true)) {
        out.push_str(&format!(" on {subject}"));
    }
    if let Some(cmd) = s(d, "command") {
        out.push_str(&format!(": `{cmd}`"));
    } else if let Some(facts) = d["facts"].as_object() {
        let mut sorted: Vec<(&String, &Value)> = facts.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        let pairs: Vec<String> = sorted
            .into_iter()
            .filter_map(|(k, v)| {
                let v = match v {
                    Value::String(t) if !t.is_empty() => t.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => return None,
                };
                Some(format!("{} {v}", k.replace('_', " ")))
            })
            .take(6)
            .collect();
        if !pairs.is_empty() {
            out.push_str(&format!(": {}", pairs.join(", ")));
        }
    }
    out
}

/// Words for the kinds whose key reads badly on its own.
fn label(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "sms_opt_out" => "Texts turned off (STOP)",
        "sms_opt_in" => "Texts turned back on (START)",
        "sms_received" => "Text received",
        "text_delivered" => "Text delivered",
        "text_undelivered" => "Text undelivered",
        "text_failed" => "Text failed",
        "contact" => "Text consent changed",
        _ => return None,
    })
}

fn capitalised(t: &str) -> String {
    let mut c = t.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// The line shown for an entry: its time (a payment's day) and what happened.
pub fn line(e: &Entry, tz: chrono_tz::Tz) -> String {
    let at = match date_of(&e.details, "paid_on") {
        Some(day) if e.kind == "payment" => day,
        _ => when(e.at, tz),
    };
    format!("{at} · {}", describe(e))
}

/// Entries `[from, from + size)` of `total`, as a page number (1 = newest): how many pages
/// there are and whether `page` is one of them.
pub fn pages(total: usize, size: usize) -> usize {
    total.div_ceil(size.max(1)).max(1)
}

/// The call-back day of a call entry, if it set one.
pub fn callback_on(e: &Entry) -> Option<NaiveDate> {
    (e.kind == "call")
        .then(|| date_of(&e.details, "callback_on"))
        .flatten()
        .and_then(|t| NaiveDate::parse_from_str(&t, "%Y-%m-%d").ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn entry(kind: &str, by: &str, details: Value) -> Entry {
        Entry {
            at: Utc.with_ymd_and_hms(2026, 11, 23, 10, 5, 0).unwrap(),
            kind: kind.into(),
            by: Some(by.into()),
            details,
        }
    }

    #[test]
    fn reminders_say_how_their_delivery_ended() {
        let sent = entry(
            "reminder",
            "maria",
            json!({"tone": "friendly", "stage": "day_after_reminder", "status": "sent", "sent_at": "2026-11-23T14:00:00Z"}),
        );
        assert_eq!(
            describe(&sent),
            "Reminder (friendly, day after reminder) by maria — sent 2026-11-23"
        );
        let dropped = entry(
            "reminder",
            "dunbot",
            json!({"tone": "firm", "status": "dropped", "error": "not sent: paid since queued", "invoice": "INV-1"}),
        );
        assert_eq!(
            describe(&dropped),
            "Reminder (firm) for INV-1 by dunbot — not sent (paid since queued)"
        );
        let dead = entry(
            "reminder",
            "maria",
            json!({"tone": "final", "status": "dead", "error": "550 mailbox unavailable"}),
        );
        assert!(describe(&dead).ends_with("could not be delivered (550 mailbox unavailable)"));
    }

    #[test]
    fn calls_notes_and_promises_read_as_sentences() {
        let c = entry(
            "call",
            "maria",
            json!({"outcome": "call_back", "callback_on": "2026-11-27", "note": "after payroll"}),
        );
        assert_eq!(
            describe(&c),
            "Call by maria: call back on 2026-11-27 — after payroll"
        );
        assert_eq!(callback_on(&c), NaiveDate::from_ymd_opt(2026, 11, 27));
        let c = entry("call", "tom", json!({"outcome": "no_answer", "note": null}));
        assert_eq!(describe(&c), "Call by tom: no answer");
        assert_eq!(callback_on(&c), None);
        let n = entry("note", "tom", json!({"text": "CFO is Jane Roe"}));
        assert_eq!(describe(&n), "Note by tom: CFO is Jane Roe");
        let p = entry(
            "promise",
            "maria",
            json!({"amount_minor": 125000, "currency": "USD", "promised_for": "2026-11-27", "status": "broken"}),
        );
        assert_eq!(
            describe(&p),
            "Promise by maria: USD 1,250.00 by 2026-11-27 — broken"
        );
    }

    #[test]
    fn disputes_flags_referrals_offers_and_payments_show_their_fate() {
        let d = entry(
            "dispute",
            "tom",
            json!({"invoice": "INV-7", "reason": "wrong PO", "resolved_by": "maria", "resolved_at": "2026-11-25T09:00:00Z"}),
        );
        assert_eq!(
            describe(&d),
            "Dispute on INV-7 by tom: wrong PO — resolved by maria on 2026-11-25"
        );
        let f = entry("flag", "tom", json!({"reason": "CFO unreachable"}));
        assert_eq!(
            describe(&f),
            "Flagged for a management call by tom: CFO unreachable — open"
        );
        let r = entry("referral", "priya", json!({"agency": "Northwind Recovery"}));
        assert_eq!(describe(&r), "Referred to Northwind Recovery by priya");
        let o = entry(
            "offer",
            "sam",
            json!({"id": 3, "agency": "Northwind", "amount_minor": 400000, "currency": "USD", "status": "approved", "decided_by": "priya"}),
        );
        assert_eq!(
            describe(&o),
            "Settlement offer 3 from Northwind (sam): USD 4,000.00 — approved by priya"
        );
        let p = Entry {
            by: None,
            ..entry(
                "payment",
                "",
                json!({"amount_minor": 50000, "currency": "EUR", "invoice": "INV-9", "reference": "W-1", "paid_on": "2026-11-20"}),
            )
        };
        assert_eq!(
            line(&p, chrono_tz::UTC),
            "2026-11-20 · Payment of EUR 500.00 on INV-9 (ref W-1)"
        );
    }

    #[test]
    fn unknown_kinds_get_a_readable_generic_line() {
        let typed = entry(
            "action",
            "maria",
            json!({"kind": "hold", "subject": "ACME-001", "command": "hold ACME-001 2026-12-15"}),
        );
        assert_eq!(
            describe(&typed),
            "Hold by maria: `hold ACME-001 2026-12-15`"
        );
        assert_eq!(typed.topic(), "hold");
        let system = entry(
            "action",
            "dunbot",
            json!({"kind": "plan_installment_paid", "subject": "INV-3", "on_invoice": true,
                   "facts": {"installment": 2, "amount": "USD 100.00", "nested": {"x": 1}}}),
        );
        assert_eq!(
            describe(&system),
            "Plan installment paid by dunbot on INV-3: amount USD 100.00, installment 2"
        );
    }

    #[test]
    fn lines_carry_the_time_in_the_company_zone_and_pages_round_up() {
        let n = entry("note", "tom", json!({"text": "hi"}));
        assert_eq!(
            line(&n, chrono_tz::UTC),
            "2026-11-23 10:05 · Note by tom: hi"
        );
        assert_eq!(
            line(&n, chrono_tz::Europe::Berlin),
            "2026-11-23 11:05 · Note by tom: hi"
        );
        assert_eq!(pages(0, 20), 1);
        assert_eq!(pages(20, 20), 1);
        assert_eq!(pages(21, 20), 2);
    }
}
