//! Builds the digest structure from a snapshot. Pure.
use super::Snapshot;
use super::assess::{Standing, assess, promise_status};
use crate::config::Settings;
use crate::domain::aging::Bucket;
use crate::domain::money::{Currency, Money};
use crate::domain::policy::{Pause, Stage};
use crate::domain::promise::{self, PromiseStatus};
use crate::store::snapshot::{AccountAgg, FlagLine, OfferLine, PromiseFacts};
use chrono::NaiveDate;
use std::collections::{BTreeMap, HashMap};

/// The top entries of a ranked list, and how many more there were.
#[derive(Debug, Clone, Default)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub more: usize,
}

impl<T> Listed<T> {
    fn top(mut all: Vec<T>, n: usize) -> Listed<T> {
        let more = all.len().saturating_sub(n);
        all.truncate(n);
        Listed { items: all, more }
    }
    pub fn total(&self) -> usize {
        self.items.len() + self.more
    }
}

#[derive(Debug, Clone)]
pub struct AccountLine {
    pub code: String,
    pub name: String,
    pub owner: Option<String>,
    pub balance: Money,
    /// Overdue part (or, in "due soon", the part falling due).
    pub amount: Money,
    pub days_past_due: i64,
    pub stage: Option<Stage>,
    pub paused: Option<Pause>,
    pub priority: u32,
    pub do_not_contact: bool,
    pub next_due: Option<NaiveDate>,
}

#[derive(Debug, Clone)]
pub struct CurrencyTotals {
    pub currency: Currency,
    /// Per bucket, in `Bucket::ALL` order.
    pub buckets: [i64; 5],
    pub total: i64,
    pub accounts: usize,
}

#[derive(Debug, Clone)]
pub struct BucketGroup {
    pub bucket: Bucket,
    pub totals: Vec<Money>,
    pub accounts: Listed<AccountLine>,
}

#[derive(Debug, Clone)]
pub struct Escalation {
    pub line: AccountLine,
    pub stage: Stage,
}

#[derive(Debug, Clone)]
pub struct PromiseLine {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub amount: Money,
    pub promised_for: NaiveDate,
    pub logged_by: String,
}

#[derive(Debug, Clone)]
pub struct Digest {
    pub as_of: NaiveDate,
    pub late: bool,
    pub totals: Vec<CurrencyTotals>,
    pub due_soon: Listed<AccountLine>,
    pub overdue: Vec<BucketGroup>,
    pub promises_due: Vec<PromiseLine>,
    pub promises_broken: Vec<PromiseLine>,
    pub escalations: Listed<Escalation>,
    pub offers: Vec<OfferLine>,
    pub flags: Vec<FlagLine>,
    /// Outbox messages given up on (dead).
    pub undelivered: i64,
}

pub(crate) fn money(minor: i64, code: &str) -> Money {
    // The ledger only holds currencies that parsed on the way in.
    Money::new(
        minor,
        Currency::parse(code).unwrap_or_else(|_| Currency::parse("USD").expect("USD is known")),
    )
}

fn line(a: &AccountAgg, st: &Standing, amount: i64) -> AccountLine {
    AccountLine {
        code: a.code.clone(),
        name: a.name.clone(),
        owner: a.owner.clone(),
        balance: money(a.balance_minor, &a.currency),
        amount: money(amount, &a.currency),
        days_past_due: st.days_past_due,
        stage: st.view.as_ref().and_then(|v| v.stage),
        paused: st.paused,
        priority: st.priority,
        do_not_contact: a.do_not_contact,
        next_due: a.next_due,
    }
}

fn promise_line(p: &PromiseFacts) -> PromiseLine {
    PromiseLine {
        id: p.id,
        code: p.code.clone(),
        name: p.name.clone(),
        amount: money(p.amount_minor, &p.currency),
        promised_for: p.promised_for,
        logged_by: p.logged_by.clone(),
    }
}

/// `since`: the date of the previous digest for this channel (promises broken after it are
/// listed); `None` means the previous business day.
pub fn build(
    snap: &Snapshot,
    s: &Settings,
    as_of: NaiveDate,
    since: Option<NaiveDate>,
    late: bool,
) -> Digest {
    let since = since.unwrap_or_else(|| s.calendar.add_business_days(as_of, -1));
    let mut by_account: HashMap<i64, Vec<&PromiseFacts>> = HashMap::new();
    for p in &snap.promises {
        by_account.entry(p.account_id).or_default().push(p);
    }
    let mut totals: BTreeMap<String, CurrencyTotals> = BTreeMap::new();
    let mut due_soon = Vec::new();
    let mut overdue: BTreeMap<Bucket, Vec<AccountLine>> = BTreeMap::new();
    let mut escalations = Vec::new();
    for a in &snap.accounts {
        let promises = by_account.get(&a.id).map(Vec::as_slice).unwrap_or(&[]);
        let st = assess(a, promises, s, as_of);
        let t = totals
            .entry(a.currency.clone())
            .or_insert_with(|| CurrencyTotals {
                currency: money(0, &a.currency).currency,
                buckets: [0; 5],
                total: 0,
                accounts: 0,
            });
        for (slot, v) in t.buckets.iter_mut().zip(a.buckets()) {
            *slot += v;
        }
        t.total += a.balance_minor;
        t.accounts += 1;
        if a.due_soon_count > 0 {
            due_soon.push(line(a, &st, a.due_soon_minor));
        }
        if st.overdue_minor > 0 {
            overdue
                .entry(st.bucket)
                .or_default()
                .push(line(a, &st, st.overdue_minor));
        }
        if st.paused.is_none()
            && let Some(stage) = st.view.as_ref().and_then(|v| v.stage)
            && stage.needs_person()
            && !(stage == Stage::ManagementCall && a.open_flag)
        {
            escalations.push(Escalation {
                line: line(a, &st, st.overdue_minor),
                stage,
            });
        }
    }
    let n = s.digest_top;
    let by_priority = |x: &AccountLine, y: &AccountLine| {
        y.priority
            .cmp(&x.priority)
            .then_with(|| x.code.cmp(&y.code))
    };
    due_soon.sort_by(|x, y| x.next_due.cmp(&y.next_due).then_with(|| by_priority(x, y)));
    escalations.sort_by(|x, y| {
        y.stage
            .cmp(&x.stage)
            .then_with(|| by_priority(&x.line, &y.line))
    });
    let overdue = overdue
        .into_iter()
        .rev()
        .map(|(bucket, mut lines)| {
            lines.sort_by(by_priority);
            let mut sums: BTreeMap<Currency, i64> = BTreeMap::new();
            for l in &lines {
                *sums.entry(l.amount.currency).or_default() += l.amount.minor;
            }
            BucketGroup {
                bucket,
                totals: sums.into_iter().map(|(c, m)| Money::new(m, c)).collect(),
                accounts: Listed::top(lines, n),
            }
        })
        .collect();
    let mut promises_due = Vec::new();
    let mut promises_broken = Vec::new();
    for p in &snap.promises {
        let status = promise_status(p, s, as_of);
        if status == PromiseStatus::Pending && p.promised_for == as_of {
            promises_due.push(promise_line(p));
        }
        if status == PromiseStatus::Broken {
            let broken_on = promise::deadline(&s.calendar, p.promised_for, s.promise_grace_days)
                .succ_opt()
                .unwrap_or(as_of);
            if broken_on > since && broken_on <= as_of {
                promises_broken.push(promise_line(p));
            }
        }
    }
    Digest {
        as_of,
        late,
        totals: totals.into_values().collect(),
        due_soon: Listed::top(due_soon, n),
        overdue,
        promises_due,
        promises_broken,
        escalations: Listed::top(escalations, n),
        offers: snap.offers.clone(),
        flags: snap.flags.clone(),
        undelivered: snap.undelivered,
    }
}
