//! People's names for Slack user ids. Slack's payloads carry the member id and at best the
//! legacy handle (Socket Mode's slash commands and mentions carry no name at all), while the
//! action log, replies and agency webhooks should say who acted as the team knows them. So
//! the edge asks `users.info` once per person and keeps the answer for a while.
use super::api::SlackApi;
use slack_morphism::prelude::SlackUser;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a resolved name is trusted before asking Slack again (people rename themselves).
pub const NAME_TTL: Duration = Duration::from_secs(3600);

/// A command waits at most this long for `users.info`; slower, it goes on with what it has.
const LOOKUP_BUDGET: Duration = Duration::from_millis(1500);

/// The name the workspace shows: the profile's display name, else the real name, else the
/// handle. `None` when Slack gives none of them.
pub fn display_name(user: &SlackUser) -> Option<String> {
    let profile = user.profile.as_ref();
    [
        profile.and_then(|p| p.display_name.as_deref()),
        profile.and_then(|p| p.real_name.as_deref()),
        user.real_name.as_deref(),
        user.name.as_deref(),
    ]
    .into_iter()
    .flatten()
    .map(str::trim)
    .find(|n| !n.is_empty())
    .map(str::to_string)
}

/// Names by user id, each kept for `ttl`.
pub struct Names {
    ttl: Duration,
    cache: Mutex<HashMap<String, (String, Instant)>>,
}

impl Default for Names {
    fn default() -> Self {
        Names::new(NAME_TTL)
    }
}

impl Names {
    pub fn new(ttl: Duration) -> Names {
        Names {
            ttl,
            cache: Mutex::default(),
        }
    }

    fn cached(&self, user_id: &str) -> Option<String> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(user_id)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(name, _)| name.clone())
    }

    /// The person's name: cached, else from `users.info`, else the name the payload carried
    /// (`given`), else the id. A failed lookup is logged and not cached, so it is tried again.
    pub async fn resolve(
        &self,
        api: Option<&SlackApi>,
        user_id: &str,
        given: Option<&str>,
    ) -> String {
        let fallback = || {
            given
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .unwrap_or(user_id)
                .to_string()
        };
        if user_id.is_empty() {
            return fallback();
        }
        if let Some(name) = self.cached(user_id) {
            return name;
        }
        let Some(api) = api else {
            return fallback();
        };
        match tokio::time::timeout(LOOKUP_BUDGET, api.user(user_id)).await {
            Ok(Ok(user)) => match display_name(&user) {
                Some(name) => {
                    let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
                    cache.insert(user_id.to_string(), (name.clone(), Instant::now()));
                    name
                }
                None => fallback(),
            },
            Ok(Err(e)) => {
                tracing::warn!(error = %e, user_id, "users.info failed; using the id");
                fallback()
            }
            Err(_) => {
                tracing::warn!(user_id, "users.info timed out; using the id");
                fallback()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(v: serde_json::Value) -> SlackUser {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn display_name_then_real_name_then_handle() {
        let full = user(json!({"id": "U1", "name": "cora", "real_name": "Cora Lee",
            "profile": {"display_name": "Cora", "real_name": "Cora Lee"}}));
        assert_eq!(display_name(&full).as_deref(), Some("Cora"));
        let no_display = user(json!({"id": "U1", "name": "cora", "real_name": "Cora Lee",
            "profile": {"display_name": "", "real_name": "Cora Lee"}}));
        assert_eq!(display_name(&no_display).as_deref(), Some("Cora Lee"));
        let handle = user(json!({"id": "U1", "name": "cora", "profile": {"display_name": ""}}));
        assert_eq!(display_name(&handle).as_deref(), Some("cora"));
        assert_eq!(display_name(&user(json!({"id": "U1"}))), None);
    }

    #[tokio::test]
    async fn without_an_api_the_given_name_then_the_id() {
        let names = Names::default();
        assert_eq!(names.resolve(None, "U1", Some("cora")).await, "cora");
        assert_eq!(names.resolve(None, "U1", Some(" ")).await, "U1");
        assert_eq!(names.resolve(None, "U1", None).await, "U1");
    }
}
