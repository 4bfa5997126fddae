//! SQLite: intake batch figures and the quarantine's reasons (data quality, issue 11).

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::quality::{BatchFilter, BatchStats, ReasonCount, sort_reasons};
use crate::{QuarantineFilter, Result};

const BATCH_COLUMNS: &str = "batch, provider, item, source, received_ms, rows_received, accepted, corrected, \
     duplicates, quarantined, quarantined_known, wrong_code, refused, decided";

fn batch_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<BatchStats> {
    let n = |i: usize| -> rusqlite::Result<u64> { Ok(r.get::<_, i64>(i)? as u64) };
    let stats = BatchStats {
        batch: r.get(0)?,
        provider: r.get(1)?,
        item: r.get(2)?,
        source: r.get(3)?,
        received_ms: r.get(4)?,
        rows: n(5)?,
        accepted: n(6)?,
        corrected: n(7)?,
        duplicates: n(8)?,
        quarantined: n(9)?,
        quarantined_known: n(10)?,
        wrong_code: n(11)?,
        ..Default::default()
    };
    let refused: String = r.get(12)?;
    let decided: String = r.get(13)?;
    Ok(stats.with_json(&refused, &decided))
}

/// Adds a chunk's figures to its batches, inside the chunk's transaction.
pub(crate) fn write_batches(tx: &Transaction<'_>, tallies: &[BatchStats]) -> Result<()> {
    for t in tallies {
        let stored = tx
            .prepare_cached(&format!("SELECT {BATCH_COLUMNS} FROM intake_batches WHERE batch = ?1"))?
            .query_row([&t.batch], batch_row)
            .optional()?;
        let b = match stored {
            Some(mut s) => {
                s.merge(t);
                s
            }
            None => t.clone(),
        };
        tx.prepare_cached(&format!(
            "INSERT OR REPLACE INTO intake_batches ({BATCH_COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
        ))?
        .execute(params![
            b.batch,
            b.provider,
            b.item,
            b.source,
            b.received_ms,
            b.rows as i64,
            b.accepted as i64,
            b.corrected as i64,
            b.duplicates as i64,
            b.quarantined as i64,
            b.quarantined_known as i64,
            b.wrong_code as i64,
            b.refused_json(),
            b.decided_json()
        ])?;
    }
    Ok(())
}

pub(crate) fn intake_batches(conn: &Connection, f: &BatchFilter) -> Result<Vec<BatchStats>> {
    let limit = if f.limit == 0 { 1000 } else { f.limit };
    let mut st = conn.prepare_cached(&format!(
        "SELECT {BATCH_COLUMNS} FROM intake_batches
         WHERE (?1 IS NULL OR provider = ?1) AND (?2 IS NULL OR batch = ?2)
         ORDER BY received_ms DESC, batch DESC LIMIT ?3"
    ))?;
    let rows = st.query_map(params![f.provider, f.batch, limit], batch_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The condition on `quarantine q` that a [`QuarantineFilter`] states, with its
/// parameters `?1`…`?6` (provider, item, status, batch, rule, field).
pub(crate) const QUARANTINE_WHERE: &str = "(?1 IS NULL OR q.provider = ?1) AND (?2 IS NULL OR q.item = ?2)
     AND (?3 IS NULL OR q.status = ?3) AND (?4 IS NULL OR q.batch = ?4)
     AND ((?5 IS NULL AND ?6 IS NULL) OR EXISTS (SELECT 1 FROM json_each(q.errors) e
          WHERE (?5 IS NULL OR json_extract(e.value, '$.rule') = ?5)
            AND (?6 IS NULL OR json_extract(e.value, '$.field') = ?6)))";

pub(crate) fn quarantine_count(conn: &Connection, f: &QuarantineFilter) -> Result<u64> {
    let n: i64 = conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM quarantine q WHERE {QUARANTINE_WHERE}"))?
        .query_row(params![f.provider, f.item, f.status, f.batch, f.rule, f.field], |r| r.get(0))?;
    Ok(n as u64)
}

pub(crate) fn quarantine_reasons(conn: &Connection, f: &QuarantineFilter) -> Result<Vec<ReasonCount>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT q.item, COALESCE(json_extract(r.value, '$.field'), ''), COALESCE(json_extract(r.value, '$.rule'), ''),
                COUNT(DISTINCT q.id)
         FROM quarantine q, json_each(q.errors) r WHERE {QUARANTINE_WHERE}
         GROUP BY 1, 2, 3"
    ))?;
    let mut rows = st
        .query_map(params![f.provider, f.item, f.status, f.batch, f.rule, f.field], |r| {
            Ok(ReasonCount { item: r.get(0)?, field: r.get(1)?, rule: r.get(2)?, rows: r.get::<_, i64>(3)? as u64 })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    sort_reasons(&mut rows);
    Ok(rows)
}
