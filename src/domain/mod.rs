//! Pure collections logic: no I/O, no database, no clock. Everything here takes the
//! as-of date as an argument so any day can be recomputed (and caught up) afresh.
pub mod aging;
pub mod approval;
pub mod calendar;
pub mod call;
pub mod case_thread;
pub mod confirm_receipt;
pub mod cron;
pub mod dates;
pub mod invoice_change;
pub mod late_fee;
pub mod metrics;
pub mod money;
pub mod plan;
pub mod policy;
pub mod priority;
pub mod promise;
pub mod reminder;
pub mod roles;
pub mod send_window;
pub mod settlement;
pub mod sms;
pub mod spent;
pub mod timeline;
pub mod weekly;
