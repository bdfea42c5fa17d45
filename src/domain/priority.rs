//! Ranks accounts: who to chase first.
use super::policy::TrackRecord;

#[derive(Debug, Clone, Copy)]
pub struct PriorityInput {
    /// Outstanding balance in minor units, and the currency's exponent to scale it.
    pub balance_minor: i64,
    pub exponent: u32,
    pub days_past_due: i64,
    pub track: TrackRecord,
}

/// A whole-number score, higher first: grows with the logarithm of the balance (so a
/// ten-times larger balance adds a fixed amount), with days past due (capped at 180), and
/// with the track record (delinquencies and, weighted more, broken promises, both capped).
pub fn score(input: &PriorityInput) -> u32 {
    todo!("{input:?}")
}
