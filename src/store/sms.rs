//! Text messages: consent per account and phone number, the Twilio message sid and delivery
//! status on each text's outbox row, and the texts an account card lists.
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection};

/// What is recorded about texting one number of an account.
#[derive(Debug, Clone, FromRow, Serialize, PartialEq, Eq)]
pub struct Consent {
    pub phone: String,
    pub consent: bool,
    /// The customer texted STOP (cleared by START or a person's `ar contact … sms on`).
    pub stopped: bool,
    pub changed_at: DateTime<Utc>,
    pub changed_by: String,
}

pub async fn consent(
    conn: &mut PgConnection,
    account_id: i64,
    phone: &str,
) -> Result<Option<Consent>, sqlx::Error> {
    sqlx::query_as(
        "SELECT phone, consent, stopped, changed_at, changed_by FROM sms_consents
          WHERE account_id = $1 AND phone = $2",
    )
    .bind(account_id)
    .bind(phone)
    .fetch_optional(conn)
    .await
}

/// Records consent given or withdrawn for `phone` (E.164). `stopped` is the customer's own
/// opt-out: set by STOP, cleared by START or a person turning texts on.
pub async fn set_consent(
    conn: &mut PgConnection,
    account_id: i64,
    phone: &str,
    consent: bool,
    stopped: bool,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sms_consents (account_id, phone, consent, stopped, changed_at, changed_by)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (account_id, phone) DO UPDATE
            SET consent = EXCLUDED.consent, stopped = EXCLUDED.stopped,
                changed_at = EXCLUDED.changed_at, changed_by = EXCLUDED.changed_by",
    )
    .bind(account_id)
    .bind(phone)
    .bind(consent)
    .bind(stopped)
    .bind(at)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(())
}

/// Consent as an import states it: `(account code, phone in E.164, consent)`. It never turns
/// texts back on for a number whose customer texted STOP, and a row that says what is already
/// recorded changes nothing (so importing the same file again changes nothing).
pub async fn import_consents(
    conn: &mut PgConnection,
    rows: &[(String, String, bool)],
    by: &str,
) -> Result<u64, sqlx::Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    let codes: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let phones: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    let consents: Vec<bool> = rows.iter().map(|r| r.2).collect();
    let r = sqlx::query(
        "INSERT INTO sms_consents (account_id, phone, consent, changed_by)
         SELECT a.id, s.phone, s.consent, $4
           FROM unnest($1::text[], $2::text[], $3::bool[]) AS s(code, phone, consent)
           JOIN accounts a ON a.code = s.code
         ON CONFLICT (account_id, phone) DO UPDATE
            SET consent = EXCLUDED.consent, changed_at = now(), changed_by = EXCLUDED.changed_by
          WHERE sms_consents.consent IS DISTINCT FROM EXCLUDED.consent
            AND (NOT sms_consents.stopped OR NOT EXCLUDED.consent)",
    )
    .bind(&codes)
    .bind(&phones)
    .bind(&consents)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}

/// The accounts whose primary contact's phone, or a recorded consent, is `phone` (E.164):
/// `(id, code)`. Phones are compared without their separators (`+1-555-0100`).
pub async fn accounts_by_phone(
    conn: &mut PgConnection,
    phone: &str,
) -> Result<Vec<(i64, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.id, a.code FROM accounts a
          WHERE EXISTS (SELECT 1 FROM contacts c WHERE c.account_id = a.id AND c.is_primary
                          AND regexp_replace(c.phone, '[^0-9+]', '', 'g') = $1)
             OR EXISTS (SELECT 1 FROM sms_consents s WHERE s.account_id = a.id AND s.phone = $1)
          ORDER BY a.code",
    )
    .bind(phone)
    .fetch_all(conn)
    .await
}

/// Keeps Twilio's message sid and first status on the text's outbox row.
pub async fn set_provider(
    conn: &mut PgConnection,
    outbox_id: i64,
    sid: &str,
    status: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE outbox SET provider_id = $2, delivery_status = $3 WHERE id = $1")
        .bind(outbox_id)
        .bind(sid)
        .bind(status)
        .execute(conn)
        .await?;
    Ok(())
}

/// The text a status callback is about.
#[derive(Debug, Clone, FromRow)]
pub struct Sent {
    pub outbox_id: i64,
    pub account: Option<String>,
    pub to: Option<String>,
}

/// Records Twilio's latest status for the text with message sid `sid`. A final status
/// (delivered, undelivered, failed) is never overwritten by a late `sent` arriving after it.
/// `None` when no text has that sid, or it already had a final status.
pub async fn record_status(
    conn: &mut PgConnection,
    sid: &str,
    status: &str,
) -> Result<Option<Sent>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE outbox SET delivery_status = $2
          WHERE provider_id = $1
            AND (delivery_status IS NULL OR delivery_status NOT IN ('delivered', 'undelivered', 'failed'))
          RETURNING id AS outbox_id, payload->>'account' AS account, payload->>'to' AS to",
    )
    .bind(sid)
    .bind(status)
    .fetch_optional(conn)
    .await
}

/// One text as the account card lists it.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Text {
    pub outbox_id: i64,
    pub to: Option<String>,
    pub tone: Option<String>,
    /// The outbox's: pending, sent, dead, dropped.
    pub status: String,
    /// Twilio's: queued, sent, delivered, undelivered, failed.
    pub delivery_status: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// The account's texts, newest first, at most `limit`, and how many there are in all.
pub async fn texts_for_account(
    conn: &mut PgConnection,
    account_id: i64,
    limit: i64,
) -> Result<(Vec<Text>, i64), sqlx::Error> {
    let rows = sqlx::query_as(
        "SELECT id AS outbox_id, payload->>'to' AS to, payload->>'tone' AS tone, status,
                delivery_status, last_error, created_at, sent_at
           FROM outbox WHERE kind = 'sms' AND (payload->>'account_id')::int8 = $1
          ORDER BY id DESC LIMIT $2",
    )
    .bind(account_id)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE kind = 'sms' AND (payload->>'account_id')::int8 = $1",
    )
    .bind(account_id)
    .fetch_one(conn)
    .await?;
    Ok((rows, total))
}
