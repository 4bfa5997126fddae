//! Credit reports (信用报告): which sections a report of each kind has, in the order
//! they are printed, what fills each, and the domains (领域) a special report may be
//! limited to. The rules are data (`data/reports/reports.toml`); assembling and signing
//! a report is `app::reports`, rendering and offline verification `xinyong-report`.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use time::Date;

const RULES_TOML: &str = include_str!("../../../data/reports/reports.toml");

/// The kind of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// 信用报告: what the public may see of the entity on the day, in 信用中国's order.
    Standard,
    /// 专项信用报告: replaces no-violation certificates (无违法违规记录证明); penalties
    /// (simple procedure included), enforcement, serious dishonesty and criminal
    /// judgments of a chosen period and domains, published or not.
    Special,
}

impl ReportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Standard => "standard",
            ReportKind::Special => "special",
        }
    }

    pub fn parse(s: &str) -> Option<ReportKind> {
        [ReportKind::Standard, ReportKind::Special].into_iter().find(|k| k.as_str() == s)
    }

    pub fn title_zh(self) -> &'static str {
        match self {
            ReportKind::Standard => "信用报告",
            ReportKind::Special => "专项信用报告（替代有无违法违规记录证明）",
        }
    }

    pub fn title_en(self) -> &'static str {
        match self {
            ReportKind::Standard => "Credit report",
            ReportKind::Special => "Special credit report (in place of no-violation certificates)",
        }
    }
}

/// One section of a report kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionRule {
    pub key: String,
    pub title_zh: String,
    pub title_en: String,
    /// Catalog items whose records fill the section.
    #[serde(default)]
    pub items: Vec<String>,
    /// List types whose entries fill the section.
    #[serde(default)]
    pub lists: Vec<String>,
    /// Filled with repair advice on the report's negative records.
    #[serde(default)]
    pub advice: bool,
}

/// A domain (领域) of a special report: the departments that belong to it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Domain {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// A department belongs when its name contains one of these.
    pub departments: Vec<String>,
}

impl Domain {
    pub fn covers(&self, department: &str) -> bool {
        self.departments.iter().any(|d| department.contains(d.as_str()))
    }
}

/// The report rules of this build.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportRules {
    pub empty_zh: String,
    pub empty_en: String,
    pub standard: Vec<SectionRule>,
    pub special: Vec<SectionRule>,
    #[serde(rename = "domain")]
    pub domains: Vec<Domain>,
}

#[derive(Debug, thiserror::Error)]
#[error("data/reports/reports.toml: {0}")]
pub struct ReportRulesError(String);

impl ReportRules {
    pub fn parse(text: &str) -> Result<ReportRules, ReportRulesError> {
        let rules: ReportRules = toml::from_str(text).map_err(|e| ReportRulesError(e.to_string()))?;
        for (kind, sections) in [("standard", &rules.standard), ("special", &rules.special)] {
            let mut keys = std::collections::BTreeSet::new();
            for s in sections {
                if !keys.insert(s.key.as_str()) {
                    return Err(ReportRulesError(format!("{kind}: section {} appears twice", s.key)));
                }
            }
        }
        let mut codes = std::collections::BTreeSet::new();
        for d in &rules.domains {
            if !codes.insert(d.code.as_str()) || d.departments.iter().any(String::is_empty) {
                return Err(ReportRulesError(format!("domain {}: repeated, or an empty department", d.code)));
            }
        }
        Ok(rules)
    }

    /// The rules shipped with this build (checked by this module's tests).
    pub fn bundled() -> &'static ReportRules {
        static RULES: OnceLock<ReportRules> = OnceLock::new();
        RULES.get_or_init(|| {
            ReportRules::parse(RULES_TOML).unwrap_or_else(|e| ReportRules {
                // unreachable in a tested build; an empty rule set prints empty reports
                empty_zh: e.to_string(),
                empty_en: e.to_string(),
                standard: Vec::new(),
                special: Vec::new(),
                domains: Vec::new(),
            })
        })
    }

    pub fn sections(&self, kind: ReportKind) -> &[SectionRule] {
        match kind {
            ReportKind::Standard => &self.standard,
            ReportKind::Special => &self.special,
        }
    }

    pub fn domain(&self, code: &str) -> Option<&Domain> {
        self.domains.iter().find(|d| d.code == code)
    }

    /// Whether a record of `department` belongs in a report limited to `chosen`
    /// domains (none chosen: every record).
    pub fn in_domains(&self, department: &str, chosen: &[&Domain]) -> bool {
        chosen.is_empty() || chosen.iter().any(|d| d.covers(department))
    }
}

/// A report's period, both days inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub from: Date,
    pub to: Date,
}

impl Period {
    /// `from ≤ to ≤ today`; a report cannot speak of days to come.
    pub fn new(from: Date, to: Date, today: Date) -> Result<Period, String> {
        if from > to {
            return Err(format!("period starts {from} after it ends {to}"));
        }
        if to > today {
            return Err(format!("period ends {to}, after today {today}"));
        }
        Ok(Period { from, to })
    }

    /// The default period: the three years up to `today` [U: 信用中国 prints the
    /// records in their publication windows, the longest of which is three years].
    pub fn default_until(today: Date) -> Period {
        let from =
            today.replace_year(today.year() - 3).unwrap_or_else(|_| today.saturating_sub(time::Duration::days(1095)));
        Period { from, to: today }
    }

    pub fn contains(&self, day: Date) -> bool {
        self.from <= day && day <= self.to
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::Catalog;
    use crate::lists::ListRules;
    use proptest::prelude::*;

    #[test]
    fn bundled_rules_name_known_items_and_lists() {
        let rules = ReportRules::parse(RULES_TOML).unwrap();
        let catalog = Catalog::bundled().unwrap();
        let lists = ListRules::bundled();
        for s in rules.standard.iter().chain(&rules.special) {
            for i in &s.items {
                assert!(catalog.item(i).is_some(), "section {} names unknown item {i}", s.key);
            }
            for l in &s.lists {
                assert!(lists.list_type(l).is_some(), "section {} names unknown list {l}", s.key);
            }
        }
        let keys: Vec<&str> = rules.special.iter().map(|s| s.key.as_str()).collect();
        // 发改财金〔2025〕565号: at least these four
        assert_eq!(keys, ["penalty", "enforcement", "serious_dishonesty", "criminal"]);
        let titles: Vec<&str> = rules.standard.iter().map(|s| s.title_zh.as_str()).collect();
        assert_eq!(titles[0], "行政管理信息");
        assert_eq!(titles.last().copied(), Some("地方补充信息"));
    }

    #[test]
    fn domains_cover_departments_by_name() {
        let rules = ReportRules::bundled();
        let tax = rules.domain("tax").unwrap();
        assert!(tax.covers("国家税务总局北京市海淀区税务局"));
        assert!(!tax.covers("北京市海淀区市场监督管理局"));
        assert!(rules.in_domains("北京市海淀区市场监督管理局", &[]));
        assert!(!rules.in_domains("北京市海淀区市场监督管理局", &[tax]));
    }

    #[test]
    fn repeated_sections_are_refused() {
        let text = "empty_zh='a'\nempty_en='b'\nspecial=[]\ndomain=[]\n[[standard]]\nkey='x'\ntitle_zh='x'\ntitle_en='x'\n[[standard]]\nkey='x'\ntitle_zh='y'\ntitle_en='y'\n";
        assert!(ReportRules::parse(text).unwrap_err().to_string().contains("twice"));
    }

    proptest! {
        #[test]
        fn a_period_holds_exactly_its_days(a in 0i64..4000, b in 0i64..4000, d in 0i64..4000) {
            let base = time::macros::date!(2019 - 01 - 01);
            let day = |n: i64| base + time::Duration::days(n);
            let today = day(4000);
            match Period::new(day(a), day(b), today) {
                Ok(p) => {
                    prop_assert!(a <= b);
                    prop_assert_eq!(p.contains(day(d)), a <= d && d <= b);
                }
                Err(_) => prop_assert!(a > b),
            }
            let p = Period::default_until(today);
            prop_assert!(p.contains(today) && !p.contains(today + time::Duration::days(1)));
        }
    }
}
