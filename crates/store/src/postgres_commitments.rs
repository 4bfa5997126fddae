//! PostgreSQL storage of credit commitments: the statements of
//! `sqlite_commitments.rs`, with the ledger lock around the writes.

use postgres::{Client, Row};
use xinyong_core::commitment::Commitment;
use xinyong_core::event::{EventBody, Provenance};
use xinyong_ledger::{LedgerKey, SignedHead};

use crate::commitments::{COLUMNS, columns, plan, read};
use crate::postgres::{PgConn, lock_ledger, sign_head};
use crate::{Result, StoreError};

fn commitments(rows: &[Row]) -> Result<Vec<Commitment>> {
    rows.iter().map(|r| read(&r.get::<_, String>(2), r.get(1), r.get(3), r.get(4))).collect()
}

pub(crate) fn put_commitments(
    client: &mut Client,
    cs: &[Commitment],
    p: &Provenance,
    key: &LedgerKey,
    now_ms: i64,
) -> Result<(Vec<Commitment>, SignedHead)> {
    let mut tx = client.transaction()?;
    let mut frontier = lock_ledger(&mut tx, key.tree_hash())?;
    let mut out = Vec::with_capacity(cs.len());
    for c in cs {
        let stored = tx
            .query_opt("SELECT doc, last_event FROM commitments WHERE record_id = $1", &[&c.record_id])?
            .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1)));
        let planned = plan(stored.as_ref().map(|(d, l)| (d.as_str(), *l)), c)?;
        let mut next = c.clone();
        if stored.is_none() {
            let subject = tx
                .query_opt("SELECT subject_code FROM records WHERE id = $1", &[&c.record_id])?
                .map(|r| r.get::<_, String>(0));
            if subject.as_deref() != Some(c.subject.as_str()) {
                return Err(StoreError::NotFound(format!("record {} of subject {}", c.record_id, c.subject)));
            }
            next.first_event = frontier.size();
        }
        for (kind, facts) in planned {
            let payload = EventBody::commitment(kind, &next, facts, p).canonical_bytes();
            let leaf = frontier.leaf_hash(&payload);
            let idx = frontier.size();
            tx.execute(
                "INSERT INTO events (idx, subject_code, kind, record_id, payload, leaf) VALUES ($1, $2, $3, $4, $5, $6)",
                &[&(idx as i64), &next.subject, &kind.as_str(), &next.record_id, &payload, &&leaf[..]],
            )?;
            frontier.push(leaf);
            next.last_event = idx;
        }
        let (state, due, doc) = columns(&next)?;
        let row = tx.query_one(
            "INSERT INTO commitments (record_id, subject_code, department, state, due_date, doc, first_event, last_event)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (record_id) DO UPDATE SET state = excluded.state, due_date = excluded.due_date,
                 doc = excluded.doc, last_event = excluded.last_event
             RETURNING breach_record",
            &[
                &next.record_id,
                &next.subject,
                &next.department,
                &state,
                &due,
                &doc,
                &(next.first_event as i64),
                &(next.last_event as i64),
            ],
        )?;
        next.breach_record = row.get(0);
        out.push(next);
    }
    let head = sign_head(&mut tx, &frontier, key, now_ms)?;
    tx.commit()?;
    Ok((out, head))
}

pub(crate) fn commitment(conn: &mut PgConn, record_id: i64) -> Result<Option<Commitment>> {
    let row = conn.query_opt(&format!("SELECT {COLUMNS} FROM commitments WHERE record_id = $1"), &[&record_id])?;
    Ok(commitments(row.as_slice())?.pop())
}

pub(crate) fn commitments_of(conn: &mut PgConn, subject: &str) -> Result<Vec<Commitment>> {
    let sql = format!("SELECT {COLUMNS} FROM commitments WHERE subject_code = $1 ORDER BY record_id");
    commitments(&conn.query(&sql, &[&subject])?)
}

pub(crate) fn commitments_overdue(conn: &mut PgConn, day: &str, after: i64, limit: u32) -> Result<Vec<Commitment>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM commitments
         WHERE state = 'pending' AND due_date IS NOT NULL AND due_date < $1 AND record_id > $2
         ORDER BY record_id LIMIT $3"
    );
    commitments(&conn.query(&sql, &[&day, &after, &i64::from(limit)])?)
}

pub(crate) fn commitments_of_department(
    conn: &mut PgConn,
    department: &str,
    state: Option<&str>,
    after: i64,
    limit: u32,
) -> Result<Vec<Commitment>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM commitments
         WHERE department = $1 AND ($2::TEXT IS NULL OR state = $2) AND record_id > $3
         ORDER BY record_id LIMIT $4"
    );
    commitments(&conn.query(&sql, &[&department, &state, &after, &i64::from(limit)])?)
}

pub(crate) fn commitments_without_breach_record(conn: &mut PgConn, after: i64, limit: u32) -> Result<Vec<Commitment>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM commitments
         WHERE state = 'breached' AND breach_record IS NULL AND record_id > $1
           AND NOT (breach_refused IS NOT NULL AND breach_refused_event = last_event AND EXISTS
               (SELECT 1 FROM quarantine q WHERE q.id = commitments.breach_refused AND q.status = 'open'))
         ORDER BY record_id LIMIT $2"
    );
    commitments(&conn.query(&sql, &[&after, &i64::from(limit)])?)
}

pub(crate) fn link_breach_record(conn: &mut PgConn, record_id: i64, breach_record: i64) -> Result<()> {
    let n = conn.execute(
        "UPDATE commitments SET breach_record = $2 WHERE record_id = $1 AND state = 'breached'",
        &[&record_id, &breach_record],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("broken commitment of record {record_id}")));
    }
    Ok(())
}

pub(crate) fn mark_breach_refused(conn: &mut PgConn, refusals: &[(i64, i64, u64)]) -> Result<()> {
    let mut tx = conn.client().transaction()?;
    for &(record_id, quarantine_id, last_event) in refusals {
        let n = tx.execute(
            "UPDATE commitments SET breach_refused = $2, breach_refused_event = $3
             WHERE record_id = $1 AND state = 'breached'",
            &[&record_id, &quarantine_id, &(last_event as i64)],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("broken commitment of record {record_id}")));
        }
    }
    tx.commit()?;
    Ok(())
}
