//! The environment, read once into typed settings. `.env.example` documents every variable.
use crate::domain::confirm_receipt::ConfirmSettings;
use crate::domain::late_fee::LateFeePolicy;
use crate::domain::{calendar::Calendar, money::Currency, policy::Policy, send_window::SendWindow};
use anyhow::{Context, Result, bail};
use chrono_tz::Tz;
use std::env;

#[derive(Debug, Clone)]
pub struct Settings {
    /// `None`: find or start a local Postgres (see `db::resolve`).
    pub database_url: Option<String>,
    /// The top-level chat command, `ar` by default (Slack owns `/remind`).
    pub command_root: String,
    /// The company's time zone: what "today" means for due dates and the digest.
    pub time_zone: Tz,
    pub calendar: Calendar,
    pub policy: Policy,
    /// The policy file's `[late_fees]` table (none by default).
    pub late_fees: LateFeePolicy,
    pub default_currency: Currency,
    /// Business days after the promised date that a payment still keeps a promise.
    pub promise_grace_days: u32,
    /// A manual reminder within this many days of the last one needs `--force`.
    pub reminder_cooldown_days: i64,
    /// The digest's "due soon" window, in business days.
    pub due_soon_days: i32,
    /// Entries listed per digest section before the rest are counted.
    pub digest_top: usize,
    /// Where managers are pinged about new offers (`platform:id`).
    pub managers_channel: String,
    /// Default digest subscription for `serve` (six- or five-field cron, time zone).
    pub digest_cron: String,
    pub digest_channel: String,
    /// Whose name the scheduler and automatic steps act under.
    pub instance_id: String,
    /// Where the HTTP server listens (`/healthz`, platform webhooks).
    pub http_addr: String,
    /// When reminders may reach a customer, in the customer's time zone.
    pub send_window: SendWindow,
    /// This replica can send email (`SMTP_URL` is set): replies say when a reminder leaves.
    pub mail_configured: bool,
    /// A payment plan of more installments than this waits for a manager's approval
    /// (`DUNBOT_PLAN_APPROVAL_OVER`); `None`: none does.
    pub plan_approval_over: Option<u32>,
    /// Confirm receipt (stage 2): threshold, days after issue, email or digest task.
    pub confirm: ConfirmSettings,
    /// This replica can send texts (`TWILIO_ACCOUNT_SID` is set): replies say when a text leaves.
    pub sms_configured: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: None,
            command_root: "ar".into(),
            time_zone: Tz::UTC,
            calendar: Calendar::default(),
            policy: Policy::defaults(),
            late_fees: LateFeePolicy::default(),
            default_currency: Currency::parse("USD").expect("USD"),
            promise_grace_days: 2,
            reminder_cooldown_days: 3,
            due_soon_days: 5,
            digest_top: 10,
            managers_channel: "console:managers".into(),
            digest_cron: "0 0 8 * * Mon-Fri".into(),
            digest_channel: "console:local".into(),
            instance_id: format!("dunbot-{}", std::process::id()),
            http_addr: "0.0.0.0:3000".into(),
            send_window: SendWindow::default(),
            mail_configured: false,
            plan_approval_over: None,
            confirm: ConfirmSettings::default(),
            sms_configured: false,
        }
    }
}

/// The variable, trimmed; `None` when unset or blank (a blank line in `.env` means unset).
pub fn var(name: &str) -> Option<String> {
    env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn parse_var<T: std::str::FromStr>(name: &str, default: T) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    match var(name) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|e| anyhow::anyhow!("{name}={v:?}: {e}")),
    }
}

impl Settings {
    /// Reads `.env` (if present) and the environment.
    pub fn from_env() -> Result<Settings> {
        let _ = dotenvy::dotenv();
        let d = Settings::default();
        let time_zone: Tz = match var("DUNBOT_TIMEZONE") {
            None => d.time_zone,
            Some(v) => v.parse().map_err(|_| {
                anyhow::anyhow!(
                    "DUNBOT_TIMEZONE={v:?} is not an IANA time zone such as Europe/Berlin"
                )
            })?,
        };
        let holidays = match var("DUNBOT_HOLIDAYS") {
            None => vec![],
            Some(v) if v.contains('/') || v.ends_with(".txt") => {
                let text = std::fs::read_to_string(&v)
                    .with_context(|| format!("reading DUNBOT_HOLIDAYS file {v}"))?;
                Calendar::parse_holidays(&text)
                    .map_err(|e| anyhow::anyhow!("DUNBOT_HOLIDAYS: {e}"))?
            }
            Some(v) => {
                Calendar::parse_holidays(&v).map_err(|e| anyhow::anyhow!("DUNBOT_HOLIDAYS: {e}"))?
            }
        };
        let (policy, late_fees) = match var("DUNBOT_POLICY_FILE") {
            None => (d.policy, d.late_fees),
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading DUNBOT_POLICY_FILE {path}"))?;
                (
                    Policy::from_toml(&text).map_err(|e| anyhow::anyhow!("{path}: {e}"))?,
                    LateFeePolicy::from_policy_toml(&text)
                        .map_err(|e| anyhow::anyhow!("{path}: {e}"))?,
                )
            }
        };
        let default_currency = match var("DUNBOT_CURRENCY") {
            None => d.default_currency,
            Some(v) => Currency::parse(&v).map_err(|e| anyhow::anyhow!("DUNBOT_CURRENCY: {e}"))?,
        };
        let command_root = var("DUNBOT_COMMAND").unwrap_or(d.command_root);
        if !command_root
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '-' || c == '_')
            || command_root.is_empty()
        {
            bail!("DUNBOT_COMMAND={command_root:?}: use lower-case letters, e.g. ar");
        }
        let digest_cron = var("DUNBOT_DIGEST_CRON").unwrap_or(d.digest_cron);
        crate::domain::cron::parse(&digest_cron)
            .map_err(|e| anyhow::anyhow!("DUNBOT_DIGEST_CRON: {e}"))?;
        Ok(Settings {
            database_url: var("DATABASE_URL"),
            command_root,
            time_zone,
            calendar: Calendar::new(holidays),
            policy,
            late_fees,
            default_currency,
            promise_grace_days: parse_var("DUNBOT_PROMISE_GRACE_DAYS", d.promise_grace_days)?,
            reminder_cooldown_days: parse_var(
                "DUNBOT_REMINDER_COOLDOWN_DAYS",
                d.reminder_cooldown_days,
            )?,
            due_soon_days: parse_var("DUNBOT_DUE_SOON_DAYS", d.due_soon_days)?,
            digest_top: parse_var("DUNBOT_DIGEST_TOP", d.digest_top)?,
            managers_channel: var("DUNBOT_MANAGERS_CHANNEL").unwrap_or(d.managers_channel),
            digest_cron,
            digest_channel: var("DUNBOT_DIGEST_CHANNEL").unwrap_or(d.digest_channel),
            instance_id: var("DUNBOT_INSTANCE").unwrap_or(d.instance_id),
            http_addr: var("DUNBOT_HTTP_ADDR").unwrap_or(d.http_addr),
            send_window: match var("DUNBOT_SEND_WINDOW") {
                None => d.send_window,
                Some(v) => {
                    SendWindow::parse(&v).map_err(|e| anyhow::anyhow!("DUNBOT_SEND_WINDOW: {e}"))?
                }
            },
            mail_configured: var("SMTP_URL").is_some(),
            plan_approval_over: match var("DUNBOT_PLAN_APPROVAL_OVER") {
                None => None,
                Some(v) if v.eq_ignore_ascii_case("off") => None,
                Some(v) => Some(v.parse().map_err(|_| {
                    anyhow::anyhow!(
                        "DUNBOT_PLAN_APPROVAL_OVER={v:?}: write a number of installments, e.g. 6, or off"
                    )
                })?),
            },
            confirm: ConfirmSettings::parse(
                var("DUNBOT_CONFIRM_ABOVE").as_deref(),
                var("DUNBOT_CONFIRM_DAYS").as_deref(),
                var("DUNBOT_CONFIRM_EMAIL").as_deref(),
            )
            .map_err(|e| anyhow::anyhow!(e))?,
            sms_configured: var("TWILIO_ACCOUNT_SID").is_some(),
        })
    }

    /// Today in the company's time zone.
    pub fn today(&self, now: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
        now.with_timezone(&self.time_zone).date_naive()
    }
}
