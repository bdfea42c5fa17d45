//! The daily digest: built for an as-of date from a snapshot of the ledger, platform-neutral.
mod assess;
mod build;
mod callbacks;
pub mod confirm_receipt;
mod plans;
mod render;

pub use assess::{Standing, assess, promise_pause};
pub use build::{
    AccountLine, BucketGroup, CurrencyTotals, Digest, Escalation, Freshness, LineActions, Listed,
    PromiseLine, build, freshness, line_actions, promise_line,
};
pub use callbacks::log_call_button;
pub use plans::{PlanLine, broken_plan_buttons};
pub use render::{account_buttons, broken_promise_buttons, buttons_for, decision_buttons, render};

use crate::config::Settings;
use crate::store::snapshot;
use chrono::NaiveDate;
use sqlx::PgConnection;

/// Everything the digest reads, loaded in a few queries.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub accounts: Vec<snapshot::AccountAgg>,
    pub promises: Vec<snapshot::PromiseFacts>,
    pub offers: Vec<snapshot::OfferLine>,
    pub flags: Vec<snapshot::FlagLine>,
    /// Call-backs agreed for the digest's day.
    pub callbacks: Vec<crate::store::calls::Callback>,
    /// Outbox messages given up on (dead).
    pub undelivered: i64,
    /// When the ledger last heard from outside (a finished sync or a payments import).
    pub ledger_as_of: Option<chrono::DateTime<chrono::Utc>>,
    /// Open invoices nobody has confirmed the customer received (empty when the stage is off).
    pub unconfirmed: Vec<crate::store::confirm_receipt::Unconfirmed>,
    /// Late fees and interest owed per account code (empty without a fee policy).
    pub late_fees: Vec<(String, Vec<crate::domain::money::Money>)>,
}

/// Loads the snapshot for `as_of` (promises from 30 days back, for "broken since").
pub async fn load(
    conn: &mut PgConnection,
    settings: &Settings,
    as_of: NaiveDate,
) -> Result<Snapshot, sqlx::Error> {
    let due_soon_until = settings
        .calendar
        .add_business_days(as_of, settings.due_soon_days);
    let accounts = snapshot::accounts(conn, as_of, due_soon_until, None).await?;
    let late_fees = late_fees_by_account(conn, settings, &accounts, as_of).await?;
    Ok(Snapshot {
        accounts,
        late_fees,
        promises: snapshot::promises(conn, as_of - chrono::Days::new(30), None).await?,
        offers: offers_waiting(conn, settings).await?,
        flags: snapshot::open_flags(conn).await?,
        callbacks: crate::store::calls::callbacks_due(conn, as_of).await?,
        undelivered: crate::store::outbox::dead_count(conn).await?,
        ledger_as_of: crate::store::stripe::ledger_freshness(conn).await?,
        unconfirmed: confirm_receipt::load(conn, settings, as_of).await?,
    })
}

/// Offers waiting for a decision; one with approvals already given says what is still needed.
async fn offers_waiting(
    conn: &mut PgConnection,
    settings: &Settings,
) -> Result<Vec<snapshot::OfferLine>, sqlx::Error> {
    use crate::domain::approval::share;
    let mut offers = snapshot::proposed_offers(conn).await?;
    for o in offers.iter_mut().filter(|o| o.approved_by.is_some()) {
        let given: Vec<_> = crate::store::approvals::approvals(conn, o.id)
            .await?
            .into_iter()
            .map(|a| a.given)
            .collect();
        let basis = o.measured_balance_minor.unwrap_or(o.balance_minor);
        let tier = settings
            .policy
            .settlement_approval
            .tier(share(o.amount_minor, basis));
        o.waiting = Some(tier.progress(&given).describe());
    }
    Ok(offers)
}

/// What the fee policy charges per account as of `as_of`, largest first (no query without a
/// fee policy).
async fn late_fees_by_account(
    conn: &mut PgConnection,
    settings: &Settings,
    accounts: &[snapshot::AccountAgg],
    as_of: NaiveDate,
) -> Result<Vec<(String, Vec<crate::domain::money::Money>)>, sqlx::Error> {
    use crate::store::late_fees;
    if !settings.late_fees.is_active() {
        return Ok(vec![]);
    }
    let invoices = late_fees::overdue_invoices(conn, as_of).await?;
    let charges = late_fees::charges_for(conn, &settings.late_fees, &invoices, as_of).await?;
    let code: std::collections::HashMap<i64, &str> =
        accounts.iter().map(|a| (a.id, a.code.as_str())).collect();
    let mut by: std::collections::BTreeMap<&str, Vec<late_fees::InvoiceCharges>> =
        Default::default();
    for (inv, c) in invoices.iter().zip(charges) {
        if let Some(code) = code.get(&inv.account_id) {
            by.entry(code).or_default().push(c);
        }
    }
    let mut out: Vec<(String, Vec<crate::domain::money::Money>)> = by
        .into_iter()
        .map(|(code, c)| (code.to_string(), late_fees::totals(&c)))
        .filter(|(_, t)| !t.is_empty())
        .collect();
    out.sort_by(|a, b| {
        let top = |t: &[crate::domain::money::Money]| t.iter().map(|m| m.minor).max();
        top(&b.1).cmp(&top(&a.1)).then_with(|| a.0.cmp(&b.0))
    });
    Ok(out)
}
