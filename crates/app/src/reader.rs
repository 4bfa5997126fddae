//! Reading department files row by row, whatever their format and encoding: CSV
//! (UTF-8 with or without BOM, or GB18030, detected), XLSX and JSON Lines. Rows stream,
//! and every buffer has a bound: whatever a file holds, reading it takes a few MiB
//! (plus an XLSX file's shared strings, themselves bounded).

mod csv_rows;
mod xlsx_rows;

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::mpsc;

use xinyong_core::record::FieldError;

use crate::{AppError, Result};
use csv_rows::{BoundedCsv, Overflow, RawBytes};

/// The most bytes one row (a CSV record, a JSONL line, an XLSX row's text) may hold;
/// a longer one is quarantined as an excerpt with the hash of what was sent.
pub const MAX_ROW_BYTES: usize = 1 << 20;
/// The most columns a header or row may have.
pub const MAX_COLUMNS: usize = 1024;
/// The most bytes a header row may hold.
pub const MAX_HEADER_BYTES: usize = 64 << 10;
/// What the quarantine keeps of each cell of an overlong row, and of the row in all.
pub const EXCERPT_CHARS: usize = 1000;
const EXCERPT_TOTAL_BYTES: usize = 64 << 10;
pub use xlsx_rows::MAX_SHARED_STRINGS_BYTES;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
    Jsonl,
}

impl Format {
    pub fn from_path(path: &Path) -> Result<Format> {
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
        match ext.as_str() {
            "csv" | "txt" => Ok(Format::Csv),
            "xlsx" | "xlsm" => Ok(Format::Xlsx),
            "jsonl" | "ndjson" => Ok(Format::Jsonl),
            _ => Err(AppError::input(
                format!("无法识别文件格式“{}”：支持 .csv、.xlsx、.jsonl", path.display()),
                format!("unknown file format '{}': use .csv, .xlsx or .jsonl", path.display()),
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Gb18030,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Gb18030 => "GB18030",
        }
    }
}

/// One data row: cells aligned with the source's headers, or why it could not be read.
#[derive(Debug, Clone)]
pub struct RawRow {
    /// 1-based row (line) number as a spreadsheet shows it; the header is row 1.
    pub row: u64,
    pub cells: Vec<String>,
    pub problem: Option<FieldError>,
    /// Empty lines skipped just before this row (the CSV parser does not return them).
    pub blank_lines_before: u64,
}

impl RawRow {
    pub fn is_blank(&self) -> bool {
        self.problem.is_none() && self.cells.iter().all(|c| c.trim().is_empty())
    }
}

pub struct RowSource {
    pub headers: Vec<String>,
    pub encoding: Option<Encoding>,
    pub total_bytes: u64,
    /// Empty lines after the last row (known once `next_row` returned `None`).
    pub trailing_blank: u64,
    inner: Inner,
}

enum Inner {
    Csv { reader: Box<BoundedCsv<BufReader<CrlfToLf<File>>>>, encoding: Encoding, next_line: u64 },
    Jsonl { lines: BufReader<File>, line: u64, buf: Vec<u8>, raw: Box<RawBytes>, bytes: u64 },
    Xlsx { rows: mpsc::Receiver<Result<xlsx_rows::SheetRow>>, last_row: u64 },
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads a file with every CRLF line end as LF, and every lone CR (old Mac files) too.
/// Excel and department systems write CRLF; the CSV parser then ends a record at the CR
/// and counts lines at the LF, which put every row number one line off. Neither UTF-8
/// nor GB18030 has a CR byte inside a character, so this changes line ends only (a cell
/// spanning lines keeps LF, as spreadsheets store it).
struct CrlfToLf<R> {
    inner: R,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    eof: bool,
    /// CR bytes dropped so far (for the byte position reported as progress).
    dropped: u64,
}

impl<R: Read> CrlfToLf<R> {
    fn new(inner: R) -> CrlfToLf<R> {
        CrlfToLf { inner, buf: vec![0; 64 * 1024].into_boxed_slice(), start: 0, end: 0, eof: false, dropped: 0 }
    }
}

impl<R: Read> Read for CrlfToLf<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            if self.start == self.end {
                if self.eof {
                    return Ok(0);
                }
                self.start = 0;
                self.end = self.inner.read(&mut self.buf)?;
                if self.end == 0 {
                    self.eof = true;
                    return Ok(0);
                }
            }
            let mut written = 0;
            while self.start < self.end && written < out.len() {
                let b = self.buf[self.start];
                if b == b'\r' {
                    if self.start + 1 < self.end {
                        if self.buf[self.start + 1] == b'\n' {
                            self.start += 1;
                            self.dropped += 1;
                            continue;
                        }
                    } else if !self.eof {
                        // a CR at the end of what was read: whether an LF follows is in
                        // the next read; hand over what is ready first
                        if written > 0 {
                            return Ok(written);
                        }
                        self.buf[0] = b'\r';
                        let got = self.inner.read(&mut self.buf[1..])?;
                        self.start = 0;
                        self.end = 1 + got;
                        self.eof = got == 0;
                        continue;
                    }
                }
                // a CR not followed by LF ends a line too
                out[written] = if b == b'\r' { b'\n' } else { b };
                written += 1;
                self.start += 1;
            }
            if written > 0 {
                return Ok(written);
            }
        }
    }
}

/// Detects the encoding from the first 64 KiB: BOM → UTF-8; valid UTF-8 → UTF-8 unless
/// the same bytes read better as GB18030; otherwise GB18030 (a superset of GBK and
/// GB2312, what Chinese Excel writes).
fn detect_encoding(prefix: &[u8]) -> (Encoding, usize) {
    if prefix.starts_with(UTF8_BOM) {
        return (Encoding::Utf8, UTF8_BOM.len());
    }
    match std::str::from_utf8(prefix) {
        Ok(text) => (utf8_or_gb18030(text, prefix), 0),
        // an error only in the last 3 bytes is a character cut by the 64 KiB window
        Err(e) if e.error_len().is_none() => {
            let whole = &prefix[..e.valid_up_to()];
            (utf8_or_gb18030(std::str::from_utf8(whole).unwrap_or_default(), whole), 0)
        }
        // bad bytes somewhere: decide by the lines, not by the first bad byte, so that a
        // UTF-8 file with one damaged row stays UTF-8 (the row is quarantined, not the file)
        Err(_) => {
            let mut lines: Vec<&[u8]> = prefix.split(|&b| b == b'\n').collect();
            if prefix.len() >= 64 * 1024 && lines.len() > 1 {
                lines.pop(); // cut by the window
            }
            let non_ascii: Vec<&[u8]> = lines.into_iter().filter(|l| !l.is_ascii()).collect();
            // a line votes UTF-8 only if it is UTF-8 and reads as such (蓘蓡 in GB18030
            // is valid UTF-8 too, as ɀɆ)
            let utf8 = non_ascii
                .iter()
                .filter(|l| std::str::from_utf8(l).is_ok_and(|t| utf8_or_gb18030(t, l) == Encoding::Utf8))
                .count();
            if utf8 * 2 > non_ascii.len() { (Encoding::Utf8, 0) } else { (Encoding::Gb18030, 0) }
        }
    }
}

/// Short GB18030 text can be valid UTF-8 by chance (蚋唱 is four bytes that UTF-8 reads
/// as one unassigned character). When the bytes are both, GB18030 wins if the UTF-8
/// reading holds what no text holds (C1 controls, private use, unassigned planes), or
/// holds no CJK at all while the GB18030 reading does: a department file's header is
/// Chinese, so a real UTF-8 file has CJK in its first lines.
fn utf8_or_gb18030(text: &str, bytes: &[u8]) -> Encoding {
    if text.is_ascii() {
        return Encoding::Utf8;
    }
    // the window may cut a GB18030 character: judge the whole lines
    let whole = match bytes.iter().rposition(|&b| b == b'\n') {
        Some(i) if bytes.len() >= 64 * 1024 => &bytes[..i],
        _ => bytes,
    };
    let Some(gb) = encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(whole) else {
        return Encoding::Utf8;
    };
    let implausible = text.chars().any(|c| matches!(u32::from(c), 0x80..=0x9f | 0xe000..=0xf8ff | 0x40000..));
    let cjk = |s: &str| s.chars().any(|c| u32::from(c) >= 0x2e80);
    if implausible || (!cjk(text) && cjk(&gb)) { Encoding::Gb18030 } else { Encoding::Utf8 }
}

fn decode(bytes: &[u8], encoding: Encoding) -> Option<String> {
    match encoding {
        Encoding::Utf8 => std::str::from_utf8(bytes).ok().map(str::to_string),
        Encoding::Gb18030 => {
            encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(bytes).map(|c| c.into_owned())
        }
    }
}

fn encoding_problem(row: u64, encoding: Encoding) -> FieldError {
    FieldError::new(
        "",
        "encoding",
        format!("第 {row} 行含有不是 {} 编码的字节", encoding.name()),
        format!("row {row} contains bytes that are not valid {}", encoding.name()),
    )
}

/// A quote opened in row `row` and never closed where the row ends folds the following
/// lines into one cell. A cell may hold line breaks (a multi-line address), but one that
/// holds whole lines with as many separators as a row has swallowed rows: say so,
/// naming where the quote starts and how many lines it took.
fn unclosed_quote(row: u64, fields: &[&[u8]], lines: u64, columns: usize) -> Option<FieldError> {
    let separators = columns.saturating_sub(1).max(1);
    let swallowed = fields
        .iter()
        .flat_map(|f| f.split(|&b| b == b'\n').skip(1))
        .filter(|line| line.iter().filter(|&&b| b == b',').count() >= separators)
        .count();
    (swallowed > 0).then(|| {
        FieldError::new(
            "",
            "csv.unclosed_quote",
            format!("第 {row} 行的引号未闭合：其后 {lines} 行被并入同一单元格，请检查该行的英文双引号"),
            format!("unclosed quote starting at row {row}: the next {lines} lines were folded into one cell"),
        )
    })
}

/// What a file's first bytes say it is, whatever its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Content {
    Text,
    Zip,
    OldExcel,
    Pdf,
    Image,
    Binary,
}

impl Content {
    fn sniff(head: &[u8]) -> Content {
        if head.starts_with(b"PK\x03\x04") {
            Content::Zip
        } else if head.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
            Content::OldExcel
        } else if head.starts_with(b"%PDF") {
            Content::Pdf
        } else if head.starts_with(b"\x89PNG") || head.starts_with(b"\xFF\xD8\xFF") {
            Content::Image
        } else if head.contains(&0) {
            // text in UTF-8 or GB18030 has no NUL byte
            Content::Binary
        } else {
            Content::Text
        }
    }

    fn name(self) -> (&'static str, &'static str) {
        match self {
            Content::Text => ("文本", "text"),
            Content::Zip => ("ZIP 压缩包（如 Excel .xlsx 工作簿）", "a ZIP archive (such as an Excel .xlsx workbook)"),
            Content::OldExcel => ("旧版 Excel（.xls）工作簿", "an old Excel (.xls) workbook"),
            Content::Pdf => ("PDF 文档", "a PDF document"),
            Content::Image => ("图片", "an image"),
            Content::Binary => ("二进制数据（不是文本）", "binary data (not text)"),
        }
    }
}

/// Refuses a file whose content is not what its name says, naming both.
fn check_content(path: &Path, format: Format) -> Result<()> {
    let mut head = vec![0u8; 8 * 1024];
    let n = read_up_to(&mut File::open(path)?, &mut head)?;
    head.truncate(n);
    let content = Content::sniff(&head);
    let expected = match (format, content) {
        (Format::Xlsx, Content::Zip) | (Format::Csv | Format::Jsonl, Content::Text) => return Ok(()),
        (Format::Xlsx, _) => ("Excel 2007 及以上版本的 .xlsx 工作簿", "an Excel 2007+ .xlsx workbook"),
        (Format::Csv, _) => ("CSV 文本（UTF-8 或 GB18030）", "CSV text (UTF-8 or GB18030)"),
        (Format::Jsonl, _) => ("JSON Lines 文本（UTF-8）", "JSON Lines text (UTF-8)"),
    };
    let (is_zh, is_en) = content.name();
    let hint = match (format, content) {
        (_, Content::OldExcel) => ("；请在 Excel 中另存为 .xlsx 或 CSV", "; save it as .xlsx or CSV in Excel"),
        (Format::Csv | Format::Jsonl, Content::Zip) => {
            ("；如为 Excel 工作簿，请使用 .xlsx 扩展名", "; if it is an Excel workbook, name it .xlsx")
        }
        (Format::Xlsx, Content::Text) => ("；如为 CSV 文本，请使用 .csv 扩展名", "; if it is CSV text, name it .csv"),
        _ => ("", ""),
    };
    Err(AppError::input(
        format!("文件“{}”的内容是{is_zh}，应为{}{}", path.display(), expected.0, hint.0),
        format!("'{}' holds {is_en}, expected {}{}", path.display(), expected.1, hint.1),
    ))
}

impl RowSource {
    pub fn open(path: &Path) -> Result<RowSource> {
        let total_bytes = std::fs::metadata(path)?.len();
        let format = Format::from_path(path)?;
        check_content(path, format)?;
        match format {
            Format::Csv => RowSource::open_csv(path, total_bytes),
            Format::Jsonl => Ok(RowSource {
                headers: Vec::new(),
                encoding: Some(Encoding::Utf8),
                total_bytes,
                trailing_blank: 0,
                inner: Inner::Jsonl {
                    lines: BufReader::new(File::open(path)?),
                    line: 0,
                    buf: Vec::new(),
                    raw: Box::default(),
                    bytes: 0,
                },
            }),
            Format::Xlsx => RowSource::open_xlsx(path, total_bytes),
        }
    }

    fn open_csv(path: &Path, total_bytes: u64) -> Result<RowSource> {
        let mut file = File::open(path)?;
        let mut prefix = vec![0u8; 64 * 1024];
        let n = read_up_to(&mut file, &mut prefix)?;
        prefix.truncate(n);
        let (encoding, skip) = detect_encoding(&prefix);
        file.seek(SeekFrom::Start(skip as u64))?;
        let mut reader = Box::new(BoundedCsv::new(BufReader::with_capacity(1 << 20, CrlfToLf::new(file))));
        let Some(record) = reader.read(MAX_HEADER_BYTES, false)? else {
            return Err(AppError::input("文件为空，没有表头行", "the file is empty: no header row"));
        };
        if let Some(o) = &record.overflow {
            return Err(header_too_big(o));
        }
        let headers = record
            .fields
            .iter()
            .map(|h| decode(h, encoding).map(|s| s.trim_start_matches('\u{feff}').to_string()))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                AppError::input(
                    format!("表头不是有效的 {} 文本", encoding.name()),
                    format!("the header row is not valid {}", encoding.name()),
                )
            })?;
        let next_line = record.line_after;
        Ok(RowSource {
            headers,
            encoding: Some(encoding),
            total_bytes,
            inner: Inner::Csv { reader, encoding, next_line },
            trailing_blank: 0,
        })
    }

    fn open_xlsx(path: &Path, total_bytes: u64) -> Result<RowSource> {
        let (headers, rows) = xlsx_rows::stream(path)?;
        if headers.len() > MAX_COLUMNS {
            return Err(header_too_big(&Overflow { bytes: 0, sha256: String::new(), too_wide: true }));
        }
        Ok(RowSource {
            headers,
            encoding: None,
            total_bytes,
            trailing_blank: 0,
            inner: Inner::Xlsx { rows, last_row: 1 },
        })
    }

    /// Bytes consumed so far (for progress); exact for JSONL and LF-ended CSV, within
    /// the read-ahead for CRLF-ended CSV.
    pub fn position(&self) -> u64 {
        match &self.inner {
            Inner::Csv { reader, .. } => reader.consumed + reader.get_ref().get_ref().dropped,
            Inner::Jsonl { bytes, .. } => *bytes,
            Inner::Xlsx { .. } => 0,
        }
    }

    /// The next row; `Ok(None)` at the end. For JSONL, `cells` holds the JSON object
    /// itself in `cells[0]` and the caller maps keys (JSON rows carry their own names).
    pub fn next_row(&mut self) -> Result<Option<RawRow>> {
        match &mut self.inner {
            Inner::Csv { reader, encoding, next_line } => {
                let Some(record) = reader.read(MAX_ROW_BYTES, true)? else {
                    // empty lines at the end of the file
                    self.trailing_blank = reader.line().saturating_sub(*next_line);
                    return Ok(None);
                };
                // the parser skips empty lines before a record: its row is after them
                let blank_lines_before = record.blank_lines_before;
                let row = record.line_before + blank_lines_before;
                let after = record.line_after;
                let embedded: u64 =
                    record.fields.iter().map(|f| f.iter().filter(|&&b| b == b'\n').count() as u64).sum();
                *next_line = after;
                if let Some(o) = &record.overflow {
                    let cells = record.fields.iter().map(|f| String::from_utf8_lossy(f)).collect::<Vec<_>>();
                    let lines = after.saturating_sub(row);
                    return Ok(Some(overlong(row, &cells, o, lines, blank_lines_before)));
                }
                let folded =
                    if embedded > 0 { unclosed_quote(row, &record.fields, embedded, self.headers.len()) } else { None };
                let cells: Option<Vec<String>> = record.fields.iter().map(|f| decode(f, *encoding)).collect();
                Ok(Some(match cells {
                    Some(cells) => RawRow { row, cells, problem: folded, blank_lines_before },
                    None => RawRow {
                        row,
                        cells: record.fields.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect(),
                        problem: Some(encoding_problem(row, *encoding)),
                        blank_lines_before,
                    },
                }))
            }
            Inner::Jsonl { lines, line, buf, raw, bytes } => {
                let Some(n) = read_line_bounded(lines, buf, raw)? else {
                    return Ok(None);
                };
                *line += 1;
                *bytes += n;
                let row = *line;
                if n > MAX_ROW_BYTES as u64 {
                    let o = Overflow { bytes: n, sha256: raw.sha256(), too_wide: false };
                    return Ok(Some(overlong(row, &[String::from_utf8_lossy(buf)], &o, 1, 0)));
                }
                Ok(Some(match std::str::from_utf8(buf) {
                    Ok(s) => RawRow {
                        row,
                        cells: vec![s.trim_end_matches(['\n', '\r']).to_string()],
                        problem: None,
                        blank_lines_before: 0,
                    },
                    Err(_) => RawRow {
                        row,
                        cells: vec![String::from_utf8_lossy(buf).into_owned()],
                        problem: Some(encoding_problem(row, Encoding::Utf8)),
                        blank_lines_before: 0,
                    },
                }))
            }
            Inner::Xlsx { rows, last_row } => {
                let Ok(next) = rows.recv() else { return Ok(None) };
                let sheet_row = next?;
                let blank_lines_before = sheet_row.row.saturating_sub(*last_row + 1);
                *last_row = sheet_row.row;
                Ok(Some(match sheet_row.overflow {
                    Some(o) => overlong(sheet_row.row, &sheet_row.cells, &o, 1, blank_lines_before),
                    None => RawRow { row: sheet_row.row, cells: sheet_row.cells, problem: None, blank_lines_before },
                }))
            }
        }
    }

    pub fn is_jsonl(&self) -> bool {
        matches!(self.inner, Inner::Jsonl { .. })
    }
}

/// Reads one line into `buf`, keeping at most [`MAX_ROW_BYTES`] of it (the rest is
/// hashed into `raw` and dropped). Returns the line's full length, `None` at the end.
fn read_line_bounded(input: &mut impl BufRead, buf: &mut Vec<u8>, raw: &mut RawBytes) -> std::io::Result<Option<u64>> {
    buf.clear();
    raw.clear();
    loop {
        let available = input.fill_buf()?;
        if available.is_empty() {
            return Ok((raw.len > 0).then_some(raw.len));
        }
        let (take, done) = match memchr_newline(available) {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        let room = (MAX_ROW_BYTES + 1).saturating_sub(buf.len()).min(take);
        buf.extend_from_slice(&available[..room]);
        raw.add(&available[..take]);
        input.consume(take);
        if done {
            return Ok(Some(raw.len));
        }
    }
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

/// A row over the bounds: quarantined with an excerpt of each cell and the hash of
/// what was sent, so the department can find it without the platform storing it all.
fn overlong<S: AsRef<str>>(row: u64, cells: &[S], o: &Overflow, lines: u64, blank_lines_before: u64) -> RawRow {
    let mut total = 0;
    let mut excerpt = Vec::new();
    for cell in cells {
        if total >= EXCERPT_TOTAL_BYTES {
            break;
        }
        let cell = cell.as_ref();
        let cut: String = cell.chars().take(EXCERPT_CHARS).collect();
        total += cut.len();
        excerpt.push(if cut.len() < cell.len() { format!("{cut}…") } else { cut });
    }
    let hash = if o.sha256.is_empty() { String::new() } else { format!("，SHA-256 {}", o.sha256) };
    let hash_en = if o.sha256.is_empty() { String::new() } else { format!(", SHA-256 {}", o.sha256) };
    let quote = if lines > 1 {
        (
            format!("；该行跨 {lines} 行，可能是引号未闭合"),
            format!("; it spans {lines} lines, perhaps an unclosed quote"),
        )
    } else {
        (String::new(), String::new())
    };
    let problem = if o.too_wide {
        FieldError::new(
            "",
            "row.too_wide",
            format!("该行超过 {MAX_COLUMNS} 列{hash}；隔离区只保留摘录{}", quote.0),
            format!("the row has more than {MAX_COLUMNS} columns{hash_en}; the quarantine keeps an excerpt{}", quote.1),
        )
    } else {
        FieldError::new(
            "",
            "row.too_long",
            format!(
                "该行长 {} 字节，超过上限 {} MiB{hash}；隔离区只保留每格前 {EXCERPT_CHARS} 字{}",
                o.bytes,
                MAX_ROW_BYTES >> 20,
                quote.0
            ),
            format!(
                "the row is {} bytes long, over the {} MiB limit{hash_en}; the quarantine keeps the first {EXCERPT_CHARS} characters of each cell{}",
                o.bytes,
                MAX_ROW_BYTES >> 20,
                quote.1
            ),
        )
    };
    RawRow { row, cells: excerpt, problem: Some(problem), blank_lines_before }
}

fn header_too_big(o: &Overflow) -> AppError {
    if o.too_wide {
        AppError::input(
            format!("表头超过 {MAX_COLUMNS} 列：不是部门数据文件的表头"),
            format!("the header row has more than {MAX_COLUMNS} columns: not a department file's header"),
        )
    } else {
        AppError::input(
            format!("表头行超过 {} KiB：不是部门数据文件的表头（文件是否只有一行？）", MAX_HEADER_BYTES >> 10),
            format!(
                "the header row is over {} KiB: not a department file's header (is the file one long line?)",
                MAX_HEADER_BYTES >> 10
            ),
        )
    }
}

/// Excel's serial day number (1900 date system; day 0 = 1899-12-30 after Excel's
/// leap-year bug is absorbed) as `YYYY-MM-DD`.
fn excel_serial_date(serial: f64) -> String {
    let epoch = time::macros::date!(1899 - 12 - 30);
    match epoch.checked_add(time::Duration::days(serial.floor() as i64)) {
        Some(d) => xinyong_core::record::date_string(d),
        None => serial.to_string(),
    }
}

fn read_up_to(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn encodings_are_detected() {
        assert_eq!(detect_encoding(b"\xEF\xBB\xBFa,b").0, Encoding::Utf8);
        assert_eq!(detect_encoding(b"\xEF\xBB\xBFa,b").1, 3);
        assert_eq!(detect_encoding("名称,代码".as_bytes()).0, Encoding::Utf8);
        // GB18030 bytes that are valid UTF-8 by chance (found by fuzz_csv_tables)
        let (gb, _, _) = encoding_rs::GB18030.encode("蚋唱");
        assert!(std::str::from_utf8(&gb).is_ok());
        assert_eq!(detect_encoding(&gb).0, Encoding::Gb18030);
        // a GB18030 header that is valid UTF-8 (蓘蓡 as ɀɆ) above rows that are not
        let (gb, _, _) = encoding_rs::GB18030.encode("蓘蓡\n夕\n丁\n");
        assert_eq!(detect_encoding(&gb).0, Encoding::Gb18030);
        for utf8 in ["甲", "名称", "北京市朝阳区市场监督管理局", "蚋唱", "名称,é,ü", "名称\nMüller Ünïcödé GmbH"]
        {
            assert_eq!(detect_encoding(utf8.as_bytes()).0, Encoding::Utf8, "{utf8}");
        }
        let (gb, _, _) = encoding_rs::GB18030.encode("名称,代码");
        assert_eq!(detect_encoding(&gb).0, Encoding::Gb18030);
        // a UTF-8 character cut at the window's end is still UTF-8
        let s = "名称".as_bytes();
        assert_eq!(detect_encoding(&s[..4]).0, Encoding::Utf8);
        // a UTF-8 file with bad bytes in its first data row is still UTF-8 …
        let mut damaged = "名称,代码\n".as_bytes().to_vec();
        damaged.extend_from_slice(b"\xff\xfe\xfd,1\n");
        damaged.extend_from_slice("乙公司,2\n丙公司,3\n".as_bytes());
        assert_eq!(detect_encoding(&damaged).0, Encoding::Utf8);
        // … and a GB18030 file with one damaged row is still GB18030
        let (gb, _, _) = encoding_rs::GB18030.encode("名称,代码\n甲公司,1\n乙公司,2\n");
        let mut gb = gb.into_owned();
        gb.extend_from_slice(b"\xff\xff,3\n");
        assert_eq!(detect_encoding(&gb).0, Encoding::Gb18030);
    }

    /// An unclosed quote is named with the row it starts in; rows before and after the
    /// quote's reach are read as they are; a real multi-line cell is not mistaken for one.
    #[test]
    fn an_unclosed_quote_is_named_with_its_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let mut text = String::from("名称,代码,地址\n甲,1,\"北京市\n朝阳区\"\n乙,2,\"缺右引号\n");
        for i in 3..50 {
            text.push_str(&format!("丙{i},{i},地址{i}\n"));
        }
        std::fs::write(&path, text).unwrap();
        let mut src = RowSource::open(&path).unwrap();
        let first = src.next_row().unwrap().unwrap();
        assert!(first.problem.is_none(), "a multi-line address is a cell, not a problem");
        let second = src.next_row().unwrap().unwrap();
        assert_eq!(second.row, 4);
        let p = second.problem.unwrap();
        assert_eq!(p.rule, "csv.unclosed_quote");
        assert!(p.en.contains("unclosed quote starting at row 4") && p.zh.contains("第 4 行的引号未闭合"), "{p:?}");
        assert!(src.next_row().unwrap().is_none(), "the quote took the rest of the file");
    }

    /// A file whose content is not what its name says is refused, naming both.
    #[test]
    fn content_is_sniffed_not_trusted_from_the_name() {
        let dir = tempfile::tempdir().unwrap();
        let cases: [(&str, &[u8], &str); 5] = [
            (
                "text.xlsx",
                "名称,代码\n甲,1\n".as_bytes(),
                "holds text, expected an Excel 2007+ .xlsx workbook; if it is CSV text, name it .csv",
            ),
            ("zip.csv", b"PK\x03\x04rest", "holds a ZIP archive (such as an Excel .xlsx workbook), expected CSV text"),
            ("old.xlsx", b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest", "an old Excel (.xls) workbook"),
            ("random.csv", b"\x00\x9f\x12\x00\xff", "holds binary data (not text), expected CSV text"),
            ("scan.jsonl", b"%PDF-1.7", "holds a PDF document, expected JSON Lines text"),
        ];
        for (name, bytes, says) in cases {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            let Err(e) = RowSource::open(&path) else { panic!("{name} was opened") };
            let text = e.to_string();
            assert!(text.contains(says) && text.contains("应为"), "{name}: {text}");
        }
    }

    /// Bad bytes in the first data row refuse that row, not the file.
    #[test]
    fn bad_bytes_in_the_first_row_quarantine_only_that_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let mut bytes = "名称,代码\r\n".as_bytes().to_vec();
        bytes.extend_from_slice(b"\xb0\xff\xfe,1\r\n");
        bytes.extend_from_slice("乙公司,2\r\n".as_bytes());
        std::fs::write(&path, &bytes).unwrap();
        let mut src = RowSource::open(&path).unwrap();
        assert_eq!(src.headers, ["名称", "代码"]);
        let first = src.next_row().unwrap().unwrap();
        assert_eq!(first.row, 2);
        let problem = first.problem.unwrap();
        assert!(problem.zh.contains("第 2 行") && problem.en.contains("UTF-8"), "{problem:?}");
        let second = src.next_row().unwrap().unwrap();
        assert_eq!((second.row, second.problem.is_none(), second.cells[0].as_str()), (3, true, "乙公司"));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod row_number_tests {
    use super::*;

    /// Row numbers are what a spreadsheet shows, also after empty lines and
    /// quoted cells that span lines; empty lines are counted, not lost.
    #[test]
    fn rows_keep_their_spreadsheet_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, "h1,h2\na,b\n\nc,d\n,\n\n\"multi\nline\",x\ne,f\n\n").unwrap();
        let mut src = RowSource::open(&path).unwrap();
        let mut seen = Vec::new();
        while let Some(r) = src.next_row().unwrap() {
            seen.push((r.row, r.blank_lines_before, r.cells[0].clone()));
        }
        assert_eq!(
            seen,
            vec![
                (2, 0, "a".to_string()),
                (4, 1, "c".to_string()),
                (5, 0, String::new()),
                (7, 1, "multi\nline".to_string()),
                (9, 0, "e".to_string()),
            ]
        );
        assert_eq!(src.trailing_blank, 1);
    }

    /// The spreadsheet row (header = row 1) whatever the line ends, byte-order mark and
    /// encoding departments' systems write: LF or CRLF, with or without a BOM, UTF-8 or
    /// GB18030 — all eight, with an empty line and a quoted cell spanning lines.
    #[test]
    fn row_numbers_hold_for_every_line_end_bom_and_encoding() {
        let dir = tempfile::tempdir().unwrap();
        for crlf in [false, true] {
            for bom in [false, true] {
                for gb in [false, true] {
                    let nl = if crlf { "\r\n" } else { "\n" };
                    let text = ["名称,代码", "甲,1", "", "\"多\n行\",2", "乙,3", ""].join(nl);
                    let mut bytes = Vec::new();
                    if gb {
                        if bom {
                            bytes.extend_from_slice(&[0x84, 0x31, 0x95, 0x33]);
                        }
                        bytes.extend_from_slice(&encoding_rs::GB18030.encode(&text).0);
                    } else {
                        if bom {
                            bytes.extend_from_slice(&[0xef, 0xbb, 0xbf]);
                        }
                        bytes.extend_from_slice(text.as_bytes());
                    }
                    let path = dir.path().join(format!("t{crlf}{bom}{gb}.csv"));
                    std::fs::write(&path, &bytes).unwrap();
                    let mut src = RowSource::open(&path).unwrap();
                    assert_eq!(src.headers, ["名称", "代码"], "crlf {crlf} bom {bom} gb {gb}");
                    let mut seen = Vec::new();
                    while let Some(r) = src.next_row().unwrap() {
                        seen.push((r.row, r.blank_lines_before, r.cells[1].clone()));
                    }
                    let expected: Vec<(u64, u64, String)> =
                        vec![(2, 0, "1".into()), (4, 1, "2".into()), (6, 0, "3".into())];
                    assert_eq!(seen, expected, "crlf {crlf} bom {bom} gb {gb}");
                    assert_eq!(src.trailing_blank, 0, "crlf {crlf} bom {bom} gb {gb}");
                }
            }
        }
    }

    use proptest::prelude::*;

    proptest! {
        /// The adapter gives exactly the input with each CRLF and lone CR made LF, whatever the
        /// sizes of the reads that carve it up.
        #[test]
        fn crlf_and_cr_become_lf_and_nothing_else_changes(
            bytes in proptest::collection::vec(prop_oneof![Just(b'\r'), Just(b'\n'), Just(b'a'), any::<u8>()], 0..400),
            chunk in 1usize..7,
        ) {
            struct Trickle<'a>(&'a [u8], usize);
            impl Read for Trickle<'_> {
                fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                    let n = self.0.len().min(self.1).min(out.len());
                    out[..n].copy_from_slice(&self.0[..n]);
                    self.0 = &self.0[n..];
                    Ok(n)
                }
            }
            let mut got = Vec::new();
            let mut r = CrlfToLf::new(Trickle(&bytes, chunk));
            let mut small = [0u8; 3];
            loop {
                let n = r.read(&mut small).unwrap();
                if n == 0 { break; }
                got.extend_from_slice(&small[..n]);
            }
            let mut expected = Vec::new();
            for (i, b) in bytes.iter().enumerate() {
                if *b == b'\r' && bytes.get(i + 1) == Some(&b'\n') { continue; }
                expected.push(if *b == b'\r' { b'\n' } else { *b });
            }
            prop_assert_eq!(got, expected);
        }
    }
}
