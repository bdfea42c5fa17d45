//! Where "now" comes from. Everything that decides by the date (commands, imports, the digest
//! scheduler, the automatic plan) asks the app's clock, so tests and back-dated runs can fix
//! it. Transport timers (retry backoff, signature freshness) keep reading real time: they
//! measure the wire, not the business day.
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Clock {
    /// The machine's clock.
    #[default]
    System,
    /// Always this instant (tests, replays).
    Fixed(DateTime<Utc>),
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Fixed(at) => *at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_fixed_clock_stands_still_and_the_system_clock_moves_on() {
        let at = Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap();
        assert_eq!(Clock::Fixed(at).now(), at);
        assert_eq!(Clock::Fixed(at).now(), Clock::Fixed(at).now());
        assert!(Clock::System.now() > at - chrono::Duration::days(365 * 50));
    }
}
