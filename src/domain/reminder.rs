//! Whether a person may send an account a reminder now. One rule for both places that need
//! it: `ar remind` refuses by it, and the digest and the account card show "Send reminder"
//! only when it allows, so a button never offers what its command would refuse.
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

#[cfg(test)]
mod tests {
    use super::*;

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
