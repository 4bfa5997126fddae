//! SQLite storage of inspection plans: the document and its ledger event in one
//! transaction.

use rusqlite::{Connection, OptionalExtension, params};
use xinyong_core::event::EventBody;
use xinyong_ledger::{LedgerKey, SignedHead};

use crate::sqlite::{load_frontier, push_body, sign_head, write_tx};
use crate::{PlanRow, Result};

#[allow(clippy::too_many_arguments)]
pub(crate) fn put_plan(
    conn: &mut Connection,
    id: &str,
    department: &str,
    doc: &str,
    read_at: Option<u64>,
    event: Option<&EventBody>,
    key: &LedgerKey,
    now_ms: i64,
) -> Result<(Option<u64>, SignedHead)> {
    let tx = write_tx(conn)?;
    let mut frontier = load_frontier(&tx, key.tree_hash())?;
    let stored: Option<i64> =
        tx.query_row("SELECT last_event FROM inspection_plans WHERE id = ?1", [id], |r| r.get(0)).optional()?;
    crate::plan_step_allowed(id, stored, read_at)?;
    let idx = match event {
        Some(body) => {
            let payload = body.canonical_bytes();
            Some(push_body(&tx, &mut frontier, &body.subject, body.kind, None, &payload)?)
        }
        None => None,
    };
    match stored {
        None => {
            let first = idx.unwrap_or(frontier.size()) as i64;
            tx.execute(
                "INSERT INTO inspection_plans (id, department, doc, first_event, last_event) VALUES (?1, ?2, ?3, ?4, ?4)",
                params![id, department, doc, first],
            )?;
        }
        Some(last) => {
            let last = idx.map_or(last, |i| i as i64);
            tx.execute("UPDATE inspection_plans SET doc = ?2, last_event = ?3 WHERE id = ?1", params![id, doc, last])?;
        }
    }
    let head = sign_head(&tx, &frontier, key, now_ms)?;
    tx.commit()?;
    Ok((idx, head))
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PlanRow> {
    Ok(PlanRow {
        id: r.get(0)?,
        department: r.get(1)?,
        doc: r.get(2)?,
        first_event: r.get::<_, i64>(3)? as u64,
        last_event: r.get::<_, i64>(4)? as u64,
    })
}

pub(crate) fn plan(conn: &Connection, id: &str) -> Result<Option<PlanRow>> {
    Ok(conn
        .prepare_cached("SELECT id, department, doc, first_event, last_event FROM inspection_plans WHERE id = ?1")?
        .query_row([id], row)
        .optional()?)
}

pub(crate) fn plans(conn: &Connection) -> Result<Vec<PlanRow>> {
    let rows = conn
        .prepare_cached(
            "SELECT id, department, doc, first_event, last_event FROM inspection_plans ORDER BY first_event DESC",
        )?
        .query_map([], row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
