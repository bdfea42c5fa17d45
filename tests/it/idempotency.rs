//! The same request twice acts once; concurrent decisions on one offer: one wins.
use crate::support::*;
use dunbot::domain::roles::Role;

#[tokio::test]
async fn the_same_request_id_twice_changes_nothing_the_second_time() {
    let (app, _db) = app().await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    let maria = person("maria", Role::Collector);
    let base = count(&app, "actions").await;
    let first = run_as(
        &app,
        &maria,
        "slack-trigger-1",
        "promise ACME-001 500 fri",
        today(),
    )
    .await;
    let second = run_as(
        &app,
        &maria,
        "slack-trigger-1",
        "promise ACME-001 500 fri",
        today(),
    )
    .await;
    assert!(!first.refused && !first.replayed);
    assert!(second.replayed && !second.refused);
    assert_eq!(first.reply, second.reply);
    assert_eq!(count(&app, "promises").await, 1);
    assert_eq!(count(&app, "actions").await, base + 1);
    // A refused request replays as refused, with one refusal row.
    let a = run_as(&app, &maria, "r-2", "promise ACME-001 99999 fri", today()).await;
    let b = run_as(&app, &maria, "r-2", "promise ACME-001 99999 fri", today()).await;
    assert!(a.refused && b.refused && b.replayed);
    assert_eq!(count(&app, "actions").await, base + 2);
}

#[tokio::test]
async fn the_same_request_racing_itself_acts_once() {
    let (app, _db) = app().await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    let app = std::sync::Arc::new(app);
    let maria = person("maria", Role::Collector);
    let base = count(&app, "actions").await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (app, maria) = (app.clone(), maria.clone());
        tasks.push(tokio::spawn(async move {
            run_as(
                &app,
                &maria,
                "double-click",
                "flag ACME-001 call them",
                today(),
            )
            .await
        }));
    }
    let outs: Vec<_> = futures_util::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert!(
        outs.iter().all(|o| !o.refused),
        "{:?}",
        outs.iter().map(|o| &o.reply.text).collect::<Vec<_>>()
    );
    assert_eq!(outs.iter().filter(|o| !o.replayed).count(), 1);
    assert_eq!(count(&app, "flags").await, 1);
    assert_eq!(count(&app, "actions").await, base + 1);
}

#[tokio::test]
async fn two_managers_approving_one_offer_at_once_one_wins() {
    let (app, _db) = app().await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    dunbot::app::admin::add_agency(&app, "Northwind", None, None, None)
        .await
        .unwrap();
    let boss = person("priya", Role::Manager);
    assert!(
        !run_as(&app, &boss, "ref", "refer BOLT-001 Northwind", today())
            .await
            .refused
    );
    assert!(
        !run_as(&app, &boss, "off", "offer BOLT-001 4000", today())
            .await
            .refused
    );
    let id: i64 = sqlx::query_scalar("SELECT id FROM offers")
        .fetch_one(&app.store.pool)
        .await
        .unwrap();
    let app = std::sync::Arc::new(app);
    for round in 0..3 {
        sqlx::query("UPDATE offers SET status = 'proposed', decided_by = NULL, decided_at = NULL")
            .execute(&app.store.pool)
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for (i, name) in ["priya", "omar"].into_iter().enumerate() {
            let app = app.clone();
            let who = person(name, Role::Manager);
            let cmd = if i == 0 {
                format!("settle {id} approve")
            } else {
                format!("settle {id} reject")
            };
            tasks.push(tokio::spawn(async move {
                run_as(&app, &who, &format!("race-{round}-{i}"), &cmd, today()).await
            }));
        }
        let outs: Vec<_> = futures_util::future::join_all(tasks)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            outs.iter().filter(|o| !o.refused).count(),
            1,
            "round {round}: {:?}",
            outs.iter().map(|o| &o.reply.text).collect::<Vec<_>>()
        );
        let loser = outs.iter().find(|o| o.refused).unwrap();
        assert!(
            loser.reply.text.contains("already") || loser.reply.text.contains("was "),
            "{}",
            loser.reply.text
        );
    }
}
