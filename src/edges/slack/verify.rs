//! Slack's request signature: `v0=` HMAC-SHA256 over `v0:{timestamp}:{body}` with the signing
//! secret, compared in constant time, and a timestamp no older than the window (replays).
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

#[derive(Debug, PartialEq, Eq)]
pub enum Rejected {
    MissingHeader(&'static str),
    BadTimestamp,
    WrongSignature,
    /// The signature matched but the request is older (or newer) than the window.
    Expired,
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejected::MissingHeader(h) => write!(f, "missing header {h}"),
            Rejected::BadTimestamp => write!(f, "timestamp is not a number"),
            Rejected::WrongSignature => write!(f, "signature does not match"),
            Rejected::Expired => write!(f, "timestamp outside the allowed window"),
        }
    }
}

/// Checks `signature` (`X-Slack-Signature`) and `timestamp` (`X-Slack-Request-Timestamp`)
/// against `body` at `now` (Unix seconds). The signature is checked first, so an old but
/// genuine request says `Expired` and a tampered one `WrongSignature`.
pub fn verify(
    secret: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
    max_age_secs: i64,
) -> Result<(), Rejected> {
    let ts = timestamp.ok_or(Rejected::MissingHeader("X-Slack-Request-Timestamp"))?;
    let sig = signature.ok_or(Rejected::MissingHeader("X-Slack-Signature"))?;
    let ts_num: i64 = ts.trim().parse().map_err(|_| Rejected::BadTimestamp)?;
    let hex = sig.strip_prefix("v0=").ok_or(Rejected::WrongSignature)?;
    let given = hex::decode(hex).map_err(|_| Rejected::WrongSignature)?;
    let mut mac = mac(secret, ts);
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&given)
        .map_err(|_| Rejected::WrongSignature)?;
    if (now - ts_num).abs() > max_age_secs {
        return Err(Rejected::Expired);
    }
    Ok(())
}

/// The `X-Slack-Signature` value for `body` sent at `timestamp`: what Slack computes, and what
/// tests and the load benchmark use to sign their requests.
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = mac(secret, timestamp);
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

fn mac(secret: &str, timestamp: &str) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies_within_the_window() {
        let sig = sign("s3cret", "1000", b"a=1");
        assert_eq!(
            verify("s3cret", Some("1000"), Some(&sig), b"a=1", 1100, 300),
            Ok(())
        );
        assert_eq!(
            verify("s3cret", Some("1000"), Some(&sig), b"a=2", 1100, 300),
            Err(Rejected::WrongSignature)
        );
        assert_eq!(
            verify("s3cret", Some("1000"), Some(&sig), b"a=1", 1301, 300),
            Err(Rejected::Expired)
        );
        assert_eq!(
            verify("other", Some("1000"), Some(&sig), b"a=1", 1100, 300),
            Err(Rejected::WrongSignature)
        );
        assert_eq!(
            verify("s3cret", None, Some(&sig), b"a=1", 1100, 300),
            Err(Rejected::MissingHeader("X-Slack-Request-Timestamp"))
        );
        assert_eq!(
            verify("s3cret", Some("1000"), Some("v0=zz"), b"a=1", 1100, 300),
            Err(Rejected::WrongSignature)
        );
    }
}
