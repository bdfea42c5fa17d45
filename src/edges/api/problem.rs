//! Refusals as RFC 9457 problem documents (`application/problem+json`).
use crate::import::RowError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A refusal: what went wrong and how to send it right. Nothing was written.
#[derive(Debug)]
pub struct Problem {
    pub status: StatusCode,
    /// The problem's kind, a URN such as `urn:dunbot:problem:invalid-rows`.
    pub kind: &'static str,
    pub title: &'static str,
    pub detail: String,
    /// Every bad row: `index`, `field`, `reason`.
    pub errors: Vec<Value>,
}

impl Problem {
    pub fn new(
        status: StatusCode,
        kind: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Problem {
        Problem {
            status,
            kind,
            title,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub fn with_errors(mut self, errors: Vec<Value>) -> Problem {
        self.errors = errors;
        self
    }

    pub fn unauthorized(detail: &str) -> Problem {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "urn:dunbot:problem:unauthorized",
            "Missing or revoked API token",
            format!(
                "{detail}. Send `Authorization: Bearer <token>` with a token from `dunbot token create NAME`."
            ),
        )
    }

    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "urn:dunbot:problem:bad-request",
            "The request is not what this endpoint takes",
            detail,
        )
    }

    pub fn too_large(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "urn:dunbot:problem:too-large",
            "The request is too large",
            detail,
        )
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::NOT_FOUND,
            "urn:dunbot:problem:not-found",
            "Not found",
            detail,
        )
    }

    /// Rows that break the import's rules, each with its index, field and reason.
    pub fn invalid_rows(total: usize, rows: Vec<RowError>) -> Problem {
        let errors = rows
            .iter()
            .map(|r| json!({"index": r.line, "field": r.field, "reason": r.reason}))
            .collect();
        let mut bad: Vec<u64> = rows.iter().map(|r| r.line).collect();
        bad.dedup();
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "urn:dunbot:problem:invalid-rows",
            "Some rows break the import's rules",
            format!(
                "{} of {total} rows break the rules (listed in errors); nothing was written. Fix them and send the whole batch again.",
                bad.len()
            ),
        )
        .with_errors(errors)
    }

    /// Ours, not the caller's: logged with a reference the caller can quote.
    pub fn internal(e: anyhow::Error) -> Problem {
        let reference = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
        tracing::error!(reference, error = ?e, "API request failed");
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "urn:dunbot:problem:internal",
            "Something went wrong on our side",
            format!(
                "Nothing was written; try again, or give your admin the reference {reference}."
            ),
        )
    }
}

impl From<anyhow::Error> for Problem {
    fn from(e: anyhow::Error) -> Problem {
        Problem::internal(e)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut body = json!({
            "type": self.kind, "title": self.title, "status": self.status.as_u16(), "detail": self.detail,
        });
        if !self.errors.is_empty() {
            body["errors"] = Value::Array(self.errors);
        }
        let mut resp = (self.status, body.to_string()).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"dunbot\""),
            );
        }
        resp
    }
}
