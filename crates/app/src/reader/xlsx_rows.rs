//! XLSX rows in bounded memory. Reading a whole worksheet into a range took memory in
//! proportion to the sheet; here a thread streams cells row by row into a small
//! channel. The parts calamine reads whole (the shared strings) or in one piece (a
//! cell's text) are bounded first by looking into the archive without unpacking it
//! into memory: a zip bomb or a 1 GB cell is refused before calamine sees it.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::mpsc;

use calamine::{DataRef, Reader, Xlsx};

use super::csv_rows::Overflow;
use super::{MAX_COLUMNS, MAX_ROW_BYTES};
use crate::{AppError, Result};

/// The shared-strings part calamine keeps in memory, uncompressed.
pub const MAX_SHARED_STRINGS_BYTES: u64 = 96 << 20;
/// The longest run of text or markup between two XML tags: a cell's text.
const MAX_XML_RUN: usize = MAX_ROW_BYTES;

/// A row as read: 1-based sheet row number and its cells; `overflow` names a row that
/// did not fit and holds only what fitted.
pub(super) struct SheetRow {
    pub row: u64,
    pub cells: Vec<String>,
    pub overflow: Option<Overflow>,
}

/// Streams the first worksheet of a workbook; the receiver yields rows in order.
pub(super) fn stream(path: &Path) -> Result<(Vec<String>, mpsc::Receiver<Result<SheetRow>>)> {
    check_archive(path)?;
    let mut wb: Xlsx<BufReader<File>> =
        calamine::open_workbook(path).map_err(|e: calamine::XlsxError| bad(e.to_string()))?;
    let sheet = wb.sheet_names().first().cloned().ok_or_else(|| bad("no worksheet".into()))?;
    let (tx, rx) = mpsc::sync_channel::<Result<SheetRow>>(256);
    let (header_tx, header_rx) = mpsc::sync_channel::<Result<Vec<String>>>(1);
    std::thread::spawn(move || {
        let mut header_sent = false;
        if let Err(e) = read_rows(&mut wb, &sheet, &mut header_sent, &header_tx, &tx) {
            // before the header the opener reports it, after it the row reader does
            if header_sent {
                let _ = tx.send(Err(e));
            } else {
                let _ = header_tx.send(Err(e));
            }
        }
    });
    let headers = header_rx.recv().map_err(|_| bad("the reader stopped".into()))??;
    Ok((headers, rx))
}

fn read_rows(
    wb: &mut Xlsx<BufReader<File>>,
    sheet: &str,
    header_sent: &mut bool,
    header_tx: &mpsc::SyncSender<Result<Vec<String>>>,
    tx: &mpsc::SyncSender<Result<SheetRow>>,
) -> Result<()> {
    let mut cells = wb.worksheet_cells_reader(sheet).map_err(|e| bad(e.to_string()))?;
    // columns count from the header's first cell, as a sheet's used range does
    let mut first_col = None::<u32>;
    let mut current: Option<SheetRow> = None;
    let mut row_bytes = 0usize;
    let mut header_len = 0usize;
    loop {
        let next = cells.next_cell().map_err(|e| bad(e.to_string()))?;
        // a formatted cell without a value is no cell (as in the sheet's used range)
        if next.as_ref().is_some_and(|c| matches!(c.get_value(), DataRef::Empty)) {
            continue;
        }
        let position = next.as_ref().map(|c| c.get_position());
        let new_row = match (&current, position) {
            (Some(cur), Some((r, _))) => u64::from(r) + 1 != cur.row,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if new_row && let Some(done) = current.take() {
            if !*header_sent {
                *header_sent = true;
                header_len = done.cells.len();
                if header_tx.send(Ok(done.cells)).is_err() {
                    return Ok(());
                }
            } else if tx.send(Ok(done)).is_err() {
                return Ok(()); // the importer stopped reading
            }
        }
        let Some(cell) = next else { break };
        let (r, c) = cell.get_position();
        let first = *first_col.get_or_insert(c);
        let row = current.get_or_insert_with(|| {
            row_bytes = 0;
            SheetRow { row: u64::from(r) + 1, cells: Vec::new(), overflow: None }
        });
        let text = cell_text(cell.get_value());
        row_bytes += text.len();
        // a cell left of the header has no column: it goes after the last one, where
        // the importer refuses a row with more cells than the header has columns
        let col = if c >= first { (c - first) as usize } else { row.cells.len().max(header_len) };
        if col >= MAX_COLUMNS || row_bytes > MAX_ROW_BYTES {
            let too_wide = col >= MAX_COLUMNS || row.overflow.as_ref().is_some_and(|o| o.too_wide);
            row.overflow = Some(Overflow { bytes: row_bytes as u64, sha256: String::new(), too_wide });
            continue;
        }
        if row.cells.len() <= col {
            row.cells.resize(col + 1, String::new());
        }
        row.cells[col] = text;
    }
    if !*header_sent {
        *header_sent = true;
        let _ = header_tx.send(Err(AppError::input("工作表为空，没有表头行", "the worksheet is empty: no header row")));
    }
    Ok(())
}

fn cell_text(d: &DataRef<'_>) -> String {
    match d {
        DataRef::Empty => String::new(),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_string(),
        DataRef::Int(i) => i.to_string(),
        // integers typed into Excel arrive as floats; show them as typed
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) => f.to_string(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(dt) => super::excel_serial_date(dt.as_f64()),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => format!("#ERROR {e:?}"),
    }
}

fn bad(e: String) -> AppError {
    AppError::input(format!("无法读取 Excel 文件：{e}"), format!("cannot read the Excel file: {e}"))
}

/// Looks into the archive before calamine does: the shared strings it keeps whole must
/// fit [`MAX_SHARED_STRINGS_BYTES`], and no XML part may hold a run of text longer than
/// a row may be (calamine reads one run into memory at once). Reads each XML part as
/// a stream, so the check itself stays small.
fn check_archive(path: &Path) -> Result<()> {
    let mut zip = zip::ZipArchive::new(BufReader::new(File::open(path)?)).map_err(|e| bad(e.to_string()))?;
    for i in 0..zip.len() {
        let mut part = zip.by_index(i).map_err(|e| bad(e.to_string()))?;
        let name = part.name().to_string();
        if !name.starts_with("xl/") || !name.ends_with(".xml") {
            continue;
        }
        if name == "xl/sharedStrings.xml" && part.size() > MAX_SHARED_STRINGS_BYTES {
            return Err(too_big(&name, part.size()));
        }
        let mut buf = vec![0u8; 64 * 1024];
        let (mut run, mut total) = (0usize, 0u64);
        loop {
            let n = part.read(&mut buf).map_err(|e| bad(e.to_string()))?;
            if n == 0 {
                break;
            }
            total += n as u64;
            if name == "xl/sharedStrings.xml" && total > MAX_SHARED_STRINGS_BYTES {
                // the size in the directory can lie; the bytes cannot
                return Err(too_big(&name, total));
            }
            for &b in &buf[..n] {
                run = if b == b'<' || b == b'>' { 0 } else { run + 1 };
                if run > MAX_XML_RUN {
                    break;
                }
            }
            if run > MAX_XML_RUN {
                return Err(AppError::input(
                    format!("Excel 文件的“{name}”中有一段超过 {} MiB 的文本（单元格过长）", MAX_XML_RUN >> 20),
                    format!(
                        "'{name}' in the workbook holds a run of text over {} MiB (a cell too long)",
                        MAX_XML_RUN >> 20
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn too_big(name: &str, size: u64) -> AppError {
    AppError::input(
        format!(
            "Excel 文件的共享字符串“{name}”解压后超过 {} MiB（{} 字节）；请另存为 CSV 后导入",
            MAX_SHARED_STRINGS_BYTES >> 20,
            size
        ),
        format!(
            "the workbook's shared strings '{name}' unpack to over {} MiB ({size} bytes); save it as CSV and import that",
            MAX_SHARED_STRINGS_BYTES >> 20
        ),
    )
}
