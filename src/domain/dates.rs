//! Dates as people type them in chat.
use chrono::NaiveDate;

/// `2026-12-05`, `today`, `tomorrow`, a weekday (`fri`, `friday`: the next one after
/// `today`, never today itself), `+7d`, `+2w`. Anything else is refused with the forms above.
pub fn parse_date(text: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    todo!("{text}{today}")
}
