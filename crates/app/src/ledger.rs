//! Ledger use cases: verification of the whole log against the signed heads, and
//! inclusion / consistency proofs for outside checkers.

use serde::Serialize;
use xinyong_core::event::is_canonical_event;
use xinyong_ledger::{Frontier, hex};

use crate::access::Caller;
use crate::{App, AppError, Result};

pub use xinyong_store::Counts;

/// What an outside checker needs to verify proofs and heads without this crate's store.
pub use xinyong_ledger::{
    Algorithm, Hash, LedgerVerifier, SignedHead, TreeHash, TreeHead, from_hex, hex as to_hex,
    leaf_hash as leaf_hash_of, verify_consistency, verify_consistency_in, verify_inclusion, verify_inclusion_in,
};

/// An event payload as SQLite stores it and back (`xinyong_store::codec`): for outside
/// tools and tests that read or edit the store's file directly.
pub use xinyong_store::codec::{pack as pack_payload, unpack as unpack_payload};

/// Events read per page while verifying: bounds memory on large logs.
const PAGE: u32 = 50_000;

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub ok: bool,
    pub size: u64,
    pub heads_checked: u64,
    pub root: Option<String>,
    /// First index at which the stored log departs from what was signed.
    pub first_bad_index: Option<u64>,
    pub problem: Option<String>,
    pub elapsed_ms: u64,
}

/// Recomputes every leaf from the stored event bytes and the tree from the leaves,
/// and checks each signed head (signature and root) on the way.
pub fn verify(app: &App) -> Result<VerifyReport> {
    app.db().read(|store| verify_store(app, store))
}

fn verify_store(app: &App, store: &dyn xinyong_store::Store) -> Result<VerifyReport> {
    let started = std::time::Instant::now();
    let verifier = app.verifier();
    let heads = store.heads()?;
    let mut report = VerifyReport {
        ok: true,
        size: 0,
        heads_checked: 0,
        root: None,
        first_bad_index: None,
        problem: None,
        elapsed_ms: 0,
    };
    let fail = |report: &mut VerifyReport, index: u64, problem: String| {
        if report.ok {
            report.ok = false;
            report.first_bad_index = Some(index);
            report.problem = Some(problem);
        }
    };
    let hash = app.key().tree_hash();
    let mut frontier = Frontier::new_in(hash);
    let mut next_head = heads.iter().peekable();
    let mut prev_head_size = 0u64;
    // heads must verify before any leaf is trusted
    for h in &heads {
        match verifier.verify(&h.checkpoint) {
            Ok(th) if th == h.head => {}
            Ok(_) => fail(
                &mut report,
                h.head.size.saturating_sub(1),
                format!("head at size {} does not match its signed checkpoint", h.head.size),
            ),
            Err(e) => fail(&mut report, h.head.size.saturating_sub(1), format!("head at size {}: {e}", h.head.size)),
        }
    }
    // the next page is read while this one is checked (the check runs on every core)
    let stopped = std::thread::scope(|scope| -> Result<bool> {
        // as stored (compressed): the workers unpack them, not this reading thread
        let mut next = store.events_as_stored(0, PAGE)?;
        while !next.is_empty() {
            let page = std::mem::take(&mut next);
            let after = page.last().map_or(0, |e| e.index + 1);
            let worker = scope.spawn(move || {
                let checked = check_page(hash, &page);
                (page, checked)
            });
            next = store.events_as_stored(after, PAGE)?;
            let (page, checked) =
                worker.join().map_err(|_| AppError::Internal("a verification worker panicked".into()))?;
            for (ev, (leaf, canonical)) in page.iter().zip(checked) {
                let idx = frontier.size();
                if ev.index != idx {
                    fail(&mut report, idx, format!("event {idx} is missing (next stored is {})", ev.index));
                    return Ok(true);
                }
                let canonical = match canonical {
                    Ok(c) => c,
                    Err(why) => {
                        fail(&mut report, idx, format!("event {idx}: {why}"));
                        true
                    }
                };
                if leaf != ev.leaf {
                    fail(&mut report, idx, format!("event {idx}: stored bytes do not hash to the stored leaf"));
                }
                if !canonical {
                    fail(
                        &mut report,
                        idx,
                        format!("event {idx}: payload is not a canonical event of subject {}", ev.subject_code),
                    );
                }
                frontier.push(leaf);
                while let Some(h) = next_head.peek() {
                    if h.head.size != frontier.size() {
                        break;
                    }
                    report.heads_checked += 1;
                    if h.head.root != frontier.root() {
                        fail(
                            &mut report,
                            prev_head_size,
                            format!(
                                "recomputed root at size {} differs from the signed head: an event in [{prev_head_size}, {}) was altered",
                                h.head.size, h.head.size
                            ),
                        );
                    }
                    prev_head_size = h.head.size;
                    next_head.next();
                }
            }
        }
        Ok(false)
    })?;
    if stopped {
        return Ok(finish(report, &frontier, started));
    }
    if let Some(h) = next_head.next() {
        fail(
            &mut report,
            frontier.size(),
            format!("signed head of size {} but only {} events are stored", h.head.size, frontier.size()),
        );
    } else if frontier.size() > prev_head_size {
        fail(
            &mut report,
            prev_head_size,
            format!("events from {prev_head_size} on are not covered by any signed head"),
        );
    }
    Ok(finish(report, &frontier, started))
}

/// Unpacks each stored payload, recomputes its leaf and checks that it is the canonical
/// encoding of an event of its subject (`Err` when the stored bytes cannot be read: the
/// leaf is then none). The work is independent per event, so the page is split across
/// the available cores; the tree itself is then built in order.
fn check_page(hash: TreeHash, page: &[xinyong_store::EventRow]) -> Vec<(Hash, std::result::Result<bool, String>)> {
    let check =
        |ev: &xinyong_store::EventRow, buf: &mut Vec<u8>| match xinyong_store::codec::unpack_into(&ev.payload, buf) {
            Ok(payload) => (hash.leaf(payload), Ok(is_canonical_event(payload, &ev.subject_code))),
            Err(e) => ([0u8; 32], Err(e.to_string())),
        };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let chunk = page.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let parts: Vec<_> = page
            .chunks(chunk)
            .map(|c| {
                (
                    c.len(),
                    s.spawn(move || {
                        let mut buf = Vec::new();
                        c.iter().map(|ev| check(ev, &mut buf)).collect::<Vec<_>>()
                    }),
                )
            })
            .collect();
        // a panicking worker counts as failed checks, never as a pass
        parts.into_iter().flat_map(|(n, h)| h.join().unwrap_or_else(|_| vec![([0u8; 32], Ok(false)); n])).collect()
    })
}

fn finish(mut report: VerifyReport, frontier: &Frontier, started: std::time::Instant) -> VerifyReport {
    report.size = frontier.size();
    report.root = Some(hex(&frontier.root()));
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    report
}

/// Inclusion proof of one event in a signed tree (RFC 6962); hashes in lowercase hex.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InclusionProof {
    pub index: u64,
    pub tree_size: u64,
    pub leaf_hash: String,
    pub root: String,
    /// The audit path, leaf to root.
    pub proof: Vec<String>,
    /// The signed checkpoint the root comes from.
    pub checkpoint: String,
    /// The event itself, for accounts (the public gets the proof only: an event may
    /// hold non-public data).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub event: Option<serde_json::Value>,
    #[schema(value_type = String)]
    pub algorithm: &'static str,
    /// The latest head witnesses cosigned, and by which (none before the first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub witnessed: Option<crate::witnesses::Witnessed>,
}

pub(crate) fn empty_ledger() -> AppError {
    AppError::input("账本为空，尚无签名树头", "the ledger is empty: no signed head yet")
}

/// The tree's node cache (`NodeCache`: the roots of every complete block of 256 leaves
/// and above), built on first use from the store's leaves and extended as the ledger
/// grows, so a proof reads a few blocks of leaves instead of every leaf.
#[derive(Default)]
pub(crate) struct Tree(std::sync::Mutex<Option<xinyong_ledger::NodeCache>>);

impl App {
    /// Runs `f` with the node cache holding at least `size` leaves of `store`'s ledger,
    /// and a reader of the leaves it does not hold.
    pub(crate) fn with_tree<T>(
        &self,
        store: &dyn xinyong_store::Store,
        size: u64,
        f: impl FnOnce(
            &xinyong_ledger::NodeCache,
            &mut xinyong_ledger::Reader<'_>,
        ) -> std::result::Result<T, xinyong_ledger::LedgerError>,
    ) -> Result<T> {
        const PAGE: u64 = 1_000_000;
        let mut guard = self.tree().0.lock().unwrap_or_else(|e| e.into_inner());
        let cache = guard.get_or_insert_with(|| xinyong_ledger::NodeCache::new(self.key().tree_hash()));
        while cache.size() < size {
            let to = (cache.size() + PAGE).min(size);
            for leaf in store.leaf_range(cache.size(), to)? {
                cache.push(leaf);
            }
        }
        let mut read =
            |a: u64, b: u64| store.leaf_range(a, b).map_err(|e| xinyong_ledger::LedgerError::Source(e.to_string()));
        Ok(f(cache, &mut read)?)
    }
}

/// Inclusion proof of event `index` in the latest signed tree, with the event.
pub fn proof(app: &App, index: u64) -> Result<InclusionProof> {
    app.db().read(|store| proof_in(app, store, index))
}

fn proof_in(app: &App, store: &dyn xinyong_store::Store, index: u64) -> Result<InclusionProof> {
    let hash = app.key().tree_hash();
    let head = store.latest_head()?.ok_or_else(empty_ledger)?;
    let size = head.head.size;
    if index >= size {
        return Err(AppError::input(
            format!("索引 {index} 超出账本范围（共 {size} 条）"),
            format!("index {index} is beyond the ledger (size {size})"),
        ));
    }
    let (leaf, path) = app.with_tree(store, size, |tree, read| {
        let leaf = read(index, index + 1)?
            .first()
            .copied()
            .ok_or(xinyong_ledger::LedgerError::IndexOutOfRange { index, size })?;
        Ok((leaf, tree.inclusion_proof(index, size, read)?))
    })?;
    let leaf = &leaf;
    let event = store.event(index)?.map(|e| serde_json::from_slice(&e.payload).unwrap_or(serde_json::Value::Null));
    Ok(InclusionProof {
        index,
        tree_size: head.head.size,
        leaf_hash: hex(leaf),
        root: hex(&head.head.root),
        proof: path.iter().map(hex).collect(),
        checkpoint: head.checkpoint,
        event: Some(event.unwrap_or(serde_json::Value::Null)),
        algorithm: hash.name(),
        witnessed: None,
    })
}

/// Consistency proof between two tree sizes (RFC 6962); hashes in lowercase hex.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConsistencyProof {
    pub from: u64,
    pub to: u64,
    pub from_root: String,
    pub to_root: String,
    pub proof: Vec<String>,
}

/// Consistency proof between two tree sizes (`to` defaults to the latest head).
pub fn consistency(app: &App, from: u64, to: Option<u64>) -> Result<ConsistencyProof> {
    let head = app.db().read(|s| Ok(s.latest_head()?))?.ok_or_else(empty_ledger)?;
    let to = to.unwrap_or(head.head.size);
    if from == 0 || from > to || to > head.head.size {
        return Err(AppError::input(
            format!("需要 0 < from ≤ to ≤ {}", head.head.size),
            format!("need 0 < from <= to <= {}", head.head.size),
        ));
    }
    let (from_root, to_root, proof) = app.db().read(|store| {
        app.with_tree(store, to, |tree, read| {
            Ok((tree.root_at(from, read)?, tree.root_at(to, read)?, tree.consistency_proof(from, to, read)?))
        })
    })?;
    Ok(ConsistencyProof {
        from,
        to,
        from_root: hex(&from_root),
        to_root: hex(&to_root),
        proof: proof.iter().map(hex).collect(),
    })
}

/// The latest signed head and the key that verifies it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HeadAnswer {
    /// None while the ledger is empty.
    #[schema(value_type = Option<schema::SignedHead>)]
    pub head: Option<SignedHead>,
    /// The published verification key (signed-note verifier text).
    pub verifier_key: String,
    /// The ledger's signature scheme and tree hash: `Ed25519 / SHA-256` or `SM2 / SM3`.
    pub algorithm: String,
    /// The latest head cosigned by witnesses (C2SP tlog-witness), and by which; none
    /// before the first cosignature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub witnessed: Option<crate::witnesses::Witnessed>,
}

/// OpenAPI schemas of the ledger's own types as they serialise (the ledger crate
/// knows nothing of OpenAPI): fields with `#[schema(value_type = ...)]` point here.
pub mod schema {
    /// A tree head: what the log commits to at one point in time.
    #[derive(Debug, Clone, utoipa::ToSchema)]
    pub struct TreeHead {
        /// Number of leaves.
        pub size: u64,
        /// RFC 6962 root hash, lowercase hex.
        pub root: String,
        /// Unix time in milliseconds at which the head was produced.
        pub timestamp_ms: i64,
    }

    /// A signed tree head.
    #[derive(Debug, Clone, utoipa::ToSchema)]
    pub struct SignedHead {
        pub head: TreeHead,
        /// The full signed note: checkpoint body, blank line, signature line.
        pub checkpoint: String,
    }
}

impl App {
    pub(crate) fn proof_of(&self, index: u64) -> Result<InclusionProof> {
        proof(self, index)
    }

    /// An inclusion proof as `caller` may have it: the event content for accounts only.
    pub fn ledger_proof(&self, caller: &Caller, index: u64) -> Result<InclusionProof> {
        let mut p = proof(self, index)?;
        p.witnessed = self.witnessed()?;
        if !caller.is_signed_in() {
            p.event = None;
        }
        Ok(p)
    }

    pub fn ledger_consistency(&self, from: u64, to: Option<u64>) -> Result<ConsistencyProof> {
        consistency(self, from, to)
    }

    pub fn ledger_head(&self) -> Result<HeadAnswer> {
        let head = self.db().read(|s| Ok(s.latest_head()?))?;
        Ok(HeadAnswer {
            head,
            verifier_key: self.verifier().to_text(),
            algorithm: self.key().algorithm().name().into(),
            witnessed: self.witnessed()?,
        })
    }

    /// Ledger size and counts of the store.
    pub fn counts(&self) -> Result<xinyong_store::Counts> {
        self.db().read(|s| Ok(s.counts()?))
    }

    /// Recomputes the whole ledger against its signed heads.
    pub fn verify_ledger(&self) -> Result<VerifyReport> {
        verify(self)
    }

    /// About `n` event payloads (their canonical bytes), spread evenly over the ledger:
    /// the samples the stored payloads' compression dictionary is trained on
    /// (`scripts/train-event-dictionary.sh`).
    pub fn sample_payloads(&self, n: usize) -> Result<Vec<Vec<u8>>> {
        self.db().read(|store| {
            let size = store.ledger_size()?;
            let every = (size / n.max(1) as u64).max(1);
            let mut out = Vec::with_capacity(n);
            let mut at = 0;
            while at < size && out.len() < n {
                if let Some(e) = store.event(at)? {
                    out.push(e.payload);
                }
                at += every;
            }
            Ok(out)
        })
    }
}
