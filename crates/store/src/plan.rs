//! What a batch does to the ledger, decided once for every back end.
//!
//! An append has three steps. The back end looks up what the batch touches
//! ([`touched`]: the subject codes and record identities of its records) and fills a
//! [`Stored`] with what it found (subjects that exist, with their names where a
//! registration row projects onto them; records by identity with id, fingerprint and
//! subject; the next record id). [`plan`] then decides every entry in input order, each
//! one seeing the effects of the entries before it, without I/O: the ledger events in
//! order with their indexes, the subjects to insert or update, the records to insert
//! or correct, the quarantine writes, and each entry's [`Outcome`]. The back end
//! executes the plan in one transaction and signs the new head.
//!
//! Quarantine ids are the one thing the plan cannot know: an entry whose row goes to
//! quarantine gets its outcome from the back end's [`QuarantineWrite::Insert`]
//! ([`Plan::run_quarantine`]).

use std::borrow::Cow;
use std::collections::HashMap;

use xinyong_core::catalog::Tier;
use xinyong_core::event::{EventBody, EventKind};
use xinyong_core::record::{FieldError, SubjectInfo};
use xinyong_ledger::{Hash, TreeHash, leaf_hash};

use crate::{BatchOutcome, Entry, NewQuarantine, NewRecord, Outcome, PreparedEvent, Result, StoreError};

/// A record's identity: provider, item, key.
pub type Identity<'a> = (&'a str, &'a str, &'a str);

/// What a batch's records touch: what the back end must look up before [`plan`].
#[derive(Debug, Default)]
pub struct Touched<'a> {
    /// Distinct subject codes, sorted (byte order).
    pub codes: Vec<&'a str>,
    /// The codes a registration row projects onto, sorted: their stored names are needed.
    pub renamed: Vec<&'a str>,
    /// Distinct record identities, sorted.
    pub identities: Vec<Identity<'a>>,
}

impl<'a> Touched<'a> {
    /// Whether a registration row of the batch projects onto `code`.
    pub fn is_renamed(&self, code: &str) -> bool {
        self.renamed.binary_search(&code).is_ok()
    }

    /// The batch's own spelling of a code (to key [`Stored::subjects`] with), if it touches it.
    pub fn code(&self, code: &str) -> Option<&'a str> {
        self.codes.binary_search(&code).ok().map(|i| self.codes[i])
    }

    /// The batch's own spelling of an identity, if it touches it.
    pub fn identity(&self, provider: &str, item: &str, key: &str) -> Option<Identity<'a>> {
        self.identities.binary_search(&(provider, item, key)).ok().map(|i| self.identities[i])
    }
}

/// The subject codes and record identities `entries` touch.
pub fn touched(entries: &[Entry]) -> Touched<'_> {
    let mut t = Touched::default();
    for e in entries {
        if let Entry::Record(r) = e {
            let code = r.record.subject.key();
            t.codes.push(code);
            if r.record.subject_info.is_some() {
                t.renamed.push(code);
            }
            t.identities.push((r.provider.as_str(), r.record.item.as_str(), r.record.key.as_str()));
        }
    }
    // sorted and distinct: index probes then walk each B-tree in order
    for v in [&mut t.codes, &mut t.renamed] {
        v.sort_unstable();
        v.dedup();
    }
    t.identities.sort_unstable();
    t.identities.dedup();
    t
}

/// A stored subject's names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    pub name: String,
    pub former_names: Vec<String>,
}

/// A record stored before the batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub id: i64,
    pub fingerprint: Hash,
    pub subject: String,
}

/// What the back end found stored about what a batch touches.
#[derive(Debug, Default)]
pub struct Stored<'a> {
    /// The touched subjects that exist, with their names when [`Touched::renamed`] holds them.
    pub subjects: HashMap<&'a str, Option<Names>>,
    /// The touched record identities that exist.
    pub records: HashMap<Identity<'a>, StoredRecord>,
    /// The id the batch's first new record gets: the largest stored id + 1 (SQLite's
    /// rowid rule, and what PostgreSQL assigns under the ledger lock).
    pub next_record_id: i64,
}

/// One ledger event of the batch.
#[derive(Debug, Clone)]
pub struct PlannedEvent<'a> {
    /// Ledger (leaf) index.
    pub index: u64,
    pub subject: &'a str,
    pub kind: EventKind,
    pub record_id: Option<i64>,
    pub payload: Cow<'a, [u8]>,
    /// The payload as SQLite stores it, when it was packed before the plan (intake's
    /// prepared events, off the writer's thread).
    pub stored: Option<&'a [u8]>,
    pub leaf: Hash,
}

/// The columns of a subject a batch writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectFields<'a> {
    pub name: Cow<'a, str>,
    /// Names the subject had before, oldest first; never its current name.
    pub former_names: Vec<String>,
    pub legal_rep_name: Option<&'a str>,
    pub legal_rep_id: Option<&'a str>,
    /// For an update, `None` keeps the stored division.
    pub division: Option<&'a str>,
    pub industry: Option<&'a str>,
}

impl SubjectFields<'_> {
    /// `former_names` as stored: a JSON array.
    pub fn former_names_json(&self) -> Cow<'static, str> {
        if self.former_names.is_empty() {
            Cow::Borrowed("[]")
        } else {
            Cow::Owned(serde_json::to_string(&self.former_names).unwrap_or_else(|_| "[]".into()))
        }
    }
}

/// A subject the batch creates, as it stands at the end of the batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectInsert<'a> {
    pub code: &'a str,
    pub kind: &'static str,
    /// The index of its `subject.created` event.
    pub created_event: u64,
    pub fields: SubjectFields<'a>,
}

/// A registration row's projection onto a subject stored before the batch (the last
/// one of the batch, with the division of an earlier one when the last has none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectUpdate<'a> {
    pub code: &'a str,
    pub fields: SubjectFields<'a>,
}

/// A record the batch creates, as it stands at the end of the batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordInsert<'a> {
    pub id: i64,
    pub subject: &'a str,
    pub provider: &'a str,
    pub item: &'a str,
    pub key: &'a str,
    pub fingerprint: Hash,
    pub decision_date: Option<String>,
    pub tier: Option<&'static str>,
    /// The event holding its current content.
    pub event_index: u64,
}

/// The last correction of a record stored before the batch: new content, active again
/// (a revocation is undone by a correction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordUpdate {
    pub id: i64,
    pub fingerprint: Hash,
    pub decision_date: Option<String>,
    pub tier: Option<&'static str>,
    pub event_index: u64,
}

/// An old identifier a registration row declares for its subject (written once: the
/// back end ignores one already stored).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct IdentifierInsert<'a> {
    pub scheme: &'static str,
    pub value: &'a str,
    pub subject: &'a str,
    /// The registration record that declared it.
    pub record_id: i64,
}

/// A write to the quarantine table. Executed in order: they depend on each other (a
/// row inserted then known again; an entry resolved, then no longer open).
#[derive(Debug, Clone)]
pub enum QuarantineWrite<'a> {
    /// Adds the row unless the same raw row (provider, item, raw hash) is known; the
    /// back end answers with `Outcome::Quarantined` (the new or the known id).
    Insert { entry: usize, row: Box<Cow<'a, NewQuarantine>> },
    /// Updates the open entry `id` with the row (a resubmission that failed again); the
    /// back end fails with `NotFound` when no open entry has that id, and with
    /// [`same_row_as`] when another entry already holds the same raw row.
    Replace { entry: usize, id: i64, row: &'a NewQuarantine },
    /// Marks the entry `id` resolved by `record_id`.
    Resolve { id: i64, record_id: i64 },
}

/// The refusal of a resubmission whose row is, byte for byte, the row of another
/// entry `other` (one entry per raw row and department): a conflict, not a new entry.
pub(crate) fn same_row_as(id: i64, other: i64) -> crate::StoreError {
    crate::StoreError::Conflict(format!(
        "隔离记录 {id} 更正后与隔离记录 {other} 相同 / quarantine entry {id} as corrected is the same row as entry {other}"
    ))
}

/// Everything a batch writes, in the order the back end executes it.
#[derive(Debug, Default)]
pub struct Plan<'a> {
    /// The ledger size before the batch: the index of the first event.
    pub start: u64,
    /// In ledger order, indexes `start, start + 1, …`.
    pub events: Vec<PlannedEvent<'a>>,
    /// In order of creation.
    pub new_subjects: Vec<SubjectInsert<'a>>,
    /// One per subject, by code.
    pub subject_updates: Vec<SubjectUpdate<'a>>,
    /// In id order.
    pub new_records: Vec<RecordInsert<'a>>,
    /// One per record, by id.
    pub record_updates: Vec<RecordUpdate>,
    /// In input order.
    pub quarantine: Vec<QuarantineWrite<'a>>,
    /// Old identifiers declared by the batch's registration rows, sorted, distinct.
    pub identifiers: Vec<IdentifierInsert<'a>>,
    /// Per entry; `None` until the back end executed the entry's quarantine insert.
    pub outcomes: Vec<Option<Outcome>>,
    pub subjects_created: u64,
}

impl<'a> Plan<'a> {
    /// Refuses to execute a plan made for another ledger size than the back end's.
    pub fn check_start(&self, ledger_size: u64) -> Result<()> {
        if ledger_size != self.start {
            return Err(StoreError::Corrupt(format!("plan starts at {} but the ledger has {ledger_size}", self.start)));
        }
        Ok(())
    }

    /// Executes the quarantine writes in order with `write`, which answers an insert
    /// with its outcome (and the others with `None`).
    pub fn run_quarantine(
        &mut self,
        mut write: impl FnMut(&QuarantineWrite<'a>) -> Result<Option<Outcome>>,
    ) -> Result<()> {
        for w in &self.quarantine {
            let outcome = write(w)?;
            if let (QuarantineWrite::Insert { entry, .. }, Some(o)) = (w, outcome) {
                self.outcomes[*entry] = Some(o);
            }
        }
        Ok(())
    }

    /// The batch's outcome once executed; `head` is the head signed after it.
    pub fn outcome(self, head: Option<xinyong_ledger::SignedHead>) -> Result<BatchOutcome> {
        let outcomes = self
            .outcomes
            .into_iter()
            .enumerate()
            .map(|(i, o)| o.ok_or_else(|| StoreError::Corrupt(format!("entry {i} of the batch was not written"))))
            .collect::<Result<Vec<_>>>()?;
        Ok(BatchOutcome { outcomes, subjects_created: self.subjects_created, head })
    }

    /// The ledger size after the batch.
    pub fn end(&self) -> u64 {
        self.start + self.events.len() as u64
    }
}

/// Where the batch's current state of a subject lives.
#[derive(Clone, Copy)]
enum SubjectAt {
    Stored,
    New(usize),
}

/// Where the batch's current state of a record lives.
#[derive(Clone, Copy)]
enum RecordAt {
    New(usize),
    Updated(usize),
}

/// A record identity the batch has written to.
struct Written<'a> {
    id: i64,
    fingerprint: Hash,
    subject: &'a str,
    at: RecordAt,
}

struct Planner<'a, 's> {
    stored: &'s Stored<'a>,
    plan: Plan<'a>,
    subjects: HashMap<&'a str, SubjectAt>,
    updates_at: HashMap<&'a str, usize>,
    records: HashMap<Identity<'a>, Written<'a>>,
    next_record_id: i64,
    /// The ledger's tree hash: prepared leaves are SHA-256, recomputed for another.
    hash: TreeHash,
}

/// Decides what `entries` do, given what the back end found `stored` (for the codes
/// and identities of [`touched`]`(entries)`) and the ledger size `start`; leaves are
/// hashed with `hash`, the ledger's tree hash.
pub fn plan<'a>(entries: &'a [Entry], stored: &Stored<'a>, start: u64, hash: TreeHash) -> Result<Plan<'a>> {
    let mut p = Planner {
        stored,
        plan: Plan {
            start,
            events: Vec::with_capacity(entries.len()),
            new_records: Vec::with_capacity(entries.len()),
            outcomes: Vec::with_capacity(entries.len()),
            ..Default::default()
        },
        subjects: HashMap::new(),
        updates_at: HashMap::new(),
        records: HashMap::with_capacity(entries.len()),
        next_record_id: stored.next_record_id.max(1),
        hash,
    };
    for (i, e) in entries.iter().enumerate() {
        let outcome = match e {
            Entry::Record(r) => p.record(i, r)?,
            Entry::Quarantine(q) => p.quarantine(i, q),
        };
        p.plan.outcomes.push(outcome);
    }
    let mut plan = p.plan;
    plan.subject_updates.sort_unstable_by(|a, b| a.code.cmp(b.code));
    plan.record_updates.sort_unstable_by_key(|u| u.id);
    plan.identifiers.sort_unstable();
    plan.identifiers.dedup_by(|a, b| (a.scheme, a.value, a.subject) == (b.scheme, b.value, b.subject));
    Ok(plan)
}

impl<'a> Planner<'a, '_> {
    fn push_event(
        &mut self,
        subject: &'a str,
        kind: EventKind,
        record_id: Option<i64>,
        payload: Cow<'a, [u8]>,
        stored: Option<&'a [u8]>,
        leaf: Hash,
    ) -> u64 {
        let index = self.plan.end();
        self.plan.events.push(PlannedEvent { index, subject, kind, record_id, payload, stored, leaf });
        index
    }

    /// [`Self::push_event`] of an event made before the plan; its prepared leaf is
    /// SHA-256, hashed again when the ledger's hash is another.
    fn push_prepared(
        &mut self,
        subject: &'a str,
        kind: EventKind,
        record_id: Option<i64>,
        p: &'a PreparedEvent,
    ) -> u64 {
        let leaf = match self.hash {
            TreeHash::Sha256 => p.leaf,
            other => other.leaf(&p.payload),
        };
        self.push_event(subject, kind, record_id, Cow::Borrowed(&p.payload), Some(&p.stored), leaf)
    }

    fn quarantine(&mut self, entry: usize, q: &'a NewQuarantine) -> Option<Outcome> {
        match q.replaces {
            Some(id) => {
                self.plan.quarantine.push(QuarantineWrite::Replace { entry, id, row: q });
                Some(Outcome::Quarantined { quarantine_id: id, already_known: true })
            }
            None => {
                self.plan.quarantine.push(QuarantineWrite::Insert { entry, row: Box::new(Cow::Borrowed(q)) });
                None
            }
        }
    }

    /// The subject of `r`: created on first sight, with its own event.
    fn subject(&mut self, r: &'a NewRecord) -> SubjectAt {
        let rec = &r.record;
        let code = rec.subject.key();
        if let Some(&at) = self.subjects.get(code) {
            return at;
        }
        let at = if self.stored.subjects.contains_key(code) {
            SubjectAt::Stored
        } else {
            let kind = rec.subject_kind().as_str();
            let created_event = match r.subject_created.as_deref() {
                Some(p) => self.push_prepared(code, EventKind::SubjectCreated, None, p),
                None => {
                    let body = EventBody::subject_created(code, kind, &rec.subject_name, &r.provenance);
                    let bytes = body.canonical_bytes();
                    let leaf = self.hash.leaf(&bytes);
                    self.push_event(code, EventKind::SubjectCreated, None, Cow::Owned(bytes), None, leaf)
                }
            };
            self.plan.new_subjects.push(SubjectInsert {
                code,
                kind,
                created_event,
                fields: SubjectFields {
                    name: Cow::Borrowed(&rec.subject_name),
                    former_names: Vec::new(),
                    legal_rep_name: None,
                    legal_rep_id: None,
                    division: rec.subject.division(),
                    industry: None,
                },
            });
            self.plan.subjects_created += 1;
            SubjectAt::New(self.plan.new_subjects.len() - 1)
        };
        self.subjects.insert(code, at);
        at
    }

    /// A registration row's projection onto its subject. A new name keeps the one it
    /// replaces: the former names become those the subject had, then the row's own
    /// list, then the replaced name, each once, and never the current name.
    fn project(&mut self, at: SubjectAt, code: &'a str, name: &'a str, info: &'a SubjectInfo) -> Result<()> {
        let fields = match at {
            SubjectAt::New(i) => &mut self.plan.new_subjects[i].fields,
            SubjectAt::Stored => {
                let i = match self.updates_at.get(code) {
                    Some(&i) => i,
                    None => {
                        // the subject as stored, before this batch's first row for it
                        let stored = self.stored.subjects.get(code).and_then(Option::as_ref).ok_or_else(|| {
                            StoreError::Corrupt(format!("the names of subject {code} were not looked up"))
                        })?;
                        let fields = SubjectFields {
                            name: Cow::Owned(stored.name.clone()),
                            former_names: stored.former_names.clone(),
                            legal_rep_name: None,
                            legal_rep_id: None,
                            division: None,
                            industry: None,
                        };
                        self.plan.subject_updates.push(SubjectUpdate { code, fields });
                        self.updates_at.insert(code, self.plan.subject_updates.len() - 1);
                        self.plan.subject_updates.len() - 1
                    }
                };
                &mut self.plan.subject_updates[i].fields
            }
        };
        let replaced = std::mem::replace(&mut fields.name, Cow::Borrowed(name));
        let former = &mut fields.former_names;
        for n in info.former_names.iter().map(String::as_str).chain([replaced.as_ref()]) {
            if !former.iter().any(|f| f == n) {
                former.push(n.to_string());
            }
        }
        former.retain(|f| f != name);
        fields.legal_rep_name = info.legal_rep_name.as_deref();
        fields.legal_rep_id = info.legal_rep_id.as_deref();
        // a row without a division keeps the one the subject has
        fields.division = info.division.as_deref().or(fields.division);
        fields.industry = info.industry.as_deref();
        Ok(())
    }

    fn record(&mut self, entry: usize, r: &'a NewRecord) -> Result<Option<Outcome>> {
        let rec = &r.record;
        let code = rec.subject.key();
        let at = self.subject(r);
        if let Some(info) = &rec.subject_info {
            self.project(at, code, &rec.subject_name, info)?;
        }
        let identity = (r.provider.as_str(), rec.item.as_str(), rec.key.as_str());
        let known = match self.records.get(&identity) {
            Some(w) => Some((w.id, w.fingerprint, w.subject, Some(w.at))),
            None => self.stored.records.get(&identity).map(|s| (s.id, s.fingerprint, s.subject.as_str(), None)),
        };
        let decision_date = rec.decision_date.map(xinyong_core::record::date_string);
        let tier = rec.tier.map(tier_text);
        let outcome = match known {
            None => {
                let id = self.next_record_id;
                self.next_record_id += 1;
                let event_index = self.push_prepared(code, EventKind::RecordCreated, Some(id), &r.created);
                self.plan.new_records.push(RecordInsert {
                    id,
                    subject: code,
                    provider: &r.provider,
                    item: &rec.item,
                    key: &rec.key,
                    fingerprint: r.fingerprint,
                    decision_date,
                    tier,
                    event_index,
                });
                let at = RecordAt::New(self.plan.new_records.len() - 1);
                self.records.insert(identity, Written { id, fingerprint: r.fingerprint, subject: code, at });
                Outcome::Accepted { record_id: id, ledger_index: event_index }
            }
            Some((id, fingerprint, _, _)) if fingerprint == r.fingerprint => Outcome::Duplicate { record_id: id },
            Some((_, _, owner, _)) if owner != code => {
                // the same document for another subject is a data error, not a
                // correction: quarantine the row, never move a record between subjects
                let row = identity_conflict(r, owner)?;
                self.plan.quarantine.push(QuarantineWrite::Insert { entry, row: Box::new(Cow::Owned(row)) });
                return Ok(None);
            }
            Some((id, _, _, written)) => {
                let bytes = r.payload_as(EventKind::RecordCorrected)?;
                let leaf = self.hash.leaf(&bytes);
                let event_index =
                    self.push_event(code, EventKind::RecordCorrected, Some(id), Cow::Owned(bytes), None, leaf);
                let at = match written {
                    Some(RecordAt::New(i)) => {
                        let row = &mut self.plan.new_records[i];
                        row.fingerprint = r.fingerprint;
                        row.decision_date = decision_date;
                        row.tier = tier;
                        row.event_index = event_index;
                        RecordAt::New(i)
                    }
                    Some(RecordAt::Updated(i)) => {
                        let u = RecordUpdate { id, fingerprint: r.fingerprint, decision_date, tier, event_index };
                        self.plan.record_updates[i] = u;
                        RecordAt::Updated(i)
                    }
                    None => {
                        let u = RecordUpdate { id, fingerprint: r.fingerprint, decision_date, tier, event_index };
                        self.plan.record_updates.push(u);
                        RecordAt::Updated(self.plan.record_updates.len() - 1)
                    }
                };
                self.records.insert(identity, Written { id, fingerprint: r.fingerprint, subject: code, at });
                Outcome::Corrected { record_id: id, ledger_index: event_index }
            }
        };
        if let (
            Some(info),
            Outcome::Accepted { record_id, .. }
            | Outcome::Corrected { record_id, .. }
            | Outcome::Duplicate { record_id },
        ) = (&rec.subject_info, &outcome)
        {
            for l in &info.identifiers {
                let i = IdentifierInsert {
                    scheme: l.scheme.as_str(),
                    value: &l.value,
                    subject: code,
                    record_id: *record_id,
                };
                self.plan.identifiers.push(i);
            }
        }
        if let Some(q) = r.resolves {
            let record_id = match outcome {
                Outcome::Accepted { record_id, .. }
                | Outcome::Corrected { record_id, .. }
                | Outcome::Duplicate { record_id } => record_id,
                Outcome::Quarantined { .. } => 0,
            };
            self.plan.quarantine.push(QuarantineWrite::Resolve { id: q, record_id });
        }
        Ok(Some(outcome))
    }
}

/// A tier as stored (its serde name).
pub fn tier_text(t: Tier) -> &'static str {
    match t {
        Tier::Minor => "minor",
        Tier::General => "general",
        Tier::Serious => "serious",
        Tier::SpeciallySerious => "specially_serious",
    }
}

/// The quarantine entry for a record whose identity already belongs to another subject.
pub fn identity_conflict(r: &NewRecord, owner: &str) -> Result<NewQuarantine> {
    let body = EventBody::from_bytes(&r.created.payload)
        .map_err(|e| StoreError::Corrupt(format!("prepared payload does not parse: {e}")))?;
    let raw = serde_json::to_string(&body.fields.unwrap_or_default()).unwrap_or_default();
    let key = r.record.key.replace('\u{1f}', " / ");
    Ok(NewQuarantine {
        provider: r.provider.clone(),
        item: r.record.item.clone(),
        batch: r.provenance.batch.clone(),
        source: r.provenance.source.clone(),
        row: r.provenance.row,
        raw_hash: leaf_hash(raw.as_bytes()),
        raw,
        subject_hint: Some(r.record.subject.key().to_string()),
        errors: vec![FieldError::new(
            "",
            "identity.conflict",
            format!("记录标识“{key}”已属于主体 {owner}：同一文书不能改挂其他主体，如确有错误请先撤销原记录"),
            format!(
                "record '{key}' already belongs to subject {owner}: revoke it before issuing it for another subject"
            ),
        )],
        replaces: None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use time::macros::date;
    use xinyong_core::Catalog;
    use xinyong_core::event::Provenance;

    const A: &str = "91110108551385082Q";
    const B: &str = "91110000802100433B";

    fn honour(code: &str, doc: &str, title: &str) -> Entry {
        let catalog = Catalog::bundled().unwrap();
        let item = catalog.item("honour").unwrap();
        let pairs = [
            ("主体名称", "北京测试科技有限公司"),
            ("统一社会信用代码", code),
            ("荣誉名称", title),
            ("荣誉等级", "市级"),
            ("授予日期", "2024-05-06"),
            ("授予机关", "北京市市场监督管理局"),
            ("表彰决定文号", doc),
        ];
        let values: Vec<Option<&str>> =
            item.fields.iter().map(|f| pairs.iter().find(|(k, _)| *k == f.name).map(|(_, v)| *v)).collect();
        let rec = xinyong_core::record::validate(item, &values, date!(2026 - 01 - 01)).unwrap();
        let p = Provenance { at: 1, batch: "b".into(), provider: "p".into(), source: "t".into(), row: Some(1) };
        Entry::Record(Box::new(NewRecord::prepare(rec, "p", p, None)))
    }

    fn registration(code: &str, name: &str) -> Entry {
        let catalog = Catalog::bundled().unwrap();
        let item = catalog.item("registration").unwrap();
        let pairs = [("统一社会信用代码", code), ("主体名称", name), ("成立日期", "2020-01-02")];
        let values: Vec<Option<&str>> =
            item.fields.iter().map(|f| pairs.iter().find(|(k, _)| *k == f.name).map(|(_, v)| *v)).collect();
        let rec = xinyong_core::record::validate(item, &values, date!(2026 - 01 - 01)).unwrap();
        let p = Provenance { at: 1, batch: "b".into(), provider: "p".into(), source: "r".into(), row: Some(1) };
        Entry::Record(Box::new(NewRecord::prepare(rec, "p", p, None)))
    }

    /// A registration row's `subject.created` event is made before the plan (off the
    /// writer's thread); the plan uses it, with the leaf of the ledger's hash, and
    /// makes the same event itself for rows that did not prepare one.
    #[test]
    fn a_prepared_subject_event_is_the_one_the_plan_would_make() {
        let entries = [registration(A, "北京测试科技有限公司")];
        let Entry::Record(r) = &entries[0] else { panic!("a record") };
        assert!(r.subject_created.is_some());
        let mut unprepared = r.clone();
        unprepared.subject_created = None;
        let without = [Entry::Record(unprepared)];
        for hash in [TreeHash::Sha256, TreeHash::Sm3] {
            let stored = Stored { next_record_id: 1, ..Default::default() };
            let (p, q) = (plan(&entries, &stored, 0, hash).unwrap(), plan(&without, &stored, 0, hash).unwrap());
            assert_eq!(kinds(&p), [(0, "subject.created", None), (1, "record.created", Some(1))]);
            assert_eq!(p.events[0].payload, q.events[0].payload);
            assert_eq!(p.events[0].leaf, q.events[0].leaf);
            assert_eq!(p.events[0].leaf, hash.leaf(&p.events[0].payload));
            let packed = p.events[0].stored.unwrap();
            assert_eq!(crate::codec::unpack(packed).unwrap().as_ref(), &p.events[0].payload[..]);
            assert!(q.events[0].stored.is_none());
        }
        // a subject already stored: no event, prepared or not
        let known = Stored {
            next_record_id: 1,
            subjects: [(A, Some(Names { name: "北京测试科技有限公司".into(), former_names: Vec::new() }))]
                .into_iter()
                .collect(),
            ..Default::default()
        };
        assert_eq!(kinds(&plan(&entries, &known, 0, TreeHash::Sha256).unwrap()), [(0, "record.created", Some(1))]);
    }

    fn kinds(p: &Plan<'_>) -> Vec<(u64, &'static str, Option<i64>)> {
        p.events.iter().map(|e| (e.index, e.kind.as_str(), e.record_id)).collect()
    }

    #[test]
    fn tier_text_is_the_serde_name() {
        for t in [Tier::Minor, Tier::General, Tier::Serious, Tier::SpeciallySerious] {
            assert_eq!(serde_json::to_value(t).unwrap(), tier_text(t));
        }
    }

    #[test]
    fn touched_is_sorted_and_distinct() {
        let entries = [honour(B, "2", "x"), honour(A, "1", "x"), honour(B, "2", "y")];
        let t = touched(&entries);
        assert_eq!(t.codes, [B, A]);
        assert_eq!(t.identities, [("p", "honour", "1"), ("p", "honour", "2")]);
        assert!(t.renamed.is_empty());
        assert_eq!(t.identity("p", "honour", "2"), Some(("p", "honour", "2")));
        assert_eq!(t.code("nope"), None);
    }

    /// Later rows see what earlier rows of the same batch did.
    #[test]
    fn rows_see_the_rows_before_them() {
        let entries = [
            honour(A, "1", "x"),
            honour(A, "2", "x"),
            honour(A, "1", "x"), // duplicate of row 1
            honour(A, "1", "y"), // correction of row 1
            honour(B, "1", "z"), // row 1's document for another subject
            honour(A, "1", "y"), // duplicate of the correction
        ];
        let stored = Stored { next_record_id: 40, ..Default::default() };
        let p = plan(&entries, &stored, 7, TreeHash::Sha256).unwrap();
        assert_eq!(
            kinds(&p),
            [
                (7, "subject.created", None),
                (8, "record.created", Some(40)),
                (9, "record.created", Some(41)),
                (10, "record.corrected", Some(40)),
                (11, "subject.created", None),
            ]
        );
        assert_eq!(p.subjects_created, 2);
        assert_eq!(p.new_subjects.iter().map(|s| (s.code, s.created_event)).collect::<Vec<_>>(), [(A, 7), (B, 11)]);
        // the corrected record is inserted once, in its last state
        assert_eq!(p.new_records.len(), 2);
        assert_eq!((p.new_records[0].id, p.new_records[0].event_index), (40, 10));
        assert!(p.record_updates.is_empty());
        assert_eq!(
            p.outcomes[..4],
            [
                Some(Outcome::Accepted { record_id: 40, ledger_index: 8 }),
                Some(Outcome::Accepted { record_id: 41, ledger_index: 9 }),
                Some(Outcome::Duplicate { record_id: 40 }),
                Some(Outcome::Corrected { record_id: 40, ledger_index: 10 }),
            ]
        );
        assert_eq!(p.outcomes[4], None, "the conflict's outcome comes from its quarantine write");
        assert_eq!(p.outcomes[5], Some(Outcome::Duplicate { record_id: 40 }));
        let [QuarantineWrite::Insert { entry: 4, row }] = &p.quarantine[..] else { panic!("{:?}", p.quarantine) };
        assert_eq!(row.errors[0].rule, "identity.conflict");
        assert!(p.outcome(None).is_err(), "an unwritten quarantine entry is an error");
        let mut p = plan(&entries, &stored, 7, TreeHash::Sha256).unwrap();
        p.run_quarantine(|_| Ok(Some(Outcome::Quarantined { quarantine_id: 3, already_known: false }))).unwrap();
        let out = p.outcome(None).unwrap();
        assert_eq!(out.outcomes[4], Outcome::Quarantined { quarantine_id: 3, already_known: false });
    }

    /// Stored subjects and records: no second subject event, duplicates, one update
    /// per corrected record (its last correction), conflicts against the stored owner.
    #[test]
    fn stored_state_decides_across_batches() {
        let entries = [honour(A, "1", "x"), honour(A, "2", "new"), honour(A, "2", "newer"), honour(B, "1", "x")];
        let Entry::Record(first) = &entries[0] else { unreachable!() };
        let Entry::Record(second) = &entries[1] else { unreachable!() };
        let mut stored = Stored { next_record_id: 3, ..Default::default() };
        stored.subjects.insert(A, None);
        stored
            .records
            .insert(("p", "honour", "1"), StoredRecord { id: 1, fingerprint: first.fingerprint, subject: A.into() });
        stored.records.insert(
            ("p", "honour", "2"),
            StoredRecord { id: 2, fingerprint: second.fingerprint.map(|b| !b), subject: A.into() },
        );
        let p = plan(&entries, &stored, 100, TreeHash::Sha256).unwrap();
        assert_eq!(
            kinds(&p),
            [(100, "record.corrected", Some(2)), (101, "record.corrected", Some(2)), (102, "subject.created", None)]
        );
        assert!(p.new_records.is_empty());
        assert_eq!(p.record_updates.len(), 1);
        assert_eq!((p.record_updates[0].id, p.record_updates[0].event_index), (2, 101));
        assert_eq!(p.outcomes[0], Some(Outcome::Duplicate { record_id: 1 }));
        assert_eq!(p.outcomes[3], None);
        let QuarantineWrite::Insert { row, .. } = &p.quarantine[0] else { panic!() };
        assert!(row.errors[0].en.contains(A), "{:?}", row.errors);
        assert_eq!(p.end(), 103);
    }
}
