//! What a billing system's change does to an invoice: an amount correction, a credit note,
//! a void, a write-off or a refund. Pure: the caller loads the invoice and writes the effect.
use serde::Serialize;

/// The invoice statuses dunbot chases; everything else (`paid`, `void`, `written_off`,
/// `credited`, `autocharge`) is left alone by the digest, the card, reminders and aging.
pub const CHASED: [&str; 3] = ["open", "disputed", "with_agency"];

pub fn is_chased(status: &str) -> bool {
    CHASED.contains(&status)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangeKind {
    /// The invoice's amount is now this (minor units).
    Amount { new_minor: i64 },
    /// A credit note reduces the open amount by this.
    CreditNote { minor: i64 },
    /// Cancelled: nothing was ever owed.
    Void,
    /// Owed but given up on.
    WriteOff,
    /// Money given back on a payment; the invoice is not chased again for it.
    Refund { minor: i64 },
}

impl ChangeKind {
    pub fn key(&self) -> &'static str {
        match self {
            ChangeKind::Amount { .. } => "amount",
            ChangeKind::CreditNote { .. } => "credit_note",
            ChangeKind::Void => "void",
            ChangeKind::WriteOff => "write_off",
            ChangeKind::Refund { .. } => "refund",
        }
    }
}

/// The invoice as it stands.
#[derive(Debug, Clone, Copy)]
pub struct Current<'a> {
    pub amount_minor: i64,
    pub paid_minor: i64,
    pub status: &'a str,
}

/// Who must hear about a change: a disputed invoice's owner, the agency holding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tell {
    Nobody,
    Owner,
    Agency,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effect {
    pub amount_minor: i64,
    pub status: String,
    /// False when the invoice already stood so (a repeated void): nothing to write or tell.
    pub changed: bool,
    pub tell: Tell,
}

/// The status once `amount` is covered by `paid`: paid if money came in, else credited away.
fn settled(paid: i64) -> &'static str {
    if paid > 0 { "paid" } else { "credited" }
}

/// Applies `change` to `cur`, or says why it cannot be (the message names what to send
/// instead). `number` is only for the messages.
pub fn plan(number: &str, cur: Current<'_>, change: &ChangeKind) -> Result<Effect, String> {
    let tell = match cur.status {
        "disputed" => Tell::Owner,
        "with_agency" => Tell::Agency,
        _ => Tell::Nobody,
    };
    let open = cur.amount_minor - cur.paid_minor;
    let closed = matches!(cur.status, "void" | "written_off" | "credited");
    let effect = |amount_minor: i64, status: &str| Effect {
        changed: amount_minor != cur.amount_minor || status != cur.status,
        amount_minor,
        status: status.to_string(),
        tell,
    };
    match *change {
        ChangeKind::Amount { new_minor } => {
            if new_minor < 0 {
                return Err(format!(
                    "invoice {number}: an amount cannot be negative; send the corrected amount, e.g. 1250.00, or a credit note"
                ));
            }
            if new_minor < cur.paid_minor {
                return Err(format!(
                    "invoice {number}: {} is already paid, more than the corrected amount; send a refund or a credit note instead",
                    cur.paid_minor
                ));
            }
            let status = if closed {
                cur.status
            } else if new_minor <= cur.paid_minor {
                settled(cur.paid_minor)
            } else if cur.status == "paid" {
                "open"
            } else {
                cur.status
            };
            Ok(effect(new_minor, status))
        }
        ChangeKind::CreditNote { minor } => {
            if minor <= 0 {
                return Err(format!(
                    "invoice {number}: a credit note must be more than zero, e.g. 100.00"
                ));
            }
            if closed {
                return Err(format!(
                    "invoice {number} is {}: there is nothing open to credit",
                    cur.status.replace('_', " ")
                ));
            }
            if minor > open {
                return Err(format!(
                    "invoice {number}: the credit note ({minor}) is more than the open amount ({open}); credit at most {open}, or refund the rest"
                ));
            }
            let amount = cur.amount_minor - minor;
            let status = if amount <= cur.paid_minor {
                settled(cur.paid_minor)
            } else {
                cur.status
            };
            Ok(effect(amount, status))
        }
        ChangeKind::Void | ChangeKind::WriteOff => {
            let to = if *change == ChangeKind::Void {
                "void"
            } else {
                "written_off"
            };
            if cur.status == to {
                return Ok(effect(cur.amount_minor, to));
            }
            if cur.status == "paid" || (closed && cur.status != "written_off") {
                return Err(format!(
                    "invoice {number} is {}: only an unpaid invoice can be {}",
                    cur.status.replace('_', " "),
                    if to == "void" {
                        "voided"
                    } else {
                        "written off"
                    }
                ));
            }
            Ok(effect(cur.amount_minor, to))
        }
        ChangeKind::Refund { minor } => {
            if minor <= 0 {
                return Err(format!(
                    "invoice {number}: a refund must be more than zero, e.g. 100.00"
                ));
            }
            // Recorded and told, but not chased again: the company chose to give it back.
            Ok(Effect {
                changed: true,
                ..effect(cur.amount_minor, cur.status)
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(amount: i64, paid: i64, status: &str) -> Current<'_> {
        Current {
            amount_minor: amount,
            paid_minor: paid,
            status,
        }
    }

    #[test]
    fn a_credit_note_reduces_the_open_amount_and_can_settle_it() {
        let e = plan(
            "INV-1",
            cur(1000, 0, "open"),
            &ChangeKind::CreditNote { minor: 300 },
        )
        .unwrap();
        assert_eq!(
            (e.amount_minor, e.status.as_str(), e.changed),
            (700, "open", true)
        );
        let e = plan(
            "INV-1",
            cur(1000, 400, "open"),
            &ChangeKind::CreditNote { minor: 600 },
        )
        .unwrap();
        assert_eq!((e.amount_minor, e.status.as_str()), (400, "paid"));
        let e = plan(
            "INV-1",
            cur(1000, 0, "open"),
            &ChangeKind::CreditNote { minor: 1000 },
        )
        .unwrap();
        assert_eq!((e.amount_minor, e.status.as_str()), (0, "credited"));
        assert!(!is_chased(&e.status));
    }

    #[test]
    fn a_credit_note_above_the_open_amount_is_refused_with_what_to_send() {
        let e = plan(
            "INV-1",
            cur(1000, 600, "open"),
            &ChangeKind::CreditNote { minor: 500 },
        )
        .unwrap_err();
        assert!(e.contains("credit at most 400"), "{e}");
        let e = plan(
            "INV-1",
            cur(1000, 0, "void"),
            &ChangeKind::CreditNote { minor: 5 },
        )
        .unwrap_err();
        assert!(e.contains("nothing open"), "{e}");
        assert!(
            plan(
                "INV-1",
                cur(1000, 0, "open"),
                &ChangeKind::CreditNote { minor: 0 }
            )
            .is_err()
        );
    }

    #[test]
    fn voids_and_write_offs_leave_the_chase_and_repeat_as_no_change() {
        let e = plan("INV-1", cur(1000, 0, "open"), &ChangeKind::Void).unwrap();
        assert_eq!((e.status.as_str(), e.changed), ("void", true));
        assert!(!is_chased("void") && !is_chased("written_off"));
        let again = plan("INV-1", cur(1000, 0, "void"), &ChangeKind::Void).unwrap();
        assert!(!again.changed);
        let w = plan("INV-1", cur(1000, 200, "open"), &ChangeKind::WriteOff).unwrap();
        assert_eq!(w.status, "written_off");
        assert!(plan("INV-1", cur(1000, 1000, "paid"), &ChangeKind::Void).is_err());
        // Stripe lets an uncollectible invoice be voided afterwards.
        assert_eq!(
            plan("INV-1", cur(1000, 0, "written_off"), &ChangeKind::Void)
                .unwrap()
                .status,
            "void"
        );
    }

    #[test]
    fn amount_corrections_reopen_or_settle() {
        let e = plan(
            "INV-1",
            cur(1000, 1000, "paid"),
            &ChangeKind::Amount { new_minor: 1500 },
        )
        .unwrap();
        assert_eq!((e.amount_minor, e.status.as_str()), (1500, "open"));
        let e = plan(
            "INV-1",
            cur(1000, 800, "open"),
            &ChangeKind::Amount { new_minor: 800 },
        )
        .unwrap();
        assert_eq!(e.status, "paid");
        let e = plan(
            "INV-1",
            cur(1000, 800, "open"),
            &ChangeKind::Amount { new_minor: 700 },
        )
        .unwrap_err();
        assert!(e.contains("credit note"), "{e}");
        assert!(
            !plan(
                "INV-1",
                cur(1000, 0, "open"),
                &ChangeKind::Amount { new_minor: 1000 }
            )
            .unwrap()
            .changed
        );
    }

    #[test]
    fn disputed_and_agency_invoices_are_changed_and_someone_is_told() {
        let e = plan(
            "INV-1",
            cur(1000, 0, "disputed"),
            &ChangeKind::CreditNote { minor: 100 },
        )
        .unwrap();
        assert_eq!((e.status.as_str(), e.tell), ("disputed", Tell::Owner));
        let e = plan("INV-1", cur(1000, 0, "with_agency"), &ChangeKind::Void).unwrap();
        assert_eq!((e.status.as_str(), e.tell), ("void", Tell::Agency));
        assert_eq!(
            plan("INV-1", cur(1000, 0, "open"), &ChangeKind::Void)
                .unwrap()
                .tell,
            Tell::Nobody
        );
    }
}
