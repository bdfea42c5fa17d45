//! Delivery of outbox rows. A worker claims due rows of the kinds it can deliver, hands each to
//! its deliverer and marks it sent, or failed with a retry time.
pub mod email;
pub mod send_check;
pub mod sms;
pub mod templates;
pub mod webhook;
pub mod worker;

pub use worker::{Deliverer, Deliverers, drain_once, run_loop};
