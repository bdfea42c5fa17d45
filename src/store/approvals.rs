//! Settlement approvals: the balance each offer was measured against and the approvals given
//! so far, read and written inside the decision's transaction (the offer row is locked).
use crate::domain::approval::Given;
use crate::domain::roles::Role;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// Records the balance an offer was made against: its share of it picks the approval limit.
pub async fn set_offer_balance(
    conn: &mut PgConnection,
    offer_id: i64,
    balance_minor: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE offers SET balance_minor = $2 WHERE id = $1")
        .bind(offer_id)
        .bind(balance_minor)
        .execute(conn)
        .await?;
    Ok(())
}

/// The balance recorded with the offer (`None` for offers made before limits existed).
pub async fn offer_balance(
    conn: &mut PgConnection,
    offer_id: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT balance_minor FROM offers WHERE id = $1")
        .bind(offer_id)
        .fetch_one(conn)
        .await
}

/// One approval already given, with the name to show.
#[derive(Debug, Clone)]
pub struct ApprovalRow {
    pub given: Given,
    pub name: String,
    pub at: DateTime<Utc>,
}

/// platform, user id, name, roles, when.
type Row = (String, String, String, Vec<String>, DateTime<Utc>);

pub async fn approvals(
    conn: &mut PgConnection,
    offer_id: i64,
) -> Result<Vec<ApprovalRow>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT approver_platform, approver_id, approver_name, roles, approved_at
           FROM offer_approvals WHERE offer_id = $1 ORDER BY seq",
    )
    .bind(offer_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(platform, id, name, roles, at)| ApprovalRow {
            given: Given {
                who: format!("{platform}:{id}"),
                roles: roles.iter().filter_map(|r| Role::parse(r)).collect(),
            },
            name,
            at,
        })
        .collect())
}

pub struct NewApproval<'a> {
    pub offer_id: i64,
    pub platform: &'a str,
    pub user_id: &'a str,
    pub name: &'a str,
    pub roles: &'a [Role],
    pub at: DateTime<Utc>,
}

pub async fn insert_approval(
    conn: &mut PgConnection,
    a: &NewApproval<'_>,
) -> Result<(), sqlx::Error> {
    let roles: Vec<&str> = a.roles.iter().map(Role::key).collect();
    sqlx::query(
        "INSERT INTO offer_approvals (offer_id, approver_platform, approver_id, approver_name, roles, approved_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(a.offer_id)
    .bind(a.platform)
    .bind(a.user_id)
    .bind(a.name)
    .bind(&roles)
    .bind(a.at)
    .execute(conn)
    .await?;
    Ok(())
}
