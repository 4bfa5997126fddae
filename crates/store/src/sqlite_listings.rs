//! SQLite storage of listings and checks (the `Store` methods delegate here).

use rusqlite::{Connection, OptionalExtension, params};
use xinyong_core::event::{EventBody, EventKind, Provenance};
use xinyong_core::listing::{Listing, ListingSource, ListingStatus, RemovalKind, step_facts};
use xinyong_core::record::{date_string, parse_date};
use xinyong_ledger::{LedgerKey, SignedHead};

use crate::sqlite::{load_frontier, push_body, sign_head, subject_row};
use crate::{CheckRow, DepartmentStats, Feedback, ListingFilter, Result, StoreError, SubjectRow};

const LISTING_COLUMNS: &str = "id, subject_code, list_type, status, provider, basis, reason, notice_date, \
    objection_until, objections, decision_date, start_date, end_date, removed_date, removal_kind, removal_reason, \
    document, persons, first_event, decided_event, last_event, scope, source_record, source_rule, source_item";

fn date_col(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<time::Date>> {
    Ok(row.get::<_, Option<String>>(i)?.and_then(|s| parse_date(&s)))
}

fn json_col<T: serde::de::DeserializeOwned + Default>(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<T> {
    let s: String = row.get(i)?;
    serde_json::from_str(&s)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into()))
}

fn listing_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Listing> {
    let status: String = row.get(3)?;
    let removal_kind: Option<String> = row.get(14)?;
    Ok(Listing {
        id: row.get(0)?,
        subject: row.get(1)?,
        list_type: row.get(2)?,
        status: ListingStatus::parse(&status).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, format!("status {status}").into())
        })?,
        provider: row.get(4)?,
        basis: row.get(5)?,
        reason: row.get(6)?,
        notice_date: date_col(row, 7)?,
        objection_until: date_col(row, 8)?,
        objections: json_col(row, 9)?,
        decision_date: date_col(row, 10)?,
        start: date_col(row, 11)?,
        end: date_col(row, 12)?,
        removed_date: date_col(row, 13)?,
        removal_kind: removal_kind.as_deref().and_then(RemovalKind::parse),
        removal_reason: row.get(15)?,
        document: json_col(row, 16)?,
        persons: json_col(row, 17)?,
        first_event: row.get::<_, i64>(18)? as u64,
        decided_event: row.get::<_, Option<i64>>(19)?.map(|v| v as u64),
        last_event: row.get::<_, i64>(20)? as u64,
        scope: row.get(21)?,
        source: match (
            row.get::<_, Option<i64>>(22)?,
            row.get::<_, Option<String>>(23)?,
            row.get::<_, Option<String>>(24)?,
        ) {
            (Some(record_id), Some(rule), Some(item)) => Some(ListingSource { record_id, rule, item }),
            _ => None,
        },
    })
}

/// A second derivation of the same entry (another process got there first): a
/// conflict the deriving follower retries from the stored entry.
pub(crate) fn derived_twice(id: i64, src: &ListingSource) -> StoreError {
    StoreError::Conflict(format!(
        "记录 {} 按规则 {} 产生的名单条目已存在（{id}）/ the entry derived from record {} by {} exists (listing {id})",
        src.record_id, src.rule, src.record_id, src.rule
    ))
}

fn json(v: &impl serde::Serialize) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn put_listing(
    conn: &mut Connection,
    listing: &Listing,
    kind: EventKind,
    p: &Provenance,
    key: &LedgerKey,
    now_ms: i64,
) -> Result<(Listing, SignedHead)> {
    let tx = crate::sqlite::write_tx(conn)?;
    let mut frontier = load_frontier(&tx, key.tree_hash())?;
    let stored = listing_step(&tx, &mut frontier, listing, kind, p)?;
    let head = sign_head(&tx, &frontier, key, now_ms)?;
    tx.commit()?;
    Ok((stored, head))
}

/// One listing step inside a write transaction (also a decision's effect in a case).
pub(crate) fn listing_step(
    tx: &rusqlite::Transaction<'_>,
    frontier: &mut xinyong_ledger::Frontier,
    listing: &Listing,
    kind: EventKind,
    p: &Provenance,
) -> Result<Listing> {
    let exists: bool = tx
        .query_row("SELECT 1 FROM subjects WHERE code = ?1", [&listing.subject], |_| Ok(true))
        .optional()?
        .unwrap_or(false);
    if !exists {
        return Err(StoreError::NotFound(format!("subject {}", listing.subject)));
    }
    let idx = frontier.size();
    let mut stored = listing.clone();
    let d = |d: Option<time::Date>| d.map(date_string);
    if stored.id == 0 {
        if let Some(src) = &stored.source {
            let known: Option<i64> = tx
                .query_row(
                    "SELECT id FROM listings WHERE source_record = ?1 AND source_rule = ?2",
                    params![src.record_id, src.rule],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(id) = known {
                return Err(derived_twice(id, src));
            }
        }
        let src = stored.source.as_ref();
        tx.execute(
            "INSERT INTO listings (subject_code, list_type, status, provider, reason, objections, document, persons,
                                   first_event, last_event, scope, source_record, source_rule, source_item)
             VALUES (?1, ?2, 'noticed', ?3, '', '[]', '{}', '[]', ?4, ?4, ?5, ?6, ?7, ?8)",
            params![
                stored.subject,
                stored.list_type,
                stored.provider,
                idx as i64,
                stored.scope,
                src.map(|s| s.record_id),
                src.map(|s| s.rule.as_str()),
                src.map(|s| s.item.as_str())
            ],
        )?;
        stored.id = tx.last_insert_rowid();
        stored.first_event = idx;
    } else {
        let current: Option<i64> =
            tx.query_row("SELECT last_event FROM listings WHERE id = ?1", [stored.id], |r| r.get(0)).optional()?;
        match current {
            None => return Err(StoreError::NotFound(format!("listing {}", stored.id))),
            Some(last) if last as u64 != listing.last_event => {
                return Err(StoreError::Conflict(format!(
                    "名单 {} 已有新的处理步骤，请刷新后重试 / listing {} changed since it was read",
                    stored.id, stored.id
                )));
            }
            Some(_) => {}
        }
    }
    // a derived entry's first derivation stands for its decision
    if kind == EventKind::ListingDecided || (kind == EventKind::ListingDerived && stored.decided_event.is_none()) {
        stored.decided_event = Some(idx);
    }
    stored.last_event = idx;
    let body = EventBody::listing(kind, &stored.subject, &stored.list_type, stored.id, step_facts(kind, &stored), p);
    let payload = body.canonical_bytes();
    push_body(tx, frontier, &stored.subject, kind, None, &payload)?;
    tx.execute(
        "UPDATE listings SET status = ?2, provider = ?3, basis = ?4, reason = ?5, notice_date = ?6, objection_until = ?7,
             objections = ?8, decision_date = ?9, start_date = ?10, end_date = ?11, removed_date = ?12,
             removal_kind = ?13, removal_reason = ?14, document = ?15, persons = ?16, decided_event = ?17,
             last_event = ?18, source_rule = COALESCE(?19, source_rule)
         WHERE id = ?1",
        params![
            stored.id,
            stored.status.as_str(),
            stored.provider,
            stored.basis,
            stored.reason,
            d(stored.notice_date),
            d(stored.objection_until),
            json(&stored.objections)?,
            d(stored.decision_date),
            d(stored.start),
            d(stored.end),
            d(stored.removed_date),
            stored.removal_kind.map(|k| k.as_str()),
            stored.removal_reason,
            json(&stored.document)?,
            json(&stored.persons)?,
            stored.decided_event.map(|v| v as i64),
            idx as i64,
            stored.source.as_ref().map(|src| src.rule.as_str()),
        ],
    )?;
    Ok(stored)
}

pub(crate) fn listing(conn: &Connection, id: i64) -> Result<Option<Listing>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {LISTING_COLUMNS} FROM listings WHERE id = ?1"))?
        .query_row([id], listing_row)
        .optional()?)
}

pub(crate) fn listings_from_record(conn: &Connection, record_id: i64) -> Result<Vec<Listing>> {
    let mut st =
        conn.prepare_cached(&format!("SELECT {LISTING_COLUMNS} FROM listings WHERE source_record = ?1 ORDER BY id"))?;
    Ok(st.query_map([record_id], listing_row)?.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(crate) fn put_listings(
    conn: &mut Connection,
    steps: &[(Listing, EventKind)],
    p: &Provenance,
    key: &LedgerKey,
    now_ms: i64,
) -> Result<(Vec<Listing>, SignedHead)> {
    let tx = crate::sqlite::write_tx(conn)?;
    let mut frontier = load_frontier(&tx, key.tree_hash())?;
    let mut stored = Vec::with_capacity(steps.len());
    for (listing, kind) in steps {
        stored.push(listing_step(&tx, &mut frontier, listing, *kind, p)?);
    }
    let head = sign_head(&tx, &frontier, key, now_ms)?;
    tx.commit()?;
    Ok((stored, head))
}

pub(crate) fn listings_of(conn: &Connection, code: &str) -> Result<Vec<Listing>> {
    let mut st =
        conn.prepare_cached(&format!("SELECT {LISTING_COLUMNS} FROM listings WHERE subject_code = ?1 ORDER BY id"))?;
    Ok(st.query_map([code], listing_row)?.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(crate) fn listings(conn: &Connection, f: &ListingFilter) -> Result<Vec<Listing>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {LISTING_COLUMNS} FROM listings
         WHERE id > ?1 AND (?2 IS NULL OR list_type = ?2) AND (?3 IS NULL OR status = ?3)
           AND (?4 IS NULL OR (status IN ('listed', 'removed') AND start_date <= ?4
                AND (end_date IS NULL OR end_date > ?4)
                AND (removal_kind IS NULL OR (removal_kind <> 'decision_revoked' AND removed_date > ?4))))
           AND (?5 IS NULL OR provider = ?5)
           AND (?7 = 0 OR source_record IS NULL)
         ORDER BY id LIMIT ?6"
    ))?;
    let rows = st.query_map(
        params![
            f.after_id,
            f.list_type,
            f.status.map(|s| s.as_str()),
            f.active_on,
            f.provider,
            f.limit,
            f.decided_here
        ],
        listing_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(crate) fn listings_changed_since(conn: &Connection, from: u64) -> Result<Vec<Listing>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {LISTING_COLUMNS} FROM listings WHERE last_event >= ?1 ORDER BY last_event"
    ))?;
    Ok(st.query_map([from as i64], listing_row)?.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(crate) fn subjects_created_since(conn: &Connection, from: u64, limit: u32) -> Result<Vec<SubjectRow>> {
    // the events table is keyed by index: a range scan, no index on subjects needed
    let mut st = conn.prepare_cached(&format!(
        "SELECT {} FROM events e JOIN subjects s ON s.code = e.subject_code
         WHERE e.idx >= ?1 AND e.kind = 'subject.created' ORDER BY e.idx LIMIT ?2",
        crate::sqlite::SUBJECT_COLUMNS.split(", ").map(|c| format!("s.{c}")).collect::<Vec<_>>().join(", ")
    ))?;
    Ok(st.query_map(params![from as i64, limit], subject_row)?.collect::<rusqlite::Result<Vec<_>>>()?)
}

const CHECK_COLUMNS: &str = "id, at_ms, account_id, department, matter, purpose, subject_code, as_of, verdict, \
    measures, listings, ledger_size, feedback_ms, feedback_account, applied, not_applied, note";

fn check_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<CheckRow> {
    let feedback_ms: Option<i64> = row.get(12)?;
    let feedback = match feedback_ms {
        None => None,
        Some(at_ms) => Some(Feedback {
            at_ms,
            account_id: row.get::<_, Option<i64>>(13)?.unwrap_or_default(),
            applied: json_col(row, 14)?,
            not_applied: json_col(row, 15)?,
            note: row.get(16)?,
        }),
    };
    Ok(CheckRow {
        id: row.get(0)?,
        at_ms: row.get(1)?,
        account_id: row.get(2)?,
        department: row.get(3)?,
        matter: row.get(4)?,
        purpose: row.get(5)?,
        subject_code: row.get(6)?,
        as_of: row.get(7)?,
        verdict: row.get(8)?,
        measures: json_col(row, 9)?,
        listings: json_col(row, 10)?,
        ledger_size: row.get::<_, i64>(11)? as u64,
        feedback,
    })
}

/// Rows appended since the per-subject index was last brought up to date are indexed in
/// one sorted batch by `maintain` once this much time has passed, so that answering a
/// check writes only at the right edge of the log's B-trees. Should nobody call
/// `maintain`, `record_checks` catches up itself once this many rows wait.
const SUBJECT_INDEX_EVERY_MS: i64 = 100;
const SUBJECT_INDEX_MAX_PENDING: i64 = 100_000;
/// Most rows `maintain` adds to the per-subject index in one transaction.
const SUBJECT_INDEX_SLICE: i64 = 512;

fn meta_i64(tx: &Connection, k: &str) -> Result<i64> {
    Ok(tx.query_row("SELECT v FROM meta WHERE k = ?1", [k], |r| r.get::<_, i64>(0)).optional()?.unwrap_or(0))
}

pub(crate) fn record_checks(conn: &mut Connection, checks: &[CheckRow]) -> Result<()> {
    let tx = crate::sqlite::write_tx(conn)?;
    let mut last_seq = 0;
    {
        let mut st = tx.prepare_cached(
            "INSERT INTO checks (id, at_ms, account_id, department, matter, purpose, subject_code, as_of, verdict,
                                 measures, listings, ledger_size)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?;
        for c in checks {
            st.execute(params![
                c.id,
                c.at_ms,
                c.account_id,
                c.department,
                c.matter,
                c.purpose,
                c.subject_code,
                c.as_of,
                c.verdict,
                json(&c.measures)?,
                json(&c.listings)?,
                c.ledger_size as i64,
            ])?;
            last_seq = tx.last_insert_rowid();
        }
    }
    let indexed_to = meta_i64(&tx, "check_subjects_to")?;
    if last_seq - indexed_to >= SUBJECT_INDEX_MAX_PENDING {
        let now = checks.iter().map(|c| c.at_ms).max().unwrap_or_default();
        index_check_subjects(&tx, indexed_to, last_seq, now)?;
    }
    tx.commit()?;
    Ok(())
}

/// Brings the check log's per-subject index up to date when it is due.
pub(crate) fn maintain(conn: &mut Connection, now_ms: i64) -> Result<()> {
    let indexed_ms = meta_i64(conn, "check_subjects_ms")?;
    if now_ms - indexed_ms < SUBJECT_INDEX_EVERY_MS {
        return Ok(());
    }
    let tx = crate::sqlite::write_tx(conn)?;
    let indexed_to = meta_i64(&tx, "check_subjects_to")?;
    let last: i64 = tx.query_row("SELECT COALESCE(MAX(seq), 0) FROM checks", [], |r| r.get(0))?;
    if last > indexed_to {
        // a bounded slice, so the next batch of answers waits for a short step only; while
        // rows still wait, the time stays as it was and the next call takes another slice
        let to = last.min(indexed_to + SUBJECT_INDEX_SLICE);
        index_check_subjects(&tx, indexed_to, to, if to == last { now_ms } else { indexed_ms })?;
    } else {
        tx.execute("INSERT OR REPLACE INTO meta (k, v) VALUES ('check_subjects_ms', ?1)", [now_ms])?;
    }
    tx.commit()?;
    Ok(())
}

fn index_check_subjects(tx: &Connection, from: i64, to: i64, now: i64) -> Result<()> {
    tx.execute(
        "INSERT OR IGNORE INTO check_subjects (subject_code, seq)
         SELECT subject_code, seq FROM checks WHERE seq > ?1 AND seq <= ?2 ORDER BY subject_code, seq",
        params![from, to],
    )?;
    tx.execute("INSERT OR REPLACE INTO meta (k, v) VALUES ('check_subjects_to', ?1)", [to])?;
    tx.execute("INSERT OR REPLACE INTO meta (k, v) VALUES ('check_subjects_ms', ?1)", [now])?;
    Ok(())
}

pub(crate) fn check_entry(conn: &Connection, id: &str) -> Result<Option<CheckRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {CHECK_COLUMNS} FROM checks WHERE id = ?1"))?
        .query_row([id], check_row)
        .optional()?)
}

pub(crate) fn record_feedback(conn: &mut Connection, check_id: &str, f: &Feedback) -> Result<()> {
    let n = conn.execute(
        "UPDATE checks SET feedback_ms = ?2, feedback_account = ?3, applied = ?4, not_applied = ?5, note = ?6,
             n_applied = ?7, n_not_applied = ?8
         WHERE id = ?1 AND feedback_ms IS NULL",
        params![
            check_id,
            f.at_ms,
            f.account_id,
            json(&f.applied)?,
            json(&f.not_applied)?,
            f.note,
            f.applied.len() as i64,
            f.not_applied.len() as i64,
        ],
    )?;
    if n == 0 {
        return Err(match check_entry(conn, check_id)? {
            None => StoreError::NotFound(format!("check {check_id}")),
            Some(_) => StoreError::Conflict(format!(
                "核查 {check_id} 已反馈 / feedback for check {check_id} was already recorded"
            )),
        });
    }
    Ok(())
}

pub(crate) fn checks_of(conn: &Connection, code: &str, limit: u32) -> Result<Vec<CheckRow>> {
    // the indexed part, plus the short tail appended since the index was last brought up to date
    let mut st = conn.prepare_cached(&format!(
        "SELECT {CHECK_COLUMNS} FROM checks WHERE seq IN (
             SELECT seq FROM check_subjects WHERE subject_code = ?1
             UNION ALL
             SELECT seq FROM checks WHERE seq > (SELECT COALESCE((SELECT v FROM meta WHERE k = 'check_subjects_to'), 0))
                                      AND subject_code = ?1)
         ORDER BY at_ms DESC, seq DESC LIMIT ?2"
    ))?;
    Ok(st.query_map(params![code, limit], check_row)?.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(crate) fn check_stats(conn: &Connection, department: Option<&str>) -> Result<Vec<DepartmentStats>> {
    let mut st = conn.prepare_cached(
        "SELECT department, COUNT(*), SUM(verdict <> 'clear'), COUNT(feedback_ms),
                COALESCE(SUM(n_applied), 0), COALESCE(SUM(n_not_applied), 0)
         FROM checks WHERE ?1 IS NULL OR department = ?1 GROUP BY department ORDER BY department",
    )?;
    let rows = st.query_map([department], |row| {
        Ok(DepartmentStats {
            department: row.get(0)?,
            checks: row.get::<_, i64>(1)? as u64,
            non_clear: row.get::<_, Option<i64>>(2)?.unwrap_or_default() as u64,
            with_feedback: row.get::<_, i64>(3)? as u64,
            measures_applied: row.get::<_, i64>(4)? as u64,
            measures_not_applied: row.get::<_, i64>(5)? as u64,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CheckRow;

    fn row(i: i64) -> CheckRow {
        crate::testing::clear_check(&format!("chk_{i:08}"), i, 1, &format!("S{:03}", i % 7))
    }

    /// Upkeep indexes a bounded slice per call and, while rows wait, does not wait for
    /// its interval before the next slice: a few calls bring the index up to date.
    #[test]
    fn upkeep_indexes_in_slices_until_caught_up() -> Result<()> {
        let mut store = crate::SqliteStore::open_in_memory()?;
        let conn = &mut store.conn;
        let n = 2 * SUBJECT_INDEX_SLICE + 100;
        record_checks(conn, &(1..=n).map(row).collect::<Vec<_>>())?;
        let indexed = |c: &Connection| meta_i64(c, "check_subjects_to");
        assert_eq!(indexed(conn)?, 0, "nothing indexed on the answer's path");
        maintain(conn, 1_000)?;
        assert_eq!(indexed(conn)?, SUBJECT_INDEX_SLICE, "one slice");
        maintain(conn, 1_001)?;
        assert_eq!(indexed(conn)?, 2 * SUBJECT_INDEX_SLICE, "the next slice at once");
        maintain(conn, 1_002)?;
        assert_eq!(indexed(conn)?, n, "caught up");
        let rows: i64 = conn.query_row("SELECT COUNT(*) FROM check_subjects", [], |r| r.get(0))?;
        assert_eq!(rows, n);
        // caught up: the interval applies again
        record_checks(conn, &[row(n + 1)])?;
        maintain(conn, 1_003)?;
        assert_eq!(indexed(conn)?, n, "waits for the interval");
        maintain(conn, 1_002 + SUBJECT_INDEX_EVERY_MS)?;
        assert_eq!(indexed(conn)?, n + 1);
        Ok(())
    }
}
