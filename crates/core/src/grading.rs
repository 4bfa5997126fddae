//! Graded supervision (信用分级分类监管): evaluation models as versioned data
//! (`data/grading/*.toml`) and the arithmetic of a grade. A model turns what a subject's
//! record holds on a day — records in force by item, tier, department and one field's
//! value, list entries in force, commitments kept and broken — into indicator values,
//! each value times a weight (capped) into points, the points plus a base into a
//! score, the score into a band, and ceilings (列入严重失信名单 → at most D) into the
//! grade. Every step is kept, so a grade is explained by its own arithmetic.
//!
//! One path for every use: a [`Tally`] takes facts one at a time ([`Model::add_record`],
//! [`Model::add_listing`], [`Model::add_commitments`]) and [`Model::finish`] grades it;
//! [`Model::grade`] is that over a [`Facts`]. The batch over a whole store feeds the same
//! tally per subject, so it cannot drift from the single grade.
//!
//! Monotone by construction: the loader refuses a model where more of something
//! negative (a negative item's record, a punishment list, a breach) could add points or
//! lift a ceiling. Adding a negative record never raises a grade.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use time::Date;

use crate::catalog::{Catalog, Nature, Tier};
use crate::lists::{ListKind, ListRules};
use crate::publication::Period;

const BUNDLED_FILES: &[(&str, &str)] = &[
    ("comprehensive.toml", include_str!("../../../data/grading/comprehensive.toml")),
    ("samr_risk.toml", include_str!("../../../data/grading/samr_risk.toml")),
    ("construction.toml", include_str!("../../../data/grading/construction.toml")),
];

static BUNDLED: LazyLock<Result<Models, String>> = LazyLock::new(|| {
    let catalog = Catalog::bundled().map_err(|e| e.to_string())?;
    Models::from_files(BUNDLED_FILES.iter().copied(), &catalog, ListRules::bundled())
});

/// What a grade shows: the band's letter (A/B/C/D) or its name (优/良/中/差).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Notation {
    Letters,
    Names,
}

/// A grade band, from the best: its letter, its name, the least score it takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Band {
    pub letter: String,
    pub name_zh: String,
    /// None: the last band, every score below the others.
    pub min: Option<i64>,
}

/// Which subjects a model grades.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Population {
    /// `SubjectKind` codes; empty: every kind.
    #[serde(default)]
    pub subject_kinds: Vec<String>,
    /// GB/T 4754 section letters an industry code starts with; empty: every industry.
    #[serde(default)]
    pub industries: Vec<String>,
}

/// Where an indicator's value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum Source {
    /// Records in force of these items (and tiers, departments, field values): a count.
    Records {
        items: Vec<String>,
        #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
        tiers: Vec<Tier>,
        providers_containing: Vec<String>,
        facet: Vec<String>,
        facet_not: Vec<String>,
    },
    /// The sum of the items' facet field, in thousandths of `unit_milli / 1000` units.
    Amount { items: Vec<String>, providers_containing: Vec<String>, unit_milli: i64 },
    /// List entries in force of these types.
    Listed { list_types: Vec<String> },
    /// Commitments broken.
    Breached,
    /// Commitments kept.
    Fulfilled,
    /// Kept ÷ ended, per mille, once at least `min_ended` ended.
    FulfilmentRate { min_ended: u32 },
    /// Voluntary registrations a department verified.
    VerifiedRegistrations,
}

/// One indicator of a model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Indicator {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    #[serde(flatten)]
    pub source: Source,
    /// Points per unit (per mille for a rate: weight × rate ÷ 1000).
    pub weight: i64,
    /// The largest contribution in absolute value.
    pub cap: i64,
    /// Counted back from the day asked about, by decision date; none: no limit.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub window: Option<String>,
    #[serde(skip)]
    period: Option<Period>,
}

/// A grade is at most `at_most` once an indicator's value reaches `min`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ceiling {
    pub indicator: String,
    pub min: i64,
    pub at_most: String,
}

/// An evaluation model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Model {
    pub code: String,
    /// The model's version (its date): a grade names the version it was computed with.
    pub version: String,
    pub name_zh: String,
    pub name_en: String,
    pub base: i64,
    pub notation: Notation,
    pub population: Population,
    pub bands: Vec<Band>,
    /// Item → the field whose value indicators filter or sum.
    pub facets: BTreeMap<String, String>,
    pub indicators: Vec<Indicator>,
    pub ceilings: Vec<Ceiling>,
}

/// Every bundled model, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Models {
    pub models: Vec<Model>,
}

// ---- loading -----------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    schema: u32,
    code: String,
    version: String,
    name_zh: String,
    name_en: String,
    base: i64,
    #[serde(default = "letters")]
    notation: Notation,
    #[serde(default)]
    population: Population,
    #[serde(rename = "band")]
    bands: Vec<RawBand>,
    #[serde(default)]
    facets: BTreeMap<String, String>,
    #[serde(rename = "indicator")]
    indicators: Vec<RawIndicator>,
    #[serde(rename = "ceiling", default)]
    ceilings: Vec<Ceiling2>,
}

fn letters() -> Notation {
    Notation::Letters
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBand {
    letter: String,
    name_zh: String,
    #[serde(default)]
    min: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Ceiling2 {
    indicator: String,
    min: i64,
    at_most: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndicator {
    code: String,
    name_zh: String,
    name_en: String,
    source: String,
    #[serde(default)]
    items: Vec<String>,
    #[serde(default)]
    tiers: Vec<Tier>,
    #[serde(default)]
    providers_containing: Vec<String>,
    #[serde(default)]
    facet: Vec<String>,
    #[serde(default)]
    facet_not: Vec<String>,
    #[serde(default)]
    unit: Option<String>,
    #[serde(default)]
    list_types: Vec<String>,
    #[serde(default)]
    min_ended: Option<u32>,
    weight: i64,
    cap: i64,
    #[serde(default)]
    window: Option<String>,
}

/// Which way an indicator's source points: more of it is worse, better, or either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Worse,
    Better,
    Either,
}

/// Parses a non-negative decimal ("12.5") into thousandths; `None` when it is not one.
pub fn milli(s: &str) -> Option<i64> {
    let s = s.trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) || whole.len() > 12 {
        return None;
    }
    let w: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let f: String = frac.chars().chain("000".chars()).take(3).collect();
    Some(w * 1000 + f.parse::<i64>().ok()?)
}

impl Models {
    /// The models shipped with this build, validated against the bundled catalog and
    /// list types (an error names what is wrong).
    pub fn bundled() -> Result<&'static Models, String> {
        BUNDLED.as_ref().map_err(Clone::clone)
    }

    pub fn from_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
        catalog: &Catalog,
        lists: &ListRules,
    ) -> Result<Models, String> {
        let mut models = Vec::new();
        let mut seen = BTreeSet::new();
        for (file, text) in files {
            let m = Model::from_toml(text, catalog, lists).map_err(|e| format!("data/grading/{file}: {e}"))?;
            if !seen.insert(m.code.clone()) {
                return Err(format!("data/grading/{file}: 模型编码重复 / duplicate model code {:?}", m.code));
            }
            models.push(m);
        }
        Ok(Models { models })
    }

    pub fn model(&self, code: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.code == code)
    }

    /// The records that could count on `day` by some indicator of some model: of an
    /// item it counts, decided inside its window. Grading every subject need hold no
    /// other record (at a city's size, most of them are older than every window or of
    /// an item no model reads).
    pub fn record_filter(&self, day: Date) -> RecordFilter {
        let mut windows: BTreeMap<String, Vec<Option<Period>>> = BTreeMap::new();
        for ind in self.models.iter().flat_map(|m| &m.indicators) {
            if let Source::Records { items, .. } | Source::Amount { items, .. } = &ind.source {
                for item in items {
                    let w = windows.entry(item.clone()).or_default();
                    if !w.contains(&ind.period) {
                        w.push(ind.period);
                    }
                }
            }
        }
        RecordFilter { day, windows }
    }
}

/// Which records could count on a day ([`Models::record_filter`]): a record it does not
/// keep changes no grade.
#[derive(Debug, Clone)]
pub struct RecordFilter {
    day: Date,
    /// Per item, the windows of the indicators counting it.
    windows: BTreeMap<String, Vec<Option<Period>>>,
}

impl RecordFilter {
    pub fn keeps(&self, item: &str, decided: Option<Date>) -> bool {
        self.windows.get(item).is_some_and(|w| w.iter().any(|p| in_window(*p, decided, self.day)))
    }
}

/// Whether a record decided on `decided` counts on `day` for a window of `period` (none:
/// every record decided by then).
fn in_window(period: Option<Period>, decided: Option<Date>, day: Date) -> bool {
    match (period, decided) {
        (None, _) => decided.is_none_or(|d| d <= day),
        (Some(p), Some(d)) => d <= day && p.after(d).is_some_and(|end| day < end),
        (Some(_), None) => false,
    }
}

impl Model {
    /// Parses and validates one model: bands from the best with falling minimums and
    /// a last one without; items, list types and facets that exist; weights whose sign
    /// follows what they count (see the module's note); ceilings on negative indicators
    /// naming a band.
    pub fn from_toml(text: &str, catalog: &Catalog, lists: &ListRules) -> Result<Model, String> {
        let raw: RawModel = toml::from_str(text).map_err(|e| format!("模型格式错误 / invalid model: {e}"))?;
        if raw.schema != 1 {
            return Err(format!("模型版本 {} 不受支持 / unsupported schema {}", raw.schema, raw.schema));
        }
        let bad = |msg: &str| format!("模型“{}” / model {:?}: {msg}", raw.code, raw.code);
        if raw.code.trim().is_empty() || raw.version.trim().is_empty() {
            return Err(bad("须有编码和版本 / code and version are required"));
        }
        let bands: Vec<Band> =
            raw.bands.into_iter().map(|b| Band { letter: b.letter, name_zh: b.name_zh, min: b.min }).collect();
        let Some((last, rest)) = bands.split_last() else {
            return Err(bad("须有等级 / bands are required"));
        };
        if last.min.is_some() || rest.iter().any(|b| b.min.is_none()) {
            return Err(bad("只有最后一个等级不设 min / only the last band has no min"));
        }
        if rest.windows(2).any(|w| w[0].min <= w[1].min) {
            return Err(bad("等级 min 须从高到低 / band minimums must fall"));
        }
        let letters: BTreeSet<&str> = bands.iter().map(|b| b.letter.as_str()).collect();
        if letters.len() != bands.len() || bands.iter().any(|b| b.letter.trim().is_empty()) {
            return Err(bad("等级字母须唯一 / band letters must be unique"));
        }
        for k in &raw.population.subject_kinds {
            if crate::codes::SubjectKind::parse(k).is_none() {
                return Err(bad(&format!("未知主体类型 {k} / unknown subject kind {k:?}")));
            }
        }
        for (item, field) in &raw.facets {
            let ok = catalog.item(item).is_some_and(|i| i.field(field).is_some());
            if !ok {
                return Err(bad(&format!("{item} 无字段 {field} / item {item:?} has no field {field:?}")));
            }
        }
        let mut indicators = Vec::new();
        let mut codes = BTreeSet::new();
        for r in raw.indicators {
            let at = |msg: &str| bad(&format!("指标 {} / indicator {:?}: {msg}", r.code, r.code));
            if !codes.insert(r.code.clone()) {
                return Err(at("编码重复 / duplicate code"));
            }
            if r.cap <= 0 {
                return Err(at("cap 须为正数 / cap must be positive"));
            }
            let period = r.window.as_deref().map(Period::parse).transpose().map_err(|e| at(&e))?;
            let needs_items = matches!(r.source.as_str(), "records" | "amount");
            if needs_items == r.items.is_empty() {
                return Err(at("items 只用于 records 和 amount，且不能为空 / items go with records and amount"));
            }
            let mut natures = Vec::new();
            for i in &r.items {
                let item = catalog.item(i).ok_or_else(|| at(&format!("未知信息项 {i} / unknown item {i:?}")))?;
                if !natures.contains(&item.nature) {
                    natures.push(item.nature);
                }
                let filters_facet = !r.facet.is_empty() || !r.facet_not.is_empty() || r.source == "amount";
                if filters_facet && !raw.facets.contains_key(i) {
                    return Err(at(&format!("{i} 未在 [facets] 中指定字段 / {i} has no field in [facets]")));
                }
            }
            let items_direction = match (natures.contains(&Nature::Negative), natures.contains(&Nature::Positive)) {
                (true, true) => return Err(at("不能混合正面和负面信息 / positive and negative items mixed")),
                (true, false) if natures.len() > 1 => {
                    return Err(at("不能混合负面和中性信息 / negative and neutral items mixed"));
                }
                (true, false) => Direction::Worse,
                (false, true) if natures.len() > 1 => {
                    return Err(at("不能混合正面和中性信息 / positive and neutral items mixed"));
                }
                (false, true) => Direction::Better,
                _ => Direction::Either,
            };
            let (source, direction) = match r.source.as_str() {
                "records" => (
                    Source::Records {
                        items: r.items.clone(),
                        tiers: r.tiers.clone(),
                        providers_containing: r.providers_containing.clone(),
                        facet: r.facet.clone(),
                        facet_not: r.facet_not.clone(),
                    },
                    items_direction,
                ),
                "amount" => {
                    let unit = r.unit.as_deref().and_then(milli).filter(|u| *u > 0);
                    let unit = unit.ok_or_else(|| at("amount 须有正的 unit / amount needs a positive unit"))?;
                    let source = Source::Amount {
                        items: r.items.clone(),
                        providers_containing: r.providers_containing.clone(),
                        unit_milli: unit,
                    };
                    (source, items_direction)
                }
                "listed" => {
                    let mut kinds = Vec::new();
                    for l in &r.list_types {
                        let lt = lists.list_type(l).ok_or_else(|| at(&format!("未知名单 {l} / unknown list {l:?}")))?;
                        kinds.push(lt.kind);
                    }
                    let direction = match (kinds.contains(&ListKind::Punishment), kinds.contains(&ListKind::Reward)) {
                        (true, true) => return Err(at("不能混合惩戒和激励名单 / punishment and reward lists mixed")),
                        (true, false) => Direction::Worse,
                        (false, true) => Direction::Better,
                        (false, false) => return Err(at("须列出名单类型 / list_types are required")),
                    };
                    (Source::Listed { list_types: r.list_types.clone() }, direction)
                }
                "breached" => (Source::Breached, Direction::Worse),
                "fulfilled" => (Source::Fulfilled, Direction::Better),
                "fulfilment_rate" => {
                    (Source::FulfilmentRate { min_ended: r.min_ended.unwrap_or(1).max(1) }, Direction::Better)
                }
                "verified_registrations" => (Source::VerifiedRegistrations, Direction::Better),
                other => return Err(at(&format!("未知来源 {other} / unknown source {other:?}"))),
            };
            let sign_ok = match direction {
                Direction::Worse => r.weight <= 0,
                Direction::Better => r.weight >= 0,
                Direction::Either => true,
            };
            if !sign_ok {
                return Err(at(
                    "权重方向与所计信息相反（负面信息不能加分，正面信息不能减分） / the weight's sign goes against what it counts",
                ));
            }
            indicators.push(Indicator {
                code: r.code,
                name_zh: r.name_zh,
                name_en: r.name_en,
                source,
                weight: r.weight,
                cap: r.cap,
                window: period.map(|p| p.to_string()),
                period,
            });
        }
        let mut ceilings = Vec::new();
        for c in raw.ceilings {
            let ind = indicators.iter().find(|i| i.code == c.indicator);
            let Some(ind) = ind else {
                return Err(bad(&format!("上限规则指向未知指标 {} / ceiling names unknown indicator", c.indicator)));
            };
            if ind.weight >= 0 || matches!(ind.source, Source::FulfilmentRate { .. }) {
                return Err(bad(&format!(
                    "上限规则只能用于减分指标 {} / a ceiling follows a negative indicator only",
                    c.indicator
                )));
            }
            if !letters.contains(c.at_most.as_str()) || c.min <= 0 {
                return Err(bad(&format!("上限规则 {} 无效 / invalid ceiling", c.indicator)));
            }
            ceilings.push(Ceiling { indicator: c.indicator, min: c.min, at_most: c.at_most });
        }
        Ok(Model {
            code: raw.code,
            version: raw.version,
            name_zh: raw.name_zh,
            name_en: raw.name_en,
            base: raw.base,
            notation: raw.notation,
            population: raw.population,
            bands,
            facets: raw.facets,
            indicators,
            ceilings,
        })
    }
}

// ---- facts and the tally -------------------------------------------------------------------

/// A record in force (not revoked, not repaired) as a model reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordFact<'a> {
    pub id: i64,
    pub item: &'a str,
    pub provider: &'a str,
    pub tier: Option<Tier>,
    pub decided: Option<Date>,
    /// The value of the item's facet field (see [`Model::facets`]), if the model has one.
    pub facet: Option<&'a str>,
}

/// A decided list entry: in force from `start` until the day before `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListingFact<'a> {
    pub id: i64,
    pub list_type: &'a str,
    pub start: Option<Date>,
    /// Exclusive; none: until removed.
    pub end: Option<Date>,
}

impl ListingFact<'_> {
    pub fn in_force_on(&self, day: Date) -> bool {
        self.start.is_some_and(|s| s <= day) && self.end.is_none_or(|e| day < e)
    }
}

/// A subject's commitments as models read them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitmentFacts {
    pub fulfilled: u32,
    pub breached: u32,
    pub verified_registrations: u32,
}

/// Everything a model reads about one subject.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts<'a> {
    pub records: Vec<RecordFact<'a>>,
    pub listings: Vec<ListingFact<'a>>,
    pub commitments: CommitmentFacts,
}

/// Indicator values being added up for one subject (and, when explaining, what each
/// counted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    values: Vec<i64>,
    /// Per indicator, the record or listing ids counted (explaining only).
    counted: Option<Vec<Vec<i64>>>,
    commitments: CommitmentFacts,
    day: Date,
}

fn contains_any(text: &str, parts: &[String]) -> bool {
    parts.is_empty() || parts.iter().any(|p| text.contains(p.as_str()))
}

impl Indicator {
    fn in_window(&self, decided: Option<Date>, day: Date) -> bool {
        in_window(self.period, decided, day)
    }

    /// What one record adds to this indicator on `day` (none: it does not count).
    fn of_record(&self, r: &RecordFact<'_>, day: Date) -> Option<i64> {
        match &self.source {
            Source::Records { items, tiers, providers_containing, facet, facet_not } => {
                let counts = items.iter().any(|i| i == r.item)
                    && (tiers.is_empty() || r.tier.is_some_and(|t| tiers.contains(&t)))
                    && contains_any(r.provider, providers_containing)
                    && (facet.is_empty() || r.facet.is_some_and(|f| facet.iter().any(|v| v == f.trim())))
                    && (facet_not.is_empty() || r.facet.is_some_and(|f| !facet_not.iter().any(|v| v == f.trim())))
                    && self.in_window(r.decided, day);
                counts.then_some(1)
            }
            Source::Amount { items, providers_containing, .. } => {
                let counts = items.iter().any(|i| i == r.item)
                    && contains_any(r.provider, providers_containing)
                    && self.in_window(r.decided, day);
                if !counts {
                    return None;
                }
                // a negative or unreadable amount adds nothing (never points back)
                r.facet.and_then(milli).filter(|v| *v > 0)
            }
            _ => None,
        }
    }

    fn of_listing(&self, l: &ListingFact<'_>, day: Date) -> Option<i64> {
        match &self.source {
            Source::Listed { list_types } if list_types.iter().any(|t| t == l.list_type) && l.in_force_on(day) => {
                Some(1)
            }
            _ => None,
        }
    }

    /// The contribution of a value: weight × value (a rate per mille, an amount per
    /// unit), within ± cap; none for a rate of too few ended commitments.
    fn points(&self, value: i64, c: &CommitmentFacts) -> Option<i64> {
        let raw = match &self.source {
            Source::FulfilmentRate { min_ended } => {
                if c.fulfilled + c.breached < *min_ended {
                    return None;
                }
                self.weight.saturating_mul(value) / 1000
            }
            Source::Amount { unit_milli, .. } => self.weight.saturating_mul(value) / unit_milli,
            _ => self.weight.saturating_mul(value),
        };
        Some(raw.clamp(-self.cap, self.cap))
    }
}

/// One indicator's part in a grade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contribution {
    pub indicator: String,
    pub name_zh: String,
    pub name_en: String,
    /// The value: a count, an amount in thousandths of the unit, or a rate per mille.
    pub value: i64,
    /// The value as read: "2", "12.5", "750‰", "—" (a rate without enough ended).
    pub value_text: String,
    pub weight: i64,
    pub points: i64,
    /// The cap bounded the points.
    pub capped: bool,
    /// The records or list entries counted (when explained).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub counted: Vec<i64>,
}

/// A tally settled: the score, the band it reaches and the grade (band indices, 0 the
/// best), and the ceilings (indices into [`Model::ceilings`]) that applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    pub score: i64,
    pub band: usize,
    pub grade: usize,
    pub ceilings: Vec<usize>,
}

/// A grade and its arithmetic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Graded {
    pub model: String,
    pub model_version: String,
    pub model_name_zh: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    #[serde(serialize_with = "crate::calendar::ser_date")]
    pub as_of: Date,
    pub base: i64,
    pub score: i64,
    /// The band the score reaches, before ceilings.
    pub band: String,
    /// The grade: the band's letter, lowered by any ceiling that applies.
    pub letter: String,
    /// The grade's name (优/良/中/差, 信用风险低 …).
    pub name_zh: String,
    /// What the model's notation shows: the letter or the name.
    pub shown: String,
    pub contributions: Vec<Contribution>,
    /// Ceilings that lowered or held the grade: "indicator ≥ min → at most X".
    pub ceilings: Vec<String>,
}

impl Graded {
    /// The arithmetic, one line: "700 − 40（…）+ 20（…）= 680 → B".
    pub fn arithmetic(&self) -> String {
        let mut s = self.base.to_string();
        for c in self.contributions.iter().filter(|c| c.points != 0) {
            let sign = if c.points < 0 { '−' } else { '+' };
            s.push_str(&format!(" {sign} {}（{} {} × {}", c.points.abs(), c.name_zh, c.value_text, c.weight));
            if c.capped {
                s.push_str("，封顶");
            }
            s.push('）');
        }
        s.push_str(&format!(" = {} → {}", self.score, self.band));
        if self.band != self.letter {
            s.push_str(&format!("；{} → {}", self.ceilings.join("；"), self.letter));
        }
        s
    }
}

impl Model {
    /// Whether the model grades a subject of this kind (`SubjectKind` code) and industry.
    pub fn covers(&self, kind: &str, industry: Option<&str>) -> bool {
        let p = &self.population;
        (p.subject_kinds.is_empty() || p.subject_kinds.iter().any(|k| k == kind))
            && (p.industries.is_empty()
                || industry.is_some_and(|i| p.industries.iter().any(|s| i.trim().starts_with(s.as_str()))))
    }

    /// The items whose records this model reads, and the facet field of each.
    pub fn items(&self) -> BTreeMap<&str, Option<&str>> {
        let mut out = BTreeMap::new();
        for ind in &self.indicators {
            if let Source::Records { items, .. } | Source::Amount { items, .. } = &ind.source {
                for i in items {
                    out.insert(i.as_str(), self.facets.get(i).map(String::as_str));
                }
            }
        }
        out
    }

    /// An empty tally for the day asked about; `explain` keeps what each indicator counted.
    pub fn tally(&self, day: Date, explain: bool) -> Tally {
        Tally {
            values: vec![0; self.indicators.len()],
            counted: explain.then(|| vec![Vec::new(); self.indicators.len()]),
            commitments: CommitmentFacts::default(),
            day,
        }
    }

    /// Empties a tally for the next subject (the batch reuses one per model).
    pub fn reset(&self, t: &mut Tally) {
        t.values.iter_mut().for_each(|v| *v = 0);
        if let Some(c) = t.counted.as_mut() {
            c.iter_mut().for_each(Vec::clear);
        }
        t.commitments = CommitmentFacts::default();
    }

    pub fn add_record(&self, t: &mut Tally, r: &RecordFact<'_>) {
        for (i, ind) in self.indicators.iter().enumerate() {
            if let Some(v) = ind.of_record(r, t.day) {
                t.values[i] = t.values[i].saturating_add(v);
                if let Some(c) = t.counted.as_mut() {
                    c[i].push(r.id);
                }
            }
        }
    }

    pub fn add_listing(&self, t: &mut Tally, l: &ListingFact<'_>) {
        for (i, ind) in self.indicators.iter().enumerate() {
            if let Some(v) = ind.of_listing(l, t.day) {
                t.values[i] = t.values[i].saturating_add(v);
                if let Some(c) = t.counted.as_mut() {
                    c[i].push(l.id);
                }
            }
        }
    }

    pub fn add_commitments(&self, t: &mut Tally, c: CommitmentFacts) {
        t.commitments.fulfilled += c.fulfilled;
        t.commitments.breached += c.breached;
        t.commitments.verified_registrations += c.verified_registrations;
    }

    /// An indicator's value in a tally, its points (none: a rate of too few ended) and
    /// its points before the cap.
    fn measured(&self, i: usize, t: &Tally) -> (i64, Option<i64>, i64) {
        let ind = &self.indicators[i];
        let c = &t.commitments;
        let value = match &ind.source {
            Source::Breached => i64::from(c.breached),
            Source::Fulfilled => i64::from(c.fulfilled),
            Source::VerifiedRegistrations => i64::from(c.verified_registrations),
            Source::FulfilmentRate { .. } => {
                let ended = i64::from(c.fulfilled + c.breached);
                if ended == 0 { 0 } else { i64::from(c.fulfilled) * 1000 / ended }
            }
            _ => t.values[i],
        };
        let raw = match &ind.source {
            Source::FulfilmentRate { .. } => ind.weight.saturating_mul(value) / 1000,
            Source::Amount { unit_milli, .. } => ind.weight.saturating_mul(value) / unit_milli,
            _ => ind.weight.saturating_mul(value),
        };
        (value, ind.points(value, c), raw)
    }

    /// The score of a tally, the band it reaches and the grade after ceilings (band
    /// indices, 0 the best), with the ceilings that applied: what the batch keeps.
    pub fn settle(&self, t: &Tally) -> Settled {
        let mut score = self.base;
        for i in 0..self.indicators.len() {
            score = score.saturating_add(self.measured(i, t).1.unwrap_or(0));
        }
        let band = self.bands.iter().position(|b| b.min.is_none_or(|m| score >= m)).unwrap_or(self.bands.len() - 1);
        let mut grade = band;
        let mut ceilings = Vec::new();
        for (n, ceiling) in self.ceilings.iter().enumerate() {
            let Some(i) = self.indicators.iter().position(|x| x.code == ceiling.indicator) else { continue };
            let Some(cap) = self.bands.iter().position(|b| b.letter == ceiling.at_most) else { continue };
            if self.measured(i, t).0 >= ceiling.min && cap >= band {
                ceilings.push(n);
                grade = grade.max(cap);
            }
        }
        Settled { score, band, grade, ceilings }
    }

    /// The grade of a tally, explained.
    pub fn finish(&self, t: Tally) -> Graded {
        let settled = self.settle(&t);
        let mut counted = t.counted.clone().unwrap_or_default();
        let contributions = self
            .indicators
            .iter()
            .enumerate()
            .map(|(i, ind)| {
                let (value, points, raw) = self.measured(i, &t);
                let value_text = match (&ind.source, points) {
                    (Source::FulfilmentRate { .. }, None) => "—".to_string(),
                    (Source::FulfilmentRate { .. }, Some(_)) => format!("{value}‰"),
                    (Source::Amount { .. }, _) => thousandths(value),
                    _ => value.to_string(),
                };
                let points = points.unwrap_or(0);
                Contribution {
                    indicator: ind.code.clone(),
                    name_zh: ind.name_zh.clone(),
                    name_en: ind.name_en.clone(),
                    value,
                    value_text,
                    weight: ind.weight,
                    points,
                    capped: raw != points && points != 0,
                    counted: counted.get_mut(i).map(std::mem::take).unwrap_or_default(),
                }
            })
            .collect();
        let ceilings = settled
            .ceilings
            .iter()
            .map(|n| {
                let c = &self.ceilings[*n];
                format!("{} ≥ {} → 至多 {}", c.indicator, c.min, c.at_most)
            })
            .collect();
        let band = &self.bands[settled.band];
        let grade = &self.bands[settled.grade];
        Graded {
            model: self.code.clone(),
            model_version: self.version.clone(),
            model_name_zh: self.name_zh.clone(),
            as_of: t.day,
            base: self.base,
            score: settled.score,
            band: band.letter.clone(),
            letter: grade.letter.clone(),
            name_zh: grade.name_zh.clone(),
            shown: match self.notation {
                Notation::Letters => grade.letter.clone(),
                Notation::Names => grade.name_zh.clone(),
            },
            contributions,
            ceilings,
        }
    }

    /// The tally of a subject's facts on `day`.
    pub fn tally_of(&self, facts: &Facts<'_>, day: Date, explain: bool) -> Tally {
        let mut t = self.tally(day, explain);
        for r in &facts.records {
            self.add_record(&mut t, r);
        }
        for l in &facts.listings {
            self.add_listing(&mut t, l);
        }
        self.add_commitments(&mut t, facts.commitments);
        t
    }

    /// The grade of a subject's facts on `day`.
    pub fn grade(&self, facts: &Facts<'_>, day: Date, explain: bool) -> Graded {
        self.finish(self.tally_of(facts, day, explain))
    }

    /// The band's rank of a letter (0 the best); `usize::MAX` for an unknown one.
    pub fn rank(&self, letter: &str) -> usize {
        self.bands.iter().position(|b| b.letter == letter).unwrap_or(usize::MAX)
    }
}

/// Thousandths as a decimal: 12500 → "12.5".
fn thousandths(v: i64) -> String {
    let (w, f) = (v / 1000, (v % 1000).abs());
    if f == 0 { w.to_string() } else { format!("{w}.{}", format!("{f:03}").trim_end_matches('0')) }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
