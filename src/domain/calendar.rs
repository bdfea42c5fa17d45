//! Business days: Monday to Friday, less a configurable holiday list.
use chrono::NaiveDate;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Default)]
pub struct Calendar {
    holidays: BTreeSet<NaiveDate>,
}

impl Calendar {
    pub fn new(holidays: impl IntoIterator<Item = NaiveDate>) -> Calendar {
        Calendar {
            holidays: holidays.into_iter().collect(),
        }
    }

    /// Holidays as `YYYY-MM-DD` separated by commas, spaces or newlines; `#` starts a comment.
    pub fn parse_holidays(text: &str) -> Result<Vec<NaiveDate>, String> {
        todo!("{text}")
    }

    pub fn is_business_day(&self, d: NaiveDate) -> bool {
        todo!("{d}{:?}", self.holidays)
    }

    /// `n` business days after `d` (before it when negative); `0` returns `d` itself.
    pub fn add_business_days(&self, d: NaiveDate, n: i32) -> NaiveDate {
        todo!("{d}{n}")
    }

    /// Business days in `(from, to]` when `to > from`, the negated count of `(to, from]` when
    /// `to < from`, `0` when equal. So the due date itself is day 0, the next business day 1.
    pub fn business_days_between(&self, from: NaiveDate, to: NaiveDate) -> i32 {
        todo!("{from}{to}")
    }
}
