//! Business days: Monday to Friday, less a configurable holiday list.
use chrono::{Datelike, Days, NaiveDate, Weekday};
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
    /// Returned sorted without duplicates; the first bad token is named in the error.
    pub fn parse_holidays(text: &str) -> Result<Vec<NaiveDate>, String> {
        let mut out = BTreeSet::new();
        for (no, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("");
            for token in line.split(|c: char| c == ',' || c.is_whitespace()) {
                if token.is_empty() {
                    continue;
                }
                out.insert(parse_iso(token).ok_or_else(|| {
                    format!(
                        "holiday \"{token}\" (line {}) is not a date: write YYYY-MM-DD, e.g. 2026-12-25",
                        no + 1
                    )
                })?);
            }
        }
        Ok(out.into_iter().collect())
    }

    pub fn is_business_day(&self, d: NaiveDate) -> bool {
        !is_weekend(d) && !self.holidays.contains(&d)
    }

    /// `n` business days after `d` (before it when negative); `0` returns `d` itself.
    /// Steps day by day, so a non-business `d` itself never counts. Saturates at the
    /// calendar's limits rather than panicking.
    pub fn add_business_days(&self, d: NaiveDate, n: i32) -> NaiveDate {
        let mut day = d;
        for _ in 0..n.unsigned_abs() {
            loop {
                let step = if n > 0 {
                    day.checked_add_days(Days::new(1))
                } else {
                    day.checked_sub_days(Days::new(1))
                };
                match step {
                    Some(next) => day = next,
                    None => return day,
                }
                if self.is_business_day(day) {
                    break;
                }
            }
        }
        day
    }

    /// Business days in `(from, to]` when `to > from`, the negated count of `(to, from]` when
    /// `to < from`, `0` when equal. So the due date itself is day 0, the next business day 1.
    pub fn business_days_between(&self, from: NaiveDate, to: NaiveDate) -> i32 {
        if to >= from {
            self.count_half_open(from, to)
        } else {
            -self.count_half_open(to, from)
        }
    }

    /// Business days in `(a, b]` for `a <= b`: whole weeks by arithmetic, the rest by walking,
    /// then holidays on weekdays in range subtracted (so long spans stay cheap).
    fn count_half_open(&self, a: NaiveDate, b: NaiveDate) -> i32 {
        if a >= b {
            return 0;
        }
        let days = (b - a).num_days();
        let mut count = days / 7 * 5;
        let mut day = a;
        for _ in 0..days % 7 {
            day = day.succ_opt().unwrap_or(day);
            if !is_weekend(day) {
                count += 1;
            }
        }
        let off = self
            .holidays
            .range(a.succ_opt().unwrap_or(a)..=b)
            .filter(|h| !is_weekend(**h))
            .count() as i64;
        // Chrono's whole range is ~190M days, far below i32::MAX.
        i32::try_from(count - off).unwrap_or(i32::MAX)
    }
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Strict `YYYY-MM-DD` (zero-padded), so `2026-1-5` or `26-01-05` are not silently guessed.
fn parse_iso(token: &str) -> Option<NaiveDate> {
    let b = token.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return None;
    }
    NaiveDate::parse_from_str(token, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// Naive day-by-day reference for `business_days_between`.
    fn slow_between(cal: &Calendar, from: NaiveDate, to: NaiveDate) -> i32 {
        let (lo, hi, sign) = if to >= from {
            (from, to, 1)
        } else {
            (to, from, -1)
        };
        let mut n = 0;
        let mut day = lo;
        while day < hi {
            day = day.succ_opt().unwrap();
            if cal.is_business_day(day) {
                n += 1;
            }
        }
        sign * n
    }

    #[test]
    fn parse_holidays_accepts_separators_and_comments() {
        let text =
            "2026-12-25, 2026-12-26 # Christmas\n# whole line comment\n\n2026-01-01\t2026-12-25";
        assert_eq!(
            Calendar::parse_holidays(text).unwrap(),
            vec![d("2026-01-01"), d("2026-12-25"), d("2026-12-26")]
        );
        assert_eq!(Calendar::parse_holidays("").unwrap(), vec![]);
        assert_eq!(Calendar::parse_holidays("  # none\n").unwrap(), vec![]);
    }

    #[test]
    fn parse_holidays_names_the_bad_token() {
        for bad in [
            "2026-13-01",
            "2026-02-30",
            "2026-1-5",
            "26-01-05",
            "christmas",
            "2026/12/25",
        ] {
            let e = Calendar::parse_holidays(&format!("2026-01-01\n{bad}")).unwrap_err();
            assert!(e.contains(&format!("\"{bad}\"")), "{e}");
            assert!(e.contains("line 2") && e.contains("YYYY-MM-DD"), "{e}");
        }
    }

    #[test]
    fn weekends_and_holidays_are_not_business_days() {
        let cal = Calendar::new([d("2026-12-25")]);
        assert!(cal.is_business_day(d("2026-12-24"))); // Thursday
        assert!(!cal.is_business_day(d("2026-12-25"))); // Friday holiday
        assert!(!cal.is_business_day(d("2026-12-26"))); // Saturday
        assert!(!cal.is_business_day(d("2026-12-27"))); // Sunday
        assert!(cal.is_business_day(d("2026-12-28"))); // Monday
    }

    #[test]
    fn add_business_days_skips_weekends_and_holidays() {
        let cal = Calendar::default();
        let fri = d("2026-11-06");
        assert_eq!(cal.add_business_days(fri, 0), fri);
        assert_eq!(cal.add_business_days(fri, 1), d("2026-11-09"));
        assert_eq!(cal.add_business_days(fri, 5), d("2026-11-13"));
        assert_eq!(cal.add_business_days(fri, -1), d("2026-11-05"));
        assert_eq!(cal.add_business_days(d("2026-11-09"), -1), fri);
        // From a weekend day the day itself never counts.
        let sat = d("2026-11-07");
        assert_eq!(cal.add_business_days(sat, 0), sat);
        assert_eq!(cal.add_business_days(sat, 1), d("2026-11-09"));
        assert_eq!(cal.add_business_days(sat, -1), fri);
        let hol = Calendar::new([d("2026-11-09")]);
        assert_eq!(hol.add_business_days(fri, 1), d("2026-11-10"));
        assert_eq!(hol.add_business_days(d("2026-11-10"), -1), fri);
    }

    #[test]
    fn add_business_days_saturates_at_the_calendar_edge() {
        let cal = Calendar::default();
        assert_eq!(cal.add_business_days(NaiveDate::MAX, 3), NaiveDate::MAX);
        assert_eq!(cal.add_business_days(NaiveDate::MIN, -3), NaiveDate::MIN);
    }

    #[test]
    fn between_counts_the_due_date_as_day_zero() {
        let cal = Calendar::default();
        let fri = d("2026-11-06");
        assert_eq!(cal.business_days_between(fri, fri), 0);
        assert_eq!(cal.business_days_between(fri, d("2026-11-07")), 0); // Saturday
        assert_eq!(cal.business_days_between(fri, d("2026-11-09")), 1); // next Monday
        assert_eq!(cal.business_days_between(fri, d("2026-11-04")), -2); // Wednesday before
        assert_eq!(cal.business_days_between(fri, d("2026-11-05")), -1);
        assert_eq!(cal.business_days_between(fri, d("2026-11-20")), 10);
        // Due on a Saturday: Monday is day 1, Friday before counts nothing in (Fri, Sat].
        let sat = d("2026-11-07");
        assert_eq!(cal.business_days_between(sat, d("2026-11-09")), 1);
        assert_eq!(cal.business_days_between(sat, fri), 0);
        let hol = Calendar::new([d("2026-11-09"), d("2026-11-08")]);
        assert_eq!(hol.business_days_between(fri, d("2026-11-10")), 1);
        assert_eq!(hol.business_days_between(d("2026-11-10"), fri), -1);
    }

    #[test]
    fn between_matches_a_day_by_day_count_and_inverts_add() {
        let cal = Calendar::new([
            d("2026-12-25"),
            d("2026-12-26"),
            d("2027-01-01"),
            d("2026-11-26"),
        ]);
        let start = d("2026-10-20");
        for i in 0..90 {
            let from = start + Days::new(i);
            for j in 0..90 {
                let to = start + Days::new(j);
                assert_eq!(
                    cal.business_days_between(from, to),
                    slow_between(&cal, from, to),
                    "{from} {to}"
                );
            }
            if cal.is_business_day(from) {
                for n in -30..=30 {
                    let moved = cal.add_business_days(from, n);
                    assert_eq!(cal.business_days_between(from, moved), n, "{from} {n}");
                }
            }
        }
    }

    #[test]
    fn between_handles_long_spans() {
        let cal = Calendar::default();
        // 2026 has 261 weekdays.
        assert_eq!(
            cal.business_days_between(d("2025-12-31"), d("2026-12-31")),
            261
        );
        assert_eq!(
            cal.business_days_between(d("2026-12-31"), d("2025-12-31")),
            -261
        );
    }
}
