//! Reminder texts through Twilio's Messages API (`POST /2010-04-01/Accounts/{sid}/Messages.json`,
//! basic auth with the account sid and auth token, form fields `To`, `From` or
//! `MessagingServiceSid`, `Body`, `StatusCallback`). A text leaves like an email: only inside
//! the customer's send window, only with what the ledger still says is owed (`send_check`), and
//! only while the customer's consent still stands (withdrawn since queueing: dropped, with the
//! reason). Twilio's answer carries the message sid, kept on the outbox row so the status
//! callbacks (`/twilio/status`) can mark the text delivered or failed.
use super::send_check::{self, SendRules};
use super::templates::{PayInfo, ReminderPayload};
use super::worker::{Deliverer, DeliveryError};
use crate::config::var;
use crate::domain::calendar::Calendar;
use crate::domain::money::{Currency, Money};
use crate::domain::policy::Tone;
use crate::domain::send_window::SendWindow;
use crate::domain::sms::{self, Encoding};
use crate::store::{Store, outbox::OutboxRow};
use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use futures_util::future::BoxFuture;
use minijinja::Environment;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Who the text comes from: a Twilio number, or a Messaging Service that picks one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    From(String),
    Service(String),
}

/// Twilio settings, from the environment (`.env.example` documents them).
#[derive(Debug, Clone)]
pub struct TwilioSettings {
    pub account_sid: String,
    pub auth_token: String,
    pub sender: Sender,
    /// `https://api.twilio.com`, or a proxy (the tests' fake).
    pub api_url: String,
    /// Where Twilio reaches dunbot (`DUNBOT_PUBLIC_URL`): status callbacks go to
    /// `<public>/twilio/status`. Unset: no callbacks are asked for.
    pub public_url: Option<String>,
    pub pay: PayInfo,
    pub template_dir: Option<PathBuf>,
    pub timeout: Duration,
}

/// `DUNBOT_PUBLIC_URL` without a trailing slash: the base URL Twilio was given for dunbot.
pub fn public_url_from_env() -> Option<String> {
    var("DUNBOT_PUBLIC_URL").map(|u| u.trim_end_matches('/').to_string())
}

impl TwilioSettings {
    /// `None` when `TWILIO_ACCOUNT_SID` is unset: this replica sends no texts.
    pub fn from_env() -> Result<Option<TwilioSettings>> {
        let Some(account_sid) = var("TWILIO_ACCOUNT_SID") else {
            return Ok(None);
        };
        let auth_token = var("TWILIO_AUTH_TOKEN").context(
            "TWILIO_ACCOUNT_SID is set but TWILIO_AUTH_TOKEN is not: copy it from the Twilio console",
        )?;
        let sender = match (var("TWILIO_MESSAGING_SERVICE_SID"), var("TWILIO_FROM")) {
            (Some(s), _) => Sender::Service(s),
            (None, Some(f)) => Sender::From(f),
            (None, None) => anyhow::bail!(
                "TWILIO_ACCOUNT_SID is set but neither TWILIO_FROM (a Twilio number such as +15017122661) nor TWILIO_MESSAGING_SERVICE_SID is"
            ),
        };
        let company = var("DUNBOT_COMPANY").context(
            "TWILIO_ACCOUNT_SID is set but DUNBOT_COMPANY is not: every text names the company, e.g. DUNBOT_COMPANY=\"Acme Corp\"",
        )?;
        let timeout =
            match var("TWILIO_TIMEOUT_SECS") {
                None => Duration::from_secs(15),
                Some(v) => Duration::from_secs(v.parse().map_err(|_| {
                    anyhow::anyhow!("TWILIO_TIMEOUT_SECS={v:?}: a number of seconds")
                })?),
            };
        Ok(Some(TwilioSettings {
            account_sid,
            auth_token,
            sender,
            api_url: var("TWILIO_API_URL")
                .unwrap_or_else(|| "https://api.twilio.com".into())
                .trim_end_matches('/')
                .to_string(),
            public_url: public_url_from_env(),
            pay: PayInfo {
                company,
                payment_link: var("DUNBOT_PAYMENT_LINK"),
                bank_details: None,
                contact: var("DUNBOT_SMS_CONTACT")
                    .or_else(|| var("DUNBOT_MAIL_CONTACT"))
                    .or_else(|| var("DUNBOT_MAIL_FROM"))
                    .unwrap_or_default(),
            },
            template_dir: var("DUNBOT_TEMPLATE_DIR").map(Into::into),
            timeout,
        }))
    }
}

const DEFAULTS: &[(&str, &str)] = &[
    (
        "friendly.txt.j2",
        include_str!("../../templates/sms/friendly.txt.j2"),
    ),
    (
        "firm.txt.j2",
        include_str!("../../templates/sms/firm.txt.j2"),
    ),
    (
        "final.txt.j2",
        include_str!("../../templates/sms/final.txt.j2"),
    ),
];

/// At most this many segments a text may cost: a template edit that makes it longer stops
/// `serve` at start rather than sending four-part texts.
pub const MAX_SEGMENTS: usize = 3;

#[derive(Debug, Serialize)]
struct View {
    company: String,
    account: String,
    customer: String,
    total: String,
    overdue_total: String,
    overdue: bool,
    first_due: String,
    payment_link: Option<String>,
    contact: String,
}

/// One short text per tone, in `templates/sms/` (minijinja), compiled in; a file of the same
/// name in `DUNBOT_TEMPLATE_DIR/sms/` replaces one.
pub struct SmsTemplates {
    env: Environment<'static>,
}

impl SmsTemplates {
    pub fn load(dir: Option<PathBuf>) -> Result<SmsTemplates> {
        let env = super::templates::overridable(dir.map(|d| d.join("sms")), DEFAULTS);
        Ok(SmsTemplates { env })
    }

    /// Renders every tone with `pay` and a long sample, so a broken or too long template stops
    /// `serve` at start.
    pub fn check(&self, pay: &PayInfo) -> Result<()> {
        let sample = sample_payload();
        for tone in Tone::ALL {
            let text = self
                .render(
                    tone,
                    &sample,
                    pay,
                    sample.invoices[0].due + chrono::Days::new(30),
                )
                .with_context(|| format!("text template for the {} tone", tone.key()))?;
            let (enc, n) = sms::segments(&text);
            if n > MAX_SEGMENTS {
                anyhow::bail!(
                    "the {} text is {n} segments ({enc:?}) with a long account and amount; keep it within {MAX_SEGMENTS}: {text}",
                    tone.key()
                );
            }
        }
        Ok(())
    }

    /// The text of a reminder as of `today` (in the customer's zone): one line, its
    /// typographic characters made plain so it stays GSM-7.
    pub fn render(
        &self,
        tone: Tone,
        p: &ReminderPayload,
        pay: &PayInfo,
        today: NaiveDate,
    ) -> Result<String> {
        let cur = Currency::parse(&p.currency)
            .map_err(|e| anyhow::anyhow!("currency {}: {e}", p.currency))?;
        let money = |minor| Money::new(minor, cur).format();
        let overdue_minor: i64 = p
            .invoices
            .iter()
            .filter(|i| i.due < today)
            .map(|i| i.balance_minor)
            .sum();
        let view = View {
            company: pay.company.clone(),
            account: p.account.clone(),
            customer: p.customer.clone(),
            total: money(p.total_minor),
            overdue_total: money(overdue_minor),
            overdue: overdue_minor > 0,
            first_due: p
                .invoices
                .iter()
                .map(|i| i.due)
                .min()
                .map(|d| d.format("%-d %b %Y").to_string())
                .unwrap_or_default(),
            payment_link: pay
                .payment_link
                .as_ref()
                .map(|l| l.replace("{account}", &p.account)),
            contact: pay.contact.clone(),
        };
        let text = self
            .env
            .get_template(&format!("{}.txt.j2", tone.key()))?
            .render(&view)?;
        let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
        Ok(sms::gsm_friendly(&one_line))
    }
}

fn sample_payload() -> ReminderPayload {
    ReminderPayload {
        account_id: None,
        // Account codes are at most 64 characters.
        account: "A".repeat(64),
        customer: "Sample Ltd".into(),
        time_zone: "UTC".into(),
        to: "+15558675310".into(),
        contact_name: None,
        tone: "friendly".into(),
        currency: "USD".into(),
        invoices: vec![super::templates::PayloadInvoice {
            number: "INV-1".into(),
            due: NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
            balance_minor: 123_456_789_012,
        }],
        total_minor: 123_456_789_012,
        invoice_copy: None,
        late_fees: None,
    }
}

pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

pub struct SmsDeliverer {
    pub settings: TwilioSettings,
    pub templates: SmsTemplates,
    pub calendar: Calendar,
    pub window: SendWindow,
    pub store: Store,
    pub rules: SendRules,
    pub clock: Clock,
    client: reqwest::Client,
}

impl SmsDeliverer {
    pub fn new(
        settings: TwilioSettings,
        s: &crate::config::Settings,
        store: Store,
    ) -> Result<SmsDeliverer> {
        let templates = SmsTemplates::load(settings.template_dir.clone())?;
        templates.check(&settings.pay)?;
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .user_agent(concat!("dunbot/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(SmsDeliverer {
            templates,
            calendar: s.calendar.clone(),
            window: s.send_window,
            store,
            rules: SendRules::from_settings(s),
            clock: Arc::new(Utc::now),
            client,
            settings,
        })
    }

    pub fn with_clock(mut self, clock: Clock) -> SmsDeliverer {
        self.clock = clock;
        self
    }

    async fn send(&self, row: &OutboxRow) -> Result<(), DeliveryError> {
        let now = (self.clock)();
        let bad = |e: String| DeliveryError::Permanent(format!("bad sms row: {e}"));
        let tz: Tz = row.payload["time_zone"]
            .as_str()
            .and_then(|z| z.parse().ok())
            .unwrap_or(Tz::UTC);
        if !self.window.is_open(&self.calendar, tz, now) {
            return Err(DeliveryError::Defer(self.window.next_opening(
                &self.calendar,
                tz,
                now,
            )));
        }
        let retry = |e: sqlx::Error| DeliveryError::Retry(e.to_string());
        let mut conn = self.store.pool.acquire().await.map_err(retry)?;
        // Send-time truth, as for email: the ledger as it is now decides what goes, if anything.
        let payload = send_check::payload_to_send(&mut conn, row, &self.rules, now).await?;
        // Consent, again: a customer who texted STOP, or a person who turned texts off, since
        // the text was queued gets nothing.
        let to = payload["to"].as_str().unwrap_or_default().to_string();
        if let Some(account_id) = payload["account_id"].as_i64() {
            let consent = crate::store::sms::consent(&mut conn, account_id, &to)
                .await
                .map_err(retry)?;
            if !consent.as_ref().is_some_and(|c| c.consent) {
                let why = match &consent {
                    Some(c) if c.stopped => "the customer texted STOP since it was queued",
                    _ => "consent to texts was withdrawn since it was queued",
                };
                return Err(DeliveryError::Dropped {
                    reason: format!("not sent: {why}"),
                    subject: payload["account"].as_str().map(str::to_string),
                    details: serde_json::json!({"to": to, "consent": consent}),
                });
            }
        }
        drop(conn);
        let p: ReminderPayload =
            serde_json::from_value(payload.clone()).map_err(|e| bad(e.to_string()))?;
        let tone = Tone::parse(&p.tone).ok_or_else(|| bad(format!("tone {}", p.tone)))?;
        let body = self
            .templates
            .render(
                tone,
                &p,
                &self.settings.pay,
                now.with_timezone(&tz).date_naive(),
            )
            .map_err(|e| bad(format!("{e:#}")))?;
        let sid = self.post(&to, &body).await?;
        let mut conn = self.store.pool.acquire().await.map_err(retry)?;
        crate::store::sms::set_provider(&mut conn, row.id, &sid.0, &sid.1)
            .await
            .map_err(retry)?;
        Ok(())
    }

    /// Creates the message at Twilio; returns its sid and status.
    async fn post(&self, to: &str, body: &str) -> Result<(String, String), DeliveryError> {
        let s = &self.settings;
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            s.api_url, s.account_sid
        );
        let mut form: Vec<(&str, String)> = vec![("To", to.to_string()), ("Body", body.into())];
        match &s.sender {
            Sender::From(f) => form.push(("From", f.clone())),
            Sender::Service(m) => form.push(("MessagingServiceSid", m.clone())),
        }
        if let Some(public) = &s.public_url {
            form.push(("StatusCallback", format!("{public}/twilio/status")));
        }
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form.iter().map(|(k, v)| (*k, v.as_str())))
            .finish();
        let resp = self
            .client
            .post(&url)
            .basic_auth(&s.account_sid, Some(&s.auth_token))
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(encoded)
            .send()
            .await
            .map_err(|e| DeliveryError::Retry(format!("Twilio: {e}")))?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        if status.is_success() {
            let sid = json["sid"].as_str().ok_or_else(|| {
                DeliveryError::Retry(format!("Twilio answered {status} without a sid: {text}"))
            })?;
            let st = json["status"].as_str().unwrap_or("queued");
            return Ok((sid.to_string(), st.to_string()));
        }
        // Twilio's error: {"code": 21211, "message": "The 'To' number … is not a valid phone number.", …}
        let why = match (json["code"].as_i64(), json["message"].as_str()) {
            (Some(code), Some(m)) => format!("Twilio {status} {code}: {m}"),
            _ => format!(
                "Twilio {status}: {}",
                text.chars().take(300).collect::<String>()
            ),
        };
        if status.is_server_error()
            || status == reqwest::StatusCode::TOO_MANY_REQUESTS
            || status == reqwest::StatusCode::REQUEST_TIMEOUT
        {
            Err(DeliveryError::Retry(why))
        } else {
            // An invalid number, an unverified sender, a blocked recipient: retrying will not help.
            Err(DeliveryError::Permanent(why))
        }
    }
}

impl Deliverer for SmsDeliverer {
    fn accepts(&self, row: &OutboxRow) -> bool {
        row.kind == "sms"
    }

    fn deliver<'a>(&'a self, row: &'a OutboxRow) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(self.send(row))
    }
}

/// The encoding and segment count of a rendered text (for tests and the start-up check).
pub fn cost(text: &str) -> (Encoding, usize) {
    sms::segments(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::templates::PayloadInvoice;

    fn pay(company: &str, link: Option<&str>) -> PayInfo {
        PayInfo {
            company: company.into(),
            payment_link: link.map(str::to_string),
            bank_details: None,
            contact: "ar@acme-holdings.example".into(),
        }
    }

    fn payload(account: &str, minor: i64, currency: &str, due: NaiveDate) -> ReminderPayload {
        ReminderPayload {
            account_id: Some(1),
            account: account.into(),
            customer: "Zoë’s Café".into(),
            time_zone: "UTC".into(),
            to: "+15558675310".into(),
            contact_name: None,
            tone: "friendly".into(),
            currency: currency.into(),
            invoices: vec![PayloadInvoice {
                number: "INV-1".into(),
                due,
                balance_minor: minor,
            }],
            total_minor: minor,
            invoice_copy: None,
            late_fees: None,
        }
    }

    #[test]
    fn every_tone_names_company_amount_and_link_within_two_gsm_segments() {
        let t = SmsTemplates::load(None).unwrap();
        let due = NaiveDate::from_ymd_opt(2026, 11, 13).unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let p = payload("ACME-001", 125_000, "EUR", due);
        let pay = pay("Acme Holdings", Some("https://pay.acme.example/{account}"));
        for tone in Tone::ALL {
            let text = t.render(tone, &p, &pay, today).unwrap();
            assert!(text.contains("Acme Holdings"), "{text}");
            assert!(text.contains("EUR 1,250.00"), "{text}");
            assert!(text.contains("https://pay.acme.example/ACME-001"), "{text}");
            assert!(text.contains("STOP"), "{text}");
            assert!(!text.contains('\n'), "{text}");
            assert_eq!(cost(&text).0, Encoding::Gsm7, "{text}");
            assert!(cost(&text).1 <= 2, "{} segments: {text}", cost(&text).1);
        }
    }

    #[test]
    fn long_names_amounts_and_links_stay_within_three_segments() {
        let t = SmsTemplates::load(None).unwrap();
        let due = NaiveDate::from_ymd_opt(2026, 11, 13).unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let p = payload(
            &"LONGACCOUNTCODE-".repeat(4),
            99_999_999_999_999,
            "USD",
            due,
        );
        // A company name with typographic characters: folded, so the text stays GSM-7.
        let company = "Ünited Intercontinental Freight & Logistics Holdings’ “Receivables” – Dept";
        let link =
            "https://payments.example-billing-provider.example/pay/customer/{account}?ref=sms";
        for tone in Tone::ALL {
            let text = t
                .render(tone, &p, &pay(company, Some(link)), today)
                .unwrap();
            let (enc, n) = cost(&text);
            assert_eq!(enc, Encoding::Gsm7, "{text}");
            assert!(n <= MAX_SEGMENTS, "{n} segments: {text}");
            assert!(text.contains("USD 999,999,999,999.99"), "{text}");
        }
        // Not yet due: the friendly text says when it falls due, not "past due".
        let early = t
            .render(
                Tone::Friendly,
                &payload("ACME-001", 5_000, "USD", today + chrono::Days::new(3)),
                &pay("Acme", None),
                today,
            )
            .unwrap();
        assert!(
            early.contains("falls due on 26 Nov 2026") && early.contains("Questions: ar@"),
            "{early}"
        );
        assert!(t.check(&pay(company, Some(link))).is_ok());
    }

    #[test]
    fn a_template_too_long_is_refused_at_start() {
        let dir =
            std::env::temp_dir().join(format!("dunbot-sms-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(dir.join("sms")).unwrap();
        std::fs::write(
            dir.join("sms/firm.txt.j2"),
            "{{ company }} {{ total }} ".to_string() + &"please pay ".repeat(60),
        )
        .unwrap();
        let t = SmsTemplates::load(Some(dir.clone())).unwrap();
        let e = t.check(&pay("Acme", None)).unwrap_err().to_string();
        assert!(e.contains("firm") && e.contains("segments"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
