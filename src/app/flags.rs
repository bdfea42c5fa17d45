//! `ar flag` / `ar unflag`: management calls.
use super::{Ctx, Done, Fail, args};
use crate::commands::Parsed;
use crate::message::{Block, Button, ButtonStyle, Mention, Message, Visibility};
use crate::refuse;
use crate::store::{collections, outbox};
use serde_json::json;
use sqlx::PgConnection;

pub async fn flag(ctx: &Ctx<'_>, tx: &mut PgConnection, p: &Parsed<'_>) -> Result<Done, Fail> {
    let acc = args::account(ctx, tx, p.get("account").unwrap_or_default(), true).await?;
    let reason = p.get("reason").unwrap_or_default();
    if let Some(f) = collections::open_flag(tx, acc.id).await? {
        refuse!(
            "{} is already flagged by {} on {}: \"{}\". Close it first with `{} {} <outcome>`.",
            acc.code,
            f.flagged_by,
            f.flagged_at.format("%Y-%m-%d"),
            f.reason,
            ctx.typed("unflag"),
            acc.code
        );
    }
    let id = collections::insert_flag(tx, acc.id, reason, ctx.who(), ctx.now).await?;
    let text = format!(
        "{} ({}) flagged for a management call by {}: {reason}",
        acc.code,
        acc.name,
        ctx.who()
    );
    let ping = Message {
        text: text.clone(),
        blocks: vec![Block::Item {
            text: format!(
                "*Management call requested* for *{}* ({}) by {}: {reason}",
                acc.code,
                acc.name,
                ctx.who()
            ),
            buttons: vec![Button {
                label: "Open account".into(),
                command: format!("account {}", acc.code),
                style: ButtonStyle::Default,
                form: None,
            }],
        }],
        visibility: Visibility::Channel,
        mentions: vec![Mention::Managers],
        ..Default::default()
    };
    let managers = &ctx.app.settings.managers_channel;
    outbox::enqueue(
        tx,
        "chat",
        &format!("flag:{id}"),
        &json!({"channel": managers, "message": ping}),
    )
    .await?;
    Ok(Done::new(Message::channel(text), Some(acc.code.clone()))
        .with_details(json!({"flag_id": id, "reason": reason}))
        .resolved(format!("Flagged for a management call by {}", ctx.who())))
}

pub async fn unflag(ctx: &Ctx<'_>, tx: &mut PgConnection, p: &Parsed<'_>) -> Result<Done, Fail> {
    let acc = args::account(ctx, tx, p.get("account").unwrap_or_default(), true).await?;
    let outcome = p.get("outcome").unwrap_or_default();
    let Some(f) = collections::open_flag(tx, acc.id).await? else {
        refuse!(
            "{} has no open management-call flag. Flag it with `{} {} <reason>`.",
            acc.code,
            ctx.typed("flag"),
            acc.code
        );
    };
    collections::resolve_flag(tx, f.id, ctx.who(), outcome, ctx.now).await?;
    let text = format!(
        "Management call on {} closed by {}: {outcome}",
        acc.code,
        ctx.who()
    );
    Ok(Done::new(Message::channel(text), Some(acc.code.clone()))
        .with_details(json!({"flag_id": f.id, "outcome": outcome})))
}
