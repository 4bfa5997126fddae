//! Publication windows (公示期): what the public may see of a record on a given day.
//!
//! The rules are data (`data/publication/rules.toml`, bundled into the binary) and
//! one pure function, [`publicity`]. Every penalty rule is chosen by the **date of
//! the decision**, never by the day of the question, because the national rules
//! changed on 2023-05-01 (NDRC Order 58) and again on 2026-04-01 (NDRC Order 36,
//! 《信用修复管理办法》); and because "what was public on day X" must stay
//! answerable for past days, the answer is a function of `as_of` as well.
//!
//! Window arithmetic: "3 months" after a day is the same day of month 3 months
//! later, clamped to the month's end; "1 year" is the same date next year (29 Feb →
//! 28 Feb). A record is public from its decision date inclusive; its last public day
//! ([`Publicity::public_until`]) is the day before decision + maximum window. A
//! revocation (撤销) or a granted repair (信用修复) ends publication from its day on.
//!
//! Penalties (`double_publicity_penalty`) are dispatched as follows:
//! - a market-regulation authority (处罚机关 contains a configured keyword) with a
//!   decision on or after SAMR Order 45's date → `samr-order-45`;
//! - otherwise the NDRC rule set whose decision-date range holds the decision:
//!   `gb-527-2019`, `ndrc-order-58`, `ndrc-order-36-2025`.
//!
//! Under every penalty rule, summary-procedure (简易程序) and warning-only (警告)
//! decisions are not public. Numbers the design notes mark as unverified are
//! configuration in the data file, commented as such.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize, Serializer};
use time::{Date, Month};

use crate::calendar::{Deadline, WorkCalendar};
use crate::catalog::{Item, Tier};
use crate::record::{ValidRecord, date_string, parse_date};

/// The bundled rules, compiled into the binary so `core` stays free of I/O.
const BUNDLED_TOML: &str = include_str!("../../../data/publication/rules.toml");

static BUNDLED: LazyLock<PublicationRules> = LazyLock::new(|| match PublicationRules::from_toml(BUNDLED_TOML) {
    Ok(rules) => rules,
    // The file is fixed at compile time and checked by the tests below, so this can
    // only fire if someone ships a broken data file without running them.
    Err(e) => panic!("bundled data/publication/rules.toml is invalid: {e}"),
});

/// The catalog's publication id for items that are never published.
pub const NEVER_PUBLISHED: &str = "none";

// ---- periods ----------------------------------------------------------------

/// A window length in whole months ("3 months", "1 year" = 12 months).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    months: u32,
}

impl Period {
    /// Longest period accepted from data (100 years): keeps every sum representable.
    const MAX_MONTHS: u32 = 1200;

    pub const fn from_months(months: u32) -> Period {
        Period { months }
    }

    pub const fn months(self) -> u32 {
        self.months
    }

    /// Parses `"<n> month(s)"` or `"<n> year(s)"`, with `0 < n` and at most 100 years.
    pub fn parse(s: &str) -> Result<Period, String> {
        let bad = || {
            format!(
                "期间“{s}”无效（应为“3 months”或“1 year”）/ invalid period {s:?} (expected e.g. \"3 months\" or \"1 year\")"
            )
        };
        let (n, unit) = s.trim().split_once(' ').ok_or_else(bad)?;
        let n: u32 = n.trim().parse().map_err(|_| bad())?;
        let months = match unit.trim() {
            "month" | "months" => n,
            "year" | "years" => n.checked_mul(12).ok_or_else(bad)?,
            _ => return Err(bad()),
        };
        if months == 0 || months > Period::MAX_MONTHS {
            return Err(bad());
        }
        Ok(Period { months })
    }

    /// The same day of month `self` later, clamped to the end of the month
    /// (2024-11-30 + 3 months = 2025-02-28; 2024-02-29 + 1 year = 2025-02-28).
    /// `None` beyond the range of [`Date`].
    pub fn after(self, d: Date) -> Option<Date> {
        let index = i64::from(d.year()) * 12 + i64::from(u8::from(d.month())) - 1 + i64::from(self.months);
        let year = i32::try_from(index.div_euclid(12)).ok()?;
        let month = Month::try_from(u8::try_from(index.rem_euclid(12) + 1).ok()?).ok()?;
        Date::from_calendar_date(year, month, d.day().min(month.length(year))).ok()
    }

    /// Chinese spelling: "3个月", "1年".
    pub fn zh(self) -> String {
        let (years, rest) = (self.months / 12, self.months % 12);
        if rest == 0 { format!("{years}年") } else { format!("{}个月", self.months) }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (years, rest) = (self.months / 12, self.months % 12);
        let (n, unit) = if rest == 0 { (years, "year") } else { (self.months, "month") };
        write!(f, "{n} {unit}{}", if n == 1 { "" } else { "s" })
    }
}

// ---- parsed rules -------------------------------------------------------------

/// The window of one tier in one penalty rule set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TierWindow {
    /// Records of this tier are not published at all.
    NotPublished,
    /// Published from the decision date for `max`; a repair application may be
    /// filed once `min` has passed (`None`: not repairable).
    Published { min: Option<Period>, max: Period },
}

#[derive(Debug, Clone)]
struct SpecialDomain {
    min: Period,
    fields: Vec<String>,
    keywords: Vec<String>,
}

/// One NDRC penalty rule set, for decisions in `decided_from..decided_before`.
#[derive(Debug, Clone)]
struct PenaltyRuleSet {
    id: String,
    name_zh: String,
    name_en: String,
    decided_from: Option<Date>,
    decided_before: Option<Date>,
    publish_due_workdays: u32,
    /// By tier: minor, general, serious, specially serious.
    windows: [TierWindow; 4],
    special_domain: Option<SpecialDomain>,
}

impl PenaltyRuleSet {
    fn holds(&self, d: Date) -> bool {
        self.decided_from.is_none_or(|f| f <= d) && self.decided_before.is_none_or(|b| d < b)
    }

    fn window(&self, tier: Tier) -> TierWindow {
        let i = match tier {
            Tier::Minor => 0,
            Tier::General => 1,
            Tier::Serious => 2,
            Tier::SpeciallySerious => 3,
        };
        self.windows.get(i).copied().unwrap_or(TierWindow::NotPublished)
    }
}

/// SAMR Order 45: market-regulation penalties.
#[derive(Debug, Clone)]
struct SamrRule {
    id: String,
    name_zh: String,
    name_en: String,
    decided_from: Option<Date>,
    authority_field: String,
    authority_keywords: Vec<String>,
    publish_due_workdays: u32,
    short_window: Period,
    long_window: Period,
    short_if_only: Vec<String>,
    fine_type: String,
    fine_field: String,
    low_fine_max_wan: String,
    repair_after: Period,
}

impl SamrRule {
    fn applies(&self, fields: &BTreeMap<String, String>, decided: Date) -> bool {
        self.decided_from.is_none_or(|f| f <= decided)
            && field(fields, &self.authority_field)
                .is_some_and(|a| self.authority_keywords.iter().any(|k| a.contains(k.as_str())))
    }
}

#[derive(Debug, Clone)]
struct PenaltyRules {
    id: String,
    types_field: String,
    procedure_field: String,
    not_public_procedures: Vec<String>,
    not_public_if_only: Vec<String>,
    /// Sorted by decision date; they tile the whole time line.
    sets: Vec<PenaltyRuleSet>,
    samr: SamrRule,
}

/// A rule for a non-penalty item: public from the decision date, with an optional
/// end read from a field or a maximum window; never repairable here.
#[derive(Debug, Clone)]
struct SimpleRule {
    id: String,
    name_zh: String,
    name_en: String,
    publish_due_workdays: Option<u32>,
    hidden_from_field: Option<String>,
    last_day_field: Option<String>,
    /// Longest publication window from the decision date.
    max: Option<Period>,
    /// Only records whose field holds one of these values are published (e.g. only
    /// A-level tax credit ratings).
    public_if: Option<PublicIf>,
    /// The subject may apply for repair (信用修复) from the decision date on, e.g. to
    /// leave the abnormal-operation list once it has corrected the cause (国办发〔2025〕22号:
    /// one window for every kind of repair).
    repairable: bool,
    /// With `repairable`: the shortest publication before a repair may be applied for
    /// (a breach of a credit commitment: the 3 months of a 一般 record under Order 36).
    repair_after: Option<Period>,
}

#[derive(Debug, Clone)]
struct PublicIf {
    field: String,
    values: Vec<String>,
}

/// The publication rules (parsed `data/publication/rules.toml`).
#[derive(Debug, Clone)]
pub struct PublicationRules {
    penalty: PenaltyRules,
    rules: BTreeMap<String, SimpleRule>,
}

// ---- TOML shape ---------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    schema: u32,
    penalty: RawPenalty,
    #[serde(rename = "penalty_rule_set")]
    rule_sets: Vec<RawRuleSet>,
    samr: RawSamr,
    #[serde(rename = "rule", default)]
    rules: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPenalty {
    id: String,
    #[allow(dead_code)] // for humans reading the file
    name_zh: String,
    #[allow(dead_code)]
    name_en: String,
    types_field: String,
    procedure_field: String,
    #[serde(default)]
    not_public_procedures: Vec<String>,
    #[serde(default)]
    not_public_if_only: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRuleSet {
    id: String,
    name_zh: String,
    name_en: String,
    #[serde(default)]
    decided_from: Option<toml::Value>,
    #[serde(default)]
    decided_before: Option<toml::Value>,
    publish_due_workdays: u32,
    minor: RawWindow,
    general: RawWindow,
    serious: RawWindow,
    specially_serious: RawWindow,
    #[serde(default)]
    special_domain: Option<RawSpecial>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWindow {
    #[serde(default = "yes")]
    publish: bool,
    #[serde(default)]
    min: Option<String>,
    #[serde(default)]
    max: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpecial {
    min: String,
    fields: Vec<String>,
    keywords: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSamr {
    id: String,
    name_zh: String,
    name_en: String,
    #[serde(default)]
    decided_from: Option<toml::Value>,
    authority_field: String,
    authority_keywords: Vec<String>,
    publish_due_workdays: u32,
    short_window: String,
    long_window: String,
    short_if_only: Vec<String>,
    fine_type: String,
    fine_field: String,
    low_fine_max_wan: String,
    repair_after: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    name_zh: String,
    name_en: String,
    #[serde(default)]
    publish_due_workdays: Option<u32>,
    #[serde(default)]
    hidden_from_field: Option<String>,
    #[serde(default)]
    last_day_field: Option<String>,
    #[serde(default)]
    max: Option<String>,
    #[serde(default)]
    public_if: Option<RawPublicIf>,
    #[serde(default)]
    repairable: bool,
    #[serde(default)]
    repair_after: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPublicIf {
    field: String,
    values: Vec<String>,
}

/// Accepts a TOML local date (`2023-05-01`) or a string `"2023-05-01"`.
fn toml_date(what: &str, value: &toml::Value) -> Result<Date, String> {
    let parsed = match value {
        toml::Value::Datetime(dt) => match (dt.date, dt.time, dt.offset) {
            (Some(d), None, None) => {
                Month::try_from(d.month).ok().and_then(|m| Date::from_calendar_date(i32::from(d.year), m, d.day).ok())
            }
            _ => None,
        },
        toml::Value::String(s) => parse_date(s),
        _ => None,
    };
    parsed.ok_or_else(|| format!("{what}: “{value}”不是日期 / {value} is not a date (YYYY-MM-DD)"))
}

fn opt_date(what: &str, value: Option<&toml::Value>) -> Result<Option<Date>, String> {
    value.map(|v| toml_date(what, v)).transpose()
}

fn period(what: &str, s: &str) -> Result<Period, String> {
    Period::parse(s).map_err(|e| format!("{what}: {e}"))
}

fn non_empty(what: &str, s: &str) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty() { Err(format!("{what}: 不能为空 / must not be empty")) } else { Ok(t.to_string()) }
}

fn non_empty_list(what: &str, list: &[String]) -> Result<Vec<String>, String> {
    if list.is_empty() {
        return Err(format!("{what}: 列表不能为空 / list must not be empty"));
    }
    list.iter().map(|s| non_empty(what, s)).collect()
}

fn tier_window(what: &str, raw: &RawWindow) -> Result<TierWindow, String> {
    if !raw.publish {
        if raw.min.is_some() || raw.max.is_some() {
            return Err(format!("{what}: publish = false 时不能设 min/max / an unpublished tier has no min or max"));
        }
        return Ok(TierWindow::NotPublished);
    }
    let max = raw.max.as_deref().ok_or_else(|| format!("{what}: 缺少 max / a published tier needs max"))?;
    let max = period(what, max)?;
    let min = raw.min.as_deref().map(|m| period(what, m)).transpose()?;
    if min.is_some_and(|m| m > max) {
        return Err(format!("{what}: min 大于 max / min exceeds max"));
    }
    Ok(TierWindow::Published { min, max })
}

fn rule_set(raw: &RawRuleSet) -> Result<PenaltyRuleSet, String> {
    let id = non_empty("penalty_rule_set.id", &raw.id)?;
    let at = |part: &str| format!("penalty_rule_set {id}.{part}");
    let decided_from = opt_date(&at("decided_from"), raw.decided_from.as_ref())?;
    let decided_before = opt_date(&at("decided_before"), raw.decided_before.as_ref())?;
    if let (Some(f), Some(b)) = (decided_from, decided_before)
        && f >= b
    {
        return Err(format!("{}: 日期范围为空 / empty date range {f} … {b}", at("decided_from")));
    }
    let windows = [
        tier_window(&at("minor"), &raw.minor)?,
        tier_window(&at("general"), &raw.general)?,
        tier_window(&at("serious"), &raw.serious)?,
        tier_window(&at("specially_serious"), &raw.specially_serious)?,
    ];
    let special_domain = match &raw.special_domain {
        None => None,
        Some(s) => {
            let min = period(&at("special_domain.min"), &s.min)?;
            for w in &windows {
                if let TierWindow::Published { max, .. } = w
                    && min > *max
                {
                    return Err(format!("{}: 超过最长公示期 / exceeds a maximum window", at("special_domain.min")));
                }
            }
            Some(SpecialDomain {
                min,
                fields: non_empty_list(&at("special_domain.fields"), &s.fields)?,
                keywords: non_empty_list(&at("special_domain.keywords"), &s.keywords)?,
            })
        }
    };
    Ok(PenaltyRuleSet {
        name_zh: non_empty(&at("name_zh"), &raw.name_zh)?,
        name_en: non_empty(&at("name_en"), &raw.name_en)?,
        id,
        decided_from,
        decided_before,
        publish_due_workdays: raw.publish_due_workdays,
        windows,
        special_domain,
    })
}

fn samr_rule(raw: &RawSamr) -> Result<SamrRule, String> {
    let at = |part: &str| format!("samr.{part}");
    let short_window = period(&at("short_window"), &raw.short_window)?;
    let long_window = period(&at("long_window"), &raw.long_window)?;
    let repair_after = period(&at("repair_after"), &raw.repair_after)?;
    if short_window > long_window {
        return Err(format!("{}: 长于 long_window / longer than long_window", at("short_window")));
    }
    if repair_after > short_window {
        // repair must be possible before the shortest window ends by itself
        return Err(format!("{}: 长于 short_window / longer than short_window", at("repair_after")));
    }
    let low_fine_max_wan = raw.low_fine_max_wan.trim().to_string();
    if cmp_decimal(&low_fine_max_wan, "0").is_none() {
        return Err(format!("{}: “{low_fine_max_wan}”不是非负数 / not a non-negative decimal", at("low_fine_max_wan")));
    }
    Ok(SamrRule {
        id: non_empty(&at("id"), &raw.id)?,
        name_zh: non_empty(&at("name_zh"), &raw.name_zh)?,
        name_en: non_empty(&at("name_en"), &raw.name_en)?,
        decided_from: opt_date(&at("decided_from"), raw.decided_from.as_ref())?,
        authority_field: non_empty(&at("authority_field"), &raw.authority_field)?,
        authority_keywords: non_empty_list(&at("authority_keywords"), &raw.authority_keywords)?,
        publish_due_workdays: raw.publish_due_workdays,
        short_window,
        long_window,
        short_if_only: non_empty_list(&at("short_if_only"), &raw.short_if_only)?,
        fine_type: non_empty(&at("fine_type"), &raw.fine_type)?,
        fine_field: non_empty(&at("fine_field"), &raw.fine_field)?,
        low_fine_max_wan,
        repair_after,
    })
}

impl PublicationRules {
    /// The rules shipped with this build.
    pub fn bundled() -> &'static PublicationRules {
        &BUNDLED
    }

    /// Parses and validates rules in the `rules.toml` format: unknown keys are
    /// refused, periods must parse with min ≤ max, and the penalty rule sets must
    /// tile the time line (the first open at the start, each next one starting where
    /// the previous ends, the last open at the end), so every decision date has
    /// exactly one rule set.
    pub fn from_toml(s: &str) -> Result<Self, String> {
        let raw: RawRules =
            toml::from_str(s).map_err(|e| format!("公示规则格式错误 / invalid publication rules TOML: {e}"))?;
        if raw.schema != 1 {
            return Err(format!("不支持的 schema {} / unsupported schema {}", raw.schema, raw.schema));
        }
        let mut sets = raw.rule_sets.iter().map(rule_set).collect::<Result<Vec<_>, _>>()?;
        sets.sort_by_key(|s| s.decided_from);
        let Some(first) = sets.first() else {
            return Err("至少需要一个 penalty_rule_set / at least one penalty_rule_set is needed".into());
        };
        if first.decided_from.is_some() {
            return Err(format!(
                "{}: 最早的规则集不能有 decided_from / the earliest rule set must be open at the start",
                first.id
            ));
        }
        for pair in sets.windows(2) {
            if let [a, b] = pair
                && (a.decided_before.is_none() || a.decided_before != b.decided_from)
            {
                return Err(format!(
                    "{} 与 {} 之间有空档或重叠 / rule sets {} and {} leave a gap or overlap",
                    a.id, b.id, a.id, b.id
                ));
            }
        }
        if let Some(last) = sets.last()
            && last.decided_before.is_some()
        {
            return Err(format!(
                "{}: 最新的规则集不能有 decided_before / the latest rule set must be open at the end",
                last.id
            ));
        }

        let p = &raw.penalty;
        let penalty = PenaltyRules {
            id: non_empty("penalty.id", &p.id)?,
            types_field: non_empty("penalty.types_field", &p.types_field)?,
            procedure_field: non_empty("penalty.procedure_field", &p.procedure_field)?,
            not_public_procedures: p.not_public_procedures.iter().map(|s| s.trim().to_string()).collect(),
            not_public_if_only: p.not_public_if_only.iter().map(|s| s.trim().to_string()).collect(),
            sets,
            samr: samr_rule(&raw.samr)?,
        };

        let mut ids: Vec<&str> = vec![NEVER_PUBLISHED, &penalty.id, &penalty.samr.id];
        ids.extend(penalty.sets.iter().map(|s| s.id.as_str()));
        let mut rules = BTreeMap::new();
        for r in &raw.rules {
            let id = non_empty("rule.id", &r.id)?;
            let at = |part: &str| format!("rule {id}.{part}");
            let rule = SimpleRule {
                name_zh: non_empty(&at("name_zh"), &r.name_zh)?,
                name_en: non_empty(&at("name_en"), &r.name_en)?,
                publish_due_workdays: r.publish_due_workdays,
                hidden_from_field: r
                    .hidden_from_field
                    .as_deref()
                    .map(|f| non_empty(&at("hidden_from_field"), f))
                    .transpose()?,
                last_day_field: r.last_day_field.as_deref().map(|f| non_empty(&at("last_day_field"), f)).transpose()?,
                max: r.max.as_deref().map(|m| period(&at("max"), m)).transpose()?,
                public_if: r
                    .public_if
                    .as_ref()
                    .map(|p| -> Result<PublicIf, String> {
                        Ok(PublicIf {
                            field: non_empty(&at("public_if.field"), &p.field)?,
                            values: non_empty_list(&at("public_if.values"), &p.values)?,
                        })
                    })
                    .transpose()?,
                repairable: r.repairable,
                repair_after: match (&r.repair_after, r.repairable) {
                    (Some(p), true) => Some(period(&at("repair_after"), p)?),
                    (Some(_), false) => {
                        return Err(format!(
                            "{}：repair_after 须与 repairable = true 同用 / repair_after needs repairable = true",
                            at("repair_after")
                        ));
                    }
                    (None, _) => None,
                },
                id: id.clone(),
            };
            rules.insert(id, rule);
        }
        ids.extend(raw.rules.iter().map(|r| r.id.trim()));
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        if let Some(w) = sorted.windows(2).find(|w| w.first() == w.get(1)) {
            return Err(format!("规则编号重复 / duplicate rule id {:?}", w.first().copied().unwrap_or_default()));
        }
        Ok(PublicationRules { penalty, rules })
    }

    /// Whether `id` (a catalog item's `publication`) names a rule here, or is
    /// [`NEVER_PUBLISHED`].
    pub fn knows(&self, id: &str) -> bool {
        id == NEVER_PUBLISHED || id == self.penalty.id || self.rules.contains_key(id)
    }

    /// The ids a catalog item may name in `publication`.
    pub fn item_rule_ids(&self) -> Vec<&str> {
        let mut ids = vec![NEVER_PUBLISHED, self.penalty.id.as_str()];
        ids.extend(self.rules.keys().map(String::as_str));
        ids
    }

    /// The fields the (non-penalty) rule `id` reads: an item naming the rule must
    /// define them, or the rule silently never applies.
    pub fn rule_fields(&self, id: &str) -> Vec<&str> {
        self.rules.get(id).map(|r| r.fields().collect()).unwrap_or_default()
    }

    /// The NDRC penalty rule set for a decision on `decided` (ignoring SAMR).
    pub fn penalty_rule_set(&self, decided: Date) -> &str {
        self.set_for(decided).map_or("", |s| s.id.as_str())
    }

    /// The rule id that decides a penalty with these fields decided on `decided`:
    /// the SAMR rule or the NDRC rule set of the date.
    pub fn penalty_rule(&self, fields: &BTreeMap<String, String>, decided: Date) -> &str {
        if self.penalty.samr.applies(fields, decided) { &self.penalty.samr.id } else { self.penalty_rule_set(decided) }
    }

    fn set_for(&self, d: Date) -> Option<&PenaltyRuleSet> {
        self.penalty.sets.iter().find(|s| s.holds(d))
    }
}

// ---- the question ---------------------------------------------------------------

/// What the rules need to know about one record.
#[derive(Debug, Clone, Copy)]
pub struct RecordFacts<'a> {
    pub item: &'a Item,
    pub fields: &'a BTreeMap<String, String>,
    /// Falls back to the item's `decision_date_field` when `None`.
    pub decision_date: Option<Date>,
    /// Falls back to the item's `tier_field`, then `default_tier`, then 一般.
    pub tier: Option<Tier>,
    /// Day the record was revoked (撤销), if it was: a revoked decision is void from its
    /// start, so it is not public on any day.
    pub revoked_on: Option<Date>,
    /// Day a repair (信用修复) was granted: not public from that day on.
    pub repaired_on: Option<Date>,
}

impl<'a> RecordFacts<'a> {
    /// Facts read from the fields alone (decision date and tier from the item's
    /// fields), neither revoked nor repaired.
    pub fn from_fields(item: &'a Item, fields: &'a BTreeMap<String, String>) -> Self {
        RecordFacts {
            item,
            fields,
            decision_date: item.decision_date_field.as_deref().and_then(|f| field(fields, f)).and_then(parse_date),
            tier: tier_from_fields(item, fields),
            revoked_on: None,
            repaired_on: None,
        }
    }

    /// Facts of a validated record, neither revoked nor repaired.
    pub fn from_record(item: &'a Item, record: &'a ValidRecord) -> Self {
        RecordFacts {
            item,
            fields: &record.fields,
            decision_date: record.decision_date,
            tier: record.tier,
            revoked_on: None,
            repaired_on: None,
        }
    }

    fn decision(&self) -> Option<Date> {
        self.decision_date.or_else(|| {
            self.item.decision_date_field.as_deref().and_then(|f| field(self.fields, f)).and_then(parse_date)
        })
    }

    fn tier(&self) -> Tier {
        self.tier.or_else(|| tier_from_fields(self.item, self.fields)).unwrap_or(Tier::General)
    }
}

fn tier_from_fields(item: &Item, fields: &BTreeMap<String, String>) -> Option<Tier> {
    item.tier_field.as_deref().and_then(|f| field(fields, f)).and_then(Tier::from_zh).or(item.default_tier)
}

/// What the public may see of a record on `as_of`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Publicity {
    /// Public on `as_of`.
    pub public: bool,
    #[serde(serialize_with = "ser_opt_date")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub public_from: Option<Date>,
    /// Last public day (after revocation or repair, the day before); `None` = no end.
    #[serde(serialize_with = "ser_opt_date")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub public_until: Option<Date>,
    /// First day a repair application may be filed; `None` = not repairable / not applicable.
    #[serde(serialize_with = "ser_opt_date")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub repair_from: Option<Date>,
    /// Day by which the record must be published (双公示); `None` when not due (or
    /// before the calendar's first year).
    #[serde(serialize_with = "ser_opt_date")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub publish_due: Option<Date>,
    /// `publish_due` runs past the calendar's years: computed from the statutory
    /// holidays, it may move when the year's official notice is added.
    pub publish_due_provisional: bool,
    /// Rule set id that decided, e.g. "ndrc-order-36-2025".
    pub rule: String,
    /// Why (not) public, for people.
    pub reason_zh: String,
    pub reason_en: String,
}

fn ser_opt_date<S: Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_str(&date_string(*d)),
        None => s.serialize_none(),
    }
}

fn ser_date<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&date_string(*d))
}

/// Why a repair application is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RepairRefusal {
    #[error(
        "最短公示期未满，{from} 起方可申请信用修复 / the minimum publication period has not passed: a repair application may be filed from {from}"
    )]
    TooEarly {
        #[serde(serialize_with = "ser_date")]
        from: Date,
    },
    #[error("该信息不可修复或不适用信用修复 / this record cannot be repaired (not repairable, or not published)")]
    NotRepairable,
}

impl RepairRefusal {
    /// The first day an application may be filed, if there is one.
    pub fn first_day(&self) -> Option<Date> {
        match self {
            RepairRefusal::TooEarly { from } => Some(*from),
            RepairRefusal::NotRepairable => None,
        }
    }

    pub fn zh(&self) -> String {
        let text = self.to_string();
        text.split_once(" / ").map_or(text.clone(), |(zh, _)| zh.to_string())
    }

    pub fn en(&self) -> String {
        let text = self.to_string();
        text.split_once(" / ").map_or(text.clone(), |(_, en)| en.to_string())
    }
}

/// A repair application filed on `on`: `Ok`, or `Err` with the first day it may be filed.
pub fn check_repair_application(p: &Publicity, on: Date) -> Result<(), RepairRefusal> {
    match p.repair_from {
        None => Err(RepairRefusal::NotRepairable),
        Some(from) if on < from => Err(RepairRefusal::TooEarly { from }),
        Some(_) => Ok(()),
    }
}

// ---- evaluation ---------------------------------------------------------------

/// How a window ends by itself.
#[derive(Debug, Clone, Copy)]
enum NaturalEnd {
    /// The maximum publication period.
    Window,
    /// Removed from a list (e.g. 移出经营异常名录) on this day.
    Removed(Date),
    /// The validity (有效期至) ended.
    Validity,
}

/// A record that is published, before cutoffs and `as_of`.
struct Shown {
    from: Option<Date>,
    until: Option<Date>,
    end: NaturalEnd,
    repair_from: Option<Date>,
    /// Decision date and working days of the publication duty; counted on a
    /// calendar only at the end, so callers can pick the calendar.
    publish_due: Option<(Date, u32)>,
    what_zh: String,
    what_en: String,
}

enum Outcome {
    NotPublished { zh: String, en: String },
    Shown(Shown),
}

fn field<'f>(fields: &'f BTreeMap<String, String>, name: &str) -> Option<&'f str> {
    fields.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// Splits a list value the way `record` joins it (and the separators departments use).
fn split_list(s: &str) -> impl Iterator<Item = &str> {
    s.split(['；', ';', '、', ',', '，']).map(str::trim).filter(|p| !p.is_empty())
}

/// Exact comparison of non-negative decimals written in ASCII digits (no floats);
/// `None` when either is not such a number.
fn cmp_decimal(a: &str, b: &str) -> Option<Ordering> {
    fn split(s: &str) -> Option<(&str, &str)> {
        let s = s.trim();
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if (int.is_empty() && frac.is_empty())
            || !int.bytes().all(|c| c.is_ascii_digit())
            || !frac.bytes().all(|c| c.is_ascii_digit())
        {
            return None;
        }
        Some((int.trim_start_matches('0'), frac.trim_end_matches('0')))
    }
    let (a, b) = (a.replace(',', ""), b.replace(',', ""));
    let ((ai, af), (bi, bf)) = (split(&a)?, split(&b)?);
    let int = ai.len().cmp(&bi.len()).then_with(|| ai.cmp(bi));
    let width = af.len().max(bf.len());
    Some(int.then_with(|| format!("{af:0<width$}").cmp(&format!("{bf:0<width$}"))))
}

fn tier_names(tier: Tier) -> (&'static str, &'static str) {
    match tier {
        Tier::Minor => ("轻微", "minor"),
        Tier::General => ("一般", "general"),
        Tier::Serious => ("严重", "serious"),
        Tier::SpeciallySerious => ("特定严重", "specially serious"),
    }
}

/// Last day of a window of `max` from `from`: the day before `from + max`.
fn last_day(from: Date, max: Period) -> Option<Date> {
    max.after(from).and_then(Date::previous_day)
}

impl PenaltyRules {
    fn evaluate(&self, facts: &RecordFacts<'_>) -> (String, Outcome) {
        let Some(decided) = facts.decision() else {
            return (
                self.id.clone(),
                Outcome::NotPublished {
                    zh: "缺少处罚决定日期，无法确定公示期，不予公示".into(),
                    en: "no decision date: the publication window cannot be determined, so the record is not shown"
                        .into(),
                },
            );
        };
        let samr = self.samr.applies(facts.fields, decided);
        let set = self.sets.iter().find(|s| s.holds(decided));
        let rule = match (samr, set) {
            (true, _) => self.samr.id.clone(),
            (false, Some(s)) => s.id.clone(),
            // unreachable: `from_toml` makes the sets tile the time line
            (false, None) => self.id.clone(),
        };
        let types: Vec<&str> =
            field(facts.fields, &self.types_field).map(|t| split_list(t).collect()).unwrap_or_default();

        if let Some(procedure) = field(facts.fields, &self.procedure_field)
            && self.not_public_procedures.iter().any(|p| p == procedure)
        {
            return (
                rule,
                Outcome::NotPublished {
                    zh: format!("适用{procedure}作出的行政处罚不予公示"),
                    en: format!(
                        "penalties decided under the procedure “{procedure}” (summary procedure) are not published"
                    ),
                },
            );
        }
        if !types.is_empty() && types.iter().all(|t| self.not_public_if_only.iter().any(|x| x == t)) {
            let list = types.join("、");
            return (
                rule,
                Outcome::NotPublished {
                    zh: format!("仅受{list}处罚的不予公示"),
                    en: format!("a penalty consisting only of “{list}” (warning only) is not published"),
                },
            );
        }

        let outcome = if samr {
            Outcome::Shown(self.samr_window(facts.fields, &types, decided))
        } else {
            match set {
                Some(set) => set_window(set, facts, decided),
                None => Outcome::NotPublished {
                    zh: "没有适用的公示规则".into(),
                    en: "no publication rule applies to this decision date".into(),
                },
            }
        };
        (rule, outcome)
    }

    fn samr_window(&self, fields: &BTreeMap<String, String>, types: &[&str], decided: Date) -> Shown {
        let s = &self.samr;
        let only_light = !types.is_empty() && types.iter().all(|t| s.short_if_only.iter().any(|x| x == t));
        let fine_ok = !types.contains(&s.fine_type.as_str())
            || field(fields, &s.fine_field)
                .and_then(|amount| cmp_decimal(amount, &s.low_fine_max_wan))
                .is_some_and(|o| o != Ordering::Greater);
        let short = only_light && fine_ok;
        let (window, zh, en) = if short {
            (
                s.short_window,
                format!("仅通报批评或{}万元以下罚款", s.low_fine_max_wan),
                format!("a public reprimand or a fine of at most {} 万元 only", s.low_fine_max_wan),
            )
        } else {
            (s.long_window, "其他行政处罚".to_string(), "other penalties".to_string())
        };
        Shown {
            from: Some(decided),
            until: last_day(decided, window),
            end: NaturalEnd::Window,
            repair_from: s.repair_after.after(decided),
            publish_due: Some((decided, s.publish_due_workdays)),
            what_zh: format!("{}：{zh}，公示{}", s.name_zh, window.zh()),
            what_en: format!("{}: {en}, published {window}", s.name_en),
        }
    }
}

fn set_window(set: &PenaltyRuleSet, facts: &RecordFacts<'_>, decided: Date) -> Outcome {
    let tier = facts.tier();
    let (tier_zh, tier_en) = tier_names(tier);
    let (min, max) = match set.window(tier) {
        TierWindow::NotPublished => {
            return Outcome::NotPublished {
                zh: format!("{}：{tier_zh}失信信息不予公示", set.name_zh),
                en: format!("{}: {tier_en} records are not published", set.name_en),
            };
        }
        TierWindow::Published { min, max } => (min, max),
    };
    let special = set.special_domain.as_ref().and_then(|sd| {
        sd.keywords
            .iter()
            .find(|k| sd.fields.iter().any(|f| field(facts.fields, f).is_some_and(|v| v.contains(k.as_str()))))
            .map(|k| (k.as_str(), sd.min))
    });
    let min = match (min, special) {
        (Some(m), Some((_, s))) => Some(m.max(s)),
        (m, _) => m,
    };
    let mut what_zh = format!("{}：{tier_zh}失信信息", set.name_zh);
    let mut what_en = format!("{}: {tier_en} record", set.name_en);
    if let Some((keyword, _)) = special {
        what_zh.push_str(&format!("（涉及{keyword}）"));
        what_en.push_str(&format!(" (concerning {keyword})"));
    }
    match min {
        Some(m) => {
            what_zh.push_str(&format!("，最短公示{}、最长{}", m.zh(), max.zh()));
            what_en.push_str(&format!(", published at least {m} and at most {max}"));
        }
        None => {
            what_zh.push_str(&format!("，公示{}，不可信用修复", max.zh()));
            what_en.push_str(&format!(", published {max}, not repairable"));
        }
    }
    Outcome::Shown(Shown {
        from: Some(decided),
        until: last_day(decided, max),
        end: NaturalEnd::Window,
        repair_from: min.and_then(|m| m.after(decided)),
        publish_due: Some((decided, set.publish_due_workdays)),
        what_zh,
        what_en,
    })
}

impl SimpleRule {
    fn evaluate(&self, facts: &RecordFacts<'_>) -> Outcome {
        if let Some(p) = &self.public_if {
            let value = field(facts.fields, &p.field).unwrap_or_default();
            if !p.values.iter().any(|v| v == value) {
                let shown = p.values.join("、");
                return Outcome::NotPublished {
                    zh: format!("{}为“{value}”，仅“{shown}”向社会公开（{}）", p.field, self.name_zh),
                    en: format!("{} is {value:?}: only {shown} is published ({})", p.field, self.name_en),
                };
            }
        }
        let decided = facts.decision();
        let removed = self.hidden_from_field.as_deref().and_then(|f| field(facts.fields, f)).and_then(parse_date);
        let valid_until = self.last_day_field.as_deref().and_then(|f| field(facts.fields, f)).and_then(parse_date);
        let window = self.max.zip(decided).and_then(|(m, d)| last_day(d, m));
        // the earliest end wins; on a tie a removal or a validity says more than the window
        let ends = [
            removed.and_then(|r| r.previous_day().map(|last| (last, NaturalEnd::Removed(r)))),
            valid_until.map(|v| (v, NaturalEnd::Validity)),
            window.map(|w| (w, NaturalEnd::Window)),
        ];
        let first = ends.into_iter().flatten().fold(None::<(Date, NaturalEnd)>, |best, e| match best {
            Some(b) if b.0 <= e.0 => Some(b),
            _ => Some(e),
        });
        let (until, end) = match first {
            Some((u, e)) => (Some(u), e),
            None => (None, NaturalEnd::Window),
        };
        Outcome::Shown(Shown {
            from: decided,
            until,
            end,
            repair_from: match (self.repairable, self.repair_after) {
                (false, _) => None,
                (true, None) => decided,
                (true, Some(min)) => decided.and_then(|d| min.after(d)),
            },
            publish_due: decided.zip(self.publish_due_workdays),
            what_zh: self.name_zh.clone(),
            what_en: self.name_en.clone(),
        })
    }

    /// The fields this rule reads (each must exist in every item that names the rule).
    fn fields(&self) -> impl Iterator<Item = &str> {
        [
            self.hidden_from_field.as_deref(),
            self.last_day_field.as_deref(),
            self.public_if.as_ref().map(|p| p.field.as_str()),
        ]
        .into_iter()
        .flatten()
    }
}

/// Why a shown record stops being public.
#[derive(Debug, Clone, Copy)]
enum Cut {
    Natural(NaturalEnd),
    Repaired(Date),
}

/// The rule that decides and what it decides, before cutoffs and `as_of`.
fn outcome(rules: &PublicationRules, facts: &RecordFacts<'_>) -> (String, Outcome) {
    let publication = facts.item.publication.as_str();
    if publication == NEVER_PUBLISHED {
        (
            NEVER_PUBLISHED.to_string(),
            Outcome::NotPublished {
                zh: format!("“{}”不向社会公开", facts.item.name_zh),
                en: format!("{} is never published", facts.item.name_en),
            },
        )
    } else if publication == rules.penalty.id {
        rules.penalty.evaluate(facts)
    } else if let Some(r) = rules.rules.get(publication) {
        (r.id.clone(), r.evaluate(facts))
    } else {
        (
            publication.to_string(),
            Outcome::NotPublished {
                zh: format!("未知的公示规则“{publication}”，不予公示"),
                en: format!("unknown publication rule {publication:?}: not published"),
            },
        )
    }
}

impl Publicity {
    /// Public on no day, for the reason given.
    fn never(rule: String, reason_zh: String, reason_en: String) -> Publicity {
        Publicity {
            public: false,
            public_from: None,
            public_until: None,
            repair_from: None,
            publish_due: None,
            publish_due_provisional: false,
            rule,
            reason_zh,
            reason_en,
        }
    }
}

/// What the public may see of the record described by `facts` on `as_of`, with
/// publication deadlines on the bundled official calendar.
pub fn publicity(rules: &PublicationRules, facts: &RecordFacts<'_>, as_of: Date) -> Publicity {
    publicity_on(rules, WorkCalendar::official(), facts, as_of)
}

/// [`publicity`] with deadlines on `cal` (the official calendar and the years a
/// deployment added since).
pub fn publicity_on(rules: &PublicationRules, cal: &WorkCalendar, facts: &RecordFacts<'_>, as_of: Date) -> Publicity {
    let (rule, outcome) = outcome(rules, facts);
    let shown = match outcome {
        Outcome::NotPublished { zh, en } => return Publicity::never(rule, zh, en),
        Outcome::Shown(s) => s,
    };

    // A revoked decision is void from its start (撤销: 自始无效): it was never rightly
    // public, so no day, past or present, shows it.
    if let Some(day) = facts.revoked_on {
        return Publicity::never(
            rule,
            format!("已于 {day} 撤销，自始无效，不予公示（{}）", shown.what_zh),
            format!("revoked on {day}: void from the start, not public ({})", shown.what_en),
        );
    }
    // A repair ends publication the day before it takes effect; earlier days keep
    // what was public then.
    let mut until = shown.until;
    let mut cut = Cut::Natural(shown.end);
    if let Some(day) = facts.repaired_on
        && let Some(last) = day.previous_day()
        && until.is_none_or(|u| last < u)
    {
        until = Some(last);
        cut = Cut::Repaired(day);
    }
    // Once publication ends, a repair application no longer concerns it.
    let repair_from = shown.repair_from.filter(|r| until.is_none_or(|u| u.next_day().is_none_or(|n| *r <= n)));

    let from = shown.from;
    let (what_zh, what_en) = (&shown.what_zh, &shown.what_en);
    let ended = until.is_some_and(|u| as_of > u);
    let not_yet = from.is_some_and(|f| as_of < f);
    let (reason_zh, reason_en) = if ended {
        let u = until.map(date_string).unwrap_or_default();
        match cut {
            Cut::Repaired(d) => (
                format!("已于 {d} 完成信用修复，自该日起停止公示（{what_zh}）"),
                format!("credit repaired on {d}: not public from that day on ({what_en})"),
            ),
            Cut::Natural(NaturalEnd::Removed(d)) => (
                format!("已于 {d} 移出，自该日起不再公示（{what_zh}）"),
                format!("removed on {d}: not public from that day on ({what_en})"),
            ),
            Cut::Natural(NaturalEnd::Validity) => (
                format!("有效期至 {u}，已届满，不再公示（{what_zh}）"),
                format!("valid until {u}: no longer public ({what_en})"),
            ),
            Cut::Natural(NaturalEnd::Window) => (
                format!("公示期已于 {u} 届满，停止公示（{what_zh}）"),
                format!("the publication window ended on {u} ({what_en})"),
            ),
        }
    } else if not_yet {
        let f = from.map(date_string).unwrap_or_default();
        (
            format!("决定日期 {f} 之前尚未公示（{what_zh}）"),
            format!("not public before the decision date {f} ({what_en})"),
        )
    } else {
        let span_zh = match (from, until) {
            (Some(f), Some(u)) => format!("公示期 {f} 至 {u}"),
            (Some(f), None) => format!("自 {f} 起公示，无截止日期"),
            (None, Some(u)) => format!("公示至 {u}"),
            (None, None) => "长期公示".to_string(),
        };
        let span_en = match (from, until) {
            (Some(f), Some(u)) => format!("public from {f} to {u}"),
            (Some(f), None) => format!("public from {f}, no end date"),
            (None, Some(u)) => format!("public until {u}"),
            (None, None) => "public, no end date".to_string(),
        };
        let (repair_zh, repair_en) = match repair_from {
            Some(r) => (format!("；{r} 起可申请信用修复"), format!("; a repair application may be filed from {r}")),
            None => (String::new(), String::new()),
        };
        (format!("公示中：{what_zh}，{span_zh}{repair_zh}"), format!("public: {what_en}; {span_en}{repair_en}"))
    };
    // past the calendar's years a due date is provisional, never silently missing
    let due = shown.publish_due.and_then(|(d, n)| cal.deadline(d, n).ok());
    Publicity {
        public: !ended && !not_yet,
        public_from: from,
        public_until: until,
        repair_from,
        publish_due: due.map(|d: Deadline| d.date),
        publish_due_provisional: due.is_some_and(|d| d.provisional),
        rule,
        reason_zh,
        reason_en,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::record::normalize_value;
    use proptest::prelude::*;
    use time::macros::date;

    static CATALOG: LazyLock<Catalog> = LazyLock::new(|| Catalog::bundled().unwrap());

    fn rules() -> &'static PublicationRules {
        PublicationRules::bundled()
    }

    fn item(code: &str) -> &'static Item {
        CATALOG.item(code).unwrap()
    }

    /// Field values as intake would store them: each one normalised by its catalog definition.
    fn fields(item: &Item, pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .filter_map(|(name, raw)| {
                let def = item.field(name).unwrap_or_else(|| panic!("{} has no field {name}", item.code));
                normalize_value(def, raw).unwrap().map(|v| (name.to_string(), v))
            })
            .collect()
    }

    const ENV: &str = "北京市海淀区生态环境局";
    const SAMR: &str = "北京市海淀区市场监督管理局";

    /// A penalty row; `extra` replaces or adds fields.
    fn penalty(decided: &str, authority: &str, types: &str, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut pairs = vec![
            ("行政相对人名称", "北京某某科技有限公司"),
            ("行政相对人类别", "法人及非法人组织"),
            ("行政处罚决定书文号", "京海罚〔2024〕12号"),
            ("违法行为类型", "虚假宣传"),
            ("违法事实", "发布虚假广告"),
            ("处罚依据", "《中华人民共和国广告法》第五十五条"),
            ("处罚类别", types),
            ("处罚内容", "见决定书"),
            ("处罚决定日期", decided),
            ("处罚机关", authority),
            ("处罚程序", "普通程序"),
        ];
        for (k, v) in extra {
            pairs.retain(|p| p.0 != *k);
            pairs.push((k, v));
        }
        fields(item("admin_penalty"), &pairs)
    }

    fn eval(item: &Item, fields: &BTreeMap<String, String>, as_of: Date) -> Publicity {
        publicity(rules(), &RecordFacts::from_fields(item, fields), as_of)
    }

    fn pen(fields: &BTreeMap<String, String>, as_of: Date) -> Publicity {
        eval(item("admin_penalty"), fields, as_of)
    }

    fn d(s: &str) -> Date {
        parse_date(s).unwrap()
    }

    #[test]
    fn bundled_rules_load_and_cover_every_catalog_rule() {
        let r = rules();
        for it in CATALOG.items() {
            assert!(r.knows(&it.publication), "{}: unknown publication rule {}", it.code, it.publication);
        }
        for id in [
            "double_publicity_penalty",
            "double_publicity_licence",
            "registration",
            "abnormal_operation",
            "court_dishonest",
            "commitment",
            "honour",
        ] {
            assert!(r.item_rule_ids().contains(&id), "{id}");
        }
    }

    #[test]
    fn periods_follow_the_calendar() {
        let p = |s: &str| Period::parse(s).unwrap();
        assert_eq!(p("3 months").after(date!(2024 - 11 - 30)), Some(date!(2025 - 02 - 28)));
        assert_eq!(p("1 year").after(date!(2024 - 02 - 29)), Some(date!(2025 - 02 - 28)));
        assert_eq!(p("3 years").after(date!(2024 - 02 - 29)), Some(date!(2027 - 02 - 28)));
        assert_eq!(p("6 months").after(date!(2023 - 08 - 31)), Some(date!(2024 - 02 - 29)));
        assert_eq!(p("3 months").after(date!(2024 - 10 - 31)), Some(date!(2025 - 01 - 31)));
        assert_eq!(p("1 month").after(date!(2024 - 12 - 15)), Some(date!(2025 - 01 - 15)));
        assert_eq!(last_day(date!(2024 - 02 - 29), p("1 year")), Some(date!(2025 - 02 - 27)));
        assert_eq!(p("12 months"), p("1 year"));
        assert_eq!(p("1 year").to_string(), "1 year");
        assert_eq!(p("3 months").to_string(), "3 months");
        assert_eq!(p("3 years").zh(), "3年");
        assert_eq!(p("6 months").zh(), "6个月");
        for bad in ["", "3", "0 months", "3 weeks", "-1 year", "101 years", "three months"] {
            assert!(Period::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn decimals_compare_exactly() {
        assert_eq!(cmp_decimal("1", "1.000"), Some(Ordering::Equal));
        assert_eq!(cmp_decimal("0.999999", "1"), Some(Ordering::Less));
        assert_eq!(cmp_decimal("1.0000001", "1"), Some(Ordering::Greater));
        assert_eq!(cmp_decimal("10", "9.99"), Some(Ordering::Greater));
        assert_eq!(cmp_decimal("001,000", "1000"), Some(Ordering::Equal));
        assert_eq!(cmp_decimal(".5", "0.5"), Some(Ordering::Equal));
        assert_eq!(cmp_decimal("-1", "1"), None);
        assert_eq!(cmp_decimal("1e3", "1"), None);
        assert_eq!(cmp_decimal("", "1"), None);
    }

    /// (decision date, rule, last public day, first repair day) for a 一般 penalty.
    #[test]
    fn rule_sets_switch_on_the_decision_date() {
        let table = [
            ("2023-04-30", "gb-527-2019", "2024-04-29", "2023-07-30"),
            ("2023-05-01", "ndrc-order-58", "2026-04-30", "2023-08-01"),
            ("2026-03-31", "ndrc-order-58", "2029-03-30", "2026-06-30"),
            ("2026-04-01", "ndrc-order-36-2025", "2027-03-31", "2026-07-01"),
        ];
        for (decided, rule, until, repair) in table {
            let f = penalty(decided, ENV, "罚款", &[("罚款金额(万元)", "5")]);
            let p = pen(&f, d(decided));
            assert_eq!(p.rule, rule, "{decided}");
            assert!(p.public, "{decided}: {}", p.reason_en);
            assert_eq!(p.public_from, Some(d(decided)), "{decided}");
            assert_eq!(p.public_until, Some(d(until)), "{decided}");
            assert_eq!(p.repair_from, Some(d(repair)), "{decided}");
            assert_eq!(rules().penalty_rule_set(d(decided)), rule);
            // the day of the question never changes the rule
            assert_eq!(pen(&f, date!(2030 - 01 - 01)).rule, rule);
        }
    }

    /// (decision, tier, last public day or None = not published, first repair day).
    #[test]
    fn each_tier_of_each_rule_set() {
        let table = [
            ("2022-06-15", "轻微", "gb-527-2019", Some("2023-06-14"), Some("2022-09-15")),
            ("2022-06-15", "一般", "gb-527-2019", Some("2023-06-14"), Some("2022-09-15")),
            ("2022-06-15", "严重", "gb-527-2019", Some("2025-06-14"), Some("2022-12-15")),
            ("2022-06-15", "特定严重", "gb-527-2019", Some("2025-06-14"), None),
            ("2024-06-15", "轻微", "ndrc-order-58", Some("2027-06-14"), Some("2024-09-15")),
            ("2024-06-15", "一般", "ndrc-order-58", Some("2027-06-14"), Some("2024-09-15")),
            ("2024-06-15", "严重", "ndrc-order-58", Some("2027-06-14"), Some("2024-09-15")),
            ("2024-06-15", "特定严重", "ndrc-order-58", Some("2027-06-14"), Some("2024-09-15")),
            ("2026-06-15", "轻微", "ndrc-order-36-2025", None, None),
            ("2026-06-15", "一般", "ndrc-order-36-2025", Some("2027-06-14"), Some("2026-09-15")),
            ("2026-06-15", "严重", "ndrc-order-36-2025", Some("2029-06-14"), Some("2027-06-15")),
            ("2026-06-15", "特定严重", "ndrc-order-36-2025", Some("2029-06-14"), Some("2027-06-15")),
        ];
        for (decided, tier, rule, until, repair) in table {
            let f = penalty(decided, ENV, "罚款", &[("罚款金额(万元)", "5"), ("失信程度", tier)]);
            let p = pen(&f, d(decided));
            let what = format!("{decided} {tier}: {}", p.reason_en);
            assert_eq!(p.rule, rule, "{what}");
            assert_eq!(p.public, until.is_some(), "{what}");
            assert_eq!(p.public_until, until.map(d), "{what}");
            assert_eq!(p.repair_from, repair.map(d), "{what}");
            assert_eq!(p.public_from.is_some(), until.is_some(), "{what}");
            assert_eq!(p.publish_due.is_some(), until.is_some(), "{what}");
            assert!(!p.reason_zh.is_empty() && !p.reason_en.is_empty());
        }
        // the tier given in the facts wins over the field
        let f = penalty("2026-06-15", ENV, "罚款", &[("失信程度", "轻微")]);
        let facts = RecordFacts { tier: Some(Tier::Serious), ..RecordFacts::from_fields(item("admin_penalty"), &f) };
        assert_eq!(publicity(rules(), &facts, date!(2026 - 06 - 15)).public_until, Some(date!(2029 - 06 - 14)));
        // no tier field: the item's default (一般)
        let f = penalty("2026-06-15", ENV, "罚款", &[]);
        assert_eq!(pen(&f, date!(2026 - 06 - 15)).public_until, Some(date!(2027 - 06 - 14)));
    }

    #[test]
    fn minor_records_are_not_published_from_2026_04_01() {
        let f = penalty("2026-04-01", ENV, "罚款", &[("失信程度", "轻微")]);
        let p = pen(&f, date!(2026 - 04 - 02));
        assert!(!p.public);
        assert_eq!((p.public_from, p.public_until, p.repair_from, p.publish_due), (None, None, None, None));
        assert_eq!(p.rule, "ndrc-order-36-2025");
        assert!(p.reason_zh.contains("轻微"), "{}", p.reason_zh);
        // the day before, the same record falls under Order 58 and is public
        let f = penalty("2026-03-31", ENV, "罚款", &[("失信程度", "轻微")]);
        assert!(pen(&f, date!(2026 - 04 - 02)).public);
    }

    #[test]
    fn special_domains_raise_the_minimum_under_order_58() {
        for (field, value) in [
            ("违法事实", "占用、堵塞消防通道"),
            ("处罚依据", "《中华人民共和国安全生产法》第九十九条"),
            ("违法行为类型", "特种设备未经检验"),
        ] {
            let f = penalty("2024-06-15", ENV, "罚款", &[("罚款金额(万元)", "2"), (field, value)]);
            let p = pen(&f, date!(2024 - 06 - 15));
            assert_eq!(p.rule, "ndrc-order-58");
            assert_eq!(p.repair_from, Some(date!(2025 - 06 - 15)), "{field}");
            assert_eq!(p.public_until, Some(date!(2027 - 06 - 14)), "{field}");
            assert!(p.reason_zh.contains("涉及"), "{}", p.reason_zh);
            let refused = check_repair_application(&p, date!(2025 - 06 - 14)).unwrap_err();
            assert_eq!(refused.first_day(), Some(date!(2025 - 06 - 15)));
            assert_eq!(check_repair_application(&p, date!(2025 - 06 - 15)), Ok(()));
        }
        // other rule sets have no such rule
        let f = penalty("2022-06-15", ENV, "罚款", &[("违法事实", "占用消防通道")]);
        assert_eq!(pen(&f, date!(2022 - 06 - 15)).repair_from, Some(date!(2022 - 09 - 15)));
        // unrelated facts keep the 3-month minimum
        let f = penalty("2024-06-15", ENV, "罚款", &[]);
        assert_eq!(pen(&f, date!(2024 - 06 - 15)).repair_from, Some(date!(2024 - 09 - 15)));
    }

    #[test]
    fn samr_penalties_follow_order_45() {
        let on = date!(2024 - 03 - 05);
        // (types, fine, last public day or None = not public)
        type Row = (&'static str, Option<&'static str>, &'static [(&'static str, &'static str)], Option<&'static str>);
        let table: [Row; 9] = [
            ("罚款", Some("1"), &[], Some("2024-06-04")),
            ("罚款", Some("0.5"), &[], Some("2024-06-04")),
            ("通报批评", None, &[], Some("2024-06-04")),
            ("通报批评；罚款", Some("0.2"), &[], Some("2024-06-04")),
            ("罚款", Some("1.000001"), &[], Some("2027-03-04")),
            ("罚款", None, &[], Some("2027-03-04")),
            ("罚款；没收违法所得", Some("0.1"), &[], Some("2027-03-04")),
            ("警告", None, &[], None),
            ("罚款", Some("0.02"), &[("处罚程序", "简易程序")], None),
        ];
        for (types, fine, extra, until) in table {
            let mut extra = extra.to_vec();
            if let Some(fine) = fine {
                extra.push(("罚款金额(万元)", fine));
            }
            let f = penalty("2024-03-05", SAMR, types, &extra);
            let p = pen(&f, on);
            let what = format!("{types} {fine:?} {extra:?}: {}", p.reason_en);
            assert_eq!(p.rule, "samr-order-45", "{what}");
            assert_eq!(p.public, until.is_some(), "{what}");
            assert_eq!(p.public_until, until.map(d), "{what}");
            if until.is_some() {
                assert_eq!(p.repair_from, Some(date!(2024 - 06 - 05)), "{what}");
                // 20 working days; Qingming (4–6 April) lies after the due day
                assert_eq!(p.publish_due, Some(date!(2024 - 04 - 02)), "{what}");
            } else {
                assert_eq!((p.repair_from, p.publish_due), (None, None), "{what}");
            }
        }
        // the tier does not matter to SAMR
        let f = penalty("2026-06-15", SAMR, "罚款", &[("罚款金额(万元)", "0.3"), ("失信程度", "轻微")]);
        let p = pen(&f, date!(2026 - 06 - 15));
        assert!(p.public);
        assert_eq!(p.public_until, Some(date!(2026 - 09 - 14)));
        // before Order 45 took effect, the NDRC rule set of the date decides
        let f = penalty("2021-08-31", SAMR, "罚款", &[("罚款金额(万元)", "0.3")]);
        assert_eq!(pen(&f, date!(2021 - 08 - 31)).rule, "gb-527-2019");
        let f = penalty("2021-09-01", SAMR, "罚款", &[("罚款金额(万元)", "0.3")]);
        assert_eq!(pen(&f, date!(2021 - 09 - 01)).rule, "samr-order-45");
    }

    #[test]
    fn warning_only_and_summary_procedure_penalties_are_never_public() {
        for decided in ["2022-06-15", "2024-06-15", "2026-06-15"] {
            let rule = rules().penalty_rule_set(d(decided));
            let f = penalty(decided, ENV, "警告", &[]);
            let p = pen(&f, d(decided));
            assert!(!p.public, "{decided}");
            assert_eq!(p.rule, rule);
            assert!(p.reason_zh.contains("警告"), "{}", p.reason_zh);
            let f = penalty(decided, ENV, "罚款", &[("处罚程序", "简易程序"), ("罚款金额(万元)", "0.01")]);
            let p = pen(&f, d(decided));
            assert!(!p.public, "{decided}");
            assert!(p.reason_zh.contains("简易程序"), "{}", p.reason_zh);
            // a warning with another penalty is public
            let f = penalty(decided, ENV, "警告、罚款", &[("罚款金额(万元)", "0.5")]);
            assert!(pen(&f, d(decided)).public, "{decided}");
        }
    }

    #[test]
    fn before_the_decision_and_after_the_window_the_record_is_not_public() {
        let f = penalty("2024-06-15", ENV, "罚款", &[]);
        let before = pen(&f, date!(2024 - 06 - 14));
        assert!(!before.public);
        assert!(before.reason_zh.contains("尚未公示"), "{}", before.reason_zh);
        assert_eq!(before.public_from, Some(date!(2024 - 06 - 15)));
        assert!(pen(&f, date!(2027 - 06 - 14)).public);
        let after = pen(&f, date!(2027 - 06 - 15));
        assert!(!after.public);
        assert!(after.reason_zh.contains("届满"), "{}", after.reason_zh);
        assert!(after.reason_en.contains("2027-06-14"), "{}", after.reason_en);
    }

    #[test]
    fn revocation_voids_and_repair_cuts_publication_from_its_day() {
        let it = item("admin_penalty");
        let f = penalty("2024-06-15", ENV, "罚款", &[]);
        let base = RecordFacts::from_fields(it, &f);

        // revoked: void from the start, so no day shows it, not even before revocation
        let revoked = RecordFacts { revoked_on: Some(date!(2024 - 08 - 01)), ..base };
        for day in [date!(2024 - 06 - 15), date!(2024 - 07 - 31), date!(2024 - 08 - 01), date!(2026 - 01 - 01)] {
            let p = publicity(rules(), &revoked, day);
            assert!(!p.public, "{day}");
            assert_eq!((p.public_from, p.public_until, p.repair_from), (None, None, None));
            assert!(p.reason_zh.contains("自始无效") && p.reason_en.contains("void"), "{}", p.reason_zh);
        }

        let repaired = RecordFacts { repaired_on: Some(date!(2024 - 10 - 01)), ..base };
        let p = publicity(rules(), &repaired, date!(2024 - 09 - 30));
        assert!(p.public);
        assert_eq!(p.public_until, Some(date!(2024 - 09 - 30)));
        assert_eq!(p.repair_from, Some(date!(2024 - 09 - 15)));
        let p = publicity(rules(), &repaired, date!(2024 - 10 - 01));
        assert!(!p.public);
        assert!(p.reason_zh.contains("信用修复"), "{}", p.reason_zh);

        // a revocation after a repair still voids it
        let both = RecordFacts { revoked_on: Some(date!(2025 - 01 - 01)), ..repaired };
        assert!(!publicity(rules(), &both, date!(2024 - 09 - 30)).public);

        // a repair after the window ends changes nothing
        let late = RecordFacts { repaired_on: Some(date!(2028 - 01 - 01)), ..base };
        let p = publicity(rules(), &late, date!(2027 - 12 - 01));
        assert_eq!(p.public_until, Some(date!(2027 - 06 - 14)));
        assert!(p.reason_zh.contains("届满"), "{}", p.reason_zh);
    }

    #[test]
    fn repair_applications_wait_for_the_minimum() {
        let f = penalty("2026-06-15", ENV, "罚款", &[("失信程度", "严重")]);
        let p = pen(&f, date!(2026 - 07 - 01));
        let e = check_repair_application(&p, date!(2027 - 06 - 14)).unwrap_err();
        assert_eq!(e, RepairRefusal::TooEarly { from: date!(2027 - 06 - 15) });
        assert!(e.zh().contains("2027-06-15") && e.en().contains("2027-06-15"), "{e}");
        assert!(e.zh().contains("信用修复") && e.en().contains("repair application"), "{e}");
        assert_eq!(check_repair_application(&p, date!(2027 - 06 - 15)), Ok(()));

        let f = penalty("2022-06-15", ENV, "罚款", &[("失信程度", "特定严重")]);
        let p = pen(&f, date!(2022 - 07 - 01));
        assert!(p.public);
        assert_eq!(check_repair_application(&p, date!(2025 - 01 - 01)), Err(RepairRefusal::NotRepairable));
        assert!(p.reason_zh.contains("不可信用修复"), "{}", p.reason_zh);
        assert_eq!(RepairRefusal::NotRepairable.first_day(), None);
    }

    #[test]
    fn publish_due_counts_working_days() {
        // National Day 2024: 29 Sep (Sun) and 12 Oct (Sat) are working days, 1–7 Oct off.
        let lic = item("admin_licence");
        let f = fields(lic, &[("许可决定日期", "2024-09-27")]);
        let p = eval(lic, &f, date!(2024 - 09 - 27));
        assert_eq!(p.rule, "double_publicity_licence");
        assert_eq!(p.publish_due, Some(date!(2024 - 10 - 12)));
        assert!(p.public);
        assert_eq!((p.public_from, p.public_until, p.repair_from), (Some(date!(2024 - 09 - 27)), None, None));

        let f = penalty("2024-09-27", ENV, "罚款", &[]);
        assert_eq!(pen(&f, date!(2024 - 09 - 27)).publish_due, Some(date!(2024 - 10 - 12)));

        assert!(!p.publish_due_provisional);
        // past the calendar: a provisional date from the statutory holidays, said so
        let f = fields(lic, &[("许可决定日期", "2026-12-28")]);
        let p = eval(lic, &f, d("2026-12-28"));
        assert!(p.publish_due.is_some_and(|due| due.year() == 2027) && p.publish_due_provisional, "{p:?}");
        // before it: nothing to compute
        let decided = "2018-06-01";
        let f = fields(lic, &[("许可决定日期", decided)]);
        assert_eq!(eval(lic, &f, d(decided)).publish_due, None);
        let f = penalty(decided, ENV, "罚款", &[]);
        let p = pen(&f, d(decided));
        assert!(p.public);
        assert_eq!(p.publish_due, None);
    }

    #[test]
    fn publish_due_deadline_is_provisional_past_the_calendar() {
        let official = WorkCalendar::official();
        let lic = item("admin_licence");
        // the deadline does not depend on the day asked about
        let due = |cal: &WorkCalendar, item: &Item, f: &BTreeMap<String, String>| {
            let p = publicity_on(rules(), cal, &RecordFacts::from_fields(item, f), date!(2024 - 01 - 01));
            p.publish_due.map(|date| Deadline { date, provisional: p.publish_due_provisional })
        };
        let final_ = |date| Some(Deadline { date, provisional: false });
        let provisional = |date| Some(Deadline { date, provisional: true });

        // inside the calendar: the same day as `publish_due`, final
        let f = fields(lic, &[("许可决定日期", "2024-09-27")]);
        assert_eq!(due(official, lic, &f), final_(date!(2024 - 10 - 12)));
        let f = penalty("2024-09-27", ENV, "罚款", &[]);
        assert_eq!(due(official, item("admin_penalty"), &f), final_(date!(2024 - 10 - 12)));

        // Monday 2026-12-28: 29–31 Dec, then 元旦 (Fri) and a weekend, then 4–7 Jan 2027
        let f = fields(lic, &[("许可决定日期", "2026-12-28")]);
        assert_eq!(due(official, lic, &f), provisional(date!(2027 - 01 - 07)));
        let p = penalty("2026-12-28", ENV, "罚款", &[]);
        assert_eq!(due(official, item("admin_penalty"), &p), provisional(date!(2027 - 01 - 07)));
        // once a 2027 notice is added (hypothetical: only 元旦 listed), the same day is final
        let with_2027 = official
            .with_year("first_year = 2027\nlast_year = 2027\n[[holiday]]\ndate = 2027-01-01\nname = \"元旦\"\n")
            .unwrap();
        assert_eq!(due(&with_2027, lic, &f), final_(date!(2027 - 01 - 07)));

        // before the calendar, not published, or no decision date: no deadline
        let f = fields(lic, &[("许可决定日期", "2018-06-01")]);
        assert_eq!(due(official, lic, &f), None);
        assert_eq!(due(official, lic, &fields(lic, &[])), None);
        let f = penalty("2024-09-27", ENV, "罚款", &[("处罚程序", "简易程序")]);
        assert_eq!(pen(&f, date!(2024 - 09 - 27)).publish_due, None);
        assert_eq!(due(official, item("admin_penalty"), &f), None);
        // a licence whose decision lies before the window is not yet public
        let f = fields(lic, &[("许可决定日期", "2024-09-27")]);
        assert!(!eval(lic, &f, date!(2024 - 09 - 26)).public);
    }

    #[test]
    fn abnormal_operation_is_public_until_removal() {
        let it = item("abnormal_operation");
        let listed = fields(it, &[("列入日期", "2024-01-10")]);
        let p = eval(it, &listed, date!(2030 - 01 - 01));
        assert!(p.public);
        // leaving the list is a repair the subject may apply for from the day it was listed
        let listed_on = Some(date!(2024 - 01 - 10));
        assert_eq!((p.public_from, p.public_until, p.repair_from), (listed_on, None, listed_on));
        assert!(!eval(it, &listed, date!(2024 - 01 - 09)).public);
        // an honour (another simple rule) is not repairable
        let h = item("honour");
        let honoured = fields(h, &[("授予日期", "2024-05-06")]);
        assert_eq!(eval(h, &honoured, date!(2025 - 01 - 01)).repair_from, None);

        let removed = fields(it, &[("列入日期", "2024-01-10"), ("移出日期", "2024-05-20")]);
        let p = eval(it, &removed, date!(2024 - 05 - 19));
        assert!(p.public);
        assert_eq!(p.public_until, Some(date!(2024 - 05 - 19)));
        let p = eval(it, &removed, date!(2024 - 05 - 20));
        assert!(!p.public);
        assert!(p.reason_zh.contains("移出"), "{}", p.reason_zh);
        assert_eq!(p.rule, "abnormal_operation");
    }

    #[test]
    fn honours_are_public_until_they_expire() {
        let it = item("honour");
        let f = fields(it, &[("授予日期", "2023-01-01"), ("有效期至", "2025-12-31")]);
        let p = eval(it, &f, date!(2025 - 12 - 31));
        assert!(p.public);
        assert_eq!(p.public_until, Some(date!(2025 - 12 - 31)));
        let p = eval(it, &f, date!(2026 - 01 - 01));
        assert!(!p.public);
        assert!(p.reason_zh.contains("有效期"), "{}", p.reason_zh);
        let open = fields(it, &[("授予日期", "2023-01-01")]);
        assert!(eval(it, &open, date!(2040 - 01 - 01)).public);
    }

    /// The administrative actions besides licences and penalties: public from the
    /// decision, due within 7 working days, for their window (or until 有效期至).
    #[test]
    fn other_administrative_actions_have_windows_and_deadlines() {
        // (item, decision date field, last public day for a decision on 2024-03-15, due days)
        let table = [
            ("admin_enforcement", "行政强制决定日期", date!(2025 - 03 - 14), 7),
            ("admin_confirmation", "确认决定日期", date!(2027 - 03 - 14), 7),
            ("admin_levy", "征收决定日期", date!(2027 - 03 - 14), 7),
            ("admin_benefit", "给付决定日期", date!(2027 - 03 - 14), 7),
            ("admin_adjudication", "裁决决定日期", date!(2027 - 03 - 14), 7),
            ("admin_compensation", "补偿决定日期", date!(2027 - 03 - 14), 7),
            ("admin_reward", "奖励决定日期", date!(2027 - 03 - 14), 7),
            ("admin_inspection", "检查日期", date!(2027 - 03 - 14), 7),
            ("product_quality_failure", "公告日期", date!(2025 - 03 - 14), 20),
        ];
        for (code, date_field, last, due) in table {
            let it = item(code);
            let f = fields(it, &[(date_field, "2024-03-15")]);
            let p = eval(it, &f, last);
            assert!(p.public, "{code}: {}", p.reason_zh);
            assert_eq!((p.public_from, p.public_until, p.repair_from), (Some(date!(2024 - 03 - 15)), Some(last), None));
            assert_eq!(p.rule, code);
            let expected = WorkCalendar::official().deadline(date!(2024 - 03 - 15), due).unwrap().date;
            assert_eq!(p.publish_due, Some(expected), "{code}");
            let after = eval(it, &f, last.next_day().unwrap());
            assert!(!after.public && after.reason_zh.contains("届满"), "{code}: {}", after.reason_zh);
            assert!(!eval(it, &f, date!(2024 - 03 - 14)).public, "{code}: not before the decision");
        }
        // 2024-03-15 is a Friday: 7 working days later is Tuesday 2024-03-26
        let it = item("admin_levy");
        let p = eval(it, &fields(it, &[("征收决定日期", "2024-03-15")]), date!(2024 - 04 - 01));
        assert_eq!(p.publish_due, Some(date!(2024 - 03 - 26)));
        // an end date in the record ends the window earlier, never later
        let it = item("admin_reward");
        let short = fields(it, &[("奖励决定日期", "2024-03-15"), ("有效期至", "2024-12-31")]);
        assert_eq!(eval(it, &short, date!(2024 - 06 - 01)).public_until, Some(date!(2024 - 12 - 31)));
        let p = eval(it, &short, date!(2025 - 01 - 01));
        assert!(!p.public && p.reason_zh.contains("有效期"), "{}", p.reason_zh);
        let long = fields(it, &[("奖励决定日期", "2024-03-15"), ("有效期至", "2030-12-31")]);
        assert_eq!(eval(it, &long, date!(2024 - 06 - 01)).public_until, Some(date!(2027 - 03 - 14)));
    }

    #[test]
    fn only_a_level_tax_ratings_are_published() {
        let it = item("tax_credit_rating");
        for (level, public) in [("A", true), ("B", false), ("M", false), ("C", false), ("D", false)] {
            let f = fields(it, &[("评价年度", "2024"), ("纳税信用级别", level), ("评价日期", "2025-04-20")]);
            let p = eval(it, &f, date!(2025 - 05 - 01));
            assert_eq!(p.public, public, "{level}: {}", p.reason_zh);
            if public {
                assert_eq!(p.public_until, Some(date!(2026 - 04 - 19)), "a rating stands one year");
                assert!(!eval(it, &f, date!(2026 - 04 - 20)).public);
            } else {
                assert_eq!((p.public_from, p.public_until), (None, None));
                assert!(p.reason_zh.contains("仅“A”") && p.reason_en.contains("only A"), "{}", p.reason_zh);
            }
        }
    }

    #[test]
    fn every_field_a_rule_reads_exists_in_the_items_naming_it() {
        for it in CATALOG.items() {
            for f in rules().rule_fields(&it.publication) {
                assert!(it.field(f).is_some(), "{}: rule {} reads {f}, which the item lacks", it.code, it.publication);
            }
        }
    }

    #[test]
    fn open_ended_items_stay_public() {
        for (code, date_field, rule) in [
            ("registration", "成立日期", "registration"),
            ("credit_commitment", "承诺日期", "commitment"),
            ("dishonest_debtor", "发布时间", "court_dishonest"),
        ] {
            let it = item(code);
            let f = fields(it, &[(date_field, "2020-05-06")]);
            let p = eval(it, &f, date!(2026 - 11 - 01));
            assert!(p.public, "{code}");
            assert_eq!(p.rule, rule);
            assert_eq!((p.public_from, p.public_until, p.repair_from), (Some(date!(2020 - 05 - 06)), None, None));
            assert_eq!(check_repair_application(&p, date!(2026 - 11 - 01)), Err(RepairRefusal::NotRepairable));
        }
    }

    /// A broken commitment is published a year [U] and may be repaired after three
    /// months [U] (Order 36's 一般 tier).
    #[test]
    fn a_commitment_breach_is_published_a_year_and_repairable_after_three_months() {
        let it = item("commitment_breach");
        let f = fields(it, &[("认定日期", "2026-10-11")]);
        let p = eval(it, &f, date!(2026 - 11 - 28));
        assert!(p.public);
        assert_eq!(p.rule, "commitment_breach");
        assert_eq!((p.public_from, p.public_until), (Some(date!(2026 - 10 - 11)), Some(date!(2027 - 10 - 10))));
        assert_eq!(p.repair_from, Some(date!(2027 - 01 - 11)));
        assert!(!eval(it, &f, date!(2027 - 10 - 11)).public);
        let bad = BUNDLED_TOML.replace("repairable = true\nrepair_after", "repair_after");
        assert_ne!(bad, BUNDLED_TOML);
        assert!(PublicationRules::from_toml(&bad).unwrap_err().contains("repair_after"));
    }

    #[test]
    fn never_published_and_unknown_rules_are_not_public() {
        let mut it = item("registration").clone();
        let f = fields(&it, &[("成立日期", "2020-05-06")]);
        it.publication = NEVER_PUBLISHED.into();
        let p = eval(&it, &f, date!(2024 - 01 - 01));
        assert!(!p.public);
        assert_eq!(p.rule, "none");
        it.publication = "no_such_rule".into();
        let p = eval(&it, &f, date!(2024 - 01 - 01));
        assert!(!p.public);
        assert!(p.reason_en.contains("no_such_rule"), "{}", p.reason_en);
        // a penalty without a decision date cannot be placed in a window
        let f = penalty("2024-06-15", ENV, "罚款", &[]);
        let mut f2 = f.clone();
        f2.remove("处罚决定日期");
        assert!(!pen(&f2, date!(2024 - 07 - 01)).public);
    }

    #[test]
    fn a_validated_record_feeds_the_rules() {
        let it = item("admin_penalty");
        let authority = crate::codes::Uscc::complete("1111010800000000").unwrap();
        let pairs = [
            ("行政相对人名称", "北京某某科技有限公司"),
            ("行政相对人类别", "法人及非法人组织"),
            ("统一社会信用代码", "91110108551385082Q"),
            ("行政处罚决定书文号", "京海市监罚〔2024〕12号"),
            ("违法行为类型", "虚假宣传"),
            ("违法事实", "发布虚假广告"),
            ("处罚依据", "《中华人民共和国广告法》第五十五条"),
            ("处罚类别", "罚款"),
            ("处罚内容", "罚款人民币伍仟元"),
            ("罚款金额(万元)", "0.5"),
            ("处罚决定日期", "2024年3月5日"),
            ("处罚有效期", "2025/3/5"),
            ("处罚机关", SAMR),
            ("处罚机关统一社会信用代码", authority.as_str()),
            ("数据来源单位", SAMR),
            ("数据来源单位统一社会信用代码", authority.as_str()),
        ];
        let row: Vec<Option<&str>> =
            it.fields.iter().map(|f| pairs.iter().find(|(k, _)| *k == f.name).map(|(_, v)| *v)).collect();
        let record = crate::record::validate(it, &row, date!(2026 - 01 - 01)).unwrap();
        let p = publicity(rules(), &RecordFacts::from_record(it, &record), date!(2024 - 05 - 01));
        assert!(p.public);
        assert_eq!(p.rule, "samr-order-45");
        assert_eq!(p.public_until, Some(date!(2024 - 06 - 04)));
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["public_until"], "2024-06-04");
        assert_eq!(json["publish_due"], "2024-04-02");
        assert_eq!(json["rule"], "samr-order-45");
        let refusal = serde_json::to_value(check_repair_application(&p, date!(2024 - 05 - 01)).unwrap_err()).unwrap();
        assert_eq!(refusal, serde_json::json!({"kind": "too_early", "from": "2024-06-05"}));
    }

    #[test]
    fn broken_rule_files_are_refused() {
        let cases = [
            (
                "decided_from = 2023-05-01\ndecided_before = 2026-04-01",
                "decided_from = 2023-05-02\ndecided_before = 2026-04-01",
                "gap",
            ),
            (
                "serious = { min = \"6 months\", max = \"3 years\" }",
                "serious = { min = \"4 years\", max = \"3 years\" }",
                "min",
            ),
            ("minor = { publish = false }", "minor = { publish = false, max = \"1 year\" }", "unpublished"),
            ("low_fine_max_wan = \"1\"", "low_fine_max_wan = \"一万\"", "low_fine_max_wan"),
            ("id = \"honour\"", "id = \"commitment\"", "duplicate"),
            ("schema = 1", "schema = 1\ncolour = \"red\"", "colour"),
            ("repair_after = \"3 months\"", "repair_after = \"6 months\"", "repair_after"),
            ("publish_due_workdays = 7\nmax = \"1 year\"", "publish_due_workdays = 7\nmax = \"1 decade\"", "max"),
            ("values = [\"A\"] }", "values = [] }", "public_if.values"),
        ];
        for (from, to, needle) in cases {
            assert!(BUNDLED_TOML.contains(from), "{from}");
            let text = BUNDLED_TOML.replacen(from, to, 1);
            let e = PublicationRules::from_toml(&text).unwrap_err();
            assert!(e.contains(needle), "{needle}: {e}");
        }
    }

    // ---- properties ---------------------------------------------------------

    const FIRST: Date = date!(2019 - 01 - 01);
    const DAYS: i64 = 365 * 8 + 2; // 2019-01-01 ..= 2026-12-31

    fn day(offset: i64) -> Date {
        FIRST + time::Duration::days(offset)
    }

    const TYPES: [&str; 7] =
        ["罚款", "警告", "通报批评", "警告；罚款", "罚款；没收违法所得", "吊销许可证件", "通报批评；罚款"];
    const TIERS: [&str; 4] = ["轻微", "一般", "严重", "特定严重"];

    fn prop_fields(
        decided: Date,
        samr: bool,
        types: usize,
        tier: usize,
        fine: u32,
        summary: bool,
        fire: bool,
    ) -> BTreeMap<String, String> {
        let fine = format!("{}.{:02}", fine / 100, fine % 100);
        let decided = date_string(decided);
        let mut extra = vec![("罚款金额(万元)", fine.as_str()), ("失信程度", TIERS[tier % 4])];
        if summary {
            extra.push(("处罚程序", "简易程序"));
        }
        if fire {
            extra.push(("违法事实", "消防设施未保持完好有效"));
        }
        penalty(&decided, if samr { SAMR } else { ENV }, TYPES[types % TYPES.len()], &extra)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn windows_are_consistent(
            decided in 0..DAYS,
            as_of in -400i64..2400,
            later in 1i64..2000,
            samr: bool,
            types in 0usize..7,
            tier in 0usize..4,
            fine in 0u32..300,
            summary in proptest::bool::weighted(0.1),
            fire in proptest::bool::weighted(0.2),
            revoked in proptest::option::weighted(0.3, -100i64..1500),
            repaired in proptest::option::weighted(0.3, 0i64..1500),
        ) {
            let decided = day(decided);
            let f = prop_fields(decided, samr, types, tier, fine, summary, fire);
            let facts = RecordFacts {
                revoked_on: revoked.map(|o| decided + time::Duration::days(o)),
                repaired_on: repaired.map(|o| decided + time::Duration::days(o)),
                ..RecordFacts::from_fields(item("admin_penalty"), &f)
            };
            let as_of = decided + time::Duration::days(as_of);
            let p = publicity(rules(), &facts, as_of);

            if p.public {
                prop_assert!(p.public_from.is_none_or(|f| f <= as_of), "{p:?}");
                prop_assert!(p.public_until.is_none_or(|u| as_of <= u), "{p:?}");
            }
            if p.public_until.is_some_and(|u| as_of > u) {
                prop_assert!(!p.public, "{p:?}");
            }
            if let Some(r) = p.repair_from {
                prop_assert!(p.public_from.is_some_and(|f| r >= f), "{p:?}");
                prop_assert!(p.public_until.is_none_or(|u| r <= u + time::Duration::days(1)), "{p:?}");
            }
            if p.public_from.is_some() {
                prop_assert_eq!(p.public_from, Some(decided));
            }
            // revoked: void from the start, on every day; repaired: from its day on
            if facts.revoked_on.is_some() || facts.repaired_on.is_some_and(|r| r <= as_of) {
                prop_assert!(!p.public, "{p:?}");
            }
            // expired stays expired
            if !p.public && p.public_until.is_some_and(|u| u < as_of) {
                let q = publicity(rules(), &facts, as_of + time::Duration::days(later));
                prop_assert!(!q.public, "{q:?}");
            }
            // the rule depends on the decision date (and the authority), nothing else
            let expected = rules().penalty_rule(&f, decided);
            prop_assert_eq!(&p.rule, expected);
            if !samr {
                prop_assert_eq!(&p.rule, rules().penalty_rule_set(decided));
            }
            let other = RecordFacts { tier: Some(Tier::Minor), revoked_on: None, repaired_on: None, ..facts };
            prop_assert_eq!(&publicity(rules(), &other, as_of + time::Duration::days(later)).rule, &p.rule);
            prop_assert!(!p.reason_zh.is_empty() && !p.reason_en.is_empty());
            // a repair application is refused exactly before repair_from
            match (p.repair_from, check_repair_application(&p, as_of)) {
                (Some(r), Ok(())) => prop_assert!(as_of >= r),
                (Some(r), Err(e)) => prop_assert_eq!(e.first_day(), Some(r)),
                (None, res) => prop_assert_eq!(res, Err(RepairRefusal::NotRepairable)),
            }
        }

        #[test]
        fn the_rule_set_follows_the_decision_date(decided in 0..DAYS, types in 0usize..7, tier in 0usize..4) {
            let decided = day(decided);
            let f = prop_fields(decided, false, types, tier, 50, false, false);
            let p = pen(&f, decided);
            let expected = if decided < date!(2023 - 05 - 01) {
                "gb-527-2019"
            } else if decided < date!(2026 - 04 - 01) {
                "ndrc-order-58"
            } else {
                "ndrc-order-36-2025"
            };
            prop_assert_eq!(p.rule.as_str(), expected);
        }

        #[test]
        fn other_items_are_consistent(
            listed in 0..DAYS,
            removed in proptest::option::of(0i64..2000),
            as_of in -400i64..3000,
        ) {
            let listed = day(listed);
            let as_of = listed + time::Duration::days(as_of);
            let it = item("abnormal_operation");
            let listed_s = date_string(listed);
            let removed_s = removed.map(|o| date_string(listed + time::Duration::days(o)));
            let mut pairs = vec![("列入日期", listed_s.as_str())];
            if let Some(r) = &removed_s {
                pairs.push(("移出日期", r.as_str()));
            }
            let f = fields(it, &pairs);
            let p = eval(it, &f, as_of);
            let expected = as_of >= listed && removed.is_none_or(|o| as_of < listed + time::Duration::days(o));
            prop_assert_eq!(p.public, expected, "{:?}", p);
            // leaving the list may be applied for from the day of listing
            prop_assert_eq!(p.repair_from, Some(listed));
        }
    }
}
