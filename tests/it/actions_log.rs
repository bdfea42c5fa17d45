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
