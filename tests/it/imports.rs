//! CSV import: a bad file imports nothing and names each bad row; the same file twice changes nothing.
use crate::support::*;
use dunbot::app::admin::{ImportKind, import_file};

#[tokio::test]
async fn a_file_with_bad_rows_imports_nothing_and_lists_each() {
    let (app, _db) = app().await;
    seed(&app, CUSTOMERS, "account,invoice,issued,due,amount,currency\nACME-001,INV-1,2026-11-01,2026-12-01,10.00,USD\n", None).await;
    let dir = tempdir();
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "account,invoice,issued,due,amount,currency\n\
         ACME-001,INV-2,2026-11-01,2026-12-01,10.00,USD\n\
         NOPE-001,INV-3,2026-11-01,2026-12-01,10.00,USD\n\
         EURO-001,INV-4,2026-11-01,2026-12-01,10.00,USD\n\
         ACME-001,INV-1,2026-11-01,2026-12-01,99.00,USD\n",
    )
    .unwrap();
    let rows = import_file(&app, ImportKind::Invoices, &bad)
        .await
        .unwrap()
        .unwrap_err();
    let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, [3, 4, 5], "{rows:?}");
    assert!(
        rows[0].reason.contains("NOPE-001") && rows[0].reason.contains("customers file"),
        "{rows:?}"
    );
    assert!(rows[1].reason.contains("EUR"), "{rows:?}");
    assert!(rows[2].reason.contains("other values"), "{rows:?}");
    assert_eq!(
        count(&app, "invoices").await,
        1,
        "nothing from the bad file"
    );
    // Row-level validation errors are all reported too.
    std::fs::write(&bad, "account,invoice,issued,due,amount,currency\nA,I,2026-02-30,2026-12-01,1,USD\nA,J,2026-01-01,2026-12-01,1.234,USD\n").unwrap();
    let rows = import_file(&app, ImportKind::Invoices, &bad)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(
        rows.iter().map(|r| r.line).collect::<Vec<_>>(),
        [2, 3],
        "{rows:?}"
    );
}

#[tokio::test]
async fn importing_the_same_files_twice_changes_nothing() {
    let (app, _db) = app().await;
    let dir = tempdir();
    let payments = "account,invoice,paid_on,amount,currency,reference\nACME-001,INV-1001,2026-11-20,250.00,USD,WIRE-1\nACME-001,INV-1002,2026-11-20,400.00,USD,WIRE-2\n";
    for (kind, body) in [
        (ImportKind::Customers, CUSTOMERS),
        (ImportKind::Invoices, INVOICES),
        (ImportKind::Payments, payments),
    ] {
        let path = dir.join(format!("{kind:?}.csv"));
        std::fs::write(&path, body).unwrap();
        let first = import_file(&app, kind, &path).await.unwrap().unwrap();
        assert!(first.inserted > 0, "{kind:?}");
        let snapshot: Vec<(String, i64, String)> =
            sqlx::query_as("SELECT number, paid_minor, status FROM invoices ORDER BY number")
                .fetch_all(&app.store.pool)
                .await
                .unwrap();
        let again = import_file(&app, kind, &path).await.unwrap().unwrap();
        assert_eq!(again.inserted, 0, "{kind:?} second time");
        let after: Vec<(String, i64, String)> =
            sqlx::query_as("SELECT number, paid_minor, status FROM invoices ORDER BY number")
                .fetch_all(&app.store.pool)
                .await
                .unwrap();
        assert_eq!(snapshot, after, "{kind:?}");
    }
    let (paid, status): (i64, String) =
        sqlx::query_as("SELECT paid_minor, status FROM invoices WHERE number = 'INV-1001'")
            .fetch_one(&app.store.pool)
            .await
            .unwrap();
    assert_eq!((paid, status.as_str()), (25_000, "open"), "partial payment");
    let (paid, status): (i64, String) =
        sqlx::query_as("SELECT paid_minor, status FROM invoices WHERE number = 'INV-1002'")
            .fetch_one(&app.store.pool)
            .await
            .unwrap();
    assert_eq!((paid, status.as_str()), (40_000, "paid"));
    assert_eq!(count(&app, "contacts").await, 4);
}
