//! Twilio's webhooks: `POST /twilio/sms` (a customer's text: STOP, START, or anything else) and
//! `POST /twilio/status` (a text's delivery status). Each request's `X-Twilio-Signature` is
//! checked over the public URL Twilio was given (`DUNBOT_PUBLIC_URL` + the path and query) and
//! every form parameter; anything unsigned is refused (403) and changes nothing. The core
//! (`app::texts`) decides what the text means; the answer is empty TwiML, so Twilio's own
//! opt-out reply is the one the customer gets.
pub mod signature;

use crate::app::{App, texts};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use std::sync::Arc;

pub const SIGNATURE_HEADER: &str = "x-twilio-signature";
/// The answer to every webhook: nothing for Twilio to do or say.
pub const EMPTY_TWIML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>";

#[derive(Clone)]
struct Hook {
    app: Arc<App>,
    auth_token: Arc<str>,
    /// `https://bot.example.com`, no trailing slash.
    public_url: Arc<str>,
}

/// The routes when `TWILIO_AUTH_TOKEN` and `DUNBOT_PUBLIC_URL` are set (without the public URL
/// no signature can be checked, so nothing is served and a warning says why).
pub fn router_from_env(app: &Arc<App>) -> Router {
    let token = std::env::var("TWILIO_AUTH_TOKEN")
        .ok()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    match (token, crate::notify::sms::public_url_from_env()) {
        (Some(token), Some(public)) => router(app.clone(), &token, &public),
        (Some(_), None) => {
            tracing::warn!(
                "TWILIO_AUTH_TOKEN is set but DUNBOT_PUBLIC_URL is not: /twilio/sms and /twilio/status are not served (the signature is over the public URL)"
            );
            Router::new()
        }
        _ => Router::new(),
    }
}

pub fn router(app: Arc<App>, auth_token: &str, public_url: &str) -> Router {
    Router::new()
        .route("/twilio/sms", post(inbound))
        .route("/twilio/status", post(status))
        .with_state(Hook {
            app,
            auth_token: auth_token.into(),
            public_url: public_url.trim_end_matches('/').into(),
        })
}

/// The form's parameters, every one kept (the signature covers them all), once the signature
/// checks out; `None` for a request Twilio did not sign.
fn verified(
    h: &Hook,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Option<Vec<(String, String)>> {
    let params: Vec<(String, String)> = url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let url = match uri.path_and_query() {
        Some(pq) => format!("{}{}", h.public_url, pq.as_str()),
        None => format!("{}{}", h.public_url, uri.path()),
    };
    let given = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if given.is_empty() || !signature::verify(&h.auth_token, &url, &params, given) {
        tracing::warn!(
            url,
            "Twilio webhook refused: bad or missing X-Twilio-Signature"
        );
        return None;
    }
    Some(params)
}

fn forbidden() -> Response {
    (
        StatusCode::FORBIDDEN,
        "refused: X-Twilio-Signature does not match (is DUNBOT_PUBLIC_URL the URL Twilio calls?)",
    )
        .into_response()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn twiml() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        EMPTY_TWIML,
    )
        .into_response()
}

fn failed(what: &str, e: anyhow::Error) -> Response {
    let reference = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    tracing::error!(reference, error = ?e, "Twilio {what} failed");
    // A 5xx makes Twilio retry the webhook; the message sid makes the retry act once.
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("failed (reference {reference})"),
    )
        .into_response()
}

async fn inbound(
    State(h): State<Hook>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(params) = verified(&h, &uri, &headers, &body) else {
        return forbidden();
    };
    let (Some(from), Some(sid)) = (
        param(&params, "From"),
        param(&params, "MessageSid").or_else(|| param(&params, "SmsSid")),
    ) else {
        return (StatusCode::BAD_REQUEST, "From and MessageSid are required").into_response();
    };
    let text = param(&params, "Body").unwrap_or_default();
    match texts::inbound(&h.app, from, text, sid, h.app.now()).await {
        Ok(accounts) => {
            tracing::info!(?accounts, "text received");
            twiml()
        }
        Err(e) => failed("inbound text", e),
    }
}

async fn status(
    State(h): State<Hook>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(params) = verified(&h, &uri, &headers, &body) else {
        return forbidden();
    };
    let (Some(sid), Some(st)) = (
        param(&params, "MessageSid").or_else(|| param(&params, "SmsSid")),
        param(&params, "MessageStatus").or_else(|| param(&params, "SmsStatus")),
    ) else {
        return (
            StatusCode::BAD_REQUEST,
            "MessageSid and MessageStatus are required",
        )
            .into_response();
    };
    match texts::delivery_status(&h.app, sid, st, param(&params, "ErrorCode"), h.app.now()).await {
        Ok(found) => {
            if !found {
                tracing::info!(sid, status = st, "status for an unknown or finished text");
            }
            twiml()
        }
        Err(e) => failed("status callback", e),
    }
}
