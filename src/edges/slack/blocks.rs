//! Block Kit for a `message::Message`, within Slack's limits: a message that would not fit is
//! split into a first post and thread replies, and past `MAX_POSTS` summarised with a count —
//! never rejected by Slack.
use crate::domain::spent::is_spent;
use crate::message::forms::{button, command_from_form};
use crate::message::{Block, Button, ButtonStyle, Form, Message};
use serde_json::{Value, json};

/// Blocks in one message.
pub const MAX_BLOCKS: usize = 50;
/// Characters in a section's (or context's) text.
pub const MAX_SECTION_TEXT: usize = 3000;
/// Characters in a header.
pub const MAX_HEADER: usize = 150;
/// Fields in one section, and characters in each.
pub const MAX_FIELDS: usize = 10;
pub const MAX_FIELD_TEXT: usize = 2000;
/// Elements in one actions block.
pub const MAX_ACTIONS: usize = 25;
/// Characters in a button's label and value.
pub const MAX_BUTTON_LABEL: usize = 75;
pub const MAX_BUTTON_VALUE: usize = 2000;
/// A digest longer than this many posts (first + replies) ends with a count instead.
pub const MAX_POSTS: usize = 10;
/// Characters in the notification text (Slack truncates at 40,000).
pub const MAX_TEXT: usize = 3000;

/// One Slack message: the first is posted to the channel, the rest as replies in its thread.
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    pub text: String,
    pub blocks: Vec<Value>,
}

/// Action ids say whether pressing runs the command at once or opens a form first.
pub const RUN: &str = "run";
pub const FORM: &str = "form";

/// Cuts `s` to at most `max` characters, ending with `…` when cut.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn mrkdwn(text: &str) -> Value {
    json!({"type": "mrkdwn", "text": text})
}

fn plain(text: &str) -> Value {
    json!({"type": "plain_text", "text": text, "emoji": true})
}

/// Splits long text on line breaks (or hard, for one long line) into pieces of at most `max`.
fn pieces(text: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in text.split('\n') {
        let line_len = line.chars().count();
        if line_len > max {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            let chars: Vec<char> = line.chars().collect();
            for chunk in chars.chunks(max) {
                out.push(chunk.iter().collect());
            }
            continue;
        }
        let extra = if cur.is_empty() { 0 } else { 1 };
        if cur.chars().count() + extra + line_len > max {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push('\n');
        }
        cur.push_str(line);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out.retain(|p| !p.trim().is_empty());
    out
}

fn button_json(b: &Button, n: usize) -> Option<Value> {
    if b.command.chars().count() > MAX_BUTTON_VALUE || b.label.trim().is_empty() {
        return None;
    }
    let kind = if b.form.is_some() { FORM } else { RUN };
    let mut v = json!({
        "type": "button",
        "text": plain(&clip(&b.label, MAX_BUTTON_LABEL)),
        "action_id": format!("{kind}:{n}"),
        "value": b.command,
    });
    match b.style {
        ButtonStyle::Primary => v["style"] = json!("primary"),
        ButtonStyle::Danger => v["style"] = json!("danger"),
        ButtonStyle::Default => {}
    }
    Some(v)
}

/// A run of blocks that must stay in one message (an item and its buttons).
type Group = Vec<Value>;

/// The message's blocks, grouped so that an item's section and its buttons stay together.
fn groups(msg: &Message) -> Vec<Group> {
    let mut out = Vec::new();
    let mut buttons_seen = 0usize;
    for (i, b) in msg.blocks.iter().enumerate() {
        match b {
            Block::Header { text } => {
                let t = clip(text.trim(), MAX_HEADER);
                if !t.is_empty() {
                    out.push(vec![json!({"type": "header", "text": plain(&t)})]);
                }
            }
            Block::Text { text } => {
                for p in pieces(text, MAX_SECTION_TEXT) {
                    out.push(vec![json!({"type": "section", "text": mrkdwn(&p)})]);
                }
            }
            Block::Fields { fields } => {
                for chunk in fields.chunks(MAX_FIELDS) {
                    let fs: Vec<Value> = chunk
                        .iter()
                        .map(|(k, v)| mrkdwn(&clip(&format!("*{k}*\n{v}"), MAX_FIELD_TEXT)))
                        .collect();
                    if !fs.is_empty() {
                        out.push(vec![json!({"type": "section", "fields": fs})]);
                    }
                }
            }
            Block::Item { text, buttons } => {
                let mut g = Vec::new();
                let t = clip(text.trim(), MAX_SECTION_TEXT);
                if !t.is_empty() {
                    g.push(json!({"type": "section", "block_id": format!("item:{i}"), "text": mrkdwn(&t)}));
                }
                let elements: Vec<Value> = buttons
                    .iter()
                    .filter_map(|b| {
                        buttons_seen += 1;
                        button_json(b, buttons_seen)
                    })
                    .collect();
                for (k, chunk) in elements.chunks(MAX_ACTIONS).enumerate() {
                    g.push(json!({"type": "actions", "block_id": format!("act:{i}:{k}"), "elements": chunk}));
                }
                if !g.is_empty() {
                    out.push(g);
                }
            }
            Block::Context { text } => {
                let t = clip(text.trim(), MAX_SECTION_TEXT);
                if !t.is_empty() {
                    out.push(vec![json!({"type": "context", "elements": [mrkdwn(&t)]})]);
                }
            }
            Block::Divider => out.push(vec![json!({"type": "divider"})]),
        }
    }
    out
}

/// Block Kit posts for `msg`: the first for the channel, the rest for its thread. Each holds
/// at most `MAX_BLOCKS` blocks; past `MAX_POSTS` posts the last one ends with how many
/// entries were left out.
pub fn render(msg: &Message) -> Vec<Post> {
    let text = clip(&msg.text, MAX_TEXT);
    let all = groups(msg);
    let mut posts: Vec<Vec<Value>> = vec![vec![]];
    for g in all.iter() {
        let cur = posts.last_mut().expect("one post");
        // Reserve one block per post for the "continued" / "left out" context line.
        if !cur.is_empty() && cur.len() + g.len() > MAX_BLOCKS - 1 {
            posts.push(vec![]);
        }
        posts
            .last_mut()
            .expect("one post")
            .extend(g.iter().cloned());
    }
    let total_posts = posts.len();
    if total_posts > MAX_POSTS {
        let left_out: usize = posts[MAX_POSTS..]
            .iter()
            .flatten()
            .filter(|b| b["type"] == "section" && b.get("block_id").is_some())
            .count();
        posts.truncate(MAX_POSTS);
        posts.last_mut().expect("posts").push(json!({
            "type": "context",
            "elements": [mrkdwn(&format!("…and {left_out} more entries not shown here; the digest command lists them all."))],
        }));
    }
    let n = posts.len();
    posts
        .into_iter()
        .enumerate()
        .map(|(i, mut blocks)| {
            if n > 1 && i + 1 < n && blocks.len() < MAX_BLOCKS {
                blocks.push(json!({
                    "type": "context",
                    "elements": [mrkdwn(&format!("Part {} of {n}; continued in the thread.", i + 1))],
                }));
            }
            Post {
                text: if i == 0 {
                    text.clone()
                } else {
                    clip(&format!("{} (part {} of {n})", msg.text, i + 1), MAX_TEXT)
                },
                blocks,
            }
        })
        .collect()
}

/// Puts mentions (`<!subteam^S0123>`, `<@U0123>`) at the head of the first post's text, which
/// Slack notifies from, and of its first block, where people read it.
pub fn mention(posts: &mut [Post], tokens: &[String]) {
    let Some(first) = posts.first_mut() else {
        return;
    };
    if tokens.is_empty() {
        return;
    }
    let tags = tokens.join(" ");
    first.text = clip(&format!("{tags} {}", first.text), MAX_TEXT);
    let room = first.blocks.len() < MAX_BLOCKS;
    match first.blocks.first_mut() {
        Some(b) if b["type"] == "section" && b["text"]["text"].is_string() => {
            let t = b["text"]["text"].as_str().unwrap_or_default();
            b["text"]["text"] = json!(clip(&format!("{tags} {t}"), MAX_SECTION_TEXT));
        }
        _ if room => {
            first
                .blocks
                .insert(0, json!({"type": "section", "text": mrkdwn(&tags)}));
        }
        _ => {}
    }
}

/// The original message's blocks after a button in actions block `block_id` took effect: that
/// block's buttons go (they no longer apply) and `resolved` says who did what in their place.
pub fn resolve(original: &[Value], block_id: &str, resolved: &str) -> Vec<Value> {
    let line = json!({"type": "context", "elements": [mrkdwn(&clip(resolved, MAX_SECTION_TEXT))]});
    let mut out = Vec::with_capacity(original.len());
    let mut replaced = false;
    for b in original {
        if b["block_id"] == block_id {
            if !replaced {
                out.push(line.clone());
                replaced = true;
            }
            continue;
        }
        out.push(b.clone());
    }
    if !replaced && out.len() < MAX_BLOCKS {
        out.push(line);
    }
    out
}

/// Like `resolve`, but only the buttons whose commands are `spent` leave the message; the
/// others stay, with `resolved` below the pressed actions block (with `block_id` empty: below
/// the block that lost buttons). With nothing spent named, the whole block goes as in
/// `resolve`.
pub fn resolve_spent(
    original: &[Value],
    block_id: &str,
    resolved: &str,
    spent: &[String],
) -> Vec<Value> {
    if spent.is_empty() {
        return resolve(original, block_id, resolved);
    }
    let line = json!({"type": "context", "elements": [mrkdwn(&clip(resolved, MAX_SECTION_TEXT))]});
    let mut out = Vec::with_capacity(original.len() + 1);
    let mut placed = false;
    for b in original {
        if b["type"] != "actions" {
            out.push(b.clone());
            continue;
        }
        let keep: Vec<Value> = b["elements"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|e| !e["value"].as_str().is_some_and(|c| is_spent(spent, c)))
            .collect();
        let removed = keep.len() < b["elements"].as_array().map_or(0, Vec::len);
        if !keep.is_empty() {
            let mut b = b.clone();
            b["elements"] = json!(keep);
            out.push(b);
        }
        // Below the pressed block, or (no block pressed: a decision taken elsewhere) below
        // the one that lost its buttons.
        let here = b["block_id"] == block_id || (block_id.is_empty() && removed);
        if here && !placed {
            out.push(line.clone());
            placed = true;
        }
    }
    if !placed && out.len() < MAX_BLOCKS {
        out.push(line);
    }
    out
}

/// The form a pressed button opens, when its command still lacks options.
pub fn form_of(command: &str) -> Option<Form> {
    button("", command, ButtonStyle::Default).form
}

/// The modal for `form`; `metadata` (JSON: the command, channel, message) comes back on submit.
pub fn modal(form: &Form, metadata: &str) -> Value {
    let blocks: Vec<Value> = form
        .fields
        .iter()
        .map(|f| {
            let element = match f.kind.as_str() {
                "date" => json!({"type": "datepicker", "action_id": f.name}),
                _ if !f.choices.is_empty() => json!({
                    "type": "static_select",
                    "action_id": f.name,
                    "placeholder": plain(&clip(&f.label, 150)),
                    "options": f.choices.iter().take(100).map(|c| json!({
                        "text": plain(&clip(c, 75)), "value": clip(c, 150),
                    })).collect::<Vec<_>>(),
                }),
                _ => json!({
                    "type": "plain_text_input",
                    "action_id": f.name,
                    "placeholder": plain(&clip(&f.placeholder, 150)),
                }),
            };
            json!({
                "type": "input",
                "block_id": f.name,
                "label": plain(&clip(&f.label, 2000)),
                "optional": !f.required,
                "element": element,
            })
        })
        .collect();
    json!({
        "type": "modal",
        "callback_id": "dunbot_form",
        "title": plain(&clip(&form.title, 24)),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "private_metadata": metadata,
        "blocks": blocks,
    })
}

/// A submitted modal's value for `field`, from `view.state.values`.
pub fn submitted(values: &Value, field: &str) -> Option<String> {
    let v = &values[field][field];
    v["value"]
        .as_str()
        .or_else(|| v["selected_date"].as_str())
        .or_else(|| v["selected_option"]["value"].as_str())
        .map(str::to_string)
}

/// The command line a submitted modal runs.
pub fn command_from_view(command: &str, form: &Form, values: &Value) -> String {
    command_from_form(command, form, &|name| submitted(values, name))
}

/// Which field of `form` a refusal is about, for the modal's field error: the first field
/// whose name or submitted value the message mentions, else the first required field.
pub fn field_for_error(form: &Form, values: &Value, message: &str) -> String {
    let lower = message.to_lowercase();
    form.fields
        .iter()
        .find(|f| {
            lower.contains(&f.name.to_lowercase())
                || submitted(values, &f.name)
                    .is_some_and(|v| !v.trim().is_empty() && message.contains(v.trim()))
        })
        .or_else(|| form.fields.iter().find(|f| f.required))
        .or(form.fields.first())
        .map(|f| f.name.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Visibility;

    fn item(i: usize) -> Block {
        Block::Item {
            text: format!("*ACC-{i}* account {i}"),
            buttons: crate::digest::account_buttons(&format!("ACC-{i}")),
        }
    }

    #[test]
    fn a_long_message_is_split_with_items_kept_whole() {
        let mut blocks = vec![Block::Header {
            text: "Digest".into(),
        }];
        blocks.extend((0..100).map(item));
        let msg = Message {
            text: "d".into(),
            blocks,
            visibility: Visibility::Channel,
            ..Default::default()
        };
        let posts = render(&msg);
        assert!(posts.len() > 1);
        for p in &posts {
            assert!(p.blocks.len() <= MAX_BLOCKS);
            // An item's section is always followed by its buttons in the same post.
            for (k, b) in p.blocks.iter().enumerate() {
                if b["type"] == "section" && b.get("block_id").is_some() {
                    assert_eq!(p.blocks[k + 1]["type"], "actions");
                }
            }
        }
        let sections: usize = posts
            .iter()
            .flat_map(|p| &p.blocks)
            .filter(|b| b["type"] == "section")
            .count();
        assert_eq!(sections, 100);
    }

    #[test]
    fn beyond_the_post_limit_a_count_is_shown() {
        let blocks: Vec<Block> = (0..1000).map(item).collect();
        let msg = Message {
            text: "d".into(),
            blocks,
            visibility: Visibility::Channel,
            ..Default::default()
        };
        let posts = render(&msg);
        assert_eq!(posts.len(), MAX_POSTS);
        let shown: usize = posts
            .iter()
            .flat_map(|p| &p.blocks)
            .filter(|b| b["type"] == "section")
            .count();
        let last = posts.last().unwrap().blocks.last().unwrap();
        let note = last["elements"][0]["text"].as_str().unwrap();
        assert!(
            note.contains(&format!("{} more entries", 1000 - shown)),
            "{note}"
        );
    }

    #[test]
    fn resolving_drops_the_pressed_buttons_and_says_who() {
        let msg = Message {
            text: "d".into(),
            blocks: vec![item(1), item(2)],
            visibility: Visibility::Channel,
            ..Default::default()
        };
        let blocks = render(&msg).remove(0).blocks;
        let after = resolve(&blocks, "act:0:0", "Promise logged by Maria");
        assert_eq!(after.len(), blocks.len());
        assert_eq!(after[1]["type"], "context");
        assert_eq!(after[3]["type"], "actions");
    }

    #[test]
    fn after_a_promise_only_its_spent_buttons_go() {
        let msg = Message {
            text: "d".into(),
            blocks: vec![item(1), item(2)],
            visibility: Visibility::Channel,
            ..Default::default()
        };
        let blocks = render(&msg).remove(0).blocks;
        let spent = crate::domain::spent::spent_after("promise", "ACC-1");
        let after = resolve_spent(&blocks, "act:0:0", "Promise logged by Maria", &spent);
        let values = |b: &Value| -> Vec<String> {
            b["elements"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["value"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(after[1]["type"], "actions");
        assert_eq!(values(&after[1]), ["flag ACC-1"]);
        assert_eq!(after[2]["type"], "context");
        // The other line keeps all of its buttons.
        assert_eq!(values(&after[4]).len(), 3);
    }

    #[test]
    fn a_promise_form_becomes_a_modal_and_back() {
        let form = form_of("promise ACME-001").unwrap();
        let m = modal(&form, "{}");
        assert_eq!(m["blocks"][1]["element"]["type"], "datepicker");
        let values = json!({
            "amount": {"amount": {"type": "plain_text_input", "value": "100"}},
            "date": {"date": {"type": "datepicker", "selected_date": "2026-12-01"}},
            "note": {"note": {"type": "plain_text_input", "value": null}},
        });
        assert_eq!(
            command_from_view("promise ACME-001", &form, &values),
            "promise ACME-001 100 2026-12-01"
        );
        assert_eq!(
            field_for_error(&form, &values, "2026-12-01 is in the past"),
            "date"
        );
        assert_eq!(
            field_for_error(&form, &values, "The amount must be more"),
            "amount"
        );
    }
}
