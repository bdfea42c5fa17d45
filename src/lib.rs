//! dunbot: a chat-ops collections bot for accounts-receivable teams.
pub mod domain;
