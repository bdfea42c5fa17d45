//! `GET /api/v1/accounts/{code}` and `GET /api/v1/actions`.
use super::{Problem, auth};
use crate::app::App;
use crate::app::api::ApiCard;
use crate::domain::money::Money;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// The most rows one page of the log holds.
pub const MAX_PAGE: i64 = 1000;
const DEFAULT_PAGE: i64 = 100;

pub async fn account(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Result<Json<Value>, Problem> {
    auth::caller(&app, &headers).await?;
    match crate::app::api::account_card(&app, &code).await? {
        Some(card) => Ok(Json(card_json(&card))),
        None => Err(Problem::not_found(format!(
            "There is no account {code:?}. Account codes look like ACME-001."
        ))),
    }
}

/// An amount as minor units, a plain decimal string and its currency.
fn money(m: Money) -> Value {
    json!({"minor": m.minor, "amount": m.plain(), "currency": m.currency.code()})
}

/// The card as JSON: the same figures `ar account` shows, unrounded and machine-readable.
fn card_json(api: &ApiCard) -> Value {
    let c = &api.card;
    let cur = c.currency;
    let a = &c.account;
    let st = c.standing.as_ref();
    json!({
        "account": a.code,
        "name": a.name,
        "currency": cur.code(),
        "owner": a.owner,
        "do_not_contact": a.do_not_contact,
        "hold": a.held.then(|| json!({"until": a.hold_until})),
        "contact": c.contact,
        "texts": c.texts,
        "balance": money(Money::new(c.balance_minor, cur)),
        "buckets": c.buckets.iter().map(|(b, v)| json!({"bucket": b.label(), "balance": money(Money::new(*v, cur))})).collect::<Vec<_>>(),
        "stage": st.and_then(|s| s.stage).map(|s| s.key()),
        "next": st.and_then(|s| s.view.as_ref()).and_then(|v| v.next).map(|(s, on)| json!({"stage": s.key(), "on": on})),
        "paused": st.and_then(|s| s.paused),
        "track_record": st.map(|s| json!({
            "plan": if s.track.is_repeat() { "repeat" } else { "first_time" },
            "late_invoices": s.track.past_delinquencies, "broken_promises": s.track.broken_promises,
        })),
        "priority": st.map(|s| s.priority),
        "days_past_due": st.map(|s| s.days_past_due),
        "invoices": c.invoices.iter().map(|i| json!({
            "invoice": i.number, "issued": i.issued, "due": i.due, "status": i.status,
            "amount": money(Money::new(i.amount_minor, cur)),
            "open": money(Money::new(i.balance_minor(), cur)),
        })).collect::<Vec<_>>(),
        "promises": c.promises.iter().map(|p| json!({
            "id": p.id, "amount": money(Money::new(p.amount_minor, cur)), "promised_for": p.promised_for,
            "logged_on": p.logged_on, "logged_by": p.logged_by, "status": p.status, "note": p.note,
        })).collect::<Vec<_>>(),
        "flag": c.flag.as_ref().map(|f| json!({"reason": f.reason, "flagged_by": f.flagged_by, "flagged_at": f.flagged_at})),
        "offers": c.offers.iter().map(|o| json!({
            "id": o.id, "amount": money(Money::new(o.amount_minor, cur)), "status": o.status, "note": o.note,
            "offered_by": o.offered_by, "offered_at": o.offered_at, "decided_by": o.decided_by, "decided_at": o.decided_at,
        })).collect::<Vec<_>>(),
        "last_actions": c.recent.iter().map(action_json).collect::<Vec<_>>(),
        "plan": api.plan.as_ref().map(|p| json!({
            "id": p.id, "total": money(Money::new(p.total_minor, cur)), "installments": p.installments,
            "cadence": p.cadence, "first_due": p.first_due, "status": p.status, "created_by": p.created_by,
            "broken_installment": p.broken_installment, "close_reason": p.close_reason,
        })),
        "last_call": api.last_call.as_ref().map(|e| json!({
            "at": e.at, "by": e.by, "outcome": e.details.get("outcome"), "note": e.details.get("note"),
        })),
        "call_back": api.call_back.as_ref().map(|cb| json!({"on": cb.callback_on, "agreed_by": cb.called_by})),
        "receipt_answers": api.receipt_answers.iter().map(|r| json!({
            "invoice": r.number, "answer": r.answer, "note": r.note, "by": r.answered_by, "at": r.answered_at,
        })).collect::<Vec<_>>(),
    })
}

/// One action as the API shows it: the stored reply stays out (it is the chat's rendering).
fn action_json(a: &crate::store::actions::ActionRow) -> Value {
    let mut details = a.details.clone();
    if let Some(d) = details.as_object_mut() {
        d.remove("reply");
    }
    json!({
        "id": a.id, "at": a.at, "kind": a.kind, "subject": a.subject, "outcome": a.outcome,
        "actor": {"platform": a.actor_platform, "id": a.actor_id, "name": a.actor_name},
        "channel": a.channel, "details": details,
    })
}

/// `since`: a date (`2026-11-01`, midnight UTC) or an RFC 3339 instant.
fn since(v: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .ok()
        .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

pub async fn actions(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, Problem> {
    auth::caller(&app, &headers).await?;
    if let Some(k) = q
        .keys()
        .find(|k| !["since", "after_id", "limit"].contains(&k.as_str()))
    {
        return Err(Problem::bad_request(format!(
            "unknown parameter {k:?}; the parameters are since, after_id and limit"
        )));
    }
    let from = match q.get("since") {
        None => None,
        Some(v) => Some(since(v).ok_or_else(|| {
            Problem::bad_request(format!(
                "since {v:?} is not a date like 2026-11-01 or an instant like 2026-11-01T08:00:00Z"
            ))
        })?),
    };
    let after_id = match q.get("after_id") {
        None => 0,
        Some(v) => v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            Problem::bad_request(format!(
                "after_id {v:?} is not an action id; use the `next` link of the previous page"
            ))
        })?,
    };
    let limit = match q.get("limit") {
        None => DEFAULT_PAGE,
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| {
                Problem::bad_request(format!("limit {v:?} must be a number from 1 to {MAX_PAGE}"))
            })?,
    };
    let rows = crate::app::api::actions_page(&app, from, after_id, limit).await?;
    // A full page may have more after it; a short one is the end for now.
    let next = (rows.len() as i64 == limit).then(|| {
        let last = rows.last().map(|a| a.id).unwrap_or(after_id);
        let mut qs = url::form_urlencoded::Serializer::new(String::new());
        if let Some(s) = q.get("since") {
            qs.append_pair("since", s);
        }
        qs.append_pair("after_id", &last.to_string());
        qs.append_pair("limit", &limit.to_string());
        format!("/api/v1/actions?{}", qs.finish())
    });
    Ok(Json(json!({
        "actions": rows.iter().map(action_json).collect::<Vec<_>>(),
        "next": next,
    })))
}
