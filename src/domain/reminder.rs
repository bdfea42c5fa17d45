//! Whether a person may send an account a reminder now. One rule for both places that need
//! it: `ar remind` refuses by it, and the digest and the account card show "Send reminder"
//! only when it allows, so a button never offers what its command would refuse. The outbox
//! applies it once more when a queued reminder is about to leave (`send_time_refusal`).
use chrono::NaiveDate;

/// What the rule looks at, gathered from the ledger by the caller.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReminderFacts {
    pub do_not_contact: bool,
    /// Referred to a collection agency: the agency chases it, not us.
    pub with_agency: bool,
    /// Unpaid invoices we still chase (open: not disputed, not with an agency).
    pub open_invoices: bool,
    pub disputed_invoices: bool,
    /// A live promise-to-pay pauses chasing until this date (grace included).
    pub promised_until: Option<NaiveDate>,
    /// Calendar days since the last reminder was queued (0: earlier today).
    pub days_since_last: Option<i64>,
}

/// Why no reminder may go out. The first two are firm; the last two give way to `--force`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoReminder {
    DoNotContact,
    WithAgency,
    AllDisputed,
    NothingOpen,
    Promised { until: NaiveDate },
    TooSoon { days_ago: i64 },
}

impl NoReminder {
    /// `--force` sends anyway.
    pub fn forcible(&self) -> bool {
        matches!(
            self,
            NoReminder::Promised { .. } | NoReminder::TooSoon { .. }
        )
    }
}

/// `None`: a reminder may go out. `cooldown_days`: a reminder within this many calendar days
/// of the last one needs `force`.
pub fn reminder_refusal(f: &ReminderFacts, cooldown_days: i64, force: bool) -> Option<NoReminder> {
    let why = if f.do_not_contact {
        NoReminder::DoNotContact
    } else if f.with_agency {
        NoReminder::WithAgency
    } else if !f.open_invoices && f.disputed_invoices {
        NoReminder::AllDisputed
    } else if !f.open_invoices {
        NoReminder::NothingOpen
    } else if let Some(until) = f.promised_until {
        NoReminder::Promised { until }
    } else if let Some(days) = f.days_since_last.filter(|d| *d < cooldown_days) {
        NoReminder::TooSoon { days_ago: days }
    } else {
        return None;
    };
    (!(force && why.forcible())).then_some(why)
}

/// The invoice statuses dunbot chases. Every other status (paid, disputed, with an agency, and
/// any added later such as `void` or `written_off`) is not chaseable, so a new status leaves
/// the chase without this rule changing.
pub fn chaseable(status: &str) -> bool {
    status == "open"
}

/// One invoice a queued reminder named, as the ledger has it at send time (`None`: no longer
/// in the ledger).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedInvoice {
    pub number: String,
    pub now: Option<InvoiceNow>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceNow {
    pub status: String,
    pub balance_minor: i64,
}

/// What the ledger says when a queued reminder is about to leave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AtSend {
    pub do_not_contact: bool,
    pub with_agency: bool,
    /// A live promise-to-pay that was not there when the reminder was queued (one that was
    /// there was forced through by a person, so it does not stop it now).
    pub promised_until: Option<NaiveDate>,
    /// On hold now, and not when queued.
    pub held: bool,
    /// The invoices the reminder named when it was queued.
    pub queued: Vec<QueuedInvoice>,
    /// Whether anything is left to chase today in the reminder's scope (the account's open
    /// invoices, or the one invoice it was about).
    pub chaseable_now: bool,
}

/// `None`: the reminder may leave (re-rendered with today's figures). `Some(reason)`: it is not
/// sent, and the reason reads "not sent: paid since queued". The rule is `ar remind`'s own
/// (`reminder_refusal`), minus the cooldown, which was judged when it was queued.
pub fn send_time_refusal(f: &AtSend) -> Option<String> {
    let facts = ReminderFacts {
        do_not_contact: f.do_not_contact,
        with_agency: f.with_agency,
        open_invoices: f.chaseable_now,
        disputed_invoices: f
            .queued
            .iter()
            .any(|q| q.now.as_ref().is_some_and(|n| n.status == "disputed")),
        promised_until: f.promised_until,
        days_since_last: None,
    };
    let why = match reminder_refusal(&facts, 0, false) {
        None if f.held => "put on hold since queued".to_string(),
        None => return None,
        Some(NoReminder::DoNotContact) => "marked do-not-contact since queued".into(),
        Some(NoReminder::WithAgency) => "handed to a collection agency since queued".into(),
        Some(NoReminder::AllDisputed) => "disputed since queued".into(),
        Some(NoReminder::Promised { until }) => {
            format!("a promise to pay was logged since queued (chasing paused until {until})")
        }
        Some(NoReminder::NothingOpen | NoReminder::TooSoon { .. }) => nothing_left(&f.queued),
    };
    Some(format!("not sent: {why}"))
}

/// How a queued invoice left the chase, in words: `paid`, `written off`, `voided`, ...
fn gone(q: &QueuedInvoice) -> String {
    match &q.now {
        None => "removed from the ledger".into(),
        Some(n) if n.status == "open" && n.balance_minor <= 0 => "paid".into(),
        Some(n) => match n.status.as_str() {
            "void" | "voided" => "voided".into(),
            "with_agency" => "handed to a collection agency".into(),
            other => other.replace('_', " "),
        },
    }
}

/// "paid since queued" when every invoice went the same way, else each one named.
fn nothing_left(queued: &[QueuedInvoice]) -> String {
    let ways: Vec<String> = queued.iter().map(gone).collect();
    match ways.first() {
        Some(w) if ways.iter().all(|x| x == w) => format!("{w} since queued"),
        None => "nothing left to chase since queued".into(),
        Some(_) => format!(
            "nothing left to chase since queued ({})",
            queued
                .iter()
                .zip(&ways)
                .map(|(q, w)| format!("{} {w}", q.number))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(number: &str, status: &str, balance: i64) -> QueuedInvoice {
        QueuedInvoice {
            number: number.into(),
            now: Some(InvoiceNow {
                status: status.into(),
                balance_minor: balance,
            }),
        }
    }

    #[test]
    fn a_reminder_whose_invoices_were_paid_is_not_sent_and_says_so() {
        let f = AtSend {
            queued: vec![q("INV-1", "paid", 0), q("INV-2", "open", 0)],
            ..AtSend::default()
        };
        assert_eq!(
            send_time_refusal(&f).as_deref(),
            Some("not sent: paid since queued")
        );
    }

    #[test]
    fn any_status_but_open_leaves_the_chase_and_is_named() {
        assert!(chaseable("open"));
        for s in [
            "paid",
            "void",
            "written_off",
            "disputed",
            "with_agency",
            "refunded",
        ] {
            assert!(!chaseable(s), "{s}");
        }
        let f = AtSend {
            queued: vec![
                q("INV-1", "void", 100),
                q("INV-2", "written_off", 100),
                QueuedInvoice {
                    number: "INV-3".into(),
                    now: None,
                },
            ],
            ..AtSend::default()
        };
        assert_eq!(
            send_time_refusal(&f).as_deref(),
            Some(
                "not sent: nothing left to chase since queued (INV-1 voided, INV-2 written off, INV-3 removed from the ledger)"
            )
        );
    }

    #[test]
    fn something_left_to_chase_goes_unless_the_account_changed() {
        let base = AtSend {
            queued: vec![q("INV-1", "paid", 0), q("INV-2", "open", 50)],
            chaseable_now: true,
            ..AtSend::default()
        };
        assert_eq!(send_time_refusal(&base), None);
        let until = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        for (f, want) in [
            (
                AtSend {
                    promised_until: Some(until),
                    ..base.clone()
                },
                "not sent: a promise to pay was logged since queued (chasing paused until 2026-12-01)",
            ),
            (
                AtSend {
                    held: true,
                    ..base.clone()
                },
                "not sent: put on hold since queued",
            ),
            (
                AtSend {
                    do_not_contact: true,
                    ..base.clone()
                },
                "not sent: marked do-not-contact since queued",
            ),
            (
                AtSend {
                    with_agency: true,
                    ..base.clone()
                },
                "not sent: handed to a collection agency since queued",
            ),
        ] {
            assert_eq!(send_time_refusal(&f).as_deref(), Some(want));
        }
        let disputed = AtSend {
            queued: vec![q("INV-2", "disputed", 50)],
            ..AtSend::default()
        };
        assert_eq!(
            send_time_refusal(&disputed).as_deref(),
            Some("not sent: disputed since queued")
        );
    }

    fn open() -> ReminderFacts {
        ReminderFacts {
            open_invoices: true,
            ..ReminderFacts::default()
        }
    }

    #[test]
    fn an_open_uncontacted_account_may_be_reminded() {
        assert_eq!(reminder_refusal(&open(), 3, false), None);
        let old = ReminderFacts {
            days_since_last: Some(3),
            ..open()
        };
        assert_eq!(reminder_refusal(&old, 3, false), None);
    }

    #[test]
    fn firm_refusals_do_not_give_way_to_force() {
        let dnc = ReminderFacts {
            do_not_contact: true,
            ..open()
        };
        assert_eq!(
            reminder_refusal(&dnc, 3, true),
            Some(NoReminder::DoNotContact)
        );
        let agency = ReminderFacts {
            with_agency: true,
            ..open()
        };
        assert_eq!(
            reminder_refusal(&agency, 3, true),
            Some(NoReminder::WithAgency)
        );
        let disputed = ReminderFacts {
            disputed_invoices: true,
            ..ReminderFacts::default()
        };
        assert_eq!(
            reminder_refusal(&disputed, 3, true),
            Some(NoReminder::AllDisputed)
        );
        assert_eq!(
            reminder_refusal(&ReminderFacts::default(), 3, true),
            Some(NoReminder::NothingOpen)
        );
    }

    #[test]
    fn a_promise_or_a_recent_reminder_holds_it_back_unless_forced() {
        let until = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let promised = ReminderFacts {
            promised_until: Some(until),
            ..open()
        };
        assert_eq!(
            reminder_refusal(&promised, 3, false),
            Some(NoReminder::Promised { until })
        );
        assert_eq!(reminder_refusal(&promised, 3, true), None);
        let recent = ReminderFacts {
            days_since_last: Some(1),
            ..open()
        };
        assert_eq!(
            reminder_refusal(&recent, 3, false),
            Some(NoReminder::TooSoon { days_ago: 1 })
        );
        assert_eq!(reminder_refusal(&recent, 3, true), None);
    }
}
