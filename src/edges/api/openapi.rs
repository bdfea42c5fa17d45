//! The OpenAPI 3.1 document of `/api/v1`, served at `/api/v1/openapi.json`. The row schemas are
//! built from the same field lists the routes accept (`ingest::fields`), and a test posts a row
//! made from each schema's required fields, so the document cannot promise what the routes
//! refuse.
use super::ingest::fields;
use super::{MAX_ROWS, read::MAX_PAGE};
use crate::app::admin::ImportKind;
use axum::Json;
use serde_json::{Map, Value, json};

/// The fields a row must carry (the others may be absent, null or empty).
pub fn required(kind: ImportKind) -> &'static [&'static str] {
    match kind {
        ImportKind::Customers => &["account", "name", "currency", "timezone"],
        ImportKind::Invoices => &["account", "invoice", "issued", "due", "amount", "currency"],
        ImportKind::Payments => &[
            "account",
            "invoice",
            "paid_on",
            "amount",
            "currency",
            "reference",
        ],
    }
}

/// A field's schema, with an example that passes the import's checks.
fn property(kind: ImportKind, field: &str) -> Value {
    let text = |example: &str, description: &str| json!({"type": "string", "minLength": 1, "example": example, "description": description});
    let mut p = match field {
        "account" => text(
            "ACME-001",
            "The account code: one word of at most 64 characters.",
        ),
        "name" => text("Acme Corp", "The customer's name."),
        "email" => text("ap@acme.example", "Where reminders go."),
        "phone" => text(
            "+15558675310",
            "The contact's phone, in E.164 form (+, the country code, the number; spaces and dashes are ignored).",
        ),
        "currency" => json!({"type": "string", "pattern": "^[A-Za-z]{3}$", "example": "USD",
                              "description": "ISO 4217 code; an invoice's and a payment's must be its account's."}),
        "timezone" => text(
            "America/New_York",
            "IANA time zone: reminders reach the customer in working hours there.",
        ),
        "owner" => text("maria", "The collector who owns the account."),
        "contact_name" => text(
            "Jane Smith",
            "The person reminders greet (\"Dear Jane Smith,\"); absent: the customer's name.",
        ),
        "do_not_contact" => json!({"type": ["boolean", "string", "null"], "example": false,
                                    "description": "true/false, or yes/no as in the CSV file."}),
        "sms_consent" => json!({"type": ["boolean", "string", "null"], "example": true,
                                 "description": "The customer consents to reminder texts at `phone`: true/false, or yes/no. Absent: what is recorded stays. Never overrides the customer's own STOP."}),
        "invoice" => text("INV-1001", "The invoice number: unique across the ledger."),
        "issued" | "due" | "paid_on" => json!({"type": "string", "format": "date", "example":
            if field == "issued" { "2026-10-14" } else if field == "due" { "2026-11-13" } else { "2026-11-20" }}),
        "amount" => json!({"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$",
            "example": if kind == ImportKind::Payments { "250.00" } else { "1250.00" },
            "description": "Major units with a `.` decimal point, as a string (never a JSON number), more than zero."}),
        "reference" => text("PAY-77", "The payment's reference: unique per account."),
        other => text(other, ""),
    };
    if !required(kind).contains(&field)
        && let Some(t) = p.get("type").and_then(Value::as_str).map(str::to_string)
    {
        p["type"] = json!([t, "null"]);
    }
    p
}

fn row_schema(kind: ImportKind) -> Value {
    let props: Map<String, Value> = fields(kind)
        .into_iter()
        .map(|f| (f.to_string(), property(kind, f)))
        .collect();
    json!({"type": "object", "additionalProperties": false, "required": required(kind), "properties": props})
}

fn problem(description: &str) -> Value {
    json!({"description": description, "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}})
}

fn ingest_op(kind: ImportKind, what: &str, schema: &str) -> Value {
    json!({
        "summary": format!("Add or confirm {what}, up to {MAX_ROWS} a request, all or nothing"),
        "description": "The same fields, rules and messages as the CSV import. Rows already in the ledger unchanged are counted as unchanged; a repeated Idempotency-Key with the same body answers the first answer again.",
        "operationId": format!("post{schema}s"),
        "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {
            "type": "array", "minItems": 1, "maxItems": MAX_ROWS, "items": {"$ref": format!("#/components/schemas/{schema}")}}}}},
        "responses": {
            "200": {"description": "Written (or already there)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ImportResult"}}}},
            "400": problem("Not JSON, not an array of objects, an unknown field or a wrong type"),
            "401": problem("Missing or revoked token"),
            "409": problem("The Idempotency-Key was used with another body"),
            "413": problem("Over 10,000 rows or the body size limit"),
            "422": problem("Rows that break the import's rules, every one listed in errors"),
        },
        "x-dunbot-kind": format!("{kind:?}").to_ascii_lowercase(),
    })
}

/// `POST /api/v1/invoice-changes`.
fn changes_op() -> Value {
    json!({
    "summary": format!("Amount corrections, credit notes, voids and write-offs, up to {MAX_ROWS} a request, all or nothing"),
    "description": "Each change goes through the one path for invoice changes: recorded in the action log as the token; a change to a disputed invoice tells its owner, one to an invoice with an agency tells the agency. A voided or written-off invoice leaves the chase. The same body sent again changes nothing twice; a change with a `reference` is applied once.",
    "operationId": "postInvoiceChanges",
    "requestBody": {"required": true, "content": {"application/json": {"schema": {
        "type": "array", "minItems": 1, "maxItems": MAX_ROWS, "items": {"$ref": "#/components/schemas/InvoiceChange"}}}}},
    "responses": {
        "200": {"description": "Applied (or already so)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChangeResult"}}}},
        "400": problem("Not JSON, not an array of changes, an unknown field or a wrong type"),
        "401": problem("Missing or revoked token"),
        "413": problem("Over 10,000 changes or the body size limit"),
        "422": problem("Changes the ledger refuses (an unknown invoice, a credit above the open amount), every one listed in errors"),
    }})
}

fn change_schema() -> Value {
    json!({"type": "object", "additionalProperties": false, "required": ["invoice", "change"], "properties": {
                    "invoice": {"type": "string", "minLength": 1, "example": "INV-1001", "description": "The invoice number."},
                    "change": {"type": "string", "enum": ["amount", "credit_note", "void", "write_off"], "example": "void",
                        "description": "amount: `amount` is the invoice's new total; credit_note: `amount` comes off the open amount; void: nothing was owed; write_off: owed but given up."},
                    "amount": {"type": ["string", "null"], "pattern": "^[0-9]+(\\.[0-9]+)?$", "example": null,
                        "description": "For amount and credit_note: major units in the invoice's currency, as a string."},
                    "reason": {"type": ["string", "null"], "example": "duplicate invoice", "description": "Why, kept with the invoice."},
                    "reference": {"type": ["string", "null"], "example": "CN-0042", "description": "The billing system's id for the change: applied once."}}})
}

fn change_result() -> Value {
    json!({"type": "object", "required": ["rows", "changed", "unchanged"], "properties": {
                    "rows": {"type": "integer"}, "changed": {"type": "integer"}, "unchanged": {"type": "integer"},
                    "replayed": {"type": "boolean"}}})
}

/// The document.
pub fn document() -> Value {
    let money = json!({"type": "object", "required": ["minor", "amount", "currency"], "properties": {
        "minor": {"type": "integer"}, "amount": {"type": "string"}, "currency": {"type": "string"}}});
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {"title": "dunbot ingest API", "version": "1",
                 "description": "Customers, invoices and payments from any billing system into dunbot's ledger; account cards and the action log out."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/customers": {"post": ingest_op(ImportKind::Customers, "customers", "Customer")},
            "/api/v1/invoices": {"post": ingest_op(ImportKind::Invoices, "invoices", "Invoice")},
            "/api/v1/payments": {"post": ingest_op(ImportKind::Payments, "payments", "Payment")},
            "/api/v1/accounts/{code}": {"get": {
                "summary": "The account card: balance, buckets, stage, promises, plan, calls, flags, offers, receipt answers, last actions",
                "operationId": "getAccount",
                "parameters": [{"name": "code", "in": "path", "required": true, "schema": {"type": "string"}, "example": "ACME-001"}],
                "responses": {
                    "200": {"description": "The card", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AccountCard"}}}},
                    "401": problem("Missing or revoked token"),
                    "404": problem("No such account"),
                }}},
            "/api/v1/actions": {"get": {
                "summary": "The action log, oldest first, a page at a time",
                "operationId": "listActions",
                "parameters": [
                    {"name": "since", "in": "query", "schema": {"type": "string"}, "description": "A date (2026-11-01) or an RFC 3339 instant"},
                    {"name": "after_id", "in": "query", "schema": {"type": "integer", "minimum": 0}, "description": "Rows after this id (the cursor in `next`)"},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 100}},
                ],
                "responses": {
                    "200": {"description": "A page", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ActionPage"}}}},
                    "400": problem("A parameter is not what it should be"),
                    "401": problem("Missing or revoked token"),
                }}},
            "/api/v1/openapi.json": {"get": {
                "summary": "This document", "operationId": "openapi", "security": [],
                "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                "description": "A token from `dunbot token create NAME`."}},
            "parameters": {"IdempotencyKey": {"name": "Idempotency-Key", "in": "header", "required": false,
                "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                "description": "Per token: the same key with the same body answers the first answer; with another body, 409."}},
            "schemas": {
                "Customer": row_schema(ImportKind::Customers),
                "Invoice": row_schema(ImportKind::Invoices),
                "Payment": row_schema(ImportKind::Payments),
                "ImportResult": {"type": "object", "required": ["rows", "inserted", "unchanged"], "properties": {
                    "rows": {"type": "integer"}, "inserted": {"type": "integer"}, "unchanged": {"type": "integer"}}},
                "Problem": {"type": "object", "required": ["type", "title", "status", "detail"], "properties": {
                    "type": {"type": "string", "format": "uri"}, "title": {"type": "string"},
                    "status": {"type": "integer"}, "detail": {"type": "string"},
                    "errors": {"type": "array", "items": {"type": "object", "required": ["index", "field", "reason"], "properties": {
                        "index": {"type": "integer", "description": "0-based position in the array"},
                        "field": {"type": ["string", "null"]}, "reason": {"type": "string"}}}}}},
                "Money": money,
                "AccountCard": {"type": "object", "required": ["account", "name", "currency", "balance", "buckets", "invoices", "promises", "offers", "last_actions"], "properties": {
                    "account": {"type": "string"}, "name": {"type": "string"}, "currency": {"type": "string"},
                    "owner": {"type": ["string", "null"]}, "do_not_contact": {"type": "boolean"},
                    "texts": {"type": ["string", "null"], "description": "Consent to texts for the contact's phone, and the texts sent."},
                    "balance": {"$ref": "#/components/schemas/Money"},
                    "buckets": {"type": "array", "items": {"type": "object", "properties": {
                        "bucket": {"type": "string"}, "balance": {"$ref": "#/components/schemas/Money"}}}},
                    "stage": {"type": ["string", "null"]}, "next": {"type": ["object", "null"]},
                    "paused": {"type": ["object", "null"]}, "priority": {"type": ["integer", "null"]},
                    "invoices": {"type": "array", "items": {"type": "object"}},
                    "promises": {"type": "array", "items": {"type": "object"}},
                    "flag": {"type": ["object", "null"]},
                    "offers": {"type": "array", "items": {"type": "object"}},
                    "last_actions": {"type": "array", "items": {"$ref": "#/components/schemas/Action"}}}},
                "Action": {"type": "object", "required": ["id", "at", "kind", "outcome", "actor"], "properties": {
                    "id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"},
                    "kind": {"type": "string"}, "subject": {"type": ["string", "null"]}, "outcome": {"type": "string"},
                    "actor": {"type": "object"}, "channel": {"type": "string"}, "details": {"type": "object"}}},
                "ActionPage": {"type": "object", "required": ["actions", "next"], "properties": {
                    "actions": {"type": "array", "items": {"$ref": "#/components/schemas/Action"}},
                    "next": {"type": ["string", "null"], "description": "The next page's URL, while the page was full"}}},
            },
        },
    });
    doc["paths"]["/api/v1/invoice-changes"] = json!({"post": changes_op()});
    doc["components"]["schemas"]["InvoiceChange"] = change_schema();
    doc["components"]["schemas"]["ChangeResult"] = change_result();
    let card = &mut doc["components"]["schemas"]["AccountCard"]["properties"];
    card["plan"] = json!({"type": ["object", "null"], "description": "The latest payment plan, whatever its status."});
    card["last_call"] = json!({"type": ["object", "null"], "description": "The latest call: at, by, outcome, note."});
    card["call_back"] = json!({"type": ["object", "null"], "description": "A call-back agreed for today or later: on, agreed_by."});
    card["receipt_answers"] = json!({"type": "array", "items": {"type": "object"},
        "description": "The customer's answers on whether unpaid invoices arrived: invoice, answer, note, by, at."});
    doc
}

pub async fn serve() -> Json<Value> {
    Json(document())
}
