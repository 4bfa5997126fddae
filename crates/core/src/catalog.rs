//! The public credit information catalog (公共信用信息目录): the whitelist of items a
//! record may carry. Items are data files under `data/catalog/`, bundled into the
//! binary so a deployment cannot drift from the version it was built with.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Nature of an item (信息性质).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Nature {
    Positive,
    Neutral,
    Negative,
}

/// Seriousness tier of negative information (失信程度), as Order 36 (2025) names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// 轻微
    Minor,
    /// 一般
    General,
    /// 严重
    Serious,
    /// 特定严重 (527号 before 2023-05-01: not repairable)
    SpeciallySerious,
}

impl Tier {
    pub fn from_zh(s: &str) -> Option<Tier> {
        match s {
            "轻微" => Some(Tier::Minor),
            "一般" => Some(Tier::General),
            "严重" => Some(Tier::Serious),
            "特定严重" => Some(Tier::SpeciallySerious),
            _ => None,
        }
    }
}

/// Who may see an item (公开属性).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Disclosure {
    /// 社会公开
    Public,
    /// 政务共享
    Shared,
    /// 授权查询
    Authorised,
    /// 内部管理
    Internal,
}

/// Where an item's records come from (信息来源).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Departments' files and batches.
    #[default]
    Departments,
    /// The platform's own rules write them through intake under the deciding
    /// department's name (a broken credit commitment); a department may still send rows
    /// of its own. No department file carries them, so `xinyong gen` writes none.
    Platform,
}

impl Origin {
    pub fn is_departments(&self) -> bool {
        *self == Origin::Departments
    }
}

/// Value type of a field; the validation each type implies lives in `record`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    /// A USCC (organisations only).
    Uscc,
    /// A USCC or a resident ID: the subject of the record.
    SubjectCode,
    /// A resident ID: personal information, stored for matching, shown masked.
    ResidentId,
    /// Any identity document number (type given by another field, see [`Item::document`]);
    /// a natural person's shown masked.
    PersonalId,
    /// 工商注册号: 15 digits with the GS 15-2006 check digit.
    RegistrationNumber,
    /// 组织机构代码: GB 11714.
    OrgCode,
    /// 税务登记号: 15, 18 or 20 characters.
    TaxNumber,
    Date,
    /// Non-negative decimal, e.g. amounts in 万元 (never a float).
    Decimal,
    Integer,
    /// One of `values`.
    Enum,
    /// One or more of `values`, separated by `；;、,，`.
    EnumList,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    /// Chinese column name as departments' files carry it.
    pub name: String,
    /// English label.
    pub en: String,
    #[serde(rename = "type")]
    pub ty: FieldType,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub max_len: Option<usize>,
    #[serde(default)]
    pub values: Vec<String>,
    /// Decimal places allowed (Decimal only).
    #[serde(default)]
    pub scale: Option<u32>,
    #[serde(default)]
    pub description: Option<String>,
}

/// What a registration item projects onto the subject.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SubjectProjection {
    #[serde(default)]
    pub former_names: Option<String>,
    #[serde(default)]
    pub legal_rep_name: Option<String>,
    #[serde(default)]
    pub legal_rep_id: Option<String>,
    #[serde(default)]
    pub division: Option<String>,
    #[serde(default)]
    pub industry: Option<String>,
    /// Old identifiers the subject is also known by: records carrying only one of them
    /// attach to this subject.
    #[serde(default)]
    pub registration_number: Option<String>,
    #[serde(default)]
    pub org_code: Option<String>,
    #[serde(default)]
    pub tax_number: Option<String>,
}

/// The fields naming the subject by a document (证件类型 + 证件号码) when the subject
/// code field is empty: persons with a passport or permit, foreign organisations, old
/// registrations.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DocumentFields {
    /// An enum field whose values are document types (证件类型 as `documents::DocType` reads them).
    pub type_field: String,
    /// A `personal_id` field.
    pub number_field: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// Category of the national base catalogue (基础目录).
    pub category: String,
    pub category_en: String,
    pub nature: Nature,
    /// Tier when the record does not say (negative items).
    #[serde(default)]
    pub default_tier: Option<Tier>,
    /// Field carrying the tier per record, if any.
    #[serde(default)]
    pub tier_field: Option<String>,
    pub disclosure: Disclosure,
    /// Publication rule id (see `data/publication/`); `none` when never published.
    pub publication: String,
    /// Where the item's records come from (`departments` when the file does not say).
    #[serde(default, skip_serializing_if = "Origin::is_departments")]
    pub origin: Origin,
    /// Fields whose values identify a record within provider + item.
    pub key: Vec<String>,
    /// The subject's USCC or resident ID; may be optional when `document` is set.
    pub subject_code_field: String,
    pub subject_name_field: String,
    /// 证件类型 + 证件号码: the subject named by a document when the code field is empty.
    #[serde(default)]
    pub document: Option<DocumentFields>,
    #[serde(default)]
    pub decision_date_field: Option<String>,
    /// Set on the registration item: its rows describe the subject itself.
    #[serde(default)]
    pub subject_projection: Option<SubjectProjection>,
    #[serde(rename = "field")]
    pub fields: Vec<FieldDef>,
}

impl Item {
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("catalog file {file}: {message}")]
    Parse { file: String, message: String },
    #[error("catalog item {item}: {message}")]
    Invalid { item: String, message: String },
}

/// The set of items, by code.
#[derive(Debug, Clone)]
pub struct Catalog {
    items: BTreeMap<String, Item>,
}

const BUNDLED: &[(&str, &str)] = &[
    ("registration.toml", include_str!("../../../data/catalog/registration.toml")),
    ("admin_licence.toml", include_str!("../../../data/catalog/admin_licence.toml")),
    ("admin_penalty.toml", include_str!("../../../data/catalog/admin_penalty.toml")),
    ("abnormal_operation.toml", include_str!("../../../data/catalog/abnormal_operation.toml")),
    ("dishonest_debtor.toml", include_str!("../../../data/catalog/dishonest_debtor.toml")),
    ("false_litigation.toml", include_str!("../../../data/catalog/false_litigation.toml")),
    ("credit_commitment.toml", include_str!("../../../data/catalog/credit_commitment.toml")),
    ("honour.toml", include_str!("../../../data/catalog/honour.toml")),
    ("voluntary_registration.toml", include_str!("../../../data/catalog/voluntary_registration.toml")),
    ("commitment_breach.toml", include_str!("../../../data/catalog/commitment_breach.toml")),
    ("admin_enforcement.toml", include_str!("../../../data/catalog/admin_enforcement.toml")),
    ("admin_confirmation.toml", include_str!("../../../data/catalog/admin_confirmation.toml")),
    ("admin_levy.toml", include_str!("../../../data/catalog/admin_levy.toml")),
    ("admin_benefit.toml", include_str!("../../../data/catalog/admin_benefit.toml")),
    ("admin_adjudication.toml", include_str!("../../../data/catalog/admin_adjudication.toml")),
    ("admin_compensation.toml", include_str!("../../../data/catalog/admin_compensation.toml")),
    ("admin_reward.toml", include_str!("../../../data/catalog/admin_reward.toml")),
    ("admin_inspection.toml", include_str!("../../../data/catalog/admin_inspection.toml")),
    ("tax_credit_rating.toml", include_str!("../../../data/catalog/tax_credit_rating.toml")),
    ("product_quality_failure.toml", include_str!("../../../data/catalog/product_quality_failure.toml")),
    ("criminal_judgment.toml", include_str!("../../../data/catalog/criminal_judgment.toml")),
];

impl Catalog {
    /// The catalog shipped with this build.
    pub fn bundled() -> Result<Catalog, CatalogError> {
        Catalog::from_files(BUNDLED.iter().map(|(f, t)| (*f, *t)))
    }

    pub fn from_files<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Catalog, CatalogError> {
        let mut items = BTreeMap::new();
        for (file, text) in files {
            let item: Item = toml::from_str(text)
                .map_err(|e| CatalogError::Parse { file: file.to_string(), message: e.to_string() })?;
            check_item(&item)?;
            if items.contains_key(&item.code) {
                return Err(CatalogError::Invalid { item: item.code, message: "duplicate item code".into() });
            }
            items.insert(item.code.clone(), item);
        }
        Ok(Catalog { items })
    }

    pub fn item(&self, code: &str) -> Option<&Item> {
        self.items.get(code)
    }

    pub fn items(&self) -> impl Iterator<Item = &Item> {
        self.items.values()
    }
}

/// Refuses an item whose references point nowhere: a broken catalog must fail at
/// start, not on the first row that needs the missing field.
fn check_item(item: &Item) -> Result<(), CatalogError> {
    let bad = |message: String| CatalogError::Invalid { item: item.code.clone(), message };
    let must_exist = |name: &str, role: &str| -> Result<&FieldDef, CatalogError> {
        item.field(name).ok_or_else(|| bad(format!("{role} field '{name}' is not defined")))
    };
    let code = must_exist(&item.subject_code_field, "subject code")?;
    if !matches!(code.ty, FieldType::Uscc | FieldType::SubjectCode) || !(code.required || item.document.is_some()) {
        return Err(bad(
            "the subject code field must be a uscc or subject_code, required unless the item names a document".into(),
        ));
    }
    if let Some(d) = &item.document {
        let t = must_exist(&d.type_field, "document type")?;
        if t.ty != FieldType::Enum {
            return Err(bad(format!("document type field '{}' must be an enum", t.name)));
        }
        if let Some(v) = t.values.iter().find(|v| crate::documents::DocType::from_zh(v).is_none()) {
            return Err(bad(format!("document type '{v}' is not a known document type")));
        }
        if must_exist(&d.number_field, "document number")?.ty != FieldType::PersonalId {
            return Err(bad(format!("document number field '{}' must have type personal_id", d.number_field)));
        }
    }
    must_exist(&item.subject_name_field, "subject name")?;
    if let Some(d) = &item.decision_date_field
        && must_exist(d, "decision date")?.ty != FieldType::Date
    {
        return Err(bad(format!("decision date field '{d}' must have type date")));
    }
    if let Some(t) = &item.tier_field {
        let f = must_exist(t, "tier")?;
        if let Some(v) = f.values.iter().find(|v| Tier::from_zh(v).is_none()) {
            return Err(bad(format!("tier value '{v}' is not one of 轻微/一般/严重/特定严重")));
        }
    }
    if item.key.is_empty() {
        return Err(bad("an item needs a key".into()));
    }
    for k in &item.key {
        if !must_exist(k, "key")?.required {
            return Err(bad(format!("key field '{k}' must be required")));
        }
    }
    if let Some(p) = &item.subject_projection {
        for name in
            [&p.former_names, &p.legal_rep_name, &p.legal_rep_id, &p.division, &p.industry].into_iter().flatten()
        {
            must_exist(name, "projection")?;
        }
        for (name, ty) in [
            (&p.registration_number, FieldType::RegistrationNumber),
            (&p.org_code, FieldType::OrgCode),
            (&p.tax_number, FieldType::TaxNumber),
        ] {
            if let Some(name) = name
                && must_exist(name, "projection")?.ty != ty
            {
                return Err(bad(format!("projection field '{name}' must have type {ty:?}")));
            }
        }
    }
    for f in &item.fields {
        if matches!(f.ty, FieldType::Enum | FieldType::EnumList) && f.values.is_empty() {
            return Err(bad(format!("enum field '{}' has no values", f.name)));
        }
    }
    let mut names: Vec<&str> = item.fields.iter().map(|f| f.name.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return Err(bad("duplicate field name".into()));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn bundled_catalog_loads_with_the_required_items() {
        let c = Catalog::bundled().unwrap();
        for code in [
            "registration",
            "admin_licence",
            "admin_penalty",
            "abnormal_operation",
            "dishonest_debtor",
            "false_litigation",
            "credit_commitment",
            "honour",
        ] {
            assert!(c.item(code).is_some(), "{code}");
        }
        assert_eq!(c.items().count(), BUNDLED.len(), "every bundled file is one item");

        let p = c.item("admin_penalty").unwrap();
        for f in [
            "行政相对人名称",
            "行政相对人类别",
            "行政处罚决定书文号",
            "违法行为类型",
            "违法事实",
            "处罚依据",
            "处罚类别",
            "处罚内容",
            "处罚决定日期",
            "处罚有效期",
            "处罚机关",
            "处罚机关统一社会信用代码",
            "数据来源单位",
            "数据来源单位统一社会信用代码",
        ] {
            assert!(p.field(f).unwrap().required, "{f} must be required");
        }
    }

    /// Every administrative action that must be public (issue 11): an item each, with a
    /// decision date, a tier when negative, and a category of the base catalogue.
    #[test]
    fn every_administrative_action_is_an_item() {
        let c = Catalog::bundled().unwrap();
        let table = [
            ("admin_enforcement", "行政强制信息", Nature::Negative, "行政管理信息"),
            ("admin_confirmation", "行政确认信息", Nature::Neutral, "行政管理信息"),
            ("admin_levy", "行政征收信息", Nature::Neutral, "行政管理信息"),
            ("admin_benefit", "行政给付信息", Nature::Neutral, "行政管理信息"),
            ("admin_adjudication", "行政裁决信息", Nature::Neutral, "行政管理信息"),
            ("admin_compensation", "行政补偿信息", Nature::Neutral, "行政管理信息"),
            ("admin_reward", "行政奖励信息", Nature::Positive, "行政管理信息"),
            ("admin_inspection", "行政检查信息", Nature::Neutral, "行政管理信息"),
            ("tax_credit_rating", "纳税信用等级信息", Nature::Neutral, "信用评价信息"),
            ("product_quality_failure", "产品质量监督抽查不合格信息", Nature::Negative, "行政管理信息"),
        ];
        for (code, name, nature, category) in table {
            let it = c.item(code).unwrap_or_else(|| panic!("{code}"));
            assert_eq!((it.name_zh.as_str(), it.nature, it.category.as_str()), (name, nature, category), "{code}");
            assert_eq!(it.disclosure, Disclosure::Public, "{code}");
            assert_eq!(it.publication, code, "{code}: its own publication rule");
            let date = it.decision_date_field.as_deref().unwrap_or_else(|| panic!("{code}: decision date"));
            assert!(it.field(date).unwrap().required, "{code}: {date}");
            assert_eq!(nature == Nature::Negative, it.default_tier.is_some(), "{code}: a tier iff negative");
            assert_eq!(it.field(&it.subject_code_field).unwrap().ty, FieldType::SubjectCode, "{code}");
            for f in ["法定代表人", "数据来源单位", "数据来源单位统一社会信用代码"] {
                assert!(it.field(f).is_some(), "{code}: {f}");
            }
        }
        let levels = &c.item("tax_credit_rating").unwrap().field("纳税信用级别").unwrap().values;
        assert_eq!(levels, &["A", "B", "M", "C", "D"]);
    }

    #[test]
    fn broken_items_are_refused() {
        let text = include_str!("../../../data/catalog/honour.toml").replace("key = [", "key = [\"不存在\", ");
        let e = Catalog::from_files([("x.toml", text.as_str())]).unwrap_err();
        assert!(e.to_string().contains("不存在"), "{e}");
    }
}
