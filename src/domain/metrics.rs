//! Collections metrics, as pure formulas over sums the store aggregates in SQL: DSO (standard
//! and countback), best possible DSO, average days delinquent, the Collection Effectiveness
//! Index, the share of AR that is current, and plain rates (promises kept, reminders answered).
//!
//! Amounts are integer minor units of one currency (never mixed); every figure is an exact
//! fraction (`Ratio`) until it is shown, rounded to one decimal. The README's "Metrics" section
//! writes each formula out; the tests below work examples by hand.
use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Serialize, Serializer};
use std::fmt;

/// An exact fraction `num / den`, shown rounded half away from zero to one decimal. Equal
/// fractions are equal however they are written (90/2 = 45/1).
#[derive(Debug, Clone, Copy)]
pub struct Ratio {
    pub num: i128,
    pub den: i128,
}

impl PartialEq for Ratio {
    fn eq(&self, other: &Ratio) -> bool {
        self.num * other.den == other.num * self.den
    }
}
impl Eq for Ratio {}

impl Ratio {
    /// `None` when `den` is zero: a figure that cannot be computed (no sales, nothing owed).
    pub fn new(num: i128, den: i128) -> Option<Ratio> {
        (den != 0).then_some(if den < 0 {
            Ratio {
                num: -num,
                den: -den,
            }
        } else {
            Ratio { num, den }
        })
    }

    /// Tenths, rounded half away from zero: 12.25 → 123 (12.3), −0.05 → −1.
    pub fn tenths(&self) -> i128 {
        let n = self.num * 10;
        let (q, r) = (n / self.den, n % self.den);
        if 2 * r.abs() >= self.den {
            q + n.signum()
        } else {
            q
        }
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.tenths();
        let sign = if t < 0 { "-" } else { "" };
        write!(f, "{sign}{}.{}", t.abs() / 10, t.abs() % 10)
    }
}

/// A ratio in JSON is its one-decimal string (`"42.3"`), like the API's amounts: no float.
impl Serialize for Ratio {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The days a period covers, both ends included: `start..=end`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// How the person named it, for the card's header: "last 30 days", "2026-11".
    pub label: String,
}

impl Period {
    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days() + 1
    }
}

pub const PERIOD_FORMS: &str = "30d (the last 30 days, the default), 90d, quarter (this quarter to date), month (this month to date), year (this year to date), 2026-11 (a month), 2026-Q3 (a quarter) or 2026 (a year)";

/// Reads a period as of `today`: `30d` (the default), `90d`, any `Nd`, `quarter`, `month`,
/// `year` (each to date), `2026-11`, `2026-Q3`, `2026`. A named month, quarter or year ends
/// on its last day, or on `today` while it is still running; one that has not begun is refused.
pub fn parse_period(text: Option<&str>, today: NaiveDate) -> Result<Period, String> {
    let raw = text.map(str::trim).unwrap_or("");
    let t = raw.to_ascii_lowercase();
    let bad = || format!("`{raw}` is not a period. Write {PERIOD_FORMS}.");
    let to_date = |start: NaiveDate, label: String| Period {
        start,
        end: today,
        label,
    };
    if t.is_empty() || t == "30d" {
        return Ok(last_days(30, today));
    }
    if let Some(n) = t.strip_suffix('d') {
        return match n.parse::<u64>() {
            Ok(n @ 1..=3660) => Ok(last_days(n, today)),
            _ => Err(format!(
                "`{raw}` is not a period: a number of days runs from 1d to 3660d. Write {PERIOD_FORMS}."
            )),
        };
    }
    let q_start = |y: i32, q: u32| NaiveDate::from_ymd_opt(y, 3 * (q - 1) + 1, 1);
    match t.as_str() {
        "quarter" => {
            let start = q_start(today.year(), (today.month() - 1) / 3 + 1).ok_or_else(bad)?;
            return Ok(to_date(start, format!("this quarter to {today}")));
        }
        "month" => {
            let start = today.with_day(1).ok_or_else(bad)?;
            return Ok(to_date(start, format!("this month to {today}")));
        }
        "year" => {
            let start = NaiveDate::from_ymd_opt(today.year(), 1, 1).ok_or_else(bad)?;
            return Ok(to_date(start, format!("this year to {today}")));
        }
        _ => {}
    }
    let (start, months) = match t.split_once('-') {
        None => {
            let y: i32 = t
                .parse()
                .ok()
                .filter(|y| (1900..=9999).contains(y))
                .ok_or_else(bad)?;
            (NaiveDate::from_ymd_opt(y, 1, 1).ok_or_else(bad)?, 12)
        }
        Some((y, rest)) => {
            let y: i32 = y
                .parse()
                .ok()
                .filter(|y| (1900..=9999).contains(y))
                .ok_or_else(bad)?;
            if let Some(q) = rest.strip_prefix('q') {
                let q: u32 = q
                    .parse()
                    .ok()
                    .filter(|q| (1..=4).contains(q))
                    .ok_or_else(bad)?;
                (q_start(y, q).ok_or_else(bad)?, 3)
            } else {
                let m: u32 = rest
                    .parse()
                    .ok()
                    .filter(|_| rest.len() == 2)
                    .ok_or_else(bad)?;
                (NaiveDate::from_ymd_opt(y, m, 1).ok_or_else(bad)?, 1)
            }
        }
    };
    if start > today {
        return Err(format!(
            "{raw} has not begun yet (today is {today}). Write {PERIOD_FORMS}."
        ));
    }
    let last = start + Months::new(months) - Days::new(1);
    Ok(Period {
        start,
        end: last.min(today),
        label: raw.to_ascii_uppercase(),
    })
}

fn last_days(n: u64, today: NaiveDate) -> Period {
    Period {
        start: today - Days::new(n - 1),
        end: today,
        label: format!("last {n} days to {today}"),
    }
}

/// How many months back the countback walks before it gives up ("more than N days").
pub const COUNTBACK_MONTHS: usize = 24;

/// The first day of each countback month, newest first: month `k` runs from `starts[k]` to the
/// day before `starts[k-1]` (month 0 to `end`). Months are counted back from `end` by the
/// calendar, so an `end` on the 30th of November gives November, October, ….
pub fn countback_starts(end: NaiveDate) -> Vec<NaiveDate> {
    let after = end + Days::new(1);
    (1..=COUNTBACK_MONTHS as u32)
        .map(|k| after - Months::new(k))
        .collect()
}

/// One countback month: its length in days and the credit sales issued in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthSales {
    pub days: i64,
    pub sales: i64,
}

/// What the ledger sums to for one currency over a period (minor units).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerSums {
    /// AR at the end of the day before the period starts.
    pub ar_begin: i64,
    /// AR at the end of the period's last day.
    pub ar_end: i64,
    /// The part of `ar_end` not yet past due (due on or after the last day).
    pub ar_current: i64,
    /// Credit sales: invoices issued in the period.
    pub sales: i64,
    /// Open balances written off in the period: they left AR without being collected.
    pub written_off: i64,
    /// Sales per countback month, newest first (`countback_starts`).
    pub months: Vec<MonthSales>,
}

/// Countback DSO: exact, or "more than `days`" when AR is older than every month walked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Countback {
    Days(Ratio),
    MoreThan(i64),
}

impl fmt::Display for Countback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Countback::Days(r) => write!(f, "{r}"),
            Countback::MoreThan(d) => write!(f, ">{d}"),
        }
    }
}

impl Serialize for Countback {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Standard DSO = ending AR / credit sales × days in the period.
pub fn dso(ar_end: i64, sales: i64, days: i64) -> Option<Ratio> {
    Ratio::new(ar_end as i128 * days as i128, sales as i128)
}

/// Countback DSO: walk back month by month from the period's end, taking each month's sales off
/// the ending AR; each month fully used counts all its days, the month where AR runs out counts
/// days × what was left / that month's sales.
pub fn countback(ar_end: i64, months: &[MonthSales]) -> Countback {
    let mut left = ar_end as i128;
    let mut whole: i128 = 0;
    for m in months {
        if left <= 0 {
            break;
        }
        let (days, sales) = (m.days as i128, m.sales as i128);
        if left >= sales {
            left -= sales;
            whole += days;
        } else {
            return Countback::Days(Ratio {
                num: whole * sales + days * left,
                den: sales,
            });
        }
    }
    if left > 0 {
        Countback::MoreThan(whole as i64)
    } else {
        Countback::Days(Ratio { num: whole, den: 1 })
    }
}

/// Best possible DSO = current AR / credit sales × days: the DSO if nothing were past due.
pub fn best_possible_dso(ar_current: i64, sales: i64, days: i64) -> Option<Ratio> {
    dso(ar_current, sales, days)
}

/// Average days delinquent = DSO − best possible DSO = past-due AR / credit sales × days.
pub fn average_days_delinquent(
    ar_end: i64,
    ar_current: i64,
    sales: i64,
    days: i64,
) -> Option<Ratio> {
    dso(ar_end - ar_current, sales, days)
}

/// CEI = (beginning AR + credit sales − ending AR − written off) / (beginning AR + credit sales −
/// ending current AR) × 100. A write-off takes money out of AR without collecting it, so it is
/// kept out of what was collected; it stays in what could have been.
pub fn cei(s: &LedgerSums) -> Option<Ratio> {
    let (b, sales, e, ec, w) = (
        s.ar_begin as i128,
        s.sales as i128,
        s.ar_end as i128,
        s.ar_current as i128,
        s.written_off as i128,
    );
    Ratio::new((b + sales - e - w) * 100, b + sales - ec)
}

/// `part / whole × 100`.
pub fn percent(part: i64, whole: i64) -> Option<Ratio> {
    Ratio::new(part as i128 * 100, whole as i128)
}

/// Every figure of one currency over a period.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    pub dso: Option<Ratio>,
    pub countback_dso: Countback,
    pub best_possible_dso: Option<Ratio>,
    pub average_days_delinquent: Option<Ratio>,
    pub cei: Option<Ratio>,
    pub percent_current: Option<Ratio>,
}

pub fn figures(s: &LedgerSums, days: i64) -> Figures {
    Figures {
        dso: dso(s.ar_end, s.sales, days),
        countback_dso: countback(s.ar_end, &s.months),
        best_possible_dso: best_possible_dso(s.ar_current, s.sales, days),
        average_days_delinquent: average_days_delinquent(s.ar_end, s.ar_current, s.sales, days),
        cei: cei(s),
        percent_current: percent(s.ar_current, s.ar_end),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn r(num: i128, den: i128) -> Ratio {
        Ratio::new(num, den).unwrap()
    }

    #[test]
    fn ratios_round_half_away_from_zero_to_one_decimal() {
        // 1/3 = 0.333… → 0.3; 2/3 = 0.666… → 0.7; 1/20 = 0.05 → 0.1; −1/20 → −0.1.
        assert_eq!(r(1, 3).to_string(), "0.3");
        assert_eq!(r(2, 3).to_string(), "0.7");
        assert_eq!(r(1, 20).to_string(), "0.1");
        assert_eq!(r(-1, 20).to_string(), "-0.1");
        assert_eq!(r(1, -20).to_string(), "-0.1");
        assert_eq!(r(245, 2).to_string(), "122.5");
        assert_eq!(Ratio::new(5, 0), None);
        assert_eq!(serde_json::to_string(&r(1, 3)).unwrap(), "\"0.3\"");
    }

    /// One worked example for the whole card (USD, in cents), over 30 days:
    /// beginning AR 100,000.00; credit sales 60,000.00; ending AR 90,000.00, of which
    /// 40,000.00 current; nothing written off.
    fn example() -> LedgerSums {
        LedgerSums {
            ar_begin: 10_000_000,
            ar_end: 9_000_000,
            ar_current: 4_000_000,
            sales: 6_000_000,
            written_off: 0,
            months: vec![
                MonthSales {
                    days: 30,
                    sales: 6_000_000,
                },
                MonthSales {
                    days: 31,
                    sales: 2_000_000,
                },
                MonthSales {
                    days: 30,
                    sales: 5_000_000,
                },
            ],
        }
    }

    #[test]
    fn standard_best_possible_and_delinquent_days_by_hand() {
        let s = example();
        // DSO = 90,000 / 60,000 × 30 = 1.5 × 30 = 45.0 days.
        assert_eq!(dso(s.ar_end, s.sales, 30), Some(r(45, 1)));
        // Best possible = 40,000 / 60,000 × 30 = 20.0 days.
        assert_eq!(
            best_possible_dso(s.ar_current, s.sales, 30)
                .unwrap()
                .to_string(),
            "20.0"
        );
        // ADD = 45.0 − 20.0 = 25.0 = (90,000 − 40,000) / 60,000 × 30.
        assert_eq!(
            average_days_delinquent(s.ar_end, s.ar_current, s.sales, 30)
                .unwrap()
                .to_string(),
            "25.0"
        );
        // 7 days, AR 100.00, sales 300.00: 100 / 300 × 7 = 2.333… → 2.3.
        assert_eq!(dso(10_000, 30_000, 7).unwrap().to_string(), "2.3");
        // No sales in the period: DSO cannot be computed.
        assert_eq!(dso(10_000, 0, 30), None);
    }

    #[test]
    fn countback_walks_back_month_by_month() {
        let s = example();
        // Ending AR 90,000: the last 30 days sold 60,000 → 30,000 left, 30 days counted;
        // the month before sold 20,000 → 10,000 left, 30 + 31 = 61 days;
        // the month before that sold 50,000 > 10,000 → 30 × 10,000 / 50,000 = 6 days.
        // Countback DSO = 61 + 6 = 67.0.
        let c = countback(s.ar_end, &s.months);
        assert_eq!(c.to_string(), "67.0");
        // AR exactly used up by the first month: 30 days.
        assert_eq!(countback(6_000_000, &s.months).to_string(), "30.0");
        // 45,000 of AR: 30 × 45,000 / 60,000 = 22.5 days.
        assert_eq!(countback(4_500_000, &s.months).to_string(), "22.5");
        // Nothing owed: 0.
        assert_eq!(countback(0, &s.months).to_string(), "0.0");
        // More AR than the three months sold (130,000): more than 91 days.
        assert_eq!(countback(14_000_000, &s.months), Countback::MoreThan(91));
        // A month without sales counts all its days: 5,000 of AR, sales 0 then 10,000:
        // 30 + 31 × 5,000 / 10,000 = 30 + 15.5 = 45.5.
        let quiet = [
            MonthSales { days: 30, sales: 0 },
            MonthSales {
                days: 31,
                sales: 1_000_000,
            },
        ];
        assert_eq!(countback(500_000, &quiet).to_string(), "45.5");
    }

    #[test]
    fn cei_and_percent_current_by_hand() {
        let mut s = example();
        // Collected = 100,000 + 60,000 − 90,000 = 70,000;
        // collectible = 100,000 + 60,000 − 40,000 = 120,000;
        // CEI = 70,000 / 120,000 × 100 = 58.333… → 58.3.
        assert_eq!(cei(&s).unwrap().to_string(), "58.3");
        // Percent current = 40,000 / 90,000 × 100 = 44.444… → 44.4.
        assert_eq!(percent(s.ar_current, s.ar_end).unwrap().to_string(), "44.4");
        // 10,000 written off in the period (so ending AR is 80,000): it left AR but was not
        // collected: (100,000 + 60,000 − 80,000 − 10,000) / 120,000 × 100 = 58.3 still.
        s.ar_end = 8_000_000;
        s.written_off = 1_000_000;
        assert_eq!(cei(&s).unwrap().to_string(), "58.3");
        // Nothing owed: no share current.
        assert_eq!(percent(0, 0), None);
    }

    #[test]
    fn figures_put_them_together() {
        let f = figures(&example(), 30);
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "dso": "45.0", "countback_dso": "67.0", "best_possible_dso": "20.0",
                "average_days_delinquent": "25.0", "cei": "58.3", "percent_current": "44.4",
            })
        );
    }

    #[test]
    fn periods_by_name() {
        let today = d("2026-11-23");
        let p = parse_period(None, today).unwrap();
        assert_eq!((p.start, p.end, p.days()), (d("2026-10-25"), today, 30));
        let p = parse_period(Some("90d"), today).unwrap();
        assert_eq!((p.start, p.days()), (d("2026-08-26"), 90));
        let p = parse_period(Some("quarter"), today).unwrap();
        assert_eq!((p.start, p.end), (d("2026-10-01"), today));
        let p = parse_period(Some("month"), today).unwrap();
        assert_eq!((p.start, p.end), (d("2026-11-01"), today));
        let p = parse_period(Some("2026-10"), today).unwrap();
        assert_eq!(
            (p.start, p.end, p.days()),
            (d("2026-10-01"), d("2026-10-31"), 31)
        );
        // A month still running ends today.
        let p = parse_period(Some("2026-11"), today).unwrap();
        assert_eq!((p.start, p.end), (d("2026-11-01"), today));
        let p = parse_period(Some("2026-q3"), today).unwrap();
        assert_eq!(
            (p.start, p.end, p.label.as_str()),
            (d("2026-07-01"), d("2026-09-30"), "2026-Q3")
        );
        let p = parse_period(Some("2025"), today).unwrap();
        assert_eq!((p.start, p.end), (d("2025-01-01"), d("2025-12-31")));
        let p = parse_period(Some("2024-02"), today).unwrap();
        assert_eq!(p.end, d("2024-02-29"));
    }

    #[test]
    fn bad_periods_are_refused_with_the_forms() {
        let today = d("2026-11-23");
        for bad in ["fortnight", "2026-13", "2026-Q5", "0d", "2026-1", "99999d"] {
            let e = parse_period(Some(bad), today).unwrap_err();
            assert!(e.contains(&format!("`{bad}`")), "{e}");
            assert!(e.contains("2026-Q3 (a quarter)"), "{e}");
        }
        let e = parse_period(Some("2026-12"), today).unwrap_err();
        assert!(e.contains("has not begun"), "{e}");
    }

    #[test]
    fn countback_months_are_calendar_months_back_from_the_end() {
        let s = countback_starts(d("2026-11-30"));
        assert_eq!(s.len(), COUNTBACK_MONTHS);
        assert_eq!(
            &s[..3],
            &[d("2026-11-01"), d("2026-10-01"), d("2026-09-01")]
        );
        let s = countback_starts(d("2026-11-23"));
        assert_eq!(&s[..2], &[d("2026-10-24"), d("2026-09-24")]);
    }
}
