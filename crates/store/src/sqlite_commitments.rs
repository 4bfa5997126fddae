//! SQLite storage of credit commitments (the `Store` methods delegate here; what a
//! write does is decided in `commitments.rs`).

use rusqlite::{Connection, OptionalExtension, params};
use xinyong_core::commitment::Commitment;
use xinyong_core::event::{EventBody, Provenance};
use xinyong_ledger::{LedgerKey, SignedHead};

use crate::commitments::{COLUMNS, columns, plan, read};
use crate::sqlite::{load_frontier, push_body, sign_head, write_tx};
use crate::{Result, StoreError};

fn commitment_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(Option<i64>, String, i64, i64)> {
    Ok((row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?))
}

fn commitments(rows: Vec<(Option<i64>, String, i64, i64)>) -> Result<Vec<Commitment>> {
    rows.into_iter().map(|(b, doc, first, last)| read(&doc, b, first, last)).collect()
}

pub(crate) fn put_commitments(
    conn: &mut Connection,
    cs: &[Commitment],
    p: &Provenance,
    key: &LedgerKey,
    now_ms: i64,
) -> Result<(Vec<Commitment>, SignedHead)> {
    let tx = write_tx(conn)?;
    let mut frontier = load_frontier(&tx, key.tree_hash())?;
    let mut out = Vec::with_capacity(cs.len());
    for c in cs {
        let stored: Option<(String, i64)> = tx
            .query_row("SELECT doc, last_event FROM commitments WHERE record_id = ?1", [c.record_id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let planned = plan(stored.as_ref().map(|(d, l)| (d.as_str(), *l)), c)?;
        let mut next = c.clone();
        if stored.is_none() {
            let subject: Option<String> = tx
                .query_row("SELECT subject_code FROM records WHERE id = ?1", [c.record_id], |r| r.get(0))
                .optional()?;
            if subject.as_deref() != Some(c.subject.as_str()) {
                return Err(StoreError::NotFound(format!("record {} of subject {}", c.record_id, c.subject)));
            }
            next.first_event = frontier.size();
        }
        for (kind, facts) in planned {
            let payload = EventBody::commitment(kind, &next, facts, p).canonical_bytes();
            next.last_event = push_body(&tx, &mut frontier, &next.subject, kind, Some(next.record_id), &payload)?;
        }
        let (state, due, doc) = columns(&next)?;
        tx.execute(
            "INSERT INTO commitments (record_id, subject_code, department, state, due_date, doc, first_event, last_event)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (record_id) DO UPDATE SET state = excluded.state, due_date = excluded.due_date,
                 doc = excluded.doc, last_event = excluded.last_event",
            params![
                next.record_id,
                next.subject,
                next.department,
                state,
                due,
                doc,
                next.first_event as i64,
                next.last_event as i64
            ],
        )?;
        next.breach_record =
            tx.query_row("SELECT breach_record FROM commitments WHERE record_id = ?1", [next.record_id], |r| r.get(0))?;
        out.push(next);
    }
    let head = sign_head(&tx, &frontier, key, now_ms)?;
    tx.commit()?;
    Ok((out, head))
}

pub(crate) fn commitment(conn: &Connection, record_id: i64) -> Result<Option<Commitment>> {
    let row = conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM commitments WHERE record_id = ?1"))?
        .query_row([record_id], commitment_row)
        .optional()?;
    row.map(|(b, doc, first, last)| read(&doc, b, first, last)).transpose()
}

pub(crate) fn commitments_of(conn: &Connection, subject: &str) -> Result<Vec<Commitment>> {
    let rows = conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM commitments WHERE subject_code = ?1 ORDER BY record_id"))?
        .query_map([subject], commitment_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    commitments(rows)
}

pub(crate) fn commitments_overdue(conn: &Connection, day: &str, after: i64, limit: u32) -> Result<Vec<Commitment>> {
    let rows = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM commitments
             WHERE state = 'pending' AND due_date IS NOT NULL AND due_date < ?1 AND record_id > ?2
             ORDER BY record_id LIMIT ?3"
        ))?
        .query_map(params![day, after, limit], commitment_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    commitments(rows)
}

pub(crate) fn commitments_of_department(
    conn: &Connection,
    department: &str,
    state: Option<&str>,
    after: i64,
    limit: u32,
) -> Result<Vec<Commitment>> {
    let rows = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM commitments
             WHERE department = ?1 AND (?2 IS NULL OR state = ?2) AND record_id > ?3
             ORDER BY record_id LIMIT ?4"
        ))?
        .query_map(params![department, state, after, limit], commitment_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    commitments(rows)
}

pub(crate) fn commitments_without_breach_record(conn: &Connection, after: i64, limit: u32) -> Result<Vec<Commitment>> {
    let rows = conn
        .prepare_cached(&format!(
            // named: without statistics the planner took commitments_due and sorted every
            // breach ever recorded on each catch-up (issue 16: half the server's CPU)
            "SELECT {COLUMNS} FROM commitments INDEXED BY commitments_unrecorded
             WHERE state = 'breached' AND breach_record IS NULL AND record_id > ?1
               AND NOT (breach_refused IS NOT NULL AND breach_refused_event = last_event AND EXISTS
                   (SELECT 1 FROM quarantine q WHERE q.id = commitments.breach_refused AND q.status = 'open'))
             ORDER BY record_id LIMIT ?2"
        ))?
        .query_map(params![after, limit], commitment_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    commitments(rows)
}

pub(crate) fn link_breach_record(conn: &mut Connection, record_id: i64, breach_record: i64) -> Result<()> {
    let n = conn.execute(
        "UPDATE commitments SET breach_record = ?2 WHERE record_id = ?1 AND state = 'breached'",
        params![record_id, breach_record],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("broken commitment of record {record_id}")));
    }
    Ok(())
}

pub(crate) fn mark_breach_refused(conn: &mut Connection, refusals: &[(i64, i64, u64)]) -> Result<()> {
    let tx = write_tx(conn)?;
    for &(record_id, quarantine_id, last_event) in refusals {
        let n = tx.execute(
            "UPDATE commitments SET breach_refused = ?2, breach_refused_event = ?3
             WHERE record_id = ?1 AND state = 'breached'",
            params![record_id, quarantine_id, last_event as i64],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("broken commitment of record {record_id}")));
        }
    }
    tx.commit()?;
    Ok(())
}
