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

/// Waits `wait`, or until `stop` changes (serve is shutting down): `false` when the loop
/// calling it should end. The one pause of every background loop (scheduler, outbox worker,
/// automatic plan, Stripe sync, Discord reconnects).
pub async fn pause(
    wait: std::time::Duration,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(wait) => true,
        _ = stop.changed() => false,
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

    #[tokio::test]
    async fn a_pause_goes_on_after_its_wait_and_ends_when_told_to_stop() {
        let (tx, mut rx) = tokio::sync::watch::channel(false);
        assert!(pause(std::time::Duration::from_millis(1), &mut rx).await);
        tx.send(true).unwrap();
        assert!(!pause(std::time::Duration::from_secs(3600), &mut rx).await);
    }
}
