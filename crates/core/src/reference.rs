//! Names for the codes registrations carry, so pages say 北京市海淀区 and 软件开发
//! instead of 110108 and 651: GB/T 2260 administrative divisions (the Ministry of
//! Civil Affairs' list of codes in use on 2024-12-31, plus codes retired since 2000,
//! which older registrations and USCCs still carry) and GB/T 4754-2017 industries
//! (门类, 大类, 中类, 小类). The tables are `data/reference/*.csv`, compiled in; each
//! file's header says its source and version (`scripts/gen-reference.py` rebuilds them).

use std::collections::HashMap;
use std::sync::LazyLock;

const DIVISIONS_CSV: &str = include_str!("../../../data/reference/divisions.csv");
const DIVISIONS_RETIRED_CSV: &str = include_str!("../../../data/reference/divisions_retired.csv");
const INDUSTRIES_CSV: &str = include_str!("../../../data/reference/industries.csv");

static DIVISIONS: LazyLock<Divisions> =
    LazyLock::new(|| match Divisions::parse(DIVISIONS_CSV, DIVISIONS_RETIRED_CSV) {
        Ok(d) => d,
        // fixed at compile time and parsed by the tests below
        Err(e) => panic!("bundled data/reference/divisions*.csv is invalid: {e}"),
    });

static INDUSTRIES: LazyLock<Industries> = LazyLock::new(|| match Industries::parse(INDUSTRIES_CSV) {
    Ok(i) => i,
    Err(e) => panic!("bundled data/reference/industries.csv is invalid: {e}"),
});

/// One administrative division (county level or above).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Division {
    /// Its own name, e.g. 海淀区 (for a retired code: the full name it had).
    pub name: String,
    /// With its province and prefecture, e.g. 北京市海淀区, 湖北省仙桃市.
    pub full_name: String,
    /// The year its code went out of use, for a retired code.
    pub retired: Option<u16>,
}

/// One class of GB/T 4754-2017.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Industry {
    /// `I` (门类), `65` (大类), `651` (中类) or `6513` (小类).
    pub code: String,
    /// The 门类 letter the class belongs to.
    pub section: char,
    pub name: String,
}

/// The division a 6-digit GB/T 2260 code names, current or retired.
pub fn division(code: &str) -> Option<&'static Division> {
    DIVISIONS.by_code.get(code.trim())
}

/// The full name of a division code, e.g. `110105` → 北京市朝阳区; `None` for a code
/// the tables do not know.
pub fn division_name(code: &str) -> Option<&'static str> {
    division(code).map(|d| d.full_name.as_str())
}

/// The industry class a GB/T 4754 code names. Accepts the forms registrations use:
/// the letter alone (`I`), the digits (`65`, `651`, `6513`) or letter and digits
/// (`I6513`, the letter must be the class's own).
pub fn industry(code: &str) -> Option<&'static Industry> {
    let code = code.trim();
    let mut chars = code.chars();
    let first = chars.next()?.to_ascii_uppercase();
    if first.is_ascii_alphabetic() && code.len() > 1 {
        let class = INDUSTRIES.by_code.get(chars.as_str())?;
        return (class.code.len() > 1 && class.section == first).then_some(class);
    }
    if first.is_ascii_alphabetic() {
        return INDUSTRIES.by_code.get(first.to_string().as_str());
    }
    INDUSTRIES.by_code.get(code)
}

/// The name of an industry code, e.g. `I` → 信息传输、软件和信息技术服务业,
/// `6513` → 应用软件开发; `None` for a code the table does not know.
pub fn industry_name(code: &str) -> Option<&'static str> {
    industry(code).map(|i| i.name.as_str())
}

/// Every division code in the tables (current and retired).
pub fn division_codes() -> impl Iterator<Item = &'static str> {
    DIVISIONS.by_code.keys().map(String::as_str)
}

/// Every industry code in the table.
pub fn industry_codes() -> impl Iterator<Item = &'static str> {
    INDUSTRIES.by_code.keys().map(String::as_str)
}

/// Data rows of a bundled CSV: `#` comments and the header line left out, with their
/// 1-based line numbers. Values never contain commas or quotes (the generator checks).
fn rows<'a>(csv: &'a str, header: &str) -> Result<impl Iterator<Item = (usize, Vec<&'a str>)>, String> {
    let mut lines = csv.lines().enumerate().filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty());
    match lines.next() {
        Some((_, h)) if h.trim() == header => {}
        other => return Err(format!("header should be `{header}`, found {:?}", other.map(|(_, h)| h))),
    }
    Ok(lines.map(|(i, l)| (i + 1, l.trim_end().split(',').collect())))
}

struct Divisions {
    by_code: HashMap<String, Division>,
}

impl Divisions {
    fn parse(current: &str, retired: &str) -> Result<Divisions, String> {
        let mut names: Vec<(String, String)> = Vec::new();
        for (line, cols) in rows(current, "code,name")? {
            let [code, name] = cols[..] else { return Err(format!("divisions.csv line {line}: two columns expected")) };
            if !is_division_code(code) || name.is_empty() {
                return Err(format!("divisions.csv line {line}: `{code}` is not a 6-digit code with a name"));
            }
            names.push((code.to_string(), name.to_string()));
        }
        let own: HashMap<&str, &str> = names.iter().map(|(c, n)| (c.as_str(), n.as_str())).collect();
        let mut by_code = HashMap::with_capacity(names.len() + 1000);
        for (code, name) in &names {
            let province = format!("{}0000", &code[..2]);
            let prefecture = format!("{}00", &code[..4]);
            let Some(p) = own.get(province.as_str()) else {
                return Err(format!("divisions.csv: {code} has no province {province}"));
            };
            let mut full = String::new();
            if *code != province {
                full.push_str(p);
                // counties under a 直辖市 or directly under a province have no prefecture row
                if *code != prefecture
                    && let Some(pre) = own.get(prefecture.as_str())
                {
                    full.push_str(pre);
                }
            }
            full.push_str(name);
            let d = Division { name: name.clone(), full_name: full, retired: None };
            if by_code.insert(code.clone(), d).is_some() {
                return Err(format!("divisions.csv: {code} twice"));
            }
        }
        for (line, cols) in rows(retired, "code,full_name,retired")? {
            let [code, full, year] = cols[..] else {
                return Err(format!("divisions_retired.csv line {line}: three columns expected"));
            };
            let year: u16 = year.parse().map_err(|_| format!("divisions_retired.csv line {line}: year `{year}`"))?;
            if !is_division_code(code) || full.is_empty() {
                return Err(format!("divisions_retired.csv line {line}: `{code}` is not a 6-digit code with a name"));
            }
            let d = Division { name: full.to_string(), full_name: full.to_string(), retired: Some(year) };
            if by_code.insert(code.to_string(), d).is_some() {
                return Err(format!("divisions_retired.csv: {code} is also in use or listed twice"));
            }
        }
        Ok(Divisions { by_code })
    }
}

fn is_division_code(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) && !code.starts_with('0')
}

struct Industries {
    by_code: HashMap<String, Industry>,
}

impl Industries {
    fn parse(csv: &str) -> Result<Industries, String> {
        let mut by_code: HashMap<String, Industry> = HashMap::new();
        for (line, cols) in rows(csv, "code,section,name")? {
            let [code, section, name] = cols[..] else {
                return Err(format!("industries.csv line {line}: three columns expected"));
            };
            let mut s = section.chars();
            let (Some(section), None) = (s.next(), s.next()) else {
                return Err(format!("industries.csv line {line}: section `{section}`"));
            };
            let letter = code.len() == 1 && code.chars().all(|c| c.is_ascii_uppercase());
            let digits = (2..=4).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit());
            if !(letter && code.starts_with(section) || digits) || !section.is_ascii_uppercase() || name.is_empty() {
                return Err(format!("industries.csv line {line}: `{code}`"));
            }
            // a class sits inside its parent, which comes first (中类 651 after 大类 65)
            if digits {
                let parent = if code.len() == 2 { section.to_string() } else { code[..code.len() - 1].to_string() };
                match by_code.get(&parent) {
                    Some(p) if p.section == section => {}
                    _ => {
                        return Err(format!(
                            "industries.csv line {line}: {code} before or outside its parent {parent}"
                        ));
                    }
                }
            }
            let class = Industry { code: code.to_string(), section, name: name.to_string() };
            if by_code.insert(code.to_string(), class).is_some() {
                return Err(format!("industries.csv: {code} twice"));
            }
        }
        Ok(Industries { by_code })
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn known_divisions_have_their_full_names() {
        assert_eq!(division_name("110000"), Some("北京市"));
        assert_eq!(division_name("110105"), Some("北京市朝阳区"));
        assert_eq!(division_name("110108"), Some("北京市海淀区"));
        assert_eq!(division_name("330106"), Some("浙江省杭州市西湖区"));
        assert_eq!(division_name("330100"), Some("浙江省杭州市"));
        // directly under the province: no prefecture between
        assert_eq!(division_name("429004"), Some("湖北省仙桃市"));
        assert_eq!(division_name("500229"), Some("重庆市城口县"));
        assert_eq!(division_name(" 440305 "), Some("广东省深圳市南山区"));
        assert_eq!(division("110108").map(|d| d.name.as_str()), Some("海淀区"));
    }

    #[test]
    fn retired_codes_keep_the_name_they_had() {
        let d = division("110103").expect("崇文区");
        assert_eq!((d.full_name.as_str(), d.retired), ("北京市崇文区", Some(2010)));
        assert_eq!(division("110105").and_then(|d| d.retired), None);
    }

    #[test]
    fn unknown_division_codes_are_none() {
        for code in ["", "110199", "999999", "11010", "1101050", "abcdef", "000000"] {
            assert_eq!(division_name(code), None, "{code}");
        }
    }

    #[test]
    fn every_bundled_division_parses_with_its_province_first() {
        let d = Divisions::parse(DIVISIONS_CSV, DIVISIONS_RETIRED_CSV).expect("bundled divisions parse");
        let current = d.by_code.values().filter(|d| d.retired.is_none()).count();
        // 34 provincial units, ~333 prefectures, ~2 846 counties (2024)
        assert!((3_100..3_400).contains(&current), "{current}");
        for (code, div) in &d.by_code {
            let province = &d.by_code[&format!("{}0000", &code[..2])];
            assert!(div.full_name.starts_with(&province.full_name) || div.retired.is_some(), "{code} {div:?}");
            assert_eq!(division_name(code), Some(div.full_name.as_str()));
        }
        assert_eq!(division_codes().count(), d.by_code.len());
    }

    #[test]
    fn known_industries_by_every_form_of_code() {
        assert_eq!(industry_name("I"), Some("信息传输、软件和信息技术服务业"));
        assert_eq!(industry_name("i"), Some("信息传输、软件和信息技术服务业"));
        assert_eq!(industry_name("65"), Some("软件和信息技术服务业"));
        assert_eq!(industry_name("651"), Some("软件开发"));
        assert_eq!(industry_name("6513"), Some("应用软件开发"));
        assert_eq!(industry_name("I6513"), Some("应用软件开发"));
        assert_eq!(industry_name("M"), Some("科学研究和技术服务业"));
        assert_eq!(industry_name("58"), Some("多式联运和运输代理业"));
        // a 中类 with a single 小类 shares its name
        assert_eq!(industry_name("022"), Some("造林和更新"));
        assert_eq!(industry("3741").map(|i| (i.section, i.name.as_str())), Some(('C', "飞机制造")));
    }

    #[test]
    fn unknown_industry_codes_are_none() {
        // C6513: 6513 is not manufacturing; 9999, 66666, Z and an empty code do not exist
        for code in ["", "Z", "C6513", "9999", "66666", "6", "信息技术", "II"] {
            assert_eq!(industry_name(code), None, "{code}");
        }
    }

    #[test]
    fn every_bundled_industry_parses_and_counts_as_the_standard() {
        let t = Industries::parse(INDUSTRIES_CSV).expect("bundled industries parse");
        let count = |n: usize| t.by_code.keys().filter(|c| c.len() == n).count();
        // 20 门类 (one letter each), 97 大类, 473 中类; 小类: see the file's header
        assert_eq!((count(1), count(2), count(3)), (20, 97, 473));
        assert!((1_380..=1_382).contains(&count(4)), "{}", count(4));
        for (code, class) in &t.by_code {
            assert_eq!(industry(code), Some(class));
            if code.len() > 1 {
                assert_eq!(industry(&format!("{}{code}", class.section)), Some(class));
            }
        }
        assert_eq!(industry_codes().count(), t.by_code.len());
    }

    proptest::proptest! {
        // lookups take codes straight from imported rows: any text answers, never panics,
        // and a name found for a code is found again with spaces around it
        #[test]
        fn any_text_looks_up_without_panicking(
            code in "\\PC{0,8}",
            digits in proptest::sample::select(division_codes().collect::<Vec<_>>()),
            class in "[A-Ua-u]?[0-9]{0,4}",
        ) {
            let _ = (division_name(&code), industry_name(&code));
            if let Some(name) = division_name(digits) {
                proptest::prop_assert_eq!(division_name(&format!(" {digits}\t")), Some(name));
                let province = division_name(&format!("{}0000", &digits[..2]));
                let retired = division(digits).is_some_and(|d| d.retired.is_some());
                proptest::prop_assert!(province.is_some_and(|p| name.starts_with(p)) || retired);
            }
            if let Some(i) = industry(&class) {
                proptest::prop_assert_eq!(industry(&format!(" {class} ")), Some(i));
                proptest::prop_assert!(class.to_ascii_uppercase().ends_with(&i.code));
            }
        }
    }

    #[test]
    fn malformed_tables_are_refused() {
        assert!(Divisions::parse("code,name\n110105,朝阳区\n", "code,full_name,retired\n").is_err(), "no province");
        assert!(Divisions::parse("code,name\n110000,北京市\n11010,x\n", "code,full_name,retired\n").is_err());
        assert!(Divisions::parse("name,code\n", "code,full_name,retired\n").is_err());
        assert!(
            Divisions::parse("code,name\n110000,北京市\n", "code,full_name,retired\n110000,北京市,2010\n").is_err(),
            "a retired code that is in use"
        );
        assert!(Industries::parse("code,section,name\n65,I,软件\n").is_err(), "大类 before its 门类");
        assert!(Industries::parse("code,section,name\nI,I,信息\n651,I,软件开发\n").is_err(), "中类 without 大类");
        assert!(Industries::parse("code,section,name\nI,I,信息\n65,C,软件\n").is_err(), "wrong section");
        assert!(Industries::parse("code,section,name\nI,I,信息\n65,I,软件\n").is_ok());
    }
}
