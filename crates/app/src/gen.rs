//! Synthetic data (合成数据) in the catalog's import format, for demos, tests and
//! benchmarks: Beijing subjects with valid codes, and records of every catalog item
//! attached to them, optionally with a known share of dirty rows.
//!
//! Everything is a function of [`GenOptions`]: the same options give byte-identical
//! files. Each item draws from its own ChaCha20 stream, so the registration file does
//! not change when only `records` changes.
//!
//! Dirty rows (`dirty_percent` > 0): about that share of each file's rows carries one
//! defect, chosen round-robin:
//! - wrong check character of the subject code, a required field left empty, an
//!   impossible date in a required date field: NEW rows (own document number; for
//!   registration an extra subject not counted in `subjects`) that must be quarantined;
//! - an exact copy of an earlier good row: a duplicate;
//! - an empty line (CSV also a line of only commas): blank;
//! - cosmetic noise on a good row (full-width or lower-case code with spaces, date
//!   spelled `２０２４－０３－０５` / `2024年3月5日` / `2024/3/5`): still accepted.
//!
//! The manifest says per file what an importer must report.

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::rc::Rc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use time::{Date, Month};
use xinyong_core::catalog::{FieldType, Item};
use xinyong_core::codes::USCC_ALPHABET;
use xinyong_core::{Catalog, ResidentId, SubjectCode, Uscc};

#[path = "gen/actions.rs"]
mod actions;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenFormat {
    Csv,
    Jsonl,
    /// CSV, except credit commitments as JSON Lines (they come from online signing
    /// systems as JSON): one data set that exercises both readers.
    Mixed,
}

impl GenFormat {
    /// The concrete format of one item's file.
    pub fn for_item(self, item: &str) -> GenFormat {
        match self {
            GenFormat::Mixed if item == "credit_commitment" => GenFormat::Jsonl,
            GenFormat::Mixed => GenFormat::Csv,
            f => f,
        }
    }
}

/// Text encoding of CSV output (JSONL is always UTF-8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenEncoding {
    Utf8,
    Gb18030,
}

#[derive(Debug, Clone)]
pub struct GenOptions {
    /// Good registration rows (distinct subjects).
    pub subjects: u64,
    /// Good records over the other items.
    pub records: u64,
    pub seed: u64,
    /// 0..=100 (larger values count as 100).
    pub dirty_percent: u32,
    pub format: GenFormat,
    pub encoding: GenEncoding,
    /// No decision date lies after this day.
    pub latest_date: Date,
}

/// What an importer must report for one file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileManifest {
    pub item: String,
    /// File name inside the output directory.
    pub file: String,
    /// Data lines written (header excluded), blank lines included.
    pub rows: u64,
    /// Distinct good rows, cosmetic ones included.
    pub expect_accepted: u64,
    pub expect_quarantined: u64,
    /// Exact copies of earlier good rows.
    pub expect_duplicates: u64,
    pub expect_blank: u64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct GenManifest {
    pub seed: u64,
    pub subjects: u64,
    pub records: u64,
    pub files: Vec<FileManifest>,
}

#[derive(Debug, thiserror::Error)]
pub enum GenError {
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("CSV error: {0}")]
    Csv(#[from] csv::Error),
    #[error("catalog: {0}")]
    Catalog(String),
}

/// Writes one file per catalog item (`<item>.csv` or `<item>.jsonl`) and
/// `manifest.json` into `out_dir` (created if missing), and returns the manifest.
pub fn generate(opts: &GenOptions, out_dir: &Path) -> Result<GenManifest, GenError> {
    let catalog = Catalog::bundled().map_err(|e| GenError::Catalog(e.to_string()))?;
    let item =
        |code: &str| catalog.item(code).ok_or_else(|| GenError::Catalog(format!("the catalog has no item '{code}'")));
    if opts.subjects == 0 && opts.records > 0 {
        return Err(GenError::Catalog("records need at least one subject to attach to".into()));
    }
    std::fs::create_dir_all(out_dir)?;
    let pct = opts.dirty_percent.min(100);
    let words = Words::new();
    let authorities = Authorities::new()?;
    let latest = opts.latest_date;
    let est_hi = latest.min(ymd(2024, 12, 31));
    let est_lo = ymd(1995, 1, 1).min(est_hi);
    let rec_lo = ymd(2019, 1, 1).min(latest);

    let mut files = Vec::new();
    let reg = item("registration")?;
    let mut subject_gen = SubjectGen { words: &words, auth: &authorities, codes: HashSet::new(), est_lo, est_hi };
    let mut subjects = Vec::with_capacity(usize::try_from(opts.subjects).unwrap_or(0));
    {
        let cols = RegCols::new(reg)?;
        let mut rng = stream(opts.seed, 1);
        let mut out = Out::create(out_dir, reg, opts)?;
        let meta = Meta::new(reg)?;
        let mut make = |rng: &mut ChaCha20Rng, row: &mut Row, good: bool| -> Result<(), GenError> {
            let s = subject_gen.registration_row(rng, row, &cols);
            if good {
                subjects.push(s);
            }
            Ok(())
        };
        run(&mut out, &mut rng, &meta, opts.subjects, pct, &mut make)?;
        files.push(out.finish()?);
    }

    let market: Vec<u32> =
        (0..subjects.len()).filter(|&i| subjects[i].kind.market_registered()).map(|i| i as u32).collect();
    let world = World { words: &words, auth: &authorities, subjects, market, rec_lo, latest };

    // licence 29 %, penalty 30 %, commitment 8 %, honour 6 %, abnormal 6 %, dishonest 3 %, false litigation 1 %,
    // the other administrative actions, tax ratings and quality failures 17 %
    let mut shares: Vec<(&str, u64, u64)> = vec![
        ("admin_licence", 29, 2),
        ("admin_penalty", 30, 3),
        ("credit_commitment", 8, 4),
        ("honour", 6, 5),
        ("abnormal_operation", 6, 6),
        ("dishonest_debtor", 3, 7),
        ("false_litigation", 1, 8),
    ];
    shares.extend(actions::SHARES);
    // criminal judgments (issue 15's special report): a file with its header and no rows
    // yet, so that every existing seed keeps its data
    shares.push(("criminal_judgment", 0, 30));
    let mut cum = 0u64;
    let mut counts = Vec::new();
    for (code, share, stream_id) in shares {
        let before = split_point(opts.records, cum);
        cum += share;
        counts.push((code, split_point(opts.records, cum) - before, stream_id));
    }
    let mut by_code: Vec<(&str, u64, u64)> = counts;
    // files in catalog order after registration
    by_code.sort_by(|a, b| a.0.cmp(b.0));
    for (code, n, stream_id) in by_code {
        let it = item(code)?;
        let mut rng = stream(opts.seed, stream_id);
        let mut out = Out::create(out_dir, it, opts)?;
        let meta = Meta::new(it)?;
        let mut seq = 0u64;
        match code {
            "admin_licence" => {
                let c = LicenceCols::new(it)?;
                let mut make = |rng: &mut ChaCha20Rng, row: &mut Row, _good: bool| -> Result<(), GenError> {
                    seq += 1;
                    world.licence_row(rng, row, &c, seq);
                    Ok(())
                };
                run(&mut out, &mut rng, &meta, n, pct, &mut make)?;
            }
            "admin_penalty" => {
                let c = PenaltyCols::new(it)?;
                let mut make = |rng: &mut ChaCha20Rng, row: &mut Row, _good: bool| -> Result<(), GenError> {
                    seq += 1;
                    world.penalty_row(rng, row, &c, seq);
                    Ok(())
                };
                run(&mut out, &mut rng, &meta, n, pct, &mut make)?;
            }
            "credit_commitment" => {
                let c = CommitmentCols::new(it)?;
                let mut make = |rng: &mut ChaCha20Rng, row: &mut Row, _good: bool| -> Result<(), GenError> {
                    seq += 1;
                    world.commitment_row(rng, row, &c, seq);
                    Ok(())
                };
                run(&mut out, &mut rng, &meta, n, pct, &mut make)?;
            }
            "honour" => {
                let c = HonourCols::new(it)?;
                let mut make = |rng: &mut ChaCha20Rng, row: &mut Row, _good: bool| -> Result<(), GenError> {
                    seq += 1;
                    world.honour_row(rng, row, &c, seq);
                    Ok(())
                };
                run(&mut out, &mut rng, &meta, n, pct, &mut make)?;
            }
            "abnormal_operation" => {
                let c = AbnormalCols::new(it)?;
                let mut make = |rng: &mut ChaCha20Rng, row: &mut Row, _good: bool| -> Result<(), GenError> {
                    seq += 1;
                    world.abnormal_row(rng, row, &c, seq);
                    Ok(())
                };
                run(&mut out, &mut rng, &meta, n, pct, &mut make)?;
            }
            // header only: no rows yet (share 0), so every seed keeps its data
            "criminal_judgment" => {}
            "false_litigation" => {
                let c = FalseLitigationCols::new(it)?;
                let mut make = |rng: &mut ChaCha20Rng, row: &mut Row, _good: bool| -> Result<(), GenError> {
                    seq += 1;
                    world.false_litigation_row(rng, row, &c, seq);
                    Ok(())
                };
                run(&mut out, &mut rng, &meta, n, pct, &mut make)?;
            }
            _ if actions::handles(code) => actions::write(&world, it, &mut out, &mut rng, &meta, n, pct)?,
            _ => {
                let c = DebtorCols::new(it)?;
                let mut persons: Vec<(String, String)> = Vec::new();
                let mut make = |rng: &mut ChaCha20Rng, row: &mut Row, _good: bool| -> Result<(), GenError> {
                    seq += 1;
                    world.debtor_row(rng, row, &c, seq, &mut persons);
                    Ok(())
                };
                run(&mut out, &mut rng, &meta, n, pct, &mut make)?;
            }
        }
        files.push(out.finish()?);
    }

    let manifest = GenManifest { seed: opts.seed, subjects: opts.subjects, records: opts.records, files };
    let mut f = BufWriter::new(File::create(out_dir.join("manifest.json"))?);
    serde_json::to_writer_pretty(&mut f, &manifest).map_err(io::Error::from)?;
    f.write_all(b"\n")?;
    f.flush()?;
    Ok(manifest)
}

/// `floor(records * percent / 100)` without overflow.
fn split_point(records: u64, percent: u64) -> u64 {
    u64::try_from(u128::from(records) * u128::from(percent) / 100).unwrap_or(records)
}

fn stream(seed: u64, id: u64) -> ChaCha20Rng {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    rng.set_stream(id);
    rng
}

// ---------------------------------------------------------------------------------
// Rows, defects and the main loop
// ---------------------------------------------------------------------------------

/// One row's values in the item's field order; the strings are reused between rows.
struct Row {
    v: Vec<String>,
}

impl Row {
    fn clear(&mut self) {
        for s in &mut self.v {
            s.clear();
        }
    }
}

/// What the defects need to know about an item.
struct Meta {
    code: usize,
    code_ty: FieldType,
    required: Vec<usize>,
    required_dates: Vec<usize>,
    decision_date: Option<usize>,
}

impl Meta {
    fn new(item: &Item) -> Result<Meta, GenError> {
        let pos = |name: &str| item.fields.iter().position(|f| f.name == name);
        let code = pos(&item.subject_code_field)
            .ok_or_else(|| GenError::Catalog(format!("item {}: no subject code field", item.code)))?;
        Ok(Meta {
            code,
            code_ty: item.fields[code].ty,
            required: (0..item.fields.len()).filter(|&i| item.fields[i].required).collect(),
            required_dates: (0..item.fields.len())
                .filter(|&i| item.fields[i].required && item.fields[i].ty == FieldType::Date)
                .collect(),
            decision_date: item.decision_date_field.as_deref().and_then(pos),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Defect {
    CheckChar,
    EmptyRequired,
    BadDate,
    Duplicate,
    Blank,
    Cosmetic,
}

const DEFECTS: [Defect; 6] =
    [Defect::CheckChar, Defect::EmptyRequired, Defect::BadDate, Defect::Duplicate, Defect::Blank, Defect::Cosmetic];

/// Writes `good` good rows, interleaving dirty rows with probability `pct` per line.
fn run(
    out: &mut Out,
    rng: &mut ChaCha20Rng,
    meta: &Meta,
    good: u64,
    pct: u32,
    make: &mut dyn FnMut(&mut ChaCha20Rng, &mut Row, bool) -> Result<(), GenError>,
) -> Result<(), GenError> {
    let mut row = Row { v: vec![String::new(); out.n_fields] };
    let mut done = 0u64;
    let mut next_defect = 0usize;
    while done < good {
        let dirty = pct > 0 && rng.gen_range(0..100u32) < pct;
        if !dirty {
            row.clear();
            make(rng, &mut row, true)?;
            out.good(rng, &row)?;
            done += 1;
            continue;
        }
        let defect = DEFECTS[next_defect % DEFECTS.len()];
        next_defect += 1;
        match defect {
            Defect::CheckChar => {
                row.clear();
                make(rng, &mut row, false)?;
                corrupt_check_char(rng, &mut row.v[meta.code], meta.code_ty);
                out.quarantined(&row)?;
            }
            Defect::EmptyRequired => {
                row.clear();
                make(rng, &mut row, false)?;
                let i = meta.required[rng.gen_range(0..meta.required.len())];
                let s = &mut row.v[i];
                s.clear();
                match rng.gen_range(0..4u32) {
                    0 => s.push('\u{3000}'),
                    1 => s.push(' '),
                    _ => {}
                }
                out.quarantined(&row)?;
            }
            Defect::BadDate if !meta.required_dates.is_empty() => {
                row.clear();
                make(rng, &mut row, false)?;
                let i = meta.required_dates[rng.gen_range(0..meta.required_dates.len())];
                const BAD: [&str; 6] = ["2023-02-30", "昨天", "2024-13-01", "2021-04-31", "0000-00-00", "2019/2/29"];
                row.v[i].clear();
                row.v[i].push_str(BAD[rng.gen_range(0..BAD.len())]);
                out.quarantined(&row)?;
            }
            Defect::Duplicate if out.duplicate(rng)? => {}
            Defect::Blank => out.blank(rng)?,
            // cosmetic, and the fallback when there is nothing to copy yet
            _ => {
                row.clear();
                make(rng, &mut row, true)?;
                cosmetic(rng, &mut row, meta);
                out.good(rng, &row)?;
                done += 1;
            }
        }
    }
    Ok(())
}

/// Replaces the last character by another alphabet character that makes the code invalid.
fn corrupt_check_char(rng: &mut ChaCha20Rng, code: &mut String, ty: FieldType) {
    let Some(last) = code.chars().last() else { return };
    let body_len = code.len() - last.len_utf8();
    let start = rng.gen_range(0..USCC_ALPHABET.len());
    for k in 0..USCC_ALPHABET.len() {
        let c = char::from(USCC_ALPHABET[(start + k) % USCC_ALPHABET.len()]);
        if c == last {
            continue;
        }
        code.truncate(body_len);
        code.push(c);
        let invalid = match ty {
            FieldType::Uscc => Uscc::parse(code).is_err(),
            FieldType::ResidentId => ResidentId::parse(code).is_err(),
            _ => SubjectCode::parse(code).is_err(),
        };
        if invalid {
            return;
        }
    }
}

/// Valid but untidy spellings of the subject code and the decision date.
fn cosmetic(rng: &mut ChaCha20Rng, row: &mut Row, meta: &Meta) {
    let code = std::mem::take(&mut row.v[meta.code]);
    let s = &mut row.v[meta.code];
    match rng.gen_range(0..3u32) {
        0 => s.extend(code.chars().map(to_fullwidth)),
        1 => {
            for (i, c) in code.chars().enumerate() {
                if i > 0 && i % 4 == 0 {
                    s.push(' ');
                }
                s.push(c.to_ascii_lowercase());
            }
        }
        _ => {
            s.push(' ');
            s.push_str(&code.to_ascii_lowercase());
            s.push(' ');
        }
    }
    if let Some(i) = meta.decision_date {
        let Some(d) = xinyong_core::record::parse_date(&row.v[i]) else { return };
        let s = &mut row.v[i];
        s.clear();
        match rng.gen_range(0..3u32) {
            0 => {
                let mut plain = String::new();
                put_date(&mut plain, d);
                s.extend(plain.chars().map(to_fullwidth));
            }
            1 => put(s, format_args!("{}年{}月{}日", d.year(), u8::from(d.month()), d.day())),
            _ => put(s, format_args!("{}/{}/{}", d.year(), u8::from(d.month()), d.day())),
        }
    }
}

/// ASCII digits, letters and '-' to their full-width forms (U+FF0D for '-').
fn to_fullwidth(c: char) -> char {
    if c.is_ascii_alphanumeric() || c == '-' { char::from_u32(c as u32 + 0xfee0).unwrap_or(c) } else { c }
}

// ---------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------

/// A `Write` into a buffer the generator can drain after each record.
#[derive(Clone, Default)]
struct Shared(Rc<RefCell<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// GB18030 is stateless, so a line's encoding is the concatenation of its characters'
/// encodings: each BMP character is encoded once by `encoding_rs::GB18030` and cached
/// (encoding whole lines with encoding_rs is ten times slower for Chinese text).
#[derive(Default)]
struct GbTable {
    /// By code point: `[len, bytes…]`, `len == 0` while not yet computed.
    bmp: Vec<[u8; 5]>,
}

impl GbTable {
    fn encode(&mut self, text: &str, out: &mut Vec<u8>) {
        if self.bmp.is_empty() {
            self.bmp = vec![[0u8; 5]; 0x10000];
        }
        let mut buf = [0u8; 4];
        for c in text.chars() {
            let cp = c as usize;
            if cp < 0x80 {
                out.push(cp as u8);
                continue;
            }
            let piece = c.encode_utf8(&mut buf);
            let Some(slot) = self.bmp.get_mut(cp) else {
                out.extend_from_slice(&encoding_rs::GB18030.encode(piece).0);
                continue;
            };
            if slot[0] == 0 {
                let (bytes, _, _) = encoding_rs::GB18030.encode(piece);
                if bytes.len() > 4 {
                    // unmappable (encoding_rs writes a character reference): not cached
                    out.extend_from_slice(&bytes);
                    continue;
                }
                slot[0] = bytes.len() as u8;
                slot[1..=bytes.len()].copy_from_slice(&bytes);
            }
            let n = usize::from(slot[0]);
            out.extend_from_slice(&slot[1..=n]);
        }
    }
}

const RESERVOIR: usize = 256;

struct Out {
    file: BufWriter<File>,
    /// `Some` for CSV: the csv writer and the buffer it writes into.
    csv: Option<(csv::Writer<Shared>, Shared)>,
    /// JSONL: `"name":` per field, escaped.
    json_keys: Vec<Vec<u8>>,
    gb18030: bool,
    gb: GbTable,
    n_fields: usize,
    /// The current line in UTF-8, and encoded (GB18030 only).
    line: Vec<u8>,
    encoded: Vec<u8>,
    /// A uniform sample of earlier good lines, the sources of duplicates.
    reservoir: Vec<Vec<u8>>,
    good_seen: u64,
    manifest: FileManifest,
}

impl Out {
    fn create(dir: &Path, item: &Item, opts: &GenOptions) -> Result<Out, GenError> {
        let format = opts.format.for_item(&item.code);
        let ext = if format == GenFormat::Jsonl { "jsonl" } else { "csv" };
        let file_name = format!("{}.{ext}", item.code);
        let file = BufWriter::with_capacity(1 << 16, File::create(dir.join(&file_name))?);
        let csv = match format {
            GenFormat::Csv | GenFormat::Mixed => {
                let shared = Shared::default();
                let w = csv::WriterBuilder::new()
                    .terminator(csv::Terminator::Any(b'\n'))
                    .buffer_capacity(1 << 12)
                    .from_writer(shared.clone());
                Some((w, shared))
            }
            GenFormat::Jsonl => None,
        };
        let mut json_keys = Vec::new();
        for f in &item.fields {
            let mut k = serde_json::to_vec(&f.name).map_err(io::Error::from)?;
            k.push(b':');
            json_keys.push(k);
        }
        let mut out = Out {
            file,
            csv,
            json_keys,
            gb18030: format != GenFormat::Jsonl && opts.encoding == GenEncoding::Gb18030,
            gb: GbTable::default(),
            n_fields: item.fields.len(),
            line: Vec::with_capacity(1024),
            encoded: Vec::with_capacity(1024),
            reservoir: Vec::new(),
            good_seen: 0,
            manifest: FileManifest {
                item: item.code.clone(),
                file: file_name,
                rows: 0,
                expect_accepted: 0,
                expect_quarantined: 0,
                expect_duplicates: 0,
                expect_blank: 0,
            },
        };
        if let Some((w, shared)) = &mut out.csv {
            w.write_record(item.fields.iter().map(|f| f.name.as_str()))?;
            w.flush()?;
            std::mem::swap(&mut out.line, &mut *shared.0.borrow_mut());
            out.encode();
            out.emit()?;
        }
        Ok(out)
    }

    /// Renders `row` into `line` (and `encoded`).
    fn render(&mut self, row: &Row) -> Result<(), GenError> {
        self.line.clear();
        match &mut self.csv {
            Some((w, shared)) => {
                w.write_record(&row.v)?;
                w.flush()?;
                std::mem::swap(&mut self.line, &mut *shared.0.borrow_mut());
            }
            None => {
                self.line.push(b'{');
                for (i, (k, v)) in self.json_keys.iter().zip(&row.v).enumerate() {
                    if i > 0 {
                        self.line.push(b',');
                    }
                    self.line.extend_from_slice(k);
                    serde_json::to_writer(&mut self.line, v.as_str()).map_err(io::Error::from)?;
                }
                self.line.extend_from_slice(b"}\n");
            }
        }
        self.encode();
        Ok(())
    }

    fn encode(&mut self) {
        if !self.gb18030 {
            return;
        }
        self.encoded.clear();
        match std::str::from_utf8(&self.line) {
            Ok(text) => self.gb.encode(text, &mut self.encoded),
            Err(_) => self.encoded.extend_from_slice(&self.line),
        }
    }

    fn bytes(&self) -> &[u8] {
        if self.gb18030 { &self.encoded } else { &self.line }
    }

    fn emit(&mut self) -> io::Result<()> {
        let bytes = if self.gb18030 { &self.encoded } else { &self.line };
        self.file.write_all(bytes)
    }

    fn good(&mut self, rng: &mut ChaCha20Rng, row: &Row) -> Result<(), GenError> {
        self.render(row)?;
        self.emit()?;
        self.manifest.rows += 1;
        self.manifest.expect_accepted += 1;
        self.good_seen += 1;
        if self.reservoir.len() < RESERVOIR {
            let copy = self.bytes().to_vec();
            self.reservoir.push(copy);
        } else {
            let j = usize::try_from(rng.gen_range(0..self.good_seen)).unwrap_or(usize::MAX);
            if j < RESERVOIR {
                let src = if self.gb18030 { &self.encoded } else { &self.line };
                let slot = &mut self.reservoir[j];
                slot.clear();
                slot.extend_from_slice(src);
            }
        }
        Ok(())
    }

    fn quarantined(&mut self, row: &Row) -> Result<(), GenError> {
        self.render(row)?;
        self.emit()?;
        self.manifest.rows += 1;
        self.manifest.expect_quarantined += 1;
        Ok(())
    }

    /// Writes a copy of an earlier good line; `false` when there is none yet.
    fn duplicate(&mut self, rng: &mut ChaCha20Rng) -> Result<bool, GenError> {
        if self.reservoir.is_empty() {
            return Ok(false);
        }
        let j = rng.gen_range(0..self.reservoir.len());
        self.file.write_all(&self.reservoir[j])?;
        self.manifest.rows += 1;
        self.manifest.expect_duplicates += 1;
        Ok(true)
    }

    fn blank(&mut self, rng: &mut ChaCha20Rng) -> Result<(), GenError> {
        // drawn in every format, so CSV and JSONL files carry the same rows
        let commas = rng.gen_range(0..2u32) == 0;
        if commas && self.csv.is_some() {
            for _ in 1..self.n_fields {
                self.file.write_all(b",")?;
            }
        }
        self.file.write_all(b"\n")?;
        self.manifest.rows += 1;
        self.manifest.expect_blank += 1;
        Ok(())
    }

    fn finish(mut self) -> Result<FileManifest, GenError> {
        self.file.flush()?;
        Ok(self.manifest)
    }
}

// ---------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------

fn put(s: &mut String, args: std::fmt::Arguments<'_>) {
    let _ = s.write_fmt(args);
}

fn put_date(s: &mut String, d: Date) {
    put(s, format_args!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()));
}

fn ymd(y: i32, m: u8, d: u8) -> Date {
    Month::try_from(m).ok().and_then(|m| Date::from_calendar_date(y, m, d).ok()).unwrap_or(Date::MIN)
}

fn rand_date(rng: &mut ChaCha20Rng, lo: Date, hi: Date) -> Date {
    let (a, b) = (lo.to_julian_day(), hi.to_julian_day());
    if b <= a {
        return lo;
    }
    Date::from_julian_day(rng.gen_range(a..=b)).unwrap_or(lo)
}

fn add_days(d: Date, n: i64) -> Date {
    d.checked_add(time::Duration::days(n)).unwrap_or(d)
}

fn add_months(d: Date, n: i32) -> Date {
    let m0 = d.year() * 12 + i32::from(u8::from(d.month())) - 1 + n;
    let (y, m) = (m0.div_euclid(12), (m0.rem_euclid(12) + 1) as u8);
    let Ok(month) = Month::try_from(m) else { return d };
    let day = d.day().min(month.length(y));
    Date::from_calendar_date(y, month, day).unwrap_or(d)
}

/// Index by integer weights.
fn weighted(rng: &mut ChaCha20Rng, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    if total == 0 {
        return 0;
    }
    let mut x = rng.gen_range(0..total);
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

/// A random word of a space-separated list, `default` when the list is empty.
fn pick_word(rng: &mut ChaCha20Rng, list: &'static str, default: &'static str) -> &'static str {
    let n = list.split_whitespace().count();
    if n == 0 {
        return default;
    }
    list.split_whitespace().nth(rng.gen_range(0..n)).unwrap_or(default)
}

fn pick<'a>(rng: &mut ChaCha20Rng, list: &[&'a str]) -> &'a str {
    list.get(rng.gen_range(0..list.len().max(1))).copied().unwrap_or("")
}

/// Skewed index in `0..n`: the product of three uniforms (no floats, so identical on
/// every platform). The lowest 1 % of indices draw about 16 % of picks.
fn skewed(rng: &mut ChaCha20Rng, n: usize) -> usize {
    let n64 = n.max(1) as u64;
    let a = u128::from(rng.gen_range(0..n64));
    let b = u128::from(rng.gen_range(0..n64));
    let c = u128::from(rng.gen_range(0..n64));
    let n128 = u128::from(n64);
    (a * b / n128 * c / n128) as usize
}

fn chance(rng: &mut ChaCha20Rng, percent: u32) -> bool {
    rng.gen_range(0..100u32) < percent
}

/// Amount in fen → 万元 (up to 6 decimals, trailing zeros trimmed).
fn put_wan(s: &mut String, fen: u64) {
    let (int, frac) = (fen / 1_000_000, fen % 1_000_000);
    if frac == 0 {
        put(s, format_args!("{int}"));
    } else {
        let mut f = format!("{frac:06}");
        while f.ends_with('0') {
            f.pop();
        }
        put(s, format_args!("{int}.{f}"));
    }
}

/// Amount in fen → yuan (`12345` or `12345.6`).
fn put_yuan(s: &mut String, fen: u64) {
    let (y, c) = (fen / 100, fen % 100);
    if c == 0 {
        put(s, format_args!("{y}"));
    } else if c % 10 == 0 {
        put(s, format_args!("{y}.{}", c / 10));
    } else {
        put(s, format_args!("{y}.{c:02}"));
    }
}

/// A fine between `lo` and `hi` yuan, in fen: mostly round, sometimes computed (odd).
fn amount(rng: &mut ChaCha20Rng, lo: u64, hi: u64) -> u64 {
    let yuan = rng.gen_range(lo..=hi.max(lo));
    let r = rng.gen_range(0..10u32);
    let fen = if r < 7 {
        let step = if lo >= 10_000 {
            1_000
        } else if lo >= 1_000 {
            100
        } else {
            50
        };
        (yuan / step).max(1) * step * 100
    } else if r < 9 {
        yuan * 100
    } else {
        yuan * 100 + rng.gen_range(1..100)
    };
    fen.max(lo * 100)
}

fn cols<const N: usize>(item: &Item, names: [&str; N]) -> Result<[usize; N], GenError> {
    let mut out = [0usize; N];
    for (o, n) in out.iter_mut().zip(names) {
        *o = item
            .fields
            .iter()
            .position(|f| f.name == n)
            .ok_or_else(|| GenError::Catalog(format!("item {} has no field '{n}'", item.code)))?;
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------
// Places, authorities and words
// ---------------------------------------------------------------------------------

struct District {
    code: &'static str,
    name: &'static str,
    short: &'static str,
    /// Abbreviation used in document numbers (京朝…, 京海…).
    abbr: &'static str,
    weight: u32,
    rural_weight: u32,
    /// Streets of the district, separated by spaces.
    roads: &'static str,
    /// Rural towns (镇) of the district, separated by spaces.
    towns: &'static str,
}

#[allow(clippy::too_many_arguments)]
const fn district(
    code: &'static str,
    name: &'static str,
    short: &'static str,
    abbr: &'static str,
    weight: u32,
    rural_weight: u32,
    roads: &'static str,
    towns: &'static str,
) -> District {
    District { code, name, short, abbr, weight, rural_weight, roads, towns }
}

#[rustfmt::skip]
const DISTRICTS: [District; 16] = [
    // division, name, short name, document abbreviation, weight, weight for cooperatives, streets, rural towns
    district("110101", "东城区", "东城", "东", 6, 0, "东直门内大街 朝阳门北大街 东四十条 王府井大街 崇文门外大街 和平里东街", ""),
    district("110102", "西城区", "西城", "西", 7, 0, "金融大街 西直门南大街 广安门外大街 长椿街 德胜门外大街 阜成门内大街", ""),
    district("110105", "朝阳区", "朝阳", "朝", 22, 2, "建国路 光华路 酒仙桥路 望京街 朝阳北路 东三环中路 广顺北大街 十里堡路", "金盏 孙河 崔各庄 黑庄户"),
    district("110106", "丰台区", "丰台", "丰", 8, 2, "丰台北路 科学城路 马家堡东路 南三环西路 丽泽路 丰管路", "王佐 长辛店"),
    district("110107", "石景山区", "石景山", "石", 3, 0, "石景山路 鲁谷路 古城大街 阜石路 实兴大街", ""),
    district("110108", "海淀区", "海淀", "海", 20, 3, "中关村大街 学院路 知春路 上地十街 西三环北路 苏州街 北四环西路", "苏家坨 上庄 温泉 西北旺"),
    district("110109", "门头沟区", "门头沟", "门", 2, 5, "新桥大街 滨河路 石龙南路 双峪路", "斋堂 妙峰山 潭柘寺 雁翅 军庄"),
    district("110111", "房山区", "房山", "房", 4, 14, "良乡大街 拱辰大街 长政南街 阎村大街", "张坊 青龙湖 长阳 琉璃河 窦店 石楼"),
    district("110112", "通州区", "通州", "通", 6, 10, "新华大街 通惠河北路 运河东大街 九棵树东路 玉桥中路", "宋庄 漷县 永乐店 西集 于家务"),
    district("110113", "顺义区", "顺义", "顺", 5, 12, "府前街 顺义大街 京顺路 裕民大街 仁和镇站前街", "北石槽 杨镇 李桥 木林 龙湾屯 北小营"),
    district("110114", "昌平区", "昌平", "昌", 6, 9, "昌平路 回龙观西大街 超前路 府学路 北清路", "南口 兴寿 崔村 小汤山 流村"),
    district("110115", "大兴区", "大兴", "兴", 6, 12, "兴华大街 黄村西大街 科创十三街 金星路", "榆垡 庞各庄 礼贤 魏善庄 安定 长子营"),
    district("110116", "怀柔区", "怀柔", "怀", 2, 9, "怀柔大街 青春路 雁栖大街 府前街", "雁栖 九渡河 桥梓 渤海 怀北"),
    district("110117", "平谷区", "平谷", "平", 1, 12, "平谷大街 府前街 新平北路 林荫北街", "马坊 金海湖 峪口 大华山 王辛庄 刘家店"),
    district("110118", "密云区", "密云", "密", 1, 10, "密云路 鼓楼东大街 滨河路 新中街", "溪翁庄 穆家峪 不老屯 古北口 西田各庄"),
    district("110119", "延庆区", "延庆", "延", 1, 8, "妫水北街 东外大街 高塔街 湖南东路", "康庄 永宁 八达岭 旧县 张山营"),
];

/// Resident ID region prefixes: Beijing districts and former counties, other provinces.
const BEIJING_REGIONS: [&str; 22] = [
    "110101", "110102", "110103", "110104", "110105", "110106", "110107", "110108", "110109", "110111", "110112",
    "110113", "110114", "110115", "110116", "110117", "110118", "110119", "110221", "110224", "110228", "110229",
];
const OTHER_REGIONS: [&str; 16] = [
    "120101", "130102", "130603", "140105", "150102", "210102", "230103", "320102", "340104", "360102", "370102",
    "410105", "420106", "430102", "510104", "610113",
];

const MARKET: usize = 0;
const CITY: usize = 1;
const ECO: usize = 2;
const SAFETY: usize = 3;
const HEALTH: usize = 4;
const BUILD: usize = 5;
const TAX: usize = 6;
const FIRE: usize = 7;
const HR: usize = 8;
const DATA: usize = 9;
const DEVREFORM: usize = 10;
const COMMERCE: usize = 11;
const GOVT: usize = 12;
const CIVIL: usize = 13;
const WATER: usize = 14;
const EDITORIAL: usize = 15;
const N_DEPTS: usize = 16;
const DEPT_ABBR: [&str; N_DEPTS] =
    ["市监", "城管", "环", "应急", "卫", "建", "税", "消", "人社", "政数", "发改", "商", "政", "民", "水", "编"];

fn dept_name(k: usize, d: &District) -> String {
    let (n, s) = (d.name, d.short);
    match k {
        MARKET => format!("北京市{n}市场监督管理局"),
        CITY => format!("北京市{n}城市管理综合行政执法局"),
        ECO => format!("北京市生态环境局{s}分局"),
        SAFETY => format!("北京市{n}应急管理局"),
        HEALTH => format!("北京市{n}卫生健康委员会"),
        BUILD => format!("北京市{n}住房和城乡建设委员会"),
        TAX => format!("国家税务总局北京市{n}税务局"),
        FIRE => format!("北京市{n}消防救援支队"),
        HR => format!("北京市{n}人力资源和社会保障局"),
        DATA => format!("北京市{n}政务服务和数据管理局"),
        DEVREFORM => format!("北京市{n}发展和改革委员会"),
        COMMERCE => format!("北京市{n}商务局"),
        GOVT => format!("北京市{n}人民政府"),
        CIVIL => format!("北京市{n}民政局"),
        WATER => format!("北京市{n}水务局"),
        _ => format!("中共北京市{n}委员会机构编制委员会办公室"),
    }
}

struct Authority {
    name: String,
    uscc: String,
    /// Document number prefix, e.g. 京朝市监.
    prefix: String,
}

/// District departments with valid organ codes ("11" + division). Fixed for all seeds.
struct Authorities {
    by_district: Vec<Vec<Authority>>,
}

impl Authorities {
    fn new() -> Result<Authorities, GenError> {
        let mut rng = ChaCha20Rng::seed_from_u64(0x7869_6e79_6f6e_6700);
        let mut seen = HashSet::new();
        let mut by_district = Vec::new();
        for d in &DISTRICTS {
            let mut depts = Vec::new();
            for (k, abbr) in DEPT_ABBR.iter().enumerate() {
                let mut uscc = None;
                for _ in 0..100 {
                    let mut first16 = String::with_capacity(16);
                    put(&mut first16, format_args!("11{}MB{:06}", d.code, rng.gen_range(0..1_000_000u32)));
                    match Uscc::complete(&first16) {
                        Some(u) if seen.insert(u.as_str().to_string()) => {
                            uscc = Some(u.as_str().to_string());
                            break;
                        }
                        _ => {}
                    }
                }
                let uscc = uscc.ok_or_else(|| GenError::Catalog("cannot build authority codes".into()))?;
                depts.push(Authority { name: dept_name(k, d), uscc, prefix: format!("京{}{abbr}", d.abbr) });
            }
            by_district.push(depts);
        }
        Ok(Authorities { by_district })
    }

    fn get(&self, district: usize, dept: usize) -> &Authority {
        &self.by_district[district % self.by_district.len()][dept % N_DEPTS]
    }
}

const SURNAMES: &str = "王 李 张 刘 陈 杨 赵 黄 周 吴 徐 孙 胡 朱 高 林 何 郭 马 罗 梁 宋 郑 谢 韩 唐 冯 于 董 萧 程 曹 袁 邓 许 \
    傅 沈 曾 彭 吕 苏 卢 蒋 蔡 贾 丁 魏 薛 叶 阎 余 潘 杜 戴 夏 钟 汪 田 任 姜 范 方 石 姚 谭 廖 邹 熊 金 陆 郝 孔 白 崔 康 \
    毛 邱 秦 江 史 顾 侯 邵 孟 龙 万 段 雷 钱 汤 尹 黎 易 常 武 乔 贺 赖 龚 文 欧阳 司马 上官";
const GIVEN_CHARS: &str = "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 霞 平 刚 辉 鹏 华 红 玲 斌 宇 浩 凯 健 俊 帆 \
    帅 旭 宁 龙 林 欣 晨 博 文 婷 颖 雪 琳 晶 妍 莉 慧 佳 嘉 怡 悦 欢 鑫 峰 波 飞 亮 成 春 秋 东 海 建 国 志 振 子 梓 涵 轩 \
    萱 诺 思 雨 晓 梦 瑶 瑞 泽 睿 航 昊 天 然 宏 庆 永 立 德 卫 新 忠 光 荣 丹 燕 蕾 萍 倩 婧 英 兰 玉 珍 凤";
const GIVEN_WORDS: &str = "秀英 桂英 建华 建国 志强 海燕 晓东 子涵 梓轩 一诺 欣怡 雨轩 浩然 秀兰 玉兰 淑珍 国华 建军 \
    志明 丽娟 晓明 文静 思远 嘉怡 子轩 宇航 佳琪 俊杰 雅婷 明轩";
const TRADE_CHARS: &str = "华 信 博 远 中 建 恒 泰 金 鑫 宏 达 瑞 丰 盛 安 康 永 兴 嘉 和 天 成 卓 越 海 润 新 星 辰 宇 \
    航 锦 程 鼎 创 银 河 北 清 源 晨 光 汇 智 佳 美 通 联 万 顺 正 德 鸿 运 坤 元 立 诚 明 伟 云 峰 景 睿 思 腾 飞 东 升 长 \
    青 同 合 益 民 福 祥 蓝 绿 洲 荆 凯 启 致 弘 毅 夏 科 燕 城 桥 国 业 世 图 易 优 乐 慧 雅 策 泽 晟 昊 铭 骏 融 浩 捷";
const TRADE_WORDS: &str = "华信 博远 中建 京东方 恒泰 金鑫 宏达 瑞丰 盛安 康泰 永兴 嘉和 天成 卓越 海润 新星 辰宇 锦程 \
    鼎创 银河 北辰 清源 晨光 汇智 佳美 通联 万顺 正德 鸿运 坤元 立诚 云峰 景睿 思腾 东升 长青 同心 合力 益民 福祥 蓝天 \
    绿洲 紫荆 凯旋 启航 致远 弘毅 华夏 中科 京华 燕山 金桥 天润 国信 联创 腾达 兴业 安泰 盛世 恒达 润泽 中盛 华宇 星河 \
    信达 宏图 世纪 东方 京通 中天 正元 华腾 博雅 易达 优品 乐活 智云 数联 慧通 泰和 德润 鑫源 金诚 宏远 天宇 华美 新源 \
    同创 中信达 华瑞通 金百合 蓝海湾 北方星 京城汇 百事通 万家乐 和信达 京西缘 燕京华";
const VILLAGES: &str = "东 西 南 北 前 后 上 下 大 小 新 老 杨 李 王 张 马 柳 桃 杏 果 河";

struct Words {
    surnames: Vec<&'static str>,
    given: Vec<&'static str>,
    given_words: Vec<&'static str>,
    trade_chars: Vec<&'static str>,
    trade_words: Vec<&'static str>,
    villages: Vec<&'static str>,
}

impl Words {
    fn new() -> Words {
        let split = |s: &'static str| s.split_whitespace().collect::<Vec<_>>();
        Words {
            surnames: split(SURNAMES),
            given: split(GIVEN_CHARS),
            given_words: split(GIVEN_WORDS),
            trade_chars: split(TRADE_CHARS),
            trade_words: split(TRADE_WORDS),
            villages: split(VILLAGES),
        }
    }

    fn person(&self, rng: &mut ChaCha20Rng, s: &mut String) {
        // common surnames are more common
        let i = skewed(rng, self.surnames.len()).min(rng.gen_range(0..self.surnames.len()));
        s.push_str(self.surnames[i]);
        match rng.gen_range(0..20u32) {
            0..=6 => s.push_str(pick(rng, &self.given)),
            7..=9 => s.push_str(pick(rng, &self.given_words)),
            _ => {
                s.push_str(pick(rng, &self.given));
                s.push_str(pick(rng, &self.given));
            }
        }
    }

    fn trade(&self, rng: &mut ChaCha20Rng, s: &mut String) {
        if chance(rng, 30) {
            s.push_str(pick(rng, &self.trade_words));
        } else {
            let a = rng.gen_range(0..self.trade_chars.len());
            let mut b = rng.gen_range(0..self.trade_chars.len() - 1);
            if b >= a {
                b += 1;
            }
            s.push_str(self.trade_chars[a]);
            s.push_str(self.trade_chars[b]);
        }
    }

    fn domicile(&self, rng: &mut ChaCha20Rng, s: &mut String, d: &District, rural: bool) {
        if rural {
            put(
                s,
                format_args!(
                    "北京市{}{}镇{}{}村{}号",
                    d.name,
                    pick_word(rng, d.towns, "城关"),
                    pick(rng, &self.villages),
                    pick(rng, &self.villages),
                    rng.gen_range(1..300u32)
                ),
            );
        } else {
            put(
                s,
                format_args!(
                    "北京市{}{}{}号{}号楼{}层{}",
                    d.name,
                    pick_word(rng, d.roads, "长安街"),
                    rng.gen_range(1..200u32),
                    rng.gen_range(1..20u32),
                    rng.gen_range(1..30u32),
                    rng.gen_range(1..40u32) * 100 + rng.gen_range(1..30u32)
                ),
            );
        }
    }
}

/// 18-digit resident ID with a birth date in `birth_lo..=birth_hi` years.
fn resident_id(rng: &mut ChaCha20Rng, s: &mut String, region: &str, birth_lo: i32, birth_hi: i32) {
    for _ in 0..10 {
        let y = rng.gen_range(birth_lo..=birth_hi.max(birth_lo));
        let birth = rand_date(rng, ymd(y, 1, 1), ymd(y, 12, 31));
        let mut first17 = String::with_capacity(17);
        put(
            &mut first17,
            format_args!(
                "{region}{:04}{:02}{:02}{:03}",
                birth.year(),
                u8::from(birth.month()),
                birth.day(),
                rng.gen_range(1..1000u32)
            ),
        );
        if let Some(id) = ResidentId::complete(&first17) {
            s.push_str(id.expose());
            return;
        }
    }
}

// ---------------------------------------------------------------------------------
// Subjects (registration)
// ---------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Enterprise,
    Individual,
    Cooperative,
    PrivateNonEnterprise,
    PublicInstitution,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::Enterprise => "91",
            Kind::Individual => "92",
            Kind::Cooperative => "93",
            Kind::PrivateNonEnterprise => "52",
            Kind::PublicInstitution => "12",
        }
    }

    /// Registered by market regulation (and so on the abnormal operation list).
    fn market_registered(self) -> bool {
        matches!(self, Kind::Enterprise | Kind::Individual | Kind::Cooperative)
    }

    /// 行政相对人类别
    fn party(self) -> &'static str {
        if self == Kind::Individual { "个体工商户" } else { "法人及非法人组织" }
    }
}

struct Subject {
    code: String,
    name: String,
    rep: String,
    kind: Kind,
    district: u8,
    established: Date,
}

/// (word, industry section, weight)
const INDUSTRIES: [(&str, &str, u32); 30] = [
    ("科技", "M", 12),
    ("商贸", "F", 10),
    ("建筑工程", "E", 5),
    ("餐饮管理", "H", 5),
    ("文化传媒", "R", 5),
    ("物流", "G", 4),
    ("医药", "F", 3),
    ("房地产开发", "K", 3),
    ("信息技术", "I", 8),
    ("环保科技", "N", 3),
    ("投资管理", "L", 3),
    ("企业管理咨询", "L", 4),
    ("教育科技", "P", 3),
    ("食品", "C", 2),
    ("机械设备", "C", 2),
    ("汽车服务", "O", 2),
    ("物业管理", "K", 3),
    ("装饰工程", "E", 3),
    ("生物技术", "M", 2),
    ("电子商务", "I", 3),
    ("广告", "L", 2),
    ("国际旅行社", "L", 1),
    ("农业科技", "A", 1),
    ("新能源", "D", 1),
    ("供应链管理", "L", 2),
    ("健康管理", "Q", 2),
    ("网络科技", "I", 5),
    ("家具", "C", 1),
    ("印刷", "C", 1),
    ("服装", "F", 1),
];
const SHOPS: [(&str, &str); 16] = [
    ("便利店", "F"),
    ("小吃店", "H"),
    ("烟酒店", "F"),
    ("五金店", "F"),
    ("水果店", "F"),
    ("理发店", "O"),
    ("干洗店", "O"),
    ("家常菜馆", "H"),
    ("面馆", "H"),
    ("汽车修理部", "O"),
    ("日用品商店", "F"),
    ("文具店", "F"),
    ("服装店", "F"),
    ("家电维修部", "O"),
    ("早点铺", "H"),
    ("花店", "F"),
];
const COOP_PRODUCTS: [&str; 10] = [
    "果品产销",
    "蔬菜种植",
    "生猪养殖",
    "蜂业",
    "板栗产销",
    "苗木花卉",
    "食用菌种植",
    "粮食种植",
    "中药材种植",
    "民俗旅游",
];
const PRIVATE_NON_ENT: [(&str, &str); 5] =
    [("培训学校", "P"), ("养老服务中心", "Q"), ("社会工作事务所", "S"), ("康复中心", "Q"), ("文化艺术中心", "R")];
const PUBLIC_INST: [(&str, &str); 5] = [
    ("社区卫生服务中心", "Q"),
    ("幼儿园", "P"),
    ("文化馆分馆", "R"),
    ("综合行政执法服务中心", "S"),
    ("职业技能培训中心", "P"),
];
const CAPITALS: [u64; 14] = [10, 30, 50, 100, 100, 200, 300, 500, 500, 800, 1000, 2000, 5000, 10000];

struct RegCols {
    c: [usize; 13],
}

impl RegCols {
    fn new(item: &Item) -> Result<RegCols, GenError> {
        Ok(RegCols {
            c: cols(
                item,
                [
                    "统一社会信用代码",
                    "主体名称",
                    "曾用名",
                    "主体类型",
                    "法定代表人",
                    "法定代表人证件号码",
                    "成立日期",
                    "登记机关",
                    "住所",
                    "注册资本(万元)",
                    "行政区划代码",
                    "行业门类",
                    "登记状态",
                ],
            )?,
        })
    }
}

struct SubjectGen<'a> {
    words: &'a Words,
    auth: &'a Authorities,
    /// Every code handed out (good and dirty rows): codes stay unique.
    codes: HashSet<String>,
    est_lo: Date,
    est_hi: Date,
}

impl SubjectGen<'_> {
    fn unique_code(&mut self, rng: &mut ChaCha20Rng, kind: Kind, district: usize, est: Date) -> String {
        let mut first16 = String::with_capacity(16);
        loop {
            first16.clear();
            first16.push_str(kind.prefix());
            first16.push_str(DISTRICTS[district].code);
            if est.year() >= 2016 && kind != Kind::PublicInstitution {
                first16.push_str("MA0");
                for _ in 0..5 {
                    first16.push(char::from(USCC_ALPHABET[rng.gen_range(0..USCC_ALPHABET.len())]));
                }
            } else {
                put(&mut first16, format_args!("{:08}", rng.gen_range(10_000_000..100_000_000u32)));
            }
            match Uscc::complete(&first16) {
                Some(u) if self.codes.insert(u.as_str().to_string()) => return u.as_str().to_string(),
                _ => {}
            }
        }
    }

    fn company_name(&self, rng: &mut ChaCha20Rng, s: &mut String, industry: &str) -> &'static str {
        s.push_str("北京");
        self.words.trade(rng, s);
        s.push_str(industry);
        match rng.gen_range(0..10u32) {
            0..=5 => {
                s.push_str("有限公司");
                "有限责任公司(自然人投资或控股)"
            }
            6..=8 => {
                s.push_str("有限责任公司");
                if chance(rng, 50) { "有限责任公司(法人独资)" } else { "有限责任公司(自然人独资)" }
            }
            _ => {
                s.push_str("股份有限公司");
                "股份有限公司(非上市、自然人投资或控股)"
            }
        }
    }

    /// A new subject with its registration row.
    fn registration_row(&mut self, rng: &mut ChaCha20Rng, row: &mut Row, c: &RegCols) -> Subject {
        let [code_i, name_i, former_i, type_i, rep_i, rep_id_i, est_i, auth_i, dom_i, cap_i, div_i, ind_i, status_i] =
            c.c;
        let kind = match weighted(rng, &[850, 100, 25, 15, 10]) {
            0 => Kind::Enterprise,
            1 => Kind::Individual,
            2 => Kind::Cooperative,
            3 => Kind::PrivateNonEnterprise,
            _ => Kind::PublicInstitution,
        };
        let weights: [u32; 16] = std::array::from_fn(|i| {
            if kind == Kind::Cooperative { DISTRICTS[i].rural_weight } else { DISTRICTS[i].weight }
        });
        let district = weighted(rng, &weights);
        let d = &DISTRICTS[district];
        let est = rand_date(rng, self.est_lo, self.est_hi);
        let code = self.unique_code(rng, kind, district, est);
        let words = self.words;

        let mut name = String::with_capacity(48);
        let (entity_type, industry) = match kind {
            Kind::Enterprise => {
                let (word, section, _) = INDUSTRIES[weighted(rng, &INDUSTRIES.map(|x| x.2))];
                (self.company_name(rng, &mut name, word), section)
            }
            Kind::Individual => {
                let (shop, section) = SHOPS[rng.gen_range(0..SHOPS.len())];
                put(&mut name, format_args!("北京市{}", d.name));
                if chance(rng, 50) {
                    let i = rng.gen_range(0..words.surnames.len().min(40));
                    name.push_str(words.surnames[i]);
                    name.push('记');
                } else {
                    words.trade(rng, &mut name);
                }
                name.push_str(shop);
                ("个体工商户", section)
            }
            Kind::Cooperative => {
                name.push_str("北京");
                if chance(rng, 50) {
                    name.push('市');
                    name.push_str(d.name);
                }
                words.trade(rng, &mut name);
                name.push_str(pick(rng, &COOP_PRODUCTS));
                name.push_str("农民专业合作社");
                ("农民专业合作社", "A")
            }
            Kind::PrivateNonEnterprise => {
                let (what, section) = PRIVATE_NON_ENT[rng.gen_range(0..PRIVATE_NON_ENT.len())];
                put(&mut name, format_args!("北京市{}", d.name));
                words.trade(rng, &mut name);
                name.push_str(what);
                ("民办非企业单位", section)
            }
            Kind::PublicInstitution => {
                let (what, section) = PUBLIC_INST[rng.gen_range(0..PUBLIC_INST.len())];
                put(&mut name, format_args!("北京市{}", d.name));
                words.trade(rng, &mut name);
                name.push_str(what);
                ("事业单位", section)
            }
        };
        row.v[code_i].push_str(&code);
        row.v[name_i].push_str(&name);
        if kind == Kind::Enterprise && chance(rng, 10) {
            let s = &mut row.v[former_i];
            for k in 0..rng.gen_range(1..=2u32) {
                if k > 0 {
                    s.push('；');
                }
                let (word, _, _) = INDUSTRIES[rng.gen_range(0..INDUSTRIES.len())];
                self.company_name(rng, s, word);
            }
        }
        row.v[type_i].push_str(entity_type);
        let mut rep = String::with_capacity(12);
        words.person(rng, &mut rep);
        row.v[rep_i].push_str(&rep);
        let region = if chance(rng, 50) { d.code } else { pick(rng, &BEIJING_REGIONS) };
        resident_id(rng, &mut row.v[rep_id_i], region, 1950, (est.year() - 18).min(2000));
        put_date(&mut row.v[est_i], est);
        let registrar = match kind {
            Kind::PrivateNonEnterprise => self.auth.get(district, CIVIL).name.as_str(),
            Kind::PublicInstitution => self.auth.get(district, EDITORIAL).name.as_str(),
            _ => self.auth.get(district, MARKET).name.as_str(),
        };
        row.v[auth_i].push_str(registrar);
        words.domicile(rng, &mut row.v[dom_i], d, kind == Kind::Cooperative);
        let cap = &mut row.v[cap_i];
        match kind {
            Kind::Individual => {
                if chance(rng, 70) {
                    put(cap, format_args!("{}", rng.gen_range(1..=50u32)));
                }
            }
            Kind::Cooperative => put(cap, format_args!("{}", rng.gen_range(1..=50u32) * 10)),
            Kind::PrivateNonEnterprise | Kind::PublicInstitution => {
                put(cap, format_args!("{}", rng.gen_range(3..=300u32)));
            }
            Kind::Enterprise => {
                let base = CAPITALS[rng.gen_range(0..CAPITALS.len())];
                if chance(rng, 15) {
                    // e.g. 1250.5 or 86.7525
                    put_wan(cap, base * 1_000_000 + rng.gen_range(1..10_000u64) * 100);
                } else {
                    put(cap, format_args!("{base}"));
                }
            }
        }
        row.v[div_i].push_str(d.code);
        row.v[ind_i].push_str(industry);
        const STATUS: [&str; 6] = ["存续", "在业", "吊销", "注销", "迁出", "撤销"];
        row.v[status_i].push_str(STATUS[weighted(rng, &[82, 8, 3, 5, 1, 1])]);
        Subject { code, name, rep, kind, district: district as u8, established: est }
    }
}

// ---------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------

struct World<'a> {
    words: &'a Words,
    auth: &'a Authorities,
    subjects: Vec<Subject>,
    /// Indices of subjects registered by market regulation.
    market: Vec<u32>,
    rec_lo: Date,
    latest: Date,
}

impl World<'_> {
    fn subject(&self, rng: &mut ChaCha20Rng) -> &Subject {
        let i = skewed(rng, self.subjects.len());
        &self.subjects[i.min(self.subjects.len().saturating_sub(1))]
    }

    fn market_subject(&self, rng: &mut ChaCha20Rng) -> &Subject {
        if self.market.is_empty() {
            return self.subject(rng);
        }
        let i = skewed(rng, self.market.len());
        &self.subjects[self.market[i.min(self.market.len() - 1)] as usize]
    }

    /// A decision date for `s`: uniform over 2019-01-01 … latest, not before it existed.
    fn decision(&self, rng: &mut ChaCha20Rng, s: &Subject) -> Date {
        let lo = if s.established > self.rec_lo && s.established <= self.latest { s.established } else { self.rec_lo };
        rand_date(rng, lo, self.latest)
    }

    fn licence_row(&self, rng: &mut ChaCha20Rng, row: &mut Row, c: &LicenceCols, seq: u64) {
        let [
            name_i,
            party_i,
            code_i,
            rep_i,
            doc_name_i,
            doc_i,
            cat_i,
            cert_i,
            num_i,
            content_i,
            date_i,
            from_i,
            to_i,
            auth_i,
            auth_code_i,
            src_i,
            src_code_i,
            _note_i,
        ] = c.c;
        let s = self.subject(rng);
        let k = &LICENCES[weighted(rng, &LICENCES.map(|l| l.weight))];
        let date = self.decision(rng, s);
        let district = usize::from(s.district);
        let a = self.auth.get(district, k.dept);
        let d = &DISTRICTS[district];
        row.v[name_i].push_str(&s.name);
        row.v[party_i].push_str(s.kind.party());
        row.v[code_i].push_str(&s.code);
        row.v[rep_i].push_str(&s.rep);
        row.v[doc_name_i].push_str(k.doc_name);
        put(&mut row.v[doc_i], format_args!("{}许〔{}〕{}号", a.prefix, date.year(), seq));
        row.v[cat_i].push_str(k.category);
        row.v[cert_i].push_str(k.cert);
        let mut content_buf = std::mem::take(&mut row.v[content_i]);
        let content = &mut content_buf;
        let num = &mut row.v[num_i];
        match k.style {
            LicenceStyle::Food => {
                put(num, format_args!("JY{}{}{:06}{}", rng.gen_range(1..4u32), d.code, seq % 1_000_000, seq % 10));
                content.push_str(pick(rng, &FOOD_SCOPES));
            }
            LicenceStyle::Business => {
                num.push_str(&s.code);
                content.push_str(pick(
                    rng,
                    &["设立登记", "变更登记（住所变更）", "变更登记（经营范围变更）", "变更登记（法定代表人变更）"],
                ));
            }
            LicenceStyle::Hygiene => {
                put(num, format_args!("{}卫公证字〔{}〕第{:06}号", d.short, date.year(), seq % 1_000_000));
                put(
                    content,
                    format_args!(
                        "公共场所卫生许可：{}",
                        pick(rng, &["理发店", "美容店", "宾馆", "游泳场（馆）", "沐浴场所", "健身房"])
                    ),
                );
            }
            LicenceStyle::Construction => {
                put(
                    num,
                    format_args!(
                        "{}{:04}{:02}{:02}{:04}",
                        d.code,
                        date.year(),
                        u8::from(date.month()),
                        date.day(),
                        seq % 10_000
                    ),
                );
                let mut project = String::new();
                self.words.trade(rng, &mut project);
                put(
                    content,
                    format_args!(
                        "{project}{}项目，地上{}层、地下{}层，建筑面积{}平方米",
                        pick(rng, &["大厦", "产业园", "住宅小区", "综合楼", "研发中心"]),
                        rng.gen_range(2..30u32),
                        rng.gen_range(1..4u32),
                        rng.gen_range(2_000..200_000u32)
                    ),
                );
            }
            LicenceStyle::Pollution => {
                put(
                    num,
                    format_args!(
                        "{}{:03}{}",
                        s.code,
                        rng.gen_range(1..4u32),
                        pick(rng, &["V", "U", "Q", "W", "X", "Z"])
                    ),
                );
                content.push_str(pick(
                    rng,
                    &[
                        "排放大气污染物：颗粒物、挥发性有机物",
                        "排放水污染物：化学需氧量、氨氮",
                        "排放大气污染物：氮氧化物、二氧化硫",
                    ],
                ));
            }
            LicenceStyle::Drug => {
                put(num, format_args!("京{}{}{:04}", pick(rng, &["CA", "CB", "DA"]), &d.code[2..], seq % 10_000));
                content.push_str(pick(
                    rng,
                    &["中成药、化学药制剂、抗生素制剂、生化药品、生物制品（除疫苗）", "中药饮片、中成药、化学药制剂"],
                ));
            }
            LicenceStyle::Dispatch => {
                put(num, format_args!("{}{}{:04}", d.code, date.year(), seq % 10_000));
                content.push_str("劳务派遣经营");
            }
            LicenceStyle::Waste => {
                put(num, format_args!("{}城管消纳〔{}〕{}号", a.prefix.trim_end_matches("城管"), date.year(), seq));
                put(content, format_args!("建筑垃圾消纳，消纳量{}立方米", rng.gen_range(100..50_000u32)));
            }
            LicenceStyle::Outdoor => {
                put(num, format_args!("{}户外〔{}〕{:05}号", a.prefix, date.year(), seq % 100_000));
                content.push_str(pick(
                    rng,
                    &["设置户外广告设施（墙体广告）", "设置户外广告设施（屋顶广告）", "设置户外电子显示屏"],
                ));
            }
            LicenceStyle::Testing => {
                put(num, format_args!("{:02}0112{:06}", date.year() % 100, seq % 1_000_000));
                content.push_str(pick(
                    rng,
                    &[
                        "检验检测机构资质认定：食品检测",
                        "检验检测机构资质认定：环境监测",
                        "检验检测机构资质认定：建筑材料检测",
                    ],
                ));
            }
            LicenceStyle::Drainage => {
                put(num, format_args!("{}排水字〔{}〕第{:04}号", d.short, date.year(), seq % 10_000));
                content.push_str("城镇污水排入排水管网");
            }
        }
        row.v[content_i] = content_buf;
        put_date(&mut row.v[date_i], date);
        put_date(&mut row.v[from_i], date);
        let until = if k.years == 0 { ymd(2099, 12, 31) } else { add_days(add_months(date, 12 * k.years), -1) };
        put_date(&mut row.v[to_i], until);
        row.v[auth_i].push_str(&a.name);
        row.v[auth_code_i].push_str(&a.uscc);
        let src = if chance(rng, 25) { self.auth.get(district, DATA) } else { a };
        row.v[src_i].push_str(&src.name);
        row.v[src_code_i].push_str(&src.uscc);
    }

    fn penalty_row(&self, rng: &mut ChaCha20Rng, row: &mut Row, c: &PenaltyCols, seq: u64) {
        let [
            name_i,
            party_i,
            code_i,
            rep_i,
            _idt_i,
            _idn_i,
            doc_i,
            act_i,
            fact_i,
            basis_i,
            cats_i,
            content_i,
            fine_i,
            conf_i,
            lic_i,
            date_i,
            valid_i,
            pub_i,
            auth_i,
            auth_code_i,
            src_i,
            src_code_i,
            proc_i,
            tier_i,
            _note_i,
        ] = c.c;
        let s = self.subject(rng);
        let k = &PENALTIES[weighted(rng, &PENALTIES.map(|p| p.weight))];
        let date = self.decision(rng, s);
        let district = usize::from(s.district);
        let a = self.auth.get(district, k.dept);

        // what is imposed
        let warning_only = k.warning && chance(rng, 35);
        let warning = warning_only || (k.warning && chance(rng, 30));
        let fine = if warning_only { 0 } else { amount(rng, k.lo, k.hi) };
        let confiscated = if k.confiscate && !warning_only && chance(rng, 45) {
            rng.gen_range(200..200_000u64) * 100 + rng.gen_range(0..100)
        } else {
            0
        };
        let stop = !warning_only && fine >= 10_000_000 && chance(rng, 15);
        let revoke = k.licence.is_some() && !warning_only && chance(rng, 6);
        let simple = confiscated == 0 && !stop && !revoke && (warning_only || fine <= 300_000) && chance(rng, 70);

        let tier = if warning_only || (simple && chance(rng, 70)) {
            "轻微"
        } else if stop || revoke || fine >= 10_000_000 || (fine >= 5_000_000 && chance(rng, 30)) {
            if date < ymd(2023, 5, 1) && chance(rng, 30) { "特定严重" } else { "严重" }
        } else if fine <= 500_000 && chance(rng, 40) {
            "轻微"
        } else {
            "一般"
        };

        row.v[name_i].push_str(&s.name);
        row.v[party_i].push_str(s.kind.party());
        row.v[code_i].push_str(&s.code);
        row.v[rep_i].push_str(&s.rep);
        put(
            &mut row.v[doc_i],
            format_args!("{}{}罚〔{}〕{}号", a.prefix, if simple { "简" } else { "" }, date.year(), seq),
        );
        row.v[act_i].push_str(k.act);
        let found = add_days(date, -rng.gen_range(10..90i64));
        put(
            &mut row.v[fact_i],
            format_args!(
                "{}年{}月{}日，执法人员检查发现，{}。",
                found.year(),
                u8::from(found.month()),
                found.day(),
                k.fact
            ),
        );
        row.v[basis_i].push_str(k.basis);

        let mut cats_buf = std::mem::take(&mut row.v[cats_i]);
        let mut content_buf = std::mem::take(&mut row.v[content_i]);
        let (cats, content) = (&mut cats_buf, &mut content_buf);
        content.push_str("对当事人作出如下行政处罚：");
        let mut first = true;
        let mut add = |cats: &mut String, content: &mut String, cat: &str, text: std::fmt::Arguments<'_>| {
            if !first {
                cats.push('；');
                content.push('，');
            }
            first = false;
            cats.push_str(cat);
            put(content, text);
        };
        if warning {
            add(cats, content, "警告", format_args!("给予警告"));
        }
        if fine > 0 {
            let mut y = String::new();
            put_yuan(&mut y, fine);
            add(cats, content, "罚款", format_args!("罚款人民币{y}元"));
            put_wan(&mut row.v[fine_i], fine);
        }
        if confiscated > 0 {
            let mut y = String::new();
            put_yuan(&mut y, confiscated);
            add(cats, content, "没收违法所得", format_args!("没收违法所得人民币{y}元"));
            put_wan(&mut row.v[conf_i], confiscated);
        }
        if let (true, Some(lic)) = (revoke, k.licence) {
            add(cats, content, "吊销许可证件", format_args!("吊销{lic}"));
            let d = &DISTRICTS[district];
            put(&mut row.v[lic_i], format_args!("{lic}（编号：JY2{}{:06}{}）", d.code, seq % 1_000_000, seq % 10));
        }
        if stop {
            add(cats, content, "责令停产停业", format_args!("责令停产停业{}日", rng.gen_range(1..4u32) * 10));
        }
        content.push('。');
        row.v[cats_i] = cats_buf;
        row.v[content_i] = content_buf;

        put_date(&mut row.v[date_i], date);
        let until = match tier {
            "轻微" => add_days(add_months(date, 3), -1),
            "一般" => add_days(add_months(date, 12), -1),
            _ => add_days(add_months(date, 36), -1),
        };
        put_date(&mut row.v[valid_i], until);
        if !simple && !warning_only && chance(rng, 70) {
            put_date(&mut row.v[pub_i], until);
        }
        row.v[auth_i].push_str(&a.name);
        row.v[auth_code_i].push_str(&a.uscc);
        let src = if chance(rng, 25) { self.auth.get(district, DATA) } else { a };
        row.v[src_i].push_str(&src.name);
        row.v[src_code_i].push_str(&src.uscc);
        row.v[proc_i].push_str(if simple { "简易程序" } else { "普通程序" });
        row.v[tier_i].push_str(tier);
    }

    fn commitment_row(&self, rng: &mut ChaCha20Rng, row: &mut Row, c: &CommitmentCols, seq: u64) {
        let [name_i, code_i, type_i, matter_i, num_i, date_i, dept_i, status_i] = c.c;
        let s = self.subject(rng);
        let date = self.decision(rng, s);
        let district = usize::from(s.district);
        let (kind, matters, dept) = COMMITMENTS[weighted(rng, &COMMITMENTS.map(|x| x.3))].split();
        row.v[name_i].push_str(&s.name);
        row.v[code_i].push_str(&s.code);
        row.v[type_i].push_str(kind);
        row.v[matter_i].push_str(pick(rng, matters));
        put(&mut row.v[num_i], format_args!("XYCN-{}-{}-{:08}", DISTRICTS[district].code, date.year(), seq));
        put_date(&mut row.v[date_i], date);
        row.v[dept_i].push_str(&self.auth.get(district, dept).name);
        let old = date < add_months(self.latest, -24);
        let status = if old {
            ["已履约", "已履约", "已履约", "未履约"][rng.gen_range(0..4usize)]
        } else {
            ["履约中", "履约中", "已履约", "已履约", "履约中"][rng.gen_range(0..5usize)]
        };
        if chance(rng, 95) {
            row.v[status_i].push_str(status);
        }
    }

    fn honour_row(&self, rng: &mut ChaCha20Rng, row: &mut Row, c: &HonourCols, seq: u64) {
        let [name_i, code_i, honour_i, level_i, date_i, auth_i, doc_i, until_i] = c.c;
        let s = self.subject(rng);
        let date = self.decision(rng, s);
        let district = usize::from(s.district);
        let h = &HONOURS[weighted(rng, &HONOURS.map(|h| h.weight))];
        row.v[name_i].push_str(&s.name);
        row.v[code_i].push_str(&s.code);
        if h.level == "区县级" {
            let d = &DISTRICTS[district];
            put(&mut row.v[honour_i], format_args!("{}区{}", d.short, h.name));
            row.v[auth_i].push_str(&self.auth.get(district, GOVT).name);
            put(&mut row.v[doc_i], format_args!("京{}政发〔{}〕{}号", d.abbr, date.year(), seq));
        } else {
            row.v[honour_i].push_str(h.name);
            row.v[auth_i].push_str(h.authority);
            put(&mut row.v[doc_i], format_args!("{}〔{}〕{}号", h.doc_prefix, date.year(), seq));
        }
        row.v[level_i].push_str(h.level);
        put_date(&mut row.v[date_i], date);
        if h.years > 0 {
            put_date(&mut row.v[until_i], add_days(add_months(date, 12 * h.years), -1));
        }
    }

    fn abnormal_row(&self, rng: &mut ChaCha20Rng, row: &mut Row, c: &AbnormalCols, seq: u64) {
        let [name_i, code_i, reason_i, date_i, doc_i, auth_i, out_date_i, out_reason_i] = c.c;
        let s = self.market_subject(rng);
        let date = self.decision(rng, s);
        let a = self.auth.get(usize::from(s.district), MARKET);
        let r = weighted(rng, &[60, 10, 5, 25]);
        row.v[name_i].push_str(&s.name);
        row.v[code_i].push_str(&s.code);
        row.v[reason_i].push_str(ABNORMAL_REASONS[r]);
        put_date(&mut row.v[date_i], date);
        put(&mut row.v[doc_i], format_args!("{}企异〔{}〕{}号", a.prefix, date.year(), seq));
        row.v[auth_i].push_str(&a.name);
        let removed = add_days(date, rng.gen_range(20..400i64));
        if chance(rng, 35) && removed <= self.latest {
            put_date(&mut row.v[out_date_i], removed);
            row.v[out_reason_i].push_str(match r {
                0 => "补报未报年份的年度报告并公示",
                1 => "履行公示义务，公示有关企业信息",
                2 => "更正其公示的企业信息",
                _ => {
                    if chance(rng, 50) {
                        "依法办理住所或者经营场所变更登记"
                    } else {
                        "提出通过登记的住所或者经营场所可以重新取得联系"
                    }
                }
            });
        }
    }

    fn debtor_row(
        &self,
        rng: &mut ChaCha20Rng,
        row: &mut Row,
        c: &DebtorCols,
        seq: u64,
        persons: &mut Vec<(String, String)>,
    ) {
        let [name_i, code_i, rep_i, court_i, basis_i, case_i, filed_i, date_i, duty_i, perf_i, conduct_i] = c.c;
        let (district, date) = if chance(rng, 30) {
            // a natural person, not in registration
            let idx = if !persons.is_empty() && chance(rng, 25) {
                rng.gen_range(0..persons.len())
            } else {
                let mut name = String::new();
                self.words.person(rng, &mut name);
                let mut id = String::new();
                let region = if chance(rng, 60) { pick(rng, &BEIJING_REGIONS) } else { pick(rng, &OTHER_REGIONS) };
                resident_id(rng, &mut id, region, 1950, 2000);
                persons.push((name, id));
                persons.len() - 1
            };
            let (name, id) = &persons[idx];
            row.v[name_i].push_str(name);
            row.v[code_i].push_str(id);
            (weighted(rng, &DISTRICTS.map(|d| d.weight)), rand_date(rng, self.rec_lo, self.latest))
        } else {
            let s = self.subject(rng);
            row.v[name_i].push_str(&s.name);
            row.v[code_i].push_str(&s.code);
            row.v[rep_i].push_str(&s.rep);
            (usize::from(s.district), self.decision(rng, s))
        };
        let d = &DISTRICTS[district];
        // district court 京01xx (xx = the division's last digits), sometimes an intermediate court
        let (court, court_code): (String, String) = if chance(rng, 85) {
            (format!("北京市{}人民法院", d.name), format!("京01{}", &d.code[4..]))
        } else {
            let n = rng.gen_range(1..=4usize);
            (format!("北京市第{}中级人民法院", ["一", "二", "三", "四"][n - 1]), format!("京0{n}"))
        };
        row.v[court_i].push_str(&court);
        let filed = add_days(date, -rng.gen_range(30..300i64));
        let judged = add_days(filed, -rng.gen_range(60..400i64));
        put(
            &mut row.v[basis_i],
            format_args!(
                "（{}）{}{}{}号",
                judged.year(),
                court_code,
                pick(rng, &["民初", "民初", "民初", "民终", "民督", "商初"]),
                seq * 7 + 100
            ),
        );
        put(&mut row.v[case_i], format_args!("（{}）{}执{}号", filed.year(), court_code, seq));
        if chance(rng, 90) {
            put_date(&mut row.v[filed_i], filed);
        }
        put_date(&mut row.v[date_i], date);
        let mut y = String::new();
        put_yuan(&mut y, rng.gen_range(5_000..5_000_000u64) * 100);
        put(&mut row.v[duty_i], format_args!("被执行人于判决生效之日起十日内{}人民币{y}元及利息", pick(rng, &DUTIES)));
        row.v[perf_i].push_str(if chance(rng, 80) { "全部未履行" } else { "部分未履行" });
        row.v[conduct_i].push_str(pick(rng, &CONDUCTS));
        // some entries the court has since deleted (performed, settled): they end the
        // derived list entry on that day
        let deleted = add_days(date, rng.gen_range(30..500i64));
        if chance(rng, 15) && deleted <= self.latest {
            put_date(&mut row.v[c.deleted], deleted);
            row.v[c.deleted_why]
                .push_str(pick(rng, &["已全部履行", "与申请执行人达成和解并已履行", "人民法院决定撤销"]));
        }
    }

    /// A party a court found to have brought or joined false litigation (虚假诉讼).
    fn false_litigation_row(&self, rng: &mut ChaCha20Rng, row: &mut Row, c: &FalseLitigationCols, seq: u64) {
        let [name_i, code_i, court_i, doc_i, date_i, conduct_i] = c.c;
        let s = self.subject(rng);
        row.v[name_i].push_str(&s.name);
        row.v[code_i].push_str(&s.code);
        let d = &DISTRICTS[usize::from(s.district)];
        row.v[court_i].push_str(&format!("北京市{}人民法院", d.name));
        let date = self.decision(rng, s);
        put(&mut row.v[doc_i], format_args!("（{}）京01{}民初{}号之一", date.year(), &d.code[4..], seq * 3 + 50));
        put_date(&mut row.v[date_i], date);
        row.v[conduct_i].push_str(pick(
            rng,
            &[
                "与他人恶意串通，捏造债权债务关系提起诉讼，企图逃避执行",
                "伪造借款合同及转账凭证提起民间借贷诉讼",
                "虚构劳动关系提起劳动争议诉讼，转移财产",
            ],
        ));
    }
}

struct FalseLitigationCols {
    c: [usize; 6],
}

impl FalseLitigationCols {
    fn new(item: &Item) -> Result<FalseLitigationCols, GenError> {
        Ok(FalseLitigationCols {
            c: cols(
                item,
                ["当事人名称", "统一社会信用代码/证件号码", "认定法院", "认定文书号", "认定日期", "虚假诉讼行为"],
            )?,
        })
    }
}

// ---------------------------------------------------------------------------------
// Item tables
// ---------------------------------------------------------------------------------

struct LicenceCols {
    c: [usize; 18],
}

impl LicenceCols {
    fn new(item: &Item) -> Result<LicenceCols, GenError> {
        Ok(LicenceCols {
            c: cols(
                item,
                [
                    "行政相对人名称",
                    "行政相对人类别",
                    "统一社会信用代码",
                    "法定代表人",
                    "行政许可决定文书名称",
                    "行政许可决定文书号",
                    "许可类别",
                    "许可证书名称",
                    "许可编号",
                    "许可内容",
                    "许可决定日期",
                    "有效期自",
                    "有效期至",
                    "许可机关",
                    "许可机关统一社会信用代码",
                    "数据来源单位",
                    "数据来源单位统一社会信用代码",
                    "备注",
                ],
            )?,
        })
    }
}

#[derive(Clone, Copy)]
enum LicenceStyle {
    Food,
    Business,
    Hygiene,
    Construction,
    Pollution,
    Drug,
    Dispatch,
    Waste,
    Outdoor,
    Testing,
    Drainage,
}

struct LicenceKind {
    dept: usize,
    doc_name: &'static str,
    cert: &'static str,
    category: &'static str,
    /// Validity in years; 0 = long-term (2099-12-31).
    years: i32,
    style: LicenceStyle,
    weight: u32,
}

const fn lic(
    dept: usize,
    doc_name: &'static str,
    cert: &'static str,
    category: &'static str,
    years: i32,
    style: LicenceStyle,
    weight: u32,
) -> LicenceKind {
    LicenceKind { dept, doc_name, cert, category, years, style, weight }
}

const LICENCES: [LicenceKind; 11] = [
    lic(MARKET, "食品经营许可决定书", "食品经营许可证", "普通", 5, LicenceStyle::Food, 30),
    lic(MARKET, "准予登记通知书", "营业执照", "登记", 0, LicenceStyle::Business, 25),
    lic(HEALTH, "公共场所卫生许可决定书", "公共场所卫生许可证", "普通", 4, LicenceStyle::Hygiene, 8),
    lic(BUILD, "建筑工程施工许可决定书", "建筑工程施工许可证", "普通", 3, LicenceStyle::Construction, 8),
    lic(ECO, "排污许可决定书", "排污许可证", "普通", 5, LicenceStyle::Pollution, 5),
    lic(MARKET, "药品经营许可决定书", "药品经营许可证", "普通", 5, LicenceStyle::Drug, 6),
    lic(HR, "劳务派遣行政许可决定书", "劳务派遣经营许可证", "普通", 3, LicenceStyle::Dispatch, 4),
    lic(CITY, "建筑垃圾消纳核准决定书", "建筑垃圾消纳许可证", "核准", 1, LicenceStyle::Waste, 5),
    lic(CITY, "户外广告设施设置许可决定书", "户外广告设施设置许可证", "特许", 3, LicenceStyle::Outdoor, 3),
    lic(MARKET, "检验检测机构资质认定决定书", "检验检测机构资质认定证书", "认可", 6, LicenceStyle::Testing, 2),
    lic(WATER, "排水许可决定书", "城镇污水排入排水管网许可证", "其他", 5, LicenceStyle::Drainage, 4),
];

const FOOD_SCOPES: [&str; 6] = [
    "预包装食品（含冷藏冷冻食品）销售",
    "预包装食品（不含冷藏冷冻食品）销售；散装食品（不含冷藏冷冻食品）销售",
    "热食类食品制售；冷食类食品制售",
    "热食类食品制售",
    "糕点类食品（不含裱花蛋糕）制售；自制饮品制售",
    "特殊医学用途配方食品销售；保健食品销售",
];

struct PenaltyCols {
    c: [usize; 25],
}

impl PenaltyCols {
    fn new(item: &Item) -> Result<PenaltyCols, GenError> {
        Ok(PenaltyCols {
            c: cols(
                item,
                [
                    "行政相对人名称",
                    "行政相对人类别",
                    "统一社会信用代码",
                    "法定代表人",
                    "证件类型",
                    "证件号码",
                    "行政处罚决定书文号",
                    "违法行为类型",
                    "违法事实",
                    "处罚依据",
                    "处罚类别",
                    "处罚内容",
                    "罚款金额(万元)",
                    "没收违法所得金额(万元)",
                    "暂扣或吊销证照名称及编号",
                    "处罚决定日期",
                    "处罚有效期",
                    "公示截止期",
                    "处罚机关",
                    "处罚机关统一社会信用代码",
                    "数据来源单位",
                    "数据来源单位统一社会信用代码",
                    "处罚程序",
                    "失信程度",
                    "备注",
                ],
            )?,
        })
    }
}

struct PenaltyKind {
    dept: usize,
    act: &'static str,
    fact: &'static str,
    basis: &'static str,
    /// Fine range in yuan.
    lo: u64,
    hi: u64,
    /// The law allows a warning (alone or with a fine).
    warning: bool,
    confiscate: bool,
    /// Licence that may be revoked.
    licence: Option<&'static str>,
    weight: u32,
}

#[allow(clippy::too_many_arguments)]
const fn pen(
    dept: usize,
    act: &'static str,
    fact: &'static str,
    basis: &'static str,
    lo: u64,
    hi: u64,
    warning: bool,
    confiscate: bool,
    licence: Option<&'static str>,
    weight: u32,
) -> PenaltyKind {
    PenaltyKind { dept, act, fact, basis, lo, hi, warning, confiscate, licence, weight }
}

const FOOD_LICENCE: Option<&str> = Some("食品经营许可证");

#[rustfmt::skip]
const PENALTIES: [PenaltyKind; 29] = [
    // dept, violation, facts, legal basis, fine range (yuan), warning allowed, confiscation, revocable licence, weight
    pen(MARKET, "发布虚假广告", "当事人通过其网站及微信公众号发布的广告中含有虚假内容，宣传商品功效与实际情况不符", "《中华人民共和国广告法》第五十五条第一款", 20_000, 1_000_000, false, false, None, 6),
    pen(MARKET, "虚假宣传", "当事人在经营场所及网络店铺中对其商品的销售状况、用户评价作虚假的商业宣传，欺骗、误导消费者", "《中华人民共和国反不正当竞争法》第二十条第一款", 100_000, 1_000_000, false, false, None, 4),
    pen(MARKET, "经营超过保质期的食品", "当事人经营的预包装食品超过标签标明的保质期，仍摆放于货架待售", "《中华人民共和国食品安全法》第一百二十四条第一款第（五）项", 50_000, 100_000, false, true, FOOD_LICENCE, 8),
    pen(MARKET, "未取得食品经营许可从事食品经营活动", "当事人未取得食品经营许可证，擅自在经营场所从事餐饮服务活动", "《中华人民共和国食品安全法》第一百二十二条第一款", 50_000, 100_000, false, true, None, 5),
    pen(MARKET, "食品从业人员未取得健康证明上岗", "当事人安排未取得健康证明的人员从事接触直接入口食品的工作", "《中华人民共和国食品安全法》第一百二十六条第一款第（六）项", 5_000, 50_000, true, false, FOOD_LICENCE, 8),
    pen(MARKET, "未按规定明码标价", "当事人销售的部分商品未按照规定明码标价", "《中华人民共和国价格法》第四十二条", 500, 5_000, false, true, None, 7),
    pen(MARKET, "销售不合格产品", "经抽样检验，当事人销售的产品经检验不合格", "《中华人民共和国产品质量法》第四十九条", 2_000, 100_000, false, true, None, 5),
    pen(MARKET, "电子商务经营者未公示营业执照信息", "当事人作为电子商务经营者，未在其网店首页显著位置持续公示营业执照信息", "《中华人民共和国电子商务法》第七十六条第一款第（一）项", 1_000, 10_000, false, false, None, 4),
    pen(MARKET, "未按规定办理变更登记", "当事人住所已变更，未依法办理变更登记，经责令改正拒不改正", "《中华人民共和国市场主体登记管理条例》第四十六条", 10_000, 100_000, false, false, None, 3),
    pen(MARKET, "未遵守药品经营质量管理规范", "当事人未按照药品经营质量管理规范要求对冷藏药品储存温度进行监测和记录", "《中华人民共和国药品管理法》第一百二十六条", 100_000, 500_000, true, false, Some("药品经营许可证"), 2),
    pen(CITY, "施工工地未采取有效防尘降尘措施", "当事人施工工地内裸露土方未采取覆盖措施，造成扬尘污染", "《中华人民共和国大气污染防治法》第一百一十五条第一款第（一）项", 10_000, 100_000, false, false, None, 6),
    pen(CITY, "单位未按规定分类投放生活垃圾", "当事人未将生活垃圾分别投放至相应标识的收集容器", "《北京市生活垃圾管理条例》第七十三条", 1_000, 50_000, false, false, None, 6),
    pen(CITY, "餐饮服务单位未安装油烟净化设施", "当事人排放油烟的餐饮服务场所未安装油烟净化设施", "《中华人民共和国大气污染防治法》第一百一十八条第一款", 5_000, 50_000, false, false, None, 4),
    pen(CITY, "未经批准张贴宣传品", "当事人未经批准在建筑物外立面张贴宣传品", "《城市市容和环境卫生管理条例》第三十六条第（二）项", 100, 1_000, true, false, None, 3),
    pen(ECO, "超标排放大气污染物", "经监测，当事人排放的大气污染物浓度超过国家规定的排放标准", "《中华人民共和国大气污染防治法》第九十九条第（二）项", 100_000, 1_000_000, false, false, None, 3),
    pen(ECO, "建设项目环境影响评价文件未经批准擅自开工建设", "当事人建设项目环境影响报告表未经审批，擅自开工建设", "《中华人民共和国环境影响评价法》第三十一条第一款", 20_000, 500_000, false, false, None, 3),
    pen(ECO, "超标排放水污染物", "经监测，当事人排放的水污染物浓度超过国家规定的排放标准", "《中华人民共和国水污染防治法》第八十三条第（二）项", 100_000, 1_000_000, false, false, None, 2),
    pen(ECO, "未按照规定设置危险废物识别标志", "当事人危险废物贮存场所未按照规定设置危险废物识别标志", "《中华人民共和国固体废物污染环境防治法》第一百一十二条第一款第（一）项", 100_000, 1_000_000, false, false, None, 2),
    pen(SAFETY, "未按照规定对从业人员进行安全生产教育和培训", "当事人未按照规定对从业人员进行安全生产教育和培训，且未如实记录教育和培训情况", "《中华人民共和国安全生产法》第九十七条第（三）项", 5_000, 100_000, false, false, None, 5),
    pen(SAFETY, "未建立事故隐患排查治理制度", "当事人未建立事故隐患排查治理制度", "《中华人民共和国安全生产法》第一百零一条第（五）项", 10_000, 100_000, false, false, None, 3),
    pen(HEALTH, "未按照规定申报职业病危害项目", "当事人未按照规定及时、如实向卫生健康主管部门申报产生职业病危害的项目", "《中华人民共和国职业病防治法》第七十一条第（一）项", 50_000, 100_000, true, false, None, 3),
    pen(HEALTH, "未取得医疗机构执业许可证擅自执业", "当事人未取得医疗机构执业许可证，擅自开展诊疗活动", "《中华人民共和国基本医疗卫生与健康促进法》第九十九条第一款", 50_000, 500_000, false, true, None, 2),
    pen(BUILD, "未取得施工许可证擅自施工", "当事人建设工程项目未取得施工许可证，擅自开工建设", "《建设工程质量管理条例》第五十七条", 20_000, 500_000, false, false, None, 3),
    pen(BUILD, "未对建筑材料、建筑构配件进行检验", "当事人未按照规定对进场的建筑材料、建筑构配件进行检验", "《建设工程质量管理条例》第六十五条", 100_000, 200_000, false, false, None, 2),
    pen(TAX, "未按照规定期限办理纳税申报", "当事人未按照规定期限办理增值税纳税申报和报送纳税资料", "《中华人民共和国税收征收管理法》第六十二条", 50, 2_000, false, false, None, 7),
    pen(TAX, "偷税", "当事人采取在账簿上多列支出、少列收入的手段，不缴或者少缴应纳税款", "《中华人民共和国税收征收管理法》第六十三条第一款", 10_000, 2_000_000, false, false, None, 2),
    pen(TAX, "未按照规定开具发票", "当事人销售商品时应当开具而未开具发票", "《中华人民共和国发票管理办法》第三十五条第（一）项", 100, 10_000, false, false, None, 3),
    pen(FIRE, "消防设施、器材未保持完好有效", "当事人经营场所内消防设施、器材未保持完好有效", "《中华人民共和国消防法》第六十条第一款第（一）项", 5_000, 50_000, false, false, None, 4),
    pen(FIRE, "占用、堵塞、封闭疏散通道、安全出口", "当事人经营场所内疏散通道被占用、安全出口被封闭", "《中华人民共和国消防法》第六十条第一款第（三）项", 5_000, 50_000, false, false, None, 3),
];

struct CommitmentCols {
    c: [usize; 8],
}

impl CommitmentCols {
    fn new(item: &Item) -> Result<CommitmentCols, GenError> {
        Ok(CommitmentCols {
            c: cols(
                item,
                [
                    "承诺主体名称",
                    "统一社会信用代码",
                    "承诺类型",
                    "承诺事项",
                    "承诺书编号",
                    "承诺日期",
                    "承诺受理单位",
                    "履约状态",
                ],
            )?,
        })
    }
}

/// (承诺类型, 承诺事项, 受理部门, weight)
struct Commitment(&'static str, &'static [&'static str], usize, u32);

impl Commitment {
    fn split(&self) -> (&'static str, &'static [&'static str], usize) {
        (self.0, self.1, self.2)
    }
}

const COMMITMENTS: [Commitment; 6] = [
    Commitment(
        "证明事项告知承诺",
        &["申请食品经营许可时对经营场所合法使用证明的告知承诺", "办理变更登记时对住所（经营场所）使用证明的告知承诺"],
        MARKET,
        30,
    ),
    Commitment(
        "审批替代型",
        &["以告知承诺方式申请公共场所卫生许可", "以告知承诺方式办理建设工程消防设计审查"],
        HEALTH,
        15,
    ),
    Commitment("容缺受理型", &["申请建筑工程施工许可容缺受理，承诺于三十日内补齐申请材料"], BUILD, 15),
    Commitment(
        "行业自律型",
        &["签署行业诚信经营自律承诺书，承诺依法诚信经营", "承诺遵守明码标价和价格行为规范"],
        COMMERCE,
        10,
    ),
    Commitment("主动型", &["主动向社会作出守法诚信经营承诺", "主动承诺产品质量安全，接受社会监督"], DEVREFORM, 15),
    Commitment(
        "信用修复型",
        &["申请行政处罚信息信用修复，承诺已履行行政处罚决定并纠正失信行为", "申请移出经营异常名录，承诺已补报年度报告"],
        DEVREFORM,
        15,
    ),
];

struct HonourCols {
    c: [usize; 8],
}

impl HonourCols {
    fn new(item: &Item) -> Result<HonourCols, GenError> {
        Ok(HonourCols {
            c: cols(
                item,
                [
                    "主体名称",
                    "统一社会信用代码",
                    "荣誉名称",
                    "荣誉等级",
                    "授予日期",
                    "授予机关",
                    "表彰决定文号",
                    "有效期至",
                ],
            )?,
        })
    }
}

struct HonourKind {
    name: &'static str,
    level: &'static str,
    authority: &'static str,
    doc_prefix: &'static str,
    years: i32,
    weight: u32,
}

const fn hon(
    name: &'static str,
    level: &'static str,
    authority: &'static str,
    doc_prefix: &'static str,
    years: i32,
    weight: u32,
) -> HonourKind {
    HonourKind { name, level, authority, doc_prefix, years, weight }
}

const HONOURS: [HonourKind; 10] = [
    hon("守合同重信用企业", "市级", "北京市市场监督管理局", "京市监发", 2, 20),
    hon("纳税信用A级纳税人", "省部级", "国家税务总局北京市税务局", "京税发", 1, 25),
    hon("北京市专精特新中小企业", "市级", "北京市经济和信息化局", "京经信发", 3, 15),
    hon("专精特新“小巨人”企业", "国家级", "中华人民共和国工业和信息化部", "工信部企业函", 3, 3),
    hon("首都劳动奖状", "市级", "北京市总工会", "京工发", 0, 5),
    hon("全国五一劳动奖状", "国家级", "中华全国总工会", "总工发", 0, 1),
    hon("北京市文明单位", "市级", "首都精神文明建设委员会", "首精文委发", 3, 6),
    hon("海关高级认证企业", "省部级", "中华人民共和国北京海关", "京关企认", 0, 3),
    hon("安全生产先进单位", "区县级", "", "", 0, 12),
    hon("优秀民营企业", "区县级", "", "", 0, 10),
];

struct AbnormalCols {
    c: [usize; 8],
}

impl AbnormalCols {
    fn new(item: &Item) -> Result<AbnormalCols, GenError> {
        Ok(AbnormalCols {
            c: cols(
                item,
                [
                    "企业名称",
                    "统一社会信用代码",
                    "列入经营异常名录原因",
                    "列入日期",
                    "列入决定书文号",
                    "作出决定机关",
                    "移出日期",
                    "移出原因",
                ],
            )?,
        })
    }
}

const ABNORMAL_REASONS: [&str; 4] = [
    "未按规定公示年度报告",
    "未在责令期限内公示有关企业信息",
    "公示企业信息隐瞒真实情况弄虚作假",
    "通过登记的住所或者经营场所无法联系",
];

struct DebtorCols {
    c: [usize; 11],
    deleted: usize,
    deleted_why: usize,
}

impl DebtorCols {
    fn new(item: &Item) -> Result<DebtorCols, GenError> {
        Ok(DebtorCols {
            c: cols(
                item,
                [
                    "被执行人姓名/名称",
                    "证件号码/统一社会信用代码",
                    "法定代表人或者负责人姓名",
                    "执行法院",
                    "执行依据文号",
                    "案号",
                    "立案时间",
                    "发布时间",
                    "生效法律文书确定的义务",
                    "被执行人的履行情况",
                    "失信被执行人行为具体情形",
                ],
            )?,
            deleted: cols(item, ["删除日期"])?[0],
            deleted_why: cols(item, ["删除原因"])?[0],
        })
    }
}

const DUTIES: [&str; 6] =
    ["向申请执行人支付货款", "偿还借款本金", "支付工程款", "支付拖欠的劳动报酬", "给付租金", "支付服务费"];
const CONDUCTS: [&str; 6] = [
    "有履行能力而拒不履行生效法律文书确定义务",
    "违反财产报告制度",
    "违反限制消费令",
    "以伪造证据、暴力、威胁等方法妨碍、抗拒执行",
    "以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行",
    "无正当理由拒不履行执行和解协议",
];

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::collections::{BTreeMap, HashSet};

    use time::macros::date;
    use xinyong_core::catalog::Tier;
    use xinyong_core::record::{ValidRecord, normalize_value, validate};

    use super::*;

    const LATEST: Date = date!(2025 - 06 - 30);

    fn options(seed: u64, dirty_percent: u32, format: GenFormat, encoding: GenEncoding) -> GenOptions {
        GenOptions { subjects: 150, records: 1200, seed, dirty_percent, format, encoding, latest_date: LATEST }
    }

    fn run_gen(opts: &GenOptions) -> (tempfile::TempDir, GenManifest) {
        let dir = tempfile::tempdir().unwrap();
        let m = generate(opts, dir.path()).unwrap();
        (dir, m)
    }

    fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            out.insert(e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap());
        }
        out
    }

    #[derive(Debug, Default, PartialEq, Eq)]
    struct Tally {
        accepted: u64,
        quarantined: u64,
        duplicates: u64,
        blank: u64,
        cosmetic: u64,
    }

    /// Values of one data line in the item's field order.
    fn values(item: &Item, format: GenFormat, header: &[String], line: &str) -> Vec<Option<String>> {
        match format {
            GenFormat::Csv | GenFormat::Mixed => {
                let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(line.as_bytes());
                let rec = r.records().next().unwrap().unwrap();
                assert_eq!(rec.len(), header.len(), "{line}");
                item.fields
                    .iter()
                    .map(|f| header.iter().position(|h| *h == f.name).map(|i| rec[i].to_string()))
                    .collect()
            }
            GenFormat::Jsonl => {
                let obj: serde_json::Map<String, serde_json::Value> = serde_json::from_str(line).unwrap();
                let names: Vec<&str> = item.fields.iter().map(|f| f.name.as_str()).collect();
                assert_eq!(obj.keys().map(String::as_str).collect::<HashSet<_>>(), names.iter().copied().collect());
                item.fields
                    .iter()
                    .map(|f| obj.get(&f.name).map(|v| v.as_str().expect("string values").to_string()))
                    .collect()
            }
        }
    }

    /// What an importer sees in one file.
    fn tally(item: &Item, format: GenFormat, text: &str) -> (Tally, Vec<ValidRecord>) {
        let mut lines: Vec<&str> = text.split('\n').collect();
        assert_eq!(lines.pop(), Some(""), "{}: the file ends with a newline", item.code);
        let header: Vec<String> = match format {
            GenFormat::Csv | GenFormat::Mixed => {
                let h: Vec<String> = lines.remove(0).split(',').map(str::to_string).collect();
                let names: Vec<String> = item.fields.iter().map(|f| f.name.clone()).collect();
                assert_eq!(h, names, "header = the item's fields in catalog order");
                h
            }
            GenFormat::Jsonl => Vec::new(),
        };
        let key_of = |vals: &[Option<String>]| -> String {
            item.key
                .iter()
                .map(|k| {
                    let i = item.fields.iter().position(|f| &f.name == k).unwrap();
                    let raw = vals[i].as_deref().unwrap_or("");
                    match normalize_value(&item.fields[i], raw) {
                        Ok(Some(v)) => v,
                        _ => raw.to_string(),
                    }
                })
                .collect::<Vec<_>>()
                .join("\u{1f}")
        };
        let mut t = Tally::default();
        let mut good_lines = HashSet::new();
        let mut bad_lines = HashSet::new();
        let mut good_keys = HashSet::new();
        let mut bad_keys = Vec::new();
        let mut records = Vec::new();
        for line in lines {
            if line.is_empty() || (format == GenFormat::Csv && line.bytes().all(|b| b == b',')) {
                t.blank += 1;
                continue;
            }
            if good_lines.contains(line) {
                t.duplicates += 1;
                continue;
            }
            assert!(!bad_lines.contains(line), "{}: a quarantined row is repeated: {line}", item.code);
            let vals = values(item, format, &header, line);
            let refs: Vec<Option<&str>> = vals.iter().map(|v| v.as_deref()).collect();
            match validate(item, &refs, LATEST) {
                Ok(r) => {
                    t.accepted += 1;
                    let code_i = item.fields.iter().position(|f| f.name == item.subject_code_field).unwrap();
                    if vals[code_i].as_deref() != Some(r.subject.key()) {
                        t.cosmetic += 1;
                    }
                    assert!(good_keys.insert(r.key.clone()), "{}: key {} repeated", item.code, r.key);
                    good_lines.insert(line.to_string());
                    records.push(r);
                }
                Err(_) => {
                    t.quarantined += 1;
                    bad_keys.push(key_of(&vals));
                    bad_lines.insert(line.to_string());
                }
            }
        }
        for k in bad_keys {
            assert!(k.is_empty() || !good_keys.contains(&k), "{}: quarantined row shares key {k}", item.code);
        }
        (t, records)
    }

    /// The items departments send files of (the platform writes the others itself).
    fn departments_items(c: &Catalog) -> impl Iterator<Item = &Item> {
        c.items().filter(|i| i.origin.is_departments())
    }

    fn check_against_manifest(
        dir: &Path,
        m: &GenManifest,
        format: GenFormat,
    ) -> (Tally, BTreeMap<String, Vec<ValidRecord>>) {
        let catalog = Catalog::bundled().unwrap();
        let mut total = Tally::default();
        let mut all = BTreeMap::new();
        assert_eq!(m.files.len(), departments_items(&catalog).count());
        assert_eq!(m.files[0].item, "registration");
        for f in &m.files {
            let item = catalog.item(&f.item).unwrap();
            let text = std::fs::read_to_string(dir.join(&f.file)).unwrap();
            let (t, records) = tally(item, format, &text);
            assert_eq!(
                (t.accepted, t.quarantined, t.duplicates, t.blank),
                (f.expect_accepted, f.expect_quarantined, f.expect_duplicates, f.expect_blank),
                "{}",
                f.item
            );
            assert_eq!(f.rows, t.accepted + t.quarantined + t.duplicates + t.blank);
            total.accepted += t.accepted;
            total.quarantined += t.quarantined;
            total.duplicates += t.duplicates;
            total.blank += t.blank;
            total.cosmetic += t.cosmetic;
            all.insert(f.item.clone(), records);
        }
        let written: BTreeMap<String, Vec<u8>> = files(dir);
        assert!(written.contains_key("manifest.json"));
        let back: serde_json::Value = serde_json::from_slice(&written["manifest.json"]).unwrap();
        assert_eq!(back["records"], m.records);
        (total, all)
    }

    #[test]
    fn gen_clean_rows_all_validate() {
        let opts = options(7, 0, GenFormat::Csv, GenEncoding::Utf8);
        let (dir, m) = run_gen(&opts);
        let (t, all) = check_against_manifest(dir.path(), &m, GenFormat::Csv);
        assert_eq!((t.quarantined, t.duplicates, t.blank, t.cosmetic), (0, 0, 0, 0));
        assert_eq!(all["registration"].len() as u64, opts.subjects);
        let records: usize = all.iter().filter(|(k, _)| *k != "registration").map(|(_, v)| v.len()).sum();
        assert_eq!(records as u64, opts.records);
        assert_eq!(all["admin_licence"].len(), 348);
        assert_eq!(all["admin_penalty"].len(), 360);
        assert_eq!(all["dishonest_debtor"].len(), 36);
        assert_eq!(all["false_litigation"].len(), 12);

        // registration: Beijing subjects, unique codes, division = the code's division
        let registered: HashSet<String> = all["registration"].iter().map(|r| r.subject.key().to_string()).collect();
        assert_eq!(registered.len() as u64, opts.subjects);
        for r in &all["registration"] {
            let info = r.subject_info.as_ref().unwrap();
            assert_eq!(info.division.as_deref(), Some(&r.subject.key()[2..8]));
            assert!(info.division.as_deref().unwrap().starts_with("1101"));
            assert!(info.legal_rep_id.is_some() && info.legal_rep_name.is_some());
            assert!(r.subject_name.starts_with("北京"), "{}", r.subject_name);
        }
        assert!(all["registration"].iter().any(|r| !r.subject_info.as_ref().unwrap().former_names.is_empty()));

        // records attach to registered subjects, natural persons only as dishonest debtors
        let mut persons = 0;
        for (item, rs) in &all {
            for r in rs {
                match &r.subject {
                    SubjectCode::Uscc(u) => assert!(registered.contains(u.as_str()), "{item}: {u}"),
                    SubjectCode::Resident(_) => {
                        assert_eq!(item, "dishonest_debtor");
                        persons += 1;
                    }
                    SubjectCode::Document(d) => panic!("{item}: gen makes no document keys: {d:?}"),
                }
                let d = r.decision_date.unwrap();
                assert!(d <= LATEST);
                if item != "registration" {
                    assert!(d >= date!(2019 - 01 - 01), "{item}: {d}");
                }
            }
        }
        assert!(persons > 0);

        // penalties: every tier, both procedures, warning-only cases
        let p = &all["admin_penalty"];
        for tier in [Tier::Minor, Tier::General, Tier::Serious, Tier::SpeciallySerious] {
            assert!(p.iter().any(|r| r.tier == Some(tier)), "{tier:?}");
        }
        assert!(
            p.iter()
                .filter(|r| r.tier == Some(Tier::SpeciallySerious))
                .all(|r| r.decision_date.unwrap() < date!(2023 - 05 - 01))
        );
        assert!(p.iter().any(|r| r.fields["处罚程序"] == "简易程序"));
        assert!(p.iter().filter(|r| r.fields["处罚程序"] == "普通程序").count() > p.len() / 2);
        assert!(p.iter().any(|r| r.fields["处罚类别"] == "警告" && !r.fields.contains_key("罚款金额(万元)")));
        assert!(p.iter().any(|r| r.fields.get("罚款金额(万元)").is_some_and(|f| f.contains('.'))));
        for r in p {
            assert!(r.fields["处罚有效期"].as_str() > r.fields["处罚决定日期"].as_str());
            assert!(r.fields["处罚机关统一社会信用代码"].starts_with("1111"));
        }
        // some subjects carry many records
        let mut per_subject: BTreeMap<&str, usize> = BTreeMap::new();
        for r in all.iter().filter(|(k, _)| *k != "registration").flat_map(|(_, v)| v) {
            *per_subject.entry(r.subject.key()).or_default() += 1;
        }
        assert!(per_subject.values().max().copied().unwrap_or(0) >= 30);
    }

    /// Every catalog item gets its share of rows, the new administrative actions with
    /// the values that make them worth showing.
    #[test]
    fn gen_every_item_gets_rows() {
        let opts = GenOptions { records: 4000, ..options(21, 0, GenFormat::Csv, GenEncoding::Utf8) };
        let (dir, m) = run_gen(&opts);
        let (_, all) = check_against_manifest(dir.path(), &m, GenFormat::Csv);
        // criminal judgments have a file and no rows yet (share 0, see `generate`)
        for item in departments_items(&Catalog::bundled().unwrap()).filter(|i| i.code != "criminal_judgment") {
            assert!(!all[&item.code].is_empty(), "{}: no rows", item.code);
        }
        for (code, share, _) in actions::SHARES {
            let n = all[code].len() as u64;
            assert!(n + 1 >= opts.records * share / 100 && n <= opts.records * share / 100 + 1, "{code}: {n}");
        }
        let values = |item: &str, field: &str| -> HashSet<String> {
            all[item].iter().filter_map(|r| r.fields.get(field).cloned()).collect()
        };
        assert_eq!(values("tax_credit_rating", "纳税信用级别").len(), 5, "every level A/B/M/C/D");
        assert_eq!(values("admin_enforcement", "行政强制类别").len(), 2);
        assert!(values("admin_inspection", "检查结果").len() >= 4);
        assert!(values("admin_inspection", "检查结果").contains("未发现问题"));
        // ratings are settled in April for the year before, one per subject and year
        let april = all["tax_credit_rating"].iter().filter(|r| r.decision_date.unwrap().month() == Month::April);
        assert!(april.count() * 2 > all["tax_credit_rating"].len());
        for r in &all["tax_credit_rating"] {
            let year: i32 = r.fields["评价年度"].parse().unwrap();
            assert!(year < r.decision_date.unwrap().year(), "{year} rated on {:?}", r.decision_date);
        }
        // amounts, validity and lifting appear where the item has them
        assert!(all["admin_benefit"].iter().any(|r| r.fields.contains_key("给付金额(万元)")));
        assert!(all["admin_reward"].iter().any(|r| r.fields.contains_key("有效期至")));
        assert!(all["admin_enforcement"].iter().any(|r| r.fields.contains_key("解除日期")));
        // quality failures concern market-registered producers
        assert!(all["product_quality_failure"].iter().all(|r| r.subject.key().starts_with('9')));
    }

    #[test]
    fn gen_dirty_rows_match_the_manifest() {
        let opts = options(11, 10, GenFormat::Csv, GenEncoding::Utf8);
        let (dir, m) = run_gen(&opts);
        let (t, all) = check_against_manifest(dir.path(), &m, GenFormat::Csv);
        assert_eq!(all["registration"].len() as u64, opts.subjects);
        assert_eq!(t.accepted, opts.subjects + opts.records);
        assert!(t.quarantined > 0 && t.duplicates > 0 && t.blank > 0 && t.cosmetic > 0, "{t:?}");
        let rows: u64 = m.files.iter().map(|f| f.rows).sum();
        let dirty = t.quarantined + t.duplicates + t.blank + t.cosmetic;
        assert!(dirty * 100 > rows * 6 && dirty * 100 < rows * 14, "{dirty} of {rows}");
        // every kind of quarantine defect occurs
        let catalog = Catalog::bundled().unwrap();
        let mut rules = HashSet::new();
        for f in &m.files {
            let item = catalog.item(&f.item).unwrap();
            let text = std::fs::read_to_string(dir.path().join(&f.file)).unwrap();
            let mut lines = text.lines();
            let header: Vec<String> = lines.next().unwrap().split(',').map(str::to_string).collect();
            for line in lines.filter(|l| !l.is_empty() && !l.bytes().all(|b| b == b',')) {
                let vals = values(item, GenFormat::Csv, &header, line);
                let refs: Vec<Option<&str>> = vals.iter().map(|v| v.as_deref()).collect();
                if let Err(e) = validate(item, &refs, LATEST) {
                    assert_eq!(e.len(), 1, "one defect per row: {e:?}");
                    rules.insert(e[0].rule.clone());
                }
            }
        }
        for rule in ["code.check_char", "required", "date"] {
            assert!(rules.contains(rule), "{rules:?}");
        }
    }

    #[test]
    fn gen_is_deterministic() {
        for format in [GenFormat::Csv, GenFormat::Jsonl] {
            let (a, _) = run_gen(&options(3, 10, format, GenEncoding::Utf8));
            let (b, _) = run_gen(&options(3, 10, format, GenEncoding::Utf8));
            let (c, _) = run_gen(&options(4, 10, format, GenEncoding::Utf8));
            let (fa, fb, fc) = (files(a.path()), files(b.path()), files(c.path()));
            // one file per catalog item, and the manifest
            assert_eq!(fa.len(), departments_items(&Catalog::bundled().unwrap()).count() + 1);
            assert_eq!(fa, fb);
            for (name, bytes) in &fa {
                // a file with no rows (criminal judgments, share 0) is its header whatever the seed
                if name != "manifest.json" && !name.starts_with("criminal_judgment") {
                    assert_ne!(Some(bytes), fc.get(name), "{name}");
                }
            }
        }
        // registration does not depend on the number of records
        let (a, _) = run_gen(&options(5, 0, GenFormat::Csv, GenEncoding::Utf8));
        let mut more = options(5, 0, GenFormat::Csv, GenEncoding::Utf8);
        more.records = 300;
        let (b, _) = run_gen(&more);
        assert_eq!(files(a.path())["registration.csv"], files(b.path())["registration.csv"]);
    }

    #[test]
    fn gen_gb18030_decodes_to_the_utf8_text() {
        let (u, mu) = run_gen(&options(9, 10, GenFormat::Csv, GenEncoding::Utf8));
        let (g, mg) = run_gen(&options(9, 10, GenFormat::Csv, GenEncoding::Gb18030));
        assert_eq!(serde_json::to_string(&mu).unwrap(), serde_json::to_string(&mg).unwrap());
        let (fu, fg) = (files(u.path()), files(g.path()));
        for (name, utf8) in &fu {
            if name == "manifest.json" {
                continue;
            }
            let gb = &fg[name];
            assert_ne!(gb, utf8, "{name} is really re-encoded");
            let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(gb);
            assert!(!had_errors, "{name}");
            assert_eq!(text.as_bytes(), utf8.as_slice(), "{name}");
            // and the cached per-character encoding equals encoding whole lines
            let whole = encoding_rs::GB18030.encode(std::str::from_utf8(utf8).unwrap()).0;
            assert_eq!(whole.as_ref(), gb.as_slice(), "{name}");
        }
    }

    #[test]
    fn gen_jsonl_lines_parse_and_match_the_manifest() {
        let opts = options(13, 10, GenFormat::Jsonl, GenEncoding::Gb18030);
        let (dir, m) = run_gen(&opts);
        assert!(m.files.iter().all(|f| f.file.ends_with(".jsonl")));
        let (t, all) = check_against_manifest(dir.path(), &m, GenFormat::Jsonl);
        assert_eq!(all["registration"].len() as u64, opts.subjects);
        assert!(t.quarantined > 0 && t.duplicates > 0 && t.blank > 0 && t.cosmetic > 0, "{t:?}");
        // the same rows as the CSV files of the same options
        let csv_opts = GenOptions { format: GenFormat::Csv, encoding: GenEncoding::Utf8, ..opts };
        let (csv_dir, csv_m) = run_gen(&csv_opts);
        let (csv_t, csv_all) = check_against_manifest(csv_dir.path(), &csv_m, GenFormat::Csv);
        assert_eq!(t, csv_t);
        for (item, records) in &all {
            let fields = |rs: &[ValidRecord]| rs.iter().map(|r| r.fields.clone()).collect::<Vec<_>>();
            assert_eq!(fields(records), fields(&csv_all[item]), "{item}");
        }
    }

    #[test]
    fn gen_edge_options() {
        // nothing but headers
        let mut o = options(1, 50, GenFormat::Csv, GenEncoding::Utf8);
        o.subjects = 0;
        o.records = 0;
        let (dir, m) = run_gen(&o);
        assert!(m.files.iter().all(|f| f.rows == 0));
        assert_eq!(std::fs::read_to_string(dir.path().join("honour.csv")).unwrap().lines().count(), 1);
        // records need subjects
        o.records = 10;
        assert!(matches!(generate(&o, dir.path()), Err(GenError::Catalog(_))));
        // everything dirty, an early latest date
        let mut o = options(2, 100, GenFormat::Csv, GenEncoding::Utf8);
        o.subjects = 20;
        o.records = 60;
        o.latest_date = date!(2018 - 03 - 01);
        let (dir, m) = run_gen(&o);
        let (t, _) = check_against_manifest(dir.path(), &m, GenFormat::Csv);
        assert_eq!(t.accepted, 80);
        assert_eq!(t.cosmetic, 80);
    }
}
