//! Plain-text rendering for the terminal console and logs.
use crate::message::{Block, Mention, Message};

/// Renders a message as text; buttons show as the command they would run, so a console user
/// can type it.
pub fn render(msg: &Message) -> String {
    render_with(msg, &|_| vec![])
}

/// How a mention reads on the console: `@managers (maria, priya)`, `@Northwind Recovery (nina)`.
pub fn mention(m: &Mention, names: &[String]) -> String {
    let who = match m {
        Mention::Managers => "@managers".to_string(),
        Mention::Finance => "@finance".to_string(),
        Mention::Agency { name } => format!("@{name}"),
    };
    if names.is_empty() {
        who
    } else {
        format!("{who} ({})", names.join(", "))
    }
}

/// `render`, with the people each mention reaches (`names`) named on a first line.
pub fn render_with(msg: &Message, names: &dyn Fn(&Mention) -> Vec<String>) -> String {
    let mut out = String::new();
    if !msg.mentions.is_empty() {
        let line: Vec<String> = msg.mentions.iter().map(|m| mention(m, &names(m))).collect();
        out.push_str(&line.join(" "));
        out.push('\n');
    }
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
    if msg.blocks.is_empty() {
        out.push_str(&msg.text);
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

    #[test]
    fn a_ping_names_the_people_it_reaches() {
        let msg = Message::channel("Offer 3 needs a decision")
            .mentioning(Mention::Managers)
            .mentioning(Mention::Agency {
                name: "Northwind Recovery".into(),
            });
        let text = render_with(&msg, &|m| match m {
            Mention::Managers => vec!["maria".into(), "priya".into()],
            Mention::Finance | Mention::Agency { .. } => vec![],
        });
        assert_eq!(
            text,
            "@managers (maria, priya) @Northwind Recovery\nOffer 3 needs a decision"
        );
        assert_eq!(render(&Message::channel("plain")), "plain");
    }
}
