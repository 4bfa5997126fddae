//! Events: every change to credit data is one event, and each event's canonical bytes
//! become one leaf of the ledger. Canonical = JSON with keys in lexicographic order,
//! no whitespace, integers only — so anyone can re-derive the bytes and the hash.

use std::borrow::Cow;
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

/// Whether `payload` is the canonical encoding of an event of `subject`: exactly the
/// bytes `EventBody::from_bytes(payload)` re-encoded by [`EventBody::canonical_bytes`]
/// would give. Checked in one pass over the bytes, without building the event: the
/// ledger's verification runs this on every event, and decoding and re-encoding was
/// most of its cost. The fields come in [`EventBody`]'s order, optional ones absent
/// rather than null; strings carry serde_json's escapes and no others; integers have no
/// sign on zero, no leading zeros, no fraction, and fit their type; the `fields` map has
/// strictly increasing keys.
pub fn is_canonical_event(payload: &[u8], subject: &str) -> bool {
    canonical_subject(payload).is_some_and(|s| s.as_ref() == subject.as_bytes())
}

/// The decoded `subject` of a canonical event payload; `None` when it is not canonical.
fn canonical_subject(payload: &[u8]) -> Option<Cow<'_, [u8]>> {
    // UTF-8 checked once for the whole payload (the strings' bytes between ASCII quotes
    // are then valid too): per string, this was a third of the ledger's verification
    simdutf8::basic::from_utf8(payload).ok()?;
    let mut p = Scan { b: payload, i: 0 };
    p.lit(b"{\"at\":")?;
    p.integer(i64::MIN as i128, i64::MAX as i128)?;
    p.lit(b",\"batch\":")?;
    p.string()?;
    if p.opt_key(b",\"fields\":") {
        p.lit(b"{")?;
        let mut last: Option<Cow<'_, [u8]>> = None;
        if !p.opt_key(b"}") {
            loop {
                let key = decoded(p.string()?);
                if last.as_ref().is_some_and(|l| *l >= key) {
                    return None;
                }
                last = Some(key);
                p.lit(b":")?;
                p.string()?;
                if p.opt_key(b"}") {
                    break;
                }
                p.lit(b",")?;
            }
        }
    }
    for optional in [&b",\"item\":"[..], b",\"key\":"] {
        if p.opt_key(optional) {
            p.string()?;
        }
    }
    p.lit(b",\"kind\":")?;
    let kind = std::str::from_utf8(p.string()?).ok()?;
    let kind: serde::de::value::StrDeserializer<'_, serde::de::value::Error> =
        serde::de::IntoDeserializer::into_deserializer(kind);
    EventKind::deserialize(kind).ok()?;
    if p.opt_key(b",\"name\":") {
        p.string()?;
    }
    p.lit(b",\"provider\":")?;
    p.string()?;
    if p.opt_key(b",\"reason\":") {
        p.string()?;
    }
    if p.opt_key(b",\"row\":") {
        p.integer(0, u64::MAX as i128)?;
    }
    p.lit(b",\"source\":")?;
    p.string()?;
    p.lit(b",\"subject\":")?;
    let subject = decoded(p.string()?);
    if p.opt_key(b",\"subject_kind\":") {
        p.string()?;
    }
    p.lit(b",\"v\":")?;
    p.integer(0, u32::MAX as i128)?;
    p.lit(b"}")?;
    (p.i == payload.len()).then_some(subject)
}

/// A cursor over a payload for [`canonical_subject`].
struct Scan<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Scan<'a> {
    fn lit(&mut self, lit: &[u8]) -> Option<()> {
        self.opt_key(lit).then_some(())
    }

    fn opt_key(&mut self, lit: &[u8]) -> bool {
        let here = self.b[self.i..].starts_with(lit);
        if here {
            self.i += lit.len();
        }
        here
    }

    /// A string as serde_json writes it; returns the bytes between the quotes. The
    /// payload is valid UTF-8 (checked by the caller).
    fn string(&mut self) -> Option<&'a [u8]> {
        self.lit(b"\"")?;
        let start = self.i;
        loop {
            // jump to the next quote or escape; what lies between may hold no control byte
            let run = memchr::memchr2(b'"', b'\\', &self.b[self.i..])?;
            if self.b[self.i..self.i + run].iter().any(|&c| c < 0x20) {
                return None;
            }
            self.i += run + 1;
            if self.b[self.i - 1] == b'"' {
                break;
            }
            let e = *self.b.get(self.i)?;
            self.i += 1;
            match e {
                b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                b'u' => {
                    // only the control characters without a short escape
                    let hex = self.b.get(self.i..self.i + 4)?;
                    self.i += 4;
                    let digit = |h: u8| matches!(h, b'0'..=b'9' | b'a'..=b'f');
                    if hex[0] != b'0' || hex[1] != b'0' || !matches!(hex[2], b'0' | b'1') || !digit(hex[3]) {
                        return None;
                    }
                    let byte = (hex[2] - b'0') * 16 + if hex[3] <= b'9' { hex[3] - b'0' } else { hex[3] - b'a' + 10 };
                    if matches!(byte, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d) {
                        return None;
                    }
                }
                _ => return None,
            }
        }
        Some(&self.b[start..self.i - 1])
    }

    /// An integer as serde_json writes it, within [min, max].
    fn integer(&mut self, min: i128, max: i128) -> Option<i128> {
        let start = self.i;
        let negative = self.opt_key(b"-");
        let digits = self.i;
        while self.b.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        let text = &self.b[digits..self.i];
        if text.is_empty() || text.len() > 20 || (text[0] == b'0' && (text.len() > 1 || negative)) {
            return None;
        }
        let n: i128 = std::str::from_utf8(&self.b[start..self.i]).ok()?.parse().ok()?;
        (min..=max).contains(&n).then_some(n)
    }
}

/// A canonical string's text: its bytes, unescaped when it has escapes.
fn decoded(raw: &[u8]) -> Cow<'_, [u8]> {
    if !raw.contains(&b'\\') {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] != b'\\' {
            out.push(raw[i]);
            i += 1;
            continue;
        }
        let (byte, len) = match raw[i + 1] {
            b'b' => (0x08, 2),
            b'f' => (0x0c, 2),
            b'n' => (0x0a, 2),
            b'r' => (0x0d, 2),
            b't' => (0x09, 2),
            b'u' => {
                let hex = |h: u8| if h <= b'9' { h - b'0' } else { h - b'a' + 10 };
                (hex(raw[i + 4]) * 16 + hex(raw[i + 5]), 6)
            }
            other => (other, 2),
        };
        out.push(byte);
        i += len;
    }
    Cow::Owned(out)
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

    /// The old definition of a canonical payload, which `is_canonical_event` replaces.
    fn canonical_by_round_trip(payload: &[u8], subject: &str) -> bool {
        matches!(EventBody::from_bytes(payload), Ok(b) if b.canonical_bytes() == payload && b.subject == subject)
    }

    fn body_from(at: i64, texts: &[String], fields: &BTreeMap<String, String>, row: Option<u64>) -> EventBody {
        let p = Provenance { at, batch: texts[0].clone(), provider: texts[1].clone(), source: texts[2].clone(), row };
        let mut body = EventBody::subject_created(&texts[3], "enterprise", &texts[4], &p);
        body.fields = (!fields.is_empty()).then(|| fields.clone());
        body.reason = (!texts[5].is_empty()).then(|| texts[5].clone());
        body
    }

    proptest::proptest! {
        /// Every canonical payload passes; every edit of one passes exactly when the old
        /// round-trip definition says it is canonical.
        #[test]
        fn the_one_pass_check_agrees_with_the_round_trip(
            at in proptest::prelude::any::<i64>(),
            texts in proptest::collection::vec("[a-z\"\\\n\u{1}\u{7f}\t甲乙é]{0,6}", 6),
            fields in proptest::collection::btree_map("[a-z\"甲乙]{0,4}", "[a-z\"\n乙]{0,4}", 0..5),
            row in proptest::option::of(0u64..1000),
            edit in 0usize..400,
            with in proptest::sample::select(vec![
                " ", "\\u0061", "\\u001f", "\\u001F", "\\u000a", "\\n", "\\/", "\\\\", "{", "}", ",", ":", "-", "0", "-0", ".5", "e3",
                "\"a\":\"b\",", "\"row\":1,", "\"fields\":{},", "null", "1", "\"", "\u{7f}", "\u{1}", "\u{e9}",
            ]),
            cut in 0usize..3,
        ) {
            let body = body_from(at, &texts, &fields, row);
            let bytes = body.canonical_bytes();
            proptest::prop_assert!(is_canonical_event(&bytes, &body.subject));
            let other = format!("{}x", body.subject);
            proptest::prop_assert!(!is_canonical_event(&bytes, &other));
            let mut edited = bytes.clone();
            let at_byte = edit % (edited.len() + 1);
            if cut == 0 {
                edited.splice(at_byte..at_byte, with.bytes());
            } else {
                edited.drain(at_byte..(at_byte + cut).min(edited.len()));
            }
            proptest::prop_assert_eq!(
                is_canonical_event(&edited, &body.subject),
                canonical_by_round_trip(&edited, &body.subject),
                "{}", String::from_utf8_lossy(&edited)
            );
        }
    }

    #[test]
    fn unsorted_or_repeated_field_keys_are_not_canonical() {
        let p = Provenance { at: 1, batch: "b".into(), provider: "p".into(), source: "s".into(), row: None };
        let mut body = EventBody::subject_created("91110108551385082Q", "enterprise", "某公司", &p);
        body.fields = Some(BTreeMap::from([("a".to_string(), "1".to_string()), ("b".to_string(), "2".to_string())]));
        let good = String::from_utf8(body.canonical_bytes()).unwrap();
        assert!(is_canonical_event(good.as_bytes(), &body.subject));
        for bad in
            [good.replace(r#"{"a":"1","b":"2"}"#, r#"{"b":"2","a":"1"}"#), good.replace(r#""b":"2""#, r#""a":"2""#)]
        {
            assert_ne!(bad, good);
            assert!(!is_canonical_event(bad.as_bytes(), &body.subject), "{bad}");
            assert!(!canonical_by_round_trip(bad.as_bytes(), &body.subject), "{bad}");
        }
    }
}
