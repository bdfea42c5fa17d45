//! Plain-text rendering for the terminal console and logs.
use crate::message::{Block, Message};

/// Renders a message as text; buttons show as the command they would run, so a console user
/// can type it.
pub fn render(msg: &Message) -> String {
    let mut out = String::new();
    for b in &msg.blocks {
        match b {
            Block::Header { text } => {
                out.push_str(&format!("== {text} ==\n"));
            }
            Block::Text { text } => {
                out.push_str(&text.replace('*', ""));
                out.push('\n');
            }
            Block::Fields { fields } => {
                let w = fields
                    .iter()
                    .map(|(k, _)| k.chars().count())
                    .max()
                    .unwrap_or(0);
                for (k, v) in fields {
                    out.push_str(&format!("  {k:<w$}  {v}\n"));
                }
            }
            Block::Item { text, buttons } => {
                out.push_str(&format!("  - {}\n", text.replace('*', "")));
                if !buttons.is_empty() {
                    let cmds: Vec<String> = buttons
                        .iter()
                        .map(|b| format!("[{}: {}]", b.label, b.command))
                        .collect();
                    out.push_str(&format!("      {}\n", cmds.join(" ")));
                }
            }
            Block::Context { text } => {
                out.push_str(&format!("  ({})\n", text.replace('*', "")));
            }
            Block::Divider => out.push_str("  --\n"),
        }
    }
    if out.is_empty() {
        out = msg.text.clone();
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Button, ButtonStyle};

    #[test]
    fn buttons_render_as_commands_a_console_user_can_type() {
        let msg = Message {
            text: "t".into(),
            blocks: vec![
                Block::Header {
                    text: "Digest".into(),
                },
                Block::Item {
                    text: "*ACME-001* owes".into(),
                    buttons: vec![Button {
                        label: "Approve".into(),
                        command: "settle 3 approve".into(),
                        style: ButtonStyle::Primary,
                        form: None,
                    }],
                },
            ],
            ..Default::default()
        };
        let text = render(&msg);
        assert!(text.contains("== Digest =="), "{text}");
        assert!(text.contains("- ACME-001 owes"), "{text}");
        assert!(text.contains("[Approve: settle 3 approve]"), "{text}");
    }
}
