//! Reminder email templates: one subject, plain-text and HTML template per tone, written for
//! `minijinja`. The defaults in `templates/email/` are compiled in; a file of the same name in
//! the override directory (`DUNBOT_TEMPLATE_DIR`) replaces one, so a team can edit the wording
//! without rebuilding.
use crate::domain::money::{Currency, Money};
use crate::domain::policy::Tone;
use anyhow::{Context, Result};
use chrono::NaiveDate;
use minijinja::Environment;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

const DEFAULTS: &[(&str, &str)] = &[
    (
        "_invoices.txt.j2",
        include_str!("../../templates/email/_invoices.txt.j2"),
    ),
    (
        "_pay.txt.j2",
        include_str!("../../templates/email/_pay.txt.j2"),
    ),
    (
        "_sign.txt.j2",
        include_str!("../../templates/email/_sign.txt.j2"),
    ),
    (
        "_fees.txt.j2",
        include_str!("../../templates/email/_fees.txt.j2"),
    ),
    (
        "_layout.html.j2",
        include_str!("../../templates/email/_layout.html.j2"),
    ),
    (
        "friendly.subject.j2",
        include_str!("../../templates/email/friendly.subject.j2"),
    ),
    (
        "friendly.txt.j2",
        include_str!("../../templates/email/friendly.txt.j2"),
    ),
    (
        "friendly.html.j2",
        include_str!("../../templates/email/friendly.html.j2"),
    ),
    (
        "firm.subject.j2",
        include_str!("../../templates/email/firm.subject.j2"),
    ),
    (
        "firm.txt.j2",
        include_str!("../../templates/email/firm.txt.j2"),
    ),
    (
        "firm.html.j2",
        include_str!("../../templates/email/firm.html.j2"),
    ),
    (
        "final.subject.j2",
        include_str!("../../templates/email/final.subject.j2"),
    ),
    (
        "final.txt.j2",
        include_str!("../../templates/email/final.txt.j2"),
    ),
    (
        "final.html.j2",
        include_str!("../../templates/email/final.html.j2"),
    ),
];

/// What `ar remind` and the automatic plan put in an `email` outbox row.
#[derive(Debug, Clone, Deserialize)]
pub struct ReminderPayload {
    #[serde(default)]
    pub account_id: Option<i64>,
    pub account: String,
    pub customer: String,
    pub time_zone: String,
    pub to: String,
    pub contact_name: Option<String>,
    pub tone: String,
    pub currency: String,
    pub invoices: Vec<PayloadInvoice>,
    pub total_minor: i64,
    /// The late fees and interest the policy charges on these invoices, as text (none without
    /// a fee policy): the firm reminder states them instead of a vague warning.
    #[serde(default)]
    pub late_fees: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PayloadInvoice {
    pub number: String,
    pub due: NaiveDate,
    pub balance_minor: i64,
}

/// Company-wide facts every reminder carries: how to pay and whom to ask.
#[derive(Debug, Clone, Default)]
pub struct PayInfo {
    pub company: String,
    /// `{account}` is replaced by the account code.
    pub payment_link: Option<String>,
    pub bank_details: Option<String>,
    pub contact: String,
}

#[derive(Debug, Serialize)]
struct InvoiceView {
    number: String,
    due: String,
    amount: String,
    days_overdue: i64,
    /// `12 days overdue`, `due today` or `not yet due`.
    status: String,
}

#[derive(Debug, Serialize)]
struct View {
    account: String,
    customer: String,
    contact_name: Option<String>,
    invoices: Vec<InvoiceView>,
    total: String,
    /// The part of the total that is past due.
    overdue_total: String,
    first_due: String,
    overdue: bool,
    company: String,
    payment_link: Option<String>,
    bank_details: Option<String>,
    contact: String,
    subject: String,
    late_fees: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// The compiled-in defaults, each replaced by a file of the same name in `dir` if present.
    /// Every tone is rendered once with sample data, so a broken edit fails at start, not at
    /// the first reminder.
    pub fn load(dir: Option<PathBuf>) -> Result<Templates> {
        let mut env = Environment::new();
        env.set_loader(move |name| {
            if let Some(dir) = &dir {
                let path = dir.join(name);
                if path.is_file() {
                    return std::fs::read_to_string(&path).map(Some).map_err(|e| {
                        minijinja::Error::new(
                            minijinja::ErrorKind::InvalidOperation,
                            format!("reading template {}: {e}", path.display()),
                        )
                    });
                }
            }
            Ok(DEFAULTS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, t)| t.to_string()))
        });
        let t = Templates { env };
        let sample = ReminderPayload {
            account_id: None,
            account: "SAMPLE-1".into(),
            customer: "Sample Ltd".into(),
            time_zone: "UTC".into(),
            to: "ap@sample.example".into(),
            contact_name: Some("Sam".into()),
            tone: "friendly".into(),
            currency: "USD".into(),
            invoices: vec![PayloadInvoice {
                number: "INV-1".into(),
                due: NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
                balance_minor: 100,
            }],
            total_minor: 100,
            late_fees: Some("EUR 40.00 compensation".into()),
        };
        for tone in Tone::ALL {
            t.render(tone, &sample, &PayInfo::default(), sample.invoices[0].due)
                .with_context(|| format!("email templates for the {} tone", tone.key()))?;
        }
        Ok(t)
    }

    /// Renders the reminder as of `today` in the customer's zone (for "N days ago").
    pub fn render(
        &self,
        tone: Tone,
        p: &ReminderPayload,
        pay: &PayInfo,
        today: NaiveDate,
    ) -> Result<Rendered> {
        let cur = Currency::parse(&p.currency)
            .map_err(|e| anyhow::anyhow!("currency {}: {e}", p.currency))?;
        let money = |minor| Money::new(minor, cur).format();
        let invoices: Vec<InvoiceView> = p
            .invoices
            .iter()
            .map(|i| {
                let days = (today - i.due).num_days();
                InvoiceView {
                    number: i.number.clone(),
                    due: i.due.format("%-d %B %Y").to_string(),
                    amount: money(i.balance_minor),
                    days_overdue: days.max(0),
                    status: match days {
                        1 => "1 day overdue".into(),
                        d if d > 1 => format!("{d} days overdue"),
                        0 => "due today".into(),
                        _ => "not yet due".into(),
                    },
                }
            })
            .collect();
        let mut view = View {
            account: p.account.clone(),
            customer: p.customer.clone(),
            contact_name: p.contact_name.clone().filter(|n| !n.trim().is_empty()),
            overdue: invoices.iter().any(|i| i.days_overdue > 0),
            first_due: p
                .invoices
                .iter()
                .map(|i| i.due)
                .min()
                .map(|d| d.format("%-d %B %Y").to_string())
                .unwrap_or_default(),
            invoices,
            total: money(p.total_minor),
            overdue_total: money(
                p.invoices
                    .iter()
                    .filter(|i| i.due < today)
                    .map(|i| i.balance_minor)
                    .sum(),
            ),
            company: pay.company.clone(),
            payment_link: pay
                .payment_link
                .as_ref()
                .map(|l| l.replace("{account}", &p.account)),
            bank_details: pay.bank_details.clone(),
            contact: pay.contact.clone(),
            subject: String::new(),
            late_fees: p.late_fees.clone(),
        };
        let get = |kind: &str| self.env.get_template(&format!("{}.{kind}.j2", tone.key()));
        let subject = get("subject")?.render(&view)?.trim().to_string();
        view.subject = subject.clone();
        Ok(Rendered {
            subject,
            text: get("txt")?.render(&view)?,
            html: get("html")?.render(&view)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(tone: &str) -> ReminderPayload {
        ReminderPayload {
            account_id: Some(1),
            account: "ACME-001".into(),
            customer: "Acme & Sons".into(),
            time_zone: "America/New_York".into(),
            to: "ap@acme.example".into(),
            contact_name: Some("Jo".into()),
            tone: tone.into(),
            currency: "EUR".into(),
            invoices: vec![
                PayloadInvoice {
                    number: "INV-1".into(),
                    due: NaiveDate::from_ymd_opt(2026, 11, 13).unwrap(),
                    balance_minor: 125_000,
                },
                PayloadInvoice {
                    number: "INV-2".into(),
                    due: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
                    balance_minor: 40_050,
                },
            ],
            total_minor: 165_050,
            late_fees: None,
        }
    }

    /// With a fee policy the firm reminder states the charges; without one it keeps the
    /// general warning.
    #[test]
    fn the_firm_reminder_states_the_late_fees_when_the_policy_charges_them() {
        let t = Templates::load(None).unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let vague = "Late payment may incur the late fee set out in our terms.";
        let r = t
            .render(Tone::Firm, &payload("firm"), &pay(), today)
            .unwrap();
        assert!(
            r.text.contains(vague) && r.html.contains(vague),
            "{}",
            r.text
        );
        let mut p = payload("firm");
        let fees = "INV-1: EUR 40.00 compensation and EUR 3.48 interest at 10.15% a year from 14 November 2026";
        p.late_fees = Some(fees.into());
        let r = t.render(Tone::Firm, &p, &pay(), today).unwrap();
        let want = format!("Under our terms, late payment charges now apply: {fees}.");
        assert!(r.text.contains(&want), "{}", r.text);
        assert!(r.html.contains(&want), "{}", r.html);
        assert!(!r.text.contains(vague), "{}", r.text);
    }

    fn pay() -> PayInfo {
        PayInfo {
            company: "Example Co".into(),
            payment_link: Some("https://pay.example/{account}".into()),
            bank_details: Some("IBAN DE00 1234".into()),
            contact: "Maria, ar@example.co".into(),
        }
    }

    #[test]
    fn every_tone_names_the_invoices_amounts_and_how_to_pay() {
        let t = Templates::load(None).unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        for tone in Tone::ALL {
            let r = t.render(tone, &payload(tone.key()), &pay(), today).unwrap();
            let html = r.html.replace("&#x2f;", "/");
            for part in [&r.text, &html] {
                for needle in [
                    "INV-1",
                    "EUR 1,250.00",
                    "EUR 400.50",
                    "EUR 1,650.50",
                    "13 November 2026",
                    "https://pay.example/ACME-001",
                    "IBAN DE00 1234",
                    "Maria, ar@example.co",
                    "Jo",
                ] {
                    assert!(part.contains(needle), "{tone:?} lacks {needle}: {part}");
                }
                assert!(part.contains("(10 days overdue)"), "{part}");
                assert!(part.contains("(not yet due)"), "{part}");
                // Polite and factual: no threats.
                for word in ["court", "lawyer", "legal action", "police"] {
                    assert!(!part.to_lowercase().contains(word), "{tone:?}: {word}");
                }
            }
            assert!(r.subject.contains("EUR 1,650.50"), "{}", r.subject);
            // One invoice a line in the plain text, the total on its own.
            for line in [
                "  - Invoice INV-1: EUR 1,250.00, due 13 November 2026 (10 days overdue)",
                "  - Invoice INV-2: EUR 400.50, due 26 November 2026 (not yet due)",
                "  Total: EUR 1,650.50",
            ] {
                assert!(
                    r.text.lines().any(|l| l == line),
                    "{tone:?} lacks line {line:?}: {}",
                    r.text
                );
            }
            if tone != Tone::Friendly {
                assert!(r.text.contains("EUR 1,250.00 remains"), "{}", r.text);
            }
            assert!(!r.subject.contains('\n'));
            // HTML escapes the customer's name; plain text keeps it.
            assert!(r.html.contains("Acme &amp; Sons") || !r.html.contains("Acme"));
        }
    }

    #[test]
    fn an_override_directory_replaces_one_template() {
        let dir = std::env::temp_dir().join(format!("dunbot-tpl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("firm.subject.j2"), "Custom: {{ total }}").unwrap();
        let t = Templates::load(Some(dir.clone())).unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let firm = t
            .render(Tone::Firm, &payload("firm"), &pay(), today)
            .unwrap();
        assert_eq!(firm.subject, "Custom: EUR 1,650.50");
        let friendly = t
            .render(Tone::Friendly, &payload("friendly"), &pay(), today)
            .unwrap();
        assert!(
            friendly.subject.starts_with("Reminder"),
            "{}",
            friendly.subject
        );
        std::fs::write(dir.join("final.txt.j2"), "{% if %}").unwrap();
        assert!(Templates::load(Some(dir.clone())).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
