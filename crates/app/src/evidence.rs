//! Evidence files (证据材料) of due-process cases: objections and repair applications
//! upload their files first, get an [`EvidenceRef`] back, and the case's ledger event
//! carries those refs. Here only the files: accepted are PDF, JPEG and PNG of at most
//! [`MAX_EVIDENCE_BYTES`], recognised from their content
//! ([`xinyong_core::evidence::sniff`]); they are stored content-addressed, named by the
//! SHA-256 the platform computes itself. A refused upload stores nothing and changes
//! nothing else.

use sha2::{Digest, Sha256};
use xinyong_core::evidence::{self, EvidenceError, MediaType, is_sha256_hex};
use xinyong_ledger::hex;

pub use xinyong_core::evidence::{EvidenceRef, MAX_EVIDENCE_BYTES};

use crate::access::{Action, Caller, permit};
use crate::{App, AppError, Result, now_ms};

/// Longest file name kept in a ref (characters).
const MAX_NAME_CHARS: usize = 120;

impl App {
    /// Stores an evidence file and answers the ref a case cites it by. Any signed-in
    /// caller may upload. The size is checked first (before the content is read or
    /// hashed), then the content must be a PDF, JPEG or PNG; a refusal names what the
    /// file appears to be (`evidence_too_large`, `evidence_type`, `evidence_malformed`).
    /// Uploading the same bytes again answers the same ref and stores nothing new.
    pub fn upload_evidence(&self, caller: &Caller, name: &str, bytes: &[u8]) -> Result<EvidenceRef> {
        permit(caller, Action::UploadEvidence)?;
        let media_type = evidence::validate(bytes).map_err(refusal)?;
        let sha256 = hex(&Sha256::digest(bytes).into());
        let uploaded_by = caller.actor_name();
        let new =
            self.db().write(|s| Ok(s.put_evidence(&sha256, media_type.as_str(), bytes, &uploaded_by, now_ms())?))?;
        tracing::info!(sha256, media_type = media_type.as_str(), size = bytes.len(), new, by = uploaded_by, "evidence");
        Ok(EvidenceRef { sha256, media_type, size: bytes.len() as u64, name: file_name(name, media_type) })
    }

    /// An evidence file by its hash (64 lowercase hex characters): its media type and
    /// exactly the bytes uploaded. For the parties to cases and the departments (not
    /// the public, not agencies). The content is checked against its name on the way
    /// out: bytes changed in the database are an internal error, never served.
    pub fn evidence(&self, caller: &Caller, sha256: &str) -> Result<(String, Vec<u8>)> {
        permit(caller, Action::ReadEvidence)?;
        if !is_sha256_hex(sha256) {
            return Err(AppError::invalid(
                "invalid_evidence_hash",
                "证据材料编号应为 64 位小写十六进制 SHA-256",
                "an evidence file is named by its SHA-256: 64 lowercase hex characters",
            ));
        }
        // an entity reads the files its own cases cite, not another's found in the ledger
        if let Some(own) = caller.own_subject()
            && !self.cites(own, sha256)?
        {
            return Err(AppError::NotFound("证据材料 / evidence file".into()));
        }
        let stored = self.db().read(|s| Ok(s.evidence(sha256)?))?;
        let (media_type, content) = stored.ok_or_else(|| AppError::NotFound("证据材料 / evidence file".into()))?;
        if hex(&Sha256::digest(&content).into()) != sha256 {
            return Err(AppError::Internal(format!("stored evidence {sha256} does not match its hash")));
        }
        Ok((media_type, content))
    }
}

/// A refused file as an invalid request, with the refusal's own code.
fn refusal(e: EvidenceError) -> AppError {
    AppError::invalid(e.code(), e.zh(), e.en())
}

/// The name a person gave the file, fit to show: no directories (browsers on Windows
/// send `C:\fakepath\…`), no control characters, at most [`MAX_NAME_CHARS`]; a file
/// without a usable name is called `evidence.<ext>`.
fn file_name(given: &str, media_type: MediaType) -> String {
    let base = given.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base.chars().filter(|c| !c.is_control()).collect();
    let clean = clean.trim();
    if clean.is_empty() || clean == "." || clean == ".." {
        return format!("evidence.{}", media_type.extension());
    }
    clean.chars().take(MAX_NAME_CHARS).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::accounts::NewAccountRequest;
    use std::collections::BTreeMap;

    const OWN: &str = "海淀区市场监管局";
    const ME: &str = "91110108551385082Q";

    fn app() -> (tempfile::TempDir, App) {
        let dir = tempfile::tempdir().unwrap();
        let app = App::open(dir.path()).unwrap();
        (dir, app)
    }

    fn caller(app: &App, role: &str) -> Caller {
        let req = NewAccountRequest {
            username: format!("{role}-1"),
            role: role.into(),
            provider: (role == "officer").then(|| OWN.into()),
            subject_code: (role == "subject").then(|| ME.into()),
            ..Default::default()
        };
        let created = app.create_account(&Caller::operator(), &req).unwrap();
        Caller::of_account(created.account.unwrap()).unwrap()
    }

    /// A 1×1 PNG.
    fn png() -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
        b.extend_from_slice(b"\0\0\0\x0DIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1F\x15\xC4\x89");
        b.extend_from_slice(b"\0\0\0\x0AIDAT\x78\x9C\x63\0\x01\0\0\x05\0\x01\x0D\x0A\x2D\xB4");
        b.extend_from_slice(b"\0\0\0\0IEND\xAE\x42\x60\x82");
        b
    }

    fn pdf() -> Vec<u8> {
        b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\nstartxref\n9\n%%EOF\n".to_vec()
    }

    fn code_of<T: std::fmt::Debug>(r: Result<T>) -> &'static str {
        match r {
            Ok(v) => panic!("expected a refusal, got {v:?}"),
            Err(e) => e.code(),
        }
    }

    fn sha(b: &[u8]) -> String {
        hex(&Sha256::digest(b).into())
    }

    #[test]
    fn evidence_upload_answers_a_ref_and_reads_back_exactly() {
        let (_dir, app) = app();
        let officer = caller(&app, "officer");
        let bytes = png();
        let r = app.upload_evidence(&officer, r"C:\fakepath\现场照片.png", &bytes).unwrap();
        assert_eq!(
            r,
            EvidenceRef {
                sha256: sha(&bytes),
                media_type: MediaType::Png,
                size: bytes.len() as u64,
                name: "现场照片.png".into()
            }
        );
        // the hash is the platform's: the same as any SHA-256 tool's
        assert_eq!(r.sha256.len(), 64);
        let admin = caller(&app, "admin");
        assert_eq!(app.evidence(&admin, &r.sha256).unwrap(), ("image/png".to_string(), bytes.clone()));
        // an entity reads only what its own cases cite (none yet): as if it were not there
        let subject = caller(&app, "subject");
        assert!(matches!(app.evidence(&subject, &r.sha256), Err(AppError::NotFound(_))));
        assert_eq!(app.evidence(&officer, &r.sha256).unwrap().1, bytes);
        // the same bytes again (under another name, by another caller): the same file
        let agency = caller(&app, "agency");
        let again = app.upload_evidence(&agency, "copy.png", &bytes).unwrap();
        assert_eq!((again.sha256.as_str(), again.size, again.name.as_str()), (r.sha256.as_str(), r.size, "copy.png"));
        // a PDF; a name with nothing left of it
        let p = app.upload_evidence(&officer, " /tmp/\u{7}/ ", &pdf()).unwrap();
        assert_eq!((p.media_type, p.name.as_str()), (MediaType::Pdf, "evidence.pdf"));
        assert_eq!(app.evidence(&officer, &p.sha256).unwrap(), ("application/pdf".to_string(), pdf()));
    }

    /// "A malformed or oversized upload loses nothing else in the case": a refusal
    /// stores nothing, and what was there (files, ledger) is as it was.
    #[test]
    fn evidence_refusals_store_nothing_and_lose_nothing() {
        let (_dir, app) = app();
        let subject = caller(&app, "subject");
        let officer = caller(&app, "officer");
        let kept = app.upload_evidence(&subject, "申请书.pdf", &pdf()).unwrap();
        let row = BTreeMap::from(
            [
                ("主体名称", "北京测试科技有限公司"),
                ("统一社会信用代码", ME),
                ("荣誉名称", "守合同重信用企业"),
                ("荣誉等级", "市级"),
                ("授予日期", "2024-05-06"),
                ("授予机关", "北京市市场监督管理局"),
                ("表彰决定文号", "京发〔2024〕1号"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        crate::intake::ingest_rows(&app, "honour", OWN, "test", &[row]).unwrap();
        let ledger = app.db().raw().ledger_size().unwrap();
        let head = app.db().raw().latest_head().unwrap();

        let mut oversized = pdf();
        oversized.resize(MAX_EVIDENCE_BYTES + 1, b' ');
        let truncated = pdf()[..30].to_vec();
        let docx = b"PK\x03\x04\x14\0\0\0\0\0[Content_Types].xml word/document.xml".to_vec();
        let cases: [(&str, &[u8], &str); 5] = [
            ("oversized", &oversized, "evidence_too_large"),
            ("truncated", &truncated, "evidence_malformed"),
            ("docx", &docx, "evidence_type"),
            ("empty", b"", "evidence_type"),
            ("text", "情况说明".as_bytes(), "evidence_type"),
        ];
        for (what, bytes, code) in cases {
            let err = app.upload_evidence(&subject, what, bytes).unwrap_err();
            assert_eq!(err.code(), code, "{what}: {err}");
            assert_eq!(err.kind(), crate::ErrorKind::Invalid, "{what}");
            // bilingual, and says what is accepted
            let msg = err.public_message();
            assert!(msg.contains(" / ") && (msg.contains("PDF") || msg.contains("MiB")), "{what}: {msg}");
            assert_eq!(code_of(app.evidence(&officer, &sha(bytes))), "not_found", "{what} was stored");
        }
        let err = app.upload_evidence(&subject, "docx", &docx).unwrap_err().to_string();
        assert!(err.contains("Word") && err.contains("PDF、JPEG、PNG"), "{err}");
        assert_eq!(app.evidence(&officer, &kept.sha256).unwrap().1, pdf());
        assert_eq!(app.db().raw().ledger_size().unwrap(), ledger, "a refused upload touched the ledger");
        assert_eq!(app.db().raw().latest_head().unwrap(), head);
        // and a good upload after the refusals still works
        assert_eq!(app.upload_evidence(&subject, "p.png", &png()).unwrap().media_type, MediaType::Png);
    }

    #[test]
    fn evidence_needs_sign_in_and_is_not_shared_with_agencies() {
        let (_dir, app) = app();
        let officer = caller(&app, "officer");
        let agency = caller(&app, "agency");
        assert_eq!(code_of(app.upload_evidence(&Caller::public(), "a.png", &png())), "unauthorized");
        // an unauthenticated oversized upload is refused for who sends it, not its size
        let big = vec![0u8; MAX_EVIDENCE_BYTES + 1];
        assert_eq!(code_of(app.upload_evidence(&Caller::public(), "big", &big)), "unauthorized");
        let r = app.upload_evidence(&agency, "a.png", &png()).unwrap();
        assert_eq!(code_of(app.evidence(&Caller::public(), &r.sha256)), "unauthorized");
        assert_eq!(code_of(app.evidence(&agency, &r.sha256)), "forbidden");
        assert_eq!(app.evidence(&officer, &r.sha256).unwrap().0, "image/png");
    }

    #[test]
    fn evidence_is_named_by_lowercase_hex_only() {
        let (_dir, app) = app();
        let officer = caller(&app, "officer");
        let r = app.upload_evidence(&officer, "a.png", &png()).unwrap();
        for bad in [r.sha256.to_uppercase(), r.sha256[..63].to_string(), format!("{}0", r.sha256), "../etc".into()] {
            assert_eq!(code_of(app.evidence(&officer, &bad)), "invalid_evidence_hash", "{bad}");
        }
        assert_eq!(code_of(app.evidence(&officer, &sha(b"never uploaded"))), "not_found");
    }

    /// Content addressing holds on the way out: bytes that do not match their name (a
    /// damaged or tampered database) are never served.
    #[test]
    fn evidence_whose_bytes_changed_is_not_served() {
        let (_dir, app) = app();
        let officer = caller(&app, "officer");
        let claimed = sha(&png());
        app.db().raw().put_evidence(&claimed, "image/png", &pdf(), "intruder", 1).unwrap();
        let err = app.evidence(&officer, &claimed).unwrap_err();
        assert_eq!(err.code(), "internal", "{err}");
        assert!(err.chain().contains("does not match its hash"), "{}", err.chain());
    }

    #[test]
    fn evidence_file_names_are_cleaned() {
        assert_eq!(file_name("a/b\\c.pdf", MediaType::Pdf), "c.pdf");
        assert_eq!(file_name("  合同\n扫描件.pdf ", MediaType::Pdf), "合同扫描件.pdf");
        assert_eq!(file_name("", MediaType::Jpeg), "evidence.jpg");
        assert_eq!(file_name("dir/..", MediaType::Png), "evidence.png");
        assert_eq!(file_name(&"长".repeat(500), MediaType::Png).chars().count(), MAX_NAME_CHARS);
    }

    /// Evidence moves with the rest of the data between back ends.
    #[test]
    fn evidence_survives_a_migration_to_postgres() {
        use crate::migrate::{Location, migrate};
        use xinyong_store::testing::{ScratchSchema, server_or_skip};
        let Some(base) = server_or_skip("evidence_survives_a_migration_to_postgres") else { return };
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("sqlite");
        let app = App::open(&dir).unwrap();
        let officer = caller(&app, "officer");
        let refs: Vec<EvidenceRef> = [png(), pdf()]
            .iter()
            .enumerate()
            .map(|(i, b)| app.upload_evidence(&officer, &format!("{i}"), b).unwrap())
            .collect();
        drop(app);
        let schema = ScratchSchema::new(&base, "evid").unwrap();
        let report = migrate(&Location::Dir(dir.clone()), &Location::Url(schema.url()), None, &mut |_, _| {}).unwrap();
        assert!(report.tables.iter().any(|t| t.table == "evidence" && t.rows == 2), "{report:?}");
        let on_pg = App::open_with(&dir, Some(&schema.url())).unwrap();
        let officer = Caller::of_account(on_pg.db().raw().account("officer-1").unwrap().unwrap()).unwrap();
        assert_eq!(on_pg.evidence(&officer, &refs[0].sha256).unwrap(), ("image/png".to_string(), png()));
        assert_eq!(on_pg.evidence(&officer, &refs[1].sha256).unwrap(), ("application/pdf".to_string(), pdf()));
        // and it keeps working there: the same bytes are the same file, new ones are stored
        assert_eq!(on_pg.upload_evidence(&officer, "again", &png()).unwrap().sha256, refs[0].sha256);
        let jpeg = b"\xFF\xD8\xFF\xE0\x00\x04\x00\x00\xFF\xDA\x00\x02\x00\xFF\xD9".to_vec();
        let j = on_pg.upload_evidence(&officer, "j.jpg", &jpeg).unwrap();
        assert_eq!(on_pg.evidence(&officer, &j.sha256).unwrap().1, jpeg);
    }
}
