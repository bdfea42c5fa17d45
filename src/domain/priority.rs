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
///
/// ```text
/// floor(100·log10(major + 1)) + 2·clamp(days_past_due, 0, 180)
///     + 25·min(delinquencies, 4) + 60·min(broken_promises, 3)
/// ```
/// with `major` the balance in major units (credits count as 0). So USD 10,000 (400)
/// outranks USD 100 (200) unless the smaller is ~100 days later; the caps keep one bad
/// habit from drowning out the money.
pub fn score(input: &PriorityInput) -> u32 {
    let scale = 10_f64.powi(i32::try_from(input.exponent).unwrap_or(i32::MAX));
    let major = (input.balance_minor.max(0) as f64) / scale;
    let balance = (100.0 * (major + 1.0).log10()).floor() as u32;
    let overdue = 2 * input.days_past_due.clamp(0, 180) as u32;
    let delinquent = 25 * input.track.past_delinquencies.min(4);
    let broken = 60 * input.track.broken_promises.min(3);
    balance + overdue + delinquent + broken
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(balance_minor: i64, days_past_due: i64, delinq: u32, broken: u32) -> PriorityInput {
        PriorityInput {
            balance_minor,
            exponent: 2,
            days_past_due,
            track: TrackRecord {
                past_delinquencies: delinq,
                broken_promises: broken,
            },
        }
    }

    #[test]
    fn formula_values() {
        assert_eq!(score(&input(0, 0, 0, 0)), 0);
        // USD 99 -> log10(100) = 2 -> 200.
        assert_eq!(score(&input(9_900, 0, 0, 0)), 200);
        assert_eq!(score(&input(9_900, 10, 0, 0)), 220);
        assert_eq!(score(&input(9_900, 10, 1, 1)), 305);
        // Caps: 180 days, 4 delinquencies, 3 broken promises.
        assert_eq!(score(&input(0, 500, 9, 9)), 360 + 100 + 180);
        // Not yet due and credits add nothing.
        assert_eq!(score(&input(-50_000, -30, 0, 0)), 0);
    }

    #[test]
    fn balance_scales_by_exponent() {
        let jpy = PriorityInput {
            exponent: 0,
            ..input(99, 0, 0, 0)
        };
        assert_eq!(score(&jpy), 200);
        let bhd = PriorityInput {
            exponent: 3,
            ..input(99_000, 0, 0, 0)
        };
        assert_eq!(score(&bhd), 200);
    }

    #[test]
    fn ten_times_the_balance_adds_a_fixed_amount() {
        let a = score(&input(99_999, 0, 0, 0)); // 999.99
        let b = score(&input(999_999, 0, 0, 0)); // 9999.99
        let c = score(&input(9_999_999, 0, 0, 0));
        assert!((99..=101).contains(&(b - a)), "{a} {b}");
        assert!((99..=101).contains(&(c - b)), "{b} {c}");
    }

    #[test]
    fn monotonic_in_every_input() {
        let balances = [0, 1, 99, 10_000, 123_456, 10_000_000, i64::MAX];
        for &bal in &balances {
            for dpd in [-10, 0, 1, 30, 179, 180, 181, 1000] {
                for dl in 0..6 {
                    for br in 0..5 {
                        let s = score(&input(bal, dpd, dl, br));
                        assert!(score(&input(bal, dpd + 1, dl, br)) >= s);
                        assert!(score(&input(bal, dpd, dl + 1, br)) >= s);
                        assert!(score(&input(bal, dpd, dl, br + 1)) >= s);
                        assert!(score(&input(bal.saturating_mul(10), dpd, dl, br)) >= s);
                    }
                }
            }
        }
        // Strictly so below the caps.
        assert!(score(&input(100, 5, 0, 0)) > score(&input(100, 4, 0, 0)));
        assert!(score(&input(100, 5, 2, 0)) > score(&input(100, 5, 1, 0)));
        assert!(score(&input(100, 5, 0, 2)) > score(&input(100, 5, 0, 1)));
        assert!(score(&input(10_000, 5, 0, 0)) > score(&input(1_000, 5, 0, 0)));
    }

    #[test]
    fn a_broken_promise_weighs_more_than_a_delinquency() {
        assert!(score(&input(100, 5, 0, 1)) > score(&input(100, 5, 1, 0)));
    }

    #[test]
    fn extremes_do_not_overflow() {
        let s = score(&PriorityInput {
            balance_minor: i64::MAX,
            exponent: 0,
            days_past_due: i64::MAX,
            track: TrackRecord {
                past_delinquencies: u32::MAX,
                broken_promises: u32::MAX,
            },
        });
        assert_eq!(s, 1896 + 360 + 100 + 180);
        let huge_exp = PriorityInput {
            exponent: u32::MAX,
            ..input(i64::MAX, 0, 0, 0)
        };
        assert_eq!(score(&huge_exp), 0);
    }
}
