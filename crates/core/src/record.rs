//! Validation of one incoming row against its catalog item: the pure half of intake.
//! A row either becomes a [`ValidRecord`] (values normalised) or a list of
//! [`FieldError`]s that say, in Chinese and English, which field broke which rule.

use std::collections::BTreeMap;

use serde::Serialize;
use time::Date;

use crate::catalog::{FieldDef, FieldType, Item, Tier};
use crate::codes::{CodeError, ResidentId, SubjectCode, SubjectKind, Uscc, fullwidth_to_ascii, normalize_code};
use crate::documents::{DocType, Identified, LegacyId, LegacyScheme};

/// One refused field (or the row as a whole when `field` is empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub field: String,
    pub rule: String,
    pub zh: String,
    pub en: String,
}

impl FieldError {
    pub fn new(field: &str, rule: &str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        FieldError { field: field.to_string(), rule: rule.to_string(), zh: zh.into(), en: en.into() }
    }

    fn code(field: &str, e: &CodeError) -> Self {
        let text = e.to_string();
        let (zh, en) = text.split_once(" / ").unwrap_or((&text, &text));
        FieldError::new(field, &format!("code.{}", e.rule()), zh, en)
    }

    /// A document number refused by its type's rule; the message names field and type.
    fn document(field: &str, doc: DocType, e: &CodeError) -> Self {
        let text = e.to_string();
        let (zh, en) = text.split_once(" / ").unwrap_or((&text, &text));
        FieldError::new(
            field,
            &format!("code.{}", e.rule()),
            format!("“{field}”（{}）：{zh}", doc.name_zh()),
            format!("'{field}' ({}): {en}", doc.name_en()),
        )
    }
}

/// What a registration row says about its subject.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SubjectInfo {
    pub former_names: Vec<String>,
    pub legal_rep_name: Option<String>,
    /// Full resident ID, for matching only.
    pub legal_rep_id: Option<String>,
    pub division: Option<String>,
    pub industry: Option<String>,
    /// Old identifiers (工商注册号, 组织机构代码, 税务登记号) the registration carries.
    pub identifiers: Vec<LegacyId>,
}

/// A row that passed every rule of its item, with normalised values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRecord {
    pub subject: SubjectCode,
    pub subject_name: String,
    pub item: String,
    /// Identity within provider + item: the item's key fields joined by U+001F.
    pub key: String,
    pub decision_date: Option<Date>,
    pub tier: Option<Tier>,
    /// Non-empty fields by catalog name.
    pub fields: BTreeMap<String, String>,
    /// Set for the registration item.
    pub subject_info: Option<SubjectInfo>,
}

impl ValidRecord {
    pub fn subject_kind(&self) -> SubjectKind {
        self.subject.kind()
    }
}

/// A row that passed every rule but names its subject only by an old identifier
/// (工商注册号, 组织机构代码, 税务登记号): intake looks up the subject whose registration
/// carries it ([`Unattached::attach`]) or quarantines the row ([`unregistered`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unattached {
    pub legacy: LegacyId,
    fields: BTreeMap<String, String>,
}

impl Unattached {
    /// The record, attached to `subject` (found by the identifier).
    pub fn attach(self, item: &Item, subject: SubjectCode) -> ValidRecord {
        finish(item, self.fields, subject)
    }
}

/// A validated row: a record with its subject, or one still to attach.
#[derive(Debug, Clone, PartialEq, Eq)]
// the large variant is nearly every row: boxing it would add an allocation per row
#[allow(clippy::large_enum_variant)]
pub enum Validated {
    Record(ValidRecord),
    Unattached(Unattached),
}

/// Validates one row. `values[i]` is the raw text of `item.fields[i]` (`None` when the
/// file has no such column). `today` bounds decision dates: a decision cannot lie in
/// the future. A row naming its subject only by an old identifier is refused here (it
/// needs the store): intake uses [`validate_row`].
pub fn validate(item: &Item, values: &[Option<&str>], today: Date) -> Result<ValidRecord, Vec<FieldError>> {
    match validate_row(item, values, today)? {
        Validated::Record(r) => Ok(r),
        Validated::Unattached(u) => {
            let field = item.document.as_ref().map_or(item.subject_code_field.as_str(), |d| d.number_field.as_str());
            Err(vec![FieldError::new(
                field,
                "identity.legacy_only",
                format!("仅载有{}的记录须经归集匹配其登记主体，请填写统一社会信用代码", u.legacy),
                format!(
                    "a record carrying only a {} ({}) is attached by intake; give the unified social credit code",
                    u.legacy.scheme.name_en(),
                    u.legacy.value
                ),
            )])
        }
    }
}

/// Validates one row like [`validate`]; a row naming its subject only by an old
/// identifier comes back [`Validated::Unattached`].
pub fn validate_row(item: &Item, values: &[Option<&str>], today: Date) -> Result<Validated, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut fields = BTreeMap::new();
    let mut subject = None;
    // the code cell is filled (valid or not): then it, not a document, names the subject
    let mut code_given = false;
    for (i, def) in item.fields.iter().enumerate() {
        let raw = values.get(i).copied().flatten().unwrap_or("");
        let value = normalize_value(def, raw);
        if def.name == item.subject_code_field {
            code_given = !matches!(value, Ok(None));
        }
        match value {
            Ok(None) if def.required => errors.push(FieldError::new(
                &def.name,
                "required",
                format!("必填字段“{}”为空", def.name),
                format!("required field '{}' ({}) is empty", def.name, def.en),
            )),
            Ok(None) => {}
            Ok(Some(v)) => {
                if def.name == item.subject_code_field {
                    match SubjectCode::parse(&v) {
                        Ok(c) => subject = Some(c),
                        Err(e) => errors.extend(e.iter().map(|e| FieldError::code(&def.name, e))),
                    }
                }
                if Some(&def.name) == item.decision_date_field.as_ref() && v.as_str() > date_string(today).as_str() {
                    errors.push(FieldError::new(
                        &def.name,
                        "date.future",
                        format!("决定日期 {v} 晚于今天"),
                        format!("decision date {v} is in the future"),
                    ));
                }
                fields.insert(def.name.clone(), v);
            }
            Err(e) => errors.extend(e),
        }
    }
    let document = item.document.as_ref().and_then(|d| document_of(d, &mut fields, &mut errors));
    let source = match (subject, document) {
        (Some(c), _) => Some(Identified::Subject(c)),
        (None, Some(d)) if !code_given => Some(d),
        _ => None,
    };
    if source.is_none() && !code_given && item.document.is_some() {
        let (code, doc) = (&item.subject_code_field, item.document.as_ref());
        let (t, n) = doc.map_or(("", ""), |d| (d.type_field.as_str(), d.number_field.as_str()));
        if !errors.iter().any(|e| e.field == *t || e.field == *n) {
            errors.push(FieldError::new(
                code,
                "required",
                format!("“{code}”为空，且未填写“{t}”和“{n}”：须其一指明主体"),
                format!("'{code}' is empty and no '{t}' + '{n}' are given: one of them must name the subject"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    match source {
        Some(Identified::Subject(subject)) => Ok(Validated::Record(finish(item, fields, subject))),
        Some(Identified::Legacy(legacy)) => Ok(Validated::Unattached(Unattached { legacy, fields })),
        // unreachable for a checked catalog (the code field is required or a document
        // names the subject), kept as an error, not a panic
        None => {
            Err(vec![FieldError::new(&item.subject_code_field, "required", "缺少主体代码", "missing subject code")])
        }
    }
}

/// The subject a row's 证件类型 + 证件号码 name, validating the number by its type and
/// storing it normalised; `None` when the row gives neither (or an error was pushed).
fn document_of(
    d: &crate::catalog::DocumentFields,
    fields: &mut BTreeMap<String, String>,
    errors: &mut Vec<FieldError>,
) -> Option<Identified> {
    let (tf, nf) = (&d.type_field, &d.number_field);
    match (fields.get(tf), fields.get(nf)) {
        (None, None) => None,
        (Some(_), None) | (None, Some(_)) => {
            let missing = if fields.contains_key(tf) { nf } else { tf };
            errors.push(FieldError::new(
                missing,
                "document.pair",
                format!("“{tf}”与“{nf}”须同时填写：缺少“{missing}”"),
                format!("'{tf}' and '{nf}' go together: '{missing}' is missing"),
            ));
            None
        }
        (Some(t), Some(n)) => {
            let Some(doc) = DocType::from_zh(t) else {
                // the catalog only lists known types; kept as an error, not a panic
                errors.push(FieldError::new(
                    tf,
                    "enum",
                    format!("未知证件类型“{t}”"),
                    format!("unknown document type '{t}'"),
                ));
                return None;
            };
            match doc.identify(n) {
                Ok(id) => {
                    let canonical = match &id {
                        Identified::Subject(SubjectCode::Document(k)) => k.number().to_string(),
                        Identified::Subject(c) => c.key().to_string(),
                        Identified::Legacy(l) => l.value.clone(),
                    };
                    fields.insert(nf.clone(), canonical);
                    Some(id)
                }
                Err(e) => {
                    errors.extend(e.iter().map(|e| FieldError::document(nf, doc, e)));
                    None
                }
            }
        }
    }
}

/// The quarantine reason of a record whose old identifier no registered subject carries.
pub fn unregistered(item: &Item, legacy: &LegacyId) -> FieldError {
    let field = item.document.as_ref().map_or(item.subject_code_field.as_str(), |d| d.number_field.as_str());
    FieldError::new(
        field,
        "identity.unregistered",
        format!("没有已登记的主体载有{}：请先导入其登记信息", legacy),
        format!(
            "no registered subject carries {} {} ({}); import its registration first",
            legacy.scheme.name_zh(),
            legacy.value,
            legacy.scheme.name_en()
        ),
    )
}

/// The quarantine reason of a record whose old identifier several subjects carry.
pub fn ambiguous(item: &Item, legacy: &LegacyId, subjects: &[String]) -> FieldError {
    let field = item.document.as_ref().map_or(item.subject_code_field.as_str(), |d| d.number_field.as_str());
    FieldError::new(
        field,
        "identity.ambiguous",
        format!("{}同时属于多个主体（{}）：请填写统一社会信用代码", legacy, subjects.join("、")),
        format!(
            "{} {} is carried by several subjects ({}); give the unified social credit code",
            legacy.scheme.name_zh(),
            legacy.value,
            subjects.join(", ")
        ),
    )
}

/// The record of a row that passed validation, for `subject`.
fn finish(item: &Item, fields: BTreeMap<String, String>, subject: SubjectCode) -> ValidRecord {
    let get = |name: &str| fields.get(name).cloned();
    let key =
        item.key.iter().map(|k| fields.get(k).map(String::as_str).unwrap_or("")).collect::<Vec<_>>().join("\u{1f}");
    let decision_date = item.decision_date_field.as_deref().and_then(|f| fields.get(f)).and_then(|d| parse_date(d));
    let tier =
        item.tier_field.as_deref().and_then(|f| fields.get(f)).and_then(|t| Tier::from_zh(t)).or(item.default_tier);
    let subject_info = item.subject_projection.as_ref().map(|p| SubjectInfo {
        former_names: p
            .former_names
            .as_deref()
            .and_then(get)
            .map(|s| split_list(&s).map(str::to_string).collect())
            .unwrap_or_default(),
        legal_rep_name: p.legal_rep_name.as_deref().and_then(get),
        legal_rep_id: p.legal_rep_id.as_deref().and_then(get),
        division: p.division.as_deref().and_then(get).or_else(|| subject.division().map(str::to_string)),
        industry: p.industry.as_deref().and_then(get),
        identifiers: [
            (&p.registration_number, LegacyScheme::RegistrationNumber),
            (&p.org_code, LegacyScheme::OrgCode),
            (&p.tax_number, LegacyScheme::TaxNumber),
        ]
        .into_iter()
        .filter_map(|(f, scheme)| Some(LegacyId { scheme, value: get(f.as_deref()?)? }))
        .collect(),
    });
    ValidRecord {
        subject_name: get(&item.subject_name_field).unwrap_or_default(),
        subject,
        item: item.code.clone(),
        key,
        decision_date,
        tier,
        fields,
        subject_info,
    }
}

fn split_list(s: &str) -> impl Iterator<Item = &str> {
    s.split(['；', ';', '、', ',', '，']).map(str::trim).filter(|p| !p.is_empty())
}

/// Trims (also the ideographic space and zero-width characters) and drops control characters.
fn clean_text(raw: &str) -> String {
    let trimmed = raw.trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}');
    let unwanted = |c: char| matches!(c, '\u{200b}' | '\u{feff}') || (c.is_control() && c != '\n');
    if !trimmed.contains(unwanted) {
        // the common case: one allocation, no per-character rebuild
        return trimmed.to_string();
    }
    raw.chars()
        .filter(|c| !unwanted(*c))
        .collect::<String>()
        .trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}')
        .to_string()
}

/// Structured values (codes, dates, numbers) also lose full-width forms.
fn clean_token(raw: &str) -> String {
    let text = clean_text(raw);
    if text.is_ascii() {
        return text;
    }
    text.chars().map(fullwidth_to_ascii).collect::<String>().trim().to_string()
}

fn bad(def: &FieldDef, rule: &str, zh: String, en: String) -> Vec<FieldError> {
    vec![FieldError::new(&def.name, rule, zh, en)]
}

/// Normalises one value by its type; `Ok(None)` for an empty cell.
pub fn normalize_value(def: &FieldDef, raw: &str) -> Result<Option<String>, Vec<FieldError>> {
    let text = match def.ty {
        FieldType::Text | FieldType::Enum | FieldType::EnumList => clean_text(raw),
        _ => clean_token(raw),
    };
    if text.is_empty() {
        return Ok(None);
    }
    let name = &def.name;
    let v = match def.ty {
        FieldType::Text => text,
        FieldType::Uscc => Uscc::parse(&text)
            .map_err(|e| e.iter().map(|e| FieldError::code(name, e)).collect::<Vec<_>>())?
            .as_str()
            .to_string(),
        FieldType::SubjectCode => SubjectCode::parse(&text)
            .map_err(|e| e.iter().map(|e| FieldError::code(name, e)).collect::<Vec<_>>())?
            .key()
            .to_string(),
        FieldType::ResidentId => ResidentId::parse(&text)
            .map_err(|e| e.iter().map(|e| FieldError::code(name, e)).collect::<Vec<_>>())?
            .expose()
            .to_string(),
        FieldType::PersonalId => normalize_code(&text),
        FieldType::RegistrationNumber | FieldType::OrgCode | FieldType::TaxNumber => {
            let scheme = match def.ty {
                FieldType::RegistrationNumber => LegacyScheme::RegistrationNumber,
                FieldType::OrgCode => LegacyScheme::OrgCode,
                _ => LegacyScheme::TaxNumber,
            };
            LegacyId::parse(scheme, &text)
                .map_err(|e| e.iter().map(|e| FieldError::code(name, e)).collect::<Vec<_>>())?
                .value
        }
        FieldType::Date => match parse_date(&text) {
            Some(d) => date_string(d),
            None => {
                return Err(bad(
                    def,
                    "date",
                    format!("“{name}”的值“{text}”不是有效日期（应为 YYYY-MM-DD）"),
                    format!("'{name}' ({}): '{text}' is not a valid date (expected YYYY-MM-DD)", def.en),
                ));
            }
        },
        FieldType::Decimal => match normalize_decimal(&text, def.scale.unwrap_or(6)) {
            Some(d) => d,
            None => {
                return Err(bad(
                    def,
                    "decimal",
                    format!("“{name}”的值“{text}”不是非负数（最多 {} 位小数）", def.scale.unwrap_or(6)),
                    format!(
                        "'{name}' ({}): '{text}' is not a non-negative decimal with at most {} places",
                        def.en,
                        def.scale.unwrap_or(6)
                    ),
                ));
            }
        },
        FieldType::Integer => match text.replace(',', "").parse::<i64>() {
            Ok(n) => n.to_string(),
            Err(_) => {
                return Err(bad(
                    def,
                    "integer",
                    format!("“{name}”的值“{text}”不是整数"),
                    format!("'{name}' ({}): '{text}' is not an integer", def.en),
                ));
            }
        },
        FieldType::Enum => {
            if !def.values.contains(&text) {
                return Err(bad(
                    def,
                    "enum",
                    format!("“{name}”的值“{text}”不在允许范围：{}", def.values.join("、")),
                    format!("'{name}' ({}): '{text}' is not one of {}", def.en, def.values.join(", ")),
                ));
            }
            text
        }
        FieldType::EnumList => {
            let parts: Vec<&str> = split_list(&text).collect();
            if let Some(p) = parts.iter().find(|p| !def.values.iter().any(|v| v == *p)) {
                return Err(bad(
                    def,
                    "enum",
                    format!("“{name}”的值“{p}”不在允许范围：{}", def.values.join("、")),
                    format!("'{name}' ({}): '{p}' is not one of {}", def.en, def.values.join(", ")),
                ));
            }
            parts.join("；")
        }
    };
    if let Some(max) = def.max_len {
        let n = v.chars().count();
        if n > max {
            return Err(bad(
                def,
                "max_len",
                format!("“{name}”长度 {n} 超过上限 {max}"),
                format!("'{name}' ({}) is {n} characters long, the limit is {max}", def.en),
            ));
        }
    }
    Ok(Some(v))
}

pub fn date_string(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Accepts the date spellings departments use: `2024-03-05`, `2024/3/5`, `2024.3.5`,
/// `20240305`, `2024年3月5日`, optionally followed by a time (ignored).
pub fn parse_date(s: &str) -> Option<Date> {
    let s = s.trim();
    let date_part = s.split([' ', 'T']).next().unwrap_or(s);
    let (y, m, d) = if date_part.len() == 8 && date_part.bytes().all(|b| b.is_ascii_digit()) {
        (date_part.get(0..4)?, date_part.get(4..6)?, date_part.get(6..8)?)
    } else {
        let mut parts = date_part.split(['-', '/', '.', '年', '月', '日']).filter(|p| !p.is_empty());
        let y = parts.next()?;
        let m = parts.next()?;
        let d = parts.next()?;
        if parts.next().is_some() {
            return None;
        }
        (y, m, d)
    };
    if y.len() != 4 || m.is_empty() || m.len() > 2 || d.is_empty() || d.len() > 2 {
        return None;
    }
    let y: i32 = y.parse().ok()?;
    let m: u8 = m.parse().ok()?;
    let d: u8 = d.parse().ok()?;
    if !(1900..=2199).contains(&y) {
        return None;
    }
    Date::from_calendar_date(y, time::Month::try_from(m).ok()?, d).ok()
}

/// `"001,234.500"` → `"1234.5"`; refuses signs, exponents and excess places.
fn normalize_decimal(s: &str, scale: u32) -> Option<String> {
    let s = s.replace(',', "");
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > scale as usize {
        return None;
    }
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    Some(if frac.is_empty() { int.to_string() } else { format!("{int}.{frac}") })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use proptest::prelude::*;
    use time::macros::date;

    fn row<'a>(item: &Item, pairs: &[(&str, &'a str)]) -> Vec<Option<&'a str>> {
        item.fields.iter().map(|f| pairs.iter().find(|(k, _)| *k == f.name).map(|(_, v)| *v)).collect()
    }

    fn penalty_pairs() -> Vec<(&'static str, &'static str)> {
        vec![
            ("行政相对人名称", "北京某某科技有限公司"),
            ("行政相对人类别", "法人及非法人组织"),
            ("统一社会信用代码", "９１１１０１０８５５１３８５０８２ｑ"),
            ("行政处罚决定书文号", "京海市监罚〔2024〕12号"),
            ("违法行为类型", "虚假宣传"),
            ("违法事实", "发布虚假广告"),
            ("处罚依据", "《中华人民共和国广告法》第五十五条"),
            ("处罚类别", "警告、罚款"),
            ("处罚内容", "罚款人民币壹万元"),
            ("罚款金额(万元)", "１.0000"),
            ("处罚决定日期", "2024年3月5日"),
            ("处罚有效期", "2025/3/5"),
            ("处罚机关", "北京市海淀区市场监督管理局"),
            ("处罚机关统一社会信用代码", "11110108000000000X"),
            ("数据来源单位", "北京市海淀区市场监督管理局"),
            ("数据来源单位统一社会信用代码", "11110108000000000X"),
        ]
    }

    #[test]
    fn a_dirty_but_valid_penalty_is_normalised() {
        let c = Catalog::bundled().unwrap();
        let item = c.item("admin_penalty").unwrap();
        // the authority code must itself be valid: compute one
        let authority = Uscc::complete("1111010800000000").unwrap();
        let mut pairs = penalty_pairs();
        for p in pairs.iter_mut().filter(|p| p.0.ends_with("统一社会信用代码") && p.0 != "统一社会信用代码")
        {
            p.1 = Box::leak(authority.as_str().to_string().into_boxed_str());
        }
        let r = validate(item, &row(item, &pairs), date!(2026 - 01 - 01)).unwrap();
        assert_eq!(r.subject.key(), "91110108551385082Q");
        assert_eq!(r.fields["处罚决定日期"], "2024-03-05");
        assert_eq!(r.fields["处罚类别"], "警告；罚款");
        assert_eq!(r.fields["罚款金额(万元)"], "1");
        assert_eq!(r.decision_date, Some(date!(2024 - 03 - 05)));
        assert_eq!(r.tier, Some(Tier::General));
        assert_eq!(r.key, "京海市监罚〔2024〕12号");
    }

    #[test]
    fn errors_name_the_field_and_rule() {
        let c = Catalog::bundled().unwrap();
        let item = c.item("admin_penalty").unwrap();
        let mut pairs = penalty_pairs();
        pairs.retain(|p| p.0 != "违法事实");
        for p in pairs.iter_mut() {
            if p.0 == "处罚决定日期" {
                p.1 = "2024-02-30";
            }
            if p.0 == "统一社会信用代码" {
                p.1 = "91110108551385082R";
            }
        }
        let e = validate(item, &row(item, &pairs), date!(2026 - 01 - 01)).unwrap_err();
        let rules: Vec<(&str, &str)> = e.iter().map(|e| (e.field.as_str(), e.rule.as_str())).collect();
        assert!(rules.contains(&("违法事实", "required")), "{rules:?}");
        assert!(rules.contains(&("处罚决定日期", "date")), "{rules:?}");
        assert!(rules.contains(&("统一社会信用代码", "code.check_char")), "{rules:?}");
        assert!(e.iter().all(|e| !e.zh.is_empty() && !e.en.is_empty()));
    }

    /// 证件类型 + 证件号码 name the subject when 统一社会信用代码 is empty (issue 11).
    #[test]
    fn documents_name_the_subject() {
        let c = Catalog::bundled().unwrap();
        let authority = Uscc::complete("1111010800000000").unwrap();
        let authority: &'static str = Box::leak(authority.as_str().to_string().into_boxed_str());
        let for_identity = |identity: &[(&'static str, &'static str)]| {
            let mut pairs = penalty_pairs();
            pairs.retain(|p| p.0 != "统一社会信用代码");
            for p in pairs.iter_mut().filter(|p| p.0.ends_with("统一社会信用代码")) {
                p.1 = authority;
            }
            pairs.extend_from_slice(identity);
            pairs
        };
        for item in ["admin_penalty", "admin_licence"] {
            let item = c.item(item).unwrap();
            let d = item.document.as_ref().unwrap();
            assert_eq!((d.type_field.as_str(), d.number_field.as_str()), ("证件类型", "证件号码"));
            assert!(!item.field("统一社会信用代码").unwrap().required);
        }
        let item = c.item("admin_penalty").unwrap();
        let today = date!(2026 - 01 - 01);
        let pairs = for_identity(&[("证件类型", "护照"), ("证件号码", "ｅ１２３４５６７８")]);
        let Validated::Record(r) = validate_row(item, &row(item, &pairs), today).unwrap() else { panic!() };
        assert_eq!(r.subject.key(), "P-PP-E12345678");
        assert_eq!(r.fields["证件号码"], "E12345678", "stored normalised");
        let pairs = for_identity(&[("证件类型", "组织机构代码"), ("证件号码", "55138508-2")]);
        let Validated::Unattached(u) = validate_row(item, &row(item, &pairs), today).unwrap() else { panic!() };
        assert_eq!(u.legacy.value, "551385082");
        let e = validate(item, &row(item, &pairs), today).unwrap_err();
        assert_eq!(e[0].rule, "identity.legacy_only", "validate alone cannot attach it");
        let attached = u.attach(item, SubjectCode::parse("91110108551385082Q").unwrap());
        assert_eq!((attached.subject.key(), attached.key.as_str()), ("91110108551385082Q", "京海市监罚〔2024〕12号"));
        // a code given wins; the document is still validated
        let mut pairs = for_identity(&[("证件类型", "护照"), ("证件号码", "E1")]);
        pairs.push(("统一社会信用代码", "91110108551385082Q"));
        let e = validate(item, &row(item, &pairs), today).unwrap_err();
        assert_eq!((e.len(), e[0].field.as_str(), e[0].rule.as_str()), (1, "证件号码", "code.format"), "{e:?}");
        assert!(e[0].zh.starts_with("“证件号码”（护照）：护照号码应为"), "{}", e[0].zh);
        let e = validate_row(item, &row(item, &for_identity(&[])), today).unwrap_err();
        assert_eq!((e[0].field.as_str(), e[0].rule.as_str()), ("统一社会信用代码", "required"));
        // a wrong code is that one error (not also "no document given")
        let mut pairs = for_identity(&[]);
        pairs.push(("统一社会信用代码", "91110108551385082R"));
        let e = validate_row(item, &row(item, &pairs), today).unwrap_err();
        assert_eq!(e.iter().map(|e| e.rule.as_str()).collect::<Vec<_>>(), ["code.check_char"]);
    }

    #[test]
    fn a_registration_carries_its_old_identifiers() {
        let c = Catalog::bundled().unwrap();
        let item = c.item("registration").unwrap();
        let pairs = [
            ("统一社会信用代码", "91110108551385082Q"),
            ("主体名称", "甲公司"),
            ("成立日期", "2001-02-03"),
            ("注册号", "110108000000016"),
            ("组织机构代码", "55138508-2"),
            ("税务登记号", "110108551385082"),
        ];
        let r = validate(item, &row(item, &pairs), date!(2026 - 01 - 01)).unwrap();
        let ids: Vec<(&str, &str)> = r
            .subject_info
            .as_ref()
            .unwrap()
            .identifiers
            .iter()
            .map(|l| (l.scheme.as_str(), l.value.as_str()))
            .collect();
        assert_eq!(
            ids,
            [("registration_number", "110108000000016"), ("org_code", "551385082"), ("tax_number", "110108551385082")]
        );
        let mut bad = pairs;
        bad[3].1 = "110108000000017";
        let e = validate(item, &row(item, &bad), date!(2026 - 01 - 01)).unwrap_err();
        assert_eq!((e[0].field.as_str(), e[0].rule.as_str()), ("注册号", "code.check_char"));
    }

    #[test]
    fn future_decisions_are_refused() {
        let c = Catalog::bundled().unwrap();
        let item = c.item("honour").unwrap();
        let pairs = [
            ("主体名称", "甲公司"),
            ("统一社会信用代码", "91110108551385082Q"),
            ("荣誉名称", "守合同重信用企业"),
            ("荣誉等级", "市级"),
            ("授予日期", "2027-01-01"),
            ("授予机关", "北京市市场监督管理局"),
            ("表彰决定文号", "京市监发〔2026〕1号"),
        ];
        let e = validate(item, &row(item, &pairs), date!(2026 - 11 - 25)).unwrap_err();
        assert_eq!(e[0].rule, "date.future");
    }

    #[test]
    fn date_spellings() {
        for s in ["2024-03-05", "2024/3/5", "2024.03.05", "20240305", "2024年3月5日", "2024-03-05 00:00:00"] {
            assert_eq!(parse_date(s), Some(date!(2024 - 03 - 05)), "{s}");
        }
        for s in ["2024-13-01", "24-3-5", "2024-02-30", "yesterday", "2024-03", ""] {
            assert_eq!(parse_date(s), None, "{s}");
        }
    }

    proptest! {
        #[test]
        fn decimals_round_trip(int in 0u64..10_000_000, frac in 0u32..1_000_000) {
            let s = format!("{int}.{frac:06}");
            let n = normalize_decimal(&s, 6).unwrap();
            let again = normalize_decimal(&n, 6).unwrap();
            prop_assert_eq!(&n, &again);
            prop_assert!(!n.ends_with('.') && !n.starts_with('-'));
        }

        #[test]
        fn valid_dates_parse_in_every_spelling(days in 0i64..80000) {
            let d = date!(1900 - 01 - 01) + time::Duration::days(days);
            let (y, m, dd) = (d.year(), u8::from(d.month()), d.day());
            for s in [format!("{y}-{m:02}-{dd:02}"), format!("{y}/{m}/{dd}"), format!("{y}年{m}月{dd}日"), format!("{y}{m:02}{dd:02}")] {
                prop_assert_eq!(parse_date(&s), Some(d));
            }
        }
    }
}
