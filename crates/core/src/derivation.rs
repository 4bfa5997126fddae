//! Lists that follow from records (对象清单 / 行为清单): a court's 失信被执行人 record puts
//! the debtor on the dishonest-debtor list, a registration authority's 列入 record puts
//! an enterprise on the abnormal-operation list. Rules are versioned data
//! (`data/lists/derivations.toml`): which catalog item, which values in it, which list,
//! on what basis, from and until when, and what ends the entry. [`derive`] computes the
//! entry a record gives as the record stands now; [`step`] says which ledger step
//! brings a stored entry to it. Both are pure: the app follows the ledger and records
//! each step as a `listing.derived` / `listing.removed` event.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use serde::Deserialize;
use time::Date;

use crate::catalog::{Catalog, FieldType};
use crate::event::EventKind;
use crate::listing::{Listing, ListingSource, ListingStatus, RemovalKind};
use crate::lists::{EntriesFrom, ListRules};
use crate::record::parse_date;

const DERIVATIONS_TOML: &str = include_str!("../../../data/lists/derivations.toml");

static BUNDLED: LazyLock<Derivations> = LazyLock::new(|| {
    let catalog = Catalog::bundled().unwrap_or_else(|e| panic!("bundled catalog is invalid: {e}"));
    match Derivations::from_toml(DERIVATIONS_TOML, &catalog, ListRules::bundled()) {
        Ok(d) => d,
        // fixed at compile time and checked by the tests below
        Err(e) => panic!("bundled data/lists/derivations.toml is invalid: {e}"),
    }
});

/// One derivation rule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DerivationRule {
    pub id: String,
    pub version: String,
    /// The catalog item whose records the rule reads.
    pub item: String,
    /// The list type the entries go on (its `entries_from` is `records`).
    pub list_type: String,
    pub basis: String,
    /// The date the entry starts.
    pub start_field: String,
    /// The provider's own removal date (移出/删除日期).
    #[serde(default)]
    pub end_field: Option<String>,
    #[serde(default)]
    pub end_reason_field: Option<String>,
    /// The conduct (事由) shown with the entry.
    pub reason_field: String,
    /// The provider's documents the entry cites (案号, 决定书文号 …).
    pub document_fields: Vec<String>,
    /// Field → allowed values; a record outside them derives nothing.
    #[serde(default)]
    pub when: BTreeMap<String, Vec<String>>,
}

impl DerivationRule {
    /// `id@version`: what a derived entry records as its rule.
    pub fn tag(&self) -> String {
        format!("{}@{}", self.id, self.version)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    rule: Vec<DerivationRule>,
}

/// The derivation rules, validated against the catalog and the list types.
#[derive(Debug, Clone)]
pub struct Derivations {
    rules: Vec<DerivationRule>,
}

impl Derivations {
    /// The rules shipped with this build.
    pub fn bundled() -> &'static Derivations {
        &BUNDLED
    }

    /// Parses and validates: every item, field and list type named exists; date fields
    /// are dates; `when` values are values of the field; every list type whose entries
    /// come from records has a rule, and no rule feeds a list decided by hand.
    pub fn from_toml(text: &str, catalog: &Catalog, lists: &ListRules) -> Result<Derivations, String> {
        let raw: RawRules =
            toml::from_str(text).map_err(|e| format!("名单产生规则文件无效 / invalid derivations file: {e}"))?;
        let mut ids = BTreeSet::new();
        for r in &raw.rule {
            let bad = |m: String| format!("名单产生规则“{}” / derivation rule {:?}: {m}", r.id, r.id);
            if !ids.insert(r.id.as_str()) {
                return Err(bad("重复 / duplicate id".into()));
            }
            if r.version.trim().is_empty() || r.basis.trim().is_empty() {
                return Err(bad("缺少版本或依据 / version and basis are required".into()));
            }
            let item = catalog.item(&r.item).ok_or_else(|| bad(format!("未知目录项 / unknown item {:?}", r.item)))?;
            let lt = lists
                .list_type(&r.list_type)
                .ok_or_else(|| bad(format!("未知名单类型 / unknown list type {:?}", r.list_type)))?;
            if lt.entries_from != EntriesFrom::Records {
                return Err(bad(format!(
                    "名单“{}”由部门决定产生，不能由记录产生 / list type {:?} is decided by hand (entries_from = decisions)",
                    lt.name_zh, lt.code
                )));
            }
            let field = |name: &str| {
                item.field(name).ok_or_else(|| bad(format!("目录项无字段 / item {:?} has no field {name:?}", r.item)))
            };
            let start = field(&r.start_field)?;
            if start.ty != FieldType::Date || !start.required {
                return Err(bad(format!(
                    "起始日期字段须为必填日期 / start field {:?} must be a required date",
                    r.start_field
                )));
            }
            if let Some(end) = &r.end_field
                && field(end)?.ty != FieldType::Date
            {
                return Err(bad(format!("移出日期字段须为日期 / end field {end:?} must be a date")));
            }
            for f in r.end_reason_field.iter().chain([&r.reason_field]).chain(&r.document_fields) {
                field(f)?;
            }
            for (f, values) in &r.when {
                let def = field(f)?;
                if let Some(v) = values.iter().find(|v| !def.values.contains(v)) {
                    return Err(bad(format!("条件值“{v}”不是字段“{f}”的取值 / {v:?} is not a value of {f:?}")));
                }
            }
        }
        if let Some(lt) = lists
            .list_types()
            .find(|lt| lt.entries_from == EntriesFrom::Records && !raw.rule.iter().any(|r| r.list_type == lt.code))
        {
            return Err(format!(
                "名单“{}”由记录产生，但没有产生规则 / list type {:?} follows from records but no rule feeds it",
                lt.name_zh, lt.code
            ));
        }
        Ok(Derivations { rules: raw.rule })
    }

    pub fn rules(&self) -> &[DerivationRule] {
        &self.rules
    }

    /// The rules that read records of `item`.
    pub fn for_item<'a>(&'a self, item: &'a str) -> impl Iterator<Item = &'a DerivationRule> + 'a {
        self.rules.iter().filter(move |r| r.item == item)
    }

    /// Every item some rule reads.
    pub fn items(&self) -> BTreeSet<&str> {
        self.rules.iter().map(|r| r.item.as_str()).collect()
    }
}

/// A record as the platform holds it now.
#[derive(Debug, Clone, Copy)]
pub struct SourceRecord<'a> {
    pub id: i64,
    pub subject: &'a str,
    pub provider: &'a str,
    pub item: &'a str,
    pub fields: &'a BTreeMap<String, String>,
    /// The day it was revoked (撤销), if it was.
    pub revoked_on: Option<Date>,
    /// The day a repair (信用修复) of it was granted, if one was.
    pub repaired_on: Option<Date>,
}

fn value<'a>(fields: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    fields.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// The entry `rule` derives from `rec` as it stands: `None` when the record is
/// outside the rule's `when` or has no valid start date. The entry is listed from the
/// start date for the list type's default term; the earliest of the provider's own
/// removal date, the revocation and a granted repair ends it (when that comes before
/// the term's end).
pub fn derive(rule: &DerivationRule, lists: &ListRules, rec: &SourceRecord<'_>) -> Option<Listing> {
    if rec.item != rule.item {
        return None;
    }
    if !rule.when.iter().all(|(f, values)| value(rec.fields, f).is_some_and(|v| values.iter().any(|x| x == v))) {
        return None;
    }
    let lt = lists.list_type(&rule.list_type)?;
    let start = value(rec.fields, &rule.start_field).and_then(parse_date)?;
    let end = lt.default_end(start);
    let provider_end = rule.end_field.as_deref().and_then(|f| value(rec.fields, f)).and_then(parse_date).map(|d| {
        let why = rule.end_reason_field.as_deref().and_then(|f| value(rec.fields, f));
        (d, RemovalKind::ProviderRemoved, why.unwrap_or("提供单位已移出 / removed by the provider").to_string())
    });
    let revoked = rec.revoked_on.map(|d| {
        (d, RemovalKind::RecordRevoked, format!("来源记录 {} 已撤销 / record {} was revoked", rec.id, rec.id))
    });
    let repaired = rec
        .repaired_on
        .map(|d| (d, RemovalKind::Repair, format!("来源记录 {} 已信用修复 / record {} was repaired", rec.id, rec.id)));
    let ended = [provider_end, revoked, repaired]
        .into_iter()
        .flatten()
        .filter(|(d, ..)| end.is_none_or(|e| *d < e))
        .min_by_key(|(d, ..)| *d);
    let mut document = BTreeMap::new();
    document.insert("basis".to_string(), rule.basis.clone());
    for f in &rule.document_fields {
        if let Some(v) = value(rec.fields, f) {
            document.insert(f.clone(), v.to_string());
        }
    }
    let reason = value(rec.fields, &rule.reason_field).unwrap_or_default().to_string();
    document.insert("reason".to_string(), reason.clone());
    let (status, removed_date, removal_kind, removal_reason) = match ended {
        // removed on or before its first day: it was never in force
        Some((d, kind, why)) => (ListingStatus::Removed, Some(d.max(start)), Some(kind), Some(why)),
        None => (ListingStatus::Listed, None, None, None),
    };
    Some(Listing {
        id: 0,
        subject: rec.subject.to_string(),
        list_type: rule.list_type.clone(),
        status,
        provider: rec.provider.to_string(),
        basis: Some(rule.basis.clone()),
        reason,
        notice_date: None,
        objection_until: None,
        objections: Vec::new(),
        decision_date: Some(start),
        start: Some(start),
        end,
        removed_date,
        removal_kind,
        removal_reason,
        document,
        persons: Vec::new(),
        scope: None,
        source: Some(ListingSource { record_id: rec.id, rule: rule.tag(), item: rule.item.clone() }),
        first_event: 0,
        decided_event: None,
        last_event: 0,
    })
}

/// Whether two entries say the same (ignoring the ledger bookkeeping).
fn same(a: &Listing, b: &Listing) -> bool {
    a.subject == b.subject
        && a.list_type == b.list_type
        && a.status == b.status
        && a.provider == b.provider
        && a.basis == b.basis
        && a.reason == b.reason
        && a.start == b.start
        && a.end == b.end
        && a.removed_date == b.removed_date
        && a.removal_kind == b.removal_kind
        && a.removal_reason == b.removal_reason
        && a.document == b.document
        && a.source == b.source
}

/// The step that brings the `stored` entry (if any) to the `derived` one (if any):
/// `listing.derived` for a new or changed entry, `listing.removed` when a listed entry
/// ends; `None` when nothing changes. An entry the record no longer supports (a
/// correction moved it outside the rule) ends on `today`.
pub fn step(stored: Option<&Listing>, derived: Option<Listing>, today: Date) -> Option<(Listing, EventKind)> {
    match (stored, derived) {
        (None, None) => None,
        (None, Some(d)) => Some((d, EventKind::ListingDerived)),
        (Some(s), Some(mut d)) => {
            if same(s, &d) {
                return None;
            }
            let kind = if s.status == ListingStatus::Listed && d.status == ListingStatus::Removed && s.start == d.start
            {
                EventKind::ListingRemoved
            } else {
                EventKind::ListingDerived
            };
            d.id = s.id;
            d.first_event = s.first_event;
            d.decided_event = s.decided_event;
            d.last_event = s.last_event;
            Some((d, kind))
        }
        (Some(s), None) => {
            if s.status != ListingStatus::Listed {
                return None;
            }
            let mut d = s.clone();
            d.status = ListingStatus::Removed;
            d.removed_date = Some(s.start.map_or(today, |start| today.max(start)));
            d.removal_kind = Some(RemovalKind::ProviderRemoved);
            d.removal_reason = Some(
                "来源记录已更正，不再符合列入条件 / the record was corrected and no longer meets the rule".to_string(),
            );
            Some((d, EventKind::ListingRemoved))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;
    use time::macros::date;

    use super::*;

    fn rule(id: &str) -> &'static DerivationRule {
        Derivations::bundled().rules().iter().find(|r| r.id == id).unwrap()
    }

    fn debtor(published: &str, deleted: Option<&str>) -> BTreeMap<String, String> {
        let mut f = BTreeMap::new();
        f.insert("发布时间".to_string(), published.to_string());
        f.insert("案号".to_string(), "（2025）京0105执1234号".to_string());
        f.insert("执行依据文号".to_string(), "（2024）京0105民初567号".to_string());
        f.insert("被执行人的履行情况".to_string(), "全部未履行".to_string());
        f.insert("失信被执行人行为具体情形".to_string(), "有履行能力而拒不履行生效法律文书确定义务".to_string());
        if let Some(d) = deleted {
            f.insert("删除日期".to_string(), d.to_string());
            f.insert("删除原因".to_string(), "已全部履行".to_string());
        }
        f
    }

    fn rec<'a>(fields: &'a BTreeMap<String, String>) -> SourceRecord<'a> {
        SourceRecord {
            id: 7,
            subject: "91110105MA01ABCD1X",
            provider: "court-chaoyang",
            item: "dishonest_debtor",
            fields,
            revoked_on: None,
            repaired_on: None,
        }
    }

    #[test]
    fn bundled_rules_cover_every_list_that_follows_from_records() {
        let d = Derivations::bundled();
        for lt in ["dishonest_debtor", "abnormal_operation", "false_litigation"] {
            assert!(d.rules().iter().any(|r| r.list_type == lt), "{lt}");
        }
        assert_eq!(d.items(), ["abnormal_operation", "dishonest_debtor", "false_litigation"].into());
    }

    #[test]
    fn a_court_record_lists_the_debtor_until_the_court_deletes_it() {
        let f = debtor("2026-03-02", None);
        let l = derive(rule("court_dishonest_debtor"), ListRules::bundled(), &rec(&f)).unwrap();
        assert_eq!(l.status, ListingStatus::Listed);
        assert_eq!(l.start, Some(date!(2026 - 03 - 02)));
        assert_eq!(l.end, None, "until removed");
        assert!(l.in_force_on(date!(2030 - 01 - 01)));
        assert_eq!(l.document.get("案号").map(String::as_str), Some("（2025）京0105执1234号"));
        assert!(l.basis.as_deref().unwrap().contains("法释〔2017〕7号"));

        let f = debtor("2026-03-02", Some("2026-06-01"));
        let removed = derive(rule("court_dishonest_debtor"), ListRules::bundled(), &rec(&f)).unwrap();
        assert_eq!(removed.status, ListingStatus::Removed);
        assert_eq!(removed.removal_kind, Some(RemovalKind::ProviderRemoved));
        assert!(removed.in_force_on(date!(2026 - 05 - 31)));
        assert!(!removed.in_force_on(date!(2026 - 06 - 01)));
        let (next, kind) = step(Some(&l), Some(removed), date!(2026 - 06 - 02)).unwrap();
        assert_eq!(kind, EventKind::ListingRemoved);
        assert_eq!(next.removed_date, Some(date!(2026 - 06 - 01)));
    }

    #[test]
    fn revocation_ends_the_entry_on_its_day_and_keeps_the_past() {
        let f = debtor("2026-03-02", None);
        let r = SourceRecord { revoked_on: Some(date!(2026 - 04 - 10)), ..rec(&f) };
        let l = derive(rule("court_dishonest_debtor"), ListRules::bundled(), &r).unwrap();
        assert_eq!(l.removal_kind, Some(RemovalKind::RecordRevoked));
        assert!(l.in_force_on(date!(2026 - 04 - 09)), "as_of in the listed period still sees it");
        assert!(!l.in_force_on(date!(2026 - 04 - 10)));
    }

    #[test]
    fn records_outside_the_rule_derive_nothing() {
        let mut f = debtor("2026-03-02", None);
        f.insert("被执行人的履行情况".to_string(), "已履行".to_string());
        assert!(derive(rule("court_dishonest_debtor"), ListRules::bundled(), &rec(&f)).is_none());
        let f = debtor("not a date", None);
        assert!(derive(rule("court_dishonest_debtor"), ListRules::bundled(), &rec(&f)).is_none());
        let f = debtor("2026-03-02", None);
        let other = SourceRecord { item: "admin_penalty", ..rec(&f) };
        assert!(derive(rule("court_dishonest_debtor"), ListRules::bundled(), &other).is_none());
    }

    #[test]
    fn a_rule_must_name_real_fields_and_a_list_fed_by_records() {
        let catalog = Catalog::bundled().unwrap();
        let lists = ListRules::bundled();
        let bad_field = DERIVATIONS_TOML.replace("start_field = \"发布时间\"", "start_field = \"不存在\"");
        assert!(Derivations::from_toml(&bad_field, &catalog, lists).unwrap_err().contains("不存在"));
        let by_hand =
            DERIVATIONS_TOML.replacen("list_type = \"dishonest_debtor\"", "list_type = \"serious_dishonesty\"", 1);
        let e = Derivations::from_toml(&by_hand, &catalog, lists).unwrap_err();
        assert!(e.contains("entries_from"), "{e}");
        let bad_value = DERIVATIONS_TOML.replace("\"全部未履行\", ", "\"不是取值\", ");
        assert!(Derivations::from_toml(&bad_value, &catalog, lists).unwrap_err().contains("不是取值"));
    }

    proptest! {
        /// Deriving again from the same record changes nothing; the stored entry is
        /// in force exactly from the start to the earliest ending event.
        #[test]
        fn derivation_is_idempotent_and_ends_at_the_earliest_event(
            start in 0u32..2000, removed in proptest::option::of(0u32..3000),
            revoked in proptest::option::of(0u32..3000), repaired in proptest::option::of(0u32..3000),
            probe in 0u32..4000,
        ) {
            let day = |n: u32| date!(2020 - 01 - 01) + time::Duration::days(i64::from(n));
            let fmt = |d: Date| crate::record::date_string(d);
            let f = debtor(&fmt(day(start)), removed.map(|r| fmt(day(r))).as_deref());
            let r = SourceRecord { revoked_on: revoked.map(day), repaired_on: repaired.map(day), ..rec(&f) };
            let l = derive(rule("court_dishonest_debtor"), ListRules::bundled(), &r).unwrap();
            let mut stored = l.clone();
            stored.id = 3;
            stored.last_event = 9;
            prop_assert!(step(Some(&stored), derive(rule("court_dishonest_debtor"), ListRules::bundled(), &r), day(5000)).is_none());
            let first_end = [removed, revoked, repaired].into_iter().flatten().min();
            let expect = probe >= start && first_end.is_none_or(|e| probe < e.max(start));
            prop_assert_eq!(l.in_force_on(day(probe)), expect);
        }
    }
}
