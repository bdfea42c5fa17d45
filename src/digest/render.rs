//! The digest as a neutral message: a header, totals, then sections of entries with buttons.
use super::build::{AccountLine, Digest, money};
use crate::chat::forms::button;
use crate::chat::{Block, Button, ButtonStyle, Message, Visibility};
use crate::domain::aging::Bucket;
use crate::domain::money::Money;
use crate::domain::policy::{Pause, Stage};

/// Send reminder, Log promise (opens a form for amount and date), Flag (a form for the reason).
pub fn account_buttons(code: &str) -> Vec<Button> {
    vec![
        button(
            "Send reminder",
            &format!("remind {code}"),
            ButtonStyle::Default,
        ),
        button(
            "Log promise",
            &format!("promise {code}"),
            ButtonStyle::Primary,
        ),
        button(
            "Flag for call",
            &format!("flag {code}"),
            ButtonStyle::Danger,
        ),
    ]
}

/// An account's buttons, without "Send reminder" for a customer who may not be contacted:
/// pressing it could only be refused.
pub fn contact_buttons(code: &str, do_not_contact: bool) -> Vec<Button> {
    let mut buttons = account_buttons(code);
    if do_not_contact {
        buttons.retain(|b| !b.command.starts_with("remind "));
    }
    buttons
}

fn line_buttons(l: &AccountLine) -> Vec<Button> {
    contact_buttons(&l.code, l.do_not_contact)
}

fn describe(l: &AccountLine) -> String {
    let mut s = format!("*{}* {} — {}", l.code, l.name, l.amount);
    if l.amount != l.balance {
        s.push_str(&format!(" (balance {})", l.balance));
    }
    if l.days_past_due > 0 {
        s.push_str(&format!(", {} days late", l.days_past_due));
    }
    if let Some(stage) = l.stage {
        s.push_str(&format!(", stage: {}", stage.label()));
    }
    match l.paused {
        Some(Pause::Promise { until }) => s.push_str(&format!(", promised (paused until {until})")),
        Some(Pause::Hold { .. }) => s.push_str(", on hold"),
        Some(Pause::Dispute) => s.push_str(", disputed"),
        Some(Pause::WithAgency) => s.push_str(", with agency"),
        None => {}
    }
    if l.do_not_contact {
        s.push_str(", do not contact");
    }
    if let Some(o) = &l.owner {
        s.push_str(&format!(" · {o}"));
    }
    s
}

fn more(blocks: &mut Vec<Block>, n: usize, what: &str) {
    if n > 0 {
        blocks.push(Block::Context {
            text: format!("…and {n} more {what}"),
        });
    }
}

fn total_line(totals: &[Money]) -> String {
    totals
        .iter()
        .map(Money::to_string)
        .collect::<Vec<_>>()
        .join(" + ")
}

pub fn render(d: &Digest) -> Message {
    let mut title = format!("Collections digest — {}", d.as_of.format("%a %d %b %Y"));
    if d.late {
        title.push_str(" (posted late)");
    }
    let mut blocks = vec![Block::Header {
        text: title.clone(),
    }];
    if d.late {
        blocks.push(Block::Context {
            text: "dunbot was down at the scheduled time; this is the digest it missed.".into(),
        });
    }
    if d.totals.is_empty() {
        blocks.push(Block::Text {
            text: "Nothing is owed. Enjoy the quiet.".into(),
        });
    }
    for t in &d.totals {
        let mut fields = vec![(
            "Open".to_string(),
            format!(
                "{} across {} accounts",
                Money::new(t.total, t.currency),
                t.accounts
            ),
        )];
        for (b, v) in Bucket::ALL.iter().zip(t.buckets) {
            if v != 0 {
                fields.push((b.label().to_string(), Money::new(v, t.currency).to_string()));
            }
        }
        blocks.push(Block::Fields { fields });
    }
    let mut summary = Vec::new();
    if !d.flags.is_empty() || !d.offers.is_empty() {
        blocks.push(Block::Divider);
    }
    if !d.offers.is_empty() {
        blocks.push(Block::Text {
            text: format!("*Offers waiting for approval* ({})", d.offers.len()),
        });
        for o in &d.offers {
            let amount = money(o.amount_minor, &o.currency);
            let bal = Money::new(o.balance_minor, amount.currency);
            blocks.push(Block::Item {
                text: format!(
                    "*Offer {}*: {} offers {amount} for *{}* {} (balance {bal}), recorded by {}",
                    o.id, o.agency, o.code, o.account_name, o.offered_by
                ),
                buttons: crate::app::decision_buttons(o.id),
            });
        }
        summary.push(format!("{} offers to decide", d.offers.len()));
    }
    if !d.escalations.items.is_empty() {
        blocks.push(Block::Divider);
        blocks.push(Block::Text {
            text: format!("*Ready to escalate* ({})", d.escalations.total()),
        });
        for e in &d.escalations.items {
            let action = match e.stage {
                Stage::Inquiry => "call the customer",
                Stage::ManagementCall => "a manager should call",
                Stage::AgencyReferral => "refer to an agency",
                _ => "follow up",
            };
            let mut buttons = line_buttons(&e.line);
            if e.stage == Stage::AgencyReferral {
                buttons.push(button(
                    "Refer to agency",
                    &format!("refer {}", e.line.code),
                    ButtonStyle::Danger,
                ));
            }
            blocks.push(Block::Item {
                text: format!("{} → {action}", describe(&e.line)),
                buttons,
            });
        }
        more(
            &mut blocks,
            d.escalations.more,
            "accounts ready to escalate",
        );
        summary.push(format!("{} to escalate", d.escalations.total()));
    }
    if !d.promises_broken.is_empty() || !d.promises_due.is_empty() {
        blocks.push(Block::Divider);
    }
    if !d.promises_broken.is_empty() {
        blocks.push(Block::Text {
            text: format!(
                "*Broken promises* ({}) — chasing resumes",
                d.promises_broken.len()
            ),
        });
        for p in &d.promises_broken {
            blocks.push(Block::Item {
                text: format!(
                    "*{}* {} promised {} by {} (logged by {})",
                    p.code, p.name, p.amount, p.promised_for, p.logged_by
                ),
                buttons: account_buttons(&p.code),
            });
        }
        summary.push(format!("{} broken promises", d.promises_broken.len()));
    }
    if !d.promises_due.is_empty() {
        blocks.push(Block::Text {
            text: format!("*Promises due today* ({})", d.promises_due.len()),
        });
        for p in &d.promises_due {
            blocks.push(Block::Item {
                text: format!(
                    "*{}* {} promised {} (logged by {})",
                    p.code, p.name, p.amount, p.logged_by
                ),
                buttons: vec![],
            });
        }
    }
    for g in &d.overdue {
        blocks.push(Block::Divider);
        blocks.push(Block::Text {
            text: format!(
                "*Overdue {} days* — {} ({} accounts)",
                g.bucket.label(),
                total_line(&g.totals),
                g.accounts.total()
            ),
        });
        for l in &g.accounts.items {
            blocks.push(Block::Item {
                text: describe(l),
                buttons: line_buttons(l),
            });
        }
        more(&mut blocks, g.accounts.more, "accounts in this bucket");
    }
    if !d.due_soon.items.is_empty() {
        blocks.push(Block::Divider);
        blocks.push(Block::Text {
            text: format!("*Due soon* ({} accounts)", d.due_soon.total()),
        });
        for l in &d.due_soon.items {
            let when = l
                .next_due
                .map(|d| format!(" due {}", d.format("%a %d %b")))
                .unwrap_or_default();
            blocks.push(Block::Item {
                text: format!("*{}* {} — {}{when}", l.code, l.name, l.amount),
                buttons: line_buttons(l),
            });
        }
        more(&mut blocks, d.due_soon.more, "accounts due soon");
    }
    if !d.flags.is_empty() {
        blocks.push(Block::Divider);
        blocks.push(Block::Text {
            text: format!("*Flagged for a management call* ({})", d.flags.len()),
        });
        for f in &d.flags {
            blocks.push(Block::Item {
                text: format!(
                    "*{}* {} — {} (by {} on {})",
                    f.code,
                    f.account_name,
                    f.reason,
                    f.flagged_by,
                    f.flagged_at.format("%Y-%m-%d")
                ),
                buttons: vec![button(
                    "Close with outcome",
                    &format!("unflag {}", f.code),
                    ButtonStyle::Default,
                )],
            });
        }
        summary.push(format!("{} flagged", d.flags.len()));
    }
    if d.undelivered > 0 {
        let n = d.undelivered;
        let what = if n == 1 { "message" } else { "messages" };
        blocks.push(Block::Divider);
        blocks.push(Block::Text {
            text: format!(
                "*{n} {what} could not be delivered* (reminders or agency pings given up after retries): see `dunbot outbox --status dead`."
            ),
        });
        summary.push(format!("{n} {what} could not be delivered"));
    }
    let text = if summary.is_empty() {
        title
    } else {
        format!("{title}: {}", summary.join(", "))
    };
    Message {
        text,
        blocks,
        visibility: Visibility::Channel,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::{Currency, Money};

    fn line(do_not_contact: bool) -> AccountLine {
        AccountLine {
            code: "ACME-001".into(),
            name: "Acme".into(),
            owner: None,
            balance: Money::new(100, Currency::USD),
            amount: Money::new(100, Currency::USD),
            days_past_due: 3,
            stage: None,
            paused: None,
            priority: 1,
            do_not_contact,
            next_due: None,
        }
    }

    #[test]
    fn a_do_not_contact_account_offers_no_reminder_button() {
        let commands = |l: &AccountLine| -> Vec<String> {
            line_buttons(l).into_iter().map(|b| b.command).collect()
        };
        assert_eq!(
            commands(&line(false)),
            ["remind ACME-001", "promise ACME-001", "flag ACME-001"]
        );
        assert_eq!(commands(&line(true)), ["promise ACME-001", "flag ACME-001"]);
    }
}
