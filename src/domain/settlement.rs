//! Settlement offers from agencies: proposed, then approved, rejected or withdrawn, once.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferStatus {
    Proposed,
    Approved,
    Rejected,
    Withdrawn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
    Withdraw,
}

impl OfferStatus {
    pub const ALL: [OfferStatus; 4] = [
        OfferStatus::Proposed,
        OfferStatus::Approved,
        OfferStatus::Rejected,
        OfferStatus::Withdrawn,
    ];

    /// The serde key, as stored.
    pub fn key(&self) -> &'static str {
        match self {
            OfferStatus::Proposed => "proposed",
            OfferStatus::Approved => "approved",
            OfferStatus::Rejected => "rejected",
            OfferStatus::Withdrawn => "withdrawn",
        }
    }
    /// Case-insensitive key.
    pub fn parse(s: &str) -> Option<OfferStatus> {
        let s = s.trim().to_ascii_lowercase();
        OfferStatus::ALL.into_iter().find(|o| o.key() == s)
    }
}

impl Decision {
    pub const ALL: [Decision; 3] = [Decision::Approve, Decision::Reject, Decision::Withdraw];

    /// The serde key: `approve`, `reject`, `withdraw`.
    pub fn key(&self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Reject => "reject",
            Decision::Withdraw => "withdraw",
        }
    }
    /// Case-insensitive; the verb (`approve`) or the past form (`approved`), as people type both.
    pub fn parse(s: &str) -> Option<Decision> {
        let s = s.trim().to_ascii_lowercase();
        Decision::ALL
            .into_iter()
            .find(|d| d.key() == s || d.past() == s)
    }
    /// Past tense for messages: `approved`, `rejected`, `withdrawn`.
    pub fn past(&self) -> &'static str {
        self.outcome().key()
    }
    /// The status the offer ends in.
    pub fn outcome(&self) -> OfferStatus {
        match self {
            Decision::Approve => OfferStatus::Approved,
            Decision::Reject => OfferStatus::Rejected,
            Decision::Withdraw => OfferStatus::Withdrawn,
        }
    }
}

/// Only a proposed offer can be decided. Refusals say what state it is in, e.g.
/// "offer 12 was already approved; nothing changed" (the caller adds who and when).
pub fn decide(
    offer_id: i64,
    current: OfferStatus,
    decision: Decision,
) -> Result<OfferStatus, String> {
    let target = decision.outcome();
    match current {
        OfferStatus::Proposed => Ok(target),
        done if done == target => Err(format!(
            "offer {offer_id} was already {}; nothing changed",
            done.key()
        )),
        done => Err(format!(
            "offer {offer_id} was {}; it can no longer be {}",
            done.key(),
            decision.past()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_match_serde() {
        for s in OfferStatus::ALL {
            assert_eq!(OfferStatus::parse(s.key()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.key())
            );
        }
        for d in Decision::ALL {
            assert_eq!(Decision::parse(d.key()), Some(d));
            assert_eq!(
                serde_json::to_string(&d).unwrap(),
                format!("\"{}\"", d.key())
            );
        }
        assert_eq!(
            OfferStatus::parse(" Approved "),
            Some(OfferStatus::Approved)
        );
        assert_eq!(OfferStatus::parse("approve"), None);
        assert_eq!(OfferStatus::parse(""), None);
    }

    #[test]
    fn decisions_accept_verb_and_past_forms() {
        assert_eq!(Decision::parse("approve"), Some(Decision::Approve));
        assert_eq!(Decision::parse("APPROVED"), Some(Decision::Approve));
        assert_eq!(Decision::parse("reject"), Some(Decision::Reject));
        assert_eq!(Decision::parse("rejected"), Some(Decision::Reject));
        assert_eq!(Decision::parse(" withdraw "), Some(Decision::Withdraw));
        assert_eq!(Decision::parse("withdrawn"), Some(Decision::Withdraw));
        assert_eq!(Decision::parse("proposed"), None);
        assert_eq!(Decision::parse("ok"), None);
        assert_eq!(Decision::Approve.past(), "approved");
        assert_eq!(Decision::Reject.past(), "rejected");
        assert_eq!(Decision::Withdraw.past(), "withdrawn");
    }

    #[test]
    fn only_a_proposed_offer_moves() {
        for d in Decision::ALL {
            assert_eq!(decide(1, OfferStatus::Proposed, d), Ok(d.outcome()));
        }
        for current in [
            OfferStatus::Approved,
            OfferStatus::Rejected,
            OfferStatus::Withdrawn,
        ] {
            for d in Decision::ALL {
                let e = decide(7, current, d).unwrap_err();
                assert!(e.starts_with("offer 7 was "), "{e}");
                assert!(e.contains(current.key()), "{e}");
            }
        }
    }

    #[test]
    fn refusals_are_specific() {
        assert_eq!(
            decide(12, OfferStatus::Approved, Decision::Approve).unwrap_err(),
            "offer 12 was already approved; nothing changed"
        );
        assert_eq!(
            decide(12, OfferStatus::Rejected, Decision::Approve).unwrap_err(),
            "offer 12 was rejected; it can no longer be approved"
        );
        assert_eq!(
            decide(3, OfferStatus::Withdrawn, Decision::Withdraw).unwrap_err(),
            "offer 3 was already withdrawn; nothing changed"
        );
        assert_eq!(
            decide(3, OfferStatus::Approved, Decision::Withdraw).unwrap_err(),
            "offer 3 was approved; it can no longer be withdrawn"
        );
        assert_eq!(
            decide(3, OfferStatus::Withdrawn, Decision::Reject).unwrap_err(),
            "offer 3 was withdrawn; it can no longer be rejected"
        );
    }
}
