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
    let rows = import_file(&app, ImportKind::Invoices, &bad, None)
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
    let rows = import_file(&app, ImportKind::Invoices, &bad, None)
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
        let first = import_file(&app, kind, &path, None).await.unwrap().unwrap();
        assert!(first.inserted > 0, "{kind:?}");
        let snapshot: Vec<(String, i64, String)> =
            sqlx::query_as("SELECT number, paid_minor, status FROM invoices ORDER BY number")
                .fetch_all(&app.store.pool)
                .await
                .unwrap();
        let again = import_file(&app, kind, &path, None).await.unwrap().unwrap();
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

/// The invoice table's indexes, constraints and triggers, and the keys that point at it, as
/// Postgres prints them.
async fn invoice_schema(app: &dunbot::app::App) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'invoices'
         UNION ALL SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
                    WHERE conrelid = 'invoices'::regclass OR confrelid = 'invoices'::regclass
         UNION ALL SELECT tgname || ' ' || tgenabled::text FROM pg_trigger WHERE tgrelid = 'invoices'::regclass AND NOT tgisinternal
         ORDER BY 1",
    )
    .fetch_all(&app.store.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_bulk_load_leaves_the_same_indexes_and_constraints() {
    use dunbot::domain::money::{Currency, Money};
    use dunbot::import::InvoiceRow;
    use dunbot::store::import;
    let (app, _db) = app().await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    let before = invoice_schema(&app).await;
    assert!(before.len() >= 14, "{before:?}");
    let rows: Vec<InvoiceRow> = (0..300)
        .map(|i| InvoiceRow {
            line: i + 2,
            account: "ACME-001".into(),
            invoice: format!("BULK-{i:04}"),
            issued: d("2026-10-01"),
            due: d("2026-11-01"),
            amount: Money::new(1000 + i as i64, Currency::USD),
        })
        .collect();
    let existing = count(&app, "invoices").await;
    let mut tx = app.store.begin().await.unwrap();
    let n = import::bulk_invoices(&mut tx, rows.clone().into_iter().map(Ok))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(n, Some(300));
    assert_eq!(count(&app, "invoices").await, existing + 300);
    assert_eq!(invoice_schema(&app).await, before, "rebuilt as migrated");

    // The same rows again: the bulk load gives up, having written nothing and left the schema
    // whole, and the staged way skips known numbers with the same values.
    let mut tx = app.store.begin().await.unwrap();
    let n = import::bulk_invoices(&mut tx, rows.clone().into_iter().map(Ok))
        .await
        .unwrap();
    assert_eq!(n, None);
    assert_eq!(invoice_schema(&app).await.len(), before.len());
    let n = import::invoices(&mut tx, &rows).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    assert_eq!((n.inserted, n.unchanged), (0, 300));
    assert_eq!(count(&app, "invoices").await, existing + 300);
    assert_eq!(invoice_schema(&app).await, before);
    // The rebuilt foreign key holds.
    let orphan = sqlx::query(
        "INSERT INTO invoices (account_id, number, issued, due, amount_minor, currency)
         VALUES (-1, 'ORPHAN', '2026-01-01', '2026-02-01', 1, 'USD')",
    )
    .execute(&app.store.pool)
    .await;
    assert!(orphan.is_err(), "the account foreign key is back");
}

async fn late_paid(app: &dunbot::app::App, code: &str) -> i32 {
    sqlx::query_scalar("SELECT late_paid_count FROM accounts WHERE code = $1")
        .bind(code)
        .fetch_one(&app.store.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_track_record_counts_invoices_paid_late_once() {
    let (app, _db) = app().await;
    // INV-1001 (due 13 Nov) paid late in two parts; INV-1002 (due 26 Nov) paid early in part.
    let payments = "account,invoice,paid_on,amount,currency,reference\n\
        ACME-001,INV-1001,2026-11-10,250.00,USD,W-1\n\
        ACME-001,INV-1001,2026-11-18,1000.00,USD,W-2\n\
        ACME-001,INV-1002,2026-11-20,100.00,USD,W-3\n\
        BOLT-001,INV-2001,2026-10-01,5000.00,USD,W-4\n";
    seed(&app, CUSTOMERS, INVOICES, Some(payments)).await;
    assert_eq!(
        late_paid(&app, "ACME-001").await,
        1,
        "paid in full after due"
    );
    assert_eq!(late_paid(&app, "BOLT-001").await, 0, "paid before due");
    // The same file again, and an invoice reopened: the count follows the invoices.
    let dir = tempdir();
    let path = dir.join("payments.csv");
    std::fs::write(&path, payments).unwrap();
    import_file(&app, ImportKind::Payments, &path, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(late_paid(&app, "ACME-001").await, 1);
    sqlx::query("UPDATE invoices SET status = 'open', paid_on = NULL WHERE number = 'INV-1001'")
        .execute(&app.store.pool)
        .await
        .unwrap();
    assert_eq!(late_paid(&app, "ACME-001").await, 0);
}

/// A first load large enough to stream (`BULK_MIN_ROWS`): a bad row deep in it imports nothing
/// and is named like any other; fixed, the whole file loads and the schema is as migrated.
#[tokio::test]
async fn a_large_first_load_streams_and_a_bad_row_in_it_still_imports_nothing() {
    use dunbot::store::import::BULK_MIN_ROWS;
    let (app, _db) = app().await;
    let dir = tempdir();
    let path = dir.join("customers.csv");
    std::fs::write(&path, CUSTOMERS).unwrap();
    import_file(&app, ImportKind::Customers, &path, None)
        .await
        .unwrap()
        .unwrap();
    let before = invoice_schema(&app).await;
    let rows = BULK_MIN_ROWS + 1;
    let bad_line = rows as u64 - 7;
    let file = |account_on_bad_line: &str| {
        let mut s = String::from("account,invoice,issued,due,amount,currency\n");
        for i in 0..rows {
            let line = i as u64 + 2;
            let account = if line == bad_line {
                account_on_bad_line
            } else {
                "ACME-001"
            };
            s.push_str(&format!(
                "{account},L-{i:06},2026-10-01,2026-11-{:02},{}.{:02},USD\n",
                1 + i % 28,
                10 + i % 900,
                i % 100
            ));
        }
        s
    };
    let path = dir.join("first-load.csv");
    std::fs::write(&path, file("NOPE-001")).unwrap();
    let errors = import_file(&app, ImportKind::Invoices, &path, None)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].line, bad_line);
    assert!(errors[0].reason.contains("NOPE-001"), "{errors:?}");
    assert_eq!(count(&app, "invoices").await, 0);
    assert_eq!(invoice_schema(&app).await, before);

    std::fs::write(&path, file("ACME-001")).unwrap();
    let n = import_file(&app, ImportKind::Invoices, &path, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((n.inserted, n.unchanged), (rows as u64, 0));
    assert_eq!(count(&app, "invoices").await, rows as i64);
    assert_eq!(invoice_schema(&app).await, before, "rebuilt as migrated");
    let (sum, last_due): (i64, chrono::NaiveDate) = sqlx::query_as(
        "SELECT sum(amount_minor)::int8, max(due) FROM invoices WHERE number >= 'L-049990'",
    )
    .fetch_one(&app.store.pool)
    .await
    .unwrap();
    let want: i64 = (49_990..rows)
        .map(|i| ((10 + i % 900) * 100 + i % 100) as i64)
        .sum();
    let want_due = (49_990..rows).map(|i| 1 + i % 28).max().unwrap();
    assert_eq!(
        (sum, last_due),
        (want, d(&format!("2026-11-{want_due:02}")))
    );

    // The same file again is not a first load any more: known invoices, nothing changes.
    let n = import_file(&app, ImportKind::Invoices, &path, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((n.inserted, n.unchanged), (0, rows as u64));
}

/// `dunbot import invoices` of a 20,000-row file with standard error on `stderr`.
fn import_binary(db: &TestDb, file: &std::path::Path) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_dunbot"));
    c.args(["import", "invoices"])
        .arg(file)
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn");
    c
}

fn many_invoices() -> std::path::PathBuf {
    let mut body = String::from("account,invoice,issued,due,amount,currency\n");
    for i in 0..20_000 {
        body.push_str(&format!(
            "ACME-001,P-{i:06},2026-10-01,2026-11-01,100.00,USD\n"
        ));
    }
    let path = tempdir().join("invoices.csv");
    std::fs::write(&path, body).unwrap();
    path
}

#[tokio::test]
async fn import_shows_no_progress_when_standard_error_is_not_a_terminal() {
    let (app, db) = app().await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    let file = many_invoices();
    let out = tokio::task::spawn_blocking(move || import_binary(&db, &file).output().unwrap())
        .await
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("20000 new"), "{stdout}");
    assert_eq!(stderr, "", "a pipe gets no progress bar");
}

/// The terminal path, on a pseudo-terminal from util-linux's `script` (skipped without it).
#[tokio::test]
async fn import_shows_rows_and_time_left_on_a_terminal() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("no `script` on this machine: the terminal path is not checked here");
        return;
    }
    let (app, db) = app().await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    let file = many_invoices();
    let cmd = format!(
        "{} import invoices {}",
        env!("CARGO_BIN_EXE_dunbot"),
        file.display()
    );
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("script")
            .args(["-qfec", &cmd, "/dev/null"])
            .env("DATABASE_URL", &db.url)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let tty = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{tty}");
    assert!(tty.contains("/20,000 rows"), "{tty}");
    assert!(tty.contains("rows/s") && tty.contains("left"), "{tty}");
    assert!(tty.contains("20000 new"), "{tty}");
}
