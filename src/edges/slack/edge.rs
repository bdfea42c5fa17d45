//! What a Slack request means to the core, whichever way it came in (HTTP or Socket Mode):
//! a slash command, a button press or a submitted modal becomes an `Invocation`; the
//! `Outcome` goes back through `response_url`, `chat.update`, `chat.postEphemeral` or
//! `views.open`. No business rule here: the core decides, this translates.
use super::api::SlackApi;
use super::blocks::{self, FORM, Post};
use super::config::SlackConfig;
use super::names::Names;
use crate::app::{Actor, App, Invocation, Outcome, Platform, Source};
use crate::domain::spent::is_spent;
use crate::message::{Message, Visibility};
use crate::store;
use serde_json::{Value, json};
use std::sync::Arc;

/// The Slack edge: the core, the settings, and the Web API client when a bot token is set.
pub struct SlackEdge {
    pub app: Arc<App>,
    pub cfg: SlackConfig,
    pub api: Option<SlackApi>,
    /// Unix seconds "now" for signature freshness; replaced in tests to replay old vectors.
    pub clock: fn() -> i64,
    /// Work after the ack runs at most this many at a time: a burst waits here, in order,
    /// instead of timing out on the database pool.
    pub work: Arc<tokio::sync::Semaphore>,
    /// People's names by member id, from `users.info`.
    pub names: Names,
}

/// Jobs after the ack at once: below the pool's connections, leaving room for the rest.
pub const CONCURRENT_JOBS: usize = 6;

pub fn system_clock() -> i64 {
    chrono::Utc::now().timestamp()
}

impl SlackEdge {
    pub fn new(app: Arc<App>, cfg: SlackConfig) -> anyhow::Result<SlackEdge> {
        let api = match &cfg.bot_token {
            Some(t) => Some(SlackApi::new(t, &cfg.api_url)?),
            None => None,
        };
        Ok(SlackEdge {
            app,
            cfg,
            api,
            clock: system_clock,
            work: Arc::new(tokio::sync::Semaphore::new(CONCURRENT_JOBS)),
            names: Names::default(),
        })
    }

    /// The person acting, named as the workspace shows them (see `names`).
    async fn actor(&self, user_id: &str, given: Option<&str>) -> Actor {
        let name = self.names.resolve(self.api.as_ref(), user_id, given).await;
        Actor {
            platform: Platform::Slack,
            user_id: user_id.to_string(),
            name,
            roles: vec![],
            agency: None,
        }
    }

    /// Runs `job` after the ack, in turn with the others.
    pub fn spawn<F>(self: &Arc<Self>, job: impl FnOnce(Arc<SlackEdge>) -> F + Send + 'static)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let edge = self.clone();
        tokio::spawn(async move {
            let Ok(_permit) = edge.work.clone().acquire_owned().await else {
                return;
            };
            job(edge).await;
        });
    }
}

/// A slash command's fields (form-encoded over HTTP, JSON in Socket Mode).
#[derive(Debug, Clone, Default)]
pub struct SlashCommand {
    pub channel_id: String,
    pub user_id: String,
    pub user_name: Option<String>,
    pub text: String,
    pub response_url: String,
    pub trigger_id: String,
}

impl SlashCommand {
    /// From `application/x-www-form-urlencoded` pairs.
    pub fn from_form(body: &[u8]) -> SlashCommand {
        let mut c = SlashCommand::default();
        for (k, v) in url::form_urlencoded::parse(body) {
            let v = v.into_owned();
            match k.as_ref() {
                "channel_id" => c.channel_id = v,
                "user_id" => c.user_id = v,
                "user_name" => c.user_name = Some(v),
                "text" => c.text = v,
                "response_url" => c.response_url = v,
                "trigger_id" => c.trigger_id = v,
                _ => {}
            }
        }
        c
    }

    /// From the JSON Socket Mode carries (slack-morphism's `SlackCommandEvent`).
    pub fn from_json(v: &Value) -> SlashCommand {
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        SlashCommand {
            channel_id: s("channel_id"),
            user_id: s("user_id"),
            user_name: v["user_name"].as_str().map(str::to_string),
            text: s("text"),
            response_url: s("response_url"),
            trigger_id: s("trigger_id"),
        }
    }

    /// Slack retries a command with the same trigger id: that is the request id.
    pub fn request_id(&self) -> String {
        format!("slack:cmd:{}", self.trigger_id)
    }
}

fn invocation(
    now: chrono::DateTime<chrono::Utc>,
    actor: Actor,
    channel_id: &str,
    request_id: String,
    text: &str,
    source: Source,
) -> Invocation {
    let text = text.trim();
    Invocation {
        actor,
        channel: format!("slack:{channel_id}"),
        request_id,
        text: if text.is_empty() {
            "help".into()
        } else {
            text.to_string()
        },
        source,
        now,
        as_of: None,
    }
}

/// The first post of a reply: answers to one person are short, and a response_url or an
/// ephemeral message is not a thread.
fn first(msg: &Message) -> Post {
    blocks::render(msg).into_iter().next().unwrap_or(Post {
        text: msg.text.clone(),
        blocks: vec![],
    })
}

/// Runs a slash command and answers through its `response_url` (in the channel when the
/// reply is for the channel, else only to the person). A retry's replay posts nothing again.
pub async fn run_command(edge: &SlackEdge, cmd: SlashCommand) -> Outcome {
    let inv = invocation(
        edge.app.now(),
        edge.actor(&cmd.user_id, cmd.user_name.as_deref()).await,
        &cmd.channel_id,
        cmd.request_id(),
        &cmd.text,
        Source::Command,
    );
    let out = edge.app.handle(inv).await;
    if out.replayed {
        return out;
    }
    let Some(api) = &edge.api else {
        tracing::warn!("SLACK_BOT_TOKEN unset: cannot answer a Slack command");
        return out;
    };
    let in_channel = out.reply.visibility == Visibility::Channel;
    if in_channel
        && !out.refused
        && let Some(topic) = &out.reply.topic
        && post_copy(edge, api, &cmd.channel_id, topic, &out.reply).await
    {
        return out;
    }
    // A response_url takes up to five posts; long replies (a digest) use them in turn.
    for post in blocks::render(&out.reply).into_iter().take(5) {
        if let Err(e) = api
            .respond(&cmd.response_url, &post, in_channel, false)
            .await
        {
            tracing::error!(error = %e, "answering a Slack command failed");
            break;
        }
    }
    out
}

/// Posts a reply that later events must edit (it has a topic) with `chat.postMessage`, which
/// says where it landed (a `response_url` does not), and records that copy. False when it
/// could not be posted (e.g. dunbot is not in the channel): the caller answers as usual.
async fn post_copy(
    edge: &SlackEdge,
    api: &SlackApi,
    channel_id: &str,
    topic: &str,
    reply: &Message,
) -> bool {
    let ts = match api.post_message(channel_id, &first(reply), None).await {
        Ok(ts) => ts,
        Err(e) => {
            tracing::warn!(error = %e, "posting a reply with chat.postMessage failed; answering through response_url");
            return false;
        }
    };
    let recorded = match edge.app.store.pool.acquire().await {
        Ok(mut conn) => {
            store::copies::record(&mut conn, topic, &format!("slack:{channel_id}"), &ts, false)
                .await
        }
        Err(e) => Err(e),
    };
    if let Err(e) = recorded {
        tracing::error!(error = %e, topic, "recording where a Slack reply landed failed");
    }
    true
}

/// Whether the message at `ts` in `channel_id` is a recorded copy of the topic `updated`
/// speaks for: then it becomes `updated` whole, not just a resolved line.
async fn is_copy(edge: &SlackEdge, updated: &Message, channel_id: &str, ts: &str) -> bool {
    let Some(topic) = &updated.topic else {
        return false;
    };
    let found = match edge.app.store.pool.acquire().await {
        Ok(mut conn) => {
            store::copies::is_copy(&mut conn, topic, &format!("slack:{channel_id}"), ts).await
        }
        Err(e) => Err(e),
    };
    found.unwrap_or_else(|e| {
        tracing::error!(error = %e, "looking up a Slack message's copies failed");
        false
    })
}

/// A button press (`block_actions`): opens the form for a button that needs one, else runs the
/// button's command as the presser. The press's request id is the message, the button and the
/// presser: a double click or a retry acts once.
pub async fn run_block_action(edge: &SlackEdge, payload: Value) -> Option<Outcome> {
    let action = payload["actions"].get(0)?.clone();
    let action_id = action["action_id"].as_str()?.to_string();
    let command = action["value"].as_str()?.to_string();
    let block_id = action["block_id"].as_str().unwrap_or_default().to_string();
    let user_id = payload["user"]["id"].as_str()?.to_string();
    let user_name = payload["user"]["username"]
        .as_str()
        .or(payload["user"]["name"].as_str())
        .map(str::to_string);
    let channel_id = payload["channel"]["id"]
        .as_str()
        .or(payload["container"]["channel_id"].as_str())
        .unwrap_or_default()
        .to_string();
    let message_ts = payload["container"]["message_ts"]
        .as_str()
        .or(payload["message"]["ts"].as_str())
        .unwrap_or_default()
        .to_string();
    let response_url = payload["response_url"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let api = edge.api.as_ref();
    if action_id.starts_with(FORM)
        && let Some(form) = blocks::form_of(&command)
    {
        // Remember the message the button sat on, to show the outcome there on submit.
        let form_ref = uuid::Uuid::new_v4().simple().to_string();
        let origin = store::slack::FormOrigin {
            channel: channel_id.clone(),
            ts: message_ts.clone(),
            block_id: block_id.clone(),
            text: payload["message"]["text"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            blocks: payload["message"]["blocks"].clone(),
        };
        if !message_ts.is_empty() && origin.blocks.is_array() {
            match edge.app.store.pool.acquire().await {
                Ok(mut conn) => {
                    if let Err(e) = store::slack::save_form(&mut conn, &form_ref, &origin).await {
                        tracing::error!(error = %e, "saving a Slack form's origin failed");
                    }
                }
                Err(e) => tracing::error!(error = %e, "no database connection"),
            }
        }
        let meta = json!({"command": command, "channel": channel_id, "ref": form_ref}).to_string();
        let trigger = payload["trigger_id"].as_str().unwrap_or_default();
        match api {
            Some(api) => {
                if let Err(e) = api.open_view(trigger, &blocks::modal(&form, &meta)).await {
                    tracing::error!(error = %e, "views.open failed");
                }
            }
            None => tracing::warn!("SLACK_BOT_TOKEN unset: cannot open a Slack modal"),
        }
        return None;
    }
    let request_id = format!("slack:btn:{message_ts}:{action_id}:{user_id}");
    let inv = invocation(
        edge.app.now(),
        edge.actor(&user_id, user_name.as_deref()).await,
        &channel_id,
        request_id,
        &command,
        Source::Button,
    );
    let out = edge.app.handle(inv).await;
    if out.replayed {
        return Some(out);
    }
    let Some(api) = api else {
        tracing::warn!("SLACK_BOT_TOKEN unset: cannot answer a Slack button");
        return Some(out);
    };
    if out.refused || out.resolved.is_none() {
        // A refusal (or a reply such as a status card) goes to the presser alone.
        let in_channel = !out.refused && out.reply.visibility == Visibility::Channel;
        if let Err(e) = api
            .respond(&response_url, &first(&out.reply), in_channel, false)
            .await
        {
            tracing::error!(error = %e, "answering a Slack button failed");
        }
        return Some(out);
    }
    let resolved = out.resolved.clone().unwrap_or_default();
    // Every button on it decided by this press, and no header (a digest has one), makes it a
    // decision message as surely as a recorded copy (a ping posted before copies were kept).
    let pressed = payload["message"]["blocks"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let only_spent = !pressed.iter().any(|b| b["type"] == "header")
        && pressed
            .iter()
            .filter(|b| b["type"] == "actions")
            .flat_map(|b| b["elements"].as_array().into_iter().flatten())
            .all(|e| e["value"].as_str().is_some_and(|c| is_spent(&out.spent, c)));
    if let Some(whole) = &out.updated
        && !message_ts.is_empty()
        && (only_spent || is_copy(edge, whole, &channel_id, &message_ts).await)
    {
        // A decision message: its text and blocks both say what was decided.
        let post = first(whole);
        if let Err(e) = api
            .update(&channel_id, &message_ts, &post.text, &post.blocks)
            .await
        {
            tracing::error!(error = %e, "updating the pressed message failed");
        }
        return Some(out);
    }
    let original: Vec<Value> = payload["message"]["blocks"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let text = payload["message"]["text"].as_str().unwrap_or(&resolved);
    let updated = blocks::resolve_spent(&original, &block_id, &resolved, &out.spent);
    let done = if !message_ts.is_empty() && !channel_id.is_empty() && !original.is_empty() {
        api.update(&channel_id, &message_ts, text, &updated).await
    } else {
        let post = Post {
            text: text.to_string(),
            blocks: updated,
        };
        api.respond(&response_url, &post, true, true).await
    };
    if let Err(e) = done {
        tracing::error!(error = %e, "updating the pressed message failed");
    }
    Some(out)
}

/// What a `view_submission` is acked with: nothing (close the modal) or field errors.
pub async fn run_view_submission(edge: &SlackEdge, payload: Value) -> Value {
    let view = &payload["view"];
    let meta: Value = serde_json::from_str(view["private_metadata"].as_str().unwrap_or("{}"))
        .unwrap_or(json!({}));
    let command = meta["command"].as_str().unwrap_or_default().to_string();
    let Some(form) = blocks::form_of(&command) else {
        return json!({});
    };
    let values = view["state"]["values"].clone();
    let line = blocks::command_from_view(&command, &form, &values);
    let user_id = payload["user"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let user_name = payload["user"]["username"]
        .as_str()
        .or(payload["user"]["name"].as_str())
        .map(str::to_string);
    let channel_id = meta["channel"].as_str().unwrap_or_default().to_string();
    // The same submission retried is one request; a corrected one is another.
    let request_id = format!(
        "slack:view:{}:{:016x}",
        view["id"].as_str().unwrap_or_default(),
        fnv(line.as_bytes())
    );
    let inv = invocation(
        edge.app.now(),
        edge.actor(&user_id, user_name.as_deref()).await,
        &channel_id,
        request_id,
        &line,
        Source::Form,
    );
    let out = edge.app.handle(inv).await;
    if out.refused {
        let field = blocks::field_for_error(&form, &values, &out.reply.text);
        return json!({
            "response_action": "errors",
            "errors": { field: blocks::clip(&out.reply.text, 2000) },
        });
    }
    if !out.replayed
        && let Some(api) = &edge.api
    {
        show_form_outcome(edge, api, &meta, &out).await;
        if let Err(e) = api
            .post_ephemeral(&channel_id, &user_id, &first(&out.reply))
            .await
        {
            tracing::error!(error = %e, "answering a Slack form failed");
        }
    }
    json!({})
}

/// After a form took effect, the message whose button opened it shows who did what, in place
/// of that button's row.
async fn show_form_outcome(edge: &SlackEdge, api: &SlackApi, meta: &Value, out: &Outcome) {
    let (Some(resolved), Some(form_ref)) = (&out.resolved, meta["ref"].as_str()) else {
        return;
    };
    let origin = match edge.app.store.pool.acquire().await {
        Ok(mut conn) => store::slack::form(&mut conn, form_ref).await,
        Err(e) => Err(e),
    };
    let origin = match origin {
        Ok(Some(o)) => o,
        Ok(None) => return,
        Err(e) => {
            tracing::error!(error = %e, "loading a Slack form's origin failed");
            return;
        }
    };
    let original = origin.blocks.as_array().cloned().unwrap_or_default();
    let updated = blocks::resolve_spent(&original, &origin.block_id, resolved, &out.spent);
    if let Err(e) = api
        .update(&origin.channel, &origin.ts, &origin.text, &updated)
        .await
    {
        tracing::error!(error = %e, "updating the message behind a form failed");
    }
}

/// A small stable hash (FNV-1a) of a submitted command line, for its request id.
fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// An Events API callback: an `app_mention` runs the text after the mention as a command and
/// answers in the thread; a retried event (same `event_id`) acts once and answers once.
pub async fn run_event(edge: &SlackEdge, envelope: Value) -> Option<Outcome> {
    let event = &envelope["event"];
    if event["type"] != "app_mention" {
        return None;
    }
    let event_id = envelope["event_id"].as_str()?;
    let text = event["text"].as_str().unwrap_or_default();
    // Drop the leading `<@UBOT>` and an optional root word.
    let mut line = text.trim();
    if line.starts_with("<@")
        && let Some(end) = line.find('>')
    {
        line = line[end + 1..].trim();
    }
    let root = &edge.app.settings.command_root;
    if let Some(rest) = line.strip_prefix(root.as_str())
        && (rest.is_empty() || rest.starts_with(' '))
    {
        line = rest.trim();
    }
    let user = event["user"].as_str()?;
    let channel = event["channel"].as_str()?;
    let inv = invocation(
        edge.app.now(),
        edge.actor(user, None).await,
        channel,
        format!("slack:event:{event_id}"),
        line,
        Source::Command,
    );
    let out = edge.app.handle(inv).await;
    if out.replayed {
        return Some(out);
    }
    if let Some(api) = &edge.api {
        let post = first(&out.reply);
        let thread = event["ts"].as_str();
        let res = if out.reply.visibility == Visibility::Channel {
            api.post_message(channel, &post, thread).await.map(|_| ())
        } else {
            api.post_ephemeral(channel, user, &post).await
        };
        if let Err(e) = res {
            tracing::error!(error = %e, "answering a Slack mention failed");
        }
    }
    Some(out)
}
