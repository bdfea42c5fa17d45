//! The edges: each turns the outside world into `Invocation`s for the core and renders the
//! `Outcome`s it gets back, or delivers the core's outbox rows to its platform. No business
//! rule lives here.
pub mod api;
pub mod console;
pub mod discord;
pub mod http;
pub mod scheduler;
pub mod serve;
pub mod slack;
pub mod stripe;
pub mod twilio;
pub mod weekly_scheduler;
