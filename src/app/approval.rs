//! The approvals on the way to a settlement decision: which of the policy's limits an offer
//! falls under, whether this person's approval counts, and what every copy of the offer says
//! while more approvals are needed. The agency hears nothing until the decision is final.
use super::{Ctx, Done, Fail, args};
use crate::digest::decision_buttons;
use crate::domain::approval::{Given, Progress, Tier, share};
use crate::domain::money::Money;
use crate::domain::roles::Role;
use crate::message::{Block, Mention, Message, Visibility};
use crate::refuse;
use crate::store::approvals::{self, NewApproval};
use crate::store::{collections::Offer, copies};
use serde_json::json;
use sqlx::PgConnection;

/// The limit an offer falls under, with its share of the balance it was made against.
pub(super) async fn tier_of(
    ctx: &Ctx<'_>,
    tx: &mut PgConnection,
    offer: &Offer,
) -> Result<(Tier, u32), Fail> {
    let balance = match approvals::offer_balance(tx, offer.id).await? {
        Some(b) => b,
        // An offer from before limits were kept: measured against today's balance.
        None => args::balance(tx, offer.account_id).await?.0,
    };
    let pct = share(offer.amount_minor, balance);
    let tier = ctx
        .app
        .settings
        .policy
        .settlement_approval
        .tier(pct)
        .clone();
    Ok((tier, pct))
}

/// What a new offer's ping says it needs ("Needs 2 approvals, one from finance."), and whom it
/// must reach besides the managers; empty for a single approval.
pub(super) fn needs(tier: &Tier) -> (String, Vec<Mention>) {
    if tier.approvals <= 1 && tier.require.is_empty() {
        return (String::new(), vec![]);
    }
    let mut text = format!(" Needs {} approvals", tier.approvals);
    if !tier.require.is_empty() {
        let roles: Vec<&str> = tier.require.iter().map(Role::key).collect();
        text.push_str(&format!(", one from {}", roles.join(" and one from ")));
    }
    text.push('.');
    let mut mentions = vec![];
    if tier.require.contains(&Role::Finance) || tier.approvers.contains(&Role::Finance) {
        mentions.push(Mention::Finance);
    }
    (text, mentions)
}

/// Refuses someone the offer's limit does not let decide.
pub(super) fn check_may_decide(ctx: &Ctx<'_>, tier: &Tier, id: i64, pct: u32) -> Result<(), Fail> {
    if !tier.may_decide(&ctx.roles) {
        let who: Vec<&str> = tier.approvers.iter().map(Role::key).collect();
        refuse!(
            "Offer {id} recovers {pct}% of the balance, so only {} may decide it; nothing changed.",
            who.join(" or ")
        );
    }
    Ok(())
}

/// Records this person's approval. `Ok(None)`: it completes the offer, which the caller then
/// decides as approved; `Ok(Some(done))`: more approvals are needed and every copy says so.
pub(super) async fn approve(
    ctx: &Ctx<'_>,
    tx: &mut PgConnection,
    offer: &Offer,
    tier: &Tier,
    line: &str,
    code: &str,
) -> Result<Option<Done>, Fail> {
    let id = offer.id;
    let given: Vec<Given> = approvals::approvals(tx, id)
        .await?
        .into_iter()
        .map(|a| a.given)
        .collect();
    let me = Given {
        who: format!("{}:{}", ctx.actor.platform.key(), ctx.actor.user_id),
        roles: ctx.roles.clone(),
    };
    let progress = match tier.approve(&given, &me) {
        Ok(p) => p,
        Err(why) => refuse!("Offer {id} is not approved by you: {why}. Nothing changed."),
    };
    approvals::insert_approval(
        tx,
        &NewApproval {
            offer_id: id,
            platform: ctx.actor.platform.key(),
            user_id: &ctx.actor.user_id,
            name: ctx.who(),
            roles: &ctx.roles,
            at: ctx.now,
        },
    )
    .await?;
    if progress == Progress::Complete {
        return Ok(None);
    }
    let state = progress.describe();
    let at = ctx.now.format("%H:%M UTC");
    let names: Vec<String> = approvals::approvals(tx, id)
        .await?
        .into_iter()
        .map(|a| a.name)
        .collect();
    let mut buttons = decision_buttons(id);
    if let Some(approve) = buttons.first_mut() {
        approve.label = format!("Approve ({})", short(&progress));
    }
    let waiting = Message {
        text: format!("Offer {id}: {state} so far; it needs more before it is final"),
        blocks: vec![
            Block::Item {
                text: line.to_string(),
                buttons,
            },
            Block::Context {
                text: format!("Approved by {} — {state}.", names.join(", ")),
            },
        ],
        visibility: Visibility::Channel,
        topic: Some(super::agency::offer_topic(id)),
        ..Default::default()
    };
    copies::refresh(
        tx,
        &super::agency::offer_topic(id),
        &format!("approval-{}", names.len()),
        &serde_json::to_value(&waiting).map_err(anyhow::Error::from)?,
    )
    .await?;
    let reply = Message {
        text: format!(
            "{} approved offer {id} at {at}: {state}. The agency hears nothing until it is final.",
            ctx.who()
        ),
        blocks: vec![],
        visibility: Visibility::Channel,
        mentions: if matches!(&progress, Progress::Waiting { missing, .. } if missing.contains(&Role::Finance))
        {
            vec![Mention::Finance]
        } else {
            vec![]
        },
        ..Default::default()
    };
    let amount = Money::new(
        offer.amount_minor,
        crate::domain::money::Currency::parse(&offer.currency)
            .map_err(|e| Fail::Internal(anyhow::anyhow!("{e}")))?,
    );
    Ok(Some(
        Done::new(reply, Some(code.to_string()))
            .with_details(json!({"offer_id": id, "approval": state, "amount_minor": amount.minor, "currency": amount.currency})),
    ))
}

/// "1 of 2; needs finance", short enough for a button label.
fn short(p: &Progress) -> String {
    p.describe().replace(" approvals", "")
}
