//! Copies a whole store to another back end, table by table and row by row, so that
//! event payloads, leaves, signed heads, the frontier and every id arrive unchanged
//! and the target's ledger verifies against the same key. Both schemas use the same
//! table and column names (the PostgreSQL migrations mirror the SQLite ones).

use std::borrow::Cow;
use std::error::Error;

use bytes::BytesMut;
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use rusqlite::types::{ToSqlOutput, ValueRef};
use serde::Serialize;

use crate::{PgConn, PgStore, Result, SqliteStore, Store, StoreError};

/// A table to copy: its name, the single-column key it is paged by, and its columns.
pub struct Table {
    pub name: &'static str,
    pub key: &'static str,
    pub columns: &'static [&'static str],
}

/// Every table of the schema, parents before children. A store holding a table not
/// listed here is refused: a migration must never drop data silently.
pub const TABLES: &[Table] = &[
    Table { name: "meta", key: "k", columns: &["k", "v"] },
    Table {
        name: "subjects",
        key: "code",
        columns: &[
            "code",
            "kind",
            "name",
            "former_names",
            "legal_rep_name",
            "legal_rep_id",
            "division",
            "industry",
            "created_event",
        ],
    },
    Table {
        name: "records",
        key: "id",
        columns: &[
            "id",
            "subject_code",
            "provider",
            "item",
            "record_key",
            "fingerprint",
            "status",
            "decision_date",
            "tier",
            "event_idx",
            "revoked_event",
            "repaired_event",
        ],
    },
    Table { name: "events", key: "idx", columns: &["idx", "subject_code", "kind", "record_id", "payload", "leaf"] },
    Table { name: "tree_heads", key: "size", columns: &["size", "root", "timestamp_ms", "checkpoint"] },
    Table {
        name: "quarantine",
        key: "id",
        columns: &[
            "id",
            "subject_code",
            "provider",
            "item",
            "batch",
            "source",
            "row_no",
            "raw",
            "raw_hash",
            "errors",
            "status",
            "created_ms",
            "resolved_ms",
            "resolved_record",
        ],
    },
    Table {
        name: "intake_batches",
        key: "batch",
        columns: &[
            "batch",
            "provider",
            "item",
            "source",
            "received_ms",
            "rows_received",
            "accepted",
            "corrected",
            "duplicates",
            "quarantined",
            "quarantined_known",
            "wrong_code",
            "refused",
            "decided",
        ],
    },
    Table {
        name: "accounts",
        key: "id",
        columns: &[
            "id",
            "username",
            "display_name",
            "role",
            "provider",
            "password_hash",
            "created_ms",
            "disabled",
            "subject_code",
        ],
    },
    Table { name: "api_tokens", key: "token_hash", columns: &["token_hash", "account_id", "label", "created_ms"] },
    Table {
        name: "sessions",
        key: "session_hash",
        columns: &["session_hash", "account_id", "csrf", "created_ms", "expires_ms"],
    },
    Table {
        name: "listings",
        key: "id",
        columns: &[
            "id",
            "subject_code",
            "list_type",
            "status",
            "provider",
            "basis",
            "reason",
            "notice_date",
            "objection_until",
            "objections",
            "decision_date",
            "start_date",
            "end_date",
            "removed_date",
            "removal_kind",
            "removal_reason",
            "document",
            "persons",
            "first_event",
            "decided_event",
            "last_event",
            "scope",
            "source_record",
            "source_rule",
            "source_item",
        ],
    },
    Table { name: "cursors", key: "name", columns: &["name", "position"] },
    Table {
        name: "checks",
        key: "seq",
        columns: &[
            "seq",
            "id",
            "at_ms",
            "account_id",
            "department",
            "matter",
            "purpose",
            "subject_code",
            "as_of",
            "verdict",
            "measures",
            "listings",
            "ledger_size",
            "feedback_ms",
            "feedback_account",
            "applied",
            "not_applied",
            "n_applied",
            "n_not_applied",
            "note",
        ],
    },
    Table {
        name: "access_log",
        key: "id",
        columns: &["id", "subject_code", "account_id", "actor", "provider", "purpose", "what", "at_ms"],
    },
    Table {
        name: "cases",
        key: "id",
        columns: &[
            "id",
            "subject_code",
            "kind",
            "state",
            "department",
            "target_kind",
            "target_id",
            "due_date",
            "query_hash",
            "doc",
            "first_event",
            "last_event",
        ],
    },
    Table {
        name: "notifications",
        key: "id",
        columns: &[
            "id",
            "recipient_kind",
            "recipient",
            "subject_code",
            "topic",
            "text_zh",
            "text_en",
            "event_idx",
            "created_ms",
            "state",
            "attempts",
            "next_attempt_ms",
            "last_error",
            "read_ms",
        ],
    },
    Table {
        name: "webhooks",
        key: "id",
        columns: &["id", "recipient_kind", "recipient", "url", "secret", "created_ms"],
    },
    Table { name: "subject_identifiers", key: "id", columns: &["id", "scheme", "value", "subject_code", "record_id"] },
    Table {
        name: "evidence",
        key: "sha256",
        columns: &["sha256", "media_type", "size", "content", "stored_ms", "uploaded_by"],
    },
    Table {
        name: "commitments",
        key: "record_id",
        columns: &[
            "record_id",
            "subject_code",
            "department",
            "state",
            "due_date",
            "breach_record",
            "doc",
            "first_event",
            "last_event",
        ],
    },
    Table { name: "inspection_plans", key: "id", columns: &["id", "department", "doc", "first_event", "last_event"] },
    Table { name: "exchange_docs", key: "id", columns: &["id", "kind", "subject", "body", "event"] },
];

/// Bookkeeping tables of each back end, not data, and derived indexes a back end keeps
/// as tables (SQLite's per-subject check index, which it catches up by itself from
/// `meta`'s `check_subjects_to`): not copied.
const NOT_DATA: &[&str] = &["xinyong_migrations", "sqlite_sequence", "sqlite_stat1", "sqlite_stat4", "check_subjects"];

/// `meta` keys that are a back end's own bookkeeping of derived state: the target keeps
/// its own (a fresh SQLite target indexes every copied check on its next catch-up).
const META_NOT_DATA: &[&str] = &["check_subjects_to", "check_subjects_ms"];

/// One column value, as both back ends store it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, Box<dyn Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => i.to_sql(ty, out),
            Value::Text(s) => s.to_sql(ty, out),
            Value::Bytes(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::INT8 | Type::TEXT | Type::BYTEA)
    }

    to_sql_checked!();
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

/// Either back end, opened for copying.
pub enum Endpoint {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// Rows per page read and written.
const PAGE: u32 = 5_000;
/// Rows per page of evidence files (up to 10 MiB each): a page stays in memory.
const EVIDENCE_PAGE: u32 = 8;

/// Rows per page of table `t`.
fn page_rows(t: &Table) -> u32 {
    if t.name == "evidence" { EVIDENCE_PAGE } else { PAGE }
}

#[derive(Debug, Clone, Serialize)]
pub struct TableCount {
    pub table: &'static str,
    pub rows: u64,
}

impl Endpoint {
    pub fn store(&self) -> &dyn Store {
        match self {
            Endpoint::Sqlite(s) => s,
            Endpoint::Postgres(s) => s,
        }
    }

    /// A reader of the store. With `snapshot`, every read sees the store as it was at
    /// the first one (a read transaction), so a store written meanwhile copies consistently.
    fn reader(&self, snapshot: bool) -> Result<Reader<'_>> {
        match self {
            Endpoint::Sqlite(s) => {
                if snapshot {
                    s.connection().execute_batch("BEGIN")?;
                }
                Ok(Reader::Sqlite(s.connection(), snapshot))
            }
            Endpoint::Postgres(s) => {
                let mut c = s.client()?;
                if snapshot {
                    c.client().batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
                }
                Ok(Reader::Postgres(Box::new(c), snapshot))
            }
        }
    }

    fn count(&self, t: &Table) -> Result<u64> {
        self.reader(false)?.count(t)
    }
}

/// A connection reading the source (see [`Endpoint::reader`]).
enum Reader<'a> {
    Sqlite(&'a rusqlite::Connection, bool),
    Postgres(Box<dyn std::ops::DerefMut<Target = PgConn> + 'a>, bool),
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        // a read-only transaction: ending it changes nothing
        match self {
            Reader::Sqlite(c, true) => {
                let _ = c.execute_batch("ROLLBACK");
            }
            Reader::Postgres(c, true) => {
                let _ = c.client().batch_execute("ROLLBACK");
            }
            _ => {}
        }
    }
}

impl Reader<'_> {
    /// The data tables present in the store.
    fn table_names(&mut self) -> Result<Vec<String>> {
        let names = match self {
            Reader::Sqlite(c, _) => {
                let mut st = c.prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?;
                st.query_map([], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?
            }
            Reader::Postgres(c, _) => c
                .client()
                .query(
                    "SELECT table_name::text FROM information_schema.tables
                     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
                    &[],
                )?
                .iter()
                .map(|r| r.get::<_, String>(0))
                .collect(),
        };
        Ok(names.into_iter().filter(|n| !NOT_DATA.contains(&n.as_str())).collect())
    }

    fn count(&mut self, t: &Table) -> Result<u64> {
        let mut sql = format!("SELECT COUNT(*) FROM {}", t.name);
        if t.name == "meta" {
            let keys: Vec<String> = META_NOT_DATA.iter().map(|k| format!("'{k}'")).collect();
            sql.push_str(&format!(" WHERE k NOT IN ({})", keys.join(", ")));
        }
        Ok(match self {
            Reader::Sqlite(c, _) => c.query_row(&sql, [], |r| r.get::<_, i64>(0))? as u64,
            Reader::Postgres(c, _) => c.client().query_one(&sql, &[])?.get::<_, i64>(0) as u64,
        })
    }

    /// Up to [`page_rows`] rows with key after `after`, in key order.
    fn page(&mut self, t: &Table, after: Option<&Value>) -> Result<Vec<Vec<Value>>> {
        let cols = t.columns.join(", ");
        let mut conditions = Vec::new();
        if after.is_some() {
            conditions.push(format!("{} > $1", t.key));
        }
        if t.name == "meta" {
            conditions.extend(META_NOT_DATA.iter().map(|k| format!("k <> '{k}'")));
        }
        let filter = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
        let sql = format!("SELECT {cols} FROM {} {filter} ORDER BY {} LIMIT {}", t.name, t.key, page_rows(t));
        match self {
            Reader::Sqlite(c, _) => {
                let sql = sql.replace("$1", "?1");
                let mut st = c.prepare(&sql)?;
                let params: Vec<&dyn rusqlite::ToSql> = after.iter().map(|v| *v as &dyn rusqlite::ToSql).collect();
                let rows = st.query_map(params.as_slice(), |row| {
                    (0..t.columns.len())
                        .map(|i| {
                            Ok(match row.get_ref(i)? {
                                ValueRef::Null => Value::Null,
                                ValueRef::Integer(n) => Value::Int(n),
                                ValueRef::Text(b) => Value::Text(String::from_utf8_lossy(b).into_owned()),
                                ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
                                ValueRef::Real(_) => {
                                    return Err(rusqlite::Error::InvalidColumnType(
                                        i,
                                        t.columns[i].to_string(),
                                        rusqlite::types::Type::Real,
                                    ));
                                }
                            })
                        })
                        .collect::<rusqlite::Result<Vec<Value>>>()
                })?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            }
            Reader::Postgres(c, _) => {
                let params: Vec<&(dyn ToSql + Sync)> = after.iter().map(|v| *v as &(dyn ToSql + Sync)).collect();
                let rows = c.client().query(&sql, &params)?;
                rows.iter()
                    .map(|row| {
                        (0..t.columns.len())
                            .map(|i| {
                                let ty = row.columns()[i].type_();
                                Ok(if *ty == Type::INT8 {
                                    row.try_get::<_, Option<i64>>(i)?.map_or(Value::Null, Value::Int)
                                } else if *ty == Type::TEXT {
                                    row.try_get::<_, Option<String>>(i)?.map_or(Value::Null, Value::Text)
                                } else if *ty == Type::BYTEA {
                                    row.try_get::<_, Option<Vec<u8>>>(i)?.map_or(Value::Null, Value::Bytes)
                                } else {
                                    return Err(StoreError::Corrupt(format!(
                                        "{}.{} has type {ty}, not bigint, text or bytea",
                                        t.name, t.columns[i]
                                    )));
                                })
                            })
                            .collect::<Result<Vec<Value>>>()
                    })
                    .collect()
            }
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CopyReport {
    pub tables: Vec<TableCount>,
}

/// Copies every table of `src`, as it is when the copy starts (one read snapshot), into
/// the empty store `dst`, in one transaction on the target: a copy that fails leaves
/// the target as empty as it was.
pub fn copy(src: &Endpoint, dst: &mut Endpoint, progress: &mut dyn FnMut(&str, u64)) -> Result<CopyReport> {
    let mut reader = src.reader(true)?;
    for name in reader.table_names()? {
        if !TABLES.iter().any(|t| t.name == name) {
            return Err(StoreError::Conflict(format!(
                "the source has a table '{name}' this version cannot copy: upgrade xinyong first"
            )));
        }
    }
    for t in TABLES {
        if dst.count(t)? != 0 {
            return Err(StoreError::Conflict(format!("the target is not empty: table {} has rows", t.name)));
        }
    }
    let mut report = CopyReport { tables: Vec::new() };
    match dst {
        Endpoint::Sqlite(d) => {
            let conn = d.connection();
            conn.execute_batch("BEGIN IMMEDIATE")?;
            let result = (|| -> Result<()> {
                for t in TABLES {
                    let marks: Vec<String> = (1..=t.columns.len()).map(|i| format!("?{i}")).collect();
                    let sql =
                        format!("INSERT INTO {} ({}) VALUES ({})", t.name, t.columns.join(", "), marks.join(", "));
                    let mut n = 0;
                    each_page(&mut reader, t, &mut |rows| {
                        let rows: &[Vec<Value>] = &as_target_stores(t, rows, true)?;
                        let mut st = conn.prepare_cached(&sql)?;
                        for row in rows {
                            st.execute(rusqlite::params_from_iter(row.iter()))?;
                        }
                        n += rows.len() as u64;
                        progress(t.name, n);
                        Ok(())
                    })?;
                    report.tables.push(TableCount { table: t.name, rows: n });
                }
                Ok(())
            })();
            match result {
                Ok(()) => conn.execute_batch("COMMIT")?,
                Err(e) => {
                    let _ = conn.execute_batch("ROLLBACK");
                    return Err(e);
                }
            }
        }
        Endpoint::Postgres(d) => {
            let mut conn = d.client()?;
            let mut tx = conn.client().transaction()?;
            for t in TABLES {
                let types: Vec<Type> =
                    t.columns.iter().map(|c| column_type(&mut tx, t.name, c)).collect::<Result<Vec<Type>>>()?;
                let mut n = 0;
                each_page(&mut reader, t, &mut |rows| {
                    let rows: &[Vec<Value>] = &as_target_stores(t, rows, false)?;
                    let sink = tx.copy_in(&format!("COPY {} ({}) FROM STDIN BINARY", t.name, t.columns.join(", ")))?;
                    let mut w = postgres::binary_copy::BinaryCopyInWriter::new(sink, &types);
                    for row in rows {
                        let values: Vec<&(dyn ToSql + Sync)> = row.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
                        w.write(&values)?;
                    }
                    w.finish()?;
                    n += rows.len() as u64;
                    progress(t.name, n);
                    Ok(())
                })?;
                report.tables.push(TableCount { table: t.name, rows: n });
            }
            // identity columns continue after the copied ids
            for (table, column) in [
                ("quarantine", "id"),
                ("accounts", "id"),
                ("access_log", "id"),
                ("checks", "seq"),
                ("notifications", "id"),
                ("webhooks", "id"),
                ("subject_identifiers", "id"),
            ] {
                tx.execute(
                    &format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), COALESCE(MAX({column}), 0) + 1, false)
                         FROM {table}"
                    ),
                    &[],
                )?;
            }
            tx.commit()?;
        }
    }
    for (t, c) in TABLES.iter().zip(&report.tables) {
        let (s, d) = (reader.count(t)?, dst.count(t)?);
        if s != c.rows || d != c.rows {
            return Err(StoreError::Corrupt(format!(
                "table {}: source has {s} rows, copied {}, target has {d}",
                t.name, c.rows
            )));
        }
    }
    Ok(report)
}

/// A page of rows as the target stores them: event payloads compressed for SQLite and
/// plain for PostgreSQL (whose grading reads them as JSON); the canonical bytes, and so
/// the leaves, are the same either way.
fn as_target_stores<'r>(t: &Table, rows: &'r [Vec<Value>], compressed: bool) -> Result<Cow<'r, [Vec<Value>]>> {
    let Some(at) = (t.name == "events").then(|| t.columns.iter().position(|c| *c == "payload")).flatten() else {
        return Ok(Cow::Borrowed(rows));
    };
    let mut out = rows.to_vec();
    for row in &mut out {
        if let Value::Bytes(stored) = &row[at] {
            let canonical = crate::codec::unpack(stored)?;
            let bytes = if compressed { crate::codec::pack(&canonical).into_owned() } else { canonical.into_owned() };
            row[at] = Value::Bytes(bytes);
        }
    }
    Ok(Cow::Owned(out))
}

fn each_page(src: &mut Reader<'_>, t: &Table, f: &mut dyn FnMut(&[Vec<Value>]) -> Result<()>) -> Result<()> {
    let key_at = t.columns.iter().position(|c| *c == t.key).unwrap_or(0);
    let mut after: Option<Value> = None;
    loop {
        let rows = src.page(t, after.as_ref())?;
        let Some(last) = rows.last() else { return Ok(()) };
        after = Some(last[key_at].clone());
        f(&rows)?;
        if rows.len() < page_rows(t) as usize {
            return Ok(());
        }
    }
}

fn column_type(tx: &mut postgres::Transaction<'_>, table: &str, column: &str) -> Result<Type> {
    let row = tx.query_opt(
        "SELECT data_type::text FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2",
        &[&table, &column],
    )?;
    match row.map(|r| r.get::<_, String>(0)).as_deref() {
        Some("bigint") => Ok(Type::INT8),
        Some("text") => Ok(Type::TEXT),
        Some("bytea") => Ok(Type::BYTEA),
        other => Err(StoreError::Corrupt(format!("column {table}.{column} in the target: {other:?}"))),
    }
}
