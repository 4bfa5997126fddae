//! Credit reports (信用报告) as files that verify offline.
//!
//! A report is a JSON document ([`Report`]) that names the signed ledger head it was
//! made at (a C2SP checkpoint) and carries, for every record and list entry it cites,
//! the entry's ledger leaf and its RFC 6962 inclusion proof in that head. The platform
//! signs it as a C2SP signed note, the *bundle*:
//!
//! ```text
//! xinyong-report/1
//! {"format":"xinyong-report/1","number":"XYR-20261207-…",…}
//!
//! — <ledger origin> <base64(key id || signature)>
//! ```
//!
//! The PDF ([`pdf`]) embeds the bundle as an uncompressed attachment, followed by a
//! second signature line, labelled `<origin>/pdf`, over the whole PDF file (with that
//! line's signature bytes read as a placeholder): so the printed pages are bound too.
//! [`verify`] checks a PDF or a bare bundle with nothing but the file and, optionally,
//! the platform's published key.
//!
//! Raw events are not carried: they hold unmasked personal numbers (a legal
//! representative's ID), and reports are handed on. The platform's signature binds
//! each entry to its leaf; the inclusion proof binds the leaf to the signed head; the
//! online check (`/verify`) compares each entry with its event and says what changed.

pub mod fonts;
pub mod pdf;
pub mod verify;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use xinyong_core::report::ReportKind;
use xinyong_ledger::{LedgerKey, LedgerVerifier};

pub use verify::{Check, Verdict, verify};

/// First line of a bundle, and the `format` of its JSON.
pub const FORMAT: &str = "xinyong-report/1";

#[derive(Debug, Clone, thiserror::Error)]
pub enum ReportError {
    #[error("{zh} / {en}")]
    Input { zh: String, en: String },
    #[error("PDF: {0}")]
    Pdf(String),
    /// No usable CJK font: what the operator should install or set.
    #[error("{zh} / {en}")]
    Font { zh: String, en: String },
}

impl ReportError {
    pub fn input(zh: impl Into<String>, en: impl Into<String>) -> ReportError {
        ReportError::Input { zh: zh.into(), en: en.into() }
    }
}

/// A credit report as issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub format: String,
    /// `XYR-<yyyymmdd>-<12 hex of the report's digest>`: unique by content.
    pub number: String,
    pub kind: ReportKind,
    pub title_zh: String,
    pub title_en: String,
    /// The platform that issued it (its ledger origin) and its published key.
    pub platform: String,
    pub verifier_key: String,
    /// The platform's signature scheme and tree hash: `Ed25519 / SHA-256` or `SM2 / SM3`
    /// (the key names it too; a report whose two namings differ does not verify).
    #[serde(default)]
    pub algorithm: String,
    /// When it was made (Asia/Shanghai, RFC 3339).
    pub made_at: String,
    /// The period asked about, both days inclusive (yyyy-mm-dd).
    pub period_from: String,
    pub period_to: String,
    /// The domains it is limited to; empty: every domain.
    pub domains: Vec<ReportDomain>,
    pub subject: ReportSubject,
    pub requester: Requester,
    pub sections: Vec<Section>,
    /// Text printed in an empty section: "查询期内无相关信息".
    pub empty_zh: String,
    pub empty_en: String,
    /// The signed checkpoint (C2SP) of the ledger head it was made at.
    pub checkpoint: String,
    /// One inclusion proof per ledger event its entries cite.
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportDomain {
    pub code: String,
    pub name_zh: String,
}

/// Who the report is about, as anyone shown it may read (a person's ID masked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSubject {
    pub code: String,
    pub name: String,
    pub kind_zh: String,
    pub legal_rep_name: Option<String>,
    pub division_name: Option<String>,
    pub industry_name: Option<String>,
}

/// Who asked for it and why: the entity itself, or an officer or agency with a purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requester {
    /// `subject`, `officer`, `agency` or `admin`.
    pub role: String,
    pub name: String,
    pub purpose: Option<String>,
}

/// A printed section, in the order of its kind's rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    pub key: String,
    pub title_zh: String,
    pub title_en: String,
    pub entries: Vec<Entry>,
    /// The advice section's lines (信用状况提升建议).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub advice: Vec<String>,
}

impl Section {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.advice.is_empty()
    }
}

/// One record or list entry of a section, as the requester may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// `record` or `listing`.
    pub source: String,
    pub id: i64,
    /// The catalog item or list type, and its name.
    pub item: String,
    pub item_name_zh: String,
    pub provider: String,
    pub decision_date: Option<String>,
    /// The ledger event holding the content shown.
    pub ledger_index: u64,
    pub fields: Vec<Field>,
    /// A line on its standing: disputed, fulfilment of a commitment, term of a listing.
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    pub value: String,
}

/// An event's leaf and its inclusion proof in the report's checkpoint (base64, as in
/// C2SP `tlog-proof`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub index: u64,
    pub leaf: String,
    pub proof: Vec<String>,
}

impl Evidence {
    pub fn new(index: u64, leaf: &[u8; 32], proof: &[[u8; 32]]) -> Evidence {
        Evidence { index, leaf: B64.encode(leaf), proof: proof.iter().map(|h| B64.encode(h)).collect() }
    }
}

impl Report {
    /// Sets the number from the content: the date of `made_at` and the first 12 hex
    /// digits of SHA-256 over the report with an empty number.
    pub fn number_it(&mut self) {
        self.number.clear();
        let digest = Sha256::digest(serde_json::to_vec(self).unwrap_or_default());
        let day: String = self.made_at.chars().take(10).filter(char::is_ascii_digit).collect();
        let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        self.number = format!("XYR-{day}-{hex}");
    }

    /// The signed text: `xinyong-report/1`, the JSON on one line.
    pub fn body(&self) -> String {
        // serde_json escapes every newline inside strings: the JSON is one line
        format!("{FORMAT}\n{}\n", serde_json::to_string(self).unwrap_or_default())
    }

    /// The bundle: the body signed as a C2SP note by the platform's ledger key.
    pub fn sign(&self, key: &LedgerKey) -> String {
        key.sign_note(&self.body())
    }

    /// SHA-256 of the signed body, hex: what the QR code and `/verify` match on.
    pub fn digest_hex(&self) -> String {
        Sha256::digest(self.body().as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Every ledger index its entries cite, once.
    pub fn cited_indexes(&self) -> std::collections::BTreeSet<u64> {
        self.sections.iter().flat_map(|s| s.entries.iter().map(|e| e.ledger_index)).collect()
    }

    /// What a QR code on the printed report carries: the number, the body's digest,
    /// the tree size it was made at and the key id, so a paper copy can be matched
    /// with its file or asked about at the platform's `/verify`.
    pub fn qr_text(&self, tree_size: u64) -> String {
        let key_id = self.verifier_key.split('+').nth(1).unwrap_or("");
        format!("xinyong-report:{}?sha256={}&size={tree_size}&key={key_id}", self.number, self.digest_hex())
    }
}

/// Opens a bundle signed by `verifier`: the report it holds.
pub fn open_bundle(bundle: &str, verifier: &LedgerVerifier) -> Result<Report, ReportError> {
    let body = verifier.open_note(bundle).map_err(|e| {
        ReportError::input(format!("报告签名无效：{e}"), format!("the report's signature is invalid: {e}"))
    })?;
    parse_body(body)
}

/// The report in a signed body (not checked).
pub fn parse_body(body: &str) -> Result<Report, ReportError> {
    let json = body
        .strip_prefix(FORMAT)
        .and_then(|r| r.strip_prefix('\n'))
        .and_then(|r| r.strip_suffix('\n'))
        .filter(|j| !j.contains('\n'))
        .ok_or_else(|| ReportError::input("不是 xinyong-report/1 报告", "not an xinyong-report/1 report"))?;
    let report: Report = serde_json::from_str(json)
        .map_err(|e| ReportError::input(format!("报告内容无法解析：{e}"), format!("the report does not parse: {e}")))?;
    if report.format != FORMAT {
        return Err(ReportError::input(
            format!("报告格式 {} 不受支持", report.format),
            format!("report format {} is not supported", report.format),
        ));
    }
    Ok(report)
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// A small report with two entries citing ledger events of a real little tree.
    pub fn sample(key: &LedgerKey) -> (Report, xinyong_ledger::SignedHead) {
        let leaves: Vec<[u8; 32]> = (0u64..7).map(|i| xinyong_ledger::leaf_hash(&i.to_be_bytes())).collect();
        let head = key.sign(&xinyong_ledger::TreeHead {
            size: 7,
            root: xinyong_ledger::root_of(&leaves),
            timestamp_ms: 1_765_000_000_000,
        });
        let evidence = [2u64, 5]
            .iter()
            .map(|&i| {
                let proof = xinyong_ledger::inclusion_proof(&leaves, i).unwrap_or_default();
                Evidence::new(i, &leaves[i as usize], &proof)
            })
            .collect();
        let entry = |index: u64, item: &str, name: &str| Entry {
            source: "record".into(),
            id: index as i64,
            item: item.into(),
            item_name_zh: name.into(),
            provider: "北京市海淀区市场监督管理局".into(),
            decision_date: Some("2026-03-02".into()),
            ledger_index: index,
            fields: vec![
                Field {
                    name: "行政处罚决定书文号".into(), value: format!("京海市监罚〔2026〕{index}号")
                },
                Field { name: "处罚内容".into(), value: "罚款人民币五千元整。".repeat(6) },
            ],
            note: None,
        };
        let mut r = Report {
            format: FORMAT.into(),
            number: String::new(),
            kind: ReportKind::Special,
            title_zh: ReportKind::Special.title_zh().into(),
            title_en: ReportKind::Special.title_en().into(),
            platform: key.origin().into(),
            verifier_key: key.verifier().to_text(),
            algorithm: key.algorithm().name().into(),
            made_at: "2026-12-07T10:00:00+08:00".into(),
            period_from: "2025-12-07".into(),
            period_to: "2026-12-07".into(),
            domains: vec![],
            subject: ReportSubject {
                code: "91110108MA01ABCD1X".into(),
                name: "北京示例科技有限公司".into(),
                kind_zh: "法人和非法人组织".into(),
                legal_rep_name: Some("张三".into()),
                division_name: Some("北京市海淀区".into()),
                industry_name: None,
            },
            requester: Requester {
                role: "subject".into(), name: "北京示例科技有限公司".into(), purpose: None
            },
            sections: vec![
                Section {
                    key: "penalty".into(),
                    title_zh: "行政处罚信息（含简易程序）".into(),
                    title_en: "Administrative penalties".into(),
                    entries: vec![entry(2, "admin_penalty", "行政处罚信息"), entry(5, "admin_penalty", "行政处罚信息")],
                    advice: vec![],
                },
                Section {
                    key: "criminal".into(),
                    title_zh: "刑事裁判信息".into(),
                    title_en: "Criminal judgments".into(),
                    entries: vec![],
                    advice: vec![],
                },
            ],
            empty_zh: "查询期内无相关信息".into(),
            empty_en: "No relevant information in the period queried".into(),
            checkpoint: head.checkpoint.clone(),
            evidence,
        };
        r.number_it();
        (r, head)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_opens_with_its_key_only_and_unaltered() {
        let key = LedgerKey::generate("xinyong/ledger");
        let (report, _) = testing::sample(&key);
        assert!(report.number.starts_with("XYR-20261207-"));
        let bundle = report.sign(&key);
        assert_eq!(open_bundle(&bundle, &key.verifier()).unwrap(), report);
        let other = LedgerKey::generate("xinyong/ledger");
        assert!(open_bundle(&bundle, &other.verifier()).is_err());
        let altered = bundle.replace("张三", "李四");
        assert!(open_bundle(&altered, &key.verifier()).is_err());
    }

    #[test]
    fn the_number_follows_the_content() {
        let key = LedgerKey::generate("xinyong/ledger");
        let (mut a, _) = testing::sample(&key);
        let n = a.number.clone();
        a.number_it();
        assert_eq!(a.number, n, "numbering is a function of the content");
        a.subject.name.push('X');
        a.number_it();
        assert_ne!(a.number, n);
    }
}
