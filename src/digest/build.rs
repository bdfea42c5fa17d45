//! Builds the digest structure from a snapshot. Pure.
use super::Snapshot;
use super::assess::{StageViews, Standing, assess_remembering, promise_pause, promise_status};
use super::plans::PlanLine;
use crate::config::Settings;
use crate::domain::aging::Bucket;
use crate::domain::dates::days_since;
use crate::domain::money::{Currency, Money};
use crate::domain::policy::{Pause, Stage};
use crate::domain::promise::{self, PromiseStatus};
use crate::domain::reminder::{ReminderFacts, reminder_refusal};
use crate::store::snapshot::{AccountAgg, FlagLine, OfferLine, PromiseFacts};
use chrono::NaiveDate;
use chrono::{DateTime, Utc};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};

/// The top entries of a ranked list, and how many more there were.
#[derive(Debug, Clone)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub more: usize,
}

impl<T> Default for Listed<T> {
    fn default() -> Self {
        Listed {
            items: Vec::new(),
            more: 0,
        }
    }
}

impl<T> Listed<T> {
    pub(super) fn top(mut all: Vec<T>, n: usize) -> Listed<T> {
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
    /// The buttons its commands would not refuse.
    pub actions: LineActions,
}

/// Which of an account's buttons apply: each follows the rule its command refuses by, so a
/// button never offers what pressing it could only have refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LineActions {
    /// `ar remind` would queue a reminder (see `domain::reminder`).
    pub remind: bool,
    /// `ar promise`: there is a balance to promise.
    pub promise: bool,
    /// `ar flag`: no management-call flag is open yet.
    pub flag: bool,
}

/// The buttons for one account, from the same facts `ar remind`, `ar promise` and `ar flag`
/// check; `promises` are the account's own.
pub fn line_actions(
    a: &AccountAgg,
    promises: &[&PromiseFacts],
    s: &Settings,
    as_of: NaiveDate,
) -> LineActions {
    let facts = ReminderFacts {
        do_not_contact: a.do_not_contact,
        with_agency: a.referred,
        open_invoices: a.oldest_chased_due.is_some(),
        disputed_invoices: a.disputed_minor > 0,
        promised_until: match promise_pause(promises, s, as_of) {
            Some(Pause::Promise { until }) => Some(until),
            _ => None,
        },
        days_since_last: a
            .last_reminder_at
            .map(|at| days_since(at, as_of, s.time_zone)),
    };
    LineActions {
        remind: reminder_refusal(&facts, s.reminder_cooldown_days, false).is_none(),
        promise: a.balance_minor > 0,
        flag: !a.open_flag,
    }
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
    /// Every overdue account in the bucket: its money and how many.
    pub totals: Vec<Money>,
    pub count: usize,
    /// Every account in the bucket, by priority (the aging report).
    pub ranked: Listed<AccountLine>,
    /// Those not already listed in a more urgent section of the digest.
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
    pub actions: LineActions,
    /// What is still owed of it: the promised amount less payments since it was logged.
    pub owed: Money,
    /// The account's stage, for the broken promise's Escalate button.
    pub stage: Option<Stage>,
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
    /// Payment plans whose installment was missed since the last digest.
    pub plans_broken: Vec<PlanLine>,
    pub escalations: Listed<Escalation>,
    pub offers: Vec<OfferLine>,
    pub flags: Vec<FlagLine>,
    /// Call-backs agreed for this day.
    pub callbacks: Vec<crate::store::calls::Callback>,
    /// Outbox messages given up on (dead).
    pub undelivered: i64,
    /// How fresh the ledger is; `None` when nothing was ever synced or imported.
    pub freshness: Option<Freshness>,
    /// Invoices to confirm the customer received (stage 2).
    pub confirm: Listed<super::confirm_receipt::ConfirmTask>,
    /// Late fees and interest owed per account code, largest first (none without a policy).
    pub late_fees: Listed<(String, Vec<Money>)>,
}

/// "payments as of 07:58", and whether that is older than a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Freshness {
    pub text: String,
    pub stale: bool,
}

/// The ledger's freshness for a digest of `as_of` (company time zone): the time alone when
/// it is from that day, else the date too; stale when it is from before the day before.
pub fn freshness(
    last: Option<DateTime<Utc>>,
    tz: chrono_tz::Tz,
    as_of: NaiveDate,
) -> Option<Freshness> {
    let local = last?.with_timezone(&tz);
    let day = local.date_naive();
    let text = if day == as_of {
        format!("payments as of {}", local.format("%H:%M"))
    } else {
        format!("payments as of {}", local.format("%Y-%m-%d %H:%M"))
    };
    Some(Freshness {
        text,
        stale: day < as_of - chrono::Days::new(1),
    })
}

pub(crate) fn money(minor: i64, code: &str) -> Money {
    // The ledger only holds currencies that parsed on the way in.
    Money::new(
        minor,
        Currency::parse(code).unwrap_or_else(|_| Currency::parse("USD").expect("USD is known")),
    )
}

fn line(a: &AccountAgg, st: &Standing, actions: LineActions, amount: i64) -> AccountLine {
    AccountLine {
        code: a.code.clone(),
        name: a.name.clone(),
        owner: a.owner.clone(),
        balance: money(a.balance_minor, &a.currency),
        amount: money(amount, &a.currency),
        days_past_due: st.days_past_due,
        stage: st.stage,
        paused: st.paused,
        priority: st.priority,
        do_not_contact: a.do_not_contact,
        next_due: a.next_due,
        actions,
    }
}

/// A promise as the digest lists it, with what is still owed of it.
pub fn promise_line(p: &PromiseFacts, actions: LineActions, stage: Option<Stage>) -> PromiseLine {
    let paid: i64 = p.paid_minor.iter().sum();
    PromiseLine {
        owed: money((p.amount_minor - paid).max(0), &p.currency),
        stage,
        id: p.id,
        code: p.code.clone(),
        name: p.name.clone(),
        amount: money(p.amount_minor, &p.currency),
        promised_for: p.promised_for,
        logged_by: p.logged_by.clone(),
        actions,
    }
}

/// `since`: the date of the previous digest for this channel (promises broken after it are
/// listed); `None` means the previous business day.
///
/// Each account is listed once, in its most urgent section: a broken promise, then ready to
/// escalate, then a promise due today, then its aging bucket (oldest first), then due soon.
/// The totals and the buckets' sums still count every account.
pub fn build(
    snap: &Snapshot,
    s: &Settings,
    as_of: NaiveDate,
    since: Option<NaiveDate>,
    late: bool,
) -> Digest {
    let mut fold = Fold::new(snap, s, as_of, since);
    for a in &snap.accounts {
        fold.add(a);
    }
    fold.finish(late)
}

/// The first `n` of a ranking fed one item at a time, and how many were fed: a digest section
/// in memory bounded by what it shows, not by the portfolio. Keeps exactly what a stable sort
/// of everything fed, cut to `n`, would keep.
pub(super) struct Top<T> {
    n: usize,
    cmp: fn(&T, &T) -> Ordering,
    items: Vec<T>,
    /// Once trimmed, `items[n - 1]` is the last kept: anything not ranked before it is out.
    full: bool,
    fed: usize,
}

impl<T> Top<T> {
    pub(super) fn new(n: usize, cmp: fn(&T, &T) -> Ordering) -> Top<T> {
        Top {
            n,
            cmp,
            items: Vec::new(),
            full: false,
            fed: 0,
        }
    }

    /// Whether `item` would be kept so far (a later item that ties it ranks after it).
    pub(super) fn admits(&self, item: &T) -> bool {
        self.admits_by(|last| (self.cmp)(item, last))
    }

    /// `admits` for an item not built yet: `ahead(last)` ranks it against the last one kept.
    fn admits_by(&self, ahead: impl FnOnce(&T) -> Ordering) -> bool {
        self.n > 0 && (!self.full || ahead(&self.items[self.n - 1]) == Ordering::Less)
    }

    /// `push` for an item built only if it would be kept (see `admits_by`): most accounts
    /// make no section's top, and building their lines showed in the digest's time.
    fn push_lazy(&mut self, ahead: impl FnOnce(&T) -> Ordering, make: impl FnOnce() -> T) {
        if self.admits_by(ahead) {
            self.push(make());
        } else {
            self.count();
        }
    }

    pub(super) fn push(&mut self, item: T) {
        self.fed += 1;
        if !self.admits(&item) {
            return;
        }
        self.items.push(item);
        if self.items.len() >= 2 * self.n {
            self.trim();
        }
    }

    /// Counts an item without keeping it (the caller knows `admits` is false).
    fn count(&mut self) {
        self.fed += 1;
    }

    pub(super) fn trim(&mut self) {
        self.items.sort_by(self.cmp);
        self.items.truncate(self.n);
        self.full = self.items.len() == self.n;
    }

    pub(super) fn finish(mut self) -> Listed<T> {
        self.trim();
        let more = self.fed - self.items.len();
        Listed {
            items: self.items,
            more,
        }
    }
}

/// Late fees: the largest single-currency amount first, then by code.
pub(super) fn by_largest_fee(a: &(String, Vec<Money>), b: &(String, Vec<Money>)) -> Ordering {
    let top = |t: &[Money]| t.iter().map(|m| m.minor).max();
    top(&b.1).cmp(&top(&a.1)).then_with(|| a.0.cmp(&b.0))
}

/// What the sections rank an account by, borrowed: an account row's rank is known before
/// its line is built.
#[derive(Clone, Copy)]
struct Rank<'a> {
    priority: u32,
    code: &'a str,
    next_due: Option<NaiveDate>,
}

impl AccountLine {
    fn rank(&self) -> Rank<'_> {
        Rank {
            priority: self.priority,
            code: &self.code,
            next_due: self.next_due,
        }
    }
}

/// Highest priority first, then by code (codes are unique, so the order is total).
fn rank_by_priority(x: Rank, y: Rank) -> Ordering {
    y.priority.cmp(&x.priority).then_with(|| x.code.cmp(y.code))
}

fn rank_by_next_due(x: Rank, y: Rank) -> Ordering {
    x.next_due
        .cmp(&y.next_due)
        .then_with(|| rank_by_priority(x, y))
}

fn rank_by_stage(x: (Stage, Rank), y: (Stage, Rank)) -> Ordering {
    y.0.cmp(&x.0).then_with(|| rank_by_priority(x.1, y.1))
}

fn by_priority(x: &AccountLine, y: &AccountLine) -> Ordering {
    rank_by_priority(x.rank(), y.rank())
}

fn by_next_due(x: &AccountLine, y: &AccountLine) -> Ordering {
    rank_by_next_due(x.rank(), y.rank())
}

fn by_stage(x: &Escalation, y: &Escalation) -> Ordering {
    rank_by_stage((x.stage, x.line.rank()), (y.stage, y.line.rank()))
}

/// One aging bucket as the accounts go by: its sums and count over every overdue account,
/// the top of all of them (the aging report) and of those it lists.
struct BucketFold {
    sums: BTreeMap<Currency, i64>,
    count: usize,
    ranked: Top<AccountLine>,
    listed: Top<AccountLine>,
}

/// What an account with promises looked like, for its broken promise's or plan's line.
struct Seen {
    actions: LineActions,
    stage: Option<Stage>,
    owner: Option<String>,
    balance_minor: i64,
}

/// The digest built one account at a time (`add`), so the accounts can be streamed from the
/// database: running totals per currency and bucket, and a bounded `Top` per section. Only
/// the promises (few) are held whole; they decide up front which accounts a broken promise or
/// a promise due today lists elsewhere.
pub struct Fold<'a> {
    snap: &'a Snapshot,
    s: &'a Settings,
    as_of: NaiveDate,
    promises_of: HashMap<i64, Vec<&'a PromiseFacts>>,
    /// Broken promises and missed installments to list, in the promises' order, one per
    /// account; `true` for a plan's installment.
    broken: Vec<(&'a PromiseFacts, bool)>,
    broken_accounts: HashSet<i64>,
    due: Vec<&'a PromiseFacts>,
    due_accounts: HashSet<i64>,
    seen: HashMap<i64, Seen>,
    views: StageViews,
    totals: BTreeMap<String, CurrencyTotals>,
    buckets: BTreeMap<Bucket, BucketFold>,
    escalations: Top<Escalation>,
    due_soon: Top<AccountLine>,
}

impl<'a> Fold<'a> {
    /// Everything in `snap` but its accounts, which come through `add`.
    pub fn new(
        snap: &'a Snapshot,
        s: &'a Settings,
        as_of: NaiveDate,
        since: Option<NaiveDate>,
    ) -> Fold<'a> {
        let since = since.unwrap_or_else(|| s.calendar.add_business_days(as_of, -1));
        let mut promises_of: HashMap<i64, Vec<&PromiseFacts>> = HashMap::new();
        for p in &snap.promises {
            promises_of.entry(p.account_id).or_default().push(p);
        }
        let mut broken = Vec::new();
        let mut broken_accounts = HashSet::new();
        for p in &snap.promises {
            if promise_status(p, s, as_of) != PromiseStatus::Broken {
                continue;
            }
            let broken_on = promise::deadline(&s.calendar, p.promised_for, s.promise_grace_days)
                .succ_opt()
                .unwrap_or(as_of);
            if broken_on <= since || broken_on > as_of {
                continue;
            }
            // A payment plan's missed installment is listed as a broken plan, not a promise.
            if broken_accounts.insert(p.account_id) {
                broken.push((p, p.plan_id.is_some()));
            }
        }
        let mut due = Vec::new();
        let mut due_accounts = HashSet::new();
        for p in &snap.promises {
            if p.promised_for == as_of
                && p.plan_id.is_none()
                && promise_status(p, s, as_of) == PromiseStatus::Pending
                && !broken_accounts.contains(&p.account_id)
                && due_accounts.insert(p.account_id)
            {
                due.push(p);
            }
        }
        let n = s.digest_top;
        Fold {
            snap,
            s,
            as_of,
            promises_of,
            broken,
            broken_accounts,
            due,
            due_accounts,
            seen: HashMap::new(),
            views: StageViews::new(),
            totals: BTreeMap::new(),
            buckets: BTreeMap::new(),
            escalations: Top::new(n, by_stage),
            due_soon: Top::new(n, by_next_due),
        }
    }

    /// Counts one account with a balance and lists it where it belongs, if it makes the top.
    pub fn add(&mut self, a: &AccountAgg) {
        let (s, as_of) = (self.s, self.as_of);
        let promises = self
            .promises_of
            .get(&a.id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let st = assess_remembering(a, promises, s, as_of, &mut self.views);
        let actions = line_actions(a, promises, s, as_of);
        if !promises.is_empty() {
            self.seen.insert(
                a.id,
                Seen {
                    actions,
                    stage: st.stage,
                    owner: a.owner.clone(),
                    balance_minor: a.balance_minor,
                },
            );
        }
        if !self.totals.contains_key(&a.currency) {
            let totals = CurrencyTotals {
                currency: money(0, &a.currency).currency,
                buckets: [0; 5],
                total: 0,
                accounts: 0,
            };
            self.totals.insert(a.currency.clone(), totals);
        }
        let t = self.totals.get_mut(&a.currency).expect("inserted above");
        for (slot, v) in t.buckets.iter_mut().zip(a.buckets()) {
            *slot += v;
        }
        t.total += a.balance_minor;
        t.accounts += 1;
        let currency = t.currency;

        let n = s.digest_top;
        let rank = Rank {
            priority: st.priority,
            code: &a.code,
            next_due: a.next_due,
        };
        let by_rank = |last: &AccountLine| rank_by_priority(rank, last.rank());
        let overdue_line = || line(a, &st, actions, st.overdue_minor);
        if st.overdue_minor > 0 {
            let b = self.buckets.entry(st.bucket).or_insert_with(|| BucketFold {
                sums: BTreeMap::new(),
                count: 0,
                ranked: Top::new(n, by_priority),
                listed: Top::new(n, by_priority),
            });
            *b.sums.entry(currency).or_default() += st.overdue_minor;
            b.count += 1;
            b.ranked.push_lazy(by_rank, overdue_line);
        }
        if self.broken_accounts.contains(&a.id) {
            return;
        }
        if st.paused.is_none()
            && let Some(stage) = st.stage
            && stage.needs_person()
            && !(stage == Stage::ManagementCall && a.open_flag)
        {
            self.escalations.push_lazy(
                |last| rank_by_stage((stage, rank), (last.stage, last.line.rank())),
                || Escalation {
                    line: overdue_line(),
                    stage,
                },
            );
            return;
        }
        if self.due_accounts.contains(&a.id) {
            return;
        }
        if st.overdue_minor > 0 {
            if let Some(b) = self.buckets.get_mut(&st.bucket) {
                b.listed.push_lazy(by_rank, overdue_line);
            }
        } else if a.due_soon_count > 0 {
            self.due_soon.push_lazy(
                |last| rank_by_next_due(rank, last.rank()),
                || line(a, &st, actions, a.due_soon_minor),
            );
        }
    }

    /// The digest of everything added.
    pub fn finish(self, late: bool) -> Digest {
        let (snap, s, as_of) = (self.snap, self.s, self.as_of);
        let mut promises_broken = Vec::new();
        let mut plans_broken = Vec::new();
        for (p, is_plan) in &self.broken {
            let seen = self.seen.get(&p.account_id);
            if *is_plan {
                let account = seen.map(|x| (x.owner.clone(), x.balance_minor));
                plans_broken.extend(crate::digest::plans::broken_line(p, account));
            } else {
                let actions = seen.map(|x| x.actions).unwrap_or_default();
                let stage = seen.and_then(|x| x.stage);
                promises_broken.push(promise_line(p, actions, stage));
            }
        }
        let promises_due = self
            .due
            .iter()
            .map(|p| promise_line(p, LineActions::default(), None))
            .collect();
        let overdue = self
            .buckets
            .into_iter()
            .rev()
            .map(|(bucket, b)| BucketGroup {
                bucket,
                totals: b.sums.into_iter().map(|(c, m)| Money::new(m, c)).collect(),
                count: b.count,
                ranked: b.ranked.finish(),
                accounts: b.listed.finish(),
            })
            .collect();
        Digest {
            as_of,
            late,
            totals: self.totals.into_values().collect(),
            due_soon: self.due_soon.finish(),
            overdue,
            promises_due,
            promises_broken,
            plans_broken,
            escalations: self.escalations.finish(),
            offers: snap.offers.clone(),
            flags: snap.flags.clone(),
            callbacks: snap.callbacks.clone(),
            undelivered: snap.undelivered,
            freshness: freshness(snap.ledger_as_of, s.time_zone, as_of),
            confirm: super::confirm_receipt::tasks_of(&snap.unconfirmed, s, as_of, s.digest_top),
            late_fees: snap.late_fees.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::assess::assess;
    use super::*;
    use crate::store::snapshot::AccountAgg;

    fn as_of() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    /// An account owing 1,000.00 USD on one open invoice `days_late` days past due (negative:
    /// due in that many days).
    fn agg(id: i64, code: &str, days_late: i64) -> AccountAgg {
        let due = as_of() - chrono::Days::new(days_late.max(0) as u64)
            + chrono::Days::new((-days_late).max(0) as u64);
        let mut buckets = [0i64; 5];
        buckets[Bucket::ALL
            .iter()
            .position(|b| *b == Bucket::for_days_past_due(days_late))
            .unwrap()] = 100_000;
        AccountAgg {
            id,
            code: code.into(),
            name: format!("{code} Inc"),
            currency: "USD".into(),
            owner: None,
            do_not_contact: false,
            held: false,
            hold_until: None,
            balance_minor: 100_000,
            b_current: buckets[0],
            b_1_30: buckets[1],
            b_31_60: buckets[2],
            b_61_90: buckets[3],
            b_90_plus: buckets[4],
            oldest_chased_due: Some(due),
            disputed_minor: 0,
            with_agency_minor: 0,
            due_soon_minor: if days_late <= 0 { 100_000 } else { 0 },
            due_soon_count: i64::from(days_late <= 0),
            next_due: (days_late <= 0).then_some(due),
            late_paid: 0,
            broken_promises: 0,
            open_flag: false,
            referred: false,
            last_reminder_at: None,
        }
    }

    /// A promise of `id`'s account, due Wed 18 Nov and unpaid: broken on Mon 23 Nov (grace 2).
    fn broken_promise(account_id: i64, code: &str) -> PromiseFacts {
        PromiseFacts {
            id: account_id * 10,
            account_id,
            code: code.into(),
            name: format!("{code} Inc"),
            amount_minor: 50_000,
            currency: "USD".into(),
            promised_for: NaiveDate::from_ymd_opt(2026, 11, 18).unwrap(),
            logged_on: NaiveDate::from_ymd_opt(2026, 11, 10).unwrap(),
            logged_by: "maria".into(),
            status: "pending".into(),
            paid_on: vec![],
            paid_minor: vec![],
            plan_id: None,
            installment: None,
            plan_installments: None,
        }
    }

    fn snapshot(accounts: Vec<AccountAgg>, promises: Vec<PromiseFacts>) -> Snapshot {
        Snapshot {
            accounts,
            promises,
            offers: vec![],
            flags: vec![],
            callbacks: vec![],
            undelivered: 0,
            ledger_as_of: None,
            unconfirmed: Listed::default(),
            late_fees: Listed::default(),
        }
    }

    #[test]
    fn freshness_names_the_time_and_warns_after_a_day() {
        let tz = chrono_tz::Tz::UTC;
        let as_of = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let at = |d: u32, h: u32, m: u32| {
            Some(chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, d, h, m, 0).unwrap())
        };
        let f = freshness(at(23, 7, 58), tz, as_of).unwrap();
        assert_eq!((f.text.as_str(), f.stale), ("payments as of 07:58", false));
        assert!(!freshness(at(22, 9, 0), tz, as_of).unwrap().stale);
        let old = freshness(at(20, 9, 0), tz, as_of).unwrap();
        assert_eq!(
            (old.text.as_str(), old.stale),
            ("payments as of 2026-11-20 09:00", true)
        );
        assert_eq!(freshness(None, tz, as_of), None);
    }

    fn codes(lines: &[AccountLine]) -> Vec<&str> {
        lines.iter().map(|l| l.code.as_str()).collect()
    }

    #[test]
    fn each_account_is_listed_once_in_its_most_urgent_section() {
        let snap = snapshot(
            vec![
                agg(1, "LATE-130", 130),
                agg(2, "BROKE-120", 120),
                agg(3, "LATE-100", 100),
                agg(4, "LATE-10", 10),
                agg(5, "SOON-2", -2),
            ],
            vec![broken_promise(2, "BROKE-120")],
        );
        let d = build(&snap, &Settings::default(), as_of(), None, false);
        let broken: Vec<&str> = d.promises_broken.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(broken, ["BROKE-120"]);
        let escalated: Vec<&str> = d
            .escalations
            .items
            .iter()
            .map(|e| e.line.code.as_str())
            .collect();
        assert_eq!(escalated, ["LATE-130", "LATE-100"]);
        // The 90+ bucket still sums and counts all three, but lists none: all are above.
        let over90 = d
            .overdue
            .iter()
            .find(|g| g.bucket == Bucket::Over90)
            .unwrap();
        assert_eq!(over90.count, 3);
        assert_eq!(over90.totals, vec![Money::new(300_000, Currency::USD)]);
        assert_eq!(over90.accounts.total(), 0);
        assert_eq!(
            over90.ranked.total(),
            3,
            "the aging report sees every account"
        );
        let young = d
            .overdue
            .iter()
            .find(|g| g.bucket == Bucket::Days1To30)
            .unwrap();
        assert_eq!(codes(&young.accounts.items), ["LATE-10"]);
        assert_eq!(codes(&d.due_soon.items), ["SOON-2"]);
        assert_eq!(d.totals[0].accounts, 5);
    }

    #[test]
    fn a_line_offers_only_the_buttons_its_commands_would_not_refuse() {
        let mut dnc = agg(1, "QUIET-1", 10);
        dnc.do_not_contact = true;
        let mut agency = agg(2, "AGENCY-1", 10);
        agency.referred = true;
        let mut disputed = agg(3, "DISPUTE-1", 10);
        disputed.oldest_chased_due = None;
        disputed.disputed_minor = 100_000;
        let mut flagged = agg(4, "FLAG-1", 10);
        flagged.open_flag = true;
        let mut reminded = agg(5, "RECENT-1", 10);
        reminded.last_reminder_at = Some(
            as_of()
                .pred_opt()
                .unwrap()
                .and_hms_opt(15, 0, 0)
                .unwrap()
                .and_utc(),
        );
        let plain = agg(6, "PLAIN-1", 10);
        let s = Settings::default();
        let acts = |a: &AccountAgg| line_actions(a, &[], &s, as_of());
        assert!(!acts(&dnc).remind && acts(&dnc).promise && acts(&dnc).flag);
        assert!(!acts(&agency).remind);
        assert!(!acts(&disputed).remind);
        assert!(acts(&flagged).remind && !acts(&flagged).flag);
        assert!(!acts(&reminded).remind, "a reminder went out yesterday");
        assert!(acts(&plain).remind && acts(&plain).promise && acts(&plain).flag);
        let promise = PromiseFacts {
            promised_for: as_of() + chrono::Days::new(3),
            logged_on: as_of(),
            ..broken_promise(6, "PLAIN-1")
        };
        assert!(
            !line_actions(&plain, &[&promise], &s, as_of()).remind,
            "a live promise pauses reminders"
        );
    }

    #[test]
    fn a_referred_account_is_at_the_agency_stage_in_line_and_standing() {
        let mut a = agg(1, "REF-1", 130);
        a.oldest_chased_due = None;
        a.with_agency_minor = a.balance_minor;
        a.referred = true;
        let s = Settings::default();
        let st = assess(&a, &[], &s, as_of());
        assert_eq!(st.stage, Some(Stage::AgencyReferral));
        let d = build(&snapshot(vec![a], vec![]), &s, as_of(), None, false);
        let line = &d.overdue[0].accounts.items[0];
        assert_eq!(line.stage, Some(Stage::AgencyReferral));
        assert!(!line.actions.remind);
    }

    /// The digest as it was computed before it was streamed: every account in memory, every
    /// section sorted whole. The oracle the folded `build` must match.
    fn reference_build(
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
        let no_promises: &[&PromiseFacts] = &[];
        let assessed: Vec<(&AccountAgg, Standing, LineActions)> = snap
            .accounts
            .iter()
            .map(|a| {
                let promises = by_account
                    .get(&a.id)
                    .map(Vec::as_slice)
                    .unwrap_or(no_promises);
                (
                    a,
                    assess(a, promises, s, as_of),
                    line_actions(a, promises, s, as_of),
                )
            })
            .collect();
        let actions_of: HashMap<i64, LineActions> =
            assessed.iter().map(|(a, _, act)| (a.id, *act)).collect();
        let stage_of: HashMap<i64, Option<Stage>> =
            assessed.iter().map(|(a, st, _)| (a.id, st.stage)).collect();

        let mut promises_due = Vec::new();
        let mut promises_broken = Vec::new();
        let mut plans_broken = Vec::new();
        let mut broken_accounts = HashSet::new();
        let mut due_accounts = HashSet::new();
        for p in &snap.promises {
            if promise_status(p, s, as_of) != PromiseStatus::Broken {
                continue;
            }
            let broken_on = promise::deadline(&s.calendar, p.promised_for, s.promise_grace_days)
                .succ_opt()
                .unwrap_or(as_of);
            if broken_on <= since || broken_on > as_of {
                continue;
            }
            // A payment plan's missed installment is listed as a broken plan, not a promise.
            let account = snap
                .accounts
                .iter()
                .find(|a| a.id == p.account_id)
                .map(|a| (a.owner.clone(), a.balance_minor));
            if let Some(line) = crate::digest::plans::broken_line(p, account) {
                if broken_accounts.insert(p.account_id) {
                    plans_broken.push(line);
                }
                continue;
            }
            if broken_accounts.insert(p.account_id) {
                let actions = actions_of.get(&p.account_id).copied().unwrap_or_default();
                let stage = stage_of.get(&p.account_id).copied().flatten();
                promises_broken.push(promise_line(p, actions, stage));
            }
        }
        for p in &snap.promises {
            if p.promised_for == as_of
                && p.plan_id.is_none()
                && promise_status(p, s, as_of) == PromiseStatus::Pending
                && !broken_accounts.contains(&p.account_id)
                && due_accounts.insert(p.account_id)
            {
                promises_due.push(promise_line(p, LineActions::default(), None));
            }
        }

        let mut totals: BTreeMap<String, CurrencyTotals> = BTreeMap::new();
        let mut due_soon = Vec::new();
        let mut all_overdue: BTreeMap<Bucket, Vec<AccountLine>> = BTreeMap::new();
        let mut listed_overdue: BTreeMap<Bucket, Vec<AccountLine>> = BTreeMap::new();
        let mut escalations = Vec::new();
        for (a, st, actions) in &assessed {
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
            let overdue_line = line(a, st, *actions, st.overdue_minor);
            if st.overdue_minor > 0 {
                all_overdue
                    .entry(st.bucket)
                    .or_default()
                    .push(overdue_line.clone());
            }
            if broken_accounts.contains(&a.id) {
                continue;
            }
            if st.paused.is_none()
                && let Some(stage) = st.stage
                && stage.needs_person()
                && !(stage == Stage::ManagementCall && a.open_flag)
            {
                escalations.push(Escalation {
                    line: overdue_line,
                    stage,
                });
                continue;
            }
            if due_accounts.contains(&a.id) {
                continue;
            }
            if st.overdue_minor > 0 {
                listed_overdue
                    .entry(st.bucket)
                    .or_default()
                    .push(overdue_line);
            } else if a.due_soon_count > 0 {
                due_soon.push(line(a, st, *actions, a.due_soon_minor));
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
        let overdue = all_overdue
            .into_iter()
            .rev()
            .map(|(bucket, mut lines)| {
                lines.sort_by(by_priority);
                let mut sums: BTreeMap<Currency, i64> = BTreeMap::new();
                for l in &lines {
                    *sums.entry(l.amount.currency).or_default() += l.amount.minor;
                }
                let mut listed = listed_overdue.remove(&bucket).unwrap_or_default();
                listed.sort_by(by_priority);
                BucketGroup {
                    bucket,
                    totals: sums.into_iter().map(|(c, m)| Money::new(m, c)).collect(),
                    count: lines.len(),
                    ranked: Listed::top(lines, n),
                    accounts: Listed::top(listed, n),
                }
            })
            .collect();
        Digest {
            as_of,
            late,
            totals: totals.into_values().collect(),
            due_soon: Listed::top(due_soon, n),
            overdue,
            promises_due,
            promises_broken,
            plans_broken,
            escalations: Listed::top(escalations, n),
            offers: snap.offers.clone(),
            flags: snap.flags.clone(),
            callbacks: snap.callbacks.clone(),
            undelivered: snap.undelivered,
            freshness: freshness(snap.ledger_as_of, s.time_zone, as_of),
            confirm: crate::digest::confirm_receipt::tasks_of(&snap.unconfirmed, s, as_of, n),
            late_fees: snap.late_fees.clone(),
        }
    }

    /// Accounts drawn to collide: few balances and due dates (ties in priority and next due),
    /// every pause and stage, broken and due-today promises and missed installments, some of
    /// accounts without a balance.
    fn varied(seed: u64, count: i64) -> Snapshot {
        use rand::rngs::SmallRng;
        use rand::{Rng, SeedableRng};
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut accounts = Vec::new();
        let mut promises = Vec::new();
        for id in 1..=count {
            let code = format!("C-{:04}", rng.random_range(0..10_000) * 1000 + id);
            let days_late =
                [-9, -3, -1, 0, 5, 20, 31, 45, 61, 75, 91, 130, 200][rng.random_range(0..13)];
            let mut a = agg(id, &code, days_late);
            let balance = [5_000, 100_000, 100_000, 2_500_000][rng.random_range(0..4)];
            let scale = |v: i64| v / 100_000 * balance;
            (a.b_current, a.b_1_30, a.b_31_60, a.b_61_90, a.b_90_plus) = (
                scale(a.b_current),
                scale(a.b_1_30),
                scale(a.b_31_60),
                scale(a.b_61_90),
                scale(a.b_90_plus),
            );
            a.balance_minor = balance;
            a.due_soon_minor = scale(a.due_soon_minor);
            if rng.random_bool(0.3) {
                a.currency = "EUR".into();
            }
            a.owner = ["maria", "tom"]
                .get(rng.random_range(0..3))
                .map(|o| o.to_string());
            a.do_not_contact = rng.random_bool(0.1);
            a.open_flag = rng.random_bool(0.2);
            a.late_paid = rng.random_range(0..3);
            a.broken_promises = rng.random_range(0..2);
            match rng.random_range(0..10) {
                0 => {
                    a.referred = true;
                    a.with_agency_minor = a.balance_minor;
                    a.oldest_chased_due = None;
                }
                1 => {
                    a.disputed_minor = a.balance_minor;
                    a.oldest_chased_due = None;
                }
                2 => {
                    a.held = true;
                    a.hold_until = rng.random_bool(0.5).then(|| as_of() + chrono::Days::new(3));
                }
                _ => {}
            }
            match rng.random_range(0..8) {
                0 => promises.push(broken_promise(id, &code)),
                1 => promises.push(PromiseFacts {
                    plan_id: Some(id),
                    installment: Some(2),
                    plan_installments: Some(4),
                    ..broken_promise(id, &code)
                }),
                2 => promises.push(PromiseFacts {
                    promised_for: as_of(),
                    ..broken_promise(id, &code)
                }),
                _ => {}
            }
            // Some promises are of accounts that have no balance, so are not among the rows.
            if rng.random_bool(0.9) {
                accounts.push(a);
            }
        }
        promises.sort_by_key(|p| (p.promised_for, p.id));
        snapshot(accounts, promises)
    }

    #[test]
    fn the_folded_digest_equals_the_whole_sort_in_any_order_and_size() {
        use rand::SeedableRng;
        use rand::seq::SliceRandom;
        let mut seen = (0, 0, 0);
        for seed in 0..40 {
            let mut snap = varied(seed, 20 + seed as i64 * 15);
            for top in [0, 1, 3, 10] {
                let s = Settings {
                    digest_top: top,
                    ..Settings::default()
                };
                let want = format!("{:?}", reference_build(&snap, &s, as_of(), None, false));
                // The database streams the rows in no particular order.
                snap.accounts
                    .shuffle(&mut rand::rngs::SmallRng::seed_from_u64(seed + top as u64));
                let d = build(&snap, &s, as_of(), None, false);
                assert_eq!(format!("{d:?}"), want, "seed {seed}, top {top}");
                seen.0 += d.escalations.items.len() + d.promises_broken.len();
                seen.1 += d.plans_broken.len() + d.promises_due.len();
                seen.2 +=
                    d.due_soon.more + d.overdue.iter().map(|g| g.accounts.more).sum::<usize>();
            }
        }
        assert!(
            seen.0 > 0 && seen.1 > 0 && seen.2 > 0,
            "every section was exercised: {seen:?}"
        );
    }

    #[test]
    fn a_top_keeps_what_a_stable_sort_keeps_and_counts_the_rest() {
        let by_first = |a: &(u32, u32), b: &(u32, u32)| a.0.cmp(&b.0);
        let fed: Vec<(u32, u32)> = (0..50).map(|i| ((i * 7) % 5, i)).collect();
        let mut top = Top::new(4, by_first);
        for x in &fed {
            top.push(*x);
        }
        let got = top.finish();
        let mut all = fed.clone();
        all.sort_by(by_first);
        assert_eq!(
            got.items,
            all[..4].to_vec(),
            "ties keep the order they came in"
        );
        assert_eq!(got.more, 46);
        let none = Top::<(u32, u32)>::new(0, by_first);
        assert_eq!(none.finish().total(), 0);
    }
}
