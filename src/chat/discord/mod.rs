//! The Discord edge: renders messages as embeds and buttons, verifies and answers
//! interactions (gateway or HTTP), registers `/ar` from `commands/`, and delivers `chat`
//! outbox rows to `discord:` channels. It translates; `app::App::handle` decides.
pub mod config;
pub mod custom_id;
pub mod deliver;
pub mod endpoint;
pub mod gateway;
pub mod interactions;
pub mod register;
pub mod render;
pub mod verify;

pub use config::{DiscordConfig, Mode};
pub use interactions::Discord;
