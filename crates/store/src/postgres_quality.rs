//! PostgreSQL: intake batch figures and the quarantine's reasons (data quality, issue 11).

use postgres::types::ToSql;
use postgres::{Row, Transaction};

use crate::postgres::PgConn;
use crate::quality::{BatchFilter, BatchStats, ReasonCount, sort_reasons};
use crate::{QuarantineFilter, Result};

const BATCH_COLUMNS: &str = "batch, provider, item, source, received_ms, rows_received, accepted, corrected, \
     duplicates, quarantined, quarantined_known, wrong_code, refused, decided";

fn batch_row(r: &Row) -> BatchStats {
    let n = |i: usize| r.get::<_, i64>(i) as u64;
    let stats = BatchStats {
        batch: r.get(0),
        provider: r.get(1),
        item: r.get(2),
        source: r.get(3),
        received_ms: r.get(4),
        rows: n(5),
        accepted: n(6),
        corrected: n(7),
        duplicates: n(8),
        quarantined: n(9),
        quarantined_known: n(10),
        wrong_code: n(11),
        ..Default::default()
    };
    stats.with_json(r.get::<_, &str>(12), r.get::<_, &str>(13))
}

/// Adds a chunk's figures to its batches, inside the chunk's transaction (which holds
/// the ledger lock: no other writer merges into the same row meanwhile).
pub(crate) fn write_batches(tx: &mut Transaction<'_>, tallies: &[BatchStats]) -> Result<()> {
    for t in tallies {
        let stored =
            tx.query_opt(&format!("SELECT {BATCH_COLUMNS} FROM intake_batches WHERE batch = $1"), &[&t.batch])?;
        let b = match stored {
            Some(row) => {
                let mut s = batch_row(&row);
                s.merge(t);
                s
            }
            None => t.clone(),
        };
        let counts = [b.rows, b.accepted, b.corrected, b.duplicates, b.quarantined, b.quarantined_known, b.wrong_code]
            .map(|n| n as i64);
        let (refused, decided) = (b.refused_json(), b.decided_json());
        let params: [&(dyn ToSql + Sync); 14] = [
            &b.batch,
            &b.provider,
            &b.item,
            &b.source,
            &b.received_ms,
            &counts[0],
            &counts[1],
            &counts[2],
            &counts[3],
            &counts[4],
            &counts[5],
            &counts[6],
            &refused,
            &decided,
        ];
        tx.execute(
            &format!(
                "INSERT INTO intake_batches ({BATCH_COLUMNS})
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                 ON CONFLICT (batch) DO UPDATE SET received_ms = EXCLUDED.received_ms,
                   rows_received = EXCLUDED.rows_received, accepted = EXCLUDED.accepted,
                   corrected = EXCLUDED.corrected, duplicates = EXCLUDED.duplicates,
                   quarantined = EXCLUDED.quarantined, quarantined_known = EXCLUDED.quarantined_known,
                   wrong_code = EXCLUDED.wrong_code, refused = EXCLUDED.refused, decided = EXCLUDED.decided"
            ),
            &params,
        )?;
    }
    Ok(())
}

pub(crate) fn intake_batches(conn: &mut PgConn, f: &BatchFilter) -> Result<Vec<BatchStats>> {
    let limit = i64::from(if f.limit == 0 { 1000 } else { f.limit });
    let sql = format!(
        "SELECT {BATCH_COLUMNS} FROM intake_batches
         WHERE ($1::text IS NULL OR provider = $1) AND ($2::text IS NULL OR batch = $2)
         ORDER BY received_ms DESC, batch DESC LIMIT $3"
    );
    Ok(conn.query(&sql, &[&f.provider, &f.batch, &limit])?.iter().map(batch_row).collect())
}

/// The condition on `quarantine q` that a [`QuarantineFilter`] states, with its
/// parameters `$1`…`$6` (provider, item, status, batch, rule, field).
pub(crate) const QUARANTINE_WHERE: &str = "($1::text IS NULL OR q.provider = $1) AND ($2::text IS NULL OR q.item = $2)
     AND ($3::text IS NULL OR q.status = $3) AND ($4::text IS NULL OR q.batch = $4)
     AND (($5::text IS NULL AND $6::text IS NULL) OR EXISTS (
          SELECT 1 FROM jsonb_array_elements(q.errors::jsonb) e
          WHERE ($5::text IS NULL OR e->>'rule' = $5) AND ($6::text IS NULL OR e->>'field' = $6)))";

pub(crate) fn filter_params(f: &QuarantineFilter) -> [&(dyn ToSql + Sync); 6] {
    [&f.provider, &f.item, &f.status, &f.batch, &f.rule, &f.field]
}

pub(crate) fn quarantine_count(conn: &mut PgConn, f: &QuarantineFilter) -> Result<u64> {
    let sql = format!("SELECT COUNT(*) FROM quarantine q WHERE {QUARANTINE_WHERE}");
    let row = conn.query_opt(&sql, &filter_params(f))?;
    Ok(row.map_or(0, |r| r.get::<_, i64>(0) as u64))
}

pub(crate) fn quarantine_reasons(conn: &mut PgConn, f: &QuarantineFilter) -> Result<Vec<ReasonCount>> {
    let sql = format!(
        "SELECT q.item, COALESCE(r->>'field', ''), COALESCE(r->>'rule', ''), COUNT(DISTINCT q.id)
         FROM quarantine q CROSS JOIN LATERAL jsonb_array_elements(q.errors::jsonb) r
         WHERE {QUARANTINE_WHERE} GROUP BY 1, 2, 3"
    );
    let mut rows: Vec<ReasonCount> = conn
        .query(&sql, &filter_params(f))?
        .iter()
        .map(|r| ReasonCount { item: r.get(0), field: r.get(1), rule: r.get(2), rows: r.get::<_, i64>(3) as u64 })
        .collect();
    sort_reasons(&mut rows);
    Ok(rows)
}
