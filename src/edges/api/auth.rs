//! `Authorization: Bearer <token>`: the caller is the token's name.
use super::Problem;
use crate::app::App;
use axum::http::{HeaderMap, header};

/// The name of the live token the request carries; 401 otherwise.
pub async fn caller(app: &App, headers: &HeaderMap) -> Result<String, Problem> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(Problem::unauthorized("No Authorization header"));
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| Problem::unauthorized("The Authorization header is not `Bearer <token>`"))?;
    match crate::app::api::token_name(app, token).await? {
        Some(name) => Ok(name),
        None => Err(Problem::unauthorized("The token is unknown or revoked")),
    }
}
