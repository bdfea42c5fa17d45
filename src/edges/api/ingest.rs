//! `POST /api/v1/customers|invoices|payments`: a JSON array of rows, all or nothing.
use super::{MAX_BODY_BYTES, MAX_ROWS, Problem, auth};
use crate::app::App;
use crate::app::admin::ImportKind;
use crate::app::api::{Ingested, ingest};
use crate::import::{CUSTOMER_COLUMNS, INVOICE_COLUMNS, Named, PAYMENT_COLUMNS};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::Arc;

pub async fn customers(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    run(&app, ImportKind::Customers, &headers, body)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

pub async fn invoices(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    run(&app, ImportKind::Invoices, &headers, body)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

pub async fn payments(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    run(&app, ImportKind::Payments, &headers, body)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// The fields a row of `kind` may have: the CSV file's columns, by the same names.
pub fn fields(kind: ImportKind) -> Vec<&'static str> {
    match kind {
        ImportKind::Customers => {
            let mut f = CUSTOMER_COLUMNS.to_vec();
            f.push("do_not_contact");
            f.push("contact_name");
            f.push("sms_consent");
            f
        }
        ImportKind::Invoices => INVOICE_COLUMNS.to_vec(),
        ImportKind::Payments => PAYMENT_COLUMNS.to_vec(),
    }
}

/// The caller's `Idempotency-Key`: visible ASCII, at most 255 characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, Problem> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    match v.to_str() {
        Ok(k) if !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(Some(k.to_string()))
        }
        _ => Err(Problem::bad_request(
            "Idempotency-Key must be 1 to 255 visible ASCII characters, e.g. a UUID such as 0b6f4d1e-5d1c-4f4e-9d38-2f0c1b7a9e11",
        )),
    }
}

async fn run(
    app: &App,
    kind: ImportKind,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let token = auth::caller(app, headers).await?;
    let body = match body {
        Ok(b) => b,
        Err(rej) if rej.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Err(Problem::too_large(format!(
                "The body is over {} MiB: send at most {MAX_ROWS} rows a request, in several requests.",
                MAX_BODY_BYTES / (1024 * 1024)
            )));
        }
        Err(rej) => return Err(Problem::bad_request(format!("cannot read the body: {rej}"))),
    };
    let key = idempotency_key(headers)?;
    let rows = rows(kind, &body)?;
    let body_sha256 = hex::encode(Sha256::digest(&body));
    match ingest(app, &token, kind, &rows, key.as_deref(), &body_sha256).await? {
        Ingested::Done(answer) => Ok((StatusCode::OK, Json(answer)).into_response()),
        Ingested::Replayed(answer) => {
            let mut resp = (StatusCode::OK, Json(answer)).into_response();
            resp.headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            Ok(resp)
        }
        Ingested::KeyReused => Err(Problem::new(
            StatusCode::CONFLICT,
            "urn:dunbot:problem:idempotency-key-reused",
            "The Idempotency-Key was used with another body",
            "This token already sent another body with this Idempotency-Key; nothing was written. Use a new key for a new batch, or resend the first body unchanged.",
        )),
        Ingested::Invalid(bad) => Err(Problem::invalid_rows(rows.len(), bad)),
    }
}

/// The body as rows of text values: a JSON array of objects with only the kind's fields, each
/// a string or null (`do_not_contact` and `sms_consent` may also be booleans). Amounts are strings such as
/// `"1250.00"`, never JSON numbers, so no amount passes through a float. Anything else is a
/// 400 naming every row and field at fault.
fn rows(kind: ImportKind, body: &[u8]) -> Result<Vec<Named>, Problem> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        Problem::bad_request(format!(
            "The body is not valid JSON: {e}. Send a JSON array of rows."
        ))
    })?;
    let Value::Array(items) = value else {
        return Err(Problem::bad_request(
            "The body must be a JSON array of rows, e.g. [{\"account\": \"ACME-001\", …}]",
        ));
    };
    if items.len() > MAX_ROWS {
        return Err(Problem::too_large(format!(
            "{} rows in one request; send at most {MAX_ROWS} a request, in several requests.",
            items.len()
        )));
    }
    if items.is_empty() {
        return Err(Problem::bad_request(format!(
            "The array is empty: send 1 to {MAX_ROWS} rows."
        )));
    }
    let known = fields(kind);
    let mut out = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        let Value::Object(obj) = item else {
            errors.push(json!({"index": index, "field": null, "reason": "a row must be a JSON object of fields"}));
            continue;
        };
        let mut named = Vec::with_capacity(obj.len());
        for (field, v) in obj {
            if !known.contains(&field.as_str()) {
                errors.push(json!({"index": index, "field": field, "reason": format!("unknown field; the fields are {}", known.join(", "))}));
                continue;
            }
            match v {
                Value::Null => {}
                Value::String(s) => named.push((field, s)),
                Value::Bool(b) if field == "do_not_contact" || field == "sms_consent" => {
                    named.push((field, if b { "yes" } else { "no" }.to_string()))
                }
                other => {
                    let want = if field == "do_not_contact" || field == "sms_consent" {
                        "true or false"
                    } else if field == "amount" {
                        "a string such as \"1250.00\" (not a JSON number)"
                    } else {
                        "a string"
                    };
                    errors.push(json!({"index": index, "field": field, "reason": format!("must be {want}, not {}", type_name(&other))}));
                }
            }
        }
        out.push(Named(named));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(Problem::bad_request(format!(
            "{} field(s) have the wrong type or name (listed in errors); nothing was written.",
            errors.len()
        ))
        .with_errors(errors))
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
