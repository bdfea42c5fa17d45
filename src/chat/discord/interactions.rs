//! An interaction (slash command, button, modal, autocomplete) turned into an `Invocation`,
//! and the core's `Outcome` turned back into Discord responses. The same code serves gateway
//! and HTTP mode: `respond` returns the first response at once (Discord wants one within
//! 3 seconds) and the work that follows it (the write, then editing the response).
use super::config::DiscordConfig;
use super::custom_id::{self, CustomId};
use super::render::{self, Post, truncate};
use crate::app::{Actor, App, Invocation, Outcome, Platform, Source};
use crate::chat::forms::{self, command_from_form};
use crate::chat::{ButtonStyle, Form, Visibility};
use crate::commands::registry;
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use serde_json::{Value, json};
use serenity::all::{
    ActionRowComponent, CommandDataOption, CommandDataOptionValue, CommandInteraction,
    ComponentInteraction, Interaction, Member, ModalInteraction, User,
};
use serenity::http::Http;
use std::sync::Arc;
use std::time::Duration;

/// Discord's `flags` bit for a message only its recipient sees.
pub const EPHEMERAL: u64 = 64;

/// Commands whose answer is for the person who asked (views); every other answer is posted
/// for the channel, except refusals, which always go to the person alone.
const PRIVATE_ANSWERS: &[&str] = &["help", "account", "aging", "digest"];

pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The Discord edge: the core, the REST client, and what the platform vouches for.
pub struct Discord {
    pub app: Arc<App>,
    pub config: DiscordConfig,
    pub http: Arc<Http>,
    /// The time an interaction is handled at (injectable for tests).
    pub clock: Clock,
}

/// The first response, and what happens after it has been sent.
pub struct Plan {
    pub first: Value,
    pub then: Option<BoxFuture<'static, ()>>,
}

impl Plan {
    fn now(first: Value) -> Plan {
        Plan { first, then: None }
    }
}

/// The root names the edge registers: everything under `/ar`, manager-only subcommands
/// under `/ar-manage` (see `register`).
pub fn manage_root(root: &str) -> String {
    format!("{root}-manage")
}

impl Discord {
    /// Builds the REST client: against `DISCORD_API_URL` when set (the ratelimiter must be off
    /// for serenity to use the proxy), with the application id so follow-ups work without a
    /// gateway.
    pub fn http_client(config: &DiscordConfig) -> Http {
        let mut b = serenity::http::HttpBuilder::new(config.token.as_deref().unwrap_or(""));
        if let Some(url) = &config.api_url {
            b = b.proxy(url.clone()).ratelimiter_disabled(true);
        }
        if let Some(id) = config.application_id {
            b = b.application_id(serenity::all::ApplicationId::new(id));
        }
        b.build()
    }

    pub fn new(app: Arc<App>, config: DiscordConfig) -> Discord {
        let http = Arc::new(Discord::http_client(&config));
        Discord {
            app,
            config,
            http,
            clock: Arc::new(Utc::now),
        }
    }

    /// Decides the first response; the returned work (if any) must run after it is sent.
    pub async fn respond(self: &Arc<Self>, interaction: Interaction) -> Plan {
        // Follow-ups need the application id; every interaction carries it.
        let app_id = match &interaction {
            Interaction::Command(c) | Interaction::Autocomplete(c) => Some(c.application_id),
            Interaction::Component(c) => Some(c.application_id),
            Interaction::Modal(m) => Some(m.application_id),
            _ => None,
        };
        if let Some(id) = app_id
            && self.http.application_id().is_none()
        {
            self.http.set_application_id(id);
        }
        match interaction {
            Interaction::Ping(_) => Plan::now(json!({"type": 1})),
            Interaction::Command(c) => self.command(c),
            Interaction::Autocomplete(c) => self.autocomplete(&c).await,
            Interaction::Component(c) => self.component(c),
            Interaction::Modal(m) => self.modal(m),
            _ => Plan::now(message_response(
                4,
                "dunbot does not handle this kind of interaction.",
            )),
        }
    }

    fn actor(&self, member: Option<&Member>, user: &User) -> Actor {
        let user = member.map(|m| &m.user).unwrap_or(user);
        let role_ids: Vec<u64> = member
            .map(|m| m.roles.iter().map(|r| r.get()).collect())
            .unwrap_or_default();
        let (roles, agency) = self.config.roles_for(&role_ids);
        let name = member
            .and_then(|m| m.nick.clone())
            .or_else(|| user.global_name.clone())
            .unwrap_or_else(|| user.name.clone());
        Actor {
            platform: Platform::Discord,
            user_id: user.id.get().to_string(),
            name,
            roles,
            agency,
        }
    }

    fn invocation(
        &self,
        actor: Actor,
        channel: u64,
        interaction_id: u64,
        text: String,
        source: Source,
    ) -> Invocation {
        Invocation {
            actor,
            channel: format!("discord:{channel}"),
            // The interaction id: a retried delivery of the same interaction acts once.
            request_id: format!("discord:{interaction_id}"),
            text,
            source,
            now: (self.clock)(),
            as_of: None,
        }
    }

    fn command(self: &Arc<Self>, c: CommandInteraction) -> Plan {
        let root = &self.app.settings.command_root;
        if c.data.name != *root && c.data.name != manage_root(root) {
            return Plan::now(message_response(
                4,
                &format!(
                    "dunbot does not know `/{}`; its commands are under `/{root}`.",
                    c.data.name
                ),
            ));
        }
        let Some(text) = command_line(&c.data.options) else {
            return Plan::now(message_response(
                4,
                &format!(
                    "Pick a subcommand, e.g. `/{} help`.",
                    self.app.settings.command_root
                ),
            ));
        };
        let name = text.split_whitespace().next().unwrap_or_default();
        let private = PRIVATE_ANSWERS.contains(&name);
        let actor = self.actor(c.member.as_deref(), &c.user);
        let inv = self.invocation(actor, c.channel_id.get(), c.id.get(), text, Source::Command);
        self.deferred(inv, c.token, private)
    }

    /// Defers (type 5, ephemeral when the answer is for one person), runs the invocation, and
    /// edits the deferred response with the answer. A refusal under a public deferral replaces
    /// it with an ephemeral follow-up, so only the person sees it.
    fn deferred(self: &Arc<Self>, inv: Invocation, token: String, private: bool) -> Plan {
        let first = if private {
            json!({"type": 5, "data": {"flags": EPHEMERAL}})
        } else {
            json!({"type": 5})
        };
        let me = self.clone();
        let then = Box::pin(async move {
            let out = me.app.handle(inv).await;
            let posts = render::render(&out.reply);
            if out.refused && !private {
                me.patient("deleting the deferred response", true, || {
                    me.http.delete_original_interaction_response(&token)
                })
                .await;
                me.followups(&token, &posts, true).await;
                return;
            }
            me.edit_original(&token, &posts[0]).await;
            let ephemeral = private || out.reply.visibility == Visibility::Ephemeral;
            me.followups(&token, &posts[1..], ephemeral).await;
        });
        Plan {
            first,
            then: Some(then),
        }
    }

    async fn autocomplete(&self, c: &CommandInteraction) -> Plan {
        let typed = c
            .data
            .autocomplete()
            .map(|o| o.value.to_string())
            .unwrap_or_default();
        // Suggestions must arrive within Discord's 3 seconds; a slow database gets none.
        let search = async {
            let mut conn = self.app.store.pool.acquire().await?;
            crate::store::ledger::search_accounts(&mut conn, &typed, 25).await
        };
        let found = match tokio::time::timeout(Duration::from_secs(2), search).await {
            Ok(Ok(found)) => found,
            Ok(Err(e)) => {
                tracing::error!(error = ?e, "account autocomplete failed");
                vec![]
            }
            Err(_) => {
                tracing::warn!("account autocomplete timed out");
                vec![]
            }
        };
        let choices: Vec<Value> = found
            .into_iter()
            .map(|(code, name)| {
                json!({"name": truncate(&format!("{code} — {name}"), 100), "value": truncate(&code, 100)})
            })
            .collect();
        Plan::now(json!({"type": 8, "data": {"choices": choices}}))
    }

    fn component(self: &Arc<Self>, c: ComponentInteraction) -> Plan {
        match custom_id::parse(&c.data.custom_id) {
            Some(CustomId::Form(command)) => match form_of(&command) {
                Some(form) => Plan::now(modal_response(&command, &form)),
                None => self.press(c, command),
            },
            Some(CustomId::Run(command)) => self.press(c, command),
            _ => Plan::now(message_response(
                4,
                "This button is out of date or not dunbot's; nothing was changed.",
            )),
        }
    }

    /// A button press: acknowledge without a visible reply (type 6), run the command as the
    /// presser, then edit the message (its resolved line, without that entry's buttons) or
    /// tell the presser alone why nothing happened.
    fn press(self: &Arc<Self>, c: ComponentInteraction, command: String) -> Plan {
        let actor = self.actor(c.member.as_ref(), &c.user);
        let inv = self.invocation(
            actor,
            c.channel_id.get(),
            c.id.get(),
            command,
            Source::Button,
        );
        let me = self.clone();
        let then = Box::pin(async move {
            let out = me.app.handle(inv).await;
            me.after_press(&c, out).await;
        });
        Plan {
            first: json!({"type": 6}),
            then: Some(then),
        }
    }

    async fn after_press(&self, c: &ComponentInteraction, out: Outcome) {
        let posts = render::render(&out.reply);
        if out.refused {
            self.followups(&c.token, &posts, true).await;
            return;
        }
        if let Some(resolved) = &out.resolved {
            let edit = resolved_edit(c, resolved);
            self.patient("editing the pressed message", false, || {
                self.http
                    .edit_original_interaction_response(&c.token, &edit, vec![])
            })
            .await;
            return;
        }
        let ephemeral = out.reply.visibility == Visibility::Ephemeral;
        self.followups(&c.token, &posts, ephemeral).await;
    }

    fn modal(self: &Arc<Self>, m: ModalInteraction) -> Plan {
        let Some(CustomId::Modal(command)) = custom_id::parse(&m.data.custom_id) else {
            return Plan::now(message_response(
                4,
                "This form is out of date; nothing was changed.",
            ));
        };
        let Some(form) = form_of(&command) else {
            return Plan::now(message_response(
                4,
                "This form is out of date; nothing was changed.",
            ));
        };
        let values: Vec<(String, String)> = m
            .data
            .components
            .iter()
            .flat_map(|row| row.components.iter())
            .filter_map(|c| match c {
                ActionRowComponent::InputText(t) => {
                    Some((t.custom_id.clone(), t.value.clone().unwrap_or_default()))
                }
                _ => None,
            })
            .collect();
        let line = command_from_form(&command, &form, &|name| {
            values
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        });
        let name = line.split_whitespace().next().unwrap_or_default();
        let private = PRIVATE_ANSWERS.contains(&name);
        let actor = self.actor(m.member.as_ref(), &m.user);
        let inv = self.invocation(actor, m.channel_id.get(), m.id.get(), line, Source::Form);
        self.deferred(inv, m.token, private)
    }

    /// Edits the deferred response. In HTTP mode the edit can overtake Discord's receipt of
    /// the deferral (404 Unknown interaction), so a 404 is retried briefly too.
    async fn edit_original(&self, token: &str, post: &Post) {
        self.patient("editing the deferred response", true, || {
            self.http
                .edit_original_interaction_response(token, post, vec![])
        })
        .await;
    }

    async fn followups(&self, token: &str, posts: &[Post], ephemeral: bool) {
        for post in posts {
            let mut body = serde_json::to_value(post).unwrap_or_default();
            if ephemeral {
                body["flags"] = json!(EPHEMERAL);
            }
            self.patient("a follow-up message", true, || {
                self.http.create_followup_message(token, &body, vec![])
            })
            .await;
        }
    }

    /// Calls Discord, waiting out a 429 (and with `retry_404`, a not-yet-known interaction)
    /// up to three times; a failure after that is logged, never silent.
    pub async fn patient<T, F, Fut>(&self, what: &str, retry_404: bool, call: F) -> Option<T>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = serenity::Result<T>>,
    {
        for attempt in 1..=4u32 {
            let e = match call().await {
                Ok(v) => return Some(v),
                Err(e) => e,
            };
            let code = status(&e);
            let wait = match code {
                Some(429) => self.config.retry_after_default * attempt,
                Some(404) if retry_404 => Duration::from_millis(150 * u64::from(attempt)),
                _ => Duration::ZERO,
            };
            if wait.is_zero() || attempt == 4 {
                tracing::error!(error = %e, status = ?code, "Discord: {what} failed");
                return None;
            }
            tracing::warn!(status = ?code, ?wait, "Discord: {what}: waiting before trying again");
            tokio::time::sleep(wait).await;
        }
        None
    }
}

/// The HTTP status of a failed Discord call, if it got that far.
pub fn status(e: &serenity::Error) -> Option<u16> {
    match e {
        serenity::Error::Http(h) => h.status_code().map(|s| s.as_u16()),
        _ => None,
    }
}

/// A response of `kind` 4 (a message) seen only by the person.
fn message_response(kind: u8, text: &str) -> Value {
    json!({"type": kind, "data": {"content": text, "flags": EPHEMERAL, "allowed_mentions": {"parse": []}}})
}

/// The command line (without the root) a slash command stands for: the subcommand's name,
/// then its options in the order `commands/` declares them, quoted so spaces survive, and
/// `--flag` for each flag set.
pub fn command_line(options: &[CommandDataOption]) -> Option<String> {
    let sub = options.first()?;
    let CommandDataOptionValue::SubCommand(given) = &sub.value else {
        return None;
    };
    let spec = registry().get(&sub.name)?;
    let value = |name: &str| -> Option<String> {
        let o = given.iter().find(|o| o.name == name)?;
        match &o.value {
            CommandDataOptionValue::String(s) => Some(s.clone()),
            CommandDataOptionValue::Integer(i) => Some(i.to_string()),
            CommandDataOptionValue::Number(n) => Some(n.to_string()),
            CommandDataOptionValue::Boolean(b) => Some(b.to_string()),
            CommandDataOptionValue::User(u) => Some(u.get().to_string()),
            CommandDataOptionValue::Autocomplete { value, .. } => Some(value.clone()),
            _ => None,
        }
    };
    let mut line = spec.name.clone();
    for opt in &spec.options {
        let Some(v) = value(&opt.name).filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        // Quoted even for a rest option: an apostrophe in a note must not open a quote.
        line.push(' ');
        line.push_str(&quote(v.trim()));
    }
    for flag in &spec.flags {
        if value(&flag.name).as_deref() == Some("true") {
            line.push_str(&format!(" --{}", flag.name));
        }
    }
    Some(line)
}

fn quote(v: &str) -> String {
    shlex::try_quote(v)
        .map(|c| c.into_owned())
        .unwrap_or_else(|_| v.replace('"', ""))
}

/// The form that completes `command`, from `commands/` (as the neutral button made it).
fn form_of(command: &str) -> Option<Form> {
    forms::button("", command, ButtonStyle::Default).form
}

/// A modal (type 9) asking for the form's fields; its id carries the command.
pub fn modal_response(command: &str, form: &Form) -> Value {
    let Some(id) = custom_id::modal(command) else {
        return message_response(
            4,
            "This command is too long for a Discord form; type it instead.",
        );
    };
    let rows: Vec<Value> = form
        .fields
        .iter()
        .take(5)
        .map(|f| {
            json!({"type": 1, "components": [{
                "type": 4, "custom_id": f.name, "style": if f.kind == "text" { 2 } else { 1 },
                "label": truncate(&f.label, 45), "required": f.required,
                "placeholder": truncate(&f.placeholder, 100),
            }]})
        })
        .collect();
    json!({"type": 9, "data": {"custom_id": id, "title": truncate(&format!("{} — {}", form.title, command_subject(command)), 45), "components": rows}})
}

fn command_subject(command: &str) -> &str {
    command.split_whitespace().nth(1).unwrap_or_default()
}

/// The pressed message after its command took effect: the resolved line added to the last
/// embed, and the row holding the pressed button gone (its choices no longer apply).
pub fn resolved_edit(c: &ComponentInteraction, resolved: &str) -> Value {
    resolved_body(
        serde_json::to_value(&c.message.embeds).unwrap_or_else(|_| json!([])),
        serde_json::to_value(&c.message.components).unwrap_or_else(|_| json!([])),
        &c.message.content,
        &c.data.custom_id,
        resolved,
    )
}

/// `resolved_edit` over the message's JSON. The line goes on the last embed while the
/// message stays within Discord's limits, else under the content.
pub fn resolved_body(
    mut embeds: Value,
    rows: Value,
    content: &str,
    pressed: &str,
    resolved: &str,
) -> Value {
    let line = format!("✅ {resolved}");
    let total: usize = embeds
        .as_array()
        .map(|a| a.iter().map(embed_chars).sum())
        .unwrap_or(0);
    let mut body = json!({"allowed_mentions": {"parse": []}});
    let fits_embed = embeds.as_array().is_some_and(|a| {
        a.last().is_some_and(|last| {
            let desc = render::len(last["description"].as_str().unwrap_or_default());
            desc + 1 + render::len(&line) <= render::LIMITS.description
                && total + 1 + render::len(&line) <= render::LIMITS.embed_total
        })
    });
    if fits_embed {
        let last = embeds
            .as_array_mut()
            .and_then(|a| a.last_mut())
            .expect("an embed");
        let desc = last["description"].as_str().unwrap_or_default();
        last["description"] = json!(if desc.is_empty() {
            line
        } else {
            format!("{desc}\n{line}")
        });
    } else if embeds.as_array().is_none_or(|a| a.is_empty()) {
        embeds = json!([{"description": truncate(&line, render::LIMITS.description)}]);
    } else {
        let joined = if content.is_empty() {
            line
        } else {
            format!("{content}\n{line}")
        };
        body["content"] = json!(truncate(&joined, render::LIMITS.content));
    }
    let rows: Vec<Value> = rows
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|row| {
            !row["components"]
                .as_array()
                .is_some_and(|bs| bs.iter().any(|b| b["custom_id"] == pressed))
        })
        .collect();
    body["embeds"] = embeds;
    body["components"] = json!(rows);
    body
}

fn embed_chars(e: &Value) -> usize {
    let s = |v: &Value| render::len(v.as_str().unwrap_or_default());
    s(&e["title"])
        + s(&e["description"])
        + s(&e["footer"]["text"])
        + s(&e["author"]["name"])
        + e["fields"]
            .as_array()
            .map(|f| f.iter().map(|f| s(&f["name"]) + s(&f["value"])).sum())
            .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(v: Value) -> Vec<CommandDataOption> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_slash_command_becomes_the_line_the_parser_reads() {
        let opts = options(json!([{"name": "promise", "type": 1, "options": [
            {"name": "date", "type": 3, "value": "fri"},
            {"name": "account", "type": 3, "value": "ACME-001"},
            {"name": "note", "type": 3, "value": "Jane's word, by wire"},
            {"name": "amount", "type": 3, "value": "1,250.00"},
        ]}]));
        let line = command_line(&opts).unwrap();
        assert_eq!(
            line,
            r#"promise ACME-001 '1,250.00' fri "Jane's word, by wire""#
        );
        let parsed =
            crate::commands::parse_line(registry(), "ar", &line).expect("the parser reads it");
        assert_eq!(parsed.get("note"), Some("Jane's word, by wire"));
        assert_eq!(parsed.get("amount"), Some("1,250.00"));
    }

    #[test]
    fn offers_are_integers_and_flags_become_switches() {
        let opts = options(json!([{"name": "settle", "type": 1, "options": [
            {"name": "offer", "type": 4, "value": 12},
            {"name": "decision", "type": 3, "value": "approve"},
        ]}]));
        assert_eq!(command_line(&opts).unwrap(), "settle 12 approve");
        let opts = options(json!([{"name": "remind", "type": 1, "options": [
            {"name": "target", "type": 3, "value": "INV-1001"},
            {"name": "force", "type": 5, "value": true},
        ]}]));
        assert_eq!(command_line(&opts).unwrap(), "remind INV-1001 --force");
        assert_eq!(command_line(&options(json!([]))), None);
    }

    fn row(ids: &[&str]) -> Value {
        json!({"type": 1, "components": ids.iter().map(|id| json!({"type": 2, "style": 1, "label": "x", "custom_id": id})).collect::<Vec<_>>()})
    }

    #[test]
    fn a_resolved_press_drops_its_row_and_shows_the_line() {
        let rows = json!([
            row(&["r:0:settle 1 approve", "r:1:settle 1 reject"]),
            row(&["r:2:remind A"])
        ]);
        let body = resolved_body(
            json!([{"title": "Offers", "description": "• Offer 1"}]),
            rows.clone(),
            "",
            "r:0:settle 1 approve",
            "Approved by Maria at 10:42 UTC",
        );
        assert_eq!(
            body["embeds"][0]["description"],
            "• Offer 1\n✅ Approved by Maria at 10:42 UTC"
        );
        assert_eq!(body["components"], json!([row(&["r:2:remind A"])]));
        assert!(body.get("content").is_none());

        // A full embed: the line goes under the content instead, within its limit.
        let full = json!([{"description": "x".repeat(4090)}]);
        let body = resolved_body(full.clone(), rows, "Digest", "r:2:remind A", "Reminded");
        assert_eq!(body["embeds"], full);
        assert_eq!(body["content"], "Digest\n✅ Reminded");
        assert_eq!(body["components"].as_array().unwrap().len(), 1);
    }
}
