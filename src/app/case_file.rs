//! The case file an agency gets with a referral: what it needs to take the account over
//! without asking — the customer's contacts, the open invoices, and the timeline of every
//! reminder, call, note, promise and dispute. It goes in the referral webhook's payload
//! (`case_file`) and, readable, in the agency's channel. Only the referred account's facts
//! are in it, and it goes only to the agency the account was referred to.
use super::{Ctx, Fail, args};
use crate::domain::money::Money;
use crate::domain::timeline::{describe, line};
use crate::message::{Block, Message, Visibility};
use crate::store::{calls, ledger, timeline};
use serde_json::{Value, json};
use sqlx::PgConnection;

/// Timeline kinds an agency is handed.
pub const KINDS: &[&str] = &["reminder", "call", "note", "promise", "dispute"];
/// Timeline lines in the channel post; the webhook carries them all.
const CHANNEL_LINES: usize = 25;

pub struct CaseFile {
    /// `{contacts, open_invoices, timeline}` for the webhook.
    pub json: Value,
    /// The same, readable, for the agency's channel.
    pub blocks: Vec<Block>,
}

impl CaseFile {
    /// The referral's channel post: its one-line summary, then the case file.
    pub fn message(&self, summary: String) -> Message {
        let mut blocks = vec![Block::Text {
            text: summary.clone(),
        }];
        blocks.extend(self.blocks.iter().cloned());
        Message {
            text: summary,
            blocks,
            visibility: Visibility::Channel,
            ..Default::default()
        }
    }
}

/// The case file of `acc` with its `open` invoices (as they stood before the hand-over).
pub async fn build(
    ctx: &Ctx<'_>,
    tx: &mut PgConnection,
    acc: &ledger::Account,
    open: &[ledger::Invoice],
) -> Result<CaseFile, Fail> {
    let cur = args::currency_of(acc)?;
    let tz = ctx.app.settings.time_zone;
    let contacts = calls::contacts(tx, acc.id).await?;
    let entries: Vec<_> = timeline::entries(tx, acc.id, &acc.code, None, 0)
        .await?
        .into_iter()
        .filter(|e| KINDS.contains(&e.kind.as_str()))
        .collect();

    let json = json!({
        "contacts": contacts.iter().map(|c| json!({
            "name": c.name, "email": c.email, "phone": c.phone, "primary": c.is_primary,
            "phone_check_needed": c.phone_check_needed,
        })).collect::<Vec<_>>(),
        "open_invoices": open.iter().map(|i| json!({
            "invoice": i.number, "issued": i.issued, "due": i.due, "amount_minor": i.amount_minor,
            "paid_minor": i.paid_minor, "balance_minor": i.balance_minor(), "currency": i.currency.trim(),
            "status": i.status, "days_overdue": (ctx.today - i.due).num_days().max(0),
        })).collect::<Vec<_>>(),
        "timeline": entries.iter().map(|e| json!({
            "at": e.at, "kind": e.kind, "by": e.by, "text": describe(e), "details": e.details,
        })).collect::<Vec<_>>(),
    });

    let mut blocks = vec![Block::Header {
        text: format!("Case file — {} ({})", acc.code, acc.name),
    }];
    let contact_lines: Vec<String> = contacts
        .iter()
        .map(|c| {
            let mut parts: Vec<String> = [c.name.clone(), c.email.clone()]
                .into_iter()
                .flatten()
                .collect();
            if let Some(ph) = &c.phone {
                parts.push(if c.phone_check_needed {
                    format!("{ph} (wrong number reported: check it)")
                } else {
                    ph.clone()
                });
            }
            let role = if c.is_primary {
                ""
            } else {
                " (earlier contact)"
            };
            format!("{}{role}", parts.join(", "))
        })
        .collect();
    blocks.push(Block::Text {
        text: if contact_lines.is_empty() {
            "*Contacts*\nnone on file".into()
        } else {
            format!("*Contacts*\n{}", contact_lines.join("\n"))
        },
    });
    let invoice_lines: Vec<String> = open
        .iter()
        .map(|i| {
            format!(
                "{} due {} · {} open of {}{}",
                i.number,
                i.due,
                Money::new(i.balance_minor(), cur),
                Money::new(i.amount_minor, cur),
                if i.status == "disputed" {
                    " · disputed"
                } else {
                    ""
                }
            )
        })
        .collect();
    blocks.push(Block::Text {
        text: format!("*Open invoices*\n{}", invoice_lines.join("\n")),
    });
    let mut lines: Vec<String> = entries
        .iter()
        .take(CHANNEL_LINES)
        .map(|e| line(e, tz))
        .collect();
    if entries.len() > CHANNEL_LINES {
        lines.push(format!(
            "…and {} older entries (all in the webhook's case file, or `{} {} --all`).",
            entries.len() - CHANNEL_LINES,
            ctx.typed("history"),
            acc.code
        ));
    }
    blocks.push(Block::Text {
        text: "*Timeline* (reminders, calls, notes, promises, disputes; newest first)".into(),
    });
    if lines.is_empty() {
        blocks.push(Block::Text {
            text: "nothing recorded yet".into(),
        });
    }
    for chunk in lines.chunks(5) {
        blocks.push(Block::Text {
            text: chunk.join("\n"),
        });
    }
    Ok(CaseFile { json, blocks })
}
