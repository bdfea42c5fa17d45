//! The collections policy: which stage an account is in for any as-of date.
use super::calendar::Calendar;
use crate::domain::approval::{Limits, Tier};
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
    pub const ALL: [Tone; 3] = [Tone::Friendly, Tone::Firm, Tone::Final];

    /// Case-insensitive key.
    pub fn parse(s: &str) -> Option<Tone> {
        let s = s.trim().to_ascii_lowercase();
        Tone::ALL.into_iter().find(|t| t.key() == s)
    }
    /// The serde key, e.g. `firm`.
    pub fn key(&self) -> &'static str {
        match self {
            Tone::Friendly => "friendly",
            Tone::Firm => "firm",
            Tone::Final => "final",
        }
    }
}

impl Stage {
    pub const ALL: [Stage; 7] = [
        Stage::FriendlyReminder,
        Stage::DayAfterReminder,
        Stage::LateFeeWarning,
        Stage::Inquiry,
        Stage::FirmNotice,
        Stage::ManagementCall,
        Stage::AgencyReferral,
    ];

    /// Case-insensitive serde key (`management_call`).
    pub fn parse(s: &str) -> Option<Stage> {
        let s = s.trim().to_ascii_lowercase();
        Stage::ALL.into_iter().find(|st| st.key() == s)
    }

    /// Inquiry, management call and agency referral need a person; the rest are reminders.
    pub fn needs_person(&self) -> bool {
        matches!(
            self,
            Stage::Inquiry | Stage::ManagementCall | Stage::AgencyReferral
        )
    }
    /// Human label, e.g. `Management call`.
    pub fn label(&self) -> &'static str {
        match self {
            Stage::FriendlyReminder => "Friendly reminder",
            Stage::DayAfterReminder => "Day-after reminder",
            Stage::LateFeeWarning => "Late-fee warning",
            Stage::Inquiry => "Inquiry",
            Stage::FirmNotice => "Firm notice",
            Stage::ManagementCall => "Management call",
            Stage::AgencyReferral => "Agency referral",
        }
    }
    /// The serde key, e.g. `management_call`.
    pub fn key(&self) -> &'static str {
        match self {
            Stage::FriendlyReminder => "friendly_reminder",
            Stage::DayAfterReminder => "day_after_reminder",
            Stage::LateFeeWarning => "late_fee_warning",
            Stage::Inquiry => "inquiry",
            Stage::FirmNotice => "firm_notice",
            Stage::ManagementCall => "management_call",
            Stage::AgencyReferral => "agency_referral",
        }
    }
    /// Reminder stages map to a tone (friendly, day-after: friendly; late-fee warning: firm;
    /// firm notice: final); person stages to none.
    pub fn tone(&self) -> Option<Tone> {
        match self {
            Stage::FriendlyReminder | Stage::DayAfterReminder => Some(Tone::Friendly),
            Stage::LateFeeWarning => Some(Tone::Firm),
            Stage::FirmNotice => Some(Tone::Final),
            Stage::Inquiry | Stage::ManagementCall | Stage::AgencyReferral => None,
        }
    }
}

/// How a step's automatic reminder reaches the customer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    #[default]
    Email,
    /// A text, to customers who consented to texts (see `app::texts`).
    Sms,
    Both,
}

impl Channel {
    pub fn key(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Both => "both",
        }
    }

    fn is_email(&self) -> bool {
        *self == Channel::Email
    }
}

/// One step: the stage begins `offset` business days after the due date (negative: before),
/// and its reminder goes by `channel` (email unless the policy file says otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub stage: Stage,
    pub offset: i32,
    #[serde(default)]
    pub channel: Channel,
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
    /// Who approves a settlement offer, by the share of the balance it recovers.
    pub settlement_approval: Limits,
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

/// The policy file's shape: strict, so a misspelt key is an error, not a silent default.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    /// Absent: the default plan (a file may set only approval limits or late fees).
    #[serde(default)]
    first_time: Option<Vec<StepFile>>,
    #[serde(default)]
    repeat: Option<Vec<StepFile>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    settlement_approval: Vec<Tier>,
    /// Read by `late_fee::LateFeePolicy::from_policy_toml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    late_fees: Option<toml::Value>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepFile {
    stage: Stage,
    offset: i32,
    #[serde(default, skip_serializing_if = "Channel::is_email")]
    channel: Channel,
}

impl Plan {
    /// Builds a plan from `(stage, offset)` pairs in order.
    fn of(steps: &[(Stage, i32)]) -> Plan {
        Plan {
            steps: steps
                .iter()
                .map(|&(stage, offset)| Step {
                    stage,
                    offset,
                    channel: Channel::Email,
                })
                .collect(),
        }
    }

    /// Every stage exactly once, offsets non-decreasing; `name` is the TOML array for messages.
    fn validate(&self, name: &str) -> Result<(), String> {
        for stage in Stage::ALL {
            match self.steps.iter().filter(|s| s.stage == stage).count() {
                1 => {}
                0 => {
                    return Err(format!(
                        "policy: [[{name}]] has no {key} step; add one, e.g. \
                         [[{name}]] stage = \"{key}\" offset = 10",
                        key = stage.key()
                    ));
                }
                n => {
                    return Err(format!(
                        "policy: [[{name}]] lists {} {n} times; keep exactly one",
                        stage.key()
                    ));
                }
            }
        }
        for w in self.steps.windows(2) {
            if w[1].offset < w[0].offset {
                return Err(format!(
                    "policy: in [[{name}]], {} (offset {}) comes after {} (offset {}); \
                     list steps in order of offset",
                    w[1].stage.key(),
                    w[1].offset,
                    w[0].stage.key(),
                    w[0].offset
                ));
            }
        }
        Ok(())
    }
}

/// The day a step begins for an invoice due on `due`. An offset of 0 on a non-business due
/// date rolls to the next business day, so every step starts (and is sent) on a business day.
fn step_start(cal: &Calendar, due: NaiveDate, offset: i32) -> NaiveDate {
    if offset == 0 && !cal.is_business_day(due) {
        cal.add_business_days(due, 1)
    } else {
        cal.add_business_days(due, offset)
    }
}

impl Policy {
    /// First-time: friendly -3, day-after +1, late-fee warning +5, inquiry +10, firm notice +15,
    /// management call +25, agency referral +40. Repeat (faster): -3, +1, +3, +5, +8, +12, +20.
    pub fn defaults() -> Policy {
        use Stage::*;
        Policy {
            first_time: Plan::of(&[
                (FriendlyReminder, -3),
                (DayAfterReminder, 1),
                (LateFeeWarning, 5),
                (Inquiry, 10),
                (FirmNotice, 15),
                (ManagementCall, 25),
                (AgencyReferral, 40),
            ]),
            repeat: Plan::of(&[
                (FriendlyReminder, -3),
                (DayAfterReminder, 1),
                (LateFeeWarning, 3),
                (Inquiry, 5),
                (FirmNotice, 8),
                (ManagementCall, 12),
                (AgencyReferral, 20),
            ]),
            settlement_approval: Limits::default(),
        }
    }

    /// TOML with `[[first_time]]` and `[[repeat]]` arrays of `{ stage = "inquiry", offset = 10 }`.
    /// Every stage must appear exactly once per plan, in non-decreasing offset order.
    pub fn from_toml(text: &str) -> Result<Policy, String> {
        let file: PolicyFile = toml::from_str(text).map_err(|e| {
            format!(
                "policy: {}; expected e.g. [[first_time]] stage = \"inquiry\" offset = 10",
                e.to_string().trim_end()
            )
        })?;
        let plan = |steps: Vec<StepFile>| Plan {
            steps: steps
                .into_iter()
                .map(|s| Step {
                    stage: s.stage,
                    offset: s.offset,
                    channel: s.channel,
                })
                .collect(),
        };
        let settlement_approval = Limits {
            tiers: file.settlement_approval,
        }
        .validate()?;
        let defaults = Policy::defaults();
        let policy = Policy {
            first_time: file.first_time.map(plan).unwrap_or(defaults.first_time),
            repeat: file.repeat.map(plan).unwrap_or(defaults.repeat),
            settlement_approval,
        };
        policy.validate()?;
        Ok(policy)
    }

    /// The policy as `from_toml` reads it.
    pub fn to_toml(&self) -> String {
        let steps = |p: &Plan| -> Vec<StepFile> {
            p.steps
                .iter()
                .map(|s| StepFile {
                    stage: s.stage,
                    offset: s.offset,
                    channel: s.channel,
                })
                .collect()
        };
        let file = PolicyFile {
            first_time: Some(steps(&self.first_time)),
            repeat: Some(steps(&self.repeat)),
            // The default (one manager) is what an empty list reads as.
            settlement_approval: if self.settlement_approval == Limits::default() {
                vec![]
            } else {
                self.settlement_approval.tiers.clone()
            },
            late_fees: None,
        };
        // Plain structs of strings and integers always serialize.
        toml::to_string(&file).unwrap_or_default()
    }

    /// The rules `from_toml` enforces, for policies built in code.
    pub fn validate(&self) -> Result<(), String> {
        self.first_time.validate("first_time")?;
        self.repeat.validate("repeat")
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
    ///
    /// A step counts as reached once its start date (the date `steps_due_on` sends it) is on
    /// or before `as_of`. For a business-day due date that is exactly `offset <=
    /// business_days_past_due`; for a weekend due date it keeps report and sending in step.
    pub fn evaluate(
        &self,
        cal: &Calendar,
        track: &TrackRecord,
        oldest_due: NaiveDate,
        as_of: NaiveDate,
        paused: Option<Pause>,
    ) -> StageView {
        let plan = self.plan_for(track);
        let mut stage = None;
        let mut next = None;
        for step in &plan.steps {
            let start = step_start(cal, oldest_due, step.offset);
            if start <= as_of {
                stage = Some(step.stage);
            } else {
                next = Some((step.stage, start));
                break;
            }
        }
        StageView {
            stage,
            next,
            paused,
            business_days_past_due: cal.business_days_between(oldest_due, as_of),
            repeat_plan: track.is_repeat(),
        }
    }

    /// The steps whose start date is exactly `date` for an invoice due on `due` (what an
    /// automatic job would send that day). Empty on non-business days.
    /// How the plan for `track` sends `stage`'s reminder (`channel` in the policy file).
    pub fn channel_of(&self, track: &TrackRecord, stage: Stage) -> Channel {
        self.plan_for(track)
            .steps
            .iter()
            .find(|s| s.stage == stage)
            .map(|s| s.channel)
            .unwrap_or_default()
    }

    pub fn steps_due_on(
        &self,
        cal: &Calendar,
        track: &TrackRecord,
        due: NaiveDate,
        date: NaiveDate,
    ) -> Vec<Stage> {
        if !cal.is_business_day(date) {
            return Vec::new();
        }
        self.plan_for(track)
            .steps
            .iter()
            .filter(|s| step_start(cal, due, s.offset) == date)
            .map(|s| s.stage)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    const FIRST: TrackRecord = TrackRecord {
        past_delinquencies: 0,
        broken_promises: 0,
    };
    const REPEAT: TrackRecord = TrackRecord {
        past_delinquencies: 0,
        broken_promises: 1,
    };

    #[test]
    fn stage_keys_labels_tones() {
        for st in Stage::ALL {
            assert_eq!(Stage::parse(st.key()), Some(st));
            assert_eq!(
                serde_json::to_string(&st).unwrap(),
                format!("\"{}\"", st.key())
            );
            // A stage either needs a person or has a reminder tone, never both.
            assert_ne!(st.needs_person(), st.tone().is_some(), "{st:?}");
        }
        assert_eq!(Stage::ManagementCall.label(), "Management call");
        assert_eq!(Stage::ManagementCall.key(), "management_call");
        assert_eq!(Stage::parse(" Firm_Notice "), Some(Stage::FirmNotice));
        assert_eq!(Stage::parse("firm notice"), None);
        assert_eq!(Stage::FriendlyReminder.tone(), Some(Tone::Friendly));
        assert_eq!(Stage::DayAfterReminder.tone(), Some(Tone::Friendly));
        assert_eq!(Stage::LateFeeWarning.tone(), Some(Tone::Firm));
        assert_eq!(Stage::FirmNotice.tone(), Some(Tone::Final));
        assert!(Stage::Inquiry.needs_person() && Stage::AgencyReferral.needs_person());
        assert!(!Stage::FirmNotice.needs_person());
    }

    #[test]
    fn tone_keys() {
        for t in Tone::ALL {
            assert_eq!(Tone::parse(t.key()), Some(t));
            assert_eq!(
                serde_json::to_string(&t).unwrap(),
                format!("\"{}\"", t.key())
            );
        }
        assert_eq!(Tone::parse("FIRM"), Some(Tone::Firm));
        assert_eq!(Tone::parse("harsh"), None);
    }

    #[test]
    fn defaults_match_the_documented_offsets() {
        let p = Policy::defaults();
        let offsets = |plan: &Plan| plan.steps.iter().map(|s| s.offset).collect::<Vec<_>>();
        let stages = |plan: &Plan| plan.steps.iter().map(|s| s.stage).collect::<Vec<_>>();
        assert_eq!(offsets(&p.first_time), [-3, 1, 5, 10, 15, 25, 40]);
        assert_eq!(offsets(&p.repeat), [-3, 1, 3, 5, 8, 12, 20]);
        assert_eq!(stages(&p.first_time), Stage::ALL);
        assert_eq!(stages(&p.repeat), Stage::ALL);
        assert_eq!(p.validate(), Ok(()));
    }

    #[test]
    fn toml_round_trips() {
        let p = Policy::defaults();
        let text = p.to_toml();
        assert!(
            text.contains("[[first_time]]") && text.contains("[[repeat]]"),
            "{text}"
        );
        assert!(text.contains("stage = \"management_call\""), "{text}");
        assert_eq!(Policy::from_toml(&text), Ok(p));
        let mut custom = Policy::defaults();
        custom.repeat.steps[2].offset = 5; // ties are allowed
        custom.first_time.steps[0].offset = -10;
        assert_eq!(Policy::from_toml(&custom.to_toml()), Ok(custom));
    }

    /// The defaults' TOML with one step of one plan removed.
    fn without(plan: &str, stage: &str) -> String {
        let header = format!("[[{plan}]]");
        let key = format!("stage = \"{stage}\"");
        let text = Policy::defaults().to_toml();
        let blocks: Vec<&str> = text
            .split("\n\n")
            .filter(|b| !(b.contains(&header) && b.contains(&key)))
            .collect();
        assert!(blocks.len() < text.split("\n\n").count(), "{text}");
        blocks.join("\n\n")
    }

    #[test]
    fn toml_validation_errors_are_clear() {
        let e = Policy::from_toml(&without("repeat", "inquiry")).unwrap_err();
        assert!(e.contains("[[repeat]] has no inquiry step"), "{e}");
        let twice = format!(
            "{}\n[[first_time]]\nstage = \"inquiry\"\noffset = 99\n",
            Policy::defaults().to_toml()
        );
        let e = Policy::from_toml(&twice).unwrap_err();
        assert!(e.contains("[[first_time]] lists inquiry 2 times"), "{e}");
        let mut unsorted = Policy::defaults();
        unsorted.first_time.steps[3].offset = 2;
        let e = Policy::from_toml(&unsorted.to_toml()).unwrap_err();
        assert!(
            e.contains("late_fee_warning (offset 5) comes after")
                || e.contains("inquiry (offset 2) comes after late_fee_warning"),
            "{e}"
        );
        let e = Policy::from_toml("[[first_time]]\nstage = \"nagging\"\noffset = 1\n").unwrap_err();
        assert!(e.contains("nagging") && e.contains("expected e.g."), "{e}");
        let e = Policy::from_toml("[[first_time]]\nstage = \"inquiry\"\noffset = \"ten\"\n")
            .unwrap_err();
        assert!(e.starts_with("policy:"), "{e}");
        let e = Policy::from_toml("[[first_time]]\nstage = \"inquiry\"\noffst = 10\n").unwrap_err();
        assert!(e.contains("offst"), "{e}");
        // Nothing set: the defaults.
        assert_eq!(Policy::from_toml("").unwrap(), Policy::defaults());
        let e = Policy::from_toml("not toml at all [").unwrap_err();
        assert!(e.starts_with("policy:"), "{e}");
    }

    #[test]
    fn plan_follows_the_track_record() {
        let p = Policy::defaults();
        assert_eq!(p.plan_for(&FIRST), &p.first_time);
        assert_eq!(p.plan_for(&REPEAT), &p.repeat);
        let late = TrackRecord {
            past_delinquencies: 2,
            broken_promises: 0,
        };
        assert_eq!(p.plan_for(&late), &p.repeat);
    }

    #[test]
    fn evaluate_walks_the_first_time_plan() {
        let p = Policy::defaults();
        let cal = Calendar::default();
        let due = d("2026-11-02"); // Monday
        let at = |day: &str| p.evaluate(&cal, &FIRST, due, d(day), None);
        let v = at("2026-10-27");
        assert_eq!(v.stage, None);
        assert_eq!(v.next, Some((Stage::FriendlyReminder, d("2026-10-28"))));
        assert_eq!(v.business_days_past_due, -4);
        assert!(!v.repeat_plan);
        assert_eq!(at("2026-10-28").stage, Some(Stage::FriendlyReminder));
        let v = at("2026-11-02");
        assert_eq!(v.stage, Some(Stage::FriendlyReminder));
        assert_eq!(v.next, Some((Stage::DayAfterReminder, d("2026-11-03"))));
        assert_eq!(v.business_days_past_due, 0);
        assert_eq!(at("2026-11-03").stage, Some(Stage::DayAfterReminder));
        assert_eq!(at("2026-11-06").stage, Some(Stage::DayAfterReminder));
        assert_eq!(at("2026-11-09").stage, Some(Stage::LateFeeWarning));
        assert_eq!(at("2026-11-16").stage, Some(Stage::Inquiry));
        assert_eq!(at("2026-12-07").stage, Some(Stage::ManagementCall));
        let v = at("2027-06-01");
        assert_eq!(v.stage, Some(Stage::AgencyReferral));
        assert_eq!(v.next, None);
    }

    #[test]
    fn evaluate_uses_the_faster_repeat_plan() {
        let p = Policy::defaults();
        let cal = Calendar::default();
        let due = d("2026-11-02");
        let v = p.evaluate(&cal, &REPEAT, due, d("2026-11-05"), None);
        assert!(v.repeat_plan);
        assert_eq!(v.stage, Some(Stage::LateFeeWarning));
        assert_eq!(v.next, Some((Stage::Inquiry, d("2026-11-09"))));
        assert_eq!(v.business_days_past_due, 3);
    }

    #[test]
    fn evaluate_agrees_with_business_days_for_business_day_due_dates() {
        let p = Policy::defaults();
        let cal = Calendar::new([d("2026-11-26"), d("2026-12-25")]);
        for due in ["2026-11-02", "2026-11-06", "2026-11-25", "2026-12-24"] {
            let due = d(due);
            for i in -10..80 {
                let as_of = due + chrono::Duration::days(i);
                for track in [FIRST, REPEAT] {
                    let v = p.evaluate(&cal, &track, due, as_of, None);
                    let bd = cal.business_days_between(due, as_of);
                    let by_offset = p
                        .plan_for(&track)
                        .steps
                        .iter()
                        .rev()
                        .find(|s| s.offset <= bd)
                        .map(|s| s.stage);
                    assert_eq!(v.stage, by_offset, "{due} {as_of}");
                    assert_eq!(v.business_days_past_due, bd);
                    if let Some((_, start)) = v.next {
                        assert!(start > as_of);
                    }
                }
            }
        }
    }

    #[test]
    fn a_pause_is_reported_and_the_stage_still_computed() {
        let p = Policy::defaults();
        let cal = Calendar::default();
        let pause = Pause::Hold { until: None };
        let v = p.evaluate(&cal, &FIRST, d("2026-11-02"), d("2026-11-16"), Some(pause));
        assert_eq!(v.paused, Some(pause));
        assert_eq!(v.stage, Some(Stage::Inquiry));
        assert_eq!(v.next, Some((Stage::FirmNotice, d("2026-11-23"))));
    }

    #[test]
    fn weekend_due_dates_report_what_is_sent() {
        let p = Policy::defaults();
        let cal = Calendar::default();
        let sat = d("2026-11-07");
        // Three business days before a Saturday: Wednesday.
        assert_eq!(
            p.steps_due_on(&cal, &FIRST, sat, d("2026-11-04")),
            [Stage::FriendlyReminder]
        );
        assert_eq!(
            p.evaluate(&cal, &FIRST, sat, d("2026-11-03"), None).stage,
            None
        );
        assert_eq!(
            p.evaluate(&cal, &FIRST, sat, d("2026-11-04"), None).stage,
            Some(Stage::FriendlyReminder)
        );
        // Offset 0 on a weekend due date starts on the next business day.
        let zero = Policy::from_toml(
            &Policy::defaults()
                .to_toml()
                .replace("offset = 1\n", "offset = 0\n"),
        )
        .unwrap();
        assert_eq!(
            zero.steps_due_on(&cal, &FIRST, sat, d("2026-11-09")),
            [Stage::DayAfterReminder]
        );
        assert_eq!(
            zero.evaluate(&cal, &FIRST, sat, d("2026-11-08"), None).next,
            Some((Stage::DayAfterReminder, d("2026-11-09")))
        );
    }

    #[test]
    fn steps_due_on_matches_start_dates_on_business_days_only() {
        let p = Policy::defaults();
        let cal = Calendar::new([d("2026-11-09")]);
        let due = d("2026-11-02");
        assert_eq!(
            p.steps_due_on(&cal, &FIRST, due, d("2026-10-28")),
            [Stage::FriendlyReminder]
        );
        assert_eq!(
            p.steps_due_on(&cal, &FIRST, due, d("2026-11-03")),
            [Stage::DayAfterReminder]
        );
        // +5 skips the Monday holiday to Tuesday.
        assert!(
            p.steps_due_on(&cal, &FIRST, due, d("2026-11-09"))
                .is_empty()
        );
        assert_eq!(
            p.steps_due_on(&cal, &FIRST, due, d("2026-11-10")),
            [Stage::LateFeeWarning]
        );
        assert!(
            p.steps_due_on(&cal, &FIRST, due, d("2026-11-02"))
                .is_empty()
        );
        assert!(
            p.steps_due_on(&cal, &FIRST, due, d("2026-11-07"))
                .is_empty()
        );
        assert_eq!(
            p.steps_due_on(&cal, &REPEAT, due, d("2026-11-05")),
            [Stage::LateFeeWarning]
        );
        // Each step is due on exactly one day over the whole span.
        for track in [FIRST, REPEAT] {
            let mut seen = Vec::new();
            for i in -10..90 {
                seen.extend(p.steps_due_on(&cal, &track, due, due + chrono::Duration::days(i)));
            }
            assert_eq!(seen, Stage::ALL);
        }
        // Steps sharing an offset are due together.
        let mut tied = Policy::defaults();
        tied.first_time.steps[3].offset = 5;
        assert_eq!(
            tied.steps_due_on(&Calendar::default(), &FIRST, due, d("2026-11-09")),
            [Stage::LateFeeWarning, Stage::Inquiry]
        );
    }

    #[test]
    fn a_step_may_send_by_text_or_both_and_defaults_to_email() {
        let mut text = Policy::defaults().to_toml();
        assert!(
            !text.contains("channel"),
            "email is the default and not written: {text}"
        );
        text = text.replacen(
            "stage = \"day_after_reminder\"",
            "stage = \"day_after_reminder\"\nchannel = \"sms\"",
            1,
        );
        text = text.replacen(
            "stage = \"firm_notice\"",
            "stage = \"firm_notice\"\nchannel = \"both\"",
            1,
        );
        let p = Policy::from_toml(&text).unwrap();
        assert_eq!(p.channel_of(&FIRST, Stage::DayAfterReminder), Channel::Sms);
        assert_eq!(p.channel_of(&FIRST, Stage::FirmNotice), Channel::Both);
        assert_eq!(
            p.channel_of(&FIRST, Stage::FriendlyReminder),
            Channel::Email
        );
        // The repeat plan was left alone.
        assert_eq!(
            p.channel_of(&REPEAT, Stage::DayAfterReminder),
            Channel::Email
        );
        assert_eq!(Policy::from_toml(&p.to_toml()).unwrap(), p);
        let bad = text.replacen("channel = \"sms\"", "channel = \"fax\"", 1);
        let e = Policy::from_toml(&bad).unwrap_err();
        assert!(e.contains("fax") && e.contains("email"), "{e}");
    }

    #[test]
    fn a_file_without_plans_keeps_the_default_plans() {
        let p = Policy::from_toml(
            "[[settlement_approval]]\nat_least = 0\napprovals = 2\n\n[late_fees]\nmethod = \"flat\"\n",
        )
        .unwrap();
        let d = Policy::defaults();
        assert_eq!(p.first_time, d.first_time);
        assert_eq!(p.repeat, d.repeat);
        assert_eq!(p.settlement_approval.tiers[0].approvals, 2);
        // One plan given: the other keeps its default; the one given is checked in full.
        let mut mine = Policy::defaults();
        mine.repeat.steps[0].offset = -5;
        let text = mine.to_toml();
        // Plans serialize first_time then repeat: keep only the repeat plan's tables.
        let repeat_only = &text[text.find("[[repeat]]").unwrap()..];
        let p = Policy::from_toml(repeat_only).unwrap();
        assert_eq!(p.first_time, d.first_time);
        assert_eq!(p.repeat.steps[0].offset, -5);
        let e = Policy::from_toml("[[repeat]]\nstage = \"inquiry\"\noffset = 3\n").unwrap_err();
        assert!(e.contains("[[repeat]] has no"), "{e}");
    }
}
