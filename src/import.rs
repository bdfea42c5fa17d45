//! CSV import: every row is validated first; a file with any bad row imports nothing and the
//! person gets each bad row's line number and reason.
use crate::domain::money::{Currency, Money};
use chrono::NaiveDate;
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line in the file (the header is line 1).
    pub line: u64,
    pub reason: String,
}

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

/// One record's fields by column name; empty fields read as absent.
struct Fields<'r> {
    index: &'r HashMap<String, usize>,
    rec: &'r csv::StringRecord,
}

impl Fields<'_> {
    fn get(&self, col: &str) -> Option<&str> {
        self.index
            .get(col)
            .and_then(|&i| self.rec.get(i))
            .filter(|s| !s.is_empty())
    }
    fn owned(&self, col: &str) -> Option<String> {
        self.get(col).map(str::to_string)
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
        row: impl FnOnce(u64, &Fields) -> Result<T, String>,
    ) -> Option<Result<T, RowError>> {
        self.line += 1;
        let line = self.line;
        match self.rdr.read_record(&mut self.rec) {
            Ok(false) => None,
            Err(e) => Some(Err(RowError {
                line,
                reason: format!("not valid CSV: {e}"),
            })),
            Ok(true) => Some(
                row(
                    line,
                    &Fields {
                        index: &self.index,
                        rec: &self.rec,
                    },
                )
                .map_err(|reason| RowError { line, reason }),
            ),
        }
    }
}

/// Reads the header and every record, handing each to `row` with a column lookup. Collects all
/// errors rather than stopping at the first.
fn read<R: Read, T>(
    input: R,
    required: &[&str],
    mut row: impl FnMut(u64, &Fields) -> Result<T, String>,
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

fn need<'f>(f: &'f Fields, col: &str) -> Result<&'f str, String> {
    f.get(col).ok_or_else(|| format!("{col} is empty"))
}

fn date(f: &Fields, col: &str) -> Result<NaiveDate, String> {
    let v = need(f, col)?;
    iso_date(v).ok_or_else(|| format!("{col} {} is not a date like 2026-12-05", quoted(v)))
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

fn currency(f: &Fields) -> Result<Currency, String> {
    let v = need(f, "currency")?;
    if v.len() > 16 {
        return Err(format!(
            "currency {} is not an ISO code such as USD or EUR",
            quoted(v)
        ));
    }
    Currency::parse(v).map_err(|e| e.to_string())
}

fn amount(f: &Fields, cur: Currency) -> Result<Money, String> {
    let v = need(f, "amount")?;
    if v.len() > 40 {
        return Err(format!(
            "amount {} is not an amount like 1250.00",
            quoted(v)
        ));
    }
    let m = Money::parse_plain(v, cur).map_err(|e| e.to_string())?;
    if m.minor <= 0 {
        return Err("amount must be more than zero".into());
    }
    Ok(m)
}

fn code(f: &Fields, col: &str) -> Result<String, String> {
    let v = need(f, col)?;
    if v.len() > 64 || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "{col} {} must be one word of at most 64 characters, e.g. ACME-001",
            quoted(v)
        ));
    }
    Ok(v.to_ascii_uppercase())
}

fn duplicates<'a, T>(
    rows: &'a [T],
    key: impl Fn(&'a T) -> (Cow<'a, str>, u64),
    what: &str,
) -> Vec<RowError> {
    let mut seen: HashMap<Cow<'a, str>, u64> = HashMap::with_capacity(rows.len());
    let mut errors = Vec::new();
    for r in rows {
        let (k, line) = key(r);
        if let Some(&first) = seen.get(&k) {
            errors.push(RowError {
                line,
                reason: format!("{what} {k} already appears on line {first}"),
            });
        } else {
            seen.insert(k, line);
        }
    }
    errors
}

pub fn customers<R: Read>(input: R) -> Result<Vec<CustomerRow>, Vec<RowError>> {
    let rows = read(input, CUSTOMER_COLUMNS, |line, f| {
        let tz = need(f, "timezone")?.to_string();
        tz.parse::<chrono_tz::Tz>().map_err(|_| {
            format!(
                "timezone {} is not an IANA zone such as America/New_York",
                quoted(&tz)
            )
        })?;
        let email = f.owned("email");
        if let Some(e) = &email
            && (!e.contains('@') || e.contains(' '))
        {
            return Err(format!(
                "email {} is not an address like ap@acme.example",
                quoted(e)
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
                return Err(format!(
                    "do_not_contact {} must be yes or no",
                    quoted(other)
                ));
            }
        };
        Ok(CustomerRow {
            line,
            account: code(f, "account")?,
            name: need(f, "name")?.to_string(),
            email,
            phone: f.owned("phone"),
            currency: currency(f)?,
            time_zone: tz,
            owner: f.owned("owner"),
            do_not_contact: dnc,
        })
    })?;
    let dup = duplicates(
        &rows,
        |r| (Cow::from(r.account.as_str()), r.line),
        "account",
    );
    if dup.is_empty() { Ok(rows) } else { Err(dup) }
}

fn invoice_row(line: u64, f: &Fields) -> Result<InvoiceRow, String> {
    let issued = date(f, "issued")?;
    let due = date(f, "due")?;
    if due < issued {
        return Err(format!("due {due} is before issued {issued}"));
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

pub fn invoices<R: Read>(input: R) -> Result<Vec<InvoiceRow>, Vec<RowError>> {
    let rows = read(input, INVOICE_COLUMNS, invoice_row)?;
    let dup = duplicates(
        &rows,
        |r| (Cow::from(r.invoice.as_str()), r.line),
        "invoice",
    );
    if dup.is_empty() { Ok(rows) } else { Err(dup) }
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

pub fn payments<R: Read>(input: R) -> Result<Vec<PaymentRow>, Vec<RowError>> {
    let rows = read(input, PAYMENT_COLUMNS, |line, f| {
        let cur = currency(f)?;
        let invoice = f
            .get("invoice")
            .ok_or("invoice is empty: name the invoice the payment is for")?;
        Ok(PaymentRow {
            line,
            account: code(f, "account")?,
            invoice: invoice.to_ascii_uppercase(),
            paid_on: date(f, "paid_on")?,
            amount: amount(f, cur)?,
            reference: need(f, "reference")?.to_string(),
        })
    })?;
    let dup = duplicates(
        &rows,
        |r| (Cow::from(format!("{}/{}", r.account, r.reference)), r.line),
        "payment reference",
    );
    if dup.is_empty() { Ok(rows) } else { Err(dup) }
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
}
