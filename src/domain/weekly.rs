//! The weekly summary's rules: which week a post reports, the weeks its chart covers, the
//! chart's series from AR per bucket, and whether each figure moved the good way.
use super::metrics::{Ratio, dso};
use chrono::{Datelike, Days, NaiveDate};
use serde::{Deserialize, Serialize};

/// Weeks the chart covers unless asked otherwise, and the most it draws.
pub const CHART_WEEKS: usize = 12;
pub const MAX_CHART_WEEKS: usize = 104;

/// The Monday of `date`'s ISO week: a post's week (one per channel and week).
pub fn week_start(date: NaiveDate) -> NaiveDate {
    date - Days::new(date.weekday().num_days_from_monday() as u64)
}

/// The ISO week before the one `run_date` falls in, Monday to Sunday: what a post reports,
/// whichever day its cron fires.
pub fn reported_week(run_date: NaiveDate) -> (NaiveDate, NaiveDate) {
    let this = week_start(run_date);
    (this - Days::new(7), this - Days::new(1))
}

/// `n` week ends, seven days apart, the last being `last`; oldest first.
pub fn week_ends(last: NaiveDate, n: usize) -> Vec<NaiveDate> {
    (0..n as u64)
        .rev()
        .map(|k| last - Days::new(7 * k))
        .collect()
}

/// One week of the chart: AR as of the week's last day, per aging bucket, and DSO then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgingWeek {
    /// The week's last day: the as-of date of its AR.
    pub end: NaiveDate,
    /// Minor units in `Bucket::ALL` order: current, 1-30, 31-60, 61-90, 90+.
    pub buckets: [i64; 5],
    /// DSO over the seven days to `end`, in tenths of a day (`None`: no sales that week).
    pub dso_tenths: Option<i64>,
}

/// The chart's input: one currency (amounts of two currencies never stack), oldest week first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgingSeries {
    pub currency: String,
    pub weeks: Vec<AgingWeek>,
}

/// AR per bucket and the week's sales as of one week end, in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekAging {
    pub end: NaiveDate,
    pub currency: String,
    pub buckets: [i64; 5],
    pub sales: i64,
}

/// The series for `currency` over `ends` (a week with nothing owed and no sales is zeros).
/// DSO is the standard formula over the seven days to each end, as the summary reports it.
pub fn series(rows: &[WeekAging], ends: &[NaiveDate], currency: &str) -> AgingSeries {
    let weeks = ends
        .iter()
        .map(|end| {
            let row = rows
                .iter()
                .find(|r| r.end == *end && r.currency == currency);
            let buckets = row.map_or([0; 5], |r| r.buckets);
            let sales = row.map_or(0, |r| r.sales);
            AgingWeek {
                end: *end,
                buckets,
                dso_tenths: dso(buckets.iter().sum(), sales, 7).map(|r| r.tenths() as i64),
            }
        })
        .collect();
    AgingSeries {
        currency: currency.to_string(),
        weeks,
    }
}

/// The currency with the most owed as of `end` (ties: alphabetical), for a chart that shows
/// one; `None` when nothing is owed in any.
pub fn main_currency(rows: &[WeekAging], end: NaiveDate) -> Option<String> {
    rows.iter()
        .filter(|r| r.end == end)
        .map(|r| (r.buckets.iter().sum::<i64>(), &r.currency))
        .filter(|(owed, _)| *owed > 0)
        .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(a.1)))
        .map(|(_, c)| c.clone())
}

/// Which way is good for a figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Lower,
    Higher,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
    Same,
}

/// How a figure moved from the previous week.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trend {
    pub direction: Direction,
    /// `Some(true)` when it moved the good way, `None` when it did not move or cannot be told.
    pub good: Option<bool>,
}

/// Compares two figures as they are shown (to one decimal): a change too small to show is no
/// change. Nothing to compare (either side missing) is `None`.
pub fn trend(now: Option<Ratio>, before: Option<Ratio>, better: Better) -> Option<Trend> {
    let (now, before) = (now?.tenths(), before?.tenths());
    let direction = match now.cmp(&before) {
        std::cmp::Ordering::Greater => Direction::Up,
        std::cmp::Ordering::Less => Direction::Down,
        std::cmp::Ordering::Equal => Direction::Same,
    };
    let good = match (direction, better) {
        (Direction::Same, _) => None,
        (Direction::Down, Better::Lower) | (Direction::Up, Better::Higher) => Some(true),
        _ => Some(false),
    };
    Some(Trend { direction, good })
}

/// "▼ from 45.1, better" / "▲ from 40.0, worse" / "= as before" / "" (nothing to compare).
pub fn describe(t: Option<Trend>, before: Option<Ratio>) -> String {
    let (Some(t), Some(before)) = (t, before) else {
        return String::new();
    };
    let arrow = match t.direction {
        Direction::Up => "▲",
        Direction::Down => "▼",
        Direction::Same => return "= as the week before".into(),
    };
    let verdict = match t.good {
        Some(true) => "better",
        Some(false) => "worse",
        None => "",
    };
    format!("{arrow} from {before}, {verdict}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn r(num: i128, den: i128) -> Option<Ratio> {
        Ratio::new(num, den)
    }

    #[test]
    fn a_post_reports_the_iso_week_before_its_own() {
        // Monday 2026-11-23 reports Monday 16 to Sunday 22 November.
        assert_eq!(week_start(d("2026-11-23")), d("2026-11-23"));
        assert_eq!(week_start(d("2026-11-29")), d("2026-11-23"));
        assert_eq!(
            reported_week(d("2026-11-23")),
            (d("2026-11-16"), d("2026-11-22"))
        );
        // A Friday cron reports the same week; across a year end too (ISO week 1 of 2027
        // starts on Monday 2027-01-04).
        assert_eq!(
            reported_week(d("2026-11-27")),
            (d("2026-11-16"), d("2026-11-22"))
        );
        assert_eq!(
            reported_week(d("2027-01-05")),
            (d("2026-12-28"), d("2027-01-03"))
        );
    }

    #[test]
    fn week_ends_are_a_week_apart_oldest_first() {
        let ends = week_ends(d("2026-11-22"), 12);
        assert_eq!(ends.len(), 12);
        assert_eq!(ends[0], d("2026-09-06"));
        assert_eq!(ends[11], d("2026-11-22"));
        assert!(ends.windows(2).all(|w| (w[1] - w[0]).num_days() == 7));
    }

    #[test]
    fn the_series_fills_missing_weeks_with_zeros_and_computes_weekly_dso() {
        let ends = week_ends(d("2026-11-22"), 2);
        let rows = vec![
            WeekAging {
                end: d("2026-11-22"),
                currency: "USD".into(),
                buckets: [70_000, 0, 0, 0, 0],
                sales: 35_000,
            },
            WeekAging {
                end: d("2026-11-22"),
                currency: "EUR".into(),
                buckets: [1, 0, 0, 0, 0],
                sales: 0,
            },
        ];
        let s = series(&rows, &ends, "USD");
        assert_eq!(s.weeks[0].buckets, [0; 5]);
        assert_eq!(s.weeks[0].dso_tenths, None, "no sales: no DSO");
        // DSO = 700.00 / 350.00 × 7 days = 14.0 days.
        assert_eq!(s.weeks[1].dso_tenths, Some(140));
        assert_eq!(main_currency(&rows, d("2026-11-22")), Some("USD".into()));
        assert_eq!(main_currency(&rows, d("2026-11-15")), None);
    }

    #[test]
    fn dso_down_is_good_and_cei_down_is_bad() {
        let down = trend(r(401, 10), r(451, 10), Better::Lower).unwrap();
        assert_eq!(down.direction, Direction::Down);
        assert_eq!(down.good, Some(true));
        assert_eq!(describe(Some(down), r(451, 10)), "▼ from 45.1, better");
        let cei = trend(r(80, 1), r(90, 1), Better::Higher).unwrap();
        assert_eq!(cei.good, Some(false));
        assert_eq!(describe(Some(cei), r(90, 1)), "▼ from 90.0, worse");
        // 40.01 and 40.04 both show as 40.0: no change.
        let same = trend(r(4001, 100), r(4004, 100), Better::Lower).unwrap();
        assert_eq!((same.direction, same.good), (Direction::Same, None));
        assert_eq!(trend(None, r(1, 1), Better::Lower), None);
        assert_eq!(describe(None, None), "");
    }
}
