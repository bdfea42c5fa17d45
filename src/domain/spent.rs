//! Which buttons on a line stop applying once one of its commands took effect. An edge drops
//! just those from the message it acted on, so the line keeps the choices still open.

/// The commands (name and subject, as buttons carry them) that `command` on `subject` spends.
pub fn spent_after(command: &str, subject: &str) -> Vec<String> {
    let names: &[&str] = match command {
        // The promise is logged and chasing pauses until it is due; the account may still
        // need a management call.
        "promise" => &["promise", "remind"],
        // Another reminder within days is refused without --force.
        "remind" => &["remind"],
        // One open flag per account.
        "flag" => &["flag"],
        // An offer is decided once, either way.
        "settle" => &["settle"],
        other => return vec![format!("{other} {subject}")],
    };
    names.iter().map(|n| format!("{n} {subject}")).collect()
}

/// Whether a button's command is one of `spent` (same name and subject).
pub fn is_spent(spent: &[String], command: &str) -> bool {
    let mut words = command.split_whitespace();
    let head = match (words.next(), words.next()) {
        (Some(name), Some(subject)) => format!("{name} {subject}"),
        (Some(name), None) => name.to_string(),
        _ => return false,
    };
    spent.contains(&head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_promise_spends_the_reminder_but_not_the_flag() {
        let spent = spent_after("promise", "ACME-001");
        assert!(is_spent(&spent, "remind ACME-001"));
        assert!(!is_spent(&spent, "flag ACME-001"));
        assert!(is_spent(&spent, "promise ACME-001"));
        assert!(!is_spent(&spent, "remind ACME-002"));
    }

    #[test]
    fn a_decision_spends_both_choices() {
        let spent = spent_after("settle", "12");
        assert!(is_spent(&spent, "settle 12 approve"));
        assert!(is_spent(&spent, "settle 12 reject"));
        assert!(!is_spent(&spent, "settle 13 approve"));
        let spent = spent_after("flag", "ACME-001");
        assert!(is_spent(&spent, "flag ACME-001"));
        assert!(!is_spent(&spent, "remind ACME-001"));
    }
}
