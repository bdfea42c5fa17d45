//! Integration tests against the real Postgres. One binary keeps linking cheap.
mod smtp_server;
mod support;

mod actions_log;
mod autoplan;
mod commands;
mod email;
mod idempotency;
mod imports;
mod lifecycle;
mod scheduler;
mod webhook;
