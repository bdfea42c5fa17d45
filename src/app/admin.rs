//! Admin steps from the CLI (`dunbot agency add`, `dunbot role grant`, `dunbot import`): each
//! writes its change and its action row in one transaction, like every chat command.
use super::App;
use crate::domain::roles::Role;
use crate::import::{Counted, RowError};
use crate::store::{Tx, actions, collections, import, people};
use anyhow::{Result, bail};
use chrono::Utc;
use serde_json::{Value, json};

pub(super) fn cli_action(
    at: chrono::DateTime<Utc>,
    kind: &str,
    subject: Option<String>,
    details: Value,
    key: Option<String>,
) -> actions::NewAction {
    let who = std::env::var("USER").unwrap_or_else(|_| "cli".into());
    actions::NewAction {
        at,
        actor_platform: "cli".into(),
        actor_id: who.clone(),
        actor_name: who,
        channel: "cli".into(),
        kind: kind.into(),
        subject,
        outcome: "ok",
        details,
        idempotency_key: key,
    }
}

pub(super) async fn record(mut tx: Tx, action: actions::NewAction) -> Result<()> {
    actions::insert_if_new(&mut tx, &action).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn add_agency(
    app: &App,
    name: &str,
    webhook: Option<&str>,
    secret: Option<&str>,
    channel: Option<&str>,
) -> Result<i64> {
    if name.trim().is_empty() {
        bail!("give the agency a name, e.g. dunbot agency add \"Northwind Recovery\"");
    }
    if let Some(url) = webhook
        && !(url.starts_with("https://") || url.starts_with("http://"))
    {
        bail!("--webhook must be an http(s) URL, e.g. https://agency.example/dunbot");
    }
    if let Some(ch) = channel
        && !ch.contains(':')
    {
        bail!("--channel is platform:id, e.g. slack:C0123ABC or discord:1234567890");
    }
    let mut tx = app.store.begin().await?;
    let generated;
    let secret = match (webhook, secret) {
        (Some(_), None) => {
            generated = uuid::Uuid::new_v4().simple().to_string();
            Some(generated.as_str())
        }
        (_, s) => s,
    };
    let id = collections::upsert_agency(&mut tx, name, webhook, secret, channel).await?;
    record(
        tx,
        cli_action(
            app.now(),
            "agency_add",
            Some(format!("agency:{name}")),
            json!({"agency_id": id, "webhook": webhook, "channel": channel}),
            None,
        ),
    )
    .await?;
    Ok(id)
}

pub async fn grant_role(
    app: &App,
    platform: &str,
    user: &str,
    role: Role,
    agency: Option<&str>,
) -> Result<bool> {
    let mut tx = app.store.begin().await?;
    let agency_id = match (role, agency) {
        (Role::Agency, Some(name)) => match collections::agency_by_name(&mut tx, name).await? {
            Some(a) => Some(a.id),
            None => bail!("there is no agency {name:?}; `dunbot agency list` shows them"),
        },
        (Role::Agency, None) => bail!("the agency role needs --agency NAME"),
        (_, Some(_)) => bail!("only the agency role takes --agency"),
        _ => None,
    };
    let changed = people::grant(&mut tx, platform, user, role, agency_id, "cli").await?;
    record(
        tx,
        cli_action(
            app.now(),
            "role",
            Some(format!("user:{user}")),
            json!({"platform": platform, "role": role, "agency": agency, "changed": changed}),
            None,
        ),
    )
    .await?;
    Ok(changed)
}

/// Which file an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportKind {
    Customers,
    Invoices,
    Payments,
}

/// A large first load streams into the ledger as it is read; anything unusual in it (or a
/// smaller file) takes the careful path, which reads every row first and says what is wrong.
async fn import_invoices(
    tx: &mut sqlx::PgConnection,
    path: &std::path::Path,
    progress: Option<crate::import::Progress>,
) -> Result<Result<import::ImportCount, Vec<RowError>>> {
    let bytes: std::sync::Arc<[u8]> = std::fs::read(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?
        .into();
    let lines = bytes.iter().filter(|&&b| b == b'\n').count();
    if import::bulk_worthwhile(tx, lines).await?
        && let Ok(rows) = crate::import::invoice_rows(Counted::new(
            std::io::Cursor::new(bytes.clone()),
            progress.clone(),
        ))
        && let Some(n) = import::bulk_invoices(tx, rows).await?
    {
        return Ok(Ok(import::ImportCount {
            inserted: n,
            unchanged: 0,
        }));
    }
    Ok(
        match crate::import::invoices(Counted::new(&bytes[..], progress)) {
            Ok(rows) => import::invoices(tx, &rows).await?,
            Err(e) => Err(e),
        },
    )
}

/// Validates the whole file, then writes it in one transaction with its action row. Returns
/// `Err(rows)` when any row is bad (nothing written). Payments resolve promises as of `as_of`
/// (a back-dated file), or today by the app's clock.
pub async fn import_file(
    app: &App,
    kind: ImportKind,
    path: &std::path::Path,
    as_of: Option<chrono::NaiveDate>,
) -> Result<Result<import::ImportCount, Vec<RowError>>> {
    import_file_with_progress(app, kind, path, as_of, None).await
}

/// As `import_file`, telling `progress` how many lines have been read (a terminal's bar).
pub async fn import_file_with_progress(
    app: &App,
    kind: ImportKind,
    path: &std::path::Path,
    as_of: Option<chrono::NaiveDate>,
    progress: Option<crate::import::Progress>,
) -> Result<Result<import::ImportCount, Vec<RowError>>> {
    let now = app.now();
    let file = std::fs::File::open(path)
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
    let reader = std::io::BufReader::new(Counted::new(file, progress.clone()));
    let mut tx = app.store.begin().await?;
    let result = match kind {
        ImportKind::Customers => match crate::import::customers(reader) {
            Ok(rows) => import::customers(&mut tx, &rows).await?,
            Err(e) => Err(e),
        },
        ImportKind::Invoices => import_invoices(&mut tx, path, progress).await?,
        ImportKind::Payments => match crate::import::payments(reader) {
            Ok(rows) => match import::payments_recorded(&mut tx, &rows).await? {
                Ok((count, ids)) => {
                    let today = as_of.unwrap_or_else(|| app.settings.today(now));
                    super::payment_news::after_payments(app, &mut tx, &ids, today).await?;
                    Ok(count)
                }
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(count) => {
            let details = json!({"file": path.display().to_string(), "inserted": count.inserted, "unchanged": count.unchanged});
            record(
                tx,
                cli_action(
                    now,
                    &format!("import_{kind:?}").to_ascii_lowercase(),
                    None,
                    details,
                    None,
                ),
            )
            .await?;
            if kind == ImportKind::Payments {
                let today = as_of.unwrap_or_else(|| app.settings.today(now));
                super::automatic::resolve_promises(app, today, now).await?;
            }
            Ok(Ok(count))
        }
        Err(rows) => {
            tx.rollback().await?;
            let mut conn = app.store.pool.acquire().await?;
            let mut a = cli_action(
                now,
                "import",
                None,
                json!({"file": path.display().to_string(), "bad_rows": rows.len()}),
                None,
            );
            a.outcome = "refused";
            actions::insert_if_new(&mut conn, &a).await?;
            Ok(Err(rows))
        }
    }
}
