//! Storage shapes of due process: a [`Change`] is one case step with the effects of
//! its decision and the notifications it sends, written in one transaction with its
//! ledger events (so a granted repair stops publication in the same commit as the
//! decision, and nobody is told of a change that did not happen).

use serde::Serialize;
use xinyong_core::case::Case;
use xinyong_core::event::EventKind;
use xinyong_core::listing::Listing;
use xinyong_ledger::{Hash, SignedHead};

use crate::NewRecord;

/// What a decision does to the record or listing it is about.
#[derive(Debug, Clone)]
pub enum Effect {
    /// 信用修复: a `record.repaired` event; publication and sharing stop.
    RepairRecord { record_id: i64, case_id: i64 },
    /// 撤销: a `record.revoked` event; the record is void from its start.
    RevokeRecord { record_id: i64, reason: String },
    /// 更正: a `record.corrected` event with the new content (same key).
    CorrectRecord { record_id: i64, content: Box<NewRecord> },
    /// A step of a listing's procedure (a removal after repair or revocation).
    Listing { listing: Box<Listing>, kind: EventKind },
    /// An event of the platform itself (a calendar year added), appended as given.
    Event { body: Box<xinyong_core::event::EventBody> },
}

/// A case step: the case as it will stand (id 0 = a new case), the event kind of the
/// step and, for a new case, the hash of its query code (查询码).
#[derive(Debug, Clone)]
pub struct CaseStep {
    pub case: Case,
    pub kind: EventKind,
    pub query_hash: Option<Hash>,
}

/// One notification for one recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewNotification {
    /// `department`, `account` or `subject`.
    pub recipient_kind: String,
    pub recipient: String,
    pub subject_code: String,
    /// What it is about: `record_revoked`, `record_corrected`, `record_repaired`,
    /// `case_filed`, `case_decided`, `listing_removed`.
    pub topic: String,
    pub text_zh: String,
    pub text_en: String,
}

/// A change written in one transaction.
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub case: Option<CaseStep>,
    pub effects: Vec<Effect>,
    pub notifications: Vec<NewNotification>,
}

/// What a change wrote.
#[derive(Debug, Clone)]
pub struct Changed {
    /// The case as stored (id and event indexes filled in).
    pub case: Option<Case>,
    /// Every event appended, in order.
    pub events: Vec<u64>,
    pub head: SignedHead,
}

/// Which cases to list, in id order after `after_id`.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub subject: Option<String>,
    pub department: Option<String>,
    /// `open`, `decided`, `withdrawn`.
    pub state: Option<String>,
    pub kind: Option<String>,
    /// Open cases due before this day (`YYYY-MM-DD`): the overdue ones.
    pub due_before: Option<String>,
    pub after_id: i64,
    pub limit: u32,
}

/// A notification as stored, with its delivery state: a case to act on, a decision,
/// or a change to information the recipient received before (which must no longer be
/// used).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notification {
    pub id: i64,
    /// `subject`, `department` or `account`.
    pub recipient_kind: String,
    pub recipient: String,
    pub subject_code: String,
    /// `case_filed`, `case_decided`, `record_repaired`, `record_revoked`,
    /// `record_corrected`, `listing_removed`.
    pub topic: String,
    pub text_zh: String,
    pub text_en: String,
    /// The ledger event it is about.
    pub event_index: u64,
    pub created_ms: i64,
    /// `pending`, `delivered`, `failed` (webhook retries exhausted) or `read`.
    pub state: String,
    pub attempts: i64,
    pub read_ms: Option<i64>,
}

/// What an effect on a record writes: its event and the row's new state.
pub(crate) struct RecordEffect {
    pub record_id: i64,
    pub subject: String,
    pub kind: EventKind,
    pub payload: Vec<u8>,
    pub update: RecordUpdate,
}

pub(crate) enum RecordUpdate {
    Repaired,
    Revoked,
    Corrected { fingerprint: Hash, decision_date: Option<String>, tier: Option<&'static str> },
}

/// Decides an effect on the stored record `rec` (both back ends): refuses a step the
/// record's state no longer allows (a `Conflict`: someone acted first).
pub(crate) fn record_effect(
    effect: &Effect,
    rec: &crate::RecordRow,
    p: &xinyong_core::event::Provenance,
) -> crate::Result<Option<RecordEffect>> {
    use xinyong_core::event::EventBody;
    let conflict = |what: &str| {
        Err(crate::StoreError::Conflict(format!(
            "记录 {} {what}，请刷新后重试 / record {} is {}",
            rec.id,
            rec.id,
            if rec.status == "revoked" { "revoked" } else { "already repaired" }
        )))
    };
    if rec.status == "revoked" {
        return conflict("已撤销");
    }
    let (kind, payload, update) = match effect {
        Effect::RepairRecord { case_id, .. } => {
            if rec.repaired_event.is_some() {
                return conflict("已修复");
            }
            let body = EventBody::record_repaired(&rec.subject_code, &rec.item, &rec.key, *case_id, p);
            (EventKind::RecordRepaired, body.canonical_bytes(), RecordUpdate::Repaired)
        }
        Effect::RevokeRecord { reason, .. } => {
            let body = EventBody::record_revoked(&rec.subject_code, &rec.item, &rec.key, reason, p);
            (EventKind::RecordRevoked, body.canonical_bytes(), RecordUpdate::Revoked)
        }
        Effect::CorrectRecord { content, .. } => {
            let r = &content.record;
            if r.key != rec.key || r.item != rec.item || r.subject.key() != rec.subject_code {
                return Err(crate::StoreError::Conflict(format!(
                    "更正后的记录须保持同一主体、事项和编号 / a correction keeps the record's subject, item and key (record {})",
                    rec.id
                )));
            }
            let payload = content.payload_as(EventKind::RecordCorrected)?;
            let update = RecordUpdate::Corrected {
                fingerprint: content.fingerprint,
                decision_date: r.decision_date.map(xinyong_core::record::date_string),
                tier: r.tier.map(crate::plan::tier_text),
            };
            (EventKind::RecordCorrected, payload, update)
        }
        Effect::Listing { .. } | Effect::Event { .. } => return Ok(None),
    };
    Ok(Some(RecordEffect { record_id: rec.id, subject: rec.subject_code.clone(), kind, payload, update }))
}

impl Effect {
    /// The record an effect is on, if it is on a record.
    pub fn record_id(&self) -> Option<i64> {
        match self {
            Effect::RepairRecord { record_id, .. }
            | Effect::RevokeRecord { record_id, .. }
            | Effect::CorrectRecord { record_id, .. } => Some(*record_id),
            Effect::Listing { .. } | Effect::Event { .. } => None,
        }
    }
}

/// Where a machine recipient takes its notifications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Webhook {
    pub recipient_kind: String,
    pub recipient: String,
    pub url: String,
    /// Signs each delivery (HMAC-SHA256 of the body); shown once when registered.
    #[serde(skip)]
    pub secret: String,
    pub created_ms: i64,
}

/// A notification due for delivery to its recipient's webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub notification: Notification,
    pub url: String,
    pub secret: String,
}

/// Attempts before a delivery is given up (`failed`; it stays in the inbox).
pub const MAX_ATTEMPTS: i64 = 8;

/// When to try again after `attempts` failures: 30 s doubling, at most 6 h.
pub fn retry_after_ms(attempts: i64) -> i64 {
    let exp = u32::try_from(attempts.clamp(0, 20)).unwrap_or(20);
    30_000_i64.saturating_mul(1_i64 << exp).min(6 * 3600 * 1000)
}

/// The state after an attempt (`attempts` counting it) and when to try next.
pub(crate) fn after_attempt(attempts: i64, delivered: bool, now_ms: i64) -> (&'static str, Option<i64>) {
    if delivered {
        ("delivered", None)
    } else if attempts >= MAX_ATTEMPTS {
        ("failed", None)
    } else {
        ("pending", Some(now_ms + retry_after_ms(attempts)))
    }
}
