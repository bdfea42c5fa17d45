//! What a collector types after `ar call <account>`: how the call went, a call-back date when
//! they agreed one, and a free note. People write outcomes the way they say them ("no answer",
//! "no-answer", "noanswer", "callback fri"), so matching ignores case, spaces and dashes.
use super::dates::parse_date;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Longest note (on a call or `ar note`) kept: a chat section holds 3,000 characters, and a
/// note longer than this is a document that belongs in a file, not the timeline.
pub const NOTE_MAX: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    Reached,
    Voicemail,
    NoAnswer,
    WrongNumber,
    Promised,
    Disputed,
    CopyRequested,
    CallBack,
}

impl CallOutcome {
    pub const ALL: [CallOutcome; 8] = [
        CallOutcome::Reached,
        CallOutcome::Voicemail,
        CallOutcome::NoAnswer,
        CallOutcome::WrongNumber,
        CallOutcome::Promised,
        CallOutcome::Disputed,
        CallOutcome::CopyRequested,
        CallOutcome::CallBack,
    ];

    /// The stored key (`calls.outcome`).
    pub fn key(&self) -> &'static str {
        match self {
            CallOutcome::Reached => "reached",
            CallOutcome::Voicemail => "voicemail",
            CallOutcome::NoAnswer => "no_answer",
            CallOutcome::WrongNumber => "wrong_number",
            CallOutcome::Promised => "promised",
            CallOutcome::Disputed => "disputed",
            CallOutcome::CopyRequested => "copy_requested",
            CallOutcome::CallBack => "call_back",
        }
    }

    pub fn from_key(key: &str) -> Option<CallOutcome> {
        CallOutcome::ALL.into_iter().find(|o| o.key() == key)
    }

    /// How it is typed and read: `no answer`, `asked for a copy`.
    pub fn label(&self) -> &'static str {
        match self {
            CallOutcome::Reached => "reached",
            CallOutcome::Voicemail => "voicemail",
            CallOutcome::NoAnswer => "no answer",
            CallOutcome::WrongNumber => "wrong number",
            CallOutcome::Promised => "promised",
            CallOutcome::Disputed => "disputed",
            CallOutcome::CopyRequested => "asked for a copy",
            CallOutcome::CallBack => "call back",
        }
    }

    /// The customer answered: the number works.
    pub fn reached_someone(&self) -> bool {
        matches!(
            self,
            CallOutcome::Reached
                | CallOutcome::Promised
                | CallOutcome::Disputed
                | CallOutcome::CopyRequested
                | CallOutcome::CallBack
        )
    }

    /// Other ways people write it, squashed (lowercase, letters and digits only).
    fn aliases(&self) -> &'static [&'static str] {
        match self {
            CallOutcome::Reached => &["reached", "spoketo", "spoke", "answered"],
            CallOutcome::Voicemail => &["voicemail", "vm", "leftvoicemail", "leftmessage"],
            CallOutcome::NoAnswer => &["noanswer", "noreply", "noresponse"],
            CallOutcome::WrongNumber => &["wrongnumber", "wrongno", "badnumber"],
            CallOutcome::Promised => &["promised", "promise", "promisedtopay"],
            CallOutcome::Disputed => &["disputed", "dispute", "disputes"],
            CallOutcome::CopyRequested => &[
                "askedforacopy",
                "askedforcopy",
                "copyrequested",
                "copy",
                "sendcopy",
                "wantsacopy",
            ],
            CallOutcome::CallBack => &["callback", "callbackon", "callmeback"],
        }
    }
}

/// The list people are shown when they typed something else.
pub fn valid_outcomes() -> String {
    let mut names: Vec<&str> = CallOutcome::ALL.iter().map(|o| o.label()).collect();
    names.pop();
    format!("{}, call back <date>", names.join(", "))
}

/// A parsed call: outcome, the call-back day (only with `call back`), and the note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub outcome: CallOutcome,
    pub callback_on: Option<NaiveDate>,
    pub note: Option<String>,
}

fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Reads `outcome [date] [note]` as typed after the account, as of `today`.
pub fn parse_call(text: &str, today: NaiveDate) -> Result<Call, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() {
        return Err(format!("Say how the call went: {}.", valid_outcomes()));
    }
    // The longest run of leading words that names an outcome: "asked for a copy" before "copy".
    let found = (1..=words.len().min(4)).rev().find_map(|n| {
        let typed = squash(&words[..n].join(""));
        CallOutcome::ALL
            .into_iter()
            .find(|o| o.aliases().contains(&typed.as_str()))
            .map(|o| (o, n))
    });
    let Some((outcome, used)) = found else {
        return Err(format!(
            "`{}` is not a call outcome. Use one of: {}; then an optional note, e.g. `no answer left a message` or `call back fri after payroll`.",
            words[0],
            valid_outcomes()
        ));
    };
    let mut rest = &words[used..];
    let mut callback_on = None;
    if outcome == CallOutcome::CallBack {
        if rest.first().is_some_and(|w| w.eq_ignore_ascii_case("on")) {
            rest = &rest[1..];
        }
        let Some(day) = rest.first() else {
            return Err(
                "A call back needs the day to call: `call back fri`, `call back 2026-12-03` or `call back +3d`."
                    .into(),
            );
        };
        let date = parse_date(day, today).map_err(|e| {
            format!("A call back needs the day to call right after it: {e}, e.g. `call back fri`.")
        })?;
        if date < today {
            return Err(format!(
                "{date} is in the past; a call back is for today or later, e.g. tomorrow, fri or {}.",
                today + chrono::Days::new(7)
            ));
        }
        callback_on = Some(date);
        rest = &rest[1..];
    }
    let note = rest.join(" ");
    let note = note.trim_start_matches(['-', ':', ',', '—']).trim();
    check_note_length(note)?;
    Ok(Call {
        outcome,
        callback_on,
        note: (!note.is_empty()).then(|| note.to_string()),
    })
}

/// A note longer than `NOTE_MAX` characters is refused with its length.
pub fn check_note_length(note: &str) -> Result<(), String> {
    let n = note.chars().count();
    if n > NOTE_MAX {
        return Err(format!(
            "The note is {n} characters long; keep it to {NOTE_MAX} (put longer documents in a file and note where it is)."
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap() // a Monday
    }

    fn outcome(text: &str) -> CallOutcome {
        parse_call(text, today()).unwrap().outcome
    }

    #[test]
    fn natural_forms_of_an_outcome_are_one_outcome() {
        for t in [
            "no answer",
            "no-answer",
            "noanswer",
            "No Answer",
            "NO_ANSWER",
        ] {
            assert_eq!(outcome(t), CallOutcome::NoAnswer, "{t}");
        }
        for t in ["wrong number", "wrong-number", "wrongnumber"] {
            assert_eq!(outcome(t), CallOutcome::WrongNumber, "{t}");
        }
        assert_eq!(outcome("asked for a copy"), CallOutcome::CopyRequested);
        assert_eq!(outcome("voicemail"), CallOutcome::Voicemail);
        assert_eq!(outcome("reached"), CallOutcome::Reached);
        assert_eq!(outcome("promised"), CallOutcome::Promised);
        assert_eq!(outcome("disputed"), CallOutcome::Disputed);
    }

    #[test]
    fn the_rest_is_the_note() {
        let c = parse_call("no answer left a message with reception", today()).unwrap();
        assert_eq!(c.note.as_deref(), Some("left a message with reception"));
        assert_eq!(c.callback_on, None);
        let c = parse_call("reached - Jane says the cheque is in the post", today()).unwrap();
        assert_eq!(
            c.note.as_deref(),
            Some("Jane says the cheque is in the post")
        );
        assert_eq!(parse_call("voicemail", today()).unwrap().note, None);
    }

    #[test]
    fn call_back_takes_a_day_in_any_form_people_type() {
        let c = parse_call("call back fri after payroll", today()).unwrap();
        assert_eq!(c.outcome, CallOutcome::CallBack);
        assert_eq!(c.callback_on, NaiveDate::from_ymd_opt(2026, 11, 27));
        assert_eq!(c.note.as_deref(), Some("after payroll"));
        let c = parse_call("callback 2026-12-03", today()).unwrap();
        assert_eq!(c.callback_on, NaiveDate::from_ymd_opt(2026, 12, 3));
        let c = parse_call("call-back on tomorrow", today()).unwrap();
        assert_eq!(c.callback_on, NaiveDate::from_ymd_opt(2026, 11, 24));
        assert_eq!(
            parse_call("call back today", today()).unwrap().callback_on,
            Some(today())
        );
    }

    #[test]
    fn call_back_without_a_day_or_in_the_past_is_refused_with_how_to_write_it() {
        let e = parse_call("call back", today()).unwrap_err();
        assert!(
            e.contains("needs the day") && e.contains("call back fri"),
            "{e}"
        );
        let e = parse_call("callback 2026-11-20", today()).unwrap_err();
        assert!(e.contains("in the past"), "{e}");
        let e = parse_call("call back someday", today()).unwrap_err();
        assert!(
            e.contains("needs the day") && e.contains("someday") && e.contains("2026-12-05"),
            "{e}"
        );
    }

    #[test]
    fn an_unknown_outcome_lists_the_valid_ones() {
        let e = parse_call("busy signal", today()).unwrap_err();
        assert!(e.contains("`busy`"), "{e}");
        for o in CallOutcome::ALL {
            assert!(e.contains(o.label()), "{e} lacks {}", o.label());
        }
        let e = parse_call("   ", today()).unwrap_err();
        assert!(e.contains("Say how the call went"), "{e}");
    }

    #[test]
    fn too_long_a_note_is_refused_with_its_length() {
        let long = format!("reached {}", "x".repeat(NOTE_MAX + 1));
        let e = parse_call(&long, today()).unwrap_err();
        assert!(e.contains(&format!("{}", NOTE_MAX + 1)), "{e}");
        assert!(parse_call(&format!("reached {}", "x".repeat(NOTE_MAX)), today()).is_ok());
    }

    #[test]
    fn keys_round_trip() {
        for o in CallOutcome::ALL {
            assert_eq!(CallOutcome::from_key(o.key()), Some(o));
        }
    }
}
