//! Reminder emails over SMTP (`lettre`, async). The `Message-ID` is derived from the outbox row's
//! dedupe key, so when a crash between sending and marking sends a message twice the receiver
//! sees the same id and can drop the repeat. A reminder leaves only inside the customer's send
//! window (re-checked here, at send time), and only with what the ledger still says is owed
//! then (`send_check`): a customer who paid since it was queued gets nothing.
use super::send_check::{self, SendRules};
use super::templates::{INVOICE_KINDS, PayInfo, ReminderPayload, Templates};
use super::worker::{Deliverer, DeliveryError};
use crate::config::var;
use crate::domain::calendar::Calendar;
use crate::domain::policy::Tone;
use crate::domain::send_window::SendWindow;
use crate::store::{Store, outbox::OutboxRow};
use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use futures_util::future::BoxFuture;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;

pub type Mailer = AsyncSmtpTransport<Tokio1Executor>;

/// Mail settings, from the environment (`.env.example` documents them).
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `smtp://[user:pass@]host[:port]`, or `smtps://…` for TLS from the first byte.
    pub smtp_url: String,
    pub from: Mailbox,
    pub reply_to: Option<Mailbox>,
    pub pay: PayInfo,
    pub template_dir: Option<std::path::PathBuf>,
    pub timeout: Duration,
}

impl MailSettings {
    /// `None` when `SMTP_URL` is unset: this replica sends no mail.
    pub fn from_env() -> Result<Option<MailSettings>> {
        let Some(smtp_url) = var("SMTP_URL") else {
            return Ok(None);
        };
        let from = var("DUNBOT_MAIL_FROM").context(
            "SMTP_URL is set but DUNBOT_MAIL_FROM is not: set it, e.g. DUNBOT_MAIL_FROM=\"Acme AR <ar@acme.example>\"",
        )?;
        let from: Mailbox = from
            .parse()
            .map_err(|e| anyhow::anyhow!("DUNBOT_MAIL_FROM={from:?}: {e}"))?;
        let reply_to = match var("DUNBOT_MAIL_REPLY_TO") {
            None => None,
            Some(r) => Some(
                r.parse()
                    .map_err(|e| anyhow::anyhow!("DUNBOT_MAIL_REPLY_TO={r:?}: {e}"))?,
            ),
        };
        let company = var("DUNBOT_COMPANY").unwrap_or_else(|| {
            from.name
                .clone()
                .unwrap_or_else(|| from.email.domain().to_string())
        });
        let timeout = match var("SMTP_TIMEOUT_SECS") {
            None => Duration::from_secs(30),
            Some(v) => Duration::from_secs(
                v.parse()
                    .map_err(|_| anyhow::anyhow!("SMTP_TIMEOUT_SECS={v:?}: a number of seconds"))?,
            ),
        };
        let s = MailSettings {
            pay: PayInfo {
                company,
                payment_link: var("DUNBOT_PAYMENT_LINK"),
                bank_details: var("DUNBOT_BANK_DETAILS").map(|b| b.replace("\\n", "\n")),
                contact: var("DUNBOT_MAIL_CONTACT").unwrap_or_else(|| from.email.to_string()),
            },
            smtp_url,
            from,
            reply_to,
            template_dir: var("DUNBOT_TEMPLATE_DIR").map(Into::into),
            timeout,
        };
        mailer(&s.smtp_url, s.timeout)?;
        Ok(Some(s))
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The transport for `url`: plain SMTP to a loopback host (a local relay or a test server),
/// STARTTLS (required) to any other host on `smtp://`, implicit TLS on `smtps://`; with
/// credentials when the URL has a user.
pub fn mailer(url: &str, timeout: Duration) -> Result<Mailer> {
    let u = url::Url::parse(url).map_err(|e| {
        anyhow::anyhow!("SMTP_URL={url:?}: {e}; write e.g. smtp://user:pass@mail.example.com:587")
    })?;
    let Some(host) = u.host_str().map(str::to_string) else {
        bail!("SMTP_URL={url:?} names no host; write e.g. smtp://mail.example.com:587");
    };
    let mut b = match u.scheme() {
        "smtp" if is_loopback(&host) => {
            Mailer::builder_dangerous(host.trim_matches(['[', ']'])).port(u.port().unwrap_or(25))
        }
        "smtp" => Mailer::starttls_relay(&host)?.port(u.port().unwrap_or(587)),
        "smtps" => Mailer::relay(&host)?.port(u.port().unwrap_or(465)),
        other => bail!("SMTP_URL={url:?}: scheme {other} is not smtp or smtps"),
    };
    if !u.username().is_empty() {
        let dec = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        b = b.credentials(Credentials::new(
            dec(u.username()),
            dec(u.password().unwrap_or("")),
        ));
    }
    Ok(b.timeout(Some(timeout)).build())
}

/// `<hex(sha256(dedupe_key))[..32].dunbot@domain>`: the same row always gets the same id.
pub fn message_id(dedupe_key: &str, from: &Mailbox) -> String {
    let digest = hex::encode(Sha256::digest(dedupe_key.as_bytes()));
    format!("<{}.dunbot@{}>", &digest[..32], from.email.domain())
}

pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

pub struct EmailDeliverer {
    pub mailer: Mailer,
    pub settings: MailSettings,
    pub templates: Templates,
    pub calendar: Calendar,
    pub window: SendWindow,
    /// When set, each reminder is checked against the ledger at send time (`send_check`).
    pub store: Option<Store>,
    /// The company's calendar, zone and promise grace for that check.
    pub rules: SendRules,
    pub clock: Clock,
}

impl EmailDeliverer {
    pub fn new(
        settings: MailSettings,
        calendar: Calendar,
        window: SendWindow,
        store: Option<Store>,
    ) -> Result<EmailDeliverer> {
        Ok(EmailDeliverer {
            mailer: mailer(&settings.smtp_url, settings.timeout)?,
            templates: Templates::load(settings.template_dir.clone())?,
            settings,
            calendar,
            window,
            store,
            rules: SendRules::default(),
            clock: Arc::new(Utc::now),
        })
    }

    /// The company's zone and promise grace from `s` for the send-time check.
    pub fn with_rules(mut self, s: &crate::config::Settings) -> EmailDeliverer {
        self.rules = SendRules::from_settings(s);
        self
    }

    /// The message for an outbox row, as of `now`.
    pub fn compose(&self, row: &OutboxRow, now: DateTime<Utc>) -> Result<Message, DeliveryError> {
        let bad = |e: String| DeliveryError::Permanent(format!("bad email row: {e}"));
        let p: ReminderPayload =
            serde_json::from_value(row.payload.clone()).map_err(|e| bad(e.to_string()))?;
        // A reminder's tone, or an email about one invoice (a copy, "did you receive it?").
        let kind = match Tone::parse(&p.tone) {
            Some(tone) => tone.key(),
            None => INVOICE_KINDS
                .into_iter()
                .find(|k| *k == p.tone)
                .ok_or_else(|| bad(format!("tone {}", p.tone)))?,
        };
        let tz: Tz = p.time_zone.parse().unwrap_or(Tz::UTC);
        let today = now.with_timezone(&tz).date_naive();
        let r = self
            .templates
            .render_kind(kind, &p, &self.settings.pay, today)
            .map_err(|e| bad(format!("{e:#}")))?;
        let to = match &p.contact_name {
            Some(n) if !n.trim().is_empty() => format!("{n} <{}>", p.to),
            _ => p.to.clone(),
        };
        let to: Mailbox = to
            .parse()
            .or_else(|_| p.to.parse())
            .map_err(|e| bad(format!("recipient {}: {e}", p.to)))?;
        let mut b = Message::builder()
            .from(self.settings.from.clone())
            .to(to)
            .subject(r.subject)
            .message_id(Some(message_id(&row.dedupe_key, &self.settings.from)))
            .date(now.into());
        if let Some(rt) = &self.settings.reply_to {
            b = b.reply_to(rt.clone());
        }
        b.multipart(MultiPart::alternative_plain_html(r.text, r.html))
            .map_err(|e| bad(e.to_string()))
    }

    async fn send(&self, row: &OutboxRow) -> Result<(), DeliveryError> {
        let now = (self.clock)();
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
        // Send-time truth: the ledger as it is now decides what goes, if anything.
        let fresh;
        let row = match &self.store {
            None => row,
            Some(store) => {
                let retry = |e: sqlx::Error| DeliveryError::Retry(e.to_string());
                let mut conn = store.pool.acquire().await.map_err(retry)?;
                let payload = send_check::payload_to_send(&mut conn, row, &self.rules, now).await?;
                fresh = OutboxRow {
                    payload,
                    ..row.clone()
                };
                &fresh
            }
        };
        let msg = self.compose(row, now)?;
        match self.mailer.send(msg).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(DeliveryError::Permanent(e.to_string())),
            Err(e) => Err(DeliveryError::Retry(e.to_string())),
        }
    }
}

impl Deliverer for EmailDeliverer {
    fn accepts(&self, row: &OutboxRow) -> bool {
        row.kind == "email"
    }

    fn deliver<'a>(&'a self, row: &'a OutboxRow) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(self.send(row))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_id_is_stable_per_key_and_well_formed() {
        let from: Mailbox = "AR <ar@acme.example>".parse().unwrap();
        let a = message_id("reminder:abc", &from);
        assert_eq!(a, message_id("reminder:abc", &from));
        assert_ne!(a, message_id("reminder:abd", &from));
        assert!(a.starts_with('<') && a.ends_with("@acme.example>"), "{a}");
    }

    #[tokio::test]
    async fn urls_pick_plain_for_loopback_and_refuse_nonsense() {
        let t = Duration::from_secs(1);
        assert!(mailer("smtp://127.0.0.1:2525", t).is_ok());
        assert!(mailer("smtp://user:p%40ss@mail.example.com", t).is_ok());
        assert!(mailer("smtps://mail.example.com", t).is_ok());
        assert!(
            mailer("http://mail.example.com", t)
                .unwrap_err()
                .to_string()
                .contains("not smtp")
        );
        assert!(mailer("not a url", t).is_err());
        assert!(is_loopback("localhost") && is_loopback("[::1]") && !is_loopback("10.0.0.1"));
    }
}
