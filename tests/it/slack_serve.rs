//! `dunbot serve` with the Slack variables set starts the whole edge: the signed `/slack/*`
//! routes on DUNBOT_HTTP_ADDR, Socket Mode (apps.connections.open on SLACK_API_URL), and the
//! deliverer posting `slack:` chat rows from the outbox.
use crate::fake_slack::FakeSlack;
use crate::slack_support::SECRET;
use crate::support::*;
use dunbot::edges::slack::verify;
use serde_json::json;

struct Serve(std::process::Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn serve_starts_routes_socket_mode_and_the_deliverer() {
    let db = TestDb::new().await;
    let fake = FakeSlack::start().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut conn = db.store.pool.acquire().await.unwrap();
    dunbot::store::outbox::enqueue(
        &mut conn,
        "chat",
        "ping:serve",
        &json!({"channel": "slack:CSERVE", "message": dunbot::message::Message::channel("hello from serve")}),
    )
    .await
    .unwrap();
    drop(conn);
    let _serve = Serve(
        std::process::Command::new(env!("CARGO_BIN_EXE_dunbot"))
            .arg("serve")
            .env("DATABASE_URL", &db.url)
            .env("DUNBOT_HTTP_ADDR", format!("127.0.0.1:{port}"))
            .env("SLACK_BOT_TOKEN", "xoxb-serve")
            .env("SLACK_SIGNING_SECRET", SECRET)
            .env("SLACK_APP_TOKEN", "xapp-serve")
            .env("SLACK_API_URL", fake.api_url())
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    fake.wait_until("Socket Mode connecting", |f| {
        f.calls("apps.connections.open")
            .iter()
            .any(|c| c.auth.as_deref() == Some("Bearer xapp-serve"))
    })
    .await;
    fake.wait_until("the outbox row posted", |f| {
        f.calls("chat.postMessage").iter().any(|c| {
            c.body["channel"] == "CSERVE" && c.auth.as_deref() == Some("Bearer xoxb-serve")
        })
    })
    .await;
    // The HTTP routes are mounted and check signatures.
    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/slack/events");
    let body = r#"{"type":"url_verification","challenge":"c-serve"}"#;
    let mut answer = None;
    for _ in 0..250 {
        let ts = chrono::Utc::now().timestamp().to_string();
        if let Ok(r) = http
            .post(&url)
            .header("x-slack-request-timestamp", &ts)
            .header(
                "x-slack-signature",
                verify::sign(SECRET, &ts, body.as_bytes()),
            )
            .body(body)
            .send()
            .await
        {
            answer = Some((r.status().as_u16(), r.text().await.unwrap()));
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (status, text) = answer.expect("dunbot serve's HTTP server answers");
    assert_eq!(status, 200);
    assert!(text.contains("c-serve"), "{text}");
    let r = http.post(&url).body(body).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
}
