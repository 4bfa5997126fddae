//! Credit lists (信用名单) and the measures list (措施清单): the data model and the pure
//! rules behind "check before acting" (逢办必查).
//!
//! List types (`data/lists/list_types.toml`) say what a listing decision must carry and
//! how long a listing lasts; measures (`data/measures/measures.toml`) say what follows
//! from being listed, for which matters (办理事项), on what legal basis and by whom.
//! [`applicable`] answers a department's check: the measures that apply to a matter
//! for a subject with given listings, and a one-word [`Verdict`]. [`check_decision`]
//! refuses a listing decision that lacks what the rules require.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize, Serializer};
use time::Date;

use crate::publication::Period;
use crate::record::date_string;

const LIST_TYPES_TOML: &str = include_str!("../../../data/lists/list_types.toml");
const MEASURES_TOML: &str = include_str!("../../../data/measures/measures.toml");
const BAN_SCOPES_TOML: &str = include_str!("../../../data/lists/ban_scopes.toml");

static BUNDLED: LazyLock<ListRules> = LazyLock::new(|| {
    match ListRules::from_toml(LIST_TYPES_TOML, MEASURES_TOML).and_then(|r| r.with_scopes(BAN_SCOPES_TOML)) {
        Ok(rules) => rules,
        // Both files are fixed at compile time and checked by the tests below.
        Err(e) => panic!("bundled data/lists or data/measures is invalid: {e}"),
    }
});

// ---- model --------------------------------------------------------------------

/// Whether a list (and a measure) punishes or rewards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    Punishment,
    Reward,
}

/// What a measure does to the matter, ordered by strength (weakest first): the
/// rewards, then the punishments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// 绿色通道 / 容缺受理
    GreenChannel,
    /// 降低抽查比例和频次
    FewerInspections,
    /// 同等条件下优先
    Priority,
    /// 从严审核 / 重点监管
    HeightenedScrutiny,
    /// 限制
    Restrict,
    /// 禁止
    Prohibit,
}

impl Effect {
    pub fn kind(self) -> ListKind {
        match self {
            Effect::GreenChannel | Effect::FewerInspections | Effect::Priority => ListKind::Reward,
            Effect::HeightenedScrutiny | Effect::Restrict | Effect::Prohibit => ListKind::Punishment,
        }
    }

    /// The verdict this effect alone gives.
    pub fn verdict(self) -> Verdict {
        match self {
            Effect::GreenChannel | Effect::FewerInspections | Effect::Priority => Verdict::Reward,
            Effect::HeightenedScrutiny | Effect::Restrict => Verdict::Restrict,
            Effect::Prohibit => Verdict::Prohibit,
        }
    }
}

/// The answer of a check: the strongest effect among the applicable measures
/// (prohibit > restrict, including heightened scrutiny > reward > clear).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Clear,
    Reward,
    Restrict,
    Prohibit,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Clear => "clear",
            Verdict::Reward => "reward",
            Verdict::Restrict => "restrict",
            Verdict::Prohibit => "prohibit",
        }
    }
}

/// How long a listing lasts when the decision does not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Term {
    /// A fixed period from the start.
    Period(Period),
    /// 终身
    Life,
    /// Until a removal decision (移出).
    UntilRemoved,
}

impl Term {
    pub fn parse(s: &str) -> Result<Term, String> {
        match s.trim() {
            "life" => Ok(Term::Life),
            "until_removed" => Ok(Term::UntilRemoved),
            other => Period::parse(other).map(Term::Period),
        }
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Term::Period(p) => write!(f, "{p}"),
            Term::Life => f.write_str("life"),
            Term::UntilRemoved => f.write_str("until_removed"),
        }
    }
}

impl Serialize for Term {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

fn serialize_period_opt<S: Serializer>(p: &Option<Period>, s: S) -> Result<S::Ok, S::Error> {
    match p {
        Some(p) => s.collect_str(p),
        None => s.serialize_none(),
    }
}

/// Where a list's entries come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EntriesFrom {
    /// A department notices, decides and removes each entry on the platform.
    #[default]
    Decisions,
    /// Entries follow from a provider's records (对象清单): derived by the rules of
    /// `data/lists/derivations.toml`, never proposed by hand.
    Records,
}

/// A domain a market ban can cover (禁入领域), from `data/lists/ban_scopes.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BanScope {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// The law that provides bans in this domain.
    pub basis: String,
}

/// The code of the scope that covers every domain.
pub const SCOPE_ALL: &str = "all";

/// A field a listing decision must state (e.g. 事由 / grounds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DocumentField {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
}

/// A kind of credit list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListType {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub kind: ListKind,
    /// Whether active entries are published (公示) or only shared with departments.
    pub public: bool,
    pub requires_legal_basis: bool,
    pub requires_notice: bool,
    /// Working days the subject has to object after prior notice (0: no window).
    pub objection_working_days: u32,
    /// A period (`1 year`, `3 years`, `6 months` …), `life` or `until_removed`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub default_term: Term,
    /// When early removal (提前移出) may first be applied for, counted from the start.
    #[serde(serialize_with = "serialize_period_opt")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub early_removal_after: Option<Period>,
    /// Whether responsible persons (法定代表人、主要负责人等) may be listed with the entity.
    pub responsible_persons: bool,
    pub decision_document_fields: Vec<DocumentField>,
    /// Decided here, or derived from records.
    pub entries_from: EntriesFrom,
    /// Whether a listing names the domain it covers (market bans).
    pub scoped: bool,
}

impl ListType {
    /// The end (exclusive) of a listing starting on `start` that runs its default term;
    /// `None` for life, until removal, or beyond the range of [`Date`].
    pub fn default_end(&self, start: Date) -> Option<Date> {
        match self.default_term {
            Term::Period(p) => p.after(start),
            Term::Life | Term::UntilRemoved => None,
        }
    }

    /// The first day early removal may be applied for, if the type allows it.
    pub fn early_removal_from(&self, start: Date) -> Option<Date> {
        self.early_removal_after.and_then(|p| p.after(start))
    }
}

/// One entry of the measures list (措施清单).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Measure {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub kind: ListKind,
    /// The list types whose listing triggers this measure.
    pub list_types: Vec<String>,
    /// The matters (办理事项) it applies to, as snake_case codes.
    pub matters: Vec<String>,
    pub effect: Effect,
    pub legal_basis: Vec<String>,
    pub implementing_departments: Vec<String>,
    pub duration: String,
    /// For a scoped list (market bans): the ban domains that trigger the measure;
    /// empty = a ban of any domain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
}

impl Measure {
    pub fn follows(&self, list_type: &str) -> bool {
        self.list_types.iter().any(|t| t == list_type)
    }

    pub fn covers(&self, matter: &str) -> bool {
        self.matters.iter().any(|m| m == matter)
    }

    /// Whether a ban of `scope` (none for unscoped lists) triggers this measure.
    pub fn follows_scope(&self, scope: Option<&str>) -> bool {
        match scope {
            None => true,
            Some(s) => self.scopes.is_empty() || s == SCOPE_ALL || self.scopes.iter().any(|x| x == s),
        }
    }
}

/// List types and the measures list, validated together.
#[derive(Debug, Clone)]
pub struct ListRules {
    list_types: BTreeMap<String, ListType>,
    measures: Vec<Measure>,
    scopes: Vec<BanScope>,
}

// ---- parsing --------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawListTypes {
    list_type: Vec<RawListType>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawListType {
    code: String,
    name_zh: String,
    name_en: String,
    kind: ListKind,
    public: bool,
    requires_legal_basis: bool,
    requires_notice: bool,
    objection_working_days: u32,
    default_term: String,
    early_removal_after: Option<String>,
    responsible_persons: bool,
    #[serde(default)]
    decision_document_fields: Vec<DocumentField>,
    #[serde(default)]
    entries_from: EntriesFrom,
    #[serde(default)]
    scoped: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScopes {
    scope: Vec<BanScope>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeasures {
    measure: Vec<Measure>,
}

fn is_code(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

fn list_type_from_raw(raw: RawListType) -> Result<ListType, String> {
    let code = raw.code;
    if !is_code(&code) {
        return Err(format!(
            "名单类型代码“{code}”无效（应为小写蛇形）/ invalid list type code {code:?} (snake_case expected)"
        ));
    }
    if blank(&raw.name_zh) || blank(&raw.name_en) {
        return Err(format!("名单类型“{code}”缺少中文或英文名称 / list type {code:?} lacks name_zh or name_en"));
    }
    let default_term = Term::parse(&raw.default_term).map_err(|e| format!("名单类型“{code}”default_term：{e}"))?;
    let early_removal_after = match raw.early_removal_after.as_deref() {
        None => None,
        Some(s) => {
            let p = Period::parse(s).map_err(|e| format!("名单类型“{code}”early_removal_after：{e}"))?;
            if let Term::Period(term) = default_term
                && p >= term
            {
                return Err(format!(
                    "名单类型“{code}”提前移出期限不短于有效期 / list type {code:?}: early_removal_after {p} is not shorter than the term {term}"
                ));
            }
            Some(p)
        }
    };
    if raw.kind == ListKind::Punishment
        && raw.entries_from == EntriesFrom::Decisions
        && raw.decision_document_fields.is_empty()
    {
        return Err(format!(
            "惩戒类名单“{code}”未规定决定书应载明事项 / punishment list {code:?} names no decision_document_fields"
        ));
    }
    let mut seen = BTreeSet::new();
    for f in &raw.decision_document_fields {
        if !is_code(&f.code) || blank(&f.name_zh) || blank(&f.name_en) {
            return Err(format!(
                "名单类型“{code}”决定书事项“{}”无效 / list type {code:?}: invalid document field {:?}",
                f.name_zh, f.code
            ));
        }
        if !seen.insert(f.code.as_str()) {
            return Err(format!(
                "名单类型“{code}”决定书事项“{}”重复 / list type {code:?}: duplicate document field {:?}",
                f.name_zh, f.code
            ));
        }
    }
    Ok(ListType {
        code,
        name_zh: raw.name_zh,
        name_en: raw.name_en,
        kind: raw.kind,
        public: raw.public,
        requires_legal_basis: raw.requires_legal_basis,
        requires_notice: raw.requires_notice,
        objection_working_days: raw.objection_working_days,
        default_term,
        early_removal_after,
        responsible_persons: raw.responsible_persons,
        decision_document_fields: raw.decision_document_fields,
        entries_from: raw.entries_from,
        scoped: raw.scoped,
    })
}

fn check_measure(m: &Measure, list_types: &BTreeMap<String, ListType>) -> Result<(), String> {
    let id = &m.id;
    if blank(id) {
        return Err("措施编号为空 / a measure has an empty id".to_string());
    }
    if blank(&m.name_zh) || blank(&m.name_en) {
        return Err(format!("措施“{id}”缺少中文或英文名称 / measure {id:?} lacks name_zh or name_en"));
    }
    if m.effect.kind() != m.kind {
        return Err(format!(
            "措施“{id}”的效果与奖惩类别不符 / measure {id:?}: effect {:?} does not fit kind {:?}",
            m.effect, m.kind
        ));
    }
    if m.list_types.is_empty() {
        return Err(format!("措施“{id}”未指明适用名单 / measure {id:?} follows no list type"));
    }
    for t in &m.list_types {
        let Some(lt) = list_types.get(t) else {
            return Err(format!("措施“{id}”适用未知名单“{t}” / measure {id:?} follows unknown list type {t:?}"));
        };
        if lt.kind != m.kind {
            return Err(format!(
                "措施“{id}”与名单“{t}”的奖惩类别不符 / measure {id:?} ({:?}) follows list type {t:?} ({:?})",
                m.kind, lt.kind
            ));
        }
    }
    if m.matters.is_empty() {
        return Err(format!("措施“{id}”未指明适用事项 / measure {id:?} covers no matter"));
    }
    if let Some(bad) = m.matters.iter().find(|x| !is_code(x)) {
        return Err(format!("措施“{id}”事项代码“{bad}”无效 / measure {id:?}: invalid matter code {bad:?}"));
    }
    if m.legal_basis.is_empty() || m.legal_basis.iter().any(|b| blank(b)) {
        return Err(format!("措施“{id}”缺少法律依据 / measure {id:?} has an empty legal basis"));
    }
    if m.implementing_departments.is_empty() || m.implementing_departments.iter().any(|d| blank(d)) {
        return Err(format!("措施“{id}”缺少实施部门 / measure {id:?} names no implementing department"));
    }
    if blank(&m.duration) {
        return Err(format!("措施“{id}”缺少期限 / measure {id:?} has no duration"));
    }
    if !m.scopes.is_empty() && !m.list_types.iter().all(|t| list_types.get(t).is_some_and(|lt| lt.scoped)) {
        return Err(format!(
            "措施“{id}”限定了禁入领域，但适用的名单不分领域 / measure {id:?} names scopes for a list type without scopes"
        ));
    }
    Ok(())
}

impl ListRules {
    /// The list types and measures shipped with this build.
    pub fn bundled() -> &'static ListRules {
        &BUNDLED
    }

    /// Parses and validates list types (`[[list_type]]`) and measures (`[[measure]]`).
    /// Refuses unknown keys and effects, duplicate codes or ids, measures that follow
    /// unknown list types or whose kind does not fit, empty legal bases, and list
    /// types that no measure follows.
    pub fn from_toml(list_types: &str, measures: &str) -> Result<ListRules, String> {
        let raw: RawListTypes =
            toml::from_str(list_types).map_err(|e| format!("名单类型文件无效 / invalid list types file: {e}"))?;
        let mut types = BTreeMap::new();
        for r in raw.list_type {
            let t = list_type_from_raw(r)?;
            if types.contains_key(&t.code) {
                return Err(format!("名单类型“{}”重复 / duplicate list type {:?}", t.code, t.code));
            }
            types.insert(t.code.clone(), t);
        }
        let raw: RawMeasures =
            toml::from_str(measures).map_err(|e| format!("措施清单文件无效 / invalid measures file: {e}"))?;
        let mut ids = BTreeSet::new();
        for m in &raw.measure {
            check_measure(m, &types)?;
            if !ids.insert(m.id.as_str()) {
                return Err(format!("措施编号“{}”重复 / duplicate measure id {:?}", m.id, m.id));
            }
        }
        if let Some(t) = types.values().find(|t| !raw.measure.iter().any(|m| m.follows(&t.code))) {
            return Err(format!("名单“{}”没有任何对应措施 / list type {:?} has no measure", t.name_zh, t.code));
        }
        Ok(ListRules { list_types: types, measures: raw.measure, scopes: Vec::new() })
    }

    /// Adds the ban domains (`[[scope]]`); refuses duplicates and measures naming an
    /// unknown domain.
    pub fn with_scopes(mut self, scopes: &str) -> Result<ListRules, String> {
        let raw: RawScopes =
            toml::from_str(scopes).map_err(|e| format!("禁入领域文件无效 / invalid ban scopes file: {e}"))?;
        let mut seen = BTreeSet::new();
        for s in &raw.scope {
            if !is_code(&s.code) || blank(&s.name_zh) || blank(&s.name_en) || blank(&s.basis) {
                return Err(format!("禁入领域“{}”无效 / invalid ban scope {:?}", s.name_zh, s.code));
            }
            if !seen.insert(s.code.as_str()) {
                return Err(format!("禁入领域“{}”重复 / duplicate ban scope {:?}", s.name_zh, s.code));
            }
        }
        for m in &self.measures {
            if let Some(bad) = m.scopes.iter().find(|x| !seen.contains(x.as_str())) {
                return Err(format!(
                    "措施“{}”适用未知禁入领域“{bad}” / measure {:?}: unknown scope {bad:?}",
                    m.id, m.id
                ));
            }
        }
        self.scopes = raw.scope;
        Ok(self)
    }

    /// The ban domains, in file order.
    pub fn scopes(&self) -> &[BanScope] {
        &self.scopes
    }

    pub fn scope(&self, code: &str) -> Option<&BanScope> {
        self.scopes.iter().find(|s| s.code == code)
    }

    pub fn list_type(&self, code: &str) -> Option<&ListType> {
        self.list_types.get(code)
    }

    /// All list types, ordered by code.
    pub fn list_types(&self) -> impl Iterator<Item = &ListType> {
        self.list_types.values()
    }

    /// The measures list, in file order.
    pub fn measures(&self) -> &[Measure] {
        &self.measures
    }

    pub fn measure(&self, id: &str) -> Option<&Measure> {
        self.measures.iter().find(|m| m.id == id)
    }

    /// Whether some measure covers `matter` (no allocation: on every check's path).
    pub fn has_matter(&self, matter: &str) -> bool {
        self.measures.iter().any(|m| m.covers(matter))
    }

    /// Every matter code some measure covers, sorted.
    pub fn matters(&self) -> BTreeSet<&str> {
        self.measures.iter().flat_map(|m| m.matters.iter().map(String::as_str)).collect()
    }
}

// ---- checks -------------------------------------------------------------------------

/// Whether a listing running from `start` (inclusive) to `end` (exclusive, `None` =
/// open-ended) is in force on `on`.
pub fn is_active(start: Date, end: Option<Date>, on: Date) -> bool {
    start <= on && end.is_none_or(|e| on < e)
}

/// A listing of the subject being checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveListing<'a> {
    pub list_type: &'a str,
    pub start: Date,
    pub end: Option<Date>,
    /// The domain a market ban covers.
    pub scope: Option<&'a str>,
}

impl ActiveListing<'_> {
    /// Whether the listing bears on a matter of `domain` (none: the check named no
    /// domain, so every ban counts).
    pub fn bears_on(&self, domain: Option<&str>) -> bool {
        match (self.scope, domain) {
            (Some(s), Some(d)) => s == SCOPE_ALL || s == d,
            _ => true,
        }
    }
}

/// The measures that apply to `matter` (in `domain`, when the check names one) for a
/// subject with these listings, counting only listings in force on `on` that bear on
/// the domain, in measures-list order, and the verdict: the strongest effect among
/// them ([`Verdict::Clear`] when none applies). Listings of list types the rules do
/// not know are ignored.
pub fn applicable<'r>(
    rules: &'r ListRules,
    listings: &[ActiveListing<'_>],
    matter: &str,
    domain: Option<&str>,
    on: Date,
) -> (Vec<&'r Measure>, Verdict) {
    let active: Vec<&ActiveListing<'_>> =
        listings.iter().filter(|l| is_active(l.start, l.end, on) && l.bears_on(domain)).collect();
    let measures: Vec<&Measure> = rules
        .measures
        .iter()
        .filter(|m| m.covers(matter) && active.iter().any(|l| m.follows(l.list_type) && m.follows_scope(l.scope)))
        .collect();
    let verdict = measures.iter().map(|m| m.effect.verdict()).max().unwrap_or(Verdict::Clear);
    (measures, verdict)
}

/// A listing decision (列入决定) about to be recorded.
#[derive(Debug, Clone, Copy)]
pub struct ListingDecision<'a> {
    pub list_type: &'a str,
    /// The legal basis relied on (法律依据).
    pub basis: Option<&'a str>,
    /// The date prior notice (事前告知) was given.
    pub notice_date: Option<Date>,
    pub decision_date: Date,
    pub start: Date,
    pub end: Option<Date>,
    /// What the decision document states, keyed by field code (`reason`) or Chinese
    /// name (`事由`).
    pub document: &'a BTreeMap<String, String>,
}

/// Why a listing decision is refused. `Display` gives "中文 / English".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListError {
    #[error("未知名单类型“{0}” / unknown list type {0:?}")]
    UnknownListType(String),
    #[error(
        "列入“{list_zh}”须有法律、法规或党中央、国务院政策文件依据，决定未载明 / listing on {list_code:?} requires a legal basis, none given"
    )]
    MissingBasis { list_code: String, list_zh: String },
    #[error(
        "列入“{list_zh}”前须事先告知，未记录告知日期 / listing on {list_code:?} requires prior notice, no notice date recorded"
    )]
    MissingNotice { list_code: String, list_zh: String },
    #[error("告知日期 {notice} 晚于决定日期 {decision} / notice date {notice} is after the decision date {decision}")]
    NoticeAfterDecision { notice: String, decision: String },
    #[error(
        "列入起始日 {start} 早于决定日期 {decision} / listing starts on {start}, before the decision date {decision}"
    )]
    StartBeforeDecision { start: String, decision: String },
    #[error("列入截止日 {end} 不晚于起始日 {start} / listing end {end} is not after its start {start}")]
    EndNotAfterStart { start: String, end: String },
    #[error("决定书未载明“{name_zh}” / decision document lacks {name_en} ({code})")]
    MissingDocumentField { code: String, name_zh: String, name_en: String },
}

/// Validates a listing decision against its list type: legal basis and prior notice
/// where required, notice not after the decision, start not before the decision, end
/// after start, and every required document field stated (non-blank). Returns every
/// problem found, not just the first.
pub fn check_decision(rules: &ListRules, d: &ListingDecision<'_>) -> Result<(), Vec<ListError>> {
    let Some(lt) = rules.list_type(d.list_type) else {
        return Err(vec![ListError::UnknownListType(d.list_type.to_string())]);
    };
    let mut errors = Vec::new();
    if lt.requires_legal_basis && d.basis.is_none_or(blank) {
        errors.push(ListError::MissingBasis { list_code: lt.code.clone(), list_zh: lt.name_zh.clone() });
    }
    match d.notice_date {
        None if lt.requires_notice => {
            errors.push(ListError::MissingNotice { list_code: lt.code.clone(), list_zh: lt.name_zh.clone() });
        }
        Some(n) if n > d.decision_date => errors
            .push(ListError::NoticeAfterDecision { notice: date_string(n), decision: date_string(d.decision_date) }),
        _ => {}
    }
    if d.start < d.decision_date {
        errors.push(ListError::StartBeforeDecision {
            start: date_string(d.start),
            decision: date_string(d.decision_date),
        });
    }
    if let Some(end) = d.end
        && end <= d.start
    {
        errors.push(ListError::EndNotAfterStart { start: date_string(d.start), end: date_string(end) });
    }
    for f in &lt.decision_document_fields {
        let stated = [&f.code, &f.name_zh].into_iter().any(|k| d.document.get(k.as_str()).is_some_and(|v| !blank(v)));
        if !stated {
            errors.push(ListError::MissingDocumentField {
                code: f.code.clone(),
                name_zh: f.name_zh.clone(),
                name_en: f.name_en.clone(),
            });
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn rules() -> &'static ListRules {
        ListRules::bundled()
    }

    fn listing(t: &str, start: Date, end: Option<Date>) -> ActiveListing<'_> {
        ActiveListing { list_type: t, start, end, scope: None }
    }

    #[test]
    fn bundled_rules_load_and_cover_every_type_and_required_matter() {
        let r = rules();
        for code in [
            "serious_dishonesty",
            "key_attention",
            "red_list",
            "market_ban",
            "abnormal_operation",
            "dishonest_debtor",
            "false_litigation",
        ] {
            let t = r.list_type(code).unwrap();
            assert!(r.measures().iter().any(|m| m.follows(code)), "{code}");
            // a list fed by records carries the provider's documents, not a decision's
            if t.kind == ListKind::Punishment && t.entries_from == EntriesFrom::Decisions {
                assert!(!t.decision_document_fields.is_empty(), "{code}");
            }
        }
        let matters = r.matters();
        for m in [
            "government_procurement",
            "bidding",
            "fiscal_funds",
            "administrative_licensing",
            "honours",
            "financing",
            "market_access",
            "appointment",
        ] {
            assert!(matters.contains(m) && r.has_matter(m), "{m}");
        }
        assert!(!r.has_matter("biding"));
        assert!((25..=40).contains(&r.measures().len()), "{}", r.measures().len());
        let sd = r.list_type("serious_dishonesty").unwrap();
        assert!(sd.requires_legal_basis && sd.requires_notice && sd.responsible_persons);
        assert_eq!(sd.default_term.to_string(), "3 years");
        assert_eq!(sd.default_end(date!(2024 - 02 - 29)), Some(date!(2027 - 02 - 28)));
        assert_eq!(sd.early_removal_from(date!(2024 - 03 - 01)), Some(date!(2025 - 03 - 01)));
        assert_eq!(r.list_type("market_ban").unwrap().default_term, Term::Life);
        assert_eq!(r.list_type("abnormal_operation").unwrap().default_end(date!(2024 - 01 - 01)), None);
        let json = serde_json::to_value(sd).unwrap();
        assert_eq!(json["default_term"], "3 years");
        assert_eq!(json["early_removal_after"], "1 year");
        assert_eq!(json["kind"], "punishment");
    }

    const ON: Date = date!(2025 - 06 - 01);

    /// name, listings, matter, expected verdict, expected measure ids
    type Case<'a> = (&'a str, &'a [ActiveListing<'a>], &'a str, Verdict, &'a [&'a str]);

    #[test]
    fn table() {
        let r = rules();
        let start = date!(2024 - 01 - 01);
        let cases: &[Case<'_>] = &[
            (
                "serious → procurement",
                &[listing("serious_dishonesty", start, None)],
                "government_procurement",
                Verdict::Prohibit,
                &["M-SD-01"],
            ),
            (
                "red → licensing",
                &[listing("red_list", start, None)],
                "administrative_licensing",
                Verdict::Reward,
                &["M-RL-01"],
            ),
            ("none", &[], "government_procurement", Verdict::Clear, &[]),
            (
                "expired",
                &[listing("serious_dishonesty", start, Some(ON))],
                "government_procurement",
                Verdict::Clear,
                &[],
            ),
            (
                "not yet",
                &[listing("serious_dishonesty", date!(2025 - 06 - 02), None)],
                "government_procurement",
                Verdict::Clear,
                &[],
            ),
            ("matter not covered", &[listing("red_list", start, None)], "appointment", Verdict::Clear, &[]),
            ("unknown matter", &[listing("serious_dishonesty", start, None)], "no_such_matter", Verdict::Clear, &[]),
            ("unknown list", &[listing("no_such_list", start, None)], "government_procurement", Verdict::Clear, &[]),
            (
                "key attention → licensing",
                &[listing("key_attention", start, None)],
                "administrative_licensing",
                Verdict::Restrict,
                &["M-KA-02"],
            ),
            (
                "abnormal → bidding",
                &[listing("abnormal_operation", start, None)],
                "bidding",
                Verdict::Restrict,
                &["M-AO-01"],
            ),
            (
                "ban → appointment",
                &[listing("market_ban", start, None)],
                "appointment",
                Verdict::Prohibit,
                &["M-MB-01", "M-MB-03"],
            ),
            (
                "dishonest debtor → procurement",
                &[listing("dishonest_debtor", start, None)],
                "government_procurement",
                Verdict::Prohibit,
                &["M-DD-01"],
            ),
            (
                "red + serious → honours",
                &[listing("red_list", start, None), listing("serious_dishonesty", start, None)],
                "honours",
                Verdict::Prohibit,
                &["M-SD-05", "M-RL-05"],
            ),
        ];
        for (name, listings, matter, verdict, ids) in cases {
            let (measures, v) = applicable(r, listings, matter, None, ON);
            assert_eq!(v, *verdict, "{name}");
            let got: Vec<&str> = measures.iter().map(|m| m.id.as_str()).collect();
            assert_eq!(got, *ids, "{name}");
        }
        let (m, _) = applicable(r, &[listing("serious_dishonesty", start, None)], "government_procurement", None, ON);
        assert!(m[0].legal_basis.iter().any(|b| b.contains("政府采购法")));
        assert_eq!(serde_json::to_value(Verdict::Prohibit).unwrap(), "prohibit");
        assert_eq!(Verdict::Restrict.as_str(), "restrict");
    }

    fn full_document() -> BTreeMap<String, String> {
        [("reason", "x"), ("依据", "y"), ("measures_notice", "z"), ("移出条件和程序", "w"), ("remedy", "v")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn decision<'a>(doc: &'a BTreeMap<String, String>) -> ListingDecision<'a> {
        ListingDecision {
            list_type: "serious_dishonesty",
            basis: Some("《中华人民共和国政府采购法》第二十二条"),
            notice_date: Some(date!(2025 - 01 - 02)),
            decision_date: date!(2025 - 01 - 20),
            start: date!(2025 - 01 - 20),
            end: Some(date!(2028 - 01 - 20)),
            document: doc,
        }
    }

    #[test]
    fn decisions() {
        let r = rules();
        let doc = full_document();
        assert_eq!(check_decision(r, &decision(&doc)), Ok(()));

        let errs = check_decision(r, &ListingDecision { basis: None, ..decision(&doc) }).unwrap_err();
        assert!(matches!(errs.as_slice(), [ListError::MissingBasis { .. }]));
        assert!(errs[0].to_string().contains("法律") && errs[0].to_string().contains("legal basis"));
        let errs = check_decision(r, &ListingDecision { basis: Some("  "), ..decision(&doc) }).unwrap_err();
        assert!(matches!(errs.as_slice(), [ListError::MissingBasis { .. }]));

        let errs = check_decision(r, &ListingDecision { notice_date: None, ..decision(&doc) }).unwrap_err();
        assert!(matches!(errs.as_slice(), [ListError::MissingNotice { .. }]));
        assert!(errs[0].to_string().contains("告知") && errs[0].to_string().contains("prior notice"));

        let errs =
            check_decision(r, &ListingDecision { end: Some(date!(2025 - 01 - 19)), ..decision(&doc) }).unwrap_err();
        assert!(matches!(errs.as_slice(), [ListError::EndNotAfterStart { .. }]));
        assert!(errs[0].to_string().contains("2025-01-19"));

        let errs = check_decision(r, &ListingDecision { start: date!(2025 - 01 - 01), ..decision(&doc) }).unwrap_err();
        assert!(
            errs.contains(&ListError::StartBeforeDecision {
                start: "2025-01-01".into(),
                decision: "2025-01-20".into()
            })
        );

        let errs = check_decision(r, &ListingDecision { notice_date: Some(date!(2025 - 02 - 01)), ..decision(&doc) })
            .unwrap_err();
        assert!(matches!(errs.as_slice(), [ListError::NoticeAfterDecision { .. }]));

        let mut partial = full_document();
        partial.remove("依据");
        partial.insert("remedy".into(), " ".into());
        let errs = check_decision(r, &decision(&partial)).unwrap_err();
        let missing: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(missing.len(), 2, "{missing:?}");
        assert!(missing[0].contains("依据") && missing[0].contains("legal basis"));
        assert!(missing[1].contains("救济") && missing[1].contains("remedies"));

        let empty = BTreeMap::new();
        let all =
            ListingDecision { basis: None, notice_date: None, end: Some(date!(2020 - 01 - 01)), ..decision(&empty) };
        assert_eq!(check_decision(r, &all).unwrap_err().len(), 3 + 5);

        // A reward list needs neither basis, notice nor document fields.
        let red = ListingDecision { list_type: "red_list", basis: None, notice_date: None, ..decision(&empty) };
        assert_eq!(check_decision(r, &red), Ok(()));
        // Abnormal operation: basis required, notice not.
        let ao = ListingDecision { list_type: "abnormal_operation", notice_date: None, end: None, ..decision(&doc) };
        assert_eq!(check_decision(r, &ao), Ok(()));

        let unknown = ListingDecision { list_type: "nope", ..decision(&doc) };
        assert_eq!(check_decision(r, &unknown), Err(vec![ListError::UnknownListType("nope".into())]));
    }

    #[test]
    fn from_toml_refusals() {
        let ok = ListRules::from_toml(LIST_TYPES_TOML, MEASURES_TOML);
        assert!(ok.is_ok());
        let refused = |types: &str, measures: &str, needle: &str| {
            let e = ListRules::from_toml(types, measures).unwrap_err();
            assert!(e.contains(needle), "{needle:?} not in {e}");
        };
        refused(
            LIST_TYPES_TOML,
            &MEASURES_TOML.replacen("list_types = [\"serious_dishonesty\"]", "list_types = [\"bogus\"]", 1),
            "bogus",
        );
        refused(LIST_TYPES_TOML, &MEASURES_TOML.replacen("effect = \"prohibit\"", "effect = \"ban\"", 1), "ban");
        refused(
            LIST_TYPES_TOML,
            &MEASURES_TOML.replacen("legal_basis = [\"国办发〔2019〕35号\"]", "legal_basis = []", 1),
            "legal basis",
        );
        refused(
            LIST_TYPES_TOML,
            &MEASURES_TOML.replacen("legal_basis = [\"国办发〔2019〕35号\"]", "legal_basis = [\" \"]", 1),
            "legal basis",
        );
        refused(
            LIST_TYPES_TOML,
            &MEASURES_TOML.replacen("id = \"M-SD-02\"", "id = \"M-SD-01\"", 1),
            "duplicate measure id",
        );
        refused(
            LIST_TYPES_TOML,
            &MEASURES_TOML.replace("list_types = [\"abnormal_operation\"]", "list_types = [\"serious_dishonesty\"]"),
            "abnormal_operation",
        );
        refused(LIST_TYPES_TOML, &MEASURES_TOML.replacen("effect = \"prohibit\"", "effect = \"priority\"", 1), "kind");
        refused(
            &LIST_TYPES_TOML.replacen("default_term = \"3 years\"", "default_term = \"forever\"", 1),
            MEASURES_TOML,
            "forever",
        );
        refused(
            &LIST_TYPES_TOML.replacen("early_removal_after = \"1 year\"", "early_removal_after = \"4 years\"", 1),
            MEASURES_TOML,
            "early_removal_after",
        );
        refused(
            &LIST_TYPES_TOML.replacen("responsible_persons = true", "responsible_persons = true\ncolour = 1", 1),
            MEASURES_TOML,
            "colour",
        );
    }

    const TYPES: [&str; 6] =
        ["serious_dishonesty", "key_attention", "red_list", "market_ban", "abnormal_operation", "unknown_list"];

    fn day(n: i32) -> Date {
        date!(2024 - 01 - 01) + time::Duration::days(i64::from(n))
    }

    fn arb_listing() -> impl Strategy<Value = (usize, i32, Option<i32>)> {
        (0..TYPES.len(), 0..800i32, proptest::option::of(1..800i32))
    }

    fn to_listing((t, s, len): (usize, i32, Option<i32>)) -> ActiveListing<'static> {
        ActiveListing { list_type: TYPES[t], start: day(s), end: len.map(|l| day(s + l)), scope: None }
    }

    fn arb_matter() -> impl Strategy<Value = String> {
        let mut matters: Vec<String> = rules().matters().into_iter().map(String::from).collect();
        matters.push("unknown_matter".into());
        proptest::sample::select(matters)
    }

    proptest! {
        #[test]
        fn verdict_is_monotone_and_consistent(
            raw in proptest::collection::vec(arb_listing(), 0..5),
            extra in arb_listing(),
            matter in arb_matter(),
            on in 0..900i32,
        ) {
            let r = rules();
            let on = day(on);
            let listings: Vec<ActiveListing<'_>> = raw.into_iter().map(to_listing).collect();
            let (measures, verdict) = applicable(r, &listings, &matter, None, on);

            let max = measures.iter().map(|m| m.effect).max();
            prop_assert_eq!(verdict, max.map_or(Verdict::Clear, Effect::verdict));
            for m in &measures {
                prop_assert!(m.covers(&matter));
                prop_assert!(listings.iter().any(|l| m.follows(l.list_type) && is_active(l.start, l.end, on)));
            }

            let mut more = listings.clone();
            more.push(to_listing(extra));
            let (more_measures, more_verdict) = applicable(r, &more, &matter, None, on);
            prop_assert!(more_verdict >= verdict);
            prop_assert!(measures.iter().all(|m| more_measures.contains(m)));
        }

        #[test]
        fn is_active_bounds(s in 0..2000i32, len in proptest::option::of(1..2000i32), on in 0..4000i32) {
            let (start, end, on) = (day(s), len.map(|l| day(s + l)), day(on));
            if on < start {
                prop_assert!(!is_active(start, end, on));
            }
            if let Some(e) = end && on >= e {
                prop_assert!(!is_active(start, end, on));
            }
            if on >= start && end.is_none_or(|e| on < e) {
                prop_assert!(is_active(start, end, on));
            }
            prop_assert!(is_active(start, end, start));
        }
    }

    #[test]
    fn a_scoped_ban_bears_only_on_its_own_domain() {
        let r = rules();
        let on = date!(2025 - 06 - 01);
        let food = ActiveListing { scope: Some("food"), ..listing("market_ban", date!(2025 - 01 - 01), None) };
        // a food-safety ban bars a food licence …
        let (m, v) = applicable(r, &[food], "administrative_licensing", Some("food"), on);
        assert_eq!(v, Verdict::Prohibit, "{m:?}");
        // … not a licence in an unrelated domain
        let (m, v) = applicable(r, &[food], "administrative_licensing", Some("securities"), on);
        assert_eq!((m.len(), v), (0, Verdict::Clear));
        // a check that names no domain sees every ban (the department weighs its scope)
        assert_eq!(applicable(r, &[food], "administrative_licensing", None, on).1, Verdict::Prohibit);
        // a measure limited to securities bans does not follow a food ban
        let (m, _) = applicable(r, &[food], "appointment", Some("food"), on);
        assert!(m.iter().all(|m| m.id != "M-MB-01"), "{m:?}");
        let sec = ActiveListing { scope: Some("securities"), ..food };
        let (m, _) = applicable(r, &[sec], "appointment", Some("securities"), on);
        assert!(m.iter().any(|m| m.id == "M-MB-01"), "{m:?}");
        let all = ActiveListing { scope: Some(SCOPE_ALL), ..food };
        assert_eq!(applicable(r, &[all], "administrative_licensing", Some("drug"), on).1, Verdict::Prohibit);
        assert!(r.scopes().iter().any(|s| s.code == "food") && r.scope("food").is_some());
    }
}
