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

    /// The deltas of events `from..to` (fewer if the store holds fewer), read in pages.
    pub(crate) fn deltas_between(&self, store: &dyn Store, from: u64, to: u64) -> Result<Vec<Delta>> {
        let mut out = Vec::new();
        let mut at = from;
        while at < to {
            let page = store.events(at, PAGE.min((to - at) as u32))?;
            let Some(last) = page.last() else { break };
            at = last.index + 1;
            for ev in page.iter().filter(|e| e.index < to) {
                let body = EventBody::from_bytes(&ev.payload)
                    .map_err(|e| AppError::Internal(format!("event {} does not parse: {e}", ev.index)))?;
                out.extend(rules::delta_of(ev.index, &body, |item| self.travels(item)));
            }
        }
        Ok(out)
    }

    /// Makes a batch of every delta since the receiver's cursor `since` (the tree size
    /// it last verified of this platform; 0 for its first), anchors it in this ledger
    /// with an `exchange.exported` event and returns the file. `to` names the receiver.
    pub fn export_batch(&self, caller: &Caller, since: u64, to: &str) -> Result<Batch> {
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
        let mut deltas = self.db().read(|s| self.deltas_between(s, since, size))?;
        let (header, lines) = self.db().write(|s| {
            let until = s.ledger_size()?;
            deltas.extend(self.deltas_between(s, size, until)?);
            let mut lines = String::new();
            for d in &deltas {
                lines.push_str(&serde_json::to_string(d).map_err(|e| AppError::Internal(e.to_string()))?);
                lines.push('\n');
            }
            let sha256 = rules::digest(lines.as_bytes());
            let facts = rules::anchor_facts(since, until, deltas.len() as u64, &sha256, to);
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
            let header = BatchHeader {
                format: FORMAT.into(),
                origin: self.key().origin().to_string(),
                key: self.verifier().to_text(),
                since,
                until,
                to: to.to_string(),
                deltas: deltas.len() as u64,
                sha256,
                anchor: Anchor {
                    index,
                    event: String::from_utf8_lossy(&event.canonical_bytes()).into_owned(),
                    proof: b64_hashes(&proof),
                },
                checkpoint: head.checkpoint,
                consistency: b64_hashes(&consistency),
            };
            Ok((header, lines))
        })?;
        let mut text = serde_json::to_string(&header).map_err(|e| AppError::Internal(e.to_string()))?;
        text.push('\n');
        text.push_str(&lines);
        self.after_write();
        Ok(Batch { header, text })
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
    /// the consistency of the peer's ledger with the head last verified, then each delta
    /// in order. All or nothing: a batch with one bad line changes nothing.
    pub fn import_batch(&self, caller: &Caller, text: &str) -> Result<Imported> {
        permit(caller, Action::Exchange)?;
        let (header_line, rest) = text.split_once('\n').unwrap_or((text, ""));
        let header: BatchHeader = serde_json::from_str(header_line)
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
        if rules::digest(rest.as_bytes()) != header.sha256 {
            return Err(bad(
                2,
                "增量内容与锚定的摘要不符（文件被改动或不完整）",
                "the delta lines do not match the anchored digest (altered or cut short)",
            ));
        }
        let mut deltas = Vec::new();
        let mut last = None;
        for (i, line) in rest.lines().enumerate() {
            let n = i + 2;
            let d: Delta = serde_json::from_str(line)
                .map_err(|e| bad(n, format!("增量无法解析：{e}"), format!("the delta does not parse: {e}")))?;
            if d.index < header.since || d.index >= header.until || last.is_some_and(|l| d.index <= l) {
                return Err(bad(
                    n,
                    "增量序号越界或未递增",
                    "the delta's index is out of the batch's range or not increasing",
                ));
            }
            xinyong_core::SubjectCode::parse(&d.subject).map_err(|_| {
                bad(n, format!("主体代码无效：{}", d.subject), format!("invalid subject code {:?}", d.subject))
            })?;
            last = Some(d.index);
            deltas.push(d);
        }
        if deltas.len() as u64 != header.deltas {
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
        // each entry as held now, changed by the deltas in order
        let origin = peer.origin.clone();
        let mut changed: BTreeMap<String, Option<ForeignEntry>> = BTreeMap::new();
        for d in &deltas {
            let id = foreign_id(&origin, &d.id);
            let current = match changed.get(&id) {
                Some(c) => c.clone(),
                None => self.foreign_entry(&id)?,
            };
            let next = rules::apply(&origin, current.clone(), d);
            if next != current {
                changed.insert(id, next);
            }
        }
        let mut docs = Vec::with_capacity(changed.len() + 1);
        for (id, entry) in &changed {
            let Some(e) = entry else { continue };
            let body = serde_json::to_string(e).map_err(|e| AppError::Internal(e.to_string()))?;
            docs.push(ExchangeDoc { kind: FOREIGN.into(), id: id.clone(), subject: e.subject.clone(), body, event: 0 });
        }
        let updated = Peer {
            size: head.size,
            root: xinyong_ledger::hex(&head.root),
            checkpoint: header.checkpoint.clone(),
            batches: peer.batches + 1,
            last_import_ms: Some(now_ms()),
            ..peer
        };
        docs.push(peer_doc(&updated)?);
        let facts = BTreeMap::from([
            ("origin".to_string(), origin.clone()),
            ("size".to_string(), head.size.to_string()),
            ("root".to_string(), updated.root.clone()),
            ("sha256".to_string(), header.sha256.clone()),
            ("deltas".to_string(), header.deltas.to_string()),
        ]);
        let event =
            EventBody::exchange(EventKind::ExchangeImported, "", &peer_id(&origin), facts, &provenance("exchange"));
        let expect = Expect { id: peer_id(&origin), at: Some(peer_event) };
        let (index, _) =
            self.db().write(|s| Ok(s.put_exchange_docs(&docs, Some(&expect), &event, self.key(), now_ms())?))?;
        self.after_write();
        Ok(Imported {
            origin,
            size: head.size,
            deltas: header.deltas,
            entries_changed: (docs.len() - 1) as u64,
            already_applied: false,
            ledger_index: Some(index),
        })
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

fn peer_doc(p: &Peer) -> Result<ExchangeDoc> {
    Ok(ExchangeDoc {
        kind: PEER.into(),
        id: peer_id(&p.origin),
        subject: String::new(),
        body: serde_json::to_string(p).map_err(|e| AppError::Internal(e.to_string()))?,
        event: 0,
    })
}
