//! Dates as people type them in chat.
use chrono::{Datelike, Days, NaiveDate, Weekday};

const FORMS: &str =
    "use a date like 2026-12-05, today, tomorrow, a weekday (fri, friday), +7d or +2w";

/// `2026-12-05`, `today`, `tomorrow`, a weekday (`fri`, `friday`: the next one after
/// `today`, never today itself), `+7d`, `+2w`. Anything else is refused with the forms above.
/// Case-insensitive. The `+` is required for offsets so `7d` is never mistaken for a day.
pub fn parse_date(text: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let t = text.trim().to_ascii_lowercase();
    let refuse = || format!("\"{}\" is not a date I understand: {FORMS}", text.trim());
    match t.as_str() {
        "today" => return Ok(today),
        "tomorrow" => return today.succ_opt().ok_or_else(refuse),
        _ => {}
    }
    if let Some(wd) = weekday(&t) {
        let ahead = (7 + wd.num_days_from_monday() - today.weekday().num_days_from_monday()) % 7;
        let ahead = if ahead == 0 { 7 } else { ahead };
        return today
            .checked_add_days(Days::new(u64::from(ahead)))
            .ok_or_else(refuse);
    }
    if let Some(rest) = t.strip_prefix('+') {
        let (num, per) = if let Some(n) = rest.strip_suffix('d') {
            (n, 1)
        } else if let Some(n) = rest.strip_suffix('w') {
            (n, 7)
        } else {
            return Err(refuse());
        };
        if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
            return Err(refuse());
        }
        return num
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(per))
            .and_then(|n| today.checked_add_days(Days::new(n)))
            .ok_or_else(|| format!("\"{}\" is too far ahead: {FORMS}", text.trim()));
    }
    if t.len() == 10 && t.as_bytes()[4] == b'-' && t.as_bytes()[7] == b'-' {
        let digits = t
            .bytes()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
        if digits {
            return NaiveDate::parse_from_str(&t, "%Y-%m-%d").map_err(|_| {
                format!(
                    "\"{}\" is not a day on the calendar: write YYYY-MM-DD, e.g. 2026-12-05",
                    text.trim()
                )
            });
        }
    }
    Err(refuse())
}

fn weekday(s: &str) -> Option<Weekday> {
    Some(match s {
        "mon" | "monday" => Weekday::Mon,
        "tue" | "tues" | "tuesday" => Weekday::Tue,
        "wed" | "wednesday" => Weekday::Wed,
        "thu" | "thur" | "thurs" | "thursday" => Weekday::Thu,
        "fri" | "friday" => Weekday::Fri,
        "sat" | "saturday" => Weekday::Sat,
        "sun" | "sunday" => Weekday::Sun,
        _ => return None,
    })
}

/// How long ago something happened, in calendar days, as a person says it: "earlier today",
/// "yesterday", "3 days ago".
pub fn days_ago(days: i64) -> String {
    match days {
        i64::MIN..=0 => "earlier today".into(),
        1 => "yesterday".into(),
        n => format!("{n} days ago"),
    }
}

/// Calendar days from the instant `at` to `today`, in the time zone `tz` (0: earlier today).
pub fn days_since(at: chrono::DateTime<chrono::Utc>, today: NaiveDate, tz: chrono_tz::Tz) -> i64 {
    (today - at.with_timezone(&tz).date_naive()).num_days()
}

/// `1 account`, `3 accounts`: a count with its noun in the right number.
pub fn count_of(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    // Wednesday.
    const TODAY: &str = "2026-11-25";

    fn p(text: &str) -> Result<NaiveDate, String> {
        parse_date(text, d(TODAY))
    }

    #[test]
    fn iso_today_tomorrow() {
        assert_eq!(p("2026-12-05"), Ok(d("2026-12-05")));
        assert_eq!(p(" 2020-02-29 "), Ok(d("2020-02-29")));
        assert_eq!(p("today"), Ok(d(TODAY)));
        assert_eq!(p("TODAY"), Ok(d(TODAY)));
        assert_eq!(p("Tomorrow"), Ok(d("2026-11-26")));
        assert_eq!(parse_date("tomorrow", d("2026-12-31")), Ok(d("2027-01-01")));
    }

    #[test]
    fn weekdays_are_the_next_one_never_today() {
        assert_eq!(p("thu"), Ok(d("2026-11-26")));
        assert_eq!(p("fri"), Ok(d("2026-11-27")));
        assert_eq!(p("Friday"), Ok(d("2026-11-27")));
        assert_eq!(p("SAT"), Ok(d("2026-11-28")));
        assert_eq!(p("sunday"), Ok(d("2026-11-29")));
        assert_eq!(p("mon"), Ok(d("2026-11-30")));
        assert_eq!(p("tues"), Ok(d("2026-12-01")));
        assert_eq!(
            p("wed"),
            Ok(d("2026-12-02")),
            "today is Wednesday: next week"
        );
        assert_eq!(p("wednesday"), Ok(d("2026-12-02")));
        assert_eq!(p("thurs"), Ok(d("2026-11-26")));
    }

    #[test]
    fn offsets_need_a_plus() {
        assert_eq!(p("+7d"), Ok(d("2026-12-02")));
        assert_eq!(p("+0d"), Ok(d(TODAY)));
        assert_eq!(p("+2w"), Ok(d("2026-12-09")));
        assert_eq!(p("+2W"), Ok(d("2026-12-09")));
        assert_eq!(p("+1d"), Ok(d("2026-11-26")));
        for bad in [
            "7d", "+d", "+7", "+7m", "+-7d", "+7 d", "+ 7d", "-7d", "+1.5w",
        ] {
            assert!(p(bad).is_err(), "{bad}");
        }
        let e = p("+99999999999999999999d").unwrap_err();
        assert!(e.contains("too far"), "{e}");
        assert!(p("+9999999999d").unwrap_err().contains("too far"));
    }

    #[test]
    fn refusals_list_the_accepted_forms() {
        for bad in [
            "",
            "next week",
            "12/05/2026",
            "2026-1-5",
            "fr",
            "yesterday",
            "2026-12-05x",
        ] {
            let e = p(bad).unwrap_err();
            assert!(
                e.contains("2026-12-05")
                    && e.contains("tomorrow")
                    && e.contains("+7d")
                    && e.contains("friday"),
                "{bad}: {e}"
            );
        }
        let e = p("2026-02-30").unwrap_err();
        assert!(
            e.contains("not a day on the calendar") && e.contains("YYYY-MM-DD"),
            "{e}"
        );
        assert!(p("2026-13-01").is_err());
    }

    #[test]
    fn days_ago_reads_naturally() {
        assert_eq!(days_ago(0), "earlier today");
        assert_eq!(days_ago(1), "yesterday");
        assert_eq!(days_ago(3), "3 days ago");
        assert_eq!(count_of(1, "account", "accounts"), "1 account");
        assert_eq!(count_of(2, "account", "accounts"), "2 accounts");
        assert_eq!(count_of(0, "account", "accounts"), "0 accounts");
    }
}
