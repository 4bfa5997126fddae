//! Group commit for what is logged but not ledgered: answered checks and reads of
//! non-public data. Callers hand their rows to one writer thread with its own
//! connection, which writes whatever has queued up in one transaction and then
//! releases every waiting caller. At tens of thousands of checks a second this is one
//! durable commit every few milliseconds instead of one per check; no answer leaves
//! unrecorded; and neither waits for the ledger's appender.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use tokio::sync::oneshot;
use xinyong_store::{AccessEntry, CheckRow, Store};

use crate::{AppError, Result};

enum Rows {
    Checks(Vec<CheckRow>),
    Access(AccessEntry),
}

impl Rows {
    fn len(&self) -> usize {
        match self {
            Rows::Checks(r) => r.len(),
            Rows::Access(_) => 1,
        }
    }
}

type Job = (Rows, oneshot::Sender<std::result::Result<(), String>>);

/// Most check rows written in one transaction.
const MAX_BATCH: usize = 8192;

pub(crate) struct SideLog {
    tx: SyncSender<Job>,
}

/// A write handed to the log, to wait for.
pub(crate) struct Pending(oneshot::Receiver<std::result::Result<(), String>>);

impl Pending {
    /// Waits on the async executor.
    pub(crate) async fn committed(self) -> Result<()> {
        match self.0.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(AppError::Internal(format!("log write: {e}"))),
            Err(_) => Err(AppError::Internal("the log writer stopped".into())),
        }
    }

    /// Waits on a blocking thread.
    pub(crate) fn wait(self) -> Result<()> {
        match self.0.blocking_recv() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(AppError::Internal(format!("log write: {e}"))),
            Err(_) => Err(AppError::Internal("the log writer stopped".into())),
        }
    }
}

impl SideLog {
    /// Starts the writer on `store` (a connection of its own); it stops with the app.
    pub(crate) fn spawn(store: Box<dyn Store>) -> SideLog {
        let (tx, rx) = sync_channel::<Job>(65_536);
        let spawned = std::thread::Builder::new().name("side-log".into()).spawn(move || writer(store, rx));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the log writer");
        }
        SideLog { tx }
    }

    fn send(&self, rows: Rows) -> Result<Pending> {
        let (done, wait) = oneshot::channel();
        match self.tx.try_send((rows, done)) {
            Ok(()) => Ok(Pending(wait)),
            Err(TrySendError::Full(_)) => Err(AppError::Busy {
                zh: "核查记录写入繁忙，请重试".into(),
                en: "the check log is busy, retry".into(),
            }),
            Err(TrySendError::Disconnected(_)) => Err(AppError::Internal("the log writer stopped".into())),
        }
    }

    pub(crate) fn checks(&self, rows: Vec<CheckRow>) -> Result<Pending> {
        self.send(Rows::Checks(rows))
    }

    pub(crate) fn access(&self, entry: AccessEntry) -> Result<Pending> {
        self.send(Rows::Access(entry))
    }
}

fn writer(mut store: Box<dyn Store>, rx: Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut rows = first.0.len();
        let mut jobs = vec![first];
        while rows < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => {
                    rows += j.0.len();
                    jobs.push(j);
                }
                Err(_) => break,
            }
        }
        let mut checks = Vec::new();
        let mut access = Vec::new();
        let mut waiting = Vec::with_capacity(jobs.len());
        for (rows, done) in jobs {
            match rows {
                Rows::Checks(mut r) => checks.append(&mut r),
                Rows::Access(e) => access.push(e),
            }
            waiting.push(done);
        }
        let mut result = if checks.is_empty() { Ok(()) } else { store.record_checks(&checks) };
        for e in &access {
            if result.is_ok() {
                result = store.log_access(e);
            }
        }
        let result = result.map_err(|e| e.to_string());
        for done in waiting {
            let _ = done.send(result.clone());
        }
        // upkeep after the answers left, while the next batch gathers
        if let Err(e) = store.maintain(crate::now_ms()) {
            tracing::warn!(error = %e, "check log upkeep failed");
        }
    }
}
