//! What the ingest API (`/api/v1`) does, below HTTP: tokens, batches of rows written through
//! the CSV import's checks and store, and the reads. Each batch that is taken writes its rows
//! and its action row (the token's name as the actor, platform `api`) in one transaction.
use super::App;
use super::admin::{ImportKind, cli_action, record};
use super::views::{self, AccountCard};
use crate::domain::invoice_change::ChangeKind;
use crate::import::{Named, RowError};
use crate::store::{actions, import, is_unique_violation, ledger, tokens};
use anyhow::{Result, bail};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// What tokens look like: a fixed prefix (so a leaked one is recognisable in logs and secret
/// scanners) and 32 random bytes in hex.
const TOKEN_PREFIX: &str = "dunbot_";

fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn check_token_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > 64
        || name.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        bail!(
            "a token name is one word of at most 64 characters naming who calls, e.g. dunbot token create billing-sync"
        );
    }
    Ok(())
}

/// Makes a token named `name` and returns it: the only time it is ever shown.
pub async fn create_token(app: &App, name: &str) -> Result<String> {
    check_token_name(name)?;
    let token = format!("{TOKEN_PREFIX}{}", hex::encode(rand::random::<[u8; 32]>()));
    let mut tx = app.store.begin().await?;
    if !tokens::create(&mut tx, name, &hash(&token), app.now()).await? {
        bail!(
            "a live token is already named {name:?}: pick another name, or `dunbot token revoke {name}` first"
        );
    }
    let action = cli_action(
        app.now(),
        "token_create",
        Some(format!("token:{name}")),
        json!({}),
        None,
    );
    record(tx, action).await?;
    Ok(token)
}

pub async fn list_tokens(app: &App) -> Result<Vec<tokens::Token>> {
    let mut conn = app.store.pool.acquire().await?;
    Ok(tokens::list(&mut conn).await?)
}

/// Revokes the live token named `name`: calls with it are refused (401) from now on.
pub async fn revoke_token(app: &App, name: &str) -> Result<()> {
    let mut tx = app.store.begin().await?;
    if !tokens::revoke(&mut tx, name, app.now()).await? {
        bail!("there is no live token named {name:?}; `dunbot token list` shows them");
    }
    let action = cli_action(
        app.now(),
        "token_revoke",
        Some(format!("token:{name}")),
        json!({}),
        None,
    );
    record(tx, action).await
}

/// The name of the live token `token`, if it is one.
pub async fn token_name(app: &App, token: &str) -> Result<Option<String>> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let mut conn = app.store.pool.acquire().await?;
    Ok(tokens::live_name(&mut conn, &hash(token)).await?)
}

/// How a batch ended.
#[derive(Debug)]
pub enum Ingested {
    /// Written (or already there): the answer, also kept for a repeat of its key.
    Done(Value),
    /// The same idempotency key with the same body: the first answer again; nothing written.
    Replayed(Value),
    /// The same idempotency key with another body: nothing written.
    KeyReused,
    /// Rows that break the import's rules, every one of them: nothing written.
    Invalid(Vec<RowError>),
}

/// A repeat of an idempotency key: the first answer if the body is the same.
fn repeat(prev: &actions::ActionRow, body_sha256: &str) -> Ingested {
    if prev.details["body_sha256"] == json!(body_sha256) {
        Ingested::Replayed(prev.details["response"].clone())
    } else {
        Ingested::KeyReused
    }
}

/// Writes one batch of `kind` rows sent with `token`, all or nothing, through the same checks
/// and store functions as `dunbot import`. `key` is the caller's `Idempotency-Key`, kept per
/// token; `body_sha256` tells a true repeat from a reused key.
pub async fn ingest(
    app: &App,
    token: &str,
    kind: ImportKind,
    rows: &[Named],
    key: Option<&str>,
    body_sha256: &str,
) -> Result<Ingested> {
    let now = app.now();
    let action_key = key.map(|k| format!("api:{token}:{k}"));
    if let Some(k) = &action_key {
        let mut conn = app.store.pool.acquire().await?;
        if let Some(prev) = actions::find_by_key(&mut conn, k).await? {
            return Ok(repeat(&prev, body_sha256));
        }
    }
    let checked = match kind {
        ImportKind::Customers => crate::import::customers_from(rows).map(Rows::Customers),
        ImportKind::Invoices => crate::import::invoices_from(rows).map(Rows::Invoices),
        ImportKind::Payments => crate::import::payments_from(rows).map(Rows::Payments),
    };
    let checked = match checked {
        Ok(c) => c,
        Err(bad) => return Ok(Ingested::Invalid(bad)),
    };
    let mut tx = app.store.begin().await?;
    let mut paid = vec![];
    let written = match &checked {
        Rows::Customers(r) => import::customers(&mut tx, r).await?,
        Rows::Invoices(r) => import::invoices(&mut tx, r).await?,
        Rows::Payments(r) => import::payments_recorded(&mut tx, r)
            .await?
            .map(|(count, ids)| {
                paid = ids;
                count
            }),
    };
    let count = match written {
        Ok(c) => c,
        Err(bad) => {
            tx.rollback().await?;
            return Ok(Ingested::Invalid(bad));
        }
    };
    // The team (and a referred account's agency) hears of these payments with them.
    super::payment_news::after_payments(app, &mut tx, &paid, app.settings.today(now)).await?;
    let response =
        json!({"rows": rows.len(), "inserted": count.inserted, "unchanged": count.unchanged});
    let name = format!("{kind:?}").to_ascii_lowercase();
    let action = actions::NewAction {
        at: now,
        actor_platform: "api".into(),
        actor_id: token.into(),
        actor_name: token.into(),
        channel: "api".into(),
        kind: format!("api_{name}"),
        subject: None,
        outcome: "ok",
        details: json!({
            "endpoint": format!("/api/v1/{name}"), "idempotency_key": key,
            "body_sha256": body_sha256, "response": response,
        }),
        idempotency_key: action_key.clone(),
    };
    match actions::insert(&mut tx, &action).await {
        Ok(_) => tx.commit().await?,
        Err(e) if is_unique_violation(&e) => {
            // A request with the same key won the race: its answer decides.
            tx.rollback().await?;
            let mut conn = app.store.pool.acquire().await?;
            let k = action_key.as_deref().unwrap_or_default();
            return match actions::find_by_key(&mut conn, k).await? {
                Some(prev) => Ok(repeat(&prev, body_sha256)),
                None => bail!("idempotency key {k} vanished"),
            };
        }
        Err(e) => return Err(e.into()),
    }
    if kind == ImportKind::Payments {
        // Like `dunbot import payments`: promises kept by these payments are settled now.
        super::automatic::resolve_promises(app, app.settings.today(now), now).await?;
    }
    Ok(Ingested::Done(response))
}

/// Checked rows of one kind.
enum Rows {
    Customers(Vec<crate::import::CustomerRow>),
    Invoices(Vec<crate::import::InvoiceRow>),
    Payments(Vec<crate::import::PaymentRow>),
}

/// The card `ar account CODE` shows, with what the chat card reads beside it: the payment
/// plan, the last call and any agreed call-back, and the customer's answers about receipt.
pub struct ApiCard {
    pub card: AccountCard,
    /// The latest plan, whatever its status (a kept or broken one tells its story too).
    pub plan: Option<crate::store::plans::Plan>,
    pub last_call: Option<crate::domain::timeline::Entry>,
    pub call_back: Option<crate::store::calls::Callback>,
    pub receipt_answers: Vec<crate::store::confirm_receipt::AnswerRow>,
}

/// The account's card as of today for the API; `None` for an unknown code.
pub async fn account_card(app: &App, code: &str) -> Result<Option<ApiCard>> {
    use crate::store::{calls, confirm_receipt, plans};
    let mut tx = app.store.begin().await?;
    let Some(acc) = ledger::account_in_scope(&mut tx, code, false, None).await? else {
        return Ok(None);
    };
    let today = app.today();
    let id = acc.id;
    let card = views::card(&mut tx, &app.settings, today, acc)
        .await
        .map_err(|e| match e {
            super::Fail::User(m) => anyhow::anyhow!(m),
            super::Fail::Internal(e) => e,
        })?;
    let out = ApiCard {
        card,
        plan: plans::latest_for_account(&mut tx, id).await?,
        last_call: calls::last_call(&mut tx, id).await?,
        call_back: calls::pending_callback(&mut tx, id, today).await?,
        receipt_answers: confirm_receipt::answers_for_account(&mut tx, id).await?,
    };
    tx.commit().await?;
    Ok(Some(out))
}

/// One page of the action log, oldest first, after the row `after_id` and from `since`.
pub async fn actions_page(
    app: &App,
    since: Option<DateTime<Utc>>,
    after_id: i64,
    limit: i64,
) -> Result<Vec<actions::ActionRow>> {
    let mut conn = app.store.pool.acquire().await?;
    Ok(actions::page(&mut conn, since, after_id, limit).await?)
}

/// One invoice change as a billing system sends it to `POST /api/v1/invoice-changes`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeRow {
    /// The invoice number, e.g. `INV-1001`.
    pub invoice: String,
    /// `amount` (a correction: `amount` is the new total), `credit_note` (`amount` off the open
    /// amount), `void` or `write_off`.
    pub change: String,
    /// In the invoice's currency, as a string (`"1250.00"`): for `amount` and `credit_note`.
    #[serde(default)]
    pub amount: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    /// The billing system's id for the change (a credit note's id): applied once.
    #[serde(default)]
    pub reference: Option<String>,
}

/// The change a row asks for, or what is wrong with it (field, reason).
fn change_kind(
    row: &ChangeRow,
    currency: crate::domain::money::Currency,
) -> Result<ChangeKind, (&'static str, String)> {
    let amount = || -> Result<i64, (&'static str, String)> {
        let v = row.amount.as_deref().ok_or((
            "amount",
            format!("a {} needs an amount, e.g. \"1250.00\"", row.change),
        ))?;
        let m = crate::domain::money::Money::parse_plain(v, currency)
            .map_err(|e| ("amount", e.to_string()))?;
        Ok(m.minor)
    };
    Ok(match row.change.as_str() {
        "amount" => ChangeKind::Amount {
            new_minor: amount()?,
        },
        "credit_note" => ChangeKind::CreditNote { minor: amount()? },
        "void" => ChangeKind::Void,
        "write_off" => ChangeKind::WriteOff,
        other => {
            return Err((
                "change",
                format!("{other:?} is not a change: use amount, credit_note, void or write_off"),
            ));
        }
    })
}

/// Applies a batch of invoice changes, all or nothing: each through the one core path for
/// invoice changes (its action row, and the owner or agency told), in one transaction. A
/// batch sent again (the same body from the same token) changes nothing twice.
pub async fn change_invoices(
    app: &App,
    token: &str,
    rows: &[ChangeRow],
    body_sha256: &str,
) -> Result<Result<serde_json::Value, Vec<RowError>>> {
    use super::invoice_changes::{Applied, ChangeActor, InvoiceChange, apply};
    let now = app.now();
    let actor = ChangeActor {
        platform: "api".into(),
        id: token.into(),
        name: token.into(),
        channel: "api".into(),
    };
    let key_of = |i: usize| format!("api:{token}:changes:{}:{i}", &body_sha256[..16]);
    let mut tx = app.store.begin().await?;
    let keys: Vec<String> = (0..rows.len()).map(key_of).collect();
    if actions::any_key(&mut tx, &keys).await? {
        return Ok(Ok(
            json!({"rows": rows.len(), "changed": 0, "unchanged": rows.len(), "replayed": true}),
        ));
    }
    let (mut changed, mut unchanged, mut bad) = (0, 0, Vec::new());
    for (i, row) in rows.iter().enumerate() {
        let fail = |field: &str, reason: String| RowError {
            line: i as u64,
            field: Some(field.to_string()),
            reason,
        };
        let Some(inv) =
            crate::store::invoice_changes::invoice_for_update(&mut tx, &row.invoice).await?
        else {
            bad.push(fail(
                "invoice",
                format!(
                    "invoice {} is not known: send the invoice first",
                    row.invoice.trim()
                ),
            ));
            continue;
        };
        let currency = match crate::domain::money::Currency::parse(&inv.currency) {
            Ok(c) => c,
            Err(e) => bail!("invoice {} has currency {}: {e}", inv.number, inv.currency),
        };
        let kind = match change_kind(row, currency) {
            Ok(k) => k,
            Err((field, reason)) => {
                bad.push(fail(field, reason));
                continue;
            }
        };
        let change = InvoiceChange {
            number: row.invoice.clone(),
            kind,
            reason: row.reason.clone(),
            reference: row.reference.clone(),
        };
        match apply(app, &mut tx, &change, &actor, &key_of(i), now).await {
            Ok(Applied::Changed { .. }) => changed += 1,
            Ok(Applied::Unchanged) => unchanged += 1,
            Err(super::Fail::User(reason)) => bad.push(fail("change", reason)),
            Err(super::Fail::Internal(e)) => return Err(e),
        }
    }
    if !bad.is_empty() {
        tx.rollback().await?;
        return Ok(Err(bad));
    }
    tx.commit().await?;
    Ok(Ok(
        json!({"rows": rows.len(), "changed": changed, "unchanged": unchanged}),
    ))
}
