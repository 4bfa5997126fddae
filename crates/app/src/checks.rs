//! The check index (逢办必查): every subject's name and every decided listing held in
//! memory, so that answering "what applies to this entity for this matter" never
//! touches the database. It follows local writes at once ([`CheckIndex::apply`]) and
//! other writers (a second node, `xinyong import`) by [`CheckIndex::refresh`], which
//! reloads whatever changed since the ledger size it last saw.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde::Serialize;
use time::Date;
use xinyong_core::SubjectCode;
use xinyong_core::listing::{Listing, ListingStatus};
use xinyong_core::lists::{ActiveListing, Effect, ListKind, ListRules, Verdict, applicable};
use xinyong_core::record::date_string;
use xinyong_ledger::SignedHead;
use xinyong_store::{Store, SubjectRow};

use crate::Result;

/// Subject codes are 18 ASCII characters (USCC and resident ID alike).
type Key = [u8; 18];

fn key_of(code: &str) -> Option<Key> {
    code.as_bytes().try_into().ok()
}

#[derive(Default)]
struct Inner {
    names: HashMap<Key, Box<str>>,
    /// Decided listings (listed or removed) by subject, and by the resident ID of each
    /// responsible person listed with it: past-dated checks need removed ones too.
    listings: HashMap<Key, Vec<Arc<Listing>>>,
    /// Listing id → the keys it is filed under.
    keys_of: HashMap<i64, Vec<Key>>,
    /// Ledger size up to which changes are loaded.
    seen: u64,
    head: Option<Arc<SignedHead>>,
}

#[derive(Default)]
pub struct CheckIndex {
    inner: RwLock<Inner>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SubjectBrief {
    pub code: String,
    pub name: String,
    pub kind: &'static str,
}

/// A listing in force on the day checked.
#[derive(Debug, Clone, Serialize)]
pub struct ListHit {
    pub id: i64,
    #[serde(rename = "type")]
    pub list_type: String,
    pub type_name: String,
    pub start: String,
    pub end: Option<String>,
    pub basis: Option<String>,
    pub department: String,
    pub decision_date: Option<String>,
    /// The ledger event of the decision.
    pub ledger_index: u64,
    /// When the code checked is a responsible person listed with the entity: the role
    /// (`legal_representative`, `principal`, `actual_controller`) and the entity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listed_as: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
}

/// A measure that applies, with its legal basis.
#[derive(Debug, Clone, Serialize)]
pub struct MeasureHit {
    pub id: String,
    pub name: String,
    pub name_en: String,
    pub kind: ListKind,
    pub effect: Effect,
    pub basis: Vec<String>,
    pub implementing_departments: Vec<String>,
    pub duration: String,
    /// The subject's list types that trigger it.
    pub list_types: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckAnswer {
    pub subject: Option<SubjectBrief>,
    pub verdict: Verdict,
    pub lists: Vec<ListHit>,
    pub measures: Vec<MeasureHit>,
    pub ledger_head: Option<Arc<SignedHead>>,
}

fn same_person(id: &str, code: &str) -> bool {
    xinyong_core::codes::ResidentId::parse(id).is_ok_and(|r| r.expose() == code)
}

impl CheckIndex {
    /// Loads every subject name and decided listing from the store.
    pub fn load(store: &dyn Store) -> Result<CheckIndex> {
        let index = CheckIndex::default();
        let size = store.ledger_size()?;
        let mut after = String::new();
        loop {
            let page = store.subjects_after(&after, 50_000)?;
            let Some(last) = page.last() else { break };
            after = last.code.clone();
            index.add_subjects(&page);
        }
        for l in store.listings_changed_since(0)? {
            index.put(l);
        }
        let mut inner = index.write();
        inner.seen = size;
        inner.head = store.latest_head()?.map(Arc::new);
        drop(inner);
        Ok(index)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn add_subjects(&self, rows: &[SubjectRow]) {
        let mut inner = self.write();
        for s in rows {
            if let Some(k) = key_of(&s.code) {
                inner.names.insert(k, s.name.as_str().into());
            }
        }
    }

    fn put(&self, l: Listing) {
        let mut inner = self.write();
        for k in inner.keys_of.remove(&l.id).unwrap_or_default() {
            if let Some(v) = inner.listings.get_mut(&k) {
                v.retain(|x| x.id != l.id);
                if v.is_empty() {
                    inner.listings.remove(&k);
                }
            }
        }
        if !matches!(l.status, ListingStatus::Listed | ListingStatus::Removed) {
            return;
        }
        let persons = l
            .persons
            .iter()
            .filter_map(|p| p.id.as_deref())
            .filter_map(|id| xinyong_core::codes::ResidentId::parse(id).ok().and_then(|r| key_of(r.expose())));
        let keys: Vec<Key> = key_of(&l.subject).into_iter().chain(persons).collect();
        let l = Arc::new(l);
        for k in &keys {
            inner.listings.entry(*k).or_default().push(l.clone());
        }
        inner.keys_of.insert(l.id, keys);
    }

    /// Takes in a listing step just stored by this process, with the head it signed.
    pub fn apply(&self, l: Listing, head: SignedHead) {
        self.put(l);
        self.note_head(head);
    }

    /// Records a newer signed head (after any local append).
    pub fn note_head(&self, head: SignedHead) {
        let mut inner = self.write();
        if inner.head.as_ref().is_none_or(|h| h.head.size <= head.head.size) {
            inner.head = Some(Arc::new(head));
        }
    }

    /// Loads what other writers appended since the last look. Cheap when nothing changed
    /// (one `ledger_size` query).
    /// `new_subjects` sees each page of subjects created since the last look (the server
    /// adds them to its search index).
    pub fn refresh(&self, store: &dyn Store, new_subjects: &mut dyn FnMut(&[SubjectRow])) -> Result<()> {
        let seen = self.read().seen;
        let size = store.ledger_size()?;
        if size <= seen {
            return Ok(());
        }
        let mut from = seen;
        loop {
            let page = store.subjects_created_since(from, 50_000)?;
            self.add_subjects(&page);
            if !page.is_empty() {
                new_subjects(&page);
            }
            match page.last() {
                Some(last) if page.len() == 50_000 => from = last.created_event + 1,
                _ => break,
            }
        }
        for l in store.listings_changed_since(seen)? {
            self.put(l);
        }
        let head = store.latest_head()?;
        let mut inner = self.write();
        inner.seen = inner.seen.max(size);
        drop(inner);
        if let Some(h) = head {
            self.note_head(h);
        }
        Ok(())
    }

    pub fn subjects(&self) -> usize {
        self.read().names.len()
    }

    /// Decided listings held (in force or not).
    pub fn listings(&self) -> usize {
        self.read().keys_of.len()
    }

    /// The name of a subject, if known.
    pub fn name_of(&self, code: &str) -> Option<String> {
        let k = key_of(code)?;
        self.read().names.get(&k).map(|n| n.to_string())
    }

    pub fn head(&self) -> Option<Arc<SignedHead>> {
        self.read().head.clone()
    }

    /// The answer for `code` and `matter` as of `on`.
    pub fn check(&self, code: &SubjectCode, matter: &str, on: Date) -> CheckAnswer {
        let rules = ListRules::bundled();
        let key = key_of(code.key());
        let inner = self.read();
        let name = key.and_then(|k| inner.names.get(&k));
        let subject = name.map(|n| SubjectBrief {
            code: code.key().to_string(),
            name: n.to_string(),
            kind: code.kind().as_str(),
        });
        let in_force: Vec<Arc<Listing>> = key
            .and_then(|k| inner.listings.get(&k))
            .map(|v| v.iter().filter(|l| l.in_force_on(on)).cloned().collect())
            .unwrap_or_default();
        let head = inner.head.clone();
        drop(inner);
        let active: Vec<ActiveListing<'_>> = in_force
            .iter()
            .filter_map(|l| Some(ActiveListing { list_type: &l.list_type, start: l.start?, end: l.effective_end() }))
            .collect();
        let (measures, verdict) = applicable(rules, &active, matter, on);
        let lists = in_force
            .iter()
            .map(|l| ListHit {
                id: l.id,
                list_type: l.list_type.clone(),
                type_name: rules.list_type(&l.list_type).map(|t| t.name_zh.clone()).unwrap_or_default(),
                start: l.start.map(date_string).unwrap_or_default(),
                end: l.effective_end().map(date_string),
                basis: l.basis.clone(),
                department: l.provider.clone(),
                decision_date: l.decision_date.map(date_string),
                ledger_index: l.decided_event.unwrap_or(l.last_event),
                listed_as: (l.subject != code.key()).then(|| {
                    let role = l.persons.iter().find(|p| p.id.as_deref().is_some_and(|id| same_person(id, code.key())));
                    role.map_or_else(String::new, |p| p.role.clone())
                }),
                entity: (l.subject != code.key()).then(|| l.subject.clone()),
            })
            .collect();
        let measures = measures
            .into_iter()
            .map(|m| MeasureHit {
                id: m.id.clone(),
                name: m.name_zh.clone(),
                name_en: m.name_en.clone(),
                kind: m.kind,
                effect: m.effect,
                basis: m.legal_basis.clone(),
                implementing_departments: m.implementing_departments.clone(),
                duration: m.duration.clone(),
                list_types: active.iter().filter(|a| m.follows(a.list_type)).map(|a| a.list_type.to_string()).collect(),
            })
            .collect();
        CheckAnswer { subject, verdict, lists, measures, ledger_head: head }
    }
}
