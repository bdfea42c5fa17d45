//! Digest subscriptions per channel, with a cron expression and a time zone. Each channel's
//! digest for a local date posts exactly once across replicas and restarts; one missed while
//! dunbot was down is posted late, once.
pub mod cron;
mod runner;

pub use runner::{last_fire, run_loop, tick};
