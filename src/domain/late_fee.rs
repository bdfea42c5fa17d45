//! Late fees and interest on overdue invoices: the `[late_fees]` table of the policy file, and
//! what an invoice owes beyond its principal on any date. Pure: the ledger's facts in, integer
//! minor units out (never a float).
//!
//! Conventions, chosen once and tested against worked examples:
//! - Charges start the day after the due date plus `grace_days` (the *start day*).
//! - **Interest** (`statutory`) is simple interest, **actual/365 in every year**: each day
//!   accrues `principal × annual rate / 365`, so a leap year's 366 days earn 366/365 of the
//!   annual rate. It accrues on the principal still outstanding that day: a payment on day X
//!   reduces the principal from day X on. The annual rate is the reference rate in force that
//!   day (the last `reference_rates` entry starting on or before it) plus `margin`; days before
//!   the first listed rate accrue nothing. It is rounded half-up to minor units once per
//!   invoice per rate period (the interest of each period is summed exactly, then rounded).
//! - **Monthly percent** is charged per *started* month: on the start day and on the same day
//!   of each following month (clamped to the month's end), `percent` of the principal then
//!   outstanding, rounded half-up. It is reported as interest.
//! - A **fee** (`flat`, or the statutory fixed compensation) is charged once per invoice on the
//!   start day, if principal is still outstanding then; in the invoice's currency from `fee`
//!   (a currency not listed there owes no fee).
//! - On each day, charges that start that day come first, then that day's payments, then the
//!   day's interest. A payment covers what is outstanding in `payment_order`; beyond that it is
//!   an overpayment, not counted here.
//! - A waived part is as if never charged: it stops accruing, is not shown or demanded, and
//!   payments that had covered it count toward what comes next in the order.
use super::money::{Currency, Money};
use chrono::{Months, NaiveDate};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Which charge the policy makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FeeKind {
    /// No fee, no interest: today's behaviour.
    #[default]
    None,
    /// A fixed fee per overdue invoice.
    Flat,
    /// A percentage of the outstanding principal per started month.
    MonthlyPercent,
    /// Statutory interest for business debts: a reference rate plus a margin a year, and a
    /// fixed compensation per invoice (the EU late-payment rules: ECB rate + 8 points, EUR 40).
    Statutory,
}

/// What a payment covers, in the policy's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Interest,
    Fees,
    Principal,
}

/// A rate in ten-thousandths of a percent (`10.15` % is 101_500): exact for any rate written
/// with up to four decimals, and never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Rate(pub i64);

impl Rate {
    const SCALE: i64 = 10_000;

    /// `"10.15"`, `"8"`, `"-0.5"` (reference rates were negative for years), in percent.
    pub fn parse(text: &str) -> Option<Rate> {
        let t = text.trim().trim_end_matches('%').trim();
        let (neg, t) = match t.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, t),
        };
        let (int, frac) = t.split_once('.').unwrap_or((t, ""));
        if int.is_empty()
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || frac.len() > 4
            || int.len() > 6
        {
            return None;
        }
        let int: i64 = int.parse().ok()?;
        let frac: i64 = format!("{frac:0<4}").parse().ok()?;
        let v = int * Self::SCALE + frac;
        Some(Rate(if neg { -v } else { v }))
    }

    /// `10.15%`: as many decimals as needed, at least two.
    pub fn percent(&self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let frac = format!("{:04}", abs % Self::SCALE as u64);
        let frac = frac.trim_end_matches('0');
        let frac = format!("{frac:0<2}");
        format!("{sign}{}.{frac}%", abs / Self::SCALE as u64)
    }
}

/// A reference rate and the day it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatePeriod {
    pub from: NaiveDate,
    pub rate: Rate,
}

/// The `[late_fees]` table, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LateFeePolicy {
    pub kind: FeeKind,
    pub grace_days: u32,
    /// The flat fee or statutory compensation per invoice, in minor units per currency.
    pub fee: BTreeMap<Currency, i64>,
    /// `monthly_percent`: the rate per started month.
    pub percent: Rate,
    /// `statutory`: points a year above the reference rate.
    pub margin: Rate,
    /// `statutory`: reference rates by start day, in order.
    pub reference_rates: Vec<RatePeriod>,
    pub payment_order: [Part; 3],
    /// Whether charges must be paid too before an invoice counts as paid.
    pub counts_toward_paid: bool,
}

impl Default for LateFeePolicy {
    fn default() -> Self {
        LateFeePolicy {
            kind: FeeKind::None,
            grace_days: 0,
            fee: BTreeMap::new(),
            percent: Rate(0),
            margin: Rate(0),
            reference_rates: vec![],
            payment_order: [Part::Interest, Part::Fees, Part::Principal],
            counts_toward_paid: false,
        }
    }
}

/// The table as written: strict, so a misspelt key is an error naming it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LateFeesFile {
    kind: FeeKind,
    #[serde(default)]
    grace_days: u32,
    #[serde(default)]
    fee: BTreeMap<String, String>,
    percent: Option<String>,
    margin: Option<String>,
    #[serde(default)]
    reference_rates: Vec<RateFile>,
    payment_order: Option<Vec<Part>>,
    #[serde(default)]
    counts_toward_paid: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateFile {
    from: NaiveDate,
    rate: String,
}

#[derive(Deserialize)]
struct Outer {
    late_fees: Option<toml::Value>,
}

impl LateFeePolicy {
    pub fn is_active(&self) -> bool {
        self.kind != FeeKind::None
    }

    /// The `[late_fees]` table of a policy file (absent: no fees). Errors name the key.
    pub fn from_policy_toml(text: &str) -> Result<LateFeePolicy, String> {
        let outer: Outer = toml::from_str(text).map_err(|e| format!("policy: {e}"))?;
        let Some(table) = outer.late_fees else {
            return Ok(LateFeePolicy::default());
        };
        let file: LateFeesFile = table.try_into().map_err(|e: toml::de::Error| {
            format!(
                "policy: [late_fees]: {}; expected kind = \"none\", \"flat\", \"monthly_percent\" or \"statutory\"",
                e.to_string().trim_end()
            )
        })?;
        let mut fee = BTreeMap::new();
        for (code, amount) in &file.fee {
            let cur =
                Currency::parse(code).map_err(|e| format!("policy: late_fees.fee.{code}: {e}"))?;
            let m = Money::parse_plain(amount, cur).map_err(|e| {
                format!("policy: late_fees.fee.{code} = {amount:?}: {e}; write e.g. \"40.00\"")
            })?;
            if m.minor <= 0 {
                return Err(format!(
                    "policy: late_fees.fee.{code} must be more than zero"
                ));
            }
            fee.insert(cur, m.minor);
        }
        let rate = |key: &str, v: &Option<String>| -> Result<Rate, String> {
            match v {
                None => Ok(Rate(0)),
                Some(t) => Rate::parse(t).ok_or_else(|| {
                    format!(
                        "policy: late_fees.{key} = {t:?} is not a percentage like \"8\" or \"1.5\""
                    )
                }),
            }
        };
        let percent = rate("percent", &file.percent)?;
        let margin = rate("margin", &file.margin)?;
        let mut reference_rates = Vec::new();
        for (i, r) in file.reference_rates.iter().enumerate() {
            let rate = Rate::parse(&r.rate).ok_or_else(|| {
                format!(
                    "policy: late_fees.reference_rates[{i}].rate = {:?} is not a percentage like \"2.15\"",
                    r.rate
                )
            })?;
            if let Some(prev) = reference_rates.last().map(|p: &RatePeriod| p.from)
                && r.from <= prev
            {
                return Err(format!(
                    "policy: late_fees.reference_rates: {} comes after {prev}; list them by start date",
                    r.from
                ));
            }
            reference_rates.push(RatePeriod { from: r.from, rate });
        }
        let payment_order = match file.payment_order {
            None => LateFeePolicy::default().payment_order,
            Some(order) => {
                let all = [Part::Interest, Part::Fees, Part::Principal];
                if order.len() != 3 || !all.iter().all(|p| order.contains(p)) {
                    return Err("policy: late_fees.payment_order must list \"interest\", \"fees\" and \"principal\" once each, e.g. [\"interest\", \"fees\", \"principal\"]".into());
                }
                [order[0], order[1], order[2]]
            }
        };
        let p = LateFeePolicy {
            kind: file.kind,
            grace_days: file.grace_days,
            fee,
            percent,
            margin,
            reference_rates,
            payment_order,
            counts_toward_paid: file.counts_toward_paid,
        };
        match p.kind {
            FeeKind::None => {}
            FeeKind::Flat if p.fee.is_empty() => {
                return Err("policy: late_fees.fee is required for kind = \"flat\", e.g. fee = { EUR = \"40.00\" }".into());
            }
            FeeKind::MonthlyPercent if p.percent.0 <= 0 => {
                return Err("policy: late_fees.percent is required for kind = \"monthly_percent\", e.g. percent = \"1.5\"".into());
            }
            FeeKind::Statutory if p.reference_rates.is_empty() => {
                return Err("policy: late_fees.reference_rates is required for kind = \"statutory\", e.g. reference_rates = [{ from = 2026-07-01, rate = \"2.15\" }]".into());
            }
            _ => {}
        }
        Ok(p)
    }

    /// The first day charges run: the day after due, plus the grace.
    pub fn start_day(&self, due: NaiveDate) -> NaiveDate {
        due + chrono::Days::new(1 + u64::from(self.grace_days))
    }

    /// The annual interest rate on `day` (`statutory`): reference + margin; `None` before the
    /// first listed reference rate.
    pub fn annual_rate_on(&self, day: NaiveDate) -> Option<Rate> {
        self.reference_rates
            .iter()
            .rev()
            .find(|p| p.from <= day)
            .map(|p| Rate(p.rate.0 + self.margin.0))
    }

    /// The fee per invoice in `cur`, if the policy charges one.
    pub fn fee_for(&self, cur: Currency) -> Option<i64> {
        match self.kind {
            FeeKind::Flat | FeeKind::Statutory => self.fee.get(&cur).copied(),
            _ => None,
        }
    }
}

/// What a manager waived on an invoice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Waived {
    pub fees: bool,
    pub interest: bool,
}

/// One invoice's facts: its principal, due date and payments (any order).
#[derive(Debug, Clone)]
pub struct InvoiceFacts<'a> {
    pub amount_minor: i64,
    pub currency: Currency,
    pub due: NaiveDate,
    pub payments: &'a [(NaiveDate, i64)],
    pub waived: Waived,
}

/// What an invoice owes and has been paid, by part, as of a date.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Charges {
    /// Fees charged so far (not waived).
    pub fees_minor: i64,
    /// Interest accrued so far (not waived).
    pub interest_minor: i64,
    pub fees_paid: i64,
    pub interest_paid: i64,
    pub principal_paid: i64,
    pub principal_minor: i64,
    /// The first day charges ran, when any did.
    pub since: Option<NaiveDate>,
    /// The interest rate in force on the as-of date (a year for statutory, a month for
    /// monthly percent), when interest is charged.
    pub rate: Option<Rate>,
    /// The day the invoice counted as paid (principal covered, plus charges when they count).
    pub paid_on: Option<NaiveDate>,
}

impl Charges {
    pub fn fees_due(&self) -> i64 {
        self.fees_minor - self.fees_paid
    }
    pub fn interest_due(&self) -> i64 {
        self.interest_minor - self.interest_paid
    }
    pub fn principal_due(&self) -> i64 {
        self.principal_minor - self.principal_paid
    }
}

fn div_half_up(n: i128, d: i128) -> i64 {
    // Interest is never negative here (negative totals are clamped to zero before).
    ((n.max(0) + d / 2) / d) as i64
}

/// Interest for the statutory kind: the exact sum of the open rate period, and the rounded
/// sums of closed ones.
struct Accrual<'p> {
    policy: &'p LateFeePolicy,
    /// The next day to accrue.
    day: NaiveDate,
    closed: i64,
    open: i128,
}

/// `minor × rate(1e-4 %) × days / (100 × 10_000 × 365)`.
const YEAR_DENOMINATOR: i128 = 100 * 10_000 * 365;

impl Accrual<'_> {
    fn total(&self) -> i64 {
        self.closed + div_half_up(self.open, YEAR_DENOMINATOR)
    }

    /// Accrues the days from `self.day` up to (not including) `end` on `principal`.
    fn to(&mut self, end: NaiveDate, principal: i64) {
        while self.day < end {
            let next = self
                .policy
                .reference_rates
                .iter()
                .find(|p| p.from > self.day)
                .map(|p| p.from);
            let seg_end = next.map_or(end, |n| n.min(end));
            let days = (seg_end - self.day).num_days() as i128;
            if let Some(rate) = self.policy.annual_rate_on(self.day) {
                self.open += i128::from(principal) * i128::from(rate.0) * days;
            }
            self.day = seg_end;
            if Some(seg_end) == next {
                self.closed += div_half_up(self.open, YEAR_DENOMINATOR);
                self.open = 0;
            }
        }
    }
}

/// What `inv` owes beyond principal, and how its payments were applied, as of `as_of`
/// (inclusive). Payments after `as_of` are not counted.
pub fn charges(policy: &LateFeePolicy, inv: &InvoiceFacts<'_>, as_of: NaiveDate) -> Charges {
    let mut pays: Vec<(NaiveDate, i64)> = inv
        .payments
        .iter()
        .copied()
        .filter(|(d, _)| *d <= as_of)
        .collect();
    pays.sort();
    let mut c = Charges {
        principal_minor: inv.amount_minor,
        ..Charges::default()
    };
    let start = policy.start_day(inv.due);
    let charging = policy.is_active() && start <= as_of;
    if charging {
        c.since = Some(start);
    }
    let fee = (!inv.waived.fees)
        .then(|| policy.fee_for(inv.currency))
        .flatten();
    let interest_on = !inv.waived.interest;
    let statutory = interest_on && policy.kind == FeeKind::Statutory;
    let monthly = interest_on && policy.kind == FeeKind::MonthlyPercent;
    let mut accrual = Accrual {
        policy,
        day: start,
        closed: 0,
        open: 0,
    };
    let mut fee_charged = false;
    let mut months_charged: u32 = 0;
    let mut monthly_total: i64 = 0;
    // Charges that start on or before `day`, on the principal outstanding before that day's
    // payments.
    let mut charge_through = |day: NaiveDate, c: &mut Charges, principal: i64| {
        if !policy.is_active() || day < start {
            return;
        }
        if let Some(fee) = fee
            && !fee_charged
        {
            fee_charged = true;
            if principal > 0 {
                c.fees_minor += fee;
            }
        }
        if monthly {
            while let Some(ps) = start.checked_add_months(Months::new(months_charged))
                && ps <= day
            {
                months_charged += 1;
                monthly_total += div_half_up(
                    i128::from(principal) * i128::from(policy.percent.0),
                    100 * 10_000,
                );
            }
            c.interest_minor = monthly_total;
        }
    };
    let counts = policy.counts_toward_paid;
    for (day, amount) in pays {
        let principal = c.principal_due();
        if statutory && day > start {
            accrual.to(day, principal);
            c.interest_minor = accrual.total();
        }
        charge_through(day, &mut c, principal);
        let mut left = amount;
        for part in policy.payment_order {
            let (owed, paid) = match part {
                Part::Interest => (c.interest_due(), &mut c.interest_paid),
                Part::Fees => (c.fees_due(), &mut c.fees_paid),
                Part::Principal => (c.principal_due(), &mut c.principal_paid),
            };
            let take = owed.max(0).min(left);
            *paid += take;
            left -= take;
        }
        let settled =
            c.principal_due() <= 0 && (!counts || (c.fees_due() <= 0 && c.interest_due() <= 0));
        if settled && c.paid_on.is_none() {
            c.paid_on = Some(day);
        }
    }
    if charging {
        let principal = c.principal_due();
        if statutory {
            accrual.to(as_of + chrono::Days::new(1), principal);
            c.interest_minor = accrual.total();
            c.rate = policy.annual_rate_on(as_of);
        }
        charge_through(as_of, &mut c, principal);
        if monthly {
            c.rate = Some(policy.percent);
        }
    }
    c
}

/// "EUR 40.00 compensation and EUR 12.34 interest at 10.15% a year from 17 November": what is
/// outstanding beyond principal, or `None` when nothing is.
pub fn describe(policy: &LateFeePolicy, c: &Charges, cur: Currency) -> Option<String> {
    let mut parts = Vec::new();
    if c.fees_due() > 0 {
        let word = if policy.kind == FeeKind::Statutory {
            "compensation"
        } else {
            "late fee"
        };
        parts.push(format!("{} {word}", Money::new(c.fees_due(), cur).format()));
    }
    if c.interest_due() > 0 {
        let per = if policy.kind == FeeKind::MonthlyPercent {
            "a month"
        } else {
            "a year"
        };
        let mut s = format!("{} interest", Money::new(c.interest_due(), cur).format());
        if let Some(r) = c.rate {
            s.push_str(&format!(" at {} {per}", r.percent()));
        }
        if let Some(since) = c.since {
            s.push_str(&format!(" from {}", since.format("%-d %B %Y")));
        }
        parts.push(s);
    }
    (!parts.is_empty()).then(|| parts.join(" and "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    /// EU rules: ECB reference rate + 8 points, EUR 40 compensation, interest first.
    fn statutory(rates: &[(&str, &str)]) -> LateFeePolicy {
        let list: Vec<String> = rates
            .iter()
            .map(|(from, rate)| format!("{{ from = {from}, rate = \"{rate}\" }}"))
            .collect();
        LateFeePolicy::from_policy_toml(&format!(
            "[late_fees]\nkind = \"statutory\"\nfee = {{ EUR = \"40.00\" }}\nmargin = \"8\"\n\
             reference_rates = [{}]\n",
            list.join(", ")
        ))
        .unwrap()
    }

    fn facts<'a>(amount: i64, due: &str, payments: &'a [(NaiveDate, i64)]) -> InvoiceFacts<'a> {
        InvoiceFacts {
            amount_minor: amount,
            currency: eur(),
            due: d(due),
            payments,
            waived: Waived::default(),
        }
    }

    #[test]
    fn rates_parse_and_print_exactly() {
        assert_eq!(Rate::parse("10.15"), Some(Rate(101_500)));
        assert_eq!(Rate::parse("8"), Some(Rate(80_000)));
        assert_eq!(Rate::parse("-0.5"), Some(Rate(-5_000)));
        assert_eq!(Rate::parse("1.5%"), Some(Rate(15_000)));
        assert_eq!(Rate::parse("0.0001"), Some(Rate(1)));
        assert_eq!(Rate::parse("1.23456"), None);
        assert_eq!(Rate::parse("ten"), None);
        assert_eq!(Rate::parse(""), None);
        assert_eq!(Rate(101_500).percent(), "10.15%");
        assert_eq!(Rate(80_000).percent(), "8.00%");
        assert_eq!(Rate(15_000).percent(), "1.50%");
        assert_eq!(Rate(101_525).percent(), "10.1525%");
    }

    #[test]
    fn no_table_means_no_fees_and_nothing_charged() {
        let p =
            LateFeePolicy::from_policy_toml("[[first_time]]\nstage = \"inquiry\"\noffset = 1\n")
                .unwrap();
        assert_eq!(p, LateFeePolicy::default());
        assert!(!p.is_active());
        let pays = [];
        let c = charges(&p, &facts(100_000, "2026-01-01", &pays), d("2026-12-31"));
        assert_eq!((c.fees_minor, c.interest_minor, c.since), (0, 0, None));
        assert_eq!(describe(&p, &c, eur()), None);
    }

    /// EUR 10,000.00 due Mon 16 Nov 2026, as of 16 Dec: 17 Nov..16 Dec is 30 days at
    /// 2.15 + 8 = 10.15 %: 1,000,000 × 0.1015 × 30 / 365 = 8,342.47 → EUR 83.42, plus EUR 40.
    #[test]
    fn statutory_thirty_days_by_hand() {
        let p = statutory(&[("2026-07-01", "2.15")]);
        let c = charges(&p, &facts(1_000_000, "2026-11-16", &[]), d("2026-12-16"));
        assert_eq!(c.interest_minor, 8_342);
        assert_eq!(c.fees_minor, 4_000);
        assert_eq!(c.since, Some(d("2026-11-17")));
        assert_eq!(c.rate, Some(Rate(101_500)));
        assert_eq!(
            describe(&p, &c, eur()).unwrap(),
            "EUR 40.00 compensation and EUR 83.42 interest at 10.15% a year from 17 November 2026"
        );
        // On the due date nothing runs; the day after, one day's interest and the fee.
        let c = charges(&p, &facts(1_000_000, "2026-11-16", &[]), d("2026-11-16"));
        assert_eq!((c.fees_minor, c.interest_minor, c.since), (0, 0, None));
        let c = charges(&p, &facts(1_000_000, "2026-11-16", &[]), d("2026-11-17"));
        // 1,000,000 × 0.1015 / 365 = 278.08 → 278.
        assert_eq!((c.fees_minor, c.interest_minor), (4_000, 278));
    }

    /// Actual/365 in a leap year too: EUR 1,000.00 at 8 % (reference 0) due 31 Jan, as of 1 Mar.
    /// 2028 (leap): 1 Feb..1 Mar = 30 days: 8,000 × 30 / 365 = 657.53 → 658.
    /// 2027: 1 Feb..1 Mar = 29 days: 8,000 × 29 / 365 = 635.62 → 636.
    /// A whole leap year (366 days) earns 366/365 of the rate: 8,000 × 366 / 365 = 8,021.92.
    #[test]
    fn leap_years_count_actual_days_over_365() {
        let p = statutory(&[("2020-01-01", "0")]);
        let leap = charges(&p, &facts(100_000, "2028-01-31", &[]), d("2028-03-01"));
        assert_eq!(leap.interest_minor, 658);
        let plain = charges(&p, &facts(100_000, "2027-01-31", &[]), d("2027-03-01"));
        assert_eq!(plain.interest_minor, 636);
        let year = charges(&p, &facts(100_000, "2027-12-31", &[]), d("2028-12-31"));
        assert_eq!(year.interest_minor, 8_022);
        let year = charges(&p, &facts(100_000, "2026-12-31", &[]), d("2027-12-31"));
        assert_eq!(year.interest_minor, 8_000);
    }

    /// The reference rate changes on 1 July: EUR 1,000.00 due 15 June, as of 15 July.
    /// 16–30 June, 15 days at 10.15 %: 10,150 × 15 / 365 = 417.12 → 417 (rounded for the period);
    /// 1–15 July, 15 days at 10.40 %: 10,400 × 15 / 365 = 427.40 → 427. Total EUR 8.44.
    #[test]
    fn a_rate_change_mid_period_splits_and_rounds_per_period() {
        let p = statutory(&[("2026-01-01", "2.15"), ("2026-07-01", "2.40")]);
        let c = charges(&p, &facts(100_000, "2026-06-15", &[]), d("2026-07-15"));
        assert_eq!(c.interest_minor, 417 + 427);
        assert_eq!(c.rate, Some(Rate(104_000)));
        // Rounding once per period differs from rounding the whole: 417.12 + 427.40 = 844.52.
        let whole = div_half_up(
            100_000i128 * 101_500 * 15 + 100_000 * 104_000 * 15,
            YEAR_DENOMINATOR,
        );
        assert_eq!(whole, 845);
        // Days before the first listed rate accrue nothing.
        let c = charges(&p, &facts(100_000, "2025-12-30", &[]), d("2026-01-01"));
        // Only 1 January 2026: 10,150 / 365 = 27.81 → 28.
        assert_eq!(c.interest_minor, 28);
    }

    /// A payment on day X reduces the principal from X on. Principal first (so the payment is
    /// all principal): 17–26 Nov (10 days) on 1,000.00, 27 Nov–16 Dec (20 days) on 600.00:
    /// (100,000 × 10 + 60,000 × 20) × 0.1015 / 365 = 611.78 → 612.
    #[test]
    fn payments_reduce_the_principal_from_their_day() {
        let mut p = statutory(&[("2026-01-01", "2.15")]);
        p.payment_order = [Part::Principal, Part::Interest, Part::Fees];
        let pays = [(d("2026-11-27"), 40_000)];
        let c = charges(&p, &facts(100_000, "2026-11-16", &pays), d("2026-12-16"));
        assert_eq!(c.interest_minor, 612);
        assert_eq!(c.principal_paid, 40_000);
        assert_eq!((c.interest_paid, c.fees_paid), (0, 0));
    }

    /// Interest, then fees, then principal: a payment of 400.00 on 27 Nov first covers the
    /// interest of 17–26 Nov (10 days on 1,000.00: 10,150 × 10 / 365 = 278.08 → 278), then the
    /// EUR 40 compensation; 400.00 − 2.78 − 40.00 = 357.22 reduces the principal to 642.78.
    /// 27 Nov–16 Dec, 20 days on 642.78 (same period, so summed exactly before rounding):
    /// (100,000 × 10 + 64,278 × 20) × 0.1015 / 365 = 2,285,560 × 0.1015 / 365 = 635.56 → 636.
    #[test]
    fn a_payment_covers_charges_in_the_policy_order() {
        let p = statutory(&[("2026-01-01", "2.15")]);
        let pays = [(d("2026-11-27"), 40_000)];
        let c = charges(&p, &facts(100_000, "2026-11-16", &pays), d("2026-12-16"));
        assert_eq!(c.interest_paid, 278);
        assert_eq!(c.fees_paid, 4_000);
        assert_eq!(c.principal_paid, 40_000 - 278 - 4_000);
        assert_eq!(c.interest_minor, 636);
        assert_eq!(c.interest_due(), 636 - 278);
        assert_eq!(c.fees_due(), 0);
        assert_eq!(c.paid_on, None);
    }

    /// The customer pays exactly the principal, interest first: the invoice is not paid (the
    /// charges took part of it) unless payments cover all the principal. With principal first
    /// it is paid on that day and only the charges remain.
    #[test]
    fn paid_is_about_principal_unless_the_policy_counts_charges() {
        let mut p = statutory(&[("2026-01-01", "2.15")]);
        let pays = [(d("2026-11-27"), 100_000)];
        let c = charges(&p, &facts(100_000, "2026-11-16", &pays), d("2026-12-16"));
        assert_eq!(c.paid_on, None);
        assert_eq!(c.principal_due(), 278 + 4_000);
        p.payment_order = [Part::Principal, Part::Fees, Part::Interest];
        let c = charges(&p, &facts(100_000, "2026-11-16", &pays), d("2026-12-16"));
        assert_eq!(c.paid_on, Some(d("2026-11-27")));
        assert_eq!(c.principal_due(), 0);
        // Interest stopped with the principal: only 17–26 Nov.
        assert_eq!((c.interest_due(), c.fees_due()), (278, 4_000));
        p.counts_toward_paid = true;
        let c = charges(&p, &facts(100_000, "2026-11-16", &pays), d("2026-12-16"));
        assert_eq!(c.paid_on, None);
        let pays = [(d("2026-11-27"), 100_000), (d("2026-12-01"), 4_278)];
        let c = charges(&p, &facts(100_000, "2026-11-16", &pays), d("2026-12-16"));
        assert_eq!(c.paid_on, Some(d("2026-12-01")));
    }

    #[test]
    fn waived_parts_stop_and_payments_go_to_the_rest() {
        let p = statutory(&[("2026-01-01", "2.15")]);
        let pays = [(d("2026-11-27"), 100_000)];
        let mut f = facts(100_000, "2026-11-16", &pays);
        f.waived = Waived {
            fees: true,
            interest: true,
        };
        let c = charges(&p, &f, d("2026-12-16"));
        assert_eq!((c.fees_minor, c.interest_minor), (0, 0));
        assert_eq!(c.paid_on, Some(d("2026-11-27")));
        assert_eq!(describe(&p, &c, eur()), None);
        f.waived = Waived {
            fees: true,
            interest: false,
        };
        let c = charges(&p, &f, d("2026-12-16"));
        assert_eq!(c.fees_minor, 0);
        assert_eq!(c.interest_paid, 278);
        // 2.78 of the payment went to interest, so 2.78 of principal runs on for 20 days:
        // (100,000 × 10 + 278 × 20) × 0.1015 / 365 = 279.63 → 280; 0.02 still due.
        assert_eq!(c.interest_minor, 280);
        assert!(
            describe(&p, &c, eur())
                .unwrap()
                .starts_with("EUR 0.02 interest")
        );
    }

    /// A flat EUR 25 once 10 days overdue (grace 9: from the 10th day after due), not for a
    /// currency the policy does not list; paid before the start day, no fee.
    #[test]
    fn flat_fee_after_grace() {
        let p = LateFeePolicy::from_policy_toml(
            "[late_fees]\nkind = \"flat\"\ngrace_days = 9\nfee = { EUR = \"25.00\" }\n",
        )
        .unwrap();
        let none = [];
        let c = charges(&p, &facts(100_000, "2026-11-16", &none), d("2026-11-25"));
        assert_eq!(c.fees_minor, 0);
        let c = charges(&p, &facts(100_000, "2026-11-16", &none), d("2026-11-26"));
        assert_eq!((c.fees_minor, c.interest_minor), (2_500, 0));
        assert_eq!(describe(&p, &c, eur()).unwrap(), "EUR 25.00 late fee");
        let mut usd = facts(100_000, "2026-11-16", &none);
        usd.currency = Currency::parse("USD").unwrap();
        assert_eq!(charges(&p, &usd, d("2026-12-31")).fees_minor, 0);
        let early = [(d("2026-11-20"), 100_000)];
        let c = charges(&p, &facts(100_000, "2026-11-16", &early), d("2026-12-31"));
        assert_eq!((c.fees_minor, c.paid_on), (0, Some(d("2026-11-20"))));
    }

    /// 1.5 % per started month on what is outstanding at each month's start: due 31 Jan 2027,
    /// start 1 Feb; as of 1 Mar, two months started (1 Feb, 1 Mar): 15.00 + 15.00. A payment of
    /// 400.00 on 10 Feb (principal first) leaves 600.00 for the month starting 1 Mar: 9.00.
    #[test]
    fn monthly_percent_per_started_month() {
        let mut p = LateFeePolicy::from_policy_toml(
            "[late_fees]\nkind = \"monthly_percent\"\npercent = \"1.5\"\n",
        )
        .unwrap();
        let none = [];
        let c = charges(&p, &facts(100_000, "2027-01-31", &none), d("2027-02-28"));
        assert_eq!(c.interest_minor, 1_500);
        let c = charges(&p, &facts(100_000, "2027-01-31", &none), d("2027-03-01"));
        assert_eq!(c.interest_minor, 3_000);
        assert_eq!(
            describe(&p, &c, eur()).unwrap(),
            "EUR 30.00 interest at 1.50% a month from 1 February 2027"
        );
        p.payment_order = [Part::Principal, Part::Interest, Part::Fees];
        let pays = [(d("2027-02-10"), 40_000)];
        let c = charges(&p, &facts(100_000, "2027-01-31", &pays), d("2027-03-01"));
        assert_eq!(c.interest_minor, 1_500 + 900);
        // Half-up to the cent: 1.5 % of 0.33 is 0.00495 → 0.00; of 1.00 it is 0.015 → 0.02.
        let c = charges(&p, &facts(33, "2027-01-31", &none), d("2027-02-01"));
        assert_eq!(c.interest_minor, 0);
        let c = charges(&p, &facts(100, "2027-01-31", &none), d("2027-02-01"));
        assert_eq!(c.interest_minor, 2);
    }

    #[test]
    fn the_table_is_checked_with_errors_naming_the_key() {
        let bad = |t: &str| LateFeePolicy::from_policy_toml(t).unwrap_err();
        let e = bad("[late_fees]\nkind = \"sometimes\"\n");
        assert!(e.contains("[late_fees]") && e.contains("sometimes"), "{e}");
        let e = bad("[late_fees]\nkind = \"flat\"\n");
        assert!(e.contains("late_fees.fee is required"), "{e}");
        let e = bad("[late_fees]\nkind = \"flat\"\nfee = { EUR = \"forty\" }\n");
        assert!(e.contains("late_fees.fee.EUR"), "{e}");
        let e = bad("[late_fees]\nkind = \"flat\"\nfee = { EUX = \"40\" }\n");
        assert!(e.contains("late_fees.fee.EUX"), "{e}");
        let e = bad("[late_fees]\nkind = \"monthly_percent\"\n");
        assert!(e.contains("late_fees.percent"), "{e}");
        let e = bad("[late_fees]\nkind = \"statutory\"\nmargin = \"8\"\n");
        assert!(e.contains("late_fees.reference_rates"), "{e}");
        let e = bad("[late_fees]\nkind = \"statutory\"\nmargin = \"eight\"\n");
        assert!(e.contains("late_fees.margin"), "{e}");
        let e = bad(
            "[late_fees]\nkind = \"statutory\"\nreference_rates = [{ from = 2026-07-01, rate = \"2\" }, { from = 2026-01-01, rate = \"2\" }]\n",
        );
        assert!(e.contains("list them by start date"), "{e}");
        let e = bad(
            "[late_fees]\nkind = \"flat\"\nfee = { EUR = \"4\" }\npayment_order = [\"fees\"]\n",
        );
        assert!(e.contains("late_fees.payment_order"), "{e}");
        let e = bad("[late_fees]\nkind = \"flat\"\nfees = { EUR = \"4\" }\n");
        assert!(e.contains("fees"), "{e}");
    }
}
