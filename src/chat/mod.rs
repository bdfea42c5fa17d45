//! The platform-neutral message model, and one renderer per platform.
pub mod console;
pub mod discord;
pub mod forms;
pub mod message;
pub mod slack;

pub use message::{Block, Button, ButtonStyle, Form, FormField, Mention, Message, Visibility};
