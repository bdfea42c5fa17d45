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
    pub fn key(&self) -> &'static str {
        todo!()
    }
    pub fn parse(s: &str) -> Option<OfferStatus> {
        todo!("{s}")
    }
}

impl Decision {
    pub fn parse(s: &str) -> Option<Decision> {
        todo!("{s}")
    }
    /// Past tense for messages: `approved`, `rejected`, `withdrawn`.
    pub fn past(&self) -> &'static str {
        todo!()
    }
}

/// Only a proposed offer can be decided. Refusals say what state it is in, e.g.
/// "offer 12 was already approved; nothing changed" (the caller adds who and when).
pub fn decide(
    offer_id: i64,
    current: OfferStatus,
    decision: Decision,
) -> Result<OfferStatus, String> {
    todo!("{offer_id}{current:?}{decision:?}")
}
