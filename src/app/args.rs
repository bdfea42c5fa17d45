//! Typed arguments, resolved against the ledger, with refusals that say what to type instead.
use super::{Ctx, Fail};
use crate::domain::dates::parse_date;
use crate::domain::money::{Currency, Money};
use crate::refuse;
use crate::store::ledger;
use chrono::NaiveDate;
use sqlx::PgConnection;

/// The account by code, locked for the transaction when `lock`. Agency people see only accounts
/// referred to their agency: any other reads exactly as one that does not exist, suggestions
/// included.
pub async fn account(
    ctx: &Ctx<'_>,
    tx: &mut PgConnection,
    code: &str,
    lock: bool,
) -> Result<ledger::Account, Fail> {
    let scope = ctx.account_scope();
    match ledger::account_in_scope(tx, code, lock, scope).await? {
        Some(acc) => Ok(acc),
        None => {
            let hint = suggest(tx, code, scope).await?;
            refuse!("There is no account `{code}`.{hint}");
        }
    }
}

async fn suggest(tx: &mut PgConnection, code: &str, scope: Option<&str>) -> Result<String, Fail> {
    // An agency is not shown even an example code from the customer book.
    let fallback = if scope.is_some() {
        " You can look up the accounts referred to your agency; ask the manager who referred it for its code."
    } else {
        " Account codes look like ACME-001."
    };
    let stem: String = code
        .chars()
        .take_while(|c| c.is_alphanumeric())
        .take(4)
        .collect();
    if stem.is_empty() {
        return Ok(fallback.into());
    }
    let found = ledger::search_accounts(tx, &stem, 3, scope).await?;
    Ok(if found.is_empty() {
        fallback.into()
    } else {
        let list: Vec<String> = found.iter().map(|(c, n)| format!("{c} ({n})")).collect();
        format!(" Did you mean {}?", list.join(", "))
    })
}

pub async fn invoice(tx: &mut PgConnection, number: &str) -> Result<ledger::Invoice, Fail> {
    match ledger::invoice_by_number(tx, number).await? {
        Some(i) => Ok(i),
        None => refuse!("There is no invoice `{number}`. Invoice numbers look like INV-1042."),
    }
}

pub fn currency_of(acc: &ledger::Account) -> Result<Currency, Fail> {
    Currency::parse(&acc.currency)
        .map_err(|e| Fail::Internal(anyhow::anyhow!("account {} currency: {e}", acc.code)))
}

/// An amount in the account's currency, more than zero.
pub fn amount(text: &str, acc: &ledger::Account) -> Result<Money, Fail> {
    let cur = currency_of(acc)?;
    let m = Money::parse(text, cur).map_err(|e| Fail::User(e.to_string()))?;
    if m.currency != cur {
        refuse!(
            "{} is billed in {cur}; write the amount in {cur}, e.g. {}.",
            acc.code,
            Money::new(125_000, cur).format()
        );
    }
    if m.minor <= 0 {
        refuse!("The amount must be more than zero, e.g. 1250.00.");
    }
    Ok(m)
}

pub fn date(text: &str, today: NaiveDate) -> Result<NaiveDate, Fail> {
    parse_date(text, today).map_err(Fail::User)
}

/// `12`, `#12` or `offer-12`.
pub fn offer_id(text: &str) -> Result<i64, Fail> {
    let digits = text.trim().trim_start_matches('#').to_ascii_lowercase();
    let digits = digits
        .trim_start_matches("offer-")
        .trim_start_matches("of-");
    match digits.parse::<i64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => {
            refuse!("`{text}` is not an offer number; use the number shown in the digest, e.g. 12.")
        }
    }
}

/// The account's unpaid balance: open, disputed and with-agency invoices.
pub async fn balance(
    tx: &mut PgConnection,
    account_id: i64,
) -> Result<(i64, Vec<ledger::Invoice>), Fail> {
    let invoices = ledger::unpaid_invoices(tx, account_id).await?;
    Ok((invoices.iter().map(|i| i.balance_minor()).sum(), invoices))
}
