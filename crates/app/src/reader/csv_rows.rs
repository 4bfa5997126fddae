//! CSV records in bounded memory. The `csv` crate grows a record's buffer to whatever a
//! row holds, so one 200 MB line took 1.6 GB before failing. This drives the same parser
//! (`csv_core`) with fixed buffers: a record longer than [`MAX_ROW_BYTES`] or wider than
//! [`MAX_COLUMNS`] keeps what fits as an excerpt, the rest is read past (hashed, not
//! stored), and the next record is read as usual.

use std::io::BufRead;

use sha2::{Digest, Sha256};

use super::{MAX_COLUMNS, MAX_ROW_BYTES};

/// One record: its fields (within the bounds), the lines it spans and, when it did not
/// fit, how big it really was.
pub(super) struct CsvRecord<'a> {
    pub fields: Vec<&'a [u8]>,
    /// Line numbers (1-based, counting `\n`) before and after reading the record.
    pub line_before: u64,
    /// Empty lines the parser skipped before the record began.
    pub blank_lines_before: u64,
    pub line_after: u64,
    pub overflow: Option<Overflow>,
}

/// A record that did not fit: its true size and the SHA-256 of its raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Overflow {
    pub bytes: u64,
    pub sha256: String,
    /// More fields than [`MAX_COLUMNS`] (rather than more bytes).
    pub too_wide: bool,
}

pub(super) struct BoundedCsv<R> {
    input: R,
    core: csv_core::Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
    raw: RawBytes,
    /// Bytes consumed from `input` so far.
    pub consumed: u64,
    done: bool,
}

impl<R: BufRead> BoundedCsv<R> {
    pub fn new(input: R) -> BoundedCsv<R> {
        BoundedCsv {
            input,
            core: csv_core::ReaderBuilder::new().build(),
            out: vec![0; MAX_ROW_BYTES],
            ends: vec![0; MAX_COLUMNS + 1],
            raw: RawBytes::default(),
            consumed: 0,
            done: false,
        }
    }

    pub fn line(&self) -> u64 {
        self.core.line()
    }

    pub fn get_ref(&self) -> &R {
        &self.input
    }

    /// The next record, `None` at the end. `limit` bounds the bytes kept (the header is
    /// held to less than a data row); a record over it comes back with `overflow` set,
    /// read to its end when `read_past` (a data row: the next row follows it) or at once
    /// (a header: the file is refused, nothing follows).
    pub fn read(&mut self, limit: usize, read_past: bool) -> std::io::Result<Option<CsvRecord<'_>>> {
        use csv_core::ReadRecordResult as R;
        if self.done {
            return Ok(None);
        }
        let limit = limit.min(self.out.len());
        let line_before = self.core.line();
        self.raw.clear();
        let (mut nout, mut nend) = (0usize, 0usize);
        let mut overflow_wide = None::<bool>;
        // once over the bounds the rest of the record is parsed into scratch space
        let mut scratch = [0u8; 4096];
        let mut scratch_ends = [0usize; 64];
        loop {
            let input = self.input.fill_buf()?;
            let (res, nin, o, e) = match overflow_wide {
                None => self.core.read_record(input, &mut self.out[nout..limit], &mut self.ends[nend..]),
                Some(_) => self.core.read_record(input, &mut scratch, &mut scratch_ends),
            };
            self.raw.add(&input[..nin]);
            self.input.consume(nin);
            self.consumed += nin as u64;
            if overflow_wide.is_none() {
                nout += o;
                nend += e;
            }
            match res {
                R::InputEmpty => continue,
                R::OutputFull | R::OutputEndsFull if overflow_wide.is_none() => {
                    overflow_wide = Some(res == R::OutputEndsFull);
                    if !read_past {
                        self.done = true;
                        break;
                    }
                }
                R::OutputFull | R::OutputEndsFull => continue,
                R::Record => break,
                R::End => {
                    self.done = true;
                    return Ok(None);
                }
            }
        }
        let overflow =
            overflow_wide.map(|too_wide| Overflow { bytes: self.raw.len, sha256: self.raw.sha256(), too_wide });
        let mut fields = Vec::with_capacity(nend + 1);
        let mut start = 0;
        for &end in &self.ends[..nend] {
            let end = end.min(nout);
            fields.push(&self.out[start.min(end)..end]);
            start = end;
        }
        if overflow.is_some() && start < nout {
            // the field the bounds cut
            fields.push(&self.out[start..nout]);
        }
        let blank_lines_before = self.raw.leading_newlines;
        Ok(Some(CsvRecord { fields, line_before, blank_lines_before, line_after: self.core.line(), overflow }))
    }
}

/// The raw bytes of the record being read: kept up to [`MAX_ROW_BYTES`], hashed past
/// that, so that an overlong row is named by the SHA-256 of what the department sent.
#[derive(Default)]
pub(super) struct RawBytes {
    kept: Vec<u8>,
    hasher: Option<Sha256>,
    pub len: u64,
    /// Newlines before the first other byte: the empty lines a record starts with.
    pub leading_newlines: u64,
    started: bool,
}

impl RawBytes {
    pub fn clear(&mut self) {
        self.kept.clear();
        self.hasher = None;
        self.len = 0;
        self.leading_newlines = 0;
        self.started = false;
    }

    pub fn add(&mut self, bytes: &[u8]) {
        self.len += bytes.len() as u64;
        if !self.started {
            let blank = bytes.iter().take_while(|&&b| b == b'\n').count();
            self.leading_newlines += blank as u64;
            self.started = blank < bytes.len();
        }
        if let Some(h) = &mut self.hasher {
            h.update(bytes);
        } else if self.kept.len() + bytes.len() > MAX_ROW_BYTES {
            let mut h = Sha256::new();
            h.update(&self.kept);
            h.update(bytes);
            self.kept.clear();
            self.hasher = Some(h);
        } else {
            self.kept.extend_from_slice(bytes);
        }
    }

    pub fn sha256(&mut self) -> String {
        let digest: [u8; 32] = match self.hasher.take() {
            Some(h) => h.finalize().into(),
            None => Sha256::digest(&self.kept).into(),
        };
        xinyong_ledger::hex(&digest)
    }
}
