//! The collections policy: which stage an account is in for any as-of date.
use super::calendar::Calendar;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    FriendlyReminder,
    DayAfterReminder,
    LateFeeWarning,
    Inquiry,
    FirmNotice,
    ManagementCall,
    AgencyReferral,
}

/// The tone of a reminder email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    Friendly,
    Firm,
    Final,
}

impl Tone {
    pub fn parse(s: &str) -> Option<Tone> {
        todo!("{s}")
    }
    pub fn key(&self) -> &'static str {
        todo!()
    }
}

impl Stage {
    /// Inquiry, management call and agency referral need a person; the rest are reminders.
    pub fn needs_person(&self) -> bool {
        todo!()
    }
    /// Human label, e.g. `Management call`.
    pub fn label(&self) -> &'static str {
        todo!()
    }
    /// The serde key, e.g. `management_call`.
    pub fn key(&self) -> &'static str {
        todo!()
    }
    /// Reminder stages map to a tone (friendly, day-after: friendly; late-fee warning: firm;
    /// firm notice: final); person stages to none.
    pub fn tone(&self) -> Option<Tone> {
        todo!()
    }
}

/// One step: the stage begins `offset` business days after the due date (negative: before).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub stage: Stage,
    pub offset: i32,
}

/// Steps sorted by offset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub first_time: Plan,
    pub repeat: Plan,
}

/// What the account did before: it decides which plan applies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TrackRecord {
    /// Earlier invoices paid after their due date.
    pub past_delinquencies: u32,
    pub broken_promises: u32,
}

impl TrackRecord {
    pub fn is_repeat(&self) -> bool {
        self.past_delinquencies > 0 || self.broken_promises > 0
    }
}

/// Why chasing is paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Pause {
    /// An active promise-to-pay; chasing resumes the day after `until` (+ grace) if broken.
    Promise { until: NaiveDate },
    /// Every overdue invoice is disputed.
    Dispute,
    /// A person put the account on hold (until a date, or until lifted).
    Hold { until: Option<NaiveDate> },
    /// Referred to a collection agency: the agency chases now.
    WithAgency,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageView {
    /// The latest step reached (by offset) for the oldest chased invoice; `None` before the first.
    pub stage: Option<Stage>,
    /// The next step and the date it begins.
    pub next: Option<(Stage, NaiveDate)>,
    pub paused: Option<Pause>,
    /// `Calendar::business_days_between(oldest_due, as_of)`.
    pub business_days_past_due: i32,
    pub repeat_plan: bool,
}

impl Policy {
    /// First-time: friendly -3, day-after +1, late-fee warning +5, inquiry +10, firm notice +15,
    /// management call +25, agency referral +40. Repeat (faster): -3, +1, +3, +5, +8, +12, +20.
    pub fn defaults() -> Policy {
        todo!()
    }

    /// TOML with `[[first_time]]` and `[[repeat]]` arrays of `{ stage = "inquiry", offset = 10 }`.
    /// Every stage must appear exactly once per plan, in non-decreasing offset order.
    pub fn from_toml(text: &str) -> Result<Policy, String> {
        todo!("{text}")
    }

    pub fn to_toml(&self) -> String {
        todo!()
    }

    pub fn plan_for(&self, track: &TrackRecord) -> &Plan {
        if track.is_repeat() {
            &self.repeat
        } else {
            &self.first_time
        }
    }

    /// The account's stage on `as_of`, counted from the due date of its oldest chased
    /// (open, undisputed) invoice. A pause freezes reporting of the stage (still computed)
    /// and means no step is due.
    pub fn evaluate(
        &self,
        cal: &Calendar,
        track: &TrackRecord,
        oldest_due: NaiveDate,
        as_of: NaiveDate,
        paused: Option<Pause>,
    ) -> StageView {
        todo!("{cal:?}{track:?}{oldest_due}{as_of}{paused:?}")
    }

    /// The steps whose start date is exactly `date` for an invoice due on `due` (what an
    /// automatic job would send that day). Empty on non-business days.
    pub fn steps_due_on(
        &self,
        cal: &Calendar,
        track: &TrackRecord,
        due: NaiveDate,
        date: NaiveDate,
    ) -> Vec<Stage> {
        todo!("{cal:?}{track:?}{due}{date}")
    }
}
