//! The PDF of a report: A4 pages set in the CJK font, the bundle embedded as an
//! attachment, and a signature over the whole file.
//!
//! Pages are laid out first (a list of drawing operations per page, so every footer
//! knows the page count), then drawn with krilla. The attachment holds the bundle and
//! one more line, `— <origin>/pdf <signature>`, written first as a placeholder of the
//! signature's length; the signature over the SHA-256 of the finished file (read with
//! the placeholder) is then written into it in place. [`split`] finds both again.

use krilla::Document;
use krilla::color::rgb;
use krilla::embed::{AssociationKind, EmbeddedFile, MimeType};
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::text::TextDirection;
use sha2::{Digest, Sha256};
use xinyong_ledger::LedgerKey;

use crate::fonts::ReportFont;
use crate::{FORMAT, Report, ReportError};

const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 54.0;
const BODY: f32 = 9.5;
const LEAD: f32 = 1.45;
/// Attachment name inside the PDF.
pub const ATTACHMENT: &str = "report.xinyong-report";
/// Label of the signature over the file.
pub fn pdf_label(origin: &str) -> String {
    format!("{origin}/pdf")
}
/// What the file signature signs: a domain tag and the file's SHA-256.
pub fn pdf_message(file_with_placeholder: &[u8]) -> Vec<u8> {
    let mut m = b"xinyong-report-pdf/1\n".to_vec();
    m.extend_from_slice(&Sha256::digest(file_with_placeholder));
    m
}
/// The byte a placeholder signature is made of.
const PLACEHOLDER: u8 = b'A';

#[derive(Debug, Clone)]
enum Op {
    Text { x: f32, y: f32, size: f32, text: String, color: (u8, u8, u8) },
    Rect { x: f32, y: f32, w: f32, h: f32, color: (u8, u8, u8) },
}

const INK: (u8, u8, u8) = (0x1f, 0x23, 0x28);
const MUTED: (u8, u8, u8) = (0x59, 0x63, 0x6e);
const ACCENT: (u8, u8, u8) = (0xa3, 0x1d, 0x1d);
const RULE: (u8, u8, u8) = (0xd0, 0xd7, 0xde);

/// Lays text out top to bottom, starting a new page when one is full.
struct Layout<'f> {
    font: &'f ReportFont,
    pages: Vec<Vec<Op>>,
    y: f32,
}

impl<'f> Layout<'f> {
    fn new(font: &'f ReportFont) -> Layout<'f> {
        Layout { font, pages: vec![Vec::new()], y: MARGIN }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Room for `h` more points on this page, or a new page.
    fn room(&mut self, h: f32) {
        if self.y + h > PAGE_H - MARGIN - 24.0 {
            self.pages.push(Vec::new());
            self.y = MARGIN;
        }
    }

    fn text_at(&mut self, x: f32, size: f32, text: &str, color: (u8, u8, u8)) {
        let y = self.y + size;
        self.ops().push(Op::Text { x, y, size, text: text.to_string(), color });
    }

    /// A paragraph wrapped to the text width from `indent`, with a hanging `label`.
    fn para(
        &mut self,
        indent: f32,
        size: f32,
        label: &str,
        text: &str,
        color: (u8, u8, u8),
    ) -> Result<(), ReportError> {
        let m = self.font.measurer(size)?;
        let label_w = if label.is_empty() { 0.0 } else { m.width(label) };
        let x = MARGIN + indent + label_w;
        let lines = m.wrap(text, PAGE_W - MARGIN - x);
        for (i, line) in lines.iter().enumerate() {
            self.room(size * LEAD);
            if i == 0 && !label.is_empty() {
                self.text_at(MARGIN + indent, size, label, MUTED);
            }
            self.text_at(x, size, line, color);
            self.y += size * LEAD;
        }
        Ok(())
    }

    fn rule(&mut self, gap: f32) {
        self.room(gap * 2.0);
        self.y += gap;
        let y = self.y;
        self.ops().push(Op::Rect { x: MARGIN, y, w: PAGE_W - 2.0 * MARGIN, h: 0.6, color: RULE });
        self.y += gap;
    }
}

/// Chinese ordinal of a section: 一、二、…
fn ordinal(n: usize) -> String {
    const D: [&str; 10] = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        1..=9 => D[n].to_string(),
        10 => "十".into(),
        11..=19 => format!("十{}", D[n - 10]),
        _ => n.to_string(),
    }
}

fn lay_out(report: &Report, tree_size: u64, root_hex: &str, font: &ReportFont) -> Result<Vec<Vec<Op>>, ReportError> {
    let mut l = Layout::new(font);
    let qr = 92.0;
    // title block, the QR code to its right
    l.text_at(MARGIN, 19.0, &report.title_zh, INK);
    l.y += 19.0 * 1.6;
    l.text_at(MARGIN, 9.0, &report.title_en, MUTED);
    l.y += 9.0 * 1.8;
    l.para(0.0, BODY, "报告编号：", &report.number, ACCENT)?;
    let qr_ops = qr_code(&report.qr_text(tree_size), PAGE_W - MARGIN - qr, MARGIN - 6.0, qr);
    l.ops().extend(qr_ops);
    l.y = l.y.max(MARGIN + qr);
    l.rule(6.0);
    let s = &report.subject;
    let period = format!("{} 至 {}", report.period_from, report.period_to);
    let domains = if report.domains.is_empty() {
        "全部领域".to_string()
    } else {
        report.domains.iter().map(|d| d.name_zh.as_str()).collect::<Vec<_>>().join("、")
    };
    let requester = match &report.requester.purpose {
        Some(p) => format!("{}（{}；用途：{}）", report.requester.name, role_zh(&report.requester.role), p),
        None => format!("{}（{}）", report.requester.name, role_zh(&report.requester.role)),
    };
    let rows: Vec<(&str, String)> = vec![
        ("主体名称：", s.name.clone()),
        ("统一社会信用代码：", s.code.clone()),
        ("主体类型：", s.kind_zh.clone()),
        ("法定代表人：", s.legal_rep_name.clone().unwrap_or_else(|| "—".into())),
        ("所在地区：", s.division_name.clone().unwrap_or_else(|| "—".into())),
        ("所属行业：", s.industry_name.clone().unwrap_or_else(|| "—".into())),
        ("查询期间：", period),
        ("查询领域：", domains),
        ("申请人：", requester),
        ("出具时间：", report.made_at.clone()),
        ("出具平台：", report.platform.clone()),
        ("账本树头：", format!("{tree_size} 条 · 根 {}", &root_hex[..root_hex.len().min(32)])),
    ];
    for (k, v) in rows {
        l.para(0.0, BODY, k, &v, INK)?;
    }
    for (n, section) in report.sections.iter().enumerate() {
        l.rule(7.0);
        l.room(40.0);
        l.text_at(MARGIN, 12.5, &format!("{}、{}", ordinal(n + 1), section.title_zh), INK);
        l.y += 12.5 * 1.5;
        l.text_at(MARGIN, 8.0, &section.title_en, MUTED);
        l.y += 8.0 * 1.9;
        if section.is_empty() {
            l.para(12.0, BODY, "", &report.empty_zh, MUTED)?;
            continue;
        }
        for line in &section.advice {
            l.para(12.0, BODY, "· ", line, INK)?;
        }
        for (i, e) in section.entries.iter().enumerate() {
            l.room(BODY * LEAD * 3.0);
            let head = format!("{}　{}　{}", e.item_name_zh, e.provider, e.decision_date.as_deref().unwrap_or(""));
            l.para(4.0, BODY + 0.5, &format!("（{}）", i + 1), &head, INK)?;
            for f in &e.fields {
                l.para(24.0, BODY - 0.5, &format!("{}：", f.name), &f.value, INK)?;
            }
            if let Some(note) = &e.note {
                l.para(24.0, BODY - 0.5, "说明：", note, ACCENT)?;
            }
            l.para(24.0, 7.5, "", &format!("账本序号 {}（包含证明见附件）", e.ledger_index), MUTED)?;
            l.y += 3.0;
        }
    }
    l.rule(8.0);
    let explain = format!(
        "本报告由{}依据归集的公共信用信息出具，附件 {ATTACHMENT} 载有报告全文、签名账本树头及每条信息的包含证明。\
         离线核验：xinyong report verify 本文件 --key 平台公钥；在线核验：平台 /verify 页面（并提示出具后被修复、更正或撤销的信息）。\
         平台公钥：{}",
        report.platform, report.verifier_key
    );
    l.para(0.0, 7.5, "", &explain, MUTED)?;
    // footers, now that the page count is known
    let total = l.pages.len();
    for (i, page) in l.pages.iter_mut().enumerate() {
        page.push(Op::Text {
            x: MARGIN,
            y: PAGE_H - MARGIN + 14.0,
            size: 7.5,
            text: format!("报告编号 {}　第 {} 页 共 {} 页", report.number, i + 1, total),
            color: MUTED,
        });
    }
    Ok(l.pages)
}

fn role_zh(role: &str) -> &'static str {
    match role {
        "subject" => "主体本身",
        "officer" => "部门用户",
        "agency" => "信用服务机构",
        "admin" => "信用中心",
        _ => "其他",
    }
}

/// The QR code's dark modules as squares.
fn qr_code(text: &str, x: f32, y: f32, size: f32) -> Vec<Op> {
    let Ok(code) = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M) else {
        return Vec::new();
    };
    let n = code.width();
    let quiet = 2.0;
    let cell = size / (n as f32 + 2.0 * quiet);
    let colors = code.to_colors();
    let mut ops = Vec::new();
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (cx, cy) = ((i % n) as f32, (i / n) as f32);
            ops.push(Op::Rect {
                x: x + (cx + quiet) * cell,
                y: y + (cy + quiet) * cell,
                w: cell + 0.05,
                h: cell + 0.05,
                color: (0, 0, 0),
            });
        }
    }
    ops
}

fn fill(color: (u8, u8, u8)) -> Fill {
    Fill { paint: rgb::Color::new(color.0, color.1, color.2).into(), ..Fill::default() }
}

/// Renders and signs the PDF of a signed report.
///
/// `bundle` is [`Report::sign`]'s output; `tree_size` and `root_hex` describe the
/// checkpoint the report names (printed on its first page).
pub fn render(
    report: &Report,
    bundle: &str,
    tree_size: u64,
    root_hex: &str,
    key: &LedgerKey,
    font: &ReportFont,
) -> Result<Vec<u8>, ReportError> {
    let pages = lay_out(report, tree_size, root_hex, font)?;
    let label = pdf_label(key.origin());
    let placeholder = char::from(PLACEHOLDER).to_string().repeat(key.signature_b64_len());
    let attachment = format!("{bundle}\u{2014} {label} {placeholder}\n");
    let mut doc = Document::new();
    doc.set_metadata(
        Metadata::new()
            .title(format!("{} {}", report.title_zh, report.number))
            .creator("xinyong".into())
            .language("zh-CN".into()),
    );
    let pdf_font = font.pdf_font();
    for ops in &pages {
        let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| ReportError::Pdf("page size".into()))?;
        let mut page = doc.start_page_with(settings);
        let mut surface = page.surface();
        for op in ops {
            match op {
                Op::Text { x, y, size, text, color } => {
                    surface.set_fill(Some(fill(*color)));
                    surface.draw_text(
                        Point::from_xy(*x, *y),
                        pdf_font.clone(),
                        *size,
                        text,
                        false,
                        TextDirection::Auto,
                    );
                }
                Op::Rect { x, y, w, h, color } => {
                    let mut pb = PathBuilder::new();
                    if let Some(r) = Rect::from_xywh(*x, *y, *w, *h) {
                        pb.push_rect(r);
                    }
                    if let Some(path) = pb.finish() {
                        surface.set_fill(Some(fill(*color)));
                        surface.draw_path(&path);
                    }
                }
            }
        }
        surface.finish();
        page.finish();
    }
    doc.embed_file(EmbeddedFile {
        path: ATTACHMENT.into(),
        mime_type: MimeType::new("text/plain"),
        description: Some(format!(
            "{FORMAT} {}：报告全文、签名树头与包含证明 / signed report and proofs",
            report.number
        )),
        association_kind: AssociationKind::Source,
        data: attachment.clone().into_bytes().into(),
        modification_date: None,
        // uncompressed, so that a verifier finds the bundle without a PDF parser
        compress: Some(false),
        location: None,
    })
    .ok_or_else(|| ReportError::Pdf("the attachment could not be embedded".into()))?;
    let mut file = doc.finish().map_err(|e| ReportError::Pdf(format!("{e:?}")))?;
    let parts = split(&file).ok_or_else(|| ReportError::Pdf("the attachment is not in the file as written".into()))?;
    let line = key.signature_line(&label, &pdf_message(&file));
    let (_, sig) = line.rsplit_once(' ').ok_or_else(|| ReportError::Pdf("signature line".into()))?;
    if sig.len() != parts.signature.len() {
        return Err(ReportError::Pdf("signature length differs from its placeholder".into()));
    }
    file[parts.signature].copy_from_slice(sig.as_bytes());
    Ok(file)
}

/// Where a report's pieces lie in a PDF written by [`render`].
#[derive(Debug, Clone)]
pub struct Parts {
    /// The bundle (the signed note), as text.
    pub bundle: std::ops::Range<usize>,
    /// The file signature's whole line (without its newline), and its label.
    pub line: std::ops::Range<usize>,
    pub label: String,
    /// The base64 signature bytes of the file signature line.
    pub signature: std::ops::Range<usize>,
}

/// Finds the bundle and the file signature in a PDF (or any file holding them).
pub fn split(file: &[u8]) -> Option<Parts> {
    let header = format!("{FORMAT}\n{{");
    let start = find(file, header.as_bytes())?;
    // header, JSON, blank line, the note's signature, the file's signature
    let mut ends = Vec::with_capacity(5);
    let mut at = start;
    for _ in 0..5 {
        let nl = at + file.get(at..)?.iter().position(|&b| b == b'\n')?;
        ends.push(nl);
        at = nl + 1;
    }
    let bundle = start..ends[3] + 1;
    let line = std::str::from_utf8(file.get(ends[3] + 1..ends[4])?).ok()?;
    let rest = line.strip_prefix("\u{2014} ")?;
    let (label, sig) = rest.split_once(' ')?;
    let sig_start = ends[4] - sig.len();
    Some(Parts { bundle, line: ends[3] + 1..ends[4], label: label.to_string(), signature: sig_start..ends[4] })
}

/// The file as it was signed: the signature bytes turned back into the placeholder.
pub fn with_placeholder(file: &[u8], parts: &Parts) -> Vec<u8> {
    let mut copy = file.to_vec();
    copy[parts.signature.clone()].fill(PLACEHOLDER);
    copy
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ordinals_are_chinese() {
        assert_eq!(ordinal(1), "一");
        assert_eq!(ordinal(10), "十");
        assert_eq!(ordinal(12), "十二");
    }

    /// The system's CJK font; a visible skip without one, a failure under CI.
    fn font() -> Option<&'static ReportFont> {
        match ReportFont::shared() {
            Ok(f) => Some(f),
            Err(e) if std::env::var_os("CI").is_none() => {
                eprintln!("SKIPPED: {e}");
                None
            }
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn a_rendered_pdf_embeds_its_font_and_verifies_until_a_byte_changes() {
        let Some(font) = font() else { return };
        let key = LedgerKey::generate("xinyong/ledger");
        let (report, head) = crate::testing::sample(&key);
        let bundle = report.sign(&key);
        let root = xinyong_ledger::hex(&head.head.root);
        let pdf = render(&report, &bundle, head.head.size, &root, &key, font).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/FontFile"), "the CJK font is embedded");
        assert!(text.contains("/EmbeddedFile"), "the bundle is attached");
        let v = crate::verify(&pdf, Some(&key.verifier()));
        assert!(v.ok, "{:#?}", v.checks);
        assert!(v.checks.iter().any(|c| c.name_en == "PDF file signature" && c.ok));

        // one byte of the pages changed (before the attachment): the file signature fails
        let parts = split(&pdf).unwrap();
        let mut altered = pdf.clone();
        let at = parts.bundle.start / 2;
        altered[at] ^= 0x01;
        let v = crate::verify(&altered, Some(&key.verifier()));
        assert!(!v.ok);
        assert!(v.checks.iter().any(|c| c.name_en == "PDF file signature" && !c.ok));
        assert!(v.checks.iter().any(|c| c.name_en == "report signature" && c.ok), "the bundle itself is intact");
    }

    #[test]
    fn split_finds_the_bundle_and_the_file_signature() {
        let key = LedgerKey::generate("xinyong/ledger");
        let (report, _) = crate::testing::sample(&key);
        let bundle = report.sign(&key);
        let file = format!("%PDF-1.7\nstream\n{bundle}\u{2014} xinyong/ledger/pdf {}\nendstream\n", "A".repeat(92));
        let parts = split(file.as_bytes()).unwrap();
        assert_eq!(&file[parts.bundle.clone()], bundle);
        assert_eq!(parts.label, "xinyong/ledger/pdf");
        assert_eq!(parts.signature.len(), 92);
        assert!(split(b"%PDF-1.7 nothing here").is_none());
    }
}
