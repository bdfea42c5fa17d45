//! Who may do what.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Collector,
    Manager,
    Agency,
    Admin,
    /// Finance: approves deep settlement discounts beside a manager (the policy's limits).
    Finance,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Collector,
        Role::Manager,
        Role::Agency,
        Role::Admin,
        Role::Finance,
    ];

    pub fn parse(s: &str) -> Option<Role> {
        let s = s.trim().trim_start_matches('@').to_ascii_lowercase();
        Role::ALL.into_iter().find(|r| r.key() == s)
    }

    pub fn key(&self) -> &'static str {
        match self {
            Role::Collector => "collector",
            Role::Manager => "manager",
            Role::Agency => "agency",
            Role::Admin => "admin",
            Role::Finance => "finance",
        }
    }
}

/// True when any of `held` is in `allowed`; admins may run everything.
pub fn permits(held: &[Role], allowed: &[Role]) -> bool {
    held.contains(&Role::Admin) || held.iter().any(|r| allowed.contains(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_may_run_anything_others_only_what_is_listed() {
        assert!(permits(&[Role::Admin], &[Role::Manager]));
        assert!(permits(&[Role::Collector, Role::Manager], &[Role::Manager]));
        assert!(!permits(&[Role::Collector], &[Role::Manager]));
        assert!(!permits(&[], &[Role::Collector]));
        assert_eq!(Role::parse(" Manager "), Some(Role::Manager));
        assert_eq!(Role::parse("boss"), None);
    }
}
