//! Rows in Postgres's binary `COPY` format. The server stores integers and dates from it as they
//! come instead of parsing text, which is most of the cost of loading a large file. Hand-written
//! because the format is small and fixed (the manual's "Binary Format" of COPY) and sqlx has no
//! encoder for it.
use chrono::NaiveDate;

/// `PGCOPY\n\377\r\n\0`, then flags (0) and the header extension length (0).
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// A field count of -1 ends the data.
const TRAILER: [u8; 2] = (-1i16).to_be_bytes();

/// A buffer of binary COPY data: the header first, then rows, then `finish`.
pub struct BinaryRows {
    buf: Vec<u8>,
}

impl BinaryRows {
    /// A buffer that starts the stream (with the header).
    pub fn start(capacity: usize) -> BinaryRows {
        let mut buf = Vec::with_capacity(capacity.max(HEADER.len()));
        buf.extend_from_slice(HEADER);
        BinaryRows { buf }
    }

    /// A buffer that continues a stream another buffer started.
    pub fn more(capacity: usize) -> BinaryRows {
        BinaryRows {
            buf: Vec::with_capacity(capacity),
        }
    }

    /// Begins a row of `fields` fields; the caller then writes exactly that many.
    pub fn row(&mut self, fields: i16) -> &mut Self {
        self.buf.extend_from_slice(&fields.to_be_bytes());
        self
    }

    pub fn int8(&mut self, v: i64) -> &mut Self {
        self.buf.extend_from_slice(&8i32.to_be_bytes());
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// `text`, `varchar` and `char(n)` alike: the UTF-8 bytes.
    pub fn text(&mut self, v: &str) -> &mut Self {
        let len = i32::try_from(v.len()).expect("a field under 2 GiB");
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(v.as_bytes());
        self
    }

    /// Days since 2000-01-01, Postgres's epoch for dates.
    pub fn date(&mut self, v: NaiveDate) -> &mut Self {
        let epoch = NaiveDate::from_ymd_opt(2000, 1, 1).expect("epoch");
        let days = i32::try_from((v - epoch).num_days()).expect("a date Postgres can store");
        self.buf.extend_from_slice(&4i32.to_be_bytes());
        self.buf.extend_from_slice(&days.to_be_bytes());
        self
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The bytes so far, leaving the buffer empty for more rows.
    pub fn take(&mut self) -> Vec<u8> {
        let capacity = self.buf.capacity();
        std::mem::replace(&mut self.buf, Vec::with_capacity(capacity))
    }

    /// The bytes so far with the trailer that ends the stream.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.extend_from_slice(&TRAILER);
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_is_laid_out_as_the_manual_says() {
        let mut b = BinaryRows::start(64);
        b.row(3)
            .int8(258)
            .text("é")
            .date(NaiveDate::from_ymd_opt(2000, 1, 2).unwrap());
        let bytes = b.finish();
        let mut want = b"PGCOPY\n\xff\r\n\0".to_vec();
        want.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]); // flags, extension length
        want.extend_from_slice(&[0, 3]); // three fields
        want.extend_from_slice(&[0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 1, 2]);
        want.extend_from_slice(&[0, 0, 0, 2, 0xc3, 0xa9]);
        want.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 1]);
        want.extend_from_slice(&[0xff, 0xff]);
        assert_eq!(bytes, want);
    }

    #[test]
    fn dates_before_the_epoch_are_negative_days() {
        let mut b = BinaryRows::more(8);
        b.date(NaiveDate::from_ymd_opt(1999, 12, 31).unwrap());
        assert_eq!(b.take(), vec![0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff]);
        assert!(b.is_empty());
    }
}
