//! dunbot: a chat-ops collections bot for accounts-receivable teams. One core (`app`, `domain`,
//! `digest`), one store (`store`, the only SQL), thin edges (`console`, later Slack and Discord).
pub mod app;
pub mod chat;
pub mod clock;
pub mod commands;
pub mod config;
pub mod console;
pub mod db;
pub mod demo;
pub mod digest;
pub mod domain;
pub mod http;
pub mod import;
pub mod notify;
pub mod schedule;
pub mod serve;
pub mod store;
