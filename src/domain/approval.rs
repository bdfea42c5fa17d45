//! Who must approve a settlement offer: limits by the share of the balance it recovers, as
//! finance teams delegate (a near-full recovery is any manager's call; a deep discount needs
//! two people, one from finance). Pure: the handler brings the approvals recorded so far.
use crate::domain::roles::Role;
use serde::{Deserialize, Serialize};

/// One limit: offers recovering at least `at_least` percent of the balance need `approvals`
/// distinct approvers from `approvers`, among them someone holding each role in `require`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    pub at_least: u32,
    #[serde(default = "one")]
    pub approvals: u32,
    #[serde(default = "deciders")]
    pub approvers: Vec<Role>,
    #[serde(default)]
    pub require: Vec<Role>,
}

fn one() -> u32 {
    1
}

fn deciders() -> Vec<Role> {
    vec![Role::Manager, Role::Finance]
}

/// The policy's limits, highest share first. The default is today's rule: one manager.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub tiers: Vec<Tier>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            tiers: vec![Tier {
                at_least: 0,
                approvals: 1,
                approvers: vec![Role::Manager],
                require: vec![],
            }],
        }
    }
}

/// One approval already given: who (a stable key such as `slack:U123`) and the roles they held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Given {
    pub who: String,
    pub roles: Vec<Role>,
}

/// Where an offer stands after an approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Enough: the offer is approved.
    Complete,
    /// `have` of `of` approvals; `missing` roles must still be among the next approvers.
    Waiting {
        have: u32,
        of: u32,
        missing: Vec<Role>,
    },
}

impl Progress {
    /// "1 of 2 approvals; needs finance", for buttons and replies.
    pub fn describe(&self) -> String {
        match self {
            Progress::Complete => "approved".into(),
            Progress::Waiting { have, of, missing } => {
                let mut s = format!("{have} of {of} approvals");
                if !missing.is_empty() {
                    let roles: Vec<&str> = missing.iter().map(Role::key).collect();
                    s.push_str(&format!("; needs {}", roles.join(" and ")));
                }
                s
            }
        }
    }
}

/// Percent of `balance` that `offer` recovers, rounded down (so 89.9% is not "at least 90").
pub fn share(offer_minor: i64, balance_minor: i64) -> u32 {
    if balance_minor <= 0 {
        return 100;
    }
    (offer_minor.max(0) as i128 * 100 / balance_minor as i128).min(u32::MAX as i128) as u32
}

impl Limits {
    /// The tiers sorted highest share first; a file must cover every share (one tier at 0).
    pub fn validate(mut self) -> Result<Limits, String> {
        if self.tiers.is_empty() {
            return Ok(Limits::default());
        }
        self.tiers.sort_by_key(|t| std::cmp::Reverse(t.at_least));
        if let Some(w) = self
            .tiers
            .windows(2)
            .find(|w| w[0].at_least == w[1].at_least)
        {
            return Err(format!(
                "policy: two [[settlement_approval]] tiers have at_least = {}; each share needs one rule",
                w[0].at_least
            ));
        }
        for t in &self.tiers {
            if t.at_least > 100 {
                return Err(format!(
                    "policy: [[settlement_approval]] at_least = {} is above 100; it is a percent of the balance",
                    t.at_least
                ));
            }
            if t.approvals == 0 || t.approvals > 5 {
                return Err(format!(
                    "policy: [[settlement_approval]] at_least = {}: approvals = {} must be 1 to 5",
                    t.at_least, t.approvals
                ));
            }
            if t.approvers.is_empty()
                || t.approvers
                    .iter()
                    .any(|r| matches!(r, Role::Agency | Role::Collector))
            {
                return Err(format!(
                    "policy: [[settlement_approval]] at_least = {}: approvers must be manager and/or finance",
                    t.at_least
                ));
            }
            if t.require.len() as u32 > t.approvals {
                return Err(format!(
                    "policy: [[settlement_approval]] at_least = {}: require names {} roles but approvals = {}",
                    t.at_least,
                    t.require.len(),
                    t.approvals
                ));
            }
            if let Some(r) = t.require.iter().find(|r| !t.approvers.contains(r)) {
                return Err(format!(
                    "policy: [[settlement_approval]] at_least = {}: require = [\"{}\"] must also be in approvers",
                    t.at_least,
                    r.key()
                ));
            }
        }
        if self.tiers.last().map(|t| t.at_least) != Some(0) {
            return Err(
                "policy: [[settlement_approval]] needs a tier with at_least = 0, so every offer has an approver"
                    .into(),
            );
        }
        Ok(self)
    }

    /// The tier an offer of `share` percent falls in.
    pub fn tier(&self, share: u32) -> &Tier {
        self.tiers
            .iter()
            .find(|t| share >= t.at_least)
            .or(self.tiers.last())
            .expect("validated limits have a tier at 0")
    }
}

impl Tier {
    /// Whether someone holding `roles` may approve or reject at this tier (admins always may).
    pub fn may_decide(&self, roles: &[Role]) -> bool {
        roles.contains(&Role::Admin) || roles.iter().any(|r| self.approvers.contains(r))
    }

    /// Where `given` leaves the offer.
    pub fn progress(&self, given: &[Given]) -> Progress {
        let have = given.len() as u32;
        let missing: Vec<Role> = self
            .require
            .iter()
            .copied()
            .filter(|r| !given.iter().any(|g| g.roles.contains(r)))
            .collect();
        if have >= self.approvals && missing.is_empty() {
            Progress::Complete
        } else {
            Progress::Waiting {
                have,
                of: self.approvals,
                missing,
            }
        }
    }

    /// Adds `next` to `given`, or says why it cannot count; nothing is recorded on an error.
    pub fn approve(&self, given: &[Given], next: &Given) -> Result<Progress, String> {
        if !self.may_decide(&next.roles) {
            return Err(format!(
                "this offer needs approval from {}",
                roles_text(&self.approvers)
            ));
        }
        if given.iter().any(|g| g.who == next.who) {
            return Err(format!(
                "you already approved it; it still needs {}",
                self.progress(given).describe()
            ));
        }
        let mut after = given.to_vec();
        after.push(next.clone());
        let progress = self.progress(&after);
        if let Progress::Waiting { have, of, missing } = &progress {
            let slots = of.saturating_sub(*have);
            if (missing.len() as u32) > slots {
                let before = self.progress(given);
                return Err(format!(
                    "it has {} and the remaining approval must come from {}",
                    before.describe(),
                    roles_text(&missing_of(&before))
                ));
            }
        }
        Ok(progress)
    }
}

fn missing_of(p: &Progress) -> Vec<Role> {
    match p {
        Progress::Complete => vec![],
        Progress::Waiting { missing, .. } => missing.clone(),
    }
}

fn roles_text(roles: &[Role]) -> String {
    let keys: Vec<&str> = roles.iter().map(Role::key).collect();
    match keys.as_slice() {
        [] => "nobody".into(),
        [one] => format!("a {one}"),
        many => format!("a {}", many.join(" or a ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiers() -> Limits {
        Limits {
            tiers: vec![
                Tier {
                    at_least: 70,
                    approvals: 1,
                    approvers: vec![Role::Manager],
                    require: vec![],
                },
                Tier {
                    at_least: 0,
                    approvals: 2,
                    approvers: vec![Role::Manager, Role::Finance],
                    require: vec![Role::Finance],
                },
                Tier {
                    at_least: 90,
                    approvals: 1,
                    approvers: vec![Role::Manager, Role::Finance],
                    require: vec![],
                },
            ],
        }
        .validate()
        .unwrap()
    }

    fn g(who: &str, roles: &[Role]) -> Given {
        Given {
            who: who.into(),
            roles: roles.to_vec(),
        }
    }

    #[test]
    fn the_share_rounds_down_and_picks_its_tier() {
        let l = tiers();
        assert_eq!(share(8_999, 10_000), 89);
        assert_eq!(share(9_000, 10_000), 90);
        assert_eq!(l.tier(share(9_000, 10_000)).at_least, 90);
        assert_eq!(l.tier(share(8_999, 10_000)).at_least, 70);
        assert_eq!(l.tier(share(6_999, 10_000)).at_least, 0);
        assert_eq!(share(500, 0), 100);
    }

    #[test]
    fn a_deep_discount_needs_a_manager_and_finance() {
        let t = tiers().tier(50).clone();
        let maria = g("slack:M", &[Role::Manager]);
        let first = t.approve(&[], &maria).unwrap();
        assert_eq!(first.describe(), "1 of 2 approvals; needs finance");
        // A second manager without finance cannot take the last slot.
        let err = t
            .approve(
                std::slice::from_ref(&maria),
                &g("slack:P", &[Role::Manager]),
            )
            .unwrap_err();
        assert!(err.contains("must come from a finance"), "{err}");
        // The same person twice does not count twice.
        let err = t.approve(std::slice::from_ref(&maria), &maria).unwrap_err();
        assert!(err.contains("already approved"), "{err}");
        let done = t
            .approve(&[maria], &g("discord:F", &[Role::Finance]))
            .unwrap();
        assert_eq!(done, Progress::Complete);
    }

    #[test]
    fn one_person_with_both_roles_counts_once() {
        let t = tiers().tier(10).clone();
        let both = g("slack:B", &[Role::Manager, Role::Finance]);
        let p = t.approve(&[], &both).unwrap();
        assert_eq!(
            p,
            Progress::Waiting {
                have: 1,
                of: 2,
                missing: vec![]
            }
        );
        assert_eq!(p.describe(), "1 of 2 approvals");
        assert_eq!(
            t.approve(&[both], &g("slack:M", &[Role::Manager])),
            Ok(Progress::Complete)
        );
    }

    #[test]
    fn who_may_decide_follows_the_tier() {
        let l = tiers();
        assert!(!l.tier(80).may_decide(&[Role::Finance]));
        assert!(l.tier(80).may_decide(&[Role::Manager]));
        assert!(l.tier(95).may_decide(&[Role::Finance]));
        assert!(l.tier(10).may_decide(&[Role::Admin]));
        assert!(!l.tier(10).may_decide(&[Role::Collector]));
        let err = l
            .tier(80)
            .approve(&[], &g("x", &[Role::Finance]))
            .unwrap_err();
        assert_eq!(err, "this offer needs approval from a manager");
    }

    #[test]
    fn the_default_is_one_manager() {
        let l = Limits::default();
        let t = l.tier(10);
        assert_eq!(
            t.approve(&[], &g("m", &[Role::Manager])),
            Ok(Progress::Complete)
        );
        assert!(!t.may_decide(&[Role::Finance]));
    }

    #[test]
    fn bad_limits_are_named() {
        let bad = |t: Tier| Limits { tiers: vec![t] }.validate().unwrap_err();
        let base = Tier {
            at_least: 0,
            approvals: 1,
            approvers: vec![Role::Manager],
            require: vec![],
        };
        assert!(
            bad(Tier {
                at_least: 50,
                ..base.clone()
            })
            .contains("at_least = 0")
        );
        let twice = Limits {
            tiers: vec![base.clone(), base.clone()],
        };
        assert!(
            twice
                .validate()
                .unwrap_err()
                .contains("two [[settlement_approval]]")
        );
        assert!(
            bad(Tier {
                approvals: 0,
                ..base.clone()
            })
            .contains("1 to 5")
        );
        assert!(
            bad(Tier {
                require: vec![Role::Finance],
                ..base.clone()
            })
            .contains("must also be in approvers")
        );
        assert!(
            bad(Tier {
                approvers: vec![Role::Collector],
                ..base
            })
            .contains("manager and/or finance")
        );
    }
}
