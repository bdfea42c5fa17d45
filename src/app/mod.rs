//! Executes a command for an actor: parse, permission, rule, write, outcome. This is the one
//! write path: a handler's changes, its outbox rows and its action row commit in one
//! transaction keyed by the request id, so a retried request changes nothing twice.
pub mod admin;
mod agency;
pub mod api;
mod approval;
mod args;
pub mod automatic;
pub mod autoplan;
pub mod calls;
mod case_file;
pub mod case_threads;
pub mod confirm_receipt;
mod context;
mod disputes;
mod flags;
mod history;
mod hold;
mod invocation;
pub mod invoice_changes;
pub mod late_fees;
pub mod metrics;
pub mod payment_news;
pub mod plan_progress;
mod plans;
mod promise;
mod remind;
mod roles;
pub mod texts;
pub mod views;
pub mod weekly;

pub use agency::decided_topic;
pub use context::{Ctx, Done, Fail};
pub use invocation::{Actor, Invocation, Outcome, Platform, Source};

use crate::clock::Clock;
use crate::commands::{Parsed, Typing, parse_line, registry};
use crate::config::Settings;
use crate::domain::roles::{Role, permits};
use crate::domain::spent::spent_after;
use crate::message::Message;
use crate::store::{self, Store, actions};
use anyhow::Result;
use serde_json::json;

pub struct App {
    pub settings: Settings,
    pub store: Store,
    /// What "now" is for everything that decides by the date; tests fix it.
    pub clock: Clock,
    /// Requests handled at once: fewer than the pool's connections, so a burst from any edge
    /// waits here in turn instead of timing out on the pool, and the scheduler and the outbox
    /// worker keep a connection.
    admission: tokio::sync::Semaphore,
}

impl App {
    pub fn new(settings: Settings, store: Store) -> App {
        let connections = store.pool.options().get_max_connections() as usize;
        App {
            settings,
            store,
            clock: Clock::System,
            admission: tokio::sync::Semaphore::new(connections.saturating_sub(2).max(1)),
        }
    }

    /// Replaces the clock (tests, back-dated runs).
    pub fn with_clock(mut self, clock: Clock) -> App {
        self.clock = clock;
        self
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Today in the company's time zone, by the app's clock.
    pub fn today(&self) -> chrono::NaiveDate {
        self.settings.today(self.now())
    }

    /// How people on `platform` type commands: Discord registers the managers' commands
    /// under `/<root>-manage`, so hints there must name that root.
    pub fn typing(&self, platform: Platform) -> Typing<'_> {
        Typing {
            root: &self.settings.command_root,
            split_manage: platform == Platform::Discord,
        }
    }

    /// Never fails: an unexpected error is logged with a reference the person can quote.
    pub async fn handle(&self, inv: Invocation) -> Outcome {
        let _turn = self.admission.acquire().await;
        match self.try_handle(&inv).await {
            Ok(o) => o,
            Err(e) => {
                let reference = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
                tracing::error!(reference, request = %inv.request_id, text = %inv.text, error = ?e, "command failed");
                Outcome {
                    reply: Message::ephemeral(format!(
                        "Something went wrong on our side (reference {reference}). Nothing was changed: try again, or give your admin the reference."
                    )),
                    refused: true,
                    replayed: false,
                    resolved: None,
                    spent: vec![],
                    updated: None,
                }
            }
        }
    }

    async fn try_handle(&self, inv: &Invocation) -> Result<Outcome> {
        let mut conn = self.store.pool.acquire().await?;
        // A view keeps no reply to replay: it is answered afresh, but still marked as a
        // replay so an edge that already answered the first delivery does not post again.
        let mut retried_view = false;
        if let Some(prev) = actions::find_by_key(&mut conn, &inv.request_id).await? {
            if !is_view(&prev) {
                return Ok(replay(prev));
            }
            retried_view = true;
        }
        let typing = self.typing(inv.actor.platform);
        let parsed = match parse_line(registry(), typing, &inv.text) {
            Ok(p) => p,
            Err(msg) => return self.refuse(&mut conn, inv, "unknown", None, msg).await,
        };
        let (granted, granted_agency) =
            store::people::roles_of(&mut conn, inv.actor.platform.key(), &inv.actor.user_id)
                .await?;
        let mut roles = inv.actor.roles.clone();
        roles.extend(granted);
        roles.sort();
        roles.dedup();
        if !parsed.spec.anyone && !permits(&roles, &parsed.spec.roles) {
            let msg = permission_message(&parsed, &roles, typing);
            return self
                .refuse(&mut conn, inv, &parsed.spec.name, None, msg)
                .await;
        }
        drop(conn);
        let ctx = Ctx {
            app: self,
            actor: &inv.actor,
            roles,
            agency: inv.actor.agency.clone().or(granted_agency),
            today: inv.as_of.unwrap_or_else(|| self.settings.today(inv.now)),
            now: inv.now,
            channel: &inv.channel,
            request_id: &inv.request_id,
        };
        let mut tx = self.store.begin().await?;
        // A button the reader may not press is only a refusal waiting to happen.
        let result = dispatch(&ctx, &mut tx, &parsed).await.map(|mut done| {
            done.reply
                .retain_buttons(|b| may_press(&ctx.roles, &b.command));
            done
        });
        match result {
            Ok(done) if parsed.spec.read_only => {
                // A view changes nothing: record who looked at what, not the reply (tens of
                // kB for a digest); a retry with the same request id is answered afresh.
                let action = action_row(
                    inv,
                    parsed.spec.name.clone(),
                    done.subject.clone(),
                    "ok",
                    json!({
                        "command": storable(&inv.text), "source": inv.source, "as_of": ctx.today,
                        "viewed": true,
                    }),
                );
                let first = actions::insert_if_new(&mut tx, &action).await?.is_some();
                tx.commit().await?;
                Ok(Outcome {
                    reply: done.reply,
                    refused: false,
                    replayed: retried_view || !first,
                    resolved: None,
                    spent: vec![],
                    updated: None,
                })
            }
            Ok(mut done) => {
                if done.resolved.is_some() && done.spent.is_empty() {
                    let subject = inv.text.split_whitespace().nth(1).unwrap_or_default();
                    done.spent = spent_after(&parsed.spec.name, subject);
                }
                let action = action_row(
                    inv,
                    parsed.spec.name.clone(),
                    done.subject.clone(),
                    "ok",
                    json!({
                        "command": storable(&inv.text), "source": inv.source, "as_of": ctx.today,
                        "facts": done.details, "reply": done.reply, "resolved": done.resolved,
                        "spent": done.spent, "updated": done.updated,
                    }),
                );
                match actions::insert(&mut tx, &action).await {
                    Ok(_) => {
                        tx.commit().await?;
                        Ok(Outcome {
                            reply: done.reply,
                            refused: false,
                            replayed: false,
                            resolved: done.resolved,
                            spent: done.spent,
                            updated: done.updated,
                        })
                    }
                    Err(e) if store::is_unique_violation(&e) => {
                        // The same request won a race with us: its answer is the answer.
                        tx.rollback().await?;
                        let mut conn = self.store.pool.acquire().await?;
                        let prev = actions::find_by_key(&mut conn, &inv.request_id).await?;
                        prev.map(replay)
                            .ok_or_else(|| anyhow::anyhow!("idempotency key vanished"))
                    }
                    Err(e) => Err(e.into()),
                }
            }
            Err(Fail::User(msg)) => {
                tx.rollback().await?;
                let mut conn = self.store.pool.acquire().await?;
                self.refuse(&mut conn, inv, &parsed.spec.name, None, msg)
                    .await
            }
            Err(Fail::Internal(e)) => Err(e),
        }
    }

    /// Accounts matching `typed` for a person's autocomplete: the same scope as their commands,
    /// so an agency is offered only the accounts referred to it.
    pub async fn account_choices(
        &self,
        actor: &Actor,
        typed: &str,
        limit: i64,
    ) -> Result<Vec<(String, String)>> {
        let mut conn = self.store.pool.acquire().await?;
        let (granted, granted_agency) =
            store::people::roles_of(&mut conn, actor.platform.key(), &actor.user_id).await?;
        let mut roles = actor.roles.clone();
        roles.extend(granted);
        let agency = actor.agency.clone().or(granted_agency);
        let scope = context::account_scope(&roles, agency.as_deref());
        Ok(store::ledger::search_accounts(&mut conn, typed, limit, scope).await?)
    }

    /// Records the refusal (once per request id) and tells the person, only them.
    async fn refuse(
        &self,
        conn: &mut sqlx::PgConnection,
        inv: &Invocation,
        kind: &str,
        subject: Option<String>,
        msg: String,
    ) -> Result<Outcome> {
        let reply = Message::ephemeral(msg);
        let action = action_row(
            inv,
            kind,
            subject,
            "refused",
            json!({ "command": storable(&inv.text), "source": inv.source, "reason": reply.text, "reply": reply }),
        );
        if actions::insert_if_new(conn, &action).await?.is_none() {
            // The same request id already acted (a racing retry or double click): its answer
            // is the answer, not this refusal.
            if let Some(prev) = actions::find_by_key(conn, &inv.request_id).await? {
                return Ok(replay(prev));
            }
        }
        Ok(Outcome {
            reply,
            refused: true,
            replayed: false,
            resolved: None,
            spent: vec![],
            updated: None,
        })
    }
}

fn permission_message(parsed: &Parsed<'_>, roles: &[Role], typing: Typing<'_>) -> String {
    let need: Vec<&str> = parsed.spec.roles.iter().map(Role::key).collect();
    let have = if roles.is_empty() {
        "no dunbot role".to_string()
    } else {
        format!(
            "the role {}",
            roles.iter().map(Role::key).collect::<Vec<_>>().join(", ")
        )
    };
    let article = if need
        .first()
        .is_some_and(|r| r.starts_with(['a', 'e', 'i', 'o', 'u']))
    {
        "an"
    } else {
        "a"
    };
    format!(
        "Only {article} {} may run `{}`; you have {have}. Nothing was changed. An admin can grant a role with `{} @you {}`.",
        need.join(" or "),
        typing.command(&parsed.spec.name),
        typing.command("role"),
        need.first().copied().unwrap_or("manager")
    )
}

/// The typed line as the log can hold it: Postgres refuses NUL in text, so control characters
/// (which the parser refuses anyway) are shown as U+FFFD.
fn storable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if crate::commands::is_forbidden_control(c) {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

/// A view's light row: it holds no reply to replay, so the request is answered again.
fn is_view(prev: &actions::ActionRow) -> bool {
    prev.outcome == "ok" && prev.details["viewed"] == json!(true)
}

/// The action row of a request: who, from where, when, keyed by the request id.
fn action_row(
    inv: &Invocation,
    kind: impl Into<String>,
    subject: Option<String>,
    outcome: &'static str,
    details: serde_json::Value,
) -> actions::NewAction {
    actions::NewAction {
        at: inv.now,
        actor_platform: inv.actor.platform.key().into(),
        actor_id: inv.actor.user_id.clone(),
        actor_name: inv.actor.name.clone(),
        channel: inv.channel.clone(),
        kind: kind.into(),
        subject,
        outcome,
        details,
        idempotency_key: Some(inv.request_id.clone()),
    }
}

fn replay(prev: actions::ActionRow) -> Outcome {
    let reply = serde_json::from_value(prev.details["reply"].clone())
        .unwrap_or_else(|_| Message::ephemeral("This request was already handled."));
    Outcome {
        reply,
        refused: prev.outcome == "refused",
        replayed: true,
        resolved: prev.details["resolved"].as_str().map(str::to_string),
        spent: serde_json::from_value(prev.details["spent"].clone()).unwrap_or_default(),
        updated: serde_json::from_value(prev.details["updated"].clone()).unwrap_or_default(),
    }
}

/// Whether someone with `roles` may run a button's command, by the roles its declaration in
/// `commands/` names (a command no one declared is not offered).
pub fn may_press(roles: &[Role], command: &str) -> bool {
    command
        .split_whitespace()
        .next()
        .and_then(|name| registry().get(name))
        .is_some_and(|spec| spec.anyone || permits(roles, &spec.roles))
}

async fn dispatch(
    ctx: &Ctx<'_>,
    tx: &mut sqlx::PgConnection,
    p: &Parsed<'_>,
) -> Result<Done, Fail> {
    match p.spec.name.as_str() {
        "remind" => remind::run(ctx, tx, p).await,
        "promise" => promise::run(ctx, tx, p).await,
        "flag" => flags::flag(ctx, tx, p).await,
        "unflag" => flags::unflag(ctx, tx, p).await,
        "refer" => agency::refer(ctx, tx, p).await,
        "offer" => agency::offer(ctx, tx, p).await,
        "settle" => agency::settle(ctx, tx, p).await,
        "dispute" => disputes::dispute(ctx, tx, p).await,
        "resolve" => disputes::resolve(ctx, tx, p).await,
        "account" => views::account(ctx, tx, p).await,
        "aging" => views::aging(ctx, tx).await,
        "digest" => views::digest(ctx, tx).await,
        "help" => views::help(ctx, p),
        "role" => roles::run(ctx, tx, p).await,
        "hold" => hold::hold(ctx, tx, p).await,
        "unhold" => hold::unhold(ctx, tx, p).await,
        "preview" => hold::preview(ctx, tx, p).await,
        "plan" => plans::run(ctx, tx, p).await,
        "plan-decide" => plans::decide(ctx, tx, p).await,
        "confirm" => confirm_receipt::run(ctx, tx, p).await,
        "call" => calls::call(ctx, tx, p).await,
        "note" => calls::note(ctx, tx, p).await,
        "history" => history::history(ctx, tx, p).await,
        "contact" => texts::contact(ctx, tx, p).await,
        "waive" => late_fees::waive(ctx, tx, p).await,
        "metrics" => metrics::run(ctx, tx, p).await,
        other => Err(Fail::Internal(anyhow::anyhow!(
            "command {other} is declared in commands/ but has no handler"
        ))),
    }
}

/// Every declared command has a handler (checked by a test against `commands/`).
pub const HANDLED: &[&str] = &[
    "remind",
    "promise",
    "flag",
    "unflag",
    "refer",
    "offer",
    "settle",
    "dispute",
    "resolve",
    "account",
    "aging",
    "digest",
    "help",
    "role",
    "hold",
    "unhold",
    "preview",
    "plan",
    "plan-decide",
    "confirm",
    "call",
    "note",
    "history",
    "contact",
    "waive",
    "metrics",
];

#[cfg(test)]
mod tests {
    use super::may_press;
    use crate::domain::roles::Role;

    #[test]
    fn buttons_are_offered_only_to_roles_their_commands_declare() {
        let agency = [Role::Agency];
        assert!(!may_press(&agency, "settle 12 approve"));
        assert!(!may_press(&agency, "remind ACME-001"));
        assert!(may_press(&agency, "account ACME-001"));
        assert!(may_press(&[Role::Manager], "settle 12 reject"));
        // A form button is judged by its command's name.
        assert!(may_press(&[Role::Collector], "promise ACME-001"));
        assert!(!may_press(&agency, "promise ACME-001"));
        assert!(may_press(&[Role::Admin], "settle 12 approve"));
        assert!(!may_press(&[], "nonsense 1"));
    }

    #[test]
    fn every_declared_command_has_a_handler_and_vice_versa() {
        let mut declared: Vec<&str> = crate::commands::registry()
            .commands
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        let mut handled = super::HANDLED.to_vec();
        declared.sort();
        handled.sort();
        assert_eq!(declared, handled);
    }
}
