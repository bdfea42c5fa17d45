//! What the digest, the aging report and the automatic plan read: one aggregate row per
//! account with a balance, plus the few live promises, offers and flags.
use chrono::{DateTime, NaiveDate, Utc};
use futures_util::TryStreamExt;
use futures_util::stream::BoxStream;
use sqlx::postgres::PgRow;
use sqlx::{Column, FromRow, PgConnection, Row};

/// Decoded by position (see `FromRow` below), so its fields are in the queries' column order.
#[derive(Debug, Clone)]
pub struct AccountAgg {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub currency: String,
    pub owner: Option<String>,
    pub do_not_contact: bool,
    pub held: bool,
    pub hold_until: Option<NaiveDate>,
    pub balance_minor: i64,
    pub b_current: i64,
    pub b_1_30: i64,
    pub b_31_60: i64,
    pub b_61_90: i64,
    pub b_90_plus: i64,
    /// Oldest due date among open (chased: not disputed, not with an agency) invoices.
    pub oldest_chased_due: Option<NaiveDate>,
    pub disputed_minor: i64,
    pub with_agency_minor: i64,
    pub due_soon_minor: i64,
    pub due_soon_count: i64,
    pub next_due: Option<NaiveDate>,
    /// Paid invoices that were paid after their due date (kept by a trigger, see migration 0005).
    pub late_paid: i64,
    pub broken_promises: i64,
    pub open_flag: bool,
    /// An active referral to an agency.
    pub referred: bool,
    /// When the last reminder was queued, for the reminder rule's cooldown.
    pub last_reminder_at: Option<DateTime<Utc>>,
}

/// The column names of `AccountAgg`'s queries, in order: checked against each row in debug
/// builds, so a query and the struct cannot drift apart unnoticed.
const ACCOUNT_COLUMNS: [&str; 25] = [
    "id",
    "code",
    "name",
    "currency",
    "owner",
    "do_not_contact",
    "held",
    "hold_until",
    "balance_minor",
    "b_current",
    "b_1_30",
    "b_31_60",
    "b_61_90",
    "b_90_plus",
    "oldest_chased_due",
    "disputed_minor",
    "with_agency_minor",
    "due_soon_minor",
    "due_soon_count",
    "next_due",
    "late_paid",
    "broken_promises",
    "open_flag",
    "referred",
    "last_reminder_at",
];

/// By position rather than by name: the digest decodes a row per account with a balance, and
/// looking 25 columns up by name per row was a third of its time in the client.
impl<'r> FromRow<'r, PgRow> for AccountAgg {
    fn from_row(row: &'r PgRow) -> Result<Self, sqlx::Error> {
        Ok(AccountAgg {
            id: column(row, 0)?,
            code: column(row, 1)?,
            name: column(row, 2)?,
            currency: column(row, 3)?,
            owner: column(row, 4)?,
            do_not_contact: column(row, 5)?,
            held: column(row, 6)?,
            hold_until: column(row, 7)?,
            balance_minor: column(row, 8)?,
            b_current: column(row, 9)?,
            b_1_30: column(row, 10)?,
            b_31_60: column(row, 11)?,
            b_61_90: column(row, 12)?,
            b_90_plus: column(row, 13)?,
            oldest_chased_due: column(row, 14)?,
            disputed_minor: column(row, 15)?,
            with_agency_minor: column(row, 16)?,
            due_soon_minor: column(row, 17)?,
            due_soon_count: column(row, 18)?,
            next_due: column(row, 19)?,
            late_paid: column(row, 20)?,
            broken_promises: column(row, 21)?,
            open_flag: column(row, 22)?,
            referred: column(row, 23)?,
            last_reminder_at: column(row, 24)?,
        })
    }
}

/// Column `at` of an `AccountAgg` row. Debug builds check its name and type, so the tests
/// catch a query and the struct drifting apart; release builds skip the type check, which
/// cost more than the decoding itself.
fn column<'r, T>(row: &'r PgRow, at: usize) -> Result<T, sqlx::Error>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    debug_assert_eq!(row.column(at).name(), ACCOUNT_COLUMNS[at]);
    if cfg!(debug_assertions) {
        row.try_get(at)
    } else {
        row.try_get_unchecked(at)
    }
}

impl AccountAgg {
    pub fn buckets(&self) -> [i64; 5] {
        [
            self.b_current,
            self.b_1_30,
            self.b_31_60,
            self.b_61_90,
            self.b_90_plus,
        ]
    }
}

/// The sums per account of its unpaid invoices (`total_minor` sums bigints as a bigint, see
/// migration 0250): `$1` as-of, `$2` end of the "due soon" window, `$3` one account or NULL
/// for all.
macro_rules! account_sums {
    () => {
        "WITH inv AS (
            SELECT account_id,
                   total_minor(amount_minor - paid_minor) AS balance_minor,
                   total_minor(amount_minor - paid_minor) FILTER (WHERE due >= $1) AS b_current,
                   total_minor(amount_minor - paid_minor) FILTER (WHERE due < $1 AND due >= $1 - 30) AS b_1_30,
                   total_minor(amount_minor - paid_minor) FILTER (WHERE due < $1 - 30 AND due >= $1 - 60) AS b_31_60,
                   total_minor(amount_minor - paid_minor) FILTER (WHERE due < $1 - 60 AND due >= $1 - 90) AS b_61_90,
                   total_minor(amount_minor - paid_minor) FILTER (WHERE due < $1 - 90) AS b_90_plus,
                   min(due) FILTER (WHERE status = 'open') AS oldest_chased_due,
                   total_minor(amount_minor - paid_minor) FILTER (WHERE status = 'disputed') AS disputed_minor,
                   total_minor(amount_minor - paid_minor) FILTER (WHERE status = 'with_agency') AS with_agency_minor,
                   total_minor(amount_minor - paid_minor) FILTER (WHERE status = 'open' AND due BETWEEN $1 AND $2) AS due_soon_minor,
                   count(*) FILTER (WHERE status = 'open' AND due BETWEEN $1 AND $2) AS due_soon_count,
                   min(due) FILTER (WHERE status = 'open' AND due >= $1) AS next_due
              FROM invoices
             WHERE status IN ('open', 'disputed', 'with_agency') AND ($3::int8 IS NULL OR account_id = $3)
             GROUP BY account_id)
"
    };
}

/// The columns of `AccountAgg` but the last four (broken promises, open flag, referral, last
/// reminder), which the one-account and the streamed queries each get their own way.
macro_rules! account_columns {
    () => {
        " SELECT a.id, a.code, a.name, a.currency::text AS currency, a.owner, a.do_not_contact, a.held, a.hold_until,
                coalesce(inv.balance_minor, 0) AS balance_minor,
                coalesce(b_current, 0) AS b_current, coalesce(b_1_30, 0) AS b_1_30,
                coalesce(b_31_60, 0) AS b_31_60, coalesce(b_61_90, 0) AS b_61_90,
                coalesce(b_90_plus, 0) AS b_90_plus, oldest_chased_due,
                coalesce(disputed_minor, 0) AS disputed_minor, coalesce(with_agency_minor, 0) AS with_agency_minor,
                coalesce(due_soon_minor, 0) AS due_soon_minor, due_soon_count, next_due, a.late_paid_count::int8 AS late_paid,"
    };
}

/// The aggregate per account with a balance (see `account_sums` for the parameters).
macro_rules! accounts_sql {
    () => {
        concat!(
            account_sums!(),
            account_columns!(),
            "
                coalesce(bp.n, 0) AS broken_promises,
                EXISTS (SELECT 1 FROM flags f WHERE f.account_id = a.id AND f.resolved_at IS NULL) AS open_flag,
                EXISTS (SELECT 1 FROM referrals r WHERE r.account_id = a.id AND r.closed_at IS NULL) AS referred,
                (SELECT max(queued_at) FROM reminders rm WHERE rm.account_id = a.id) AS last_reminder_at
           FROM accounts a
           JOIN inv ON inv.account_id = a.id AND inv.balance_minor > 0
           LEFT JOIN (SELECT account_id, count(*) AS n FROM promises WHERE status = 'broken' GROUP BY account_id) bp
                  ON bp.account_id = a.id"
        )
    };
}

/// Every account with an unpaid balance (or only the account `only`), aggregated as of `as_of`;
/// `due_soon_until` bounds the "due soon" window `[as_of, due_soon_until]`.
pub async fn accounts(
    conn: &mut PgConnection,
    as_of: NaiveDate,
    due_soon_until: NaiveDate,
    only: Option<i64>,
) -> Result<Vec<AccountAgg>, sqlx::Error> {
    sqlx::query_as(concat!(accounts_sql!(), " ORDER BY a.id"))
        .bind(as_of)
        .bind(due_soon_until)
        .bind(only)
        .fetch_all(conn)
        .await
}

/// Planner settings for `stream_accounts`, until the end of the caller's transaction or
/// savepoint (measured at 1M accounts / 5M invoices in `benches/core.rs`):
/// - Postgres guesses a third as many accounts with a balance as there are, and picks a hash
///   aggregate and a hash join that both spill to disk at the default `work_mem`. Sorting the
///   unpaid invoices by account (in parallel) and merging with the accounts in key order is
///   faster and needs no more memory.
/// - JIT-compiled expressions pay for themselves here, but LLVM's optimisation and inlining
///   cost more than they save, once per parallel worker.
async fn plan_for_streaming(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query(
        "SELECT set_config('enable_hashagg', 'off', true), set_config('enable_hashjoin', 'off', true),
                set_config('jit_optimize_above_cost', '-1', true), set_config('jit_inline_above_cost', '-1', true)",
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The same rows as `accounts` for every account, as a stream in no particular order: the
/// digest folds them one at a time instead of holding the portfolio. Broken promises, open flags, active referrals and last reminders come from one
/// grouped union joined once, rather than a lookup or a join each per account: each join
/// passes every account's row, and per-row lookups made Postgres JIT-compile for longer than
/// it ran.
fn stream_accounts(
    conn: &mut PgConnection,
    as_of: NaiveDate,
    due_soon_until: NaiveDate,
) -> BoxStream<'_, Result<AccountAgg, sqlx::Error>> {
    sqlx::query_as(concat!(
        account_sums!(),
        account_columns!(),
        "
                coalesce(x.broken_promises, 0) AS broken_promises,
                coalesce(x.open_flag, false) AS open_flag,
                coalesce(x.referred, false) AS referred,
                x.last_reminder_at
           FROM accounts a
           JOIN inv ON inv.account_id = a.id AND inv.balance_minor > 0
           LEFT JOIN (
                SELECT account_id,
                       count(*) FILTER (WHERE kind = 'broken') AS broken_promises,
                       bool_or(kind = 'flag') AS open_flag,
                       bool_or(kind = 'referral') AS referred,
                       max(at) AS last_reminder_at
                  FROM (SELECT account_id, 'broken' AS kind, NULL::timestamptz AS at FROM promises WHERE status = 'broken'
                        UNION ALL SELECT account_id, 'flag', NULL FROM flags WHERE resolved_at IS NULL
                        UNION ALL SELECT account_id, 'referral', NULL FROM referrals WHERE closed_at IS NULL
                        UNION ALL SELECT account_id, 'reminder', queued_at FROM reminders) e
                 GROUP BY account_id) x ON x.account_id = a.id"
    ))
    .bind(as_of)
    .bind(due_soon_until)
    .bind(None::<i64>)
    .fetch(conn)
}

/// Calls `f` with every account with a balance as of `as_of` (the rows of `accounts`, in no
/// particular order), one at a time: memory stays bounded by what `f` keeps. Runs in a
/// savepoint (or a transaction of its own) that only reads, rolled back at the end, which takes
/// the planner settings of `plan_for_streaming` with it.
pub async fn each_account(
    conn: &mut PgConnection,
    as_of: NaiveDate,
    due_soon_until: NaiveDate,
    mut f: impl FnMut(&AccountAgg),
) -> Result<(), sqlx::Error> {
    let mut sp = sqlx::Connection::begin(&mut *conn).await?;
    plan_for_streaming(&mut sp).await?;
    {
        let mut rows = stream_accounts(&mut sp, as_of, due_soon_until);
        while let Some(a) = rows.try_next().await? {
            f(&a);
        }
    }
    sp.rollback().await
}

/// A promise with the account's payments since it was logged, for evaluation.
#[derive(Debug, Clone, FromRow)]
pub struct PromiseFacts {
    pub id: i64,
    pub account_id: i64,
    pub code: String,
    pub name: String,
    pub amount_minor: i64,
    pub currency: String,
    pub promised_for: NaiveDate,
    pub logged_on: NaiveDate,
    pub logged_by: String,
    pub status: String,
    pub paid_on: Vec<NaiveDate>,
    pub paid_minor: Vec<i64>,
    /// Set when the promise is a payment plan's installment (`ar plan`): its amount is the
    /// plan's cumulative amount through installment `installment` of `plan_installments`.
    pub plan_id: Option<i64>,
    pub installment: Option<i32>,
    pub plan_installments: Option<i32>,
}

impl PromiseFacts {
    pub fn payments(&self) -> Vec<(NaiveDate, i64)> {
        self.paid_on
            .iter()
            .copied()
            .zip(self.paid_minor.iter().copied())
            .collect()
    }
}

/// Pending promises and those promised on or after `promised_since` (for "broken since"), of
/// every account or only of `only`.
pub async fn promises(
    conn: &mut PgConnection,
    promised_since: NaiveDate,
    only: Option<i64>,
) -> Result<Vec<PromiseFacts>, sqlx::Error> {
    sqlx::query_as(
        "SELECT p.id, p.account_id, a.code, a.name, p.amount_minor, p.currency::text AS currency, p.promised_for, p.logged_on,
                p.logged_by, p.status,
                coalesce(array_agg(pay.paid_on ORDER BY pay.paid_on) FILTER (WHERE pay.id IS NOT NULL), '{}') AS paid_on,
                coalesce(array_agg(pay.amount_minor ORDER BY pay.paid_on) FILTER (WHERE pay.id IS NOT NULL), '{}') AS paid_minor,
                p.plan_id, p.installment, pl.installments AS plan_installments
           FROM promises p
           JOIN accounts a ON a.id = p.account_id
           LEFT JOIN plans pl ON pl.id = p.plan_id
           LEFT JOIN payments pay ON pay.account_id = p.account_id AND pay.paid_on >= p.logged_on
          WHERE (p.status = 'pending' OR p.promised_for >= $1) AND ($2::int8 IS NULL OR p.account_id = $2)
          GROUP BY p.id, a.code, a.name, pl.installments
          ORDER BY p.promised_for, p.id",
    )
    .bind(promised_since)
    .bind(only)
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, FromRow)]
pub struct OfferLine {
    pub id: i64,
    pub code: String,
    pub account_name: String,
    pub agency: String,
    pub amount_minor: i64,
    pub currency: String,
    pub offered_by: String,
    pub offered_at: DateTime<Utc>,
    pub balance_minor: i64,
    /// Who approved it so far, when the policy's limit needs more than one approval.
    pub approved_by: Option<String>,
    /// The balance the offer was measured against when made (its approval limit's basis).
    pub measured_balance_minor: Option<i64>,
    /// What is still needed ("1 of 2 approvals; needs finance"), filled in by the digest.
    #[sqlx(skip)]
    pub waiting: Option<String>,
}

pub async fn proposed_offers(conn: &mut PgConnection) -> Result<Vec<OfferLine>, sqlx::Error> {
    sqlx::query_as(
        "SELECT o.id, a.code, a.name AS account_name, g.name AS agency, o.amount_minor, o.currency::text AS currency,
                o.offered_by, o.offered_at,
                coalesce((SELECT sum(amount_minor - paid_minor) FROM invoices i
                           WHERE i.account_id = a.id AND i.status IN ('open', 'disputed', 'with_agency')), 0)::int8 AS balance_minor,
                (SELECT string_agg(approver_name, ', ' ORDER BY seq) FROM offer_approvals p
                  WHERE p.offer_id = o.id) AS approved_by,
                o.balance_minor AS measured_balance_minor
           FROM offers o JOIN accounts a ON a.id = o.account_id JOIN agencies g ON g.id = o.agency_id
          WHERE o.status = 'proposed' ORDER BY o.offered_at",
    )
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, FromRow)]
pub struct FlagLine {
    pub id: i64,
    pub code: String,
    pub account_name: String,
    pub reason: String,
    pub flagged_by: String,
    pub flagged_at: DateTime<Utc>,
}

pub async fn open_flags(conn: &mut PgConnection) -> Result<Vec<FlagLine>, sqlx::Error> {
    sqlx::query_as(
        "SELECT f.id, a.code, a.name AS account_name, f.reason, f.flagged_by, f.flagged_at
           FROM flags f JOIN accounts a ON a.id = f.account_id WHERE f.resolved_at IS NULL ORDER BY f.flagged_at",
    )
    .fetch_all(conn)
    .await
}
