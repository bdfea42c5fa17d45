//! What a handler gets and returns.
use super::{Actor, App};
use crate::commands::Typing;
use crate::domain::roles::Role;
use crate::message::Message;
use chrono::{DateTime, NaiveDate, Utc};

pub struct Ctx<'a> {
    pub app: &'a App,
    pub actor: &'a Actor,
    /// Vouched-for and granted roles together.
    pub roles: Vec<Role>,
    /// The agency an agency person acts for.
    pub agency: Option<String>,
    pub today: NaiveDate,
    pub now: DateTime<Utc>,
    pub channel: &'a str,
    pub request_id: &'a str,
}

impl Ctx<'_> {
    /// How the person asking types commands on their platform.
    pub fn typing(&self) -> Typing<'_> {
        self.app.typing(self.actor.platform)
    }

    /// `/ar resolve`, or on Discord `/ar-manage unflag`: command `name` as the person types it.
    pub fn typed(&self, name: &str) -> String {
        self.typing().command(name)
    }

    /// True when the person acts only as an agency: they see only their referred accounts.
    pub fn agency_only(&self) -> bool {
        self.roles.contains(&Role::Agency)
            && !self.roles.iter().any(|r| {
                matches!(
                    r,
                    Role::Collector | Role::Manager | Role::Finance | Role::Admin
                )
            })
    }

    /// The agency whose accounts alone this person may see (`None`: every account).
    pub fn account_scope(&self) -> Option<&str> {
        account_scope(&self.roles, self.agency.as_deref())
    }

    /// `Maria` (or the user id when there is no name).
    pub fn who(&self) -> &str {
        if self.actor.name.is_empty() {
            &self.actor.user_id
        } else {
            &self.actor.name
        }
    }
}

/// A handler's success: the reply, what the action row records, and for a button press the
/// line that replaces the buttons.
pub struct Done {
    pub reply: Message,
    pub subject: Option<String>,
    pub details: serde_json::Value,
    pub resolved: Option<String>,
    pub spent: Vec<String>,
    pub updated: Option<Message>,
}

impl Done {
    pub fn new(reply: Message, subject: impl Into<Option<String>>) -> Done {
        Done {
            reply,
            subject: subject.into(),
            details: serde_json::Value::Null,
            resolved: None,
            spent: vec![],
            updated: None,
        }
    }
    pub fn with_details(mut self, details: serde_json::Value) -> Done {
        self.details = details;
        self
    }
    pub fn resolved(mut self, line: String) -> Done {
        self.resolved = Some(line);
        self
    }
    pub fn updated(mut self, message: Message) -> Done {
        self.updated = Some(message);
        self
    }
}

/// A handler's failure: a person's mistake (refused, nothing written but the refusal) or ours.
#[derive(Debug)]
pub enum Fail {
    User(String),
    Internal(anyhow::Error),
}

impl From<sqlx::Error> for Fail {
    fn from(e: sqlx::Error) -> Fail {
        Fail::Internal(e.into())
    }
}

impl From<anyhow::Error> for Fail {
    fn from(e: anyhow::Error) -> Fail {
        Fail::Internal(e)
    }
}

/// `refuse!("...")`: return a refusal from a handler.
#[macro_export]
macro_rules! refuse {
    ($($t:tt)*) => { return Err($crate::app::Fail::User(format!($($t)*))) };
}

/// Staff see every account; anyone else only the accounts referred to their agency (none
/// without one: the empty name matches no agency).
pub fn account_scope<'a>(roles: &[Role], agency: Option<&'a str>) -> Option<&'a str> {
    if roles.iter().any(|r| {
        matches!(
            r,
            Role::Collector | Role::Manager | Role::Finance | Role::Admin
        )
    }) {
        None
    } else {
        Some(agency.unwrap_or(""))
    }
}
