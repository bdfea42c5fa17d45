//! The command surface, declared once in `commands/*.toml` and read from there by the parser,
//! the help text, and the platform registrations.
mod help;
mod parse;
mod spec;

pub use help::{Typing, help_for, help_index, manage_root, usage};
pub use parse::{Parsed, is_forbidden_control, parse_line, tokenize};
pub use spec::{CommandSpec, FlagSpec, OptionKind, OptionSpec, Registry, registry};
