//! The Slack Web API through slack-morphism's hyper client: rate control on (a 429 waits for
//! `Retry-After` and retries), `SLACK_API_URL` for proxies and test fakes, plain http allowed
//! so a loopback fake can stand in for slack.com.
use super::blocks::Post;
use serde::Serialize;
use serde_json::Value;
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;
use std::sync::Arc;
use std::time::Duration;

pub type Connector = SlackClientHyperConnector<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
>;

/// How a Slack call failed, as the outbox and the edge need to know it.
#[derive(Debug)]
pub enum CallError {
    /// Worth trying again later: 429 after the client's own retries, 5xx, network.
    Transient(String),
    /// Slack said no (`channel_not_found`, `invalid_blocks`, …): trying again won't help.
    Refused(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Transient(e) | CallError::Refused(e) => f.write_str(e),
        }
    }
}

fn classify(e: SlackClientError) -> CallError {
    match &e {
        SlackClientError::ApiError(api) => CallError::Refused(format!("slack: {}", api.code)),
        SlackClientError::HttpError(h) if h.status_code.is_client_error() => {
            CallError::Refused(format!("slack http {}", h.status_code))
        }
        SlackClientError::ProtocolError(_) => CallError::Refused(e.to_string()),
        _ => CallError::Transient(e.to_string()),
    }
}

/// A Slack Web API client holding the bot token.
#[derive(Clone)]
pub struct SlackApi {
    pub client: Arc<SlackClient<Connector>>,
    token: SlackApiToken,
}

/// The hyper connector: https for slack.com, http too for a loopback `SLACK_API_URL`.
pub fn connector(api_url: &str, max_retries: usize) -> anyhow::Result<Connector> {
    let builder = match hyper_rustls::HttpsConnectorBuilder::new().with_native_roots() {
        Ok(b) => b,
        Err(e) => {
            // A machine without CA certificates can still reach a plain-http SLACK_API_URL.
            if api_url.starts_with("https:") {
                tracing::warn!(error = %e, "no system TLS root certificates: Slack over https will fail");
            }
            hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(
                rustls::ClientConfig::builder()
                    .with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth(),
            )
        }
    };
    let https = builder.https_or_http().enable_http1().build();
    Ok(SlackClientHyperConnector::with_connector(https)
        .with_slack_api_url(api_url)
        .with_rate_control(
            SlackApiRateControlConfig::new()
                .with_max_retries(max_retries)
                .with_max_delay_timeout(Duration::from_secs(120)),
        ))
}

fn blocks(v: &[Value]) -> Result<Vec<SlackBlock>, CallError> {
    serde_json::from_value(Value::Array(v.to_vec()))
        .map_err(|e| CallError::Refused(format!("blocks do not fit slack-morphism's model: {e}")))
}

fn content(post: &Post) -> Result<SlackMessageContent, CallError> {
    Ok(SlackMessageContent::new()
        .with_text(post.text.clone())
        .with_blocks(blocks(&post.blocks)?))
}

/// A reply through a `response_url`: `in_channel` or `ephemeral`, optionally replacing the
/// message that held the pressed button.
#[derive(Serialize)]
struct ResponseUrlBody<'a> {
    response_type: &'a str,
    text: &'a str,
    blocks: &'a [Value],
    replace_original: bool,
}

impl SlackApi {
    pub fn new(bot_token: &str, api_url: &str) -> anyhow::Result<SlackApi> {
        Ok(SlackApi {
            client: Arc::new(SlackClient::new(connector(api_url, 3)?)),
            token: SlackApiToken::new(bot_token.to_string().into()),
        })
    }

    /// `chat.postMessage`; returns the message's `ts` (the thread for continued posts).
    pub async fn post_message(
        &self,
        channel: &str,
        post: &Post,
        thread_ts: Option<&str>,
    ) -> Result<String, CallError> {
        let mut req = SlackApiChatPostMessageRequest::new(channel.into(), content(post)?);
        if let Some(ts) = thread_ts {
            req = req.with_thread_ts(ts.into());
        }
        let res = self
            .client
            .open_session(&self.token)
            .chat_post_message(&req)
            .await
            .map_err(classify)?;
        Ok(res.ts.0)
    }

    /// `chat.postEphemeral`: only `user` sees it.
    pub async fn post_ephemeral(
        &self,
        channel: &str,
        user: &str,
        post: &Post,
    ) -> Result<(), CallError> {
        let req =
            SlackApiChatPostEphemeralRequest::new(channel.into(), user.into(), content(post)?);
        self.client
            .open_session(&self.token)
            .chat_post_ephemeral(&req)
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// `chat.update`: replaces a message's text and blocks.
    pub async fn update(
        &self,
        channel: &str,
        ts: &str,
        text: &str,
        blocks_json: &[Value],
    ) -> Result<(), CallError> {
        let content = SlackMessageContent::new()
            .with_text(text.to_string())
            .with_blocks(blocks(blocks_json)?);
        let req = SlackApiChatUpdateRequest::new(channel.into(), content, ts.into());
        self.client
            .open_session(&self.token)
            .chat_update(&req)
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// `users.info`: the person behind a member id (needs the `users:read` scope).
    pub async fn user(&self, user_id: &str) -> Result<SlackUser, CallError> {
        let req = SlackApiUsersInfoRequest::new(user_id.into());
        let res = self
            .client
            .open_session(&self.token)
            .users_info(&req)
            .await
            .map_err(classify)?;
        Ok(res.user)
    }

    /// The message at `ts` in `channel` as it is now (`conversations.history`, scope
    /// `channels:history`/`groups:history`): its text and blocks, `None` when it is gone.
    pub async fn message(
        &self,
        channel: &str,
        ts: &str,
    ) -> Result<Option<(String, Vec<Value>)>, CallError> {
        let req = SlackApiConversationsHistoryRequest::new()
            .with_channel(channel.into())
            .with_latest(ts.into())
            .with_inclusive(true)
            .with_limit(1);
        let res = self
            .client
            .open_session(&self.token)
            .conversations_history(&req)
            .await
            .map_err(classify)?;
        let Some(m) = res.messages.into_iter().find(|m| m.origin.ts.0 == ts) else {
            return Ok(None);
        };
        let blocks = serde_json::to_value(m.content.blocks.unwrap_or_default())
            .ok()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default();
        Ok(Some((m.content.text.unwrap_or_default(), blocks)))
    }

    /// `views.open` with the trigger of the button press (valid for three seconds).
    pub async fn open_view(&self, trigger_id: &str, view: &Value) -> Result<(), CallError> {
        let view: SlackView = serde_json::from_value(view.clone())
            .map_err(|e| CallError::Refused(format!("view does not fit the model: {e}")))?;
        let req = SlackApiViewsOpenRequest::new(trigger_id.into(), view);
        self.client
            .open_session(&self.token)
            .views_open(&req)
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Uploads a file's bytes the way Slack now wants it (`files.upload` is retired):
    /// `files.getUploadURLExternal` with its name and length, then the bytes POSTed to the
    /// returned URL. Returns the file id; the file is shared by `complete_upload`, and one
    /// never completed is discarded by Slack, so an upload that is retried posts nothing twice.
    pub async fn upload_file(&self, filename: &str, bytes: Vec<u8>) -> Result<String, CallError> {
        let session = self.client.open_session(&self.token);
        let req = SlackApiFilesGetUploadUrlExternalRequest::new(filename.to_string(), bytes.len());
        let res = session
            .get_upload_url_external(&req)
            .await
            .map_err(classify)?;
        let upload =
            SlackApiFilesUploadViaUrlRequest::new(res.upload_url, bytes, "image/png".to_string());
        session
            .files_upload_via_url(&upload)
            .await
            .map_err(classify)?;
        Ok(res.file_id.0)
    }

    /// `files.completeUploadExternal`: shares an uploaded file in `channel` with the post's
    /// blocks as the message it comes with.
    pub async fn complete_upload(
        &self,
        channel: &str,
        file_id: &str,
        title: &str,
        post: &Post,
    ) -> Result<(), CallError> {
        let file = SlackApiFilesComplete::new(file_id.into()).with_title(title.to_string());
        let req = SlackApiFilesCompleteUploadExternalRequest::new(vec![file])
            .with_channel_id(channel.into())
            .with_blocks(blocks(&post.blocks)?);
        self.client
            .open_session(&self.token)
            .files_complete_upload_external(&req)
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Answers a command or button through its `response_url` (no token needed).
    pub async fn respond(
        &self,
        response_url: &str,
        post: &Post,
        in_channel: bool,
        replace_original: bool,
    ) -> Result<(), CallError> {
        let url: url::Url = response_url
            .parse()
            .map_err(|e| CallError::Refused(format!("bad response_url: {e}")))?;
        let body = ResponseUrlBody {
            response_type: if in_channel {
                "in_channel"
            } else {
                "ephemeral"
            },
            text: &post.text,
            blocks: &post.blocks,
            replace_original,
        };
        let span = tracing::debug_span!("slack response_url");
        let ctx = SlackClientApiCallContext {
            rate_control_params: None,
            token: None,
            tracing_span: &span,
            is_sensitive_url: true,
        };
        let _: Value = self
            .client
            .http_api
            .connector
            .http_post_uri(url, &body, ctx)
            .await
            .map_err(classify)?;
        Ok(())
    }
}
