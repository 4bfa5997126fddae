//! SQLite storage of exchange documents (peers, received entries, subscriptions,
//! acknowledgements): the documents and their ledger event in one transaction.

use rusqlite::{Connection, OptionalExtension, params};
use xinyong_core::event::EventBody;
use xinyong_ledger::{LedgerKey, SignedHead};

use crate::sqlite::{load_frontier, push_body, sign_head, write_tx};
use crate::{ExchangeDoc, Expect, Result, expect_holds};

pub(crate) fn put_exchange_docs(
    conn: &mut Connection,
    docs: &[ExchangeDoc],
    expect: Option<&Expect>,
    event: &EventBody,
    key: &LedgerKey,
    now_ms: i64,
) -> Result<(u64, SignedHead)> {
    let tx = write_tx(conn)?;
    let mut frontier = load_frontier(&tx, key.tree_hash())?;
    if let Some(e) = expect {
        let stored: Option<i64> =
            tx.query_row("SELECT event FROM exchange_docs WHERE id = ?1", [&e.id], |r| r.get(0)).optional()?;
        expect_holds(e, stored)?;
    }
    let payload = event.canonical_bytes();
    let idx = push_body(&tx, &mut frontier, &event.subject, event.kind, None, &payload)?;
    {
        let mut st = tx.prepare_cached(
            "INSERT INTO exchange_docs (kind, id, subject, body, event) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, subject = excluded.subject,
             body = excluded.body, event = excluded.event",
        )?;
        for d in docs {
            st.execute(params![d.kind, d.id, d.subject, d.body, idx as i64])?;
        }
    }
    let head = sign_head(&tx, &frontier, key, now_ms)?;
    tx.commit()?;
    Ok((idx, head))
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ExchangeDoc> {
    Ok(ExchangeDoc {
        kind: r.get(0)?,
        id: r.get(1)?,
        subject: r.get(2)?,
        body: r.get(3)?,
        event: r.get::<_, i64>(4)? as u64,
    })
}

pub(crate) fn exchange_docs(conn: &Connection, kind: &str, subject: Option<&str>) -> Result<Vec<ExchangeDoc>> {
    let rows = match subject {
        Some(s) => conn
            .prepare_cached(
                "SELECT kind, id, subject, body, event FROM exchange_docs WHERE subject = ?1 AND kind = ?2 ORDER BY id",
            )?
            .query_map(params![s, kind], row)?
            .collect::<rusqlite::Result<Vec<_>>>()?,
        None => conn
            .prepare_cached("SELECT kind, id, subject, body, event FROM exchange_docs WHERE kind = ?1 ORDER BY id")?
            .query_map([kind], row)?
            .collect::<rusqlite::Result<Vec<_>>>()?,
    };
    Ok(rows)
}

pub(crate) fn exchange_doc(conn: &Connection, id: &str) -> Result<Option<ExchangeDoc>> {
    Ok(conn
        .prepare_cached("SELECT kind, id, subject, body, event FROM exchange_docs WHERE id = ?1")?
        .query_row([id], row)
        .optional()?)
}
