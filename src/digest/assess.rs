//! One account's standing on a date: its stage under the policy, why chasing is paused, and
//! its priority. Pure: the digest, the account card and the automatic plan all use it.
use crate::config::Settings;
use crate::domain::aging::{Bucket, days_past_due};
use crate::domain::money::Currency;
use crate::domain::policy::{Pause, Stage, StageView, TrackRecord};
use crate::domain::priority::{PriorityInput, score};
use crate::domain::promise::{self, PromiseFacts, PromiseStatus};
use crate::store::snapshot::{AccountAgg, PromiseFacts as PromiseRow};
use chrono::NaiveDate;
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct Standing {
    pub view: Option<StageView>,
    /// The stage to show, on the card and in the digest alike: the policy's, except that a
    /// referred account is at the agency stage however its open invoices stand.
    pub stage: Option<Stage>,
    pub paused: Option<Pause>,
    pub track: TrackRecord,
    pub days_past_due: i64,
    pub bucket: Bucket,
    pub priority: u32,
    pub overdue_minor: i64,
}

fn facts(p: &PromiseRow) -> PromiseFacts {
    PromiseFacts {
        amount_minor: p.amount_minor,
        promised_for: p.promised_for,
        logged_on: p.logged_on,
    }
}

/// A promise's status on `as_of` (computed afresh, not the stored status).
pub fn promise_status(p: &PromiseRow, s: &Settings, as_of: NaiveDate) -> PromiseStatus {
    if p.logged_on > as_of {
        return PromiseStatus::Pending;
    }
    promise::evaluate(
        &facts(p),
        &p.payments(),
        &s.calendar,
        s.promise_grace_days,
        as_of,
    )
}

/// The pause an active promise puts on the account, if any.
pub fn promise_pause(promises: &[&PromiseRow], s: &Settings, as_of: NaiveDate) -> Option<Pause> {
    promises
        .iter()
        .filter(|p| p.logged_on <= as_of && promise_status(p, s, as_of) == PromiseStatus::Pending)
        .map(|p| promise::deadline(&s.calendar, p.promised_for, s.promise_grace_days))
        .max()
        .map(|until| Pause::Promise { until })
}

/// `promises` are the account's own.
pub fn assess(
    a: &AccountAgg,
    promises: &[&PromiseRow],
    s: &Settings,
    as_of: NaiveDate,
) -> Standing {
    assess_by(a, promises, s, as_of, |track, due, paused| {
        s.policy.evaluate(&s.calendar, track, due, as_of, paused)
    })
}

/// The policy's stage views already worked out for `as_of`, by plan (repeat or not) and
/// oldest due date: the digest assesses every account with a balance, and they share a few
/// hundred due dates, so each view is walked through the calendar once.
pub type StageViews = HashMap<(bool, NaiveDate), StageView>;

/// `assess`, remembering the stage views in `views` (which must be for the same settings
/// and `as_of`).
pub fn assess_remembering(
    a: &AccountAgg,
    promises: &[&PromiseRow],
    s: &Settings,
    as_of: NaiveDate,
    views: &mut StageViews,
) -> Standing {
    assess_by(a, promises, s, as_of, |track, due, paused| {
        // The pause only passes through the view.
        let view = views
            .entry((track.is_repeat(), due))
            .or_insert_with(|| s.policy.evaluate(&s.calendar, track, due, as_of, None));
        StageView {
            paused,
            ..view.clone()
        }
    })
}

fn assess_by(
    a: &AccountAgg,
    promises: &[&PromiseRow],
    s: &Settings,
    as_of: NaiveDate,
    view_of: impl FnOnce(&TrackRecord, NaiveDate, Option<Pause>) -> StageView,
) -> Standing {
    let evaluated_broken = promises
        .iter()
        .filter(|p| p.status == "pending" && promise_status(p, s, as_of) == PromiseStatus::Broken)
        .count() as u32;
    let track = TrackRecord {
        past_delinquencies: a.late_paid as u32,
        broken_promises: a.broken_promises as u32 + evaluated_broken,
    };
    let paused = if a.with_agency_minor > 0 {
        Some(Pause::WithAgency)
    } else if a.held && a.hold_until.is_none_or(|u| u >= as_of) {
        Some(Pause::Hold {
            until: a.hold_until,
        })
    } else if let Some(p) = promise_pause(promises, s, as_of) {
        Some(p)
    } else if a.oldest_chased_due.is_none() && a.disputed_minor > 0 {
        Some(Pause::Dispute)
    } else {
        None
    };
    let view = a.oldest_chased_due.map(|due| view_of(&track, due, paused));
    let dpd = a
        .oldest_chased_due
        .map(|d| days_past_due(d, as_of))
        .unwrap_or(0)
        .max(0);
    let exponent = Currency::parse(&a.currency)
        .map(|c| c.exponent())
        .unwrap_or(2);
    let overdue_minor = a.b_1_30 + a.b_31_60 + a.b_61_90 + a.b_90_plus;
    let stage = if a.referred || a.with_agency_minor > 0 {
        Some(Stage::AgencyReferral)
    } else {
        view.as_ref().and_then(|v| v.stage)
    };
    Standing {
        view,
        stage,
        paused,
        track,
        days_past_due: dpd,
        // Chasing looks at open invoices only, but an account whose overdue invoices are all
        // disputed or with an agency still ages: its bucket is where the oldest money sits.
        bucket: Bucket::oldest_past_due(a.buckets()).unwrap_or(Bucket::for_days_past_due(dpd)),
        priority: score(&PriorityInput {
            balance_minor: a.balance_minor,
            exponent,
            days_past_due: dpd,
            track,
        }),
        overdue_minor,
    }
}
