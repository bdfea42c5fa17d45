//! Cron expressions as people write them. The `cron` crate wants six or seven fields with
//! weekdays 1-7 from Sunday; people write the five-field Unix form with 0-6 from Sunday.
use std::str::FromStr;

const DAYS: [&str; 8] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Accepts `0 8 * * Mon-Fri` or `0 8 * * 1-5` (five fields, Unix weekdays) or the six/seven
/// field form `0 0 8 * * Mon-Fri`.
pub fn parse(expr: &str) -> Result<::cron::Schedule, String> {
    let fields: Vec<&str> = expr.split_whitespace().collect();
    let six = match fields.len() {
        5 => {
            let dow = unix_weekdays(fields[4])?;
            format!(
                "0 {} {} {} {} {dow}",
                fields[0], fields[1], fields[2], fields[3]
            )
        }
        6 | 7 => fields.join(" "),
        n => {
            return Err(format!(
                "`{expr}` has {n} fields; write minute hour day month weekday, e.g. `0 8 * * Mon-Fri` for 8:00 on weekdays"
            ));
        }
    };
    ::cron::Schedule::from_str(&six)
        .map_err(|e| format!("`{expr}` is not a cron expression ({e}); e.g. `0 8 * * Mon-Fri`"))
}

/// Unix weekday numbers (0 or 7 = Sunday) to names, which both forms agree on.
fn unix_weekdays(field: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut num = String::new();
    let flush = |num: &mut String, out: &mut String| -> Result<(), String> {
        if !num.is_empty() {
            let n: usize = num.parse().map_err(|_| format!("weekday `{num}`"))?;
            let name = DAYS
                .get(n)
                .ok_or_else(|| format!("weekday {n} is not 0-7 (0 and 7 are Sunday)"))?;
            out.push_str(name);
            num.clear();
        }
        Ok(())
    };
    let mut after_slash = false;
    for c in field.chars() {
        if c.is_ascii_digit() && !after_slash {
            num.push(c);
        } else {
            flush(&mut num, &mut out)?;
            after_slash = c == '/' || (after_slash && c.is_ascii_digit());
            out.push(c);
        }
    }
    flush(&mut num, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, TimeZone, Timelike, Utc, Weekday};

    fn next_days(expr: &str, n: usize) -> Vec<Weekday> {
        let start = Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0).unwrap(); // a Sunday
        parse(expr)
            .unwrap()
            .after(&start)
            .take(n)
            .map(|t| t.weekday())
            .collect()
    }

    #[test]
    fn five_field_unix_weekdays_mean_what_they_mean_in_crontab() {
        use Weekday::*;
        assert_eq!(
            next_days("0 8 * * 1-5", 6),
            vec![Mon, Tue, Wed, Thu, Fri, Mon]
        );
        assert_eq!(
            next_days("0 8 * * Mon-Fri", 5),
            vec![Mon, Tue, Wed, Thu, Fri]
        );
        assert_eq!(next_days("0 8 * * 0", 2), vec![Sun, Sun]);
        assert_eq!(next_days("0 8 * * 7", 1), vec![Sun]);
        assert_eq!(next_days("0 0 8 * * Mon-Fri", 1), vec![Mon]);
    }

    #[test]
    fn the_time_of_day_survives_conversion() {
        let start = Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap();
        let t = parse("30 7 * * *").unwrap().after(&start).next().unwrap();
        assert_eq!((t.hour(), t.minute(), t.second()), (7, 30, 0));
    }

    #[test]
    fn bad_expressions_say_how_to_write_them() {
        assert!(parse("0 8 * *").unwrap_err().contains("0 8 * * Mon-Fri"));
        assert!(parse("0 8 * * 9").unwrap_err().contains("0-7"));
        assert!(parse("x 8 * * 1").is_err());
    }
}
