//! An account's timeline, gathered from the tables that hold each kind of event: reminders
//! with their outbox status (and why one was dropped), calls, notes, promises and their fate,
//! disputes, flags, referrals, offers and payments — and every other ok action whose subject
//! is the account's code or one of its invoices, so events other features record only as
//! action rows (plans, texts, waivers, holds...) appear without a change here.
use crate::domain::timeline::Entry;
use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection};

/// Action kinds the tables above already tell (with their fate), and views: left out of the
/// generic action entries so nothing shows twice.
pub const TOLD_BY_TABLES: &[&str] = &[
    "remind",
    "reminder_dropped",
    "promise",
    "promise_kept",
    "promise_broken",
    "flag",
    "unflag",
    "refer",
    "offer",
    "settle",
    "dispute",
    "resolve",
    "call",
    "note",
];

/// `$1` account id, `$2` account code, `$3` the action kinds to leave out.
///
/// Promises, disputes, flags, referrals and offers are dated by the action that recorded
/// them (the app's clock, as calls and notes are) rather than by their tables' `now()`
/// defaults, so a back-dated or test clock orders the timeline the way things happened.
const UNION: &str = "
SELECT r.queued_at AS at, 'reminder' AS kind, r.queued_by AS by, 0 AS ord, r.id AS id,
       jsonb_build_object('tone', r.tone, 'stage', r.stage, 'invoice', i.number, 'status', o.status,
                          'error', o.last_error, 'sent_at', o.sent_at) AS details
  FROM reminders r LEFT JOIN invoices i ON i.id = r.invoice_id LEFT JOIN outbox o ON o.id = r.outbox_id
 WHERE r.account_id = $1
UNION ALL
SELECT c.called_at, 'call', c.called_by, 1, c.id,
       jsonb_build_object('outcome', c.outcome, 'callback_on', c.callback_on, 'note', c.note)
  FROM calls c WHERE c.account_id = $1
UNION ALL
SELECT n.written_at, 'note', n.written_by, 2, n.id, jsonb_build_object('text', n.body)
  FROM notes n WHERE n.account_id = $1
UNION ALL
SELECT coalesce((SELECT min(a.at) FROM actions a WHERE a.subject = $2 AND a.kind = 'promise' AND a.outcome = 'ok' AND a.details->'facts'->>'promise_id' = p.id::text), p.logged_at), 'promise', p.logged_by, 3, p.id,
       jsonb_build_object('amount_minor', p.amount_minor, 'currency', p.currency, 'promised_for', p.promised_for,
                          'status', p.status, 'note', p.note, 'resolved_at', p.resolved_at)
  FROM promises p WHERE p.account_id = $1
UNION ALL
SELECT coalesce((SELECT min(a.at) FROM actions a WHERE a.subject = $2 AND a.kind = 'dispute' AND a.outcome = 'ok' AND a.details->'facts'->>'dispute_id' = d.id::text), d.opened_at), 'dispute', d.opened_by, 4, d.id,
       jsonb_build_object('invoice', i.number, 'reason', d.reason, 'resolved_by', d.resolved_by,
                          'resolved_at', d.resolved_at)
  FROM disputes d JOIN invoices i ON i.id = d.invoice_id WHERE i.account_id = $1
UNION ALL
SELECT coalesce((SELECT min(a.at) FROM actions a WHERE a.subject = $2 AND a.kind = 'flag' AND a.outcome = 'ok' AND a.details->'facts'->>'flag_id' = f.id::text), f.flagged_at), 'flag', f.flagged_by, 5, f.id,
       jsonb_build_object('reason', f.reason, 'resolved_by', f.resolved_by, 'resolved_at', f.resolved_at,
                          'outcome', f.outcome)
  FROM flags f WHERE f.account_id = $1
UNION ALL
SELECT coalesce((SELECT min(a.at) FROM actions a WHERE a.subject = $2 AND a.kind = 'refer' AND a.outcome = 'ok' AND a.details->'facts'->>'referral_id' = r.id::text), r.referred_at), 'referral', r.referred_by, 6, r.id,
       jsonb_build_object('agency', g.name, 'closed_at', r.closed_at)
  FROM referrals r JOIN agencies g ON g.id = r.agency_id WHERE r.account_id = $1
UNION ALL
SELECT coalesce((SELECT min(a.at) FROM actions a WHERE a.subject = $2 AND a.kind = 'offer' AND a.outcome = 'ok' AND a.details->'facts'->>'offer_id' = o.id::text), o.offered_at), 'offer', o.offered_by, 7, o.id,
       jsonb_build_object('id', o.id, 'agency', g.name, 'amount_minor', o.amount_minor, 'currency', o.currency,
                          'note', o.note, 'status', o.status, 'decided_by', o.decided_by,
                          'decided_at', o.decided_at, 'decision_note', o.decision_note)
  FROM offers o JOIN agencies g ON g.id = o.agency_id WHERE o.account_id = $1
UNION ALL
-- A payment is dated by the day it was paid (the ledger knows no time of day).
SELECT (p.paid_on::timestamp AT TIME ZONE 'UTC'), 'payment', NULL, 8, p.id,
       jsonb_build_object('amount_minor', p.amount_minor, 'currency', p.currency, 'invoice', i.number,
                          'reference', p.reference, 'paid_on', p.paid_on)
  FROM payments p LEFT JOIN invoices i ON i.id = p.invoice_id WHERE p.account_id = $1
UNION ALL
SELECT a.at, 'action', a.actor_name, 9, a.id,
       jsonb_build_object('kind', a.kind, 'subject', a.subject, 'on_invoice', a.subject <> $2,
                          'command', a.details->'command', 'facts', a.details->'facts',
                          'platform', a.actor_platform)
  FROM actions a
 WHERE a.outcome = 'ok' AND NOT (a.kind = ANY($3))
   AND coalesce(a.details->>'viewed', '') <> 'true'
   AND (a.subject = $2 OR a.subject IN (SELECT number FROM invoices WHERE account_id = $1))";

#[derive(FromRow)]
struct Row {
    at: DateTime<Utc>,
    kind: String,
    by: Option<String>,
    details: serde_json::Value,
}

/// Every entry of the account, newest first; `limit`/`offset` page it (`None`: all).
pub async fn entries(
    conn: &mut PgConnection,
    account_id: i64,
    code: &str,
    limit: Option<i64>,
    offset: i64,
) -> Result<Vec<Entry>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT at, kind, by, details FROM ({UNION}) t ORDER BY at DESC, ord DESC, id DESC LIMIT $4 OFFSET $5"
    )))
    .bind(account_id)
    .bind(code)
    .bind(TOLD_BY_TABLES)
    .bind(limit)
    .bind(offset)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Entry {
            at: r.at,
            kind: r.kind,
            by: r.by,
            details: r.details,
        })
        .collect())
}

/// How many entries the account's timeline holds.
pub async fn count(
    conn: &mut PgConnection,
    account_id: i64,
    code: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM ({UNION}) t"
    )))
    .bind(account_id)
    .bind(code)
    .bind(TOLD_BY_TABLES)
    .fetch_one(conn)
    .await
}

/// The one entry of `kind` with table id `id` (a case thread's event line), as it stands now.
pub async fn entry(
    conn: &mut PgConnection,
    account_id: i64,
    code: &str,
    kind: &str,
    id: i64,
) -> Result<Option<Entry>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT at, kind, by, details FROM ({UNION}) t WHERE kind = $4 AND id = $5 LIMIT 1"
    )))
    .bind(account_id)
    .bind(code)
    .bind(TOLD_BY_TABLES)
    .bind(kind)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| Entry {
        at: r.at,
        kind: r.kind,
        by: r.by,
        details: r.details,
    }))
}
