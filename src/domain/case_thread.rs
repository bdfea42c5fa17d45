//! Case-file threads, the rules without I/O: which chat channel an action's event goes to,
//! which timeline entry tells it, how it reads at the head of the thread line, and which next
//! steps (buttons) it offers. The store enqueues by these rules; the app renders and posts.
use super::timeline::{Entry, describe};
use serde_json::{Value, json};

/// Where an event goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// A person acted in this chat channel: its thread (the card is posted the first time).
    Channel(String),
    /// dunbot, an import, the API or a billing system acted: every channel that already holds
    /// a thread for the account, and none is started.
    EveryThread,
}

/// Whether a channel is a chat channel that can hold a case thread.
pub fn is_chat(channel: &str) -> bool {
    ["slack:", "discord:", "console:"]
        .iter()
        .any(|p| channel.strip_prefix(p).is_some_and(|rest| !rest.is_empty()))
}

/// Where the event of an action by `actor_platform` in `channel` goes.
pub fn audience(actor_platform: &str, channel: &str) -> Audience {
    if actor_platform != "system" && is_chat(channel) {
        Audience::Channel(channel.to_string())
    } else {
        Audience::EveryThread
    }
}

/// The facts an action recorded: a command's are under `facts`, dunbot's own are the details.
pub fn facts(details: &Value) -> &Value {
    match details.get("facts") {
        Some(f) if f.is_object() => f,
        _ => details,
    }
}

/// Where the timeline keeps the thing an action made or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A timeline entry of this kind and table id (`promise` 12, `call` 3…).
    Entry(&'static str, i64),
    /// The reminder queued as this outbox row.
    ReminderOutbox(i64),
}

/// The timeline entry that tells an action best, by the ids its facts carry; `None`: the
/// action's own generic line.
pub fn source(kind: &str, details: &Value) -> Option<Source> {
    let f = facts(details);
    let id = |key: &str| f[key].as_i64().or_else(|| details[key].as_i64());
    Some(match kind {
        "remind" | "reminder_dropped" => Source::ReminderOutbox(id("outbox_id")?),
        "promise" | "promise_kept" | "promise_broken" => {
            Source::Entry("promise", id("promise_id")?)
        }
        "dispute" => Source::Entry("dispute", id("dispute_id")?),
        "flag" | "unflag" => Source::Entry("flag", id("flag_id")?),
        "refer" => Source::Entry("referral", id("referral_id")?),
        "offer" | "settle" => Source::Entry("offer", id("offer_id")?),
        "call" => Source::Entry("call", id("call_id")?),
        "note" => Source::Entry("note", id("note_id")?),
        _ => return None,
    })
}

/// The generic timeline entry of an action (as the timeline shows actions it has no table for).
pub fn generic_entry(
    at: chrono::DateTime<chrono::Utc>,
    actor_name: &str,
    actor_platform: &str,
    kind: &str,
    subject: &str,
    code: &str,
    details: &Value,
) -> Entry {
    Entry {
        at,
        kind: "action".into(),
        by: Some(actor_name.to_string()),
        details: json!({
            "kind": kind, "subject": subject, "on_invoice": subject != code,
            "command": details.get("command"), "facts": details.get("facts").unwrap_or(details),
            "platform": actor_platform,
        }),
    }
}

/// What happened, as a thread line: steps dunbot took say so first ("Promise broken: …"),
/// then the timeline's own words for the entry.
pub fn event_text(kind: &str, entry: &Entry) -> String {
    let head = match kind {
        "promise_kept" => Some("Promise kept"),
        "promise_broken" => Some("Promise broken"),
        "reminder_sent" => Some("Reminder sent"),
        "payment" => Some("Payment received"),
        _ => None,
    };
    let what = describe(entry);
    match head {
        Some(h) => format!("{h}: {what}"),
        None => what,
    }
}

/// The next steps an event offers in the thread, as the digest does for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextSteps {
    None,
    /// A promise broken (a plan installment when the promise belongs to a plan).
    BrokenPromise(i64),
    /// A payment plan broken (an installment missed).
    BrokenPlan,
}

pub fn next_steps(kind: &str, facts: &Value) -> NextSteps {
    match (kind, facts["promise_id"].as_i64()) {
        ("promise_broken", Some(id)) => NextSteps::BrokenPromise(id),
        ("plan_broken", _) => NextSteps::BrokenPlan,
        _ => NextSteps::None,
    }
}

/// The console's rendering of an event: indented under the card line printed before it.
pub fn indented(event: &str) -> String {
    let mut out = String::new();
    for (i, line) in event.lines().enumerate() {
        out.push_str(if i == 0 { "    ↳ " } else { "\n      " });
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_person_in_a_chat_channel_gets_that_channels_thread_everything_else_every_thread() {
        assert_eq!(
            audience("slack", "slack:C123"),
            Audience::Channel("slack:C123".into())
        );
        assert_eq!(
            audience("discord", "discord:42"),
            Audience::Channel("discord:42".into())
        );
        assert_eq!(
            audience("console", "console:local"),
            Audience::Channel("console:local".into())
        );
        assert_eq!(audience("system", "system"), Audience::EveryThread);
        // dunbot acting in a channel is still dunbot: it starts no card of its own.
        assert_eq!(audience("system", "slack:C1"), Audience::EveryThread);
        assert_eq!(audience("api", "api"), Audience::EveryThread);
        assert_eq!(audience("slack", "slack:"), Audience::EveryThread);
    }

    #[test]
    fn sources_come_from_the_ids_the_action_recorded() {
        let cmd = json!({"command": "promise ACME-001 500 2026-12-01", "facts": {"promise_id": 7}});
        assert_eq!(source("promise", &cmd), Some(Source::Entry("promise", 7)));
        let dunbot = json!({"promise_id": 9, "amount_minor": 100});
        assert_eq!(
            source("promise_broken", &dunbot),
            Some(Source::Entry("promise", 9))
        );
        assert_eq!(
            source("remind", &json!({"facts": {"outbox_id": 4}})),
            Some(Source::ReminderOutbox(4))
        );
        assert_eq!(
            source(
                "reminder_dropped",
                &json!({"outbox_id": 5, "facts": {"x": 1}})
            ),
            Some(Source::ReminderOutbox(5))
        );
        assert_eq!(
            source("settle", &json!({"facts": {"offer_id": 3}})),
            Some(Source::Entry("offer", 3))
        );
        assert_eq!(source("hold", &json!({"facts": {}})), None);
        // An action that lost its id falls back to its generic line.
        assert_eq!(source("call", &json!({"facts": {}})), None);
    }

    #[test]
    fn dunbots_steps_say_what_happened_first() {
        let at = chrono::Utc
            .with_ymd_and_hms(2026, 11, 23, 10, 0, 0)
            .unwrap();
        let p = Entry {
            at,
            kind: "promise".into(),
            by: Some("maria".into()),
            details: json!({"amount_minor": 50000, "currency": "USD", "promised_for": "2026-11-27", "status": "broken"}),
        };
        assert_eq!(
            event_text("promise_broken", &p),
            "Promise broken: Promise by maria: USD 500.00 by 2026-11-27 — broken"
        );
        assert_eq!(
            event_text("promise", &p),
            "Promise by maria: USD 500.00 by 2026-11-27 — broken"
        );
        let g = generic_entry(
            at,
            "tom",
            "slack",
            "hold",
            "ACME-001",
            "ACME-001",
            &json!({"command": "hold ACME-001 2026-12-15"}),
        );
        assert_eq!(
            event_text("hold", &g),
            "Hold by tom: `hold ACME-001 2026-12-15`"
        );
    }

    #[test]
    fn broken_promises_and_plans_offer_next_steps() {
        assert_eq!(
            next_steps("promise_broken", &json!({"promise_id": 4})),
            NextSteps::BrokenPromise(4)
        );
        assert_eq!(
            next_steps("plan_broken", &json!({"plan_id": 2})),
            NextSteps::BrokenPlan
        );
        assert_eq!(
            next_steps("promise_kept", &json!({"promise_id": 4})),
            NextSteps::None
        );
    }

    #[test]
    fn the_console_indents_events_under_the_account() {
        assert_eq!(
            indented("Note by tom: hi\nsecond"),
            "    ↳ Note by tom: hi\n      second"
        );
        assert!(is_chat("console:local"));
        assert!(!is_chat("system"));
        assert!(!is_chat("api"));
    }
}
