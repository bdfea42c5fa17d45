//! `ar role`: admins grant and revoke roles to chat users.
use super::{Ctx, Done, Fail};
use crate::commands::Parsed;
use crate::domain::roles::Role;
use crate::message::Message;
use crate::refuse;
use crate::store::{collections, people};
use serde_json::json;
use sqlx::PgConnection;

/// `<@U123|maria>` (Slack), `<@123>` (Discord), `@maria`, `U123`: the bare user id or name.
pub fn user_id(text: &str) -> String {
    let t = text.trim().trim_start_matches('<').trim_end_matches('>');
    let t = t.trim_start_matches('@').trim_start_matches('!');
    t.split('|').next().unwrap_or(t).to_string()
}

pub async fn run(ctx: &Ctx<'_>, tx: &mut PgConnection, p: &Parsed<'_>) -> Result<Done, Fail> {
    let user = user_id(p.get("user").unwrap_or_default());
    if user.is_empty() {
        refuse!(
            "Name the person, e.g. `{} @maria manager`.",
            ctx.typed("role")
        );
    }
    let platform = ctx.actor.platform.key();
    let role_text = p.get("role").unwrap_or_default();
    if role_text == "none" {
        let n = people::revoke_all(tx, platform, &user).await?;
        let text = format!(
            "{user} no longer has any dunbot role ({n} revoked) — by {}.",
            ctx.who()
        );
        return Ok(
            Done::new(Message::channel(text), Some(format!("user:{user}")))
                .with_details(json!({"revoked": n})),
        );
    }
    let role = Role::parse(role_text)
        .ok_or_else(|| Fail::User("Roles are collector, manager, agency, admin or none.".into()))?;
    let agency = match (role, p.get("agency")) {
        (Role::Agency, None) => refuse!(
            "An agency role needs the agency, e.g. `{} @sam agency \"Northwind Recovery\"`.",
            ctx.typed("role")
        ),
        (Role::Agency, Some(name)) => match collections::agency_by_name(tx, name).await? {
            Some(a) => Some(a),
            None => refuse!("There is no agency `{name}`. `dunbot agency list` shows them."),
        },
        (_, Some(_)) => refuse!("Only the agency role takes an agency name."),
        (_, None) => None,
    };
    let changed = people::grant(
        tx,
        platform,
        &user,
        role,
        agency.as_ref().map(|a| a.id),
        ctx.who(),
    )
    .await?;
    let scope = agency
        .map(|a| format!(" for {}", a.name))
        .unwrap_or_default();
    let text = if changed {
        format!(
            "{user} is now {}{scope} — granted by {}.",
            role.key(),
            ctx.who()
        )
    } else {
        format!("{user} already is {}{scope}; nothing changed.", role.key())
    };
    Ok(
        Done::new(Message::channel(text), Some(format!("user:{user}")))
            .with_details(json!({"role": role, "changed": changed})),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn user_mentions_reduce_to_ids() {
        assert_eq!(super::user_id("<@U123|maria>"), "U123");
        assert_eq!(super::user_id("<@!456>"), "456");
        assert_eq!(super::user_id("@maria"), "maria");
        assert_eq!(super::user_id("U9"), "U9");
    }
}
