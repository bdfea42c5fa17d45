//! A burst of requests from an edge waits its turn in the core instead of timing out on the
//! database pool.
use crate::support::*;
use dunbot::app::App;
use dunbot::domain::roles::Role;
use dunbot::store::Store;
use sqlx::postgres::PgPoolOptions;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test]
async fn a_burst_larger_than_the_pool_is_answered_in_full() {
    let db = TestDb::new().await;
    seed(
        &App::new(settings(), db.store.clone()),
        CUSTOMERS,
        INVOICES,
        None,
    )
    .await;
    // A small pool with a short wait: 300 requests at once would time out on it.
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_millis(300))
        .connect(&db.url)
        .await
        .unwrap();
    let app = Arc::new(App::new(settings(), Store::from_pool(pool)));
    let maria = person("maria", Role::Collector);
    let tasks: Vec<_> = (0..300)
        .map(|i| {
            let (app, maria) = (app.clone(), maria.clone());
            tokio::spawn(async move {
                run_as(
                    &app,
                    &maria,
                    &format!("burst-{i}"),
                    "account ACME-001",
                    today(),
                )
                .await
            })
        })
        .collect();
    for t in tasks {
        let out = t.await.unwrap();
        assert!(!out.refused, "{}", out.reply.text);
        assert!(out.reply.text.contains("ACME-001"), "{}", out.reply.text);
    }
}
