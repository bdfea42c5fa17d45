//! Stripe, the first native billing connector: signed webhooks applied once each, and a
//! resumable backfill through Stripe's list endpoints (`dunbot sync stripe`, and `serve`
//! every `DUNBOT_SYNC_EVERY`). The mapping is in the README's "Stripe" section.
pub mod apply;
pub mod map;
pub mod signature;
pub mod sync;
pub mod webhook;
