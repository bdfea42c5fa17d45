//! The daily digest: built for an as-of date from a snapshot of the ledger, platform-neutral.
mod assess;
mod build;
mod callbacks;
pub mod confirm_receipt;
mod plans;
mod render;

pub use assess::{Standing, assess, promise_pause};
pub use build::{
    AccountLine, BucketGroup, CurrencyTotals, Digest, Escalation, Fold, Freshness, LineActions,
    Listed, PromiseLine, build, freshness, line_actions, promise_line,
};
pub use callbacks::log_call_button;
pub use plans::{PlanLine, broken_plan_buttons};
pub use render::{account_buttons, broken_promise_buttons, buttons_for, decision_buttons, render};

use crate::config::Settings;
use crate::domain::money::Money;
use crate::store::snapshot;
use chrono::NaiveDate;
use sqlx::PgConnection;

/// How many accounts' late fees the digest names (the rest are counted).
pub const LATE_FEES_SHOWN: usize = 10;

/// Everything the digest reads, loaded in a few queries.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Every account with a balance: only `load` fills it; `compute` streams them instead.
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
    pub unconfirmed: Listed<crate::store::confirm_receipt::Unconfirmed>,
    /// Late fees and interest owed per account code, largest first: the first
    /// `LATE_FEES_SHOWN` and how many more (none without a fee policy).
    pub late_fees: Listed<(String, Vec<Money>)>,
}

/// Loads the snapshot for `as_of` with every account in memory (for tests and tools that look
/// at accounts one by one); the digest itself goes through `compute`, which does not.
pub async fn load(
    conn: &mut PgConnection,
    settings: &Settings,
    as_of: NaiveDate,
) -> Result<Snapshot, sqlx::Error> {
    let mut snap = load_context(conn, settings, as_of).await?;
    let due_soon_until = due_soon_until(settings, as_of);
    snap.accounts = snapshot::accounts(conn, as_of, due_soon_until, None).await?;
    Ok(snap)
}

/// The digest for `as_of` (see `build` for `since` and `late`), with memory bounded by what it
/// shows rather than by the portfolio: the accounts are streamed from the database and folded
/// one at a time into running totals and the top of each section.
pub async fn compute(
    conn: &mut PgConnection,
    settings: &Settings,
    as_of: NaiveDate,
    since: Option<NaiveDate>,
    late: bool,
) -> Result<Digest, sqlx::Error> {
    let snap = load_context(conn, settings, as_of).await?;
    let mut fold = Fold::new(&snap, settings, as_of, since);
    let until = due_soon_until(settings, as_of);
    snapshot::each_account(conn, as_of, until, |a| fold.add(a)).await?;
    Ok(fold.finish(late))
}

fn due_soon_until(settings: &Settings, as_of: NaiveDate) -> NaiveDate {
    settings
        .calendar
        .add_business_days(as_of, settings.due_soon_days)
}

/// Everything but the accounts (promises from 30 days back, for "broken since").
async fn load_context(
    conn: &mut PgConnection,
    settings: &Settings,
    as_of: NaiveDate,
) -> Result<Snapshot, sqlx::Error> {
    Ok(Snapshot {
        accounts: vec![],
        late_fees: late_fees_by_account(conn, settings, as_of).await?,
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

/// Accounts per page when walking the overdue invoices for late fees.
const LATE_FEE_PAGE: i64 = 2_000;

/// What the fee policy charges per account with a balance as of `as_of`, largest first (no
/// query without a fee policy). Walks the overdue invoices a page of accounts at a time and
/// keeps only the accounts shown.
async fn late_fees_by_account(
    conn: &mut PgConnection,
    settings: &Settings,
    as_of: NaiveDate,
) -> Result<Listed<(String, Vec<Money>)>, sqlx::Error> {
    use crate::store::late_fees;
    let mut top = build::Top::new(LATE_FEES_SHOWN, build::by_largest_fee);
    if !settings.late_fees.is_active() {
        return Ok(top.finish());
    }
    let mut after = 0;
    loop {
        let page = late_fees::overdue_invoices_page(conn, as_of, after, LATE_FEE_PAGE).await?;
        let Some(last) = page.last() else {
            break;
        };
        after = last.invoice.account_id;
        let invoices: Vec<_> = page.iter().map(|c| c.invoice.clone()).collect();
        let mut charges = late_fees::charges_for(conn, &settings.late_fees, &invoices, as_of)
            .await?
            .into_iter();
        for account in page.chunk_by(|x, y| x.invoice.account_id == y.invoice.account_id) {
            let mine: Vec<_> = charges.by_ref().take(account.len()).collect();
            let totals = late_fees::totals(&mine);
            if !totals.is_empty() {
                top.push((account[0].code.clone(), totals));
            }
        }
    }
    Ok(top.finish())
}
