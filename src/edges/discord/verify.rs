//! Checks that an interaction POST came from Discord: the Ed25519 signature over timestamp and
//! body (serenity's `Verifier`), and the timestamp's age, which serenity leaves to us: a
//! captured request replayed later is refused.
use chrono::{DateTime, Utc};
use serenity::interactions_endpoint::Verifier;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    MissingHeader,
    BadSignature,
    /// Signed, but older (or further ahead) than the window allows.
    Stale,
}

#[derive(Clone)]
pub struct Verify {
    pub verifier: Verifier,
    pub max_age: Duration,
}

impl Verify {
    /// `signature` and `timestamp` are the `X-Signature-Ed25519` and `X-Signature-Timestamp`
    /// headers; `now` is injectable so recorded vectors can be replayed.
    pub fn check(
        &self,
        signature: Option<&str>,
        timestamp: Option<&str>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), Rejected> {
        let (Some(sig), Some(ts)) = (signature, timestamp) else {
            return Err(Rejected::MissingHeader);
        };
        self.verifier
            .verify(sig, ts, body)
            .map_err(|()| Rejected::BadSignature)?;
        let secs: i64 = ts.trim().parse().map_err(|_| Rejected::BadSignature)?;
        let age = now.timestamp() - secs;
        if age.unsigned_abs() > self.max_age.as_secs() {
            return Err(Rejected::Stale);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const KEY: &str = "c5568d0facd66bddee281dcb9c8ac02e169c5c20741b215b2539a96bb183c5d6";
    const BODY: &str = r#"{"type":1}"#;

    #[test]
    fn missing_headers_and_garbage_are_rejected() {
        let v = Verify {
            verifier: super::super::config::verifier(KEY).unwrap(),
            max_age: Duration::from_secs(300),
        };
        let now = Utc.timestamp_opt(1_657_322_078, 0).unwrap();
        assert_eq!(
            v.check(None, Some("1"), BODY.as_bytes(), now),
            Err(Rejected::MissingHeader)
        );
        assert_eq!(
            v.check(Some("zz"), Some("1657322078"), BODY.as_bytes(), now),
            Err(Rejected::BadSignature)
        );
    }
}
