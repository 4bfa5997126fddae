//! Identity documents besides the USCC and the resident ID: what a record's `证件类型` +
//! `证件号码` may name (the national data standards' conditional fields). Each document
//! type has its validator where a rule exists, and says how a record carrying it finds
//! its subject:
//!
//! | 证件类型 | rule | subject |
//! | --- | --- | --- |
//! | 身份证 | GB 11643 | the resident ID itself |
//! | 港澳台居民居住证 | GB 11643, address code 810000/820000/830000 | the number itself (it is a GB 11643 number) |
//! | 外国人永久居留身份证 | 2023: 18 digits starting with 9, GB 11643 check; before: 3 letters + 12 digits (no check verified) | 18 digits: the number itself; 15: `P-FR-…` |
//! | 护照 | 5–20 letters or digits | `P-PP-…` |
//! | 港澳居民来往内地通行证 | H or M + 8 or 10 digits | `P-HM-…` |
//! | 台湾居民来往大陆通行证 | 8 digits | `P-TW-…` |
//! | 境外企业注册号 | 2–40 letters or digits | `F-RN-…` |
//! | 工商注册号 | 15 digits, GS 15-2006 check (ISO 7064 MOD 11,10) | the subject whose registration carries it |
//! | 组织机构代码 | GB 11714 (8 + check character) | the subject whose registration carries it, or the USCC embedding it |
//! | 税务登记号 | 15 (division + organisation code), 18 (a USCC, or a resident ID), 20 (resident ID + 2 digits) | a USCC: itself; otherwise the subject whose registration carries it |
//!
//! **Typed keys** (`P-PP-E12345678`): a subject known only by a passport or a permit
//! needs a key of its own. The key is the document's class (`P` natural person, `F`
//! foreign organisation), a two-letter document tag and the normalised number, joined
//! by hyphens. It cannot collide with a USCC or a resident ID (both are 18 characters
//! without hyphens) nor across document types (the tag), it is URL-safe
//! (`/subjects/P-PP-E12345678`), and it sorts and compares as plain text like the
//! codes, so every table and index keyed by subject code keeps working. A passport key
//! carries no issuing country because the data standards' rows carry none: two
//! countries' passports with the same number would share a key (noted in ARCHITECTURE).

use std::fmt;

use serde::Serialize;

use crate::codes::{CodeError, ResidentId, SubjectCode, Uscc, fullwidth_to_ascii, normalize_code, org_check_char};

/// A document type (证件类型) a record may name its subject by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocType {
    /// 居民身份证
    ResidentId,
    /// 护照
    Passport,
    /// 港澳居民来往内地通行证
    HkMacaoPermit,
    /// 台湾居民来往大陆通行证
    TaiwanPermit,
    /// 港澳台居民居住证
    ResidencePermit,
    /// 外国人永久居留身份证
    ForeignPermanentResident,
    /// 境外企业注册号 (a foreign organisation's home registration number)
    ForeignRegistration,
    /// 工商注册号 (15 digits, before the USCC)
    RegistrationNumber,
    /// 组织机构代码 (GB 11714)
    OrgCode,
    /// 税务登记号
    TaxNumber,
}

pub const ALL_DOCS: [DocType; 10] = [
    DocType::ResidentId,
    DocType::Passport,
    DocType::HkMacaoPermit,
    DocType::TaiwanPermit,
    DocType::ResidencePermit,
    DocType::ForeignPermanentResident,
    DocType::ForeignRegistration,
    DocType::RegistrationNumber,
    DocType::OrgCode,
    DocType::TaxNumber,
];

impl DocType {
    /// The 证件类型 cell's text; the spellings departments use.
    pub fn from_zh(s: &str) -> Option<DocType> {
        Some(match s.trim() {
            "身份证" | "居民身份证" => DocType::ResidentId,
            "护照" | "护照号" => DocType::Passport,
            "港澳居民来往内地通行证" => DocType::HkMacaoPermit,
            "台湾居民来往大陆通行证" => DocType::TaiwanPermit,
            "港澳台居民居住证" => DocType::ResidencePermit,
            "外国人永久居留身份证" => DocType::ForeignPermanentResident,
            "境外企业注册号" => DocType::ForeignRegistration,
            "工商注册号" | "注册号" => DocType::RegistrationNumber,
            "组织机构代码" => DocType::OrgCode,
            "税务登记号" => DocType::TaxNumber,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DocType::ResidentId => "resident_id",
            DocType::Passport => "passport",
            DocType::HkMacaoPermit => "hk_macao_permit",
            DocType::TaiwanPermit => "taiwan_permit",
            DocType::ResidencePermit => "residence_permit",
            DocType::ForeignPermanentResident => "foreign_permanent_resident",
            DocType::ForeignRegistration => "foreign_registration",
            DocType::RegistrationNumber => "registration_number",
            DocType::OrgCode => "org_code",
            DocType::TaxNumber => "tax_number",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            DocType::ResidentId => "居民身份证",
            DocType::Passport => "护照",
            DocType::HkMacaoPermit => "港澳居民来往内地通行证",
            DocType::TaiwanPermit => "台湾居民来往大陆通行证",
            DocType::ResidencePermit => "港澳台居民居住证",
            DocType::ForeignPermanentResident => "外国人永久居留身份证",
            DocType::ForeignRegistration => "境外企业注册号",
            DocType::RegistrationNumber => "工商注册号",
            DocType::OrgCode => "组织机构代码",
            DocType::TaxNumber => "税务登记号",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            DocType::ResidentId => "resident ID",
            DocType::Passport => "passport",
            DocType::HkMacaoPermit => "Mainland travel permit for Hong Kong and Macao residents",
            DocType::TaiwanPermit => "Mainland travel permit for Taiwan residents",
            DocType::ResidencePermit => "residence permit for Hong Kong, Macao and Taiwan residents",
            DocType::ForeignPermanentResident => "foreign permanent resident ID card",
            DocType::ForeignRegistration => "foreign organisation's registration number",
            DocType::RegistrationNumber => "business registration number",
            DocType::OrgCode => "organisation code",
            DocType::TaxNumber => "tax registration number",
        }
    }

    /// Whether the holder is a natural person (its number is personal information).
    pub fn is_person(self) -> bool {
        matches!(
            self,
            DocType::ResidentId
                | DocType::Passport
                | DocType::HkMacaoPermit
                | DocType::TaiwanPermit
                | DocType::ResidencePermit
                | DocType::ForeignPermanentResident
        )
    }

    /// Class and tag of the typed key, for the documents that key a subject of their own.
    fn tag(self) -> Option<(char, &'static str)> {
        match self {
            DocType::Passport => Some(('P', "PP")),
            DocType::HkMacaoPermit => Some(('P', "HM")),
            DocType::TaiwanPermit => Some(('P', "TW")),
            DocType::ForeignPermanentResident => Some(('P', "FR")),
            DocType::ForeignRegistration => Some(('F', "RN")),
            _ => None,
        }
    }

    fn from_tag(class: &str, tag: &str) -> Option<DocType> {
        ALL_DOCS
            .into_iter()
            .find(|d| d.tag().is_some_and(|(c, t)| class.len() == 1 && class.starts_with(c) && t == tag))
    }

    /// Validates a number of this type and says how it finds its subject.
    pub fn identify(self, input: &str) -> Result<Identified, Vec<CodeError>> {
        let n = normalize_code(input);
        if n.is_empty() {
            return Err(vec![CodeError::Empty]);
        }
        let keyed = |n: String| Ok(Identified::Subject(SubjectCode::Document(DocKey::new(self, &n))));
        let legacy = |scheme, value: String| Ok(Identified::Legacy(LegacyId { scheme, value }));
        match self {
            DocType::ResidentId => Ok(Identified::Subject(SubjectCode::Resident(ResidentId::parse(&n)?))),
            DocType::ResidencePermit => {
                let id = ResidentId::parse(&n)?;
                if !matches!(&n[..6], "810000" | "820000" | "830000") {
                    return Err(vec![format_error(
                        "港澳台居民居住证号码应以 810000（香港）、820000（澳门）或 830000（台湾）开头",
                        "a residence permit number starts with 810000 (Hong Kong), 820000 (Macao) or 830000 (Taiwan)",
                    )]);
                }
                Ok(Identified::Subject(SubjectCode::Resident(id)))
            }
            DocType::ForeignPermanentResident => {
                if n.len() == 18 {
                    if !n.starts_with('9') {
                        return Err(vec![format_error(
                            "2023 版外国人永久居留身份证号码为 18 位、首位为 9",
                            "a 2023 foreign permanent resident ID number has 18 digits and starts with 9",
                        )]);
                    }
                    Ok(Identified::Subject(SubjectCode::Resident(ResidentId::parse(&n)?)))
                } else if old_permanent_resident(&n) {
                    keyed(n)
                } else {
                    Err(vec![format_error(
                        "外国人永久居留身份证号码应为 18 位数字（2023 版，首位为 9）或 3 位字母加 12 位数字（旧版，含有效出生日期）",
                        "a foreign permanent resident ID number is 18 digits starting with 9 (2023) or 3 letters and 12 digits with a real birth date (before 2023)",
                    )])
                }
            }
            DocType::Passport => {
                if (5..=20).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    keyed(n)
                } else {
                    Err(vec![format_error(
                        "护照号码应为 5–20 位字母或数字",
                        "a passport number is 5–20 letters or digits",
                    )])
                }
            }
            DocType::HkMacaoPermit => {
                let b = n.as_bytes();
                if matches!(b[0], b'H' | b'M') && matches!(b.len(), 9 | 11) && b[1..].iter().all(u8::is_ascii_digit) {
                    keyed(n)
                } else {
                    Err(vec![format_error(
                        "港澳居民来往内地通行证号码应为 H 或 M 加 8 位或 10 位数字",
                        "a Hong Kong/Macao permit number is H or M followed by 8 or 10 digits",
                    )])
                }
            }
            DocType::TaiwanPermit => {
                if n.len() == 8 && n.bytes().all(|b| b.is_ascii_digit()) {
                    keyed(n)
                } else {
                    Err(vec![format_error(
                        "台湾居民来往大陆通行证号码应为 8 位数字",
                        "a Taiwan permit number is 8 digits",
                    )])
                }
            }
            DocType::ForeignRegistration => {
                if (2..=40).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    keyed(n)
                } else {
                    Err(vec![format_error(
                        "境外企业注册号应为 2–40 位字母或数字",
                        "a foreign registration number is 2–40 letters or digits",
                    )])
                }
            }
            DocType::RegistrationNumber => {
                check_registration_number(&n)?;
                legacy(LegacyScheme::RegistrationNumber, n)
            }
            DocType::OrgCode => {
                check_org_code(&n)?;
                legacy(LegacyScheme::OrgCode, n)
            }
            DocType::TaxNumber => match n.len() {
                15 => {
                    if !n.as_bytes()[..6].iter().all(u8::is_ascii_digit) {
                        return Err(vec![format_error(
                            "15 位税务登记号的前 6 位应为行政区划代码（数字）",
                            "the first 6 characters of a 15-character tax number are the division code (digits)",
                        )]);
                    }
                    check_org_code(&n[6..]).map_err(|e| shift(e, 6))?;
                    legacy(LegacyScheme::TaxNumber, n)
                }
                18 => match Uscc::parse(&n) {
                    // after 三证合一 the tax number is the USCC
                    Ok(u) => Ok(Identified::Subject(SubjectCode::Uscc(u))),
                    Err(uscc) => match ResidentId::parse(&n) {
                        Ok(_) => legacy(LegacyScheme::TaxNumber, n),
                        Err(id) if n.bytes().take(17).all(|b| b.is_ascii_digit()) => Err(id),
                        Err(_) => Err(uscc),
                    },
                },
                20 => {
                    ResidentId::parse(&n[..18])?;
                    if !n.as_bytes()[18..].iter().all(u8::is_ascii_digit) {
                        return Err(vec![format_error(
                            "20 位税务登记号为身份证号码加 2 位数字",
                            "a 20-character tax number is a resident ID and 2 digits",
                        )]);
                    }
                    legacy(LegacyScheme::TaxNumber, n)
                }
                len => Err(vec![format_error_len(len)]),
            },
        }
    }
}

fn format_error(zh: &'static str, en: &'static str) -> CodeError {
    CodeError::Format { zh, en }
}

fn format_error_len(len: usize) -> CodeError {
    CodeError::Format {
        zh: if len < 15 {
            "税务登记号应为 15、18 或 20 位（位数过少）"
        } else {
            "税务登记号应为 15、18 或 20 位"
        },
        en: "a tax registration number has 15, 18 or 20 characters",
    }
}

/// Moves the positions an error names by `by` (an organisation code inside a tax number).
fn shift(errors: Vec<CodeError>, by: usize) -> Vec<CodeError> {
    errors
        .into_iter()
        .map(|e| match e {
            CodeError::CheckAt { position, expected, found } => {
                CodeError::CheckAt { position: position + by, expected, found }
            }
            CodeError::Character { position, ch } => CodeError::Character { position: position + by, ch },
            other => other,
        })
        .collect()
}

/// Old (2004–2023) permanent resident ID: ISO 3166 alpha-3 country, 2-digit place of
/// application, birth date YYMMDD, sequence and a last digit. No published check rule
/// was found, so only the shape and the birth date are checked.
fn old_permanent_resident(n: &str) -> bool {
    let b = n.as_bytes();
    if b.len() != 15 || !b[..3].iter().all(u8::is_ascii_uppercase) || !b[3..].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let (Ok(m), Ok(d)) = (n[7..9].parse::<u8>(), n[9..11].parse::<u8>()) else { return false };
    let yy: i32 = n[5..7].parse().unwrap_or(0);
    let Ok(month) = time::Month::try_from(m) else { return false };
    [1900 + yy, 2000 + yy].iter().any(|&y| time::Date::from_calendar_date(y, month, d).is_ok())
}

/// How a record carrying a document finds its subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identified {
    /// The document keys the subject itself.
    Subject(SubjectCode),
    /// An old registration identifier: the subject whose registration carries it.
    Legacy(LegacyId),
}

/// The old identifiers a registration may carry (before the USCC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LegacyScheme {
    RegistrationNumber,
    OrgCode,
    TaxNumber,
}

impl LegacyScheme {
    /// As stored in `subject_identifiers.scheme`.
    pub fn as_str(self) -> &'static str {
        match self {
            LegacyScheme::RegistrationNumber => "registration_number",
            LegacyScheme::OrgCode => "org_code",
            LegacyScheme::TaxNumber => "tax_number",
        }
    }

    pub fn parse(s: &str) -> Option<LegacyScheme> {
        [LegacyScheme::RegistrationNumber, LegacyScheme::OrgCode, LegacyScheme::TaxNumber]
            .into_iter()
            .find(|x| x.as_str() == s)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            LegacyScheme::RegistrationNumber => "工商注册号",
            LegacyScheme::OrgCode => "组织机构代码",
            LegacyScheme::TaxNumber => "税务登记号",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            LegacyScheme::RegistrationNumber => "business registration number",
            LegacyScheme::OrgCode => "organisation code",
            LegacyScheme::TaxNumber => "tax registration number",
        }
    }
}

/// A validated old identifier: 工商注册号, 组织机构代码 or 税务登记号.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct LegacyId {
    pub scheme: LegacyScheme,
    /// Normalised (upper case, no spaces or hyphens).
    pub value: String,
}

impl LegacyId {
    /// Validates `input` as an identifier of `scheme` (a registration's own columns).
    pub fn parse(scheme: LegacyScheme, input: &str) -> Result<LegacyId, Vec<CodeError>> {
        let doc = match scheme {
            LegacyScheme::RegistrationNumber => DocType::RegistrationNumber,
            LegacyScheme::OrgCode => DocType::OrgCode,
            LegacyScheme::TaxNumber => DocType::TaxNumber,
        };
        match doc.identify(input)? {
            Identified::Legacy(l) => Ok(l),
            // an 18-character tax number that is a USCC: the registration's own code
            Identified::Subject(_) => Ok(LegacyId { scheme, value: normalize_code(input) }),
        }
    }

    /// The organisation code this identifier embeds, to match the USCCs that embed the
    /// same one (positions 9–17): an organisation code itself, or a 15-character tax
    /// number (division + organisation code).
    pub fn org_code(&self) -> Option<&str> {
        match self.scheme {
            LegacyScheme::OrgCode => Some(&self.value),
            LegacyScheme::TaxNumber if self.value.len() == 15 => Some(&self.value[6..]),
            _ => None,
        }
    }
}

impl fmt::Display for LegacyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.scheme.name_zh(), self.value)
    }
}

/// GS 15-2006 (工商行政管理市场主体注册号编制规则): 14 digits and a check digit by
/// ISO 7064 MOD 11,10 (GB/T 17710).
pub fn check_registration_number(n: &str) -> Result<(), Vec<CodeError>> {
    let b = n.as_bytes();
    if b.len() != 15 || !b.iter().all(u8::is_ascii_digit) {
        return Err(vec![format_error("工商注册号应为 15 位数字", "a business registration number is 15 digits")]);
    }
    let expected = registration_check_digit(&b[..14]);
    if expected != b[14] {
        return Err(vec![CodeError::CheckAt {
            position: 15,
            expected: char::from(expected),
            found: char::from(b[14]),
        }]);
    }
    Ok(())
}

/// The MOD 11,10 check digit of 14 digits: P₁ = 10; Sⱼ = (Pⱼ + aⱼ) mod 10 (0 → 10);
/// Pⱼ₊₁ = 2·Sⱼ mod 11; the check digit makes (P₁₅ + a₁₅) mod 10 = 1.
fn registration_check_digit(body: &[u8]) -> u8 {
    let mut p = 10u32;
    for d in body {
        let mut s = (p + u32::from(d - b'0')) % 10;
        if s == 0 {
            s = 10;
        }
        p = (s * 2) % 11;
    }
    b'0' + ((11 - p) % 10) as u8
}

/// A valid registration number from its first 14 digits (tests, synthetic data).
pub fn complete_registration_number(first14: &str) -> Option<String> {
    let b = first14.as_bytes();
    if b.len() != 14 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(format!("{first14}{}", char::from(registration_check_digit(b))))
}

/// GB 11714: 8 digits or capital letters and a check character (0–9 or X).
pub fn check_org_code(n: &str) -> Result<(), Vec<CodeError>> {
    let b = n.as_bytes();
    if b.len() != 9 {
        return Err(vec![format_error(
            "组织机构代码应为 9 位（8 位本体代码加 1 位校验码）",
            "an organisation code has 9 characters (8 and a check character)",
        )]);
    }
    let bad: Vec<CodeError> = n
        .chars()
        .take(8)
        .enumerate()
        .filter(|(_, c)| !(c.is_ascii_digit() || c.is_ascii_uppercase()))
        .map(|(i, ch)| CodeError::Character { position: i + 1, ch })
        .collect();
    if !bad.is_empty() {
        return Err(bad);
    }
    match org_check_char(&b[..8]) {
        Some(expected) if expected == b[8] => Ok(()),
        Some(expected) => {
            Err(vec![CodeError::CheckAt { position: 9, expected: char::from(expected), found: char::from(b[8]) }])
        }
        None => Err(vec![format_error("组织机构代码含无效字符", "the organisation code has invalid characters")]),
    }
}

/// A valid organisation code from its 8-character body (tests, synthetic data).
pub fn complete_org_code(body: &str) -> Option<String> {
    let b = body.as_bytes();
    if b.len() != 8 || !b.iter().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()) {
        return None;
    }
    Some(format!("{body}{}", char::from(org_check_char(b)?)))
}

/// The key of a subject known by a passport, a permit or a foreign registration:
/// `P-PP-E12345678` (see the module documentation). Valid by construction.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocKey {
    key: String,
    doc: DocType,
}

/// Length of `P-PP-`.
const PREFIX: usize = 5;

impl DocKey {
    fn new(doc: DocType, number: &str) -> DocKey {
        let (class, tag) = doc.tag().unwrap_or(('P', "XX"));
        DocKey { key: format!("{class}-{tag}-{number}"), doc }
    }

    /// Parses a typed key (already trimmed; case and full-width forms are folded).
    pub fn parse(input: &str) -> Result<DocKey, Vec<CodeError>> {
        let s: String = input.trim().chars().map(fullwidth_to_ascii).map(|c| c.to_ascii_uppercase()).collect();
        let mut parts = s.splitn(3, '-');
        let (Some(class), Some(tag), Some(number)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(vec![bad_key()]);
        };
        let doc = DocType::from_tag(class, tag).ok_or_else(|| vec![bad_key()])?;
        match doc.identify(number)? {
            Identified::Subject(SubjectCode::Document(k)) if k.number() == number => Ok(k),
            _ => Err(vec![bad_key()]),
        }
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn doc(&self) -> DocType {
        self.doc
    }

    /// The document number (after `P-PP-`).
    pub fn number(&self) -> &str {
        &self.key[PREFIX..]
    }

    pub fn is_person(&self) -> bool {
        self.doc.is_person()
    }

    /// What may be shown publicly: a person's number masked, the prefix kept.
    pub fn display(&self) -> String {
        if self.is_person() {
            format!("{}{}", &self.key[..PREFIX], mask_document(self.number()))
        } else {
            self.key.clone()
        }
    }
}

fn bad_key() -> CodeError {
    format_error(
        "主体键应为 P-类型-号码（自然人：PP 护照、HM 港澳通行证、TW 台湾通行证、FR 旧版永居证）或 F-RN-号码（境外企业）",
        "a typed subject key is P-TAG-NUMBER (PP passport, HM Hong Kong/Macao permit, TW Taiwan permit, FR old permanent resident ID) or F-RN-NUMBER (foreign organisation)",
    )
}

impl fmt::Debug for DocKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocKey({})", self.display())
    }
}

/// A personal number as it may be shown: a document of an organisation (工商注册号,
/// 组织机构代码, 税务登记号, a foreign registration) is public and shown in full; a GB
/// 11643-format number (resident ID, residence permit, 2023 permanent residence) like
/// a resident ID; any other person's number by [`mask_document`]; a number of unknown
/// type like a resident ID.
pub fn mask_number(doc: Option<DocType>, value: &str) -> String {
    match doc {
        Some(d) if !d.is_person() => value.to_string(),
        Some(DocType::Passport | DocType::HkMacaoPermit | DocType::TaiwanPermit) => mask_document(value),
        Some(DocType::ForeignPermanentResident) if value.len() != 18 => mask_document(value),
        _ => crate::codes::mask_id(value),
    }
}

/// Masks a document number the way a resident ID is masked (its middle hidden): a
/// quarter of the characters kept at each end, at most 6 and 4, all hidden up to 4.
pub fn mask_document(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    if n <= 4 {
        return "*".repeat(n);
    }
    let head = (n / 4).min(6);
    let tail = (n / 4).min(4);
    let h: String = chars[..head].iter().collect();
    let t: String = chars[n - tail..].iter().collect();
    format!("{h}{}{t}", "*".repeat(n - head - tail))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn subject(doc: DocType, n: &str) -> SubjectCode {
        match doc.identify(n).unwrap() {
            Identified::Subject(s) => s,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn registration_numbers() {
        // the example number of GS 15-2006 write-ups
        assert!(check_registration_number("110108000000016").is_ok());
        let e = check_registration_number("110108000000017").unwrap_err();
        assert_eq!(e, vec![CodeError::CheckAt { position: 15, expected: '6', found: '7' }]);
        assert_eq!(e[0].rule(), "check_char");
        assert!(e[0].to_string().contains("第 15 位"));
        assert!(check_registration_number("11010800000001").is_err());
        let l = DocType::RegistrationNumber.identify("1101 0800 0000 016").unwrap();
        assert_eq!(
            l,
            Identified::Legacy(LegacyId { scheme: LegacyScheme::RegistrationNumber, value: "110108000000016".into() })
        );
    }

    #[test]
    fn organisation_codes() {
        // positions 9–17 of a valid USCC are a valid organisation code
        let u = Uscc::parse("91110108551385082Q").unwrap();
        assert_eq!(u.org_code(), "551385082");
        assert!(check_org_code("551385082").is_ok());
        assert!(DocType::OrgCode.identify("55138508-2").is_ok(), "the usual hyphen is tolerated");
        let e = check_org_code("551385083").unwrap_err();
        assert_eq!(e, vec![CodeError::CheckAt { position: 9, expected: '2', found: '3' }]);
        let Identified::Legacy(l) = DocType::OrgCode.identify("551385082").unwrap() else { panic!() };
        assert_eq!(l.org_code(), Some("551385082"));
    }

    #[test]
    fn tax_numbers() {
        let Identified::Legacy(l) = DocType::TaxNumber.identify("110108551385082").unwrap() else { panic!() };
        assert_eq!(l.org_code(), Some("551385082"), "division + organisation code");
        let e = DocType::TaxNumber.identify("110108551385083").unwrap_err();
        assert_eq!(e, vec![CodeError::CheckAt { position: 15, expected: '2', found: '3' }]);
        assert_eq!(
            subject(DocType::TaxNumber, "91110108551385082Q").key(),
            "91110108551385082Q",
            "a USCC as tax number keys the USCC"
        );
        assert!(matches!(DocType::TaxNumber.identify("11010519491231002X").unwrap(), Identified::Legacy(_)));
        assert!(matches!(DocType::TaxNumber.identify("11010519491231002X01").unwrap(), Identified::Legacy(_)));
        assert!(DocType::TaxNumber.identify("11010519491231002101").is_err(), "bad ID check");
        assert!(DocType::TaxNumber.identify("1234567").is_err());
    }

    #[test]
    fn person_documents() {
        let p = subject(DocType::Passport, "e1234 5678");
        assert_eq!(p.key(), "P-PP-E12345678");
        assert_eq!(p.display(), "P-PP-E1*****78");
        assert!(!format!("{p:?}").contains("E12345678"));
        assert_eq!(p.kind(), crate::codes::SubjectKind::NaturalPerson);
        assert_eq!(SubjectCode::parse("p-pp-e12345678").unwrap(), p, "keys parse back, case folded");
        assert!(DocType::Passport.identify("E12").is_err());
        assert!(DocType::Passport.identify("E1234567890123456789X").is_err());
        assert_eq!(subject(DocType::HkMacaoPermit, "H12345678").key(), "P-HM-H12345678");
        assert_eq!(subject(DocType::HkMacaoPermit, "M1234567801").key(), "P-HM-M1234567801");
        for bad in ["X12345678", "H1234567", "H123456789", "H1234567A"] {
            assert!(DocType::HkMacaoPermit.identify(bad).is_err(), "{bad}");
        }
        assert_eq!(subject(DocType::TaiwanPermit, "01234567").key(), "P-TW-01234567");
        assert!(DocType::TaiwanPermit.identify("0123456").is_err());
        // residence permits are GB 11643 numbers of the regions 81/82/83
        let hk = ResidentId::complete("81000019900101123").unwrap();
        assert!(matches!(subject(DocType::ResidencePermit, hk.expose()), SubjectCode::Resident(_)));
        let bj = ResidentId::complete("11010519900101123").unwrap();
        assert_eq!(DocType::ResidencePermit.identify(bj.expose()).unwrap_err()[0].rule(), "format");
        // permanent residence: 2023 numbers are GB 11643 numbers starting with 9
        let new = ResidentId::complete("91115619850101001").unwrap();
        assert_eq!(subject(DocType::ForeignPermanentResident, new.expose()).key(), new.expose());
        assert_eq!(subject(DocType::ForeignPermanentResident, "USA118501010011").key(), "P-FR-USA118501010011");
        assert!(DocType::ForeignPermanentResident.identify("USA118513010011").is_err(), "month 13");
        assert!(DocType::ForeignPermanentResident.identify(bj.expose()).is_err(), "a citizen's ID");
        let f = subject(DocType::ForeignRegistration, "HRB 12345");
        assert_eq!((f.key(), f.display().as_str()), ("F-RN-HRB12345", "F-RN-HRB12345"));
        assert_eq!(f.kind(), crate::codes::SubjectKind::ForeignOrganisation);
    }

    #[test]
    fn typed_keys_never_collide_with_codes() {
        for bad in ["P-PP-E1", "P-XX-E12345678", "F-PP-E12345678", "P-HM-X12345678", "PP-E12345678", "P-PP-"] {
            assert!(SubjectCode::parse(bad).is_err(), "{bad}");
        }
        // a key is not a USCC or a resident ID after hyphens are dropped
        assert!(SubjectCode::parse("P-PP-E12345678").unwrap().key().contains('-'));
    }

    #[test]
    fn masks() {
        assert_eq!(mask_number(Some(DocType::OrgCode), "551385082"), "551385082", "an organisation's code is public");
        assert_eq!(mask_number(Some(DocType::Passport), "E12345678"), "E1*****78");
        assert_eq!(mask_number(Some(DocType::ResidentId), "11010519491231002X"), "110105********002X");
        assert_eq!(mask_number(None, "11010519491231002X"), "110105********002X");
        assert_eq!(mask_document("E12345678"), "E1*****78");
        assert_eq!(mask_document("1234"), "****");
        assert_eq!(mask_document("USA118501010011"), "USA*********011");
        for n in 5..30 {
            let s: String = (0..n).map(|i| char::from(b'A' + (i % 26) as u8)).collect();
            let m = mask_document(&s);
            assert_eq!(m.chars().count(), n);
            assert!(m.chars().filter(|c| *c == '*').count() * 2 >= n, "at least half hidden: {m}");
        }
    }

    fn org_value(c: u8) -> u32 {
        if c.is_ascii_digit() { u32::from(c - b'0') } else { u32::from(c - b'A') + 10 }
    }

    proptest! {
        #[test]
        fn registration_numbers_round_trip_and_catch_every_substitution(body in "[0-9]{14}", pos in 0usize..15, d in 0u8..10) {
            let n = complete_registration_number(&body).unwrap();
            prop_assert!(check_registration_number(&n).is_ok());
            let mut b = n.clone().into_bytes();
            prop_assume!(b[pos] != b'0' + d);
            b[pos] = b'0' + d;
            let changed = String::from_utf8(b).unwrap();
            prop_assert!(check_registration_number(&changed).is_err(), "{} accepted", changed);
            prop_assert!(DocType::RegistrationNumber.identify(&changed).is_err());
        }

        /// GB 11714's weights are prime to 11: a substitution is caught unless the two
        /// characters' values differ by a multiple of 11 (A↔L, B↔M, …), which no
        /// weighted mod-11 check can catch.
        #[test]
        fn org_codes_round_trip_and_catch_substitutions(body in "[0-9A-Z]{8}", pos in 0usize..9, c in "[0-9A-Z]") {
            let n = complete_org_code(&body).unwrap();
            prop_assert!(check_org_code(&n).is_ok());
            let c = c.as_bytes()[0];
            let mut b = n.clone().into_bytes();
            prop_assume!(b[pos] != c);
            let old = b[pos];
            b[pos] = c;
            let changed = String::from_utf8(b).unwrap();
            let undetectable = pos < 8 && org_value(old).abs_diff(org_value(c)).is_multiple_of(11);
            prop_assert_eq!(check_org_code(&changed).is_ok(), undetectable, "{}", changed);
        }

        #[test]
        fn tax_numbers_catch_substitutions_in_the_organisation_code(div in "[0-9]{6}", body in "[0-9]{8}", pos in 6usize..15, d in 0u8..10) {
            let n = format!("{div}{}", complete_org_code(&body).unwrap());
            prop_assert!(matches!(DocType::TaxNumber.identify(&n), Ok(Identified::Legacy(_))));
            let mut b = n.into_bytes();
            prop_assume!(b[pos] != b'0' + d);
            b[pos] = b'0' + d;
            prop_assert!(DocType::TaxNumber.identify(&String::from_utf8(b).unwrap()).is_err());
        }

        #[test]
        fn person_keys_round_trip_and_mask(num in "[A-Z0-9]{5,20}", hm in "[HM][0-9]{8}([0-9]{2})?", tw in "[0-9]{8}") {
            for (doc, n) in [(DocType::Passport, &num), (DocType::HkMacaoPermit, &hm), (DocType::TaiwanPermit, &tw)] {
                let s = subject(doc, n);
                prop_assert_eq!(SubjectCode::parse(s.key()).unwrap(), s.clone());
                prop_assert!(!s.display().contains(n.as_str()), "{} shows {}", s.display(), n);
                prop_assert!(Uscc::parse(s.key()).is_err() && ResidentId::parse(s.key()).is_err());
            }
        }

        #[test]
        fn permit_formats_refuse_other_shapes(s in "[A-Z0-9]{1,12}") {
            let hm_ok = s.len() == 9 || s.len() == 11;
            let hm_shape = hm_ok && matches!(s.as_bytes()[0], b'H' | b'M') && s.as_bytes()[1..].iter().all(u8::is_ascii_digit);
            prop_assert_eq!(DocType::HkMacaoPermit.identify(&s).is_ok(), hm_shape);
            let tw_shape = s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit());
            prop_assert_eq!(DocType::TaiwanPermit.identify(&s).is_ok(), tw_shape);
        }

        #[test]
        fn new_permanent_resident_ids_catch_every_substitution(rest in "[0-9]{5}", days in 0i64..30000, seq in "[0-9]{3}", pos in 0usize..18, d in 0u8..10) {
            let birth = time::Date::from_calendar_date(1940, time::Month::January, 1).unwrap() + time::Duration::days(days);
            let first17 = format!("9{rest}{:04}{:02}{:02}{seq}", birth.year(), u8::from(birth.month()), birth.day());
            let id = ResidentId::complete(&first17).unwrap();
            prop_assert!(DocType::ForeignPermanentResident.identify(id.expose()).is_ok());
            let mut b = id.expose().as_bytes().to_vec();
            prop_assume!(b[pos] != b'0' + d);
            b[pos] = b'0' + d;
            prop_assert!(DocType::ForeignPermanentResident.identify(&String::from_utf8(b).unwrap()).is_err());
        }
    }
}
