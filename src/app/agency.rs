//! Agencies: `ar refer`, `ar offer`, `ar settle`. Decisions ping the agency (its channel and/or
//! its signed webhook) and new offers ping the managers, all through the outbox.
use super::{Ctx, Done, Fail, approval, args};
use crate::commands::Parsed;
use crate::digest::decision_buttons;
use crate::domain::approval::share;
use crate::domain::dates::count_of;
use crate::domain::money::{Currency, Money};
use crate::domain::settlement::{Decision, OfferStatus, decide};
use crate::message::{Block, Mention, Message, Visibility};
use crate::refuse;
use crate::store::{approvals, collections, copies, ledger, outbox};
use serde_json::{Value, json};
use sqlx::PgConnection;

pub async fn refer(ctx: &Ctx<'_>, tx: &mut PgConnection, p: &Parsed<'_>) -> Result<Done, Fail> {
    let acc = args::account(ctx, tx, p.get("account").unwrap_or_default(), true).await?;
    let name = p.get("agency").unwrap_or_default();
    let Some(agency) = collections::agency_by_name(tx, name).await? else {
        let known: Vec<String> = collections::list_agencies(tx)
            .await?
            .into_iter()
            .map(|a| a.name)
            .collect();
        if known.is_empty() {
            refuse!(
                "There is no agency `{name}`, and none is set up yet. An admin adds one with `dunbot agency add \"Name\" --webhook URL`."
            );
        }
        refuse!(
            "There is no agency `{name}`. Known agencies: {}.",
            known.join(", ")
        );
    };
    if let Some(r) = collections::active_referral(tx, acc.id).await? {
        let current = collections::agency_by_id(tx, r.agency_id).await?;
        refuse!(
            "{} was already referred to {} by {} on {}.",
            acc.code,
            current.name,
            r.referred_by,
            r.referred_at.format("%Y-%m-%d")
        );
    }
    let (balance, unpaid) = args::balance(tx, acc.id).await?;
    if balance <= 0 {
        refuse!("{} has no unpaid balance to refer.", acc.code);
    }
    // An agency collects overdue money: handing it invoices not yet due is a mistake unless
    // someone says so.
    let overdue = unpaid.iter().any(|i| i.due < ctx.today);
    if !overdue && !p.flag("force") {
        let first_due = unpaid.iter().map(|i| i.due).min().unwrap_or(ctx.today);
        refuse!(
            "{} has nothing overdue: its {} is first due on {first_due}, so there is nothing for an agency to collect yet. To refer it anyway: `{} {} {} --force`.",
            acc.code,
            Money::new(balance, args::currency_of(&acc)?),
            ctx.typed("refer"),
            acc.code,
            shlex::try_quote(&agency.name)
                .map(|q| q.into_owned())
                .unwrap_or_else(|_| agency.name.clone())
        );
    }
    let referral_id =
        collections::insert_referral(tx, acc.id, agency.id, ctx.who(), ctx.now).await?;
    // What the agency needs to take over, as the invoices stood before the hand-over.
    let case = super::case_file::build(ctx, tx, &acc, &unpaid).await?;
    let moved = ledger::hand_invoices_to_agency(tx, acc.id).await?;
    let amount = Money::new(balance, args::currency_of(&acc)?);
    let event = json!({
        "event": "referral", "referral_id": referral_id, "account": acc.code, "customer": acc.name,
        "balance_minor": balance, "currency": amount.currency, "referred_by": ctx.who(), "at": ctx.now,
        "case_file": case.json.clone(),
    });
    let text = format!(
        "{} ({}) referred to {} by {}: {}, {amount}.{}",
        acc.code,
        acc.name,
        agency.name,
        ctx.who(),
        count_of(moved as usize, "invoice", "invoices"),
        if overdue {
            ""
        } else {
            " Nothing was overdue yet (referred with --force)."
        }
    );
    ping_agency(
        tx,
        &agency,
        &format!("referral:{referral_id}"),
        event,
        case.message(text.clone()),
    )
    .await?;
    Ok(
        Done::new(Message::channel(text), Some(acc.code.clone())).with_details(
            json!({"referral_id": referral_id, "agency": agency.name, "forced": !overdue}),
        ),
    )
}

pub async fn offer(ctx: &Ctx<'_>, tx: &mut PgConnection, p: &Parsed<'_>) -> Result<Done, Fail> {
    let acc = args::account(ctx, tx, p.get("account").unwrap_or_default(), true).await?;
    let amount = args::amount(p.get("amount").unwrap_or_default(), &acc)?;
    let Some(referral) = collections::active_referral(tx, acc.id).await? else {
        refuse!(
            "{} is not with an agency, so it takes no settlement offers. A manager refers it with `{} {} <agency>`.",
            acc.code,
            ctx.typed("refer"),
            acc.code
        );
    };
    let agency = collections::agency_by_id(tx, referral.agency_id).await?;
    let (balance, _) = args::balance(tx, acc.id).await?;
    if amount.minor > balance {
        refuse!(
            "{amount} is more than {}'s unpaid balance of {}; an offer settles for less.",
            acc.code,
            Money::new(balance, amount.currency)
        );
    }
    if let Some(open) = collections::offers_for_account(tx, acc.id)
        .await?
        .into_iter()
        .find(|o| o.status == "proposed")
    {
        refuse!(
            "Offer {} on {} is still waiting for a manager's decision; record a new one after it is decided.",
            open.id,
            acc.code
        );
    }
    let note = p.get("note");
    let id = collections::insert_offer(
        tx,
        &collections::NewOffer {
            referral_id: referral.id,
            account_id: acc.id,
            agency_id: agency.id,
            amount_minor: amount.minor,
            currency: amount.currency.code(),
            note,
            offered_by: ctx.who(),
            offered_at: ctx.now,
        },
    )
    .await?;
    approvals::set_offer_balance(tx, id, balance).await?;
    let bal = Money::new(balance, amount.currency);
    let pct = share(amount.minor, balance);
    let (needs, also) = approval::needs(ctx.app.settings.policy.settlement_approval.tier(pct));
    let line = format!(
        "*Offer {id}* from {}: settle *{}* ({}) for *{amount}* of {bal} ({pct}%).{}{needs}",
        agency.name,
        acc.code,
        acc.name,
        note.map(|n| format!(" Note: {n}")).unwrap_or_default()
    );
    let topic = offer_topic(id);
    let ping = Message {
        text: format!(
            "Settlement offer {id} on {} needs a manager's decision",
            acc.code
        ),
        blocks: vec![Block::Item {
            text: line.clone(),
            buttons: decision_buttons(id),
        }],
        visibility: Visibility::Channel,
        mentions: [vec![Mention::Managers], also].concat(),
        topic: Some(topic.clone()),
    };
    outbox::enqueue(
        tx,
        "chat",
        &format!("offer:{id}:managers"),
        &json!({"channel": ctx.app.settings.managers_channel, "message": ping}),
    )
    .await?;
    let reply = Message {
        text: format!(
            "Offer {id} recorded on {} for {amount}; managers were asked to decide.",
            acc.code
        ),
        blocks: vec![
            Block::Item {
                text: line,
                buttons: decision_buttons(id),
            },
            Block::Context {
                text: format!("Recorded by {}; managers were pinged.", ctx.who()),
            },
        ],
        visibility: Visibility::Channel,
        topic: Some(topic),
        ..Default::default()
    };
    Ok(Done::new(reply, Some(acc.code.clone())).with_details(json!({"offer_id": id, "amount_minor": amount.minor, "currency": amount.currency, "agency": agency.name})))
}

/// Every message carrying an offer's Approve / Reject is about this topic; its decision edits
/// each recorded copy.
pub fn offer_topic(offer_id: i64) -> String {
    format!("offer:{offer_id}")
}

/// The topic a decision button settles (`settle 12 approve` → `offer:12`, `plan-decide 3
/// approve` → `plan:3`), so a post carrying it (a ping, a digest) is edited when decided.
pub fn decided_topic(command: &str) -> Option<String> {
    let mut words = command.split_whitespace();
    let topic: fn(i64) -> String = match words.next()? {
        "settle" => offer_topic,
        "plan-decide" => super::plans::plan_topic,
        _ => return None,
    };
    words.next()?.parse().ok().map(topic)
}

pub async fn settle(ctx: &Ctx<'_>, tx: &mut PgConnection, p: &Parsed<'_>) -> Result<Done, Fail> {
    let id = args::offer_id(p.get("offer").unwrap_or_default())?;
    let decision = Decision::parse(p.get("decision").unwrap_or_default())
        .ok_or_else(|| Fail::User("Decide with approve or reject.".into()))?;
    let Some(offer) = collections::offer_for_update(tx, id).await? else {
        refuse!(
            "There is no offer {id}. The digest lists offers waiting for a decision with their numbers."
        );
    };
    let current = OfferStatus::parse(&offer.status)
        .ok_or_else(|| Fail::Internal(anyhow::anyhow!("offer {id} has status {}", offer.status)))?;
    let next = match decide(id, current, decision) {
        Ok(s) => s,
        Err(msg) => {
            let by = match (&offer.decided_by, offer.decided_at) {
                (Some(who), Some(at)) => {
                    format!(" (by {who} at {})", at.format("%Y-%m-%d %H:%M UTC"))
                }
                _ => String::new(),
            };
            refuse!("{msg}{by}");
        }
    };
    let note = p.get("note");
    let (tier, pct) = approval::tier_of(ctx, tx, &offer).await?;
    approval::check_may_decide(ctx, &tier, id, pct)?;
    let acc = ledger::account_by_id(tx, offer.account_id).await?;
    let agency = collections::agency_by_id(tx, offer.agency_id).await?;
    let cur =
        Currency::parse(&offer.currency).map_err(|e| Fail::Internal(anyhow::anyhow!("{e}")))?;
    let amount = Money::new(offer.amount_minor, cur);
    let mut deciders = vec![ctx.who().to_string()];
    if decision == Decision::Approve {
        let line = format!(
            "*Offer {id}* from {}: settle *{}* ({}) for *{amount}* ({pct}% of the balance).",
            agency.name, acc.code, acc.name
        );
        if let Some(waiting) = approval::approve(ctx, tx, &offer, &tier, &line, &acc.code).await? {
            return Ok(waiting);
        }
        deciders = approvals::approvals(tx, id)
            .await?
            .into_iter()
            .map(|a| a.name)
            .collect();
    }
    collections::decide_offer(tx, id, next.key(), ctx.who(), note, ctx.now).await?;
    let verb = decision.past();
    let at = ctx.now.format("%H:%M UTC");
    let text = format!(
        "Offer {id} ({amount} on {} from {}) {verb} by {} at {at}.{}",
        acc.code,
        agency.name,
        and_list(&deciders),
        note.map(|n| format!(" Note: {n}")).unwrap_or_default()
    );
    let event = json!({
        "event": "offer_decided", "offer_id": id, "account": acc.code, "customer": acc.name,
        "amount_minor": offer.amount_minor, "currency": cur, "decision": next, "decided_by": ctx.who(),
        "decided_by_platform": ctx.actor.platform, "decided_by_id": ctx.actor.user_id, "note": note, "at": ctx.now,
    });
    ping_agency(
        tx,
        &agency,
        &format!("offer:{id}:decision"),
        event,
        Message::channel(text.clone()),
    )
    .await?;
    let mut first = verb.chars();
    let capital = first
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + first.as_str())
        .unwrap_or_default();
    let resolved = format!("{capital} by {} at {at}", and_list(&deciders));
    // What every copy of the offer's message says from now on: its notification text and
    // its line, without the choices, and who decided.
    let decided = Message::decided(
        text.clone(),
        format!(
            "*Offer {id}* from {}: settle *{}* ({}) for *{amount}*.{}",
            agency.name,
            acc.code,
            acc.name,
            offer
                .note
                .as_deref()
                .map(|n| format!(" Note: {n}"))
                .unwrap_or_default()
        ),
        &resolved,
        note,
        offer_topic(id),
    );
    let outcome = copies::Outcome {
        message: serde_json::to_value(&decided).map_err(anyhow::Error::from)?,
        resolved: format!("Offer {id}: {resolved}"),
        spent: vec![format!("settle {id}")],
    };
    copies::drop_interim_edits(tx, &offer_topic(id)).await?;
    copies::settle(tx, &offer_topic(id), &outcome).await?;
    Ok(Done::new(Message::channel(text), Some(acc.code.clone()))
        .with_details(json!({"offer_id": id, "decision": next, "agency": agency.name}))
        .resolved(resolved)
        .updated(decided))
}

/// "Maria", "Maria and Fay", "Maria, Priya and Fay".
fn and_list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Queues the agency's ping: a message in its chat channel, mentioning its people, and a
/// signed webhook, whichever it has.
pub(super) async fn ping_agency(
    tx: &mut PgConnection,
    agency: &collections::Agency,
    key: &str,
    event: Value,
    message: Message,
) -> Result<(), Fail> {
    let message = message.mentioning(Mention::Agency {
        name: agency.name.clone(),
    });
    if let Some(channel) = &agency.channel {
        outbox::enqueue(
            tx,
            "chat",
            &format!("{key}:chat"),
            &json!({"channel": channel, "message": message}),
        )
        .await?;
    }
    if agency.webhook_url.is_some() {
        outbox::enqueue(
            tx,
            "webhook",
            &format!("{key}:webhook"),
            &json!({"agency_id": agency.id, "body": event}),
        )
        .await?;
    }
    Ok(())
}
