//! PostgreSQL storage of listings and checks (the `Store` methods delegate here); the
//! same statements as `sqlite_listings.rs`, with the ledger lock around listing steps.

use postgres::{Client, Row};
use xinyong_core::event::{EventBody, EventKind, Provenance};
use xinyong_core::listing::{Listing, ListingSource, ListingStatus, RemovalKind, step_facts};
use xinyong_core::record::{date_string, parse_date};
use xinyong_ledger::{LedgerKey, SignedHead};

use crate::postgres::{PgConn, lock_ledger, sign_head, subject_row};
use crate::{CheckRow, DepartmentStats, Feedback, ListingFilter, Result, StoreError, SubjectRow};

const LISTING_SELECT: &str = "SELECT id, subject_code, list_type, status, provider, basis, reason, notice_date, \
    objection_until, objections, decision_date, start_date, end_date, removed_date, removal_kind, removal_reason, \
    document, persons, first_event, decided_event, last_event, scope, source_record, source_rule, source_item \
    FROM listings";

fn date_col(row: &Row, i: usize) -> Option<time::Date> {
    row.get::<_, Option<String>>(i).and_then(|s| parse_date(&s))
}

fn json_col<T: serde::de::DeserializeOwned>(row: &Row, i: usize) -> Result<T> {
    let s: String = row.get(i);
    serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("column {i}: {e}")))
}

fn listing_row(row: &Row) -> Result<Listing> {
    let status: String = row.get(3);
    let removal_kind: Option<String> = row.get(14);
    Ok(Listing {
        id: row.get(0),
        subject: row.get(1),
        list_type: row.get(2),
        status: ListingStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("listing status {status}")))?,
        provider: row.get(4),
        basis: row.get(5),
        reason: row.get(6),
        notice_date: date_col(row, 7),
        objection_until: date_col(row, 8),
        objections: json_col(row, 9)?,
        decision_date: date_col(row, 10),
        start: date_col(row, 11),
        end: date_col(row, 12),
        removed_date: date_col(row, 13),
        removal_kind: removal_kind.as_deref().and_then(RemovalKind::parse),
        removal_reason: row.get(15),
        document: json_col(row, 16)?,
        persons: json_col(row, 17)?,
        first_event: row.get::<_, i64>(18) as u64,
        decided_event: row.get::<_, Option<i64>>(19).map(|v| v as u64),
        last_event: row.get::<_, i64>(20) as u64,
        scope: row.get(21),
        source: match (
            row.get::<_, Option<i64>>(22),
            row.get::<_, Option<String>>(23),
            row.get::<_, Option<String>>(24),
        ) {
            (Some(record_id), Some(rule), Some(item)) => Some(ListingSource { record_id, rule, item }),
            _ => None,
        },
    })
}

fn listings_of_rows(rows: Vec<Row>) -> Result<Vec<Listing>> {
    rows.iter().map(listing_row).collect()
}

fn json(v: &impl serde::Serialize) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn put_listing(
    client: &mut Client,
    listing: &Listing,
    kind: EventKind,
    p: &Provenance,
    key: &LedgerKey,
    now_ms: i64,
) -> Result<(Listing, SignedHead)> {
    let mut tx = client.transaction()?;
    let mut frontier = lock_ledger(&mut tx, key.tree_hash())?;
    let stored = listing_step(&mut tx, &mut frontier, listing, kind, p)?;
    let head = sign_head(&mut tx, &frontier, key, now_ms)?;
    tx.commit()?;
    Ok((stored, head))
}

/// One listing step inside a transaction holding the ledger lock (also a decision's
/// effect in a case).
pub(crate) fn listing_step(
    tx: &mut postgres::Transaction<'_>,
    frontier: &mut xinyong_ledger::Frontier,
    listing: &Listing,
    kind: EventKind,
    p: &Provenance,
) -> Result<Listing> {
    if tx.query_opt("SELECT 1 FROM subjects WHERE code = $1", &[&listing.subject])?.is_none() {
        return Err(StoreError::NotFound(format!("subject {}", listing.subject)));
    }
    let idx = frontier.size();
    let mut stored = listing.clone();
    let d = |d: Option<time::Date>| d.map(date_string);
    if stored.id == 0 {
        if let Some(src) = &stored.source
            && let Some(known) = tx.query_opt(
                "SELECT id FROM listings WHERE source_record = $1 AND source_rule = $2",
                &[&src.record_id, &src.rule],
            )?
        {
            return Err(crate::sqlite_listings::derived_twice(known.get(0), src));
        }
        // under the ledger lock: the only writer of listings
        stored.id = tx.query_one("SELECT COALESCE(MAX(id), 0) + 1 FROM listings", &[])?.get(0);
        let src = stored.source.as_ref();
        tx.execute(
            "INSERT INTO listings (id, subject_code, list_type, status, provider, reason, objections, document,
                                   persons, first_event, last_event, scope, source_record, source_rule, source_item)
             VALUES ($1, $2, $3, 'noticed', $4, '', '[]', '{}', '[]', $5, $5, $6, $7, $8, $9)",
            &[
                &stored.id,
                &stored.subject,
                &stored.list_type,
                &stored.provider,
                &(idx as i64),
                &stored.scope,
                &src.map(|s| s.record_id),
                &src.map(|s| s.rule.as_str()),
                &src.map(|s| s.item.as_str()),
            ],
        )?;
        stored.first_event = idx;
    } else {
        let current = tx.query_opt("SELECT last_event FROM listings WHERE id = $1", &[&stored.id])?;
        match current.map(|r| r.get::<_, i64>(0)) {
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
    let leaf = frontier.leaf_hash(&payload);
    tx.execute(
        "INSERT INTO events (idx, subject_code, kind, record_id, payload, leaf) VALUES ($1, $2, $3, NULL, $4, $5)",
        &[&(idx as i64), &stored.subject, &kind.as_str(), &payload, &&leaf[..]],
    )?;
    frontier.push(leaf);
    tx.execute(
        "UPDATE listings SET status = $2, provider = $3, basis = $4, reason = $5, notice_date = $6,
             objection_until = $7, objections = $8, decision_date = $9, start_date = $10, end_date = $11,
             removed_date = $12, removal_kind = $13, removal_reason = $14, document = $15, persons = $16,
             decided_event = $17, last_event = $18, source_rule = COALESCE($19, source_rule)
         WHERE id = $1",
        &[
            &stored.id,
            &stored.status.as_str(),
            &stored.provider,
            &stored.basis,
            &stored.reason,
            &d(stored.notice_date),
            &d(stored.objection_until),
            &json(&stored.objections)?,
            &d(stored.decision_date),
            &d(stored.start),
            &d(stored.end),
            &d(stored.removed_date),
            &stored.removal_kind.map(|k| k.as_str()),
            &stored.removal_reason,
            &json(&stored.document)?,
            &json(&stored.persons)?,
            &stored.decided_event.map(|v| v as i64),
            &(idx as i64),
            &stored.source.as_ref().map(|src| src.rule.as_str()),
        ],
    )?;
    Ok(stored)
}

pub(crate) fn listing(conn: &mut PgConn, id: i64) -> Result<Option<Listing>> {
    conn.query_opt(&format!("{LISTING_SELECT} WHERE id = $1"), &[&id])?.map(|r| listing_row(&r)).transpose()
}

pub(crate) fn listings_from_record(conn: &mut PgConn, record_id: i64) -> Result<Vec<Listing>> {
    listings_of_rows(conn.query(&format!("{LISTING_SELECT} WHERE source_record = $1 ORDER BY id"), &[&record_id])?)
}

pub(crate) fn put_listings(
    client: &mut Client,
    steps: &[(Listing, EventKind)],
    p: &Provenance,
    key: &LedgerKey,
    now_ms: i64,
) -> Result<(Vec<Listing>, SignedHead)> {
    let mut tx = client.transaction()?;
    let mut frontier = lock_ledger(&mut tx, key.tree_hash())?;
    let mut stored = Vec::with_capacity(steps.len());
    for (listing, kind) in steps {
        stored.push(listing_step(&mut tx, &mut frontier, listing, *kind, p)?);
    }
    let head = sign_head(&mut tx, &frontier, key, now_ms)?;
    tx.commit()?;
    Ok((stored, head))
}

pub(crate) fn listings_of(conn: &mut PgConn, code: &str) -> Result<Vec<Listing>> {
    listings_of_rows(conn.query(&format!("{LISTING_SELECT} WHERE subject_code = $1 ORDER BY id"), &[&code])?)
}

pub(crate) fn listings(conn: &mut PgConn, f: &ListingFilter) -> Result<Vec<Listing>> {
    let sql = format!(
        "{LISTING_SELECT}
         WHERE id > $1 AND ($2::text IS NULL OR list_type = $2) AND ($3::text IS NULL OR status = $3)
           AND ($4::text IS NULL OR (status IN ('listed', 'removed') AND start_date <= $4
                AND (end_date IS NULL OR end_date > $4)
                AND (removal_kind IS NULL OR (removal_kind <> 'decision_revoked' AND removed_date > $4))))
           AND ($5::text IS NULL OR provider = $5)
           AND (NOT $7 OR source_record IS NULL)
         ORDER BY id LIMIT $6"
    );
    let rows = conn.query(
        &sql,
        &[
            &f.after_id,
            &f.list_type,
            &f.status.map(|s| s.as_str()),
            &f.active_on,
            &f.provider,
            &i64::from(f.limit),
            &f.decided_here,
        ],
    )?;
    listings_of_rows(rows)
}

pub(crate) fn listings_changed_since(conn: &mut PgConn, from: u64) -> Result<Vec<Listing>> {
    let sql = format!("{LISTING_SELECT} WHERE last_event >= $1 ORDER BY last_event");
    listings_of_rows(conn.query(&sql, &[&(from as i64)])?)
}

pub(crate) fn subjects_created_since(conn: &mut PgConn, from: u64, limit: u32) -> Result<Vec<SubjectRow>> {
    // the events table is keyed by index: a range scan, no index on subjects needed
    const SQL: &str = "SELECT s.code, s.kind, s.name, s.former_names, s.legal_rep_name, s.legal_rep_id, s.division,
            s.industry, s.created_event
         FROM events e JOIN subjects s ON s.code = e.subject_code
         WHERE e.idx >= $1 AND e.kind = 'subject.created' ORDER BY e.idx LIMIT $2";
    Ok(conn.query(SQL, &[&(from as i64), &i64::from(limit)])?.iter().map(subject_row).collect())
}

const CHECK_SELECT: &str = "SELECT id, at_ms, account_id, department, matter, purpose, subject_code, as_of, verdict, \
    measures, listings, ledger_size, feedback_ms, feedback_account, applied, not_applied, note FROM checks";

fn check_row(row: &Row) -> Result<CheckRow> {
    let feedback = match row.get::<_, Option<i64>>(12) {
        None => None,
        Some(at_ms) => Some(Feedback {
            at_ms,
            account_id: row.get::<_, Option<i64>>(13).unwrap_or_default(),
            applied: json_col(row, 14)?,
            not_applied: json_col(row, 15)?,
            note: row.get(16),
        }),
    };
    Ok(CheckRow {
        id: row.get(0),
        at_ms: row.get(1),
        account_id: row.get(2),
        department: row.get(3),
        matter: row.get(4),
        purpose: row.get(5),
        subject_code: row.get(6),
        as_of: row.get(7),
        verdict: row.get(8),
        measures: json_col(row, 9)?,
        listings: json_col(row, 10)?,
        ledger_size: row.get::<_, i64>(11) as u64,
        feedback,
    })
}

pub(crate) fn record_checks(conn: &mut PgConn, checks: &[CheckRow]) -> Result<()> {
    const SQL: &str = "INSERT INTO checks (id, at_ms, account_id, department, matter, purpose, subject_code, as_of,
                           verdict, measures, listings, ledger_size)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
    let st = conn.prepare(SQL)?;
    let mut tx = conn.client().transaction()?;
    for c in checks {
        tx.execute(
            &st,
            &[
                &c.id,
                &c.at_ms,
                &c.account_id,
                &c.department,
                &c.matter,
                &c.purpose,
                &c.subject_code,
                &c.as_of,
                &c.verdict,
                &json(&c.measures)?,
                &json(&c.listings)?,
                &(c.ledger_size as i64),
            ],
        )?;
    }
    tx.commit()?;
    Ok(())
}

pub(crate) fn check_entry(conn: &mut PgConn, id: &str) -> Result<Option<CheckRow>> {
    conn.query_opt(&format!("{CHECK_SELECT} WHERE id = $1"), &[&id])?.map(|r| check_row(&r)).transpose()
}

pub(crate) fn record_feedback(conn: &mut PgConn, check_id: &str, f: &Feedback) -> Result<()> {
    let n = conn.execute(
        "UPDATE checks SET feedback_ms = $2, feedback_account = $3, applied = $4, not_applied = $5, note = $6,
             n_applied = $7, n_not_applied = $8
         WHERE id = $1 AND feedback_ms IS NULL",
        &[
            &check_id,
            &f.at_ms,
            &f.account_id,
            &json(&f.applied)?,
            &json(&f.not_applied)?,
            &f.note,
            &(f.applied.len() as i64),
            &(f.not_applied.len() as i64),
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

pub(crate) fn checks_of(conn: &mut PgConn, code: &str, limit: u32) -> Result<Vec<CheckRow>> {
    let sql = format!("{CHECK_SELECT} WHERE subject_code = $1 ORDER BY at_ms DESC, seq DESC LIMIT $2");
    conn.query(&sql, &[&code, &i64::from(limit)])?.iter().map(check_row).collect()
}

pub(crate) fn check_stats(conn: &mut PgConn, department: Option<&str>) -> Result<Vec<DepartmentStats>> {
    const SQL: &str = "SELECT department, COUNT(*), COUNT(*) FILTER (WHERE verdict <> 'clear'), COUNT(feedback_ms),
                COALESCE(SUM(n_applied), 0)::bigint, COALESCE(SUM(n_not_applied), 0)::bigint
         FROM checks WHERE $1::text IS NULL OR department = $1 GROUP BY department ORDER BY department";
    Ok(conn
        .query(SQL, &[&department])?
        .iter()
        .map(|row| DepartmentStats {
            department: row.get(0),
            checks: row.get::<_, i64>(1) as u64,
            non_clear: row.get::<_, i64>(2) as u64,
            with_feedback: row.get::<_, i64>(3) as u64,
            measures_applied: row.get::<_, i64>(4) as u64,
            measures_not_applied: row.get::<_, i64>(5) as u64,
        })
        .collect())
}
