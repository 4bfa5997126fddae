//! Exchange between platforms (京津冀, 长三角, 异地互认) and feeds for agencies: the
//! delta format, what each ledger event becomes in it, and what a receiver's copy of
//! a sender's entry becomes under each delta. Pure; the files, signatures and proofs
//! around it live in `app::exchange`. The format is documented in `docs/EXCHANGE.md`.
//!
//! Why deltas follow the sender's ledger: every change already is one event there, so a
//! delta names the event's index and anyone can ask the sender for its inclusion proof;
//! repairs, revocations and removals are deltas of their own, so a receiver that
//! applies the stream in order can never keep publishing what the sender withdrew.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::event::{EventBody, EventKind};

/// The first line of a batch file names its format.
pub const FORMAT: &str = "xinyong-exchange/1";

/// What a delta does to the receiver's copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = DeltaOp))]
pub enum Op {
    /// A new record, or a listing decided (in force).
    Add,
    /// A record corrected: its fields replaced.
    Modify,
    /// A listing removed (early removal, withdrawal, the provider's deletion).
    Remove,
    /// Credit repair (信用修复): publication and sharing stop from its day.
    Repair,
    /// The decision was revoked: void from its start.
    Revoke,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Add => "add",
            Op::Modify => "modify",
            Op::Remove => "remove",
            Op::Repair => "repair",
            Op::Revoke => "revoke",
        }
    }

    /// A delta that ends an entry's use (what re-publishers must apply and acknowledge).
    pub fn ends_use(self) -> bool {
        matches!(self, Op::Remove | Op::Repair | Op::Revoke)
    }
}

/// What a delta is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = DeltaTarget))]
pub enum Target {
    /// A record of a catalog item.
    Record,
    /// An entry of a list (名单).
    Listing,
}

/// One change, as it travels: one line of a batch or one element of a feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delta {
    /// The sender's ledger index of the event this delta comes from.
    pub index: u64,
    pub op: Op,
    pub target: Target,
    /// The entry's identity at the sender, stable across its deltas: provider, item and
    /// key for a record (its identity in the sender's store), `listing:<id>` for a listing.
    pub id: String,
    /// The subject's code (USCC, resident ID or typed key).
    pub subject: String,
    /// The catalog item of a record, or the list type of a listing.
    pub item: String,
    /// The providing (or deciding) department at the sender.
    pub provider: String,
    /// When the sender recorded the change (ms since the Unix epoch).
    pub at: i64,
    /// The content: a record's fields, a listing's decided facts (`add`, `modify`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
    /// Why (a revocation's reason, a removal's kind and reason, a repair's case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The identity of a record at the sender: provider, item and the item's key.
pub fn record_id(provider: &str, item: &str, key: &str) -> String {
    format!("{provider}|{item}|{key}")
}

/// The identity of a listing at the sender.
pub fn listing_id(key: &str) -> String {
    format!("listing:{key}")
}

/// What an event becomes as a delta, if it travels at all: records created, corrected,
/// revoked and repaired; listings decided (or derived) and removed. Notices, objections,
/// cases, commitments and the platform's own bookkeeping stay home. `travels` says
/// whether an item's records may leave (its disclosure); it is asked only of records.
pub fn delta_of(index: u64, e: &EventBody, travels: impl Fn(&str) -> bool) -> Option<Delta> {
    let item = e.item.clone()?;
    let key = e.key.as_deref()?;
    let (op, target) = match e.kind {
        EventKind::RecordCreated => (Op::Add, Target::Record),
        EventKind::RecordCorrected => (Op::Modify, Target::Record),
        EventKind::RecordRevoked => (Op::Revoke, Target::Record),
        EventKind::RecordRepaired => (Op::Repair, Target::Record),
        EventKind::ListingDecided | EventKind::ListingDerived => (Op::Add, Target::Listing),
        EventKind::ListingRemoved => {
            let kind = e.fields.as_ref().and_then(|f| f.get("removal_kind")).map(String::as_str);
            let op = match kind {
                Some("repair") => Op::Repair,
                Some("decision_revoked") => Op::Revoke,
                _ => Op::Remove,
            };
            (op, Target::Listing)
        }
        _ => return None,
    };
    if target == Target::Record && !travels(&item) {
        return None;
    }
    let id = match target {
        Target::Record => record_id(&e.provider, &item, key),
        Target::Listing => listing_id(key),
    };
    let fields = match op {
        Op::Add | Op::Modify => e.fields.clone().unwrap_or_default(),
        _ => BTreeMap::new(),
    };
    let reason = match (op, target) {
        (Op::Add | Op::Modify, _) => None,
        (_, Target::Listing) => e.fields.as_ref().and_then(|f| {
            let kind = f.get("removal_kind").cloned().unwrap_or_default();
            let why = f.get("removal_reason").cloned().unwrap_or_default();
            Some(if why.is_empty() { kind } else { format!("{kind}: {why}") }).filter(|s| !s.is_empty())
        }),
        (_, Target::Record) => e.reason.clone(),
    };
    Some(Delta {
        index,
        op,
        target,
        id,
        subject: e.subject.clone(),
        item,
        provider: e.provider.clone(),
        at: e.at,
        fields,
        reason,
    })
}

/// Where a received entry stands at the receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ForeignState {
    /// In force at the sender: shown, marked with its origin.
    InForce,
    Repaired,
    Revoked,
    Removed,
}

impl ForeignState {
    pub fn as_str(self) -> &'static str {
        match self {
            ForeignState::InForce => "in_force",
            ForeignState::Repaired => "repaired",
            ForeignState::Revoked => "revoked",
            ForeignState::Removed => "removed",
        }
    }
}

/// The receiver's copy of one of the sender's entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForeignEntry {
    /// The sending platform (its ledger origin).
    pub origin: String,
    pub target: Target,
    pub id: String,
    pub subject: String,
    pub item: String,
    pub provider: String,
    pub fields: BTreeMap<String, String>,
    pub state: ForeignState,
    /// The sender's ledger index of the last delta applied.
    pub index: u64,
    /// When the sender recorded that delta (ms since the Unix epoch).
    pub changed_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The receiver's copy after `delta`. A delta at or before the copy's index was applied
/// already (a batch read twice changes nothing); one that ends an entry the receiver
/// never had leaves nothing; a correction of an ended entry does not bring it back.
pub fn apply(origin: &str, current: Option<ForeignEntry>, delta: &Delta) -> Option<ForeignEntry> {
    if let Some(c) = &current
        && c.index >= delta.index
    {
        return current;
    }
    let state = match delta.op {
        Op::Add | Op::Modify => current.as_ref().map_or(ForeignState::InForce, |c| c.state),
        Op::Remove => ForeignState::Removed,
        Op::Repair => ForeignState::Repaired,
        Op::Revoke => ForeignState::Revoked,
    };
    let mut entry = match current {
        Some(c) => c,
        None if delta.op.ends_use() => return None,
        None => ForeignEntry {
            origin: origin.to_string(),
            target: delta.target,
            id: delta.id.clone(),
            subject: delta.subject.clone(),
            item: delta.item.clone(),
            provider: delta.provider.clone(),
            fields: BTreeMap::new(),
            state,
            index: delta.index,
            changed_at: delta.at,
            reason: None,
        },
    };
    if matches!(delta.op, Op::Add | Op::Modify) {
        entry.fields = delta.fields.clone();
    } else {
        entry.reason = delta.reason.clone();
    }
    entry.state = state;
    entry.index = delta.index;
    entry.changed_at = delta.at;
    Some(entry)
}

/// Hex SHA-256 of the delta lines of a batch, as they stand in the file.
pub fn digest(lines: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(lines).iter().map(|b| format!("{b:02x}")).collect()
}

/// The facts of the event that anchors a batch in the sender's ledger.
pub fn anchor_facts(since: u64, until: u64, deltas: u64, sha256: &str, to: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("since".to_string(), since.to_string()),
        ("until".to_string(), until.to_string()),
        ("deltas".to_string(), deltas.to_string()),
        ("sha256".to_string(), sha256.to_string()),
        ("to".to_string(), to.to_string()),
    ])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::event::Provenance;

    fn prov() -> Provenance {
        Provenance { at: 7, batch: "b".into(), provider: "市场监管局".into(), source: "api".into(), row: None }
    }

    fn record_event(kind: EventKind) -> EventBody {
        let mut e = EventBody::record_revoked("91110000000000000X", "admin_penalty", "京罚1号", "错误", &prov());
        e.kind = kind;
        if matches!(kind, EventKind::RecordCreated | EventKind::RecordCorrected) {
            e.reason = None;
            e.fields = Some(BTreeMap::from([("处罚内容".to_string(), "罚款".to_string())]));
        }
        e
    }

    #[test]
    fn records_travel_by_disclosure_and_keep_one_identity_across_their_deltas() {
        let added = delta_of(3, &record_event(EventKind::RecordCreated), |_| true).unwrap();
        let revoked = delta_of(9, &record_event(EventKind::RecordRevoked), |_| true).unwrap();
        assert_eq!((added.op, revoked.op), (Op::Add, Op::Revoke));
        assert_eq!(added.id, revoked.id);
        assert_eq!(added.fields.get("处罚内容").map(String::as_str), Some("罚款"));
        assert!(revoked.fields.is_empty());
        assert_eq!(revoked.reason.as_deref(), Some("错误"));
        assert!(delta_of(3, &record_event(EventKind::RecordCreated), |_| false).is_none());
        // a revocation of an item that does not travel does not travel either
        assert!(delta_of(9, &record_event(EventKind::RecordRevoked), |_| false).is_none());
    }

    #[test]
    fn listing_removals_say_why_by_their_kind() {
        let removed = |kind: &str| {
            let facts = BTreeMap::from([
                ("removal_kind".to_string(), kind.to_string()),
                ("removal_reason".to_string(), "期满".to_string()),
            ]);
            let e = EventBody::listing(EventKind::ListingRemoved, "91110000000000000X", "serious", 4, facts, &prov());
            delta_of(1, &e, |_| false).unwrap()
        };
        assert_eq!(removed("repair").op, Op::Repair);
        assert_eq!(removed("decision_revoked").op, Op::Revoke);
        assert_eq!(removed("early_removal").op, Op::Remove);
        assert_eq!(removed("early_removal").id, listing_id("4"));
        assert_eq!(removed("repair").reason.as_deref(), Some("repair: 期满"));
        let noticed = EventBody::listing(EventKind::ListingNoticed, "x", "serious", 4, BTreeMap::new(), &prov());
        assert!(delta_of(1, &noticed, |_| true).is_none());
    }

    fn any_delta() -> impl Strategy<Value = Delta> {
        (0u64..40, 0usize..5, "[a-c]{1,2}").prop_map(|(index, op, value)| Delta {
            index,
            op: [Op::Add, Op::Modify, Op::Remove, Op::Repair, Op::Revoke][op],
            target: Target::Record,
            id: "p|i|k".into(),
            subject: "s".into(),
            item: "i".into(),
            provider: "p".into(),
            at: index as i64,
            fields: BTreeMap::from([("f".to_string(), value)]),
            reason: None,
        })
    }

    fn replay(deltas: &[Delta]) -> Option<ForeignEntry> {
        deltas.iter().fold(None, |cur, d| apply("o", cur, d))
    }

    proptest! {
        /// A batch read twice, or any delta seen again, changes nothing.
        #[test]
        fn applying_a_stream_again_changes_nothing(mut deltas in proptest::collection::vec(any_delta(), 0..12)) {
            deltas.sort_by_key(|d| d.index);
            let once = replay(&deltas);
            let twice = deltas.iter().fold(once.clone(), |cur, d| apply("o", cur, d));
            prop_assert_eq!(once, twice);
        }

        /// After a repair, revocation or removal the copy is never in force again, and
        /// its state is that of the last delta that ended its use.
        #[test]
        fn an_ended_entry_stays_ended(mut deltas in proptest::collection::vec(any_delta(), 1..12)) {
            deltas.sort_by_key(|d| d.index);
            deltas.dedup_by_key(|d| d.index);
            let end = deltas.iter().rev().find(|d| d.op.ends_use()).map(|d| d.op);
            let copy = replay(&deltas);
            let created = deltas.iter().position(|d| !d.op.ends_use());
            match (copy, end) {
                (None, _) => prop_assert!(created.is_none()),
                (Some(c), None) => prop_assert_eq!(c.state, ForeignState::InForce),
                (Some(c), Some(op)) => {
                    let first_end_after_create = deltas[created.unwrap_or(0)..].iter().any(|d| d.op.ends_use());
                    if first_end_after_create {
                        let want = match op {
                            Op::Repair => ForeignState::Repaired,
                            Op::Revoke => ForeignState::Revoked,
                            _ => ForeignState::Removed,
                        };
                        prop_assert_eq!(c.state, want);
                    } else {
                        prop_assert_eq!(c.state, ForeignState::InForce);
                    }
                }
            }
        }
    }
}
