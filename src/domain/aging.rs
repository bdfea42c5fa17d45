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
        match days {
            i64::MIN..=0 => Bucket::Current,
            1..=30 => Bucket::Days1To30,
            31..=60 => Bucket::Days31To60,
            61..=90 => Bucket::Days61To90,
            _ => Bucket::Over90,
        }
    }

    /// The oldest past-due bucket holding money, given amounts in `ALL` order.
    pub fn oldest_past_due(amounts: [i64; 5]) -> Option<Bucket> {
        Bucket::ALL
            .into_iter()
            .zip(amounts)
            .skip(1)
            .rev()
            .find(|(_, minor)| *minor > 0)
            .map(|(b, _)| b)
    }

    /// `current`, `1-30`, `31-60`, `61-90`, `90+`.
    pub fn label(&self) -> &'static str {
        match self {
            Bucket::Current => "current",
            Bucket::Days1To30 => "1-30",
            Bucket::Days31To60 => "31-60",
            Bucket::Days61To90 => "61-90",
            Bucket::Over90 => "90+",
        }
    }
}

/// Calendar days from `due` to `as_of`; negative while not yet due.
pub fn days_past_due(due: NaiveDate, as_of: NaiveDate) -> i64 {
    (as_of - due).num_days()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn bucket_boundaries() {
        let cases = [
            (i64::MIN, Bucket::Current),
            (-5, Bucket::Current),
            (0, Bucket::Current),
            (1, Bucket::Days1To30),
            (30, Bucket::Days1To30),
            (31, Bucket::Days31To60),
            (60, Bucket::Days31To60),
            (61, Bucket::Days61To90),
            (90, Bucket::Days61To90),
            (91, Bucket::Over90),
            (i64::MAX, Bucket::Over90),
        ];
        for (days, bucket) in cases {
            assert_eq!(Bucket::for_days_past_due(days), bucket, "{days}");
        }
    }

    #[test]
    fn the_oldest_past_due_bucket_ignores_current_money() {
        assert_eq!(Bucket::oldest_past_due([5, 0, 0, 0, 0]), None);
        assert_eq!(
            Bucket::oldest_past_due([5, 1, 0, 7, 0]),
            Some(Bucket::Days61To90)
        );
        assert_eq!(
            Bucket::oldest_past_due([0, 0, 0, 0, 1]),
            Some(Bucket::Over90)
        );
    }

    #[test]
    fn labels_are_distinct_and_in_order() {
        let labels: Vec<_> = Bucket::ALL.iter().map(Bucket::label).collect();
        assert_eq!(labels, ["current", "1-30", "31-60", "61-90", "90+"]);
        assert!(Bucket::ALL.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn days_past_due_counts_calendar_days() {
        assert_eq!(days_past_due(d("2026-11-02"), d("2026-11-02")), 0);
        assert_eq!(days_past_due(d("2026-11-02"), d("2026-12-02")), 30);
        assert_eq!(days_past_due(d("2026-11-02"), d("2026-10-30")), -3);
        assert_eq!(
            Bucket::for_days_past_due(days_past_due(d("2026-01-01"), d("2026-04-02"))),
            Bucket::Over90
        );
    }
}
