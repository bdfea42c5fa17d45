//! Turns a typed line (`/ar promise ACME-001 1,250 fri "by wire"`) into a spec and raw
//! arguments. Checks the shape (count, choices, flags); the app checks meaning (does the
//! account exist, is the amount within the balance) because that needs the ledger.
use super::help::{Typing, manage_root};
use super::spec::{CommandSpec, OptionKind, Registry};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone)]
pub struct Parsed<'a> {
    pub spec: &'a CommandSpec,
    pub args: BTreeMap<String, String>,
    pub flags: BTreeSet<String>,
}

impl Parsed<'_> {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.args.get(name).map(String::as_str)
    }
    pub fn flag(&self, name: &str) -> bool {
        self.flags.contains(name)
    }
}

/// Shell-like words: quotes group, a lone word splits on spaces. Smart quotes from chat
/// clients count as quotes.
pub fn tokenize(line: &str) -> Result<Vec<String>, String> {
    let normalized: String = line
        .chars()
        .map(|c| match c {
            '\u{201C}' | '\u{201D}' => '"',
            '\u{2018}' | '\u{2019}' => '\'',
            c => c,
        })
        .collect();
    shlex::split(&normalized)
        .ok_or_else(|| "a quote is not closed: close it, or leave quotes out".to_string())
}

/// Parses a line; `root` is the top-level command name (`ar`), optional in the line, as is a
/// leading `/`. Errors are the text to show the person, naming commands as `typing` types them.
pub fn parse_line<'a, 't>(
    reg: &'a Registry,
    typing: impl Into<Typing<'t>>,
    line: &str,
) -> Result<Parsed<'a>, String> {
    let typing = typing.into();
    let root = typing.root;
    if let Some(c) = line.chars().find(|c| is_forbidden_control(*c)) {
        return Err(format!(
            "Your command contains an invisible control character (U+{:04X}), often left by \
             copying from another program; nothing was changed. Retype the command, e.g. `/{root} help`.",
            c as u32
        ));
    }
    let mut words = tokenize(line.trim())?;
    if let Some(first) = words.first() {
        let bare = first.trim_start_matches('/');
        if bare.eq_ignore_ascii_case(root)
            || (typing.split_manage && bare.eq_ignore_ascii_case(&manage_root(root)))
        {
            words.remove(0);
        } else if first.starts_with('/') {
            words[0] = bare.to_string();
        }
    }
    if words.is_empty() {
        return Err(format!("Type a command, e.g. `/{root} help`."));
    }
    let name = words.remove(0).to_ascii_lowercase();
    let spec = reg.get(&name).ok_or_else(|| {
        // The command sharing the longest prefix (at least two letters) with what was typed.
        let shared = |c: &&crate::commands::spec::CommandSpec| {
            c.name
                .chars()
                .zip(name.chars())
                .take_while(|(a, b)| a == b)
                .count()
        };
        let close = reg
            .commands
            .iter()
            .filter(|c| shared(c) >= 2.min(name.len()))
            .rev()
            .max_by_key(shared)
            .map(|c| format!(" Did you mean `{}`?", typing.command(&c.name)))
            .unwrap_or_default();
        format!(
            "There is no command `{name}`.{close} Type `{}` for the list.",
            typing.command("help")
        )
    })?;

    let mut flags = BTreeSet::new();
    let mut positional = Vec::new();
    for w in words {
        if let Some(flag) = w.strip_prefix("--") {
            if spec.flags.iter().any(|f| f.name == flag) {
                flags.insert(flag.to_string());
                continue;
            }
            if !flag.is_empty()
                && !flag.starts_with('-')
                && flag.chars().all(|c| c.is_ascii_alphabetic())
            {
                return Err(usage_error(
                    spec,
                    typing,
                    &format!("`--{flag}` is not an option of `{}`.", spec.name),
                ));
            }
        }
        positional.push(w);
    }

    let mut args = BTreeMap::new();
    let mut rest = positional.into_iter().peekable();
    for (i, opt) in spec.options.iter().enumerate() {
        // An optional choice may be left out before a later choice the word belongs to:
        // `remind ACME-001 sms` has no tone and the channel sms.
        if opt.kind == OptionKind::Choice
            && !opt.required
            && let Some(next) = rest.peek()
        {
            let lower = next.to_ascii_lowercase();
            if !opt.choices.contains(&lower)
                && spec.options[i + 1..]
                    .iter()
                    .any(|o| o.kind == OptionKind::Choice && o.choices.contains(&lower))
            {
                continue;
            }
        }
        let value = if opt.rest {
            let words: Vec<String> = rest.by_ref().collect();
            (!words.is_empty()).then(|| words.join(" "))
        } else {
            rest.next()
        };
        match value {
            Some(v) => {
                if opt.kind == OptionKind::Choice {
                    let lower = v.to_ascii_lowercase();
                    if !opt.choices.contains(&lower) {
                        return Err(usage_error(
                            spec,
                            typing,
                            &format!(
                                "`{v}` is not a valid {}: use {}.",
                                opt.name,
                                opt.choices.join(", ")
                            ),
                        ));
                    }
                    args.insert(opt.name.clone(), lower);
                } else {
                    args.insert(opt.name.clone(), v);
                }
            }
            None if opt.required => {
                return Err(usage_error(
                    spec,
                    typing,
                    &format!("Missing the {}: {}.", opt.name, opt.help),
                ));
            }
            None => {}
        }
    }
    let extra: Vec<String> = rest.collect();
    if !extra.is_empty() {
        return Err(usage_error(
            spec,
            typing,
            &format!(
                "Too many words: `{}`. Put text with spaces in quotes.",
                extra.join(" ")
            ),
        ));
    }
    Ok(Parsed { spec, args, flags })
}

/// Control characters other than tab and line breaks (which read as spaces): they cannot be
/// stored (Postgres refuses NUL in text) and nobody types them on purpose.
pub fn is_forbidden_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

fn usage_error(spec: &CommandSpec, typing: Typing<'_>, problem: &str) -> String {
    format!(
        "{problem}\nUsage: `{}`  e.g. `/{} {}`",
        super::usage(spec, typing),
        typing.root_of(spec),
        spec.example
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::registry;

    fn parse(line: &str) -> Result<Parsed<'static>, String> {
        parse_line(registry(), "ar", line)
    }

    #[test]
    fn positional_options_bind_in_order_and_rest_takes_the_tail() {
        let p = parse("/ar promise ACME-001 1,250.00 fri wire on Friday").unwrap();
        assert_eq!(p.spec.name, "promise");
        assert_eq!(p.get("account"), Some("ACME-001"));
        assert_eq!(p.get("amount"), Some("1,250.00"));
        assert_eq!(p.get("date"), Some("fri"));
        assert_eq!(p.get("note"), Some("wire on Friday"));
    }

    #[test]
    fn root_and_slash_are_optional_and_quotes_group() {
        let p = parse("flag ACME-001 \u{201C}CFO unreachable\u{201D}").unwrap();
        assert_eq!(p.get("reason"), Some("CFO unreachable"));
        let p = parse("/refer ACME-001 'Northwind Recovery'").unwrap();
        assert_eq!(p.get("agency"), Some("Northwind Recovery"));
    }

    #[test]
    fn flags_and_choices_are_checked() {
        let p = parse("ar remind ACME-001 FIRM --force").unwrap();
        assert_eq!(p.get("tone"), Some("firm"));
        assert!(p.flag("force"));
        let e = parse("ar remind ACME-001 angry").unwrap_err();
        assert!(
            e.contains("friendly, firm, final") && e.contains("Usage:"),
            "{e}"
        );
        let e = parse("ar remind ACME-001 --loud").unwrap_err();
        assert!(e.contains("--loud"), "{e}");
    }

    #[test]
    fn an_optional_choice_may_be_skipped_for_a_later_one() {
        let p = parse("ar remind ACME-001 sms").unwrap();
        assert_eq!((p.get("tone"), p.get("channel")), (None, Some("sms")));
        let p = parse("ar remind ACME-001 firm BOTH --force").unwrap();
        assert_eq!(
            (p.get("tone"), p.get("channel")),
            (Some("firm"), Some("both"))
        );
        assert!(p.flag("force"));
        let e = parse("ar remind ACME-001 sms firm").unwrap_err();
        assert!(e.contains("Too many words"), "{e}");
        let e = parse("ar remind ACME-001 fax").unwrap_err();
        assert!(e.contains("friendly, firm, final"), "{e}");
        let p = parse("ar contact ACME-001 sms on").unwrap();
        assert_eq!(
            (p.get("channel"), p.get("state")),
            (Some("sms"), Some("on"))
        );
        assert!(
            parse("ar contact ACME-001 sms maybe")
                .unwrap_err()
                .contains("on, off")
        );
    }

    #[test]
    fn missing_and_extra_words_explain_the_usage() {
        let e = parse("ar promise ACME-001 100").unwrap_err();
        assert!(
            e.contains("Missing the date") && e.contains("/ar promise"),
            "{e}"
        );
        let e = parse("ar account ACME-001 extra").unwrap_err();
        assert!(e.contains("Too many words"), "{e}");
        let e = parse("ar promis ACME-001").unwrap_err();
        assert!(
            e.contains("no command `promis`") && e.contains("promise"),
            "{e}"
        );
        assert!(parse("ar \"unclosed").unwrap_err().contains("quote"));
        assert!(parse("  ").is_err());
    }

    #[test]
    fn control_characters_are_refused_with_how_to_retype() {
        for line in [
            "ar account ACME\u{0}-001",
            "ar flag ACME-001 late\u{7}",
            "\u{1b}[31mar help",
        ] {
            let e = parse(line).unwrap_err();
            assert!(
                e.contains("control character") && e.contains("Retype"),
                "{e}"
            );
        }
        assert!(parse("ar flag ACME-001 \"late\npayer\"\t").is_ok());
    }
}
