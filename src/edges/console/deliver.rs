//! Chat posts to `console:*` channels: printed to standard output, the local channel.
use super::render::render_with;
use crate::domain::roles::Role;
use crate::message::{Mention, Message};
use crate::notify::worker::{Deliverer, DeliveryError};
use crate::store::{Store, outbox::OutboxRow, people};
use futures_util::future::BoxFuture;

/// Prints posts; with a store, a ping names the console people it reaches.
pub struct ConsoleChannel {
    pub store: Option<Store>,
}

impl ConsoleChannel {
    /// The console names (their user ids) each mention reaches.
    async fn names(&self, msg: &Message) -> Vec<(Mention, Vec<String>)> {
        let mut out = Vec::new();
        let Some(store) = &self.store else {
            return out;
        };
        let Ok(mut conn) = store.pool.acquire().await else {
            return out;
        };
        for m in &msg.mentions {
            let (role, agency) = match m {
                Mention::Managers => (Role::Manager, None),
                Mention::Finance => (Role::Finance, None),
                Mention::Agency { name } => (Role::Agency, Some(name.as_str())),
            };
            let names = people::holders(&mut conn, "console", role, agency)
                .await
                .unwrap_or_default();
            out.push((m.clone(), names));
        }
        out
    }
}

impl Deliverer for ConsoleChannel {
    fn accepts(&self, row: &OutboxRow) -> bool {
        row.kind == "chat"
            && row.payload["channel"]
                .as_str()
                .is_some_and(|c| c.starts_with("console:"))
    }

    fn deliver<'a>(&'a self, row: &'a OutboxRow) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            let msg: Message = serde_json::from_value(row.payload["message"].clone())
                .map_err(|e| DeliveryError::Permanent(format!("bad chat payload: {e}")))?;
            let channel = row.payload["channel"].as_str().unwrap_or("console:local");
            let names = self.names(&msg).await;
            let text = render_with(&msg, &|m| {
                names
                    .iter()
                    .find(|(k, _)| k == m)
                    .map(|(_, n)| n.clone())
                    .unwrap_or_default()
            });
            let chart = match row.payload.get("chart") {
                Some(chart) => format!("\nChart: {}\n", write_chart(chart)?.display()),
                None => String::new(),
            };
            println!("\n[{channel}]\n{text}\n{chart}");
            Ok(())
        })
    }
}

/// Where the console's charts go: `DUNBOT_CHART_DIR`, else `dunbot-charts` in the system's
/// temporary directory.
pub fn chart_dir() -> std::path::PathBuf {
    crate::config::var("DUNBOT_CHART_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("dunbot-charts"))
}

/// Draws a post's chart and writes it into the chart folder; returns the path printed.
fn write_chart(chart: &serde_json::Value) -> Result<std::path::PathBuf, DeliveryError> {
    let (file, png) =
        crate::edges::weekly_scheduler::draw(chart).map_err(DeliveryError::Permanent)?;
    let dir = chart_dir();
    let path = dir.join(file);
    std::fs::create_dir_all(&dir)
        .and_then(|_| std::fs::write(&path, png))
        .map_err(|e| DeliveryError::Retry(format!("writing {}: {e}", path.display())))?;
    Ok(path)
}

/// Case-file threads on the console: the account's card line as it stands now, then each
/// event indented under it (a terminal has no threads to reply in).
#[derive(Default)]
pub struct ConsoleThreads;

type Posted = crate::app::case_threads::Posted;
type PostError = crate::app::case_threads::PostError;

impl crate::app::case_threads::ThreadChannel for ConsoleThreads {
    fn serves(&self, channel: &str) -> bool {
        channel.starts_with("console:")
    }

    fn post_card<'a>(
        &'a self,
        channel: &'a str,
        card: &'a Message,
        _nonce: &'a str,
    ) -> BoxFuture<'a, Result<Posted, PostError>> {
        println!("\n[{channel}] {}", card.text);
        Box::pin(async move {
            Ok(Posted {
                card_id: "console".into(),
                thread_id: "console".into(),
            })
        })
    }

    fn post_in_thread<'a>(
        &'a self,
        _channel: &'a str,
        _at: &'a Posted,
        msg: &'a Message,
        _nonce: &'a str,
    ) -> BoxFuture<'a, Result<String, PostError>> {
        println!("{}\n", crate::domain::case_thread::indented(&msg.text));
        Box::pin(async move { Ok("console".into()) })
    }

    fn edit_card<'a>(
        &'a self,
        channel: &'a str,
        _at: &'a Posted,
        card: &'a Message,
    ) -> BoxFuture<'a, Result<(), PostError>> {
        println!("\n[{channel}] {}", card.text);
        Box::pin(async move { Ok(()) })
    }
}
