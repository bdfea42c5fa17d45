//! Button and modal `custom_id`s. They carry the command itself (no server-side state), so a
//! button posted yesterday still works after a restart, on any replica.
//!
//! `r:<n>:<command>` runs the command; `f:<n>:<command>` opens the command's form first;
//! `m:<command>` is a submitted form. `<n>` keeps ids unique within one message (Discord
//! refuses duplicates, and the same account may appear twice in a digest).

/// Discord's limit on a `custom_id`.
pub const MAX: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomId {
    /// Run the command as the presser.
    Run(String),
    /// Open the form that completes the command.
    Form(String),
    /// A submitted form for the command.
    Modal(String),
}

/// The id for a button, or `None` when it would exceed Discord's 100 characters.
pub fn button(seq: usize, command: &str, opens_form: bool) -> Option<String> {
    let kind = if opens_form { 'f' } else { 'r' };
    fit(format!("{kind}:{seq}:{command}"))
}

/// The id for the modal that completes `command`.
pub fn modal(command: &str) -> Option<String> {
    fit(format!("m:{command}"))
}

fn fit(id: String) -> Option<String> {
    (id.chars().count() <= MAX).then_some(id)
}

/// Reads an id back; `None` for ids dunbot did not make.
pub fn parse(id: &str) -> Option<CustomId> {
    let (kind, rest) = id.split_once(':')?;
    let command = match kind {
        "r" | "f" => rest.split_once(':')?.1,
        "m" => rest,
        _ => return None,
    };
    if command.trim().is_empty() {
        return None;
    }
    let command = command.to_string();
    Some(match kind {
        "r" => CustomId::Run(command),
        "f" => CustomId::Form(command),
        _ => CustomId::Modal(command),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_stay_under_the_limit() {
        let id = button(3, "settle 12 approve", false).unwrap();
        assert_eq!(id, "r:3:settle 12 approve");
        assert_eq!(parse(&id), Some(CustomId::Run("settle 12 approve".into())));
        let id = button(0, "promise ACME:001", true).unwrap();
        assert_eq!(parse(&id), Some(CustomId::Form("promise ACME:001".into())));
        let id = modal("promise ACME-001").unwrap();
        assert_eq!(parse(&id), Some(CustomId::Modal("promise ACME-001".into())));
        assert!(button(1, &"x".repeat(97), false).is_none());
        assert!(button(1, &"x".repeat(96), false).is_some());
    }

    #[test]
    fn foreign_ids_are_not_ours() {
        for id in ["", "hello", "z:1:remind A", "r:1:", "r:remind"] {
            assert_eq!(parse(id), None, "{id}");
        }
    }
}
