//! Pure translation between Discord's shapes and dunbot's: a slash command's options as the
//! command line the parser reads, a form as a modal, a pressed message as its resolved edit.
use super::custom_id::{self, CustomId};
use super::render::{self, truncate};
use crate::commands::registry;
use crate::domain::spent::is_spent;
use crate::message::forms;
use crate::message::{ButtonStyle, Form};
use serde_json::{Value, json};
use serenity::all::{CommandDataOption, CommandDataOptionValue, ComponentInteraction};

/// Discord's `flags` bit for a message only its recipient sees.
pub const EPHEMERAL: u64 = 64;

/// A response of `kind` 4 (a message) seen only by the person.
pub fn message_response(kind: u8, text: &str) -> Value {
    json!({"type": kind, "data": {"content": text, "flags": EPHEMERAL, "allowed_mentions": {"parse": []}}})
}

/// The command line (without the root) a slash command stands for: the subcommand's name,
/// then its options in the order `commands/` declares them, quoted so spaces survive, and
/// `--flag` for each flag set.
pub fn command_line(options: &[CommandDataOption]) -> Option<String> {
    let sub = options.first()?;
    let CommandDataOptionValue::SubCommand(given) = &sub.value else {
        return None;
    };
    let spec = registry().get(&sub.name)?;
    let value = |name: &str| -> Option<String> {
        let o = given.iter().find(|o| o.name == name)?;
        match &o.value {
            CommandDataOptionValue::String(s) => Some(s.clone()),
            CommandDataOptionValue::Integer(i) => Some(i.to_string()),
            CommandDataOptionValue::Number(n) => Some(n.to_string()),
            CommandDataOptionValue::Boolean(b) => Some(b.to_string()),
            CommandDataOptionValue::User(u) => Some(u.get().to_string()),
            CommandDataOptionValue::Autocomplete { value, .. } => Some(value.clone()),
            _ => None,
        }
    };
    let mut line = spec.name.clone();
    for opt in &spec.options {
        let Some(v) = value(&opt.name).filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        // Quoted even for a rest option: an apostrophe in a note must not open a quote.
        line.push(' ');
        line.push_str(&quote(v.trim()));
    }
    for flag in &spec.flags {
        if value(&flag.name).as_deref() == Some("true") {
            line.push_str(&format!(" --{}", flag.name));
        }
    }
    Some(line)
}

fn quote(v: &str) -> String {
    shlex::try_quote(v)
        .map(|c| c.into_owned())
        .unwrap_or_else(|_| v.replace('"', ""))
}

/// The form that completes `command`, from `commands/` (as the neutral button made it).
pub fn form_of(command: &str) -> Option<Form> {
    forms::button("", command, ButtonStyle::Default).form
}

/// A modal (type 9) asking for the form's fields; its id carries the command.
pub fn modal_response(command: &str, form: &Form) -> Value {
    let Some(id) = custom_id::modal(command) else {
        return message_response(
            4,
            "This command is too long for a Discord form; type it instead.",
        );
    };
    let rows: Vec<Value> = form
        .fields
        .iter()
        .take(5)
        .map(|f| {
            json!({"type": 1, "components": [{
                "type": 4, "custom_id": f.name, "style": if f.kind == "text" { 2 } else { 1 },
                "label": truncate(&f.label, 45), "required": f.required,
                "placeholder": truncate(&f.placeholder, 100),
            }]})
        })
        .collect();
    json!({"type": 9, "data": {"custom_id": id, "title": truncate(&format!("{} — {}", form.title, command_subject(command)), 45), "components": rows}})
}

fn command_subject(command: &str) -> &str {
    command.split_whitespace().nth(1).unwrap_or_default()
}

/// The pressed message after its command took effect: the resolved line added to the last
/// embed, and the buttons whose commands are `spent` gone (with nothing spent named, the row
/// holding the pressed button goes: its choices no longer apply).
pub fn resolved_edit(c: &ComponentInteraction, resolved: &str, spent: &[String]) -> Value {
    message_resolved(&c.message, &c.data.custom_id, resolved, spent)
}

/// `resolved_edit` for any message of ours, e.g. the one whose button opened a form.
pub fn message_resolved(
    m: &serenity::all::Message,
    pressed: &str,
    resolved: &str,
    spent: &[String],
) -> Value {
    resolved_body(
        serde_json::to_value(&m.embeds).unwrap_or_else(|_| json!([])),
        serde_json::to_value(&m.components).unwrap_or_else(|_| json!([])),
        &m.content,
        pressed,
        resolved,
        spent,
    )
}

/// `resolved_edit` over the message's JSON. The line goes on the last embed while the
/// message stays within Discord's limits, else under the content.
pub fn resolved_body(
    mut embeds: Value,
    rows: Value,
    content: &str,
    pressed: &str,
    resolved: &str,
    spent: &[String],
) -> Value {
    let line = format!("✅ {resolved}");
    let total: usize = embeds
        .as_array()
        .map(|a| a.iter().map(embed_chars).sum())
        .unwrap_or(0);
    let mut body = json!({"allowed_mentions": {"parse": []}});
    let fits_embed = embeds.as_array().is_some_and(|a| {
        a.last().is_some_and(|last| {
            let desc = render::len(last["description"].as_str().unwrap_or_default());
            desc + 1 + render::len(&line) <= render::LIMITS.description
                && total + 1 + render::len(&line) <= render::LIMITS.embed_total
        })
    });
    if fits_embed {
        let last = embeds
            .as_array_mut()
            .and_then(|a| a.last_mut())
            .expect("an embed");
        let desc = last["description"].as_str().unwrap_or_default();
        last["description"] = json!(if desc.is_empty() {
            line
        } else {
            format!("{desc}\n{line}")
        });
    } else if embeds.as_array().is_none_or(|a| a.is_empty()) {
        embeds = json!([{"description": truncate(&line, render::LIMITS.description)}]);
    } else {
        let joined = if content.is_empty() {
            line
        } else {
            format!("{content}\n{line}")
        };
        body["content"] = json!(truncate(&joined, render::LIMITS.content));
    }
    let rows: Vec<Value> = rows
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|mut row| {
            let buttons = row["components"].as_array().cloned().unwrap_or_default();
            if spent.is_empty() {
                return (!buttons.iter().any(|b| b["custom_id"] == pressed)).then_some(row);
            }
            let keep: Vec<Value> = buttons
                .into_iter()
                .filter(|b| {
                    let command = match b["custom_id"].as_str().and_then(custom_id::parse) {
                        Some(CustomId::Run(c) | CustomId::Form(c)) => c,
                        _ => return true,
                    };
                    !is_spent(spent, &command)
                })
                .collect();
            row["components"] = json!(keep);
            (!keep_is_empty(&row)).then_some(row)
        })
        .collect();
    body["embeds"] = embeds;
    body["components"] = json!(rows);
    body
}

fn keep_is_empty(row: &Value) -> bool {
    row["components"].as_array().is_none_or(|c| c.is_empty())
}

fn embed_chars(e: &Value) -> usize {
    let s = |v: &Value| render::len(v.as_str().unwrap_or_default());
    s(&e["title"])
        + s(&e["description"])
        + s(&e["footer"]["text"])
        + s(&e["author"]["name"])
        + e["fields"]
            .as_array()
            .map(|f| f.iter().map(|f| s(&f["name"]) + s(&f["value"])).sum())
            .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(v: Value) -> Vec<CommandDataOption> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_slash_command_becomes_the_line_the_parser_reads() {
        let opts = options(json!([{"name": "promise", "type": 1, "options": [
            {"name": "date", "type": 3, "value": "fri"},
            {"name": "account", "type": 3, "value": "ACME-001"},
            {"name": "note", "type": 3, "value": "Jane's word, by wire"},
            {"name": "amount", "type": 3, "value": "1,250.00"},
        ]}]));
        let line = command_line(&opts).unwrap();
        assert_eq!(
            line,
            r#"promise ACME-001 '1,250.00' fri "Jane's word, by wire""#
        );
        let parsed =
            crate::commands::parse_line(registry(), "ar", &line).expect("the parser reads it");
        assert_eq!(parsed.get("note"), Some("Jane's word, by wire"));
        assert_eq!(parsed.get("amount"), Some("1,250.00"));
    }

    #[test]
    fn offers_are_integers_and_flags_become_switches() {
        let opts = options(json!([{"name": "settle", "type": 1, "options": [
            {"name": "offer", "type": 4, "value": 12},
            {"name": "decision", "type": 3, "value": "approve"},
        ]}]));
        assert_eq!(command_line(&opts).unwrap(), "settle 12 approve");
        let opts = options(json!([{"name": "remind", "type": 1, "options": [
            {"name": "target", "type": 3, "value": "INV-1001"},
            {"name": "force", "type": 5, "value": true},
        ]}]));
        assert_eq!(command_line(&opts).unwrap(), "remind INV-1001 --force");
        assert_eq!(command_line(&options(json!([]))), None);
    }

    fn row(ids: &[&str]) -> Value {
        json!({"type": 1, "components": ids.iter().map(|id| json!({"type": 2, "style": 1, "label": "x", "custom_id": id})).collect::<Vec<_>>()})
    }

    #[test]
    fn a_resolved_press_drops_its_row_and_shows_the_line() {
        let rows = json!([
            row(&["r:0:settle 1 approve", "r:1:settle 1 reject"]),
            row(&["r:2:remind A"])
        ]);
        let body = resolved_body(
            json!([{"title": "Offers", "description": "• Offer 1"}]),
            rows.clone(),
            "",
            "r:0:settle 1 approve",
            "Approved by Maria at 10:42 UTC",
            &[],
        );
        assert_eq!(
            body["embeds"][0]["description"],
            "• Offer 1\n✅ Approved by Maria at 10:42 UTC"
        );
        assert_eq!(body["components"], json!([row(&["r:2:remind A"])]));
        assert!(body.get("content").is_none());

        // A full embed: the line goes under the content instead, within its limit.
        let full = json!([{"description": "x".repeat(4090)}]);
        let body = resolved_body(
            full.clone(),
            rows.clone(),
            "Digest",
            "r:2:remind A",
            "Reminded",
            &[],
        );
        assert_eq!(body["embeds"], full);
        assert_eq!(body["content"], "Digest\n✅ Reminded");
        assert_eq!(body["components"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn after_a_promise_the_line_keeps_the_buttons_that_still_apply() {
        let rows = json!([
            row(&["r:0:remind A", "f:1:promise A", "f:2:flag A"]),
            row(&["r:3:remind B", "f:4:promise B", "f:5:flag B"])
        ]);
        let spent = crate::domain::spent::spent_after("promise", "A");
        let body = resolved_body(
            json!([{"description": "• A"}]),
            rows,
            "",
            "f:1:promise A",
            "Promise logged",
            &spent,
        );
        assert_eq!(
            body["components"],
            json!([
                row(&["f:2:flag A"]),
                row(&["r:3:remind B", "f:4:promise B", "f:5:flag B"])
            ])
        );
    }
}
