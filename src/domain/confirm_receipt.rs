//! Confirm receipt, stage 2 of the six: a few business days after an invoice is issued, the
//! team makes sure the customer has it, so a "never got it" surfaces before the due date and
//! not as a late payment. Pure: which invoices are due for the question, and the settings.
use super::calendar::Calendar;
use super::money::{Currency, Money};
use chrono::NaiveDate;

/// What the customer said about an invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Received,
    Missing,
    Question,
}

impl Answer {
    pub const ALL: [Answer; 3] = [Answer::Received, Answer::Missing, Answer::Question];

    pub fn key(self) -> &'static str {
        match self {
            Answer::Received => "received",
            Answer::Missing => "missing",
            Answer::Question => "question",
        }
    }

    pub fn parse(s: &str) -> Option<Answer> {
        Answer::ALL
            .into_iter()
            .find(|a| a.key().eq_ignore_ascii_case(s.trim()))
    }
}

/// Which invoices are big enough to confirm (`DUNBOT_CONFIRM_ABOVE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Threshold {
    /// Unset: the stage is off.
    Off,
    /// One figure read in each account's own currency (`1000.00`): whole units and the
    /// decimal digits as written, so it means the same in USD, EUR or JPY.
    Each { units: i64, decimals: String },
    /// A figure per currency (`USD 1000.00, EUR 900`); other currencies are not confirmed.
    PerCurrency(Vec<Money>),
}

impl Threshold {
    /// `1000.00`, or `USD 1000.00, EUR 900` (entries separated by `,` or `;`), or empty for
    /// off. The error says what was wrong and how to write it.
    pub fn parse(text: &str) -> Result<Threshold, String> {
        let t = text.trim();
        let example = "write e.g. 1000.00 (in each account's currency) or USD 1000.00, EUR 900";
        if t.is_empty() {
            return Ok(Threshold::Off);
        }
        if t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            let (units, decimals) = t.split_once('.').unwrap_or((t, ""));
            if units.is_empty()
                || decimals.contains('.')
                || (t.contains('.') && decimals.is_empty())
            {
                return Err(format!("{t:?} is not an amount: {example}"));
            }
            let units = units
                .parse()
                .map_err(|_| format!("{t:?} is too large: {example}"))?;
            return Ok(Threshold::Each {
                units,
                decimals: decimals.to_string(),
            });
        }
        let mut list: Vec<Money> = Vec::new();
        for entry in split_entries(t) {
            let has_code = entry.chars().filter(|c| c.is_ascii_alphabetic()).count() == 3;
            let m = Money::parse(entry, Currency::USD)
                .map_err(|e| format!("{entry:?}: {e}; {example}"))?;
            if !has_code {
                return Err(format!(
                    "{entry:?} names no currency: in a list each amount needs its code; {example}"
                ));
            }
            if m.minor < 0 {
                return Err(format!("{entry:?} is negative; {example}"));
            }
            if list.iter().any(|x| x.currency == m.currency) {
                return Err(format!("{} is named twice; {example}", m.currency));
            }
            list.push(m);
        }
        Ok(Threshold::PerCurrency(list))
    }

    /// The threshold in `currency`'s minor units; `None` when invoices in it are not
    /// confirmed (off, or a list that does not name it).
    pub fn minor_in(&self, currency: Currency) -> Option<i64> {
        match self {
            Threshold::Off => None,
            Threshold::Each { units, decimals } => {
                let e = currency.exponent() as usize;
                let mut frac: String = decimals.chars().take(e).collect();
                while frac.len() < e {
                    frac.push('0');
                }
                let scale = 10i64.checked_pow(e as u32)?;
                let frac: i64 = if frac.is_empty() {
                    0
                } else {
                    frac.parse().ok()?
                };
                units.checked_mul(scale)?.checked_add(frac)
            }
            Threshold::PerCurrency(list) => list
                .iter()
                .find(|m| m.currency == currency)
                .map(|m| m.minor),
        }
    }
}

/// Entries split at `;`, and at `,` where the next entry starts with a currency code, so
/// `USD 1,000.00, EUR 900` keeps its grouping comma.
fn split_entries(t: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for part in t.split(';') {
        let mut start = 0;
        for (i, c) in part.char_indices() {
            if c == ','
                && part[i + 1..]
                    .trim_start()
                    .chars()
                    .next()
                    .is_some_and(|n| n.is_ascii_alphabetic())
            {
                out.push(part[start..i].trim());
                start = i + 1;
            }
        }
        out.push(part[start..].trim());
    }
    out.retain(|e| !e.is_empty());
    out
}

/// The stage's settings (`DUNBOT_CONFIRM_ABOVE`, `DUNBOT_CONFIRM_DAYS`, `DUNBOT_CONFIRM_EMAIL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmSettings {
    pub above: Threshold,
    /// Business days after issue when the question is asked.
    pub days: i32,
    /// Send the customer a short "did you receive invoice X?" email instead of listing a
    /// task in the digest.
    pub email: bool,
}

impl Default for ConfirmSettings {
    fn default() -> ConfirmSettings {
        ConfirmSettings {
            above: Threshold::Off,
            days: 3,
            email: false,
        }
    }
}

impl ConfirmSettings {
    /// From the three variables' values (`None`: unset); errors name the variable.
    pub fn parse(
        above: Option<&str>,
        days: Option<&str>,
        email: Option<&str>,
    ) -> Result<ConfirmSettings, String> {
        let above = Threshold::parse(above.unwrap_or(""))
            .map_err(|e| format!("DUNBOT_CONFIRM_ABOVE: {e}"))?;
        let days = match days.map(str::trim) {
            None | Some("") => 3,
            Some(v) => match v.parse::<i32>() {
                Ok(n) if (0..=60).contains(&n) => n,
                _ => {
                    return Err(format!(
                        "DUNBOT_CONFIRM_DAYS={v:?}: a number of business days from 0 to 60, e.g. 3"
                    ));
                }
            },
        };
        let email = match email.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            None | Some("" | "off" | "no" | "false" | "0") => false,
            Some("on" | "yes" | "true" | "1") => true,
            Some(v) => return Err(format!("DUNBOT_CONFIRM_EMAIL={v:?}: write on or off")),
        };
        Ok(ConfirmSettings { above, days, email })
    }
}

/// An open invoice as the stage sees it.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub issued: NaiveDate,
    pub due: NaiveDate,
    pub amount: Money,
}

/// Whether the invoice is due for "did you receive it?" on `as_of`: above the threshold in its
/// currency, at least `days` business days after issue, and not yet overdue (from then on the
/// reminders take over). Answered invoices are left out before this is asked.
pub fn due_for_confirmation(
    c: &Candidate,
    s: &ConfirmSettings,
    calendar: &Calendar,
    as_of: NaiveDate,
) -> bool {
    let Some(limit) = s.above.minor_in(c.amount.currency) else {
        return false;
    };
    c.amount.minor > limit
        && c.due >= as_of
        && calendar.add_business_days(c.issued, s.days) <= as_of
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn one_figure_reads_in_each_currency() {
        let t = Threshold::parse("1000.50").unwrap();
        assert_eq!(t.minor_in(Currency::USD), Some(100_050));
        assert_eq!(t.minor_in(Currency::JPY), Some(1000));
        assert_eq!(t.minor_in(Currency::parse("BHD").unwrap()), Some(1_000_500));
        assert_eq!(
            Threshold::parse("0").unwrap().minor_in(Currency::EUR),
            Some(0)
        );
        assert_eq!(Threshold::parse(" ").unwrap(), Threshold::Off);
        assert_eq!(Threshold::Off.minor_in(Currency::USD), None);
    }

    #[test]
    fn a_list_names_each_currency_and_keeps_grouping_commas() {
        let t = Threshold::parse("USD 1,000.00, EUR 900;GBP 750.5").unwrap();
        assert_eq!(t.minor_in(Currency::USD), Some(100_000));
        assert_eq!(t.minor_in(Currency::EUR), Some(90_000));
        assert_eq!(t.minor_in(Currency::GBP), Some(75_050));
        assert_eq!(t.minor_in(Currency::JPY), None, "not listed: not confirmed");
        assert_eq!(
            Threshold::parse("USD 1000.00,EUR 900")
                .unwrap()
                .minor_in(Currency::EUR),
            Some(90_000)
        );
    }

    #[test]
    fn bad_thresholds_say_how_to_write_them() {
        for bad in [
            "1.2.3",
            "lots",
            "USD 100, 200",
            "USD 1, USD 2",
            "1.",
            "XYZ 100",
        ] {
            let e = Threshold::parse(bad).unwrap_err();
            assert!(e.contains("e.g."), "{bad}: {e}");
        }
        let e = ConfirmSettings::parse(Some("abc"), None, None).unwrap_err();
        assert!(e.starts_with("DUNBOT_CONFIRM_ABOVE"), "{e}");
        let e = ConfirmSettings::parse(None, Some("three"), None).unwrap_err();
        assert!(e.starts_with("DUNBOT_CONFIRM_DAYS"), "{e}");
        let e = ConfirmSettings::parse(None, None, Some("maybe")).unwrap_err();
        assert!(e.contains("on or off"), "{e}");
        let ok = ConfirmSettings::parse(Some("500"), Some("5"), Some("on")).unwrap();
        assert_eq!((ok.days, ok.email), (5, true));
        assert_eq!(ConfirmSettings::parse(None, None, None).unwrap().days, 3);
    }

    #[test]
    fn asked_from_n_business_days_after_issue_until_due_above_the_threshold() {
        let s = ConfirmSettings {
            above: Threshold::parse("1000").unwrap(),
            ..ConfirmSettings::default()
        };
        let cal = Calendar::default();
        // Issued Thursday 19 November: three business days later is Tuesday 24 November.
        let c = Candidate {
            issued: d("2026-11-19"),
            due: d("2026-12-19"),
            amount: Money::new(150_000, Currency::USD),
        };
        assert!(!due_for_confirmation(&c, &s, &cal, d("2026-11-23")));
        assert!(due_for_confirmation(&c, &s, &cal, d("2026-11-24")));
        assert!(due_for_confirmation(&c, &s, &cal, d("2026-12-19")));
        assert!(
            !due_for_confirmation(&c, &s, &cal, d("2026-12-20")),
            "overdue: reminders take over"
        );
        let small = Candidate {
            amount: Money::new(100_000, Currency::USD),
            ..c.clone()
        };
        assert!(
            !due_for_confirmation(&small, &s, &cal, d("2026-11-30")),
            "above, not at"
        );
        let off = ConfirmSettings::default();
        assert!(!due_for_confirmation(&c, &off, &cal, d("2026-11-30")));
    }

    #[test]
    fn answers_parse_in_any_case() {
        assert_eq!(Answer::parse(" Missing "), Some(Answer::Missing));
        assert_eq!(Answer::parse("lost"), None);
    }
}
