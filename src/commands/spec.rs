//! Typed view of one `commands/*.toml` file.
use crate::domain::roles::Role;
use serde::Deserialize;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptionKind {
    Account,
    Invoice,
    AccountOrInvoice,
    Amount,
    Date,
    Choice,
    Text,
    Offer,
    Agency,
    User,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionSpec {
    pub name: String,
    pub kind: OptionKind,
    #[serde(default)]
    pub required: bool,
    /// Takes the rest of the line (free text); only the last option may.
    #[serde(default)]
    pub rest: bool,
    #[serde(default)]
    pub choices: Vec<String>,
    /// Optional on the command line but asked for in a button's form (`ar plan ACME-001`
    /// shows the plan; the Re-plan button's form needs the total, count, cadence and date).
    #[serde(default)]
    pub form: bool,
    /// Values a form offers as a pick list (a select on Slack) for a free-text option whose
    /// command reads natural forms too (`call`'s outcome); typing stays free.
    #[serde(default)]
    pub suggest: Vec<String>,
    pub help: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagSpec {
    pub name: String,
    pub help: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandSpec {
    pub name: String,
    pub summary: String,
    pub description: String,
    /// Who may run it; admins always may.
    #[serde(default)]
    pub roles: Vec<Role>,
    /// Anyone may run it, with or without a role.
    #[serde(default)]
    pub anyone: bool,
    /// Changes nothing (a view): its action row records who viewed what, not the whole reply,
    /// and a retried request is simply answered again.
    #[serde(default)]
    pub read_only: bool,
    pub example: String,
    #[serde(default)]
    pub options: Vec<OptionSpec>,
    #[serde(default)]
    pub flags: Vec<FlagSpec>,
}

impl CommandSpec {
    pub fn option(&self, name: &str) -> Option<&OptionSpec> {
        self.options.iter().find(|o| o.name == name)
    }

    /// Only managers and admins may run it, so Discord lists it under `/<root>-manage`, which a
    /// server hides from everyone else. Derived from `roles` so the split cannot drift from
    /// who may actually run it.
    pub fn for_managers(&self) -> bool {
        !self.anyone
            && self
                .roles
                .iter()
                .all(|r| matches!(r, Role::Manager | Role::Finance | Role::Admin))
    }

    fn validate(&self) -> Result<(), String> {
        let mut optional_seen = false;
        for (i, o) in self.options.iter().enumerate() {
            if o.rest && i + 1 != self.options.len() {
                return Err(format!(
                    "{}: only the last option may take the rest",
                    self.name
                ));
            }
            if o.required && optional_seen {
                return Err(format!(
                    "{}: required option {} after an optional one",
                    self.name, o.name
                ));
            }
            optional_seen |= !o.required;
            if (o.kind == OptionKind::Choice) == o.choices.is_empty() {
                return Err(format!(
                    "{}: choices belong to (and only to) choice options",
                    self.name
                ));
            }
        }
        Ok(())
    }
}

/// All commands, sorted by name.
#[derive(Debug)]
pub struct Registry {
    pub commands: Vec<CommandSpec>,
}

impl Registry {
    /// Parses the given `(file name, TOML)` pairs; a bad file is a build-time mistake, so the
    /// error names the file.
    pub fn from_files(files: &[(&str, &str)]) -> Result<Registry, String> {
        let mut commands = Vec::new();
        for (file, text) in files {
            let spec: CommandSpec =
                toml::from_str(text).map_err(|e| format!("commands/{file}: {e}"))?;
            if format!("{}.toml", spec.name) != *file {
                return Err(format!("commands/{file}: name must match the file name"));
            }
            spec.validate()
                .map_err(|e| format!("commands/{file}: {e}"))?;
            commands.push(spec);
        }
        commands.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Registry { commands })
    }

    pub fn get(&self, name: &str) -> Option<&CommandSpec> {
        self.commands.iter().find(|c| c.name == name)
    }
}

const FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/command_files.rs"));

/// The commands compiled into this binary from `commands/`.
pub fn registry() -> &'static Registry {
    static REG: OnceLock<Registry> = OnceLock::new();
    REG.get_or_init(|| Registry::from_files(FILES).unwrap_or_else(|e| panic!("{e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_file_parses_and_is_valid() {
        let reg = registry();
        assert!(reg.commands.len() >= 14, "{} commands", reg.commands.len());
        for name in [
            "remind", "promise", "flag", "unflag", "refer", "offer", "settle", "help",
        ] {
            assert!(reg.get(name).is_some(), "missing {name}");
        }
    }

    #[test]
    fn exactly_the_commands_only_managers_or_admins_may_run_are_for_managers() {
        let mut managers: Vec<&str> = registry()
            .commands
            .iter()
            .filter(|c| c.for_managers())
            .map(|c| c.name.as_str())
            .collect();
        managers.sort();
        assert_eq!(
            managers,
            ["plan-decide", "refer", "role", "settle", "unflag", "waive"]
        );
        for c in &registry().commands {
            let others = c.anyone
                || c.roles
                    .iter()
                    .any(|r| matches!(r, Role::Collector | Role::Agency));
            assert_eq!(c.for_managers(), !others, "{}", c.name);
        }
    }

    #[test]
    fn a_rest_option_that_is_not_last_is_rejected() {
        let bad = r#"
            name = "x"
            summary = "s"
            description = "d"
            example = "x a b"
            [[options]]
            name = "a"
            kind = "text"
            rest = true
            help = "h"
            [[options]]
            name = "b"
            kind = "text"
            help = "h"
        "#;
        let err = Registry::from_files(&[("x.toml", bad)]).unwrap_err();
        assert!(err.contains("only the last option"), "{err}");
    }
}
