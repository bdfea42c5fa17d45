//! Integration tests against the real Postgres. One binary keeps linking cheap.
mod smtp_server;
mod support;

mod actions_log;
mod autoplan;
mod commands;
mod discord_deliver;
mod discord_e2e;
mod discord_gateway;
mod discord_http;
mod discord_serve;
mod email;
mod fake_discord;
mod fake_slack;
mod idempotency;
mod imports;
mod lifecycle;
mod scheduler;
mod serve;
mod slack_blocks;
mod slack_deliver;
mod slack_e2e;
mod slack_http;
mod slack_serve;
mod slack_socket;
mod slack_support;
mod webhook;
