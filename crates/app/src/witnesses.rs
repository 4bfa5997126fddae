//! Witnesses (C2SP `tlog-witness`): other platforms countersign this platform's tree
//! heads after checking a consistency proof from the last head they cosigned, so the
//! platform cannot show two histories; and the witness side, which another platform's
//! operator runs with `xinyong witness serve`.
//!
//! The platform's side: the witnesses it asks are ledger events (`witness.added`, kept
//! as exchange documents); the cosignatures received are kept in `cosignatures.json` in
//! the data directory (about the ledger, not in it). HTTP is the edge's: the app says
//! what to send ([`App::witness_requests`]) and records each answer
//! ([`App::record_witness_answer`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use xinyong_core::event::{EventBody, EventKind, Provenance};
use xinyong_ledger::{Hash, LedgerVerifier, add_checkpoint_request, parse_add_checkpoint, verify_consistency_in};
pub use xinyong_ledger::{WitnessKey, WitnessVerifier};
use xinyong_store::{ExchangeDoc, Expect};

use crate::access::{Action, Caller, permit};
use crate::{App, AppError, Result, now_ms};

const WITNESS: &str = "witness";
const COSIGNATURES_FILE: &str = "cosignatures.json";

/// A witness this platform asks to cosign its heads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Witness {
    pub name: String,
    /// Its cosignature key (`<name>+<key id>+<base64(0x04 || key)>`).
    pub key: String,
    /// Where its `add-checkpoint` endpoint is (`http://host:port`).
    pub url: String,
}

/// A cosignature received: the witness, the tree size and when it signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Cosignature {
    pub witness: String,
    pub size: u64,
    /// Unix seconds, as the witness signed it.
    pub time: u64,
    /// The checkpoint with the witness's line under the platform's.
    pub checkpoint: String,
}

/// The latest head cosigned, by how many witnesses.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Witnessed {
    pub size: u64,
    /// The witnesses that cosigned a head of this size.
    pub witnesses: Vec<String>,
    /// The checkpoint with every one of their cosignature lines under the platform's.
    pub checkpoint: String,
}

/// A request to send to a witness.
#[derive(Debug, Clone)]
pub struct WitnessRequest {
    pub witness: String,
    /// `<url>/add-checkpoint`.
    pub url: String,
    pub body: String,
    /// The tree size the request asks to be cosigned.
    pub size: u64,
}

/// What became of a request.
#[derive(Debug, Clone, Serialize)]
pub struct WitnessOutcome {
    pub witness: String,
    pub size: u64,
    pub cosigned: bool,
    pub detail: String,
}

/// The platform's record of cosignatures (the file), by witness name.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Cosigned {
    /// The tree size each witness is known to hold (what its next request starts from).
    known_size: BTreeMap<String, u64>,
    latest: BTreeMap<String, Cosignature>,
}

fn provenance() -> Provenance {
    let at = now_ms();
    Provenance {
        at, batch: format!("witness-{at}"), provider: "信用中心".into(), source: "witness".into(), row: None
    }
}

/// Writes beside and renames into place, so a crash leaves the old file or the new one.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

fn body_of(note: &str) -> &str {
    note.rfind("\n\n").map_or(note, |i| &note[..=i])
}

impl App {
    fn cosigned(&self) -> Result<Cosigned> {
        match std::fs::read(self.dir().join(COSIGNATURES_FILE)) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| AppError::Internal(format!("{COSIGNATURES_FILE}: {e}"))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Cosigned::default()),
            Err(e) => Err(e.into()),
        }
    }

    /// Asks `name` (its cosignature key `key` and address `url`) to witness this
    /// platform's heads from now on: the centre's decision, a `witness.added` event.
    pub fn add_witness(&self, caller: &Caller, key: &str, url: &str) -> Result<Witness> {
        permit(caller, Action::Exchange)?;
        let verifier = WitnessVerifier::from_text(key).map_err(|e| {
            AppError::invalid("witness_key", format!("不是有效的见证方公钥：{e}"), format!("not a witness key: {e}"))
        })?;
        let url = url.trim().trim_end_matches('/');
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(AppError::invalid(
                "witness_url",
                "地址应以 http:// 或 https:// 开头",
                "the URL must be http(s)://",
            ));
        }
        let w = Witness { name: verifier.name().to_string(), key: verifier.to_text(), url: url.to_string() };
        let id = format!("witness:{}", w.name);
        let existing = self.db().read(|s| Ok(s.exchange_doc(&id)?))?;
        let facts = BTreeMap::from([
            ("name".to_string(), w.name.clone()),
            ("key".to_string(), w.key.clone()),
            ("url".to_string(), w.url.clone()),
        ]);
        let event = EventBody::exchange(EventKind::WitnessAdded, "", &id, facts, &provenance());
        let body = serde_json::to_string(&w).map_err(|e| AppError::Internal(e.to_string()))?;
        let doc = ExchangeDoc { kind: WITNESS.into(), id: id.clone(), subject: String::new(), body, event: 0 };
        let expect = Expect { id, at: existing.map(|d| d.event) };
        self.db().write(|s| Ok(s.put_exchange_docs(&[doc], Some(&expect), &event, self.key(), now_ms())?))?;
        Ok(w)
    }

    /// The witnesses this platform asks.
    pub fn witnesses(&self) -> Result<Vec<Witness>> {
        let docs = self.db().read(|s| Ok(s.exchange_docs(WITNESS, None)?))?;
        docs.iter().map(|d| serde_json::from_str(&d.body).map_err(|e| AppError::Internal(e.to_string()))).collect()
    }

    /// For each witness behind the latest head: the `add-checkpoint` request that asks
    /// it to cosign the head, with a consistency proof from the size it holds.
    pub fn witness_requests(&self) -> Result<Vec<WitnessRequest>> {
        let witnesses = self.witnesses()?;
        if witnesses.is_empty() {
            return Ok(Vec::new());
        }
        if self.db().read(|s| Ok(s.latest_head()?))?.is_none() {
            return Ok(Vec::new());
        }
        let cosigned = self.cosigned()?;
        let head = self.db().read(|s| Ok(s.latest_head()?))?.ok_or_else(crate::ledger::empty_ledger)?;
        let mut out = Vec::new();
        for w in witnesses {
            let old = cosigned.known_size.get(&w.name).copied().unwrap_or(0).min(head.head.size);
            if old == head.head.size && old > 0 {
                continue;
            }
            let size = head.head.size;
            let proof: Vec<Hash> = if old == 0 {
                Vec::new()
            } else {
                self.db().read(|s| self.with_tree(s, size, |tree, read| tree.consistency_proof(old, size, read)))?
            };
            out.push(WitnessRequest {
                url: format!("{}/add-checkpoint", w.url),
                body: add_checkpoint_request(old, &proof, &head.checkpoint),
                witness: w.name,
                size: head.head.size,
            });
        }
        Ok(out)
    }

    /// Records a witness's answer to a request: 200 with its cosignature (checked
    /// against its key before it is kept), or 409 with the size it holds (the next
    /// request starts there). Anything else is reported, and nothing changes.
    pub fn record_witness_answer(&self, req: &WitnessRequest, status: u16, body: &str) -> Result<WitnessOutcome> {
        let w = self
            .witnesses()?
            .into_iter()
            .find(|w| w.name == req.witness)
            .ok_or_else(|| AppError::NotFound(format!("见证方 / witness {}", req.witness)))?;
        let verifier = WitnessVerifier::from_text(&w.key).map_err(|e| AppError::Internal(e.to_string()))?;
        let mut cosigned = self.cosigned()?;
        let outcome = |cosigned: bool, detail: String| WitnessOutcome {
            witness: w.name.clone(),
            size: req.size,
            cosigned,
            detail,
        };
        let result = match status {
            200 => {
                let checkpoint = req.body.split_once("\n\n").map_or("", |(_, c)| c);
                let note = format!(
                    "{checkpoint}{}",
                    if body.ends_with('\n') { body.to_string() } else { format!("{body}\n") }
                );
                match verifier.verify_cosigned(&note) {
                    Ok(time) => {
                        cosigned.known_size.insert(w.name.clone(), req.size);
                        cosigned.latest.insert(
                            w.name.clone(),
                            Cosignature { witness: w.name.clone(), size: req.size, time, checkpoint: note },
                        );
                        outcome(true, format!("cosigned at {time}"))
                    }
                    Err(e) => outcome(false, format!("the answer is not a valid cosignature: {e}")),
                }
            }
            409 => match body.trim().parse::<u64>() {
                Ok(size) if size <= req.size => {
                    cosigned.known_size.insert(w.name.clone(), size);
                    outcome(false, format!("the witness holds size {size}; asking again from there"))
                }
                _ => outcome(false, format!("the witness holds a size this ledger does not have: {}", body.trim())),
            },
            other => outcome(false, format!("HTTP {other}: {}", body.trim())),
        };
        write_atomically(
            &self.dir().join(COSIGNATURES_FILE),
            &serde_json::to_vec_pretty(&cosigned).map_err(|e| AppError::Internal(e.to_string()))?,
        )?;
        Ok(result)
    }

    /// The latest head cosigned, and by whom (none before the first cosignature).
    pub fn witnessed(&self) -> Result<Option<Witnessed>> {
        let cosigned = self.cosigned()?;
        let Some(size) = cosigned.latest.values().map(|c| c.size).max() else { return Ok(None) };
        let at: Vec<&Cosignature> = cosigned.latest.values().filter(|c| c.size == size).collect();
        let Some(first) = at.first() else { return Ok(None) };
        // the platform's note with every witness's line for that size under it
        let mut checkpoint = body_of(&first.checkpoint).to_string();
        checkpoint.push('\n');
        let mut lines: Vec<&str> = Vec::new();
        for c in &at {
            for line in c.checkpoint[body_of(&c.checkpoint).len() + 1..].lines() {
                if !lines.contains(&line) {
                    lines.push(line);
                }
            }
        }
        for l in lines {
            checkpoint.push_str(l);
            checkpoint.push('\n');
        }
        Ok(Some(Witnessed { size, witnesses: at.iter().map(|c| c.witness.clone()).collect(), checkpoint }))
    }
}

/// Writes a witness key file readable by its owner only.
pub fn write_key(path: &Path, key: &WitnessKey) -> Result<()> {
    crate::write_private(path, &key.to_file_bytes())
}

/// Why a witness refused a checkpoint, as the C2SP protocol answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// 400 malformed, 403 not signed by the log's key, 404 unknown log, 409 another
    /// size held (the body is that size), 422 not consistent.
    pub status: u16,
    pub body: String,
}

fn refuse(status: u16, body: impl Into<String>) -> Refusal {
    Refusal { status, body: body.into() }
}

/// What a witness keeps of one log.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LogState {
    size: u64,
    /// Lowercase hex root at that size.
    root: String,
}

/// The witness side: one key, the logs it witnesses (by their published keys), the
/// size and root it last cosigned of each (`witness-state.json` in its directory,
/// written before any cosignature leaves).
pub struct WitnessService {
    key: WitnessKey,
    logs: BTreeMap<String, LedgerVerifier>,
    state_file: PathBuf,
    state: Mutex<BTreeMap<String, LogState>>,
}

impl WitnessService {
    /// Opens the witness's directory with its key and the logs' keys.
    pub fn open(dir: &Path, key: WitnessKey, logs: &[LedgerVerifier]) -> Result<WitnessService> {
        std::fs::create_dir_all(dir)?;
        let state_file = dir.join("witness-state.json");
        let state = match std::fs::read(&state_file) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| AppError::Internal(format!("witness-state.json: {e}")))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(e.into()),
        };
        let logs = logs.iter().map(|v| (v.origin().to_string(), v.clone())).collect();
        Ok(WitnessService { key, logs, state_file, state: Mutex::new(state) })
    }

    pub fn name(&self) -> &str {
        self.key.name()
    }

    /// `POST /add-checkpoint`: the cosignature line (with its newline), or the refusal.
    pub fn add_checkpoint(&self, body: &str) -> std::result::Result<String, Refusal> {
        let (old, proof, note) = parse_add_checkpoint(body).map_err(|e| refuse(400, e))?;
        let origin = note.lines().next().unwrap_or_default();
        let log = self.logs.get(origin).ok_or_else(|| refuse(404, format!("unknown log {origin:?}")))?;
        let head = log.verify(note).map_err(|e| refuse(403, e.to_string()))?;
        let h = log.tree_hash();
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let known = state.get(origin).cloned().unwrap_or(LogState { size: 0, root: xinyong_ledger::hex(&h.empty()) });
        if old != known.size {
            return Err(refuse(409, format!("{}\n", known.size)));
        }
        if head.size < old {
            return Err(refuse(400, "the checkpoint is older than the size given"));
        }
        let old_root = xinyong_ledger::from_hex(&known.root).map_err(|e| refuse(500, e.to_string()))?;
        verify_consistency_in(h, old, head.size, &old_root, &head.root, &proof)
            .map_err(|e| refuse(422, format!("not consistent with the head cosigned before: {e}")))?;
        state.insert(origin.to_string(), LogState { size: head.size, root: xinyong_ledger::hex(&head.root) });
        let bytes = serde_json::to_vec_pretty(&*state).map_err(|e| refuse(500, e.to_string()))?;
        // durable before the cosignature leaves: a witness must never go back
        write_atomically(&self.state_file, &bytes).map_err(|e| refuse(500, e.to_string()))?;
        let time = (now_ms() / 1000).max(0) as u64;
        Ok(format!("{}\n", self.key.cosign(body_of(note), time)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use xinyong_ledger::{LedgerKey, TreeHead};

    use super::*;

    /// The witness's refusals, as the protocol numbers them; nothing refused moves it.
    #[test]
    fn a_witness_refuses_what_it_cannot_check() {
        let dir = tempfile::tempdir().unwrap();
        let log = LedgerKey::generate("xinyong.beijing/ledger");
        let w = WitnessService::open(dir.path(), WitnessKey::generate("w").unwrap(), &[log.verifier()]).unwrap();
        let leaves: Vec<Hash> = (0u8..5).map(|i| xinyong_ledger::leaf_hash(&[i])).collect();
        let head = |n: usize| {
            log.sign(&TreeHead { size: n as u64, root: xinyong_ledger::root_of(&leaves[..n]), timestamp_ms: 1 })
                .checkpoint
        };
        assert_eq!(w.add_checkpoint("nonsense").unwrap_err().status, 400);
        let stranger = LedgerKey::generate("xinyong.hebei/ledger");
        let theirs = stranger.sign(&TreeHead { size: 1, root: leaves[0], timestamp_ms: 1 }).checkpoint;
        assert_eq!(w.add_checkpoint(&add_checkpoint_request(0, &[], &theirs)).unwrap_err().status, 404);
        let forged =
            LedgerKey::generate("xinyong.beijing/ledger").sign(&TreeHead { size: 3, root: [0; 32], timestamp_ms: 1 });
        assert_eq!(w.add_checkpoint(&add_checkpoint_request(0, &[], &forged.checkpoint)).unwrap_err().status, 403);
        // the first head, then a size it does not hold, then a bad proof, then a good one
        assert!(w.add_checkpoint(&add_checkpoint_request(0, &[], &head(3))).unwrap().starts_with("— w "));
        let busy = w.add_checkpoint(&add_checkpoint_request(2, &[], &head(5))).unwrap_err();
        assert_eq!((busy.status, busy.body.as_str()), (409, "3\n"));
        assert_eq!(w.add_checkpoint(&add_checkpoint_request(3, &[[9; 32]], &head(5))).unwrap_err().status, 422);
        let proof = xinyong_ledger::consistency_proof(&leaves, 3).unwrap();
        assert!(w.add_checkpoint(&add_checkpoint_request(3, &proof, &head(5))).is_ok());
        // reopened, it remembers: never back to an older size
        let again = WitnessService::open(dir.path(), WitnessKey::generate("w").unwrap(), &[log.verifier()]).unwrap();
        assert_eq!(again.add_checkpoint(&add_checkpoint_request(3, &proof, &head(5))).unwrap_err().body, "5\n");
    }
}
