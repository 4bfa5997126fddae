//! The grading scan on PostgreSQL: keyset pages in id order (a page at a time in
//! memory), each row lent to the sink.

use std::collections::BTreeMap;

use postgres::types::ToSql;

use crate::Result;
use crate::grading::{GradingListing, GradingPart, GradingRecord, GradingSink};
use crate::postgres::PgConn;

const PAGE: i64 = 50_000;

pub(crate) fn scan(
    conn: &mut PgConn,
    facets: &BTreeMap<String, String>,
    part: GradingPart,
    sink: &mut dyn GradingSink,
) -> Result<()> {
    if part.subjects() {
        rest(conn, sink)?;
    }
    if let Some((after, upto)) = part.records() {
        records(conn, facets, after, upto, sink)?;
    }
    Ok(())
}

/// Subjects, decided list entries, commitments.
fn rest(conn: &mut PgConn, sink: &mut dyn GradingSink) -> Result<()> {
    let mut after = String::new();
    loop {
        let rows = conn.query(
            "SELECT code, kind, industry, division FROM subjects WHERE code > $1 ORDER BY code LIMIT $2",
            &[&after, &PAGE],
        )?;
        for r in &rows {
            sink.subject(r.get(0), r.get(1), r.get(2), r.get(3));
        }
        match rows.last() {
            Some(r) if rows.len() as i64 == PAGE => after = r.get(0),
            _ => break,
        }
    }

    let rows = conn.query(
        "SELECT id, subject_code, list_type, start_date, end_date, removed_date, removal_kind FROM listings
         WHERE status IN ('listed', 'removed') AND start_date IS NOT NULL ORDER BY id",
        &[],
    )?;
    for r in &rows {
        sink.listing(GradingListing {
            id: r.get(0),
            subject: r.get(1),
            list_type: r.get(2),
            start_date: r.get(3),
            end_date: r.get(4),
            removed_date: r.get(5),
            removal_kind: r.get(6),
        });
    }
    let rows =
        conn.query("SELECT subject_code, state, doc::jsonb ->> 'matter' FROM commitments ORDER BY record_id", &[])?;
    for r in &rows {
        sink.commitment(r.get(0), r.get(1), r.get(2));
    }
    Ok(())
}

fn records(
    conn: &mut PgConn,
    facets: &BTreeMap<String, String>,
    after: i64,
    upto: i64,
    sink: &mut dyn GradingSink,
) -> Result<()> {
    // the facet: one field of the record's content, read in PostgreSQL from its event
    let facet_items: Vec<&String> = facets.keys().collect();
    let mut params: Vec<Box<dyn ToSql + Sync>> = Vec::new();
    let mut case = String::from("NULL::text");
    if !facets.is_empty() {
        case = String::from("CASE r.item");
        for (item, field) in facets {
            params.push(Box::new(item.clone()));
            params.push(Box::new(vec!["fields".to_string(), field.clone()]));
            case.push_str(&format!(
                " WHEN ${} THEN convert_from(e.payload, 'UTF8')::jsonb #>> ${}::text[]",
                params.len() - 1,
                params.len()
            ));
        }
        case.push_str(" END");
    }
    let join = if facet_items.is_empty() {
        String::new()
    } else {
        let items: Vec<String> = (1..=facet_items.len()).map(|i| format!("${}", 2 * i - 1)).collect();
        format!("LEFT JOIN events e ON e.idx = r.event_idx AND r.item IN ({})", items.join(", "))
    };
    let (after_at, upto_at, limit_at) = (params.len() + 1, params.len() + 2, params.len() + 3);
    let sql = format!(
        "SELECT r.id, r.subject_code, r.item, r.provider, r.tier, r.decision_date, {case}
         FROM records r {join}
         WHERE r.status <> 'revoked' AND r.repaired_event IS NULL AND r.id > ${after_at} AND r.id <= ${upto_at}
         ORDER BY r.id LIMIT ${limit_at}"
    );
    let mut after = after;
    loop {
        let mut args: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)).collect();
        args.push(&after);
        args.push(&upto);
        args.push(&PAGE);
        let rows = conn.query(&sql, &args)?;
        for r in &rows {
            sink.record(GradingRecord {
                id: r.get(0),
                subject: r.get(1),
                item: r.get(2),
                provider: r.get(3),
                tier: r.get(4),
                decision_date: r.get(5),
                facet: r.get(6),
            });
        }
        match rows.last() {
            Some(r) if rows.len() as i64 == PAGE => after = r.get(0),
            _ => break,
        }
    }

    Ok(())
}
