//! A fake Stripe API on loopback, built from Stripe's published example objects (the shared
//! fixtures): `GET /v1/customers` and `GET /v1/invoices` as Stripe pages them (`limit`,
//! `starting_after`, `has_more`, newest first, `created[gte]`), the bearer key checked, and
//! canned answers (429 with `Retry-After`, 500) to test backoff and resumption.
#![allow(dead_code)]
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub const KEY: &str = "sk_test_dunbot";

pub fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../shared/fixtures/stripe/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let path = if std::path::Path::new(&path).exists() {
        path
    } else {
        format!("/work/shared/fixtures/stripe/{name}")
    };
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Stripe's example customer with another id, name, email and dunbot metadata.
pub fn customer(id: &str, code: Option<&str>, currency: &str) -> Value {
    let mut c = fixture("customer.json");
    c["id"] = id.into();
    c["name"] = format!("Customer {id}").into();
    c["email"] = format!("ap@{id}.example").into();
    c["currency"] = currency.into();
    if let Some(code) = code {
        c["metadata"] = json!({"dunbot_account": code, "time_zone": "Europe/Berlin"});
    }
    c
}

/// Stripe's example invoice (a draft) finalised as `status`, numbered and amounted.
pub fn invoice(
    id: &str,
    customer: &str,
    number: &str,
    status: &str,
    due: i64,
    paid: i64,
    currency: &str,
) -> Value {
    let mut i = fixture("invoice.json");
    i["id"] = id.into();
    i["customer"] = customer.into();
    i["number"] = number.into();
    i["status"] = status.into();
    i["currency"] = currency.into();
    i["collection_method"] = "send_invoice".into();
    i["due_date"] = due.into();
    i["created"] = (due - 30 * 86_400).into();
    i["amount_paid"] = paid.into();
    i["amount_remaining"] = (1000 - paid).into();
    i["paid"] = (status == "paid").into();
    if status == "paid" {
        i["status_transitions"]["paid_at"] = due.into();
    }
    i
}

#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    pub starting_after: Option<String>,
    pub at: Instant,
    pub status: u16,
}

#[derive(Default)]
pub struct Inner {
    pub lists: Mutex<HashMap<String, Vec<Value>>>,
    pub requests: Mutex<Vec<Request>>,
    /// Canned answers, one per request in order: (status, Retry-After).
    pub canned: Mutex<VecDeque<(u16, Option<u64>)>>,
    /// Answer 500 to every request from this many served on (a crash mid-way).
    pub fail_from: Mutex<Option<usize>>,
    /// Milliseconds each answer takes (a real API's latency, so two clients overlap).
    pub delay_ms: std::sync::atomic::AtomicU64,
}

#[derive(Clone)]
pub struct FakeStripe {
    pub url: String,
    pub inner: Arc<Inner>,
}

impl FakeStripe {
    pub async fn start() -> FakeStripe {
        let inner = Arc::new(Inner::default());
        let app = Router::new()
            .route("/v1/{resource}", axum::routing::get(list))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeStripe { url, inner }
    }

    /// Sets a list, newest first as Stripe returns it.
    pub fn set(&self, resource: &str, items: Vec<Value>) {
        self.inner
            .lists
            .lock()
            .unwrap()
            .insert(resource.into(), items);
    }

    pub fn requests(&self) -> Vec<Request> {
        self.inner.requests.lock().unwrap().clone()
    }
}

async fn list(
    State(inner): State<Arc<Inner>>,
    Path(resource): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let delay = inner.delay_ms.load(std::sync::atomic::Ordering::SeqCst);
    tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    let record = |status: u16| {
        inner.requests.lock().unwrap().push(Request {
            path: resource.clone(),
            starting_after: q.get("starting_after").cloned(),
            at: Instant::now(),
            status,
        })
    };
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    if auth != Some(&format!("Bearer {KEY}")) {
        record(401);
        let body = json!({"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}});
        return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    }
    let served = inner.requests.lock().unwrap().len();
    if inner.fail_from.lock().unwrap().is_some_and(|n| served >= n) {
        record(500);
        return (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response();
    }
    if let Some((status, retry)) = inner.canned.lock().unwrap().pop_front() {
        record(status);
        let mut r = (
            StatusCode::from_u16(status).unwrap(),
            axum::Json(json!({"error": {"type": "rate_limit_error"}})),
        )
            .into_response();
        if let Some(s) = retry {
            r.headers_mut()
                .insert("retry-after", s.to_string().parse().unwrap());
        }
        return r;
    }
    let limit: usize = q
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(10)
        .clamp(1, 100);
    let gte: Option<i64> = q.get("created[gte]").and_then(|v| v.parse().ok());
    let all: Vec<Value> = inner
        .lists
        .lock()
        .unwrap()
        .get(&resource)
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|o| gte.is_none_or(|g| o["created"].as_i64().unwrap_or(0) >= g))
        .collect();
    let start = match q.get("starting_after") {
        Some(id) => all
            .iter()
            .position(|o| o["id"] == json!(id))
            .map_or(all.len(), |p| p + 1),
        None => 0,
    };
    let page: Vec<Value> = all.iter().skip(start).take(limit).cloned().collect();
    let has_more = start + page.len() < all.len();
    record(200);
    axum::Json(json!({"object": "list", "url": format!("/v1/{resource}"), "has_more": has_more, "data": page}))
        .into_response()
}
