//! The digest's "Confirm receipt" section: invoices a few business days after issue, above the
//! threshold, whose customer has not said whether they have them. Each line carries the three
//! answers as buttons (`confirm <invoice> received|missing|question`); an answered invoice
//! leaves the list, as does one that is paid or falls overdue (the reminders take over).
use super::build::Listed;
use crate::config::Settings;
use crate::domain::confirm_receipt::{Answer, Candidate, due_for_confirmation};
use crate::domain::dates::count_of;
use crate::domain::money::Money;
use crate::message::forms::button;
use crate::message::{Block, Button, ButtonStyle};
use crate::store::confirm_receipt::Unconfirmed;
use chrono::NaiveDate;

#[derive(Debug, Clone)]
pub struct ConfirmTask {
    pub invoice: String,
    pub code: String,
    pub name: String,
    pub owner: Option<String>,
    pub issued: NaiveDate,
    pub due: NaiveDate,
    pub amount: Money,
    pub do_not_contact: bool,
}

/// The tasks on `as_of`, soonest due first: none when the stage is off or asks by email.
pub fn tasks(
    rows: &[Unconfirmed],
    s: &Settings,
    as_of: NaiveDate,
    top: usize,
) -> Listed<ConfirmTask> {
    if s.confirm.email {
        return Listed::top(vec![], top);
    }
    let all: Vec<ConfirmTask> = rows
        .iter()
        .filter(|r| qualifies(r, s, as_of))
        .map(|r| ConfirmTask {
            invoice: r.number.clone(),
            code: r.code.clone(),
            name: r.name.clone(),
            owner: r.owner.clone(),
            issued: r.issued,
            due: r.due,
            amount: super::build::money(r.amount_minor, &r.currency),
            do_not_contact: r.do_not_contact,
        })
        .collect();
    Listed::top(all, top)
}

/// The tasks of what `load` kept: its rows, plus those it only counted.
pub fn tasks_of(
    kept: &Listed<Unconfirmed>,
    s: &Settings,
    as_of: NaiveDate,
    top: usize,
) -> Listed<ConfirmTask> {
    let mut t = tasks(&kept.items, s, as_of, top);
    t.more += kept.more;
    t
}

/// Whether the invoice is due a "did you receive it?" on `as_of` (the domain's rule).
fn qualifies(r: &Unconfirmed, s: &Settings, as_of: NaiveDate) -> bool {
    let c = Candidate {
        issued: r.issued,
        due: r.due,
        amount: super::build::money(r.amount_minor, &r.currency),
    };
    due_for_confirmation(&c, &s.confirm, &s.calendar, as_of)
}

/// The candidates for the digest of `as_of`, soonest due first: read only while the stage
/// lists tasks. Streamed, so memory holds the `digest_top` shown and only counts the rest.
pub async fn load(
    conn: &mut sqlx::PgConnection,
    s: &Settings,
    as_of: NaiveDate,
) -> Result<Listed<Unconfirmed>, sqlx::Error> {
    use futures_util::TryStreamExt;
    let mut kept = Listed::default();
    if s.confirm.email || s.confirm.above == crate::domain::confirm_receipt::Threshold::Off {
        return Ok(kept);
    }
    let mut rows = crate::store::confirm_receipt::stream_unconfirmed(conn, as_of, s.confirm.days);
    while let Some(r) = rows.try_next().await? {
        if !qualifies(&r, s, as_of) {
            continue;
        }
        if kept.items.len() < s.digest_top {
            kept.items.push(r);
        } else {
            kept.more += 1;
        }
    }
    Ok(kept)
}

/// Received / Missing / Question for one invoice.
pub fn answer_buttons(invoice: &str) -> Vec<Button> {
    Answer::ALL
        .into_iter()
        .map(|a| {
            let style = match a {
                Answer::Received => ButtonStyle::Primary,
                Answer::Missing => ButtonStyle::Danger,
                Answer::Question => ButtonStyle::Default,
            };
            let mut label = a.key().to_string();
            label[..1].make_ascii_uppercase();
            button(&label, &format!("confirm {invoice} {}", a.key()), style)
        })
        .collect()
}

/// Appends the section (nothing when there are no tasks) and its summary phrase.
pub fn render(tasks: &Listed<ConfirmTask>, blocks: &mut Vec<Block>, summary: &mut Vec<String>) {
    if tasks.items.is_empty() {
        return;
    }
    blocks.push(Block::Divider);
    blocks.push(Block::Text {
        text: format!(
            "*Confirm receipt* ({}) — ask the customer whether they have the invoice",
            tasks.total()
        ),
    });
    for t in &tasks.items {
        let mut text = format!(
            "*{}* {} {} — {}, issued {}, due {}",
            t.invoice,
            t.code,
            t.name,
            t.amount,
            t.issued.format("%a %d %b"),
            t.due.format("%a %d %b")
        );
        if t.do_not_contact {
            text.push_str(", do not contact");
        }
        if let Some(o) = &t.owner {
            text.push_str(&format!(" · {o}"));
        }
        blocks.push(Block::Item {
            text,
            buttons: answer_buttons(&t.invoice),
        });
    }
    if tasks.more > 0 {
        blocks.push(Block::Context {
            text: format!(
                "…and {} more",
                count_of(tasks.more, "invoice to confirm", "invoices to confirm")
            ),
        });
    }
    summary.push(count_of(
        tasks.total(),
        "invoice to confirm",
        "invoices to confirm",
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::confirm_receipt::Threshold;

    fn row(number: &str, issued: &str, due: &str, minor: i64) -> Unconfirmed {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        Unconfirmed {
            invoice_id: 1,
            number: number.into(),
            issued: d(issued),
            due: d(due),
            amount_minor: minor,
            currency: "USD".into(),
            account_id: 1,
            code: "ACME-001".into(),
            name: "Acme".into(),
            owner: Some("maria".into()),
            do_not_contact: false,
            asked: false,
        }
    }

    #[test]
    fn lists_big_invoices_past_the_days_with_three_answer_buttons() {
        let mut s = Settings::default();
        s.confirm.above = Threshold::parse("1000").unwrap();
        let as_of = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let rows = vec![
            row("INV-1", "2026-11-16", "2026-12-16", 250_000),
            row("INV-2", "2026-11-20", "2026-12-20", 250_000), // only 1 business day
            row("INV-3", "2026-11-16", "2026-12-16", 50_000),  // below the threshold
        ];
        let t = tasks(&rows, &s, as_of, 10);
        let listed: Vec<&str> = t.items.iter().map(|t| t.invoice.as_str()).collect();
        assert_eq!(listed, ["INV-1"]);
        let (mut blocks, mut summary) = (vec![], vec![]);
        render(&t, &mut blocks, &mut summary);
        assert_eq!(summary, ["1 invoice to confirm"]);
        let Some(Block::Item { text, buttons }) = blocks.get(2) else {
            panic!("{blocks:?}")
        };
        assert!(
            text.contains("INV-1") && text.contains("USD 2,500.00"),
            "{text}"
        );
        let cmds: Vec<&str> = buttons.iter().map(|b| b.command.as_str()).collect();
        assert_eq!(
            cmds,
            [
                "confirm INV-1 received",
                "confirm INV-1 missing",
                "confirm INV-1 question"
            ]
        );
        assert!(buttons.iter().all(|b| b.form.is_none()));
        s.confirm.email = true;
        assert!(
            tasks(&rows, &s, as_of, 10).items.is_empty(),
            "asked by email instead"
        );
    }
}
