//! Buttons that complete a command through a form: the form's fields are the command's
//! options the button does not supply, read from `commands/`.
use super::{Button, ButtonStyle, Form, FormField};
use crate::commands::{OptionKind, registry};

/// A button running `command`; when the command still lacks options, a form asks for them.
pub fn button(label: &str, command: &str, style: ButtonStyle) -> Button {
    Button {
        label: label.into(),
        command: command.into(),
        style,
        form: form_for(command),
    }
}

fn form_for(command: &str) -> Option<Form> {
    let words = crate::commands::tokenize(command).ok()?;
    let spec = registry().get(words.first()?)?;
    let given = words.len() - 1;
    let fields: Vec<FormField> = spec
        .options
        .iter()
        .skip(given)
        .filter(|o| o.kind != OptionKind::Choice || o.required)
        .map(|o| FormField {
            name: o.name.clone(),
            label: capitalised(&o.name),
            kind: match o.kind {
                OptionKind::Amount => "amount",
                OptionKind::Date => "date",
                _ => "text",
            }
            .into(),
            required: o.required || o.form,
            placeholder: o.help.clone(),
            choices: o.suggest.clone(),
        })
        .collect();
    if fields.iter().any(|f| f.required) {
        Some(Form {
            title: spec.summary.clone(),
            fields,
        })
    } else {
        None
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// The command line a submitted form runs: the button's command, then each field's value in
/// order (quoted so spaces survive). Empty optional fields are left out.
pub fn command_from_form(
    button_command: &str,
    form: &Form,
    values: &dyn Fn(&str) -> Option<String>,
) -> String {
    let mut line = button_command.to_string();
    for f in &form.fields {
        if let Some(v) = values(&f.name).filter(|v| !v.trim().is_empty()) {
            line.push(' ');
            line.push_str(
                &shlex::try_quote(v.trim())
                    .map(|c| c.into_owned())
                    .unwrap_or_else(|_| v.replace('"', "")),
            );
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_promise_button_asks_for_amount_date_and_note() {
        let b = button("Log promise", "promise ACME-001", ButtonStyle::Primary);
        let form = b.form.expect("promise needs a form");
        let names: Vec<&str> = form.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["amount", "date", "note"]);
        assert_eq!(form.fields[1].kind, "date");
        assert!(!form.fields[2].required);
        let line = command_from_form(&b.command, &form, &|n| match n {
            "amount" => Some("1,250.00".into()),
            "date" => Some("2026-12-05".into()),
            _ => Some("by wire, Jane".into()),
        });
        assert_eq!(
            line,
            "promise ACME-001 '1,250.00' 2026-12-05 'by wire, Jane'"
        );
    }

    #[test]
    fn a_complete_command_needs_no_form() {
        assert!(
            button("Approve", "settle 3 approve", ButtonStyle::Primary)
                .form
                .is_none()
        );
        assert!(
            button("Remind", "remind ACME-001", ButtonStyle::Default)
                .form
                .is_none()
        );
    }
}
