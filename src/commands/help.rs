//! Help text, generated from the command files.
use super::spec::{CommandSpec, Registry};
use crate::domain::roles::Role;

/// The second top-level command, for the managers' subcommands on platforms that split them
/// off (Discord: `/ar-manage`).
pub fn manage_root(root: &str) -> String {
    format!("{root}-manage")
}

/// How people type a command where they are: everything under `/<root>`, or, where the
/// platform registers the managers' commands apart (Discord), those under `/<root>-manage`.
/// Hints and help render through it so they name what the person can actually type.
#[derive(Debug, Clone, Copy)]
pub struct Typing<'a> {
    pub root: &'a str,
    pub split_manage: bool,
}

impl<'a> From<&'a str> for Typing<'a> {
    fn from(root: &'a str) -> Self {
        Typing {
            root,
            split_manage: false,
        }
    }
}

impl<'a> From<&'a String> for Typing<'a> {
    fn from(root: &'a String) -> Self {
        Typing::from(root.as_str())
    }
}

impl Typing<'_> {
    /// `ar`, or `ar-manage` for a manager's command where the platform splits them.
    pub fn root_of(&self, spec: &CommandSpec) -> String {
        if self.split_manage && spec.for_managers() {
            manage_root(self.root)
        } else {
            self.root.to_string()
        }
    }

    /// `/ar promise`, `/ar-manage settle`: the command `name` as it is typed here.
    pub fn command(&self, name: &str) -> String {
        match super::registry().get(name) {
            Some(spec) => format!("/{} {name}", self.root_of(spec)),
            None => format!("/{} {name}", self.root),
        }
    }
}

/// `ar promise <account> <amount> <date> [note] [--force]`
pub fn usage<'a>(spec: &CommandSpec, typing: impl Into<Typing<'a>>) -> String {
    let typing = typing.into();
    let mut s = format!("/{} {}", typing.root_of(spec), spec.name);
    for o in &spec.options {
        let shown = if o.kind == super::OptionKind::Choice {
            o.choices.join("|")
        } else {
            o.name.clone()
        };
        if o.required {
            s.push_str(&format!(" <{shown}>"));
        } else {
            s.push_str(&format!(" [{shown}]"));
        }
    }
    for f in &spec.flags {
        s.push_str(&format!(" [--{}]", f.name));
    }
    s
}

fn who(spec: &CommandSpec) -> String {
    if spec.anyone {
        return "anyone".into();
    }
    let mut roles: Vec<&str> = spec.roles.iter().map(Role::key).collect();
    if !spec.roles.contains(&Role::Admin) {
        roles.push("admin");
    }
    roles.join(", ")
}

/// One line per command.
/// The commands `may` lets the person run (an agency is not shown the team's commands).
pub fn help_index<'a>(
    reg: &Registry,
    typing: impl Into<Typing<'a>>,
    may: impl Fn(&CommandSpec) -> bool,
) -> String {
    let typing = typing.into();
    let mut out = format!(
        "dunbot commands you may run (type `{} <command>` for details):\n",
        typing.command("help")
    );
    for c in reg.commands.iter().filter(|c| may(c)) {
        out.push_str(&format!("  {:<48} {}\n", usage(c, typing), c.summary));
    }
    out.trim_end().to_string()
}

/// Everything about one command.
pub fn help_for<'a>(spec: &CommandSpec, typing: impl Into<Typing<'a>>) -> String {
    let typing = typing.into();
    let mut out = format!(
        "{}\n{}\nUsage: {}\n",
        spec.summary,
        spec.description,
        usage(spec, typing)
    );
    for o in &spec.options {
        out.push_str(&format!("  {:<10} {}\n", o.name, o.help));
    }
    for f in &spec.flags {
        out.push_str(&format!("  --{:<8} {}\n", f.name, f.help));
    }
    out.push_str(&format!(
        "Example: /{} {}\nWho may run it: {}",
        typing.root_of(spec),
        spec.example,
        who(spec)
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::registry;

    #[test]
    fn discord_names_the_managers_commands_under_the_manage_root() {
        let discord = Typing {
            root: "ar",
            split_manage: true,
        };
        assert_eq!(discord.command("settle"), "/ar-manage settle");
        assert_eq!(discord.command("unflag"), "/ar-manage unflag");
        assert_eq!(discord.command("promise"), "/ar promise");
        assert_eq!(Typing::from("ar").command("settle"), "/ar settle");
        let settle = registry().get("settle").unwrap();
        assert!(usage(settle, discord).starts_with("/ar-manage settle <offer>"));
        assert!(help_for(settle, discord).contains("Example: /ar-manage settle 12"));
        let index = help_index(registry(), discord, |_| true);
        assert!(index.contains("/ar-manage role"), "{index}");
        assert!(index.contains("/ar remind"), "{index}");
        assert!(!help_index(registry(), "ar", |_| true).contains("-manage"));
    }

    #[test]
    fn the_index_lists_only_the_commands_the_person_may_run() {
        use crate::domain::roles::{Role, permits};
        let agency = [Role::Agency];
        let index = help_index(registry(), "ar", |c| c.anyone || permits(&agency, &c.roles));
        assert!(index.contains("/ar offer"), "{index}");
        assert!(index.contains("/ar account"), "{index}");
        assert!(!index.contains("/ar remind"), "{index}");
        assert!(!index.contains("/ar settle"), "{index}");
    }
}
