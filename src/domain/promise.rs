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
    pub const ALL: [PromiseStatus; 3] = [
        PromiseStatus::Pending,
        PromiseStatus::Kept,
        PromiseStatus::Broken,
    ];

    /// The serde key, as stored.
    pub fn key(&self) -> &'static str {
        match self {
            PromiseStatus::Pending => "pending",
            PromiseStatus::Kept => "kept",
            PromiseStatus::Broken => "broken",
        }
    }
    /// Case-insensitive key.
    pub fn parse(s: &str) -> Option<PromiseStatus> {
        let s = s.trim().to_ascii_lowercase();
        PromiseStatus::ALL.into_iter().find(|p| p.key() == s)
    }
}

#[derive(Debug, Clone)]
pub struct PromiseFacts {
    pub amount_minor: i64,
    pub promised_for: NaiveDate,
    pub logged_on: NaiveDate,
}

/// The last day a payment still keeps the promise: `promised_for` plus `grace` business days.
/// With no grace that is `promised_for` itself, even on a weekend.
pub fn deadline(cal: &Calendar, promised_for: NaiveDate, grace: u32) -> NaiveDate {
    cal.add_business_days(promised_for, i32::try_from(grace).unwrap_or(i32::MAX))
}

/// Kept once payments dated from `logged_on` through the deadline (and not after `as_of`) add up
/// to the amount; broken once `as_of` is past the deadline without that; pending otherwise.
/// `payments` are `(paid_on, amount_minor)` on the promise's account, in its currency.
/// Payments before `logged_on` were already known when the promise was made, so they don't
/// count; negative amounts (reversals) do reduce the sum.
pub fn evaluate(
    p: &PromiseFacts,
    payments: &[(NaiveDate, i64)],
    cal: &Calendar,
    grace: u32,
    as_of: NaiveDate,
) -> PromiseStatus {
    let last = deadline(cal, p.promised_for, grace);
    let window_end = last.min(as_of);
    let paid: i128 = payments
        .iter()
        .filter(|(on, _)| *on >= p.logged_on && *on <= window_end)
        .map(|(_, amount)| i128::from(*amount))
        .sum();
    if paid >= i128::from(p.amount_minor) {
        PromiseStatus::Kept
    } else if as_of > last {
        PromiseStatus::Broken
    } else {
        PromiseStatus::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// 500.00 promised for Friday 2026-11-27, logged Monday 2026-11-23.
    fn facts() -> PromiseFacts {
        PromiseFacts {
            amount_minor: 50_000,
            promised_for: d("2026-11-27"),
            logged_on: d("2026-11-23"),
        }
    }

    fn eval(payments: &[(&str, i64)], grace: u32, as_of: &str) -> PromiseStatus {
        let pays: Vec<_> = payments.iter().map(|(s, a)| (d(s), *a)).collect();
        evaluate(&facts(), &pays, &Calendar::default(), grace, d(as_of))
    }

    #[test]
    fn keys_round_trip_and_match_serde() {
        for s in PromiseStatus::ALL {
            assert_eq!(PromiseStatus::parse(s.key()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.key())
            );
        }
        assert_eq!(PromiseStatus::parse(" Kept "), Some(PromiseStatus::Kept));
        assert_eq!(PromiseStatus::parse("keep"), None);
    }

    #[test]
    fn deadline_adds_business_days_of_grace() {
        let cal = Calendar::new([d("2026-11-30")]);
        assert_eq!(deadline(&cal, d("2026-11-27"), 0), d("2026-11-27"));
        // Friday + 1 skips the weekend and the Monday holiday.
        assert_eq!(deadline(&cal, d("2026-11-27"), 1), d("2026-12-01"));
        assert_eq!(deadline(&cal, d("2026-11-27"), 2), d("2026-12-02"));
        // From a Saturday, one business day of grace is Monday.
        assert_eq!(
            deadline(&Calendar::default(), d("2026-11-28"), 1),
            d("2026-11-30")
        );
    }

    #[test]
    fn pending_until_the_deadline_passes() {
        assert_eq!(eval(&[], 0, "2026-11-23"), PromiseStatus::Pending);
        assert_eq!(eval(&[], 0, "2026-11-27"), PromiseStatus::Pending);
        assert_eq!(eval(&[], 0, "2026-11-28"), PromiseStatus::Broken);
        // Two business days of grace: Tuesday is the last day, Wednesday breaks it.
        assert_eq!(eval(&[], 2, "2026-12-01"), PromiseStatus::Pending);
        assert_eq!(eval(&[], 2, "2026-12-02"), PromiseStatus::Broken);
    }

    #[test]
    fn kept_by_enough_payments_in_the_window() {
        assert_eq!(
            eval(&[("2026-11-25", 50_000)], 0, "2026-11-25"),
            PromiseStatus::Kept
        );
        // Instalments add up; overpaying keeps it too.
        assert_eq!(
            eval(
                &[("2026-11-24", 20_000), ("2026-11-27", 30_000)],
                0,
                "2026-12-10"
            ),
            PromiseStatus::Kept
        );
        assert_eq!(
            eval(&[("2026-11-23", 90_000)], 0, "2026-11-23"),
            PromiseStatus::Kept
        );
        // Paid during the grace period.
        assert_eq!(
            eval(&[("2026-12-01", 50_000)], 2, "2026-12-05"),
            PromiseStatus::Kept
        );
    }

    #[test]
    fn short_payments_break_it_after_the_deadline() {
        assert_eq!(
            eval(&[("2026-11-25", 49_999)], 0, "2026-11-27"),
            PromiseStatus::Pending
        );
        assert_eq!(
            eval(&[("2026-11-25", 49_999)], 0, "2026-11-30"),
            PromiseStatus::Broken
        );
        // A reversal undoes a payment.
        assert_eq!(
            eval(
                &[("2026-11-25", 50_000), ("2026-11-26", -50_000)],
                0,
                "2026-11-30"
            ),
            PromiseStatus::Broken
        );
    }

    #[test]
    fn payments_outside_the_window_do_not_count() {
        // Before the promise was logged.
        assert_eq!(
            eval(&[("2026-11-22", 50_000)], 0, "2026-11-30"),
            PromiseStatus::Broken
        );
        // After the deadline: too late, still broken.
        assert_eq!(
            eval(&[("2026-11-30", 50_000)], 0, "2026-12-01"),
            PromiseStatus::Broken
        );
        assert_eq!(
            eval(&[("2026-12-02", 50_000)], 2, "2026-12-03"),
            PromiseStatus::Broken
        );
        // After as_of: not known yet on that day.
        assert_eq!(
            eval(&[("2026-11-26", 50_000)], 0, "2026-11-25"),
            PromiseStatus::Pending
        );
    }

    #[test]
    fn huge_sums_do_not_overflow() {
        let pays = [(d("2026-11-24"), i64::MAX), (d("2026-11-25"), i64::MAX)];
        let p = PromiseFacts {
            amount_minor: i64::MAX,
            ..facts()
        };
        assert_eq!(
            evaluate(&p, &pays, &Calendar::default(), 0, d("2026-11-25")),
            PromiseStatus::Kept
        );
    }
}
