//! What an edge hands the core, and what it gets back.
use crate::domain::roles::Role;
use crate::message::Message;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Console,
    Cli,
    Slack,
    Discord,
    /// dunbot itself: the scheduler and automatic steps.
    System,
}

impl Platform {
    pub fn key(&self) -> &'static str {
        match self {
            Platform::Console => "console",
            Platform::Cli => "cli",
            Platform::Slack => "slack",
            Platform::Discord => "discord",
            Platform::System => "system",
        }
    }
}

/// Who is asking. Roles are those the platform vouches for (Discord roles, the console's
/// `--role`); the core adds those granted in the ledger to `(platform, user_id)`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Actor {
    pub platform: Platform,
    pub user_id: String,
    pub name: String,
    pub roles: Vec<Role>,
    /// For an agency person vouched for by the platform: the agency's name.
    pub agency: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Command,
    Button,
    Form,
}

#[derive(Debug, Clone)]
pub struct Invocation {
    pub actor: Actor,
    /// `platform:id`, e.g. `slack:C0123`, `console:local`.
    pub channel: String,
    /// The platform's request, interaction or trigger id: the same id twice acts once.
    pub request_id: String,
    /// The command line without the root name, e.g. `promise ACME-001 100 fri`.
    pub text: String,
    pub source: Source,
    pub now: DateTime<Utc>,
    /// The business date to act as of; `None` means today in the company's time zone.
    pub as_of: Option<NaiveDate>,
}

/// The core's answer.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub reply: Message,
    /// The request changed nothing because it was refused.
    pub refused: bool,
    /// The same request id was seen before; `reply` is the earlier answer.
    pub replayed: bool,
    /// For a button press that took effect: one line to put on the original message in place
    /// of the buttons that no longer apply, e.g. "Approved by Maria at 10:42".
    pub resolved: Option<String>,
    /// With `resolved`: the commands (name and subject, e.g. `remind ACME-001`) whose buttons
    /// no longer apply after this one; the line keeps its other buttons. Empty: the pressed
    /// button's row goes.
    pub spent: Vec<String>,
    /// For a decision: what every copy of the decided message now says (its `topic` names
    /// it); an edge shows it in place of the pressed copy when that copy is one of them.
    pub updated: Option<Message>,
}
