//! `dunbot serve` as a process: it must not look alive when it cannot do its job.
use crate::support::*;

#[tokio::test]
async fn serve_exits_with_the_reason_when_its_http_port_is_taken() {
    let db = TestDb::new().await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_dunbot"))
        .arg("serve")
        .env("DATABASE_URL", &db.url)
        .env("DUNBOT_HTTP_ADDR", &addr)
        .env("DUNBOT_DIGEST_CHANNEL", "console:local")
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(std::time::Duration::from_secs(30), run)
        .await
        .expect("serve exits instead of running on without its HTTP server")
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot listen on") && stderr.contains(&addr),
        "{stderr}"
    );
    drop(taken);
}
