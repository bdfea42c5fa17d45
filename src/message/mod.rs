//! What the core says, before any platform shapes it. Edges render this into Block Kit,
//! Discord embeds and components, or plain text; nothing platform-specific lives here.
pub mod forms;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Only the person who asked sees it.
    #[default]
    Ephemeral,
    /// Everyone in the channel sees it.
    Channel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ButtonStyle {
    #[default]
    Default,
    Primary,
    Danger,
}

/// A field of a form (a Slack modal, a Discord modal) that completes a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormField {
    /// The command option it fills, e.g. `amount`.
    pub name: String,
    pub label: String,
    /// `amount`, `date` or `text` (from the option's kind).
    pub kind: String,
    pub required: bool,
    pub placeholder: String,
    /// Values to pick from, where the platform's forms have a select (else typed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
}

/// A button whose command still lacks options opens a form for them first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Form {
    pub title: String,
    pub fields: Vec<FormField>,
}

/// Pressing a button runs `command` (e.g. `settle 12 approve`) as the presser, through the same
/// parser and permission checks as a typed command. Edges put it in the button's value or
/// custom id; it stays well under 100 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    pub label: String,
    pub command: String,
    pub style: ButtonStyle,
    /// Options the person must still supply, gathered in a form, appended to `command` in
    /// the form's field order.
    pub form: Option<Form>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Block {
    Header {
        text: String,
    },
    /// A paragraph; `*bold*` is the only markup.
    Text {
        text: String,
    },
    /// Label and value pairs, shown in columns where the platform can.
    Fields {
        fields: Vec<(String, String)>,
    },
    /// One line of a list with its buttons (a digest entry).
    Item {
        text: String,
        buttons: Vec<Button>,
    },
    /// Small print.
    Context {
        text: String,
    },
    Divider,
}

/// Who a message must notify, named the core's way; each edge turns it into its platform's
/// mention (a Discord role, a Slack user group or people, names on the console). A channel
/// post without one reaches only those who happen to watch the channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Mention {
    /// The people who decide: offers and management-call flags.
    Managers,
    /// Finance, whose approval a deep settlement discount needs (the policy's limits).
    Finance,
    /// The people who act for this agency: its decisions and referrals.
    Agency { name: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Message {
    /// Plain-text summary: the notification text and the fallback where blocks don't render.
    pub text: String,
    pub blocks: Vec<Block>,
    pub visibility: Visibility,
    /// Who must be notified (defaulted so outbox rows queued before it still parse).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<Mention>,
    /// What the message is about when later events must change every copy of it, e.g.
    /// `offer:12`: edges and deliverers record where such a message lands, and the decision
    /// edits each copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
}

impl Message {
    /// A plain reply seen only by the person who asked.
    pub fn ephemeral(text: impl Into<String>) -> Message {
        let text = text.into();
        Message {
            blocks: vec![Block::Text { text: text.clone() }],
            text,
            visibility: Visibility::Ephemeral,
            ..Default::default()
        }
    }

    /// A plain reply the whole channel sees.
    pub fn channel(text: impl Into<String>) -> Message {
        Message {
            visibility: Visibility::Channel,
            ..Message::ephemeral(text)
        }
    }

    /// A decided request as every copy of it reads from then on: its line without the
    /// choices, and "✅ <resolved>. Note: …" below it, about `topic`.
    pub fn decided(
        text: String,
        line: String,
        resolved: &str,
        note: Option<&str>,
        topic: String,
    ) -> Message {
        Message {
            text,
            blocks: vec![
                Block::Item {
                    text: line,
                    buttons: vec![],
                },
                Block::Context {
                    text: format!(
                        "✅ {resolved}.{}",
                        note.map(|n| format!(" Note: {n}")).unwrap_or_default()
                    ),
                },
            ],
            visibility: Visibility::Channel,
            topic: Some(topic),
            ..Default::default()
        }
    }

    /// Who must be notified.
    pub fn mentioning(mut self, mention: Mention) -> Message {
        self.mentions.push(mention);
        self
    }

    /// Keeps only the buttons `keep` accepts (e.g. those the reader may press).
    pub fn retain_buttons(&mut self, mut keep: impl FnMut(&Button) -> bool) {
        for b in &mut self.blocks {
            if let Block::Item { buttons, .. } = b {
                buttons.retain(&mut keep);
            }
        }
    }

    pub fn buttons(&self) -> impl Iterator<Item = &Button> {
        self.blocks.iter().flat_map(|b| match b {
            Block::Item { buttons, .. } => buttons.as_slice(),
            _ => &[],
        })
    }
}
