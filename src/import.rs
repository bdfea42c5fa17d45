//! Rows for the ledger, from a CSV file (`dunbot import`) or a JSON array (the ingest API),
//! checked by the same functions: every row is validated first; a batch with any bad row
//! imports nothing and the sender gets each bad row's position, field and reason.
use crate::domain::money::{Currency, Money};
use chrono::NaiveDate;
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line in a CSV file (the header is line 1), or the 0-based index in a JSON array.
    pub line: u64,
    /// The field at fault, when one is (`None`: the row or the header as a whole).
    pub field: Option<String>,
    pub reason: String,
}

/// A row's fault: the field and the reason, before the row's position is known.
type Bad = (&'static str, String);

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

#[derive(Debug, Clone)]
pub struct CustomerRow {
    pub line: u64,
    pub account: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub currency: Currency,
    pub time_zone: String,
    pub owner: Option<String>,
    pub do_not_contact: bool,
    /// The person reminders greet ("Dear Jane Smith,"); optional column `contact_name`.
    pub contact_name: Option<String>,
    /// Consent to reminder texts at `phone` (optional column `sms_consent`); `None`: not said,
    /// so what is recorded stays.
    pub sms_consent: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct InvoiceRow {
    pub line: u64,
    pub account: String,
    pub invoice: String,
    pub issued: NaiveDate,
    pub due: NaiveDate,
    pub amount: Money,
}

#[derive(Debug, Clone)]
pub struct PaymentRow {
    pub line: u64,
    pub account: String,
    pub invoice: String,
    pub paid_on: NaiveDate,
    pub amount: Money,
    pub reference: String,
}

pub const CUSTOMER_COLUMNS: &[&str] = &[
    "account", "name", "email", "phone", "currency", "timezone", "owner",
];
pub const INVOICE_COLUMNS: &[&str] = &["account", "invoice", "issued", "due", "amount", "currency"];
pub const PAYMENT_COLUMNS: &[&str] = &[
    "account",
    "invoice",
    "paid_on",
    "amount",
    "currency",
    "reference",
];

/// A row's values by field name, whatever carried them: the checks below read only this, so a
/// CSV record and a JSON object meet the very same rules. Empty values read as absent.
pub trait Fields {
    fn get(&self, col: &str) -> Option<&str>;
}

fn owned(f: &dyn Fields, col: &str) -> Option<String> {
    f.get(col).map(str::to_string)
}

/// One CSV record's fields by column name.
struct CsvFields<'r> {
    index: &'r HashMap<String, usize>,
    rec: &'r csv::StringRecord,
}

impl Fields for CsvFields<'_> {
    fn get(&self, col: &str) -> Option<&str> {
        self.index
            .get(col)
            .and_then(|&i| self.rec.get(i))
            .filter(|s| !s.is_empty())
    }
}

/// A row sent as named text values (a JSON object whose types the API has checked), trimmed
/// like CSV fields.
#[derive(Debug, Clone, Default)]
pub struct Named(pub Vec<(String, String)>);

impl Fields for Named {
    fn get(&self, col: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == col)
            .map(|(_, v)| v.trim())
            .filter(|s| !s.is_empty())
    }
}

/// How a batch names a row's position in its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Numbering {
    /// A file's 1-based line.
    Line,
    /// An array's 0-based index.
    Index,
}

impl Numbering {
    fn name(self, n: u64) -> String {
        match self {
            Numbering::Line => format!("on line {n}"),
            Numbering::Index => format!("at index {n}"),
        }
    }
}

/// Every row of a JSON array through `row`, numbered by index; all errors, not the first.
fn each<T>(
    rows: &[Named],
    row: impl Fn(u64, &dyn Fields) -> Result<T, Bad>,
) -> Result<Vec<T>, Vec<RowError>> {
    let mut good = Vec::with_capacity(rows.len());
    let mut errors = Vec::new();
    for (i, f) in rows.iter().enumerate() {
        match row(i as u64, f) {
            Ok(r) => good.push(r),
            Err((field, reason)) => errors.push(RowError {
                line: i as u64,
                field: Some(field.into()),
                reason,
            }),
        }
    }
    if errors.is_empty() {
        Ok(good)
    } else {
        Err(errors)
    }
}

/// A CSV file read record by record, each record checked by a row function.
struct Records<R: Read> {
    rdr: csv::Reader<R>,
    index: HashMap<String, usize>,
    // One record buffer for the whole file: a million-row import allocates per row only what it keeps.
    rec: csv::StringRecord,
    line: u64,
}

impl<R: Read> Records<R> {
    /// Reads the header; names the required columns it lacks.
    fn open(input: R, required: &[&str]) -> Result<Records<R>, Vec<RowError>> {
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(input);
        let headers = rdr.headers().map_err(|e| {
            vec![RowError {
                line: 1,
                field: None,
                reason: format!("cannot read the header: {e}"),
            }]
        })?;
        let index: HashMap<String, usize> = headers
            .iter()
            .enumerate()
            .map(|(i, h)| (h.to_ascii_lowercase(), i))
            .collect();
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|c| !index.contains_key(*c))
            .collect();
        if !missing.is_empty() {
            return Err(vec![RowError {
                line: 1,
                field: None,
                reason: format!(
                    "the header lacks {}; it must start with: {}",
                    missing.join(", "),
                    required.join(",")
                ),
            }]);
        }
        Ok(Records {
            rdr,
            index,
            rec: csv::StringRecord::new(),
            line: 1,
        })
    }

    /// The next record through `row`; `None` at the end of the file.
    fn next_with<T>(
        &mut self,
        row: impl FnOnce(u64, &dyn Fields) -> Result<T, Bad>,
    ) -> Option<Result<T, RowError>> {
        self.line += 1;
        let line = self.line;
        match self.rdr.read_record(&mut self.rec) {
            Ok(false) => None,
            Err(e) => Some(Err(RowError {
                line,
                field: None,
                reason: format!("not valid CSV: {e}"),
            })),
            Ok(true) => Some(
                row(
                    line,
                    &CsvFields {
                        index: &self.index,
                        rec: &self.rec,
                    },
                )
                .map_err(|(field, reason)| RowError {
                    line,
                    field: Some(field.into()),
                    reason,
                }),
            ),
        }
    }
}

/// Reads the header and every record, handing each to `row` with a column lookup. Collects all
/// errors rather than stopping at the first.
fn read<R: Read, T>(
    input: R,
    required: &[&str],
    mut row: impl FnMut(u64, &dyn Fields) -> Result<T, Bad>,
) -> Result<Vec<T>, Vec<RowError>> {
    let mut records = Records::open(input, required)?;
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    while let Some(r) = records.next_with(&mut row) {
        match r {
            Ok(r) => rows.push(r),
            Err(e) => errors.push(e),
        }
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(RowError {
            line: 1,
            field: None,
            reason: "the file has a header but no rows".into(),
        });
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// A value from the file as the person will read it: quoted, and cut to a readable length with
/// its full length said, so a 50 MB field is not echoed back whole.
pub fn quoted(v: &str) -> String {
    const SHOWN: usize = 40;
    let chars = v.chars().count();
    if chars <= SHOWN + 10 {
        format!("{v:?}")
    } else {
        let head: String = v.chars().take(SHOWN).collect();
        format!("{:?}… ({chars} characters)", head)
    }
}

fn need<'f>(f: &'f dyn Fields, col: &'static str) -> Result<&'f str, Bad> {
    f.get(col).ok_or_else(|| (col, format!("{col} is empty")))
}

fn date(f: &dyn Fields, col: &'static str) -> Result<NaiveDate, Bad> {
    let v = need(f, col)?;
    iso_date(v).ok_or_else(|| {
        (
            col,
            format!("{col} {} is not a date like 2026-12-05", quoted(v)),
        )
    })
}

/// `YYYY-MM-DD` exactly (what every accounting export writes), without a format parser.
fn iso_date(v: &str) -> Option<NaiveDate> {
    let b = v.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::from_ymd_opt(digits(0..4)? as i32, digits(5..7)?, digits(8..10)?)
}

fn currency(f: &dyn Fields) -> Result<Currency, Bad> {
    let v = need(f, "currency")?;
    if v.len() > 16 {
        return Err((
            "currency",
            format!(
                "currency {} is not an ISO code such as USD or EUR",
                quoted(v)
            ),
        ));
    }
    Currency::parse(v).map_err(|e| ("currency", e.to_string()))
}

fn amount(f: &dyn Fields, cur: Currency) -> Result<Money, Bad> {
    let v = need(f, "amount")?;
    if v.len() > 40 {
        return Err((
            "amount",
            format!("amount {} is not an amount like 1250.00", quoted(v)),
        ));
    }
    let m = Money::parse_plain(v, cur).map_err(|e| ("amount", e.to_string()))?;
    if m.minor <= 0 {
        return Err(("amount", "amount must be more than zero".into()));
    }
    Ok(m)
}

fn code(f: &dyn Fields, col: &'static str) -> Result<String, Bad> {
    let v = need(f, col)?;
    if v.len() > 64 || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err((
            col,
            format!(
                "{col} {} must be one word of at most 64 characters, e.g. ACME-001",
                quoted(v)
            ),
        ));
    }
    Ok(v.to_ascii_uppercase())
}

/// Repeated natural keys in one batch: each repeat names where the key first appeared.
fn duplicates<'a, T>(
    rows: &'a [T],
    key: impl Fn(&'a T) -> (Cow<'a, str>, u64),
    what: &str,
    field: &str,
    numbering: Numbering,
) -> Vec<RowError> {
    let mut seen: HashMap<Cow<'a, str>, u64> = HashMap::with_capacity(rows.len());
    let mut errors = Vec::new();
    for r in rows {
        let (k, line) = key(r);
        if let Some(&first) = seen.get(&k) {
            errors.push(RowError {
                line,
                field: Some(field.into()),
                reason: format!("{what} {k} already appears {}", numbering.name(first)),
            });
        } else {
            seen.insert(k, line);
        }
    }
    errors
}

fn customer_row(line: u64, f: &dyn Fields) -> Result<CustomerRow, Bad> {
    let tz = need(f, "timezone")?.to_string();
    tz.parse::<chrono_tz::Tz>().map_err(|_| {
        (
            "timezone",
            format!(
                "timezone {} is not an IANA zone such as America/New_York",
                quoted(&tz)
            ),
        )
    })?;
    let email = owned(f, "email");
    if let Some(e) = &email
        && (!e.contains('@') || e.contains(' '))
    {
        return Err((
            "email",
            format!("email {} is not an address like ap@acme.example", quoted(e)),
        ));
    }
    let dnc = match f
        .get("do_not_contact")
        .map(|s| s.to_ascii_lowercase())
        .as_deref()
    {
        None | Some("false" | "no" | "0" | "n") => false,
        Some("true" | "yes" | "1" | "y") => true,
        Some(other) => {
            return Err((
                "do_not_contact",
                format!("do_not_contact {} must be yes or no", quoted(other)),
            ));
        }
    };
    let phone = owned(f, "phone");
    let sms_consent = sms_consent(f, phone.as_deref())?;
    Ok(CustomerRow {
        line,
        account: code(f, "account")?,
        name: need(f, "name")?.to_string(),
        email,
        phone,
        currency: currency(f)?,
        time_zone: tz,
        owner: owned(f, "owner"),
        do_not_contact: dnc,
        contact_name: owned(f, "contact_name"),
        sms_consent,
    })
}

/// The optional `sms_consent` column, and the phone it needs: a phone, when given, must be in
/// E.164 form (`+15558675310`), since texts go to it; consent needs a phone.
fn sms_consent(f: &dyn Fields, phone: Option<&str>) -> Result<Option<bool>, Bad> {
    if let Some(p) = phone {
        crate::domain::sms::e164(p).map_err(|e| ("phone", format!("phone {e}")))?;
    }
    let consent = match f
        .get("sms_consent")
        .map(|s| s.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("") => None,
        Some("false" | "no" | "0" | "n") => Some(false),
        Some("true" | "yes" | "1" | "y") => Some(true),
        Some(other) => {
            return Err((
                "sms_consent",
                format!(
                    "sms_consent {} must be yes or no (or true/false, 1/0)",
                    quoted(other)
                ),
            ));
        }
    };
    if consent == Some(true) && phone.is_none() {
        return Err((
            "sms_consent",
            "sms_consent is yes but the phone is empty: consent to texts needs the number, e.g. +15558675310".into(),
        ));
    }
    Ok(consent)
}

fn unique_customers(
    rows: Vec<CustomerRow>,
    numbering: Numbering,
) -> Result<Vec<CustomerRow>, Vec<RowError>> {
    let dup = duplicates(
        &rows,
        |r| (Cow::from(r.account.as_str()), r.line),
        "account",
        "account",
        numbering,
    );
    if dup.is_empty() { Ok(rows) } else { Err(dup) }
}

pub fn customers<R: Read>(input: R) -> Result<Vec<CustomerRow>, Vec<RowError>> {
    unique_customers(
        read(input, CUSTOMER_COLUMNS, customer_row)?,
        Numbering::Line,
    )
}

/// Customers sent as JSON objects: the same checks as `customers`, positions by index.
pub fn customers_from(rows: &[Named]) -> Result<Vec<CustomerRow>, Vec<RowError>> {
    unique_customers(each(rows, customer_row)?, Numbering::Index)
}

fn invoice_row(line: u64, f: &dyn Fields) -> Result<InvoiceRow, Bad> {
    let issued = date(f, "issued")?;
    let due = date(f, "due")?;
    if due < issued {
        return Err(("due", format!("due {due} is before issued {issued}")));
    }
    let cur = currency(f)?;
    Ok(InvoiceRow {
        line,
        account: code(f, "account")?,
        invoice: code(f, "invoice")?,
        issued,
        due,
        amount: amount(f, cur)?,
    })
}

fn unique_invoices(
    rows: Vec<InvoiceRow>,
    numbering: Numbering,
) -> Result<Vec<InvoiceRow>, Vec<RowError>> {
    let dup = duplicates(
        &rows,
        |r| (Cow::from(r.invoice.as_str()), r.line),
        "invoice",
        "invoice",
        numbering,
    );
    if dup.is_empty() { Ok(rows) } else { Err(dup) }
}

pub fn invoices<R: Read>(input: R) -> Result<Vec<InvoiceRow>, Vec<RowError>> {
    unique_invoices(read(input, INVOICE_COLUMNS, invoice_row)?, Numbering::Line)
}

/// Invoices sent as JSON objects: the same checks as `invoices`, positions by index.
pub fn invoices_from(rows: &[Named]) -> Result<Vec<InvoiceRow>, Vec<RowError>> {
    unique_invoices(each(rows, invoice_row)?, Numbering::Index)
}

/// An invoice file row by row, for loads too large to hold twice. Each row is checked as in
/// `invoices`, but duplicates within the file are left to the ledger's unique key.
pub struct InvoiceRows<R: Read>(Records<R>);

impl<R: Read> Iterator for InvoiceRows<R> {
    type Item = Result<InvoiceRow, RowError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next_with(invoice_row)
    }
}

/// Reads the header of an invoice file; the rows follow from the iterator.
pub fn invoice_rows<R: Read>(input: R) -> Result<InvoiceRows<R>, Vec<RowError>> {
    Records::open(input, INVOICE_COLUMNS).map(InvoiceRows)
}

fn payment_row(line: u64, f: &dyn Fields) -> Result<PaymentRow, Bad> {
    let cur = currency(f)?;
    let invoice = f.get("invoice").ok_or((
        "invoice",
        "invoice is empty: name the invoice the payment is for".to_string(),
    ))?;
    Ok(PaymentRow {
        line,
        account: code(f, "account")?,
        invoice: invoice.to_ascii_uppercase(),
        paid_on: date(f, "paid_on")?,
        amount: amount(f, cur)?,
        reference: need(f, "reference")?.to_string(),
    })
}

fn unique_payments(
    rows: Vec<PaymentRow>,
    numbering: Numbering,
) -> Result<Vec<PaymentRow>, Vec<RowError>> {
    let dup = duplicates(
        &rows,
        |r| (Cow::from(format!("{}/{}", r.account, r.reference)), r.line),
        "payment reference",
        "reference",
        numbering,
    );
    if dup.is_empty() { Ok(rows) } else { Err(dup) }
}

pub fn payments<R: Read>(input: R) -> Result<Vec<PaymentRow>, Vec<RowError>> {
    unique_payments(read(input, PAYMENT_COLUMNS, payment_row)?, Numbering::Line)
}

/// Payments sent as JSON objects: the same checks as `payments`, positions by index.
pub fn payments_from(rows: &[Named]) -> Result<Vec<PaymentRow>, Vec<RowError>> {
    unique_payments(each(rows, payment_row)?, Numbering::Index)
}

/// Told how many lines of a file have been read so far (a progress bar's position).
pub type Progress = std::sync::Arc<dyn Fn(u64) + Send + Sync>;

/// A reader that counts the lines passing through it and reports them to `progress`, so a
/// terminal can show how far an import has read without the parser knowing.
pub struct Counted<R> {
    inner: R,
    lines: u64,
    progress: Option<Progress>,
}

impl<R: Read> Counted<R> {
    pub fn new(inner: R, progress: Option<Progress>) -> Counted<R> {
        Counted {
            inner,
            lines: 0,
            progress,
        }
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(p) = &self.progress {
            self.lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
            p(self.lines);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_huge_bad_value_is_cut_to_a_readable_length_with_its_size() {
        let huge = "x".repeat(5_000_000);
        let csv = format!(
            "account,name,email,phone,currency,timezone,owner\nACME-001,Acme,ap@acme.example,,USD,{huge},maria\n"
        );
        let errs = customers(csv.as_bytes()).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert!(errs[0].reason.len() < 200, "{}", &errs[0].reason[..200]);
        assert!(
            errs[0].reason.contains("(5000000 characters)"),
            "{}",
            errs[0].reason
        );
        assert!(errs[0].reason.contains("timezone"), "{}", errs[0].reason);
        assert_eq!(quoted("EST"), "\"EST\"");
    }

    #[test]
    fn dates_are_iso_and_real() {
        assert_eq!(iso_date("2026-12-05"), NaiveDate::from_ymd_opt(2026, 12, 5));
        for bad in [
            "2026-02-30",
            "2026-1-05",
            "05/12/2026",
            "2026-12-5 ",
            "2026+12-05",
            "２026-12-05",
        ] {
            assert_eq!(iso_date(bad), None, "{bad}");
        }
    }

    use super::*;

    #[test]
    fn a_good_invoice_file_parses_with_extra_columns() {
        let csv = "account,invoice,issued,due,amount,currency,po\nacme-001,INV-1,2026-11-01,2026-12-01,1250.00,USD,PO9\n";
        let rows = invoices(csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].account, "ACME-001");
        assert_eq!(rows[0].amount.minor, 125_000);
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line() {
        let csv = "account,invoice,issued,due,amount,currency\n\
                   A,I1,2026-11-01,2026-12-01,10.00,USD\n\
                   A,I2,2026-13-01,2026-12-01,10.00,USD\n\
                   A,I3,2026-11-01,2026-10-01,10.00,USD\n\
                   A,I4,2026-11-01,2026-12-01,ten,USD\n\
                   A,I1,2026-11-01,2026-12-01,10.00,USD\n";
        let errs = invoices(csv.as_bytes()).unwrap_err();
        let lines: Vec<u64> = errs.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4, 5], "{errs:?}");
        assert!(errs[0].reason.contains("issued"), "{errs:?}");
        assert!(errs[1].reason.contains("before issued"), "{errs:?}");
    }

    #[test]
    fn duplicates_are_reported_after_the_rows_are_valid() {
        let csv = "account,invoice,issued,due,amount,currency\nA,I1,2026-11-01,2026-12-01,10.00,USD\nA,I1,2026-11-01,2026-12-01,10.00,USD\n";
        let errs = invoices(csv.as_bytes()).unwrap_err();
        assert_eq!(
            errs,
            vec![RowError {
                line: 3,
                field: Some("invoice".into()),
                reason: "invoice I1 already appears on line 2".into()
            }]
        );
    }

    #[test]
    fn a_missing_column_is_named() {
        let errs = customers("account,name\nA,B\n".as_bytes()).unwrap_err();
        assert_eq!(errs[0].line, 1);
        assert!(
            errs[0].reason.contains("email") && errs[0].reason.contains("timezone"),
            "{errs:?}"
        );
    }

    #[test]
    fn customer_rows_check_zone_email_and_flags() {
        let csv = "account,name,email,phone,currency,timezone,owner,do_not_contact\n\
                   A,Acme,ap@acme.example,,USD,America/New_York,maria,no\n\
                   B,Bolt,not-an-email,,USD,Mars/Base,,maybe\n";
        let errs = customers(csv.as_bytes()).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].line, 3);
    }

    #[test]
    fn payments_need_an_invoice_and_reference() {
        let csv = "account,invoice,paid_on,amount,currency,reference\nA,,2026-11-01,5.00,USD,R1\nA,I1,2026-11-01,5.00,USD,\n";
        let errs = payments(csv.as_bytes()).unwrap_err();
        assert_eq!(errs.len(), 2);
        assert!(errs[0].reason.contains("invoice"));
        assert!(errs[1].reason.contains("reference"));
    }

    fn named(pairs: &[(&str, &str)]) -> Named {
        Named(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn json_rows_meet_the_csv_rules_with_the_same_words() {
        let csv = "account,invoice,issued,due,amount,currency\n\
                   A,I1,2026-11-01,2026-12-01,10.00,USD\n\
                   A,I2,2026-13-01,2026-12-01,10.00,USD\n\
                   A,I3,2026-11-01,2026-10-01,ten,USD\n";
        let from_csv = invoices(csv.as_bytes()).unwrap_err();
        let row = |inv: &str, issued: &str, due: &str, amount: &str| {
            named(&[
                ("account", "A"),
                ("invoice", inv),
                ("issued", issued),
                ("due", due),
                ("amount", amount),
                ("currency", "USD"),
            ])
        };
        let from_json = invoices_from(&[
            row("I1", "2026-11-01", "2026-12-01", "10.00"),
            row("I2", "2026-13-01", "2026-12-01", "10.00"),
            row("I3", "2026-11-01", "2026-10-01", "ten"),
        ])
        .unwrap_err();
        let pos = |e: &[RowError]| e.iter().map(|e| e.line).collect::<Vec<_>>();
        assert_eq!(pos(&from_csv), vec![3, 4]);
        assert_eq!(pos(&from_json), vec![1, 2], "0-based indexes");
        for (c, j) in from_csv.iter().zip(&from_json) {
            assert_eq!((&c.field, &c.reason), (&j.field, &j.reason));
        }
        assert_eq!(from_json[0].field.as_deref(), Some("issued"));
        assert_eq!(from_json[1].field.as_deref(), Some("due"));
        let dup = invoices_from(&[
            row("I1", "2026-11-01", "2026-12-01", "10.00"),
            row("i1", "2026-11-01", "2026-12-01", "10.00"),
        ])
        .unwrap_err();
        assert_eq!(dup[0].reason, "invoice I1 already appears at index 0");
        assert_eq!(dup[0].line, 1);
    }

    #[test]
    fn json_customers_and_payments_name_the_field_at_fault() {
        let errs = customers_from(&[named(&[
            ("account", "A"),
            ("name", "Acme"),
            ("currency", "USD"),
            ("timezone", "Mars/Base"),
        ])])
        .unwrap_err();
        assert_eq!(errs[0].field.as_deref(), Some("timezone"));
        let errs = payments_from(&[named(&[
            ("account", "A"),
            ("invoice", "I1"),
            ("paid_on", "2026-11-01"),
            ("amount", "5.00"),
            ("currency", "USD"),
        ])])
        .unwrap_err();
        assert_eq!(errs[0].field.as_deref(), Some("reference"));
        assert_eq!(errs[0].reason, "reference is empty");
    }

    #[test]
    fn phones_must_be_e164_and_consent_needs_one() {
        let csv = "account,name,email,phone,currency,timezone,owner,sms_consent\n\
                   A,Acme,,+1 (555) 867-5310,USD,UTC,,yes\n\
                   B,Bolt,,555-0100,USD,UTC,,\n\
                   C,Cole,,,USD,UTC,,1\n\
                   D,Dale,,+442079460958,USD,UTC,,perhaps\n\
                   E,Eve,,,USD,UTC,,no\n";
        let errs = customers(csv.as_bytes()).unwrap_err();
        let at: Vec<(u64, Option<&str>)> =
            errs.iter().map(|e| (e.line, e.field.as_deref())).collect();
        assert_eq!(
            at,
            vec![
                (3, Some("phone")),
                (4, Some("sms_consent")),
                (5, Some("sms_consent"))
            ],
            "{errs:?}"
        );
        assert!(
            errs[0].reason.contains("\"555-0100\" has no country code"),
            "{errs:?}"
        );
        let ok = customers(
            "account,name,email,phone,currency,timezone,owner,sms_consent\nA,Acme,,+1 (555) 867-5310,USD,UTC,,TRUE\nE,Eve,,,USD,UTC,,no\n"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(
            (ok[0].sms_consent, ok[1].sms_consent),
            (Some(true), Some(false))
        );
        // The API's JSON rows meet the same rules, by index.
        let errs = customers_from(&[named(&[
            ("account", "A"),
            ("name", "Acme"),
            ("currency", "USD"),
            ("timezone", "UTC"),
            ("phone", "0207 946 0958"),
            ("sms_consent", "yes"),
        ])])
        .unwrap_err();
        assert_eq!((errs[0].line, errs[0].field.as_deref()), (0, Some("phone")));
    }
}
