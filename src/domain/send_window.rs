//! When a reminder may reach a customer: business days, between two local times in the
//! customer's own time zone (09:00–17:00 by default). Pure: the clock is an argument.
use super::calendar::Calendar;
use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendWindow {
    pub opens: NaiveTime,
    /// Exclusive; `None` means until midnight.
    pub closes: Option<NaiveTime>,
    /// Only business days of the calendar (otherwise every day).
    pub business_days_only: bool,
}

impl Default for SendWindow {
    fn default() -> Self {
        SendWindow {
            opens: NaiveTime::from_hms_opt(9, 0, 0).expect("09:00"),
            closes: NaiveTime::from_hms_opt(17, 0, 0),
            business_days_only: true,
        }
    }
}

impl SendWindow {
    /// Any time, any day (tests, or a team that sends around the clock).
    pub fn always() -> SendWindow {
        SendWindow {
            opens: NaiveTime::MIN,
            closes: None,
            business_days_only: false,
        }
    }

    /// `09:00-17:00` (business days), `09:00-17:00 every day`, or `always`.
    pub fn parse(text: &str) -> Result<SendWindow, String> {
        let t = text.trim().to_ascii_lowercase();
        if t == "always" {
            return Ok(SendWindow::always());
        }
        let (range, every_day) = match t.strip_suffix("every day") {
            Some(r) => (r.trim(), true),
            None => (t.as_str(), false),
        };
        let hint = "write e.g. 09:00-17:00, 08:30-18:00 every day, or always";
        let (a, b) = range
            .split_once('-')
            .ok_or_else(|| format!("send window \"{text}\": {hint}"))?;
        let time = |s: &str| {
            let s = s.trim();
            if s == "24:00" {
                return Ok(None);
            }
            NaiveTime::parse_from_str(s, "%H:%M")
                .map(Some)
                .map_err(|_| format!("send window \"{text}\": \"{s}\" is not HH:MM; {hint}"))
        };
        let opens = time(a)?.ok_or_else(|| format!("send window \"{text}\": {hint}"))?;
        let closes = time(b)?;
        if closes.is_some_and(|c| c <= opens) {
            return Err(format!(
                "send window \"{text}\": it must close after it opens; {hint}"
            ));
        }
        Ok(SendWindow {
            opens,
            closes,
            business_days_only: !every_day,
        })
    }

    fn day_ok(&self, cal: &Calendar, d: NaiveDate) -> bool {
        !self.business_days_only || cal.is_business_day(d)
    }

    /// Whether `now` is inside the window in `tz`.
    pub fn is_open(&self, cal: &Calendar, tz: Tz, now: DateTime<Utc>) -> bool {
        let local = now.with_timezone(&tz);
        let t = local.time();
        self.day_ok(cal, local.date_naive()) && t >= self.opens && self.closes.is_none_or(|c| t < c)
    }

    /// `now` when the window is open, else the next time it opens (in UTC).
    pub fn next_opening(&self, cal: &Calendar, tz: Tz, now: DateTime<Utc>) -> DateTime<Utc> {
        if self.is_open(cal, tz, now) {
            return now;
        }
        let local = now.with_timezone(&tz);
        let mut day = local.date_naive();
        if local.time() >= self.opens {
            day = day + Days::new(1);
        }
        // A year of holidays at most; the calendar never blocks that long.
        for _ in 0..400 {
            if self.day_ok(cal, day) {
                // The earliest instant at or after the opening time that exists locally (a DST
                // gap pushes it forward).
                let mut t = day.and_time(self.opens);
                for _ in 0..4 {
                    if let Some(at) = tz.from_local_datetime(&t).earliest() {
                        return at.with_timezone(&Utc);
                    }
                    t += chrono::Duration::minutes(30);
                }
            }
            day = day + Days::new(1);
        }
        now
    }
}

/// What to tell the person who queued a message about when it leaves: within moments, at the
/// next opening `opens` of the customer's window, and/or once the sender is set up (`setup`
/// names what is missing, e.g. the SMTP settings). Shared by email and text reminders.
pub fn when_it_goes(
    configured: bool,
    setup: &str,
    now: DateTime<Utc>,
    opens: DateTime<Utc>,
    tz: Tz,
) -> String {
    let at = format!(
        "{} ({})",
        opens.with_timezone(&tz).format("%a %Y-%m-%d %H:%M %Z"),
        opens.format("%H:%M UTC")
    );
    match (configured, opens > now) {
        (true, false) => "it goes out in a moment.".into(),
        (true, true) => {
            format!("it is outside the customer's send window, so it will go out {at}.")
        }
        (false, false) => format!("it goes out once {setup}."),
        (false, true) => format!(
            "it is outside the customer's send window, so it will go out {at} at the earliest, once {setup}."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }
    fn ny() -> Tz {
        "America/New_York".parse().unwrap()
    }

    #[test]
    fn open_on_business_hours_in_the_customers_zone() {
        let w = SendWindow::default();
        let cal = Calendar::default();
        // Monday 2026-11-23 15:00 UTC = 10:00 in New York.
        assert!(w.is_open(&cal, ny(), utc("2026-11-23T15:00:00Z")));
        // 10:00 UTC = 05:00 in New York: closed, opens 09:00 local = 14:00 UTC.
        assert!(!w.is_open(&cal, ny(), utc("2026-11-23T10:00:00Z")));
        assert_eq!(
            w.next_opening(&cal, ny(), utc("2026-11-23T10:00:00Z")),
            utc("2026-11-23T14:00:00Z")
        );
        // 17:00 local is closed: next is Tuesday 09:00.
        assert_eq!(
            w.next_opening(&cal, ny(), utc("2026-11-23T22:00:00Z")),
            utc("2026-11-24T14:00:00Z")
        );
    }

    #[test]
    fn weekends_and_holidays_roll_to_the_next_business_morning() {
        let w = SendWindow::default();
        let cal = Calendar::new([NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()]);
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // Friday 2026-11-27 18:00 Berlin → Monday is a holiday → Tuesday 09:00 (08:00 UTC).
        let at = utc("2026-11-27T17:00:00Z");
        assert!(!w.is_open(&cal, berlin, at));
        assert_eq!(
            w.next_opening(&cal, berlin, at),
            utc("2026-12-01T08:00:00Z")
        );
        // Saturday noon: closed.
        assert!(!w.is_open(&cal, berlin, utc("2026-11-28T11:00:00Z")));
    }

    #[test]
    fn parses_and_explains() {
        assert_eq!(
            SendWindow::parse("09:00-17:00").unwrap(),
            SendWindow::default()
        );
        let every = SendWindow::parse("08:30-24:00 every day").unwrap();
        assert!(!every.business_days_only && every.closes.is_none());
        assert_eq!(SendWindow::parse("always").unwrap(), SendWindow::always());
        assert!(SendWindow::parse("9-5").unwrap_err().contains("not HH:MM"));
        assert!(
            SendWindow::parse("17:00-09:00")
                .unwrap_err()
                .contains("close after")
        );
        let cal = Calendar::default();
        let at = utc("2026-11-28T03:00:00Z");
        assert!(SendWindow::always().is_open(&cal, Tz::UTC, at));
        assert_eq!(SendWindow::always().next_opening(&cal, Tz::UTC, at), at);
    }

    #[test]
    fn when_it_goes_names_the_local_opening_and_what_is_missing() {
        let now = utc("2026-11-28T03:00:00Z");
        let later = utc("2026-11-30T14:00:00Z");
        let ny: Tz = "America/New_York".parse().unwrap();
        assert_eq!(
            when_it_goes(true, "x", now, now, ny),
            "it goes out in a moment."
        );
        assert_eq!(
            when_it_goes(true, "x", now, later, ny),
            "it is outside the customer's send window, so it will go out Mon 2026-11-30 09:00 EST (14:00 UTC)."
        );
        assert_eq!(
            when_it_goes(false, "SMTP is set", now, now, ny),
            "it goes out once SMTP is set."
        );
        assert!(
            when_it_goes(false, "SMTP is set", now, later, ny)
                .ends_with("09:00 EST (14:00 UTC) at the earliest, once SMTP is set.")
        );
    }
}
