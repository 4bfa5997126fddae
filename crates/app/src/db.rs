//! The store as the use cases see it: one appender for writes (the ledger needs one),
//! and a pool of reader connections that run beside it and beside each other
//! (SQLite in WAL mode: readers never wait for the writer; PostgreSQL: its pool).

use std::sync::{Mutex, MutexGuard};

use xinyong_store::Store;

use crate::Result;

/// Idle reader connections kept for reuse; more are opened under load and closed after.
const IDLE_READERS: usize = 32;

pub(crate) struct Db {
    writer: Mutex<Box<dyn Store>>,
    /// Opens more connections (held apart from the writer so opening never waits for a write).
    seed: Mutex<Box<dyn Store>>,
    idle: Mutex<Vec<Box<dyn Store>>>,
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // a panic in another request must not take the store down with it
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs `f` in one read transaction on `conn` (one snapshot, and one lock instead of one
/// per statement): what `f` returned, and how the transaction ended.
fn in_read<T>(conn: &dyn Store, f: impl FnOnce(&dyn Store) -> Result<T>) -> Result<(Result<T>, Result<()>)> {
    conn.begin_read()?;
    let out = f(conn);
    Ok((out, conn.end_read().map_err(Into::into)))
}

impl Db {
    pub(crate) fn new(writer: Box<dyn Store>) -> Result<Db> {
        let seed = writer.connect()?;
        Ok(Db { writer: Mutex::new(writer), seed: Mutex::new(seed), idle: Mutex::new(Vec::new()) })
    }

    /// A new connection to the same database (for a writer of its own).
    pub(crate) fn connect(&self) -> Result<Box<dyn Store>> {
        Ok(locked(&self.seed).connect()?)
    }

    /// Runs `f` on a reader connection. Blocking: call from a blocking thread.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&dyn Store) -> Result<T>) -> Result<T> {
        let conn = match locked(&self.idle).pop() {
            Some(c) => c,
            None => locked(&self.seed).connect_reader()?,
        };
        let (out, ended) = in_read(conn.as_ref(), f)?;
        if ended.is_ok() {
            let mut idle = locked(&self.idle);
            if idle.len() < IDLE_READERS {
                idle.push(conn);
            }
        }
        let out = out?;
        ended?;
        Ok(out)
    }

    /// Runs `f` on a connection of its own, closed afterwards: a scan of the whole store
    /// (loading an index, grading every subject) fills a connection's page cache
    /// (64 MiB with SQLite), which a pooled reader would then keep while idle.
    pub(crate) fn scan<T>(&self, f: impl FnOnce(&dyn Store) -> Result<T>) -> Result<T> {
        let conn = self.connect()?;
        let (out, ended) = in_read(conn.as_ref(), f)?;
        let out = out?;
        ended?;
        Ok(out)
    }

    /// The appender itself, for tests that arrange stored state directly.
    #[cfg(test)]
    pub(crate) fn raw(&self) -> MutexGuard<'_, Box<dyn Store>> {
        locked(&self.writer)
    }

    /// Runs `f` holding the one appender. Blocking: call from a blocking thread.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&mut dyn Store) -> Result<T>) -> Result<T> {
        let mut w = locked(&self.writer);
        f(w.as_mut())
    }
}
