//! An interaction (slash command, button, modal, autocomplete) turned into an `Invocation`,
//! and the core's `Outcome` turned back into Discord responses. The same code serves gateway
//! and HTTP mode: `respond` returns the first response (Discord wants one within 3 seconds)
//! and the work that follows it.
//!
//! The core usually decides well within Discord's window, so its answer *is* the first
//! response (type 4, or 7 for a press that updates its message), ephemeral when refused or
//! private: a refusal never shows "dunbot is thinking…" to the channel. Only when the core
//! takes longer than `answer_within` does the edge defer (type 5/6) and edit afterwards.
use super::config::DiscordConfig;
use super::custom_id::{self, CustomId};
use super::render::{self, Post, truncate};
pub use super::translate::EPHEMERAL;
use super::translate::{
    command_line, form_of, message_resolved, message_response, modal_response, resolved_edit,
};
use crate::app::{Actor, App, Invocation, Outcome, Platform, Source};
use crate::message::Visibility;
use crate::message::forms::command_from_form;
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use serde_json::{Value, json};
use serenity::all::{
    ActionRowComponent, CommandInteraction, ComponentInteraction, Interaction, Member,
    ModalInteraction, User,
};
use serenity::http::Http;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

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
pub use crate::commands::manage_root;

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
            Interaction::Command(c) => self.command(c).await,
            Interaction::Autocomplete(c) => self.autocomplete(&c).await,
            Interaction::Component(c) => self.component(c).await,
            Interaction::Modal(m) => self.modal(m).await,
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
        Actor {
            platform: Platform::Discord,
            user_id: user.id.get().to_string(),
            name: display_name(member, user),
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

    async fn command(self: &Arc<Self>, c: CommandInteraction) -> Plan {
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
        self.answer(inv, c.token, private, None).await
    }

    /// Runs the invocation in its own task and waits for it up to `answer_within`: its outcome,
    /// or the still-running task when the core is slower than that. Zero always defers: a
    /// zero timeout still lets a quick task finish before the timer fires, so it is no race.
    async fn race(self: &Arc<Self>, inv: Invocation) -> Result<Outcome, JoinHandle<Outcome>> {
        let me = self.clone();
        let mut work = tokio::spawn(async move { me.app.handle(inv).await });
        if self.config.answer_within.is_zero() {
            return Err(work);
        }
        match tokio::time::timeout(self.config.answer_within, &mut work).await {
            Ok(done) => Ok(joined(done)),
            Err(_) => Err(work),
        }
    }

    /// A command or form: answered with the core's reply as the first response (type 4) when
    /// it decides in time, else deferred. `origin` is the message whose button opened the form
    /// being submitted: its spent buttons go once the form took effect.
    async fn answer(
        self: &Arc<Self>,
        inv: Invocation,
        token: String,
        private: bool,
        origin: Option<Origin>,
    ) -> Plan {
        let channel = inv.channel.clone();
        let out = match self.race(inv).await {
            Ok(out) => out,
            Err(work) => return self.deferred(work, token, private, channel, origin),
        };
        let posts = render::render(&out.reply);
        // A refusal, and anything meant for one person, is seen by them alone.
        let ephemeral = private || out.refused || out.reply.visibility == Visibility::Ephemeral;
        let first = json!({"type": 4, "data": body_of(&posts[0], ephemeral)});
        let rest = posts[1..].to_vec();
        let copy = out.reply.topic.clone().filter(|_| !ephemeral);
        if rest.is_empty() && copy.is_none() && !self.origin_spent(&origin, &out) {
            return Plan::now(first);
        }
        let me = self.clone();
        Plan {
            first,
            then: Some(Box::pin(async move {
                me.after_answer(&out, origin.as_ref()).await;
                if let Some(topic) = copy
                    && let Some(answer) = me
                        .patient("reading the answer back", true, || {
                            me.http.get_original_interaction_response(&token)
                        })
                        .await
                {
                    // Recorded by its message id: the token that edits it lasts 15 minutes.
                    me.record_copy(&topic, &channel, answer.id.get()).await;
                }
                me.followups(&token, &rest, ephemeral).await
            })),
        }
    }

    /// Whether a form's outcome spends buttons on the message that opened it.
    fn origin_spent(&self, origin: &Option<Origin>, out: &Outcome) -> bool {
        origin.is_some() && out.resolved.is_some() && !out.refused && !out.replayed
    }

    /// After a form took effect: the message whose button opened it loses the buttons that no
    /// longer apply and says what happened.
    async fn after_answer(&self, out: &Outcome, origin: Option<&Origin>) {
        if let (Some((message, pressed)), Some(resolved), false) =
            (origin, &out.resolved, out.refused || out.replayed)
        {
            let edit = message_resolved(message, pressed, resolved, &out.spent);
            self.patient("editing the message behind a form", false, || {
                self.http
                    .edit_message(message.channel_id, message.id, &edit, vec![])
            })
            .await;
        }
    }

    /// Defers (type 5, ephemeral when the answer is for one person), waits for the core, and
    /// edits the deferred response with the answer. A refusal under a public deferral replaces
    /// it with an ephemeral follow-up, so only the person sees it.
    fn deferred(
        self: &Arc<Self>,
        work: JoinHandle<Outcome>,
        token: String,
        private: bool,
        channel: String,
        origin: Option<Origin>,
    ) -> Plan {
        let first = if private {
            json!({"type": 5, "data": {"flags": EPHEMERAL}})
        } else {
            json!({"type": 5})
        };
        let me = self.clone();
        let then = Box::pin(async move {
            let out = joined(work.await);
            me.after_answer(&out, origin.as_ref()).await;
            let posts = render::render(&out.reply);
            if out.refused && !private {
                me.patient("deleting the deferred response", true, || {
                    me.http.delete_original_interaction_response(&token)
                })
                .await;
                me.followups(&token, &posts, true).await;
                return;
            }
            let answer = me.edit_original(&token, &posts[0]).await;
            let ephemeral = private || out.reply.visibility == Visibility::Ephemeral;
            if let (Some(answer), Some(topic), false) = (answer, &out.reply.topic, ephemeral) {
                // Recorded by its message id: the token that edits it lasts 15 minutes.
                me.record_copy(topic, &channel, answer.id.get()).await;
            }
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
        // Suggestions must arrive within Discord's 3 seconds; a slow database gets none. Only
        // accounts the person may see: an agency's own.
        let actor = self.actor(c.member.as_deref(), &c.user);
        let search = self.app.account_choices(&actor, &typed, 25);
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

    async fn component(self: &Arc<Self>, c: ComponentInteraction) -> Plan {
        match custom_id::parse(&c.data.custom_id) {
            Some(CustomId::Form(command)) => match form_of(&command) {
                Some(form) => Plan::now(modal_response(&command, &form)),
                None => self.press(c, command).await,
            },
            Some(CustomId::Run(command)) => self.press(c, command).await,
            _ => Plan::now(message_response(
                4,
                "This button is out of date or not dunbot's; nothing was changed.",
            )),
        }
    }

    /// A button press, run as the presser. Decided in time: the pressed message updated at
    /// once (type 7: its resolved line, without that entry's buttons), or a message (type 4)
    /// that for a refusal only the presser sees. Slower: acknowledged without a visible reply
    /// (type 6), then the same by edit or follow-up.
    async fn press(self: &Arc<Self>, c: ComponentInteraction, command: String) -> Plan {
        let actor = self.actor(c.member.as_ref(), &c.user);
        let inv = self.invocation(
            actor,
            c.channel_id.get(),
            c.id.get(),
            command,
            Source::Button,
        );
        let work = match self.race(inv).await {
            Ok(out) => {
                if let Some(edit) = self.pressed_edit(&c, &out).await {
                    return Plan::now(json!({"type": 7, "data": edit}));
                }
                let posts = render::render(&out.reply);
                let ephemeral = out.refused || out.reply.visibility == Visibility::Ephemeral;
                let first = json!({"type": 4, "data": body_of(&posts[0], ephemeral)});
                let rest = posts[1..].to_vec();
                if rest.is_empty() {
                    return Plan::now(first);
                }
                let me = self.clone();
                let token = c.token.clone();
                return Plan {
                    first,
                    then: Some(Box::pin(async move {
                        me.followups(&token, &rest, ephemeral).await
                    })),
                };
            }
            Err(work) => work,
        };
        let me = self.clone();
        let then = Box::pin(async move {
            let out = joined(work.await);
            me.after_press(&c, out).await;
        });
        Plan {
            first: json!({"type": 6}),
            then: Some(then),
        }
    }

    /// What the pressed message becomes after a press that took effect: the whole decided
    /// message when it is a copy of one (its content, embeds and buttons all say what was
    /// decided), else its resolved line without the spent buttons. `None`: leave it.
    async fn pressed_edit(&self, c: &ComponentInteraction, out: &Outcome) -> Option<Value> {
        if out.refused {
            return None;
        }
        // Every button on it decided by this press, and no embed title (a digest has one),
        // makes it a decision message as surely as a recorded copy (a ping posted before
        // copies were kept).
        let only_spent = !c.message.embeds.iter().any(|e| e.title.is_some())
            && c.message
                .components
                .iter()
                .flat_map(|r| r.components.iter())
                .all(|b| match b {
                    ActionRowComponent::Button(b) => match &b.data {
                        serenity::all::ButtonKind::NonLink { custom_id, .. } => {
                            match custom_id::parse(custom_id) {
                                Some(CustomId::Run(c) | CustomId::Form(c)) => {
                                    crate::domain::spent::is_spent(&out.spent, &c)
                                }
                                _ => false,
                            }
                        }
                        _ => false,
                    },
                    _ => false,
                });
        if let Some(whole) = &out.updated
            && (only_spent || self.is_copy(whole, c).await)
        {
            return Some(body_of(&render::render(whole)[0], false));
        }
        out.resolved
            .as_ref()
            .map(|resolved| resolved_edit(c, resolved, &out.spent))
    }

    async fn after_press(&self, c: &ComponentInteraction, out: Outcome) {
        let posts = render::render(&out.reply);
        if out.refused {
            self.followups(&c.token, &posts, true).await;
            return;
        }
        if let Some(edit) = self.pressed_edit(c, &out).await {
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

    async fn modal(self: &Arc<Self>, m: ModalInteraction) -> Plan {
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
        let origin = m.message.map(|msg| {
            let pressed = msg
                .components
                .iter()
                .flat_map(|r| r.components.iter())
                .find_map(|b| match b {
                    ActionRowComponent::Button(b) => match &b.data {
                        serenity::all::ButtonKind::NonLink { custom_id, .. }
                            if custom_id::parse(custom_id)
                                == Some(CustomId::Form(command.clone())) =>
                        {
                            Some(custom_id.clone())
                        }
                        _ => None,
                    },
                    _ => None,
                })
                .unwrap_or_default();
            (msg, pressed)
        });
        self.answer(inv, m.token, private, origin).await
    }

    /// Records where a message with a topic landed, so a later decision edits it too.
    async fn record_copy(&self, topic: &str, channel: &str, message_id: u64) {
        let recorded = match self.app.store.pool.acquire().await {
            Ok(mut conn) => {
                crate::store::copies::record(
                    &mut conn,
                    topic,
                    channel,
                    &message_id.to_string(),
                    false,
                )
                .await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = recorded {
            tracing::error!(error = %e, topic, "recording where a Discord answer landed failed");
        }
    }

    /// Whether the pressed message is a recorded copy of the topic `updated` speaks for.
    async fn is_copy(&self, updated: &crate::message::Message, c: &ComponentInteraction) -> bool {
        let Some(topic) = &updated.topic else {
            return false;
        };
        let channel = format!("discord:{}", c.channel_id.get());
        let id = c.message.id.get().to_string();
        let found = match self.app.store.pool.acquire().await {
            Ok(mut conn) => crate::store::copies::is_copy(&mut conn, topic, &channel, &id).await,
            Err(e) => Err(e),
        };
        found.unwrap_or_else(|e| {
            tracing::error!(error = %e, "looking up a Discord message's copies failed");
            false
        })
    }

    /// Edits the deferred response. In HTTP mode the edit can overtake Discord's receipt of
    /// the deferral (404 Unknown interaction), so a 404 is retried briefly too.
    async fn edit_original(&self, token: &str, post: &Post) -> Option<serenity::all::Message> {
        self.patient("editing the deferred response", true, || {
            self.http
                .edit_original_interaction_response(token, post, vec![])
        })
        .await
    }

    async fn followups(&self, token: &str, posts: &[Post], ephemeral: bool) {
        for post in posts {
            let body = body_of(post, ephemeral);
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

/// The name the server shows for the person: their nickname in this server, else their
/// display name on Discord, else their username.
pub fn display_name(member: Option<&Member>, user: &User) -> String {
    let user = member.map(|m| &m.user).unwrap_or(user);
    [
        member.and_then(|m| m.nick.as_deref()),
        user.global_name.as_deref(),
    ]
    .into_iter()
    .flatten()
    .map(str::trim)
    .find(|n| !n.is_empty())
    .unwrap_or(&user.name)
    .to_string()
}

/// A message body, with the flag that shows it to the recipient alone when `ephemeral`.
/// The message whose button opened a form, and that button's custom id.
type Origin = (Box<serenity::all::Message>, String);

fn body_of(post: &Post, ephemeral: bool) -> Value {
    let mut body = serde_json::to_value(post).unwrap_or_default();
    if ephemeral {
        body["flags"] = json!(EPHEMERAL);
    }
    body
}

/// The core's outcome from its task; a task that panicked is answered like the core's own
/// unexpected errors (nothing was changed: the transaction did not commit).
fn joined(done: Result<Outcome, tokio::task::JoinError>) -> Outcome {
    done.unwrap_or_else(|e| {
        tracing::error!(error = %e, "handling a Discord interaction failed");
        Outcome {
            reply: crate::message::Message::ephemeral(
                "Something went wrong on our side. Nothing was changed: try again.",
            ),
            refused: true,
            replayed: false,
            resolved: None,
            spent: vec![],
            updated: None,
        }
    })
}

/// The HTTP status of a failed Discord call, if it got that far.
pub fn status(e: &serenity::Error) -> Option<u16> {
    match e {
        serenity::Error::Http(h) => h.status_code().map(|s| s.as_u16()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(nick: Option<&str>, global_name: Option<&str>) -> Member {
        serde_json::from_value(json!({
            "user": {"id": "53908232506183680", "username": "mason", "discriminator": "0",
                     "avatar": null, "global_name": global_name},
            "roles": [], "joined_at": "2024-01-01T00:00:00.000000+00:00", "deaf": false,
            "mute": false, "flags": 0, "pending": false, "nick": nick,
            "guild_id": "290926798626357999",
        }))
        .unwrap()
    }

    #[test]
    fn nick_wins_over_global_name_wins_over_username() {
        let m = member(Some("Mase (AR)"), Some("Mason Lee"));
        assert_eq!(display_name(Some(&m), &m.user), "Mase (AR)");
        let m = member(None, Some("Mason Lee"));
        assert_eq!(display_name(Some(&m), &m.user), "Mason Lee");
        let m = member(Some(""), None);
        assert_eq!(display_name(Some(&m), &m.user), "mason");
        // In a DM there is no member: the user's own names.
        assert_eq!(display_name(None, &m.user), "mason");
    }
}
