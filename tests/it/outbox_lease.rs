//! The outbox lease: a worker that died lets its rows go within one lease; a live worker whose
//! send outlasts the lease keeps its row (it renews the claim), so nothing is sent twice.
use crate::support::*;
use dunbot::notify::worker::DeliveryError;
use dunbot::notify::{Deliverer, Deliverers, drain_once};
use dunbot::store::outbox::{self, OutboxRow};
use futures_util::future::BoxFuture;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Takes `lease_test` rows, counts each delivery, and takes `delay` to deliver.
struct Slow {
    delay: Duration,
    delivered: AtomicUsize,
}

impl Deliverer for Slow {
    fn accepts(&self, row: &OutboxRow) -> bool {
        row.kind == "lease_test"
    }
    fn deliver<'a>(&'a self, _row: &'a OutboxRow) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            tokio::time::sleep(self.delay).await;
            self.delivered.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
    }
}

fn workers(slow: &Arc<Slow>, lease: Duration) -> Deliverers {
    Deliverers::new(5)
        .with_lease(lease)
        .add("lease_test", slow.clone())
}

async fn enqueue_one(app: &dunbot::app::App) {
    let mut conn = app.store.pool.acquire().await.unwrap();
    outbox::enqueue(&mut conn, "lease_test", "lease:1", &serde_json::json!({}))
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_row_claimed_by_a_worker_that_died_is_taken_by_another_after_one_lease() {
    let (app, _db) = app().await;
    enqueue_one(&app).await;
    // A worker claims the row and dies before sending.
    let mut conn = app.store.pool.acquire().await.unwrap();
    let claimed = outbox::claim(&mut conn, &["lease_test".to_string()], 10, 1.0)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let slow = Arc::new(Slow {
        delay: Duration::ZERO,
        delivered: AtomicUsize::new(0),
    });
    let ds = workers(&slow, Duration::from_secs(1));
    // While its lease runs, nobody else takes it.
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 0);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    // After it, the next worker sends it, once.
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 1);
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 0);
    assert_eq!(slow.delivered.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_send_slower_than_the_lease_keeps_its_row_and_is_not_repeated() {
    let (app, _db) = app().await;
    enqueue_one(&app).await;
    let slow = Arc::new(Slow {
        delay: Duration::from_millis(2500),
        delivered: AtomicUsize::new(0),
    });
    let lease = Duration::from_millis(900);
    let first = {
        let store = app.store.clone();
        let ds = workers(&slow, lease);
        tokio::spawn(async move { drain_once(&store, &ds, 10).await.unwrap() })
    };
    // A second worker polls all through the first one's send, well past one lease.
    let fast = Arc::new(Slow {
        delay: Duration::ZERO,
        delivered: AtomicUsize::new(0),
    });
    let other = workers(&fast, lease);
    for _ in 0..12 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(drain_once(&app.store, &other, 10).await.unwrap(), 0);
    }
    assert_eq!(first.await.unwrap(), 1);
    assert_eq!(slow.delivered.load(Ordering::SeqCst), 1);
    assert_eq!(fast.delivered.load(Ordering::SeqCst), 0);
    let mut conn = app.store.pool.acquire().await.unwrap();
    let row = outbox::list(&mut conn, None, 10).await.unwrap();
    assert_eq!(row[0].status, "sent");
}
