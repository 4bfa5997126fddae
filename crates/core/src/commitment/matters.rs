//! The list of matters a credit commitment may be used for (告知承诺事项清单), as
//! versioned data (`data/commitments/matters.toml`): for each, the accepting
//! department, the kind, the conditions promised, the text signed, the due date rule
//! in working days, and who may not use it (subjects on some lists, or with a broken
//! commitment still published) on what basis.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use time::Date;

use super::{CommitmentError, CommitmentKind};
use crate::calendar::{Deadline, WorkCalendar};
use crate::lists::ListRules;
use crate::record::date_string;

const MATTERS_TOML: &str = include_str!("../../../../data/commitments/matters.toml");

static BUNDLED: LazyLock<Result<Matters, String>> =
    LazyLock::new(|| Matters::from_toml(MATTERS_TOML, ListRules::bundled()));

/// A 容缺受理 matter's term when the file gives none (local practice: 3–7 working days).
pub const MISSING_MATERIALS_DEFAULT_DAYS: u32 = 5;

/// The placeholders a template may use.
pub const PLACEHOLDERS: [&str; 7] =
    ["{主体名称}", "{统一社会信用代码}", "{承诺事项}", "{受理单位}", "{承诺日期}", "{履约期限}", "{承诺条件}"];

/// One matter of the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Matter {
    /// 事项编码, e.g. `M-SAMR-0001`.
    pub code: String,
    pub name_zh: String,
    /// The accepting department (承诺受理单位).
    pub department: String,
    pub kind: CommitmentKind,
    /// What the subject promises (承诺条件).
    pub conditions: Vec<String>,
    /// The text signed, with placeholders.
    pub template: String,
    /// The term from signing, in working days (履约期限); none: no clock.
    pub due_working_days: Option<u32>,
    /// The matter's own processing deadline (办理时限): no promised date may pass it.
    pub processing_deadline_working_days: Option<u32>,
    /// List types whose entries in force exclude the subject.
    pub excluded_lists: Vec<String>,
    /// A breach record still published excludes the subject.
    pub exclude_after_breach: bool,
    /// The basis of the exclusion, cited with every refusal.
    pub basis: String,
    /// The truthfulness commitment of a voluntary registration (自愿注册): signed with
    /// the information registered, never alone.
    pub registration: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatter {
    code: String,
    name_zh: String,
    department: String,
    kind: CommitmentKind,
    #[serde(default)]
    conditions: Vec<String>,
    template: String,
    #[serde(default)]
    due_working_days: Option<u32>,
    #[serde(default)]
    processing_deadline_working_days: Option<u32>,
    #[serde(default)]
    excluded_lists: Option<Vec<String>>,
    #[serde(default)]
    exclude_after_breach: Option<bool>,
    #[serde(default)]
    basis: String,
    #[serde(default)]
    registration: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatters {
    schema: u32,
    version: String,
    matter: Vec<RawMatter>,
}

/// The validated list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Matters {
    /// The list's version (its date).
    pub version: String,
    pub matters: Vec<Matter>,
}

fn code_shape(code: &str) -> bool {
    let mut parts = code.split('-');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("M"), Some(dept), Some(n), None)
            if !dept.is_empty() && dept.bytes().all(|b| b.is_ascii_uppercase())
                && n.len() == 4 && n.bytes().all(|b| b.is_ascii_digit())
    )
}

/// Chinese numerals for the numbered conditions (一、二、…).
fn numeral(n: usize) -> String {
    const DIGITS: [&str; 10] = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        1..=9 => DIGITS[n].to_string(),
        10 => "十".to_string(),
        11..=19 => format!("十{}", DIGITS[n - 10]),
        _ => n.to_string(),
    }
}

impl Matters {
    /// The list shipped with this build, validated (an error names what is wrong).
    pub fn bundled() -> Result<&'static Matters, String> {
        BUNDLED.as_ref().map_err(Clone::clone)
    }

    /// Parses and validates: codes `M-<DEPT>-<nnnn>` and unique; a department, a name,
    /// a template using only known placeholders (and {履约期限} only with a term);
    /// conditions for the kinds that promise something by a date; a 容缺受理 term
    /// (default 5) within the matter's processing deadline; every list type excluded
    /// exists; an exclusion has its basis.
    pub fn from_toml(text: &str, lists: &ListRules) -> Result<Matters, String> {
        let raw: RawMatters =
            toml::from_str(text).map_err(|e| format!("承诺事项清单格式错误 / invalid matters file: {e}"))?;
        if raw.schema != 1 {
            return Err(format!("承诺事项清单版本 {} 不受支持 / unsupported schema {}", raw.schema, raw.schema));
        }
        if raw.version.trim().is_empty() {
            return Err("承诺事项清单须注明版本 / the matters file needs a version".into());
        }
        let mut seen = BTreeSet::new();
        let mut matters = Vec::with_capacity(raw.matter.len());
        for m in raw.matter {
            let bad = |msg: String| format!("承诺事项“{}” / matter {:?}: {msg}", m.code, m.code);
            if !code_shape(&m.code) {
                return Err(bad("编码应为 M-部门-四位数字 / the code must look like M-SAMR-0001".into()));
            }
            if !seen.insert(m.code.clone()) {
                return Err(bad("编码重复 / duplicate code".into()));
            }
            if m.name_zh.trim().is_empty() || m.department.trim().is_empty() {
                return Err(bad("缺少名称或受理单位 / name_zh and department are required".into()));
            }
            let needs_conditions = m.kind != CommitmentKind::Voluntary && m.kind != CommitmentKind::Industry;
            if m.conditions.iter().any(|c| c.trim().is_empty()) || (needs_conditions && m.conditions.is_empty()) {
                return Err(bad("承诺条件不能为空 / conditions must be given, none of them empty".into()));
            }
            let due = match (m.kind, m.due_working_days) {
                (CommitmentKind::MissingMaterials, None) => Some(MISSING_MATERIALS_DEFAULT_DAYS),
                (_, d) => d,
            };
            if due == Some(0) || m.processing_deadline_working_days == Some(0) {
                return Err(bad("期限至少 1 个工作日 / terms are at least one working day".into()));
            }
            match (m.kind, due, m.processing_deadline_working_days) {
                (CommitmentKind::MissingMaterials, _, None) => {
                    return Err(bad(
                        "容缺受理事项须注明办理时限 / a missing-materials matter needs processing_deadline_working_days"
                            .into(),
                    ));
                }
                (_, Some(d), Some(p)) if d > p => {
                    return Err(bad(format!(
                        "履约期限 {d} 个工作日超过办理时限 {p} 个工作日 / the term ({d} working days) passes the processing deadline ({p})"
                    )));
                }
                _ => {}
            }
            let mut rest = m.template.clone();
            for p in PLACEHOLDERS {
                rest = rest.replace(p, "");
            }
            if let Some(start) = rest.find('{') {
                let unknown: String = rest[start..].chars().take_while(|c| *c != '}').chain(['}']).collect();
                return Err(bad(format!("模板含未知占位符 {unknown} / unknown placeholder {unknown} in the template")));
            }
            for p in ["{主体名称}", "{统一社会信用代码}"] {
                if !m.template.contains(p) {
                    return Err(bad(format!("模板须含 {p} / the template must contain {p}")));
                }
            }
            if !m.conditions.is_empty() && !m.template.contains("{承诺条件}") {
                return Err(bad("模板须列出承诺条件 / the template must show {承诺条件}".into()));
            }
            if due.is_none() && m.template.contains("{履约期限}") {
                return Err(bad("无履约期限的事项不能使用 {履约期限} / {履约期限} needs due_working_days".into()));
            }
            let excluded_lists = m.excluded_lists.unwrap_or_else(|| {
                if m.kind.excludes_by_default() {
                    vec!["serious_dishonesty".to_string(), "dishonest_debtor".to_string()]
                } else {
                    Vec::new()
                }
            });
            if let Some(l) = excluded_lists.iter().find(|l| lists.list_type(l).is_none()) {
                return Err(bad(format!("未知名单类型 {l} / unknown list type {l:?}")));
            }
            if m.registration && (m.kind != CommitmentKind::Voluntary || due.is_some()) {
                return Err(bad(
                    "自愿注册的真实性承诺须为主动型、无履约期限 / a registration's commitment is voluntary, without a term"
                        .into(),
                ));
            }
            let exclude_after_breach = m.exclude_after_breach.unwrap_or_else(|| m.kind.excludes_by_default());
            if (!excluded_lists.is_empty() || exclude_after_breach) && m.basis.trim().is_empty() {
                return Err(bad("排除适用须注明依据 / an exclusion needs its basis".into()));
            }
            matters.push(Matter {
                code: m.code,
                name_zh: m.name_zh.trim().to_string(),
                department: m.department.trim().to_string(),
                kind: m.kind,
                conditions: m.conditions.iter().map(|c| c.trim().to_string()).collect(),
                template: m.template.trim().to_string(),
                due_working_days: due,
                processing_deadline_working_days: m.processing_deadline_working_days,
                excluded_lists,
                exclude_after_breach,
                basis: m.basis.trim().to_string(),
                registration: m.registration,
            });
        }
        if matters.iter().filter(|m| m.registration).count() > 1 {
            return Err("只能有一个自愿注册承诺事项 / at most one matter has registration = true".into());
        }
        Ok(Matters { version: raw.version, matters })
    }

    pub fn matter(&self, code: &str) -> Option<&Matter> {
        self.matters.iter().find(|m| m.code == code.trim())
    }

    /// The truthfulness commitment signed with a voluntary registration, if the list
    /// has one.
    pub fn registration(&self) -> Option<&Matter> {
        self.matters.iter().find(|m| m.registration)
    }
}

impl Matter {
    /// The due date of a commitment signed on `signed_on`: the term counted in working
    /// days on `calendar`, or the date the subject promises instead — not before
    /// signing, and never past the matter's processing deadline (or its term, when it
    /// has none). `None` for a matter without a term.
    pub fn due(
        &self,
        signed_on: Date,
        promised: Option<Date>,
        calendar: &WorkCalendar,
    ) -> Result<Option<Deadline>, CommitmentError> {
        let Some(term) = self.due_working_days else {
            return match promised {
                Some(_) => Err(CommitmentError::NoTerm),
                None => Ok(None),
            };
        };
        let Some(promised) = promised else { return Ok(Some(calendar.deadline(signed_on, term)?)) };
        if promised < signed_on {
            return Err(CommitmentError::BeforeSigning { on: date_string(promised), signed: date_string(signed_on) });
        }
        let latest = calendar.deadline(signed_on, self.processing_deadline_working_days.unwrap_or(term))?;
        if promised > latest.date {
            return Err(CommitmentError::PastProcessingDeadline {
                promised: date_string(promised),
                latest: date_string(latest.date),
            });
        }
        Ok(Some(Deadline { date: promised, provisional: promised.year() > calendar.years().1 }))
    }

    /// The text signed: the template with the subject, the matter, the dates and the
    /// numbered conditions filled in.
    pub fn render(&self, name: &str, code: &str, signed_on: Date, due: Option<Date>) -> String {
        let conditions: Vec<String> =
            self.conditions.iter().enumerate().map(|(i, c)| format!("{}、{c}。", numeral(i + 1))).collect();
        let due = due.map(|d| format!("{}年{}月{}日", d.year(), u8::from(d.month()), d.day()));
        self.template
            .replace("{主体名称}", name)
            .replace("{统一社会信用代码}", code)
            .replace("{承诺事项}", &self.name_zh)
            .replace("{受理单位}", &self.department)
            .replace("{承诺日期}", &date_string(signed_on))
            .replace("{履约期限}", due.as_deref().unwrap_or("（无）"))
            .replace("{承诺条件}", &conditions.join("\n"))
    }

    /// Whether the subject is excluded: the excluded list types it has entries of in
    /// force, and whether it has a breach still published (given by the caller, which
    /// reads the lists and records). `None`: it may use the matter.
    pub fn exclusion(&self, listed: &[&str], breach_published: bool) -> Option<Exclusion> {
        let lists: Vec<String> = self.excluded_lists.iter().filter(|l| listed.contains(&l.as_str())).cloned().collect();
        let breach = self.exclude_after_breach && breach_published;
        (!lists.is_empty() || breach).then(|| Exclusion { lists, breach, basis: self.basis.clone() })
    }
}

/// Why a subject may not use a matter's commitment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Exclusion {
    /// The list types it is on.
    pub lists: Vec<String>,
    /// It broke a commitment, and the breach record is still published.
    pub breach: bool,
    pub basis: String,
}

impl Exclusion {
    /// The reason in Chinese and English, naming the lists by their names and the basis.
    pub fn reason(&self, matter: &Matter, lists: &ListRules) -> (String, String) {
        let names = |zh: bool| -> Vec<String> {
            self.lists
                .iter()
                .map(|l| match lists.list_type(l) {
                    Some(t) if zh => t.name_zh.clone(),
                    Some(t) => t.name_en.clone(),
                    None => l.clone(),
                })
                .collect()
        };
        let mut zh = Vec::new();
        let mut en = Vec::new();
        if !self.lists.is_empty() {
            zh.push(format!("被列入{}", names(true).join("、")));
            en.push(format!("is on the {}", names(false).join(", ")));
        }
        if self.breach {
            zh.push("存在尚在公示期内的违背信用承诺记录".to_string());
            en.push("has a breach of a credit commitment still published".to_string());
        }
        (
            format!(
                "该主体{}，不适用“{}”的{}（依据：{}）",
                zh.join("，且"),
                matter.name_zh,
                matter.kind.name_zh(),
                self.basis
            ),
            format!(
                "the subject {} and may not use a commitment ({}) for {} (basis: {})",
                en.join(" and "),
                matter.kind.as_str(),
                matter.code,
                self.basis
            ),
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use time::macros::date;

    use super::*;

    fn matters() -> &'static Matters {
        Matters::bundled().unwrap()
    }

    #[test]
    fn the_bundled_list_loads_with_every_kind() {
        let m = matters();
        assert!(m.matters.len() >= 6);
        for k in CommitmentKind::ALL {
            assert!(m.matters.iter().any(|x| x.kind == k), "{k:?}");
        }
        let food = m.matter("M-SAMR-0001").unwrap();
        assert_eq!(food.excluded_lists, ["serious_dishonesty", "dishonest_debtor"], "the default");
        assert!(food.exclude_after_breach && food.basis.contains("国办发〔2020〕42号"));
        let voluntary = m.matters.iter().find(|x| x.kind == CommitmentKind::Voluntary).unwrap();
        assert!(voluntary.excluded_lists.is_empty() && !voluntary.exclude_after_breach);
        for x in m.matters.iter().filter(|x| x.kind == CommitmentKind::MissingMaterials) {
            assert!(x.due_working_days.unwrap() <= x.processing_deadline_working_days.unwrap(), "{}", x.code);
        }
    }

    #[test]
    fn due_dates_count_working_days_across_national_day() {
        let m = matters().matter("M-SAMR-0002").unwrap();
        let cal = WorkCalendar::official();
        // 2026-09-28 Mon + 5 working days: 09-29, 09-30, (10-01…10-07 off), 10-08, 10-09, 10-10 (adjusted Saturday)
        let due = m.due(date!(2026 - 09 - 28), None, cal).unwrap().unwrap();
        assert_eq!((due.date, due.provisional), (date!(2026 - 10 - 10), false));
        // the processing deadline (10 working days) bounds a promised date
        assert!(m.due(date!(2026 - 09 - 28), Some(date!(2026 - 10 - 16)), cal).is_ok());
        let e = m.due(date!(2026 - 09 - 28), Some(date!(2026 - 10 - 17)), cal).unwrap_err();
        assert_eq!(e.code(), "commitment.past_processing_deadline", "{e}");
        let e = m.due(date!(2026 - 09 - 28), Some(date!(2026 - 09 - 27)), cal).unwrap_err();
        assert_eq!(e.code(), "commitment.before_signing");
        let late = m.due(date!(2026 - 12 - 28), None, cal).unwrap().unwrap();
        assert!(late.provisional, "counted into 2027 by the statutory rule");
        let none = matters().matter("M-FGW-0001").unwrap();
        assert_eq!(none.due(date!(2026 - 09 - 28), None, cal).unwrap(), None);
        assert_eq!(
            none.due(date!(2026 - 09 - 28), Some(date!(2026 - 10 - 01)), cal).unwrap_err().code(),
            "commitment.no_term"
        );
    }

    #[test]
    fn the_text_signed_names_the_subject_the_conditions_and_the_date() {
        let m = matters().matter("M-SAMR-0002").unwrap();
        let t =
            m.render("北京测试科技有限公司", "91110108551385082Q", date!(2026 - 09 - 28), Some(date!(2026 - 10 - 10)));
        assert!(t.contains("北京测试科技有限公司（统一社会信用代码：91110108551385082Q）"), "{t}");
        assert!(t.contains("一、于履约期限前补齐") && t.contains("二、补交的材料"), "{t}");
        assert!(t.contains("2026年10月10日") && t.contains("2026-09-28"), "{t}");
        assert!(!t.contains('{'), "{t}");
    }

    #[test]
    fn exclusions_name_the_lists_and_the_basis() {
        let m = matters().matter("M-SAMR-0001").unwrap();
        assert!(m.exclusion(&["red_list"], false).is_none());
        let e = m.exclusion(&["serious_dishonesty", "red_list"], true).unwrap();
        assert_eq!(e.lists, ["serious_dishonesty"]);
        let (zh, en) = e.reason(m, ListRules::bundled());
        assert!(
            zh.contains("严重失信主体名单") && zh.contains("违背信用承诺") && zh.contains("国办发〔2020〕42号"),
            "{zh}"
        );
        assert!(en.contains("Seriously dishonest") && en.contains("M-SAMR-0001"), "{en}");
    }

    #[test]
    fn broken_lists_are_refused() {
        let lists = ListRules::bundled();
        let refuse = |from: &str, to: &str, says: &str| {
            let text = MATTERS_TOML.replacen(from, to, 1);
            assert_ne!(text, MATTERS_TOML, "{from}");
            let e = Matters::from_toml(&text, lists).unwrap_err();
            assert!(e.contains(says), "{e}");
        };
        refuse("code = \"M-SAMR-0002\"", "code = \"M-SAMR-0001\"", "duplicate");
        refuse("code = \"M-SAMR-0001\"", "code = \"SAMR-1\"", "M-SAMR-0001");
        refuse("processing_deadline_working_days = 10", "processing_deadline_working_days = 3", "passes");
        refuse("processing_deadline_working_days = 10", "", "processing_deadline_working_days");
        refuse("{主体名称}（", "{主体}（", "{主体}");
        refuse(
            "kind = \"approval_replacing\"",
            "kind = \"approval_replacing\"\nexcluded_lists = [\"no_such\"]",
            "no_such",
        );
        refuse("kind = \"voluntary\"", "kind = \"voluntary\"\nregistration = true", "at most one");
        refuse(
            "kind = \"voluntary\"\nregistration = true",
            "kind = \"voluntary\"\nregistration = true\ndue_working_days = 5",
            "without a term",
        );
        assert_eq!(matters().registration().map(|m| m.code.as_str()), Some("M-FGW-0003"));
    }
}
