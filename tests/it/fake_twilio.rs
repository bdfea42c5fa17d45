//! A fake Twilio Messages API on loopback: `POST /2010-04-01/Accounts/{sid}/Messages.json`
//! with the checks Twilio makes — basic auth with the account sid and auth token (20003
//! otherwise), the path's account being the caller's, a form with `To`, `Body` and exactly one
//! of `From` / `MessagingServiceSid` (21604, 21602, 21603 otherwise) — answering 201 with
//! Twilio's published create response (`message-queued.json`) under a fresh sid, or a canned
//! answer (a 429, a 400 with 21211).
#![allow(dead_code)]
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

pub const ACCOUNT_SID: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
pub const AUTH_TOKEN: &str = "11111111111111111111111111111111";
pub const FROM: &str = "+15017122661";

pub fn fixture(name: &str) -> String {
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

/// One request the fake took: its form, whether its credentials were right, and the answer.
#[derive(Debug, Clone)]
pub struct Call {
    pub account: String,
    pub authorized: bool,
    pub form: Vec<(String, String)>,
    pub status: u16,
    pub sid: Option<String>,
}

impl Call {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
pub struct Inner {
    pub calls: Mutex<Vec<Call>>,
    /// Canned answers, one per request in order: (status, body).
    pub canned: Mutex<VecDeque<(u16, Value)>>,
    next: Mutex<u32>,
}

#[derive(Clone)]
pub struct FakeTwilio {
    pub url: String,
    pub inner: Arc<Inner>,
}

impl FakeTwilio {
    pub async fn start() -> FakeTwilio {
        let inner = Arc::new(Inner::default());
        let app = Router::new()
            .route(
                "/2010-04-01/Accounts/{account}/Messages.json",
                axum::routing::post(create),
            )
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeTwilio { url, inner }
    }

    pub fn calls(&self) -> Vec<Call> {
        self.inner.calls.lock().unwrap().clone()
    }

    pub fn answer_next(&self, status: u16, body: Value) {
        self.inner.canned.lock().unwrap().push_back((status, body));
    }
}

fn error(status: StatusCode, code: u32, message: &str) -> (StatusCode, Value) {
    (
        status,
        json!({"code": code, "message": message,
               "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
               "status": status.as_u16()}),
    )
}

/// Twilio's checks, in its order: credentials, then the form.
fn check(
    account: &str,
    headers: &HeaderMap,
    form: &[(String, String)],
) -> Result<(), (StatusCode, Value)> {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}"))
    );
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if auth != expected || account != ACCOUNT_SID {
        return Err(error(StatusCode::UNAUTHORIZED, 20003, "Authenticate"));
    }
    let get = |n: &str| form.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    let Some(to) = get("To") else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            21604,
            "A 'To' phone number is required.",
        ));
    };
    let e164 = to.starts_with('+') && to.len() > 7 && to[1..].chars().all(|c| c.is_ascii_digit());
    if !e164 {
        return Err(error(
            StatusCode::BAD_REQUEST,
            21211,
            &format!("The 'To' number {to} is not a valid phone number."),
        ));
    }
    if get("Body").is_none_or(|b| b.trim().is_empty()) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            21602,
            "Message body is required.",
        ));
    }
    match (get("From"), get("MessagingServiceSid")) {
        (Some(_), None) | (None, Some(_)) => Ok(()),
        _ => Err(error(
            StatusCode::BAD_REQUEST,
            21603,
            "A 'From' phone number or a 'MessagingServiceSid' is required, not both.",
        )),
    }
}

async fn create(
    State(inner): State<Arc<Inner>>,
    Path(account): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let checked = check(&account, &headers, &form);
    let canned = inner.canned.lock().unwrap().pop_front();
    let (status, reply, sid) = match (checked, canned) {
        (Err((status, body)), _) => (status, body, None),
        (Ok(()), Some((status, body))) => (StatusCode::from_u16(status).unwrap(), body, None),
        (Ok(()), None) => {
            let n = {
                let mut next = inner.next.lock().unwrap();
                *next += 1;
                *next
            };
            let sid = format!("SM{n:032x}");
            let mut m: Value = serde_json::from_str(&fixture("message-queued.json")).unwrap();
            let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            m["sid"] = json!(sid);
            m["to"] = json!(get("To"));
            m["from"] = json!(get("From"));
            m["body"] = json!(get("Body"));
            m["messaging_service_sid"] = json!(get("MessagingServiceSid"));
            (StatusCode::CREATED, m, Some(sid))
        }
    };
    inner.calls.lock().unwrap().push(Call {
        authorized: status != StatusCode::UNAUTHORIZED,
        account,
        form,
        status: status.as_u16(),
        sid,
    });
    (status, axum::Json(reply)).into_response()
}
