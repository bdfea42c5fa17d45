//! The digest's call-backs: accounts whose latest call agreed to call again on the digest's
//! day (`ar call ACME-001 call back fri`). A later call settles it, so each is listed until
//! someone calls, on that day only.
use crate::message::forms::button;
use crate::message::{Block, Button, ButtonStyle};
use crate::store::calls::Callback;

/// Opens the call form (outcome, call-back day, note) for the account.
pub fn log_call_button(code: &str) -> Button {
    button("Log call", &format!("call {code}"), ButtonStyle::Default)
}

/// The section, empty when nothing is due.
pub fn section(callbacks: &[Callback]) -> Vec<Block> {
    if callbacks.is_empty() {
        return vec![];
    }
    let mut blocks = vec![
        Block::Divider,
        Block::Text {
            text: format!("*Call-backs due today* ({})", callbacks.len()),
        },
    ];
    for c in callbacks {
        let note = c
            .note
            .as_deref()
            .map(|n| format!(": {n}"))
            .unwrap_or_default();
        blocks.push(Block::Item {
            text: format!(
                "*{}* {} — call back agreed by {} on {}{note}",
                c.code,
                c.name,
                c.called_by,
                c.called_at.format("%Y-%m-%d")
            ),
            buttons: vec![
                log_call_button(&c.code),
                button(
                    "History",
                    &format!("history {}", c.code),
                    ButtonStyle::Default,
                ),
            ],
        });
    }
    blocks
}
