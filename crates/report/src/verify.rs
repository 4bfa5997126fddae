//! Offline verification of a report file: a PDF written by [`crate::pdf::render`], or
//! a bare bundle. Needs nothing but the file and, to trust the result, the platform's
//! published key (`ledger.pub`); without one, the key the report names is used and
//! the verdict says so.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Serialize;
use xinyong_ledger::{Hash, LedgerVerifier, verify_inclusion_in};

use crate::pdf::{pdf_label, pdf_message, split, with_placeholder};
use crate::{Report, parse_body};

/// One thing checked, with what was found.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name_zh: String,
    pub name_en: String,
    pub ok: bool,
    pub detail: String,
}

/// The outcome: every check, and the report when it could be read.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// Every check passed (and, with a pinned key, the report is by that key).
    pub ok: bool,
    /// `pdf` or `bundle`.
    pub file: String,
    /// The key the report was checked against, and whether the caller supplied it.
    pub key: Option<String>,
    pub key_pinned: bool,
    /// The tree size of the checkpoint the report names.
    pub tree_size: Option<u64>,
    pub checks: Vec<Check>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<Report>,
}

impl Verdict {
    fn check(&mut self, zh: &str, en: &str, outcome: Result<String, String>) -> bool {
        let ok = outcome.is_ok();
        self.checks.push(Check { name_zh: zh.into(), name_en: en.into(), ok, detail: outcome.unwrap_or_else(|e| e) });
        self.ok &= ok;
        ok
    }
}

/// Verifies a report file; `pinned` is the platform's published key.
pub fn verify(file: &[u8], pinned: Option<&LedgerVerifier>) -> Verdict {
    let is_pdf = file.starts_with(b"%PDF-");
    let mut v = Verdict {
        ok: true,
        file: if is_pdf { "pdf" } else { "bundle" }.into(),
        key: None,
        key_pinned: pinned.is_some(),
        tree_size: None,
        checks: Vec::new(),
        report: None,
    };
    let parts = if is_pdf { split(file) } else { None };
    let bundle = match (&parts, is_pdf) {
        (Some(p), _) => std::str::from_utf8(&file[p.bundle.clone()]).ok(),
        (None, true) => None,
        (None, false) => std::str::from_utf8(file).ok(),
    };
    let unverified = bundle.and_then(|b| b.rsplit_once("\n\n")).map(|(body, _)| format!("{body}\n"));
    let report = match unverified.as_deref().map(parse_body) {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            v.check("文件格式", "file format", Err(e.to_string()));
            return v;
        }
        None => {
            v.check(
                "文件格式",
                "file format",
                Err("文件中没有 xinyong 信用报告 / the file holds no xinyong credit report".into()),
            );
            return v;
        }
    };
    v.check("文件格式", "file format", Ok(format!("{} {}", crate::FORMAT, report.number)));
    // the key: the one the caller trusts, else the one the report names
    let named = LedgerVerifier::from_text(&report.verifier_key);
    let key = match (pinned, named) {
        (Some(p), Ok(n)) if p.to_text() != n.to_text() => {
            v.check(
                "签名密钥",
                "signing key",
                Err(format!(
                    "报告所称密钥 {} 不是所信任的 {} / the report names key {}, not the trusted {}",
                    n.to_text(),
                    p.to_text(),
                    n.to_text(),
                    p.to_text()
                )),
            );
            p.clone()
        }
        (Some(p), _) => {
            v.check("签名密钥", "signing key", Ok(format!("受信公钥 / trusted key {}", p.to_text())));
            p.clone()
        }
        (None, Ok(n)) => {
            v.checks.push(Check {
                name_zh: "签名密钥".into(),
                name_en: "signing key".into(),
                ok: true,
                detail: format!(
                    "未指定受信公钥，使用报告自带公钥，请与平台公布的公钥比对 / no trusted key given: checked \
                     against the key the report names, compare it with the platform's published key: {}",
                    n.to_text()
                ),
            });
            n
        }
        (None, Err(e)) => {
            v.check("签名密钥", "signing key", Err(format!("报告所称密钥无效 / the report's key is invalid: {e}")));
            return v;
        }
    };
    v.key = Some(key.to_text());
    let signed = bundle.map(|b| key.open_note(b).map(|_| ()).map_err(|e| e.to_string()));
    v.check(
        "报告签名",
        "report signature",
        match signed {
            Some(Ok(())) => Ok(format!("{} 签署 / signed by {}", key.origin(), key.origin())),
            Some(Err(e)) => Err(e),
            None => Err("no bundle".into()),
        },
    );
    if let Some(p) = &parts {
        let expected = pdf_label(key.origin());
        let outcome = match std::str::from_utf8(&file[p.line.clone()]) {
            Ok(line) => key
                .verify_signature_line(&expected, line, &pdf_message(&with_placeholder(file, p)))
                .map(|_| "PDF 文件自签署后未被改动 / the PDF is byte for byte as signed".to_string())
                .map_err(|e| {
                    format!("PDF 文件已被改动或签名无效 / the PDF was altered or its signature is invalid: {e}")
                }),
            Err(_) => Err("no file signature line".into()),
        };
        v.check("PDF 文件签名", "PDF file signature", outcome);
    }
    // the algorithm the report names is the key's (an old report names none)
    if !report.algorithm.is_empty() {
        let of_key = key.algorithm().name();
        v.check(
            "签名算法",
            "algorithm",
            if report.algorithm == of_key {
                Ok(of_key.to_string())
            } else {
                Err(format!(
                    "报告称 {}，密钥为 {of_key} / the report names {}, the key is {of_key}",
                    report.algorithm, report.algorithm
                ))
            },
        );
    }
    // the checkpoint, then every cited entry's inclusion in it
    let head = match key.verify(&report.checkpoint) {
        Ok(h) => h,
        Err(e) => {
            v.check("账本树头", "ledger checkpoint", Err(e.to_string()));
            v.report = Some(report);
            return v;
        }
    };
    v.tree_size = Some(head.size);
    v.check(
        "账本树头",
        "ledger checkpoint",
        Ok(format!("树头签名有效，{} 条 / signed head of size {}", head.size, head.size)),
    );
    let mut bad = Vec::new();
    let mut proven = std::collections::BTreeSet::new();
    for e in &report.evidence {
        let leaf = decode_hash(&e.leaf);
        let path: Option<Vec<Hash>> = e.proof.iter().map(|h| decode_hash(h)).collect();
        match (leaf, path) {
            (Some(leaf), Some(path))
                if verify_inclusion_in(key.tree_hash(), e.index, head.size, &leaf, &path, &head.root).is_ok() =>
            {
                proven.insert(e.index);
            }
            _ => bad.push(e.index),
        }
    }
    let cited = report.cited_indexes();
    let missing: Vec<u64> = cited.iter().filter(|i| !proven.contains(i)).copied().collect();
    v.check(
        "包含证明",
        "inclusion proofs",
        if bad.is_empty() && missing.is_empty() {
            Ok(format!(
                "{} 条信息均在签名树头之内 / all {} cited events are in the signed tree",
                cited.len(),
                cited.len()
            ))
        } else {
            Err(format!("无效 / invalid: {bad:?}; 缺少 / missing: {missing:?}"))
        },
    );
    let mut renumbered = report.clone();
    renumbered.number_it();
    v.check(
        "报告编号",
        "report number",
        if renumbered.number == report.number {
            Ok(report.number.clone())
        } else {
            Err(format!("编号与内容不符 / the number does not match the content ({})", renumbered.number))
        },
    );
    v.report = Some(report);
    v
}

fn decode_hash(s: &str) -> Option<Hash> {
    B64.decode(s).ok().and_then(|v| Hash::try_from(v).ok())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use xinyong_ledger::LedgerKey;

    #[test]
    fn a_bundle_verifies_and_a_forged_proof_does_not() {
        let key = LedgerKey::generate("xinyong/ledger");
        let (report, _) = crate::testing::sample(&key);
        let bundle = report.sign(&key);
        let v = verify(bundle.as_bytes(), Some(&key.verifier()));
        assert!(v.ok, "{:#?}", v.checks);
        assert_eq!(v.tree_size, Some(7));

        // a report whose proof does not lead to the head, re-signed by the same key
        let mut forged = report.clone();
        forged.evidence[0].leaf = forged.evidence[1].leaf.clone();
        let v = verify(forged.sign(&key).as_bytes(), Some(&key.verifier()));
        assert!(!v.ok);
        assert!(v.checks.iter().any(|c| c.name_en == "inclusion proofs" && !c.ok));

        // signed by another key that names itself: fine alone, refused when pinned
        let other = LedgerKey::generate("xinyong/ledger");
        let (theirs, _) = crate::testing::sample(&other);
        assert!(verify(theirs.sign(&other).as_bytes(), None).ok);
        assert!(!verify(theirs.sign(&other).as_bytes(), Some(&key.verifier())).ok);
        assert!(!verify(b"not a report", None).ok);
    }
}
