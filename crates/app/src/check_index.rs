//! The check index's memory layout: every subject's name and every decided list entry,
//! held compactly enough for Beijing (3 M names, 3 M entries) to stay well under the
//! server's 2 GiB. An entry keeps only what a check answer shows; the strings that
//! repeat across millions of entries (list types, departments, bases, rules, items,
//! roles, document field names) are interned, and the ones that do not (names, the
//! provider's document numbers) live in a chunked text arena.
//!
//! Text replaced in the arena (a renamed subject, an entry's later step) is not reclaimed
//! until the next start; such changes are rare next to the data held.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;

use time::Date;
use xinyong_core::SubjectCode;
use xinyong_core::listing::{Listing, ListingStatus};

use crate::checks::HitSource;

/// A subject key. USCCs and resident IDs (nearly every key) are 18 ASCII bytes held
/// inline: building one to look up costs no allocation. Typed document keys
/// (`P-PP-E12345678`, `F-RN-…`: persons and foreign organisations known by another
/// document, see `xinyong_core::documents`) vary in length and are interned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Code([u8; 18]),
    Other(Sym),
}

/// An interned string: a handle into [`Symbols`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Sym(NonZeroU32);

#[derive(Default)]
struct Symbols {
    ids: HashMap<Box<str>, Sym>,
    names: Vec<Box<str>>,
}

impl Symbols {
    fn intern(&mut self, s: &str) -> Sym {
        if let Some(id) = self.ids.get(s) {
            return *id;
        }
        self.names.push(s.into());
        let id = Sym(NonZeroU32::new(self.names.len() as u32).unwrap_or(NonZeroU32::MIN));
        self.ids.insert(s.into(), id);
        id
    }

    fn get(&self, s: Sym) -> &str {
        self.names.get(s.0.get() as usize - 1).map_or("", |n| n)
    }
}

/// Where a string lives in the [`Arena`].
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    chunk: u32,
    start: u32,
    len: u32,
}

/// Text appended in chunks of 1 MiB: one allocation per chunk instead of one (and a
/// 16-byte header) per string, and no copying as it grows.
#[derive(Default)]
struct Arena {
    chunks: Vec<String>,
}

const CHUNK: usize = 1 << 20;

impl Arena {
    fn push(&mut self, s: &str) -> Span {
        if s.is_empty() {
            return Span::default();
        }
        let fits = self.chunks.last().is_some_and(|c| c.capacity() - c.len() >= s.len());
        if !fits {
            self.chunks.push(String::with_capacity(CHUNK.max(s.len())));
        }
        let chunk = self.chunks.len() - 1;
        let c = &mut self.chunks[chunk];
        let start = c.len();
        c.push_str(s);
        Span { chunk: chunk as u32, start: start as u32, len: s.len() as u32 }
    }

    fn get(&self, s: Span) -> &str {
        if s.len == 0 {
            return "";
        }
        let (start, end) = (s.start as usize, s.start as usize + s.len as usize);
        self.chunks.get(s.chunk as usize).and_then(|c| c.get(start..end)).unwrap_or_default()
    }

    fn bytes(&self) -> usize {
        self.chunks.iter().map(String::capacity).sum()
    }
}

// Separators of the document fields in the arena: ASCII unit and record separators,
// which no field name or value of a provider's file holds (intake refuses control
// characters).
const UNIT: char = '\u{1f}';
const RECORD: char = '\u{1e}';

/// A responsible person listed with the entity, filed under their own key too.
struct Person {
    role: Sym,
    key: Key,
}

/// A decided list entry (listed, or removed: past-dated checks need those too), as much
/// of it as a check answer shows.
struct Entry {
    id: i64,
    /// The decision event (or the latest step, for an entry never decided here).
    ledger_index: u64,
    subject: Key,
    start: Option<Date>,
    /// Exclusive end of being in force: the earlier of the term's end and the removal.
    end: Option<Date>,
    decision_date: Option<Date>,
    list_type: Sym,
    department: Sym,
    basis: Option<Sym>,
    scope: Option<Sym>,
    /// For an entry derived from a record: the record, rule and item, and the provider's
    /// documents (`field UNIT value RECORD …`, basis and reason left out).
    source: Option<(i64, Sym, Sym)>,
    documents: Span,
    persons: Box<[Person]>,
}

/// An entry as a check answer reads it: owned strings, taken under the read lock.
#[derive(Debug, Clone)]
pub(crate) struct EntryView {
    pub id: i64,
    pub ledger_index: u64,
    pub subject: String,
    pub start: Date,
    pub end: Option<Date>,
    pub decision_date: Option<Date>,
    pub list_type: String,
    pub department: String,
    pub basis: Option<String>,
    pub scope: Option<String>,
    pub source: Option<HitSource>,
    /// The role under which the key looked up is listed, when it is a responsible
    /// person's and not the entity's own.
    pub listed_as: Option<String>,
}

/// The entry slots filed under one key, in four bytes: nearly every key files one entry,
/// held here; the few with more hold `MANY` and an index into [`Many`]. (An enum of one
/// slot or a boxed list took 16 bytes, and the map of 4 M keys grew by 130 MB with it.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slots(u32);

const MANY: u32 = 1 << 31;

/// The slot lists of keys with more than one entry.
#[derive(Default)]
struct Many {
    lists: Vec<Vec<u32>>,
    free: Vec<u32>,
}

impl Many {
    fn slots<'a>(&'a self, s: &'a Slots) -> &'a [u32] {
        if s.0 & MANY == 0 {
            return std::slice::from_ref(&s.0);
        }
        self.lists.get((s.0 & !MANY) as usize).map_or(&[], Vec::as_slice)
    }

    /// `s` with `slot` added.
    fn push(&mut self, s: Slots, slot: u32) -> Slots {
        if s.0 & MANY != 0 {
            if let Some(list) = self.lists.get_mut((s.0 & !MANY) as usize) {
                list.push(slot);
            }
            return s;
        }
        let list = vec![s.0, slot];
        let i = match self.free.pop() {
            Some(i) => {
                self.lists[i as usize] = list;
                i
            }
            None => {
                self.lists.push(list);
                (self.lists.len() - 1) as u32
            }
        };
        Slots(MANY | i)
    }

    /// `s` without `slot`; none when nothing is left.
    fn remove(&mut self, s: Slots, slot: u32) -> Option<Slots> {
        if s.0 & MANY == 0 {
            return (s.0 != slot).then_some(s);
        }
        let i = (s.0 & !MANY) as usize;
        let list = self.lists.get_mut(i)?;
        list.retain(|x| *x != slot);
        match list[..] {
            [] | [_] => {
                let left = list.first().map(|only| Slots(*only));
                self.lists[i] = Vec::new();
                self.free.push(i as u32);
                left
            }
            _ => Some(s),
        }
    }

    fn bytes(&self) -> usize {
        self.lists.iter().map(|l| l.capacity() * 4 + 24).sum::<usize>() + self.free.capacity() * 4
    }
}

/// Names and decided list entries by key.
#[derive(Default)]
pub(crate) struct Entries {
    symbols: Symbols,
    text: Arena,
    names: HashMap<Key, Span>,
    slab: Vec<Option<Entry>>,
    free: Vec<u32>,
    by_id: HashMap<i64, u32>,
    by_key: HashMap<Key, Slots>,
    many: Many,
}

/// Sizes of what the index holds, for the benchmark and the health page.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct IndexSize {
    pub names: usize,
    pub entries: usize,
    pub keys: usize,
    /// Approximate bytes held (tables at capacity, the arena, interned strings).
    pub bytes: usize,
}

impl Entries {
    /// The key of `code`, interned when it is not a code of 18 bytes.
    fn key(&mut self, code: &str) -> Option<Key> {
        match <[u8; 18]>::try_from(code.as_bytes()) {
            Ok(b) => Some(Key::Code(b)),
            Err(_) if !code.is_empty() => Some(Key::Other(self.symbols.intern(code))),
            Err(_) => None,
        }
    }

    /// The key of `code` if it can be filed under one (a longer one only once interned).
    fn find(&self, code: &str) -> Option<Key> {
        match <[u8; 18]>::try_from(code.as_bytes()) {
            Ok(b) => Some(Key::Code(b)),
            Err(_) => self.symbols.ids.get(code).map(|s| Key::Other(*s)),
        }
    }

    fn code(&self, k: Key) -> String {
        match k {
            // built from a &str of 18 bytes, so valid UTF-8
            Key::Code(b) => String::from_utf8_lossy(&b).into_owned(),
            Key::Other(s) => self.symbols.get(s).to_string(),
        }
    }

    /// Gives back what the slab grew past (once loaded: the slab grows by doubling).
    pub(crate) fn shrink(&mut self) {
        self.slab.shrink_to_fit();
    }

    pub(crate) fn set_name(&mut self, code: &str, name: &str) {
        let Some(k) = self.key(code) else { return };
        if self.names.get(&k).is_some_and(|s| self.text.get(*s) == name) {
            return;
        }
        let span = self.text.push(name);
        self.names.insert(k, span);
    }

    pub(crate) fn name(&self, code: &str) -> Option<&str> {
        let k = self.find(code)?;
        self.names.get(&k).map(|s| self.text.get(*s))
    }

    /// Files `l` (replacing its earlier step); drops it when it is no longer decided.
    pub(crate) fn put(&mut self, l: &Listing) {
        self.remove(l.id);
        if !matches!(l.status, ListingStatus::Listed | ListingStatus::Removed) {
            return;
        }
        let Some(subject) = self.key(&l.subject) else { return };
        let persons: Box<[Person]> = l
            .persons
            .iter()
            .filter_map(|p| {
                let code = SubjectCode::parse(p.id.as_deref()?).ok().filter(SubjectCode::is_person)?;
                Some(Person { role: self.symbols.intern(&p.role), key: self.key(code.key())? })
            })
            .collect();
        let documents = match l.source {
            Some(_) => {
                let mut doc = String::new();
                for (k, v) in l.document.iter().filter(|(k, _)| !matches!(k.as_str(), "basis" | "reason")) {
                    doc.push_str(k);
                    doc.push(UNIT);
                    doc.push_str(v);
                    doc.push(RECORD);
                }
                self.text.push(&doc)
            }
            None => Span::default(),
        };
        let entry = Entry {
            id: l.id,
            ledger_index: l.decided_event.unwrap_or(l.last_event),
            subject,
            start: l.start,
            end: l.effective_end(),
            decision_date: l.decision_date,
            list_type: self.symbols.intern(&l.list_type),
            department: self.symbols.intern(&l.provider),
            basis: l.basis.as_deref().map(|b| self.symbols.intern(b)),
            scope: l.scope.as_deref().map(|s| self.symbols.intern(s)),
            source: l
                .source
                .as_ref()
                .map(|s| (s.record_id, self.symbols.intern(&s.item), self.symbols.intern(&s.rule))),
            documents,
            persons,
        };
        let keys: Vec<Key> = std::iter::once(subject).chain(entry.persons.iter().map(|p| p.key)).collect();
        let slot = match self.free.pop() {
            Some(s) => {
                self.slab[s as usize] = Some(entry);
                s
            }
            None => {
                self.slab.push(Some(entry));
                (self.slab.len() - 1) as u32
            }
        };
        self.by_id.insert(l.id, slot);
        for k in keys {
            match self.by_key.get_mut(&k) {
                Some(slots) => *slots = self.many.push(*slots, slot),
                None => {
                    self.by_key.insert(k, Slots(slot));
                }
            }
        }
    }

    fn remove(&mut self, id: i64) {
        let Some(slot) = self.by_id.remove(&id) else { return };
        let Some(entry) = self.slab.get_mut(slot as usize).and_then(Option::take) else { return };
        for k in std::iter::once(&entry.subject).chain(entry.persons.iter().map(|p| &p.key)) {
            if let Some(slots) = self.by_key.get_mut(k) {
                match self.many.remove(*slots, slot) {
                    Some(left) => *slots = left,
                    None => {
                        self.by_key.remove(k);
                    }
                }
            }
        }
        self.free.push(slot);
    }

    fn view(&self, e: &Entry, key: &Key) -> Option<EntryView> {
        let s = |sym: Sym| self.symbols.get(sym).to_string();
        let listed_as = (e.subject != *key)
            .then(|| e.persons.iter().find(|p| p.key == *key).map_or_else(String::new, |p| s(p.role)));
        Some(EntryView {
            id: e.id,
            ledger_index: e.ledger_index,
            subject: self.code(e.subject),
            start: e.start?,
            end: e.end,
            decision_date: e.decision_date,
            list_type: s(e.list_type),
            department: s(e.department),
            basis: e.basis.map(s),
            scope: e.scope.map(s),
            source: e.source.map(|(record_id, item, rule)| {
                let documents = self
                    .text
                    .get(e.documents)
                    .split(RECORD)
                    .filter_map(|f| f.split_once(UNIT))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                HitSource { record_id, item: s(item), rule: s(rule), documents }
            }),
            listed_as,
        })
    }

    fn filed_under(&self, code: &str) -> impl Iterator<Item = (&Entry, Key)> + '_ {
        let key = self.find(code);
        let slots = key.as_ref().and_then(|k| self.by_key.get(k));
        slots
            .into_iter()
            .flat_map(|s| self.many.slots(s))
            .filter_map(|slot| self.slab.get(*slot as usize)?.as_ref())
            .filter_map(move |e| Some((e, key?)))
    }

    /// The entries filed under `code` in force on `on`.
    pub(crate) fn in_force(&self, code: &str, on: Date) -> Vec<EntryView> {
        self.filed_under(code)
            .filter(|(e, _)| e.start.is_some_and(|s| xinyong_core::lists::is_active(s, e.end, on)))
            .filter_map(|(e, k)| self.view(e, &k))
            .collect()
    }

    /// Ids of the entries that name `code` as a responsible person (not the entity's own).
    pub(crate) fn naming(&self, code: &str) -> Vec<i64> {
        self.filed_under(code).filter(|(e, k)| e.subject != *k).map(|(e, _)| e.id).collect()
    }

    pub(crate) fn size(&self) -> IndexSize {
        // a table slot is its key and value plus one control byte
        fn table<K, V>(m: &HashMap<K, V>) -> usize {
            m.capacity() * (std::mem::size_of::<(K, V)>() + 1)
        }
        let persons: usize = self.slab.iter().flatten().map(|e| e.persons.len() * std::mem::size_of::<Person>()).sum();
        let many = self.many.bytes();
        let symbols: usize = self.symbols.names.iter().map(|n| 2 * n.len() + 40).sum();
        IndexSize {
            names: self.names.len(),
            entries: self.by_id.len(),
            keys: self.by_key.len(),
            bytes: table(&self.names)
                + table(&self.by_id)
                + table(&self.by_key)
                + self.slab.capacity() * std::mem::size_of::<Option<Entry>>()
                + self.free.capacity() * 4
                + persons
                + many
                + symbols
                + self.text.bytes(),
        }
    }
}

/// Ids of the entries to mark disputed at load: those named by an open objection, and
/// those derived from a record an open objection names.
#[derive(Default)]
pub(crate) struct DisputedAtLoad {
    pub listings: HashSet<i64>,
    pub records: HashSet<i64>,
}

impl DisputedAtLoad {
    pub(crate) fn covers(&self, l: &Listing) -> bool {
        self.listings.contains(&l.id) || l.source.as_ref().is_some_and(|s| self.records.contains(&s.record_id))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    use xinyong_core::listing::{ListingSource, ResponsiblePerson};

    fn day(s: &str) -> Date {
        xinyong_core::record::parse_date(s).unwrap()
    }

    fn listing(id: i64, subject: &str) -> Listing {
        let mut document = BTreeMap::new();
        document.insert("basis".to_string(), "《条例》".to_string());
        document.insert("case_number".to_string(), format!("(2024)京0105执{id}号"));
        Listing {
            id,
            subject: subject.into(),
            list_type: "dishonest_debtor".into(),
            status: ListingStatus::Listed,
            provider: "北京市高级人民法院".into(),
            basis: Some("《最高人民法院关于公布失信被执行人名单信息的若干规定》".into()),
            reason: "r".into(),
            notice_date: None,
            objection_until: None,
            objections: vec![],
            decision_date: Some(day("2024-01-02")),
            start: Some(day("2024-01-03")),
            end: Some(day("2027-01-03")),
            removed_date: None,
            removal_kind: None,
            removal_reason: None,
            document,
            persons: vec![ResponsiblePerson {
                role: "legal_representative".into(),
                name: "张三".into(),
                id: Some("11010519491231002X".into()),
            }],
            scope: None,
            source: Some(ListingSource { record_id: id * 10, rule: "court@1".into(), item: "dishonest_debtor".into() }),
            first_event: 5,
            decided_event: Some(7),
            last_event: 9,
        }
    }

    const ENTITY: &str = "91110105MA01ABCD2X";
    const PERSON: &str = "11010519491231002X";

    #[test]
    fn an_entry_reads_back_as_filed_under_the_entity_and_its_person() {
        let mut e = Entries::default();
        e.put(&listing(1, ENTITY));
        let on = day("2025-06-01");
        let [hit] = &e.in_force(ENTITY, on)[..] else { panic!("one entry") };
        assert_eq!(hit.id, 1);
        assert_eq!(hit.ledger_index, 7);
        assert_eq!(hit.department, "北京市高级人民法院");
        assert_eq!(hit.listed_as, None);
        let HitSource { record_id, item, rule, documents: docs } = hit.source.clone().unwrap();
        assert_eq!((record_id, item.as_str(), rule.as_str()), (10, "dishonest_debtor", "court@1"));
        assert_eq!(docs.len(), 1, "basis and reason are left out: {docs:?}");
        assert_eq!(docs["case_number"], "(2024)京0105执1号");
        let [as_person] = &e.in_force(PERSON, on)[..] else { panic!("filed under the person") };
        assert_eq!(as_person.listed_as.as_deref(), Some("legal_representative"));
        assert_eq!(as_person.subject, ENTITY);
        assert_eq!(e.naming(PERSON), vec![1]);
        assert!(e.naming(ENTITY).is_empty());
        assert!(e.in_force(ENTITY, day("2027-01-03")).is_empty(), "the end is exclusive");
    }

    #[test]
    fn a_later_step_replaces_the_entry_and_a_withdrawn_one_leaves() {
        let mut e = Entries::default();
        e.put(&listing(1, ENTITY));
        e.put(&listing(2, ENTITY));
        let mut removed = listing(1, ENTITY);
        removed.status = ListingStatus::Removed;
        removed.removed_date = Some(day("2025-01-01"));
        e.put(&removed);
        assert_eq!(e.size().entries, 2);
        let ids = |e: &Entries, on| e.in_force(ENTITY, day(on)).iter().map(|h| h.id).collect::<Vec<_>>();
        assert_eq!(ids(&e, "2024-06-01"), vec![2, 1]);
        assert_eq!(ids(&e, "2025-06-01"), vec![2]);
        let mut withdrawn = listing(2, ENTITY);
        withdrawn.status = ListingStatus::Withdrawn;
        e.put(&withdrawn);
        assert_eq!(ids(&e, "2024-06-01"), vec![1]);
        assert_eq!(e.naming(PERSON), vec![1]);
        e.put(&{
            let mut w = listing(1, ENTITY);
            w.status = ListingStatus::Withdrawn;
            w
        });
        assert_eq!(e.size().entries, 0);
        assert_eq!(e.size().keys, 0, "no key is left behind");
    }

    #[test]
    fn names_are_replaced_and_read_back() {
        let mut e = Entries::default();
        e.set_name(ENTITY, "北京甲科技有限公司");
        e.set_name("P-PP-E12345678", "John Smith");
        e.set_name(ENTITY, "北京乙科技有限公司");
        assert_eq!(e.name(ENTITY), Some("北京乙科技有限公司"));
        assert_eq!(e.name("P-PP-E12345678"), Some("John Smith"));
        assert_eq!(e.size().names, 2);
        assert_eq!(e.name("91110105MA01ABCD3X"), None);
    }

    proptest::proptest! {
        /// Slots filed and taken away in any order read back as a plain list of them
        /// would, and a key with none left is gone.
        #[test]
        fn slots_read_back_as_filed(ops in proptest::collection::vec((0u8..4, 0u32..6, proptest::bool::ANY), 0..60)) {
            let mut many = Many::default();
            let mut keys: HashMap<u8, Slots> = HashMap::new();
            let mut model: HashMap<u8, Vec<u32>> = HashMap::new();
            for (key, slot, add) in ops {
                let filed = model.entry(key).or_default();
                if add {
                    if filed.contains(&slot) {
                        continue;
                    }
                    filed.push(slot);
                    let next = match keys.get(&key) {
                        Some(s) => many.push(*s, slot),
                        None => Slots(slot),
                    };
                    keys.insert(key, next);
                } else {
                    filed.retain(|s| *s != slot);
                    if let Some(s) = keys.get(&key).copied() {
                        match many.remove(s, slot) {
                            Some(left) => keys.insert(key, left),
                            None => keys.remove(&key),
                        };
                    }
                }
                model.retain(|_, v| !v.is_empty());
                let read: HashMap<u8, Vec<u32>> = keys.iter().map(|(k, s)| (*k, many.slots(s).to_vec())).collect();
                proptest::prop_assert_eq!(&read, &model);
            }
        }
    }

    #[test]
    fn an_entry_is_a_small_fraction_of_a_listing() {
        assert!(std::mem::size_of::<Option<Entry>>() <= 128, "{}", std::mem::size_of::<Option<Entry>>());
        assert_eq!(std::mem::size_of::<Slots>(), 4);
        assert!(std::mem::size_of::<Key>() <= 20);
        let mut e = Entries::default();
        for i in 0..10_000 {
            e.set_name(&format!("91110105MA{i:07}X"), "北京某某科技发展有限公司");
            e.put(&listing(i + 1, &format!("91110105MA{i:07}X")));
        }
        let per = e.size().bytes / 10_000;
        assert!(per < 600, "{per} bytes a subject with its entry");
    }
}
