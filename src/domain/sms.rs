//! Text-message rules, pure: what counts as a phone number we may text (E.164), how many SMS
//! segments a text costs, and which inbound words opt a customer out of texts or back in.

/// A phone number in E.164 form (`+15558675310`), from what a person or a billing system
/// typed: spaces, dashes, dots and brackets are dropped, then it must be `+`, a country code
/// that does not start with 0, and at most 15 digits in all. A number without its country code
/// is refused rather than guessed: a text to the wrong country is worse than none.
pub fn e164(raw: &str) -> Result<String, String> {
    let kept: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '\u{a0}'))
        .collect();
    let hint = "write it in international E.164 form: +, the country code, then the number, e.g. +15558675310";
    let Some(digits) = kept.strip_prefix('+') else {
        return Err(format!("{} has no country code; {hint}", quoted(raw)));
    };
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("{} is not a phone number; {hint}", quoted(raw)));
    }
    if digits.starts_with('0') {
        return Err(format!(
            "{} has no country code (a country code never starts with 0); {hint}",
            quoted(raw)
        ));
    }
    if !(7..=15).contains(&digits.len()) {
        return Err(format!(
            "{} has {} digits; an E.164 number has 7 to 15; {hint}",
            quoted(raw),
            digits.len()
        ));
    }
    Ok(kept)
}

fn quoted(v: &str) -> String {
    let short: String = v.chars().take(40).collect();
    format!("\"{short}\"")
}

/// How a text is encoded on the air: GSM-7 (160 characters, 153 per part when split) unless
/// one character is outside the GSM alphabet, which turns the whole text into UCS-2 (70, 67
/// per part): one curly quote can double the price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

/// GSM 03.38's basic alphabet (one septet each).
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// Its extension table: two septets each (an escape, then the character).
const GSM_EXTENDED: &str = "^{}\\[~]|€\u{c}";

/// The encoding of `text` and the number of segments it is sent as.
pub fn segments(text: &str) -> (Encoding, usize) {
    let septets: Option<usize> = text
        .chars()
        .map(|c| {
            if GSM_BASIC.contains(c) {
                Some(1)
            } else if GSM_EXTENDED.contains(c) {
                Some(2)
            } else {
                None
            }
        })
        .sum();
    let parts = |units: usize, single: usize, multi: usize| {
        if units <= single {
            1
        } else {
            units.div_ceil(multi)
        }
    };
    match septets {
        Some(n) => (Encoding::Gsm7, parts(n, 160, 153)),
        None => (Encoding::Ucs2, parts(text.encode_utf16().count(), 70, 67)),
    }
}

/// Replaces the typographic characters editors and names bring in (curly quotes, dashes,
/// ellipses, non-breaking spaces, accented letters outside GSM) by plain ones, so a text stays
/// GSM-7. What has no plain form is kept (the text then goes as UCS-2).
pub fn gsm_friendly(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if GSM_BASIC.contains(c) || GSM_EXTENDED.contains(c) {
            out.push(c);
            continue;
        }
        let plain = match c {
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{2032}' | '`' | '´' => "'",
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '«' | '»' => "\"",
            '\u{2013}' | '\u{2014}' | '\u{2212}' | '\u{2010}' | '\u{2011}' => "-",
            '\u{2026}' => "...",
            '\u{a0}' | '\u{2009}' | '\u{202f}' | '\t' => " ",
            'á' | 'â' | 'ã' | 'ā' => "a",
            'Á' | 'Â' | 'Ã' | 'À' => "A",
            'ç' => "c",
            'ê' | 'ë' | 'ē' => "e",
            'È' | 'Ê' | 'Ë' => "E",
            'í' | 'î' | 'ï' => "i",
            'Í' | 'Î' | 'Ï' | 'Ì' => "I",
            'ó' | 'ô' | 'õ' => "o",
            'Ó' | 'Ô' | 'Õ' | 'Ò' => "O",
            'ú' | 'û' => "u",
            'Ú' | 'Û' | 'Ù' => "U",
            'ý' | 'ÿ' => "y",
            'š' => "s",
            'Š' => "S",
            'ž' => "z",
            'Ž' => "Z",
            'ł' => "l",
            'Ł' => "L",
            _ => {
                out.push(c);
                continue;
            }
        };
        out.push_str(plain);
    }
    out
}

/// What an inbound text asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opt {
    /// No more texts (STOP and the other standard opt-out words).
    Out,
    /// Texts again (START, YES, UNSTOP).
    In,
}

/// The opt-out and opt-in keywords carriers and Twilio honour. The whole message must be the
/// word (any case, surrounding spaces and punctuation ignored), as Twilio matches them: "stop
/// calling me after 5" is a message for a person, not a keyword.
pub fn keyword(body: &str) -> Option<Opt> {
    let word = body
        .trim()
        .trim_matches(|c: char| c.is_ascii_punctuation() || c.is_whitespace())
        .to_ascii_uppercase();
    match word.as_str() {
        "STOP" | "STOPALL" | "UNSUBSCRIBE" | "CANCEL" | "END" | "QUIT" | "OPTOUT" | "REVOKE" => {
            Some(Opt::Out)
        }
        "START" | "YES" | "UNSTOP" => Some(Opt::In),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_keeps_international_numbers_and_refuses_the_rest() {
        assert_eq!(e164("+1 (555) 867-5310").unwrap(), "+15558675310");
        assert_eq!(e164("+44 20 7946 0958").unwrap(), "+442079460958");
        assert_eq!(e164("+1-555-0100").unwrap(), "+15550100");
        for bad in [
            "555-0100",
            "0044 20 7946 0958",
            "+0 555 0100",
            "+1 555 CALL",
            "+12",
            "",
        ] {
            let e = e164(bad).unwrap_err();
            assert!(
                e.contains("E.164") && e.contains("+15558675310"),
                "{bad}: {e}"
            );
        }
        assert!(e164("+1234567890123456").unwrap_err().contains("16 digits"));
    }

    #[test]
    fn segments_count_gsm_and_ucs2_parts() {
        assert_eq!(segments(&"a".repeat(160)), (Encoding::Gsm7, 1));
        assert_eq!(segments(&"a".repeat(161)), (Encoding::Gsm7, 2));
        assert_eq!(segments(&"a".repeat(306)), (Encoding::Gsm7, 2));
        assert_eq!(segments(&"a".repeat(307)), (Encoding::Gsm7, 3));
        // The euro sign costs two septets.
        assert_eq!(segments(&"€".repeat(80)), (Encoding::Gsm7, 1));
        assert_eq!(segments(&"€".repeat(81)), (Encoding::Gsm7, 2));
        // One curly quote makes the whole text UCS-2.
        assert_eq!(
            segments(&format!("{}’", "a".repeat(69))),
            (Encoding::Ucs2, 1)
        );
        assert_eq!(
            segments(&format!("{}’", "a".repeat(70))),
            (Encoding::Ucs2, 2)
        );
        assert_eq!(segments("👍 ok").0, Encoding::Ucs2);
    }

    #[test]
    fn typographic_characters_fold_to_gsm() {
        let t = gsm_friendly("Zoë’s “Café” – 10 days…");
        assert_eq!(t, "Zoe's \"Café\" - 10 days...");
        assert_eq!(segments(&t).0, Encoding::Gsm7);
    }

    #[test]
    fn opt_out_and_in_words_are_whole_messages() {
        for w in [
            "STOP",
            "stop",
            " Stop. ",
            "STOPALL",
            "unsubscribe",
            "CANCEL",
            "end",
            "QUIT",
            "OPTOUT",
            "revoke",
        ] {
            assert_eq!(keyword(w), Some(Opt::Out), "{w}");
        }
        for w in ["START", "yes", "Unstop!"] {
            assert_eq!(keyword(w), Some(Opt::In), "{w}");
        }
        for w in ["stop calling me", "Ahoy", "", "STOP STOP", "yes please"] {
            assert_eq!(keyword(w), None, "{w}");
        }
    }
}
