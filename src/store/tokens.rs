//! API tokens: names and SHA-256 hashes, never the tokens themselves.
use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection};

#[derive(Debug, Clone, FromRow)]
pub struct Token {
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Adds a live token; `false` when a live token already has the name.
pub async fn create(
    conn: &mut PgConnection,
    name: &str,
    hash: &[u8],
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO api_tokens (name, token_hash, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING",
    )
    .bind(name)
    .bind(hash)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Every token, live ones first, then by name.
pub async fn list(conn: &mut PgConnection) -> Result<Vec<Token>, sqlx::Error> {
    sqlx::query_as(
        "SELECT name, created_at, revoked_at FROM api_tokens
          ORDER BY revoked_at IS NOT NULL, name, created_at",
    )
    .fetch_all(conn)
    .await
}

/// Revokes the live token named `name`; `false` when there is none.
pub async fn revoke(
    conn: &mut PgConnection,
    name: &str,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let r =
        sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL")
            .bind(name)
            .bind(at)
            .execute(conn)
            .await?;
    Ok(r.rows_affected() == 1)
}

/// The name of the live token with this hash.
pub async fn live_name(
    conn: &mut PgConnection,
    hash: &[u8],
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT name FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL")
        .bind(hash)
        .fetch_optional(conn)
        .await
}
