//! The Discord edge's settings, read from the environment (`.env.example` documents them).
use crate::config::var;
use crate::domain::roles::Role;
use anyhow::{Result, bail};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The bot connects out to Discord's gateway: no public URL needed.
    Gateway,
    /// Discord POSTs interactions to `/discord/interactions`.
    Http,
}

/// A Discord role id that vouches for a dunbot role (for agencies: which agency).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleMapping {
    pub role_id: u64,
    pub role: Role,
    pub agency: Option<String>,
}

#[derive(Debug, Clone)]
pub struct DiscordConfig {
    pub token: Option<String>,
    pub application_id: Option<u64>,
    /// Hex Ed25519 key from the developer portal; checks `/discord/interactions`.
    pub public_key: Option<String>,
    /// Register `/ar` in this guild (instant) rather than globally.
    pub guild_id: Option<u64>,
    pub mode: Mode,
    /// Another base URL in place of `https://discord.com` (tests, API proxies).
    pub api_url: Option<String>,
    pub roles: Vec<RoleMapping>,
    /// Oldest `X-Signature-Timestamp` accepted.
    pub max_age: Duration,
    /// First wait before reconnecting a lost gateway; doubles up to `reconnect_max`.
    pub reconnect_min: Duration,
    pub reconnect_max: Duration,
    /// How long to wait out a 429 when Discord's answer gives no `retry_after`.
    pub retry_after_default: Duration,
    /// How long the core may take for its answer to be the first response; slower, and the
    /// interaction is deferred (Discord drops a first response after 3 seconds).
    pub answer_within: Duration,
}

impl Default for DiscordConfig {
    fn default() -> Self {
        DiscordConfig {
            token: None,
            application_id: None,
            public_key: None,
            guild_id: None,
            mode: Mode::Gateway,
            api_url: None,
            roles: vec![],
            max_age: Duration::from_secs(300),
            reconnect_min: Duration::from_secs(1),
            reconnect_max: Duration::from_secs(300),
            retry_after_default: Duration::from_secs(1),
            answer_within: Duration::from_secs(2),
        }
    }
}

fn id(name: &str, v: &str) -> Result<u64> {
    v.trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("{name}={v:?}: expected a Discord id (digits)"))
}

impl DiscordConfig {
    pub fn from_env() -> Result<DiscordConfig> {
        let d = DiscordConfig::default();
        let mode = match var("DISCORD_MODE").as_deref() {
            None | Some("gateway") => Mode::Gateway,
            Some("http") => Mode::Http,
            Some(other) => bail!("DISCORD_MODE={other:?}: use gateway or http"),
        };
        let mut roles = Vec::new();
        for (name, role) in [
            ("DISCORD_ROLE_COLLECTOR", Role::Collector),
            ("DISCORD_ROLE_MANAGER", Role::Manager),
            ("DISCORD_ROLE_AGENCY", Role::Agency),
            ("DISCORD_ROLE_ADMIN", Role::Admin),
            ("DISCORD_ROLE_FINANCE", Role::Finance),
        ] {
            if let Some(v) = var(name) {
                roles.extend(parse_roles(name, &v, role)?);
            }
        }
        let public_key = var("DISCORD_PUBLIC_KEY");
        if let Some(k) = &public_key {
            verifier(k).map_err(|e| anyhow::anyhow!("DISCORD_PUBLIC_KEY: {e}"))?;
        }
        Ok(DiscordConfig {
            token: var("DISCORD_TOKEN"),
            application_id: var("DISCORD_APPLICATION_ID")
                .map(|v| id("DISCORD_APPLICATION_ID", &v))
                .transpose()?,
            public_key,
            guild_id: var("DISCORD_GUILD_ID")
                .map(|v| id("DISCORD_GUILD_ID", &v))
                .transpose()?,
            mode,
            api_url: var("DISCORD_API_URL"),
            roles,
            ..d
        })
    }

    /// The dunbot roles (and agency) that a member's Discord role ids vouch for.
    pub fn roles_for(&self, role_ids: &[u64]) -> (Vec<Role>, Option<String>) {
        let mut roles = Vec::new();
        let mut agency = None;
        for m in self.roles.iter().filter(|m| role_ids.contains(&m.role_id)) {
            if !roles.contains(&m.role) {
                roles.push(m.role);
            }
            if agency.is_none() {
                agency.clone_from(&m.agency);
            }
        }
        roles.sort();
        (roles, agency)
    }
}

/// `DISCORD_ROLE_MANAGER=111,222`; for agencies `DISCORD_ROLE_AGENCY=333=Northwind Recovery`.
pub fn parse_roles(name: &str, v: &str, role: Role) -> Result<Vec<RoleMapping>> {
    v.split(',')
        .filter(|e| !e.trim().is_empty())
        .map(|e| {
            let (role_id, agency) = match e.split_once('=') {
                Some((i, a)) if role == Role::Agency => (i, Some(a.trim().to_string())),
                Some(_) => bail!("{name}: only DISCORD_ROLE_AGENCY takes `id=Agency name`"),
                None => (e, None),
            };
            Ok(RoleMapping {
                role_id: id(name, role_id)?,
                role,
                agency,
            })
        })
        .collect()
}

/// Serenity's verifier for a hex public key, without its panics.
pub fn verifier(hex: &str) -> Result<serenity::interactions_endpoint::Verifier, String> {
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or("not a hex string")?;
    let key: [u8; 32] = bytes
        .try_into()
        .map_err(|_| "expected 64 hex digits (32 bytes)")?;
    serenity::interactions_endpoint::Verifier::try_new(key).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_ids_map_to_dunbot_roles_and_agencies() {
        let mut c = DiscordConfig::default();
        c.roles
            .extend(parse_roles("M", "11, 12", Role::Manager).unwrap());
        c.roles
            .extend(parse_roles("A", "33=Northwind Recovery", Role::Agency).unwrap());
        assert_eq!(c.roles_for(&[12, 99]), (vec![Role::Manager], None));
        assert_eq!(
            c.roles_for(&[33, 11]),
            (
                vec![Role::Manager, Role::Agency],
                Some("Northwind Recovery".into())
            )
        );
        assert_eq!(c.roles_for(&[]), (vec![], None));
        assert!(parse_roles("M", "x1", Role::Manager).is_err());
        assert!(parse_roles("M", "1=A", Role::Manager).is_err());
    }

    #[test]
    fn a_bad_public_key_is_refused_with_a_reason() {
        assert!(verifier("zz").is_err());
        assert!(verifier(&"ab".repeat(31)).is_err());
        assert!(
            verifier("e421dceefff3a9d008b7898fcc0974813201800419d72f36d51e010d6a0acb71").is_ok()
        );
    }
}
