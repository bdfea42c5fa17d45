//! A fake Slack on loopback speaking the real wire protocols: the Web API methods dunbot calls
//! (JSON over HTTP, bearer token), a `response_url` sink, and a Socket Mode WebSocket that
//! `apps.connections.open` points to. It records what it received and can be scripted to
//! answer 429 (with `Retry-After`) or 500 first.
#![allow(dead_code)]
use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message as WsMessage;

#[derive(Debug, Clone)]
pub struct Call {
    /// `chat.postMessage`, `response:<id>`, …
    pub method: String,
    pub auth: Option<String>,
    pub body: Value,
}

/// A scripted answer: HTTP status and `Retry-After` seconds.
type Scripted = (u16, Option<u64>);

#[derive(Default)]
struct Inner {
    calls: Vec<Call>,
    /// Per method, statuses to answer before answering normally: (status, Retry-After).
    script: Vec<(String, VecDeque<Scripted>)>,
    ts: u64,
    /// Frames the fake received on the Socket Mode socket (acks).
    socket_in: Vec<Value>,
    /// The workspace's people, as `users.info` returns them, by id.
    users: Vec<(String, Value)>,
    /// Messages as they stand (posted, then updated), by ts: what `conversations.history` reads.
    messages: Vec<(String, Value)>,
    /// Files announced by `files.getUploadURLExternal`, with the bytes POSTed to their URL.
    files: Vec<FakeFile>,
    /// Files shared by `files.completeUploadExternal`: (channel, file id, the message's blocks).
    shared: Vec<(String, String, Value)>,
    /// Messages deleted in Slack (by a person): updates and replies to them are refused.
    deleted: Vec<String>,
    /// How long each Web API call takes to answer (a slow network: races show up).
    latency: Duration,
}

/// A file on its way through the upload steps.
#[derive(Debug, Clone)]
pub struct FakeFile {
    pub id: String,
    pub filename: String,
    /// The length announced to `files.getUploadURLExternal`.
    pub length: usize,
    /// What was POSTed to the upload URL (`None`: nothing yet).
    pub bytes: Option<Vec<u8>>,
}

#[derive(Clone)]
pub struct FakeSlack {
    inner: Arc<Mutex<Inner>>,
    pub base: String,
    /// Envelopes to send down the Socket Mode socket.
    socket_tx: Arc<Mutex<Option<tokio::sync::mpsc::UnboundedSender<Value>>>>,
    ws_url: String,
}

impl FakeSlack {
    pub async fn start() -> FakeSlack {
        let ws = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let ws_url = format!("ws://{}/link", ws.local_addr().unwrap());
        let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", http.local_addr().unwrap());
        let fake = FakeSlack {
            inner: Arc::default(),
            base,
            socket_tx: Arc::default(),
            ws_url,
        };
        let app = Router::new()
            .route("/api/{method}", post(api).get(api_get))
            .route("/response/{id}", post(response_url))
            .route("/upload/{id}", post(upload))
            .with_state(fake.clone());
        tokio::spawn(async move {
            axum::serve(http, app).await.unwrap();
        });
        let f = fake.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = ws.accept().await {
                let f = f.clone();
                tokio::spawn(async move { f.socket(stream).await });
            }
        });
        fake
    }

    /// What dunbot's `SLACK_API_URL` should be.
    pub fn api_url(&self) -> String {
        format!("{}/api", self.base)
    }

    /// A response_url for a request.
    pub fn response_url(&self, id: &str) -> String {
        format!("{}/response/{id}", self.base)
    }

    /// Answers the next calls of `method` with these statuses (and `Retry-After`) in turn;
    /// 200 lets a call through.
    pub fn fail_next(&self, method: &str, statuses: &[Scripted]) {
        let mut i = self.inner.lock().unwrap();
        i.script
            .push((method.to_string(), statuses.iter().copied().collect()));
    }

    /// Adds a person to the workspace: `users.info` answers with their profile.
    pub fn add_user(&self, id: &str, name: &str, real_name: &str, display_name: &str) {
        let user = json!({
            "id": id, "team_id": "T0FAKE", "name": name, "deleted": false, "color": "9f69e7",
            "real_name": real_name, "tz": "Europe/Berlin", "tz_label": "Central European Time",
            "tz_offset": 3600,
            "profile": {
                "avatar_hash": "ge3b51ca72de", "status_text": "", "status_emoji": "",
                "real_name": real_name, "display_name": display_name,
                "real_name_normalized": real_name, "display_name_normalized": display_name,
                "email": format!("{name}@example.com"), "team": "T0FAKE",
            },
            "is_admin": false, "is_owner": false, "is_primary_owner": false,
            "is_restricted": false, "is_ultra_restricted": false, "is_bot": false,
            "is_app_user": false, "updated": 1502138686, "has_2fa": false,
        });
        self.inner
            .lock()
            .unwrap()
            .users
            .push((id.to_string(), user));
    }

    pub fn calls(&self, method: &str) -> Vec<Call> {
        self.inner
            .lock()
            .unwrap()
            .calls
            .iter()
            .filter(|c| c.method == method)
            .cloned()
            .collect()
    }

    pub fn all_calls(&self) -> Vec<Call> {
        self.inner.lock().unwrap().calls.clone()
    }

    /// Files announced for upload, with their bytes once POSTed.
    pub fn files(&self) -> Vec<FakeFile> {
        self.inner.lock().unwrap().files.clone()
    }

    /// Files shared in channels: (channel, file id, blocks of the message they came with).
    pub fn shared(&self) -> Vec<(String, String, Value)> {
        self.inner.lock().unwrap().shared.clone()
    }

    /// Every Web API call answers after `latency`.
    pub fn set_latency(&self, latency: Duration) {
        self.inner.lock().unwrap().latency = latency;
    }

    /// Messages posted to `channel` outside any thread, oldest first, as they stand now.
    pub fn top_level(&self, channel: &str) -> Vec<Value> {
        self.inner
            .lock()
            .unwrap()
            .messages
            .iter()
            .filter(|(_, m)| m["channel"] == channel && m.get("thread_ts").is_none())
            .map(|(_, m)| m.clone())
            .collect()
    }

    /// Replies in the thread of `thread_ts`, oldest first.
    pub fn replies(&self, thread_ts: &str) -> Vec<Value> {
        self.inner
            .lock()
            .unwrap()
            .messages
            .iter()
            .filter(|(_, m)| m["thread_ts"] == thread_ts)
            .map(|(_, m)| m.clone())
            .collect()
    }

    /// A person deletes the message at `ts` (and with it, for Slack, its thread).
    pub fn delete_message(&self, ts: &str) {
        let mut i = self.inner.lock().unwrap();
        i.messages.retain(|(t, m)| t != ts && m["thread_ts"] != ts);
        i.deleted.push(ts.to_string());
    }

    pub fn socket_acks(&self) -> Vec<Value> {
        self.inner.lock().unwrap().socket_in.clone()
    }

    /// Waits (up to 10 s) until `f` holds for the recorded calls; panics with them otherwise.
    pub async fn wait_until(&self, what: &str, f: impl Fn(&FakeSlack) -> bool) {
        for _ in 0..500 {
            if f(self) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "fake Slack never saw {what}; it got {:#?}",
            self.all_calls()
        );
    }

    /// Sends a Socket Mode envelope to the connected client.
    pub async fn send_envelope(&self, envelope: Value) {
        for _ in 0..500 {
            if let Some(tx) = self.socket_tx.lock().unwrap().as_ref() {
                tx.send(envelope).unwrap();
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("no Socket Mode client connected");
    }

    fn record(&self, method: &str, headers: &HeaderMap, body: &Bytes) -> Option<Scripted> {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = parse_body(body);
        let mut i = self.inner.lock().unwrap();
        i.calls.push(Call {
            method: method.to_string(),
            auth,
            body,
        });
        i.script
            .iter_mut()
            .find(|(m, q)| m == method && !q.is_empty())
            .and_then(|(_, q)| q.pop_front())
            .filter(|(status, _)| *status != 200)
    }

    fn next_ts(&self) -> String {
        let mut i = self.inner.lock().unwrap();
        i.ts += 1;
        format!("1700000000.{:06}", i.ts)
    }

    async fn socket(&self, stream: tokio::net::TcpStream) {
        let Ok(ws) = tokio_tungstenite::accept_async(stream).await else {
            return;
        };
        let (mut sink, mut source) = ws.split();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Value>();
        let hello = json!({
            "type": "hello", "num_connections": 1,
            "connection_info": {"app_id": "A0FAKE"},
            "debug_info": {"host": "fake-slack", "approximate_connection_time": 18060},
        });
        if sink.send(WsMessage::text(hello.to_string())).await.is_err() {
            return;
        }
        *self.socket_tx.lock().unwrap() = Some(tx);
        loop {
            tokio::select! {
                out = rx.recv() => match out {
                    Some(v) => if sink.send(WsMessage::text(v.to_string())).await.is_err() { return },
                    None => return,
                },
                msg = source.next() => match msg {
                    Some(Ok(WsMessage::Text(t))) => {
                        if let Ok(v) = serde_json::from_str::<Value>(&t) {
                            self.inner.lock().unwrap().socket_in.push(v);
                        }
                    }
                    Some(Ok(WsMessage::Ping(p))) => { let _ = sink.send(WsMessage::Pong(p)).await; }
                    Some(Ok(_)) => {}
                    _ => return,
                },
            }
        }
    }
}

/// A Web API call's arguments: JSON, or a form.
fn parse_body(body: &Bytes) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|_| {
        Value::Object(
            url::form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect(),
        )
    })
}

fn scripted(status: u16, retry_after: Option<u64>) -> Response {
    let code = StatusCode::from_u16(status).unwrap();
    let mut r = if status == 429 {
        (code, Json(json!({"ok": false, "error": "ratelimited"}))).into_response()
    } else {
        (code, "upstream trouble").into_response()
    };
    if let Some(s) = retry_after {
        r.headers_mut()
            .insert("retry-after", s.to_string().parse().unwrap());
    }
    r
}

async fn api(
    State(f): State<FakeSlack>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some((status, ra)) = f.record(&method, &headers, &body) {
        return scripted(status, ra);
    }
    let latency = f.inner.lock().unwrap().latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    // This call's own arguments (another call may have been recorded meanwhile).
    let req = parse_body(&body);
    let channel = req["channel"].clone();
    if channel == "CGONE" {
        return Json(json!({"ok": false, "error": "channel_not_found"})).into_response();
    }
    let stored = |ts: &str| {
        let mut m = json!({"type": "message", "ts": ts, "channel": channel, "text": req["text"],
               "blocks": req.get("blocks").cloned().unwrap_or(json!([])), "bot_id": "B0FAKE"});
        if let Some(t) = req.get("thread_ts").filter(|t| t.is_string()) {
            m["thread_ts"] = t.clone();
        }
        m
    };
    let reply = match method.as_str() {
        // As Slack does: a reply to a deleted message has no thread to go to.
        "chat.postMessage"
            if req["thread_ts"]
                .as_str()
                .is_some_and(|t| f.inner.lock().unwrap().deleted.iter().any(|d| d == t)) =>
        {
            json!({"ok": false, "error": "thread_not_found"})
        }
        // A deleted (or never posted) message cannot be updated.
        "chat.update"
            if {
                let i = f.inner.lock().unwrap();
                let ts = req["ts"].as_str().unwrap_or_default();
                i.deleted.iter().any(|d| d == ts) || !i.messages.iter().any(|(t, _)| t == ts)
            } =>
        {
            json!({"ok": false, "error": "message_not_found"})
        }
        "chat.postMessage" => {
            let ts = f.next_ts();
            f.inner
                .lock()
                .unwrap()
                .messages
                .push((ts.clone(), stored(&ts)));
            json!({"ok": true, "channel": channel, "ts": ts,
                   "message": {"ts": ts, "type": "message", "text": req["text"], "bot_id": "B0FAKE"}})
        }
        "chat.update" => {
            let ts = req["ts"].as_str().unwrap_or_default().to_string();
            let mut i = f.inner.lock().unwrap();
            if let Some(m) = i.messages.iter_mut().find(|(t, _)| *t == ts) {
                // An update keeps the message where it is (in its thread, if a reply).
                let thread = m.1.get("thread_ts").cloned();
                m.1 = stored(&ts);
                if let Some(t) = thread {
                    m.1["thread_ts"] = t;
                }
            }
            json!({"ok": true, "channel": channel, "ts": req["ts"],
                   "message": {"text": req["text"], "bot_id": "B0FAKE"}})
        }
        "conversations.history" => {
            let latest = req["latest"].as_str().unwrap_or_default();
            let found: Vec<Value> = f
                .inner
                .lock()
                .unwrap()
                .messages
                .iter()
                .filter(|(t, m)| t == latest && m["channel"] == channel)
                .map(|(_, m)| m.clone())
                .collect();
            json!({"ok": true, "messages": found, "has_more": false})
        }
        "chat.postEphemeral" => json!({"ok": true, "message_ts": f.next_ts()}),
        "views.open" => {
            let mut view = req["view"].clone();
            view["id"] = json!("V0FAKE");
            view["team_id"] = json!("T0FAKE");
            view["hash"] = json!("1.abc");
            json!({"ok": true, "view": view})
        }
        "apps.connections.open" => json!({"ok": true, "url": f.ws_url}),
        // As Slack does: a file id and a URL on the fake to POST the bytes to.
        "files.getUploadURLExternal" => {
            let filename = req["filename"].as_str().unwrap_or_default().to_string();
            let length: usize = req["length"]
                .as_str()
                .and_then(|l| l.parse().ok())
                .unwrap_or(0);
            if filename.is_empty() || length == 0 {
                return Json(json!({"ok": false, "error": "invalid_arguments"})).into_response();
            }
            let mut i = f.inner.lock().unwrap();
            let id = format!("F0FAKE{:04}", i.files.len() + 1);
            i.files.push(FakeFile {
                id: id.clone(),
                filename,
                length,
                bytes: None,
            });
            json!({"ok": true, "file_id": id, "upload_url": format!("{}/upload/{id}", f.base)})
        }
        // Each file must have been announced and its bytes (of the announced length) uploaded;
        // the share is a message in the channel.
        "files.completeUploadExternal" => {
            let Some(wanted) = req["files"].as_array().filter(|a| !a.is_empty()) else {
                return Json(json!({"ok": false, "error": "invalid_arguments"})).into_response();
            };
            let Some(channel) = req["channel_id"].as_str().map(str::to_string) else {
                return Json(json!({"ok": false, "error": "invalid_arguments"})).into_response();
            };
            if channel == "CGONE" {
                return Json(json!({"ok": false, "error": "channel_not_found"})).into_response();
            }
            let mut out = Vec::new();
            let mut i = f.inner.lock().unwrap();
            for w in wanted {
                let id = w["id"].as_str().unwrap_or_default();
                match i.files.iter().find(|x| x.id == id) {
                    Some(x) if x.bytes.as_ref().is_some_and(|b| b.len() == x.length) => {
                        out.push(json!({"id": id, "name": x.filename, "title": w["title"],
                                        "mimetype": "image/png", "filetype": "png"}));
                    }
                    _ => {
                        return Json(json!({"ok": false, "error": "file_not_found"}))
                            .into_response();
                    }
                }
            }
            let blocks = req.get("blocks").cloned().unwrap_or(json!([]));
            for x in &out {
                let id = x["id"].as_str().unwrap().to_string();
                i.shared.push((channel.clone(), id, blocks.clone()));
            }
            i.ts += 1;
            let ts = format!("1700000000.{:06}", i.ts);
            i.messages.push((
                ts.clone(),
                json!({"type": "message", "ts": ts, "channel": channel, "text": "",
                       "blocks": blocks, "files": out, "bot_id": "B0FAKE"}),
            ));
            json!({"ok": true, "files": out})
        }
        _ => json!({"ok": false, "error": "unknown_method"}),
    };
    Json(reply).into_response()
}

/// The Web API's GET methods (`users.info`, and `conversations.history` through `api`), their
/// arguments in the query string.
async fn api_get(
    State(f): State<FakeSlack>,
    Path(method): Path<String>,
    headers: HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    let query = Bytes::from(query.unwrap_or_default());
    if method != "users.info" {
        return api(State(f), Path(method), headers, query).await;
    }
    if let Some((status, ra)) = f.record(&method, &headers, &query) {
        return scripted(status, ra);
    }
    let req = f.calls(&method).pop().map(|c| c.body).unwrap_or_default();
    let reply = match method.as_str() {
        "users.info" => {
            let users = f.inner.lock().unwrap().users.clone();
            match users.iter().find(|(id, _)| req["user"] == id.as_str()) {
                Some((_, user)) => json!({"ok": true, "user": user}),
                None => json!({"ok": false, "error": "user_not_found"}),
            }
        }
        _ => json!({"ok": false, "error": "unknown_method"}),
    };
    Json(reply).into_response()
}

/// The upload URL: the file's raw bytes, answered as Slack does, in plain text.
async fn upload(
    State(f): State<FakeSlack>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let method = format!("upload:{id}");
    let meta = Bytes::from(format!("length={}", body.len()));
    if let Some((status, ra)) = f.record(&method, &headers, &meta) {
        return scripted(status, ra);
    }
    let mut i = f.inner.lock().unwrap();
    match i.files.iter_mut().find(|x| x.id == id) {
        Some(x) => {
            x.bytes = Some(body.to_vec());
            (StatusCode::OK, format!("OK - {}", body.len())).into_response()
        }
        None => (StatusCode::NOT_FOUND, "no such upload").into_response(),
    }
}

async fn response_url(
    State(f): State<FakeSlack>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some((status, ra)) = f.record(&format!("response:{id}"), &headers, &body) {
        return scripted(status, ra);
    }
    (StatusCode::OK, "ok").into_response()
}
