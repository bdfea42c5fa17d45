//! Aging buckets by calendar days past due, as AR reports use them.
use chrono::NaiveDate;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Bucket {
    Current,
    Days1To30,
    Days31To60,
    Days61To90,
    Over90,
}

impl Bucket {
    pub const ALL: [Bucket; 5] = [
        Bucket::Current,
        Bucket::Days1To30,
        Bucket::Days31To60,
        Bucket::Days61To90,
        Bucket::Over90,
    ];

    /// `days <= 0` is current.
    pub fn for_days_past_due(days: i64) -> Bucket {
        todo!("{days}")
    }

    /// `current`, `1-30`, `31-60`, `61-90`, `90+`.
    pub fn label(&self) -> &'static str {
        todo!()
    }
}

/// Calendar days from `due` to `as_of`; negative while not yet due.
pub fn days_past_due(due: NaiveDate, as_of: NaiveDate) -> i64 {
    (as_of - due).num_days()
}
