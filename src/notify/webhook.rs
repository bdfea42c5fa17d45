//! Agency pings by signed webhook. The body is the event as JSON; the headers carry a Unix
//! timestamp, `X-Dunbot-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` with the
//! agency's secret, and `X-Dunbot-Delivery`, the outbox dedupe key, the same on every retry so
//! the agency can drop a repeat. The README shows how to verify it.
use super::worker::{Deliverer, DeliveryError};
use crate::store::{Store, collections, outbox::OutboxRow};
use futures_util::future::BoxFuture;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::time::Duration;

pub const TIMESTAMP_HEADER: &str = "X-Dunbot-Timestamp";
pub const SIGNATURE_HEADER: &str = "X-Dunbot-Signature";
pub const DELIVERY_HEADER: &str = "X-Dunbot-Delivery";

/// `v1=` and the hex HMAC-SHA256 of `"<timestamp>.<body>"` keyed with `secret`.
pub fn sign(secret: &str, timestamp: i64, body: &str) -> String {
    // HMAC takes a key of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

pub struct WebhookDeliverer {
    store: Store,
    client: reqwest::Client,
}

impl WebhookDeliverer {
    /// `timeout` bounds one request (connect and response).
    pub fn new(store: Store, timeout: Duration) -> anyhow::Result<WebhookDeliverer> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("dunbot/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(WebhookDeliverer { store, client })
    }

    async fn send(&self, row: &OutboxRow) -> Result<(), DeliveryError> {
        let retry = |e: String| DeliveryError::Retry(e);
        let Some(agency_id) = row.payload["agency_id"].as_i64() else {
            return Err(DeliveryError::Permanent(
                "webhook row without agency_id".into(),
            ));
        };
        let agency = {
            let mut conn = self
                .store
                .pool
                .acquire()
                .await
                .map_err(|e| retry(e.to_string()))?;
            collections::agency_by_id(&mut conn, agency_id)
                .await
                .map_err(|e| retry(e.to_string()))?
        };
        let Some(url) = agency.webhook_url else {
            return Err(DeliveryError::Permanent(format!(
                "{} has no webhook URL any more",
                agency.name
            )));
        };
        let body = serde_json::to_string(&row.payload["body"])
            .map_err(|e| DeliveryError::Permanent(e.to_string()))?;
        let ts = chrono::Utc::now().timestamp();
        let mut req = self
            .client
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(TIMESTAMP_HEADER, ts.to_string())
            .header(DELIVERY_HEADER, &row.dedupe_key);
        if let Some(secret) = agency.webhook_secret.as_deref().filter(|s| !s.is_empty()) {
            req = req.header(SIGNATURE_HEADER, sign(secret, ts, &body));
        }
        let resp = req
            .body(body)
            .send()
            .await
            .map_err(|e| retry(format!("{url}: {e}")))?;
        let status = resp.status();
        if status.is_success() {
            Ok(())
        } else if status.is_client_error()
            && status != reqwest::StatusCode::REQUEST_TIMEOUT
            && status != reqwest::StatusCode::TOO_MANY_REQUESTS
        {
            // The agency's endpoint refuses this request as such: retrying will not help.
            Err(DeliveryError::Permanent(format!("{url}: HTTP {status}")))
        } else {
            Err(retry(format!("{url}: HTTP {status}")))
        }
    }
}

impl Deliverer for WebhookDeliverer {
    fn accepts(&self, row: &OutboxRow) -> bool {
        row.kind == "webhook"
    }

    fn deliver<'a>(&'a self, row: &'a OutboxRow) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(self.send(row))
    }
}

#[cfg(test)]
mod tests {
    use super::sign;

    #[test]
    fn signature_matches_a_known_vector() {
        // python3 -c 'import hmac,hashlib;print(hmac.new(b"s3cret",b"1700000000.{\"a\":1}",hashlib.sha256).hexdigest())'
        assert_eq!(
            sign("s3cret", 1_700_000_000, r#"{"a":1}"#),
            "v1=1698a50bc74d1ff1db85c4e0a5297c2ad9fdba245d5737cdb789e4cc6e098940"
        );
    }
}
