//! Signed exchange between platforms (京津冀, 长三角, 异地互认): batches of deltas
//! (`core::exchange`) anchored in the sender's ledger, trusted peers with the last head
//! verified of each, and what a receiver holds of its peers' entries. The format is
//! `docs/EXCHANGE.md`.
//!
//! A batch file is JSON Lines: a header, then one delta per line. The header carries the
//! sender's signed checkpoint, the *anchor* (an `exchange.exported` event in the sender's
//! ledger holding the SHA-256 of the delta lines, with its inclusion proof) and a
//! consistency proof from the tree size the receiver last verified. So the receiver
//! learns, before applying anything, that the deltas are exactly what the sender's
//! ledger committed to, and that the sender's ledger only grew since its last batch.

use std::collections::BTreeMap;
use std::io::{BufRead, Read, Seek, Write};

use sha2::Digest as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use xinyong_core::event::{EventBody, EventKind, Provenance};
use xinyong_core::exchange::{self as rules, Delta, FORMAT, ForeignEntry, ForeignState, Target};
use xinyong_ledger::{Hash, LedgerVerifier, verify_consistency_in, verify_inclusion_in};
use xinyong_store::{ExchangeDoc, Expect, Store};

use crate::access::{Action, Caller, permit};
use crate::{App, AppError, Result, now_ms};

/// Events read per page while collecting deltas.
const PAGE: u32 = 20_000;

const PEER: &str = "peer";
const FOREIGN: &str = "foreign";

/// The first line of a batch file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchHeader {
    pub format: String,
    /// The sender's ledger origin.
    pub origin: String,
    /// The sender's published key (signed-note verifier text).
    pub key: String,
    /// The receiver's cursor: the tree size it last verified of the sender (0: none).
    pub since: u64,
    /// Deltas come from the sender's events `since..until`; the anchor is event `until`.
    pub until: u64,
    /// For whom the batch was made (a peer's origin, or `*`).
    pub to: String,
    pub deltas: u64,
    /// Hex SHA-256 of the delta lines as they stand in the file.
    pub sha256: String,
    pub anchor: Anchor,
    /// The sender's signed checkpoint of size `until + 1`.
    pub checkpoint: String,
    /// Consistency proof from size `since` to the checkpoint (base64; empty for 0).
    pub consistency: Vec<String>,
}

/// The `exchange.exported` event that anchors a batch, with its inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    pub index: u64,
    /// The event's canonical JSON, whose leaf the proof includes.
    pub event: String,
    /// Inclusion proof of the event in the checkpoint's tree (base64).
    pub proof: Vec<String>,
}

/// A batch made for a peer.
#[derive(Debug, Clone)]
pub struct Batch {
    pub header: BatchHeader,
    /// The whole file: header line, then the delta lines.
    pub text: String,
}

/// A platform whose batches this one accepts, and how far it has verified it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Peer {
    pub origin: String,
    /// Its published key (signed-note verifier text).
    pub key: String,
    /// Tree size of the last checkpoint verified (the cursor for its next batch).
    pub size: u64,
    /// Root at that size, lowercase hex (empty before the first batch).
    pub root: String,
    pub checkpoint: String,
    pub batches: u64,
    pub trusted_at_ms: i64,
    pub last_import_ms: Option<i64>,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Imported {
    pub origin: String,
    /// The sender's tree size now verified (the next batch's `since`).
    pub size: u64,
    pub deltas: u64,
    /// Entries of the sender now held (new or changed).
    pub entries_changed: u64,
    /// The batch was applied before (same or older cursor): nothing changed.
    pub already_applied: bool,
    /// This platform's ledger index of the `exchange.imported` event.
    pub ledger_index: Option<u64>,
}

fn peer_id(origin: &str) -> String {
    format!("peer:{origin}")
}

fn foreign_id(origin: &str, id: &str) -> String {
    format!("foreign:{origin}#{id}")
}

fn provenance(source: &str) -> Provenance {
    let at = now_ms();
    Provenance {
        at, batch: format!("exchange-{at}"), provider: "信用中心".into(), source: source.into(), row: None
    }
}

fn bad(line: usize, zh: impl std::fmt::Display, en: impl std::fmt::Display) -> AppError {
    AppError::invalid(
        "exchange_batch",
        format!("交换批次第 {line} 行：{zh}"),
        format!("exchange batch line {line}: {en}"),
    )
}

fn b64_hashes(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(|h| B64.encode(h)).collect()
}

fn hashes_of(line: usize, what: &str, b64: &[String]) -> Result<Vec<Hash>> {
    b64.iter()
        .map(|s| {
            B64.decode(s).ok().and_then(|v| Hash::try_from(v).ok()).ok_or_else(|| {
                bad(line, format!("{what} 中有无效哈希"), format!("{what} holds a hash that is not base64 of 32 bytes"))
            })
        })
        .collect()
}

impl App {
    /// Whether an item's records may leave this platform in a batch: public and
    /// government-shared items (政务共享), not those for authorised or internal use.
    fn travels(&self, item: &str) -> bool {
        use xinyong_core::catalog::Disclosure;
        self.catalog().item(item).is_some_and(|i| matches!(i.disclosure, Disclosure::Public | Disclosure::Shared))
    }

    /// Calls `f` with the delta of each event `from..to` that has one, read in pages.
    pub(crate) fn for_each_delta(
        &self,
        store: &dyn Store,
        from: u64,
        to: u64,
        f: &mut dyn FnMut(Delta) -> Result<()>,
    ) -> Result<()> {
        let mut at = from;
        while at < to {
            let page = store.events(at, PAGE.min((to - at) as u32))?;
            let Some(last) = page.last() else { break };
            at = last.index + 1;
            for ev in page.iter().filter(|e| e.index < to) {
                let body = EventBody::from_bytes(&ev.payload)
                    .map_err(|e| AppError::Internal(format!("event {} does not parse: {e}", ev.index)))?;
                if let Some(d) = rules::delta_of(ev.index, &body, |item| self.travels(item)) {
                    f(d)?;
                }
            }
        }
        Ok(())
    }

    /// Makes a batch of every delta since the receiver's cursor `since` (the tree size
    /// it last verified of this platform; 0 for its first), anchors it in this ledger
    /// with an `exchange.exported` event and returns the file. `to` names the receiver.
    pub fn export_batch(&self, caller: &Caller, since: u64, to: &str) -> Result<Batch> {
        let mut out = Vec::new();
        let header = self.export_batch_to(caller, since, to, &mut out)?;
        let text = String::from_utf8(out).map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(Batch { header, text })
    }

    /// As [`App::export_batch`], written to `out`: the delta lines go to a spool file in
    /// the data directory as they are read (hashed on the way), so memory does not grow
    /// with the batch; the header, which names their digest, is written first.
    pub fn export_batch_to(&self, caller: &Caller, since: u64, to: &str, out: &mut dyn Write) -> Result<BatchHeader> {
        permit(caller, Action::Exchange)?;
        let to = if to.trim().is_empty() { "*" } else { to.trim() };
        // most events are read without the appender; the tail that came in meanwhile
        // is read under it, so nothing lands between the last delta and the anchor
        let size = self.db().read(|s| Ok(s.ledger_size()?))?;
        if since > size {
            return Err(AppError::input(
                format!("游标 {since} 超出本平台账本（共 {size} 条）"),
                format!("cursor {since} is beyond this platform's ledger (size {size})"),
            ));
        }
        let mut spool = Spool::create(self.dir())?;
        self.db().read(|s| self.for_each_delta(s, since, size, &mut |d| spool.line(&d)))?;
        let header = self.db().write(|s| {
            let until = s.ledger_size()?;
            self.for_each_delta(&*s, size, until, &mut |d| spool.line(&d))?;
            let sha256 = spool.digest();
            let facts = rules::anchor_facts(since, until, spool.count, &sha256, to);
            let event = EventBody::exchange(
                EventKind::ExchangeExported,
                "",
                &format!("batch:{until}"),
                facts,
                &provenance("exchange"),
            );
            let (index, head) = s.put_exchange_docs(&[], None, &event, self.key(), now_ms())?;
            let size = head.head.size;
            let (proof, consistency) = self.with_tree(&*s, size, |tree, read| {
                let proof = tree.inclusion_proof(index, size, read)?;
                let consistency = if since == 0 { Vec::new() } else { tree.consistency_proof(since, size, read)? };
                Ok((proof, consistency))
            })?;
            Ok(BatchHeader {
                format: FORMAT.into(),
                origin: self.key().origin().to_string(),
                key: self.verifier().to_text(),
                since,
                until,
                to: to.to_string(),
                deltas: spool.count,
                sha256,
                anchor: Anchor {
                    index,
                    event: String::from_utf8_lossy(&event.canonical_bytes()).into_owned(),
                    proof: b64_hashes(&proof),
                },
                checkpoint: head.checkpoint,
                consistency: b64_hashes(&consistency),
            })
        })?;
        self.after_write();
        let line = serde_json::to_string(&header).map_err(|e| AppError::Internal(e.to_string()))?;
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
        spool.copy_to(out)?;
        Ok(header)
    }

    /// Trusts another platform's batches, signed by `key` (its `ledger.pub` text). A
    /// peer already trusted under the same key is left as it is; another key for a
    /// known origin is refused (a key change is a decision, not a side effect).
    pub fn trust_peer(&self, caller: &Caller, key: &str) -> Result<Peer> {
        permit(caller, Action::Exchange)?;
        let verifier = LedgerVerifier::from_text(key.trim()).map_err(|e| {
            AppError::invalid(
                "peer_key",
                format!("不是有效的平台公钥：{e}"),
                format!("not a platform's public key: {e}"),
            )
        })?;
        let origin = verifier.origin().to_string();
        if origin == self.key().origin() {
            return Err(AppError::invalid(
                "peer_key",
                "这是本平台自己的公钥：请为每个平台设定不同的账本名称（init --origin）",
                "this is this platform's own key: give each platform its own ledger origin (init --origin)",
            ));
        }
        if let Some(known) = self.peer(&origin)? {
            if known.key == verifier.to_text() {
                return Ok(known);
            }
            return Err(AppError::Conflict(format!(
                "平台 {origin} 已以另一公钥受信 / platform {origin} is trusted under another key"
            )));
        }
        let peer = Peer {
            origin: origin.clone(),
            key: verifier.to_text(),
            size: 0,
            root: String::new(),
            checkpoint: String::new(),
            batches: 0,
            trusted_at_ms: now_ms(),
            last_import_ms: None,
        };
        let facts = BTreeMap::from([("origin".to_string(), origin.clone()), ("key".to_string(), peer.key.clone())]);
        let event =
            EventBody::exchange(EventKind::ExchangePeerTrusted, "", &peer_id(&origin), facts, &provenance("exchange"));
        let doc = peer_doc(&peer)?;
        let expect = Expect { id: doc.id.clone(), at: None };
        self.db().write(|s| Ok(s.put_exchange_docs(&[doc], Some(&expect), &event, self.key(), now_ms())?))?;
        Ok(peer)
    }

    pub(crate) fn peer(&self, origin: &str) -> Result<Option<Peer>> {
        Ok(self.peer_with_event(origin)?.map(|(p, _)| p))
    }

    fn peer_with_event(&self, origin: &str) -> Result<Option<(Peer, u64)>> {
        let doc = self.db().read(|s| Ok(s.exchange_doc(&peer_id(origin))?))?;
        doc.map(|d| {
            let peer = serde_json::from_str(&d.body).map_err(|e| AppError::Internal(format!("peer {origin}: {e}")))?;
            Ok((peer, d.event))
        })
        .transpose()
    }

    /// The platforms this one trusts, by origin.
    pub fn peers(&self, caller: &Caller) -> Result<Vec<Peer>> {
        permit(caller, Action::Exchange)?;
        let docs = self.db().read(|s| Ok(s.exchange_docs(PEER, None)?))?;
        docs.iter().map(|d| serde_json::from_str(&d.body).map_err(|e| AppError::Internal(e.to_string()))).collect()
    }

    /// Verifies a batch from a trusted peer and applies it: the header's checkpoint by
    /// the peer's pinned key, the anchor's inclusion in it and its digest of the deltas,
    /// the consistency of the peer's ledger with the head verified last, then each delta
    /// in order. A batch with one bad line changes nothing.
    pub fn import_batch(&self, caller: &Caller, text: &str) -> Result<Imported> {
        self.import_batch_from(caller, std::io::Cursor::new(text.as_bytes()))
    }

    /// As [`App::import_batch`], read from `r` twice: once to check every line against
    /// the anchored digest, once to apply them, `IMPORT_CHUNK` deltas a transaction.
    /// The peer's cursor moves with the last chunk only; a crash in between leaves the
    /// batch to be imported again, and the deltas already applied change nothing then.
    pub fn import_batch_from<R: BufRead + Seek>(&self, caller: &Caller, r: R) -> Result<Imported> {
        self.import_batch_chunked(caller, r, IMPORT_CHUNK)
    }

    /// [`App::import_batch_from`] with `chunk` deltas a transaction (tests use small ones).
    #[doc(hidden)]
    pub fn import_batch_chunked<R: BufRead + Seek>(
        &self,
        caller: &Caller,
        mut r: R,
        chunk_size: usize,
    ) -> Result<Imported> {
        permit(caller, Action::Exchange)?;
        let chunk_size = chunk_size.max(1);
        let mut buf = Vec::new();
        if !read_line(&mut r, &mut buf)? {
            return Err(bad(1, "文件为空", "the file is empty"));
        }
        let header: BatchHeader = serde_json::from_slice(trim_newline(&buf))
            .map_err(|e| bad(1, format!("批次头无法解析：{e}"), format!("the header does not parse: {e}")))?;
        if header.format != FORMAT {
            return Err(bad(
                1,
                format!("格式应为 {FORMAT}"),
                format!("format must be {FORMAT}, got {:?}", header.format),
            ));
        }
        let Some((peer, peer_event)) = self.peer_with_event(&header.origin)? else {
            return Err(AppError::forbidden(
                "peer_not_trusted",
                format!("平台 {} 不在受信列表中：先用 exchange trust 登记其公钥", header.origin),
                format!("platform {} is not trusted: register its key with exchange trust first", header.origin),
            ));
        };
        if header.key != peer.key {
            return Err(bad(1, "批次所附公钥与登记的公钥不同", "the batch names another key than the one trusted"));
        }
        let verifier = LedgerVerifier::from_text(&peer.key).map_err(|e| AppError::Internal(e.to_string()))?;
        let head = verifier
            .verify(&header.checkpoint)
            .map_err(|e| bad(1, format!("签名树头验证失败：{e}"), format!("the checkpoint does not verify: {e}")))?;
        if header.anchor.index != header.until || head.size != header.until + 1 {
            return Err(bad(
                1,
                "锚定事件应为树头前的最后一条",
                "the anchor must be the last event of the checkpoint's tree",
            ));
        }
        // the anchor is in the signed tree, and it commits to exactly these delta lines
        let anchor_proof = hashes_of(1, "anchor.proof", &header.anchor.proof)?;
        let h = verifier.tree_hash();
        let anchor_leaf = h.leaf(header.anchor.event.as_bytes());
        verify_inclusion_in(h, header.anchor.index, head.size, &anchor_leaf, &anchor_proof, &head.root).map_err(
            |e| bad(1, format!("锚定事件不在签名树中：{e}"), format!("the anchor is not in the signed tree: {e}")),
        )?;
        let anchor = EventBody::from_bytes(header.anchor.event.as_bytes())
            .ok()
            .filter(|a| a.kind == EventKind::ExchangeExported && a.canonical_bytes() == header.anchor.event.as_bytes())
            .ok_or_else(|| bad(1, "锚定事件不是 exchange.exported", "the anchor is not an exchange.exported event"))?;
        let want = rules::anchor_facts(header.since, header.until, header.deltas, &header.sha256, &header.to);
        if anchor.fields.as_ref() != Some(&want) {
            return Err(bad(1, "批次头与锚定事件所记不符", "the header differs from what the anchor event recorded"));
        }
        // pass 1: every line checked, and their digest
        let body_at = r.stream_position()?;
        let mut hasher = sha2::Sha256::new();
        let mut count = 0u64;
        let mut last = None;
        let mut n = 1;
        while read_line(&mut r, &mut buf).map_err(|e| bad(n + 1, e.to_string(), e.to_string()))? {
            n += 1;
            hasher.update(&buf);
            let d = parse_delta(n, &buf, &header, last)?;
            last = Some(d.index);
            count += 1;
        }
        let digest = xinyong_ledger::hex(&hasher.finalize().into());
        if digest != header.sha256 {
            return Err(bad(
                2,
                "增量内容与锚定的摘要不符（文件被改动或不完整）",
                "the delta lines do not match the anchored digest (altered or cut short)",
            ));
        }
        if count != header.deltas {
            return Err(bad(1, "增量条数与批次头不符", "the number of deltas differs from the header"));
        }
        // an authentic batch seen before changes nothing; any other must start at the cursor
        if head.size <= peer.size {
            return Ok(Imported {
                origin: peer.origin,
                size: peer.size,
                deltas: header.deltas,
                entries_changed: 0,
                already_applied: true,
                ledger_index: None,
            });
        }
        if header.since != peer.size {
            return Err(bad(
                1,
                format!(
                    "批次起点 {} 与本平台已验证的 {} 不符：请对方以 --since {} 重新导出",
                    header.since, peer.size, peer.size
                ),
                format!(
                    "the batch starts at {} but {} is verified here: ask for an export with --since {}",
                    header.since, peer.size, peer.size
                ),
            ));
        }
        // the sender's ledger only grew since the head verified last
        if peer.size > 0 {
            let old_root = xinyong_ledger::from_hex(&peer.root).map_err(|e| AppError::Internal(e.to_string()))?;
            let proof = hashes_of(1, "consistency", &header.consistency)?;
            verify_consistency_in(h, peer.size, head.size, &old_root, &head.root, &proof).map_err(|e| {
                bad(
                    1,
                    format!("对方账本与上次验证的树头不一致：{e}"),
                    format!("the sender's ledger is not consistent with the head verified before: {e}"),
                )
            })?;
        }
        // pass 2: applied in chunks; the cursor moves with the last
        r.seek(std::io::SeekFrom::Start(body_at))?;
        let origin = peer.origin.clone();
        let expect = Expect { id: peer_id(&origin), at: Some(peer_event) };
        let updated = Peer {
            size: head.size,
            root: xinyong_ledger::hex(&head.root),
            checkpoint: header.checkpoint.clone(),
            batches: peer.batches + 1,
            last_import_ms: Some(now_ms()),
            ..peer
        };
        let mut chunk = Vec::with_capacity(chunk_size.min(count as usize));
        let (mut applied, mut changed_total) = (0u64, 0u64);
        let mut n = 1;
        let index = loop {
            let more = read_line(&mut r, &mut buf)?;
            if more {
                n += 1;
                chunk.push(parse_delta(n, &buf, &header, None)?);
                applied += 1;
            }
            let last_chunk = !more;
            if chunk.len() < chunk_size && !last_chunk {
                continue;
            }
            let mut docs = self.changed_entries(&origin, &chunk)?;
            changed_total += docs.len() as u64;
            let mut facts = BTreeMap::from([
                ("origin".to_string(), origin.clone()),
                ("size".to_string(), head.size.to_string()),
                ("root".to_string(), updated.root.clone()),
                ("sha256".to_string(), header.sha256.clone()),
                ("deltas".to_string(), header.deltas.to_string()),
            ]);
            if last_chunk {
                docs.push(peer_doc(&updated)?);
            } else {
                // a part of a batch: what it applied, not yet the cursor
                facts.insert("applied_through".to_string(), applied.to_string());
            }
            let event =
                EventBody::exchange(EventKind::ExchangeImported, "", &peer_id(&origin), facts, &provenance("exchange"));
            let written =
                self.db().write(|s| Ok(s.put_exchange_docs(&docs, Some(&expect), &event, self.key(), now_ms())?))?.0;
            chunk.clear();
            if last_chunk {
                break written;
            }
        };
        self.after_write();
        Ok(Imported {
            origin,
            size: head.size,
            deltas: header.deltas,
            entries_changed: changed_total,
            already_applied: false,
            ledger_index: Some(index),
        })
    }

    /// The receiver's entries the deltas change, as documents to write.
    fn changed_entries(&self, origin: &str, deltas: &[Delta]) -> Result<Vec<ExchangeDoc>> {
        let mut changed: BTreeMap<String, Option<ForeignEntry>> = BTreeMap::new();
        for d in deltas {
            let id = foreign_id(origin, &d.id);
            let current = match changed.get(&id) {
                Some(c) => c.clone(),
                None => self.foreign_entry(&id)?,
            };
            let next = rules::apply(origin, current.clone(), d);
            if next != current {
                changed.insert(id, next);
            }
        }
        let mut docs = Vec::with_capacity(changed.len());
        for (id, entry) in changed {
            let Some(e) = entry else { continue };
            let body = serde_json::to_string(&e).map_err(|e| AppError::Internal(e.to_string()))?;
            docs.push(ExchangeDoc { kind: FOREIGN.into(), id, subject: e.subject.clone(), body, event: 0 });
        }
        Ok(docs)
    }

    fn foreign_entry(&self, id: &str) -> Result<Option<ForeignEntry>> {
        let doc = self.db().read(|s| Ok(s.exchange_doc(id)?))?;
        doc.map(|d| serde_json::from_str(&d.body).map_err(|e| AppError::Internal(format!("{id}: {e}")))).transpose()
    }

    /// Other platforms' entries about a subject that are in force there, as stored.
    pub(crate) fn regional_of(&self, store: &dyn Store, code: &str) -> Result<Vec<ForeignEntry>> {
        let docs = store.exchange_docs(FOREIGN, Some(code))?;
        let mut out = Vec::new();
        for d in docs {
            let e: ForeignEntry =
                serde_json::from_str(&d.body).map_err(|e| AppError::Internal(format!("{}: {e}", d.id)))?;
            if e.state == ForeignState::InForce {
                out.push(e);
            }
        }
        Ok(out)
    }

    /// Entries of list type `list_type` received from other platforms and in force there.
    pub fn regional_listings(&self, list_type: &str) -> Result<Vec<ForeignEntry>> {
        let docs = self.db().read(|s| Ok(s.exchange_docs(FOREIGN, None)?))?;
        let mut out = Vec::new();
        for d in docs {
            let e: ForeignEntry =
                serde_json::from_str(&d.body).map_err(|e| AppError::Internal(format!("{}: {e}", d.id)))?;
            if e.state == ForeignState::InForce && e.target == Target::Listing && e.item == list_type {
                out.push(e);
            }
        }
        Ok(out)
    }
}

/// Deltas applied a transaction when importing a batch.
const IMPORT_CHUNK: usize = 10_000;
/// The longest line a batch may hold (a delta with a record's fields; a header).
const MAX_LINE: u64 = 1 << 20;

/// Reads one line (with its newline) into `buf`, at most `MAX_LINE` bytes; false at the end.
fn read_line(r: &mut impl BufRead, buf: &mut Vec<u8>) -> Result<bool> {
    buf.clear();
    let n = r.by_ref().take(MAX_LINE + 1).read_until(b'\n', buf)?;
    if n as u64 > MAX_LINE {
        return Err(AppError::invalid(
            "exchange_batch",
            format!("交换批次中有超过 {MAX_LINE} 字节的行"),
            format!("the batch holds a line over {MAX_LINE} bytes"),
        ));
    }
    Ok(n > 0)
}

fn trim_newline(b: &[u8]) -> &[u8] {
    b.strip_suffix(b"\n").unwrap_or(b)
}

/// One delta line, checked: it parses, its index is in the batch and after `last`, its
/// subject code is valid.
fn parse_delta(n: usize, line: &[u8], header: &BatchHeader, last: Option<u64>) -> Result<Delta> {
    let d: Delta = serde_json::from_slice(trim_newline(line))
        .map_err(|e| bad(n, format!("增量无法解析：{e}"), format!("the delta does not parse: {e}")))?;
    if d.index < header.since || d.index >= header.until || last.is_some_and(|l| d.index <= l) {
        return Err(bad(n, "增量序号越界或未递增", "the delta's index is out of the batch's range or not increasing"));
    }
    xinyong_core::SubjectCode::parse(&d.subject)
        .map_err(|_| bad(n, format!("主体代码无效：{}", d.subject), format!("invalid subject code {:?}", d.subject)))?;
    Ok(d)
}

/// The delta lines of a batch being made: in a file beside the store, hashed and
/// counted as they are written, removed when dropped.
struct Spool {
    path: std::path::PathBuf,
    file: std::io::BufWriter<std::fs::File>,
    hasher: sha2::Sha256,
    count: u64,
}

impl Spool {
    fn create(dir: &std::path::Path) -> Result<Spool> {
        // unique within the process too: two exports may start in the same millisecond
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = dir.join(format!("exchange-{}-{}-{n}.spool", std::process::id(), now_ms()));
        let file = std::io::BufWriter::new(std::fs::File::create(&path)?);
        Ok(Spool { path, file, hasher: sha2::Sha256::new(), count: 0 })
    }

    fn line(&mut self, d: &Delta) -> Result<()> {
        let mut line = serde_json::to_vec(d).map_err(|e| AppError::Internal(e.to_string()))?;
        line.push(b'\n');
        self.hasher.update(&line);
        self.file.write_all(&line)?;
        self.count += 1;
        Ok(())
    }

    fn digest(&self) -> String {
        xinyong_ledger::hex(&self.hasher.clone().finalize().into())
    }

    fn copy_to(&mut self, out: &mut dyn Write) -> Result<()> {
        self.file.flush()?;
        let mut f = std::fs::File::open(&self.path)?;
        std::io::copy(&mut f, out)?;
        Ok(())
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn peer_doc(p: &Peer) -> Result<ExchangeDoc> {
    Ok(ExchangeDoc {
        kind: PEER.into(),
        id: peer_id(&p.origin),
        subject: String::new(),
        body: serde_json::to_string(p).map_err(|e| AppError::Internal(e.to_string()))?,
        event: 0,
    })
}
