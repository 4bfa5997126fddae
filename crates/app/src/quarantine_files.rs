//! A department's refused rows as a spreadsheet and back: download them (XLSX or CSV,
//! one catalog item per file) with the quarantine id and the reasons in Chinese and
//! English, fix the cells, upload the file. Each uploaded row is matched to its entry
//! by the id column; a row whose cells changed goes through intake like any row (one
//! batch per department, source `correction:<file>`): accepted, it resolves its entry;
//! refused again, the entry keeps it with the new reasons. Unchanged rows change
//! nothing; a row whose id is unknown, already resolved or another department's is
//! refused with a message and changes nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use xinyong_core::Item;
use xinyong_core::record::FieldError;
use xinyong_store::{Entry, Outcome, QuarantineRow};

use crate::access::{Action, Caller, permit};
use crate::intake::{RowContext, header_key, new_batch_id};
use crate::quarantine::QuarantineQuery;
use crate::reader::RowSource;
use crate::{App, AppError, Result, now_ms, today_shanghai};

/// The id column: what matches an uploaded row to its entry.
pub const ID_COLUMN: &str = "隔离编号";
/// The reasons column (read-only: ignored on upload).
pub const REASON_COLUMN: &str = "错误原因 / Reasons";
const BATCH_COLUMN: &str = "批次";
const ROW_COLUMN: &str = "原行号";
/// Rows one download holds at most (a department with more filters by batch or reason).
pub const MAX_EXPORT_ROWS: usize = 50_000;
/// Rows one upload holds at most.
pub const MAX_UPLOAD_ROWS: u64 = 50_000;

/// The spreadsheet formats of a download.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SheetFormat {
    #[default]
    Xlsx,
    Csv,
}

/// A file to send: name, media type, bytes.
#[derive(Debug, Clone)]
pub struct Download {
    pub file_name: String,
    pub media_type: &'static str,
    pub bytes: Vec<u8>,
    pub rows: usize,
}

/// What happened to one row of an uploaded correction file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CorrectionStatus {
    /// Accepted through intake: the entry is resolved.
    Resolved,
    /// Refused again: the entry stays open with the new reasons.
    StillRefused,
    /// No cell changed: nothing submitted.
    Unchanged,
    /// Not matched to an open entry of the caller's (unknown, resolved, another
    /// department's, a repeated id): nothing changed.
    Refused,
}

/// One uploaded row's result.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CorrectionRow {
    /// Row number in the uploaded file (the header is row 1).
    pub row: u64,
    pub quarantine_id: Option<i64>,
    pub status: CorrectionStatus,
    /// The record a resolved row became (or duplicated).
    pub record_id: Option<i64>,
    /// Why it is still refused, or why it was not matched.
    pub errors: Vec<FieldError>,
}

/// What an uploaded correction file did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CorrectionResult {
    pub file: String,
    /// The intake batches the changed rows went in (one per department).
    pub batches: Vec<String>,
    pub resolved: u64,
    pub still_refused: u64,
    pub unchanged: u64,
    pub refused: u64,
    pub rows: Vec<CorrectionRow>,
}

/// The entry's fields as received, by catalog name (the raw row's columns matched the
/// way intake matches headers).
fn original_values(item: &Item, raw: &str) -> BTreeMap<String, String> {
    let raw: serde_json::Map<String, serde_json::Value> = serde_json::from_str(raw).unwrap_or_default();
    let mut values = BTreeMap::new();
    for (k, v) in raw {
        let Some(f) = item.fields.iter().find(|f| header_key(&f.name) == header_key(&k)) else { continue };
        if let serde_json::Value::String(s) = v {
            values.insert(f.name.clone(), s);
        }
    }
    values
}

/// The reasons of an entry in one cell: each error naming its field, Chinese / English.
pub fn reasons_cell(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| {
            if e.field.is_empty() {
                format!("{} / {}", e.zh, e.en)
            } else {
                format!("【{}】{} / {}", e.field, e.zh, e.en)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn refusal(row: u64, id: Option<i64>, rule: &str, zh: String, en: String) -> CorrectionRow {
    CorrectionRow {
        row,
        quarantine_id: id,
        status: CorrectionStatus::Refused,
        record_id: None,
        errors: vec![FieldError::new(ID_COLUMN, rule, zh, en)],
    }
}

impl App {
    /// The caller's open refused rows matching `q` as a spreadsheet of one catalog item
    /// (`q.item`, or the only item among the rows): id, batch, row, reasons, then the
    /// item's fields as received.
    pub fn quarantine_download(&self, caller: &Caller, q: &QuarantineQuery, format: SheetFormat) -> Result<Download> {
        let mut q = q.clone();
        q.status = Some("open".into());
        let item_code = match q.item.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(i) => i.to_string(),
            None => {
                let items: BTreeSet<String> =
                    self.quarantine_reasons(caller, &q)?.reasons.into_iter().map(|r| r.item).collect();
                match items.len() {
                    0 => {
                        return Err(AppError::invalid(
                            "nothing_to_download",
                            "没有待更正的隔离数据",
                            "no refused rows to download",
                        ));
                    }
                    1 => items.into_iter().next().unwrap_or_default(),
                    _ => {
                        let names = items.into_iter().collect::<Vec<_>>().join("、");
                        return Err(AppError::invalid(
                            "item_required",
                            format!("每个文件只含一个信息项，请选择：{names}"),
                            format!("one catalog item per file: choose one of {names}"),
                        ));
                    }
                }
            }
        };
        let item = self.catalog().item(&item_code).cloned().ok_or_else(|| {
            AppError::input(
                format!("目录中没有信息项“{item_code}”"),
                format!("item '{item_code}' is not in the catalog"),
            )
        })?;
        q.item = Some(item_code.clone());
        let mut filter = self.quarantine_filter(caller, &q)?;
        filter.limit = 1000;
        filter.after_id = 0;
        let mut entries: Vec<QuarantineRow> = Vec::new();
        loop {
            let page = self.db().read(|s| Ok(s.quarantine(&filter)?))?;
            let Some(last) = page.last() else { break };
            filter.after_id = last.id;
            let full = page.len() as u32 == filter.limit;
            entries.extend(page);
            if entries.len() > MAX_EXPORT_ROWS {
                return Err(AppError::invalid(
                    "too_many_rows",
                    format!("超过 {MAX_EXPORT_ROWS} 行：请按批次或原因筛选后下载"),
                    format!("more than {MAX_EXPORT_ROWS} rows: filter by batch or reason first"),
                ));
            }
            if !full {
                break;
            }
        }
        let mut header: Vec<String> =
            [ID_COLUMN, REASON_COLUMN, BATCH_COLUMN, ROW_COLUMN].iter().map(|s| s.to_string()).collect();
        header.extend(item.fields.iter().map(|f| f.name.clone()));
        let rows: Vec<Vec<String>> = entries
            .iter()
            .map(|e| {
                let values = original_values(&item, &e.raw);
                let mut row = vec![
                    e.id.to_string(),
                    reasons_cell(&e.errors),
                    e.batch.clone(),
                    e.row.map(|r| r.to_string()).unwrap_or_default(),
                ];
                row.extend(item.fields.iter().map(|f| values.get(&f.name).cloned().unwrap_or_default()));
                row
            })
            .collect();
        let stem = format!("quarantine-{item_code}-{}", xinyong_core::record::date_string(today_shanghai()));
        let (file_name, media_type, bytes) = match format {
            SheetFormat::Csv => (format!("{stem}.csv"), "text/csv; charset=utf-8", csv_bytes(&header, &rows)?),
            SheetFormat::Xlsx => (
                format!("{stem}.xlsx"),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                xlsx_bytes(&item, &header, &rows)?,
            ),
        };
        Ok(Download { file_name, media_type, bytes, rows: rows.len() })
    }

    /// Reads an uploaded correction file (`file_name` says CSV or XLSX) and resubmits
    /// the rows it changed through intake; see the module documentation.
    pub fn quarantine_upload(&self, caller: &Caller, file_name: &str, bytes: &[u8]) -> Result<CorrectionResult> {
        permit(caller, Action::QuarantineList)?;
        let ext = std::path::Path::new(file_name)
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        if !matches!(ext.as_str(), "csv" | "xlsx") {
            return Err(AppError::invalid(
                "file_type",
                format!("“{file_name}”不是 .xlsx 或 .csv 文件"),
                format!("'{file_name}' is not an .xlsx or .csv file"),
            ));
        }
        // the readers take a path: the upload goes to a private file that is removed after
        let tmp_dir = self.dir().join("tmp");
        std::fs::create_dir_all(&tmp_dir)?;
        let tmp = tmp_dir.join(format!("{}.{ext}", crate::accounts::new_secret("upload-")));
        std::fs::write(&tmp, bytes)?;
        let read = read_upload(&tmp);
        let _ = std::fs::remove_file(&tmp);
        let (headers, file_rows) = read?;
        let id_col = headers
            .iter()
            .position(|h| header_key(h) == header_key(ID_COLUMN) || header_key(h).eq_ignore_ascii_case("quarantine_id"))
            .ok_or_else(|| {
                AppError::invalid(
                    "id_column_missing",
                    format!("文件缺少“{ID_COLUMN}”列：请使用从隔离区下载的文件"),
                    format!("the file has no '{ID_COLUMN}' (quarantine id) column: upload the file downloaded from the quarantine"),
                )
            })?;
        let mut results: Vec<Option<CorrectionRow>> = Vec::with_capacity(file_rows.len());
        // per department: (entry, index into results, quarantine id, file row)
        let mut submissions: BTreeMap<String, Vec<(Entry, usize, i64, u64)>> = BTreeMap::new();
        let mut seen: HashMap<i64, u64> = HashMap::new();
        let mut contexts: HashMap<String, (Item, Vec<Option<usize>>)> = HashMap::new();
        let at_ms = now_ms();
        let today = today_shanghai();
        let mut batch_ids: BTreeMap<String, String> = BTreeMap::new();
        let source = format!("correction:{file_name}");
        for (row_no, cells) in &file_rows {
            let row_no = *row_no;
            let id_text = cells.get(id_col).map(|s| s.trim()).unwrap_or("");
            let Ok(id) = id_text.parse::<i64>() else {
                results.push(Some(refusal(
                    row_no,
                    None,
                    "correction.id",
                    format!("第 {row_no} 行：“{ID_COLUMN}”应为数字，实为“{id_text}”"),
                    format!("row {row_no}: the quarantine id must be a number, got '{id_text}'"),
                )));
                continue;
            };
            if let Some(first) = seen.insert(id, row_no) {
                results.push(Some(refusal(
                    row_no,
                    Some(id),
                    "correction.repeated",
                    format!("第 {row_no} 行：隔离编号 {id} 已在第 {first} 行出现"),
                    format!("row {row_no}: quarantine id {id} already appears in row {first}"),
                )));
                continue;
            }
            let entry = self.db().read(|s| Ok(s.quarantine_entry(id)?))?;
            let Some(entry) = entry else {
                results.push(Some(refusal(
                    row_no,
                    Some(id),
                    "correction.unknown",
                    format!("第 {row_no} 行：隔离区没有编号为 {id} 的记录"),
                    format!("row {row_no}: there is no quarantine entry {id}"),
                )));
                continue;
            };
            if permit(caller, Action::Quarantine { department: &entry.provider }).is_err() {
                results.push(Some(refusal(
                    row_no,
                    Some(id),
                    "correction.other_department",
                    format!("第 {row_no} 行：隔离编号 {id} 属于其他部门，不能由本部门更正"),
                    format!("row {row_no}: quarantine entry {id} belongs to another department"),
                )));
                continue;
            }
            if entry.status != "open" {
                results.push(Some(refusal(
                    row_no,
                    Some(id),
                    "correction.closed",
                    format!("第 {row_no} 行：隔离编号 {id} 已处理（{}）", entry.status),
                    format!("row {row_no}: quarantine entry {id} is already {}", entry.status),
                )));
                continue;
            }
            if !contexts.contains_key(&entry.item) {
                let Some(item) = self.catalog().item(&entry.item).cloned() else {
                    results.push(Some(refusal(
                        row_no,
                        Some(id),
                        "correction.item",
                        format!("第 {row_no} 行：信息项 {} 已不在目录中", entry.item),
                        format!("row {row_no}: item {} is no longer in the catalog", entry.item),
                    )));
                    continue;
                };
                let cols = item
                    .fields
                    .iter()
                    .map(|f| headers.iter().position(|h| header_key(h) == header_key(&f.name)))
                    .collect();
                contexts.insert(entry.item.clone(), (item, cols));
            }
            let Some((item, cols)) = contexts.get(&entry.item) else {
                return Err(AppError::Internal("an item's column map was not kept".into()));
            };
            let original = original_values(item, &entry.raw);
            // a field the file has no column for keeps what was received
            let mut values = original.clone();
            for (f, col) in item.fields.iter().zip(cols) {
                if let Some(c) = col {
                    let text = cells.get(*c).cloned().unwrap_or_default();
                    if text.trim().is_empty() {
                        values.remove(&f.name);
                    } else {
                        values.insert(f.name.clone(), text);
                    }
                }
            }
            let blankless = |m: &BTreeMap<String, String>| -> BTreeMap<String, String> {
                m.iter().filter(|(_, v)| !v.trim().is_empty()).map(|(k, v)| (k.clone(), v.clone())).collect()
            };
            if blankless(&values) == blankless(&original) {
                results.push(Some(CorrectionRow {
                    row: row_no,
                    quarantine_id: Some(id),
                    status: CorrectionStatus::Unchanged,
                    record_id: None,
                    errors: Vec::new(),
                }));
                continue;
            }
            let batch = batch_ids.entry(entry.provider.clone()).or_insert_with(|| new_batch_id(at_ms)).clone();
            let ctx = RowContext { item, provider: &entry.provider, batch: &batch, source: &source, at_ms, today };
            let e = match ctx.entry(self, entry.row, &values)? {
                Entry::Record(mut r) => {
                    r.resolves = Some(id);
                    Entry::Record(r)
                }
                Entry::Quarantine(mut q) => {
                    q.replaces = Some(id);
                    Entry::Quarantine(q)
                }
            };
            submissions.entry(entry.provider.clone()).or_default().push((e, results.len(), id, row_no));
            results.push(None);
        }
        for (_, subs) in submissions {
            let entries: Vec<Entry> = subs.iter().map(|(e, ..)| e.clone()).collect();
            let out = self.db().write(|s| Ok(s.append(&entries, self.key(), now_ms())?))?;
            for ((e, at, id, row), outcome) in subs.iter().zip(out.outcomes) {
                let row = *row;
                let (status, record_id) = match outcome {
                    Outcome::Accepted { record_id, .. }
                    | Outcome::Corrected { record_id, .. }
                    | Outcome::Duplicate { record_id } => (CorrectionStatus::Resolved, Some(record_id)),
                    Outcome::Quarantined { .. } => (CorrectionStatus::StillRefused, None),
                };
                let errors = match (status, e) {
                    (CorrectionStatus::StillRefused, Entry::Quarantine(q)) => q.errors.clone(),
                    (CorrectionStatus::StillRefused, Entry::Record(_)) => {
                        self.db().read(|s| Ok(s.quarantine_entry(*id)?))?.map(|q| q.errors).unwrap_or_default()
                    }
                    _ => Vec::new(),
                };
                results[*at] = Some(CorrectionRow { row, quarantine_id: Some(*id), status, record_id, errors });
            }
        }
        self.after_write();
        let rows: Vec<CorrectionRow> = results.into_iter().flatten().collect();
        let count = |s: CorrectionStatus| rows.iter().filter(|r| r.status == s).count() as u64;
        Ok(CorrectionResult {
            file: file_name.to_string(),
            batches: batch_ids.into_values().collect(),
            resolved: count(CorrectionStatus::Resolved),
            still_refused: count(CorrectionStatus::StillRefused),
            unchanged: count(CorrectionStatus::Unchanged),
            refused: count(CorrectionStatus::Refused),
            rows,
        })
    }
}

/// An uploaded file's non-blank rows: row number (the header is row 1) and cells.
type FileRows = Vec<(u64, Vec<String>)>;

/// The headers and non-blank rows of an uploaded file.
fn read_upload(path: &std::path::Path) -> Result<(Vec<String>, FileRows)> {
    let mut source = RowSource::open(path)?;
    let mut rows = Vec::new();
    while let Some(raw) = source.next_row()? {
        if let Some(p) = raw.problem {
            return Err(AppError::input(p.zh, p.en));
        }
        if raw.is_blank() {
            continue;
        }
        if rows.len() as u64 >= MAX_UPLOAD_ROWS {
            return Err(AppError::invalid(
                "too_many_rows",
                format!("每个文件最多 {MAX_UPLOAD_ROWS} 行"),
                format!("at most {MAX_UPLOAD_ROWS} rows per file"),
            ));
        }
        rows.push((raw.row, raw.cells));
    }
    Ok((source.headers, rows))
}

fn csv_bytes(header: &[String], rows: &[Vec<String>]) -> Result<Vec<u8>> {
    // a BOM: Excel opens UTF-8 CSV as such only with one
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let bad = |e: csv::Error| AppError::Internal(format!("writing CSV: {e}"));
        w.write_record(header).map_err(bad)?;
        for r in rows {
            w.write_record(r).map_err(bad)?;
        }
        w.flush().map_err(|e| AppError::Internal(format!("writing CSV: {e}")))?;
    }
    Ok(out)
}

fn xlsx_bytes(item: &Item, header: &[String], rows: &[Vec<String>]) -> Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, FormatAlign, Workbook};
    let bad = |e: rust_xlsxwriter::XlsxError| AppError::Internal(format!("writing XLSX: {e}"));
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold().set_background_color("#F2F2F2");
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top).set_font_color("#B00020");
    // every cell is text: codes and numbers stay exactly as written (no 9.1E+17)
    let text = Format::new().set_num_format("@");
    let ws = wb.add_worksheet();
    ws.set_name(item.code.chars().take(31).collect::<String>()).map_err(bad)?;
    for (c, h) in header.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, h, &bold).map_err(bad)?;
        let width = if c == 1 { 60.0 } else { (h.chars().count() as f64 * 2.2).clamp(10.0, 40.0) };
        ws.set_column_width(c as u16, width).map_err(bad)?;
        if c != 1 {
            ws.set_column_format(c as u16, &text).map_err(bad)?;
        }
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, v) in row.iter().enumerate() {
            if c == 1 {
                ws.write_string_with_format(r, c as u16, v, &wrap).map_err(bad)?;
            } else {
                ws.write_string_with_format(r, c as u16, v, &text).map_err(bad)?;
            }
        }
    }
    ws.set_freeze_panes(1, 2).map_err(bad)?;
    wb.save_to_buffer().map_err(bad)
}
