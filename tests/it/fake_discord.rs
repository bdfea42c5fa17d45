//! A fake Discord on loopback for the real serenity client: the REST routes the bot calls
//! (recorded for assertions; `/api/v10/...` as Discord serves them) and a gateway speaking
//! the real WebSocket protocol (HELLO, IDENTIFY, READY, heartbeats, RESUME, dispatches).
#![allow(dead_code)]
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::Message as Ws;

pub const APP_ID: u64 = 775_799_577_604_522_054;
pub const BOT_ID: u64 = 809_850_198_683_418_695;

#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub body: Value,
}

#[derive(Default)]
pub struct Inner {
    pub calls: Mutex<Vec<Call>>,
    /// Canned failures: (method, path prefix, status) answered once, in order.
    pub fail: Mutex<VecDeque<(String, String, u16)>>,
    /// Gateway frames received from the bot (IDENTIFY, RESUME, heartbeats).
    pub gateway_in: Mutex<Vec<Value>>,
    /// Channel messages as they stand (posted, then edited), by id.
    pub messages: Mutex<Vec<(String, Value)>>,
    pub connections: AtomicUsize,
    /// Messages a thread was started from (a thread's id is its message's).
    pub threads: Mutex<Vec<String>>,
    /// Messages created with `enforce_nonce`, by nonce: the same nonce again returns them.
    pub nonces: Mutex<Vec<(String, Value)>>,
    pub seq: AtomicU64,
    pub ids: AtomicU64,
    /// Files sent with messages: (message id, the file).
    pub attachments: Mutex<Vec<(String, Attachment)>>,
    /// Messages and threads a person deleted: Discord answers 404 for them.
    pub deleted_messages: Mutex<Vec<String>>,
    pub deleted_channels: Mutex<Vec<String>>,
}

/// A file part of a multipart message.
#[derive(Debug, Clone)]
pub struct Attachment {
    /// `files[0]`, …
    pub field: String,
    pub filename: String,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

#[derive(Clone)]
pub struct FakeDiscord {
    /// `http://127.0.0.1:<port>`: what `DISCORD_API_URL` / `HttpBuilder::proxy` takes.
    pub url: String,
    pub ws_url: String,
    pub inner: Arc<Inner>,
    /// Frames to push to every connected gateway session; `None` drops the connections.
    events: broadcast::Sender<Option<Value>>,
}

impl FakeDiscord {
    pub async fn start() -> FakeDiscord {
        let inner = Arc::new(Inner::default());
        inner.ids.store(900_000_000_000_000_000, Ordering::SeqCst);
        let ws = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let ws_url = format!("ws://{}", ws.local_addr().unwrap());
        let (events, _) = broadcast::channel(64);
        let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", http.local_addr().unwrap());
        let fake = FakeDiscord {
            url,
            ws_url,
            inner,
            events,
        };
        let router = Router::new().fallback(rest).with_state(fake.clone());
        tokio::spawn(async move { axum::serve(http, router).await });
        let g = fake.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = ws.accept().await {
                let g = g.clone();
                tokio::spawn(async move { g.session(tcp).await });
            }
        });
        fake
    }

    pub fn calls(&self) -> Vec<Call> {
        self.inner.calls.lock().unwrap().clone()
    }

    /// Calls whose method is `method` and whose path contains `part`.
    pub fn calls_to(&self, method: &str, part: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == method && c.path.contains(part))
            .collect()
    }

    pub fn fail_next(&self, method: &str, path_prefix: &str, status: u16) {
        self.inner
            .fail
            .lock()
            .unwrap()
            .push_back((method.into(), path_prefix.into(), status));
    }

    /// Waits (briefly) until `pred` holds over the recorded calls.
    pub async fn wait_for(&self, what: &str, pred: impl Fn(&[Call]) -> bool) -> Vec<Call> {
        for _ in 0..200 {
            let calls = self.calls();
            if pred(&calls) {
                return calls;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("timed out waiting for {what}; calls: {:#?}", self.calls());
    }

    pub async fn wait_gateway(&self, what: &str, pred: impl Fn(&[Value], usize) -> bool) {
        for _ in 0..200 {
            let frames = self.inner.gateway_in.lock().unwrap().clone();
            if pred(&frames, self.inner.connections.load(Ordering::SeqCst)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "timed out waiting for {what}; frames: {:?}",
            self.inner.gateway_in.lock().unwrap()
        );
    }

    /// Messages in `channel` (a thread's id for a thread), oldest first, as they stand now.
    pub fn messages_in(&self, channel: &str) -> Vec<Value> {
        self.inner
            .messages
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, m)| m["channel_id"] == channel)
            .map(|(_, m)| m.clone())
            .collect()
    }

    /// Threads started from messages (their ids), oldest first.
    pub fn threads(&self) -> Vec<String> {
        self.inner.threads.lock().unwrap().clone()
    }

    /// A person deletes the message `id` (its thread, if any, stays, as on Discord).
    pub fn delete_message(&self, id: &str) {
        self.inner.messages.lock().unwrap().retain(|(i, _)| i != id);
        self.inner
            .deleted_messages
            .lock()
            .unwrap()
            .push(id.to_string());
    }

    /// A person deletes the thread `id`.
    pub fn delete_thread(&self, id: &str) {
        self.inner.threads.lock().unwrap().retain(|t| t != id);
        self.inner
            .deleted_channels
            .lock()
            .unwrap()
            .push(id.to_string());
    }

    /// Dispatches `INTERACTION_CREATE` to the connected bot.
    pub fn interaction(&self, payload: Value) {
        let s = self.inner.seq.fetch_add(1, Ordering::SeqCst) + 2;
        let _ = self.events.send(Some(
            json!({"op": 0, "t": "INTERACTION_CREATE", "s": s, "d": payload}),
        ));
    }

    /// Drops every gateway connection, as a network failure would.
    pub fn drop_connections(&self) {
        let _ = self.events.send(None);
    }

    fn next_id(&self) -> u64 {
        self.inner.ids.fetch_add(1, Ordering::SeqCst)
    }

    async fn session(&self, tcp: tokio::net::TcpStream) {
        let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
            return;
        };
        self.inner.connections.fetch_add(1, Ordering::SeqCst);
        let mut events = self.events.subscribe();
        let hello = json!({"op": 10, "d": {"heartbeat_interval": 45000}});
        if ws.send(Ws::Text(hello.to_string().into())).await.is_err() {
            return;
        }
        loop {
            tokio::select! {
                frame = ws.next() => {
                    let Some(Ok(frame)) = frame else { return };
                    let Ws::Text(text) = frame else { continue };
                    let Ok(v) = serde_json::from_str::<Value>(&text) else { continue };
                    self.inner.gateway_in.lock().unwrap().push(v.clone());
                    let reply = match v["op"].as_u64() {
                        Some(1) => json!({"op": 11}),
                        Some(2) => self.ready(),
                        Some(6) => json!({"op": 0, "t": "RESUMED", "s": self.inner.seq.load(Ordering::SeqCst) + 1, "d": {}}),
                        _ => continue,
                    };
                    if ws.send(Ws::Text(reply.to_string().into())).await.is_err() {
                        return;
                    }
                }
                ev = events.recv() => match ev {
                    Ok(Some(frame)) => {
                        if ws.send(Ws::Text(frame.to_string().into())).await.is_err() {
                            return;
                        }
                    }
                    Ok(None) => {
                        // An abrupt end, without a close frame: what a lost network looks like.
                        drop(ws);
                        return;
                    }
                    Err(_) => return,
                },
            }
        }
    }

    fn ready(&self) -> Value {
        json!({"op": 0, "t": "READY", "s": 1, "d": {
            "v": 10,
            "user": {"id": BOT_ID.to_string(), "username": "dunbot", "discriminator": "0", "avatar": null, "global_name": null, "bot": true},
            "guilds": [],
            "session_id": "fake-session",
            "resume_gateway_url": self.ws_url,
            "shard": [0, 1],
            "application": {"id": APP_ID.to_string(), "flags": 0}
        }})
    }

    /// A message object as Discord returns it for a created or edited message.
    fn message(&self, channel: &str, body: &Value) -> Value {
        json!({
            "id": self.next_id().to_string(), "channel_id": channel,
            "author": {"id": BOT_ID.to_string(), "username": "dunbot", "discriminator": "0", "avatar": null, "global_name": null, "bot": true},
            "content": body.get("content").cloned().unwrap_or(json!("")),
            "timestamp": "2026-11-23T10:00:00.000000+00:00", "edited_timestamp": null,
            "tts": false, "mention_everyone": false, "mentions": [], "mention_roles": [],
            "attachments": [], "embeds": body.get("embeds").cloned().unwrap_or(json!([])),
            "components": body.get("components").cloned().unwrap_or(json!([])),
            "pinned": false, "type": 0, "flags": body.get("flags").cloned().unwrap_or(json!(0)),
        })
    }
}

async fn rest(
    State(fake): State<FakeDiscord>,
    method: Method,
    uri: Uri,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    // A message with files is multipart/form-data: the JSON in `payload_json`, each file in
    // `files[n]` with its filename, as Discord takes them.
    let (body, files) = match multipart_boundary(&headers) {
        Some(boundary) => match parse_multipart(&body, &boundary) {
            Ok(parts) => split_message_parts(parts),
            Err(e) => {
                return (
                    StatusCode::BAD_REQUEST,
                    axum::Json(
                        json!({"message": format!("bad multipart body: {e}"), "code": 50035}),
                    ),
                )
                    .into_response();
            }
        },
        None => (serde_json::from_slice(&body).unwrap_or(Value::Null), vec![]),
    };
    fake.inner.calls.lock().unwrap().push(Call {
        method: method.to_string(),
        path: path.clone(),
        body: body.clone(),
    });
    {
        let mut fail = fake.inner.fail.lock().unwrap();
        if let Some(i) = fail
            .iter()
            .position(|(m, p, _)| *m == method.as_str() && path.starts_with(p.as_str()))
        {
            let (_, _, status) = fail.remove(i).unwrap();
            let status = StatusCode::from_u16(status).unwrap();
            let body = if status == StatusCode::TOO_MANY_REQUESTS {
                json!({"message": "You are being rate limited.", "retry_after": 0.05, "global": false, "code": 0})
            } else {
                json!({"message": "fake failure", "code": 0})
            };
            return (status, [("retry-after", "0")], axum::Json(body)).into_response();
        }
    }
    let seg: Vec<&str> = path.trim_start_matches("/api/v10/").split('/').collect();
    let json = |v: Value| axum::Json(v).into_response();
    match (method.as_str(), seg.as_slice()) {
        ("GET", ["gateway"]) => json(json!({"url": fake.ws_url})),
        ("GET", ["gateway", "bot"]) => json(json!({
            "url": fake.ws_url, "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        })),
        ("POST", ["interactions", _, _, "callback"]) => StatusCode::NO_CONTENT.into_response(),
        ("PATCH", ["webhooks", _, _, "messages", _]) => json(fake.message("1", &body)),
        // The original response as Discord keeps it: a message with its own id.
        ("GET", ["webhooks", _, _, "messages", "@original"]) => {
            json(fake.message("1", &json!({"content": "answer"})))
        }
        ("DELETE", ["webhooks", _, _, "messages", _]) => StatusCode::NO_CONTENT.into_response(),
        ("POST", ["webhooks", _, _]) => json(fake.message("1", &body)),
        ("POST", ["channels", ch, "messages"])
            if fake
                .inner
                .deleted_channels
                .lock()
                .unwrap()
                .iter()
                .any(|c| c == ch)
                || (fake
                    .inner
                    .messages
                    .lock()
                    .unwrap()
                    .iter()
                    .any(|(i, _)| i == ch)
                    && !fake.inner.threads.lock().unwrap().iter().any(|t| t == ch)) =>
        {
            // A deleted thread, or a message id where no thread was started: no such channel.
            unknown("Unknown Channel", 10003)
        }
        ("POST", ["channels", _, "messages", msg, "threads"])
            if fake
                .inner
                .deleted_messages
                .lock()
                .unwrap()
                .iter()
                .any(|m| m == msg) =>
        {
            unknown("Unknown Message", 10008)
        }
        ("PATCH", ["channels", _, "messages", msg])
            if fake
                .inner
                .deleted_messages
                .lock()
                .unwrap()
                .iter()
                .any(|m| m == msg) =>
        {
            unknown("Unknown Message", 10008)
        }
        ("POST", ["channels", ch, "messages"]) => {
            // As Discord does with `enforce_nonce`: a repeated nonce gets the first message.
            let nonce = body["nonce"]
                .as_str()
                .filter(|_| body["enforce_nonce"] == true);
            let mut seen = fake.inner.nonces.lock().unwrap();
            if let Some((_, m)) = nonce.and_then(|n| seen.iter().find(|(k, _)| k == n)) {
                return json(m.clone());
            }
            if files
                .iter()
                .any(|f| f.bytes.is_empty() || f.filename.is_empty())
            {
                return (
                    StatusCode::BAD_REQUEST,
                    axum::Json(json!({"message": "Invalid Form Body", "code": 50035})),
                )
                    .into_response();
            }
            let mut m = fake.message(ch, &body);
            let id = m["id"].as_str().unwrap().to_string();
            m["attachments"] = json!(
                files
                    .iter()
                    .enumerate()
                    .map(|(n, f)| json!({
                        "id": (fake.next_id() + n as u64).to_string(), "filename": f.filename,
                        "size": f.bytes.len(), "url": format!("{}/attachments/{id}/{}", fake.url, f.filename),
                        "proxy_url": format!("{}/attachments/{id}/{}", fake.url, f.filename),
                        "content_type": f.content_type,
                    }))
                    .collect::<Vec<_>>()
            );
            for f in files {
                fake.inner.attachments.lock().unwrap().push((id.clone(), f));
            }
            fake.inner.messages.lock().unwrap().push((id, m.clone()));
            if let Some(n) = nonce {
                seen.push((n.to_string(), m.clone()));
            }
            json(m)
        }
        ("POST", ["channels", ch, "messages", msg, "threads"]) => {
            let mut threads = fake.inner.threads.lock().unwrap();
            if threads.iter().any(|t| t == msg) {
                return (
                    StatusCode::BAD_REQUEST,
                    axum::Json(json!({"message": "A thread has already been created for this message", "code": 160004})),
                )
                    .into_response();
            }
            threads.push(msg.to_string());
            json(json!({
                "id": msg, "guild_id": "290926798626357999", "parent_id": ch,
                "owner_id": BOT_ID.to_string(), "name": body["name"], "type": 11,
                "last_message_id": null, "message_count": 0, "member_count": 1,
                "rate_limit_per_user": 0, "flags": 0, "total_message_sent": 0,
                "thread_metadata": {"archived": false, "auto_archive_duration": body["auto_archive_duration"],
                    "archive_timestamp": "2026-11-23T10:00:00.000000+00:00", "locked": false},
            }))
        }
        ("PATCH", ["channels", ch, "messages", id]) => {
            let mut m = fake.message(ch, &body);
            m["id"] = json!(id);
            let mut all = fake.inner.messages.lock().unwrap();
            match all.iter_mut().find(|(i, _)| i == id) {
                Some(stored) => stored.1 = m.clone(),
                None => all.push((id.to_string(), m.clone())),
            }
            json(m)
        }
        ("GET", ["channels", _, "messages", id]) => {
            let all = fake.inner.messages.lock().unwrap();
            match all.iter().find(|(i, _)| i == id) {
                Some((_, m)) => json(m.clone()),
                None => (
                    StatusCode::NOT_FOUND,
                    axum::Json(json!({"message": "Unknown Message", "code": 10008})),
                )
                    .into_response(),
            }
        }
        ("PUT", ["applications", _, "guilds", _, "commands"])
        | ("PUT", ["applications", _, "commands"]) => json(json!([])),
        _ => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"message": "404: Not Found", "code": 0})),
        )
            .into_response(),
    }
}

fn multipart_boundary(headers: &axum::http::HeaderMap) -> Option<String> {
    let ct = headers.get("content-type")?.to_str().ok()?;
    let rest = ct.strip_prefix("multipart/form-data")?;
    rest.split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_string())
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// The parts of a multipart/form-data body (RFC 7578): their headers and content.
fn parse_multipart(body: &[u8], boundary: &str) -> Result<Vec<Attachment>, String> {
    let delim = format!("--{boundary}");
    let mut pos = find(body, delim.as_bytes(), 0).ok_or("no opening boundary")? + delim.len();
    let mut parts = Vec::new();
    loop {
        if body.get(pos..pos + 2) == Some(b"--") {
            return Ok(parts);
        }
        let head_start = pos + 2; // CRLF after the boundary
        let head_end = find(body, b"\r\n\r\n", head_start).ok_or("part without headers")?;
        let head = String::from_utf8_lossy(&body[head_start..head_end]).to_string();
        let next = find(body, format!("\r\n{delim}").as_bytes(), head_end + 4)
            .ok_or("part without a closing boundary")?;
        let mut part = Attachment {
            field: String::new(),
            filename: String::new(),
            content_type: None,
            bytes: body[head_end + 4..next].to_vec(),
        };
        for line in head.lines() {
            let lower = line.to_ascii_lowercase();
            if lower.starts_with("content-disposition:") {
                for attr in line.split(';').skip(1) {
                    let (k, v) = attr.trim().split_once('=').unwrap_or(("", ""));
                    let v = v.trim_matches('"').to_string();
                    match k {
                        "name" => part.field = v,
                        "filename" => part.filename = v,
                        _ => {}
                    }
                }
            } else if lower.starts_with("content-type:") {
                part.content_type = Some(line["content-type:".len()..].trim().to_string());
            }
        }
        if part.field.is_empty() {
            return Err("a part without a name".into());
        }
        parts.push(part);
        pos = next + 2 + delim.len();
    }
}

/// `payload_json` as the message body, and the `files[n]` parts.
fn split_message_parts(parts: Vec<Attachment>) -> (Value, Vec<Attachment>) {
    let mut body = Value::Null;
    let mut files = Vec::new();
    for p in parts {
        if p.field == "payload_json" {
            body = serde_json::from_slice(&p.bytes).unwrap_or(Value::Null);
        } else if p.field.starts_with("files[") {
            files.push(p);
        }
    }
    (body, files)
}

/// Discord's 404 for a deleted message or channel.
fn unknown(what: &str, code: u32) -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"message": what, "code": code})),
    )
        .into_response()
}

/// A guild member as interaction payloads carry it (with `flags`, which serenity requires).
pub fn member(user_id: u64, name: &str, roles: &[u64]) -> Value {
    json!({
        "user": {"id": user_id.to_string(), "username": name, "discriminator": "0", "avatar": null, "global_name": name, "public_flags": 0},
        "roles": roles.iter().map(u64::to_string).collect::<Vec<_>>(),
        "premium_since": null, "permissions": "2147483647", "pending": false, "nick": null,
        "mute": false, "joined_at": "2024-01-01T00:00:00.000000+00:00", "deaf": false, "flags": 0,
    })
}

fn base(kind: u8, id: u64, channel: u64, member: Value) -> Value {
    json!({
        "id": id.to_string(), "application_id": APP_ID.to_string(), "type": kind,
        "token": format!("token-{id}"), "version": 1,
        "guild_id": "290926798626357999", "channel_id": channel.to_string(),
        "member": member, "app_permissions": "442368", "locale": "en-US", "guild_locale": "en-US",
        "entitlements": [], "attachment_size_limit": 26214400,
    })
}

/// `/ar <sub> name:value…` as an APPLICATION_COMMAND interaction.
pub fn slash(
    id: u64,
    channel: u64,
    member: Value,
    root: &str,
    sub: &str,
    options: &[(&str, Value)],
) -> Value {
    let opts: Vec<Value> = options
        .iter()
        .map(|(n, v)| {
            let t = match v {
                Value::Number(_) => 4,
                Value::Bool(_) => 5,
                _ => 3,
            };
            json!({"name": n, "type": t, "value": v})
        })
        .collect();
    let mut v = base(2, id, channel, member);
    v["data"] = json!({"id": "771825006014889984", "name": root, "type": 1,
        "options": [{"name": sub, "type": 1, "options": opts}]});
    v
}

/// A button press (MESSAGE_COMPONENT) on `message` (as the fake returned it).
pub fn press(id: u64, channel: u64, member: Value, custom_id: &str, message: Value) -> Value {
    let mut v = base(3, id, channel, member);
    v["data"] = json!({"custom_id": custom_id, "component_type": 2});
    v["message"] = message;
    v
}

/// A submitted modal with `fields` (custom_id, value).
pub fn modal_submit(
    id: u64,
    channel: u64,
    member: Value,
    custom_id: &str,
    fields: &[(&str, &str)],
) -> Value {
    let rows: Vec<Value> = fields
        .iter()
        .map(|(n, val)| json!({"type": 1, "components": [{"type": 4, "custom_id": n, "value": val}]}))
        .collect();
    let mut v = base(5, id, channel, member);
    v["data"] = json!({"custom_id": custom_id, "components": rows});
    v
}

/// A message as Discord would carry it in a component interaction, from a body we posted.
pub fn posted_message(id: u64, channel: u64, body: &Value) -> Value {
    json!({
        "id": id.to_string(), "channel_id": channel.to_string(),
        "author": {"id": BOT_ID.to_string(), "username": "dunbot", "discriminator": "0", "avatar": null, "global_name": null, "bot": true},
        "content": body["content"], "timestamp": "2026-11-23T10:00:00.000000+00:00", "edited_timestamp": null,
        "tts": false, "mention_everyone": false, "mentions": [], "mention_roles": [],
        "attachments": [], "embeds": body["embeds"], "components": body["components"],
        "pinned": false, "type": 0, "flags": 0,
    })
}

pub const COLLECTOR_ROLE: u64 = 1001;
pub const MANAGER_ROLE: u64 = 1002;
pub const AGENCY_ROLE: u64 = 1003;
pub const FINANCE_ROLE: u64 = 1004;
pub const CHANNEL: u64 = 645_027_906_669_510_667;

/// The edge's settings against this fake: roles by id, REST through the fake.
pub fn config(fake: &FakeDiscord) -> dunbot::edges::discord::DiscordConfig {
    use dunbot::domain::roles::Role;
    use dunbot::edges::discord::config::parse_roles;
    let mut roles = parse_roles("C", &COLLECTOR_ROLE.to_string(), Role::Collector).unwrap();
    roles.extend(parse_roles("M", &MANAGER_ROLE.to_string(), Role::Manager).unwrap());
    roles.extend(parse_roles("F", &FINANCE_ROLE.to_string(), Role::Finance).unwrap());
    roles.extend(
        parse_roles(
            "A",
            &format!("{AGENCY_ROLE}=Northwind Recovery"),
            Role::Agency,
        )
        .unwrap(),
    );
    dunbot::edges::discord::DiscordConfig {
        token: Some("fake-token".into()),
        application_id: Some(APP_ID),
        api_url: Some(fake.url.clone()),
        guild_id: Some(290_926_798_626_357_999),
        roles,
        reconnect_min: Duration::from_millis(20),
        reconnect_max: Duration::from_millis(200),
        retry_after_default: Duration::from_millis(20),
        ..Default::default()
    }
}

/// The edge on `app`, talking to `fake`, with its clock fixed at `now`.
pub fn edge(
    app: Arc<dunbot::app::App>,
    fake: &FakeDiscord,
    now: chrono::DateTime<chrono::Utc>,
) -> Arc<dunbot::edges::discord::Discord> {
    edge_with(app, fake, now, |_| {})
}

/// `edge`, with its settings changed by `configure` first (e.g. `answer_within`).
pub fn edge_with(
    app: Arc<dunbot::app::App>,
    fake: &FakeDiscord,
    now: chrono::DateTime<chrono::Utc>,
    configure: impl FnOnce(&mut dunbot::edges::discord::DiscordConfig),
) -> Arc<dunbot::edges::discord::Discord> {
    let mut config = config(fake);
    configure(&mut config);
    let mut d = dunbot::edges::discord::Discord::new(app, config);
    d.clock = Arc::new(move || now);
    Arc::new(d)
}

/// The settings change that makes the edge defer every command: the core never answers
/// within a zero budget, so the slow path (deferral, then edit) is what runs.
pub fn always_defer(c: &mut dunbot::edges::discord::DiscordConfig) {
    c.answer_within = Duration::ZERO;
}
