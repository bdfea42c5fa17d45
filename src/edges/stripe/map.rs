//! Stripe's objects as dunbot reads them, and the pure rules of the mapping: minor units
//! per currency (Stripe's zero-decimal list is not ISO's), statuses, dates.
use crate::domain::money::Currency;
use chrono::{DateTime, NaiveDate};
use chrono_tz::Tz;
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Deserialize)]
pub struct Customer {
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub currency: Option<String>,
    #[serde(default)]
    pub metadata: HashMap<String, String>,
    #[serde(default)]
    pub deleted: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct StatusTransitions {
    pub finalized_at: Option<i64>,
    pub paid_at: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Invoice {
    pub id: String,
    pub number: Option<String>,
    /// A customer id, or the customer expanded.
    pub customer: serde_json::Value,
    pub customer_name: Option<String>,
    pub customer_email: Option<String>,
    pub currency: String,
    pub status: Option<String>,
    pub amount_due: i64,
    pub amount_paid: i64,
    pub amount_remaining: i64,
    #[serde(default)]
    pub pre_payment_credit_notes_amount: i64,
    #[serde(default)]
    pub post_payment_credit_notes_amount: i64,
    pub due_date: Option<i64>,
    pub created: i64,
    #[serde(default)]
    pub attempted: bool,
    #[serde(default)]
    pub status_transitions: StatusTransitions,
}

impl Invoice {
    pub fn customer_id(&self) -> Option<&str> {
        self.customer
            .as_str()
            .or_else(|| self.customer.get("id").and_then(|v| v.as_str()))
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct CreditNote {
    pub id: String,
    pub number: Option<String>,
    pub invoice: serde_json::Value,
    pub currency: String,
    pub total: i64,
    pub reason: Option<String>,
    pub memo: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Charge {
    pub id: String,
    pub invoice: Option<serde_json::Value>,
    pub currency: String,
    pub amount_refunded: i64,
}

/// An id field that may be expanded into the object.
pub fn id_of(v: &serde_json::Value) -> Option<&str> {
    v.as_str().or_else(|| v.get("id").and_then(|v| v.as_str()))
}

/// Stripe's zero-decimal currencies (its "Supported currencies" page): API amounts are whole
/// units even where ISO 4217 has a minor unit (MGA).
const STRIPE_ZERO_DECIMAL: [&str; 16] = [
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
];

/// Decimals in Stripe's API amounts for `cur`: 0 for its zero-decimal list, 2 for ISK (ISO
/// has none), else ISO's.
pub fn stripe_exponent(cur: Currency) -> u32 {
    if STRIPE_ZERO_DECIMAL.contains(&cur.code()) {
        0
    } else if cur.code() == "ISK" {
        2
    } else {
        cur.exponent()
    }
}

/// Stripe's lowercase code to ISO (`usd` → USD), refusing what ISO does not know.
pub fn currency(code: &str) -> Result<Currency, String> {
    Currency::parse(code).map_err(|e| format!("Stripe currency {code:?}: {e}"))
}

/// A Stripe API amount in dunbot's minor units for `cur` (ISO's exponent).
pub fn to_minor(stripe_amount: i64, cur: Currency) -> i64 {
    let (ours, theirs) = (cur.exponent(), stripe_exponent(cur));
    if ours >= theirs {
        stripe_amount * 10_i64.pow(ours - theirs)
    } else {
        stripe_amount / 10_i64.pow(theirs - ours)
    }
}

/// Where a Stripe invoice stands, as dunbot keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Not finalised (draft, deleted): nothing to chase yet.
    Skip,
    Open,
    /// Charged automatically and no charge has failed yet: not chased.
    AutoCharge,
    Uncollectible,
    Paid,
    Void,
}

pub fn target(inv: &Invoice) -> Target {
    match inv.status.as_deref() {
        _ if inv.number.is_none() => Target::Skip,
        Some("open") if inv.due_date.is_none() && !inv.attempted => Target::AutoCharge,
        Some("open") => Target::Open,
        Some("paid") => Target::Paid,
        Some("void") => Target::Void,
        Some("uncollectible") => Target::Uncollectible,
        _ => Target::Skip,
    }
}

/// How far along Stripe's one-way lifecycle a state is (open → uncollectible → paid or
/// void): an event carrying an earlier state than the ledger holds arrived late and does not
/// move the invoice back.
pub fn rank_of_target(t: Target) -> u8 {
    match t {
        Target::Skip => 0,
        Target::Open | Target::AutoCharge => 1,
        Target::Uncollectible => 2,
        Target::Paid | Target::Void => 3,
    }
}

pub fn rank_of_status(status: &str) -> u8 {
    match status {
        "written_off" => 2,
        "paid" | "void" | "credited" => 3,
        _ => 1,
    }
}

/// The invoice's amount before credit notes, in Stripe's units: what is due now plus the
/// credit notes Stripe has already netted from it. dunbot subtracts the credit notes it has
/// recorded, so the result is the same whichever of the two events arrives first.
pub fn gross(inv: &Invoice) -> i64 {
    inv.amount_due.max(inv.amount_paid + inv.amount_remaining)
        + inv.pre_payment_credit_notes_amount
        + inv.post_payment_credit_notes_amount
}

/// A Unix time as a calendar date in the company's time zone.
pub fn date(unix: i64, tz: Tz) -> NaiveDate {
    DateTime::from_timestamp(unix, 0)
        .unwrap_or_default()
        .with_timezone(&tz)
        .date_naive()
}

/// The account code: metadata `dunbot_account` when set, else the customer id.
pub fn account_code(c: &Customer) -> String {
    c.metadata
        .get("dunbot_account")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .unwrap_or(&c.id)
        .to_string()
}

/// The customer's time zone from metadata (`time_zone` or `timezone`), when it is a real one.
pub fn time_zone(c: &Customer) -> Option<String> {
    ["time_zone", "timezone"]
        .iter()
        .filter_map(|k| c.metadata.get(*k))
        .find(|v| v.trim().parse::<Tz>().is_ok())
        .map(|v| v.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(c: &str) -> Currency {
        currency(c).unwrap()
    }

    #[test]
    fn zero_decimal_and_special_currencies_convert_right() {
        assert_eq!(to_minor(1000, cur("usd")), 1000);
        assert_eq!(to_minor(500, cur("jpy")), 500);
        assert_eq!(to_minor(500, cur("krw")), 500);
        // ISK: two decimals in Stripe's API, none in ISO.
        assert_eq!(to_minor(10_000, cur("isk")), 100);
        // MGA: zero-decimal in Stripe, two decimals in ISO.
        assert_eq!(to_minor(500, cur("mga")), 50_000);
        assert_eq!(to_minor(5120, cur("kwd")), 5120);
        assert!(currency("zzz").is_err());
    }

    fn invoice(status: &str, number: Option<&str>, due: Option<i64>, attempted: bool) -> Invoice {
        // The fields of Stripe's published invoice example that the mapping reads.
        let mut v = serde_json::json!({"id": "in_1", "customer": "cus_1", "currency": "usd",
            "amount_due": 1000, "amount_paid": 0, "amount_remaining": 1000, "created": 1234567890});
        v["status"] = status.into();
        v["number"] = number.into();
        v["due_date"] = due.into();
        v["attempted"] = attempted.into();
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn statuses_map_and_late_events_do_not_move_back() {
        assert_eq!(target(&invoice("draft", None, None, false)), Target::Skip);
        assert_eq!(
            target(&invoice("open", Some("A-1"), Some(1), false)),
            Target::Open
        );
        assert_eq!(
            target(&invoice("open", Some("A-1"), None, false)),
            Target::AutoCharge
        );
        assert_eq!(
            target(&invoice("open", Some("A-1"), None, true)),
            Target::Open
        );
        assert_eq!(
            target(&invoice("paid", Some("A-1"), None, true)),
            Target::Paid
        );
        assert!(rank_of_status("paid") > rank_of_target(Target::Open));
        assert!(rank_of_status("written_off") < rank_of_target(Target::Paid));
    }

    #[test]
    fn gross_adds_back_netted_credit_notes() {
        let mut i = invoice("open", Some("A-1"), Some(1), false);
        i.amount_due = 310;
        i.amount_remaining = 310;
        i.pre_payment_credit_notes_amount = 690;
        assert_eq!(gross(&i), 1000);
    }
}
