//! Portal strings, Chinese first. `?lang=en` switches (and sets a cookie).

use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
}

const STRINGS: &[(&str, &str, &str)] = &[
    ("site", "信用信息公示平台", "Credit Information Publicity Platform"),
    (
        "tagline",
        "统一社会信用代码 · 行政许可 · 行政处罚 · 信用承诺 · 可查可核可溯",
        "USCC · licences · penalties · commitments · verifiable and traceable",
    ),
    (
        "search_placeholder",
        "输入企业名称、统一社会信用代码或拼音首字母",
        "Company name, unified social credit code or pinyin initials",
    ),
    ("search", "查询", "Search"),
    ("home", "首页", "Home"),
    ("catalog", "数据目录", "Data catalog"),
    ("ledger", "账本", "Ledger"),
    ("login", "登录", "Sign in"),
    ("logout", "退出", "Sign out"),
    ("results", "查询结果", "Results"),
    ("found", "共找到", "Found"),
    ("entities", "个主体", "entities"),
    ("no_results", "未找到相关主体", "No matching entity"),
    ("former_name", "曾用名", "Former name"),
    ("prev", "上一页", "Previous"),
    ("next", "下一页", "Next"),
    ("basic", "基本信息", "Basic information"),
    ("code", "统一社会信用代码", "Unified social credit code"),
    ("name", "名称", "Name"),
    ("kind", "主体类型", "Kind"),
    ("legal_rep", "法定代表人", "Legal representative"),
    ("division", "行政区划", "Administrative division"),
    ("industry", "行业门类", "Industry"),
    ("as_of", "查询日期", "As of"),
    ("licences", "行政许可", "Administrative licences"),
    ("penalties", "行政处罚", "Administrative penalties"),
    ("lists", "名单信息", "Lists"),
    ("commitments", "信用承诺", "Credit commitments"),
    ("honours", "表彰荣誉", "Honours"),
    ("other", "其他信息", "Other information"),
    ("none_in_period", "查询期内无相关信息", "No information in this period"),
    ("decision_date", "决定日期", "Decision date"),
    ("public_until", "公示截止", "Public until"),
    ("no_end", "长期", "No end date"),
    ("repair_from", "可申请信用修复日期", "Repair may be applied for from"),
    ("not_repairable", "不可修复", "Not repairable"),
    ("provider", "数据来源", "Source"),
    ("ledger_index", "账本序号", "Ledger index"),
    ("verify", "验证", "Verify"),
    ("withheld", "条记录不在公示范围内", "records are not public"),
    ("catalog_title", "公共信用信息目录", "Public credit information catalog"),
    ("item", "信息项", "Item"),
    ("category", "类别", "Category"),
    ("nature", "性质", "Nature"),
    ("disclosure", "公开属性", "Disclosure"),
    ("fields", "字段", "Fields"),
    ("required", "必填", "required"),
    ("proof_title", "账本包含性证明", "Ledger inclusion proof"),
    ("proof_ok", "已验证：该记录包含在签名树头中", "Verified: the record is included in the signed tree head"),
    ("proof_fail", "验证失败", "Verification failed"),
    ("tree_size", "树大小", "Tree size"),
    ("root", "根哈希", "Root hash"),
    ("leaf", "叶哈希", "Leaf hash"),
    ("checkpoint", "签名检查点", "Signed checkpoint"),
    ("path", "证明路径", "Proof path"),
    ("username", "用户名", "Username"),
    ("password", "密码", "Password"),
    ("login_failed", "用户名或密码错误", "Wrong username or password"),
    ("stats", "平台数据", "Platform data"),
    ("subjects", "信用主体", "Subjects"),
    ("records", "信用记录", "Records"),
    ("events", "账本事件", "Ledger events"),
    ("not_found", "未找到该主体", "Entity not found"),
    ("error", "出错了", "Something went wrong"),
    (
        "footer",
        "xinyong 开源公共信用信息平台 · 数据依法公示 · 个人信息已脱敏",
        "xinyong open-source public credit platform · published as the rules require · personal data masked",
    ),
    ("lang_switch", "English", "中文"),
    ("disclosure_public", "社会公开", "Public"),
    ("disclosure_shared", "政务共享", "Shared among departments"),
    ("disclosure_authorised", "授权查询", "Authorised"),
    ("disclosure_internal", "内部管理", "Internal"),
    ("nature_positive", "正面", "Positive"),
    ("nature_neutral", "中性", "Neutral"),
    ("nature_negative", "负面", "Negative"),
    ("status_revoked", "已撤销", "Revoked"),
    ("signed_in_as", "已登录", "Signed in as"),
    ("quarantine", "隔离数据", "Quarantine"),
    ("quarantine_empty", "没有待处理的隔离数据", "Nothing in quarantine"),
    ("row", "行", "row"),
    ("raw", "原始数据", "Data as received"),
    ("corrections", "更正（每行一项：字段=值）", "Corrections (one per line: field=value)"),
    ("resubmit", "重新提交", "Resubmit"),
    ("resubmitted_ok", "已接收入库", "Accepted and stored"),
    ("resubmitted_bad", "仍未通过校验，原因已更新", "Still refused; the reasons are updated"),
];

pub fn strings(lang: Lang) -> BTreeMap<&'static str, &'static str> {
    STRINGS.iter().map(|(k, zh, en)| (*k, if lang == Lang::Zh { *zh } else { *en })).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_are_unique_and_both_languages_filled() {
        let mut keys: Vec<&str> = super::STRINGS.iter().map(|s| s.0).collect();
        keys.sort_unstable();
        let n = keys.len();
        keys.dedup();
        assert_eq!(n, keys.len());
        assert!(super::STRINGS.iter().all(|(_, zh, en)| !zh.is_empty() && !en.is_empty()));
    }
}
