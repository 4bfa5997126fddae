//! The grading scan on SQLite: four statements read in rowid order, each row lent to
//! the sink from the statement's own buffers.

use std::collections::BTreeMap;

use rusqlite::Connection;
use rusqlite::types::ValueRef;

use crate::Result;
use crate::grading::{GradingListing, GradingPart, GradingRecord, GradingSink, facet_paths};

fn text<'a>(v: ValueRef<'a>) -> Option<&'a str> {
    match v {
        ValueRef::Text(t) => std::str::from_utf8(t).ok(),
        _ => None,
    }
}

pub(crate) fn scan(
    conn: &Connection,
    facets: &BTreeMap<String, String>,
    part: GradingPart,
    sink: &mut dyn GradingSink,
) -> Result<()> {
    // a scan reads every page once: a large page cache would only hold memory (three
    // scans run at once beside the server's indexes)
    conn.execute_batch("PRAGMA cache_size=-4096")?;
    if part.subjects() {
        rest(conn, sink)?;
    }
    if let Some((after, upto)) = part.records() {
        records(conn, facets, after, upto, sink)?;
    }
    Ok(())
}

fn records(
    conn: &Connection,
    facets: &BTreeMap<String, String>,
    after: i64,
    upto: i64,
    sink: &mut dyn GradingSink,
) -> Result<()> {
    // the facet: one field of the record's content, read in SQLite from its event
    let paths = facet_paths(facets);
    let mut case = String::from("NULL");
    let mut params: Vec<String> = Vec::new();
    if !paths.is_empty() {
        case = String::from("CASE r.item");
        for (item, path) in &paths {
            params.push(item.clone());
            params.push(path.clone());
            case.push_str(&format!(
                " WHEN ?{} THEN json_extract(event_json(e.payload), ?{})",
                params.len() - 1,
                params.len()
            ));
        }
        case.push_str(" END");
    }
    let items: Vec<String> = (1..=paths.len()).map(|i| format!("?{}", 2 * i - 1)).collect();
    let join = if paths.is_empty() {
        String::new()
    } else {
        format!("LEFT JOIN events e ON e.idx = r.event_idx AND r.item IN ({})", items.join(", "))
    };
    let (a, b) = (params.len() + 1, params.len() + 2);
    let sql = format!(
        "SELECT r.id, r.subject_code, r.item, r.provider, r.tier, r.decision_date, {case}
         FROM records r {join}
         WHERE r.status <> 'revoked' AND r.repaired_event IS NULL AND r.id > ?{a} AND r.id <= ?{b}"
    );
    let mut st = conn.prepare(&sql)?;
    let mut values: Vec<rusqlite::types::Value> = params.into_iter().map(rusqlite::types::Value::Text).collect();
    values.push(rusqlite::types::Value::Integer(after));
    values.push(rusqlite::types::Value::Integer(upto));
    let mut rows = st.query(rusqlite::params_from_iter(values.iter()))?;
    while let Some(r) = rows.next()? {
        let (Some(subject), Some(item), Some(provider)) =
            (text(r.get_ref(1)?), text(r.get_ref(2)?), text(r.get_ref(3)?))
        else {
            continue;
        };
        // a number in the JSON (never in canonical payloads, which hold text) reads as none
        sink.record(GradingRecord {
            id: r.get(0)?,
            subject,
            item,
            provider,
            tier: text(r.get_ref(4)?),
            decision_date: text(r.get_ref(5)?),
            facet: text(r.get_ref(6)?),
        });
    }

    Ok(())
}

/// Subjects, decided list entries, commitments.
fn rest(conn: &Connection, sink: &mut dyn GradingSink) -> Result<()> {
    let mut st = conn.prepare("SELECT code, kind, industry, division FROM subjects")?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        if let (Some(code), Some(kind)) = (text(r.get_ref(0)?), text(r.get_ref(1)?)) {
            sink.subject(code, kind, text(r.get_ref(2)?), text(r.get_ref(3)?));
        }
    }

    let mut st = conn.prepare(
        "SELECT id, subject_code, list_type, start_date, end_date, removed_date, removal_kind FROM listings
         WHERE status IN ('listed', 'removed') AND start_date IS NOT NULL",
    )?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let (Some(subject), Some(list_type)) = (text(r.get_ref(1)?), text(r.get_ref(2)?)) else { continue };
        sink.listing(GradingListing {
            id: r.get(0)?,
            subject,
            list_type,
            start_date: text(r.get_ref(3)?),
            end_date: text(r.get_ref(4)?),
            removed_date: text(r.get_ref(5)?),
            removal_kind: text(r.get_ref(6)?),
        });
    }

    let mut st = conn.prepare("SELECT subject_code, state, json_extract(doc, '$.matter') FROM commitments")?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        if let (Some(subject), Some(state)) = (text(r.get_ref(0)?), text(r.get_ref(1)?)) {
            sink.commitment(subject, state, text(r.get_ref(2)?));
        }
    }
    Ok(())
}
