//! The Slack edge's settings, read from the environment on their own so the core's
//! `config::Settings` stays platform-neutral.
use std::time::Duration;

/// What the Slack edge needs; each part switches on one piece of it.
#[derive(Debug, Clone)]
pub struct SlackConfig {
    /// `xoxb-…`: posting digests and pings, updating messages, opening modals.
    pub bot_token: Option<String>,
    /// Verifies HTTP requests; the `/slack/*` routes are mounted when it is set.
    pub signing_secret: Option<String>,
    /// `xapp-…`: Socket Mode, the default way in when set (no public URL needed).
    pub app_token: Option<String>,
    /// `https://slack.com/api`, or a proxy or test fake.
    pub api_url: String,
    /// How old a signed request may be (Slack advises five minutes).
    pub max_age: Duration,
    /// Public base URL for the manifest's request URLs in HTTP mode, e.g. `https://bot.example.com`.
    pub public_url: Option<String>,
    /// A user group (`S0123`) a managers' ping mentions; unset: the Slack users granted the
    /// manager role.
    pub managers_group: Option<String>,
}

pub const SLACK_API_URL: &str = "https://slack.com/api";

impl Default for SlackConfig {
    fn default() -> Self {
        SlackConfig {
            bot_token: None,
            signing_secret: None,
            app_token: None,
            api_url: SLACK_API_URL.into(),
            max_age: Duration::from_secs(300),
            public_url: None,
            managers_group: None,
        }
    }
}

impl SlackConfig {
    /// `SLACK_BOT_TOKEN`, `SLACK_SIGNING_SECRET`, `SLACK_APP_TOKEN`, `SLACK_API_URL`,
    /// `DUNBOT_PUBLIC_URL`, `DUNBOT_SLACK_MANAGERS_GROUP`; empty values count as unset.
    pub fn from_env() -> SlackConfig {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let d = SlackConfig::default();
        SlackConfig {
            bot_token: var("SLACK_BOT_TOKEN"),
            signing_secret: var("SLACK_SIGNING_SECRET"),
            app_token: var("SLACK_APP_TOKEN"),
            api_url: var("SLACK_API_URL")
                .map(|u| u.trim_end_matches('/').to_string())
                .unwrap_or(d.api_url),
            public_url: var("DUNBOT_PUBLIC_URL"),
            managers_group: var("DUNBOT_SLACK_MANAGERS_GROUP"),
            ..d
        }
    }

    /// Socket Mode when an app token is set, HTTP otherwise.
    pub fn socket_mode(&self) -> bool {
        self.app_token.is_some()
    }
}
