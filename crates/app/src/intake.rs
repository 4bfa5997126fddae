//! Intake (归集): a department's file or batch → validated records in the store with
//! their ledger leaves, and every refused row in quarantine with its reasons. Parsing
//! and validation run on one thread, the store writer on another, joined by a small
//! bounded channel, so memory stays flat whatever the file size.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::mpsc;

use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use time::Date;
use xinyong_core::Item;
use xinyong_core::event::Provenance;

use xinyong_core::SubjectCode;
use xinyong_core::record::{FieldError, Unattached, ValidRecord, Validated, ambiguous, unregistered, validate_row};
use xinyong_ledger::{hex, leaf_hash};
use xinyong_store::{Entry, NewQuarantine, NewRecord, Outcome};

use crate::access::{Caller, acting_department};
use crate::reader::{RawRow, RowSource};
use crate::{App, AppError, Result, now_ms, today_shanghai};

/// Rows per transaction: large enough to amortise the commit and the head signature,
/// small enough that a crash loses little work (and nothing acknowledged).
pub const BATCH_ROWS: usize = 10_000;

/// The JSON summary printed by `xinyong import` (a contract: fields are only added).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportSummary {
    pub file: String,
    pub item: String,
    pub provider: String,
    pub batch: String,
    pub encoding: Option<String>,
    pub rows: u64,
    pub accepted: u64,
    pub corrected: u64,
    pub duplicates: u64,
    pub quarantined: u64,
    /// Of `quarantined`, rows already in quarantine from an earlier import.
    pub quarantined_known: u64,
    pub blank_rows: u64,
    pub subjects_created: u64,
    pub ignored_columns: Vec<String>,
    pub ledger_size: u64,
    pub ledger_root: Option<String>,
    pub elapsed_ms: u64,
    pub records_per_second: u64,
    /// Where the time went: reading + validating + hashing (parser thread) and
    /// appending to the store (writer thread, transactions included).
    pub parse_busy_ms: u64,
    pub write_busy_ms: u64,
    /// What is odd about the file although nothing was refused (e.g. a header and no
    /// data rows), each "中文 / English".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Progress of a running import, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub rows: u64,
    pub bytes: u64,
    pub total_bytes: u64,
}

/// Maps the source's columns onto the item's fields (by Chinese name; full-width
/// brackets and stray spaces in headers are tolerated).
struct ColumnMap {
    /// For each item field, the source column holding it.
    field_cols: Vec<Option<usize>>,
    ignored: Vec<String>,
    headers: Vec<String>,
}

pub(crate) fn header_key(h: &str) -> String {
    h.chars().map(xinyong_core::codes::fullwidth_to_ascii).filter(|c| !c.is_whitespace() && *c != '\u{feff}').collect()
}

impl ColumnMap {
    fn new(item: &Item, headers: &[String]) -> Result<ColumnMap> {
        let keys: Vec<String> = headers.iter().map(|h| header_key(h)).collect();
        // a column named twice cannot be read: which of them holds the field?
        let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
        for (k, h) in keys.iter().zip(headers) {
            if !h.trim().is_empty() {
                *counts.entry(k.as_str()).or_default() += 1;
            }
        }
        let repeated: Vec<String> = counts
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(k, n)| {
                let name = headers.iter().find(|h| header_key(h) == *k).map_or(*k, |h| h.trim());
                format!("{name}×{n}")
            })
            .collect();
        if !repeated.is_empty() {
            let shown = repeated.iter().take(5).cloned().collect::<Vec<_>>().join("、");
            let more = if repeated.len() > 5 { format!(" …（共 {} 个）", repeated.len()) } else { String::new() };
            return Err(AppError::input(
                format!("表头有重复的列名：{shown}{more}（信息项 {}）", item.code),
                format!("the header names a column more than once: {shown}{more} (item {})", item.code),
            ));
        }
        let field_cols: Vec<Option<usize>> =
            item.fields.iter().map(|f| keys.iter().position(|k| *k == header_key(&f.name))).collect();
        let missing: Vec<&str> = item
            .fields
            .iter()
            .zip(&field_cols)
            .filter(|(f, c)| f.required && c.is_none())
            .map(|(f, _)| f.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(AppError::input(
                format!("缺少必填列：{}（信息项 {}）", missing.join("、"), item.code),
                format!("required columns missing for item {}: {}", item.code, missing.join(", ")),
            ));
        }
        let ignored = headers
            .iter()
            .enumerate()
            .filter(|(i, h)| !h.trim().is_empty() && !field_cols.contains(&Some(*i)))
            .map(|(_, h)| h.clone())
            .collect();
        Ok(ColumnMap { field_cols, ignored, headers: headers.to_vec() })
    }
}

/// Everything needed to turn raw rows into entries.
pub struct RowContext<'a> {
    pub item: &'a Item,
    pub provider: &'a str,
    pub batch: &'a str,
    pub source: &'a str,
    pub at_ms: i64,
    pub today: Date,
}

/// A row that names its subject only by an old identifier (工商注册号, 组织机构代码,
/// 税务登记号), waiting for its batch's lookup. Its entry meanwhile is the quarantine
/// entry it stays when no registered subject carries the identifier.
struct Pending {
    at: usize,
    unattached: Unattached,
    row: Option<u64>,
}

/// The entries of a batch as rows are validated, with the rows still to attach.
#[derive(Default)]
pub(crate) struct Rows {
    entries: Vec<Entry>,
    pending: Vec<Pending>,
}

impl Rows {
    fn with_capacity(n: usize) -> Rows {
        Rows { entries: Vec::with_capacity(n), pending: Vec::new() }
    }

    /// Attaches the pending rows to the subjects whose registrations carry their
    /// identifiers (or whose USCC embeds the organisation code): one store lookup for
    /// the batch's distinct identifiers, nothing at all for a batch without any. A row
    /// no subject carries keeps its quarantine entry ("import its registration first");
    /// one several subjects carry is quarantined as ambiguous.
    fn attach(&mut self, app: &App, ctx: &RowContext<'_>) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut ids: Vec<(&str, &str)> = self
            .pending
            .iter()
            .flat_map(|p| {
                let l = &p.unattached.legacy;
                [Some((l.scheme.as_str(), l.value.as_str())), l.org_code().map(|o| ("org_code", o))]
            })
            .flatten()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let found = app.db().read(|s| Ok(s.subjects_by_identifiers(&ids)?))?;
        let mut carriers: HashMap<(String, String), BTreeSet<String>> = HashMap::new();
        for m in found {
            carriers.entry((m.scheme, m.value)).or_default().insert(m.subject);
        }
        for p in std::mem::take(&mut self.pending) {
            let l = &p.unattached.legacy;
            let of = |scheme: &str, value: &str| carriers.get(&(scheme.to_string(), value.to_string()));
            // what a registration declared first; a tax number's embedded organisation code after
            let subjects = of(l.scheme.as_str(), &l.value)
                .or_else(|| l.org_code().and_then(|o| of("org_code", o)))
                .cloned()
                .unwrap_or_default();
            let mut first = subjects.iter();
            match (first.next(), first.next()) {
                (Some(code), None) => match SubjectCode::parse(code) {
                    Ok(code) => {
                        let record = p.unattached.attach(ctx.item, code);
                        self.entries[p.at] = ctx.record_entry(p.row, record);
                    }
                    Err(_) => tracing::warn!(code = %code, "a stored subject code does not parse"),
                },
                (None, _) => {} // the quarantine entry stands
                (Some(_), Some(_)) => {
                    if let Entry::Quarantine(q) = &mut self.entries[p.at] {
                        let all: Vec<String> = subjects.into_iter().collect();
                        q.errors = vec![ambiguous(ctx.item, l, &all)];
                        with_row(p.row, &mut q.errors);
                    }
                }
            }
        }
        Ok(())
    }
}

/// Prefixes each error with its row ("第 3 行：…" / "row 3: …").
fn with_row(row: Option<u64>, errors: &mut [FieldError]) {
    if let Some(r) = row {
        for e in errors {
            e.zh = format!("第 {r} 行：{}", e.zh);
            e.en = format!("row {r}: {}", e.en);
        }
    }
}

impl RowContext<'_> {
    /// One row's entry, attached to its subject where it names it by an old identifier.
    pub(crate) fn entry(&self, app: &App, row: Option<u64>, values: &BTreeMap<String, String>) -> Result<Entry> {
        let mut rows = Rows::with_capacity(1);
        self.push(&mut rows, row, values, None);
        rows.attach(app, self)?;
        rows.entries.pop().ok_or_else(|| AppError::input("未生成记录", "no entry was made"))
    }

    /// Validates one row given as field name → text and adds its entry.
    pub(crate) fn push(
        &self,
        rows: &mut Rows,
        row: Option<u64>,
        values: &BTreeMap<String, String>,
        problem: Option<FieldError>,
    ) {
        let cells: Vec<Option<&str>> =
            self.item.fields.iter().map(|f| values.get(&f.name).map(String::as_str)).collect();
        self.push_cells(rows, row, &cells, || serde_json::to_string(values).unwrap_or_default(), problem)
    }

    fn push_cells(
        &self,
        rows: &mut Rows,
        row: Option<u64>,
        cells: &[Option<&str>],
        raw: impl FnOnce() -> String,
        problem: Option<FieldError>,
    ) {
        let result = match problem {
            Some(p) => Err(vec![p]),
            None => validate_row(self.item, cells, self.today),
        };
        let entry = match result {
            Ok(Validated::Record(record)) => self.record_entry(row, record),
            Ok(Validated::Unattached(unattached)) => {
                let errors = vec![unregistered(self.item, &unattached.legacy)];
                rows.pending.push(Pending { at: rows.entries.len(), unattached, row });
                self.quarantine_entry(row, cells, raw(), errors)
            }
            Err(errors) => self.quarantine_entry(row, cells, raw(), errors),
        };
        rows.entries.push(entry);
    }

    fn record_entry(&self, row: Option<u64>, record: ValidRecord) -> Entry {
        let p = Provenance {
            at: self.at_ms,
            batch: self.batch.to_string(),
            provider: self.provider.to_string(),
            source: self.source.to_string(),
            row,
        };
        Entry::Record(Box::new(NewRecord::prepare(record, self.provider, p, None)))
    }

    fn quarantine_entry(
        &self,
        row: Option<u64>,
        cells: &[Option<&str>],
        raw: String,
        mut errors: Vec<FieldError>,
    ) -> Entry {
        with_row(row, &mut errors);
        let code_col = self.item.fields.iter().position(|f| f.name == self.item.subject_code_field);
        let subject_hint = code_col.and_then(|i| cells.get(i).copied().flatten()).map(|s| s.trim().to_string());
        Entry::Quarantine(Box::new(NewQuarantine {
            provider: self.provider.to_string(),
            item: self.item.code.clone(),
            batch: self.batch.to_string(),
            source: self.source.to_string(),
            row,
            raw_hash: leaf_hash(raw.as_bytes()),
            raw,
            subject_hint,
            errors,
            replaces: None,
        }))
    }
}

/// A new batch id: time-ordered and unique enough to tell imports apart.
pub fn new_batch_id(at_ms: i64) -> String {
    let nanos = time::OffsetDateTime::now_utc().nanosecond();
    format!("b{at_ms:013x}{:05x}", nanos & 0xfffff)
}

/// Imports one file for `item` from `provider`.
pub fn import_file(
    app: &App,
    path: &Path,
    item_code: &str,
    provider: &str,
    progress: &mut dyn FnMut(Progress),
) -> Result<ImportSummary> {
    let started = std::time::Instant::now();
    let item = app
        .catalog()
        .item(item_code)
        .ok_or_else(|| {
            let known: Vec<&str> = app.catalog().items().map(|i| i.code.as_str()).collect();
            AppError::input(
                format!("目录中没有信息项“{item_code}”，可用：{}", known.join("、")),
                format!("item '{item_code}' is not in the catalog; known items: {}", known.join(", ")),
            )
        })?
        .clone();
    if provider.trim().is_empty() {
        return Err(AppError::input("必须指明数据提供部门", "a providing department is required"));
    }
    let mut source = RowSource::open(path)?;
    let columns = if source.is_jsonl() { None } else { Some(ColumnMap::new(&item, &source.headers)?) };
    let at_ms = now_ms();
    let batch = new_batch_id(at_ms);
    let file_name = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    let mut summary = ImportSummary {
        file: path.display().to_string(),
        item: item.code.clone(),
        provider: provider.to_string(),
        batch: batch.clone(),
        encoding: source.encoding.map(|e| e.name().to_string()),
        ignored_columns: columns.as_ref().map(|c| c.ignored.clone()).unwrap_or_default(),
        ..Default::default()
    };
    let ctx = RowContext { item: &item, provider, batch: &batch, source: &file_name, at_ms, today: today_shanghai() };
    let total_bytes = source.total_bytes;
    let (tx, rx) = mpsc::sync_channel::<Chunk>(2);
    let (parse_result, write_result) = std::thread::scope(|s| {
        let parser = s.spawn(|| {
            let mut ignored = std::collections::BTreeSet::new();
            let counts = parse_rows(app, &ctx, &mut source, columns.as_ref(), &tx, &mut ignored);
            drop(tx);
            counts.map(|c| (c, ignored))
        });
        // the writer runs here, so the progress callback need not cross threads;
        // it drops the receiver on error, which stops the parser at its next send
        let written = write_chunks(app, rx, total_bytes, progress);
        (parser.join(), written)
    });
    let written = write_result?;
    let (((rows, blank), parse_busy), ignored_json) =
        parse_result.map_err(|_| AppError::input("解析线程异常退出", "the parser thread panicked"))??;
    summary.rows = rows;
    summary.blank_rows = blank;
    if rows == blank {
        summary.warnings.push(if rows == 0 {
            "文件只有表头，没有数据行 / the file has a header and no data rows".to_string()
        } else {
            format!("文件的 {rows} 行全是空行，没有数据 / all {rows} rows of the file are empty")
        });
    }
    summary.ignored_columns.extend(ignored_json);
    summary.accepted = written.accepted;
    summary.corrected = written.corrected;
    summary.duplicates = written.duplicates;
    summary.quarantined = written.quarantined;
    summary.quarantined_known = written.quarantined_known;
    summary.subjects_created = written.subjects_created;
    let head = app.db().read(|s| Ok(s.latest_head()?))?;
    app.after_write();
    summary.ledger_size = head.as_ref().map_or(0, |h| h.head.size);
    summary.ledger_root = head.map(|h| hex(&h.head.root));
    summary.elapsed_ms = started.elapsed().as_millis() as u64;
    summary.parse_busy_ms = parse_busy.as_millis() as u64;
    summary.write_busy_ms = written.busy.as_millis() as u64;
    summary.records_per_second = (rows - blank) * 1000 / summary.elapsed_ms.max(1);
    Ok(summary)
}

struct Chunk {
    entries: Vec<Entry>,
    rows: u64,
    bytes: u64,
}

#[derive(Default)]
struct Written {
    accepted: u64,
    corrected: u64,
    duplicates: u64,
    quarantined: u64,
    quarantined_known: u64,
    subjects_created: u64,
    busy: std::time::Duration,
}

/// Tallies the outcomes of one appended batch.
fn tally(w: &mut Written, outcomes: &[Outcome]) {
    for o in outcomes {
        match o {
            Outcome::Accepted { .. } => w.accepted += 1,
            Outcome::Corrected { .. } => w.corrected += 1,
            Outcome::Duplicate { .. } => w.duplicates += 1,
            Outcome::Quarantined { already_known, .. } => {
                w.quarantined += 1;
                w.quarantined_known += u64::from(*already_known);
            }
        }
    }
}

fn write_chunks(
    app: &App,
    rx: mpsc::Receiver<Chunk>,
    total_bytes: u64,
    progress: &mut dyn FnMut(Progress),
) -> Result<Written> {
    let mut w = Written::default();
    for chunk in rx {
        let t = std::time::Instant::now();
        // the appender is taken per chunk: listing steps and API batches interleave
        let out = app.db().write(|s| Ok(s.append(&chunk.entries, app.key(), now_ms())?))?;
        w.busy += t.elapsed();
        tally(&mut w, &out.outcomes);
        w.subjects_created += out.subjects_created;
        progress(Progress { rows: chunk.rows, bytes: chunk.bytes, total_bytes });
    }
    Ok(w)
}

/// Reads, validates and prepares rows, sending full chunks to the writer. Returns
/// (data rows read, blank rows skipped) and the time spent not waiting on the writer.
fn parse_rows(
    app: &App,
    ctx: &RowContext<'_>,
    source: &mut RowSource,
    columns: Option<&ColumnMap>,
    tx: &mpsc::SyncSender<Chunk>,
    ignored_json: &mut std::collections::BTreeSet<String>,
) -> Result<((u64, u64), std::time::Duration)> {
    let mut rows = 0u64;
    let mut blank = 0u64;
    let mut rows_out = Rows::with_capacity(BATCH_ROWS);
    let mut busy_since = std::time::Instant::now();
    let mut busy = std::time::Duration::ZERO;
    while let Some(raw) = source.next_row()? {
        rows += 1 + raw.blank_lines_before;
        blank += raw.blank_lines_before;
        if raw.is_blank() {
            blank += 1;
            continue;
        }
        match columns {
            Some(map) => {
                let cells: Vec<Option<&str>> =
                    map.field_cols.iter().map(|c| c.and_then(|i| raw.cells.get(i)).map(String::as_str)).collect();
                let problem = raw.problem.clone().or_else(|| extra_cells_problem(&raw, map));
                ctx.push_cells(&mut rows_out, Some(raw.row), &cells, || raw_json(&map.headers, &raw), problem)
            }
            None => jsonl_entry(ctx, &mut rows_out, &raw, ignored_json),
        }
        if rows_out.entries.len() == BATCH_ROWS {
            rows_out.attach(app, ctx)?;
            let chunk = Chunk { entries: std::mem::take(&mut rows_out.entries), rows, bytes: source.position() };
            busy += busy_since.elapsed();
            let sent = tx.send(chunk);
            busy_since = std::time::Instant::now();
            if sent.is_err() {
                // the writer stopped on an error; it reports it
                return Ok(((rows, blank), busy));
            }
            rows_out.entries.reserve(BATCH_ROWS);
        }
    }
    rows += source.trailing_blank;
    blank += source.trailing_blank;
    busy += busy_since.elapsed();
    if !rows_out.entries.is_empty() {
        rows_out.attach(app, ctx)?;
        let _ = tx.send(Chunk { entries: rows_out.entries, rows, bytes: source.position() });
    }
    Ok(((rows, blank), busy))
}

/// The raw row as JSON (source column → text) for quarantine: what the department
/// sent, so it can be corrected and resubmitted.
fn raw_json(headers: &[String], raw: &RawRow) -> String {
    let mut obj = serde_json::Map::new();
    for (i, cell) in raw.cells.iter().enumerate() {
        let name = headers.get(i).cloned().unwrap_or_else(|| format!("_column_{}", i + 1));
        obj.insert(name, serde_json::Value::String(cell.clone()));
    }
    serde_json::Value::Object(obj).to_string()
}

/// A row with more non-empty cells than the header has columns has lost its alignment
/// (an unquoted comma, usually): refusing it is safer than guessing.
fn extra_cells_problem(raw: &RawRow, map: &ColumnMap) -> Option<FieldError> {
    let width = map.headers.len();
    if raw.cells.len() > width && raw.cells[width..].iter().any(|c| !c.trim().is_empty()) {
        return Some(FieldError::new(
            "",
            "columns",
            format!("第 {} 行有 {} 列，多于表头的 {width} 列", raw.row, raw.cells.len()),
            format!("row {} has {} cells but the header has {width} columns", raw.row, raw.cells.len()),
        ));
    }
    None
}

fn jsonl_entry(ctx: &RowContext<'_>, out: &mut Rows, raw: &RawRow, ignored: &mut std::collections::BTreeSet<String>) {
    let text = raw.cells.first().map(String::as_str).unwrap_or("");
    let mut values = BTreeMap::new();
    let problem = match raw.problem.clone() {
        Some(p) => Some(p),
        None => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(obj)) => {
                let mut bad = None;
                for (k, v) in obj {
                    let name =
                        ctx.item.fields.iter().find(|f| header_key(&f.name) == header_key(&k)).map(|f| f.name.clone());
                    let Some(name) = name else {
                        ignored.insert(k);
                        continue;
                    };
                    put_json(&mut values, &mut bad, name, &v);
                }
                bad
            }
            Ok(_) | Err(_) => Some(FieldError::new(
                "",
                "json",
                format!("第 {} 行不是 JSON 对象", raw.row),
                format!("line {} is not a JSON object", raw.row),
            )),
        },
    };
    if problem.is_some() && values.is_empty() {
        // keep the line as received so it can be corrected and resubmitted
        values.insert("_raw".to_string(), text.to_string());
    }
    ctx.push(out, Some(raw.row), &values, problem)
}

/// Resubmits a quarantined row after correction: `set` replaces field values (by the
/// catalog's Chinese field name). A row that now passes is stored and the entry marked
/// resolved; one that still fails keeps its entry, with the new reasons.
pub fn resubmit(app: &App, id: i64, set: &[(String, String)]) -> Result<Outcome> {
    let entry = app
        .db()
        .read(|s| Ok(s.quarantine_entry(id)?))?
        .ok_or_else(|| AppError::input(format!("隔离区没有编号为 {id} 的记录"), format!("no quarantine entry {id}")))?;
    if entry.status != "open" {
        return Err(AppError::input(
            format!("隔离记录 {id} 已处理（{}）", entry.status),
            format!("quarantine entry {id} is already {}", entry.status),
        ));
    }
    let item = app
        .catalog()
        .item(&entry.item)
        .ok_or_else(|| {
            AppError::input(
                format!("信息项 {} 已不在目录中", entry.item),
                format!("item {} is no longer in the catalog", entry.item),
            )
        })?
        .clone();
    let raw: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&entry.raw).unwrap_or_default();
    let mut values = BTreeMap::new();
    for (k, v) in raw {
        let Some(f) = item.fields.iter().find(|f| header_key(&f.name) == header_key(&k)) else { continue };
        if let serde_json::Value::String(s) = v {
            values.insert(f.name.clone(), s);
        }
    }
    for (k, v) in set {
        let Some(f) = item.fields.iter().find(|f| header_key(&f.name) == header_key(k)) else {
            return Err(AppError::input(
                format!("信息项 {} 没有字段“{k}”", item.code),
                format!("item {} has no field '{k}'", item.code),
            ));
        };
        values.insert(f.name.clone(), v.clone());
    }
    let at_ms = now_ms();
    let batch = new_batch_id(at_ms);
    let ctx = RowContext {
        item: &item,
        provider: &entry.provider,
        batch: &batch,
        source: "resubmission",
        at_ms,
        today: today_shanghai(),
    };
    let e = match ctx.entry(app, entry.row, &values)? {
        Entry::Record(mut r) => {
            r.resolves = Some(id);
            Entry::Record(r)
        }
        Entry::Quarantine(mut q) => {
            q.replaces = Some(id);
            Entry::Quarantine(q)
        }
    };
    let out = app.db().write(|s| Ok(s.append(&[e], app.key(), at_ms)?))?;
    app.after_write();
    out.outcomes.into_iter().next().ok_or_else(|| AppError::input("存储未返回结果", "the store returned no outcome"))
}

/// One row's result in an API batch.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RowResult {
    /// 1-based position in the submitted batch.
    pub row: u64,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Why a quarantined row was refused (empty otherwise).
    pub errors: Vec<FieldError>,
}

/// What intake did with a batch: counts and each row's outcome.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BatchResult {
    pub batch: String,
    pub item: String,
    pub provider: String,
    pub accepted: u64,
    pub corrected: u64,
    pub duplicates: u64,
    pub quarantined: u64,
    pub rows: Vec<RowResult>,
    /// The head signed after the batch (none when it added no event).
    #[schema(value_type = Option<crate::ledger::schema::SignedHead>)]
    pub ledger_head: Option<xinyong_ledger::SignedHead>,
    /// Subjects whose records changed (for derived indexes).
    #[serde(skip)]
    pub subjects_touched: Vec<String>,
}

/// Intake of a batch of rows (field name → text) for one item, as the API receives
/// them: the same validation, quarantine and idempotency as a file import.
pub fn ingest_rows(
    app: &App,
    item_code: &str,
    provider: &str,
    source: &str,
    rows: &[BTreeMap<String, String>],
) -> Result<BatchResult> {
    let rows: Vec<(BTreeMap<String, String>, Option<FieldError>)> = rows.iter().map(|r| (r.clone(), None)).collect();
    ingest_checked(app, item_code, provider, source, &rows)
}

/// As [`ingest_rows`], each row with what was already wrong with it (a JSON value of
/// the wrong type).
fn ingest_checked(
    app: &App,
    item_code: &str,
    provider: &str,
    source: &str,
    rows: &[(BTreeMap<String, String>, Option<FieldError>)],
) -> Result<BatchResult> {
    let item = app
        .catalog()
        .item(item_code)
        .ok_or_else(|| {
            AppError::input(
                format!("目录中没有信息项“{item_code}”"),
                format!("item '{item_code}' is not in the catalog"),
            )
        })?
        .clone();
    let at_ms = now_ms();
    let batch = new_batch_id(at_ms);
    let ctx = RowContext { item: &item, provider, batch: &batch, source, at_ms, today: today_shanghai() };
    let mut out = Rows::with_capacity(rows.len());
    for (i, (values, wrong)) in rows.iter().enumerate() {
        // API rows carry field names; unknown names are not silently dropped
        let unknown: Vec<&String> = values.keys().filter(|k| item.field(k).is_none()).collect();
        let problem = wrong.clone().or_else(|| {
            (!unknown.is_empty()).then(|| {
                let names = unknown.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("、");
                FieldError::new(
                    "",
                    "unknown_field",
                    format!("信息项 {} 没有字段：{names}", item.code),
                    format!("item {} has no field(s): {names}", item.code),
                )
            })
        });
        ctx.push(&mut out, Some(i as u64 + 1), values, problem);
    }
    out.attach(app, &ctx)?;
    let entries = out.entries;
    let mut errors = Vec::with_capacity(entries.len());
    let mut touched = Vec::new();
    for e in &entries {
        match e {
            Entry::Record(r) => {
                errors.push(Vec::new());
                touched.push(r.record.subject.key().to_string());
            }
            Entry::Quarantine(q) => errors.push(q.errors.clone()),
        }
    }
    let out = app.db().write(|s| Ok(s.append(&entries, app.key(), at_ms)?))?;
    app.after_write();
    let mut w = Written::default();
    tally(&mut w, &out.outcomes);
    let rows = out
        .outcomes
        .into_iter()
        .zip(errors)
        .enumerate()
        .map(|(i, (outcome, errors))| RowResult { row: i as u64 + 1, outcome, errors })
        .collect();
    touched.sort_unstable();
    touched.dedup();
    Ok(BatchResult {
        batch,
        item: item.code.clone(),
        provider: provider.to_string(),
        accepted: w.accepted,
        corrected: w.corrected,
        duplicates: w.duplicates,
        quarantined: w.quarantined,
        rows,
        ledger_head: out.head,
        subjects_touched: touched,
    })
}

/// Largest batch accepted by [`App::ingest`].
pub const MAX_BATCH_ROWS: usize = 10_000;

/// A batch of rows for one catalog item, as a department's system sends it.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct RecordBatch {
    /// Catalog item code, e.g. `admin_penalty`.
    pub item: String,
    /// Providing department; officers may omit it (their own), administrators must give it.
    pub provider: Option<String>,
    /// Rows as field name (Chinese, as in the catalog) → text (numbers and booleans are
    /// taken as their text).
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<BTreeMap<String, serde_json::Value>>,
}

/// Puts a JSON value into a row as its field's text; a value of the wrong type is kept
/// as sent (so the quarantined row shows it) and the row's first such error noted.
fn put_json(values: &mut BTreeMap<String, String>, bad: &mut Option<FieldError>, name: String, v: &serde_json::Value) {
    match json_text(&name, v) {
        Ok(Some(text)) => {
            values.insert(name, text);
        }
        Ok(None) => {}
        Err(e) => {
            values.insert(name, v.to_string());
            bad.get_or_insert(e);
        }
    }
}

/// A JSON value as a field's text, the same for JSON Lines files and API batches: null
/// is absent, strings, numbers and booleans are their text, and an object or array is
/// refused (`json.type`) rather than published as JSON.
fn json_text(name: &str, v: &serde_json::Value) -> std::result::Result<Option<String>, FieldError> {
    match v {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::String(s) => Ok(Some(s.clone())),
        serde_json::Value::Number(n) => Ok(Some(n.to_string())),
        serde_json::Value::Bool(b) => Ok(Some(b.to_string())),
        other => Err(FieldError::new(
            name,
            "json.type",
            format!("“{name}”应为文本或数字，实为 {other}"),
            format!("'{name}' must be a string or number, got {other}"),
        )),
    }
}

impl App {
    /// Intake of a batch by a department: the same validation, quarantine and
    /// idempotency as `xinyong import`.
    pub fn ingest(&self, caller: &Caller, batch: &RecordBatch, channel: &str) -> Result<BatchResult> {
        let provider = acting_department(caller, batch.provider.as_deref()).map_err(|e| match e {
            AppError::Invalid { code: "department_required", .. } => {
                AppError::invalid("provider_required", "管理员报送须指明 provider", "provider is required")
            }
            other => other,
        })?;
        if batch.rows.is_empty() || batch.rows.len() > MAX_BATCH_ROWS {
            return Err(AppError::invalid(
                "batch_size",
                format!("每批 1–{MAX_BATCH_ROWS} 行"),
                format!("1–{MAX_BATCH_ROWS} rows per batch"),
            ));
        }
        let rows: Vec<(BTreeMap<String, String>, Option<FieldError>)> = batch
            .rows
            .iter()
            .map(|r| {
                let mut values = BTreeMap::new();
                let mut bad = None;
                for (k, v) in r {
                    put_json(&mut values, &mut bad, k.clone(), v);
                }
                (values, bad)
            })
            .collect();
        ingest_checked(self, &batch.item, &provider, channel, &rows)
    }
}
