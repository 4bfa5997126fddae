//! PostgreSQL storage of exchange documents: the statements of `sqlite_exchange.rs`,
//! with the ledger lock around the write.

use postgres::{Client, Row};
use xinyong_core::event::EventBody;
use xinyong_ledger::{LedgerKey, SignedHead};

use crate::postgres::{PgConn, lock_ledger, sign_head};
use crate::{ExchangeDoc, Expect, Result, expect_holds};

pub(crate) fn put_exchange_docs(
    client: &mut Client,
    docs: &[ExchangeDoc],
    expect: Option<&Expect>,
    event: &EventBody,
    key: &LedgerKey,
    now_ms: i64,
) -> Result<(u64, SignedHead)> {
    let mut tx = client.transaction()?;
    let mut frontier = lock_ledger(&mut tx, key.tree_hash())?;
    if let Some(e) = expect {
        let stored: Option<i64> =
            tx.query_opt("SELECT event FROM exchange_docs WHERE id = $1", &[&e.id])?.map(|r| r.get(0));
        expect_holds(e, stored)?;
    }
    let payload = event.canonical_bytes();
    let leaf = frontier.leaf_hash(&payload);
    let idx = frontier.size();
    tx.execute(
        "INSERT INTO events (idx, subject_code, kind, record_id, payload, leaf) VALUES ($1, $2, $3, NULL, $4, $5)",
        &[&(idx as i64), &event.subject, &event.kind.as_str(), &payload, &&leaf[..]],
    )?;
    frontier.push(leaf);
    let st = tx.prepare(
        "INSERT INTO exchange_docs (kind, id, subject, body, event) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, subject = excluded.subject,
         body = excluded.body, event = excluded.event",
    )?;
    for d in docs {
        tx.execute(&st, &[&d.kind, &d.id, &d.subject, &d.body, &(idx as i64)])?;
    }
    let head = sign_head(&mut tx, &frontier, key, now_ms)?;
    tx.commit()?;
    Ok((idx, head))
}

fn row(r: &Row) -> ExchangeDoc {
    ExchangeDoc { kind: r.get(0), id: r.get(1), subject: r.get(2), body: r.get(3), event: r.get::<_, i64>(4) as u64 }
}

pub(crate) fn exchange_docs(client: &mut PgConn, kind: &str, subject: Option<&str>) -> Result<Vec<ExchangeDoc>> {
    let rows = match subject {
        Some(s) => client.query(
            "SELECT kind, id, subject, body, event FROM exchange_docs WHERE subject = $1 AND kind = $2 ORDER BY id",
            &[&s, &kind],
        )?,
        None => client
            .query("SELECT kind, id, subject, body, event FROM exchange_docs WHERE kind = $1 ORDER BY id", &[&kind])?,
    };
    Ok(rows.iter().map(row).collect())
}

pub(crate) fn exchange_doc(client: &mut PgConn, id: &str) -> Result<Option<ExchangeDoc>> {
    Ok(client
        .query_opt("SELECT kind, id, subject, body, event FROM exchange_docs WHERE id = $1", &[&id])?
        .map(|r| row(&r)))
}
