//! Subject codes: the unified social credit code (统一社会信用代码, USCC; GB 32100-2015
//! with the embedded organisation code of GB 11714) and the resident identity number
//! (居民身份证号码, GB 11643). Both are valid by construction: the only way to get one is
//! to parse it, and parsing checks every rule of the standard.

use std::fmt;

use serde::Serialize;

use crate::documents::DocKey;

/// The 31 characters of GB 32100 (no I, O, Z, S, V), in value order.
pub const USCC_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
/// Registration authorities named by GB 32100 (position 1).
const AUTHORITIES: &[u8] = b"123456789ANY";
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: &[u8; 11] = b"10X98765432";

/// Why a code was refused; each variant names the rule of the standard that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum CodeError {
    #[error("长度应为 18 位，实为 {len} 位 / length must be 18, got {len}")]
    Length { len: usize },
    #[error("第 {position} 位字符 '{ch}' 不在代码字符集内 / character '{ch}' at position {position} is not allowed")]
    Character { position: usize, ch: char },
    #[error(
        "第 1 位登记管理部门代码 '{ch}' 未在 GB 32100 中定义 / registration authority '{ch}' (position 1) is not defined by GB 32100"
    )]
    Authority { ch: char },
    #[error("第 3–8 位行政区划码应为数字 / positions 3–8 (administrative division) must be digits")]
    Division,
    #[error(
        "第 9–17 位组织机构代码校验位应为 '{expected}'，实为 '{found}' / organisation code check (position 17) should be '{expected}', found '{found}'"
    )]
    OrgCheck { expected: char, found: char },
    #[error(
        "第 18 位校验码应为 '{expected}'，实为 '{found}' / check character (position 18) should be '{expected}', found '{found}'"
    )]
    CheckChar { expected: char, found: char },
    #[error("前 17 位应为数字 / the first 17 characters must be digits")]
    IdDigits,
    #[error("第 7–14 位出生日期 {date} 不是有效日期 / birth date {date} (positions 7–14) is not a real date")]
    IdBirthDate { date: String },
    #[error("代码为空 / the code is empty")]
    Empty,
    /// A document number of the wrong shape (passports, permits, old identifiers).
    #[error("{zh} / {en}")]
    Format { zh: &'static str, en: &'static str },
    /// The check character of a document other than the USCC (its position varies).
    #[error(
        "第 {position} 位校验码应为 '{expected}'，实为 '{found}' / check character (position {position}) should be '{expected}', found '{found}'"
    )]
    CheckAt { position: usize, expected: char, found: char },
}

impl CodeError {
    /// Stable rule identifier for machines (the serde tag).
    pub fn rule(&self) -> &'static str {
        match self {
            CodeError::Length { .. } => "length",
            CodeError::Character { .. } => "character",
            CodeError::Authority { .. } => "authority",
            CodeError::Division => "division",
            CodeError::OrgCheck { .. } => "org_check",
            CodeError::CheckChar { .. } => "check_char",
            CodeError::IdDigits => "id_digits",
            CodeError::IdBirthDate { .. } => "id_birth_date",
            CodeError::Empty => "empty",
            CodeError::Format { .. } => "format",
            CodeError::CheckAt { .. } => "check_char",
        }
    }
}

/// Upper-cases, maps full-width forms to ASCII and drops spaces and hyphens: the
/// variations departments' spreadsheets really contain.
pub fn normalize_code(input: &str) -> String {
    input
        .chars()
        .map(fullwidth_to_ascii)
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '\u{200b}' && *c != '\u{feff}')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Full-width ASCII variants (U+FF01–U+FF5E) and the ideographic space to ASCII.
pub fn fullwidth_to_ascii(c: char) -> char {
    match c {
        '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

fn uscc_value(b: u8) -> Option<u32> {
    USCC_ALPHABET.iter().position(|&a| a == b).map(|p| p as u32)
}

/// Check character of the first 17 characters (which must be in the alphabet).
fn uscc_check_char(first17: &[u8]) -> Option<u8> {
    let mut sum = 0u32;
    for (b, w) in first17.iter().zip(USCC_WEIGHTS) {
        sum += uscc_value(*b)? * w;
    }
    USCC_ALPHABET.get(((31 - sum % 31) % 31) as usize).copied()
}

/// GB 11714 check character of the 8-character organisation code body.
pub(crate) fn org_check_char(body: &[u8]) -> Option<u8> {
    let mut sum = 0u32;
    for (b, w) in body.iter().zip(ORG_WEIGHTS) {
        let v = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'A'..=b'Z' => u32::from(b - b'A') + 10,
            _ => return None,
        };
        sum += v * w;
    }
    Some(match 11 - sum % 11 {
        10 => b'X',
        11 => b'0',
        d => b'0' + d as u8,
    })
}

/// The kind of subject a code names (positions 1–2 of a USCC; a resident ID is a person).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// 机关
    Organ,
    /// 事业单位
    PublicInstitution,
    /// 群团组织
    MassOrganisation,
    /// 社会团体
    SocialOrganisation,
    /// 民办非企业单位 / 社会服务机构
    PrivateNonEnterprise,
    /// 基金会
    Foundation,
    /// 企业
    Enterprise,
    /// 个体工商户
    IndividualBusiness,
    /// 农民专业合作社
    FarmerCooperative,
    /// 农村集体经济组织
    RuralCollective,
    /// 其他组织
    OtherOrganisation,
    /// 自然人
    NaturalPerson,
    /// 境外组织: known by a foreign registration number, without a USCC.
    ForeignOrganisation,
}

impl SubjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Organ => "organ",
            SubjectKind::PublicInstitution => "public_institution",
            SubjectKind::MassOrganisation => "mass_organisation",
            SubjectKind::SocialOrganisation => "social_organisation",
            SubjectKind::PrivateNonEnterprise => "private_non_enterprise",
            SubjectKind::Foundation => "foundation",
            SubjectKind::Enterprise => "enterprise",
            SubjectKind::IndividualBusiness => "individual_business",
            SubjectKind::FarmerCooperative => "farmer_cooperative",
            SubjectKind::RuralCollective => "rural_collective",
            SubjectKind::OtherOrganisation => "other_organisation",
            SubjectKind::NaturalPerson => "natural_person",
            SubjectKind::ForeignOrganisation => "foreign_organisation",
        }
    }

    pub fn parse(s: &str) -> Option<SubjectKind> {
        ALL_KINDS.iter().copied().find(|k| k.as_str() == s)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            SubjectKind::Organ => "机关",
            SubjectKind::PublicInstitution => "事业单位",
            SubjectKind::MassOrganisation => "群团组织",
            SubjectKind::SocialOrganisation => "社会团体",
            SubjectKind::PrivateNonEnterprise => "民办非企业单位",
            SubjectKind::Foundation => "基金会",
            SubjectKind::Enterprise => "企业",
            SubjectKind::IndividualBusiness => "个体工商户",
            SubjectKind::FarmerCooperative => "农民专业合作社",
            SubjectKind::RuralCollective => "农村集体经济组织",
            SubjectKind::OtherOrganisation => "其他组织",
            SubjectKind::NaturalPerson => "自然人",
            SubjectKind::ForeignOrganisation => "境外组织",
        }
    }

    fn from_uscc_prefix(authority: u8, kind: u8) -> SubjectKind {
        match (authority, kind) {
            (b'1', b'1') => SubjectKind::Organ,
            (b'1', b'2') => SubjectKind::PublicInstitution,
            (b'1', b'3') => SubjectKind::MassOrganisation,
            (b'5', b'1') => SubjectKind::SocialOrganisation,
            (b'5', b'2') => SubjectKind::PrivateNonEnterprise,
            (b'5', b'3') => SubjectKind::Foundation,
            (b'9', b'1') => SubjectKind::Enterprise,
            (b'9', b'2') => SubjectKind::IndividualBusiness,
            (b'9', b'3') => SubjectKind::FarmerCooperative,
            (b'N', _) => SubjectKind::RuralCollective,
            _ => SubjectKind::OtherOrganisation,
        }
    }
}

const ALL_KINDS: [SubjectKind; 13] = [
    SubjectKind::Organ,
    SubjectKind::PublicInstitution,
    SubjectKind::MassOrganisation,
    SubjectKind::SocialOrganisation,
    SubjectKind::PrivateNonEnterprise,
    SubjectKind::Foundation,
    SubjectKind::Enterprise,
    SubjectKind::IndividualBusiness,
    SubjectKind::FarmerCooperative,
    SubjectKind::RuralCollective,
    SubjectKind::OtherOrganisation,
    SubjectKind::NaturalPerson,
    SubjectKind::ForeignOrganisation,
];

/// A unified social credit code that passed every GB 32100 rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Uscc(String);

impl Uscc {
    /// Parses after normalising; returns every rule that failed, most basic first.
    pub fn parse(input: &str) -> Result<Uscc, Vec<CodeError>> {
        let s = normalize_code(input);
        let b = s.as_bytes();
        if b.is_empty() {
            return Err(vec![CodeError::Empty]);
        }
        if s.chars().count() != 18 {
            return Err(vec![CodeError::Length { len: s.chars().count() }]);
        }
        let mut errors = Vec::new();
        for (i, c) in s.chars().enumerate() {
            if !c.is_ascii() || uscc_value(c as u8).is_none() {
                errors.push(CodeError::Character { position: i + 1, ch: c });
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        if !AUTHORITIES.contains(&b[0]) {
            errors.push(CodeError::Authority { ch: char::from(b[0]) });
        }
        if !b[2..8].iter().all(u8::is_ascii_digit) {
            errors.push(CodeError::Division);
        }
        if let Some(expected) = org_check_char(&b[8..16])
            && expected != b[16]
        {
            errors.push(CodeError::OrgCheck { expected: char::from(expected), found: char::from(b[16]) });
        }
        if let Some(expected) = uscc_check_char(&b[..17])
            && expected != b[17]
        {
            errors.push(CodeError::CheckChar { expected: char::from(expected), found: char::from(b[17]) });
        }
        if errors.is_empty() { Ok(Uscc(s)) } else { Err(errors) }
    }

    /// Builds a valid code from its first 16 characters by computing both check
    /// characters; used by the synthetic data generator. `None` if the body is invalid.
    pub fn complete(first16: &str) -> Option<Uscc> {
        let b = first16.as_bytes();
        if b.len() != 16 {
            return None;
        }
        let mut s = first16.to_string();
        s.push(char::from(org_check_char(&b[8..16])?));
        s.push(char::from(uscc_check_char(s.as_bytes())?));
        Uscc::parse(&s).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn kind(&self) -> SubjectKind {
        let b = self.0.as_bytes();
        SubjectKind::from_uscc_prefix(b[0], b[1])
    }

    /// GB/T 2260 administrative division (positions 3–8).
    pub fn division(&self) -> &str {
        &self.0[2..8]
    }

    /// The GB 11714 organisation code it embeds (positions 9–17): an old record that
    /// names the organisation code finds this subject by it.
    pub fn org_code(&self) -> &str {
        &self.0[8..17]
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A resident identity number (GB 11643). Personal information: `Display` and `Debug`
/// show it masked; only [`ResidentId::expose`] gives the full number, for matching.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResidentId(String);

impl ResidentId {
    pub fn parse(input: &str) -> Result<ResidentId, Vec<CodeError>> {
        let s = normalize_code(input);
        let b = s.as_bytes();
        if b.is_empty() {
            return Err(vec![CodeError::Empty]);
        }
        if s.chars().count() != 18 {
            return Err(vec![CodeError::Length { len: s.chars().count() }]);
        }
        if !b[..17].iter().all(u8::is_ascii_digit) {
            return Err(vec![CodeError::IdDigits]);
        }
        let mut errors = Vec::new();
        let last = s.chars().nth(17).unwrap_or(' ');
        if !(last.is_ascii_digit() || last == 'X') {
            errors.push(CodeError::Character { position: 18, ch: last });
        }
        let date = &s[6..14];
        if !valid_birth_date(date) {
            errors.push(CodeError::IdBirthDate { date: date.to_string() });
        }
        let sum: u32 = b[..17].iter().zip(ID_WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
        let expected = ID_CHECK[(sum % 11) as usize];
        if errors.is_empty() && expected != b[17] {
            errors.push(CodeError::CheckChar { expected: char::from(expected), found: char::from(b[17]) });
        }
        if errors.is_empty() { Ok(ResidentId(s)) } else { Err(errors) }
    }

    /// Builds a valid number from its first 17 digits (synthetic data, tests).
    pub fn complete(first17: &str) -> Option<ResidentId> {
        let b = first17.as_bytes();
        if b.len() != 17 || !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let sum: u32 = b.iter().zip(ID_WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
        let mut s = first17.to_string();
        s.push(char::from(ID_CHECK[(sum % 11) as usize]));
        ResidentId::parse(&s).ok()
    }

    /// The full number, for storage and matching only; never for display.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `110108********0012`: region kept, birth date hidden.
    pub fn masked(&self) -> String {
        mask_id(&self.0)
    }
}

/// Masks any personal identifier: first 6 and last 4 characters kept.
pub fn mask_id(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 10 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..6].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 10))
}

fn valid_birth_date(yyyymmdd: &str) -> bool {
    let (Ok(y), Ok(m), Ok(d)) =
        (yyyymmdd[0..4].parse::<i32>(), yyyymmdd[4..6].parse::<u8>(), yyyymmdd[6..8].parse::<u8>())
    else {
        return false;
    };
    if !(1900..=2100).contains(&y) {
        return false;
    }
    let Ok(month) = time::Month::try_from(m) else { return false };
    time::Date::from_calendar_date(y, month, d).is_ok()
}

impl fmt::Display for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResidentId({})", self.masked())
    }
}

/// The key of a subject: a USCC for organisations, a resident ID for natural persons
/// (also the GB 11643-format numbers of 港澳台居民居住证 and the 2023 外国人永久居留身份证),
/// and a typed key (`P-PP-E12345678`, `F-RN-…`, see [`crate::documents`]) for persons
/// and foreign organisations known by another document.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SubjectCode {
    Uscc(Uscc),
    Resident(ResidentId),
    Document(DocKey),
}

impl SubjectCode {
    /// Tries a typed key (`P-…`/`F-…`: no USCC or resident ID starts so), then USCC,
    /// then resident ID. When both fail, the errors reported are those of the reading
    /// the input resembles (digits with a real birth date → resident ID).
    pub fn parse(input: &str) -> Result<SubjectCode, Vec<CodeError>> {
        let head: String = input.trim_start().chars().take(2).map(fullwidth_to_ascii).collect();
        if matches!(head.as_str(), "P-" | "p-" | "F-" | "f-") {
            return DocKey::parse(input).map(SubjectCode::Document);
        }
        let uscc = match Uscc::parse(input) {
            Ok(u) => return Ok(SubjectCode::Uscc(u)),
            Err(e) => e,
        };
        let id = match ResidentId::parse(input) {
            Ok(r) => return Ok(SubjectCode::Resident(r)),
            Err(e) => e,
        };
        let n = normalize_code(input);
        let looks_like_id = n.len() == 18
            && n.as_bytes()[..17].iter().all(u8::is_ascii_digit)
            && matches!(n.as_bytes()[17], b'0'..=b'9' | b'X')
            && valid_birth_date(&n[6..14]);
        Err(if looks_like_id { id } else { uscc })
    }

    /// The stored key (full value, also for personal documents).
    pub fn key(&self) -> &str {
        match self {
            SubjectCode::Uscc(u) => u.as_str(),
            SubjectCode::Resident(r) => r.expose(),
            SubjectCode::Document(d) => d.key(),
        }
    }

    /// What may be shown publicly: every natural person's number masked.
    pub fn display(&self) -> String {
        match self {
            SubjectCode::Uscc(u) => u.as_str().to_string(),
            SubjectCode::Resident(r) => r.masked(),
            SubjectCode::Document(d) => d.display(),
        }
    }

    pub fn kind(&self) -> SubjectKind {
        match self {
            SubjectCode::Uscc(u) => u.kind(),
            SubjectCode::Resident(_) => SubjectKind::NaturalPerson,
            SubjectCode::Document(d) if d.is_person() => SubjectKind::NaturalPerson,
            SubjectCode::Document(_) => SubjectKind::ForeignOrganisation,
        }
    }

    /// Whether the key is personal information (shown masked, never in full publicly).
    pub fn is_person(&self) -> bool {
        self.kind() == SubjectKind::NaturalPerson
    }

    /// The division a USCC names (positions 3–8); none for other keys.
    pub fn division(&self) -> Option<&str> {
        match self {
            SubjectCode::Uscc(u) => Some(u.division()),
            _ => None,
        }
    }

    /// `"uscc"`, `"resident_id"` (the `code check` contract) or the document type
    /// (`"passport"`, `"hk_macao_permit"`, …).
    pub fn scheme(&self) -> &'static str {
        match self {
            SubjectCode::Uscc(_) => "uscc",
            SubjectCode::Resident(_) => "resident_id",
            SubjectCode::Document(d) => d.doc().as_str(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_codes() {
        let u = Uscc::parse("91110108551385082Q").unwrap();
        assert_eq!(u.kind(), SubjectKind::Enterprise);
        assert_eq!(u.division(), "110108");
        let e = Uscc::parse("91110108551385082R").unwrap_err();
        assert_eq!(e, vec![CodeError::CheckChar { expected: 'Q', found: 'R' }]);
        // normalisation: lower case, spaces, hyphens, full-width
        assert!(Uscc::parse(" 9111-0108 5513 85082q ").is_ok());
        assert!(Uscc::parse("９１１１０１０８５５１３８５０８２Ｑ").is_ok());
        assert_eq!(Uscc::parse("91110108551385082").unwrap_err(), vec![CodeError::Length { len: 17 }]);
        assert!(matches!(
            Uscc::parse("91110108551385O82Q").unwrap_err()[0],
            CodeError::Character { position: 15, ch: 'O' }
        ));
    }

    #[test]
    fn resident_ids() {
        // GB 11643 example number
        let r = ResidentId::parse("11010519491231002x").unwrap();
        assert_eq!(r.expose(), "11010519491231002X");
        assert_eq!(r.masked(), "110105********002X");
        assert_eq!(format!("{r}"), "110105********002X");
        assert!(!format!("{r:?}").contains("19491231"));
        assert!(matches!(ResidentId::parse("110105194913310021").unwrap_err()[0], CodeError::IdBirthDate { .. }));
        assert_eq!(SubjectCode::parse("11010519491231002X").unwrap().scheme(), "resident_id");
        let e = SubjectCode::parse("110105194912310021").unwrap_err();
        assert!(matches!(e[0], CodeError::CheckChar { expected: 'X', .. }));
    }

    fn alphabet_char() -> impl Strategy<Value = u8> {
        (0usize..31).prop_map(|i| USCC_ALPHABET[i])
    }

    fn valid_uscc() -> impl Strategy<Value = Uscc> {
        (
            (0usize..AUTHORITIES.len()).prop_map(|i| AUTHORITIES[i]),
            alphabet_char(),
            proptest::collection::vec(0u8..10, 6),
            proptest::collection::vec(alphabet_char(), 8),
        )
            .prop_map(|(a, k, div, org)| {
                let mut s = String::new();
                s.push(char::from(a));
                s.push(char::from(k));
                s.extend(div.iter().map(|d| char::from(b'0' + d)));
                s.extend(org.iter().map(|&c| char::from(c)));
                Uscc::complete(&s).unwrap()
            })
    }

    proptest! {
        #[test]
        fn valid_uscc_round_trips(u in valid_uscc()) {
            let again = Uscc::parse(u.as_str()).unwrap();
            prop_assert_eq!(&again, &u);
            let lower = u.as_str().to_lowercase();
            prop_assert_eq!(Uscc::parse(&lower).unwrap(), u);
        }

        #[test]
        fn any_single_substitution_is_rejected(u in valid_uscc(), pos in 0usize..18, c in any::<char>()) {
            let mut chars: Vec<char> = u.as_str().chars().collect();
            prop_assume!(chars[pos] != c && normalize_code(&c.to_string()) != chars[pos].to_string());
            prop_assume!(!c.is_whitespace() && c != '-' && fullwidth_to_ascii(c) != chars[pos] && fullwidth_to_ascii(c).to_ascii_uppercase() != chars[pos]);
            chars[pos] = c;
            let s: String = chars.into_iter().collect();
            prop_assert!(Uscc::parse(&s).is_err(), "{} accepted", s);
        }

        #[test]
        fn alphabet_substitution_is_rejected(u in valid_uscc(), pos in 0usize..18, c in alphabet_char()) {
            let mut b = u.as_str().as_bytes().to_vec();
            prop_assume!(b[pos] != c);
            b[pos] = c;
            let s = String::from_utf8(b).unwrap();
            prop_assert!(Uscc::parse(&s).is_err(), "{} accepted", s);
        }

        #[test]
        fn resident_round_trip_and_substitution(region in 110000u32..660000, days in 0i64..40000, seq in 0u32..1000, pos in 0usize..18, d in 0u8..10) {
            let birth = time::Date::from_calendar_date(1920, time::Month::January, 1).unwrap() + time::Duration::days(days);
            let first17 = format!("{region:06}{:04}{:02}{:02}{seq:03}", birth.year(), u8::from(birth.month()), birth.day());
            let id = ResidentId::complete(&first17).unwrap();
            prop_assert_eq!(ResidentId::parse(id.expose()).unwrap(), id.clone());
            let mut b = id.expose().as_bytes().to_vec();
            let c = b'0' + d;
            prop_assume!(b[pos] != c);
            b[pos] = c;
            prop_assert!(ResidentId::parse(&String::from_utf8(b).unwrap()).is_err());
        }
    }
}
