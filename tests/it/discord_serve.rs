//! `dunbot serve` with Discord configured from the environment: the gateway client starts and
//! registers `/ar`, and `/discord/interactions` is mounted and verifies signatures.
use crate::fake_discord::*;
use crate::support::*;
use ed25519_dalek::{Signer, SigningKey};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One HTTP/1.1 POST over a plain socket; returns the status line and the body.
async fn post(addr: &str, headers: &[(&str, String)], body: &str) -> (String, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = format!(
        "POST /discord/interactions HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let status = out.lines().next().unwrap_or_default().to_string();
    let body = out.split("\r\n\r\n").nth(1).unwrap_or_default().to_string();
    (status, body)
}

#[tokio::test]
async fn serve_starts_the_gateway_and_mounts_the_interactions_route() {
    let db = TestDb::new().await;
    let fake = FakeDiscord::start().await;
    let key = SigningKey::from_bytes(&[9u8; 32]);
    let public: String = key
        .verifying_key()
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_dunbot"))
        .arg("serve")
        .env("DATABASE_URL", &db.url)
        .env("DUNBOT_HTTP_ADDR", &addr)
        .env("DISCORD_TOKEN", "serve-token")
        .env("DISCORD_APPLICATION_ID", APP_ID.to_string())
        .env("DISCORD_GUILD_ID", "290926798626357999")
        .env("DISCORD_API_URL", &fake.url)
        .env("DISCORD_PUBLIC_KEY", &public)
        .env("DISCORD_ROLE_MANAGER", MANAGER_ROLE.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    fake.wait_for("the /ar registration", |c| {
        c.iter()
            .any(|c| c.method == "PUT" && c.path.contains("/guilds/"))
    })
    .await;
    fake.wait_gateway("IDENTIFY with the token", |frames, _| {
        frames
            .iter()
            .any(|f| f["op"] == 2 && f["d"]["token"] == "Bot serve-token")
    })
    .await;

    let ping = r#"{"type":1,"id":"1","application_id":"1","token":"t","version":1}"#;
    let ts = chrono::Utc::now().timestamp().to_string();
    let sig: String = key
        .sign(format!("{ts}{ping}").as_bytes())
        .to_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut answer = None;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(&addr).await.is_ok() {
            answer = Some(
                post(
                    &addr,
                    &[
                        ("X-Signature-Ed25519", sig.clone()),
                        ("X-Signature-Timestamp", ts.clone()),
                    ],
                    ping,
                )
                .await,
            );
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (status, body) = answer.expect("the HTTP server listens");
    assert!(status.contains("200"), "{status}");
    assert!(body.contains(r#"{"type":1}"#), "{body}");
    let (status, _) = post(&addr, &[("X-Signature-Timestamp", ts)], ping).await;
    assert!(status.contains("401"), "{status}");
    child.kill().await.unwrap();
}
