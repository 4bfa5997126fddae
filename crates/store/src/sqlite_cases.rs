//! SQLite storage of due-process cases and notifications (the `Store` methods delegate
//! here).

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use xinyong_core::case::{Case, Target};
use xinyong_core::event::{EventBody, Provenance};
use xinyong_core::record::date_string;
use xinyong_ledger::{Frontier, Hash, LedgerKey};

use crate::due_process::{Change, Changed, RecordUpdate, record_effect};
use crate::sqlite::{RECORD_COLUMNS, load_frontier, push_body, record_row, sign_head, write_tx};
use crate::{CaseFilter, Effect, Notification, Result, StoreError};

fn doc(case: &Case) -> Result<String> {
    serde_json::to_string(case).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn case_of(text: &str) -> rusqlite::Result<Case> {
    serde_json::from_str(text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into()))
}

pub(crate) fn target_columns(t: &Target) -> (&'static str, Option<i64>) {
    match t {
        Target::Record { id, .. } => ("record", Some(*id)),
        Target::Listing { id, .. } => ("listing", Some(*id)),
        Target::Subject => ("subject", None),
    }
}

pub(crate) fn apply_change(
    conn: &mut Connection,
    change: &Change,
    p: &Provenance,
    key: &LedgerKey,
    now_ms: i64,
) -> Result<Changed> {
    let tx = write_tx(conn)?;
    let mut frontier = load_frontier(&tx, key.tree_hash())?;
    let mut events = Vec::new();
    let mut case_out = None;
    if let Some(step) = &change.case {
        let mut case = step.case.clone();
        let exists: bool =
            tx.query_row("SELECT 1 FROM subjects WHERE code = ?1", [&case.subject], |_| Ok(true)).optional()?.is_some();
        if !exists {
            return Err(StoreError::NotFound(format!("subject {}", case.subject)));
        }
        let idx = frontier.size();
        if case.id == 0 {
            case.id = tx.query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM cases", [], |r| r.get(0))?;
            case.first_event = idx;
        } else {
            let last: Option<i64> =
                tx.query_row("SELECT last_event FROM cases WHERE id = ?1", [case.id], |r| r.get(0)).optional()?;
            match last {
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
        events.push(push_body(&tx, &mut frontier, &case.subject, step.kind, None, &payload)?);
        let (target_kind, target_id) = target_columns(&case.target);
        tx.execute(
            "INSERT INTO cases (id, subject_code, kind, state, department, target_kind, target_id, due_date, query_hash,
                                doc, first_event, last_event)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT (id) DO UPDATE SET state = excluded.state, department = excluded.department,
                 due_date = excluded.due_date, doc = excluded.doc, last_event = excluded.last_event",
            params![
                case.id,
                case.subject,
                case.kind.as_str(),
                case.state.as_str(),
                case.department,
                target_kind,
                target_id,
                date_string(case.due),
                step.query_hash.as_ref().map(|h| &h[..]),
                doc(&case)?,
                case.first_event as i64,
                case.last_event as i64,
            ],
        )?;
        case_out = Some(case);
    }
    for effect in &change.effects {
        if let Effect::Event { body } = effect {
            let payload = body.canonical_bytes();
            events.push(push_body(&tx, &mut frontier, &body.subject, body.kind, None, &payload)?);
            continue;
        }
        if let Effect::Listing { listing, kind } = effect {
            crate::sqlite_listings::listing_step(&tx, &mut frontier, listing, *kind, p)?;
            events.push(frontier.size() - 1);
            continue;
        }
        events.push(record_step(&tx, &mut frontier, effect, p)?);
    }
    let head = sign_head(&tx, &frontier, key, now_ms)?;
    let last = frontier.size().saturating_sub(1);
    insert_notifications(&tx, change, last, now_ms)?;
    tx.commit()?;
    Ok(Changed { case: case_out, events, head })
}

fn record_step(tx: &Transaction<'_>, frontier: &mut Frontier, effect: &Effect, p: &Provenance) -> Result<u64> {
    let id = effect.record_id().unwrap_or_default();
    let rec = tx
        .query_row(&format!("SELECT {RECORD_COLUMNS} FROM records WHERE id = ?1"), [id], record_row)
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("record {id}")))?;
    let Some(e) = record_effect(effect, &rec, p)? else { return Ok(frontier.size()) };
    let at = push_body(tx, frontier, &e.subject, e.kind, Some(e.record_id), &e.payload)?;
    match e.update {
        RecordUpdate::Repaired => {
            tx.execute("UPDATE records SET repaired_event = ?2 WHERE id = ?1", params![id, at as i64])?;
        }
        RecordUpdate::Revoked => {
            tx.execute(
                "UPDATE records SET status = 'revoked', revoked_event = ?2 WHERE id = ?1",
                params![id, at as i64],
            )?;
        }
        RecordUpdate::Corrected { fingerprint, decision_date, tier } => {
            tx.execute(
                "UPDATE records SET fingerprint = ?2, decision_date = ?3, tier = ?4, event_idx = ?5 WHERE id = ?1",
                params![id, &fingerprint[..], decision_date, tier, at as i64],
            )?;
        }
    }
    Ok(at)
}

fn insert_notifications(tx: &Transaction<'_>, change: &Change, event_idx: u64, now_ms: i64) -> Result<()> {
    let mut st = tx.prepare_cached(
        "INSERT INTO notifications (recipient_kind, recipient, subject_code, topic, text_zh, text_en, event_idx,
                                    created_ms, next_attempt_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
    )?;
    for n in &change.notifications {
        st.execute(params![
            n.recipient_kind,
            n.recipient,
            n.subject_code,
            n.topic,
            n.text_zh,
            n.text_en,
            event_idx as i64,
            now_ms
        ])?;
    }
    Ok(())
}

pub(crate) fn case(conn: &Connection, id: i64) -> Result<Option<(Case, Option<Hash>)>> {
    let row: Option<(String, Option<Vec<u8>>)> = conn
        .prepare_cached("SELECT doc, query_hash FROM cases WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match row {
        None => Ok(None),
        Some((d, h)) => {
            let hash = h.map(|b| b.try_into().map_err(|_| StoreError::Corrupt("a query hash is not 32 bytes".into())));
            Ok(Some((case_of(&d)?, hash.transpose()?)))
        }
    }
}

pub(crate) fn cases(conn: &Connection, f: &CaseFilter) -> Result<Vec<Case>> {
    let mut st = conn.prepare_cached(
        "SELECT doc FROM cases
         WHERE id > ?1 AND (?2 IS NULL OR subject_code = ?2) AND (?3 IS NULL OR department = ?3)
           AND (?4 IS NULL OR state = ?4) AND (?5 IS NULL OR kind = ?5)
           AND (?6 IS NULL OR (state = 'open' AND due_date < ?6))
         ORDER BY id LIMIT ?7",
    )?;
    let rows = st
        .query_map(params![f.after_id, f.subject, f.department, f.state, f.kind, f.due_before, f.limit], |r| {
            case_of(&r.get::<_, String>(0)?)
        })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(crate) fn cases_changed_since(conn: &Connection, from: u64) -> Result<Vec<Case>> {
    let mut st = conn.prepare_cached("SELECT doc FROM cases WHERE last_event >= ?1 ORDER BY last_event")?;
    let rows = st.query_map([from as i64], |r| case_of(&r.get::<_, String>(0)?))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

const NOTIFICATION_COLUMNS: &str = "id, recipient_kind, recipient, subject_code, topic, text_zh, text_en, event_idx, \
    created_ms, state, attempts, read_ms";

fn notification_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Notification> {
    Ok(Notification {
        id: r.get(0)?,
        recipient_kind: r.get(1)?,
        recipient: r.get(2)?,
        subject_code: r.get(3)?,
        topic: r.get(4)?,
        text_zh: r.get(5)?,
        text_en: r.get(6)?,
        event_index: r.get::<_, i64>(7)? as u64,
        created_ms: r.get(8)?,
        state: r.get(9)?,
        attempts: r.get(10)?,
        read_ms: r.get(11)?,
    })
}

pub(crate) fn notifications(conn: &Connection, kind: &str, recipient: &str, limit: u32) -> Result<Vec<Notification>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE recipient_kind = ?1 AND recipient = ?2
         ORDER BY id DESC LIMIT ?3"
    ))?;
    let rows = st.query_map(params![kind, recipient, limit], notification_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(crate) fn mark_notification_read(
    conn: &mut Connection,
    id: i64,
    kind: &str,
    recipient: &str,
    now_ms: i64,
) -> Result<bool> {
    let n = conn.execute(
        "UPDATE notifications SET state = 'read', read_ms = COALESCE(read_ms, ?4)
         WHERE id = ?1 AND recipient_kind = ?2 AND recipient = ?3",
        params![id, kind, recipient, now_ms],
    )?;
    Ok(n == 1)
}

pub(crate) fn put_webhook(conn: &mut Connection, w: &crate::Webhook) -> Result<()> {
    conn.execute(
        "INSERT INTO webhooks (recipient_kind, recipient, url, secret, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (recipient_kind, recipient) DO UPDATE SET url = excluded.url, secret = excluded.secret,
             created_ms = excluded.created_ms",
        params![w.recipient_kind, w.recipient, w.url, w.secret, w.created_ms],
    )?;
    Ok(())
}

pub(crate) fn webhooks(conn: &Connection) -> Result<Vec<crate::Webhook>> {
    let mut st = conn.prepare_cached(
        "SELECT recipient_kind, recipient, url, secret, created_ms FROM webhooks ORDER BY recipient_kind, recipient",
    )?;
    let rows = st.query_map([], |r| {
        Ok(crate::Webhook {
            recipient_kind: r.get(0)?,
            recipient: r.get(1)?,
            url: r.get(2)?,
            secret: r.get(3)?,
            created_ms: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(crate) fn due_deliveries(conn: &Connection, now_ms: i64, limit: u32) -> Result<Vec<crate::Delivery>> {
    let cols = NOTIFICATION_COLUMNS.split(", ").map(|c| format!("n.{c}")).collect::<Vec<_>>().join(", ");
    let mut st = conn.prepare_cached(&format!(
        // webhooks first (CROSS JOIN fixes the order in SQLite): most recipients read their
        // notices in the portal and have none, and their pending notices are not read here
        "SELECT {cols}, w.url, w.secret FROM webhooks w
         CROSS JOIN notifications n INDEXED BY notifications_recipient_pending ON n.recipient_kind = w.recipient_kind AND n.recipient = w.recipient
         WHERE n.state = 'pending' AND n.next_attempt_ms <= ?1 ORDER BY n.id LIMIT ?2"
    ))?;
    let rows = st.query_map(params![now_ms, limit], |r| {
        Ok(crate::Delivery { notification: notification_row(r)?, url: r.get(12)?, secret: r.get(13)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(crate) fn record_delivery(conn: &mut Connection, id: i64, error: Option<&str>, now_ms: i64) -> Result<()> {
    let attempts: Option<i64> = conn
        .query_row("SELECT attempts FROM notifications WHERE id = ?1 AND state = 'pending'", [id], |r| r.get(0))
        .optional()?;
    let Some(attempts) = attempts.map(|a| a + 1) else { return Ok(()) };
    let (state, next) = crate::due_process::after_attempt(attempts, error.is_none(), now_ms);
    conn.execute(
        "UPDATE notifications SET attempts = ?2, state = ?3, next_attempt_ms = ?4, last_error = ?5 WHERE id = ?1",
        params![id, attempts, state, next, error],
    )?;
    Ok(())
}
