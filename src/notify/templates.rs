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
        "_greeting.txt.j2",
        include_str!("../../templates/email/_greeting.txt.j2"),
    ),
    (
        "copy.subject.j2",
        include_str!("../../templates/email/copy.subject.j2"),
    ),
    (
        "copy.txt.j2",
        include_str!("../../templates/email/copy.txt.j2"),
    ),
    (
        "copy.html.j2",
        include_str!("../../templates/email/copy.html.j2"),
    ),
    (
        "confirm_receipt.subject.j2",
        include_str!("../../templates/email/confirm_receipt.subject.j2"),
    ),
    (
        "confirm_receipt.txt.j2",
        include_str!("../../templates/email/confirm_receipt.txt.j2"),
    ),
    (
        "confirm_receipt.html.j2",
        include_str!("../../templates/email/confirm_receipt.html.j2"),
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
    /// The one invoice a `copy` or `confirm_receipt` email is about, as issued.
    #[serde(default)]
    pub invoice_copy: Option<InvoiceCopy>,
    /// The late fees and interest the policy charges on these invoices, as text (none without
    /// a fee policy): the firm reminder states them instead of a vague warning.
    #[serde(default)]
    pub late_fees: Option<String>,
}

/// An invoice as issued (`ar confirm … missing` sends it again).
#[derive(Debug, Clone, Deserialize)]
pub struct InvoiceCopy {
    pub number: String,
    pub issued: NaiveDate,
    pub due: NaiveDate,
    pub amount_minor: i64,
}

/// Emails about one invoice rather than a reminder tone: a copy of the invoice, and "did you
/// receive it?" (confirm receipt).
pub const INVOICE_KINDS: [&str; 2] = ["copy", "confirm_receipt"];

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

#[derive(Debug, Clone, Serialize)]
struct InvoiceView {
    number: String,
    due: String,
    amount: String,
    days_overdue: i64,
    /// `12 days overdue`, `due today` or `not yet due`.
    status: String,
}

#[derive(Debug, Serialize)]
struct CopyView {
    number: String,
    issued: String,
    due: String,
    amount: String,
    /// What is still open today (equal to `amount` unless partly paid).
    balance: String,
    status: String,
}

#[derive(Debug, Serialize)]
struct View {
    account: String,
    customer: String,
    contact_name: Option<String>,
    invoices: Vec<InvoiceView>,
    /// Past due: the only invoices a reminder asks to be paid.
    overdue_invoices: Vec<InvoiceView>,
    /// Due today or later: listed for information, never demanded.
    upcoming: Vec<InvoiceView>,
    total: String,
    /// The part of the total that is past due.
    overdue_total: String,
    /// The part of the total not yet past due.
    upcoming_total: String,
    invoice: Option<CopyView>,
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

/// A template environment of compiled-in `defaults`, each replaced by a file of the same name
/// in `dir` when one is there (email's and texts' templates alike).
pub fn overridable(
    dir: Option<PathBuf>,
    defaults: &'static [(&'static str, &'static str)],
) -> Environment<'static> {
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
        Ok(defaults
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| t.to_string()))
    });
    env
}

impl Templates {
    /// The compiled-in defaults, each replaced by a file of the same name in `dir` if present.
    /// Every tone is rendered once with sample data, so a broken edit fails at start, not at
    /// the first reminder.
    pub fn load(dir: Option<PathBuf>) -> Result<Templates> {
        let t = Templates {
            env: overridable(dir, DEFAULTS),
        };
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
            invoice_copy: Some(InvoiceCopy {
                number: "INV-1".into(),
                issued: NaiveDate::from_ymd_opt(2025, 12, 1).expect("date"),
                due: NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
                amount_minor: 100,
            }),
            late_fees: Some("EUR 40.00 compensation".into()),
        };
        let kinds = Tone::ALL.map(|t| t.key()).into_iter().chain(INVOICE_KINDS);
        for kind in kinds {
            t.render_kind(kind, &sample, &PayInfo::default(), sample.invoices[0].due)
                .with_context(|| format!("email templates for {kind}"))?;
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
        self.render_kind(tone.key(), p, pay, today)
    }

    /// Renders the templates `<kind>.subject.j2`, `.txt.j2` and `.html.j2`: a tone, or one of
    /// `INVOICE_KINDS`.
    pub fn render_kind(
        &self,
        kind: &str,
        p: &ReminderPayload,
        pay: &PayInfo,
        today: NaiveDate,
    ) -> Result<Rendered> {
        let cur = Currency::parse(&p.currency)
            .map_err(|e| anyhow::anyhow!("currency {}: {e}", p.currency))?;
        let money = |minor| Money::new(minor, cur).format();
        let status = |due: NaiveDate| match (today - due).num_days() {
            1 => "1 day overdue".to_string(),
            d if d > 1 => format!("{d} days overdue"),
            0 => "due today".into(),
            _ => "not yet due".into(),
        };
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
                    status: status(i.due),
                }
            })
            .collect();
        let (overdue_invoices, upcoming) =
            invoices.iter().cloned().partition(|i| i.days_overdue > 0);
        let invoice = p.invoice_copy.as_ref().map(|c| CopyView {
            number: c.number.clone(),
            issued: c.issued.format("%-d %B %Y").to_string(),
            due: c.due.format("%-d %B %Y").to_string(),
            amount: money(c.amount_minor),
            balance: money(
                p.invoices
                    .iter()
                    .find(|i| i.number == c.number)
                    .map_or(c.amount_minor, |i| i.balance_minor),
            ),
            status: status(c.due),
        });
        let mut view = View {
            overdue_invoices,
            upcoming,
            upcoming_total: money(
                p.invoices
                    .iter()
                    .filter(|i| i.due >= today)
                    .map(|i| i.balance_minor)
                    .sum(),
            ),
            invoice,
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
        let get = |part: &str| self.env.get_template(&format!("{kind}.{part}.j2"));
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
            invoice_copy: None,
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
                    "13 November 2026",
                    "https://pay.example/ACME-001",
                    "IBAN DE00 1234",
                    "Maria, ar@example.co",
                    "Dear Jo,",
                    "Not yet due — for your information",
                ] {
                    assert!(part.contains(needle), "{tone:?} lacks {needle}: {part}");
                }
                assert!(part.contains("(10 days overdue)"), "{part}");
                assert!(part.contains("(not yet due)"), "{part}");
                // The whole open balance is never what is asked for.
                assert!(!part.contains("EUR 1,650.50"), "{tone:?}: {part}");
                // Polite and factual: no threats.
                for word in ["court", "lawyer", "legal action", "police"] {
                    assert!(!part.to_lowercase().contains(word), "{tone:?}: {word}");
                }
            }
            // The account reference is in the body, not only inside the payment link.
            assert!(
                r.text
                    .contains("Your account reference with us: ACME-001 (please quote it"),
                "{}",
                r.text
            );
            assert!(html.contains("<strong>ACME-001</strong>"), "{html}");
            assert!(
                r.subject.contains("EUR 1,250.00") && !r.subject.contains("1,650.50"),
                "{tone:?}: {}",
                r.subject
            );
            // Overdue invoices first with their sum, then the ones not yet due, apart.
            let lines: Vec<&str> = r.text.lines().collect();
            let at = |l: &str| {
                lines
                    .iter()
                    .position(|x| *x == l)
                    .unwrap_or_else(|| panic!("{tone:?} lacks line {l:?}: {}", r.text))
            };
            let order = [
                at("  - Invoice INV-1: EUR 1,250.00, due 13 November 2026 (10 days overdue)"),
                at("  Overdue: EUR 1,250.00"),
                at("Not yet due — for your information, nothing to pay for these yet:"),
                at("  - Invoice INV-2: EUR 400.50, due 26 November 2026 (not yet due)"),
                at("  Not yet due: EUR 400.50"),
            ];
            assert!(order.is_sorted(), "{tone:?}: {}", r.text);
            if tone != Tone::Friendly {
                assert!(r.text.contains("EUR 1,250.00 remains"), "{}", r.text);
            }
            assert!(!r.subject.contains('\n'));
            // HTML escapes the customer's name; plain text keeps it.
            assert!(r.html.contains("Acme &amp; Sons") || !r.html.contains("Acme"));
        }
    }

    #[test]
    fn a_final_notice_demands_only_the_overdue_amount() {
        let t = Templates::load(None).unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let r = t
            .render(Tone::Final, &payload("final"), &pay(), today)
            .unwrap();
        assert_eq!(
            r.subject,
            "Final notice before escalation: EUR 1,250.00 overdue for Acme & Sons"
        );
        let flat = r.text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains("Please pay the overdue EUR 1,250.00, or contact us"),
            "{flat}"
        );
        assert!(!flat.contains("pay the balance"), "{flat}");
    }

    #[test]
    fn before_the_due_date_the_amount_coming_due_is_named() {
        let t = Templates::load(None).unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 11, 10).unwrap();
        let mut p = payload("friendly");
        p.contact_name = None;
        let r = t.render(Tone::Friendly, &p, &pay(), today).unwrap();
        assert_eq!(
            r.subject,
            "Upcoming payment: EUR 1,650.50 due 13 November 2026 for Acme & Sons"
        );
        assert!(r.text.starts_with("Hello Acme & Sons,"), "{}", r.text);
        assert!(
            r.text.contains("due soon, EUR 1,650.50 in all"),
            "{}",
            r.text
        );
        assert!(
            r.text.lines().any(|l| l == "  Total: EUR 1,650.50"),
            "{}",
            r.text
        );
        assert!(!r.text.contains("Not yet due —"), "{}", r.text);
        assert!(!r.text.contains("overdue"), "{}", r.text);
        // A firm tone forced before anything is overdue demands nothing either.
        let firm = t.render(Tone::Firm, &p, &pay(), today).unwrap();
        assert_eq!(
            firm.subject,
            "Payment due soon: EUR 1,650.50 for Acme & Sons"
        );
        assert!(!firm.text.contains("overdue"), "{}", firm.text);
    }

    #[test]
    fn a_copy_and_a_receipt_question_name_the_one_invoice() {
        let t = Templates::load(None).unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let mut p = payload("copy");
        p.invoices.remove(0);
        p.total_minor = 40_050;
        p.invoice_copy = Some(InvoiceCopy {
            number: "INV-2".into(),
            issued: NaiveDate::from_ymd_opt(2026, 10, 27).unwrap(),
            due: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
            amount_minor: 50_000,
        });
        let r = t.render_kind("copy", &p, &pay(), today).unwrap();
        assert_eq!(r.subject, "Copy of invoice INV-2 for Acme & Sons");
        for needle in [
            "Dear Jo,",
            "Issued: 27 October 2026",
            "Due: 26 November 2026 (not yet due)",
            "Amount: EUR 500.00",
            "Still open: EUR 400.50",
            "ACME-001",
        ] {
            assert!(r.text.contains(needle), "lacks {needle}: {}", r.text);
        }
        assert!(r.html.contains("INV-2") && r.html.contains("EUR 500.00"));
        let q = t.render_kind("confirm_receipt", &p, &pay(), today).unwrap();
        assert_eq!(q.subject, "Did you receive invoice INV-2 from Example Co?");
        assert!(
            q.text
                .contains("On 27 October 2026 we sent you invoice INV-2 for EUR 500.00"),
            "{}",
            q.text
        );
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
