//! Chat posts to `console:*` channels: printed to standard output, the local channel.
use super::render::render;
use crate::message::Message;
use crate::notify::worker::{Deliverer, DeliveryError};
use crate::store::outbox::OutboxRow;
use futures_util::future::BoxFuture;

pub struct ConsoleChannel;

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
            println!("\n[{channel}]\n{}\n", render(&msg));
            Ok(())
        })
    }
}
