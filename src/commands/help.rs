//! Help text, generated from the command files.
use super::spec::{CommandSpec, Registry};
use crate::domain::roles::Role;

/// `ar promise <account> <amount> <date> [note] [--force]`
pub fn usage(spec: &CommandSpec, root: &str) -> String {
    let mut s = format!("/{root} {}", spec.name);
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
pub fn help_index(reg: &Registry, root: &str) -> String {
    let mut out = format!("dunbot commands (type `/{root} help <command>` for details):\n");
    for c in &reg.commands {
        out.push_str(&format!("  {:<48} {}\n", usage(c, root), c.summary));
    }
    out.trim_end().to_string()
}

/// Everything about one command.
pub fn help_for(spec: &CommandSpec, root: &str) -> String {
    let mut out = format!(
        "{}\n{}\nUsage: {}\n",
        spec.summary,
        spec.description,
        usage(spec, root)
    );
    for o in &spec.options {
        out.push_str(&format!("  {:<10} {}\n", o.name, o.help));
    }
    for f in &spec.flags {
        out.push_str(&format!("  --{:<8} {}\n", f.name, f.help));
    }
    out.push_str(&format!(
        "Example: /{root} {}\nWho may run it: {}",
        spec.example,
        who(spec)
    ));
    out
}
