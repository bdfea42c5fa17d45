//! Roles granted to platform users.
use crate::domain::roles::Role;
use sqlx::PgConnection;

/// Roles granted to the user, with the agency name for an agency role.
pub async fn roles_of(
    conn: &mut PgConnection,
    platform: &str,
    user_id: &str,
) -> Result<(Vec<Role>, Option<String>), sqlx::Error> {
    let rows: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT p.role, a.name FROM people p LEFT JOIN agencies a ON a.id = p.agency_id
          WHERE p.platform = $1 AND p.user_id = $2",
    )
    .bind(platform)
    .bind(user_id)
    .fetch_all(conn)
    .await?;
    let agency = rows.iter().find_map(|(_, a)| a.clone());
    Ok((
        rows.iter().filter_map(|(r, _)| Role::parse(r)).collect(),
        agency,
    ))
}

pub async fn grant(
    conn: &mut PgConnection,
    platform: &str,
    user_id: &str,
    role: Role,
    agency_id: Option<i64>,
    by: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO people (platform, user_id, role, agency_id, granted_by) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (platform, user_id, role) DO UPDATE SET agency_id = EXCLUDED.agency_id
         WHERE people.agency_id IS DISTINCT FROM EXCLUDED.agency_id",
    )
    .bind(platform)
    .bind(user_id)
    .bind(role.key())
    .bind(agency_id)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() > 0)
}

pub async fn revoke_all(
    conn: &mut PgConnection,
    platform: &str,
    user_id: &str,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("DELETE FROM people WHERE platform = $1 AND user_id = $2")
        .bind(platform)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected())
}

/// `(platform, user_id, role, agency)` for every grant.
pub async fn list(
    conn: &mut PgConnection,
) -> Result<Vec<(String, String, String, Option<String>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT p.platform, p.user_id, p.role, a.name FROM people p LEFT JOIN agencies a ON a.id = p.agency_id
          ORDER BY p.platform, p.user_id, p.role",
    )
    .fetch_all(conn)
    .await
}

/// The user ids on `platform` granted `role` (for an agency role: that agency's), in the
/// order they were granted: the people a ping must notify when no group stands for them.
pub async fn holders(
    conn: &mut PgConnection,
    platform: &str,
    role: Role,
    agency: Option<&str>,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT p.user_id FROM people p LEFT JOIN agencies a ON a.id = p.agency_id
          WHERE p.platform = $1 AND p.role = $2 AND ($3::text IS NULL OR a.name = $3)
          ORDER BY p.granted_at, p.user_id",
    )
    .bind(platform)
    .bind(role.key())
    .bind(agency)
    .fetch_all(conn)
    .await
}
