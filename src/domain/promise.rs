//! Promise-to-pay state, resolved from payments.
use super::calendar::Calendar;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromiseStatus {
    Pending,
    Kept,
    Broken,
}

impl PromiseStatus {
    pub fn key(&self) -> &'static str {
        todo!()
    }
    pub fn parse(s: &str) -> Option<PromiseStatus> {
        todo!("{s}")
    }
}

#[derive(Debug, Clone)]
pub struct PromiseFacts {
    pub amount_minor: i64,
    pub promised_for: NaiveDate,
    pub logged_on: NaiveDate,
}

/// The last day a payment still keeps the promise: `promised_for` plus `grace` business days.
pub fn deadline(cal: &Calendar, promised_for: NaiveDate, grace: u32) -> NaiveDate {
    todo!("{cal:?}{promised_for}{grace}")
}

/// Kept once payments dated from `logged_on` through the deadline (and not after `as_of`) add up
/// to the amount; broken once `as_of` is past the deadline without that; pending otherwise.
/// `payments` are `(paid_on, amount_minor)` on the promise's account, in its currency.
pub fn evaluate(
    p: &PromiseFacts,
    payments: &[(NaiveDate, i64)],
    cal: &Calendar,
    grace: u32,
    as_of: NaiveDate,
) -> PromiseStatus {
    todo!("{p:?}{payments:?}{cal:?}{grace}{as_of}")
}
