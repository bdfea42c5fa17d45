//! The Slack deliverer on the real slack-morphism client against the fake: a long digest
//! posts as a message and thread replies, once, through a 429 (Retry-After) and a 500.
use crate::slack_support::*;
use dunbot::message::{Block, Message, Visibility};
use serde_json::json;

async fn enqueue(bot: &Bot, key: &str, channel: &str, msg: &Message) -> i64 {
    let mut conn = bot.app.store.pool.acquire().await.unwrap();
    dunbot::store::outbox::enqueue(
        &mut conn,
        "chat",
        key,
        &json!({"channel": channel, "message": msg}),
    )
    .await
    .unwrap()
    .unwrap()
}

async fn row(bot: &Bot, id: i64) -> dunbot::store::outbox::OutboxRow {
    let mut conn = bot.app.store.pool.acquire().await.unwrap();
    dunbot::store::outbox::by_id(&mut conn, id)
        .await
        .unwrap()
        .unwrap()
}

fn long_digest(n: usize) -> Message {
    let mut blocks = vec![Block::Header {
        text: "Collections digest".into(),
    }];
    blocks.extend((0..n).map(|i| Block::Item {
        text: format!("*ACC-{i}* Customer {i}"),
        buttons: dunbot::digest::account_buttons(&format!("ACC-{i}")),
    }));
    Message {
        text: "Collections digest".into(),
        blocks,
        visibility: Visibility::Channel,
        ..Default::default()
    }
}

#[tokio::test]
async fn a_long_digest_is_a_thread_posted_once_through_429_and_500() {
    let bot = bot().await;
    let msg = long_digest(60);
    let parts = dunbot::edges::slack::blocks::render(&msg);
    assert!(parts.len() >= 3, "{} parts", parts.len());
    let id = enqueue(&bot, "digest:1:2026-11-23", "slack:C123", &msg).await;
    // First call rate-limited (Retry-After 1 s: the client waits and retries); the third
    // part's first try fails with a 500.
    bot.fake.fail_next(
        "chat.postMessage",
        &[(429, Some(1)), (200, None), (200, None), (500, None)],
    );
    assert_eq!(bot.drain().await, 0, "the 500 leaves the row for a retry");
    let r = row(&bot, id).await;
    assert_eq!((r.status.as_str(), r.attempts), ("pending", 1));
    assert!(r.last_error.unwrap().contains("500"));
    // The outbox retries it (its backoff brought forward) and the post completes.
    sqlx::query("UPDATE outbox SET next_attempt_at = now() WHERE id = $1")
        .bind(id)
        .execute(&bot.app.store.pool)
        .await
        .unwrap();
    assert_eq!(bot.drain().await, 1);
    assert_eq!(row(&bot, id).await.status, "sent");

    let calls = bot.fake.calls("chat.postMessage");
    assert_eq!(
        calls.len(),
        parts.len() + 2,
        "each part once, plus the 429 and the 500"
    );
    for c in &calls {
        assert_eq!(c.auth.as_deref(), Some("Bearer xoxb-test-token"));
        assert_eq!(c.body["channel"], "C123");
    }
    // What got through: every part exactly once, in order, the replies in the first's thread.
    let ok: Vec<&serde_json::Value> = vec![&calls[1].body, &calls[2].body]
        .into_iter()
        .chain(calls[4..].iter().map(|c| &c.body))
        .collect();
    assert_eq!(
        calls[0].body, calls[1].body,
        "the 429'd call is retried as it was"
    );
    assert_eq!(
        calls[3].body, calls[4].body,
        "the 500'd part is retried, not the earlier ones"
    );
    assert_eq!(ok.len(), parts.len());
    for (i, (body, part)) in ok.iter().zip(&parts).enumerate() {
        assert_eq!(body["text"], part.text.as_str());
        // Exactly the Block Kit rendered: nothing lost through slack-morphism's typed model.
        assert_eq!(
            body["blocks"],
            serde_json::Value::Array(part.blocks.clone())
        );
        if i == 0 {
            assert!(body.get("thread_ts").is_none());
        } else {
            assert_eq!(body["thread_ts"], "1700000000.000001", "part {i}");
        }
    }
    // Digest blocks as Slack received them: header first, the buttons' commands as values.
    assert_eq!(ok[0]["blocks"][0]["type"], "header");
    let text = ok[0]["blocks"].to_string();
    assert!(text.contains(r#""value":"remind ACC-0""#), "{text}");
}

#[tokio::test]
async fn slack_refusing_a_post_gives_up_at_once() {
    let bot = bot().await;
    let id = enqueue(&bot, "ping:gone", "slack:CGONE", &Message::channel("hello")).await;
    assert_eq!(bot.drain().await, 0);
    let r = row(&bot, id).await;
    assert_eq!(r.status, "dead");
    assert!(r.last_error.unwrap().contains("channel_not_found"));
    // Rows for other platforms are not the Slack deliverer's: left for a replica that can
    // deliver them, without spending an attempt.
    let console = enqueue(&bot, "ping:console", "console:x", &Message::channel("hi")).await;
    bot.drain().await;
    assert_eq!(row(&bot, console).await.attempts, 0);
    assert_eq!(row(&bot, console).await.status, "pending");
}
