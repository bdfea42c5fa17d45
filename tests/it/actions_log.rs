//! The action log is append-only, enforced by Postgres itself.
use crate::support::*;
use dunbot::domain::roles::Role;

#[tokio::test]
async fn update_delete_and_truncate_on_actions_are_refused_by_postgres() {
    let (app, _db) = app().await;
    let out = run_as(
        &app,
        &person("maria", Role::Collector),
        "r1",
        "help",
        today(),
    )
    .await;
    assert!(!out.refused, "{:?}", out.reply);
    assert_eq!(count(&app, "actions").await, 1);
    for sql in [
        "UPDATE actions SET kind = 'x'",
        "DELETE FROM actions",
        "TRUNCATE actions",
    ] {
        let err = sqlx::query(sql)
            .execute(&app.store.pool)
            .await
            .expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    assert_eq!(count(&app, "actions").await, 1);
}

/// Promises, disputes, flags, referrals and offers carry the app's clock (the one their
/// action rows carry), not the database's: a back-dated run or a test clock dates them right.
#[tokio::test]
async fn records_carry_the_apps_clock_like_their_action_rows() {
    let (app, _db) = app().await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    dunbot::app::admin::add_agency(&app, "Northwind Recovery", None, None, Some("console:ag"))
        .await
        .unwrap();
    let root = person("root", Role::Admin);
    for (id, text) in [
        ("c1", "promise ACME-001 100 fri"),
        ("c2", "flag ACME-001 call the CFO"),
        ("c3", "dispute INV-2001 freight damaged"),
        ("c4", "refer BOLT-001 \"Northwind Recovery\""),
        ("c5", "offer BOLT-001 500"),
    ] {
        let out = run_as(&app, &root, id, text, today()).await;
        assert!(!out.refused, "{text}: {}", out.reply.text);
    }
    let when = at(today(), 10);
    for sql in [
        "SELECT logged_at FROM promises",
        "SELECT flagged_at FROM flags",
        "SELECT opened_at FROM disputes",
        "SELECT referred_at FROM referrals",
        "SELECT offered_at FROM offers",
    ] {
        let got: chrono::DateTime<chrono::Utc> = sqlx::query_scalar(sql)
            .fetch_one(&app.store.pool)
            .await
            .unwrap();
        assert_eq!(got, when, "{sql}");
    }
}
