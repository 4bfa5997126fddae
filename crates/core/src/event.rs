//! Events: every change to credit data is one event, and each event's canonical bytes
//! become one leaf of the ledger. Canonical = JSON with keys in lexicographic order,
//! no whitespace, integers only — so anyone can re-derive the bytes and the hash.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::record::ValidRecord;

/// Version of the event encoding, inside every payload.
pub const EVENT_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    #[serde(rename = "subject.created")]
    SubjectCreated,
    #[serde(rename = "record.created")]
    RecordCreated,
    #[serde(rename = "record.corrected")]
    RecordCorrected,
    #[serde(rename = "record.revoked")]
    RecordRevoked,
    /// Prior notice of an intended listing (列入前告知).
    #[serde(rename = "listing.noticed")]
    ListingNoticed,
    /// The subject's objection (异议) to a noticed listing.
    #[serde(rename = "listing.objected")]
    ListingObjected,
    /// The listing decision (列入决定).
    #[serde(rename = "listing.decided")]
    ListingDecided,
    /// An entry of a list that follows from records (对象清单), derived from a record by a
    /// rule of `data/lists/derivations.toml`.
    #[serde(rename = "listing.derived")]
    ListingDerived,
    /// Removal (移出) or withdrawal of a listing.
    #[serde(rename = "listing.removed")]
    ListingRemoved,
    /// A credit repair granted for a record (信用修复): publication and sharing stop.
    #[serde(rename = "record.repaired")]
    RecordRepaired,
    /// A due-process case opened: objection, repair application, rectification notice,
    /// interview (see `case`).
    #[serde(rename = "case.filed")]
    CaseFiled,
    /// A case decided (or a rectification's outcome recorded).
    #[serde(rename = "case.decided")]
    CaseDecided,
    /// A case withdrawn by its applicant.
    #[serde(rename = "case.withdrawn")]
    CaseWithdrawn,
    /// An open case's deadline recomputed (the calendar for its year was added).
    #[serde(rename = "case.rescheduled")]
    CaseRescheduled,
    /// A year of the official working-day calendar added by an administrator.
    #[serde(rename = "calendar.year_added")]
    CalendarYearAdded,
    /// A credit commitment (信用承诺) taken on: its record, matter and due date (see
    /// `commitment`).
    #[serde(rename = "commitment.signed")]
    CommitmentSigned,
    /// A commitment kept (已履约), with the department's evidence.
    #[serde(rename = "commitment.fulfilled")]
    CommitmentFulfilled,
    /// A commitment broken (未履约): found by a department, reported in its file, or
    /// noticed by the clock the day after its due date.
    #[serde(rename = "commitment.breached")]
    CommitmentBreached,
    /// An inspection plan (双随机抽查计划) committed: its rules and the hashes of its
    /// population and roster, before the draw (see `inspection`).
    #[serde(rename = "inspection.planned")]
    InspectionPlanned,
    /// An inspection plan's draw: the signed head it was seeded from and the draw's digest.
    #[serde(rename = "inspection.drawn")]
    InspectionDrawn,
    /// A batch of deltas sent to another platform (see `exchange`): what it covers and
    /// its digest, so the batch is anchored in the sender's ledger.
    #[serde(rename = "exchange.exported")]
    ExchangeExported,
    /// A platform whose batches this one accepts, and its published key.
    #[serde(rename = "exchange.peer_trusted")]
    ExchangePeerTrusted,
    /// A batch from another platform applied: its origin, the sender's head and digest.
    #[serde(rename = "exchange.imported")]
    ExchangeImported,
    /// An agency's subscription (订阅) to a subject, with its purpose and relation.
    #[serde(rename = "subscription.opened")]
    SubscriptionOpened,
    /// An agency's acknowledgement that it applied delivered deltas (a repair, a
    /// revocation, a removal) to what it re-publishes.
    #[serde(rename = "subscription.acknowledged")]
    SubscriptionAcknowledged,
    /// A witness (another platform) this one asks to cosign its tree heads: its name,
    /// key and address.
    #[serde(rename = "witness.added")]
    WitnessAdded,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::SubjectCreated => "subject.created",
            EventKind::RecordCreated => "record.created",
            EventKind::RecordCorrected => "record.corrected",
            EventKind::RecordRevoked => "record.revoked",
            EventKind::ListingNoticed => "listing.noticed",
            EventKind::ListingObjected => "listing.objected",
            EventKind::ListingDecided => "listing.decided",
            EventKind::ListingRemoved => "listing.removed",
            EventKind::ListingDerived => "listing.derived",
            EventKind::RecordRepaired => "record.repaired",
            EventKind::CaseFiled => "case.filed",
            EventKind::CaseDecided => "case.decided",
            EventKind::CaseWithdrawn => "case.withdrawn",
            EventKind::CaseRescheduled => "case.rescheduled",
            EventKind::CalendarYearAdded => "calendar.year_added",
            EventKind::CommitmentSigned => "commitment.signed",
            EventKind::CommitmentFulfilled => "commitment.fulfilled",
            EventKind::CommitmentBreached => "commitment.breached",
            EventKind::InspectionPlanned => "inspection.planned",
            EventKind::InspectionDrawn => "inspection.drawn",
            EventKind::ExchangeExported => "exchange.exported",
            EventKind::ExchangePeerTrusted => "exchange.peer_trusted",
            EventKind::ExchangeImported => "exchange.imported",
            EventKind::SubscriptionOpened => "subscription.opened",
            EventKind::SubscriptionAcknowledged => "subscription.acknowledged",
            EventKind::WitnessAdded => "witness.added",
        }
    }
}

/// Where and when a change came in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// Milliseconds since the Unix epoch.
    pub at: i64,
    pub batch: String,
    /// Providing department.
    pub provider: String,
    /// File name or channel (`api`, `resubmission`).
    pub source: String,
    /// 1-based data row in the source, when there is one.
    pub row: Option<u64>,
}

/// The decoded form of an event payload. Field order is lexicographic on purpose:
/// serde writes struct fields in declaration order, which makes the JSON canonical.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventBody {
    pub at: i64,
    pub batch: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub kind: EventKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub provider: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<u64>,
    pub source: String,
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_kind: Option<String>,
    pub v: u32,
}

impl EventBody {
    pub fn canonical_bytes(&self) -> Vec<u8> {
        // sized up front: growing by doubling was a fifth of intake's parse time
        let hint = 256 + self.fields.as_ref().map_or(0, |f| f.iter().map(|(k, v)| k.len() + v.len() + 8).sum());
        let mut out = Vec::with_capacity(hint);
        // serialising a struct of strings, integers and a BTreeMap cannot fail
        let _ = serde_json::to_writer(&mut out, self);
        out
    }

    pub fn from_bytes(b: &[u8]) -> Result<EventBody, serde_json::Error> {
        serde_json::from_slice(b)
    }

    fn base(kind: EventKind, subject: &str, p: &Provenance) -> EventBody {
        EventBody {
            at: p.at,
            batch: p.batch.clone(),
            fields: None,
            item: None,
            key: None,
            kind,
            name: None,
            provider: p.provider.clone(),
            reason: None,
            row: p.row,
            source: p.source.clone(),
            subject: subject.to_string(),
            subject_kind: None,
            v: EVENT_VERSION,
        }
    }

    /// A record created or corrected: the full normalised content.
    pub fn record(kind: EventKind, r: &ValidRecord, p: &Provenance) -> EventBody {
        EventBody {
            fields: Some(r.fields.clone()),
            item: Some(r.item.clone()),
            key: Some(r.key.clone()),
            ..EventBody::base(kind, r.subject.key(), p)
        }
    }

    pub fn subject_created(code: &str, kind: &str, name: &str, p: &Provenance) -> EventBody {
        EventBody {
            name: Some(name.to_string()),
            subject_kind: Some(kind.to_string()),
            ..EventBody::base(EventKind::SubjectCreated, code, p)
        }
    }

    /// A step of a listing's procedure: `item` is the list type, `key` the listing id,
    /// `fields` the facts of the step (dates, basis, document, persons as JSON text).
    pub fn listing(
        kind: EventKind,
        subject: &str,
        list_type: &str,
        listing_id: i64,
        facts: BTreeMap<String, String>,
        p: &Provenance,
    ) -> EventBody {
        EventBody {
            fields: Some(facts),
            item: Some(list_type.to_string()),
            key: Some(listing_id.to_string()),
            ..EventBody::base(kind, subject, p)
        }
    }

    /// A step of a due-process case: `item` is the case kind, `key` the case id.
    pub fn case(kind: EventKind, c: &crate::case::Case, p: &Provenance) -> EventBody {
        EventBody {
            fields: Some(crate::case::step_facts(c)),
            item: Some(c.kind.as_str().to_string()),
            key: Some(c.id.to_string()),
            ..EventBody::base(kind, &c.subject, p)
        }
    }

    /// A repair granted for a record: `reason` names the case.
    pub fn record_repaired(subject: &str, item: &str, key: &str, case_id: i64, p: &Provenance) -> EventBody {
        EventBody {
            item: Some(item.to_string()),
            key: Some(key.to_string()),
            reason: Some(format!("case:{case_id}")),
            ..EventBody::base(EventKind::RecordRepaired, subject, p)
        }
    }

    /// A step of a credit commitment: `item` is `credit_commitment` (the catalog item of
    /// its record), `key` the id of that record, `fields` the facts of the step.
    pub fn commitment(
        kind: EventKind,
        c: &crate::commitment::Commitment,
        facts: BTreeMap<String, String>,
        p: &Provenance,
    ) -> EventBody {
        EventBody {
            fields: Some(facts),
            item: Some(crate::commitment::ITEM.to_string()),
            key: Some(c.record_id.to_string()),
            ..EventBody::base(kind, &c.subject, p)
        }
    }

    /// A step of an inspection plan: about no one subject (its subject is empty); the
    /// plan's id is its key.
    pub fn inspection(kind: EventKind, plan_id: &str, facts: BTreeMap<String, String>, p: &Provenance) -> EventBody {
        EventBody { fields: Some(facts), key: Some(plan_id.to_string()), ..EventBody::base(kind, "", p) }
    }

    /// A step of the exchange between platforms or of an agency's subscription: `subject`
    /// empty unless it is about one, `key` what it is about (a peer, a batch).
    pub fn exchange(
        kind: EventKind,
        subject: &str,
        key: &str,
        facts: BTreeMap<String, String>,
        p: &Provenance,
    ) -> EventBody {
        EventBody { fields: Some(facts), key: Some(key.to_string()), ..EventBody::base(kind, subject, p) }
    }

    pub fn record_revoked(subject: &str, item: &str, key: &str, reason: &str, p: &Provenance) -> EventBody {
        EventBody {
            item: Some(item.to_string()),
            key: Some(key.to_string()),
            reason: Some(reason.to_string()),
            ..EventBody::base(EventKind::RecordRevoked, subject, p)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn canonical_bytes_have_sorted_keys_and_round_trip() {
        let p = Provenance {
            at: 1,
            batch: "b".into(),
            provider: "市场监管局".into(),
            source: "f.csv".into(),
            row: Some(3),
        };
        let mut fields = BTreeMap::new();
        fields.insert("乙".to_string(), "2".to_string());
        fields.insert("甲".to_string(), "1\"\n".to_string());
        let mut body = EventBody::subject_created("91110108551385082Q", "enterprise", "某公司", &p);
        body.fields = Some(fields);
        body.reason = Some("r".into());
        let bytes = body.canonical_bytes();
        // re-serialising through a generic (sorted) map gives the same bytes
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(serde_json::to_vec(&v).unwrap(), bytes);
        assert_eq!(EventBody::from_bytes(&bytes).unwrap(), body);
    }
}
