//! Payment plans: a total split into installments on a schedule, and how far a plan has got.
//!
//! Each installment is judged like a promise-to-pay (`domain::promise`): installment *n* is kept
//! once payments from the day the plan started through its due date plus the grace days add
//! up to the installments due so far (1 through *n*), and broken after that. Paying ahead
//! keeps the next installments early; a short payment carries over. Pure: the app feeds it the
//! plan, the payments and the date.
use super::calendar::Calendar;
use super::promise::{self, PromiseFacts, PromiseStatus};
use chrono::{Days, Months, NaiveDate};
use serde::Serialize;

/// More installments than this is not a plan but a typo (four years of weekly payments).
pub const MAX_INSTALLMENTS: u32 = 208;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    Weekly,
    Biweekly,
    Monthly,
}

impl Cadence {
    pub const ALL: [Cadence; 3] = [Cadence::Weekly, Cadence::Biweekly, Cadence::Monthly];

    pub fn key(&self) -> &'static str {
        match self {
            Cadence::Weekly => "weekly",
            Cadence::Biweekly => "biweekly",
            Cadence::Monthly => "monthly",
        }
    }

    /// Case-insensitive key.
    pub fn parse(s: &str) -> Option<Cadence> {
        let s = s.trim().to_ascii_lowercase();
        Cadence::ALL.into_iter().find(|c| c.key() == s)
    }

    /// The due date of installment `index` (0-based) of a plan first due on `first`. Monthly
    /// dates are counted from the first date, not chained, so Jan 31 gives Feb 28 (29 in a leap
    /// year) and then Mar 31 again.
    pub fn nth(&self, first: NaiveDate, index: u32) -> NaiveDate {
        match self {
            Cadence::Weekly => first + Days::new(7 * u64::from(index)),
            Cadence::Biweekly => first + Days::new(14 * u64::from(index)),
            // chrono clamps to the month's last day; beyond year 262143 it cannot overflow here
            // because the count is capped.
            Cadence::Monthly => first
                .checked_add_months(Months::new(index))
                .unwrap_or(NaiveDate::MAX),
        }
    }
}

/// Splits `total_minor` into `count` installments of whole minor units. The remainder of the
/// division goes to the first installment, so the customer pays the odd cents up front and
/// every later installment is the same amount. `count` must be at least 1.
pub fn split(total_minor: i64, count: u32) -> Vec<i64> {
    let n = i64::from(count.max(1));
    let base = total_minor / n;
    let rest = total_minor - base * n;
    (0..n)
        .map(|i| if i == 0 { base + rest } else { base })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Installment {
    /// 1-based.
    pub n: u32,
    pub due: NaiveDate,
    pub amount_minor: i64,
    /// This installment and all before it.
    pub cumulative_minor: i64,
}

/// The plan's schedule: amounts by `split`, dates by the cadence from `first`.
pub fn schedule(
    total_minor: i64,
    count: u32,
    cadence: Cadence,
    first: NaiveDate,
) -> Vec<Installment> {
    let mut cumulative = 0;
    split(total_minor, count)
        .into_iter()
        .enumerate()
        .map(|(i, amount)| {
            cumulative += amount;
            Installment {
                n: i as u32 + 1,
                due: cadence.nth(first, i as u32),
                amount_minor: amount,
                cumulative_minor: cumulative,
            }
        })
        .collect()
}

/// What is wrong with a plan as typed, before it touches the ledger's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    NoInstallments,
    TooManyInstallments {
        max: u32,
    },
    /// Fewer minor units than installments: some would be zero.
    TooSmall,
    AboveBalance,
    FirstInThePast,
}

/// Checks a plan against the balance and the date; `Ok` means it may be recorded.
pub fn check(
    total_minor: i64,
    count: u32,
    balance_minor: i64,
    first: NaiveDate,
    today: NaiveDate,
) -> Result<(), Invalid> {
    if count == 0 {
        return Err(Invalid::NoInstallments);
    }
    if count > MAX_INSTALLMENTS {
        return Err(Invalid::TooManyInstallments {
            max: MAX_INSTALLMENTS,
        });
    }
    if total_minor > balance_minor {
        return Err(Invalid::AboveBalance);
    }
    if total_minor < i64::from(count) {
        return Err(Invalid::TooSmall);
    }
    if first < today {
        return Err(Invalid::FirstInThePast);
    }
    Ok(())
}

/// Where a plan stands on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Every installment through `kept` is paid; installment `kept + 1` is open.
    OnTrack { kept: u32 },
    /// Installment `n` was not paid within its grace: the plan is broken.
    Broken { n: u32, kept: u32 },
    /// All paid.
    Completed,
}

/// The plan's progress on `as_of`. `payments` are the account's `(paid_on, amount_minor)`;
/// those before `started_on` were known when the plan was made and do not count.
pub fn progress(
    installments: &[Installment],
    started_on: NaiveDate,
    payments: &[(NaiveDate, i64)],
    cal: &Calendar,
    grace: u32,
    as_of: NaiveDate,
) -> Progress {
    let mut kept = 0;
    for i in installments {
        match installment_status(i, started_on, payments, cal, grace, as_of) {
            PromiseStatus::Kept => kept = i.n,
            PromiseStatus::Pending => return Progress::OnTrack { kept },
            PromiseStatus::Broken => return Progress::Broken { n: i.n, kept },
        }
    }
    Progress::Completed
}

/// One installment judged exactly like a promise of the plan's cumulative amount to date.
pub fn installment_status(
    i: &Installment,
    started_on: NaiveDate,
    payments: &[(NaiveDate, i64)],
    cal: &Calendar,
    grace: u32,
    as_of: NaiveDate,
) -> PromiseStatus {
    promise::evaluate(&as_promise(i, started_on), payments, cal, grace, as_of)
}

/// The promise an installment stands for: the installments due so far, by its due date,
/// counted from the day the plan started.
pub fn as_promise(i: &Installment, started_on: NaiveDate) -> PromiseFacts {
    PromiseFacts {
        amount_minor: i.cumulative_minor,
        promised_for: i.due,
        logged_on: started_on,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn cadence_keys_round_trip() {
        for c in Cadence::ALL {
            assert_eq!(Cadence::parse(c.key()), Some(c));
        }
        assert_eq!(Cadence::parse(" Monthly "), Some(Cadence::Monthly));
        assert_eq!(Cadence::parse("daily"), None);
        assert_eq!(Cadence::parse("fortnightly"), None);
    }

    #[test]
    fn the_remainder_goes_to_the_first_installment() {
        assert_eq!(split(100_000, 3), [33_334, 33_333, 33_333]);
        assert_eq!(split(100_000, 4), [25_000; 4]);
        assert_eq!(split(5, 5), [1; 5]);
        assert_eq!(split(7, 1), [7]);
        for (total, count) in [(1_234_567, 7), (99, 10), (i64::MAX, 208)] {
            let parts = split(total, count);
            assert_eq!(parts.len(), count as usize);
            assert_eq!(
                parts.iter().map(|p| i128::from(*p)).sum::<i128>(),
                i128::from(total)
            );
            assert!(parts[1..].iter().all(|p| *p == parts[parts.len() - 1]));
            assert!(parts[0] >= parts[parts.len() - 1]);
        }
    }

    #[test]
    fn weekly_and_biweekly_dates_step_by_7_and_14_days() {
        let w: Vec<_> = schedule(400, 3, Cadence::Weekly, d("2026-12-04"))
            .iter()
            .map(|i| i.due)
            .collect();
        assert_eq!(w, [d("2026-12-04"), d("2026-12-11"), d("2026-12-18")]);
        let b: Vec<_> = schedule(400, 3, Cadence::Biweekly, d("2026-12-28"))
            .iter()
            .map(|i| i.due)
            .collect();
        assert_eq!(b, [d("2026-12-28"), d("2027-01-11"), d("2027-01-25")]);
    }

    #[test]
    fn monthly_dates_clamp_to_month_ends_without_drifting() {
        let m: Vec<_> = schedule(400, 4, Cadence::Monthly, d("2027-01-31"))
            .iter()
            .map(|i| i.due)
            .collect();
        assert_eq!(
            m,
            [
                d("2027-01-31"),
                d("2027-02-28"),
                d("2027-03-31"),
                d("2027-04-30")
            ]
        );
        // A leap year's February has a 29th.
        assert_eq!(Cadence::Monthly.nth(d("2028-01-31"), 1), d("2028-02-29"));
        assert_eq!(Cadence::Monthly.nth(d("2026-12-15"), 2), d("2027-02-15"));
    }

    #[test]
    fn the_schedule_accumulates() {
        let s = schedule(100_000, 3, Cadence::Weekly, d("2026-12-04"));
        let cum: Vec<_> = s.iter().map(|i| i.cumulative_minor).collect();
        assert_eq!(cum, [33_334, 66_667, 100_000]);
        assert_eq!(s[2].n, 3);
    }

    #[test]
    fn bad_plans_are_named() {
        let today = d("2026-11-23");
        let ok = |t, c, b, f| check(t, c, b, f, today);
        assert_eq!(ok(100, 0, 100, today), Err(Invalid::NoInstallments));
        assert_eq!(
            ok(100_000, 209, 100_000, today),
            Err(Invalid::TooManyInstallments { max: 208 })
        );
        assert_eq!(ok(101, 2, 100, today), Err(Invalid::AboveBalance));
        assert_eq!(ok(3, 4, 100, today), Err(Invalid::TooSmall));
        assert_eq!(
            ok(100, 2, 100, d("2026-11-22")),
            Err(Invalid::FirstInThePast)
        );
        assert_eq!(ok(100, 2, 100, today), Ok(()));
        assert_eq!(ok(1_000, 208, 1_000, today), Ok(()));
    }

    /// 300.00 in three weekly installments from Fri 2026-12-04, started Mon 2026-11-30.
    fn plan() -> Vec<Installment> {
        schedule(30_000, 3, Cadence::Weekly, d("2026-12-04"))
    }

    fn at(payments: &[(&str, i64)], as_of: &str) -> Progress {
        let pays: Vec<_> = payments.iter().map(|(s, a)| (d(s), *a)).collect();
        progress(
            &plan(),
            d("2026-11-30"),
            &pays,
            &Calendar::default(),
            2,
            d(as_of),
        )
    }

    #[test]
    fn on_track_while_each_installment_is_paid_within_its_grace() {
        assert_eq!(at(&[], "2026-12-04"), Progress::OnTrack { kept: 0 });
        // Grace: Friday + 2 business days is Tuesday.
        assert_eq!(at(&[], "2026-12-08"), Progress::OnTrack { kept: 0 });
        assert_eq!(
            at(&[("2026-12-07", 10_000)], "2026-12-09"),
            Progress::OnTrack { kept: 1 }
        );
        assert_eq!(
            at(
                &[
                    ("2026-12-04", 10_000),
                    ("2026-12-11", 10_000),
                    ("2026-12-18", 10_000)
                ],
                "2026-12-18"
            ),
            Progress::Completed
        );
    }

    #[test]
    fn paying_ahead_keeps_later_installments_and_short_payments_carry_over() {
        assert_eq!(
            at(&[("2026-12-01", 20_000)], "2026-12-01"),
            Progress::OnTrack { kept: 2 }
        );
        // 150 keeps installment 1 and carries 50 toward the second; the next 150 completes it.
        assert_eq!(
            at(&[("2026-12-04", 15_000)], "2026-12-04"),
            Progress::OnTrack { kept: 1 }
        );
        assert_eq!(
            at(
                &[("2026-12-04", 15_000), ("2026-12-11", 15_000)],
                "2026-12-11"
            ),
            Progress::Completed
        );
        assert_eq!(
            at(&[("2026-12-04", 15_000)], "2026-12-16"),
            Progress::Broken { n: 2, kept: 1 }
        );
    }

    #[test]
    fn a_missed_installment_breaks_the_plan_after_the_grace() {
        assert_eq!(at(&[], "2026-12-09"), Progress::Broken { n: 1, kept: 0 });
        // Paid too late for installment 1: still broken at 1.
        assert_eq!(
            at(&[("2026-12-09", 10_000)], "2026-12-10"),
            Progress::Broken { n: 1, kept: 0 }
        );
        // Payments before the plan started do not count.
        assert_eq!(
            at(&[("2026-11-27", 30_000)], "2026-12-09"),
            Progress::Broken { n: 1, kept: 0 }
        );
        assert_eq!(
            at(&[("2026-12-04", 10_000)], "2026-12-16"),
            Progress::Broken { n: 2, kept: 1 }
        );
    }
}
