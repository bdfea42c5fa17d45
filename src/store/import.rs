//! Bulk writes for CSV imports: rows go through `COPY` into a temporary table, are checked
//! against the ledger there (unknown accounts, currency mismatches) and then inserted with
//! `ON CONFLICT DO NOTHING`, so importing the same file twice changes nothing.
use super::copy_binary::BinaryRows;
use super::is_unique_violation;
use crate::domain::money::Currency;
use crate::import::{CustomerRow, InvoiceRow, PaymentRow, RowError};
use sqlx::{AssertSqlSafe, PgConnection};
use std::collections::HashMap;

/// What an import changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCount {
    pub inserted: u64,
    pub unchanged: u64,
}

/// A CSV field for COPY (quoted, quotes doubled); `None` is NULL (an unquoted empty field).
fn field(out: &mut String, v: Option<&str>) {
    if let Some(v) = v {
        out.push('"');
        out.push_str(&v.replace('"', "\"\""));
        out.push('"');
    }
}

async fn copy_rows(
    conn: &mut PgConnection,
    statement: &'static str,
    body: String,
) -> Result<(), sqlx::Error> {
    let mut copy = conn.copy_in_raw(statement).await?;
    copy.send(body.into_bytes()).await?;
    copy.finish().await?;
    Ok(())
}

/// The ledger's objections, `(line, field, reason)` as the queries below select them.
fn line_errors(rows: Vec<(i64, String, String)>) -> Vec<RowError> {
    rows.into_iter()
        .map(|(line, field, reason)| RowError {
            line: line as u64,
            field: Some(field),
            reason,
        })
        .collect()
}

pub async fn customers(
    conn: &mut PgConnection,
    rows: &[CustomerRow],
) -> Result<Result<ImportCount, Vec<RowError>>, sqlx::Error> {
    sqlx::query(
        "CREATE TEMP TABLE stage_customers (line int8, code text, name text, email text, phone text, currency text,
           time_zone text, owner text, dnc bool, contact_name text) ON COMMIT DROP",
    )
    .execute(&mut *conn)
    .await?;
    let mut body = String::new();
    for r in rows {
        body.push_str(&r.line.to_string());
        for v in [
            Some(r.account.as_str()),
            Some(&r.name),
            r.email.as_deref(),
            r.phone.as_deref(),
            Some(r.currency.code()),
            Some(&r.time_zone),
            r.owner.as_deref(),
        ] {
            body.push(',');
            field(&mut body, v);
        }
        body.push_str(if r.do_not_contact { ",t," } else { ",f," });
        field(&mut body, r.contact_name.as_deref());
        body.push('\n');
    }
    copy_rows(conn, "COPY stage_customers FROM STDIN (FORMAT csv)", body).await?;
    let inserted = sqlx::query(
        "INSERT INTO accounts (code, name, currency, time_zone, owner, do_not_contact)
         SELECT code, name, currency, time_zone, owner, dnc FROM stage_customers
         ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, time_zone = EXCLUDED.time_zone, owner = EXCLUDED.owner,
             do_not_contact = EXCLUDED.do_not_contact
         WHERE (accounts.name, accounts.time_zone, accounts.owner, accounts.do_not_contact)
               IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.time_zone, EXCLUDED.owner, EXCLUDED.do_not_contact)",
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let mismatched: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT s.line, 'currency', 'account ' || s.code || ' exists in ' || a.currency || ', not ' || s.currency
           FROM stage_customers s JOIN accounts a ON a.code = s.code WHERE a.currency <> s.currency ORDER BY s.line",
    )
    .fetch_all(&mut *conn)
    .await?;
    if !mismatched.is_empty() {
        return Ok(Err(line_errors(mismatched)));
    }
    sqlx::query(
        "INSERT INTO contacts (account_id, name, email, phone, is_primary)
         SELECT a.id, s.contact_name, s.email, s.phone, true FROM stage_customers s JOIN accounts a ON a.code = s.code
          WHERE (s.email IS NOT NULL OR s.phone IS NOT NULL)
            AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.account_id = a.id AND c.is_primary
                              AND c.email IS NOT DISTINCT FROM s.email AND c.phone IS NOT DISTINCT FROM s.phone
                              AND c.name IS NOT DISTINCT FROM s.contact_name)",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE contacts c SET is_primary = false FROM stage_customers s JOIN accounts a ON a.code = s.code
          WHERE c.account_id = a.id AND c.is_primary
            AND (c.email IS DISTINCT FROM s.email OR c.phone IS DISTINCT FROM s.phone
                 OR c.name IS DISTINCT FROM s.contact_name)",
    )
    .execute(&mut *conn)
    .await?;
    // Consent to texts, where the file says it (`sms_consent`), for the row's phone.
    let consents: Vec<(String, String, bool)> = rows
        .iter()
        .filter_map(|r| {
            let phone = crate::domain::sms::e164(r.phone.as_deref()?).ok()?;
            Some((r.account.clone(), phone, r.sms_consent?))
        })
        .collect();
    super::sms::import_consents(conn, &consents, "import").await?;
    Ok(Ok(ImportCount {
        inserted,
        unchanged: rows.len() as u64 - inserted,
    }))
}

/// Imports invoices held in memory. The common case, new invoices only, is one `COPY` straight
/// into `invoices` with account ids resolved here; a file that repeats known invoice numbers
/// falls back to the staged path, which skips exact repeats and lists the numbers that changed.
pub async fn invoices(
    conn: &mut PgConnection,
    rows: &[InvoiceRow],
) -> Result<Result<ImportCount, Vec<RowError>>, sqlx::Error> {
    let mut codes: Vec<&str> = rows.iter().map(|r| r.account.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    let accounts = account_ids(conn, Some(&codes)).await?;
    let mut data = BinaryRows::start(rows.len() * 64);
    for r in rows {
        if !encode_invoice(&mut data, r, &accounts) {
            return staged_invoices(conn, rows).await;
        }
    }
    sqlx::query("SAVEPOINT direct_import")
        .execute(&mut *conn)
        .await?;
    let mut copy = conn.copy_in_raw(COPY_INVOICES).await?;
    copy.send(data.finish()).await?;
    match copy.finish().await {
        Ok(_) => {
            sqlx::query("RELEASE SAVEPOINT direct_import")
                .execute(&mut *conn)
                .await?;
            Ok(Ok(ImportCount {
                inserted: rows.len() as u64,
                unchanged: 0,
            }))
        }
        Err(e) if is_unique_violation(&e) => {
            sqlx::query("ROLLBACK TO SAVEPOINT direct_import")
                .execute(&mut *conn)
                .await?;
            staged_invoices(conn, rows).await
        }
        Err(e) => Err(e),
    }
}

/// Whether a file of `rows` invoices should be bulk loaded: large, and at least as large as the
/// table, so rebuilding the indexes afterwards beats keeping them up to date row by row.
pub async fn bulk_worthwhile(conn: &mut PgConnection, rows: usize) -> Result<bool, sqlx::Error> {
    if rows < BULK_MIN_ROWS {
        return Ok(false);
    }
    let existing: f32 =
        sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE oid = 'invoices'::regclass")
            .fetch_one(&mut *conn)
            .await?;
    Ok(rows as f32 >= existing)
}

/// Loads new invoices as they are read: a thread checks and encodes rows while the server
/// stores the previous ones (one binary `COPY`), with the invoice table's keys and secondary
/// indexes, and the other tables' keys to it, dropped and rebuilt afterwards, as Postgres's
/// manual advises for bulk loads. Those tables are locked meanwhile. `Ok(None)` when the file needs the careful path (a bad
/// row, an unknown account or currency, an invoice number already known or repeated): then
/// nothing was written and the caller reads the file again row by row.
pub async fn bulk_invoices<I>(conn: &mut PgConnection, rows: I) -> Result<Option<u64>, sqlx::Error>
where
    I: Iterator<Item = Result<InvoiceRow, RowError>> + Send + 'static,
{
    let accounts = account_ids(conn, None).await?;
    sqlx::query("SAVEPOINT bulk_import")
        .execute(&mut *conn)
        .await?;
    for ddl in BULK_DROP {
        sqlx::query(ddl).execute(&mut *conn).await?;
    }
    // Other tables' keys to invoices go while the primary key is rebuilt, and come back as
    // they were: read from the catalog, so a table added later is handled too.
    let referencing: Vec<(String, String)> = sqlx::query_as(
        "SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname),
                format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
           FROM pg_constraint WHERE confrelid = 'invoices'::regclass AND contype = 'f' ORDER BY conname",
    )
    .fetch_all(&mut *conn)
    .await?;
    for (drop, _) in &referencing {
        sqlx::query(AssertSqlSafe(drop.as_str()))
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("ALTER TABLE invoices DROP CONSTRAINT invoices_pkey")
        .execute(&mut *conn)
        .await?;
    let (tx, mut chunks) = tokio::sync::mpsc::channel::<Chunk>(8);
    let encoder = tokio::task::spawn_blocking(move || {
        let mut data = BinaryRows::start(CHUNK_BYTES + 256);
        let mut n = 0u64;
        for row in rows {
            if !row.is_ok_and(|r| encode_invoice(&mut data, &r, &accounts)) {
                let _ = tx.blocking_send(Chunk::GiveUp);
                return n;
            }
            n += 1;
            if data.len() >= CHUNK_BYTES && tx.blocking_send(Chunk::More(data.take())).is_err() {
                return n;
            }
        }
        let _ = tx.blocking_send(Chunk::Last(data.finish()));
        n
    });
    let started = std::time::Instant::now();
    let mut copy = conn.copy_in_raw(COPY_INVOICES).await?;
    let mut complete = false;
    while let Some(chunk) = chunks.recv().await {
        match chunk {
            Chunk::More(bytes) => {
                copy.send(bytes).await?;
            }
            Chunk::Last(bytes) => {
                copy.send(bytes).await?;
                complete = true;
            }
            Chunk::GiveUp => break,
        }
    }
    drop(chunks);
    let n = encoder
        .await
        .map_err(|e| sqlx::Error::Protocol(format!("invoice reader stopped: {e}")))?;
    let loaded = if complete {
        copy.finish().await.map(|_| ())
    } else {
        copy.abort("the file needs the careful path").await
    };
    let loaded_in = started.elapsed();
    let outcome = match loaded {
        Ok(()) if complete => rebuild(conn, referencing.iter().map(|(_, add)| add.as_str())).await,
        Ok(()) => Err(None),
        Err(e) if is_unique_violation(&e) => Err(None),
        Err(e) => Err(Some(e)),
    };
    match outcome {
        Ok(()) => {
            sqlx::query("RELEASE SAVEPOINT bulk_import")
                .execute(&mut *conn)
                .await?;
            tracing::info!(
                rows = n,
                load_s = loaded_in.as_secs_f64(),
                indexes_s = (started.elapsed() - loaded_in).as_secs_f64(),
                "bulk invoice load"
            );
            Ok(Some(n))
        }
        Err(fatal) => {
            sqlx::query("ROLLBACK TO SAVEPOINT bulk_import")
                .execute(&mut *conn)
                .await?;
            fatal.map_or(Ok(None), Err)
        }
    }
}

/// Rebuilds what the load dropped; a repeated or known number fails the unique key here.
async fn rebuild<'a>(
    conn: &mut PgConnection,
    referencing: impl Iterator<Item = &'a str>,
) -> Result<(), Option<sqlx::Error>> {
    for ddl in BULK_REBUILD.into_iter().chain(referencing) {
        match sqlx::query(AssertSqlSafe(ddl)).execute(&mut *conn).await {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return Err(None),
            Err(e) => return Err(Some(e)),
        }
    }
    Ok(())
}

const COPY_INVOICES: &str = "COPY invoices (account_id, number, issued, due, amount_minor, currency) FROM STDIN (FORMAT binary)";

/// What the reading thread hands the loader.
enum Chunk {
    More(Vec<u8>),
    /// The end of the file, with the stream's trailer.
    Last(Vec<u8>),
    /// A row the careful path must explain: load nothing.
    GiveUp,
}

/// How much encoded data the reader hands the loader at a time.
const CHUNK_BYTES: usize = 1 << 20;

/// Appends one invoice; `false` when its account is unknown or in another currency.
fn encode_invoice(
    data: &mut BinaryRows,
    r: &InvoiceRow,
    accounts: &HashMap<String, (i64, Currency)>,
) -> bool {
    let currency = r.amount.currency;
    match accounts.get(&r.account) {
        Some((id, cur)) if *cur == currency => {
            data.row(6)
                .int8(*id)
                .text(&r.invoice)
                .date(r.issued)
                .date(r.due)
                .int8(r.amount.minor)
                .text(currency.code());
            true
        }
        _ => false,
    }
}

/// Files of fewer rows keep the indexes up to date as they go.
pub const BULK_MIN_ROWS: usize = 50_000;

/// `code → (id, currency)` for the accounts named, or for every account (`None`): a bulk load
/// names most of them before it has read the file, and the ledger holds far fewer accounts
/// than invoices.
async fn account_ids(
    conn: &mut PgConnection,
    codes: Option<&[&str]>,
) -> Result<HashMap<String, (i64, Currency)>, sqlx::Error> {
    // Two statements, not `$1 IS NULL OR code = ANY($1)`: once Postgres caches a generic plan
    // for that, it compares every account with every code (10,000 x 10,000 per API batch).
    let found: Vec<(String, i64, String)> = match codes {
        Some(codes) => {
            sqlx::query_as(
                "SELECT a.code, a.id, a.currency::text FROM accounts a JOIN unnest($1::text[]) c(code) ON c.code = a.code",
            )
            .bind(codes)
            .fetch_all(&mut *conn)
            .await?
        }
        None => {
            sqlx::query_as("SELECT code, id, currency::text FROM accounts")
                .fetch_all(&mut *conn)
                .await?
        }
    };
    Ok(found
        .into_iter()
        .filter_map(|(code, id, cur)| Some((code, (id, Currency::parse(&cur).ok()?))))
        .collect())
}

/// Must mirror the migrations: `tests/it/imports.rs` checks that a bulk load leaves the same
/// indexes and constraints behind.
const BULK_DROP: [&str; 7] = [
    "LOCK TABLE invoices IN ACCESS EXCLUSIVE MODE",
    "SET LOCAL maintenance_work_mem = '256MB'",
    // Loaded invoices are unpaid (status and paid_on keep their defaults), so the track-record
    // trigger has nothing to count; evaluating its condition per row costs a fifth of the load.
    "ALTER TABLE invoices DISABLE TRIGGER invoices_late_paid_insert",
    "ALTER TABLE invoices DROP CONSTRAINT invoices_account_id_fkey",
    "ALTER TABLE invoices DROP CONSTRAINT invoices_number_key",
    "DROP INDEX invoices_account",
    "DROP INDEX invoices_open_due",
];
const BULK_REBUILD: [&str; 6] = [
    "ALTER TABLE invoices ENABLE TRIGGER invoices_late_paid_insert",
    "ALTER TABLE invoices ADD CONSTRAINT invoices_pkey PRIMARY KEY (id)",
    "ALTER TABLE invoices ADD CONSTRAINT invoices_number_key UNIQUE (number)",
    "CREATE INDEX invoices_account ON invoices(account_id)",
    "CREATE INDEX invoices_open_due ON invoices(due) WHERE status IN ('open', 'disputed', 'with_agency')",
    "ALTER TABLE invoices ADD CONSTRAINT invoices_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts(id)",
];

/// The careful path: stage the file, list unknown accounts, other currencies and invoices that
/// exist with other values, or else insert what is new.
async fn staged_invoices(
    conn: &mut PgConnection,
    rows: &[InvoiceRow],
) -> Result<Result<ImportCount, Vec<RowError>>, sqlx::Error> {
    sqlx::query(
        "CREATE TEMP TABLE stage_invoices (line int8, code text, number text, issued date, due date, amount_minor int8,
           currency text) ON COMMIT DROP",
    )
    .execute(&mut *conn)
    .await?;
    let mut body = String::with_capacity(rows.len() * 64);
    for r in rows {
        use std::fmt::Write;
        let _ = write!(body, "{},", r.line);
        field(&mut body, Some(&r.account));
        body.push(',');
        field(&mut body, Some(&r.invoice));
        let _ = writeln!(
            body,
            ",{},{},{},{}",
            r.issued, r.due, r.amount.minor, r.amount.currency
        );
    }
    copy_rows(conn, "COPY stage_invoices FROM STDIN (FORMAT csv)", body).await?;
    let bad: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT s.line, CASE WHEN a.id IS NULL THEN 'account' ELSE 'currency' END,
                CASE WHEN a.id IS NULL THEN 'account ' || s.code || ' is not known: import it in the customers file first'
                             ELSE 'invoice is in ' || s.currency || ' but account ' || s.code || ' is in ' || a.currency END
           FROM stage_invoices s LEFT JOIN accounts a ON a.code = s.code
          WHERE a.id IS NULL OR a.currency <> s.currency
         UNION ALL
         SELECT s.line, 'invoice', 'invoice ' || s.number || ' exists with other values (account, dates or amount)'
           FROM stage_invoices s JOIN invoices i ON i.number = s.number JOIN accounts a ON a.id = i.account_id
          WHERE (a.code, i.issued, i.due, i.amount_minor) IS DISTINCT FROM (s.code, s.issued, s.due, s.amount_minor)
          ORDER BY 1",
    )
    .fetch_all(&mut *conn)
    .await?;
    if !bad.is_empty() {
        return Ok(Err(line_errors(bad)));
    }
    let inserted = sqlx::query(
        "INSERT INTO invoices (account_id, number, issued, due, amount_minor, currency)
         SELECT a.id, s.number, s.issued, s.due, s.amount_minor, s.currency FROM stage_invoices s JOIN accounts a ON a.code = s.code
         ON CONFLICT (number) DO NOTHING",
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(Ok(ImportCount {
        inserted,
        unchanged: rows.len() as u64 - inserted,
    }))
}

/// Inserts payments and brings the paid invoices' `paid_minor`, `status` and `paid_on` up to date.
pub async fn payments(
    conn: &mut PgConnection,
    rows: &[PaymentRow],
) -> Result<Result<ImportCount, Vec<RowError>>, sqlx::Error> {
    Ok(payments_recorded(conn, rows).await?.map(|(count, _)| count))
}

/// As `payments`, with the ids of the payments it inserted (for `app::payment_news`).
pub async fn payments_recorded(
    conn: &mut PgConnection,
    rows: &[PaymentRow],
) -> Result<Result<(ImportCount, Vec<i64>), Vec<RowError>>, sqlx::Error> {
    sqlx::query(
        "CREATE TEMP TABLE stage_payments (line int8, code text, number text, paid_on date, amount_minor int8, currency text,
           reference text) ON COMMIT DROP",
    )
    .execute(&mut *conn)
    .await?;
    let mut body = String::new();
    for r in rows {
        use std::fmt::Write;
        let _ = write!(body, "{},", r.line);
        field(&mut body, Some(&r.account));
        body.push(',');
        field(&mut body, Some(&r.invoice));
        let _ = write!(
            body,
            ",{},{},{},",
            r.paid_on, r.amount.minor, r.amount.currency
        );
        field(&mut body, Some(&r.reference));
        body.push('\n');
    }
    copy_rows(conn, "COPY stage_payments FROM STDIN (FORMAT csv)", body).await?;
    let bad: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT s.line, CASE WHEN a.id IS NULL THEN 'account' WHEN i.id IS NULL OR i.account_id <> a.id THEN 'invoice'
                             ELSE 'currency' END,
                CASE WHEN a.id IS NULL THEN 'account ' || s.code || ' is not known'
                             WHEN i.id IS NULL THEN 'invoice ' || s.number || ' is not known'
                             WHEN i.account_id <> a.id THEN 'invoice ' || s.number || ' belongs to another account'
                             ELSE 'payment is in ' || s.currency || ' but invoice ' || s.number || ' is in ' || i.currency END
           FROM stage_payments s LEFT JOIN accounts a ON a.code = s.code LEFT JOIN invoices i ON i.number = s.number
          WHERE a.id IS NULL OR i.id IS NULL OR i.account_id <> a.id OR i.currency <> s.currency
          ORDER BY s.line",
    )
    .fetch_all(&mut *conn)
    .await?;
    if !bad.is_empty() {
        return Ok(Err(line_errors(bad)));
    }
    let new: Vec<(i64, i64)> = sqlx::query_as(
        "INSERT INTO payments (account_id, invoice_id, paid_on, amount_minor, currency, reference)
         SELECT a.id, i.id, s.paid_on, s.amount_minor, s.currency, s.reference
           FROM stage_payments s JOIN accounts a ON a.code = s.code JOIN invoices i ON i.number = s.number
         ON CONFLICT (account_id, reference) DO NOTHING RETURNING id, invoice_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let (ids, touched): (Vec<i64>, Vec<i64>) = new.into_iter().unzip();
    apply_payments(conn, &touched).await?;
    let inserted = touched.len() as u64;
    Ok(Ok((
        ImportCount {
            inserted,
            unchanged: rows.len() as u64 - inserted,
        },
        ids,
    )))
}

/// Recomputes paid amounts for the invoices from their payments: paid once covered, with the
/// day the last needed payment came in.
pub(crate) async fn apply_payments(
    conn: &mut PgConnection,
    invoice_ids: &[i64],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "WITH running AS (
             SELECT p.invoice_id, p.paid_on, sum(p.amount_minor) OVER (PARTITION BY p.invoice_id ORDER BY p.paid_on, p.id) AS upto
               FROM payments p WHERE p.invoice_id = ANY($1)),
         totals AS (
             SELECT r.invoice_id, max(r.upto) AS paid,
                    min(r.paid_on) FILTER (WHERE r.upto >= i.amount_minor) AS paid_on
               FROM running r JOIN invoices i ON i.id = r.invoice_id GROUP BY r.invoice_id)
         UPDATE invoices i SET paid_minor = t.paid,
                paid_on = t.paid_on,
                status = CASE WHEN t.paid >= i.amount_minor AND i.status IN ('open', 'disputed', 'with_agency', 'autocharge', 'written_off') THEN 'paid' ELSE i.status END
           FROM totals t WHERE t.invoice_id = i.id",
    )
    .bind(invoice_ids)
    .execute(conn)
    .await?;
    Ok(())
}
