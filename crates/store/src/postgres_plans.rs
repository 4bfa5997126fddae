//! PostgreSQL storage of inspection plans: the statements of `sqlite_plans.rs`, with
//! the ledger lock around the write.

use postgres::{Client, Row};
use xinyong_core::event::EventBody;
use xinyong_ledger::{LedgerKey, SignedHead};

use crate::postgres::{PgConn, lock_ledger, sign_head};
use crate::{PlanRow, Result};

#[allow(clippy::too_many_arguments)]
pub(crate) fn put_plan(
    client: &mut Client,
    id: &str,
    department: &str,
    doc: &str,
    read_at: Option<u64>,
    event: Option<&EventBody>,
    key: &LedgerKey,
    now_ms: i64,
) -> Result<(Option<u64>, SignedHead)> {
    let mut tx = client.transaction()?;
    let mut frontier = lock_ledger(&mut tx, key.tree_hash())?;
    let stored: Option<i64> =
        tx.query_opt("SELECT last_event FROM inspection_plans WHERE id = $1", &[&id])?.map(|r| r.get(0));
    crate::plan_step_allowed(id, stored, read_at)?;
    let idx = match event {
        Some(body) => {
            let payload = body.canonical_bytes();
            let leaf = frontier.leaf_hash(&payload);
            let idx = frontier.size();
            tx.execute(
                "INSERT INTO events (idx, subject_code, kind, record_id, payload, leaf) VALUES ($1, $2, $3, NULL, $4, $5)",
                &[&(idx as i64), &body.subject, &body.kind.as_str(), &payload, &&leaf[..]],
            )?;
            frontier.push(leaf);
            Some(idx)
        }
        None => None,
    };
    match stored {
        None => {
            let first = idx.unwrap_or(frontier.size()) as i64;
            tx.execute(
                "INSERT INTO inspection_plans (id, department, doc, first_event, last_event) VALUES ($1, $2, $3, $4, $4)",
                &[&id, &department, &doc, &first],
            )?;
        }
        Some(last) => {
            let last = idx.map_or(last, |i| i as i64);
            tx.execute("UPDATE inspection_plans SET doc = $2, last_event = $3 WHERE id = $1", &[&id, &doc, &last])?;
        }
    }
    let head = sign_head(&mut tx, &frontier, key, now_ms)?;
    tx.commit()?;
    Ok((idx, head))
}

fn row(r: &Row) -> PlanRow {
    PlanRow {
        id: r.get(0),
        department: r.get(1),
        doc: r.get(2),
        first_event: r.get::<_, i64>(3) as u64,
        last_event: r.get::<_, i64>(4) as u64,
    }
}

pub(crate) fn plan(conn: &mut PgConn, id: &str) -> Result<Option<PlanRow>> {
    let r = conn
        .query_opt("SELECT id, department, doc, first_event, last_event FROM inspection_plans WHERE id = $1", &[&id])?;
    Ok(r.as_ref().map(row))
}

pub(crate) fn plans(conn: &mut PgConn) -> Result<Vec<PlanRow>> {
    let rows = conn.query(
        "SELECT id, department, doc, first_event, last_event FROM inspection_plans ORDER BY first_event DESC",
        &[],
    )?;
    Ok(rows.iter().map(row).collect())
}
