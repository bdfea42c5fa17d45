//! `X-Twilio-Signature`: base64 of HMAC-SHA1, keyed with the account's auth token, over the
//! full URL Twilio requested (with its query string) followed by every POST parameter, sorted
//! by name (then value), as name + value. Every parameter counts, known or not: Twilio adds
//! new ones without notice. The URL is the public one Twilio was given, not the one this
//! process sees behind a proxy, so it comes from configuration (`DUNBOT_PUBLIC_URL`).
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

type HmacSha1 = Hmac<Sha1>;

fn mac(auth_token: &str, url: &str, params: &[(String, String)]) -> HmacSha1 {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    // HMAC takes a key of any length.
    let mut mac = HmacSha1::new_from_slice(auth_token.as_bytes()).expect("any key length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

/// The signature Twilio sends for a POST of `params` to `url`.
pub fn sign(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    STANDARD.encode(mac(auth_token, url, params).finalize().into_bytes())
}

/// The URLs Twilio may have signed for `url`: as given, without its port, and with the
/// scheme's default port added when it has none (Twilio's own validators accept all three).
fn candidates(url: &str) -> Vec<String> {
    let mut out = vec![url.to_string()];
    if let Ok(mut u) = url::Url::parse(url) {
        if u.port().is_some() {
            let _ = u.set_port(None);
            out.push(u.to_string());
        } else if let Some(default) = u.port_or_known_default() {
            // `Url` hides a default port, so splice it in by hand after the host.
            if let Some(host) = u.host_str() {
                let prefix = format!("{}://{host}", u.scheme());
                if let Some(rest) = url.strip_prefix(&prefix) {
                    out.push(format!("{prefix}:{default}{rest}"));
                }
            }
        }
    }
    out
}

/// Whether `signature` is Twilio's for a POST of `params` to `url`. Compared in constant time.
pub fn verify(auth_token: &str, url: &str, params: &[(String, String)], signature: &str) -> bool {
    let Ok(given) = STANDARD.decode(signature.trim()) else {
        return false;
    };
    candidates(url)
        .iter()
        .any(|u| mac(auth_token, u, params).verify_slice(&given).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn fixture(name: &str) -> String {
        let path = format!(
            "{}/../shared/fixtures/twilio/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let path = if std::path::Path::new(&path).exists() {
            path
        } else {
            format!("/work/shared/fixtures/twilio/{name}")
        };
        std::fs::read_to_string(path).unwrap()
    }

    fn params_of(v: &Value) -> Vec<(String, String)> {
        if let Some(list) = v["params_list"].as_array() {
            return list
                .iter()
                .map(|p| (p[0].as_str().unwrap().into(), p[1].as_str().unwrap().into()))
                .collect();
        }
        v["params"]
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn every_published_vector_signs_and_verifies() {
        let doc: Value = serde_json::from_str(&fixture("signature-vector.json")).unwrap();
        let vectors = doc["vectors"].as_array().unwrap();
        assert!(vectors.len() >= 7);
        for v in vectors {
            let name = v["name"].as_str().unwrap();
            let token = v["auth_token"].as_str().unwrap();
            let url = v["url"].as_str().unwrap();
            let signed = v["signed_url"].as_str().unwrap_or(url);
            let params = params_of(v);
            let expected = v["expected_signature"].as_str().unwrap();
            assert_eq!(sign(token, signed, &params), expected, "{name}");
            assert!(verify(token, url, &params, expected), "{name}");
            // A wrong token, a changed parameter or a lost one fails.
            assert!(!verify("54321", url, &params, expected), "{name}");
            let mut changed = params.clone();
            changed.push(("Extra".into(), "1".into()));
            assert!(!verify(token, url, &changed, expected), "{name}");
        }
    }

    #[test]
    fn the_inbound_sms_body_verifies_with_every_parameter_kept() {
        let body = fixture("inbound-sms.form");
        let params: Vec<(String, String)> = url::form_urlencoded::parse(body.trim().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let url = "https://handler.twilio.com/twiml/EHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        let token = "11111111111111111111111111111111";
        assert!(verify(token, url, &params, "kztpITUtQNpvjXiMmV/bZ6jnYms="));
        // Dropping the parameters dunbot does not read (AddOns, ReferralNumMedia) breaks it.
        let known: Vec<_> = params
            .iter()
            .filter(|(k, _)| k != "AddOns" && k != "ReferralNumMedia")
            .cloned()
            .collect();
        assert!(!verify(token, url, &known, "kztpITUtQNpvjXiMmV/bZ6jnYms="));
        assert!(!verify(token, url, &params, "not base64!"));
        assert!(!verify(token, url, &params, ""));
    }
}
