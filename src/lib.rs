//! dunbot: a chat-ops collections bot for accounts-receivable teams.
//!
//! Layers, top to bottom; a module uses only the ones below it:
//! - `edges`: the outside world in, outcomes out: the console, Slack, Discord, the HTTP routes,
//!   the digest scheduler, and `serve`, which runs them all;
//! - the core, `app` (one write path per command) and `digest`; `notify`, the outbox worker and
//!   its email and webhook deliverers;
//! - `message` (the platform-neutral model the core speaks) and `commands` (the declarations in
//!   `commands/`);
//! - `store` (the only SQL), `import` (CSV files read and checked), `domain` (pure rules),
//!   `config`, `clock`, `db`.
pub mod app;
pub mod chart;
pub mod clock;
pub mod commands;
pub mod config;
pub mod db;
pub mod digest;
pub mod domain;
pub mod edges;
pub mod import;
pub mod message;
pub mod notify;
pub mod store;
