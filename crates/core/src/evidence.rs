//! Evidence files (证据材料) attached to due-process cases (objections, repair
//! applications): which files are accepted and how they are recognised. Pure: the
//! bytes in, a [`MediaType`] or the reason for refusal out.
//!
//! Accepted are PDF, JPEG and PNG files of at most [`MAX_EVIDENCE_BYTES`], recognised
//! by their content (magic bytes and a basic structural check), never by the file name
//! or the media type a client states. A file that is refused says what it appears to
//! be, so that the person uploading it knows what to do (export as PDF, convert to PNG,
//! upload the whole file again). An accepted file is stored content-addressed: its
//! SHA-256 names it, and the ledger event of its case carries an [`EvidenceRef`].

use serde::{Deserialize, Serialize};

/// The stated size limit of one evidence file: 10 MiB (10 × 1024 × 1024 bytes).
/// Larger files are refused with [`EvidenceError::TooLarge`]; the web layer uses this
/// (plus its multipart overhead) as the body limit of an upload.
pub const MAX_EVIDENCE_BYTES: usize = 10 * 1024 * 1024;

/// What "accepted" means, in both languages, for every refusal's message.
const ACCEPTED_ZH: &str = "证据材料只接受 PDF、JPEG、PNG 文件，单个不超过 10 MiB";
const ACCEPTED_EN: &str = "evidence must be a PDF, JPEG or PNG file of at most 10 MiB";

/// How far from the end a PDF's `%%EOF` may be (trailing whitespace, padding).
const PDF_EOF_WINDOW: usize = 1024;

/// The accepted kinds of evidence file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MediaType {
    #[serde(rename = "application/pdf")]
    Pdf,
    #[serde(rename = "image/jpeg")]
    Jpeg,
    #[serde(rename = "image/png")]
    Png,
}

impl MediaType {
    pub const ALL: [MediaType; 3] = [MediaType::Pdf, MediaType::Jpeg, MediaType::Png];

    /// The IANA media type (what is stored, and what a download is served as).
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Pdf => "application/pdf",
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
        }
    }

    /// The inverse of [`MediaType::as_str`].
    pub fn parse(s: &str) -> Option<MediaType> {
        MediaType::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            MediaType::Pdf => "pdf",
            MediaType::Jpeg => "jpg",
            MediaType::Png => "png",
        }
    }

    /// The short name people know the format by.
    pub fn label(self) -> &'static str {
        match self {
            MediaType::Pdf => "PDF",
            MediaType::Jpeg => "JPEG",
            MediaType::Png => "PNG",
        }
    }
}

impl std::fmt::Display for MediaType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored evidence file as a case refers to it (and its ledger event carries it).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EvidenceRef {
    /// SHA-256 of the content, 64 lowercase hex characters: the file's name in the store.
    pub sha256: String,
    /// What the content was recognised as (not what the client said).
    pub media_type: MediaType,
    /// Bytes.
    pub size: u64,
    /// The file name the uploader gave (for people; the store does not keep it).
    pub name: String,
}

/// Whether `s` is a SHA-256 in the form evidence is named by: 64 lowercase hex characters.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// What a refused file appears to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Found {
    Empty,
    Text,
    Html,
    Svg,
    Zip,
    Docx,
    Xlsx,
    Pptx,
    /// 版式文件 (GB/T 33190), a ZIP container.
    Ofd,
    /// .doc / .xls / .ppt (OLE compound file), also WPS's old formats.
    OfficeLegacy,
    /// RAR, 7z or gzip.
    Archive,
    Gif,
    Webp,
    Bmp,
    Tiff,
    /// HEIC / HEIF / AVIF (phones' default photo format).
    Heic,
    /// MP4 / MOV and other ISO media files.
    Video,
    /// A program (PE, ELF, Mach-O) or a script (`#!`).
    Executable,
    Unknown,
}

impl Found {
    pub fn zh(self) -> &'static str {
        match self {
            Found::Empty => "空文件",
            Found::Text => "纯文本文件",
            Found::Html => "网页（HTML）",
            Found::Svg => "SVG 矢量图",
            Found::Zip => "ZIP 压缩包",
            Found::Docx => "Word 文档（.docx）",
            Found::Xlsx => "Excel 表格（.xlsx）",
            Found::Pptx => "PowerPoint 演示文稿（.pptx）",
            Found::Ofd => "OFD 版式文件",
            Found::OfficeLegacy => "旧版 Office 文档（.doc、.xls 或 .ppt）",
            Found::Archive => "压缩包（RAR、7z 或 gzip）",
            Found::Gif => "GIF 图片",
            Found::Webp => "WebP 图片",
            Found::Bmp => "BMP 图片",
            Found::Tiff => "TIFF 图片",
            Found::Heic => "HEIC/AVIF 图片",
            Found::Video => "视频文件（MP4/MOV）",
            Found::Executable => "可执行程序或脚本",
            Found::Unknown => "无法识别的二进制文件",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            Found::Empty => "an empty file",
            Found::Text => "a plain text file",
            Found::Html => "a web page (HTML)",
            Found::Svg => "an SVG drawing",
            Found::Zip => "a ZIP archive",
            Found::Docx => "a Word document (.docx)",
            Found::Xlsx => "an Excel workbook (.xlsx)",
            Found::Pptx => "a PowerPoint presentation (.pptx)",
            Found::Ofd => "an OFD document",
            Found::OfficeLegacy => "an old-format Office document (.doc, .xls or .ppt)",
            Found::Archive => "a compressed archive (RAR, 7z or gzip)",
            Found::Gif => "a GIF image",
            Found::Webp => "a WebP image",
            Found::Bmp => "a BMP image",
            Found::Tiff => "a TIFF image",
            Found::Heic => "a HEIC/AVIF image",
            Found::Video => "a video (MP4/MOV)",
            Found::Executable => "an executable program or script",
            Found::Unknown => "an unrecognised binary file",
        }
    }

    /// What to do instead, when there is something better to say than the accepted list.
    fn hint(self) -> Option<(&'static str, &'static str)> {
        match self {
            Found::Text | Found::Html | Found::Docx | Found::Xlsx | Found::Pptx | Found::Ofd | Found::OfficeLegacy => {
                Some(("请先导出或打印为 PDF", "export or print it to PDF first"))
            }
            Found::Svg | Found::Gif | Found::Webp | Found::Bmp | Found::Tiff | Found::Heic => {
                Some(("请先转换为 JPEG 或 PNG", "convert it to JPEG or PNG first"))
            }
            Found::Zip | Found::Archive => Some(("请逐个上传其中的文件", "upload the files inside it one by one")),
            Found::Empty | Found::Video | Found::Executable | Found::Unknown => None,
        }
    }
}

/// What is wrong with a file that looks like an accepted kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flaw {
    /// The header is incomplete or not as the format requires.
    BadHeader,
    /// The end marker is missing: the file was cut off.
    Truncated,
    /// The inner structure (segments, chunks) does not hold together.
    Damaged,
}

impl Flaw {
    pub fn zh(self) -> &'static str {
        match self {
            Flaw::BadHeader => "文件头不完整或不合规范",
            Flaw::Truncated => "文件不完整（缺少结束标记），可能上传中断或文件已截断",
            Flaw::Damaged => "文件内部结构已损坏",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            Flaw::BadHeader => "its header is incomplete or invalid",
            Flaw::Truncated => "it is incomplete (no end marker): the upload was cut off or the file is truncated",
            Flaw::Damaged => "its internal structure is damaged",
        }
    }
}

/// Why an evidence file was refused. Each message reads "中文 / English"; the halves
/// are [`EvidenceError::zh`] and [`EvidenceError::en`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceError {
    /// Over [`MAX_EVIDENCE_BYTES`].
    #[error("{} / {}", self.zh(), self.en())]
    TooLarge { size: u64, limit: u64 },
    /// Not one of the accepted kinds (including an empty file).
    #[error("{} / {}", self.zh(), self.en())]
    NotAccepted { found: Found },
    /// Looks like an accepted kind but does not hold together.
    #[error("{} / {}", self.zh(), self.en())]
    Malformed { media_type: MediaType, flaw: Flaw },
}

impl EvidenceError {
    /// Stable machine-readable code: `evidence_too_large`, `evidence_type` or
    /// `evidence_malformed`.
    pub fn code(&self) -> &'static str {
        match self {
            EvidenceError::TooLarge { .. } => "evidence_too_large",
            EvidenceError::NotAccepted { .. } => "evidence_type",
            EvidenceError::Malformed { .. } => "evidence_malformed",
        }
    }

    pub fn zh(&self) -> String {
        match self {
            EvidenceError::TooLarge { size, limit } => {
                format!("文件大小为 {size} 字节（{}），超过上限 {limit} 字节（{}）", mib(*size), mib(*limit))
            }
            EvidenceError::NotAccepted { found: Found::Empty } => format!("文件为空；{ACCEPTED_ZH}"),
            EvidenceError::NotAccepted { found } => match found.hint() {
                Some((hint, _)) => format!("该文件看起来是{}，不予接收；{ACCEPTED_ZH}，{hint}", found.zh()),
                None => format!("该文件看起来是{}，不予接收；{ACCEPTED_ZH}", found.zh()),
            },
            EvidenceError::Malformed { media_type, flaw } => {
                format!("该文件看起来是 {} 文件，但{}；请上传完整的原文件", media_type.label(), flaw.zh())
            }
        }
    }

    pub fn en(&self) -> String {
        match self {
            EvidenceError::TooLarge { size, limit } => {
                format!("the file is {size} bytes ({}), over the limit of {limit} bytes ({})", mib(*size), mib(*limit))
            }
            EvidenceError::NotAccepted { found: Found::Empty } => format!("the file is empty; {ACCEPTED_EN}"),
            EvidenceError::NotAccepted { found } => match found.hint() {
                Some((_, hint)) => {
                    format!("this file appears to be {}, which is not accepted: {ACCEPTED_EN}; {hint}", found.en())
                }
                None => format!("this file appears to be {}, which is not accepted: {ACCEPTED_EN}", found.en()),
            },
            EvidenceError::Malformed { media_type, flaw } => {
                format!(
                    "this file looks like a {} but {}; upload the complete original file",
                    media_type.label(),
                    flaw.en()
                )
            }
        }
    }
}

/// `n` bytes in MiB with one decimal, never rounding a size over the limit down to it.
fn mib(n: u64) -> String {
    let tenths = n.saturating_mul(10).div_ceil(1024 * 1024);
    format!("{}.{} MiB", tenths / 10, tenths % 10)
}

/// Refuses a size over [`MAX_EVIDENCE_BYTES`]: checked first, before anything reads
/// (or hashes) the content.
pub fn check_size(size: usize) -> Result<(), EvidenceError> {
    if size > MAX_EVIDENCE_BYTES {
        return Err(EvidenceError::TooLarge { size: size as u64, limit: MAX_EVIDENCE_BYTES as u64 });
    }
    Ok(())
}

/// The size check, then [`sniff`]: everything an upload must pass.
pub fn validate(bytes: &[u8]) -> Result<MediaType, EvidenceError> {
    check_size(bytes.len())?;
    sniff(bytes)
}

/// Recognises an accepted evidence file by its content: the magic bytes and a basic
/// structural check of each format. Anything else is refused, saying what it appears
/// to be. Does not check the size (see [`validate`]).
pub fn sniff(bytes: &[u8]) -> Result<MediaType, EvidenceError> {
    let malformed = |media_type, flaw| EvidenceError::Malformed { media_type, flaw };
    if bytes.starts_with(b"%PDF-") {
        return check_pdf(bytes).map(|()| MediaType::Pdf).map_err(|f| malformed(MediaType::Pdf, f));
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return check_jpeg(bytes).map(|()| MediaType::Jpeg).map_err(|f| malformed(MediaType::Jpeg, f));
    }
    if bytes.starts_with(PNG_SIGNATURE) {
        return check_png(bytes).map(|()| MediaType::Png).map_err(|f| malformed(MediaType::Png, f));
    }
    // a PDF header shortly after some junk (a mail header, a BOM): a PDF, but not a clean one
    if find(&bytes[..bytes.len().min(1024)], b"%PDF-").is_some() {
        return Err(malformed(MediaType::Pdf, Flaw::BadHeader));
    }
    Err(EvidenceError::NotAccepted { found: identify(bytes) })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `%PDF-` + version (`1.7`, `2.0`), and `startxref` followed by `%%EOF` within the
/// last [`PDF_EOF_WINDOW`] bytes (where every complete PDF, incremental updates and
/// cross-reference streams included, ends).
fn check_pdf(bytes: &[u8]) -> Result<(), Flaw> {
    match bytes.get(5..8) {
        Some([major, b'.', minor]) if major.is_ascii_digit() && minor.is_ascii_digit() => {}
        _ => return Err(Flaw::BadHeader),
    }
    let tail = &bytes[bytes.len().saturating_sub(PDF_EOF_WINDOW).max(8)..];
    let eof = tail.windows(5).rposition(|w| w == b"%%EOF").ok_or(Flaw::Truncated)?;
    find(&tail[..eof], b"startxref").map(|_| ()).ok_or(Flaw::Damaged)
}

/// SOI, then well-formed marker segments up to the first scan (SOS), and EOI at the end
/// (after trailing padding: NUL bytes or whitespace some writers add).
fn check_jpeg(bytes: &[u8]) -> Result<(), Flaw> {
    let mut pos = 2;
    loop {
        if bytes.get(pos) != Some(&0xFF) {
            // nothing left is a cut-off file; anything else is not a marker
            return Err(if pos >= bytes.len() { Flaw::Truncated } else { Flaw::Damaged });
        }
        // a marker may be preceded by fill bytes (0xFF)
        while bytes.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        let Some(&marker) = bytes.get(pos + 1) else { return Err(Flaw::Truncated) };
        match marker {
            // the scan begins: the segment headers held together
            0xDA => break,
            // standalone markers (TEM, RSTn) carry no length
            0x01 | 0xD0..=0xD7 => pos += 2,
            // SOI again, EOI before any image data, or a stuffed zero: not a header
            0x00 | 0xD8 | 0xD9 => return Err(if pos == 2 { Flaw::BadHeader } else { Flaw::Damaged }),
            _ => {
                let Some(len) = bytes.get(pos + 2..pos + 4) else { return Err(Flaw::Truncated) };
                let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
                if len < 2 {
                    return Err(Flaw::Damaged);
                }
                pos += 2 + len;
            }
        }
    }
    let end = bytes.iter().rposition(|&b| b != 0 && !b.is_ascii_whitespace()).map_or(0, |i| i + 1);
    if end < pos + 4 || bytes[end - 2..end] != [0xFF, 0xD9] {
        return Err(Flaw::Truncated);
    }
    Ok(())
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// The signature, then chunks that tile the file exactly: IHDR (13 bytes) first, IEND
/// (empty) last, and nothing after it.
fn check_png(bytes: &[u8]) -> Result<(), Flaw> {
    let mut pos = PNG_SIGNATURE.len();
    let mut first = true;
    loop {
        let Some(head) = bytes.get(pos..pos + 8) else { return Err(Flaw::Truncated) };
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let kind = &head[4..8];
        if len > 0x7FFF_FFFF || !kind.iter().all(u8::is_ascii_alphabetic) {
            return Err(if first { Flaw::BadHeader } else { Flaw::Damaged });
        }
        if first && (kind != b"IHDR" || len != 13) {
            return Err(Flaw::BadHeader);
        }
        first = false;
        let next = pos.checked_add(12 + len).ok_or(Flaw::Damaged)?;
        if next > bytes.len() {
            return Err(Flaw::Truncated);
        }
        if kind == b"IEND" {
            return if len == 0 && next == bytes.len() { Ok(()) } else { Err(Flaw::Damaged) };
        }
        pos = next;
    }
}

/// What a file that is not accepted appears to be.
fn identify(bytes: &[u8]) -> Found {
    if bytes.is_empty() {
        return Found::Empty;
    }
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") || starts(b"PK\x07\x08") {
        return zip_kind(bytes);
    }
    if starts(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
        return Found::OfficeLegacy;
    }
    if starts(b"Rar!\x1A\x07") || starts(b"7z\xBC\xAF\x27\x1C") || starts(&[0x1F, 0x8B]) {
        return Found::Archive;
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Found::Gif;
    }
    if starts(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        return Found::Webp;
    }
    if starts(b"II*\0") || starts(b"MM\0*") {
        return Found::Tiff;
    }
    if bytes.get(4..8) == Some(b"ftyp") {
        return match bytes.get(8..12) {
            Some(b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"mif1" | b"msf1" | b"avif" | b"avis") => {
                Found::Heic
            }
            _ => Found::Video,
        };
    }
    // PE, ELF, scripts, Mach-O (32, 64 bit, both byte orders; universal) and Java classes
    let executable: [&[u8]; 8] = [
        b"MZ",
        b"\x7FELF",
        b"#!",
        b"\xFE\xED\xFA\xCE",
        b"\xFE\xED\xFA\xCF",
        b"\xCE\xFA\xED\xFE",
        b"\xCF\xFA\xED\xFE",
        b"\xCA\xFE\xBA\xBE",
    ];
    if executable.iter().any(|m| starts(m)) {
        return Found::Executable;
    }
    // "BM" alone is too weak: a plausible DIB header size must follow the file header
    if starts(b"BM")
        && let Some(h) = bytes.get(14..18)
        && matches!(u32::from_le_bytes([h[0], h[1], h[2], h[3]]), 12 | 40 | 52 | 56 | 64 | 108 | 124)
    {
        return Found::Bmp;
    }
    if looks_like_text(bytes) {
        return text_kind(bytes);
    }
    Found::Unknown
}

/// Office Open XML and OFD are ZIP files; their part names tell them apart.
fn zip_kind(bytes: &[u8]) -> Found {
    let head = &bytes[..bytes.len().min(64 * 1024)];
    if find(head, b"word/").is_some() {
        Found::Docx
    } else if find(head, b"xl/").is_some() {
        Found::Xlsx
    } else if find(head, b"ppt/").is_some() {
        Found::Pptx
    } else if find(head, b"OFD.xml").is_some() {
        Found::Ofd
    } else {
        Found::Zip
    }
}

/// No NUL and (almost) no control characters in the first 8 KiB: text in some encoding
/// (UTF-8, GB18030 …).
fn looks_like_text(bytes: &[u8]) -> bool {
    let sample = &bytes[..bytes.len().min(8192)];
    if sample.contains(&0) {
        return false;
    }
    let control =
        sample.iter().filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1B)) || b == 0x7F);
    control.count() * 100 <= sample.len()
}

fn text_kind(bytes: &[u8]) -> Found {
    let head = &bytes[..bytes.len().min(1024)];
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(head.len());
    let lower: Vec<u8> = head[start..].iter().map(u8::to_ascii_lowercase).collect();
    if !lower.starts_with(b"<") {
        return Found::Text;
    }
    if lower.starts_with(b"<svg") || (lower.starts_with(b"<?xml") && find(&lower, b"<svg").is_some()) {
        return Found::Svg;
    }
    // a page or a fragment of one (saved pages often start with a tag, not a doctype)
    const TAGS: [&[u8]; 10] = [
        b"<!doctype html",
        b"<html",
        b"<head",
        b"<body",
        b"<meta",
        b"<link",
        b"<script",
        b"<title",
        b"<div",
        b"<table",
    ];
    if TAGS.iter().any(|t| find(&lower, t).is_some()) { Found::Html } else { Found::Text }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A complete (if tiny) PDF 1.4.
    pub(crate) fn pdf() -> Vec<u8> {
        b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n\
          2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n\
          trailer\n<< /Root 1 0 R /Size 3 >>\nstartxref\n9\n%%EOF\n"
            .to_vec()
    }

    /// A 1×1 PNG (transparent pixel).
    pub(crate) fn png() -> Vec<u8> {
        let mut b = PNG_SIGNATURE.to_vec();
        b.extend_from_slice(b"\0\0\0\x0DIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1F\x15\xC4\x89");
        b.extend_from_slice(b"\0\0\0\x0AIDAT\x78\x9C\x63\0\x01\0\0\x05\0\x01\x0D\x0A\x2D\xB4");
        b.extend_from_slice(b"\0\0\0\0IEND\xAE\x42\x60\x82");
        b
    }

    /// A baseline JPEG's segment layout: SOI, APP0 (JFIF), DQT, SOF0, DHT, SOS, scan, EOI.
    pub(crate) fn jpeg() -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8];
        b.extend_from_slice(b"\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00");
        b.extend_from_slice(&[0xFF, 0xDB, 0x00, 0x43, 0x00]);
        b.extend_from_slice(&[1u8; 64]);
        b.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x01, 0x00, 0x01, 0x01, 0x01, 0x11, 0x00]);
        // DHT: class and id, 16 code counts (one code of length 1), its symbol
        b.extend_from_slice(&[0xFF, 0xC4, 0x00, 0x14, 0x00, 0x01]);
        b.extend_from_slice(&[0u8; 15]);
        b.push(0x00);
        b.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00]);
        b.extend_from_slice(&[0xD2, 0xCF, 0x20]);
        b.extend_from_slice(&[0xFF, 0xD9]);
        b
    }

    fn found(bytes: &[u8]) -> Option<Found> {
        match sniff(bytes) {
            Err(EvidenceError::NotAccepted { found }) => Some(found),
            _ => None,
        }
    }

    fn flaw(bytes: &[u8]) -> Option<(MediaType, Flaw)> {
        match sniff(bytes) {
            Err(EvidenceError::Malformed { media_type, flaw }) => Some((media_type, flaw)),
            _ => None,
        }
    }

    #[test]
    fn evidence_accepted_kinds_are_recognised() {
        assert_eq!(sniff(&pdf()), Ok(MediaType::Pdf));
        assert_eq!(sniff(&png()), Ok(MediaType::Png));
        assert_eq!(sniff(&jpeg()), Ok(MediaType::Jpeg));
        // padding after the end marker some writers add
        let mut padded = jpeg();
        padded.extend_from_slice(&[0, 0, 0, b'\n']);
        assert_eq!(sniff(&padded), Ok(MediaType::Jpeg));
        let mut pdf2 = pdf();
        pdf2.extend_from_slice(&[b' '; 200]);
        assert_eq!(sniff(&pdf2), Ok(MediaType::Pdf));
        for m in MediaType::ALL {
            assert_eq!(MediaType::parse(m.as_str()), Some(m));
            assert_eq!(serde_json::to_value(m).unwrap(), serde_json::Value::String(m.as_str().into()));
        }
        assert_eq!(MediaType::parse("image/gif"), None);
    }

    #[test]
    fn evidence_truncated_or_damaged_files_are_malformed() {
        let cut = |b: Vec<u8>, n: usize| b[..b.len() - n].to_vec();
        assert_eq!(flaw(&cut(pdf(), 7)), Some((MediaType::Pdf, Flaw::Truncated)));
        assert_eq!(flaw(&cut(png(), 1)), Some((MediaType::Png, Flaw::Truncated)));
        assert_eq!(flaw(&cut(png(), 12)), Some((MediaType::Png, Flaw::Truncated)));
        assert_eq!(flaw(&cut(jpeg(), 2)), Some((MediaType::Jpeg, Flaw::Truncated)));
        assert_eq!(flaw(&cut(jpeg(), 40)), Some((MediaType::Jpeg, Flaw::Truncated)));
        assert_eq!(flaw(b"%PDF-x.y\n%%EOF"), Some((MediaType::Pdf, Flaw::BadHeader)));
        assert_eq!(flaw(b"%PDF-1.4\n%%EOF"), Some((MediaType::Pdf, Flaw::Damaged)));
        assert_eq!(flaw(b"From: a\r\n\r\n%PDF-1.4\n%%EOF"), Some((MediaType::Pdf, Flaw::BadHeader)));
        assert_eq!(flaw(&[0xFF, 0xD8, 0xFF, 0xD9]), Some((MediaType::Jpeg, Flaw::BadHeader)));
        // a chunk other than IHDR first
        let mut p = png();
        p[12..16].copy_from_slice(b"IDAT");
        assert_eq!(flaw(&p), Some((MediaType::Png, Flaw::BadHeader)));
        // something after IEND
        let mut p = png();
        p.extend_from_slice(b"trailing");
        assert_eq!(flaw(&p), Some((MediaType::Png, Flaw::Damaged)));
        // a segment length running past the end
        let mut j = jpeg();
        j[5] = 0xFF;
        assert_eq!(flaw(&j), Some((MediaType::Jpeg, Flaw::Truncated)));
    }

    #[test]
    fn evidence_refusals_say_what_the_file_appears_to_be() {
        assert_eq!(found(b""), Some(Found::Empty));
        assert_eq!(found("统一社会信用代码,名称\n".as_bytes()), Some(Found::Text));
        // GB18030 "名称,代码": text, though not UTF-8
        assert_eq!(found(b"\xC3\xFB\xB3\xC6,\xB4\xFA\xC2\xEB\r\n"), Some(Found::Text));
        assert_eq!(found(b"\xEF\xBB\xBF  <!DOCTYPE html><html></html>"), Some(Found::Html));
        assert_eq!(
            found(b"<link rel=\"stylesheet\" href=\"a.css\">\n<script src=\"a.js\"></script>"),
            Some(Found::Html)
        );
        assert_eq!(found(b"<2024> annual report"), Some(Found::Text));
        assert_eq!(found(b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>"), Some(Found::Svg));
        assert_eq!(found(b"PK\x03\x04\x14\0\0\0\0\0[Content_Types].xml word/document.xml"), Some(Found::Docx));
        assert_eq!(found(b"PK\x03\x04\x14\0\0\0\0\0xl/workbook.xml"), Some(Found::Xlsx));
        assert_eq!(found(b"PK\x03\x04\x14\0\0\0\0\0OFD.xml"), Some(Found::Ofd));
        assert_eq!(found(b"PK\x03\x04\x14\0\0\0\0\0photo.jpg"), Some(Found::Zip));
        assert_eq!(found(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0"), Some(Found::OfficeLegacy));
        assert_eq!(found(b"GIF89a\x01\0\x01\0"), Some(Found::Gif));
        assert_eq!(found(b"RIFF\0\0\0\0WEBPVP8 "), Some(Found::Webp));
        assert_eq!(found(b"\0\0\0\x18ftypheic\0\0\0\0"), Some(Found::Heic));
        assert_eq!(found(b"\0\0\0\x18ftypisom\0\0\0\0"), Some(Found::Video));
        assert_eq!(found(b"MZ\x90\0\x03\0\0\0"), Some(Found::Executable));
        assert_eq!(found(b"\x7FELF\x02\x01\x01"), Some(Found::Executable));
        assert_eq!(found(b"#!/bin/sh\nrm -rf /\n"), Some(Found::Executable));
        assert_eq!(found(b"BM\0\0\0\0\0\0\0\0\0\0\0\0\x28\0\0\0"), Some(Found::Bmp));
        assert_eq!(found(b"BMW service report\n"), Some(Found::Text));
        assert_eq!(found(b"\x01\x02\x03\x04\0\0\xFE"), Some(Found::Unknown));
        // the message names the kind found and what is accepted, in both languages
        let e = sniff(b"PK\x03\x04\x14\0\0\0\0\0word/document.xml").unwrap_err();
        assert_eq!(e.code(), "evidence_type");
        let text = e.to_string();
        assert!(text.contains("Word 文档") && text.contains("a Word document"), "{text}");
        assert!(text.contains("PDF、JPEG、PNG") && text.contains("PDF, JPEG or PNG"), "{text}");
        assert!(text.contains("导出或打印为 PDF") && text.contains(" / "), "{text}");
        assert_eq!(text, format!("{} / {}", e.zh(), e.en()));
        let empty = sniff(b"").unwrap_err().to_string();
        assert!(empty.contains("文件为空") && empty.contains("the file is empty"), "{empty}");
        let malformed = sniff(&pdf()[..40]).unwrap_err();
        assert_eq!(malformed.code(), "evidence_malformed");
        assert!(malformed.to_string().contains("looks like a PDF"), "{malformed}");
    }

    #[test]
    fn evidence_size_limit_is_checked_first() {
        assert_eq!(MAX_EVIDENCE_BYTES, 10 * 1024 * 1024);
        assert_eq!(check_size(MAX_EVIDENCE_BYTES), Ok(()));
        let e = check_size(MAX_EVIDENCE_BYTES + 1).unwrap_err();
        assert_eq!(
            e,
            EvidenceError::TooLarge { size: MAX_EVIDENCE_BYTES as u64 + 1, limit: MAX_EVIDENCE_BYTES as u64 }
        );
        assert_eq!(e.code(), "evidence_too_large");
        // one byte over the limit never reads as the limit itself
        assert!(e.to_string().contains("10.1 MiB") && e.to_string().contains("(10.0 MiB)"), "{e}");
        // an oversized file is refused for its size, whatever it is
        let mut big = pdf();
        big.resize(MAX_EVIDENCE_BYTES + 1, b' ');
        assert!(matches!(validate(&big), Err(EvidenceError::TooLarge { .. })));
        assert_eq!(validate(&png()), Ok(MediaType::Png));
    }

    #[test]
    fn evidence_ref_serialises_with_the_media_type_string() {
        let r =
            EvidenceRef {
                sha256: "ab".repeat(32), media_type: MediaType::Png, size: 67, name: "现场照片.png".into()
            };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["media_type"], "image/png");
        assert_eq!(serde_json::from_value::<EvidenceRef>(v).unwrap(), r);
        assert!(is_sha256_hex(&"0123456789abcdef".repeat(4)));
        assert!(!is_sha256_hex(&"0123456789ABCDEF".repeat(4)));
        assert!(!is_sha256_hex(&"0".repeat(63)));
        assert!(!is_sha256_hex(&"g".repeat(64)));
    }

    fn sample(kind: usize) -> (Vec<u8>, MediaType) {
        match kind {
            0 => (pdf(), MediaType::Pdf),
            1 => (jpeg(), MediaType::Jpeg),
            _ => (png(), MediaType::Png),
        }
    }

    proptest! {
        #[test]
        fn evidence_sniff_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = sniff(&bytes);
        }

        /// Random bytes behind each accepted magic: recognised as that kind or refused,
        /// never mistaken for another kind, never a panic.
        #[test]
        fn evidence_sniff_never_panics_behind_a_magic(
            kind in 0..3usize,
            tail in proptest::collection::vec(any::<u8>(), 0..512),
        ) {
            let (mut bytes, media_type) = sample(kind);
            bytes.truncate(if kind == 2 { 8 } else { 3 });
            bytes.extend_from_slice(&tail);
            let got = sniff(&bytes);
            prop_assert!(matches!(got, Ok(m) if m == media_type) || got.is_err(), "{got:?}");
        }

        /// The first bytes of a valid file overwritten: still that kind, or refused.
        #[test]
        fn evidence_prefix_mutated_files_are_that_kind_or_refused(
            kind in 0..3usize,
            prefix in proptest::collection::vec(any::<u8>(), 1..48),
        ) {
            let (mut bytes, media_type) = sample(kind);
            let n = prefix.len().min(bytes.len());
            bytes[..n].copy_from_slice(&prefix[..n]);
            let got = sniff(&bytes);
            prop_assert!(matches!(got, Ok(m) if m == media_type) || got.is_err(), "{got:?}");
        }

        /// Any byte of a valid file changed, or the file cut short: that kind, or refused.
        #[test]
        fn evidence_mutated_or_cut_files_are_that_kind_or_refused(
            kind in 0..3usize,
            at in any::<prop::sample::Index>(),
            byte in any::<u8>(),
            keep in any::<prop::sample::Index>(),
        ) {
            let (mut bytes, media_type) = sample(kind);
            let i = at.index(bytes.len());
            bytes[i] = byte;
            let got = sniff(&bytes);
            prop_assert!(matches!(got, Ok(m) if m == media_type) || got.is_err(), "{got:?}");
            // cut short: refused, unless all a PDF lost was the line break after %%EOF
            let (whole, _) = sample(kind);
            let cut = &whole[..keep.index(whole.len())];
            let got = sniff(cut);
            let complete = media_type == MediaType::Pdf && cut.ends_with(b"%%EOF");
            prop_assert!(got.is_err() != complete, "a {media_type} cut to {} bytes: {got:?}", cut.len());
        }
    }
}
