//! `ar plan`: set up, show or cancel a payment plan; `ar plan-decide`: a manager approves or
//! rejects a plan that needed approval. How a plan moves afterwards is `plan_progress`.
use super::plan_progress::{advance, schedule_of};
use super::{Ctx, Done, Fail, args};
use crate::commands::Parsed;
use crate::domain::calendar::Calendar;
use crate::domain::money::{Currency, Money};
use crate::domain::plan::{self, Cadence, Invalid, MAX_INSTALLMENTS, Progress};
use crate::message::{Block, Button, ButtonStyle, Mention, Message, Visibility};
use crate::refuse;
use crate::store::{ledger, outbox, plans};
use chrono::NaiveDate;
use serde_json::json;
use sqlx::PgConnection;

pub async fn run(ctx: &Ctx<'_>, tx: &mut PgConnection, p: &Parsed<'_>) -> Result<Done, Fail> {
    let first = p.get("account").unwrap_or_default();
    if first.eq_ignore_ascii_case("cancel") {
        return cancel(ctx, tx, p).await;
    }
    let acc = args::account(ctx, tx, first, true).await?;
    match p.get("total") {
        None => show(ctx, tx, acc).await,
        Some(total) => create(ctx, tx, p, acc, total).await,
    }
}

/// `plan ACME-001 1,200.00 4 monthly 2026-12-15 [note]`
async fn create(
    ctx: &Ctx<'_>,
    tx: &mut PgConnection,
    p: &Parsed<'_>,
    acc: ledger::Account,
    total_text: &str,
) -> Result<Done, Fail> {
    let s = &ctx.app.settings;
    let usage = format!(
        "`{} {} <total> <count> weekly|biweekly|monthly <first date> [note]`, e.g. `{} {} 1200.00 4 monthly {}`",
        ctx.typed("plan"),
        acc.code,
        ctx.typed("plan"),
        acc.code,
        ctx.today + chrono::Days::new(7)
    );
    let total = args::amount(total_text, &acc)?;
    let (Some(count_text), Some(cadence_text), Some(first_text)) =
        (p.get("count"), p.get("cadence"), p.get("first"))
    else {
        refuse!(
            "A plan needs the total, how many installments, the cadence and the first date: {usage}."
        );
    };
    let count: u32 = match count_text.trim().parse::<i64>() {
        Ok(n) if (0..=i64::from(u32::MAX)).contains(&n) => n as u32,
        _ => refuse!(
            "`{count_text}` is not a number of installments; write a whole number from 1 to {MAX_INSTALLMENTS}: {usage}."
        ),
    };
    let Some(cadence) = Cadence::parse(cadence_text) else {
        refuse!(
            "`{cadence_text}` is not a cadence: use weekly, biweekly (every two weeks) or monthly."
        );
    };
    let first = args::date(first_text, ctx.today)?;
    if let Some(live) = plans::live_for_account(tx, acc.id).await? {
        refuse!(
            "{} already has payment plan {} ({}, {}). One plan at a time: cancel it first with `{} cancel {} <reason>`.",
            acc.code,
            live.id,
            summary(&live),
            live.status,
            ctx.typed("plan"),
            acc.code
        );
    }
    let (balance, _) = args::balance(tx, acc.id).await?;
    if balance <= 0 {
        refuse!(
            "{} has no unpaid balance, so there is nothing to pay in installments.",
            acc.code
        );
    }
    let bal = Money::new(balance, total.currency);
    match plan::check(total.minor, count, balance, first, ctx.today) {
        Ok(()) => {}
        Err(Invalid::NoInstallments) => {
            refuse!("A plan needs at least 1 installment, not 0: {usage}.")
        }
        Err(Invalid::TooManyInstallments { max }) => refuse!(
            "{count} installments is more than a plan may have ({max}); use fewer, or a longer cadence."
        ),
        Err(Invalid::AboveBalance) => refuse!(
            "The total, {total}, is more than {}'s unpaid balance of {bal}. A plan covers at most {bal}.",
            acc.code
        ),
        Err(Invalid::TooSmall) => refuse!(
            "{total} cannot be split into {count} installments of at least {} each; use fewer installments.",
            Money::new(1, total.currency)
        ),
        Err(Invalid::FirstInThePast) => refuse!(
            "The first date, {first}, is in the past: the first installment is due today or later (e.g. tomorrow, fri or +7d)."
        ),
    }
    let needs_approval = s.plan_approval_over.is_some_and(|n| count > n);
    let note = p.get("note");
    let id = plans::insert(
        tx,
        &plans::NewPlan {
            account_id: acc.id,
            total_minor: total.minor,
            currency: total.currency.code(),
            installments: count as i32,
            cadence: cadence.key(),
            first_due: first,
            started_on: ctx.today,
            note,
            status: if needs_approval { "proposed" } else { "active" },
            created_by: ctx.who(),
            created_at: ctx.now,
        },
    )
    .await?;
    let stored = plans::for_update(tx, id)
        .await?
        .ok_or_else(|| Fail::Internal(anyhow::anyhow!("plan {id} vanished")))?;
    let mut text = format!(
        "Payment plan {id} for {} ({}): {}. Set up by {}.",
        acc.code,
        acc.name,
        summary(&stored),
        ctx.who()
    );
    if needs_approval {
        let over = s.plan_approval_over.unwrap_or_default();
        text.push_str(&format!(
            " It has more than {over} installments, so a manager must approve it; chasing goes on until then."
        ));
        ping_for_approval(ctx, tx, &stored, &acc).await?;
    } else {
        advance(ctx.app, tx, Some(acc.id), ctx.today, ctx.now).await?;
        text.push_str(" Chasing pauses while it is on track.");
    }
    let mut blocks = vec![Block::Text { text: text.clone() }];
    blocks.extend(schedule_blocks(tx, ctx, &stored).await?);
    let reply = Message {
        text,
        blocks,
        visibility: Visibility::Channel,
        ..Default::default()
    };
    Ok(Done::new(reply, Some(acc.code.clone()))
        .with_details(json!({
            "plan_id": id, "total_minor": total.minor, "currency": total.currency,
            "installments": count, "cadence": cadence, "first_due": first, "note": note,
            "status": stored.status,
        }))
        .resolved(format!("Payment plan {id} set up by {}", ctx.who())))
}

/// `plan cancel ACME-001 <reason>`: the words after `cancel` land in the later options.
async fn cancel(ctx: &Ctx<'_>, tx: &mut PgConnection, p: &Parsed<'_>) -> Result<Done, Fail> {
    let Some(code) = p.get("total") else {
        refuse!(
            "Say which account's plan to cancel and why: `{} cancel ACME-001 <reason>`.",
            ctx.typed("plan")
        );
    };
    let acc = args::account(ctx, tx, code, true).await?;
    let reason: Vec<&str> = ["count", "cadence", "first", "note"]
        .iter()
        .filter_map(|k| p.get(k))
        .collect();
    if reason.is_empty() {
        refuse!(
            "Say why the plan ends: `{} cancel {} <reason>`, e.g. `customer paid in full by wire`.",
            ctx.typed("plan"),
            acc.code
        );
    }
    let reason = reason.join(" ");
    let Some(live) = plans::live_for_account(tx, acc.id).await? else {
        refuse!(
            "{} has no active payment plan to cancel. `{} {}` shows its last one.",
            acc.code,
            ctx.typed("plan"),
            acc.code
        );
    };
    plans::close(tx, live.id, "cancelled", Some(&reason), None, ctx.now).await?;
    plans::drop_open_installment(tx, live.id).await?;
    let text = format!(
        "Payment plan {} on {} ({}) cancelled by {}: {reason}. Chasing resumes.",
        live.id,
        acc.code,
        summary(&live),
        ctx.who()
    );
    Ok(Done::new(Message::channel(text), Some(acc.code.clone()))
        .with_details(json!({"plan_id": live.id, "reason": reason, "was": live.status}))
        .resolved(format!("Plan {} cancelled by {}", live.id, ctx.who())))
}

/// `plan ACME-001`: the account's plan (the live one, else the last), installment by
/// installment, and what is left.
async fn show(ctx: &Ctx<'_>, tx: &mut PgConnection, acc: ledger::Account) -> Result<Done, Fail> {
    let Some(plan) = plans::latest_for_account(tx, acc.id).await? else {
        refuse!(
            "{} has no payment plan. Set one up with `{} {} <total> <count> weekly|biweekly|monthly <first date>`.",
            acc.code,
            ctx.typed("plan"),
            acc.code
        );
    };
    let mut blocks = vec![Block::Header {
        text: format!("{} — payment plan {}", acc.code, plan.id),
    }];
    blocks.extend(schedule_blocks(tx, ctx, &plan).await?);
    let text = format!(
        "{} — payment plan {}: {}, {}",
        acc.code,
        plan.id,
        summary(&plan),
        plan.status
    );
    Ok(Done::new(
        Message {
            text,
            blocks,
            visibility: Visibility::Ephemeral,
            ..Default::default()
        },
        Some(acc.code.clone()),
    ))
}

/// `plan-decide 3 approve|reject [note]`
pub async fn decide(ctx: &Ctx<'_>, tx: &mut PgConnection, p: &Parsed<'_>) -> Result<Done, Fail> {
    let id_text = p.get("plan").unwrap_or_default();
    let Ok(id) = id_text.trim().trim_start_matches('#').parse::<i64>() else {
        refuse!(
            "`{id_text}` is not a plan number; use the number from the managers' ping, e.g. 3."
        );
    };
    let Some(plan) = plans::for_update(tx, id).await? else {
        refuse!("There is no payment plan {id}.");
    };
    if plan.status != "proposed" {
        let by = plan
            .decided_by
            .as_deref()
            .map(|b| format!(" (decided by {b})"))
            .unwrap_or_default();
        refuse!(
            "Payment plan {id} is {}{by}; only a plan waiting for approval can be approved or rejected.",
            plan.status
        );
    }
    let acc = ledger::account_by_id(tx, plan.account_id).await?;
    let approve = p.get("decision") == Some("approve");
    let note = p.get("note");
    plans::decide(
        tx,
        id,
        if approve { "active" } else { "rejected" },
        ctx.who(),
        note,
        ctx.now,
    )
    .await?;
    let verb = if approve { "approved" } else { "rejected" };
    let after = if approve {
        let moved = advance(ctx.app, tx, Some(acc.id), ctx.today, ctx.now).await?;
        // A plan decided after an installment's grace ran out would break at once: refuse
        // (the transaction rolls back) rather than approve a plan already broken.
        if let Some(n) = moved
            .iter()
            .find(|m| m.plan_id == id)
            .and_then(|m| m.broken)
        {
            refuse!(
                "Payment plan {id} on {} ({}) cannot be approved now: installment {n} fell due before the decision and is not paid, so the plan would break at once. Agree new dates with the customer and propose a new plan (`plan {} …`), or reject this one.",
                acc.code,
                summary(&plan),
                acc.code
            );
        }
        "Chasing pauses while it is on track."
    } else {
        "Chasing goes on."
    };
    let text = format!(
        "Payment plan {id} on {} ({}) {verb} by {}.{} {after}",
        acc.code,
        summary(&plan),
        ctx.who(),
        note.map(|n| format!(" Note: {n}.")).unwrap_or_default()
    );
    // Every copy of the approval ping loses its buttons and says who decided.
    let resolved = format!(
        "Plan {id} {verb} by {} at {}",
        ctx.who(),
        ctx.now.format("%H:%M UTC")
    );
    let decided = Message::decided(
        format!("Payment plan {id} on {} {verb}", acc.code),
        format!(
            "*Payment plan {id}* on *{}* ({}): {}",
            acc.code,
            acc.name,
            described(&plan)
        ),
        &resolved,
        note,
        plan_topic(id),
    );
    crate::store::copies::settle(
        tx,
        &plan_topic(id),
        &crate::store::copies::Outcome {
            message: serde_json::to_value(&decided).map_err(anyhow::Error::from)?,
            resolved: resolved.clone(),
            spent: vec![format!("plan-decide {id}")],
        },
    )
    .await?;
    Ok(Done::new(Message::channel(text), Some(acc.code.clone()))
        .with_details(json!({"plan_id": id, "decision": verb, "note": note}))
        .resolved(resolved)
        .updated(decided))
}

/// `USD 1,200.00 in 4 monthly installments from 2026-12-15`
fn summary(p: &plans::Plan) -> String {
    let cur = Currency::parse(&p.currency).ok();
    let total = cur
        .map(|c| Money::new(p.total_minor, c).to_string())
        .unwrap_or_else(|| format!("{} {}", p.total_minor, p.currency));
    format!(
        "{total} in {} {} installment{} from {}",
        p.installments,
        p.cadence,
        if p.installments == 1 { "" } else { "s" },
        p.first_due
    )
}

/// Every copy of a plan's approval ping is about this topic; the decision edits each one.
pub fn plan_topic(plan_id: i64) -> String {
    format!("plan:{plan_id}")
}

/// "USD 1,200.00 in 4 monthly installments from 2026-12-15, set up by maria. Note: …"
fn described(p: &plans::Plan) -> String {
    format!(
        "{}, set up by {}.{}",
        summary(p),
        p.created_by,
        p.note
            .as_deref()
            .map(|n| format!(" Note: {n}"))
            .unwrap_or_default()
    )
}

async fn ping_for_approval(
    ctx: &Ctx<'_>,
    tx: &mut PgConnection,
    p: &plans::Plan,
    acc: &ledger::Account,
) -> Result<(), Fail> {
    let line = format!(
        "*Payment plan {}* on *{}* ({}) needs a manager's approval: {}",
        p.id,
        acc.code,
        acc.name,
        described(p)
    );
    let message = Message {
        text: format!(
            "Payment plan {} on {} needs a manager's approval",
            p.id, acc.code
        ),
        blocks: vec![Block::Item {
            text: line,
            buttons: vec![
                Button {
                    label: "Approve".into(),
                    command: format!("plan-decide {} approve", p.id),
                    style: ButtonStyle::Primary,
                    form: None,
                },
                Button {
                    label: "Reject".into(),
                    command: format!("plan-decide {} reject", p.id),
                    style: ButtonStyle::Danger,
                    form: None,
                },
            ],
        }],
        visibility: Visibility::Channel,
        mentions: vec![Mention::Managers],
        topic: Some(plan_topic(p.id)),
    };
    outbox::enqueue(
        tx,
        "chat",
        &format!("plan:{}:approval", p.id),
        &json!({"channel": ctx.app.settings.managers_channel, "message": message}),
    )
    .await?;
    Ok(())
}

/// The plan installment by installment, what is paid and what is left: `ar plan` and the
/// account card show the same.
pub async fn schedule_blocks(
    tx: &mut PgConnection,
    ctx: &Ctx<'_>,
    p: &plans::Plan,
) -> Result<Vec<Block>, Fail> {
    let s = &ctx.app.settings;
    plan_blocks(tx, &s.calendar, s.promise_grace_days, ctx.today, p).await
}

/// See `schedule_blocks`; for callers without a `Ctx`.
pub async fn plan_blocks(
    tx: &mut PgConnection,
    cal: &Calendar,
    grace: u32,
    today: NaiveDate,
    p: &plans::Plan,
) -> Result<Vec<Block>, Fail> {
    let cur = Currency::parse(&p.currency).map_err(|e| Fail::Internal(anyhow::anyhow!("{e}")))?;
    let m = |minor| Money::new(minor, cur);
    let installments = schedule_of(p);
    let payments = ledger::payments_since(tx, p.account_id, p.started_on).await?;
    let paid: i64 = payments.iter().map(|(_, a)| *a).sum();
    let progress = plan::progress(&installments, p.started_on, &payments, cal, grace, today);
    let (kept, missed) = match (p.status.as_str(), progress) {
        ("broken", _) => (
            p.broken_installment.unwrap_or(1).max(1) as u32 - 1,
            p.broken_installment.map(|n| n as u32),
        ),
        (_, Progress::OnTrack { kept }) => (kept, None),
        (_, Progress::Broken { n, kept }) => (kept, Some(n)),
        (_, Progress::Completed) => (installments.len() as u32, None),
    };
    let live = matches!(p.status.as_str(), "active" | "proposed");
    let lines: Vec<String> = installments
        .iter()
        .map(|i| {
            let state = if i.n <= kept {
                "paid"
            } else if Some(i.n) == missed {
                "missed"
            } else if !live {
                "—"
            } else if i.due < today {
                "in grace"
            } else {
                "to pay"
            };
            format!("{}. {} · {} · {state}", i.n, i.due, m(i.amount_minor))
        })
        .collect();
    let left = (p.total_minor - paid).max(0);
    let mut status = match p.status.as_str() {
        "active" => format!("on track, {kept} of {} paid", installments.len()),
        "proposed" => "waiting for a manager's approval".into(),
        "kept" => "completed".into(),
        "broken" => format!("broken at installment {}", missed.unwrap_or_default()),
        other => other.to_string(),
    };
    if let Some(r) = &p.close_reason {
        status.push_str(&format!(" ({r})"));
    }
    Ok(vec![
        Block::Fields {
            fields: vec![
                ("Plan".into(), format!("{} · {status}", summary(p))),
                (
                    "Paid toward it".into(),
                    m(paid.min(p.total_minor).max(0)).to_string(),
                ),
                ("Left".into(), m(left).to_string()),
            ],
        },
        Block::Text {
            text: format!("*Installments*\n{}", lines.join("\n")),
        },
    ])
}
