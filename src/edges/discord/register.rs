//! The `/ar` registration, generated from `commands/`: one subcommand per file, with typed
//! options (accounts autocomplete from the ledger, offers are integers, choices are choices).
//!
//! Discord's `default_member_permissions` applies to a whole top-level command, not to one
//! subcommand. So the subcommands only managers and admins may run (`CommandSpec::for_managers`,
//! from the roles in `commands/`) are registered under a second command,
//! `/ar-manage`, carrying `default_member_permissions` = Manage Server: hidden from ordinary
//! members by default, and a server admin can grant it to the manager role under Server
//! Settings → Integrations. It is only a first layer: the core checks the presser's roles on
//! every use, whichever command or button it came from.
use super::render::truncate;
use crate::commands::{CommandSpec, OptionKind, Registry, manage_root};
use serde_json::{Value, json};

/// Discord's MANAGE_GUILD permission bit, as the string Discord expects.
pub const MANAGER_PERMISSIONS: &str = "32";

/// The commands to bulk-overwrite (guild or global): `/ar` and `/ar-manage`.
pub fn commands(registry: &Registry, root: &str) -> Vec<Value> {
    let (manager, everyone): (Vec<&CommandSpec>, Vec<&CommandSpec>) =
        registry.commands.iter().partition(|c| c.for_managers());
    let mut out = vec![json!({
        "name": root, "type": 1, "dm_permission": false,
        "description": "Accounts receivable: reminders, promises, flags, offers, the digest",
        "options": everyone.iter().map(|c| subcommand(c)).collect::<Vec<_>>(),
    })];
    if !manager.is_empty() {
        out.push(json!({
            "name": manage_root(root), "type": 1, "dm_permission": false,
            "description": "Accounts receivable, for managers: settle offers, refer, roles",
            "default_member_permissions": MANAGER_PERMISSIONS,
            "options": manager.iter().map(|c| subcommand(c)).collect::<Vec<_>>(),
        }));
    }
    out
}

fn subcommand(spec: &CommandSpec) -> Value {
    let mut options: Vec<Value> = spec
        .options
        .iter()
        .map(|o| {
            let mut v = json!({
                "name": o.name, "description": truncate(&o.help, 100), "required": o.required,
                "type": match o.kind {
                    OptionKind::Offer => 4,
                    OptionKind::User => 6,
                    _ => 3,
                },
            });
            match o.kind {
                OptionKind::Account | OptionKind::AccountOrInvoice => {
                    v["autocomplete"] = json!(true)
                }
                OptionKind::Offer => v["min_value"] = json!(1),
                OptionKind::Choice => {
                    v["choices"] = o
                        .choices
                        .iter()
                        .map(|c| json!({"name": c, "value": c}))
                        .collect()
                }
                _ => {}
            }
            v
        })
        .collect();
    options.extend(spec.flags.iter().map(|f| {
        json!({"name": f.name, "description": truncate(&f.help, 100), "type": 5, "required": false})
    }));
    json!({
        "type": 1, "name": spec.name, "description": truncate(&spec.summary, 100),
        "options": options,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::registry;
    use crate::domain::roles::Role;

    #[test]
    fn every_command_is_registered_once_with_typed_options() {
        let cmds = commands(registry(), "ar");
        assert_eq!(cmds.len(), 2);
        let subs = |i: usize| -> Vec<String> {
            cmds[i]["options"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["name"].as_str().unwrap().to_string())
                .collect()
        };
        let (everyone, manager) = (subs(0), subs(1));
        assert_eq!(everyone.len() + manager.len(), registry().commands.len());
        assert!(everyone.contains(&"promise".to_string()));
        assert!(manager.contains(&"settle".to_string()));
        assert!(!everyone.contains(&"settle".to_string()));
        assert_eq!(cmds[1]["name"], "ar-manage");
        assert_eq!(cmds[1]["default_member_permissions"], "32");
        assert!(cmds[0].get("default_member_permissions").is_none());

        let sub = |i: usize, name: &str| -> Value {
            cmds[i]["options"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["name"] == name)
                .unwrap()
                .clone()
        };
        let promise = sub(0, "promise");
        let opts = promise["options"].as_array().unwrap();
        assert_eq!(opts[0]["name"], "account");
        assert_eq!(opts[0]["autocomplete"], true);
        assert_eq!(opts[1]["name"], "amount");
        assert_eq!(opts[1]["type"], 3);
        assert_eq!(opts[2]["name"], "date");
        assert_eq!(opts[3]["required"], false);
        let settle = sub(1, "settle");
        assert_eq!(settle["options"][0]["type"], 4);
        assert_eq!(settle["options"][1]["choices"][0]["value"], "approve");
        let remind = sub(0, "remind");
        assert!(
            remind["options"]
                .as_array()
                .unwrap()
                .iter()
                .any(|o| o["name"] == "force" && o["type"] == 5)
        );
        // The split follows who may run each command, over the whole registry.
        for spec in &registry().commands {
            let under_manage = manager.contains(&spec.name);
            assert_eq!(under_manage, spec.for_managers(), "{}", spec.name);
            assert_eq!(
                everyone.contains(&spec.name),
                !under_manage,
                "{}",
                spec.name
            );
            let managers_only = !spec.anyone
                && spec
                    .roles
                    .iter()
                    .all(|r| matches!(r, Role::Manager | Role::Finance | Role::Admin));
            assert_eq!(under_manage, managers_only, "{}", spec.name);
        }
        for name in ["unflag", "settle", "refer", "role"] {
            assert!(manager.contains(&name.to_string()), "{name}");
        }
        for c in &cmds {
            for s in c["options"].as_array().unwrap() {
                assert!(s["description"].as_str().unwrap().chars().count() <= 100);
                let mut seen_optional = false;
                for o in s["options"].as_array().unwrap() {
                    assert!(o["description"].as_str().unwrap().chars().count() <= 100);
                    let required = o["required"].as_bool().unwrap();
                    assert!(!(required && seen_optional), "{}", s["name"]);
                    seen_optional |= !required;
                }
            }
        }
    }
}
