//! Broken payment plans in the digest, and the buttons a broken plan gets wherever it is shown
//! (the digest and the managers' ping alike): Re-plan, a call, Escalate.
use super::build::money;
use crate::domain::money::Money;
use crate::message::forms::button;
use crate::message::{Block, Button, ButtonStyle};
use crate::store::snapshot::PromiseFacts;
use chrono::NaiveDate;

/// A plan whose installment was missed, listed in the digest after its grace ran out.
#[derive(Debug, Clone)]
pub struct PlanLine {
    pub plan_id: i64,
    pub code: String,
    pub name: String,
    pub owner: Option<String>,
    /// The installment missed, of how many.
    pub installment: u32,
    pub of: u32,
    pub due: NaiveDate,
    /// The account's unpaid balance: what a new plan would cover.
    pub owed: Money,
}

/// The digest line of a broken installment (`None` when `p` is an ordinary promise);
/// `account` is its account's owner and unpaid balance, when it has one.
pub fn broken_line(p: &PromiseFacts, account: Option<(Option<String>, i64)>) -> Option<PlanLine> {
    let plan_id = p.plan_id?;
    let (owner, balance_minor) = account.unwrap_or_default();
    Some(PlanLine {
        plan_id,
        code: p.code.clone(),
        name: p.name.clone(),
        owner,
        installment: p.installment.unwrap_or(0).max(0) as u32,
        of: p.plan_installments.unwrap_or(0).max(0) as u32,
        due: p.promised_for,
        owed: money(balance_minor, &p.currency),
    })
}

/// The digest's section of broken plans (nothing when there are none).
pub fn section(lines: &[PlanLine]) -> Vec<Block> {
    if lines.is_empty() {
        return vec![];
    }
    let mut blocks = vec![
        Block::Divider,
        Block::Text {
            text: format!(
                "*Broken payment plans* ({}) — chasing resumes on the repeat plan",
                lines.len()
            ),
        },
    ];
    for l in lines {
        blocks.push(Block::Item {
            text: describe(l),
            buttons: broken_plan_buttons(&l.code, l.owed),
        });
    }
    blocks
}

/// Re-plan (the plan form, with what is still owed filled in), Log call, Flag for call, Escalate (refer to an
/// agency; managers only, so others do not see it).
pub fn broken_plan_buttons(code: &str, owed: Money) -> Vec<Button> {
    let mut buttons = Vec::new();
    if owed.minor > 0 {
        buttons.push(button(
            "Re-plan",
            &format!("plan {code} {}", owed.plain()),
            ButtonStyle::Primary,
        ));
    }
    // Call the customer now (the call form), or ask for a manager's call with a flag.
    buttons.push(super::log_call_button(code));
    buttons.push(button(
        "Flag for call",
        &format!("flag {code}"),
        ButtonStyle::Default,
    ));
    buttons.push(button(
        "Escalate",
        &format!("refer {code}"),
        ButtonStyle::Danger,
    ));
    buttons
}

/// `*ACME-001* Acme Corp missed installment 2 of 4 (due 2026-12-15) · owes USD 900.00 · maria`
pub fn describe(l: &PlanLine) -> String {
    let mut s = format!(
        "*{}* {} missed installment {} of {} of payment plan {} (due {}) · owes {}",
        l.code, l.name, l.installment, l.of, l.plan_id, l.due, l.owed
    );
    if let Some(o) = &l.owner {
        s.push_str(&format!(" · {o}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Currency;

    #[test]
    fn a_broken_plan_offers_re_plan_with_what_is_owed_a_call_and_escalation() {
        let b = broken_plan_buttons("ACME-001", Money::new(90_050, Currency::USD));
        let commands: Vec<&str> = b.iter().map(|b| b.command.as_str()).collect();
        assert_eq!(
            commands,
            [
                "plan ACME-001 900.50",
                "call ACME-001",
                "flag ACME-001",
                "refer ACME-001"
            ]
        );
        let form = b[0].form.as_ref().expect("re-plan opens the plan form");
        let fields: Vec<&str> = form.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(fields, ["count", "cadence", "first", "note"]);
        assert!(form.fields[..3].iter().all(|f| f.required));
        // Nothing owed: nothing to re-plan.
        let none = broken_plan_buttons("ACME-001", Money::new(0, Currency::USD));
        assert_eq!(none[0].command, "call ACME-001");
    }
}
