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
    PromiseLine, build, freshness, line_actions,
};
pub use callbacks::log_call_button;
pub use plans::{PlanLine, broken_plan_buttons};
pub use render::{account_buttons, buttons_for, decision_buttons, render};

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
    Ok(Snapshot {
        accounts: snapshot::accounts(conn, as_of, due_soon_until, None).await?,
        promises: snapshot::promises(conn, as_of - chrono::Days::new(30), None).await?,
        offers: snapshot::proposed_offers(conn).await?,
        flags: snapshot::open_flags(conn).await?,
        callbacks: crate::store::calls::callbacks_due(conn, as_of).await?,
        undelivered: crate::store::outbox::dead_count(conn).await?,
        ledger_as_of: crate::store::stripe::ledger_freshness(conn).await?,
        unconfirmed: confirm_receipt::load(conn, settings, as_of).await?,
    })
}
