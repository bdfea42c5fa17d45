//! The Slack app manifest, generated from `commands/`: paste it at api.slack.com/apps
//! ("Create New App" → "From an app manifest") and the app has the slash command, the
//! interactivity and the scopes dunbot needs.
use crate::commands::Registry;
use serde_json::{Value, json};

/// Bot scopes: the slash command, posting (also to public channels it was not invited to),
/// ephemeral replies, @-mentions, and reading back its own digest (public or private channel)
/// to resolve one offer's line when it is decided elsewhere; `files:write` uploads the weekly
/// summary's chart.
pub const BOT_SCOPES: &[&str] = &[
    "commands",
    "chat:write",
    "chat:write.public",
    "app_mentions:read",
    "users:read",
    "channels:history",
    "groups:history",
    "files:write",
];

/// The manifest for `/root`. With `public_url` the app uses HTTP request URLs on that host
/// (`/slack/commands`, `/slack/interactions`, `/slack/events`); without, Socket Mode.
pub fn manifest(reg: &Registry, root: &str, public_url: Option<&str>) -> Value {
    let names: Vec<&str> = reg.commands.iter().map(|c| c.name.as_str()).collect();
    let usage = super::blocks::clip(&format!("{} … (try: help)", names.join(" | ")), 1000);
    let description =
        format!("Collections: digest, reminders, promises, flags, agency offers. Try /{root} help");
    let base = public_url.map(|u| u.trim_end_matches('/').to_string());
    let mut command = json!({
        "command": format!("/{root}"),
        "description": description,
        "usage_hint": usage,
        // Mentions arrive as <@U123|name>, so `role @maria manager` names a user id.
        "should_escape": true,
    });
    let mut settings = json!({
        "interactivity": {"is_enabled": true},
        "event_subscriptions": {"bot_events": ["app_mention"]},
        "org_deploy_enabled": false,
        "socket_mode_enabled": base.is_none(),
        "token_rotation_enabled": false,
    });
    if let Some(b) = &base {
        command["url"] = json!(format!("{b}/slack/commands"));
        settings["interactivity"]["request_url"] = json!(format!("{b}/slack/interactions"));
        settings["event_subscriptions"]["request_url"] = json!(format!("{b}/slack/events"));
    }
    json!({
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": "dunbot",
            "description": "Collections digest, reminders, promises-to-pay and settlement approvals for your AR team.",
            "background_color": "#1d3557",
        },
        "features": {
            "bot_user": {"display_name": "dunbot", "always_online": true},
            "slash_commands": [command],
        },
        "oauth_config": {"scopes": {"bot": BOT_SCOPES}},
        "settings": settings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::registry;

    #[test]
    fn every_command_is_in_the_usage_and_modes_differ() {
        let m = manifest(registry(), "ar", None);
        let cmd = &m["features"]["slash_commands"][0];
        assert_eq!(cmd["command"], "/ar");
        for c in &registry().commands {
            assert!(
                cmd["usage_hint"].as_str().unwrap().contains(&c.name),
                "{}",
                c.name
            );
        }
        assert_eq!(m["settings"]["socket_mode_enabled"], true);
        assert!(cmd.get("url").is_none());
        let h = manifest(registry(), "ar", Some("https://bot.example.com/"));
        assert_eq!(h["settings"]["socket_mode_enabled"], false);
        assert_eq!(
            h["settings"]["interactivity"]["request_url"],
            "https://bot.example.com/slack/interactions"
        );
        assert_eq!(
            h["features"]["slash_commands"][0]["url"],
            "https://bot.example.com/slack/commands"
        );
    }
}
