//! Integration tests against the real Postgres. One binary keeps linking cheap.
mod support;

mod actions_log;
