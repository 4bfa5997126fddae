//! Group commit for answered checks: handlers hand their rows to one writer thread,
//! which writes whatever has queued up in one transaction and then releases every
//! waiting request. At tens of thousands of checks a second this is one durable commit
//! every few milliseconds instead of one per check, and no answer leaves unrecorded.

use std::sync::Weak;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use tokio::sync::oneshot;
use xinyong_store::CheckRow;

use crate::{ApiError, AppState};

type Job = (Vec<CheckRow>, oneshot::Sender<Result<(), String>>);

/// Most rows written in one transaction.
const MAX_BATCH: usize = 8192;

pub struct CheckLog {
    tx: SyncSender<Job>,
}

impl CheckLog {
    /// Starts the writer; it stops when the state is dropped.
    pub fn spawn(state: Weak<AppState>) -> CheckLog {
        let (tx, rx) = sync_channel::<Job>(65_536);
        let spawned = std::thread::Builder::new().name("check-log".into()).spawn(move || writer(state, rx));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the check log writer");
        }
        CheckLog { tx }
    }

    /// Records the rows; returns once they are committed.
    pub async fn record(&self, rows: Vec<CheckRow>) -> Result<(), ApiError> {
        if rows.is_empty() {
            return Ok(());
        }
        let (done, wait) = oneshot::channel();
        match self.tx.try_send((rows, done)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                return Err(ApiError::new(
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    "overloaded",
                    "核查记录写入繁忙，请重试 / check log is busy, retry",
                ));
            }
            Err(TrySendError::Disconnected(_)) => return Err(ApiError::internal("check log writer stopped")),
        }
        match wait.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(ApiError::internal(format!("check log: {e}"))),
            Err(_) => Err(ApiError::internal("check log writer stopped")),
        }
    }
}

fn writer(state: Weak<AppState>, rx: Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        let mut rows: usize = jobs[0].0.len();
        while rows < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => {
                    rows += j.0.len();
                    jobs.push(j);
                }
                Err(_) => break,
            }
        }
        let Some(state) = state.upgrade() else { return };
        let batch: Vec<CheckRow> = jobs.iter_mut().flat_map(|(r, _)| std::mem::take(r)).collect();
        let result = state.lock().store.record_checks(&batch).map_err(|e| e.to_string());
        for (_, done) in jobs {
            let _ = done.send(result.clone());
        }
        // upkeep after the answers left, while the next batch gathers
        if let Err(e) = state.lock().store.maintain(xinyong_app::now_ms()) {
            tracing::warn!(error = %e, "check log upkeep failed");
        }
        drop(state);
    }
}
