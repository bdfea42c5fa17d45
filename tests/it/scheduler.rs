//! The digest posts once per channel and day, however many schedulers race; one missed while
//! dunbot was down is posted late, once.
use crate::support::*;
use dunbot::app::App;
use dunbot::edges::scheduler::tick;
use dunbot::store::schedule;

async fn subscribe(app: &App, channel: &str, cron: &str, tz: &str, created: &str) -> i64 {
    let mut conn = app.store.pool.acquire().await.unwrap();
    let id = schedule::upsert_subscription(&mut conn, channel, cron, tz)
        .await
        .unwrap();
    schedule::set_subscription_created(&mut conn, id, at(d(created), 0))
        .await
        .unwrap();
    id
}

#[tokio::test]
async fn two_schedulers_racing_post_each_channels_digest_once() {
    let (app_a, db) = app().await;
    seed(&app_a, CUSTOMERS, INVOICES, None).await;
    let app_b = App::new(
        dunbot::config::Settings {
            instance_id: "replica-b".into(),
            ..settings()
        },
        db.store.clone(),
    );
    subscribe(
        &app_a,
        "console:ny",
        "0 8 * * Mon-Fri",
        "America/New_York",
        "2026-11-01",
    )
    .await;
    subscribe(
        &app_a,
        "console:berlin",
        "0 8 * * Mon-Fri",
        "Europe/Berlin",
        "2026-11-01",
    )
    .await;
    // Monday 14:00 UTC: both channels' 08:00 has passed (13:00 and 07:00 UTC).
    let now = at(today(), 14);
    for round in 0..5 {
        let (a, b) = tokio::join!(tick(&app_a, now), tick(&app_b, now));
        let posted = a.unwrap().len() + b.unwrap().len();
        assert_eq!(posted, if round == 0 { 2 } else { 0 }, "round {round}");
    }
    let runs: i64 = sqlx::query_scalar("SELECT count(*) FROM digest_runs")
        .fetch_one(&app_a.store.pool)
        .await
        .unwrap();
    let posts: Vec<String> =
        sqlx::query_scalar("SELECT payload->>'channel' FROM outbox WHERE kind = 'chat' ORDER BY 1")
            .fetch_all(&app_a.store.pool)
            .await
            .unwrap();
    assert_eq!(runs, 2);
    assert_eq!(posts, ["console:berlin", "console:ny"]);
    let text: String = sqlx::query_scalar("SELECT payload->'message'->>'text' FROM outbox LIMIT 1")
        .fetch_one(&app_a.store.pool)
        .await
        .unwrap();
    assert!(text.contains("Collections digest"), "{text}");
    // Tuesday the next digest comes, once.
    let tuesday = at(d("2026-11-24"), 14);
    let (a, b) = tokio::join!(tick(&app_a, tuesday), tick(&app_b, tuesday));
    assert_eq!(a.unwrap().len() + b.unwrap().len(), 2);
}

#[tokio::test]
async fn a_digest_missed_while_down_is_posted_late_once() {
    let (app, _db) = app().await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    let sub = subscribe(&app, "console:local", "0 8 * * *", "UTC", "2026-11-01").await;
    // The bot ran on Friday, then was down from Friday noon until Monday 07:00.
    assert_eq!(
        tick(&app, at(d("2026-11-20"), 8)).await.unwrap(),
        [("console:local".to_string(), d("2026-11-20"), false)]
    );
    let back = at(d("2026-11-23"), 7);
    let posted = tick(&app, back).await.unwrap();
    assert_eq!(
        posted,
        [("console:local".to_string(), d("2026-11-22"), true)],
        "Sunday's digest, late"
    );
    assert!(
        tick(&app, back).await.unwrap().is_empty(),
        "late digest only once"
    );
    let text: String = sqlx::query_scalar(
        "SELECT payload->'message'->>'text' FROM outbox ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&app.store.pool)
    .await
    .unwrap();
    assert!(text.contains("posted late"), "{text}");
    // Monday's own digest at 08:00 follows as usual.
    assert_eq!(tick(&app, at(d("2026-11-23"), 8)).await.unwrap().len(), 1);
    let mut conn = app.store.pool.acquire().await.unwrap();
    let runs = schedule::runs(&mut conn, sub).await.unwrap();
    assert_eq!(
        runs.iter()
            .map(|(d, late, _)| (d.to_string(), *late))
            .collect::<Vec<_>>(),
        [
            ("2026-11-20".to_string(), false),
            ("2026-11-22".to_string(), true),
            ("2026-11-23".to_string(), false)
        ]
    );
}

#[tokio::test]
async fn serve_subscribes_its_default_channel_only_when_nothing_is_subscribed() {
    let channels = |app: &App| {
        let pool = app.store.pool.clone();
        async move {
            let mut conn = pool.acquire().await.unwrap();
            schedule::subscriptions(&mut conn)
                .await
                .unwrap()
                .into_iter()
                .map(|s| s.channel)
                .collect::<Vec<_>>()
        }
    };
    // A fresh install: the default channel, once however often serve starts.
    let (fresh, _db) = app().await;
    for _ in 0..2 {
        dunbot::edges::serve::default_subscription(&fresh)
            .await
            .unwrap();
    }
    assert_eq!(channels(&fresh).await, ["console:local"]);
    // An admin subscribed a Slack channel: serve adds nothing beside it.
    let (chosen, _db2) = app().await;
    subscribe(
        &chosen,
        "slack:C0123",
        "0 8 * * Mon-Fri",
        "UTC",
        "2026-11-01",
    )
    .await;
    assert_eq!(
        dunbot::edges::serve::default_subscription(&chosen)
            .await
            .unwrap(),
        None
    );
    assert_eq!(channels(&chosen).await, ["slack:C0123"]);
}
