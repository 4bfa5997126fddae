//! PostgreSQL storage of due-process cases and notifications: the same rows and rules
//! as `sqlite_cases.rs`, under the ledger lock.

use postgres::Transaction;
use xinyong_core::case::Case;
use xinyong_core::event::{EventBody, Provenance};
use xinyong_core::record::date_string;
use xinyong_ledger::{Frontier, Hash, LedgerKey};

use crate::due_process::{Change, Changed, RecordUpdate, record_effect};
use crate::postgres::{PgConn, RECORD_COLUMNS, lock_ledger, record_row, sign_head};
use crate::sqlite_cases::target_columns;
use crate::{CaseFilter, Effect, Notification, Result, StoreError};

fn doc(case: &Case) -> Result<String> {
    serde_json::to_string(case).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn case_of(text: &str) -> Result<Case> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("a stored case does not parse: {e}")))
}

fn push_event(
    tx: &mut Transaction<'_>,
    frontier: &mut Frontier,
    subject: &str,
    kind: xinyong_core::event::EventKind,
    record_id: Option<i64>,
    payload: &[u8],
) -> Result<u64> {
    let leaf = frontier.leaf_hash(payload);
    let idx = frontier.size();
    tx.execute(
        "INSERT INTO events (idx, subject_code, kind, record_id, payload, leaf) VALUES ($1, $2, $3, $4, $5, $6)",
        &[&(idx as i64), &subject, &kind.as_str(), &record_id, &payload, &&leaf[..]],
    )?;
    frontier.push(leaf);
    Ok(idx)
}

pub(crate) fn apply_change(
    conn: &mut PgConn,
    change: &Change,
    p: &Provenance,
    key: &LedgerKey,
    now_ms: i64,
) -> Result<Changed> {
    let mut tx = conn.client().transaction()?;
    let mut frontier = lock_ledger(&mut tx, key.tree_hash())?;
    let mut events = Vec::new();
    let mut case_out = None;
    if let Some(step) = &change.case {
        let mut case = step.case.clone();
        if tx.query_opt("SELECT 1 FROM subjects WHERE code = $1", &[&case.subject])?.is_none() {
            return Err(StoreError::NotFound(format!("subject {}", case.subject)));
        }
        let idx = frontier.size();
        if case.id == 0 {
            // under the ledger lock: the only writer of cases
            case.id = tx.query_one("SELECT COALESCE(MAX(id), 0) + 1 FROM cases", &[])?.get(0);
            case.first_event = idx;
        } else {
            let last = tx.query_opt("SELECT last_event FROM cases WHERE id = $1", &[&case.id])?;
            match last.map(|r| r.get::<_, i64>(0)) {
                None => return Err(StoreError::NotFound(format!("case {}", case.id))),
                Some(l) if l as u64 != step.case.last_event => {
                    return Err(StoreError::Conflict(format!(
                        "案件 {} 已有新的处理步骤，请刷新后重试 / case {} changed since it was read",
                        case.id, case.id
                    )));
                }
                Some(_) => {}
            }
        }
        case.last_event = idx;
        let payload = EventBody::case(step.kind, &case, p).canonical_bytes();
        events.push(push_event(&mut tx, &mut frontier, &case.subject, step.kind, None, &payload)?);
        let (target_kind, target_id) = target_columns(&case.target);
        tx.execute(
            "INSERT INTO cases (id, subject_code, kind, state, department, target_kind, target_id, due_date, query_hash,
                                doc, first_event, last_event)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, department = EXCLUDED.department,
                 due_date = EXCLUDED.due_date, doc = EXCLUDED.doc, last_event = EXCLUDED.last_event",
            &[
                &case.id,
                &case.subject,
                &case.kind.as_str(),
                &case.state.as_str(),
                &case.department,
                &target_kind,
                &target_id,
                &date_string(case.due),
                &step.query_hash.as_ref().map(|h| &h[..]),
                &doc(&case)?,
                &(case.first_event as i64),
                &(case.last_event as i64),
            ],
        )?;
        case_out = Some(case);
    }
    for effect in &change.effects {
        if let Effect::Event { body } = effect {
            let payload = body.canonical_bytes();
            events.push(push_event(&mut tx, &mut frontier, &body.subject, body.kind, None, &payload)?);
            continue;
        }
        if let Effect::Listing { listing, kind } = effect {
            crate::postgres_listings::listing_step(&mut tx, &mut frontier, listing, *kind, p)?;
            events.push(frontier.size() - 1);
            continue;
        }
        events.push(record_step(&mut tx, &mut frontier, effect, p)?);
    }
    let head = sign_head(&mut tx, &frontier, key, now_ms)?;
    let last = frontier.size().saturating_sub(1) as i64;
    for n in &change.notifications {
        tx.execute(
            "INSERT INTO notifications (recipient_kind, recipient, subject_code, topic, text_zh, text_en, event_idx,
                                        created_ms, next_attempt_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
            &[&n.recipient_kind, &n.recipient, &n.subject_code, &n.topic, &n.text_zh, &n.text_en, &last, &now_ms],
        )?;
    }
    tx.commit()?;
    Ok(Changed { case: case_out, events, head })
}

fn record_step(tx: &mut Transaction<'_>, frontier: &mut Frontier, effect: &Effect, p: &Provenance) -> Result<u64> {
    let id = effect.record_id().unwrap_or_default();
    let rec = tx
        .query_opt(&format!("SELECT {RECORD_COLUMNS} FROM records WHERE id = $1"), &[&id])?
        .map(|r| record_row(&r))
        .ok_or_else(|| StoreError::NotFound(format!("record {id}")))?;
    let Some(e) = record_effect(effect, &rec, p)? else { return Ok(frontier.size()) };
    let at = push_event(tx, frontier, &e.subject, e.kind, Some(e.record_id), &e.payload)?;
    match e.update {
        RecordUpdate::Repaired => {
            tx.execute("UPDATE records SET repaired_event = $2 WHERE id = $1", &[&id, &(at as i64)])?;
        }
        RecordUpdate::Revoked => {
            tx.execute(
                "UPDATE records SET status = 'revoked', revoked_event = $2 WHERE id = $1",
                &[&id, &(at as i64)],
            )?;
        }
        RecordUpdate::Corrected { fingerprint, decision_date, tier } => {
            tx.execute(
                "UPDATE records SET fingerprint = $2, decision_date = $3, tier = $4, event_idx = $5 WHERE id = $1",
                &[&id, &&fingerprint[..], &decision_date, &tier, &(at as i64)],
            )?;
        }
    }
    Ok(at)
}

pub(crate) fn case(conn: &mut PgConn, id: i64) -> Result<Option<(Case, Option<Hash>)>> {
    let Some(row) = conn.query_opt("SELECT doc, query_hash FROM cases WHERE id = $1", &[&id])? else {
        return Ok(None);
    };
    let hash = row
        .get::<_, Option<Vec<u8>>>(1)
        .map(|b| b.try_into().map_err(|_| StoreError::Corrupt("a query hash is not 32 bytes".into())))
        .transpose()?;
    Ok(Some((case_of(&row.get::<_, String>(0))?, hash)))
}

pub(crate) fn cases(conn: &mut PgConn, f: &CaseFilter) -> Result<Vec<Case>> {
    let rows = conn.query(
        "SELECT doc FROM cases
         WHERE id > $1 AND ($2::text IS NULL OR subject_code = $2) AND ($3::text IS NULL OR department = $3)
           AND ($4::text IS NULL OR state = $4) AND ($5::text IS NULL OR kind = $5)
           AND ($6::text IS NULL OR (state = 'open' AND due_date < $6))
         ORDER BY id LIMIT $7",
        &[&f.after_id, &f.subject, &f.department, &f.state, &f.kind, &f.due_before, &i64::from(f.limit)],
    )?;
    rows.iter().map(|r| case_of(&r.get::<_, String>(0))).collect()
}

pub(crate) fn cases_changed_since(conn: &mut PgConn, from: u64) -> Result<Vec<Case>> {
    let rows = conn.query("SELECT doc FROM cases WHERE last_event >= $1 ORDER BY last_event", &[&(from as i64)])?;
    rows.iter().map(|r| case_of(&r.get::<_, String>(0))).collect()
}

pub(crate) fn notifications(conn: &mut PgConn, kind: &str, recipient: &str, limit: u32) -> Result<Vec<Notification>> {
    let rows = conn.query(
        "SELECT id, recipient_kind, recipient, subject_code, topic, text_zh, text_en, event_idx, created_ms, state,
                attempts, read_ms
         FROM notifications WHERE recipient_kind = $1 AND recipient = $2 ORDER BY id DESC LIMIT $3",
        &[&kind, &recipient, &i64::from(limit)],
    )?;
    Ok(rows.iter().map(notification_of).collect())
}

fn notification_of(r: &postgres::Row) -> Notification {
    Notification {
        id: r.get(0),
        recipient_kind: r.get(1),
        recipient: r.get(2),
        subject_code: r.get(3),
        topic: r.get(4),
        text_zh: r.get(5),
        text_en: r.get(6),
        event_index: r.get::<_, i64>(7) as u64,
        created_ms: r.get(8),
        state: r.get(9),
        attempts: r.get::<_, i64>(10),
        read_ms: r.get(11),
    }
}

pub(crate) fn mark_notification_read(
    conn: &mut PgConn,
    id: i64,
    kind: &str,
    recipient: &str,
    now_ms: i64,
) -> Result<bool> {
    let n = conn.execute(
        "UPDATE notifications SET state = 'read', read_ms = COALESCE(read_ms, $4)
         WHERE id = $1 AND recipient_kind = $2 AND recipient = $3",
        &[&id, &kind, &recipient, &now_ms],
    )?;
    Ok(n == 1)
}

pub(crate) fn put_webhook(conn: &mut PgConn, w: &crate::Webhook) -> Result<()> {
    conn.execute(
        "INSERT INTO webhooks (recipient_kind, recipient, url, secret, created_ms) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (recipient_kind, recipient) DO UPDATE SET url = EXCLUDED.url, secret = EXCLUDED.secret,
             created_ms = EXCLUDED.created_ms",
        &[&w.recipient_kind, &w.recipient, &w.url, &w.secret, &w.created_ms],
    )?;
    Ok(())
}

pub(crate) fn webhooks(conn: &mut PgConn) -> Result<Vec<crate::Webhook>> {
    let rows = conn.query(
        "SELECT recipient_kind, recipient, url, secret, created_ms FROM webhooks ORDER BY recipient_kind, recipient",
        &[],
    )?;
    Ok(rows
        .iter()
        .map(|r| crate::Webhook {
            recipient_kind: r.get(0),
            recipient: r.get(1),
            url: r.get(2),
            secret: r.get(3),
            created_ms: r.get(4),
        })
        .collect())
}

pub(crate) fn due_deliveries(conn: &mut PgConn, now_ms: i64, limit: u32) -> Result<Vec<crate::Delivery>> {
    let rows = conn.query(
        "SELECT n.id, n.recipient_kind, n.recipient, n.subject_code, n.topic, n.text_zh, n.text_en, n.event_idx,
                n.created_ms, n.state, n.attempts, n.read_ms, w.url, w.secret
         FROM notifications n
         JOIN webhooks w ON w.recipient_kind = n.recipient_kind AND w.recipient = n.recipient
         WHERE n.state = 'pending' AND n.next_attempt_ms <= $1 ORDER BY n.id LIMIT $2",
        &[&now_ms, &i64::from(limit)],
    )?;
    Ok(rows
        .iter()
        .map(|r| crate::Delivery { notification: notification_of(r), url: r.get(12), secret: r.get(13) })
        .collect())
}

pub(crate) fn record_delivery(conn: &mut PgConn, id: i64, error: Option<&str>, now_ms: i64) -> Result<()> {
    let row = conn.query_opt("SELECT attempts FROM notifications WHERE id = $1 AND state = 'pending'", &[&id])?;
    let Some(attempts) = row.map(|r| r.get::<_, i64>(0) + 1) else { return Ok(()) };
    let (state, next) = crate::due_process::after_attempt(attempts, error.is_none(), now_ms);
    conn.execute(
        "UPDATE notifications SET attempts = $2, state = $3, next_attempt_ms = $4, last_error = $5 WHERE id = $1",
        &[&id, &attempts, &state, &next, &error],
    )?;
    Ok(())
}
