//! The digest as a neutral message: a header, totals, then sections of entries with buttons.
use super::build::{AccountLine, Digest, LineActions, money};
use crate::domain::aging::Bucket;
use crate::domain::dates::count_of;
use crate::domain::money::Money;
use crate::domain::policy::{Pause, Stage};
use crate::message::forms::button;
use crate::message::{Block, Button, ButtonStyle, Message, Visibility};

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

/// An account's buttons, only those whose command would not be refused (see `line_actions`).
pub fn buttons_for(code: &str, actions: LineActions) -> Vec<Button> {
    let mut buttons = account_buttons(code);
    buttons.retain(|b| {
        let verb = b.command.split(' ').next().unwrap_or_default();
        match verb {
            "remind" => actions.remind,
            "promise" => actions.promise,
            "flag" => actions.flag,
            _ => true,
        }
    });
    buttons
}

/// A broken promise's next steps: Re-promise (the promise form, with what is still owed filled
/// in), Log call, Flag for call, and Escalate to the stage after the account's current one.
/// Each only where its command would not be refused.
pub fn broken_promise_buttons(p: &super::build::PromiseLine) -> Vec<Button> {
    let mut buttons = Vec::new();
    if p.actions.promise && p.owed.minor > 0 {
        buttons.push(button(
            "Re-promise",
            &format!("promise {} {}", p.code, p.owed.plain()),
            ButtonStyle::Primary,
        ));
    }
    buttons.push(super::log_call_button(&p.code));
    if p.actions.flag {
        buttons.push(button(
            "Flag for call",
            &format!("flag {}", p.code),
            ButtonStyle::Default,
        ));
    }
    let (label, command) = escalation(&p.code, p.stage);
    if !command.starts_with("remind") || p.actions.remind {
        buttons.push(button(&label, &command, ButtonStyle::Danger));
    }
    buttons
}

/// The step after `stage`: the firm notice, then the final notice, then a management call,
/// then the agency.
fn escalation(code: &str, stage: Option<Stage>) -> (String, String) {
    match stage {
        Some(Stage::FirmNotice) => (
            "Escalate: final notice".into(),
            format!("remind {code} final"),
        ),
        Some(Stage::ManagementCall) | Some(Stage::AgencyReferral) => {
            ("Escalate: refer to agency".into(), format!("refer {code}"))
        }
        _ => (
            "Escalate: firm notice".into(),
            format!("remind {code} firm"),
        ),
    }
}

/// Approve / Reject on a settlement offer: in the digest, the managers' ping and the offer's
/// reply alike.
pub fn decision_buttons(offer_id: i64) -> Vec<Button> {
    vec![
        Button {
            label: "Approve".into(),
            command: format!("settle {offer_id} approve"),
            style: ButtonStyle::Primary,
            form: None,
        },
        Button {
            label: "Reject".into(),
            command: format!("settle {offer_id} reject"),
            style: ButtonStyle::Danger,
            form: None,
        },
    ]
}

fn line_buttons(l: &AccountLine) -> Vec<Button> {
    buttons_for(&l.code, l.actions)
}

fn describe(l: &AccountLine) -> String {
    let mut s = format!("*{}* {} — {}", l.code, l.name, l.amount);
    if l.amount != l.balance {
        s.push_str(&format!(" (balance {})", l.balance));
    }
    if l.days_past_due > 0 {
        s.push_str(&format!(
            ", {} late",
            count_of(l.days_past_due as usize, "day", "days")
        ));
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

/// "*Late fees and interest owed* (beyond the balances)" and one line per account, the
/// largest first, at most ten.
fn late_fee_lines(d: &Digest) -> String {
    let mut lines = vec!["*Late fees and interest owed* (beyond the balances)".to_string()];
    let shown = &d.late_fees.items[..d.late_fees.items.len().min(super::LATE_FEES_SHOWN)];
    for (code, owed) in shown {
        let owed: Vec<String> = owed.iter().map(Money::format).collect();
        lines.push(format!("*{code}* {}", owed.join(", ")));
    }
    if d.late_fees.total() > shown.len() {
        lines.push(format!("…and {} more", d.late_fees.total() - shown.len()));
    }
    lines.join("\n")
}

/// `…and 1 more account due soon`: `one` and `many` are the noun phrases.
fn more(blocks: &mut Vec<Block>, n: usize, one: &str, many: &str) {
    if n > 0 {
        blocks.push(Block::Context {
            text: format!("…and {} more", count_of(n, one, many)),
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
    let mut stale_warning = None;
    if let Some(f) = &d.freshness {
        if f.stale {
            let warning = format!(
                "Ledger may be out of date: {}, more than a day ago. Run `dunbot sync stripe` or import today's payments before chasing.",
                f.text
            );
            blocks.push(Block::Text {
                text: format!("*{warning}*"),
            });
            stale_warning = Some(format!("ledger out of date ({})", f.text));
        } else {
            blocks.push(Block::Context {
                text: format!("Ledger: {}.", f.text),
            });
        }
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
                "{} across {}",
                Money::new(t.total, t.currency),
                count_of(t.accounts, "account", "accounts")
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
                    "*Offer {}*: {} offers {amount} for *{}* {} (balance {bal}), recorded by {}{}",
                    o.id,
                    o.agency,
                    o.code,
                    o.account_name,
                    o.offered_by,
                    o.approved_by
                        .as_deref()
                        .map(|who| format!(
                            "; approved so far by {who} ({})",
                            o.waiting.as_deref().unwrap_or("more needed")
                        ))
                        .unwrap_or_default()
                ),
                buttons: decision_buttons(o.id),
            });
        }
        summary.push(count_of(
            d.offers.len(),
            "offer to decide",
            "offers to decide",
        ));
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
            "account ready to escalate",
            "accounts ready to escalate",
        );
        summary.push(format!("{} to escalate", d.escalations.total()));
    }
    blocks.extend(super::plans::section(&d.plans_broken));
    if !d.plans_broken.is_empty() {
        summary.push(count_of(
            d.plans_broken.len(),
            "broken payment plan",
            "broken payment plans",
        ));
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
                buttons: broken_promise_buttons(p),
            });
        }
        summary.push(count_of(
            d.promises_broken.len(),
            "broken promise",
            "broken promises",
        ));
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
    if !d.callbacks.is_empty() {
        blocks.extend(super::callbacks::section(&d.callbacks));
        summary.push(count_of(
            d.callbacks.len(),
            "call-back due",
            "call-backs due",
        ));
    }
    for g in &d.overdue {
        blocks.push(Block::Divider);
        blocks.push(Block::Text {
            text: format!(
                "*Overdue {} days* — {} ({}{})",
                g.bucket.label(),
                total_line(&g.totals),
                count_of(g.count, "account", "accounts"),
                match g.count - g.accounts.total().min(g.count) {
                    0 => String::new(),
                    above if above == g.count => ", listed above".into(),
                    above => format!(", {above} listed above"),
                }
            ),
        });
        for l in &g.accounts.items {
            blocks.push(Block::Item {
                text: describe(l),
                buttons: line_buttons(l),
            });
        }
        more(
            &mut blocks,
            g.accounts.more,
            "account in this bucket",
            "accounts in this bucket",
        );
    }
    if !d.due_soon.items.is_empty() {
        blocks.push(Block::Divider);
        blocks.push(Block::Text {
            text: format!(
                "*Due soon* ({})",
                count_of(d.due_soon.total(), "account", "accounts")
            ),
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
        more(
            &mut blocks,
            d.due_soon.more,
            "account due soon",
            "accounts due soon",
        );
    }
    super::confirm_receipt::render(&d.confirm, &mut blocks, &mut summary);
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
    if d.late_fees.total() > 0 {
        blocks.push(Block::Divider);
        blocks.push(Block::Text {
            text: late_fee_lines(d),
        });
        summary.push(format!(
            "late fees and interest on {}",
            count_of(d.late_fees.total(), "account", "accounts")
        ));
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
    summary.extend(stale_warning);
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

    fn broken(
        stage: Option<Stage>,
        owed: i64,
        actions: LineActions,
    ) -> super::super::build::PromiseLine {
        super::super::build::PromiseLine {
            id: 1,
            code: "ACME-001".into(),
            name: "Acme".into(),
            amount: Money::new(50_000, Currency::USD),
            promised_for: chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
            logged_by: "maria".into(),
            actions,
            owed: Money::new(owed, Currency::USD),
            stage,
        }
    }

    #[test]
    fn a_broken_promise_offers_re_promise_a_call_a_flag_and_the_next_stage() {
        let all = LineActions {
            remind: true,
            promise: true,
            flag: true,
        };
        let commands = |p| -> Vec<String> {
            broken_promise_buttons(&p)
                .into_iter()
                .map(|b| b.command)
                .collect()
        };
        // USD 200.00 of USD 500.00 paid: USD 300.00 is still owed.
        assert_eq!(
            commands(broken(Some(Stage::Inquiry), 30_000, all)),
            [
                "promise ACME-001 300.00",
                "call ACME-001",
                "flag ACME-001",
                "remind ACME-001 firm"
            ]
        );
        assert_eq!(
            commands(broken(Some(Stage::FirmNotice), 30_000, all))[3],
            "remind ACME-001 final"
        );
        assert_eq!(
            commands(broken(Some(Stage::ManagementCall), 30_000, all))[3],
            "refer ACME-001"
        );
        // Nothing owed, already flagged, a reminder not allowed now: only what can be used.
        let none = LineActions::default();
        assert_eq!(
            commands(broken(Some(Stage::Inquiry), 0, none)),
            ["call ACME-001"]
        );
        let form = &broken_promise_buttons(&broken(None, 30_000, all))[0];
        assert_eq!(form.label, "Re-promise");
        assert!(form.form.is_some(), "the promise form asks for the date");
    }

    fn line(actions: LineActions) -> AccountLine {
        AccountLine {
            code: "ACME-001".into(),
            name: "Acme".into(),
            owner: None,
            balance: Money::new(100, Currency::USD),
            amount: Money::new(100, Currency::USD),
            days_past_due: 1,
            stage: None,
            paused: None,
            priority: 1,
            do_not_contact: false,
            next_due: None,
            actions,
        }
    }

    #[test]
    fn only_the_buttons_whose_command_would_act_are_shown() {
        let commands = |l: &AccountLine| -> Vec<String> {
            line_buttons(l).into_iter().map(|b| b.command).collect()
        };
        let all = LineActions {
            remind: true,
            promise: true,
            flag: true,
        };
        assert_eq!(
            commands(&line(all)),
            ["remind ACME-001", "promise ACME-001", "flag ACME-001"]
        );
        let no_reminder = LineActions {
            remind: false,
            ..all
        };
        assert_eq!(
            commands(&line(no_reminder)),
            ["promise ACME-001", "flag ACME-001"]
        );
        let flagged = LineActions { flag: false, ..all };
        assert_eq!(
            commands(&line(flagged)),
            ["remind ACME-001", "promise ACME-001"]
        );
        assert!(describe(&line(all)).contains(", 1 day late"));
    }
}
