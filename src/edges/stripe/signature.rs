//! `Stripe-Signature`: `t=<unix>,v1=<hex>[,v1=<hex>…]`, each `v1` an HMAC-SHA256 with the
//! endpoint secret over `"{t}.{raw body}"`. Any `v1` may match any of our secrets (both sides
//! of a secret rotation); other schemes (`v0`) are ignored; the comparison is constant-time.
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Stripe's SDKs default to five minutes: older requests are refused as possible replays.
pub const TOLERANCE_SECS: i64 = 300;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    #[error("Unable to extract timestamp and signatures from header")]
    Malformed,
    #[error("No signatures found with expected scheme v1")]
    NoV1,
    #[error("No signatures found matching the expected signature for payload")]
    NoMatch,
    #[error("Timestamp outside the tolerance zone")]
    TooOld,
}

/// Checks `header` over the raw `body` with any of `secrets`, at `now` (Unix seconds, from the
/// app's clock so a recorded vector can be replayed); `tolerance` `None` skips the age check.
pub fn verify(
    header: &str,
    body: &[u8],
    secrets: &[String],
    now: i64,
    tolerance: Option<i64>,
) -> Result<i64, Rejected> {
    let mut t: Option<&str> = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = Some(v),
            Some(("v1", v)) => sigs.push(v),
            Some(_) => {}
            None => return Err(Rejected::Malformed),
        }
    }
    let t_text = t.ok_or(Rejected::Malformed)?;
    let ts: i64 = t_text.parse().map_err(|_| Rejected::Malformed)?;
    if sigs.is_empty() {
        return Err(Rejected::NoV1);
    }
    let matched = secrets.iter().any(|secret| {
        sigs.iter().any(|sig| {
            let Ok(given) = hex::decode(sig) else {
                return false;
            };
            let mut mac =
                Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
            mac.update(t_text.as_bytes());
            mac.update(b".");
            mac.update(body);
            // `verify_slice` compares in constant time.
            mac.verify_slice(&given).is_ok()
        })
    });
    if !matched {
        return Err(Rejected::NoMatch);
    }
    if let Some(tol) = tolerance
        && now - ts > tol
    {
        return Err(Rejected::TooOld);
    }
    Ok(ts)
}

/// Signs `body` as Stripe does (tests, and tools that replay events).
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// stripe-dotnet's EventUtilityTest vector (see the shared fixtures' signature.md).
    const PAYLOAD: &[u8] = include_bytes!("signature_payload.json");
    const HEADER: &str = "t=1533204620,v1=2220f87ef101a04665f11cdf770523143f875572008577fa0f20882ddb9cc3c7,v0=63f3a72374a733066c4be69ed7f8e5ac85c22c9f0a6a612ab9a025a9e4ee7eef";

    fn secret(s: &str) -> Vec<String> {
        vec![s.to_string()]
    }

    #[test]
    fn the_published_vector_passes_within_tolerance_and_fails_outside() {
        assert_eq!(PAYLOAD.len(), 484);
        let s = secret("webhook_secret");
        assert_eq!(
            verify(HEADER, PAYLOAD, &s, 1533204620 + 100, Some(300)),
            Ok(1533204620)
        );
        assert_eq!(
            verify(HEADER, PAYLOAD, &s, 1533204620 + 400, Some(300)),
            Err(Rejected::TooOld)
        );
        let mut changed = PAYLOAD.to_vec();
        changed.extend_from_slice(b"this_changes_the_json");
        assert_eq!(
            verify(HEADER, &changed, &s, 1533204620 + 100, Some(300)),
            Err(Rejected::NoMatch)
        );
        // Trimmed of its trailing newline the body is another body.
        assert_eq!(
            verify(HEADER, &PAYLOAD[..483], &s, 1533204620, Some(300)),
            Err(Rejected::NoMatch)
        );
        assert_eq!(
            verify(HEADER, PAYLOAD, &s, i64::MAX / 2, None),
            Ok(1533204620)
        );
    }

    #[test]
    fn the_published_hmac_primitive_vectors_match() {
        for (payload, want) in [
            (
                "",
                "f7f9bd47fb987337b5796fdc1fdb9ba221d0d5396814bfcaf9521f43fd8927fd",
            ),
            (
                r#"{"obj1":"hello","obj2":"world"}"#,
                "bebb1a643997f419b315ddba19e6f5411e1ce7f810ba6d3617ce72823092f363",
            ),
            (
                "\u{1F600}",
                "837da296d05c4fe31f61d5d7ead035099d9585a5bcde87de952012a78f0b0c43",
            ),
        ] {
            let mut mac = Hmac::<Sha256>::new_from_slice(b"test_secret").unwrap();
            mac.update(payload.as_bytes());
            assert_eq!(hex::encode(mac.finalize().into_bytes()), want);
        }
    }

    #[test]
    fn rotation_any_v1_with_any_secret_and_bad_headers_named() {
        let body = b"{\"id\":\"evt_1\"}";
        let new = sign("whsec_new", 1000, body);
        let old_sig = sign("whsec_old", 1000, body);
        let both = format!("{new},v1={}", old_sig.split("v1=").nth(1).unwrap());
        let old_only = secret("whsec_old");
        assert!(verify(&both, body, &old_only, 1000, Some(300)).is_ok());
        let two = vec!["whsec_other".to_string(), "whsec_new".to_string()];
        assert!(verify(&new, body, &two, 1000, Some(300)).is_ok());
        assert_eq!(
            verify("garbage", body, &two, 1000, None),
            Err(Rejected::Malformed)
        );
        assert_eq!(
            verify("t=1000,v0=ab", body, &two, 1000, None),
            Err(Rejected::NoV1)
        );
        assert_eq!(
            verify("v1=ab", body, &two, 1000, None),
            Err(Rejected::Malformed)
        );
    }
}
