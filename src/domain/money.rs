//! Money as integer minor units with an ISO 4217 currency. Never a float.
use serde::{Deserialize, Serialize};
use std::fmt;

/// An ISO 4217 alphabetic code (upper case), e.g. `USD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Each message tells the person how to write it right.
    #[error("{0}")]
    Invalid(String),
}

impl Currency {
    /// Case-insensitive ISO 4217 code from the known list; unknown codes are refused.
    pub fn parse(code: &str) -> Result<Currency, MoneyError> {
        todo!("{code}")
    }
    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
    /// Minor-unit digits: 2 for most, 0 for JPY/KRW/..., 3 for BHD/KWD/...
    pub fn exponent(&self) -> u32 {
        todo!()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    /// Parses what a person typed: `1250`, `1,250.00`, `1250.5`, `€1.250,00`, `USD 1,250`,
    /// `1250 EUR`, `$99`. A currency symbol or code in the text wins over `default`;
    /// an ambiguous form (`1,250` or `1.250`: thousands or decimals?) is refused with a hint.
    pub fn parse(text: &str, default: Currency) -> Result<Money, MoneyError> {
        todo!("{text}{default}")
    }

    /// Strict machine form for CSV files: major units with `.` as decimal point, no grouping,
    /// at most `exponent` decimals, e.g. `1250.00`, `1250`, `-20.5`.
    pub fn parse_plain(text: &str, currency: Currency) -> Result<Money, MoneyError> {
        todo!("{text}{currency}")
    }

    /// `USD 1,250.00` (grouped, exactly `exponent` decimals, minus sign first when negative).
    pub fn format(&self) -> String {
        todo!()
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format())
    }
}
